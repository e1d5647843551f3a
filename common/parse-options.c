#include "compat.h"
#include "parse-options.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

void opt_string_list_clear(struct opt_string_list *l)
{
	free(l->items);
	l->items = NULL;
	l->nr = l->alloc = 0;
}

static void print_usage(FILE *out, const char * const usage[],
			const struct option *opts)
{
	size_t i;

	for (i = 0; usage[i]; i++)
		fprintf(out, "%s%s\n", i ? "   or: " : "usage: ", usage[i]);
	fputc('\n', out);
	for (; opts->type != OPTION_END; opts++) {
		struct strbuf sb = STRBUF_INIT;

		if (opts->type == OPTION_GROUP) {
			fprintf(out, "\n%s\n", opts->help);
			continue;
		}
		strbuf_addstr(&sb, "    ");
		if (opts->short_name)
			strbuf_addf(&sb, "-%c", opts->short_name);
		if (opts->short_name && opts->long_name)
			strbuf_addstr(&sb, ", ");
		if (opts->long_name)
			strbuf_addf(&sb, "--%s", opts->long_name);
		if (opts->type == OPTION_STRING_OPTARG)
			strbuf_addf(&sb, "[=<%s>]", opts->argh);
		else if (opts->argh)
			strbuf_addf(&sb, " <%s>", opts->argh);
		if (sb.len >= 26)
			fprintf(out, "%s\n%26s%s\n", sb.buf, "", opts->help);
		else
			fprintf(out, "%-26s%s\n", sb.buf, opts->help);
		strbuf_release(&sb);
	}
	fputc('\n', out);
}

void usage_with_options(const char * const usage[], const struct option *opts)
{
	fflush(stdout);
	print_usage(stderr, usage, opts);
	exit(WS_EXIT_USAGE);
}

void usage_msg_opt(const char *msg, const char * const usage[],
		   const struct option *opts)
{
	error("%s", msg);
	usage_with_options(usage, opts);
}

struct parse_ctx {
	const char * const *usage;
	const struct option *options;
	int argc;
	const char **argv;
	int i; /* index of the current argument */
};

static void __attribute__((noreturn, format(printf, 2, 3)))
bad(struct parse_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	struct strbuf sb = STRBUF_INIT;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	usage_msg_opt(sb.buf, ctx->usage, ctx->options);
}

static const char *opt_name(const struct option *o, int as_short)
{
	static char buf[128];

	if (as_short)
		snprintf(buf, sizeof(buf), "-%c", o->short_name);
	else
		snprintf(buf, sizeof(buf), "--%s", o->long_name);
	return buf;
}

/*
 * Apply option `o`. `arg` is the attached argument (-j4, --jobs=4) or
 * NULL; a required argument that is not attached is taken from the next
 * argv element.
 */
static void apply(struct parse_ctx *ctx, const struct option *o,
		  const char *arg, int negated, int as_short)
{
	switch (o->type) {
	case OPTION_BOOL:
		if (arg)
			bad(ctx, "option '%s' takes no value", opt_name(o, as_short));
		*(int *)o->value = !negated;
		return;
	case OPTION_COUNT:
		if (arg)
			bad(ctx, "option '%s' takes no value", opt_name(o, as_short));
		*(int *)o->value = negated ? 0 : *(int *)o->value + 1;
		return;
	case OPTION_STRING_OPTARG:
		if (negated) {
			*(const char **)o->value = NULL;
			return;
		}
		*(const char **)o->value = arg ? arg : o->defval;
		return;
	default:
		break;
	}
	if (negated) {
		if (o->type == OPTION_STRING_LIST) {
			opt_string_list_clear(o->value);
			return;
		}
		bad(ctx, "option '%s' cannot be negated", opt_name(o, as_short));
	}
	if (!arg) {
		if (ctx->i + 1 >= ctx->argc)
			bad(ctx, "option '%s' requires a value", opt_name(o, as_short));
		arg = ctx->argv[++ctx->i];
	}
	switch (o->type) {
	case OPTION_STRING:
		*(const char **)o->value = arg;
		break;
	case OPTION_INTEGER:
		if (parse_nonneg_int(arg, o->value) < 0) {
			struct strbuf sb = STRBUF_INIT;
			strbuf_addf(&sb, "option '%s' expects a non-negative integer, not '%s'",
				    opt_name(o, as_short), arg);
			usage_msg_opt(sb.buf, ctx->usage, ctx->options);
		}
		break;
	case OPTION_STRING_LIST: {
		struct opt_string_list *l = o->value;
		ALLOC_GROW(l->items, l->nr + 1, l->alloc);
		l->items[l->nr++] = arg;
		break;
	}
	default:
		BUG("unknown option type %d", o->type);
	}
}

