/*
 * pe_ops.h
 *		What queries ask of a tree: flame graph rows, top functions,
 *		focus/ignore filtering, diffs.
 */
#ifndef PE_OPS_H
#define PE_OPS_H

#include "pe_tree.h"

/* Special names in flame rows. */
#define PE_ROW_TOTAL	(UINT32_MAX - 1)	/* the root */
#define PE_ROW_OTHER	(UINT32_MAX - 2)	/* folded lighter siblings */

typedef struct PeFlameRow
{
	uint32_t	level;
	uint32_t	name;			/* string id, PE_ROW_TOTAL or PE_ROW_OTHER */
	uint32_t	node;			/* the tree's node; PE_NO_NODE for "other" */
	int64_t		value[2];		/* inclusive: base (and target) */
	int64_t		self[2];		/* exclusive */
} PeFlameRow;

/*
 * Flame graph rows of columns cols[0..ncols-1] (1 or 2) in pre-order,
 * siblings by name, one root row.  max_nodes > 0 keeps the max_nodes
 * heaviest nodes (weight: largest |total| over the columns, ancestors
 * always kept) and folds each parent's dropped children into one "other"
 * row placed after its kept siblings.
 */
extern bool pe_flame_rows(const PeTree *t, const uint32_t *cols, int ncols,
						  uint32_t max_nodes, PeFlameRow **rows,
						  uint32_t *nrows);

/*
 * Union of two trees with one value column each: column 0 from base's
 * column vb, column 1 from target's column vt.
 */
extern bool pe_tree_union2(PeCtx *ctx, const PeTree *base, uint32_t vb,
						   const PeTree *target, uint32_t vt, PeTree *out);

typedef struct PeTopRow
{
	uint32_t	name;
	int64_t		self;
	int64_t		total;			/* counted once per stack (recursion-aware) */
} PeTopRow;

/* Per-function self and total of column v, in pprof -top order. */
extern bool pe_top(const PeTree *t, uint32_t v, PeTopRow **rows,
				   uint32_t *nrows);

/*
 * The same flat and cum, unsorted, as arrays indexed by name id (t->names.n
 * entries each), over an order pe_tree_preorder(t, false) gave: callers
 * that need the order themselves compute it once.
 */
extern bool pe_top_by_name(const PeTree *t, uint32_t v, const PeOrder *order,
						   int64_t *flat, int64_t *cum);

/* How pe_diff_top() orders its rows. */
typedef enum PeDiffRank
{
	PE_DIFF_RANK_INCREASE,		/* culprit score: increases, then decreases */
	PE_DIFF_RANK_DECREASE,		/* culprit score: decreases, then increases */
	PE_DIFF_RANK_SELF			/* |self change|, then |total change| (0.1.0) */
} PeDiffRank;

typedef struct PeDiffTopRow
{
	uint32_t	name;
	int64_t		base_self;
	int64_t		base_total;
	int64_t		target_self;
	int64_t		target_total;
	double		change;			/* self, target - base */
	double		total_change;	/* total, target - base */
	double		score;			/* the part of the change blamed on this function */
} PeDiffTopRow;

/*
 * Where a diff's change is blamed (pe_difftop.c explains the rules).  u is
 * a union tree (pe_tree_union2: column 0 base, column 1 target); with
 * normalize every value is a percentage of its side's total, otherwise the
 * values as they are.  *blame has one entry per node of u (the root's is
 * 0); the entries add up to the change of the whole profile.
 */
extern bool pe_diff_blame(const PeTree *u, bool normalize, double **blame);

/* pe_diff_blame() of each flame row's node (0 for "other" rows). */
extern bool pe_diff_row_blame(const PeTree *u, bool normalize, const PeFlameRow *rows,
							  uint32_t nrows, double **row_blame);

/* Per-function changes of u, joined over both sides, in rank's order. */
extern bool pe_diff_top(const PeTree *u, bool normalize, PeDiffRank rank,
						PeDiffTopRow **rows, uint32_t *nrows);

/*
 * pprof -focus / -ignore: keep the self values of stacks that contain a
 * frame with focus[name] set (all stacks when focus is NULL) and no frame
 * with ignore[name] set.  focus/ignore are indexed by name id.
 */
extern bool pe_tree_filter(const PeTree *t, const uint8_t *focus,
						   const uint8_t *ignore, PeTree *out);

/* Copy a tree (same names, same node indexes). */
extern bool pe_tree_copy(PeCtx *ctx, const PeTree *src, PeTree *out);

#endif							/* PE_OPS_H */
