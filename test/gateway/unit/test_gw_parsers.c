/*
 * test_gw_parsers.c
 *		Unit tests of profile-gateway's request parsers and label rules: the
 *		name grammar, multipart splitting, Push decoding (proto and JSON),
 *		label validation and JSON, __name__ derivation, from/until, and the
 *		split of a pprof into series by string sample labels.
 */
#include <stdlib.h>
#include <string.h>

#include "pb_builder.h"
#include "unit.h"
#include "gw_json.h"
#include "gw_labels.h"
#include "gw_multipart.h"
#include "gw_profile.h"
#include "gw_push.h"
#include "pe_codec.h"
#include "push/v1/push.pb-c.h"

static const char *
label(const GwLabels *l, const char *name)
{
	const GwLabel *x = gw_labels_get(l, name);

	return x ? x->value : NULL;
}

static void
test_name_grammar(void)
{
	GwLabels	tags;
	GwErr		err = {0};
	char	   *app;
	const char *s;

	s = "myapp";
	CHECK(gw_name_parse(s, strlen(s), &app, &tags, &err));
	CHECK(strcmp(app, "myapp") == 0 && tags.n == 0);
	free(app);
	gw_labels_free(&tags);

	s = " my.app/x-1 { env = prod , region=eu-1,q=a=b,__session_id__=123,}trailing";
	CHECK(gw_name_parse(s, strlen(s), &app, &tags, &err));
	CHECK(strcmp(app, "my.app/x-1") == 0);
	CHECK(tags.n == 3);
	CHECK(label(&tags, "env") && strcmp(label(&tags, "env"), "prod") == 0);
	CHECK(label(&tags, "q") && strcmp(label(&tags, "q"), "a=b") == 0);
	CHECK(label(&tags, "__session_id__") == NULL);
	free(app);
	gw_labels_free(&tags);

	s = "app{}";
	CHECK(gw_name_parse(s, strlen(s), &app, &tags, &err) && tags.n == 0);
	free(app);
	gw_labels_free(&tags);

	s = "app{a=1,a=2}";				/* the last value wins, as in Pyroscope */
	CHECK(gw_name_parse(s, strlen(s), &app, &tags, &err) && tags.n == 1 &&
		  strcmp(label(&tags, "a"), "2") == 0);
	free(app);
	gw_labels_free(&tags);

	{
		static const char *const bad[] = {
			"", "  {a=b}", "my app", "app!{a=b}", "app{a=b", "app{a}", "app{=b}",
			"app{__name__=x}", "app{a-b=c}", "app{a=b,c", "\xff\xfe", "app{a=\xff}",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			err.status = 0;
			CHECK(!gw_name_parse(bad[i], strlen(bad[i]), &app, &tags, &err));
			CHECK(err.status == 400 && err.msg[0] != '\0');
		}
	}
}

