/*
 * unit.h
 *		A minimal test harness for the core: CHECK() counts, main() runs
 *		every TEST() registered with RUN() and prints "N passed, N failed".
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>
#include "pe_core.h"

extern int	unit_failed_checks;
extern const char *unit_current;

#define CHECK(cond) do { \
	if (!(cond)) { \
		unit_failed_checks++; \
		fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, \
				unit_current, #cond); \
	} \
} while (0)

#define CHECK_OK(ctx, call) do { \
	if (!(call)) { \
		unit_failed_checks++; \
		fprintf(stderr, "%s:%d: %s: %s failed: %s (%s)\n", __FILE__, __LINE__, \
				unit_current, #call, (ctx)->err.msg, (ctx)->err.detail); \
	} \
} while (0)

typedef void (*unit_fn) (void);
extern void unit_run(const char *name, unit_fn fn);
extern int	unit_finish(const char *suite);
/* Read a whole file; NULL when it cannot be read. */
extern unsigned char *unit_read_file(const char *path, size_t *len);
/* The shared corpus folder, or NULL (and a skip message) when absent. */
extern const char *unit_corpus_dir(void);

/* A header with these sample types, no period type, no default type. */
struct PeMeta;
struct PeSampleType;
extern void unit_meta(struct PeMeta *m, struct PeSampleType *types, uint32_t n);

struct PeTree;
/* Add values (one per column) at the stack "a;b;c", root first ("" is the root). */
extern uint32_t unit_add_stack(struct PeTree *t, const char *stack, const int64_t *values);
/* The same pre-order walk of non-zero nodes: depths, names and every column. */
extern bool unit_same_nodes(const struct PeTree *a, const struct PeTree *b);
/* From now on ctx's allocations fail once n more have succeeded (free still frees). */
extern void unit_fail_allocs_after(PeCtx *ctx, long n);
/* An interrupt check (PeCtx.check_interrupts) that counts its calls. */
extern long unit_interrupt_calls;
extern void unit_count_interrupt(void);

#define RUN(fn) unit_run(#fn, fn)

#endif
