/*
 * Input and configure events (protocol 2.2): choosing them per surface
 * (SELECT_INPUT) and taking them from the server, each turned into the
 * public event struct and given to the listener's callback.
 *
 * A server can send an event only for what the program asked for: one it
 * never offered INPUT for, for a surface the program never had, or of a
 * type the surface did not select, is a protocol error, so that a hostile
 * server cannot run callbacks a program did not ask for.  Narrowing the
 * mask is the one delay: events sent under the old mask may still be on
 * their way, so the old bits stay accepted until a SYNC queued after the
 * SELECT_INPUT is answered (everything the server sent before handling
 * the SELECT_INPUT comes before that SYNC_DONE).
 */
#include <errno.h>
#include <string.h>

#include "client-private.h"

/* The public bits and keys are the wire's. */
_Static_assert((int)SHMFRAME_EVENT_KEY == (int)SF_EVENT_KEY &&
               (int)SHMFRAME_EVENT_POINTER_MOTION == (int)SF_EVENT_POINTER_MOTION &&
               (int)SHMFRAME_EVENT_POINTER_BUTTON == (int)SF_EVENT_POINTER_BUTTON &&
               (int)SHMFRAME_EVENT_POINTER_AXIS == (int)SF_EVENT_POINTER_AXIS &&
               (int)SHMFRAME_EVENT_POINTER_CROSSING == (int)SF_EVENT_POINTER_CROSSING &&
               (int)SHMFRAME_EVENT_FOCUS == (int)SF_EVENT_FOCUS &&
               (int)SHMFRAME_EVENT_CONFIGURE == (int)SF_EVENT_CONFIGURE &&
               (int)SHMFRAME_EVENT_ALL == (int)SF_EVENT_ALL,
               "enum shmframe_event_mask is not enum sf_event_mask");
_Static_assert((int)SHMFRAME_MOD_SHIFT == (int)SF_MOD_SHIFT &&
               (int)SHMFRAME_MOD_CTRL == (int)SF_MOD_CTRL &&
               (int)SHMFRAME_MOD_ALT == (int)SF_MOD_ALT &&
               (int)SHMFRAME_MOD_SUPER == (int)SF_MOD_SUPER &&
               (int)SHMFRAME_MOD_CAPS_LOCK == (int)SF_MOD_CAPS &&
               (int)SHMFRAME_MOD_NUM_LOCK == (int)SF_MOD_NUM &&
               (int)SHMFRAME_MOD_ALTGR == (int)SF_MOD_ALTGR,
               "enum shmframe_modifier is not enum sf_modifier");
_Static_assert(sizeof(((struct shmframe_key_event *)0)->text) >
               SF_KEY_TEXT_SIZE, "a key's text and its NUL");

bool sfc__input_offered(const struct shmframe_conn *conn)
{
	return conn->welcome.minor >= 2 && (conn->welcome.caps & SF_CAP_INPUT);
}

int sfc__input_usable(struct shmframe_surface *s, const char *what)
{
	struct shmframe_conn *conn;

	if (!s)
		return -EINVAL;
	conn = s->conn;
	if (conn->error)
		return conn->error;
	if (!sfc__input_offered(conn)) {
		sfc__log(conn, SHMFRAME_LOG_ERROR, "the server (protocol %u.%u) "
		         "%s", conn->welcome.major, conn->welcome.minor, what);
		return -ENOTSUP;
	}
	return 0;
}

SHMFRAME_EXPORT int shmframe_surface_select_input(struct shmframe_surface *s,
                                                  uint32_t mask)
{
	struct shmframe_conn *conn;
	struct sf_select_input m;
	int err = sfc__input_usable(s, "sends no input events");

	if (err)
		return err;
	conn = s->conn;
	if (mask & ~(uint32_t)SHMFRAME_EVENT_ALL)
		return -EINVAL;
	m = (struct sf_select_input){ .surface = s->id, .mask = mask };
	err = sfc__request(conn, SF_SELECT_INPUT, &m, sizeof m, NULL, 0);
	if (err)
		return err;
	if (s->input_allowed & ~mask) {
		err = sfc__sync(conn);
		if (err)
			return err;
		s->input_sync = conn->next_sync;
	}
	s->input_mask = mask;
	s->input_allowed |= mask;
	return 0;
}

/* The mask bit that selects an event type, and the surface it names. */
static uint32_t event_bit(const struct sfc_event *ev, uint32_t *surface)
{
	switch (ev->type) {
	case SF_KEY:
		*surface = ev->u.key.surface;
		return SF_EVENT_KEY;
	case SF_POINTER_MOTION:
		*surface = ev->u.pointer.surface;
		return SF_EVENT_POINTER_MOTION;
	case SF_POINTER_ENTER:
	case SF_POINTER_LEAVE:
		*surface = ev->u.pointer.surface;
		return SF_EVENT_POINTER_CROSSING;
	case SF_POINTER_BUTTON:
		*surface = ev->u.button.surface;
		return SF_EVENT_POINTER_BUTTON;
	case SF_POINTER_AXIS:
		*surface = ev->u.axis.surface;
		return SF_EVENT_POINTER_AXIS;
	case SF_FOCUS:
		*surface = ev->u.focus.surface;
		return SF_EVENT_FOCUS;
	case SF_CONFIGURE:
		*surface = ev->u.configure.surface;
		return SF_EVENT_CONFIGURE;
	}
	*surface = 0;
	return 0;
}

