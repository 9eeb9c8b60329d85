/*
 * pe_core.h
 *		The allocator, error and limits interface of the pure C core.
 *
 * Nothing under src/core includes postgres.h.  The PostgreSQL layer passes
 * a PeCtx whose allocator is backed by a memory context and whose interrupt
 * hook is CHECK_FOR_INTERRUPTS(); unit tests and fuzz targets pass malloc.
 *
 * Every fallible core function returns false (or NULL) and fills ctx->err;
 * the caller turns that into an ERROR.  The interrupt hook may longjmp, so
 * core code keeps every allocation in the allocator (never raw malloc) and
 * calls the hook only between library calls.
 */
#ifndef PE_CORE_H
#define PE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum PeErrCode
{
	PE_OK = 0,
	PE_ERR_PPROF,				/* input is not valid pprof */
	PE_ERR_CORRUPT,				/* stored value fails validation */
	PE_ERR_TEXT,				/* malformed text input (folded stacks) */
	PE_ERR_LIMIT,				/* a fixed limit of the format was exceeded */
	PE_ERR_LIMIT_SIZE,			/* limits.max_decoded_bytes was exceeded */
	PE_ERR_LIMIT_DEPTH,			/* limits.max_stack_depth was exceeded */
	PE_ERR_LIMIT_NODES,			/* limits.max_nodes was exceeded */
	PE_ERR_OVERFLOW,			/* a value would overflow 64 bits */
	PE_ERR_INCOMPATIBLE,		/* profiles of different kinds combined */
	PE_ERR_ARG,					/* bad argument (unknown sample type, ...) */
	PE_ERR_NOMEM,				/* allocator returned NULL */
	PE_ERR_UNSUPPORTED			/* a stored format version this build cannot read */
} PeErrCode;

typedef struct PeError
{
	PeErrCode	code;
	char		msg[256];
	char		detail[512];	/* facts */
	char		hint[256];		/* advice within the core's own terms, or empty */
} PeError;

typedef struct PeAlloc
{
	void	   *(*alloc) (void *arg, size_t size);
	void	   *(*realloc) (void *arg, void *ptr, size_t size);
	void		(*free) (void *arg, void *ptr);
	void	   *arg;
} PeAlloc;

typedef struct PeLimits
{
	size_t		max_decoded_bytes;	/* decompressed input, pprof or stored */
	uint32_t	max_stack_depth;	/* frames in one sample */
	uint32_t	max_nodes;		/* nodes in one call tree */
} PeLimits;

#define PE_DEFAULT_MAX_DECODED_BYTES	((size_t) 64 * 1024 * 1024)
#define PE_DEFAULT_MAX_STACK_DEPTH		200000
#define PE_DEFAULT_MAX_NODES			10000000

typedef struct PeCtx
{
	PeAlloc		alloc;
	PeLimits	limits;
	void		(*check_interrupts) (void);	/* may be NULL; may longjmp */
	/*
	 * Optional ZSTD_DCtx owned by the caller and reused for every stored
	 * value decoded with this context (creating one per value costs more
	 * than decompressing a small body).  NULL: one per call.
	 */
	void	   *zstd_dctx;
	/*
	 * The same for compression: returns a ZSTD_CCtx owned by the caller, or
	 * NULL.  Asked only when a value is compressed, so a caller that sets it
	 * up lazily pays nothing for contexts that only read.  May be NULL.
	 */
	void	   *(*get_zstd_cctx) (void);
	PeError		err;
} PeCtx;

/* A context backed by malloc, for tests, fuzzing and tools. */
extern void pe_ctx_init_malloc(PeCtx *ctx);

/* Allocation helpers: NULL (with ctx->err set) when the allocator fails. */
extern void *pe_alloc(PeCtx *ctx, size_t size);
extern void *pe_alloc0(PeCtx *ctx, size_t size);
extern void *pe_realloc(PeCtx *ctx, void *ptr, size_t size);
extern void pe_free(PeCtx *ctx, void *ptr);
extern char *pe_strndup(PeCtx *ctx, const char *s, size_t len);

/* Grow *arr (of elem bytes each) so that it holds at least need elements. */
extern bool pe_grow(PeCtx *ctx, void **arr, uint32_t *cap, uint32_t need,
					size_t elem);

/*
 * Stable sort of n elements of size bytes with a comparator that takes a
 * context argument (qsort_r's signature differs between C libraries).  A
 * bottom-up merge sort: no recursion, O(n log n), calls the interrupt hook
 * between passes.  False only when the scratch buffer cannot be allocated.
 */
typedef int (*PeCompare) (const void *a, const void *b, void *arg);
extern bool pe_sort(PeCtx *ctx, void *base, size_t n, size_t size,
					PeCompare cmp, void *arg);

/*
 * Record an error (the first one wins); always returns false, so callers
 * write "return pe_fail(...)".  Newlines in fmt separate the message, its
 * detail (facts) and its hint (advice):
 *     pe_fail(ctx, code, "message %d\nDetail sentence %s.\nHint.", a, b);
 * The core does not name settings of the program around it (PostgreSQL,
 * the gateway): callers add that advice by code (PE_ERR_LIMIT_*).
 */
extern bool pe_fail(PeCtx *ctx, PeErrCode code, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/*
 * Long loops call pe_check_interrupts once every this many items (a power of
 * two: "if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)").
 */
#define PE_INTERRUPT_EVERY	4096

/* Any of the PE_ERR_LIMIT codes. */
static inline bool
pe_err_is_limit(PeErrCode code)
{
	return code == PE_ERR_LIMIT || code == PE_ERR_LIMIT_SIZE ||
		code == PE_ERR_LIMIT_DEPTH || code == PE_ERR_LIMIT_NODES;
}

static inline void
pe_check_interrupts(PeCtx *ctx)
{
	if (ctx->check_interrupts)
		ctx->check_interrupts();
}

/* Checked 64-bit addition: false and PE_ERR_OVERFLOW on overflow. */
static inline bool
pe_add64(PeCtx *ctx, int64_t *acc, int64_t v)
{
	if (__builtin_add_overflow(*acc, v, acc))
		return pe_fail(ctx, PE_ERR_OVERFLOW, "profile value out of range\n"
				"Adding the values overflows a 64-bit integer.");
	return true;
}

/* Value of a hex digit, or -1: for the text input of values and the gateway's JSON. */
static inline int
pe_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif							/* PE_CORE_H */
