/*
 * gw_push.h
 *		Decoding push.v1.PushRequest, as Connect sends it: a bare protobuf
 *		message (application/proto) or its protojson form (application/json).
 */
#ifndef GW_PUSH_H
#define GW_PUSH_H

#include "gw_labels.h"

typedef struct GwPushSample
{
	const uint8_t *data;		/* raw_profile: pprof, gzipped or not */
	size_t		len;
	uint8_t    *owned;			/* data's buffer when decoded from base64 */
} GwPushSample;

typedef struct GwPushSeries
{
	GwLabels	labels;			/* as sent, duplicates kept (validation refuses them) */
	GwPushSample *samples;
	size_t		nsamples;
} GwPushSeries;

typedef struct GwPushRequest
{
	GwPushSeries *series;
	size_t		nseries;
	void	   *message;		/* the unpacked protobuf message samples point into */
} GwPushRequest;

/* Decode body (json: protojson, else protobuf); 400 on malformed input. */
extern bool gw_push_decode(const uint8_t *body, size_t len, bool json,
						   GwPushRequest *out, GwErr *err);
extern void gw_push_free(GwPushRequest *r);

/* Standard or URL-safe base64, padded or not (as protojson accepts bytes). */
extern bool gw_base64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen);

#endif							/* GW_PUSH_H */
