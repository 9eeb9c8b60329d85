/*
 * gw_metrics.c
 *		Families in declaration order, series in first-update order, one
 *		mutex: updates are a lookup in a short list.  A NULL registry
 *		ignores everything, so tools and tests may run without one.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"
#include "gw_metrics.h"

typedef enum FamilyType
{
	FAM_COUNTER,
	FAM_GAUGE,
	FAM_HISTOGRAM
} FamilyType;

typedef struct Series
{
	struct Series *next;
	char	   *labels;			/* rendered: k="v",k2="v2" (may be "") */
	double		value;			/* counter, gauge; histogram: sum */
	uint64_t	count;			/* histogram */
	uint64_t   *buckets;		/* histogram: per bound (not cumulative) */
} Series;

typedef struct Family
{
	struct Family *next;
	char	   *name;
	char	   *help;
	FamilyType	type;
	double	   *bounds;
	size_t		nbounds;
	Series	   *series;
	Series	   *last;
} Family;

struct GwMetrics
{
	pthread_mutex_t mu;
	Family	   *families;
	Family	   *last;
};

GwMetrics *
gw_metrics_new(void)
{
	GwMetrics  *m = calloc(1, sizeof(GwMetrics));

	if (m)
		pthread_mutex_init(&m->mu, NULL);
	return m;
}

