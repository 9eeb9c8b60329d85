/*
 * pe_tree.c
 *		The call tree: node storage, child lookup, merge, canonical order.
 *
 * Child lookup is one open-addressing table keyed on (parent, name), built
 * only when someone asks for pe_tree_child(): trees that come out of the
 * stored format are already canonical and never need it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pe_hash.h"
#include "pe_tree.h"

bool
pe_meta_copy(PeCtx *ctx, PeMeta *dst, const PeMeta *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->nvalues = src->nvalues;
	dst->period = src->period;
	dst->time_nanos = src->time_nanos;
	dst->duration_nanos = src->duration_nanos;
	dst->default_type = src->default_type;
	if (src->nvalues > PE_MAX_VALUES)
		return pe_fail(ctx, PE_ERR_LIMIT, "too many sample types (%u)\n"
				"At most %d sample types are supported.", src->nvalues, PE_MAX_VALUES);
	dst->types = pe_alloc0(ctx, sizeof(PeSampleType) * (src->nvalues ? src->nvalues : 1));
	if (dst->types == NULL)
		return false;
	for (uint32_t i = 0; i < src->nvalues; i++)
	{
		const char *type = src->types[i].type ? src->types[i].type : "";
		const char *unit = src->types[i].unit ? src->types[i].unit : "";

		dst->types[i].type = pe_strndup(ctx, type, strlen(type));
		dst->types[i].unit = pe_strndup(ctx, unit, strlen(unit));
		if (!dst->types[i].type || !dst->types[i].unit)
			return false;
	}
	dst->period_type.type = pe_strndup(ctx, src->period_type.type ? src->period_type.type : "",
									   src->period_type.type ? strlen(src->period_type.type) : 0);
	dst->period_type.unit = pe_strndup(ctx, src->period_type.unit ? src->period_type.unit : "",
									   src->period_type.unit ? strlen(src->period_type.unit) : 0);
	return dst->period_type.type && dst->period_type.unit;
}

void
pe_meta_free(PeCtx *ctx, PeMeta *m)
{
	if (m->types)
	{
		for (uint32_t i = 0; i < m->nvalues; i++)
		{
			pe_free(ctx, m->types[i].type);
			pe_free(ctx, m->types[i].unit);
		}
		pe_free(ctx, m->types);
	}
	pe_free(ctx, m->period_type.type);
	pe_free(ctx, m->period_type.unit);
	memset(m, 0, sizeof(*m));
}

bool
pe_tree_init(PeCtx *ctx, PeTree *t, const PeMeta *meta)
{
	memset(t, 0, sizeof(*t));
	t->ctx = ctx;
	if (!pe_meta_copy(ctx, &t->meta, meta) || !pe_strtab_init(ctx, &t->names))
		return false;
	return pe_tree_append(t, PE_NO_NODE, 0) == 0;
}

void
pe_tree_free(PeTree *t)
{
	PeCtx	   *ctx = t->ctx;

	if (ctx == NULL)
		return;
	pe_meta_free(ctx, &t->meta);
	pe_strtab_free(&t->names);
	pe_free(ctx, t->parent);
	pe_free(ctx, t->name);
	pe_free(ctx, t->self);
	pe_free(ctx, t->slots);
	pe_free(ctx, t->last_child);
	pe_free(ctx, t->path_slots);
	memset(t, 0, sizeof(*t));
}

/* Insert node into the child index; the caller guarantees room. */
static void
child_index_put(PeTree *t, uint32_t node)
{
	uint32_t	mask = t->nslots - 1;
	uint32_t	i = (uint32_t) pe_hash_pair(t->parent[node], t->name[node]) & mask;

	while (t->slots[i].node != 0)
		i = (i + 1) & mask;
	t->slots[i].parent = t->parent[node];
	t->slots[i].name = t->name[node];
	t->slots[i].node = node + 1;
}

/* (Re)build the child index so that it holds need nodes at load <= 1/2. */
static bool
child_index_reserve(PeTree *t, uint32_t need)
{
	uint32_t	nslots;

	if (t->slots && (uint64_t) need * 2 <= t->nslots)
		return true;
	nslots = t->nslots ? t->nslots : 1024;
	while ((uint64_t) need * 2 > nslots)
	{
		if (nslots >= (UINT32_C(1) << 31))
			return pe_fail(t->ctx, PE_ERR_LIMIT, "call tree too large");
		nslots *= 2;
	}
	pe_free(t->ctx, t->slots);
	t->slots = pe_alloc0(t->ctx, (size_t) nslots * sizeof(PeChildSlot));
	if (t->slots == NULL)
	{
		t->nslots = 0;
		return false;
	}
	t->nslots = nslots;
	for (uint32_t n = 1; n < t->nnodes; n++)
		child_index_put(t, n);
	return true;
}

