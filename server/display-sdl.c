/*
 * The SDL2 display: one resizable window per surface, titled
 * "CLIENT: TITLE".  The frame is drawn 1:1 at the top-left when the window
 * has its size (nearest-pixel sampling, so every pixel arrives unchanged),
 * and scaled to fit with its aspect kept otherwise, centred on black.
 * Closing a window, or Esc or q in it, sends the client CLOSED; the surface
 * lives on headless and the server goes on.
 *
 * Frames are uploaded at the display's rate, not as they arrive: each
 * tick, a window whose surface changed uploads the union of the damage
 * since the last upload into a streaming texture, straight from the
 * surface's content (the client's shm buffer or the socket-filled memory),
 * renders and presents; only then is the frame reported shown.  Frames
 * replaced before a tick are never uploaded (surface.c reports them
 * discarded), so nothing queues however fast a client presents.
 *
 * The texture is opaque (B, G, R, X in memory).  XRGB8888 content is
 * uploaded as it is; ARGB8888 content is composited over black on its way
 * into the texture (straight alpha: each colour channel times alpha / 255,
 * rounded), which is that same single copy, and gives the same pixels on
 * every renderer and at every scale.
 *
 * SDL is pumped from the server's epoll loop, once per tick: while a
 * window exists the loop sleeps at most until the next one.  SDL's own
 * signal handlers are off: the server takes SIGINT/SIGTERM through its
 * signalfd.
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

/* The texture's format: B, G, R, X in memory, whatever the byte order. */
#if SDL_BYTEORDER == SDL_BIG_ENDIAN
#define TEXTURE_FORMAT SDL_PIXELFORMAT_BGRX8888
#else
#define TEXTURE_FORMAT SDL_PIXELFORMAT_RGB888
#endif

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

	list_for_each(w, &d->windows, struct sdl_window, link)
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

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0: no
 * overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Appends the peer's text src to dst (holding *used of cap bytes), as
 * valid UTF-8 without control characters: window systems reject a title
 * that is not, and a name is any bytes its client chose. */
static void append_title(char *dst, size_t cap, size_t *used, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src);

	while (n > 0 && *used + 1 < cap) {
		size_t len = utf8_seq(p, n);

		if (len == 0 || p[0] < 0x20 || p[0] == 0x7f) {
			dst[(*used)++] = '?';
			len = len ? len : 1;
		} else {
			if (*used + len >= cap)
				break;
			memcpy(dst + *used, p, len);
			*used += len;
		}
		p += len;
		n -= len;
	}
	dst[*used] = '\0';
}

/* "CLIENT: TITLE", or just the client's name for a surface without one. */
static void window_title(const struct sf_surface *s, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	append_title(out, cap, &used, s->client->name);
	if (s->title[0]) {
		append_title(out, cap, &used, ": ");
		append_title(out, cap, &used, s->title);
	}
}

static int sdl_window_create(struct sf_display *base, struct sf_surface *s)
{
	struct sdl_display *d = to_sdl(base);
	struct sdl_window *w = calloc(1, sizeof *w);
	char title[2 * SF_MAX_NAME + 3];
	int ww, wh;

	if (!w)
		return -ENOMEM;
	list_init(&w->link);
	w->surface = s;
	window_title(s, title, sizeof title);
	initial_size(s, &ww, &wh);
	w->win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED,
	                          SDL_WINDOWPOS_UNDEFINED, ww, wh,
	                          SDL_WINDOW_RESIZABLE | SDL_WINDOW_SHOWN);
	if (!w->win) {
		sfs__log("cannot open a window for surface %u: %s", s->id,
		        SDL_GetError());
		goto free_window;
	}
	w->win_id = SDL_GetWindowID(w->win);
	w->ren = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_ACCELERATED);
	if (!w->ren) /* no GPU: draw in software */
		w->ren = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_SOFTWARE);
	if (!w->ren) {
		sfs__log("cannot render to the window of surface %u: %s", s->id,
		        SDL_GetError());
		goto free_window;
	}
	w->tex = SDL_CreateTexture(w->ren, TEXTURE_FORMAT,
	                           SDL_TEXTUREACCESS_STREAMING, (int)s->width,
	                           (int)s->height);
	if (!w->tex) {
		/* Larger than the renderer's textures, typically: a window that
		 * stays black would only mislead, so the surface goes headless. */
		sfs__log("surface %u (%ux%u) cannot be shown in a window: %s", s->id,
		        s->width, s->height, SDL_GetError());
		goto free_window;
	}
	SDL_SetTextureBlendMode(w->tex, SDL_BLENDMODE_NONE);
	w->redraw = true;
	list_append(&d->windows, &w->link);
	s->window = w;
	return 0;

free_window:
	free_window(w);
	return -ENODEV;
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
	if (!w) {
		/* No window (closed, or none could be made): headless. */
		sfs__surface_shown(s, sfs__now_ns());
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
	uint64_t now = sfs__now_ns();

	if (list_empty(&d->windows))
		return -1;
	if (now >= d->next_tick)
		return 0;
	return (int)((d->next_tick - now + 999999) / 1000000);
}

/* An ARGB8888 pixel (as a number: A in the top byte) composited over
 * black: each colour channel c becomes c * a / 255 rounded, computed as
 * t = c * a + 128, (t + (t >> 8)) >> 8, which is exact for every byte pair.
 * Red and blue go through together, 16 bits apart (no carry can cross).
 * The top byte of the result is 0xff (the texture ignores it). */
