/*
 * test_folded.c
 *		Unit tests of folded stacks: parsing rules, errors, writing, round trips.
 */
#include <stdlib.h>

#include "pe_folded.h"
#include "unit.h"

static PeCtx ctx;
static int	interrupt_checks;
static PeSampleType one_type[] = {{"samples", "count"}};
static PeSampleType two_types[] = {{"samples", "count"}, {"cpu", "nanoseconds"}};

static void
reset_error(void)
{
	memset(&ctx.err, 0, sizeof(ctx.err));
}

/* Parse text with nv types and write column v; NULL (error kept) on failure. */
static char *
reformat(const char *text, uint32_t nv, uint32_t v)
{
	PeMeta		meta;
	PeTree		t;
	char	   *out = NULL;
	size_t		len;

	unit_meta(&meta, nv == 1 ? one_type : two_types, nv);
	if (!pe_folded_parse(&ctx, text, strlen(text), &meta, &t))
		return NULL;
	if (!pe_folded_write(&t, v, &out, &len))
		out = NULL;
	else
		CHECK(strlen(out) == len);
	pe_tree_free(&t);
	return out;
}

/* Check that reformatting text gives want. */
static void
check_reformat(const char *text, uint32_t nv, uint32_t v, const char *want)
{
	char	   *got;

	reset_error();
	got = reformat(text, nv, v);
	if (got == NULL || strcmp(got, want) != 0)
	{
		unit_failed_checks++;
		fprintf(stderr, "%s: reformat of \"%s\":\n got \"%s\" (%s)\nwant \"%s\"\n",
				unit_current, text, got ? got : "(null)", ctx.err.msg, want);
	}
	pe_free(&ctx, got);
}

/* Check that parsing text fails with code and a message containing want. */
static void
check_parse_error(const char *text, size_t len, uint32_t nv, PeErrCode code,
				  const char *want)
{
	PeMeta		meta;
	PeTree		t;

	reset_error();
	unit_meta(&meta, nv == 1 ? one_type : two_types, nv);
	if (pe_folded_parse(&ctx, text, len, &meta, &t))
	{
		unit_failed_checks++;
		fprintf(stderr, "%s: parse of \"%s\" succeeded\n", unit_current, text);
		pe_tree_free(&t);
		return;
	}
	if (ctx.err.code != code || strstr(ctx.err.msg, want) == NULL)
	{
		unit_failed_checks++;
		fprintf(stderr, "%s: parse of \"%s\": got %d \"%s\", want %d \"%s\"\n",
				unit_current, text, ctx.err.code, ctx.err.msg, code, want);
	}
	CHECK(t.nnodes == 0);		/* freed */
}

