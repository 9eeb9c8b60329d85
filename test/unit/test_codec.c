/*
 * test_codec.c
 *		Unit tests of the stored profile format (pe_codec.c, docs/FORMAT.md):
 *		round trips, byte-stable re-encoding, and a validation suite that
 *		feeds the decoder truncated, bit-flipped and hand-crafted bad values.
 *		Corpus profiles (through the pprof decoder) round-trip too.
 */
#include <dirent.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

#include "pe_codec.h"
#include "pe_dict.h"
#include "pe_input.h"
#include "pe_pprof.h"
#include "unit.h"

static PeCtx ctx;

static void
fresh_ctx(void)
{
	pe_ctx_init_malloc(&ctx);
}

/* A tree whose sample types are given as "type:unit" strings. */
static void
tree_new(PeTree *t, uint32_t nvalues, const char *const *types)
{
	PeMeta		m = {0};
	PeSampleType st[PE_MAX_VALUES];
	char		buf[PE_MAX_VALUES][64];

	for (uint32_t i = 0; i < nvalues; i++)
	{
		char	   *colon;

		snprintf(buf[i], sizeof(buf[i]), "%s", types[i]);
		colon = strchr(buf[i], ':');
		*colon = '\0';
		st[i].type = buf[i];
		st[i].unit = colon + 1;
	}
	m.nvalues = nvalues;
	m.types = st;
	m.period_type.type = "cpu";
	m.period_type.unit = "nanoseconds";
	m.period = 10000000;
	m.time_nanos = 1700000000123456789LL;
	m.duration_nanos = 10000000000LL;
	m.default_type = nvalues - 1;
	CHECK_OK(&ctx, pe_tree_init(&ctx, t, &m));
}

/* Add values at a ';'-separated stack, root to leaf ("" = the root). */
static void
add_stack(PeTree *t, const char *stack, const int64_t *values)
{
	uint32_t	node = 0;
	const char *p = stack;

	while (*p)
	{
		const char *end = strchr(p, ';');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		uint32_t	name = pe_strtab_intern_utf8(&t->names, p, len);

		node = pe_tree_child(t, node, name);
		CHECK(node != PE_NO_NODE);
		p += len + (end ? 1 : 0);
	}
	CHECK_OK(&ctx, pe_tree_add_self(t, node, values));
}

/* Equal canonical forms: same header, same pre-order walk of non-zero nodes. */
static bool
same_canonical(const PeTree *a, const PeTree *b)
{
	const PeMeta *ma = &a->meta;
	const PeMeta *mb = &b->meta;
	uint32_t	nv = ma->nvalues;

	if (ma->nvalues != mb->nvalues || ma->period != mb->period ||
		ma->time_nanos != mb->time_nanos || ma->duration_nanos != mb->duration_nanos ||
		ma->default_type != mb->default_type ||
		strcmp(ma->period_type.type, mb->period_type.type) != 0 ||
		strcmp(ma->period_type.unit, mb->period_type.unit) != 0)
		return false;
	for (uint32_t v = 0; v < nv; v++)
		if (strcmp(ma->types[v].type, mb->types[v].type) != 0 ||
			strcmp(ma->types[v].unit, mb->types[v].unit) != 0)
			return false;
	return unit_same_nodes(a, b);
}

/* Encode with no room; the caller frees the result. */
static uint8_t *
encode(const PeTree *t, int level, size_t *len)
{
	uint8_t    *out = NULL;

	*len = 0;
	CHECK_OK(&ctx, pe_encode(t, level, 0, &out, len));
	return out;
}

/* Encode in an older format version (the caller frees the result). */
static uint8_t *
encode_version(const PeTree *t, int version, int level, size_t *len)
{
	uint8_t    *out = NULL;

	*len = 0;
	CHECK_OK(&ctx, pe_encode_version(t, version, level, 0, &out, len));
	return out;
}

/* Encode in format version 1 (hand-built values are version 1). */
static uint8_t *
encode_v1(const PeTree *t, int level, size_t *len)
{
	return encode_version(t, 1, level, len);
}

/* Decode must fail with a corruption error (or the given code). */
static void
expect_fail(const uint8_t *data, size_t len, PeErrCode code, const char *msg_part)
{
	PeTree		t;

	fresh_ctx();
	if (pe_decode(&ctx, data, len, &t))
	{
		CHECK(!"decode accepted a bad value");
		fprintf(stderr, "  (expected: %s)\n", msg_part ? msg_part : "an error");
		pe_tree_free(&t);
		return;
	}
	CHECK(ctx.err.code == code);
	if (msg_part && strstr(ctx.err.msg, msg_part) == NULL)
	{
		CHECK(!"error message mismatch");
		fprintf(stderr, "  got \"%s\", expected it to contain \"%s\"\n", ctx.err.msg, msg_part);
	}
}

/* data must decode. */
static void
expect_ok(const uint8_t *data, size_t len)
{
	PeTree		t;

	fresh_ctx();
	CHECK_OK(&ctx, pe_decode(&ctx, data, len, &t));
	if (ctx.err.code == PE_OK)
		pe_tree_free(&t);
}

/* Round trip at a level: decoded tree equals t, re-encoding is identical. */
static void
check_round_trip(const PeTree *t, int level)
{
	size_t		len,
				len2;
	uint8_t    *x = encode(t, level, &len);
	uint8_t    *y;
	PeTree		d;

	if (x == NULL)
		return;
	CHECK(pe_is_native(x, len));
	CHECK_OK(&ctx, pe_decode(&ctx, x, len, &d));
	if (ctx.err.code != PE_OK)
	{
		free(x);
		return;
	}
	CHECK(same_canonical(t, &d));
	y = encode(&d, level, &len2);
	CHECK(y != NULL && len2 == len && memcmp(x, y, len) == 0);
	free(x);
	free(y);
	pe_tree_free(&d);
}

static const char *const three_types[] = {"samples:count", "cpu:nanoseconds", "alloc_space:bytes"};

/* Several types, negative values, a zero subtree, root self, unsorted input. */
static void
build_mixed(PeTree *t)
{
	int64_t		v1[] = {1, 10000000, 0};
	int64_t		v2[] = {-3, 0, 4096};
	int64_t		v3[] = {2, INT64_MAX, INT64_MIN};
	int64_t		zero[] = {0, 0, 0};

	tree_new(t, 3, three_types);
	add_stack(t, "main;zeta;leaf", v1);
	add_stack(t, "main;alpha", v2);
	add_stack(t, "main;alpha;x;y", v1);
	add_stack(t, "main;zeta;zero;deeper", zero);
	add_stack(t, "other", v3);
	add_stack(t, "main;alphabet", v1);
	add_stack(t, "main;alph", v2);
	add_stack(t, "", v2);
}

static void
test_round_trip_mixed(void)
{
	PeTree		t;
	uint8_t    *x;
	size_t		len;
	PeTree		d;

	fresh_ctx();
	build_mixed(&t);
	check_round_trip(&t, 0);
	check_round_trip(&t, 3);
	check_round_trip(&t, 19);

	/* The all-zero subtree is gone, everything else kept. */
	x = encode(&t, 0, &len);
	CHECK_OK(&ctx, pe_decode(&ctx, x, len, &d));
	CHECK(d.nnodes == t.nnodes - 2);
	CHECK(d.self[0] == -3 && d.self[2] == 4096);	/* root self survives */
	CHECK(d.meta.default_type == 2 && d.meta.time_nanos == 1700000000123456789LL);
	free(x);
	pe_tree_free(&d);
	pe_tree_free(&t);
}

