#include "compat.h"
#include "runner.h"
#include "shell-words.h"
#include "usage.h"
#include "wrapper.h"
#include <ctype.h>
#include <pwd.h>

/*
 * runner = srun: each command is a job of its own on a Slurm cluster
 * (git-ws(7), RUNNERS). The proxy is
 *
 *	srun --chdir=<worktree> --job-name=<plan>/<id> --export=ALL
 *	     [--time=<minutes>] <srun-args> /bin/sh -c <wrapper> ...
 *
 * srun exits with the task's status and, on SIGINT/SIGTERM, ends the job
 * step, so the callers supervise it like a local command. The wrapper
 * runs on the node: it writes $SLURM_JOB_ID into the run directory (on
 * the shared filesystem, under .git/ws/), enters the worktree (srun runs
 * a job whose --chdir does not exist in /tmp, and says nothing), then
 * runs the command as /bin/sh -c would here. With --export=ALL the job
 * gets srun's environment, which is the proxy's: every WS_* unchanged.
 */

/*
 * $1 the job-id file, $2 the worktree; the rest is /bin/sh -c's
 * arguments: the command, then its $0 and "$@" when it has them.
 */
static const char job_wrapper[] =
	"printf '%s\\n' \"$SLURM_JOB_ID\" >\"$1\" 2>/dev/null\n"
	"cd -- \"$2\" || {\n"
	"\techo \"error: the Slurm node $(hostname) does not see the worktree '$2'\" >&2\n"
	"\texit 125\n"
	"}\n"
	"shift 2\n"
	"exec /bin/sh -c \"$@\"\n";

/* Set once a node has shown that it sees a worktree (probe_node()). */
static int node_sees_worktrees;

/* --job-name: <plan>/<id>, or <plan>/<id>/<what> for a gate and such. */
static char *job_name(const struct ws_runner_cmd *cmd)
{
	const char *id = cmd->plan->ws[cmd->idx].id;

	if (!cmd->what || !strcmp(cmd->what, "command"))
		return xstrfmt("%s/%s", cmd->plan->name, id);
	return xstrfmt("%s/%s/%s", cmd->plan->name, id, cmd->what);
}

/* srun and its options, up to the program (shared by probe and job). */
static int push_srun(struct strvec *args, const struct ws_runner_cmd *cmd,
		     const char *dir, const char *name, long timeout_s,
		     struct strbuf *err)
{
	strvec_push(args, "srun");
	strvec_pushf(args, "--chdir=%s", dir);
	strvec_pushf(args, "--job-name=%s", name);
	strvec_push(args, "--export=ALL");
	if (timeout_s > 0)
		strvec_pushf(args, "--time=%ld", (timeout_s + 59) / 60);
	if (cmd->plan->srun_args) {
		struct strbuf why = STRBUF_INIT;

		if (split_shell_words(cmd->plan->srun_args, args, &why) < 0) {
			strbuf_addf(err, "bad srun-args '%s': %s",
				    cmd->plan->srun_args, why.buf);
			strbuf_release(&why);
			return -1;
		}
	}
	return 0;
}

/* Write `s` and a newline to `path` (a runner's own small file). */
static int write_small_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	struct strbuf sb = STRBUF_INIT;
	int ret;

	if (fd < 0)
		return -1;
	strbuf_addf(&sb, "%s\n", s);
	ret = write_in_full(fd, sb.buf, sb.len);
	strbuf_release(&sb);
	if (close(fd) < 0)
		ret = -1;
	return ret;
}

/*
 * Before the first job: run one on a node that enters `dir` and prints
 * where it is, and compare with `dir` here. Returns 0, or -1 with a
 * clear reason in `err`.
 */
