/*
 * Events: each one decoded by protocol/wire.c, checked against what this
 * connection is waiting for, then handled and handed to the listener.
 * Also the calls built on them: dispatch, flush, roundtrip and the pump
 * that every blocking call waits with.
 */
#include <errno.h>
#include <string.h>

#include "client-private.h"
#include "text.h"

/* One decoded event.  Everything is copied out of the input queue before
 * a callback runs, so a callback may read more events (by acquiring, say)
 * without pulling bytes from under us. */
struct event {
	uint16_t type;
	union {
		struct sf_welcome welcome;
		struct sf_probe_result probe;
		struct sf_release release;
		struct sf_presented presented;
		struct sf_image image;
		struct sf_closed closed;
		struct sf_sync sync;
		struct sf_error error;
	} u;
	char text[SF_MAX_TEXT + 1];
};

int sfc__fail_server(struct shmframe_conn *conn, const struct sf_error *e,
                    const char *text)
{
	char shown[SF_ERROR_TEXT - 16];

	/* The server's words, shown and never obeyed: a program prints
	 * shmframe_last_error() on its terminal. */
	sf__text_printable(shown, sizeof shown,
	                   text[0] ? text : sf__error_name(e->code));
	return sfc__fail(conn, sfc__error_errno(e->code), "server: %s", shown);
}

int sfc__error_errno(uint32_t code)
{
	switch (code) {
	case SF_ERR_BAD_MAGIC:
	case SF_ERR_BAD_VERSION: return -EPROTONOSUPPORT;
	case SF_ERR_AUTH: return -EACCES;
	case SF_ERR_LIMIT: return -EDQUOT;
	case SF_ERR_NO_MEMORY: return -ENOMEM;
	case SF_ERR_SLOW: return -ETIMEDOUT;
	}
	return -EPROTO;
}

static int decode(const void *msg, const struct sf_header *h, struct event *ev,
                  const char **why)
{
	size_t len = h->length;

	ev->type = h->type;
	ev->text[0] = '\0';
	switch (h->type) {
	case SF_WELCOME:
		return sf__decode_welcome(msg, len, &ev->u.welcome, why);
	case SF_PROBE_RESULT:
		return sf__decode_probe_result(msg, len, &ev->u.probe, ev->text, why);
	case SF_RELEASE:
		return sf__decode_release(msg, len, &ev->u.release, why);
	case SF_PRESENTED:
		return sf__decode_presented(msg, len, &ev->u.presented, why);
	case SF_IMAGE:
		return sf__decode_image(msg, len, &ev->u.image, why);
	case SF_CLOSED:
		return sf__decode_closed(msg, len, &ev->u.closed, why);
	case SF_SYNC_DONE:
		return sf__decode_sync(msg, len, &ev->u.sync, why);
	case SF_ERROR:
		return sf__decode_error(msg, len, &ev->u.error, ev->text, why);
	}
	*why = "unknown event type";
	return SF_ERR_UNKNOWN_TYPE;
}

/*
 * The surface an event names.  Ids are never reused, so an id we handed
 * out but no longer have belongs to a surface destroyed while the event
 * was on its way: *stale is set and the event is dropped.  An id we never
 * handed out is the server's mistake.
 */
static struct shmframe_surface *event_surface(struct shmframe_conn *conn,
                                              uint32_t id, bool *stale)
{
	struct shmframe_surface *s = sfc__surface_find(conn, id);

	*stale = !s && id != 0 && id <= conn->next_surface_id;
	return s;
}

static int unexpected(struct shmframe_conn *conn, const char *what)
{
	return sfc__fail(conn, -EPROTO, "protocol error: %s", what);
}

static int on_release(struct shmframe_conn *conn, const struct sf_release *r)
{
	bool stale;
	struct shmframe_surface *s = event_surface(conn, r->surface, &stale);
	struct shmframe_buffer *b;

	if (!s)
		return stale ? 0 : unexpected(conn, "RELEASE for an unknown surface");
	if (s->segment_id == 0)
		return unexpected(conn, "RELEASE for a frame sent on the socket");
	if (r->buffer == 0 || r->buffer > s->n_buffers)
		return unexpected(conn, "RELEASE for an unknown buffer");
	b = &s->buffers[r->buffer - 1];
	if (b->state != SF_BUFFER_BUSY || b->serial != r->serial)
		return unexpected(conn, "RELEASE for a buffer the server does not hold");
	b->state = SF_BUFFER_FREE;
	if (s->listener && s->listener->released)
		s->listener->released(s->listener_data, s, r->serial);
	return 0;
}

