/*
 * gw_http.c
 *		libmicrohttpd, one thread per connection (handlers block until their
 *		rows are committed).  Routing, body collection under the size limit,
 *		authentication and tenants, responses and request metrics.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>

#include "gw_profile.h"
#include "gw_server.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

enum
{
	ROUTE_NONE,
	ROUTE_INGEST,
	ROUTE_PUSH,
	ROUTE_METRICS,
	ROUTE_READY
};

static const struct
{
	const char *path;
	int			route;
	const char *method;
}			routes[] = {
	{"/ingest", ROUTE_INGEST, "POST"},
	{"/pyroscope/ingest", ROUTE_INGEST, "POST"},
	{"/push.v1.PusherService/Push", ROUTE_PUSH, "POST"},
	{"/metrics", ROUTE_METRICS, "GET"},
	{"/ready", ROUTE_READY, "GET"},
};

const char *
gw_req_arg(GwRequest *r, const char *name, size_t *len)
{
	const char *v = NULL;
	size_t		n = 0;

	if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name),
									  &v, &n) != MHD_YES)
		return NULL;
	if (len)
		*len = n;
	return v ? v : "";
}

const char *
gw_req_header(GwRequest *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static const char *
connect_code(int status)
{
	switch (status)
	{
		case 400:
		case 422:
			return "invalid_argument";
		case 401:
			return "unauthenticated";
		case 403:
			return "permission_denied";
		case 404:
			return "not_found";
		case 405:
		case 415:
		case 501:
			return "unimplemented";
		case 408:
		case 504:
			return "deadline_exceeded";
		case 413:
		case 429:
			return "resource_exhausted";
		case 503:
			return "unavailable";
		default:
			return "internal";
	}
}

void
gw_resp_error(GwResponse *resp, int status, const char *msg)
{
	resp->status = status;
	resp->content_type = "application/json";
	pe_buf_reset(&resp->body);
	if (!(pe_buf_printf(&resp->body, "{\"code\":\"%s\",\"message\":", connect_code(status)) &&
		  gw_buf_json_string(&resp->body, msg, strlen(msg)) &&
		  pe_buf_append(&resp->body, "}\n", 2)))
		pe_buf_free(&resp->body);
}

/* Queue resp on the connection and count it. */
static MHD_Result_t
send_response(GwRequest *r, GwResponse *resp)
{
	struct MHD_Response *mr;
	MHD_Result_t ret;
	char		code[8];

	mr = MHD_create_response_from_buffer(resp->body.len, resp->body.data ? resp->body.data : (void *) "",
										 MHD_RESPMEM_MUST_COPY);
	if (mr == NULL)
		return MHD_NO;
	if (resp->content_type)
		MHD_add_response_header(mr, "Content-Type", resp->content_type);
	if (resp->status == 401)
		MHD_add_response_header(mr, "WWW-Authenticate", "Basic realm=\"profile-gateway\"");
	ret = MHD_queue_response(r->conn, (unsigned) resp->status, mr);
	MHD_destroy_response(mr);
	snprintf(code, sizeof(code), "%d", resp->status);
	gw_metrics_add(r->srv->metrics, "profile_gateway_http_requests_total", 1,
				   "path", r->path, "code", code, NULL);
	r->responded = true;
	return ret;
}

static MHD_Result_t
send_error(GwRequest *r, int status, const char *msg)
{
	GwResponse	resp = {0};
	MHD_Result_t ret;

	gw_resp_error(&resp, status, msg);
	ret = send_response(r, &resp);
	pe_buf_free(&resp.body);
	return ret;
}

