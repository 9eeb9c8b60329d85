/*
 * gw_labels.c
 *		Label sets, their rules, the `name` grammar, __name__ from sample types.
 */
#include <stdlib.h>
#include <string.h>

#include "gw_json.h"
#include "gw_labels.h"

static char *
dup_bytes(const char *s, size_t len)
{
	char	   *p = malloc(len + 1);

	if (p)
	{
		if (len)
			memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

bool
gw_labels_add(GwLabels *s, const char *name, size_t nlen, const char *value, size_t vlen)
{
	GwLabel    *l;

	if (s->n == s->cap)
	{
		uint32_t	nc = s->cap ? s->cap * 2 : 8;
		GwLabel    *p = realloc(s->l, nc * sizeof(GwLabel));

		if (p == NULL)
			return false;
		s->l = p;
		s->cap = nc;
	}
	l = &s->l[s->n];
	l->name = dup_bytes(name, nlen);
	l->value = dup_bytes(value, vlen);
	if (!l->name || !l->value)
	{
		free(l->name);
		free(l->value);
		return false;
	}
	l->name_len = nlen;
	l->value_len = vlen;
	s->n++;
	return true;
}

static GwLabel *
find(const GwLabels *s, const char *name, size_t nlen)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->l[i].name_len == nlen && memcmp(s->l[i].name, name, nlen) == 0)
			return &s->l[i];
	return NULL;
}

bool
gw_labels_set(GwLabels *s, const char *name, size_t nlen, const char *value, size_t vlen)
{
	GwLabel    *l = find(s, name, nlen);
	char	   *v;

	if (l == NULL)
		return gw_labels_add(s, name, nlen, value, vlen);
	v = dup_bytes(value, vlen);
	if (v == NULL)
		return false;
	free(l->value);
	l->value = v;
	l->value_len = vlen;
	return true;
}

bool
gw_labels_set_str(GwLabels *s, const char *name, const char *value)
{
	return gw_labels_set(s, name, strlen(name), value, strlen(value));
}

const GwLabel *
gw_labels_get(const GwLabels *s, const char *name)
{
	return find(s, name, strlen(name));
}

void
gw_labels_remove(GwLabels *s, const char *name)
{
	GwLabel    *l = find(s, name, strlen(name));

	if (l == NULL)
		return;
	free(l->name);
	free(l->value);
	memmove(l, l + 1, (size_t) (s->l + s->n - (l + 1)) * sizeof(GwLabel));
	s->n--;
}

bool
gw_labels_copy(GwLabels *dst, const GwLabels *src)
{
	memset(dst, 0, sizeof(*dst));
	for (uint32_t i = 0; i < src->n; i++)
		if (!gw_labels_add(dst, src->l[i].name, src->l[i].name_len,
						   src->l[i].value, src->l[i].value_len))
		{
			gw_labels_free(dst);
			return false;
		}
	return true;
}

void
gw_labels_free(GwLabels *s)
{
	for (uint32_t i = 0; i < s->n; i++)
	{
		free(s->l[i].name);
		free(s->l[i].value);
	}
	free(s->l);
	memset(s, 0, sizeof(*s));
}

