#include "compat.h"
#include "push.h"
#include "run.h"
#include "usage.h"
#include "wrapper.h"

int ws_push_base(const struct ws_repo *r, const char *remote,
		 const char *base, int porcelain)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	char *to = NULL;
	int code;

	if (remote && *remote) {
		to = xstrdup(remote);
	} else {
		char *key = xstrfmt("branch.%s.remote", base);

		to = ws_config_get(r, key);
		if (!to)
			to = xstrdup("origin");
		free(key);
	}
	cp.git_cmd = 1;
	cp.no_stdin = 1;
	cp.stdout_to_stderr = 1;
	strvec_pushf(&cp.args, "--git-dir=%s", git_repository_path(r->repo));
	strvec_pushv(&cp.args, (const char *[]){ "push", to, base, NULL });
	code = run_command(&cp);
	if (porcelain)
		printf("push\t%s\t%s\t%s\n", to, base, code ? "rejected" : "ok");
	else if (!code)
		printf("Pushed '%s' to '%s'.\n", base, to);
	if (code) {
		error("'git push %s %s' failed; '%s' stays merged here", to,
		      base, base);
		advise("see git push's message above; run it yourself once the remote accepts it");
	}
	free(to);
	return code ? -1 : 0;
}
