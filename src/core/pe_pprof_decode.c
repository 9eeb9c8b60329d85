/*
 * pe_pprof_decode.c
 *		pprof (profile.proto, gzipped or plain) into a call tree.
 *
 * A wire reader (below) takes the fields the decoder uses straight from
 * the message into an arena taken from the PeCtx allocator, so reading
 * costs a few large allocations, and the arena is released in one sweep.
 * The profile is then validated the way pprof's
 * own reader does (string indexes, unique ids, references, value counts)
 * and folded into a PeTree: each sample's frames run from root to leaf,
 * inlined lines expanded, and each location's frame names are computed
 * once, so the per-sample work is one child lookup per frame.
 *
 * Deliberate differences from pprof's reader:
 * - id 0 is accepted for functions, locations and mappings when it is
 *   unique, where pprof refuses it.  A Line whose function_id is 0 while no
 *   function has id 0 means "no function", like a location without lines.
 * - a .NET profiler writes every function with id 0 (the field left out)
 *   and one function per location, lines naming function ids equal to the
 *   location ids.  When all functions have id 0 and there are as many
 *   functions as locations, function i takes the id of location i, as
 *   Grafana Pyroscope does for these files.  Refusing real profiler output
 *   would help nobody; everything else about ids stays strict.
 * - frames without a function name are named by the location's address,
 *   "0x" followed by lowercase hex digits.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "pe_hash.h"
#include "pe_pprof.h"

/*
 * The message as the wire reader below leaves it: the fields the decoder
 * uses (field names as in profile.proto), in the arena.
 */
typedef struct PbValueType
{
	int64_t		type;
	int64_t		unit;
} PbValueType;

typedef struct PbLabel
{
	int64_t		key;
	int64_t		str;
	int64_t		num_unit;
} PbLabel;

typedef struct PbSample
{
	size_t		n_location_id;
	uint64_t   *location_id;
	size_t		n_value;
	int64_t    *value;
	size_t		n_label;
	PbLabel   **label;
} PbSample;

typedef struct PbMapping
{
	uint64_t	id;
	int64_t		filename;
	int64_t		build_id;
} PbMapping;

typedef struct PbLine
{
	uint64_t	function_id;
} PbLine;

typedef struct PbLocation
{
	uint64_t	id;
	uint64_t	address;
	size_t		n_line;
	PbLine	  **line;
} PbLocation;

typedef struct PbFunction
{
	uint64_t	id;
	int64_t		name;
	int64_t		system_name;
	int64_t		filename;
} PbFunction;

typedef struct PbProfile
{
	size_t		n_sample_type;
	PbValueType **sample_type;
	size_t		n_sample;
	PbSample  **sample;
	size_t		n_mapping;
	PbMapping **mapping;
	size_t		n_location;
	PbLocation **location;
	size_t		n_function;
	PbFunction **function;
	size_t		n_string_table;
	const char **string_table;	/* into the message: not NUL-terminated */
	size_t	   *string_len;
	int64_t		drop_frames;
	int64_t		keep_frames;
	int64_t		time_nanos;
	int64_t		duration_nanos;
	PbValueType *period_type;	/* NULL when absent */
	int64_t		period;
	size_t		n_comment;
	int64_t    *comment;
	int64_t		default_sample_type;
} PbProfile;

#define ARENA_MIN_BLOCK		((size_t) 64 * 1024)
#define ARENA_MAX_BLOCK		((size_t) 64 * 1024 * 1024)
#define ARENA_ALIGN			((size_t) 8)
/*
 * Memory budget of one decode.  Unpacked, real profiles take 6 to 9 times
 * their wire size (up to 13 for tiny ones), but a message of nothing but
 * empty samples takes 40 times: 256 MB of them would need 10 GB.  The
 * arena may take ARENA_BUDGET_FACTOR times the message size, at least
 * ARENA_BUDGET_MIN.
 */
#define ARENA_BUDGET_FACTOR	16
#define ARENA_BUDGET_MIN	((size_t) 64 * 1024 * 1024)
#define INTERRUPT_SAMPLES	1024
#define INTERRUPT_ITEMS		4096
#define NOT_EXPANDED		UINT32_MAX
#define NO_INDEX			UINT32_MAX

/* ---------------------------------------------------------------------
 * Arena: bump allocation in blocks taken from the PeCtx allocator.
 * --------------------------------------------------------------------- */

typedef struct ArenaBlock
{
	struct ArenaBlock *next;
} ArenaBlock;

#define ARENA_HEADER	((sizeof(ArenaBlock) + 15) & ~(size_t) 15)

typedef struct Arena
{
	PeCtx	   *ctx;
	ArenaBlock *blocks;
	char	   *cur;
	char	   *end;
	size_t		next_size;		/* size of the next shared block */
	size_t		used;			/* bytes taken from the allocator */
	size_t		budget;			/* most bytes it may take */
	size_t		wire_len;		/* size of the message, for errors */
} Arena;

/* An arena for decoding a message of wire_len bytes. */
static void
arena_init(Arena *a, PeCtx *ctx, size_t wire_len)
{
	size_t		hint = wire_len < ARENA_MAX_BLOCK / 4 ? wire_len * 4 : ARENA_MAX_BLOCK;

	memset(a, 0, sizeof(*a));
	a->ctx = ctx;
	a->next_size = hint < ARENA_MIN_BLOCK ? ARENA_MIN_BLOCK : hint;
	a->wire_len = wire_len;
	a->budget = wire_len > SIZE_MAX / ARENA_BUDGET_FACTOR ? SIZE_MAX :
		wire_len * ARENA_BUDGET_FACTOR;
	if (a->budget < ARENA_BUDGET_MIN)
		a->budget = ARENA_BUDGET_MIN;
}

/* Take a block of size usable bytes from the allocator and link it in. */
static char *
arena_new_block(Arena *a, size_t size)
{
	ArenaBlock *b;

	if (size > SIZE_MAX - ARENA_HEADER)
	{
		pe_fail(a->ctx, PE_ERR_NOMEM, "out of memory decoding pprof");
		return NULL;
	}
	if (ARENA_HEADER + size > a->budget - a->used)
	{
		pe_fail(a->ctx, PE_ERR_LIMIT, "pprof profile needs more than %zu bytes of memory to decode\n"
				"Decoding may take %d times the %zu bytes of the protobuf message (at least %zu bytes); this message holds too many tiny entries.",
				a->budget, ARENA_BUDGET_FACTOR, a->wire_len, ARENA_BUDGET_MIN);
		return NULL;
	}
	b = pe_alloc(a->ctx, ARENA_HEADER + size);
	if (b == NULL)
		return NULL;
	a->used += ARENA_HEADER + size;
	b->next = a->blocks;
	a->blocks = b;
	return (char *) b + ARENA_HEADER;
}

/* Bump allocation of size bytes (8-aligned). */
static void *
arena_alloc(Arena *a, size_t size)
{
	char	   *p;

	if (size > SIZE_MAX - ARENA_ALIGN)
	{
		pe_fail(a->ctx, PE_ERR_NOMEM, "out of memory decoding pprof");
		return NULL;
	}
	size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if ((size_t) (a->end - a->cur) >= size)
	{
		p = a->cur;
		a->cur += size;
		return p;
	}
	/* Big requests get a block of their own; the current one stays open. */
	if (size > a->next_size / 4)
		return arena_new_block(a, size);
	p = arena_new_block(a, a->next_size);
	if (p == NULL)
		return NULL;
	a->cur = p + size;
	a->end = p + a->next_size;
	if (a->next_size < ARENA_MAX_BLOCK)
		a->next_size *= 2;
	return p;
}