static void
test_basic(void)
{
	check_reformat("", 1, 0, "");
	check_reformat("a;b;c 3\na;b 2\na;b;c 4\nx 1\n", 1, 0, "a;b 2\na;b;c 7\nx 1\n");
	/* \r\n, blank and whitespace-only lines, trailing blanks, no final \n */
	check_reformat("\r\nb 1\r\n   \n\t\r\n\na 2 \t\r\n\na 3", 1, 0, "a 5\nb 1\n");
	/* frames with spaces; the value is the last token */
	check_reformat("java.lang.Thread.run() [file];x y 12 5\n", 1, 0,
				   "java.lang.Thread.run() [file];x y 12 5\n");
	/* a doubled space belongs to the frame name (as in flamegraph.pl) */
	check_reformat("a;b  5\n", 1, 0, "a;b  5\n");
	/* negative values, zero values, INT64 extremes */
	check_reformat("a -3\nb 0\nc 9223372036854775807\nd -9223372036854775808\ne 007\n", 1, 0,
				   "a -3\nc 9223372036854775807\nd -9223372036854775808\ne 7\n");
	/* duplicates cancelling out leave no line */
	check_reformat("a;b 5\na;b -5\na 1\n", 1, 0, "a 1\n");
	/* an empty stack is the root's own value */
	check_reformat(" 4\na 1\n 2\n", 1, 0, " 6\na 1\n");
	/* canonical order: siblings by name bytes */
	check_reformat("b;z 1\na 1\nb;a 1\nb 1\n", 1, 0, "a 1\nb 1\nb;a 1\nb;z 1\n");
	/* UTF-8 names stay, invalid bytes and NUL become U+FFFD */
	check_reformat("caf\xC3\xA9;\xE2\x82\xAC 1\n", 1, 0, "caf\xC3\xA9;\xE2\x82\xAC 1\n");
	check_reformat("a\xFF;b 1\n", 1, 0, "a\xEF\xBF\xBD;b 1\n");
	{
		static const char text[] = "a\0b;c 1\n";
		PeMeta		meta;
		PeTree		t;
		char	   *out;
		size_t		len;

		reset_error();
		unit_meta(&meta, one_type, 1);
		CHECK_OK(&ctx, pe_folded_parse(&ctx, text, sizeof(text) - 1, &meta, &t));
		CHECK_OK(&ctx, pe_folded_write(&t, 0, &out, &len));
		CHECK(len == 10 && memcmp(out, "a\xEF\xBF\xBD" "b;c 1\n", 10) == 0);
		pe_free(&ctx, out);
		pe_tree_free(&t);
	}
}

static void
test_multi_value(void)
{
	const char *text = "a;b 1 10\na 2 20\na;b 3 30\nc 0 5\n";

	check_reformat(text, 2, 0, "a 2\na;b 4\n");
	check_reformat(text, 2, 1, "a 20\na;b 40\nc 5\n");
	/* frames with spaces and numbers still split from the right */
	check_reformat("f 1 2;g 3 3 4\n", 2, 1, "f 1 2;g 3 4\n");
	check_parse_error("a 1\n", 4, 2, PE_ERR_TEXT,
					  "invalid folded stack at line 1: expected 2 values after the stack, found 1");
	check_parse_error("a 1  2\n", 7, 2, PE_ERR_TEXT, "at line 1: invalid value \"\"");
	check_parse_error("x 1 2\na b 1\n", 12, 2, PE_ERR_TEXT, "at line 2: invalid value \"b\"");
	{
		PeMeta		meta;
		PeTree		t;

		reset_error();
		unit_meta(&meta, two_types, 0);
		CHECK(!pe_folded_parse(&ctx, "a 1", 3, &meta, &t));
		CHECK(ctx.err.code == PE_ERR_ARG);
	}
}