bool
gw_submit_rows(GwRequest *r, GwRows *rows, GwResponse *resp)
{
	char		err[256];
	GwSubmitResult res;
	GwRow	   *rs = rows->rows;

	res = gw_batch_submit(r->srv->batcher, rs, rows->n, err, sizeof(err));
	switch (res)
	{
		case GW_SUBMIT_OK:
			gw_metrics_add(r->srv->metrics, "profile_gateway_rows_received_total",
						   (double) rows->n, "path", r->path, NULL);
			return true;
		case GW_SUBMIT_DB_DOWN:
		case GW_SUBMIT_SHUTDOWN:
			gw_resp_error(resp, 503, err);
			return false;
		case GW_SUBMIT_QUEUE_FULL:
			gw_resp_error(resp, 429, err);
			return false;
		case GW_SUBMIT_FAILED:
		default:
			gw_resp_error(resp, 500, err);
			return false;
	}
}

/* Authentication and the tenant; false when an error response was sent. */
static bool
admit(GwRequest *r, MHD_Result_t *ret)
{
	GwServer   *srv = r->srv;
	const char *entry_tenant = NULL;
	const char *org = gw_req_header(r, "X-Scope-OrgID");

	if (srv->auth && !gw_auth_check(srv->auth, gw_req_header(r, "Authorization"), &entry_tenant))
	{
		*ret = send_error(r, 401, "authentication required: no matching Authorization header");
		return false;
	}
	if (org && org[0])
	{
		if (!gw_tenant_valid(org))
		{
			*ret = send_error(r, 400, "X-Scope-OrgID is not 1..150 of letters, digits and !-_.*'()");
			return false;
		}
		if (entry_tenant && strcmp(org, entry_tenant) != 0)
		{
			*ret = send_error(r, 403, "these credentials may not write for the tenant in X-Scope-OrgID");
			return false;
		}
	}
	if (srv->tenant_mode)
	{
		const char *t = org && org[0] ? org : entry_tenant;

		if (t == NULL)
		{
			*ret = send_error(r, 401, "no org id: the X-Scope-OrgID header is required");
			return false;
		}
		snprintf(r->tenant, sizeof(r->tenant), "%s", t);
	}
	else if (entry_tenant)
		snprintf(r->tenant, sizeof(r->tenant), "%s", entry_tenant);
	return true;
}

static MHD_Result_t
handle_complete(GwRequest *r)
{
	GwResponse	resp = {0};
	MHD_Result_t ret;

	resp.status = 200;
	switch (r->route)
	{
		case ROUTE_INGEST:
			gw_ingest_handle(r, &resp);
			break;
		case ROUTE_PUSH:
			gw_push_handle(r, &resp);
			break;
		case ROUTE_METRICS:
			{
				size_t		len = 0;
				char	   *text;

				gw_metrics_set(r->srv->metrics, "profile_gateway_queue_rows",
							   (double) gw_batch_state(r->srv->batcher).queued_rows, NULL);
				text = gw_metrics_render(r->srv->metrics, &len);
				if (text == NULL)
					gw_resp_error(&resp, 503, "out of memory");
				else
				{
					resp.body.data = (uint8_t *) text;
					resp.body.len = len;
					resp.body.cap = len + 1;
					resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
				}
				break;
			}
		case ROUTE_READY:
			if (gw_batch_state(r->srv->batcher).db_up)
			{
				pe_buf_printf(&resp.body, "ready\n");
				resp.content_type = "text/plain; charset=utf-8";
			}
			else
				gw_resp_error(&resp, 503, "the database is unreachable");
			break;
	}
	ret = send_response(r, &resp);
	pe_buf_free(&resp.body);
	return ret;
}

