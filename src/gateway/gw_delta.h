/*
 * gw_delta.h
 *		Per-interval deltas of cumulative profiles (Go's allocs, mutex, block
 *		count since the process started): each scrape of a target minus the
 *		previous one, series by series.
 */
#ifndef GW_DELTA_H
#define GW_DELTA_H

#include <stdbool.h>
#include <stddef.h>

#include "pe_pprof.h"

/* The previous scrape of every target (by key), shared by the scrape threads. */
typedef struct GwDeltas GwDeltas;

extern GwDeltas *gw_deltas_new(void);
extern void gw_deltas_free(GwDeltas *d);

/* Forget the baselines whose key is not among keys (the targets still scraped). */
extern void gw_deltas_retain(GwDeltas *d, const char *const *keys, size_t nkeys);

/*
 * split (decoded from a scrape of key) becomes key's baseline, and its
 * series become their difference to the previous baseline in the
 * cumulative columns (alloc_*, contentions, delay; the others stay as
 * scraped); a series the previous scrape did not have stays whole.
 * Returns false when nothing is to be stored, *why saying why: the first
 * scrape, other sample types, values that went down (a restarted process:
 * a new baseline instead of negative values), out of memory.
 */
extern bool gw_deltas_apply(GwDeltas *d, const char *key, PeSplit *split, const char **why);

#endif							/* GW_DELTA_H */
