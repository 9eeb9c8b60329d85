/*
 * bench_driver.h
 *		Helpers shared by the stage drivers over src/core (merge_driver.c,
 *		ingest_driver.c): inputs held in memory, errors, callgrind's client
 *		requests when valgrind's headers are installed.
 */
#ifndef BENCH_DRIVER_H
#define BENCH_DRIVER_H

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "bench_time.h"
#include "unit.h"

#define BENCH_MAX_REPS 99

/* Byte strings held in memory: files or stored values. */
typedef struct BenchInputs
{
	uint8_t   **data;
	size_t	   *len;
	size_t		n;
	size_t		cap;
	size_t		bytes;
} BenchInputs;

static inline void
bench_inputs_add(BenchInputs *in, uint8_t *data, size_t len)
{
	if (in->n == in->cap)
	{
		in->cap = in->cap ? in->cap * 2 : 256;
		in->data = realloc(in->data, in->cap * sizeof(*in->data));
		in->len = realloc(in->len, in->cap * sizeof(*in->len));
		if (in->data == NULL || in->len == NULL)
		{
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
	}
	in->data[in->n] = data;
	in->len[in->n] = len;
	in->n++;
	in->bytes += len;
}

/* The files named in list (one path a line), read whole; false when one cannot be read. */
static inline bool
bench_read_list(const char *list_path, BenchInputs *in)
{
	FILE	   *list = fopen(list_path, "r");
	char		line[4096];

	if (list == NULL)
	{
		perror(list_path);
		return false;
	}
	while (fgets(line, sizeof(line), list))
	{
		size_t		len;
		uint8_t    *data;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		data = unit_read_file(line, &len);
		if (data == NULL)
		{
			perror(line);
			fclose(list);
			return false;
		}
		bench_inputs_add(in, data, len);
	}
	fclose(list);
	return true;
}

/*
 * Put glibc's malloc in the state a long-running process reaches anyway (its
 * thresholds rise after the first large free): no trimming of the heap's top,
 * mmap only above 32 MB.  Without this, a pass that allocates and frees a
 * tree per value can pay page faults for every value, depending on what the
 * process allocated before (a pe_decode pass measured 4x slower).
 */
static inline void
bench_malloc_steady(void)
{
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
}

/* Report the core's error and exit (BENCH_PROG: the including driver's name). */
static inline void
bench_die(PeCtx *ctx, const char *what)
{
	fprintf(stderr, "%s: %s: %s (%s)\n", BENCH_PROG, what,
			ctx->err.msg, ctx->err.detail);
	exit(1);
}

static inline void
bench_inputs_free(BenchInputs *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->data[i]);
	free(in->data);
	free(in->len);
	memset(in, 0, sizeof(*in));
}

#endif							/* BENCH_DRIVER_H */
