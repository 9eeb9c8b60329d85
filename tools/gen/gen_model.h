/*
 * gen_model.h
 *		The simulated program behind one service of the demo fleet, and the
 *		encoder that turns samples of it into gzipped pprof.
 *
 * A model is built once per service from a seed: interned strings,
 * functions (name, file, first line), locations (one or two lines: the
 * second form is an inlined call), and stacks (location ids, leaf first,
 * as pprof wants them) with Zipf-like weights: CPU stacks, allocation
 * sites, and the stacks of the planted incidents.  The encoder reuses its
 * buffers from one profile to the next and emits only the locations,
 * functions and strings the samples use, like a real profiler.
 */
#ifndef GEN_MODEL_H
#define GEN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "profile.pb-c.h"

typedef enum GenLang
{
	LANG_GO,
	LANG_JAVA,
	LANG_PYTHON
} GenLang;

/* Vocabulary of one language style (NULL-terminated lists, see gen_names.c) */
typedef struct GenStyle
{
	const char *const *packages;
	const char *const *types;
	const char *const *methods;
	const char *const *roots;		/* entry chains ending in application code */
	const char *const *gc_roots;	/* runtime / VM threads */
	const char *const *gc_tails;
	const char *const *tails;		/* library chains under application code */
	const char *const *alloc_tails; /* allocating library chains */
	const char *const *inline_helpers;
	const char *binary;
	const char *build_id;
} GenStyle;

extern const GenStyle gen_styles[];

/* splitmix64: small, fast, and good enough for synthetic data */
typedef struct GenRng
{
	uint64_t	state;
} GenRng;

extern uint64_t gen_next(GenRng *rng);
extern double gen_uniform(GenRng *rng);
extern double gen_gauss(GenRng *rng);
extern uint64_t gen_hash(uint64_t a, uint64_t b);

typedef struct GenFunc
{
	uint32_t	name;			/* string ids */
	uint32_t	file;
	int64_t		start_line;
	uint32_t	callees[4];
	uint8_t		ncallees;
	uint8_t		nsites;			/* distinct call sites (locations) */
	bool		is_app;			/* application code (may inline helpers) */
} GenFunc;

typedef struct GenStack
{
	uint64_t   *locs;			/* location ids, leaf first */
	uint32_t   *funcs;			/* function indexes, root first */
	uint32_t	depth;			/* number of locations */
	uint32_t	nfuncs;			/* number of functions (before inlining) */
	uint32_t	app_end;		/* funcs[0..app_end) may be shared by children */
	double		weight;
} GenStack;

/* One allocation site's steady state */
typedef struct GenHeapSite
{
	double		inuse_bytes;
	double		alloc_per_minute;	/* bytes allocated per minute */
	uint32_t	object_size;
} GenHeapSite;

typedef struct GenModel
{
	const char *service;
	GenLang		lang;
	/* interned strings; 0 is "" */
	char	  **strings;
	uint32_t	nstrings,
				cap_strings;
	uint32_t   *string_slots;	/* open addressing: string id + 1, 0 = free */
	uint32_t	nslots;
	int32_t    *func_of_string; /* function index by name string id, -1 */
	uint32_t	cap_func_of_string;
	GenFunc    *funcs;
	uint32_t	nfuncs,
				cap_funcs;
	uint32_t   *app_funcs;		/* application code, callee candidates */
	uint32_t	napp;
	/* locations, and the prebuilt protobuf messages the encoder points to */
	uint32_t	nlocs,
				cap_locs;
	uint32_t   *loc_func;		/* [2 * i]: innermost line's function, outer */
	int64_t    *loc_line;
	uint8_t    *loc_nlines;
	uint64_t   *loc_slots;		/* (key << 32 | loc id), 0 = free */
	uint32_t	nloc_slots;
	Perftools__Profiles__Location *loc_msgs;
	Perftools__Profiles__Line *line_msgs;
	Perftools__Profiles__Line **line_ptrs;
	/* stacks */
	GenStack   *cpu;
	uint32_t	ncpu;
	GenStack   *heap;
	GenHeapSite *sites;
	uint32_t	nheap;
	GenStack   *regression;		/* checkout v2's N+1 JSON marshaling */
	uint32_t	nregression;
	int32_t		leak_site;		/* heap index of cart's leak, -1 */
	uint32_t	binary,
				build_id;
} GenModel;

/* Build the model of one service (lang style; nstacks CPU stacks) */
extern void gen_model_build(GenModel *m, const char *service, GenLang lang,
							uint32_t nstacks, uint64_t seed);
extern void gen_model_free(GenModel *m);

/* Names of the planted incidents */
#define GEN_REGRESSION_FUNCTION "encoding/json.(*encodeState).string"
#define GEN_REGRESSION_CALLER "github.com/acme/checkout/internal/order.(*Handler).renderItems"
#define GEN_LEAK_FUNCTION "cart.session.store:Store.remember"

typedef enum GenKind
{
	KIND_CPU,
	KIND_HEAP
} GenKind;

/* One sample: a stack and its values (2 for CPU, 4 for heap) */
typedef struct GenSample
{
	const GenStack *stack;
	int64_t		values[4];
} GenSample;

/* Reusable buffers for encoding profiles of any model */
typedef struct GenEncoder
{
	uint32_t	stamp;
	uint32_t   *string_stamp;
	uint32_t   *string_index;
	uint32_t	cap_string;
	uint32_t   *loc_stamp;
	uint32_t	cap_loc;
	uint32_t   *func_stamp;
	uint32_t	cap_func;
	char	  **table;
	Perftools__Profiles__Location **locs;
	Perftools__Profiles__Function *funcs;
	Perftools__Profiles__Function **func_ptrs;
	Perftools__Profiles__Sample *samples;
	Perftools__Profiles__Sample **sample_ptrs;
	int64_t    *values;
	uint32_t	cap_samples;
	uint8_t    *packed;
	size_t		cap_packed;
	uint8_t    *gz;
	size_t		cap_gz;
	z_stream	zs;
	int			level;
} GenEncoder;

extern void gen_encoder_init(GenEncoder *e, int gzip_level);
extern void gen_encoder_free(GenEncoder *e);

/* Encode samples as gzipped pprof; the result lives in e->gz until next call */
extern size_t gen_encode(GenEncoder *e, const GenModel *m, GenKind kind,
						 const GenSample *samples, uint32_t nsamples,
						 int64_t time_nanos, int64_t duration_nanos);

/* Allocation helpers that exit on failure (a tool, not a library) */
extern void *gen_alloc(size_t size);
extern void *gen_realloc(void *p, size_t size);

#endif							/* GEN_MODEL_H */