static void
test_round_trip_utf8(void)
{
	PeTree		t;
	int64_t		one[] = {1};
	const char *const types[] = {"temps\xC3\xA9:\xE2\x82\xAC"};

	fresh_ctx();
	tree_new(&t, 1, types);
	add_stack(&t, "\xE6\x97\xA5\xE6\x9C\xAC;caf\xC3\xA9;\xF0\x9F\x94\xA5", one);
	add_stack(&t, "\xE6\x97\xA5\xE6\x9C\xAC;cafe", one);
	add_stack(&t, "a;;b", one);		/* an empty non-root name */
	add_stack(&t, "a;", one);
	check_round_trip(&t, 0);
	check_round_trip(&t, 3);
	pe_tree_free(&t);
}

static void
test_deep_chain(void)
{
	PeTree		t;
	uint32_t	node = 0;
	int64_t		v[] = {7, -7};
	const char *const types[] = {"samples:count", "delta:count"};
	size_t		len;
	uint8_t    *x;
	PeTree		d;

	fresh_ctx();
	tree_new(&t, 2, types);
	for (uint32_t i = 0; i < 100000; i++)
	{
		char		name[32];

		snprintf(name, sizeof(name), "frame_%u", i % 1000);
		node = pe_tree_append(&t, node, pe_strtab_intern(&t.names, name, strlen(name)));
	}
	CHECK_OK(&ctx, pe_tree_add_self(&t, node, v));
	check_round_trip(&t, 0);
	check_round_trip(&t, 3);

	unit_interrupt_calls = 0;
	ctx.check_interrupts = unit_count_interrupt;
	x = encode(&t, 3, &len);
	CHECK(x[5] == PE_FLAG_ZSTD);
	CHECK(unit_interrupt_calls >= 10);
	unit_interrupt_calls = 0;
	CHECK_OK(&ctx, pe_decode(&ctx, x, len, &d));
	CHECK(unit_interrupt_calls >= 10);
	CHECK(d.nnodes == 100001 && d.parent[100000] == 99999);
	CHECK(d.self[(size_t) 100000 * 2 + 1] == -7);
	free(x);
	pe_tree_free(&d);
	pe_tree_free(&t);
}

static void
test_empty_profile(void)
{
	PeTree		t;
	PeTree		d;
	uint8_t    *x;
	size_t		len;
	int64_t		zero[] = {0};
	int64_t		five[] = {5};
	const char *const types[] = {"samples:count"};

	fresh_ctx();
	tree_new(&t, 1, types);
	check_round_trip(&t, 0);
	check_round_trip(&t, 3);
	add_stack(&t, "a;b", zero);		/* all zero: stored as an empty profile */
	x = encode(&t, 0, &len);
	CHECK_OK(&ctx, pe_decode(&ctx, x, len, &d));
	CHECK(d.nnodes == 1);
	free(x);
	pe_tree_free(&d);
	add_stack(&t, "", five);			/* only the root has a value */
	check_round_trip(&t, 0);
	pe_tree_free(&t);
}

/* A big, repetitive tree: compression must win and be flagged. */
static void
build_wide(PeTree *t, uint32_t n)
{
	const char *const types[] = {"samples:count", "cpu:nanoseconds"};

	tree_new(t, 2, types);
	for (uint32_t i = 0; i < n; i++)
	{
		char		stack[256];
		int64_t		v[] = {i % 5, (int64_t) (i % 5) * 10000000};

		snprintf(stack, sizeof(stack),
				 "runtime.main;github.com/example/service/pkg%u.Handler;"
				 "github.com/example/service/internal/db.(*Conn).Query%u;syscall.Syscall",
				 i % 17, i % 29);
		add_stack(t, stack, v);
	}
}

static void
test_compressed_and_raw(void)
{
	PeTree		t;
	size_t		raw_len,
				z_len,
				len;
	uint8_t    *raw;
	uint8_t    *z;
	uint8_t    *roomy = NULL;
	const char *const types[] = {"samples:count"};
	int64_t		one[] = {1};

	fresh_ctx();
	build_wide(&t, 2000);
	raw = encode(&t, 0, &raw_len);
	z = encode(&t, 3, &z_len);
	CHECK(raw[5] == 0 && z[5] == PE_FLAG_ZSTD);
	CHECK(z_len < raw_len);
	/* Both declare the same body length. */
	CHECK(memcmp(raw + 8, z + 8, 4) == 0);
	CHECK(raw[4] == PE_FORMAT_VERSION && raw_len == PE_HEADER_SIZE_V2 +
		  (size_t) (raw[12] | raw[13] << 8 | raw[14] << 16 | raw[15] << 24) +
		  (size_t) (raw[8] | raw[9] << 8 | raw[10] << 16 | raw[11] << 24));
	/* room bytes in front, the value after them */
	CHECK_OK(&ctx, pe_encode(&t, 3, 7, &roomy, &len));
	CHECK(len == z_len && memcmp(roomy + 7, z, len) == 0);
	check_round_trip(&t, 1);
	check_round_trip(&t, 19);
	free(raw);
	free(z);
	free(roomy);
	pe_tree_free(&t);

	/* A tiny tree does not shrink: stored raw even at a zstd level. */
	tree_new(&t, 1, types);
	add_stack(&t, "a", one);
	z = encode(&t, 3, &z_len);
	CHECK(z[5] == 0);
	free(z);
	pe_tree_free(&t);
}

static void
test_encoder_refuses(void)
{
	PeTree		t;
	PeMeta		m = {0};
	uint8_t    *out = NULL;
	size_t		len;
	int64_t		one[] = {1};
	const char *const types[] = {"samples:count"};

	fresh_ctx();
	m.period_type.type = "";
	m.period_type.unit = "";
	m.default_type = -1;
	CHECK_OK(&ctx, pe_tree_init(&ctx, &t, &m));
	CHECK(!pe_encode(&t, 0, 0, &out, &len) && ctx.err.code == PE_ERR_ARG);
	pe_tree_free(&t);

	fresh_ctx();
	tree_new(&t, 1, types);
	pe_tree_append(&t, 0, pe_strtab_intern(&t.names, "dup", 3));
	pe_tree_append(&t, 0, pe_strtab_intern(&t.names, "dup", 3));
	CHECK_OK(&ctx, pe_tree_add_self(&t, 1, one));
	CHECK_OK(&ctx, pe_tree_add_self(&t, 2, one));
	CHECK(!pe_encode(&t, 0, 0, &out, &len) && ctx.err.code == PE_ERR_ARG);
	pe_tree_free(&t);

	fresh_ctx();
	tree_new(&t, 1, types);
	pe_tree_append(&t, 0, pe_strtab_intern(&t.names, "bad\xFF", 4));
	CHECK_OK(&ctx, pe_tree_add_self(&t, 1, one));
	CHECK(!pe_encode(&t, 0, 0, &out, &len) && ctx.err.code == PE_ERR_ARG);
	pe_tree_free(&t);
}

static void
test_is_native(void)
{
	const uint8_t native[] = {0x7F, 'P', 'R', 'F', 1};
	const uint8_t gzip[] = {0x1F, 0x8B, 8, 0};
	const uint8_t pprof[] = {0x0A, 0x04, 0x08, 0x01};

	CHECK(pe_is_native(native, sizeof(native)));
	CHECK(!pe_is_native(native, 3));
	CHECK(!pe_is_native(gzip, sizeof(gzip)));
	CHECK(!pe_is_native(pprof, sizeof(pprof)));
}

/* Every prefix of a valid value is refused cleanly. */
static void
check_truncations(const uint8_t *x, size_t len)
{
	for (size_t n = 0; n < len; n++)
	{
		PeTree		t;

		fresh_ctx();
		if (pe_decode(&ctx, x, n, &t))
		{
			CHECK(!"truncated value accepted");
			pe_tree_free(&t);
		}
		else
			CHECK(ctx.err.code == PE_ERR_CORRUPT);
	}
}

