/*
 * gw_sd.h
 *		File service discovery (Prometheus' file_sd_configs): target groups
 *		read from JSON or YAML files matched by glob patterns, re-read when
 *		a file changes, appears or goes away.
 *
 * A file that fails to parse keeps the targets it had (its error is
 * reported once per change), as Prometheus does.  Not thread-safe: the
 * scraper's manager thread owns each GwSd.
 */
#ifndef GW_SD_H
#define GW_SD_H

#include "gw_config.h"

typedef struct GwSd GwSd;

typedef void (*GwSdLog) (const char *msg);

extern GwSd *gw_sd_new(const GwFileSd *configs, size_t nconfigs);
extern void gw_sd_free(GwSd *sd);

/*
 * Look at the files again (cheap: glob and stat; a file is read only when
 * its size, mtime or inode changed, or its refresh interval passed).
 * Returns true when the groups changed.
 */
extern bool gw_sd_refresh(GwSd *sd, int64_t now_ms, GwSdLog log);

/* The current groups of every file, in file name order. */
extern size_t gw_sd_ngroups(const GwSd *sd);
extern const GwTargetGroup *gw_sd_group(const GwSd *sd, size_t i);

#endif							/* GW_SD_H */
