/* parts.c - opening a sealed message for the view.  Nothing leaves here
 * unless the signature checked and every chunk the parser read
 * authenticated: GMime reads the whole message once to find the part
 * boundaries, so a tampered chunk anywhere fails mview_open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "form.h"
#include "mimestream.h"
#include "parts.h"
#include "store.h"

static void
clean_text(const char *in, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; in != NULL && in[i] != '\0' && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	/* Do not end inside a UTF-8 sequence cut by the bound. */
	while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
		o--;
	if (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
		o--;
	out[o] = '\0';
}

static uint64_t
approx_size(GMimePart *part)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *s;
	gint64 len;

	if (dw == NULL || (s = g_mime_data_wrapper_get_stream(dw)) == NULL)
		return 0;
	len = g_mime_stream_length(s);
	if (len < 0)
		return 0;
	switch (g_mime_data_wrapper_get_encoding(dw)) {
	case GMIME_CONTENT_ENCODING_BASE64:
		/* 76 characters and CRLF per line, 3 bytes per 4 characters */
		return (uint64_t)len * 76 / 78 * 3 / 4;
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
		return (uint64_t)len * 9 / 10;
	default:
		return (uint64_t)len;
	}
}

static void
add_message_part(struct mview *mv, GMimeObject *obj)
{
	struct part_info *pi = &mv->parts[mv->nparts];
	const char *fn = g_mime_object_get_content_disposition_parameter(obj, "filename");
	char dflt[64];

	memset(pi, 0, sizeof(*pi));
	pi->msgpart = GMIME_MESSAGE_PART(obj);
	pi->role = PART_ATTACHMENT;
	snprintf(pi->type, sizeof(pi->type), "%s", "message/rfc822");
	snprintf(dflt, sizeof(dflt), "message-%zu.eml", mv->nparts + 1);
	filename_clean(fn != NULL ? fn : dflt, pi->name, sizeof(pi->name),
	    pi->ascii, sizeof(pi->ascii));
	pi->approx_size = 0;	/* known only by writing it out */
	mv->nparts++;
}

static void
add_part(struct mview *mv, GMimeObject *obj)
{
	struct part_info *pi;
	GMimeContentType *ct;
	const char *fn, *disp;
	char *mt;
	int attach;

	if (mv->nparts >= PARTS_MAX) {
		mv->too_many_parts = 1;
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		add_message_part(mv, obj);
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	pi = &mv->parts[mv->nparts];
	memset(pi, 0, sizeof(*pi));
	pi->part = GMIME_PART(obj);
	ct = g_mime_object_get_content_type(obj);
	mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	clean_text(mt ? mt : "application/octet-stream", pi->type, sizeof(pi->type));
	g_free(mt);
	for (char *c = pi->type; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	disp = g_mime_object_get_disposition(obj);
	attach = disp != NULL && g_ascii_strcasecmp(disp, "attachment") == 0;
	fn = g_mime_part_get_filename(pi->part);
	if (!attach && fn == NULL && strcmp(pi->type, "text/plain") == 0)
		pi->role = PART_TEXT;
	else if (!attach && fn == NULL && strcmp(pi->type, "text/html") == 0)
		pi->role = PART_HTML;
	else
		pi->role = PART_ATTACHMENT;
	if (fn != NULL)
		filename_clean(fn, pi->name, sizeof(pi->name), pi->ascii,
		    sizeof(pi->ascii));
	else {
		char dflt[64];
		const char *ext = strcmp(pi->type, "text/html") == 0 ? ".html" :
		    strncmp(pi->type, "text/", 5) == 0 ? ".txt" : ".bin";

		snprintf(dflt, sizeof(dflt), "part-%zu%s", mv->nparts + 1, ext);
		filename_clean(dflt, pi->name, sizeof(pi->name), pi->ascii,
		    sizeof(pi->ascii));
	}
	pi->approx_size = approx_size(pi->part);
	mv->nparts++;
}

/* Leaves of the MIME tree in document order.  An attached message is a
 * leaf: its own parts are its business, downloaded with it. */
static void
walk(struct mview *mv, GMimeObject *obj, int depth)
{
	int i, n;

	if (!GMIME_IS_MULTIPART(obj)) {
		add_part(mv, obj);
		return;
	}
	if (depth > 32) {
		mv->too_many_parts = 1;
		return;
	}
	n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
	for (i = 0; i < n; i++)
		walk(mv, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), depth + 1);
}

int
mview_msgpart_write(const struct part_info *pi, GMimeStream *sink)
{
	GMimeMessage *m = g_mime_message_part_get_message(pi->msgpart);

	if (m == NULL)
		return 0;
	return g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, sink) == -1 ? -1 : 0;
}

/* Tells a database failure from an integrity failure: if the database
 * still answers, the message itself is at fault. */
static int
db_alive(struct db *db, const char *message_id)
{
	static const char sql[] = "SELECT 1 FROM messages WHERE id = ?";
	struct db_val arg = DB_S(message_id);
	long long one;
	struct db_col c = DB_COL_I(&one);
	struct sm_err ignored;

	return db_query_row(db, sql, &arg, 1, &c, 1, &ignored) == 1;
}

