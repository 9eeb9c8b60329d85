/*
 * pe_folded.c
 *		Folded ("collapsed") stacks in and out (see pe_folded.h).
 *
 * Parsing rules, for a profile with N sample types:
 * - The text is split into lines on '\n'.  Trailing '\r', spaces and tabs
 *   of a line are ignored; lines that are empty after that are skipped.
 * - A line is "STACK V1 ... VN": the last N tokens separated by single
 *   spaces are the values, everything before the space that precedes V1 is
 *   the stack.  So frames may contain spaces ("java.lang.Thread.run()
 *   [file]"), while a doubled space before a value is an empty value.
 * - Values are signed 64-bit decimal integers: an optional '-', then one
 *   or more digits.  A value that does not fit is PE_ERR_OVERFLOW; so is a
 *   stack whose values, summed over duplicate lines, no longer fit.
 * - The stack is split on ';' into frames, root first.  An empty frame
 *   ("a;;b", a leading or trailing ';') is an error.  An empty stack (a
 *   line " 42") adds to the root itself: flamegraph.pl counts such lines in
 *   the total, and it is how pe_folded_write writes a root self value.
 * - Frame names are interned with pe_strtab_intern_utf8: invalid UTF-8 and
 *   NUL bytes become U+FFFD, as in names decoded from pprof.
 * - More than ctx->limits.max_stack_depth frames in a stack is
 *   PE_ERR_LIMIT_DEPTH.  Identical stacks add up.
 * Any other malformed line is PE_ERR_TEXT, with a message that names the
 * line number and a detail that quotes the start of the line.
 *
 * Writing emits one line per node with a non-zero self value, in canonical
 * pre-order (a root self value as " 42").  Every line repeats its whole
 * stack, so the output is capped at ctx->limits.max_decoded_bytes
 * (PE_ERR_LIMIT_SIZE).  Each line is copied from a path buffer that keeps the
 * end offset of every depth, so a deep stack costs no re-walk.  A frame name that is empty or contains ';', '\n' or NUL
 * cannot be read back as the same frame, so writing it fails with
 * PE_ERR_ARG instead of producing ambiguous text.  Names of trees are valid
 * UTF-8 (pe_tree.h), so write(parse(write(t))) == write(t).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pe_buf.h"
#include "pe_folded.h"

/* Interrupt checks every this many lines plus frames (a power of two). */
/* ... and every this many bytes of output. */
#define FOLDED_INTERRUPT_BYTES	((size_t) 4 << 20)
/* Bytes of a line (or name) quoted in an error detail. */
#define QUOTE_MAX_BYTES			80
#define NO_DEPTH				UINT32_MAX

/*
 * Copy the start of s into buf (of QUOTE_MAX_BYTES + 8 bytes) as printable,
 * valid UTF-8, for an error detail: control characters, quotes and invalid
 * bytes become '?', and "..." marks a cut.
 */
static void
quote_bytes(const char *s, size_t len, char *buf)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;
	size_t		o = 0;

	while (i < len)
	{
		size_t		n = (size_t) pe_utf8_seq_len(p + i, len - i);

		if (o + (n ? n : 1) > QUOTE_MAX_BYTES)
		{
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (n <= 1)
		{
			unsigned char c = p[i];

			buf[o++] = (c < 0x20 || c == 0x7F || c == '"' || n == 0) ? '?' : (char) c;
			i++;
		}
		else
		{
			memcpy(buf + o, p + i, n);
			o += n;
			i += n;
		}
	}
	buf[o] = '\0';
}

/*
 * Fail with "invalid folded stack at line N: <what>" and a detail that
 * quotes the line, preceded by an optional hint sentence.
 */
static __attribute__((format(printf, 7, 8))) bool
line_error(PeCtx *ctx, PeErrCode code, uint64_t lineno, const char *line,
		   size_t len, const char *hint, const char *fmt,...)
{
	char		what[192];
	char		quoted[QUOTE_MAX_BYTES + 8];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	quote_bytes(line, len, quoted);
	pe_fail(ctx, code, "invalid folded stack at line %" PRIu64 ": %s\n"
			"%s%sThe line is \"%s\".", lineno, what, hint ? hint : "", hint ? " " : "", quoted);
	return false;
}

/* Parse a signed decimal integer: 0 when fine, 1 when malformed, 2 when out of range. */
static int
parse_int64(const char *s, size_t len, int64_t *out)
{
	bool		negative = len > 0 && s[0] == '-';
	uint64_t	limit = negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	uint64_t	acc = 0;
	bool		overflow = false;
	size_t		i = negative ? 1 : 0;

	if (i == len)
		return 1;
	for (; i < len; i++)
	{
		unsigned	digit = (unsigned char) s[i] - '0';

		if (digit > 9)
			return 1;
		if (acc > (limit - digit) / 10)
			overflow = true;
		else
			acc = acc * 10 + digit;
	}
	if (overflow)
		return 2;
	if (negative)
		*out = acc == 0 ? 0 : -(int64_t) (acc - 1) - 1;
	else
		*out = (int64_t) acc;
	return 0;
}

