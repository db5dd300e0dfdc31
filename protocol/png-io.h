/*
 * PNG files as 8-bit pixels of 4 bytes, for the server's snapshots, the
 * client programs and the test tools (never the client library).
 *
 * Reading converts every PNG colour type to 8-bit R,G,B,A or B,G,R,A
 * without gamma or colour conversion: the bytes in the file are the bytes
 * in memory (palette and grey expanded, 16-bit samples cut to their high
 * byte, a missing alpha channel filled with 255), so two files compare
 * equal exactly when their pixels do.  Writing takes 4-byte pixels in
 * either order and writes 8-bit RGBA, or RGB with the fourth byte dropped
 * (XRGB surfaces, opaque images).
 */
#ifndef SHMFRAME_PROTOCOL_PNG_IO_H
#define SHMFRAME_PROTOCOL_PNG_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The order of the 4 bytes of a pixel in memory. */
enum sf_png_order {
	SF_PNG_RGBA,  /* R, G, B, A: the order of the file */
	SF_PNG_BGRA,  /* B, G, R, A (or X): shmframe's pixels, little-endian */
};

struct sf_png_image {
	uint32_t width, height;
	uint32_t stride;  /* width * 4 */
	int has_alpha;    /* the file had an alpha channel (or tRNS) */
	uint8_t *pixels;  /* height rows of stride bytes; NULL when empty */
};

/* The largest side sf__png_image_alloc takes. */
#define SF_PNG_MAX_SIDE 65536u

/* Allocates width x height pixels, zeroed (each side 1..SF_PNG_MAX_SIDE).
 * 0 or -1. */
int sf__png_image_alloc(struct sf_png_image *img, uint32_t width,
                        uint32_t height, int has_alpha);

/* Frees the pixels; safe on a failed load or alloc too. */
void sf__png_image_free(struct sf_png_image *img);

/* Reads a PNG of at most max_side x max_side from f into img, in order.
 * name is what messages call the file.  0, or -1 with a message in err. */
int sf__png_read(FILE *f, const char *name, enum sf_png_order order,
                 uint32_t max_side, struct sf_png_image *img, char *err,
                 size_t err_len);

/* sf__png_read from the file at path. */
int sf__png_load(const char *path, enum sf_png_order order, uint32_t max_side,
                 struct sf_png_image *img, char *err, size_t err_len);

/* How to write. */
struct sf_png_format {
	enum sf_png_order order;  /* of the pixels handed over */
	int with_alpha;           /* RGBA, else RGB (the fourth byte dropped) */
	int level;                /* zlib level 0..9, or -1 for libpng's default */
};

/* Writes width x height pixels (rows of stride bytes) to f, which the
 * caller opened and closes.  0, or -1 with a message in err. */
int sf__png_write(FILE *f, const char *name, const struct sf_png_format *fmt,
                  const uint8_t *pixels, uint32_t width, uint32_t height,
                  uint32_t stride, char *err, size_t err_len);

/* sf__png_write to path, created or truncated; a failed write removes the
 * partial file. */
int sf__png_save(const char *path, const struct sf_png_format *fmt,
                 const uint8_t *pixels, uint32_t width, uint32_t height,
                 uint32_t stride, char *err, size_t err_len);

#endif
