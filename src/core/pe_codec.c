/*
 * pe_codec.c
 *		The stored format of a profile value: encoder and validating decoder.
 *
 * docs/FORMAT.md is the specification.  The decoder trusts nothing: binary
 * COPY and the receive function hand it arbitrary bytes, so every length,
 * index and ordering rule is checked, and a value is accepted only when it
 * is exactly what the encoder would write for the tree it describes.  That
 * makes decode-then-encode byte-stable (for raw bodies, and for compressed
 * ones at the same zstd level and library version).
 *
 * zstd runs in streaming mode over 1 MB pieces with the interrupt hook
 * called in between; its contexts allocate through the PeCtx allocator, so
 * a longjmp out of the hook leaks nothing outside the caller's memory.  The
 * one exception is version 4's dictionary (pe_dict.h), prepared once per
 * process with malloc and kept: see dict_digested.
 */
#define ZSTD_STATIC_LINKING_ONLY
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "pe_buf.h"
#include "pe_codec.h"
#include "pe_dict.h"

/* zstd input handed over per call, between interrupt checks. */
#define ZSTD_PIECE				((size_t) 1 << 20)
#define VARINT_MAX_BYTES		10
#define NO_NAME					UINT32_MAX

bool
pe_is_native(const uint8_t *data, size_t len)
{
	return len >= 4 && data[0] == PE_MAGIC0 && data[1] == PE_MAGIC1 &&
		data[2] == PE_MAGIC2 && data[3] == PE_MAGIC3;
}

static inline uint64_t
zigzag_encode(int64_t v)
{
	return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

static inline int64_t
zigzag_decode(uint64_t u)
{
	return (int64_t) (u >> 1) ^ -(int64_t) (u & 1);
}

/* Greatest common divisor of magnitudes (gcd(0, x) = x). */
static inline uint64_t
gcd_u64(uint64_t a, uint64_t b)
{
	while (b != 0)
	{
		uint64_t	r = a % b;

		a = b;
		b = r;
	}
	return a;
}

static inline uint64_t
magnitude(int64_t v)
{
	return v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
}

/* CRC-32 (zlib's) of a summary (version 2 or later); len may be 0. */
static uint32_t
summary_crc(const uint8_t *data, size_t len)
{
	uLong		crc = crc32(0L, Z_NULL, 0);

	while (len > 0)
	{
		uInt		piece = len > (1u << 30) ? (1u << 30) : (uInt) len;

		crc = crc32(crc, data, piece);
		data += piece;
		len -= piece;
	}
	return (uint32_t) crc;
}

/*
 * Whether a name that shares its first shared bytes with the previous
 * (valid) name of the table is valid UTF-8.  When those bytes end at a
 * character boundary of the previous name they are valid on their own,
 * and the rest alone decides: about a third of the bytes in real tables.
 */
static inline bool
name_utf8_valid(const char *prev, uint32_t prev_len, const char *name, size_t shared,
				size_t len)
{
	if (shared == prev_len || ((unsigned char) prev[shared] & 0xC0) != 0x80)
		return pe_utf8_valid(name + shared, len - shared);
	return pe_utf8_valid(name, len);
}

/* zstd allocates through the caller's allocator (see the file header). */
static void *
zstd_alloc(void *opaque, size_t size)
{
	PeCtx	   *ctx = opaque;

	return ctx->alloc.alloc(ctx->alloc.arg, size);
}

static void
zstd_free(void *opaque, void *ptr)
{
	PeCtx	   *ctx = opaque;

	if (ptr)
		ctx->alloc.free(ctx->alloc.arg, ptr);
}

static ZSTD_customMem
zstd_mem(PeCtx *ctx)
{
	ZSTD_customMem mem = {zstd_alloc, zstd_free, ctx};

	return mem;
}

/*
 * Version 4's dictionary, digested once per process for compression (one
 * ZSTD_CDict per level: a CDict fixes its level) and for decompression, and
 * kept until exit.  Plain malloc, never the caller's allocator: that one may
 * longjmp or be reset, and these are globals shared by the gateway's threads.
 * Nothing in here calls back into the caller, so no longjmp happens while
 * the lock is held.
 */
#define DICT_LEVELS			23	/* zstd levels 0-22; higher ones are clamped */
static pthread_mutex_t dict_lock = PTHREAD_MUTEX_INITIALIZER;
static void *dict_cdicts[DICT_LEVELS];	/* ZSTD_CDict */
static void *dict_ddict;			/* ZSTD_DDict */

/*
 * The digested dictionary: for compression at level (one ZSTD_CDict per
 * level), or for decompression when level is DICT_FOR_READING.
 */
#define DICT_FOR_READING	(-1)

static const void *
dict_digested(PeCtx *ctx, int level)
{
	void	  **slot;
	const void *dict;

	if (level != DICT_FOR_READING)
		level = level < 1 ? 1 : level >= DICT_LEVELS ? DICT_LEVELS - 1 : level;
	slot = level == DICT_FOR_READING ? &dict_ddict : &dict_cdicts[level];
	pthread_mutex_lock(&dict_lock);
	if (*slot == NULL)
		*slot = level == DICT_FOR_READING ?
			(void *) ZSTD_createDDict_byReference(pe_dict_v4, PE_DICT_V4_SIZE) :
			(void *) ZSTD_createCDict_byReference(pe_dict_v4, PE_DICT_V4_SIZE, level);
	dict = *slot;
	pthread_mutex_unlock(&dict_lock);
	if (dict == NULL)
		pe_fail(ctx, PE_ERR_NOMEM, "out of memory preparing the zstd dictionary of format version 4");
	return dict;
}


/* ---------------------------------------------------------------- */
/* Encoding                                                           */
/* ---------------------------------------------------------------- */

/*
 * Columns are written a block of values at a time: room for the block's
 * varints is reserved once, and the interrupt check comes between blocks.
 * varints_begin returns the end of the block that starts at i (before n)
 * and sets *p to where it goes, or NULL once b failed.
 */
static inline uint32_t
varints_begin(PeBuf *b, uint32_t i, uint32_t n, uint8_t **p)
{
	uint32_t	end = n - i > PE_INTERRUPT_EVERY ? i + PE_INTERRUPT_EVERY : n;

	*p = pe_buf_reserve(b, (size_t) (end - i) * VARINT_MAX_BYTES) ? b->data + b->len : NULL;
	return end;
}

static inline uint8_t *
put_varint_at(uint8_t *p, uint64_t v)
{
	while (v >= 0x80)
	{
		*p++ = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t) v;
	return p;
}

static inline void
varints_end(PeBuf *b, uint8_t *p, PeCtx *ctx)
{
	b->len = p - b->data;
	pe_check_interrupts(ctx);
}

static inline void
put_varint(PeBuf *b, uint64_t v)
{
	uint8_t    *p;

	if (!pe_buf_reserve(b, VARINT_MAX_BYTES))
		return;
	p = put_varint_at(b->data + b->len, v);
	b->len = p - b->data;
}

static void
put_bytes(PeBuf *b, const void *s, size_t len)
{
	put_varint(b, len);
	pe_buf_append(b, s, len);
}

/* Writes a header string; refuses what a reader would refuse. */
static bool
put_meta_string(PeBuf *b, const char *s, const char *what)
{
	size_t		len;

	if (s == NULL)
		s = "";
	len = strlen(s);
	if (!pe_utf8_valid(s, len))
		return pe_fail(b->ctx, PE_ERR_ARG, "cannot store profile: %s is not valid UTF-8", what);
	put_bytes(b, s, len);
	return true;
}

static bool
put_meta(PeBuf *b, const PeMeta *m)
{
	PeCtx	   *ctx = b->ctx;

	if (m->nvalues < 1 || m->nvalues > PE_MAX_VALUES)
		return pe_fail(ctx, PE_ERR_ARG, "cannot store profile with %u sample types\n"
				"A stored profile has between 1 and %d sample types.", m->nvalues, PE_MAX_VALUES);
	if (m->default_type < -1 || m->default_type >= (int32_t) m->nvalues)
		return pe_fail(ctx, PE_ERR_ARG, "cannot store profile: default sample type %d out of range",
					   m->default_type);
	put_varint(b, m->nvalues);
	for (uint32_t i = 0; i < m->nvalues; i++)
		if (!put_meta_string(b, m->types[i].type, "a sample type") ||
			!put_meta_string(b, m->types[i].unit, "a sample unit"))
			return false;
	if (!put_meta_string(b, m->period_type.type, "the period type") ||
		!put_meta_string(b, m->period_type.unit, "the period unit"))
		return false;
	put_varint(b, zigzag_encode(m->period));
	put_varint(b, zigzag_encode(m->time_nanos));
	put_varint(b, zigzag_encode(m->duration_nanos));
	put_varint(b, (uint64_t) (m->default_type + 1));
	return true;
}

static int
varint_size(uint64_t v)
{
	int			n = 1;

	while (v >= 0x80)
	{
		v >>= 7;
		n++;
	}
	return n;
}

/*
 * Write the frame-name table: the names the walk uses, sorted by bytes and
 * front-coded (each name as the length it shares with the previous one,
 * the rest of its bytes and a NUL).  Sorted, neighbours share long package
 * prefixes, so even fast zstd levels store the table compactly.  Version 3
 * writes all shared lengths first, then all the rest: zstd then codes the
 * name bytes with statistics of text alone (flush[] receives where the two
 * parts end, for zstd_deflate to end a block there).
 * table_index receives each name's rank.  Also refuses what a reader would
 * refuse: duplicate siblings, bad UTF-8.
 */
static bool
put_names(PeBuf *b, const PeTree *t, const PeOrder *o, uint32_t *table_index,
		  int version, size_t *flush)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t   *last_name;
	uint32_t   *sorted = NULL;
	uint32_t   *shared = NULL;
	uint32_t	nstrings = 0;
	uint64_t	block = 0;
	bool		ok = false;

	last_name = pe_alloc(ctx, sizeof(uint32_t) * (o->n + 1));
	if (last_name == NULL)
		return false;
	for (uint32_t s = 0; s < t->names.n; s++)
		table_index[s] = NO_NAME;
	last_name[1] = NO_NAME;
	for (uint32_t i = 1; i < o->n; i++)
	{
		uint32_t	d = o->depth[i];
		uint32_t	name = t->name[o->node[i]];

		if (last_name[d] == name)
		{
			pe_fail(ctx, PE_ERR_ARG, "cannot store call tree with two sibling frames named \"%s\"",
					pe_strtab_get(&t->names, name, NULL));
			goto done;
		}
		last_name[d] = name;
		last_name[d + 1] = NO_NAME;
		if (table_index[name] == NO_NAME)
		{
			table_index[name] = 0;
			nstrings++;
		}
	}
	sorted = pe_alloc(ctx, sizeof(uint32_t) * (nstrings ? nstrings : 1));
	if (sorted == NULL)
		goto done;
	nstrings = 0;
	if (o->names_sorted)
	{
		/* the pre-order sorted every name already: keep the used ones */
		for (uint32_t r = 0; r < t->names.n; r++)
			if (table_index[o->names_sorted[r]] != NO_NAME)
				sorted[nstrings++] = o->names_sorted[r];
	}
	else
	{
		for (uint32_t s = 0; s < t->names.n; s++)
			if (table_index[s] != NO_NAME)
				sorted[nstrings++] = s;
		if (!pe_strtab_sort_ids(&t->names, sorted, nstrings))
			goto done;
	}

	/* First pass: shared prefix lengths and the size of the block. */
	shared = pe_alloc(ctx, sizeof(uint32_t) * (nstrings ? nstrings : 1));
	if (shared == NULL)
		goto done;
	for (uint32_t r = 0; r < nstrings; r++)
	{
		uint32_t	len;
		uint32_t	prev_len = 0;
		const char *str = pe_strtab_get(&t->names, sorted[r], &len);
		const char *prev = r ? pe_strtab_get(&t->names, sorted[r - 1], &prev_len) : "";
		uint32_t	k = 0;

		while (k < len && k < prev_len && str[k] == prev[k])
			k++;
		if (!name_utf8_valid(prev, prev_len, str, k, len))
		{
			pe_fail(ctx, PE_ERR_ARG, "cannot store profile: a frame name is not valid UTF-8");
			goto done;
		}
		shared[r] = k;
		/* version 3: the block is the name bytes alone */
		block += (version >= 3 ? 0 : varint_size(k)) + (len - k) + 1;
		table_index[sorted[r]] = r;
	}
	put_varint(b, nstrings);
	put_varint(b, block);
	if (version >= 3)
	{
		for (uint32_t r = 0; r < nstrings; r++)
			put_varint(b, shared[r]);
		flush[0] = b->len;
	}
	for (uint32_t r = 0; r < nstrings; r++)
	{
		uint32_t	len;
		const char *str = pe_strtab_get(&t->names, sorted[r], &len);

		if (version < 3)
			put_varint(b, shared[r]);
		pe_buf_append(b, str + shared[r], len - shared[r] + 1);	/* with its NUL */
	}
	if (version >= 3)
		flush[1] = b->len;
	ok = true;
done:
	pe_free(ctx, last_name);
	pe_free(ctx, sorted);
	pe_free(ctx, shared);
	return ok;
}

