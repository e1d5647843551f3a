#ifndef DONEFILE_H
#define DONEFILE_H

#include "compat.h"
#include "strbuf.h"

/*
 * The `.done` sentinel of a dispatched workstream (git-ws-dispatch(1)):
 * $GIT_WS_DIR/coordination/<id>.done, a JSON object
 *
 *	{"status":"success|partial|failed","timestamp":"<ISO 8601>",
 *	 "workstream_id":"ws-1","summary":"..."}
 *
 * The dispatched command may write it itself (as $WS_DONE_FILE); when it
 * does not, git ws-dispatch writes it from the exit status. Readers (git
 * ws-dispatch, git ws-converge, git ws-status) validate it with
 * ws_done_read(): a file that is not exactly this schema is "malformed",
 * which is a failure that says what is wrong, never a silent success.
 *
 * Validation: a JSON object (duplicate keys rejected) with
 *  - "status": one of "success", "partial", "failed";
 *  - "timestamp": a string in ISO 8601 date-time form,
 *    YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH[:]MM|-HH[:]MM];
 *  - "workstream_id": a string; it must equal the expected id when the
 *    caller gives one;
 *  - "summary": a string, optional (read as "");
 *  - "usage": an object, optional: what the run cost, as the agent's own
 *    CLI reported it (git-ws(7), COST AND BUDGETS), with the members
 *    "input_tokens" and "output_tokens" (integers >= 0) and "cost_usd"
 *    (a number from 0 to WS_USAGE_COST_MAX_USD), each optional.
 * Other keys are allowed and ignored, so that tools may add their own
 * (at the top level and inside "usage").
 */
enum ws_done_status {
	WS_DONE_SUCCESS = 0,
	WS_DONE_PARTIAL,
	WS_DONE_FAILED,
};

/*
 * Tokens and cost: of one run (a done file's "usage"), or summed over
 * runs (cost.h). `present` says which members were given (WS_USAGE_*
 * bits); the others read 0.
 */
#define WS_USAGE_TOKENS_IN (1u << 0)  /* "input_tokens" */
#define WS_USAGE_TOKENS_OUT (1u << 1) /* "output_tokens" */
#define WS_USAGE_COST (1u << 2)       /* "cost_usd" */
#define WS_USAGE_COST_MAX_USD 1000000000 /* a larger cost_usd is malformed */
struct ws_usage {
	unsigned present;
	uint64_t tokens_in;
	uint64_t tokens_out;
	uint64_t cost_micro;  /* US dollars in millionths, rounded to nearest */
};
#define WS_USAGE_INIT { 0, 0, 0, 0 }

struct ws_done {
	enum ws_done_status status;
	char *timestamp;     /* as written */
	char *workstream_id;
	char *summary;       /* never NULL once read; may contain anything */
	int has_usage;       /* the file has a "usage" object (maybe empty) */
	struct ws_usage usage;
};
#define WS_DONE_INIT { WS_DONE_FAILED, NULL, NULL, NULL, 0, WS_USAGE_INIT }

/* "success", "partial" or "failed". */
const char *ws_done_status_name(enum ws_done_status s);

/*
 * Parse `len` bytes of JSON into d (which must be WS_DONE_INIT or
 * released). `expect_id`, when not NULL, must equal "workstream_id".
 * Returns 0; or -1 with a short, lower-case reason in *err ("not valid
 * JSON: ... at line 1 column 3", "\"status\" must be one of success,
 * partial, failed") and d left empty.
 */
int ws_done_parse(struct ws_done *d, const char *buf, size_t len,
		  const char *expect_id, struct strbuf *err);

/*
 * Read and validate the done file at `path`, as ws_done_parse(). Returns
 * 0 when it was read and valid; 1 when there is no such file (d left
 * empty, nothing in *err); -1 when it exists but cannot be read or is
 * malformed, with the reason in *err.
 */
int ws_done_read(struct ws_done *d, const char *path, const char *expect_id,
		 struct strbuf *err);

/*
 * Write a done file for `id` at `path` atomically (write_file_atomically:
 * readers see the old file or the new one, whole, also after a kill).
 * It is not fsynced (LOCK_NO_FSYNC): dispatch writes it from an exit
 * status that the (fsynced) state records too, and the fsyncs were most
 * of dispatch's own cost per workstream (bench/dispatch.sh). `summary`
 * may be NULL (written as ""); the timestamp is now, in UTC. Returns 0,
 * or -1 with errno set.
 */
int ws_done_write(const char *path, const char *id,
		  enum ws_done_status status, const char *summary);

/*
 * As ws_done_write(), with the extra key an agent adapter (git
 * ws-agent) adds from the agent CLI's own report:
 *
 *	"usage": {"input_tokens": N, "output_tokens": N, "cost_usd": X}
 *
 * Token counts are whole tokens (>= 0); `cost_usd` is in US dollars and
 * left out when negative (a CLI that reports no cost). Written
 * atomically and fsynced, as this file is the only record of the usage.
 * Returns 0, or -1 with errno set.
 */
int ws_done_write_usage(const char *path, const char *id,
			enum ws_done_status status, const char *summary,
			long input_tokens, long output_tokens, double cost_usd);

/* Free what d holds and make it WS_DONE_INIT again. */
void ws_done_release(struct ws_done *d);

/* 1 when `s` is an ISO 8601 date-time as accepted above, else 0. */
int ws_done_timestamp_is_valid(const char *s);

#endif
