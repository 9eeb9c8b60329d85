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

/* Encode t as pprof: one function and one location per distinct frame. */
extern bool pe_pprof_encode(const PeTree *t, bool gzip, size_t room,
							uint8_t **out, size_t *outlen);

#endif							/* PE_PPROF_H */
