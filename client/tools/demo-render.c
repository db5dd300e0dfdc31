/*
 * The demo's scene: two gradients drifting at different speeds, a few
 * boxes and discs bouncing off the edges, the frame number drawn with a
 * 3x5 digit font, and on top the square a person moves and zooms.
 * Integer arithmetic only, so every machine and every compiler draws the
 * same bytes for the same state.
 *
 * Self-contained on purpose (only this file and its header): the tests
 * compile it on its own to render the frame they expect.
 */
#include <stddef.h>
#include <stdint.h>

#include "demo-render.h"

struct canvas {
	uint8_t *pixels;
	uint32_t stride, w, h;
};

static uint32_t argb(uint32_t r, uint32_t g, uint32_t b)
{
	return 0xff000000u | (r & 0xff) << 16 | (g & 0xff) << 8 | (b & 0xff);
}

/* 0..255..0: a gradient that wraps without a seam. */
static uint32_t tri(uint32_t v)
{
	/* Branch-free (255 - x == x ^ 255 for a byte) so the loop vectorizes. */
	return (v & 0xff) ^ ((0u - ((v >> 8) & 1)) & 0xff);
}

static uint32_t *row_of(const struct canvas *c, uint32_t y)
{
	return (uint32_t *)(void *)(c->pixels + (size_t)y * c->stride);
}

/* A rectangle, clipped to the canvas. */
static void fill(const struct canvas *c, int64_t x, int64_t y, int64_t rw,
                 int64_t rh, uint32_t color)
{
	int64_t x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
	int64_t x1 = x + rw > c->w ? c->w : x + rw;
	int64_t y1 = y + rh > c->h ? c->h : y + rh;

	for (int64_t yy = y0; yy < y1; yy++) {
		uint32_t *row = row_of(c, (uint32_t)yy);

		for (int64_t xx = x0; xx < x1; xx++)
			row[xx] = color;
	}
}

static void disc(const struct canvas *c, int64_t cx, int64_t cy, int64_t r,
                 uint32_t color)
{
	for (int64_t dy = -r; dy <= r; dy++) {
		int64_t y = cy + dy;

		if (y < 0 || y >= c->h)
			continue;
		for (int64_t dx = -r; dx <= r; dx++) {
			int64_t x = cx + dx;

			if (x >= 0 && x < c->w && dx * dx + dy * dy <= r * r)
				row_of(c, (uint32_t)y)[x] = color;
		}
	}
}

/* Position of something moving at speed pixels per frame between 0 and
 * range, turning back at both ends. */
static int64_t bounce(uint64_t frame, uint64_t speed, uint32_t range)
{
	uint64_t p;

	if (range == 0)
		return 0;
	p = (frame * speed) % (2 * (uint64_t)range);
	return (int64_t)(p < range ? p : 2 * (uint64_t)range - p);
}

/* Rows of 3 bits, top to bottom, most significant bit on the left. */
static const uint8_t font[10][5] = {
	{ 7, 5, 5, 5, 7 }, { 2, 6, 2, 2, 7 }, { 7, 1, 7, 4, 7 },
	{ 7, 1, 7, 1, 7 }, { 5, 5, 7, 1, 1 }, { 7, 4, 7, 1, 7 },
	{ 7, 4, 7, 5, 7 }, { 7, 1, 2, 2, 2 }, { 7, 5, 7, 5, 7 },
	{ 7, 5, 7, 1, 7 },
};

static void counter(const struct canvas *c, uint64_t frame)
{
	uint32_t small = c->w < c->h ? c->w : c->h;
	int64_t scale = small / 60 ? small / 60 : 1;
	char digits[24];
	int n = 0;

	do {
		digits[n++] = (char)(frame % 10);
		frame /= 10;
	} while (frame);
	/* A dark plate behind the digits keeps them readable. */
	fill(c, scale, scale, (4 * n + 1) * scale, 7 * scale, argb(16, 16, 24));
	for (int i = 0; i < n; i++) {
		const uint8_t *glyph = font[(int)digits[n - 1 - i]];
		int64_t gx = 2 * scale + 4 * i * scale;

		for (int gy = 0; gy < 5; gy++)
			for (int bit = 0; bit < 3; bit++)
				if (glyph[gy] & (4 >> bit))
					fill(c, gx + bit * scale, 2 * scale + gy * scale,
					     scale, scale, argb(255, 255, 255));
	}
}

