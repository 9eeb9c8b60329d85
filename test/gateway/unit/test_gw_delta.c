/*
 * test_gw_delta.c
 *		Unit tests of the scraper's deltas (gw_delta.c) and of the filter
 *		hook of the push path that applies them (gw_rows_from_pprof): the
 *		first scrape is a baseline, later ones store what changed in the
 *		cumulative columns, per series; counter resets and other sample
 *		types start a new baseline; forgotten targets start over.
 */
#include <stdlib.h>
#include <string.h>

#include "pb_builder.h"
#include "unit.h"
#include "gw_delta.h"
#include "gw_profile.h"
#include "pe_codec.h"

/*
 * An allocs-like profile: alloc_space (cumulative) and inuse_space (not)
 * of main -> work, as the sample labelled user=alice; when bob >= 0 also a
 * sample labelled user=bob of main -> idle with alloc_space bob.
 */
static uint8_t *
make_allocs(const char *types, int64_t alloc, int64_t inuse, int64_t bob, size_t *len)
{
	static const uint64_t work[] = {2, 1},
				idle[] = {3, 1};
	static const char *names[] = {"main", "work", "idle"};
	int64_t		v[2] = {alloc, inuse};
	int64_t		vb[2] = {bob, 0};
	PbBuilder	b;
	PbSample   *s;
	uint8_t    *out;

	pb_init_types(&b, types);
	for (uint64_t i = 1; i <= 3; i++)
	{
		pb_func(&b, i, names[i - 1]);
		pb_loc(&b, i, 0, 0, 1, &i);
	}
	s = pb_sample(&b, 2, work, 2, v);
	pb_label(s, pb_str(&b, "user"), pb_str(&b, "alice"));
	if (bob >= 0)
	{
		s = pb_sample(&b, 2, idle, 2, vb);
		pb_label(s, pb_str(&b, "user"), pb_str(&b, "bob"));
	}
	out = pb_pack(&b, len);
	pb_free(&b);
	return out;
}

#define ALLOCS "alloc_space/bytes,inuse_space/bytes"

static bool
split_of(PeCtx *ctx, const uint8_t *pb, size_t len, PeSplit *out)
{
	PeSplitOptions opt = {NULL, 0, 0};

	return pe_pprof_decode_split(ctx, pb, len, &opt, out);
}

/* Column v's total of the series labelled user=who; -1 without one. */
static int64_t
series_total(const PeSplit *s, const char *who, uint32_t v)
{
	for (uint32_t i = 0; i < s->nseries; i++)
		if (s->series[i].nlabels == 1 && strcmp(s->series[i].values[0], who) == 0)
		{
			int64_t		sum;

			return pe_tree_sum(&s->series[i].tree, v, &sum) ? sum : -1;
		}
	return -1;
}

/* One scrape of key: apply the deltas to pb; returns what apply returned. */
static bool
scrape(GwDeltas *d, const char *key, uint8_t *pb, size_t len, PeCtx *ctx, PeSplit *s,
	   const char **why)
{
	bool		ok;

	CHECK(split_of(ctx, pb, len, s));
	ok = gw_deltas_apply(d, key, s, why);
	free(pb);
	return ok;
}

