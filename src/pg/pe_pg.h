/*
 * pe_pg.h
 *		Glue between the core and PostgreSQL: contexts, errors, settings,
 *		and converting between profile datums and call trees.
 */
#ifndef PE_PG_H
#define PE_PG_H

#include "postgres.h"
#include "fmgr.h"

#include "pe_codec.h"
#include "pe_tree.h"

/* Settings (profile_ext.*), defined in profile_ext.c. */
extern int	pe_guc_max_decoded_size_kb;
extern int	pe_guc_max_stack_depth;
extern int	pe_guc_max_nodes;
extern int	pe_guc_compression_level;

/* A core context allocating in mcxt, with the current limits. */
extern void pe_pg_ctx_init(PeCtx *ctx, MemoryContext mcxt);

/* Raise ctx->err as an ERROR with the matching SQLSTATE. */
extern void pe_pg_raise(PeCtx *ctx) pg_attribute_noreturn();

/* Report ctx->err softly when escontext allows it (PostgreSQL 16+). */
extern void pe_pg_raise_soft(PeCtx *ctx, Node *escontext);

/* Decode a profile datum into t; raises on corrupt values. */
extern void pe_pg_decode(PeCtx *ctx, Datum d, PeTree *t);

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
extern uint32 pe_pg_sample_type(PeCtx *ctx, const PeTree *t, text *spec);
extern uint32 pe_pg_sample_type_meta(PeCtx *ctx, const PeMeta *meta, text *spec);

/*
 * Decode arguments 0 and 1 (base, target) of a diff function.  A NULL side
 * becomes an empty profile of the other side's kind; the sides must be
 * compatible.  At least one side must be non-NULL.
 */
extern void pe_pg_diff_sides(PeCtx *ctx, FunctionCallInfo fcinfo, PeTree sides[2]);

/* The max_nodes argument: NULL and 0 mean no truncation; negative raises. */
extern uint32 pe_pg_max_nodes_arg(FunctionCallInfo fcinfo, int argno);

/* A frame name as text in the database encoding. */
extern text *pe_pg_name_text(const PeTree *t, uint32 name);

#define PG_GETARG_PROFILE_DATUM(n) PointerGetDatum(PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

#endif							/* PE_PG_H */
