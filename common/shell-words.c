#include "compat.h"
#include "shell-words.h"
#include <wordexp.h>

int split_shell_words(const char *s, struct strvec *out, struct strbuf *err)
{
	wordexp_t we;
	size_t i;
	int rc = wordexp(s, &we, WRDE_NOCMD);

	switch (rc) {
	case 0:
		break;
	case WRDE_BADCHAR:
		strbuf_addstr(err, "an unquoted | & ; < > ( ) { } or newline");
		return -1;
	case WRDE_CMDSUB:
		strbuf_addstr(err, "a command substitution (never run)");
		return -1;
	case WRDE_SYNTAX:
		strbuf_addstr(err, "a quote left open or a bad ${...}");
		return -1;
	default:
		strbuf_addf(err, "cannot split it into words (wordexp error %d)", rc);
		if (rc == WRDE_NOSPACE)
			wordfree(&we);
		return -1;
	}
	for (i = 0; i < we.we_wordc; i++)
		strvec_push(out, we.we_wordv[i]);
	wordfree(&we);
	return 0;
}
