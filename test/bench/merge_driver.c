/*
 * merge_driver.c
 *		Instruction-count driver for the merge aggregate's core path.
 *
 *   merge_driver LIST [LEVEL]
 *
 * Reads the pprof files named in LIST (one path a line), stores each as the
 * extension does (pe_encode at zstd LEVEL, default 6), then merges them the
 * way profile_merge's transition function does: the first value decoded
 * into the state, each later one folded in by pe_decode_merge with a
 * per-row scratch context.  Only the merge runs under callgrind's
 * instrumentation, so
 *
 *   valgrind --tool=callgrind --instr-atstart=no build/bench/merge_driver LIST
 *
 * counts the instructions of the merge alone, repeatable on a loaded
 * machine.  Prints the merged tree's node count and a hash of its encoding,
 * so two builds can be checked for identical results.
 *
 *   merge_driver --stages [--reps R] (--values COPYFILE | LIST [LEVEL])
 *
 * What bounds the merge: over the same stored values (COPYFILE: a binary
 * COPY stream of one bytea or profile column, as `COPY (SELECT
 * profile_send(profile) FROM t) TO STDOUT (FORMAT binary)` writes it; or
 * LIST encoded as above), times three passes, each the median of R (default
 * 3), with one zstd decompression context reused as a backend reuses one and
 * malloc in a steady state (bench_malloc_steady):
 *
 *   zstd    decompressing each value's body only (libzstd, the format's
 *           dictionary; no validation)
 *   decode  pe_decode into a throwaway tree: zstd and full validation
 *   merge   the merge above (pe_decode, then pe_decode_merge per value)
 *
 * and prints "stage NAME SECONDS US_PER_VALUE us/value ...", then the merge
 * result line.  Each pass is a function of its own (stage_*): under
 * callgrind, `callgrind_annotate --inclusive=yes` gives each pass's count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "pe_codec.h"
#include "pe_dict.h"
#include "pe_hash.h"
#include "pe_input.h"
#define BENCH_PROG "merge_driver"
#include "bench_driver.h"

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/*
 * The values of a binary COPY stream of one bytea column, each copied into
 * an allocation of its own (as detoasting gives them); false when the
 * stream is not one.
 */
static bool
read_copy_values(const char *path, BenchInputs *in)
{
	static const uint8_t signature[11] = "PGCOPY\n\377\r\n";
	size_t		len;
	uint8_t    *data = unit_read_file(path, &len);
	size_t		pos;

	if (data == NULL)
	{
		perror(path);
		return false;
	}
	if (len < 19 || memcmp(data, signature, 11) != 0 ||
		get_be32(data + 15) > len - 19)
		goto bad;
	pos = 19 + get_be32(data + 15);
	for (;;)
	{
		uint32_t	vlen;
		uint8_t    *v;

		if (len - pos < 2)
			goto bad;
		if (data[pos] == 0xFF && data[pos + 1] == 0xFF)
			break;
		if (data[pos] != 0 || data[pos + 1] != 1 || len - pos < 6)
			goto bad;
		vlen = get_be32(data + pos + 2);
		pos += 6;
		if (vlen > len - pos)
			goto bad;
		v = malloc(vlen ? vlen : 1);
		if (v == NULL)
			goto bad;
		memcpy(v, data + pos, vlen);
		bench_inputs_add(in, v, vlen);
		pos += vlen;
	}
	free(data);
	return true;
bad:
	fprintf(stderr, "merge_driver: %s: not a binary COPY stream of one non-null column\n", path);
	free(data);
	return false;
}

/* The pprof files named in list, each stored as the extension does (pe_encode at level). */
static bool
encode_list(PeCtx *ctx, const char *list, int level, BenchInputs *values)
{
	BenchInputs files = {0};

	if (!bench_read_list(list, &files))
		return false;
	for (size_t i = 0; i < files.n; i++)
	{
		PeTree		t;
		bool		native;
		uint8_t    *v;
		size_t		vlen;

		if (!pe_input_decode(ctx, files.data[i], files.len[i], &t, &native))
			bench_die(ctx, "input");
		if (!pe_encode(&t, level, 0, &v, &vlen))
			bench_die(ctx, "encode");
		pe_tree_free(&t);
		bench_inputs_add(values, v, vlen);
	}
	bench_inputs_free(&files);
	return true;
}

