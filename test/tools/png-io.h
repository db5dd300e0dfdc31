/*
 * PNG files as plain 8-bit RGBA arrays, for the test tools.  Loading applies
 * no gamma or colour conversion: the bytes in the file are the bytes in
 * memory (grey and palette images expanded, 16-bit samples cut to their high
 * byte, a missing alpha channel filled with 255), so two files compare equal
 * exactly when their pixels do.
 */
#ifndef SHMFRAME_TEST_PNG_IO_H
#define SHMFRAME_TEST_PNG_IO_H

#include <stddef.h>
#include <stdint.h>

struct sf_test_image {
	uint32_t width, height;
	int has_alpha;  /* the file had an alpha channel (or tRNS) */
	uint8_t *rgba;  /* width*height*4 bytes, rows without padding */
};

/* Loads path.  Returns 0, or -1 with a message in err.  Free with
 * sf__test_image_free (also safe on a failed load). */
int sf__test_png_load(const char *path, struct sf_test_image *img, char *err,
                      size_t err_len);

/* Allocates width*height RGBA pixels, zeroed.  0 or -1. */
int sf__test_image_alloc(struct sf_test_image *img, uint32_t width,
                         uint32_t height, int has_alpha);

/* Writes img as 8-bit RGBA (with_alpha) or RGB, best compression.
 * 0, or -1 with a message in err. */
int sf__test_png_save(const char *path, const struct sf_test_image *img,
                      int with_alpha, char *err, size_t err_len);

void sf__test_image_free(struct sf_test_image *img);

#endif
