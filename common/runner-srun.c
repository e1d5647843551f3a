#include "compat.h"
#include "runner.h"

/*
 * A stand-in for the srun runner until it is built in: every command fails
 * to start, with a clear reason.
 */
static int prepare_srun(const struct ws_runner_cmd *cmd, struct child_process *cp,
		      struct ws_runner_where *where, struct strbuf *err)
{
	(void)cmd;
	(void)cp;
	(void)where;
	strbuf_addstr(err, "runner 'srun' is not built in yet");
	return -1;
}

const struct ws_runner ws_runner_srun = { "srun", prepare_srun, NULL, NULL };