/* The detail hint of a malformed values part. */
static const char *
values_hint(char *buf, size_t size, uint32_t nv)
{
	snprintf(buf, size, "Each line is a stack of frames separated by \";\", then %u integer value%s, each after a single space.",
			 nv, nv == 1 ? "" : "s");
	return buf;
}

/* Split the values off the end of a line; *stack_len gets what is left. */
static bool
parse_values(PeCtx *ctx, uint32_t nv, const char *line, size_t len,
			 uint64_t lineno, int64_t *values, size_t *stack_len)
{
	char		hint[160];
	size_t		end = len;

	for (uint32_t k = nv; k-- > 0;)
	{
		const char *space = memrchr(line, ' ', end);
		const char *tok;
		size_t		toklen;
		char		quoted[QUOTE_MAX_BYTES + 8];
		int			r;

		if (space == NULL)
		{
			values_hint(hint, sizeof(hint), nv);
			if (nv == 1)
				return line_error(ctx, PE_ERR_TEXT, lineno, line, len, hint, "missing value");
			return line_error(ctx, PE_ERR_TEXT, lineno, line, len, hint,
							  "expected %u values after the stack, found %u", nv, nv - 1 - k);
		}
		tok = space + 1;
		toklen = line + end - tok;
		r = parse_int64(tok, toklen, &values[k]);
		if (r != 0)
		{
			quote_bytes(tok, toklen, quoted);
			if (r == 1)
				return line_error(ctx, PE_ERR_TEXT, lineno, line, len,
								  values_hint(hint, sizeof(hint), nv),
								  "invalid value \"%s\"", quoted);
			return line_error(ctx, PE_ERR_OVERFLOW, lineno, line, len,
							  "Values must fit in a signed 64-bit integer.",
							  "value %s out of range", quoted);
		}
		end = space - line;
	}
	*stack_len = end;
	return true;
}

