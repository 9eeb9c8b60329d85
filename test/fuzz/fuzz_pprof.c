/*
 * fuzz_pprof.c
 *		libFuzzer target: pe_pprof_decode on arbitrary bytes (plain or
 *		gzipped pprof).
 *
 * When the input decodes, the tree must survive both ways out:
 * - the stored format: pe_encode at level 0, pe_decode, and re-encoding
 *   gives the same bytes;
 * - pprof: pe_pprof_encode (plain or gzipped, chosen by the input's last
 *   byte) decodes again with the same sample types and the same totals.
 */
#include "fuzz_common.h"
#include "pe_codec.h"
#include "pe_pprof.h"

/* Stored-format round trip: encode, decode, encode again, same bytes. */
static void
check_stored_round_trip(PeCtx *ctx, const PeTree *t)
{
	uint8_t    *enc1 = NULL;
	uint8_t    *enc2 = NULL;
	size_t		len1,
				len2;
	PeTree		back;

	if (!pe_encode(t, 0, 0, &enc1, &len1))
	{
		/* only a body over max_decoded_bytes, or no sample types */
		FUZZ_FAILED(ctx);
		FUZZ_ASSERT(ctx, pe_err_is_limit(ctx->err.code) ||
					(ctx->err.code == PE_ERR_ARG && t->meta.nvalues == 0));
		fuzz_clear_error(ctx);
		return;
	}
	FUZZ_ASSERT(ctx, pe_decode(ctx, enc1, len1, &back));
	fuzz_check_tree(ctx, &back);
	FUZZ_ASSERT(ctx, pe_encode(&back, 0, 0, &enc2, &len2));
	FUZZ_ASSERT(ctx, fuzz_same_bytes(enc1, len1, enc2, len2));
	pe_tree_free(&back);
	pe_free(ctx, enc1);
	pe_free(ctx, enc2);
}

/* pprof round trip: the same sample types and totals come back. */
static void
check_pprof_round_trip(PeCtx *ctx, const PeTree *t, bool gzip)
{
	uint8_t    *pb = NULL;
	size_t		pblen;
	PeTree		back;

	if (!pe_pprof_encode(t, gzip, 0, &pb, &pblen))
	{
		FUZZ_FAILED(ctx);
		FUZZ_ASSERT(ctx, pe_err_is_limit(ctx->err.code) ||
					(ctx->err.code == PE_ERR_ARG && t->meta.nvalues == 0));
		fuzz_clear_error(ctx);
		return;
	}
	FUZZ_ASSERT(ctx, pe_pprof_decode(ctx, pb, pblen, &back));
	fuzz_check_tree(ctx, &back);
	FUZZ_ASSERT(ctx, back.meta.nvalues == t->meta.nvalues);
	for (uint32_t v = 0; v < t->meta.nvalues; v++)
	{
		int64_t		a,
					b;

		FUZZ_ASSERT(ctx, strcmp(back.meta.types[v].type, t->meta.types[v].type) == 0);
		FUZZ_ASSERT(ctx, strcmp(back.meta.types[v].unit, t->meta.types[v].unit) == 0);
		/* the decoder summed the same samples, so a sum overflow is shared */
		if (pe_tree_sum(t, v, &a))
		{
			FUZZ_ASSERT(ctx, pe_tree_sum(&back, v, &b));
			FUZZ_ASSERT(ctx, a == b);
		}
		else
			fuzz_clear_error(ctx);
	}
	pe_tree_free(&back);
	pe_free(ctx, pb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PeCtx		ctx;
	PeTree		t;

	fuzz_ctx_init(&ctx);
	if (!pe_pprof_decode(&ctx, data, size, &t))
	{
		FUZZ_FAILED(&ctx);
		return 0;
	}
	fuzz_check_tree(&ctx, &t);
	check_stored_round_trip(&ctx, &t);
	check_pprof_round_trip(&ctx, &t, size > 0 && (data[size - 1] & 1));
	pe_tree_free(&t);
	return 0;
}
