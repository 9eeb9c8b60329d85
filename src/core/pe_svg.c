/*
 * pe_svg.c
 *		SVG flame graphs (icicle: root at the top) from flame rows.
 *
 * Two passes over the rows.  The first lays the boxes out to find how many
 * are drawn, the deepest drawn level (the picture's height) and, for
 * diffs, the largest change; the second writes the document.  The layout
 * keeps, per level, the next free x and the right edge of the current
 * parent (in value units), so it needs no recursion: in pre-order the row
 * after a node at level L is its first child, and siblings follow their
 * previous sibling's subtree.
 *
 * Everything written is XML-escaped and valid UTF-8: bytes that are not
 * UTF-8, and code points XML 1.0 forbids (most control characters), become
 * U+FFFD.  With ascii_only every non-ASCII character is written as a
 * character reference, for servers whose encoding is not UTF-8.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pe_buf.h"
#include "pe_svg.h"


/* Geometry, in pixels. */
#define PAD_X			10		/* left and right margin */
#define TITLE_Y			24		/* baseline of the title */
#define SUBTITLE_Y		42		/* baseline of the line under it */
#define FRAMES_TOP		52		/* top of the root row */
#define ROW_H			16		/* one level */
#define BOX_H			15		/* a box (1 px gap between levels) */
#define BOX_GAP			0.5		/* gap right of boxes of 2 px and more */
#define TEXT_BASELINE	11		/* text baseline below a box's top */
#define PAD_BOTTOM		8
#define TEXT_PAD		3		/* space left of a label */
#define CHAR_W			7.25	/* monospace advance at 12 px (0.6 em), rounded up */
#define MIN_BOX_PX		0.5		/* narrower boxes are not drawn */
#define MIN_DIFF_SCALE	0.01	/* full diff colour at no less than 1 point */

/* Stay well below PostgreSQL's 1 GB limit on a text value. */
#define MAX_SVG_BYTES	((size_t) 1000 * 1000 * 1000)

/* The document; put_char writes non-ASCII as references with ascii_only. */
typedef struct SvgBuf
{
	PeBuf		out;
	bool		ascii_only;
} SvgBuf;

/*
 * Decode one character of s (avail > 0 bytes): the bytes it takes (at
 * least 1) and its code point, U+FFFD for a byte that starts no valid
 * UTF-8 sequence and for code points XML 1.0 does not allow.
 */
static int
xml_char_next(const unsigned char *s, size_t avail, uint32_t *cp)
{
	int			n = pe_utf8_decode(s, avail, cp);

	if (n == 0)
	{
		*cp = 0xFFFD;
		return 1;
	}
	if ((*cp < 0x20 && *cp != '\t' && *cp != '\n' && *cp != '\r') ||
		*cp == 0xFFFE || *cp == 0xFFFF)
		*cp = 0xFFFD;
	return n;
}