static int probe_node(const struct ws_runner_cmd *cmd, const char *dir,
		      struct strbuf *err)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT, serr = STRBUF_INIT;
	char *name = xstrfmt("%s/probe", cmd->plan->name);
	char *here = realpath(dir, NULL);
	int rc, ret = -1;

	if (push_srun(&cp.args, cmd, dir, name, 60, err) < 0) {
		child_process_clear(&cp);
		goto out;
	}
	strvec_pushv(&cp.args, (const char *[]){ "/bin/sh", "-c",
		     "cd -- \"$1\" && test -e .git && pwd -P", "ws-probe", dir,
		     NULL });
	cp.no_stdin = 1;
	rc = capture_command(&cp, &out, &serr);
	child_process_clear(&cp);
	strbuf_trim(&out);
	strbuf_trim(&serr);
	if (rc == 0 && here && !strcmp(out.buf, here)) {
		ret = 0;
		goto out;
	}
	strbuf_addf(err, "a Slurm node does not see the worktree '%s' (", dir);
	if (rc < 0)
		strbuf_addstr(err, "cannot run srun");
	else if (serr.len)
		strbuf_add_sanitized(err, serr.buf);
	else if (rc)
		strbuf_addf(err, "srun exit status %d", rc);
	else
		strbuf_addf(err, "the job ran in '%s'", out.buf);
	strbuf_addstr(err, "); worktrees must be on a filesystem the nodes share (ws.worktreeDir)");
out:
	strbuf_release(&out);
	strbuf_release(&serr);
	free(name);
	free(here);
	return ret;
}

static int prepare_srun(const struct ws_runner_cmd *cmd, struct child_process *cp,
			struct ws_runner_where *where, struct strbuf *err)
{
	struct strvec args = STRVEC_INIT;
	char *name = job_name(cmd), *id_file = NULL, *name_file = NULL;
	const char *dir = cp->dir;
	size_t i;
	int ret = -1;

	if (!dir) {
		strbuf_addstr(err, "runner 'srun' needs the command's worktree");
		goto out;
	}
	if (!cp->use_shell || !cp->args.nr)
		BUG("runner 'srun' expects a shell command");
	if (!node_sees_worktrees) {
		if (probe_node(cmd, dir, err) < 0)
			goto out;
		node_sees_worktrees = 1;
	}
	id_file = xstrfmt("%s/job-id", where->run_dir);
	name_file = xstrfmt("%s/job-name", where->run_dir);
	unlink(id_file);
	if (write_small_file(name_file, name) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", name_file, strerror(errno));
		goto out;
	}
	if (push_srun(&args, cmd, dir, name, cmd->timeout, err) < 0)
		goto out;
	strvec_pushv(&args, (const char *[]){ "/bin/sh", "-c", job_wrapper,
		     "ws-srun", id_file, dir, NULL });
	for (i = 0; i < cp->args.nr; i++)
		strvec_push(&args, cp->args.v[i]);
	strvec_clear(&cp->args);
	cp->args = args;
	args = (struct strvec)STRVEC_INIT;
	cp->use_shell = 0;
	ret = 0;
out:
	strvec_clear(&args);
	free(name);
	free(id_file);
	free(name_file);
	return ret;
}

/*
 * The job id the wrapper wrote into the run directory, as a new string,
 * or NULL while it has not (a whole line only: it may be half written).
 */
static char *read_job_id(const char *run_dir)
{
	char *path = xstrfmt("%s/job-id", run_dir), *buf = NULL, *id = NULL;
	size_t len;

	if (!read_file(path, &buf, &len) && len > 1 && buf[len - 1] == '\n' &&
	    strspn(buf, "0123456789") == len - 1)
		id = xstrndup(buf, len - 1);
	free(buf);
	free(path);
	return id;
}

static int refresh_srun(struct ws_runner_where *where)
{
	if (where->job_id || !where->run_dir)
		return 0;
	where->job_id = read_job_id(where->run_dir);
	return where->job_id != NULL;
}

/* Run a Slurm client quietly and wait for it; its status, -1 if none. */
static int run_quietly(const char **argv)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	strvec_pushv(&cp.args, argv);
	cp.no_stdin = cp.no_stdout = cp.no_stderr = 1;
	return run_command(&cp);
}