/* Grow the node arrays to hold at least need nodes (doubling). */
static bool
tree_grow(PeTree *t, uint32_t need)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t	nv = t->meta.nvalues;
	uint32_t	cap = t->cap;
	uint32_t	newcap = cap ? cap : 64;
	int64_t    *self;

	if (need > UINT32_MAX - 1)
		return pe_fail(ctx, PE_ERR_LIMIT, "call tree too large");
	while (newcap < need)
		newcap = newcap > UINT32_MAX / 2 ? UINT32_MAX - 1 : newcap * 2;
	if (!pe_grow(ctx, (void **) &t->parent, &cap, newcap, sizeof(uint32_t)))
		return false;
	cap = t->cap;
	if (!pe_grow(ctx, (void **) &t->name, &cap, newcap, sizeof(uint32_t)))
		return false;
	self = pe_realloc(ctx, t->self, (size_t) newcap * (nv ? nv : 1) * sizeof(int64_t));
	if (self == NULL)
		return false;
	t->self = self;
	if (t->last_child)
	{
		PeLastChild *lc = pe_realloc(ctx, t->last_child, (size_t) newcap * sizeof(PeLastChild));

		if (lc == NULL)
			return false;
		memset(lc + t->cap, 0, (size_t) (newcap - t->cap) * sizeof(PeLastChild));
		t->last_child = lc;
	}
	t->cap = newcap;
	return true;
}

bool
pe_tree_reserve(PeTree *t, uint32_t need)
{
	if (need > t->ctx->limits.max_nodes)
		return pe_fail(t->ctx, PE_ERR_LIMIT_NODES, "call tree exceeds the limit of %u nodes",
					   t->ctx->limits.max_nodes);
	return need <= t->cap || tree_grow(t, need);
}

/* Largest pe_tree_presize() hint followed: 2^17 slots of the index, 1.5 MB. */
#define PE_PRESIZE_MAX	(UINT32_C(1) << 16)

bool
pe_tree_presize(PeTree *t, uint64_t n)
{
	uint32_t	need = (uint32_t) (n < PE_PRESIZE_MAX ? n : PE_PRESIZE_MAX);

	if (need > t->ctx->limits.max_nodes)
		need = t->ctx->limits.max_nodes;
	if (need <= t->nnodes)
		return true;
	return pe_tree_reserve(t, need) && child_index_reserve(t, need);
}

/*
 * Append a node under parent with zero values, in no index; PE_NO_NODE on
 * error (max_nodes, memory), with the tree unchanged.
 */
static inline uint32_t
tree_push_node(PeTree *t, uint32_t parent, uint32_t name)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t	nv = t->meta.nvalues;
	uint32_t	node = t->nnodes;
	int64_t    *self;

	if (node >= ctx->limits.max_nodes)
	{
		pe_fail(ctx, PE_ERR_LIMIT_NODES, "call tree exceeds the limit of %u nodes",
				ctx->limits.max_nodes);
		return PE_NO_NODE;
	}
	if (node + 1 > t->cap && !tree_grow(t, node + 1))
		return PE_NO_NODE;
	t->canonical = false;
	t->parent[node] = parent;
	t->name[node] = name;
	self = t->self + (size_t) node * nv;
	/* most profiles have one or two sample types: no memset call */
	if (nv <= 2)
	{
		if (nv >= 1)
			self[0] = 0;
		if (nv == 2)
			self[1] = 0;
	}
	else
		memset(self, 0, sizeof(int64_t) * nv);
	t->nnodes++;
	return node;
}

/*
 * A new node under parent, not yet in the child index; PE_NO_NODE on
 * error.  Inlined into the child lookup, whose probe already found the
 * index slot the node goes to.
 */
static inline uint32_t
tree_new_node(PeTree *t, uint32_t parent, uint32_t name)
{
	uint32_t	node = tree_push_node(t, parent, name);

	if (node == PE_NO_NODE)
		return node;
	if (t->path_slots)
	{
		/* not kept up to date here: rebuilt when the merge needs it */
		pe_free(t->ctx, t->path_slots);
		t->path_slots = NULL;
		t->npath_slots = 0;
	}
	if (t->last_child)
		t->last_child[node].node = 0;
	return node;
}

