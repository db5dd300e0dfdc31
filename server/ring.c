/*
 * The control segment (protocol 2.1) from the server's side: requests
 * taken from a client's request ring in the one order of all its
 * requests, events pushed on its event ring, NOTIFY when it sleeps, and
 * the loop's half of sleeping and waking (PROTOCOL.md, "The control
 * segment and its rings"; the shared-memory accesses are
 * protocol/ring.c's).
 *
 * The segment is the client's to change at any moment.  protocol/ring.c
 * checks the indices it reads; an entry is copied out before anything
 * looks at it, checked as a socket message is, and then handled by the
 * very handler of the same request on the socket.  A POSIX control
 * segment can be shrunk under us like any other segment: it is guarded
 * against SIGBUS (segments.c), and each look at it is followed by a look
 * at the guard.
 *
 * Numbering: c->req.sequence counts the requests started, on either
 * path; the ring's oldest entry is handled when it carries the next
 * number, else the socket's next message is.  c->out.sequence counts the
 * events, queued (output.c) or pushed here.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "server-private.h"

/* While spinning, the clock is read once per this many looks at the
 * rings. */
#define SPIN_CLOCK_EVERY 32

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* ---- life cycle ------------------------------------------------------- */

void sfs__rings_start(struct sf_client *c, struct sf_shmseg *seg)
{
	struct sfs_rings *r = &c->rings;

	r->control = seg;
	c->res.n_segments++;
	sf__ring_init(&r->req, seg->seg.map, SF_RING_REQUESTS);
	sf__ring_init(&r->ev, seg->seg.map, SF_RING_EVENTS);
	r->blocked = false;
	r->notify = false;
	list_append(&c->server->ring_clients, &r->link);
	sfs__verbose(c->server, "client %u: control segment (%s) attached: "
	            "frames and their events go through its rings", c->id,
	            sf__shm_kind_name((uint32_t)seg->seg.kind));
}

void sfs__rings_stop(struct sf_client *c)
{
	struct sfs_rings *r = &c->rings;

	if (!r->control)
		return;
	list_remove(&r->link);
	c->res.n_segments--;
	sfs__shmseg_unref(r->control);
	r->control = NULL;
	r->blocked = false;
	r->notify = false;
}

/* ---- requests --------------------------------------------------------- */

/* The guard found a segment shrunk: its client is failed now.  -1 when
 * that was c, else 0. */
static int check_guard(struct sf_client *c)
{
	if (!sfs__sigbus_pending())
		return 0;
	sfs__segments_check_broken(c->server);
	return c->fd < 0 || c->state == SF_CLIENT_CLOSING ? -1 : 0;
}

/* The oldest entry was numbered past the next request, whose socket
 * message has not been handled yet. */
static bool waits_for_socket(const struct sf_client *c)
{
	return c->rings.blocked &&
	       (int32_t)(c->rings.blocked_seq - (c->req.sequence + 1)) > 0;
}

/* Whether a turn could take requests from the ring now: not while an
 * inline readback streams out or inline pixels are being read (the
 * requests after them wait, as on the socket). */
static bool ring_ready(const struct sf_client *c)
{
	return c->rings.control && c->fd >= 0 && c->state == SF_CLIENT_READY &&
	       !c->in.paused && !c->payload.active && !waits_for_socket(c);
}

bool sfs__ring_has_work(struct sf_client *c)
{
	return ring_ready(c) && sf__ring_pending(&c->rings.req) != 0;
}

int sfs__ring_take_request(struct sf_client *c, unsigned *msgs)
{
	struct sfs_rings *r = &c->rings;
	const size_t segment_at = offsetof(struct sf_put_image, segment);
	uint8_t msg[SF_RING_REQ_MESSAGE];
	struct sf_header hdr;
	const char *why = "";
	uint32_t seq = 0, expected = c->req.sequence + 1, segment;
	uint16_t type;
	int got;

	if (!r->control)
		return 0;
	r->blocked = false;
	got = sf__ring_peek(&r->req, &seq, msg, sizeof msg);
	if (check_guard(c) < 0)
		return -1;
	if (got == 0)
		return 0;
	if (got < 0) {
		c->req.type = 0;
		return sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "the request ring's "
		                       "head is more than %u entries past the %u "
		                       "the server took from it", SF_RING_REQ_COUNT,
		                       r->req.pos);
	}
	if ((int32_t)(seq - expected) > 0) {
		r->blocked = true;
		r->blocked_seq = seq;
		return 0;
	}
	/* From here the entry is the request numbered expected. */
	memcpy(&type, msg, sizeof type);
	c->req.sequence = expected;
	c->req.type = type;
	if (seq != expected)
		return sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "the request ring's "
		                       "oldest entry is numbered %u, a number "
		                       "already used (request %u was next)", seq,
		                       expected);
	if (sf__header_check(msg, sizeof msg, SF_RING_REQ_MESSAGE, &hdr, &why) < 0)
		return sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "request ring entry "
		                       "%u: %s (at most %u bytes fit in an entry)",
		                       seq, why, SF_RING_REQ_MESSAGE);
	if (hdr.type != SF_PUT_IMAGE)
		return sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "request ring entry "
		                       "%u: only PUT_IMAGE naming a segment goes "
		                       "on the ring", seq);
	/* A shorter one fails its decoding in the handler. */
	if (hdr.length >= segment_at + sizeof segment) {
		memcpy(&segment, msg + segment_at, sizeof segment);
		if (segment == 0)
			return sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "request ring "
			                       "entry %u: a PUT_IMAGE on the ring names "
			                       "a segment (no inline pixels follow a "
			                       "ring entry)", seq);
	}
	/* Taken before it is handled: failing the client unmaps the ring,
	 * and the request is in our copy. */
	sf__ring_pop(&r->req);
	(*msgs)++;
	c->req.active = true;
	sfs__request_dispatch(c, msg, &hdr);
	return sfs__input_after_request(c) < 0 ? -1 : 1;
}