static void
test_parse_errors(void)
{
#define ERR(text, code, want) check_parse_error(text, strlen(text), 1, code, want)
	ERR("a 1\nb 2\nc\n", PE_ERR_TEXT, "invalid folded stack at line 3: missing value");
	CHECK(strstr(ctx.err.detail, "The line is \"c\".") != NULL);
	ERR("a 1\n\n\nb\tx 2\nfoo bar\n", PE_ERR_TEXT, "at line 5: invalid value \"bar\"");
	ERR("a\t1\n", PE_ERR_TEXT, "at line 1: missing value");
	ERR("5\n", PE_ERR_TEXT, "at line 1: missing value");
	ERR("a 1.5\n", PE_ERR_TEXT, "at line 1: invalid value \"1.5\"");
	ERR("a +1\n", PE_ERR_TEXT, "at line 1: invalid value \"+1\"");
	ERR("a -\n", PE_ERR_TEXT, "at line 1: invalid value \"-\"");
	ERR("a 1\r\nb;;c 1\r\n", PE_ERR_TEXT, "at line 2: empty frame name");
	CHECK(strstr(ctx.err.detail, "Frame 2 of the stack is empty.") != NULL);
	ERR("a 1\nb 1\n;c 1\n", PE_ERR_TEXT, "at line 3: empty frame name");
	ERR("c; 1\n", PE_ERR_TEXT, "at line 1: empty frame name");
	ERR("; 1\n", PE_ERR_TEXT, "at line 1: empty frame name");
	ERR("a 9223372036854775808\n", PE_ERR_OVERFLOW, "at line 1: value 9223372036854775808 out of range");
	ERR("a -9223372036854775809\n", PE_ERR_OVERFLOW, "at line 1: value -9223372036854775809 out of range");
	ERR("a 99999999999999999999999999\n", PE_ERR_OVERFLOW, "at line 1: value");
	ERR("a;b 9223372036854775807\nc 1\na;b 1\n", PE_ERR_OVERFLOW, "at line 3: sum of values out of range");
	ERR("a -9223372036854775808\na -1\n", PE_ERR_OVERFLOW, "at line 2: sum of values out of range");
	/* the detail quotes printable, valid UTF-8 only, and cuts long lines */
	ERR("\x01\xFF\"x\n", PE_ERR_TEXT, "at line 1: missing value");
	CHECK(strcmp(ctx.err.detail, "Each line is a stack of frames separated by \";\", then 1 integer value, each after a single space. The line is \"???x\".") == 0);
	{
		char		line[400];

		memset(line, 'a', sizeof(line));
		line[sizeof(line) - 1] = '\0';
		ERR(line, PE_ERR_TEXT, "at line 1: missing value");
		CHECK(strstr(ctx.err.detail, "aaa...\".") != NULL);
		CHECK(strlen(ctx.err.detail) < 250);
	}
	/* the depth limit */
	ctx.limits.max_stack_depth = 3;
	check_reformat("a;b;c 1\n", 1, 0, "a;b;c 1\n");
	ERR("a 1\na;b;c;d 1\n", PE_ERR_LIMIT_DEPTH, "at line 2: stack has more than the limit of 3 frames");
	ctx.limits.max_stack_depth = PE_DEFAULT_MAX_STACK_DEPTH;
	/* the node limit comes from the tree */
	ctx.limits.max_nodes = 3;
	ERR("a;b;c 1\n", PE_ERR_LIMIT_NODES, "limit of");
	ctx.limits.max_nodes = PE_DEFAULT_MAX_NODES;
#undef ERR
}

/* A tree with the given names as one chain, value 1 at the leaf. */
static void
write_error_case(const char *bad_name, size_t bad_len, const char *want)
{
	PeMeta		meta;
	PeTree		t;
	uint32_t	node;
	int64_t		one = 1;
	char	   *out;
	size_t		len;

	reset_error();
	unit_meta(&meta, one_type, 1);
	CHECK_OK(&ctx, pe_tree_init(&ctx, &t, &meta));
	node = pe_tree_child(&t, 0, pe_strtab_intern(&t.names, "main", 4));
	node = pe_tree_child(&t, node, pe_strtab_intern(&t.names, bad_name, bad_len));
	/* a sibling with a fine name, and a child under the bad frame */
	pe_tree_add_self(&t, pe_tree_child(&t, 0, pe_strtab_intern(&t.names, "ok", 2)), &one);
	pe_tree_add_self(&t, pe_tree_child(&t, node, pe_strtab_intern(&t.names, "leaf", 4)), &one);
	CHECK(!pe_folded_write(&t, 0, &out, &len));
	CHECK(ctx.err.code == PE_ERR_ARG);
	CHECK(strstr(ctx.err.msg, want) != NULL);
	CHECK(out == NULL);
	pe_tree_free(&t);
}

