/*
 * test_ops.c
 *		Unit tests of the query operations: flame rows (with "other"
 *		folding), two-column unions, pprof -top, focus/ignore, copy.
 */
#include <stdlib.h>

#include "pe_ops.h"
#include "unit.h"

static PeCtx ctx;

static void
new_tree(PeTree *t, int nvalues)
{
	PeSampleType types[2] = {{"samples", "count"}, {"cpu", "nanoseconds"}};
	PeMeta		m;

	unit_meta(&m, types, nvalues);
	CHECK_OK(&ctx, pe_tree_init(&ctx, t, &m));
}

static uint32_t
intern(PeTree *t, const char *s)
{
	return pe_strtab_intern(&t->names, s, strlen(s));
}

/* Add values at the stack "a;b;c" (root first); "" is the root itself. */
static uint32_t
add(PeTree *t, const char *stack, int64_t v0, int64_t v1)
{
	int64_t		values[2] = {v0, v1};

	return unit_add_stack(t, stack, values);
}

/* The node at stack "a;b;c" by a linear search, or PE_NO_NODE. */
static uint32_t
find(const PeTree *t, const char *stack)
{
	uint32_t	node = 0;
	const char *p = stack;

	while (*p && node != PE_NO_NODE)
	{
		const char *end = strchr(p, ';');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		uint32_t	parent = node;

		node = PE_NO_NODE;
		for (uint32_t i = 1; i < t->nnodes; i++)
		{
			uint32_t	nlen;
			const char *s = pe_strtab_get(&t->names, t->name[i], &nlen);

			if (t->parent[i] == parent && nlen == len && memcmp(s, p, len) == 0)
				node = i;
		}
		p += len + (end ? 1 : 0);
	}
	return node;
}

static int64_t
self_at(const PeTree *t, const char *stack, uint32_t v)
{
	uint32_t	node = find(t, stack);

	return node == PE_NO_NODE ? INT64_MIN : t->self[(size_t) node * t->meta.nvalues + v];
}

static const char *
row_name(const PeTree *t, const PeFlameRow *r)
{
	if (r->name == PE_ROW_TOTAL)
		return "TOTAL";
	if (r->name == PE_ROW_OTHER)
		return "OTHER";
	return pe_strtab_get(&t->names, r->name, NULL);
}

typedef struct Open
{
	uint32_t	level;
	int64_t		value[2];
	int64_t		self[2];
	int64_t		child_sum[2];
	bool		other_seen;
	const char *last_child;
} Open;

/*
 * Check the nested-set contract on rows: one root at level 0, levels step
 * down by at most one, value = self + sum(children values) on every row,
 * siblings by name with "other" last.  Returns the number of non-root,
 * non-other rows.
 */
static uint32_t
check_rows(const PeTree *t, const PeFlameRow *rows, uint32_t n, int ncols)
{
	Open	   *stack = calloc(n + 1, sizeof(Open));
	uint32_t	sp = 0;
	uint32_t	plain = 0;
	bool		ok = n > 0 && rows[0].level == 0 && rows[0].name == PE_ROW_TOTAL;

	for (uint32_t i = 0; i <= n && ok; i++)
	{
		uint32_t	level = i < n ? rows[i].level : 0;

		while (sp > 0 && stack[sp - 1].level >= level)
		{
			Open	   *o = &stack[--sp];

			for (int c = 0; c < ncols; c++)
				if (o->value[c] != o->self[c] + o->child_sum[c])
					ok = false;
		}
		if (i == n)
			break;
		if (i > 0)
		{
			Open	   *parent = &stack[sp - 1];
			const char *name = row_name(t, &rows[i]);

			if (sp == 0 || level != parent->level + 1 || rows[i].name == PE_ROW_TOTAL)
			{
				ok = false;
				break;
			}
			if (parent->other_seen)
				ok = false;
			if (rows[i].name == PE_ROW_OTHER)
				parent->other_seen = true;
			else
			{
				if (parent->last_child && strcmp(parent->last_child, name) >= 0)
					ok = false;
				parent->last_child = name;
				plain++;
			}
			for (int c = 0; c < ncols; c++)
				parent->child_sum[c] += rows[i].value[c];
		}
		else if (sp != 0)
			ok = false;
		memset(&stack[sp], 0, sizeof(Open));
		stack[sp].level = level;
		for (int c = 0; c < ncols; c++)
		{
			stack[sp].value[c] = rows[i].value[c];
			stack[sp].self[c] = rows[i].self[c];
		}
		sp++;
	}
	free(stack);
	CHECK(ok);
	return plain;
}

