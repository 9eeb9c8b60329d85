/*
 * fuzz_stored.c
 *		libFuzzer target: pe_decode, the validating reader of the stored
 *		format (docs/FORMAT.md).
 *
 * An input that starts with the magic bytes is decoded as it is.  Any
 * other input is taken as a raw body and given a valid raw header first,
 * so that mutations reach the body parser without having to keep
 * body_len right.
 *
 * The format has one raw encoding per tree, so when a value decodes:
 * - raw input: pe_encode at level 0 reproduces it byte for byte;
 * - zstd input: the frame's content equals the level-0 body, and the
 *   level-0 value decodes to a tree that encodes the same way again.
 * Either way a zstd re-encoding (level 1) decodes back to the same tree.
 */
#include <zstd.h>

#include "fuzz_common.h"
#include "pe_codec.h"

/* Encode at level 0, decode, encode again: the same bytes. */
static void
check_level0_stable(PeCtx *ctx, const uint8_t *enc, size_t len)
{
	PeTree		back;
	uint8_t    *again = NULL;
	size_t		againlen;

	FUZZ_ASSERT(ctx, pe_decode(ctx, enc, len, &back));
	fuzz_check_tree(ctx, &back);
	FUZZ_ASSERT(ctx, pe_encode(&back, 0, 0, &again, &againlen));
	FUZZ_ASSERT(ctx, fuzz_same_bytes(enc, len, again, againlen));
	pe_free(ctx, again);
	pe_tree_free(&back);
}

/* A zstd re-encoding of t decodes to the tree whose raw form is raw. */
static void
check_zstd_round_trip(PeCtx *ctx, const PeTree *t, const uint8_t *raw,
					  size_t rawlen)
{
	uint8_t    *z = NULL;
	uint8_t    *again = NULL;
	size_t		zlen,
				againlen;
	PeTree		back;

	FUZZ_ASSERT(ctx, pe_encode(t, 1, 0, &z, &zlen));
	FUZZ_ASSERT(ctx, pe_decode(ctx, z, zlen, &back));
	FUZZ_ASSERT(ctx, pe_encode(&back, 0, 0, &again, &againlen));
	FUZZ_ASSERT(ctx, fuzz_same_bytes(raw, rawlen, again, againlen));
	pe_free(ctx, z);
	pe_free(ctx, again);
	pe_tree_free(&back);
}

/* The zstd frame of a value decompresses to exactly the raw body. */
static void
check_zstd_body(PeCtx *ctx, const uint8_t *data, size_t size,
				const uint8_t *raw, size_t rawlen)
{
	size_t		bodylen = rawlen - PE_HEADER_SIZE;
	uint8_t    *body = malloc(bodylen ? bodylen : 1);
	size_t		got;

	FUZZ_ASSERT(ctx, body != NULL);
	got = ZSTD_decompress(body, bodylen, data + PE_HEADER_SIZE, size - PE_HEADER_SIZE);
	FUZZ_ASSERT(ctx, !ZSTD_isError(got) && got == bodylen);
	FUZZ_ASSERT(ctx, memcmp(body, raw + PE_HEADER_SIZE, bodylen) == 0);
	/* header: everything but the flags is the same */
	FUZZ_ASSERT(ctx, memcmp(data, raw, 5) == 0 && memcmp(data + 6, raw + 6, 6) == 0);
	free(body);
}

static void
fuzz_value(PeCtx *ctx, const uint8_t *data, size_t size)
{
	PeTree		t;
	uint8_t    *raw = NULL;
	size_t		rawlen;

	if (!pe_decode(ctx, data, size, &t))
	{
		FUZZ_FAILED(ctx);
		return;
	}
	fuzz_check_tree(ctx, &t);
	FUZZ_ASSERT(ctx, pe_encode(&t, 0, 0, &raw, &rawlen));
	if ((data[5] & PE_FLAG_ZSTD) == 0)
		FUZZ_ASSERT(ctx, fuzz_same_bytes(data, size, raw, rawlen));
	else
	{
		check_zstd_body(ctx, data, size, raw, rawlen);
		check_level0_stable(ctx, raw, rawlen);
	}
	check_zstd_round_trip(ctx, &t, raw, rawlen);
	pe_free(ctx, raw);
	pe_tree_free(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PeCtx		ctx;

	fuzz_ctx_init(&ctx);
	if (pe_is_native(data, size))
		fuzz_value(&ctx, data, size);
	else
	{
		/* a raw header in front of the input, which becomes the body */
		uint8_t    *value = malloc(PE_HEADER_SIZE + size);

		FUZZ_ASSERT(&ctx, value != NULL);
		memcpy(value, "\x7fPRF\x01\x00\x00\x00", 8);
		value[8] = (uint8_t) size;
		value[9] = (uint8_t) (size >> 8);
		value[10] = (uint8_t) (size >> 16);
		value[11] = (uint8_t) (size >> 24);
		if (size > 0)
			memcpy(value + PE_HEADER_SIZE, data, size);
		fuzz_value(&ctx, value, PE_HEADER_SIZE + size);
		free(value);
	}
	return 0;
}
