/*
 * pe_ops.c
 *		Trees built from trees: the two-column union behind diffs, pprof's
 *		-focus/-ignore filter, and a deep copy.
 *
 * All three walk source nodes in index order, where parents come before
 * children, and map each source node to its output node; names are mapped
 * once per distinct name, not once per node.  Flame rows live in
 * pe_flame.c and per-function tables in pe_top.c.
 */
#include <string.h>

#include "pe_ops.h"

/* Bits of the per-node marks of pe_tree_filter. */
#define FILTER_KEEP_SELF	1	/* the node's stack passes focus and ignore */
#define FILTER_NEEDED		2	/* kept non-zero self here or below */

/* Fail on a node whose parent or name is out of range (a corrupt tree). */
static bool
check_node(PeCtx *ctx, const PeTree *t, uint32_t node)
{
	if (t->parent[node] >= node || t->name[node] >= t->names.n)
		return pe_fail(ctx, PE_ERR_CORRUPT, "call tree node %u is malformed\n"
				"Its parent (%u) must precede it and its name (%u) must be one of the %u names.",
				node, t->parent[node], t->name[node], t->names.n);
	return true;
}

/*
 * Output name id of the source name id, interning it on first use;
 * name_map starts filled with PE_NO_NODE.  PE_NO_NODE on error.
 */
static uint32_t
map_name(PeTree *out, const PeTree *src, uint32_t *name_map, uint32_t id)
{
	if (name_map[id] == PE_NO_NODE)
	{
		uint32_t	len;
		const char *s = pe_strtab_get(&src->names, id, &len);

		name_map[id] = pe_strtab_intern(&out->names, s, len);
	}
	return name_map[id];
}

static uint32_t *
alloc_unmapped(PeCtx *ctx, uint32_t n)
{
	uint32_t   *map = pe_alloc(ctx, sizeof(uint32_t) * (n ? n : 1));

	if (map)
		memset(map, 0xff, sizeof(uint32_t) * n);	/* PE_NO_NODE */
	return map;
}

/*
 * Add src's column v into out's column out_col, creating src's stacks in
 * out as needed.
 */
