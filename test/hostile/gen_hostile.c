/*
 * gen_hostile.c
 *		Crafted hostile inputs for test/scripts/hostile.sh.
 *
 * Usage: gen_hostile DIR
 *
 * Writes one file per case into DIR (hostile.sh knows what each must do):
 *   NAME.pb      a plain pprof message
 *   NAME.pb.gz   a gzipped pprof message
 *   NAME.native  a stored (native) profile value, docs/FORMAT.md
 *   NAME.copy    a binary COPY stream of one row with one profile field
 *   NAME.bin     other bytes
 *
 * Small profiles are built with the tests' shared pprof builder
 * (test/common/pb_builder.c) and packed.  Big ones
 * (a gigabyte of zeros, ten million samples, a million frames) are written
 * as protobuf wire bytes straight into a streaming gzip writer, so the
 * generator never holds them in memory.  Everything is deterministic: the
 * random bytes come from a fixed-seed generator.
 *
 * Build (hostile.sh does this in a temporary folder):
 *   protoc-c --c_out=DIR --proto_path=src/core src/core/profile.proto
 *   cc -O2 -IDIR -Itest/common -o gen_hostile test/hostile/gen_hostile.c \
 *      test/common/pb_builder.c DIR/profile.pb-c.c -lprotobuf-c -lzstd -lz
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "pb_builder.h"

#define GIB				((uint64_t) 1 << 30)
#define MIB				((uint64_t) 1 << 20)

static const char *out_dir;

/* ---------------------------------------------------------------------
 * Plumbing: errors, memory, byte buffers, files.
 * --------------------------------------------------------------------- */

static void
die(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	fprintf(stderr, "gen_hostile: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void *
xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (p == NULL)
		die("out of memory (%zu bytes)", size);
	return p;
}

static void *
xcalloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

/* A growable byte buffer. */
typedef struct Buf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
} Buf;

