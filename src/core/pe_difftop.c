/*
 * pe_difftop.c
 *		What changed between two profiles, per function: profile_diff_top's
 *		join, normalisation, culprit score and ranking.
 *
 * The culprit score answers "which code made this more expensive".  Every
 * node of the union tree passes its change to exactly one node, so the
 * scores add up to the change of the whole profile:
 *
 * 1. New cost.  Walking down from the root, the first node n whose
 *    inclusive cost grew at least ENTRY_RATIO-fold (or appeared) starts a
 *    new-cost subtree, and its whole growth goes to one node of the chain
 *    of children that carry at least CHAIN_SHARE of it (handler -> loop ->
 *    json.Marshal).  Among its new call sites (nodes with at most
 *    1/NEW_RATIO of their target cost in the base), the one whose function
 *    is newest to the profile (its total grew at least ENTRY_RATIO-fold,
 *    the most of them; the outermost on a tie: where old code calls new
 *    code); else the caller of the first one (old code called from a new
 *    place).  Without a new call site: the node whose function grew the
 *    most (a function that got much slower, a lock that became contended).
 *    Nodes below n get nothing.  Shrinking works the same way with the
 *    sides swapped.
 *
 * 2. Everything else: a node's change of self cost.  The part explained by
 *    its function getting slower or faster everywhere (the weighted median,
 *    over the function's other nodes, of target self / base self) stays
 *    with the node; the rest is specific to this call site (a lock that is
 *    contended only under one caller, a library function called more by
 *    one caller) and goes to the parent node, the caller.
 *
 * A function's score is the sum over its nodes.  The rules need no
 * recursion; each pass visits the nodes in index order (parents first).
 */
#include <math.h>
#include <string.h>

#include "pe_ops.h"

/* Inclusive cost at least this many times the other side's: new cost. */
#define ENTRY_RATIO		4.0
/* Inclusive cost at most 1/NEW_RATIO of the other side's: a new call site. */
#define NEW_RATIO		16.0
/* A child carrying this share of the growth continues the chain. */
#define CHAIN_SHARE		0.9
/* Sums of doubles leave dust: below this share of the profile is zero. */
#define DUST_SHARE		1e-9

/* Per-function flat and cum of both sides, indexed by name id. */
typedef struct DiffSums
{
	int64_t    *self[2];
	int64_t    *total[2];
	bool	   *present;
	int64_t		sum[2];			/* each side's profile total */
} DiffSums;

typedef struct BlameWork
{
	PeCtx	   *ctx;
	const PeTree *u;
	double		scale[2];		/* value -> percent (or 1) per side */
	double	   *incl[2];		/* inclusive cost per node, scaled */
	double	   *self[2];		/* self cost per node, scaled */
	uint32_t   *grow_child;		/* child with the largest change */
	uint32_t   *shrink_child;	/* child with the smallest change */
	uint8_t    *inside;			/* node is in (or starts) a new-cost subtree */
	double	   *rho;			/* per name: uniform self ratio; NAN: none */
	const PeOrder *order;		/* canonical pre-order: sums in the same order */
} BlameWork;

static void
diff_sums_free(PeCtx *ctx, DiffSums *s)
{
	for (int c = 0; c < 2; c++)
	{
		pe_free(ctx, s->self[c]);
		pe_free(ctx, s->total[c]);
	}
	pe_free(ctx, s->present);
}

/* pe_top() of both columns, as arrays by name id. */
static bool
diff_sums(const PeTree *u, const PeOrder *order, DiffSums *s)
{
	PeCtx	   *ctx = u->ctx;
	uint32_t	nnames = u->names.n;

	memset(s, 0, sizeof(*s));
	s->present = pe_alloc0(ctx, sizeof(bool) * (nnames ? nnames : 1));
	if (s->present == NULL)
		return false;
	for (int c = 0; c < 2; c++)
	{
		s->self[c] = pe_alloc(ctx, sizeof(int64_t) * (nnames ? nnames : 1));
		s->total[c] = pe_alloc(ctx, sizeof(int64_t) * (nnames ? nnames : 1));
		if (s->self[c] == NULL || s->total[c] == NULL ||
			!pe_tree_sum(u, c, &s->sum[c]) ||
			!pe_top_by_name(u, c, order, s->self[c], s->total[c]))
			return false;
		/* the functions pe_top() lists: nonzero flat or cum on either side */
		for (uint32_t name = 0; name < nnames; name++)
			s->present[name] |= s->self[c][name] != 0 || s->total[c][name] != 0;
	}
	return true;
}

