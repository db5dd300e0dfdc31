/*
 * Events: each one decoded by protocol/wire.c and routed to the handler
 * of the object it concerns (sfc__<object>_on_<event>, in the file that
 * owns that object), which checks it against what the connection is
 * waiting for and runs the listener.  Also the calls built on them:
 * dispatch, flush, roundtrip (whose SYNC_DONE is handled here) and the
 * pump that every blocking call waits with.
 */
#include <errno.h>
#include <string.h>

#include "client-private.h"

int sfc__event_decode(const void *msg, const struct sf_header *h,
                      struct sfc_event *ev, const char **why)
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
	case SF_NOTIFY:
		return sf__decode_wake(msg, len, why);
	case SF_KEY:
		return sf__decode_key(msg, len, &ev->u.key, why);
	case SF_POINTER_MOTION:
	case SF_POINTER_ENTER:
	case SF_POINTER_LEAVE:
		return sf__decode_pointer(msg, len, &ev->u.pointer, why);
	case SF_POINTER_BUTTON:
		return sf__decode_pointer_button(msg, len, &ev->u.button, why);
	case SF_POINTER_AXIS:
		return sf__decode_pointer_axis(msg, len, &ev->u.axis, why);
	case SF_FOCUS:
		return sf__decode_focus(msg, len, &ev->u.focus, why);
	case SF_CONFIGURE:
		return sf__decode_configure(msg, len, &ev->u.configure, why);
	}
	*why = "unknown event type";
	return SF_ERR_UNKNOWN_TYPE;
}

static int on_sync_done(struct shmframe_conn *conn, const struct sf_sync *s)
{
	/* Serials wrap; one not after the last SYNC sent, or not after the
	 * last answered, was never asked for. */
	if ((int32_t)(s->serial - conn->next_sync) > 0 ||
	    (int32_t)(s->serial - conn->sync_done) <= 0)
		return sfc__protocol_error(conn, "SYNC_DONE that was not asked for");
	conn->sync_done = s->serial;
	return 0;
}

/* Routes a decoded event to the file that owns its object.  WELCOME,
 * PROBE_RESULT and ERROR come in any phase; the rest only once connected.
 * Input events go to input.c, which takes them only as the program
 * selected them. */
static int route(struct shmframe_conn *conn, struct sfc_event *ev)
{
	switch (ev->type) {
	case SF_WELCOME: return sfc__conn_on_welcome(conn, &ev->u.welcome);
	case SF_PROBE_RESULT:
		return sfc__transport_on_probe_result(conn, &ev->u.probe, ev->text);
	case SF_ERROR: return sfc__conn_on_error(conn, &ev->u.error, ev->text);
	}
	if (conn->phase == SF_PHASE_HELLO)
		return sfc__protocol_error(conn, "event before WELCOME");
	switch (ev->type) {
	case SF_RELEASE: return sfc__surface_on_release(conn, &ev->u.release);
	case SF_PRESENTED: return sfc__surface_on_presented(conn, &ev->u.presented);
	case SF_CLOSED: return sfc__surface_on_closed(conn, &ev->u.closed);
	case SF_IMAGE: return sfc__readback_on_image(conn, &ev->u.image);
	case SF_SYNC_DONE: return on_sync_done(conn, &ev->u.sync);
	case SF_NOTIFY:
		/* It only woke us; the ring is looked at before every event. */
		return conn->rings ? 0 : sfc__protocol_error(conn,
		                                             "NOTIFY without rings");
	case SF_KEY:
	case SF_POINTER_MOTION:
	case SF_POINTER_BUTTON:
	case SF_POINTER_AXIS:
	case SF_POINTER_ENTER:
	case SF_POINTER_LEAVE:
	case SF_FOCUS:
	case SF_CONFIGURE:
		return sfc__surface_on_input(conn, ev);
	}
	return sfc__protocol_error(conn, "unknown event");
}

int sfc__process(struct shmframe_conn *conn)
{
	unsigned ring_left = SF_RING_EV_COUNT;
	int handled = 0;

	for (;;) {
		struct sf_in *in = &conn->in;
		struct sf_header h;
		struct sfc_event ev;
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
		/* The ring's oldest entry goes first when it is the next event;
		 * else the socket's next event is. */
		if (conn->rings) {
			r = sfc__ring_event(conn, &ev, &ring_left);
			if (r < 0)
				return r;
			/* The socket's next event comes after it. */
			if (r == SFC_RING_STOP)
				break;
			if (r > 0) {
				r = route(conn, &ev);
				if (r)
					return r;
				handled++;
				continue;
			}
		}
		r = sf__header_check(in->data + in->start, in->len, conn->max_message,
		                     &h, &why);
		if (r < 0)
			return sfc__fail(conn, -EPROTO,
			                "protocol error: bad event header: %s", why);
		if (r == 0 || in->len < h.length)
			break;
		r = sfc__event_decode(in->data + in->start, &h, &ev, &why);
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
		conn->events++;
		r = route(conn, &ev);
		if (r)
			return r;
		handled++;
	}
	return handled;
}

/*
 * Looks through the input queue for an ERROR without handling anything
 * else: the connection is dead, but the server's reason is worth more than
 * our "broken pipe".  The rows of an inline IMAGE are stepped over.
 */
bool sfc__find_error(struct shmframe_conn *conn)
{
	const uint8_t *p = conn->in.data + conn->in.start;
	size_t avail = conn->in.len;
	uint64_t skip = conn->payload.active ? conn->payload.rows.left : 0;

	/* A payload in blocks has no length to step over. */
	if (conn->payload.active && conn->payload.blocks)
		return false;
	for (;;) {
		struct sf_header h;
		struct sfc_event ev;
		const char *why;

		if (skip >= avail)
			return false;
		p += skip;
		avail -= (size_t)skip;
		skip = 0;
		if (sf__header_check(p, avail, SF_MAX_MESSAGE, &h, &why) != 1 ||
		    avail < h.length)
			return false;
		if (h.type == SF_ERROR || h.type == SF_IMAGE) {
			if (sfc__event_decode(p, &h, &ev, &why))
				return false;
			if (ev.type == SF_ERROR) {
				sfc__fail_server(conn, &ev.u.error, ev.text);
				return true;
			}
			if (ev.u.image.hdr.flags & SF_IMAGE_BLOCKS)
				return false;
			skip = sfc__image_payload(&ev.u.image);
		}
		p += h.length;
		avail -= h.length;
	}
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

int sfc__sync(struct shmframe_conn *conn)
{
	struct sf_sync s = { .serial = conn->next_sync + 1 };
	int err = sfc__request(conn, SF_SYNC, &s, sizeof s, NULL, 0);

	if (!err)
		conn->next_sync = s.serial;
	return err;
}

int sfc__roundtrip(struct shmframe_conn *conn)
{
	/* Frames held for the link go first: the answer covers them. */
	int err = sfc__inline_send_all_held(conn, true);

	if (!err)
		err = sfc__sync(conn);

	if (err)
		return err;
	while ((int32_t)(conn->sync_done - conn->next_sync) < 0) {
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