static void
test_flame_small(void)
{
	PeTree		t;
	PeFlameRow *rows;
	uint32_t	n;
	uint32_t	col = 0;
	const char *want[] = {"TOTAL", "a", "b", "c", "d"};
	uint32_t	level[] = {0, 1, 2, 2, 1};
	int64_t		value[] = {10, 6, 2, 3, 4};
	int64_t		self[] = {0, 1, 2, 3, 4};

	new_tree(&t, 1);
	/* names interned out of order; "z" is all zero and left out */
	add(&t, "d", 4, 0);
	add(&t, "z;y", 0, 0);
	add(&t, "a;c", 3, 0);
	add(&t, "a", 1, 0);
	add(&t, "a;b", 2, 0);
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 0, &rows, &n));
	CHECK(n == 5);
	for (uint32_t i = 0; i < n && i < 5; i++)
	{
		CHECK(strcmp(row_name(&t, &rows[i]), want[i]) == 0);
		CHECK(rows[i].level == level[i]);
		CHECK(rows[i].value[0] == value[i] && rows[i].self[0] == self[i]);
		CHECK(rows[i].value[1] == 0 && rows[i].self[1] == 0);
	}
	check_rows(&t, rows, n, 1);
	pe_free(&ctx, rows);

	/* argument errors */
	CHECK(!pe_flame_rows(&t, &col, 3, 0, &rows, &n));
	CHECK(ctx.err.code == PE_ERR_ARG);
	ctx.err.code = PE_OK;
	col = 1;
	CHECK(!pe_flame_rows(&t, &col, 1, 0, &rows, &n));
	CHECK(ctx.err.code == PE_ERR_ARG && rows == NULL && n == 0);
	ctx.err.code = PE_OK;
	pe_tree_free(&t);
}

static void
test_flame_other(void)
{
	PeTree		t;
	PeFlameRow *rows;
	uint32_t	n;
	uint32_t	col = 0;
	const char *want[] = {"TOTAL", "a", "a1", "OTHER", "b", "OTHER"};
	uint32_t	level[] = {0, 1, 2, 2, 1, 1};
	int64_t		value[] = {19, 10, 6, 4, 5, 4};
	int64_t		self[] = {0, 0, 6, 4, 5, 4};

	new_tree(&t, 1);
	add(&t, "a;a1", 6, 0);
	add(&t, "a;a2", 4, 0);
	add(&t, "b", 5, 0);
	add(&t, "c", 3, 0);
	add(&t, "d", 1, 0);
	/* weights: a 10, a1 6, b 5, a2 4, c 3, d 1 */
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 3, &rows, &n));
	CHECK(n == 6);
	for (uint32_t i = 0; i < n && i < 6; i++)
	{
		CHECK(strcmp(row_name(&t, &rows[i]), want[i]) == 0);
		CHECK(rows[i].level == level[i]);
		CHECK(rows[i].value[0] == value[i] && rows[i].self[0] == self[i]);
	}
	CHECK(check_rows(&t, rows, n, 1) == 3);
	pe_free(&ctx, rows);

	/* max_nodes at least the node count: nothing folded */
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 6, &rows, &n));
	CHECK(n == 7 && check_rows(&t, rows, n, 1) == 6);
	pe_free(&ctx, rows);

	/* max_nodes 1: only a; its children and b, c, d fold */
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 1, &rows, &n));
	CHECK(n == 4 && check_rows(&t, rows, n, 1) == 1);
	if (n == 4)
	{
		CHECK(rows[2].name == PE_ROW_OTHER && rows[2].level == 2 && rows[2].value[0] == 10);
		CHECK(rows[3].name == PE_ROW_OTHER && rows[3].level == 1 && rows[3].value[0] == 9);
	}
	pe_free(&ctx, rows);
	pe_tree_free(&t);
}

