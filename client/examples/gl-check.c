/*
 * gl-check: the frame the server holds is the frame OpenGL drew (see
 * gl-check.h).
 */
#include "gl-check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <GL/gl.h>

int gl_check_init(struct gl_check *c, uint32_t width, uint32_t height)
{
	size_t size = (size_t)width * height * 4;

	memset(c, 0, sizeof *c);
	c->width = width;
	c->height = height;
	c->server = malloc(size);
	c->frame = malloc(size);
	c->previous = malloc(size);
	return c->server && c->frame && c->previous ? 0 : -1;
}

static uint32_t pixel(const uint8_t *px, uint32_t width, uint32_t x, uint32_t y)
{
	const uint8_t *p = px + ((size_t)y * width + x) * 4;

	/* B, G, R, A in memory: 0xAARRGGBB. */
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The first pixel, in row order, where a and b differ, those inside skip
 * (when not NULL) aside; false when none does. */
static bool first_difference(const struct gl_check *c, const uint8_t *a,
                             const uint8_t *b, const struct shmframe_rect *skip,
                             uint32_t *fx, uint32_t *fy)
{
	size_t row = (size_t)c->width * 4;

	for (uint32_t y = 0; y < c->height; y++) {
		bool in_rows = skip && y >= skip->y && y - skip->y < skip->height;

		if (memcmp(a + y * row, b + y * row, row) == 0)
			continue;
		for (uint32_t x = 0; x < c->width; x++) {
			if (in_rows && x >= skip->x && x - skip->x < skip->width)
				continue;
			if (pixel(a, c->width, x, y) != pixel(b, c->width, x, y)) {
				*fx = x;
				*fy = y;
				return true;
			}
		}
	}
	return false;
}

int gl_check_frame(struct gl_check *c, struct shmframe_conn *conn,
                   struct shmframe_surface *surface,
                   const struct shmframe_rect *damage, unsigned n_damage,
                   char *err, size_t errlen)
{
	size_t size = (size_t)c->width * c->height * 4;
	unsigned long k = c->frames;
	uint32_t x, y;
	uint8_t *t;
	int r;

	r = shmframe_roundtrip(conn);
	if (r == 0)
		r = shmframe_readback(surface, 0, 0, c->width, c->height, c->server,
		                      c->width * 4);
	if (r < 0) {
		snprintf(err, errlen, "frame %lu: readback failed: %s", k,
		         shmframe_last_error(conn)[0] ? shmframe_last_error(conn)
		                                      : shmframe_strerror(r));
		return -1;
	}
	glPixelStorei(GL_PACK_ALIGNMENT, 4);
	glPixelStorei(GL_PACK_ROW_LENGTH, 0);
	glReadPixels(0, 0, (GLsizei)c->width, (GLsizei)c->height, GL_BGRA,
	             GL_UNSIGNED_BYTE, c->frame);
	if (glGetError() != GL_NO_ERROR) {
		snprintf(err, errlen, "frame %lu: glReadPixels failed", k);
		return -1;
	}
	if (first_difference(c, c->server, c->frame, NULL, &x, &y)) {
		snprintf(err, errlen, "frame %lu: pixel (%u,%u) of the server's "
		         "surface is 0x%08x, glReadPixels has 0x%08x", k, x, y,
		         pixel(c->server, c->width, x, y),
		         pixel(c->frame, c->width, x, y));
		return -1;
	}
	if (c->have_previous && n_damage > 0 &&
	    first_difference(c, c->frame, c->previous, damage, &x, &y)) {
		snprintf(err, errlen, "frame %lu: pixel (%u,%u) outside the damage "
		         "(%u,%u %ux%u) changed: 0x%08x, the frame before 0x%08x",
		         k, x, y, damage->x, damage->y, damage->width, damage->height,
		         pixel(c->frame, c->width, x, y),
		         pixel(c->previous, c->width, x, y));
		return -1;
	}
	if (c->have_previous && memcmp(c->frame, c->previous, size) != 0)
		c->changed++;
	t = c->previous;
	c->previous = c->frame;
	c->frame = t;
	c->have_previous = true;
	c->frames++;
	return 0;
}

void gl_check_fini(struct gl_check *c)
{
	free(c->server);
	free(c->frame);
	free(c->previous);
	memset(c, 0, sizeof *c);
}