/* Decompress a stored value's zstd body without validating anything else. */
static __attribute__((noinline)) void
stage_zstd(ZSTD_DCtx *dctx, const ZSTD_DDict *ddict, const uint8_t *v, size_t len,
		   uint8_t **buf, size_t *cap)
{
	size_t		prefix = pe_summary_prefix(v, len);
	unsigned long long want;
	size_t		rc;

	if (prefix == 0)
		prefix = PE_HEADER_SIZE;	/* version 1 */
	if (len < prefix || !(v[5] & PE_FLAG_ZSTD))
		return;
	want = ZSTD_getFrameContentSize(v + prefix, len - prefix);
	if (want == ZSTD_CONTENTSIZE_ERROR || want == ZSTD_CONTENTSIZE_UNKNOWN)
	{
		fprintf(stderr, "merge_driver: a value's body is not a zstd frame\n");
		exit(1);
	}
	if (want > *cap)
	{
		*cap = want;
		*buf = realloc(*buf, *cap);
	}
	rc = v[4] >= 4 ?
		ZSTD_decompress_usingDDict(dctx, *buf, *cap, v + prefix, len - prefix, ddict) :
		ZSTD_decompressDCtx(dctx, *buf, *cap, v + prefix, len - prefix);
	if (ZSTD_isError(rc))
	{
		fprintf(stderr, "merge_driver: zstd: %s\n", ZSTD_getErrorName(rc));
		exit(1);
	}
}

/* Decode and validate a value into a tree that is thrown away. */
static __attribute__((noinline)) void
stage_decode(PeCtx *ctx, const uint8_t *v, size_t len)
{
	PeTree		t;

	if (!pe_decode(ctx, v, len, &t))
		bench_die(ctx, "decode");
	pe_tree_free(&t);
}

/* The merge of all values into state, as the aggregate's transition does. */
static __attribute__((noinline)) void
stage_merge(PeCtx *ctx, const BenchInputs *in, PeTree *state)
{
	if (!pe_decode(ctx, in->data[0], in->len[0], state))
		bench_die(ctx, "decode");
	for (size_t i = 1; i < in->n; i++)
	{
		PeCtx		scratch;

		pe_ctx_init_malloc(&scratch);
		scratch.zstd_dctx = ctx->zstd_dctx;
		if (!pe_decode_merge(&scratch, in->data[i], in->len[i], state))
			bench_die(ctx->err.code != PE_OK ? ctx : &scratch, "merge");
	}
}

