/*
 * gl-scene: a lit torus that turns and circles in front of a constant
 * background.  Frame k is a function of k alone (the angle comes from the
 * frame number, not the clock), so a frame drawn twice is the same frame.
 * The projection is flipped vertically: OpenGL's row 0 is the bottom of
 * the picture, so glReadPixels' bottom-up rows come out top-down, as a
 * shmframe surface has them, and window coordinates are surface
 * coordinates.  Each frame redraws only where the object was in the frame
 * before and where it is now, the rest of the framebuffer already being
 * the background.
 */
#ifndef GL_SCENE_H
#define GL_SCENE_H

#include <stdbool.h>
#include <stddef.h>

#include <GL/gl.h>

/* A rectangle of pixels, x0 <= x < x1, y0 <= y < y1, y downwards. */
struct gl_box {
	int x0, y0, x1, y1;
};

struct gl_scene {
	int width, height;
	GLuint program, vbo, ibo;
	GLsizei n_indices;
	float *positions;      /* the vertices (x, y, z), for the damage box */
	size_t n_vertices;
	GLint u_mvp, u_mv, u_normal;
	bool drawn;            /* a frame is in the framebuffer ... */
	struct gl_box last;    /* ... with its object there */
};

/* Builds the shaders (GLSL 1.20 or GLSL ES 1.00) and the mesh for a
 * width x height framebuffer that is bound.  Returns 0, or -1 with a
 * sentence in err. */
int gl_scene_init(struct gl_scene *s, bool gles, int width, int height,
                  char *err, size_t errlen);

/* Draws frame into the bound framebuffer and stores in *box the pixels
 * the object may cover (everything else is the background).  Only the
 * pixels that can differ from the frame drawn before (its box and this
 * one) are drawn: the framebuffer must still hold that frame. */
void gl_scene_draw(struct gl_scene *s, unsigned long frame, struct gl_box *box);

void gl_scene_fini(struct gl_scene *s);

#endif