static void
test_multipart(void)
{
	const char *body =
		"preamble\r\n"
		"--XB\r\n"
		"Content-Disposition: form-data; name=\"profile\"; filename=\"profile.pprof\"\r\n"
		"Content-Type: application/octet-stream\r\n\r\n"
		"\x01\x02--X\r\n\x03\r\n"
		"--XB\r\n"
		"Content-Disposition: form-data; name=sample_type_config\r\n\r\n"
		"{}\r\n"
		"--XB--\r\n";
	GwPart		parts[4];
	size_t		n;
	GwErr		err = {0};
	const GwPart *p;

	CHECK(gw_multipart_parse((const uint8_t *) body, strlen(body),
							 "multipart/form-data; boundary=\"XB\"", parts, 4, &n, &err));
	CHECK(n == 2);
	p = gw_multipart_find(parts, n, "profile");
	CHECK(p && p->has_filename && p->len == 8 && memcmp(p->data, "\x01\x02--X\r\n\x03", 8) == 0);
	p = gw_multipart_find(parts, n, "sample_type_config");
	CHECK(p && !p->has_filename && p->len == 2);

	/* bare LF line breaks, an empty part */
	body = "--b\nContent-Disposition: form-data; name=\"profile\"\n\n\n--b--";
	CHECK(gw_multipart_parse((const uint8_t *) body, strlen(body),
							 "multipart/form-data; boundary=b", parts, 4, &n, &err));
	CHECK(n == 1 && parts[0].len == 0);

	{
		static const char *const bad[] = {
			"--b\r\nContent-Disposition: form-data; name=\"profile\"\r\n\r\nabc",	/* truncated */
			"--b\r\nContent-Disposition: form-data; name=\"profile\"\r\n",	/* headers open */
			"no boundary here",
			"--bxyz",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			err.status = 0;
			CHECK(!gw_multipart_parse((const uint8_t *) bad[i], strlen(bad[i]),
									  "multipart/form-data; boundary=b", parts, 4, &n, &err));
			CHECK(err.status == 400);
		}
	}
	err.status = 0;
	CHECK(!gw_multipart_parse((const uint8_t *) "--b--", 5, "multipart/form-data", parts, 4,
							  &n, &err) && err.status == 400);
	/* more parts than room */
	body = "--b\r\n\r\nx\r\n--b\r\n\r\ny\r\n--b--";
	err.status = 0;
	CHECK(!gw_multipart_parse((const uint8_t *) body, strlen(body),
							  "multipart/form-data; boundary=b", parts, 1, &n, &err) &&
		  err.status == 400);
}

/* A pprof: main -> work / main -> idle, string labels on samples, gzip optional. */
static uint8_t *
make_pprof(size_t *len)
{
	static const uint64_t stack_work[] = {2, 1},
				stack_idle[] = {3, 1};
	static const int64_t v[4][2] = {{1, 10}, {2, 20}, {4, 40}, {8, 80}};
	static const char *names[] = {"main", "work", "idle"};
	PbBuilder	b;
	PbSample   *s;
	uint8_t    *out;

	pb_init_types(&b, "samples/count,cpu/nanoseconds");
	for (uint64_t i = 1; i <= 3; i++)
	{
		pb_func(&b, i, names[i - 1]);
		pb_loc(&b, i, 0, 0, 1, &i);
	}
	s = pb_sample(&b, 2, stack_work, 2, v[0]);
	pb_label(s, pb_str(&b, "user"), pb_str(&b, "alice"));
	pb_label(s, pb_str(&b, "span_id"), pb_str(&b, "42"));	/* does not split */
	s = pb_sample(&b, 2, stack_idle, 2, v[1]);
	pb_label(s, pb_str(&b, "user"), pb_str(&b, "bob"));
	s = pb_sample(&b, 2, stack_work, 2, v[2]);
	pb_label(s, pb_str(&b, "span_id"), pb_str(&b, "42"));
	s = pb_sample(&b, 2, stack_idle, 2, v[3]);
	pb_label(s, pb_str(&b, "user"), pb_str(&b, "alice"));
	pb_label(s, pb_str(&b, "span_id"), pb_str(&b, "42"));
	b.p.time_nanos = INT64_C(1700000000000000000);
	out = pb_pack(&b, len);
	pb_free(&b);
	return out;
}

static int64_t
row_total(const GwRow *r, uint32_t v)
{
	PeCtx		ctx;
	PeTree		t;
	int64_t		sum = -1;

	pe_ctx_init_malloc(&ctx);
	if (pe_decode(&ctx, r->profile, r->profile_len, &t))
	{
		pe_tree_sum(&t, v, &sum);
		pe_tree_free(&t);
	}
	return sum;
}

