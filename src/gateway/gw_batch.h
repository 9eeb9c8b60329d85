/*
 * gw_batch.h
 *		The batcher: one writer thread that group-commits rows through binary
 *		COPY on one libpq connection.  Push handlers and the scraper submit
 *		rows; a submit returns once its rows are committed (or not).
 */
#ifndef GW_BATCH_H
#define GW_BATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct GwMetrics GwMetrics;
typedef struct GwBatcher GwBatcher;

typedef struct GwRow {
    int64_t     ts_unix_ns;     /* the row's ts */
    const char *labels_json;    /* a JSON object, valid UTF-8, NUL-terminated */
    const uint8_t *profile;     /* bytes profile_recv accepts (a stored value from the core) */
    size_t      profile_len;
} GwRow;

typedef enum GwSubmitResult {
    GW_SUBMIT_OK = 0,           /* committed */
    GW_SUBMIT_DB_DOWN,          /* database unreachable: caller answers 503 */
    GW_SUBMIT_QUEUE_FULL,       /* bounded queue full: 429 */
    GW_SUBMIT_SHUTDOWN,         /* draining: 503 */
    GW_SUBMIT_FAILED            /* the database refused the rows: 500 (err says why) */
} GwSubmitResult;

/* Queue the rows as one unit (all or none, one transaction) and block until the batch holding
 * them is committed or failed.  Thread-safe; the rows are copied before it returns. */
GwSubmitResult gw_batch_submit(GwBatcher *b, const GwRow *rows, size_t nrows,
                               char *err, size_t errlen);

typedef struct GwBatchOptions
{
	const char *dsn;			/* libpq connection string or URI */
	const char *table;			/* target table: (ts timestamptz, labels jsonb, profile profile) */
	size_t		queue_rows;		/* most rows waiting (beyond: GW_SUBMIT_QUEUE_FULL) */
	size_t		queue_bytes;	/* most bytes waiting */
	size_t		batch_rows;		/* most rows in one transaction */
	size_t		batch_bytes;	/* most bytes in one transaction */
	GwMetrics  *metrics;		/* may be NULL */
} GwBatchOptions;

/*
 * Start the writer thread.  The database need not be up: the writer
 * connects (and reconnects) by itself.  NULL with err filled on a bad
 * option (such as a table name that is not an identifier).
 */
GwBatcher  *gw_batch_start(const GwBatchOptions *opt, char *err, size_t errlen);

/* A snapshot of the writer, taken under its lock. */
typedef struct GwBatchState
{
	int			db_up;			/* it holds a working connection */
	size_t		queued_rows;	/* rows waiting for a transaction */
} GwBatchState;

GwBatchState gw_batch_state(GwBatcher *b);

/*
 * Drain: refuse new submits (GW_SUBMIT_SHUTDOWN), commit what is queued,
 * stop the writer and free everything.
 */
void		gw_batch_stop(GwBatcher *b);

#endif							/* GW_BATCH_H */
