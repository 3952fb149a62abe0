/* parts.h - a sealed message opened for reading: the store reader (which
 * checked the signature), GMime's parse over it, the headers shown and the
 * list of parts.  Parts are numbered 1.. in document order over the leaves
 * of the MIME tree; that number is the N of /m/<token>/part/N. */
#ifndef PORTAL_PARTS_H
#define PORTAL_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "err.h"

struct db;
struct keyring;

#define PARTS_MAX 200
#define PART_NAME_MAX 256

enum part_role {
	PART_TEXT,		/* text/plain shown inline, escaped */
	PART_HTML,		/* text/html shown in a sandboxed iframe */
	PART_ATTACHMENT,	/* listed and downloaded */
};

struct part_info {
	GMimePart *part;	/* owned by the message; NULL for a message part */
	GMimeMessagePart *msgpart;	/* an attached message (message/rfc822) */
	enum part_role role;
	char type[128];		/* "image/png" */
	char name[PART_NAME_MAX];	/* cleaned UTF-8 filename */
	char ascii[PART_NAME_MAX];	/* the same in ASCII for filename= */
	uint64_t approx_size;	/* decoded size, estimated from the encoding */
};

struct mview {
	GMimeStream *stream;
	GMimeMessage *msg;
	char from[1024];
	char to[1024];
	char subject[1024];
	char date[256];
	struct part_info parts[PARTS_MAX];
	size_t nparts;
	int too_many_parts;
};

enum mview_error {
	MVIEW_DB = -1,		/* the database failed: 503 */
	MVIEW_INTEGRITY = -2,	/* signature, chunk or structure: never shown */
	MVIEW_PURGED = -3,
};

/* Opens and parses message_id.  0 or an enum mview_error. */
int mview_open(struct mview **out, struct db *db, const struct keyring *kr,
    const char *message_id, struct sm_err *err);
void mview_free(struct mview *mv);
/* 1-based. */
const struct part_info *mview_part(const struct mview *mv, long n);

/* Writes an attached message (pi->msgpart) as RFC 5322 into sink. */
int mview_msgpart_write(const struct part_info *pi, GMimeStream *sink);
/* A stream of the part's decoded bytes (charset-converted to UTF-8 when
 * to_utf8 and the part is text); unref it after use. */
GMimeStream *mview_part_stream(const struct part_info *pi, int to_utf8);
/* Reads a text part, decoded and in UTF-8 with LF line ends, into out, at
 * most max bytes; *truncated when there was more. */
int mview_part_text(const struct mview *mv, const struct part_info *pi,
    struct buf *out, size_t max, int *truncated, struct sm_err *err);

#endif
