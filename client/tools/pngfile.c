/*
 * PNG load/save for the client programs, on libpng's progressive-free
 * "low level" API so that every conversion is one we asked for: no gamma,
 * no premultiplication, no colour management.
 */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pngfile.h"

#define MAX_DIMENSION 16384u

/* libpng reports errors by calling us and expecting a longjmp. */
struct png_ctx {
	char *err;
	size_t err_len;
	const char *path;
};

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_ctx *ctx = png_get_error_ptr(png);

	snprintf(ctx->err, ctx->err_len, "%s: %s", ctx->path, msg);
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg; /* benign chunks we do not use; not worth a message */
}

void sf__png_free(struct sf_png_image *img)
{
	free(img->bgra);
	memset(img, 0, sizeof *img);
}

/* The state a longjmp must find: kept in one struct so no local changes
 * between setjmp and longjmp. */
struct load {
	FILE *f;
	png_structp png;
	png_infop info;
	png_bytep *rows;
	uint8_t *pixels;
};

static void load_cleanup(struct load *l)
{
	if (l->png)
		png_destroy_read_struct(&l->png, l->info ? &l->info : NULL, NULL);
	free(l->rows);
	free(l->pixels);
	if (l->f)
		fclose(l->f);
}

int sf__png_load(const char *path, struct sf_png_image *img, char *err,
                 size_t err_len)
{
	struct png_ctx ctx = { err, err_len, path };
	struct load *l = calloc(1, sizeof *l);
	png_uint_32 w, h;
	int depth, color, interlace;
	uint8_t sig[8];

	memset(img, 0, sizeof *img);
	if (!l) {
		snprintf(err, err_len, "%s: out of memory", path);
		return -1;
	}
	l->f = fopen(path, "rb");
	if (!l->f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fread(sig, 1, sizeof sig, l->f) != sizeof sig ||
	    png_sig_cmp(sig, 0, sizeof sig)) {
		snprintf(err, err_len, "%s: not a PNG file", path);
		goto fail;
	}
	l->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error,
	                                on_warning);
	if (!l->png || !(l->info = png_create_info_struct(l->png))) {
		snprintf(err, err_len, "%s: out of memory", path);
		goto fail;
	}
	if (setjmp(png_jmpbuf(l->png)))
		goto fail;
	png_init_io(l->png, l->f);
	png_set_sig_bytes(l->png, sizeof sig);
	png_set_user_limits(l->png, MAX_DIMENSION, MAX_DIMENSION);
	png_read_info(l->png, l->info);
	png_get_IHDR(l->png, l->info, &w, &h, &depth, &color, &interlace, NULL,
	             NULL);

	/* Everything becomes 8-bit B, G, R, A. */
	if (color == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(l->png);
	if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(l->png);
	if (png_get_valid(l->png, l->info, PNG_INFO_tRNS))
		png_set_tRNS_to_alpha(l->png);
	else if (!(color & PNG_COLOR_MASK_ALPHA))
		png_set_filler(l->png, 0xff, PNG_FILLER_AFTER);
	if (depth == 16)
		png_set_strip_16(l->png);
	if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
		png_set_gray_to_rgb(l->png);
	png_set_bgr(l->png);
	png_set_interlace_handling(l->png);
	png_read_update_info(l->png, l->info);
	if (png_get_rowbytes(l->png, l->info) != (size_t)w * 4) {
		snprintf(err, err_len, "%s: unexpected row size after conversion",
		         path);
		goto fail;
	}
	l->pixels = malloc((size_t)w * h * 4);
	l->rows = malloc(h * sizeof *l->rows);
	if (!l->pixels || !l->rows) {
		snprintf(err, err_len, "%s: out of memory for %ux%u pixels", path,
		         (unsigned)w, (unsigned)h);
		goto fail;
	}
	for (png_uint_32 y = 0; y < h; y++)
		l->rows[y] = l->pixels + (size_t)y * w * 4;
	png_read_image(l->png, l->rows);
	png_read_end(l->png, NULL);

	img->width = w;
	img->height = h;
	img->stride = w * 4;
	img->bgra = l->pixels;
	l->pixels = NULL;
	load_cleanup(l);
	free(l);
	return 0;

fail:
	load_cleanup(l);
	free(l);
	return -1;
}

