/*
 * fuzz_common.h
 *		Shared helpers of the libFuzzer targets: a malloc context with
 *		limits low enough that no input can exhaust the fuzzer's memory, a
 *		checked abort, and structural checks of a call tree.
 *
 * A core function that returns false is fine (that is how malformed input
 * is refused) as long as it recorded an error; a crash, a leak, undefined
 * behaviour or a broken invariant is a finding, reported through abort()
 * so that libFuzzer saves the input.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pe_core.h"
#include "pe_tree.h"

/* Limits of every fuzz context: small enough for -rss_limit_mb=2048. */
#define FUZZ_MAX_DECODED_BYTES	((size_t) 64 * 1024 * 1024)
#define FUZZ_MAX_NODES			1000000
#define FUZZ_MAX_STACK_DEPTH	100000

/* Report a broken invariant with the context's last error and abort. */
#define FUZZ_ASSERT(ctx, cond) \
	do { \
		if (!(cond)) \
			fuzz_die((ctx), __FILE__, __LINE__, #cond); \
	} while (0)

static inline void
fuzz_die(const PeCtx *ctx, const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
	if (ctx && ctx->err.code != PE_OK)
		fprintf(stderr, "  last error %d: %s (%s)\n", (int) ctx->err.code,
				ctx->err.msg, ctx->err.detail);
	abort();
}

static inline void
fuzz_ctx_init(PeCtx *ctx)
{
	pe_ctx_init_malloc(ctx);
	ctx->limits.max_decoded_bytes = FUZZ_MAX_DECODED_BYTES;
	ctx->limits.max_nodes = FUZZ_MAX_NODES;
	ctx->limits.max_stack_depth = FUZZ_MAX_STACK_DEPTH;
}

/* Forget a recorded error so that the next call can record its own. */
static inline void
fuzz_clear_error(PeCtx *ctx)
{
	memset(&ctx->err, 0, sizeof(ctx->err));
}

/* A failing call must have said why: a code and a message. */
static inline void
fuzz_check_failure(PeCtx *ctx, const char *file, int line)
{
	if (ctx->err.code == PE_OK || ctx->err.msg[0] == '\0')
		fuzz_die(ctx, file, line, "function failed without recording an error");
}
#define FUZZ_FAILED(ctx) fuzz_check_failure((ctx), __FILE__, __LINE__)

/* The invariants of pe_tree.h: a root, parents before children, names in range. */
static inline void
fuzz_check_tree(PeCtx *ctx, const PeTree *t)
{
	FUZZ_ASSERT(ctx, t->nnodes >= 1 && t->nnodes <= t->cap);
	FUZZ_ASSERT(ctx, t->parent[0] == PE_NO_NODE && t->name[0] == 0);
	/* 0 sample types: a pprof profile without samples (cannot be stored) */
	FUZZ_ASSERT(ctx, t->meta.nvalues <= PE_MAX_VALUES);
	FUZZ_ASSERT(ctx, t->meta.default_type >= -1 &&
				t->meta.default_type < (int32_t) t->meta.nvalues);
	FUZZ_ASSERT(ctx, t->names.n >= 1);
	for (uint32_t i = 1; i < t->nnodes; i++)
	{
		FUZZ_ASSERT(ctx, t->parent[i] < i);
		FUZZ_ASSERT(ctx, t->name[i] < t->names.n);
	}
	for (uint32_t s = 0; s < t->names.n; s++)
	{
		uint32_t	len;
		const char *str = pe_strtab_get(&t->names, s, &len);

		FUZZ_ASSERT(ctx, pe_utf8_valid(str, len) && memchr(str, 0, len) == NULL);
	}
}

/* Two byte buffers are equal. */
static inline bool
fuzz_same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

#endif							/* FUZZ_COMMON_H */