static void
test_write_errors(void)
{
	write_error_case("a;b", 3, "frame name contains \";\"");
	CHECK(strstr(ctx.err.detail, "The frame is \"a;b\".") != NULL);
	write_error_case("a\nb", 3, "frame name contains a newline");
	write_error_case("a\0b", 3, "frame name contains a NUL byte");
	write_error_case("", 0, "frame name is empty");

	/* an unwritable name on no written line is fine */
	{
		PeMeta		meta;
		PeTree		t;
		int64_t		vals[2] = {0, 7};
		int64_t		ones[2] = {1, 1};
		char	   *out;
		size_t		len;

		reset_error();
		unit_meta(&meta, two_types, 2);
		CHECK_OK(&ctx, pe_tree_init(&ctx, &t, &meta));
		pe_tree_add_self(&t, pe_tree_child(&t, 0, pe_strtab_intern(&t.names, "x;y", 3)), vals);
		pe_tree_add_self(&t, pe_tree_child(&t, 0, pe_strtab_intern(&t.names, "z", 1)), ones);
		CHECK_OK(&ctx, pe_folded_write(&t, 0, &out, &len));
		CHECK(strcmp(out, "z 1\n") == 0);
		pe_free(&ctx, out);
		CHECK(!pe_folded_write(&t, 1, &out, &len));
		CHECK(!pe_folded_write(&t, 2, &out, &len));
		pe_tree_free(&t);
	}
	/* sample type index out of range */
	{
		PeMeta		meta;
		PeTree		t;
		char	   *out;
		size_t		len;

		reset_error();
		unit_meta(&meta, one_type, 1);
		CHECK_OK(&ctx, pe_tree_init(&ctx, &t, &meta));
		CHECK(!pe_folded_write(&t, 1, &out, &len));
		CHECK(ctx.err.code == PE_ERR_ARG);
		pe_tree_free(&t);
	}
}