static inline double
node_change(const BlameWork *w, uint32_t n)
{
	return w->incl[1][n] - w->incl[0][n];
}

/* Did cost a grow (sign > 0) or shrink (sign < 0) ENTRY_RATIO-fold to b? */
static inline bool
far_apart(double a, double b, int sign)
{
	return sign > 0 ? b > 0 && a * ENTRY_RATIO <= b : a > 0 && b * ENTRY_RATIO <= a;
}

static inline bool
node_is_entry(const BlameWork *w, uint32_t n, int sign)
{
	return far_apart(w->incl[0][n], w->incl[1][n], sign);
}

typedef struct RatioEntry
{
	uint32_t	name;
	double		ratio;
	double		weight;
} RatioEntry;

static int
compare_ratio_entries(const void *a, const void *b, void *arg)
{
	const RatioEntry *x = a;
	const RatioEntry *y = b;

	if (x->name != y->name)
		return x->name < y->name ? -1 : 1;
	return (x->ratio > y->ratio) - (x->ratio < y->ratio);
}

/*
 * rho[name]: the weighted median (weights: base self) of target self / base
 * self over the name's nodes outside new-cost subtrees; NAN without any.
 */
static bool
uniform_ratios(BlameWork *w)
{
	const PeTree *u = w->u;
	RatioEntry *e = pe_alloc(w->ctx, sizeof(RatioEntry) * u->nnodes);
	uint32_t	n = 0;

	if (e == NULL)
		return false;
	for (uint32_t i = 0; i < u->names.n; i++)
		w->rho[i] = NAN;
	for (uint32_t i = 1; i < w->order->n; i++)
	{
		uint32_t	node = w->order->node[i];

		if (!w->inside[node] && w->self[0][node] > 0)
		{
			e[n].name = u->name[node];
			e[n].ratio = w->self[1][node] / w->self[0][node];
			e[n].weight = w->self[0][node];
			n++;
		}
	}
	if (!pe_sort(w->ctx, e, n, sizeof(RatioEntry), compare_ratio_entries, NULL))
	{
		pe_free(w->ctx, e);
		return false;
	}
	for (uint32_t lo = 0; lo < n;)
	{
		uint32_t	hi = lo;
		double		all = 0;
		double		acc = 0;

		while (hi < n && e[hi].name == e[lo].name)
			all += e[hi++].weight;
		for (uint32_t i = lo; i < hi; i++)
		{
			acc += e[i].weight;
			if (acc * 2 >= all)
			{
				w->rho[e[lo].name] = e[i].ratio;
				break;
			}
		}
		lo = hi;
	}
	pe_free(w->ctx, e);
	return true;
}

/* A function's base total over its target total (turned for shrinking). */
static inline double
function_ratio(const BlameWork *w, const DiffSums *s, uint32_t name, int sign)
{
	double		b = s->total[0][name] * w->scale[0];
	double		t = s->total[1][name] * w->scale[1];

	if (sign < 0)
	{
		double		swap = b;

		b = t;
		t = swap;
	}
	return t > 0 ? b / t : 1.0;
}

static inline bool
is_new_call_site(const BlameWork *w, uint32_t x, int sign)
{
	double		b = sign > 0 ? w->incl[0][x] : w->incl[1][x];
	double		t = sign > 0 ? w->incl[1][x] : w->incl[0][x];

	return b * NEW_RATIO <= t;
}

