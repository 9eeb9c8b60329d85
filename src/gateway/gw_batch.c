/*
 * gw_batch.c
 *		One writer thread, one libpq connection.  Submitters append a unit
 *		(one request's rows) to a bounded queue and wait; the writer takes
 *		every waiting unit (up to a batch size), writes them with one binary
 *		COPY in one transaction and wakes them with the outcome.  While it
 *		commits, new units pile up for the next batch: that is the group
 *		commit.  When a batch fails because the database refused a row, each
 *		unit is retried alone, so one bad request cannot fail its neighbours.
 *		When the connection is lost, the batch's units answer DB_DOWN and
 *		new submits are refused at once until the writer reconnects (every
 *		second).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "gw_batch.h"
#include "gw_common.h"
#include "gw_metrics.h"

/* seconds between 1970-01-01 and 2000-01-01, PostgreSQL's epoch */
#define PG_EPOCH_OFFSET_US	INT64_C(946684800000000)
#define RECONNECT_MS		1000
#define IDLE_PING_MS		5000

typedef struct Unit
{
	struct Unit *next;
	uint8_t    *data;			/* the unit's tuples in COPY binary form */
	size_t		len;
	size_t		nrows;
	bool		done;
	GwSubmitResult result;
	char		err[256];
} Unit;

struct GwBatcher
{
	GwBatchOptions opt;
	char	   *dsn;
	char	   *copy_sql;
	GwMetrics  *metrics;

	pthread_mutex_t mu;
	pthread_cond_t work;		/* writer: units waiting or stopping */
	pthread_cond_t done;		/* submitters: a batch finished */
	pthread_t	thread;
	Unit	   *head;
	Unit	   *tail;
	size_t		queued_rows;
	size_t		queued_bytes;
	bool		stopping;
	bool		up;

	PGconn	   *conn;			/* writer thread only */
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t) (v >> 32));
	put32(p + 4, (uint32_t) v);
}

/* True for NAME or SCHEMA.NAME of plain (unquoted) identifiers. */
static bool
table_name_ok(const char *t)
{
	int			parts = 0;
	const char *p = t;

	for (;;)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
			return false;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
			   (*p >= '0' && *p <= '9') || *p == '$')
			p++;
		parts++;
		if (*p == '\0')
			return p - t <= 127;
		if (*p != '.' || parts == 2)
			return false;
		p++;
	}
}

static void
set_up(GwBatcher *b, bool up)
{
	pthread_mutex_lock(&b->mu);
	b->up = up;
	pthread_mutex_unlock(&b->mu);
	gw_metrics_set(b->metrics, "profile_gateway_db_up", up ? 1 : 0, NULL);
}

static void
disconnect(GwBatcher *b)
{
	if (b->conn)
		PQfinish(b->conn);
	b->conn = NULL;
	set_up(b, false);
}

/* Connect unless connected; true when the connection works. */
static bool
ensure_connected(GwBatcher *b)
{
	/* ours come first: keywords after the expanded dsn override, so the user's win */
	const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *const vals[] = {"10", "profile-gateway", b->dsn, NULL};

	if (b->conn && PQstatus(b->conn) == CONNECTION_OK)
		return true;
	if (b->conn)
		disconnect(b);
	b->conn = PQconnectdbParams(keys, vals, 1);
	if (b->conn == NULL || PQstatus(b->conn) != CONNECTION_OK)
	{
		static time_t last_log;
		time_t		now = time(NULL);

		if (now - last_log >= 30)
		{
			fprintf(stderr, "profile-gateway: cannot connect to the database: %s",
					b->conn ? PQerrorMessage(b->conn) : "out of memory\n");
			last_log = now;
		}
		if (b->conn)
			PQfinish(b->conn);
		b->conn = NULL;
		set_up(b, false);
		return false;
	}
	fprintf(stderr, "profile-gateway: connected to the database\n");
	set_up(b, true);
	return true;
}

static bool
exec_ok(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult   *r = PQexec(c, sql);
	bool		ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		snprintf(err, errlen, "%s", PQerrorMessage(c));
	PQclear(r);
	return ok;
}

typedef enum BatchOutcome
{
	BATCH_OK,
	BATCH_REFUSED,				/* the database refused the data: err says why */
	BATCH_CONN_LOST,			/* nothing sent was committed */
	BATCH_UNKNOWN				/* lost during COMMIT: outcome unknown */
} BatchOutcome;

