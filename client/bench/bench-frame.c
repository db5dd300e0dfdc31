/*
 * bench-frame.c: what a benchmark client draws.
 *
 * Every pixel of the damage is written every frame with a cheap pattern
 * that still differs from frame to frame and from row to row, so that a
 * frame that did not arrive, arrived twice or arrived shifted cannot pass
 * the final comparison.  The first pixel of the damage carries the frame
 * number (its tag): checking it costs one load, so it is checked for every
 * frame wherever the frame lands in memory we can read.
 */
#include <stdio.h>
#include <string.h>

#include "bench-private.h"

/* Step between neighbouring pixels: changes all three colour bytes. */
#define STEP_X 0x00010305u

static inline uint32_t row_base(uint32_t frame, uint32_t y)
{
	return frame * 0x9e3779b1u + y * 0x01000193u;
}

static inline uint32_t pattern(uint32_t frame, uint32_t x, uint32_t y)
{
	return (row_base(frame, y) + x * STEP_X) | 0xff000000u;
}

static inline uint32_t tag_of(uint32_t frame)
{
	/* Opaque, so that an X server keeping 24 bits keeps all of it. */
	return 0xff000000u | (frame & 0x00ffffffu);
}

/* Four pixels at a time with the compiler's generic vectors (plain SSE2
 * on x86-64), so that drawing runs at about the speed of memset, as a
 * renderer worth benchmarking a transport for would: the pattern must not
 * be what limits the frame rate. */
typedef uint32_t v4u __attribute__((vector_size(16)));

static void fill(uint8_t *origin, size_t stride, uint32_t frame,
                 const struct shmframe_rect *r)
{
	const v4u step = { 16 * STEP_X, 16 * STEP_X, 16 * STEP_X, 16 * STEP_X };
	const v4u alpha = { 0xff000000u, 0xff000000u, 0xff000000u, 0xff000000u };

	for (uint32_t y = 0; y < r->height; y++) {
		uint32_t *row = (uint32_t *)(void *)(origin + (size_t)y * stride);
		uint32_t v = row_base(frame, r->y + y) + r->x * STEP_X, x = 0;
		v4u a = { v, v + STEP_X, v + 2 * STEP_X, v + 3 * STEP_X };
		v4u b = a + 4 * STEP_X, c = a + 8 * STEP_X, d = a + 12 * STEP_X;

		for (; x + 16 <= r->width; x += 16) {
			v4u o;

			/* memcpy: rows need not be 16-byte aligned. */
			o = a | alpha;
			memcpy(row + x, &o, sizeof(o));
			o = b | alpha;
			memcpy(row + x + 4, &o, sizeof(o));
			o = c | alpha;
			memcpy(row + x + 8, &o, sizeof(o));
			o = d | alpha;
			memcpy(row + x + 12, &o, sizeof(o));
			a += step;
			b += step;
			c += step;
			d += step;
		}
		for (; x < r->width; x++)
			row[x] = (v + x * STEP_X) | 0xff000000u;
	}
}

void bench_render(uint8_t *origin, size_t stride, uint32_t frame,
                  const struct shmframe_rect *rect)
{
	fill(origin, stride, frame, rect);
	bench_tag_write(origin, frame);
}

void bench_render_background(uint8_t *origin, size_t stride,
                             const struct shmframe_rect *rect)
{
	fill(origin, stride, BENCH_BG_FRAME, rect);
}

void bench_tag_write(uint8_t *origin, uint32_t frame)
{
	uint32_t t = tag_of(frame);

	memcpy(origin, &t, sizeof(t));
}

int bench_tag_check(const uint8_t *origin, uint32_t frame)
{
	uint32_t t;

	memcpy(&t, origin, sizeof(t));
	return t == tag_of(frame);
}

static int inside(const struct shmframe_rect *r, uint32_t x, uint32_t y)
{
	return x >= r->x && x - r->x < r->width && y >= r->y &&
	       y - r->y < r->height;
}

uint64_t bench_image_check(const uint8_t *img, size_t stride,
                           const struct shmframe_rect *area,
                           const struct shmframe_rect *damage,
                           uint32_t frame, uint32_t mask, char *why,
                           size_t whylen)
{
	uint64_t wrong = 0;
	uint32_t i, j;

	for (j = 0; j < area->height; j++) {
		const uint32_t *row = (const uint32_t *)(const void *)(img + (size_t)j * stride);
		uint32_t y = area->y + j;

		for (i = 0; i < area->width; i++) {
			uint32_t x = area->x + i, want;

			if (!inside(damage, x, y))
				want = pattern(BENCH_BG_FRAME, x, y);
			else if (x == damage->x && y == damage->y)
				want = tag_of(frame);
			else
				want = pattern(frame, x, y);
			if (((row[i] ^ want) & mask) == 0)
				continue;
			if (wrong++ == 0 && why)
				snprintf(why, whylen,
				         "pixel (%u,%u) is 0x%08x, frame %u needs 0x%08x",
				         x, y, row[i] & mask, frame, want & mask);
		}
	}
	return wrong;
}

int bench_client_check_image(struct bench_client *c, const uint8_t *img,
                             size_t stride, uint32_t frame, uint32_t mask,
                             const char *what)
{
	const struct bench_job *job = c->job;
	const struct shmframe_rect whole = { 0, 0, job->width, job->height };
	uint64_t wrong;
	char why[160];

	wrong = bench_image_check(img, stride, &whole, &job->damage, frame, mask,
	                          why, sizeof(why));
	if (wrong)
		return bench_client_fail(c, "%s has %llu wrong pixels; %s", what,
		                         (unsigned long long)wrong, why);
	return 0;
}
