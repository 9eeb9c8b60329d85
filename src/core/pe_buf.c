/*
 * pe_buf.c
 *		The one growable byte buffer (see pe_buf.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pe_buf.h"

#define PE_BUF_FIRST_CAP	256

bool
pe_buf_grow(PeBuf *b, size_t more)
{
	size_t		need;
	size_t		cap;
	uint8_t    *p;

	if (b->failed)
		return false;
	if (more > SIZE_MAX / 2 - b->len)
	{
		b->failed = b->over_limit = true;
		return false;
	}
	need = b->len + more + 1;
	if (b->limit != 0 && need - 1 > b->limit)
	{
		b->failed = b->over_limit = true;
		return false;
	}
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : PE_BUF_FIRST_CAP;
	while (cap < need)
		cap *= 2;
	if (b->ctx)
		p = pe_realloc(b->ctx, b->data, cap);
	else
		p = realloc(b->data, cap);
	if (p == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	b->data[b->len] = '\0';
	return true;
}

bool
pe_buf_append(PeBuf *b, const void *s, size_t len)
{
	if (!pe_buf_reserve(b, len))
		return false;
	if (len)
		memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
	return true;
}

bool
pe_buf_puts(PeBuf *b, const char *s)
{
	return pe_buf_append(b, s, strlen(s));
}

bool
pe_buf_printf(PeBuf *b, const char *fmt,...)
{
	va_list		ap;
	int			n;
	size_t		room;

	/* Format in the room there is; only a longer text formats twice. */
	if (!pe_buf_reserve(b, 0))
		return false;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf((char *) b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || !pe_buf_reserve(b, (size_t) n))
	{
		b->data[b->len] = '\0';
		b->failed = true;
		return false;
	}
	if ((size_t) n >= room)
	{
		va_start(ap, fmt);
		vsnprintf((char *) b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t) n;
	return true;
}

void
pe_buf_reset(PeBuf *b)
{
	b->len = 0;
	b->failed = false;
	b->over_limit = false;
	if (b->data)
		b->data[0] = '\0';
}

void
pe_buf_free(PeBuf *b)
{
	PeCtx	   *ctx = b->ctx;
	size_t		limit = b->limit;

	if (ctx)
		pe_free(ctx, b->data);
	else
		free(b->data);
	memset(b, 0, sizeof(*b));
	b->ctx = ctx;
	b->limit = limit;
}
