/*
 * pe_svg.h
 *		Self-contained SVG flame graphs drawn from flame rows.
 *
 * The picture is an icicle: the root is the top row and callees hang below
 * their callers, as in Grafana's and Pyroscope's flame graphs.  Each row of
 * pe_flame_rows() becomes one box; children are laid out left to right in
 * row order from their parent's left edge, widths proportional to value.
 * Boxes narrower than half a pixel are left out (their parent keeps its
 * full width); negative values (signed profiles from profile_diff) have no
 * width.  Labels are monospace, cut to fit: the whole name, else the name
 * without its package ("HashMap.get"), else that cut with "..".  Colours
 * are warm and stable per package (a hash of the text before the last '.',
 * '/' or ':'); "other" is grey, the root neutral.  Every box carries a
 * <title> tooltip with the full name, the value in the sample type's unit
 * and its share of the total; no script is needed to read the picture.
 *
 * Diff graphs take rows with two columns (base, target) and lay boxes out
 * by the target's values, as flamegraph.pl's differential graphs do; nodes
 * only in the base have no width there and are not drawn (when the target
 * is empty the base's values are used instead).  Boxes are coloured by the
 * change of self share, target_self/target_total - base_self/base_total, or
 * by the per-row values in row_blame (the change blamed on the node, so the
 * culprit of a regression is the reddest box): red where the target spends
 * more, blue where it spends less, grey where it is the same; intensity
 * grows linearly with the change up to the largest change in the graph (at
 * least one percentage point).
 */
#ifndef PE_SVG_H
#define PE_SVG_H

#include "pe_ops.h"

#define PE_SVG_MIN_WIDTH	100
#define PE_SVG_MAX_WIDTH	100000

typedef struct PeSvgOptions
{
	const char *title;			/* NULL: sample type and total */
	size_t		title_len;		/* bytes; invalid UTF-8 is repaired */
	int32_t		width;			/* pixels, PE_SVG_MIN_WIDTH..PE_SVG_MAX_WIDTH */
	const PeSampleType *type;	/* for units and the default title; may be NULL */
	bool		ascii_only;		/* write non-ASCII as character references */
	/*
	 * Diff graphs only: one value per row, in percentage points, that the
	 * boxes are coloured by instead of the self change (pe_diff_blame()'s
	 * blame of each row's node); NULL: the self change.
	 */
	const double *row_blame;
} PeSvgOptions;

/*
 * Draw rows (pre-order, one root row, as pe_flame_rows() makes them; two
 * value columns when diff) as an SVG document.  Names come from t's string
 * table.  *out is NUL-terminated UTF-8 (ASCII with ascii_only), allocated
 * from ctx; *outlen excludes the NUL.
 */
extern bool pe_svg_flame(PeCtx *ctx, const PeTree *t, const PeFlameRow *rows,
						 uint32_t nrows, bool diff, const PeSvgOptions *opt,
						 char **out, size_t *outlen);

#endif							/* PE_SVG_H */
