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
draw(const PeTree *t, const PeFlameRow *rows, uint32 nrows, bool diff,
	 const PeSvgOptions *opt)
{
	char	   *out;
	size_t		len;

	if (!pe_svg_flame(t->ctx, t, rows, nrows, diff, opt, &out, &len))
		pe_pg_raise(t->ctx);
	return cstring_to_text_with_len(out, (int) len);
}

/* A self-contained SVG flame graph of one profile */
PG_FUNCTION_INFO_V1(profile_flamegraph_svg);
Datum
profile_flamegraph_svg(PG_FUNCTION_ARGS)
{
	PeTree	   *t;
	uint32		col;
	uint32		max_nodes = pe_pg_max_nodes_arg(fcinfo, 4);
	PeFlameRow *rows;
	uint32		nrows;
	PeSvgOptions opt;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = PG_GETARG_PROFILE(0);
	col = pe_pg_sample_type(t, PG_GETARG_SAMPLE_TYPE(1));
	if (!pe_flame_rows(t, &col, 1, max_nodes, &rows, &nrows))
		pe_pg_raise(t->ctx);
	svg_options(fcinfo, 2, 3, &t->meta.types[col], &opt);
	PG_RETURN_TEXT_P(draw(t, rows, nrows, false, &opt));
}

/* A differential SVG flame graph: target's widths, coloured by change */
PG_FUNCTION_INFO_V1(profile_flamegraph_diff_svg);
Datum
profile_flamegraph_diff_svg(PG_FUNCTION_ARGS)
{
	PeTree	   *sides[2];
	PeTree		u;
	uint32		cols[2] = {0, 1};
	uint32		max_nodes = pe_pg_max_nodes_arg(fcinfo, 5);
	PeFlameRow *rows;
	uint32		nrows;
	PeSvgOptions opt;
	double	   *row_blame;
	text	   *spec = PG_GETARG_SAMPLE_TYPE(2);

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	pe_pg_diff_sides(fcinfo, sides);
	if (!pe_tree_union2(sides[0]->ctx, sides[0], pe_pg_sample_type(sides[0], spec),
						sides[1], pe_pg_sample_type(sides[1], spec), &u) ||
		!pe_flame_rows(&u, cols, 2, max_nodes, &rows, &nrows))
		pe_pg_raise(sides[0]->ctx);
	svg_options(fcinfo, 3, 4, &u.meta.types[1], &opt);
	/* Colour by where the change enters, as profile_diff_top ranks it. */
	if (!pe_diff_row_blame(&u, true, rows, nrows, &row_blame))
		pe_pg_raise(u.ctx);
	opt.row_blame = row_blame;
	PG_RETURN_TEXT_P(draw(&u, rows, nrows, true, &opt));
}
