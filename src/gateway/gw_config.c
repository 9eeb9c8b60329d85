/*
 * gw_config.c
 *		The YAML configuration: libyaml loads a node tree (every node keeps
 *		its line), then a walk checks and copies what we understand.
 *		Unknown keys are errors, as in Prometheus: a typo must not silently
 *		turn a setting off.
 */
#include "gw_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Alloy's defaults for Go targets (pyroscope.scrape DefaultProfilingConfig). */
static const struct
{
	const char *config_name;
	const char *series_name;
	const char *path;
	bool		enabled;
	bool		seconds;
	bool		cumulative;
}			profile_defaults[GW_PROFILE_NKINDS] = {
	[GW_PROFILE_PROCESS_CPU] = {"process_cpu", "process_cpu", "/debug/pprof/profile", true, true, false},
	[GW_PROFILE_MEMORY] = {"memory", "memory", "/debug/pprof/allocs", true, false, true},
	[GW_PROFILE_GOROUTINE] = {"goroutine", "goroutine", "/debug/pprof/goroutine", true, false, false},
	[GW_PROFILE_MUTEX] = {"mutex", "mutex", "/debug/pprof/mutex", true, false, true},
	[GW_PROFILE_BLOCK] = {"block", "block", "/debug/pprof/block", true, false, true},
	[GW_PROFILE_GODELTAPROF_MEMORY] = {"godeltaprof_memory", "memory", "/debug/pprof/delta_heap", false, false, false},
	[GW_PROFILE_GODELTAPROF_MUTEX] = {"godeltaprof_mutex", "mutex", "/debug/pprof/delta_mutex", false, false, false},
	[GW_PROFILE_GODELTAPROF_BLOCK] = {"godeltaprof_block", "block", "/debug/pprof/delta_block", false, false, false},
};

const char *
gw_profile_series_name(GwProfileKind kind)
{
	return profile_defaults[kind].series_name;
}

const char *
gw_profile_config_name(GwProfileKind kind)
{
	return profile_defaults[kind].config_name;
}

bool
gw_profile_is_cumulative(GwProfileKind kind)
{
	return profile_defaults[kind].cumulative;
}

/* ------------------------------------------------------------ parse state */

typedef struct Parse
{
	yaml_document_t doc;
	const char *name;
	const char *base_dir;
	char	   *err;
	size_t		errlen;
	bool		failed;
} Parse;

