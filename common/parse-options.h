#ifndef PARSE_OPTIONS_H
#define PARSE_OPTIONS_H

#include "compat.h"

/*
 * A declarative option parser in the manner of git's parse-options.h.
 * A command declares a table and calls parse_options():
 *
 *	static const char * const usage[] = { "git ws-x [-n] <plan>", NULL };
 *	struct option options[] = {
 *		OPT__DRY_RUN(&dry_run),
 *		OPT_STRING(0, "base", &base, "branch", "branch to start from"),
 *		OPT_END()
 *	};
 *	argc = parse_options(argc, argv, options, usage);
 *
 * Accepted forms: -n, -j4, -j 4, --jobs=4, --jobs 4, --no-<bool>, bundled
 * short booleans (-nf), and "--" to end options. "-h" (and "--help" when
 * git did not catch it) prints the usage on stdout and exits 0; an unknown
 * option or a missing/invalid argument prints an error and the usage on
 * stderr and exits 129, as git does.
 */
enum parse_opt_type {
	OPTION_END,
	OPTION_GROUP,
	OPTION_BOOL,    /* int: 1 when given, 0 with --no- */
	OPTION_COUNT,   /* int: +1 each time (-f -f) */
	OPTION_STRING,  /* const char *: borrowed from argv */
	OPTION_STRING_OPTARG, /* --opt or --opt=<v>; *value = v or `defval` */
	OPTION_INTEGER, /* int >= 0 */
	OPTION_STRING_LIST, /* struct string_list-like: see below */
};

struct option {
	enum parse_opt_type type;
	int short_name;
	const char *long_name;
	void *value;
	const char *argh;
	const char *help;
	const char *defval;
};

/* A repeated string option collects its values here (argv-borrowed). */
struct opt_string_list {
	const char **items;
	size_t nr, alloc;
};
#define OPT_STRING_LIST_INIT { NULL, 0, 0 }
void opt_string_list_clear(struct opt_string_list *l);

#define OPT_END() { OPTION_END, 0, NULL, NULL, NULL, NULL, NULL }
#define OPT_GROUP(h) { OPTION_GROUP, 0, NULL, NULL, NULL, (h), NULL }
#define OPT_BOOL(s, l, v, h) { OPTION_BOOL, (s), (l), (v), NULL, (h), NULL }
#define OPT_COUNT(s, l, v, h) { OPTION_COUNT, (s), (l), (v), NULL, (h), NULL }
#define OPT_STRING(s, l, v, a, h) { OPTION_STRING, (s), (l), (v), (a), (h), NULL }
#define OPT_STRING_OPTARG(s, l, v, a, h, d) \
	{ OPTION_STRING_OPTARG, (s), (l), (v), (a), (h), (d) }
#define OPT_INTEGER(s, l, v, a, h) { OPTION_INTEGER, (s), (l), (v), (a), (h), NULL }
#define OPT_STRING_LIST(s, l, v, a, h) { OPTION_STRING_LIST, (s), (l), (v), (a), (h), NULL }
#define OPT__DRY_RUN(v) OPT_BOOL('n', "dry-run", (v), "show what would be done, change nothing")
#define OPT__FORCE(v, h) OPT_COUNT('f', "force", (v), (h))
#define OPT__PORCELAIN(v) OPT_BOOL(0, "porcelain", (v), "machine-readable output (stable, tab-separated)")

/*
 * Parse argv[1..] in place. Returns the number of remaining non-option
 * arguments, which are moved to argv[0..ret-1] (argv[0], the program
 * name, is dropped, as git's parse_options without KEEP_ARGV0).
 * Options after the first non-option argument are still parsed, unless
 * "--" came first; with `stop_at_dashdash_keep`, "--" itself is kept as
 * an argument (for commands taking "-- <command>").
 */
int parse_options(int argc, const char **argv, const struct option *options,
		  const char * const usage[]);
int parse_options_keep_dashdash(int argc, const char **argv,
				const struct option *options,
				const char * const usage[]);

/* Print the usage and option help to stderr and exit(129). */
void usage_with_options(const char * const usage[], const struct option *options)
	__attribute__((noreturn));
/* "error: <msg>", then usage_with_options(). */
void usage_msg_opt(const char *msg, const char * const usage[],
		   const struct option *options) __attribute__((noreturn));

#endif