/* Ties at the threshold weight keep the earliest nodes in pre-order. */
static void
test_flame_ties(void)
{
	PeTree		t;
	PeFlameRow *rows;
	uint32_t	n;
	uint32_t	col = 0;

	new_tree(&t, 1);
	add(&t, "e", 2, 0);
	add(&t, "d", 2, 0);
	add(&t, "c", 2, 0);
	add(&t, "b", 2, 0);
	add(&t, "a", 5, 0);
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 3, &rows, &n));
	CHECK(n == 5 && check_rows(&t, rows, n, 1) == 3);
	if (n == 5)
	{
		CHECK(strcmp(row_name(&t, &rows[1]), "a") == 0);
		CHECK(strcmp(row_name(&t, &rows[2]), "b") == 0);
		CHECK(strcmp(row_name(&t, &rows[3]), "c") == 0);
		CHECK(rows[4].name == PE_ROW_OTHER && rows[4].value[0] == 4);
	}
	pe_free(&ctx, rows);
	pe_tree_free(&t);
}

/* Random non-negative trees: the contract and the kept count. */
static void
test_flame_random(void)
{
	uint64_t	rng = 12345;

	for (int round = 0; round < 200; round++)
	{
		PeTree		t;
		PeFlameRow *rows;
		uint32_t	n;
		uint32_t	cols[2] = {1, 0};
		uint32_t	nonzero = 0;
		uint32_t	max_nodes;
		int			nodes;
		int			ncols = 1 + round % 2;

		new_tree(&t, 2);
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		nodes = 1 + (int) ((rng >> 33) % 300);
		for (int i = 0; i < nodes; i++)
		{
			char		name[16];
			uint32_t	parent;
			uint32_t	node;
			int64_t		v[2];

			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			parent = (uint32_t) ((rng >> 33) % t.nnodes);
			snprintf(name, sizeof(name), "f%u", (uint32_t) (rng >> 20) % 40);
			node = pe_tree_child(&t, parent, intern(&t, name));
			v[0] = (int64_t) ((rng >> 12) % 4);
			v[1] = (int64_t) ((rng >> 40) % 3);
			CHECK_OK(&ctx, pe_tree_add_self(&t, node, v));
		}
		/* count nodes with a non-zero subtree in the requested columns */
		{
			int64_t    *tot0 = calloc(t.nnodes, sizeof(int64_t));
			int64_t    *tot1 = calloc(t.nnodes, sizeof(int64_t));

			CHECK_OK(&ctx, pe_tree_totals(&t, cols[0], tot0));
			CHECK_OK(&ctx, pe_tree_totals(&t, cols[1], tot1));
			for (uint32_t i = 1; i < t.nnodes; i++)
				nonzero += tot0[i] != 0 || (ncols == 2 && tot1[i] != 0);
			free(tot0);
			free(tot1);
		}
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		max_nodes = (uint32_t) ((rng >> 33) % (t.nnodes + 2));
		CHECK_OK(&ctx, pe_flame_rows(&t, cols, ncols, max_nodes, &rows, &n));
		{
			uint32_t	plain = check_rows(&t, rows, n, ncols);
			uint32_t	want = max_nodes == 0 || max_nodes > nonzero ? nonzero : max_nodes;

			/* with non-negative values the ancestor closure drops nothing */
			CHECK(plain == want);
			if (max_nodes == 0)
				CHECK(n == nonzero + 1);
		}
		pe_free(&ctx, rows);
		pe_tree_free(&t);
	}
}

