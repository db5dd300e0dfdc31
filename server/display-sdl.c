/*
 * The SDL2 display: one resizable window per surface, titled
 * "CLIENT: TITLE".  The frame is drawn 1:1 at the top-left when the window
 * has its size, and scaled to fit with its aspect kept otherwise.
 *
 * Frames are uploaded at the display's rate, not as they arrive: each
 * tick, a window whose surface changed uploads the union of the damage
 * since the last upload into a streaming texture, straight from the
 * surface's content (the client's shm buffer or the socket-filled memory),
 * renders and presents; only then is the frame reported shown.  Frames
 * replaced before a tick are never uploaded (surface.c reports them
 * discarded).
 *
 * SDL is pumped from the server's epoll loop: while a window exists the
 * loop sleeps at most until the next tick.  SDL's own signal handlers are
 * off: the server takes SIGINT/SIGTERM through its signalfd.
 */
#include <SDL.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"
#include "server-private.h"

#define DEFAULT_HZ 60

struct sdl_window {
	struct sf_list link;
	struct sf_surface *surface;
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	Uint32 win_id;
	bool dirty;     /* new content to upload and show */
	bool redraw;    /* exposed or resized: draw again */
	bool uploaded;  /* the texture holds a frame */
	/* Union of the damage since the last upload. */
	uint32_t x0, y0, x1, y1;
};

struct sdl_display {
	struct sf_display base;
	struct sf_list windows;
	uint64_t period_ns;
	uint64_t next_tick;
};

static struct sdl_display *to_sdl(struct sf_display *d)
{
	return (struct sdl_display *)d;
}

static struct sdl_window *find_window(struct sdl_display *d, Uint32 id)
{
	struct sdl_window *w;

	list_for_each_safe(w, tmp, &d->windows, struct sdl_window, link)
		if (w->win_id == id)
			return w;
	return NULL;
}

static void free_window(struct sdl_window *w)
{
	if (w->tex)
		SDL_DestroyTexture(w->tex);
	if (w->ren)
		SDL_DestroyRenderer(w->ren);
	if (w->win)
		SDL_DestroyWindow(w->win);
	list_remove(&w->link);
	w->surface->window = NULL;
	free(w);
}

/* The window starts at the surface's size, made smaller (aspect kept) when
 * the screen cannot hold it. */
static void initial_size(const struct sf_surface *s, int *w, int *h)
{
	SDL_Rect usable;
	double scale = 1.0;

	*w = (int)s->width;
	*h = (int)s->height;
	if (SDL_GetDisplayUsableBounds(0, &usable) == 0 && usable.w > 0 &&
	    usable.h > 0) {
		double sx = (double)usable.w / s->width;
		double sy = (double)usable.h / s->height;

		scale = sx < sy ? sx : sy;
	}
	if (scale < 1.0) {
		*w = (int)(s->width * scale);
		*h = (int)(s->height * scale);
		if (*w < 1)
			*w = 1;
		if (*h < 1)
			*h = 1;
	}
}

static int sdl_window_create(struct sf_display *base, struct sf_surface *s)
{
	struct sdl_display *d = to_sdl(base);
	struct sdl_window *w = calloc(1, sizeof *w);
	char title[2 * SF_MAX_NAME + 3];
	Uint32 fmt = s->format == SF_FORMAT_ARGB8888 ? SDL_PIXELFORMAT_ARGB8888
	                                              : SDL_PIXELFORMAT_RGB888;
	int ww, wh;

	if (!w)
		return -ENOMEM;
	list_init(&w->link);
	w->surface = s;
	if (s->title[0])
		snprintf(title, sizeof title, "%s: %s", s->client->name, s->title);
	else
		snprintf(title, sizeof title, "%s", s->client->name);
	initial_size(s, &ww, &wh);
	w->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED,
	                          SDL_WINDOWPOS_UNDEFINED, ww, wh,
	                          SDL_WINDOW_RESIZABLE | SDL_WINDOW_SHOWN);
	if (!w->win) {
		sf__log("cannot open a window for surface %u: %s", s->id,
		        SDL_GetError());
		free(w);
		return -ENODEV;
	}
	w->win_id = SDL_GetWindowID(w->win);
	w->ren = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_ACCELERATED);
	if (!w->ren) /* no GPU (Xvfb): draw in software */
		w->ren = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_SOFTWARE);
	if (!w->ren) {
		sf__log("cannot render to the window of surface %u: %s", s->id,
		        SDL_GetError());
		SDL_DestroyWindow(w->win);
		free(w);
		return -ENODEV;
	}
	w->tex = SDL_CreateTexture(w->ren, fmt, SDL_TEXTUREACCESS_STREAMING,
	                           (int)s->width, (int)s->height);
	if (w->tex)
		SDL_SetTextureBlendMode(w->tex, SDL_BLENDMODE_NONE);
	else
		sf__log("surface %u (%ux%u) cannot be shown: %s", s->id, s->width,
		        s->height, SDL_GetError());
	w->redraw = true;
	list_append(&d->windows, &w->link);
	s->window = w;
	return 0;
}

