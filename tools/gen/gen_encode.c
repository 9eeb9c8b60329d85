/*
 * gen_encode.c
 *		Samples of a model -> pprof protobuf (protobuf-c) -> gzip (zlib).
 *
 * Location and Line messages are prebuilt in the model; per profile only
 * the Function messages (whose string indexes depend on the profile's own
 * string table) and the Sample messages are filled in.  "Stamps" mark what
 * the current profile already uses, so nothing is cleared between profiles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_model.h"

void
gen_encoder_init(GenEncoder *e, int gzip_level)
{
	memset(e, 0, sizeof(*e));
	e->level = gzip_level;
	if (deflateInit2(&e->zs, gzip_level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
	{
		fprintf(stderr, "pe_gen: deflateInit2 failed\n");
		exit(1);
	}
}

void
gen_encoder_free(GenEncoder *e)
{
	deflateEnd(&e->zs);
	free(e->string_stamp);
	free(e->string_index);
	free(e->loc_stamp);
	free(e->func_stamp);
	free(e->table);
	free(e->locs);
	free(e->funcs);
	free(e->func_ptrs);
	free(e->samples);
	free(e->sample_ptrs);
	free(e->values);
	free(e->packed);
	free(e->gz);
	memset(e, 0, sizeof(*e));
}

/* Make the per-model arrays large enough for model m */
static void
fit_model(GenEncoder *e, const GenModel *m)
{
	if (e->cap_string < m->nstrings)
	{
		free(e->string_stamp);
		free(e->string_index);
		free(e->table);
		e->cap_string = m->nstrings;
		e->string_stamp = gen_alloc(m->nstrings * sizeof(uint32_t));
		e->string_index = gen_alloc(m->nstrings * sizeof(uint32_t));
		e->table = gen_alloc((m->nstrings + 16) * sizeof(char *));
		e->stamp = 0;
	}
	if (e->cap_loc < m->nlocs)
	{
		free(e->loc_stamp);
		free(e->locs);
		e->cap_loc = m->nlocs;
		e->loc_stamp = gen_alloc(m->nlocs * sizeof(uint32_t));
		e->locs = gen_alloc(m->nlocs * sizeof(Perftools__Profiles__Location *));
		e->stamp = 0;
	}
	if (e->cap_func < m->nfuncs)
	{
		free(e->func_stamp);
		free(e->funcs);
		free(e->func_ptrs);
		e->cap_func = m->nfuncs;
		e->func_stamp = gen_alloc(m->nfuncs * sizeof(uint32_t));
		e->funcs = gen_alloc(m->nfuncs * sizeof(Perftools__Profiles__Function));
		e->func_ptrs = gen_alloc(m->nfuncs * sizeof(Perftools__Profiles__Function *));
		e->stamp = 0;
	}
	if (e->stamp == 0 || e->stamp == UINT32_MAX)
	{
		/* fresh arrays (or a wrapped stamp): start over from zeroed stamps */
		memset(e->string_stamp, 0, e->cap_string * sizeof(uint32_t));
		memset(e->loc_stamp, 0, e->cap_loc * sizeof(uint32_t));
		memset(e->func_stamp, 0, e->cap_func * sizeof(uint32_t));
		e->stamp = 0;
	}
	e->stamp++;
}

/* Index of model string id in the profile's string table */
static int64_t
use_string(GenEncoder *e, const GenModel *m, uint32_t id, size_t *nstrings)
{
	if (e->string_stamp[id] != e->stamp)
	{
		e->string_stamp[id] = e->stamp;
		e->string_index[id] = (uint32_t) *nstrings;
		e->table[(*nstrings)++] = m->strings[id];
	}
	return e->string_index[id];
}

static const char *const cpu_types[][2] = {{"samples", "count"}, {"cpu", "nanoseconds"}};
static const char *const heap_types[][2] = {
	{"alloc_objects", "count"}, {"alloc_space", "bytes"},
	{"inuse_objects", "count"}, {"inuse_space", "bytes"}
};

/*
 * Encode one profile.  The string table starts with "" and the sample type
 * words (not model strings); model strings follow in order of first use.
 */
