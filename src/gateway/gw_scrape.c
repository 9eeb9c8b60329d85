/*
 * gw_scrape.c
 *		Scraping pprof endpoints: the schedule (manager thread), the fetch
 *		(libcurl in a bounded worker pool), rows by the push handlers' path
 *		(gw_profile.c: limits, label rules, decode slots) with deltas of
 *		cumulative profiles (gw_delta.c), the batcher, health metrics.
 */
#define _GNU_SOURCE				/* vasprintf */
#include "gw_scrape.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_batch.h"
#include "gw_common.h"
#include "gw_delta.h"
#include "gw_metrics.h"
#include "gw_profile.h"
#include "gw_sd.h"

#define MANAGER_TICK_MS		250
#define MAX_REDIRECTS		10

/* One target and profile type: what to fetch, where, and how to label it. */
typedef struct Loop
{
	char	   *key;			/* everything that defines it: a change = a new loop */
	char	   *state_key;		/* job + URL: the delta baseline survives reloads */
	char	   *job;
	char	   *instance;
	const char *series;			/* __name__ */
	char	   *url;
	GwLabels	labels;			/* every row's, before the sample labels */
	char	   *labels_json;	/* the same, for the key */
	bool		cumulative;
	int64_t		interval_ms;
	int64_t		timeout_ms;		/* whole transfer, CPU seconds included */
	int64_t		body_limit;
	bool		follow_redirects;
	char	   *user;
	char	   *password;
	char	   *bearer;
	/* schedule, under the scraper's mutex */
	int64_t		next_due_ms;
	bool		busy;			/* queued or being scraped */
	bool		removed;		/* no longer configured: freed when idle */
	bool		seen;			/* mark for the sync */
	struct Loop *queue_next;
} Loop;

struct GwScraper
{
	GwScrapeOptions opt;
	pthread_mutex_t mu;
	pthread_cond_t wake_manager;
	pthread_cond_t wake_workers;
	pthread_t	manager;
	bool		stopping;
	atomic_bool aborting;		/* in-flight transfers give up */

	GwConfig   *cfg;			/* current; manager thread only */
	GwConfig   *pending;		/* a reload waiting for the manager */
	GwSd	  **sds;			/* per job of cfg */
	bool		resync;

	Loop	  **loops;
	size_t		nloops;
	Loop	   *queue_head;
	Loop	   *queue_tail;

	pthread_t  *workers;
	size_t		nworkers;
	size_t		idle_workers;
	int			max_workers;

	GwDeltas   *deltas;			/* baselines by state_key */
};

/* ------------------------------------------------------------------ utils */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
default_log(const char *msg)
{
	fprintf(stderr, "profile-gateway: %s\n", msg);
}

