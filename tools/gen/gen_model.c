/*
 * gen_model.c
 *		Building a service's simulated program (functions, locations, stacks,
 *		allocation sites, planted incidents) and encoding samples of it as
 *		gzipped pprof with protobuf-c.
 *
 * Everything derives from the seed, so the same arguments give the same
 * bytes.  Stacks share prefixes the way real call trees do: a new stack
 * usually continues from part of an earlier, heavier one, then walks a fixed
 * call graph of application functions and ends in a library chain.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_model.h"

#define MAX_DEPTH	60
#define MIN_DEPTH	10

void *
gen_alloc(size_t size)
{
	void	   *p = calloc(1, size ? size : 1);

	if (p == NULL)
	{
		fprintf(stderr, "pe_gen: out of memory\n");
		exit(1);
	}
	return p;
}

void *
gen_realloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (p == NULL)
	{
		fprintf(stderr, "pe_gen: out of memory\n");
		exit(1);
	}
	return p;
}

uint64_t
gen_next(GenRng *rng)
{
	uint64_t	z = (rng->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1) */
double
gen_uniform(GenRng *rng)
{
	return (double) (gen_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal (Box-Muller, one value per call) */
double
gen_gauss(GenRng *rng)
{
	double		u = gen_uniform(rng);
	double		v = gen_uniform(rng);

	return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* Mix two values into a well-spread 64-bit hash */
uint64_t
gen_hash(uint64_t a, uint64_t b)
{
	GenRng		r = {a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL)};

	gen_next(&r);
	return gen_next(&r);
}

static uint32_t
pick(GenRng *rng, uint32_t n)
{
	return (uint32_t) (gen_uniform(rng) * n);
}

static uint32_t
list_length(const char *const *list)
{
	uint32_t	n = 0;

	while (list && list[n])
		n++;
	return n;
}

static uint64_t
hash_bytes(const char *s, size_t len)
{
	uint64_t	h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 1099511628211ULL;
	return h;
}

/* --- strings ------------------------------------------------------------ */

static void
grow_string_slots(GenModel *m)
{
	uint32_t	n = m->nslots ? m->nslots * 2 : 4096;
	uint32_t   *slots = gen_alloc(n * sizeof(uint32_t));

	for (uint32_t i = 0; i < m->nslots; i++)
	{
		uint32_t	id = m->string_slots[i];
		uint32_t	j;

		if (id == 0)
			continue;
		j = hash_bytes(m->strings[id - 1], strlen(m->strings[id - 1])) & (n - 1);
		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = id;
	}
	free(m->string_slots);
	m->string_slots = slots;
	m->nslots = n;
}

/* Id of a string of len bytes, added if new */
static uint32_t
intern_len(GenModel *m, const char *s, size_t len)
{
	uint32_t	j;

	if (2 * (m->nstrings + 1) > m->nslots)
		grow_string_slots(m);
	j = hash_bytes(s, len) & (m->nslots - 1);
	while (m->string_slots[j])
	{
		const char *t = m->strings[m->string_slots[j] - 1];

		if (strlen(t) == len && memcmp(t, s, len) == 0)
			return m->string_slots[j] - 1;
		j = (j + 1) & (m->nslots - 1);
	}
	if (m->nstrings == m->cap_strings)
	{
		m->cap_strings = m->cap_strings ? m->cap_strings * 2 : 1024;
		m->strings = gen_realloc(m->strings, m->cap_strings * sizeof(char *));
	}
	m->strings[m->nstrings] = gen_alloc(len + 1);
	memcpy(m->strings[m->nstrings], s, len);
	m->string_slots[j] = ++m->nstrings;
	return m->nstrings - 1;
}

static uint32_t
intern(GenModel *m, const char *s)
{
	return intern_len(m, s, strlen(s));
}

/* --- functions ---------------------------------------------------------- */

/* "FooBar" -> "foo_bar" */
static void
snake_case(const char *in, char *out, size_t cap)
{
	size_t		n = 0;

	for (size_t i = 0; in[i] && n + 2 < cap; i++)
	{
		char		c = in[i];

		if (c >= 'A' && c <= 'Z')
		{
			if (i > 0)
				out[n++] = '_';
			c = (char) (c - 'A' + 'a');
		}
		out[n++] = c;
	}
	out[n] = '\0';
}

/* The source file a function of this language style plausibly lives in */
static void
file_for(GenLang lang, const char *name, char *out, size_t cap)
{
	char		buf[512];
	const char *slash;
	const char *dot;
	const char *paren;

	if (lang == LANG_GO)
	{
		slash = strrchr(name, '/');
		dot = strchr(slash ? slash : name, '.');
		if (dot == NULL)
		{
			snprintf(out, cap, "%s.go", name);
			return;
		}
		paren = strstr(dot, "(*");
		if (paren)
		{
			const char *end = strchr(paren, ')');

			snprintf(buf, sizeof(buf), "%.*s", (int) (end ? end - paren - 2 : 0), paren + 2);
			snake_case(buf, buf + 256, 256);
		}
		else
			snprintf(buf + 256, 256, "%.*s", (int) (dot - (slash ? slash + 1 : name)),
					 slash ? slash + 1 : name);
		if (strncmp(name, "github.com/", 11) == 0 || strncmp(name, "google.golang.org/", 18) == 0 ||
			strncmp(name, "go.uber.org/", 12) == 0)
			snprintf(out, cap, "%.*s/%s.go", (int) (dot - name), name, buf + 256);
		else
			snprintf(out, cap, "/usr/local/go/src/%.*s/%s.go", (int) (dot - name), name, buf + 256);
	}
	else if (lang == LANG_JAVA)
	{
		dot = strrchr(name, '.');
		if (strstr(name, "::") || dot == NULL)
		{
			snprintf(out, cap, "%s", "libjvm.so");
			return;
		}
		snprintf(buf, sizeof(buf), "%.*s", (int) (dot - name), name);
		{
			char	   *inner = strchr(buf, '$');

			if (inner)
				*inner = '\0';
		}
		snprintf(out, cap, "%s.java", buf);
	}
	else
	{
		const char *colon = strchr(name, ':');
		size_t		mlen = colon ? (size_t) (colon - name) : strlen(name);
		size_t		n;

		snprintf(buf, sizeof(buf), "%.*s", (int) mlen, name);
		for (n = 0; buf[n]; n++)
			if (buf[n] == '.')
				buf[n] = '/';
		if (strncmp(name, "cart.", 5) == 0 || strncmp(name, "search.", 7) == 0 ||
			strncmp(name, "checkout.", 9) == 0)
			snprintf(out, cap, "/app/%s.py", buf);
		else
			snprintf(out, cap, "/usr/local/lib/python3.11/site-packages/%s.py", buf);
	}
}

/* Function index for a name (with "{svc}" replaced), created if new */
static uint32_t
func_for(GenModel *m, const char *pattern)
{
	char		name[512];
	char		file[600];
	const char *svc = strstr(pattern, "{svc}");
	uint32_t	id;
	GenFunc    *f;

	if (svc)
		snprintf(name, sizeof(name), "%.*s%s%s", (int) (svc - pattern), pattern,
				 m->service, svc + 5);
	else
		snprintf(name, sizeof(name), "%s", pattern);
	id = intern(m, name);
	if (id >= m->cap_func_of_string)
	{
		uint32_t	old = m->cap_func_of_string;

		m->cap_func_of_string = (id + 1) * 2;
		m->func_of_string = gen_realloc(m->func_of_string,
										m->cap_func_of_string * sizeof(int32_t));
		for (uint32_t i = old; i < m->cap_func_of_string; i++)
			m->func_of_string[i] = -1;
	}
	if (m->func_of_string[id] >= 0)
		return (uint32_t) m->func_of_string[id];
	if (m->nfuncs == m->cap_funcs)
	{
		m->cap_funcs = m->cap_funcs ? m->cap_funcs * 2 : 1024;
		m->funcs = gen_realloc(m->funcs, m->cap_funcs * sizeof(GenFunc));
	}
	f = &m->funcs[m->nfuncs];
	memset(f, 0, sizeof(*f));
	f->name = id;
	file_for(m->lang, name, file, sizeof(file));
	f->file = intern(m, file);
	f->start_line = 12 + (int64_t) (gen_hash(id, 7) % 900);
	f->nsites = 1 + (uint8_t) (gen_hash(id, 11) % 3);
	m->func_of_string[id] = (int32_t) m->nfuncs;
	return m->nfuncs++;
}

/* Application functions: combinations of the style's words */
static void
make_app_funcs(GenModel *m, GenRng *rng, uint32_t count)
{
	const GenStyle *st = &gen_styles[m->lang];
	uint32_t	np = list_length(st->packages);
	uint32_t	nt = list_length(st->types);
	uint32_t	nm = list_length(st->methods);
	char		name[512];
	char		module[128];

	m->app_funcs = gen_alloc(count * sizeof(uint32_t));
	for (uint32_t i = 0; i < count; i++)
	{
		const char *pkg = st->packages[pick(rng, np)];
		const char *type = st->types[pick(rng, nt)];
		const char *method = st->methods[pick(rng, nm)];

		if (m->lang == LANG_GO)
			snprintf(name, sizeof(name), "github.com/acme/%s/internal/%s.(*%s).%s%s",
					 m->service, pkg, type, method,
					 gen_uniform(rng) < 0.06 ? ".func1" : "");
		else if (m->lang == LANG_JAVA)
			snprintf(name, sizeof(name), "com/acme/%s/%s/%s.%s%s", m->service, pkg,
					 type, method, gen_uniform(rng) < 0.05 ? "$lambda$0" : "");
		else
		{
			snake_case(type, module, sizeof(module));
			snprintf(name, sizeof(name), "%s.%s.%s:%s.%s", m->service, pkg, module,
					 type, method);
		}
		m->app_funcs[m->napp] = func_for(m, name);
		m->funcs[m->app_funcs[m->napp++]].is_app = true;
	}
}

/* The functions f calls (fixed per model: a call graph) */
static const uint32_t *
callees_of(GenModel *m, uint32_t f, GenRng *rng)
{
	GenFunc    *fn = &m->funcs[f];

	if (fn->ncallees == 0)
	{
		fn->ncallees = 2 + (uint8_t) pick(rng, 3);
		for (uint8_t i = 0; i < fn->ncallees; i++)
			fn->callees[i] = m->app_funcs[pick(rng, m->napp)];
	}
	return fn->callees;
}

/* --- locations ---------------------------------------------------------- */

/* Location of the call from f to callee (UINT32_MAX: f is the leaf) */
static uint32_t
location_for(GenModel *m, uint32_t f, uint32_t callee)
{
	uint32_t	site = (uint32_t) (gen_hash(callee, f) % m->funcs[f].nsites);
	uint64_t	key = ((uint64_t) f << 2 | site) + 1;
	uint32_t	j;
	uint32_t	id;
	const GenStyle *st = &gen_styles[m->lang];

	if (2 * (m->nlocs + 1) > m->nloc_slots)
	{
		uint32_t	n = m->nloc_slots ? m->nloc_slots * 2 : 8192;
		uint64_t   *slots = gen_alloc(n * sizeof(uint64_t));

		for (uint32_t i = 0; i < m->nloc_slots; i++)
		{
			uint64_t	e = m->loc_slots[i];

			if (e == 0)
				continue;
			j = gen_hash(e >> 32, 3) & (n - 1);
			while (slots[j])
				j = (j + 1) & (n - 1);
			slots[j] = e;
		}
		free(m->loc_slots);
		m->loc_slots = slots;
		m->nloc_slots = n;
	}
	j = gen_hash(key, 3) & (m->nloc_slots - 1);
	while (m->loc_slots[j])
	{
		if ((m->loc_slots[j] >> 32) == key)
			return (uint32_t) m->loc_slots[j];
		j = (j + 1) & (m->nloc_slots - 1);
	}
	if (m->nlocs == m->cap_locs)
	{
		m->cap_locs = m->cap_locs ? m->cap_locs * 2 : 4096;
		m->loc_func = gen_realloc(m->loc_func, 2 * m->cap_locs * sizeof(uint32_t));
		m->loc_line = gen_realloc(m->loc_line, 2 * m->cap_locs * sizeof(int64_t));
		m->loc_nlines = gen_realloc(m->loc_nlines, m->cap_locs);
	}
	id = m->nlocs++;
	m->loc_func[2 * id] = f;
	m->loc_line[2 * id] = m->funcs[f].start_line + 2 + site * 9 + (int64_t) (gen_hash(key, 5) % 7);
	m->loc_nlines[id] = 1;
	/* Some call sites go through a small inlined helper: two lines. */
	if (st->inline_helpers && m->funcs[f].is_app && callee != UINT32_MAX &&
		gen_hash(key, 13) % 100 < 20)
	{
		uint32_t	nh = list_length(st->inline_helpers);
		uint32_t	h = func_for(m, st->inline_helpers[gen_hash(key, 17) % nh]);

		if (h != f)
		{
			m->loc_func[2 * id + 1] = f;
			m->loc_line[2 * id + 1] = m->loc_line[2 * id];
			m->loc_func[2 * id] = h;
			m->loc_line[2 * id] = m->funcs[h].start_line + 1 + (int64_t) (gen_hash(key, 19) % 4);
			m->loc_nlines[id] = 2;
		}
	}
	m->loc_slots[j] = key << 32 | id;
	return id;
}

/* Split a ';'-separated chain into function indexes appended to seq */
static uint32_t
append_chain(GenModel *m, const char *chain, uint32_t *seq, uint32_t n, uint32_t max,
			 uint32_t limit)
{
	const char *p = chain;
	uint32_t	taken = 0;

	while (*p && n < max && taken < limit)
	{
		const char *end = strchr(p, ';');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		char		frame[512];

		snprintf(frame, sizeof(frame), "%.*s", (int) len, p);
		seq[n++] = func_for(m, frame);
		taken++;
		p += len;
		if (*p == ';')
			p++;
	}
	return n;
}

static uint32_t
chain_length(const char *chain)
{
	uint32_t	n = 1;

	for (const char *p = chain; *p; p++)
		n += (*p == ';');
	return n;
}

/* Turn a root-first function sequence into a stack of locations */
static void
finish_stack(GenModel *m, GenStack *s, const uint32_t *seq, uint32_t n, uint32_t app_end)
{
	s->funcs = gen_alloc(n * sizeof(uint32_t));
	memcpy(s->funcs, seq, n * sizeof(uint32_t));
	s->nfuncs = n;
	s->app_end = app_end;
	s->locs = gen_alloc(n * sizeof(uint64_t));
	s->depth = n;
	for (uint32_t d = 0; d < n; d++)
	{
		uint32_t	loc = location_for(m, seq[d], d + 1 < n ? seq[d + 1] : UINT32_MAX);

		s->locs[n - 1 - d] = (uint64_t) loc + 1;
	}
}

/*
 * Build stacks: each continues part of an earlier one (heavier ones more
 * often) or starts from an entry chain, walks the call graph, and ends in a
 * library chain from tails.
 */
static void
build_stacks(GenModel *m, GenRng *rng, GenStack *out, uint32_t count,
			 const char *const *tails, bool with_gc)
{
	const GenStyle *st = &gen_styles[m->lang];
	uint32_t	nroots = list_length(st->roots);
	uint32_t	ntails = list_length(tails);
	uint32_t	ngc = list_length(st->gc_roots);
	uint32_t	ngct = list_length(st->gc_tails);
	uint32_t	seq[MAX_DEPTH + 8];

	for (uint32_t i = 0; i < count; i++)
	{
		uint32_t	n = 0;
		uint32_t	app_end;
		uint32_t	target;
		uint32_t	tail_len;
		const char *tail;
		double		u = gen_uniform(rng);

		if (with_gc && ngc && u < 0.07)
		{
			/* runtime / VM work: short stacks with no application code */
			n = append_chain(m, st->gc_roots[pick(rng, ngc)], seq, 0, MAX_DEPTH, MAX_DEPTH);
			app_end = n;
			tail = st->gc_tails[pick(rng, ngct)];
			n = append_chain(m, tail, seq, n, MAX_DEPTH, 1 + pick(rng, chain_length(tail)));
			finish_stack(m, &out[i], seq, n, app_end);
			continue;
		}
		if (i > 0 && u < 0.82)
		{
			/* continue from part of an earlier stack, biased to heavy ones */
			const GenStack *parent = &out[(uint32_t) (i * pow(gen_uniform(rng), 2.5))];
			uint32_t	lo = parent->app_end > 3 ? parent->app_end / 2 : parent->app_end;

			n = lo + pick(rng, parent->app_end - lo + 1);
			if (n == 0)
				n = 1;
			memcpy(seq, parent->funcs, n * sizeof(uint32_t));
		}
		else
			n = append_chain(m, st->roots[pick(rng, nroots)], seq, 0, MAX_DEPTH, MAX_DEPTH);

		tail = tails[pick(rng, ntails)];
		tail_len = chain_length(tail);
		if (gen_uniform(rng) < 0.45)
			tail_len = 1 + pick(rng, tail_len);
		target = (uint32_t) fmax(MIN_DEPTH, fmin(MAX_DEPTH, 24 + 9 * gen_gauss(rng)));
		if (target < n + tail_len + 1)
			target = n + tail_len + 1;
		if (target > MAX_DEPTH)
			target = MAX_DEPTH;
		while (n + tail_len < target && n < MAX_DEPTH)
		{
			const uint32_t *callees = callees_of(m, seq[n - 1], rng);

			seq[n] = callees[pick(rng, m->funcs[seq[n - 1]].ncallees)];
			n++;
		}
		app_end = n;
		n = append_chain(m, tail, seq, n, MAX_DEPTH, tail_len);
		finish_stack(m, &out[i], seq, n, app_end);
	}
}

/* A stack from explicit chains: root part, then tail */
static void
fixed_stack(GenModel *m, GenStack *s, const char *root, const char *tail)
{
	uint32_t	seq[MAX_DEPTH + 8];
	uint32_t	n = append_chain(m, root, seq, 0, MAX_DEPTH, MAX_DEPTH);
	uint32_t	app_end = n;

	n = append_chain(m, tail, seq, n, MAX_DEPTH, MAX_DEPTH);
	finish_stack(m, s, seq, n, app_end);
}

/* --- incidents ---------------------------------------------------------- */

static const char regression_root[] =
	"runtime.goexit;net/http.(*conn).serve;net/http.serverHandler.ServeHTTP;"
	"net/http.(*ServeMux).ServeHTTP;net/http.HandlerFunc.ServeHTTP;"
	"github.com/acme/checkout/internal/api.(*Server).middleware.func1;"
	"github.com/acme/checkout/internal/api.(*Server).route;"
	GEN_REGRESSION_CALLER;

#define JSON_ENCODE "encoding/json.Marshal;encoding/json.(*encodeState).marshal;" \
	"encoding/json.(*encodeState).reflectValue;encoding/json.ptrEncoder.encode;" \
	"encoding/json.structEncoder.encode"

static const struct
{
	const char *tail;
	double		weight;
}			regression_tails[] =
{
	{JSON_ENCODE ";encoding/json.arrayEncoder.encode;encoding/json.ptrEncoder.encode;"
	 "encoding/json.structEncoder.encode;encoding/json.stringEncoder;"
	 GEN_REGRESSION_FUNCTION, 34},
	{JSON_ENCODE ";encoding/json.stringEncoder;" GEN_REGRESSION_FUNCTION, 16},
	{JSON_ENCODE ";encoding/json.floatEncoder.encode;strconv.AppendFloat;"
	 "strconv.genericFtoa;strconv.ryuFtoaShortest", 10},
	{JSON_ENCODE ";reflect.Value.Field", 8},
	{"encoding/json.Marshal;runtime.growslice;runtime.mallocgc;"
	 "runtime.memclrNoHeapPointers", 12},
	{"encoding/json.Marshal;encoding/json.newEncodeState;sync.(*Pool).Get;"
	 "sync.(*Pool).getSlow", 5},
	{JSON_ENCODE ";encoding/json.mapEncoder.encode;slices.SortFunc;"
	 "slices.pdqsortCmpFunc", 8},
	{JSON_ENCODE ";encoding/json.stringEncoder;" GEN_REGRESSION_FUNCTION
	 ";unicode/utf8.DecodeRuneInString", 7},
};

static const char leak_root[] =
	"gunicorn.app.base:BaseApplication.run;gunicorn.arbiter:Arbiter.run;"
	"gunicorn.arbiter:Arbiter.spawn_worker;gunicorn.workers.sync:SyncWorker.run;"
	"gunicorn.workers.sync:SyncWorker.handle;gunicorn.workers.sync:SyncWorker.handle_request;"
	"flask.app:Flask.__call__;flask.app:Flask.wsgi_app;flask.app:Flask.full_dispatch_request;"
	"flask.app:Flask.dispatch_request;cart.api.views:cart_view;"
	"cart.session.middleware:SessionMiddleware.process_request;"
	"cart.session.store:Store.load";

/* Steady-state heap of each allocation site: Zipf sizes, mixed churn */
static void
make_heap_sites(GenModel *m, GenRng *rng, double total_inuse)
{
	static const uint32_t sizes[] = {16, 32, 48, 64, 96, 128, 256, 512, 1024, 4096, 16384};
	double		sum = 0;

	for (uint32_t i = 0; i < m->nheap; i++)
		sum += m->heap[i].weight = 1.0 / pow(i + 1.0, 1.1);
	for (uint32_t i = 0; i < m->nheap; i++)
	{
		GenHeapSite *s = &m->sites[i];
		double		u = gen_uniform(rng);

		s->inuse_bytes = total_inuse * m->heap[i].weight / sum;
		s->alloc_per_minute = s->inuse_bytes * (0.3 + 25.0 * u * u);
		s->object_size = sizes[pick(rng, sizeof(sizes) / sizeof(sizes[0]))];
	}
}

/* Prebuild one Location message (with its Line messages) per location */
static void
build_location_messages(GenModel *m)
{
	m->loc_msgs = gen_alloc(m->nlocs * sizeof(Perftools__Profiles__Location));
	m->line_msgs = gen_alloc(2 * m->nlocs * sizeof(Perftools__Profiles__Line));
	m->line_ptrs = gen_alloc(2 * m->nlocs * sizeof(Perftools__Profiles__Line *));
	for (uint32_t i = 0; i < m->nlocs; i++)
	{
		Perftools__Profiles__Location *l = &m->loc_msgs[i];

		perftools__profiles__location__init(l);
		l->id = i + 1;
		l->mapping_id = 1;
		l->address = 0x401000 + (uint64_t) i * 0x40 + gen_hash(i, 23) % 0x30;
		l->n_line = m->loc_nlines[i];
		l->line = &m->line_ptrs[2 * i];
		for (uint32_t k = 0; k < l->n_line; k++)
		{
			Perftools__Profiles__Line *ln = &m->line_msgs[2 * i + k];

			perftools__profiles__line__init(ln);
			ln->function_id = m->loc_func[2 * i + k] + 1;
			ln->line = m->loc_line[2 * i + k];
			m->line_ptrs[2 * i + k] = ln;
		}
	}
}

void
gen_model_build(GenModel *m, const char *service, GenLang lang, uint32_t nstacks,
				uint64_t seed)
{
	GenRng		rng = {gen_hash(seed, hash_bytes(service, strlen(service)))};
	const GenStyle *st = &gen_styles[lang];
	double		sum = 0;

	memset(m, 0, sizeof(*m));
	m->service = service;
	m->lang = lang;
	m->leak_site = -1;
	intern(m, "");
	m->binary = intern(m, st->binary);
	m->build_id = intern(m, st->build_id);
	make_app_funcs(m, &rng, 120 + nstacks / 10);

	m->ncpu = nstacks;
	m->cpu = gen_alloc(nstacks * sizeof(GenStack));
	build_stacks(m, &rng, m->cpu, nstacks, st->tails, true);
	for (uint32_t i = 0; i < nstacks; i++)
		sum += m->cpu[i].weight = 1.0 / pow(i + 1.0, 0.95);
	for (uint32_t i = 0; i < nstacks; i++)
		m->cpu[i].weight /= sum;

	m->nheap = nstacks / 8 + 20;
	m->heap = gen_alloc((m->nheap + 1) * sizeof(GenStack));
	m->sites = gen_alloc((m->nheap + 1) * sizeof(GenHeapSite));
	build_stacks(m, &rng, m->heap, m->nheap, st->alloc_tails, false);
	make_heap_sites(m, &rng, lang == LANG_JAVA ? 220e6 : lang == LANG_GO ? 160e6 : 90e6);

	if (strcmp(service, "checkout") == 0 && lang == LANG_GO)
	{
		uint32_t	n = sizeof(regression_tails) / sizeof(regression_tails[0]);

		sum = 0;
		m->regression = gen_alloc(n * sizeof(GenStack));
		m->nregression = n;
		for (uint32_t i = 0; i < n; i++)
		{
			fixed_stack(m, &m->regression[i], regression_root, regression_tails[i].tail);
			sum += m->regression[i].weight = regression_tails[i].weight;
		}
		for (uint32_t i = 0; i < n; i++)
			m->regression[i].weight /= sum;
	}
	if (strcmp(service, "cart") == 0 && lang == LANG_PYTHON)
	{
		/* one extra allocation site, whose inuse the scenario grows */
		m->leak_site = (int32_t) m->nheap;
		fixed_stack(m, &m->heap[m->nheap], leak_root, GEN_LEAK_FUNCTION);
		m->sites[m->nheap].object_size = 512;
		m->nheap++;
	}
	build_location_messages(m);
}

void
gen_model_free(GenModel *m)
{
	GenStack   *lists[] = {m->cpu, m->heap, m->regression};
	uint32_t	counts[] = {m->ncpu, m->nheap, m->nregression};

	for (int k = 0; k < 3; k++)
	{
		for (uint32_t i = 0; i < counts[k]; i++)
		{
			free(lists[k][i].locs);
			free(lists[k][i].funcs);
		}
		free(lists[k]);
	}
	for (uint32_t i = 0; i < m->nstrings; i++)
		free(m->strings[i]);
	free(m->strings);
	free(m->string_slots);
	free(m->func_of_string);
	free(m->funcs);
	free(m->app_funcs);
	free(m->loc_func);
	free(m->loc_line);
	free(m->loc_nlines);
	free(m->loc_slots);
	free(m->loc_msgs);
	free(m->line_msgs);
	free(m->line_ptrs);
	free(m->sites);
	memset(m, 0, sizeof(*m));
}
