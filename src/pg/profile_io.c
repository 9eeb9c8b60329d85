/*
 * profile_io.c
 *		The profile type: text and binary I/O, pprof input, accessors.
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "catalog/pg_type.h"
#include "utils/array.h"

#include "pe_codec.h"
#include "pe_pg.h"

/* Text input: \x-hex of native, pprof or gzipped pprof bytes */
PG_FUNCTION_INFO_V1(profile_in);
Datum
profile_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Node	   *escontext = fcinfo->context;
	size_t		len = strlen(str);
	uint8	   *bytes;
	size_t		n = 0;
	Datum		result;

	if (len < 2 || str[0] != '\\' || str[1] != 'x')
		ereturn(escontext, (Datum) 0,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type profile"),
				 errdetail("A profile is written as \\x followed by hex digits of native, pprof or gzipped pprof bytes.")));
	bytes = palloc((len - 2) / 2 + 1);
	for (size_t i = 2; i < len; i += 2)
	{
		int			hi = pe_hex_value(str[i]);
		int			lo = i + 1 < len ? pe_hex_value(str[i + 1]) : -1;

		if (hi < 0 || lo < 0)
			ereturn(escontext, (Datum) 0,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid hexadecimal digit in profile input at position %zu", i + 1),
					 errdetail("The input must be \\x followed by an even number of hex digits.")));
		bytes[n++] = (uint8) (hi << 4 | lo);
	}
	result = pe_pg_from_bytes(bytes, n, escontext);
	pfree(bytes);
	if (result == (Datum) 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/* Text output: \x-hex of the stored (native) bytes */
PG_FUNCTION_INFO_V1(profile_out);
Datum
profile_out(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	const uint8 *data = (const uint8 *) VARDATA_ANY(v);
	size_t		len = VARSIZE_ANY_EXHDR(v);
	static const char digits[] = "0123456789abcdef";
	char	   *out = palloc(len * 2 + 3);
	char	   *p = out;

	*p++ = '\\';
	*p++ = 'x';
	for (size_t i = 0; i < len; i++)
	{
		*p++ = digits[data[i] >> 4];
		*p++ = digits[data[i] & 15];
	}
	*p = '\0';
	PG_RETURN_CSTRING(out);
}

/* Binary input: native or pprof bytes, so COPY BINARY of .pb.gz files works */
PG_FUNCTION_INFO_V1(profile_recv);
Datum
profile_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	const uint8 *data = (const uint8 *) buf->data + buf->cursor;
	size_t		len = buf->len - buf->cursor;

	buf->cursor = buf->len;
	PG_RETURN_DATUM(pe_pg_from_bytes(data, len, NULL));
}

/* Binary output: the stored bytes */
PG_FUNCTION_INFO_V1(profile_send);
Datum
profile_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(PG_GETARG_BYTEA_P_COPY(0));
}

/* Build a profile from pprof bytes (gzipped or plain), or validate native */
PG_FUNCTION_INFO_V1(profile_from_pprof);
Datum
profile_from_pprof(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_DATUM(pe_pg_from_bytes((const uint8 *) VARDATA_ANY(b),
									 VARSIZE_ANY_EXHDR(b), NULL));
}

/*
 * The accessors below read the summary (pe_pg_summary): of a version 2
 * value only its first bytes, never the call tree.
 */