static int on_presented(struct shmframe_conn *conn, const struct sf_presented *p)
{
	bool stale;
	struct shmframe_surface *s = event_surface(conn, p->surface, &stale);

	if (!s)
		return stale ? 0 : unexpected(conn, "PRESENTED for an unknown surface");
	if (s->inflight == 0)
		return unexpected(conn, "PRESENTED without a frame in flight");
	s->inflight--;
	conn->inflight--;
	if (s->listener && s->listener->presented)
		s->listener->presented(s->listener_data, s, p->serial, p->time_ns,
		                       (p->flags & SF_PRESENTED_DISCARDED) != 0);
	return 0;
}

static int on_closed(struct shmframe_conn *conn, const struct sf_closed *c)
{
	bool stale;
	struct shmframe_surface *s = event_surface(conn, c->surface, &stale);

	if (!s)
		return stale ? 0 : unexpected(conn, "CLOSED for an unknown surface");
	s->closed = true;
	if (s->listener && s->listener->closed)
		s->listener->closed(s->listener_data, s);
	return 0;
}

static int on_image(struct shmframe_conn *conn, const struct sf_image *img)
{
	struct sf_readback *rb = &conn->readback;

	if (!rb->waiting || img->surface != rb->surface || img->serial != rb->serial)
		return unexpected(conn, "IMAGE that was not asked for");
	if (img->segment != rb->segment ||
	    memcmp(&img->rect, &rb->rect, sizeof img->rect) != 0)
		return unexpected(conn, "IMAGE does not match its GET_IMAGE");
	rb->waiting = false;
	conn->inflight--;
	if (img->segment) {
		rb->done = true;
		return 0;
	}
	/* The rows follow the message; they go straight into the caller's
	 * memory, from the input queue first and then from the socket. */
	conn->payload.active = true;
	conn->payload.rect = (struct sf_rect){ 0, 0, img->rect.width,
	                                       img->rect.height };
	sf__rows_init(&conn->payload.rows, rb->dst, rb->dst_stride,
	              &conn->payload.rect, 1);
	return 0;
}

static int on_sync_done(struct shmframe_conn *conn, const struct sf_sync *s)
{
	/* Serials wrap; one not after the last SYNC sent, or not after the
	 * last answered, was never asked for. */
	if ((int32_t)(s->serial - conn->next_sync) > 0 ||
	    (int32_t)(s->serial - conn->sync_done) <= 0)
		return unexpected(conn, "SYNC_DONE that was not asked for");
	conn->sync_done = s->serial;
	return 0;
}

static int handle(struct shmframe_conn *conn, struct event *ev)
{
	switch (ev->type) {
	case SF_WELCOME:
		if (conn->phase != SF_PHASE_HELLO)
			return unexpected(conn, "WELCOME after the handshake");
		conn->welcome = ev->u.welcome;
		conn->phase = SF_PHASE_READY;
		return 0;
	case SF_PROBE_RESULT:
		if (conn->phase != SF_PHASE_PROBE || conn->probe_answered)
			return unexpected(conn, "PROBE_RESULT without a PROBE");
		conn->probe_answered = true;
		conn->probe_status = ev->u.probe.status;
		/* It ends up in the transport reason or an error message, which
		 * programs print on a terminal. */
		sf__text_printable(conn->probe_text, sizeof conn->probe_text,
		                   ev->text);
		return 0;
	case SF_ERROR:
		sfc__log(conn, SHMFRAME_LOG_DEBUG, "ERROR %s for request %u (%s)",
		        sf__error_name(ev->u.error.code), ev->u.error.sequence,
		        sf__type_name(ev->u.error.request_type));
		return sfc__fail_server(conn, &ev->u.error, ev->text);
	}
	if (conn->phase == SF_PHASE_HELLO)
		return unexpected(conn, "event before WELCOME");
	switch (ev->type) {
	case SF_RELEASE: return on_release(conn, &ev->u.release);
	case SF_PRESENTED: return on_presented(conn, &ev->u.presented);
	case SF_CLOSED: return on_closed(conn, &ev->u.closed);
	case SF_IMAGE: return on_image(conn, &ev->u.image);
	case SF_SYNC_DONE: return on_sync_done(conn, &ev->u.sync);
	}
	return unexpected(conn, "unknown event");
}

