/*
 * pb_builder.h
 *		Builds pprof messages for the tests: the unit tests, the hostile
 *		input generator and the fuzzers' seed builder all use this one
 *		builder on top of the generated protobuf-c structs.
 *
 * Each call appends one element and returns it, so that a test can then
 * break exactly the field it is about.  Everything is malloc'd; pb_free
 * releases what the builder and the caller's edits (malloc'd strings,
 * comments, labels) hold.  Out of memory aborts the program.
 */
#ifndef PB_BUILDER_H
#define PB_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile PbProfile;
typedef Perftools__Profiles__ValueType PbValueType;
typedef Perftools__Profiles__Sample PbSample;
typedef Perftools__Profiles__Label PbLabel;
typedef Perftools__Profiles__Mapping PbMapping;
typedef Perftools__Profiles__Location PbLocation;
typedef Perftools__Profiles__Line PbLine;
typedef Perftools__Profiles__Function PbFunction;

typedef struct PbBuilder
{
	PbProfile	p;
	PbValueType period_type;	/* p.period_type points here once set */
	bool		reuse_strings;	/* pb_str returns an equal entry of a small table */
} PbBuilder;

/* An empty profile: no strings, no sample types. */
extern void pb_init(PbBuilder *b);

/*
 * A profile with string 0 = "" and the sample types "type/unit,type/unit";
 * equal strings share one entry while the table is small.
 */
extern void pb_init_types(PbBuilder *b, const char *types);

/* Append s to the string table (or reuse an equal entry); returns its index. */
extern int64_t pb_str(PbBuilder *b, const char *s);

extern PbValueType *pb_type_idx(PbBuilder *b, int64_t type, int64_t unit);
extern PbValueType *pb_type(PbBuilder *b, const char *type, const char *unit);
extern void pb_period(PbBuilder *b, const char *type, const char *unit, int64_t period);

extern PbFunction *pb_func(PbBuilder *b, uint64_t id, const char *name);

/* A mapping covering 0x400000-0x800000. */
extern PbMapping *pb_mapping(PbBuilder *b, uint64_t id);

/* A location whose lines name functions fids[0] (innermost) onwards. */
extern PbLocation *pb_loc(PbBuilder *b, uint64_t id, uint64_t mapping_id,
						  uint64_t address, size_t nlines, const uint64_t *fids);

/* A sample: locs[0] is the leaf, as in pprof. */
extern PbSample *pb_sample(PbBuilder *b, size_t nlocs, const uint64_t *locs,
						   size_t nvals, const int64_t *vals);
extern PbLabel *pb_label(PbSample *s, int64_t key, int64_t str);

/* The packed message (malloc'd; *len bytes). */
extern uint8_t *pb_pack(const PbBuilder *b, size_t *len);

extern void pb_free(PbBuilder *b);

#endif							/* PB_BUILDER_H */
