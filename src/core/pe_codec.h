/*
 * pe_codec.h
 *		The stored format of a profile value (docs/FORMAT.md).
 *
 * A versioned header, then (version 2 or later) an uncompressed summary: the header
 * fields, node and function counts and the total of each sample type, which
 * the accessors read from the first bytes of a value without decoding the
 * tree; then a body of columnar varints holding the name table and the call
 * tree in canonical pre-order (version 1: the header fields too).  The body
 * is zstd-compressed (with a content checksum) unless flags say otherwise;
 * aggregate serial states use the uncompressed form.
 */
#ifndef PE_CODEC_H
#define PE_CODEC_H

#include "pe_tree.h"

#define PE_MAGIC0		0x7F	/* wire type 7: never the start of pprof */
#define PE_MAGIC1		'P'
#define PE_MAGIC2		'R'
#define PE_MAGIC3		'F'
#define PE_FORMAT_VERSION	4	/* what pe_encode writes; 1 to 4 are read */
#define PE_FLAG_ZSTD	0x01
#define PE_HEADER_SIZE	12		/* version 1 header */
#define PE_HEADER_SIZE_V2	20	/* versions 2-4: also the summary's size and CRC */

/* What the first bytes of a value of version 2 or later say without decoding the tree. */
typedef struct PeSummary
{
	PeMeta		meta;
	uint8_t		version;
	bool		compressed;
	uint32_t	nnodes;			/* stored nodes, the root not counted */
	uint32_t	nfunctions;		/* distinct frame names */
	uint64_t	overflow;		/* bit v: the total of type v leaves 64 bits */
	int64_t		totals[PE_MAX_VALUES];	/* sum of all values of each type */
	uint64_t	decoded_bytes;	/* header, summary and uncompressed body */
	uint64_t	stored_bytes;
} PeSummary;

/* True when data starts with the native magic (any version). */
extern bool pe_is_native(const uint8_t *data, size_t len);

/*
 * Encode t.  zstd_level 0 stores the body uncompressed.  The result is
 * allocated with room bytes free in front of it (for a varlena header):
 * *out points at the allocation, the value starts at *out + room.
 */
extern bool pe_encode(const PeTree *t, int zstd_level, size_t room,
					  uint8_t **out, size_t *outlen);

/* pe_encode in an older layout (1 or 2), for tests and fixtures. */
extern bool pe_encode_version(const PeTree *t, int version, int zstd_level,
							  size_t room, uint8_t **out, size_t *outlen);

/* Decode and validate every field; on success t is a fresh tree. */
extern bool pe_decode(PeCtx *ctx, const uint8_t *data, size_t len, PeTree *t);

/*
 * Decode, validate and merge into dst (which must hold a profile already):
 * the fast path of the merge aggregate.  Scratch memory comes from ctx;
 * names and nodes are added to dst with dst's allocator, so an error may
 * be recorded in either context.  A value that fails validation leaves
 * dst's nodes and values as they were (its names may have been added to
 * dst's table; unused names are never stored).  A failure while adding
 * (an overflow, max_nodes, out of memory) leaves part of the value added:
 * dst is then consistent and safe to free, but no meaningful merge.
 */
extern bool pe_decode_merge(PeCtx *ctx, const uint8_t *data, size_t len,
							PeTree *dst);

/*
 * How many leading bytes pe_decode_summary needs, judging by the first len
 * bytes: the header and summary of a value of version 2 or later (at least 20), or 0
 * when it needs the whole value (version 1, or not a value at all).
 */
extern size_t pe_summary_prefix(const uint8_t *data, size_t len);

/*
 * Read the summary of a value of len bytes from its first have bytes.
 * Version 2: the header and the summary are checked, the tree is not
 * touched (pe_decode checks the summary against it).  Version 1: have
 * must be len; the tree is decoded and summed.
 */
extern bool pe_decode_summary(PeCtx *ctx, const uint8_t *data, size_t have,
							  size_t len, PeSummary *s);
extern void pe_summary_free(PeCtx *ctx, PeSummary *s);

/* The total of sample type v, or PE_ERR_OVERFLOW when it leaves 64 bits. */
extern bool pe_summary_total(PeCtx *ctx, const PeSummary *s, uint32_t v,
							 int64_t *total);

#endif							/* PE_CODEC_H */
