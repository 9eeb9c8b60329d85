/*
 * pe_gzip.c
 *		gzip detection and bounded inflation for pprof input.
 *
 * pprof files are usually gzipped.  Inflation runs under the decoded-size
 * limit (ctx->limits.max_decoded_bytes): no buffer larger than the limit is
 * ever allocated, so a small "gzip bomb" costs at most the limit in memory.
 *
 * libdeflate inflates whole buffers, about twice as fast as zlib on pprof
 * files.  Each member goes into the room left in one output buffer; when it
 * does not fit, the buffer grows geometrically (never past the limit) and
 * that member is inflated again.  The first size is the gzip trailer's
 * ISIZE, an untrusted hint: capped by the limit and by deflate's largest
 * possible expansion of the input, and only ever a starting point.  When
 * libdeflate refuses the data, zlib inflates it again under the same limit:
 * its messages say what is wrong (truncated, bad checksum, bad block).
 * Members with a header CRC go to zlib too, since libdeflate skips it
 * unchecked.  Both check each member's CRC-32 and size.  No interrupt check
 * happens inside either library; memory comes from the PeCtx allocator
 * except for libdeflate's decompressor, which is held only during one call.
 */
#include <limits.h>
#include <string.h>
#include <libdeflate.h>
#include <zlib.h>

#include "pe_pprof.h"

#define GUNZIP_MIN_CAPACITY		((size_t) 64 * 1024)	/* zlib's first buffer */
#define GUNZIP_FIRST_MIN		((size_t) 4096)	/* libdeflate's, whatever ISIZE says */
/* deflate's largest expansion: a 258-byte match per two bits, about 1032:1 */
#define DEFLATE_MAX_RATIO		1032
#define GZIP_TRAILER_SIZE		8
#define GZIP_FLAG_FHCRC			0x02

