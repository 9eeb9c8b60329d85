/*
 * test_pprof_encode.c
 *		Unit tests of the pprof encoder: message structure (unpacked with
 *		protobuf-c), round trips through pe_pprof_decode, gzip, deep stacks.
 *
 * Also leaves /tmp/pe_encode_test.pb.gz behind for a manual check with
 * `go tool pprof -raw`.
 */
#include <dirent.h>
#include <stdlib.h>

#include "pe_folded.h"
#include "pe_pprof.h"
#include "profile.pb-c.h"
#include "unit.h"

#define ARTIFACT_PATH "/tmp/pe_encode_test.pb.gz"

static PeCtx ctx;
static PeSampleType two_types[] = {{"samples", "count"}, {"cpu", "nanoseconds"}};

static void
make_meta(PeMeta *m)
{
	memset(m, 0, sizeof(*m));
	m->nvalues = 2;
	m->types = two_types;
	m->period_type.type = "cpu";
	m->period_type.unit = "nanoseconds";
	m->period = 10000000;
	m->time_nanos = INT64_C(1700000000000000000);
	m->duration_nanos = INT64_C(10000000000);
	m->default_type = 1;
}

/* Add values at a ';'-separated root-first stack ("" is the root). */
static void
add(PeTree *t, const char *stack, int64_t count, int64_t cpu)
{
	int64_t		vals[2] = {count, cpu};

	unit_add_stack(t, stack, vals);
}

/* The hand-built tree; reversed inserts the same samples in another order. */
static void
build_tree(PeTree *t, bool reversed)
{
	PeMeta		meta;

	make_meta(&meta);
	CHECK_OK(&ctx, pe_tree_init(&ctx, t, &meta));
	if (reversed)
		add(t, "caf\xC3\xA9;main", 0, 5);
	add(t, "main;foo;bar", 1, 100);
	add(t, "main;foo", 2, 200);
	add(t, "main;baz;0x1f2e", 3, 300);
	add(t, "main;idle", 0, 0);	/* all zero: no sample, no function */
	add(t, "main;foo;bar", 4, 400);
	if (!reversed)
		add(t, "caf\xC3\xA9;main", 0, 5);
	add(t, "", 7, 0);			/* the root's own value: no locations */
}

/* Folded text of both columns, for comparing trees. */
static char *
folded(const PeTree *t, uint32_t v)
{
	char	   *out = NULL;
	size_t		len;

	CHECK_OK(&ctx, pe_folded_write(t, v, &out, &len));
	return out;
}

static const char *
str(const Perftools__Profiles__Profile *p, int64_t i)
{
	return (i >= 0 && (size_t) i < p->n_string_table) ? p->string_table[i] : "(bad index)";
}

/* Find the function of a location id (ids are checked to be 1..n). */
static const char *
location_name(const Perftools__Profiles__Profile *p, uint64_t id)
{
	if (id == 0 || id > p->n_location || p->location[id - 1]->id != id)
		return "(bad location)";
	return str(p, p->function[p->location[id - 1]->line[0]->function_id - 1]->name);
}