static void sdl_window_destroy(struct sf_display *base, struct sf_surface *s)
{
	(void)base;
	if (s->window)
		free_window(s->window);
}

static void sdl_frame_ready(struct sf_display *base, struct sf_surface *s,
                            const struct sf_rect *damage, uint32_t n)
{
	struct sdl_window *w = s->window;

	(void)base;
	if (!w || !w->tex) {
		/* No window (closed, or none could be made): headless. */
		sf__surface_shown(s, sf__now_ns());
		return;
	}
	if (n == 0 || !w->uploaded) {
		/* The texture starts undefined: the first upload is whole. */
		w->x0 = w->y0 = 0;
		w->x1 = s->width;
		w->y1 = s->height;
	} else {
		if (!w->dirty) {
			w->x0 = w->y0 = UINT32_MAX;
			w->x1 = w->y1 = 0;
		}
		for (uint32_t i = 0; i < n; i++) {
			const struct sf_rect *r = &damage[i];

			if (r->x < w->x0)
				w->x0 = r->x;
			if (r->y < w->y0)
				w->y0 = r->y;
			if (r->x + r->width > w->x1)
				w->x1 = r->x + r->width;
			if (r->y + r->height > w->y1)
				w->y1 = r->y + r->height;
		}
	}
	w->dirty = true;
}

static int sdl_timeout_ms(struct sf_display *base)
{
	struct sdl_display *d = to_sdl(base);
	uint64_t now = sf__now_ns();

	if (list_empty(&d->windows))
		return -1;
	if (now >= d->next_tick)
		return 0;
	return (int)((d->next_tick - now + 999999) / 1000000);
}

static void upload(struct sdl_window *w)
{
	const struct sf_surface *s = w->surface;
	uint32_t stride;
	const uint8_t *px = sf__surface_pixels(s, &stride);
	SDL_Rect r = {
		(int)w->x0, (int)w->y0, (int)(w->x1 - w->x0), (int)(w->y1 - w->y0),
	};
	int pitch;

	if (!px || r.w <= 0 || r.h <= 0)
		return;
	/* A single-row buffer may carry any stride; SDL's pitch is an int. */
	pitch = stride > INT_MAX ? (int)(s->width * SF_BYTES_PER_PIXEL)
	                         : (int)stride;
	px += (size_t)w->y0 * stride + (size_t)w->x0 * SF_BYTES_PER_PIXEL;
	if (SDL_UpdateTexture(w->tex, &r, px, pitch) == 0)
		w->uploaded = true;
}

static void render(struct sdl_window *w)
{
	const struct sf_surface *s = w->surface;
	int ow = 0, oh = 0;

	if (w->dirty && w->tex)
		upload(w);
	SDL_SetRenderDrawColor(w->ren, 0, 0, 0, 255);
	SDL_RenderClear(w->ren);
	if (w->tex && w->uploaded) {
		SDL_Rect dst = { 0, 0, (int)s->width, (int)s->height };

		SDL_GetRendererOutputSize(w->ren, &ow, &oh);
		if (ow != dst.w || oh != dst.h) {
			double sx = (double)ow / s->width, sy = (double)oh / s->height;
			double scale = sx < sy ? sx : sy;

			dst.w = (int)(s->width * scale + 0.5);
			dst.h = (int)(s->height * scale + 0.5);
			dst.x = (ow - dst.w) / 2;
			dst.y = (oh - dst.h) / 2;
		}
		SDL_RenderCopy(w->ren, w->tex, NULL, &dst);
	}
	SDL_RenderPresent(w->ren);
	w->redraw = false;
}

/* The user closed the window: the surface lives on, headless. */
static void close_window(struct sdl_window *w)
{
	struct sf_surface *s = w->surface;

	free_window(w);
	sf__surface_window_closed(s);
}

