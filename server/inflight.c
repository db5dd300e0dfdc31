/*
 * In-flight accounting (max_inflight), in one place.
 *
 * The rule: a PUT_IMAGE or GET_IMAGE is in flight from the moment it is
 * handled until the last byte of its answer (PRESENTED or IMAGE) is
 * written to the socket.  A frame waiting for the display has no answer
 * queued yet and counts through its surface (present_pending); once its
 * PRESENTED is queued it counts as an answer in the ring, until written.
 * An answer for a surface the client destroyed stops counting at once,
 * since the client stopped counting it then.  The client counts a request
 * until it reads the answer, which is later, so a client that keeps its
 * own count within max_inflight is always within ours.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server-private.h"

int sfs__inflight_init(struct sf_client *c)
{
	c->inflight.ring = calloc(c->server->limits.max_inflight,
	                          sizeof *c->inflight.ring);
	return c->inflight.ring ? 0 : -ENOMEM;
}

void sfs__inflight_fini(struct sf_client *c)
{
	free(c->inflight.ring);
	c->inflight.ring = NULL;
}

unsigned sfs__client_inflight(const struct sf_client *c)
{
	const struct sf_surface *s;
	unsigned n = c->inflight.live;

	for (const struct sf_list *l = c->res.surfaces.next; l != &c->res.surfaces;
	     l = l->next) {
		s = sf_container_of(l, const struct sf_surface, link);
		n += s->present_pending;
	}
	return n;
}

void sfs__inflight_frame_wait(struct sf_surface *s, uint32_t serial)
{
	s->present_pending = true;
	s->pending_serial = serial;
}

bool sfs__inflight_frame_take(struct sf_surface *s, uint32_t *serial)
{
	if (!s->present_pending)
		return false;
	s->present_pending = false;
	*serial = s->pending_serial;
	return true;
}

void sfs__inflight_answer_queued(struct sf_client *c, const void *fixed)
{
	unsigned cap = c->server->limits.max_inflight;
	struct sf_answer *a;

	/* Full only if the accounting is wrong: counting fewer is the safe
	 * side, it can never refuse a client that follows the rule. */
	if (!c->inflight.ring || c->inflight.count == cap)
		return;
	a = &c->inflight.ring[(c->inflight.head + c->inflight.count) % cap];
	a->end = c->out.q.queued;
	/* PRESENTED and IMAGE both name their surface right after the
	 * header. */
	memcpy(&a->surface, (const uint8_t *)fixed + sizeof(struct sf_header),
	       sizeof a->surface);
	c->inflight.count++;
	c->inflight.live++;
}

void sfs__inflight_written(struct sf_client *c)
{
	unsigned cap = c->server->limits.max_inflight;

	while (c->inflight.count &&
	       c->inflight.ring[c->inflight.head].end <= c->out.q.written) {
		if (c->inflight.ring[c->inflight.head].surface)
			c->inflight.live--;
		c->inflight.head = (c->inflight.head + 1) % cap;
		c->inflight.count--;
	}
}

void sfs__inflight_forget(struct sf_client *c, uint32_t surface)
{
	unsigned cap = c->server->limits.max_inflight;

	for (unsigned i = 0; i < c->inflight.count; i++) {
		struct sf_answer *a = &c->inflight.ring[(c->inflight.head + i) % cap];

		if (a->surface == surface) {
			a->surface = 0;
			c->inflight.live--;
		}
	}
}

void sfs__inflight_clear(struct sf_client *c)
{
	c->inflight.count = 0;
	c->inflight.live = 0;
}