static void *
arena_array(Arena *a, size_t n, size_t elem)
{
	size_t		bytes;

	if (__builtin_mul_overflow(n, elem, &bytes))
	{
		pe_fail(a->ctx, PE_ERR_NOMEM, "out of memory decoding pprof");
		return NULL;
	}
	return arena_alloc(a, bytes);
}

static void
arena_release(Arena *a)
{
	while (a->blocks)
	{
		ArenaBlock *next = a->blocks->next;

		pe_free(a->ctx, a->blocks);
		a->blocks = next;
	}
	a->cur = a->end = NULL;
}

/* ---------------------------------------------------------------------
 * Id maps: uint64 id -> index, dense when the ids are, hashed otherwise.
 * --------------------------------------------------------------------- */

typedef struct IdMap
{
	uint32_t   *dense;			/* id -> index + 1, when ids are small */
	uint64_t	ndense;
	uint64_t   *keys;			/* open addressing otherwise */
	uint32_t   *vals;			/* index + 1; 0 = empty slot */
	uint64_t	mask;
} IdMap;

/* Index of id, or NO_INDEX. */
static inline uint32_t
idmap_get(const IdMap *m, uint64_t id)
{
	uint64_t	i;

	if (m->dense)
		return id < m->ndense ? m->dense[id] - 1 : NO_INDEX;
	if (m->vals == NULL)
		return NO_INDEX;
	for (i = pe_mix64(id) & m->mask; m->vals[i] != 0; i = (i + 1) & m->mask)
		if (m->keys[i] == id)
			return m->vals[i] - 1;
	return NO_INDEX;
}

/*
 * Index n messages by their id field (at the same offset in Function,
 * Location and Mapping).  A repeated id is an error naming what.
 */
static bool
idmap_build(Arena *a, IdMap *m, void *const *msgs, size_t n, size_t id_offset,
			const char *what)
{
	PeCtx	   *ctx = a->ctx;
	uint64_t	max_id = 0;

	memset(m, 0, sizeof(*m));
	if (n == 0)
		return true;
	if (n >= NO_INDEX)
		return pe_fail(ctx, PE_ERR_LIMIT, "pprof profile has too many %s entries (%zu)",
					   what, n);
	for (size_t k = 0; k < n; k++)
	{
		uint64_t	id = *(const uint64_t *) ((const char *) msgs[k] + id_offset);

		if (id > max_id)
			max_id = id;
	}

	if (max_id <= (uint64_t) n * 4 + 1024)
	{
		m->ndense = max_id + 1;
		m->dense = arena_array(a, m->ndense, sizeof(uint32_t));
		if (m->dense == NULL)
			return false;
		memset(m->dense, 0, m->ndense * sizeof(uint32_t));
	}
	else
	{
		uint64_t	nslots = 16;

		while (nslots < (uint64_t) n * 2)
			nslots *= 2;
		m->keys = arena_array(a, nslots, sizeof(uint64_t));
		m->vals = arena_array(a, nslots, sizeof(uint32_t));
		if (m->keys == NULL || m->vals == NULL)
			return false;
		memset(m->vals, 0, nslots * sizeof(uint32_t));
		m->mask = nslots - 1;
	}

	for (size_t k = 0; k < n; k++)
	{
		uint64_t	id = *(const uint64_t *) ((const char *) msgs[k] + id_offset);
		uint32_t   *slot;

		if (m->dense)
			slot = &m->dense[id];
		else
		{
			uint64_t	i = pe_mix64(id) & m->mask;

			while (m->vals[i] != 0 && m->keys[i] != id)
				i = (i + 1) & m->mask;
			m->keys[i] = id;
			slot = &m->vals[i];
		}
		if (*slot != 0)
		{
			pe_fail(ctx, PE_ERR_PPROF, "invalid pprof: duplicate %s id %" PRIu64 "\n" "Entries %u and %zu of the %s table both have id %" PRIu64 ".", what, id, *slot - 1, k, what, id);
			return false;
		}
		*slot = (uint32_t) k + 1;
	}
	return true;
}

/* ---------------------------------------------------------------------
 * The wire reader: profile.proto straight from the bytes.
 *
 * Each message is read twice: once to check its framing and count its
 * repeated fields, once to fill arrays sized from the counts.  It refuses
 * what protobuf-c's unpack refuses, so that a message is valid or not
 * whichever reads it (the gateway unpacks Push messages with protobuf-c):
 * - wire types 0 (varint), 1 (8 bytes), 2 (length-delimited) and 5 (4
 *   bytes) only, in unknown fields too;
 * - field keys of at most 5 bytes, and not a one-byte key of field 0;
 *   varints of at most 10 bytes (bits past 64 dropped); lengths of at most
 *   5 bytes, INT_MAX, and the bytes left in the enclosing message;
 * - a known field with another wire type than its type's (bool fields
 *   take any), and packed integers that end inside a varint.
 * Repeated integers may come packed or one per field, even mixed; unknown
 * fields are skipped.  A scalar given twice: the last one wins;
 * period_type given twice: merged, per protobuf's rule (the fields the
 * later one carries replace the earlier one's).
 * --------------------------------------------------------------------- */

#define WIRE_VARINT		0
#define WIRE_FIXED64	1
#define WIRE_LEN		2
#define WIRE_FIXED32	5

typedef struct WireField
{
	uint32_t	number;
	uint8_t		wire_type;
	uint64_t	value;			/* WIRE_VARINT */
	const uint8_t *data;		/* WIRE_LEN: the field's bytes */
	size_t		len;
} WireField;

/* A varint of at most 10 bytes at *pp, advancing it. */
static inline bool
wire_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	size_t		max = end - p < 10 ? (size_t) (end - p) : 10;
	uint64_t	r = 0;

	if (max > 0 && p[0] < 0x80)
	{
		*v = p[0];
		*pp = p + 1;
		return true;
	}
	for (size_t i = 0; i < max; i++)
	{
		r |= (uint64_t) (p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0)
		{
			*v = r;
			*pp = p + i + 1;
			return true;
		}
	}
	return false;
}

/* The field at *pp (before end), advancing past it; false when malformed. */
static inline __attribute__((always_inline)) bool
wire_field(const uint8_t **pp, const uint8_t *end, WireField *f)
{
	const uint8_t *p = *pp;
	uint32_t	number = (p[0] & 0x7f) >> 3;
	size_t		i;
	size_t		max;
	uint64_t	len;

	if ((p[0] & 0xf8) == 0)
		return false;
	f->wire_type = p[0] & 7;
	if (p[0] & 0x80)
	{
		max = end - p < 5 ? (size_t) (end - p) : 5;
		for (i = 1; i < max; i++)
		{
			number |= (uint32_t) (p[i] & 0x7f) << (7 * i - 3);
			if ((p[i] & 0x80) == 0)
				break;
		}
		if (i == max)
			return false;
		p += i + 1;
	}
	else
		p++;
	f->number = number;
	switch (f->wire_type)
	{
		case WIRE_VARINT:
			return wire_varint(&p, end, &f->value) && (*pp = p, true);
		case WIRE_FIXED64:
			if (end - p < 8)
				return false;
			*pp = p + 8;
			return true;
		case WIRE_FIXED32:
			if (end - p < 4)
				return false;
			*pp = p + 4;
			return true;
		case WIRE_LEN:
			if (p < end && p[0] < 0x80)
			{
				/* most lengths are one byte */
				if (p[0] > (size_t) (end - p) - 1)
					return false;
				f->data = p + 1;
				f->len = p[0];
				*pp = f->data + f->len;
				return true;
			}
			max = end - p < 5 ? (size_t) (end - p) : 5;
			len = 0;
			for (i = 0; i < max; i++)
			{
				len |= (uint64_t) (p[i] & 0x7f) << (7 * i);
				if ((p[i] & 0x80) == 0)
					break;
			}
			if (i == max || len > INT_MAX || len > (uint64_t) (end - p) - i - 1)
				return false;
			f->data = p + i + 1;
			f->len = (size_t) len;
			*pp = f->data + len;
			return true;
		default:
			return false;
	}
}