/*
 * The body columns: up counts, name codes, then one self column per value.
 * Names are ranks in the sorted table.  Siblings come in rank order, so a
 * later sibling stores the gap to the previous one; a first child stores
 * its rank minus its parent's (zigzag), small because a callee usually
 * sorts near its caller (same package).
 */
static void
put_columns(PeBuf *b, const PeTree *t, const PeOrder *o, const uint32_t *table_index,
			int version)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t	nv = t->meta.nvalues;
	uint32_t	n = o->n;
	uint32_t   *path = pe_alloc(ctx, sizeof(uint32_t) * (n + 1));
	uint32_t   *last = pe_alloc(ctx, sizeof(uint32_t) * (n + 2));
	int64_t    *column = pe_alloc(ctx, sizeof(int64_t) * (n ? n : 1));
	uint8_t    *p;

	if (path == NULL || last == NULL || column == NULL)
	{
		b->failed = true;
		goto done;
	}
	put_varint(b, n - 1);
	for (uint32_t i = 1; i < n;)
	{
		uint32_t	end = varints_begin(b, i, n, &p);

		if (p == NULL)
			goto done;
		for (; i < end; i++)
			p = put_varint_at(p, o->depth[i - 1] + 1 - o->depth[i]);
		varints_end(b, p, ctx);
	}
	path[0] = 0;
	last[1] = NO_NAME;
	for (uint32_t i = 1; i < n;)
	{
		uint32_t	end = varints_begin(b, i, n, &p);

		if (p == NULL)
			goto done;
		for (; i < end; i++)
		{
			uint32_t	d = o->depth[i];
			uint32_t	rank = table_index[t->name[o->node[i]]];

			if (last[d] != NO_NAME)
				p = put_varint_at(p, rank - last[d] - 1);
			else
				p = put_varint_at(p, zigzag_encode((int64_t) rank - (int64_t) path[d - 1]));
			last[d] = rank;
			last[d + 1] = NO_NAME;
			path[d] = rank;
		}
		varints_end(b, p, ctx);
	}
	for (uint32_t v = 0; v < nv; v++)
	{
		/*
		 * Version 2 divides each column by the gcd of its values (1 when all
		 * are 0): CPU times are multiples of the sampling period, and then
		 * equal the sample counts, which zstd stores as a repeat.
		 */
		uint64_t	scale = 1;

		for (uint32_t i = 0; i < n; i++)
			column[i] = t->self[(size_t) o->node[i] * nv + v];
		if (version >= 2)
		{
			uint64_t	g = 0;

			for (uint32_t i = 0; i < n && g != 1; i++)
				g = gcd_u64(g, magnitude(column[i]));
			scale = g ? g : 1;
			put_varint(b, scale);
		}
		for (uint32_t i = 0; i < n;)
		{
			uint32_t	end = varints_begin(b, i, n, &p);

			if (p == NULL)
				goto done;
			for (; i < end; i++)
			{
				int64_t		self = column[i];

				if (scale > 1)
				{
					/* scale >= 2: the quotient's magnitude fits in 62 bits (1 for 2^63) */
					int64_t		q = (int64_t) (magnitude(self) / scale);

					self = self < 0 ? -q : q;
				}
				p = put_varint_at(p, zigzag_encode(self));
			}
			varints_end(b, p, ctx);
		}
	}
done:
	pe_free(ctx, path);
	pe_free(ctx, last);
	pe_free(ctx, column);
}

/*
 * Compress body into dst (capacity dstcap) as one zstd frame with content
 * size and checksum, with cdict's dictionary (and its ID in the frame) if
 * not NULL.  *fits is false when the frame would not fit.  A block
 * ends at each of the nflush increasing offsets in flush[]: the parts of
 * the body are unlike each other (text, small integers), and a new block
 * gets entropy tables of its own while matches still reach back.
 */
