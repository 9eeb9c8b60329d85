/*
 * fuzz_stored.c
 *		libFuzzer target: pe_decode and pe_decode_summary, the validating
 *		readers of the stored format (docs/FORMAT.md), versions 1 to 4.
 *
 * An input that starts with the magic bytes is decoded as it is.  Any
 * other input is taken as a raw body behind a valid raw header, so that
 * mutations reach the parsers without having to keep lengths and the
 * summary's CRC right: first byte even, a version 1 header; odd, a
 * version 2, 3 or 4 header (bits 1-2: 0 picks 2, 1 picks 3, else 4) whose
 * summary is the next data[1] bytes (as many as there are) and whose body
 * is the rest.
 *
 * The format has one raw encoding per tree, so when a value decodes:
 * - raw input: pe_encode at level 0, in the value's version, reproduces
 *   it byte for byte;
 * - zstd input: the frame's content equals the level-0 body, and the
 *   level-0 value decodes to a tree that encodes the same way again.
 * Either way a zstd re-encoding (level 1) decodes back to the same tree,
 * and the summary read from the value's first bytes alone agrees with the
 * decoded tree.  The summary reader runs on every input, on every prefix
 * length it asks for.  pe_decode_merge (the merge aggregate's reader)
 * accepts exactly what pe_decode accepts: a refused value leaves the
 * state's tree as it was; an accepted one folded into its own decoded
 * tree gives the tree merged with itself.
 */
#include <zlib.h>
#include <zstd.h>

#include "fuzz_common.h"
#include "pe_codec.h"
#include "pe_dict.h"

static size_t
prefix_of(const uint8_t *data)
{
	return data[4] == 1 ? PE_HEADER_SIZE :
		PE_HEADER_SIZE_V2 + (size_t) (data[12] | data[13] << 8 | data[14] << 16 |
									  (uint32_t) data[15] << 24);
}

/* Encode at level 0, decode, encode again: the same bytes. */
static void
check_level0_stable(PeCtx *ctx, int version, const uint8_t *enc, size_t len)
{
	PeTree		back;
	uint8_t    *again = NULL;
	size_t		againlen;

	FUZZ_ASSERT(ctx, pe_decode(ctx, enc, len, &back));
	fuzz_check_tree(ctx, &back);
	FUZZ_ASSERT(ctx, pe_encode_version(&back, version, 0, 0, &again, &againlen));
	FUZZ_ASSERT(ctx, fuzz_same_bytes(enc, len, again, againlen));
	pe_free(ctx, again);
	pe_tree_free(&back);
}

/* A zstd re-encoding of t decodes to the tree whose raw form is raw. */
static void
check_zstd_round_trip(PeCtx *ctx, int version, const PeTree *t, const uint8_t *raw,
					  size_t rawlen)
{
	uint8_t    *z = NULL;
	uint8_t    *again = NULL;
	size_t		zlen,
				againlen;
	PeTree		back;

	FUZZ_ASSERT(ctx, pe_encode_version(t, version, 1, 0, &z, &zlen));
	FUZZ_ASSERT(ctx, pe_decode(ctx, z, zlen, &back));
	FUZZ_ASSERT(ctx, pe_encode_version(&back, version, 0, 0, &again, &againlen));
	FUZZ_ASSERT(ctx, fuzz_same_bytes(raw, rawlen, again, againlen));
	pe_free(ctx, z);
	pe_free(ctx, again);
	pe_tree_free(&back);
}

/* The zstd frame of a value decompresses to exactly the raw body (with version 4's dictionary). */
static void
check_zstd_body(PeCtx *ctx, const uint8_t *data, size_t size,
				const uint8_t *raw, size_t rawlen)
{
	size_t		prefix = prefix_of(raw);
	size_t		bodylen = rawlen - prefix;
	uint8_t    *body = malloc(bodylen ? bodylen : 1);
	size_t		got;

	FUZZ_ASSERT(ctx, body != NULL && prefix_of(data) == prefix);
	{
		ZSTD_DCtx  *dctx = ZSTD_createDCtx();

		FUZZ_ASSERT(ctx, dctx != NULL);
		got = data[4] >= 4 ?
			ZSTD_decompress_usingDict(dctx, body, bodylen, data + prefix, size - prefix,
									  pe_dict_v4, PE_DICT_V4_SIZE) :
			ZSTD_decompressDCtx(dctx, body, bodylen, data + prefix, size - prefix);
		ZSTD_freeDCtx(dctx);
	}
	FUZZ_ASSERT(ctx, !ZSTD_isError(got) && got == bodylen);
	FUZZ_ASSERT(ctx, memcmp(body, raw + prefix, bodylen) == 0);
	/* header and summary: everything but the flags is the same */
	FUZZ_ASSERT(ctx, memcmp(data, raw, 5) == 0 && memcmp(data + 6, raw + 6, prefix - 6) == 0);
	free(body);
}