static void
test_split(void)
{
	GwLimits	lim;
	GwLabels	base = {0};
	GwPprofRule rule = {0};
	GwRows		rows = {0};
	GwErr		err = {0};
	size_t		len;
	uint8_t    *pb = make_pprof(&len);
	int			seen = 0;

	gw_limits_default(&lim);
	gw_labels_set_str(&base, "service_name", "svc");
	gw_labels_set_str(&base, "user", "overridden");
	gw_labels_set_str(&base, "tenant", "spoofed");
	rule.base = &base;
	rule.derive_name = true;
	rule.tenant = "t1";
	rule.fallback_ts = 5;
	rule.invalid_status = 422;
	CHECK(gw_rows_from_pprof(&lim, pb, len, &rule, &rows, &err));
	CHECK(rows.n == 3);
	for (size_t i = 0; i < rows.n; i++)
	{
		const char *j = rows.rows[i].labels_json;

		CHECK(rows.rows[i].ts_unix_ns == INT64_C(1700000000000000000));
		if (strcmp(j, "{\"__name__\":\"process_cpu\",\"service_name\":\"svc\",\"tenant\":\"t1\",\"user\":\"alice\"}") == 0)
			{
			CHECK(row_total(&rows.rows[i], 1) == 90);
			seen |= 1;
		}
		else if (strcmp(j, "{\"__name__\":\"process_cpu\",\"service_name\":\"svc\",\"tenant\":\"t1\",\"user\":\"bob\"}") == 0)
			{
			CHECK(row_total(&rows.rows[i], 1) == 20);
			seen |= 2;
		}
		else if (strcmp(j, "{\"__name__\":\"process_cpu\",\"service_name\":\"svc\",\"tenant\":\"t1\",\"user\":\"overridden\"}") == 0)
			{
			CHECK(row_total(&rows.rows[i], 0) == 4);	/* span_id does not split */
			seen |= 4;
		}
		else
		{
			fprintf(stderr, "unexpected row labels %s\n", j);
			CHECK(0);
		}
	}
	CHECK(seen == 7);
	gw_rows_free(&rows);

	/* limits: samples, labels per series; gzip bomb bound */
	lim.max_samples = 3;
	err.status = 0;
	CHECK(!gw_rows_from_pprof(&lim, pb, len, &rule, &rows, &err) && err.status == 422 && rows.n == 0);
	CHECK(strstr(err.msg, "4 samples, more than the limit of 3") != NULL);
	gw_limits_default(&lim);
	lim.max_labels = 3;
	err.status = 0;
	CHECK(!gw_rows_from_pprof(&lim, pb, len, &rule, &rows, &err) && err.status == 400);
	gw_rows_free(&rows);
	gw_limits_default(&lim);
	lim.max_profile_bytes = 16;
	rule.invalid_status = 400;
	err.status = 0;
	CHECK(!gw_rows_from_pprof(&lim, pb, len, &rule, &rows, &err) && err.status == 400);
	/* garbage */
	gw_limits_default(&lim);
	err.status = 0;
	CHECK(!gw_rows_from_pprof(&lim, (const uint8_t *) "\x0a\x05zz", 4, &rule, &rows, &err) &&
		  err.status == 400);
	gw_labels_free(&base);
	free(pb);
}