static void
test_structure(void)
{
	PeTree		t;
	uint8_t    *out;
	size_t		len;
	Perftools__Profiles__Profile *p;
	static const struct
	{
		const char *stack;		/* root first */
		int64_t		count;
		int64_t		cpu;
	}			want[] = {
		{"", 7, 0},
		{"caf\xC3\xA9;main", 0, 5},
		{"main;baz;0x1f2e", 3, 300},
		{"main;foo", 2, 200},
		{"main;foo;bar", 5, 500},
	};

	build_tree(&t, false);
	CHECK_OK(&ctx, pe_pprof_encode(&t, false, 0, &out, &len));
	p = perftools__profiles__profile__unpack(NULL, len, out);
	CHECK(p != NULL);
	if (p == NULL)
		return;

	CHECK(p->n_string_table > 0 && strcmp(p->string_table[0], "") == 0);
	CHECK(p->n_sample_type == 2);
	CHECK(strcmp(str(p, p->sample_type[0]->type), "samples") == 0);
	CHECK(strcmp(str(p, p->sample_type[0]->unit), "count") == 0);
	CHECK(strcmp(str(p, p->sample_type[1]->type), "cpu") == 0);
	CHECK(strcmp(str(p, p->sample_type[1]->unit), "nanoseconds") == 0);
	CHECK(p->period_type && strcmp(str(p, p->period_type->type), "cpu") == 0);
	CHECK(p->period_type && strcmp(str(p, p->period_type->unit), "nanoseconds") == 0);
	CHECK(p->period == 10000000);
	CHECK(p->time_nanos == INT64_C(1700000000000000000));
	CHECK(p->duration_nanos == INT64_C(10000000000));
	CHECK(strcmp(str(p, p->default_sample_type), "cpu") == 0);
	CHECK(p->n_mapping == 1 && p->mapping[0]->id == 1 && p->mapping[0]->has_functions);

	/* one function and one location per distinct frame: main foo bar baz 0x1f2e café */
	CHECK(p->n_function == 6 && p->n_location == 6);
	for (size_t i = 0; i < p->n_function && i < p->n_location; i++)
	{
		const Perftools__Profiles__Function *f = p->function[i];
		const Perftools__Profiles__Location *l = p->location[i];

		/* no system_name: pprof would shorten names equal to it as C++ */
		CHECK(f->id == i + 1 && f->system_name == 0 && f->filename == 0 && f->name != 0);
		CHECK(strcmp(str(p, f->name), "idle") != 0);
		CHECK(l->id == i + 1 && l->mapping_id == 1 && l->address == 0);
		CHECK(l->n_line == 1 && l->line[0]->function_id == i + 1);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(str(p, f->name), str(p, p->function[j]->name)) != 0);
	}

	/* samples in canonical order, location ids leaf first */
	CHECK(p->n_sample == sizeof(want) / sizeof(want[0]));
	for (size_t s = 0; s < p->n_sample && s < sizeof(want) / sizeof(want[0]); s++)
	{
		const Perftools__Profiles__Sample *sm = p->sample[s];
		char		stack[256] = "";

		for (size_t k = sm->n_location_id; k-- > 0;)
		{
			if (stack[0])
				strcat(stack, ";");
			strcat(stack, location_name(p, sm->location_id[k]));
		}
		CHECK(strcmp(stack, want[s].stack) == 0);
		CHECK(sm->n_value == 2 && sm->value[0] == want[s].count && sm->value[1] == want[s].cpu);
		CHECK(sm->n_label == 0);
	}
	perftools__profiles__profile__free_unpacked(p, NULL);
	pe_free(&ctx, out);
	pe_tree_free(&t);
}

/* Encode with gzip and room, decode, and compare with the original. */
static void
check_round_trip(const PeTree *t, size_t room)
{
	uint8_t    *out;
	size_t		len;
	PeTree		back;

	CHECK_OK(&ctx, pe_pprof_encode(t, true, room, &out, &len));
	CHECK(pe_is_gzip(out + room, len));
	CHECK_OK(&ctx, pe_pprof_decode(&ctx, out + room, len, &back));
	if (back.ctx == NULL)
	{
		pe_free(&ctx, out);
		return;
	}
	CHECK(back.meta.nvalues == t->meta.nvalues);
	CHECK(back.meta.period == t->meta.period);
	CHECK(back.meta.time_nanos == t->meta.time_nanos);
	CHECK(back.meta.duration_nanos == t->meta.duration_nanos);
	CHECK(back.meta.default_type == t->meta.default_type);
	CHECK(strcmp(back.meta.period_type.type, t->meta.period_type.type) == 0);
	CHECK(strcmp(back.meta.period_type.unit, t->meta.period_type.unit) == 0);
	for (uint32_t v = 0; v < t->meta.nvalues && v < back.meta.nvalues; v++)
	{
		char	   *a = folded(t, v);
		char	   *b = folded(&back, v);
		int64_t		sa,
					sb;

		CHECK(strcmp(back.meta.types[v].type, t->meta.types[v].type) == 0);
		CHECK(strcmp(back.meta.types[v].unit, t->meta.types[v].unit) == 0);
		CHECK(a && b && strcmp(a, b) == 0);
		CHECK_OK(&ctx, pe_tree_sum(t, v, &sa));
		CHECK_OK(&ctx, pe_tree_sum(&back, v, &sb));
		CHECK(sa == sb);
		pe_free(&ctx, a);
		pe_free(&ctx, b);
	}
	pe_tree_free(&back);
	pe_free(&ctx, out);
}