static void
test_truncations(void)
{
	PeTree		t;
	size_t		len;
	uint8_t    *x;

	fresh_ctx();
	build_mixed(&t);
	x = encode(&t, 0, &len);
	check_truncations(x, len);
	free(x);
	pe_tree_free(&t);

	fresh_ctx();
	build_wide(&t, 300);
	x = encode(&t, 3, &len);
	CHECK(x[5] == PE_FLAG_ZSTD);
	check_truncations(x, len);
	free(x);
	pe_tree_free(&t);
}

/*
 * Flip every bit: the decoder refuses, or accepts a valid value.  A raw
 * value it accepts must be canonical (re-encodes to the same bytes); a
 * compressed one must be the original tree (the checksum).
 */
static void
check_bit_flips(const PeTree *orig, const uint8_t *x, size_t len, int level)
{
	uint8_t    *y = malloc(len);
	int			accepted = 0;

	for (size_t bit = 0; bit < len * 8; bit++)
	{
		PeTree		d;

		memcpy(y, x, len);
		y[bit / 8] ^= (uint8_t) (1 << (bit % 8));
		fresh_ctx();
		if (!pe_decode(&ctx, y, len, &d))
		{
			CHECK(ctx.err.code == PE_ERR_CORRUPT || ctx.err.code == PE_ERR_UNSUPPORTED || pe_err_is_limit(ctx.err.code));
			continue;
		}
		accepted++;
		if (level == 0)
		{
			size_t		len2;
			uint8_t    *z = encode_version(&d, y[4], 0, &len2);

			CHECK(z && len2 == len && memcmp(y, z, len) == 0);
			free(z);
		}
		else
			CHECK(same_canonical(orig, &d));
		pe_tree_free(&d);
	}
	if (level == 0)
		CHECK(accepted > 0);	/* flipped values still decode */
	free(y);
}

static void
test_bit_flips(void)
{
	PeTree		t;
	size_t		len;
	uint8_t    *x;

	/* Every version: old versions stay readable, so their checks stay too. */
	for (int version = 1; version <= PE_FORMAT_VERSION; version++)
	{
		fresh_ctx();
		build_mixed(&t);
		x = encode_version(&t, version, 0, &len);
		check_bit_flips(&t, x, len, 0);
		free(x);
		pe_tree_free(&t);

		fresh_ctx();
		build_wide(&t, 60);
		x = encode_version(&t, version, 3, &len);
		CHECK(x[4] == version && x[5] == PE_FLAG_ZSTD);
		check_bit_flips(&t, x, len, 3);
		free(x);
		pe_tree_free(&t);
	}
}

/*
 * Version 3's name table: the shared-prefix column, then the name bytes.
 * build_mixed's stored names are "alph", "alpha", "alphabet", "leaf",
 * "main", "other", "x", "y", "zeta" (its zero subtree is left out):
 * shared 0 4 5 0 0 0 0 0 0.  Each rule of the table gets a broken value.
 */
static void
test_name_table_v3(void)
{
	PeTree		t;
	size_t		len;
	uint8_t    *x;
	uint8_t    *y;
	size_t		body;
	const uint8_t shared[] = {0, 4, 5, 0, 0, 0, 0, 0, 0};

	fresh_ctx();
	build_mixed(&t);
	x = encode_version(&t, 3, 0, &len);
	if (x == NULL)
		return;
	y = malloc(len);
	body = PE_HEADER_SIZE_V2 + (x[12] | x[13] << 8 | x[14] << 16 | (size_t) x[15] << 24);
	/* nstrings 9, the name bytes' size (36: one varint byte), the column */
	CHECK(x[4] == 3 && x[body] == 9 && x[body + 1] == 36);
	CHECK(memcmp(x + body + 2, shared, sizeof(shared)) == 0);
	CHECK(memcmp(x + body + 2 + sizeof(shared), "alph\0a\0bet\0", 11) == 0);
	check_bit_flips(&t, x, len, 0);

	/* "alpha" sharing 5 bytes with "alph" */
	memcpy(y, x, len);
	y[body + 2 + 1] = 5;
	expect_fail(y, len, PE_ERR_CORRUPT, "name 1 shares 5 bytes with a previous name of 4");
	/* "alpha" sharing 3: "alpa" after "alph" is out of order */
	y[body + 2 + 1] = 3;
	expect_fail(y, len, PE_ERR_CORRUPT, "name 1 is not after name 0");
	/* a shared length that is no varint: 0x80 runs into the first name byte */
	memcpy(y, x, len);
	y[body + 2 + 8] = 0x80;
	expect_fail(y, len, PE_ERR_CORRUPT, NULL);
	/* name bytes larger than what follows, and fewer than one NUL per name */
	memcpy(y, x, len);
	y[body + 1] = 0x7F;
	expect_fail(y, len, PE_ERR_CORRUPT, "overrun");
	memcpy(y, x, len);
	y[body + 1] = 8;
	expect_fail(y, len, PE_ERR_CORRUPT, "9 names declared in 8 bytes");
	/* one name byte fewer: the last name is cut before its NUL */
	memcpy(y, x, len);
	y[body + 1]--;
	expect_fail(y, len, PE_ERR_CORRUPT, "not NUL-terminated");
	/* one more: the first column byte becomes part of the table */
	memcpy(y, x, len);
	y[body + 1]++;
	expect_fail(y, len, PE_ERR_CORRUPT, NULL);
	/* version 2 reads the same bytes differently and refuses them */
	memcpy(y, x, len);
	y[4] = 2;
	expect_fail(y, len, PE_ERR_CORRUPT, NULL);
	free(x);
	free(y);
	pe_tree_free(&t);

	/*
	 * "a\u00e8" and "a\u00e9" share "a" and the first byte of their second
	 * character: the name bytes "\xA9" are no UTF-8 alone, the whole name is.
	 * And a name ending in a bad byte after a shared ASCII prefix is refused.
	 */
	{
		const char *const one_type[] = {"samples:count"};
		int64_t		one[] = {1};

		fresh_ctx();
		tree_new(&t, 1, one_type);
		add_stack(&t, "a\xC3\xA8;a\xC3\xA9", one);
		add_stack(&t, "a\xC3\xA9", one);
		check_round_trip(&t, 0);
		check_round_trip(&t, 3);
		x = encode_version(&t, 3, 0, &len);
		body = PE_HEADER_SIZE_V2 + (x[12] | x[13] << 8 | x[14] << 16 | (size_t) x[15] << 24);
		/* nstrings 2, 6 name bytes, shared 0 and 2, then "a\xC3\xA8" NUL "\xA9" NUL */
		CHECK(x[body] == 2 && x[body + 1] == 6 && x[body + 2] == 0 && x[body + 3] == 2);
		CHECK(memcmp(x + body + 4, "a\xC3\xA8\0\xA9\0", 6) == 0);
		/* "\xA9" after a shared "a" (a character boundary): refused */
		x[body + 3] = 1;
		expect_fail(x, len, PE_ERR_CORRUPT, "name 1 is not valid UTF-8");
		free(x);
		pe_tree_free(&t);
	}

	/* Older writers' version 2 and 3 values still read, and rewrite as the current version. */
	for (int version = 2; version <= 3; version++)
	{
		fresh_ctx();
		build_mixed(&t);
		x = encode_version(&t, version, 3, &len);
		CHECK(x[4] == version);
		pe_tree_free(&t);
		CHECK_OK(&ctx, pe_decode(&ctx, x, len, &t));
		free(x);
		if (ctx.err.code != PE_OK)
			return;
		x = encode(&t, 3, &len);
		CHECK(x[4] == PE_FORMAT_VERSION);
		free(x);
		pe_tree_free(&t);
	}
}