/* A diff of two columns where one side lacks a stack. */
static void
test_union_diff(void)
{
	PeTree		base,
				target,
				u;
	PeFlameRow *rows;
	uint32_t	n;
	uint32_t	cols[2] = {0, 1};

	new_tree(&base, 2);
	new_tree(&target, 1);
	add(&base, "main;old", 0, 7);
	add(&base, "main;both", 100, 3);
	add(&target, "main;both", 5, 0);
	add(&target, "main;new", 2, 0);
	add(&target, "main;zero", 0, 0);
	CHECK_OK(&ctx, pe_tree_union2(&ctx, &base, 1, &target, 0, &u));
	CHECK(u.meta.nvalues == 2);
	CHECK(strcmp(u.meta.types[0].type, "cpu") == 0);
	CHECK(strcmp(u.meta.types[1].type, "samples") == 0);
	CHECK(self_at(&u, "main;old", 0) == 7 && self_at(&u, "main;old", 1) == 0);
	CHECK(self_at(&u, "main;both", 0) == 3 && self_at(&u, "main;both", 1) == 5);
	CHECK(self_at(&u, "main;new", 0) == 0 && self_at(&u, "main;new", 1) == 2);

	CHECK_OK(&ctx, pe_flame_rows(&u, cols, 2, 0, &rows, &n));
	/* TOTAL, main, both, new, old ("zero" is left out) */
	CHECK(n == 5);
	if (n == 5)
	{
		CHECK(rows[0].value[0] == 10 && rows[0].value[1] == 7);
		CHECK(strcmp(row_name(&u, &rows[1]), "main") == 0 && rows[1].value[1] == 7);
		CHECK(strcmp(row_name(&u, &rows[2]), "both") == 0 &&
			  rows[2].self[0] == 3 && rows[2].self[1] == 5);
		CHECK(strcmp(row_name(&u, &rows[3]), "new") == 0 &&
			  rows[3].value[0] == 0 && rows[3].value[1] == 2);
		CHECK(strcmp(row_name(&u, &rows[4]), "old") == 0 &&
			  rows[4].value[0] == 7 && rows[4].value[1] == 0);
	}
	check_rows(&u, rows, n, 2);
	pe_free(&ctx, rows);
	pe_tree_free(&u);

	CHECK(!pe_tree_union2(&ctx, &base, 2, &target, 0, &u));
	CHECK(ctx.err.code == PE_ERR_ARG);
	ctx.err.code = PE_OK;
	pe_tree_free(&base);
	pe_tree_free(&target);
}

static const PeTopRow *
top_find(const PeTree *t, const PeTopRow *rows, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(pe_strtab_get(&t->names, rows[i].name, NULL), name) == 0)
			return &rows[i];
	return NULL;
}

/* a->b->a->b: cum counts each stack once. */
static void
test_top_recursion(void)
{
	PeTree		t;
	PeTopRow   *rows;
	uint32_t	n;
	const PeTopRow *a,
			   *b;

	new_tree(&t, 1);
	add(&t, "a;b;a;b", 10, 0);
	add(&t, "a", 5, 0);
	add(&t, "a;b;a", 1, 0);
	intern(&t, "unused");
	CHECK_OK(&ctx, pe_top(&t, 0, &rows, &n));
	CHECK(n == 2);
	a = top_find(&t, rows, n, "a");
	b = top_find(&t, rows, n, "b");
	CHECK(a && a->self == 6 && a->total == 16);
	CHECK(b && b->self == 10 && b->total == 11);
	CHECK(n == 2 && rows[0].name == b->name);
	pe_free(&ctx, rows);
	CHECK(!pe_top(&t, 1, &rows, &n));
	CHECK(ctx.err.code == PE_ERR_ARG);
	ctx.err.code = PE_OK;
	pe_tree_free(&t);
}

/* |flat| descending, then name bytes, then |cum| descending. */
static void
test_top_order(void)
{
	PeTree		t;
	PeTopRow   *rows;
	uint32_t	n;
	const char *want[] = {"big", "neg", "pos", "Zed", "apple", "w", "parent",
	"zero-self"};
	int64_t		want_total[] = {9, -7, 7, 3, 3, 1, 3, 1};

	new_tree(&t, 1);
	add(&t, "pos", 7, 0);
	add(&t, "neg", -7, 0);
	add(&t, "big", 9, 0);
	add(&t, "apple", 3, 0);
	add(&t, "parent;Zed", 3, 0);
	add(&t, "zero-self;x", 0, 0);
	add(&t, "zero-self;parent", 0, 0);
	add(&t, "zero-self", 0, 0);
	add(&t, "zero-self;x;y", 0, 0);
	add(&t, "zero-self;w", 1, 0);
	CHECK_OK(&ctx, pe_top(&t, 0, &rows, &n));
	CHECK(n == 8);
	for (uint32_t i = 0; i < 8 && i < n; i++)
	{
		CHECK(strcmp(pe_strtab_get(&t.names, rows[i].name, NULL), want[i]) == 0);
		CHECK(rows[i].total == want_total[i]);
	}
	pe_free(&ctx, rows);
	pe_tree_free(&t);
}

