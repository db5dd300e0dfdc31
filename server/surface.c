/*
 * Surfaces: what a client shows.  The content is either a latched client
 * buffer (shm, latch mode: no copy at all) or the server's own memory
 * (inline pixels, copy mode, or after switching away from a latched
 * buffer).  This file decides which, sends RELEASE and PRESENTED, and hands
 * finished frames to the display.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "display.h"
#include "server-private.h"

int sfs__surface_create(struct sf_client *c, const struct sf_create_surface *m,
                       const char *title)
{
	struct sf_surface *s = calloc(1, sizeof *s);

	if (!s)
		return -ENOMEM;
	s->client = c;
	s->id = m->id;
	s->width = m->width;
	s->height = m->height;
	s->format = m->format;
	s->present_mode = m->present_mode;
	snprintf(s->title, sizeof s->title, "%s", title);
	/* Until a window says otherwise, it shows the surface 1:1. */
	s->input.view_width = s->width;
	s->input.view_height = s->height;
	list_append(&c->res.surfaces, &s->link);
	c->res.n_surfaces++;
	/* Counted whole from the start, whether or not our copy is ever
	 * made: the limit then fails CREATE_SURFACE, not some later frame. */
	c->res.surface_memory += sfs__surface_bytes(s->width, s->height);
	c->server->surface_memory_total += sfs__surface_bytes(s->width, s->height);
	/* Without a window the surface is simply headless. */
	sfs__display_window_create(c->server->display, s);
	return 0;
}

struct sf_surface *sfs__surface_find(struct sf_client *c, uint32_t id)
{
	struct sf_surface *s;

	list_for_each(s, &c->res.surfaces, struct sf_surface, link)
		if (s->id == id)
			return s;
	return NULL;
}

void sfs__surface_destroy(struct sf_surface *s)
{
	sfs__inflight_forget(s->client, s->id);
	sfs__display_window_destroy(s->client->server->display, s);
	if (s->latched)
		sfs__shmseg_unref(s->latched);
	if (s->mem)
		munmap(s->mem, s->mem_size);
	list_remove(&s->link);
	s->client->res.n_surfaces--;
	s->client->res.surface_memory -= sfs__surface_bytes(s->width, s->height);
	s->client->server->surface_memory_total -=
		sfs__surface_bytes(s->width, s->height);
	free(s);
}

const uint8_t *sfs__surface_pixels(const struct sf_surface *s, uint32_t *stride)
{
	if (s->latched) {
		*stride = s->latch_stride;
		return (const uint8_t *)s->latched->seg.map + s->latch_offset;
	}
	*stride = s->width * SF_BYTES_PER_PIXEL;
	return s->mem;
}

static void send_release(struct sf_surface *s, uint32_t buffer, uint32_t serial)
{
	struct sf_release ev = {
		.surface = s->id,
		.buffer = buffer,
		.serial = serial,
	};

	sfs__ring_event(s->client, SF_RELEASE, &ev, sizeof ev);
}

/* Our own memory for the content, zero until written (anonymous pages:
 * only those written cost memory).  0, or -ENOMEM. */
static int alloc_memory(struct sf_surface *s)
{
	size_t size = (size_t)s->width * SF_BYTES_PER_PIXEL * s->height;
	void *p;

	if (s->mem)
		return 0;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	s->mem = p;
	s->mem_size = size;
	return 0;
}

/* The latched buffer is no longer the content: give it back. */
static void unlatch(struct sf_surface *s)
{
	send_release(s, s->latch_buffer, s->latch_serial);
	sfs__shmseg_unref(s->latched);
	s->latched = NULL;
}

int sfs__surface_own_memory(struct sf_surface *s)
{
	uint32_t stride = s->width * SF_BYTES_PER_PIXEL;

	if (alloc_memory(s) < 0)
		return -ENOMEM;
	if (s->latched) {
		/* The latched buffer holds the whole image and the next frame
		 * may change only part of it: take all of it, then give it back. */
		struct sf_rect all = { 0, 0, s->width, s->height };
		const uint8_t *src = (const uint8_t *)s->latched->seg.map +
		                     s->latch_offset;

		sf__rect_copy(s->mem, stride, src, s->latch_stride, &all);
		s->client->res.copied += sfs__surface_bytes(s->width, s->height);
		unlatch(s);
	}
	return 0;
}

