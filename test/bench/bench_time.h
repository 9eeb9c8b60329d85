/*
 * bench_time.h
 *		A monotonic clock and medians, for the bench's C helpers
 *		(gunzip_timer.c and the stage drivers).
 */
#ifndef BENCH_TIME_H
#define BENCH_TIME_H

#include <stdlib.h>
#include <time.h>

static inline double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v). */
static inline double
bench_median(double *v, int n)
{
	qsort(v, n, sizeof(double), bench_cmp_double);
	return v[n / 2];
}

#endif							/* BENCH_TIME_H */
