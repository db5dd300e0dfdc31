/*
 * The image sf-event-log presents: a pure function of the pixel and the
 * surface's size, so that a test can compute what a readback or a grab
 * of the window must show at any size without asking the client.
 *
 * Red grows left to right and green top to bottom across the whole
 * surface (so a scaled or cropped image differs from the 1:1 one), blue
 * is a checkerboard of 8x8 squares (so a shift by a pixel shows), and
 * the outermost row and column on each side are white (so the edges of
 * the image are plain in a grab).  XRGB8888 with the X byte 0xff.
 */
#ifndef SHMFRAME_TEST_EVENT_PATTERN_H
#define SHMFRAME_TEST_EVENT_PATTERN_H

#include <stdint.h>

static inline uint32_t sf_event_log_pixel(uint32_t x, uint32_t y,
                                          uint32_t width, uint32_t height)
{
	uint32_t r, g, b;

	if (x == 0 || y == 0 || x + 1 == width || y + 1 == height)
		return 0xffffffffu;
	r = (uint32_t)((uint64_t)x * 256 / width);
	g = (uint32_t)((uint64_t)y * 256 / height);
	b = ((x / 8 + y / 8) & 1) ? 0xc0 : 0x30;
	return 0xff000000u | r << 16 | g << 8 | b;
}

#endif
