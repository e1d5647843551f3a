/*
 * libFuzzer target for the plan parser and validator: plan_read_buf()
 * (common/plan.c, on top of common/cfgfile.c and inih) on arbitrary bytes.
 *
 * The parser must return 0 or -1 with a "<name>:<line>: ..." message; it
 * must never crash, die() (libFuzzer reports an exit() as a crash) or
 * leak. A plan that is accepted must also survive plan_format() and read
 * back from the normalised text, as .git/ws/plan is.
 *
 * The input is passed as exactly `size` bytes with nothing after them, as
 * the header's "a buffer of `len` bytes" allows, so that AddressSanitizer
 * sees any read past its end.
 */
#include "compat.h"
#include "cfgfile.h"
#include "plan.h"
#include "strbuf.h"
#include <git2.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	git_libgit2_init();
	return 0;
}

static void check_accepted(const struct plan *p)
{
	struct plan again = PLAN_INIT;
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	size_t i;

	if (!p->nr || !p->order || !p->by_id || !p->name)
		abort();
	for (i = 0; i < p->nr; i++) {
		if (!p->ws[i].id || !p->ws[i].title || !p->ws[i].branch ||
		    plan_find(p, p->ws[i].id) != (ssize_t)i)
			abort();
		if (p->order[i] >= p->nr)
			abort();
	}
	/* the normalised plan must read back: git ws-status relies on it */
	plan_format(p, &text);
	if (plan_read_buf(&again, "normalised", text.buf, text.len,
			  "feature/", &err) < 0) {
		fprintf(stderr, "normalised plan does not read back: %s\n---\n%s---\n",
			err.buf, text.buf);
		abort();
	}
	if (again.nr != p->nr)
		abort();
	plan_release(&again);
	strbuf_release(&text);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan p = PLAN_INIT;
	struct strbuf err = STRBUF_INIT;
	char *buf = NULL;

	/* inputs above CFG_MAX_LINE are covered by the test suite */
	if (size > 4 * CFG_MAX_LINE)
		return 0;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	if (plan_read_buf(&p, "fuzz.plan", buf, size, "feature/", &err) < 0) {
		/* every refusal names file and line */
		if (strncmp(err.buf, "fuzz.plan:", 10))
			abort();
	} else {
		check_accepted(&p);
		plan_release(&p);
	}
	strbuf_release(&err);
	free(buf);
	return 0;
}
