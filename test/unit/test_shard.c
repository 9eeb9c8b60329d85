/*
 * test_shard.c
 *		Unit tests of the shard routing rule (pe_shard.c): the published FNV-1a
 *		test vectors pin the hash, so the rule cannot drift.
 */
#include "pe_shard.h"
#include "unit.h"

static void
test_vectors(void)
{
	/* FNV-1a 32-bit reference values */
	CHECK(pe_shard_hash("", 0) == UINT32_C(0x811c9dc5));
	CHECK(pe_shard_hash("a", 1) == UINT32_C(0xe40c292c));
	CHECK(pe_shard_hash("foobar", 6) == UINT32_C(0xbf9cf968));
}

static void
test_routing(void)
{
	uint32_t	counts[3] = {0};
	char		name[32];

	CHECK(pe_shard_of("checkout", 8, 1) == 0);
	CHECK(pe_shard_of("foobar", 6, 3) == UINT32_C(0xbf9cf968) % 3);
	/* services spread over the shards */
	for (int i = 0; i < 300; i++)
	{
		int			n = snprintf(name, sizeof name, "service-%d", i);

		counts[pe_shard_of(name, (size_t) n, 3)]++;
	}
	for (int s = 0; s < 3; s++)
		CHECK(counts[s] > 60);
}

int
main(void)
{
	RUN(test_vectors);
	RUN(test_routing);
	return unit_finish("shard");
}
