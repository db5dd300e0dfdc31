/*
 * The SDL2 display: one resizable window per surface, titled
 * "CLIENT: TITLE".  The frame is drawn 1:1 at the top-left when the window
 * has its size (nearest-pixel sampling, so every pixel arrives unchanged),
 * and scaled to fit with its aspect kept otherwise, centred on black.
 * Closing a window sends the client CLOSED; the surface lives on headless
 * and the server goes on.  Esc or q do the same in a window whose client
 * did not select KEY events; for one that did they are its keys.
 *
 * Frames are uploaded at the display's rate, not as they arrive: each
 * tick, a window whose surface changed uploads the union of the damage
 * since the last upload into a streaming texture, straight from the
 * surface's content (the client's shm buffer or the socket-filled memory),
 * renders and presents; only then is the frame reported shown.  Frames
 * replaced before a tick are never uploaded (surface.c reports them
 * discarded), so nothing queues however fast a client presents.  A
 * surface its client resized keeps its old texture, drawn where the new
 * size goes, until its next frame: then the texture is made again at the
 * new size and that frame is uploaded whole.
 *
 * The texture is opaque (B, G, R, X in memory).  XRGB8888 content is
 * uploaded as it is; ARGB8888 content is composited over black on its way
 * into the texture (straight alpha: each colour channel times alpha / 255,
 * rounded), which is that same single copy, and gives the same pixels on
 * every renderer and at every scale.
 *
 * Input (protocol 2.2) goes to events.c in surface pixels: a window point
 * becomes a renderer output pixel (HiDPI: output size over window size),
 * then a surface point, undoing the scaling and letterboxing render() did
 * with the same rectangle (image_rect).  The pointer is over a surface
 * only over its image, not the black bars; a button pressed there keeps it
 * until the last release (an implicit grab).  Motion is coalesced to one
 * POINTER_MOTION per window per tick, sent before any other event of that
 * window so that the order the person acted in is kept; a key press waits
 * for the text SDL_TEXTINPUT brings right after it; a size change becomes
 * one CONFIGURE per tick.  Keys go to the window with the keyboard focus.
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
	int tex_w, tex_h; /* the texture's size: the surface's until it resizes */
	bool dirty;     /* new content to upload and show */
	bool redraw;    /* exposed or resized: draw again */
	bool uploaded;  /* the texture holds a frame */
	bool resized;   /* the surface's size is not the texture's any more */
	bool configure; /* the window's size changed: CONFIGURE at the tick */
	/* Union of the damage since the last upload. */
	uint32_t x0, y0, x1, y1;

	/* The pointer, as this surface's client was told of it. */
	bool over;      /* POINTER_ENTER sent, no POINTER_LEAVE since */
	bool mouse_out; /* the window lost the mouse during a grab */
	uint32_t grab;  /* buttons pressed over the image, still held */
	int32_t x, y;   /* last position over the image (24.8): LEAVE's */
	/* SDL's last motion, not looked at until the next event of the window
	 * (or the end of the pump): the one SDL makes up for a crossing out
	 * of the window is dropped (see window_event). */
	bool raw;
	int raw_x, raw_y;
	uint64_t raw_time;
	/* A POINTER_MOTION waiting for the tick (or the next other event). */
	bool motion;
	int32_t motion_x, motion_y;
	uint32_t motion_mods;
	uint64_t motion_time;
};

struct sdl_display {
	struct sf_display base;
	struct sf_list windows;
	uint64_t period_ns;
	uint64_t next_tick;
	uint32_t mods;  /* enum sf_modifier, as of the last key event */
	/* A key press waiting for the SDL_TEXTINPUT that may follow it, until
	 * the next other event or the end of the pump.  Its window is named
	 * by id: it may be gone by then. */
	struct {
		bool active;
		Uint32 win_id;
		struct sf_key_input k;
		uint64_t time;
	} key;
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
 * the screen cannot hold it: true then. */
static bool initial_size(const struct sf_surface *s, int *w, int *h)
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
	return scale < 1.0;
}

/* Appends the peer's text src to dst (holding *used of cap bytes), as
 * valid UTF-8 without control characters: window systems reject a title
 * that is not, and a name is any bytes its client chose. */
