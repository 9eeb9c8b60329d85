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
#include <time.h>
#include <zlib.h>

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

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a, y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Inflate one gzip member into out (grown as needed); returns the output length. */
static size_t
gunzip(z_stream *zs, const Blob *in, unsigned char **out, size_t *outcap)
{
	int			rc;

	if (inflateReset2(zs, 16 + MAX_WBITS) != Z_OK)
		die("inflateReset2 failed", NULL);
	zs->next_in = in->data;
	zs->avail_in = (uInt) in->len;
	zs->next_out = *out;
	zs->avail_out = (uInt) *outcap;
	for (;;)
	{
		rc = inflate(zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_BUF_ERROR || (rc == Z_OK && zs->avail_out == 0))
		{
			size_t		used = zs->total_out;

			*outcap *= 2;
			*out = realloc(*out, *outcap);
			if (!*out)
				die("out of memory", NULL);
			zs->next_out = *out + used;
			zs->avail_out = (uInt) (*outcap - used);
			continue;
		}
		if (rc != Z_OK)
			die("inflate failed", zs->msg);
	}
	return zs->total_out;
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
		double		t0 = now_seconds();

		inflated = 0;
		for (size_t i = 0; i < nfiles; i++)
			inflated += gunzip(&zs, &files[i], &out, &outcap);
		times[r] = now_seconds() - t0;
	}
	inflateEnd(&zs);
	qsort(times, reps, sizeof(double), cmp_double);
	printf("%.6f %zu %zu %zu\n", times[reps / 2], compressed, inflated, nfiles);
	return 0;
}
