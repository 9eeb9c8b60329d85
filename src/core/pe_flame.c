/*
 * pe_flame.c
 *		Flame graph rows for Grafana's Flame Graph panel (nested-set form).
 *
 * Rows come in canonical pre-order (siblings by name bytes) with one root
 * row; each row carries its level, inclusive value and exclusive self for
 * one or two value columns.  Nodes whose subtree is zero in every requested
 * column are left out.
 *
 * With max_nodes > 0 only the max_nodes heaviest nodes are kept.  The
 * threshold weight comes from a selection (quickselect), not a sort.  A node
 * is kept only when its parent is kept, which matters for signed diff trees
 * where a child may outweigh its parent.  Each kept parent's dropped
 * children are folded into one "other" row after its kept children, so
 * value = self + sum(children values) holds on every row.
 */
#include <string.h>

#include "pe_ops.h"

/* How often long loops call the interrupt hook (a power of two). */

/* Per-node state while building rows: the kind in the low bits... */
#define NODE_ZERO		0		/* subtree zero in the requested columns */
#define NODE_DROPPED	1		/* non-zero, but truncated away */
#define NODE_KEPT		2		/* gets a row */
#define NODE_KIND_MASK	3
/* ...and a flag on kept nodes that lost at least one child. */
#define NODE_HAS_DROPPED 4

typedef struct FlameWork
{
	const PeTree *t;
	PeCtx	   *ctx;
	int			ncols;
	uint32_t	col[2];
	int64_t    *total[2];		/* inclusive totals per column, by node */
	uint8_t    *state;			/* NODE_* per node */
	PeOrder		order;
	uint32_t	nkept;			/* kept nodes, root included */
	uint32_t	nother;			/* kept nodes with NODE_HAS_DROPPED */
	uint32_t	max_depth;		/* deepest kept node */
} FlameWork;

/* A kept node whose subtree is still being emitted. */
typedef struct OpenRow
{
	uint32_t	node;
	uint32_t	depth;
	bool		has_other;
	int64_t		other[2];		/* sum of dropped children's totals */
} OpenRow;

static inline uint64_t
magnitude(int64_t v)
{
	return v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
}

/* Truncation weight: the largest |total| over the requested columns. */
static inline uint64_t
node_weight(const FlameWork *fw, uint32_t node)
{
	uint64_t	w = 0;

	for (int c = 0; c < fw->ncols; c++)
	{
		uint64_t	m = magnitude(fw->total[c][node]);

		if (m > w)
			w = m;
	}
	return w;
}

static inline void
swap_u64(uint64_t *a, uint64_t *b)
{
	uint64_t	tmp = *a;

	*a = *b;
	*b = tmp;
}

/*
 * The k-th largest (1-based, 1 <= k <= m) of w[0..m-1], reordering w.
 * Iterative quickselect with a three-way partition, so long runs of equal
 * weights (common in profiles) cost one pass; pivots are pseudo-random.
 */
static uint64_t
kth_largest(PeCtx *ctx, uint64_t *w, size_t m, size_t k)
{
	size_t		lo = 0;
	size_t		hi = m;
	uint64_t	rng = UINT64_C(0x9e3779b97f4a7c15);
	size_t		work = 0;

	for (;;)
	{
		uint64_t	pivot;
		size_t		gt_end = lo;	/* [lo, gt_end): > pivot */
		size_t		i = lo;			/* [gt_end, i): == pivot */
		size_t		lt_start = hi;	/* [lt_start, hi): < pivot */

		if (hi - lo == 1)
			return w[lo];
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		pivot = w[lo + rng % (hi - lo)];
		while (i < lt_start)
		{
			if (w[i] > pivot)
				swap_u64(&w[gt_end++], &w[i++]);
			else if (w[i] < pivot)
				swap_u64(&w[i], &w[--lt_start]);
			else
				i++;
			if ((++work & (PE_INTERRUPT_EVERY - 1)) == 0)
				pe_check_interrupts(ctx);
		}
		/* k is relative to lo; the "== pivot" part is never empty. */
		if (k <= gt_end - lo)
			hi = gt_end;
		else if (k <= lt_start - lo)
			return pivot;
		else
		{
			k -= lt_start - lo;
			lo = lt_start;
		}
	}
}

