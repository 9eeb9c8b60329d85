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
