/*
 * pe_shard.c
 *		The shard routing rule (see pe_shard.h).
 */
#include "pe_shard.h"

uint32_t
pe_shard_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint32_t	h = UINT32_C(2166136261);

	for (size_t i = 0; i < len; i++)
	{
		h ^= p[i];
		h *= UINT32_C(16777619);
	}
	return h;
}

uint32_t
pe_shard_of(const void *key, size_t len, uint32_t shards)
{
	return pe_shard_hash(key, len) % shards;
}
