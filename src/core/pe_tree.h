/*
 * pe_tree.h
 *		The call tree: interned frame names, nodes with self values.
 *
 * A tree has nvalues values per node (one per sample type).  Node 0 is the
 * root; every other node has a parent with a smaller index, so walking
 * nodes in index order always meets a parent before its children.  That is
 * what lets merge, totals and codecs work without recursion.
 *
 * Frame names are byte strings interned in a PeStrtab; id 0 is the empty
 * string and names the root.  Names that enter through decoders are valid
 * UTF-8 without NUL bytes (pe_strtab_intern_utf8 repairs them), so every
 * name can be returned as text.
 */
#ifndef PE_TREE_H
#define PE_TREE_H

#include "pe_core.h"
#include "pe_hash.h"
#include "pe_utf8.h"

#define PE_NO_NODE		UINT32_MAX
#define PE_MAX_VALUES	64		/* sample types in one profile */

typedef struct PeStrtab
{
	PeCtx	   *ctx;
	uint32_t	n;				/* number of strings */
	uint32_t	cap;
	uint32_t   *off;			/* start of string i in buf */
	uint32_t   *len;			/* length of string i */
	char	   *buf;			/* all strings, each followed by a NUL */
	size_t		buflen;
	size_t		bufcap;
	uint32_t   *slots;			/* open addressing: string id + 1, 0 = empty */
	uint32_t	nslots;			/* power of two */
} PeStrtab;

extern bool pe_strtab_init(PeCtx *ctx, PeStrtab *st);
extern void pe_strtab_free(PeStrtab *st);
/* Room for n strings without regrowing the index; false only when memory runs out. */
extern bool pe_strtab_reserve(PeStrtab *st, uint32_t n);
/* Intern bytes as they are; returns PE_NO_NODE on failure. */
extern uint32_t pe_strtab_intern(PeStrtab *st, const char *s, size_t len);
/*
 * The id of s if it is interned already, else PE_NO_NODE (no error); either
 * way *hash is its hash, which pe_strtab_intern_hashed takes, so that a
 * name looked up, then interned, is hashed once.
 */
extern uint32_t pe_strtab_lookup_hashed(const PeStrtab *st, const char *s, size_t len,
										uint64_t *hash);
extern uint32_t pe_strtab_intern_hashed(PeStrtab *st, const char *s, size_t len,
										uint64_t hash);
/* Intern after repairing invalid UTF-8 and NUL bytes with U+FFFD. */
extern uint32_t pe_strtab_intern_utf8(PeStrtab *st, const char *s, size_t len);

static inline const char *
pe_strtab_get(const PeStrtab *st, uint32_t id, uint32_t *len)
{
	if (len)
		*len = st->len[id];
	return st->buf + st->off[id];
}

/* Compare strings a and b by bytes, a shorter one first on a common prefix. */
extern int	pe_strtab_compare(const PeStrtab *st, uint32_t a, uint32_t b);
/* The same as a PeCompare (pe_sort) over uint32_t ids; arg is the PeStrtab. */
extern int	pe_strtab_compare_ids(const void *a, const void *b, void *arg);
/*
 * Sort n distinct ids of st in pe_strtab_compare order, faster than pe_sort
 * with pe_strtab_compare_ids; false only when memory runs out.
 */
extern bool pe_strtab_sort_ids(const PeStrtab *st, uint32_t *ids, uint32_t n);

typedef struct PeSampleType
{
	char	   *type;
	char	   *unit;
} PeSampleType;

typedef struct PeMeta
{
	uint32_t	nvalues;
	PeSampleType *types;		/* nvalues entries */
	PeSampleType period_type;	/* "" when absent */
	int64_t		period;
	int64_t		time_nanos;		/* 0 when absent */
	int64_t		duration_nanos;
	int32_t		default_type;	/* index into types, -1 when unset */
} PeMeta;

/* A child-index slot: the key inline, so a probe touches one cache line. */
typedef struct PeChildSlot
{
	uint32_t	parent;
	uint32_t	name;
	uint32_t	node;			/* node + 1; 0 = empty */
} PeChildSlot;

/* The child of a node found last, with its name: one load checks it. */
typedef struct PeLastChild
{
	uint32_t	node;			/* 0: none */
	uint32_t	name;
} PeLastChild;

/*
 * A slot of the merge's path index: the node reached from parent by name,
 * placed by the hash of its whole path from the root.
 */
typedef struct PePathSlot
{
	uint32_t	parent;
	uint32_t	name;
	uint32_t	node;			/* 0: empty (the root is nobody's child) */
	uint32_t	hash;			/* high bits of the path hash, to regrow */
} PePathSlot;

typedef struct PeTree
{
	PeCtx	   *ctx;
	PeMeta		meta;
	PeStrtab	names;
	uint32_t	nnodes;
	uint32_t	cap;
	uint32_t   *parent;			/* parent[0] == PE_NO_NODE */
	uint32_t   *name;			/* id in names */
	int64_t    *self;			/* nnodes * meta.nvalues */
	PeChildSlot *slots;			/* child index on (parent, name), lazily built */
	uint32_t	nslots;
	/*
	 * The child of each node found last, next to the index: most stacks
	 * are chains, and a node-sized array stays in cache where the index
	 * does not.
	 */
	PeLastChild *last_child;
	/*
	 * Node index order is the canonical pre-order without all-zero
	 * subtrees (set by pe_decode, cleared by every change), so readers can
	 * skip sorting.
	 */
	bool		canonical;
	/*
	 * The merge's path index (pe_tree_merge_paths): keyed by (parent,
	 * name) like the child index, but placed by path hashes, which a
	 * stored value's walk computes without reading the tree, so probes for
	 * consecutive nodes do not wait for each other.  Dropped by
	 * pe_tree_append, rebuilt when next needed.
	 */
	PePathSlot *path_slots;
	uint32_t	npath_slots;
} PeTree;

