/*
 * gw_server.h
 *		The HTTP server and what its handlers share.
 */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include <stdatomic.h>

#include "gw_auth.h"
#include "gw_batch.h"
#include "gw_common.h"
#include "gw_metrics.h"

struct MHD_Connection;
struct MHD_Daemon;

typedef struct GwServer
{
	GwLimits	limits;
	GwBatcher  *batcher;
	GwMetrics  *metrics;
	GwAuth	   *auth;			/* NULL: no authentication */
	bool		tenant_mode;	/* X-Scope-OrgID required, stored as label "tenant" */
	unsigned	connection_timeout;	/* seconds a client may stay idle */
	unsigned	max_connections;
	struct MHD_Daemon *daemon;
	atomic_int	inflight;		/* requests begun and not completed */
} GwServer;

/* One request: its connection, the body read so far, and who sent it. */
typedef struct GwRequest
{
	GwServer   *srv;
	struct MHD_Connection *conn;
	const char *path;			/* the route's metrics label */
	int			route;
	PeBuf		body;
	bool		responded;		/* a response was queued early (401, 413, ...) */
	char		tenant[160];	/* resolved tenant, "" when none */
} GwRequest;

/* What a handler answers. */
typedef struct GwResponse
{
	int			status;
	const char *content_type;
	PeBuf		body;
} GwResponse;

/* Query argument (URL-decoded), or NULL; *len gets its length. */
extern const char *gw_req_arg(GwRequest *r, const char *name, size_t *len);
extern const char *gw_req_header(GwRequest *r, const char *name);

/* An error response: JSON {"code": <Connect code>, "message": ...}. */
extern void gw_resp_error(GwResponse *resp, int status, const char *msg);

/* Handlers (body complete). */
extern void gw_ingest_handle(GwRequest *r, GwResponse *resp);
extern void gw_push_handle(GwRequest *r, GwResponse *resp);

/* Submit a request's rows: maps the batcher's result onto the response. */
struct GwRows;
extern bool gw_submit_rows(GwRequest *r, struct GwRows *rows, GwResponse *resp);

/* Start listening on addr ("HOST:PORT", "[V6]:PORT", ":PORT"); false with err. */
extern bool gw_server_start(GwServer *srv, const char *addr, char *err, size_t errlen);
/* Stop accepting, wait up to wait_s seconds for requests in flight, close. */
extern void gw_server_stop(GwServer *srv, int wait_s);

#endif							/* GW_SERVER_H */
