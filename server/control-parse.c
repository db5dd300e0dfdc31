/*
 * The command language of the input control socket: one line becomes one
 * struct sfs_control_cmd, or an error text.  A line is words separated by
 * spaces or tabs: the verb, its positional arguments in order, and
 * NAME=VALUE options anywhere after the verb; a VALUE may be a quoted
 * string ("..." with \\, \" and \xNN).  The grammar is PROTOCOL.md's
 * ("The input control socket"); nothing here touches the server, so that
 * the fuzz target runs this file alone.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "text.h"

/* The words of one line: at most this many, each at most a line long. */
#define MAX_WORDS 16

struct word {
	const char *p;       /* as written (for messages) */
	size_t len;
	const char *name;    /* NAME of NAME=VALUE, else NULL */
	size_t name_len;
	const char *value;   /* VALUE as written: a word or a quoted string */
	size_t value_len;
};

struct parser {
	const char *line;
	size_t len, pos;
	char *why;
	size_t why_len;
};

static int fail(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->why, ps->why_len, fmt, ap);
	va_end(ap);
	return -1;
}

/* A word of the line for a message: made printable, cut at 40 bytes. */
static const char *shown(const char *p, size_t len, char *buf, size_t cap)
{
	char raw[41];

	if (len > sizeof raw - 1)
		len = sizeof raw - 1;
	memcpy(raw, p, len);
	raw[len] = '\0';
	/* A NUL inside ends the copy: what follows it is not shown. */
	sf__text_printable(buf, cap, raw);
	return buf;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Where the quoted string starting at p[0] == '"' ends (the index after
 * its closing quote), or 0 when it is not closed. */
static size_t quoted_end(const char *p, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (p[i] == '\\' && i + 1 < n)
			i++;
		else if (p[i] == '"')
			return i + 1;
	}
	return 0;
}

/* Splits the line into words.  0, or -1 after a message. */
static int split(struct parser *ps, struct word *w, unsigned *n)
{
	const char *s = ps->line;
	size_t i = 0;
	char buf[200];

	*n = 0;
	while (i < ps->len) {
		size_t start, eq = 0;

		while (i < ps->len && is_space(s[i]))
			i++;
		if (i == ps->len)
			break;
		if (*n == MAX_WORDS)
			return fail(ps, "more than %u words", MAX_WORDS);
		start = i;
		while (i < ps->len && !is_space(s[i])) {
			if (s[i] == '=' && !eq) {
				eq = i;
				if (i + 1 < ps->len && s[i + 1] == '"') {
					size_t e = quoted_end(s + i + 1, ps->len - i - 1);

					if (!e)
						return fail(ps, "unterminated quoted string "
						            "after '%s'", shown(s + start,
						            i + 1 - start, buf, sizeof buf));
					i += 1 + e;
					if (i < ps->len && !is_space(s[i]))
						return fail(ps, "no space after the quoted "
						            "value of '%s'", shown(s + start,
						            eq - start, buf, sizeof buf));
					break;
				}
			} else if (s[i] == '"') {
				return fail(ps, "a quote inside the word '%s' (only "
				            "NAME=\"VALUE\" is quoted)", shown(s + start,
				            i + 1 - start, buf, sizeof buf));
			}
			i++;
		}
		w[*n] = (struct word){ .p = s + start, .len = i - start };
		if (eq) {
			if (eq == start)
				return fail(ps, "'%s' has no name before '='",
				            shown(s + start, i - start, buf, sizeof buf));
			w[*n].name = s + start;
			w[*n].name_len = eq - start;
			w[*n].value = s + eq + 1;
			w[*n].value_len = i - eq - 1;
		}
		(*n)++;
	}
	return 0;
}

static bool word_is(const struct word *w, const char *text)
{
	return !w->name && w->len == strlen(text) && memcmp(w->p, text, w->len) == 0;
}

