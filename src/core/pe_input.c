/*
 * pe_input.c
 *		Profile input of any accepted kind (see pe_input.h).
 *
 * The native magic starts with the byte 0x7F, protobuf wire type 7, which
 * never starts a valid pprof message; gzip starts with 1F 8B.  So the
 * first bytes decide, and every reader (SQL input, the gateway, fuzzers)
 * decides the same way.
 */
#include "pe_codec.h"
#include "pe_input.h"
#include "pe_pprof.h"

bool
pe_input_decode(PeCtx *ctx, const uint8_t *data, size_t len, PeTree *t,
				bool *native)
{
	*native = pe_is_native(data, len);
	if (*native)
		return pe_decode(ctx, data, len, t);
	return pe_pprof_decode(ctx, data, len, t);
}