static bool
zstd_deflate(PeCtx *ctx, const uint8_t *body, size_t body_len, int level,
			 const ZSTD_CDict *cdict, const size_t *flush, int nflush,
			 uint8_t *dst, size_t dstcap, size_t *dstlen, bool *fits)
{
	ZSTD_CCtx  *shared = ctx->get_zstd_cctx ? ctx->get_zstd_cctx() : NULL;
	ZSTD_CCtx  *cctx = shared;
	ZSTD_outBuffer out = {dst, dstcap, 0};
	ZSTD_inBuffer in = {body, 0, 0};
	size_t		rc;

	*fits = false;
	if (cctx)
		/* The caller's context: reset whatever an interrupted use left. */
		ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	else
		cctx = ZSTD_createCCtx_advanced(zstd_mem(ctx));
	if (cctx == NULL)
		return pe_fail(ctx, PE_ERR_NOMEM, "out of memory creating a zstd compression context");
	rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(rc))
		rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(rc))
		rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
	if (!ZSTD_isError(rc) && cdict)
		rc = ZSTD_CCtx_refCDict(cctx, cdict);
	if (!ZSTD_isError(rc))
		rc = ZSTD_CCtx_setPledgedSrcSize(cctx, body_len);
	while (!ZSTD_isError(rc))
	{
		ZSTD_EndDirective mode;
		size_t		stop = body_len;

		while (nflush > 0 && *flush <= in.pos)
			flush++, nflush--;
		if (nflush > 0 && *flush < body_len)
			stop = *flush;
		in.size = stop - in.pos > ZSTD_PIECE ? in.pos + ZSTD_PIECE : stop;
		mode = in.size == body_len ? ZSTD_e_end :
			in.size == stop ? ZSTD_e_flush : ZSTD_e_continue;
		rc = ZSTD_compressStream2(cctx, &out, &in, mode);
		if (ZSTD_isError(rc))
			break;
		if (mode == ZSTD_e_end && rc == 0)
		{
			*fits = true;
			*dstlen = out.pos;
			break;
		}
		/* Output full with work left: compression does not pay. */
		if (out.pos == out.size)
			break;
		pe_check_interrupts(ctx);
	}
	if (cctx != shared)
		ZSTD_freeCCtx(cctx);
	if (ZSTD_isError(rc))
		return pe_fail(ctx, PE_ERR_NOMEM, "cannot compress profile: %s", ZSTD_getErrorName(rc));
	return true;
}

/*
 * Write the fixed header at p: 12 bytes in version 1; from version 2 on also
 * the summary's length and CRC-32 (the summary follows the header,
 * uncompressed, so zstd's checksum does not cover it).
 */
static void
put_header(uint8_t *p, int version, uint8_t flags, uint32_t body_len,
		   const uint8_t *summary, uint32_t summary_len)
{
	p[0] = PE_MAGIC0;
	p[1] = PE_MAGIC1;
	p[2] = PE_MAGIC2;
	p[3] = PE_MAGIC3;
	p[4] = (uint8_t) version;
	p[5] = flags;
	p[6] = 0;
	p[7] = 0;
	p[8] = (uint8_t) body_len;
	p[9] = (uint8_t) (body_len >> 8);
	p[10] = (uint8_t) (body_len >> 16);
	p[11] = (uint8_t) (body_len >> 24);
	if (version >= 2)
	{
		uint32_t	crc = summary_crc(summary, summary_len);

		for (int i = 0; i < 4; i++)
		{
			p[12 + i] = (uint8_t) (summary_len >> (8 * i));
			p[16 + i] = (uint8_t) (crc >> (8 * i));
		}
	}
}

/*
 * A column total, summed in walk order as readers sum a decoded tree: when
 * a partial sum leaves 64 bits the total overflows (it is then stored as 0
 * and reading it is an error, as for version 1 values).  The encoder's
 * summary and the decoder's check of it both sum with this.
 */
typedef struct ColumnSum
{
	int64_t		sum;
	bool		overflow;
} ColumnSum;

static inline void
column_sum_add(ColumnSum *c, int64_t x)
{
	c->overflow |= __builtin_add_overflow(c->sum, x, &c->sum);
}

static inline int64_t
column_sum_total(const ColumnSum *c)
{
	return c->overflow ? 0 : c->sum;
}

/* The total of column v over nodes (NULL: 0 to n - 1) in that order. */
static int64_t
column_total(const PeTree *t, const uint32_t *nodes, uint32_t n, uint32_t v,
			 bool *overflow)
{
	uint32_t	nv = t->meta.nvalues;
	ColumnSum	c = {0, false};

	for (uint32_t i = 0; i < n && !c.overflow; i++)
		column_sum_add(&c, t->self[(size_t) (nodes ? nodes[i] : i) * nv + v]);
	*overflow = c.overflow;
	return column_sum_total(&c);
}

/*
 * The summary (version 2 or later) after the header fields: node and function
 * counts, the overflow mask and one total per sample type.  The encoder
 * computes all of it from the tree; readers check it against the tree.
 */
static void
put_summary_counts(PeBuf *s, const PeTree *t, const PeOrder *o,
				   uint32_t nfunctions)
{
	uint32_t	nv = t->meta.nvalues;
	uint64_t	mask = 0;
	int64_t		totals[PE_MAX_VALUES];

	for (uint32_t v = 0; v < nv; v++)
	{
		bool		overflow;

		totals[v] = column_total(t, o->node, o->n, v, &overflow);
		if (overflow)
			mask |= (uint64_t) 1 << v;
	}
	put_varint(s, o->n - 1);
	put_varint(s, nfunctions);
	put_varint(s, mask);
	for (uint32_t v = 0; v < nv; v++)
		put_varint(s, zigzag_encode(totals[v]));
}

bool
pe_encode(const PeTree *t, int zstd_level, size_t room,
		  uint8_t **out, size_t *outlen)
{
	return pe_encode_version(t, PE_FORMAT_VERSION, zstd_level, room, out, outlen);
}

/*
 * Version 1: header, then the body (header fields, names, columns), which
 * zstd compresses.  Version 2: header, the uncompressed summary (header
 * fields, counts, totals), then the body (names, columns).  Version 3: as
 * version 2, with the name table's shared lengths ahead of its name bytes
 * and a zstd block ending after each of the two.  Version 4: version 3
 * compressed with the format's dictionary.
 */
bool
pe_encode_version(const PeTree *t, int version, int zstd_level, size_t room,
				  uint8_t **out, size_t *outlen)
{
	PeCtx	   *ctx = t->ctx;
	PeBuf		b = {.ctx = ctx};
	PeBuf		s = {.ctx = ctx};
	PeOrder		order = {0};
	uint32_t   *table_index = NULL;
	uint8_t    *value = NULL;
	size_t		prefix;
	size_t		body_len;
	size_t		clen = 0;
	size_t		flush[2] = {0, 0};	/* version 3: where the name table's parts end */
	bool		fits = false;
	bool		ok = false;

	*out = NULL;
	*outlen = 0;
	if (version < 1 || version > PE_FORMAT_VERSION)
		return pe_fail(ctx, PE_ERR_ARG, "cannot write profile format version %d", version);
	if (!put_meta(version == 1 ? &b : &s, &t->meta))
		goto done;
	if (!pe_tree_preorder(t, true, &order))
		goto done;
	table_index = pe_alloc(ctx, sizeof(uint32_t) * t->names.n);
	if (table_index == NULL || !put_names(&b, t, &order, table_index, version, flush))
		goto done;
	put_columns(&b, t, &order, table_index, version);
	if (version >= 2)
	{
		uint32_t	nfunctions = 0;

		/* Distinct frame names but the root's empty one (as a decoded tree counts them). */
		for (uint32_t k = 0; k < t->names.n; k++)
			nfunctions += table_index[k] != NO_NAME && t->names.len[k] > 0;
		put_summary_counts(&s, t, &order, nfunctions);
	}
	if (b.failed || s.failed)
		goto done;

	body_len = b.len;
	prefix = version == 1 ? PE_HEADER_SIZE : PE_HEADER_SIZE_V2 + s.len;
	if (body_len > UINT32_MAX || body_len > ctx->limits.max_decoded_bytes ||
		s.len > ctx->limits.max_decoded_bytes)
	{
		pe_fail(ctx, PE_ERR_LIMIT_SIZE, "profile too large to store (%zu bytes uncompressed)\n"
				"The limit is %zu bytes (and at most 4 GB).",
				body_len + s.len, ctx->limits.max_decoded_bytes);
		goto done;
	}

	if (zstd_level > 0 && body_len > 1)
	{
		const ZSTD_CDict *cdict = NULL;

		if (version >= 4 && (cdict = dict_digested(ctx, zstd_level)) == NULL)
			goto done;
		value = pe_alloc(ctx, room + prefix + body_len - 1);
		if (value == NULL ||
			!zstd_deflate(ctx, b.data, body_len, zstd_level, cdict, flush, version >= 3 ? 2 : 0,
						  value + room + prefix, body_len - 1, &clen, &fits))
			goto done;
		if (fits)
		{
			uint8_t    *shrunk = pe_realloc(ctx, value, room + prefix + clen);

			if (shrunk == NULL)
				goto done;
			value = shrunk;
		}
	}
	if (!fits)
	{
		pe_free(ctx, value);
		value = pe_alloc(ctx, room + prefix + body_len);
		if (value == NULL)
			goto done;
		if (body_len)
			memcpy(value + room + prefix, b.data, body_len);
		clen = body_len;
	}
	put_header(value + room, version, fits ? PE_FLAG_ZSTD : 0, (uint32_t) body_len,
			   s.data, (uint32_t) s.len);
	if (s.len)
		memcpy(value + room + PE_HEADER_SIZE_V2, s.data, s.len);
	*out = value;
	*outlen = prefix + clen;
	value = NULL;
	ok = true;
done:
	pe_free(ctx, b.data);
	pe_free(ctx, s.data);
	pe_free(ctx, value);
	pe_free(ctx, table_index);
	pe_order_free(ctx, &order);
	return ok;
}