int sfc__process(struct shmframe_conn *conn)
{
	int handled = 0;

	for (;;) {
		struct sf_in *in = &conn->in;
		struct sf_header h;
		struct event ev;
		const char *why = "";
		int r;

		if (conn->error)
			return conn->error;
		if (conn->payload.active) {
			if (in->len == 0)
				break;
			sfc__payload_take(conn);
			if (conn->payload.active)
				break;
			continue;
		}
		r = sf__header_check(in->data + in->start, in->len, conn->max_message,
		                     &h, &why);
		if (r < 0)
			return sfc__fail(conn, -EPROTO,
			                "protocol error: bad event header: %s", why);
		if (r == 0 || in->len < h.length)
			break;
		r = decode(in->data + in->start, &h, &ev, &why);
		if (r == SF_ERR_UNKNOWN_TYPE)
			return sfc__fail(conn, -EPROTO, "protocol error: unknown event "
			                "type 0x%x", h.type);
		if (r == SF_ERR_BAD_VERSION && h.type == SF_WELCOME) {
			const uint8_t *w = in->data + in->start;
			uint16_t major, minor;

			/* decode checked the length reaches past both. */
			memcpy(&major, w + 12, sizeof major);
			memcpy(&minor, w + 14, sizeof minor);
			return sfc__fail(conn, -EPROTONOSUPPORT, "the server speaks "
			                "protocol %u.%u, this library %u.%u: major "
			                "versions differ", major, minor,
			                SF_VERSION_MAJOR, SF_VERSION_MINOR);
		}
		if (r)
			return sfc__fail(conn, -EPROTO, "protocol error: bad %s event: %s",
			                sf__type_name(h.type), why);
		/* Consumed before it is handled: a callback may process more. */
		sf__in_consume(in, h.length);
		r = handle(conn, &ev);
		if (r)
			return r;
		handled++;
	}
	return handled;
}

int sfc__pump(struct shmframe_conn *conn)
{
	int r = sfc__process(conn);

	if (r)
		return r;
	r = sfc__flush(conn);
	if (r && r != -EAGAIN)
		return r;
	r = sfc__wait(conn, false);
	if (r)
		return r;
	return sfc__process(conn);
}

int sfc__roundtrip(struct shmframe_conn *conn)
{
	struct sf_sync s = { .serial = conn->next_sync + 1 };
	int err = sfc__request(conn, SF_SYNC, &s, sizeof s, NULL, 0);

	if (err)
		return err;
	conn->next_sync = s.serial;
	while ((int32_t)(conn->sync_done - s.serial) < 0) {
		int r = sfc__pump(conn);

		if (r < 0)
			return r;
	}
	return 0;
}

SHMFRAME_EXPORT int shmframe_dispatch(struct shmframe_conn *conn)
{
	int r;

	if (!conn)
		return -EINVAL;
	if (conn->error)
		return conn->error;
	r = sfc__flush(conn);
	if (r && r != -EAGAIN)
		return r;
	r = sfc__read_available(conn);
	if (r)
		return r;
	return sfc__process(conn);
}

SHMFRAME_EXPORT int shmframe_flush(struct shmframe_conn *conn)
{
	if (!conn)
		return -EINVAL;
	return sfc__flush(conn);
}

SHMFRAME_EXPORT int shmframe_roundtrip(struct shmframe_conn *conn)
{
	if (!conn)
		return -EINVAL;
	if (conn->error)
		return conn->error;
	return sfc__roundtrip(conn);
}
