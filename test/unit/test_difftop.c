/*
 * test_difftop.c
 *		Unit tests of pe_diff_top / pe_diff_blame: the join of both sides,
 *		normalisation, and the culprit score on the kinds of regression
 *		it must name (new loop, own code, new caller of old code, lock,
 *		shrinking), plus the 0.1.0 self order.
 */
#include <math.h>
#include <stdlib.h>

#include "pe_ops.h"
#include "unit.h"

static PeCtx ctx;

/* One stack of a union tree: base and target values. */
typedef struct Stack
{
	const char *frames;			/* "a;b;c", root first */
	int64_t		base;
	int64_t		target;
} Stack;

static void
build(PeTree *u, const Stack *stacks)
{
	PeSampleType types[2] = {{"cpu", "nanoseconds"}, {"cpu", "nanoseconds"}};
	PeMeta		m;

	unit_meta(&m, types, 2);
	CHECK_OK(&ctx, pe_tree_init(&ctx, u, &m));
	for (const Stack *s = stacks; s->frames; s++)
	{
		int64_t		values[2] = {s->base, s->target};

		unit_add_stack(u, s->frames, values);
	}
}

static const char *
row_name(const PeTree *u, const PeDiffTopRow *r)
{
	static char buf[256];
	uint32_t	len;
	const char *s = pe_strtab_get(&u->names, r->name, &len);

	snprintf(buf, sizeof(buf), "%.*s", (int) len, s);
	return buf;
}

/* The first row of the ranking, by name ("" when there is none). */
static const char *
first(const Stack *stacks, bool normalize, PeDiffRank rank)
{
	static char buf[256];
	PeTree		u;
	PeDiffTopRow *rows;
	uint32_t	n;

	buf[0] = '\0';
	build(&u, stacks);
	CHECK_OK(&ctx, pe_diff_top(&u, normalize, rank, &rows, &n));
	if (n > 0)
		snprintf(buf, sizeof(buf), "%s", row_name(&u, &rows[0]));
	pe_free(&ctx, rows);
	pe_tree_free(&u);
	return buf;
}

/* The shop service of issue 15: a new function marshals once per item. */
static const Stack n_plus_one[] = {
	{"main;serve;handler;load", 300, 300},
	{"main;serve;handler;encodeResponse;json.Marshal;reflect", 100, 100},
	{"main;serve;handler;encodeResponse;json.Marshal;mallocgc", 100, 100},
	{"main;serve;handler;encodeEach;json.Marshal;reflect", 0, 150},
	{"main;serve;handler;encodeEach;json.Marshal;mallocgc", 0, 150},
	{"main;serve;handler;encodeEach;json.Marshal;memclr", 0, 100},
	{"main;gc;memclr", 200, 200},
	{"main;gc;madvise", 100, 100},
	{NULL, 0, 0}
};

static void
test_new_loop(void)
{
	CHECK(strcmp(first(n_plus_one, true, PE_DIFF_RANK_INCREASE), "encodeEach") == 0);
	CHECK(strcmp(first(n_plus_one, false, PE_DIFF_RANK_INCREASE), "encodeEach") == 0);
	/* the 0.1.0 order names a leaf that only shrank in share */
	CHECK(strcmp(first(n_plus_one, true, PE_DIFF_RANK_SELF), "encodeEach") != 0);
}

/* An existing function starts calling an existing expensive one. */
static const Stack new_caller[] = {
	{"main;handler;refreshPrices;format", 20, 20},
	{"main;handler;refreshPrices;checksum;sha", 0, 300},
	{"main;handler;audit;checksum;sha", 300, 300},
	{"main;handler;load", 500, 500},
	{NULL, 0, 0}
};

/* An existing function newly called by an old caller (no new code). */
static const Stack new_call_of_old[] = {
	{"main;handler;load", 500, 500},
	{"main;handler;checksum;sha", 0, 300},
	{"main;audit;checksum;sha", 300, 300},
	{NULL, 0, 0}
};

static void
test_new_caller(void)
{
	CHECK(strcmp(first(new_caller, true, PE_DIFF_RANK_INCREASE), "refreshPrices") == 0);
	CHECK(strcmp(first(new_call_of_old, true, PE_DIFF_RANK_INCREASE), "handler") == 0);
}