/*
 * scancel the job: by its id once the wrapper wrote it, else (the job
 * still pending, or srun killed before it was allocated) by its name
 * and our user, so that nothing is left to start later.
 */
static void stop_srun(const struct ws_runner_where *where, int sig)
{
	char *id = where->job_id ? xstrdup(where->job_id) :
		   where->run_dir ? read_job_id(where->run_dir) : NULL;
	const char *signal = sig == SIGKILL ? "--signal=KILL" : NULL;

	if (id) {
		if (signal)
			run_quietly((const char *[]){ "scancel", signal, id, NULL });
		else
			run_quietly((const char *[]){ "scancel", id, NULL });
	} else if (where->run_dir) {
		char *path = xstrfmt("%s/job-name", where->run_dir);
		char *name = read_file_trimmed(path);
		struct passwd *pw = getpwuid(getuid());

		if (name && *name && pw) {
			char *name_opt = xstrfmt("--name=%s", name);
			char *user_opt = xstrfmt("--user=%s", pw->pw_name);

			run_quietly((const char *[]){ "scancel", name_opt,
				    user_opt, "--state=PENDING", NULL });
			free(name_opt);
			free(user_opt);
		}
		free(name);
		free(path);
	}
	free(id);
}

/*
 * The value of `key` in scontrol's one-line record ("JobState=CANCELLED
 * ..."), as a new string, or NULL.
 */
static char *scontrol_field(const char *record, const char *key)
{
	size_t klen = strlen(key);
	const char *p = record;

	while ((p = strstr(p, key))) {
		if ((p == record || p[-1] == ' ') && p[klen] == '=') {
			p += klen + 1;
			return xstrndup(p, strcspn(p, " \n"));
		}
		p += klen;
	}
	return NULL;
}

/*
 * A command that did not exit 0: when Slurm ended the job (JobState
 * CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED, OUT_OF_MEMORY, ...), say so
 * with Slurm's own words: "Slurm job 42 cancelled (ExitCode 0:15)".
 * COMPLETED and FAILED are the command's own doing: its exit status says
 * it best.
 */
static int end_srun(struct ws_runner_where *where, int status,
		    struct strbuf *why)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	char *state = NULL, *code = NULL;
	int tries, ret = 0;

	if (!where->job_id && where->run_dir)
		where->job_id = read_job_id(where->run_dir);
	if (!where->job_id || (status >= 0 && WIFEXITED(status) &&
			       !WEXITSTATUS(status)))
		return 0;
	/* a job that ends is COMPLETING for a moment */
	for (tries = 0; tries < 10; tries++) {
		strbuf_setlen(&out, 0);
		FREE_AND_NULL(state);
		child_process_clear(&cp);
		cp = (struct child_process)CHILD_PROCESS_INIT;
		strvec_pushv(&cp.args, (const char *[]){ "scontrol", "show",
			     "-o", "job", where->job_id, NULL });
		cp.no_stdin = cp.no_stderr = 1;
		if (capture_command(&cp, &out, NULL))
			break;
		state = scontrol_field(out.buf, "JobState");
		if (!state || (strcmp(state, "COMPLETING") &&
			       strcmp(state, "RUNNING")))
			break;
		sleep_ms(100);
	}
	if (state && strcmp(state, "COMPLETED") && strcmp(state, "FAILED") &&
	    strcmp(state, "COMPLETING") && strcmp(state, "RUNNING")) {
		char *p;

		for (p = state; *p; p++)
			*p = tolower((unsigned char)*p);
		code = scontrol_field(out.buf, "ExitCode");
		strbuf_addf(why, "Slurm job %s %s", where->job_id, state);
		if (code)
			strbuf_addf(why, " (ExitCode %s)", code);
		ret = 1;
	}
	child_process_clear(&cp);
	strbuf_release(&out);
	free(state);
	free(code);
	return ret;
}

const struct ws_runner ws_runner_srun = {
	"srun", prepare_srun, stop_srun, refresh_srun, end_srun
};