/* Parse one line (without its '\n') into the tree. */
static bool
parse_line(PeCtx *ctx, PeTree *t, const char *line, size_t len,
		   uint64_t lineno, uint32_t *work)
{
	uint32_t	nv = t->meta.nvalues;
	int64_t		values[PE_MAX_VALUES];
	size_t		stack_len = 0;
	const char *frame = line;
	const char *stack_end;
	uint32_t	depth = 0;
	uint32_t	node = 0;
	int64_t    *self;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return true;
	if (!parse_values(ctx, nv, line, len, lineno, values, &stack_len))
		return false;

	stack_end = line + stack_len;
	while (stack_len > 0)
	{
		const char *semi = memchr(frame, ';', stack_end - frame);
		const char *frame_end = semi ? semi : stack_end;
		uint32_t	name;

		if (frame_end == frame)
		{
			char		hint[64];

			snprintf(hint, sizeof(hint), "Frame %u of the stack is empty.", depth + 1);
			return line_error(ctx, PE_ERR_TEXT, lineno, line, len, hint, "empty frame name");
		}
		if (++depth > ctx->limits.max_stack_depth)
			return line_error(ctx, PE_ERR_LIMIT_DEPTH, lineno, line, len, NULL,
							  "stack has more than the limit of %u frames",
							  ctx->limits.max_stack_depth);
		name = pe_strtab_intern_utf8(&t->names, frame, frame_end - frame);
		if (name == PE_NO_NODE)
			return false;
		node = pe_tree_child(t, node, name);
		if (node == PE_NO_NODE)
			return false;
		if ((++*work & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
		if (semi == NULL)
			break;
		frame = semi + 1;
	}

	self = t->self + (size_t) node * nv;
	for (uint32_t v = 0; v < nv; v++)
		if (__builtin_add_overflow(self[v], values[v], &self[v]))
			return line_error(ctx, PE_ERR_OVERFLOW, lineno, line, len,
							  "Adding the values of this line to earlier lines with the same stack overflows a 64-bit integer.",
							  "sum of values out of range");
	return true;
}

bool
pe_folded_parse(PeCtx *ctx, const char *text, size_t len, const PeMeta *meta,
				PeTree *t)
{
	const char *p = text;
	const char *end = text + len;
	uint64_t	lineno = 0;
	uint32_t	work = 0;

	memset(t, 0, sizeof(*t));
	if (meta->nvalues == 0)
		return pe_fail(ctx, PE_ERR_ARG, "folded stacks need at least one sample type");
	if (!pe_tree_init(ctx, t, meta))
		goto fail;
	while (p < end)
	{
		const char *nl = memchr(p, '\n', end - p);
		const char *line_end = nl ? nl : end;

		lineno++;
		if (!parse_line(ctx, t, p, line_end - p, lineno, &work))
			goto fail;
		p = nl ? nl + 1 : end;
		if ((++work & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	return true;
fail:
	pe_tree_free(t);
	return false;
}

/* Decimal digits of v into buf (at least 20 bytes); returns the length. */
static size_t
format_int64(char *buf, int64_t v)
{
	char		tmp[24];
	uint64_t	u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
	size_t		n = 0;
	size_t		o = 0;

	do
	{
		tmp[n++] = (char) ('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		buf[o++] = '-';
	while (n > 0)
		buf[o++] = tmp[--n];
	return o;
}

/* The byte of name that folded text cannot carry, or -1 (-2: empty name). */
static int
unwritable_byte(const char *name, uint32_t len)
{
	if (len == 0)
		return -2;
	for (uint32_t i = 0; i < len; i++)
		if (name[i] == ';' || name[i] == '\n' || name[i] == '\0')
			return (unsigned char) name[i];
	return -1;
}

/* Fail because the frame name can not be written as folded text. */
static bool
unwritable_error(PeCtx *ctx, const char *name, uint32_t len, int byte)
{
	char		quoted[QUOTE_MAX_BYTES + 8];

	quote_bytes(name, len, quoted);
	if (byte == -2)
		pe_fail(ctx, PE_ERR_ARG, "frame name is empty, which folded stacks cannot represent");
	else
		pe_fail(ctx, PE_ERR_ARG, "frame name contains %s, which folded stacks cannot represent\n"
				"The frame is \"%s\". Export the profile as pprof instead.",
				byte == ';' ? "\";\"" : byte == '\n' ? "a newline" : "a NUL byte", quoted);
	return false;
}

bool
pe_folded_write(const PeTree *t, uint32_t v, char **out, size_t *outlen)
{
	PeCtx	   *ctx = t->ctx;
	uint32_t	nv = t->meta.nvalues;
	PeOrder		order = {0};
	PeBuf		path = {.ctx = ctx};
	PeBuf		text = {.ctx = ctx, .limit = ctx->limits.max_decoded_bytes};
	size_t	   *frame_end = NULL;	/* path length after the frame at depth d */
	uint32_t	bad_depth = NO_DEPTH;	/* shallowest unwritable frame on path */
	int			bad_byte = -1;
	size_t		checked_at = 0;
	bool		ok = false;

	*out = NULL;
	*outlen = 0;
	if (v >= nv)
		return pe_fail(ctx, PE_ERR_ARG, "sample type index %u out of range\n"
				"The profile has %u sample types.", v, nv);
	if (!pe_tree_preorder(t, true, &order))
		return false;
	frame_end = pe_alloc(ctx, sizeof(size_t) * order.n);
	if (frame_end == NULL || !pe_buf_reserve(&text, 0) || !pe_buf_reserve(&path, 0))
		goto done;
	frame_end[0] = 0;

	for (uint32_t i = 0; i < order.n; i++)
	{
		uint32_t	node = order.node[i];
		uint32_t	depth = order.depth[i];
		int64_t		value = t->self[(size_t) node * nv + v];

		/* Replace the path's frames from this depth on with this node. */
		if (depth > 0)
		{
			uint32_t	len;
			const char *name = pe_strtab_get(&t->names, t->name[node], &len);
			int			byte = unwritable_byte(name, len);

			path.len = frame_end[depth - 1];
			if (bad_depth >= depth)
				bad_depth = NO_DEPTH;
			if (byte != -1 && bad_depth == NO_DEPTH)
			{
				bad_depth = depth;
				bad_byte = byte;
			}
			if (!pe_buf_reserve(&path, len + 1))
				goto done;
			if (depth > 1)
				path.data[path.len++] = ';';
			memcpy(path.data + path.len, name, len);
			path.len += len;
			frame_end[depth] = path.len;
		}

		if (value != 0)
		{
			if (bad_depth != NO_DEPTH)
			{
				uint32_t	len;
				const char *name;
				uint32_t	bad = node;

				for (uint32_t d = depth; d > bad_depth; d--)
					bad = t->parent[bad];
				name = pe_strtab_get(&t->names, t->name[bad], &len);
				unwritable_error(ctx, name, len, bad_byte);
				goto done;
			}
			if (!pe_buf_reserve(&text, path.len + 24))
				goto done;
			memcpy(text.data + text.len, path.data, path.len);
			text.len += path.len;
			text.data[text.len++] = ' ';
			text.len += format_int64((char *) text.data + text.len, value);
			text.data[text.len++] = '\n';
		}

		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0 ||
			text.len - checked_at >= FOLDED_INTERRUPT_BYTES)
		{
			checked_at = text.len;
			pe_check_interrupts(ctx);
		}
	}
	text.data[text.len] = '\0';
	*out = (char *) text.data;
	*outlen = text.len;
	text.data = NULL;
	ok = true;
done:
	if (text.over_limit)
		pe_fail(ctx, PE_ERR_LIMIT_SIZE, "folded output exceeds the size limit of %zu bytes\n"
				"Every line repeats its whole stack.",
				text.limit);
	pe_buf_free(&text);
	pe_buf_free(&path);
	pe_free(ctx, frame_end);
	pe_order_free(ctx, &order);
	return ok;
}
