/*
 * fuzz_folded.c
 *		libFuzzer target: pe_folded_parse and pe_folded_write.
 *
 * The first input byte picks the header (bit 0: one or two sample types);
 * the rest is the folded text.  When it parses, every column written as
 * folded text must read back and write again to the same text:
 * write(parse(write(t))) == write(t).  Writing may refuse a tree with
 * PE_ERR_ARG (a name that folded text cannot hold) or PE_ERR_LIMIT (the
 * text would pass max_decoded_bytes); nothing else.
 */
#include "fuzz_common.h"
#include "pe_folded.h"

static PeSampleType fuzz_types[2] = {
	{"samples", "count"},
	{"cpu", "nanoseconds"},
};

static void
fuzz_meta(PeMeta *meta, uint32_t nvalues)
{
	memset(meta, 0, sizeof(*meta));
	meta->nvalues = nvalues;
	meta->types = fuzz_types;
	meta->period_type.type = "cpu";
	meta->period_type.unit = "nanoseconds";
	meta->period = 10000000;
	meta->default_type = -1;
}

/* Column v as text, read back with one sample type, written again. */
static void
check_write_round_trip(PeCtx *ctx, const PeTree *t, uint32_t v)
{
	PeMeta		one;
	PeTree		back;
	char	   *text1 = NULL;
	char	   *text2 = NULL;
	size_t		len1,
				len2;

	if (!pe_folded_write(t, v, &text1, &len1))
	{
		FUZZ_FAILED(ctx);
		FUZZ_ASSERT(ctx, ctx->err.code == PE_ERR_ARG || pe_err_is_limit(ctx->err.code));
		fuzz_clear_error(ctx);
		return;
	}
	FUZZ_ASSERT(ctx, text1[len1] == '\0');
	fuzz_meta(&one, 1);
	FUZZ_ASSERT(ctx, pe_folded_parse(ctx, text1, len1, &one, &back));
	fuzz_check_tree(ctx, &back);
	FUZZ_ASSERT(ctx, pe_folded_write(&back, 0, &text2, &len2));
	FUZZ_ASSERT(ctx, fuzz_same_bytes((uint8_t *) text1, len1, (uint8_t *) text2, len2));
	pe_free(ctx, text1);
	pe_free(ctx, text2);
	pe_tree_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PeCtx		ctx;
	PeMeta		meta;
	PeTree		t;

	if (size < 1)
		return 0;
	fuzz_ctx_init(&ctx);
	fuzz_meta(&meta, (data[0] & 1) ? 2 : 1);
	if (!pe_folded_parse(&ctx, (const char *) data + 1, size - 1, &meta, &t))
	{
		FUZZ_FAILED(&ctx);
		return 0;
	}
	fuzz_check_tree(&ctx, &t);
	for (uint32_t v = 0; v < meta.nvalues; v++)
		check_write_round_trip(&ctx, &t, v);
	pe_tree_free(&t);
	return 0;
}
