#include "compat.h"
#include "dispatch-screen.h"
#include "strbuf.h"
#include "wrapper.h"

void ws_add_field(struct strbuf *sb, const char *s)
{
	size_t start = sb->len, i;

	strbuf_add_sanitized(sb, s);
	for (i = start; i < sb->len; i++)
		if (sb->buf[i] == '\t')
			sb->buf[i] = ' ';
}

void ws_format_elapsed(struct strbuf *sb, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (s >= 3600)
		strbuf_addf(sb, "%lu:%02lu:%02lu", (unsigned long)(s / 3600),
			    (unsigned long)(s / 60 % 60), (unsigned long)(s % 60));
	else
		strbuf_addf(sb, "%lu:%02lu", (unsigned long)(s / 60),
			    (unsigned long)(s % 60));
}

/* The live block on a terminal: one line per running job, then counts. */
static void draw_progress(struct ws_screen *scr, const struct ws_dispatch *d,
			  struct strbuf *out)
{
	size_t done, failed, running, queued, i;
	uint64_t now = monotonic_ms();

	ws_dispatch_counts(d, &done, &failed, &running, &queued);
	scr->drawn = 0;
	for (i = 0; i < d->nr; i++) {
		const struct ws_job *job = d->jobs[i];
		const char *title = d->plan->ws[job->idx].title;
		struct strbuf t = STRBUF_INIT;

		if (job->phase != WS_JOB_RUNNING)
			continue;
		strbuf_addf(out, "  %-14s ", job->id);
		ws_format_elapsed(out, now - job->started_ms);
		if (job->tries > 1)
			strbuf_addf(out, "  attempt %d", job->tries);
		strbuf_add_sanitized(&t, title ? title : "");
		if (t.len > 40) {
			strbuf_setlen(&t, 37);
			strbuf_addstr(&t, "...");
		}
		strbuf_addf(out, "  %s\033[K\n", t.buf);
		strbuf_release(&t);
		scr->drawn++;
	}
	strbuf_addf(out, "%zu/%zu done", done, d->nr);
	if (failed)
		strbuf_addf(out, ", %zu failed", failed);
	strbuf_addf(out, ", %zu running, %zu queued", running, queued);
	if (scr->show_conflicts)
		strbuf_addf(out, ", %zu conflict%s", scr->conflicts,
			    scr->conflicts == 1 ? "" : "s");
	strbuf_addstr(out, "\033[K\n");
	scr->drawn++;
}

/* Erase the live progress block, so that a line can be printed in its place. */
void ws_screen_clear(struct ws_screen *scr)
{
	if (scr->tty && scr->drawn) {
		fprintf(stderr, "\033[%dA\r\033[J", scr->drawn);
		scr->drawn = 0;
	}
}

static void event_line(struct ws_job *job,
		       enum ws_dispatch_event ev, struct strbuf *out)
{
	struct strbuf el = STRBUF_INIT;

	ws_format_elapsed(&el, job->ended_ms - job->started_ms);
	switch (ev) {
	case WS_EV_START:
		strbuf_addf(out, "%s: started (attempt %d, pid %ld)", job->id,
			    job->attempts, (long)job->pid);
		if (job->prepare_note && job->tries == 1)
			strbuf_addf(out, "; %s", job->prepare_note);
		break;
	case WS_EV_RETRY:
		strbuf_addf(out, "%s: %s; retrying", job->id, job->result);
		break;
	case WS_EV_DONE:
		strbuf_addf(out, "%s: done (%s, %s)", job->id, job->result, el.buf);
		break;
	case WS_EV_FAILED:
		strbuf_addf(out, "%s: failed: %s", job->id,
			    job->reason ? job->reason : job->result);
		break;
	case WS_EV_SKIPPED:
		strbuf_addf(out, "%s: %s", job->id, job->result);
		break;
	case WS_EV_TICK:
		break;
	}
	strbuf_release(&el);
}

void ws_screen_event(struct ws_screen *scr, struct ws_dispatch *d,
		     struct ws_job *job, enum ws_dispatch_event ev)
{	struct strbuf line = STRBUF_INIT, out = STRBUF_INIT;

	if (job)
		event_line(job, ev, &line);
	if (!scr->tty) {
		if (line.len) {
			strbuf_add_sanitized(&out, line.buf);
			strbuf_addch(&out, '\n');
		}
	} else {
		if (scr->drawn)
			strbuf_addf(&out, "\033[%dA\r\033[J", scr->drawn);
		if (line.len && (ev != WS_EV_START || job->prepare_note)) {
			strbuf_add_sanitized(&out, line.buf);
			strbuf_addstr(&out, "\033[K\n");
		}
		draw_progress(scr, d, &out);
	}
	if (out.len)
		write_in_full(2, out.buf, out.len);
	strbuf_release(&line);
	strbuf_release(&out);
}

void ws_screen_summary(struct ws_screen *scr, const struct ws_dispatch *d,
		       int porcelain)
{
	size_t done, failed, running, queued, i;
	struct strbuf sb = STRBUF_INIT;

	ws_screen_clear(scr);
	ws_dispatch_counts(d, &done, &failed, &running, &queued);
	for (i = 0; i < d->nr; i++) {
		const struct ws_job *job = d->jobs[i];
		const char *what = job->ok ? ws_status_name(WS_STATUS_DONE) :
				   job->skipped ? "not-started" :
				   ws_status_name(WS_STATUS_FAILED);
		const char *why = job->ok || !job->reason ? job->result : job->reason;

		strbuf_reset(&sb);
		if (porcelain) {
			strbuf_addf(&sb, "dispatched\t%s\t%s\t%d\t", job->id, what,
				    job->tries);
			ws_add_field(&sb, why ? why : "");
		} else {
			strbuf_addf(&sb, "  %-14s %-11s ", job->id, what);
			if (job->tries) {
				ws_format_elapsed(&sb, job->ended_ms - job->started_ms);
				strbuf_addstr(&sb, "  ");
			}
			strbuf_add_sanitized(&sb, why ? why : "");
		}
		printf("%s\n", sb.buf);
	}
	if (!porcelain)
		printf("%zu workstream%s dispatched: %zu done, %zu failed%s\n",
		       d->nr, d->nr == 1 ? "" : "s", done, failed,
		       d->interrupted ? " (interrupted)" : "");
	strbuf_release(&sb);
}
