/*
 * gw_labels.h
 *		Label sets (a row's labels jsonb), their validation, Pyroscope's
 *		`name=app{k=v,...}` grammar and the __name__ derived from sample types.
 */
#ifndef GW_LABELS_H
#define GW_LABELS_H

#include "gw_common.h"
#include "pe_tree.h"

typedef struct GwLabel
{
	char	   *name;			/* malloc'd, NUL-terminated; may hold NULs */
	size_t		name_len;
	char	   *value;
	size_t		value_len;
} GwLabel;

typedef struct GwLabels
{
	GwLabel    *l;
	uint32_t	n;
	uint32_t	cap;
} GwLabels;

/* Append a label, duplicates allowed (gw_labels_validate refuses them). */
extern bool gw_labels_add(GwLabels *s, const char *name, size_t nlen,
						  const char *value, size_t vlen);
/* Replace the value of name, or append it. */
extern bool gw_labels_set(GwLabels *s, const char *name, size_t nlen,
						  const char *value, size_t vlen);
extern bool gw_labels_set_str(GwLabels *s, const char *name, const char *value);
extern const GwLabel *gw_labels_get(const GwLabels *s, const char *name);
extern void gw_labels_remove(GwLabels *s, const char *name);
extern bool gw_labels_copy(GwLabels *dst, const GwLabels *src);

/*
 * Names starting with "__" are internal (Pyroscope's __session_id__,
 * Prometheus' __address__, ...): they are not stored, except __name__
 * where a caller sets it.
 */
static inline bool
gw_label_is_internal(const char *name, size_t len)
{
	return len >= 2 && name[0] == '_' && name[1] == '_';
}
extern void gw_labels_free(GwLabels *s);

/*
 * The label rules of Pyroscope's validation (status 400 on failure): at
 * most max_labels labels, names 1..max_label_name bytes, values up to
 * max_label_value bytes, valid UTF-8 without NUL, no name twice, and a
 * non-empty __name__.
 */
extern bool gw_labels_validate(const GwLabels *s, const GwLimits *lim, GwErr *err);

/* The labels as a JSON object sorted by name (malloc'd); NULL when out of memory. */
extern char *gw_labels_json(const GwLabels *s);

/*
 * Parse Pyroscope's `name` query parameter, app{k1=v1,k2=v2}: no escaping;
 * the app name and keys are trimmed and checked ([A-Za-z0-9_.\-/] and
 * [A-Za-z0-9_.]); a value runs to the next ',' or '}' and is trimmed.
 * Tags whose key starts with "__" are dropped ("__name__" is refused).
 * On success *app is the app name (malloc'd) and tags holds the tags.
 */
extern bool gw_name_parse(const char *s, size_t len, char **app, GwLabels *tags,
						  GwErr *err);

/*
 * The sample-type display names a sample_type_config JSON gives
 * ({"type": {"display-name": "..."}, ...}); NULL names when absent.
 */
typedef struct GwTypeNames
{
	uint32_t	n;
	char	  **type;
	char	  **display;
} GwTypeNames;

extern bool gw_type_names_parse(const char *json, size_t len, GwTypeNames *out, GwErr *err);
extern void gw_type_names_free(GwTypeNames *t);

/*
 * __name__ from a profile's sample types as Pyroscope's pprof ingest
 * derives it: "wall" if any type is wall, else the first type whose
 * display name says cpu / alloc_,inuse_,space,objects / mutex_ / block_ /
 * goroutines gives process_cpu / memory / mutex / block / goroutines;
 * otherwise the first type's name.
 */
extern const char *gw_metric_name(const PeMeta *meta, const GwTypeNames *names);

#endif							/* GW_LABELS_H */
