/*
 * fuzz_gateway.c
 *		libFuzzer target: the request parsers of profile-gateway (src/gateway),
 *		everything a client's bytes reach before the database.
 *
 * The first input byte picks the parser (its value modulo the number of
 * modes); the rest is the input:
 *
 *	0  gw_name_parse: the `name` query parameter, app{k=v,...}.  When it
 *	   parses, the labels (plus service_name and __name__) are validated and,
 *	   when valid, written as JSON that gw_json_parse must read back to the
 *	   same names and values.
 *	1  gw_multipart_parse: bytes up to the first '\n' (at most 256) are the
 *	   Content-Type, the rest the body.  Every part must lie inside the body.
 *	2  gw_push_decode, protobuf; 3  gw_push_decode, protojson.  Every series'
 *	   labels go through validation and the JSON round trip as in 0.
 *	4  gw_type_names_parse: a sample_type_config form field.
 *	5  gw_rows_from_pprof (low limits): decoding, validation and the split by
 *	   string sample labels.  Every row's labels must be a JSON object that
 *	   gw_json_parse reads, and its profile bytes must decode as a stored
 *	   value (pe_decode), as profile_recv will do with them.  Then twice as
 *	   the scraper does, with deltas (gw_delta.c): the first pass is only a
 *	   baseline, the second the input minus itself.
 *	6  gw_parse_time_ns: `from` / `until` (digits by count as s, ms, us or ns):
 *	   no overflow (UBSan), no read past the input.
 *	7  gw_gunzip with a 1 MiB limit: a bomb stops at the limit with 413, the
 *	   output never exceeds it.
 *
 * A refusal must come with an HTTP status (400..599) and a message; a crash,
 * a leak (LeakSanitizer), undefined behaviour or a broken invariant is a
 * finding.
 */
#include "fuzz_common.h"
#include "gw_delta.h"
#include "gw_json.h"
#include "gw_labels.h"
#include "gw_multipart.h"
#include "gw_profile.h"
#include "gw_push.h"
#include "pe_codec.h"

#define NMODES 8

static void
check_refusal(const GwErr *err)
{
	if (err->status < 400 || err->status > 599 || err->msg[0] == '\0')
	{
		fprintf(stderr, "refusal without status or message: %d \"%s\"\n", err->status, err->msg);
		abort();
	}
}