/*
 * Version 4: version 3's layout, its zstd frame made with the format's
 * dictionary and naming it; a frame without it, or with another, is refused
 * before decompressing, and versions 1-3 still refuse any dictionary.
 */
static void
test_format_v4(void)
{
	PeTree		t;
	size_t		len3;
	size_t		len4;
	uint8_t    *x3;
	uint8_t    *x4;
	uint8_t    *id = NULL;

	/* The embedded dictionary is the documented one (docs/FORMAT.md). */
	CHECK(ZSTD_getDictID_fromDict(pe_dict_v4, PE_DICT_V4_SIZE) == PE_DICT_V4_ID);
	CHECK(crc32(0, pe_dict_v4, PE_DICT_V4_SIZE) == 2221855339u);

	/* Raw bodies: the same bytes as version 3 but for the version byte. */
	fresh_ctx();
	build_mixed(&t);
	x3 = encode_version(&t, 3, 0, &len3);
	x4 = encode(&t, 0, &len4);
	CHECK(x4[4] == 4 && x4[5] == 0 && len3 == len4);
	CHECK(memcmp(x3 + 5, x4 + 5, len4 - 5) == 0);
	free(x3);
	free(x4);
	pe_tree_free(&t);

	/* Compressed: the frame names the dictionary; the value round-trips. */
	fresh_ctx();
	build_wide(&t, 60);
	check_round_trip(&t, 3);
	x4 = encode(&t, 3, &len4);
	x3 = encode_version(&t, 3, 3, &len3);
	pe_tree_free(&t);
	CHECK(x4[5] == PE_FLAG_ZSTD && x3[5] == PE_FLAG_ZSTD);
	{
		size_t		prefix = PE_HEADER_SIZE_V2 + (x4[12] | x4[13] << 8 | x4[14] << 16 | (size_t) x4[15] << 24);

		CHECK(ZSTD_getDictID_fromFrame(x4 + prefix, len4 - prefix) == PE_DICT_V4_ID);
		/* the dictionary ID in the frame header (little-endian, 4 bytes) */
		for (size_t i = prefix + 4; i + 4 <= prefix + 18 && i + 4 <= len4; i++)
			if (x4[i] == (PE_DICT_V4_ID & 0xFF) && x4[i + 1] == (PE_DICT_V4_ID >> 8 & 0xFF) &&
				x4[i + 2] == (PE_DICT_V4_ID >> 16 & 0xFF) && x4[i + 3] == PE_DICT_V4_ID >> 24)
				id = x4 + i;
	}
	CHECK(id != NULL);
	if (id)
	{
		/* another dictionary's ID */
		id[0] ^= 1;
		expect_fail(x4, len4, PE_ERR_CORRUPT, "zstd frame of format version 4 without its dictionary");
		CHECK(strstr(ctx.err.detail, "this frame names 1346699269") != NULL);
		id[0] ^= 1;
	}
	/* version 4 claimed for a frame without a dictionary; version 3 for one with it */
	x3[4] = 4;
	expect_fail(x3, len3, PE_ERR_CORRUPT, "zstd frame of format version 4 without its dictionary");
	CHECK(strstr(ctx.err.detail, "this frame names 0 (0: none)") != NULL);
	x4[4] = 3;
	expect_fail(x4, len4, PE_ERR_CORRUPT, "zstd frame without checksum or with a dictionary");
	x4[4] = 2;
	expect_fail(x4, len4, PE_ERR_CORRUPT, "zstd frame without checksum or with a dictionary");
	free(x3);
	free(x4);
}

/* ---- hand-built values for the validation suite ---- */

typedef struct Val
{
	uint8_t		b[4096];
	size_t		n;
} Val;

static void
v_u(Val *v, uint64_t x)
{
	while (x >= 0x80)
	{
		v->b[v->n++] = (uint8_t) (x | 0x80);
		x >>= 7;
	}
	v->b[v->n++] = (uint8_t) x;
}

static void
v_s(Val *v, int64_t x)
{
	v_u(v, ((uint64_t) x << 1) ^ (uint64_t) (x >> 63));
}

static void
v_str(Val *v, const char *s, size_t len)
{
	v_u(v, len);
	memcpy(v->b + v->n, s, len);
	v->n += len;
}

static void
v_raw(Val *v, const char *s, size_t len)
{
	memcpy(v->b + v->n, s, len);
	v->n += len;
}

static void
v_cstr(Val *v, const char *s)
{
	v_str(v, s, strlen(s));
}

/* Start a value: header (length patched by v_end) and a one-type meta. */
static void
v_begin(Val *v)
{
	const uint8_t h[PE_HEADER_SIZE] = {0x7F, 'P', 'R', 'F', 1, 0, 0, 0, 0, 0, 0, 0};

	memcpy(v->b, h, sizeof(h));
	v->n = PE_HEADER_SIZE;
	v_u(v, 1);
	v_cstr(v, "samples");
	v_cstr(v, "count");
	v_cstr(v, "cpu");
	v_cstr(v, "nanoseconds");
	v_s(v, 100);
	v_s(v, 0);
	v_s(v, -5);
	v_u(v, 1);
}

static void
v_end(Val *v)
{
	uint32_t	body = (uint32_t) (v->n - PE_HEADER_SIZE);

	v->b[8] = (uint8_t) body;
	v->b[9] = (uint8_t) (body >> 8);
	v->b[10] = (uint8_t) (body >> 16);
	v->b[11] = (uint8_t) (body >> 24);
}

/*
 * A whole value after the meta: names (front-coded in the order given),
 * then nodes given as (up, name index, self) triples, root self 0.  Name
 * indexes are turned into the stored codes: the gap to the previous
 * sibling, or the zigzagged difference to the parent's index.
 */
static void
v_tree(Val *v, int nnames, const char *const *names, int nnodes, const int *nodes)
{
	size_t		block = 0;
	int			depth = 0;
	int			path[64] = {0};
	int			last[65];

	for (int pass = 0; pass < 2; pass++)
	{
		if (pass == 1)
		{
			v_u(v, nnames);
			v_u(v, block);
		}
		for (int i = 0; i < nnames; i++)
		{
			const char *prev = i ? names[i - 1] : "";
			size_t		k = 0;

			while (names[i][k] && prev[k] && names[i][k] == prev[k])
				k++;
			if (pass == 0)
				block += 1 + strlen(names[i]) - k + 1;
			else
			{
				v_u(v, k);
				v_raw(v, names[i] + k, strlen(names[i]) - k + 1);
			}
		}
	}
	v_u(v, nnodes);
	for (int i = 0; i < nnodes; i++)
		v_u(v, nodes[3 * i]);
	last[1] = -1;
	for (int i = 0; i < nnodes; i++)
	{
		int			index = nodes[3 * i + 1];

		depth = depth + 1 - nodes[3 * i];
		if (depth < 1 || depth > 62)
			depth = 1;
		if (last[depth] >= 0)
			v_u(v, (uint64_t) (index - last[depth] - 1));
		else
			v_s(v, index - path[depth - 1]);
		last[depth] = index;
		last[depth + 1] = -1;
		path[depth] = index;
	}
	v_s(v, 0);
	for (int i = 0; i < nnodes; i++)
		v_s(v, nodes[3 * i + 2]);
	v_end(v);
}