/* Columns a character takes in a monospace font: 2 for East Asian wide. */
static int
char_columns(uint32_t cp)
{
	if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
		(cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
		(cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
		(cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
		(cp >= 0x20000 && cp <= 0x3FFFD))
		return 2;
	return 1;
}

/* Write one code point, escaped for element content and attributes. */
static void
put_char(SvgBuf *b, uint32_t cp)
{
	const char *entity = cp == '&' ? "&amp;" : cp == '<' ? "&lt;" : cp == '>' ? "&gt;" :
		cp == '"' ? "&quot;" : cp == '\'' ? "&#39;" : NULL;
	char		tmp[16];
	int			n;

	if (entity)
	{
		pe_buf_puts(&b->out, entity);
		return;
	}
	if (cp >= 0x80 && b->ascii_only)
		n = snprintf(tmp, sizeof(tmp), "&#x%X;", (unsigned) cp);
	else
		n = pe_utf8_encode(cp, tmp);
	pe_buf_append(&b->out, tmp, n);
}

/* Write arbitrary bytes as escaped, valid UTF-8 text. */
static void
put_text(SvgBuf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;

	for (size_t i = 0; i < len && !b->out.failed;)
	{
		uint32_t	cp;
		size_t		start = i;

		/* Copy runs of plain ASCII in one go. */
		while (i < len && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '&' &&
			   p[i] != '<' && p[i] != '>' && p[i] != '"' && p[i] != '\'')
			i++;
		if (i > start)
			pe_buf_append(&b->out, s + start, i - start);
		if (i >= len)
			break;
		i += xml_char_next(p + i, len - i, &cp);
		put_char(b, cp);
	}
}

/*
 * Fit a label of at most cols columns: the whole name, or a prefix
 * followed by "..".  Returns false when not even one character and the
 * dots fit; else *keep is the number of bytes of s to write and *dots
 * says whether ".." follows.
 */
static bool
fit_label(const char *s, size_t len, int cols, size_t *keep, bool *dots)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		cut = 0;		/* bytes that fit in cols - 2 columns */
	bool		cut_set = false;
	int			used = 0;
	size_t		i = 0;

	while (i < len)
	{
		uint32_t	cp;
		int			n = xml_char_next(p + i, len - i, &cp);

		used += char_columns(cp);
		if (used > cols - 2 && !cut_set)
		{
			cut = i;
			cut_set = true;
		}
		if (used > cols)
			break;
		i += n;
	}
	if (i >= len)
	{
		*keep = len;
		*dots = false;
		return len > 0;
	}
	*keep = cut;
	*dots = true;
	return cut > 0;
}

/* Is the byte an ASCII letter? */
static inline bool
is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Where a name's argument list starts (its first '(' after the first byte), or len. */
static uint32_t
args_start(const char *s, uint32_t len)
{
	for (uint32_t i = 1; i < len; i++)
		if (s[i] == '(')
			return i;
	return len;
}

/*
 * Where the short form of a name starts, for labels where the whole name
 * does not fit: after the last '/' or ".so." (before any argument list),
 * then past lowercase dotted package segments followed by another dotted
 * part, so
 * "java/util/HashMap.get" and "java.util.HashMap.get" become
 * "HashMap.get", "net/http.(*conn).serve" becomes "http.(*conn).serve",
 * "libc.so.clock_gettime" becomes "clock_gettime" and "runtime.mallocgc"
 * stays whole.
 */
static uint32_t
short_name_start(const char *s, uint32_t len)
{
	uint32_t	end = args_start(s, len);
	uint32_t	start = 0;

	for (uint32_t i = 0; i + 1 < end; i++)
	{
		if (s[i] == '/')
			start = i + 1;
		/* native frames: "libjvm.so.JVM_Sleep" */
		if (i + 4 < end && memcmp(s + i, ".so.", 4) == 0)
			start = i + 4;
	}
	for (;;)
	{
		uint32_t	dot = start;
		bool		lower = true;
		bool		more = false;

		while (dot < end && s[dot] != '.')
		{
			lower &= (s[dot] >= 'a' && s[dot] <= 'z') ||
				(s[dot] >= '0' && s[dot] <= '9') || s[dot] == '_';
			dot++;
		}
		if (dot == start || dot + 1 >= end || !lower || !is_letter(s[dot + 1]))
			break;
		for (uint32_t i = dot + 1; i < end && !more; i++)
			more = s[i] == '.';
		if (!more)
			break;
		start = dot + 1;
	}
	return start;
}

/* How a unit's values are shown. */
typedef enum UnitKind
{
	UNIT_COUNT,
	UNIT_TIME,					/* scaled to nanoseconds */
	UNIT_BYTES,					/* scaled to bytes */
	UNIT_OTHER					/* plain number followed by the unit */
} UnitKind;

static UnitKind
classify_unit(const char *unit, double *factor)
{
	static const struct
	{
		const char *name;
		UnitKind	kind;
		double		factor;
	}			units[] =
	{
		{"", UNIT_COUNT, 1}, {"count", UNIT_COUNT, 1}, {"samples", UNIT_COUNT, 1},
		{"nanoseconds", UNIT_TIME, 1}, {"ns", UNIT_TIME, 1},
		{"microseconds", UNIT_TIME, 1e3}, {"us", UNIT_TIME, 1e3},
		{"milliseconds", UNIT_TIME, 1e6}, {"ms", UNIT_TIME, 1e6},
		{"seconds", UNIT_TIME, 1e9}, {"s", UNIT_TIME, 1e9},
		{"bytes", UNIT_BYTES, 1}, {"kilobytes", UNIT_BYTES, 1024.0},
		{"megabytes", UNIT_BYTES, 1024.0 * 1024.0},
	};

	*factor = 1;
	if (unit == NULL)
		return UNIT_COUNT;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(unit, units[i].name) == 0)
		{
			*factor = units[i].factor;
			return units[i].kind;
		}
	return UNIT_OTHER;
}

/*
 * Divide *d by base while its magnitude mag is at least base, at most
 * max_steps times; returns the number of steps (the index of the unit).
 */
static int
scale_down(double *d, double mag, double base, int max_steps)
{
	int			i = 0;

	while (i < max_steps && mag >= base)
	{
		*d /= base, mag /= base;
		i++;
	}
	return i;
}

/* A value in its unit: "1.23 s", "4.00 MiB", "17"; ASCII except "µs". */
static void
format_value(char *dst, size_t n, int64_t v, const char *unit)
{
	static const char *const time_units[] = {"ns", "\xC2\xB5s", "ms", "s"};
	static const char *const byte_units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double		factor;
	UnitKind	kind = classify_unit(unit, &factor);
	double		d = (double) v * factor;
	double		mag = d < 0 ? -d : d;
	int			i;

	switch (kind)
	{
		case UNIT_COUNT:
			snprintf(dst, n, "%lld", (long long) v);
			break;
		case UNIT_OTHER:
			snprintf(dst, n, "%lld %.40s", (long long) v, unit);
			break;
		case UNIT_TIME:
			i = scale_down(&d, mag, 1000, 3);
			mag = d < 0 ? -d : d;
			if (i == 3 && mag >= 3600)
				snprintf(dst, n, "%.2f h", d / 3600);
			else if (i == 3 && mag >= 60)
				snprintf(dst, n, "%.2f min", d / 60);
			else
				snprintf(dst, n, i == 0 ? "%.0f %s" : "%.2f %s", d, time_units[i]);
			break;
		case UNIT_BYTES:
			i = scale_down(&d, mag, 1024, 6);
			snprintf(dst, n, i == 0 ? "%.0f %s" : "%.2f %s", d, byte_units[i]);
			break;
	}
}

/* Share of total in percent; 0 for an empty total. */
static double
share(int64_t v, int64_t total)
{
	return total == 0 ? 0.0 : 100.0 * (double) v / (double) total;
}

/* "1.23 s (4.56%)", or just the value when the total is not positive. */
static void
put_value_share(SvgBuf *b, int64_t v, int64_t total, const char *unit)
{
	char		tmp[96];

	format_value(tmp, sizeof(tmp), v, unit);
	put_text(b, tmp, strlen(tmp));
	if (total > 0)
		pe_buf_printf(&b->out, " (%.2f%%)", share(v, total));
}

/*
 * The package part of a frame name, whose hash picks the colour: the text
 * before the last '.', '/', '\\' or ':' (ignoring an argument list), so
 * that "runtime.mallocgc", "java/util/HashMap.get" and "std::vector::at"
 * share colours with their neighbours; the whole name when there is none.
 */
static uint32_t
package_len(const char *s, uint32_t len)
{
	uint32_t	end = args_start(s, len);
	uint32_t	cut = 0;

	for (uint32_t i = 0; i < end; i++)
		if (s[i] == '.' || s[i] == '/' || s[i] == '\\' || s[i] == ':')
			cut = i;
	while (cut > 0 && (s[cut - 1] == ':' || s[cut - 1] == '.'))
		cut--;
	return cut > 0 ? cut : len;
}

/* FNV-1a, then a finalizer so that nearby strings spread over the palette. */
static uint64_t
hash_bytes(const char *s, uint32_t len)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * UINT64_C(0x100000001b3);
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return h;
}

