/*
 * libFuzzer target: the client library's side of the wire.  The input is a
 * byte stream as a server could send it; every event is decoded by
 * libshmframe's own decoder and checked, including the size of an inline
 * IMAGE payload and what the input events (2.2) promise the callbacks:
 * key text that is UTF-8 and fits, a button held exactly when pressed, a
 * configure with a size the library can resize to.  An inline IMAGE in
 * blocks (2.3) is decoded as the library decodes it (protocol/blocks.c),
 * into an image of exactly its rectangle (ASan sees a byte written past
 * it), and a payload that decoded must have filled it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "client-private.h"
#include "text.h"

/* Larger IMAGE payloads in blocks are not decoded (the input ends). */
#define BLOCKS_IMAGE_MAX (4u << 20)

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
 * inline payload that follow it, or for an IMAGE whose payload is blocks
 * 0 with the IMAGE in *blocks and *in_blocks set. */
static size_t decode_event(const uint8_t *msg, const struct sf_header *hdr,
                           struct sf_image *blocks, bool *in_blocks)
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
	if (ev.type == SF_IMAGE && (ev.u.image.hdr.flags & SF_IMAGE_BLOCKS)) {
		*blocks = ev.u.image;
		*in_blocks = true;
		return 0;
	}
	return payload > SIZE_MAX ? SIZE_MAX : (size_t)payload;
}

/* The blocks of an IMAGE from data: the bytes they took, or SIZE_MAX
 * when they are refused or the input ends first. */
static size_t decode_blocks(const uint8_t *data, size_t size,
                            const struct sf_image *img)
{
	/* Its buffers are kept from one input to the next. */
	static struct sf_blocks_in b;
	const struct sf_rect rect = { 0, 0, img->rect.width, img->rect.height };
	uint64_t bytes = (uint64_t)rect.width * rect.height * SF_BYTES_PER_PIXEL;
	size_t used = 0;
	uint8_t *pixels;
	bool ok;

	if (bytes > BLOCKS_IMAGE_MAX || !(pixels = malloc(bytes ? bytes : 1)))
		return SIZE_MAX;
	sf__blocks_in_start(&b, pixels, (size_t)rect.width * SF_BYTES_PER_PIXEL,
	                    &rect, 1, 1u << SF_CODEC_LZ4 | 1u << SF_CODEC_ZSTD);
	for (;;) {
		uint32_t code;
		const char *why;
		struct sf_rows *rows = sf__blocks_in_next(&b, &code, &why);

		if (!rows) {
			ok = code == 0;
			if (ok != (why == NULL))
				__builtin_trap(); /* an error always says why */
			break;
		}
		if (used == size) {
			ok = false;
			break;
		}
		used += sf__rows_copy_in(rows, data + used, size - used);
	}
	if (ok && b.raw_done != bytes)
		__builtin_trap(); /* done, but not every pixel was decoded */
	free(pixels);
	return ok ? used : SIZE_MAX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	while (size > 0) {
		struct sf_header hdr;
		const char *why;
		struct sf_image blocks;
		bool in_blocks = false;
		size_t payload;
		int r = sf__header_check(data, size, SF_MAX_MESSAGE, &hdr, &why);

		if (r <= 0 || hdr.length > size)
			break;
		payload = decode_event(data, &hdr, &blocks, &in_blocks);
		data += hdr.length;
		size -= hdr.length;
		if (in_blocks &&
		    (payload = decode_blocks(data, size, &blocks)) == SIZE_MAX)
			break;
		/* Skip an inline payload the way the client would consume it. */
		if (payload > size)
			break;
		data += payload;
		size -= payload;
	}
	return 0;
}
