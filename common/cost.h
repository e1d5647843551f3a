#ifndef COST_H
#define COST_H

#include "compat.h"
#include "donefile.h"
#include "state.h"
#include "strbuf.h"

struct plan;

/*
 * Tokens and cost, per workstream and per plan, and the plan's budget
 * (git-ws(7), COST AND BUDGETS).
 *
 * A dispatched command (a coding agent) may say what its run cost in its
 * done file's "usage" (donefile.h). Each workstream's state section sums
 * them over all its attempts and iterations, under WS_KEY_TOKENS_IN,
 * WS_KEY_TOKENS_OUT and WS_KEY_COST_USD; a key is there once some run
 * reported that member. The plan's total is the sum over every section
 * of the state. Costs are kept in millionths of a dollar, exactly, and
 * written as decimal strings with 6 decimals ("1.250000"), which `git
 * config -f .git/ws/state` reads as they are.
 *
 * A run is added exactly once, at the transition that finalises its
 * attempt: git ws-dispatch when it records the end (an `in_progress`
 * record leaves its pid), ws_reap_vanished() when it finalises one whose
 * process is gone. Both happen under the state lock and only to a record
 * that is still the running attempt's, so no done file is counted twice.
 *
 * The plan key `max-cost` (plan.h, `max_cost`) is a budget: once the
 * plan's total cost reaches it, git ws-dispatch starts no new attempt.
 */

/* The reason of a ready workstream that waits for more budget. */
#define WS_REASON_BUDGET "budget spent"

/*
 * Parse an amount in US dollars: digits, optionally a '.' and at most 6
 * more digits ("5", "2.50", "0.000125"). Returns 0 and the amount in
 * millionths in *micro, or -1 (nothing else, no sign, no exponent, no
 * value that overflows) with *micro untouched.
 */
int ws_cost_parse(const char *s, uint64_t *micro);

/*
 * Append an amount (in millionths of a dollar) as a decimal without the
 * dollar sign: with `fixed`, always 6 decimals, as the state keeps it
 * ("0.012300"); otherwise for people, at least 2 decimals and no
 * trailing zeros after them ("0.0123", "1.50", "12.00").
 */
void ws_cost_format(struct strbuf *sb, uint64_t micro, int fixed);

/*
 * Add the usage of one run `u` to workstream `id`'s sums in `st` (held
 * under the lock by the caller, who commits): each member present in `u`
 * is added to its key (created at 0 when missing; sums stop at the
 * largest value instead of wrapping). Nothing changes when `u` has no
 * member. Call it only at the transition that finalises the attempt (see
 * above).
 */
void ws_usage_add(struct ws_state *st, const char *id, const struct ws_usage *u);

/*
 * The sums recorded for workstream `id`, into *out: a member is present
 * when its key is. Returns 0; or -1 when a value is not a number as
 * ws_usage_add() writes it (a hand edit): that member then reads as
 * absent, and `bad_key` (when not NULL) names the first such key.
 */
int ws_usage_get(const struct ws_state *st, const char *id,
		 struct ws_usage *out, const char **bad_key);

/*
 * The plan's total over every workstream of `st`, into *out (a member is
 * present when some workstream has it). Returns 0, or -1 when some value
 * was unreadable (counted as absent, see ws_usage_get()).
 */
int ws_usage_plan_total(const struct ws_state *st, struct ws_usage *out);

/*
 * 1 when `plan` has a max-cost and the total cost recorded in `st`
 * reaches it, else 0. When spent and `msg` is not NULL, appends "budget
 * spent: $<total> of $<max-cost> max-cost; raise max-cost in the plan to
 * go on".
 */
int ws_budget_spent(const struct plan *plan, const struct ws_state *st,
		    struct strbuf *msg);

/*
 * Make the reasons of the ready workstreams say whether the budget holds
 * them: when it is spent, each ready workstream of `plan` gets the reason
 * WS_REASON_BUDGET; when it is not, a ready one whose reason is that
 * loses it. The caller holds the state lock and commits. Returns what
 * ws_budget_spent() returns.
 */
int ws_budget_hold(const struct plan *plan, struct ws_state *st);

#endif
