/*
 * Where surfaces are shown.  Two backends sit behind these few calls:
 * headless (display-none.c) and SDL2 (display-sdl.c, the only file of the
 * server that knows SDL exists).
 *
 * The backend reads pixels with sfs__surface_pixels() and reports back with
 * sfs__surface_shown() (the frame reached the screen, or the headless
 * framebuffer), sfs__surface_window_closed() (the user closed the window)
 * and the sfs__input_*() calls of events.c (what the person did in the
 * window, in surface pixels, and the window's new size).
 */
#ifndef SHMFRAME_DISPLAY_H
#define SHMFRAME_DISPLAY_H

#include <stdint.h>

#include "wire.h"

struct sf_surface;
struct sf_display;

struct sf_display_ops {
	const char *name;
	/* Gives the surface a window (or nothing, headless).  0 or -errno; on
	 * failure the surface simply stays headless. */
	int (*window_create)(struct sf_display *d, struct sf_surface *s);
	/* Forgets the surface; no callback for it happens afterwards. */
	void (*window_destroy)(struct sf_display *d, struct sf_surface *s);
	/* The surface's content changed (damage: n rectangles, or the whole
	 * surface when n == 0).  The backend calls sfs__surface_shown() when
	 * it reaches the screen, possibly from within this call. */
	void (*frame_ready)(struct sf_display *d, struct sf_surface *s,
	                    const struct sf_rect *damage, uint32_t n);
	/* The surface has a new size (RESIZE_SURFACE); its content is zeros
	 * of that size until its next frame_ready.  The backend may keep
	 * showing the last frame until then.  May be NULL. */
	void (*surface_resized)(struct sf_display *d, struct sf_surface *s);
	/* How long the event loop may sleep before pump() is due: -1 forever. */
	int (*timeout_ms)(struct sf_display *d);
	/* Handles window-system events and draws what is due. */
	void (*pump)(struct sf_display *d);
	void (*destroy)(struct sf_display *d);
};

/* Every backend's state starts with this. */
struct sf_display {
	const struct sf_display_ops *ops;
};

enum sf_display_kind {
	SF_DISPLAY_AUTO,
	SF_DISPLAY_SDL,
	SF_DISPLAY_NONE,
};

/* Headless: frames are shown the moment they are complete. */
int sfs__display_none_create(struct sf_display **out);

/* SDL2 windows.  -ENODEV when no video display can be opened (why says
 * which), -ENOTSUP when the server was built without SDL. */
int sfs__display_sdl_create(struct sf_display **out, char *why, size_t why_len);

static inline int sfs__display_window_create(struct sf_display *d,
                                            struct sf_surface *s)
{
	return d->ops->window_create(d, s);
}

static inline void sfs__display_window_destroy(struct sf_display *d,
                                              struct sf_surface *s)
{
	d->ops->window_destroy(d, s);
}

static inline void sfs__display_frame_ready(struct sf_display *d,
                                           struct sf_surface *s,
                                           const struct sf_rect *damage,
                                           uint32_t n)
{
	d->ops->frame_ready(d, s, damage, n);
}

static inline void sfs__display_surface_resized(struct sf_display *d,
                                                struct sf_surface *s)
{
	if (d->ops->surface_resized)
		d->ops->surface_resized(d, s);
}

static inline int sfs__display_timeout_ms(struct sf_display *d)
{
	return d->ops->timeout_ms(d);
}

static inline void sfs__display_pump(struct sf_display *d)
{
	d->ops->pump(d);
}

static inline void sfs__display_destroy(struct sf_display *d)
{
	if (d)
		d->ops->destroy(d);
}

#endif
