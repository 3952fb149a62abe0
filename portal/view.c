/* view.c - the message after verification.  Each request re-checks the
 * session and the link's state (a retraction applies to an open session
 * at once), opens the message through the store reader (signature and
 * chunks verified) and records what was shown.  Text parts are rendered
 * escaped; HTML parts leave only through /part/N under a sandbox CSP;
 * everything else leaves as an attachment. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "form.h"
#include "log.h"
#include "mimestream.h"
#include "page.h"
#include "parts.h"
#include "router.h"
#include "session.h"
#include "smime.h"
#include "store.h"
#include "view.h"

#define STREAM_CHUNK (64 * 1024)
#define TEXT_SEGMENT 3000	/* < TEMPLATE_VALUE_MAX, on a UTF-8 boundary */
#define TEXT_LINES_MAX 20000	/* over all text parts: 2 vars each, < PAGE_VARS_MAX */

/* The size of an attached message as it will be sent: written once into
 * a counting sink (memory: GMime's buffers, never the message). */
static uint64_t
msgpart_length(const struct part_info *pi)
{
	GMimeStream *sink = mimesink_new(NULL, NULL, 0, -1);
	gint64 n;

	(void)mview_msgpart_write(pi, sink);
	n = mimesink_total(sink);
	g_object_unref(sink);
	return n > 0 ? (uint64_t)n : 0;
}

static int
sink_out(void *ctx, const void *p, size_t n)
{
	return resp_stream_write(ctx, p, n);
}

/* 1 when the session is good; otherwise the response is already set
 * (back to the form, or 503). */
static int
need_session(struct ctx *c)
{
	struct sm_err err;
	char url[256];
	int rc = session_check(c->p, c->r->cookie, c->l.sl.delivery_id, &err);

	if (rc == 1)
		return 1;
	if (rc == -1) {
		ctx_unavailable(c, &err);
		return 0;
	}
	ctx_url(c, "", url, sizeof(url));
	resp_status(c->w, 303);
	resp_header(c->w, "Location", url);
	resp_header(c->w, "Content-Type", "text/plain; charset=utf-8");
	return 0;
}

/* Opens the message; on failure the response is set. */
static struct mview *
open_message(struct ctx *c)
{
	struct mview *mv = NULL;
	struct sm_err err;
	int rc = mview_open(&mv, c->p->db, c->p->kr, c->l.sl.message_id, &err);

	switch (rc) {
	case 0:
		return mv;
	case MVIEW_DB:
		ctx_unavailable(c, &err);
		return NULL;
	case MVIEW_PURGED:
		page_notice(c->p, c->w, 410, "purged", c->lang, &c->b, NULL, NULL);
		return NULL;
	default:
		/* Never show any of it; tell the lab through the trail. */
		log_err("tamper_detected", "msg=%s delivery=%lld reason=\"%s\"",
		    c->l.sl.message_id, c->l.sl.delivery_id, err.msg);
		(void)ctx_event(c, "tamper_detected", "integrity check failed");
		page_notice(c->p, c->w, 500, "damaged", c->lang, &c->b, NULL, NULL);
		return NULL;
	}
}

static void
size_text(uint64_t n, char *out, size_t cap)
{
	if (n >= 1024 * 1024)
		snprintf(out, cap, "%.1f MB", (double)n / (1024.0 * 1024.0));
	else if (n >= 1024)
		snprintf(out, cap, "%.0f kB", (double)n / 1024.0);
	else
		snprintf(out, cap, "%" PRIu64 " B", n);
}

/* Puts text into Parts.i.Lines.*: one value per line (lib/template.c makes
 * control bytes spaces, so the template puts the line breaks back), long
 * lines cut into segments on UTF-8 boundaries. */
