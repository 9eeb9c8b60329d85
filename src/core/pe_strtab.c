/*
 * pe_strtab.c
 *		Interned frame names (see pe_tree.h).
 *
 * Strings live back to back in one buffer, so a table of a million names
 * costs a handful of allocations.  Lookups use open addressing on a hash of
 * the bytes; slots hold id + 1 so that zero means empty.
 */
#include <string.h>

#include "pe_hash.h"
#include "pe_tree.h"

bool
pe_strtab_init(PeCtx *ctx, PeStrtab *st)
{
	memset(st, 0, sizeof(*st));
	st->ctx = ctx;
	return pe_strtab_intern(st, "", 0) == 0;
}

void
pe_strtab_free(PeStrtab *st)
{
	pe_free(st->ctx, st->off);
	pe_free(st->ctx, st->len);
	pe_free(st->ctx, st->buf);
	pe_free(st->ctx, st->slots);
	memset(st, 0, sizeof(*st));
}

static bool
strtab_rehash(PeStrtab *st, uint32_t nslots)
{
	uint32_t   *slots = pe_alloc0(st->ctx, (size_t) nslots * sizeof(uint32_t));

	if (slots == NULL)
		return false;
	for (uint32_t id = 0; id < st->n; id++)
	{
		uint64_t	h = pe_hash_bytes(st->buf + st->off[id], st->len[id]);
		uint32_t	i = (uint32_t) h & (nslots - 1);

		while (slots[i] != 0)
			i = (i + 1) & (nslots - 1);
		slots[i] = id + 1;
	}
	pe_free(st->ctx, st->slots);
	st->slots = slots;
	st->nslots = nslots;
	return true;
}

/* The slot holding s (of hash pe_hash_bytes), or the empty slot where s would go (nslots > 0). */
static uint32_t
strtab_probe(const PeStrtab *st, const char *s, size_t len, uint64_t hash)
{
	uint32_t	i = (uint32_t) hash & (st->nslots - 1);

	while (st->slots[i] != 0)
	{
		uint32_t	id = st->slots[i] - 1;

		if (st->len[id] == len && memcmp(st->buf + st->off[id], s, len) == 0)
			break;
		i = (i + 1) & (st->nslots - 1);
	}
	return i;
}

uint32_t
pe_strtab_lookup_hashed(const PeStrtab *st, const char *s, size_t len, uint64_t *hash)
{
	uint32_t	i;

	*hash = pe_hash_bytes(s, len);
	if (st->nslots == 0)
		return PE_NO_NODE;
	i = strtab_probe(st, s, len, *hash);
	return st->slots[i] != 0 ? st->slots[i] - 1 : PE_NO_NODE;
}

bool
pe_strtab_reserve(PeStrtab *st, uint32_t n)
{
	uint32_t	nslots = st->nslots ? st->nslots : 64;

	while ((uint64_t) n * 2 > nslots && nslots < (UINT32_C(1) << 31))
		nslots *= 2;
	if (nslots > st->nslots && !strtab_rehash(st, nslots))
		return false;
	if (n > st->cap)
	{
		uint32_t	cap = st->cap;

		if (!pe_grow(st->ctx, (void **) &st->off, &cap, n, sizeof(uint32_t)))
			return false;
		cap = st->cap;
		if (!pe_grow(st->ctx, (void **) &st->len, &cap, n, sizeof(uint32_t)))
			return false;
		st->cap = cap;
	}
	return true;
}

uint32_t
pe_strtab_intern(PeStrtab *st, const char *s, size_t len)
{
	return pe_strtab_intern_hashed(st, s, len, pe_hash_bytes(s, len));
}

uint32_t
pe_strtab_intern_hashed(PeStrtab *st, const char *s, size_t len, uint64_t hash)
{
	uint32_t	i;
	uint32_t	id;

	if (len > UINT32_MAX / 2)
	{
		pe_fail(st->ctx, PE_ERR_LIMIT, "frame name too long (%zu bytes)", len);
		return PE_NO_NODE;
	}
	/* Keep the load factor at most one half. */
	if (((uint64_t) (st->n + 1) * 2 > st->nslots || st->n + 1 > st->cap) &&
		!pe_strtab_reserve(st, st->n + 1))
		return PE_NO_NODE;

	i = strtab_probe(st, s, len, hash);
	if (st->slots[i] != 0)
		return st->slots[i] - 1;

	if (st->buflen + len + 1 > UINT32_MAX)
	{
		pe_fail(st->ctx, PE_ERR_LIMIT, "frame names exceed 4 GB");
		return PE_NO_NODE;
	}
	if (st->buflen + len + 1 > st->bufcap)
	{
		size_t		cap = st->bufcap ? st->bufcap * 2 : 4096;
		char	   *buf;

		while (cap < st->buflen + len + 1)
			cap *= 2;
		buf = pe_realloc(st->ctx, st->buf, cap);
		if (buf == NULL)
			return PE_NO_NODE;
		st->buf = buf;
		st->bufcap = cap;
	}
	id = st->n++;
	st->off[id] = (uint32_t) st->buflen;
	st->len[id] = (uint32_t) len;
	if (len)
		memcpy(st->buf + st->buflen, s, len);
	st->buf[st->buflen + len] = '\0';
	st->buflen += len + 1;
	st->slots[i] = id + 1;
	return id;
}

