/*
 * gw_delta.c
 *		Deltas of cumulative profiles against the previous scrape.
 *
 * A baseline is a private copy of one scrape's series, sorted by their
 * labels.  The lock only swaps a target's baseline pointer: copying the new
 * one and subtracting the old one happen outside it, on memory no other
 * thread can reach any more.
 */
#include "gw_delta.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pe_ops.h"

/* Sample types that count since process start (Alloy's delta list). */
static const char *const cumulative_types[] = {
	"alloc_objects", "alloc_space", "contentions", "delay",
};

/* A series' labels as one byte string: (length, key, length, value) per label. */
typedef struct SeriesId
{
	uint8_t    *bytes;
	size_t		len;
} SeriesId;

typedef struct SnapSeries
{
	SeriesId	id;
	PeTree		tree;
} SnapSeries;

typedef struct Snapshot
{
	PeCtx		ctx;			/* owns the trees */
	uint32_t	n;
	uint32_t	ntrees;			/* trees copied so far */
	SnapSeries *series;			/* sorted by id */
} Snapshot;

typedef struct Baseline
{
	char	   *key;
	Snapshot   *snap;
} Baseline;

struct GwDeltas
{
	pthread_mutex_t mu;
	Baseline   *baselines;		/* sorted by key */
	size_t		n;
	size_t		cap;
};

static bool
is_cumulative_type(const char *type)
{
	for (size_t i = 0; i < sizeof(cumulative_types) / sizeof(cumulative_types[0]); i++)
		if (strcmp(type, cumulative_types[i]) == 0)
			return true;
	return false;
}

static bool
series_id(const PeSeries *s, SeriesId *id)
{
	size_t		len = 0;
	uint8_t    *p;

	for (uint32_t k = 0; k < s->nlabels; k++)
		len += 8 + s->key_len[k] + s->value_len[k];
	id->len = len;
	id->bytes = p = malloc(len ? len : 1);
	if (p == NULL)
		return false;
	for (uint32_t k = 0; k < s->nlabels; k++)
	{
		memcpy(p, &s->key_len[k], 4);
		memcpy(p + 4, s->keys[k], s->key_len[k]);
		p += 4 + s->key_len[k];
		memcpy(p, &s->value_len[k], 4);
		memcpy(p + 4, s->values[k], s->value_len[k]);
		p += 4 + s->value_len[k];
	}
	return true;
}