static void
test_filter(void)
{
	PeTree		t,
				f;
	uint8_t    *focus;
	uint8_t    *ignore;

	new_tree(&t, 2);
	add(&t, "main;foo;bar", 5, 50);
	add(&t, "main;baz", 3, 30);
	add(&t, "main;foo;qux", 2, 20);
	add(&t, "main", 1, 10);
	add(&t, "main;baz;foo", 4, 40);
	add(&t, "", 9, 90);
	focus = calloc(t.names.n, 1);
	ignore = calloc(t.names.n, 1);

	/* no filter: same stacks and values, root included */
	CHECK_OK(&ctx, pe_tree_filter(&t, NULL, NULL, &f));
	CHECK(f.nnodes == t.nnodes && self_at(&f, "", 1) == 90 && self_at(&f, "main;baz;foo", 1) == 40);
	pe_tree_free(&f);

	focus[intern(&t, "foo")] = 1;
	CHECK_OK(&ctx, pe_tree_filter(&t, focus, NULL, &f));
	CHECK(self_at(&f, "main;foo;bar", 0) == 5 && self_at(&f, "main;foo;bar", 1) == 50);
	CHECK(self_at(&f, "main;foo;qux", 0) == 2);
	CHECK(self_at(&f, "main;baz;foo", 0) == 4);
	CHECK(self_at(&f, "main;baz", 0) == 0);
	CHECK(self_at(&f, "main", 0) == 0 && self_at(&f, "", 0) == 0);
	CHECK(f.nnodes == 7);
	CHECK(strcmp(f.meta.types[1].type, "cpu") == 0);
	pe_tree_free(&f);

	ignore[intern(&t, "bar")] = 1;
	ignore[intern(&t, "baz")] = 1;
	CHECK_OK(&ctx, pe_tree_filter(&t, NULL, ignore, &f));
	CHECK(find(&f, "main;foo;bar") == PE_NO_NODE);
	CHECK(find(&f, "main;baz") == PE_NO_NODE);
	CHECK(self_at(&f, "main;foo;qux", 0) == 2 && self_at(&f, "main", 0) == 1);
	CHECK(self_at(&f, "", 1) == 90);
	pe_tree_free(&f);

	/* focus foo, ignore baz: bar and qux under main;foo only */
	ignore[intern(&t, "bar")] = 0;
	CHECK_OK(&ctx, pe_tree_filter(&t, focus, ignore, &f));
	CHECK(f.nnodes == 5);
	CHECK(self_at(&f, "main;foo;bar", 0) == 5 && self_at(&f, "main;foo;qux", 0) == 2);
	CHECK(find(&f, "main;baz") == PE_NO_NODE);
	pe_tree_free(&f);
	free(focus);
	free(ignore);
	pe_tree_free(&t);
}

static void
test_copy(void)
{
	PeTree		t,
				c;

	new_tree(&t, 2);
	add(&t, "x;y", 1, 2);
	add(&t, "x;z", 3, 4);
	add(&t, "w", -5, 6);
	CHECK_OK(&ctx, pe_tree_copy(&ctx, &t, &c));
	CHECK(c.nnodes == t.nnodes && c.names.n == t.names.n);
	CHECK(memcmp(c.parent, t.parent, sizeof(uint32_t) * t.nnodes) == 0);
	CHECK(memcmp(c.name, t.name, sizeof(uint32_t) * t.nnodes) == 0);
	CHECK(memcmp(c.self, t.self, sizeof(int64_t) * 2 * t.nnodes) == 0);
	CHECK(strcmp(c.meta.types[1].unit, "nanoseconds") == 0);
	for (uint32_t s = 0; s < t.names.n; s++)
		CHECK(strcmp(pe_strtab_get(&c.names, s, NULL), pe_strtab_get(&t.names, s, NULL)) == 0);
	/* the copy is independent and usable */
	pe_tree_free(&t);
	add(&c, "x;y;new", 1, 1);
	CHECK(c.nnodes == 6 && self_at(&c, "x;y", 1) == 2);
	pe_tree_free(&c);
}

