/*
 * Input and configure events (protocol 2.2): what a viewer's window or the
 * input control socket saw, sent to the surface's client when it selected
 * it (SELECT_INPUT), and the one piece of input state the server keeps for
 * a surface, the pointer buttons held over it.
 *
 * Every event goes on the socket through the output queue (output.c),
 * never on the event ring: it takes its number there like RELEASE,
 * PRESENTED and CLOSED (c->out.sequence), so that the client handles it
 * in the one order of all its events, and it makes the client's fd
 * readable.  It counts against max_output and max_output_total like any
 * event: a client that does not read is failed SLOW, and the others go on.
 *
 * The callers are the display backends and the input control socket,
 * between requests, and SELECT_INPUT and RESIZE_SURFACE within one.  A
 * client the queueing failed is failed at once between requests (its
 * surfaces are gone when the call returns -1), and after the request
 * within one, as every answer of a request is (sfs__input_after_request).
 */
#include <string.h>

#include "server-private.h"

/* The event, when s's client selected it (bit of enum sf_event_mask).
 * 0, or -1 when the client was or will be failed for its output. */
static int send_event(struct sf_surface *s, uint32_t bit, uint16_t type,
                      void *fixed, size_t fixed_size)
{
	struct sf_client *c = s->client;

	if (!(s->input.mask & bit))
		return 0;
	if (sfs__out_message(c, type, fixed, fixed_size, NULL, 0) == 0 &&
	    !c->out.deferred_error)
		return 0;
	if (c->req.active || c->fd < 0 || c->state != SF_CLIENT_READY)
		return -1;
	/* Between requests nothing else would fail it before the next
	 * flush, and its windows must go before the caller looks at another
	 * event for them. */
	if (c->out.deferred_error) {
		c->req.type = c->out.deferred_type;
		sfs__client_fail(c, c->out.deferred_error, "%s",
		                 c->out.deferred_text);
	}
	return -1;
}

/* Only the bits the protocol defines reach the wire: the library refuses
 * an event with others (BAD_MESSAGE). */
static uint32_t known_modifiers(uint32_t modifiers)
{
	return modifiers & SF_MOD_ALL;
}

int sfs__input_key(struct sf_surface *s, const struct sf_key_input *k,
                  uint64_t time_ns)
{
	struct sf_key ev;
	size_t n = 0;

	memset(&ev, 0, sizeof ev);
	ev.surface = s->id;
	ev.keycode = k->keycode;
	ev.keysym = k->keysym;
	ev.modifiers = known_modifiers(k->modifiers);
	ev.time_ns = time_ns;
	ev.state = k->pressed ? 1 : 0;
	ev.repeat = k->pressed && k->repeat ? 1 : 0;
	/* A press's text, whole and well-formed, or none. */
	if (k->pressed)
		n = strnlen(k->text, SF_KEY_TEXT_SIZE);
	if (n && sf__utf8_valid(k->text, n)) {
		memcpy(ev.text, k->text, n);
		ev.text_len = (uint8_t)n;
	}
	return send_event(s, SF_EVENT_KEY, SF_KEY, &ev, sizeof ev);
}

int sfs__input_pointer(struct sf_surface *s, uint16_t type, int32_t x,
                      int32_t y, uint32_t modifiers, uint64_t time_ns)
{
	struct sf_pointer ev;
	uint32_t bit;

	if (type == SF_POINTER_MOTION)
		bit = SF_EVENT_POINTER_MOTION;
	else if (type == SF_POINTER_ENTER || type == SF_POINTER_LEAVE)
		bit = SF_EVENT_POINTER_CROSSING;
	else
		return 0;
	memset(&ev, 0, sizeof ev);
	ev.surface = s->id;
	ev.x = x;
	ev.y = y;
	ev.buttons = s->input.buttons;
	ev.modifiers = known_modifiers(modifiers);
	ev.time_ns = time_ns;
	return send_event(s, bit, type, &ev, sizeof ev);
}

int sfs__input_button(struct sf_surface *s, int32_t x, int32_t y,
                     uint32_t button, bool pressed, uint32_t modifiers,
                     uint64_t time_ns)
{
	struct sf_pointer_button ev;
	uint32_t bit;

	if (button < 1 || button > SF_BUTTON_MAX)
		return 0;
	bit = 1u << (button - 1);
	/* The held set is the truth the events tell: a press of a button
	 * held, or a release of one not held, changes nothing. */
	if (pressed == ((s->input.buttons & bit) != 0))
		return 0;
	s->input.buttons ^= bit;
	memset(&ev, 0, sizeof ev);
	ev.surface = s->id;
	ev.x = x;
	ev.y = y;
	ev.button = (uint8_t)button;
	ev.state = pressed ? 1 : 0;
	ev.buttons = s->input.buttons;
	ev.modifiers = known_modifiers(modifiers);
	ev.time_ns = time_ns;
	return send_event(s, SF_EVENT_POINTER_BUTTON, SF_POINTER_BUTTON, &ev,
	                  sizeof ev);
}

int sfs__input_axis(struct sf_surface *s, int32_t dx120, int32_t dy120,
                   uint64_t time_ns)
{
	struct sf_pointer_axis ev;

	memset(&ev, 0, sizeof ev);
	ev.surface = s->id;
	ev.dx120 = dx120;
	ev.dy120 = dy120;
	ev.time_ns = time_ns;
	return send_event(s, SF_EVENT_POINTER_AXIS, SF_POINTER_AXIS, &ev,
	                  sizeof ev);
}

int sfs__input_focus(struct sf_surface *s, bool focused, uint64_t time_ns)
{
	struct sf_focus ev;

	memset(&ev, 0, sizeof ev);
	ev.surface = s->id;
	ev.focused = focused ? 1 : 0;
	ev.time_ns = time_ns;
	return send_event(s, SF_EVENT_FOCUS, SF_FOCUS, &ev, sizeof ev);
}

/* A CONFIGURE of the view size with the surface's next serial. */
static int send_configure(struct sf_surface *s, uint64_t time_ns)
{
	struct sf_configure ev;

	memset(&ev, 0, sizeof ev);
	ev.surface = s->id;
	ev.width = s->input.view_width;
	ev.height = s->input.view_height;
	/* Taken even when the event is dropped with a failing client: a
	 * serial is never said twice. */
	ev.serial = ++s->input.configure_serial;
	ev.time_ns = time_ns;
	return send_event(s, SF_EVENT_CONFIGURE, SF_CONFIGURE, &ev, sizeof ev);
}

static uint32_t clamp_dimension(uint32_t v)
{
	if (v < 1)
		return 1;
	return v > SF_MAX_DIMENSION ? SF_MAX_DIMENSION : v;
}

int sfs__input_configure(struct sf_surface *s, uint32_t width,
                        uint32_t height, uint64_t time_ns)
{
	width = clamp_dimension(width);
	height = clamp_dimension(height);
	if (width == s->input.view_width && height == s->input.view_height)
		return 0;
	s->input.view_width = width;
	s->input.view_height = height;
	if (!(s->input.mask & SF_EVENT_CONFIGURE))
		return 0;
	return send_configure(s, time_ns);
}

int sfs__input_select(struct sf_surface *s, uint32_t mask)
{
	uint32_t old = s->input.mask;

	s->input.mask = mask & SF_EVENT_ALL;
	if ((s->input.mask & SF_EVENT_CONFIGURE) && !(old & SF_EVENT_CONFIGURE))
		return send_configure(s, sfs__now_ns());
	return 0;
}
