/*
 * gl-egl: an OpenGL context and framebuffer with no window (see gl-egl.h).
 */
#include "gl-egl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <EGL/eglext.h>

static void say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Whether the space-separated list has the word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	while (list && *list) {
		const char *end = strchr(list, ' ');
		size_t len = end ? (size_t)(end - list) : strlen(list);

		if (len == n && memcmp(list, word, n) == 0)
			return true;
		list = end ? end + 1 : NULL;
	}
	return false;
}

static const char *egl_error_name(EGLint e)
{
	switch (e) {
	case EGL_SUCCESS: return "EGL_SUCCESS";
	case EGL_NOT_INITIALIZED: return "EGL_NOT_INITIALIZED";
	case EGL_BAD_ALLOC: return "EGL_BAD_ALLOC";
	case EGL_BAD_ATTRIBUTE: return "EGL_BAD_ATTRIBUTE";
	case EGL_BAD_CONFIG: return "EGL_BAD_CONFIG";
	case EGL_BAD_CONTEXT: return "EGL_BAD_CONTEXT";
	case EGL_BAD_DISPLAY: return "EGL_BAD_DISPLAY";
	case EGL_BAD_MATCH: return "EGL_BAD_MATCH";
	case EGL_BAD_PARAMETER: return "EGL_BAD_PARAMETER";
	default: return "an EGL error";
	}
}

/* Mesa's surfaceless platform when the client extensions offer it (no
 * X, Wayland or GPU device needed), else the default display. */
static const char *open_display(struct gl_egl *g)
{
	const char *client = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
	EGLint major, minor;

	if (has_word(client, "EGL_MESA_platform_surfaceless")) {
		g->display = eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA,
		                                   EGL_DEFAULT_DISPLAY, NULL);
		if (g->display != EGL_NO_DISPLAY &&
		    eglInitialize(g->display, &major, &minor))
			return "surfaceless";
		g->display = EGL_NO_DISPLAY;
	}
	g->display = eglGetDisplay(EGL_DEFAULT_DISPLAY);
	if (g->display != EGL_NO_DISPLAY &&
	    eglInitialize(g->display, &major, &minor))
		return "default display";
	g->display = EGL_NO_DISPLAY;
	return NULL;
}

/* A context of the bound API made current without a surface; false (and
 * nothing left made) when the config or the context cannot be had. */
static bool make_context(struct gl_egl *g, EGLint renderable,
                         const EGLint *ctx_attribs, char *err, size_t errlen)
{
	const EGLint config_attribs[] = {
		EGL_RENDERABLE_TYPE, renderable,
		EGL_SURFACE_TYPE, 0, /* no surface: any config */
		EGL_NONE,
	};
	EGLConfig config;
	EGLint n = 0;

	if (!eglChooseConfig(g->display, config_attribs, &config, 1, &n) || n < 1) {
		say(err, errlen, "no EGL config renders this API (%s)",
		    egl_error_name(eglGetError()));
		return false;
	}
	g->context = eglCreateContext(g->display, config, EGL_NO_CONTEXT, ctx_attribs);
	if (g->context == EGL_NO_CONTEXT) {
		say(err, errlen, "eglCreateContext failed (%s)",
		    egl_error_name(eglGetError()));
		return false;
	}
	if (!eglMakeCurrent(g->display, EGL_NO_SURFACE, EGL_NO_SURFACE, g->context)) {
		say(err, errlen, "eglMakeCurrent failed (%s)",
		    egl_error_name(eglGetError()));
		eglDestroyContext(g->display, g->context);
		g->context = EGL_NO_CONTEXT;
		return false;
	}
	return true;
}