/* ---------------------------------------------------------------- */
/* Decoding                                                           */
/* ---------------------------------------------------------------- */

typedef enum VarintStatus
{
	VARINT_OK,
	VARINT_TRUNCATED,
	VARINT_TOO_LONG,
	VARINT_NOT_MINIMAL
} VarintStatus;

/* A cursor over the (uncompressed) body. */
typedef struct Reader
{
	PeCtx	   *ctx;
	const uint8_t *data;
	size_t		len;
	size_t		pos;
	VarintStatus status;		/* why the last get_varint failed */
	PeStrtab   *names;			/* where frame names are interned */
} Reader;

/*
 * Read an unsigned LEB128 varint at data[*pos]: at most 10 bytes, no bits
 * past 64, and the shortest form only (a later byte of 0 would be a second
 * encoding).  Hot loops keep their cursor in a local and call this
 * directly, so that the compiler can hold it in a register.
 */
static inline bool
varint_at(const uint8_t *data, size_t len, size_t *pos, uint64_t *out,
		  VarintStatus *status)
{
	uint64_t	v = 0;
	size_t		p = *pos;

	/* Most varints of a body are one byte: counts, name gaps, small values. */
	if (p < len && data[p] < 0x80)
	{
		*out = data[p];
		*pos = p + 1;
		return true;
	}
	/* Most others are two (a first child's name code): a last byte of 0 is not minimal. */
	if (len - p > 1 && (unsigned) data[p + 1] - 1 < 0x7F)
	{
		*out = (uint64_t) (data[p] & 0x7F) | (uint64_t) data[p + 1] << 7;
		*pos = p + 2;
		return true;
	}
	for (int i = 0; i < VARINT_MAX_BYTES; i++)
	{
		uint8_t		byte;

		if (p >= len)
		{
			*pos = p;
			*status = VARINT_TRUNCATED;
			return false;
		}
		byte = data[p++];
		if (i == VARINT_MAX_BYTES - 1 && byte > 1)
			break;
		v |= (uint64_t) (byte & 0x7F) << (7 * i);
		if ((byte & 0x80) == 0)
		{
			*pos = p;
			if (byte == 0 && i > 0)
			{
				*status = VARINT_NOT_MINIMAL;
				return false;
			}
			*out = v;
			return true;
		}
	}
	*pos = p;
	*status = VARINT_TOO_LONG;
	return false;
}

static inline bool
get_varint(Reader *r, uint64_t *out)
{
	return varint_at(r->data, r->len, &r->pos, out, &r->status);
}

/* "what" with an optional number: "the name of node 12". */
static const char *
describe(char *buf, size_t size, const char *what, int64_t index)
{
	if (index < 0)
		return what;
	snprintf(buf, size, "%s %lld", what, (long long) index);
	return buf;
}

/* Report why get_varint failed while reading what (index -1: none). */
static bool
varint_fail(Reader *r, const char *what, int64_t index)
{
	char		buf[128];
	const char *w = describe(buf, sizeof(buf), what, index);

	if (r->status == VARINT_TRUNCATED)
	{
		pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: body ends inside %s\n"
				"The body is %zu bytes long.", w, r->len);
	}
	else if (r->status == VARINT_TOO_LONG)
		pe_fail(r->ctx, PE_ERR_CORRUPT,
				"corrupt profile value: varint of %s at body offset %zu exceeds 64 bits", w, r->pos);
	else
	{
		pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: non-minimal varint of %s at body offset %zu\n"
				"Varints must use as few bytes as possible, so that each profile has one encoding.",
				w, r->pos);
	}
	return false;
}

static bool
get_u32(Reader *r, uint32_t *out, uint32_t max, const char *what, int64_t index)
{
	uint64_t	v;
	char		buf[128];

	if (!get_varint(r, &v))
		return varint_fail(r, what, index);
	if (v > max)
		return pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: %s is %llu, more than %u",
					   describe(buf, sizeof(buf), what, index), (unsigned long long) v, max);
	*out = (uint32_t) v;
	return true;
}

static bool
get_i64(Reader *r, int64_t *out, const char *what, int64_t index)
{
	uint64_t	v;

	if (!get_varint(r, &v))
		return varint_fail(r, what, index);
	*out = zigzag_decode(v);
	return true;
}

/* A length-prefixed string: in bounds, valid UTF-8, no NUL. */
static bool
get_string(Reader *r, const char **s, uint32_t *len, const char *what, int64_t index)
{
	uint64_t	v;
	char		buf[128];

	if (!get_varint(r, &v))
		return varint_fail(r, what, index);
	if (v > r->len - r->pos)
		return pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: %s runs past the end of the body\n"
				"Its length is %llu; %zu bytes remain.",
				describe(buf, sizeof(buf), what, index), (unsigned long long) v, r->len - r->pos);
	*s = (const char *) r->data + r->pos;
	*len = (uint32_t) v;
	if (!pe_utf8_valid(*s, *len))
		return pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: %s is not valid UTF-8\n"
				"Strings in a profile value are UTF-8 without NUL bytes.",
				describe(buf, sizeof(buf), what, index));
	r->pos += v;
	return true;
}

/* A header string, copied NUL-terminated. */
static bool
get_meta_string(Reader *r, char **out, const char *what, int64_t index)
{
	const char *s = NULL;
	uint32_t	len = 0;

	if (!get_string(r, &s, &len, what, index))
		return false;
	*out = pe_strndup(r->ctx, s, len);
	return *out != NULL;
}

static bool
get_meta(Reader *r, PeMeta *m)
{
	PeCtx	   *ctx = r->ctx;
	uint32_t	dflt;

	memset(m, 0, sizeof(*m));
	if (!get_u32(r, &m->nvalues, PE_MAX_VALUES, "the number of sample types", -1))
		return false;
	if (m->nvalues == 0)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: no sample types\n"
				"A stored profile has between 1 and %d sample types.", PE_MAX_VALUES);
	m->types = pe_alloc0(ctx, sizeof(PeSampleType) * m->nvalues);
	if (m->types == NULL)
		return false;
	for (uint32_t i = 0; i < m->nvalues; i++)
		if (!get_meta_string(r, &m->types[i].type, "the type of sample type", i) ||
			!get_meta_string(r, &m->types[i].unit, "the unit of sample type", i))
			return false;
	if (!get_meta_string(r, &m->period_type.type, "the period type", -1) ||
		!get_meta_string(r, &m->period_type.unit, "the period unit", -1) ||
		!get_i64(r, &m->period, "the period", -1) ||
		!get_i64(r, &m->time_nanos, "the time", -1) ||
		!get_i64(r, &m->duration_nanos, "the duration", -1) ||
		!get_u32(r, &dflt, m->nvalues, "the default sample type", -1))
		return false;
	m->default_type = (int32_t) dflt - 1;
	return true;
}

/*
 * The frame-name table: front-coded names in strictly increasing byte
 * order (which also makes them distinct).  map[rank] is the interned id.
 * Version 3 stores the shared lengths as a column before the name bytes;
 * versions 1 and 2 put each one before its name's bytes.
 */