/* ---- events ----------------------------------------------------------- */

int sfs__ring_event(struct sf_client *c, uint16_t type, void *fixed,
                   size_t fixed_size)
{
	struct sfs_rings *r = &c->rings;
	uint8_t msg[SF_RING_EV_MESSAGE];
	size_t n;
	int room;

	/* A client about to be failed gets nothing more (sfs__out_message
	 * drops it too). */
	if (!r->control || c->fd < 0 || c->state != SF_CLIENT_READY ||
	    c->out.deferred_error)
		return sfs__out_message(c, type, fixed, fixed_size, NULL, 0);
	n = sf__encode(msg, sizeof msg, type, fixed, fixed_size, NULL, 0);
	room = sf__ring_room(&r->ev);
	if (room < 0) {
		/* Maybe deep in a request, whose surface must not go now. */
		sfs__out_defer_error(c, SF_ERR_BAD_MESSAGE, "the event ring's tail "
		                     "moved backwards, or past the events the "
		                     "server pushed", false);
		return -1;
	}
	if (n == 0 || room == 0 ||
	    sf__ring_push(&r->ev, c->out.sequence + 1, msg, n) < 0)
		return sfs__out_message(c, type, fixed, fixed_size, NULL, 0);
	c->out.sequence++;
	/* Counted as answered once pushed: a PRESENTED here is not in
	 * inflight.c's ring. */
	r->notify = true;
	sfs__client_want_flush(c);
	return 0;
}

void sfs__ring_notify(struct sf_client *c)
{
	struct sfs_rings *r = &c->rings;
	struct sf_header hdr;

	if (!r->notify || !r->control || c->fd < 0 ||
	    c->state != SF_CLIENT_READY || c->out.deferred_error)
		return;
	/* One per iteration at most; the mark stays, and the next iteration
	 * looks again (sfs__rings_before_wait), so none is lost. */
	if (r->notified == c->server->iteration)
		return;
	r->notify = false;
	if (!sf__ring_consumer_asleep(&r->ev))
		return;
	r->notified = c->server->iteration;
	memset(&hdr, 0, sizeof hdr);
	sfs__out_message(c, SF_NOTIFY, &hdr, sizeof hdr, NULL, 0);
}

/* ---- the loop --------------------------------------------------------- */

/* Clients with requests on their rings get a turn (the backlog's);
 * those with a NOTIFY to look at get their output flushed.  True when
 * any request is waiting. */
static bool give_turns(struct sf_server *server)
{
	struct sf_client *c;
	bool any = false;

	list_for_each(c, &server->ring_clients, struct sf_client, rings.link) {
		if (c->rings.notify)
			sfs__client_want_flush(c);
		if (!sfs__ring_has_work(c))
			continue;
		if (list_empty(&c->backlog_link))
			list_append(&server->backlog, &c->backlog_link);
		any = true;
	}
	return any;
}

/* Looks only at the request rings for up to spin_us; true as soon as one
 * holds a request. */
static bool spin(struct sf_server *server)
{
	uint64_t end = sfs__now_ns() + (uint64_t)server->spin_us * 1000u;
	struct sf_client *c;

	for (unsigned pass = 1;; pass++) {
		list_for_each(c, &server->ring_clients, struct sf_client,
		              rings.link)
			if (sfs__ring_has_work(c))
				return true;
		cpu_relax();
		if (pass % SPIN_CLOCK_EVERY == 0 && sfs__now_ns() >= end)
			return false;
	}
}

int sfs__rings_before_wait(struct sf_server *server, int timeout)
{
	struct sf_client *c;
	bool came = false;

	if (list_empty(&server->ring_clients))
		return timeout;
	if (give_turns(server))
		timeout = 0;
	if (timeout != 0 && server->spin_us && spin(server) && give_turns(server))
		timeout = 0;
	if (timeout != 0) {
		/* A ring that cannot be taken from now needs no KICK: what
		 * it waits for (socket bytes, the socket draining) wakes the
		 * loop by itself. */
		list_for_each(c, &server->ring_clients, struct sf_client,
		              rings.link)
			if (ring_ready(c) && sf__ring_sleep(&c->rings.req))
				came = true;
		if (came) {
			sfs__rings_after_wait(server);
			give_turns(server);
			timeout = 0;
		}
	}
	if (sfs__sigbus_pending())
		sfs__segments_check_broken(server);
	if (!list_empty(&server->backlog) || !list_empty(&server->flush))
		timeout = 0;
	return timeout;
}

void sfs__rings_after_wait(struct sf_server *server)
{
	struct sf_client *c;

	list_for_each(c, &server->ring_clients, struct sf_client, rings.link)
		sf__ring_awake(&c->rings.req);
}

bool sfs__rings_busy(struct sf_server *server)
{
	struct sf_client *c;

	list_for_each(c, &server->ring_clients, struct sf_client, rings.link)
		if (c->rings.notify || sfs__ring_has_work(c))
			return true;
	return false;
}
