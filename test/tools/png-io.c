/*
 * PNG load and save for the test tools, on libpng's classic interface so
 * that no gamma or alpha processing can creep in (see png-io.h).
 */
#include <errno.h>
#include <png.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* libpng reports errors through this callback and then longjmps; keep the
 * text so the caller can print it. */
static void on_png_error(png_structp png, png_const_charp msg)
{
	char *buf = png_get_error_ptr(png);

	if (buf)
		snprintf(buf, 256, "%s", msg);
	png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

int sf__test_image_alloc(struct sf_test_image *img, uint32_t width,
                         uint32_t height, int has_alpha)
{
	memset(img, 0, sizeof *img);
	if (width == 0 || height == 0 || width > 65536 || height > 65536)
		return -1;
	img->rgba = calloc((size_t)width * height, 4);
	if (!img->rgba)
		return -1;
	img->width = width;
	img->height = height;
	img->has_alpha = has_alpha;
	return 0;
}

void sf__test_image_free(struct sf_test_image *img)
{
	free(img->rgba);
	memset(img, 0, sizeof *img);
}

int sf__test_png_load(const char *path, struct sf_test_image *img, char *err,
                      size_t err_len)
{
	char png_msg[256] = "";
	png_structp png = NULL;
	png_infop info = NULL;
	png_bytep *volatile rows = NULL;
	FILE *volatile f = NULL;
	uint8_t sig[8];
	png_uint_32 w, h;
	int depth, color, has_alpha;

	memset(img, 0, sizeof *img);
	f = fopen(path, "rb");
	if (!f) {
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fread(sig, 1, sizeof sig, f) != sizeof sig || png_sig_cmp(sig, 0, 8)) {
		set_err(err, err_len, "%s: not a PNG file", path);
		goto close_file;
	}
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, png_msg, on_png_error,
	                             on_png_warning);
	if (!png) {
		set_err(err, err_len, "%s: cannot create a PNG reader", path);
		goto close_file;
	}
	info = png_create_info_struct(png);
	if (!info)
		goto destroy_png;
	if (setjmp(png_jmpbuf(png))) {
		set_err(err, err_len, "%s: %s", path, png_msg);
		goto free_rows;
	}
	png_init_io(png, f);
	png_set_sig_bytes(png, 8);
	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &color, NULL, NULL, NULL);
	has_alpha = (color & PNG_COLOR_MASK_ALPHA) ||
	            png_get_valid(png, info, PNG_INFO_tRNS);
	png_set_expand(png);
	png_set_strip_16(png);
	png_set_gray_to_rgb(png);
	png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	if (png_get_rowbytes(png, info) != (size_t)w * 4) {
		set_err(err, err_len, "%s: unexpected row size after expansion", path);
		goto free_rows;
	}
	if (sf__test_image_alloc(img, w, h, has_alpha) < 0) {
		set_err(err, err_len, "%s: cannot allocate %ux%u pixels", path,
		        (unsigned)w, (unsigned)h);
		goto free_rows;
	}
	rows = malloc(sizeof *rows * h);
	if (!rows) {
		set_err(err, err_len, "%s: out of memory", path);
		goto free_rows;
	}
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = img->rgba + (size_t)y * w * 4;
	png_read_image(png, rows);
	png_read_end(png, NULL);
	free(rows);
	png_destroy_read_struct(&png, &info, NULL);
	fclose(f);
	return 0;

free_rows:
	free(rows);
	if (img->rgba)
		sf__test_image_free(img);
destroy_png:
	png_destroy_read_struct(&png, info ? &info : NULL, NULL);
close_file:
	fclose(f);
	return -1;
}

int sf__test_png_save(const char *path, const struct sf_test_image *img,
                      int with_alpha, char *err, size_t err_len)
{
	char png_msg[256] = "";
	png_structp png = NULL;
	png_infop info = NULL;
	uint8_t *volatile row = NULL;
	FILE *volatile f = fopen(path, "wb");

	if (!f) {
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, png_msg,
	                              on_png_error, on_png_warning);
	if (!png)
		goto close_file;
	info = png_create_info_struct(png);
	if (!info)
		goto destroy_png;
	if (setjmp(png_jmpbuf(png))) {
		set_err(err, err_len, "%s: %s", path, png_msg);
		goto destroy_png;
	}
	row = malloc((size_t)img->width * 4);
	if (!row) {
		set_err(err, err_len, "%s: out of memory", path);
		goto destroy_png;
	}
	png_init_io(png, f);
	png_set_compression_level(png, 9);
	png_set_IHDR(png, info, img->width, img->height, 8,
	             with_alpha ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB,
	             PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	             PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (uint32_t y = 0; y < img->height; y++) {
		const uint8_t *src = img->rgba + (size_t)y * img->width * 4;

		if (with_alpha) {
			memcpy(row, src, (size_t)img->width * 4);
		} else {
			for (uint32_t x = 0; x < img->width; x++)
				memcpy(row + x * 3, src + x * 4, 3);
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	free(row);
	png_destroy_write_struct(&png, &info);
	if (fclose(f) != 0) {
		set_err(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;

destroy_png:
	free(row);
	png_destroy_write_struct(&png, info ? &info : NULL);
close_file:
	fclose(f);
	remove(path);
	return -1;
}