/* The summary from the first bytes alone equals the decoded tree's. */
static void
check_summary(PeCtx *ctx, const uint8_t *data, size_t size, const PeTree *t)
{
	PeSummary	s;
	size_t		need = pe_summary_prefix(data, size);
	size_t		have = need ? need : size;

	FUZZ_ASSERT(ctx, have <= size);
	FUZZ_ASSERT(ctx, pe_decode_summary(ctx, data, have, size, &s));
	FUZZ_ASSERT(ctx, s.version == data[4] && s.stored_bytes == size);
	FUZZ_ASSERT(ctx, s.meta.nvalues == t->meta.nvalues && s.nnodes == t->nnodes - 1 &&
				s.nfunctions == t->names.n - 1);
	FUZZ_ASSERT(ctx, s.meta.period == t->meta.period && s.meta.time_nanos == t->meta.time_nanos &&
				s.meta.duration_nanos == t->meta.duration_nanos &&
				s.meta.default_type == t->meta.default_type);
	for (uint32_t v = 0; v < t->meta.nvalues; v++)
	{
		int64_t		sum = 0;
		int64_t		total = 0;
		bool		ok = pe_tree_sum(t, v, &sum);

		FUZZ_ASSERT(ctx, strcmp(s.meta.types[v].type, t->meta.types[v].type) == 0 &&
					strcmp(s.meta.types[v].unit, t->meta.types[v].unit) == 0);
		FUZZ_ASSERT(ctx, pe_summary_total(ctx, &s, v, &total) == ok);
		FUZZ_ASSERT(ctx, !ok || total == sum);
	}
	pe_summary_free(ctx, &s);
}

/* The summary reader on any input: never more than it asked for. */
static void
fuzz_summary(PeCtx *ctx, const uint8_t *data, size_t size)
{
	PeSummary	s;
	size_t		need = pe_summary_prefix(data, size < 32 ? size : 32);

	if (need == 0 || need > size)
		need = size;
	/* A copy of exactly the prefix, so that ASan sees any read past it. */
	{
		uint8_t    *prefix = malloc(need ? need : 1);

		FUZZ_ASSERT(ctx, prefix != NULL);
		memcpy(prefix, data, need);
		if (pe_decode_summary(ctx, prefix, need, size, &s))
			pe_summary_free(ctx, &s);
		else
			FUZZ_FAILED(ctx);
		free(prefix);
	}
}

/* The level-0 encoding of t (the caller frees it). */
static uint8_t *
raw_of(PeCtx *ctx, const PeTree *t, size_t *len)
{
	uint8_t    *out = NULL;

	FUZZ_ASSERT(ctx, pe_encode(t, 0, 0, &out, len));
	return out;
}

/* pe_decode_merge of the input: see the file header.  t: the decoded tree, or NULL. */
static void
check_decode_merge(PeCtx *ctx, const uint8_t *data, size_t size, const PeTree *t)
{
	PeTree		st;
	PeTree		twice;
	uint8_t    *before,
			   *after;
	size_t		beforelen,
				afterlen;

	if (t == NULL)
	{
		/* a small state of one sample type, built through its child index */
		static const PeSampleType types[] = {{"samples", "count"}};
		PeMeta		meta = {.nvalues = 1, .types = (PeSampleType *) types,
			.period_type = {"", ""}, .default_type = -1};
		int64_t		one[] = {1};
		uint32_t	a;

		FUZZ_ASSERT(ctx, pe_tree_init(ctx, &st, &meta));
		a = pe_tree_child(&st, 0, pe_strtab_intern(&st.names, "main", 4));
		FUZZ_ASSERT(ctx, a != PE_NO_NODE && pe_tree_add_self(&st, a, one));
		before = raw_of(ctx, &st, &beforelen);
		FUZZ_ASSERT(ctx, !pe_decode_merge(ctx, data, size, &st));
		FUZZ_FAILED(ctx);
		fuzz_clear_error(ctx);
		fuzz_check_tree(ctx, &st);
		after = raw_of(ctx, &st, &afterlen);
		FUZZ_ASSERT(ctx, fuzz_same_bytes(before, beforelen, after, afterlen));
		pe_free(ctx, before);
		pe_free(ctx, after);
		pe_tree_free(&st);
		return;
	}
	FUZZ_ASSERT(ctx, pe_decode(ctx, data, size, &st));
	FUZZ_ASSERT(ctx, pe_decode(ctx, data, size, &twice));
	if (!pe_tree_merge(&twice, t, false))
	{
		/* values doubled may overflow: then the aggregate's path must fail too */
		FUZZ_ASSERT(ctx, ctx->err.code == PE_ERR_OVERFLOW);
		fuzz_clear_error(ctx);
		FUZZ_ASSERT(ctx, !pe_decode_merge(ctx, data, size, &st));
		FUZZ_ASSERT(ctx, ctx->err.code == PE_ERR_OVERFLOW);
		fuzz_clear_error(ctx);
	}
	else
	{
		FUZZ_ASSERT(ctx, pe_meta_merge(ctx, &twice.meta, &t->meta));
		FUZZ_ASSERT(ctx, pe_decode_merge(ctx, data, size, &st));
		fuzz_check_tree(ctx, &st);
		before = raw_of(ctx, &twice, &beforelen);
		after = raw_of(ctx, &st, &afterlen);
		FUZZ_ASSERT(ctx, fuzz_same_bytes(before, beforelen, after, afterlen));
		pe_free(ctx, before);
		pe_free(ctx, after);
	}
	pe_tree_free(&st);
	pe_tree_free(&twice);
}