void
gw_metrics_free(GwMetrics *m)
{
	if (m == NULL)
		return;
	for (Family *f = m->families, *fn; f; f = fn)
	{
		fn = f->next;
		for (Series *s = f->series, *sn; s; s = sn)
		{
			sn = s->next;
			free(s->labels);
			free(s->buckets);
			free(s);
		}
		free(f->name);
		free(f->help);
		free(f->bounds);
		free(f);
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static Family *
find_family(GwMetrics *m, const char *name)
{
	for (Family *f = m->families; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static void
declare(GwMetrics *m, const char *name, const char *help, FamilyType type,
		const double *bounds, size_t nbounds)
{
	Family	   *f;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	if (find_family(m, name) == NULL && (f = calloc(1, sizeof(Family))) != NULL)
	{
		f->name = strdup(name);
		f->help = strdup(help ? help : "");
		f->type = type;
		if (nbounds)
		{
			f->bounds = malloc(nbounds * sizeof(double));
			if (f->bounds)
			{
				memcpy(f->bounds, bounds, nbounds * sizeof(double));
				f->nbounds = nbounds;
			}
		}
		if (f->name == NULL || f->help == NULL)
		{
			free(f->name);
			free(f->help);
			free(f->bounds);
			free(f);
		}
		else
		{
			if (m->last)
				m->last->next = f;
			else
				m->families = f;
			m->last = f;
		}
	}
	pthread_mutex_unlock(&m->mu);
}

void
gw_metrics_counter(GwMetrics *m, const char *name, const char *help)
{
	declare(m, name, help, FAM_COUNTER, NULL, 0);
}

void
gw_metrics_gauge(GwMetrics *m, const char *name, const char *help)
{
	declare(m, name, help, FAM_GAUGE, NULL, 0);
}

void
gw_metrics_histogram(GwMetrics *m, const char *name, const char *help,
					 const double *bounds, size_t nbounds)
{
	declare(m, name, help, FAM_HISTOGRAM, bounds, nbounds);
}

/* Render the label pairs of ap as k="v",... with Prometheus escaping. */
static bool
render_labels(PeBuf *b, va_list ap)
{
	const char *k;
	bool		first = true;

	if (!pe_buf_append(b, "", 0))
		return false;
	while ((k = va_arg(ap, const char *)) != NULL)
	{
		const char *v = va_arg(ap, const char *);

		if (v == NULL)
			v = "";
		if (!pe_buf_printf(b, "%s%s=\"", first ? "" : ",", k))
			return false;
		for (const char *p = v; *p; p++)
		{
			const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;

			if (!(esc ? pe_buf_append(b, esc, 2) : pe_buf_append(b, p, 1)))
				return false;
		}
		if (!pe_buf_append(b, "\"", 1))
			return false;
		first = false;
	}
	return true;
}

/* Find or create the series; caller holds the lock. */
static Series *
get_series(Family *f, const char *labels)
{
	Series	   *s;

	for (s = f->series; s; s = s->next)
		if (strcmp(s->labels, labels) == 0)
			return s;
	s = calloc(1, sizeof(Series));
	if (s == NULL)
		return NULL;
	s->labels = strdup(labels);
	if (f->type == FAM_HISTOGRAM)
		s->buckets = calloc(f->nbounds ? f->nbounds : 1, sizeof(uint64_t));
	if (s->labels == NULL || (f->type == FAM_HISTOGRAM && s->buckets == NULL))
	{
		free(s->labels);
		free(s->buckets);
		free(s);
		return NULL;
	}
	if (f->last)
		f->last->next = s;
	else
		f->series = s;
	f->last = s;
	return s;
}

static void
update(GwMetrics *m, const char *name, double v, GwMetricUpdate kind, va_list ap)
{
	PeBuf		labels = {0};
	Family	   *f;
	Series	   *s;

	if (m == NULL || !render_labels(&labels, ap))
	{
		pe_buf_free(&labels);
		return;
	}
	pthread_mutex_lock(&m->mu);
	f = find_family(m, name);
	if (f && (s = get_series(f, (const char *) labels.data)) != NULL)
	{
		if (kind == GW_METRIC_SET)
			s->value = v;
		else if (kind == GW_METRIC_ADD)
			s->value += v;
		else
		{
			s->value += v;
			s->count++;
			for (size_t i = 0; i < f->nbounds; i++)
				if (v <= f->bounds[i])
				{
					s->buckets[i]++;
					break;
				}
		}
	}
	pthread_mutex_unlock(&m->mu);
	pe_buf_free(&labels);
}

void
gw_metrics_update(GwMetrics *m, GwMetricUpdate kind, const char *name, double v,...)
{
	va_list		ap;

	va_start(ap, v);
	update(m, name, v, kind, ap);
	va_end(ap);
}

void
gw_metrics_forget(GwMetrics *m, const char *family, const char *label, const char *value)
{
	PeBuf		needle = {0};
	Family	   *f;

	if (m == NULL)
		return;
	/* the pair as rendered; matching at a pair boundary */
	if (!pe_buf_printf(&needle, "%s=\"", label))
		return;
	for (const char *p = value; *p; p++)
	{
		const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;

		if (!(esc ? pe_buf_append(&needle, esc, 2) : pe_buf_append(&needle, p, 1)))
		{
			pe_buf_free(&needle);
			return;
		}
	}
	pe_buf_append(&needle, "\"", 1);
	pthread_mutex_lock(&m->mu);
	f = find_family(m, family);
	if (f)
	{
		Series	  **link = &f->series;

		f->last = NULL;
		while (*link)
		{
			Series	   *s = *link;
			const char *hit = strstr(s->labels, (const char *) needle.data);
			bool		match = hit && (hit == s->labels || hit[-1] == ',') &&
				(hit[needle.len] == '\0' || hit[needle.len] == ',');

			if (match)
			{
				*link = s->next;
				free(s->labels);
				free(s->buckets);
				free(s);
			}
			else
			{
				f->last = s;
				link = &s->next;
			}
		}
	}
	pthread_mutex_unlock(&m->mu);
	pe_buf_free(&needle);
}

static bool
put_value(PeBuf *b, const char *name, const char *suffix, const char *labels,
		  const char *extra, double v)
{
	const char *open = (labels[0] || extra) ? "{" : "";
	const char *close = (labels[0] || extra) ? "}" : "";
	const char *sep = (labels[0] && extra) ? "," : "";

	return pe_buf_printf(b, "%s%s%s%s%s%s%s %.17g\n", name, suffix, open, labels, sep,
						 extra ? extra : "", close, v);
}

char *
gw_metrics_render(GwMetrics *m, size_t *len)
{
	PeBuf		b = {0};
	bool		ok = true;

	if (m == NULL)
		return NULL;
	pthread_mutex_lock(&m->mu);
	ok = pe_buf_append(&b, "", 0);
	for (Family *f = m->families; ok && f; f = f->next)
	{
		static const char *const types[] = {"counter", "gauge", "histogram"};

		ok = pe_buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
						   types[f->type]);
		for (Series *s = f->series; ok && s; s = s->next)
		{
			if (f->type != FAM_HISTOGRAM)
			{
				ok = put_value(&b, f->name, "", s->labels, NULL, s->value);
				continue;
			}
			{
				uint64_t	cum = 0;
				char		le[64];

				for (size_t i = 0; ok && i < f->nbounds; i++)
				{
					cum += s->buckets[i];
					snprintf(le, sizeof(le), "le=\"%.17g\"", f->bounds[i]);
					ok = put_value(&b, f->name, "_bucket", s->labels, le, (double) cum);
				}
				ok = ok && put_value(&b, f->name, "_bucket", s->labels, "le=\"+Inf\"",
									 (double) s->count);
				ok = ok && put_value(&b, f->name, "_sum", s->labels, NULL, s->value);
				ok = ok && put_value(&b, f->name, "_count", s->labels, NULL, (double) s->count);
			}
		}
	}
	pthread_mutex_unlock(&m->mu);
	if (!ok)
	{
		pe_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return (char *) b.data;
}
