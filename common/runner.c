#include "compat.h"
#include "runner.h"
#include "usage.h"
#include "wrapper.h"

/* local: the child_process as the caller filled it, /bin/sh -c <command> */
const struct ws_runner ws_runner_local = { "local", NULL, NULL, NULL };

/* Every runner by name; a new runner adds its row (runner.h). */
static const struct ws_runner *const runners[] = {
	&ws_runner_local,
	&ws_runner_tmux,
	&ws_runner_srun,
	&ws_runner_ssh,
};

const struct ws_runner *ws_runner_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(runners); i++)
		if (!strcmp(runners[i]->name, name))
			return runners[i];
	return NULL;
}

void ws_runner_names(struct strbuf *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(runners); i++)
		strbuf_addf(out, "%s%s", i ? ", " : "", runners[i]->name);
}

const struct ws_runner *ws_runner_for(const struct ws_repo *r,
				      const struct plan *plan, size_t idx,
				      int gate, struct strbuf *err)
{
	const struct plan_workstream *w = &plan->ws[idx];
	const struct ws_runner *runner;
	struct strbuf names = STRBUF_INIT;
	char *config;

	if (gate && w->gate_runner)
		return ws_runner_find(w->gate_runner);
	if (w->runner)
		return ws_runner_find(w->runner);
	config = ws_config_get(r, "ws.runner");
	if (!config || !*config) {
		free(config);
		return &ws_runner_local;
	}
	runner = ws_runner_find(config);
	if (!runner) {
		ws_runner_names(&names);
		strbuf_addf(err, "bad ws.runner '%s' in git config (expected one of %s)",
			    config, names.buf);
		strbuf_release(&names);
	}
	free(config);
	return runner;
}

/* <ws dir>/runner/<id>.<what>/, made afresh (its old files removed). */
static char *make_run_dir(const struct ws_runner_cmd *cmd, struct strbuf *err)
{
	char *top = ws_path(cmd->repo, "runner");
	char *dir = ws_path(cmd->repo, "runner/%s.%s",
			    cmd->plan->ws[cmd->idx].id, cmd->what);

	if ((mkdir(top, 0777) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
		strbuf_addf(err, "cannot create '%s': %s", dir, strerror(errno));
		FREE_AND_NULL(dir);
	}
	free(top);
	return dir;
}

int ws_runner_start(const struct ws_runner *runner,
		    const struct ws_runner_cmd *cmd, struct child_process *cp,
		    struct ws_runner_where *where, struct strbuf *err)
{
	memset(where, 0, sizeof(*where));
	where->runner = runner->name;
	if (runner->prepare) {
		if (!(where->run_dir = make_run_dir(cmd, err)) ||
		    runner->prepare(cmd, cp, where, err) < 0) {
			if (cp->out >= 0)
				close(cp->out);
			if (cp->err >= 0 && cp->err != cp->out)
				close(cp->err);
			cp->out = cp->err = -1;
			child_process_clear(cp);
			ws_runner_where_release(where);
			return -1;
		}
	}
	if (start_command(cp) < 0) {
		strbuf_addf(err, "cannot start '%s': %s",
			    cp->use_shell ? "/bin/sh" : cp->args.v[0],
			    strerror(errno));
		{
			struct strbuf ignored = STRBUF_INIT;

			ws_runner_end(runner, where, -1, &ignored);
			strbuf_release(&ignored);
		}
		child_process_clear(cp);
		ws_runner_where_release(where);
		return -1;
	}
	return 0;
}

int ws_runner_end(const struct ws_runner *runner, struct ws_runner_where *where,
		  int status, struct strbuf *why)
{
	return runner && runner->end ? runner->end(where, status, why) : 0;
}

void ws_runner_stop(const struct ws_runner *runner,
		    const struct ws_runner_where *where, int sig)
{
	if (runner && runner->stop)
		runner->stop(where, sig);
}

int ws_runner_finish_timeout(const struct ws_runner *runner,
			     const struct ws_runner_where *where,
			     struct child_process *cp, long timeout_ms,
			     long grace_ms, int *timed_out)
{
	int code = finish_command_timeout(cp, timeout_ms, grace_ms, timed_out);
	struct strbuf ignored = STRBUF_INIT;

	/* the runner's reason has no place here: the code says it all */
	ws_runner_end(runner, (struct ws_runner_where *)where,
		      code < 0 ? -1 : (code & 0xff) << 8, &ignored);
	strbuf_release(&ignored);

	if (*timed_out) {
		ws_runner_stop(runner, where, SIGTERM);
		ws_runner_stop(runner, where, SIGKILL);
	} else {
		ws_runner_stop(runner, where, SIGTERM);
	}
	return code;
}

void ws_runner_where_record(struct ws_state *st, const char *id,
			    const struct ws_runner_where *where)
{
	ws_state_set(st, id, WS_KEY_RUNNER, where ? where->runner : NULL);
	ws_state_set(st, id, WS_KEY_JOB_ID, where ? where->job_id : NULL);
	ws_state_set(st, id, WS_KEY_HOST, where ? where->host : NULL);
	ws_state_set(st, id, WS_KEY_TMUX_TARGET, where ? where->tmux_target : NULL);
}

void ws_runner_where_release(struct ws_runner_where *where)
{
	FREE_AND_NULL(where->job_id);
	FREE_AND_NULL(where->host);
	FREE_AND_NULL(where->tmux_target);
	FREE_AND_NULL(where->run_dir);
}

void ws_runner_sq_quote(struct strbuf *out, const char *s)
{
	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_-+=./,:@%") == strlen(s)) {
		strbuf_addstr(out, s);
		return;
	}
	strbuf_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			strbuf_addstr(out, "'\\''");
		else
			strbuf_addch(out, *s);
	}
	strbuf_addch(out, '\'');
}

void ws_runner_describe(const struct ws_repo *r, const char *runner,
			const char *job_id, const char *host,
			const char *tmux_target, struct strbuf *out)
{
	strbuf_addf(out, "running on %s", runner ? runner : "local");
	if (tmux_target) {
		char *sock = ws_runner_tmux_socket(r);

		strbuf_addstr(out, ": tmux ");
		if (sock) {
			strbuf_addstr(out, "-S ");
			ws_runner_sq_quote(out, sock);
			strbuf_addch(out, ' ');
		}
		strbuf_addf(out, "attach -t %s", tmux_target);
		free(sock);
	} else if (job_id) {
		strbuf_addf(out, ": job %s", job_id);
		if (host)
			strbuf_addf(out, " on %s", host);
	} else if (host) {
		strbuf_addf(out, ": host %s", host);
	}
}