static void
logf_(GwScraper *s, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
logf_(GwScraper *s, const char *fmt,...)
{
	char		msg[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->opt.log(msg);
}

static char *
xstrdup(const char *s)
{
	char	   *r = strdup(s ? s : "");

	if (!r)
		abort();
	return r;
}

static char *
xasprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt,...)
{
	va_list		ap;
	char	   *r;

	va_start(ap, fmt);
	if (vasprintf(&r, fmt, ap) < 0)
		abort();
	va_end(ap);
	return r;
}

static uint64_t
hash_str(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h;
}

bool
gw_scrape_wanted(const GwConfig *cfg)
{
	return cfg && cfg->njobs > 0;
}

/* ------------------------------------------------------------- metrics */

static void
declare_metrics(GwMetrics *m)
{
	if (!m)
		return;
	gw_metrics_gauge(m, "profile_scrape_up",
					 "1 if the last scrape of the target and profile type succeeded, else 0.");
	gw_metrics_gauge(m, "profile_scrape_duration_seconds",
					 "Duration of the last scrape (fetch, decode and write).");
	gw_metrics_counter(m, "profile_scrape_bytes_total", "Response bytes fetched.");
	gw_metrics_counter(m, "profile_scrapes_total", "Scrapes attempted.");
	gw_metrics_counter(m, "profile_scrape_errors_total",
					   "Failed scrapes by reason (connect, timeout, http_status, redirects, "
					   "too_large, content_type, empty, invalid_profile, invalid_labels, write).");
	gw_metrics_counter(m, "profile_scrape_rows_total", "Rows written from scrapes.");
	gw_metrics_counter(m, "profile_scrape_baselines_total",
					   "Scrapes kept only as a delta baseline (first scrape, counter reset).");
	gw_metrics_gauge(m, "profile_scrape_targets", "Configured scrape loops (target x profile type).");
}

#define LOOP_LABELS(l) "job", (l)->job, "instance", (l)->instance, "profile_type", (l)->series

static void
forget_loop_metrics(GwScraper *s, const Loop *l)
{
	/* series of a target that went away: drop them by instance */
	static const char *const families[] = {
		"profile_scrape_up", "profile_scrape_duration_seconds",
		"profile_scrape_bytes_total",
		"profile_scrapes_total", "profile_scrape_errors_total",
		"profile_scrape_rows_total", "profile_scrape_baselines_total",
	};

	if (!s->opt.metrics)
		return;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		gw_metrics_forget(s->opt.metrics, families[i], "instance", l->instance);
}

/* --------------------------------------------------------------- loops */

static void
loop_free(Loop *l)
{
	free(l->key);
	free(l->state_key);
	free(l->job);
	free(l->instance);
	free(l->url);
	gw_labels_free(&l->labels);
	free(l->labels_json);
	free(l->user);
	free(l->password);
	free(l->bearer);
	free(l);
}

/*
 * Labels as Alloy gives them: the target's labels, job, instance,
 * service_name, __name__.  Out of memory aborts, as xstrdup.
 */
static void
loop_labels(const GwScrapeJob *job, const GwTargetGroup *g, const char *instance,
			const char *series, GwLabels *out)
{
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; ok && i < g->nlabels; i++)
	{
		const char *n = g->labels[i].name;

		if (!gw_label_is_internal(n, strlen(n)))
			ok = gw_labels_set(out, n, strlen(n), g->labels[i].value,
							   strlen(g->labels[i].value));
	}
	if (ok && !gw_labels_get(out, "job"))
		ok = gw_labels_set_str(out, "job", job->job_name);
	if (ok && !gw_labels_get(out, "instance"))
		ok = gw_labels_set_str(out, "instance", instance);
	if (ok && !gw_labels_get(out, "service_name"))
		ok = gw_labels_set_str(out, "service_name", job->job_name);
	if (!ok || !gw_labels_set_str(out, "__name__", series))
		abort();
}

static Loop *
loop_new(const GwScrapeJob *job, const GwTargetGroup *g, const char *target,
		 GwProfileKind kind)
{
	Loop	   *l = calloc(1, sizeof(Loop));
	const GwProfileSpec *spec = &job->profiles[kind];
	int64_t		seconds = 0;

	if (!l)
		abort();
	l->job = xstrdup(job->job_name);
	/* Alloy: instance is the address, with the scheme's port when none is given */
	if (strchr(target, ':') && target[0] != '[')
		l->instance = xstrdup(target);
	else
		l->instance = xasprintf("%s:%s", target, strcmp(job->scheme, "https") == 0 ? "443" : "80");
	l->series = gw_profile_series_name(kind);
	l->cumulative = gw_profile_is_cumulative(kind);
	l->interval_ms = job->interval_ms;
	l->timeout_ms = job->timeout_ms;
	if (spec->seconds)
	{
		/* Alloy: seconds = interval - 1s; the transfer may take that long on top */
		seconds = job->interval_ms / 1000 - 1;
		if (seconds < 1)
			seconds = 1;
		l->timeout_ms += seconds * 1000;
	}
	if (seconds)
		l->url = xasprintf("%s://%s%s%s%sseconds=%lld", job->scheme, l->instance,
						   job->path_prefix, spec->path,
						   strchr(spec->path, '?') ? "&" : "?", (long long) seconds);
	else
		l->url = xasprintf("%s://%s%s%s", job->scheme, l->instance, job->path_prefix,
						   spec->path);
	loop_labels(job, g, l->instance, l->series, &l->labels);
	l->labels_json = gw_labels_json(&l->labels);
	if (!l->labels_json)
		abort();
	l->body_limit = job->body_size_limit;
	l->follow_redirects = job->follow_redirects;
	l->user = job->basic_user ? xstrdup(job->basic_user) : NULL;
	l->password = job->basic_password ? xstrdup(job->basic_password) : NULL;
	l->bearer = job->bearer_token ? xstrdup(job->bearer_token) : NULL;
	l->state_key = xasprintf("%s\n%s", l->job, l->url);
	l->key = xasprintf("%s\n%s\n%lld\n%lld\n%lld\n%d\n%s\n%s\n%s", l->state_key,
					   l->labels_json, (long long) l->interval_ms,
					   (long long) l->timeout_ms, (long long) l->body_limit,
					   l->follow_redirects, l->user ? l->user : "",
					   l->password ? l->password : "", l->bearer ? l->bearer : "");
	return l;
}

