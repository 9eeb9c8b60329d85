/*
 * gw_ingest.c
 *		POST /ingest (and /pyroscope/ingest): Pyroscope's legacy ingest as
 *		the SDKs use it.  Query: name, from, until, sampleRate, spyName,
 *		format.  The body is dispatched as Pyroscope does: unsupported
 *		formats (trie, tree, lines, speedscope, jfr) answer 415; format=pprof
 *		is a raw pprof body; a multipart form carries profile (+
 *		sample_type_config); anything else is folded text.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_multipart.h"
#include "gw_profile.h"
#include "gw_server.h"

/* Respond to err and count nothing. */
static void
fail(GwResponse *resp, const GwErr *err)
{
	gw_resp_error(resp, err->status ? err->status : 500, err->msg);
}

void
gw_ingest_handle(GwRequest *r, GwResponse *resp)
{
	const GwLimits *lim = &r->srv->limits;
	const char *ctype = gw_req_header(r, "Content-Type");
	const char *cenc = gw_req_header(r, "Content-Encoding");
	const char *format = gw_req_arg(r, "format", NULL);
	const char *name,
			   *from,
			   *spy;
	size_t		name_len = 0,
				from_len = 0;
	const uint8_t *body = r->body.data;
	size_t		body_len = r->body.len;
	uint8_t    *inflated = NULL;
	char	   *app = NULL;
	GwLabels	tags = {0};
	GwRows		rows = {0};
	GwErr		err = {0};
	int64_t		now = gw_now_ns();
	int64_t		ts;
	const char *tenant = r->tenant[0] ? r->tenant : NULL;

	if (format == NULL)
		format = "";
	/* formats Pyroscope knows that this gateway does not read (yet) */
	if (strcasecmp(format, "jfr") == 0)
	{
		gw_resp_error(resp, 415, "format=jfr: JFR (Java Flight Recorder) input is not supported yet; send pprof (the Java agent can export pprof) or use Push");
		return;
	}
	if (strcasecmp(format, "trie") == 0 || strcasecmp(format, "tree") == 0 ||
		strcasecmp(format, "lines") == 0 || strcasecmp(format, "speedscope") == 0 ||
		(ctype && (strncasecmp(ctype, "binary/octet-stream+trie", 24) == 0 ||
				   strncasecmp(ctype, "binary/octet-stream+tree", 24) == 0)))
	{
		gw_resp_error(resp, 415, "this input format is not supported: send pprof (format=pprof or a multipart form) or folded text");
		return;
	}

	name = gw_req_arg(r, "name", &name_len);
	if (name == NULL || name_len == 0)
	{
		gw_resp_error(resp, 400, "name: the query parameter name=app{k=v,...} is required (service name)");
		return;
	}
	if (!gw_name_parse(name, name_len, &app, &tags, &err))
	{
		fail(resp, &err);
		return;
	}
	from = gw_req_arg(r, "from", &from_len);
	ts = gw_parse_time_ns(from, from_len, now);
	spy = gw_req_arg(r, "spyName", NULL);
	if (spy == NULL || spy[0] == '\0')
		spy = "unknown";
	if (!gw_labels_set_str(&tags, "pyroscope_spy", spy))
	{
		gw_resp_error(resp, 503, "out of memory");
		goto done;
	}

	/* Content-Encoding: gzip on the whole body, honoured when the bytes are gzip */
	if (cenc && strcasecmp(cenc, "gzip") == 0 && gw_is_gzip(body, body_len))
	{
		size_t		n;

		if (!gw_gunzip(body, body_len, lim->max_body_bytes, 413, "request body",
					   &inflated, &n, &err))
		{
			fail(resp, &err);
			goto done;
		}
		body = inflated;
		body_len = n;
	}

	gw_metrics_add(r->srv->metrics, "profile_gateway_received_bytes_total",
				   (double) r->body.len, "path", r->path, NULL);

	if (strcasecmp(format, "pprof") == 0 ||
		(ctype && strcasestr(ctype, "multipart/form-data")))
	{
		GwPprofRule rule = {0};
		GwTypeNames names = {0};
		const uint8_t *prof = body;
		size_t		prof_len = body_len;

		if (!gw_labels_get(&tags, "service_name") &&
			!gw_labels_set_str(&tags, "service_name", app))
		{
			gw_resp_error(resp, 503, "out of memory");
			goto done;
		}
		if (strcasecmp(format, "pprof") != 0)
		{
			GwPart		parts[GW_MULTIPART_MAX_PARTS];
			size_t		nparts;
			const GwPart *p;

			if (!gw_multipart_parse(body, body_len, ctype, parts, GW_MULTIPART_MAX_PARTS,
									&nparts, &err))
			{
				fail(resp, &err);
				goto done;
			}
			if (gw_multipart_find(parts, nparts, "prev_profile"))
			{
				gw_resp_error(resp, 422, "unsupported client version: the form has a prev_profile part (cumulative profiles are not accepted)");
				goto done;
			}
			p = gw_multipart_find(parts, nparts, "sample_type_config");
			if (p && p->len && !gw_type_names_parse((const char *) p->data, p->len, &names, &err))
			{
				fail(resp, &err);
				goto done;
			}
			p = gw_multipart_find(parts, nparts, "profile");
			prof = p ? p->data : NULL;
			prof_len = p ? p->len : 0;
		}
		if (prof_len > 0)
		{
			rule.base = &tags;
			rule.derive_name = true;
			rule.type_names = &names;
			rule.tenant = tenant;
			rule.fallback_ts = ts;
			rule.invalid_status = 422;
			gw_metrics_add(r->srv->metrics, "profile_gateway_profiles_received_total", 1,
						   "path", r->path, NULL);
			if (!gw_rows_from_pprof(lim, prof, prof_len, &rule, &rows, &err))
			{
				gw_type_names_free(&names);
				fail(resp, &err);
				goto done;
			}
		}
		gw_type_names_free(&names);
	}
	else
	{
		const char *rate_arg;
		int64_t		rate = 100;

		rate_arg = gw_req_arg(r, "sampleRate", NULL);
		if (rate_arg && rate_arg[0])
		{
			char	   *end;
			long long	v = strtoll(rate_arg, &end, 10);

			/* Pyroscope logs an invalid rate and uses 100 */
			if (*end == '\0' && v > 0 && v <= 1000000000)
				rate = v;
		}
		gw_metrics_add(r->srv->metrics, "profile_gateway_profiles_received_total", 1,
					   "path", r->path, NULL);
		if (body_len > 0 &&
			!gw_rows_from_folded(lim, (const char *) body, body_len, app, &tags, tenant,
								 rate, ts, &rows, &err))
		{
			fail(resp, &err);
			goto done;
		}
	}

	if (gw_submit_rows(r, &rows, resp))
		resp->status = 200;
done:
	gw_rows_free(&rows);
	gw_labels_free(&tags);
	free(app);
	free(inflated);
}