#define GW_ASSERT(cond) \
	do { \
		if (!(cond)) \
			fuzz_die(NULL, __FILE__, __LINE__, #cond); \
	} while (0)

/* The labels' JSON reads back as an object with exactly their names and values. */
static void
check_labels_json(const GwLabels *labels)
{
	GwErr		err = {0};
	char	   *text = gw_labels_json(labels);
	GwJson	   *j;

	GW_ASSERT(text != NULL);
	j = gw_json_parse(text, strlen(text), &err);
	if (j == NULL)
	{
		fprintf(stderr, "gw_labels_json wrote JSON that gw_json_parse refuses: %s\n%s\n",
				err.msg, text);
		abort();
	}
	GW_ASSERT(j->type == GW_JSON_OBJECT);
	GW_ASSERT(j->n == labels->n);
	for (uint32_t i = 0; i < labels->n; i++)
	{
		const GwLabel *l = &labels->l[i];
		const GwJson *v = NULL;

		for (size_t k = 0; k < j->n; k++)
			if (j->key_lens[k] == l->name_len && memcmp(j->keys[k], l->name, l->name_len) == 0)
				v = &j->items[k];
		GW_ASSERT(v != NULL);
		GW_ASSERT(v->type == GW_JSON_STRING);
		GW_ASSERT(v->len == l->value_len && memcmp(v->str, l->value, l->value_len) == 0);
	}
	gw_json_free(j);
	free(text);
}

/* Validation either refuses with a status or accepts labels that JSON holds exactly. */
static void
check_labels(const GwLabels *labels, const GwLimits *lim)
{
	GwErr		err = {0};

	if (gw_labels_validate(labels, lim, &err))
		check_labels_json(labels);
	else
		check_refusal(&err);
}

static void
fuzz_name(const uint8_t *data, size_t size, const GwLimits *lim)
{
	GwErr		err = {0};
	GwLabels	tags;
	char	   *app = NULL;

	if (!gw_name_parse((const char *) data, size, &app, &tags, &err))
	{
		check_refusal(&err);
		gw_labels_free(&tags);
		return;
	}
	GW_ASSERT(app != NULL && app[0] != '\0');
	GW_ASSERT(gw_labels_get(&tags, "__name__") == NULL);
	if (gw_labels_get(&tags, "service_name") == NULL)
		GW_ASSERT(gw_labels_set_str(&tags, "service_name", app));
	GW_ASSERT(gw_labels_set_str(&tags, "__name__", "process_cpu"));
	check_labels(&tags, lim);
	gw_labels_free(&tags);
	free(app);
}

static void
fuzz_multipart(const uint8_t *data, size_t size)
{
	GwErr		err = {0};
	GwPart		parts[GW_MULTIPART_MAX_PARTS];
	size_t		nparts = 0;
	char		ctype[257];
	const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
	size_t		clen = nl ? (size_t) (nl - data) : 0;
	const uint8_t *body = nl ? nl + 1 : data;
	size_t		blen = size - (size_t) (body - data);
	uint8_t    *copy;

	memcpy(ctype, data, clen);
	ctype[clen] = '\0';
	/* the body in its own allocation: ASan sees any read past its end */
	copy = malloc(blen ? blen : 1);
	GW_ASSERT(copy != NULL);
	memcpy(copy, body, blen);
	if (!gw_multipart_parse(copy, blen, ctype, parts, GW_MULTIPART_MAX_PARTS, &nparts, &err))
		check_refusal(&err);
	else
	{
		GW_ASSERT(nparts <= GW_MULTIPART_MAX_PARTS);
		for (size_t i = 0; i < nparts; i++)
		{
			GW_ASSERT(memchr(parts[i].name, '\0', sizeof(parts[i].name)) != NULL);
			GW_ASSERT(parts[i].len == 0 ||
					  (parts[i].data >= copy && parts[i].data + parts[i].len <= copy + blen));
			GW_ASSERT(gw_multipart_find(parts, nparts, parts[i].name) != NULL);
		}
	}
	free(copy);
}

static void
fuzz_push(const uint8_t *data, size_t size, bool json, const GwLimits *lim)
{
	GwErr		err = {0};
	GwPushRequest r;
	uint8_t    *copy = malloc(size ? size : 1);

	GW_ASSERT(copy != NULL);
	memcpy(copy, data, size);
	memset(&r, 0, sizeof(r));
	if (!gw_push_decode(copy, size, json, &r, &err))
		check_refusal(&err);
	else
	{
		for (size_t s = 0; s < r.nseries; s++)
		{
			check_labels(&r.series[s].labels, lim);
			for (size_t k = 0; k < r.series[s].nsamples; k++)
				GW_ASSERT(r.series[s].samples[k].len == 0 || r.series[s].samples[k].data != NULL);
		}
		gw_push_free(&r);
	}
	free(copy);
}

static void
fuzz_type_names(const uint8_t *data, size_t size)
{
	GwErr		err = {0};
	GwTypeNames t;

	memset(&t, 0, sizeof(t));
	if (!gw_type_names_parse((const char *) data, size, &t, &err))
		check_refusal(&err);
	else
		for (uint32_t i = 0; i < t.n; i++)
			GW_ASSERT(t.type[i] != NULL);
	gw_type_names_free(&t);
}

typedef struct FuzzDelta
{
	GwDeltas   *deltas;
	const char *why;
} FuzzDelta;

static bool
fuzz_delta_filter(void *arg, PeSplit *split)
{
	FuzzDelta  *f = arg;

	return gw_deltas_apply(f->deltas, "target", split, &f->why);
}

/* One pass; true when rows came out (and were checked). */
static bool
rows_pass(const uint8_t *data, size_t size, const GwLimits *lim, const GwPprofRule *rule)
{
	GwErr		err = {0};
	GwRows		rows;
	bool		stored;

	memset(&rows, 0, sizeof(rows));
	if (!gw_rows_from_pprof(lim, data, size, rule, &rows, &err))
	{
		check_refusal(&err);
		stored = false;
	}
	else
	{
		stored = rows.n > 0;
		for (size_t i = 0; i < rows.n; i++)
		{
			const GwRow *row = &rows.rows[i];
			GwJson	   *j = gw_json_parse(row->labels_json, strlen(row->labels_json), &err);
			PeCtx		ctx;
			PeTree		t;

			GW_ASSERT(j != NULL && j->type == GW_JSON_OBJECT);
			GW_ASSERT(gw_json_get(j, "__name__") != NULL);
			GW_ASSERT(gw_json_get(j, "service_name") != NULL);
			gw_json_free(j);
			fuzz_ctx_init(&ctx);
			FUZZ_ASSERT(&ctx, pe_decode(&ctx, row->profile, row->profile_len, &t));
			fuzz_check_tree(&ctx, &t);
			pe_tree_free(&t);
		}
	}
	gw_rows_free(&rows);
	return stored;
}

static void
fuzz_rows(const uint8_t *data, size_t size, const GwLimits *lim)
{
	GwLabels	base;
	GwPprofRule rule;
	FuzzDelta	delta = {gw_deltas_new(), NULL};

	memset(&base, 0, sizeof(base));
	memset(&rule, 0, sizeof(rule));
	GW_ASSERT(gw_labels_set_str(&base, "service_name", "fuzz"));
	GW_ASSERT(gw_labels_set_str(&base, "pyroscope_spy", "fuzzspy"));
	rule.base = &base;
	rule.derive_name = true;
	rule.fallback_ts = 1700000000000000000LL;
	rule.invalid_status = 422;
	if (rows_pass(data, size, lim, &rule))
	{
		/* as the scraper: a baseline first, then the same bytes minus it */
		rule.limit_status = 413;
		rule.filter = fuzz_delta_filter;
		rule.filter_arg = &delta;
		GW_ASSERT(!rows_pass(data, size, lim, &rule) && delta.why != NULL &&
				  strcmp(delta.why, "first scrape") == 0);
		delta.why = NULL;
		(void) rows_pass(data, size, lim, &rule);
	}
	gw_deltas_free(delta.deltas);
	gw_labels_free(&base);
}

static void
fuzz_time(const uint8_t *data, size_t size)
{
	char	   *copy;

	copy = malloc(size ? size : 1);
	GW_ASSERT(copy != NULL);
	memcpy(copy, data, size);
	(void) gw_parse_time_ns(copy, size, 1700000000000000000LL);
	free(copy);
}

static void
fuzz_gunzip(const uint8_t *data, size_t size)
{
	GwErr		err = {0};
	uint8_t    *out = NULL;
	size_t		outlen = 0;
	const size_t limit = 1024 * 1024;

	if (gw_gunzip(data, size, limit, 413, "fuzz input", &out, &outlen, &err))
	{
		GW_ASSERT(outlen <= limit);
		free(out);
	}
	else
		check_refusal(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GwLimits	lim;

	if (size < 1)
		return 0;
	gw_limits_default(&lim);
	/* low limits: no input may take the fuzzer's memory */
	lim.max_body_bytes = 8 * 1024 * 1024;
	lim.max_profile_bytes = 8 * 1024 * 1024;
	lim.max_samples = 20000;
	switch (data[0] % NMODES)
	{
		case 0:
			fuzz_name(data + 1, size - 1, &lim);
			break;
		case 1:
			fuzz_multipart(data + 1, size - 1);
			break;
		case 2:
			fuzz_push(data + 1, size - 1, false, &lim);
			break;
		case 3:
			fuzz_push(data + 1, size - 1, true, &lim);
			break;
		case 4:
			fuzz_type_names(data + 1, size - 1);
			break;
		case 5:
			fuzz_rows(data + 1, size - 1, &lim);
			break;
		case 6:
			fuzz_time(data + 1, size - 1);
			break;
		case 7:
			fuzz_gunzip(data + 1, size - 1);
			break;
	}
	return 0;
}
