/*
 * gw_json.h
 *		A small JSON reader for request bodies (Connect JSON Push, the
 *		sample_type_config form field): RFC 8259, UTF-8 checked, nesting
 *		bounded, strings decoded (\u escapes, surrogate pairs).
 */
#ifndef GW_JSON_H
#define GW_JSON_H

#include "gw_common.h"

#define GW_JSON_MAX_DEPTH	32

typedef enum GwJsonType
{
	GW_JSON_NULL,
	GW_JSON_BOOL,
	GW_JSON_NUMBER,
	GW_JSON_STRING,
	GW_JSON_ARRAY,
	GW_JSON_OBJECT
} GwJsonType;

typedef struct GwJson
{
	GwJsonType	type;
	bool		boolean;
	char	   *str;			/* STRING: decoded; NUMBER: its text */
	size_t		len;
	size_t		n;				/* ARRAY / OBJECT members */
	struct GwJson *items;
	char	  **keys;			/* OBJECT: decoded keys */
	size_t	   *key_lens;
} GwJson;

/* Parse the whole of text; err->status 400 on malformed input. */
extern GwJson *gw_json_parse(const char *text, size_t len, GwErr *err);
extern void gw_json_free(GwJson *j);
/* Member key of an object (first match), or NULL. */
extern const GwJson *gw_json_get(const GwJson *obj, const char *key);

#endif							/* GW_JSON_H */