/* A damage rectangle as the band walk below sees it. */
struct span_rect {
	uint32_t x0, x1, y0, y1;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_span_x(const void *a, const void *b)
{
	const struct span_rect *p = a, *q = b;

	return p->x0 < q->x0 ? -1 : p->x0 > q->x0;
}

/* Rows y0..y1 of columns x0..x1 from src into the surface's memory. */
static uint64_t copy_span(struct sf_surface *s, const uint8_t *src,
                          uint32_t src_stride, uint32_t x0, uint32_t x1,
                          uint32_t y0, uint32_t y1)
{
	struct sf_rect r = { x0, y0, x1 - x0, y1 - y0 };

	if (x1 <= x0 || y1 <= y0)
		return 0;
	sf__rect_copy(s->mem, s->width * SF_BYTES_PER_PIXEL, src, src_stride, &r);
	return (uint64_t)r.width * r.height * SF_BYTES_PER_PIXEL;
}

/*
 * Copies the union of the damage rectangles from src into the surface's
 * memory, every pixel of it once however the rectangles overlap: 256
 * rectangles naming the whole surface cost one copy of it, not 256.  When
 * under is given (the latched image a copied frame replaces), the pixels
 * outside the union come from under, so that the surface is written
 * exactly once in all.  Returns the bytes copied.
 *
 * The surface is cut into horizontal bands at every rectangle's top and
 * bottom edge; a rectangle covers a band whole or not at all, so in each
 * band the union is a few runs of columns, found in one pass over the
 * rectangles sorted by x.  Work besides the copy: n² steps at most, for
 * n <= SF_MAX_RECTS.
 */
static uint64_t copy_damage(struct sf_surface *s, const uint8_t *src,
                            uint32_t src_stride, const uint8_t *under,
                            uint32_t under_stride, const struct sf_rect *rects,
                            uint32_t n)
{
	struct span_rect sorted[SF_MAX_RECTS];
	uint32_t ys[2 * SF_MAX_RECTS + 2];
	uint32_t n_ys = 0, u = 0;
	uint64_t bytes = 0;

	for (uint32_t i = 0; i < n; i++) {
		sorted[i] = (struct span_rect){
			rects[i].x, rects[i].x + rects[i].width,
			rects[i].y, rects[i].y + rects[i].height,
		};
		ys[n_ys++] = sorted[i].y0;
		ys[n_ys++] = sorted[i].y1;
	}
	if (under) {
		ys[n_ys++] = 0;
		ys[n_ys++] = s->height;
	}
	qsort(sorted, n, sizeof sorted[0], cmp_span_x);
	qsort(ys, n_ys, sizeof ys[0], cmp_u32);
	for (uint32_t i = 0; i < n_ys; i++)
		if (u == 0 || ys[i] != ys[u - 1])
			ys[u++] = ys[i];

	for (uint32_t b = 0; b + 1 < u; b++) {
		uint32_t y0 = ys[b], y1 = ys[b + 1], done = 0;
		bool open = false;
		uint32_t cx0 = 0, cx1 = 0;

		for (uint32_t i = 0; i <= n; i++) {
			const struct span_rect *r = i < n ? &sorted[i] : NULL;

			if (r && (r->y0 > y0 || r->y1 < y1))
				continue;
			if (r && open && r->x0 <= cx1) {
				if (r->x1 > cx1)
					cx1 = r->x1;
				continue;
			}
			/* A run ends (or the band does): copy it, and what lies
			 * between it and the previous run. */
			if (open) {
				if (under)
					bytes += copy_span(s, under, under_stride, done,
					                   cx0, y0, y1);
				bytes += copy_span(s, src, src_stride, cx0, cx1, y0, y1);
				done = cx1;
			}
			if (!r)
				break;
			open = true;
			cx0 = r->x0;
			cx1 = r->x1;
		}
		if (under)
			bytes += copy_span(s, under, under_stride, done, s->width,
			                   y0, y1);
	}
	return bytes;
}

int sfs__surface_put_shm(struct sf_surface *s, const struct sf_put_image *m,
                        struct sf_shmseg *seg, const struct sf_rect *rects,
                        uint32_t n_rects)
{
	/* The surface's mode, unless the client asked to copy this frame. */
	bool latch = s->present_mode == SF_PRESENT_LATCH &&
	             !(m->hdr.flags & SF_PUT_IMAGE_COPY);

	if (latch) {
		struct sf_shmseg *old = s->latched;
		uint32_t old_buffer = s->latch_buffer, old_serial = s->latch_serial;

		sfs__shmseg_ref(seg);
		s->latched = seg;
		s->latch_offset = m->offset;
		s->latch_stride = m->stride;
		s->latch_buffer = m->buffer;
		s->latch_serial = m->serial;
		if (old) {
			send_release(s, old_buffer, old_serial);
			sfs__shmseg_unref(old);
		}
	} else {
		const uint8_t *src = (const uint8_t *)seg->seg.map + m->offset;
		const uint8_t *under = NULL;

		if (alloc_memory(s) < 0)
			return sfs__client_fail(s->client, SF_ERR_NO_MEMORY,
			                       "cannot allocate %ux%u pixels for surface %u",
			                       s->width, s->height, s->id);
		/* Over a latched buffer the damage lands on the latched image:
		 * the rest of it is taken in the same pass, then both buffers
		 * are released. */
		if (s->latched)
			under = (const uint8_t *)s->latched->seg.map + s->latch_offset;
		s->client->res.copied += copy_damage(s, src, m->stride, under,
		                                 s->latch_stride, rects, n_rects);
		if (s->latched)
			unlatch(s);
		send_release(s, m->buffer, m->serial);
	}
	sfs__surface_frame_done(s, m->serial, rects, n_rects);
	return 0;
}

static void send_presented(struct sf_surface *s, uint32_t serial,
                           uint32_t flags, uint64_t time_ns)
{
	struct sf_presented ev = {
		.surface = s->id,
		.serial = serial,
		.flags = flags,
		.time_ns = time_ns,
	};

	sfs__ring_event(s->client, SF_PRESENTED, &ev, sizeof ev);
}

void sfs__surface_frame_done(struct sf_surface *s, uint32_t serial,
                            const struct sf_rect *damage, uint32_t n_damage)
{
	struct sf_server *server = s->client->server;
	uint32_t waiting;

	/* The display shows only the latest frame: one still waiting now
	 * never will be. */
	if (sfs__inflight_frame_take(s, &waiting))
		send_presented(s, waiting, SF_PRESENTED_DISCARDED, sfs__now_ns());
	sfs__inflight_frame_wait(s, serial);
	s->has_frame = true;
	s->frames++;
	sfs__display_frame_ready(server->display, s, damage, n_damage);
	if (server->dump_dir && server->dump_every &&
	    s->frames % server->dump_every == 0)
		sfs__snapshot_write(server->dump_dir, s);
}

void sfs__surface_shown(struct sf_surface *s, uint64_t time_ns)
{
	uint32_t serial;

	if (!sfs__inflight_frame_take(s, &serial))
		return;
	send_presented(s, serial, 0, time_ns);
}

void sfs__surface_window_closed(struct sf_surface *s)
{
	struct sf_closed ev = { .surface = s->id };

	sfs__verbose(s->client->server, "client %u: window of surface %u closed",
	            s->client->id, s->id);
	sfs__out_message(s->client, SF_CLOSED, &ev, sizeof ev, NULL, 0);
	/* Headless from now on: a frame waiting for the window is as shown
	 * as it will ever be. */
	sfs__surface_shown(s, sfs__now_ns());
}

int sfs__surface_resize(struct sf_surface *s, uint32_t width, uint32_t height)
{
	struct sf_client *c = s->client;
	uint64_t old = sfs__surface_bytes(s->width, s->height);
	uint64_t bytes = sfs__surface_bytes(width, height);
	uint32_t serial;

	/* Neither frame will ever be shown at its size: the one waiting is
	 * answered now, the latched buffer is given back. */
	if (sfs__inflight_frame_take(s, &serial))
		send_presented(s, serial, SF_PRESENTED_DISCARDED, sfs__now_ns());
	if (s->latched)
		unlatch(s);
	/* Zeros of the new size: our memory is made again when needed. */
	if (s->mem) {
		munmap(s->mem, s->mem_size);
		s->mem = NULL;
		s->mem_size = 0;
	}
	c->res.surface_memory = c->res.surface_memory - old + bytes;
	c->server->surface_memory_total =
		c->server->surface_memory_total - old + bytes;
	/* A window that showed the surface 1:1 (headless: always) shows the
	 * new size 1:1; a backend whose window keeps another size says so
	 * with sfs__input_configure from surface_resized. */
	if (s->input.view_width == s->width && s->input.view_height == s->height) {
		s->input.view_width = width;
		s->input.view_height = height;
	}
	s->width = width;
	s->height = height;
	sfs__display_surface_resized(c->server->display, s);
	/* An event above that did not fit fails the client after the
	 * request (sfs__input_after_request). */
	return c->out.deferred_error ? -1 : 0;
}

void sfs__surface_read(const struct sf_surface *s, const struct sf_rect *r,
                      uint8_t *dst, uint32_t dst_stride)
{
	uint32_t stride;
	const uint8_t *src = sfs__surface_pixels(s, &stride);
	size_t row = (size_t)r->width * SF_BYTES_PER_PIXEL;

	for (uint32_t y = 0; y < r->height; y++) {
		uint8_t *d = dst + (size_t)y * dst_stride;

		/* memmove: a client may read back into the very segment its
		 * surface has latched. */
		if (src)
			memmove(d, src + (size_t)(r->y + y) * stride +
			        (size_t)r->x * SF_BYTES_PER_PIXEL, row);
		else
			memset(d, 0, row);
	}
}

void sfs__surface_touch(const struct sf_surface *s, const struct sf_rect *r)
{
	size_t row = (size_t)r->width * SF_BYTES_PER_PIXEL;
	const volatile uint8_t *px;
	uint32_t stride;

	if (!s->latched)
		return;
	px = sfs__surface_pixels(s, &stride);
	for (uint32_t y = 0; y < r->height; y++) {
		const volatile uint8_t *p = px + (size_t)(r->y + y) * stride +
		                            (size_t)r->x * SF_BYTES_PER_PIXEL;

		for (size_t i = 0; i < row; i += 4096)
			(void)p[i];
		(void)p[row - 1];
	}
}