/* Sample types as type:unit */
PG_FUNCTION_INFO_V1(profile_sample_types);
Datum
profile_sample_types(PG_FUNCTION_ARGS)
{
	PeCtx		ctx;
	PeSummary	s;
	Datum	   *elems;

	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_summary(&ctx, PG_GETARG_DATUM(0), &s);
	elems = palloc(sizeof(Datum) * (s.meta.nvalues + 1));
	for (uint32 i = 0; i < s.meta.nvalues; i++)
	{
		char	   *type = pe_pg_utf8_to_server(s.meta.types[i].type);
		char	   *unit = pe_pg_utf8_to_server(s.meta.types[i].unit);

		elems[i] = PointerGetDatum(cstring_to_text(psprintf("%s:%s", type, unit)));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, s.meta.nvalues, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Sum of all sample values of one sample type */
PG_FUNCTION_INFO_V1(profile_total);
Datum
profile_total(PG_FUNCTION_ARGS)
{
	PeCtx		ctx;
	PeSummary	s;
	uint32		v;
	int64_t		sum;

	/* Not strict: a NULL sample type means the default one. */
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_summary(&ctx, PG_GETARG_DATUM(0), &s);
	v = pe_pg_sample_type_meta(&ctx, &s.meta, PG_GETARG_SAMPLE_TYPE(1));
	if (!pe_summary_total(&ctx, &s, v, &sum))
		pe_pg_raise(&ctx);
	PG_RETURN_INT64(sum);
}

/* Unix nanoseconds to a timestamptz */
static TimestampTz
nanos_to_timestamptz(int64 nanos)
{
	return (TimestampTz) (nanos / 1000) -
		((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
}

/* When the profile starts, NULL when the profile does not say */
PG_FUNCTION_INFO_V1(profile_time);
Datum
profile_time(PG_FUNCTION_ARGS)
{
	PeCtx		ctx;
	PeSummary	s;

	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_summary(&ctx, PG_GETARG_DATUM(0), &s);
	if (s.meta.time_nanos == 0)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(nanos_to_timestamptz(s.meta.time_nanos));
}

/* How long the profile covers */
PG_FUNCTION_INFO_V1(profile_duration);
Datum
profile_duration(PG_FUNCTION_ARGS)
{
	PeCtx		ctx;
	PeSummary	s;
	Interval   *iv = palloc0(sizeof(Interval));

	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_summary(&ctx, PG_GETARG_DATUM(0), &s);
	iv->time = s.meta.duration_nanos / 1000;
	PG_RETURN_INTERVAL_P(iv);
}

/* Append "key": "string" to a JSON text buffer. */
static void
json_kv_str(StringInfo buf, const char *key, const char *val)
{
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	escape_json(buf, pe_pg_utf8_to_server(val));
}

/* Everything about a profile as jsonb: header, totals, sizes */
PG_FUNCTION_INFO_V1(profile_info);
Datum
profile_info(PG_FUNCTION_ARGS)
{
	PeCtx		ctx;
	PeSummary	s;
	StringInfoData buf;

	pe_pg_ctx_init(&ctx, CurrentMemoryContext);
	pe_pg_summary(&ctx, PG_GETARG_DATUM(0), &s);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"sample_types\": [");
	for (uint32 i = 0; i < s.meta.nvalues; i++)
	{
		int64_t		sum;

		if (!pe_summary_total(&ctx, &s, i, &sum))
			pe_pg_raise(&ctx);
		appendStringInfoString(&buf, i ? ", {" : "{");
		json_kv_str(&buf, "type", s.meta.types[i].type);
		appendStringInfoString(&buf, ", ");
		json_kv_str(&buf, "unit", s.meta.types[i].unit);
		appendStringInfo(&buf, ", \"total\": " INT64_FORMAT "}", (int64) sum);
	}
	appendStringInfoString(&buf, "], \"default_sample_type\": ");
	if (s.meta.default_type >= 0)
		escape_json(&buf, pe_pg_utf8_to_server(s.meta.types[s.meta.default_type].type));
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ", \"period_type\": {");
	json_kv_str(&buf, "type", s.meta.period_type.type);
	appendStringInfoString(&buf, ", ");
	json_kv_str(&buf, "unit", s.meta.period_type.unit);
	appendStringInfo(&buf, "}, \"period\": " INT64_FORMAT, (int64) s.meta.period);
	appendStringInfo(&buf, ", \"time_nanos\": " INT64_FORMAT, (int64) s.meta.time_nanos);
	appendStringInfo(&buf, ", \"duration_nanos\": " INT64_FORMAT, (int64) s.meta.duration_nanos);
	appendStringInfo(&buf, ", \"nodes\": %u, \"functions\": %u", s.nnodes, s.nfunctions);
	appendStringInfo(&buf, ", \"format_version\": %u, \"compressed\": %s",
					 s.version, s.compressed ? "true" : "false");
	appendStringInfo(&buf, ", \"decoded_bytes\": " UINT64_FORMAT ", \"stored_bytes\": " UINT64_FORMAT "}",
					 s.decoded_bytes, s.stored_bytes);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
