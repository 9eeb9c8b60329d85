/*
 * profile_svg.c
 *		SVG flame graphs: flamegraph_svg(), flamegraph_diff_svg().
 *
 * The core draws UTF-8; in a database of another encoding it writes every
 * non-ASCII character as an XML character reference instead, so the text
 * converts to any server encoding.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "pe_ops.h"
#include "pe_pg.h"
#include "pe_svg.h"

#define DEFAULT_SVG_WIDTH 1200

static void
svg_options(FunctionCallInfo fcinfo, int title_arg, int width_arg,
			const PeSampleType *type, PeSvgOptions *opt)
{
	int			encoding = GetDatabaseEncoding();

	memset(opt, 0, sizeof(*opt));
	opt->width = PG_ARGISNULL(width_arg) ? DEFAULT_SVG_WIDTH : PG_GETARG_INT32(width_arg);
	opt->type = type;
	opt->ascii_only = encoding != PG_UTF8;
	if (!PG_ARGISNULL(title_arg))
	{
		char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(title_arg));

		/* SQL_ASCII bytes go as they are: the core repairs invalid UTF-8. */
		if (encoding != PG_UTF8 && encoding != PG_SQL_ASCII)
			s = pg_server_to_any(s, strlen(s), PG_UTF8);
		opt->title = s;
		opt->title_len = strlen(s);
	}
}

/* The core's document as a text datum. */
static text *
draw(PeCtx *ctx, const PeTree *t, const PeFlameRow *rows, uint32 nrows,
	 bool diff, const PeSvgOptions *opt)
{
	char	   *out;
	size_t		len;

	if (!pe_svg_flame(ctx, t, rows, nrows, diff, opt, &out, &len))
		pe_pg_raise(ctx);
	return cstring_to_text_with_len(out, (int) len);
}

/* A self-contained SVG flame graph of one profile */
PG_FUNCTION_INFO_V1(profile_flamegraph_svg);
Datum
profile_flamegraph_svg(PG_FUNCTION_ARGS)
{
	PeCtx		ctx;
	PeTree		t;
	uint32		col;
	uint32		max_nodes = pe_pg_max_nodes_arg(fcinfo, 4);
	PeFlameRow *rows;
	uint32		nrows;
	PeSvgOptions opt;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_decode(&ctx, PG_GETARG_PROFILE_DATUM(0), &t);
	col = pe_pg_sample_type(&ctx, &t, PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1));
	if (!pe_flame_rows(&t, &col, 1, max_nodes, &rows, &nrows))
		pe_pg_raise(&ctx);
	svg_options(fcinfo, 2, 3, &t.meta.types[col], &opt);
	PG_RETURN_TEXT_P(draw(&ctx, &t, rows, nrows, false, &opt));
}

/* A differential SVG flame graph: target's widths, coloured by change */
PG_FUNCTION_INFO_V1(profile_flamegraph_diff_svg);
Datum
profile_flamegraph_diff_svg(PG_FUNCTION_ARGS)
{
	PeCtx		ctx;
	PeTree		sides[2];
	PeTree		u;
	uint32		cols[2] = {0, 1};
	uint32		max_nodes = pe_pg_max_nodes_arg(fcinfo, 5);
	PeFlameRow *rows;
	uint32		nrows;
	PeSvgOptions opt;
	double	   *row_blame;
	text	   *spec = PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2);

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_diff_sides(&ctx, fcinfo, sides);
	if (!pe_tree_union2(&ctx, &sides[0], pe_pg_sample_type(&ctx, &sides[0], spec),
						&sides[1], pe_pg_sample_type(&ctx, &sides[1], spec), &u) ||
		!pe_flame_rows(&u, cols, 2, max_nodes, &rows, &nrows))
		pe_pg_raise(&ctx);
	svg_options(fcinfo, 3, 4, &u.meta.types[1], &opt);
	/* Colour by where the change enters, as profile_diff_top ranks it. */
	if (!pe_diff_row_blame(&u, true, rows, nrows, &row_blame))
		pe_pg_raise(&ctx);
	opt.row_blame = row_blame;
	PG_RETURN_TEXT_P(draw(&ctx, &u, rows, nrows, true, &opt));
}
