/*
 * gw_config.h
 *		The gateway's YAML configuration (--config FILE): Prometheus-style
 *		scrape settings, parsed with libyaml.
 *
 * The file reads like a Prometheus scrape config:
 *
 *	 global: {scrape_interval: 15s, scrape_timeout: 10s}   # or at top level
 *	 scrape_configs:
 *	   - job_name: checkout
 *	     static_configs: [{targets: ["h:6060"], labels: {region: eu}}]
 *	     file_sd_configs: [{files: ["targets/a.json"]}]
 *	     profiling_config: {process_cpu: true, memory: true, mutex: false}
 *
 * Every error names the file and line.  The result owns all its memory
 * (gw_config_free releases it) and is never changed after loading, so the
 * scraper may read it from any thread.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The profile types a job can fetch: Alloy's table for Go targets. */
typedef enum GwProfileKind
{
	GW_PROFILE_PROCESS_CPU = 0,
	GW_PROFILE_MEMORY,
	GW_PROFILE_GOROUTINE,
	GW_PROFILE_MUTEX,
	GW_PROFILE_BLOCK,
	GW_PROFILE_GODELTAPROF_MEMORY,
	GW_PROFILE_GODELTAPROF_MUTEX,
	GW_PROFILE_GODELTAPROF_BLOCK,
	GW_PROFILE_NKINDS
} GwProfileKind;

typedef struct GwProfileSpec
{
	bool		enabled;
	char	   *path;			/* e.g. /debug/pprof/allocs */
	/*
	 * "delta: true" in the config: the endpoint takes ?seconds=N and
	 * returns the interval's profile itself (CPU; godeltaprof reports
	 * deltas without it).
	 */
	bool		seconds;
} GwProfileSpec;

typedef struct GwTargetLabel
{
	char	   *name;
	char	   *value;
} GwTargetLabel;

/* One static_configs entry or one group of a file_sd file. */
typedef struct GwTargetGroup
{
	char	  **targets;		/* host:port */
	size_t		ntargets;
	GwTargetLabel    *labels;
	size_t		nlabels;
	int			line;			/* where it was written (for messages) */
} GwTargetGroup;

typedef struct GwFileSd
{
	char	  **files;			/* glob patterns, relative to the config */
	size_t		nfiles;
	int64_t		refresh_ms;		/* re-read even without a visible change */
} GwFileSd;

typedef struct GwScrapeJob
{
	char	   *job_name;
	int64_t		interval_ms;
	int64_t		timeout_ms;
	char	   *scheme;			/* http or https */
	char	   *path_prefix;	/* "" or e.g. /app */
	bool		follow_redirects;
	int64_t		body_size_limit;	/* bytes, compressed and decompressed */
	char	   *basic_user;		/* NULL: no basic auth */
	char	   *basic_password;
	char	   *bearer_token;	/* NULL: none */
	GwProfileSpec profiles[GW_PROFILE_NKINDS];
	GwTargetGroup *static_groups;
	size_t		nstatic_groups;
	GwFileSd   *file_sds;
	size_t		nfile_sds;
	int			line;
} GwScrapeJob;

typedef struct GwConfig
{
	char	   *path;			/* the file it came from */
	char	   *base_dir;		/* for relative file_sd globs and *_file keys */
	int64_t		scrape_interval_ms;
	int64_t		scrape_timeout_ms;
	int			max_concurrent_scrapes;
	GwScrapeJob *jobs;
	size_t		njobs;
} GwConfig;

#define GW_DEFAULT_SCRAPE_INTERVAL_MS	15000
#define GW_DEFAULT_SCRAPE_TIMEOUT_MS	10000
#define GW_DEFAULT_MAX_CONCURRENT		64
#define GW_DEFAULT_BODY_SIZE_LIMIT		((int64_t) 16 * 1024 * 1024)

/* __name__ of a kind as Alloy stores it (godeltaprof_memory -> "memory"). */
extern const char *gw_profile_series_name(GwProfileKind kind);
/* The key in profiling_config ("godeltaprof_memory"). */
extern const char *gw_profile_config_name(GwProfileKind kind);
/* Cumulative kinds: deltas are computed by the scraper. */
extern bool gw_profile_is_cumulative(GwProfileKind kind);

/*
 * Parse YAML text.  name is used in messages (usually the file path) and
 * base_dir resolves relative paths (NULL: the current directory).  Returns
 * NULL and writes "NAME:LINE: what" into err on any error.
 */
extern GwConfig *gw_config_parse(const char *text, size_t len,
								 const char *name, const char *base_dir,
								 char *err, size_t errlen);

/* Read and parse a file. */
extern GwConfig *gw_config_load(const char *path, char *err, size_t errlen);

extern void gw_config_free(GwConfig *cfg);

/*
 * Parse one file_sd target file (JSON or YAML: a list of {targets, labels}).
 * Returns false with "NAME:LINE: what" in err.
 */
extern bool gw_sd_parse_groups(const char *text, size_t len, const char *name,
							   GwTargetGroup **groups, size_t *ngroups,
							   char *err, size_t errlen);
extern void gw_target_groups_free(GwTargetGroup *groups, size_t ngroups);

/* Read a whole file (at most 64 MiB), NUL-terminated; NULL with err set. */
extern char *gw_read_file(const char *path, size_t *len, char *err, size_t errlen);

/* "15s", "1m30s", "500ms": milliseconds, or -1 when malformed. */
extern int64_t gw_parse_duration(const char *s);

#endif							/* GW_CONFIG_H */
