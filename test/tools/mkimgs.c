/*
 * mkimgs: writes the sample images of imgs/ from formulas, so that every
 * pixel of every test image is known (imgs/README.md lists them).
 *
 *     mkimgs OUTDIR
 *
 * The output is deterministic: running it again must give files whose
 * pixels equal the committed ones (a CTest test checks exactly that).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png-io.h"

typedef void fill_fn(uint32_t x, uint32_t y, uint8_t px[4]);

static void set(uint8_t px[4], unsigned r, unsigned g, unsigned b, unsigned a)
{
	px[0] = (uint8_t)r;
	px[1] = (uint8_t)g;
	px[2] = (uint8_t)b;
	px[3] = (uint8_t)a;
}

/* 64x48: eight colour bars over rows 0-31; below them a 1-pixel checker
 * (x 0-31) and a grey ramp (x 32-63); four distinct corner pixels so a
 * flipped, mirrored or shifted image cannot pass. */
static void fill_testcard(uint32_t x, uint32_t y, uint8_t px[4])
{
	static const uint8_t bars[8][3] = {
		{ 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 },
		{ 255, 0, 255 }, { 255, 0, 0 }, { 0, 0, 255 }, { 0, 0, 0 },
	};

	if (y < 32) {
		const uint8_t *c = bars[x / 8];
		set(px, c[0], c[1], c[2], 255);
	} else if (x < 32) {
		unsigned v = ((x + y) & 1) ? 255 : 0;
		set(px, v, v, v, 255);
	} else {
		unsigned v = (x - 32) * 8;
		set(px, v, v, v, 255);
	}
	if (x == 0 && y == 0)
		set(px, 1, 2, 3, 255);
	if (x == 63 && y == 0)
		set(px, 4, 5, 6, 255);
	if (x == 0 && y == 47)
		set(px, 7, 8, 9, 255);
	if (x == 63 && y == 47)
		set(px, 10, 11, 12, 255);
}

static void fill_gradient(uint32_t x, uint32_t y, uint8_t px[4])
{
	set(px, x, y, x ^ y, 255);
}

/* 200x150 with real alpha: rows 0-9 fully transparent but coloured (a
 * premultiplying path would lose the colour), rows 140-149 opaque, between
 * them alpha ramps with x and steps with y. */
static void fill_alpha(uint32_t x, uint32_t y, uint8_t px[4])
{
	unsigned a;

	if (y < 10)
		a = 0;
	else if (y >= 140)
		a = 255;
	else
		a = (x * 255 / 199 + (y / 10) * 7) & 0xff;
	set(px, x * 255 / 199, y * 255 / 149,
	    128 + (((x / 10) + (y / 10)) & 1) * 100, a);
}

/* Odd sizes: every pixel differs from its row neighbours, so a stride or
 * row-offset mistake shows. */
static void fill_odd(uint32_t x, uint32_t y, uint8_t px[4])
{
	set(px, (x * 7 + y * 3) & 0xff, (x + y) & 0xff, (x * 2 + y * 11) & 0xff,
	    255);
}

/* 1920x1080 in runs of 8 identical pixels: compresses to little. */
static void fill_hd(uint32_t x, uint32_t y, uint8_t px[4])
{
	set(px, (x / 8) & 0xff, (y / 4) & 0xff, ((x / 64 + y / 64) & 1) * 255,
	    255);
}

static void fill_one(uint32_t x, uint32_t y, uint8_t px[4])
{
	(void)x;
	(void)y;
	set(px, 0x12, 0x34, 0x56, 0x78);
}

static void fill_tall(uint32_t x, uint32_t y, uint8_t px[4])
{
	set(px, y & 0xff, (y >> 8) * 50 + x * 60, x * 80 + 10, 255 - (y & 0x7f));
}

static void fill_small(uint32_t x, uint32_t y, uint8_t px[4])
{
	set(px, x * 36, y * 60, x * 7 + y, 200 + x + y * 8);
}

struct spec {
	const char *name;
	uint32_t width, height;
	int alpha;
	fill_fn *fill;
};

static const struct spec specs[] = {
	{ "testcard.png", 64, 48, 0, fill_testcard },
	{ "gradient.png", 256, 256, 0, fill_gradient },
	{ "alpha.png", 200, 150, 1, fill_alpha },
	{ "odd-333x257.png", 333, 257, 0, fill_odd },
	{ "hd-1920x1080.png", 1920, 1080, 0, fill_hd },
	{ "1x1.png", 1, 1, 1, fill_one },
	{ "3x500.png", 3, 500, 1, fill_tall },
	{ "7x5.png", 7, 5, 1, fill_small },
};

int main(int argc, char **argv)
{
	char path[4096], err[512];

	if (argc != 2) {
		fprintf(stderr, "usage: mkimgs OUTDIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		const struct spec *s = &specs[i];
		struct sf_png_image img;

		if (sf__png_image_alloc(&img, s->width, s->height, s->alpha) < 0) {
			fprintf(stderr, "mkimgs: out of memory\n");
			return 1;
		}
		for (uint32_t y = 0; y < s->height; y++)
			for (uint32_t x = 0; x < s->width; x++)
				s->fill(x, y, img.pixels + ((size_t)y * s->width + x) * 4);
		snprintf(path, sizeof path, "%s/%s", argv[1], s->name);
		if (sf__png_save(path, &(struct sf_png_format){ SF_PNG_RGBA, s->alpha, 9 },
		                 img.pixels, img.width, img.height, img.stride, err,
		                 sizeof err) < 0) {
			fprintf(stderr, "mkimgs: %s\n", err);
			sf__png_image_free(&img);
			return 1;
		}
		sf__png_image_free(&img);
	}
	return 0;
}