/* Append text to a malloc'd string buffer. */
static void
append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	while (*len + n + 1 > *cap)
	{
		*cap = *cap ? *cap * 2 : 1024;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void
count_interrupt_check(void)
{
	interrupt_checks++;
}

static void
test_deep(void)
{
	enum
	{
	DEPTH = 100000
	};
	char	   *text = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	char		frame[32];
	PeMeta		meta;
	PeTree		t;
	char	   *out;
	size_t		outlen;

	/* one stack of 100,000 frames */
	for (int i = 0; i < DEPTH; i++)
	{
		int			n = snprintf(frame, sizeof(frame), "%sf%d", i ? ";" : "", i);

		append(&text, &len, &cap, frame, n);
	}
	append(&text, &len, &cap, " 42\n", 4);
	reset_error();
	unit_meta(&meta, one_type, 1);
	ctx.check_interrupts = count_interrupt_check;
	CHECK_OK(&ctx, pe_folded_parse(&ctx, text, len, &meta, &t));
	CHECK(interrupt_checks >= DEPTH / 4096);
	ctx.check_interrupts = NULL;
	CHECK(t.nnodes == DEPTH + 1);
	CHECK_OK(&ctx, pe_folded_write(&t, 0, &out, &outlen));
	CHECK(outlen == len && memcmp(out, text, len) == 0);
	pe_free(&ctx, out);
	pe_tree_free(&t);

	/* every node of a 3,000-deep chain has a value: 3,000 growing lines */
	{
		PeTree		chain;
		int64_t		one = 1;
		uint32_t	node = 0;

		CHECK_OK(&ctx, pe_tree_init(&ctx, &chain, &meta));
		for (int i = 0; i < 3000; i++)
		{
			int			n = snprintf(frame, sizeof(frame), "f%d", i);

			node = pe_tree_child(&chain, node, pe_strtab_intern(&chain.names, frame, n));
			pe_tree_add_self(&chain, node, &one);
		}
		CHECK_OK(&ctx, pe_folded_write(&chain, 0, &out, &outlen));
		CHECK(strncmp(out, "f0 1\nf0;f1 1\nf0;f1;f2 1\n", 24) == 0);
		CHECK(out[outlen - 1] == '\n');
		pe_free(&ctx, out);

		/* the output limit */
		ctx.limits.max_decoded_bytes = 100000;
		reset_error();
		CHECK(!pe_folded_write(&chain, 0, &out, &outlen));
		CHECK(pe_err_is_limit(ctx.err.code));
		ctx.limits.max_decoded_bytes = PE_DEFAULT_MAX_DECODED_BYTES;
		pe_tree_free(&chain);
	}
	free(text);
}

/* Column v of t as a one-column tree (same nodes, same names). */
static void
project(const PeTree *t, uint32_t v, PeTree *out)
{
	PeMeta		meta;
	uint32_t   *map = malloc(sizeof(uint32_t) * t->nnodes);

	unit_meta(&meta, one_type, 1);
	CHECK_OK(&ctx, pe_tree_init(&ctx, out, &meta));
	map[0] = 0;
	for (uint32_t n = 0; n < t->nnodes; n++)
	{
		uint32_t	len;
		const char *name = pe_strtab_get(&t->names, t->name[n], &len);

		if (n > 0)
			map[n] = pe_tree_child(out, map[t->parent[n]],
								   pe_strtab_intern(&out->names, name, len));
		CHECK_OK(&ctx, pe_tree_add_self(out, map[n], &t->self[(size_t) n * t->meta.nvalues + v]));
	}
	free(map);
}

static void
test_round_trip(void)
{
	static const char *names[] = {
		"main", "a", "b", "run()", "java.lang.Thread.run() [file]", "x 1",
		"caf\xC3\xA9", "0x1f2e", " lead", "tail ", "\xF0\x9F\x94\xA5", "a\tb",
	};
	const uint32_t nnames = sizeof(names) / sizeof(names[0]);

	srand(12345);
	for (int round = 0; round < 50; round++)
	{
		PeMeta		meta;
		PeTree		t;
		PeTree		back;
		uint32_t	nv = (round & 1) ? 2 : 1;
		char	   *text1;
		char	   *text2;
		size_t		len1,
					len2;

		reset_error();
		unit_meta(&meta, nv == 1 ? one_type : two_types, nv);
		CHECK_OK(&ctx, pe_tree_init(&ctx, &t, &meta));
		for (int s = 0; s < 200; s++)
		{
			uint32_t	node = 0;
			int			depth = rand() % 12;
			int64_t		vals[2];

			for (int d = 0; d < depth; d++)
			{
				const char *nm = names[rand() % nnames];

				node = pe_tree_child(&t, node, pe_strtab_intern(&t.names, nm, strlen(nm)));
			}
			vals[0] = (rand() % 5) - 1;
			vals[1] = (int64_t) rand() * 1000003 - 7;
			if (rand() % 10 == 0)
				vals[0] = INT64_MAX / 1000;
			CHECK_OK(&ctx, pe_tree_add_self(&t, node, vals));
		}
		for (uint32_t v = 0; v < nv; v++)
		{
			PeMeta		one;
			PeTree		column;

			unit_meta(&one, one_type, 1);
			CHECK_OK(&ctx, pe_folded_write(&t, v, &text1, &len1));
			CHECK_OK(&ctx, pe_folded_parse(&ctx, text1, len1, &one, &back));
			project(&t, v, &column);
			CHECK(unit_same_nodes(&column, &back));
			pe_tree_free(&column);
			CHECK_OK(&ctx, pe_folded_write(&back, 0, &text2, &len2));
			CHECK(len1 == len2 && memcmp(text1, text2, len1) == 0);
			pe_free(&ctx, text1);
			pe_free(&ctx, text2);
			pe_tree_free(&back);
		}
		pe_tree_free(&t);
	}
}

int
main(void)
{
	pe_ctx_init_malloc(&ctx);
	RUN(test_basic);
	RUN(test_multi_value);
	RUN(test_parse_errors);
	RUN(test_write_errors);
	RUN(test_deep);
	RUN(test_round_trip);
	return unit_finish("folded");
}
