/*
 * profile_query.c
 *		Reading one profile: flamegraph(), profile_top(), profile_filter().
 */
#include "postgres.h"

#include "fmgr.h"
#include "catalog/pg_collation.h"
#include "regex/regex.h"
#include "utils/builtins.h"

#include "pe_ops.h"
#include "pe_pg.h"
#include "pe_srf.h"

/*
 * Emit flame rows; two value columns when diff is set, and a seventh column
 * with each row's blame when row_blame is given and the declaration has it.
 */
static void
emit_flame_rows(ReturnSetInfo *rsinfo, const PeTree *t, const PeFlameRow *rows,
				uint32 nrows, bool diff, const double *row_blame)
{
	bool		with_blame = row_blame != NULL && rsinfo->setDesc->natts >= 7;

	text	   *total_label = cstring_to_text("total");
	text	   *other_label = cstring_to_text("other");

	for (uint32 i = 0; i < nrows; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {0};
		const PeFlameRow *r = &rows[i];

		values[0] = Int32GetDatum((int32) r->level);
		if (r->name == PE_ROW_TOTAL)
			values[1] = PointerGetDatum(total_label);
		else if (r->name == PE_ROW_OTHER)
			values[1] = PointerGetDatum(other_label);
		else
			values[1] = PointerGetDatum(pe_pg_name_text(t, r->name));
		values[2] = Int64GetDatum(r->value[0]);
		values[3] = Int64GetDatum(r->self[0]);
		values[4] = Int64GetDatum(r->value[1]);
		values[5] = Int64GetDatum(r->self[1]);
		if (with_blame)
			values[6] = Float8GetDatum(row_blame[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* Flame graph rows (Grafana nested-set form) of one profile */
PG_FUNCTION_INFO_V1(profile_flamegraph);
Datum
profile_flamegraph(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = pe_srf_init(fcinfo);
	PeTree	   *t;
	uint32		col;
	uint32		max_nodes = pe_pg_max_nodes_arg(fcinfo, 2);
	PeFlameRow *rows;
	uint32		nrows;

	if (PG_ARGISNULL(0))
		return (Datum) 0;
	t = PG_GETARG_PROFILE(0);
	col = pe_pg_sample_type(t, PG_GETARG_SAMPLE_TYPE(1));
	if (!pe_flame_rows(t, &col, 1, max_nodes, &rows, &nrows))
		pe_pg_raise(t->ctx);
	emit_flame_rows(rsinfo, t, rows, nrows, false, NULL);
	return (Datum) 0;
}

/* Flame graph rows of two profiles on one tree: base left, target right */
PG_FUNCTION_INFO_V1(profile_flamegraph_diff);
Datum
profile_flamegraph_diff(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = pe_srf_init(fcinfo);
	PeTree	   *sides[2];
	PeTree		u;
	uint32		cols[2] = {0, 1};
	uint32		vb,
				vt;
	double	   *row_blame;
	uint32		max_nodes = pe_pg_max_nodes_arg(fcinfo, 3);
	PeFlameRow *rows;
	uint32		nrows;
	text	   *spec = PG_GETARG_SAMPLE_TYPE(2);

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		return (Datum) 0;
	pe_pg_diff_sides(fcinfo, sides);
	vb = pe_pg_sample_type(sides[0], spec);
	vt = pe_pg_sample_type(sides[1], spec);
	row_blame = NULL;			/* 0.1.0's declaration has no blame column */
	if (!pe_tree_union2(sides[0]->ctx, sides[0], vb, sides[1], vt, &u) ||
		!pe_flame_rows(&u, cols, 2, max_nodes, &rows, &nrows) ||
		(rsinfo->setDesc->natts >= 7 &&
		 !pe_diff_row_blame(&u, true, rows, nrows, &row_blame)))
		pe_pg_raise(sides[0]->ctx);
	emit_flame_rows(rsinfo, &u, rows, nrows, true, row_blame);
	return (Datum) 0;
}

/* Functions by self value, with recursion-aware totals (pprof -top) */
PG_FUNCTION_INFO_V1(profile_top);
Datum
profile_top(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = pe_srf_init(fcinfo);
	PeTree	   *t;
	PeTopRow   *rows;
	uint32		nrows;
	int64		limit;

	if (PG_ARGISNULL(0))
		return (Datum) 0;
	limit = pe_pg_limit_arg(fcinfo, 2);
	t = PG_GETARG_PROFILE(0);
	if (!pe_top(t, pe_pg_sample_type(t, PG_GETARG_SAMPLE_TYPE(1)), &rows, &nrows))
		pe_pg_raise(t->ctx);
	for (uint32 i = 0; i < nrows && (limit < 0 || i < limit); i++)
	{
		Datum		values[3];
		bool		nulls[3] = {0};

		values[0] = PointerGetDatum(pe_pg_name_text(t, rows[i].name));
		values[1] = Int64GetDatum(rows[i].self);
		values[2] = Int64GetDatum(rows[i].total);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* Mark the names matching a regular expression (PostgreSQL's engine). */
static uint8 *
match_names(const PeTree *t, text *pattern)
{
	uint8	   *marks = palloc0(t->names.n);

	for (uint32 i = 1; i < t->names.n; i++)
	{
		text	   *name = pe_pg_name_text(t, i);

		marks[i] = RE_compile_and_execute(pattern, VARDATA_ANY(name),
										  VARSIZE_ANY_EXHDR(name),
										  REG_ADVANCED, C_COLLATION_OID, 0, NULL);
		pfree(name);
		if ((i & 255) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return marks;
}

/* Keep stacks through focus and drop stacks through ignore (pprof -focus/-ignore) */
PG_FUNCTION_INFO_V1(profile_filter);
Datum
profile_filter(PG_FUNCTION_ARGS)
{
	PeTree	   *t;
	PeTree		out;
	uint8	   *focus = NULL;
	uint8	   *ignore = NULL;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = PG_GETARG_PROFILE(0);
	if (!PG_ARGISNULL(1))
		focus = match_names(t, PG_GETARG_TEXT_PP(1));
	if (!PG_ARGISNULL(2))
		ignore = match_names(t, PG_GETARG_TEXT_PP(2));
	if (!pe_tree_filter(t, focus, ignore, &out))
		pe_pg_raise(t->ctx);
	PG_RETURN_DATUM(pe_pg_encode(&out));
}
