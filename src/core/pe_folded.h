/*
 * pe_folded.h
 *		Folded ("collapsed") stacks: "root;child;leaf 42" per line.
 *
 * The format of flamegraph.pl, inferno and speedscope, extended to several
 * sample types: a line carries one integer per sample type after the stack.
 * The exact parsing rules are in the header comment of pe_folded.c.
 */
#ifndef PE_FOLDED_H
#define PE_FOLDED_H

#include "pe_tree.h"

/*
 * Parse folded text into a fresh tree whose header is a copy of meta (which
 * needs at least one sample type): every line carries meta->nvalues values.
 * On failure t is left freed and ctx->err names the offending line.
 */
extern bool pe_folded_parse(PeCtx *ctx, const char *text, size_t len,
							const PeMeta *meta, PeTree *t);

/*
 * One line per node with a non-zero self value in column v, in canonical
 * pre-order.  *out is allocated from the tree's context and NUL-terminated
 * (the NUL is not counted in *outlen).  Fails with PE_ERR_ARG when a frame
 * name cannot be written unambiguously (empty, or holding ';', '\n', NUL).
 */
extern bool pe_folded_write(const PeTree *t, uint32_t v, char **out,
							size_t *outlen);

#endif							/* PE_FOLDED_H */
