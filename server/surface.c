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

int sf__surface_create(struct sf_client *c, const struct sf_create_surface *m,
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
	list_append(&c->surfaces, &s->link);
	c->n_surfaces++;
	/* Counted whole from the start, whether or not our copy is ever
	 * made: the limit then fails CREATE_SURFACE, not some later frame. */
	c->surface_memory += sf__surface_bytes(s->width, s->height);
	c->server->surface_memory_total += sf__surface_bytes(s->width, s->height);
	/* Without a window the surface is simply headless. */
	sf__display_window_create(c->server->display, s);
	return 0;
}

struct sf_surface *sf__surface_find(struct sf_client *c, uint32_t id)
{
	struct sf_surface *s;

	list_for_each(s, &c->surfaces, struct sf_surface, link)
		if (s->id == id)
			return s;
	return NULL;
}

void sf__surface_destroy(struct sf_surface *s)
{
	sf__out_forget_answers(s->client, s->id);
	sf__display_window_destroy(s->client->server->display, s);
	if (s->latched)
		sf__shmseg_unref(s->latched);
	if (s->mem)
		munmap(s->mem, s->mem_size);
	list_remove(&s->link);
	s->client->n_surfaces--;
	s->client->surface_memory -= sf__surface_bytes(s->width, s->height);
	s->client->server->surface_memory_total -=
		sf__surface_bytes(s->width, s->height);
	free(s);
}

const uint8_t *sf__surface_pixels(const struct sf_surface *s, uint32_t *stride)
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

	sf__out_message(s->client, SF_RELEASE, &ev, sizeof ev, NULL, 0);
}

static void copy_rect(uint8_t *dst, uint32_t dst_stride, const uint8_t *src,
                      uint32_t src_stride, const struct sf_rect *r)
{
	size_t row = (size_t)r->width * SF_BYTES_PER_PIXEL;

	dst += (size_t)r->y * dst_stride + (size_t)r->x * SF_BYTES_PER_PIXEL;
	src += (size_t)r->y * src_stride + (size_t)r->x * SF_BYTES_PER_PIXEL;
	for (uint32_t y = 0; y < r->height; y++) {
		memcpy(dst, src, row);
		dst += dst_stride;
		src += src_stride;
	}
}

int sf__surface_own_memory(struct sf_surface *s)
{
	uint32_t stride = s->width * SF_BYTES_PER_PIXEL;

	if (!s->mem) {
		/* Anonymous pages: zero, and only those written cost memory. */
		size_t size = (size_t)stride * s->height;
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return -ENOMEM;
		s->mem = p;
		s->mem_size = size;
	}
	if (s->latched) {
		/* The latched buffer holds the whole image and the next frame
		 * may change only part of it: take all of it, then give it back. */
		struct sf_rect all = { 0, 0, s->width, s->height };
		const uint8_t *src = (const uint8_t *)s->latched->seg.map +
		                     s->latch_offset;

		copy_rect(s->mem, stride, src, s->latch_stride, &all);
		send_release(s, s->latch_buffer, s->latch_serial);
		sf__shmseg_unref(s->latched);
		s->latched = NULL;
	}
	return 0;
}

int sf__surface_put_shm(struct sf_surface *s, const struct sf_put_image *m,
                        struct sf_shmseg *seg, const struct sf_rect *rects,
                        uint32_t n_rects)
{
	/* The surface's mode, unless the client asked to copy this frame. */
	bool latch = s->present_mode == SF_PRESENT_LATCH &&
	             !(m->hdr.flags & SF_PUT_IMAGE_COPY);

	if (latch) {
		struct sf_shmseg *old = s->latched;
		uint32_t old_buffer = s->latch_buffer, old_serial = s->latch_serial;

		sf__shmseg_ref(seg);
		s->latched = seg;
		s->latch_offset = m->offset;
		s->latch_stride = m->stride;
		s->latch_buffer = m->buffer;
		s->latch_serial = m->serial;
		if (old) {
			send_release(s, old_buffer, old_serial);
			sf__shmseg_unref(old);
		}
	} else {
		const uint8_t *src = (const uint8_t *)seg->seg.map + m->offset;

		if (sf__surface_own_memory(s) < 0)
			return sf__client_fail(s->client, SF_ERR_NO_MEMORY,
			                       "cannot allocate %ux%u pixels for surface %u",
			                       s->width, s->height, s->id);
		for (uint32_t i = 0; i < n_rects; i++)
			copy_rect(s->mem, s->width * SF_BYTES_PER_PIXEL, src,
			          m->stride, &rects[i]);
		send_release(s, m->buffer, m->serial);
	}
	sf__surface_frame_done(s, m->serial, rects, n_rects);
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

	sf__out_message(s->client, SF_PRESENTED, &ev, sizeof ev, NULL, 0);
}

void sf__surface_frame_done(struct sf_surface *s, uint32_t serial,
                            const struct sf_rect *damage, uint32_t n_damage)
{
	struct sf_server *server = s->client->server;

	/* The display shows only the latest frame: one still waiting now
	 * never will be. */
	if (s->present_pending)
		send_presented(s, s->pending_serial, SF_PRESENTED_DISCARDED,
		               sf__now_ns());
	s->present_pending = true;
	s->pending_serial = serial;
	s->has_frame = true;
	s->frames++;
	sf__display_frame_ready(server->display, s, damage, n_damage);
	if (server->dump_dir && server->dump_every &&
	    s->frames % server->dump_every == 0)
		sf__snapshot_write(server->dump_dir, s);
}

void sf__surface_shown(struct sf_surface *s, uint64_t time_ns)
{
	if (!s->present_pending)
		return;
	s->present_pending = false;
	send_presented(s, s->pending_serial, 0, time_ns);
}

void sf__surface_window_closed(struct sf_surface *s)
{
	struct sf_closed ev = { .surface = s->id };

	sf__verbose(s->client->server, "client %u: window of surface %u closed",
	            s->client->id, s->id);
	sf__out_message(s->client, SF_CLOSED, &ev, sizeof ev, NULL, 0);
	/* Headless from now on: a frame waiting for the window is as shown
	 * as it will ever be. */
	sf__surface_shown(s, sf__now_ns());
}

void sf__surface_read(const struct sf_surface *s, const struct sf_rect *r,
                      uint8_t *dst, uint32_t dst_stride)
{
	uint32_t stride;
	const uint8_t *src = sf__surface_pixels(s, &stride);
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

void sf__surface_touch(const struct sf_surface *s, const struct sf_rect *r)
{
	size_t row = (size_t)r->width * SF_BYTES_PER_PIXEL;
	const volatile uint8_t *px;
	uint32_t stride;

	if (!s->latched)
		return;
	px = sf__surface_pixels(s, &stride);
	for (uint32_t y = 0; y < r->height; y++) {
		const volatile uint8_t *p = px + (size_t)(r->y + y) * stride +
		                            (size_t)r->x * SF_BYTES_PER_PIXEL;

		for (size_t i = 0; i < row; i += 4096)
			(void)p[i];
		(void)p[row - 1];
	}
}
