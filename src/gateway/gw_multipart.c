/*
 * gw_multipart.c
 *		Delimiters are "--boundary" at the start of the body or after a line
 *		break (CRLF, or a bare LF as lenient readers accept); the closing one
 *		is followed by "--".  A body without it is truncated: refused.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gw_multipart.h"

#define MAX_BOUNDARY	200		/* RFC 2046 allows 70; be generous */

/* Find param in a header value ("a; name=x; b=\"y\""); copies the value into out. */
static bool
header_param(const char *h, size_t hlen, const char *param, char *out, size_t outlen,
			 bool *found)
{
	size_t		plen = strlen(param);
	size_t		i = 0;

	*found = false;
	/* skip the first item (the type or "form-data") */
	while (i < hlen && h[i] != ';')
		i++;
	while (i < hlen)
	{
		size_t		ks,
					ke,
					k;

		i++;					/* ';' */
		while (i < hlen && (h[i] == ' ' || h[i] == '\t'))
			i++;
		ks = i;
		while (i < hlen && h[i] != '=' && h[i] != ';')
			i++;
		ke = i;
		while (ke > ks && (h[ke - 1] == ' ' || h[ke - 1] == '\t'))
			ke--;
		if (i >= hlen || h[i] != '=')
			continue;
		i++;
		while (i < hlen && (h[i] == ' ' || h[i] == '\t'))
			i++;
		k = 0;
		if (i < hlen && h[i] == '"')
		{
			i++;
			while (i < hlen && h[i] != '"')
			{
				if (h[i] == '\\' && i + 1 < hlen)
					i++;
				if (k + 1 >= outlen)
					return false;
				out[k++] = h[i++];
			}
			if (i >= hlen)
				return false;
			i++;
			while (i < hlen && h[i] != ';')
				i++;
		}
		else
		{
			while (i < hlen && h[i] != ';' && h[i] != ' ' && h[i] != '\t')
			{
				if (k + 1 >= outlen)
					return false;
				out[k++] = h[i++];
			}
			while (i < hlen && h[i] != ';')
				i++;
		}
		out[k] = '\0';
		if (ke - ks == plen && strncasecmp(h + ks, param, plen) == 0)
		{
			*found = true;
			return true;
		}
	}
	return true;
}

/* The next delimiter line at or after from: returns its start (the line break) or NULL. */
static const uint8_t *
next_delimiter(const uint8_t *from, const uint8_t *end, const char *delim, size_t dlen,
			   const uint8_t **after)
{
	const uint8_t *p = from;

	while (p < end)
	{
		const uint8_t *hit = memmem(p, (size_t) (end - p), delim, dlen);
		const uint8_t *start;

		if (hit == NULL)
			return NULL;
		start = hit;
		if (hit > from && hit[-1] == '\n')
		{
			start = hit - 1;
			if (start > from && start[-1] == '\r')
				start--;
			*after = hit + dlen;
			return start;
		}
		p = hit + 1;
	}
	return NULL;
}

bool
gw_multipart_parse(const uint8_t *body, size_t len, const char *content_type,
				   GwPart *parts, size_t maxparts, size_t *nparts, GwErr *err)
{
	char		boundary[MAX_BOUNDARY + 1];
	char		delim[MAX_BOUNDARY + 3];
	size_t		dlen;
	bool		found;
	const uint8_t *end = body + len;
	const uint8_t *p;
	const uint8_t *after;

	*nparts = 0;
	if (content_type == NULL ||
		!header_param(content_type, strlen(content_type), "boundary", boundary,
					  sizeof(boundary), &found) || !found || boundary[0] == '\0')
		return gw_fail(err, 400, "multipart body without a usable boundary parameter in Content-Type");
	dlen = (size_t) snprintf(delim, sizeof(delim), "--%s", boundary);

	/* the first delimiter: at the very start, or after a preamble line */
	if (len >= dlen && memcmp(body, delim, dlen) == 0)
		after = body + dlen;
	else if (next_delimiter(body, end, delim, dlen, &after) == NULL)
		return gw_fail(err, 400, "multipart body does not contain its boundary");

	for (;;)
	{
		const uint8_t *hdr_end,
				   *data,
				   *next;
		GwPart	   *part;

		/* after a delimiter: "--" closes, else transport padding and a line break */
		if (end - after >= 2 && after[0] == '-' && after[1] == '-')
			return true;
		while (after < end && (*after == ' ' || *after == '\t'))
			after++;
		if (after < end && *after == '\r')
			after++;
		if (after >= end || *after != '\n')
			return gw_fail(err, 400, "multipart body is truncated or malformed after boundary %zu",
						   *nparts + 1);
		after++;
		if (*nparts >= maxparts)
			return gw_fail(err, 400, "multipart body has more than %zu parts", maxparts);
		part = &parts[*nparts];
		memset(part, 0, sizeof(*part));

		/* headers, up to an empty line */
		p = after;
		hdr_end = NULL;
		data = NULL;
		while (p < end)
		{
			const uint8_t *eol = memchr(p, '\n', (size_t) (end - p));
			size_t		llen;

			if (eol == NULL)
				break;
			llen = (size_t) (eol - p);
			if (llen && p[llen - 1] == '\r')
				llen--;
			if (llen == 0)
			{
				hdr_end = p;
				data = eol + 1;
				break;
			}
			if (llen > 20 && strncasecmp((const char *) p, "content-disposition:", 20) == 0)
			{
				char		val[sizeof(part->name)];
				char		fname[8];
				bool		fn_found;

				if (!header_param((const char *) p + 20, llen - 20, "name", val, sizeof(val),
								  &found))
					return gw_fail(err, 400, "multipart part %zu: malformed or overlong field name",
								   *nparts + 1);
				if (found)
					memcpy(part->name, val, sizeof(val));
				/* only whether a filename is there; its value may be long */
				(void) header_param((const char *) p + 20, llen - 20, "filename", fname,
									sizeof(fname), &fn_found);
				part->has_filename = fn_found ||
					memmem(p + 20, llen - 20, "filename", 8) != NULL;
			}
			p = eol + 1;
		}
		if (hdr_end == NULL)
			return gw_fail(err, 400, "multipart part %zu: headers do not end", *nparts + 1);
		next = next_delimiter(data, end, delim, dlen, &after);
		if (next == NULL)
			return gw_fail(err, 400, "multipart body ends before the closing boundary (part %zu)",
						   *nparts + 1);
		part->data = data;
		part->len = (size_t) (next - data);
		(*nparts)++;
	}
}

const GwPart *
gw_multipart_find(const GwPart *parts, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(parts[i].name, name) == 0)
			return &parts[i];
	return NULL;
}
