/*
 * A walk over the damaged rows of an image: n rectangles of a picture
 * whose rows lie stride bytes apart, taken rectangle by rectangle and row
 * by row, each row width * SF_BYTES_PER_PIXEL bytes.  This is the order
 * inline pixels travel in on the wire, so both sides use it: to read
 * pixels straight into rows (readv), to write them straight from rows
 * (writev), and to copy bytes that arrived in a buffer into place.
 */
#ifndef SHMFRAME_ROWS_H
#define SHMFRAME_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "wire.h"

struct sf_rows {
	uint8_t *base;                /* pixel (0, 0) of the image */
	size_t stride;                /* bytes from one row to the next */
	const struct sf_rect *rects;  /* borrowed: must outlive the walk */
	uint32_t n_rects;
	/* Where the next byte goes: rectangle, row in it, bytes of that row
	 * done.  Always at a row with bytes left, or at the end. */
	uint32_t rect, row;
	size_t col;
	uint64_t left;                /* bytes from here to the end */
};

/* Bytes of n rectangles, in all (sf__payload_size; 0 for a rectangle
 * larger than any image). */
uint64_t sf__rows_total(const struct sf_rect *rects, uint32_t n);

/* Starts a walk at the first byte of rects (which the caller keeps, and
 * which must lie inside the image: nothing is checked here). */
void sf__rows_init(struct sf_rows *w, void *base, size_t stride,
                   const struct sf_rect *rects, uint32_t n);

/*
 * Appends the rows from the position on to iov, which holds *cnt entries
 * and room for max: the rest of the current row, then whole rows, while
 * fewer than limit bytes were added.  Rows that follow each other in
 * memory (full-width rectangles, or the entry already last in iov) become
 * one entry.  Returns the bytes added; the walk does not move.
 */
uint64_t sf__rows_iov(const struct sf_rows *w, struct iovec *iov, int *cnt,
                      int max, uint64_t limit);

/* Moves the position n bytes on (n <= w->left). */
void sf__rows_advance(struct sf_rows *w, size_t n);

/* Grows box to cover r too (a box of width 0 covers nothing yet).  Both
 * lie inside an image: nothing overflows. */
void sf__rect_extend(struct sf_rect *box, const struct sf_rect *r);

/* Copies rectangle r of the image at src (rows src_stride apart) to the
 * same place of the image at dst (rows dst_stride apart). */
void sf__rect_copy(void *dst, size_t dst_stride, const void *src,
                   size_t src_stride, const struct sf_rect *r);
/* Copies rectangle r of the image at src to dst with its rows joined
 * (width * SF_BYTES_PER_PIXEL bytes each, one after the other). */
void sf__rect_pack(void *dst, const void *src, size_t src_stride,
                   const struct sf_rect *r);

/* Copies up to len bytes of src into the rows from the position on, and
 * moves past them.  Returns the bytes copied: len, or w->left if less. */
size_t sf__rows_copy_in(struct sf_rows *w, const void *src, size_t len);

#endif