static bool
get_names_with(Reader *r, const PeStrtab *own, int version, uint32_t *nstrings, uint32_t **map,
			   char **scratchp, uint32_t **sharedp)
{
	PeCtx	   *ctx = r->ctx;
	uint64_t	block;
	size_t		end;
	char	   *scratch = NULL;
	size_t		scratch_cap = 0;
	uint32_t   *shared_column = NULL;

	if (!get_u32(r, nstrings, UINT32_MAX / 2, "the number of names", -1))
		return false;
	if (!get_varint(r, &block))
		return varint_fail(r, "the size of the name table", -1);
	if (block > r->len - r->pos)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: name table of %llu bytes overruns the value\n"
				"Only %zu bytes follow.", (unsigned long long) block, r->len - r->pos);
	/* Every name takes at least its prefix byte and its NUL. */
	if ((uint64_t) *nstrings * 2 > block + (version >= 3 ? *nstrings : 0))
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: %u names declared in %llu bytes",
					   *nstrings, (unsigned long long) block);
	if (version >= 3)
	{
		/* The shared lengths, checked against each name below. */
		if ((uint64_t) *nstrings + block > r->len - r->pos)
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: %u names of %llu bytes overrun the value\n"
					"Only %zu bytes follow.", *nstrings, (unsigned long long) block, r->len - r->pos);
		shared_column = *sharedp = pe_alloc(ctx, sizeof(uint32_t) * (*nstrings ? *nstrings : 1));
		if (shared_column == NULL)
			return false;
		for (uint32_t i = 0; i < *nstrings; i++)
		{
			size_t		at = r->pos;
			uint64_t	shared;

			/* get_u32 inline; it reads a bad one again to say what is wrong */
			if (!get_varint(r, &shared) || shared > UINT32_MAX / 2)
			{
				r->pos = at;
				return get_u32(r, &shared_column[i], UINT32_MAX / 2, "the shared prefix of name", i);
			}
			shared_column[i] = (uint32_t) shared;
			if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
				pe_check_interrupts(ctx);
		}
		if (block > r->len - r->pos)
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: name table of %llu bytes overruns the value\n"
					"Only %zu bytes follow the shared prefix lengths.", (unsigned long long) block, r->len - r->pos);
	}
	end = r->pos + block;
	*map = pe_alloc(ctx, sizeof(uint32_t) * (*nstrings ? *nstrings : 1));
	if (*map == NULL)
		return false;
	for (uint32_t i = 0; i < *nstrings; i++)
	{
		uint32_t	shared;
		uint32_t	prev_len = 0;
		const char *prev = i ? pe_strtab_get(r->names, (*map)[i - 1], &prev_len) : "";
		const uint8_t *suffix;
		const uint8_t *nul;
		size_t		suffix_len;
		uint32_t	before = own ? own->n : 0;
		uint32_t	id;
		uint64_t	hash = 0;

		if (shared_column == NULL)
		{
			if (!get_u32(r, &shared, prev_len, "the shared prefix of name", i))
				return false;
		}
		else if ((shared = shared_column[i]) > prev_len)
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: name %u shares %u bytes with a previous name of %u\n"
					"A name shares at most the length of the name before it.", i, shared, prev_len);
		suffix = r->data + r->pos;
		nul = r->pos < end ? memchr(suffix, '\0', end - r->pos) : NULL;
		if (nul == NULL)
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: name %u is not NUL-terminated inside the name table",
						   i);
		suffix_len = nul - suffix;
		if (shared + suffix_len > UINT32_MAX / 2)
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: name %u is too long", i);
		if (shared + suffix_len + 1 > scratch_cap)
		{
			scratch_cap = (shared + suffix_len + 1) * 2;
			pe_free(ctx, scratch);
			scratch = *scratchp = pe_alloc(ctx, scratch_cap);
			if (scratch == NULL)
				return false;
		}
		memcpy(scratch, prev, shared);
		memcpy(scratch + shared, suffix, suffix_len);
		r->pos += suffix_len + 1;
		/*
		 * Merging into a shared table (the aggregate's state), most names
		 * are there already, and every name there was validated when it
		 * came in: validate only new ones.
		 */
		id = own == NULL ? pe_strtab_lookup_hashed(r->names, scratch, shared + suffix_len, &hash) :
			PE_NO_NODE;
		if (id == PE_NO_NODE && !name_utf8_valid(prev, prev_len, scratch, shared, shared + suffix_len))
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: name %u is not valid UTF-8", i);
		if (i > 0 && (suffix_len == 0 ||
					  (shared < prev_len && (unsigned char) scratch[shared] <= (unsigned char) prev[shared])))
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: name %u is not after name %u in byte order\n"
					"Names are stored sorted, without repeats.", i, i - 1);
		if (id == PE_NO_NODE)
			id = own == NULL ? pe_strtab_intern_hashed(r->names, scratch, shared + suffix_len, hash) :
				pe_strtab_intern(r->names, scratch, shared + suffix_len);
		if (id == PE_NO_NODE)
			return false;
		/*
		 * Only an empty first name may meet the root's empty name.  (In a
		 * shared table names may exist already; strict order suffices.)
		 */
		if (own != NULL && id != before && !(id == 0 && i == 0))
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: name %u repeats an earlier name", i);
		(*map)[i] = id;
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	if (r->pos != end)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: name table has %zu bytes after its %u names",
					   end - r->pos, *nstrings);
	return true;
}

/*
 * get_names_with, freeing its scratch buffers on every path.  own: the
 * fresh tree's table that r->names is, or NULL when r->names is a shared
 * table (a merge state's), where names may exist already.
 */
static bool
get_names(Reader *r, const PeStrtab *own, int version, uint32_t *nstrings, uint32_t **map)
{
	char	   *scratch = NULL;
	uint32_t   *shared = NULL;
	bool		ok = get_names_with(r, own, version, nstrings, map, &scratch, &shared);

	pe_free(r->ctx, scratch);
	pe_free(r->ctx, shared);
	return ok;
}

/*
 * The end of the run of up to PE_INTERRUPT_EVERY items that starts at
 * start: the column loops check interrupts once per run instead of testing
 * a counter for every node.
 */
static inline uint32_t
run_end(uint32_t start, uint32_t n)
{
	return n - start > PE_INTERRUPT_EVERY ? start + PE_INTERRUPT_EVERY : n;
}

/*
 * Up counts to depths: a node is at most one level below its predecessor.
 * depth[k] is node k's (the root's 0), and depth[nnodes + 1] is 0, so that
 * node k is a leaf exactly when depth[k + 1] <= depth[k].
 */
static __attribute__((noinline)) bool
get_depths(Reader *r, uint32_t nnodes, uint32_t *depth)
{
	uint32_t	prev = 0;
	const uint8_t *data = r->data;
	size_t		len = r->len;
	size_t		pos = r->pos;

	for (uint32_t start = 0; start < nnodes; start = run_end(start, nnodes))
	{
		uint32_t	end = run_end(start, nnodes);

		pe_check_interrupts(r->ctx);
		for (uint32_t i = start; i < end; i++)
		{
			uint64_t	up;

			if (!varint_at(data, len, &pos, &up, &r->status))
			{
				r->pos = pos;
				return varint_fail(r, "the up count of node", i + 1);
			}
			if (up > prev)
				return pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: node %u climbs %llu levels from depth %u\n"
						"A node's up count is at most the previous node's depth, so that every node but the root has a parent.",
						i + 1, (unsigned long long) up, prev);
			prev = prev + 1 - (uint32_t) up;
			depth[i + 1] = prev;
		}
	}
	depth[0] = 0;
	depth[nnodes + 1] = 0;
	r->pos = pos;
	return true;
}

/*
 * Where parse_tree puts a value's nodes: the arrays of a fresh tree, or
 * scratch arrays that pe_decode_merge folds into a state.
 */
typedef struct NodeArrays
{
	uint32_t	n;				/* nodes, the root included */
	uint32_t	nvalues;
	uint32_t   *parent;
	uint32_t   *name;
	int64_t    *self;			/* n * nvalues */
	uint64_t   *hash;			/* path hashes (pe_path_hash), or NULL */
} NodeArrays;

/*
 * The way down to the node being read, one entry per depth: the rank of
 * the last node read at that depth (NO_NAME: none since its parent), that
 * node and its path hash.  Entry 0 is the root.
 */
typedef struct PathEntry
{
	uint32_t	rank;
	uint32_t	node;
	uint64_t	hash;
} PathEntry;

/*
 * The name column: build the nodes.  A later sibling's code is the gap to
 * the previous sibling's rank (so siblings strictly increase), a first
 * child's is its rank minus its parent's, zigzagged.  A node's parent is
 * the last node read one level up, whose rank is the parent's rank; used
 * marks ranks seen, all of which must be.
 */
static __attribute__((noinline)) bool
get_nodes(Reader *r, NodeArrays *a, uint32_t nnodes, const uint32_t *depth,
		  uint32_t nstrings, const uint32_t *map, PathEntry *way)
{
	PeCtx	   *ctx = r->ctx;
	uint8_t    *used = pe_alloc0(ctx, nstrings ? nstrings : 1);
	bool		ok = false;
	const uint8_t *data = r->data;
	size_t		len = r->len;
	size_t		pos = r->pos;
	uint32_t   *parent = a->parent;
	uint32_t   *name = a->name;
	uint64_t   *hash = a->hash;

	if (used == NULL)
		goto done;
	way[0].rank = 0;
	way[0].node = 0;
	way[0].hash = PE_ROOT_PATH_HASH;
	way[1].rank = NO_NAME;
	for (uint32_t start = 0; start < nnodes; start = run_end(start, nnodes))
	{
		uint32_t	end = run_end(start, nnodes);

		pe_check_interrupts(ctx);
		for (uint32_t i = start; i < end; i++)
		{
			uint32_t	node = i + 1;
			uint32_t	d = depth[node];
			PathEntry  *up = &way[d - 1];
			PathEntry  *at = &way[d];
			uint64_t	code;
			int64_t		rank;

			if (!varint_at(data, len, &pos, &code, &r->status))
			{
				r->pos = pos;
				varint_fail(r, "the name of node", node);
				goto done;
			}
			if (at->rank != NO_NAME)
				rank = code > (uint64_t) nstrings ? (int64_t) nstrings : (int64_t) at->rank + 1 + (int64_t) code;
			else if (__builtin_add_overflow((int64_t) up->rank, zigzag_decode(code), &rank))
				rank = -1;		/* a huge code: out of range, reported below */
			if ((uint64_t) rank >= (uint64_t) nstrings)
			{
				pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: node %u has a name out of range\n"
						"The value has %u names.", node, nstrings);
				goto done;
			}
			used[rank] = 1;
			/* parse_tree reserved room for every node and checked max_nodes */
			parent[node] = up->node;
			name[node] = map[rank];
			at->rank = (uint32_t) rank;
			at->node = node;
			if (hash)
				hash[node] = at->hash = pe_path_hash(up->hash, name[node]);
			way[d + 1].rank = NO_NAME;
		}
	}
	r->pos = pos;
	for (uint32_t k = 0; k < nstrings; k++)
		if (!used[k])
		{
			pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: name %u is never used\n"
					"The name table holds only the names of the call tree.", k);
			goto done;
		}
	ok = true;
