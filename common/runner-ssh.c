#include "compat.h"
#include "runner.h"
#include "usage.h"
#include "wrapper.h"

/*
 * runner = ssh: each command runs on one of the plan's ssh-hosts, in the
 * same worktree path (a filesystem the hosts share), through
 *
 *	<ssh> -E <run dir>/ssh.err -o BatchMode=yes <host> <remote>
 *
 * where <ssh> is $GIT_WS_SSH_COMMAND, else git config ws.sshCommand,
 * else "ssh", run by the shell as git runs core.sshCommand, and <remote>
 * is, for the host's login shell:
 *
 *	cd -- '<worktree>' && exec env WS_...='...' ... setsid -w /bin/sh -c
 *		'<wrapper>' ws-ssh '<run dir>/pgid' '<command>' ['<$0>' ...]
 *
 * The wrapper writes its pid, which setsid made a process group id, into
 * the run directory (shared too), runs the command, and removes the file
 * once the command ended by itself. The stop hook kills that group on
 * the host (ssh <host> kill -<sig> -- -<pgid>): a remote command outlives
 * its ssh. A stop that comes before the pgid is written (a timeout while
 * ssh still connects) leaves a file "stop" instead, which the wrapper
 * looks for after it wrote the pgid: the hook writes "stop" before it
 * reads "pgid", the wrapper writes "pgid" before it looks for "stop",
 * so that one of them sees the other. ssh -E keeps ssh's own messages apart from the command's
 * output, so that a host ssh cannot reach fails the attempt with ssh's
 * words.
 *
 * The load of each host (its commands running now) and its recent
 * connection failures are this process's: a command goes to the host
 * with the fewest running, then the fewest failures, then the first in
 * ssh-hosts; at most ssh-jobs at once on each.
 */

static const char remote_wrapper[] =
	"printf '%s\\n' \"$$\" >\"$1\" || exit 125\n"
	"pgid_file=$1\n"
	"shift\n"
	"test -e \"${pgid_file%/*}/stop\" && exit 143\n"
	"/bin/sh -c \"$@\"\n"
	"rc=$?\n"
	"rm -f \"$pgid_file\"\n"
	"exit $rc\n";

struct host_load {
	char *name;
	int running;
	int failures;
};
static struct host_load *hosts;
static size_t hosts_nr, hosts_alloc;

/*
 * The slots taken: a command prepared (its `where`, the caller's, lives
 * until the command ended) and its host. end_ssh() gives a slot back
 * once, however often it is called; a `where` prepared again gives back
 * the slot it still held.
 */
struct slot {
	const struct ws_runner_where *where;
	size_t host;         /* index in hosts[] */
};
static struct slot *slots;
static size_t slots_nr, slots_alloc;

/* Give back the slot of `where`: 1, or 0 when it holds none. */
static int release_slot(const struct ws_runner_where *where)
{
	size_t i;

	for (i = 0; i < slots_nr; i++)
		if (slots[i].where == where) {
			if (hosts[slots[i].host].running > 0)
				hosts[slots[i].host].running--;
			slots[i] = slots[--slots_nr];
			return 1;
		}
	return 0;
}

static struct host_load *host_load(const char *name)
{
	size_t i;

	for (i = 0; i < hosts_nr; i++)
		if (!strcmp(hosts[i].name, name))
			return &hosts[i];
	ALLOC_GROW(hosts, hosts_nr + 1, hosts_alloc);
	hosts[hosts_nr].name = xstrdup(name);
	hosts[hosts_nr].running = 0;
	hosts[hosts_nr].failures = 0;
	return &hosts[hosts_nr++];
}

/* $GIT_WS_SSH_COMMAND, else ws.sshCommand, else "ssh"; a new string. */
static char *ssh_command(const struct ws_repo *repo)
{
	const char *env = getenv("GIT_WS_SSH_COMMAND");
	char *config;

	if (env && *env)
		return xstrdup(env);
	config = repo ? ws_config_get(repo, "ws.sshCommand") : NULL;
	if (config && *config)
		return config;
	free(config);
	return xstrdup("ssh");
}

