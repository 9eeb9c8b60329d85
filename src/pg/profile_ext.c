/*
 * profile_ext.c
 *		Module entry: settings, and the glue declared in pe_pg.h.
 */
#include "postgres.h"

#include <limits.h>

#include "access/detoast.h"
#include "access/xact.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#define ZSTD_STATIC_LINKING_ONLY	/* ZSTD_createDCtx_advanced */
#include <zstd.h>

#include "pe_codec.h"
#include "pe_input.h"
#include "pe_pg.h"
#include "pe_pprof.h"

PE_MODULE_MAGIC;

int			pe_guc_max_decoded_size_kb = (int) (PE_DEFAULT_MAX_DECODED_BYTES / 1024);
int			pe_guc_max_stack_depth = PE_DEFAULT_MAX_STACK_DEPTH;
int			pe_guc_max_nodes = PE_DEFAULT_MAX_NODES;
int			pe_guc_compression_level = 6;

void		_PG_init(void);
static void forget_xact_cctx(XactEvent event, void *arg);

void
_PG_init(void)
{
	DefineCustomIntVariable("profile_ext.max_decoded_size",
							"Largest decompressed size of one input profile.",
							"Stops gzip and zstd bombs early.  Applies to pprof input and stored values.",
							&pe_guc_max_decoded_size_kb,
							(int) (PE_DEFAULT_MAX_DECODED_BYTES / 1024), 64, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomIntVariable("profile_ext.max_stack_depth",
							"Most frames in one sample of an input profile.",
							NULL,
							&pe_guc_max_stack_depth,
							PE_DEFAULT_MAX_STACK_DEPTH, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("profile_ext.max_nodes",
							"Most nodes in one call tree, including aggregate states.",
							"Bounds the memory one merge can take.",
							&pe_guc_max_nodes,
							PE_DEFAULT_MAX_NODES, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("profile_ext.compression_level",
							"zstd level used when storing profiles.",
							"Higher levels store smaller values and ingest more slowly.",
							&pe_guc_compression_level,
							6, 1, 19,
							PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("profile_ext");
	RegisterXactCallback(forget_xact_cctx, NULL);
}

static void *
pg_alloc(void *arg, size_t size)
{
	return MemoryContextAllocHuge((MemoryContext) arg, size ? size : 1);
}

static void *
pg_realloc(void *arg, void *ptr, size_t size)
{
	return repalloc_huge(ptr, size ? size : 1);
}

static void
pg_free(void *arg, void *ptr)
{
	pfree(ptr);
}

/*
 * zstd's allocator for the backend's zstd contexts: memory of the
 * backend's lifetime, NULL (never an ERROR) when out of memory, since an
 * ERROR must not unwind through zstd.
 */
static void *
zstd_backend_alloc(void *opaque, size_t size)
{
	return MemoryContextAllocExtended(TopMemoryContext, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
zstd_backend_free(void *opaque, void *ptr)
{
	if (ptr)
		pfree(ptr);
}

/* One decompression context per backend, reused by every decode. */
static void *
backend_zstd_dctx(void)
{
	static ZSTD_DCtx *dctx;

	if (dctx == NULL)
	{
		ZSTD_customMem mem = {zstd_backend_alloc, zstd_backend_free, NULL};

		dctx = ZSTD_createDCtx_advanced(mem);
	}
	return dctx;
}

/*
 * zstd's allocator for the transaction's compression context: its workspace
 * (megabytes with the format's dictionary) goes with the transaction instead
 * of staying with the backend; NULL, never an ERROR, when out of memory.
 */
static void *
zstd_xact_alloc(void *opaque, size_t size)
{
	return MemoryContextAllocExtended(TopTransactionContext, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static ZSTD_CCtx *xact_cctx;

/* Its memory is TopTransactionContext's: forget it when the transaction ends. */
static void
forget_xact_cctx(XactEvent event, void *arg)
{
	xact_cctx = NULL;
}

/*
 * One compression context per transaction, reused by every encode in it: a
 * COPY of many rows sets it up once (the core resets it before each use).
 */
static void *
xact_zstd_cctx(void)
{
	if (xact_cctx == NULL && IsTransactionState())
	{
		ZSTD_customMem mem = {zstd_xact_alloc, zstd_backend_free, NULL};

		xact_cctx = ZSTD_createCCtx_advanced(mem);
	}
	return xact_cctx;
}

static void
pg_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

void
pe_pg_ctx_init(PeCtx *ctx, MemoryContext mcxt)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->alloc.alloc = pg_alloc;
	ctx->alloc.realloc = pg_realloc;
	ctx->alloc.free = pg_free;
	ctx->alloc.arg = mcxt;
	ctx->limits.max_decoded_bytes = (size_t) pe_guc_max_decoded_size_kb * 1024;
	ctx->limits.max_stack_depth = (uint32) pe_guc_max_stack_depth;
	ctx->limits.max_nodes = (uint32) pe_guc_max_nodes;
	ctx->check_interrupts = pg_check_interrupts;
	ctx->zstd_dctx = backend_zstd_dctx();
	ctx->get_zstd_cctx = xact_zstd_cctx;
}

static int
pe_sqlstate(PeErrCode code)
{
	switch (code)
	{
		case PE_ERR_PPROF:
			return ERRCODE_INVALID_BINARY_REPRESENTATION;
		case PE_ERR_CORRUPT:
			return ERRCODE_DATA_CORRUPTED;
		case PE_ERR_TEXT:
			return ERRCODE_INVALID_TEXT_REPRESENTATION;
		case PE_ERR_LIMIT:
		case PE_ERR_LIMIT_SIZE:
		case PE_ERR_LIMIT_DEPTH:
		case PE_ERR_LIMIT_NODES:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case PE_ERR_OVERFLOW:
			return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
		case PE_ERR_INCOMPATIBLE:
			return ERRCODE_DATATYPE_MISMATCH;
		case PE_ERR_ARG:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case PE_ERR_NOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		case PE_ERR_UNSUPPORTED:
			return ERRCODE_FEATURE_NOT_SUPPORTED;
		case PE_OK:
			break;
	}
	return ERRCODE_INTERNAL_ERROR;
}

/* The advice for an error: the core's own, else the setting to change. */
static const char *
pe_hint(const PeError *err)
{
	if (err->hint[0])
		return err->hint;
	switch (err->code)
	{
		case PE_ERR_LIMIT_SIZE:
			return "Raise profile_ext.max_decoded_size to allow larger profiles.";
		case PE_ERR_LIMIT_DEPTH:
			return "Raise profile_ext.max_stack_depth, or truncate the stacks.";
		case PE_ERR_LIMIT_NODES:
			return "Raise profile_ext.max_nodes, or filter or truncate the profiles first.";
		case PE_ERR_UNSUPPORTED:
			return "The value was written by a newer profile_ext; install that version to read it.";
		default:
			return NULL;
	}
}

/* The fields of an ereport or errsave for ctx->err. */
#define PE_ERROR_FIELDS(err) \
	errcode(pe_sqlstate((err)->code)), \
	errmsg("%s", (err)->msg[0] ? (err)->msg : "profile operation failed"), \
	(err)->detail[0] ? errdetail("%s", (err)->detail) : 0, \
	pe_hint(err) ? errhint("%s", pe_hint(err)) : 0

void
pe_pg_raise(PeCtx *ctx)
{
	ereport(ERROR, (PE_ERROR_FIELDS(&ctx->err)));
	pg_unreachable();
}

void
pe_pg_raise_soft(PeCtx *ctx, Node *escontext)
{
	errsave(escontext, (PE_ERROR_FIELDS(&ctx->err)));
}

PeTree *
pe_pg_getarg_profile(FunctionCallInfo fcinfo, int n, bytea **stored)
{
	bytea	   *v;
	PeCtx	   *ctx;
	PeTree	   *t;

	Assert(!PG_ARGISNULL(n));
	v = (bytea *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n));
	ctx = palloc(sizeof(PeCtx));
	t = palloc(sizeof(PeTree));
	pe_pg_ctx_init(ctx, CurrentMemoryContext);
	if (!pe_decode(ctx, (const uint8_t *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), t))
		pe_pg_raise(ctx);
	if (stored)
		*stored = v;
	return t;
}

void
pe_pg_diff_sides(FunctionCallInfo fcinfo, PeTree *sides[2])
{
	for (int i = 0; i < 2; i++)
		sides[i] = PG_ARGISNULL(i) ? NULL : PG_GETARG_PROFILE(i);
	for (int i = 0; i < 2; i++)
		if (sides[i] == NULL)
		{
			PeTree	   *other = sides[1 - i];

			sides[i] = palloc(sizeof(PeTree));
			if (!pe_tree_init(other->ctx, sides[i], &other->meta))
				pe_pg_raise(other->ctx);
		}
	if (!pe_meta_compatible(sides[0]->ctx, &sides[0]->meta, &sides[1]->meta))
		pe_pg_raise(sides[0]->ctx);
}

/* Raise when len bytes do not fit in one value. */
static void
check_varlena_len(size_t len, const char *what)
{
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s too large (%zu bytes)", what, len),
				 errdetail("A value holds at most %zu bytes.", (size_t) (MaxAllocSize - VARHDRSZ)),
				 errhint("Lower profile_ext.max_nodes to keep merged trees smaller.")));
}

bytea *
pe_pg_varlena(void *buf, size_t len, const char *what)
{
	check_varlena_len(len, what);
	SET_VARSIZE(buf, len + VARHDRSZ);
	return (bytea *) buf;
}

bytea *
pe_pg_varlena_copy(const void *data, size_t len, const char *what)
{
	char	   *buf;

	check_varlena_len(len, what);
	buf = palloc(len + VARHDRSZ);
	memcpy(buf + VARHDRSZ, data, len);
	return pe_pg_varlena(buf, len, what);
}

/*
 * First bytes fetched for a summary: a version 2 header and summary are
 * usually smaller (about 100 bytes for two sample types); a longer one
 * costs a second, exact fetch.
 */
#define SUMMARY_FIRST_FETCH 256

void
pe_pg_summary(PeCtx *ctx, Datum d, PeSummary *s)
{
	Size		len = toast_raw_datum_size(d) - VARHDRSZ;
	struct varlena *v;
	size_t		have;
	size_t		need;

	v = PG_DETOAST_DATUM_SLICE(d, 0, (int32) Min(len, SUMMARY_FIRST_FETCH));
	have = VARSIZE_ANY_EXHDR(v);
	need = pe_summary_prefix((const uint8 *) VARDATA_ANY(v), have);
	if (need > have && need <= len)
		v = PG_DETOAST_DATUM_SLICE(d, 0, (int32) need);
	else if (need == 0 && have < len)
		v = PG_DETOAST_DATUM(d);	/* version 1: the whole value */
	if (!pe_decode_summary(ctx, (const uint8 *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), len, s))
		pe_pg_raise(ctx);
}

Datum
pe_pg_encode(const PeTree *t)
{
	uint8_t    *out;
	size_t		len;

	if (!pe_encode(t, pe_guc_compression_level, VARHDRSZ, &out, &len))
		pe_pg_raise(t->ctx);
	return PointerGetDatum(pe_pg_varlena(out, len, "profile value"));
}

/*
 * Ingest scratch memory: one block kept for the backend's lifetime and
 * reused by every value that pe_pg_from_bytes decodes.  Decoding one pprof
 * profile allocates and frees several hundred kB (protobuf-c's arena, the
 * child index, zstd's compression context); from a per-row memory context
 * those become fresh pages every row, and perf showed the page faults and
 * the zeroing of fresh memory at about 40% of binary COPY.  Allocations
 * bump through the block; what does not fit comes from the caller's
 * context, and the next value gets a block as large as this one needed
 * (up to SCRATCH_MAX_KEEP).  Nothing allocated here outlives one value:
 * results are copied out, and every use starts by resetting the block, so
 * an ERROR in the middle leaves nothing behind.
 */
#define SCRATCH_MAX_KEEP	((Size) 16 * 1024 * 1024)
#define SCRATCH_ALIGN		16

typedef struct ScratchArena
{
	char	   *block;
	Size		size;
	Size		used;
	Size		wanted;			/* what this value asked for in all */
	MemoryContext overflow;		/* where chunks that do not fit go */
} ScratchArena;

static ScratchArena scratch;

/* Every chunk starts with its size, so that realloc can copy it. */
typedef struct ScratchChunk
{
	Size		size;
	char		pad[SCRATCH_ALIGN - sizeof(Size)];
} ScratchChunk;

static bool
scratch_owns(const void *ptr)
{
	return scratch.block != NULL && (const char *) ptr >= scratch.block &&
		(const char *) ptr < scratch.block + scratch.size;
}

static void *
scratch_alloc(void *arg, size_t size)
{
	Size		need = TYPEALIGN(SCRATCH_ALIGN, sizeof(ScratchChunk) + (size ? size : 1));
	ScratchChunk *c;

	scratch.wanted += need;
	if (scratch.block && scratch.size - scratch.used >= need)
	{
		c = (ScratchChunk *) (scratch.block + scratch.used);
		scratch.used += need;
	}
	else
		c = MemoryContextAllocHuge(scratch.overflow, sizeof(ScratchChunk) + (size ? size : 1));
	c->size = size;
	return c + 1;
}

static void
scratch_free(void *arg, void *ptr)
{
	if (ptr == NULL)
		return;
	if (!scratch_owns(ptr))
		pfree((ScratchChunk *) ptr - 1);
	else
	{
		ScratchChunk *c = (ScratchChunk *) ptr - 1;
		Size		sz = TYPEALIGN(SCRATCH_ALIGN, sizeof(ScratchChunk) + (c->size ? c->size : 1));

		/* the last chunk: give its room back (stacks of scratch arrays) */
		if ((char *) c + sz == scratch.block + scratch.used)
			scratch.used -= sz;
	}
}

static void *
scratch_realloc(void *arg, void *ptr, size_t size)
{
	ScratchChunk *c = (ScratchChunk *) ptr - 1;
	void	   *fresh;

	if (ptr == NULL)
		return scratch_alloc(arg, size);
	if (scratch_owns(ptr))
	{
		Size		old = TYPEALIGN(SCRATCH_ALIGN, sizeof(ScratchChunk) + (c->size ? c->size : 1));
		Size		need = TYPEALIGN(SCRATCH_ALIGN, sizeof(ScratchChunk) + (size ? size : 1));

		/* the last chunk grows in place when the block has room */
		if ((char *) c + old == scratch.block + scratch.used &&
			scratch.size - scratch.used + old >= need)
		{
			scratch.used += need - old;
			scratch.wanted += need - old;
			c->size = size;
			return ptr;
		}
	}
	fresh = scratch_alloc(arg, size);
	memcpy(fresh, ptr, Min(c->size, size));
	scratch_free(arg, ptr);
	return fresh;
}

/* A core context on the scratch block, emptied first. */
static void
scratch_ctx_init(PeCtx *ctx)
{
	Size		want = Min(scratch.wanted, SCRATCH_MAX_KEEP);

	if (want > scratch.size)
	{
		if (scratch.block)
			pfree(scratch.block);
		scratch.block = NULL;
		scratch.size = 0;
		scratch.block = MemoryContextAllocExtended(TopMemoryContext, want,
												   MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
		if (scratch.block)
			scratch.size = want;
	}
	scratch.used = 0;
	scratch.wanted = 0;
	scratch.overflow = CurrentMemoryContext;
	pe_pg_ctx_init(ctx, CurrentMemoryContext);
	ctx->alloc.alloc = scratch_alloc;
	ctx->alloc.realloc = scratch_realloc;
	ctx->alloc.free = scratch_free;
}

Datum
pe_pg_from_bytes(const uint8 *data, size_t len, Node *escontext)
{
	PeCtx		ctx;
	PeTree		t;
	Datum		result;
	uint8_t    *out;
	size_t		outlen;
	bool		native;

	scratch_ctx_init(&ctx);
	if (!pe_input_decode(&ctx, data, len, &t, &native))
	{
		pe_pg_raise_soft(&ctx, escontext);
		return (Datum) 0;
	}
	if (native)
	{
		/* Validated; keep the bytes as given: dumps restore exactly. */
		pe_tree_free(&t);
		return PointerGetDatum(pe_pg_varlena_copy(data, len, "profile value"));
	}
	/* Encode into the scratch block, then copy the value out of it. */
	if (!pe_encode(&t, pe_guc_compression_level, 0, &out, &outlen))
		pe_pg_raise(&ctx);
	result = PointerGetDatum(pe_pg_varlena_copy(out, outlen, "profile value"));
	return result;
}

uint32
pe_pg_sample_type(const PeTree *t, text *spec)
{
	return pe_pg_sample_type_meta(t->ctx, &t->meta, spec);
}

uint32
pe_pg_sample_type_meta(PeCtx *ctx, const PeMeta *meta, text *spec)
{
	char	   *s = spec ? text_to_cstring(spec) : NULL;
	int			idx;

	/* Sample type names are UTF-8, like frame names. */
	if (s && GetDatabaseEncoding() != PG_UTF8)
		s = pg_server_to_any(s, strlen(s), PG_UTF8);
	idx = pe_meta_find_type(ctx, meta, s);

	if (idx < 0)
		pe_pg_raise(ctx);
	return (uint32) idx;
}

/* A non-NULL int argument that must not be negative. */
static int32
nonnegative_arg(FunctionCallInfo fcinfo, int argno, const char *name, const char *hint)
{
	int32		n = PG_GETARG_INT32(argno);

	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", name),
				 errhint("%s", hint)));
	return n;
}

uint32
pe_pg_max_nodes_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return 0;
	return (uint32) nonnegative_arg(fcinfo, argno, "max_nodes", "Use 0 or NULL for no truncation.");
}

int64
pe_pg_limit_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return -1;
	return nonnegative_arg(fcinfo, argno, "n", "Use NULL for all rows.");
}

char *
pe_pg_utf8_to_server(const char *s)
{
	if (GetDatabaseEncoding() == PG_UTF8)
		return (char *) s;
	return pg_any_to_server(s, strlen(s), PG_UTF8);
}

text *
pe_pg_name_text(const PeTree *t, uint32 name)
{
	uint32		len;
	const char *s = pe_strtab_get(&t->names, name, &len);

	/* Names are valid UTF-8 (the core guarantees it); convert if needed. */
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		char	   *conv = pg_any_to_server(s, len, PG_UTF8);

		return cstring_to_text(conv);
	}
	return cstring_to_text_with_len(s, len);
}
