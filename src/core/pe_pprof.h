/*
 * pe_pprof.h
 *		pprof (profile.proto) in and out.
 */
#ifndef PE_PPROF_H
#define PE_PPROF_H

#include "pe_tree.h"

/* True when data looks like gzip (magic 1f 8b). */
extern bool pe_is_gzip(const uint8_t *data, size_t len);

/*
 * Decode a pprof profile, gzipped or plain, into a fresh call tree.
 * Frames are function names, root to leaf; inlined lines expand into one
 * frame each; a location without lines is named by its address ("0x1f2e").
 */
extern bool pe_pprof_decode(PeCtx *ctx, const uint8_t *data, size_t len,
							PeTree *t);

/*
 * Inflate gzip data (any number of members) into a new buffer, refusing to
 * produce more than ctx->limits.max_decoded_bytes.
 */
extern bool pe_gunzip(PeCtx *ctx, const uint8_t *data, size_t len,
					  uint8_t **out, size_t *outlen);

/*
 * A profile split by its string sample labels, as Pyroscope promotes them
 * to series labels: one tree per distinct set of string labels (keys in
 * skip_keys, such as span_id, do not split).  Labels are sorted by key,
 * one per key (the first wins); bytes are copied as they are, so the
 * caller validates them.  A profile without nonzero samples yields one
 * series without labels.
 */
typedef struct PeSeries
{
	uint32_t	nlabels;
	char	  **keys;			/* NUL-terminated copies (may hold NULs) */
	char	  **values;
	uint32_t   *key_len;
	uint32_t   *value_len;
	PeTree		tree;
} PeSeries;

typedef struct PeSplitOptions
{
	const char *const *skip_keys;	/* string labels that do not split */
	size_t		nskip;
	uint32_t	max_sample_labels;	/* labels on one sample; 0: no limit */
} PeSplitOptions;

typedef struct PeSplit
{
	uint32_t	nseries;
	PeSeries   *series;
	uint64_t	nsamples;		/* samples in the message, zero or not */
} PeSplit;

extern bool pe_pprof_decode_split(PeCtx *ctx, const uint8_t *data, size_t len,
								  const PeSplitOptions *opt, PeSplit *out);
extern void pe_split_free(PeCtx *ctx, PeSplit *s);

/* Encode t as pprof: one function and one location per distinct frame. */
extern bool pe_pprof_encode(const PeTree *t, bool gzip, size_t room,
							uint8_t **out, size_t *outlen);

#endif							/* PE_PPROF_H */
