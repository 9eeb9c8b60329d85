/*
 * test_utf8.c
 *		The one UTF-8 decoder and encoder (pe_utf8.h) and the readers built
 *		on it: validation, repair when interning, SVG text.
 */
#include <string.h>

#include "pe_tree.h"
#include "pe_utf8.h"
#include "unit.h"

static int
decode(const char *s, size_t len, uint32_t *cp)
{
	return pe_utf8_decode((const unsigned char *) s, len, cp);
}

static void
test_decode(void)
{
	uint32_t	cp = 0;

	CHECK(decode("A", 1, &cp) == 1 && cp == 'A');
	CHECK(decode("\0", 1, &cp) == 1 && cp == 0);
	CHECK(decode("\xC3\xA9", 2, &cp) == 2 && cp == 0xE9);
	CHECK(decode("\xE2\x82\xAC", 3, &cp) == 3 && cp == 0x20AC);
	CHECK(decode("\xF0\x9F\x94\xA5", 4, &cp) == 4 && cp == 0x1F525);
	CHECK(decode("\xF4\x8F\xBF\xBF", 4, &cp) == 4 && cp == 0x10FFFF);
	/*
	 * Truncated, bad or lone continuation bytes, overlong forms,
	 * surrogates, past U+10FFFF, bytes that never start a sequence.
	 */
	{
		static const struct
		{
			const char *s;
			size_t		len;
		}			bad[] = {
			{"\xE2\x82", 2}, {"\xE2\x82\xAC", 2}, {"\xC3(", 2}, {"\x80", 1},
			{"\xC0\xAF", 2}, {"\xC1\xBF", 2}, {"\xE0\x80\xAF", 3},
			{"\xF0\x80\x80\xAF", 4}, {"\xED\xA0\x80", 3}, {"\xED\xBF\xBF", 3},
			{"\xF4\x90\x80\x80", 4}, {"\xF5\x80\x80\x80", 4}, {"\xFF", 1},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK(decode(bad[i].s, bad[i].len, &cp) == 0);
	}
	/* the sequence length refuses NUL */
	CHECK(pe_utf8_seq_len((const unsigned char *) "\0", 1) == 0);
	CHECK(pe_utf8_seq_len((const unsigned char *) "\xC3\xA9", 2) == 2);
}

static void
test_valid(void)
{
	CHECK(pe_utf8_valid("", 0));
	CHECK(pe_utf8_valid("plain ascii, longer than eight bytes", 36));
	CHECK(pe_utf8_valid("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\xA5", 14));
	/* NUL anywhere, also inside the eight-byte fast path */
	CHECK(!pe_utf8_valid("abc\0efghijk", 11));
	CHECK(!pe_utf8_valid("abcdefghij\0", 11));
	CHECK(!pe_utf8_valid("abcdefgh\xC3", 9));
	CHECK(!pe_utf8_valid("abcdefgh\xED\xA0\x80", 11));
}

static void
test_encode_round_trip(void)
{
	static const uint32_t cps[] = {0, 0x41, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFD,
	0xFFFF, 0x10000, 0x1F525, 0x10FFFF};

	for (size_t i = 0; i < sizeof(cps) / sizeof(cps[0]); i++)
	{
		char		out[4];
		uint32_t	back = UINT32_MAX;
		int			n = pe_utf8_encode(cps[i], out);

		CHECK(n == (cps[i] < 0x80 ? 1 : cps[i] < 0x800 ? 2 : cps[i] < 0x10000 ? 3 : 4));
		CHECK(decode(out, n, &back) == n && back == cps[i]);
	}
}

static void
test_intern_repairs(void)
{
	PeCtx		ctx;
	PeStrtab	st;
	uint32_t	id;
	uint32_t	len;
	const char *s;

	pe_ctx_init_malloc(&ctx);
	CHECK_OK(&ctx, pe_strtab_init(&ctx, &st));
	id = pe_strtab_intern_utf8(&st, "a\xFF" "b\0c\xC3\xA9", 7);
	s = pe_strtab_get(&st, id, &len);
	CHECK(len == 11);
	CHECK(memcmp(s, "a" PE_UTF8_REPLACEMENT "b" PE_UTF8_REPLACEMENT "c\xC3\xA9", 11) == 0);
	CHECK(pe_utf8_valid(s, len));
	pe_strtab_free(&st);
}

int
main(void)
{
	RUN(test_decode);
	RUN(test_valid);
	RUN(test_encode_round_trip);
	RUN(test_intern_repairs);
	return unit_finish("utf8");
}