done:
	pe_free(ctx, used);
	return ok;
}

/* What parse_tree learns on the way that the version 2 summary must repeat. */
typedef struct TreeCounts
{
	uint32_t	nnodes;			/* nodes but the root */
	uint32_t	nfunctions;		/* distinct names but the root's empty one */
	uint64_t	overflow;		/* bit v: the total of column v leaves 64 bits */
	int64_t		totals[PE_MAX_VALUES];	/* 0 where overflow */
} TreeCounts;

/*
 * One self column from r->pos on, into self[0], self[nv], ...: the values
 * times scale, with their gcd (from *g; 1 stops taking it) and total.
 * last: the last column, where a leaf whose values are all zero is noted
 * in *zero_leaf (see get_selves).  Inlined twice, so that the column loop
 * carries no test for the last column's work.
 */
static inline __attribute__((always_inline)) bool
get_column(Reader *r, int64_t *self, uint32_t nv, uint32_t n, uint64_t scale, uint64_t *g,
		   ColumnSum *total, bool last, const uint32_t *depth, uint32_t *zero_leaf)
{
	const uint8_t *data = r->data;
	size_t		len = r->len;
	size_t		pos = r->pos;
	uint64_t	gcd = *g;
	ColumnSum	sum = *total;

	for (uint32_t start = 0; start < n; start = run_end(start, n))
	{
		uint32_t	end = run_end(start, n);

		pe_check_interrupts(r->ctx);
		for (uint32_t node = start; node < end; node++, self += nv)
		{
			uint64_t	u;
			int64_t		x;

			if (!varint_at(data, len, &pos, &u, &r->status))
			{
				r->pos = pos;
				return varint_fail(r, "a value of node", node);
			}
			x = zigzag_decode(u);
			if (gcd != 1)
				gcd = gcd_u64(gcd, magnitude(x));
			if (scale > 1)
			{
				__int128	product = (__int128) x * (__int128) scale;

				/* (scale is at most 2^63: the 128-bit product is exact) */
				if (scale <= INT64_MAX ? __builtin_mul_overflow(x, (int64_t) scale, &x) :
					(product < INT64_MIN || product > INT64_MAX))
					return pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: a value of node %u times its column's scale leaves 64 bits",
								   node);
				if (scale > INT64_MAX)
					x = (int64_t) product;
			}
			*self = x;
			column_sum_add(&sum, x);
			/* (the root is never noted: 0 means none) */
			if (last && ((x == 0) & (depth[node + 1] <= depth[node])))
			{
				bool		zero = true;

				for (uint32_t w = 1; zero && w < nv; w++)
					zero = self[-(ptrdiff_t) w] == 0;
				if (zero)
					*zero_leaf = node;
			}
		}
	}
	r->pos = pos;
	*g = gcd;
	*total = sum;
	return true;
}

/*
 * The self columns, root first; then refuse all-zero subtrees.  Version 2
 * columns start with their scale, the gcd of the column's values: at
 * least 1, 1 when all are 0, and the stored quotients have gcd 1 (so that
 * each column has one encoding).  Column totals are summed on the way.
 *
 * A subtree is all zero exactly when one of its leaves is (its last node
 * in pre-order is a leaf), and the last node with an all-zero subtree is
 * a leaf: so the last column's pass notes the last all-zero leaf, which is
 * the node a backward walk over subtrees would name first (depths as
 * get_depths leaves them tell leaves).
 */
static __attribute__((noinline)) bool
get_selves(Reader *r, NodeArrays *a, const uint32_t *depth, int version, TreeCounts *counts)
{
	uint32_t	nv = a->nvalues;
	uint32_t	n = a->n;
	uint32_t	zero_leaf = 0;	/* the last leaf with only zero values; 0: none */

	for (uint32_t v = 0; v < nv; v++)
	{
		uint64_t	scale = 1;
		uint64_t	g = version >= 2 ? 0 : 1;	/* version 1 has no scale: no gcd to take */
		ColumnSum	total = {0, false};
		bool		ok;

		if (version >= 2)
		{
			if (!get_varint(r, &scale))
				return varint_fail(r, "the scale of value column", v);
			/* 2^63: a column of 0 and INT64_MIN only, stored as 0 and -1 */
			if (scale == 0 || scale > (uint64_t) INT64_MAX + 1)
				return pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: value column %u has scale %llu\n"
						"A column's scale is between 1 and 2^63.", v, (unsigned long long) scale);
		}
		if (v == nv - 1)
			ok = get_column(r, a->self + v, nv, n, scale, &g, &total, true, depth, &zero_leaf);
		else
			ok = get_column(r, a->self + v, nv, n, scale, &g, &total, false, depth, &zero_leaf);
		if (!ok)
			return false;
		/* The stored values share no factor; all 0 only with scale 1. */
		if (version >= 2 && g != 1 && !(g == 0 && scale == 1))
			return pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: the values of column %u share the factor %llu\n"
					"A column's scale is the greatest common divisor of its values (1 when all are 0), so the stored values share no factor.",
					v, (unsigned long long) (g ? g : scale));
		counts->totals[v] = column_sum_total(&total);
		if (total.overflow)
			counts->overflow |= (uint64_t) 1 << v;
	}
	if (r->pos != r->len)
		return pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: %zu bytes after the last column",
					   r->len - r->pos);
	if (zero_leaf != 0)
		return pe_fail(r->ctx, PE_ERR_CORRUPT, "corrupt profile value: node %u and all its descendants have only zero values\n"
				"All-zero subtrees are left out of a stored profile.", zero_leaf);
	return true;
}

/*
 * Parse the tree part of a body (names and columns).  With t (which holds
 * the header fields): into t, names into its own table.  Without: into
 * arrays of a allocated here (the caller sets a->nvalues and frees them
 * with node_arrays_free), with path hashes, names into r->names.
 */
static bool
parse_tree(Reader *r, PeTree *t, NodeArrays *a, int version, TreeCounts *counts)
{
	PeCtx	   *ctx = r->ctx;
	uint32_t	nstrings = 0;
	uint32_t	nnodes;
	uint32_t   *map = NULL;
	uint32_t   *depth = NULL;
	PathEntry  *way = NULL;
	const PeStrtab *own = NULL;
	bool		ok = false;

	if (t != NULL)
	{
		r->names = &t->names;
		own = &t->names;
		a->nvalues = t->meta.nvalues;
	}
	if (!get_names(r, own, version, &nstrings, &map) ||
		!get_u32(r, &nnodes, UINT32_MAX - 2, "the number of nodes", -1))
		goto done;
	if ((uint64_t) nnodes + 1 > ctx->limits.max_nodes)
	{
		pe_fail(ctx, PE_ERR_LIMIT_NODES, "call tree exceeds the limit of %u nodes\n"
				"The stored profile has %llu nodes.",
				ctx->limits.max_nodes, (unsigned long long) nnodes + 1);
		goto done;
	}
	/* Each node takes at least one byte per column. */
	if ((uint64_t) nnodes * (2 + a->nvalues) > r->len - r->pos)
	{
		pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: %u nodes declared in %zu remaining bytes",
				nnodes, r->len - r->pos);
		goto done;
	}
	depth = pe_alloc(ctx, sizeof(uint32_t) * ((size_t) nnodes + 2));
	way = pe_alloc(ctx, sizeof(PathEntry) * ((size_t) nnodes + 2));
	if (!depth || !way)
		goto done;
	if (t != NULL)
	{
		if (!pe_tree_reserve(t, nnodes + 1))
			goto done;
		a->parent = t->parent;
		a->name = t->name;
		a->self = t->self;
		a->hash = NULL;
	}
	else
	{
		a->parent = pe_alloc(ctx, sizeof(uint32_t) * (nnodes + 1));
		a->name = pe_alloc(ctx, sizeof(uint32_t) * (nnodes + 1));
		a->self = pe_alloc(ctx, sizeof(int64_t) * (nnodes + 1) * a->nvalues);
		a->hash = pe_alloc(ctx, sizeof(uint64_t) * (nnodes + 1));
		if (!a->parent || !a->name || !a->self || !a->hash)
			goto done;
		a->parent[0] = PE_NO_NODE;
		a->name[0] = 0;
		a->hash[0] = PE_ROOT_PATH_HASH;
	}
	a->n = nnodes + 1;
	ok = get_depths(r, nnodes, depth) &&
		get_nodes(r, a, nnodes, depth, nstrings, map, way) &&
		get_selves(r, a, depth, version, counts);
	if (t != NULL)
		t->nnodes = a->n;
	counts->nnodes = nnodes;
	/* Functions: the table's names but an empty one (the root's name). */
	counts->nfunctions = nstrings - (nstrings > 0 && r->names->len[map[0]] == 0);
