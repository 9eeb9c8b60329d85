/*
 * profile_interop.c
 *		Profiles in and out of other tools' formats: folded stacks and pprof.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "pe_folded.h"
#include "pe_pg.h"
#include "pe_pprof.h"

/* Profile from folded stacks ("a;b;c 42" per line) */
PG_FUNCTION_INFO_V1(profile_from_folded);
Datum
profile_from_folded(PG_FUNCTION_ARGS)
{
	text	   *folded;
	char	   *spec;
	const char *data;
	size_t		len;
	PeMeta		meta;
	PeCtx		ctx;
	PeTree		t;

	/* Not strict: a NULL sample type means the default, like everywhere. */
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	folded = PG_GETARG_TEXT_PP(0);
	spec = PG_ARGISNULL(1) ? "samples:count" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	data = VARDATA_ANY(folded);
	len = VARSIZE_ANY_EXHDR(folded);

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
	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	if (!pe_meta_parse_types(&ctx, spec, &meta) ||
		!pe_folded_parse(&ctx, data, len, &meta, &t))
		pe_pg_raise(&ctx);
	PG_RETURN_DATUM(pe_pg_encode(&t));
}

/* Folded stacks of one sample type, one line per stack with a self value */
PG_FUNCTION_INFO_V1(profile_to_folded);
Datum
profile_to_folded(PG_FUNCTION_ARGS)
{
	PeTree	   *t;
	char	   *out;
	size_t		len;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = PG_GETARG_PROFILE(0);
	if (!pe_folded_write(t, pe_pg_sample_type(t, PG_GETARG_SAMPLE_TYPE(1)), &out, &len))
		pe_pg_raise(t->ctx);
	if (GetDatabaseEncoding() != PG_UTF8)
		PG_RETURN_TEXT_P(cstring_to_text(pg_any_to_server(out, len, PG_UTF8)));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out, len));
}

/* pprof bytes (gzipped by default) that go tool pprof and others read */
PG_FUNCTION_INFO_V1(profile_to_pprof);
Datum
profile_to_pprof(PG_FUNCTION_ARGS)
{
	PeTree	   *t = PG_GETARG_PROFILE(0);
	uint8_t    *out;
	size_t		len;

	if (!pe_pprof_encode(t, PG_GETARG_BOOL(1), VARHDRSZ, &out, &len))
		pe_pg_raise(t->ctx);
	PG_RETURN_BYTEA_P(pe_pg_varlena(out, len, "pprof output"));
}
