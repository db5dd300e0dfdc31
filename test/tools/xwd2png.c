/*
 * sf-xwd2png: converts what `xwd -id WINDOW` wrote into an RGB PNG, so
 * that a window's content can be compared with sf-pngcmp.
 *
 *     sf-xwd2png IN.xwd OUT.png
 *
 * Reads the ZPixmap TrueColor/DirectColor images an X server of depth 24
 * or 32 produces (24 or 32 bits per pixel, either byte order, 8-bit
 * masks); anything else is refused rather than guessed.  Exit 0, or 1 with
 * a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png-io.h"

#define PROG "sf-xwd2png"

/* The 25 big-endian CARD32 fields at the start of every XWD file. */
enum {
	H_HEADER_SIZE, H_FILE_VERSION, H_PIXMAP_FORMAT, H_PIXMAP_DEPTH,
	H_WIDTH, H_HEIGHT, H_XOFFSET, H_BYTE_ORDER, H_BITMAP_UNIT,
	H_BITMAP_BIT_ORDER, H_BITMAP_PAD, H_BITS_PER_PIXEL, H_BYTES_PER_LINE,
	H_VISUAL_CLASS, H_RED_MASK, H_GREEN_MASK, H_BLUE_MASK, H_BITS_PER_RGB,
	H_COLORMAP_ENTRIES, H_NCOLORS, H_FIELDS = 25
};

#define XWD_VERSION 7
#define ZPIXMAP 2
#define TRUE_COLOR 4
#define DIRECT_COLOR 5
#define XWD_COLOR_SIZE 12

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The 8-bit channel under mask (0xff at some byte position). */
static int mask_shift(uint32_t mask)
{
	for (int shift = 0; shift <= 24; shift += 8)
		if (mask == 0xffu << shift)
			return shift;
	return -1;
}

static int fail(const char *what, const char *path)
{
	fprintf(stderr, PROG ": %s: %s\n", path, what);
	return 1;
}

static int convert(const uint8_t *data, size_t size, const char *in,
                   const char *out)
{
	uint32_t h[H_FIELDS];
	struct sf_png_image img;
	uint32_t w, ht, bpp, bpl;
	int rs, gs, bs, msb;
	size_t pixels_at;
	char err[512];

	if (size < H_FIELDS * 4)
		return fail("too short for an XWD header", in);
	for (int i = 0; i < H_FIELDS; i++)
		h[i] = be32(data + 4 * i);
	if (h[H_FILE_VERSION] != XWD_VERSION || h[H_HEADER_SIZE] < H_FIELDS * 4)
		return fail("not an XWD (version 7) file", in);
	if (h[H_PIXMAP_FORMAT] != ZPIXMAP ||
	    (h[H_VISUAL_CLASS] != TRUE_COLOR && h[H_VISUAL_CLASS] != DIRECT_COLOR))
		return fail("not a ZPixmap of a TrueColor/DirectColor visual", in);
	bpp = h[H_BITS_PER_PIXEL];
	rs = mask_shift(h[H_RED_MASK]);
	gs = mask_shift(h[H_GREEN_MASK]);
	bs = mask_shift(h[H_BLUE_MASK]);
	if ((bpp != 24 && bpp != 32) || rs < 0 || gs < 0 || bs < 0)
		return fail("pixels are not 24/32 bits with 8-bit channels", in);
	w = h[H_WIDTH];
	ht = h[H_HEIGHT];
	bpl = h[H_BYTES_PER_LINE];
	msb = h[H_BYTE_ORDER] != 0;
	if (w == 0 || ht == 0 || w > 32767 || ht > 32767 ||
	    bpl < (uint64_t)w * (bpp / 8) || h[H_NCOLORS] > 65536)
		return fail("bad image size", in);
	pixels_at = (size_t)h[H_HEADER_SIZE] + (size_t)h[H_NCOLORS] * XWD_COLOR_SIZE;
	if (pixels_at > size || (size - pixels_at) / bpl < ht)
		return fail("truncated", in);

	if (sf__png_image_alloc(&img, w, ht, 0) < 0)
		return fail("out of memory", in);
	for (uint32_t y = 0; y < ht; y++) {
		const uint8_t *row = data + pixels_at + (size_t)y * bpl;

		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *p = row + (size_t)x * (bpp / 8);
			uint8_t *q = img.pixels + ((size_t)y * w + x) * 4;
			uint32_t v = 0;

			for (uint32_t b = 0; b < bpp / 8; b++)
				v |= (uint32_t)p[msb ? bpp / 8 - 1 - b : b] << (8 * b);
			q[0] = (uint8_t)(v >> rs);
			q[1] = (uint8_t)(v >> gs);
			q[2] = (uint8_t)(v >> bs);
			q[3] = 0xff;
		}
	}
	if (sf__png_save(out, &(struct sf_png_format){ SF_PNG_RGBA, 0, 9 },
	                 img.pixels, img.width, img.height, img.stride, err,
	                 sizeof err) < 0) {
		sf__png_image_free(&img);
		return fail(err, out);
	}
	sf__png_image_free(&img);
	return 0;
}

int main(int argc, char **argv)
{
	FILE *f;
	uint8_t *data = NULL;
	size_t size = 0, cap = 0;
	int status;

	if (argc != 3) {
		fprintf(stderr, "usage: " PROG " IN.xwd OUT.png\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		size_t n;

		if (size == cap) {
			uint8_t *bigger = realloc(data, cap = cap ? 2 * cap : 1 << 16);

			if (!bigger) {
				free(data);
				fclose(f);
				return fail("out of memory", argv[1]);
			}
			data = bigger;
		}
		n = fread(data + size, 1, cap - size, f);
		if (n == 0)
			break;
		size += n;
	}
	if (ferror(f)) {
		free(data);
		fclose(f);
		return fail("read error", argv[1]);
	}
	fclose(f);
	status = convert(data, size, argv[1], argv[2]);
	free(data);
	return status;
}
