/*
 * zlib_gunzip.h
 *		The bench's gunzip baseline: plain zlib inflating one gzip member held
 *		in memory.  Shared by gunzip_timer.c (row 1a's baseline) and
 *		ingest_driver.c (the same baseline in the stage driver's process).
 */
#ifndef ZLIB_GUNZIP_H
#define ZLIB_GUNZIP_H

#include <stdlib.h>
#include <zlib.h>

/*
 * Inflate in[0..inlen) into *out (grown with realloc as needed); zs must
 * come from inflateInit2(zs, 16 + MAX_WBITS).  Returns the output length,
 * or (size_t) -1 with *err set when zlib fails or memory runs out.
 */
static inline size_t
zlib_gunzip(z_stream *zs, const unsigned char *in, size_t inlen,
			unsigned char **out, size_t *outcap, const char **err)
{
	int			rc;

	*err = NULL;
	if (inflateReset2(zs, 16 + MAX_WBITS) != Z_OK)
	{
		*err = "inflateReset2 failed";
		return (size_t) -1;
	}
	zs->next_in = (unsigned char *) in;
	zs->avail_in = (uInt) inlen;
	zs->next_out = *out;
	zs->avail_out = (uInt) *outcap;
	for (;;)
	{
		rc = inflate(zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_BUF_ERROR || (rc == Z_OK && zs->avail_out == 0))
		{
			size_t		used = zs->total_out;
			unsigned char *grown = realloc(*out, *outcap * 2);

			if (grown == NULL)
			{
				*err = "out of memory";
				return (size_t) -1;
			}
			*out = grown;
			*outcap *= 2;
			zs->next_out = *out + used;
			zs->avail_out = (uInt) (*outcap - used);
			continue;
		}
		if (rc != Z_OK)
		{
			*err = zs->msg ? zs->msg : "inflate failed";
			return (size_t) -1;
		}
	}
	return zs->total_out;
}

#endif							/* ZLIB_GUNZIP_H */