/* Write units [first, stop) in one transaction. */
static BatchOutcome
write_batch(GwBatcher *b, Unit *first, Unit *stop, char *err, size_t errlen)
{
	static const uint8_t header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
	PGconn	   *c = b->conn;
	PGresult   *r;
	bool		ok;

	err[0] = '\0';
	if (!exec_ok(c, "BEGIN", err, errlen))
		goto failed;
	r = PQexec(c, b->copy_sql);
	if (r == NULL || PQresultStatus(r) != PGRES_COPY_IN)
	{
		snprintf(err, errlen, "%s", PQerrorMessage(c));
		PQclear(r);
		goto failed;
	}
	PQclear(r);
	ok = PQputCopyData(c, (const char *) header, sizeof(header)) == 1;
	for (Unit *u = first; ok && u != stop; u = u->next)
		ok = PQputCopyData(c, (const char *) u->data, (int) u->len) == 1;
	if (ok)
	{
		static const uint8_t trailer[2] = {0xFF, 0xFF};

		ok = PQputCopyData(c, (const char *) trailer, 2) == 1;
	}
	if (PQputCopyEnd(c, ok ? NULL : "profile-gateway: sending failed") != 1)
		ok = false;
	while ((r = PQgetResult(c)) != NULL)
	{
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
		{
			if (err[0] == '\0')
				snprintf(err, errlen, "%s", PQresultErrorMessage(r));
			ok = false;
		}
		PQclear(r);
	}
	if (!ok)
	{
		if (err[0] == '\0')
			snprintf(err, errlen, "%s", PQerrorMessage(c));
		goto failed;
	}
	if (!exec_ok(c, "COMMIT", err, errlen))
	{
		if (PQstatus(c) != CONNECTION_OK)
			return BATCH_UNKNOWN;
		goto failed;
	}
	return BATCH_OK;
failed:
	if (PQstatus(c) != CONNECTION_OK)
		return BATCH_CONN_LOST;
	{
		char		ignored[64];

		exec_ok(c, "ROLLBACK", ignored, sizeof(ignored));
	}
	if (PQstatus(c) != CONNECTION_OK)
		return BATCH_CONN_LOST;
	/* strip the trailing newline of libpq's message */
	{
		size_t		n = strlen(err);

		while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
	}
	return BATCH_REFUSED;
}

static double
elapsed_s(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double) (t1.tv_sec - t0->tv_sec) + (double) (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Mark units [first, stop) done with result; caller holds the lock. */
static void
finish_units(Unit *first, Unit *stop, GwSubmitResult result, const char *err)
{
	for (Unit *u = first, *next; u != stop; u = next)
	{
		next = u->next;			/* u may be freed once done and unlocked */
		u->result = result;
		snprintf(u->err, sizeof(u->err), "%s", err ? err : "");
		u->done = true;
	}
}

/* Run [first, stop) (already detached from the queue) and record outcomes. */
static void
run_batch(GwBatcher *b, Unit *first, Unit *stop)
{
	char		err[256];
	size_t		rows = 0;
	struct timespec t0;
	BatchOutcome out;

	for (Unit *u = first; u != stop; u = u->next)
		rows += u->nrows;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!ensure_connected(b))
		out = BATCH_CONN_LOST;
	else
	{
		out = write_batch(b, first, stop, err, sizeof(err));
		/* a connection that broke before anything was sent: reconnect once and retry */
		if (out == BATCH_CONN_LOST)
		{
			disconnect(b);
			if (ensure_connected(b))
				out = write_batch(b, first, stop, err, sizeof(err));
		}
	}

	if (out == BATCH_OK)
	{
		gw_metrics_add(b->metrics, "profile_gateway_rows_committed_total", (double) rows, NULL);
		gw_metrics_observe(b->metrics, "profile_gateway_batch_rows", (double) rows, NULL);
		gw_metrics_observe(b->metrics, "profile_gateway_commit_seconds", elapsed_s(&t0), NULL);
		pthread_mutex_lock(&b->mu);
		finish_units(first, stop, GW_SUBMIT_OK, NULL);
		pthread_mutex_unlock(&b->mu);
	}
	else if (out == BATCH_REFUSED && first->next != stop)
	{
		/* find the culprit: each unit alone (read next first: a done unit goes away) */
		Unit	   *u = first;

		while (u != stop)
		{
			Unit	   *next = u->next;

			run_batch(b, u, next);
			u = next;
		}
		return;
	}
	else
	{
		GwSubmitResult res = out == BATCH_REFUSED ? GW_SUBMIT_FAILED : GW_SUBMIT_DB_DOWN;

		if (out != BATCH_REFUSED)
		{
			fprintf(stderr, "profile-gateway: database connection lost%s\n",
					out == BATCH_UNKNOWN ? " during COMMIT" : "");
			disconnect(b);
			snprintf(err, sizeof(err), "the database is unreachable");
		}
		else
			fprintf(stderr, "profile-gateway: the database refused rows: %s\n", err);
		pthread_mutex_lock(&b->mu);
		finish_units(first, stop, res, err);
		pthread_mutex_unlock(&b->mu);
	}
}