/*
 * The WS_* variables the command gets: ours, then cp->env's changes
 * ("NAME=value" sets, "NAME" unsets), as `env` arguments quoted for the
 * remote shell.
 */
static void add_ws_env(struct strbuf *out, const struct strvec *env)
{
	extern char **environ;
	struct strvec vars = STRVEC_INIT;
	char **e;
	size_t i, j;

	for (e = environ; *e; e++)
		if (!strncmp(*e, "WS_", 3))
			strvec_push(&vars, *e);
	for (i = 0; i < env->nr; i++) {
		const char *v = env->v[i];
		size_t nlen = strcspn(v, "=");

		for (j = 0; j < vars.nr; j++)
			if (!strncmp(vars.v[j], v, nlen) && vars.v[j][nlen] == '=') {
				strvec_remove(&vars, j);
				break;
			}
		if (!strncmp(v, "WS_", 3) && v[nlen] == '=')
			strvec_push(&vars, v);
		else if (!strncmp(v, "WS_", 3))
			strbuf_addf(out, " -u %s", v);
	}
	for (i = 0; i < vars.nr; i++) {
		size_t nlen = strcspn(vars.v[i], "=");

		strbuf_addch(out, ' ');
		strbuf_add(out, vars.v[i], nlen + 1);
		ws_runner_sq_quote(out, vars.v[i] + nlen + 1);
	}
	strvec_clear(&vars);
}

static int prepare_ssh(const struct ws_runner_cmd *cmd, struct child_process *cp,
		       struct ws_runner_where *where, struct strbuf *err)
{
	const struct plan *plan = cmd->plan;
	struct strbuf remote = STRBUF_INIT, shell = STRBUF_INIT;
	struct host_load *best = NULL;
	char *ssh = NULL, *pgid_file = NULL, *err_file = NULL, *stop_file = NULL;
	size_t i;
	int ret = -1;

	release_slot(where);
	if (!plan->ssh_hosts.nr) {
		strbuf_addstr(err, "runner 'ssh' needs 'ssh-hosts' in the plan");
		goto out;
	}
	if (!cp->dir) {
		strbuf_addstr(err, "runner 'ssh' needs the command's worktree");
		goto out;
	}
	if (!cp->use_shell || !cp->args.nr)
		BUG("runner 'ssh' expects a shell command");
	/* every host known first: hosts[] does not move after this */
	for (i = 0; i < plan->ssh_hosts.nr; i++)
		host_load(plan->ssh_hosts.v[i]);
	for (i = 0; i < plan->ssh_hosts.nr; i++) {
		struct host_load *h = host_load(plan->ssh_hosts.v[i]);

		if (plan->ssh_jobs > 0 && h->running >= plan->ssh_jobs)
			continue;
		if (!best || h->running < best->running ||
		    (h->running == best->running && h->failures < best->failures))
			best = h;
	}
	if (!best) {
		strbuf_addf(err, "every host in ssh-hosts runs its ssh-jobs (%d) commands",
			    plan->ssh_jobs);
		goto out;
	}

	pgid_file = xstrfmt("%s/pgid", where->run_dir);
	err_file = xstrfmt("%s/ssh.err", where->run_dir);
	stop_file = xstrfmt("%s/stop", where->run_dir);
	unlink(pgid_file);
	unlink(err_file);
	unlink(stop_file);

	strbuf_addstr(&remote, "cd -- ");
	ws_runner_sq_quote(&remote, cp->dir);
	strbuf_addstr(&remote, " && exec env");
	add_ws_env(&remote, &cp->env);
	strbuf_addstr(&remote, " setsid -w /bin/sh -c ");
	ws_runner_sq_quote(&remote, remote_wrapper);
	strbuf_addstr(&remote, " ws-ssh ");
	ws_runner_sq_quote(&remote, pgid_file);
	for (i = 0; i < cp->args.nr; i++) {
		strbuf_addch(&remote, ' ');
		ws_runner_sq_quote(&remote, cp->args.v[i]);
	}