static inline uint32_t over_black(uint32_t p)
{
	uint32_t a = p >> 24;
	uint32_t rb = (p & 0x00ff00ffu) * a + 0x00800080u;
	uint32_t g = (p & 0x0000ff00u) * a + 0x00008000u;

	rb = ((rb + ((rb >> 8) & 0x00ff00ffu)) >> 8) & 0x00ff00ffu;
	g = ((g + ((g >> 8) & 0x0000ff00u)) >> 8) & 0x0000ff00u;
	return 0xff000000u | rb | g;
}

/* n pixels, B, G, R, A in memory, composited over black into B, G, R, X.
 * Opaque pixels (the usual case) are copied as they are. */
static void row_over_black(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t p;

		/* memcpy: a buffer's offset in its segment need not be aligned. */
		memcpy(&p, src + 4 * (size_t)i, 4);
		p = SDL_SwapLE32(p);
		if (p < 0xff000000u)
			p = over_black(p);
		p = SDL_SwapLE32(p);
		memcpy(dst + 4 * (size_t)i, &p, 4);
	}
}

/* Copies the damaged rectangle from the surface's content into the
 * texture: the one copy a shown frame costs. */
static void upload(struct sdl_window *w)
{
	const struct sf_surface *s = w->surface;
	uint32_t stride;
	const uint8_t *px = sfs__surface_pixels(s, &stride);
	SDL_Rect r = {
		(int)w->x0, (int)w->y0, (int)(w->x1 - w->x0), (int)(w->y1 - w->y0),
	};
	void *dst;
	int pitch;

	if (!px || r.w <= 0 || r.h <= 0)
		return;
	px += (size_t)w->y0 * stride + (size_t)w->x0 * SF_BYTES_PER_PIXEL;
	if (s->format != SF_FORMAT_ARGB8888) {
		/* Opaque already: the renderer copies straight from the content.
		 * A single-row buffer may carry any stride; SDL's pitch is an
		 * int, and a row's own length serves as well. */
		pitch = stride > INT_MAX ? r.w * (int)SF_BYTES_PER_PIXEL
		                         : (int)stride;
		if (SDL_UpdateTexture(w->tex, &r, px, pitch) == 0)
			w->uploaded = true;
		return;
	}
	if (SDL_LockTexture(w->tex, &r, &dst, &pitch) < 0)
		return;
	for (int y = 0; y < r.h; y++)
		row_over_black((uint8_t *)dst + (size_t)y * (size_t)pitch,
		               px + (size_t)y * stride, (uint32_t)r.w);
	SDL_UnlockTexture(w->tex);
	w->uploaded = true;
}

static void render(struct sdl_window *w)
{
	const struct sf_surface *s = w->surface;
	int ow = 0, oh = 0;

	if (w->dirty)
		upload(w);
	SDL_SetRenderDrawColor(w->ren, 0, 0, 0, 255);
	SDL_RenderClear(w->ren);
	if (w->uploaded) {
		SDL_Rect dst = { 0, 0, (int)s->width, (int)s->height };
		bool one_to_one = true;

		SDL_GetRendererOutputSize(w->ren, &ow, &oh);
		if (ow != dst.w || oh != dst.h) {
			/* Resized: fit the window, aspect kept, centred. */
			double sx = (double)ow / s->width, sy = (double)oh / s->height;
			double scale = sx < sy ? sx : sy;

			dst.w = (int)(s->width * scale + 0.5);
			dst.h = (int)(s->height * scale + 0.5);
			if (dst.w < 1)
				dst.w = 1;
			if (dst.h < 1)
				dst.h = 1;
			dst.x = (ow - dst.w) / 2;
			dst.y = (oh - dst.h) / 2;
			one_to_one = dst.w == (int)s->width && dst.h == (int)s->height;
		}
#if SDL_VERSION_ATLEAST(2, 0, 12)
		/* 1:1 every pixel exactly as it is; scaled, smooth. */
		SDL_SetTextureScaleMode(w->tex, one_to_one ? SDL_ScaleModeNearest
		                                           : SDL_ScaleModeLinear);
#else
		(void)one_to_one;
#endif
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
	sfs__surface_window_closed(s);
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
	struct sf_list pending;
	SDL_Event ev;
	uint64_t now;

	/* The loop calls this after every wakeup; SDL's events (a round trip
	 * to the window system) and drawing wait for the tick, so a client
	 * presenting thousands of frames a second costs no more here. */
	now = sfs__now_ns();
	if (now < d->next_tick)
		return;
	while (SDL_PollEvent(&ev))
		handle_event(d, &ev);
	/* Keep the phase when on time; start over after a long stall. */
	d->next_tick += d->period_ns;
	if (d->next_tick <= now)
		d->next_tick = now + d->period_ns;
	/* Telling a surface it was shown queues an event for its client, and
	 * whatever that may do to the client (all its windows go when it is
	 * failed) must not derail this walk: each window goes back to the
	 * list before it is drawn, and one freed meanwhile is not met. */
	list_take_all(&pending, &d->windows);
	while (!list_empty(&pending)) {
		bool shown;

		w = sf_container_of(list_pop(&pending), struct sdl_window, link);
		list_append(&d->windows, &w->link);
		shown = w->dirty;
		if (!w->dirty && !w->redraw)
			continue;
		render(w);
		w->dirty = false;
		if (shown)
			sfs__surface_shown(w->surface, sfs__now_ns());
	}
}

static void sdl_destroy(struct sf_display *base)
{
	struct sdl_display *d = to_sdl(base);

	while (!list_empty(&d->windows))
		free_window(list_first(&d->windows, struct sdl_window, link));
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

int sfs__display_sdl_create(struct sf_display **out, char *why, size_t why_len)
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
	d->next_tick = sfs__now_ns();
	*out = &d->base;
	return 0;
}
