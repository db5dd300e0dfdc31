/*
 * PNG files for the client programs, as BGRA8888 images (the byte order of
 * shmframe's pixels).  Loading converts every PNG colour type to 8-bit
 * BGRA without gamma or colour conversion: the bytes in the file are the
 * bytes in memory (palette and grey expanded, 16-bit samples cut to their
 * high byte, a missing alpha channel filled with 255).  Saving writes 8-bit
 * RGBA, alpha kept.
 */
#ifndef SHMFRAME_TOOLS_PNGFILE_H
#define SHMFRAME_TOOLS_PNGFILE_H

#include <stddef.h>
#include <stdint.h>

struct sf_png_image {
	uint32_t width, height;
	uint32_t stride;  /* width * 4 */
	uint8_t *bgra;    /* height rows of stride bytes; NULL when empty */
};

/* Loads path (at most 16384 x 16384).  Returns 0, or -1 with a message in
 * err.  Free with sf__png_free (safe on a failed load too). */
int sf__png_load(const char *path, struct sf_png_image *img, char *err,
                 size_t err_len);

/* Writes width x height BGRA pixels (rows of stride bytes) as an RGBA PNG.
 * A failed write removes the partial file.  0, or -1 with a message. */
int sf__png_save(const char *path, const uint8_t *bgra, uint32_t width,
                 uint32_t height, uint32_t stride, char *err, size_t err_len);

void sf__png_free(struct sf_png_image *img);

/* Compares two PNG files pixel for pixel, alpha included.  Returns 0 when
 * equal, 1 when they differ (why says where), -1 when one cannot be read. */
int sf__png_compare(const char *a, const char *b, char *why, size_t why_len);

#endif