uint32_t
pe_strtab_intern_utf8(PeStrtab *st, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	char	   *fixed;
	size_t		o = 0;
	uint32_t	id;

	if (pe_utf8_valid(s, len))
		return pe_strtab_intern(st, s, len);

	/* Each bad byte becomes U+FFFD (3 bytes): at most 3x the input. */
	fixed = pe_alloc(st->ctx, len * 3 + 1);
	if (fixed == NULL)
		return PE_NO_NODE;
	for (size_t i = 0; i < len;)
	{
		int			n = pe_utf8_seq_len(p + i, len - i);

		if (n == 0)
		{
			memcpy(fixed + o, PE_UTF8_REPLACEMENT, PE_UTF8_REPLACEMENT_LEN);
			o += PE_UTF8_REPLACEMENT_LEN;
			i++;
		}
		else
		{
			memcpy(fixed + o, p + i, n);
			o += n;
			i += n;
		}
	}
	id = pe_strtab_intern(st, fixed, o);
	pe_free(st->ctx, fixed);
	return id;
}

int
pe_strtab_compare(const PeStrtab *st, uint32_t a, uint32_t b)
{
	uint32_t	la;
	uint32_t	lb;
	const char *sa = pe_strtab_get(st, a, &la);
	const char *sb = pe_strtab_get(st, b, &lb);
	int			c = memcmp(sa, sb, la < lb ? la : lb);

	if (c != 0)
		return c;
	return (la > lb) - (la < lb);
}

int
pe_strtab_compare_ids(const void *a, const void *b, void *arg)
{
	return pe_strtab_compare(arg, *(const uint32_t *) a, *(const uint32_t *) b);
}

/*
 * Sorting names: each id is paired with its first 8 bytes as a big-endian
 * integer (zero padded), which decides most comparisons without reading
 * the names; equal prefixes fall back to the bytes after them.
 */
static inline uint64_t
name_prefix(const PeStrtab *st, uint32_t id)
{
	const unsigned char *s = (const unsigned char *) st->buf + st->off[id];
	uint32_t	len = st->len[id];
	uint64_t	key = 0;

	if (len >= 8)
	{
		memcpy(&key, s, 8);
		return __builtin_bswap64(key);
	}
	for (uint32_t k = 0; k < len; k++)
		key |= (uint64_t) s[k] << (8 * (7 - k));
	return key;
}

static inline bool
name_pair_less(const PeStrtab *st, const uint64_t *a, const uint64_t *b)
{
	uint32_t	la,
				lb;
	const char *sa,
			   *sb;
	int			c;

	if (a[0] != b[0])
		return a[0] < b[0];
	sa = pe_strtab_get(st, (uint32_t) a[1], &la);
	sb = pe_strtab_get(st, (uint32_t) b[1], &lb);
	if (la < 8 || lb < 8)
		return pe_strtab_compare(st, (uint32_t) a[1], (uint32_t) b[1]) < 0;
	c = memcmp(sa + 8, sb + 8, (la < lb ? la : lb) - 8);
	return c < 0 || (c == 0 && la < lb);
}

bool
pe_strtab_sort_ids(const PeStrtab *st, uint32_t *ids, uint32_t n)
{
	PeCtx	   *ctx = st->ctx;
	const uint32_t run = 8;
	uint64_t   *src;
	uint64_t   *dst;

	if (n < 2)
		return true;
	src = pe_alloc(ctx, sizeof(uint64_t) * 4 * (size_t) n);
	if (src == NULL)
		return false;
	dst = src + 2 * (size_t) n;
	for (uint32_t i = 0; i < n; i++)
	{
		src[2 * i] = name_prefix(st, ids[i]);
		src[2 * i + 1] = ids[i];
	}
	/* insertion sort of short runs, then bottom-up merges (no recursion) */
	for (uint32_t lo = 0; lo < n; lo += run)
	{
		uint32_t	hi = lo + run < n ? lo + run : n;

		for (uint32_t i = lo + 1; i < hi; i++)
		{
			uint64_t	pair[2] = {src[2 * i], src[2 * i + 1]};
			uint32_t	j = i;

			for (; j > lo && name_pair_less(st, pair, src + 2 * (j - 1)); j--)
			{
				src[2 * j] = src[2 * (j - 1)];
				src[2 * j + 1] = src[2 * (j - 1) + 1];
			}
			src[2 * j] = pair[0];
			src[2 * j + 1] = pair[1];
		}
	}
	for (uint32_t width = run; width < n; width *= 2)
	{
		for (uint32_t lo = 0; lo < n; lo += 2 * width)
		{
			uint32_t	mid = lo + width < n ? lo + width : n;
			uint32_t	hi = lo + 2 * width < n ? lo + 2 * width : n;
			uint32_t	i = lo;
			uint32_t	j = mid;
			uint64_t   *out = dst + 2 * (size_t) lo;

			while (i < mid && j < hi)
			{
				const uint64_t *take = name_pair_less(st, src + 2 * j, src + 2 * i) ?
					src + 2 * j++ : src + 2 * i++;

				*out++ = take[0];
				*out++ = take[1];
			}
			memcpy(out, src + 2 * i, sizeof(uint64_t) * 2 * (mid - i));
			out += 2 * (mid - i);
			memcpy(out, src + 2 * j, sizeof(uint64_t) * 2 * (hi - j));
		}
		pe_check_interrupts(ctx);
		{
			uint64_t   *swap = src;

			src = dst;
			dst = swap;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		ids[i] = (uint32_t) src[2 * i + 1];
	pe_free(ctx, src < dst ? src : dst);
	return true;
}
