/*
 * profile_diff.c
 *		Comparing two profiles: profile_diff(), profile_diff_top().
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"

#include "pe_ops.h"
#include "pe_pg.h"
#include "pe_srf.h"

void
pe_pg_diff_sides(PeCtx *ctx, FunctionCallInfo fcinfo, PeTree sides[2])
{
	for (int i = 0; i < 2; i++)
		if (!PG_ARGISNULL(i))
			pe_pg_decode(ctx, PG_GETARG_PROFILE_DATUM(i), &sides[i]);
	for (int i = 0; i < 2; i++)
		if (PG_ARGISNULL(i) &&
			!pe_tree_init(ctx, &sides[i], &sides[1 - i].meta))
			pe_pg_raise(ctx);
	if (!pe_meta_compatible(ctx, &sides[0].meta, &sides[1].meta))
		pe_pg_raise(ctx);
}

/* target minus base, as a profile with signed values */
PG_FUNCTION_INFO_V1(profile_diff);
Datum
profile_diff(PG_FUNCTION_ARGS)
{
	PeCtx		ctx;
	PeTree		sides[2];

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_diff_sides(&ctx, fcinfo, sides);
	/* The result keeps the target's header: it describes the newer window. */
	if (!pe_tree_merge(&sides[1], &sides[0], true))
		pe_pg_raise(&ctx);
	PG_RETURN_DATUM(pe_pg_encode(&sides[1]));
}

typedef struct DiffTopRow
{
	uint32		name;
	int64		base_self;
	int64		base_total;
	int64		target_self;
	int64		target_total;
	double		change;
	double		total_change;
} DiffTopRow;

static const PeTree *diff_top_tree;

/* Largest |change| first, then largest |total_change|, then name bytes. */
static int
cmp_diff_top(const void *a, const void *b)
{
	const DiffTopRow *x = a;
	const DiffTopRow *y = b;
	double		ax = fabs(x->change);
	double		ay = fabs(y->change);
	uint32		lx,
				ly;
	const char *sx,
			   *sy;
	int			c;

	if (ax != ay)
		return ax > ay ? -1 : 1;
	ax = fabs(x->total_change);
	ay = fabs(y->total_change);
	if (ax != ay)
		return ax > ay ? -1 : 1;
	sx = pe_strtab_get(&diff_top_tree->names, x->name, &lx);
	sy = pe_strtab_get(&diff_top_tree->names, y->name, &ly);
	c = memcmp(sx, sy, Min(lx, ly));
	return c ? c : (lx > ly) - (lx < ly);
}

/* Share of a side's total, in percent; 0 for an empty side. */
static double
share(int64 v, int64 sum)
{
	return sum == 0 ? 0.0 : 100.0 * (double) v / (double) sum;
}

/* Functions ranked by how much their cost changed from base to target */
PG_FUNCTION_INFO_V1(profile_diff_top);
Datum
profile_diff_top(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = pe_srf_init(fcinfo);
	PeCtx		ctx;
	PeTree		sides[2];
	PeTree		u;
	text	   *spec = PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2);
	int64		limit = PG_ARGISNULL(3) ? -1 : PG_GETARG_INT32(3);
	bool		normalize = PG_ARGISNULL(4) ? true : PG_GETARG_BOOL(4);
	PeTopRow   *top[2];
	uint32		ntop[2];
	int64		sum[2];
	DiffTopRow *rows;
	int32	   *slot;
	uint32		nrows = 0;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		return (Datum) 0;
	if (!PG_ARGISNULL(3) && limit < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must not be negative")));
	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_diff_sides(&ctx, fcinfo, sides);
	if (!pe_tree_union2(&ctx, &sides[0], pe_pg_sample_type(&ctx, &sides[0], spec),
						&sides[1], pe_pg_sample_type(&ctx, &sides[1], spec), &u))
		pe_pg_raise(&ctx);
	for (int s = 0; s < 2; s++)
		if (!pe_top(&u, s, &top[s], &ntop[s]) || !pe_tree_sum(&u, s, &sum[s]))
			pe_pg_raise(&ctx);

	/* Join both sides' rows on the union tree's name ids. */
	rows = palloc0(sizeof(DiffTopRow) * (ntop[0] + ntop[1] + 1));
	slot = palloc(sizeof(int32) * u.names.n);
	memset(slot, -1, sizeof(int32) * u.names.n);
	for (int s = 0; s < 2; s++)
		for (uint32 i = 0; i < ntop[s]; i++)
		{
			uint32		name = top[s][i].name;
			DiffTopRow *r;

			if (slot[name] < 0)
			{
				slot[name] = nrows;
				rows[nrows++].name = name;
			}
			r = &rows[slot[name]];
			if (s == 0)
				r->base_self = top[s][i].self, r->base_total = top[s][i].total;
			else
				r->target_self = top[s][i].self, r->target_total = top[s][i].total;
		}
	for (uint32 i = 0; i < nrows; i++)
	{
		DiffTopRow *r = &rows[i];

		if (normalize)
		{
			r->change = share(r->target_self, sum[1]) - share(r->base_self, sum[0]);
			r->total_change = share(r->target_total, sum[1]) - share(r->base_total, sum[0]);
		}
		else
		{
			r->change = (double) r->target_self - (double) r->base_self;
			r->total_change = (double) r->target_total - (double) r->base_total;
		}
	}
	diff_top_tree = &u;
	qsort(rows, nrows, sizeof(DiffTopRow), cmp_diff_top);

	for (uint32 i = 0; i < nrows && (limit < 0 || i < limit); i++)
	{
		Datum		values[7];
		bool		nulls[7] = {0};

		values[0] = PointerGetDatum(pe_pg_name_text(&u, rows[i].name));
		values[1] = Int64GetDatum(rows[i].base_self);
		values[2] = Int64GetDatum(rows[i].base_total);
		values[3] = Int64GetDatum(rows[i].target_self);
		values[4] = Int64GetDatum(rows[i].target_total);
		values[5] = Float8GetDatum(rows[i].change);
		values[6] = Float8GetDatum(rows[i].total_change);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
