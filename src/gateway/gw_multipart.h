/*
 * gw_multipart.h
 *		A multipart/form-data splitter (RFC 7578) for request bodies held in
 *		memory: parts point into the body, nothing is copied.
 */
#ifndef GW_MULTIPART_H
#define GW_MULTIPART_H

#include "gw_common.h"

#define GW_MULTIPART_MAX_PARTS	32

typedef struct GwPart
{
	char		name[128];		/* the form field's name (Content-Disposition) */
	bool		has_filename;
	const uint8_t *data;
	size_t		len;
} GwPart;

/*
 * Split body by the boundary named in content_type ("multipart/form-data;
 * boundary=..."); at most maxparts parts.  400 on malformed input.
 */
extern bool gw_multipart_parse(const uint8_t *body, size_t len, const char *content_type,
							   GwPart *parts, size_t maxparts, size_t *nparts, GwErr *err);

/* The first part named name, or NULL. */
extern const GwPart *gw_multipart_find(const GwPart *parts, size_t n, const char *name);

#endif							/* GW_MULTIPART_H */