struct save {
	FILE *f;
	png_structp png;
	png_infop info;
	png_bytep *rows;
	int ok;
};

int sf__png_save(const char *path, const uint8_t *bgra, uint32_t width,
                 uint32_t height, uint32_t stride, char *err, size_t err_len)
{
	struct png_ctx ctx = { err, err_len, path };
	struct save *s = calloc(1, sizeof *s);
	int ok;

	if (!s) {
		snprintf(err, err_len, "%s: out of memory", path);
		return -1;
	}
	s->rows = malloc(height * sizeof *s->rows);
	if (!s->rows) {
		snprintf(err, err_len, "%s: out of memory", path);
		goto done;
	}
	for (uint32_t y = 0; y < height; y++)
		s->rows[y] = (png_bytep)bgra + (size_t)y * stride;
	s->f = fopen(path, "wb");
	if (!s->f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		goto done;
	}
	s->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error,
	                                 on_warning);
	if (!s->png || !(s->info = png_create_info_struct(s->png))) {
		snprintf(err, err_len, "%s: out of memory", path);
		goto done;
	}
	if (setjmp(png_jmpbuf(s->png)))
		goto done;
	png_init_io(s->png, s->f);
	png_set_IHDR(s->png, s->info, width, height, 8, PNG_COLOR_TYPE_RGB_ALPHA,
	             PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	             PNG_FILTER_TYPE_DEFAULT);
	png_write_info(s->png, s->info);
	png_set_bgr(s->png);
	png_write_image(s->png, s->rows);
	png_write_end(s->png, NULL);
	s->ok = 1;

done:
	ok = s->ok;
	if (s->png)
		png_destroy_write_struct(&s->png, s->info ? &s->info : NULL);
	if (s->f && fclose(s->f) != 0 && ok) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		ok = 0;
	}
	if (s->f && !ok)
		unlink(path);
	free(s->rows);
	free(s);
	return ok ? 0 : -1;
}

int sf__png_compare(const char *a, const char *b, char *why, size_t why_len)
{
	struct sf_png_image ia, ib;
	unsigned long long differ = 0;
	long fx = -1, fy = -1;
	uint32_t va = 0, vb = 0;

	if (sf__png_load(a, &ia, why, why_len))
		return -1;
	if (sf__png_load(b, &ib, why, why_len)) {
		sf__png_free(&ia);
		return -1;
	}
	if (ia.width != ib.width || ia.height != ib.height) {
		snprintf(why, why_len, "sizes differ: %ux%u and %ux%u", ia.width,
		         ia.height, ib.width, ib.height);
		sf__png_free(&ia);
		sf__png_free(&ib);
		return 1;
	}
	for (uint32_t y = 0; y < ia.height; y++) {
		const uint8_t *ra = ia.bgra + (size_t)y * ia.stride;
		const uint8_t *rb = ib.bgra + (size_t)y * ib.stride;

		if (memcmp(ra, rb, (size_t)ia.width * 4) == 0)
			continue;
		for (uint32_t x = 0; x < ia.width; x++) {
			if (memcmp(ra + x * 4, rb + x * 4, 4) == 0)
				continue;
			if (differ++ == 0) {
				fx = x;
				fy = y;
				memcpy(&va, ra + x * 4, 4);
				memcpy(&vb, rb + x * 4, 4);
			}
		}
	}
	if (differ)
		snprintf(why, why_len, "%llu pixels differ; first at (%ld, %ld): "
		         "ARGB %08x and %08x", differ, fx, fy, va, vb);
	else
		snprintf(why, why_len, "equal");
	sf__png_free(&ia);
	sf__png_free(&ib);
	return differ ? 1 : 0;
}
