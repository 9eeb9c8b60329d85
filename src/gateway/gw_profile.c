/*
 * gw_profile.c
 *		pprof and folded payloads into rows.
 */
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "gw_profile.h"
#include "pe_codec.h"
#include "pe_folded.h"
#include "pe_pprof.h"

/* A profile older than this has no real time (pprof writers leave 0 or 1970). */
#define GW_MIN_REAL_TIME_NS		((int64_t) 365 * 86400 * 1000000000)

static sem_t decode_slots;
static bool decode_bounded;

void
gw_profile_set_concurrency(unsigned n)
{
	if (!decode_bounded && n > 0 && sem_init(&decode_slots, 0, n) == 0)
		decode_bounded = true;
}

static void
slot_take(void)
{
	if (decode_bounded)
		while (sem_wait(&decode_slots) != 0)
			;
}

static void
slot_give(void)
{
	if (decode_bounded)
		sem_post(&decode_slots);
}

void
gw_rows_free(GwRows *r)
{
	for (size_t i = 0; i < r->n; i++)
	{
		free((void *) r->rows[i].labels_json);
		free((void *) r->rows[i].profile);
	}
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

/* Encode tree t and append a row with labels; takes nothing over on failure. */
static bool
append_row(GwRows *rows, const GwLimits *lim, const PeTree *t, const GwLabels *labels,
		   int64_t ts, GwErr *err)
{
	uint8_t    *out = NULL;
	size_t		outlen = 0;
	char	   *json;

	if (rows->n == rows->cap)
	{
		size_t		nc = rows->cap ? rows->cap * 2 : 4;
		GwRow	   *p = realloc(rows->rows, nc * sizeof(GwRow));

		if (p == NULL)
			return gw_fail(err, 503, "out of memory");
		rows->rows = p;
		rows->cap = nc;
	}
	if (!pe_encode(t, lim->zstd_level, 0, &out, &outlen))
		return gw_fail(err, 500, "encoding the profile failed: %s", t->ctx->err.msg);
	json = gw_labels_json(labels);
	if (json == NULL)
	{
		free(out);
		return gw_fail(err, 503, "out of memory");
	}
	rows->rows[rows->n].ts_unix_ns = ts;
	rows->rows[rows->n].labels_json = json;
	rows->rows[rows->n].profile = out;
	rows->rows[rows->n].profile_len = outlen;
	rows->n++;
	rows->bytes += outlen;
	return true;
}

static void
ctx_for_limits(PeCtx *ctx, const GwLimits *lim)
{
	pe_ctx_init_malloc(ctx);
	ctx->limits.max_decoded_bytes = lim->max_profile_bytes;
}

static bool
rows_from_pprof(const GwLimits *lim, const uint8_t *data, size_t len,
				const GwPprofRule *rule, GwRows *rows, GwErr *err)
{
	static const char *const skip[] = {"span_id", "trace_id", "profile_id"};
	PeSplitOptions opt = {skip, 3, lim->max_sample_labels};
	PeCtx		ctx;
	PeSplit		split;
	int64_t		ts;
	bool		ok = true;

	int			limit_status = rule->limit_status ? rule->limit_status : rule->invalid_status;

	ctx_for_limits(&ctx, lim);
	if (!pe_pprof_decode_split(&ctx, data, len, &opt, &split))
	{
		int			status = pe_err_is_limit(ctx.err.code) ? limit_status : rule->invalid_status;

		if (ctx.err.code == PE_ERR_NOMEM)
			return gw_fail(err, 503, "out of memory decoding the profile");
		if (ctx.err.detail[0])
			return gw_fail(err, status, "%s (%s)", ctx.err.msg, ctx.err.detail);
		return gw_fail(err, status, "%s", ctx.err.msg);
	}
	if (lim->max_samples && split.nsamples > lim->max_samples)
	{
		unsigned long long n = (unsigned long long) split.nsamples;

		pe_split_free(&ctx, &split);
		return gw_fail(err, limit_status,
					   "profile has %llu samples, more than the limit of %llu",
					   n, (unsigned long long) lim->max_samples);
	}
	if (rule->filter && !rule->filter(rule->filter_arg, &split))
	{
		pe_split_free(&ctx, &split);
		return true;
	}
	ts = split.series[0].tree.meta.time_nanos;
	if (ts < GW_MIN_REAL_TIME_NS)
		ts = rule->fallback_ts;

	for (uint32_t i = 0; ok && i < split.nseries; i++)
	{
		PeSeries   *s = &split.series[i];
		GwLabels	labels;

		if (!gw_labels_copy(&labels, rule->base))
		{
			ok = gw_fail(err, 503, "out of memory");
			break;
		}
		if (rule->derive_name)
			ok = gw_labels_set_str(&labels, "__name__",
								   gw_metric_name(&s->tree.meta, rule->type_names));
		for (uint32_t k = 0; ok && k < s->nlabels; k++)
		{
			const char *key = s->keys[k];

			if (gw_label_is_internal(key, s->key_len[k]))
				continue;		/* not promoted */
			ok = gw_labels_set(&labels, key, s->key_len[k], s->values[k], s->value_len[k]);
		}
		if (ok && rule->tenant)
			ok = gw_labels_set_str(&labels, "tenant", rule->tenant);
		if (!ok)
			gw_fail(err, 503, "out of memory");
		else if (gw_labels_validate(&labels, lim, err))
			ok = append_row(rows, lim, &s->tree, &labels, ts, err);
		else
			ok = false;
		gw_labels_free(&labels);
	}
	pe_split_free(&ctx, &split);
	return ok;
}

/* ---------------------------------------------------------------- folded */

typedef struct LegacyType
{
	const char *suffix;			/* of the app name */
	const char *metric;			/* __name__ */
	const char *type;
	const char *unit;
	bool		scaled;			/* values are samples at sampleRate: to nanoseconds */
} LegacyType;

static const LegacyType legacy_types[] = {
	{"cpu", "process_cpu", "cpu", "nanoseconds", true},
	{"itimer", "process_cpu", "cpu", "nanoseconds", true},
	{"wall", "wall", "wall", "nanoseconds", true},
	{"alloc_objects", "memory", "alloc_objects", "count", false},
	{"alloc_space", "memory", "alloc_space", "bytes", false},
	{"inuse_objects", "memory", "inuse_objects", "count", false},
	{"inuse_space", "memory", "inuse_space", "bytes", false},
	{"goroutines", "goroutines", "goroutines", "count", false},
	{"mutex_count", "mutex", "contentions", "count", false},
	{"mutex_duration", "mutex", "delay", "nanoseconds", false},
	{"block_count", "block", "contentions", "count", false},
	{"block_duration", "block", "delay", "nanoseconds", false},
	{"lock_count", "mutex", "contentions", "count", false},
	{"lock_duration", "mutex", "delay", "nanoseconds", false},
	{"exceptions", "exceptions", "exceptions", "count", false},
};

static bool
rows_from_folded(const GwLimits *lim, const char *text, size_t len,
				 const char *app, const GwLabels *base, const char *tenant,
				 int64_t sample_rate, int64_t ts, GwRows *rows, GwErr *err)
{
	const char *dot = strrchr(app, '.');
	const LegacyType *lt = &legacy_types[0];
	size_t		app_len = strlen(app);
	PeCtx		ctx;
	PeMeta		meta;
	PeSampleType st;
	PeTree		t;
	GwLabels	labels;
	bool		ok;

	if (dot)
	{
		lt = NULL;
		for (size_t i = 0; i < sizeof(legacy_types) / sizeof(legacy_types[0]); i++)
			if (strcmp(dot + 1, legacy_types[i].suffix) == 0)
				lt = &legacy_types[i];
		if (lt == NULL)
			return gw_fail(err, 400, "name: unknown profile type suffix \".%s\" for folded input (use .cpu, .wall, .alloc_space, ... or no dot)",
						   dot + 1);
		app_len = (size_t) (dot - app);
	}
	if (sample_rate <= 0)
		sample_rate = 100;

	memset(&meta, 0, sizeof(meta));
	st.type = (char *) lt->type;
	st.unit = (char *) lt->unit;
	meta.nvalues = 1;
	meta.types = &st;
	meta.period_type = st;
	meta.period = lt->scaled ? 1000000000 / sample_rate : 1;
	meta.time_nanos = ts;
	meta.default_type = -1;

	ctx_for_limits(&ctx, lim);
	if (len > lim->max_profile_bytes)
		return gw_fail(err, 422, "folded profile is %zu bytes, more than the limit of %zu",
					   len, lim->max_profile_bytes);
	if (!pe_folded_parse(&ctx, text, len, &meta, &t))
	{
		if (ctx.err.code == PE_ERR_NOMEM)
			return gw_fail(err, 503, "out of memory parsing folded text");
		return gw_fail(err, 422, "%s%s%s", ctx.err.msg, ctx.err.detail[0] ? ": " : "",
					   ctx.err.detail);
	}
	if (lt->scaled)
	{
		int64_t		factor = 1000000000 / sample_rate;

		for (uint32_t i = 0; i < t.nnodes; i++)
			if (__builtin_mul_overflow(t.self[i], factor, &t.self[i]))
			{
				pe_tree_free(&t);
				return gw_fail(err, 422, "folded value times 1e9/sampleRate overflows 64 bits");
			}
	}
	if (!gw_labels_copy(&labels, base))
	{
		pe_tree_free(&t);
		return gw_fail(err, 503, "out of memory");
	}
	ok = gw_labels_set_str(&labels, "__name__", lt->metric);
	if (ok && !gw_labels_get(base, "service_name"))
		ok = gw_labels_set(&labels, "service_name", 12, app, app_len);
	if (ok && tenant)
		ok = gw_labels_set_str(&labels, "tenant", tenant);
	if (!ok)
		gw_fail(err, 503, "out of memory");
	else
		ok = gw_labels_validate(&labels, lim, err) &&
			append_row(rows, lim, &t, &labels, ts, err);
	gw_labels_free(&labels);
	pe_tree_free(&t);
	return ok;
}

bool
gw_rows_from_pprof(const GwLimits *lim, const uint8_t *data, size_t len,
				   const GwPprofRule *rule, GwRows *rows, GwErr *err)
{
	bool		ok;

	slot_take();
	ok = rows_from_pprof(lim, data, len, rule, rows, err);
	slot_give();
	return ok;
}

bool
gw_rows_from_folded(const GwLimits *lim, const char *text, size_t len,
					const char *app, const GwLabels *labels, const char *tenant,
					int64_t sample_rate, int64_t ts, GwRows *rows, GwErr *err)
{
	bool		ok;

	slot_take();
	ok = rows_from_folded(lim, text, len, app, labels, tenant, sample_rate, ts, rows, err);
	slot_give();
	return ok;
}