/* ------------------------------------------------------------- deltas */

typedef struct DeltaFilter
{
	GwDeltas   *deltas;
	const char *state_key;
	const char *why;			/* set when nothing is to be stored */
} DeltaFilter;

static bool
delta_filter(void *arg, PeSplit *split)
{
	DeltaFilter *f = arg;

	return gw_deltas_apply(f->deltas, f->state_key, split, &f->why);
}

/* ---------------------------------------------------------------- fetch */

typedef struct Fetch
{
	GwScraper  *s;
	PeBuf		body;			/* limited to the job's body_size_limit */
	bool		too_large;		/* over the limit, or out of memory */
} Fetch;

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	Fetch	   *f = arg;
	size_t		n = size * nmemb;

	if (!pe_buf_append(&f->body, ptr, n))
	{
		f->too_large = true;
		return 0;				/* abort: CURLE_WRITE_ERROR */
	}
	return n;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			curl_off_t ulnow)
{
	Fetch	   *f = arg;

	return atomic_load(&f->s->aborting) ? 1 : 0;
}

/* One scrape of one loop: fetch, check, decode, delta, write, metrics. */
static void
scrape_once(GwScraper *s, Loop *l)
{
	CURL	   *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	Fetch		f = {.s = s, .body.limit = (size_t) l->body_limit};
	CURLcode	rc;
	long		status = 0;
	char	   *ctype = NULL;
	const char *reason = NULL;
	char		detail[1024] = "";
	int64_t		start_ns = gw_now_ns();
	int64_t		t0 = now_ms();
	size_t		stored = 0;			/* rows written */
	bool		baseline_only = false;
	GwMetrics  *m = s->opt.metrics;

	if (!curl)
	{
		reason = "transport";
		snprintf(detail, sizeof(detail), "cannot create a transfer");
		goto done;
	}
	curl_easy_setopt(curl, CURLOPT_URL, l->url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) l->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long) l->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, l->follow_redirects ? 1L : 0L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long) MAX_REDIRECTS);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) l->body_limit);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "profile-gateway-scraper/0.2");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &f);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &f);
	if (l->user)
	{
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME, l->user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, l->password ? l->password : "");
	}
	if (l->bearer)
	{
		char	   *h = xasprintf("Authorization: Bearer %s", l->bearer);

		headers = curl_slist_append(headers, h);
		free(h);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	}
	rc = curl_easy_perform(curl);
	if (rc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&s->aborting))
	{
		curl_slist_free_all(headers);
		curl_easy_cleanup(curl);
		pe_buf_free(&f.body);
		return;					/* shutting down: not the target's fault */
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	{
		char	   *ct = NULL;

		if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			ctype = xstrdup(ct);
	}
	if (m)
		gw_metrics_add(m, "profile_scrape_bytes_total", (double) f.body.len, LOOP_LABELS(l), NULL);
	if (rc != CURLE_OK)
	{
		switch (rc)
		{
			case CURLE_COULDNT_CONNECT:
			case CURLE_COULDNT_RESOLVE_HOST:
			case CURLE_COULDNT_RESOLVE_PROXY:
				reason = "connect";
				break;
			case CURLE_OPERATION_TIMEDOUT:
				reason = "timeout";
				break;
			case CURLE_TOO_MANY_REDIRECTS:
				reason = "redirects";
				break;
			case CURLE_FILESIZE_EXCEEDED:
				reason = "too_large";
				break;
			case CURLE_WRITE_ERROR:
				reason = f.too_large ? "too_large" : "transport";
				break;
			default:
				reason = "transport";
		}
		if (f.too_large || rc == CURLE_FILESIZE_EXCEEDED)
			snprintf(detail, sizeof(detail), "body larger than body_size_limit (%lld bytes)",
					 (long long) l->body_limit);
		else
			snprintf(detail, sizeof(detail), "%s", curl_easy_strerror(rc));
		goto done;
	}
	if (status < 200 || status > 299)
	{
		reason = status >= 300 && status < 400 ? "redirects" : "http_status";
		snprintf(detail, sizeof(detail), "HTTP status %ld", status);
		goto done;
	}
	if (f.body.len == 0)
	{
		reason = "empty";
		snprintf(detail, sizeof(detail), "empty body");
		goto done;
	}
	/* Alloy refuses text: an HTML error page is not a profile */
	if (ctype && (strncmp(ctype, "text/", 5) == 0 || strstr(ctype, "html") ||
				  strstr(ctype, "json")))
	{
		reason = "content_type";
		snprintf(detail, sizeof(detail), "Content-Type %s is not a profile", ctype);
		goto done;
	}
	{
		/* the push handlers' path, with the job's body limit on the decoded size too */
		GwLimits	lim = s->opt.limits;
		DeltaFilter delta = {.deltas = s->deltas, .state_key = l->state_key};
		GwPprofRule rule = {.base = &l->labels, .fallback_ts = start_ns,
			.invalid_status = 422, .limit_status = 413};
		GwRows		rows = {0};
		GwErr		err = {0};

		if ((size_t) l->body_limit < lim.max_profile_bytes)
			lim.max_profile_bytes = (size_t) l->body_limit;
		if (l->cumulative)
		{
			rule.filter = delta_filter;
			rule.filter_arg = &delta;
		}
		if (!gw_rows_from_pprof(&lim, f.body.data, f.body.len, &rule, &rows, &err))
		{
			reason = err.status == 413 ? "too_large" :
				err.status == 400 ? "invalid_labels" : "invalid_profile";
			snprintf(detail, sizeof(detail), "%s", err.msg);
		}
		else if (delta.why)
		{
			baseline_only = true;
			if (strcmp(delta.why, "first scrape") != 0)
				logf_(s, "scrape %s %s: %s: new baseline, nothing stored",
					  l->job, l->url, delta.why);
		}
		else
		{
			char		msg[512] = "";
			GwSubmitResult r;

			/* ts is when the scrape started, whatever time the profile says */
			for (size_t i = 0; i < rows.n; i++)
				rows.rows[i].ts_unix_ns = start_ns;
			r = gw_batch_submit(s->opt.batcher, rows.rows, rows.n, msg, sizeof(msg));
			if (r == GW_SUBMIT_OK)
				stored = rows.n;
			else if (r != GW_SUBMIT_SHUTDOWN)
			{
				reason = "write";
				snprintf(detail, sizeof(detail), "not written: %s",
						 msg[0] ? msg : r == GW_SUBMIT_DB_DOWN ? "database unreachable" :
						 r == GW_SUBMIT_QUEUE_FULL ? "queue full" : "refused");
			}
		}
		gw_rows_free(&rows);
	}
done:
	{
		double		secs = (now_ms() - t0) / 1000.0;

		if (m)
		{
			gw_metrics_add(m, "profile_scrapes_total", 1, LOOP_LABELS(l), NULL);
			gw_metrics_set(m, "profile_scrape_up", reason ? 0 : 1, LOOP_LABELS(l), NULL);
			gw_metrics_set(m, "profile_scrape_duration_seconds", secs, LOOP_LABELS(l), NULL);
			if (reason)
				gw_metrics_add(m, "profile_scrape_errors_total", 1, LOOP_LABELS(l),
							   "reason", reason, NULL);
			if (stored)
				gw_metrics_add(m, "profile_scrape_rows_total", (double) stored,
							   LOOP_LABELS(l), NULL);
			if (baseline_only)
				gw_metrics_add(m, "profile_scrape_baselines_total", 1, LOOP_LABELS(l), NULL);
		}
		if (reason)
			logf_(s, "scrape %s %s failed (%s): %s", l->job, l->url, reason, detail);
	}
	free(ctype);
	pe_buf_free(&f.body);
	curl_slist_free_all(headers);
	if (curl)
		curl_easy_cleanup(curl);
}