/* Which node of the chain n .. m gets the new cost (see the file header). */
static uint32_t
blame_target(const BlameWork *w, const DiffSums *s, uint32_t n, uint32_t m,
			 int sign)
{
	const PeTree *u = w->u;
	uint32_t	first_site = PE_NO_NODE;
	uint32_t	best = n;
	double		best_ratio = 2.0;

	/*
	 * New code: the new call site whose function is newest to the profile
	 * (a function that did not run at all before beats a library function
	 * that ran a little); on a tie the outermost, where old code calls new.
	 */
	for (uint32_t x = m;; x = u->parent[x])
	{
		if (is_new_call_site(w, x, sign))
		{
			double		r = function_ratio(w, s, u->name[x], sign);

			if (r * ENTRY_RATIO <= 1.0 && r <= best_ratio)
			{
				best = x;
				best_ratio = r;
			}
			first_site = x;
		}
		if (x == n)
			break;
	}
	if (best_ratio < 2.0)
		return best;
	/* Old code called from a new place: its caller. */
	if (first_site != PE_NO_NODE)
		return u->parent[first_site] == 0 ? first_site : u->parent[first_site];
	/* No new call site: the function on the chain that grew the most. */
	for (uint32_t x = m;; x = u->parent[x])
	{
		double		r = function_ratio(w, s, u->name[x], sign);

		if (r < best_ratio)
		{
			best = x;
			best_ratio = r;
		}
		if (x == n)
			break;
	}
	return best;
}

/* Rule 1: find new-cost subtrees, blame each on one node. */
static void
blame_new_cost(BlameWork *w, const DiffSums *s, double *blame)
{
	const PeTree *u = w->u;

	w->inside[0] = 0;
	for (uint32_t i = 1; i < w->order->n; i++)
	{
		uint32_t	n = w->order->node[i];
		double		d = node_change(w, n);
		int			sign = d > 0 ? 1 : d < 0 ? -1 : 0;
		uint32_t	m = n;

		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(w->ctx);
		if (w->inside[u->parent[n]])
		{
			w->inside[n] = 1;
			continue;
		}
		if (sign == 0 || !node_is_entry(w, n, sign))
			continue;
		w->inside[n] = 1;
		for (;;)
		{
			uint32_t	c = sign > 0 ? w->grow_child[m] : w->shrink_child[m];

			if (c == PE_NO_NODE || !node_is_entry(w, c, sign) ||
				fabs(node_change(w, c)) < CHAIN_SHARE * fabs(d))
				break;
			m = c;
		}
		blame[blame_target(w, s, n, m, sign)] += d;
	}
}

/* Rule 2: self changes outside new-cost subtrees, split own / call site. */
static void
blame_self_change(BlameWork *w, double *blame)
{
	const PeTree *u = w->u;

	for (uint32_t i = 1; i < w->order->n; i++)
	{
		uint32_t	n = w->order->node[i];
		double		d = w->self[1][n] - w->self[0][n];
		double		rho = w->rho[u->name[n]];
		double		own = isnan(rho) ? d : w->self[0][n] * (rho - 1.0);

		if (w->inside[n] || d == 0)
			continue;
		blame[n] += own;
		blame[u->parent[n] == 0 ? n : u->parent[n]] += d - own;
	}
}

static void
blame_work_free(BlameWork *w)
{
	for (int c = 0; c < 2; c++)
	{
		pe_free(w->ctx, w->incl[c]);
		pe_free(w->ctx, w->self[c]);
	}
	pe_free(w->ctx, w->grow_child);
	pe_free(w->ctx, w->shrink_child);
	pe_free(w->ctx, w->inside);
	pe_free(w->ctx, w->rho);
}

/* Below this a sum of doubles is rounding dust (values scaled as the blame is). */
static double
dust_bound(bool normalize, const DiffSums *s)
{
	return DUST_SHARE * (normalize ? 100.0 :
						 1.0 + (double) (s->sum[0] > s->sum[1] ? s->sum[0] : s->sum[1]));
}

