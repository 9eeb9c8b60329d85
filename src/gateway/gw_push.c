/*
 * gw_push.c
 *		PushRequest{series: [RawProfileSeries{labels: [LabelPair], samples:
 *		[RawSample{raw_profile, ID}], annotations}]}.  protojson accepts the
 *		lowerCamelCase and the original field names (rawProfile, raw_profile).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_json.h"
#include "gw_push.h"
#include "push/v1/push.pb-c.h"

void
gw_push_free(GwPushRequest *r)
{
	for (size_t i = 0; i < r->nseries; i++)
	{
		GwPushSeries *s = &r->series[i];

		gw_labels_free(&s->labels);
		for (size_t k = 0; k < s->nsamples; k++)
			free(s->samples[k].owned);
		free(s->samples);
	}
	free(r->series);
	if (r->message)
		push__v1__push_request__free_unpacked(r->message, NULL);
	memset(r, 0, sizeof(*r));
}

static bool
decode_proto(const uint8_t *body, size_t len, GwPushRequest *out, GwErr *err)
{
	Push__V1__PushRequest *req = push__v1__push_request__unpack(NULL, len, body);

	if (req == NULL)
		return gw_fail(err, 400, "request body is not a push.v1.PushRequest protobuf message");
	out->message = req;
	out->series = calloc(req->n_series ? req->n_series : 1, sizeof(GwPushSeries));
	if (out->series == NULL)
		return gw_fail(err, 503, "out of memory");
	for (size_t i = 0; i < req->n_series; i++)
	{
		Push__V1__RawProfileSeries *rs = req->series[i];
		GwPushSeries *s = &out->series[i];

		out->nseries++;
		for (size_t k = 0; k < rs->n_labels; k++)
		{
			const char *n = rs->labels[k]->name,
					   *v = rs->labels[k]->value;

			/* protobuf-c does not check proto3 strings: validation does */
			if (!gw_labels_add(&s->labels, n, strlen(n), v, strlen(v)))
				return gw_fail(err, 503, "out of memory");
		}
		s->samples = calloc(rs->n_samples ? rs->n_samples : 1, sizeof(GwPushSample));
		if (s->samples == NULL)
			return gw_fail(err, 503, "out of memory");
		for (size_t k = 0; k < rs->n_samples; k++)
		{
			s->samples[k].data = rs->samples[k]->raw_profile.data;
			s->samples[k].len = rs->samples[k]->raw_profile.len;
		}
		s->nsamples = rs->n_samples;
	}
	return true;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

bool
gw_base64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t    *buf;
	size_t		n = 0;
	uint32_t	acc = 0;
	int			bits = 0;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return false;
	buf = malloc(len / 4 * 3 + 3);
	if (buf == NULL)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		int			v = b64val((unsigned char) s[i]);

		if (v < 0)
		{
			free(buf);
			return false;
		}
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			buf[n++] = (uint8_t) (acc >> bits);
		}
	}
	*out = buf;
	*outlen = n;
	return true;
}

static const GwJson *
member(const GwJson *obj, const char *a, const char *b)
{
	const GwJson *v = gw_json_get(obj, a);

	return v ? v : (b ? gw_json_get(obj, b) : NULL);
}

/*
 * One zeroed element of elem bytes per item of arr, which must be an array
 * (what names it in the error: "\"series\" is"); NULL with err set.
 */
static void *
array_items(const GwJson *arr, size_t elem, const char *what, GwErr *err)
{
	void	   *items;

	if (arr->type != GW_JSON_ARRAY)
	{
		gw_fail(err, 400, "Push JSON: %s not an array", what);
		return NULL;
	}
	items = calloc(arr->n ? arr->n : 1, elem);
	if (items == NULL)
		gw_fail(err, 503, "out of memory");
	return items;
}

static bool
decode_json(const uint8_t *body, size_t len, GwPushRequest *out, GwErr *err)
{
	GwJson	   *j = gw_json_parse((const char *) body, len, err);
	const GwJson *series;
	bool		ok = false;

	if (j == NULL)
		return false;
	if (j->type != GW_JSON_OBJECT)
	{
		gw_fail(err, 400, "Push JSON: the request is not a JSON object");
		goto done;
	}
	series = member(j, "series", NULL);
	if (series == NULL || series->type == GW_JSON_NULL)
	{
		ok = true;
		goto done;
	}
	out->series = array_items(series, sizeof(GwPushSeries), "\"series\" is", err);
	if (out->series == NULL)
		goto done;
	for (size_t i = 0; i < series->n; i++)
	{
		const GwJson *rs = &series->items[i];
		const GwJson *labels = member(rs, "labels", NULL);
		const GwJson *samples = member(rs, "samples", NULL);
		GwPushSeries *s = &out->series[i];

		out->nseries++;
		if (rs->type != GW_JSON_OBJECT)
		{
			gw_fail(err, 400, "Push JSON: series %zu is not an object", i);
			goto done;
		}
		if (labels && labels->type != GW_JSON_NULL)
		{
			if (labels->type != GW_JSON_ARRAY)
			{
				gw_fail(err, 400, "Push JSON: labels of series %zu are not an array", i);
				goto done;
			}
			for (size_t k = 0; k < labels->n; k++)
			{
				const GwJson *n = member(&labels->items[k], "name", NULL);
				const GwJson *v = member(&labels->items[k], "value", NULL);

				if ((n && n->type != GW_JSON_STRING) || (v && v->type != GW_JSON_STRING))
				{
					gw_fail(err, 400, "Push JSON: label %zu of series %zu has a name or value that is not a string",
							k, i);
					goto done;
				}
				if (!gw_labels_add(&s->labels, n ? n->str : "", n ? n->len : 0,
								   v ? v->str : "", v ? v->len : 0))
				{
					gw_fail(err, 503, "out of memory");
					goto done;
				}
			}
		}
		if (samples && samples->type != GW_JSON_NULL)
		{
			char		what[64];

			snprintf(what, sizeof(what), "samples of series %zu are", i);
			s->samples = array_items(samples, sizeof(GwPushSample), what, err);
			if (s->samples == NULL)
				goto done;
			for (size_t k = 0; k < samples->n; k++)
			{
				const GwJson *raw = member(&samples->items[k], "rawProfile", "raw_profile");
				GwPushSample *ps = &s->samples[s->nsamples];

				if (raw == NULL || raw->type == GW_JSON_NULL)
				{
					s->nsamples++;	/* an empty profile */
					continue;
				}
				if (raw->type != GW_JSON_STRING ||
					!gw_base64_decode(raw->str, raw->len, &ps->owned, &ps->len))
				{
					gw_fail(err, 400, "Push JSON: rawProfile of sample %zu of series %zu is not base64",
							k, i);
					goto done;
				}
				ps->data = ps->owned;
				s->nsamples++;
			}
		}
	}
	ok = true;
done:
	gw_json_free(j);
	return ok;
}

bool
gw_push_decode(const uint8_t *body, size_t len, bool json, GwPushRequest *out, GwErr *err)
{
	bool		ok;

	memset(out, 0, sizeof(*out));
	ok = json ? decode_json(body, len, out, err) : decode_proto(body, len, out, err);
	if (!ok)
		gw_push_free(out);
	return ok;
}
