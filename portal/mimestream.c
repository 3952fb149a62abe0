/* mimestream.c - GMimeStream subclass over store_reader (see the header).
 * Substreams share the top stream's reader and hold a reference to it;
 * each read seeks the reader to the substream's own position first, which
 * is cheap while it stays in the loaded chunk. */
#include <string.h>

#include "mimestream.h"
#include "store.h"

typedef struct _SmStoreStream SmStoreStream;
typedef struct _SmStoreStreamClass SmStoreStreamClass;

struct _SmStoreStream {
	GMimeStream parent;
	SmStoreStream *top;		/* NULL for the top stream itself */
	struct store_reader *r;		/* top stream only */
	int failed;			/* top stream only */
	struct sm_err err;		/* top stream only */
	gboolean eos;
};

struct _SmStoreStreamClass {
	GMimeStreamClass parent_class;
};

static GType sm_store_stream_get_type(void);
G_DEFINE_TYPE(SmStoreStream, sm_store_stream, GMIME_TYPE_STREAM)

#define SM_STORE_STREAM(o) (G_TYPE_CHECK_INSTANCE_CAST((o), \
	sm_store_stream_get_type(), SmStoreStream))

static SmStoreStream *
top_of(SmStoreStream *s)
{
	return s->top != NULL ? s->top : s;
}

static ssize_t
ss_read(GMimeStream *stream, char *buf, size_t len)
{
	SmStoreStream *s = SM_STORE_STREAM(stream), *t = top_of(s);
	size_t got = 0;

	if (t->failed)
		return -1;
	if (stream->bound_end != -1) {
		if (stream->position >= stream->bound_end)
			return -1;
		if ((gint64)len > stream->bound_end - stream->position)
			len = (size_t)(stream->bound_end - stream->position);
	}
	if (len == 0)
		return 0;
	if (store_reader_seek(t->r, (uint64_t)stream->position, &t->err) == -1 ||
	    store_reader_read(t->r, buf, len, &got, &t->err) == -1) {
		t->failed = 1;
		return -1;
	}
	if (got == 0)
		s->eos = TRUE;
	stream->position += (gint64)got;
	return (ssize_t)got;
}

static ssize_t
ss_write(GMimeStream *stream, const char *buf, size_t len)
{
	(void)stream;
	(void)buf;
	(void)len;
	return -1;	/* the escrow is read-only here */
}

static int
ss_flush(GMimeStream *stream)
{
	(void)stream;
	return 0;
}

static int
ss_close(GMimeStream *stream)
{
	(void)stream;
	return 0;
}

static gboolean
ss_eos(GMimeStream *stream)
{
	SmStoreStream *s = SM_STORE_STREAM(stream);
	gint64 end = stream->bound_end != -1 ? stream->bound_end :
	    (gint64)store_reader_size(top_of(s)->r);

	return s->eos || stream->position >= end;
}

static int
ss_reset(GMimeStream *stream)
{
	SM_STORE_STREAM(stream)->eos = FALSE;
	stream->position = stream->bound_start;
	return 0;
}

static gint64
ss_length(GMimeStream *stream)
{
	SmStoreStream *s = SM_STORE_STREAM(stream);
	gint64 end = stream->bound_end != -1 ? stream->bound_end :
	    (gint64)store_reader_size(top_of(s)->r);

	return end - stream->bound_start;
}

static gint64
ss_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
	SmStoreStream *s = SM_STORE_STREAM(stream);
	gint64 end = stream->bound_end != -1 ? stream->bound_end :
	    (gint64)store_reader_size(top_of(s)->r);
	gint64 real;

	switch (whence) {
	case GMIME_STREAM_SEEK_SET:
		real = stream->bound_start + offset;
		break;
	case GMIME_STREAM_SEEK_CUR:
		real = stream->position + offset;
		break;
	case GMIME_STREAM_SEEK_END:
		real = end + offset;
		break;
	default:
		return -1;
	}
	if (real < stream->bound_start || real > end)
		return -1;
	stream->position = real;
	s->eos = real >= end;
	return real;
}

static gint64
ss_tell(GMimeStream *stream)
{
	return stream->position;
}

static GMimeStream *
ss_substream(GMimeStream *stream, gint64 start, gint64 end)
{
	SmStoreStream *s = SM_STORE_STREAM(stream), *sub;

	sub = g_object_new(sm_store_stream_get_type(), NULL);
	sub->top = top_of(s);
	g_object_ref(sub->top);
	g_mime_stream_construct(GMIME_STREAM(sub), start, end);
	return GMIME_STREAM(sub);
}

static void
ss_finalize(GObject *obj)
{
	SmStoreStream *s = SM_STORE_STREAM(obj);

	if (s->top != NULL)
		g_object_unref(s->top);
	else
		store_reader_free(s->r);
	G_OBJECT_CLASS(sm_store_stream_parent_class)->finalize(obj);
}

