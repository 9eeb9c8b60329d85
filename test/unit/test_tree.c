/*
 * test_tree.c
 *		Unit tests of the call tree: interning, child lookup, merge, order.
 */
#include <stdlib.h>

#include "pe_tree.h"
#include "unit.h"

static PeCtx ctx;

/* Add one stack given root-first as a NULL-terminated list of names. */
static void
add_stack(PeTree *t, const char **frames, const int64_t *values)
{
	uint32_t	node = 0;

	for (int i = 0; frames[i]; i++)
		node = pe_tree_child(t, node, pe_strtab_intern(&t->names, frames[i], strlen(frames[i])));
	CHECK(node != PE_NO_NODE);
	CHECK_OK(&ctx, pe_tree_add_self(t, node, values));
}

static void
test_intern(void)
{
	PeStrtab	st;
	char		name[32];

	CHECK_OK(&ctx, pe_strtab_init(&ctx, &st));
	for (int i = 0; i < 10000; i++)
	{
		snprintf(name, sizeof(name), "fn%d", i);
		CHECK(pe_strtab_intern(&st, name, strlen(name)) == (uint32_t) i + 1);
	}
	CHECK(pe_strtab_intern(&st, "fn42", 4) == 43);
	CHECK(pe_strtab_intern(&st, "", 0) == 0);
	/* looked up, then interned with the lookup's hash: found by both calls after */
	{
		uint64_t	hash;
		uint64_t	again;

		CHECK(pe_strtab_lookup_hashed(&st, "fn7", 3, &hash) == 8);
		CHECK(pe_strtab_lookup_hashed(&st, "new", 3, &hash) == PE_NO_NODE);
		CHECK(pe_strtab_intern_hashed(&st, "new", 3, hash) == 10001);
		CHECK(pe_strtab_lookup_hashed(&st, "new", 3, &again) == 10001 && again == hash);
		CHECK(pe_strtab_intern(&st, "new", 3) == 10001);
	}
	/* invalid UTF-8 and NUL become U+FFFD */
	{
		uint32_t	id = pe_strtab_intern_utf8(&st, "a\xff\0b", 4);
		uint32_t	len;
		const char *s = pe_strtab_get(&st, id, &len);

		CHECK(len == 8 && memcmp(s, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b", 8) == 0);
		CHECK(pe_utf8_valid(s, len));
	}
	CHECK(!pe_utf8_valid("\xC0\x80", 2));	/* overlong NUL */
	CHECK(!pe_utf8_valid("\xED\xA0\x80", 3));	/* surrogate */
	CHECK(pe_utf8_valid("\xF0\x9F\x94\xA5", 4));
	pe_strtab_free(&st);
}

static void
test_merge_and_order(void)
{
	PeSampleType types[2] = {{"samples", "count"}, {"cpu", "nanoseconds"}};
	PeMeta		m;
	PeTree		a,
				b;
	PeOrder		o;
	int64_t		totals[16];
	const char *s1[] = {"main", "b", "leaf", NULL};
	const char *s2[] = {"main", "a", NULL};
	const char *s3[] = {"main", "b", NULL};
	int64_t		v1[2] = {1, 10},
				v2[2] = {2, 20},
				v3[2] = {3, 30};

	unit_meta(&m, types, 2);
	CHECK_OK(&ctx, pe_tree_init(&ctx, &a, &m));
	CHECK_OK(&ctx, pe_tree_init(&ctx, &b, &m));
	add_stack(&a, s1, v1);
	add_stack(&b, s2, v2);
	add_stack(&b, s3, v3);
	add_stack(&b, s1, v1);
	CHECK_OK(&ctx, pe_tree_merge(&a, &b, false));
	/* root, main, a, b, leaf */
	CHECK(a.nnodes == 5);
	CHECK_OK(&ctx, pe_tree_preorder(&a, true, &o));
	CHECK(o.n == 5);
	{
		const char *want[] = {"", "main", "a", "b", "leaf"};
		uint32_t	wantdepth[] = {0, 1, 2, 2, 3};

		for (int i = 0; i < 5; i++)
		{
			CHECK(strcmp(pe_strtab_get(&a.names, a.name[o.node[i]], NULL), want[i]) == 0);
			CHECK(o.depth[i] == wantdepth[i]);
		}
	}
	CHECK_OK(&ctx, pe_tree_totals(&a, 1, totals));
	CHECK(totals[0] == 70);
	pe_order_free(&ctx, &o);

	/* a - b leaves only the first stack of a; zero subtrees are skipped */
	CHECK_OK(&ctx, pe_tree_merge(&a, &b, true));
	CHECK_OK(&ctx, pe_tree_preorder(&a, true, &o));
	CHECK(o.n == 4);
	pe_order_free(&ctx, &o);
	pe_tree_free(&a);
	pe_tree_free(&b);
}

static void
test_incompatible_and_overflow(void)
{
	PeSampleType t1[1] = {{"cpu", "nanoseconds"}};
	PeSampleType t2[1] = {{"alloc_space", "bytes"}};
	PeMeta		m1,
				m2;
	PeTree		a,
				b;
	const char *s[] = {"x", NULL};
	int64_t		big[1] = {INT64_MAX};

	unit_meta(&m1, t1, 1);
	unit_meta(&m2, t2, 1);
	CHECK_OK(&ctx, pe_tree_init(&ctx, &a, &m1));
	CHECK_OK(&ctx, pe_tree_init(&ctx, &b, &m2));
	CHECK(!pe_tree_merge(&a, &b, false));
	CHECK(ctx.err.code == PE_ERR_INCOMPATIBLE);
	CHECK(strstr(ctx.err.detail, "cpu:nanoseconds") && strstr(ctx.err.detail, "alloc_space:bytes"));
	ctx.err.code = PE_OK;
	add_stack(&a, s, big);
	{
		uint32_t	node = pe_tree_child(&a, 0, pe_strtab_intern(&a.names, "x", 1));

		CHECK(!pe_tree_add_self(&a, node, big));
		CHECK(ctx.err.code == PE_ERR_OVERFLOW);
		ctx.err.code = PE_OK;
	}
	CHECK(pe_meta_find_type(&ctx, &a.meta, "cpu") == 0);
	CHECK(pe_meta_find_type(&ctx, &a.meta, "cpu:nanoseconds") == 0);
	CHECK(pe_meta_find_type(&ctx, &a.meta, NULL) == 0);
	CHECK(pe_meta_find_type(&ctx, &a.meta, "cpu:bytes") == -1);
	CHECK(ctx.err.code == PE_ERR_ARG && strstr(ctx.err.detail, "cpu:nanoseconds"));
	ctx.err.code = PE_OK;
	pe_tree_free(&a);
	pe_tree_free(&b);
}

static void
test_deep_chain(void)
{
	PeSampleType types[1] = {{"samples", "count"}};
	PeMeta		m;
	PeTree		t;
	PeOrder		o;
	uint32_t	node = 0;
	int64_t		one = 1;
	char		name[32];

	unit_meta(&m, types, 1);
	CHECK_OK(&ctx, pe_tree_init(&ctx, &t, &m));
	for (int i = 0; i < 100000; i++)
	{
		snprintf(name, sizeof(name), "f%d", i % 7);
		node = pe_tree_child(&t, node, pe_strtab_intern(&t.names, name, strlen(name)));
	}
	CHECK_OK(&ctx, pe_tree_add_self(&t, node, &one));
	CHECK_OK(&ctx, pe_tree_preorder(&t, true, &o));
	CHECK(o.n == 100001 && o.depth[100000] == 100000);
	pe_order_free(&ctx, &o);
	/* node limit */
	ctx.limits.max_nodes = 1000;
	CHECK(pe_tree_child(&t, node, 0) == PE_NO_NODE);
	CHECK(pe_err_is_limit(ctx.err.code));
	ctx.err.code = PE_OK;
	ctx.limits.max_nodes = PE_DEFAULT_MAX_NODES;
	pe_tree_free(&t);
}

/*
 * pe_tree_presize: a tree built after a hint (small, large, beyond the
 * node limit) is the same tree, and the pre-order's sorted name list is
 * every name in byte order.
 */
static void
test_presize(void)
{
	PeSampleType types[1] = {{"samples", "count"}};
	const uint64_t hints[] = {0, 1, 3000, (uint64_t) 1 << 40};
	PeMeta		m;
	PeTree		plain;
	PeOrder		o;
	int64_t		one = 1;
	char		stack[64];

	unit_meta(&m, types, 1);
	CHECK_OK(&ctx, pe_tree_init(&ctx, &plain, &m));
	for (int i = 0; i < 3000; i++)
	{
		snprintf(stack, sizeof(stack), "main;f%d;g%d;h%d", i % 13, i % 101, i);
		unit_add_stack(&plain, stack, &one);
	}
	for (size_t h = 0; h < sizeof(hints) / sizeof(hints[0]); h++)
	{
		PeTree		t;

		ctx.limits.max_nodes = 20000;
		CHECK_OK(&ctx, pe_tree_init(&ctx, &t, &m));
		CHECK_OK(&ctx, pe_tree_presize(&t, hints[h]));
		for (int i = 0; i < 3000; i++)
		{
			snprintf(stack, sizeof(stack), "main;f%d;g%d;h%d", i % 13, i % 101, i);
			unit_add_stack(&t, stack, &one);
		}
		CHECK(t.nnodes == plain.nnodes && unit_same_nodes(&t, &plain));
		pe_tree_free(&t);
		ctx.limits.max_nodes = PE_DEFAULT_MAX_NODES;
	}
	CHECK_OK(&ctx, pe_tree_preorder(&plain, true, &o));
	CHECK(o.names_sorted != NULL);
	for (uint32_t r = 1; o.names_sorted && r < plain.names.n; r++)
		CHECK(pe_strtab_compare(&plain.names, o.names_sorted[r - 1], o.names_sorted[r]) < 0);
	pe_order_free(&ctx, &o);
	pe_tree_free(&plain);
}

/*
 * pe_strtab_sort_ids against pe_sort with pe_strtab_compare_ids, on names
 * that tie on their first 8 bytes, end inside them, are prefixes of each
 * other, hold NUL or non-ASCII bytes; and pe_strtab_reserve.
 */
static void
test_sort_names(void)
{
	static const char *const base[] = {"", "a", "ab", "b", "abcdefgh", "abcdefg",
		"abcdefghi", "abcdefgh\x01", "\xc3\xa9t\xc3\xa9", "github.com/a/b.F",
		"github.com/a/b.G", "github.com/a/bc.F", "github.com/a/b", "runtime.mallocgc"};
	static const char nul[][4] = {"a\0", "a\0\0", "\0", "\0\0"};
	PeStrtab	st;
	uint32_t   *ids;
	uint32_t   *want;
	uint32_t	n;
	uint64_t	seed = 7;
	char		name[64];

	CHECK_OK(&ctx, pe_strtab_init(&ctx, &st));
	CHECK_OK(&ctx, pe_strtab_reserve(&st, 3000));
	CHECK(st.nslots >= 6000 && st.cap >= 3000);
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		CHECK(pe_strtab_intern(&st, base[i], strlen(base[i])) != PE_NO_NODE);
	for (size_t i = 0; i < sizeof(nul) / sizeof(nul[0]); i++)
		CHECK(pe_strtab_intern(&st, nul[i], i < 2 ? i + 2 : i - 1) != PE_NO_NODE);
	for (int i = 0; i < 2000; i++)
	{
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		snprintf(name, sizeof(name), "%s%llu", base[(seed >> 33) % 14],
				 (unsigned long long) ((seed >> 40) % 5000));
		CHECK(pe_strtab_intern(&st, name, strlen(name)) != PE_NO_NODE);
	}
	CHECK_OK(&ctx, pe_strtab_reserve(&st, 10));	/* smaller: nothing to do */
	n = st.n;
	ids = malloc(sizeof(uint32_t) * n);
	want = malloc(sizeof(uint32_t) * n);
	for (uint32_t i = 0; i < n; i++)
		ids[i] = want[i] = n - 1 - i;
	CHECK_OK(&ctx, pe_strtab_sort_ids(&st, ids, n));
	CHECK_OK(&ctx, pe_sort(&ctx, want, n, sizeof(uint32_t), pe_strtab_compare_ids, &st));
	CHECK(memcmp(ids, want, sizeof(uint32_t) * n) == 0);
	for (uint32_t r = 1; r < n; r++)
		CHECK(pe_strtab_compare(&st, ids[r - 1], ids[r]) < 0);
	free(ids);
	free(want);
	pe_strtab_free(&st);
}

/*
 * The canonical order of random trees, checked against its definition:
 * pre-order (each node right after its parent's subtree so far), siblings
 * by name bytes, exactly the nodes with a non-zero value below them.
 */
static void
test_order_random(void)
{
	PeSampleType types[2] = {{"samples", "count"}, {"cpu", "nanoseconds"}};
	static const char *const names[] = {"main", "run", "run2", "github.com/x/y.F",
		"github.com/x/y.G", "a", "\xc3\xa9", "zz", "github.com/x/y"};
	PeMeta		m;
	uint64_t	seed = 11;

	unit_meta(&m, types, 2);
	for (int round = 0; round < 20; round++)
	{
		PeTree		t;
		PeOrder		o;
		uint32_t   *path;
		int64_t    *sub;
		uint32_t	kept = 0;

		CHECK_OK(&ctx, pe_tree_init(&ctx, &t, &m));
		for (int s = 0; s < 300; s++)
		{
			uint32_t	node = 0;
			int64_t		v[2];

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			for (int d = 0, depth = 1 + (seed >> 40) % 12; d < depth; d++)
			{
				const char *nm = names[(seed >> (3 * d % 60)) % 9];

				node = pe_tree_child(&t, node, pe_strtab_intern(&t.names, nm, strlen(nm)));
			}
			v[0] = (seed >> 20) % 4 == 0 ? 0 : 1;
			v[1] = (seed >> 22) % 3 == 0 ? 0 : -5;
			CHECK(node != PE_NO_NODE);
			CHECK_OK(&ctx, pe_tree_add_self(&t, node, v));
		}
		/* which nodes have a non-zero value in their subtree */
		sub = calloc(t.nnodes, sizeof(int64_t));
		for (uint32_t i = t.nnodes; i-- > 0;)
		{
			sub[i] |= t.self[2 * i] != 0 || t.self[2 * i + 1] != 0;
			if (i > 0)
				sub[t.parent[i]] |= sub[i];
		}
		for (uint32_t i = 1; i < t.nnodes; i++)
			kept += sub[i] != 0;
		CHECK_OK(&ctx, pe_tree_preorder(&t, round % 2 == 0, &o));
		CHECK(o.n == (round % 2 == 0 ? kept + 1 : t.nnodes));
		CHECK(o.node[0] == 0 && o.depth[0] == 0);
		path = calloc(o.n + 1, sizeof(uint32_t));
		for (uint32_t i = 1; i < o.n; i++)
		{
			uint32_t	node = o.node[i];
			uint32_t	d = o.depth[i];

			CHECK(d >= 1 && d <= o.depth[i - 1] + 1);
			CHECK(t.parent[node] == path[d - 1]);
			CHECK(round % 2 == 1 || sub[node] != 0);
			/* the previous sibling, if any, sorts first */
			if (d <= o.depth[i - 1])
				CHECK(pe_strtab_compare(&t.names, t.name[path[d]], t.name[node]) < 0);
			path[d] = node;
		}
		free(path);
		free(sub);
		pe_order_free(&ctx, &o);
		pe_tree_free(&t);
	}
}

/* "type:unit[,type:unit...]" lists, as profile_from_folded takes them. */
static void
test_parse_types(void)
{
	PeMeta		m;
	char		many[PE_MAX_VALUES * 4 + 8] = "a";

	pe_ctx_init_malloc(&ctx);
	CHECK_OK(&ctx, pe_meta_parse_types(&ctx, "cpu:nanoseconds,alloc,x:a:b", &m));
	CHECK(m.nvalues == 3 && m.default_type == -1);
	CHECK(strcmp(m.types[0].type, "cpu") == 0 && strcmp(m.types[0].unit, "nanoseconds") == 0);
	CHECK(strcmp(m.types[1].type, "alloc") == 0 && strcmp(m.types[1].unit, "count") == 0);
	CHECK(strcmp(m.types[2].type, "x") == 0 && strcmp(m.types[2].unit, "a:b") == 0);
	CHECK(m.period_type.type[0] == '\0' && m.period_type.unit[0] == '\0');
	pe_meta_free(&ctx, &m);

	{
		const char *bad[] = {"", ",", "cpu,", ",cpu", "cpu,,alloc", ":ns", "cpu:", "a:b,:c"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			pe_ctx_init_malloc(&ctx);
			CHECK(!pe_meta_parse_types(&ctx, bad[i], &m));
			CHECK(ctx.err.code == PE_ERR_ARG && strstr(ctx.err.msg, "invalid sample type") != NULL);
			CHECK(m.types == NULL && m.nvalues == 0);
		}
	}
	for (int i = 0; i < PE_MAX_VALUES; i++)
		strcat(many, ",a");
	pe_ctx_init_malloc(&ctx);
	CHECK(!pe_meta_parse_types(&ctx, many, &m));
	CHECK(ctx.err.code == PE_ERR_LIMIT);
}

int
main(void)
{
	pe_ctx_init_malloc(&ctx);
	RUN(test_intern);
	RUN(test_merge_and_order);
	RUN(test_incompatible_and_overflow);
	RUN(test_deep_chain);
	RUN(test_presize);
	RUN(test_sort_names);
	RUN(test_order_random);
	RUN(test_parse_types);
	return unit_finish("tree");
}