done:
	pe_free(ctx, map);
	pe_free(ctx, depth);
	pe_free(ctx, way);
	return ok;
}

static void
node_arrays_free(PeCtx *ctx, NodeArrays *a)
{
	pe_free(ctx, a->parent);
	pe_free(ctx, a->name);
	pe_free(ctx, a->self);
	pe_free(ctx, a->hash);
	memset(a, 0, sizeof(*a));
}

/* A version 1 body: header fields, then the tree (t is initialized here). */
static bool
parse_body_v1(PeCtx *ctx, const uint8_t *body, size_t body_len, PeTree *t)
{
	Reader		r = {ctx, body, body_len, 0, VARINT_OK, NULL};
	PeMeta		meta;
	NodeArrays	a;
	TreeCounts	counts;
	bool		ok;

	if (!get_meta(&r, &meta))
	{
		pe_meta_free(ctx, &meta);
		return false;
	}
	ok = pe_tree_init(ctx, t, &meta);
	pe_meta_free(ctx, &meta);
	memset(&counts, 0, sizeof(counts));
	return ok && parse_tree(&r, t, &a, 1, &counts);
}

/*
 * The summary (version 2 or later): header fields, then node and function counts,
 * the overflow mask and the per-type totals, filling exactly its bytes.
 * Checked on its own here; against the tree by check_summary.
 */
static bool
get_summary(PeCtx *ctx, const uint8_t *data, size_t len, uint32_t crc, PeSummary *s)
{
	Reader		r = {ctx, data, len, 0, VARINT_OK, NULL};
	uint32_t	nv;

	if (summary_crc(data, len) != crc)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: the summary's checksum does not match\n"
				"The %zu bytes after the header have CRC-32 %08X; the header says %08X.",
				len, summary_crc(data, len), crc);

	if (!get_meta(&r, &s->meta) ||
		!get_u32(&r, &s->nnodes, UINT32_MAX - 2, "the number of nodes in the summary", -1) ||
		!get_u32(&r, &s->nfunctions, UINT32_MAX / 2, "the number of functions in the summary", -1))
		return false;
	nv = s->meta.nvalues;
	if (!get_varint(&r, &s->overflow))
		return varint_fail(&r, "the overflow mask", -1);
	if (nv < 64 && (s->overflow >> nv) != 0)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: overflow mask 0x%llx names sample types the profile does not have",
					   (unsigned long long) s->overflow);
	for (uint32_t v = 0; v < nv; v++)
	{
		if (!get_i64(&r, &s->totals[v], "the total of sample type", v))
			return false;
		if ((s->overflow >> v & 1) && s->totals[v] != 0)
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: the total of sample type %u overflows but is not stored as 0",
						   v);
	}
	if (r.pos != r.len)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: %zu bytes after the summary's totals",
					   r.len - r.pos);
	return true;
}

/* The summary of a decoded tree must be the one its encoder would write. */
static bool
check_summary(PeCtx *ctx, const PeSummary *s, const TreeCounts *c)
{
	if (s->nnodes != c->nnodes)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: the summary says %u nodes, the tree has %u",
					   s->nnodes, c->nnodes);
	if (s->nfunctions != c->nfunctions)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: the summary says %u functions, the tree has %u",
					   s->nfunctions, c->nfunctions);
	for (uint32_t v = 0; v < s->meta.nvalues; v++)
	{
		bool		overflow = c->overflow >> v & 1;
		int64_t		sum = c->totals[v];

		if (overflow != (bool) (s->overflow >> v & 1) || sum != s->totals[v])
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: the summary's total of sample type %u does not match the tree\n"
					"The summary says %lld%s; the tree's values sum to %lld%s.",
					v, (long long) s->totals[v], (s->overflow >> v & 1) ? " (overflow)" : "", (long long) sum, overflow ? " (overflow)" : "");
	}
	return true;
}

/* A version 2, 3 or 4 body: the tree, whose header fields come from the summary. */
static bool
parse_body_v2(PeCtx *ctx, const uint8_t *body, size_t body_len, int version,
			  const PeSummary *s, PeTree *t)
{
	Reader		r = {ctx, body, body_len, 0, VARINT_OK, NULL};
	NodeArrays	a;
	TreeCounts	counts;

	memset(&counts, 0, sizeof(counts));
	return pe_tree_init(ctx, t, &s->meta) &&
		parse_tree(&r, t, &a, version, &counts) &&
		check_summary(ctx, s, &counts);
}

/*
 * Decompress a zstd body of exactly body_len bytes.  The frame must be the
 * whole input, declare its content size and carry a checksum; in version 4
 * it names the format's dictionary, before that none.
 */
static bool
zstd_inflate(PeCtx *ctx, const uint8_t *src, size_t srclen, int version, uint32_t body_len,
			 uint8_t **out)
{
	ZSTD_frameHeader fh;
	const ZSTD_DDict *ddict = NULL;
	ZSTD_DCtx  *dctx;
	ZSTD_outBuffer o;
	size_t		consumed = 0;
	size_t		rc;
	bool		stuck = false;
	uint8_t    *body;

	rc = ZSTD_getFrameHeader(&fh, src, srclen);
	if (ZSTD_isError(rc) || rc != 0 || fh.frameType != ZSTD_frame)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: bad zstd frame header\n"
				"The body is flagged as zstd-compressed but does not start with a zstd frame.");
	if (fh.frameContentSize != body_len)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: compressed body size does not match the header\n"
				"The header declares %u bytes, the zstd frame %llu.",
				body_len, (unsigned long long) fh.frameContentSize);
	if (!fh.checksumFlag || (version < 4 && fh.dictID != 0))
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: zstd frame without checksum or with a dictionary\n"
				"Bodies of format version %d are single zstd frames with a content checksum and no dictionary.",
				version);
	if (version >= 4 && fh.dictID != PE_DICT_V4_ID)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: zstd frame of format version 4 without its dictionary\n"
				"Version 4 bodies name zstd dictionary %u; this frame names %u (0: none).",
				PE_DICT_V4_ID, fh.dictID);
	rc = ZSTD_findFrameCompressedSize(src, srclen);
	if (ZSTD_isError(rc) || rc != srclen)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: compressed body is truncated or followed by other data\n"
				"The body is %zu bytes; it must be exactly one zstd frame.", srclen);
	if (version >= 4 && (ddict = dict_digested(ctx, DICT_FOR_READING)) == NULL)
		return false;

	body = pe_alloc(ctx, body_len ? body_len : 1);
	if (body == NULL)
		return false;
	if (ctx->zstd_dctx)
	{
		/* The caller's context: reset whatever an interrupted use left. */
		dctx = ctx->zstd_dctx;
		ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
	}
	else
		dctx = ZSTD_createDCtx_advanced(zstd_mem(ctx));
	if (dctx == NULL)
	{
		pe_free(ctx, body);
		return pe_fail(ctx, PE_ERR_NOMEM, "out of memory creating a zstd decompression context");
	}
	o.dst = body;
	o.size = body_len;
	o.pos = 0;
	rc = ZSTD_DCtx_setParameter(dctx, ZSTD_d_stableOutBuffer, 1);
	if (!ZSTD_isError(rc) && ddict)
		rc = ZSTD_DCtx_refDDict(dctx, ddict);
	while (!ZSTD_isError(rc))
	{
		size_t		end = srclen - consumed > ZSTD_PIECE ? consumed + ZSTD_PIECE : srclen;
		ZSTD_inBuffer in = {src, end, consumed};
		size_t		out_before = o.pos;

		rc = ZSTD_decompressStream(dctx, &o, &in);
		if (ZSTD_isError(rc) || rc == 0)
			break;
		/* No progress with all input given: the frame is cut short. */
		if (end == srclen && in.pos == consumed && o.pos == out_before)
		{
			stuck = true;
			break;
		}
		consumed = in.pos;
		pe_check_interrupts(ctx);
	}
	if (dctx != ctx->zstd_dctx)
		ZSTD_freeDCtx(dctx);
	if (ZSTD_isError(rc) || stuck || o.pos != body_len)
	{
		pe_free(ctx, body);
		pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: cannot decompress the body\n"
				"zstd reports: %s.", ZSTD_isError(rc) ? ZSTD_getErrorName(rc) :
					  stuck ? "frame is truncated" : "wrong decompressed size");
		return false;
	}
	*out = body;
	return true;
}

static inline uint32_t
get_u32le(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
		(uint32_t) p[3] << 24;
}

/*
 * Check the fixed header of a value of len bytes (of which have are at
 * hand: a reader of the summary alone has only the first bytes).  Sets the
 * version, the size of the uncompressed prefix (the header, and in version
 * 2 the summary) and the body's uncompressed size.
 */