static void
test_hand_built_valid(void)
{
	Val			v;
	PeTree		t;
	/* main -> {a, b -> c}; b has no value of its own */
	const char *const sorted[] = {"a", "b", "c", "main"};
	const int	nodes[] = {0, 3, 0, 0, 0, 1, 1, 1, 0, 0, 2, 2};
	size_t		len;
	uint8_t    *x;

	v_begin(&v);
	v_tree(&v, 4, sorted, 4, nodes);
	fresh_ctx();
	CHECK_OK(&ctx, pe_decode(&ctx, v.b, v.n, &t));
	if (ctx.err.code != PE_OK)
		return;
	CHECK(t.nnodes == 5 && t.parent[4] == 3 && t.self[4] == 2);
	CHECK(t.meta.period == 100 && t.meta.duration_nanos == -5 && t.meta.default_type == 0);
	x = encode_v1(&t, 0, &len);
	CHECK(len == v.n && memcmp(x, v.b, len) == 0);
	free(x);
	pe_tree_free(&t);
}

static void
test_bad_headers(void)
{
	PeTree		t;
	Val			v;
	uint8_t    *z;
	size_t		zlen;
	uint8_t		copy[8192];
	const char *const names[] = {"a"};
	const int	nodes[] = {0, 0, 1};

	v_begin(&v);
	v_tree(&v, 1, names, 1, nodes);

	expect_fail(v.b, 5, PE_ERR_CORRUPT, "too short");
	memcpy(copy, v.b, v.n);
	copy[0] = 0x1F;
	expect_fail(copy, v.n, PE_ERR_CORRUPT, "bad magic");
	memcpy(copy, v.b, v.n);
	copy[3] = 'G';
	expect_fail(copy, v.n, PE_ERR_CORRUPT, "bad magic");

	memcpy(copy, v.b, v.n);
	copy[4] = 7;
	expect_fail(copy, v.n, PE_ERR_UNSUPPORTED, "unsupported profile format version 7");
	CHECK(strstr(ctx.err.detail, "versions 1 to 4") != NULL);
	copy[4] = 0;
	expect_fail(copy, v.n, PE_ERR_UNSUPPORTED, "unsupported profile format version 0");

	memcpy(copy, v.b, v.n);
	copy[5] = 0x02;
	expect_fail(copy, v.n, PE_ERR_CORRUPT, "unknown flag bits 0x02");
	copy[5] = 0x80;
	expect_fail(copy, v.n, PE_ERR_CORRUPT, "unknown flag bits 0x80");

	memcpy(copy, v.b, v.n);
	copy[7] = 1;
	expect_fail(copy, v.n, PE_ERR_CORRUPT, "reserved");

	/* Declared length lies (both ways), or exceeds the limit. */
	memcpy(copy, v.b, v.n);
	copy[8]++;
	expect_fail(copy, v.n, PE_ERR_CORRUPT, "body length does not match");
	copy[8] -= 2;
	expect_fail(copy, v.n, PE_ERR_CORRUPT, "body length does not match");
	memcpy(copy, v.b, v.n);
	copy[11] = 0xFF;
	expect_fail(copy, v.n, PE_ERR_LIMIT_SIZE, "decoded size limit");
	fresh_ctx();
	ctx.limits.max_decoded_bytes = 10;
	CHECK(!pe_decode(&ctx, v.b, v.n, &t) && pe_err_is_limit(ctx.err.code));

	/* Raw body flagged as zstd. */
	memcpy(copy, v.b, v.n);
	copy[5] = PE_FLAG_ZSTD;
	expect_fail(copy, v.n, PE_ERR_CORRUPT, "zstd frame header");

	/* A real zstd body: the frame must agree with the header. */
	{
		PeTree		w;

		fresh_ctx();
		build_wide(&w, 100);
		z = encode(&w, 3, &zlen);
		pe_tree_free(&w);
	}
	CHECK(z[5] == PE_FLAG_ZSTD && zlen + 16 < sizeof(copy));
	memcpy(copy, z, zlen);
	copy[8] ^= 1;
	expect_fail(copy, zlen, PE_ERR_CORRUPT, "size does not match");
	memcpy(copy, z, zlen);
	copy[5] = 0;
	expect_fail(copy, zlen, PE_ERR_CORRUPT, "body length does not match");
	memcpy(copy, z, zlen);
	copy[zlen] = 0;
	expect_fail(copy, zlen + 1, PE_ERR_CORRUPT, "followed by other data");
	/* Two frames back to back are not one body. */
	memcpy(copy + zlen, z + PE_HEADER_SIZE, zlen - PE_HEADER_SIZE);
	memcpy(copy, z, zlen);
	expect_fail(copy, zlen + zlen - PE_HEADER_SIZE, PE_ERR_CORRUPT, "followed by other data");
	free(z);

	/* A frame without checksum is refused. */
	{
		uint8_t		frame[256];
		size_t		flen = ZSTD_compress(frame, sizeof(frame), v.b + PE_HEADER_SIZE,
										 v.n - PE_HEADER_SIZE, 3);

		CHECK(!ZSTD_isError(flen));
		memcpy(copy, v.b, PE_HEADER_SIZE);
		copy[5] = PE_FLAG_ZSTD;
		memcpy(copy + PE_HEADER_SIZE, frame, flen);
		expect_fail(copy, PE_HEADER_SIZE + flen, PE_ERR_CORRUPT, "without checksum");
	}
}

/* Build a value with one tweak in the meta, for the meta checks. */
static void
test_bad_meta(void)
{
	Val			v;
	const char *const names[] = {"a"};
	const int	nodes[] = {0, 0, 1};
	uint8_t		hdr[PE_HEADER_SIZE] = {0x7F, 'P', 'R', 'F', 1, 0, 0, 0, 0, 0, 0, 0};

	/* No sample types, too many, default type out of range. */
	memcpy(v.b, hdr, PE_HEADER_SIZE);
	v.n = PE_HEADER_SIZE;
	v_u(&v, 0);
	v_end(&v);
	expect_fail(v.b, v.n, PE_ERR_CORRUPT, "no sample types");

	v.n = PE_HEADER_SIZE;
	v_u(&v, PE_MAX_VALUES + 1);
	v_end(&v);
	expect_fail(v.b, v.n, PE_ERR_CORRUPT, "number of sample types is 65");

	v.n = PE_HEADER_SIZE;
	v_u(&v, 1);
	v_cstr(&v, "samples");
	v_cstr(&v, "count");
	v_cstr(&v, "");
	v_cstr(&v, "");
	v_s(&v, 0);
	v_s(&v, 0);
	v_s(&v, 0);
	v_u(&v, 2);
	v_tree(&v, 1, names, 1, nodes);
	expect_fail(v.b, v.n, PE_ERR_CORRUPT, "default sample type is 2");

	/* Invalid UTF-8 and NUL in header strings. */
	v.n = PE_HEADER_SIZE;
	v_u(&v, 1);
	v_str(&v, "bad\xC0\x80", 5);
	v_end(&v);
	expect_fail(v.b, v.n, PE_ERR_CORRUPT, "type of sample type 0 is not valid UTF-8");
	v.n = PE_HEADER_SIZE;
	v_u(&v, 1);
	v_cstr(&v, "ok");
	v_str(&v, "n\0l", 3);
	v_end(&v);
	expect_fail(v.b, v.n, PE_ERR_CORRUPT, "unit of sample type 0 is not valid UTF-8");

	/* A string longer than the body. */
	v.n = PE_HEADER_SIZE;
	v_u(&v, 1);
	v_u(&v, 1000);
	v_end(&v);
	expect_fail(v.b, v.n, PE_ERR_CORRUPT, "runs past the end");

	/* Varints: not minimal, longer than 64 bits, cut off. */
	v.n = PE_HEADER_SIZE;
	v.b[v.n++] = 0x81;
	v.b[v.n++] = 0x00;
	v_end(&v);
	expect_fail(v.b, v.n, PE_ERR_CORRUPT, "non-minimal varint");
	v.n = PE_HEADER_SIZE;
	for (int i = 0; i < 9; i++)
		v.b[v.n++] = 0xFF;
	v.b[v.n++] = 0x02;
	v_end(&v);
	expect_fail(v.b, v.n, PE_ERR_CORRUPT, "exceeds 64 bits");
	v.n = PE_HEADER_SIZE;
	for (int i = 0; i < 11; i++)
		v.b[v.n++] = 0x80;
	v_end(&v);
	expect_fail(v.b, v.n, PE_ERR_CORRUPT, "exceeds 64 bits");
	v.n = PE_HEADER_SIZE;
	v.b[v.n++] = 0x80;
	v_end(&v);
	expect_fail(v.b, v.n, PE_ERR_CORRUPT, "body ends inside the number of sample types");
}

