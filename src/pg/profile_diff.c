/*
 * profile_diff.c
 *		Comparing two profiles: profile_diff(), profile_diff_top().
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "pe_ops.h"
#include "pe_pg.h"
#include "pe_srf.h"

/* target minus base, as a profile with signed values */
PG_FUNCTION_INFO_V1(profile_diff);
Datum
profile_diff(PG_FUNCTION_ARGS)
{
	PeTree	   *sides[2];

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	pe_pg_diff_sides(fcinfo, sides);
	/* The result keeps the target's header: it describes the newer window. */
	if (!pe_tree_merge(sides[1], sides[0], true))
		pe_pg_raise(sides[1]->ctx);
	PG_RETURN_DATUM(pe_pg_encode(sides[1]));
}

/* The ranking argument of profile_diff_top. */
static PeDiffRank
diff_rank_arg(text *arg)
{
	char	   *s = arg ? text_to_cstring(arg) : "increase";

	if (strcmp(s, "increase") == 0)
		return PE_DIFF_RANK_INCREASE;
	if (strcmp(s, "decrease") == 0)
		return PE_DIFF_RANK_DECREASE;
	if (strcmp(s, "self") == 0)
		return PE_DIFF_RANK_SELF;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown ranking \"%s\"", s),
			 errhint("Use 'increase' (what got more expensive, the default), "
					 "'decrease' or 'self' (change of self cost).")));
	return PE_DIFF_RANK_INCREASE;	/* not reached */
}

/* Functions ranked by how much of the change from base to target they cause */
PG_FUNCTION_INFO_V1(profile_diff_top);
Datum
profile_diff_top(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = pe_srf_init(fcinfo);
	PeTree	   *sides[2];
	PeTree		u;
	PeCtx	   *ctx;
	text	   *spec = PG_GETARG_SAMPLE_TYPE(2);
	int64		limit;
	bool		normalize = PG_ARGISNULL(4) ? true : PG_GETARG_BOOL(4);
	PeDiffRank	rank;
	PeDiffTopRow *rows;
	uint32		nrows;
	bool		with_score = rsinfo->setDesc->natts >= 8;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		return (Datum) 0;
	limit = pe_pg_limit_arg(fcinfo, 3);
	/* The 0.1.0 declaration has five arguments and no ranking. */
	rank = PG_NARGS() > 5 ? diff_rank_arg(PG_ARGISNULL(5) ? NULL : PG_GETARG_TEXT_PP(5))
		: PE_DIFF_RANK_SELF;
	pe_pg_diff_sides(fcinfo, sides);
	ctx = sides[0]->ctx;
	if (!pe_tree_union2(ctx, sides[0], pe_pg_sample_type(sides[0], spec),
						sides[1], pe_pg_sample_type(sides[1], spec), &u) ||
		!pe_diff_top(&u, normalize, rank, &rows, &nrows))
		pe_pg_raise(ctx);

	for (uint32 i = 0; i < nrows && (limit < 0 || i < limit); i++)
	{
		Datum		values[8];
		bool		nulls[8] = {0};

		values[0] = PointerGetDatum(pe_pg_name_text(&u, rows[i].name));
		values[1] = Int64GetDatum(rows[i].base_self);
		values[2] = Int64GetDatum(rows[i].base_total);
		values[3] = Int64GetDatum(rows[i].target_self);
		values[4] = Int64GetDatum(rows[i].target_total);
		values[5] = Float8GetDatum(rows[i].change);
		values[6] = Float8GetDatum(rows[i].total_change);
		if (with_score)
			values[7] = Float8GetDatum(rows[i].score);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
