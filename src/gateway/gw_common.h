/*
 * gw_common.h
 *		What every part of profile-gateway shares: the HTTP-status error,
 *		the limits, growable byte buffers and the rows one request produces.
 */
#ifndef GW_COMMON_H
#define GW_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pe_buf.h"

/* An error that knows its HTTP status; msg names what was wrong and where. */
typedef struct GwErr
{
	int			status;
	char		msg[512];
} GwErr;

/* Record an error; always returns false. */
extern bool gw_fail(GwErr *e, int status, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Limits, each a command-line option (defaults: Grafana Pyroscope's). */
typedef struct GwLimits
{
	size_t		max_body_bytes;		/* one request body, decompressed (413) */
	size_t		max_profile_bytes;	/* one profile, decompressed (422) */
	uint64_t	max_samples;		/* samples in one profile (422) */
	uint32_t	max_labels;			/* labels of one series (400) */
	uint32_t	max_label_name;		/* bytes of a label name (400) */
	uint32_t	max_label_value;	/* bytes of a label value (400) */
	uint32_t	max_sample_labels;	/* labels on one pprof sample (422) */
	int			zstd_level;			/* stored values' compression */
} GwLimits;

#define GW_DEFAULT_MAX_BODY_BYTES		((size_t) 256 * 1024 * 1024)
#define GW_DEFAULT_MAX_PROFILE_BYTES	((size_t) 4 * 1024 * 1024)
#define GW_DEFAULT_MAX_SAMPLES			16000
#define GW_DEFAULT_MAX_LABELS			30
#define GW_DEFAULT_MAX_LABEL_NAME		1024
#define GW_DEFAULT_MAX_LABEL_VALUE		2048
#define GW_DEFAULT_MAX_SAMPLE_LABELS	100
#define GW_DEFAULT_ZSTD_LEVEL			6

extern void gw_limits_default(GwLimits *l);

/* Append s as a JSON string literal (quotes included); s must be valid UTF-8. */
extern bool gw_buf_json_string(PeBuf *b, const char *s, size_t len);

/* Inflate gzip data (all members), refusing more than limit bytes: 413/422 via err. */
extern bool gw_gunzip(const uint8_t *in, size_t inlen, size_t limit, int status_over,
					  const char *what, uint8_t **out, size_t *outlen, GwErr *err);

extern bool gw_is_gzip(const uint8_t *p, size_t len);

/*
 * Pyroscope's from/until: all digits is Unix time whose unit the digit
 * count tells (13 ms, 16 us, 19 ns, otherwise s); else now.
 */
extern int64_t gw_parse_time_ns(const char *s, size_t len, int64_t now);

/* Wall clock in Unix nanoseconds. */
extern int64_t gw_now_ns(void);

#endif							/* GW_COMMON_H */
