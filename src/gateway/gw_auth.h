/*
 * gw_auth.h
 *		--auth-file: who may send.  One entry per line:
 *			basic USER PASSWORD [TENANT]
 *			bearer TOKEN [TENANT]
 *		'#' starts a comment.  A request must carry a matching Authorization
 *		header; an entry's TENANT, when given, is the only tenant it may write.
 */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct GwAuth GwAuth;

extern GwAuth *gw_auth_load(const char *path, char *err, size_t errlen);
extern void gw_auth_free(GwAuth *a);
extern size_t gw_auth_count(const GwAuth *a);

/*
 * True when the Authorization header value matches an entry; *tenant is
 * then the entry's tenant (NULL when it has none).
 */
extern bool gw_auth_check(const GwAuth *a, const char *authorization, const char **tenant);

/* A tenant id as Cortex-style systems allow: 1..150 of [A-Za-z0-9!-_.*'()]. */
extern bool gw_tenant_valid(const char *t);

#endif							/* GW_AUTH_H */