static int
compare_ids(const SeriesId *a, const SeriesId *b)
{
	int			c = memcmp(a->bytes, b->bytes, a->len < b->len ? a->len : b->len);

	if (c != 0)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

static void
snapshot_free(Snapshot *p)
{
	if (p == NULL)
		return;
	for (uint32_t i = 0; i < p->n; i++)
		free(p->series[i].id.bytes);
	for (uint32_t i = 0; i < p->ntrees; i++)
		pe_tree_free(&p->series[i].tree);
	free(p->series);
	free(p);
}

typedef struct IdAt
{
	SeriesId	id;
	uint32_t	at;				/* index in the split */
} IdAt;

static int
compare_id_at(const void *a, const void *b)
{
	return compare_ids(&((const IdAt *) a)->id, &((const IdAt *) b)->id);
}

/* A private copy of split's series; NULL when out of memory. */
static Snapshot *
snapshot_take(const PeSplit *split)
{
	uint32_t	n = split->nseries;
	Snapshot   *p = calloc(1, sizeof(Snapshot));
	IdAt	   *order = calloc(n ? n : 1, sizeof(IdAt));

	if (p == NULL || order == NULL)
		goto fail;
	pe_ctx_init_malloc(&p->ctx);
	p->series = calloc(n ? n : 1, sizeof(SnapSeries));
	if (p->series == NULL)
		goto fail;
	for (uint32_t i = 0; i < n; i++)
	{
		order[i].at = i;
		if (!series_id(&split->series[i], &order[i].id))
			goto fail;
	}
	/* sorted first, copied in place after: a copied tree never moves */
	qsort(order, n, sizeof(IdAt), compare_id_at);
	for (uint32_t i = 0; i < n; i++)
	{
		p->series[i].id = order[i].id;
		order[i].id.bytes = NULL;
	}
	p->n = n;
	for (; p->ntrees < n; p->ntrees++)
		if (!pe_tree_copy(&p->ctx, &split->series[order[p->ntrees].at].tree,
						  &p->series[p->ntrees].tree))
			goto fail;
	free(order);
	return p;
fail:
	for (uint32_t i = 0; order && i < n; i++)
		free(order[i].id.bytes);
	free(order);
	snapshot_free(p);
	return NULL;
}

static SnapSeries *
snapshot_find(Snapshot *p, const SeriesId *id)
{
	size_t		lo = 0,
				hi = p->n;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		int			c = compare_ids(id, &p->series[mid].id);

		if (c == 0)
			return &p->series[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Position of key in the sorted baselines, or where it would go. */
static size_t
baseline_pos(const GwDeltas *d, const char *key, bool *found)
{
	size_t		lo = 0,
				hi = d->n;

	*found = false;
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		int			c = strcmp(key, d->baselines[mid].key);

		if (c == 0)
		{
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Install next as key's baseline (lock held); returns the previous one, or NULL. */
static Snapshot *
baseline_swap(GwDeltas *d, const char *key, Snapshot *next)
{
	bool		found;
	size_t		at = baseline_pos(d, key, &found);
	Snapshot   *prev;
	char	   *copy;

	if (found)
	{
		prev = d->baselines[at].snap;
		d->baselines[at].snap = next;
		return prev;
	}
	if (d->n == d->cap)
	{
		size_t		cap = d->cap ? d->cap * 2 : 16;
		Baseline   *b = realloc(d->baselines, cap * sizeof(Baseline));

		if (b == NULL)
			abort();			/* out of memory, as the scraper's other bookkeeping */
		d->baselines = b;
		d->cap = cap;
	}
	copy = strdup(key);
	if (copy == NULL)
		abort();
	memmove(&d->baselines[at + 1], &d->baselines[at], (d->n - at) * sizeof(Baseline));
	d->baselines[at].key = copy;
	d->baselines[at].snap = next;
	d->n++;
	return NULL;
}

/* Each series of split minus its counterpart in prev (which this consumes). */
static bool
subtract(Snapshot *prev, PeSplit *split, const char **why)
{
	for (uint32_t i = 0; i < split->nseries; i++)
	{
		PeTree	   *cur = &split->series[i].tree;
		SnapSeries *old;
		SeriesId	id;
		uint32_t	nv = cur->meta.nvalues;
		bool		cum[PE_MAX_VALUES];
		int64_t		time_nanos = cur->meta.time_nanos;
		int64_t		duration_nanos = cur->meta.duration_nanos;

		if (!series_id(&split->series[i], &id))
		{
			*why = "out of memory";
			return false;
		}
		old = snapshot_find(prev, &id);
		free(id.bytes);
		if (old == NULL)
			continue;			/* new since the last scrape: all of it is new */
		if (!pe_meta_compatible(cur->ctx, &old->tree.meta, &cur->meta))
		{
			*why = "sample types changed";
			return false;
		}
		for (uint32_t v = 0; v < nv; v++)
			cum[v] = is_cumulative_type(cur->meta.types[v].type);
		/* the baseline's other columns (inuse_*) are not subtracted */
		for (uint32_t n = 0; n < old->tree.nnodes; n++)
			for (uint32_t v = 0; v < nv; v++)
				if (!cum[v])
					old->tree.self[(size_t) n * nv + v] = 0;
		if (!pe_tree_merge(cur, &old->tree, true))
		{
			*why = cur->ctx->err.code == PE_ERR_NOMEM ? "out of memory" : "diff failed";
			return false;
		}
		for (uint32_t n = 0; n < cur->nnodes; n++)
			for (uint32_t v = 0; v < nv; v++)
				if (cum[v] && cur->self[(size_t) n * nv + v] < 0)
				{
					*why = "counter reset (values went down)";
					return false;
				}
		cur->meta.time_nanos = time_nanos;
		cur->meta.duration_nanos = old->tree.meta.time_nanos > 0 &&
			time_nanos > old->tree.meta.time_nanos ?
			time_nanos - old->tree.meta.time_nanos : duration_nanos;
	}
	return true;
}

bool
gw_deltas_apply(GwDeltas *d, const char *key, PeSplit *split, const char **why)
{
	Snapshot   *next = snapshot_take(split);
	Snapshot   *prev;
	bool		ok;

	*why = NULL;
	if (next == NULL)
	{
		*why = "out of memory";	/* the old baseline stays */
		return false;
	}
	pthread_mutex_lock(&d->mu);
	prev = baseline_swap(d, key, next);
	pthread_mutex_unlock(&d->mu);
	if (prev == NULL)
	{
		*why = "first scrape";
		return false;
	}
	ok = subtract(prev, split, why);
	snapshot_free(prev);
	return ok;
}

GwDeltas *
gw_deltas_new(void)
{
	GwDeltas   *d = calloc(1, sizeof(GwDeltas));

	if (d == NULL)
		abort();
	pthread_mutex_init(&d->mu, NULL);
	return d;
}

void
gw_deltas_free(GwDeltas *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
	{
		free(d->baselines[i].key);
		snapshot_free(d->baselines[i].snap);
	}
	free(d->baselines);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

void
gw_deltas_retain(GwDeltas *d, const char *const *keys, size_t nkeys)
{
	const char **sorted = malloc((nkeys ? nkeys : 1) * sizeof(char *));
	Baseline   *gone;
	size_t		ngone = 0,
				kept = 0;

	if (sorted == NULL)
		return;					/* keep them all: the next sync tries again */
	memcpy(sorted, keys, nkeys * sizeof(char *));
	qsort(sorted, nkeys, sizeof(char *), compare_strings);
	pthread_mutex_lock(&d->mu);
	gone = malloc((d->n ? d->n : 1) * sizeof(Baseline));
	for (size_t i = 0; gone && i < d->n; i++)
	{
		if (bsearch(&d->baselines[i].key, sorted, nkeys, sizeof(char *), compare_strings))
			d->baselines[kept++] = d->baselines[i];
		else
			gone[ngone++] = d->baselines[i];
	}
	if (gone)
		d->n = kept;
	pthread_mutex_unlock(&d->mu);
	for (size_t i = 0; i < ngone; i++)
	{
		free(gone[i].key);
		snapshot_free(gone[i].snap);
	}
	free(gone);
	free(sorted);
}