static int
set_text(struct page_vars *pv, size_t i, const char *t, size_t n,
    size_t *budget, int *truncated)
{
	size_t pos = 0, seg = 0;
	char piece[TEXT_SEGMENT + 1];

	while (pos < n) {
		/* Every line is two variables: text of very many short lines
		 * is cut here, like text over portal.inline_text_max. */
		if (*budget == 0) {
			*truncated = 1;
			break;
		}
		(*budget)--;
		const char *nl = memchr(t + pos, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - (t + pos)) : n - pos;
		int brk = 1;

		if (len > TEXT_SEGMENT) {
			len = TEXT_SEGMENT;
			while (len > 0 && ((unsigned char)t[pos + len] & 0xc0) == 0x80)
				len--;
			brk = 0;
		}
		memcpy(piece, t + pos, len);
		piece[len] = '\0';
		if (page_setn(pv, piece, "Parts.%zu.Lines.%zu", i, seg) == -1 ||
		    (brk && page_setn(pv, "1", "Parts.%zu.Lines.%zu.Br", i, seg) == -1))
			return -1;
		seg++;
		pos += len + (brk && nl ? 1 : 0);
	}
	return 0;
}

void
view_page(struct ctx *c)
{
	struct portal *p = c->p;
	struct mview *mv = NULL;
	struct page_vars pv;
	struct buf text;
	struct sm_err err;
	size_t i, max = (size_t)config_int(p->cf, "portal.inline_text_max");
	size_t lines = TEXT_LINES_MAX;
	char url[256], sz[32];
	static const char first_open[] = "UPDATE deliveries SET first_opened ="
	    " COALESCE(first_opened, ?) WHERE id = ?";
	struct db_val args[2];

	page_vars_init(&pv);
	buf_init(&text, max + 1);
	if (!need_session(c))
		goto out;
	if ((mv = open_message(c)) == NULL)
		goto out;
	page_set(&pv, "Msg.From", mv->from);
	page_set(&pv, "Msg.To", mv->to);
	page_set(&pv, "Msg.Subject", mv->subject);
	page_set(&pv, "Msg.Date", mv->date);
	ctx_url(c, "/eml", url, sizeof(url));
	page_set(&pv, "Msg.EmlUrl", url);
	for (i = 0; i < mv->nparts; i++) {
		const struct part_info *pi = &mv->parts[i];
		int truncated = 0;

		page_setn(&pv, pi->role == PART_TEXT ? "text" : pi->role == PART_HTML ?
		    "html" : "attachment", "Parts.%zu.Role", i);
		page_setn(&pv, pi->name, "Parts.%zu.Name", i);
		page_setn(&pv, pi->type, "Parts.%zu.Type", i);
		size_text(pi->msgpart != NULL ? msgpart_length(pi) : pi->approx_size,
		    sz, sizeof(sz));
		page_setn(&pv, sz, "Parts.%zu.Size", i);
		snprintf(url, sizeof(url), "/part/%zu", i + 1);
		{
			char full[300];

			ctx_url(c, url, full, sizeof(full));
			page_setn(&pv, full, "Parts.%zu.Url", i);
			snprintf(url, sizeof(url), "/part/%zu?download=1", i + 1);
			ctx_url(c, url, full, sizeof(full));
			page_setn(&pv, full, "Parts.%zu.DownloadUrl", i);
		}
		if (pi->role != PART_TEXT)
			continue;
		buf_reset(&text);
		if (mview_part_text(mv, pi, &text, max, &truncated, &err) == -1) {
			mview_free(mv);
			mv = NULL;
			log_err("tamper_detected", "msg=%s reason=\"%s\"",
			    c->l.sl.message_id, err.msg);
			(void)ctx_event(c, "tamper_detected", "integrity check failed");
			page_notice(p, c->w, 500, "damaged", c->lang, &c->b, NULL, NULL);
			goto out;
		}
		/* Trailing blank lines are the transport's, not the lab's. */
		while (text.len > 0 && (text.p[text.len - 1] == '\n' ||
		    text.p[text.len - 1] == ' '))
			text.len--;
		if (set_text(&pv, i, text.p ? text.p : "", text.len, &lines,
		    &truncated) == -1)
			break;
		if (truncated)
			page_setn(&pv, "1", "Parts.%zu.Truncated", i);
	}
	if (mv->too_many_parts)
		page_set(&pv, "Msg.TooManyParts", "1");
	for (i = 0; i < mv->nparts; i++)
		if (mv->parts[i].role == PART_ATTACHMENT)
			page_set(&pv, "Msg.HasAttachments", "1");
	/* The open the lab sees.  No audit row, no page: fail closed. */
	if (ctx_event(c, "viewed", NULL) == -1) {
		ctx_unavailable(c, NULL);
		goto out;
	}
	args[0] = DB_I(p->now);
	args[1] = DB_I(c->l.sl.delivery_id);
	if (db_exec(p->db, first_open, args, 2, NULL, NULL, &err) == -1)
		log_err("first_open_failed", "delivery=%lld reason=\"%s\"",
		    c->l.sl.delivery_id, err.msg);
	log_event("viewed", "msg=%s delivery=%lld", c->l.sl.message_id,
	    c->l.sl.delivery_id);
	page_set(&pv, "Page.Title", page_text_set(p->pages, c->b.template_set,
	    c->lang, "View.Heading"));
	snprintf(url, sizeof(url), "%s/view", c->base);
	page_render(p, c->w, 200, PAGE_VIEW, c->lang, &c->b, url, &pv);
out:
	buf_free(&text);
	page_vars_free(&pv);
	mview_free(mv);
}