static void
test_round_trip(void)
{
	PeTree		t;
	char	   *text;
	int64_t		sum;

	build_tree(&t, false);
	check_round_trip(&t, 0);
	check_round_trip(&t, 16);
	text = folded(&t, 1);
	CHECK(text && strcmp(text, "caf\xC3\xA9;main 5\nmain;baz;0x1f2e 300\nmain;foo 200\nmain;foo;bar 500\n") == 0);
	pe_free(&ctx, text);
	CHECK_OK(&ctx, pe_tree_sum(&t, 0, &sum));
	CHECK(sum == 17);
	pe_tree_free(&t);
}

/* The same tree built in another order gives the same bytes; room shifts them. */
static void
test_deterministic(void)
{
	PeTree		a,
				b;
	uint8_t    *oa,
			   *ob,
			   *oc;
	size_t		la,
				lb,
				lc;

	build_tree(&a, false);
	build_tree(&b, true);
	CHECK(strcmp(pe_strtab_get(&a.names, a.name[1], NULL),
				  pe_strtab_get(&b.names, b.name[1], NULL)) != 0);	/* built differently */
	CHECK_OK(&ctx, pe_pprof_encode(&a, false, 0, &oa, &la));
	CHECK_OK(&ctx, pe_pprof_encode(&b, false, 0, &ob, &lb));
	CHECK_OK(&ctx, pe_pprof_encode(&b, false, 5, &oc, &lc));
	CHECK(la == lb && memcmp(oa, ob, la) == 0);
	CHECK(la == lc && memcmp(oa, oc + 5, la) == 0);
	pe_free(&ctx, oa);
	pe_free(&ctx, ob);
	pe_free(&ctx, oc);
	pe_tree_free(&a);
	pe_tree_free(&b);
}

static void
test_empty_and_bare(void)
{
	PeMeta		meta;
	PeTree		t;
	PeTree		back;
	uint8_t    *out;
	size_t		len;
	Perftools__Profiles__Profile *p;

	/* no samples, no period type, no default type */
	memset(&meta, 0, sizeof(meta));
	meta.nvalues = 1;
	meta.types = two_types;
	meta.period_type.type = "";
	meta.period_type.unit = "";
	meta.default_type = -1;
	CHECK_OK(&ctx, pe_tree_init(&ctx, &t, &meta));
	add(&t, "a;b", 0, 0);
	CHECK_OK(&ctx, pe_pprof_encode(&t, false, 0, &out, &len));
	p = perftools__profiles__profile__unpack(NULL, len, out);
	CHECK(p != NULL);
	if (p)
	{
		CHECK(p->n_sample == 0 && p->n_function == 0 && p->n_location == 0 && p->n_mapping == 0);
		CHECK(p->period_type == NULL && p->default_sample_type == 0);
		CHECK(p->n_sample_type == 1);
		perftools__profiles__profile__free_unpacked(p, NULL);
	}
	pe_free(&ctx, out);
	check_round_trip(&t, 3);
	CHECK_OK(&ctx, pe_pprof_encode(&t, true, 0, &out, &len));
	CHECK_OK(&ctx, pe_pprof_decode(&ctx, out, len, &back));
	CHECK(back.nnodes == 1);
	pe_tree_free(&back);
	pe_free(&ctx, out);
	pe_tree_free(&t);
}