/* A hot function got slower in its own code, big and tiny before. */
static const Stack own_code[] = {
	{"main;handler;parse", 200, 600},
	{"main;handler;parse;strconv", 100, 100},
	{"main;handler;load", 500, 500},
	{"main;other", 300, 300},
	{NULL, 0, 0}
};

static const Stack own_code_tiny[] = {
	{"main;handler;parse", 10, 400},
	{"main;handler;load", 500, 500},
	{"main;other", 300, 300},
	{NULL, 0, 0}
};

static void
test_own_code(void)
{
	CHECK(strcmp(first(own_code, true, PE_DIFF_RANK_INCREASE), "parse") == 0);
	CHECK(strcmp(first(own_code, true, PE_DIFF_RANK_SELF), "parse") == 0);
	CHECK(strcmp(first(own_code_tiny, true, PE_DIFF_RANK_INCREASE), "parse") == 0);
}

/* Mutex profiles end in Unlock: the caller of the contended lock is named. */
static const Stack lock[] = {
	{"worker;updateStats;sync.(*Mutex).Unlock", 300, 900},
	{"worker;flush;sync.(*Mutex).Unlock", 700, 700},
	{NULL, 0, 0}
};

static const Stack lock_new[] = {
	{"worker;updateStats;sync.(*Mutex).Unlock", 10, 900},
	{"worker;flush;sync.(*Mutex).Unlock", 700, 700},
	{NULL, 0, 0}
};

static void
test_lock(void)
{
	CHECK(strcmp(first(lock, true, PE_DIFF_RANK_INCREASE), "updateStats") == 0);
	CHECK(strcmp(first(lock_new, true, PE_DIFF_RANK_INCREASE), "updateStats") == 0);
	CHECK(strcmp(first(lock, false, PE_DIFF_RANK_INCREASE), "updateStats") == 0);
}

/* Decreases: listed after the increases, first with PE_DIFF_RANK_DECREASE. */
static void
test_decrease(void)
{
	PeTree		u;
	PeDiffTopRow *rows;
	uint32_t	n;
	bool		seen_negative = false;
	double		sum = 0;

	build(&u, own_code);
	CHECK_OK(&ctx, pe_diff_top(&u, true, PE_DIFF_RANK_INCREASE, &rows, &n));
	for (uint32_t i = 0; i < n; i++)
	{
		if (rows[i].score < 0)
			seen_negative = true;
		else if (rows[i].score > 0)
			CHECK(!seen_negative);
		sum += rows[i].score;
	}
	CHECK(seen_negative);
	/* the scores add up to the change of the whole profile: 0 points */
	CHECK(fabs(sum) < 1e-9);
	pe_free(&ctx, rows);
	pe_tree_free(&u);

	/* the fix of a slow function, seen from the other side */
	{
		Stack		fixed[5];

		for (int i = 0; i < 5; i++)
		{
			fixed[i] = own_code[i];
			fixed[i].base = own_code[i].target;
			fixed[i].target = own_code[i].base;
		}
		CHECK(strcmp(first(fixed, true, PE_DIFF_RANK_DECREASE), "parse") == 0);
	}
}

/* Join and normalisation: percentages of each side, rows for every name. */
static void
test_join(void)
{
	static const Stack s[] = {
		{"a;b", 50, 0},
		{"a;c", 50, 100},
		{"d", 0, 100},
		{NULL, 0, 0}
	};
	PeTree		u;
	PeDiffTopRow *rows;
	uint32_t	n;
	int			found = 0;

	build(&u, s);
	CHECK_OK(&ctx, pe_diff_top(&u, true, PE_DIFF_RANK_SELF, &rows, &n));
	CHECK(n == 4);
	for (uint32_t i = 0; i < n; i++)
	{
		const char *name = row_name(&u, &rows[i]);

		if (strcmp(name, "b") == 0)
		{
			found++;
			CHECK(rows[i].base_self == 50 && rows[i].target_self == 0);
			CHECK(fabs(rows[i].change + 50.0) < 1e-9);
		}
		if (strcmp(name, "a") == 0)
		{
			found++;
			CHECK(rows[i].base_total == 100 && rows[i].target_total == 100);
			CHECK(fabs(rows[i].total_change + 50.0) < 1e-9);
		}
	}
	CHECK(found == 2);
	pe_free(&ctx, rows);
	CHECK_OK(&ctx, pe_diff_top(&u, false, PE_DIFF_RANK_SELF, &rows, &n));
	CHECK(n == 4 && (rows[0].change == 100 || rows[0].change == -50));
	pe_free(&ctx, rows);
	pe_tree_free(&u);
}