bool
pe_is_gzip(const uint8_t *data, size_t len)
{
	return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

/* Report that the output would pass the decoded-size limit. */
static bool
gunzip_limit_error(PeCtx *ctx, size_t limit)
{
	pe_fail(ctx, PE_ERR_LIMIT_SIZE, "decompressed profile exceeds the size limit of %zu bytes\n"
			"Inflation was stopped after %zu bytes of output.", limit, limit);
	return false;
}

/*
 * Grow the output buffer geometrically, never past bound; at bound the
 * output would pass the limit.
 */
static bool
gunzip_grow(PeCtx *ctx, uint8_t **buf, size_t *cap, size_t bound)
{
	size_t		newcap;
	uint8_t    *grown;

	if (*cap >= bound)
		return gunzip_limit_error(ctx, ctx->limits.max_decoded_bytes);
	newcap = *cap > bound / 2 ? bound : *cap * 2;
	grown = pe_realloc(ctx, *buf, newcap);
	if (!grown)
		return false;
	*buf = grown;
	*cap = newcap;
	return true;
}

static bool
gunzip_trailing_error(PeCtx *ctx, size_t rest, size_t offset)
{
	pe_fail(ctx, PE_ERR_PPROF, "invalid pprof: unexpected data after gzip member\n"
			"%zu bytes follow the end of the gzip data at offset %zu and do not start a new gzip member.",
			rest, offset);
	return false;
}

/* ---------------------------------------------------------------------
 * zlib: the reference inflater, used when libdeflate refuses the data.
 * --------------------------------------------------------------------- */

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
 * The zlib inflation loop proper: zs is initialised, *buf holds cap bytes.
 * Returns the number of output bytes in *used.
 */
static bool
zlib_run(PeCtx *ctx, z_stream *zs, const uint8_t *data, size_t len,
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

		/* zlib may stop one byte past the limit: the buffer grows to limit + 1 */
		if (*used == *cap && !gunzip_grow(ctx, buf, cap, bound))
			return false;

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
				return gunzip_trailing_error(ctx, rest, len - rest);
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

/* Inflate all members with zlib into a fresh buffer (*buf, *cap on entry). */
static bool
zlib_gunzip(PeCtx *ctx, const uint8_t *data, size_t len,
			uint8_t **buf, size_t *cap, size_t *used)
{
	z_stream	zs;
	int			ret;
	bool		ok;

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = gunzip_zalloc;
	zs.zfree = gunzip_zfree;
	zs.opaque = ctx;
	ret = inflateInit2(&zs, 16 + MAX_WBITS);
	if (ret != Z_OK)
		return gunzip_zlib_error(ctx, &zs, ret);
	ok = zlib_run(ctx, &zs, data, len, buf, cap, used);
	inflateEnd(&zs);
	return ok;
}

/* ---------------------------------------------------------------------
 * libdeflate: the fast path.
 * --------------------------------------------------------------------- */

/*
 * One libdeflate call on the member at data (len bytes to the end of the
 * input).  The decompressor lives only for this call, so that an allocator
 * error raised (longjmp) between calls cannot leak it.
 */
static enum libdeflate_result
deflate_member(const uint8_t *data, size_t len, uint8_t *out, size_t room,
			   size_t *in_used, size_t *out_used, bool *nomem)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	enum libdeflate_result r;

	*nomem = d == NULL;
	if (d == NULL)
		return LIBDEFLATE_BAD_DATA;
	r = libdeflate_gzip_decompress_ex(d, data, len, out, room, in_used, out_used);
	libdeflate_free_decompressor(d);
	return r;
}

/*
 * First output size: the last member's ISIZE (the whole size for the usual
 * single member), at most what deflate could expand the input to and at
 * most the limit.
 */
static size_t
first_capacity(const uint8_t *data, size_t len, size_t limit)
{
	size_t		cap = 0;
	size_t		most = len > SIZE_MAX / DEFLATE_MAX_RATIO ? SIZE_MAX : len * DEFLATE_MAX_RATIO;

	if (len >= GZIP_TRAILER_SIZE)
	{
		const uint8_t *t = data + len - 4;
		size_t		isize = (size_t) t[0] | (size_t) t[1] << 8 |
			(size_t) t[2] << 16 | (size_t) t[3] << 24;

		cap = isize;
	}
	if (cap < GUNZIP_FIRST_MIN)
		cap = GUNZIP_FIRST_MIN;
	if (cap > most)
		cap = most;
	if (cap > limit)
		cap = limit;
	return cap ? cap : 1;
}

/*
 * Inflate every member with libdeflate into *buf (*cap bytes).  False with
 * ctx->err set for the limit, for memory and for data after the last
 * member; false with no error when libdeflate refuses the data.
 */
static bool
libdeflate_gunzip(PeCtx *ctx, const uint8_t *data, size_t len,
				  uint8_t **buf, size_t *cap, size_t *used)
{
	size_t		limit = ctx->limits.max_decoded_bytes;
	size_t		pos = 0;

	*used = 0;
	while (pos < len)
	{
		size_t		in_used = 0;
		size_t		out_used = 0;
		bool		nomem;
		enum libdeflate_result r;

		if (pos > 0 && !pe_is_gzip(data + pos, len - pos))
			return gunzip_trailing_error(ctx, len - pos, pos);
		/* libdeflate skips a header CRC (flag FHCRC) unchecked: zlib checks it */
		if (len - pos < 4 || (data[pos + 3] & GZIP_FLAG_FHCRC))
			return false;
		r = deflate_member(data + pos, len - pos, *buf + *used, *cap - *used,
						   &in_used, &out_used, &nomem);
		if (nomem)
			return pe_fail(ctx, PE_ERR_NOMEM, "out of memory while inflating gzip data");
		if (r == LIBDEFLATE_INSUFFICIENT_SPACE)
		{
			/* Does not fit: grow, never past the limit, and inflate it again. */
			if (!gunzip_grow(ctx, buf, cap, limit))
				return false;
			continue;
		}
		if (r != LIBDEFLATE_SUCCESS || in_used == 0 || in_used > len - pos)
			return false;
		*used += out_used;
		pos += in_used;
	}
	return true;
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
	bool		ok;

	*out = NULL;
	*outlen = 0;
	if (!pe_is_gzip(data, len))
	{
		pe_fail(ctx, PE_ERR_PPROF, "invalid pprof: not gzip data\n"
				"gzip data starts with the bytes 1f 8b.");
		return false;
	}

	cap = first_capacity(data, len, limit);
	buf = pe_alloc(ctx, cap);
	if (!buf)
		return false;
	ok = libdeflate_gunzip(ctx, data, len, &buf, &cap, &used);
	if (!ok && ctx->err.code == PE_OK)
	{
		/* libdeflate refused the data: zlib says why (or reads it after all) */
		if (cap > GUNZIP_MIN_CAPACITY)
		{
			pe_free(ctx, buf);
			cap = GUNZIP_MIN_CAPACITY < limit ? GUNZIP_MIN_CAPACITY : (limit ? limit : 1);
			buf = pe_alloc(ctx, cap);
			if (!buf)
				return false;
		}
		ok = zlib_gunzip(ctx, data, len, &buf, &cap, &used);
	}
	if (!ok)
	{
		pe_free(ctx, buf);
		return false;
	}
	*out = buf;
	*outlen = used;
	return true;
}