typedef struct Rgb
{
	int			r,
				g,
				b;
} Rgb;

/* A warm colour (red to yellow) stable per package. */
static Rgb
warm_colour(const char *name, uint32_t len)
{
	uint64_t	h = hash_bytes(name, package_len(name, len));
	Rgb			c;

	c.r = 205 + (int) (h % 51);
	c.g = 80 + (int) ((h >> 16) % 151);
	c.b = (int) ((h >> 32) % 56);
	return c;
}

/* Grey for no change, towards red (more) or blue (less) with |change|. */
static Rgb
diff_colour(double change, double scale)
{
	static const Rgb neutral = {225, 225, 225};
	static const Rgb more = {235, 70, 55};
	static const Rgb less = {70, 120, 235};
	const Rgb  *end = change > 0 ? &more : &less;
	double		t = (change < 0 ? -change : change) / scale;
	Rgb			c;

	if (t > 1)
		t = 1;
	c.r = neutral.r + (int) ((end->r - neutral.r) * t + (end->r > neutral.r ? 0.5 : -0.5));
	c.g = neutral.g + (int) ((end->g - neutral.g) * t + (end->g > neutral.g ? 0.5 : -0.5));
	c.b = neutral.b + (int) ((end->b - neutral.b) * t + (end->b > neutral.b ? 0.5 : -0.5));
	return c;
}

