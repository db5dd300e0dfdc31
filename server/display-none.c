/*
 * The headless display: a surface's content is its framebuffer, so a frame
 * is "shown" the moment it is complete.  Snapshots (--dump-dir) are how
 * anyone sees it.
 */
#include <errno.h>
#include <stdlib.h>

#include "display.h"
#include "server-private.h"

static int none_window_create(struct sf_display *d, struct sf_surface *s)
{
	(void)d;
	(void)s;
	return 0;
}

static void none_window_destroy(struct sf_display *d, struct sf_surface *s)
{
	(void)d;
	(void)s;
}

static void none_frame_ready(struct sf_display *d, struct sf_surface *s,
                             const struct sf_rect *damage, uint32_t n)
{
	(void)d;
	(void)damage;
	(void)n;
	sfs__surface_shown(s, sfs__now_ns());
}

static int none_timeout_ms(struct sf_display *d)
{
	(void)d;
	return -1;
}

static void none_pump(struct sf_display *d)
{
	(void)d;
}

static void none_destroy(struct sf_display *d)
{
	free(d);
}

static const struct sf_display_ops none_ops = {
	.name = "none",
	.window_create = none_window_create,
	.window_destroy = none_window_destroy,
	.frame_ready = none_frame_ready,
	.timeout_ms = none_timeout_ms,
	.pump = none_pump,
	.destroy = none_destroy,
};

int sfs__display_none_create(struct sf_display **out)
{
	struct sf_display *d = calloc(1, sizeof *d);

	if (!d)
		return -ENOMEM;
	d->ops = &none_ops;
	*out = d;
	return 0;
}