static bool name_is(const struct word *w, const char *text)
{
	return w->name && w->name_len == strlen(text) &&
	       memcmp(w->name, text, w->name_len) == 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The bytes of a value (a word, or a quoted string decoded) into dst, at
 * most max of them, then a NUL.  A NUL among them is refused: titles and
 * key text hold none.  Their count, or -1 after a message. */
static int value_bytes(struct parser *ps, const struct word *w, char *dst,
                       size_t max)
{
	const char *v = w->value;
	size_t n = w->value_len, out = 0, i = 0;
	char buf[200];

	if (n && v[0] == '"') {
		i = 1;
		n--;  /* the closing quote */
	}
	for (; i < n; i++) {
		char c = v[i];

		if (v[0] == '"' && c == '\\') {
			char e = v[++i];

			if (e == 'x') {
				int hi = i + 2 < n ? hex_digit(v[i + 1]) : -1;
				int lo = hi >= 0 ? hex_digit(v[i + 2]) : -1;

				if (lo < 0)
					return fail(ps, "bad \\x escape in %s= (expected "
					            "two hex digits)", shown(w->name,
					            w->name_len, buf, sizeof buf));
				c = (char)(hi << 4 | lo);
				i += 2;
			} else if (e == '\\' || e == '"') {
				c = e;
			} else {
				return fail(ps, "bad escape in %s= (expected \\\\, \\\" "
				            "or \\xNN)", shown(w->name, w->name_len, buf,
				            sizeof buf));
			}
		}
		if (c == '\0')
			return fail(ps, "%s= holds a NUL byte",
			            shown(w->name, w->name_len, buf, sizeof buf));
		if (out == max)
			return fail(ps, "%s= is longer than %zu bytes",
			            shown(w->name, w->name_len, buf, sizeof buf), max);
		dst[out++] = c;
	}
	dst[out] = '\0';
	return (int)out;
}

/* An unsigned decimal or 0x hexadecimal number, at most max. */
static int parse_number(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;

	if (n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		int d = hex_digit(p[i]);

		/* (max - d) would wrap for a digit above max ("9" for 1..5). */
		if (d < 0 || (unsigned)d >= base || (uint64_t)d > max ||
		    v > (max - (unsigned)d) / base)
			return -1;
		v = v * base + (unsigned)d;
	}
	*out = v;
	return 0;
}

/*
 * A decimal [-]DIGITS[.DIGITS] of magnitude at most max, times scale,
 * rounded to the nearest integer (halves away from zero): "1.5" at
 * scale 256 is 384.  Fraction digits past the ninth are ignored.
 */
static int parse_decimal(const char *p, size_t n, int64_t max,
                         int64_t scale, int32_t *out)
{
	bool neg = n && p[0] == '-';
	size_t i = neg, digits = 0;
	int64_t whole = 0, frac = 0, den = 1, v;

	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
		whole = whole * 10 + (p[i] - '0');
		if (whole > max)
			return -1;
	}
	if (i < n && p[i] == '.') {
		size_t fd = 0;

		for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, fd++) {
			if (fd < 9) {
				frac = frac * 10 + (p[i] - '0');
				den *= 10;
			}
			digits++;
		}
		if (fd == 0)
			return -1;
	}
	if (i != n || digits == 0)
		return -1;
	/* whole <= max and frac/den < 1, so neither product overflows. */
	v = whole * scale + (frac * scale * 2 + den) / (den * 2);
	if (v > max * scale)
		return -1;
	*out = (int32_t)(neg ? -v : v);
	return 0;
}

static const char *const mod_names[] = {
	"shift", "ctrl", "alt", "super", "caps", "num", "altgr",
};

/* mods=: a number, or modifier names joined by commas ("shift,ctrl"),
 * or "none". */
static int parse_mods(struct parser *ps, const struct word *w, uint32_t *out)
{
	const char *v = w->value;
	size_t n = w->value_len, i = 0;
	uint64_t num;
	char buf[200];

	*out = 0;
	if (parse_number(v, n, SF_MOD_ALL, &num) == 0) {
		*out = (uint32_t)num;
		return 0;
	}
	if (n == 4 && memcmp(v, "none", 4) == 0)
		return 0;
	while (i <= n) {
		size_t e = i, k;

		while (e < n && v[e] != ',')
			e++;
		for (k = 0; k < sizeof mod_names / sizeof mod_names[0]; k++)
			if (e - i == strlen(mod_names[k]) &&
			    memcmp(v + i, mod_names[k], e - i) == 0)
				break;
		if (k == sizeof mod_names / sizeof mod_names[0])
			return fail(ps, "unknown modifier '%s' (expected a number "
			            "up to 0x%x, or shift, ctrl, alt, super, caps, num, "
			            "altgr joined by commas)",
			            shown(v + i, e - i, buf, sizeof buf), SF_MOD_ALL);
		*out |= 1u << k;
		i = e + 1;
	}
	return 0;
}

/* surface=CLIENT:SURFACE, both nonzero. */
static int parse_surface(struct parser *ps, const struct word *w,
                         struct sfs_control_cmd *cmd)
{
	const char *colon = memchr(w->value, ':', w->value_len);
	uint64_t c, s;
	char buf[200];

	if (!colon ||
	    parse_number(w->value, (size_t)(colon - w->value), UINT32_MAX, &c) ||
	    parse_number(colon + 1, w->value_len - (size_t)(colon + 1 - w->value),
	                 UINT32_MAX, &s) || c == 0 || s == 0)
		return fail(ps, "bad surface='%s' (expected CLIENT:SURFACE, the "
		            "ids list shows)", shown(w->value, w->value_len, buf,
		            sizeof buf));
	cmd->target = SFS_TARGET_ID;
	cmd->client_id = (uint32_t)c;
	cmd->surface_id = (uint32_t)s;
	return 0;
}