/* Content-Disposition with a sanitised name: filename= for old clients,
 * filename*= (RFC 6266 / 5987) for the UTF-8 original. */
static void
disposition(struct ctx *c, const char *kind, const char *name, const char *ascii)
{
	char ext[PART_NAME_MAX * 3 + 16];

	if (filename_ext(name, ext, sizeof(ext)) == -1)
		snprintf(ext, sizeof(ext), "UTF-8''download");
	resp_headerf(c->w, "Content-Disposition", "%s; filename=\"%s\"; filename*=%s",
	    kind, ascii[0] ? ascii : "download", ext);
}

/* Reads and discards n bytes of s (a decoded part: no seeking there). */
static int
skip(GMimeStream *s, uint64_t n)
{
	char buf[STREAM_CHUNK];

	while (n > 0) {
		ssize_t got = g_mime_stream_read(s, buf, n > sizeof(buf) ? sizeof(buf) : (size_t)n);

		if (got <= 0)
			return -1;
		n -= (uint64_t)got;
	}
	return 0;
}

/* Decoded length of a part, by decoding it once (memory: one buffer). */
static int64_t
decoded_length(const struct part_info *pi, int to_utf8)
{
	GMimeStream *s = mview_part_stream(pi, to_utf8);
	char buf[STREAM_CHUNK];
	int64_t total = 0;
	ssize_t n;

	while ((n = g_mime_stream_read(s, buf, sizeof(buf))) > 0)
		total += n;
	g_object_unref(s);
	return total;
}

/* Sets 206 and Content-Range when the request has a usable Range.  1 a
 * range, 0 the whole, -1 unsatisfiable (the 416 response is set). */
static int
apply_range(struct ctx *c, uint64_t size, uint64_t *start, uint64_t *len)
{
	uint64_t a, b;
	int rc = range_parse(c->r->range, size, &a, &b);

	resp_header(c->w, "Accept-Ranges", "bytes");
	if (rc == 0) {
		*start = 0;
		*len = size;
		return 0;
	}
	if (rc == -1) {
		resp_status(c->w, 416);
		resp_headerf(c->w, "Content-Range", "bytes */%" PRIu64, size);
		resp_header(c->w, "Content-Length", "0");
		return -1;
	}
	resp_status(c->w, 206);
	resp_headerf(c->w, "Content-Range", "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
	    a, b, size);
	*start = a;
	*len = b - a + 1;
	return 1;
}

static void
event_download(struct ctx *c, const char *what, int ranged, uint64_t start,
    uint64_t len, int *ok)
{
	char detail[128];

	if (ranged)
		snprintf(detail, sizeof(detail), "%s range=%" PRIu64 "-%" PRIu64,
		    what, start, start + len - 1);
	else
		snprintf(detail, sizeof(detail), "%s whole", what);
	*ok = ctx_event(c, "downloaded", detail) == 0;
}

/* Streams len bytes of s from the current position; the response has its
 * headers set.  A failure after the headers went out can only cut the
 * body short, which the Content-Length makes visible to the client. */