static void append_title(char *dst, size_t cap, size_t *used, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src);

	while (n > 0 && *used + 1 < cap) {
		size_t len = sf__utf8_decode(p, n, NULL);

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
	bool smaller;

	if (!w)
		return -ENOMEM;
	list_init(&w->link);
	w->surface = s;
	window_title(s, title, sizeof title);
	smaller = initial_size(s, &ww, &wh);
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
	w->tex_w = (int)s->width;
	w->tex_h = (int)s->height;
	w->redraw = true;
	/* The client hears of the smaller window when it asks for CONFIGURE
	 * (events.c keeps the size until then). */
	w->configure = smaller;
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

/* The first frame after a resize: a texture of the new size (its first
 * upload is whole).  -1 when the renderer cannot have one (the window is
 * then closed, and the surface goes headless, as at window_create). */
static int remake_texture(struct sdl_window *w)
{
	const struct sf_surface *s = w->surface;
	SDL_Texture *tex = SDL_CreateTexture(w->ren, TEXTURE_FORMAT,
	                                     SDL_TEXTUREACCESS_STREAMING,
	                                     (int)s->width, (int)s->height);

	if (!tex) {
		sfs__log("surface %u resized to %ux%u cannot be shown in a window: "
		         "%s", s->id, s->width, s->height, SDL_GetError());
		return -1;
	}
	SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_NONE);
	SDL_DestroyTexture(w->tex);
	w->tex = tex;
	w->tex_w = (int)s->width;
	w->tex_h = (int)s->height;
	w->uploaded = false;
	w->resized = false;
	return 0;
}

/* The surface has a new size and zeros for content: the damage gathered
 * for the old size is void (surface.c answered its frame DISCARDED), and
 * the old frame is drawn where the new size goes until the next one. */
static void sdl_surface_resized(struct sf_display *base, struct sf_surface *s)
{
	struct sdl_window *w = s->window;

	(void)base;
	if (!w)
		return;
	w->resized = true;
	w->dirty = false;
	w->redraw = true;
}

