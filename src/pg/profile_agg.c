/*
 * profile_agg.c
 *		profile_merge(profile): the merge aggregate.
 *
 * The state is a growable call tree in the aggregate memory context, so
 * memory follows the number of distinct stacks, not the number of rows.
 * Each input row is decoded in a scratch context that is reset right after
 * it is folded in.  Serial states use the uncompressed stored format (the
 * cheapest hop between workers) and are validated on the way back in.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/memutils.h"

#include "pe_codec.h"
#include "pe_pg.h"

typedef struct MergeState
{
	PeCtx		ctx;			/* allocates in the aggregate context */
	PeTree		tree;
	bool		empty;			/* no profile folded in yet */
	MemoryContext scratch;		/* per-row decoding */
} MergeState;

static MergeState *
merge_state_new(FunctionCallInfo fcinfo)
{
	MemoryContext aggcontext;
	MergeState *st;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("profile_merge state function called in non-aggregate context")));
	st = MemoryContextAllocZero(aggcontext, sizeof(MergeState));
	pe_pg_ctx_init(&st->ctx, aggcontext);
	st->empty = true;
	st->scratch = AllocSetContextCreate(aggcontext, "profile_merge rows",
										ALLOCSET_DEFAULT_SIZES);
	return st;
}

/* Fold src into dst (both decoded; dst allocates with ctx), as a merge does. */
static void
merge_tree_into(PeCtx *ctx, PeTree *dst, const PeTree *src)
{
	if (!pe_meta_compatible(ctx, &dst->meta, &src->meta) ||
		!pe_meta_merge(ctx, &dst->meta, &src->meta) ||
		!pe_tree_merge(dst, src, false))
		pe_pg_raise(ctx);
}

/* Fold tree t (any context) into the state. */
static void
merge_state_add(MergeState *st, const PeTree *t)
{
	if (st->empty)
	{
		if (!pe_tree_init(&st->ctx, &st->tree, &t->meta) ||
			!pe_tree_merge(&st->tree, t, false))
			pe_pg_raise(&st->ctx);
		st->empty = false;
		return;
	}
	merge_tree_into(&st->ctx, &st->tree, t);
}

/*
 * Fold a stored or serialized value into the state.  The first one is
 * decoded straight into the state; later ones go through pe_decode_merge,
 * which interns names into the state directly and keeps only scratch
 * node arrays in the per-row context.
 */
static void
merge_state_add_bytes(MergeState *st, const uint8 *data, size_t len)
{
	MemoryContext old;
	PeCtx		ctx;

	if (st->empty)
	{
		if (!pe_decode(&st->ctx, data, len, &st->tree))
			pe_pg_raise(&st->ctx);
		st->empty = false;
		return;
	}
	old = MemoryContextSwitchTo(st->scratch);
	pe_pg_ctx_init(&ctx, st->scratch);
	if (!pe_decode_merge(&ctx, data, len, &st->tree))
		pe_pg_raise(st->ctx.err.code != PE_OK ? &st->ctx : &ctx);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->scratch);
}

/* Transition: fold one profile into the state (NULLs are skipped) */
PG_FUNCTION_INFO_V1(profile_merge_transfn);
Datum
profile_merge_transfn(PG_FUNCTION_ARGS)
{
	MergeState *st = PG_ARGISNULL(0) ? NULL : (MergeState *) PG_GETARG_POINTER(0);
	struct varlena *v;

	/* A state exists only once a profile arrived: states are never empty. */
	if (PG_ARGISNULL(1))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	if (st == NULL)
		st = merge_state_new(fcinfo);
	v = (struct varlena *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	merge_state_add_bytes(st, (const uint8 *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
	if ((Pointer) v != DatumGetPointer(PG_GETARG_DATUM(1)))
		pfree(v);
	PG_RETURN_POINTER(st);
}

/* Combine two partial states (parallel query) */
PG_FUNCTION_INFO_V1(profile_merge_combinefn);
Datum
profile_merge_combinefn(PG_FUNCTION_ARGS)
{
	MergeState *a = PG_ARGISNULL(0) ? NULL : (MergeState *) PG_GETARG_POINTER(0);
	MergeState *b = PG_ARGISNULL(1) ? NULL : (MergeState *) PG_GETARG_POINTER(1);

	if (b == NULL || b->empty)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	/* Never hand back b itself: the result must live in our context. */
	if (a == NULL)
		a = merge_state_new(fcinfo);
	merge_state_add(a, &b->tree);
	PG_RETURN_POINTER(a);
}

/* Serialize a state as an uncompressed stored value */
PG_FUNCTION_INFO_V1(profile_merge_serialfn);
Datum
profile_merge_serialfn(PG_FUNCTION_ARGS)
{
	MergeState *st = (MergeState *) PG_GETARG_POINTER(0);
	const PeTree *t = &st->tree;
	uint8_t    *out;
	size_t		len;

	Assert(!st->empty);
	if (!pe_encode(t, 0, VARHDRSZ, &out, &len))
		pe_pg_raise(t->ctx);
	PG_RETURN_BYTEA_P(pe_pg_varlena(out, len, "profile_merge state"));
}

/* Rebuild a state from its serial form, validating it */
PG_FUNCTION_INFO_V1(profile_merge_deserialfn);
Datum
profile_merge_deserialfn(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MergeState *st = merge_state_new(fcinfo);
	PeTree		t;

	if (!pe_decode(&st->ctx, (const uint8 *) VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), &t))
		pe_pg_raise(&st->ctx);
	st->tree = t;
	st->empty = false;
	PG_RETURN_POINTER(st);
}

/* Final: the merged profile, NULL when no non-NULL rows */
PG_FUNCTION_INFO_V1(profile_merge_finalfn);
Datum
profile_merge_finalfn(PG_FUNCTION_ARGS)
{
	MergeState *st = PG_ARGISNULL(0) ? NULL : (MergeState *) PG_GETARG_POINTER(0);

	if (st == NULL || st->empty)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(pe_pg_encode(&st->tree));
}

/*
 * profile_merge(a, b): the aggregate's result for the two rows a and b,
 * without an aggregate (upserts, PL code).  A NULL side is skipped, as the
 * aggregate skips NULL rows.
 */
PG_FUNCTION_INFO_V1(profile_merge2);
Datum
profile_merge2(PG_FUNCTION_ARGS)
{
	PeTree	   *a;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		a = PG_GETARG_PROFILE(PG_ARGISNULL(0) ? 1 : 0);
	else
	{
		/* b's bytes folded straight into a, as the aggregate folds a row */
		struct varlena *b = PG_DETOAST_DATUM(PG_GETARG_DATUM(1));

		a = PG_GETARG_PROFILE(0);
		if (!pe_decode_merge(a->ctx, (const uint8 *) VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), a))
			pe_pg_raise(a->ctx);
	}
	PG_RETURN_DATUM(pe_pg_encode(a));
}