static void drop_context(struct gl_egl *g)
{
	eglMakeCurrent(g->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	eglDestroyContext(g->display, g->context);
	g->context = EGL_NO_CONTEXT;
}

/* Desktop OpenGL 2.1 or later with framebuffer objects (core since 3.0,
 * else GL_ARB_framebuffer_object): everything the scene and the
 * readback use. */
static bool desktop_context(struct gl_egl *g, char *err, size_t errlen)
{
	int major = 0, minor = 0;
	const char *version;

	if (!eglBindAPI(EGL_OPENGL_API)) {
		say(err, errlen, "EGL offers no desktop OpenGL");
		return false;
	}
	if (!make_context(g, EGL_OPENGL_BIT, (const EGLint[]){ EGL_NONE }, err, errlen))
		return false;
	version = (const char *)glGetString(GL_VERSION);
	if (!version || sscanf(version, "%d.%d", &major, &minor) != 2 ||
	    major * 10 + minor < 21 ||
	    (major < 3 && !has_word((const char *)glGetString(GL_EXTENSIONS),
	                            "GL_ARB_framebuffer_object"))) {
		say(err, errlen, "OpenGL %s lacks 2.1 with framebuffer objects",
		    version ? version : "(no version)");
		drop_context(g);
		return false;
	}
	g->gles = false;
	return true;
}

/* OpenGL ES 3 (renderbuffers of RGBA8, GL_PACK_ROW_LENGTH) that reads
 * pixels as BGRA (GL_EXT_read_format_bgra). */
static bool gles_context(struct gl_egl *g, char *err, size_t errlen)
{
	if (!eglBindAPI(EGL_OPENGL_ES_API)) {
		say(err, errlen, "EGL offers no OpenGL ES");
		return false;
	}
	if (!make_context(g, EGL_OPENGL_ES3_BIT,
	                  (const EGLint[]){ EGL_CONTEXT_MAJOR_VERSION, 3, EGL_NONE },
	                  err, errlen))
		return false;
	if (!has_word((const char *)glGetString(GL_EXTENSIONS),
	              "GL_EXT_read_format_bgra")) {
		say(err, errlen, "OpenGL ES lacks GL_EXT_read_format_bgra");
		drop_context(g);
		return false;
	}
	g->gles = true;
	return true;
}

static enum gl_egl_status make_fbo(struct gl_egl *g, int width, int height,
                                   char *err, size_t errlen)
{
	GLint max = 0;
	GLenum status;

	glGetIntegerv(GL_MAX_RENDERBUFFER_SIZE, &max);
	if (width > max || height > max) {
		say(err, errlen, "%dx%d is larger than the renderbuffers of "
		    "this OpenGL (%d)", width, height, (int)max);
		return GL_EGL_NO_FBO;
	}
	glGenFramebuffers(1, &g->fbo);
	glGenRenderbuffers(1, &g->color);
	glGenRenderbuffers(1, &g->depth);
	glBindRenderbuffer(GL_RENDERBUFFER, g->color);
	glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, width, height);
	glBindRenderbuffer(GL_RENDERBUFFER, g->depth);
	glRenderbufferStorage(GL_RENDERBUFFER, GL_DEPTH_COMPONENT24, width, height);
	glBindFramebuffer(GL_FRAMEBUFFER, g->fbo);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
	                          GL_RENDERBUFFER, g->color);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT,
	                          GL_RENDERBUFFER, g->depth);
	status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
	if (status != GL_FRAMEBUFFER_COMPLETE) {
		say(err, errlen, "the %dx%d framebuffer is incomplete (status 0x%x, "
		    "GL error 0x%x)", width, height, status, glGetError());
		return GL_EGL_NO_FBO;
	}
	return GL_EGL_OK;
}

enum gl_egl_status gl_egl_open(struct gl_egl *g, enum gl_egl_api api,
                               int width, int height, char *err, size_t errlen)
{
	const char *platform;
	char why[160] = "";
	bool ok = false;

	memset(g, 0, sizeof *g);
	g->display = EGL_NO_DISPLAY;
	g->context = EGL_NO_CONTEXT;
	platform = open_display(g);
	if (!platform) {
		say(err, errlen, "no EGL display (surfaceless or default): %s",
		    egl_error_name(eglGetError()));
		return GL_EGL_NO_CONTEXT;
	}
	if (!has_word(eglQueryString(g->display, EGL_EXTENSIONS),
	              "EGL_KHR_surfaceless_context")) {
		say(err, errlen, "the EGL display (%s) lacks EGL_KHR_surfaceless_context",
		    platform);
		return GL_EGL_NO_CONTEXT;
	}
	if (api != GL_EGL_GLES)
		ok = desktop_context(g, why, sizeof why);
	if (!ok && api != GL_EGL_DESKTOP) {
		if (why[0])
			say(err, errlen, "desktop OpenGL: %s; ", why);
		ok = gles_context(g, why, sizeof why);
	}
	if (!ok) {
		size_t used = api == GL_EGL_ANY ? strlen(err) : 0;

		say(err + used, errlen - used, "%s: %s",
		    api == GL_EGL_DESKTOP ? "desktop OpenGL" : "OpenGL ES", why);
		return GL_EGL_NO_CONTEXT;
	}
	snprintf(g->what, sizeof g->what, "EGL %s %s, %s (%s)",
	         eglQueryString(g->display, EGL_VERSION), platform,
	         (const char *)glGetString(GL_VERSION),
	         (const char *)glGetString(GL_RENDERER));
	return make_fbo(g, width, height, err, errlen);
}

void gl_egl_close(struct gl_egl *g)
{
	if (g->context != EGL_NO_CONTEXT) {
		if (g->fbo)
			glDeleteFramebuffers(1, &g->fbo);
		if (g->color)
			glDeleteRenderbuffers(1, &g->color);
		if (g->depth)
			glDeleteRenderbuffers(1, &g->depth);
		drop_context(g);
	}
	if (g->display != EGL_NO_DISPLAY)
		eglTerminate(g->display);
	g->display = EGL_NO_DISPLAY;
	eglReleaseThread();
}