/* Signed (diff) values: truncation never keeps a node without its parent. */
static void
test_flame_signed(void)
{
	PeTree		t;
	PeFlameRow *rows;
	uint32_t	n;
	uint32_t	col = 0;

	new_tree(&t, 1);
	add(&t, "a;b", -100, 0);
	add(&t, "a;e", 99, 0);
	add(&t, "c", 50, 0);
	/* a: total -1, self 0 but kept: its children are non-zero */
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 0, &rows, &n));
	CHECK(n == 5 && check_rows(&t, rows, n, 1) == 4);
	pe_free(&ctx, rows);

	/* weights b 100, e 99, c 50, a 1: b and e lose their parent */
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 3, &rows, &n));
	CHECK(n == 3 && check_rows(&t, rows, n, 1) == 1);
	if (n == 3)
	{
		CHECK(rows[0].value[0] == 49);
		CHECK(strcmp(row_name(&t, &rows[1]), "c") == 0 && rows[1].value[0] == 50);
		CHECK(rows[2].name == PE_ROW_OTHER && rows[2].value[0] == -1 && rows[2].self[0] == -1);
	}
	pe_free(&ctx, rows);

	/* a zero-sum "other" (dropped +5 and -5) is not emitted */
	add(&t, "c;p", 5, 0);
	add(&t, "c;q", -5, 0);
	add(&t, "c;r", 1000, 0);
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 2, &rows, &n));
	/* kept: c (1050), r (1000); under c, p and q fold to 0; a folds to -1 */
	CHECK(n == 4 && check_rows(&t, rows, n, 1) == 2);
	if (n == 4)
		CHECK(rows[3].name == PE_ROW_OTHER && rows[3].level == 1 && rows[3].value[0] == -1);
	pe_free(&ctx, rows);
	pe_tree_free(&t);
}

/* 100,000 frames deep: every operation must be iterative. */
static void
test_deep_chain(void)
{
	PeTree		t,
				f,
				u;
	PeFlameRow *rows;
	PeTopRow   *top;
	uint32_t	n;
	uint32_t	col = 0;
	uint32_t	node = 0;
	uint8_t    *focus;
	char		name[32];
	int64_t		one[2] = {1, 1};

	new_tree(&t, 1);
	for (int i = 0; i < 100000; i++)
	{
		snprintf(name, sizeof(name), "f%d", i % 3);
		node = pe_tree_child(&t, node, intern(&t, name));
	}
	CHECK_OK(&ctx, pe_tree_add_self(&t, node, one));

	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 0, &rows, &n));
	CHECK(n == 100001 && rows[100000].level == 100000 && rows[100000].self[0] == 1);
	CHECK(check_rows(&t, rows, n, 1) == 100000);
	pe_free(&ctx, rows);
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 10, &rows, &n));
	CHECK(n == 12 && check_rows(&t, rows, n, 1) == 10);
	CHECK(n == 12 && rows[11].name == PE_ROW_OTHER && rows[11].level == 11);
	pe_free(&ctx, rows);

	CHECK_OK(&ctx, pe_top(&t, 0, &top, &n));
	CHECK(n == 3);
	for (uint32_t i = 0; i < n; i++)
		CHECK(top[i].total == 1);
	CHECK(n == 3 && top[0].self == 1);
	pe_free(&ctx, top);

	focus = calloc(t.names.n, 1);
	focus[intern(&t, "f2")] = 1;
	CHECK_OK(&ctx, pe_tree_filter(&t, focus, NULL, &f));
	CHECK(f.nnodes == t.nnodes && f.self[node] == 1);
	pe_tree_free(&f);
	free(focus);

	CHECK_OK(&ctx, pe_tree_union2(&ctx, &t, 0, &t, 0, &u));
	CHECK(u.nnodes == t.nnodes);
	CHECK_OK(&ctx, pe_tree_copy(&ctx, &u, &f));
	CHECK(f.nnodes == t.nnodes && f.self[2 * (size_t) node + 1] == 1);
	pe_tree_free(&f);
	pe_tree_free(&u);
	pe_tree_free(&t);
}

