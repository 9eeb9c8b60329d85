/*
 * gw_push_handler.c
 *		POST /push.v1.PusherService/Push, Connect unary: application/proto or
 *		application/json, optional Content-Encoding: gzip.  200 with an empty
 *		message when every series of the request is committed; nothing is
 *		stored when any of them is refused.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gw_profile.h"
#include "gw_push.h"
#include "gw_server.h"

/* The series labels Push stores: no "__" labels but __name__, a default service_name. */
static bool
series_labels(const GwLabels *sent, GwLabels *out, GwErr *err)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < sent->n; i++)
	{
		const GwLabel *l = &sent->l[i];

		if (gw_label_is_internal(l->name, l->name_len) && strcmp(l->name, "__name__") != 0)
			continue;
		if (!gw_labels_add(out, l->name, l->name_len, l->value, l->value_len))
			return gw_fail(err, 503, "out of memory");
	}
	if (!gw_labels_get(out, "service_name") &&
		!gw_labels_set_str(out, "service_name", "unknown_service"))
		return gw_fail(err, 503, "out of memory");
	return true;
}

void
gw_push_handle(GwRequest *r, GwResponse *resp)
{
	const GwLimits *lim = &r->srv->limits;
	const char *ctype = gw_req_header(r, "Content-Type");
	const char *cenc = gw_req_header(r, "Content-Encoding");
	const uint8_t *body = r->body.data ? r->body.data : (const uint8_t *) "";
	size_t		body_len = r->body.len;
	uint8_t    *inflated = NULL;
	bool		json;
	GwPushRequest req = {0};
	GwRows		rows = {0};
	GwErr		err = {0};
	int64_t		now = gw_now_ns();
	char		msg[sizeof(err.msg) + 64];

	if (ctype && (strncasecmp(ctype, "application/proto", 17) == 0 ||
				  strncasecmp(ctype, "application/x-protobuf", 22) == 0))
		json = false;
	else if (ctype && strncasecmp(ctype, "application/json", 16) == 0)
		json = true;
	else
	{
		gw_resp_error(resp, 415, "Content-Type must be application/proto or application/json (Connect unary; gRPC is not served)");
		return;
	}
	if (cenc && strcasecmp(cenc, "identity") != 0)
	{
		size_t		n;

		if (strcasecmp(cenc, "gzip") != 0)
		{
			gw_resp_error(resp, 415, "Content-Encoding must be gzip or identity");
			return;
		}
		if (!gw_gunzip(body, body_len, lim->max_body_bytes, 413, "request body",
					   &inflated, &n, &err))
		{
			gw_resp_error(resp, err.status, err.msg);
			return;
		}
		body = inflated;
		body_len = n;
	}
	gw_metrics_add(r->srv->metrics, "profile_gateway_received_bytes_total",
				   (double) r->body.len, "path", r->path, NULL);

	if (!gw_push_decode(body, body_len, json, &req, &err))
	{
		gw_resp_error(resp, err.status, err.msg);
		goto done;
	}
	for (size_t i = 0; i < req.nseries; i++)
	{
		GwPushSeries *s = &req.series[i];
		GwLabels	base;
		GwPprofRule rule = {0};
		bool		ok;

		if (!series_labels(&s->labels, &base, &err))
		{
			gw_resp_error(resp, err.status, err.msg);
			goto done;
		}
		/* labels are checked even for a series without samples */
		if (!gw_labels_validate(&base, lim, &err))
		{
			snprintf(msg, sizeof(msg), "series %zu: %s", i, err.msg);
			gw_labels_free(&base);
			gw_resp_error(resp, 400, msg);
			goto done;
		}
		rule.base = &base;
		rule.tenant = r->tenant[0] ? r->tenant : NULL;
		rule.fallback_ts = now;
		rule.invalid_status = 400;
		ok = true;
		for (size_t k = 0; ok && k < s->nsamples; k++)
		{
			if (s->samples[k].len == 0)
				continue;
			gw_metrics_add(r->srv->metrics, "profile_gateway_profiles_received_total", 1,
						   "path", r->path, NULL);
			ok = gw_rows_from_pprof(lim, s->samples[k].data, s->samples[k].len, &rule,
									&rows, &err);
			if (!ok)
			{
				snprintf(msg, sizeof(msg), "series %zu, sample %zu: %s", i, k, err.msg);
				gw_resp_error(resp, err.status, msg);
			}
		}
		gw_labels_free(&base);
		if (!ok)
			goto done;
	}
	if (gw_submit_rows(r, &rows, resp))
	{
		resp->status = 200;
		pe_buf_reset(&resp->body);
		if (json)
		{
			pe_buf_append(&resp->body, "{}", 2);
			resp->content_type = "application/json";
		}
		else
		{
			pe_buf_reserve(&resp->body, 1);
			resp->content_type = "application/proto";
		}
	}
done:
	gw_push_free(&req);
	gw_rows_free(&rows);
	free(inflated);
}