uint32_t
pe_tree_append(PeTree *t, uint32_t parent, uint32_t name)
{
	uint32_t	node = tree_new_node(t, parent, name);

	if (node == PE_NO_NODE)
		return node;
	if (t->slots && node > 0)
	{
		if ((uint64_t) t->nnodes * 2 > t->nslots)
		{
			if (!child_index_reserve(t, t->nnodes))
				return PE_NO_NODE;
		}
		else
			child_index_put(t, node);
	}
	return node;
}

uint32_t
pe_tree_child_lookup(PeTree *t, uint32_t parent, uint32_t name)
{
	uint32_t	mask;
	uint32_t	i;
	uint32_t	found;

	if (t->last_child == NULL)
	{
		t->last_child = pe_alloc0(t->ctx, (size_t) (t->cap ? t->cap : 1) * sizeof(PeLastChild));
		if (t->last_child == NULL)
			return PE_NO_NODE;
	}
	if ((t->slots == NULL || (uint64_t) (t->nnodes + 1) * 2 > t->nslots) &&
		!child_index_reserve(t, t->nnodes + 1))
		return PE_NO_NODE;
	mask = t->nslots - 1;
	i = (uint32_t) pe_hash_pair(parent, name) & mask;
	while (t->slots[i].node != 0)
	{
		if (t->slots[i].parent == parent && t->slots[i].name == name)
		{
			found = t->slots[i].node - 1;
			goto out;
		}
		i = (i + 1) & mask;
	}
	/* Not found: a new node, in the empty slot the probe ended at (sized above). */
	found = tree_new_node(t, parent, name);
	if (found == PE_NO_NODE)
		return found;
	t->slots[i].parent = parent;
	t->slots[i].name = name;
	t->slots[i].node = found + 1;
out:
	t->last_child[parent].node = found;
	t->last_child[parent].name = name;
	return found;
}

bool
pe_tree_add_self(PeTree *t, uint32_t node, const int64_t *values)
{
	uint32_t	nv = t->meta.nvalues;
	int64_t    *self = t->self + (size_t) node * nv;

	t->canonical = false;
	for (uint32_t v = 0; v < nv; v++)
		if (!pe_add64(t->ctx, &self[v], values[v]))
			return false;
	return true;
}

char *
pe_meta_describe_types(PeCtx *ctx, const PeMeta *m)
{
	size_t		len = 64;
	char	   *buf;
	size_t		o = 0;

	for (uint32_t i = 0; i < m->nvalues; i++)
		len += strlen(m->types[i].type) + strlen(m->types[i].unit) + 4;
	len += strlen(m->period_type.type) + strlen(m->period_type.unit) + 32;
	buf = pe_alloc(ctx, len);
	if (buf == NULL)
		return NULL;
	buf[0] = '\0';
	for (uint32_t i = 0; i < m->nvalues; i++)
		o += snprintf(buf + o, len - o, "%s%s:%s", i ? ", " : "",
					  m->types[i].type, m->types[i].unit);
	if (m->nvalues == 0)
		o += snprintf(buf + o, len - o, "(none)");
	if (m->period_type.type[0] || m->period_type.unit[0])
		snprintf(buf + o, len - o, " (period type %s:%s)",
				 m->period_type.type, m->period_type.unit);
	return buf;
}

bool
pe_meta_compatible(PeCtx *ctx, const PeMeta *a, const PeMeta *b)
{
	bool		same = a->nvalues == b->nvalues &&
		strcmp(a->period_type.type, b->period_type.type) == 0 &&
		strcmp(a->period_type.unit, b->period_type.unit) == 0;
	char	   *da;
	char	   *db;

	for (uint32_t i = 0; same && i < a->nvalues; i++)
		same = strcmp(a->types[i].type, b->types[i].type) == 0 &&
			strcmp(a->types[i].unit, b->types[i].unit) == 0;
	if (same)
		return true;
	da = pe_meta_describe_types(ctx, a);
	db = pe_meta_describe_types(ctx, b);
	if (da && db)
		pe_fail(ctx, PE_ERR_INCOMPATIBLE, "cannot combine profiles with different sample types\n"
				"One profile has %s, the other has %s.", da, db);
	pe_free(ctx, da);
	pe_free(ctx, db);
	return false;
}

