/*
 * pe_pprof_encode.c
 *		A call tree out as pprof (profile.proto), plain or gzipped.
 *
 * The tree is walked once in canonical pre-order (zero subtrees skipped),
 * so equal trees give equal bytes.  Each distinct frame name becomes one
 * Function (the frame as name, no system_name, no file) and one Location
 * with the same id holding a single Line of that function; the frame-name
 * tree carries no addresses, and a frame named "0x1f2e" is a function name
 * like any other.  No system_name: pprof takes a function whose name equals
 * its system_name for a not yet demangled symbol and cuts what looks like
 * C++ template arguments (five .NET "AsyncMethodBuilderCore.Start<...>"
 * would become one "AsyncMethodBuilderCore.Start"); profilers that write
 * source-level names (.NET, Java) leave it empty too.  All locations share
 * one Mapping (id 1, no file) marked has_functions, so pprof knows they are
 * symbolized and does not go looking for a binary ("Main binary filename
 * not available").  Every node with a non-zero self value
 * becomes one Sample whose location ids run from the node (the leaf) up to,
 * not including, the root; a root self value is a sample without
 * locations.
 *
 * All protobuf-c structures and buffers come from the PeCtx allocator, and
 * zlib allocates through it too, so an interrupt that longjmps out of the
 * hook leaks nothing outside the caller's memory.
 */
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "pe_pprof.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile PbProfile;
typedef Perftools__Profiles__Sample PbSample;
typedef Perftools__Profiles__Location PbLocation;
typedef Perftools__Profiles__Line PbLine;
typedef Perftools__Profiles__Function PbFunction;
typedef Perftools__Profiles__ValueType PbValueType;
typedef Perftools__Profiles__Mapping PbMapping;

#define GZIP_LEVEL				6
#define GZIP_PIECE				((size_t) 1 << 20)
#define MAPPING_ID				1

/* Everything the message points into, released together. */
typedef struct Encoder
{
	PeCtx	   *ctx;
	const PeTree *tree;
	PeOrder		order;
	PeStrtab	strings;		/* the string table; id 0 is "" */
	uint32_t   *name_fid;		/* tree name id -> function id, 0 = unused */
	uint32_t   *fid_string;		/* function id - 1 -> string id */
	uint32_t	nfunctions;
	size_t		nsamples;
	size_t		nlocation_ids;	/* summed over samples */
	char	  **string_table;
	PbValueType *value_types;	/* sample types, then the period type */
	PbValueType **sample_type_ptrs;
	PbMapping	mapping;
	PbMapping  *mapping_ptr;
	PbFunction *functions;
	PbFunction **function_ptrs;
	PbLocation *locations;
	PbLocation **location_ptrs;
	PbLine	   *lines;
	PbLine	  **line_ptrs;
	PbSample   *samples;
	PbSample  **sample_ptrs;
	uint64_t   *location_ids;
	int64_t    *values;
	uint64_t   *path_fid;		/* function id of the path's frame at depth d */
} Encoder;

static void
encoder_free(Encoder *e)
{
	PeCtx	   *ctx = e->ctx;

	pe_order_free(ctx, &e->order);
	if (e->strings.ctx)
		pe_strtab_free(&e->strings);
	pe_free(ctx, e->name_fid);
	pe_free(ctx, e->fid_string);
	pe_free(ctx, e->string_table);
	pe_free(ctx, e->value_types);
	pe_free(ctx, e->sample_type_ptrs);
	pe_free(ctx, e->functions);
	pe_free(ctx, e->function_ptrs);
	pe_free(ctx, e->locations);
	pe_free(ctx, e->location_ptrs);
	pe_free(ctx, e->lines);
	pe_free(ctx, e->line_ptrs);
	pe_free(ctx, e->samples);
	pe_free(ctx, e->sample_ptrs);
	pe_free(ctx, e->location_ids);
	pe_free(ctx, e->values);
	pe_free(ctx, e->path_fid);
}

static bool
has_value(const PeTree *t, uint32_t node)
{
	const int64_t *self = t->self + (size_t) node * t->meta.nvalues;

	for (uint32_t v = 0; v < t->meta.nvalues; v++)
		if (self[v] != 0)
			return true;
	return false;
}

static uint32_t
intern_cstr(Encoder *e, const char *s)
{
	return pe_strtab_intern(&e->strings, s ? s : "", s ? strlen(s) : 0);
}

/*
 * First pass over the pre-order: number the distinct frame names, intern
 * them and the header strings, and count samples and location ids.
 */