static void sdl_frame_ready(struct sf_display *base, struct sf_surface *s,
                            const struct sf_rect *damage, uint32_t n)
{
	struct sdl_window *w = s->window;

	(void)base;
	if (w && w->resized && remake_texture(w) < 0) {
		free_window(w);
		w = NULL;
	}
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

/* Where the image of surface s goes in an ow x oh output (pixels): all of
 * it 1:1 at the top-left when the output has the surface's size, else
 * scaled to fit, aspect kept, centred.  render() draws there, and the
 * pointer is mapped back through the same rectangle. */
static SDL_Rect image_rect(const struct sf_surface *s, int ow, int oh)
{
	SDL_Rect r = { 0, 0, (int)s->width, (int)s->height };
	double sx, sy, scale;

	if (ow == r.w && oh == r.h)
		return r;
	sx = (double)ow / s->width;
	sy = (double)oh / s->height;
	scale = sx < sy ? sx : sy;
	r.w = (int)(s->width * scale + 0.5);
	r.h = (int)(s->height * scale + 0.5);
	if (r.w < 1)
		r.w = 1;
	if (r.h < 1)
		r.h = 1;
	r.x = (ow - r.w) / 2;
	r.y = (oh - r.h) / 2;
	return r;
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
		SDL_Rect dst;
		bool one_to_one;

		SDL_GetRendererOutputSize(w->ren, &ow, &oh);
		dst = image_rect(s, ow, oh);
		one_to_one = dst.w == w->tex_w && dst.h == w->tex_h;
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

/* ---- input ------------------------------------------------------------ */

/* n / d rounded to the nearest integer (halves up), for d > 0, clamped to
 * the range of a 24.8 coordinate. */
static int32_t div_round(int64_t n, int64_t d)
{
	int64_t q = 2 * n + d, dd = 2 * d;

	/* Floor division: C's rounds towards zero. */
	q = q >= 0 ? q / dd : -((-q + dd - 1) / dd);
	if (q > INT32_MAX)
		return INT32_MAX;
	if (q < INT32_MIN)
		return INT32_MIN;
	return (int32_t)q;
}

/* Window point (wx, wy) as a surface point in 24.8 fixed point, through
 * the rectangle render() draws the image in.  True when the point is over
 * the image (then x and y lie in [0, width) and [0, height)). */
static bool surface_point(const struct sdl_window *w, int wx, int wy,
                          int32_t *x, int32_t *y)
{
	const struct sf_surface *s = w->surface;
	int ww = 0, wh = 0, ow = 0, oh = 0;
	int64_t px, py, sx0, sy0;
	SDL_Rect r;
	bool over;

	SDL_GetWindowSize(w->win, &ww, &wh);
	SDL_GetRendererOutputSize(w->ren, &ow, &oh);
	if (ww <= 0 || wh <= 0 || ow <= 0 || oh <= 0) {
		*x = *y = 0;
		return false;
	}
	r = image_rect(s, ow, oh);
	/* Output pixel (wx * ow / ww, wy * oh / wh), kept as the exact
	 * fractions px / ww and py / wh; the image's top-left likewise. */
	px = (int64_t)wx * ow;
	py = (int64_t)wy * oh;
	sx0 = (int64_t)r.x * ww;
	sy0 = (int64_t)r.y * wh;
	over = px >= sx0 && px < (int64_t)(r.x + r.w) * ww &&
	       py >= sy0 && py < (int64_t)(r.y + r.h) * wh;
	/* (px / ww - r.x) * width / r.w, in 1/256 pixels. */
	*x = div_round((px - sx0) * s->width * SF_FIXED_ONE, (int64_t)ww * r.w);
	*y = div_round((py - sy0) * s->height * SF_FIXED_ONE, (int64_t)wh * r.h);
	if (over) {
		/* Rounding must not carry a point of the last column past it. */
		int32_t xmax = (int32_t)(s->width * SF_FIXED_ONE - 1);
		int32_t ymax = (int32_t)(s->height * SF_FIXED_ONE - 1);

		if (*x > xmax)
			*x = xmax;
		if (*y > ymax)
			*y = ymax;
	}
	return over;
}

static uint32_t modifiers_of(Uint16 m)
{
	uint32_t out = 0;

	if (m & KMOD_SHIFT)
		out |= SF_MOD_SHIFT;
	if (m & KMOD_CTRL)
		out |= SF_MOD_CTRL;
	if (m & KMOD_ALT)
		out |= SF_MOD_ALT;
	if (m & KMOD_GUI)
		out |= SF_MOD_SUPER;
	if (m & KMOD_CAPS)
		out |= SF_MOD_CAPS;
	if (m & KMOD_NUM)
		out |= SF_MOD_NUM;
	if (m & KMOD_MODE)
		out |= SF_MOD_ALTGR;
	return out;
}

/* The key of an SDL key event as KEY has it.  SDL's scancodes are the USB
 * HID usages of the keyboard page up to Right GUI (231); the ones above
 * are SDL's own (media keys) and go as unknown.  SDL's keycode is the
 * key's Unicode character in the layout, unshifted, or 0x40000000 | the
 * scancode for a key without one: the keysym, except that the control
 * characters SDL gives Return, Escape, Backspace, Tab and Delete are no
 * symbol a person reads. */
static void key_of(const SDL_KeyboardEvent *e, struct sf_key_input *k)
{
	SDL_Scancode sc = e->keysym.scancode;
	SDL_Keycode sym = e->keysym.sym;
	uint32_t cp = (uint32_t)sym;

	memset(k, 0, sizeof *k);
	k->keycode = sc >= SDL_SCANCODE_A && sc <= SDL_SCANCODE_RGUI
	             ? (uint32_t)sc : 0;
	if (sym & SDLK_SCANCODE_MASK || cp < 0x20 || cp == 0x7f ||
	    (cp >= 0x80 && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff)
		k->keysym = 0x40000000u | k->keycode;
	else
		k->keysym = cp;
	k->modifiers = modifiers_of(e->keysym.mod);
	k->pressed = e->state == SDL_PRESSED;
	k->repeat = k->pressed && e->repeat;
}

/* Appends what SDL_TEXTINPUT typed to the waiting key press, whole
 * characters while they fit. */
static void key_add_text(struct sf_key_input *k, const char *text)
{
	size_t used = strlen(k->text), n = strlen(text);
	const char *p = text;

	while (n > 0) {
		size_t len = sf__utf8_decode(p, n, NULL);

		if (len == 0 || used + len > SF_KEY_TEXT_SIZE)
			break;
		memcpy(k->text + used, p, len);
		used += len;
		p += len;
		n -= len;
	}
	k->text[used] = '\0';
}

/* The waiting key press goes out, with whatever text it collected. */
static void flush_key(struct sdl_display *d)
{
	struct sdl_window *w;

	if (!d->key.active)
		return;
	d->key.active = false;
	w = find_window(d, d->key.win_id);
	if (w)
		sfs__input_key(w->surface, &d->key.k, d->key.time);
}

/* The waiting POINTER_MOTION goes out.  0, or -1: the client was failed,
 * the window is gone. */
static int flush_motion(struct sdl_window *w)
{
	if (!w->motion)
		return 0;
	w->motion = false;
	return sfs__input_pointer(w->surface, SF_POINTER_MOTION, w->motion_x,
	                          w->motion_y, w->motion_mods, w->motion_time);
}

static int pointer_leave(struct sdl_display *d, struct sdl_window *w,
                         uint64_t t)
{
	if (flush_motion(w) < 0)
		return -1;
	w->over = false;
	w->mouse_out = false;
	return sfs__input_pointer(w->surface, SF_POINTER_LEAVE, w->x, w->y,
	                          d->mods, t);
}

/* The pointer is at window point (wx, wy) since t.  0, or -1: the client
 * was failed, the window is gone. */
static int pointer_moved(struct sdl_display *d, struct sdl_window *w,
                         int wx, int wy, uint64_t t)
{
	int32_t x, y;
	bool over = surface_point(w, wx, wy, &x, &y);

	if (over) {
		w->x = x;
		w->y = y;
	}
	if (over && !w->over) {
		w->over = true;
		return sfs__input_pointer(w->surface, SF_POINTER_ENTER, x, y,
		                          d->mods, t);
	}
	if (over || w->grab) {
		/* Over the image, or held by a button wherever it is. */
		w->motion = true;
		w->motion_x = x;
		w->motion_y = y;
		w->motion_mods = d->mods;
		w->motion_time = t;
		return 0;
	}
	if (w->over)
		return pointer_leave(d, w, t);
	return 0;
}

/* SDL's last motion of the window takes effect. */
static int apply_raw(struct sdl_display *d, struct sdl_window *w)
{
	if (!w->raw)
		return 0;
	w->raw = false;
	return pointer_moved(d, w, w->raw_x, w->raw_y, w->raw_time);
}

/* Before SDL_WINDOWEVENT_LEAVE, SDL reports the point where the pointer
 * crossed out of the window as a motion, clamped into the window (unless
 * a button holds the pointer): a point on the window's edge the pointer
 * never was at, which could be over the image.  True for such a motion. */
static bool raw_is_crossing(const struct sdl_window *w)
{
	int ww = 0, wh = 0;

	SDL_GetWindowSize(w->win, &ww, &wh);
	return w->raw && !w->grab &&
	       (w->raw_x <= 0 || w->raw_y <= 0 || w->raw_x >= ww - 1 ||
	        w->raw_y >= wh - 1);
}

static void pointer_button(struct sdl_display *d, struct sdl_window *w,
                           const SDL_MouseButtonEvent *e, uint64_t t)
{
	/* SDL's buttons 1 .. 5 are left, middle, right, back (X1), forward
	 * (X2): ours. */
	uint32_t button = e->button, bit;
	int32_t x, y;
	bool over;

	if (button < 1 || button > SF_BUTTON_MAX)
		return;
	bit = 1u << (button - 1);
	over = surface_point(w, e->x, e->y, &x, &y);
	if (flush_motion(w) < 0)
		return;
	if (over) {
		w->x = x;
		w->y = y;
	}
	if (e->state == SDL_PRESSED) {
		/* A click on the bars around the image is nobody's. */
		if (!over && !w->grab)
			return;
		if (!w->over) {
			w->over = true;
			if (sfs__input_pointer(w->surface, SF_POINTER_ENTER, x, y,
			                       d->mods, t) < 0)
				return;
		}
		w->grab |= bit;
		sfs__input_button(w->surface, x, y, button, true, d->mods, t);
		return;
	}
	if (!(w->grab & bit))
		return;
	w->grab &= ~bit;
	if (sfs__input_button(w->surface, x, y, button, false, d->mods, t) < 0)
		return;
	if (!w->grab && (!over || w->mouse_out))
		pointer_leave(d, w, t);
}

/* v notches as 1/120 notches, rounded to the nearest. */
static int32_t notches_120(double v)
{
	v *= 120;
	if (v != v)
		return 0;
	if (v < -2147483647.0)
		return -INT32_MAX;
	if (v > 2147483647.0)
		return INT32_MAX;
	return (int32_t)(v < 0 ? v - 0.5 : v + 0.5);
}

/* SDL's wheel, in notches (fractions from a high-resolution wheel), > 0
 * right and away from the user unless the system flips it, as 1/120
 * notches the protocol's way round.  Only over the image. */
static void pointer_wheel(struct sdl_window *w, const SDL_MouseWheelEvent *e,
                          uint64_t t)
{
#if SDL_VERSION_ATLEAST(2, 0, 18)
	double dx = e->preciseX, dy = e->preciseY;
#else
	double dx = e->x, dy = e->y;
#endif
	int32_t dx120, dy120;

	if (!w->over)
		return;
	if (e->direction == SDL_MOUSEWHEEL_FLIPPED) {
		dx = -dx;
		dy = -dy;
	}
	dx120 = notches_120(dx);
	dy120 = notches_120(dy);
	if ((dx120 || dy120) && flush_motion(w) == 0)
		sfs__input_axis(w->surface, dx120, dy120, t);
}

static void key_event(struct sdl_display *d, struct sdl_window *w,
                      const SDL_KeyboardEvent *e, uint64_t t)
{
	struct sf_key_input k;

	if (flush_motion(w) < 0)
		return;
	key_of(e, &k);
	d->mods = k.modifiers;
	if (k.pressed && !(w->surface->input.mask & SF_EVENT_KEY) &&
	    (e->keysym.sym == SDLK_ESCAPE || e->keysym.sym == SDLK_q)) {
		close_window(w);
		return;
	}
	if (!k.pressed) {
		sfs__input_key(w->surface, &k, t);
		return;
	}
	d->key.active = true;
	d->key.win_id = w->win_id;
	d->key.k = k;
	d->key.time = t;
}

static void window_event(struct sdl_display *d, struct sdl_window *w,
                         const SDL_WindowEvent *e, uint64_t t)
{
	switch (e->event) {
	case SDL_WINDOWEVENT_CLOSE:
		close_window(w);
		break;
	case SDL_WINDOWEVENT_SIZE_CHANGED:
		w->configure = true;
		/* fall through */
	case SDL_WINDOWEVENT_EXPOSED:
	case SDL_WINDOWEVENT_RESIZED:
		w->redraw = true;
		break;
	case SDL_WINDOWEVENT_ENTER:
		w->mouse_out = false;
		break;
	case SDL_WINDOWEVENT_LEAVE:
		/* Held by a button, the surface keeps the pointer until the last
		 * release. */
		if (raw_is_crossing(w))
			w->raw = false;
		else if (apply_raw(d, w) < 0)
			break;
		if (w->grab)
			w->mouse_out = true;
		else if (w->over)
			pointer_leave(d, w, t);
		break;
	case SDL_WINDOWEVENT_FOCUS_GAINED:
	case SDL_WINDOWEVENT_FOCUS_LOST:
		/* Lock keys may have changed elsewhere meanwhile. */
		d->mods = modifiers_of((Uint16)SDL_GetModState());
		if (flush_motion(w) == 0)
			sfs__input_focus(w->surface, e->event ==
			                 SDL_WINDOWEVENT_FOCUS_GAINED, t);
		break;
	}
}

static Uint32 window_id_of(const SDL_Event *ev)
{
	switch (ev->type) {
	case SDL_WINDOWEVENT:
		return ev->window.windowID;
	case SDL_MOUSEMOTION:
		return ev->motion.windowID;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		return ev->button.windowID;
	case SDL_MOUSEWHEEL:
		return ev->wheel.windowID;
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		return ev->key.windowID;
	case SDL_TEXTINPUT:
		return ev->text.windowID;
	default:
		return 0;
	}
}

/* One SDL event, seen at t.  Each finds its window afresh: the event
 * before may have failed a client, and its windows are gone then. */
static void handle_event(struct sdl_display *d, const SDL_Event *ev,
                         uint64_t t)
{
	struct sdl_window *w;
	Uint32 id = window_id_of(ev);

	/* A key press collects the text typed right after it, and waits for
	 * nothing else. */
	if (d->key.active && (ev->type != SDL_TEXTINPUT || id != d->key.win_id))
		flush_key(d);
	/* SDL_QUIT follows the last window's close: the server goes on. */
	w = id ? find_window(d, id) : NULL;
	if (!w)
		return;
	/* SDL's last motion of the window waits for this event: it is the
	 * crossing's own when a LEAVE follows it (window_event). */
	if (!(ev->type == SDL_WINDOWEVENT &&
	      ev->window.event == SDL_WINDOWEVENT_LEAVE) && apply_raw(d, w) < 0)
		return;
	switch (ev->type) {
	case SDL_WINDOWEVENT:
		window_event(d, w, &ev->window, t);
		break;
	case SDL_MOUSEMOTION:
		w->raw = true;
		w->raw_x = ev->motion.x;
		w->raw_y = ev->motion.y;
		w->raw_time = t;
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		pointer_button(d, w, &ev->button, t);
		break;
	case SDL_MOUSEWHEEL:
		pointer_wheel(w, &ev->wheel, t);
		break;
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		key_event(d, w, &ev->key, t);
		break;
	case SDL_TEXTINPUT:
		if (d->key.active)
			key_add_text(&d->key.k, ev->text.text);
		break;
	}
}

/* CONFIGURE: the window's size in output pixels is the size at which the
 * surface would be shown 1:1. */
static int send_configure(struct sdl_window *w, uint64_t t)
{
	int ow = 0, oh = 0;

	w->configure = false;
	SDL_GetRendererOutputSize(w->ren, &ow, &oh);
	if (ow < 1 || oh < 1)
		return 0;
	if (ow > (int)SF_MAX_DIMENSION)
		ow = (int)SF_MAX_DIMENSION;
	if (oh > (int)SF_MAX_DIMENSION)
		oh = (int)SF_MAX_DIMENSION;
	return sfs__input_configure(w->surface, (uint32_t)ow, (uint32_t)oh, t);
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
		handle_event(d, &ev, sfs__now_ns());
	flush_key(d);
	/* Keep the phase when on time; start over after a long stall. */
	d->next_tick += d->period_ns;
	if (d->next_tick <= now)
		d->next_tick = now + d->period_ns;
	/* Telling a surface it was shown, or what the person did, queues an
	 * event for its client, and whatever that may do to the client (all
	 * its windows go when it is failed) must not derail this walk: each
	 * window goes back to the list before it is drawn, and one freed
	 * meanwhile is not met. */
	now = sfs__now_ns();
	list_take_all(&pending, &d->windows);
	while (!list_empty(&pending)) {
		bool shown;

		w = sf_container_of(list_pop(&pending), struct sdl_window, link);
		list_append(&d->windows, &w->link);
		if (apply_raw(d, w) < 0 || flush_motion(w) < 0)
			continue;
		if (w->configure && send_configure(w, now) < 0)
			continue;
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
	.surface_resized = sdl_surface_resized,
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
	d->mods = modifiers_of((Uint16)SDL_GetModState());
	d->next_tick = sfs__now_ns();
	*out = &d->base;
	return 0;
}
