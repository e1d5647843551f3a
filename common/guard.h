#ifndef GUARD_H
#define GUARD_H

#include "compat.h"
#include "repo.h"
#include "strvec.h"

/*
 * The guard of the base branch: a command that git-ws runs for a
 * workstream (the dispatched command, the gates of git ws-converge, the
 * tests of a merge; every environment ws_push_env() builds) cannot move
 * the base branch or another workstream's branch through git. Only git
 * ws-merge moves the base, by compare-and-swap through libgit2, which runs
 * no hooks.
 *
 * How: such commands get core.hooksPath pointing at the repository's
 * guard directory, <ws dir>/hooks, as one more
 * GIT_CONFIG_KEY_<n>/GIT_CONFIG_VALUE_<n> pair (git 2.31+), after those
 * the user already had. Its reference-transaction hook refuses those
 * updates in the "prepared" state; every hook there then runs the
 * repository's own hook of that name (from its core.hooksPath or
 * $GIT_COMMON_DIR/hooks), so a repository's pre-commit still runs and can
 * still refuse (hooks/git-ws-hook).
 *
 * The directory is what makes the guard cheap: it holds git-ws-hook
 * (linked from the shared directory below) only under the names of the
 * hooks that guard (reference-transaction, pre-push, push-to-checkout)
 * and of the hooks the repository has, so git runs no hook the
 * repository would not run but the reference-transaction; `own-hooks`
 * lists those names ("*": a relative core.hooksPath, whose hooks are in
 * each worktree, and then every name is linked), so the hook knows
 * without running git when there is nothing to chain to; `protected`
 * lists "refs/heads/<branch> <id>" for each workstream of the state, so
 * it finds the other workstreams' branches without reading the state
 * with `git config -f`.
 *
 * Why the environment and not the worktree's own config (`git config
 * --worktree core.hooksPath`): the environment changes nothing in the
 * repository, leaves anyone in a shell git-ws did not start alone, and
 * reaches every git the command runs, in whatever directory. The guard goes
 * with the command, not with the directory: git that the command runs in
 * the main worktree (`git -C <main worktree>`) is guarded too. Its limit: a
 * shell opened by hand in a workstream's worktree is not guarded, and
 * neither is a command that drops the environment or git's hooks on
 * purpose (`git -c core.hooksPath=...`, editing .git/refs): that needs a
 * sandbox.
 */

/*
 * The directory of git-ws's hooks: ../share/git-ws/hooks beside the
 * directory of the running executable (/proc/self/exe, symbolic links
 * resolved), which is build/share/git-ws/hooks in the build tree and
 * <prefix>/share/git-ws/hooks once installed (the Makefile puts them
 * there). Returns its absolute path, symbolic links resolved, as a new
 * string (caller frees), or NULL when it holds no executable
 * reference-transaction hook.
 */
char *ws_guard_hooks_dir(void);

/*
 * Bring <ws dir>/hooks up to date (each file compared and, when it
 * differs, replaced atomically: a write to a temporary name, then a
 * rename; the state is read again only when the plan file changed since
 * this process last read it; a process that brought it up to date less
 * than a second ago uses it as it is), then append to `env` (a child_process env) what
 * turns the guard on:
 * GIT_CONFIG_KEY_<n>=core.hooksPath, GIT_CONFIG_VALUE_<n>=<ws dir>/hooks and
 * GIT_CONFIG_COUNT=<n + 1>, where n is the GIT_CONFIG_COUNT of our own
 * environment (0 when unset), so the user's entries stay and come first.
 * The hooks read the rest from the environment ws_push_env() builds:
 * WS_ID, WS_BASE, WS_BRANCH, GIT_WS_DIR.
 *
 * Does nothing when git config ws.guard is false (a value that is not a
 * boolean warns, once, and keeps the guard); when the environment already
 * has the pair (a git-ws
 * command run by a guarded command: its children stay guarded); or, with
 * a warning printed once per process, when the hooks are not installed or
 * GIT_CONFIG_COUNT is not a number (git would die on it anyway). When
 * <ws dir>/hooks cannot be written it warns once and points at the
 * shared directory, which guards the same at more cost.
 */
void ws_guard_push_env(const struct ws_repo *r, struct strvec *env);

#endif