static void
test_bad_trees(void)
{
	Val			v;
	PeTree		t;

	/* Name index out of range. */
	{
		const char *const names[] = {"a"};
		const int	nodes[] = {0, 5, 1};

		v_begin(&v);
		v_tree(&v, 1, names, 1, nodes);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "node 1 has a name out of range");
		CHECK(strcmp(ctx.err.detail, "The value has 1 names.") == 0);
	}
	/* Duplicate siblings, wrong sibling order, a second root-level run. */
	{
		const char *const names[] = {"a", "b"};
		const int	dup[] = {0, 0, 1, 1, 0, 1};
		const int	order[] = {0, 1, 1, 1, 0, 1};
		const int	fine[] = {0, 0, 1, 1, 1, 1};

		v_begin(&v);
		v_tree(&v, 1, names, 2, dup);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "node 2 has a name out of range");
		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"b", "a"}, 2, order);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "name 1 is not after name 0 in byte order");
		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"b", "a"}, 2, fine);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "name 1 is not after name 0 in byte order");
		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"ab", "a"}, 2, fine);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "name 1 is not after name 0 in byte order");
		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"a", "ab"}, 2, fine);
		expect_ok(v.b, v.n);
	}
	/* Same name at different parents is fine; a child then a sibling. */
	{
		const int	nodes[] = {0, 0, 1, 0, 0, 1, 1, 1, 1};	/* a, a/a, b */

		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"a", "b"}, 3, nodes);
		expect_ok(v.b, v.n);
	}
	/* Depth jumps: the first node must have up 0; no climbing past the root. */
	{
		const int	first[] = {1, 0, 1};
		const int	climb[] = {0, 0, 1, 0, 1, 1, 3, 0, 1};

		v_begin(&v);
		v_tree(&v, 1, (const char *const[]) {"a"}, 1, first);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "node 1 climbs 1 levels from depth 0");
		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"a", "b"}, 3, climb);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "node 3 climbs 3 levels from depth 2");
	}
	/* Names: unused, repeated, empty twice, bad UTF-8. */
	{
		const int	one[] = {0, 0, 1};
		const int	two[] = {0, 0, 1, 1, 1, 1};

		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"a", "b"}, 1, one);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "name 1 is never used");
		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"a", "a"}, 2, two);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "name 1 is not after name 0 in byte order");
		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"", ""}, 2, two);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "name 1 is not after name 0 in byte order");
		v_begin(&v);
		v_tree(&v, 1, (const char *const[]) {"\xED\xA0\x80"}, 1, one);	/* surrogate */
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "name 0 is not valid UTF-8");
	}
	/* An all-zero subtree (which the writer leaves out). */
	{
		const int	zero_leaf[] = {0, 0, 1, 0, 1, 0};

		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"a", "b"}, 2, zero_leaf);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "node 2 and all its descendants have only zero values");
	}
	/*
	 * Several all-zero subtrees: the error names the last node whose
	 * subtree is all zero (a leaf), as a walk up from the last node finds it.
	 */
	{
		/* a(0) with b(0) and c(0), then d(5): a, b and c are all zero */
		const int	two_leaves[] = {0, 0, 0, 0, 1, 0, 1, 2, 0, 2, 3, 5};
		/* a(0) with b(0) and c(5): only b */
		const int	first_leaf[] = {0, 0, 0, 0, 1, 0, 1, 2, 5};
		/* a(0)/b(0)/c(0), then d(1) under a: a/b/c */
		const int	chain[] = {0, 0, 0, 0, 1, 0, 0, 2, 0, 2, 3, 1};
		/* a(0)/b(4): the internal zero node is fine */
		const int	fine[] = {0, 0, 0, 0, 1, 4};

		v_begin(&v);
		v_tree(&v, 4, (const char *const[]) {"a", "b", "c", "d"}, 4, two_leaves);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "node 3 and all its descendants have only zero values");
		v_begin(&v);
		v_tree(&v, 3, (const char *const[]) {"a", "b", "c"}, 3, first_leaf);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "node 2 and all its descendants have only zero values");
		v_begin(&v);
		v_tree(&v, 4, (const char *const[]) {"a", "b", "c", "d"}, 4, chain);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "node 3 and all its descendants have only zero values");
		v_begin(&v);
		v_tree(&v, 2, (const char *const[]) {"a", "b"}, 2, fine);
		expect_ok(v.b, v.n);
	}
	/* Two-byte varints in a column: read, and refused when not minimal. */
	{
		const int	big[] = {0, 0, 300};
		const int	one[] = {0, 0, 1};

		v_begin(&v);
		v_tree(&v, 1, (const char *const[]) {"a"}, 1, big);
		fresh_ctx();
		CHECK_OK(&ctx, pe_decode(&ctx, v.b, v.n, &t));
		if (ctx.err.code == PE_OK)
		{
			CHECK(t.nnodes == 2 && t.self[1] == 300);
			pe_tree_free(&t);
		}
		v_begin(&v);
		v_tree(&v, 1, (const char *const[]) {"a"}, 1, one);
		v.b[v.n - 1] = 0x82;	/* node 1's value 1, zigzagged 2, in two bytes */
		v.b[v.n++] = 0x00;
		v_end(&v);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "non-minimal varint of a value of node 1");
	}
	/* Trailing bytes; too many nodes declared; the node limit. */
	{
		const int	one[] = {0, 0, 1};
		const int	three[] = {0, 0, 1, 0, 1, 1, 0, 2, 1};

		v_begin(&v);
		v_tree(&v, 1, (const char *const[]) {"a"}, 1, one);
		v.b[v.n++] = 0;
		v_end(&v);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "1 bytes after the last column");

		v_begin(&v);
		v_u(&v, 1);
		v_u(&v, 3);
		v_u(&v, 0);
		v_raw(&v, "a", 2);
		v_u(&v, 1000000);
		v_end(&v);
		expect_fail(v.b, v.n, PE_ERR_CORRUPT, "1000000 nodes declared");

		v_begin(&v);
		v_tree(&v, 3, (const char *const[]) {"a", "b", "c"}, 3, three);
		fresh_ctx();
		ctx.limits.max_nodes = 3;
		CHECK(!pe_decode(&ctx, v.b, v.n, &t) && pe_err_is_limit(ctx.err.code));
		ctx.limits.max_nodes = 4;
		memset(&ctx.err, 0, sizeof(ctx.err));
		CHECK_OK(&ctx, pe_decode(&ctx, v.b, v.n, &t));
		if (ctx.err.code == PE_OK)
			pe_tree_free(&t);
	}
}