static void
test_push_decode(void)
{
	Push__V1__PushRequest req = PUSH__V1__PUSH_REQUEST__INIT;
	Push__V1__RawProfileSeries series = PUSH__V1__RAW_PROFILE_SERIES__INIT;
	Push__V1__RawProfileSeries *sp = &series;
	Types__V1__LabelPair lp[2] = {TYPES__V1__LABEL_PAIR__INIT, TYPES__V1__LABEL_PAIR__INIT};
	Types__V1__LabelPair *lpp[2] = {&lp[0], &lp[1]};
	Push__V1__RawSample rs = PUSH__V1__RAW_SAMPLE__INIT;
	Push__V1__RawSample *rsp = &rs;
	GwPushRequest out;
	GwErr		err = {0};
	uint8_t    *buf;
	size_t		len;
	const char *json;

	lp[0].name = "__name__", lp[0].value = "memory";
	lp[1].name = "service_name", lp[1].value = "x";
	rs.raw_profile.data = (uint8_t *) "abc";
	rs.raw_profile.len = 3;
	rs.id = "id-1";
	series.n_labels = 2, series.labels = lpp;
	series.n_samples = 1, series.samples = &rsp;
	req.n_series = 1, req.series = &sp;
	len = push__v1__push_request__get_packed_size(&req);
	buf = malloc(len);
	push__v1__push_request__pack(&req, buf);
	CHECK(gw_push_decode(buf, len, false, &out, &err));
	CHECK(out.nseries == 1 && out.series[0].labels.n == 2 && out.series[0].nsamples == 1 &&
		  out.series[0].samples[0].len == 3 &&
		  memcmp(out.series[0].samples[0].data, "abc", 3) == 0);
	gw_push_free(&out);
	err.status = 0;
	CHECK(!gw_push_decode(buf, len - 1, false, &out, &err) && err.status == 400);
	free(buf);

	json = "{\"series\":[{\"labels\":[{\"name\":\"__name__\",\"value\":\"wall\"},{\"name\":\"a\\u00e9\",\"value\":\"\\ud83d\\ude00\"}],"
		"\"samples\":[{\"rawProfile\":\"YWJj\",\"ID\":\"u\"},{\"raw_profile\":\"-_8\"}]}]}";
	CHECK(gw_push_decode((const uint8_t *) json, strlen(json), true, &out, &err));
	CHECK(out.nseries == 1 && out.series[0].nsamples == 2);
	CHECK(out.series[0].samples[0].len == 3 && memcmp(out.series[0].samples[0].data, "abc", 3) == 0);
	CHECK(out.series[0].samples[1].len == 2 && out.series[0].samples[1].data[0] == 0xfb);
	CHECK(strcmp(out.series[0].labels.l[1].name, "a\xc3\xa9") == 0);
	CHECK(strcmp(out.series[0].labels.l[1].value, "\xf0\x9f\x98\x80") == 0);
	gw_push_free(&out);
	CHECK(gw_push_decode((const uint8_t *) "{}", 2, true, &out, &err) && out.nseries == 0);
	gw_push_free(&out);
	{
		static const char *const bad[] = {
			"", "[]", "{\"series\":{}}", "{\"series\":[{\"samples\":[{\"rawProfile\":\"a\"}]}]}",
			"{\"series\":[{\"labels\":[{\"name\":1}]}]}", "{\"series\":[1]}", "{\"a\":\"\\ud800\"}",
			"{\"a\":\"\xff\"}", "{\"a\":1} x", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			err.status = 0;
			CHECK(!gw_push_decode((const uint8_t *) bad[i], strlen(bad[i]), true, &out, &err));
			CHECK(err.status == 400);
		}
	}
}

static void
test_labels(void)
{
	GwLimits	lim;
	GwLabels	l = {0};
	GwErr		err = {0};
	char	   *json;

	gw_limits_default(&lim);
	gw_labels_add(&l, "__name__", 8, "cpu", 3);
	gw_labels_add(&l, "b", 1, "q\"\\\n", 4);
	gw_labels_add(&l, "a", 1, "", 0);
	CHECK(gw_labels_validate(&l, &lim, &err));
	json = gw_labels_json(&l);
	CHECK(json && strcmp(json, "{\"__name__\":\"cpu\",\"a\":\"\",\"b\":\"q\\\"\\\\\\u000a\"}") == 0);
	free(json);

	gw_labels_add(&l, "a", 1, "again", 5);
	CHECK(!gw_labels_validate(&l, &lim, &err) && err.status == 400 && strstr(err.msg, "duplicate"));
	gw_labels_remove(&l, "a");
	gw_labels_remove(&l, "a");
	CHECK(gw_labels_validate(&l, &lim, &err));
	gw_labels_add(&l, "bad", 3, "\xc3\x28", 2);
	CHECK(!gw_labels_validate(&l, &lim, &err) && strstr(err.msg, "UTF-8"));
	gw_labels_remove(&l, "bad");
	gw_labels_add(&l, "nul", 3, "a\0b", 3);
	CHECK(!gw_labels_validate(&l, &lim, &err));
	gw_labels_remove(&l, "nul");
	lim.max_label_value = 3;
	CHECK(!gw_labels_validate(&l, &lim, &err) && strstr(err.msg, "limit"));
	gw_limits_default(&lim);
	lim.max_labels = 1;
	CHECK(!gw_labels_validate(&l, &lim, &err));
	gw_limits_default(&lim);
	gw_labels_remove(&l, "__name__");
	CHECK(!gw_labels_validate(&l, &lim, &err) && strstr(err.msg, "__name__"));
	gw_labels_free(&l);
}