/* A singular integer field: a varint; the last one given wins. */
static inline bool
wire_int(const WireField *f, int64_t *out)
{
	if (f->wire_type != WIRE_VARINT)
		return false;
	*out = (int64_t) f->value;
	return true;
}

/* Count the values of a repeated integer field, packed or not. */
static inline bool
wire_count_ints(const WireField *f, size_t *n)
{
	if (f->wire_type == WIRE_VARINT)
	{
		(*n)++;
		return true;
	}
	if (f->wire_type != WIRE_LEN)
		return false;
	for (size_t i = 0; i < f->len; i++)
		*n += (f->data[i] & 0x80) == 0;
	return true;
}

/* Append a repeated integer field's values to out[*n], room for cap. */
static inline bool
wire_take_ints(const WireField *f, uint64_t *out, size_t *n, size_t cap)
{
	const uint8_t *p;
	const uint8_t *end;

	if (f->wire_type == WIRE_VARINT)
	{
		if (*n >= cap)
			return false;
		out[(*n)++] = f->value;
		return true;
	}
	p = f->data;
	end = f->data + f->len;
	while (p < end)
	{
		if (*n >= cap || !wire_varint(&p, end, &out[*n]))
			return false;
		(*n)++;
	}
	return true;
}

/* Room for n values of size elem (none for n == 0); NULL only on error. */
static void *
wire_array(Arena *a, size_t n, size_t elem)
{
	static uint64_t none;

	return n == 0 ? (void *) &none : arena_array(a, n, elem);
}

/*
 * n messages of size elem and the array of pointers to them; the messages
 * are zeroed (every field's default).
 */
static void **
wire_messages(Arena *a, size_t n, size_t elem)
{
	void	  **ptrs;
	char	   *msgs;

	if (n == 0)
		return wire_array(a, 0, sizeof(void *));
	ptrs = arena_array(a, n, sizeof(void *));
	msgs = arena_array(a, n, elem);
	if (ptrs == NULL || msgs == NULL)
		return NULL;
	memset(msgs, 0, n * elem);
	for (size_t i = 0; i < n; i++)
		ptrs[i] = msgs + i * elem;
	return ptrs;
}

/*
 * A message of integer fields 1 to n (any more are bools, or unknown):
 * field i goes to *into[i - 1].  Fields the decoder does not use go to a
 * scratch variable, so that their wire type is still checked.
 */
static bool
read_ints(const uint8_t *p, const uint8_t *end, int64_t *const *into, uint32_t n)
{
	WireField	f = {0};

	while (p < end)
	{
		if (!wire_field(&p, end, &f))
			return false;
		if (f.number >= 1 && f.number <= n && !wire_int(&f, into[f.number - 1]))
			return false;
	}
	return true;
}

static bool
read_value_type(const uint8_t *p, const uint8_t *end, PbValueType *vt)
{
	int64_t    *const into[] = {&vt->type, &vt->unit};

	return read_ints(p, end, into, 2);
}

static bool
read_label(const uint8_t *p, const uint8_t *end, PbLabel *l)
{
	int64_t		num;
	int64_t    *const into[] = {&l->key, &l->str, &num, &l->num_unit};

	return read_ints(p, end, into, 4);
}

static bool
read_sample(Arena *a, const uint8_t *start, const uint8_t *end, PbSample *s)
{
	const uint8_t *p = start;
	WireField	f = {0};
	size_t		nloc = 0;
	size_t		nval = 0;
	size_t		nlab = 0;

	while (p < end)
	{
		if (!wire_field(&p, end, &f))
			return false;
		if ((f.number == 1 && !wire_count_ints(&f, &nloc)) ||
			(f.number == 2 && !wire_count_ints(&f, &nval)))
			return false;
		if (f.number == 3 && f.wire_type != WIRE_LEN)
			return false;
		nlab += f.number == 3;
	}
	s->location_id = wire_array(a, nloc, sizeof(uint64_t));
	s->value = wire_array(a, nval, sizeof(int64_t));
	s->label = (PbLabel **) wire_messages(a, nlab, sizeof(PbLabel));
	if (!s->location_id || !s->value || !s->label)
		return false;
	for (p = start; p < end;)
	{
		(void) wire_field(&p, end, &f);	/* checked above */
		switch (f.number)
		{
			case 1:
				if (!wire_take_ints(&f, s->location_id, &s->n_location_id, nloc))
					return false;
				break;
			case 2:
				if (!wire_take_ints(&f, (uint64_t *) s->value, &s->n_value, nval))
					return false;
				break;
			case 3:
				if (!read_label(f.data, f.data + f.len, s->label[s->n_label++]))
					return false;
				break;
		}
	}
	return true;
}

/* Fields 7 to 10 are bools, which take any wire type. */
static bool
read_mapping(const uint8_t *p, const uint8_t *end, PbMapping *m)
{
	int64_t		unused;
	int64_t    *const into[] = {(int64_t *) &m->id, &unused, &unused, &unused,
	&m->filename, &m->build_id};

	return read_ints(p, end, into, 6);
}

static bool
read_line(const uint8_t *p, const uint8_t *end, PbLine *l)
{
	int64_t		unused;
	int64_t    *const into[] = {(int64_t *) &l->function_id, &unused, &unused};

	return read_ints(p, end, into, 3);
}

static bool
read_location(Arena *a, const uint8_t *start, const uint8_t *end, PbLocation *loc)
{
	const uint8_t *p = start;
	WireField	f = {0};
	int64_t		unused;
	size_t		nline = 0;

	while (p < end)
	{
		if (!wire_field(&p, end, &f))
			return false;
		switch (f.number)
		{
			case 1:
				if (!wire_int(&f, (int64_t *) &loc->id))
					return false;
				break;
			case 2:				/* mapping_id */
				if (!wire_int(&f, &unused))
					return false;
				break;
			case 3:
				if (!wire_int(&f, (int64_t *) &loc->address))
					return false;
				break;
			case 4:
				if (f.wire_type != WIRE_LEN)
					return false;
				nline++;
				break;
		}
		/* 5 (is_folded) is a bool */
	}
	loc->line = (PbLine **) wire_messages(a, nline, sizeof(PbLine));
	if (loc->line == NULL)
		return false;
	for (p = start; nline > 0 && p < end;)
	{
		(void) wire_field(&p, end, &f);	/* checked above */
		if (f.number == 4 && !read_line(f.data, f.data + f.len, loc->line[loc->n_line++]))
			return false;
	}
	return true;
}

