/*
 * ingest_driver.c
 *		Where the ingest time goes, stage by stage, in src/core alone.
 *
 *   ingest_driver [--reps R] [--level L] LIST
 *
 * Reads the gzipped pprof files named in LIST (one path a line) into memory,
 * then, file by file in the order a COPY row runs them, times each step:
 *
 *   zlib       zlib inflate: the bench's gunzip baseline (row 1a), measured
 *              again in this process; not part of ingest
 *   inflate    pe_gunzip: the core's inflate (libdeflate, bounded output)
 *   read_tree  pe_pprof_decode of the inflated bytes: reading pprof and
 *              building the call tree, one call in the public API (callgrind's
 *              function list tells them apart only roughly: the wire reader's
 *              functions against pe_tree_*)
 *   encode0    pe_encode at level 0: the stored layout without zstd
 *   encode     pe_encode at level L (default 6, the default of
 *              profile_ext.compression_level), with one zstd compression
 *              context reused as a COPY's transaction reuses one
 *
 * and prints, as medians over R passes (default 3), the cumulative time of
 * each stage (inflate; + read_tree; + encode0; + encode instead of encode0,
 * which is the core's whole ingest) and its ratio to zlib's time, with malloc
 * in a steady state (bench_malloc_steady):
 *
 *   stage NAME SECONDS RATIO description
 *
 * Each step is a function of its own (stage_*), so one run under
 *
 *   valgrind --tool=callgrind --instr-atstart=no build/bench/ingest_driver --reps 1 LIST
 *   callgrind_annotate --inclusive=yes callgrind.out.PID | grep stage_
 *
 * gives every step's instruction count, repeatable on a loaded machine
 * (reading the files is outside the instrumented part).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "pe_codec.h"
#include "pe_pprof.h"
#define BENCH_PROG "ingest_driver"
#include "bench_driver.h"
#include "zlib_gunzip.h"

enum
{
	STEP_ZLIB,
	STEP_INFLATE,
	STEP_READ_TREE,
	STEP_ENCODE0,
	STEP_ENCODE,
	NSTEPS
};

static __attribute__((noinline)) size_t
stage_zlib(z_stream *zs, const uint8_t *data, size_t len, unsigned char **out, size_t *outcap)
{
	const char *err;
	size_t		n = zlib_gunzip(zs, data, len, out, outcap, &err);

	if (err)
	{
		fprintf(stderr, "ingest_driver: zlib: %s\n", err);
		exit(1);
	}
	return n;
}

static __attribute__((noinline)) void
stage_inflate(PeCtx *ctx, const uint8_t *data, size_t len, uint8_t **plain, size_t *plainlen)
{
	if (!pe_gunzip(ctx, data, len, plain, plainlen))
		bench_die(ctx, "inflate");
}

static __attribute__((noinline)) void
stage_read_tree(PeCtx *ctx, const uint8_t *plain, size_t plainlen, PeTree *t)
{
	if (!pe_pprof_decode(ctx, plain, plainlen, t))
		bench_die(ctx, "read pprof");
}

static __attribute__((noinline)) size_t
stage_encode0(const PeTree *t)
{
	uint8_t    *out;
	size_t		outlen;

	if (!pe_encode(t, 0, 0, &out, &outlen))
		bench_die(t->ctx, "encode at level 0");
	free(out);
	return outlen;
}

static __attribute__((noinline)) size_t
stage_encode(const PeTree *t, int level)
{
	uint8_t    *out;
	size_t		outlen;

	if (!pe_encode(t, level, 0, &out, &outlen))
		bench_die(t->ctx, "encode");
	free(out);
	return outlen;
}

/* One compression context for the whole run, as a COPY's transaction keeps one. */
static ZSTD_CCtx *run_cctx;

static void *
get_run_cctx(void)
{
	return run_cctx;
}

