/*
 * gw_auth.c
 *		Entries are compared in constant time per entry, so response times
 *		do not tell how much of a secret matched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_auth.h"
#include "gw_push.h"

typedef struct AuthEntry
{
	bool		basic;
	char	   *secret;			/* "user:password" (basic) or the token */
	char	   *tenant;			/* NULL: any */
} AuthEntry;

struct GwAuth
{
	AuthEntry  *e;
	size_t		n;
};

void
gw_auth_free(GwAuth *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
	{
		free(a->e[i].secret);
		free(a->e[i].tenant);
	}
	free(a->e);
	free(a);
}

size_t
gw_auth_count(const GwAuth *a)
{
	return a ? a->n : 0;
}

bool
gw_tenant_valid(const char *t)
{
	size_t		n = strlen(t);

	if (n == 0 || n > 150 || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
		return false;
	for (const char *p = t; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			  strchr("!-_.*'()", *p)))
			return false;
	return true;
}

GwAuth *
gw_auth_load(const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	GwAuth	   *a;
	char		line[4096];
	int			lineno = 0;

	if (f == NULL)
	{
		snprintf(err, errlen, "cannot open auth file %s: %m", path);
		return NULL;
	}
	a = calloc(1, sizeof(GwAuth));
	if (a == NULL)
		goto oom;
	while (fgets(line, sizeof(line), f))
	{
		char	   *tok[5];
		int			nt = 0;
		char	   *save = NULL;
		char	   *hash = strchr(line, '#');
		AuthEntry  *e;
		AuthEntry  *grown;

		lineno++;
		if (hash)
			*hash = '\0';
		for (char *t = strtok_r(line, " \t\r\n", &save); t && nt < 5;
			 t = strtok_r(NULL, " \t\r\n", &save))
			tok[nt++] = t;
		if (nt == 0)
			continue;
		if (!((strcasecmp(tok[0], "basic") == 0 && (nt == 3 || nt == 4)) ||
			  (strcasecmp(tok[0], "bearer") == 0 && (nt == 2 || nt == 3))))
		{
			snprintf(err, errlen, "%s:%d: expected \"basic USER PASSWORD [TENANT]\" or \"bearer TOKEN [TENANT]\"",
					 path, lineno);
			goto fail;
		}
		grown = realloc(a->e, (a->n + 1) * sizeof(AuthEntry));
		if (grown == NULL)
			goto oom;
		a->e = grown;
		e = &a->e[a->n];
		memset(e, 0, sizeof(*e));
		e->basic = strcasecmp(tok[0], "basic") == 0;
		if (e->basic)
		{
			size_t		n = strlen(tok[1]) + strlen(tok[2]) + 2;

			if (strchr(tok[1], ':'))
			{
				snprintf(err, errlen, "%s:%d: a basic-auth user name cannot hold ':'", path, lineno);
				goto fail;
			}
			e->secret = malloc(n);
			if (e->secret)
				snprintf(e->secret, n, "%s:%s", tok[1], tok[2]);
		}
		else
			e->secret = strdup(tok[1]);
		if (e->secret == NULL)
			goto oom;
		a->n++;
		if (nt == (e->basic ? 4 : 3))
		{
			if (!gw_tenant_valid(tok[nt - 1]))
			{
				snprintf(err, errlen, "%s:%d: tenant \"%s\" is not 1..150 of letters, digits and !-_.*'()",
						 path, lineno, tok[nt - 1]);
				goto fail;
			}
			e->tenant = strdup(tok[nt - 1]);
			if (e->tenant == NULL)
				goto oom;
		}
	}
	fclose(f);
	if (a->n == 0)
	{
		snprintf(err, errlen, "auth file %s has no entries", path);
		gw_auth_free(a);
		return NULL;
	}
	return a;
oom:
	snprintf(err, errlen, "out of memory reading %s", path);
fail:
	fclose(f);
	gw_auth_free(a);
	return NULL;
}

static bool
equal_ct(const char *a, size_t alen, const char *b)
{
	size_t		blen = strlen(b);
	unsigned char diff = alen != blen;

	for (size_t i = 0; i < blen; i++)
		diff |= (unsigned char) (b[i] ^ (i < alen ? a[i] : 0));
	return diff == 0;
}

bool
gw_auth_check(const GwAuth *a, const char *authorization, const char **tenant)
{
	const char *p;
	bool		basic;
	uint8_t    *decoded = NULL;
	size_t		dlen = 0;
	bool		found = false;

	*tenant = NULL;
	if (a == NULL)
		return true;
	if (authorization == NULL)
		return false;
	if (strncasecmp(authorization, "Basic ", 6) == 0)
		basic = true;
	else if (strncasecmp(authorization, "Bearer ", 7) == 0)
		basic = false;
	else
		return false;
	p = authorization + (basic ? 6 : 7);
	while (*p == ' ')
		p++;
	if (basic && !gw_base64_decode(p, strlen(p), &decoded, &dlen))
		return false;
	for (size_t i = 0; i < a->n; i++)
	{
		const AuthEntry *e = &a->e[i];

		if (e->basic != basic)
			continue;
		if (basic ? equal_ct((const char *) decoded, dlen, e->secret)
			: equal_ct(p, strlen(p), e->secret))
		{
			if (!found)
				*tenant = e->tenant;
			found = true;
		}
	}
	free(decoded);
	return found;
}