size_t
gen_encode(GenEncoder *e, const GenModel *m, GenKind kind, const GenSample *samples,
		   uint32_t nsamples, int64_t time_nanos, int64_t duration_nanos)
{
	Perftools__Profiles__Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType types[4];
	Perftools__Profiles__ValueType *type_ptrs[4];
	Perftools__Profiles__ValueType period_type = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	Perftools__Profiles__Mapping mapping = PERFTOOLS__PROFILES__MAPPING__INIT;
	Perftools__Profiles__Mapping *mapping_ptr = &mapping;
	const char *const (*names)[2] = kind == KIND_CPU ? cpu_types : heap_types;
	uint32_t	nvalues = kind == KIND_CPU ? 2 : 4;
	size_t		nstrings = 0;
	size_t		nlocs = 0;
	size_t		nfuncs = 0;
	size_t		size;
	char	   *fixed[16];
	size_t		nfixed = 0;

	fit_model(e, m);
	if (e->cap_samples < nsamples)
	{
		e->cap_samples = nsamples * 2;
		e->samples = gen_realloc(e->samples, e->cap_samples * sizeof(*e->samples));
		e->sample_ptrs = gen_realloc(e->sample_ptrs, e->cap_samples * sizeof(*e->sample_ptrs));
		e->values = gen_realloc(e->values, e->cap_samples * 4 * sizeof(int64_t));
	}

	/* "" is model string 0; the type words come next, then model strings */
	use_string(e, m, 0, &nstrings);
	for (uint32_t v = 0; v < nvalues; v++)
	{
		fixed[nfixed++] = (char *) names[v][0];
		fixed[nfixed++] = (char *) names[v][1];
	}
	if (kind == KIND_HEAP)
		fixed[nfixed++] = "space";
	/* the type words take table slots 1..nfixed; model strings follow */
	nstrings += nfixed;
	for (uint32_t v = 0; v < nvalues; v++)
	{
		perftools__profiles__value_type__init(&types[v]);
		types[v].type = 1 + 2 * v;
		types[v].unit = 2 + 2 * v;
		type_ptrs[v] = &types[v];
	}

	for (uint32_t i = 0; i < nsamples; i++)
	{
		Perftools__Profiles__Sample *s = &e->samples[i];
		const GenStack *st = samples[i].stack;

		perftools__profiles__sample__init(s);
		s->n_location_id = st->depth;
		s->location_id = st->locs;
		s->n_value = nvalues;
		s->value = &e->values[4 * i];
		memcpy(s->value, samples[i].values, nvalues * sizeof(int64_t));
		e->sample_ptrs[i] = s;
		for (uint32_t d = 0; d < st->depth; d++)
		{
			uint32_t	loc = (uint32_t) st->locs[d] - 1;

			if (e->loc_stamp[loc] == e->stamp)
				continue;
			e->loc_stamp[loc] = e->stamp;
			e->locs[nlocs++] = &m->loc_msgs[loc];
			for (uint32_t k = 0; k < m->loc_nlines[loc]; k++)
			{
				uint32_t	f = m->loc_func[2 * loc + k];
				Perftools__Profiles__Function *fn;

				if (e->func_stamp[f] == e->stamp)
					continue;
				e->func_stamp[f] = e->stamp;
				fn = &e->funcs[nfuncs];
				perftools__profiles__function__init(fn);
				fn->id = f + 1;
				fn->name = use_string(e, m, m->funcs[f].name, &nstrings);
				fn->system_name = fn->name;
				fn->filename = use_string(e, m, m->funcs[f].file, &nstrings);
				fn->start_line = m->funcs[f].start_line;
				e->func_ptrs[nfuncs++] = fn;
			}
		}
	}

	mapping.id = 1;
	mapping.memory_start = 0x400000;
	mapping.memory_limit = 0x400000 + 0x40 * (uint64_t) m->nlocs + 0x100000;
	mapping.filename = use_string(e, m, m->binary, &nstrings);
	mapping.build_id = use_string(e, m, m->build_id, &nstrings);
	mapping.has_functions = mapping.has_filenames = mapping.has_line_numbers = true;
	mapping.has_inline_frames = m->lang != LANG_PYTHON;

	for (size_t i = 0; i < nfixed; i++)
		e->table[1 + i] = fixed[i];
	p.string_table = e->table;
	p.n_string_table = nstrings;

	p.n_sample_type = nvalues;
	p.sample_type = type_ptrs;
	p.n_sample = nsamples;
	p.sample = e->sample_ptrs;
	p.n_mapping = 1;
	p.mapping = &mapping_ptr;
	p.n_location = nlocs;
	p.location = e->locs;
	p.n_function = nfuncs;
	p.function = e->func_ptrs;
	p.time_nanos = time_nanos;
	p.duration_nanos = duration_nanos;
	p.period_type = &period_type;
	if (kind == KIND_CPU)
	{
		period_type.type = 3;	/* cpu */
		period_type.unit = 4;	/* nanoseconds */
		p.period = 10000000;
	}
	else
	{
		period_type.type = 9;	/* space */
		period_type.unit = 4;	/* bytes */
		p.period = 524288;
		p.default_sample_type = 7;	/* inuse_space */
	}

	size = perftools__profiles__profile__get_packed_size(&p);
	if (size > e->cap_packed)
	{
		e->cap_packed = size * 2;
		e->packed = gen_realloc(e->packed, e->cap_packed);
	}
	perftools__profiles__profile__pack(&p, e->packed);

	{
		size_t		bound = deflateBound(&e->zs, size) + 64;

		if (bound > e->cap_gz)
		{
			e->cap_gz = bound * 2;
			e->gz = gen_realloc(e->gz, e->cap_gz);
		}
		deflateReset(&e->zs);
		e->zs.next_in = e->packed;
		e->zs.avail_in = (uInt) size;
		e->zs.next_out = e->gz;
		e->zs.avail_out = (uInt) e->cap_gz;
		if (deflate(&e->zs, Z_FINISH) != Z_STREAM_END)
		{
			fprintf(stderr, "pe_gen: deflate failed\n");
			exit(1);
		}
		return e->cap_gz - e->zs.avail_out;
	}
}