static bool
fail_at(Parse *p, const yaml_node_t *node, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static bool
fail_at(Parse *p, const yaml_node_t *node, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (p->failed)
		return false;
	p->failed = true;
	n = snprintf(p->err, p->errlen, "%s:%lu: ", p->name,
				 node ? (unsigned long) node->start_mark.line + 1 : 1UL);
	if (n < 0 || (size_t) n >= p->errlen)
		return false;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return false;
}

static char *
xstrdup(const char *s)
{
	char	   *r = strdup(s ? s : "");

	if (!r)
	{
		fputs("profile-gateway: out of memory\n", stderr);
		abort();
	}
	return r;
}

static void *
xcalloc(size_t n, size_t size)
{
	void	   *r = calloc(n ? n : 1, size);

	if (!r)
	{
		fputs("profile-gateway: out of memory\n", stderr);
		abort();
	}
	return r;
}

static yaml_node_t *
node_at(Parse *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

static const char *
scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

/* A scalar that YAML would read as null (key present, no value). */
static bool
is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		(s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

static bool
get_string(Parse *p, const yaml_node_t *n, const char *key, char **out)
{
	const char *s = scalar(n);

	if (!s)
		return fail_at(p, n, "%s must be a string", key);
	free(*out);
	*out = xstrdup(s);
	return true;
}

static bool
get_bool(Parse *p, const yaml_node_t *n, const char *key, bool *out)
{
	const char *s = scalar(n);

	if (s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
			  strcmp(s, "yes") == 0))
		*out = true;
	else if (s && (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
				   strcmp(s, "no") == 0))
		*out = false;
	else
		return fail_at(p, n, "%s must be true or false", key);
	return true;
}

int64_t
gw_parse_duration(const char *s)
{
	/* Prometheus' model.ParseDuration: units in descending order, at most once. */
	static const struct
	{
		const char *unit;
		int64_t		ms;
	}			units[] = {
		{"y", 365LL * 86400000}, {"w", 7LL * 86400000}, {"d", 86400000},
		{"h", 3600000}, {"ms", 1}, {"m", 60000}, {"s", 1000},
	};
	int64_t		total = 0;
	int			last = -1;

	if (!s || !*s)
		return -1;
	if (strcmp(s, "0") == 0)
		return 0;
	while (*s)
	{
		int64_t		v = 0;
		int			u;

		if (!isdigit((unsigned char) *s))
			return -1;
		while (isdigit((unsigned char) *s))
		{
			if (v > (INT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (*s++ - '0');
		}
		for (u = 0; u < (int) (sizeof(units) / sizeof(units[0])); u++)
			if (strncmp(s, units[u].unit, strlen(units[u].unit)) == 0)
				break;
		if (u == (int) (sizeof(units) / sizeof(units[0])))
			return -1;
		/* "ms" is listed before "m" only for matching; order is by size */
		{
			static const int rank[] = {0, 1, 2, 3, 6, 4, 5};

			if (rank[u] <= last)
				return -1;
			last = rank[u];
		}
		s += strlen(units[u].unit);
		if (v > INT64_MAX / units[u].ms || total > INT64_MAX - v * units[u].ms)
			return -1;
		total += v * units[u].ms;
	}
	return total;
}

static bool
get_duration(Parse *p, const yaml_node_t *n, const char *key, int64_t *out)
{
	const char *s = scalar(n);
	int64_t		v = gw_parse_duration(s);

	if (v < 0)
		return fail_at(p, n, "%s: \"%s\" is not a duration (e.g. 15s, 1m30s, 500ms)",
					   key, s ? s : "(not a scalar)");
	*out = v;
	return true;
}

/* "16MiB", "512KB", "1048576": bytes, or -1. */
static int64_t
parse_size(const char *s)
{
	static const struct
	{
		const char *unit;
		int64_t		mult;
	}			units[] = {
		{"", 1}, {"B", 1}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000},
		{"KiB", 1024}, {"MiB", 1048576}, {"GiB", 1073741824},
	};
	char	   *end;
	long long	v;

	if (!s || !isdigit((unsigned char) *s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
			return v > INT64_MAX / units[i].mult ? -1 : v * units[i].mult;
	return -1;
}

/* Read a secret from a *_file key: the file's first line. */
static bool
read_secret_file(Parse *p, const yaml_node_t *n, const char *key, char **out)
{
	const char *s = scalar(n);
	char		path[4096];
	char		buf[4096];
	FILE	   *f;
	size_t		len;

	if (!s || !*s)
		return fail_at(p, n, "%s must be a file name", key);
	if (s[0] != '/' && p->base_dir)
		snprintf(path, sizeof(path), "%s/%s", p->base_dir, s);
	else
		snprintf(path, sizeof(path), "%s", s);
	f = fopen(path, "r");
	if (!f)
		return fail_at(p, n, "%s: cannot read \"%s\": %s", key, path, strerror(errno));
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	free(*out);
	*out = xstrdup(buf);
	return true;
}

/* Iterate a mapping: for (pair...) with key string and value node. */
#define FOR_PAIRS(p, map, k, v) \
	for (yaml_node_pair_t *pair_ = (map)->data.mapping.pairs.start; \
		 pair_ < (map)->data.mapping.pairs.top && !(p)->failed; pair_++) \
		for (int once_ = 1; once_; once_ = 0) \
			for (yaml_node_t *k = node_at(p, pair_->key), *v = node_at(p, pair_->value); \
				 once_; once_ = 0)

static bool
expect_mapping(Parse *p, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_MAPPING_NODE)
		return fail_at(p, n, "%s must be a mapping (key: value lines)", what);
	return true;
}

static bool
expect_sequence(Parse *p, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return fail_at(p, n, "%s must be a list", what);
	return true;
}

static size_t
seq_len(const yaml_node_t *n)
{
	return n->data.sequence.items.top - n->data.sequence.items.start;
}

/* A key must be a plain string, and appear once. */
static const char *
key_of(Parse *p, const yaml_node_t *map, const yaml_node_t *k, const char *where)
{
	const char *s = scalar(k);

	if (!s)
	{
		fail_at(p, k, "%s: keys must be strings", where);
		return NULL;
	}
	for (yaml_node_pair_t *q = map->data.mapping.pairs.start;
		 q < map->data.mapping.pairs.top; q++)
	{
		yaml_node_t *other = node_at(p, q->key);

		if (other == k)
			break;
		if (scalar(other) && strcmp(scalar(other), s) == 0)
		{
			fail_at(p, k, "%s: \"%s\" is given twice", where, s);
			return NULL;
		}
	}
	return s;
}

static bool
label_name_valid(const char *s)
{
	if (!*s || !(isalpha((unsigned char) *s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char) *s) || *s == '_' || *s == '.'))
			return false;
	return true;
}

static bool
parse_labels(Parse *p, const yaml_node_t *n, GwTargetLabel **labels, size_t *nlabels)
{
	size_t		cap;

	if (is_null(n))
		return true;
	if (!expect_mapping(p, n, "labels"))
		return false;
	cap = n->data.mapping.pairs.top - n->data.mapping.pairs.start;
	*labels = xcalloc(cap, sizeof(GwTargetLabel));
	FOR_PAIRS(p, n, k, v)
	{
		const char *name = key_of(p, n, k, "labels");
		const char *value = scalar(v);

		if (!name)
			break;
		if (!label_name_valid(name))
			return fail_at(p, k, "label name \"%s\" is not valid (letters, digits, _ and ., not starting with a digit)", name);
		if (!value || is_null(v))
			return fail_at(p, v, "label \"%s\" needs a string value", name);
		(*labels)[*nlabels].name = xstrdup(name);
		(*labels)[*nlabels].value = xstrdup(value);
		(*nlabels)++;
	}
	return !p->failed;
}

static bool
target_valid(const char *t)
{
	const char *colon = strrchr(t, ':');

	if (!*t || strchr(t, '/') || strchr(t, ' ') || strchr(t, '?') || strchr(t, '#'))
		return false;
	if (colon)
	{
		if (!colon[1])
			return false;
		for (const char *c = colon + 1; *c; c++)
			if (!isdigit((unsigned char) *c))
				return false;
	}
	return true;
}

/* One {targets: [...], labels: {...}} group. */
static bool
parse_group(Parse *p, const yaml_node_t *n, GwTargetGroup *g)
{
	bool		have_targets = false;

	g->line = n->start_mark.line + 1;
	if (!expect_mapping(p, n, "a target group"))
		return false;
	FOR_PAIRS(p, n, k, v)
	{
		const char *key = key_of(p, n, k, "target group");

		if (!key)
			break;
		if (strcmp(key, "targets") == 0)
		{
			have_targets = true;
			if (is_null(v))
				continue;
			if (!expect_sequence(p, v, "targets"))
				break;
			g->targets = xcalloc(seq_len(v), sizeof(char *));
			for (yaml_node_item_t *it = v->data.sequence.items.start;
				 it < v->data.sequence.items.top; it++)
			{
				yaml_node_t *t = node_at(p, *it);
				const char *s = scalar(t);

				if (!s || !target_valid(s))
					return fail_at(p, t, "target \"%s\" is not host:port",
								   s ? s : "(not a string)");
				g->targets[g->ntargets++] = xstrdup(s);
			}
		}
		else if (strcmp(key, "labels") == 0)
			parse_labels(p, v, &g->labels, &g->nlabels);
		else
			return fail_at(p, k, "unknown key \"%s\" in a target group (targets, labels)", key);
	}
	if (!p->failed && !have_targets)
		return fail_at(p, n, "a target group needs \"targets\"");
	return !p->failed;
}

static bool
parse_groups(Parse *p, const yaml_node_t *n, const char *what,
			 GwTargetGroup **groups, size_t *ngroups)
{
	if (is_null(n))
		return true;
	if (!expect_sequence(p, n, what))
		return false;
	*groups = xcalloc(seq_len(n), sizeof(GwTargetGroup));
	for (yaml_node_item_t *it = n->data.sequence.items.start;
		 it < n->data.sequence.items.top; it++)
	{
		if (!parse_group(p, node_at(p, *it), &(*groups)[*ngroups]))
		{
			(*ngroups)++;		/* so that free sees the partial group */
			return false;
		}
		(*ngroups)++;
	}
	return true;
}

static bool
parse_file_sd(Parse *p, const yaml_node_t *n, GwScrapeJob *job)
{
	if (is_null(n))
		return true;
	if (!expect_sequence(p, n, "file_sd_configs"))
		return false;
	job->file_sds = xcalloc(seq_len(n), sizeof(GwFileSd));
	for (yaml_node_item_t *it = n->data.sequence.items.start;
		 it < n->data.sequence.items.top && !p->failed; it++)
	{
		yaml_node_t *m = node_at(p, *it);
		GwFileSd   *sd = &job->file_sds[job->nfile_sds++];

		sd->refresh_ms = 5 * 60 * 1000;
		if (!expect_mapping(p, m, "a file_sd_configs entry"))
			return false;
		FOR_PAIRS(p, m, k, v)
		{
			const char *key = key_of(p, m, k, "file_sd_configs");

			if (!key)
				break;
			if (strcmp(key, "files") == 0)
			{
				if (!expect_sequence(p, v, "files"))
					break;
				sd->files = xcalloc(seq_len(v), sizeof(char *));
				for (yaml_node_item_t *f = v->data.sequence.items.start;
					 f < v->data.sequence.items.top; f++)
				{
					yaml_node_t *fn = node_at(p, *f);
					const char *s = scalar(fn);
					const char *ext;
					char		path[4096];

					if (!s || !*s)
						return fail_at(p, fn, "files must be file names or patterns");
					ext = strrchr(s, '.');
					if (!ext || (strcmp(ext, ".json") && strcmp(ext, ".yml") && strcmp(ext, ".yaml")))
						return fail_at(p, fn, "file_sd file \"%s\" must end in .json, .yml or .yaml", s);
					if (s[0] != '/' && p->base_dir)
						snprintf(path, sizeof(path), "%s/%s", p->base_dir, s);
					else
						snprintf(path, sizeof(path), "%s", s);
					sd->files[sd->nfiles++] = xstrdup(path);
				}
			}
			else if (strcmp(key, "refresh_interval") == 0)
			{
				if (get_duration(p, v, key, &sd->refresh_ms) && sd->refresh_ms <= 0)
					return fail_at(p, v, "refresh_interval must be positive");
			}
			else
				return fail_at(p, k, "unknown key \"%s\" in file_sd_configs (files, refresh_interval)", key);
		}
		if (!p->failed && sd->nfiles == 0)
			return fail_at(p, m, "a file_sd_configs entry needs \"files\"");
	}
	return !p->failed;
}

static int
profile_kind_by_name(const char *name)
{
	for (int k = 0; k < GW_PROFILE_NKINDS; k++)
		if (strcmp(profile_defaults[k].config_name, name) == 0)
			return k;
	return -1;
}

/*
 * profiling_config: {memory: true, ...}, or Pyroscope's long form
 * {pprof_config: {memory: {enabled: true, path: /x, delta: false}}}, or a
 * mix; path_prefix applies to every path.
 */
static bool
parse_profile_entries(Parse *p, const yaml_node_t *n, GwScrapeJob *job)
{
	FOR_PAIRS(p, n, k, v)
	{
		const char *key = key_of(p, n, k, "profiling_config");
		int			kind;
		GwProfileSpec *spec;

		if (!key)
			break;
		if (strcmp(key, "pprof_config") == 0)
		{
			if (expect_mapping(p, v, "pprof_config"))
				parse_profile_entries(p, v, job);
			continue;
		}
		if (strcmp(key, "path_prefix") == 0)
		{
			if (get_string(p, v, key, &job->path_prefix) &&
				job->path_prefix[0] && job->path_prefix[0] != '/')
				return fail_at(p, v, "path_prefix must start with /");
			continue;
		}
		kind = profile_kind_by_name(key);
		if (kind < 0)
			return fail_at(p, k, "unknown profile type \"%s\" in profiling_config "
						   "(process_cpu, memory, goroutine, mutex, block, "
						   "godeltaprof_memory, godeltaprof_mutex, godeltaprof_block)", key);
		spec = &job->profiles[kind];
		if (v->type == YAML_SCALAR_NODE)
		{
			get_bool(p, v, key, &spec->enabled);
			continue;
		}
		if (!expect_mapping(p, v, key))
			break;
		FOR_PAIRS(p, v, k2, v2)
		{
			const char *key2 = key_of(p, v, k2, key);

			if (!key2)
				break;
			if (strcmp(key2, "enabled") == 0)
				get_bool(p, v2, key2, &spec->enabled);
			else if (strcmp(key2, "path") == 0)
			{
				if (get_string(p, v2, key2, &spec->path) && spec->path[0] != '/')
					return fail_at(p, v2, "path must start with /");
			}
			else if (strcmp(key2, "delta") == 0)
				get_bool(p, v2, key2, &spec->seconds);
			else
				return fail_at(p, k2, "unknown key \"%s\" under %s (enabled, path, delta)",
							   key2, key);
		}
	}
	return !p->failed;
}

static bool
parse_basic_auth(Parse *p, const yaml_node_t *n, GwScrapeJob *job)
{
	if (!expect_mapping(p, n, "basic_auth"))
		return false;
	FOR_PAIRS(p, n, k, v)
	{
		const char *key = key_of(p, n, k, "basic_auth");

		if (!key)
			break;
		if (strcmp(key, "username") == 0)
			get_string(p, v, key, &job->basic_user);
		else if (strcmp(key, "password") == 0)
			get_string(p, v, key, &job->basic_password);
		else if (strcmp(key, "password_file") == 0)
			read_secret_file(p, v, key, &job->basic_password);
		else
			return fail_at(p, k, "unknown key \"%s\" in basic_auth (username, password, password_file)", key);
	}
	if (!p->failed && !job->basic_user)
		return fail_at(p, n, "basic_auth needs a username");
	return !p->failed;
}

static bool
parse_authorization(Parse *p, const yaml_node_t *n, GwScrapeJob *job)
{
	char	   *type = NULL;

	if (!expect_mapping(p, n, "authorization"))
		return false;
	FOR_PAIRS(p, n, k, v)
	{
		const char *key = key_of(p, n, k, "authorization");

		if (!key)
			break;
		if (strcmp(key, "type") == 0)
			get_string(p, v, key, &type);
		else if (strcmp(key, "credentials") == 0)
			get_string(p, v, key, &job->bearer_token);
		else if (strcmp(key, "credentials_file") == 0)
			read_secret_file(p, v, key, &job->bearer_token);
		else
			return fail_at(p, k, "unknown key \"%s\" in authorization (type, credentials, credentials_file)", key);
	}
	if (!p->failed && type && strcmp(type, "Bearer") != 0)
		fail_at(p, n, "authorization type \"%s\" is not supported (Bearer)", type);
	free(type);
	return !p->failed;
}

static bool
parse_job(Parse *p, const yaml_node_t *n, GwConfig *cfg, GwScrapeJob *job)
{
	bool		have_interval = false,
				have_timeout = false;

	job->line = n->start_mark.line + 1;
	job->scheme = xstrdup("http");
	job->path_prefix = xstrdup("");
	job->follow_redirects = true;
	job->body_size_limit = GW_DEFAULT_BODY_SIZE_LIMIT;
	for (int k = 0; k < GW_PROFILE_NKINDS; k++)
	{
		job->profiles[k].enabled = profile_defaults[k].enabled;
		job->profiles[k].seconds = profile_defaults[k].seconds;
	}
	if (!expect_mapping(p, n, "a scrape_configs entry"))
		return false;
	FOR_PAIRS(p, n, k, v)
	{
		const char *key = key_of(p, n, k, "scrape_configs");

		if (!key)
			break;
		if (strcmp(key, "job_name") == 0)
			get_string(p, v, key, &job->job_name);
		else if (strcmp(key, "scrape_interval") == 0)
			have_interval = get_duration(p, v, key, &job->interval_ms);
		else if (strcmp(key, "scrape_timeout") == 0)
			have_timeout = get_duration(p, v, key, &job->timeout_ms);
		else if (strcmp(key, "scheme") == 0)
		{
			if (get_string(p, v, key, &job->scheme) &&
				strcmp(job->scheme, "http") && strcmp(job->scheme, "https"))
				fail_at(p, v, "scheme must be http or https, not \"%s\"", job->scheme);
		}
		else if (strcmp(key, "follow_redirects") == 0)
			get_bool(p, v, key, &job->follow_redirects);
		else if (strcmp(key, "body_size_limit") == 0)
		{
			job->body_size_limit = parse_size(scalar(v));
			if (job->body_size_limit <= 0)
				fail_at(p, v, "body_size_limit must be a positive size (e.g. 16MiB)");
		}
		else if (strcmp(key, "basic_auth") == 0)
			parse_basic_auth(p, v, job);
		else if (strcmp(key, "authorization") == 0)
			parse_authorization(p, v, job);
		else if (strcmp(key, "bearer_token") == 0)
			get_string(p, v, key, &job->bearer_token);
		else if (strcmp(key, "bearer_token_file") == 0)
			read_secret_file(p, v, key, &job->bearer_token);
		else if (strcmp(key, "static_configs") == 0)
			parse_groups(p, v, key, &job->static_groups, &job->nstatic_groups);
		else if (strcmp(key, "file_sd_configs") == 0)
			parse_file_sd(p, v, job);
		else if (strcmp(key, "profiling_config") == 0)
		{
			if (expect_mapping(p, v, key))
				parse_profile_entries(p, v, job);
		}
		else
			fail_at(p, k, "unknown key \"%s\" in a scrape config (job_name, "
					"scrape_interval, scrape_timeout, scheme, follow_redirects, "
					"body_size_limit, basic_auth, authorization, bearer_token, "
					"bearer_token_file, static_configs, file_sd_configs, "
					"profiling_config)", key);
	}
	if (p->failed)
		return false;
	if (!job->job_name || !job->job_name[0])
		return fail_at(p, n, "a scrape config needs a job_name");
	for (size_t j = 0; j < (size_t) (job - cfg->jobs); j++)
		if (strcmp(cfg->jobs[j].job_name, job->job_name) == 0)
			return fail_at(p, n, "job_name \"%s\" is used twice (first on line %d)",
						   job->job_name, cfg->jobs[j].line);
	if (!have_interval)
		job->interval_ms = cfg->scrape_interval_ms;
	if (!have_timeout)
		job->timeout_ms = cfg->scrape_timeout_ms < job->interval_ms ?
			cfg->scrape_timeout_ms : job->interval_ms;
	if (job->interval_ms < 1000)
		return fail_at(p, n, "job \"%s\": scrape_interval must be at least 1s", job->job_name);
	if (job->timeout_ms <= 0 || job->timeout_ms > job->interval_ms)
		return fail_at(p, n, "job \"%s\": scrape_timeout (%lldms) must be positive and "
					   "not greater than scrape_interval (%lldms)", job->job_name,
					   (long long) job->timeout_ms, (long long) job->interval_ms);
	if (job->basic_user && job->bearer_token)
		return fail_at(p, n, "job \"%s\": basic_auth and a bearer token are mutually exclusive",
					   job->job_name);
	for (int k = 0; k < GW_PROFILE_NKINDS; k++)
		if (!job->profiles[k].path)
			job->profiles[k].path = xstrdup(profile_defaults[k].path);
	/* godeltaprof replaces the client-side delta of the same series */
	if (job->profiles[GW_PROFILE_GODELTAPROF_MEMORY].enabled)
		job->profiles[GW_PROFILE_MEMORY].enabled = false;
	if (job->profiles[GW_PROFILE_GODELTAPROF_MUTEX].enabled)
		job->profiles[GW_PROFILE_MUTEX].enabled = false;
	if (job->profiles[GW_PROFILE_GODELTAPROF_BLOCK].enabled)
		job->profiles[GW_PROFILE_BLOCK].enabled = false;
	return true;
}

static bool
parse_global(Parse *p, const yaml_node_t *n, GwConfig *cfg)
{
	if (!expect_mapping(p, n, "global"))
		return false;
	FOR_PAIRS(p, n, k, v)
	{
		const char *key = key_of(p, n, k, "global");

		if (!key)
			break;
		if (strcmp(key, "scrape_interval") == 0)
			get_duration(p, v, key, &cfg->scrape_interval_ms);
		else if (strcmp(key, "scrape_timeout") == 0)
			get_duration(p, v, key, &cfg->scrape_timeout_ms);
		else
			return fail_at(p, k, "unknown key \"%s\" in global (scrape_interval, scrape_timeout)", key);
	}
	return !p->failed;
}

static bool
load_document(Parse *p, const char *text, size_t len)
{
	yaml_parser_t parser;
	bool		ok;

	if (!yaml_parser_initialize(&parser))
	{
		snprintf(p->err, p->errlen, "%s: cannot start the YAML parser", p->name);
		return false;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *) text, len);
	ok = yaml_parser_load(&parser, &p->doc);
	if (!ok)
	{
		yaml_mark_t mark = parser.problem_mark;

		snprintf(p->err, p->errlen, "%s:%lu: invalid YAML: %s%s%s", p->name,
				 (unsigned long) mark.line + 1,
				 parser.problem ? parser.problem : "syntax error",
				 parser.context ? " " : "", parser.context ? parser.context : "");
	}
	yaml_parser_delete(&parser);
	return ok;
}

static void
free_groups_inner(GwTargetGroup *g)
{
	for (size_t t = 0; t < g->ntargets; t++)
		free(g->targets[t]);
	free(g->targets);
	for (size_t l = 0; l < g->nlabels; l++)
	{
		free(g->labels[l].name);
		free(g->labels[l].value);
	}
	free(g->labels);
}

void
gw_target_groups_free(GwTargetGroup *groups, size_t ngroups)
{
	for (size_t i = 0; i < ngroups; i++)
		free_groups_inner(&groups[i]);
	free(groups);
}

void
gw_config_free(GwConfig *cfg)
{
	if (!cfg)
		return;
	for (size_t j = 0; j < cfg->njobs; j++)
	{
		GwScrapeJob *job = &cfg->jobs[j];

		free(job->job_name);
		free(job->scheme);
		free(job->path_prefix);
		free(job->basic_user);
		free(job->basic_password);
		free(job->bearer_token);
		for (int k = 0; k < GW_PROFILE_NKINDS; k++)
			free(job->profiles[k].path);
		gw_target_groups_free(job->static_groups, job->nstatic_groups);
		for (size_t s = 0; s < job->nfile_sds; s++)
		{
			for (size_t f = 0; f < job->file_sds[s].nfiles; f++)
				free(job->file_sds[s].files[f]);
			free(job->file_sds[s].files);
		}
		free(job->file_sds);
	}
	free(cfg->jobs);
	free(cfg->path);
	free(cfg->base_dir);
	free(cfg);
}

GwConfig *
gw_config_parse(const char *text, size_t len, const char *name,
				const char *base_dir, char *err, size_t errlen)
{
	Parse		p = {.name = name ? name : "config", .base_dir = base_dir,
	.err = err, .errlen = errlen};
	GwConfig   *cfg;
	yaml_node_t *root;
	yaml_node_t *jobs = NULL;

	if (errlen)
		err[0] = '\0';
	if (!load_document(&p, text, len))
		return NULL;
	cfg = xcalloc(1, sizeof(GwConfig));
	cfg->path = xstrdup(p.name);
	cfg->base_dir = base_dir ? xstrdup(base_dir) : NULL;
	cfg->scrape_interval_ms = GW_DEFAULT_SCRAPE_INTERVAL_MS;
	cfg->scrape_timeout_ms = GW_DEFAULT_SCRAPE_TIMEOUT_MS;
	cfg->max_concurrent_scrapes = GW_DEFAULT_MAX_CONCURRENT;
	root = yaml_document_get_root_node(&p.doc);
	if (!root || is_null(root))
		goto done;				/* an empty file: nothing to scrape */
	if (!expect_mapping(&p, root, "the configuration"))
		goto done;
	FOR_PAIRS(&p, root, k, v)
	{
		const char *key = key_of(&p, root, k, "the configuration");

		if (!key)
			break;
		if (strcmp(key, "global") == 0)
			parse_global(&p, v, cfg);
		else if (strcmp(key, "scrape_interval") == 0)
			get_duration(&p, v, key, &cfg->scrape_interval_ms);
		else if (strcmp(key, "scrape_timeout") == 0)
			get_duration(&p, v, key, &cfg->scrape_timeout_ms);
		else if (strcmp(key, "max_concurrent_scrapes") == 0)
		{
			const char *s = scalar(v);
			char	   *end = NULL;
			long		n = s ? strtol(s, &end, 10) : 0;

			if (!s || *end || n < 1 || n > 100000)
				fail_at(&p, v, "max_concurrent_scrapes must be a number from 1 to 100000");
			cfg->max_concurrent_scrapes = (int) n;
		}
		else if (strcmp(key, "scrape_configs") == 0)
			jobs = v;
		else
			fail_at(&p, k, "unknown key \"%s\" (global, scrape_interval, scrape_timeout, "
					"max_concurrent_scrapes, scrape_configs)", key);
	}
	if (p.failed)
		goto done;
	if (cfg->scrape_interval_ms < 1000)
		fail_at(&p, root, "scrape_interval must be at least 1s");
	/* the jobs come after the globals so that their defaults apply */
	if (jobs && !is_null(jobs) && expect_sequence(&p, jobs, "scrape_configs"))
	{
		cfg->jobs = xcalloc(seq_len(jobs), sizeof(GwScrapeJob));
		for (yaml_node_item_t *it = jobs->data.sequence.items.start;
			 it < jobs->data.sequence.items.top && !p.failed; it++)
		{
			GwScrapeJob *job = &cfg->jobs[cfg->njobs++];

			parse_job(&p, node_at(&p, *it), cfg, job);
		}
	}
done:
	yaml_document_delete(&p.doc);
	if (p.failed)
	{
		gw_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static char *
read_whole_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	size_t		cap = 0;

	*len = 0;
	if (!f)
	{
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	for (;;)
	{
		size_t		n;

		if (*len + 65536 + 1 > cap)
		{
			char	   *grown;

			cap = (*len + 65536 + 1) * 2;
			grown = realloc(buf, cap);
			if (!grown)
			{
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return NULL;
			}
			buf = grown;
		}
		n = fread(buf + *len, 1, cap - *len - 1, f);
		*len += n;
		if (n == 0)
			break;
		if (*len > 64 * 1024 * 1024)
		{
			free(buf);
			fclose(f);
			snprintf(err, errlen, "%s: larger than 64 MiB", path);
			return NULL;
		}
	}
	if (ferror(f))
	{
		free(buf);
		fclose(f);
		snprintf(err, errlen, "%s: read error", path);
		return NULL;
	}
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

GwConfig *
gw_config_load(const char *path, char *err, size_t errlen)
{
	size_t		len;
	char	   *text = read_whole_file(path, &len, err, errlen);
	char	   *dir;
	char	   *slash;
	GwConfig   *cfg;

	if (!text)
		return NULL;
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
	{
		free(dir);
		dir = xstrdup(".");
	}
	cfg = gw_config_parse(text, len, path, dir, err, errlen);
	free(dir);
	free(text);
	return cfg;
}

bool
gw_sd_parse_groups(const char *text, size_t len, const char *name,
				   GwTargetGroup **groups, size_t *ngroups,
				   char *err, size_t errlen)
{
	Parse		p = {.name = name, .err = err, .errlen = errlen};
	yaml_node_t *root;
	bool		ok = true;

	*groups = NULL;
	*ngroups = 0;
	if (!load_document(&p, text, len))
		return false;
	root = yaml_document_get_root_node(&p.doc);
	if (root && !is_null(root))
		ok = parse_groups(&p, root, "a file_sd file", groups, ngroups);
	yaml_document_delete(&p.doc);
	if (!ok)
	{
		gw_target_groups_free(*groups, *ngroups);
		*groups = NULL;
		*ngroups = 0;
	}
	return ok;
}

char *
gw_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	return read_whole_file(path, len, err, errlen);
}