static bool
read_function(const uint8_t *p, const uint8_t *end, PbFunction *fn)
{
	int64_t		unused;
	int64_t    *const into[] = {(int64_t *) &fn->id, &fn->name, &fn->system_name,
	&fn->filename, &unused};

	return read_ints(p, end, into, 5);
}

/*
 * Read a Profile message into the arena.  NULL when the bytes are not one
 * (ctx's error untouched) or memory ran out (ctx's error set).  String
 * table entries point into buf, which must outlive the result.
 */
static PbProfile *
read_profile(Arena *a, const uint8_t *buf, size_t len)
{
	const uint8_t *end = buf + len;
	const uint8_t *p;
	WireField	f = {0};
	PbProfile  *prof = arena_alloc(a, sizeof(PbProfile));
	size_t		n[14] = {0};	/* repeated fields' counts, by number - 1 */
	size_t		ncomment = 0;
	size_t		nfields = 0;
	int64_t    *scalar[15] = {0};	/* the int64 scalars by number, set in the first pass */

	if (prof == NULL)
		return NULL;
	memset(prof, 0, sizeof(*prof));
	scalar[7] = &prof->drop_frames;
	scalar[8] = &prof->keep_frames;
	scalar[9] = &prof->time_nanos;
	scalar[10] = &prof->duration_nanos;
	scalar[12] = &prof->period;
	scalar[14] = &prof->default_sample_type;
	for (p = buf; p < end;)
	{
		if (!wire_field(&p, end, &f))
			return NULL;
		switch (f.number)
		{
			case 1:				/* messages and strings */
			case 2:
			case 3:
			case 4:
			case 5:
			case 6:
			case 11:
				if (f.wire_type != WIRE_LEN)
					return NULL;
				n[f.number - 1]++;
				break;
			case 13:
				if (!wire_count_ints(&f, &ncomment))
					return NULL;
				break;
			default:
				if (f.number < 15 && scalar[f.number] && !wire_int(&f, scalar[f.number]))
					return NULL;
				break;
		}
	}
	prof->sample_type = (PbValueType **) wire_messages(a, n[0], sizeof(PbValueType));
	prof->sample = (PbSample **) wire_messages(a, n[1], sizeof(PbSample));
	prof->mapping = (PbMapping **) wire_messages(a, n[2], sizeof(PbMapping));
	prof->location = (PbLocation **) wire_messages(a, n[3], sizeof(PbLocation));
	prof->function = (PbFunction **) wire_messages(a, n[4], sizeof(PbFunction));
	prof->string_table = wire_array(a, n[5], sizeof(const char *));
	prof->string_len = wire_array(a, n[5], sizeof(size_t));
	prof->comment = wire_array(a, ncomment, sizeof(int64_t));
	if (!prof->sample_type || !prof->sample || !prof->mapping || !prof->location ||
		!prof->function || !prof->string_table || !prof->string_len || !prof->comment)
		return NULL;

	for (p = buf; p < end;)
	{
		const uint8_t *fend;

		(void) wire_field(&p, end, &f);	/* checked above */
		fend = f.wire_type == WIRE_LEN ? f.data + f.len : NULL;
		switch (f.number)
		{
			case 1:
				if (!read_value_type(f.data, fend, prof->sample_type[prof->n_sample_type++]))
					return NULL;
				break;
			case 2:
				if (!read_sample(a, f.data, fend, prof->sample[prof->n_sample++]))
					return NULL;
				break;
			case 3:
				if (!read_mapping(f.data, fend, prof->mapping[prof->n_mapping++]))
					return NULL;
				break;
			case 4:
				if (!read_location(a, f.data, fend, prof->location[prof->n_location++]))
					return NULL;
				break;
			case 5:
				if (!read_function(f.data, fend, prof->function[prof->n_function++]))
					return NULL;
				break;
			case 6:
				prof->string_table[prof->n_string_table] = (const char *) f.data;
				prof->string_len[prof->n_string_table++] = f.len;
				break;
			case 11:
				/* a later period_type merges into the earlier one */
				if (prof->period_type == NULL)
				{
					prof->period_type = arena_alloc(a, sizeof(PbValueType));
					if (prof->period_type == NULL)
						return NULL;
					memset(prof->period_type, 0, sizeof(PbValueType));
				}
				if (!read_value_type(f.data, fend, prof->period_type))
					return NULL;
				break;
			case 13:
				if (!wire_take_ints(&f, (uint64_t *) prof->comment, &prof->n_comment, ncomment))
					return NULL;
				break;
		}
		if (++nfields % INTERRUPT_ITEMS == 0)
			pe_check_interrupts(a->ctx);
	}
	return prof;
}

/* ---------------------------------------------------------------------
 * The decoder.
 * --------------------------------------------------------------------- */

typedef struct Decoder
{
	PeCtx	   *ctx;
	Arena	   *arena;
	const PbProfile *prof;
	PeTree	   *tree;

	size_t		nstr;
	const char **str;			/* prof->string_table */
	size_t	   *slen;			/* their lengths: entries may hold NULs */

	IdMap		functions;
	IdMap		locations;
	IdMap		mappings;
	bool		function_ids_from_locations;	/* the .NET repair above */
	uint32_t   *function_name;	/* name id per function, or PE_NO_NODE */

	uint32_t   *loc_first;		/* first frame of each location in frames */
	uint32_t   *loc_nframes;	/* frames of each location (inlines) */
	uint8_t    *loc_expanded;	/* frames[] filled in for this location */
	uint32_t   *frames;			/* name ids, root-most first per location */

	uint32_t   *sample_locs;	/* scratch: one sample's location indexes */
	size_t		sample_locs_cap;

	/*
	 * The stack walked last, root first: its location indexes and the node
	 * reached after each.  Consecutive samples often share their root-most
	 * locations; those are compared instead of looked up again.
	 */
	uint32_t   *walk_locs;
	uint32_t   *walk_nodes;
	size_t		walk_len;
	PeTree	   *walk_tree;		/* the tree those nodes are in */

	/* Split by string sample labels (pe_pprof_decode_split), else NULL. */
	const PeSplitOptions *split_opt;
	PeSplit    *split;
	PeStrtab	group_keys;		/* serialized label sets; id = series index */
	uint32_t	series_cap;
	char	   *keybuf;			/* scratch for one serialized label set */
	size_t		keybuf_cap;
	size_t		series_bytes;	/* label bytes the series copied, in the arena's budget */
	uint32_t   *pairs;			/* scratch: label indexes of one sample */
	size_t		pairs_cap;
} Decoder;

static inline bool
string_ok(const Decoder *d, int64_t idx)
{
	return idx >= 0 && (uint64_t) idx < d->nstr;
}

/* Report a string index outside the table; fmt names the referrer. */
static bool __attribute__((format(printf, 3, 4)))
string_error(const Decoder *d, int64_t idx, const char *fmt,...)
{
	char		where[160];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	pe_fail(d->ctx, PE_ERR_PPROF, "invalid pprof: %s refers to string %" PRId64 ", outside the string table\n"
			"The string table has %zu entries.", where, idx, d->nstr);
	return false;
}

/* Check that the string table's entry 0 is there and empty. */
static bool
load_strings(Decoder *d)
{
	const PbProfile *prof = d->prof;

	d->nstr = prof->n_string_table;
	if (d->nstr == 0)
	{
		pe_fail(d->ctx, PE_ERR_PPROF, "invalid pprof: string table is empty\n"
				"profile.proto requires a string table whose first entry is the empty string.");
		return false;
	}
	d->str = prof->string_table;
	d->slen = prof->string_len;
	if (d->slen[0] != 0)
	{
		pe_fail(d->ctx, PE_ERR_PPROF, "invalid pprof: string_table[0] is not empty\n"
				"profile.proto requires the first entry of the string table to be the empty string.");
		return false;
	}
	return true;
}