static void
sm_store_stream_class_init(SmStoreStreamClass *klass)
{
	GMimeStreamClass *sc = GMIME_STREAM_CLASS(klass);
	GObjectClass *oc = G_OBJECT_CLASS(klass);

	oc->finalize = ss_finalize;
	sc->read = ss_read;
	sc->write = ss_write;
	sc->flush = ss_flush;
	sc->close = ss_close;
	sc->eos = ss_eos;
	sc->reset = ss_reset;
	sc->seek = ss_seek;
	sc->tell = ss_tell;
	sc->length = ss_length;
	sc->substream = ss_substream;
}

static void
sm_store_stream_init(SmStoreStream *s)
{
	s->top = NULL;
	s->r = NULL;
	s->failed = 0;
	s->eos = FALSE;
	memset(&s->err, 0, sizeof(s->err));
}

/* --- the sink ---------------------------------------------------------- */

typedef struct _SmSink SmSink;
typedef struct _SmSinkClass SmSinkClass;

struct _SmSink {
	GMimeStream parent;
	mimesink_fn fn;
	void *ctx;
	gint64 skip, limit, total;
	int failed;
};

struct _SmSinkClass {
	GMimeStreamClass parent_class;
};

static GType sm_sink_get_type(void);
G_DEFINE_TYPE(SmSink, sm_sink, GMIME_TYPE_STREAM)

#define SM_SINK(o) (G_TYPE_CHECK_INSTANCE_CAST((o), sm_sink_get_type(), SmSink))

static ssize_t
sink_write(GMimeStream *stream, const char *buf, size_t len)
{
	SmSink *s = SM_SINK(stream);
	gint64 from = s->total, to = s->total + (gint64)len;
	gint64 a = from > s->skip ? from : s->skip;
	gint64 b = s->limit < 0 ? to : (to < s->skip + s->limit ? to : s->skip + s->limit);

	s->total = to;
	stream->position += (gint64)len;
	if (s->fn != NULL && !s->failed && b > a &&
	    s->fn(s->ctx, buf + (a - from), (size_t)(b - a)) == -1)
		s->failed = 1;
	return (ssize_t)len;
}

static ssize_t
sink_read(GMimeStream *stream, char *buf, size_t len)
{
	(void)stream;
	(void)buf;
	(void)len;
	return -1;
}

static int
sink_zero(GMimeStream *stream)
{
	(void)stream;
	return 0;
}

static gboolean
sink_eos(GMimeStream *stream)
{
	(void)stream;
	return TRUE;
}

static gint64
sink_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
	(void)stream;
	(void)offset;
	(void)whence;
	return -1;
}

static gint64
sink_tell(GMimeStream *stream)
{
	return stream->position;
}

static gint64
sink_length(GMimeStream *stream)
{
	return SM_SINK(stream)->total;
}

static GMimeStream *
sink_substream(GMimeStream *stream, gint64 start, gint64 end)
{
	(void)stream;
	(void)start;
	(void)end;
	return NULL;
}

static void
sm_sink_class_init(SmSinkClass *klass)
{
	GMimeStreamClass *sc = GMIME_STREAM_CLASS(klass);

	sc->read = sink_read;
	sc->write = sink_write;
	sc->flush = sink_zero;
	sc->close = sink_zero;
	sc->eos = sink_eos;
	sc->reset = sink_zero;
	sc->seek = sink_seek;
	sc->tell = sink_tell;
	sc->length = sink_length;
	sc->substream = sink_substream;
}

static void
sm_sink_init(SmSink *s)
{
	s->fn = NULL;
	s->ctx = NULL;
	s->skip = 0;
	s->limit = -1;
	s->total = 0;
	s->failed = 0;
}

GMimeStream *
mimesink_new(mimesink_fn fn, void *ctx, gint64 skip, gint64 limit)
{
	SmSink *s = g_object_new(sm_sink_get_type(), NULL);

	s->fn = fn;
	s->ctx = ctx;
	s->skip = skip;
	s->limit = limit;
	g_mime_stream_construct(GMIME_STREAM(s), 0, -1);
	return GMIME_STREAM(s);
}

gint64
mimesink_total(GMimeStream *s)
{
	return SM_SINK(s)->total;
}

int
mimesink_failed(GMimeStream *s)
{
	return SM_SINK(s)->failed;
}

GMimeStream *
mimestream_new(struct store_reader *r)
{
	SmStoreStream *s = g_object_new(sm_store_stream_get_type(), NULL);

	s->r = r;
	g_mime_stream_construct(GMIME_STREAM(s), 0, (gint64)store_reader_size(r));
	return GMIME_STREAM(s);
}

int
mimestream_failed(GMimeStream *stream, struct sm_err *err)
{
	SmStoreStream *t = top_of(SM_STORE_STREAM(stream));

	if (t->failed && err != NULL)
		*err = t->err;
	return t->failed;
}
