/*
 * pb_builder.c
 *		The tests' pprof builder (see pb_builder.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_builder.h"

/* String tables up to this size are searched for an equal entry. */
#define PB_REUSE_LIMIT 64

static void *
pb_alloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (p == NULL)
	{
		fprintf(stderr, "pb_builder: out of memory (%zu bytes)\n", size);
		abort();
	}
	return p;
}

static void *
pb_zalloc(size_t size)
{
	return memset(pb_alloc(NULL, size), 0, size ? size : 1);
}

#define PB_PUSH(arr, n, item) \
	((arr) = pb_alloc((arr), sizeof(*(arr)) * ((n) + 1)), (arr)[(n)++] = (item))

/* item = a new message set up by its protobuf-c init, appended to arr. */
#define PB_ADD(item, init, arr, n) \
	((item) = pb_zalloc(sizeof(*(item))), init(item), PB_PUSH(arr, n, item))

void
pb_init(PbBuilder *b)
{
	memset(b, 0, sizeof(*b));
	perftools__profiles__profile__init(&b->p);
	perftools__profiles__value_type__init(&b->period_type);
}

void
pb_init_types(PbBuilder *b, const char *types)
{
	char	   *copy = strdup(types);
	char	   *save = NULL;

	pb_init(b);
	b->reuse_strings = true;
	pb_str(b, "");
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *slash = strchr(tok, '/');

		*slash = '\0';
		pb_type(b, tok, slash + 1);
	}
	free(copy);
}

int64_t
pb_str(PbBuilder *b, const char *s)
{
	PbProfile  *p = &b->p;
	size_t		len = strlen(s);

	if (b->reuse_strings && p->n_string_table < PB_REUSE_LIMIT)
		for (size_t i = 0; i < p->n_string_table; i++)
			if (strcmp(p->string_table[i], s) == 0)
				return (int64_t) i;
	PB_PUSH(p->string_table, p->n_string_table, memcpy(pb_alloc(NULL, len + 1), s, len + 1));
	return (int64_t) p->n_string_table - 1;
}

PbValueType *
pb_type_idx(PbBuilder *b, int64_t type, int64_t unit)
{
	PbValueType *vt;

	PB_ADD(vt, perftools__profiles__value_type__init, b->p.sample_type, b->p.n_sample_type);
	vt->type = type;
	vt->unit = unit;
	return vt;
}

PbValueType *
pb_type(PbBuilder *b, const char *type, const char *unit)
{
	int64_t		t = pb_str(b, type);

	return pb_type_idx(b, t, pb_str(b, unit));
}

void
pb_period(PbBuilder *b, const char *type, const char *unit, int64_t period)
{
	int64_t		t = pb_str(b, type);

	b->period_type.type = t;
	b->period_type.unit = pb_str(b, unit);
	b->p.period_type = &b->period_type;
	b->p.period = period;
}

PbFunction *
pb_func(PbBuilder *b, uint64_t id, const char *name)
{
	PbFunction *f;

	PB_ADD(f, perftools__profiles__function__init, b->p.function, b->p.n_function);
	f->id = id;
	f->name = pb_str(b, name);
	return f;
}

PbMapping *
pb_mapping(PbBuilder *b, uint64_t id)
{
	PbMapping  *m;

	PB_ADD(m, perftools__profiles__mapping__init, b->p.mapping, b->p.n_mapping);
	m->id = id;
	m->memory_start = 0x400000;
	m->memory_limit = 0x800000;
	return m;
}

PbLocation *
pb_loc(PbBuilder *b, uint64_t id, uint64_t mapping_id, uint64_t address,
	   size_t nlines, const uint64_t *fids)
{
	PbLocation *l;

	PB_ADD(l, perftools__profiles__location__init, b->p.location, b->p.n_location);
	l->id = id;
	l->mapping_id = mapping_id;
	l->address = address;
	l->n_line = nlines;
	l->line = pb_zalloc(nlines * sizeof(PbLine *));
	for (size_t k = 0; k < nlines; k++)
	{
		PbLine	   *ln = pb_zalloc(sizeof(*ln));

		perftools__profiles__line__init(ln);
		ln->function_id = fids[k];
		ln->line = (int64_t) k + 10;
		l->line[k] = ln;
	}
	return l;
}

PbSample *
pb_sample(PbBuilder *b, size_t nlocs, const uint64_t *locs, size_t nvals, const int64_t *vals)
{
	PbSample   *s;

	PB_ADD(s, perftools__profiles__sample__init, b->p.sample, b->p.n_sample);
	s->n_location_id = nlocs;
	s->location_id = pb_zalloc(nlocs * sizeof(uint64_t));
	if (nlocs)
		memcpy(s->location_id, locs, nlocs * sizeof(uint64_t));
	s->n_value = nvals;
	s->value = pb_zalloc(nvals * sizeof(int64_t));
	if (nvals)
		memcpy(s->value, vals, nvals * sizeof(int64_t));
	return s;
}

PbLabel *
pb_label(PbSample *s, int64_t key, int64_t str)
{
	PbLabel    *l;

	PB_ADD(l, perftools__profiles__label__init, s->label, s->n_label);
	l->key = key;
	l->str = str;
	return l;
}

uint8_t *
pb_pack(const PbBuilder *b, size_t *len)
{
	size_t		want = perftools__profiles__profile__get_packed_size(&b->p);
	uint8_t    *out = pb_alloc(NULL, want);

	*len = perftools__profiles__profile__pack(&b->p, out);
	if (*len != want)
	{
		fprintf(stderr, "pb_builder: protobuf-c packed %zu bytes, expected %zu\n", *len, want);
		abort();
	}
	return out;
}

void
pb_free(PbBuilder *b)
{
	PbProfile  *p = &b->p;

	for (size_t i = 0; i < p->n_string_table; i++)
		free(p->string_table[i]);
	for (size_t i = 0; i < p->n_sample_type; i++)
		free(p->sample_type[i]);
	for (size_t i = 0; i < p->n_function; i++)
		free(p->function[i]);
	for (size_t i = 0; i < p->n_mapping; i++)
		free(p->mapping[i]);
	for (size_t i = 0; i < p->n_location; i++)
	{
		for (size_t k = 0; k < p->location[i]->n_line; k++)
			free(p->location[i]->line[k]);
		free(p->location[i]->line);
		free(p->location[i]);
	}
	for (size_t i = 0; i < p->n_sample; i++)
	{
		for (size_t k = 0; k < p->sample[i]->n_label; k++)
			free(p->sample[i]->label[k]);
		free(p->sample[i]->label);
		free(p->sample[i]->location_id);
		free(p->sample[i]->value);
		free(p->sample[i]);
	}
	free(p->string_table);
	free(p->sample_type);
	free(p->function);
	free(p->mapping);
	free(p->location);
	free(p->sample);
	free(p->comment);
	memset(b, 0, sizeof(*b));
}
