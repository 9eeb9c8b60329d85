/*
 * pe_buf.h
 *		The one growable byte buffer of the core and the gateway.
 *
 * Writers append without checking each call: the first failure (an
 * allocation, or the limit) sticks, later writes do nothing, and the
 * writer looks at b->failed once at the end.  The bytes are followed by a
 * NUL once anything was reserved, so text can be handed out as it is.
 *
 * A zeroed PeBuf is ready: with ctx NULL it allocates with the C library
 * and records no error (the gateway's threads have no PeCtx); with a ctx
 * it allocates with ctx's allocator, whose failure fills ctx->err.
 */
#ifndef PE_BUF_H
#define PE_BUF_H

#include "pe_core.h"

typedef struct PeBuf
{
	PeCtx	   *ctx;			/* allocator, or NULL for malloc */
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	size_t		limit;			/* most bytes it may hold; 0: no limit */
	bool		failed;			/* a write failed; later ones do nothing */
	bool		over_limit;		/* ... because of limit (no error recorded) */
} PeBuf;

/* pe_buf_reserve() when the room is not there yet, or a limit applies. */
extern bool pe_buf_grow(PeBuf *b, size_t more);

/*
 * Make room for more bytes (plus the NUL); false once the buffer failed.
 * Inline because encoders reserve before every varint.
 */
static inline bool
pe_buf_reserve(PeBuf *b, size_t more)
{
	if (!b->failed && b->limit == 0 && more < b->cap - b->len)
		return true;
	return pe_buf_grow(b, more);
}

extern bool pe_buf_append(PeBuf *b, const void *s, size_t len);
extern bool pe_buf_puts(PeBuf *b, const char *s);
extern bool pe_buf_printf(PeBuf *b, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
/* Empty the buffer for new writes, keeping its memory; clears a failure. */
extern void pe_buf_reset(PeBuf *b);
/* Free the bytes and zero the buffer (ctx and limit stay). */
extern void pe_buf_free(PeBuf *b);

#endif							/* PE_BUF_H */
