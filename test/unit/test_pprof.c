/*
 * test_pprof.c
 *		Unit tests of the pprof decoder and of gzip inflation: the real
 *		corpus against go tool pprof's totals, and hand-built profiles for
 *		frame order, naming, validation errors, limits and repairs.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>

#include "pb_builder.h"
#include "pe_pprof.h"
#include "unit.h"

/* ---------------------------------------------------------------------
 * A tracking allocator: catches leaks and measures peak memory.
 * --------------------------------------------------------------------- */

typedef struct Tracker
{
	size_t		live;
	size_t		peak;
	long		fail_after;		/* fail the allocation after this many; <0 never */
} Tracker;

static Tracker tracker;
static PeCtx ctx;

static void *
track_alloc(void *arg, size_t size)
{
	Tracker    *t = arg;
	size_t	   *p;

	if (t->fail_after == 0)
		return NULL;
	if (t->fail_after > 0)
		t->fail_after--;
	p = malloc(size + 16);
	if (p == NULL)
		return NULL;
	p[0] = size;
	t->live += size;
	if (t->live > t->peak)
		t->peak = t->live;
	return (char *) p + 16;
}

static void *
track_realloc(void *arg, void *ptr, size_t size)
{
	Tracker    *t = arg;
	size_t	   *old = (size_t *) ((char *) ptr - 16);
	size_t		oldsize = old[0];
	size_t	   *p;

	if (t->fail_after == 0)
		return NULL;
	if (t->fail_after > 0)
		t->fail_after--;
	p = realloc(old, size + 16);
	if (p == NULL)
		return NULL;
	p[0] = size;
	t->live = t->live - oldsize + size;
	if (t->live > t->peak)
		t->peak = t->live;
	return (char *) p + 16;
}

static void
track_free(void *arg, void *ptr)
{
	Tracker    *t = arg;
	size_t	   *p = (size_t *) ((char *) ptr - 16);

	t->live -= p[0];
	free(p);
}

/* Fresh context with default limits and a zeroed tracker. */
static void
reset_ctx(void)
{
	pe_ctx_init_malloc(&ctx);
	memset(&tracker, 0, sizeof(tracker));
	tracker.fail_after = -1;
	ctx.alloc.alloc = track_alloc;
	ctx.alloc.realloc = track_realloc;
	ctx.alloc.free = track_free;
	ctx.alloc.arg = &tracker;
}

static void
clear_err(void)
{
	memset(&ctx.err, 0, sizeof(ctx.err));
}

/* Function id and a one-line location of the same id, named name. */
static void
b_frame(PbBuilder *b, uint64_t id, const char *name)
{
	pb_func(b, id, name);
	pb_loc(b, id, 0, 0x1000 + id, 1, &id);
}


