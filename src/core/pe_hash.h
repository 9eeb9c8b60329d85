/*
 * pe_hash.h
 *		Small, fast non-cryptographic hashing for the intern and child tables.
 */
#ifndef PE_HASH_H
#define PE_HASH_H

#include <stdint.h>
#include <string.h>

static inline uint64_t
pe_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/* Hash bytes eight at a time; the length is mixed in so prefixes differ. */
static inline uint64_t
pe_hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t	h = UINT64_C(0x9e3779b97f4a7c15) ^ (len * UINT64_C(0x100000001b3));

	while (len >= 8)
	{
		uint64_t	w;

		memcpy(&w, p, 8);
		h = (h ^ w) * UINT64_C(0x2127599bf4325c37);
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	if (len)
	{
		uint64_t	w = 0;

		memcpy(&w, p, len);
		h = (h ^ w) * UINT64_C(0x2127599bf4325c37);
	}
	return pe_mix64(h);
}

static inline uint64_t
pe_hash_pair(uint32_t a, uint32_t b)
{
	return pe_mix64(((uint64_t) a << 32) | b);
}

#endif							/* PE_HASH_H */