/*
 * Every corpus profile the pprof decoder accepts round-trips, raw and
 * compressed; prints the stored size against the files' size.
 */
static void
test_corpus_round_trip(void)
{
	const char *dir = unit_corpus_dir();
	char		path[2048];
	DIR		   *dh;
	struct dirent *e;
	size_t		file_bytes = 0;
	size_t		stored_bytes = 0;
	int			nfiles = 0;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/pprof", dir);
	dh = opendir(path);
	if (dh == NULL)
		return;
	while ((e = readdir(dh)) != NULL)
	{
		size_t		flen,
					len;
		unsigned char *data;
		uint8_t    *x;
		PeTree		t;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/pprof/%s", dir, e->d_name);
		data = unit_read_file(path, &flen);
		if (data == NULL)
			continue;
		fresh_ctx();
		if (pe_pprof_decode(&ctx, data, flen, &t))
		{
			check_round_trip(&t, 0);
			check_round_trip(&t, 3);
			x = encode(&t, 3, &len);
			file_bytes += flen;
			stored_bytes += len;
			nfiles++;
			free(x);
			pe_tree_free(&t);
		}
		free(data);
	}
	closedir(dh);
	CHECK(nfiles > 0);
	printf("  %d corpus profiles round-trip; %zu bytes as pprof files, %zu stored at zstd level 3\n",
		   nfiles, file_bytes, stored_bytes);
}

/* True when t encodes (uncompressed) to exactly these bytes. */
static bool
same_encoding(const PeTree *t, const uint8_t *want, size_t want_len)
{
	size_t		len;
	uint8_t    *got = encode(t, 0, &len);
	bool		same = len == want_len && memcmp(got, want, len) == 0;

	free(got);
	return same;
}

/*
 * pe_decode_merge equals decode + merge (also for version 1 values, after
 * a plain merge into the state, and when the state's path index regrows),
 * and refuses what decode refuses, leaving the state's tree as it was.
 */
/*
 * a (stored as xa) plus b (a tree, stored as xb) two ways: m1 by decoding
 * and pe_tree_merge, m2 by decoding and pe_decode_merge; the same result.
 */
static void
merge_both_ways(const uint8_t *xa, size_t la, const PeTree *b, const uint8_t *xb, size_t lb,
				PeTree *m1, PeTree *m2)
{
	uint8_t    *x1;
	size_t		l1;

	CHECK_OK(&ctx, pe_decode(&ctx, xa, la, m1));
	CHECK_OK(&ctx, pe_tree_merge(m1, b, false));
	CHECK_OK(&ctx, pe_meta_merge(&ctx, &m1->meta, &b->meta));
	x1 = encode(m1, 0, &l1);
	CHECK_OK(&ctx, pe_decode(&ctx, xa, la, m2));
	CHECK_OK(&ctx, pe_decode_merge(&ctx, xb, lb, m2));
	CHECK(same_encoding(m2, x1, l1));
	free(x1);
}

static void
test_decode_merge(void)
{
	PeTree		a,
				b,
				c,
				m1,
				m2;
	uint8_t    *xa,
			   *xb,
			   *xb1,
			   *xc,
			   *x1;
	size_t		la,
				lb,
				lb1,
				lc,
				l1;

	fresh_ctx();
	build_wide(&a, 50);
	build_wide(&b, 80);
	build_wide(&c, 3000);
	xa = encode(&a, 3, &la);
	xb = encode(&b, 3, &lb);
	xb1 = encode_v1(&b, 3, &lb1);
	xc = encode(&c, 3, &lc);
	merge_both_ways(xa, la, &b, xb, lb, &m1, &m2);
	/* c adds thousands of nodes: the path index regrows during the merge */
	CHECK_OK(&ctx, pe_tree_merge(&m1, &c, false));
	CHECK_OK(&ctx, pe_meta_merge(&ctx, &m1.meta, &c.meta));
	CHECK_OK(&ctx, pe_decode_merge(&ctx, xc, lc, &m2));
	x1 = encode(&m1, 0, &l1);
	CHECK(same_encoding(&m2, x1, l1));
	free(x1);
	/* a damaged value is refused with the right error; the tree is as it was */
	xb[lb / 2] ^= 0x40;
	CHECK(!pe_decode_merge(&ctx, xb, lb, &m2));
	CHECK(ctx.err.code == PE_ERR_CORRUPT);
	fresh_ctx();
	x1 = encode(&m1, 0, &l1);
	CHECK(same_encoding(&m2, x1, l1));
	free(x1);
	/* a plain merge into the state (which drops its path index), then a version 1 value */
	CHECK_OK(&ctx, pe_tree_merge(&m1, &a, false));
	CHECK_OK(&ctx, pe_tree_merge(&m2, &a, false));
	CHECK_OK(&ctx, pe_tree_merge(&m1, &b, false));
	CHECK_OK(&ctx, pe_meta_merge(&ctx, &m1.meta, &b.meta));
	CHECK_OK(&ctx, pe_decode_merge(&ctx, xb1, lb1, &m2));
	x1 = encode(&m1, 0, &l1);
	CHECK(same_encoding(&m2, x1, l1));
	free(x1);
	free(xa);
	free(xb);
	free(xb1);
	free(xc);
	pe_tree_free(&a);
	pe_tree_free(&b);
	pe_tree_free(&c);
	pe_tree_free(&m1);
	pe_tree_free(&m2);
}

/*
 * Leaves with a zero in some columns but not all are kept; the merge adds
 * every column (two columns unrolled, others in a loop) and refuses an
 * overflow in any of them.
 */
static void
test_decode_merge_columns(void)
{
	static const char *const types[] = {"a:count", "b:count", "c:count"};

	for (uint32_t nv = 1; nv <= 3; nv++)
	{
		PeTree		t,
					m1,
					m2;
		uint8_t    *x;
		size_t		l;
		int64_t		leaf1[] = {0, 7, 0};
		int64_t		leaf2[] = {3, 0, 9};
		int64_t		inner[] = {0, 0, 2};
		int64_t		big[] = {INT64_MAX, INT64_MAX, INT64_MAX};

		fresh_ctx();
		tree_new(&t, nv, types);
		add_stack(&t, "main;work;leaf1", nv == 1 ? leaf2 : leaf1);
		add_stack(&t, "main;work;leaf2", leaf2);
		add_stack(&t, "main;work", inner);
		x = encode(&t, 3, &l);
		merge_both_ways(x, l, &t, x, l, &m1, &m2);
		free(x);
		/* every column overflows the second time: refused */
		add_stack(&t, "main;work;leaf3", big);
		x = encode(&t, 3, &l);
		CHECK_OK(&ctx, pe_decode_merge(&ctx, x, l, &m2));
		CHECK(!pe_decode_merge(&ctx, x, l, &m2));
		CHECK(ctx.err.code == PE_ERR_OVERFLOW);
		free(x);
		pe_tree_free(&t);
		pe_tree_free(&m1);
		pe_tree_free(&m2);
	}
}

/* Rewrite the summary's CRC after a test changed its bytes. */
static void
fix_summary_crc(uint8_t *x)
{
	uint32_t	slen = x[12] | x[13] << 8 | x[14] << 16 | (uint32_t) x[15] << 24;
	uint32_t	crc = (uint32_t) crc32(0L, x + PE_HEADER_SIZE_V2, slen);

	for (int i = 0; i < 4; i++)
		x[16 + i] = (uint8_t) (crc >> (8 * i));
}

/*
 * The version 2 summary: read from the first bytes alone, equal to what
 * the tree says (and to what version 1 values give), checked against the
 * tree when the tree is decoded.
 */