void sf__demo_state_init(struct sf_demo_state *st, uint32_t w, uint32_t h)
{
	st->frame = 0;
	st->cx = (int32_t)(w / 2);
	st->cy = (int32_t)(h / 2);
	st->zoom = SF_DEMO_ZOOM_START;
}

void sf__demo_state_clamp(struct sf_demo_state *st, uint32_t w, uint32_t h)
{
	if (st->cx < 0)
		st->cx = 0;
	if (st->cx >= (int64_t)w)
		st->cx = (int32_t)w - 1;
	if (st->cy < 0)
		st->cy = 0;
	if (st->cy >= (int64_t)h)
		st->cy = (int32_t)h - 1;
	if (st->zoom < SF_DEMO_ZOOM_MIN)
		st->zoom = SF_DEMO_ZOOM_MIN;
	if (st->zoom > SF_DEMO_ZOOM_MAX)
		st->zoom = SF_DEMO_ZOOM_MAX;
}

uint32_t sf__demo_square_side(const struct sf_demo_state *st, uint32_t w,
                              uint32_t h)
{
	uint32_t side = (w < h ? w : h) * st->zoom / 32;

	return side ? side : 1;
}

void sf__demo_square_origin(const struct sf_demo_state *st, uint32_t w,
                            uint32_t h, int64_t *x, int64_t *y)
{
	uint32_t side = sf__demo_square_side(st, w, h);

	*x = (int64_t)st->cx - side / 2;
	*y = (int64_t)st->cy - side / 2;
}

/* A dark frame around a cyan face, so that it stands out on every part of
 * the scene. */
static void square(const struct canvas *c, const struct sf_demo_state *st)
{
	uint32_t side = sf__demo_square_side(st, c->w, c->h);
	uint32_t border = side / 8 ? side / 8 : 1;
	int64_t x, y;

	sf__demo_square_origin(st, c->w, c->h, &x, &y);
	fill(c, x, y, side, side, argb(16, 16, 16));
	if (side > 2 * border)
		fill(c, x + border, y + border, side - 2 * border,
		     side - 2 * border, argb(48, 224, 224));
}

void sf__demo_render_state(void *pixels, uint32_t stride, uint32_t w,
                           uint32_t h, const struct sf_demo_state *st)
{
	struct canvas c = { pixels, stride, w, h };
	uint64_t frame = st->frame;
	/* 16.16 fixed-point steps that take a gradient across the surface. */
	uint32_t sx = w ? (256u << 16) / w : 0;
	uint32_t sy = h ? (256u << 16) / h : 0;
	uint32_t t = (uint32_t)frame;
	uint32_t bw = w / 6 ? w / 6 : 1, bh = h / 6 ? h / 6 : 1;
	uint32_t small = w < h ? w : h;
	uint32_t r = small / 10 ? small / 10 : 1;
	static const uint32_t box_colors[3] = { 0xffe04040u, 0xff40c060u,
	                                        0xff4060e0u };
	static const uint32_t disc_colors[2] = { 0xfff0d020u, 0xffd040d0u };

	for (uint32_t y = 0; y < h; y++) {
		uint32_t *row = row_of(&c, y);
		uint32_t gy = (y * sy) >> 16;
		uint32_t g = tri(gy + 2 * t);
		uint32_t acc = 0;

		for (uint32_t x = 0; x < w; x++) {
			uint32_t gx = acc >> 16;

			row[x] = argb(tri(gx + 3 * t), g, tri(255 - ((gx + gy) >> 1) + t));
			acc += sx;
		}
	}
	for (unsigned i = 0; i < 3; i++)
		fill(&c, bounce(frame, 3 + i, w > bw ? w - bw : 0),
		     bounce(frame + 40 * i, 2 + 2 * i, h > bh ? h - bh : 0), bw, bh,
		     box_colors[i]);
	for (unsigned i = 0; i < 2; i++)
		disc(&c, r + bounce(frame + 17 * i, 5 - i, w > 2 * r ? w - 2 * r : 0),
		     r + bounce(frame + 29 * i, 4 + i, h > 2 * r ? h - 2 * r : 0), r,
		     disc_colors[i]);
	counter(&c, frame);
	square(&c, st);
}

void sf__demo_render(void *pixels, uint32_t stride, uint32_t w, uint32_t h,
                     uint64_t frame)
{
	struct sf_demo_state st;

	sf__demo_state_init(&st, w, h);
	st.frame = frame;
	sf__demo_render_state(pixels, stride, w, h, &st);
}