	ssh = ssh_command(cmd->repo);
	strbuf_addf(&shell, "%s \"$@\"", ssh);
	strvec_clear(&cp->args);
	strvec_pushv(&cp->args, (const char *[]){ shell.buf, "ws-ssh", "-E",
		     err_file, "-o", "BatchMode=yes", best->name, remote.buf,
		     NULL });
	cp->use_shell = 1;
	where->host = xstrdup(best->name);
	best->running++;
	ALLOC_GROW(slots, slots_nr + 1, slots_alloc);
	slots[slots_nr].where = where;
	slots[slots_nr].host = (size_t)(best - hosts);
	slots_nr++;
	ret = 0;
out:
	strbuf_release(&remote);
	strbuf_release(&shell);
	free(ssh);
	free(pgid_file);
	free(err_file);
	free(stop_file);
	return ret;
}

/*
 * Run `argv` (an ssh) in the background, out of our process group and
 * not our child for long: a double fork, so that stopping never waits
 * for a slow host and leaves no zombie.
 */
static void run_detached(const char *ssh, const char *host, const char *remote)
{
	pid_t pid = fork();

	if (pid < 0)
		return;
	if (!pid) {
		int fd;

		if (fork())
			_exit(0);
		setsid();
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		{
			char *script = xstrfmt("%s \"$@\"", ssh);

			execl("/bin/sh", "sh", "-c", script, "ws-ssh", "-o",
			      "BatchMode=yes", host, remote, (char *)NULL);
		}
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * Kill the command's process group on its host, with `sig`, once the
 * wrapper wrote its pgid (and while it has not removed it: the command
 * still runs); before that, leave "stop" for the wrapper.
 */
static void stop_ssh(const struct ws_runner_where *where, int sig)
{
	char *path, *pgid, *remote, *ssh;
	int fd;

	if (!where->host || !where->run_dir)
		return;
	path = xstrfmt("%s/stop", where->run_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	if (fd >= 0)
		close(fd);
	free(path);
	path = xstrfmt("%s/pgid", where->run_dir);
	pgid = read_file_trimmed(path);
	free(path);
	if (!pgid || !*pgid || strspn(pgid, "0123456789") != strlen(pgid)) {
		free(pgid);
		return;
	}
	remote = xstrfmt("kill -%d -- -%s", sig, pgid);
	ssh = ssh_command(NULL);
	run_detached(ssh, where->host, remote);
	free(ssh);
	free(remote);
	free(pgid);
}

/*
 * The command ended: its host has a slot free again (once: a second
 * call does nothing). When ssh itself
 * failed (exit 255 with a message in ssh.err: the host is unreachable,
 * the key refused), the reason is ssh's message, and the host counts a
 * failure, so that the next attempt goes elsewhere when it can.
 */
static int end_ssh(struct ws_runner_where *where, int status,
		   struct strbuf *why)
{
	struct host_load *h;
	char *path, *msg = NULL;
	size_t len;
	int ret = 0;

	if (!where->host || !release_slot(where))
		return 0;
	h = host_load(where->host);
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 255) {
		if (status >= 0 && WIFEXITED(status))
			h->failures = 0;
		return 0;
	}
	path = xstrfmt("%s/ssh.err", where->run_dir);
	if (!read_file(path, &msg, &len) && len) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, msg);
		strbuf_trim(&sb);
		h->failures++;
		strbuf_addf(why, "ssh to '%s' failed: ", where->host);
		strbuf_add_sanitized(why, sb.buf);
		strbuf_release(&sb);
		ret = 1;
	}
	free(msg);
	free(path);
	return ret;
}

const struct ws_runner ws_runner_ssh = {
	"ssh", prepare_ssh, stop_ssh, NULL, end_ssh
};
