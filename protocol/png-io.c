/*
 * PNG read and write on libpng's classic interface, so that every
 * conversion is one asked for: no gamma, no premultiplication, no colour
 * management (see png-io.h).
 */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "png-io.h"

static void set_err(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* What a libpng error callback needs: libpng calls it, then we longjmp. */
struct png_msg {
	char *err;
	size_t err_len;
	const char *name;
};

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_msg *m = png_get_error_ptr(png);

	set_err(m->err, m->err_len, "%s: %s", m->name, msg);
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg; /* benign chunks we do not use; not worth a message */
}

int sf__png_image_alloc(struct sf_png_image *img, uint32_t width,
                        uint32_t height, int has_alpha)
{
	memset(img, 0, sizeof *img);
	if (width == 0 || height == 0 || width > SF_PNG_MAX_SIDE ||
	    height > SF_PNG_MAX_SIDE)
		return -1;
	img->pixels = calloc((size_t)width * height, 4);
	if (!img->pixels)
		return -1;
	img->width = width;
	img->height = height;
	img->stride = width * 4;
	img->has_alpha = has_alpha;
	return 0;
}

void sf__png_image_free(struct sf_png_image *img)
{
	free(img->pixels);
	memset(img, 0, sizeof *img);
}

/* The state a longjmp must find: kept in one struct, so that no local
 * changes between setjmp and longjmp. */
struct reader {
	png_structp png;
	png_infop info;
	png_bytep *rows;
};

int sf__png_read(FILE *f, const char *name, enum sf_png_order order,
                 uint32_t max_side, struct sf_png_image *img, char *err,
                 size_t err_len)
{
	struct png_msg msg = { err, err_len, name };
	struct reader r = { 0 }, *rd = &r;
	png_uint_32 w, h;
	int depth, color;
	uint8_t sig[8];

	memset(img, 0, sizeof *img);
	if (fread(sig, 1, sizeof sig, f) != sizeof sig ||
	    png_sig_cmp(sig, 0, sizeof sig)) {
		set_err(err, err_len, "%s: not a PNG file", name);
		return -1;
	}
	rd->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &msg, on_error,
	                                 on_warning);
	if (!rd->png || !(rd->info = png_create_info_struct(rd->png))) {
		set_err(err, err_len, "%s: out of memory", name);
		goto fail;
	}
	if (setjmp(png_jmpbuf(rd->png)))
		goto fail;
	png_init_io(rd->png, f);
	png_set_sig_bytes(rd->png, sizeof sig);
	png_set_user_limits(rd->png, max_side, max_side);
	png_read_info(rd->png, rd->info);
	png_get_IHDR(rd->png, rd->info, &w, &h, &depth, &color, NULL, NULL, NULL);

	/* Everything becomes 8-bit, 4 bytes per pixel. */
	img->has_alpha = (color & PNG_COLOR_MASK_ALPHA) ||
	                 png_get_valid(rd->png, rd->info, PNG_INFO_tRNS);
	png_set_expand(rd->png);
	png_set_strip_16(rd->png);
	png_set_gray_to_rgb(rd->png);
	png_set_add_alpha(rd->png, 0xff, PNG_FILLER_AFTER);
	if (order == SF_PNG_BGRA)
		png_set_bgr(rd->png);
	png_set_interlace_handling(rd->png);
	png_read_update_info(rd->png, rd->info);
	if (png_get_rowbytes(rd->png, rd->info) != (size_t)w * 4) {
		set_err(err, err_len, "%s: unexpected row size after conversion",
		        name);
		goto fail;
	}
	if (sf__png_image_alloc(img, w, h, img->has_alpha) < 0) {
		set_err(err, err_len, "%s: cannot allocate %ux%u pixels", name,
		        (unsigned)w, (unsigned)h);
		goto fail;
	}
	rd->rows = malloc(h * sizeof *rd->rows);
	if (!rd->rows) {
		set_err(err, err_len, "%s: out of memory", name);
		goto fail;
	}
	for (png_uint_32 y = 0; y < h; y++)
		rd->rows[y] = img->pixels + (size_t)y * img->stride;
	png_read_image(rd->png, rd->rows);
	png_read_end(rd->png, NULL);
	free(rd->rows);
	png_destroy_read_struct(&rd->png, &rd->info, NULL);
	return 0;

fail:
	free(rd->rows);
	sf__png_image_free(img);
	if (rd->png)
		png_destroy_read_struct(&rd->png, rd->info ? &rd->info : NULL, NULL);
	return -1;
}

int sf__png_load(const char *path, enum sf_png_order order, uint32_t max_side,
                 struct sf_png_image *img, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rbe");
	int rc;

	if (!f) {
		memset(img, 0, sizeof *img);
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = sf__png_read(f, path, order, max_side, img, err, err_len);
	fclose(f);
	return rc;
}

struct writer {
	png_structp png;
	png_infop info;
	int ok;
};

int sf__png_write(FILE *f, const char *name, const struct sf_png_format *fmt,
                  const uint8_t *pixels, uint32_t width, uint32_t height,
                  uint32_t stride, char *err, size_t err_len)
{
	struct png_msg msg = { err, err_len, name };
	struct writer w = { 0 }, *wr = &w;

	wr->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &msg, on_error,
	                                  on_warning);
	if (!wr->png || !(wr->info = png_create_info_struct(wr->png))) {
		set_err(err, err_len, "%s: out of memory", name);
		goto out;
	}
	if (setjmp(png_jmpbuf(wr->png)))
		goto out;
	png_init_io(wr->png, f);
	if (fmt->level >= 0)
		png_set_compression_level(wr->png, fmt->level);
	png_set_IHDR(wr->png, wr->info, width, height, 8,
	             fmt->with_alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
	             PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	             PNG_FILTER_TYPE_DEFAULT);
	png_write_info(wr->png, wr->info);
	if (fmt->order == SF_PNG_BGRA)
		png_set_bgr(wr->png);
	/* RGB from 4-byte pixels: libpng drops the byte after the colour. */
	if (!fmt->with_alpha)
		png_set_filler(wr->png, 0, PNG_FILLER_AFTER);
	for (uint32_t y = 0; y < height; y++)
		png_write_row(wr->png, pixels + (size_t)y * stride);
	png_write_end(wr->png, NULL);
	wr->ok = 1;
out:
	if (wr->png)
		png_destroy_write_struct(&wr->png, wr->info ? &wr->info : NULL);
	return wr->ok ? 0 : -1;
}

int sf__png_save(const char *path, const struct sf_png_format *fmt,
                 const uint8_t *pixels, uint32_t width, uint32_t height,
                 uint32_t stride, char *err, size_t err_len)
{
	FILE *f = fopen(path, "wbe");
	int rc;

	if (!f) {
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = sf__png_write(f, path, fmt, pixels, width, height, stride, err,
	                   err_len);
	if (fclose(f) != 0 && rc == 0) {
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc)
		unlink(path);
	return rc;
}