static void
buf_put(Buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 256;

		while (cap < b->len + len)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void
buf_byte(Buf *b, uint8_t c)
{
	buf_put(b, &c, 1);
}

/* Protobuf / LEB128 varint. */
static void
buf_varint(Buf *b, uint64_t v)
{
	uint8_t		tmp[10];
	size_t		n = 0;

	do
	{
		tmp[n] = (uint8_t) (v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	buf_put(b, tmp, n);
}

static void
buf_be32(Buf *b, uint32_t v)
{
	uint8_t		tmp[4] = {v >> 24, v >> 16, v >> 8, v};

	buf_put(b, tmp, 4);
}

static void
buf_be16(Buf *b, uint16_t v)
{
	uint8_t		tmp[2] = {v >> 8, v};

	buf_put(b, tmp, 2);
}

static void
buf_free(Buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static FILE *
open_out(const char *name)
{
	char		path[4096];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		die("cannot write %s", path);
	return f;
}

static void
close_out(FILE *f, const char *name)
{
	if (ferror(f) || fclose(f) != 0)
		die("error writing %s", name);
}

static void
write_file(const char *name, const void *data, size_t len)
{
	FILE	   *f = open_out(name);

	if (len && fwrite(data, 1, len, f) != len)
		die("error writing %s", name);
	close_out(f, name);
}

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

/* ---------------------------------------------------------------------
 * gzip: whole buffers, and a streaming writer for the big cases.
 * --------------------------------------------------------------------- */

typedef struct GzOut
{
	z_stream	zs;
	FILE	   *f;
	const char *name;
	uint8_t		out[1 << 16];
	Buf			pending;		/* small writes are batched */
} GzOut;

static void
gz_open(GzOut *g, const char *name, int level)
{
	memset(g, 0, sizeof(*g));
	g->f = open_out(name);
	g->name = name;
	if (deflateInit2(&g->zs, level, Z_DEFLATED, 16 + MAX_WBITS, 9,
					 Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2 failed");
}

/* Run deflate over data with the given flush mode, writing all output. */
static void
gz_deflate(GzOut *g, const uint8_t *data, size_t len, int flush)
{
	g->zs.next_in = (Bytef *) data;
	g->zs.avail_in = (uInt) len;
	do
	{
		size_t		have;
		int			ret;

		g->zs.next_out = g->out;
		g->zs.avail_out = sizeof(g->out);
		ret = deflate(&g->zs, flush);
		if (ret == Z_STREAM_ERROR)
			die("deflate failed");
		have = sizeof(g->out) - g->zs.avail_out;
		if (have && fwrite(g->out, 1, have, g->f) != have)
			die("error writing %s", g->name);
	} while (g->zs.avail_out == 0 || g->zs.avail_in > 0);
}

static void
gz_flush_pending(GzOut *g)
{
	if (g->pending.len)
		gz_deflate(g, g->pending.data, g->pending.len, Z_NO_FLUSH);
	g->pending.len = 0;
}

static void
gz_write(GzOut *g, const void *data, size_t len)
{
	if (len >= (1 << 16))
	{
		gz_flush_pending(g);
		gz_deflate(g, data, len, Z_NO_FLUSH);
		return;
	}
	buf_put(&g->pending, data, len);
	if (g->pending.len >= (1 << 16))
		gz_flush_pending(g);
}

static void
gz_close(GzOut *g)
{
	gz_flush_pending(g);
	gz_deflate(g, NULL, 0, Z_FINISH);
	deflateEnd(&g->zs);
	buf_free(&g->pending);
	close_out(g->f, g->name);
}

/* gzip a whole buffer into out. */
static void
gzip_buf(const uint8_t *data, size_t len, Buf *out)
{
	z_stream	zs;
	uint8_t		chunk[1 << 14];
	int			ret;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2 failed");
	zs.next_in = (Bytef *) data;
	zs.avail_in = (uInt) len;
	do
	{
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		ret = deflate(&zs, Z_FINISH);
		buf_put(out, chunk, sizeof(chunk) - zs.avail_out);
	} while (ret == Z_OK);
	if (ret != Z_STREAM_END)
		die("deflate failed");
	deflateEnd(&zs);
}

/* ---------------------------------------------------------------------
 * Packing profiles of the shared builder (test/common/pb_builder.h).
 * --------------------------------------------------------------------- */

/* Locations sit at distinct addresses inside pb_mapping's range. */
#define LOC_ADDRESS(id) (0x401000 + (id) * 16)

/* A location with one line naming function fid. */
static void
b_loc1(PbBuilder *b, uint64_t id, uint64_t fid)
{
	pb_loc(b, id, 0, LOC_ADDRESS(id), 1, &fid);
}

static void
b_pack(const PbBuilder *b, Buf *out)
{
	free(out->data);
	out->data = pb_pack(b, &out->len);
	out->cap = out->len;
}

/* Pack b, write it as NAME.pb, and free the builder. */
static void
b_write(PbBuilder *b, const char *name)
{
	Buf			out = {0};
	char		file[256];

	b_pack(b, &out);
	snprintf(file, sizeof(file), "%s.pb", name);
	write_file(file, out.data, out.len);
	buf_free(&out);
	pb_free(b);
}

/*
 * The base profile every pprof case starts from: two sample types,
 * functions 1-5, locations 1-5 (location i calls function i), one mapping,
 * four samples.  Stacks: main;run;work, main;run;idle, main;alloc, main;run.
 */
static void
base_profile(PbBuilder *b)
{
	static const char *names[] = {"main", "run", "work", "idle", "alloc"};
	static const uint64_t s1[] = {3, 2, 1};
	static const uint64_t s2[] = {4, 2, 1};
	static const uint64_t s3[] = {5, 1};
	static const uint64_t s4[] = {2, 1};
	static const int64_t v1[] = {5, 50000000};
	static const int64_t v2[] = {2, 20000000};
	static const int64_t v3[] = {1, 10000000};
	static const int64_t v4[] = {3, 30000000};
	PbSample   *s;

	pb_init(b);
	pb_str(b, "");
	pb_type(b, "samples", "count");
	pb_type(b, "cpu", "nanoseconds");
	pb_period(b, "cpu", "nanoseconds", 10000000);
	b->p.time_nanos = INT64_C(1700000000000000000);
	b->p.duration_nanos = INT64_C(10000000000);
	pb_mapping(b, 1);
	for (int i = 0; i < 5; i++)
	{
		pb_func(b, i + 1, names[i]);
		b_loc1(b, i + 1, i + 1);
		b->p.location[i]->mapping_id = 1;
	}
	s = pb_sample(b, 3, s1, 2, v1);
	pb_label(s, pb_str(b, "thread"), pb_str(b, "worker-1"));
	pb_sample(b, 3, s2, 2, v2);
	pb_sample(b, 2, s3, 2, v3);
	pb_sample(b, 2, s4, 2, v4);
}

/* ---------------------------------------------------------------------
 * pprof cases built with the builder.
 * --------------------------------------------------------------------- */

static void
gen_valid(void)
{
	PbBuilder	b;
	Buf			pb = {0};
	Buf			gz = {0};

	base_profile(&b);
	b_pack(&b, &pb);
	pb_free(&b);
	write_file("valid.pb", pb.data, pb.len);
	gzip_buf(pb.data, pb.len, &gz);
	write_file("valid.pb.gz", gz.data, gz.len);

	/* gzip damage: cut in half, garbage behind, wrong CRC-32 */
	write_file("truncated_gzip.pb.gz", gz.data, gz.len / 2);
	{
		Buf			g2 = {0};

		buf_put(&g2, gz.data, gz.len);
		buf_put(&g2, "garbage!", 8);
		write_file("gzip_trailing_garbage.pb.gz", g2.data, g2.len);
		g2.len = 0;
		buf_put(&g2, gz.data, gz.len);
		g2.data[g2.len - 8] ^= 0x55;	/* first byte of the CRC-32 trailer */
		write_file("gzip_bad_crc.pb.gz", g2.data, g2.len);
		buf_free(&g2);
	}

	/* protobuf damage: cut short, a field with wire type 7 behind */
	write_file("truncated_protobuf.pb", pb.data, pb.len * 2 / 3);
	{
		Buf			p2 = {0};

		buf_put(&p2, pb.data, pb.len);
		buf_byte(&p2, 0x0f);	/* field 1, wire type 7 */
		buf_byte(&p2, 0x01);
		write_file("bad_wire_type.pb", p2.data, p2.len);
		buf_free(&p2);
	}
	buf_free(&pb);
	buf_free(&gz);
}

/* Random bytes; the first byte is neither gzip's 1f nor native's 7f. */
static void
gen_random(void)
{
	uint8_t		bytes[4096];

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t) (rng_next() >> 56);
	bytes[0] = 0xa5;
	write_file("random.bin", bytes, sizeof(bytes));
}

static void
gen_string_cases(void)
{
	PbBuilder	b;

	/* No string table at all, while sample types point into it. */
	base_profile(&b);
	for (size_t i = 0; i < b.p.n_string_table; i++)
		free(b.p.string_table[i]);
	b.p.n_string_table = 0;
	b_write(&b, "empty_string_table");

	base_profile(&b);
	free(b.p.string_table[0]);
	b.p.string_table[0] = strdup("not empty");
	b_write(&b, "string_table_first_nonempty");

	base_profile(&b);
	b.p.function[2]->name = 1000;
	b_write(&b, "string_index_out_of_range");

	base_profile(&b);
	b.p.function[2]->name = -3;
	b_write(&b, "string_index_negative");

	base_profile(&b);
	b.p.sample_type[1]->unit = 99;
	b_write(&b, "sample_type_string_out_of_range");

	base_profile(&b);
	b.p.sample[0]->label[0]->key = 12345;
	b_write(&b, "label_string_out_of_range");

	base_profile(&b);
	b.p.default_sample_type = 4242;
	b_write(&b, "default_sample_type_out_of_range");

	base_profile(&b);
	b.p.period_type->type = -1;
	b_write(&b, "period_type_string_negative");
}

static void
gen_reference_cases(void)
{
	PbBuilder	b;
	uint64_t	fid = 42;

	/* A sample naming location 0 while the locations have ids 1-5. */
	base_profile(&b);
	b.p.sample[1]->location_id[0] = 0;
	b_write(&b, "missing_location_zero");

	base_profile(&b);
	b.p.sample[2]->location_id[1] = 77;
	b_write(&b, "missing_location");

	base_profile(&b);
	b.p.location[3]->id = 2;
	b_write(&b, "duplicate_location_ids");

	base_profile(&b);
	b.p.function[4]->id = 1;
	b_write(&b, "duplicate_function_ids");

	base_profile(&b);
	pb_mapping(&b, 1);
	b_write(&b, "duplicate_mapping_ids");

	base_profile(&b);
	pb_loc(&b, 6, 0, LOC_ADDRESS(6), 1, &fid);
	b_write(&b, "location_missing_function");

	/* Sparse ids force the hashed id maps; a duplicate must still be found. */
	base_profile(&b);
	for (size_t i = 0; i < b.p.n_location; i++)
		b.p.location[i]->id = UINT64_MAX - 100 * i;
	b.p.location[4]->id = b.p.location[0]->id;
	b_write(&b, "duplicate_sparse_location_ids");
}

static void
gen_value_cases(void)
{
	PbBuilder	b;
	static const uint64_t stack[] = {3, 2, 1};
	static const int64_t big[] = {INT64_MAX, 1};
	static const int64_t near_max[] = {INT64_MAX - 10, 1};
	static const int64_t three[] = {1, 2, 3};

	base_profile(&b);
	pb_sample(&b, 3, stack, 3, three);
	b_write(&b, "value_count_mismatch");

	base_profile(&b);
	b.p.sample[3]->n_value = 1;
	b_write(&b, "value_count_short");

	base_profile(&b);
	for (size_t i = 0; i < b.p.n_sample_type; i++)
		free(b.p.sample_type[i]);
	b.p.n_sample_type = 0;
	b_write(&b, "samples_without_types");

	base_profile(&b);
	for (int i = 0; i < 63; i++)
		pb_type_idx(&b, 1, 2);
	for (size_t i = 0; i < b.p.n_sample; i++)
	{
		b.p.sample[i]->value = xrealloc(b.p.sample[i]->value, 65 * sizeof(int64_t));
		for (int k = 2; k < 65; k++)
			b.p.sample[i]->value[k] = k;
		b.p.sample[i]->n_value = 65;
	}
	b_write(&b, "too_many_sample_types");

	base_profile(&b);
	b.p.duration_nanos = -1;
	b_write(&b, "negative_duration");

	/* Two samples on one stack whose values add past INT64_MAX. */
	base_profile(&b);
	pb_sample(&b, 3, stack, 2, big);
	pb_sample(&b, 3, stack, 2, big);
	b_write(&b, "overflow_one_profile");

	/* One sample near INT64_MAX: merging two such profiles overflows. */
	pb_init(&b);
	pb_str(&b, "");
	pb_type(&b, "samples", "count");
	pb_type(&b, "cpu", "nanoseconds");
	pb_period(&b, "cpu", "nanoseconds", 10000000);
	pb_func(&b, 1, "main");
	pb_func(&b, 2, "hot");
	b_loc1(&b, 1, 1);
	b_loc1(&b, 2, 2);
	pb_sample(&b, 2, (const uint64_t[]) {2, 1}, 2, near_max);
	b_write(&b, "int64_max");

	/* Different sample types: a heap profile. */
	pb_init(&b);
	pb_str(&b, "");
	pb_type(&b, "alloc_space", "bytes");
	pb_period(&b, "space", "bytes", 524288);
	pb_func(&b, 1, "main");
	b_loc1(&b, 1, 1);
	pb_sample(&b, 1, (const uint64_t[]) {1}, 1, (const int64_t[]) {4096});
	b_write(&b, "other_types");
}

/*
 * Names that are not valid UTF-8 or hold NUL bytes.  protobuf-c packs C
 * strings, so NUL bytes are written as 0x01 placeholders behind a marker
 * and patched in the packed bytes (same length, so no length changes).
 */
static void
gen_encoding_cases(void)
{
	static const char *bad[] = {
		"invalid\xff\xfe" "byte",
		"overlong\xc0\xaf" "slash",
		"surrogate\xed\xa0\x80" "half",
		"truncated\xe2\x82",
		"latin1_caf\xe9",
		"NULMARK\x01" "after_nul",
		"valid_\xe6\x97\xa5\xe6\x9c\xac",	/* 日本 */
		"valid_caf\xc3\xa9",	/* café */
	};
	PbBuilder	b;
	Buf			pb = {0};
	uint64_t	stack[2];

	pb_init(&b);
	pb_str(&b, "");
	pb_type(&b, "samples", "count");
	pb_func(&b, 1, "main");
	b_loc1(&b, 1, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		pb_func(&b, i + 2, bad[i]);
		b_loc1(&b, i + 2, i + 2);
		stack[0] = i + 2;
		stack[1] = 1;
		pb_sample(&b, 2, stack, 1, (const int64_t[]) {(int64_t) i + 1});
	}
	b_pack(&b, &pb);
	pb_free(&b);
	for (size_t i = 0; i + 8 <= pb.len; i++)
		if (memcmp(pb.data + i, "NULMARK\x01", 8) == 0)
			pb.data[i + 7] = 0;
	write_file("bad_utf8_names.pb", pb.data, pb.len);

	/* Sample type and unit strings with the same problems. */
	pb_init(&b);
	pb_str(&b, "");
	pb_type(&b, "cpu\xff", "nano\xc0\xafseconds");
	pb_func(&b, 1, "main");
	b_loc1(&b, 1, 1);
	pb_sample(&b, 1, (const uint64_t[]) {1}, 1, (const int64_t[]) {7});
	b_pack(&b, &pb);
	pb_free(&b);
	write_file("bad_utf8_types.pb", pb.data, pb.len);

	/* Only names (and a unit) that LATIN1 can hold. */
	pb_init(&b);
	pb_str(&b, "");
	pb_type(&b, "samples", "\xc2\xb5s");	/* µs */
	pb_func(&b, 1, "main");
	pb_func(&b, 2, "caf\xc3\xa9");
	pb_func(&b, 3, "na\xc3\xafve_\xc2\xb5s");
	b_loc1(&b, 1, 1);
	b_loc1(&b, 2, 2);
	b_loc1(&b, 3, 3);
	pb_sample(&b, 3, (const uint64_t[]) {3, 2, 1}, 1, (const int64_t[]) {5});
	b_write(&b, "latin1_names");
	buf_free(&pb);
}

/* Inputs that are odd but valid: they must be accepted. */
static void
gen_accepted_cases(void)
{
	PbBuilder	b;
	uint64_t   *stack;
	uint64_t	fid;

	/*
	 * pprof has no parent pointers, so a call graph cannot loop: the
	 * nearest things are recursion (one location many times in a stack)
	 * and ids that coincide across the function, location and mapping
	 * tables.
	 */
	base_profile(&b);
	stack = xcalloc(1001, sizeof(uint64_t));
	for (int i = 0; i < 1000; i++)
		stack[i] = 2;
	stack[1000] = 1;
	pb_sample(&b, 1001, stack, 2, (const int64_t[]) {1, 1});
	free(stack);
	b_write(&b, "recursion_same_location");

	pb_init(&b);
	pb_str(&b, "");
	pb_type(&b, "samples", "count");
	pb_mapping(&b, 3);
	pb_func(&b, 3, "self_named");
	fid = 3;
	pb_loc(&b, 3, 3, LOC_ADDRESS(3), 1, &fid);
	pb_sample(&b, 2, (const uint64_t[]) {3, 3}, 1, (const int64_t[]) {9});
	b_write(&b, "coinciding_ids");

	base_profile(&b);
	for (size_t i = 0; i < b.p.n_location; i++)
		b.p.location[i]->id = UINT64_MAX - 100 * i;
	for (size_t i = 0; i < b.p.n_sample; i++)
		for (size_t k = 0; k < b.p.sample[i]->n_location_id; k++)
			b.p.sample[i]->location_id[k] = UINT64_MAX - 100 * (b.p.sample[i]->location_id[k] - 1);
	b_write(&b, "sparse_huge_ids");

	base_profile(&b);
	b.p.location[2]->mapping_id = 99;
	b_write(&b, "location_missing_mapping");
}

/* ---------------------------------------------------------------------
 * Big pprof cases, streamed through gzip.
 * --------------------------------------------------------------------- */

/* Write a length-delimited field: tag, length, bytes. */
static void
gz_field(GzOut *g, int field, const Buf *body)
{
	Buf			head = {0};

	buf_varint(&head, (uint64_t) field << 3 | 2);
	buf_varint(&head, body->len);
	gz_write(g, head.data, head.len);
	gz_write(g, body->data, body->len);
	buf_free(&head);
}

static void
gz_string(GzOut *g, const char *s, size_t len)
{
	Buf			b = {0};

	buf_put(&b, s, len);
	gz_field(g, 6, &b);
	buf_free(&b);
}

/* String table "", "samples", "count", "main"; type samples/count; function 1; location 1. */
static void
gz_small_header(GzOut *g)
{
	Buf			m = {0};

	gz_string(g, "", 0);
	gz_string(g, "samples", 7);
	gz_string(g, "count", 5);
	gz_string(g, "main", 4);
	buf_byte(&m, 0x08);			/* ValueType.type = 1 */
	buf_byte(&m, 1);
	buf_byte(&m, 0x10);			/* ValueType.unit = 2 */
	buf_byte(&m, 2);
	gz_field(g, 1, &m);
	m.len = 0;
	buf_byte(&m, 0x08);			/* Function.id = 1 */
	buf_byte(&m, 1);
	buf_byte(&m, 0x10);			/* Function.name = 3 */
	buf_byte(&m, 3);
	gz_field(g, 5, &m);
	buf_free(&m);
}

/* Location id with one line naming function 1. */
static void
gz_location(GzOut *g, uint64_t id)
{
	Buf			m = {0};

	buf_byte(&m, 0x08);
	buf_varint(&m, id);
	buf_byte(&m, 0x22);			/* Location.line, 2 bytes */
	buf_byte(&m, 2);
	buf_byte(&m, 0x08);			/* Line.function_id = 1 */
	buf_byte(&m, 1);
	gz_field(g, 4, &m);
	buf_free(&m);
}

/* A gigabyte of zeros: inflation must stop at max_decoded_size. */
static void
gen_gzip_bomb(void)
{
	GzOut		g;
	uint8_t    *zeros = xcalloc(1, MIB);

	gz_open(&g, "gzip_bomb.pb.gz", 9);
	for (uint64_t done = 0; done < GIB; done += MIB)
		gz_write(&g, zeros, MIB);
	gz_close(&g);
	free(zeros);
}

/* One sample of a million frames: location 1 repeated. */
static void
gen_deep_stack(void)
{
	GzOut		g;
	Buf			s = {0};
	Buf			ids = {0};

	gz_open(&g, "stack_1m_frames.pb.gz", 6);
	gz_small_header(&g);
	gz_location(&g, 1);
	for (int i = 0; i < 1000000; i++)
		buf_byte(&ids, 1);
	buf_byte(&s, 0x0a);			/* Sample.location_id, packed */
	buf_varint(&s, ids.len);
	buf_put(&s, ids.data, ids.len);
	buf_byte(&s, 0x12);			/* Sample.value, packed: 1 */
	buf_byte(&s, 1);
	buf_byte(&s, 1);
	gz_field(&g, 2, &s);
	gz_close(&g);
	buf_free(&s);
	buf_free(&ids);
}

/* One location with 300,000 inlined lines: deep after expansion. */
static void
gen_deep_inline(void)
{
	GzOut		g;
	Buf			m = {0};
	static const uint8_t sample[] = {0x0a, 1, 1, 0x12, 1, 1};

	gz_open(&g, "inline_300k_lines.pb.gz", 6);
	gz_small_header(&g);
	buf_byte(&m, 0x08);
	buf_byte(&m, 1);
	for (int i = 0; i < 300000; i++)
	{
		buf_byte(&m, 0x22);
		buf_byte(&m, 2);
		buf_byte(&m, 0x08);
		buf_byte(&m, 1);
	}
	gz_field(&g, 4, &m);
	m.len = 0;
	buf_put(&m, sample, sizeof(sample));
	gz_field(&g, 2, &m);
	gz_close(&g);
	buf_free(&m);
}

/* Ten million samples, three frames each, 1000 distinct stacks: 90 MB plain. */
static void
gen_many_samples(void)
{
	GzOut		g;
	Buf			m = {0};

	gz_open(&g, "samples_10m.pb.gz", 6);
	gz_small_header(&g);
	for (uint64_t id = 1; id <= 110; id++)
		gz_location(&g, id);
	for (uint64_t i = 0; i < 10000000; i++)
	{
		Buf			ids = {0};

		buf_varint(&ids, 1 + i % 100);
		buf_varint(&ids, 101 + (i / 100) % 10);
		buf_varint(&ids, 1);
		m.len = 0;
		buf_byte(&m, 0x0a);
		buf_varint(&m, ids.len);
		buf_put(&m, ids.data, ids.len);
		buf_byte(&m, 0x12);
		buf_byte(&m, 1);
		buf_byte(&m, 1);
		gz_field(&g, 2, &m);
		buf_free(&ids);
	}
	gz_close(&g);
	buf_free(&m);
}

/* A string table of 300 MB (300,000 strings of 1000 bytes). */
static void
gen_huge_string_table(void)
{
	GzOut		g;
	char		s[1000];

	gz_open(&g, "huge_string_table.pb.gz", 6);
	gz_small_header(&g);
	memset(s, 'x', sizeof(s));
	for (int i = 0; i < 300000; i++)
	{
		snprintf(s, 12, "%010d", i);
		s[10] = 'x';
		gz_string(&g, s, sizeof(s));
	}
	gz_close(&g);
}

/* ---------------------------------------------------------------------
 * Native values (docs/FORMAT.md).
 * --------------------------------------------------------------------- */

/* The example of FORMAT.md section 6: a valid raw value of 88 bytes. */
static const uint8_t native_example[] = {
	0x7f, 0x50, 0x52, 0x46, 0x01, 0x00, 0x00, 0x00, 0x4c, 0x00, 0x00, 0x00,
	0x01,
	0x07, 's', 'a', 'm', 'p', 'l', 'e', 's',
	0x05, 'c', 'o', 'u', 'n', 't',
	0x03, 'c', 'p', 'u',
	0x0b, 'n', 'a', 'n', 'o', 's', 'e', 'c', 'o', 'n', 'd', 's',
	0x80, 0xda, 0xc4, 0x09,
	0x00, 0x00, 0x00,
	0x04, 0x16,
	0x00, 'g', 'c', 0x00,
	0x00, 'i', 'd', 'l', 'e', 0x00,
	0x00, 'm', 'a', 'i', 'n', 0x00,
	0x00, 'w', 'o', 'r', 'k', 0x00,
	0x04,
	0x00, 0x01, 0x00, 0x01,
	0x00, 0x01, 0x01, 0x01,
	0x00, 0x03, 0x00, 0x02, 0x06,
};

#define EX_BODY		12			/* offset of the body */
#define EX_TABLE	50			/* offset of nstrings */
#define EX_NNODES	74			/* offset of nnodes */

static void
put_header(uint8_t *h, uint8_t flags, uint32_t body_len)
{
	memcpy(h, "\x7fPRF\x01", 5);
	h[5] = flags;
	h[6] = h[7] = 0;
	h[8] = (uint8_t) body_len;
	h[9] = (uint8_t) (body_len >> 8);
	h[10] = (uint8_t) (body_len >> 16);
	h[11] = (uint8_t) (body_len >> 24);
}

/* A raw value: header plus body. */
static void
write_raw(const char *name, const uint8_t *body, size_t body_len)
{
	Buf			v = {0};
	uint8_t		h[12];

	put_header(h, 0, (uint32_t) body_len);
	buf_put(&v, h, 12);
	buf_put(&v, body, body_len);
	write_file(name, v.data, v.len);
	buf_free(&v);
}

/* Compress src into one zstd frame (content size and checksum as asked). */
static void
zstd_frame(const uint8_t *src, size_t len, int checksum, int content_size, Buf *out)
{
	ZSTD_CCtx  *c = ZSTD_createCCtx();
	size_t		bound = ZSTD_compressBound(len);
	size_t		n;

	if (c == NULL)
		die("ZSTD_createCCtx failed");
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, content_size);
	out->len = 0;
	out->data = xrealloc(out->data, bound);
	out->cap = bound;
	n = ZSTD_compress2(c, out->data, bound, src, len);
	if (ZSTD_isError(n))
		die("zstd: %s", ZSTD_getErrorName(n));
	out->len = n;
	ZSTD_freeCCtx(c);
}

/* A compressed value: header (declaring body_len) plus the frame bytes. */
static void
write_zstd(const char *name, uint32_t body_len, const uint8_t *frame, size_t frame_len)
{
	Buf			v = {0};
	uint8_t		h[12];

	put_header(h, 1, body_len);
	buf_put(&v, h, 12);
	buf_put(&v, frame, frame_len);
	write_file(name, v.data, v.len);
	buf_free(&v);
}

static void
gen_native_cases(void)
{
	const uint8_t *body = native_example + EX_BODY;
	size_t		body_len = sizeof(native_example) - EX_BODY;
	uint8_t		v[sizeof(native_example) + 8];
	Buf			frame = {0};
	Buf			b = {0};

	if (native_example[EX_TABLE] != 4 || native_example[EX_TABLE + 1] != 0x16 ||
		native_example[EX_NNODES] != 4 || sizeof(native_example) != 88)
		die("native_example offsets are wrong");
	write_file("native_valid_raw.native", native_example, sizeof(native_example));
	zstd_frame(body, body_len, 1, 1, &frame);
	write_zstd("native_valid_zstd.native", (uint32_t) body_len, frame.data, frame.len);

	/* header damage */
	write_file("native_too_short.native", native_example, 8);
	memcpy(v, native_example, sizeof(native_example));
	v[4] = 9;				/* a version no build has written yet */
	write_file("native_bad_version.native", v, sizeof(native_example));
	memcpy(v, native_example, sizeof(native_example));
	v[5] = 0x80;
	write_file("native_bad_flags.native", v, sizeof(native_example));
	memcpy(v, native_example, sizeof(native_example));
	v[7] = 1;
	write_file("native_reserved.native", v, sizeof(native_example));
	memcpy(v, native_example, sizeof(native_example));
	v[8]++;
	write_file("native_raw_length_mismatch.native", v, sizeof(native_example));

	/* body damage (raw values, so the body parser sees it) */
	buf_put(&b, body, body_len);
	buf_byte(&b, 0);
	write_raw("native_raw_trailing.native", b.data, b.len);
	memcpy(v, body, body_len);
	v[EX_TABLE - EX_BODY + 3] = 'z';	/* "gc" -> "zc": table out of order */
	write_raw("native_raw_unsorted_names.native", v, body_len);
	memcpy(v, body, body_len);
	v[EX_TABLE - EX_BODY + 4] = 0xff;	/* "g\xff": not UTF-8 */
	write_raw("native_raw_bad_utf8.native", v, body_len);
	memcpy(v, body, body_len);
	v[body_len - 4] = 0;		/* gc's self -2 -> 0: an all-zero subtree */
	write_raw("native_raw_zero_subtree.native", v, body_len);
	memcpy(v, body, body_len);
	v[EX_NNODES - EX_BODY + 1] = 1;	/* first node has up 1: above the root */
	write_raw("native_raw_up_too_big.native", v, body_len);
	memcpy(v, body, body_len);
	v[EX_NNODES - EX_BODY + 5] = 9; /* name code past the table */
	write_raw("native_raw_name_out_of_range.native", v, body_len);

	/* nnodes: 4294967290 (over max_nodes), then 1,000,000 (no room) */
	b.len = 0;
	buf_put(&b, body, EX_NNODES - EX_BODY);
	buf_varint(&b, 4294967290u);
	buf_put(&b, body + EX_NNODES - EX_BODY + 1, body_len - (EX_NNODES - EX_BODY + 1));
	write_raw("native_raw_nnodes_huge.native", b.data, b.len);
	b.len = 0;
	buf_put(&b, body, EX_NNODES - EX_BODY);
	buf_varint(&b, 1000000);
	buf_put(&b, body + EX_NNODES - EX_BODY + 1, body_len - (EX_NNODES - EX_BODY + 1));
	write_raw("native_raw_nnodes_lie.native", b.data, b.len);

	/* zstd damage */
	write_zstd("native_zstd_truncated.native", (uint32_t) body_len, frame.data, frame.len / 2);
	b.len = 0;
	buf_put(&b, frame.data, frame.len);
	buf_byte(&b, 0);
	write_zstd("native_zstd_trailing.native", (uint32_t) body_len, b.data, b.len);
	b.len = 0;
	buf_put(&b, frame.data, frame.len);
	b.data[b.len - 1] ^= 0x40;	/* last byte of the XXH64 checksum */
	write_zstd("native_zstd_bad_checksum.native", (uint32_t) body_len, b.data, b.len);
	b.len = 0;
	buf_put(&b, frame.data, frame.len);
	b.data[b.len / 2 + 2] ^= 0x08;	/* inside the compressed block */
	write_zstd("native_zstd_bit_flip.native", (uint32_t) body_len, b.data, b.len);
	zstd_frame(body, body_len, 0, 1, &b);
	write_zstd("native_zstd_no_checksum.native", (uint32_t) body_len, b.data, b.len);
	zstd_frame(body, body_len, 1, 0, &b);
	write_zstd("native_zstd_no_content_size.native", (uint32_t) body_len, b.data, b.len);
	b.len = 0;
	buf_put(&b, "\x50\x2a\x4d\x18\x04\x00\x00\x00junk", 12); /* skippable frame */
	write_zstd("native_zstd_skippable.native", 4, b.data, b.len);
	b.len = 0;
	buf_put(&b, "not zstd at all", 15);
	write_zstd("native_zstd_not_zstd.native", (uint32_t) body_len, b.data, b.len);
	buf_free(&b);
	buf_free(&frame);
}

/*
 * zstd bombs.  A frame of 1 GiB of zeros is a few dozen kilobytes.
 * - declared honestly (body_len 1 GiB): refused on the header (limit);
 * - declared as 200 MiB in the header and in the frame's content size
 *   field (patched): inflation must stop at 200 MiB (corrupt);
 * - header body_len 0xFFFFFFFF in front of a tiny frame (limit).
 */
static void
gen_zstd_bombs(void)
{
	ZSTD_CCtx  *c = ZSTD_createCCtx();
	uint8_t    *zeros = xcalloc(1, MIB);
	Buf			frame = {0};
	uint8_t		out[1 << 16];
	size_t		fcs_pos;
	uint32_t	lie = (uint32_t) (200 * MIB);

	if (c == NULL)
		die("ZSTD_createCCtx failed");
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setPledgedSrcSize(c, GIB);
	for (uint64_t done = 0; done < GIB; done += MIB)
	{
		ZSTD_inBuffer in = {zeros, MIB, 0};
		ZSTD_EndDirective mode = done + MIB == GIB ? ZSTD_e_end : ZSTD_e_continue;
		size_t		rest;

		do
		{
			ZSTD_outBuffer o = {out, sizeof(out), 0};

			rest = ZSTD_compressStream2(c, &o, &in, mode);
			if (ZSTD_isError(rest))
				die("zstd: %s", ZSTD_getErrorName(rest));
			buf_put(&frame, out, o.pos);
		} while (in.pos < in.size || (mode == ZSTD_e_end && rest != 0));
	}
	ZSTD_freeCCtx(c);
	free(zeros);

	write_zstd("native_zstd_bomb_declared.native", (uint32_t) GIB, frame.data, frame.len);

	/* Frame_Header_Descriptor: FCS field size flag 2 means 4 bytes, after 1-byte window. */
	if (ZSTD_getFrameContentSize(frame.data, frame.len) != GIB)
		die("unexpected zstd frame header");
	if ((frame.data[4] >> 6) != 2 || (frame.data[4] & 0x20) != 0 || (frame.data[4] & 3) != 0)
		die("unexpected zstd frame header descriptor 0x%02x", frame.data[4]);
	fcs_pos = 6;				/* magic 4, descriptor 1, window descriptor 1 */
	frame.data[fcs_pos] = (uint8_t) lie;
	frame.data[fcs_pos + 1] = (uint8_t) (lie >> 8);
	frame.data[fcs_pos + 2] = (uint8_t) (lie >> 16);
	frame.data[fcs_pos + 3] = (uint8_t) (lie >> 24);
	if (ZSTD_getFrameContentSize(frame.data, frame.len) != lie)
		die("patching the zstd content size failed");
	write_zstd("native_zstd_bomb_lying.native", lie, frame.data, frame.len);

	zstd_frame(native_example + EX_BODY, sizeof(native_example) - EX_BODY, 1, 1, &frame);
	write_zstd("native_zstd_bomb_header.native", UINT32_MAX, frame.data, frame.len);
	buf_free(&frame);
}

/* ---------------------------------------------------------------------
 * Binary COPY streams: one row, one field.
 * --------------------------------------------------------------------- */

static void
write_copy(const char *name, const uint8_t *field, size_t len, int32_t declared_len)
{
	Buf			c = {0};

	buf_put(&c, "PGCOPY\n\377\r\n\0", 11);
	buf_be32(&c, 0);			/* flags */
	buf_be32(&c, 0);			/* header extension length */
	buf_be16(&c, 1);			/* one field */
	buf_be32(&c, (uint32_t) declared_len);
	buf_put(&c, field, len);
	buf_be16(&c, 0xffff);		/* trailer */
	write_file(name, c.data, c.len);
	buf_free(&c);
}

static void
gen_copy_cases(void)
{
	uint8_t		garbage[100];
	PbBuilder	b;
	Buf			pb = {0};
	Buf			gz = {0};

	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t) (rng_next() >> 56);
	garbage[0] = 0x33;
	write_copy("copy_garbage.copy", garbage, sizeof(garbage), sizeof(garbage));
	write_copy("copy_truncated_native.copy", native_example, 40, 40);
	write_copy("copy_short_field.copy", garbage, 10, 1000);

	base_profile(&b);
	b_pack(&b, &pb);
	pb_free(&b);
	gzip_buf(pb.data, pb.len, &gz);
	write_copy("copy_valid.copy", gz.data, gz.len, (int32_t) gz.len);
	buf_free(&pb);
	buf_free(&gz);
}

int
main(int argc, char **argv)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: gen_hostile DIR\n");
		return 2;
	}
	out_dir = argv[1];
	gen_valid();
	gen_random();
	gen_string_cases();
	gen_reference_cases();
	gen_value_cases();
	gen_encoding_cases();
	gen_accepted_cases();
	gen_native_cases();
	gen_copy_cases();
	gen_gzip_bomb();
	gen_deep_stack();
	gen_deep_inline();
	gen_many_samples();
	gen_huge_string_table();
	gen_zstd_bombs();
	return 0;
}