/* Empty sides and a tree of the wrong shape. */
static void
test_edges(void)
{
	static const Stack empty_base[] = {{"a;b", 0, 10}, {NULL, 0, 0}};
	PeTree		u;
	double	   *blame;

	/* everything is new: the outermost new function of the chain */
	CHECK(strcmp(first(empty_base, true, PE_DIFF_RANK_INCREASE), "a") == 0);
	build(&u, empty_base);
	CHECK_OK(&ctx, pe_diff_blame(&u, true, &blame));
	CHECK(blame[0] == 0);
	pe_free(&ctx, blame);
	pe_tree_free(&u);
	{
		PeSampleType types[1] = {{"cpu", "nanoseconds"}};
		PeMeta		m;
		PeDiffTopRow *rows;
		uint32_t	n;

		unit_meta(&m, types, 1);
		CHECK_OK(&ctx, pe_tree_init(&ctx, &u, &m));
		CHECK(!pe_diff_top(&u, true, PE_DIFF_RANK_INCREASE, &rows, &n));
		CHECK(ctx.err.code == PE_ERR_ARG);
		ctx.err.code = PE_OK;
		pe_tree_free(&u);
	}
}

/* Flame rows carry their node: the row with the largest blame is the culprit. */
static void
test_row_blame(void)
{
	PeTree		u;
	uint32_t	cols[2] = {0, 1};
	PeFlameRow *rows;
	uint32_t	nrows;
	double	   *row_blame;
	uint32_t	best = 0;
	uint32_t	len;
	const char *name;

	build(&u, n_plus_one);
	CHECK_OK(&ctx, pe_flame_rows(&u, cols, 2, 0, &rows, &nrows));
	CHECK_OK(&ctx, pe_diff_row_blame(&u, true, rows, nrows, &row_blame));
	for (uint32_t i = 1; i < nrows; i++)
		if (row_blame[i] > row_blame[best])
			best = i;
	name = pe_strtab_get(&u.names, rows[best].name, &len);
	CHECK(len == 10 && memcmp(name, "encodeEach", 10) == 0);
	CHECK(row_blame[0] == 0);
	pe_free(&ctx, rows);
	pe_free(&ctx, row_blame);
	/* folded rows ("other") get no blame */
	CHECK_OK(&ctx, pe_flame_rows(&u, cols, 2, 3, &rows, &nrows));
	CHECK_OK(&ctx, pe_diff_row_blame(&u, true, rows, nrows, &row_blame));
	for (uint32_t i = 0; i < nrows; i++)
		if (rows[i].name == PE_ROW_OTHER)
			CHECK(row_blame[i] == 0 && rows[i].node == PE_NO_NODE);
	pe_free(&ctx, rows);
	pe_free(&ctx, row_blame);
	pe_tree_free(&u);
}

/* A deep chain: no recursion in the walk. */
static void
test_deep(void)
{
	enum
	{
	DEPTH = 100000};
	char	   *frames = malloc(DEPTH * 2 + 8);
	Stack		s[3];
	size_t		len = 0;

	for (int i = 0; i < DEPTH; i++)
	{
		frames[len++] = (char) ('a' + i % 3);
		frames[len++] = ';';
	}
	strcpy(frames + len, "new");
	s[0].frames = frames;
	s[0].base = 0;
	s[0].target = 10;
	s[1].frames = "other";
	s[1].base = 10;
	s[1].target = 10;
	s[2].frames = NULL;
	CHECK(strcmp(first(s, true, PE_DIFF_RANK_INCREASE), "new") == 0 ||
		  strcmp(first(s, true, PE_DIFF_RANK_INCREASE), "a") == 0);
	free(frames);
}

int
main(void)
{
	pe_ctx_init_malloc(&ctx);
	RUN(test_new_loop);
	RUN(test_new_caller);
	RUN(test_own_code);
	RUN(test_lock);
	RUN(test_decrease);
	RUN(test_join);
	RUN(test_edges);
	RUN(test_row_blame);
	RUN(test_deep);
	return unit_finish("difftop");
}
