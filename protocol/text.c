/*
 * Text from a peer made fit to show: a name or title for the server's log
 * and window titles, an ERROR or PROBE_RESULT text for a client's error
 * message (which its program prints on a terminal).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

size_t sf__utf8_decode(const void *bytes, size_t n, uint32_t *out)
{
	const unsigned char *p = bytes;
	uint32_t scratch, *cp = out ? out : &scratch;
	size_t len;
	uint32_t min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2, min = 0x80, *cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3, min = 0x800, *cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, min = 0x10000, *cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

/* What a terminal or a log reader would not show as what it is: C0 and
 * C1 controls (ESC starts a terminal escape; U+009B is CSI), DEL, and the
 * invisible characters that reorder or hide text (bidi overrides, zero
 * widths, line separators). */
static bool hidden(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
	       (cp >= 0xfff9 && cp <= 0xfffb);
}

size_t sf__text_printable(char *dst, size_t cap, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), used = 0;

	if (cap == 0)
		return 0;
	while (n > 0) {
		uint32_t cp = 0;
		size_t len = sf__utf8_decode(p, n, &cp);

		if (len == 0 || hidden(cp) || cp == '\\') {
			if (used + 4 >= cap)
				break;
			snprintf(dst + used, 5, "\\x%02x", p[0]);
			used += 4;
			len = 1;
		} else {
			if (used + len >= cap)
				break;
			memcpy(dst + used, p, len);
			used += len;
		}
		p += len;
		n -= len;
	}
	dst[used] = '\0';
	return used;
}

int sf__utf8_valid(const void *bytes, size_t n)
{
	const unsigned char *p = bytes;

	while (n > 0) {
		uint32_t cp;
		size_t len = sf__utf8_decode(p, n, &cp);

		if (len == 0 || cp == 0)
			return 0;
		p += len;
		n -= len;
	}
	return 1;
}
