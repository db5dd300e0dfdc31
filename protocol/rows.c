/*
 * The damage-row walk (rows.h): one position, moved by the bytes that a
 * read, a write or a copy took.
 */
#include <string.h>

#include "rows.h"

static size_t row_bytes(const struct sf_rect *r)
{
	return (size_t)r->width * SF_BYTES_PER_PIXEL;
}

uint64_t sf__rows_total(const struct sf_rect *rects, uint32_t n)
{
	uint64_t total = 0;

	/* Rectangles inside an image (at most SF_MAX_DIMENSION a side) cannot
	 * overflow the sum, so sf__payload_size always gives it. */
	if (sf__payload_size(rects, n, &total))
		return 0;
	return total;
}

/* Steps over rectangles with no bytes, so that the position is always at a
 * row with bytes left (or at the end). */
static void skip_empty(struct sf_rows *w)
{
	while (w->rect < w->n_rects &&
	       (w->rects[w->rect].width == 0 || w->rects[w->rect].height == 0)) {
		w->rect++;
		w->row = 0;
		w->col = 0;
	}
}

void sf__rows_init(struct sf_rows *w, void *base, size_t stride,
                   const struct sf_rect *rects, uint32_t n)
{
	w->base = base;
	w->stride = stride;
	w->rects = rects;
	w->n_rects = n;
	w->rect = 0;
	w->row = 0;
	w->col = 0;
	w->left = sf__rows_total(rects, n);
	skip_empty(w);
}

static uint8_t *row_start(const struct sf_rows *w, uint32_t rect, uint32_t row)
{
	const struct sf_rect *r = &w->rects[rect];

	return w->base + (size_t)(r->y + row) * w->stride +
	       (size_t)r->x * SF_BYTES_PER_PIXEL;
}

uint64_t sf__rows_iov(const struct sf_rows *w, struct iovec *iov, int *cnt,
                      int max, uint64_t limit)
{
	uint32_t rect = w->rect, row = w->row;
	size_t col = w->col;
	uint64_t added = 0;
	int n = *cnt;

	while (rect < w->n_rects && added < limit) {
		const struct sf_rect *r = &w->rects[rect];
		uint8_t *p = row_start(w, rect, row) + col;
		size_t len = row_bytes(r) - col;

		if (r->width == 0 || r->height == 0) {
			rect++;
			continue;
		}
		if (n > 0 && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == p) {
			iov[n - 1].iov_len += len;
		} else if (n < max) {
			iov[n].iov_base = p;
			iov[n].iov_len = len;
			n++;
		} else {
			break;
		}
		added += len;
		col = 0;
		if (++row == r->height) {
			row = 0;
			rect++;
		}
	}
	*cnt = n;
	return added;
}

void sf__rows_advance(struct sf_rows *w, size_t n)
{
	w->left -= n;
	while (n > 0 && w->rect < w->n_rects) {
		const struct sf_rect *r = &w->rects[w->rect];
		size_t rest = row_bytes(r) - w->col;
		size_t k = n < rest ? n : rest;

		w->col += k;
		n -= k;
		if (w->col == row_bytes(r)) {
			w->col = 0;
			if (++w->row == r->height) {
				w->row = 0;
				w->rect++;
				skip_empty(w);
			}
		}
	}
}

size_t sf__rows_copy_in(struct sf_rows *w, const void *src, size_t len)
{
	const uint8_t *s = src;
	size_t done = 0;

	if (len > w->left)
		len = (size_t)w->left;
	while (done < len) {
		const struct sf_rect *r = &w->rects[w->rect];
		size_t k = row_bytes(r) - w->col;

		if (k > len - done)
			k = len - done;
		memcpy(row_start(w, w->rect, w->row) + w->col, s + done, k);
		done += k;
		sf__rows_advance(w, k);
	}
	return done;
}

/* height rows of row bytes, from src to dst. */
static void copy_rows(uint8_t *dst, size_t dst_stride, const uint8_t *src,
                      size_t src_stride, size_t row, uint32_t height)
{
	for (uint32_t y = 0; y < height; y++)
		memcpy(dst + y * dst_stride, src + y * src_stride, row);
}

void sf__rect_copy(void *dst, size_t dst_stride, const void *src,
                   size_t src_stride, const struct sf_rect *r)
{
	size_t x = (size_t)r->x * SF_BYTES_PER_PIXEL;

	copy_rows((uint8_t *)dst + r->y * dst_stride + x, dst_stride,
	          (const uint8_t *)src + r->y * src_stride + x, src_stride,
	          row_bytes(r), r->height);
}

void sf__rect_pack(void *dst, const void *src, size_t src_stride,
                   const struct sf_rect *r)
{
	copy_rows(dst, row_bytes(r), (const uint8_t *)src + r->y * src_stride +
	          (size_t)r->x * SF_BYTES_PER_PIXEL, src_stride, row_bytes(r),
	          r->height);
}

void sf__rect_extend(struct sf_rect *box, const struct sf_rect *r)
{
	uint32_t x1, y1;

	if (box->width == 0) {
		*box = *r;
		return;
	}
	x1 = box->x + box->width > r->x + r->width ? box->x + box->width
	                                           : r->x + r->width;
	y1 = box->y + box->height > r->y + r->height ? box->y + box->height
	                                             : r->y + r->height;
	box->x = box->x < r->x ? box->x : r->x;
	box->y = box->y < r->y ? box->y : r->y;
	box->width = x1 - box->x;
	box->height = y1 - box->y;
}