/* Per-level layout state, in value units. */
typedef struct Layout
{
	double	   *next;			/* next free x at each level */
	double	   *end;			/* right edge of the current parent's box */
	int			col;			/* value column the widths come from */
	double		scale;			/* pixels per value unit */
} Layout;

/* Place row r: x and width in value units, clipped to its parent's box. */
static void
layout_row(Layout *lay, const PeFlameRow *r, double *x, double *w)
{
	double		v = r->value[lay->col] > 0 ? (double) r->value[lay->col] : 0.0;
	uint32_t	level = r->level;

	if (level == 0)
		*x = 0;
	else
	{
		*x = lay->next[level];
		if (*x + v > lay->end[level])
			v = lay->end[level] > *x ? lay->end[level] - *x : 0.0;
		lay->next[level] = *x + v;
	}
	*w = v;
	lay->next[level + 1] = *x;
	lay->end[level + 1] = *x + v;
}

/* Change of self share from base to target, as a fraction. */
static double
self_change(const PeFlameRow *r, const int64_t *totals)
{
	return share(r->self[1], totals[1]) / 100.0 - share(r->self[0], totals[0]) / 100.0;
}

/* A row's name bytes ("total" and "other" for the special rows). */
static const char *
row_name(const PeTree *t, const PeFlameRow *r, uint32_t *len)
{
	if (r->name == PE_ROW_TOTAL || r->name == PE_ROW_OTHER)
	{
		*len = 5;
		return r->name == PE_ROW_TOTAL ? "total" : "other";
	}
	return pe_strtab_get(&t->names, r->name, len);
}

