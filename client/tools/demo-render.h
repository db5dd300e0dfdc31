/*
 * The scene of shmframe-demo, as a pure function: frame k's pixels depend
 * only on k and the size, never on time or on earlier frames, so a test
 * can render frame k itself and compare it with what the server holds.
 */
#ifndef SHMFRAME_DEMO_RENDER_H
#define SHMFRAME_DEMO_RENDER_H

#include <stdint.h>

/* Draws frame `frame` into pixels: h rows of stride bytes, each w pixels of
 * B, G, R, A bytes (A is always 255).  stride >= w*4 and a multiple of 4;
 * the bytes after each row's w pixels are left alone. */
void sf__demo_render(void *pixels, uint32_t stride, uint32_t w, uint32_t h,
                     uint64_t frame);

#endif
