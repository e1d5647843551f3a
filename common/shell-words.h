#ifndef SHELL_WORDS_H
#define SHELL_WORDS_H

#include "compat.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * Words as the shell reads them, without running a shell: the srun
 * runner (runner-srun.c) splits the plan's srun-args into srun's
 * arguments, and plan_read() checks that it can.
 */

/*
 * Split `s` into words as sh(1) would (quotes, backslashes, $VAR and ~
 * expansion; wordexp(3) with WRDE_NOCMD: a command substitution is an
 * error, never run) and append them to `out`. Returns 0, or -1 with the
 * reason in `err` (one line, no "error: "): a command substitution, an
 * unquoted | & ; < > ( ) { } or newline, or a quote left open.
 */
int split_shell_words(const char *s, struct strvec *out, struct strbuf *err);

#endif