static void
test_deltas(void)
{
	GwDeltas   *d = gw_deltas_new();
	PeCtx		ctx;
	PeSplit		s;
	const char *why;
	size_t		len;
	uint8_t    *pb;
	const char *keep[] = {"other"};

	pe_ctx_init_malloc(&ctx);
	/* first scrape: a baseline only */
	pb = make_allocs(ALLOCS, 100, 7, -1, &len);
	CHECK(!scrape(d, "t", pb, len, &ctx, &s, &why) && why && strcmp(why, "first scrape") == 0);
	pe_split_free(&ctx, &s);

	/* next: alloc_space minus the baseline; inuse_space as scraped; bob is new: whole */
	pb = make_allocs(ALLOCS, 250, 9, 30, &len);
	CHECK(scrape(d, "t", pb, len, &ctx, &s, &why) && why == NULL);
	CHECK(s.nseries == 2);
	CHECK(series_total(&s, "alice", 0) == 150);
	CHECK(series_total(&s, "alice", 1) == 9);
	CHECK(series_total(&s, "bob", 0) == 30);
	pe_split_free(&ctx, &s);

	/* another target has its own baseline */
	pb = make_allocs(ALLOCS, 1, 1, -1, &len);
	CHECK(!scrape(d, "u", pb, len, &ctx, &s, &why) && strcmp(why, "first scrape") == 0);
	pe_split_free(&ctx, &s);

	/* values went down (a restart): nothing stored, a new baseline */
	pb = make_allocs(ALLOCS, 40, 9, 30, &len);
	CHECK(!scrape(d, "t", pb, len, &ctx, &s, &why) && strstr(why, "counter reset") != NULL);
	pe_split_free(&ctx, &s);
	pb = make_allocs(ALLOCS, 45, 9, 31, &len);
	CHECK(scrape(d, "t", pb, len, &ctx, &s, &why));
	CHECK(series_total(&s, "alice", 0) == 5 && series_total(&s, "bob", 0) == 1);
	pe_split_free(&ctx, &s);

	/* other sample types: a new baseline */
	pb = make_allocs("alloc_objects/count,inuse_objects/count", 50, 1, -1, &len);
	CHECK(!scrape(d, "t", pb, len, &ctx, &s, &why) && strcmp(why, "sample types changed") == 0);
	pe_split_free(&ctx, &s);

	/* a target no longer scraped loses its baseline */
	gw_deltas_retain(d, keep, 1);
	pb = make_allocs("alloc_objects/count,inuse_objects/count", 60, 1, -1, &len);
	CHECK(!scrape(d, "t", pb, len, &ctx, &s, &why) && strcmp(why, "first scrape") == 0);
	pe_split_free(&ctx, &s);
	gw_deltas_free(d);
}

typedef struct Filter
{
	GwDeltas   *d;
	const char *why;
	int			calls;
} Filter;

static bool
filter(void *arg, PeSplit *split)
{
	Filter	   *f = arg;

	f->calls++;
	return gw_deltas_apply(f->d, "k", split, &f->why);
}

/* The push path with the filter: limits first, then the deltas; a baseline is no error. */
static void
test_filter_in_push_path(void)
{
	GwLimits	lim;
	GwLabels	base = {0};
	Filter		f = {gw_deltas_new(), NULL, 0};
	GwPprofRule rule = {.base = &base, .invalid_status = 422, .limit_status = 413,
	.filter = filter, .filter_arg = &f};
	GwRows		rows = {0};
	GwErr		err = {0};
	size_t		len;
	uint8_t    *pb;

	gw_limits_default(&lim);
	gw_labels_set_str(&base, "__name__", "memory");
	gw_labels_set_str(&base, "service_name", "svc");
	pb = make_allocs(ALLOCS, 100, 7, 5, &len);
	CHECK(gw_rows_from_pprof(&lim, pb, len, &rule, &rows, &err) && rows.n == 0 && f.calls == 1);
	free(pb);
	/* over max_samples: refused with the push message and the limit status, before the deltas */
	lim.max_samples = 1;
	pb = make_allocs(ALLOCS, 300, 7, 9, &len);
	CHECK(!gw_rows_from_pprof(&lim, pb, len, &rule, &rows, &err) && err.status == 413);
	CHECK(strstr(err.msg, "2 samples, more than the limit of 1") != NULL);
	CHECK(f.calls == 1 && rows.n == 0);
	gw_limits_default(&lim);
	CHECK(gw_rows_from_pprof(&lim, pb, len, &rule, &rows, &err) && rows.n == 2 && f.why == NULL);
	gw_rows_free(&rows);
	free(pb);
	/* without limit_status a limit is an invalid profile, as push answers */
	rule.limit_status = 0;
	lim.max_samples = 1;
	pb = make_allocs(ALLOCS, 300, 7, 9, &len);
	CHECK(!gw_rows_from_pprof(&lim, pb, len, &rule, &rows, &err) && err.status == 422);
	free(pb);
	gw_labels_free(&base);
	gw_deltas_free(f.d);
}

int
main(void)
{
	RUN(test_deltas);
	RUN(test_filter_in_push_path);
	return unit_finish("gateway deltas");
}
