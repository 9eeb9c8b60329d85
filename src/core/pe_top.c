/*
 * pe_top.c
 *		Per-function flat and cumulative values, as pprof -top prints them.
 *
 * flat (self) of a function is the sum of the self values of its nodes.
 * cum (total) counts each stack once even when the function recurses: the
 * pre-order walk keeps, per name, how many times it is on the current
 * root-to-node path, and a node's inclusive total is added only when its
 * name was not already on the path.  That is linear in the number of nodes.
 */
#include <string.h>

#include "pe_ops.h"

/* How often long loops call the interrupt hook (a power of two). */

static inline uint64_t
magnitude(int64_t v)
{
	return v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
}

/*
 * pprof's flat order (FlatNameOrder): |flat| descending, then name
 * ascending, then |cum| descending.  The one place that defines the order.
 */
static int
compare_top_rows(const PeStrtab *names, const PeTopRow *a, const PeTopRow *b)
{
	uint64_t	fa = magnitude(a->self);
	uint64_t	fb = magnitude(b->self);
	uint64_t	ca;
	uint64_t	cb;
	int			c;

	if (fa != fb)
		return fa > fb ? -1 : 1;
	c = pe_strtab_compare(names, a->name, b->name);
	if (c != 0)
		return c;
	ca = magnitude(a->total);
	cb = magnitude(b->total);
	if (ca != cb)
		return ca > cb ? -1 : 1;
	return 0;
}

static int
compare_top_rows_arg(const void *a, const void *b, void *names)
{
	return compare_top_rows(names, a, b);
}

/*
 * Accumulate flat and cum per name over the canonical pre-order.  path[]
 * holds the nodes of the current root-to-node path (path[d] at depth d)
 * and on_path[name] counts that name's occurrences on it.
 */
static bool
accumulate(const PeTree *t, uint32_t v, const PeOrder *order,
		   const int64_t *totals, int64_t *flat, int64_t *cum)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t	nv = t->meta.nvalues;
	uint32_t   *path = pe_alloc(ctx, sizeof(uint32_t) * order->n);
	uint32_t   *on_path = pe_alloc0(ctx, sizeof(uint32_t) * t->names.n);
	uint32_t	len = 0;
	bool		ok = false;

	if (path == NULL || on_path == NULL)
		goto done;
	/* order->node[0] is the root: it is not a function, so start at 1. */
	for (uint32_t i = 1; i < order->n; i++)
	{
		uint32_t	node = order->node[i];
		uint32_t	depth = order->depth[i];	/* >= 1: path[depth - 1] */
		uint32_t	name = t->name[node];

		while (len >= depth)
			on_path[t->name[path[--len]]]--;
		if (on_path[name] == 0 && !pe_add64(ctx, &cum[name], totals[node]))
			goto done;
		if (!pe_add64(ctx, &flat[name], t->self[(size_t) node * nv + v]))
			goto done;
		on_path[name]++;
		path[len++] = node;
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	ok = true;
done:
	pe_free(ctx, path);
	pe_free(ctx, on_path);
	return ok;
}

bool
pe_top_by_name(const PeTree *t, uint32_t v, const PeOrder *order, int64_t *flat,
			   int64_t *cum)
{
	int64_t    *totals = pe_alloc(t->ctx, sizeof(int64_t) * (t->nnodes ? t->nnodes : 1));
	bool		ok;

	memset(flat, 0, sizeof(int64_t) * t->names.n);
	memset(cum, 0, sizeof(int64_t) * t->names.n);
	ok = totals != NULL && pe_tree_totals(t, v, totals) &&
		accumulate(t, v, order, totals, flat, cum);
	pe_free(t->ctx, totals);
	return ok;
}

/* Flat and cum per name, zero rows left out, sorted in pprof's order. */
bool
pe_top(const PeTree *t, uint32_t v, PeTopRow **rows, uint32_t *nrows)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t	nnames = t->names.n;
	PeOrder		order;
	int64_t    *flat = NULL;
	int64_t    *cum = NULL;
	PeTopRow   *out = NULL;
	uint32_t	n = 0;
	bool		ok = false;

	*rows = NULL;
	*nrows = 0;
	memset(&order, 0, sizeof(order));
	if (v >= t->meta.nvalues)
		return pe_fail(ctx, PE_ERR_ARG, "value column %u out of range\n"
				"The profile has %u sample types.", v, t->meta.nvalues);
	if (t->nnodes == 0)
		return pe_fail(ctx, PE_ERR_CORRUPT, "call tree has no root node");
	flat = pe_alloc(ctx, sizeof(int64_t) * (nnames ? nnames : 1));
	cum = pe_alloc(ctx, sizeof(int64_t) * (nnames ? nnames : 1));
	if (!flat || !cum || !pe_tree_preorder(t, false, &order) ||
		!pe_top_by_name(t, v, &order, flat, cum))
		goto done;

	for (uint32_t s = 0; s < nnames; s++)
		n += flat[s] != 0 || cum[s] != 0;
	out = pe_alloc(ctx, sizeof(PeTopRow) * (n ? n : 1));
	if (!out)
		goto done;
	n = 0;
	for (uint32_t s = 0; s < nnames; s++)
	{
		if (flat[s] == 0 && cum[s] == 0)
			continue;
		out[n].name = s;
		out[n].self = flat[s];
		out[n].total = cum[s];
		n++;
	}
	if (!pe_sort(ctx, out, n, sizeof(PeTopRow), compare_top_rows_arg,
				 (void *) &t->names))
		goto done;
	*rows = out;
	*nrows = n;
	out = NULL;
	ok = true;
done:
	pe_free(ctx, out);
	pe_free(ctx, flat);
	pe_free(ctx, cum);
	pe_order_free(ctx, &order);
	return ok;
}