static int
label_cmp(const void *a, const void *b)
{
	const GwLabel *x = a,
			   *y = b;
	size_t		n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int			c = memcmp(x->name, y->name, n);

	return c != 0 ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/* A printable excerpt of a label name for messages (first 64 bytes, NULs shown as ?). */
static void
excerpt(const char *s, size_t len, char *out, size_t outlen)
{
	size_t		n = len < 64 ? len : 64;
	size_t		k = 0;

	for (size_t i = 0; i < n && k + 1 < outlen; i++)
	{
		unsigned char c = (unsigned char) s[i];

		out[k++] = (c < 0x20 || c >= 0x7F) ? '?' : (char) c;
	}
	if (len > n && k + 3 < outlen)
	{
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

bool
gw_labels_validate(const GwLabels *s, const GwLimits *lim, GwErr *err)
{
	char		ex[80];
	const GwLabel *metric = gw_labels_get(s, "__name__");

	if (lim->max_labels && s->n > lim->max_labels)
		return gw_fail(err, 400, "series has %u labels, more than the limit of %u",
					   s->n, lim->max_labels);
	if (metric == NULL || metric->value_len == 0)
		return gw_fail(err, 400, "invalid metric name: the __name__ label is missing or empty");
	for (uint32_t i = 0; i < s->n; i++)
	{
		const GwLabel *l = &s->l[i];

		excerpt(l->name, l->name_len, ex, sizeof(ex));
		if (l->name_len == 0)
			return gw_fail(err, 400, "a label name is empty");
		if (lim->max_label_name && l->name_len > lim->max_label_name)
			return gw_fail(err, 400, "label name \"%s\" is %zu bytes long, more than the limit of %u",
						   ex, l->name_len, lim->max_label_name);
		if (lim->max_label_value && l->value_len > lim->max_label_value)
			return gw_fail(err, 400, "value of label \"%s\" is %zu bytes long, more than the limit of %u",
						   ex, l->value_len, lim->max_label_value);
		if (!pe_utf8_valid(l->name, l->name_len) || memchr(l->name, 0, l->name_len))
			return gw_fail(err, 400, "label name \"%s\" is not valid UTF-8 text", ex);
		if (!pe_utf8_valid(l->value, l->value_len) || memchr(l->value, 0, l->value_len))
			return gw_fail(err, 400, "value of label \"%s\" is not valid UTF-8 text", ex);
		for (uint32_t j = 0; j < i; j++)
			if (s->l[j].name_len == l->name_len &&
				memcmp(s->l[j].name, l->name, l->name_len) == 0)
				return gw_fail(err, 400, "duplicate label name \"%s\"", ex);
	}
	return true;
}

char *
gw_labels_json(const GwLabels *s)
{
	GwLabel    *sorted = malloc((s->n ? s->n : 1) * sizeof(GwLabel));
	PeBuf		b = {0};
	bool		ok;

	if (sorted == NULL)
		return NULL;
	if (s->n)
		memcpy(sorted, s->l, s->n * sizeof(GwLabel));
	qsort(sorted, s->n, sizeof(GwLabel), label_cmp);
	ok = pe_buf_append(&b, "{", 1);
	for (uint32_t i = 0; ok && i < s->n; i++)
		ok = (i == 0 || pe_buf_append(&b, ",", 1)) &&
			gw_buf_json_string(&b, sorted[i].name, sorted[i].name_len) &&
			pe_buf_append(&b, ":", 1) &&
			gw_buf_json_string(&b, sorted[i].value, sorted[i].value_len);
	ok = ok && pe_buf_append(&b, "}", 1);
	free(sorted);
	if (!ok)
	{
		pe_buf_free(&b);
		return NULL;
	}
	return (char *) b.data;
}

/* ---------------------------------------------------------------- name grammar */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void
trim(const char **s, size_t *len)
{
	while (*len && is_space(**s))
		(*s)++, (*len)--;
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
}

static bool
is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '.';
}

bool
gw_name_parse(const char *s, size_t len, char **app, GwLabels *tags, GwErr *err)
{
	const char *brace = memchr(s, '{', len);
	const char *a = s;
	size_t		alen = brace ? (size_t) (brace - s) : len;
	size_t		pos;
	char		ex[80];

	*app = NULL;
	memset(tags, 0, sizeof(*tags));
	trim(&a, &alen);
	if (alen == 0)
		return gw_fail(err, 400, "name: the application (service) name is required");
	for (size_t i = 0; i < alen; i++)
		if (!is_key_char(a[i]) && a[i] != '-' && a[i] != '/')
		{
			excerpt(a, alen, ex, sizeof(ex));
			return gw_fail(err, 400, "name: application name \"%s\" holds '%c' at byte %zu; allowed are letters, digits and _ . - /",
						   ex, (a[i] >= 0x20 && a[i] < 0x7F) ? a[i] : '?', i);
		}
	if (brace)
	{
		pos = (size_t) (brace - s) + 1;
		for (;;)
		{
			const char *k = s + pos,
					   *v;
			size_t		klen = 0,
						vlen = 0;

			while (pos < len && s[pos] != '=' && s[pos] != '}' && s[pos] != ',')
				pos++, klen++;
			if (pos >= len)
				goto unclosed;
			trim(&k, &klen);
			if (s[pos] != '=')
			{
				if (klen > 0)
				{
					excerpt(k, klen, ex, sizeof(ex));
					gw_labels_free(tags);
					return gw_fail(err, 400, "name: tag \"%s\" has no '=' and no value", ex);
				}
				if (s[pos] == '}')
					break;
				pos++;			/* an empty item: "a=1,,b=2" or a trailing comma */
				continue;
			}
			pos++;
			v = s + pos;
			while (pos < len && s[pos] != ',' && s[pos] != '}')
				pos++, vlen++;
			if (pos >= len)
				goto unclosed;
			trim(&v, &vlen);
			excerpt(k, klen, ex, sizeof(ex));
			if (klen == 0)
			{
				gw_labels_free(tags);
				return gw_fail(err, 400, "name: a tag has an empty key");
			}
			for (size_t i = 0; i < klen; i++)
				if (!is_key_char(k[i]))
				{
					gw_labels_free(tags);
					return gw_fail(err, 400, "name: tag key \"%s\" holds a character other than letters, digits, _ and .", ex);
				}
			if (klen == 8 && memcmp(k, "__name__", 8) == 0)
			{
				gw_labels_free(tags);
				return gw_fail(err, 400, "name: tag key __name__ is reserved");
			}
			if (!pe_utf8_valid(v, vlen) || memchr(v, 0, vlen))
			{
				gw_labels_free(tags);
				return gw_fail(err, 400, "name: the value of tag \"%s\" is not valid UTF-8 text", ex);
			}
			/* keys starting with "__" are internal: dropped, as Pyroscope drops them */
			if (!gw_label_is_internal(k, klen) &&
				!gw_labels_set(tags, k, klen, v, vlen))
			{
				gw_labels_free(tags);
				return gw_fail(err, 503, "out of memory");
			}
			if (s[pos] == '}')
				break;
			pos++;
		}
	}
	*app = dup_bytes(a, alen);
	if (*app == NULL)
	{
		gw_labels_free(tags);
		return gw_fail(err, 503, "out of memory");
	}
	return true;
unclosed:
	gw_labels_free(tags);
	return gw_fail(err, 400, "name: the tag list after '{' has no closing '}'");
}

/* ---------------------------------------------------------------- __name__ */

bool
gw_type_names_parse(const char *json, size_t len, GwTypeNames *out, GwErr *err)
{
	GwJson	   *j;

	memset(out, 0, sizeof(*out));
	j = gw_json_parse(json, len, err);
	if (j == NULL)
	{
		char		m[sizeof(err->msg)];

		memcpy(m, err->msg, sizeof(m));
		return gw_fail(err, 422, "sample_type_config: %s", m);
	}
	if (j->type != GW_JSON_OBJECT)
	{
		gw_json_free(j);
		return gw_fail(err, 422, "sample_type_config: not a JSON object");
	}
	out->type = calloc(j->n ? j->n : 1, sizeof(char *));
	out->display = calloc(j->n ? j->n : 1, sizeof(char *));
	if (!out->type || !out->display)
		goto oom;
	for (size_t i = 0; i < j->n; i++)
	{
		const GwJson *d = gw_json_get(&j->items[i], "display-name");

		out->type[out->n] = dup_bytes(j->keys[i], j->key_lens[i]);
		if (out->type[out->n] == NULL)
			goto oom;
		if (d && d->type == GW_JSON_STRING &&
			(out->display[out->n] = dup_bytes(d->str, d->len)) == NULL)
		{
			free(out->type[out->n]);
			goto oom;
		}
		out->n++;
	}
	gw_json_free(j);
	return true;
oom:
	gw_json_free(j);
	gw_type_names_free(out);
	return gw_fail(err, 503, "out of memory");
}

void
gw_type_names_free(GwTypeNames *t)
{
	for (uint32_t i = 0; i < t->n; i++)
	{
		free(t->type[i]);
		free(t->display[i]);
	}
	free(t->type);
	free(t->display);
	memset(t, 0, sizeof(*t));
}

/* Display name of a sample type: sample_type_config, else Pyroscope's defaults. */
static const char *
display_name(const char *type, const GwTypeNames *names)
{
	static const char *const defaults[][2] = {
		{"samples", "cpu"}, {"goroutine", "goroutines"},
		{"contentions", "mutex_count"}, {"delay", "mutex_duration"},
	};

	for (uint32_t i = 0; names && i < names->n; i++)
		if (strcmp(names->type[i], type) == 0 && names->display[i])
			return names->display[i];
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (strcmp(defaults[i][0], type) == 0)
			return defaults[i][1];
	return type;
}

const char *
gw_metric_name(const PeMeta *meta, const GwTypeNames *names)
{
	for (uint32_t i = 0; i < meta->nvalues; i++)
		if (strcmp(meta->types[i].type, "wall") == 0)
			return "wall";
	for (uint32_t i = 0; i < meta->nvalues; i++)
	{
		const char *d = display_name(meta->types[i].type, names);

		if (strstr(d, "cpu"))
			return "process_cpu";
		if (strstr(d, "alloc_") || strstr(d, "inuse_") ||
			strcmp(d, "space") == 0 || strcmp(d, "objects") == 0)
			return "memory";
		if (strstr(d, "mutex_"))
			return "mutex";
		if (strstr(d, "block_"))
			return "block";
		if (strstr(d, "goroutines"))
			return "goroutines";
	}
	return meta->nvalues > 0 && meta->types[0].type[0] ? meta->types[0].type : "unknown";
}