static void
stream_out(struct ctx *c, struct mview *mv, GMimeStream *s, uint64_t len)
{
	char *buf = malloc(STREAM_CHUNK);
	struct sm_err err;

	if (buf == NULL || resp_stream_begin(c->w) == -1)
		goto out;
	while (len > 0) {
		ssize_t n = g_mime_stream_read(s, buf, len > STREAM_CHUNK ?
		    STREAM_CHUNK : (size_t)len);

		if (n <= 0)
			break;
		if (resp_stream_write(c->w, buf, (size_t)n) == -1)
			break;
		len -= (uint64_t)n;
	}
	if (mv != NULL && mimestream_failed(mv->stream, &err))
		log_err("tamper_detected", "msg=%s reason=\"%s\"",
		    c->l.sl.message_id, err.msg);
	else if (len > 0)
		log_warn("download_cut", "msg=%s left=%" PRIu64, c->l.sl.message_id, len);
out:
	free(buf);
}

/* An attached message: serialised by GMime from the parsed tree straight
 * into the response, as message/rfc822 in an attachment. */
static void
view_msgpart(struct ctx *c, struct mview *mv, const struct part_info *pi, long n)
{
	GMimeStream *sink;
	uint64_t size = msgpart_length(pi), start = 0, len = 0;
	char what[32];
	int ranged, ok;

	if (mimestream_failed(mv->stream, NULL)) {
		(void)ctx_event(c, "tamper_detected", "integrity check failed");
		page_notice(c->p, c->w, 500, "damaged", c->lang, &c->b, NULL, NULL);
		return;
	}
	resp_header(c->w, "Content-Type", "application/octet-stream");
	disposition(c, "attachment", pi->name, pi->ascii);
	ranged = apply_range(c, size, &start, &len);
	if (ranged == -1) {
		(void)resp_stream_begin(c->w);
		return;
	}
	snprintf(what, sizeof(what), "part=%ld", n);
	event_download(c, what, ranged == 1, start, len, &ok);
	if (!ok) {
		resp_reset(c->w);
		ctx_unavailable(c, NULL);
		return;
	}
	resp_headerf(c->w, "Content-Length", "%" PRIu64, len);
	if (resp_stream_begin(c->w) == -1)
		return;
	sink = mimesink_new(sink_out, c->w, (gint64)start, (gint64)len);
	if (mview_msgpart_write(pi, sink) == -1 || mimesink_failed(sink))
		log_warn("download_cut", "msg=%s part=%ld", c->l.sl.message_id, n);
	g_object_unref(sink);
}

