/*
 * fuzz_merge_diff.c
 *		libFuzzer target: the tree operations behind the aggregates and
 *		queries (pe_tree_merge, diffs, pe_flame_rows, pe_top,
 *		pe_tree_union2, pe_tree_filter) on pairs of decoded trees.
 *
 * Input layout: 4 bytes split point (u32le, taken modulo the payload
 * length + 1), 1 mode byte, then the payload.  The payload's two halves
 * are decoded as trees A and B: as folded text when the mode bit of the
 * half is set (bit 0 for A, bit 1 for B; bit 2 selects two sample types),
 * otherwise as a stored value when it starts with the magic bytes, else as
 * pprof.  Mode bits 5-6 pick the group of checks run on the pair (0: merges,
 * 1: diffs, 2: self-diff, filters and union, 3: all), which keeps each run
 * cheap.  The mode byte and split point also seed the pseudo-random column,
 * max_nodes and focus/ignore choices.
 *
 * Invariants checked (each only where no overflow error happened):
 * - merge commutes: A+B and B+A have the same canonical encoding, and so
 *   has A with B's stored encoding folded in (pe_decode_merge);
 * - (A-B)+B encodes as A, and A-A is all zero;
 * - flame rows: one root row, levels that step down by at most one,
 *   value == self + sum(children values) on every row, root value ==
 *   the column's total, at most max_nodes kept nodes when truncating;
 * - top: names in range, flat values summing to the total minus the root;
 * - union2 columns sum to the chosen columns of its inputs;
 * - filter without focus or ignore is the identity, and every result is a
 *   well-formed tree.
 */
#include "fuzz_common.h"
#include "pe_codec.h"
#include "pe_folded.h"
#include "pe_input.h"
#include "pe_ops.h"
#include "pe_pprof.h"

/* Groups of checks, chosen by mode bits 5-6. */
#define OPS_MERGE		1
#define OPS_DIFF		2
#define OPS_OTHER		4
static const int ops_by_mode[4] = {OPS_MERGE, OPS_DIFF, OPS_OTHER,
OPS_MERGE | OPS_DIFF | OPS_OTHER};

static PeSampleType fuzz_types[2] = {
	{"samples", "count"},
	{"cpu", "nanoseconds"},
};

typedef struct Rng
{
	uint64_t	state;
} Rng;

/* xorshift64*: cheap and deterministic for a given input */
static uint32_t
rng_next(Rng *r)
{
	r->state ^= r->state >> 12;
	r->state ^= r->state << 25;
	r->state ^= r->state >> 27;
	return (uint32_t) ((r->state * 0x2545F4914F6CDD1DULL) >> 32);
}

/* Decode one half; false (error cleared) when it is not a profile. */
static bool
decode_half(PeCtx *ctx, const uint8_t *data, size_t len, bool folded,
			uint32_t nvalues, PeTree *t)
{
	bool		ok;
	bool		native;

	if (folded)
	{
		PeMeta		meta;

		memset(&meta, 0, sizeof(meta));
		meta.nvalues = nvalues;
		meta.types = fuzz_types;
		meta.period_type.type = "";
		meta.period_type.unit = "";
		meta.default_type = -1;
		ok = pe_folded_parse(ctx, (const char *) data, len, &meta, t);
	}
	else
		ok = pe_input_decode(ctx, data, len, t, &native);
	if (!ok)
	{
		FUZZ_FAILED(ctx);
		fuzz_clear_error(ctx);
		return false;
	}
	fuzz_check_tree(ctx, t);
	if (t->meta.nvalues == 0)
	{
		/* a pprof profile without sample types has no column to work on */
		pe_tree_free(t);
		return false;
	}
	return true;
}

/* A failure is allowed only for a value overflow (or a node limit). */
static void
allow_overflow(PeCtx *ctx)
{
	FUZZ_FAILED(ctx);
	FUZZ_ASSERT(ctx, ctx->err.code == PE_ERR_OVERFLOW || pe_err_is_limit(ctx->err.code));
	fuzz_clear_error(ctx);
}

/* Canonical raw encoding of t (NULL when the body is over the limit). */
static uint8_t *
encode_raw(PeCtx *ctx, const PeTree *t, size_t *len)
{
	uint8_t    *out = NULL;

	if (!pe_encode(t, 0, 0, &out, len))
	{
		FUZZ_FAILED(ctx);
		FUZZ_ASSERT(ctx, pe_err_is_limit(ctx->err.code));
		fuzz_clear_error(ctx);
		return NULL;
	}
	return out;
}

