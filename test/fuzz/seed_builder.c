/*
 * seed_builder.c
 *		Writes the fuzzers' seed inputs derived from a folder of pprof files
 *		(the shared corpus): test/fuzz/make_seeds.sh runs it.
 *
 * Usage: seed_builder CORPUS_DIR SEED_DIR
 * For each file of CORPUS_DIR that decodes it writes, under SEED_DIR:
 *   pprof/       the file inflated (when gzipped), and pprof re-encodings of
 *                the whole tree and of small prefixes of it (16, 128 nodes);
 *   stored/      raw and zstd stored values of the same trees (and version 1);
 *   folded/      folded text of the prefixes, with the target's mode byte
 *                (0: one sample type; 1: two, with a second value appended);
 *   merge_diff/  pairs of prefixes in the fuzz_merge_diff layout.
 * Prefix trees keep the fuzzers' inputs small and fast; the full trees
 * give them real shapes.  Nothing is copied into the repository.
 * Whether or not the corpus is there, pprof/hand_*.pb are small profiles
 * from the tests' shared builder with what re-encodings of decoded trees
 * lack: labels (string and numeric), inlined lines, mappings, comments.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pb_builder.h"
#include "pe_codec.h"
#include "pe_folded.h"
#include "pe_pprof.h"

static const char *seed_dir;
static int	nwritten;

/* Write one seed file SEED_DIR/sub/name.suffix from up to two pieces. */
static void
write_seed(const char *sub, const char *name, const char *suffix,
		   const void *head, size_t headlen, const void *body, size_t bodylen)
{
	char		path[4096];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", seed_dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s.%s", seed_dir, sub, name, suffix);
	f = fopen(path, "wb");
	if (f == NULL ||
		(headlen && fwrite(head, 1, headlen, f) != headlen) ||
		(bodylen && fwrite(body, 1, bodylen, f) != bodylen) ||
		fclose(f) != 0)
	{
		fprintf(stderr, "seed_builder: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	nwritten++;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf = NULL;
	size_t		cap = 0;

	*len = 0;
	if (f == NULL)
		return NULL;
	for (;;)
	{
		size_t		got;

		if (*len == cap)
		{
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (buf == NULL)
				exit(1);
		}
		got = fread(buf + *len, 1, cap - *len, f);
		if (got == 0)
			break;
		*len += got;
	}
	fclose(f);
	return buf;
}

/* The first n nodes of t (parents come first, so they form a tree). */
static bool
prefix_tree(PeCtx *ctx, const PeTree *t, uint32_t n, PeTree *out)
{
	uint32_t	nv = t->meta.nvalues;

	if (n > t->nnodes)
		n = t->nnodes;
	if (!pe_tree_init(ctx, out, &t->meta))
		return false;
	for (uint32_t i = 1; i < n; i++)
	{
		uint32_t	len;
		const char *s = pe_strtab_get(&t->names, t->name[i], &len);
		uint32_t	name = pe_strtab_intern(&out->names, s, len);

		if (name == PE_NO_NODE || pe_tree_append(out, t->parent[i], name) != i)
			return false;
	}
	memcpy(out->self, t->self, sizeof(int64_t) * nv * n);
	return true;
}

/* One seed file from an encoder's result; nothing when the encoder refused t. */
static void
keep_encoding(PeCtx *ctx, bool ok, const char *dir, const char *name, const char *variant,
			  const char *ext, uint8_t *out, size_t len)
{
	char		suffix[64];

	if (!ok)
		return;
	snprintf(suffix, sizeof(suffix), "%s.%s", variant, ext);
	write_seed(dir, name, suffix, out, len, NULL, 0);
	pe_free(ctx, out);
}

/* Stored values (raw and zstd) and a plain pprof encoding of t. */
static void
write_encodings(const PeTree *t, const char *name, const char *variant)
{
	PeCtx	   *ctx = t->ctx;
	uint8_t    *out = NULL;
	size_t		len = 0;
	bool		ok;

	ok = pe_encode(t, 0, 0, &out, &len);
	keep_encoding(ctx, ok, "stored", name, variant, "raw", out, len);
	ok = pe_encode(t, 3, 0, &out, &len);
	keep_encoding(ctx, ok, "stored", name, variant, "zst", out, len);
	/* older versions stay readable, so their decoders stay fuzzed */
	for (int version = 1; version < PE_FORMAT_VERSION; version++)
	{
		char		ext[16];

		snprintf(ext, sizeof(ext), "v%d.zst", version);
		ok = pe_encode_version(t, version, 3, 0, &out, &len);
		keep_encoding(ctx, ok, "stored", name, variant, ext, out, len);
	}
	ok = pe_pprof_encode(t, false, 0, &out, &len);
	keep_encoding(ctx, ok, "pprof", name, variant, "pb", out, len);
}

/* Folded text of column 0, as is and with a second value on every line. */
static void
write_folded(const PeTree *t, const char *name, const char *variant)
{
	PeCtx	   *ctx = t->ctx;
	char	   *text;
	size_t		len;
	char		suffix[64];
	char	   *two;
	size_t		n = 0;

	if (!pe_folded_write(t, 0, &text, &len))
		return;
	snprintf(suffix, sizeof(suffix), "%s.1.txt", variant);
	write_seed("folded", name, suffix, "\0", 1, text, len);
	two = malloc(len * 2 + 8);
	for (size_t i = 0; i < len; i++)
	{
		if (text[i] == '\n')
		{
			memcpy(two + n, " 1", 2);
			n += 2;
		}
		two[n++] = text[i];
	}
	snprintf(suffix, sizeof(suffix), "%s.2.txt", variant);
	write_seed("folded", name, suffix, "\1", 1, two, n);
	free(two);
	pe_free(ctx, text);
}

/* A fuzz_merge_diff input: split point, mode byte, then a and b. */
static void
write_pair(const char *name, const char *suffix, uint8_t mode,
		   const void *a, size_t alen, const void *b, size_t blen)
{
	uint8_t    *buf = malloc(5 + alen + blen);

	buf[0] = (uint8_t) alen;
	buf[1] = (uint8_t) (alen >> 8);
	buf[2] = (uint8_t) (alen >> 16);
	buf[3] = (uint8_t) (alen >> 24);
	buf[4] = mode;
	memcpy(buf + 5, a, alen);
	memcpy(buf + 5 + alen, b, blen);
	write_seed("merge_diff", name, suffix, buf, 5 + alen + blen, NULL, 0);
	free(buf);
}

/* Pairs of two prefixes of one tree: as pprof, stored and folded. */
static void
write_pairs(const PeTree *small, const PeTree *medium, const char *name)
{
	PeCtx	   *ctx = small->ctx;
	uint8_t    *a = NULL,
			   *b = NULL;
	char	   *ta = NULL,
			   *tb = NULL;
	size_t		alen,
				blen;

	if (pe_pprof_encode(small, false, 0, &a, &alen) &&
		pe_pprof_encode(medium, false, 0, &b, &blen))
		write_pair(name, "pprof.pair", 0x18, a, alen, b, blen);
	pe_free(ctx, a);
	pe_free(ctx, b);
	a = b = NULL;
	if (pe_encode(medium, 0, 0, &a, &alen) && pe_encode(small, 0, 0, &b, &blen))
		write_pair(name, "stored.pair", 0x20, a, alen, b, blen);
	pe_free(ctx, a);
	pe_free(ctx, b);
	if (pe_folded_write(small, 0, &ta, &alen) && pe_folded_write(medium, 0, &tb, &blen))
		write_pair(name, "folded.pair", 0x43, ta, alen, tb, blen);
	pe_free(ctx, ta);
	pe_free(ctx, tb);
	memset(&ctx->err, 0, sizeof(ctx->err));
}

static void
seed_one(const char *dir, const char *name)
{
	char		path[4096];
	uint8_t    *data;
	size_t		len;
	PeCtx		ctx;
	PeTree		t,
				small,
				medium;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	data = read_file(path, &len);
	if (data == NULL)
		return;
	pe_ctx_init_malloc(&ctx);
	memset(&small, 0, sizeof(small));
	memset(&medium, 0, sizeof(medium));
	if (pe_is_gzip(data, len))
	{
		uint8_t    *plain;
		size_t		plainlen;

		if (pe_gunzip(&ctx, data, len, &plain, &plainlen))
		{
			write_seed("pprof", name, "inflated", plain, plainlen, NULL, 0);
			pe_free(&ctx, plain);
		}
		memset(&ctx.err, 0, sizeof(ctx.err));
	}
	if (!pe_pprof_decode(&ctx, data, len, &t))
	{
		free(data);
		return;
	}
	write_encodings(&t, name, "full");
	if (prefix_tree(&ctx, &t, 16, &small) && prefix_tree(&ctx, &t, 128, &medium))
	{
		write_encodings(&small, name, "p16");
		write_encodings(&medium, name, "p128");
		write_folded(&small, name, "p16");
		write_folded(&medium, name, "p128");
		write_pairs(&small, &medium, name);
	}
	pe_tree_free(&small);
	pe_tree_free(&medium);
	pe_tree_free(&t);
	free(data);
}

/* Pack b as the seed pprof/hand_NAME.pb and free it. */
static void
write_built(PbBuilder *b, const char *name)
{
	size_t		len;
	uint8_t    *data = pb_pack(b, &len);

	write_seed("pprof", name, "pb", data, len, NULL, 0);
	free(data);
	pb_free(b);
}

static void
seed_hand_built(void)
{
	static const uint64_t inlined[] = {3, 2};	/* work inlined into run */
	static const uint64_t stack1[] = {2, 1};
	static const uint64_t stack2[] = {3, 1};
	static const int64_t v1[] = {5, 50000000};
	static const int64_t v2[] = {2, 20000000};
	PbBuilder	b;
	PbSample   *s;
	PbLabel    *l;

	pb_init_types(&b, "samples/count,cpu/nanoseconds");
	pb_period(&b, "cpu", "nanoseconds", 10000000);
	b.p.time_nanos = INT64_C(1700000000000000000);
	b.p.duration_nanos = INT64_C(10000000000);
	b.p.default_sample_type = pb_str(&b, "cpu");
	pb_mapping(&b, 1)->filename = pb_str(&b, "/usr/bin/app");
	pb_func(&b, 1, "main");
	pb_func(&b, 2, "run");
	pb_func(&b, 3, "work");
	pb_loc(&b, 1, 1, 0x401000, 1, &(uint64_t) {1});
	pb_loc(&b, 2, 1, 0x401010, 2, inlined);
	pb_loc(&b, 3, 1, 0x401020, 0, NULL);	/* address only */
	s = pb_sample(&b, 2, stack1, 2, v1);
	pb_label(s, pb_str(&b, "thread"), pb_str(&b, "worker-1"));
	l = pb_label(s, pb_str(&b, "bytes"), 0);
	l->num = 4096;
	l->num_unit = pb_str(&b, "bytes");
	pb_sample(&b, 2, stack2, 2, v2);
	b.p.n_comment = 1;
	b.p.comment = malloc(sizeof(int64_t));
	b.p.comment[0] = pb_str(&b, "built by seed_builder");
	write_built(&b, "hand_labels_inlined");

	/* sparse ids, a function without a name, a zero sample */
	pb_init_types(&b, "alloc_space/bytes");
	pb_func(&b, 1000, "");
	pb_loc(&b, UINT64_MAX, 0, 0x10, 1, &(uint64_t) {1000});
	pb_sample(&b, 1, &(uint64_t) {UINT64_MAX}, 1, &(int64_t) {0});
	pb_sample(&b, 1, &(uint64_t) {UINT64_MAX}, 1, &(int64_t) {-7});
	write_built(&b, "hand_sparse_ids");
}

int
main(int argc, char **argv)
{
	DIR		   *d;
	struct dirent *e;

	if (argc != 3)
	{
		fprintf(stderr, "usage: seed_builder CORPUS_DIR SEED_DIR\n");
		return 2;
	}
	seed_dir = argv[2];
	mkdir(seed_dir, 0755);
	seed_hand_built();
	d = opendir(argv[1]);
	if (d == NULL)
		fprintf(stderr, "seed_builder: no corpus at %s (%s): hand-built seeds only\n",
				argv[1], strerror(errno));
	else
	{
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				seed_one(argv[1], e->d_name);
		closedir(d);
	}
	printf("seed_builder: %d seed files in %s\n", nwritten, seed_dir);
	return 0;
}
