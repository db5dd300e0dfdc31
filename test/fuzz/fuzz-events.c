/*
 * libFuzzer target: the client library's side of the wire.  The input is a
 * byte stream as a server could send it; every event is decoded by
 * libshmframe's own decoder and checked, including the size of an inline
 * IMAGE payload and what the input events (2.2) promise the callbacks:
 * key text that is UTF-8 and fits, a button held exactly when pressed, a
 * configure with a size the library can resize to.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "client-private.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the listener's callbacks may rely on, for an event that decoded. */
static void check_input(const struct sfc_event *ev)
{
	const struct sf_key *k = &ev->u.key;
	const struct sf_pointer_button *b = &ev->u.button;
	const struct sf_configure *c = &ev->u.configure;

	switch (ev->type) {
	case SF_KEY:
		if (k->text_len > SF_KEY_TEXT_SIZE ||
		    !sf__utf8_valid(k->text, k->text_len) ||
		    (k->text_len && !k->state) || k->modifiers & ~SF_MOD_ALL)
			__builtin_trap();
		break;
	case SF_POINTER_BUTTON:
		if (b->button < 1 || b->button > SF_BUTTON_MAX || b->state > 1 ||
		    ((b->buttons >> (b->button - 1)) & 1) != b->state)
			__builtin_trap();
		break;
	case SF_POINTER_MOTION:
	case SF_POINTER_ENTER:
	case SF_POINTER_LEAVE:
		if (ev->u.pointer.modifiers & ~SF_MOD_ALL)
			__builtin_trap();
		break;
	case SF_CONFIGURE:
		if (!c->serial || !c->width || !c->height ||
		    c->width > SF_MAX_DIMENSION || c->height > SF_MAX_DIMENSION)
			__builtin_trap();
		break;
	}
}

/* Decodes one event with the library's decoder; returns the bytes of
 * inline payload that follow it. */
static size_t decode_event(const uint8_t *msg, const struct sf_header *hdr)
{
	struct sfc_event ev;
	const char *why = NULL;
	uint64_t payload = 0;

	if (sfc__event_decode(msg, hdr, &ev, &why) != 0)
		return 0;
	if (ev.type == SF_PROBE_RESULT && strlen(ev.text) != ev.u.probe.text_len)
		__builtin_trap();
	if (ev.type == SF_IMAGE && ev.u.image.segment == 0 &&
	    sf__payload_size(&ev.u.image.rect, 1, &payload) != 0)
		__builtin_trap(); /* a valid IMAGE always has a sane payload */
	check_input(&ev);
	return payload > SIZE_MAX ? SIZE_MAX : (size_t)payload;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size > 0) {
		struct sf_header hdr;
		const char *why;
		size_t payload;
		int r = sf__header_check(data, size, SF_MAX_MESSAGE, &hdr, &why);

		if (r <= 0 || hdr.length > size)
			break;
		payload = decode_event(data, &hdr);
		data += hdr.length;
		size -= hdr.length;
		/* Skip an inline payload the way the client would consume it. */
		if (payload > size)
			break;
		data += payload;
		size -= payload;
	}
	return 0;
}