/* Check the header's string references and the duration. */
static bool
check_header(Decoder *d)
{
	const PbProfile *prof = d->prof;

	for (size_t i = 0; i < prof->n_sample_type; i++)
	{
		if (!string_ok(d, prof->sample_type[i]->type))
			return string_error(d, prof->sample_type[i]->type, "sample type %zu", i);
		if (!string_ok(d, prof->sample_type[i]->unit))
			return string_error(d, prof->sample_type[i]->unit, "unit of sample type %zu", i);
	}
	if (prof->period_type)
	{
		if (!string_ok(d, prof->period_type->type))
			return string_error(d, prof->period_type->type, "period type");
		if (!string_ok(d, prof->period_type->unit))
			return string_error(d, prof->period_type->unit, "period unit");
	}
	if (!string_ok(d, prof->default_sample_type))
		return string_error(d, prof->default_sample_type, "default_sample_type");
	if (!string_ok(d, prof->drop_frames))
		return string_error(d, prof->drop_frames, "drop_frames");
	if (!string_ok(d, prof->keep_frames))
		return string_error(d, prof->keep_frames, "keep_frames");
	for (size_t i = 0; i < prof->n_comment; i++)
		if (!string_ok(d, prof->comment[i]))
			return string_error(d, prof->comment[i], "comment %zu", i);

	if (prof->duration_nanos < 0)
	{
		pe_fail(d->ctx, PE_ERR_PPROF, "invalid pprof: negative duration_nanos %" PRId64 "\n"
				"A profile's duration cannot be negative.", prof->duration_nanos);
		return false;
	}
	if (prof->n_sample_type > PE_MAX_VALUES)
	{
		pe_fail(d->ctx, PE_ERR_LIMIT, "pprof profile has %zu sample types, more than %d\n"
				"At most %d sample types are supported.",
				prof->n_sample_type, PE_MAX_VALUES, PE_MAX_VALUES);
		return false;
	}
	/*
	 * Without sample types a profile says nothing, and a stored value
	 * needs at least one: refuse it here, as invalid pprof, rather than
	 * fail later with an argument error.
	 */
	if (prof->n_sample_type == 0)
	{
		pe_fail(d->ctx, PE_ERR_PPROF, "invalid pprof: profile has %s\n"
				"Each sample value needs a sample type that says what it counts.",
				prof->n_sample > 0 ? "samples but no sample types" : "no sample types");
		return false;
	}
	return true;
}

/* The id of function i, after the .NET repair described at the top. */
static inline uint64_t
function_id(const Decoder *d, size_t i)
{
	return d->function_ids_from_locations ? d->prof->location[i]->id :
		d->prof->function[i]->id;
}

/* True when every function has id 0 and locations can lend theirs. */
static bool
needs_function_id_repair(const PbProfile *prof)
{
	if (prof->n_function < 2 || prof->n_function != prof->n_location)
		return false;
	for (size_t i = 0; i < prof->n_function; i++)
		if (prof->function[i]->id != 0)
			return false;
	return true;
}

/*
 * Index mappings, locations and functions by id, and check the string
 * references of mappings and functions.
 */
static bool
index_tables(Decoder *d)
{
	const PbProfile *prof = d->prof;

	if (!idmap_build(d->arena, &d->mappings, (void *const *) prof->mapping,
					 prof->n_mapping, offsetof(PbMapping, id), "mapping"))
		return false;
	for (size_t i = 0; i < prof->n_mapping; i++)
	{
		const PbMapping *m = prof->mapping[i];

		if (!string_ok(d, m->filename))
			return string_error(d, m->filename, "filename of mapping %" PRIu64, m->id);
		if (!string_ok(d, m->build_id))
			return string_error(d, m->build_id, "build_id of mapping %" PRIu64, m->id);
	}

	if (!idmap_build(d->arena, &d->locations, (void *const *) prof->location,
					 prof->n_location, offsetof(PbLocation, id), "location"))
		return false;

	/* Function i gets location i's id: index the location messages. */
	d->function_ids_from_locations = needs_function_id_repair(prof);
	if (d->function_ids_from_locations)
		d->functions = d->locations;
	else if (!idmap_build(d->arena, &d->functions, (void *const *) prof->function,
						  prof->n_function, offsetof(PbFunction, id), "function"))
		return false;

	d->function_name = arena_array(d->arena, prof->n_function, sizeof(uint32_t));
	if (prof->n_function && d->function_name == NULL)
		return false;
	for (size_t i = 0; i < prof->n_function; i++)
	{
		const PbFunction *f = prof->function[i];

		if (!string_ok(d, f->name))
			return string_error(d, f->name, "name of function %" PRIu64, function_id(d, i));
		if (!string_ok(d, f->system_name))
			return string_error(d, f->system_name, "system_name of function %" PRIu64,
								function_id(d, i));
		if (!string_ok(d, f->filename))
			return string_error(d, f->filename, "filename of function %" PRIu64,
								function_id(d, i));
		d->function_name[i] = PE_NO_NODE;
		if ((i + 1) % INTERRUPT_ITEMS == 0)
			pe_check_interrupts(d->ctx);
	}
	return true;
}

/*
 * Check that the locations' lines name existing functions, and lay out the
 * frames array: one frame per line, or one for a location without lines.
 * Names are filled in lazily, for locations that samples use.
 */
static bool
check_locations(Decoder *d)
{
	const PbProfile *prof = d->prof;
	size_t		n = prof->n_location;
	uint64_t	total = 0;

	d->loc_first = arena_array(d->arena, n, sizeof(uint32_t));
	d->loc_nframes = arena_array(d->arena, n, sizeof(uint32_t));
	d->loc_expanded = arena_array(d->arena, n, sizeof(uint8_t));
	if (n && (!d->loc_first || !d->loc_nframes || !d->loc_expanded))
		return false;
	if (n)
		memset(d->loc_expanded, 0, n);

	for (size_t i = 0; i < n; i++)
	{
		const PbLocation *loc = prof->location[i];
		size_t		nframes = loc->n_line ? loc->n_line : 1;

		for (size_t k = 0; k < loc->n_line; k++)
		{
			uint64_t	fid = loc->line[k]->function_id;

			if (idmap_get(&d->functions, fid) == NO_INDEX && fid != 0)
			{
				pe_fail(d->ctx, PE_ERR_PPROF, "invalid pprof: location %" PRIu64 " refers to missing function %" PRIu64 "\n" "Line %zu of location %" PRIu64 " names function id %" PRIu64 ", but no function has that id.", loc->id, fid, k, loc->id, fid);
				return false;
			}
		}
		if (total + nframes > UINT32_MAX)
		{
			pe_fail(d->ctx, PE_ERR_LIMIT, "pprof profile has too many location lines\n"
					"The locations hold more than %u lines in all.", UINT32_MAX);
			return false;
		}
		d->loc_first[i] = (uint32_t) total;
		d->loc_nframes[i] = (uint32_t) nframes;
		total += nframes;
		if ((i + 1) % INTERRUPT_ITEMS == 0)
			pe_check_interrupts(d->ctx);
	}
	d->frames = arena_array(d->arena, total ? total : 1, sizeof(uint32_t));
	return d->frames != NULL;
}