/* Which options each verb takes, beyond surface= and title=. */
enum { OPT_MODS = 1, OPT_TEXT = 2, OPT_REPEAT = 4 };

static const struct verb {
	const char *name;
	enum sfs_control_verb verb;
	unsigned n_args;
	unsigned opts;
	const char *usage;
} verbs[] = {
	{ "list", SFS_CTL_LIST, 0, 0, "list" },
	{ "key", SFS_CTL_KEY, 3, OPT_MODS | OPT_TEXT | OPT_REPEAT,
	  "key press|release KEYCODE KEYSYM [mods=M] [text=T] [repeat=0|1]" },
	{ "motion", SFS_CTL_MOTION, 2, OPT_MODS, "motion X Y [mods=M]" },
	{ "enter", SFS_CTL_ENTER, 2, OPT_MODS, "enter X Y [mods=M]" },
	{ "leave", SFS_CTL_LEAVE, 0, OPT_MODS, "leave [mods=M]" },
	{ "button", SFS_CTL_BUTTON, 2, OPT_MODS,
	  "button N press|release [mods=M]" },
	{ "wheel", SFS_CTL_WHEEL, 2, 0, "wheel DX DY" },
	{ "focus", SFS_CTL_FOCUS, 1, 0, "focus in|out" },
	{ "configure", SFS_CTL_CONFIGURE, 2, 0, "configure WIDTH HEIGHT" },
};

static int parse_option(struct parser *ps, const struct verb *vb,
                        const struct word *w, struct sfs_control_cmd *cmd)
{
	char buf[200];
	uint64_t n;

	if (name_is(w, "surface") || name_is(w, "title")) {
		if (cmd->target != SFS_TARGET_DEFAULT)
			return fail(ps, "more than one surface= or title=");
		if (name_is(w, "surface"))
			return parse_surface(ps, w, cmd);
		if (value_bytes(ps, w, cmd->title, SFS_CONTROL_TITLE_MAX) < 0)
			return -1;
		cmd->target = SFS_TARGET_TITLE;
		return 0;
	}
	if ((vb->opts & OPT_MODS) && name_is(w, "mods"))
		return parse_mods(ps, w, &cmd->modifiers);
	if ((vb->opts & OPT_TEXT) && name_is(w, "text")) {
		int len = value_bytes(ps, w, cmd->text, SF_KEY_TEXT_SIZE);

		if (len < 0)
			return -1;
		if (!sf__utf8_valid(cmd->text, (size_t)len))
			return fail(ps, "text= is not UTF-8");
		return 0;
	}
	if ((vb->opts & OPT_REPEAT) && name_is(w, "repeat")) {
		if (parse_number(w->value, w->value_len, 1, &n))
			return fail(ps, "bad repeat='%s' (expected 0 or 1)",
			            shown(w->value, w->value_len, buf, sizeof buf));
		cmd->repeat = n == 1;
		return 0;
	}
	return fail(ps, "%s takes no option '%s' (usage: %s)", vb->name,
	            shown(w->name, w->name_len, buf, sizeof buf), vb->usage);
}

static int press_word(struct parser *ps, const struct word *w, bool *pressed)
{
	char buf[200];

	if (word_is(w, "press"))
		*pressed = true;
	else if (word_is(w, "release"))
		*pressed = false;
	else
		return fail(ps, "expected press or release, not '%s'",
		            shown(w->p, w->len, buf, sizeof buf));
	return 0;
}

static int coord(struct parser *ps, const struct word *w, int32_t *out)
{
	char buf[200];

	if (parse_decimal(w->p, w->len, SFS_CONTROL_COORD_MAX, SF_FIXED_ONE,
	                  out))
		return fail(ps, "bad coordinate '%s' (expected a decimal number "
		            "of pixels, at most %d either way)",
		            shown(w->p, w->len, buf, sizeof buf),
		            SFS_CONTROL_COORD_MAX);
	return 0;
}