/*
 * Mark nodes whose subtree is non-zero in a requested column (self or
 * total), walking node indexes backwards so children come before parents.
 * Returns the number of such non-root nodes.
 */
static uint32_t
mark_nonzero(FlameWork *fw)
{
	const PeTree *t = fw->t;
	uint32_t	nv = t->meta.nvalues;
	uint32_t	count = 0;

	for (uint32_t i = t->nnodes; i-- > 1;)
	{
		bool		nonzero = fw->state[i] != NODE_ZERO;

		for (int c = 0; !nonzero && c < fw->ncols; c++)
			nonzero = fw->total[c][i] != 0 ||
				t->self[(size_t) i * nv + fw->col[c]] != 0;
		if (nonzero)
		{
			fw->state[i] = NODE_DROPPED;
			fw->state[t->parent[i]] = NODE_DROPPED;
			count++;
		}
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(fw->ctx);
	}
	return count;
}

/*
 * Decide which non-zero nodes get a row.  Without truncation all of them;
 * otherwise those heavier than the max_nodes-th weight, then the earliest
 * (in pre-order) of those at exactly that weight until max_nodes are kept.
 * A node whose parent is not kept is dropped (ancestor closure).
 */
static bool
select_kept(FlameWork *fw, uint32_t max_nodes, uint32_t nnonzero)
{
	const PeTree *t = fw->t;
	bool		truncate = max_nodes > 0 && nnonzero > max_nodes;
	uint64_t	threshold = 0;
	uint32_t	ties_left = 0;

	if (truncate)
	{
		uint64_t   *w = pe_alloc(fw->ctx, sizeof(uint64_t) * nnonzero);
		uint32_t	m = 0;
		uint32_t	above = 0;

		if (w == NULL)
			return false;
		for (uint32_t i = 1; i < t->nnodes; i++)
			if (fw->state[i] != NODE_ZERO)
				w[m++] = node_weight(fw, i);
		threshold = kth_largest(fw->ctx, w, m, max_nodes);
		for (uint32_t j = 0; j < m; j++)
			above += w[j] > threshold;
		pe_free(fw->ctx, w);
		ties_left = max_nodes - above;
	}

	fw->state[0] = NODE_KEPT;
	fw->nkept = 1;
	for (uint32_t i = 1; i < fw->order.n; i++)
	{
		uint32_t	node = fw->order.node[i];
		uint32_t	parent = t->parent[node];
		bool		parent_kept = (fw->state[parent] & NODE_KIND_MASK) == NODE_KEPT;
		bool		keep = parent_kept;

		if (fw->state[node] == NODE_ZERO)
			continue;
		if (keep && truncate)
		{
			uint64_t	w = node_weight(fw, node);

			/* A tie slot is spent only on a node that is really kept. */
			if (w < threshold || (w == threshold && ties_left == 0))
				keep = false;
			else if (w == threshold)
				ties_left--;
		}
		if (keep)
		{
			fw->state[node] = NODE_KEPT;
			fw->nkept++;
			if (fw->order.depth[i] > fw->max_depth)
				fw->max_depth = fw->order.depth[i];
		}
		else if (parent_kept && !(fw->state[parent] & NODE_HAS_DROPPED))
		{
			fw->state[parent] |= NODE_HAS_DROPPED;
			fw->nother++;
		}
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(fw->ctx);
	}
	return true;
}

/* Close an open row: emit its "other" child when something was folded. */
static void
close_row(const FlameWork *fw, const OpenRow *open, PeFlameRow *rows,
		  uint32_t *nrows)
{
	PeFlameRow *row;
	bool		nonzero = false;

	for (int c = 0; c < fw->ncols; c++)
		nonzero |= open->other[c] != 0;
	if (!open->has_other || !nonzero)
		return;
	row = &rows[(*nrows)++];
	memset(row, 0, sizeof(*row));
	row->level = open->depth + 1;
	row->name = PE_ROW_OTHER;
	row->node = PE_NO_NODE;
	for (int c = 0; c < fw->ncols; c++)
		row->value[c] = row->self[c] = open->other[c];
}

/*
 * Emit rows in pre-order.  A stack of open kept nodes (one per level)
 * collects the totals of dropped children, and a node's "other" row is
 * written when the walk leaves its subtree.
 */