/* Name id of function index fi, interned on first use. */
static uint32_t
function_name_id(Decoder *d, uint32_t fi)
{
	if (d->function_name[fi] == PE_NO_NODE)
	{
		int64_t		s = d->prof->function[fi]->name;

		d->function_name[fi] = pe_strtab_intern_utf8(&d->tree->names,
													 d->str[s], d->slen[s]);
	}
	return d->function_name[fi];
}

/* Name id for a frame known only by its address: "0x1f2e". */
static uint32_t
address_name_id(Decoder *d, uint64_t address)
{
	char		buf[24];
	int			len = snprintf(buf, sizeof(buf), "0x%" PRIx64, address);

	return pe_strtab_intern(&d->tree->names, buf, (size_t) len);
}

/*
 * Fill in the frame names of location li, root-most first: line[0] is the
 * innermost (leaf-most) frame, so lines are taken last to first.  A line
 * without a function, or with an empty function name, is named by address.
 */
static bool
expand_location(Decoder *d, uint32_t li)
{
	const PbLocation *loc = d->prof->location[li];
	uint32_t   *out = d->frames + d->loc_first[li];
	uint32_t	address_id = PE_NO_NODE;

	for (size_t k = loc->n_line; k-- > 0;)
	{
		uint32_t	fi = idmap_get(&d->functions, loc->line[k]->function_id);
		uint32_t	name = fi == NO_INDEX ? 0 : function_name_id(d, fi);

		if (name == PE_NO_NODE)
			return false;
		if (name == 0)
		{
			if (address_id == PE_NO_NODE)
				address_id = address_name_id(d, loc->address);
			if (address_id == PE_NO_NODE)
				return false;
			name = address_id;
		}
		*out++ = name;
	}
	if (loc->n_line == 0)
	{
		address_id = address_name_id(d, loc->address);
		if (address_id == PE_NO_NODE)
			return false;
		*out = address_id;
	}
	d->loc_expanded[li] = 1;
	return true;
}

/* Make sure the scratch array holds n location indexes. */
static bool
reserve_sample_locs(Decoder *d, size_t n)
{
	size_t		cap = d->sample_locs_cap ? d->sample_locs_cap : 64;

	if (n <= d->sample_locs_cap)
		return true;
	while (cap < n)
		cap *= 2;
	d->sample_locs = arena_array(d->arena, cap, sizeof(uint32_t));
	d->walk_locs = arena_array(d->arena, cap, sizeof(uint32_t));
	d->walk_nodes = arena_array(d->arena, cap, sizeof(uint32_t));
	if (d->sample_locs == NULL || d->walk_locs == NULL || d->walk_nodes == NULL)
		return false;
	d->sample_locs_cap = cap;
	d->walk_len = 0;			/* the last walk is not kept across a resize */
	return true;
}

/* ---------------------------------------------------------------------
 * Splitting by string sample labels.
 * --------------------------------------------------------------------- */

static bool
split_skipped(const Decoder *d, int64_t key)
{
	for (size_t i = 0; i < d->split_opt->nskip; i++)
	{
		const char *k = d->split_opt->skip_keys[i];

		if (strlen(k) == d->slen[key] && memcmp(k, d->str[key], d->slen[key]) == 0)
			return true;
	}
	return false;
}

/* Order label indexes of sample s by key bytes (insertion sort: few labels). */
static int
label_key_cmp(const Decoder *d, int64_t a, int64_t b)
{
	size_t		la = d->slen[a],
				lb = d->slen[b];
	int			c = memcmp(d->str[a], d->str[b], la < lb ? la : lb);

	return c != 0 ? c : (la > lb) - (la < lb);
}

/* Create series g (== d->split->nseries) for the labels pairs[0..n). */
static bool
new_series(Decoder *d, const PbSample *s, uint32_t n)
{
	PeSplit    *sp = d->split;
	PeSeries   *ser;

	if (!pe_grow(d->ctx, (void **) &sp->series, &d->series_cap, sp->nseries + 1,
				 sizeof(PeSeries)))
		return false;
	ser = &sp->series[sp->nseries];
	memset(ser, 0, sizeof(*ser));
	if (n > 0)
	{
		ser->keys = pe_alloc0(d->ctx, n * sizeof(char *));
		ser->values = pe_alloc0(d->ctx, n * sizeof(char *));
		ser->key_len = pe_alloc0(d->ctx, n * sizeof(uint32_t));
		ser->value_len = pe_alloc0(d->ctx, n * sizeof(uint32_t));
		if (!ser->keys || !ser->values || !ser->key_len || !ser->value_len)
		{
			pe_free(d->ctx, ser->keys);
			pe_free(d->ctx, ser->values);
			pe_free(d->ctx, ser->key_len);
			pe_free(d->ctx, ser->value_len);
			return false;
		}
	}
	sp->nseries++;				/* from here on pe_split_free releases it */
	for (uint32_t i = 0; i < n; i++)
	{
		const PbLabel *l = s->label[d->pairs[i]];

		ser->keys[i] = pe_strndup(d->ctx, d->str[l->key], d->slen[l->key]);
		ser->values[i] = pe_strndup(d->ctx, d->str[l->str], d->slen[l->str]);
		if (!ser->keys[i] || !ser->values[i])
		{
			pe_free(d->ctx, ser->keys[i]);
			pe_free(d->ctx, ser->values[i]);
			return false;
		}
		ser->key_len[i] = (uint32_t) d->slen[l->key];
		ser->value_len[i] = (uint32_t) d->slen[l->str];
		ser->nlabels = i + 1;
	}
	return pe_tree_init(d->ctx, &ser->tree, &d->tree->meta);
}

/* The tree of the series that sample s belongs to; NULL on error. */
static PeTree *
series_tree(Decoder *d, const PbSample *s)
{
	uint32_t	n = 0;
	size_t		keylen = 0;
	uint32_t	id;

	if (s->n_label > d->pairs_cap)
	{
		d->pairs = arena_array(d->arena, s->n_label, sizeof(uint32_t));
		if (d->pairs == NULL)
			return NULL;
		d->pairs_cap = s->n_label;
	}
	for (size_t k = 0; k < s->n_label; k++)
	{
		const PbLabel *l = s->label[k];
		uint32_t	j;
		bool		dup = false;

		if (l->str == 0 || split_skipped(d, l->key))
			continue;
		/* insertion by key; a repeated key keeps its first value */
		for (j = 0; j < n; j++)
		{
			int			c = label_key_cmp(d, l->key, s->label[d->pairs[j]]->key);

			if (c == 0)
				dup = true;
			if (c <= 0)
				break;
		}
		if (dup)
			continue;
		memmove(d->pairs + j + 1, d->pairs + j, (n - j) * sizeof(uint32_t));
		d->pairs[j] = (uint32_t) k;
		n++;
	}
	for (uint32_t i = 0; i < n; i++)
	{
		const PbLabel *l = s->label[d->pairs[i]];

		keylen += 8 + d->slen[l->key] + d->slen[l->str];
	}
	if (keylen > d->keybuf_cap)
	{
		d->keybuf = arena_array(d->arena, keylen, 1);
		if (d->keybuf == NULL)
			return NULL;
		d->keybuf_cap = keylen;
	}
	keylen = 0;
	for (uint32_t i = 0; i < n; i++)
	{
		const PbLabel *l = s->label[d->pairs[i]];
		uint32_t	kl = (uint32_t) d->slen[l->key],
					vl = (uint32_t) d->slen[l->str];

		memcpy(d->keybuf + keylen, &kl, 4);
		memcpy(d->keybuf + keylen + 4, d->str[l->key], kl);
		keylen += 4 + kl;
		memcpy(d->keybuf + keylen, &vl, 4);
		memcpy(d->keybuf + keylen + 4, d->str[l->str], vl);
		keylen += 4 + vl;
	}
	id = n == 0 ? 0 : pe_strtab_intern(&d->group_keys, d->keybuf, keylen);
	if (id == PE_NO_NODE)
		return NULL;
	/* ids are dense: series 0 (no labels) exists, a new key gets the next */
	if (id == d->split->nseries)
	{
		/*
		 * A new label set is copied twice (its key, the series' labels):
		 * labels refer to strings by index, so without a budget a long
		 * value named by many label sets would cost its length each time.
		 */
		if (keylen > (d->arena->budget - d->series_bytes) / 2)
		{
			pe_fail(d->ctx, PE_ERR_LIMIT, "pprof profile needs more than %zu bytes of memory for its label sets\n"
					"Splitting by labels may take %d times the %zu bytes of the protobuf message (at least %zu bytes); this message names long label values in too many label sets.",
					d->arena->budget, ARENA_BUDGET_FACTOR, d->arena->wire_len, ARENA_BUDGET_MIN);
			return NULL;
		}
		d->series_bytes += 2 * keylen;
		if (!new_series(d, s, n))
			return NULL;
	}
	return &d->split->series[id].tree;
}