static bool
collect(Encoder *e)
{
	const PeTree *t = e->tree;
	const PeMeta *m = &t->meta;

	e->name_fid = pe_alloc0(e->ctx, sizeof(uint32_t) * t->names.n);
	e->fid_string = pe_alloc(e->ctx, sizeof(uint32_t) * t->names.n);
	if (!e->name_fid || !e->fid_string || !pe_strtab_init(e->ctx, &e->strings))
		return false;
	for (uint32_t i = 0; i < e->order.n; i++)
	{
		uint32_t	node = e->order.node[i];
		uint32_t	name = t->name[node];

		if (i > 0 && e->name_fid[name] == 0)
		{
			uint32_t	len;
			const char *s = pe_strtab_get(&t->names, name, &len);
			uint32_t	sid = pe_strtab_intern(&e->strings, s, len);

			if (sid == PE_NO_NODE)
				return false;
			e->fid_string[e->nfunctions++] = sid;
			e->name_fid[name] = e->nfunctions;
		}
		if (has_value(t, node))
		{
			e->nsamples++;
			e->nlocation_ids += e->order.depth[i];
		}
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(e->ctx);
	}
	/* Every location id takes at least a byte on the wire. */
	if (e->nlocation_ids > e->ctx->limits.max_decoded_bytes)
		return pe_fail(e->ctx, PE_ERR_LIMIT_SIZE, "pprof output exceeds the size limit of %zu bytes\n"
				"The samples would hold %zu location ids in all.",
				e->ctx->limits.max_decoded_bytes, e->nlocation_ids);
	for (uint32_t v = 0; v < m->nvalues; v++)
		if (intern_cstr(e, m->types[v].type) == PE_NO_NODE ||
			intern_cstr(e, m->types[v].unit) == PE_NO_NODE)
			return false;
	return intern_cstr(e, m->period_type.type) != PE_NO_NODE &&
		intern_cstr(e, m->period_type.unit) != PE_NO_NODE;
}

/* Allocate n elements of size bytes (at least one, so NULL means failure). */
static void *
alloc_array(PeCtx *ctx, size_t n, size_t size)
{
	return pe_alloc(ctx, (n ? n : 1) * size);
}

/* The header fields, string table, functions and locations. */
static bool
build_header(Encoder *e, PbProfile *prof)
{
	static const PbValueType value_type_init = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	static const PbFunction function_init = PERFTOOLS__PROFILES__FUNCTION__INIT;
	static const PbLocation location_init = PERFTOOLS__PROFILES__LOCATION__INIT;
	static const PbLine line_init = PERFTOOLS__PROFILES__LINE__INIT;
	static const PbMapping mapping_init = PERFTOOLS__PROFILES__MAPPING__INIT;
	PeCtx	   *ctx = e->ctx;
	const PeMeta *m = &e->tree->meta;
	uint32_t	nv = m->nvalues;
	uint32_t	nf = e->nfunctions;

	e->string_table = alloc_array(ctx, e->strings.n, sizeof(char *));
	e->value_types = alloc_array(ctx, nv + 1, sizeof(PbValueType));
	e->sample_type_ptrs = alloc_array(ctx, nv, sizeof(PbValueType *));
	e->functions = alloc_array(ctx, nf, sizeof(PbFunction));
	e->function_ptrs = alloc_array(ctx, nf, sizeof(PbFunction *));
	e->locations = alloc_array(ctx, nf, sizeof(PbLocation));
	e->location_ptrs = alloc_array(ctx, nf, sizeof(PbLocation *));
	e->lines = alloc_array(ctx, nf, sizeof(PbLine));
	e->line_ptrs = alloc_array(ctx, nf, sizeof(PbLine *));
	if (!e->string_table || !e->value_types || !e->sample_type_ptrs ||
		!e->functions || !e->function_ptrs || !e->locations ||
		!e->location_ptrs || !e->lines || !e->line_ptrs)
		return false;

	/* Strtab entries are NUL-terminated, as protobuf-c wants. */
	for (uint32_t s = 0; s < e->strings.n; s++)
		e->string_table[s] = (char *) pe_strtab_get(&e->strings, s, NULL);
	prof->n_string_table = e->strings.n;
	prof->string_table = e->string_table;

	/* Interning again finds the ids collect() created. */
	for (uint32_t v = 0; v <= nv; v++)
	{
		const PeSampleType *st = v < nv ? &m->types[v] : &m->period_type;

		e->value_types[v] = value_type_init;
		e->value_types[v].type = intern_cstr(e, st->type);
		e->value_types[v].unit = intern_cstr(e, st->unit);
		if (v < nv)
			e->sample_type_ptrs[v] = &e->value_types[v];
	}
	prof->n_sample_type = nv;
	prof->sample_type = e->sample_type_ptrs;
	if (e->value_types[nv].type != 0 || e->value_types[nv].unit != 0)
		prof->period_type = &e->value_types[nv];
	prof->period = m->period;
	prof->time_nanos = m->time_nanos;
	prof->duration_nanos = m->duration_nanos;
	if (m->default_type >= 0 && (uint32_t) m->default_type < nv)
		prof->default_sample_type = e->value_types[m->default_type].type;

	e->mapping = mapping_init;
	e->mapping.id = MAPPING_ID;
	e->mapping.has_functions = true;
	e->mapping_ptr = &e->mapping;
	if (nf > 0)
	{
		prof->n_mapping = 1;
		prof->mapping = &e->mapping_ptr;
	}
	for (uint32_t f = 0; f < nf; f++)
	{
		e->functions[f] = function_init;
		e->functions[f].id = f + 1;
		e->functions[f].name = e->fid_string[f];
		e->function_ptrs[f] = &e->functions[f];
		e->lines[f] = line_init;
		e->lines[f].function_id = f + 1;
		e->line_ptrs[f] = &e->lines[f];
		e->locations[f] = location_init;
		e->locations[f].id = f + 1;
		e->locations[f].mapping_id = MAPPING_ID;
		e->locations[f].n_line = 1;
		e->locations[f].line = &e->line_ptrs[f];
		e->location_ptrs[f] = &e->locations[f];
	}
	prof->n_function = nf;
	prof->function = e->function_ptrs;
	prof->n_location = nf;
	prof->location = e->location_ptrs;
	return true;
}

