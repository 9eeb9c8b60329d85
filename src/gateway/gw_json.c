/*
 * gw_json.c
 *		Recursive descent with a fixed depth bound (GW_JSON_MAX_DEPTH), so
 *		the data cannot choose the stack depth.
 */
#include <stdlib.h>
#include <string.h>

#include "gw_json.h"
#include "pe_utf8.h"

typedef struct JsonParser
{
	const char *s;
	size_t		len;
	size_t		pos;
	GwErr	   *err;
} JsonParser;

static bool parse_value(JsonParser *p, GwJson *out, int depth);

static void
free_members(GwJson *j)
{
	for (size_t i = 0; i < j->n; i++)
	{
		free_members(&j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->key_lens);
	free(j->str);
}

void
gw_json_free(GwJson *j)
{
	if (j == NULL)
		return;
	free_members(j);
	free(j);
}

static bool
fail_at(JsonParser *p, const char *what)
{
	return gw_fail(p->err, 400, "invalid JSON at byte %zu: %s", p->pos, what);
}

static void
skip_ws(JsonParser *p)
{
	while (p->pos < p->len &&
		   (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
			p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static bool
read_hex4(JsonParser *p, unsigned *out)
{
	unsigned	v = 0;

	if (p->len - p->pos < 4)
		return fail_at(p, "truncated \\u escape");
	for (int i = 0; i < 4; i++)
	{
		int			h = pe_hex_value(p->s[p->pos + i]);

		if (h < 0)
			return fail_at(p, "bad \\u escape");
		v = v * 16 + (unsigned) h;
	}
	p->pos += 4;
	*out = v;
	return true;
}

static bool
put_utf8(PeBuf *b, unsigned cp)
{
	char		u[4];

	return pe_buf_append(b, u, (size_t) pe_utf8_encode(cp, u));
}

/* A string literal at p->pos (the opening quote). */
static bool
parse_string(JsonParser *p, char **out, size_t *outlen)
{
	PeBuf		b = {0};
	size_t		run;

	p->pos++;
	for (;;)
	{
		run = p->pos;
		while (p->pos < p->len && p->s[p->pos] != '"' && p->s[p->pos] != '\\' &&
			   (unsigned char) p->s[p->pos] >= 0x20)
			p->pos++;
		if (!pe_utf8_valid(p->s + run, p->pos - run))
		{
			pe_buf_free(&b);
			return fail_at(p, "string is not valid UTF-8");
		}
		if (!pe_buf_append(&b, p->s + run, p->pos - run))
			goto oom;
		if (p->pos >= p->len)
		{
			pe_buf_free(&b);
			return fail_at(p, "unterminated string");
		}
		if (p->s[p->pos] == '"')
		{
			p->pos++;
			break;
		}
		if ((unsigned char) p->s[p->pos] < 0x20)
		{
			pe_buf_free(&b);
			return fail_at(p, "control character in string");
		}
		/* backslash */
		if (++p->pos >= p->len)
		{
			pe_buf_free(&b);
			return fail_at(p, "unterminated escape");
		}
		{
			char		c = p->s[p->pos++];
			char		lit;
			unsigned	cp,
						lo;

			switch (c)
			{
				case '"': lit = '"'; break;
				case '\\': lit = '\\'; break;
				case '/': lit = '/'; break;
				case 'b': lit = '\b'; break;
				case 'f': lit = '\f'; break;
				case 'n': lit = '\n'; break;
				case 'r': lit = '\r'; break;
				case 't': lit = '\t'; break;
				case 'u':
					if (!read_hex4(p, &cp))
					{
						pe_buf_free(&b);
						return false;
					}
					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
						{
							pe_buf_free(&b);
							return fail_at(p, "lone surrogate in \\u escape");
						}
						p->pos += 2;
						if (!read_hex4(p, &lo))
						{
							pe_buf_free(&b);
							return false;
						}
						if (lo < 0xDC00 || lo > 0xDFFF)
						{
							pe_buf_free(&b);
							return fail_at(p, "lone surrogate in \\u escape");
						}
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					}
					else if (cp >= 0xDC00 && cp <= 0xDFFF)
					{
						pe_buf_free(&b);
						return fail_at(p, "lone surrogate in \\u escape");
					}
					if (!put_utf8(&b, cp))
						goto oom;
					continue;
				default:
					pe_buf_free(&b);
					return fail_at(p, "bad escape");
			}
			if (!pe_buf_append(&b, &lit, 1))
				goto oom;
		}
	}
	if (b.data == NULL && !pe_buf_reserve(&b, 1))
		goto oom;
	b.data[b.len] = '\0';
	*out = (char *) b.data;
	*outlen = b.len;
	return true;
oom:
	pe_buf_free(&b);
	return gw_fail(p->err, 503, "out of memory reading JSON");
}

static bool
parse_number(JsonParser *p, GwJson *out)
{
	size_t		start = p->pos;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || !(p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
		return fail_at(p, "bad number");
	while (p->pos < p->len && ((p->s[p->pos] >= '0' && p->s[p->pos] <= '9') ||
							   p->s[p->pos] == '.' || p->s[p->pos] == 'e' ||
							   p->s[p->pos] == 'E' || p->s[p->pos] == '+' ||
							   p->s[p->pos] == '-'))
		p->pos++;
	out->type = GW_JSON_NUMBER;
	out->len = p->pos - start;
	out->str = malloc(out->len + 1);
	if (out->str == NULL)
		return gw_fail(p->err, 503, "out of memory reading JSON");
	memcpy(out->str, p->s + start, out->len);
	out->str[out->len] = '\0';
	return true;
}

static bool
literal(JsonParser *p, const char *word)
{
	size_t		n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail_at(p, "unexpected character");
	p->pos += n;
	return true;
}

/* Grow the members of an array or object by one. */
static GwJson *
add_member(JsonParser *p, GwJson *j, size_t *cap)
{
	if (j->n == *cap)
	{
		size_t		nc = *cap ? *cap * 2 : 4;
		GwJson	   *items = realloc(j->items, nc * sizeof(GwJson));

		if (items == NULL)
			return NULL;
		j->items = items;
		if (j->type == GW_JSON_OBJECT)
		{
			char	  **keys = realloc(j->keys, nc * sizeof(char *));
			size_t	   *lens;

			if (keys == NULL)
				return NULL;
			j->keys = keys;
			lens = realloc(j->key_lens, nc * sizeof(size_t));
			if (lens == NULL)
				return NULL;
			j->key_lens = lens;
		}
		*cap = nc;
	}
	memset(&j->items[j->n], 0, sizeof(GwJson));
	if (j->keys)
		j->keys[j->n] = NULL;
	return &j->items[j->n++];
}

static bool
parse_container(JsonParser *p, GwJson *out, int depth, bool object)
{
	size_t		cap = 0;
	char		close = object ? '}' : ']';

	out->type = object ? GW_JSON_OBJECT : GW_JSON_ARRAY;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close)
	{
		p->pos++;
		return true;
	}
	for (;;)
	{
		GwJson	   *m;
		char	   *key = NULL;
		size_t		klen = 0;

		skip_ws(p);
		if (object)
		{
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail_at(p, "expected a member name");
			if (!parse_string(p, &key, &klen))
				return false;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
			{
				free(key);
				return fail_at(p, "expected ':'");
			}
			p->pos++;
		}
		m = add_member(p, out, &cap);
		if (m == NULL)
		{
			free(key);
			return gw_fail(p->err, 503, "out of memory reading JSON");
		}
		if (object)
		{
			out->keys[out->n - 1] = key;
			out->key_lens[out->n - 1] = klen;
		}
		if (!parse_value(p, m, depth + 1))
			return false;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',')
		{
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close)
		{
			p->pos++;
			return true;
		}
		return fail_at(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool
parse_value(JsonParser *p, GwJson *out, int depth)
{
	if (depth > GW_JSON_MAX_DEPTH)
		return fail_at(p, "nested too deeply");
	skip_ws(p);
	if (p->pos >= p->len)
		return fail_at(p, "unexpected end of input");
	switch (p->s[p->pos])
	{
		case '{':
			return parse_container(p, out, depth, true);
		case '[':
			return parse_container(p, out, depth, false);
		case '"':
			out->type = GW_JSON_STRING;
			return parse_string(p, &out->str, &out->len);
		case 't':
			out->type = GW_JSON_BOOL;
			out->boolean = true;
			return literal(p, "true");
		case 'f':
			out->type = GW_JSON_BOOL;
			return literal(p, "false");
		case 'n':
			out->type = GW_JSON_NULL;
			return literal(p, "null");
		default:
			return parse_number(p, out);
	}
}

GwJson *
gw_json_parse(const char *text, size_t len, GwErr *err)
{
	JsonParser	p = {text, len, 0, err};
	GwJson	   *j = calloc(1, sizeof(GwJson));

	if (j == NULL)
	{
		gw_fail(err, 503, "out of memory reading JSON");
		return NULL;
	}
	if (!parse_value(&p, j, 0))
	{
		gw_json_free(j);
		return NULL;
	}
	skip_ws(&p);
	if (p.pos != p.len)
	{
		fail_at(&p, "trailing data after the value");
		gw_json_free(j);
		return NULL;
	}
	return j;
}

const GwJson *
gw_json_get(const GwJson *obj, const char *key)
{
	size_t		klen = strlen(key);

	if (obj == NULL || obj->type != GW_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (obj->key_lens[i] == klen && memcmp(obj->keys[i], key, klen) == 0)
			return &obj->items[i];
	return NULL;
}
