/*
 * gw_scrape.h
 *		The pull side of profile-gateway: scrape pprof endpoints the way
 *		Grafana Alloy's pyroscope.scrape does, and write the profiles through
 *		the batcher like pushed ones.
 *
 * One manager thread keeps the target list (static_configs, file_sd) and
 * the schedule; a pool of at most max_concurrent_scrapes worker threads
 * fetches with libcurl.  A target is never scraped twice at once and its
 * scrapes never wait for another target's, so a slow or dead target only
 * costs its own worker.
 *
 * A fetched profile becomes rows as a pushed one does (gw_profile.c: the
 * same limits, label rules and decode slots).  Cumulative profiles (Go's
 * allocs, mutex, block) become per-interval deltas against the previous
 * scrape of the same target (gw_delta.c): the first scrape is only a
 * baseline, and values that go down (a restarted process) start a new
 * baseline instead of storing negative numbers.
 */
#ifndef GW_SCRAPE_H
#define GW_SCRAPE_H

#include "gw_common.h"
#include "gw_config.h"

typedef struct GwBatcher GwBatcher;
typedef struct GwMetrics GwMetrics;
typedef struct GwScraper GwScraper;

typedef void (*GwScrapeLog) (const char *msg);

typedef struct GwScrapeOptions
{
	GwBatcher  *batcher;
	GwMetrics  *metrics;		/* may be NULL */
	GwLimits	limits;			/* the push limits (a job's body_size_limit bounds more) */
	GwScrapeLog log;			/* NULL: stderr */
} GwScrapeOptions;

/* True when cfg has anything to scrape (a scrape_configs entry). */
extern bool gw_scrape_wanted(const GwConfig *cfg);

/*
 * Start scraping cfg.  The scraper takes ownership of cfg.  NULL (with err
 * filled) when libcurl cannot start.
 */
extern GwScraper *gw_scraper_start(GwConfig *cfg, const GwScrapeOptions *opt,
								   char *err, size_t errlen);

/*
 * Switch to a new configuration (ownership passes).  Targets whose settings
 * did not change keep their schedule and delta baselines; in-flight scrapes
 * of removed targets finish and are written.
 */
extern void gw_scraper_reload(GwScraper *s, GwConfig *cfg);

/* Abort in-flight transfers, stop every thread, free everything. */
extern void gw_scraper_stop(GwScraper *s);

#endif							/* GW_SCRAPE_H */
