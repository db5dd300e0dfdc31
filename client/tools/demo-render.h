/*
 * The scene of shmframe-demo, as a pure function: its pixels depend only
 * on the state below and the size, never on time or on earlier frames,
 * so a test can render the state the demo reports and compare it with
 * what the server holds.
 */
#ifndef SHMFRAME_DEMO_RENDER_H
#define SHMFRAME_DEMO_RENDER_H

#include <stdint.h>

/* What one frame shows.  frame is the animation's step (the drifting
 * gradients, the bouncing boxes and discs, the counter); the square on
 * top is the one a person moves: centred on (cx, cy), of side
 * sf__demo_square_side(). */
struct sf_demo_state {
	uint64_t frame;
	int32_t cx, cy;
	uint32_t zoom;
};

/* The arrows move the square by this many pixels a press. */
#define SF_DEMO_STEP 8
/* The wheel changes zoom by one a notch, within these bounds; the
 * square's side is min(w, h) * zoom / 32 (at least 1). */
#define SF_DEMO_ZOOM_MIN 1u
#define SF_DEMO_ZOOM_MAX 16u
#define SF_DEMO_ZOOM_START 4u

/* The state of frame 0 at w x h: the square in the middle at the
 * starting zoom. */
void sf__demo_state_init(struct sf_demo_state *st, uint32_t w, uint32_t h);

/* Brings the square's centre back inside w x h (after a move or a
 * resize) and zoom within its bounds. */
void sf__demo_state_clamp(struct sf_demo_state *st, uint32_t w, uint32_t h);

uint32_t sf__demo_square_side(const struct sf_demo_state *st, uint32_t w,
                              uint32_t h);

/* The square's top-left corner (it may lie partly outside the surface). */
void sf__demo_square_origin(const struct sf_demo_state *st, uint32_t w,
                            uint32_t h, int64_t *x, int64_t *y);

/* Draws st into pixels: h rows of stride bytes, each w pixels of B, G, R,
 * A bytes (A is always 255).  stride >= w*4 and a multiple of 4; the
 * bytes after each row's w pixels are left alone. */
void sf__demo_render_state(void *pixels, uint32_t stride, uint32_t w,
                           uint32_t h, const struct sf_demo_state *st);

/* Frame `frame` of the animation with the square where it starts. */
void sf__demo_render(void *pixels, uint32_t stride, uint32_t w, uint32_t h,
                     uint64_t frame);

#endif
