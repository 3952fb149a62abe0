/* mimestream.h - a GMimeStream that reads a sealed message through the
 * store's reader: seekable, each chunk authenticated before its bytes are
 * returned, memory one chunk whatever the message size.  GMime's parser
 * with a persistent stream keeps parts as substreams of this one, so a
 * part is decoded from the escrow when it is read, never held whole. */
#ifndef PORTAL_MIMESTREAM_H
#define PORTAL_MIMESTREAM_H

#include <gmime/gmime.h>

#include "err.h"

struct store_reader;

/* Takes ownership of r (freed with the last reference to the stream). */
GMimeStream *mimestream_new(struct store_reader *r);
/* 1 when a read failed (a chunk did not authenticate, the database went
 * away): whatever was parsed or sent since must not be trusted.  The
 * reason is in err. */
int mimestream_failed(GMimeStream *s, struct sm_err *err);

/* A write-only stream that hands bytes [skip, skip + limit) of what is
 * written to fn (NULL: only count) and drops the rest, so a serialised
 * message part can be measured, then sent whole or as a range, without
 * ever being held. */
typedef int (*mimesink_fn)(void *ctx, const void *p, size_t n);
GMimeStream *mimesink_new(mimesink_fn fn, void *ctx, gint64 skip, gint64 limit);
/* Bytes written to the sink so far (all of them, not only those passed). */
gint64 mimesink_total(GMimeStream *s);
/* 1 when fn failed (the client went away). */
int mimesink_failed(GMimeStream *s);

#endif
