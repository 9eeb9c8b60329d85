/*
 * test_svg.c
 *		Unit tests of the SVG flame graphs: layout, hidden boxes, labels,
 *		escaping and UTF-8, units, diff colours, errors, deep stacks,
 *		interrupts and allocation failures.
 */
#include <stdlib.h>

#include "pe_svg.h"
#include "unit.h"

static PeCtx ctx;

static void
new_tree(PeTree *t, const char *type, const char *unit)
{
	static char empty[] = "";
	PeSampleType st = {(char *) type, (char *) unit};
	PeMeta		m;

	memset(&m, 0, sizeof(m));
	m.nvalues = 1;
	m.types = &st;
	m.period_type.type = empty;
	m.period_type.unit = empty;
	m.default_type = -1;
	CHECK_OK(&ctx, pe_tree_init(&ctx, t, &m));
}

/* Add v at the stack "a;b;c" (root first), names interned as given. */
static void
add(PeTree *t, const char *stack, int64_t v)
{
	unit_add_stack(t, stack, &v);
}

static int
count(const char *s, const char *needle)
{
	int			n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Does s hold an entity reference XML knows (ours: five names, &#x..;)? */
static bool
entity_ok(const char *s)
{
	static const char *const names[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};

	for (int i = 0; i < 5; i++)
		if (strncmp(s, names[i], strlen(names[i])) == 0)
			return true;
	if (strncmp(s, "&#x", 3) != 0)
		return false;
	s += 3;
	if (!strchr("0123456789ABCDEF", *s) || *s == '\0')
		return false;
	while (*s && strchr("0123456789ABCDEF", *s))
		s++;
	return *s == ';';
}

/*
 * A small well-formedness check of our own output: balanced tags, one root
 * element, quoted attributes without '<', only known entities, no raw '>'
 * in text, valid UTF-8.  Not a general XML parser.
 */
static bool
xml_ok(const char *s, size_t len)
{
	const char *stack[16];
	size_t		stack_len[16];
	int			depth = 0;
	int			roots = 0;
	const char *p = s;

	if (!pe_utf8_valid(s, len) || strlen(s) != len)
		return false;
	while (*p)
	{
		if (*p == '&')
		{
			if (!entity_ok(p))
				return false;
			p++;
			continue;
		}
		if (*p == '>')
			return false;
		if (*p != '<')
		{
			p++;
			continue;
		}
		if (p[1] == '/')
		{
			size_t		n = strcspn(p + 2, ">");

			if (depth == 0 || n != stack_len[depth - 1] ||
				strncmp(p + 2, stack[depth - 1], n) != 0)
				return false;
			depth--;
			p += 2 + n + 1;
			continue;
		}
		{
			const char *name = p + 1;
			size_t		n = strcspn(name, " />");
			const char *q = name + n;
			bool		in_quote = false;

			if (n == 0)
				return false;
			for (; *q && (in_quote || (*q != '>' && *q != '/')); q++)
			{
				if (*q == '"')
					in_quote = !in_quote;
				else if (*q == '<')
					return false;
				else if (*q == '&' && !entity_ok(q))
					return false;
			}
			if (*q == '\0')
				return false;
			if (depth == 0)
				roots++;
			if (*q == '/')
			{
				if (q[1] != '>')
					return false;
				p = q + 2;
				continue;
			}
			if (depth == 16)
				return false;
			stack[depth] = name;
			stack_len[depth++] = n;
			p = q + 1;
		}
	}
	return depth == 0 && roots == 1;
}

static char *
draw(PeTree *t, uint32_t max_nodes, int width, const PeSvgOptions *extra)
{
	uint32_t	col = 0;
	PeFlameRow *rows;
	uint32_t	n;
	PeSvgOptions opt = {0};
	char	   *out = NULL;
	size_t		len = 0;

	if (extra)
		opt = *extra;
	opt.width = width;
	opt.type = &t->meta.types[0];
	CHECK_OK(&ctx, pe_flame_rows(t, &col, 1, max_nodes, &rows, &n));
	CHECK_OK(&ctx, pe_svg_flame(&ctx, t, rows, n, false, &opt, &out, &len));
	CHECK(out != NULL && xml_ok(out, len));
	CHECK(out != NULL && strncmp(out, "<svg ", 5) == 0);
	pe_free(&ctx, rows);
	return out;
}

/* Children start at their parent's x and follow in row order (widths
 * are drawn 0.5 px short, a gap between neighbours). */
static void
test_layout(void)
{
	PeTree		t;
	char	   *s;

	new_tree(&t, "cpu", "nanoseconds");
	add(&t, "main;a", 600000000);
	add(&t, "main;b", 400000000);
	s = draw(&t, 0, 1020, NULL);
	/* background + total + main + a + b */
	CHECK(count(s, "<rect") == 5);
	CHECK(strstr(s, "<rect x=\"10.0\" y=\"52\" width=\"999.5\"") != NULL);
	CHECK(strstr(s, "<rect x=\"10.0\" y=\"68\" width=\"999.5\"") != NULL);
	CHECK(strstr(s, "<rect x=\"10.0\" y=\"84\" width=\"599.5\"") != NULL);
	CHECK(strstr(s, "<rect x=\"610.0\" y=\"84\" width=\"399.5\"") != NULL);
	CHECK(strstr(s, "height=\"108\"") != NULL);	/* 52 + 3 * 16 + 8 */
	CHECK(strstr(s, "<title>Flame graph: cpu:nanoseconds, total 1.00 s</title>") != NULL);
	CHECK(strstr(s, "<title>a\ntotal 600.00 ms (60.00%), self 600.00 ms (60.00%)</title>") != NULL);
	CHECK(strstr(s, "<title>main\ntotal 1.00 s (100.00%), self 0 ns (0.00%)</title>") != NULL);
	CHECK(strstr(s, ">total</text>") != NULL);
	CHECK(strstr(s, "<text class=\"h\" x=\"510\" y=\"24\">Flame graph") != NULL);
	pe_free(&ctx, s);
	/* Narrow: the title lines get smaller fonts. */
	s = draw(&t, 0, 300, NULL);
	CHECK(strstr(s, "<text class=\"h\" x=\"150\" y=\"24\" style=\"font-size:11.0px\">") != NULL);
	CHECK(strstr(s, "<text class=\"s\" x=\"150\" y=\"42\" style=\"font-size:") != NULL);
	pe_free(&ctx, s);
	pe_tree_free(&t);
}

/* Sub-pixel boxes are skipped, their parents are not; labels are cut. */
static void
test_hidden_and_labels(void)
{
	PeTree		t;
	char	   *s;

	new_tree(&t, "samples", "count");
	add(&t, "main;big", 899999);
	add(&t, "main;tiny", 1);
	add(&t, "main;a_very_long_function_name_that_cannot_fit", 100000);
	add(&t, "side;narrow_box_with_long_name", 20000);
	add(&t, "side;w", 15000);
	s = draw(&t, 0, 1020, NULL);
	CHECK(strstr(s, "tiny") == NULL);
	/* main is 1000000 of 1035000: 966.2 px, whatever is hidden under it */
	CHECK(strstr(s, "<rect x=\"10.0\" y=\"68\" width=\"965.7\"") != NULL);
	/* 96.6 px: 12 columns, 10 characters and ".." */
	CHECK(strstr(s, ">a_very_lon..</text>") != NULL);
	/* 19.3 and 14.5 px: one column; the long name does not fit, "w" does */
	CHECK(strstr(s, "<title>narrow_box_with_long_name\n") != NULL);
	CHECK(strstr(s, "\">narrow") == NULL);
	CHECK(strstr(s, ">w</text>") != NULL);
	/* background; total, main, big, long, side, narrow, w */
	CHECK(count(s, "<rect") == 1 + 7);
	/* title lines; every box but narrow's */
	CHECK(count(s, "<text") == 2 + 6);
	pe_free(&ctx, s);
	pe_tree_free(&t);
}

/* Labels that do not fit fall back to the name without its package. */
static void
test_short_names(void)
{
	PeTree		t;
	char	   *s;

	new_tree(&t, "samples", "count");
	add(&t, "java/util/regex/Pattern$Curly.match", 200);
	add(&t, "java.util.HashMap.get", 120);
	add(&t, "net/http.(*conn).serve", 130);
	add(&t, "runtime.mallocgc", 100);
	add(&t, "libjvm.so.G1BarrierSetRuntime::write_ref", 150);
	add(&t, "rest", 300);
	s = draw(&t, 0, 1020, NULL);
	CHECK(strstr(s, ">Pattern$Curly.match</text>") != NULL);
	CHECK(strstr(s, ">HashMap.get</text>") != NULL);
	CHECK(strstr(s, ">http.(*conn).se..</text>") != NULL);
	CHECK(strstr(s, ">runtime.ma..</text>") != NULL);
	CHECK(strstr(s, ">G1BarrierSetRunti..</text>") != NULL);
	CHECK(strstr(s, "<title>java/util/regex/Pattern$Curly.match\n") != NULL);
	pe_free(&ctx, s);
	pe_tree_free(&t);
}

/* XML characters, bad UTF-8, control characters, ASCII-only output. */
static void
test_escaping(void)
{
	PeTree		t;
	PeSvgOptions opt = {0};
	char	   *s;

	new_tree(&t, "alloc<&>", "bytes");
	/* interned raw: the drawing must cope even with what decoders repair */
	add(&t, "<&>\"';bad\xff\xfe\x01utf8", 10);
	add(&t, "caf\xc3\xa9", 5);
	s = draw(&t, 0, 1200, NULL);
	CHECK(strstr(s, "<title>&lt;&amp;&gt;&quot;&#39;\n") != NULL);
	CHECK(strstr(s, ">&lt;&amp;&gt;&quot;&#39;</text>") != NULL);
	CHECK(strstr(s, "bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdutf8") != NULL);
	CHECK(strstr(s, "caf\xc3\xa9") != NULL);
	CHECK(strstr(s, "Flame graph: alloc&lt;&amp;&gt;:bytes, total 15 B") != NULL);
	pe_free(&ctx, s);

	opt.ascii_only = true;
	opt.title = "t\xc3\xa9tle \xff <x>";
	opt.title_len = strlen(opt.title);
	s = draw(&t, 0, 1200, &opt);
	for (const char *p = s; *p; p++)
		CHECK((unsigned char) *p < 0x80);
	CHECK(strstr(s, "<title>t&#xE9;tle &#xFFFD; &lt;x&gt;</title>") != NULL);
	CHECK(strstr(s, "bad&#xFFFD;&#xFFFD;&#xFFFD;utf8") != NULL);
	CHECK(strstr(s, "caf&#xE9;") != NULL);
	pe_free(&ctx, s);
	pe_tree_free(&t);
}

/* Values in the sample type's unit. */
static void
test_units(void)
{
	static const struct
	{
		const char *type;
		const char *unit;
		int64_t		v;
		const char *want;
	}			cases[] =
	{
		{"cpu", "nanoseconds", 999, "total 999 ns"},
		{"cpu", "nanoseconds", 1500, "total 1.50 \xc2\xb5s"},
		{"cpu", "nanoseconds", 7200000000000, "total 2.00 h"},
		{"cpu", "nanoseconds", 90000000000, "total 1.50 min"},
		{"wall", "microseconds", 1500, "total 1.50 ms"},
		{"wall", "seconds", 5, "total 5.00 s"},
		{"alloc", "bytes", 3 * 1024 * 1024, "total 3.00 MiB"},
		{"alloc", "bytes", 1023, "total 1023 B"},
		{"alloc", "kilobytes", 2048, "total 2.00 MiB"},
		{"objects", "count", 42, "total 42"},
		{"samples", "", 7, "total 7"},
		{"things", "widgets", 42, "total 42 widgets"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		PeTree		t;
		char	   *s;

		new_tree(&t, cases[i].type, cases[i].unit);
		add(&t, "main", cases[i].v);
		s = draw(&t, 0, 1200, NULL);
		if (strstr(s, cases[i].want) == NULL)
		{
			fprintf(stderr, "units: want \"%s\" in the title\n", cases[i].want);
			CHECK(false);
		}
		pe_free(&ctx, s);
		pe_tree_free(&t);
	}
}

/* Fill colour of the box whose tooltip starts with name. */
static char *
fill_of(const char *s, const char *name)
{
	static char fills[2][8];	/* two calls may be compared */
	static int	which;
	char	   *fill = fills[which ^= 1];
	char		key[128];
	const char *p;

	snprintf(key, sizeof(key), "<title>%s\n", name);
	p = strstr(s, key);
	if (p == NULL || (p = strstr(p, "fill=\"#")) == NULL)
		return "";
	memcpy(fill, p + 6, 7);
	fill[7] = '\0';
	return fill;
}

/* Packages share colours; "other" is grey, the root neutral. */
static void
test_colours(void)
{
	PeTree		t;
	char	   *s;

	new_tree(&t, "samples", "count");
	add(&t, "main;pkg.A", 100);
	add(&t, "main;pkg.B", 100);
	add(&t, "main;github.com/x/y.(*T).M", 100);
	add(&t, "main;github.com/x/y.F", 100);
	add(&t, "main;java/util/HashMap.get", 100);
	add(&t, "main;java/util/HashMap.put", 100);
	add(&t, "main;zz1", 1);
	add(&t, "main;zz2", 1);
	s = draw(&t, 7, 1200, NULL);
	CHECK(strcmp(fill_of(s, "pkg.A"), fill_of(s, "pkg.B")) == 0);
	CHECK(strcmp(fill_of(s, "github.com/x/y.(*T).M"), fill_of(s, "github.com/x/y.F")) == 0);
	CHECK(strcmp(fill_of(s, "java/util/HashMap.get"), fill_of(s, "java/util/HashMap.put")) == 0);
	CHECK(strcmp(fill_of(s, "pkg.A"), fill_of(s, "java/util/HashMap.get")) != 0);
	CHECK(strcmp(fill_of(s, "other"), "#b0b0b0") == 0);
	CHECK(strcmp(fill_of(s, "total"), "#c8c8cd") == 0);
	pe_free(&ctx, s);
	pe_tree_free(&t);
}

static char *
draw_diff(PeTree *base, PeTree *target, size_t *len)
{
	PeTree		u;
	uint32_t	cols[2] = {0, 1};
	PeFlameRow *rows;
	uint32_t	n;
	PeSvgOptions opt = {0};
	char	   *out = NULL;

	CHECK_OK(&ctx, pe_tree_union2(&ctx, base, 0, target, 0, &u));
	CHECK_OK(&ctx, pe_flame_rows(&u, cols, 2, 0, &rows, &n));
	opt.width = 1020;
	opt.type = &u.meta.types[1];
	CHECK_OK(&ctx, pe_svg_flame(&ctx, &u, rows, n, true, &opt, &out, len));
	CHECK(out != NULL && xml_ok(out, *len));
	pe_free(&ctx, rows);
	pe_tree_free(&u);
	return out;
}

/* Diffs: target widths, colour by change of self share. */
static void
test_diff(void)
{
	PeTree		base,
				target,
				empty;
	char	   *s;
	size_t		len;

	new_tree(&base, "cpu", "nanoseconds");
	new_tree(&target, "cpu", "nanoseconds");
	new_tree(&empty, "cpu", "nanoseconds");
	add(&base, "main;a", 40);
	add(&base, "main;b", 50);
	add(&base, "main;d", 10);
	add(&target, "main;a", 140);
	add(&target, "main;b", 40);
	add(&target, "main;c", 20);
	s = draw_diff(&base, &target, &len);
	CHECK(strstr(s, "<title>Differential flame graph: cpu:nanoseconds, base 100 ns, "
				  "target 200 ns</title>") != NULL);
	/* widths by target (200): a = 700 px, b = 200 px, c = 100 px; d hidden */
	CHECK(strstr(s, "<rect x=\"10.0\" y=\"84\" width=\"699.5\"") != NULL);
	CHECK(strstr(s, "<rect x=\"710.0\" y=\"84\" width=\"199.5\"") != NULL);
	CHECK(strstr(s, "<rect x=\"910.0\" y=\"84\" width=\"99.5\"") != NULL);
	CHECK(strstr(s, "<title>d\n") == NULL);
	/* a: 40% -> 70%, the largest change: full red; b: 50% -> 20%: full blue */
	CHECK(strstr(s, "<title>a\nbase: total 40 ns (40.00%), self 40 ns (40.00%)\n"
				  "target: total 140 ns (70.00%), self 140 ns (70.00%)\n"
				  "self share change: +30.00 points</title>") != NULL);
	CHECK(strcmp(fill_of(s, "a"), "#eb4637") == 0);
	CHECK(strcmp(fill_of(s, "b"), "#4678eb") == 0);
	CHECK(strstr(s, "self share change: -30.00 points") != NULL);
	/* c: 0% -> 10%, a third of the largest change */
	CHECK(strcmp(fill_of(s, "c"), "#e4ada8") == 0);
	CHECK(strcmp(fill_of(s, "main"), "#e1e1e1") == 0);
	CHECK(strstr(s, "full colour at 30.00 points") != NULL);
	pe_free(&ctx, s);

	/* An empty target: laid out by the base. */
	s = draw_diff(&base, &empty, &len);
	CHECK(strstr(s, "width = base (the target is empty)") != NULL);
	CHECK(strstr(s, "<rect x=\"10.0\" y=\"84\" width=\"399.5\"") != NULL);
	CHECK(strstr(s, "<title>d\n") != NULL);
	pe_free(&ctx, s);
	/* Both empty: only the root. */
	s = draw_diff(&empty, &empty, &len);
	CHECK(count(s, "<rect") == 2);
	pe_free(&ctx, s);
	pe_tree_free(&base);
	pe_tree_free(&target);
	pe_tree_free(&empty);
}

/* Bad widths and rows are PE_ERR_ARG. */
static void
test_errors(void)
{
	PeTree		t;
	PeFlameRow	rows[3];
	PeSvgOptions opt = {0};
	char	   *out;
	size_t		len;

	new_tree(&t, "samples", "count");
	memset(rows, 0, sizeof(rows));
	rows[0].name = PE_ROW_TOTAL;
	rows[1].level = 1;
	rows[1].name = PE_ROW_OTHER;
	rows[2].level = 3;
	rows[2].name = 0;
	opt.width = 99;
	memset(&ctx.err, 0, sizeof(ctx.err));
	CHECK(!pe_svg_flame(&ctx, &t, rows, 1, false, &opt, &out, &len) &&
		  ctx.err.code == PE_ERR_ARG && strstr(ctx.err.msg, "width 99") != NULL);
	opt.width = 100001;
	memset(&ctx.err, 0, sizeof(ctx.err));
	CHECK(!pe_svg_flame(&ctx, &t, rows, 1, false, &opt, &out, &len) &&
		  ctx.err.code == PE_ERR_ARG && out == NULL);
	opt.width = 100;
	CHECK_OK(&ctx, pe_svg_flame(&ctx, &t, rows, 2, false, &opt, &out, &len));
	CHECK(xml_ok(out, len));
	pe_free(&ctx, out);
	opt.width = 100000;
	CHECK_OK(&ctx, pe_svg_flame(&ctx, &t, rows, 2, false, &opt, &out, &len));
	pe_free(&ctx, out);
	memset(&ctx.err, 0, sizeof(ctx.err));
	CHECK(!pe_svg_flame(&ctx, &t, rows, 0, false, &opt, &out, &len) &&
		  ctx.err.code == PE_ERR_ARG);
	memset(&ctx.err, 0, sizeof(ctx.err));
	CHECK(!pe_svg_flame(&ctx, &t, rows, 3, false, &opt, &out, &len) &&
		  ctx.err.code == PE_ERR_ARG && strstr(ctx.err.detail, "Row 2 has level 3") != NULL);
	memset(&ctx.err, 0, sizeof(ctx.err));
	CHECK(!pe_svg_flame(&ctx, &t, rows + 1, 1, false, &opt, &out, &len) &&
		  ctx.err.code == PE_ERR_ARG);
	rows[2].level = 2;
	rows[2].name = 12345;
	memset(&ctx.err, 0, sizeof(ctx.err));
	CHECK(!pe_svg_flame(&ctx, &t, rows, 3, false, &opt, &out, &len) &&
		  ctx.err.code == PE_ERR_ARG && strstr(ctx.err.msg, "12345") != NULL);
	pe_tree_free(&t);
}

/* 50,000 frames deep: no recursion, every level drawn, interrupts checked. */
static void
test_deep(void)
{
	PeTree		t;
	uint32_t	node = 0;
	uint32_t	name;
	int64_t		one = 1;
	char	   *s;
	char		want[64];

	new_tree(&t, "samples", "count");
	name = pe_strtab_intern(&t.names, "f", 1);
	for (int i = 0; i < 50000; i++)
		node = pe_tree_child(&t, node, name);
	CHECK_OK(&ctx, pe_tree_add_self(&t, node, &one));
	ctx.check_interrupts = unit_count_interrupt;
	unit_interrupt_calls = 0;
	s = draw(&t, 0, 1200, NULL);
	ctx.check_interrupts = NULL;
	CHECK(unit_interrupt_calls >= 3 * 12);
	CHECK(count(s, "<rect") == 1 + 50001);
	snprintf(want, sizeof(want), "height=\"%d\"", 52 + 50001 * 16 + 8);
	CHECK(strstr(s, want) != NULL);
	pe_free(&ctx, s);
	pe_tree_free(&t);
}

/* Every allocation failing in turn: a clean PE_ERR_NOMEM, no leak. */
static void
test_out_of_memory(void)
{
	PeTree		t;
	PeCtx		failing;
	uint32_t	col = 0;
	PeFlameRow *rows;
	uint32_t	n;
	PeSvgOptions opt = {0};
	char		name[32];
	bool		done = false;

	new_tree(&t, "samples", "count");
	for (int i = 0; i < 2000; i++)
	{
		snprintf(name, sizeof(name), "main;pkg.function_%d", i);
		add(&t, name, i + 1);
	}
	CHECK_OK(&ctx, pe_flame_rows(&t, &col, 1, 0, &rows, &n));
	pe_ctx_init_malloc(&failing);
	opt.width = 1200;
	for (long budget = 0; budget < 100 && !done; budget++)
	{
		char	   *out = NULL;
		size_t		len;

		unit_fail_allocs_after(&failing, budget);
		memset(&failing.err, 0, sizeof(failing.err));
		if (pe_svg_flame(&failing, &t, rows, n, false, &opt, &out, &len))
		{
			CHECK(xml_ok(out, len));
			pe_free(&failing, out);
			done = true;
		}
		else
			CHECK(failing.err.code == PE_ERR_NOMEM && out == NULL);
	}
	CHECK(done);
	pe_free(&ctx, rows);
	pe_tree_free(&t);
}

int
main(void)
{
	pe_ctx_init_malloc(&ctx);
	RUN(test_layout);
	RUN(test_hidden_and_labels);
	RUN(test_short_names);
	RUN(test_escaping);
	RUN(test_units);
	RUN(test_colours);
	RUN(test_diff);
	RUN(test_errors);
	RUN(test_deep);
	RUN(test_out_of_memory);
	return unit_finish("svg");
}