static void help(struct parse_ctx *ctx)
{
	print_usage(stdout, ctx->usage, ctx->options);
	fflush(stdout);
	exit(0);
}

static void parse_long(struct parse_ctx *ctx, const char *arg)
{
	const struct option *o;
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct option *abbrev = NULL;
	int abbrev_neg = 0, ambiguous = 0;

	if (len == 4 && !strncmp(arg, "help", 4))
		help(ctx);
	for (o = ctx->options; o->type != OPTION_END; o++) {
		int neg = 0;
		const char *name = arg;
		size_t nlen = len;

		if (!o->long_name)
			continue;
		if (!strncmp(arg, "no-", 3) && strncmp(o->long_name, "no-", 3)) {
			neg = 1;
			name += 3;
			nlen -= 3;
		}
		if (strlen(o->long_name) == nlen &&
		    !strncmp(o->long_name, name, nlen)) {
			apply(ctx, o, eq ? eq + 1 : NULL, neg, 0);
			return;
		}
		if (!strncmp(o->long_name, name, nlen) && nlen) {
			if (abbrev && abbrev != o)
				ambiguous = 1;
			abbrev = o;
			abbrev_neg = neg;
		}
	}
	if (abbrev && !ambiguous) {
		apply(ctx, abbrev, eq ? eq + 1 : NULL, abbrev_neg, 0);
		return;
	}
	if (ambiguous)
		bad(ctx, "ambiguous option: %s", arg);
	bad(ctx, "unknown option '%s'", arg);
}

static void parse_short(struct parse_ctx *ctx, const char *arg)
{
	for (; *arg; arg++) {
		const struct option *o;

		if (*arg == 'h')
			help(ctx);
		for (o = ctx->options; o->type != OPTION_END; o++)
			if (o->short_name == *arg)
				break;
		if (o->type == OPTION_END) {
			char s[2] = { *arg, 0 };
			bad(ctx, "unknown switch '%s'", s);
		}
		if (o->type == OPTION_BOOL || o->type == OPTION_COUNT) {
			apply(ctx, o, NULL, 0, 1);
			continue;
		}
		apply(ctx, o, arg[1] ? arg + 1 : NULL, 0, 1);
		return;
	}
}

static int parse(int argc, const char **argv, const struct option *options,
		 const char * const usage[], int keep_dashdash)
{
	struct parse_ctx ctx = { usage, options, argc, argv, 1 };
	int out = 0;

	for (; ctx.i < argc; ctx.i++) {
		const char *arg = argv[ctx.i];

		if (!strcmp(arg, "--")) {
			if (keep_dashdash)
				argv[out++] = arg;
			for (ctx.i++; ctx.i < argc; ctx.i++)
				argv[out++] = argv[ctx.i];
			break;
		}
		if (arg[0] == '-' && arg[1] == '-')
			parse_long(&ctx, arg + 2);
		else if (arg[0] == '-' && arg[1])
			parse_short(&ctx, arg + 1);
		else
			argv[out++] = arg;
	}
	argv[out] = NULL;
	return out;
}

int parse_options(int argc, const char **argv, const struct option *options,
		  const char * const usage[])
{
	return parse(argc, argv, options, usage, 0);
}

int parse_options_keep_dashdash(int argc, const char **argv,
				const struct option *options,
				const char * const usage[])
{
	return parse(argc, argv, options, usage, 1);
}