static void
fuzz_value(PeCtx *ctx, const uint8_t *data, size_t size)
{
	PeTree		t;
	uint8_t    *raw = NULL;
	size_t		rawlen;
	int			version;

	fuzz_summary(ctx, data, size);
	memset(&ctx->err, 0, sizeof(ctx->err));
	if (!pe_decode(ctx, data, size, &t))
	{
		FUZZ_FAILED(ctx);
		fuzz_clear_error(ctx);
		check_decode_merge(ctx, data, size, NULL);
		return;
	}
	fuzz_check_tree(ctx, &t);
	check_decode_merge(ctx, data, size, &t);
	version = data[4];
	check_summary(ctx, data, size, &t);
	FUZZ_ASSERT(ctx, pe_encode_version(&t, version, 0, 0, &raw, &rawlen));
	if ((data[5] & PE_FLAG_ZSTD) == 0)
		FUZZ_ASSERT(ctx, fuzz_same_bytes(data, size, raw, rawlen));
	else
	{
		check_zstd_body(ctx, data, size, raw, rawlen);
		check_level0_stable(ctx, version, raw, rawlen);
	}
	check_zstd_round_trip(ctx, version, &t, raw, rawlen);
	/* an older version rewritten in the current one is the same tree */
	if (version < PE_FORMAT_VERSION)
	{
		uint8_t    *now = NULL;
		size_t		nowlen;

		FUZZ_ASSERT(ctx, pe_encode(&t, 0, 0, &now, &nowlen));
		check_level0_stable(ctx, PE_FORMAT_VERSION, now, nowlen);
		pe_free(ctx, now);
	}
	pe_free(ctx, raw);
	pe_tree_free(&t);
}

static void
put_u32le(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PeCtx		ctx;

	fuzz_ctx_init(&ctx);
	if (pe_is_native(data, size))
		fuzz_value(&ctx, data, size);
	else if (size == 0 || data[0] % 2 == 0)
	{
		/* a version 1 raw header in front of the input, which becomes the body */
		uint8_t    *value = malloc(PE_HEADER_SIZE + size);

		FUZZ_ASSERT(&ctx, value != NULL);
		memcpy(value, "\x7fPRF\x01\x00\x00\x00", 8);
		put_u32le(value + 8, (uint32_t) size);
		if (size > 0)
			memcpy(value + PE_HEADER_SIZE, data, size);
		fuzz_value(&ctx, value, PE_HEADER_SIZE + size);
		free(value);
	}
	else
	{
		/* version 2, 3 or 4: data[1] bytes of summary (with a correct CRC), then the body */
		size_t		rest = size - 1;
		size_t		slen = size >= 2 ? data[1] : 0;
		const uint8_t *p = data + (size >= 2 ? 2 : 1);
		uint8_t    *value;

		rest = size >= 2 ? size - 2 : 0;
		if (slen > rest)
			slen = rest;
		value = malloc(PE_HEADER_SIZE_V2 + rest);
		FUZZ_ASSERT(&ctx, value != NULL);
		memcpy(value, "\x7fPRF\x02\x00\x00\x00", 8);
		value[4] = (data[0] >> 1 & 3) == 0 ? 2 : (data[0] >> 1 & 3) == 1 ? 3 : 4;
		put_u32le(value + 8, (uint32_t) (rest - slen));
		put_u32le(value + 12, (uint32_t) slen);
		put_u32le(value + 16, (uint32_t) crc32(0L, p, (uInt) slen));
		if (rest > 0)
			memcpy(value + PE_HEADER_SIZE_V2, p, rest);
		fuzz_value(&ctx, value, PE_HEADER_SIZE_V2 + rest);
		free(value);
	}
	return 0;
}
