#include "compat.h"
#include "runner.h"
#include "wrapper.h"

static int prepare_tmux(const struct ws_runner_cmd *cmd, struct child_process *cp,
			struct ws_runner_where *where, struct strbuf *err)
{
	(void)cmd;
	(void)cp;
	(void)where;
	strbuf_addstr(err, "runner 'tmux' is not built in yet");
	return -1;
}

const struct ws_runner ws_runner_tmux = { "tmux", prepare_tmux, NULL, NULL };

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