void
view_part(struct ctx *c, long n)
{
	struct mview *mv = NULL;
	const struct part_info *pi;
	GMimeStream *s = NULL;
	uint64_t start = 0, len = 0;
	int64_t size;
	int inline_html, ranged, ok;
	char what[32];

	if (!need_session(c))
		goto out;
	if ((mv = open_message(c)) == NULL)
		goto out;
	if ((pi = mview_part(mv, n)) == NULL) {
		page_notice(c->p, c->w, 404, "notfound", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	if (pi->msgpart != NULL) {
		view_msgpart(c, mv, pi, n);
		goto out;
	}
	/* An HTML part is shown only in the sandbox; ?download=1 and every
	 * other part are attachments, never rendered by the browser. */
	inline_html = pi->role == PART_HTML && strstr(c->r->query, "download=1") == NULL;
	size = decoded_length(pi, inline_html);
	if (mimestream_failed(mv->stream, NULL)) {
		mview_free(mv);
		mv = NULL;
		(void)ctx_event(c, "tamper_detected", "integrity check failed");
		page_notice(c->p, c->w, 500, "damaged", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	if (inline_html) {
		resp_csp(c->w, CSP_SANDBOX);
		resp_header(c->w, "Content-Type", "text/html; charset=utf-8");
		disposition(c, "inline", pi->name, pi->ascii);
		start = 0;
		len = (uint64_t)size;
		ranged = 0;
	} else {
		resp_header(c->w, "Content-Type", "application/octet-stream");
		disposition(c, "attachment", pi->name, pi->ascii);
		ranged = apply_range(c, (uint64_t)size, &start, &len);
		if (ranged == -1) {
			(void)resp_stream_begin(c->w);
			goto out;
		}
	}
	snprintf(what, sizeof(what), "part=%ld", n);
	event_download(c, what, ranged == 1, start, len, &ok);
	if (!ok) {
		resp_reset(c->w);
		ctx_unavailable(c, NULL);
		goto out;
	}
	resp_headerf(c->w, "Content-Length", "%" PRIu64, len);
	s = mview_part_stream(pi, inline_html);
	if (skip(s, start) == -1) {
		resp_reset(c->w);
		page_notice(c->p, c->w, 500, "error", c->lang, &c->b, NULL, NULL);
		goto out;
	}
	stream_out(c, mv, s, len);
out:
	if (s != NULL)
		g_object_unref(s);
	mview_free(mv);
}

static int
eml_read(void *ctx, void *buf, size_t cap, size_t *got)
{
	struct sm_err err;

	if (store_reader_read(ctx, buf, cap, got, &err) == -1) {
		log_err("tamper_detected", "reason=\"%s\"", err.msg);
		return -1;
	}
	return 0;
}

static int
eml_write(void *ctx, const void *p, size_t n)
{
	return resp_stream_write(ctx, p, n);
}

/* The original as an S/MIME signed message when the lab has a signing
 * certificate: 1 sent (or cut short), 0 the lab has none, -1 an error
 * before anything was sent (the response is set). */
static int
eml_signed(struct ctx *c, struct store_reader *r)
{
	struct smime_signer *s = NULL;
	struct sm_err err;
	int rc;

	rc = smime_signer_load(&s, config_str(c->p->cf, "portal.smime_dir"),
	    c->b.key, &err);
	if (rc == 0)
		return 0;
	if (rc == -1) {
		log_err("smime_unusable", "lab=%lld reason=\"%s\"", c->b.lab_id, err.msg);
		page_notice(c->p, c->w, 500, "error", c->lang, &c->b, NULL, NULL);
		return -1;
	}
	/* Signed content has no length known in advance: no ranges. */
	resp_header(c->w, "Content-Type", "message/rfc822");
	disposition(c, "attachment", "message.eml", "message.eml");
	if (ctx_event(c, "downloaded", "eml whole signed") == -1) {
		resp_reset(c->w);
		ctx_unavailable(c, NULL);
		smime_signer_free(s);
		return -1;
	}
	if (resp_stream_begin(c->w) == 0 &&
	    smime_sign_stream(s, eml_read, r, eml_write, c->w, &err) == -1)
		log_err("smime_failed", "msg=%s reason=\"%s\"", c->l.sl.message_id, err.msg);
	smime_signer_free(s);
	return 1;
}

void
view_eml(struct ctx *c)
{
	struct store_reader *r = NULL;
	struct sm_err err;
	uint64_t start = 0, len = 0, size;
	char *buf = NULL;
	int ranged, ok;

	if (!need_session(c))
		goto out;
	/* The signature is checked here as for the view; each chunk is
	 * authenticated by store_reader_read before any of it is sent. */
	if (store_reader_open(&r, c->p->db, c->p->kr, c->l.sl.message_id, &err) == -1) {
		struct mview *mv = open_message(c);	/* sets the right page */

		mview_free(mv);
		goto out;
	}
	if (eml_signed(c, r) != 0)
		goto out;
	size = store_reader_size(r);
	resp_header(c->w, "Content-Type", "application/octet-stream");
	disposition(c, "attachment", "message.eml", "message.eml");
	ranged = apply_range(c, size, &start, &len);
	if (ranged == -1) {
		(void)resp_stream_begin(c->w);
		goto out;
	}
	event_download(c, "eml", ranged == 1, start, len, &ok);
	if (!ok) {
		resp_reset(c->w);
		ctx_unavailable(c, NULL);
		goto out;
	}
	resp_headerf(c->w, "Content-Length", "%" PRIu64, len);
	buf = malloc(STREAM_CHUNK);
	if (buf == NULL || store_reader_seek(r, start, &err) == -1 ||
	    resp_stream_begin(c->w) == -1)
		goto out;
	while (len > 0) {
		size_t got = 0;

		if (store_reader_read(r, buf, len > STREAM_CHUNK ? STREAM_CHUNK :
		    (size_t)len, &got, &err) == -1) {
			log_err("tamper_detected", "msg=%s reason=\"%s\"",
			    c->l.sl.message_id, err.msg);
			break;
		}
		if (got == 0 || resp_stream_write(c->w, buf, got) == -1)
			break;
		len -= got;
	}
out:
	free(buf);
	store_reader_free(r);
}