static void
add_ms(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000)
	{
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void *
writer_main(void *arg)
{
	GwBatcher  *b = arg;
	time_t		last_ping = time(NULL);

	ensure_connected(b);
	pthread_mutex_lock(&b->mu);
	for (;;)
	{
		Unit	   *first,
				   *last,
				   *stop;
		size_t		rows,
					bytes;

		while (b->head == NULL && !b->stopping)
		{
			struct timespec ts;

			add_ms(&ts, b->up ? IDLE_PING_MS : RECONNECT_MS);
			if (pthread_cond_timedwait(&b->work, &b->mu, &ts) != 0 && b->head == NULL)
			{
				/* idle: reconnect when down, check the connection now and then */
				pthread_mutex_unlock(&b->mu);
				if (!b->up)
					ensure_connected(b);
				else if (time(NULL) - last_ping >= IDLE_PING_MS / 1000)
				{
					PGresult   *r = b->conn ? PQexec(b->conn, "SELECT 1") : NULL;

					if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK)
					{
						fprintf(stderr, "profile-gateway: database connection lost\n");
						disconnect(b);
						ensure_connected(b);
					}
					PQclear(r);
					last_ping = time(NULL);
				}
				pthread_mutex_lock(&b->mu);
			}
		}
		if (b->head == NULL && b->stopping)
			break;

		/* take units up to the batch limits (at least one) */
		first = last = b->head;
		rows = first->nrows;
		bytes = first->len;
		while (last->next && rows + last->next->nrows <= b->opt.batch_rows &&
			   bytes + last->next->len <= b->opt.batch_bytes)
		{
			last = last->next;
			rows += last->nrows;
			bytes += last->len;
		}
		stop = last->next;
		b->head = stop;
		if (b->head == NULL)
			b->tail = NULL;
		/* detached from the queue; the list links stay for the walk */
		pthread_mutex_unlock(&b->mu);

		run_batch(b, first, stop);
		last_ping = time(NULL);

		pthread_mutex_lock(&b->mu);
		b->queued_rows -= rows;
		b->queued_bytes -= bytes;
		gw_metrics_set(b->metrics, "profile_gateway_queue_rows", (double) b->queued_rows, NULL);
		pthread_cond_broadcast(&b->done);
	}
	pthread_mutex_unlock(&b->mu);
	disconnect(b);
	return NULL;
}

