#include "compat.h"
#include "dot.h"
#include "wrapper.h"

const char *ws_dot_color(enum ws_status s)
{
	switch (s) {
	case WS_STATUS_BLOCKED:
		return "lightgrey";
	case WS_STATUS_READY:
		return "lightskyblue";
	case WS_STATUS_IN_PROGRESS:
		return "gold";
	case WS_STATUS_DONE:
		return "orange";
	case WS_STATUS_CONVERGED:
		return "palegreen";
	case WS_STATUS_MERGED:
		return "green3";
	case WS_STATUS_FAILED:
		return "tomato";
	case WS_STATUS_CLEANED:
		return "darkseagreen";
	default:
		return "white";
	}
}

void ws_dot_quote(struct strbuf *out, const char *s)
{
	struct strbuf clean = STRBUF_INIT;
	size_t i;

	strbuf_addch(out, '"');
	for (; *s; s++) {
		/* a line at a time: the newlines become \n, the rest is sanitized */
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *line = xstrndup(s, len);

		strbuf_reset(&clean);
		strbuf_add_sanitized(&clean, line);
		free(line);
		for (i = 0; i < clean.len; i++) {
			if (clean.buf[i] == '"' || clean.buf[i] == '\\')
				strbuf_addch(out, '\\');
			strbuf_addch(out, clean.buf[i]);
		}
		s += len;
		if (!*s)
			break;
		strbuf_addstr(out, "\\n");
	}
	strbuf_addch(out, '"');
	strbuf_release(&clean);
}

void ws_dot_write(struct strbuf *out, const struct plan *plan,
		  const struct ws_state *st)
{
	size_t i, j;

	strbuf_addstr(out, "digraph ");
	ws_dot_quote(out, plan->name ? plan->name : "plan");
	strbuf_addstr(out, " {\n"
		      "  rankdir=LR;\n"
		      "  node [shape=box, style=\"rounded,filled\"];\n");
	for (i = 0; i < plan->nr; i++) {
		const struct plan_workstream *w = &plan->ws[i];
		enum ws_status s = ws_state_status(st, w->id);
		struct strbuf label = STRBUF_INIT;

		strbuf_addf(&label, "%s\n%s\n%s", w->id, w->title ? w->title : "",
			    ws_status_name(s) ?: "unallocated");
		strbuf_addstr(out, "  ");
		ws_dot_quote(out, w->id);
		strbuf_addstr(out, " [label=");
		ws_dot_quote(out, label.buf);
		strbuf_addf(out, ", fillcolor=\"%s\"];\n", ws_dot_color(s));
		strbuf_release(&label);
	}
	for (i = 0; i < plan->nr; i++) {
		const struct plan_workstream *w = &plan->ws[i];

		for (j = 0; j < w->dep_nr; j++) {
			strbuf_addstr(out, "  ");
			ws_dot_quote(out, plan->ws[w->dep_idx[j]].id);
			strbuf_addstr(out, " -> ");
			ws_dot_quote(out, w->id);
			strbuf_addstr(out, ";\n");
		}
	}
	strbuf_addstr(out, "}\n");
}
