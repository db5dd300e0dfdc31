/*
 * libFuzzer target: the client library's side of the wire.  The input is a
 * byte stream as a server could send it; every event is decoded the way
 * libshmframe decodes it, including the size of an inline IMAGE payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t decode_event(const uint8_t *msg, size_t len, uint16_t type)
{
	union {
		struct sf_welcome welcome;
		struct sf_probe_result probe;
		struct sf_release release;
		struct sf_presented presented;
		struct sf_image image;
		struct sf_closed closed;
		struct sf_sync sync;
		struct sf_error error;
	} m;
	char text[SF_MAX_TEXT + 1];
	const char *why = NULL;
	uint64_t payload = 0;

	switch (type) {
	case SF_WELCOME:
		sf__decode_welcome(msg, len, &m.welcome, &why);
		break;
	case SF_PROBE_RESULT:
		if (sf__decode_probe_result(msg, len, &m.probe, text, &why) == 0 &&
		    strlen(text) != m.probe.text_len)
			__builtin_trap();
		break;
	case SF_RELEASE:
		sf__decode_release(msg, len, &m.release, &why);
		break;
	case SF_PRESENTED:
		sf__decode_presented(msg, len, &m.presented, &why);
		break;
	case SF_IMAGE:
		if (sf__decode_image(msg, len, &m.image, &why) == 0 &&
		    m.image.segment == 0 &&
		    sf__payload_size(&m.image.rect, 1, &payload) != 0)
			__builtin_trap(); /* a valid IMAGE always has a sane payload */
		break;
	case SF_CLOSED:
		sf__decode_closed(msg, len, &m.closed, &why);
		break;
	case SF_SYNC_DONE:
		sf__decode_sync(msg, len, &m.sync, &why);
		break;
	case SF_ERROR:
		sf__decode_error(msg, len, &m.error, text, &why);
		break;
	}
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
		payload = decode_event(data, hdr.length, hdr.type);
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