static MHD_Result_t
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size,
		   void **con_cls)
{
	GwServer   *srv = cls;
	GwRequest  *r = *con_cls;

	if (r == NULL)
	{
		const char *cl;
		int			route = ROUTE_NONE;
		const char *want = NULL;
		MHD_Result_t ret;

		r = calloc(1, sizeof(GwRequest));
		if (r == NULL)
			return MHD_NO;
		r->srv = srv;
		r->conn = conn;
		r->path = "other";
		*con_cls = r;
		atomic_fetch_add(&srv->inflight, 1);
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
			if (strcmp(url, routes[i].path) == 0)
			{
				route = routes[i].route;
				want = routes[i].method;
				r->path = routes[i].path;
			}
		r->route = route;
		if (route == ROUTE_NONE)
			return send_error(r, 404, "no such endpoint; profile-gateway serves POST /ingest, POST /push.v1.PusherService/Push, GET /metrics and GET /ready");
		if (strcmp(method, want) != 0 &&
			!(route >= ROUTE_METRICS && strcmp(method, "HEAD") == 0))
			return send_error(r, 405, "method not allowed on this endpoint");
		if (route == ROUTE_INGEST || route == ROUTE_PUSH)
		{
			if (!admit(r, &ret))
				return ret;
			cl = gw_req_header(r, "Content-Length");
			if (cl && strtoull(cl, NULL, 10) > srv->limits.max_body_bytes)
			{
				char		msg[128];

				snprintf(msg, sizeof(msg), "request body is larger than the limit of %zu bytes",
						 srv->limits.max_body_bytes);
				return send_error(r, 413, msg);
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		if (!r->responded)
		{
			if (r->body.len + *upload_data_size > r->srv->limits.max_body_bytes)
			{
				char		msg[128];
				MHD_Result_t ret;

				snprintf(msg, sizeof(msg), "request body is larger than the limit of %zu bytes",
						 r->srv->limits.max_body_bytes);
				pe_buf_free(&r->body);
				ret = send_error(r, 413, msg);
				*upload_data_size = 0;
				return ret;
			}
			if (!pe_buf_append(&r->body, upload_data, *upload_data_size))
			{
				pe_buf_free(&r->body);
				*upload_data_size = 0;
				return send_error(r, 503, "out of memory reading the request body");
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->responded)
		return MHD_YES;
	return handle_complete(r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	GwServer   *srv = cls;
	GwRequest  *r = *con_cls;

	if (r == NULL)
		return;
	pe_buf_free(&r->body);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->inflight, 1);
}

bool
gw_server_start(GwServer *srv, const char *addr, char *err, size_t errlen)
{
	char		host[256];
	const char *port;
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints,
			   *res = NULL;
	int			rc;
	unsigned	flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_ERROR_LOG | MHD_USE_ITC;

	if (colon == NULL || colon[1] == '\0' || (size_t) (colon - addr) >= sizeof(host))
	{
		snprintf(err, errlen, "--listen \"%s\" is not ADDR:PORT", addr);
		return false;
	}
	memcpy(host, addr, (size_t) (colon - addr));
	host[colon - addr] = '\0';
	port = colon + 1;
	if (host[0] == '[' && host[strlen(host) - 1] == ']')
	{
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0)
	{
		snprintf(err, errlen, "--listen \"%s\": %s", addr, gai_strerror(rc));
		return false;
	}
	gw_metrics_counter(srv->metrics, "profile_gateway_http_requests_total",
					   "HTTP requests answered, by path and status code.");
	gw_metrics_counter(srv->metrics, "profile_gateway_rows_received_total",
					   "Rows (series of received profiles) acknowledged, by path.");
	if (res->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
								   MHD_OPTION_SOCK_ADDR, res->ai_addr,
								   MHD_OPTION_CONNECTION_TIMEOUT, srv->connection_timeout,
								   MHD_OPTION_CONNECTION_LIMIT, srv->max_connections,
								   MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
								   MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
								   MHD_OPTION_END);
	freeaddrinfo(res);
	if (srv->daemon == NULL)
	{
		snprintf(err, errlen, "cannot listen on %s (address in use or not permitted)", addr);
		return false;
	}
	return true;
}

void
gw_server_stop(GwServer *srv, int wait_s)
{
	if (srv->daemon == NULL)
		return;
	/* stop accepting; requests in flight finish (their rows commit) */
	MHD_quiesce_daemon(srv->daemon);
	for (int i = 0; i < wait_s * 20 && atomic_load(&srv->inflight) > 0; i++)
		usleep(50000);
	MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
}