static bool
union_one(PeCtx *ctx, PeTree *out, const PeTree *src, uint32_t v,
		  uint32_t out_col)
{
	uint32_t	nv = src->meta.nvalues;
	uint32_t   *name_map = alloc_unmapped(ctx, src->names.n);
	uint32_t   *node_map = pe_alloc(ctx, sizeof(uint32_t) * src->nnodes);
	bool		ok = false;

	if (name_map == NULL || node_map == NULL)
		goto done;
	node_map[0] = 0;
	for (uint32_t i = 0; i < src->nnodes; i++)
	{
		int64_t		values[2] = {0, 0};

		if (i > 0)
		{
			uint32_t	name;

			if (!check_node(ctx, src, i))
				goto done;
			name = map_name(out, src, name_map, src->name[i]);
			if (name == PE_NO_NODE)
				goto done;
			node_map[i] = pe_tree_child(out, node_map[src->parent[i]], name);
			if (node_map[i] == PE_NO_NODE)
				goto done;
		}
		values[out_col] = src->self[(size_t) i * nv + v];
		if (values[out_col] != 0 && !pe_tree_add_self(out, node_map[i], values))
			goto done;
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	ok = true;
done:
	pe_free(ctx, name_map);
	pe_free(ctx, node_map);
	return ok;
}

/* The output header: the two chosen sample types, the rest from target. */
bool
pe_tree_union2(PeCtx *ctx, const PeTree *base, uint32_t vb,
			   const PeTree *target, uint32_t vt, PeTree *out)
{
	PeMeta		meta = target->meta;
	PeSampleType types[2];

	memset(out, 0, sizeof(*out));
	if (vb >= base->meta.nvalues || vt >= target->meta.nvalues)
		return pe_fail(ctx, PE_ERR_ARG, "value column out of range\n"
				"Column %u of the base (which has %u) and column %u of the target (which has %u) were asked for.",
				vb, base->meta.nvalues, vt, target->meta.nvalues);
	if (base->nnodes == 0 || target->nnodes == 0)
		return pe_fail(ctx, PE_ERR_CORRUPT, "call tree has no root node");
	types[0] = base->meta.types[vb];
	types[1] = target->meta.types[vt];
	meta.nvalues = 2;
	meta.types = types;
	/* target's default index means nothing in the new columns */
	meta.default_type = -1;
	if (!pe_tree_init(ctx, out, &meta) ||
		!union_one(ctx, out, base, vb, 0) ||
		!union_one(ctx, out, target, vt, 1))
	{
		pe_tree_free(out);
		return false;
	}
	return true;
}

/*
 * Mark nodes whose self values survive the filter (FILTER_KEEP_SELF) by
 * walking the canonical pre-order with the current path and counters of
 * how many focus / ignore frames are on it.  The root is not a frame.
 */
static bool
mark_kept_self(const PeTree *t, const uint8_t *focus, const uint8_t *ignore,
			   uint8_t *marks)
{
	PeCtx	   *ctx = t->ctx;
	PeOrder		order;
	uint32_t   *path = NULL;
	uint32_t	len = 0;
	uint32_t	focus_on_path = 0;
	uint32_t	ignore_on_path = 0;
	bool		ok = false;

	if (!pe_tree_preorder(t, false, &order))
		return false;
	path = pe_alloc(ctx, sizeof(uint32_t) * order.n);
	if (path == NULL)
		goto done;
	if (focus == NULL)
		marks[0] |= FILTER_KEEP_SELF;
	for (uint32_t i = 1; i < order.n; i++)
	{
		uint32_t	node = order.node[i];
		uint32_t	depth = order.depth[i];	/* path[depth - 1] */
		uint32_t	name = t->name[node];

		while (len >= depth)
		{
			uint32_t	gone = t->name[path[--len]];

			focus_on_path -= focus && focus[gone];
			ignore_on_path -= ignore && ignore[gone];
		}
		focus_on_path += focus && focus[name];
		ignore_on_path += ignore && ignore[name];
		path[len++] = node;
		if ((focus == NULL || focus_on_path > 0) && ignore_on_path == 0)
			marks[node] |= FILTER_KEEP_SELF;
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	ok = true;
done:
	pe_free(ctx, path);
	pe_order_free(ctx, &order);
	return ok;
}

/* Keep the self values that pass focus/ignore, and their ancestors. */
bool
pe_tree_filter(const PeTree *t, const uint8_t *focus, const uint8_t *ignore,
			   PeTree *out)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t	nv = t->meta.nvalues;
	uint8_t    *marks = NULL;
	uint32_t   *name_map = NULL;
	uint32_t   *node_map = NULL;
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	if (t->nnodes == 0)
		return pe_fail(ctx, PE_ERR_CORRUPT, "call tree has no root node");
	for (uint32_t i = 1; i < t->nnodes; i++)
		if (!check_node(ctx, t, i))
			return false;
	marks = pe_alloc0(ctx, t->nnodes);
	if (marks == NULL || !mark_kept_self(t, focus, ignore, marks))
		goto done;

	/* Needed: kept non-zero self here or in the subtree (children first). */
	for (uint32_t i = t->nnodes; i-- > 0;)
	{
		if (marks[i] & FILTER_KEEP_SELF)
			for (uint32_t v = 0; v < nv && !(marks[i] & FILTER_NEEDED); v++)
				if (t->self[(size_t) i * nv + v] != 0)
					marks[i] |= FILTER_NEEDED;
		if (i > 0 && (marks[i] & FILTER_NEEDED))
			marks[t->parent[i]] |= FILTER_NEEDED;
	}

	name_map = alloc_unmapped(ctx, t->names.n);
	node_map = pe_alloc(ctx, sizeof(uint32_t) * t->nnodes);
	if (name_map == NULL || node_map == NULL || !pe_tree_init(ctx, out, &t->meta))
		goto done;
	node_map[0] = 0;
	for (uint32_t i = 0; i < t->nnodes; i++)
	{
		if (!(marks[i] & FILTER_NEEDED))
			continue;
		if (i > 0)
		{
			uint32_t	name = map_name(out, t, name_map, t->name[i]);

			if (name == PE_NO_NODE)
				goto done;
			/* needed parents come first in index order, so they are mapped */
			node_map[i] = pe_tree_child(out, node_map[t->parent[i]], name);
			if (node_map[i] == PE_NO_NODE)
				goto done;
		}
		if ((marks[i] & FILTER_KEEP_SELF) &&
			!pe_tree_add_self(out, node_map[i], t->self + (size_t) i * nv))
			goto done;
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	ok = true;
done:
	if (!ok)
		pe_tree_free(out);		/* safe on a zeroed or half-built tree */
	pe_free(ctx, marks);
	pe_free(ctx, name_map);
	pe_free(ctx, node_map);
	return ok;
}

/* Same name ids and node indexes as src; no child index is built. */
bool
pe_tree_copy(PeCtx *ctx, const PeTree *src, PeTree *out)
{
	uint32_t	nv = src->meta.nvalues;

	memset(out, 0, sizeof(*out));
	if (src->nnodes == 0)
		return pe_fail(ctx, PE_ERR_CORRUPT, "call tree has no root node");
	if (!pe_tree_init(ctx, out, &src->meta))
		goto fail;
	/* Interning the distinct names in id order gives them the same ids. */
	for (uint32_t s = 0; s < src->names.n; s++)
	{
		uint32_t	len;
		const char *str = pe_strtab_get(&src->names, s, &len);

		if (pe_strtab_intern(&out->names, str, len) != s)
		{
			if (ctx->err.code == PE_OK)
				pe_fail(ctx, PE_ERR_CORRUPT, "call tree name %u is a duplicate", s);
			goto fail;
		}
		if ((s & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	for (uint32_t i = 0; i < src->nnodes; i++)
	{
		if (i > 0 &&
			(!check_node(ctx, src, i) ||
			 pe_tree_append(out, src->parent[i], src->name[i]) != i))
			goto fail;
		if (nv > 0)
			memcpy(out->self + (size_t) i * nv, src->self + (size_t) i * nv,
				   sizeof(int64_t) * nv);
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	out->canonical = src->canonical;
	return true;
fail:
	pe_tree_free(out);
	return false;
}
