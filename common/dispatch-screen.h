#ifndef DISPATCH_SCREEN_H
#define DISPATCH_SCREEN_H

#include "compat.h"
#include "dispatch.h"
#include "strbuf.h"

/*
 * What git ws-dispatch shows of a dispatch (dispatch.h) while it runs and
 * when it ends: one line per event on stderr, and on a terminal a block
 * redrawn below them, one line per running command and the counts.
 */
struct ws_screen {
	int tty;   /* stderr is a terminal: the block is drawn */
	int drawn; /* lines of the block on screen now */
	int show_conflicts; /* the block counts conflicts (--loop) */
	size_t conflicts;   /* pairs of workstreams in conflict (conflicts.h) */
};

/*
 * Append `s` as a porcelain field: control characters made harmless
 * (strbuf_add_sanitized()), tabs as spaces.
 */
void ws_add_field(struct strbuf *sb, const char *s);

/* Append `ms` as m:ss, or h:mm:ss from an hour on. */
void ws_format_elapsed(struct strbuf *sb, uint64_t ms);

/*
 * Show event `ev` of `job` (NULL for WS_EV_TICK) on stderr: without a
 * terminal its line ("ws-1: started (attempt 1, pid 123)", "ws-1: done
 * (exit status 0, 0:03)", ...); on one, the block erased, the line (but
 * not a plain start), and the block drawn again. One write(2) each.
 */
void ws_screen_event(struct ws_screen *scr, struct ws_dispatch *d,
		     struct ws_job *job, enum ws_dispatch_event ev);

/* Erase the block, so that a line can be printed in its place. */
void ws_screen_clear(struct ws_screen *scr);

/*
 * The block erased, print on stdout one line per job of d (how it ended,
 * its time, why) and the counts; with `porcelain` the records
 * "dispatched TAB <id> TAB <done|failed|not-started> TAB <tries> TAB
 * <why>" and no counts.
 */
void ws_screen_summary(struct ws_screen *scr, const struct ws_dispatch *d,
		       int porcelain);

#endif