/* a and b have the same canonical encoding (header scalars taken from a). */
static void
check_same_tree(PeCtx *ctx, const PeTree *a, PeTree *b)
{
	uint8_t    *ea,
			   *eb;
	size_t		la,
				lb;

	b->meta.period = a->meta.period;
	b->meta.time_nanos = a->meta.time_nanos;
	b->meta.duration_nanos = a->meta.duration_nanos;
	b->meta.default_type = a->meta.default_type;
	ea = encode_raw(ctx, a, &la);
	eb = encode_raw(ctx, b, &lb);
	if (ea && eb)
		FUZZ_ASSERT(ctx, fuzz_same_bytes(ea, la, eb, lb));
	pe_free(ctx, ea);
	pe_free(ctx, eb);
}

/* Checked sum; false (error cleared) on overflow. */
static bool
sum_or_skip(PeCtx *ctx, int64_t *acc, int64_t v)
{
	if (pe_add64(ctx, acc, v))
		return true;
	fuzz_clear_error(ctx);
	return false;
}

/* The flame row invariants for one column. */
static void
check_flame_column(PeCtx *ctx, const PeTree *t, const PeFlameRow *rows,
				   uint32_t n, int c, uint32_t col)
{
	uint32_t   *stack = malloc(sizeof(uint32_t) * n);
	int64_t    *child_sum = malloc(sizeof(int64_t) * n);
	bool	   *overflow = malloc(sizeof(bool) * n);
	uint32_t	sp = 0;
	int64_t		total;

	FUZZ_ASSERT(ctx, stack && child_sum && overflow);
	for (uint32_t i = 0; i <= n; i++)
	{
		uint32_t	level = i < n ? rows[i].level : 0;

		/* close rows at this level or deeper: value == self + children */
		while (sp > 0 && rows[stack[sp - 1]].level >= level)
		{
			uint32_t	r = stack[--sp];
			int64_t		expect = rows[r].self[c];

			if (!overflow[sp] && sum_or_skip(ctx, &expect, child_sum[sp]))
				FUZZ_ASSERT(ctx, expect == rows[r].value[c]);
		}
		if (i == n)
			break;
		if (sp > 0)
			overflow[sp - 1] |= !sum_or_skip(ctx, &child_sum[sp - 1], rows[i].value[c]);
		stack[sp] = i;
		child_sum[sp] = 0;
		overflow[sp] = false;
		sp++;
	}
	if (pe_tree_sum(t, col, &total))
		FUZZ_ASSERT(ctx, rows[0].value[c] == total);
	else
		fuzz_clear_error(ctx);
	free(stack);
	free(child_sum);
	free(overflow);
}

/* Flame rows of t: structure, then each column's sums. */
static void
check_flame(PeCtx *ctx, const PeTree *t, const uint32_t *cols, int ncols,
			uint32_t max_nodes)
{
	PeFlameRow *rows = NULL;
	uint32_t	n = 0;
	uint32_t	kept = 0;

	if (!pe_flame_rows(t, cols, ncols, max_nodes, &rows, &n))
	{
		allow_overflow(ctx);
		return;
	}
	FUZZ_ASSERT(ctx, n >= 1);
	FUZZ_ASSERT(ctx, rows[0].level == 0 && rows[0].name == PE_ROW_TOTAL);
	for (uint32_t i = 1; i < n; i++)
	{
		FUZZ_ASSERT(ctx, rows[i].level >= 1 && rows[i].level <= rows[i - 1].level + 1);
		FUZZ_ASSERT(ctx, rows[i].name == PE_ROW_OTHER || rows[i].name < t->names.n);
		if (rows[i].name == PE_ROW_OTHER)
			FUZZ_ASSERT(ctx, max_nodes > 0);
		else
			kept++;
	}
	FUZZ_ASSERT(ctx, kept < t->nnodes);
	if (max_nodes > 0)
		FUZZ_ASSERT(ctx, kept <= max_nodes);
	for (int c = 0; c < ncols; c++)
		check_flame_column(ctx, t, rows, n, c, cols[c]);
	pe_free(ctx, rows);
}

/*
 * Flame rows of t: in full and truncated to 1, 2 or a few nodes, with one
 * or two (pseudo-random) columns.
 */
static void
check_flames(PeCtx *ctx, const PeTree *t, Rng *rng)
{
	uint32_t	nv = t->meta.nvalues;
	uint32_t	cols[2];
	uint32_t	r = rng_next(rng);
	uint32_t	limits[4] = {1, 2, 3, 4 + (r >> 8) % 60};

	cols[0] = rng_next(rng) % nv;
	cols[1] = rng_next(rng) % nv;
	check_flame(ctx, t, cols, 1 + (r & 1), 0);
	check_flame(ctx, t, cols, 1 + ((r >> 1) & 1), limits[(r >> 2) & 3]);
}

