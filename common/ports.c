#include "compat.h"
#include "ports.h"
#include "usage.h"
#include "wrapper.h"

int ws_port_base(const struct ws_repo *r)
{
	int base = ws_config_get_int(r, "ws.portbase", WS_PORT_BASE_DEFAULT);

	if (base < 1 || base > PLAN_PORT_MAX)
		die("bad ws.portBase %d (expected a port from 1 to %d)",
		    base, PLAN_PORT_MAX);
	return base;
}

/* 1 when some active workstream's block [port, port + n) meets [lo, lo + n). */
static int block_taken(const struct ws_state *st, int lo, int n)
{
	size_t pos = 0;
	const char *id;

	while ((id = ws_state_next(st, &pos))) {
		enum ws_status s = ws_state_status(st, id);
		long port = ws_state_get_long(st, id, WS_KEY_PORT, 0);

		if (!port || s == WS_STATUS_MERGED || s == WS_STATUS_CLEANED)
			continue;
		if (port < lo + n && lo < port + n)
			return 1;
	}
	return 0;
}

int ws_ports_assign(const struct plan *plan, struct ws_state *st, int base,
		    const char *const *ids, size_t nr, struct strbuf *err)
{
	int n = plan->ports, *got;
	size_t i;
	long lo = base;

	if (!n || !nr)
		return 0;
	got = xcalloc(nr, sizeof(*got));
	/* first choose them all (lo only grows: no two overlap), then record */
	for (i = 0; i < nr; i++, lo += n) {
		while (lo + n - 1 <= PLAN_PORT_MAX && block_taken(st, lo, n))
			lo += n;
		if (lo + n - 1 > PLAN_PORT_MAX) {
			strbuf_addf(err, "%s:%d: ports: %zu new workstreams with %d ports each from port %d pass port %d",
				    plan->file, plan->ports_line, nr, n, base,
				    PLAN_PORT_MAX);
			free(got);
			return -1;
		}
		got[i] = lo;
	}
	for (i = 0; i < nr; i++)
		ws_state_setf(st, ids[i], WS_KEY_PORT, "%d", got[i]);
	free(got);
	return 0;
}

int ws_port_of(const struct ws_repo *r, const char *id)
{
	static struct ws_state cache = WS_STATE_INIT;
	static int loaded;
	struct strbuf err = STRBUF_INIT;

	if (!loaded || !ws_state_find(&cache, id)) {
		ws_state_release(&cache);
		if (ws_state_read(&cache, r->ws_dir, &err) < 0)
			warning("%s", err.buf);
		loaded = 1;
	}
	strbuf_release(&err);
	return (int)ws_state_get_long(&cache, id, WS_KEY_PORT, 0);
}
