#ifndef PORTS_H
#define PORTS_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "state.h"

/*
 * Blocks of TCP ports, so that workstreams that each start a server (a
 * dev server, a test database) do not take each other's ports: with
 * the plan key `ports = N`, each active workstream owns N consecutive
 * ports, recorded as the first of them (`port`, WS_KEY_PORT) and handed
 * to its commands as WS_PORT and WS_PORTS (ws_push_env()). Blocks start
 * at ws.portBase (default WS_PORT_BASE_DEFAULT) and are N-aligned from
 * there; a block is free again once its workstream is merged or cleaned.
 * git-ws hands the numbers out; it does not check that the operating
 * system has them free.
 */

#define WS_PORT_BASE_DEFAULT 20000

/* ws.portBase, else WS_PORT_BASE_DEFAULT; dies on a value outside 1..65535. */
int ws_port_base(const struct ws_repo *r);

/*
 * Give each workstream of `ids` (nr of them, none of which has a
 * `port` yet) the lowest free block of plan->ports ports from `base`,
 * and record it in `st` (held by the caller, who writes it). A block is
 * taken while the workstream recorded at it is neither merged nor
 * cleaned. Returns 0; or -1 with "<plan file>:<line>: ..." in *err (the
 * blocks would pass port 65535) and `st` unchanged. Does nothing when
 * plan->ports is 0.
 */
int ws_ports_assign(const struct plan *plan, struct ws_state *st, int base,
		    const char *const *ids, size_t nr, struct strbuf *err);

/*
 * The first port of workstream `id`'s block, from the state in r's
 * ws directory, or 0 when it has none. The state is read once per
 * process and again only when `id` is not in what was read: a block
 * never changes while its workstream is active.
 */
int ws_port_of(const struct ws_repo *r, const char *id);

#endif
