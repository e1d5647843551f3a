#ifndef DOT_H
#define DOT_H

#include "compat.h"
#include "plan.h"
#include "state.h"
#include "strbuf.h"

/*
 * The plan's dependency graph in Graphviz's DOT language (git ws-status
 * --dot), for `dot -Tsvg` and friends: one node per workstream, labelled
 * with its id, title and status and filled with its status's colour
 * (ws_dot_color()), and one edge from each dependency to each of its
 * dependents, in plan order.
 */

/*
 * Append the whole graph to `out`, statuses read from `st` (read by the
 * caller). Titles and ids are quoted with ws_dot_quote().
 */
void ws_dot_write(struct strbuf *out, const struct plan *plan,
		  const struct ws_state *st);

/*
 * Append `s` as a DOT double-quoted string: `"` and `\` escaped with a
 * backslash (so that Graphviz's label escapes, `\n`, `\l`, `\N`, ..., are
 * never taken from the text), a newline as `\n`, other control
 * characters made harmless (strbuf_add_sanitized()). UTF-8 is kept: DOT
 * reads it by default.
 */
void ws_dot_quote(struct strbuf *out, const char *s);

/*
 * The X11 colour name (known to Graphviz) a node of status `s` is filled
 * with; git-ws-status(1) lists them. WS_STATUS_NONE (not allocated) is
 * "white".
 */
const char *ws_dot_color(enum ws_status s);

#endif
