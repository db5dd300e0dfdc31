/*
 * libFuzzer target: the server's side of the wire.  The input is a byte
 * stream as a client could send it; it is cut into messages with
 * sf__header_check and every request is decoded and, where it names
 * geometry, checked the way the server checks it.  Anything that reads
 * outside the input or overflows is caught by ASan/UBSan.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_request(const uint8_t *msg, size_t len, uint16_t type)
{
	union {
		struct sf_hello hello;
		struct sf_segment_msg seg;
		struct sf_detach_segment detach;
		struct sf_create_surface create;
		struct sf_destroy_surface destroy;
		struct sf_put_image put;
		struct sf_get_image get;
		struct sf_sync sync;
		struct sf_select_input select;
		struct sf_resize_surface resize;
	} m;
	static struct sf_rect rects[SF_MAX_RECTS];
	char text[SF_MAX_NAME + 1];
	const char *why = NULL;
	uint64_t payload;

	switch (type) {
	case SF_HELLO:
		sf__decode_hello(msg, len, &m.hello, text, &why);
		break;
	case SF_PROBE:
	case SF_ATTACH_SEGMENT:
		if (sf__decode_segment(msg, len, &m.seg, &why) == 0 &&
		    m.seg.kind == SF_SHM_POSIX && strlen(m.seg.name) >= SF_SHM_NAME_SIZE)
			__builtin_trap();
		break;
	case SF_DETACH_SEGMENT:
		sf__decode_detach_segment(msg, len, &m.detach, &why);
		break;
	case SF_CREATE_SURFACE:
		if (sf__decode_create_surface(msg, len, &m.create, text, &why) == 0 &&
		    strlen(text) != m.create.title_len)
			__builtin_trap();
		break;
	case SF_DESTROY_SURFACE:
		sf__decode_destroy_surface(msg, len, &m.destroy, &why);
		break;
	case SF_PUT_IMAGE:
		if (sf__decode_put_image(msg, len, &m.put, rects, &why) == 0) {
			for (uint32_t i = 0; i < m.put.n_rects; i++)
				sf__rect_inside(&rects[i], 1920, 1080);
			if (m.put.n_rects)
				sf__payload_size(rects, m.put.n_rects, &payload);
			if (m.put.segment)
				sf__check_buffer(1920, 1080, m.put.offset, m.put.stride,
				                 (uint64_t)1 << 30, &why);
		}
		break;
	case SF_GET_IMAGE:
		if (sf__decode_get_image(msg, len, &m.get, &why) == 0) {
			sf__rect_inside(&m.get.rect, 640, 480);
			if (m.get.segment)
				sf__check_buffer(m.get.rect.width % (SF_MAX_DIMENSION + 1),
				                 m.get.rect.height % (SF_MAX_DIMENSION + 1),
				                 m.get.offset, m.get.stride, 1u << 24, &why);
		}
		break;
	case SF_SYNC:
		sf__decode_sync(msg, len, &m.sync, &why);
		break;
	case SF_SELECT_INPUT:
		if (sf__decode_select_input(msg, len, &m.select, &why) == 0 &&
		    (m.select.mask & ~(uint32_t)SF_EVENT_ALL))
			__builtin_trap();
		break;
	case SF_RESIZE_SURFACE:
		/* What the server then counts (surface memory) must not
		 * overflow for any size the decoder lets through. */
		if (sf__decode_resize_surface(msg, len, &m.resize, &why) == 0 &&
		    (m.resize.width - 1 >= SF_MAX_DIMENSION ||
		     m.resize.height - 1 >= SF_MAX_DIMENSION))
			__builtin_trap();
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size > 0) {
		struct sf_header hdr;
		const char *why;
		int r = sf__header_check(data, size, SF_MAX_MESSAGE, &hdr, &why);

		if (r <= 0 || hdr.length > size)
			break;
		decode_request(data, hdr.length, hdr.type);
		data += hdr.length;
		size -= hdr.length;
	}
	return 0;
}