static bool
emit_rows(FlameWork *fw, PeFlameRow *rows, uint32_t *nrows)
{
	const PeTree *t = fw->t;
	uint32_t	nv = t->meta.nvalues;
	OpenRow    *stack = pe_alloc(fw->ctx, sizeof(OpenRow) * ((size_t) fw->max_depth + 1));
	uint32_t	sp = 0;

	if (stack == NULL)
		return false;
	*nrows = 0;
	for (uint32_t i = 0; i < fw->order.n; i++)
	{
		uint32_t	node = fw->order.node[i];
		uint32_t	depth = fw->order.depth[i];
		uint8_t		kind = fw->state[node] & NODE_KIND_MASK;
		PeFlameRow *row;
		OpenRow    *open;

		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(fw->ctx);
		if (kind == NODE_ZERO)
			continue;
		while (sp > 0 && stack[sp - 1].depth >= depth)
			close_row(fw, &stack[--sp], rows, nrows);
		if (kind == NODE_DROPPED)
		{
			/* Fold into the parent's "other" when the parent has a row. */
			if (sp > 0 && stack[sp - 1].node == t->parent[node])
			{
				open = &stack[sp - 1];
				open->has_other = true;
				for (int c = 0; c < fw->ncols; c++)
					if (!pe_add64(fw->ctx, &open->other[c], fw->total[c][node]))
					{
						pe_free(fw->ctx, stack);
						return false;
					}
			}
			continue;
		}
		row = &rows[(*nrows)++];
		memset(row, 0, sizeof(*row));
		row->level = depth;
		row->name = node == 0 ? PE_ROW_TOTAL : t->name[node];
		row->node = node;
		for (int c = 0; c < fw->ncols; c++)
		{
			row->value[c] = fw->total[c][node];
			row->self[c] = t->self[(size_t) node * nv + fw->col[c]];
		}
		open = &stack[sp++];
		memset(open, 0, sizeof(*open));
		open->node = node;
		open->depth = depth;
	}
	while (sp > 0)
		close_row(fw, &stack[--sp], rows, nrows);
	pe_free(fw->ctx, stack);
	return true;
}

/* Totals, non-zero marks, selection, then one emitting pre-order walk. */
bool
pe_flame_rows(const PeTree *t, const uint32_t *cols, int ncols,
			  uint32_t max_nodes, PeFlameRow **rows, uint32_t *nrows)
{
	PeCtx	   *ctx = t->ctx;
	FlameWork	fw;
	PeFlameRow *out = NULL;
	uint32_t	nnonzero;
	bool		ok = false;

	*rows = NULL;
	*nrows = 0;
	if (ncols < 1 || ncols > 2)
		return pe_fail(ctx, PE_ERR_ARG, "flame graph needs one or two value columns, not %d",
					   ncols);
	if (t->nnodes == 0)
		return pe_fail(ctx, PE_ERR_CORRUPT, "call tree has no root node");
	memset(&fw, 0, sizeof(fw));
	fw.t = t;
	fw.ctx = ctx;
	fw.ncols = ncols;
	for (int c = 0; c < ncols; c++)
	{
		if (cols[c] >= t->meta.nvalues)
			return pe_fail(ctx, PE_ERR_ARG, "value column %u out of range\n"
					"The profile has %u sample types.", cols[c], t->meta.nvalues);
		fw.col[c] = cols[c];
		fw.total[c] = pe_alloc(ctx, sizeof(int64_t) * t->nnodes);
		if (fw.total[c] == NULL || !pe_tree_totals(t, cols[c], fw.total[c]))
			goto done;
	}
	fw.state = pe_alloc0(ctx, t->nnodes);
	if (fw.state == NULL)
		goto done;
	nnonzero = mark_nonzero(&fw);
	if (!pe_tree_preorder(t, false, &fw.order) ||
		!select_kept(&fw, max_nodes, nnonzero))
		goto done;
	out = pe_alloc(ctx, sizeof(PeFlameRow) * ((size_t) fw.nkept + fw.nother));
	if (out == NULL || !emit_rows(&fw, out, nrows))
		goto done;
	*rows = out;
	out = NULL;
	ok = true;
done:
	if (!ok)
		*nrows = 0;
	pe_free(ctx, out);
	pe_free(ctx, fw.total[0]);
	pe_free(ctx, fw.total[1]);
	pe_free(ctx, fw.state);
	pe_order_free(ctx, &fw.order);
	return ok;
}