/* 24.8 fixed point to pixels: exact in a double. */
static double fixed_to_double(int32_t v)
{
	return (double)v / SF_FIXED_ONE;
}

static void deliver_key(struct shmframe_surface *s, const struct sf_key *k)
{
	struct shmframe_key_event e;

	if (!SFC_HAS_CALLBACK(s, key))
		return;
	memset(&e, 0, sizeof e);
	e.time_ns = k->time_ns;
	e.keycode = k->keycode;
	e.keysym = k->keysym;
	e.modifiers = k->modifiers;
	e.pressed = k->state;
	e.repeat = k->repeat;
	/* The decoder checked text_len <= SF_KEY_TEXT_SIZE and no NUL in
	 * it; the memset left the terminator. */
	memcpy(e.text, k->text, k->text_len);
	s->listener->key(s->listener_data, s, &e);
}

static void deliver_pointer(struct shmframe_surface *s, uint16_t type,
                            const struct sf_pointer *p)
{
	struct shmframe_pointer_event e = {
		.time_ns = p->time_ns,
		.x = fixed_to_double(p->x),
		.y = fixed_to_double(p->y),
		.buttons = p->buttons,
		.modifiers = p->modifiers,
	};

	if (type == SF_POINTER_MOTION && SFC_HAS_CALLBACK(s, pointer_motion))
		s->listener->pointer_motion(s->listener_data, s, &e);
	else if (type == SF_POINTER_ENTER && SFC_HAS_CALLBACK(s, pointer_enter))
		s->listener->pointer_enter(s->listener_data, s, &e);
	else if (type == SF_POINTER_LEAVE && SFC_HAS_CALLBACK(s, pointer_leave))
		s->listener->pointer_leave(s->listener_data, s, &e);
}

static void deliver_button(struct shmframe_surface *s,
                           const struct sf_pointer_button *b)
{
	struct shmframe_button_event e = {
		.time_ns = b->time_ns,
		.x = fixed_to_double(b->x),
		.y = fixed_to_double(b->y),
		.button = b->button,
		.pressed = b->state,
		.buttons = b->buttons,
		.modifiers = b->modifiers,
	};

	if (SFC_HAS_CALLBACK(s, pointer_button))
		s->listener->pointer_button(s->listener_data, s, &e);
}

static void deliver_axis(struct shmframe_surface *s,
                         const struct sf_pointer_axis *a)
{
	struct shmframe_axis_event e = {
		.time_ns = a->time_ns,
		.dx = (double)a->dx120 / 120.0,
		.dy = (double)a->dy120 / 120.0,
		.dx120 = a->dx120,
		.dy120 = a->dy120,
	};

	if (SFC_HAS_CALLBACK(s, pointer_axis))
		s->listener->pointer_axis(s->listener_data, s, &e);
}

int sfc__surface_on_input(struct shmframe_conn *conn, const struct sfc_event *ev)
{
	const char *name = sf__type_name(ev->type);
	struct shmframe_surface *s;
	uint32_t id, bit = event_bit(ev, &id);
	bool stale;

	if (!sfc__input_offered(conn))
		return sfc__fail(conn, -EPROTO, "protocol error: a %s event from a "
		                "server that did not offer input events", name);
	s = sfc__event_surface(conn, id, &stale);
	if (!s)
		return stale ? 0 : sfc__fail(conn, -EPROTO, "protocol error: a %s "
		                             "event for surface %u, which this "
		                             "client never had", name, id);
	if (s->input_sync && (int32_t)(conn->sync_done - s->input_sync) >= 0) {
		s->input_allowed = s->input_mask;
		s->input_sync = 0;
	}
	if (!(s->input_allowed & bit))
		return sfc__fail(conn, -EPROTO, "protocol error: a %s event for "
		                "surface %u, which did not select it", name, id);
	switch (ev->type) {
	case SF_KEY:
		deliver_key(s, &ev->u.key);
		break;
	case SF_POINTER_MOTION:
	case SF_POINTER_ENTER:
	case SF_POINTER_LEAVE:
		deliver_pointer(s, ev->type, &ev->u.pointer);
		break;
	case SF_POINTER_BUTTON:
		deliver_button(s, &ev->u.button);
		break;
	case SF_POINTER_AXIS:
		deliver_axis(s, &ev->u.axis);
		break;
	case SF_FOCUS:
		if (SFC_HAS_CALLBACK(s, focus))
			s->listener->focus(s->listener_data, s,
			                   (int)ev->u.focus.focused,
			                   ev->u.focus.time_ns);
		break;
	case SF_CONFIGURE: {
		const struct sf_configure *c = &ev->u.configure;

		/* Growing (PROTOCOL.md: one more each time), so that a
		 * resize can tell a serial the server sent from one it did
		 * not. */
		if (s->configure_serial &&
		    (int32_t)(c->serial - s->configure_serial) <= 0)
			return sfc__fail(conn, -EPROTO, "protocol error: CONFIGURE "
			                "serial %u after %u", c->serial,
			                s->configure_serial);
		s->configure_serial = c->serial;
		if (SFC_HAS_CALLBACK(s, configure))
			s->listener->configure(s->listener_data, s, c->width,
			                       c->height, c->serial);
		break;
	}
	}
	return 0;
}