/* pe_top of column v: names in range, flat sums to total minus root self. */
static void
check_top(PeCtx *ctx, const PeTree *t, uint32_t v)
{
	PeTopRow   *rows = NULL;
	uint32_t	n = 0;
	int64_t		flat = 0;
	int64_t		total;
	bool		no_overflow = true;

	if (!pe_top(t, v, &rows, &n))
	{
		allow_overflow(ctx);
		return;
	}
	FUZZ_ASSERT(ctx, n <= t->names.n);
	for (uint32_t i = 0; i < n; i++)
	{
		FUZZ_ASSERT(ctx, rows[i].name < t->names.n);
		FUZZ_ASSERT(ctx, rows[i].self != 0 || rows[i].total != 0);
		no_overflow &= sum_or_skip(ctx, &flat, rows[i].self);
	}
	if (no_overflow && pe_tree_sum(t, v, &total))
	{
		int64_t		root_self = t->self[v];

		no_overflow &= sum_or_skip(ctx, &flat, root_self);
		if (no_overflow)
			FUZZ_ASSERT(ctx, flat == total);
	}
	else
		fuzz_clear_error(ctx);
	pe_free(ctx, rows);
}

/* union2 of a column of each tree: well formed, column sums carried over. */
static void
check_union(PeCtx *ctx, const PeTree *a, const PeTree *b, Rng *rng)
{
	uint32_t	va = rng_next(rng) % a->meta.nvalues;
	uint32_t	vb = rng_next(rng) % b->meta.nvalues;
	uint32_t	cols[2] = {0, 1};
	PeTree		u;
	int64_t		su,
				sx;

	if (!pe_tree_union2(ctx, a, va, b, vb, &u))
	{
		allow_overflow(ctx);
		return;
	}
	fuzz_check_tree(ctx, &u);
	FUZZ_ASSERT(ctx, u.meta.nvalues == 2);
	for (int c = 0; c < 2; c++)
	{
		const PeTree *src = c == 0 ? a : b;

		if (pe_tree_sum(&u, c, &su) && pe_tree_sum(src, c == 0 ? va : vb, &sx))
			FUZZ_ASSERT(ctx, su == sx);
		fuzz_clear_error(ctx);
	}
	check_flame(ctx, &u, cols, 2, 0);
	check_flame(ctx, &u, cols, 2, 1 + rng_next(rng) % 16);
	pe_tree_free(&u);
}

/* Filters: identity without focus/ignore, well formed with random bitmaps. */
static void
check_filter(PeCtx *ctx, const PeTree *t, Rng *rng)
{
	uint32_t	n = t->names.n;
	uint8_t    *focus = malloc(n);
	uint8_t    *ignore = malloc(n);
	uint32_t	focus_rate = rng_next(rng) % 4;
	PeTree		out;

	FUZZ_ASSERT(ctx, focus && ignore);
	if (!pe_tree_filter(t, NULL, NULL, &out))
		allow_overflow(ctx);
	else
	{
		fuzz_check_tree(ctx, &out);
		check_same_tree(ctx, t, &out);
		pe_tree_free(&out);
	}
	for (uint32_t s = 0; s < n; s++)
	{
		uint32_t	r = rng_next(rng);

		focus[s] = (r & 3) < focus_rate;
		ignore[s] = ((r >> 2) & 7) == 0;
	}
	if (!pe_tree_filter(t, (rng_next(rng) & 1) ? focus : NULL, ignore, &out))
		allow_overflow(ctx);
	else
	{
		fuzz_check_tree(ctx, &out);
		FUZZ_ASSERT(ctx, out.nnodes <= t->nnodes);
		check_flames(ctx, &out, rng);
		pe_tree_free(&out);
	}
	free(focus);
	free(ignore);
}

/* A - A is zero everywhere. */
static void
check_self_diff(PeCtx *ctx, const PeTree *a)
{
	PeTree		z;

	FUZZ_ASSERT(ctx, pe_tree_copy(ctx, a, &z));
	if (!pe_tree_merge(&z, a, true))
		allow_overflow(ctx);
	else
		for (size_t i = 0; i < (size_t) z.nnodes * z.meta.nvalues; i++)
			FUZZ_ASSERT(ctx, z.self[i] == 0);
	pe_tree_free(&z);
}

/*
 * The merge aggregate's path: B stored, then folded into A by
 * pe_decode_merge, gives A+B (ab, which merged without error).
 */
static void
check_decode_merge(PeCtx *ctx, const PeTree *a, const PeTree *b, const PeTree *ab)
{
	PeTree		st;
	size_t		lb;
	uint8_t    *eb = encode_raw(ctx, b, &lb);

	if (eb == NULL)
		return;
	FUZZ_ASSERT(ctx, pe_tree_copy(ctx, a, &st));
	if (!pe_decode_merge(ctx, eb, lb, &st))
		allow_overflow(ctx);	/* as for ab: only an overflow or a limit may stop it */
	else
		check_same_tree(ctx, ab, &st);
	pe_tree_free(&st);
	pe_free(ctx, eb);
}