/* name id of the pool tree (d->tree) in target's own name table */
static uint32_t
series_name(Decoder *d, PeTree *target, uint32_t name)
{
	uint32_t	len;
	const char *s = pe_strtab_get(&d->tree->names, name, &len);

	return pe_strtab_intern(&target->names, s, len);
}

/*
 * Validate sample si and, unless all its values are zero, add it to the
 * tree along its root-to-leaf path.  location_id[0] is the leaf.
 */
static bool
add_sample(Decoder *d, size_t si)
{
	const PbSample *s = d->prof->sample[si];
	PeTree	   *tree = d->tree;
	uint64_t	depth = 0;
	bool		all_zero = true;
	uint32_t	node = 0;
	size_t		nloc;
	size_t		pos = 0;		/* root-first position in the stack */

	if (s->n_value != d->prof->n_sample_type)
	{
		pe_fail(d->ctx, PE_ERR_PPROF, "invalid pprof: sample %zu has %zu values, expected %zu (one per sample type)\n"
				"Every sample must carry one value for each of the profile's %zu sample types.",
				si, s->n_value, d->prof->n_sample_type, d->prof->n_sample_type);
		return false;
	}
	for (size_t k = 0; k < s->n_label; k++)
	{
		const PbLabel *l = s->label[k];

		if (!string_ok(d, l->key))
			return string_error(d, l->key, "key of label %zu of sample %zu", k, si);
		if (!string_ok(d, l->str))
			return string_error(d, l->str, "value of label %zu of sample %zu", k, si);
		if (!string_ok(d, l->num_unit))
			return string_error(d, l->num_unit, "num_unit of label %zu of sample %zu", k, si);
	}

	if (!reserve_sample_locs(d, s->n_location_id))
		return false;
	for (size_t k = 0; k < s->n_location_id; k++)
	{
		uint32_t	li = idmap_get(&d->locations, s->location_id[k]);

		if (li == NO_INDEX)
		{
			pe_fail(d->ctx, PE_ERR_PPROF, "invalid pprof: sample %zu refers to missing location %" PRIu64 "\n" "Frame %zu of sample %zu (counting from 0) names location id %" PRIu64 ", but no location has that id.", si, s->location_id[k], k, si, s->location_id[k]);
			return false;
		}
		d->sample_locs[k] = li;
		depth += d->loc_nframes[li];
	}
	if (depth > d->ctx->limits.max_stack_depth)
	{
		pe_fail(d->ctx, PE_ERR_LIMIT_DEPTH, "stack of sample %zu has %" PRIu64 " frames, more than the limit of %u\n"
				"Frames are counted after expanding inlined functions.",
				si, depth, d->ctx->limits.max_stack_depth);
		return false;
	}

	if (d->split_opt && d->split_opt->max_sample_labels &&
		s->n_label > d->split_opt->max_sample_labels)
	{
		pe_fail(d->ctx, PE_ERR_LIMIT, "sample %zu has %zu labels, more than %u",
				si, s->n_label, d->split_opt->max_sample_labels);
		return false;
	}

	for (size_t v = 0; v < s->n_value; v++)
		if (s->value[v] != 0)
			all_zero = false;
	if (all_zero)
		return true;
	if (d->split_opt)
	{
		tree = series_tree(d, s);
		if (tree == NULL)
			return false;
	}

	/* The root-most locations this stack shares with the last one walked. */
	nloc = s->n_location_id;
	if (tree != d->walk_tree)
		d->walk_len = 0;
	while (pos < d->walk_len && pos < nloc &&
		   d->walk_locs[pos] == d->sample_locs[nloc - 1 - pos])
		pos++;
	if (pos > 0)
		node = d->walk_nodes[pos - 1];
	for (; pos < nloc; pos++)
	{
		uint32_t	li = d->sample_locs[nloc - 1 - pos];
		const uint32_t *f;
		uint32_t	nf = d->loc_nframes[li];

		if (!d->loc_expanded[li] && !expand_location(d, li))
			return false;
		f = d->frames + d->loc_first[li];
		for (uint32_t j = 0; j < nf; j++)
		{
			uint32_t	name = tree == d->tree ? f[j] : series_name(d, tree, f[j]);

			if (name == PE_NO_NODE)
				return false;
			node = pe_tree_child(tree, node, name);
			if (node == PE_NO_NODE)
				return false;
		}
		d->walk_locs[pos] = li;
		d->walk_nodes[pos] = node;
	}
	d->walk_len = nloc;
	d->walk_tree = tree;
	return pe_tree_add_self(tree, node, s->value);
}

/*
 * Build the tree's header: sample types, period type, default type.  The
 * strings are repaired to valid UTF-8 through a scratch intern table, so
 * they follow the same rule as frame names.
 */
