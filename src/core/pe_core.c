/*
 * pe_core.c
 *		Allocation and error helpers of the core (see pe_core.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pe_core.h"

static void *
malloc_alloc(void *arg, size_t size)
{
	return malloc(size ? size : 1);
}

static void *
malloc_realloc(void *arg, void *ptr, size_t size)
{
	return realloc(ptr, size ? size : 1);
}

static void
malloc_free(void *arg, void *ptr)
{
	free(ptr);
}

void
pe_ctx_init_malloc(PeCtx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->alloc.alloc = malloc_alloc;
	ctx->alloc.realloc = malloc_realloc;
	ctx->alloc.free = malloc_free;
	ctx->limits.max_decoded_bytes = PE_DEFAULT_MAX_DECODED_BYTES;
	ctx->limits.max_stack_depth = PE_DEFAULT_MAX_STACK_DEPTH;
	ctx->limits.max_nodes = PE_DEFAULT_MAX_NODES;
}

bool
pe_fail(PeCtx *ctx, PeErrCode code, const char *fmt,...)
{
	char	   *parts[3] = {ctx->err.msg, ctx->err.detail, ctx->err.hint};
	size_t		sizes[3] = {sizeof(ctx->err.msg), sizeof(ctx->err.detail), sizeof(ctx->err.hint)};
	char		whole[sizeof(ctx->err.msg) + sizeof(ctx->err.detail) + sizeof(ctx->err.hint)];
	char		prefix[sizeof(whole)];
	size_t		start = 0;
	const char *nl = fmt;
	va_list		ap;

	/* Keep the first error: later ones are usually consequences. */
	if (ctx->err.code != PE_OK)
		return false;
	ctx->err.code = code;
	va_start(ap, fmt);
	vsnprintf(whole, sizeof(whole), fmt, ap);
	va_end(ap);

	/*
	 * Split at the newlines of fmt, not of the result: each part ends where
	 * the formatted prefix of fmt up to its newline ends (that prefix uses a
	 * prefix of the arguments), so a newline inside an argument stays put.
	 */
	for (int i = 0; i < 3; i++)
	{
		size_t		end = strlen(whole);

		nl = nl ? strchr(nl, '\n') : NULL;
		if (i < 2 && nl && (size_t) (nl - fmt) < sizeof(prefix))
		{
			int			n;

			memcpy(prefix, fmt, nl - fmt);
			prefix[nl - fmt] = '\0';
			va_start(ap, fmt);
			n = vsnprintf(NULL, 0, prefix, ap);
			va_end(ap);
			if (n >= 0 && (size_t) n >= start && (size_t) n < end)
				end = (size_t) n;
			nl++;
		}
		else
			nl = NULL;
		snprintf(parts[i], sizes[i], "%.*s", (int) (end > start ? end - start : 0),
				 whole + start);
		start = end < strlen(whole) ? end + 1 : end;
	}
	return false;
}

void *
pe_alloc(PeCtx *ctx, size_t size)
{
	void	   *p = ctx->alloc.alloc(ctx->alloc.arg, size);

	if (p == NULL)
		pe_fail(ctx, PE_ERR_NOMEM, "out of memory allocating %zu bytes", size);
	return p;
}

void *
pe_alloc0(PeCtx *ctx, size_t size)
{
	void	   *p = pe_alloc(ctx, size);

	if (p)
		memset(p, 0, size);
	return p;
}

void *
pe_realloc(PeCtx *ctx, void *ptr, size_t size)
{
	void	   *p;

	if (ptr == NULL)
		return pe_alloc(ctx, size);
	p = ctx->alloc.realloc(ctx->alloc.arg, ptr, size);
	if (p == NULL)
		pe_fail(ctx, PE_ERR_NOMEM, "out of memory allocating %zu bytes", size);
	return p;
}

void
pe_free(PeCtx *ctx, void *ptr)
{
	if (ptr)
		ctx->alloc.free(ctx->alloc.arg, ptr);
}

char *
pe_strndup(PeCtx *ctx, const char *s, size_t len)
{
	char	   *p = pe_alloc(ctx, len + 1);

	if (p)
	{
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

bool
pe_grow(PeCtx *ctx, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
	uint64_t	newcap;
	void	   *p;

	if (need <= *cap)
		return true;
	newcap = *cap ? (uint64_t) *cap * 2 : 16;
	while (newcap < need)
		newcap *= 2;
	if (newcap > UINT32_MAX - 1)
		newcap = UINT32_MAX - 1;
	if (newcap < need)
		return pe_fail(ctx, PE_ERR_LIMIT, "too many elements (%u)", need);
	p = pe_realloc(ctx, *arr, (size_t) newcap * elem);
	if (p == NULL)
		return false;
	*arr = p;
	*cap = (uint32_t) newcap;
	return true;
}

bool
pe_sort(PeCtx *ctx, void *base, size_t n, size_t size, PeCompare cmp, void *arg)
{
	char	   *src = base;
	char	   *dst;
	char	   *tmp;

	if (n < 2)
		return true;
	tmp = pe_alloc(ctx, n * size);
	if (tmp == NULL)
		return false;
	dst = tmp;
	for (size_t width = 1; width < n; width *= 2)
	{
		for (size_t lo = 0; lo < n; lo += 2 * width)
		{
			size_t		mid = lo + width < n ? lo + width : n;
			size_t		hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t		i = lo;
			size_t		j = mid;
			char	   *out = dst + lo * size;

			/* Take from the right run only when strictly smaller: stable. */
			while (i < mid && j < hi)
			{
				if (cmp(src + j * size, src + i * size, arg) < 0)
					memcpy(out, src + j++ * size, size);
				else
					memcpy(out, src + i++ * size, size);
				out += size;
			}
			memcpy(out, src + i * size, (mid - i) * size);
			out += (mid - i) * size;
			memcpy(out, src + j * size, (hi - j) * size);
		}
		pe_check_interrupts(ctx);
		{
			char	   *swap = src;

			src = dst;
			dst = swap;
		}
	}
	if (src != base)
		memcpy(base, src, n * size);
	pe_free(ctx, tmp);
	return true;
}