static void handle_event(struct sdl_display *d, const SDL_Event *ev)
{
	struct sdl_window *w;

	switch (ev->type) {
	case SDL_WINDOWEVENT:
		w = find_window(d, ev->window.windowID);
		if (!w)
			return;
		switch (ev->window.event) {
		case SDL_WINDOWEVENT_CLOSE:
			close_window(w);
			break;
		case SDL_WINDOWEVENT_EXPOSED:
		case SDL_WINDOWEVENT_RESIZED:
		case SDL_WINDOWEVENT_SIZE_CHANGED:
			w->redraw = true;
			break;
		}
		break;
	case SDL_KEYDOWN:
		if (ev->key.keysym.sym != SDLK_ESCAPE && ev->key.keysym.sym != SDLK_q)
			return;
		w = find_window(d, ev->key.windowID);
		if (w)
			close_window(w);
		break;
	default:
		/* SDL_QUIT follows the last window's close: the server goes on. */
		break;
	}
}

static void sdl_pump(struct sf_display *base)
{
	struct sdl_display *d = to_sdl(base);
	struct sdl_window *w;
	SDL_Event ev;
	uint64_t now;

	while (SDL_PollEvent(&ev))
		handle_event(d, &ev);
	now = sf__now_ns();
	if (now < d->next_tick)
		return;
	/* Keep the phase when on time; start over after a long stall. */
	d->next_tick += d->period_ns;
	if (d->next_tick <= now)
		d->next_tick = now + d->period_ns;
	list_for_each_safe(w, tmp, &d->windows, struct sdl_window, link) {
		bool shown = w->dirty;

		if (!w->dirty && !w->redraw)
			continue;
		render(w);
		w->dirty = false;
		if (shown)
			sf__surface_shown(w->surface, sf__now_ns());
	}
}

static void sdl_destroy(struct sf_display *base)
{
	struct sdl_display *d = to_sdl(base);
	struct sdl_window *w;

	list_for_each_safe(w, tmp, &d->windows, struct sdl_window, link)
		free_window(w);
	SDL_Quit();
	free(d);
}

static const struct sf_display_ops sdl_ops = {
	.name = "sdl",
	.window_create = sdl_window_create,
	.window_destroy = sdl_window_destroy,
	.frame_ready = sdl_frame_ready,
	.timeout_ms = sdl_timeout_ms,
	.pump = sdl_pump,
	.destroy = sdl_destroy,
};

int sf__display_sdl_create(struct sf_display **out, char *why, size_t why_len)
{
	struct sdl_display *d;
	SDL_DisplayMode mode;
	const char *forced, *driver;
	int hz = DEFAULT_HZ;

	SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
	SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
	SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
	forced = getenv("SDL_VIDEODRIVER");
#ifdef SDL_HINT_VIDEODRIVER
	/* With only X11 to be had, do not let SDL try Wayland first (and its
	 * library complain on stderr). */
	if (!forced && !getenv("WAYLAND_DISPLAY") && getenv("DISPLAY"))
		SDL_SetHint(SDL_HINT_VIDEODRIVER, "x11");
#endif
	if (SDL_Init(SDL_INIT_VIDEO) < 0) {
		snprintf(why, why_len, "SDL_Init: %s", SDL_GetError());
		return -ENODEV;
	}
	/* SDL falls back to drivers that show nothing when no window system
	 * answers; windows nobody can see are not what --display sdl means,
	 * unless SDL_VIDEODRIVER asks for exactly that. */
	driver = SDL_GetCurrentVideoDriver();
	if (!forced && driver && (strcmp(driver, "offscreen") == 0 ||
	                          strcmp(driver, "dummy") == 0)) {
		snprintf(why, why_len, "no window system answers (SDL found only "
		         "its %s driver; is DISPLAY or WAYLAND_DISPLAY right?)",
		         driver);
		SDL_Quit();
		return -ENODEV;
	}
	d = calloc(1, sizeof *d);
	if (!d) {
		SDL_Quit();
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	d->base.ops = &sdl_ops;
	list_init(&d->windows);
	if (SDL_GetCurrentDisplayMode(0, &mode) == 0 && mode.refresh_rate > 0)
		hz = mode.refresh_rate;
	d->period_ns = 1000000000ull / (uint64_t)hz;
	d->next_tick = sf__now_ns();
	*out = &d->base;
	return 0;
}