bool
pe_meta_merge(PeCtx *ctx, PeMeta *dst, const PeMeta *src)
{
	/*
	 * Durations are informative, and some converters write a timestamp
	 * there: saturate instead of failing a merge of valid samples.
	 */
	if (__builtin_add_overflow(dst->duration_nanos, src->duration_nanos,
							   &dst->duration_nanos))
		dst->duration_nanos = src->duration_nanos < 0 ? INT64_MIN : INT64_MAX;
	/* Earliest start time; 0 means unknown and loses to any known time. */
	if (src->time_nanos != 0 &&
		(dst->time_nanos == 0 || src->time_nanos < dst->time_nanos))
		dst->time_nanos = src->time_nanos;
	if (src->period > dst->period)
		dst->period = src->period;
	/* Deterministic whatever the merge order: the lowest index set wins. */
	if (src->default_type >= 0 &&
		(dst->default_type < 0 || src->default_type < dst->default_type))
		dst->default_type = src->default_type;
	return true;
}

/*
 * Add src's nodes into dst through name_map.
 * Inlined into merge_nodes() so that each value of negate gets its own loop.
 */
static inline __attribute__((always_inline)) bool
merge_nodes_with(PeTree *dst, const PeTree *src, const uint32_t *name_map, bool negate)
{
	PeCtx	   *ctx = dst->ctx;
	uint32_t	nv = src->meta.nvalues;
	uint32_t   *node_map = pe_alloc(ctx, sizeof(uint32_t) * src->nnodes);
	bool		ok = false;

	if (node_map == NULL)
		return false;
	dst->canonical = false;
	node_map[0] = 0;
	for (uint32_t n = 0; n < src->nnodes; n++)
	{
		const int64_t *sv = src->self + (size_t) n * nv;
		int64_t    *dv;

		if (n > 0)
		{
			uint32_t	d = pe_tree_child(dst, node_map[src->parent[n]], name_map[src->name[n]]);

			if (d == PE_NO_NODE)
				goto done;
			node_map[n] = d;
		}
		dv = dst->self + (size_t) node_map[n] * nv;
		for (uint32_t v = 0; v < nv; v++)
		{
			int64_t		x = sv[v];

			if (x == 0)
				continue;
			if (negate)
			{
				if (x == INT64_MIN)
				{
					pe_fail(ctx, PE_ERR_OVERFLOW, "profile value out of range");
					goto done;
				}
				x = -x;
			}
			if (!pe_add64(ctx, &dv[v], x))
				goto done;
		}
		if ((n & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	ok = true;
done:
	pe_free(ctx, node_map);
	return ok;
}

static bool
merge_nodes(PeTree *dst, const PeTree *src, const uint32_t *name_map, bool negate)
{
	return negate ? merge_nodes_with(dst, src, name_map, true) :
		merge_nodes_with(dst, src, name_map, false);
}

bool
pe_tree_merge(PeTree *dst, const PeTree *src, bool negate)
{
	PeCtx	   *ctx = dst->ctx;
	uint32_t   *name_map;
	bool		ok;

	if (!pe_meta_compatible(ctx, &dst->meta, &src->meta))
		return false;
	name_map = pe_alloc(ctx, sizeof(uint32_t) * src->names.n);
	if (name_map == NULL)
		return false;
	for (uint32_t s = 0; s < src->names.n; s++)
	{
		uint32_t	len;
		const char *str = pe_strtab_get(&src->names, s, &len);

		name_map[s] = pe_strtab_intern(&dst->names, str, len);
		if (name_map[s] == PE_NO_NODE)
		{
			pe_free(ctx, name_map);
			return false;
		}
	}
	ok = merge_nodes(dst, src, name_map, negate);
	pe_free(ctx, name_map);
	return ok;
}

/* A path's first slot in a table of nslots (a power of two): its hash's high bits. */
static inline uint32_t
path_slot(uint32_t hash_high, uint32_t nslots)
{
	return nslots > 1 ? hash_high >> (32 - __builtin_ctz(nslots)) : 0;
}

static inline void
path_index_put(PePathSlot *slots, uint32_t nslots, PePathSlot entry)
{
	uint32_t	mask = nslots - 1;
	uint32_t	i = path_slot(entry.hash, nslots);

	while (slots[i].node != 0)
		i = (i + 1) & mask;
	slots[i] = entry;
}

/*
 * (Re)build the path index so that it holds need nodes at load <= 3/4
 * (a smaller table than the child index's: fewer cache and TLB misses for
 * probes that mostly end in their first cache line): from the old slots
 * when growing, else from the nodes (parents first).
 */
static bool
path_index_reserve(PeTree *t, uint32_t need)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t	nslots = t->npath_slots ? t->npath_slots : 1024;
	PePathSlot *slots;

	if (t->path_slots && (uint64_t) need * 4 <= (uint64_t) t->npath_slots * 3)
		return true;
	while ((uint64_t) need * 4 > (uint64_t) nslots * 3)
	{
		if (nslots >= (UINT32_C(1) << 31))
			return pe_fail(ctx, PE_ERR_LIMIT, "call tree too large");
		nslots *= 2;
	}
	slots = pe_alloc0(ctx, (size_t) nslots * sizeof(PePathSlot));
	if (slots == NULL)
		return false;
	if (t->path_slots)
	{
		for (uint32_t i = 0; i < t->npath_slots; i++)
		{
			if (t->path_slots[i].node != 0)
				path_index_put(slots, nslots, t->path_slots[i]);
			if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
				pe_check_interrupts(ctx);
		}
	}
	else
	{
		uint64_t   *hash = pe_alloc(ctx, sizeof(uint64_t) * t->nnodes);

		if (hash == NULL)
		{
			pe_free(ctx, slots);
			return false;
		}
		hash[0] = PE_ROOT_PATH_HASH;
		for (uint32_t n = 1; n < t->nnodes; n++)
		{
			PePathSlot	entry = {t->parent[n], t->name[n], n, 0};

			hash[n] = pe_path_hash(hash[t->parent[n]], t->name[n]);
			entry.hash = (uint32_t) (hash[n] >> 32);
			path_index_put(slots, nslots, entry);
			if ((n & (PE_INTERRUPT_EVERY - 1)) == 0)
				pe_check_interrupts(ctx);
		}
		pe_free(ctx, hash);
	}
	pe_free(ctx, t->path_slots);
	t->path_slots = slots;
	t->npath_slots = nslots;
	return true;
}

/*
 * Slots this many nodes ahead are prefetched, and a node's values are
 * added this many nodes after its slot was found (and its values
 * prefetched).  A node's slot follows from its path hash alone, so probes
 * do not wait for each other as child lookups (parent's node, then its
 * child) do: the walk is bound by how many cache misses are in flight, not
 * by one miss after another.
 */
#define PATH_PREFETCH	16

/*
 * A node new to dst, reached from p by name nm: as pe_tree_append, placed
 * in the free slot j of the path index that the probe ended on (found
 * again if the index regrows).  PE_NO_NODE on error.
 */
static uint32_t
merge_paths_new_node(PeTree *dst, uint32_t p, uint32_t nm, uint64_t hash, uint32_t j)
{
	PePathSlot *slots = dst->path_slots;
	uint32_t	node;

	/* Room in the index first, so that no node is ever without its slot. */
	if (!path_index_reserve(dst, dst->nnodes + 1))
		return PE_NO_NODE;
	node = tree_push_node(dst, p, nm);
	if (node == PE_NO_NODE)
		return node;
	if (dst->path_slots != slots)
	{
		/* regrown: find the new node's place again */
		uint32_t	mask = dst->npath_slots - 1;

		slots = dst->path_slots;
		j = path_slot((uint32_t) (hash >> 32), dst->npath_slots);
		while (slots[j].node != 0)
			j = (j + 1) & mask;
	}
	slots[j] = (PePathSlot) {p, nm, node, (uint32_t) (hash >> 32)};
	return node;
}

/* dst's values of node += values (checked). */
static inline bool
merge_paths_add(PeTree *dst, uint32_t node, const int64_t *values, uint32_t nv)
{
	int64_t    *dv = dst->self + (size_t) node * nv;
	bool		overflow = false;

	/* Two values (CPU profiles: samples and time) without a loop's overhead. */
	if (nv == 2)
		overflow = __builtin_add_overflow(dv[0], values[0], &dv[0]) |
			__builtin_add_overflow(dv[1], values[1], &dv[1]);
	else
		for (uint32_t v = 0; v < nv; v++)
			overflow |= __builtin_add_overflow(dv[v], values[v], &dv[v]);
	if (overflow)
		return pe_fail(dst->ctx, PE_ERR_OVERFLOW, "profile value out of range\n"
					   "Adding the values overflows a 64-bit integer.");
	return true;
}

bool
pe_tree_merge_paths(PeTree *dst, uint32_t n, const uint32_t *parent,
					const uint32_t *name, const uint64_t *hash,
					const int64_t *self, uint32_t *map)
{
	PeCtx	   *ctx = dst->ctx;
	uint32_t	nv = dst->meta.nvalues;
	PePathSlot *slots;
	uint32_t	mask;
	int			shift;			/* a hash's first slot: hash >> shift */

	/* This walk appends nodes past the child index: it is rebuilt when next asked. */
	pe_free(ctx, dst->slots);
	dst->slots = NULL;
	dst->nslots = 0;
	pe_free(ctx, dst->last_child);
	dst->last_child = NULL;
	if (!path_index_reserve(dst, dst->nnodes + 1))
		return false;
	dst->canonical = false;
	slots = dst->path_slots;
	mask = dst->npath_slots - 1;
	shift = 64 - __builtin_ctz(dst->npath_slots);
	if (n > 0)
		map[0] = 0;
	for (uint32_t start = 0; start < n; start += PE_INTERRUPT_EVERY)
	{
		uint32_t	end = n - start > PE_INTERRUPT_EVERY ? start + PE_INTERRUPT_EVERY : n;

		pe_check_interrupts(ctx);
		for (uint32_t i = start; i < end; i++)
		{
			uint32_t	node = 0;

			if (i + PATH_PREFETCH < n)
				__builtin_prefetch(&slots[hash[i + PATH_PREFETCH] >> shift]);
			if (i > 0)
			{
				uint32_t	p = map[parent[i]];
				uint32_t	nm = name[i];
				uint32_t	j = (uint32_t) (hash[i] >> shift);

				while (slots[j].node != 0 &&
					   (slots[j].parent != p || slots[j].name != nm))
					j = (j + 1) & mask;
				node = slots[j].node;
				if (node == 0)
				{
					node = merge_paths_new_node(dst, p, nm, hash[i], j);
					if (node == PE_NO_NODE)
						return false;
					slots = dst->path_slots;
					mask = dst->npath_slots - 1;
					shift = 64 - __builtin_ctz(dst->npath_slots);
				}
				map[i] = node;
			}
			/* The values, once the prefetch of their place had time to land. */
			__builtin_prefetch(&dst->self[(size_t) node * nv], 1);
			if (i >= PATH_PREFETCH &&
				!merge_paths_add(dst, map[i - PATH_PREFETCH],
								 self + (size_t) (i - PATH_PREFETCH) * nv, nv))
				return false;
		}
	}
	for (uint32_t i = n > PATH_PREFETCH ? n - PATH_PREFETCH : 0; i < n; i++)
		if (!merge_paths_add(dst, map[i], self + (size_t) i * nv, nv))
			return false;
	return true;
}

bool
pe_meta_parse_types(PeCtx *ctx, const char *spec, PeMeta *m)
{
	uint32_t	n = 1;
	const char *p = spec;

	memset(m, 0, sizeof(*m));
	m->default_type = -1;
	for (const char *q = spec; *q; q++)
		n += (*q == ',');
	if (n > PE_MAX_VALUES)
		return pe_fail(ctx, PE_ERR_LIMIT, "too many sample types (%u)\n"
				"At most %d sample types are supported.", n, PE_MAX_VALUES);
	m->types = pe_alloc0(ctx, sizeof(PeSampleType) * n);
	m->period_type.type = pe_strndup(ctx, "", 0);
	m->period_type.unit = pe_strndup(ctx, "", 0);
	if (m->types == NULL || m->period_type.type == NULL || m->period_type.unit == NULL)
		goto fail;
	for (;;)
	{
		size_t		len = strcspn(p, ",");
		const char *colon = memchr(p, ':', len);
		size_t		tlen = colon ? (size_t) (colon - p) : len;
		PeSampleType *st = &m->types[m->nvalues];

		if (tlen == 0 || (colon && colon + 1 == p + len))
		{
			pe_fail(ctx, PE_ERR_ARG, "invalid sample type \"%s\"\n"
					"Sample types are written type:unit, separated by commas.", spec);
			goto fail;
		}
		st->type = pe_strndup(ctx, p, tlen);
		st->unit = colon ? pe_strndup(ctx, colon + 1, len - tlen - 1) : pe_strndup(ctx, "count", 5);
		if (st->type == NULL || st->unit == NULL)
		{
			pe_free(ctx, st->type);
			pe_free(ctx, st->unit);
			goto fail;
		}
		m->nvalues++;
		if (p[len] == '\0')
			return true;
		p += len + 1;
	}
fail:
	pe_meta_free(ctx, m);
	return false;
}

int
pe_meta_find_type(PeCtx *ctx, const PeMeta *m, const char *spec)
{
	const char *colon;
	size_t		tlen;
	char	   *list;

	if (spec == NULL)
	{
		if (m->default_type >= 0 && (uint32_t) m->default_type < m->nvalues)
			return m->default_type;
		if (m->nvalues > 0)
			return (int) m->nvalues - 1;
		pe_fail(ctx, PE_ERR_ARG, "profile has no sample types");
		return -1;
	}
	colon = strchr(spec, ':');
	tlen = colon ? (size_t) (colon - spec) : strlen(spec);
	for (uint32_t i = 0; i < m->nvalues; i++)
	{
		if (strlen(m->types[i].type) != tlen || memcmp(m->types[i].type, spec, tlen) != 0)
			continue;
		if (colon == NULL || strcmp(m->types[i].unit, colon + 1) == 0)
			return (int) i;
	}
	list = pe_meta_describe_types(ctx, m);
	if (list)
		pe_fail(ctx, PE_ERR_ARG, "unknown sample type \"%s\"\n"
				"The profile has sample types %s.", spec, list);
	pe_free(ctx, list);
	return -1;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a;
	uint64_t	y = *(const uint64_t *) b;

	return (x > y) - (x < y);
}

/* Sort n (key, value) pairs by key: insertion sort when small. */
static void
sort_pairs(uint64_t *pairs, uint32_t n)
{
	if (n > 24)
	{
		qsort(pairs, n, 2 * sizeof(uint64_t), cmp_u64);
		return;
	}
	for (uint32_t i = 1; i < n; i++)
	{
		uint64_t	k = pairs[2 * i];
		uint64_t	v = pairs[2 * i + 1];
		uint32_t	j = i;

		while (j > 0 && pairs[2 * (j - 1)] > k)
		{
			pairs[2 * j] = pairs[2 * (j - 1)];
			pairs[2 * j + 1] = pairs[2 * (j - 1) + 1];
			j--;
		}
		pairs[2 * j] = k;
		pairs[2 * j + 1] = v;
	}
}

/* The order of a canonical tree is its node order: only depths to compute. */
static bool
canonical_order(const PeTree *t, PeOrder *out)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t	n = t->nnodes;

	out->node = pe_alloc(ctx, sizeof(uint32_t) * n);
	out->depth = pe_alloc(ctx, sizeof(uint32_t) * n);
	if (!out->node || !out->depth)
	{
		pe_order_free(ctx, out);
		return false;
	}
	out->node[0] = 0;
	out->depth[0] = 0;
	for (uint32_t i = 1; i < n; i++)
	{
		out->node[i] = i;
		out->depth[i] = out->depth[t->parent[i]] + 1;
	}
	out->n = n;
	return true;
}

bool
pe_tree_preorder(const PeTree *t, bool skip_zero, PeOrder *out)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t	n = t->nnodes;
	uint32_t	nv = t->meta.nvalues;
	uint32_t	nstr = t->names.n;
	uint8_t    *keep = NULL;
	uint32_t   *rank = NULL;
	uint32_t   *ids = NULL;
	uint64_t   *keys = NULL;
	uint32_t   *first = NULL;	/* per node: its kept children, then its group's place in keys */
	uint32_t   *scratch = NULL;	/* size and pos below */
	uint32_t   *size;			/* kept nodes in each node's subtree */
	uint32_t   *pos;			/* each node's place in the order */
	uint32_t	nkeys = 0;
	bool		ok = false;

	memset(out, 0, sizeof(*out));
	if (t->canonical)
		return canonical_order(t, out);
	keep = pe_alloc(ctx, n);
	rank = pe_alloc(ctx, sizeof(uint32_t) * nstr);
	ids = pe_alloc(ctx, sizeof(uint32_t) * nstr);
	keys = pe_alloc(ctx, sizeof(uint64_t) * 2 * (n ? n : 1));
	first = pe_alloc(ctx, sizeof(uint32_t) * (n + 1));
	scratch = pe_alloc(ctx, sizeof(uint32_t) * 2 * (n + 1));
	out->node = pe_alloc(ctx, sizeof(uint32_t) * n);
	out->depth = pe_alloc(ctx, sizeof(uint32_t) * n);
	if (!keep || !rank || !ids || !keys || !first || !scratch || !out->node || !out->depth)
		goto done;

	/* Which nodes to emit: all, or those with a non-zero value below. */
	for (uint32_t i = 0; i < n; i++)
	{
		keep[i] = !skip_zero;
		for (uint32_t v = 0; !keep[i] && v < nv; v++)
			keep[i] = t->self[(size_t) i * nv + v] != 0;
	}
	for (uint32_t i = n - 1; i > 0; i--)
		if (keep[i])
			keep[t->parent[i]] = 1;
	keep[0] = 1;

	/* Rank names by bytes once, so siblings sort on integers. */
	for (uint32_t s = 0; s < nstr; s++)
		ids[s] = s;
	if (!pe_strtab_sort_ids(&t->names, ids, nstr))
		goto done;
	for (uint32_t s = 0; s < nstr; s++)
		rank[ids[s]] = s;

	/*
	 * Bucket (parent << 32 | rank, node) pairs by parent in linear time,
	 * then sort each sibling group by rank.  Most parents have one child,
	 * so little is left to sort.  first[] counts, then holds group starts.
	 */
	memset(first, 0, sizeof(uint32_t) * (n + 1));
	for (uint32_t i = 1; i < n; i++)
		if (keep[i])
			first[t->parent[i]]++;
	for (uint32_t p = 0, pos = 0; p <= n; p++)
	{
		uint32_t	count = first[p];

		first[p] = pos;
		pos += count;
	}
	for (uint32_t i = 1; i < n; i++)
	{
		uint32_t	k;

		if (!keep[i])
			continue;
		k = first[t->parent[i]]++;
		keys[2 * k] = ((uint64_t) t->parent[i] << 32) | rank[t->name[i]];
		keys[2 * k + 1] = i;
		nkeys++;
	}
	/* first[p] now points past p's group, so first[p - 1] is where it starts: sort groups. */
	for (uint32_t p = n + 1, end = nkeys; p-- > 0;)
	{
		uint32_t	start = p > 0 ? first[p - 1] : 0;

		if (end - start > 1)
			sort_pairs(keys + 2 * (size_t) start, end - start);
		end = start;
	}

	/*
	 * Place nodes without walking: a node's subtree holds size[] kept
	 * nodes, so its first child comes right after it and each next sibling
	 * after the subtree of the one before.  keys holds the sibling groups
	 * by parent index, and a parent's index is below its children's, so
	 * one pass in keys order meets every parent placed before its
	 * children.  (A depth-first walk chains each step on the last one's
	 * loads; these passes do not.)
	 */
	size = scratch;
	pos = scratch + n + 1;
	for (uint32_t i = 0; i < n; i++)
		size[i] = keep[i];
	for (uint32_t i = n - 1; i > 0; i--)
		if (keep[i])
			size[t->parent[i]] += size[i];
	out->node[0] = 0;
	out->depth[0] = 0;
	pos[0] = 0;
	for (uint32_t k = 0, parent = UINT32_MAX, at = 0, depth = 0; k < nkeys; k++)
	{
		uint32_t	node = (uint32_t) keys[2 * k + 1];

		if ((uint32_t) (keys[2 * k] >> 32) != parent)
		{
			parent = (uint32_t) (keys[2 * k] >> 32);
			at = pos[parent] + 1;
			depth = out->depth[pos[parent]] + 1;
		}
		pos[node] = at;
		out->node[at] = node;
		out->depth[at] = depth;
		at += size[node];
		if ((k & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	out->n = nkeys + 1;
	ok = true;
done:
	if (ok)
		out->names_sorted = ids;
	else
		pe_free(ctx, ids);
	pe_free(ctx, keep);
	pe_free(ctx, rank);
	pe_free(ctx, keys);
	pe_free(ctx, first);
	pe_free(ctx, scratch);
	if (!ok)
		pe_order_free(ctx, out);
	return ok;
}

void
pe_order_free(PeCtx *ctx, PeOrder *o)
{
	pe_free(ctx, o->node);
	pe_free(ctx, o->depth);
	pe_free(ctx, o->names_sorted);
	memset(o, 0, sizeof(*o));
}

bool
pe_tree_totals(const PeTree *t, uint32_t v, int64_t *totals)
{
	uint32_t	nv = t->meta.nvalues;

	for (uint32_t i = 0; i < t->nnodes; i++)
		totals[i] = t->self[(size_t) i * nv + v];
	for (uint32_t i = t->nnodes; i-- > 1;)
		if (!pe_add64(t->ctx, &totals[t->parent[i]], totals[i]))
			return false;
	return true;
}

bool
pe_tree_sum(const PeTree *t, uint32_t v, int64_t *sum)
{
	uint32_t	nv = t->meta.nvalues;

	*sum = 0;
	for (uint32_t i = 0; i < t->nnodes; i++)
		if (!pe_add64(t->ctx, sum, t->self[(size_t) i * nv + v]))
			return false;
	return true;
}
