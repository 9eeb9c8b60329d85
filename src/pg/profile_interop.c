/*
 * profile_interop.c
 *		Profiles in and out of other tools' formats: folded stacks and pprof.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#include "pe_folded.h"
#include "pe_pg.h"
#include "pe_pprof.h"

/*
 * Parse "type:unit[,type:unit...]" into meta.  A type without a unit gets
 * "count", the unit folded stacks usually carry.
 */
static void
parse_sample_types(const char *spec, PeMeta *meta)
{
	char	   *copy = pstrdup(spec);
	char	   *save = NULL;
	int			n = 1;

	for (const char *p = spec; *p; p++)
		n += (*p == ',');
	if (n > PE_MAX_VALUES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many sample types (%d)", n),
				 errdetail("At most %d sample types are supported.", PE_MAX_VALUES)));
	memset(meta, 0, sizeof(*meta));
	meta->types = palloc0(sizeof(PeSampleType) * n);
	meta->default_type = -1;
	meta->period_type.type = "";
	meta->period_type.unit = "";
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		char	   *colon = strchr(tok, ':');

		if (colon)
			*colon = '\0';
		if (*tok == '\0' || (colon && colon[1] == '\0'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid sample type \"%s\"", spec),
					 errdetail("Sample types are written type:unit, separated by commas.")));
		meta->types[meta->nvalues].type = tok;
		meta->types[meta->nvalues].unit = colon ? colon + 1 : "count";
		meta->nvalues++;
	}
	if (meta->nvalues == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid sample type \"%s\"", spec),
				 errdetail("Sample types are written type:unit, separated by commas.")));
}

/* Profile from folded stacks ("a;b;c 42" per line) */
PG_FUNCTION_INFO_V1(profile_from_folded);
Datum
profile_from_folded(PG_FUNCTION_ARGS)
{
	text	   *folded = PG_GETARG_TEXT_PP(0);
	char	   *spec = PG_ARGISNULL(1) ? "samples:count" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	const char *data = VARDATA_ANY(folded);
	size_t		len = VARSIZE_ANY_EXHDR(folded);
	PeMeta		meta;
	PeCtx		ctx;
	PeTree		t;

	/* The core reads UTF-8: convert from other database encodings. */
	if (GetDatabaseEncoding() != PG_UTF8)
	{
		char	   *conv = pg_server_to_any(data, len, PG_UTF8);

		if (conv != data)
		{
			data = conv;
			len = strlen(conv);
		}
		spec = pg_server_to_any(spec, strlen(spec), PG_UTF8);
	}
	parse_sample_types(spec, &meta);
	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	if (!pe_folded_parse(&ctx, data, len, &meta, &t))
		pe_pg_raise(&ctx);
	PG_RETURN_DATUM(pe_pg_encode(&t));
}

/* Folded stacks of one sample type, one line per stack with a self value */
PG_FUNCTION_INFO_V1(profile_to_folded);
Datum
profile_to_folded(PG_FUNCTION_ARGS)
{
	PeCtx		ctx;
	PeTree		t;
	uint32		col;
	char	   *out;
	size_t		len;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_decode(&ctx, PG_GETARG_PROFILE_DATUM(0), &t);
	col = pe_pg_sample_type(&ctx, &t, PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1));
	if (!pe_folded_write(&t, col, &out, &len))
		pe_pg_raise(&ctx);
	if (GetDatabaseEncoding() != PG_UTF8)
		PG_RETURN_TEXT_P(cstring_to_text(pg_any_to_server(out, len, PG_UTF8)));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out, len));
}

/* pprof bytes (gzipped by default) that go tool pprof and others read */
PG_FUNCTION_INFO_V1(profile_to_pprof);
Datum
profile_to_pprof(PG_FUNCTION_ARGS)
{
	bool		gzip = PG_GETARG_BOOL(1);
	PeCtx		ctx;
	PeTree		t;
	uint8_t    *out;
	size_t		len;

	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_decode(&ctx, PG_GETARG_PROFILE_DATUM(0), &t);
	if (!pe_pprof_encode(&t, gzip, VARHDRSZ, &out, &len))
		pe_pg_raise(&ctx);
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("pprof output too large (%zu bytes)", len)));
	SET_VARSIZE(out, len + VARHDRSZ);
	PG_RETURN_BYTEA_P((bytea *) out);
}
