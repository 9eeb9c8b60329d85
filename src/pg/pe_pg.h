/*
 * pe_pg.h
 *		Glue between the core and PostgreSQL: contexts, errors, settings,
 *		profile arguments and results.
 */
#ifndef PE_PG_H
#define PE_PG_H

#include "pe_compat.h"

#include "pe_codec.h"
#include "pe_tree.h"

/* Settings (profile_ext.*), defined in profile_ext.c. */
extern int	pe_guc_max_decoded_size_kb;
extern int	pe_guc_max_stack_depth;
extern int	pe_guc_max_nodes;
extern int	pe_guc_compression_level;

/* A core context allocating in mcxt, with the current limits. */
extern void pe_pg_ctx_init(PeCtx *ctx, MemoryContext mcxt);

/*
 * Raise ctx->err as an ERROR: its SQLSTATE, message and detail, and a hint
 * (the core's, or the setting to change for a PE_ERR_LIMIT_* code).
 */
pg_noreturn extern void pe_pg_raise(PeCtx *ctx);

/* The same, as a soft error when escontext allows it (PostgreSQL 16+). */
extern void pe_pg_raise_soft(PeCtx *ctx, Node *escontext);

/*
 * Profile argument n as a decoded call tree, in the spirit of hstore's
 * PG_GETARG_HS: the one place where SQL functions read stored values, so
 * every stored format version is read (or upgraded) here.  The tree and
 * its own context (tree->ctx, for errors of later calls) live in
 * CurrentMemoryContext.  The argument must not be NULL.  With stored set,
 * *stored is the detoasted value as stored.  (The merge aggregate's fast
 * path reads stored bytes through pe_decode_merge, which shares the core's
 * reader of every version.)
 */
extern PeTree *pe_pg_getarg_profile(FunctionCallInfo fcinfo, int n, bytea **stored);
#define PG_GETARG_PROFILE(n) pe_pg_getarg_profile(fcinfo, (n), NULL)

/*
 * The one varlena builder: buf holds VARHDRSZ free bytes, then len bytes of
 * data (what pe_encode and pe_pprof_encode write with room = VARHDRSZ).
 * Sets the header; raises 54000 naming what when len exceeds a varlena.
 */
extern bytea *pe_pg_varlena(void *buf, size_t len, const char *what);

/* A varlena holding a copy of len bytes of data. */
extern bytea *pe_pg_varlena_copy(const void *data, size_t len, const char *what);

/*
 * The summary of a profile datum (header fields, counts, totals).  Of a
 * version 2 value only the first bytes are fetched (PG_DETOAST_DATUM_SLICE
 * reads only the first TOAST chunks of an uncompressed external value);
 * a version 1 value is fetched and decoded whole.  Raises on bad values.
 */
extern void pe_pg_summary(PeCtx *ctx, Datum d, PeSummary *s);

/* Encode t as a profile datum (compressed) palloc'd in the current context. */
extern Datum pe_pg_encode(const PeTree *t);

/* Turn input bytes (native, pprof or gzipped pprof) into a profile datum. */
extern Datum pe_pg_from_bytes(const uint8 *data, size_t len, Node *escontext);

/* Resolve a sample type argument (NULL = default) or raise. */
extern uint32 pe_pg_sample_type(const PeTree *t, text *spec);
extern uint32 pe_pg_sample_type_meta(PeCtx *ctx, const PeMeta *meta, text *spec);

/* Sample type argument n: NULL when the SQL value is NULL (the default type). */
#define PG_GETARG_SAMPLE_TYPE(n) (PG_ARGISNULL(n) ? NULL : PG_GETARG_TEXT_PP(n))

/*
 * Arguments 0 and 1 (base, target) of a diff function.  A NULL side becomes
 * an empty profile of the other side's kind; the sides must be compatible.
 * At least one side must be non-NULL.
 */
extern void pe_pg_diff_sides(FunctionCallInfo fcinfo, PeTree *sides[2]);

/* The max_nodes argument: NULL and 0 mean no truncation; negative raises. */
extern uint32 pe_pg_max_nodes_arg(FunctionCallInfo fcinfo, int argno);

/* A row-count argument n: NULL means all (-1); negative raises. */
extern int64 pe_pg_limit_arg(FunctionCallInfo fcinfo, int argno);

/* A frame name as text in the database encoding. */
extern text *pe_pg_name_text(const PeTree *t, uint32 name);

/* A string of the core (UTF-8) in the database encoding. */
extern char *pe_pg_utf8_to_server(const char *s);

#endif							/* PE_PG_H */