/* merge_driver --stages: see the header comment. */
static int
stages_main(int argc, char **argv)
{
	int			reps = 3;
	int			level = 6;
	const char *copyfile = NULL;
	const char *list = NULL;
	BenchInputs in = {0};
	PeCtx		ctx;
	ZSTD_DCtx  *dctx = ZSTD_createDCtx();
	ZSTD_DDict *ddict = ZSTD_createDDict(pe_dict_v4, PE_DICT_V4_SIZE);
	uint8_t    *buf = NULL;
	size_t		cap = 0;
	double		times[3][BENCH_MAX_REPS];
	static const char *const names[3] = {"zstd", "decode", "merge"};
	static const char *const what[3] = {
		"zstd decompression of each body only (no validation)",
		"pe_decode into a throwaway tree: zstd and full validation",
		"the merge: pe_decode_merge of each value into the state",
	};
	PeTree		state;
	uint8_t    *out;
	size_t		outlen;

	for (int i = 2; i < argc; i++)
	{
		if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--values") == 0 && i + 1 < argc)
			copyfile = argv[++i];
		else if (argv[i][0] != '-' && list == NULL)
			list = argv[i];
		else if (argv[i][0] != '-' && list != NULL)
			level = atoi(argv[i]);
		else
			reps = 0;
	}
	if (reps < 1 || reps > BENCH_MAX_REPS || (copyfile == NULL) == (list == NULL))
	{
		fprintf(stderr, "usage: merge_driver --stages [--reps R (1-%d)] (--values COPYFILE | LIST [LEVEL])\n",
				BENCH_MAX_REPS);
		return 2;
	}
	if (dctx == NULL || ddict == NULL)
	{
		fprintf(stderr, "merge_driver: cannot set up zstd\n");
		return 1;
	}
	bench_malloc_steady();
	pe_ctx_init_malloc(&ctx);
	if (copyfile)
	{
		if (!read_copy_values(copyfile, &in))
			return 1;
	}
	else if (!encode_list(&ctx, list, level, &in))
		return 1;
	if (in.n == 0)
		return 2;
	ctx.zstd_dctx = dctx;

	CALLGRIND_START_INSTRUMENTATION;
	for (int r = 0; r < reps; r++)
	{
		double		t0 = bench_now();

		for (size_t i = 0; i < in.n; i++)
			stage_zstd(dctx, ddict, in.data[i], in.len[i], &buf, &cap);
		times[0][r] = bench_now() - t0;
		t0 = bench_now();
		for (size_t i = 0; i < in.n; i++)
			stage_decode(&ctx, in.data[i], in.len[i]);
		times[1][r] = bench_now() - t0;
		t0 = bench_now();
		stage_merge(&ctx, &in, &state);
		times[2][r] = bench_now() - t0;
		if (r + 1 < reps)
			pe_tree_free(&state);
	}
	CALLGRIND_STOP_INSTRUMENTATION;

	printf("values %zu stored_bytes %zu reps %d (medians)\n", in.n, in.bytes, reps);
	for (int s = 0; s < 3; s++)
	{
		double		sec = bench_median(times[s], reps);

		printf("stage %s %.4f %.2f us/value %s\n", names[s], sec, sec * 1e6 / in.n, what[s]);
	}
	if (!pe_encode(&state, 0, 0, &out, &outlen))
		bench_die(&ctx, "encode the result");
	printf("merge result: nodes %u names %u result %016llx\n", state.nnodes, state.names.n,
		   (unsigned long long) pe_hash_bytes(out, outlen));
	free(out);
	pe_tree_free(&state);
	free(buf);
	ZSTD_freeDDict(ddict);
	ZSTD_freeDCtx(dctx);
	bench_inputs_free(&in);
	return 0;
}

int
main(int argc, char **argv)
{
	PeCtx		ctx;
	BenchInputs in = {0};
	PeTree		state;
	uint8_t    *out;
	size_t		outlen;
	struct timespec t0,
				t1,
				c0,
				c1;

	if (argc > 1 && strcmp(argv[1], "--stages") == 0)
		return stages_main(argc, argv);
	if (argc < 2 || argv[1][0] == '-')
	{
		fprintf(stderr, "usage: merge_driver LIST [LEVEL]\n"
				"       merge_driver --stages [--reps R] (--values COPYFILE | LIST [LEVEL])\n");
		return 2;
	}
	pe_ctx_init_malloc(&ctx);
	if (!encode_list(&ctx, argv[1], argc > 2 ? atoi(argv[2]) : 6, &in))
		return 1;
	if (in.n == 0)
		return 2;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	CALLGRIND_START_INSTRUMENTATION;
	stage_merge(&ctx, &in, &state);
	CALLGRIND_STOP_INSTRUMENTATION;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	if (!pe_encode(&state, 0, 0, &out, &outlen))
		bench_die(&ctx, "encode the result");
	printf("values %zu nodes %u names %u result %016llx merge %.1f ms (%.0f/s), cpu %.1f ms\n",
		   in.n, state.nnodes, state.names.n,
		   (unsigned long long) pe_hash_bytes(out, outlen),
		   ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6),
		   in.n / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9),
		   ((c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6));
	free(out);
	pe_tree_free(&state);
	bench_inputs_free(&in);
	return 0;
}
