/*
 * test_buf.c
 *		The growable buffer (pe_buf.h): growth, NUL termination, printf,
 *		the limit, sticky failure, both allocators.
 */
#include <stdlib.h>
#include <string.h>

#include "pe_buf.h"
#include "unit.h"

static void
test_append_and_grow(void)
{
	PeCtx		ctx;
	PeBuf		b;
	char		chunk[1000];

	pe_ctx_init_malloc(&ctx);
	memset(&b, 0, sizeof(b));
	b.ctx = &ctx;
	CHECK(pe_buf_append(&b, "", 0));
	CHECK(b.data != NULL && b.len == 0 && b.data[0] == '\0');
	memset(chunk, 'a', sizeof(chunk));
	for (int i = 0; i < 100; i++)
		CHECK(pe_buf_append(&b, chunk, sizeof(chunk)));
	CHECK(b.len == 100000 && b.cap > b.len && b.data[b.len] == '\0');
	CHECK(b.data[0] == 'a' && b.data[99999] == 'a');
	CHECK(pe_buf_puts(&b, "xyz") && b.len == 100003);
	CHECK(memcmp(b.data + 100000, "xyz", 4) == 0);
	CHECK(!b.failed && ctx.err.code == PE_OK);
	pe_buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.ctx == &ctx);
}

static void
test_printf(void)
{
	PeBuf		b = {0};			/* malloc, no ctx */
	char		big[600];

	CHECK(pe_buf_printf(&b, "%d-%s", 42, "x"));
	CHECK(b.len == 4 && strcmp((char *) b.data, "42-x") == 0);
	/* longer than the room there is: formatted a second time */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(pe_buf_printf(&b, "[%s]", big));
	CHECK(b.len == 4 + 601 && b.data[4] == '[' && b.data[b.len - 1] == ']');
	CHECK(b.data[b.len] == '\0');
	CHECK(pe_buf_printf(&b, "%s", "") && b.len == 605);
	pe_buf_free(&b);
}

static void
test_limit_sticks(void)
{
	PeCtx		ctx;
	PeBuf		b;

	pe_ctx_init_malloc(&ctx);
	memset(&b, 0, sizeof(b));
	b.ctx = &ctx;
	b.limit = 10;
	CHECK(pe_buf_append(&b, "0123456789", 10));
	CHECK(!pe_buf_append(&b, "a", 1));
	CHECK(b.failed && b.over_limit && b.len == 10);
	/* the buffer reports, the caller words the error */
	CHECK(ctx.err.code == PE_OK);
	/* later writes do nothing, even ones that would fit */
	b.len = 0;
	CHECK(!pe_buf_append(&b, "a", 1) && b.len == 0);
	CHECK(!pe_buf_printf(&b, "%d", 1));
	pe_buf_free(&b);
	CHECK(!b.failed && b.limit == 10);
	CHECK(pe_buf_printf(&b, "%s", "0123456789"));
	CHECK(!pe_buf_printf(&b, "%s", "x") && b.over_limit);
	pe_buf_free(&b);
}

static void
test_allocation_failure(void)
{
	PeCtx		ctx;
	PeBuf		b;
	char		chunk[300] = {0};

	pe_ctx_init_malloc(&ctx);
	unit_fail_allocs_after(&ctx, 1);
	memset(&b, 0, sizeof(b));
	b.ctx = &ctx;
	CHECK(pe_buf_append(&b, "abc", 3));
	CHECK(!pe_buf_append(&b, chunk, sizeof(chunk)));
	CHECK(b.failed && !b.over_limit && b.len == 3);
	CHECK(ctx.err.code == PE_ERR_NOMEM);
	CHECK(strcmp((char *) b.data, "abc") == 0);
	pe_buf_free(&b);
}

int
main(void)
{
	RUN(test_append_and_grow);
	RUN(test_printf);
	RUN(test_limit_sticks);
	RUN(test_allocation_failure);
	return unit_finish("buf");
}
