/*
 * pe_codec.h
 *		The stored format of a profile value (docs/FORMAT.md).
 *
 * A 12-byte versioned header, then a body of columnar varints holding the
 * header fields, the name table and the call tree in canonical pre-order.
 * The body is zstd-compressed (with a content checksum) unless flags say
 * otherwise; aggregate serial states use the uncompressed form.
 */
#ifndef PE_CODEC_H
#define PE_CODEC_H

#include "pe_tree.h"

#define PE_MAGIC0		0x7F	/* wire type 7: never the start of pprof */
#define PE_MAGIC1		'P'
#define PE_MAGIC2		'R'
#define PE_MAGIC3		'F'
#define PE_FORMAT_VERSION	1
#define PE_FLAG_ZSTD	0x01
#define PE_HEADER_SIZE	12

/* True when data starts with the native magic (any version). */
extern bool pe_is_native(const uint8_t *data, size_t len);

/*
 * Encode t.  zstd_level 0 stores the body uncompressed.  The result is
 * allocated with room bytes free in front of it (for a varlena header):
 * *out points at the allocation, the value starts at *out + room.
 */
extern bool pe_encode(const PeTree *t, int zstd_level, size_t room,
					  uint8_t **out, size_t *outlen);

/* Decode and validate every field; on success t is a fresh tree. */
extern bool pe_decode(PeCtx *ctx, const uint8_t *data, size_t len, PeTree *t);

/*
 * Decode, validate and merge into dst (which must hold a profile already):
 * the fast path of the merge aggregate.  Scratch memory comes from ctx;
 * names and nodes are added to dst with dst's allocator, so an error may
 * be recorded in either context.
 */
extern bool pe_decode_merge(PeCtx *ctx, const uint8_t *data, size_t len,
							PeTree *dst);

#endif							/* PE_CODEC_H */
