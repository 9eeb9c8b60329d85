/*
 * gw_sd.c
 *		File service discovery: glob, stat, re-read what changed.
 */
#include "gw_sd.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct SdFile
{
	char	   *path;
	struct timespec mtime;
	off_t		size;
	ino_t		ino;
	int64_t		read_at_ms;
	int64_t		refresh_ms;
	GwTargetGroup *groups;
	size_t		ngroups;
} SdFile;

struct GwSd
{
	const GwFileSd *configs;	/* owned by the config, which outlives us */
	size_t		nconfigs;
	SdFile	   *files;
	size_t		nfiles;
	/* flattened view for gw_sd_group */
	const GwTargetGroup **view;
	size_t		nview;
};

GwSd *
gw_sd_new(const GwFileSd *configs, size_t nconfigs)
{
	GwSd	   *sd = calloc(1, sizeof(GwSd));

	if (!sd)
		abort();
	sd->configs = configs;
	sd->nconfigs = nconfigs;
	return sd;
}

static void
file_free(SdFile *f)
{
	free(f->path);
	gw_target_groups_free(f->groups, f->ngroups);
}

void
gw_sd_free(GwSd *sd)
{
	if (!sd)
		return;
	for (size_t i = 0; i < sd->nfiles; i++)
		file_free(&sd->files[i]);
	free(sd->files);
	free(sd->view);
	free(sd);
}

static int
cmp_path(const void *a, const void *b)
{
	return strcmp(((const SdFile *) a)->path, ((const SdFile *) b)->path);
}

/* Read f when it changed; true when its groups changed. */
static bool
file_update(SdFile *f, const struct stat *st, int64_t now_ms, GwSdLog log)
{
	char		err[1024];
	char	   *text;
	size_t		len;
	GwTargetGroup *groups;
	size_t		ngroups;

	if (f->read_at_ms && f->size == st->st_size && f->ino == st->st_ino &&
		f->mtime.tv_sec == st->st_mtim.tv_sec &&
		f->mtime.tv_nsec == st->st_mtim.tv_nsec &&
		now_ms - f->read_at_ms < f->refresh_ms)
		return false;
	f->size = st->st_size;
	f->ino = st->st_ino;
	f->mtime = st->st_mtim;
	f->read_at_ms = now_ms;
	text = gw_read_file(f->path, &len, err, sizeof(err));
	if (!text || !gw_sd_parse_groups(text, len, f->path, &groups, &ngroups,
									 err, sizeof(err)))
	{
		char		msg[1200];

		snprintf(msg, sizeof(msg), "file_sd: %s (keeping its previous %zu target groups)",
				 err, f->ngroups);
		if (log)
			log(msg);
		free(text);
		return false;
	}
	free(text);
	gw_target_groups_free(f->groups, f->ngroups);
	f->groups = groups;
	f->ngroups = ngroups;
	return true;
}

bool
gw_sd_refresh(GwSd *sd, int64_t now_ms, GwSdLog log)
{
	SdFile	   *next = NULL;
	size_t		nnext = 0,
				cap = 0;
	bool		changed = false;

	for (size_t c = 0; c < sd->nconfigs; c++)
	{
		for (size_t p = 0; p < sd->configs[c].nfiles; p++)
		{
			glob_t		g;

			if (glob(sd->configs[c].files[p], 0, NULL, &g) != 0)
				continue;		/* no match yet is fine */
			for (size_t i = 0; i < g.gl_pathc; i++)
			{
				const char *path = g.gl_pathv[i];
				struct stat st;
				SdFile	   *f = NULL;
				bool		dup = false;

				if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
					continue;
				for (size_t k = 0; k < nnext; k++)
					if (strcmp(next[k].path, path) == 0)
						dup = true;
				if (dup)
					continue;
				if (nnext == cap)
				{
					cap = cap ? cap * 2 : 8;
					next = realloc(next, cap * sizeof(SdFile));
					if (!next)
						abort();
				}
				/* carry the old entry over, so an unchanged file is not read */
				for (size_t k = 0; k < sd->nfiles; k++)
					if (sd->files[k].path && strcmp(sd->files[k].path, path) == 0)
					{
						next[nnext] = sd->files[k];
						sd->files[k].path = NULL;
						sd->files[k].groups = NULL;
						sd->files[k].ngroups = 0;
						f = &next[nnext];
						break;
					}
				if (!f)
				{
					f = &next[nnext];
					memset(f, 0, sizeof(*f));
					f->path = strdup(path);
					if (!f->path)
						abort();
				}
				f->refresh_ms = sd->configs[c].refresh_ms;
				nnext++;
				if (file_update(f, &st, now_ms, log))
					changed = true;
			}
			globfree(&g);
		}
	}
	/* files that went away take their targets with them */
	for (size_t k = 0; k < sd->nfiles; k++)
	{
		if (sd->files[k].path)
			changed = true;
		file_free(&sd->files[k]);
	}
	free(sd->files);
	if (nnext > 1)
		qsort(next, nnext, sizeof(SdFile), cmp_path);
	sd->files = next;
	sd->nfiles = nnext;

	free(sd->view);
	sd->view = NULL;
	sd->nview = 0;
	for (size_t k = 0; k < sd->nfiles; k++)
		sd->nview += sd->files[k].ngroups;
	sd->view = calloc(sd->nview ? sd->nview : 1, sizeof(*sd->view));
	if (!sd->view)
		abort();
	sd->nview = 0;
	for (size_t k = 0; k < sd->nfiles; k++)
		for (size_t g = 0; g < sd->files[k].ngroups; g++)
			sd->view[sd->nview++] = &sd->files[k].groups[g];
	return changed;
}

size_t
gw_sd_ngroups(const GwSd *sd)
{
	return sd->nview;
}

const GwTargetGroup *
gw_sd_group(const GwSd *sd, size_t i)
{
	return sd->view[i];
}
