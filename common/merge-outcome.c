#include "compat.h"
#include "merge-outcome.h"
#include "strbuf.h"
#include "wrapper.h"

const char *ws_merge_outcome_name(enum ws_merge_outcome o)
{
	static const char *const name[] = {
		"merged", "conflict", "tests-failed", "skipped", "refused", "error",
	};

	return name[o];
}

/* The porcelain line of an outcome: "<outcome>\t<id>\t<oid>\t<detail>". */
static void porcelain_line(enum ws_merge_outcome o, const char *id,
			   const char *hex, const char *detail,
			   struct strbuf *sb)
{
	strbuf_addf(sb, "%s\t%s\t%s\t", ws_merge_outcome_name(o), id, hex);
	strbuf_add_sanitized(sb, detail ? detail : "");
}

/* The human lines of an outcome, each sanitized; the newlines are ours. */
static void human_lines(const char *human, struct strbuf *sb)
{
	const char *p = human, *nl;

	while ((nl = strchr(p, '\n'))) {
		char *line = xstrndup(p, nl - p);

		strbuf_add_sanitized(sb, line);
		strbuf_addch(sb, '\n');
		free(line);
		p = nl + 1;
	}
	strbuf_add_sanitized(sb, p);
}

void ws_merge_outcome_print(int porcelain, enum ws_merge_outcome o,
			    const char *id, const git_oid *oid,
			    const char *detail, const char *human)
{
	ws_merge_outcome_print_with(porcelain, o, id, oid, detail, NULL,
				    human);
}

void ws_merge_outcome_print_with(int porcelain, enum ws_merge_outcome o,
				 const char *id, const git_oid *oid,
				 const char *detail, const struct strvec *with,
				 const char *human)
{
	char hex[GIT_OID_HEXSZ + 1] = "";
	struct strbuf sb = STRBUF_INIT;

	if (oid)
		ws_oid_hex(oid, hex);
	if (porcelain) {
		porcelain_line(o, id, hex, detail, &sb);
		if (with) {
			struct strbuf ids = STRBUF_INIT;

			strvec_join(&ids, with, " ");
			strbuf_addch(&sb, '\t');
			strbuf_add_sanitized(&sb, ids.buf);
			strbuf_release(&ids);
		}
	} else if (human && *human)
		human_lines(human, &sb);
	else
		return;
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
}
