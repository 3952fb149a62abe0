/* buf.h - a growing byte buffer with a hard cap.
 * Used wherever the size of text is not known in advance; it refuses to grow
 * past its cap instead of trusting its input. */
#ifndef SM_BUF_H
#define SM_BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
/* -1 if the result would exceed max or memory is short; b is unchanged then. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* NUL-terminated view of the contents (the NUL is not counted in len). */
const char *buf_cstr(struct buf *b);
void buf_reset(struct buf *b);
/* Wipes and frees; safe on a zeroed or already freed buf. */
void buf_free(struct buf *b);

#endif
