/*
 * profile_shard.c
 *		profile_shard_of(): the shard routing rule as SQL (rule: pe_shard.h).
 *		The coordinator's partitioned table is LIST-partitioned on it, so
 *		INSERT/COPY through the coordinator and writers that go straight to a
 *		shard route every series the same way.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "pe_shard.h"

/* The routing key of a label set: its service_name string, else empty. */
static void
routing_key(Jsonb *labels, const char **key, size_t *len)
{
	JsonbValue	k;
	JsonbValue *v;

	*key = "";
	*len = 0;
	if (!JB_ROOT_IS_OBJECT(labels))
		return;
	k.type = jbvString;
	k.val.string.val = "service_name";
	k.val.string.len = strlen("service_name");
	v = findJsonbValueFromContainer(&labels->root, JB_FOBJECT, &k);
	if (v != NULL && v->type == jbvString)
	{
		*key = v->val.string.val;
		*len = (size_t) v->val.string.len;
	}
}

/* profile_shard_of(labels jsonb, shards int): the shard (0-based) of a label set */
PG_FUNCTION_INFO_V1(profile_shard_of);
Datum
profile_shard_of(PG_FUNCTION_ARGS)
{
	Jsonb	   *labels = PG_GETARG_JSONB_P(0);
	int32		shards = PG_GETARG_INT32(1);
	const char *key;
	size_t		len;

	if (shards < 1 || shards > PE_SHARDS_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shard count %d is out of range", shards),
				 errdetail("The number of shards must be between 1 and %d.", PE_SHARDS_MAX)));
	routing_key(labels, &key, &len);
	PG_RETURN_INT32((int32) pe_shard_of(key, len, (uint32) shards));
}

extern Datum profile_total(PG_FUNCTION_ARGS);

/*
 * profile_shard_total(p profile, sample_type jsonb): profile_total with the sample type as
 * a jsonb string (or JSON null: the default type).  postgres_fdw ships a function call only
 * when its text arguments' collation comes from a foreign column, so profile_total(p, 'cpu')
 * is never pushed to a shard; a jsonb argument has no collation and is.
 */
PG_FUNCTION_INFO_V1(profile_shard_total);
Datum
profile_shard_total(PG_FUNCTION_ARGS)
{
	LOCAL_FCINFO(inner, 2);
	Datum		result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	InitFunctionCallInfoData(*inner, fcinfo->flinfo, 2, InvalidOid, NULL, NULL);
	inner->args[0].value = PG_GETARG_DATUM(0);
	inner->args[0].isnull = false;
	inner->args[1].value = (Datum) 0;
	inner->args[1].isnull = true;
	if (!PG_ARGISNULL(1))
	{
		Jsonb	   *st = PG_GETARG_JSONB_P(1);
		JsonbValue	v;

		if (!JB_ROOT_IS_SCALAR(st) || !JsonbExtractScalar(&st->root, &v) ||
			(v.type != jbvString && v.type != jbvNull))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sample type must be a JSON string or null")));
		if (v.type == jbvString)
		{
			inner->args[1].value = PointerGetDatum(cstring_to_text_with_len(v.val.string.val,
																		v.val.string.len));
			inner->args[1].isnull = false;
		}
	}
	result = profile_total(inner);
	if (inner->isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