static void
test_metric_name(void)
{
	PeSampleType t[4];
	PeMeta		m;
	GwTypeNames names;
	GwErr		err = {0};
	const char *stc = "{\"contentions\":{\"display-name\":\"block_count\"},\"delay\":{\"units\":\"ns\"}}";

	memset(&m, 0, sizeof(m));
	m.types = t;
	t[0].type = "samples", t[0].unit = "count";
	t[1].type = "cpu", t[1].unit = "nanoseconds";
	m.nvalues = 2;
	CHECK(strcmp(gw_metric_name(&m, NULL), "process_cpu") == 0);
	t[1].type = "wall";
	CHECK(strcmp(gw_metric_name(&m, NULL), "wall") == 0);
	t[0].type = "alloc_objects", t[1].type = "alloc_space";
	CHECK(strcmp(gw_metric_name(&m, NULL), "memory") == 0);
	t[0].type = "objects", t[1].type = "space";
	CHECK(strcmp(gw_metric_name(&m, NULL), "memory") == 0);
	t[0].type = "contentions", t[1].type = "delay";
	CHECK(strcmp(gw_metric_name(&m, NULL), "mutex") == 0);
	CHECK(gw_type_names_parse(stc, strlen(stc), &names, &err));
	CHECK(strcmp(gw_metric_name(&m, &names), "block") == 0);
	gw_type_names_free(&names);
	t[0].type = "goroutine", m.nvalues = 1;
	CHECK(strcmp(gw_metric_name(&m, NULL), "goroutines") == 0);
	t[0].type = "exception";
	CHECK(strcmp(gw_metric_name(&m, NULL), "exception") == 0);
	CHECK(!gw_type_names_parse("[", 1, &names, &err) && err.status == 422);
}

static void
test_time(void)
{
	CHECK(gw_parse_time_ns("1700000000", 10, 7) == INT64_C(1700000000000000000));
	CHECK(gw_parse_time_ns("1700000000123", 13, 7) == INT64_C(1700000000123000000));
	CHECK(gw_parse_time_ns("1700000000123456", 16, 7) == INT64_C(1700000000123456000));
	CHECK(gw_parse_time_ns("1700000000123456789", 19, 7) == INT64_C(1700000000123456789));
	CHECK(gw_parse_time_ns("now-1h", 6, 7) == 7);
	CHECK(gw_parse_time_ns("", 0, 7) == 7);
	CHECK(gw_parse_time_ns("99999999999999999999", 20, 7) == 7);
	/* nanoseconds that do not fit in 64 bits: 19 digits over INT64_MAX, 16 and 13 times their unit */
	CHECK(gw_parse_time_ns("9999999999999999999", 19, 7) == 7);
	CHECK(gw_parse_time_ns("9999999999999999", 16, 7) == 7);
	CHECK(gw_parse_time_ns("9999999999999", 13, 7) == 7);
}

int
main(void)
{
	RUN(test_name_grammar);
	RUN(test_multipart);
	RUN(test_split);
	RUN(test_push_decode);
	RUN(test_labels);
	RUN(test_metric_name);
	RUN(test_time);
	return unit_finish("gateway parsers");
}
