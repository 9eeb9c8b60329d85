/*
 * unit.c
 *		Runner for the core unit tests (see unit.h).
 */
#include <stdlib.h>
#include <sys/stat.h>
#include "pe_tree.h"
#include "unit.h"

int			unit_failed_checks;
const char *unit_current;
static int	passed;
static int	failed;

void
unit_run(const char *name, unit_fn fn)
{
	int			before = unit_failed_checks;

	unit_current = name;
	fn();
	if (unit_failed_checks == before)
		passed++;
	else
	{
		failed++;
		fprintf(stderr, "FAIL %s\n", name);
	}
}

int
unit_finish(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, passed, failed);
	return failed ? 1 : 0;
}

unsigned char *
unit_read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	unsigned char *buf;
	long		n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? n : 1);
	if (fread(buf, 1, n, f) != (size_t) n)
	{
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

const char *
unit_corpus_dir(void)
{
	static const char *candidates[] = {"../shared/corpus", "../../shared/corpus", NULL};
	const char *env = getenv("PROFILE_EXT_CORPUS");
	struct stat st;

	if (env && stat(env, &st) == 0)
		return env;
	for (int i = 0; candidates[i]; i++)
		if (stat(candidates[i], &st) == 0)
			return candidates[i];
	printf("SKIP: corpus folder ../shared/corpus not found\n");
	return NULL;
}

void
unit_meta(PeMeta *m, PeSampleType *types, uint32_t n)
{
	static char empty[] = "";

	memset(m, 0, sizeof(*m));
	m->nvalues = n;
	m->types = types;
	m->period_type.type = empty;
	m->period_type.unit = empty;
	m->default_type = -1;
}

uint32_t
unit_add_stack(PeTree *t, const char *stack, const int64_t *values)
{
	uint32_t	node = 0;
	const char *p = stack;

	while (*p)
	{
		const char *end = strchr(p, ';');
		size_t		len = end ? (size_t) (end - p) : strlen(p);

		node = pe_tree_child(t, node, pe_strtab_intern(&t->names, p, len));
		p += len + (end ? 1 : 0);
	}
	CHECK(node != PE_NO_NODE);
	CHECK_OK(t->ctx, pe_tree_add_self(t, node, values));
	return node;
}

bool
unit_same_nodes(const PeTree *a, const PeTree *b)
{
	uint32_t	nv = a->meta.nvalues;
	PeOrder		oa,
				ob;
	bool		same;

	if (nv != b->meta.nvalues || !pe_tree_preorder(a, true, &oa))
		return false;
	if (!pe_tree_preorder(b, true, &ob))
	{
		pe_order_free(a->ctx, &oa);
		return false;
	}
	same = oa.n == ob.n;
	for (uint32_t i = 0; same && i < oa.n; i++)
	{
		uint32_t	la,
					lb;
		const char *na = pe_strtab_get(&a->names, a->name[oa.node[i]], &la);
		const char *nb = pe_strtab_get(&b->names, b->name[ob.node[i]], &lb);

		same = oa.depth[i] == ob.depth[i] && la == lb && memcmp(na, nb, la) == 0 &&
			memcmp(a->self + (size_t) oa.node[i] * nv, b->self + (size_t) ob.node[i] * nv,
				   sizeof(int64_t) * nv) == 0;
	}
	pe_order_free(a->ctx, &oa);
	pe_order_free(b->ctx, &ob);
	return same;
}

/* Allocations left before unit_fail_allocs_after's context fails them. */
static long allocs_left;

static void *
failing_alloc(void *arg, size_t size)
{
	return allocs_left-- > 0 ? malloc(size ? size : 1) : NULL;
}

static void *
failing_realloc(void *arg, void *ptr, size_t size)
{
	return allocs_left-- > 0 ? realloc(ptr, size ? size : 1) : NULL;
}

void
unit_fail_allocs_after(PeCtx *ctx, long n)
{
	ctx->alloc.alloc = failing_alloc;
	ctx->alloc.realloc = failing_realloc;
	allocs_left = n;
}

long		unit_interrupt_calls;

void
unit_count_interrupt(void)
{
	unit_interrupt_calls++;
}