static bool
blame_nodes(const PeTree *u, const PeOrder *order, bool normalize, const DiffSums *s,
			double *blame)
{
	PeCtx	   *ctx = u->ctx;
	BlameWork	w;
	int64_t    *totals = NULL;
	bool		ok = false;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.u = u;
	w.order = order;
	memset(blame, 0, sizeof(double) * u->nnodes);
	for (int c = 0; c < 2; c++)
		w.scale[c] = !normalize ? 1.0 : s->sum[c] == 0 ? 0.0 : 100.0 / (double) s->sum[c];
	totals = pe_alloc(ctx, sizeof(int64_t) * u->nnodes);
	w.grow_child = pe_alloc(ctx, sizeof(uint32_t) * u->nnodes);
	w.shrink_child = pe_alloc(ctx, sizeof(uint32_t) * u->nnodes);
	w.inside = pe_alloc0(ctx, u->nnodes);
	w.rho = pe_alloc(ctx, sizeof(double) * (u->names.n ? u->names.n : 1));
	if (!totals || !w.grow_child || !w.shrink_child || !w.inside || !w.rho)
		goto done;
	for (int c = 0; c < 2; c++)
	{
		w.incl[c] = pe_alloc(ctx, sizeof(double) * u->nnodes);
		w.self[c] = pe_alloc(ctx, sizeof(double) * u->nnodes);
		if (!w.incl[c] || !w.self[c] || !pe_tree_totals(u, c, totals))
			goto done;
		for (uint32_t n = 0; n < u->nnodes; n++)
		{
			w.incl[c][n] = (double) totals[n] * w.scale[c];
			w.self[c][n] = (double) u->self[(size_t) n * 2 + c] * w.scale[c];
		}
	}
	for (uint32_t n = 0; n < u->nnodes; n++)
		w.grow_child[n] = w.shrink_child[n] = PE_NO_NODE;
	for (uint32_t i = 1; i < w.order->n; i++)
	{
		uint32_t	n = w.order->node[i];
		uint32_t	p = u->parent[n];
		double		d = node_change(&w, n);

		if (w.grow_child[p] == PE_NO_NODE || d > node_change(&w, w.grow_child[p]))
			w.grow_child[p] = n;
		if (w.shrink_child[p] == PE_NO_NODE || d < node_change(&w, w.shrink_child[p]))
			w.shrink_child[p] = n;
	}
	blame_new_cost(&w, s, blame);
	if (!uniform_ratios(&w))
		goto done;
	blame_self_change(&w, blame);
	blame[0] = 0;
	{
		double		dust = dust_bound(normalize, s);

		for (uint32_t n = 1; n < u->nnodes; n++)
			if (fabs(blame[n]) < dust)
				blame[n] = 0;
	}
	ok = true;
done:
	pe_free(ctx, totals);
	blame_work_free(&w);
	return ok;
}

/* Fails unless u has the two columns of a union tree. */
static bool
is_union(const PeTree *u)
{
	if (u->meta.nvalues != 2 || u->nnodes == 0)
		return pe_fail(u->ctx, PE_ERR_ARG, "a diff needs a tree with two value columns\n"
				"The tree has %u columns and %u nodes.", u->meta.nvalues, u->nnodes);
	return true;
}

bool
pe_diff_blame(const PeTree *u, bool normalize, double **blame)
{
	PeCtx	   *ctx = u->ctx;
	DiffSums	s;
	PeOrder		order;
	bool		ok;

	*blame = NULL;
	memset(&s, 0, sizeof(s));
	memset(&order, 0, sizeof(order));
	if (!is_union(u))
		return false;
	*blame = pe_alloc(ctx, sizeof(double) * u->nnodes);
	ok = *blame != NULL && pe_tree_preorder(u, false, &order) &&
		diff_sums(u, &order, &s) && blame_nodes(u, &order, normalize, &s, *blame);
	diff_sums_free(ctx, &s);
	pe_order_free(ctx, &order);
	if (!ok)
	{
		pe_free(ctx, *blame);
		*blame = NULL;
	}
	return ok;
}

/* Sort classes of the culprit orders: 0 comes first. */
static inline int
score_class(double score, PeDiffRank rank)
{
	if (score == 0)
		return 2;
	return (score > 0) == (rank == PE_DIFF_RANK_INCREASE) ? 0 : 1;
}

