/*
 * gw_common.c
 *		Errors, limits, byte buffers, JSON string output, bounded gunzip.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_common.h"
#include "pe_pprof.h"

bool
gw_fail(GwErr *e, int status, const char *fmt,...)
{
	va_list		ap;

	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return false;
}

void
gw_limits_default(GwLimits *l)
{
	l->max_body_bytes = GW_DEFAULT_MAX_BODY_BYTES;
	l->max_profile_bytes = GW_DEFAULT_MAX_PROFILE_BYTES;
	l->max_samples = GW_DEFAULT_MAX_SAMPLES;
	l->max_labels = GW_DEFAULT_MAX_LABELS;
	l->max_label_name = GW_DEFAULT_MAX_LABEL_NAME;
	l->max_label_value = GW_DEFAULT_MAX_LABEL_VALUE;
	l->max_sample_labels = GW_DEFAULT_MAX_SAMPLE_LABELS;
	l->zstd_level = GW_DEFAULT_ZSTD_LEVEL;
}

bool
gw_buf_json_string(PeBuf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	if (!pe_buf_append(b, "\"", 1))
		return false;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[7];

		if (c == '"' || c == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) c;
			if (!pe_buf_append(b, esc, 2))
				return false;
		}
		else if (c < 0x20)
		{
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			if (!pe_buf_append(b, esc, 6))
				return false;
		}
		else if (!pe_buf_append(b, &s[i], 1))
			return false;
	}
	return pe_buf_append(b, "\"", 1);
}

bool
gw_is_gzip(const uint8_t *p, size_t len)
{
	return pe_is_gzip(p, len);
}

/* The core's bounded inflater, so there is one gzip reader in the project. */
bool
gw_gunzip(const uint8_t *in, size_t inlen, size_t limit, int status_over,
		  const char *what, uint8_t **out, size_t *outlen, GwErr *err)
{
	PeCtx		ctx;

	pe_ctx_init_malloc(&ctx);
	ctx.limits.max_decoded_bytes = limit;
	if (pe_gunzip(&ctx, in, inlen, out, outlen))
		return true;
	if (pe_err_is_limit(ctx.err.code))
		return gw_fail(err, status_over, "%s inflates to more than %zu bytes", what, limit);
	if (ctx.err.code == PE_ERR_NOMEM)
		return gw_fail(err, 503, "out of memory inflating %s", what);
	return gw_fail(err, status_over == 413 ? 400 : 422, "%s is not valid gzip: %s",
				   what, ctx.err.msg);
}

/* from/until (see gw_common.h); "now-1h" and other relative forms: now */
int64_t
gw_parse_time_ns(const char *s, size_t len, int64_t now)
{
	int64_t		v = 0;
	int64_t		unit;

	if (s == NULL || len == 0 || len > 19)
		return now;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return now;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
			return now;
	}
	/* the digit count names the unit, as Pyroscope reads it */
	unit = len == 19 ? 1 : len == 16 ? 1000 : len == 13 ? 1000000 : 1000000000;
	/* a value whose nanoseconds do not fit in 64 bits is no time: use now */
	if (__builtin_mul_overflow(v, unit, &v))
		return now;
	return v;
}

int64_t
gw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}