static void
test_deep(void)
{
	enum
	{
	DEPTH = 100000
	};
	PeMeta		meta;
	PeTree		t;
	uint32_t	node = 0;
	int64_t		vals[2] = {1, 10};
	char		name[32];
	uint8_t    *out;
	size_t		len;
	Perftools__Profiles__Profile *p;

	make_meta(&meta);
	CHECK_OK(&ctx, pe_tree_init(&ctx, &t, &meta));
	for (int i = 0; i < DEPTH; i++)
	{
		int			n = snprintf(name, sizeof(name), "f%d", i % 1000);

		node = pe_tree_child(&t, node, pe_strtab_intern(&t.names, name, n));
		if (i == DEPTH / 2)
			CHECK_OK(&ctx, pe_tree_add_self(&t, node, vals));
	}
	CHECK_OK(&ctx, pe_tree_add_self(&t, node, vals));

	CHECK_OK(&ctx, pe_pprof_encode(&t, false, 0, &out, &len));
	p = perftools__profiles__profile__unpack(NULL, len, out);
	CHECK(p != NULL);
	if (p)
	{
		/* 1000 distinct names; the deeper sample comes second in pre-order */
		CHECK(p->n_function == 1000 && p->n_sample == 2);
		CHECK(p->sample[0]->n_location_id == DEPTH / 2 + 1);
		CHECK(p->sample[1]->n_location_id == DEPTH);
		CHECK(strcmp(location_name(p, p->sample[1]->location_id[0]), "f999") == 0);
		CHECK(strcmp(location_name(p, p->sample[1]->location_id[DEPTH - 1]), "f0") == 0);
		perftools__profiles__profile__free_unpacked(p, NULL);
	}
	pe_free(&ctx, out);
	check_round_trip(&t, 0);

	/* the output limit */
	ctx.limits.max_decoded_bytes = 50000;
	CHECK(!pe_pprof_encode(&t, true, 0, &out, &len));
	CHECK(pe_err_is_limit(ctx.err.code));
	memset(&ctx.err, 0, sizeof(ctx.err));
	ctx.limits.max_decoded_bytes = PE_DEFAULT_MAX_DECODED_BYTES;
	pe_tree_free(&t);
}

/* Same canonical tree (names, shape, every column) and same header? */
static bool
same_tree(const PeTree *a, const PeTree *b)
{
	return a->meta.period == b->meta.period &&
		a->meta.default_type == b->meta.default_type && unit_same_nodes(a, b);
}

/* Every corpus profile the decoder accepts survives encode + decode. */
static void
test_corpus(void)
{
	const char *dir = unit_corpus_dir();
	char		path[1024];
	DIR		   *d;
	struct dirent *ent;
	int			tried = 0;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/pprof", dir);
	d = opendir(path);
	if (d == NULL)
		return;
	while ((ent = readdir(d)) != NULL)
	{
		unsigned char *data;
		size_t		len;
		PeTree		t,
					back;
		uint8_t    *out;
		size_t		outlen;

		if (ent->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/pprof/%s", dir, ent->d_name);
		data = unit_read_file(path, &len);
		if (data == NULL)
			continue;
		memset(&ctx.err, 0, sizeof(ctx.err));
		if (pe_pprof_decode(&ctx, data, len, &t))
		{
			tried++;
			CHECK_OK(&ctx, pe_pprof_encode(&t, true, 0, &out, &outlen));
			CHECK_OK(&ctx, pe_pprof_decode(&ctx, out, outlen, &back));
			if (!same_tree(&t, &back))
			{
				unit_failed_checks++;
				fprintf(stderr, "%s: %s changed in a round trip\n", unit_current, ent->d_name);
			}
			pe_tree_free(&back);
			pe_free(&ctx, out);
			pe_tree_free(&t);
		}
		memset(&ctx.err, 0, sizeof(ctx.err));
		free(data);
	}
	closedir(d);
	printf("corpus: %d profiles round-tripped\n", tried);
	CHECK(tried > 0);
}

/* Leave the sample tree as a gzipped file for `go tool pprof`. */
static void
test_artifact(void)
{
	PeTree		t;
	uint8_t    *out;
	size_t		len;
	FILE	   *f;

	build_tree(&t, false);
	CHECK_OK(&ctx, pe_pprof_encode(&t, true, 0, &out, &len));
	f = fopen(ARTIFACT_PATH, "wb");
	CHECK(f != NULL);
	if (f)
	{
		CHECK(fwrite(out, 1, len, f) == len);
		fclose(f);
	}
	pe_free(&ctx, out);
	pe_tree_free(&t);
}

int
main(void)
{
	pe_ctx_init_malloc(&ctx);
	RUN(test_structure);
	RUN(test_round_trip);
	RUN(test_deterministic);
	RUN(test_empty_and_bare);
	RUN(test_deep);
	RUN(test_corpus);
	RUN(test_artifact);
	return unit_finish("pprof_encode");
}