static bool
init_tree(Decoder *d)
{
	const PbProfile *prof = d->prof;
	size_t		nv = prof->n_sample_type;
	PeStrtab	scratch;
	PeMeta		meta;
	uint32_t	ids[2 * PE_MAX_VALUES + 2];
	int64_t		refs[2 * PE_MAX_VALUES + 2];
	size_t		nrefs = 0;
	bool		ok = false;

	memset(&meta, 0, sizeof(meta));
	meta.nvalues = (uint32_t) nv;
	meta.period = prof->period;
	meta.time_nanos = prof->time_nanos;
	meta.duration_nanos = prof->duration_nanos;
	meta.default_type = -1;
	meta.types = arena_array(d->arena, nv ? nv : 1, sizeof(PeSampleType));
	if (meta.types == NULL)
		return false;

	/* pprof's default_sample_type names a sample type by its type string. */
	if (prof->default_sample_type != 0)
	{
		int64_t		want = prof->default_sample_type;

		for (size_t i = 0; i < nv && meta.default_type < 0; i++)
		{
			int64_t		have = prof->sample_type[i]->type;

			if (have == want ||
				(d->slen[have] == d->slen[want] &&
				 memcmp(d->str[have], d->str[want], d->slen[want]) == 0))
				meta.default_type = (int32_t) i;
		}
	}

	for (size_t i = 0; i < nv; i++)
	{
		refs[nrefs++] = prof->sample_type[i]->type;
		refs[nrefs++] = prof->sample_type[i]->unit;
	}
	refs[nrefs++] = prof->period_type ? prof->period_type->type : -1;
	refs[nrefs++] = prof->period_type ? prof->period_type->unit : -1;

	if (!pe_strtab_init(d->ctx, &scratch))
		goto done;
	for (size_t i = 0; i < nrefs; i++)
	{
		ids[i] = refs[i] < 0 ? 0 :
			pe_strtab_intern_utf8(&scratch, d->str[refs[i]], d->slen[refs[i]]);
		if (ids[i] == PE_NO_NODE)
			goto done;
	}
	/* Pointers only once interning is over: the buffer may have moved. */
	for (size_t i = 0; i < nv; i++)
	{
		meta.types[i].type = (char *) pe_strtab_get(&scratch, ids[2 * i], NULL);
		meta.types[i].unit = (char *) pe_strtab_get(&scratch, ids[2 * i + 1], NULL);
	}
	meta.period_type.type = (char *) pe_strtab_get(&scratch, ids[2 * nv], NULL);
	meta.period_type.unit = (char *) pe_strtab_get(&scratch, ids[2 * nv + 1], NULL);
	ok = pe_tree_init(d->ctx, d->tree, &meta);
done:
	pe_strtab_free(&scratch);
	return ok;
}

static bool tree_is_empty(const PeTree *t);

/* Validate an unpacked profile and fold its samples into d->tree. */
static bool
decode_profile(Decoder *d)
{
	const PbProfile *prof = d->prof;

	if (!check_header(d) ||
		!index_tables(d) ||
		!check_locations(d))
		return false;
	if (!init_tree(d))
		return false;
	if (d->split_opt)
	{
		d->split->nsamples = prof->n_sample;
		if (!pe_strtab_init(d->ctx, &d->group_keys) || !new_series(d, NULL, 0))
			return false;
	}
	if (!d->split_opt)
	{
		/*
		 * Half the stacks' frames: stacks share their root-most frames, so
		 * trees have about that many nodes (counted in locations, before
		 * inlining adds a few).
		 */
		uint64_t	frames = 2;

		for (size_t si = 0; si < prof->n_sample; si++)
			frames += prof->sample[si]->n_location_id;
		if (!pe_tree_presize(d->tree, frames / 2))
			return false;
		/* About one name per function (capped as the presize above is). */
		if (!pe_strtab_reserve(&d->tree->names, (uint32_t) (prof->n_function < 65536 ?
															 prof->n_function + 1 : 65536)))
			return false;
	}
	for (size_t si = 0; si < prof->n_sample; si++)
	{
		if (!add_sample(d, si))
			return false;
		if ((si + 1) % INTERRUPT_SAMPLES == 0)
			pe_check_interrupts(d->ctx);
	}
	if (d->split_opt && d->split->nseries > 1 && tree_is_empty(&d->split->series[0].tree))
	{
		/* every sample had labels: no unlabeled series */
		PeSplit    *sp = d->split;

		pe_tree_free(&sp->series[0].tree);
		memmove(sp->series, sp->series + 1, (sp->nseries - 1) * sizeof(PeSeries));
		sp->nseries--;
	}
	return true;
}

/* True when t holds nothing but a root without values. */
static bool
tree_is_empty(const PeTree *t)
{
	if (t->nnodes > 1)
		return false;
	for (uint32_t v = 0; t->nnodes == 1 && v < t->meta.nvalues; v++)
		if (t->self[v] != 0)
			return false;
	return true;
}

/*
 * Decode pprof data (gzip detected by content) into *t.  On failure *t is
 * left empty (pe_tree_free on it is harmless) and ctx->err says why.
 */
static bool
decode_common(PeCtx *ctx, const uint8_t *data, size_t len, PeTree *t,
			  const PeSplitOptions *split_opt, PeSplit *split)
{
	uint8_t    *inflated = NULL;
	const uint8_t *buf = data;
	Arena		arena;
	Decoder		d;
	bool		ok = false;

	memset(t, 0, sizeof(*t));
	if (len == 0)
	{
		pe_fail(ctx, PE_ERR_PPROF, "invalid pprof: empty input\n"
				"A pprof profile is a gzipped or plain profile.proto message.");
		return false;
	}
	if (pe_is_gzip(data, len))
	{
		if (!pe_gunzip(ctx, data, len, &inflated, &len))
			return false;
		buf = inflated;
	}
	else if (len > ctx->limits.max_decoded_bytes)
	{
		pe_fail(ctx, PE_ERR_LIMIT_SIZE, "decompressed profile exceeds the size limit of %zu bytes\n"
				"The plain protobuf input is %zu bytes long.", ctx->limits.max_decoded_bytes, len);
		return false;
	}

	arena_init(&arena, ctx, len);
	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.arena = &arena;
	d.tree = t;
	d.split_opt = split_opt;
	d.split = split;

	d.prof = read_profile(&arena, buf, len);
	if (d.prof == NULL)
	{
		if (ctx->err.code == PE_OK)
		{
			pe_fail(ctx, PE_ERR_PPROF, "invalid pprof: not a profile.proto message\n"
					"The %zu bytes%s do not parse as a protocol buffers Profile message.",
					len, inflated ? " inflated from gzip" : "");
		}
	}
	else if (load_strings(&d))
		ok = decode_profile(&d);

	if (split_opt && d.group_keys.ctx)
		pe_strtab_free(&d.group_keys);
	arena_release(&arena);
	pe_free(ctx, inflated);
	if (!ok)
		pe_tree_free(t);
	return ok;
}

bool
pe_pprof_decode(PeCtx *ctx, const uint8_t *data, size_t len, PeTree *t)
{
	return decode_common(ctx, data, len, t, NULL, NULL);
}

/*
 * Decode and split by string sample labels.  Frame names are interned in
 * a pool tree first (locations expand once), then into each series' own
 * name table, so a series' stored value holds only its own names.
 */
bool
pe_pprof_decode_split(PeCtx *ctx, const uint8_t *data, size_t len,
					  const PeSplitOptions *opt, PeSplit *out)
{
	PeTree		pool;
	PeSplitOptions none = {0};
	bool		ok;

	memset(out, 0, sizeof(*out));
	ok = decode_common(ctx, data, len, &pool, opt ? opt : &none, out);
	pe_tree_free(&pool);
	if (!ok)
		pe_split_free(ctx, out);
	return ok;
}

void
pe_split_free(PeCtx *ctx, PeSplit *s)
{
	for (uint32_t i = 0; i < s->nseries; i++)
	{
		PeSeries   *ser = &s->series[i];

		for (uint32_t k = 0; k < ser->nlabels; k++)
		{
			pe_free(ctx, ser->keys[k]);
			pe_free(ctx, ser->values[k]);
		}
		pe_free(ctx, ser->keys);
		pe_free(ctx, ser->values);
		pe_free(ctx, ser->key_len);
		pe_free(ctx, ser->value_len);
		pe_tree_free(&ser->tree);
	}
	pe_free(ctx, s->series);
	memset(s, 0, sizeof(*s));
}