static int
compare_diff_rows(const void *a, const void *b, void *arg)
{
	const PeDiffTopRow *x = a;
	const PeDiffTopRow *y = b;
	const PeTree *u = ((const void **) arg)[0];
	PeDiffRank	rank = *(const PeDiffRank *) ((const void **) arg)[1];
	double		kx,
				ky;

	if (rank == PE_DIFF_RANK_SELF)
	{
		kx = fabs(x->change);
		ky = fabs(y->change);
	}
	else
	{
		int			cx = score_class(x->score, rank);
		int			cy = score_class(y->score, rank);

		if (cx != cy)
			return cx < cy ? -1 : 1;
		kx = fabs(x->score);
		ky = fabs(y->score);
	}
	if (kx != ky)
		return kx > ky ? -1 : 1;
	kx = fabs(x->total_change);
	ky = fabs(y->total_change);
	if (kx != ky)
		return kx > ky ? -1 : 1;
	return pe_strtab_compare(&u->names, x->name, y->name);
}

bool
pe_diff_top(const PeTree *u, bool normalize, PeDiffRank rank,
			PeDiffTopRow **rows, uint32_t *nrows)
{
	PeCtx	   *ctx = u->ctx;
	DiffSums	s;
	double	   *blame = NULL;
	double	   *score = NULL;
	PeDiffTopRow *out = NULL;
	const void *sort_arg[2] = {u, &rank};
	PeOrder		order;
	double		dust;
	uint32_t	n = 0;
	bool		ok = false;

	*rows = NULL;
	*nrows = 0;
	memset(&s, 0, sizeof(s));
	memset(&order, 0, sizeof(order));
	if (!is_union(u))
		return false;
	blame = pe_alloc(ctx, sizeof(double) * u->nnodes);
	score = pe_alloc0(ctx, sizeof(double) * (u->names.n ? u->names.n : 1));
	/* In canonical order: equal trees give equal sums, whatever their node order. */
	if (!blame || !score || !pe_tree_preorder(u, false, &order) ||
		!diff_sums(u, &order, &s) || !blame_nodes(u, &order, normalize, &s, blame))
		goto done;
	for (uint32_t i = 1; i < order.n; i++)
		score[u->name[order.node[i]]] += blame[order.node[i]];
	out = pe_alloc(ctx, sizeof(PeDiffTopRow) * (u->names.n ? u->names.n : 1));
	if (out == NULL)
		goto done;
	dust = dust_bound(normalize, &s);
	for (uint32_t name = 0; name < u->names.n; name++)
	{
		PeDiffTopRow *r = &out[n];
		double		sb = normalize ? (s.sum[0] ? 100.0 / (double) s.sum[0] : 0) : 1.0;
		double		st = normalize ? (s.sum[1] ? 100.0 / (double) s.sum[1] : 0) : 1.0;

		if (!s.present[name])
			continue;
		r->name = name;
		r->base_self = s.self[0][name];
		r->base_total = s.total[0][name];
		r->target_self = s.self[1][name];
		r->target_total = s.total[1][name];
		r->change = (double) r->target_self * st - (double) r->base_self * sb;
		r->total_change = (double) r->target_total * st - (double) r->base_total * sb;
		r->score = fabs(score[name]) < dust ? 0 : score[name];
		n++;
	}
	if (!pe_sort(ctx, out, n, sizeof(PeDiffTopRow), compare_diff_rows, sort_arg))
		goto done;
	*rows = out;
	*nrows = n;
	out = NULL;
	ok = true;
done:
	diff_sums_free(ctx, &s);
	pe_order_free(ctx, &order);
	pe_free(ctx, blame);
	pe_free(ctx, score);
	pe_free(ctx, out);
	return ok;
}

bool
pe_diff_row_blame(const PeTree *u, bool normalize, const PeFlameRow *rows,
				  uint32_t nrows, double **row_blame)
{
	PeCtx	   *ctx = u->ctx;
	double	   *blame;
	double	   *out;

	*row_blame = NULL;
	if (!pe_diff_blame(u, normalize, &blame))
		return false;
	out = pe_alloc(ctx, sizeof(double) * (nrows ? nrows : 1));
	if (out == NULL)
	{
		pe_free(ctx, blame);
		return false;
	}
	for (uint32_t i = 0; i < nrows; i++)
		out[i] = rows[i].node < u->nnodes ? blame[rows[i].node] : 0.0;
	pe_free(ctx, blame);
	*row_blame = out;
	return true;
}
