/*
 * gw_scrape_main.c
 *		The --config hooks main.c calls (gw_hooks.h): load the YAML, start the
 *		scraper when it has scrape_configs, reload on SIGHUP, stop on SIGTERM.
 */
#include "gw_hooks.h"

#include <stdio.h>
#include <stdlib.h>

#include "gw_config.h"
#include "gw_scrape.h"

typedef struct ScrapeMain
{
	GwScrapeOptions opt;
	GwScraper  *scraper;		/* NULL while the config has nothing to scrape */
} ScrapeMain;

void *
gw_scrape_main_start(const char *path, GwBatcher *batcher, GwMetrics *metrics,
					 const GwLimits *limits, char *err, size_t errlen)
{
	GwConfig   *cfg = gw_config_load(path, err, errlen);
	ScrapeMain *h;

	if (!cfg)
		return NULL;
	h = calloc(1, sizeof(ScrapeMain));
	if (!h)
	{
		gw_config_free(cfg);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->opt.batcher = batcher;
	h->opt.metrics = metrics;
	if (limits)
		h->opt.limits = *limits;
	else
		gw_limits_default(&h->opt.limits);
	if (!gw_scrape_wanted(cfg))
	{
		gw_config_free(cfg);
		return h;
	}
	h->scraper = gw_scraper_start(cfg, &h->opt, err, errlen);
	if (!h->scraper)
	{
		free(h);
		return NULL;
	}
	return h;
}

bool
gw_scrape_main_reload(void *handle, const char *path, char *err, size_t errlen)
{
	ScrapeMain *h = handle;
	GwConfig   *cfg = gw_config_load(path, err, errlen);

	if (!cfg)
		return false;
	if (h->scraper)
		gw_scraper_reload(h->scraper, cfg);
	else if (gw_scrape_wanted(cfg))
		return (h->scraper = gw_scraper_start(cfg, &h->opt, err, errlen)) != NULL;
	else
		gw_config_free(cfg);
	return true;
}

void
gw_scrape_main_stop(void *handle)
{
	ScrapeMain *h = handle;

	if (!h)
		return;
	gw_scraper_stop(h->scraper);
	free(h);
}
