#include "compat.h"
#include "cost.h"
#include "plan.h"
#include "wrapper.h"
#include <ctype.h>
#include <inttypes.h>

/* The largest whole dollars whose amount in millionths, fraction and all, fits. */
#define WHOLE_MAX (UINT64_MAX / 1000000 - 1)
/* The largest cost a sum keeps: ws_cost_parse() reads it back. */
#define COST_SUM_MAX (WHOLE_MAX * 1000000 + 999999)

int ws_cost_parse(const char *s, uint64_t *micro)
{
	uint64_t whole = 0, frac = 0;
	int digits = 0, decimals = 0;

	for (; isdigit((unsigned char)*s); s++, digits++) {
		if (whole > (WHOLE_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++) {
			if (++decimals > 6)
				return -1;
			frac = frac * 10 + (uint64_t)(*s - '0');
		}
		if (!decimals)
			return -1;
	}
	if (*s || !digits)
		return -1;
	while (decimals++ < 6)
		frac *= 10;
	*micro = whole * 1000000 + frac;
	return 0;
}

void ws_cost_format(struct strbuf *sb, uint64_t micro, int fixed)
{
	char frac[8];
	int len = 6;

	snprintf(frac, sizeof(frac), "%06" PRIu64, micro % 1000000);
	while (!fixed && len > 2 && frac[len - 1] == '0')
		len--;
	strbuf_addf(sb, "%" PRIu64 ".%.*s", micro / 1000000, len, frac);
}

static uint64_t add_saturated(uint64_t a, uint64_t b, uint64_t max)
{
	return a > max || b > max - a ? max : a + b;
}

/* Digits only, as ws_usage_add() writes a count; -1 otherwise. */
static int parse_count(const char *s, uint64_t *out)
{
	uint64_t n = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) ||
		    n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*out = n;
	return 0;
}

int ws_usage_get(const struct ws_state *st, const char *id,
		 struct ws_usage *out, const char **bad_key)
{
	static const struct {
		const char *key;
		unsigned bit;
	} keys[] = {
		{ WS_KEY_TOKENS_IN, WS_USAGE_TOKENS_IN },
		{ WS_KEY_TOKENS_OUT, WS_USAGE_TOKENS_OUT },
		{ WS_KEY_COST_USD, WS_USAGE_COST },
	};
	size_t i;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (bad_key)
		*bad_key = NULL;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = ws_state_get(st, id, keys[i].key);
		uint64_t n = 0;
		int rc;

		if (!v)
			continue;
		rc = keys[i].bit == WS_USAGE_COST ? ws_cost_parse(v, &n) :
						     parse_count(v, &n);
		if (rc < 0) {
			if (bad_key && !ret)
				*bad_key = keys[i].key;
			ret = -1;
			continue;
		}
		out->present |= keys[i].bit;
		if (keys[i].bit == WS_USAGE_TOKENS_IN)
			out->tokens_in = n;
		else if (keys[i].bit == WS_USAGE_TOKENS_OUT)
			out->tokens_out = n;
		else
			out->cost_micro = n;
	}
	return ret;
}

/* Add b's members to a's; a member is present in a when in either. */
static void usage_sum(struct ws_usage *a, const struct ws_usage *b)
{
	a->present |= b->present;
	a->tokens_in = add_saturated(a->tokens_in, b->tokens_in, UINT64_MAX);
	a->tokens_out = add_saturated(a->tokens_out, b->tokens_out, UINT64_MAX);
	a->cost_micro = add_saturated(a->cost_micro, b->cost_micro, COST_SUM_MAX);
}

void ws_usage_add(struct ws_state *st, const char *id, const struct ws_usage *u)
{
	struct ws_usage sum;
	struct strbuf sb = STRBUF_INIT;

	if (!u->present)
		return;
	/* an unreadable sum (a hand edit) starts again from this run */
	ws_usage_get(st, id, &sum, NULL);
	usage_sum(&sum, u);
	if (u->present & WS_USAGE_TOKENS_IN)
		ws_state_setf(st, id, WS_KEY_TOKENS_IN, "%" PRIu64, sum.tokens_in);
	if (u->present & WS_USAGE_TOKENS_OUT)
		ws_state_setf(st, id, WS_KEY_TOKENS_OUT, "%" PRIu64, sum.tokens_out);
	if (u->present & WS_USAGE_COST) {
		ws_cost_format(&sb, sum.cost_micro, 1);
		ws_state_set(st, id, WS_KEY_COST_USD, sb.buf);
	}
	strbuf_release(&sb);
}

int ws_usage_plan_total(const struct ws_state *st, struct ws_usage *out)
{
	size_t pos = 0;
	const char *id;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	while ((id = ws_state_next(st, &pos))) {
		struct ws_usage u;

		if (ws_usage_get(st, id, &u, NULL) < 0)
			ret = -1;
		usage_sum(out, &u);
	}
	return ret;
}

int ws_budget_spent(const struct plan *plan, const struct ws_state *st,
		    struct strbuf *msg)
{
	struct ws_usage total;

	if (!plan->max_cost)
		return 0;
	ws_usage_plan_total(st, &total);
	if (total.cost_micro < plan->max_cost)
		return 0;
	if (msg) {
		strbuf_addstr(msg, "budget spent: $");
		ws_cost_format(msg, total.cost_micro, 0);
		strbuf_addstr(msg, " of $");
		ws_cost_format(msg, plan->max_cost, 0);
		strbuf_addstr(msg, " max-cost; raise max-cost in the plan to go on");
	}
	return 1;
}

int ws_budget_hold(const struct plan *plan, struct ws_state *st)
{
	int spent = ws_budget_spent(plan, st, NULL);
	size_t i;

	for (i = 0; i < plan->nr; i++) {
		const char *id = plan->ws[i].id;
		const char *reason = ws_state_get(st, id, WS_KEY_REASON);
		int held = reason && !strcmp(reason, WS_REASON_BUDGET);

		if (ws_state_status(st, id) != WS_STATUS_READY || held == spent)
			continue;
		ws_state_set_status(st, id, WS_STATUS_READY,
				    spent ? WS_REASON_BUDGET : NULL);
	}
	return spent;
}