static void
test_summary(void)
{
	PeTree		t;
	PeSummary	s,
				s1;
	size_t		len,
				len1;
	uint8_t    *x;
	uint8_t    *x1;
	size_t		prefix;
	int64_t		sum;

	fresh_ctx();
	build_mixed(&t);
	x = encode(&t, 3, &len);
	x1 = encode_v1(&t, 3, &len1);
	prefix = pe_summary_prefix(x, 8);
	CHECK(prefix == PE_HEADER_SIZE_V2);
	prefix = pe_summary_prefix(x, len);
	CHECK(prefix > PE_HEADER_SIZE_V2 && prefix < len);
	CHECK(pe_summary_prefix(x1, len1) == 0);

	/* The prefix is enough; one byte less is not. */
	CHECK(!pe_decode_summary(&ctx, x, prefix - 1, len, &s) && ctx.err.code == PE_ERR_ARG);
	fresh_ctx();
	CHECK_OK(&ctx, pe_decode_summary(&ctx, x, prefix, len, &s));
	CHECK_OK(&ctx, pe_decode_summary(&ctx, x1, len1, len1, &s1));
	/* (small: one zstd block per part of the body may not pay, then it is stored raw) */
	CHECK(s.version == PE_FORMAT_VERSION && s1.version == 1 && s1.compressed);
	CHECK(s.compressed == ((x[5] & PE_FLAG_ZSTD) != 0));
	CHECK(s.stored_bytes == len && s1.stored_bytes == len1);
	CHECK(s.meta.nvalues == 3 && s1.meta.nvalues == 3);
	CHECK(s.meta.time_nanos == t.meta.time_nanos && s.meta.period == t.meta.period &&
		  s.meta.duration_nanos == t.meta.duration_nanos && s.meta.default_type == 2);
	CHECK(strcmp(s.meta.types[1].type, "cpu") == 0 && strcmp(s.meta.period_type.unit, "nanoseconds") == 0);
	CHECK(s.nnodes == s1.nnodes && s.nfunctions == s1.nfunctions && s.nnodes > 0);
	CHECK(s.overflow == s1.overflow && s.overflow != 0);
	for (uint32_t v = 0; v < 3; v++)
	{
		bool		ok = pe_tree_sum(&t, v, &sum);

		fresh_ctx();
		CHECK(pe_summary_total(&ctx, &s, v, &s.totals[v]) == ok);
		CHECK(!ok || s.totals[v] == sum);
		CHECK(ok || ctx.err.code == PE_ERR_OVERFLOW);
		CHECK(s.totals[v] == s1.totals[v]);
	}
	pe_summary_free(&ctx, &s);
	pe_summary_free(&ctx, &s1);

	free(x);
	pe_tree_free(&t);

	/* A column of INT64_MIN only: scale 2^63, stored as -1 (a fuzz finding). */
	{
		const char *const one_type[] = {"samples:count"};
		int64_t		min[] = {INT64_MIN};
		PeTree		d;

		fresh_ctx();
		tree_new(&t, 1, one_type);
		add_stack(&t, "main", min);
		check_round_trip(&t, 0);
		x = encode(&t, 0, &len);
		CHECK_OK(&ctx, pe_decode(&ctx, x, len, &d));
		CHECK(ctx.err.code != PE_OK || (d.nnodes == 2 && d.self[1] == INT64_MIN));
		if (ctx.err.code == PE_OK)
			pe_tree_free(&d);
		free(x);
		pe_tree_free(&t);
	}

	/* A total that disagrees with the tree: the summary reads, the tree does not. */
	{
		const char *const one_type[] = {"samples:count"};
		int64_t		five[] = {5};
		uint8_t    *y;
		PeTree		d;

		fresh_ctx();
		tree_new(&t, 1, one_type);
		add_stack(&t, "main;work", five);
		x = encode(&t, 0, &len);
		prefix = pe_summary_prefix(x, len);
		y = malloc(len);

		memcpy(y, x, len);
		CHECK(y[prefix - 1] < 0x7e);
		y[prefix - 1] += 2;		/* the last total, a one-byte zigzag varint */
		fix_summary_crc(y);
		fresh_ctx();
		CHECK_OK(&ctx, pe_decode_summary(&ctx, y, prefix, len, &s));
		pe_summary_free(&ctx, &s);
		expect_fail(y, len, PE_ERR_CORRUPT, "does not match the tree");
		/* Without the CRC fixed, even the summary is refused. */
		memcpy(y, x, len);
		y[prefix - 1] ^= 4;
		fresh_ctx();
		CHECK(!pe_decode_summary(&ctx, y, prefix, len, &s) && strstr(ctx.err.msg, "checksum"));
		expect_fail(y, len, PE_ERR_CORRUPT, "checksum");
		/* A summary longer than the value. */
		memcpy(y, x, len);
		y[15] = 0x40;
		fresh_ctx();
		CHECK(!pe_decode_summary(&ctx, y, len, len, &s) && strstr(ctx.err.msg, "overruns"));
		/* Node and function counts are checked against the tree too. */
		fresh_ctx();
		CHECK_OK(&ctx, pe_decode(&ctx, x, len, &d));
		pe_tree_free(&d);
		free(y);
	}
	free(x);
	free(x1);
	pe_tree_free(&t);
}

/* Input told apart by its first bytes. */
static void
test_input_dispatch(void)
{
	PeTree		t,
				back;
	size_t		raw_len,
				z_len,
				pb_len;
	uint8_t    *raw;
	uint8_t    *z;
	uint8_t    *pb = NULL;
	bool		native;

	fresh_ctx();
	build_wide(&t, 300);
	raw = encode(&t, 0, &raw_len);
	z = encode(&t, 3, &z_len);

	/* native bytes decode as the stored format, pprof (plain or gzipped) as pprof */
	CHECK_OK(&ctx, pe_input_decode(&ctx, z, z_len, &back, &native));
	CHECK(native && same_encoding(&back, raw, raw_len));
	pe_tree_free(&back);
	for (int gz = 0; gz < 2; gz++)
	{
		CHECK_OK(&ctx, pe_pprof_encode(&t, gz, 0, &pb, &pb_len));
		CHECK_OK(&ctx, pe_input_decode(&ctx, pb, pb_len, &back, &native));
		CHECK(!native && same_encoding(&back, raw, raw_len));
		pe_tree_free(&back);
		free(pb);
	}
	/* a damaged native value is a stored-format error, not a pprof one */
	z[PE_HEADER_SIZE + 2] ^= 0x40;
	CHECK(!pe_input_decode(&ctx, z, z_len, &back, &native));
	CHECK(native && ctx.err.code == PE_ERR_CORRUPT);
	fresh_ctx();
	CHECK(!pe_input_decode(&ctx, (const uint8_t *) "\x0a\x01", 2, &back, &native));
	CHECK(!native && ctx.err.code == PE_ERR_PPROF);
	free(raw);
	free(z);
	pe_tree_free(&t);
}

int
main(void)
{
	RUN(test_is_native);
	RUN(test_round_trip_mixed);
	RUN(test_round_trip_utf8);
	RUN(test_deep_chain);
	RUN(test_empty_profile);
	RUN(test_compressed_and_raw);
	RUN(test_encoder_refuses);
	RUN(test_hand_built_valid);
	RUN(test_bad_headers);
	RUN(test_decode_merge);
	RUN(test_decode_merge_columns);
	RUN(test_bad_meta);
	RUN(test_bad_trees);
	RUN(test_truncations);
	RUN(test_bit_flips);
	RUN(test_name_table_v3);
	RUN(test_format_v4);
	RUN(test_summary);

	RUN(test_input_dispatch);
	RUN(test_corpus_round_trip);
	return unit_finish("codec");
}
