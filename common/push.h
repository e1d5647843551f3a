#ifndef PUSH_H
#define PUSH_H

#include "compat.h"
#include "repo.h"

/*
 * git ws-merge --push: `git push <remote> <base>`, as the user would run
 * it, after the queue is merged. `remote` is the one given, or, when
 * NULL or "", branch.<base>.remote, else "origin". git's output goes to
 * stderr; on stdout, "push\t<remote>\t<base>\tok|rejected" with
 * `porcelain`, else "Pushed '<base>' to '<remote>'." when it worked.
 * Returns 0, or -1 after an error (with a hint) when git push failed:
 * the base stays merged here.
 */
int ws_push_base(const struct ws_repo *r, const char *remote,
		 const char *base, int porcelain);

#endif