/* Pre-order of a tree: siblings sorted by name bytes (the canonical order). */
typedef struct PeOrder
{
	uint32_t	n;
	uint32_t   *node;			/* nodes in pre-order; node[0] == 0 */
	uint32_t   *depth;			/* depth of node[i]; root is 0 */
	/*
	 * Every name id of the tree sorted by bytes, when the order had to be
	 * sorted (NULL for a canonical tree): the encoder reuses it.
	 */
	uint32_t   *names_sorted;
} PeOrder;

/* Lifecycle.  Meta strings are copied. */
extern bool pe_tree_init(PeCtx *ctx, PeTree *t, const PeMeta *meta);
extern void pe_tree_free(PeTree *t);
extern bool pe_meta_copy(PeCtx *ctx, PeMeta *dst, const PeMeta *src);
extern void pe_meta_free(PeCtx *ctx, PeMeta *m);

/* pe_tree_child() when the parent's last child found is not the one. */
extern uint32_t pe_tree_child_lookup(PeTree *t, uint32_t parent, uint32_t name);

/* Find or create the child of parent named name; PE_NO_NODE on error. */
static inline uint32_t
pe_tree_child(PeTree *t, uint32_t parent, uint32_t name)
{
	if (t->last_child)
	{
		PeLastChild lc = t->last_child[parent];

		if (lc.node != 0 && lc.name == name)
			return lc.node;
	}
	return pe_tree_child_lookup(t, parent, name);
}
/*
 * A decoder's hint that about n nodes will be added with pe_tree_child():
 * sizes the node arrays and the child index once instead of rebuilding
 * the index each time it doubles.  Capped (a hint costs at most a few MB);
 * fails only when memory does.
 */
extern bool pe_tree_presize(PeTree *t, uint64_t n);
/* Room for need nodes (decoders filling the arrays); checks max_nodes. */
extern bool pe_tree_reserve(PeTree *t, uint32_t need);
/* Append a node without looking for an existing one (decoders only). */
extern uint32_t pe_tree_append(PeTree *t, uint32_t parent, uint32_t name);
/* self[node] += values (checked). */
extern bool pe_tree_add_self(PeTree *t, uint32_t node, const int64_t *values);

/*
 * Headers: pe_meta_compatible() is pprof's rule (same sample types in the
 * same order, same period type) and fails naming both sides' types.
 * pe_meta_merge() folds src's header into dst's as pprof merges do.
 */
extern bool pe_meta_compatible(PeCtx *ctx, const PeMeta *a, const PeMeta *b);
extern bool pe_meta_merge(PeCtx *ctx, PeMeta *dst, const PeMeta *src);
extern char *pe_meta_describe_types(PeCtx *ctx, const PeMeta *m);

/* dst += src (or dst -= src with negate); checks compatibility first. */
extern bool pe_tree_merge(PeTree *dst, const PeTree *src, bool negate);

/*
 * The path hash of the root, and of a child from its parent's: one
 * multiply, since walks compute it node after node.  Multiplying by an
 * odd constant is a bijection, so siblings and the same name under two
 * different paths never share a hash; the high bits, which mix every bit
 * below them, place the node in the path index.
 */
#define PE_ROOT_PATH_HASH	UINT64_C(0x6a09e667f3bcc908)
static inline uint64_t
pe_path_hash(uint64_t parent_hash, uint32_t name)
{
	return (parent_hash ^ name) * UINT64_C(0x9e3779b97f4a7c15);
}

/*
 * dst += a tree given as n nodes (node 0 the root, parent[i] < i) whose
 * names are ids in dst's name table, hash[i] its path hash
 * (pe_path_hash) and self n * nvalues values: the merge aggregate's step
 * for a decoded value.  map (n entries) receives each node's node in dst.
 * The caller checked that the headers are compatible.  On failure (an
 * overflow, max_nodes, out of memory) dst holds part of the sum: still a
 * consistent tree, safe to free, but no meaningful merge.
 */
extern bool pe_tree_merge_paths(PeTree *dst, uint32_t n, const uint32_t *parent,
								const uint32_t *name, const uint64_t *hash,
								const int64_t *self, uint32_t *map);

/*
 * Sample type lookup: spec is "type" or "type:unit"; NULL means pprof's
 * default (default_sample_type, else the last).  Returns the index, or -1
 * with an error that lists the profile's types.
 */
extern int	pe_meta_find_type(PeCtx *ctx, const PeMeta *m, const char *spec);

/*
 * A header from a list of sample types, "type:unit[,type:unit...]" (a type
 * without a unit counts "count", the unit folded stacks usually carry); no
 * period type, no default type.  PE_ERR_ARG on a malformed list,
 * PE_ERR_LIMIT beyond PE_MAX_VALUES types.  Free with pe_meta_free.
 */
extern bool pe_meta_parse_types(PeCtx *ctx, const char *spec, PeMeta *m);

/* Canonical pre-order; optionally only nodes whose subtree is not all zero. */
extern bool pe_tree_preorder(const PeTree *t, bool skip_zero, PeOrder *out);
extern void pe_order_free(PeCtx *ctx, PeOrder *o);

/* Inclusive totals of value column v for every node (indexed by node). */
extern bool pe_tree_totals(const PeTree *t, uint32_t v, int64_t *totals);
/* Sum of self values of column v (the profile total). */
extern bool pe_tree_sum(const PeTree *t, uint32_t v, int64_t *sum);

#endif							/* PE_TREE_H */