/* The positional arguments of vb, in args[0 .. vb->n_args). */
static int parse_args(struct parser *ps, const struct verb *vb,
                      const struct word *args, struct sfs_control_cmd *cmd)
{
	char buf[200];
	uint64_t n, m;

	switch (vb->verb) {
	case SFS_CTL_KEY:
		if (press_word(ps, &args[0], &cmd->pressed))
			return -1;
		if (parse_number(args[1].p, args[1].len, UINT32_MAX, &n) ||
		    parse_number(args[2].p, args[2].len, UINT32_MAX, &m))
			return fail(ps, "bad key code or symbol (expected numbers: "
			            "%s)", vb->usage);
		cmd->keycode = (uint32_t)n;
		cmd->keysym = (uint32_t)m;
		return 0;
	case SFS_CTL_MOTION:
	case SFS_CTL_ENTER:
		return coord(ps, &args[0], &cmd->x) || coord(ps, &args[1], &cmd->y)
		       ? -1 : 0;
	case SFS_CTL_BUTTON:
		if (parse_number(args[0].p, args[0].len, SF_BUTTON_MAX, &n) ||
		    n == 0)
			return fail(ps, "bad button '%s' (expected 1 to %u)",
			            shown(args[0].p, args[0].len, buf, sizeof buf),
			            SF_BUTTON_MAX);
		cmd->button = (uint32_t)n;
		return press_word(ps, &args[1], &cmd->pressed);
	case SFS_CTL_WHEEL:
		for (int i = 0; i < 2; i++)
			if (parse_decimal(args[i].p, args[i].len,
			                  SFS_CONTROL_NOTCH_MAX, 120,
			                  i ? &cmd->dy120 : &cmd->dx120))
				return fail(ps, "bad wheel step '%s' (expected a "
				            "decimal number of notches, at most %d "
				            "either way)", shown(args[i].p, args[i].len,
				            buf, sizeof buf), SFS_CONTROL_NOTCH_MAX);
		return 0;
	case SFS_CTL_FOCUS:
		if (word_is(&args[0], "in") || word_is(&args[0], "out")) {
			cmd->pressed = word_is(&args[0], "in");
			return 0;
		}
		return fail(ps, "expected focus in or focus out, not '%s'",
		            shown(args[0].p, args[0].len, buf, sizeof buf));
	case SFS_CTL_CONFIGURE:
		if (parse_number(args[0].p, args[0].len, SF_MAX_DIMENSION, &n) ||
		    parse_number(args[1].p, args[1].len, SF_MAX_DIMENSION, &m) ||
		    n == 0 || m == 0)
			return fail(ps, "bad size (expected configure WIDTH HEIGHT, "
			            "each 1 to %u)", SF_MAX_DIMENSION);
		cmd->width = (uint32_t)n;
		cmd->height = (uint32_t)m;
		return 0;
	case SFS_CTL_LIST:
	case SFS_CTL_LEAVE:
		return 0;
	}
	return 0;
}

int sfs__control_parse(const char *line, size_t len,
                       struct sfs_control_cmd *cmd, char *why,
                       size_t why_len)
{
	struct parser ps = { line, len, 0, why, why_len };
	struct word w[MAX_WORDS], args[MAX_WORDS];
	const struct verb *vb = NULL;
	unsigned n, n_args = 0;
	char buf[200];

	memset(cmd, 0, sizeof *cmd);
	if (why_len)
		why[0] = '\0';
	if (split(&ps, w, &n))
		return -1;
	if (n == 0)
		return fail(&ps, "empty command");
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (word_is(&w[0], verbs[i].name))
			vb = &verbs[i];
	if (!vb)
		return fail(&ps, "unknown command '%s' (expected list, key, motion, "
		            "enter, leave, button, wheel, focus or configure)",
		            shown(w[0].p, w[0].len, buf, sizeof buf));
	cmd->verb = vb->verb;
	for (unsigned i = 1; i < n; i++) {
		if (w[i].name) {
			if (parse_option(&ps, vb, &w[i], cmd))
				return -1;
		} else if (n_args == vb->n_args) {
			return fail(&ps, "too many arguments (usage: %s)", vb->usage);
		} else {
			args[n_args++] = w[i];
		}
	}
	if (n_args != vb->n_args)
		return fail(&ps, "too few arguments (usage: %s)", vb->usage);
	if (parse_args(&ps, vb, args, cmd))
		return -1;
	if (vb->verb == SFS_CTL_KEY && !cmd->pressed &&
	    (cmd->text[0] || cmd->repeat))
		return fail(&ps, "a key release has no text= and no repeat=1");
	return 0;
}

size_t sfs__control_quote(char *dst, size_t cap, const char *src)
{
	size_t out = 0;

	if (cap < 3)
		goto too_long;
	dst[out++] = '"';
	for (; *src; src++) {
		size_t need = *src == '"' ? 4 : 1;

		if (out + need + 2 > cap)
			goto too_long;
		if (*src == '"') {
			memcpy(dst + out, "\\x22", 4);
		} else {
			dst[out] = *src;
		}
		out += need;
	}
	dst[out++] = '"';
	dst[out] = '\0';
	return out;

too_long:
	if (cap)
		dst[0] = '\0';
	return 0;
}
