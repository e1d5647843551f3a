#include "compat.h"
#include "donefile.h"
#include "lockfile.h"
#include "wrapper.h"
#include <ctype.h>
#include <jansson.h>

static const char *const status_names[] = {
	[WS_DONE_SUCCESS] = "success",
	[WS_DONE_PARTIAL] = "partial",
	[WS_DONE_FAILED] = "failed",
};

const char *ws_done_status_name(enum ws_done_status s)
{
	if ((size_t)s >= ARRAY_SIZE(status_names))
		return "failed";
	return status_names[s];
}

void ws_done_release(struct ws_done *d)
{
	FREE_AND_NULL(d->timestamp);
	FREE_AND_NULL(d->workstream_id);
	FREE_AND_NULL(d->summary);
	d->status = WS_DONE_FAILED;
	d->has_usage = 0;
	memset(&d->usage, 0, sizeof(d->usage));
}

/* n digits at *p; advances p. */
static int digits(const char **p, int n)
{
	while (n--) {
		if (!isdigit((unsigned char)**p))
			return 0;
		(*p)++;
	}
	return 1;
}

static int expect(const char **p, char c)
{
	if (**p != c)
		return 0;
	(*p)++;
	return 1;
}

int ws_done_timestamp_is_valid(const char *s)
{
	const char *p = s;

	if (!digits(&p, 4) || !expect(&p, '-') || !digits(&p, 2) ||
	    !expect(&p, '-') || !digits(&p, 2) || !expect(&p, 'T') ||
	    !digits(&p, 2) || !expect(&p, ':') || !digits(&p, 2))
		return 0;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2))
			return 0;
		if (*p == '.' || *p == ',') {
			p++;
			if (!digits(&p, 1))
				return 0;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (*p == 'Z')
		p++;
	else if (*p == '+' || *p == '-') {
		p++;
		if (!digits(&p, 2))
			return 0;
		if (*p == ':')
			p++;
		if (!digits(&p, 2))
			return 0;
	}
	return !*p;
}

