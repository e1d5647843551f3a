#ifndef REAP_H
#define REAP_H

#include "compat.h"
#include "repo.h"
#include "state.h"

/*
 * Notice dispatched commands that are gone: every `in_progress`
 * workstream whose recorded pid no longer exists (or that has no pid) is
 * finalised from its done file when there is a valid one (`done` for
 * "success", else `failed` with the done file's status and summary), and
 * otherwise marked `failed` with reason "process vanished" (or "malformed
 * done file: ..."); `finished` is set and `pid` removed, and the usage
 * a valid done file reports is added to its sums (cost.h). Queued
 * workstreams carry the pid of the dispatch that queued them, so they
 * count as gone when it is.
 *
 * For git ws-dispatch (at its start) and git ws-status: the state
 * records a start before the command runs (dispatch.h), so this is the
 * repair of a dispatcher killed at any point. The caller holds
 * the state lock (ws_state_lock()) and commits. Returns the number of
 * workstreams changed. A pid reused by an unrelated process since hides
 * the vanishing until that process ends.
 */
int ws_reap_vanished(const struct ws_repo *r, struct ws_state *st);

#endif
