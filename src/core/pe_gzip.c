/*
 * pe_gzip.c
 *		gzip detection and bounded inflation for pprof input.
 *
 * pprof files are usually gzipped.  Inflation runs under the decoded-size
 * limit: output grows geometrically and inflation stops as soon as it would
 * pass ctx->limits.max_decoded_bytes, so a small "gzip bomb" costs at most
 * the limit in memory.  zlib allocates through the PeCtx allocator.  No
 * interrupt check happens while a zlib stream is open.
 */
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "pe_pprof.h"

#define GUNZIP_MIN_CAPACITY		((size_t) 64 * 1024)

bool
pe_is_gzip(const uint8_t *data, size_t len)
{
	return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

/* zlib allocation hook: memory comes from the PeCtx allocator. */
static voidpf
gunzip_zalloc(voidpf opaque, uInt items, uInt size)
{
	PeCtx	   *ctx = opaque;
	size_t		bytes;

	if (__builtin_mul_overflow((size_t) items, (size_t) size, &bytes))
		return Z_NULL;
	return pe_alloc(ctx, bytes);
}

static void
gunzip_zfree(voidpf opaque, voidpf ptr)
{
	pe_free((PeCtx *) opaque, ptr);
}

/* Report that the output would pass the decoded-size limit. */
static bool
gunzip_limit_error(PeCtx *ctx, size_t limit)
{
	pe_fail(ctx, PE_ERR_LIMIT_SIZE, "decompressed profile exceeds the size limit of %zu bytes\n"
			"Inflation was stopped after %zu bytes of output.", limit, limit);
	return false;
}

/* Turn a failed inflate() call into an error record. */
static bool
gunzip_zlib_error(PeCtx *ctx, const z_stream *zs, int ret)
{
	if (ret == Z_MEM_ERROR)
	{
		if (ctx->err.code != PE_ERR_NOMEM)
			pe_fail(ctx, PE_ERR_NOMEM, "out of memory while inflating gzip data");
		return false;
	}
	pe_fail(ctx, PE_ERR_PPROF, "invalid pprof: corrupt gzip data: %s\n"
			"zlib stopped after %lu input bytes of the gzip member.",
			zs->msg ? zs->msg : zError(ret), (unsigned long) zs->total_in);
	return false;
}

/*
 * The inflation loop proper: zs is initialised, *buf holds cap bytes.
 * Returns the number of output bytes in *used.
 */
static bool
gunzip_run(PeCtx *ctx, z_stream *zs, const uint8_t *data, size_t len,
		   uint8_t **buf, size_t *cap, size_t *used)
{
	size_t		limit = ctx->limits.max_decoded_bytes;
	size_t		bound = limit < SIZE_MAX ? limit + 1 : SIZE_MAX;
	size_t		in_pos = 0;		/* input bytes handed to zlib so far */

	*used = 0;
	zs->next_in = (Bytef *) data;
	zs->avail_in = 0;
	for (;;)
	{
		size_t		out_room;
		size_t		out_before;
		int			ret;

		/* Grow the output buffer geometrically, never past limit + 1. */
		if (*used == *cap)
		{
			size_t		newcap;
			uint8_t    *grown;

			if (*cap >= bound)
				return gunzip_limit_error(ctx, limit);
			newcap = *cap > bound / 2 ? bound : *cap * 2;
			grown = pe_realloc(ctx, *buf, newcap);
			if (!grown)
				return false;
			*buf = grown;
			*cap = newcap;
		}

		/* avail_in / avail_out are 32-bit: feed huge buffers in slices. */
		if (zs->avail_in == 0 && in_pos < len)
		{
			size_t		slice = len - in_pos;

			if (slice > UINT_MAX)
				slice = UINT_MAX;
			zs->next_in = (Bytef *) data + in_pos;
			zs->avail_in = (uInt) slice;
			in_pos += slice;
		}
		out_room = *cap - *used;
		if (out_room > UINT_MAX)
			out_room = UINT_MAX;
		zs->next_out = *buf + *used;
		zs->avail_out = (uInt) out_room;
		out_before = out_room;

		ret = inflate(zs, Z_NO_FLUSH);
		*used += out_before - zs->avail_out;
		if (*used > limit)
			return gunzip_limit_error(ctx, limit);

		if (ret == Z_STREAM_END)
		{
			size_t		rest = zs->avail_in + (len - in_pos);
			const uint8_t *next = data + (len - rest);

			if (rest == 0)
				return true;
			/* Another gzip member may follow (as gzip(1) concatenates). */
			if (!pe_is_gzip(next, rest))
			{
				pe_fail(ctx, PE_ERR_PPROF, "invalid pprof: unexpected data after gzip member\n"
						"%zu bytes follow the end of the gzip data at offset %zu and do not start a new gzip member.",
						rest, len - rest);
				return false;
			}
			if (inflateReset(zs) != Z_OK)
				return gunzip_zlib_error(ctx, zs, Z_STREAM_ERROR);
			continue;
		}
		if (ret == Z_OK)
			continue;
		if (ret == Z_BUF_ERROR)
		{
			/* No progress possible: out of output room, or of input. */
			if (zs->avail_out == 0)
				continue;
			if (zs->avail_in == 0 && in_pos < len)
				continue;
			if (zs->avail_in == 0)
			{
				pe_fail(ctx, PE_ERR_PPROF, "invalid pprof: truncated gzip data\n"
						"The gzip stream ends after %zu bytes without its end marker.", len);
				return false;
			}
			ret = Z_DATA_ERROR;
		}
		if (ret == Z_NEED_DICT)
			ret = Z_DATA_ERROR;
		return gunzip_zlib_error(ctx, zs, ret);
	}
}

/*
 * Inflate all gzip members of data into a fresh buffer of at most
 * max_decoded_bytes.
 */
bool
pe_gunzip(PeCtx *ctx, const uint8_t *data, size_t len,
		  uint8_t **out, size_t *outlen)
{
	size_t		limit = ctx->limits.max_decoded_bytes;
	size_t		cap;
	size_t		used = 0;
	uint8_t    *buf;
	z_stream	zs;
	int			ret;
	bool		ok;

	*out = NULL;
	*outlen = 0;
	if (!pe_is_gzip(data, len))
	{
		pe_fail(ctx, PE_ERR_PPROF, "invalid pprof: not gzip data\n"
				"gzip data starts with the bytes 1f 8b.");
		return false;
	}

	/* First guess: pprof inflates about four-fold. */
	cap = len > SIZE_MAX / 4 ? SIZE_MAX : len * 4;
	if (cap < GUNZIP_MIN_CAPACITY)
		cap = GUNZIP_MIN_CAPACITY;
	if (limit < SIZE_MAX && cap > limit + 1)
		cap = limit + 1;
	buf = pe_alloc(ctx, cap);
	if (!buf)
		return false;

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = gunzip_zalloc;
	zs.zfree = gunzip_zfree;
	zs.opaque = ctx;
	ret = inflateInit2(&zs, 16 + MAX_WBITS);
	if (ret != Z_OK)
	{
		pe_free(ctx, buf);
		return gunzip_zlib_error(ctx, &zs, ret);
	}
	ok = gunzip_run(ctx, &zs, data, len, &buf, &cap, &used);
	inflateEnd(&zs);
	if (!ok)
	{
		pe_free(ctx, buf);
		return false;
	}
	*out = buf;
	*outlen = used;
	return true;
}
