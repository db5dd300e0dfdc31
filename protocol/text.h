/*
 * Text a peer sent, made fit for a terminal, a log or a window title.
 */
#ifndef SHMFRAME_TEXT_H
#define SHMFRAME_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Copies src (NUL-terminated, any bytes) into dst (cap bytes, cap > 0) as
 * valid UTF-8 without control or invisible formatting characters: C0 and
 * C1 controls (ESC starts a terminal escape; U+009B is CSI), DEL, bidi
 * overrides, zero widths, line separators, and bytes that are not UTF-8
 * are written \xNN, and so is a backslash, so that \xNN in the result
 * always means an escaped byte.  4 bytes of room per byte of src keep all
 * of it; with less, the result ends at a whole character.  Returns its
 * length.
 */
size_t sf__text_printable(char *dst, size_t cap, const char *src);

/* Length of the well-formed UTF-8 sequence at p (n > 0 bytes left) and
 * its code point in *cp (may be NULL), or 0: overlong forms, surrogates
 * and code points above U+10FFFF are not well-formed. */
size_t sf__utf8_decode(const void *p, size_t n, uint32_t *cp);

/* 1 when the n bytes at p are all well-formed UTF-8 without a NUL. */
int sf__utf8_valid(const void *p, size_t n);

#endif