/* Append a raw string_table entry (any bytes, NULs included) to a packed profile. */
static uint8_t *
append_raw_string(uint8_t *buf, size_t *len, const char *s, size_t slen)
{
	buf = realloc(buf, *len + slen + 12);
	buf[(*len)++] = 0x32;		/* field 6, length-delimited */
	for (size_t v = slen; ; v >>= 7)
	{
		buf[(*len)++] = (uint8_t) ((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		if (v < 0x80)
			break;
	}
	memcpy(buf + *len, s, slen);
	*len += slen;
	return buf;
}

/* gzip data with zlib (one member). */
static uint8_t *
gzip_bytes(const uint8_t *data, size_t len, size_t *outlen)
{
	z_stream	zs;
	size_t		cap = deflateBound(NULL, len) + 64;
	uint8_t    *out = malloc(cap);

	memset(&zs, 0, sizeof(zs));
	CHECK(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	zs.next_in = (Bytef *) data;
	zs.avail_in = (uInt) len;
	zs.next_out = out;
	zs.avail_out = (uInt) cap;
	CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* ---------------------------------------------------------------------
 * Looking at decoded trees.
 * --------------------------------------------------------------------- */

static int
cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The tree as sorted folded lines "a;b;c v0,v1" for every node with a
 * non-zero self value, joined by '\n'.  The caller frees.
 */
static char *
folded(const PeTree *t)
{
	uint32_t	n = t->nnodes;
	char	  **path = calloc(n, sizeof(char *));
	char	  **lines = calloc(n, sizeof(char *));
	size_t		nlines = 0;
	size_t		total = 1;
	char	   *out;

	path[0] = strdup("");
	for (uint32_t i = 1; i < n; i++)
	{
		const char *parent = path[t->parent[i]];
		const char *name = pe_strtab_get(&t->names, t->name[i], NULL);
		size_t		len = strlen(parent) + strlen(name) + 2;

		path[i] = malloc(len);
		snprintf(path[i], len, "%s%s%s", parent, *parent ? ";" : "", name);
	}
	for (uint32_t i = 0; i < n; i++)
	{
		const int64_t *self = t->self + (size_t) i * t->meta.nvalues;
		bool		nonzero = false;
		char		vals[512] = "";
		size_t		o = 0;

		for (uint32_t v = 0; v < t->meta.nvalues; v++)
		{
			nonzero |= self[v] != 0;
			o += snprintf(vals + o, sizeof(vals) - o, "%s%" PRId64, v ? "," : "", self[v]);
		}
		if (!nonzero)
			continue;
		lines[nlines] = malloc(strlen(path[i]) + o + 2);
		sprintf(lines[nlines], "%s %s", path[i], vals);
		total += strlen(lines[nlines]) + 1;
		nlines++;
	}
	qsort(lines, nlines, sizeof(char *), cmp_lines);
	out = malloc(total);
	out[0] = '\0';
	for (size_t i = 0; i < nlines; i++)
	{
		if (i)
			strcat(out, "\n");
		strcat(out, lines[i]);
		free(lines[i]);
	}
	for (uint32_t i = 0; i < n; i++)
		free(path[i]);
	free(path);
	free(lines);
	return out;
}

/* Decode and compare with the expected folded text. */
static void
expect_folded(const uint8_t *data, size_t len, const char *want)
{
	PeTree		t;

	clear_err();
	if (!pe_pprof_decode(&ctx, data, len, &t))
	{
		unit_failed_checks++;
		fprintf(stderr, "%s: decode failed: %s (%s)\n", unit_current, ctx.err.msg, ctx.err.detail);
		return;
	}
	{
		char	   *got = folded(&t);

		if (strcmp(got, want) != 0)
		{
			unit_failed_checks++;
			fprintf(stderr, "%s: tree mismatch\n--- got:\n%s\n--- want:\n%s\n",
					unit_current, got, want);
		}
		free(got);
	}
	pe_tree_free(&t);
	CHECK(tracker.live == 0);
}

/* Decode, expecting failure with code and a message containing text. */
static void
expect_error(const uint8_t *data, size_t len, PeErrCode code, const char *text)
{
	PeTree		t;

	clear_err();
	if (pe_pprof_decode(&ctx, data, len, &t))
	{
		unit_failed_checks++;
		fprintf(stderr, "%s: decode succeeded, expected error \"%s\"\n", unit_current, text);
		pe_tree_free(&t);
		return;
	}
	if (ctx.err.code != code || strstr(ctx.err.msg, text) == NULL)
	{
		unit_failed_checks++;
		fprintf(stderr, "%s: wrong error: code %d \"%s\", expected code %d with \"%s\"\n",
				unit_current, ctx.err.code, ctx.err.msg, code, text);
	}
	CHECK(t.ctx == NULL && t.nnodes == 0);
	CHECK(tracker.live == 0);
}

static void
expect_built_error(PbBuilder *b, PeErrCode code, const char *text)
{
	size_t		len;
	uint8_t    *buf = pb_pack(b, &len);

	expect_error(buf, len, code, text);
	free(buf);
	pb_free(b);
}

static void
expect_built(PbBuilder *b, const char *want)
{
	size_t		len;
	uint8_t    *buf = pb_pack(b, &len);

	expect_folded(buf, len, want);
	free(buf);
	pb_free(b);
}

/* ---------------------------------------------------------------------
 * Frame order and naming.
 * --------------------------------------------------------------------- */

static void
test_leaf_first(void)
{
	PbBuilder	b;
	uint64_t	s1[] = {3, 2, 1};
	uint64_t	s2[] = {4, 2, 1};
	uint64_t	s3[] = {1};
	int64_t		v1[] = {1, 10};
	int64_t		v2[] = {2, 20};
	int64_t		v3[] = {-4, 0};	/* negative values come from pprof diffs */

	reset_ctx();
	pb_init_types(&b, "samples/count,cpu/nanoseconds");
	b_frame(&b, 1, "main");
	b_frame(&b, 2, "run");
	b_frame(&b, 3, "work");
	b_frame(&b, 4, "sleep");
	pb_sample(&b, 3, s1, 2, v1);
	pb_sample(&b, 3, s2, 2, v2);
	pb_sample(&b, 3, s1, 2, v1);
	pb_sample(&b, 1, s3, 2, v3);
	expect_built(&b, "main -4,0\nmain;run;sleep 2,20\nmain;run;work 2,20");
}

static void
test_inlined_lines(void)
{
	PbBuilder	b;
	uint64_t	inl[] = {3, 2};		/* line[0] innermost: inlined into outer */
	uint64_t	deep[] = {5, 4, 3};
	uint64_t	m = 1;
	uint64_t	s1[] = {10, 20};
	uint64_t	s2[] = {30, 10, 20};
	int64_t		v[] = {7};

	reset_ctx();
	pb_init_types(&b, "samples/count");
	pb_func(&b, 1, "main");
	pb_func(&b, 2, "outer");
	pb_func(&b, 3, "inlined");
	pb_func(&b, 4, "b");
	pb_func(&b, 5, "a");
	pb_loc(&b, 10, 0, 0x10, 2, inl);
	pb_loc(&b, 20, 0, 0x20, 1, &m);
	pb_loc(&b, 30, 0, 0x30, 3, deep);
	pb_sample(&b, 2, s1, 1, v);
	pb_sample(&b, 3, s2, 1, v);
	expect_built(&b, "main;outer;inlined 7\nmain;outer;inlined;inlined;b;a 7");
}

/* A profile counting samples, with frames main, run, work, sleep, io (n of them) at locations 10, 20... */
static void
shared_stacks_frames(PbBuilder *b, int n)
{
	static const char *const names[] = {"main", "run", "work", "sleep", "io"};

	reset_ctx();
	pb_init_types(b, "samples/count");
	for (int i = 0; i < n; i++)
	{
		uint64_t	fid = i + 1;

		pb_func(b, fid, names[i]);
		pb_loc(b, 10 * fid, 0, 0x10 * fid, 1, &fid);
	}
}

/*
 * Consecutive stacks that share root-most locations: the decoder compares
 * them with the last stack walked instead of looking their nodes up again.
 * Shorter, longer and diverging stacks, a skipped zero sample, inlined
 * lines, a stack long enough to resize the scratch arrays, and split
 * series (another tree: nothing shared across).
 */
static void
test_shared_stacks(void)
{
	PbBuilder	b;
	uint64_t	inl[] = {3, 2};
	uint64_t	s1[] = {30, 20, 10};	/* main;run;work */
	uint64_t	s2[] = {40, 20, 10};	/* main;run;sleep */
	uint64_t	s3[] = {20, 10};	/* main;run */
	uint64_t	s4[] = {50, 40, 20, 10};	/* main;run;sleep;io */
	uint64_t	s5[] = {50, 10};	/* main;io */
	uint64_t	s6[] = {60, 10};	/* main;run;work (inlined) */
	uint64_t	s7[] = {40, 60, 10};	/* main;run;work;sleep */
	uint64_t	s8[] = {10, 30};	/* work;main */
	uint64_t	deep[100];
	int64_t		one[] = {1};
	int64_t		zero[] = {0};
	char		want_deep[1024] = "";
	char		want[2048];
	size_t		len;
	uint8_t    *pb;
	PeSplitOptions opt = {NULL, 0, 0};
	PeSplit		split;

	shared_stacks_frames(&b, 5);
	pb_loc(&b, 60, 0, 0x60, 2, inl);
	for (int i = 0; i < 99; i++)
		deep[i] = 20;
	deep[99] = 10;
	pb_sample(&b, 3, s1, 1, one);
	pb_sample(&b, 3, s2, 1, one);
	pb_sample(&b, 2, s3, 1, one);
	pb_sample(&b, 4, s4, 1, one);
	pb_sample(&b, 2, s5, 1, zero);
	pb_sample(&b, 3, s2, 1, one);
	pb_sample(&b, 2, s6, 1, one);
	pb_sample(&b, 3, s7, 1, one);
	pb_sample(&b, 2, s8, 1, one);
	pb_sample(&b, 100, deep, 1, one);
	pb_sample(&b, 3, s1, 1, one);
	pb_sample(&b, 100, deep, 1, one);
	strcat(want_deep, "main");
	for (int i = 0; i < 99; i++)
		strcat(want_deep, ";run");
	snprintf(want, sizeof(want), "main;run 1\n%s 2\nmain;run;sleep 2\nmain;run;sleep;io 1\n"
			 "main;run;work 3\nmain;run;work;sleep 1\nwork;main 1", want_deep);
	expect_built(&b, want);

	/* Split: stacks alternate between two series, whose nodes differ. */
	shared_stacks_frames(&b, 4);
	pb_label(pb_sample(&b, 3, s1, 1, one), pb_str(&b, "series"), pb_str(&b, "a"));
	pb_label(pb_sample(&b, 2, s8, 1, one), pb_str(&b, "series"), pb_str(&b, "b"));
	pb_label(pb_sample(&b, 3, s1, 1, one), pb_str(&b, "series"), pb_str(&b, "a"));
	pb_label(pb_sample(&b, 3, s2, 1, one), pb_str(&b, "series"), pb_str(&b, "b"));
	pb_label(pb_sample(&b, 3, s2, 1, one), pb_str(&b, "series"), pb_str(&b, "a"));
	pb = pb_pack(&b, &len);
	pb_free(&b);
	clear_err();
	CHECK_OK(&ctx, pe_pprof_decode_split(&ctx, pb, len, &opt, &split));
	CHECK(split.nseries == 2);
	if (split.nseries == 2)
	{
		char	   *a = folded(&split.series[0].tree);
		char	   *c = folded(&split.series[1].tree);

		CHECK(strcmp(split.series[0].values[0], "a") == 0);
		CHECK(strcmp(a, "main;run;sleep 1\nmain;run;work 2") == 0);
		CHECK(strcmp(c, "main;run;sleep 1\nwork;main 1") == 0);
		free(a);
		free(c);
	}
	pe_split_free(&ctx, &split);
	CHECK(tracker.live == 0);
	free(pb);
}

static void
test_address_names(void)
{
	PbBuilder	b;
	uint64_t	nofn = 0;		/* function id 0, and no function has id 0 */
	uint64_t	empty = 2;
	uint64_t	s1[] = {10, 1};
	uint64_t	s2[] = {11, 1};
	uint64_t	s3[] = {12, 13, 1};
	int64_t		v[] = {1};

	reset_ctx();
	pb_init_types(&b, "samples/count");
	b_frame(&b, 1, "main");
	pb_func(&b, 2, "");
	pb_loc(&b, 10, 0, 0x1F2E, 0, NULL);
	pb_loc(&b, 11, 0, 0xABCDEF0123456789ULL, 1, &nofn);
	pb_loc(&b, 12, 0, 0, 0, NULL);
	pb_loc(&b, 13, 0, 0x77, 1, &empty);
	pb_sample(&b, 2, s1, 1, v);
	pb_sample(&b, 2, s2, 1, v);
	pb_sample(&b, 3, s3, 1, v);
	expect_built(&b, "main;0x1f2e 1\nmain;0x77;0x0 1\nmain;0xabcdef0123456789 1");
}

/* Function and location id 0 are accepted when unique (a .NET profiler). */
static void
test_zero_ids(void)
{
	PbBuilder	b;
	uint64_t	zero = 0;
	uint64_t	s1[] = {0, 5};
	int64_t		v[] = {3};

	reset_ctx();
	pb_init_types(&b, "samples/count");
	pb_func(&b, 0, "zero");
	pb_loc(&b, 0, 0, 0x1, 1, &zero);
	b_frame(&b, 5, "main");
	pb_sample(&b, 2, s1, 1, v);
	expect_built(&b, "main;zero 3");

	pb_init_types(&b, "samples/count");
	pb_func(&b, 0, "zero");
	pb_func(&b, 0, "again");
	pb_loc(&b, 1, 0, 0x1, 0, NULL);
	expect_built_error(&b, PE_ERR_PPROF, "duplicate function id 0");
}

/*
 * The .NET profiler's files: every function id is 0, one function per
 * location, lines name the location ids.  Function i takes location i's id.
 */
static void
test_dotnet_function_ids(void)
{
	PbBuilder	b;
	uint64_t	f10 = 10,
				f20 = 20,
				f30 = 30;
	uint64_t	s1[] = {30, 20, 10};
	uint64_t	s2[] = {20, 10};
	int64_t		v[] = {4};

	reset_ctx();
	pb_init_types(&b, "cpu/nanoseconds");
	pb_func(&b, 0, "Main");
	pb_func(&b, 0, "Get");
	pb_func(&b, 0, "fib");
	pb_loc(&b, 10, 0, 0, 1, &f10);
	pb_loc(&b, 20, 0, 0, 1, &f20);
	pb_loc(&b, 30, 0, 0, 1, &f30);
	pb_sample(&b, 3, s1, 1, v);
	pb_sample(&b, 2, s2, 1, v);
	expect_built(&b, "Main;Get 4\nMain;Get;fib 4");

	/* not one function per location: the ids stay ambiguous */
	pb_init_types(&b, "cpu/nanoseconds");
	pb_func(&b, 0, "Main");
	pb_func(&b, 0, "Get");
	pb_loc(&b, 10, 0, 0, 1, &f10);
	expect_built_error(&b, PE_ERR_PPROF, "duplicate function id 0");

	/* a line naming an id no location has still fails */
	pb_init_types(&b, "cpu/nanoseconds");
	pb_func(&b, 0, "Main");
	pb_func(&b, 0, "Get");
	pb_loc(&b, 10, 0, 0, 1, &f10);
	pb_loc(&b, 20, 0, 0, 1, &f30);
	expect_built_error(&b, PE_ERR_PPROF, "location 20 refers to missing function 30");
}

/* Ids far apart go through the hashed id map. */
static void
test_sparse_ids(void)
{
	PbBuilder	b;
	uint64_t	big = UINT64_C(1) << 60;
	uint64_t	s1[] = {UINT64_MAX, big + 2, big + 1};
	uint64_t	f = UINT64_MAX - 1;
	int64_t		v[] = {9};
	char		name[16];

	reset_ctx();
	pb_init_types(&b, "samples/count");
	for (int i = 1; i <= 3000; i++)
	{
		snprintf(name, sizeof(name), "f%d", i);
		b_frame(&b, big + i, name);
	}
	pb_func(&b, f, "top");
	pb_loc(&b, UINT64_MAX, 0, 0, 1, &f);
	pb_sample(&b, 3, s1, 1, v);
	expect_built(&b, "f1;f2;top 9");
}

static void
test_zero_samples_skipped(void)
{
	PbBuilder	b;
	uint64_t	s1[] = {1};
	uint64_t	s2[] = {2, 1};
	uint64_t	bad[] = {99};
	int64_t		zero[] = {0, 0};
	int64_t		v[] = {0, 5};
	PeTree		t;
	uint8_t    *buf;
	size_t		len;

	reset_ctx();
	pb_init_types(&b, "samples/count,cpu/nanoseconds");
	b_frame(&b, 1, "main");
	b_frame(&b, 2, "idle");
	pb_sample(&b, 2, s2, 2, zero);
	pb_sample(&b, 1, s1, 2, v);
	buf = pb_pack(&b, &len);
	CHECK_OK(&ctx, pe_pprof_decode(&ctx, buf, len, &t));
	CHECK(t.nnodes == 2);		/* root and main: the zero sample adds nothing */
	pe_tree_free(&t);
	free(buf);

	/* ... but zero samples are still validated */
	pb_sample(&b, 1, bad, 2, zero);
	expect_built_error(&b, PE_ERR_PPROF, "sample 2 refers to missing location 99");
}

static void
test_header(void)
{
	PbBuilder	b;
	PeTree		t;
	uint8_t    *buf;
	size_t		len;

	reset_ctx();
	pb_init_types(&b, "alloc_objects/count,alloc_space/bytes,inuse_objects/count,inuse_space/bytes");
	pb_period(&b, "space", "bytes", 524288);
	b.p.time_nanos = 1700000000000000000;
	b.p.duration_nanos = 10000000000;
	b.p.default_sample_type = pb_str(&b, "inuse_space");
	buf = pb_pack(&b, &len);
	CHECK_OK(&ctx, pe_pprof_decode(&ctx, buf, len, &t));
	CHECK(t.meta.nvalues == 4);
	CHECK(strcmp(t.meta.types[1].type, "alloc_space") == 0);
	CHECK(strcmp(t.meta.types[1].unit, "bytes") == 0);
	CHECK(strcmp(t.meta.period_type.type, "space") == 0);
	CHECK(strcmp(t.meta.period_type.unit, "bytes") == 0);
	CHECK(t.meta.period == 524288);
	CHECK(t.meta.time_nanos == 1700000000000000000);
	CHECK(t.meta.duration_nanos == 10000000000);
	CHECK(t.meta.default_type == 3);
	CHECK(t.nnodes == 1);
	pe_tree_free(&t);
	free(buf);

	/* a default naming no sample type, and no period type at all */
	b.p.default_sample_type = pb_str(&b, "nothing");
	b.p.period_type = NULL;
	buf = pb_pack(&b, &len);
	CHECK_OK(&ctx, pe_pprof_decode(&ctx, buf, len, &t));
	CHECK(t.meta.default_type == -1);
	CHECK(strcmp(t.meta.period_type.type, "") == 0);
	CHECK(strcmp(t.meta.period_type.unit, "") == 0);
	pe_tree_free(&t);
	free(buf);

	/* negative duration */
	b.p.duration_nanos = -1;
	expect_built_error(&b, PE_ERR_PPROF, "negative duration_nanos");
	CHECK(tracker.live == 0);
}

/* ---------------------------------------------------------------------
 * Validation errors.
 * --------------------------------------------------------------------- */

static void
test_value_count(void)
{
	PbBuilder	b;
	uint64_t	s1[] = {1};
	int64_t		v[] = {1, 2, 3};

	reset_ctx();
	pb_init_types(&b, "samples/count,cpu/nanoseconds");
	b_frame(&b, 1, "main");
	pb_sample(&b, 1, s1, 2, v);
	pb_sample(&b, 1, s1, 2, v);
	pb_sample(&b, 1, s1, 2, v);
	pb_sample(&b, 1, s1, 1, v);
	expect_built_error(&b, PE_ERR_PPROF,
					   "invalid pprof: sample 3 has 1 values, expected 2 (one per sample type)");

	pb_init_types(&b, "samples/count");
	b_frame(&b, 1, "main");
	pb_sample(&b, 1, s1, 3, v);
	expect_built_error(&b, PE_ERR_PPROF, "sample 0 has 3 values, expected 1");

	/* samples without sample types */
	pb_init_types(&b, "");
	b_frame(&b, 1, "main");
	pb_sample(&b, 1, s1, 0, v);
	expect_built_error(&b, PE_ERR_PPROF, "profile has samples but no sample types");
}

static void
test_missing_references(void)
{
	PbBuilder	b;
	uint64_t	s1[] = {1};
	uint64_t	s2[] = {77, 1};
	uint64_t	f9 = 9;
	int64_t		v[] = {1};

	reset_ctx();
	pb_init_types(&b, "samples/count");
	b_frame(&b, 1, "main");
	for (int i = 0; i < 12; i++)
		pb_sample(&b, 1, s1, 1, v);
	pb_sample(&b, 2, s2, 1, v);
	expect_built_error(&b, PE_ERR_PPROF, "invalid pprof: sample 12 refers to missing location 77");

	pb_init_types(&b, "samples/count");
	b_frame(&b, 1, "main");
	pb_loc(&b, 2, 0, 0x2, 1, &f9);
	expect_built_error(&b, PE_ERR_PPROF, "location 2 refers to missing function 9");
}

static void
test_duplicate_ids(void)
{
	PbBuilder	b;

	reset_ctx();
	pb_init_types(&b, "samples/count");
	b_frame(&b, 7, "a");
	pb_loc(&b, 7, 0, 0x99, 0, NULL);
	expect_built_error(&b, PE_ERR_PPROF, "invalid pprof: duplicate location id 7");

	pb_init_types(&b, "samples/count");
	b_frame(&b, 7, "a");
	pb_func(&b, 7, "b");
	expect_built_error(&b, PE_ERR_PPROF, "invalid pprof: duplicate function id 7");

	pb_init_types(&b, "samples/count");
	pb_mapping(&b, 1);
	pb_mapping(&b, 2);
	pb_mapping(&b, 1);
	expect_built_error(&b, PE_ERR_PPROF, "invalid pprof: duplicate mapping id 1");

	/* hashed id map */
	pb_init_types(&b, "samples/count");
	pb_func(&b, UINT64_C(1) << 50, "x");
	pb_func(&b, 3, "y");
	pb_func(&b, UINT64_C(1) << 50, "z");
	expect_built_error(&b, PE_ERR_PPROF, "duplicate function id 1125899906842624");
}

static void
test_string_indexes(void)
{
	PbBuilder	b;
	uint64_t	s1[] = {1};
	int64_t		v[] = {1};
	PbSample   *s;

	reset_ctx();
	pb_init_types(&b, "samples/count");
	b_frame(&b, 1, "main");
	b.p.function[0]->name = 99;
	expect_built_error(&b, PE_ERR_PPROF,
					   "invalid pprof: name of function 1 refers to string 99, outside the string table");

	pb_init_types(&b, "samples/count");
	b_frame(&b, 1, "main");
	b.p.function[0]->filename = -1;
	expect_built_error(&b, PE_ERR_PPROF, "filename of function 1 refers to string -1");

	pb_init_types(&b, "samples/count,cpu/nanoseconds");
	b.p.sample_type[1]->unit = 40;
	expect_built_error(&b, PE_ERR_PPROF, "unit of sample type 1 refers to string 40");

	pb_init_types(&b, "samples/count");
	b.p.default_sample_type = 5;
	expect_built_error(&b, PE_ERR_PPROF, "default_sample_type refers to string 5");

	pb_init_types(&b, "samples/count");
	pb_mapping(&b, 4)->build_id = 1000;
	expect_built_error(&b, PE_ERR_PPROF, "build_id of mapping 4 refers to string 1000");

	pb_init_types(&b, "samples/count");
	b.p.n_comment = 1;
	b.p.comment = malloc(sizeof(int64_t));
	b.p.comment[0] = 3;
	expect_built_error(&b, PE_ERR_PPROF, "comment 0 refers to string 3");

	pb_init_types(&b, "samples/count");
	b_frame(&b, 1, "main");
	s = pb_sample(&b, 1, s1, 1, v);
	pb_label(s, pb_str(&b, "thread"), 12345);
	expect_built_error(&b, PE_ERR_PPROF, "value of label 0 of sample 0 refers to string 12345");
}

static void
test_string_table_zero(void)
{
	PbBuilder	b;

	reset_ctx();
	pb_init_types(&b, "samples/count");
	free(b.p.string_table[0]);
	b.p.string_table[0] = strdup("oops");
	expect_built_error(&b, PE_ERR_PPROF, "invalid pprof: string_table[0] is not empty");

	/* no string table at all (pprof refuses it too) */
	pb_init_types(&b, "");
	free(b.p.string_table[0]);
	b.p.n_string_table = 0;
	b.p.time_nanos = 1;			/* not empty input */
	expect_built_error(&b, PE_ERR_PPROF, "invalid pprof: string table is empty");

	/* just the string table: no sample types, refused (nothing to store) */
	pb_init_types(&b, "");
	expect_built_error(&b, PE_ERR_PPROF, "invalid pprof: profile has no sample types");

	/* the smallest valid profile: one sample type, no samples */
	pb_init_types(&b, "samples/count");
	expect_built(&b, "");
}

static void
test_not_pprof(void)
{
	const uint8_t garbage[] = "this is not a protocol buffer\xff\xff\xff\xff";
	const uint8_t truncated[] = {0x0a, 0x10, 0x08};	/* length past the end */

	reset_ctx();
	expect_error(garbage, 0, PE_ERR_PPROF, "invalid pprof: empty input");
	expect_error(garbage, sizeof(garbage) - 1, PE_ERR_PPROF, "invalid pprof: not a profile.proto message");
	expect_error(truncated, sizeof(truncated), PE_ERR_PPROF, "invalid pprof: not a profile.proto message");
}

/* ---------------------------------------------------------------------
 * Wire rules: hand-made messages (what protobuf-c's unpack accepted and
 * refused, which the wire reader keeps).
 * --------------------------------------------------------------------- */

typedef struct Wire
{
	uint8_t		b[1024];
	size_t		n;
} Wire;

static void
w_varint(Wire *w, uint64_t v)
{
	do
	{
		w->b[w->n++] = (uint8_t) ((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void
w_raw(Wire *w, const char *bytes, size_t n)
{
	memcpy(w->b + w->n, bytes, n);
	w->n += n;
}

static void
w_int(Wire *w, uint32_t field, uint64_t v)
{
	w_varint(w, (uint64_t) field << 3);
	w_varint(w, v);
}

static void
w_bytes(Wire *w, uint32_t field, const void *data, size_t n)
{
	w_varint(w, (uint64_t) field << 3 | 2);
	w_varint(w, n);
	w_raw(w, data, n);
}

static void
w_msg(Wire *w, uint32_t field, const Wire *m)
{
	w_bytes(w, field, m->b, m->n);
}

/*
 * A profile with one sample "main 5" (samples:count); sample holds the
 * sample message's fields, extra more top-level bytes.
 */
static Wire
wire_profile(const Wire *sample, const Wire *extra)
{
	const char *strings[] = {"", "samples", "count", "main", "cpu", "nanoseconds"};
	Wire		w = {.n = 0};
	Wire		m = {.n = 0};
	Wire		line = {.n = 0};

	w_int(&m, 1, 1);
	w_int(&m, 2, 2);
	w_msg(&w, 1, &m);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		w_bytes(&w, 6, strings[i], strlen(strings[i]));
	m.n = 0;
	w_int(&m, 1, 7);
	w_int(&m, 2, 3);
	w_msg(&w, 5, &m);
	m.n = 0;
	w_int(&line, 1, 7);
	w_int(&m, 1, 9);
	w_msg(&m, 4, &line);
	w_msg(&w, 4, &m);
	w_msg(&w, 2, sample);
	if (extra)
		w_raw(&w, (const char *) extra->b, extra->n);
	return w;
}

static void
expect_wire_at(int line, const Wire *sample, const Wire *extra, bool ok)
{
	Wire		w = wire_profile(sample, extra);
	int			failed = unit_failed_checks;

	if (ok)
		expect_folded(w.b, w.n, "main 5");
	else
		expect_error(w.b, w.n, PE_ERR_PPROF, "invalid pprof: not a profile.proto message");
	if (unit_failed_checks != failed)
		fprintf(stderr, "  (the message of line %d)\n", line);
}

#define expect_wire(sample, extra, ok) expect_wire_at(__LINE__, sample, extra, ok)

static void
test_wire_rules(void)
{
	Wire		s = {.n = 0};
	Wire		x = {.n = 0};
	PeTree		t;

	reset_ctx();
	/* one value per field, packed, and both mixed */
	w_int(&s, 1, 9);
	w_int(&s, 2, 5);
	expect_wire(&s, NULL, true);
	s.n = 0;
	w_bytes(&s, 1, "\x09", 1);
	w_bytes(&s, 2, "\x05", 1);
	expect_wire(&s, NULL, true);
	s.n = 0;
	w_bytes(&s, 1, "", 0);
	w_int(&s, 1, 9);
	w_bytes(&s, 2, "\x85\x80\x80\x80\x80\x80\x80\x80\x80\x00", 10);	/* 10 bytes */
	expect_wire(&s, NULL, true);

	/* unknown fields of every wire type but groups are skipped */
	x.n = 0;
	w_int(&x, 99, 12345);
	w_raw(&x, "\xa1\x06" "12345678", 10);	/* field 100, 8 bytes */
	w_raw(&x, "\xad\x06" "1234", 6);	/* field 101, 4 bytes */
	w_bytes(&x, 102, "\xff\xff", 2);
	expect_wire(&s, &x, true);
	s.n = 0;
	w_int(&s, 1, 9);
	w_raw(&s, "\x28\x01\x31" "abcdefgh" "\x3d" "abcd", 16);	/* 5 varint, 6 fixed64, 7 fixed32 */
	w_int(&s, 2, 5);
	expect_wire(&s, NULL, true);

	/* groups and wire types 6 and 7 are refused, even in unknown fields */
	for (int wt = 3; wt <= 7; wt++)
	{
		char		key[2] = {(char) (15 << 3 | wt), 0};

		if (wt == 5)
			continue;
		x.n = 0;
		w_raw(&x, key, 1);
		w_raw(&x, "\x00\x00\x00\x00\x00\x00\x00\x00", 8);
		expect_wire(&s, &x, false);
	}

	/* a known field with its type's wrong wire type */
	x.n = 0;
	w_int(&x, 2, 1);			/* sample as a varint */
	expect_wire(&s, &x, false);
	x.n = 0;
	w_bytes(&x, 9, "\x01", 1);	/* time_nanos length-delimited */
	expect_wire(&s, &x, false);
	s.n = 0;
	w_raw(&s, "\x09" "12345678", 9);	/* location_id as fixed64 */
	expect_wire(&s, NULL, false);
	s.n = 0;
	w_int(&s, 1, 9);
	w_int(&s, 2, 5);
	w_bytes(&s, 3, "\x0a\x00", 2);	/* label key length-delimited */
	expect_wire(&s, NULL, false);

	/* ...but bool fields take any (Mapping.has_functions as fixed32) */
	x.n = 0;
	w_bytes(&x, 3, "\x08\x01\x3d\x01\x00\x00\x00", 7);
	expect_wire(&s, &x, false);	/* the sample above is still broken */
	s.n = 0;
	w_int(&s, 1, 9);
	w_int(&s, 2, 5);
	expect_wire(&s, &x, true);

	/* varints: 11 bytes, a key of 6 bytes, packed ending inside a varint */
	s.n = 0;
	w_int(&s, 1, 9);
	w_bytes(&s, 2, "\x85\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11);
	expect_wire(&s, NULL, false);
	s.n = 0;
	w_int(&s, 1, 9);
	w_int(&s, 2, 5);
	x.n = 0;
	w_raw(&x, "\xf8\x8c\x80\x80\x80\x00\x01", 7);
	expect_wire(&s, &x, false);
	x.n = 0;
	w_raw(&x, "\xf8\x8c\x80\x80\x00\x01", 6);	/* a 5-byte key (field 207) */
	expect_wire(&s, &x, true);
	s.n = 0;
	w_int(&s, 1, 9);
	w_bytes(&s, 2, "\x05\x85", 2);
	expect_wire(&s, NULL, false);
	/* lengths: 6 bytes, or past the end of the enclosing message */
	s.n = 0;
	w_int(&s, 1, 9);
	w_int(&s, 2, 5);
	x.n = 0;
	w_raw(&x, "\xa2\x06\x81\x80\x80\x80\x80\x00", 8);
	expect_wire(&s, &x, false);
	x.n = 0;
	w_raw(&x, "\xa2\x06\x05\x00", 4);
	expect_wire(&s, &x, false);
	x.n = 0;
	w_raw(&x, "\xa2\x06\x80\x80\x80\x80\x08", 7);	/* 2^31 */
	expect_wire(&s, &x, false);

	/* scalars given twice: the last wins; period_type twice: merged */
	x.n = 0;
	w_int(&x, 12, 10);
	w_bytes(&x, 11, "\x08\x04\x10\x02", 4);	/* cpu:count */
	w_int(&x, 12, 20);
	w_bytes(&x, 11, "\x10\x05", 2);	/* unit nanoseconds */
	{
		Wire		w = wire_profile(&s, &x);

		clear_err();
		CHECK_OK(&ctx, pe_pprof_decode(&ctx, w.b, w.n, &t));
		CHECK(t.meta.period == 20);
		CHECK(strcmp(t.meta.period_type.type, "cpu") == 0);
		CHECK(strcmp(t.meta.period_type.unit, "nanoseconds") == 0);
		pe_tree_free(&t);
	}
	CHECK(tracker.live == 0);
}

/* ---------------------------------------------------------------------
 * gzip.
 * --------------------------------------------------------------------- */

static uint8_t *
small_profile(size_t *len)
{
	PbBuilder	b;
	uint64_t	s1[] = {2, 1};
	int64_t		v[] = {5};
	uint8_t    *buf;

	pb_init_types(&b, "samples/count");
	b_frame(&b, 1, "main");
	b_frame(&b, 2, "work");
	pb_sample(&b, 2, s1, 1, v);
	buf = pb_pack(&b, len);
	pb_free(&b);
	return buf;
}

static void
test_gzip(void)
{
	size_t		plen,
				glen,
				outlen;
	uint8_t    *plain = small_profile(&plen);
	uint8_t    *gz = gzip_bytes(plain, plen, &glen);
	uint8_t    *two;
	uint8_t    *out;

	reset_ctx();
	CHECK(pe_is_gzip(gz, glen));
	CHECK(!pe_is_gzip(plain, plen));
	CHECK(!pe_is_gzip(gz, 1));
	expect_folded(gz, glen, "main;work 5");

	/* two members concatenated inflate to both payloads */
	two = malloc(glen * 2);
	memcpy(two, gz, glen);
	memcpy(two + glen, gz, glen);
	CHECK_OK(&ctx, pe_gunzip(&ctx, two, glen * 2, &out, &outlen));
	CHECK(outlen == plen * 2 && memcmp(out, plain, plen) == 0 &&
		  memcmp(out + plen, plain, plen) == 0);
	pe_free(&ctx, out);

	/* junk after the member */
	memcpy(two + glen, "\0\0junk", 6);
	clear_err();
	CHECK(!pe_gunzip(&ctx, two, glen + 6, &out, &outlen));
	CHECK(ctx.err.code == PE_ERR_PPROF && strstr(ctx.err.msg, "unexpected data after gzip member"));
	free(two);
	CHECK(tracker.live == 0);

	/* not gzip */
	clear_err();
	CHECK(!pe_gunzip(&ctx, plain, plen, &out, &outlen));
	CHECK(ctx.err.code == PE_ERR_PPROF);
	free(plain);
	free(gz);
}

static void
test_gzip_truncated(void)
{
	size_t		plen,
				glen;
	uint8_t    *plain = small_profile(&plen);
	uint8_t    *gz = gzip_bytes(plain, plen, &glen);

	reset_ctx();
	/* every proper prefix that still looks like gzip is refused */
	for (size_t cut = 2; cut < glen; cut++)
		expect_error(gz, cut, PE_ERR_PPROF, "invalid pprof: ");
	expect_error(gz, glen - 3, PE_ERR_PPROF, "invalid pprof: truncated gzip data");

	/* a flipped bit in the CRC */
	gz[glen - 6] ^= 0x01;
	expect_error(gz, glen, PE_ERR_PPROF, "invalid pprof: corrupt gzip data: incorrect data check");
	gz[glen - 6] ^= 0x01;
	/* a bad block type right after the 10-byte header */
	gz[10] |= 0x06;
	expect_error(gz, glen, PE_ERR_PPROF, "invalid pprof: corrupt gzip data");
	free(plain);
	free(gz);

	/* a header CRC (flag FHCRC) is checked: a right one passes, a wrong one is refused */
	plain = small_profile(&plen);
	gz = gzip_bytes(plain, plen, &glen);
	{
		uint8_t    *h = malloc(glen + 2);
		uint32_t	hcrc;

		memcpy(h, gz, 10);
		h[3] |= 0x02;
		hcrc = (uint32_t) crc32(0, h, 10);
		h[10] = (uint8_t) hcrc;
		h[11] = (uint8_t) (hcrc >> 8);
		memcpy(h + 12, gz + 10, glen - 10);
		expect_folded(h, glen + 2, "main;work 5");
		h[10] ^= 0x01;
		expect_error(h, glen + 2, PE_ERR_PPROF, "invalid pprof: corrupt gzip data: header crc mismatch");
		free(h);
	}
	free(plain);
	free(gz);
}

/*
 * The output size guessed from the gzip trailer (ISIZE) is only a hint:
 * members of different sizes, a forged ISIZE either way, members that
 * together pass the limit while each stays under it.
 */
static void
test_gzip_sizes(void)
{
	size_t		big_len = 300 * 1024;
	uint8_t    *big = malloc(big_len);
	size_t		plen,
				glen,
				blen,
				outlen;
	uint8_t    *plain = small_profile(&plen);
	uint8_t    *gz = gzip_bytes(plain, plen, &glen);
	uint8_t    *bgz;
	uint8_t    *cat;
	uint8_t    *out;

	for (size_t i = 0; i < big_len; i++)
		big[i] = (uint8_t) (i * 7 + i / 1000);
	bgz = gzip_bytes(big, big_len, &blen);
	reset_ctx();

	/* a large member, then a small one whose ISIZE is the only hint */
	cat = malloc(blen + glen);
	memcpy(cat, bgz, blen);
	memcpy(cat + blen, gz, glen);
	CHECK_OK(&ctx, pe_gunzip(&ctx, cat, blen + glen, &out, &outlen));
	CHECK(outlen == big_len + plen && memcmp(out, big, big_len) == 0 &&
		  memcmp(out + big_len, plain, plen) == 0);
	pe_free(&ctx, out);

	/* each member under the limit, both together over it */
	ctx.limits.max_decoded_bytes = big_len + plen - 1;
	clear_err();
	CHECK(!pe_gunzip(&ctx, cat, blen + glen, &out, &outlen));
	CHECK(ctx.err.code == PE_ERR_LIMIT_SIZE);
	ctx.limits.max_decoded_bytes = big_len + plen;
	clear_err();
	CHECK_OK(&ctx, pe_gunzip(&ctx, cat, blen + glen, &out, &outlen));
	CHECK(outlen == big_len + plen);
	pe_free(&ctx, out);
	ctx.limits.max_decoded_bytes = PE_DEFAULT_MAX_DECODED_BYTES;

	/*
	 * A forged ISIZE makes the CRC/size check fail (libdeflate and zlib
	 * both check it), whatever size it claims; the buffer it asks for is
	 * capped, so a tiny input cannot make a large allocation.
	 */
	memcpy(cat, bgz, blen);
	cat[blen - 4] = 0x10;		/* claims 16 bytes */
	cat[blen - 3] = cat[blen - 2] = cat[blen - 1] = 0;
	expect_error(cat, blen, PE_ERR_PPROF, "invalid pprof: corrupt gzip data");
	memcpy(cat, gz, glen);
	cat[glen - 4] = cat[glen - 3] = cat[glen - 2] = cat[glen - 1] = 0xff;	/* 4 GB */
	clear_err();
	tracker.peak = 0;
	CHECK(!pe_gunzip(&ctx, cat, glen, &out, &outlen));
	CHECK(ctx.err.code == PE_ERR_PPROF);
	CHECK(tracker.peak < 1024 * 1024);
	CHECK(tracker.live == 0);

	free(cat);
	free(bgz);
	free(big);
	free(gz);
	free(plain);
}

/* 300 MB of zeros in about 300 KB: must stop at the limit, fast. */
static void
test_gzip_bomb(void)
{
	size_t		chunk = 1024 * 1024;
	uint8_t    *zeros = calloc(1, chunk);
	size_t		cap = 4 * 1024 * 1024;
	uint8_t    *gz = malloc(cap);
	z_stream	zs;
	clock_t		start;
	uint8_t    *out;
	size_t		outlen;
	double		secs;

	memset(&zs, 0, sizeof(zs));
	CHECK(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) == Z_OK);
	zs.next_out = gz;
	zs.avail_out = (uInt) cap;
	for (int i = 0; i < 300; i++)
	{
		zs.next_in = zeros;
		zs.avail_in = (uInt) chunk;
		CHECK(deflate(&zs, i == 299 ? Z_FINISH : Z_NO_FLUSH) != Z_STREAM_ERROR);
	}
	CHECK(zs.avail_in == 0 && zs.avail_out > 0);
	{
		size_t		glen = zs.total_out;

		deflateEnd(&zs);
		reset_ctx();
		ctx.limits.max_decoded_bytes = 1024 * 1024;
		start = clock();
		expect_error(gz, glen, PE_ERR_LIMIT_SIZE,
					 "decompressed profile exceeds the size limit of 1048576 bytes");
		clear_err();
		CHECK(!pe_gunzip(&ctx, gz, glen, &out, &outlen));
		CHECK(pe_err_is_limit(ctx.err.code));
		secs = (double) (clock() - start) / CLOCKS_PER_SEC;
		CHECK(secs < 0.5);
		CHECK(tracker.peak < 3 * 1024 * 1024);
		CHECK(tracker.live == 0);
		printf("gzip bomb: %zu bytes of gzip refused in %.3f s, peak memory %zu bytes\n",
			   glen, secs, tracker.peak);

		/* exactly at the limit is fine: 1 MB of zeros, limit 1 MB */
		zs = (z_stream) {0};
		CHECK(deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
		zs.next_in = zeros;
		zs.avail_in = (uInt) chunk;
		zs.next_out = gz;
		zs.avail_out = (uInt) cap;
		CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
		glen = zs.total_out;
		deflateEnd(&zs);
		clear_err();
		CHECK_OK(&ctx, pe_gunzip(&ctx, gz, glen, &out, &outlen));
		CHECK(outlen == chunk);
		pe_free(&ctx, out);
		ctx.limits.max_decoded_bytes = chunk - 1;
		clear_err();
		CHECK(!pe_gunzip(&ctx, gz, glen, &out, &outlen));
		CHECK(pe_err_is_limit(ctx.err.code));
	}

	/* the limit also applies to plain protobuf */
	{
		size_t		plen;
		uint8_t    *plain = small_profile(&plen);

		ctx.limits.max_decoded_bytes = plen - 1;
		expect_error(plain, plen, PE_ERR_LIMIT_SIZE, "exceeds the size limit");
		ctx.limits.max_decoded_bytes = plen;
		expect_folded(plain, plen, "main;work 5");
		free(plain);
	}
	free(zeros);
	free(gz);
}

/* ---------------------------------------------------------------------
 * Repairs, depth, memory failures.
 * --------------------------------------------------------------------- */

static void
test_invalid_utf8_names(void)
{
	PbBuilder	b;
	uint64_t	s1[] = {2, 1};
	int64_t		v[] = {1};
	uint8_t    *buf;
	size_t		len;
	PeTree		t;
	int64_t		nul_name;

	reset_ctx();
	pb_init_types(&b, "samples/count");
	b_frame(&b, 1, "bad\xff");
	b_frame(&b, 2, "placeholder");
	b.p.sample_type[0]->unit = pb_str(&b, "c\xc3");
	pb_sample(&b, 2, s1, 1, v);
	nul_name = (int64_t) b.p.n_string_table;	/* appended raw below */
	b.p.function[1]->name = nul_name;
	buf = pb_pack(&b, &len);
	buf = append_raw_string(buf, &len, "a\0b\xe2\x82", 5);
	pb_free(&b);

	CHECK_OK(&ctx, pe_pprof_decode(&ctx, buf, len, &t));
	if (t.ctx)
	{
		char	   *got = folded(&t);

		CHECK(strcmp(got, "bad\xEF\xBF\xBD;a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD 1") == 0);
		for (uint32_t i = 0; i < t.names.n; i++)
		{
			uint32_t	nlen;
			const char *s = pe_strtab_get(&t.names, i, &nlen);

			CHECK(pe_utf8_valid(s, nlen) && memchr(s, '\0', nlen) == NULL);
		}
		CHECK(strcmp(t.meta.types[0].unit, "c\xEF\xBF\xBD") == 0);
		free(got);
		pe_tree_free(&t);
	}
	free(buf);
	CHECK(tracker.live == 0);
}

static void
test_deep_stack(void)
{
	enum
	{
		NFRAMES = 100000
	};
	PbBuilder	b;
	uint64_t   *locs = malloc(NFRAMES * sizeof(uint64_t));
	int64_t		v[] = {42};
	char		name[24];
	uint8_t    *buf;
	size_t		len;
	PeTree		t;

	reset_ctx();
	pb_init_types(&b, "samples/count");
	for (int i = 0; i < NFRAMES; i++)
	{
		snprintf(name, sizeof(name), "fn%d", i);
		b_frame(&b, i + 1, name);
		locs[i] = NFRAMES - i;	/* leaf first: fn0 is the root */
	}
	pb_sample(&b, NFRAMES, locs, 1, v);
	pb_sample(&b, NFRAMES, locs, 1, v);
	buf = pb_pack(&b, &len);
	pb_free(&b);

	CHECK_OK(&ctx, pe_pprof_decode(&ctx, buf, len, &t));
	if (t.ctx)
	{
		uint32_t	nlen;
		int64_t		sum = 0;

		CHECK(t.nnodes == NFRAMES + 1);
		CHECK(t.parent[NFRAMES] == NFRAMES - 1);
		CHECK(strcmp(pe_strtab_get(&t.names, t.name[1], &nlen), "fn0") == 0);
		CHECK(strcmp(pe_strtab_get(&t.names, t.name[NFRAMES], &nlen), "fn99999") == 0);
		CHECK(t.self[NFRAMES] == 84);
		CHECK_OK(&ctx, pe_tree_sum(&t, 0, &sum));
		CHECK(sum == 84);
		pe_tree_free(&t);
	}

	ctx.limits.max_stack_depth = NFRAMES - 1;
	expect_error(buf, len, PE_ERR_LIMIT_DEPTH,
				 "stack of sample 0 has 100000 frames, more than the limit of 99999");
	free(buf);
	free(locs);
}

static void
test_stack_depth_limit(void)
{
	PbBuilder	b;
	uint64_t	inl[] = {1, 1, 1};
	uint64_t	s1[] = {1, 1, 1, 1};	/* 4 locations of 3 inlined lines each */
	int64_t		v[] = {1};

	reset_ctx();
	pb_init_types(&b, "samples/count");
	pb_func(&b, 1, "f");
	pb_loc(&b, 1, 0, 0x1, 3, inl);
	pb_sample(&b, 4, s1, 1, v);
	ctx.limits.max_stack_depth = 12;
	expect_built(&b, "f;f;f;f;f;f;f;f;f;f;f;f 1");

	pb_init_types(&b, "samples/count");
	pb_func(&b, 1, "f");
	pb_loc(&b, 1, 0, 0x1, 3, inl);
	pb_sample(&b, 4, s1, 1, v);
	ctx.limits.max_stack_depth = 11;
	expect_built_error(&b, PE_ERR_LIMIT_DEPTH,
					   "stack of sample 0 has 12 frames, more than the limit of 11");
}

/*
 * Splitting by labels copies each new label set's bytes (its key and the
 * series' labels): a long value named by many label sets must hit the
 * decode's memory budget, not take len * nsamples bytes.
 */
static void
test_split_label_bytes(void)
{
	PbBuilder	b;
	int64_t		v[] = {1};
	size_t		vlen = 256 * 1024;
	char	   *big = malloc(vlen + 1);
	int64_t		value;
	uint8_t    *pb;
	size_t		len;
	PeSplitOptions opt = {NULL, 0, 0};
	PeSplit		split;
	bool		ok;

	memset(big, 'v', vlen);
	big[vlen] = '\0';
	reset_ctx();
	pb_init_types(&b, "samples/count");
	value = pb_str(&b, big);
	for (int i = 0; i < 200; i++)
	{
		char		key[16];

		snprintf(key, sizeof(key), "k%d", i);
		pb_label(pb_sample(&b, 0, NULL, 1, v), pb_str(&b, key), value);
	}
	pb = pb_pack(&b, &len);
	pb_free(&b);
	clear_err();
	ok = pe_pprof_decode_split(&ctx, pb, len, &opt, &split);
	CHECK(!ok);
	CHECK(pe_err_is_limit(ctx.err.code));
	if (ok)
		pe_split_free(&ctx, &split);
	CHECK(tracker.live == 0);
	free(pb);
	free(big);
}

/* Every allocation failure must end in a clean error and no leak. */
static void
test_out_of_memory(void)
{
	size_t		plen,
				glen;
	uint8_t    *plain = small_profile(&plen);
	uint8_t    *gz = gzip_bytes(plain, plen, &glen);
	bool		ok = false;
	long		n;

	reset_ctx();
	for (n = 0; n < 1000 && !ok; n++)
	{
		PeTree		t;

		clear_err();
		tracker.fail_after = n;
		ok = pe_pprof_decode(&ctx, gz, glen, &t);
		tracker.fail_after = -1;
		if (ok)
			pe_tree_free(&t);
		else
			CHECK(ctx.err.code == PE_ERR_NOMEM);
		CHECK(tracker.live == 0);
	}
	CHECK(ok);
	free(plain);
	free(gz);
}

/* ---------------------------------------------------------------------
 * The real corpus, against go tool pprof's verdicts and totals.
 * --------------------------------------------------------------------- */

#define DOTNET_ID0_FILE "og_convert_pprof__dotnet-pprof-3.pb.gz"

/* Check one accepted file's header and totals against the manifest. */
static void
check_totals(const char *file, const PeTree *t, char *types, char *totals)
{
	char	   *save1 = NULL,
			   *save2 = NULL;
	char	   *ty = strtok_r(types, ",", &save1);
	char	   *tot = strtok_r(totals, ",", &save2);
	uint32_t	v = 0;

	for (; ty && tot; ty = strtok_r(NULL, ",", &save1), tot = strtok_r(NULL, ",", &save2), v++)
	{
		char	   *slash = strchr(ty, '/');
		int64_t		sum = 0;

		CHECK(slash != NULL);
		if (slash == NULL || v >= t->meta.nvalues)
			break;
		*slash = '\0';
		if (strcmp(t->meta.types[v].type, ty) != 0 || strcmp(t->meta.types[v].unit, slash + 1) != 0)
		{
			unit_failed_checks++;
			fprintf(stderr, "%s: sample type %u is %s/%s, manifest says %s/%s\n", file, v,
					t->meta.types[v].type, t->meta.types[v].unit, ty, slash + 1);
		}
		CHECK_OK(&ctx, pe_tree_sum(t, v, &sum));
		if (sum != strtoll(tot, NULL, 10))
		{
			unit_failed_checks++;
			fprintf(stderr, "%s: total of %s is %" PRId64 ", manifest says %s\n",
					file, ty, sum, tot);
		}
	}
	if (ty || tot || v != t->meta.nvalues)
	{
		unit_failed_checks++;
		fprintf(stderr, "%s: %u sample types, manifest differs\n", file, t->meta.nvalues);
	}
}

static void
test_corpus(void)
{
	const char *dir = unit_corpus_dir();
	char		path[4096];
	char		line[8192];
	FILE	   *manifest;
	int			accepted = 0,
				rejected = 0;
	double		secs = 0;
	size_t		bytes = 0;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/MANIFEST.tsv", dir);
	manifest = fopen(path, "r");
	CHECK(manifest != NULL);
	if (manifest == NULL)
		return;
	reset_ctx();
	while (fgets(line, sizeof(line), manifest))
	{
		char	   *save = NULL;
		char	   *file = strtok_r(line, "\t\n", &save);
		char	   *verdict = strtok_r(NULL, "\t\n", &save);
		char	   *types = strtok_r(NULL, "\t\n", &save);
		char	   *totals = strtok_r(NULL, "\t\n", &save);
		uint8_t    *data;
		size_t		len;
		PeTree		t;
		bool		ok;
		clock_t		start;

		if (!file || !verdict || strcmp(file, "file") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/pprof/%s", dir, file);
		data = unit_read_file(path, &len);
		CHECK(data != NULL);
		if (data == NULL)
			continue;
		clear_err();
		start = clock();
		ok = pe_pprof_decode(&ctx, data, len, &t);
		secs += (double) (clock() - start) / CLOCKS_PER_SEC;
		bytes += len;

		if (strcmp(file, DOTNET_ID0_FILE) == 0)
		{
			/* pprof refuses function id 0; we accept it (see the decoder) */
			CHECK_OK(&ctx, ok);
			if (ok)
			{
				printf("%s (function id 0, accepted): %u nodes, totals", file, t.nnodes);
				for (uint32_t v = 0; v < t.meta.nvalues; v++)
				{
					int64_t		sum = 0;

					CHECK_OK(&ctx, pe_tree_sum(&t, v, &sum));
					printf(" %s/%s=%" PRId64, t.meta.types[v].type, t.meta.types[v].unit, sum);
				}
				printf("\n");
			}
		}
		else if (strcmp(verdict, "accepts") == 0)
		{
			accepted++;
			if (!ok)
			{
				unit_failed_checks++;
				fprintf(stderr, "%s: decode failed: %s (%s)\n", file, ctx.err.msg, ctx.err.detail);
			}
			else if (types && totals)
				check_totals(file, &t, types, totals);
		}
		else
		{
			rejected++;
			if (ok)
			{
				unit_failed_checks++;
				fprintf(stderr, "%s: decoded, but go tool pprof rejects it (%s)\n",
						file, totals ? totals : "");
			}
			else
			{
				CHECK(ctx.err.code == PE_ERR_PPROF);
				CHECK(strncmp(ctx.err.msg, "invalid pprof: ", 15) == 0);
			}
		}
		if (ok)
		{
			for (uint32_t i = 0; i < t.names.n; i++)
			{
				uint32_t	nlen;
				const char *s = pe_strtab_get(&t.names, i, &nlen);

				CHECK(pe_utf8_valid(s, nlen) && memchr(s, '\0', nlen) == NULL);
			}
			pe_tree_free(&t);
		}
		CHECK(tracker.live == 0);
		free(data);
	}
	fclose(manifest);
	CHECK(accepted > 0 && rejected > 0);
	printf("pprof corpus: %d accepted, %d rejected files checked; %zu bytes decoded in %.3f s\n",
		   accepted, rejected, bytes, secs);
}

int
main(void)
{
	RUN(test_leaf_first);
	RUN(test_inlined_lines);
	RUN(test_shared_stacks);
	RUN(test_address_names);
	RUN(test_zero_ids);
	RUN(test_dotnet_function_ids);
	RUN(test_sparse_ids);
	RUN(test_zero_samples_skipped);
	RUN(test_header);
	RUN(test_value_count);
	RUN(test_missing_references);
	RUN(test_duplicate_ids);
	RUN(test_string_indexes);
	RUN(test_string_table_zero);
	RUN(test_not_pprof);
	RUN(test_wire_rules);
	RUN(test_gzip);
	RUN(test_gzip_truncated);
	RUN(test_gzip_bomb);
	RUN(test_gzip_sizes);
	RUN(test_invalid_utf8_names);
	RUN(test_deep_stack);
	RUN(test_stack_depth_limit);
	RUN(test_split_label_bytes);
	RUN(test_out_of_memory);
	RUN(test_corpus);
	return unit_finish("pprof");
}