static int get_string(json_t *obj, const char *key, int required,
		      const char **out, struct strbuf *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v) {
		if (!required)
			return 0;
		strbuf_addf(err, "\"%s\" is missing", key);
		return -1;
	}
	if (!json_is_string(v)) {
		strbuf_addf(err, "\"%s\" must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* A token count of "usage": an integer >= 0, when given. */
static int get_tokens(json_t *usage, const char *key, unsigned bit,
		      struct ws_usage *u, uint64_t *out, struct strbuf *err)
{
	json_t *v = json_object_get(usage, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		strbuf_addf(err, "\"usage.%s\" must be an integer >= 0", key);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	u->present |= bit;
	return 0;
}

/*
 * The optional "usage" object: {"input_tokens": N, "output_tokens": N,
 * "cost_usd": X}, each member optional, others ignored.
 */
static int get_usage(json_t *v, struct ws_usage *u, struct strbuf *err)
{
	json_t *cost;

	if (!json_is_object(v)) {
		strbuf_addstr(err, "\"usage\" must be an object");
		return -1;
	}
	if (get_tokens(v, "input_tokens", WS_USAGE_TOKENS_IN, u,
		       &u->tokens_in, err) < 0 ||
	    get_tokens(v, "output_tokens", WS_USAGE_TOKENS_OUT, u,
		       &u->tokens_out, err) < 0)
		return -1;
	if ((cost = json_object_get(v, "cost_usd"))) {
		/* jansson reads neither NaN nor infinities */
		double x = json_number_value(cost);

		if (!json_is_number(cost) || x < 0 || x > WS_USAGE_COST_MAX_USD) {
			strbuf_addf(err, "\"usage.cost_usd\" must be a number from 0 to %d",
				    WS_USAGE_COST_MAX_USD);
			return -1;
		}
		u->cost_micro = (uint64_t)(x * 1e6 + 0.5);
		u->present |= WS_USAGE_COST;
	}
	return 0;
}

int ws_done_parse(struct ws_done *d, const char *buf, size_t len,
		  const char *expect_id, struct strbuf *err)
{
	json_error_t jerr;
	json_t *root = NULL, *usage;
	struct ws_usage u = WS_USAGE_INIT;
	const char *status, *ts, *id, *summary;
	size_t i;
	int ret = -1;

	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		strbuf_addf(err, "not valid JSON: %s at line %d column %d",
			    jerr.text, jerr.line, jerr.column);
		goto cleanup;
	}
	if (!json_is_object(root)) {
		strbuf_addstr(err, "not a JSON object");
		goto cleanup;
	}
	if (get_string(root, "status", 1, &status, err) < 0 ||
	    get_string(root, "timestamp", 1, &ts, err) < 0 ||
	    get_string(root, "workstream_id", 1, &id, err) < 0 ||
	    get_string(root, "summary", 0, &summary, err) < 0)
		goto cleanup;
	for (i = 0; i < ARRAY_SIZE(status_names); i++)
		if (!strcmp(status, status_names[i]))
			break;
	if (i == ARRAY_SIZE(status_names)) {
		strbuf_addstr(err, "\"status\" must be one of success, partial, failed, not '");
		strbuf_add_sanitized(err, status);
		strbuf_addch(err, '\'');
		goto cleanup;
	}
	if (!ws_done_timestamp_is_valid(ts)) {
		strbuf_addstr(err, "\"timestamp\" is not an ISO 8601 date-time: '");
		strbuf_add_sanitized(err, ts);
		strbuf_addch(err, '\'');
		goto cleanup;
	}
	if (expect_id && strcmp(id, expect_id)) {
		strbuf_addstr(err, "\"workstream_id\" is '");
		strbuf_add_sanitized(err, id);
		strbuf_addf(err, "', not '%s'", expect_id);
		goto cleanup;
	}
	if ((usage = json_object_get(root, "usage")) && get_usage(usage, &u, err) < 0)
		goto cleanup;
	d->has_usage = !!usage;
	d->usage = u;
	d->status = (enum ws_done_status)i;
	d->timestamp = xstrdup(ts);
	d->workstream_id = xstrdup(id);
	d->summary = xstrdup(summary ? summary : "");
	ret = 0;
cleanup:
	json_decref(root);
	return ret;
}

int ws_done_read(struct ws_done *d, const char *path, const char *expect_id,
		 struct strbuf *err)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (read_file(path, &buf, &len) < 0) {
		if (errno == ENOENT)
			return 1;
		strbuf_addf(err, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	ret = ws_done_parse(d, buf, len, expect_id, err);
	free(buf);
	return ret;
}

/* A JSON string of s; bytes that are not valid UTF-8 become '?'. */
static json_t *json_text(const char *s)
{
	json_t *v = json_string(s);
	char *copy, *p;

	if (v)
		return v;
	copy = xstrdup(s);
	for (p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

int ws_done_write(const char *path, const char *id,
		  enum ws_done_status status, const char *summary)
{
	char now[32];
	json_t *root = NULL;
	char *text = NULL;
	int ret = -1, saved;

	iso8601_now(now);
	root = json_object();
	if (!root ||
	    json_object_set_new(root, "status", json_string(ws_done_status_name(status))) ||
	    json_object_set_new(root, "timestamp", json_string(now)) ||
	    json_object_set_new(root, "workstream_id", json_text(id)) ||
	    json_object_set_new(root, "summary", json_text(summary ? summary : "")))
		goto nomem;
	text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (!text)
		goto nomem;
	{
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, text);
		strbuf_addch(&sb, '\n');
		/* rebuilt from the state's record if lost in a power cut */
		ret = write_file_atomically(path, sb.buf, sb.len,
					    LOCK_BREAK_STALE | LOCK_NO_FSYNC);
		saved = errno;
		strbuf_release(&sb);
		errno = saved;
	}
	goto cleanup;
nomem:
	errno = ENOMEM;
cleanup:
	saved = errno;
	free(text);
	json_decref(root);
	errno = saved;
	return ret;
}

int ws_done_write_usage(const char *path, const char *id,
			enum ws_done_status status, const char *summary,
			long input_tokens, long output_tokens, double cost_usd)
{
	char now[32];
	json_t *root = NULL, *usage = NULL;
	char *text = NULL;
	struct strbuf sb = STRBUF_INIT;
	int ret = -1, saved;

	iso8601_now(now);
	root = json_object();
	usage = json_object();
	if (!root || !usage ||
	    json_object_set_new(usage, "input_tokens", json_integer(input_tokens)) ||
	    json_object_set_new(usage, "output_tokens", json_integer(output_tokens)) ||
	    (cost_usd >= 0 &&
	     json_object_set_new(usage, "cost_usd", json_real(cost_usd))) ||
	    json_object_set_new(root, "status", json_string(ws_done_status_name(status))) ||
	    json_object_set_new(root, "timestamp", json_string(now)) ||
	    json_object_set_new(root, "workstream_id", json_text(id)) ||
	    json_object_set_new(root, "summary", json_text(summary ? summary : "")) ||
	    json_object_set(root, "usage", usage))
		goto nomem;
	text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (!text)
		goto nomem;
	strbuf_addstr(&sb, text);
	strbuf_addch(&sb, '\n');
	ret = write_file_atomically(path, sb.buf, sb.len, LOCK_BREAK_STALE);
	goto cleanup;
nomem:
	errno = ENOMEM;
cleanup:
	saved = errno;
	strbuf_release(&sb);
	free(text);
	json_decref(usage);
	json_decref(root);
	errno = saved;
	return ret;
}
