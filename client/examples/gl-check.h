/*
 * gl-check: the --check mode of gl-renderer.  After each present, what
 * the server holds for the surface (shmframe_readback after a round trip)
 * must equal, byte for byte, a second glReadPixels of the same frame into
 * memory of our own; and outside the frame's damage box, the frame must
 * equal the one before (what the damage leaves out did not change).
 */
#ifndef GL_CHECK_H
#define GL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <shmframe.h>

struct gl_check {
	uint32_t width, height;
	uint8_t *server;     /* the readback */
	uint8_t *frame;      /* this frame, read again from OpenGL */
	uint8_t *previous;   /* the frame before */
	bool have_previous;
	unsigned long frames;  /* checked */
	unsigned long changed; /* frames that differ from the one before */
};

/* Returns 0, or -1 when the memory cannot be had. */
int gl_check_init(struct gl_check *c, uint32_t width, uint32_t height);

/* Checks the frame just presented with damage (n_damage 0: the whole
 * surface) while the framebuffer still holds it.  Returns 0, or -1 with
 * a sentence in err naming the first pixel that differs. */
int gl_check_frame(struct gl_check *c, struct shmframe_conn *conn,
                   struct shmframe_surface *surface,
                   const struct shmframe_rect *damage, unsigned n_damage,
                   char *err, size_t errlen);

void gl_check_fini(struct gl_check *c);

#endif
