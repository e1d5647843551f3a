#include "compat.h"
#include "runner.h"
#include "usage.h"
#include "wrapper.h"

/*
 * The tmux runner (git-ws(7), RUNNERS): each command runs in a window of
 * the tmux session ws-<plan>, named after the workstream, so that people
 * can attach and watch, or type into, its terminal.
 *
 * The proxy is /bin/sh running PROXY below, in the command's directory,
 * with its environment and its log as stdout and stderr. It
 *
 *  1. saves the environment (`export -p`) to <run dir>/env (mode 0600),
 *  2. opens the window (new-window, or new-session for the first one),
 *     running WINDOW with the command's words, and records the pane's
 *     pid in <run dir>/pane,
 *  3. copies the pane's output to the log (pipe-pane), then lets the
 *     window go on (wait-for -S on a channel of its own),
 *  4. waits until the window says it ended (a second channel) or its
 *     pane process is gone (a window killed from outside), polling the
 *     pane's pid every 100 ms,
 *  5. ends as the command ended: its exit code from <run dir>/status,
 *     killed by SIGHUP when there is none (the window was killed).
 *
 * WINDOW, in the pane: waits for the go, reads the environment back
 * (removing the file, which may hold secrets) while keeping the pane's
 * own TMUX and TMUX_PANE, runs `/bin/sh -c <command> [<words>...]` as
 * the local runner does, writes the exit code to <run dir>/status
 * (a temporary file renamed) and signals the end.
 *
 * A SIGTERM, SIGINT or SIGHUP to the proxy (the dispatcher's stop or
 * timeout) is passed to the pane's process group (the pane leads a
 * session of its own); the proxy then waits for the pane to end and
 * dies by SIGTERM. What a SIGKILL of the proxy leaves, the stop hook
 * reaches: it signals the pane's group from <run dir>/pane, which the
 * proxy removes once the pane has ended.
 */

/* $0 ws-tmux, then: window-script socket session window run-dir pipe-cmd command words... */
static const char proxy_script[] =
	"window=$1 sock=$2 session=$3 name=$4 dir=$5 pipe=$6\n"
	"shift 6\n"
	"t() { if test -n \"$sock\"; then tmux -S \"$sock\" \"$@\"; else tmux \"$@\"; fi; }\n"
	"command -v tmux >/dev/null 2>&1 || {\n"
	"\techo \"fatal: runner 'tmux' needs tmux, which is not on PATH\" >&2; exit 127; }\n"
	"umask 077\n"
	"rm -f \"$dir/status\" \"$dir/pane\" \"$dir/env\"\n"
	"export -p >\"$dir/env\" || exit 127\n"
	"go=\"ws-go-$$-$session-$name\"\n"
	"pane= ppid=\n"
	"stop() {\n"
	"\ttrap '' TERM INT HUP\n"
	"\tif test -n \"$ppid\"; then\n"
	"\t\tkill -TERM -\"$ppid\" 2>/dev/null\n"
	"\t\twhile kill -0 \"$ppid\" 2>/dev/null; do sleep 0.1; done\n"
	"\tfi\n"
	"\trm -f \"$dir/pane\"\n"
	"\ttrap - TERM\n"
	"\tkill -TERM $$\n"
	"\texit 143\n"
	"}\n"
	"trap stop TERM INT HUP\n"
	"set -- /bin/sh -c \"$window\" ws-window \"$dir\" \"$go\" \"$@\"\n"
	"for try in 1 2 3; do\n"
	"\tinfo=$(t new-window -d -P -F '#{pane_id} #{pane_pid}' -t \"=$session:\" -n \"$name\" -c \"$PWD\" \"$@\" 2>/dev/null) && break\n"
	"\tinfo=$(t new-session -d -P -F '#{pane_id} #{pane_pid}' -s \"$session\" -n \"$name\" -c \"$PWD\" -x 200 -y 50 \"$@\" 2>\"$dir/err\") && break\n"
	"done\n"
	"if test -z \"$info\"; then\n"
	"\tcat \"$dir/err\" >&2\n"
	"\techo \"fatal: cannot open the tmux window $session:$name\" >&2\n"
	"\texit 127\n"
	"fi\n"
	"pane=${info% *} ppid=${info#* }\n"
	"echo \"$ppid\" >\"$dir/pane.new\" && mv -f \"$dir/pane.new\" \"$dir/pane\"\n"
	"test -z \"$pipe\" || t pipe-pane -t \"$pane\" \"$pipe\"\n"
	"t wait-for -S \"$go\"\n"
	"t wait-for \"$go-end\" 2>/dev/null & waiter=$!\n"
	"while kill -0 \"$waiter\" 2>/dev/null && kill -0 \"$ppid\" 2>/dev/null; do\n"
	"\tsleep 0.1\n"
	"done\n"
	"kill \"$waiter\" 2>/dev/null\n"
	"rm -f \"$dir/pane\"\n"
	"if ! test -f \"$dir/status\"; then\n"
	"\techo \"fatal: the tmux window $session:$name ended without an exit status (killed?)\" >&2\n"
	"\ttrap - HUP\n"
	"\tkill -HUP $$\n"
	"\texit 129\n"
	"fi\n"
	"code=$(cat \"$dir/status\")\n"
	"if test \"$code\" -gt 128 && test \"$code\" -lt 160; then\n"
	"\tsig=$((code - 128))\n"
	"\ttrap - TERM INT HUP\n"
	"\tkill -$sig $$\n"
	"fi\n"
	"exit \"$code\"\n";

