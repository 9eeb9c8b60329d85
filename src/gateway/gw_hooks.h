/*
 * gw_hooks.h
 *		What main.c calls for --config (issue 12's scraper: gw_config*.c,
 *		gw_scrape*.c implement these).  They are weak here, so the program
 *		builds and runs without the scraper; --config then fails clearly.
 */
#ifndef GW_HOOKS_H
#define GW_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "gw_batch.h"
#include "gw_common.h"
#include "gw_metrics.h"

/*
 * Load the YAML config at path and, when it has scrape_configs, start
 * scraping into batcher.  Returns an opaque handle (non-NULL on success,
 * also when there is nothing to scrape), NULL with err filled on failure.
 */
extern void *gw_scrape_main_start(const char *path, GwBatcher *batcher, GwMetrics *metrics,
								  const GwLimits *limits, char *err, size_t errlen)
			__attribute__((weak));

/* SIGHUP: reload path; on failure keep the running config and fill err. */
extern bool gw_scrape_main_reload(void *handle, const char *path, char *err, size_t errlen)
			__attribute__((weak));

/* SIGTERM: stop scraping (before the batcher drains) and free the handle. */
extern void gw_scrape_main_stop(void *handle) __attribute__((weak));

#endif							/* GW_HOOKS_H */
