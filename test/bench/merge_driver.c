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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "pe_codec.h"
#include "pe_hash.h"
#include "pe_input.h"
#include "unit.h"

static void
die(PeCtx *ctx, const char *what)
{
	fprintf(stderr, "merge_driver: %s: %s (%s)\n", what, ctx->err.msg, ctx->err.detail);
	exit(1);
}

int
main(int argc, char **argv)
{
	PeCtx		ctx;
	FILE	   *list;
	char		line[4096];
	uint8_t   **values = NULL;
	size_t	   *lens = NULL;
	size_t		n = 0;
	size_t		cap = 0;
	int			level = argc > 2 ? atoi(argv[2]) : 6;
	PeTree		state;
	uint8_t    *out;
	size_t		outlen;
	struct timespec t0,
				t1,
				c0,
				c1;

	if (argc < 2 || (list = fopen(argv[1], "r")) == NULL)
	{
		fprintf(stderr, "usage: merge_driver LIST [LEVEL]\n");
		return 2;
	}
	pe_ctx_init_malloc(&ctx);
	while (fgets(line, sizeof(line), list))
	{
		size_t		len;
		uint8_t    *data;
		PeTree		t;
		bool		native;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		data = unit_read_file(line, &len);
		if (data == NULL)
		{
			perror(line);
			return 1;
		}
		if (!pe_input_decode(&ctx, data, len, &t, &native))
			die(&ctx, line);
		free(data);
		if (n == cap)
		{
			cap = cap ? cap * 2 : 256;
			values = realloc(values, cap * sizeof(*values));
			lens = realloc(lens, cap * sizeof(*lens));
		}
		if (!pe_encode(&t, level, 0, &values[n], &lens[n]))
			die(&ctx, "encode");
		pe_tree_free(&t);
		n++;
	}
	fclose(list);
	if (n == 0)
		return 2;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	CALLGRIND_START_INSTRUMENTATION;
	if (!pe_decode(&ctx, values[0], lens[0], &state))
		die(&ctx, "decode");
	for (size_t i = 1; i < n; i++)
	{
		PeCtx		scratch;

		pe_ctx_init_malloc(&scratch);
		if (!pe_decode_merge(&scratch, values[i], lens[i], &state))
			die(ctx.err.code != PE_OK ? &ctx : &scratch, "merge");
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	if (!pe_encode(&state, 0, 0, &out, &outlen))
		die(&ctx, "encode the result");
	printf("values %zu nodes %u names %u result %016llx merge %.1f ms (%.0f/s), cpu %.1f ms\n",
		   n, state.nnodes, state.names.n,
		   (unsigned long long) pe_hash_bytes(out, outlen),
		   ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6),
		   n / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9),
		   ((c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6));
	free(out);
	pe_tree_free(&state);
	for (size_t i = 0; i < n; i++)
		free(values[i]);
	free(values);
	free(lens);
	return 0;
}