/* $0 ws-window, then: run-dir go-channel command words... */
static const char window_script[] =
	"dir=$1 go=$2\n"
	"shift 2\n"
	"tmux wait-for \"$go\"\n"
	"pane_tmux=$TMUX pane_id=$TMUX_PANE\n"
	". \"$dir/env\"\n"
	"rm -f \"$dir/env\"\n"
	"TMUX=$pane_tmux TMUX_PANE=$pane_id\n"
	"export TMUX TMUX_PANE\n"
	"/bin/sh -c \"$@\"\n"
	"code=$?\n"
	"echo \"$code\" >\"$dir/status.new\" && mv -f \"$dir/status.new\" \"$dir/status\"\n"
	"tmux wait-for -S \"$go-end\"\n"
	"exit \"$code\"\n";

/* A tmux name: '.' and ':' (which targets take apart) become '_'. */
static char *tmux_name(const char *s)
{
	char *name = xstrdup(s), *p;

	for (p = name; *p; p++)
		if (*p == '.' || *p == ':')
			*p = '_';
	return name;
}

static int prepare_tmux(const struct ws_runner_cmd *cmd, struct child_process *cp,
			struct ws_runner_where *where, struct strbuf *err)
{
	const char *id = cmd->plan->ws[cmd->idx].id;
	char *sock = ws_runner_tmux_socket(cmd->repo);
	char *session = tmux_name(cmd->plan->name ? cmd->plan->name : "plan");
	char *window = !strcmp(cmd->what, "command") ? tmux_name(id) : NULL;
	struct strbuf pipe = STRBUF_INIT, sb = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	size_t i;

	if (!cp->use_shell || !cp->args.nr)
		BUG("the tmux runner runs shell commands only");
	if (!window) {
		strbuf_addf(&sb, "%s-%s", id, cmd->what);
		window = tmux_name(sb.buf);
		strbuf_reset(&sb);
	}
	strbuf_addf(&sb, "ws-%s", session);
	free(session);
	session = strbuf_detach(&sb, NULL);
	if (cmd->log_path) {
		strbuf_addstr(&pipe, "exec cat >>");
		ws_runner_sq_quote(&pipe, cmd->log_path);
	}
	strvec_push(&args, proxy_script);
	strvec_push(&args, "ws-tmux");
	strvec_push(&args, window_script);
	strvec_push(&args, sock ? sock : "");
	strvec_push(&args, session);
	strvec_push(&args, window);
	strvec_push(&args, where->run_dir);
	strvec_push(&args, pipe.buf);
	for (i = 0; i < cp->args.nr; i++)
		strvec_push(&args, cp->args.v[i]);
	strvec_clear(&cp->args);
	cp->args = args;
	where->tmux_target = xstrfmt("%s:%s", session, window);
	free(sock);
	free(session);
	free(window);
	strbuf_release(&pipe);
	(void)err;
	return 0;
}

/*
 * The pane's process group, from <run dir>/pane (the proxy writes it
 * once the window is open and removes it once the pane has ended).
 */
static void stop_tmux(const struct ws_runner_where *where, int sig)
{
	char *path, *buf = NULL;
	long pid;

	if (!where->run_dir)
		return;
	path = xstrfmt("%s/pane", where->run_dir);
	if (read_file(path, &buf, NULL) >= 0 && (pid = atol(buf)) > 1)
		kill(-(pid_t)pid, sig);
	free(buf);
	free(path);
}

const struct ws_runner ws_runner_tmux = { "tmux", prepare_tmux, stop_tmux, NULL };

char *ws_runner_tmux_socket(const struct ws_repo *r)
{
	const char *env = getenv("GIT_WS_TMUX_SOCKET");
	char *config;

	if (env && *env)
		return xstrdup(env);
	config = ws_config_get(r, "ws.tmuxsocket");
	if (config && !*config)
		FREE_AND_NULL(config);
	return config;
}