int
main(int argc, char **argv)
{
	int			reps = 3;
	int			level = 6;
	const char *list = NULL;
	bool		usage = false;
	BenchInputs files = {0};
	PeCtx		ctx;
	z_stream	zs;
	unsigned char *zout;
	size_t		zcap = 1 << 20;
	size_t		plain_bytes = 0,
				stored_bytes = 0,
				stored0_bytes = 0;
	double		step[NSTEPS][BENCH_MAX_REPS];
	double		cum[NSTEPS];
	double		v[BENCH_MAX_REPS];
	static const char *const names[NSTEPS] = {"zlib", "inflate", "read_tree", "encode0", "encode"};
	char		what[NSTEPS][96];

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--level") == 0 && i + 1 < argc)
			level = atoi(argv[++i]);
		else if (argv[i][0] != '-' && list == NULL)
			list = argv[i];
		else
			usage = true;
	}
	if (usage || list == NULL || reps < 1 || reps > BENCH_MAX_REPS || level < 0)
	{
		fprintf(stderr, "usage: ingest_driver [--reps R (1-%d)] [--level L] LIST\n", BENCH_MAX_REPS);
		return 2;
	}
	bench_malloc_steady();
	if (!bench_read_list(list, &files) || files.n == 0)
		return 2;

	pe_ctx_init_malloc(&ctx);
	run_cctx = ZSTD_createCCtx();
	ctx.get_zstd_cctx = get_run_cctx;
	zout = malloc(zcap);
	memset(&zs, 0, sizeof(zs));
	if (run_cctx == NULL || zout == NULL || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
	{
		fprintf(stderr, "ingest_driver: cannot set up zlib or zstd\n");
		return 1;
	}

	CALLGRIND_START_INSTRUMENTATION;
	for (int r = 0; r < reps; r++)
	{
		double		sum[NSTEPS] = {0};

		plain_bytes = stored_bytes = stored0_bytes = 0;
		for (size_t i = 0; i < files.n; i++)
		{
			uint8_t    *plain;
			size_t		plainlen;
			PeTree		t;
			double		t0,
						t1,
						t2,
						t3,
						t4,
						t5;

			t0 = bench_now();
			stage_zlib(&zs, files.data[i], files.len[i], &zout, &zcap);
			t1 = bench_now();
			stage_inflate(&ctx, files.data[i], files.len[i], &plain, &plainlen);
			t2 = bench_now();
			stage_read_tree(&ctx, plain, plainlen, &t);
			t3 = bench_now();
			stored0_bytes += stage_encode0(&t);
			t4 = bench_now();
			stored_bytes += stage_encode(&t, level);
			t5 = bench_now();
			plain_bytes += plainlen;
			pe_tree_free(&t);
			pe_free(&ctx, plain);
			sum[STEP_ZLIB] += t1 - t0;
			sum[STEP_INFLATE] += t2 - t1;
			sum[STEP_READ_TREE] += t3 - t2;
			sum[STEP_ENCODE0] += t4 - t3;
			sum[STEP_ENCODE] += t5 - t4;
		}
		/* cumulative: encode replaces encode0 (both follow read_tree) */
		step[STEP_ZLIB][r] = sum[STEP_ZLIB];
		step[STEP_INFLATE][r] = sum[STEP_INFLATE];
		step[STEP_READ_TREE][r] = step[STEP_INFLATE][r] + sum[STEP_READ_TREE];
		step[STEP_ENCODE0][r] = step[STEP_READ_TREE][r] + sum[STEP_ENCODE0];
		step[STEP_ENCODE][r] = step[STEP_READ_TREE][r] + sum[STEP_ENCODE];
	}
	CALLGRIND_STOP_INSTRUMENTATION;

	for (int s = 0; s < NSTEPS; s++)
	{
		memcpy(v, step[s], reps * sizeof(double));
		cum[s] = bench_median(v, reps);
	}
	snprintf(what[STEP_ZLIB], sizeof(what[0]), "zlib inflate (the gunzip baseline; not part of ingest)");
	snprintf(what[STEP_INFLATE], sizeof(what[0]), "pe_gunzip (libdeflate, bounded output)");
	snprintf(what[STEP_READ_TREE], sizeof(what[0]), "+ pe_pprof_decode: read pprof, build the call tree");
	snprintf(what[STEP_ENCODE0], sizeof(what[0]), "+ pe_encode at level 0 (no zstd)");
	snprintf(what[STEP_ENCODE], sizeof(what[0]), "+ pe_encode at level %d instead: the core's whole ingest", level);
	printf("files %zu gz_bytes %zu plain_bytes %zu stored_bytes %zu stored_level0_bytes %zu level %d reps %d (medians)\n",
		   files.n, files.bytes, plain_bytes, stored_bytes, stored0_bytes, level, reps);
	for (int s = 0; s < NSTEPS; s++)
		printf("stage %s %.4f %.3fx %s\n", names[s], cum[s],
			   cum[STEP_ZLIB] > 0 ? cum[s] / cum[STEP_ZLIB] : 0.0, what[s]);

	inflateEnd(&zs);
	free(zout);
	ZSTD_freeCCtx(run_cctx);
	bench_inputs_free(&files);
	return 0;
}
