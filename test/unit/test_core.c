/*
 * test_core.c
 *		The core's own helpers: the error helper (message, detail, hint).
 */
#include <string.h>

#include "pe_core.h"
#include "unit.h"

static void
test_fail_parts(void)
{
	PeCtx		ctx;

	pe_ctx_init_malloc(&ctx);
	CHECK(!pe_fail(&ctx, PE_ERR_ARG, "bad %s", "thing"));
	CHECK(ctx.err.code == PE_ERR_ARG);
	CHECK(strcmp(ctx.err.msg, "bad thing") == 0);
	CHECK(ctx.err.detail[0] == '\0' && ctx.err.hint[0] == '\0');

	/* the first error wins */
	CHECK(!pe_fail(&ctx, PE_ERR_TEXT, "later\nignored"));
	CHECK(ctx.err.code == PE_ERR_ARG && strcmp(ctx.err.msg, "bad thing") == 0);

	pe_ctx_init_malloc(&ctx);
	pe_fail(&ctx, PE_ERR_CORRUPT, "value %d broken\nIt has %d bytes.", 7, 12);
	CHECK(strcmp(ctx.err.msg, "value 7 broken") == 0);
	CHECK(strcmp(ctx.err.detail, "It has 12 bytes.") == 0);
	CHECK(ctx.err.hint[0] == '\0');

	pe_ctx_init_malloc(&ctx);
	pe_fail(&ctx, PE_ERR_LIMIT, "too big\nThe document has %zu bytes.\nUse a smaller %s.",
			(size_t) 99, "width");
	CHECK(strcmp(ctx.err.msg, "too big") == 0);
	CHECK(strcmp(ctx.err.detail, "The document has 99 bytes.") == 0);
	CHECK(strcmp(ctx.err.hint, "Use a smaller width.") == 0);

	/* a newline inside an argument does not move the split */
	pe_ctx_init_malloc(&ctx);
	pe_fail(&ctx, PE_ERR_ARG, "unknown sample type \"%s\"\nThe profile has %s.",
			"a\nb", "cpu:nanoseconds");
	CHECK(strcmp(ctx.err.msg, "unknown sample type \"a\nb\"") == 0);
	CHECK(strcmp(ctx.err.detail, "The profile has cpu:nanoseconds.") == 0);

	/* an empty message part and an empty detail */
	pe_ctx_init_malloc(&ctx);
	pe_fail(&ctx, PE_ERR_ARG, "%s\n%s", "", "");
	CHECK(ctx.err.msg[0] == '\0' && ctx.err.detail[0] == '\0');

	/* a long detail is cut, never overrun */
	{
		char		big[2000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		pe_ctx_init_malloc(&ctx);
		pe_fail(&ctx, PE_ERR_ARG, "m\n%s\nhint", big);
		CHECK(strcmp(ctx.err.msg, "m") == 0);
		CHECK(strlen(ctx.err.detail) == sizeof(ctx.err.detail) - 1);
	}
}

int
main(void)
{
	RUN(test_fail_parts);
	return unit_finish("core");
}
