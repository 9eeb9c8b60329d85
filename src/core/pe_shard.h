/*
 * pe_shard.h
 *		The shard routing rule, shared by the extension (profile_shard_of) and
 *		writers that go straight to a shard (the gateway): one copy, so both
 *		always agree.
 *
 * The rule is fixed forever (changing it would move every stored series):
 * FNV-1a, 32 bits, over the bytes of the routing key (the service_name
 * label; the empty string when absent), then the hash modulo the number of
 * shards.
 */
#ifndef PE_SHARD_H
#define PE_SHARD_H

#include <stddef.h>
#include <stdint.h>

/* Largest shard count accepted (a sanity bound, not a design limit). */
#define PE_SHARDS_MAX 4096

/* FNV-1a, 32 bits, of len bytes. */
extern uint32_t pe_shard_hash(const void *key, size_t len);

/* The shard (0 .. shards-1) of a routing key; shards must be 1..PE_SHARDS_MAX. */
extern uint32_t pe_shard_of(const void *key, size_t len, uint32_t shards);

#endif
