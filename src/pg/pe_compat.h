/*
 * pe_compat.h
 *		What differs between the PostgreSQL versions profile_ext builds
 *		against.  Tested on 15; the others are expected to build.
 */
#ifndef PE_COMPAT_H
#define PE_COMPAT_H

#include "postgres.h"

#include "fmgr.h"

/* 16 moved the varlena macros out of postgres.h. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * 18 replaced the suffix pg_attribute_noreturn() by the prefix pg_noreturn;
 * C11's _Noreturn is what pg_noreturn means on every compiler we use.
 */
#ifndef pg_noreturn
#define pg_noreturn _Noreturn
#endif

/* 18 lets a library name itself and its version in its magic block. */
#ifdef PG_MODULE_MAGIC_EXT
#define PE_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "profile_ext", .version = PE_VERSION)
#else
#define PE_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/* Soft input errors (errsave, ereturn) arrived in 16: before, they are ERRORs. */
#if PG_VERSION_NUM < 160000
#define errsave(context, ...) ereport(ERROR, __VA_ARGS__)
#define ereturn(context, dummy_value, ...) \
	do { ereport(ERROR, __VA_ARGS__); return (dummy_value); } while (0)
#endif

/* 15 renamed the placeholder check. */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

#endif							/* PE_COMPAT_H */