/* A+B and B+A: the same tree; flame rows and top of the sum. */
static void
check_merges(PeCtx *ctx, const PeTree *a, const PeTree *b, Rng *rng)
{
	PeTree		ab,
				ba;
	bool		ok_ab,
				ok_ba;

	FUZZ_ASSERT(ctx, pe_tree_copy(ctx, a, &ab));
	FUZZ_ASSERT(ctx, pe_tree_copy(ctx, b, &ba));
	ok_ab = pe_tree_merge(&ab, b, false);
	if (!ok_ab)
		allow_overflow(ctx);
	ok_ba = pe_tree_merge(&ba, a, false);
	if (!ok_ba)
		allow_overflow(ctx);
	if (ok_ab && ok_ba)
	{
		fuzz_check_tree(ctx, &ab);
		check_same_tree(ctx, &ab, &ba);
	}
	if (ok_ab)
	{
		check_flames(ctx, &ab, rng);
		check_top(ctx, &ab, rng_next(rng) % ab.meta.nvalues);
		check_decode_merge(ctx, a, b, &ab);
	}
	pe_tree_free(&ab);
	pe_tree_free(&ba);
}

/* Merges both ways and/or a diff and its undoing, as ops says. */
static void
check_pair(PeCtx *ctx, const PeTree *a, const PeTree *b, Rng *rng, int ops)
{
	PeTree		diff;

	if (ops & OPS_MERGE)
		check_merges(ctx, a, b, rng);
	if (!(ops & OPS_DIFF))
		return;
	FUZZ_ASSERT(ctx, pe_tree_copy(ctx, a, &diff));
	if (!pe_tree_merge(&diff, b, true))
		allow_overflow(ctx);
	else
	{
		fuzz_check_tree(ctx, &diff);
		check_flames(ctx, &diff, rng);
		check_top(ctx, &diff, rng_next(rng) % diff.meta.nvalues);
		check_filter(ctx, &diff, rng);
		/* (A - B) + B == A */
		if (!pe_tree_merge(&diff, b, false))
			allow_overflow(ctx);
		else
			check_same_tree(ctx, a, &diff);
	}
	pe_tree_free(&diff);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PeCtx		ctx;
	PeTree		a,
				b;
	uint32_t	split;
	uint8_t		mode;
	const uint8_t *payload;
	size_t		plen;
	bool		have_a,
				have_b;
	Rng			rng;
	int			ops;

	if (size < 5)
		return 0;
	split = (uint32_t) data[0] | (uint32_t) data[1] << 8 |
		(uint32_t) data[2] << 16 | (uint32_t) data[3] << 24;
	mode = data[4];
	ops = ops_by_mode[(mode >> 5) & 3];
	payload = data + 5;
	plen = size - 5;
	split = (uint32_t) (split % (plen + 1));
	rng.state = ((uint64_t) split << 8 | mode) * 0x9E3779B97F4A7C15ULL + 1;

	fuzz_ctx_init(&ctx);
	have_a = decode_half(&ctx, payload, split, mode & 1, (mode & 4) ? 2 : 1, &a);
	have_b = decode_half(&ctx, payload + split, plen - split, mode & 2,
						 (mode & 4) ? 2 : 1, &b);
	if (!have_a && !have_b)
		return 0;
	if (!have_a || !have_b)
	{
		/* one profile: pair it with itself */
		PeTree	   *one = have_a ? &a : &b;

		check_pair(&ctx, one, one, &rng, ops);
		if (ops & OPS_OTHER)
		{
			check_self_diff(&ctx, one);
			check_filter(&ctx, one, &rng);
			check_union(&ctx, one, one, &rng);
		}
		pe_tree_free(one);
		return 0;
	}
	if (pe_meta_compatible(&ctx, &a.meta, &b.meta))
		check_pair(&ctx, &a, &b, &rng, ops);
	else
	{
		FUZZ_FAILED(&ctx);
		FUZZ_ASSERT(&ctx, ctx.err.code == PE_ERR_INCOMPATIBLE);
		fuzz_clear_error(&ctx);
		/* merging must refuse, and leave both trees usable */
		FUZZ_ASSERT(&ctx, !pe_tree_merge(&a, &b, false));
		fuzz_clear_error(&ctx);
		check_pair(&ctx, &a, &a, &rng, ops);
	}
	if (ops & OPS_OTHER)
	{
		check_self_diff(&ctx, &a);
		check_filter(&ctx, &a, &rng);
		check_filter(&ctx, &b, &rng);
		check_union(&ctx, &a, &b, &rng);
	}
	pe_tree_free(&a);
	pe_tree_free(&b);
	return 0;
}
