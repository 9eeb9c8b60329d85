/*
 * gunzip_timer.c
 *		Benchmark baseline: how long plain zlib takes to gunzip a set of
 *		files held in memory.  profile_ext's ingest must at least inflate
 *		every pprof file, so this is the floor its COPY is compared with.
 *
 * usage: gunzip_timer LISTFILE [REPS]
 *   LISTFILE holds one path per line.  Every file is read into memory
 *   first; then all of them are inflated REPS times (default 3), timing
 *   only the inflate calls.  Prints "seconds compressed_bytes inflated_bytes
 *   files", seconds being the median over the repetitions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bench_time.h"
#include "zlib_gunzip.h"

typedef struct Blob
{
	unsigned char *data;
	size_t		len;
} Blob;

static void
die(const char *msg, const char *arg)
{
	fprintf(stderr, "gunzip_timer: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(1);
}

/* Whole file into memory. */
static Blob
read_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	Blob		b = {0};
	size_t		cap = 1 << 16;

	if (!f)
		die("cannot open", path);
	b.data = malloc(cap);
	for (;;)
	{
		size_t		n;

		if (b.len == cap)
		{
			cap *= 2;
			b.data = realloc(b.data, cap);
		}
		if (!b.data)
			die("out of memory", NULL);
		n = fread(b.data + b.len, 1, cap - b.len, f);
		if (n == 0)
			break;
		b.len += n;
	}
	fclose(f);
	return b;
}

/* Inflate one gzip member into out (grown as needed); returns the output length. */
static size_t
gunzip(z_stream *zs, const Blob *in, unsigned char **out, size_t *outcap)
{
	const char *err;
	size_t		n = zlib_gunzip(zs, in->data, in->len, out, outcap, &err);

	if (err)
		die("inflate failed", err);
	return n;
}

int
main(int argc, char **argv)
{
	FILE	   *list;
	char		line[4096];
	Blob	   *files = NULL;
	size_t		nfiles = 0, cap = 0, compressed = 0, inflated = 0;
	int			reps = argc > 2 ? atoi(argv[2]) : 3;
	double	   *times;
	unsigned char *out;
	size_t		outcap = 1 << 20;
	z_stream	zs;

	if (argc < 2 || reps < 1)
		die("usage: gunzip_timer LISTFILE [REPS]", NULL);
	list = fopen(argv[1], "r");
	if (!list)
		die("cannot open", argv[1]);
	while (fgets(line, sizeof(line), list))
	{
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (nfiles == cap)
		{
			cap = cap ? cap * 2 : 1024;
			files = realloc(files, cap * sizeof(Blob));
			if (!files)
				die("out of memory", NULL);
		}
		files[nfiles] = read_file(line);
		compressed += files[nfiles].len;
		nfiles++;
	}
	fclose(list);

	out = malloc(outcap);
	times = malloc(reps * sizeof(double));
	memset(&zs, 0, sizeof(zs));
	if (!out || !times || inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		die("cannot set up zlib", NULL);
	for (int r = 0; r < reps; r++)
	{
		double		t0 = bench_now();

		inflated = 0;
		for (size_t i = 0; i < nfiles; i++)
			inflated += gunzip(&zs, &files[i], &out, &outcap);
		times[r] = bench_now() - t0;
	}
	inflateEnd(&zs);
	printf("%.6f %zu %zu %zu\n", bench_median(times, reps), compressed, inflated, nfiles);
	return 0;
}
