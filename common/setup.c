#include "compat.h"
#include "setup.h"
#include "run.h"
#include "runner.h"
#include "usage.h"
#include "wrapper.h"
#include "ws.h"
#include <fcntl.h>
#include <sys/wait.h>

char *ws_setup_log(const struct ws_repo *r, const char *id)
{
	return ws_path(r, "logs/%s.setup.log", id);
}

static char *describe(int status)
{
	if (WIFSIGNALED(status))
		return xstrfmt("killed by signal %d (%s)", WTERMSIG(status),
			       strsignal(WTERMSIG(status)));
	return xstrfmt("exit status %d", WEXITSTATUS(status));
}

/*
 * Start `command` for plan->ws[idx] in `worktree`, its output in the new
 * log at `log` after a header line. Returns 0 (cp started), or -1 with
 * the reason in *result.
 */
static int start(const struct ws_repo *r, const struct plan *plan, size_t idx,
		 const char *what, const char *command, const char *branch,
		 const char *worktree, const char *log,
		 struct child_process *cp, char **result)
{
	struct ws_runner_cmd rc = WS_RUNNER_CMD_INIT;
	struct ws_runner_where where = WS_RUNNER_WHERE_INIT;
	struct strbuf err = STRBUF_INIT;
	const struct ws_runner *runner;
	char now[32];
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0) {
		*result = xstrfmt("cannot open '%s': %s", log, strerror(errno));
		return -1;
	}
	iso8601_now(now);
	dprintf(fd, "=== git-ws: %s of %s in %s at %s: %s\n", what,
		plan->ws[idx].id, worktree, now, command);
	*cp = (struct child_process)CHILD_PROCESS_INIT;
	strvec_push(&cp->args, command);
	cp->use_shell = 1;
	cp->dir = worktree;
	cp->no_stdin = 1;
	cp->out = fd;
	cp->err = dup(fd);
	ws_push_env(r, plan, idx, branch, worktree, &cp->env);
	if (cp->err < 0) {
		close(fd);
		child_process_clear(cp);
		*result = xstrfmt("cannot run the %s: %s", what, strerror(errno));
		return -1;
	}
	if (!(runner = ws_runner_for(r, plan, idx, 0, &err))) {
		close(cp->out);
		close(cp->err);
		cp->out = cp->err = -1;
		child_process_clear(cp);
		*result = strbuf_detach(&err, NULL);
		return -1;
	}
	if (!runner->prepare) {
		strbuf_release(&err);
		if (start_command(cp) < 0) {
			*result = xstrfmt("cannot run the %s", what);
			return -1;
		}
		return 0;
	}
	rc.repo = r;
	rc.plan = plan;
	rc.idx = idx;
	rc.what = what;
	rc.log_path = log;
	/*
	 * Nothing stops a setup or teardown but a signal to us, which the
	 * proxy (in our process group) gets too: `where` is not kept.
	 */
	if (ws_runner_start(runner, &rc, cp, &where, &err) < 0) {
		*result = xstrfmt("cannot run the %s: %s", what, err.buf);
		strbuf_release(&err);
		return -1;
	}
	ws_runner_where_release(&where);
	strbuf_release(&err);
	return 0;
}

/* Append the footer line with the result to the log. */
static void footer(const char *log, const char *result)
{
	int fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd >= 0) {
		dprintf(fd, "=== git-ws: %s\n", result);
		close(fd);
	}
}

size_t ws_setup_run(const struct ws_repo *r, const struct plan *plan,
		    struct ws_setup_job *jobs, size_t nr)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t max = ncpu > 1 ? (size_t)ncpu : 1, running = 0, next = 0;
	size_t nr_failed = 0, i;
	struct child_process *cps = xcalloc(nr + 1, sizeof(*cps));
	char **logs = xcalloc(nr + 1, sizeof(*logs));

	for (;;) {
		int status;
		pid_t pid;

		for (; running < max && next < nr; next++) {
			struct ws_setup_job *j = &jobs[next];
			const char *cmd = plan->ws[j->idx].setup;

			j->failed = 0;
			if (!cmd)
				continue;
			logs[next] = j->log ? xstrdup(j->log) :
					      ws_setup_log(r, plan->ws[j->idx].id);
			if (start(r, plan, j->idx, "setup", cmd, j->branch,
				  j->worktree, logs[next], &cps[next],
				  &j->result) < 0) {
				j->failed = 1;
				nr_failed++;
				cps[next].pid = 0;
				continue;
			}
			running++;
		}
		if (!running)
			break;
		pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			die_errno("waitpid");
		}
		for (i = 0; i < next; i++) {
			if (!cps[i].pid || cps[i].pid != pid)
				continue;
			cps[i].pid = 0;
			running--;
			child_process_clear(&cps[i]);
			jobs[i].result = describe(status);
			footer(logs[i], jobs[i].result);
			if (!WIFEXITED(status) || WEXITSTATUS(status)) {
				jobs[i].failed = 1;
				nr_failed++;
			}
		}
	}
	for (i = 0; i < nr; i++)
		free(logs[i]);
	free(logs);
	free(cps);
	return nr_failed;
}

int ws_setup_run_one(const struct ws_repo *r, const struct plan *plan,
		     struct ws_setup_job *job)
{
	struct child_process cp;
	const char *cmd = plan->ws[job->idx].setup;
	char *log;
	int status;

	job->failed = 0;
	if (!cmd)
		return 0;
	log = job->log ? xstrdup(job->log) : ws_setup_log(r, plan->ws[job->idx].id);
	if (start(r, plan, job->idx, "setup", cmd, job->branch, job->worktree,
		  log, &cp, &job->result) < 0) {
		job->failed = 1;
	} else {
		status = finish_command(&cp);
		job->result = status ? xstrfmt("exit status %d", status) :
				       xstrdup("exit status 0");
		footer(log, job->result);
		job->failed = !!status;
	}
	free(log);
	return job->failed ? -1 : 0;
}

int ws_teardown_run(const struct ws_repo *r, const struct plan *plan,
		    size_t idx, const char *branch, const char *worktree,
		    struct strbuf *err)
{
	struct child_process cp;
	const char *cmd = plan->ws[idx].teardown;
	char *log, *result = NULL;
	int status, ret = 0;

	if (!cmd)
		return 0;
	log = ws_path(r, "logs/%s.teardown.log", plan->ws[idx].id);
	if (start(r, plan, idx, "teardown", cmd, branch, worktree, log, &cp,
		  &result) < 0) {
		ret = -1;
	} else {
		status = finish_command(&cp);
		free(result);
		result = status ? xstrfmt("exit status %d", status) :
				  xstrdup("exit status 0");
		footer(log, result);
		ret = status ? -1 : 0;
	}
	if (ret)
		strbuf_addf(err, "%s, see %s", result, log);
	free(result);
	free(log);
	return ret;
}