/* -------------------------------------------------------------- workers */

static void *
worker_main(void *arg)
{
	GwScraper  *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;)
	{
		Loop	   *l;

		while (!s->stopping && !s->queue_head)
		{
			s->idle_workers++;
			pthread_cond_wait(&s->wake_workers, &s->mu);
			s->idle_workers--;
		}
		if (s->stopping)
			break;
		l = s->queue_head;
		s->queue_head = l->queue_next;
		if (!s->queue_head)
			s->queue_tail = NULL;
		l->queue_next = NULL;
		pthread_mutex_unlock(&s->mu);

		scrape_once(s, l);

		pthread_mutex_lock(&s->mu);
		l->busy = false;
		if (l->removed)
			loop_free(l);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Queue a due loop (mutex held); grow the pool up to the limit. */
static void
enqueue(GwScraper *s, Loop *l)
{
	l->busy = true;
	l->queue_next = NULL;
	if (s->queue_tail)
		s->queue_tail->queue_next = l;
	else
		s->queue_head = l;
	s->queue_tail = l;
	if (s->idle_workers == 0 && (int) s->nworkers < s->max_workers)
	{
		pthread_t	t;

		if (pthread_create(&t, NULL, worker_main, s) == 0)
		{
			s->workers = realloc(s->workers, (s->nworkers + 1) * sizeof(pthread_t));
			if (!s->workers)
				abort();
			s->workers[s->nworkers++] = t;
		}
	}
	pthread_cond_signal(&s->wake_workers);
}

/* ---------------------------------------------------------------- sync */

static void
sd_log(const char *msg)
{
	fprintf(stderr, "profile-gateway: %s\n", msg);
}

static int
compare_keys(const void *a, const void *b)
{
	return strcmp((*(Loop *const *) a)->key, (*(Loop *const *) b)->key);
}

static int
compare_state_keys(const void *a, const void *b)
{
	return strcmp((*(Loop *const *) a)->state_key, (*(Loop *const *) b)->state_key);
}

static int
compare_instances(const void *a, const void *b)
{
	return strcmp((*(Loop *const *) a)->instance, (*(Loop *const *) b)->instance);
}

/* The loop of sorted[n] that cmp finds equal to l, or NULL. */
static Loop *
find_loop(Loop *const *sorted, size_t n, const Loop *l,
		  int (*cmp) (const void *, const void *))
{
	Loop *const *hit = n ? bsearch(&l, sorted, n, sizeof(Loop *), cmp) : NULL;

	return hit ? *hit : NULL;
}

/* A copy of loops[n] sorted by cmp (aborts when out of memory). */
static Loop **
sorted_copy(Loop *const *loops, size_t n, int (*cmp) (const void *, const void *))
{
	Loop	  **r = malloc((n ? n : 1) * sizeof(Loop *));

	if (!r)
		abort();
	if (n)
		memcpy(r, loops, n * sizeof(Loop *));
	qsort(r, n, sizeof(Loop *), cmp);
	return r;
}

/*
 * Build the wanted loops from the config and file_sd; swap them in (mutex
 * held).  s->loops stays sorted by key, so matching is by binary search:
 * a sync costs O(n log n) in the number of loops.
 */
static void
sync_loops(GwScraper *s, int64_t now)
{
	Loop	  **want = NULL;
	Loop	  **by_state;
	Loop	  **by_instance;
	const char **state_keys;
	size_t		nwant = 0,
				cap = 0,
				kept = 0;

	for (size_t j = 0; j < s->cfg->njobs; j++)
	{
		const GwScrapeJob *job = &s->cfg->jobs[j];
		size_t		ngroups = job->nstatic_groups + gw_sd_ngroups(s->sds[j]);

		for (size_t gi = 0; gi < ngroups; gi++)
		{
			const GwTargetGroup *g = gi < job->nstatic_groups ? &job->static_groups[gi] :
				gw_sd_group(s->sds[j], gi - job->nstatic_groups);

			for (size_t t = 0; t < g->ntargets; t++)
				for (int k = 0; k < GW_PROFILE_NKINDS; k++)
				{
					if (!job->profiles[k].enabled)
						continue;
					if (nwant == cap)
					{
						cap = cap ? cap * 2 : 16;
						want = realloc(want, cap * sizeof(Loop *));
						if (!want)
							abort();
					}
					want[nwant++] = loop_new(job, g, g->targets[t], (GwProfileKind) k);
				}
		}
	}
	/* one loop per key: the same target listed twice is scraped once */
	qsort(want, nwant, sizeof(Loop *), compare_keys);
	for (size_t w = 0; w < nwant; w++)
	{
		if (kept > 0 && strcmp(want[kept - 1]->key, want[w]->key) == 0)
			loop_free(want[w]);
		else
			want[kept++] = want[w];
	}
	nwant = kept;

	/* keep running loops that are still wanted unchanged; retire the rest */
	by_state = sorted_copy(s->loops, s->nloops, compare_state_keys);
	for (size_t i = 0; i < s->nloops; i++)
		s->loops[i]->seen = false;
	for (size_t w = 0; w < nwant; w++)
	{
		Loop	   *old = find_loop(s->loops, s->nloops, want[w], compare_keys);
		Loop	   *carry;

		if (old)
		{
			old->seen = true;
			loop_free(want[w]);
			want[w] = old;
			continue;
		}
		/* a changed loop keeps its predecessor's cadence; a new one gets jitter */
		carry = find_loop(by_state, s->nloops, want[w], compare_state_keys);
		if (carry)
			want[w]->next_due_ms = carry->next_due_ms;
		else
			want[w]->next_due_ms = now + (int64_t) (hash_str(want[w]->key) %
													(uint64_t) want[w]->interval_ms);
	}
	free(by_state);
	by_instance = sorted_copy(want, nwant, compare_instances);
	for (size_t i = 0; i < s->nloops; i++)
	{
		Loop	   *old = s->loops[i];

		if (old->seen)
			continue;
		if (!find_loop(by_instance, nwant, old, compare_instances))
			forget_loop_metrics(s, old);
		old->removed = true;
		if (!old->busy)
			loop_free(old);		/* else the worker frees it after its scrape */
	}
	free(by_instance);
	free(s->loops);
	s->loops = want;
	s->nloops = nwant;

	/* baselines nobody uses any more */
	state_keys = malloc((nwant ? nwant : 1) * sizeof(char *));
	if (!state_keys)
		abort();
	for (size_t w = 0; w < nwant; w++)
		state_keys[w] = want[w]->state_key;
	gw_deltas_retain(s->deltas, state_keys, nwant);
	free(state_keys);
	if (s->opt.metrics)
		gw_metrics_set(s->opt.metrics, "profile_scrape_targets", (double) nwant, NULL);
}

static void
sds_free(GwScraper *s)
{
	if (s->sds && s->cfg)
		for (size_t j = 0; j < s->cfg->njobs; j++)
			gw_sd_free(s->sds[j]);
	free(s->sds);
	s->sds = NULL;
}

static void
install_config(GwScraper *s, GwConfig *cfg)
{
	sds_free(s);
	gw_config_free(s->cfg);
	s->cfg = cfg;
	s->max_workers = cfg->max_concurrent_scrapes;
	s->sds = calloc(cfg->njobs ? cfg->njobs : 1, sizeof(GwSd *));
	if (!s->sds)
		abort();
	for (size_t j = 0; j < cfg->njobs; j++)
		s->sds[j] = gw_sd_new(cfg->jobs[j].file_sds, cfg->jobs[j].nfile_sds);
	s->resync = true;
}

static void *
manager_main(void *arg)
{
	GwScraper  *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!s->stopping)
	{
		int64_t		now = now_ms();
		int64_t		next = now + MANAGER_TICK_MS;
		struct timespec until;
		bool		changed = false;

		if (s->pending)
		{
			install_config(s, s->pending);
			s->pending = NULL;
		}
		/* file_sd: glob and stat outside the lock would be nicer; it is cheap */
		for (size_t j = 0; j < s->cfg->njobs; j++)
			if (s->cfg->jobs[j].nfile_sds > 0 && gw_sd_refresh(s->sds[j], now, sd_log))
				changed = true;
		if (changed || s->resync)
		{
			sync_loops(s, now);
			s->resync = false;
		}
		for (size_t i = 0; i < s->nloops; i++)
		{
			Loop	   *l = s->loops[i];

			if (l->next_due_ms <= now)
			{
				/* a scrape still running skips this turn (never two at once) */
				if (!l->busy)
					enqueue(s, l);
				while (l->next_due_ms <= now)
					l->next_due_ms += l->interval_ms;
			}
			if (l->next_due_ms < next)
				next = l->next_due_ms;
		}
		{
			struct timespec rt;
			int64_t		wait = next - now_ms();

			if (wait < 1)
				wait = 1;
			clock_gettime(CLOCK_MONOTONIC, &rt);
			until.tv_sec = rt.tv_sec + wait / 1000;
			until.tv_nsec = rt.tv_nsec + (wait % 1000) * 1000000;
			if (until.tv_nsec >= 1000000000)
			{
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
		}
		pthread_cond_timedwait(&s->wake_manager, &s->mu, &until);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ------------------------------------------------------------------ API */

GwScraper *
gw_scraper_start(GwConfig *cfg, const GwScrapeOptions *opt, char *err, size_t errlen)
{
	GwScraper  *s;
	pthread_condattr_t ca;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		snprintf(err, errlen, "libcurl could not start");
		gw_config_free(cfg);
		return NULL;
	}
	s = calloc(1, sizeof(GwScraper));
	if (!s)
		abort();
	s->opt = *opt;
	if (!s->opt.log)
		s->opt.log = default_log;
	pthread_mutex_init(&s->mu, NULL);
	s->deltas = gw_deltas_new();
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake_manager, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&s->wake_workers, NULL);
	atomic_init(&s->aborting, false);
	declare_metrics(s->opt.metrics);
	install_config(s, cfg);
	if (pthread_create(&s->manager, NULL, manager_main, s) != 0)
	{
		snprintf(err, errlen, "cannot start the scrape manager thread");
		sds_free(s);
		gw_config_free(s->cfg);
		gw_deltas_free(s->deltas);
		free(s);
		return NULL;
	}
	logf_(s, "scraping %zu job(s) from %s", cfg->njobs, cfg->path);
	return s;
}

void
gw_scraper_reload(GwScraper *s, GwConfig *cfg)
{
	pthread_mutex_lock(&s->mu);
	if (s->pending)
		gw_config_free(s->pending);
	s->pending = cfg;
	pthread_cond_signal(&s->wake_manager);
	pthread_mutex_unlock(&s->mu);
}

void
gw_scraper_stop(GwScraper *s)
{
	if (!s)
		return;
	atomic_store(&s->aborting, true);
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->wake_manager);
	pthread_cond_broadcast(&s->wake_workers);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->manager, NULL);
	for (size_t i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	free(s->workers);
	/* retired loops still queued when the workers stopped */
	for (Loop *l = s->queue_head, *n; l; l = n)
	{
		n = l->queue_next;
		if (l->removed)
			loop_free(l);
	}
	for (size_t i = 0; i < s->nloops; i++)
		loop_free(s->loops[i]);
	free(s->loops);
	gw_deltas_free(s->deltas);
	if (s->pending)
		gw_config_free(s->pending);
	sds_free(s);
	gw_config_free(s->cfg);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->wake_manager);
	pthread_cond_destroy(&s->wake_workers);
	free(s);
	curl_global_cleanup();
}
