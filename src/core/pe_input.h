/*
 * pe_input.h
 *		Profile input of any accepted kind, told apart by its first bytes.
 */
#ifndef PE_INPUT_H
#define PE_INPUT_H

#include "pe_tree.h"

/*
 * Decode input bytes into t: the native stored format (any version this
 * build reads, fully validated) or pprof, gzipped or plain.  *native says
 * which it was (a caller may keep native bytes as they are).
 */
extern bool pe_input_decode(PeCtx *ctx, const uint8_t *data, size_t len,
							PeTree *t, bool *native);

#endif							/* PE_INPUT_H */
