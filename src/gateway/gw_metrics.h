/*
 * gw_metrics.h
 *		A small thread-safe metrics registry rendered in the Prometheus text
 *		exposition format at GET /metrics.
 *
 * Families are declared once (gw_metrics_counter/gauge/histogram), then
 * updated by name with label pairs given as a NULL-terminated list of
 * name, value strings, for example
 *		gw_metrics_set(m, "profile_scrape_up", 1, "job", job, "instance", inst,
 *					   "profile_type", "process_cpu", NULL);
 * Label values are escaped on output; a series springs into existence on
 * its first update.  Updating an undeclared family is ignored.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>

typedef struct GwMetrics GwMetrics;

GwMetrics  *gw_metrics_new(void);
void		gw_metrics_free(GwMetrics *m);

/* Declare a family (idempotent).  Histogram bounds are ascending; +Inf is implied. */
void		gw_metrics_counter(GwMetrics *m, const char *name, const char *help);
void		gw_metrics_gauge(GwMetrics *m, const char *name, const char *help);
void		gw_metrics_histogram(GwMetrics *m, const char *name, const char *help,
								 const double *bounds, size_t nbounds);

typedef enum GwMetricUpdate
{
	GW_METRIC_ADD,				/* counter or gauge += v */
	GW_METRIC_SET,				/* gauge = v */
	GW_METRIC_OBSERVE			/* histogram observation v */
} GwMetricUpdate;

/* Update a series.  Labels: k, v, ..., NULL. */
void		gw_metrics_update(GwMetrics *m, GwMetricUpdate kind, const char *name, double v,...)
			__attribute__((sentinel));
#define gw_metrics_add(m, ...)		gw_metrics_update((m), GW_METRIC_ADD, __VA_ARGS__)
#define gw_metrics_set(m, ...)		gw_metrics_update((m), GW_METRIC_SET, __VA_ARGS__)
#define gw_metrics_observe(m, ...)	gw_metrics_update((m), GW_METRIC_OBSERVE, __VA_ARGS__)

/* Drop every series of a family whose labels include name=value (targets that went away). */
void		gw_metrics_forget(GwMetrics *m, const char *family, const char *label,
							  const char *value);

/* The text exposition (malloc'd, NUL-terminated); NULL when out of memory. */
char	   *gw_metrics_render(GwMetrics *m, size_t *len);

#endif							/* GW_METRICS_H */
