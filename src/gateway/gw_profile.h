/*
 * gw_profile.h
 *		From a received profile to rows: the core decodes and validates it,
 *		splits it by string sample labels, encodes each series as a stored
 *		value; the labels become the row's JSON.
 */
#ifndef GW_PROFILE_H
#define GW_PROFILE_H

#include "gw_batch.h"
#include "gw_labels.h"
#include "pe_pprof.h"

/* The rows of one request; owns every labels_json and profile buffer. */
typedef struct GwRows
{
	GwRow	   *rows;
	size_t		n;
	size_t		cap;
	size_t		bytes;			/* stored bytes, for metrics */
} GwRows;

extern void gw_rows_free(GwRows *r);

/*
 * At most n requests decode and encode at once (each may take tens of MB
 * while it does); the rest wait their turn.  Unset (tests, fuzzing): no bound.
 */
extern void gw_profile_set_concurrency(unsigned n);

/* How a pprof's series labels are completed. */
typedef struct GwPprofRule
{
	const GwLabels *base;		/* labels every series gets */
	bool		derive_name;	/* set __name__ from the sample types (/ingest) */
	const GwTypeNames *type_names;	/* sample_type_config, or NULL */
	const char *tenant;			/* set as label "tenant" when not NULL */
	int64_t		fallback_ts;	/* when the profile has no time_nanos */
	int			invalid_status;	/* 422 (/ingest) or 400 (Push) */
	int			limit_status;	/* over a size or sample limit; 0: invalid_status */

	/*
	 * When set, called with the decoded series before they become rows
	 * (the scraper's deltas): it may change their trees, and returning
	 * false stores none of them (not an error: the call succeeds).
	 */
	bool		(*filter) (void *arg, PeSplit *split);
	void	   *filter_arg;
} GwPprofRule;

/* Decode one pprof payload (gzipped or not) and append its rows. */
extern bool gw_rows_from_pprof(const GwLimits *lim, const uint8_t *data, size_t len,
							   const GwPprofRule *rule, GwRows *rows, GwErr *err);

/*
 * Folded text ("a;b;c 42" per line) with Pyroscope's legacy naming: the
 * app name's suffix (.cpu, .wall, .alloc_space, ...) gives the sample type
 * and __name__; cpu and wall values are scaled by 1e9/sample_rate.
 * labels must hold service_name, the tags and pyroscope_spy; the suffix of
 * app decides the rest.
 */
extern bool gw_rows_from_folded(const GwLimits *lim, const char *text, size_t len,
								const char *app, const GwLabels *labels, const char *tenant,
								int64_t sample_rate, int64_t ts, GwRows *rows, GwErr *err);

#endif							/* GW_PROFILE_H */
