/*
 * gl-egl: an OpenGL context with no window.  EGL on Mesa's surfaceless
 * platform (else the default display), a desktop OpenGL context (2.1 or
 * later with framebuffer objects) or else OpenGL ES 3, made current with
 * no surface, and a framebuffer object of the requested size with a
 * colour renderbuffer (RGBA8) and a depth renderbuffer bound for drawing
 * and reading.
 */
#ifndef GL_EGL_H
#define GL_EGL_H

#include <stdbool.h>
#include <stddef.h>

#include <EGL/egl.h>
#include <GL/gl.h>

/* Which OpenGL to ask for. */
enum gl_egl_api {
	GL_EGL_ANY = 0,   /* desktop OpenGL, else OpenGL ES 3 */
	GL_EGL_DESKTOP,
	GL_EGL_GLES,
};

/* What gl_egl_open() returns. */
enum gl_egl_status {
	GL_EGL_OK = 0,
	GL_EGL_NO_CONTEXT = 1, /* no display or no usable context */
	GL_EGL_NO_FBO = 2,     /* a context, but not the framebuffer asked for */
};

struct gl_egl {
	EGLDisplay display;
	EGLContext context;
	bool gles;             /* OpenGL ES rather than desktop OpenGL */
	GLuint fbo, color, depth;
	char what[160];        /* e.g. "EGL 1.5 surfaceless, OpenGL 4.5 (llvmpipe ...)" */
};

/* Makes the context (of api) and the framebuffer of width x height and
 * leaves them current.  Returns GL_EGL_OK, or another status with a
 * sentence in err saying what could not be had; gl_egl_close() undoes
 * whatever was made either way. */
enum gl_egl_status gl_egl_open(struct gl_egl *g, enum gl_egl_api api,
                               int width, int height, char *err, size_t errlen);

void gl_egl_close(struct gl_egl *g);

#endif