int
mview_open(struct mview **out, struct db *db, const struct keyring *kr,
    const char *message_id, struct sm_err *err)
{
	struct store_reader *r = NULL;
	struct mview *mv = NULL;
	GMimeParser *parser = NULL;
	InternetAddressList *al;
	const char *s;
	char *t;
	int ret = MVIEW_INTEGRITY;

	if (store_reader_open(&r, db, kr, message_id, err) == -1) {
		if (strstr(err->msg, "purged") != NULL)
			return MVIEW_PURGED;
		return db_alive(db, message_id) ? MVIEW_INTEGRITY : MVIEW_DB;
	}
	mv = calloc(1, sizeof(*mv));
	if (mv == NULL) {
		store_reader_free(r);
		sm_err_set(err, "out of memory");
		return MVIEW_DB;
	}
	mv->stream = mimestream_new(r);
	parser = g_mime_parser_new_with_stream(mv->stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	mv->msg = g_mime_parser_construct_message(parser, NULL);
	if (mimestream_failed(mv->stream, err))
		goto out;
	if (mv->msg == NULL) {
		sm_err_set(err, "message %s: not a MIME message", message_id);
		goto out;
	}
	/* The parser stops at the end of the message: make sure that was
	 * the end of the stream and that every chunk authenticated. */
	if (!g_mime_stream_eos(mv->stream) && g_mime_parser_eos(parser) == FALSE) {
		sm_err_set(err, "message %s: trailing data after the message", message_id);
		goto out;
	}
	al = g_mime_message_get_from(mv->msg);
	t = al ? internet_address_list_to_string(al, NULL, FALSE) : NULL;
	clean_text(t, mv->from, sizeof(mv->from));
	g_free(t);
	al = g_mime_message_get_to(mv->msg);
	t = al ? internet_address_list_to_string(al, NULL, FALSE) : NULL;
	clean_text(t, mv->to, sizeof(mv->to));
	g_free(t);
	clean_text(g_mime_message_get_subject(mv->msg), mv->subject, sizeof(mv->subject));
	s = g_mime_object_get_header(GMIME_OBJECT(mv->msg), "Date");
	clean_text(s, mv->date, sizeof(mv->date));
	if (g_mime_message_get_mime_part(mv->msg) != NULL)
		walk(mv, g_mime_message_get_mime_part(mv->msg), 0);
	if (mimestream_failed(mv->stream, err))
		goto out;
	*out = mv;
	mv = NULL;
	ret = 0;
out:
	if (parser != NULL)
		g_object_unref(parser);
	mview_free(mv);
	return ret;
}

void
mview_free(struct mview *mv)
{
	if (mv == NULL)
		return;
	if (mv->msg != NULL)
		g_object_unref(mv->msg);
	if (mv->stream != NULL)
		g_object_unref(mv->stream);
	free(mv);
}

const struct part_info *
mview_part(const struct mview *mv, long n)
{
	if (n < 1 || (size_t)n > mv->nparts)
		return NULL;
	return &mv->parts[n - 1];
}

GMimeStream *
mview_part_stream(const struct part_info *pi, int to_utf8)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(pi->part);
	GMimeStream *src, *f;
	GMimeContentEncoding enc;

	/* No content, or a stream that cannot be rewound: nothing to send
	 * rather than something from the wrong place. */
	if (dw == NULL || (src = g_mime_data_wrapper_get_stream(dw)) == NULL ||
	    g_mime_stream_reset(src) == -1)
		return g_mime_stream_mem_new();
	f = g_mime_stream_filter_new(src);
	enc = g_mime_data_wrapper_get_encoding(dw);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *dec = g_mime_filter_basic_new(enc, FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), dec);
		g_object_unref(dec);
	}
	if (to_utf8 && strncmp(pi->type, "text/", 5) == 0) {
		const char *cs = g_mime_object_get_content_type_parameter(
		    GMIME_OBJECT(pi->part), "charset");

		if (cs != NULL && g_ascii_strcasecmp(cs, "utf-8") != 0 &&
		    g_ascii_strcasecmp(cs, "us-ascii") != 0) {
			GMimeFilter *cf = g_mime_filter_charset_new(cs, "utf-8");

			if (cf != NULL) {
				g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), cf);
				g_object_unref(cf);
			}
		}
	}
	return f;
}

int
mview_part_text(const struct mview *mv, const struct part_info *pi,
    struct buf *out, size_t max, int *truncated, struct sm_err *err)
{
	GMimeStream *f = mview_part_stream(pi, 1);
	GMimeFilter *d2u = g_mime_filter_dos2unix_new(FALSE);
	char chunk[8192];
	int ret = -1;

	g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), d2u);
	g_object_unref(d2u);
	*truncated = 0;
	for (;;) {
		ssize_t n = g_mime_stream_read(f, chunk, sizeof(chunk));

		if (n < 0) {
			if (mimestream_failed(mv->stream, err))
				goto out;
			break;	/* end of a bounded substream */
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			(void)buf_append(out, chunk, max - out->len);
			*truncated = 1;
			break;
		}
		if (buf_append(out, chunk, (size_t)n) == -1) {
			sm_err_set(err, "text part too large");
			goto out;
		}
	}
	ret = 0;
out:
	g_object_unref(f);
	return ret;
}