/* Rows must be a pre-order with one root and names in t's string table. */
static bool
check_rows(PeCtx *ctx, const PeTree *t, const PeFlameRow *rows, uint32_t nrows,
		   uint32_t *max_level)
{
	*max_level = 0;
	if (nrows == 0)
		return pe_fail(ctx, PE_ERR_ARG, "no flame graph rows to draw");
	if (rows[0].level != 0)
		return pe_fail(ctx, PE_ERR_ARG, "first flame graph row is not the root\n"
				"Row 0 has level %u.", rows[0].level);
	for (uint32_t i = 0; i < nrows; i++)
	{
		const PeFlameRow *r = &rows[i];

		if (i > 0 && (r->level == 0 || r->level > rows[i - 1].level + 1))
			return pe_fail(ctx, PE_ERR_ARG, "flame graph rows are not in pre-order\n"
					"Row %u has level %u after a row of level %u.", i, r->level, rows[i - 1].level);
		if (r->name != PE_ROW_TOTAL && r->name != PE_ROW_OTHER &&
			r->name >= t->names.n)
			return pe_fail(ctx, PE_ERR_ARG, "flame graph row %u names string %u\n"
					"The string table has %u strings.", i, r->name, t->names.n);
		if (r->level > *max_level)
			*max_level = r->level;
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	return true;
}

/* What the first pass learns. */
typedef struct SvgPlan
{
	const PeTree *t;
	const PeFlameRow *rows;
	uint32_t	nrows;
	bool		diff;
	const char *unit;
	int64_t		totals[2];		/* root values: the profiles' sums */
	uint32_t	ndrawn;
	uint32_t	max_drawn_level;
	double		diff_scale;		/* change drawn in full colour */
	const double *row_blame;	/* per row, points; NULL: colour by self change */
	int			width;
	int			height;
} SvgPlan;

/* What a diff box is coloured by, as a fraction: its blame, else its self change. */
static double
box_change(const SvgPlan *plan, const PeFlameRow *r)
{
	if (plan->row_blame)
		return plan->row_blame[r - plan->rows] / 100.0;
	return self_change(r, plan->totals);
}

/* Is a box of px pixels at level drawn? The root always is. */
static inline bool
box_drawn(uint32_t level, double px)
{
	return level == 0 || px >= MIN_BOX_PX;
}

/* First pass: count drawn boxes, the deepest one, the largest change. */
static void
plan_layout(PeCtx *ctx, SvgPlan *plan, Layout *lay)
{
	double		max_change = 0;

	for (uint32_t i = 0; i < plan->nrows; i++)
	{
		const PeFlameRow *r = &plan->rows[i];
		double		x,
					w;

		layout_row(lay, r, &x, &w);
		if (box_drawn(r->level, w * lay->scale))
		{
			plan->ndrawn++;
			if (r->level > plan->max_drawn_level)
				plan->max_drawn_level = r->level;
			if (plan->diff && r->level > 0 && r->name != PE_ROW_OTHER)
			{
				double		c = box_change(plan, r);

				if (c < 0)
					c = -c;
				if (c > max_change)
					max_change = c;
			}
		}
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	plan->diff_scale = max_change > MIN_DIFF_SCALE ? max_change : MIN_DIFF_SCALE;
	plan->height = FRAMES_TOP + (int) (plan->max_drawn_level + 1) * ROW_H + PAD_BOTTOM;
}

/* The default title: sample type and total(s). */
static void
put_default_title(SvgBuf *b, const SvgPlan *plan, const PeSampleType *type)
{
	pe_buf_puts(&b->out, plan->diff ? "Differential flame graph" : "Flame graph");
	if (type != NULL && type->type != NULL)
	{
		pe_buf_puts(&b->out, ": ");
		put_text(b, type->type, strlen(type->type));
		if (type->unit != NULL && type->unit[0] != '\0')
		{
			pe_buf_puts(&b->out, ":");
			put_text(b, type->unit, strlen(type->unit));
		}
	}
	if (plan->diff)
	{
		pe_buf_puts(&b->out, ", base ");
		put_value_share(b, plan->totals[0], 0, plan->unit);
		pe_buf_puts(&b->out, ", target ");
		put_value_share(b, plan->totals[1], 0, plan->unit);
	}
	else
	{
		pe_buf_puts(&b->out, ", total ");
		put_value_share(b, plan->totals[0], 0, plan->unit);
	}
}

static void
put_title(SvgBuf *b, const SvgPlan *plan, const PeSvgOptions *opt)
{
	if (opt->title != NULL)
		put_text(b, opt->title, opt->title_len);
	else
		put_default_title(b, plan, opt->type);
}

/* The line under the title: how to read the picture. */
static void
put_subtitle(SvgBuf *b, const SvgPlan *plan, int layout_col)
{
	if (plan->diff && plan->row_blame)
		pe_buf_printf(&b->out, "width = %s; red = where the target's extra cost enters, blue = "
				   "where cost went away (full colour at %.2f points)",
				   layout_col == 1 ? "target" : "base (the target is empty)",
				   plan->diff_scale * 100.0);
	else if (plan->diff)
		pe_buf_printf(&b->out, "width = %s; red = more self share in target, blue = less "
				   "(full colour at %.2f points)",
				   layout_col == 1 ? "target" : "base (the target is empty)",
				   plan->diff_scale * 100.0);
	else
		pe_buf_puts(&b->out, "root at the top, callees below, width = total");
	pe_buf_printf(&b->out, "; %u of %u boxes; hover for values", plan->ndrawn, plan->nrows);
}

/* Display columns of escaped text: an entity reference is one character. */
static int
xml_columns(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	int			cols = 0;

	for (size_t i = 0; i < len;)
	{
		uint32_t	cp;

		if (p[i] == '&')
		{
			while (i < len && p[i] != ';')
				i++;
			i++;
			cols++;
			continue;
		}
		i += xml_char_next(p + i, len - i, &cp);
		cols += char_columns(cp);
	}
	return cols;
}

/* A centred line of escaped text, its font shrunk when it is too wide. */
static void
put_centred_line(SvgBuf *b, const SvgPlan *plan, const char *cls, int y,
				 double font_px, const SvgBuf *text)
{
	double		room = plan->width - 2 * PAD_X;
	double		need = xml_columns((const char *) text->out.data, text->out.len) * font_px * (CHAR_W / 12.0);

	pe_buf_printf(&b->out, "<text class=\"%s\" x=\"%d\" y=\"%d\"", cls, plan->width / 2, y);
	if (need > room)
		pe_buf_printf(&b->out, " style=\"font-size:%.1fpx\"",
				   font_px * room / need > 6 ? font_px * room / need : 6.0);
	pe_buf_puts(&b->out, ">");
	pe_buf_append(&b->out, text->out.data, text->out.len);
	pe_buf_puts(&b->out, "</text>\n");
}

/* The document's start: size, styles, background, title lines. */
static void
put_header(SvgBuf *b, const SvgPlan *plan, const PeSvgOptions *opt, int layout_col)
{
	SvgBuf		title = {.out.ctx = b->out.ctx, .ascii_only = b->ascii_only};
	SvgBuf		note = {.out.ctx = b->out.ctx, .ascii_only = b->ascii_only};

	put_title(&title, plan, opt);
	put_subtitle(&note, plan, layout_col);
	if (title.out.failed || note.out.failed)
		b->out.failed = true;
	pe_buf_printf(&b->out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
			   "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n<title>",
			   plan->width, plan->height, plan->width, plan->height);
	pe_buf_append(&b->out, title.out.data, title.out.len);
	pe_buf_puts(&b->out, "</title>\n<style>\n"
			 "text{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,\"Liberation Mono\",monospace;"
			 "font-size:12px;fill:#000}\n"
			 ".h{font-size:17px;text-anchor:middle}\n"
			 ".s{fill:#555;text-anchor:middle}\n"
			 "</style>\n"
			 "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n");
	put_centred_line(b, plan, "h", TITLE_Y, 17, &title);
	put_centred_line(b, plan, "s", SUBTITLE_Y, 12, &note);
	pe_buf_free(&title.out);
	pe_buf_free(&note.out);
}

/* The tooltip lines after the name. */
static void
put_tooltip_values(SvgBuf *b, const SvgPlan *plan, const PeFlameRow *r)
{
	if (!plan->diff)
	{
		pe_buf_puts(&b->out, "\ntotal ");
		put_value_share(b, r->value[0], plan->totals[0], plan->unit);
		pe_buf_puts(&b->out, ", self ");
		put_value_share(b, r->self[0], plan->totals[0], plan->unit);
		return;
	}
	for (int s = 0; s < 2; s++)
	{
		pe_buf_puts(&b->out, s == 0 ? "\nbase: total " : "\ntarget: total ");
		put_value_share(b, r->value[s], plan->totals[s], plan->unit);
		pe_buf_puts(&b->out, ", self ");
		put_value_share(b, r->self[s], plan->totals[s], plan->unit);
	}
	pe_buf_printf(&b->out, "\nself share change: %+.2f points",
			   self_change(r, plan->totals) * 100.0);
	if (plan->row_blame)
		pe_buf_printf(&b->out, "\nchange entering here: %+.2f points",
				   plan->row_blame[r - plan->rows]);
}

/* One box: a group with its tooltip, rectangle and (when it fits) label. */
static void
put_box(SvgBuf *b, const SvgPlan *plan, const PeFlameRow *r, double px, double wpx)
{
	uint32_t	len;
	const char *name = row_name(plan->t, r, &len);
	int			top = FRAMES_TOP + (int) r->level * ROW_H;
	Rgb			c;
	int			cols;
	size_t		keep;
	bool		dots;

	if (r->level == 0)
		c = (Rgb) {200, 200, 205};
	else if (r->name == PE_ROW_OTHER)
		c = (Rgb) {176, 176, 176};
	else if (plan->diff)
		c = diff_colour(box_change(plan, r), plan->diff_scale);
	else
		c = warm_colour(name, len);

	pe_buf_puts(&b->out, "<g><title>");
	put_text(b, name, len);
	put_tooltip_values(b, plan, r);
	/* A hairline gap on the right keeps same-coloured neighbours apart. */
	pe_buf_printf(&b->out, "</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
			   "rx=\"2\" fill=\"#%02x%02x%02x\"/>",
			   px, top, wpx >= 2 ? wpx - BOX_GAP : wpx, BOX_H, c.r, c.g, c.b);
	/* The whole name, else its short form, else that cut with "..". */
	cols = (int) ((wpx - 2 * TEXT_PAD) / CHAR_W);
	if (cols > 0 && (!fit_label(name, len, cols, &keep, &dots) || dots))
	{
		uint32_t	skip = short_name_start(name, len);

		name += skip;
		len -= skip;
		if (!fit_label(name, len, cols, &keep, &dots))
			cols = 0;
	}
	if (cols > 0)
	{
		pe_buf_printf(&b->out, "<text x=\"%.1f\" y=\"%d\">", px + TEXT_PAD, top + TEXT_BASELINE);
		put_text(b, name, keep);
		if (dots)
			pe_buf_puts(&b->out, "..");
		pe_buf_puts(&b->out, "</text>");
	}
	pe_buf_puts(&b->out, "</g>\n");
}

bool
pe_svg_flame(PeCtx *ctx, const PeTree *t, const PeFlameRow *rows,
			 uint32_t nrows, bool diff, const PeSvgOptions *opt,
			 char **out, size_t *outlen)
{
	SvgPlan		plan;
	Layout		lay;
	SvgBuf		b;
	uint32_t	max_level;
	double		span;
	int64_t		layout_total;

	*out = NULL;
	*outlen = 0;
	if (opt->width < PE_SVG_MIN_WIDTH || opt->width > PE_SVG_MAX_WIDTH)
		return pe_fail(ctx, PE_ERR_ARG, "flame graph width %d out of range\n"
				"The width must be between %d and %d pixels.",
				opt->width, PE_SVG_MIN_WIDTH, PE_SVG_MAX_WIDTH);
	if (!check_rows(ctx, t, rows, nrows, &max_level))
		return false;

	memset(&plan, 0, sizeof(plan));
	plan.t = t;
	plan.rows = rows;
	plan.nrows = nrows;
	plan.diff = diff;
	plan.row_blame = diff ? opt->row_blame : NULL;
	plan.unit = opt->type ? opt->type->unit : NULL;
	plan.totals[0] = rows[0].value[0];
	plan.totals[1] = diff ? rows[0].value[1] : 0;
	plan.width = opt->width;

	/* Diffs are laid out by the target, unless it is empty. */
	memset(&lay, 0, sizeof(lay));
	lay.col = diff && plan.totals[1] > 0 ? 1 : 0;
	layout_total = rows[0].value[lay.col];
	span = (double) (opt->width - 2 * PAD_X);
	lay.scale = layout_total > 0 ? span / (double) layout_total : 0.0;
	lay.next = pe_alloc(ctx, sizeof(double) * ((size_t) max_level + 2));
	lay.end = pe_alloc(ctx, sizeof(double) * ((size_t) max_level + 2));
	if (lay.next == NULL || lay.end == NULL)
	{
		pe_free(ctx, lay.next);
		pe_free(ctx, lay.end);
		return false;
	}
	plan_layout(ctx, &plan, &lay);

	memset(&b, 0, sizeof(b));
	b.out.ctx = ctx;
	b.out.limit = MAX_SVG_BYTES;
	b.ascii_only = opt->ascii_only;
	put_header(&b, &plan, opt, lay.col);
	for (uint32_t i = 0; i < nrows && !b.out.failed; i++)
	{
		const PeFlameRow *r = &rows[i];
		double		x,
					w;

		layout_row(&lay, r, &x, &w);
		if (r->level == 0)
			put_box(&b, &plan, r, PAD_X, span);
		else if (box_drawn(r->level, w * lay.scale))
			put_box(&b, &plan, r, PAD_X + x * lay.scale, w * lay.scale);
		if ((i & (PE_INTERRUPT_EVERY - 1)) == 0)
			pe_check_interrupts(ctx);
	}
	pe_buf_puts(&b.out, "</svg>\n");
	pe_free(ctx, lay.next);
	pe_free(ctx, lay.end);
	if (b.out.failed)
	{
		if (b.out.over_limit)
			pe_fail(ctx, PE_ERR_LIMIT, "flame graph svg too large\n"
					"The SVG document would exceed %zu bytes.\n"
					"Use a smaller max_nodes or width.", MAX_SVG_BYTES);
		pe_buf_free(&b.out);
		return false;
	}
	*out = (char *) b.out.data;
	*outlen = b.out.len;
	return true;
}