GwBatcher *
gw_batch_start(const GwBatchOptions *opt, char *err, size_t errlen)
{
	GwBatcher  *b;
	size_t		n;

	if (!table_name_ok(opt->table))
	{
		snprintf(err, errlen, "--table \"%s\" is not NAME or SCHEMA.NAME of plain identifiers",
				 opt->table);
		return NULL;
	}
	b = calloc(1, sizeof(GwBatcher));
	if (b == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->opt = *opt;
	if (b->opt.batch_rows == 0)
		b->opt.batch_rows = 1000;
	if (b->opt.batch_bytes == 0)
		b->opt.batch_bytes = 64 << 20;
	if (b->opt.queue_rows == 0)
		b->opt.queue_rows = 10000;
	if (b->opt.queue_bytes == 0)
		b->opt.queue_bytes = (size_t) 256 << 20;
	b->metrics = opt->metrics;
	b->dsn = strdup(opt->dsn ? opt->dsn : "");
	n = strlen(opt->table) + 80;
	b->copy_sql = malloc(n);
	if (b->dsn == NULL || b->copy_sql == NULL)
	{
		free(b->dsn);
		free(b->copy_sql);
		free(b);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(b->copy_sql, n, "COPY %s (ts, labels, profile) FROM STDIN (FORMAT binary)",
			 opt->table);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->work, NULL);
	pthread_cond_init(&b->done, NULL);

	gw_metrics_gauge(b->metrics, "profile_gateway_db_up",
					 "1 while the gateway holds a working database connection.");
	gw_metrics_gauge(b->metrics, "profile_gateway_queue_rows",
					 "Rows waiting for a transaction.");
	gw_metrics_counter(b->metrics, "profile_gateway_rows_committed_total",
					   "Rows committed to the table.");
	{
		static const double rows_b[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
		static const double sec_b[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
		0.5, 1, 2.5, 5, 10};

		gw_metrics_histogram(b->metrics, "profile_gateway_batch_rows",
							 "Rows per committed transaction.", rows_b, 10);
		gw_metrics_histogram(b->metrics, "profile_gateway_commit_seconds",
							 "Time to write and commit one batch.", sec_b, 13);
	}
	gw_metrics_set(b->metrics, "profile_gateway_db_up", 0, NULL);
	gw_metrics_set(b->metrics, "profile_gateway_queue_rows", 0, NULL);

	if (pthread_create(&b->thread, NULL, writer_main, b) != 0)
	{
		snprintf(err, errlen, "cannot start the writer thread");
		free(b->dsn);
		free(b->copy_sql);
		free(b);
		return NULL;
	}
	return b;
}

/* A unit holding rows as COPY binary tuples. */
static Unit *
make_unit(const GwRow *rows, size_t nrows)
{
	size_t		len = 0;
	Unit	   *u;
	uint8_t    *p;

	for (size_t i = 0; i < nrows; i++)
		len += 2 + 4 + 8 + 4 + 1 + strlen(rows[i].labels_json) + 4 + rows[i].profile_len;
	u = calloc(1, sizeof(Unit));
	if (u == NULL)
		return NULL;
	u->data = malloc(len ? len : 1);
	if (u->data == NULL)
	{
		free(u);
		return NULL;
	}
	p = u->data;
	for (size_t i = 0; i < nrows; i++)
	{
		size_t		jl = strlen(rows[i].labels_json);
		int64_t		us = rows[i].ts_unix_ns / 1000 - PG_EPOCH_OFFSET_US;

		put16(p, 3);
		p += 2;
		put32(p, 8);
		put64(p + 4, (uint64_t) us);
		p += 12;
		put32(p, (uint32_t) (jl + 1));
		p[4] = 1;				/* jsonb binary format version */
		memcpy(p + 5, rows[i].labels_json, jl);
		p += 5 + jl;
		put32(p, (uint32_t) rows[i].profile_len);
		memcpy(p + 4, rows[i].profile, rows[i].profile_len);
		p += 4 + rows[i].profile_len;
	}
	u->len = len;
	u->nrows = nrows;
	return u;
}

GwSubmitResult
gw_batch_submit(GwBatcher *b, const GwRow *rows, size_t nrows, char *err, size_t errlen)
{
	Unit	   *u;
	GwSubmitResult res;

	if (err && errlen)
		err[0] = '\0';
	if (nrows == 0)
		return GW_SUBMIT_OK;
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].profile_len > 0x3FFFFFFF || strlen(rows[i].labels_json) > 0x3FFFFFFF)
		{
			snprintf(err, errlen, "row %zu is larger than a PostgreSQL value may be", i);
			return GW_SUBMIT_FAILED;
		}
	u = make_unit(rows, nrows);
	if (u == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return GW_SUBMIT_QUEUE_FULL;
	}

	pthread_mutex_lock(&b->mu);
	if (b->stopping)
		res = GW_SUBMIT_SHUTDOWN;
	else if (!b->up)
		res = GW_SUBMIT_DB_DOWN;
	else if (b->queued_rows + nrows > b->opt.queue_rows ||
			 b->queued_bytes + u->len > b->opt.queue_bytes)
		res = GW_SUBMIT_QUEUE_FULL;
	else
	{
		if (b->tail)
			b->tail->next = u;
		else
			b->head = u;
		b->tail = u;
		b->queued_rows += nrows;
		b->queued_bytes += u->len;
		gw_metrics_set(b->metrics, "profile_gateway_queue_rows", (double) b->queued_rows, NULL);
		pthread_cond_signal(&b->work);
		while (!u->done)
			pthread_cond_wait(&b->done, &b->mu);
		res = u->result;
		if (err && errlen)
			snprintf(err, errlen, "%s", u->err);
	}
	pthread_mutex_unlock(&b->mu);
	if (res == GW_SUBMIT_DB_DOWN && err && errlen && err[0] == '\0')
		snprintf(err, errlen, "the database is unreachable");
	if (res == GW_SUBMIT_QUEUE_FULL && err && errlen && err[0] == '\0')
		snprintf(err, errlen, "the gateway's queue is full");
	if (res == GW_SUBMIT_SHUTDOWN && err && errlen)
		snprintf(err, errlen, "the gateway is shutting down");
	free(u->data);
	free(u);
	return res;
}

GwBatchState
gw_batch_state(GwBatcher *b)
{
	GwBatchState st;

	pthread_mutex_lock(&b->mu);
	st.db_up = b->up;
	st.queued_rows = b->queued_rows;
	pthread_mutex_unlock(&b->mu);
	return st;
}

void
gw_batch_stop(GwBatcher *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->mu);
	b->stopping = true;
	pthread_cond_signal(&b->work);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thread, NULL);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->work);
	pthread_cond_destroy(&b->done);
	free(b->dsn);
	free(b->copy_sql);
	free(b);
}