static bool
check_header(PeCtx *ctx, const uint8_t *data, size_t have, size_t len,
			 int *version, size_t *prefix, uint32_t *body_len)
{
	size_t		header;

	if (have < PE_HEADER_SIZE)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: too short\n"
				"The value has %zu bytes; the header alone has %d.", have, PE_HEADER_SIZE);
	if (!pe_is_native(data, have))
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: bad magic bytes\n"
				"A stored profile starts with the bytes 7F 50 52 46; this one starts with %02X %02X %02X %02X.",
				data[0], data[1], data[2], data[3]);
	if (data[4] < 1 || data[4] > PE_FORMAT_VERSION)
		return pe_fail(ctx, PE_ERR_UNSUPPORTED, "unsupported profile format version %u\n"
				"This build of profile_ext reads format versions 1 to 4.", data[4]);
	*version = data[4];
	if (data[5] & ~PE_FLAG_ZSTD)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: unknown flag bits 0x%02X\n"
				"Format version %d defines only flag bit 0 (zstd-compressed body).",
				data[5] & ~PE_FLAG_ZSTD, *version);
	if (data[6] != 0 || data[7] != 0)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: reserved header bytes are not zero");
	*body_len = get_u32le(data + 8);
	header = *version == 1 ? PE_HEADER_SIZE : PE_HEADER_SIZE_V2;
	if (have < header)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: too short\n"
				"The value has %zu bytes; the version %d header alone has %zu.",
				have, *version, header);
	*prefix = header;
	if (*version >= 2)
	{
		uint32_t	summary_len = get_u32le(data + 12);

		if (summary_len > len - header)
			return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: summary of %u bytes overruns the value\n"
					"The value has %zu bytes after its header.", summary_len, len - header);
		*prefix += summary_len;
	}
	return true;
}

/* The decompressed body of a whole value, checking its size; *inflated is what to free. */
static bool
get_body(PeCtx *ctx, const uint8_t *data, size_t len, size_t prefix, uint32_t body_len,
		 const uint8_t **body, uint8_t **inflated)
{
	*inflated = NULL;
	if (body_len > ctx->limits.max_decoded_bytes)
		return pe_fail(ctx, PE_ERR_LIMIT_SIZE, "profile value exceeds the decoded size limit\n"
				"Its body is %u bytes; the limit is %zu.", body_len, ctx->limits.max_decoded_bytes);
	if (data[5] & PE_FLAG_ZSTD)
	{
		if (!zstd_inflate(ctx, data + prefix, len - prefix, data[4], body_len, inflated))
			return false;
		*body = *inflated;
		return true;
	}
	if (body_len != len - prefix)
		return pe_fail(ctx, PE_ERR_CORRUPT, "corrupt profile value: body length does not match the header\n"
				"The header declares %u bytes; %zu follow it.", body_len, len - prefix);
	*body = data + prefix;
	return true;
}

/*
 * The parts of a whole value: its version, its summary (version 2 or
 * later) and its decompressed body.  The caller frees summary->meta and
 * *inflated whatever the outcome.
 */
static bool
open_value(PeCtx *ctx, const uint8_t *data, size_t len, int *version, PeSummary *summary,
		   const uint8_t **body, uint32_t *body_len, uint8_t **inflated)
{
	size_t		prefix;

	memset(summary, 0, sizeof(*summary));
	*inflated = NULL;
	*body = NULL;
	if (!check_header(ctx, data, len, len, version, &prefix, body_len))
		return false;
	if (*version >= 2 &&
		!get_summary(ctx, data + PE_HEADER_SIZE_V2, prefix - PE_HEADER_SIZE_V2,
					 get_u32le(data + 16), summary))
		return false;
	return get_body(ctx, data, len, prefix, *body_len, body, inflated);
}

size_t
pe_summary_prefix(const uint8_t *data, size_t len)
{
	if (len < 5 || !pe_is_native(data, len) || data[4] < 2)
		return 0;
	if (len < PE_HEADER_SIZE_V2)
		return PE_HEADER_SIZE_V2;
	return (size_t) PE_HEADER_SIZE_V2 + get_u32le(data + 12);
}

bool
pe_decode_summary(PeCtx *ctx, const uint8_t *data, size_t have, size_t len,
				  PeSummary *s)
{
	int			version;
	size_t		prefix;
	uint32_t	body_len;
	PeTree		t;

	memset(s, 0, sizeof(*s));
	if (!check_header(ctx, data, have, len, &version, &prefix, &body_len))
		return false;
	s->version = (uint8_t) version;
	s->compressed = (data[5] & PE_FLAG_ZSTD) != 0;
	s->decoded_bytes = (uint64_t) prefix + body_len;
	s->stored_bytes = len;
	if (version >= 2)
	{
		if (have < prefix)
			return pe_fail(ctx, PE_ERR_ARG, "profile summary needs the first %zu bytes of the value, not %zu",
						   prefix, have);
		if (get_summary(ctx, data + PE_HEADER_SIZE_V2, prefix - PE_HEADER_SIZE_V2,
						get_u32le(data + 16), s))
			return true;
		pe_summary_free(ctx, s);
		return false;
	}

	/* Version 1 keeps the header fields in the compressed body: decode it all. */
	if (have != len)
		return pe_fail(ctx, PE_ERR_ARG, "a version 1 profile summary needs the whole value");
	if (!pe_decode(ctx, data, len, &t))
		return false;
	s->nnodes = t.nnodes - 1;
	s->nfunctions = t.names.n - 1;
	for (uint32_t v = 0; v < t.meta.nvalues; v++)
	{
		bool		overflow;

		s->totals[v] = column_total(&t, NULL, t.nnodes, v, &overflow);
		if (overflow)
			s->overflow |= (uint64_t) 1 << v;
	}
	/* The tree's header fields become the summary's. */
	s->meta = t.meta;
	memset(&t.meta, 0, sizeof(t.meta));
	pe_tree_free(&t);
	return true;
}

void
pe_summary_free(PeCtx *ctx, PeSummary *s)
{
	pe_meta_free(ctx, &s->meta);
}

bool
pe_summary_total(PeCtx *ctx, const PeSummary *s, uint32_t v, int64_t *total)
{
	if (s->overflow >> v & 1)
		return pe_fail(ctx, PE_ERR_OVERFLOW, "profile value out of range\n"
				"Adding the values overflows a 64-bit integer.");
	*total = s->totals[v];
	return true;
}

bool
pe_decode(PeCtx *ctx, const uint8_t *data, size_t len, PeTree *t)
{
	int			version;
	uint32_t	body_len;
	uint8_t    *inflated;
	const uint8_t *body;
	PeSummary	summary;
	bool		ok;

	memset(t, 0, sizeof(*t));
	ok = open_value(ctx, data, len, &version, &summary, &body, &body_len, &inflated);
	if (ok && version == 1)
		ok = parse_body_v1(ctx, body, body_len, t);
	else if (ok)
		ok = parse_body_v2(ctx, body, body_len, version, &summary, t);
	pe_free(ctx, inflated);
	pe_meta_free(ctx, &summary.meta);
	if (!ok)
		pe_tree_free(t);
	else
		t->canonical = true;	/* validated: nodes are in canonical order */
	return ok;
}

/*
 * The value is decoded and validated whole into scratch arrays (names go
 * into dst's table), and only then folded into dst by path hashes.
 */
bool
pe_decode_merge(PeCtx *ctx, const uint8_t *data, size_t len, PeTree *dst)
{
	int			version;
	uint32_t	body_len;
	uint8_t    *inflated;
	const uint8_t *body;
	PeSummary	summary;
	PeMeta		meta_v1;
	const PeMeta *meta = &summary.meta;
	NodeArrays	a;
	TreeCounts	counts;
	uint32_t   *map = NULL;
	bool		ok;

	memset(&meta_v1, 0, sizeof(meta_v1));
	memset(&a, 0, sizeof(a));
	memset(&counts, 0, sizeof(counts));
	ok = open_value(ctx, data, len, &version, &summary, &body, &body_len, &inflated);
	if (ok)
	{
		Reader		r = {ctx, body, body_len, 0, VARINT_OK, &dst->names};

		/* Version 1 keeps the header fields in the body. */
		if (version == 1)
		{
			ok = get_meta(&r, &meta_v1);
			meta = &meta_v1;
		}
		a.nvalues = meta->nvalues;
		ok = ok && parse_tree(&r, NULL, &a, version, &counts) &&
			(version == 1 || check_summary(ctx, &summary, &counts)) &&
			pe_meta_compatible(ctx, &dst->meta, meta) &&
			(map = pe_alloc(ctx, sizeof(uint32_t) * a.n)) != NULL &&
			pe_meta_merge(ctx, &dst->meta, meta) &&
			pe_tree_merge_paths(dst, a.n, a.parent, a.name, a.hash, a.self, map);
	}
	pe_free(ctx, inflated);
	pe_free(ctx, map);
	node_arrays_free(ctx, &a);
	pe_meta_free(ctx, &meta_v1);
	pe_meta_free(ctx, &summary.meta);
	return ok;
}