/*
 * The samples: walking the pre-order keeps the function ids of the current
 * path by depth, so each sample's location ids are that path read backward.
 */
static bool
build_samples(Encoder *e, PbProfile *prof)
{
	static const PbSample sample_init = PERFTOOLS__PROFILES__SAMPLE__INIT;
	PeCtx	   *ctx = e->ctx;
	const PeTree *t = e->tree;
	uint32_t	nv = t->meta.nvalues;
	size_t		si = 0;
	size_t		next_id = 0;

	e->samples = alloc_array(ctx, e->nsamples, sizeof(PbSample));
	e->sample_ptrs = alloc_array(ctx, e->nsamples, sizeof(PbSample *));
	e->location_ids = alloc_array(ctx, e->nlocation_ids, sizeof(uint64_t));
	e->values = alloc_array(ctx, e->nsamples * (nv ? nv : 1), sizeof(int64_t));
	e->path_fid = alloc_array(ctx, e->order.n, sizeof(uint64_t));
	if (!e->samples || !e->sample_ptrs || !e->location_ids || !e->values || !e->path_fid)
		return false;

	for (uint32_t i = 0; i < e->order.n; i++)
	{
		uint32_t	node = e->order.node[i];
		uint32_t	depth = e->order.depth[i];
		PbSample   *s;

		e->path_fid[depth] = e->name_fid[t->name[node]];
		if (!has_value(t, node))
			continue;
		s = &e->samples[si];
		*s = sample_init;
		s->n_location_id = depth;
		s->location_id = e->location_ids + next_id;
		for (uint32_t d = depth; d > 0; d--)
			e->location_ids[next_id++] = e->path_fid[d];
		s->n_value = nv;
		s->value = e->values + si * nv;
		memcpy(s->value, t->self + (size_t) node * nv, sizeof(int64_t) * nv);
		e->sample_ptrs[si++] = s;
		if ((si & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	prof->n_sample = si;
	prof->sample = e->sample_ptrs;
	return true;
}

/* zlib allocation hooks: memory comes from the PeCtx allocator. */
static voidpf
gzip_zalloc(voidpf opaque, uInt items, uInt size)
{
	size_t		bytes;

	if (__builtin_mul_overflow((size_t) items, (size_t) size, &bytes))
		return Z_NULL;
	return pe_alloc((PeCtx *) opaque, bytes);
}

static void
gzip_zfree(voidpf opaque, voidpf ptr)
{
	pe_free((PeCtx *) opaque, ptr);
}

/* Record a zlib failure (memory errors are already recorded by zalloc). */
static bool
gzip_error(PeCtx *ctx, int ret)
{
	if (ret == Z_MEM_ERROR)
	{
		if (ctx->err.code != PE_ERR_NOMEM)
			pe_fail(ctx, PE_ERR_NOMEM, "out of memory while compressing pprof output");
		return false;
	}
	return pe_fail(ctx, PE_ERR_NOMEM, "gzip compression failed: %s", zError(ret));
}

/* Deflate data into a gzip member placed room bytes into a new buffer. */
static bool
gzip_into(PeCtx *ctx, const uint8_t *data, size_t len, size_t room,
		  uint8_t **out, size_t *outlen)
{
	z_stream	zs;
	uint8_t    *buf = NULL;
	size_t		cap;
	size_t		in_left = len;
	int			ret;

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = gzip_zalloc;
	zs.zfree = gzip_zfree;
	zs.opaque = ctx;
	ret = deflateInit2(&zs, GZIP_LEVEL, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	if (ret != Z_OK)
		return gzip_error(ctx, ret);
	cap = room + (len <= ULONG_MAX / 2 ? deflateBound(&zs, (uLong) len) : len + len / 8) + 64;
	buf = pe_alloc(ctx, cap);
	if (buf == NULL)
		goto fail;
	zs.next_in = (Bytef *) data;
	zs.next_out = buf + room;
	for (;;)
	{
		size_t		out_used = (size_t) (zs.next_out - buf);
		int			flush;

		if (zs.avail_in == 0 && in_left > 0)
		{
			zs.avail_in = (uInt) (in_left < GZIP_PIECE ? in_left : GZIP_PIECE);
			in_left -= zs.avail_in;
		}
		if (out_used == cap)
		{
			uint8_t    *bigger = pe_realloc(ctx, buf, cap * 2);

			if (bigger == NULL)
				goto fail;
			buf = bigger;
			cap *= 2;
			zs.next_out = buf + out_used;
		}
		zs.avail_out = (uInt) (cap - out_used < UINT_MAX ? cap - out_used : UINT_MAX);
		flush = (in_left == 0) ? Z_FINISH : Z_NO_FLUSH;
		ret = deflate(&zs, flush);
		if (ret == Z_STREAM_END)
			break;
		if (ret != Z_OK && ret != Z_BUF_ERROR)
		{
			gzip_error(ctx, ret);
			goto fail;
		}
		/* The stream's memory is the allocator's: safe to be interrupted. */
		pe_check_interrupts(ctx);
	}
	*outlen = (size_t) (zs.next_out - buf) - room;
	deflateEnd(&zs);
	*out = buf;
	return true;
fail:
	deflateEnd(&zs);
	pe_free(ctx, buf);
	return false;
}

bool
pe_pprof_encode(const PeTree *t, bool gzip, size_t room, uint8_t **out,
				size_t *outlen)
{
	PeCtx	   *ctx = t->ctx;
	Encoder		e;
	PbProfile	prof = PERFTOOLS__PROFILES__PROFILE__INIT;
	uint8_t    *packed = NULL;
	size_t		size;
	bool		ok = false;

	*out = NULL;
	*outlen = 0;
	memset(&e, 0, sizeof(e));
	e.ctx = ctx;
	e.tree = t;
	if (!pe_tree_preorder(t, true, &e.order) || !collect(&e) ||
		!build_header(&e, &prof) || !build_samples(&e, &prof))
		goto done;

	size = perftools__profiles__profile__get_packed_size(&prof);
	if (size > ctx->limits.max_decoded_bytes)
	{
		pe_fail(ctx, PE_ERR_LIMIT_SIZE, "pprof output exceeds the size limit of %zu bytes\n"
				"The encoded profile would take %zu bytes.", ctx->limits.max_decoded_bytes, size);
		goto done;
	}
	packed = pe_alloc(ctx, (gzip ? 0 : room) + size + 1);
	if (packed == NULL)
		goto done;
	if (perftools__profiles__profile__pack(&prof, packed + (gzip ? 0 : room)) != size)
	{
		pe_fail(ctx, PE_ERR_ARG, "protobuf-c packed a different size than it announced");
		goto done;
	}
	/* The message structures are no longer needed: free them before zlib runs. */
	encoder_free(&e);
	memset(&e, 0, sizeof(e));
	e.ctx = ctx;

	if (!gzip)
	{
		*out = packed;
		*outlen = size;
		packed = NULL;
		ok = true;
	}
	else
		ok = gzip_into(ctx, packed, size, room, out, outlen);
done:
	encoder_free(&e);
	pe_free(ctx, packed);
	return ok;
}