/* Run every operation with the n-th allocation failing, for every n. */
static void
test_out_of_memory(void)
{
	PeTree		t,
				out;
	PeAlloc		saved = ctx.alloc;
	uint8_t    *focus;
	int			op;

	new_tree(&t, 2);
	for (int i = 0; i < 50; i++)
	{
		char		stack[64];

		snprintf(stack, sizeof(stack), "m;f%d;g%d;h%d", i % 5, i % 7, i);
		add(&t, stack, i, -i);
	}
	focus = calloc(t.names.n, 1);
	focus[intern(&t, "g3")] = 1;
	for (op = 0; op < 5; op++)
	{
		for (long budget = 0;; budget++)
		{
			PeFlameRow *rows = NULL;
			PeTopRow   *top = NULL;
			uint32_t	n;
			uint32_t	cols[2] = {0, 1};
			bool		ok = false;

			unit_fail_allocs_after(&ctx, budget);
			ctx.err.code = PE_OK;
			switch (op)
			{
				case 0:
					ok = pe_flame_rows(&t, cols, 2, 20, &rows, &n);
					break;
				case 1:
					ok = pe_top(&t, 1, &top, &n);
					break;
				case 2:
					ok = pe_tree_filter(&t, focus, NULL, &out);
					break;
				case 3:
					ok = pe_tree_union2(&ctx, &t, 0, &t, 1, &out);
					break;
				case 4:
					ok = pe_tree_copy(&ctx, &t, &out);
					break;
			}
			ctx.alloc = saved;
			if (!ok)
			{
				CHECK(ctx.err.code == PE_ERR_NOMEM);
				continue;
			}
			CHECK(budget > 0);
			pe_free(&ctx, rows);
			pe_free(&ctx, top);
			if (op >= 2)
				pe_tree_free(&out);
			break;
		}
	}
	ctx.err.code = PE_OK;
	free(focus);
	pe_tree_free(&t);
}

/* Long loops call the interrupt hook. */
static void
test_interrupts(void)
{
	PeTree		t;
	PeFlameRow *rows;
	PeTopRow   *top;
	uint32_t	n;
	uint32_t	col = 0;

	new_tree(&t, 1);
	for (int i = 0; i < 20000; i++)
	{
		char		stack[32];

		snprintf(stack, sizeof(stack), "m;f%d", i);
		add(&t, stack, 1 + i % 3, 0);
	}
	ctx.check_interrupts = unit_count_interrupt;
	unit_interrupt_calls = 0;
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 100, &rows, &n));
	/* TOTAL, m, 99 of the f's, and "other" under m */
	CHECK(unit_interrupt_calls > 5 && n == 102 && check_rows(&t, rows, n, 1) == 100);
	pe_free(&ctx, rows);
	unit_interrupt_calls = 0;
	CHECK_OK(&ctx, pe_top(&t, 0, &top, &n));
	CHECK(unit_interrupt_calls > 5 && n == 20001);
	pe_free(&ctx, top);
	ctx.check_interrupts = NULL;
	pe_tree_free(&t);
}

int
main(void)
{
	pe_ctx_init_malloc(&ctx);
	RUN(test_flame_small);
	RUN(test_flame_other);
	RUN(test_flame_ties);
	RUN(test_flame_random);
	RUN(test_flame_signed);
	RUN(test_union_diff);
	RUN(test_top_recursion);
	RUN(test_top_order);
	RUN(test_filter);
	RUN(test_copy);
	RUN(test_deep_chain);
	RUN(test_out_of_memory);
	RUN(test_interrupts);
	return unit_finish("ops");
}
