/*
 * protocol/wire: every message survives encode + decode unchanged, and every
 * decoder refuses every malformed form we can think of (short, long,
 * misaligned, wrong type, bad strings, bad enums, empty or overflowing
 * rectangles), as do the overflow-safe size checks.
 */
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "wire.h"

#define BUF_SIZE 8192

/* Decoders wrapped to one shape; the decoded fixed part and tail land in
 * these so the round-trip tests can compare them with what was encoded. */
static uint8_t out_fixed[128];
static char out_text[SF_MAX_TEXT + 1];
static struct sf_rect out_rects[SF_MAX_RECTS];

#define DECODER(fn, type, ...)                                               \
	static int dec_##fn(const void *m, size_t n, const char **why)      \
	{                                                                    \
		type o;                                                      \
		int r;                                                       \
		memset(&o, 0xa5, sizeof o);                                  \
		r = sf__decode_##fn(m, n, &o, __VA_ARGS__ why);            \
		if (r == 0)                                                  \
			memcpy(out_fixed, &o, sizeof o);                     \
		return r;                                                    \
	}

DECODER(hello, struct sf_hello, out_text,)
DECODER(welcome, struct sf_welcome,)
DECODER(segment, struct sf_segment_msg,)
DECODER(probe_result, struct sf_probe_result, out_text,)
DECODER(detach_segment, struct sf_detach_segment,)
DECODER(create_surface, struct sf_create_surface, out_text,)
DECODER(destroy_surface, struct sf_destroy_surface,)
DECODER(put_image, struct sf_put_image, out_rects,)
DECODER(get_image, struct sf_get_image,)
DECODER(image, struct sf_image,)
DECODER(sync, struct sf_sync,)
DECODER(release, struct sf_release,)
DECODER(presented, struct sf_presented,)
DECODER(closed, struct sf_closed,)
DECODER(error, struct sf_error, out_text,)
DECODER(select_input, struct sf_select_input,)
DECODER(resize_surface, struct sf_resize_surface,)
DECODER(key, struct sf_key,)
DECODER(pointer, struct sf_pointer,)
DECODER(pointer_button, struct sf_pointer_button,)
DECODER(pointer_axis, struct sf_pointer_axis,)
DECODER(focus, struct sf_focus,)
DECODER(configure, struct sf_configure,)

typedef int decode_fn(const void *m, size_t n, const char **why);

/* One valid instance of each message. */
struct sample {
	const char *name;
	uint16_t type;
	uint16_t other_type; /* a second type the same decoder takes, or 0 */
	decode_fn *decode;
	size_t fixed_size;
	uint8_t fixed[128];
	const void *tail;
	size_t tail_len;
};

static const uint8_t nonce[SF_NONCE_SIZE] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
};
static const struct sf_rect two_rects[2] = {
	{ 0, 0, 10, 20 }, { 5, 7, 300, 200 },
};

static struct sample samples[32];
static int n_samples;

static void add_sample(const char *name, uint16_t type, uint16_t other,
                       decode_fn *decode, const void *fixed, size_t fixed_size,
                       const void *tail, size_t tail_len)
{
	struct sample *s = &samples[n_samples++];

	ASSERT(n_samples <= (int)(sizeof samples / sizeof samples[0]));
	s->name = name;
	s->type = type;
	s->other_type = other;
	s->decode = decode;
	s->fixed_size = fixed_size;
	memcpy(s->fixed, fixed, fixed_size);
	s->tail = tail;
	s->tail_len = tail_len;
}

static void make_samples(void)
{
	static const char client_name[] = "test-client"; /* 11: padded */
	static const char title[] = "surface title";
	static const char ok_text[] = "ok";
	static const char err_text[] = "too many surfaces";

	if (n_samples)
		return;
	{
		struct sf_hello m = { .magic = SF_MAGIC, .major = SF_VERSION_MAJOR,
			.minor = SF_VERSION_MINOR, .caps = SF_CAP_ALL,
			.name_len = sizeof client_name - 1 };
		for (unsigned i = 0; i < SF_COOKIE_SIZE; i++)
			m.cookie[i] = (uint8_t)(0xf0 + i);
		add_sample("HELLO", SF_HELLO, 0, dec_hello, &m, sizeof m,
		           client_name, sizeof client_name - 1);
	}
	{
		struct sf_welcome m = { .magic = SF_MAGIC,
			.major = SF_VERSION_MAJOR, .minor = 0,
			.challenge = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
			               0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 },
			.caps = SF_CAP_SHM_POSIX | SF_CAP_INLINE, .client_id = 7,
			.max_width = 4096, .max_height = 2160, .max_surfaces = 8,
			.max_segments = 16, .max_segment_size = 1ull << 28,
			.max_mapped = 1ull << 30, .max_message = SF_MAX_MESSAGE,
			.max_inflight = 8, .max_output = 1ull << 24 };
		add_sample("WELCOME", SF_WELCOME, 0, dec_welcome, &m, sizeof m,
		           NULL, 0);
	}
	{
		struct sf_segment_msg m = { .id = 0, .kind = SF_SHM_MEMFD,
			.size = 4096, .shmid = -1 };
		memcpy(m.nonce, nonce, sizeof nonce);
		add_sample("PROBE", SF_PROBE, SF_ATTACH_SEGMENT, dec_segment, &m,
		           sizeof m, NULL, 0);
	}
	{
		struct sf_segment_msg m = { .id = 3, .kind = SF_SHM_POSIX,
			.flags = SF_SEGMENT_WRITABLE, .size = 1u << 20, .shmid = -1 };
		memcpy(m.nonce, nonce, sizeof nonce);
		strcpy(m.name, "/shmframe-0123abcdEF_-");
		add_sample("ATTACH_SEGMENT", SF_ATTACH_SEGMENT, SF_PROBE,
		           dec_segment, &m, sizeof m, NULL, 0);
	}
	{
		struct sf_probe_result m = { .kind = SF_SHM_POSIX,
			.status = SF_PROBE_OK, .text_len = sizeof ok_text - 1 };
		add_sample("PROBE_RESULT", SF_PROBE_RESULT, 0, dec_probe_result,
		           &m, sizeof m, ok_text, sizeof ok_text - 1);
	}
	{
		struct sf_detach_segment m = { .id = 3 };
		add_sample("DETACH_SEGMENT", SF_DETACH_SEGMENT, 0,
		           dec_detach_segment, &m, sizeof m, NULL, 0);
	}
	{
		struct sf_create_surface m = { .id = 1, .width = 333,
			.height = 257, .format = SF_FORMAT_ARGB8888,
			.present_mode = SF_PRESENT_COPY,
			.title_len = sizeof title - 1 };
		add_sample("CREATE_SURFACE", SF_CREATE_SURFACE, 0,
		           dec_create_surface, &m, sizeof m, title,
		           sizeof title - 1);
	}
	{
		struct sf_destroy_surface m = { .id = 1 };
		add_sample("DESTROY_SURFACE", SF_DESTROY_SURFACE, 0,
		           dec_destroy_surface, &m, sizeof m, NULL, 0);
	}
	{
		struct sf_put_image m = { .surface = 1, .serial = 9, .segment = 3,
			.buffer = 2, .offset = 4096, .stride = 1344, .n_rects = 2 };
		add_sample("PUT_IMAGE", SF_PUT_IMAGE, 0, dec_put_image, &m,
		           sizeof m, two_rects, sizeof two_rects);
	}
	{
		struct sf_get_image m = { .surface = 1, .serial = 10,
			.rect = { 1, 2, 30, 40 }, .segment = 3, .stride = 128,
			.offset = 65536 };
		add_sample("GET_IMAGE", SF_GET_IMAGE, 0, dec_get_image, &m,
		           sizeof m, NULL, 0);
	}
	{
		struct sf_image m = { .surface = 1, .serial = 10,
			.rect = { 1, 2, 30, 40 }, .format = SF_FORMAT_XRGB8888 };
		add_sample("IMAGE", SF_IMAGE, 0, dec_image, &m, sizeof m, NULL, 0);
	}
	{
		struct sf_sync m = { .serial = 77 };
		add_sample("SYNC", SF_SYNC, SF_SYNC_DONE, dec_sync, &m, sizeof m,
		           NULL, 0);
		add_sample("SYNC_DONE", SF_SYNC_DONE, SF_SYNC, dec_sync, &m,
		           sizeof m, NULL, 0);
	}
	{
		struct sf_release m = { .surface = 1, .buffer = 2, .serial = 9 };
		add_sample("RELEASE", SF_RELEASE, 0, dec_release, &m, sizeof m,
		           NULL, 0);
	}
	{
		struct sf_presented m = { .surface = 1, .serial = 9,
			.flags = SF_PRESENTED_DISCARDED,
			.time_ns = 0x0123456789abcdefull };
		add_sample("PRESENTED", SF_PRESENTED, 0, dec_presented, &m,
		           sizeof m, NULL, 0);
	}
	{
		struct sf_closed m = { .surface = 4 };
		add_sample("CLOSED", SF_CLOSED, 0, dec_closed, &m, sizeof m, NULL, 0);
	}
	{
		struct sf_error m = { .code = SF_ERR_LIMIT, .sequence = 5,
			.request_type = SF_CREATE_SURFACE,
			.text_len = sizeof err_text - 1 };
		add_sample("ERROR", SF_ERROR, 0, dec_error, &m, sizeof m, err_text,
		           sizeof err_text - 1);
	}
	/* 2.2 */
	{
		struct sf_select_input m = { .surface = 3,
			.mask = SF_EVENT_ALL };
		add_sample("SELECT_INPUT", SF_SELECT_INPUT, 0, dec_select_input,
		           &m, sizeof m, NULL, 0);
	}
	{
		struct sf_resize_surface m = { .surface = 3, .width = 640,
			.height = SF_MAX_DIMENSION, .serial = 7 };
		add_sample("RESIZE_SURFACE", SF_RESIZE_SURFACE, 0,
		           dec_resize_surface, &m, sizeof m, NULL, 0);
	}
	{
		struct sf_key m = { .surface = 3, .keycode = 4, .keysym = 'a',
			.modifiers = SF_MOD_ALL, .time_ns = 0x0123456789abcdefull,
			.state = 1, .repeat = 1, .text_len = 12,
			.text = "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" };
		add_sample("KEY", SF_KEY, 0, dec_key, &m, sizeof m, NULL, 0);
	}
	{
		struct sf_pointer m = { .surface = 3, .x = -256, .y = 1 << 20,
			.buttons = SF_BUTTONS_ALL, .modifiers = SF_MOD_SHIFT,
			.time_ns = 99 };
		add_sample("POINTER_MOTION", SF_POINTER_MOTION, SF_POINTER_ENTER,
		           dec_pointer, &m, sizeof m, NULL, 0);
	}
	{
		struct sf_pointer_button m = { .surface = 3, .x = 5, .y = -5,
			.button = 3, .state = 1, .buttons = 0x4 | 0x1,
			.modifiers = SF_MOD_CTRL, .time_ns = 98 };
		add_sample("POINTER_BUTTON", SF_POINTER_BUTTON, 0,
		           dec_pointer_button, &m, sizeof m, NULL, 0);
	}
	{
		struct sf_pointer_axis m = { .surface = 3, .dx120 = -60,
			.dy120 = 240, .time_ns = 97 };
		add_sample("POINTER_AXIS", SF_POINTER_AXIS, 0, dec_pointer_axis,
		           &m, sizeof m, NULL, 0);
	}
	{
		struct sf_focus m = { .surface = 3, .focused = 1, .time_ns = 96 };
		add_sample("FOCUS", SF_FOCUS, 0, dec_focus, &m, sizeof m, NULL, 0);
	}
	{
		struct sf_configure m = { .surface = 3, .width = 1,
			.height = SF_MAX_DIMENSION, .serial = 1, .time_ns = 95 };
		add_sample("CONFIGURE", SF_CONFIGURE, 0, dec_configure, &m,
		           sizeof m, NULL, 0);
	}
}

static struct sample *sample(const char *name)
{
	make_samples();
	for (int i = 0; i < n_samples; i++)
		if (strcmp(samples[i].name, name) == 0)
			return &samples[i];
	FAIL("no sample %s", name);
}

/* Encodes s into buf; returns the length. */
static size_t encode(const struct sample *s, uint8_t *buf)
{
	uint8_t fixed[128];
	size_t n;

	memcpy(fixed, s->fixed, s->fixed_size);
	n = sf__encode(buf, BUF_SIZE, s->type, fixed, s->fixed_size, s->tail,
	               s->tail_len);
	ASSERT_MSG(n > 0, "%s does not encode", s->name);
	return n;
}

static void set_length(uint8_t *buf, uint32_t length)
{
	memcpy(buf + offsetof(struct sf_header, length), &length, sizeof length);
}

static void set_type(uint8_t *buf, uint16_t type)
{
	memcpy(buf + offsetof(struct sf_header, type), &type, sizeof type);
}

static void put16(uint8_t *buf, size_t off, uint16_t v)
{
	memcpy(buf + off, &v, sizeof v);
}

static void put32(uint8_t *buf, size_t off, uint32_t v)
{
	memcpy(buf + off, &v, sizeof v);
}

static void put64(uint8_t *buf, size_t off, uint64_t v)
{
	memcpy(buf + off, &v, sizeof v);
}

/* The decoder must refuse buf[0..len) with a nonzero code and a reason. */
#define EXPECT_REJECT(s, buf, len)                                           \
	do {                                                                 \
		const char *why_ = NULL;                                     \
		int r_ = (s)->decode((buf), (len), &why_);                   \
		ASSERT_MSG(r_ > 0 && r_ <= SF_ERR_CODE_MAX,                  \
		           "%s: decoder returned %d", (s)->name, r_);        \
		ASSERT_MSG(why_ && why_[0], "%s: no reason given", (s)->name); \
	} while (0)

#define EXPECT_CODE(s, buf, len, code)                                       \
	do {                                                                 \
		const char *why_ = NULL;                                     \
		int r_ = (s)->decode((buf), (len), &why_);                   \
		ASSERT_MSG(r_ == (code), "%s: decoder returned %d, not %d (%s)", \
		           (s)->name, r_, (code), #code);                    \
		ASSERT_MSG(why_ && why_[0], "%s: no reason given", (s)->name); \
	} while (0)

#define EXPECT_ACCEPT(s, buf, len)                                           \
	do {                                                                 \
		const char *why_ = NULL;                                     \
		int r_ = (s)->decode((buf), (len), &why_);                   \
		ASSERT_MSG(r_ == 0, "%s: rejected: %s", (s)->name,           \
		           why_ ? why_ : "(no reason)");                     \
	} while (0)

/* ---- round trips ---------------------------------------------------- */

static void check_roundtrip(const char *name)
{
	struct sample *s = sample(name);
	uint8_t buf[BUF_SIZE];
	struct sf_header h;
	size_t len = encode(s, buf);

	memcpy(&h, buf, sizeof h);
	ASSERT_EQ(h.type, s->type);
	ASSERT_EQ(h.flags, 0);
	ASSERT_EQ(h.length, len);
	ASSERT_EQ(len % 4, 0);
	ASSERT_EQ(len, s->fixed_size + ((s->tail_len + 3) & ~(size_t)3));
	memset(out_fixed, 0, sizeof out_fixed);
	memset(out_text, 0x5a, sizeof out_text);
	EXPECT_ACCEPT(s, buf, len);
	/* Everything after the header must come back byte for byte. */
	ASSERT_MSG(memcmp(out_fixed + sizeof h, s->fixed + sizeof h,
	                  s->fixed_size - sizeof h) == 0,
	           "%s: decoded fields differ from the encoded ones", name);
	ASSERT(memcmp(out_fixed, &h, sizeof h) == 0);
	if (s->type == SF_PUT_IMAGE) {
		ASSERT(memcmp(out_rects, s->tail, s->tail_len) == 0);
	} else if (s->tail_len) {
		ASSERT_EQ(strlen(out_text), s->tail_len);
		ASSERT(memcmp(out_text, s->tail, s->tail_len) == 0);
	}
}

TEST(hello_round_trips) { check_roundtrip("HELLO"); }
TEST(welcome_round_trips) { check_roundtrip("WELCOME"); }
TEST(probe_round_trips) { check_roundtrip("PROBE"); }
TEST(attach_segment_round_trips) { check_roundtrip("ATTACH_SEGMENT"); }
TEST(probe_result_round_trips) { check_roundtrip("PROBE_RESULT"); }
TEST(detach_segment_round_trips) { check_roundtrip("DETACH_SEGMENT"); }
TEST(create_surface_round_trips) { check_roundtrip("CREATE_SURFACE"); }
TEST(destroy_surface_round_trips) { check_roundtrip("DESTROY_SURFACE"); }
TEST(put_image_round_trips) { check_roundtrip("PUT_IMAGE"); }
TEST(get_image_round_trips) { check_roundtrip("GET_IMAGE"); }
TEST(image_round_trips) { check_roundtrip("IMAGE"); }
TEST(sync_round_trips) { check_roundtrip("SYNC"); }
TEST(sync_done_round_trips) { check_roundtrip("SYNC_DONE"); }
TEST(release_round_trips) { check_roundtrip("RELEASE"); }
TEST(presented_round_trips) { check_roundtrip("PRESENTED"); }
TEST(closed_round_trips) { check_roundtrip("CLOSED"); }
TEST(error_round_trips) { check_roundtrip("ERROR"); }
TEST(select_input_round_trips) { check_roundtrip("SELECT_INPUT"); }
TEST(resize_surface_round_trips) { check_roundtrip("RESIZE_SURFACE"); }
TEST(key_round_trips) { check_roundtrip("KEY"); }
TEST(pointer_motion_round_trips) { check_roundtrip("POINTER_MOTION"); }
TEST(pointer_button_round_trips) { check_roundtrip("POINTER_BUTTON"); }
TEST(pointer_axis_round_trips) { check_roundtrip("POINTER_AXIS"); }
TEST(focus_round_trips) { check_roundtrip("FOCUS"); }
TEST(configure_round_trips) { check_roundtrip("CONFIGURE"); }

TEST(the_pointer_decoder_takes_enter_and_leave_too)
{
	struct sample *s = sample("POINTER_MOTION");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	set_type(buf, SF_POINTER_ENTER);
	EXPECT_ACCEPT(s, buf, len);
	set_type(buf, SF_POINTER_LEAVE);
	EXPECT_ACCEPT(s, buf, len);
	set_type(buf, SF_POINTER_BUTTON);
	EXPECT_REJECT(s, buf, len);
}

/* One field of a 2.2 sample set to a bad value: the decoder refuses it
 * with BAD_MESSAGE. */
struct bad_field {
	const char *name;
	size_t off, size;
	uint64_t value;
};

#define BAD(name, type, field, value)                                        	{ name, offsetof(type, field), sizeof(((type *)0)->field), value }

TEST(input_and_resize_decoders_reject_each_bad_field)
{
	static const struct bad_field bad[] = {
		BAD("SELECT_INPUT", struct sf_select_input, surface, 0),
		BAD("SELECT_INPUT", struct sf_select_input, mask, 0x80),
		BAD("SELECT_INPUT", struct sf_select_input, mask, 0x80000000u),
		BAD("RESIZE_SURFACE", struct sf_resize_surface, surface, 0),
		BAD("RESIZE_SURFACE", struct sf_resize_surface, width, 0),
		BAD("RESIZE_SURFACE", struct sf_resize_surface, height, 0),
		BAD("RESIZE_SURFACE", struct sf_resize_surface, width,
		    SF_MAX_DIMENSION + 1),
		BAD("RESIZE_SURFACE", struct sf_resize_surface, height,
		    0xffffffffu),
		BAD("KEY", struct sf_key, surface, 0),
		BAD("KEY", struct sf_key, pad, 1),
		BAD("KEY", struct sf_key, state, 2),
		BAD("KEY", struct sf_key, repeat, 2),
		BAD("KEY", struct sf_key, text_len, 13),
		BAD("KEY", struct sf_key, modifiers, 0x80),
		BAD("KEY", struct sf_key, text[0], 0xff),
		BAD("POINTER_MOTION", struct sf_pointer, surface, 0),
		BAD("POINTER_MOTION", struct sf_pointer, pad, 1),
		BAD("POINTER_MOTION", struct sf_pointer, buttons, 0x20),
		BAD("POINTER_MOTION", struct sf_pointer, modifiers, 0x80),
		BAD("POINTER_BUTTON", struct sf_pointer_button, surface, 0),
		BAD("POINTER_BUTTON", struct sf_pointer_button, pad, 1),
		BAD("POINTER_BUTTON", struct sf_pointer_button, button, 0),
		BAD("POINTER_BUTTON", struct sf_pointer_button, button, 6),
		BAD("POINTER_BUTTON", struct sf_pointer_button, state, 2),
		/* Pressed, yet not held after. */
		BAD("POINTER_BUTTON", struct sf_pointer_button, buttons, 0x1),
		BAD("POINTER_BUTTON", struct sf_pointer_button, buttons, 0x24),
		BAD("POINTER_BUTTON", struct sf_pointer_button, modifiers, 0x80),
		BAD("POINTER_AXIS", struct sf_pointer_axis, surface, 0),
		BAD("POINTER_AXIS", struct sf_pointer_axis, pad, 1),
		BAD("FOCUS", struct sf_focus, surface, 0),
		BAD("FOCUS", struct sf_focus, focused, 2),
		BAD("CONFIGURE", struct sf_configure, surface, 0),
		BAD("CONFIGURE", struct sf_configure, width, 0),
		BAD("CONFIGURE", struct sf_configure, height,
		    SF_MAX_DIMENSION + 1),
		BAD("CONFIGURE", struct sf_configure, serial, 0),
	};
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sample *s = sample(bad[i].name);
		size_t len = encode(s, buf);
		const char *why = NULL;
		int r;

		memcpy(buf + bad[i].off, &bad[i].value, bad[i].size);
		r = s->decode(buf, len, &why);
		ASSERT_MSG(r == SF_ERR_BAD_MESSAGE, "%s, bad field %zu at %zu: "
		           "decoder returned %d", bad[i].name, i, bad[i].off, r);
		ASSERT_MSG(why && why[0], "%s: no reason given", bad[i].name);
	}
}

TEST(key_decoder_rejects_text_on_a_release_and_repeat_without_a_press)
{
	struct sample *s = sample("KEY");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	/* Released, with text. */
	buf[offsetof(struct sf_key, state)] = 0;
	buf[offsetof(struct sf_key, repeat)] = 0;
	EXPECT_CODE(s, buf, len, SF_ERR_BAD_MESSAGE);
	/* Released, no text, but repeated. */
	buf[offsetof(struct sf_key, text_len)] = 0;
	memset(buf + offsetof(struct sf_key, text), 0, SF_KEY_TEXT_SIZE);
	buf[offsetof(struct sf_key, repeat)] = 1;
	EXPECT_CODE(s, buf, len, SF_ERR_BAD_MESSAGE);
	buf[offsetof(struct sf_key, repeat)] = 0;
	EXPECT_ACCEPT(s, buf, len);
	/* Bytes after the text must be zero; a NUL inside it is refused. */
	encode(s, buf);
	buf[offsetof(struct sf_key, text_len)] = 3;
	EXPECT_CODE(s, buf, len, SF_ERR_BAD_MESSAGE);
	memset(buf + offsetof(struct sf_key, text) + 3, 0, SF_KEY_TEXT_SIZE - 3);
	EXPECT_ACCEPT(s, buf, len);
	buf[offsetof(struct sf_key, text) + 1] = 0;
	EXPECT_CODE(s, buf, len, SF_ERR_BAD_MESSAGE);
}

TEST(a_released_button_must_not_be_held_after)
{
	struct sample *s = sample("POINTER_BUTTON");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	buf[offsetof(struct sf_pointer_button, state)] = 0;
	EXPECT_CODE(s, buf, len, SF_ERR_BAD_MESSAGE); /* 3 still held */
	put32(buf, offsetof(struct sf_pointer_button, buttons), 0x1);
	EXPECT_ACCEPT(s, buf, len);
}

TEST(every_message_type_has_a_sample)
{
	static const uint16_t types[] = {
		SF_HELLO, SF_PROBE, SF_ATTACH_SEGMENT, SF_DETACH_SEGMENT,
		SF_CREATE_SURFACE, SF_DESTROY_SURFACE, SF_PUT_IMAGE, SF_GET_IMAGE,
		SF_SYNC, SF_WELCOME, SF_PROBE_RESULT, SF_RELEASE, SF_PRESENTED,
		SF_IMAGE, SF_CLOSED, SF_SYNC_DONE, SF_ERROR, SF_SELECT_INPUT,
		SF_RESIZE_SURFACE, SF_KEY, SF_POINTER_MOTION, SF_POINTER_BUTTON,
		SF_POINTER_AXIS, SF_FOCUS, SF_CONFIGURE,
	};

	make_samples();
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		int found = 0;
		for (int j = 0; j < n_samples; j++)
			found |= samples[j].type == types[i];
		ASSERT_MSG(found, "type 0x%x has no round-trip sample", types[i]);
	}
}

TEST(put_image_without_rectangles_round_trips)
{
	struct sf_put_image m = { .surface = 2, .serial = 1 };
	struct sf_put_image o;
	uint8_t buf[BUF_SIZE];
	size_t len = sf__encode(buf, sizeof buf, SF_PUT_IMAGE, &m, sizeof m,
	                        NULL, 0);

	ASSERT_EQ(len, sizeof m);
	ASSERT_EQ(sf__decode_put_image(buf, len, &o, out_rects, NULL), 0);
	ASSERT_EQ(o.n_rects, 0);
	ASSERT_EQ(o.segment, 0);
	ASSERT_EQ(o.surface, 2);
}

TEST(segment_messages_of_every_kind_round_trip)
{
	for (int kind = SF_SHM_MEMFD; kind <= SF_SHM_SYSV; kind++) {
		struct sf_segment_msg m = { .id = 9, .kind = (uint8_t)kind,
			.size = 1 << 16, .shmid = kind == SF_SHM_SYSV ? 4242 : -1 };
		struct sf_segment_msg o;
		uint8_t buf[BUF_SIZE];
		size_t len;

		if (kind == SF_SHM_POSIX)
			strcpy(m.name, SF_SHM_NAME_PREFIX "abc");
		memcpy(m.nonce, nonce, sizeof nonce);
		len = sf__encode(buf, sizeof buf, SF_ATTACH_SEGMENT, &m, sizeof m,
		                 NULL, 0);
		ASSERT_EQ(len, sizeof m);
		ASSERT_EQ(sf__decode_segment(buf, len, &o, NULL), 0);
		ASSERT(memcmp(&o, &m, sizeof m) == 0);
	}
}

/* ---- encoding -------------------------------------------------------- */

TEST(encode_pads_the_tail_with_zeros)
{
	struct sf_hello m = { .magic = SF_MAGIC, .major = 1, .name_len = 5 };
	uint8_t buf[BUF_SIZE];
	size_t len;

	memset(buf, 0xee, sizeof buf);
	len = sf__encode(buf, sizeof buf, SF_HELLO, &m, sizeof m, "abcde", 5);
	ASSERT_EQ(len, sizeof m + 8);
	ASSERT(memcmp(buf + sizeof m, "abcde\0\0\0", 8) == 0);
	ASSERT_EQ(buf[len], 0xee); /* nothing written past the message */
}

TEST(encode_refuses_a_buffer_too_small)
{
	struct sf_sync m = { .serial = 1 };
	uint8_t buf[BUF_SIZE];

	ASSERT_EQ(sf__encode(buf, sizeof m - 1, SF_SYNC, &m, sizeof m, NULL, 0), 0);
	ASSERT_EQ(sf__encode(buf, sizeof m, SF_SYNC, &m, sizeof m, NULL, 0),
	          sizeof m);
}

TEST(encode_refuses_messages_over_the_limit)
{
	static uint8_t big[SF_MAX_MESSAGE + 64], tail[SF_MAX_MESSAGE + 64];
	struct sf_hello m = { .magic = SF_MAGIC, .major = 1 };

	ASSERT_EQ(sf__encode(big, sizeof big, SF_HELLO, &m, sizeof m, tail,
	                     SF_MAX_MESSAGE - sizeof m + 4), 0);
	ASSERT_EQ(sf__encode(big, sizeof big, SF_HELLO, &m, sizeof m, tail,
	                     SIZE_MAX - 2), 0);
	ASSERT_EQ(sf__encode(big, sizeof big, SF_HELLO, &m, sizeof m, tail,
	                     SF_MAX_MESSAGE - sizeof m), SF_MAX_MESSAGE);
}

/* ---- header ---------------------------------------------------------- */

TEST(header_check_waits_for_eight_bytes)
{
	uint8_t buf[8] = { 0 };
	struct sf_header h;

	set_length(buf, 8);
	for (size_t n = 0; n < 8; n++)
		ASSERT_EQ(sf__header_check(buf, n, SF_MAX_MESSAGE, &h, NULL), 0);
	ASSERT_EQ(sf__header_check(buf, 8, SF_MAX_MESSAGE, &h, NULL), 1);
	ASSERT_EQ(h.length, 8);
}

TEST(header_check_rejects_lengths_below_the_header)
{
	uint8_t buf[8] = { 0 };
	struct sf_header h;
	const char *why = NULL;

	for (uint32_t len = 0; len < 8; len += 4) {
		set_length(buf, len);
		ASSERT_EQ(sf__header_check(buf, 8, SF_MAX_MESSAGE, &h, &why),
		          -SF_ERR_BAD_MESSAGE);
		ASSERT(why && why[0]);
	}
}

TEST(header_check_rejects_lengths_above_the_limit)
{
	uint8_t buf[8] = { 0 };
	struct sf_header h;

	set_length(buf, 260);
	ASSERT_EQ(sf__header_check(buf, 8, 256, &h, NULL), -SF_ERR_BAD_MESSAGE);
	ASSERT_EQ(sf__header_check(buf, 8, 260, &h, NULL), 1);
	/* A caller's limit above the protocol's is clamped to it. */
	set_length(buf, SF_MAX_MESSAGE + 4);
	ASSERT_EQ(sf__header_check(buf, 8, UINT32_MAX, &h, NULL),
	          -SF_ERR_BAD_MESSAGE);
	set_length(buf, UINT32_MAX - 3);
	ASSERT_EQ(sf__header_check(buf, 8, UINT32_MAX, &h, NULL),
	          -SF_ERR_BAD_MESSAGE);
}

TEST(header_check_rejects_lengths_not_a_multiple_of_4)
{
	uint8_t buf[8] = { 0 };
	struct sf_header h;

	for (uint32_t len = 9; len < 12; len++) {
		set_length(buf, len);
		ASSERT_EQ(sf__header_check(buf, 8, SF_MAX_MESSAGE, &h, NULL),
		          -SF_ERR_BAD_MESSAGE);
	}
}

/* ---- rejections common to every decoder ------------------------------ */

TEST(every_decoder_rejects_input_shorter_than_a_header)
{
	uint8_t buf[BUF_SIZE];

	make_samples();
	for (int i = 0; i < n_samples; i++) {
		encode(&samples[i], buf);
		for (size_t n = 0; n < sizeof(struct sf_header); n++)
			EXPECT_REJECT(&samples[i], buf, n);
	}
}

TEST(every_decoder_rejects_a_truncated_fixed_part)
{
	uint8_t buf[BUF_SIZE];

	make_samples();
	for (int i = 0; i < n_samples; i++) {
		struct sample *s = &samples[i];

		for (size_t n = 8; n < s->fixed_size; n += 4) {
			encode(s, buf);
			set_length(buf, (uint32_t)n);
			EXPECT_REJECT(s, buf, n);
		}
	}
}

TEST(every_decoder_rejects_a_length_field_that_disagrees_with_the_bytes)
{
	uint8_t buf[BUF_SIZE];

	make_samples();
	for (int i = 0; i < n_samples; i++) {
		struct sample *s = &samples[i];
		size_t len = encode(s, buf);

		set_length(buf, (uint32_t)len + 4);
		EXPECT_REJECT(s, buf, len);
		set_length(buf, (uint32_t)len - 4);
		EXPECT_REJECT(s, buf, len);
		set_length(buf, (uint32_t)len);
		EXPECT_REJECT(s, buf, len - 4);
	}
}

TEST(every_decoder_rejects_a_length_not_a_multiple_of_4)
{
	uint8_t buf[BUF_SIZE];

	make_samples();
	for (int i = 0; i < n_samples; i++) {
		struct sample *s = &samples[i];
		size_t len = encode(s, buf);

		memset(buf + len, 0, 4);
		for (size_t extra = 1; extra < 4; extra++) {
			set_length(buf, (uint32_t)(len + extra));
			EXPECT_REJECT(s, buf, len + extra);
		}
	}
}

TEST(every_decoder_rejects_trailing_bytes)
{
	uint8_t buf[BUF_SIZE];

	make_samples();
	for (int i = 0; i < n_samples; i++) {
		struct sample *s = &samples[i];
		size_t len = encode(s, buf);

		memset(buf + len, 0, 16);
		set_length(buf, (uint32_t)len + 4);
		EXPECT_REJECT(s, buf, len + 4);
		set_length(buf, (uint32_t)len + 16);
		EXPECT_REJECT(s, buf, len + 16);
	}
}

TEST(every_decoder_rejects_the_wrong_message_type)
{
	static const uint16_t types[] = {
		0, SF_HELLO, SF_PROBE, SF_ATTACH_SEGMENT, SF_DETACH_SEGMENT,
		SF_CREATE_SURFACE, SF_DESTROY_SURFACE, SF_PUT_IMAGE, SF_GET_IMAGE,
		SF_SYNC, 0x0a, 0x7f, 0x80, SF_WELCOME, SF_PROBE_RESULT, SF_RELEASE,
		SF_PRESENTED, SF_IMAGE, SF_CLOSED, SF_SYNC_DONE, SF_ERROR, 0x89,
		0xff, 0x100 | SF_HELLO, 0xffff,
	};
	uint8_t buf[BUF_SIZE];

	make_samples();
	for (int i = 0; i < n_samples; i++) {
		struct sample *s = &samples[i];

		for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
			size_t len;

			if (types[t] == s->type || types[t] == s->other_type)
				continue;
			len = encode(s, buf);
			set_type(buf, types[t]);
			EXPECT_REJECT(s, buf, len);
		}
	}
}

TEST(every_decoder_rejects_nonzero_header_flags)
{
	uint8_t buf[BUF_SIZE];

	make_samples();
	for (int i = 0; i < n_samples; i++) {
		struct sample *s = &samples[i];
		size_t len = encode(s, buf);

		/* PUT_IMAGE knows COPY and BLOCKS, GET_IMAGE its codecs, IMAGE
		 * BLOCKS (0x1, 0x2); no message knows 0x8000. */
		put16(buf, offsetof(struct sf_header, flags),
		      s->type == SF_PUT_IMAGE || s->type == SF_GET_IMAGE ||
		      s->type == SF_IMAGE ? 0x8000 : 1);
		EXPECT_REJECT(s, buf, len);
	}
}

TEST(blocks_and_codec_flags_only_where_they_mean_something)
{
	uint8_t buf[BUF_SIZE];
	struct sf_put_image put = { .surface = 1, .serial = 2, .segment = 3,
	                            .buffer = 4, .stride = 64 };
	struct sf_get_image get = { .surface = 1, .serial = 2,
	                            .rect = { 0, 0, 4, 4 } };
	struct sf_image img = { .surface = 1, .serial = 2, .rect = { 0, 0, 4, 4 },
	                        .format = SF_FORMAT_ARGB8888 };
	struct sf_put_image po;
	struct sf_get_image go;
	struct sf_image io;
	struct sf_rect rects[SF_MAX_RECTS];
	const char *why;
	size_t len;

	/* BLOCKS on a segment's PUT_IMAGE: no. */
	put.hdr.flags = SF_PUT_IMAGE_BLOCKS;
	len = sf__encode(buf, sizeof buf, SF_PUT_IMAGE, &put, sizeof put, NULL, 0);
	ASSERT_EQ(sf__decode_put_image(buf, len, &po, rects, &why),
	          SF_ERR_BAD_MESSAGE);
	/* Inline: yes, and kept. */
	put.segment = put.buffer = put.stride = 0;
	len = sf__encode(buf, sizeof buf, SF_PUT_IMAGE, &put, sizeof put, NULL, 0);
	ASSERT_EQ(sf__decode_put_image(buf, len, &po, rects, &why), 0);
	ASSERT_EQ(po.hdr.flags, SF_PUT_IMAGE_BLOCKS);
	/* One codec for an inline GET_IMAGE; not two, not for a segment. */
	get.hdr.flags = SF_GET_IMAGE_ZSTD;
	len = sf__encode(buf, sizeof buf, SF_GET_IMAGE, &get, sizeof get, NULL, 0);
	ASSERT_EQ(sf__decode_get_image(buf, len, &go, &why), 0);
	ASSERT_EQ(go.hdr.flags, SF_GET_IMAGE_ZSTD);
	get.hdr.flags = SF_GET_IMAGE_ZSTD | SF_GET_IMAGE_LZ4;
	len = sf__encode(buf, sizeof buf, SF_GET_IMAGE, &get, sizeof get, NULL, 0);
	ASSERT_EQ(sf__decode_get_image(buf, len, &go, &why), SF_ERR_BAD_MESSAGE);
	get.hdr.flags = SF_GET_IMAGE_LZ4;
	get.segment = 5;
	get.stride = 16;
	len = sf__encode(buf, sizeof buf, SF_GET_IMAGE, &get, sizeof get, NULL, 0);
	ASSERT_EQ(sf__decode_get_image(buf, len, &go, &why), SF_ERR_BAD_MESSAGE);
	/* IMAGE in blocks: inline only. */
	img.hdr.flags = SF_IMAGE_BLOCKS;
	len = sf__encode(buf, sizeof buf, SF_IMAGE, &img, sizeof img, NULL, 0);
	ASSERT_EQ(sf__decode_image(buf, len, &io, &why), 0);
	img.segment = 3;
	len = sf__encode(buf, sizeof buf, SF_IMAGE, &img, sizeof img, NULL, 0);
	ASSERT_EQ(sf__decode_image(buf, len, &io, &why), SF_ERR_BAD_MESSAGE);
}

TEST(put_image_accepts_its_copy_flag)
{
	struct sf_put_image put = { .surface = 1, .serial = 2, .segment = 3,
	                            .buffer = 4, .stride = 64 };
	struct sf_put_image out;
	struct sf_rect rects[SF_MAX_RECTS];
	uint8_t buf[BUF_SIZE];
	size_t len;

	put.hdr.flags = SF_PUT_IMAGE_COPY;
	len = sf__encode(buf, sizeof buf, SF_PUT_IMAGE, &put, sizeof put, NULL, 0);
	ASSERT_EQ(len, sizeof put);
	ASSERT_EQ(sf__decode_put_image(buf, len, &out, rects, NULL), 0);
	ASSERT_EQ(out.hdr.flags, SF_PUT_IMAGE_COPY);
}

TEST(decoders_reject_nonzero_padding)
{
	static const struct { const char *name; size_t off, size; } pads[] = {
		{ "HELLO", offsetof(struct sf_hello, pad), 2 },
		{ "PROBE", offsetof(struct sf_segment_msg, pad), 2 },
		{ "PROBE", offsetof(struct sf_segment_msg, pad2), 4 },
		{ "ATTACH_SEGMENT", offsetof(struct sf_segment_msg, pad), 2 },
		{ "ATTACH_SEGMENT", offsetof(struct sf_segment_msg, pad2), 4 },
		{ "DETACH_SEGMENT", offsetof(struct sf_detach_segment, pad), 4 },
		{ "CREATE_SURFACE", offsetof(struct sf_create_surface, pad), 2 },
		{ "DESTROY_SURFACE", offsetof(struct sf_destroy_surface, pad), 4 },
		{ "SYNC", offsetof(struct sf_sync, pad), 4 },
		{ "SYNC_DONE", offsetof(struct sf_sync, pad), 4 },
		{ "RELEASE", offsetof(struct sf_release, pad), 4 },
		{ "PRESENTED", offsetof(struct sf_presented, pad), 4 },
		{ "CLOSED", offsetof(struct sf_closed, pad), 4 },
		{ "KEY", offsetof(struct sf_key, pad), 1 },
		{ "POINTER_MOTION", offsetof(struct sf_pointer, pad), 4 },
		{ "POINTER_BUTTON", offsetof(struct sf_pointer_button, pad), 2 },
		{ "POINTER_AXIS", offsetof(struct sf_pointer_axis, pad), 4 },
	};
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof pads / sizeof pads[0]; i++) {
		struct sample *s = sample(pads[i].name);

		for (size_t b = 0; b < pads[i].size; b++) {
			size_t len = encode(s, buf);
			buf[pads[i].off + b] = 0x01;
			EXPECT_REJECT(s, buf, len);
		}
	}
}

/* ---- strings --------------------------------------------------------- */

struct string_msg {
	const char *name;
	size_t len_off; /* offset of the uint16 length */
	size_t max;
};

static const struct string_msg string_msgs[] = {
	{ "HELLO", offsetof(struct sf_hello, name_len), SF_MAX_NAME },
	{ "CREATE_SURFACE", offsetof(struct sf_create_surface, title_len),
	  SF_MAX_NAME },
	{ "PROBE_RESULT", offsetof(struct sf_probe_result, text_len), SF_MAX_TEXT },
	{ "ERROR", offsetof(struct sf_error, text_len), SF_MAX_TEXT },
};

/* Builds the sample with a tail of n bytes of 'x'; returns the length. */
static size_t encode_with_string(struct sample *s, const struct string_msg *sm,
                                 uint8_t *buf, size_t n)
{
	static char text[SF_MAX_TEXT + 8];
	uint8_t fixed[128];
	size_t len;

	memset(text, 'x', sizeof text);
	memcpy(fixed, s->fixed, s->fixed_size);
	put16(fixed, sm->len_off, (uint16_t)n);
	len = sf__encode(buf, BUF_SIZE, s->type, fixed, s->fixed_size, text, n);
	ASSERT(len > 0);
	return len;
}

TEST(string_messages_accept_the_longest_allowed_string)
{
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof string_msgs / sizeof string_msgs[0]; i++) {
		const struct string_msg *sm = &string_msgs[i];
		struct sample *s = sample(sm->name);
		size_t len = encode_with_string(s, sm, buf, sm->max);

		memset(out_text, 0, sizeof out_text);
		EXPECT_ACCEPT(s, buf, len);
		ASSERT_EQ(strlen(out_text), sm->max);
	}
}

TEST(string_messages_accept_an_empty_string)
{
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof string_msgs / sizeof string_msgs[0]; i++) {
		const struct string_msg *sm = &string_msgs[i];
		struct sample *s = sample(sm->name);
		size_t len = encode_with_string(s, sm, buf, 0);

		memset(out_text, 'q', sizeof out_text);
		EXPECT_ACCEPT(s, buf, len);
		ASSERT_EQ(out_text[0], '\0');
	}
}

TEST(string_messages_reject_a_string_over_the_limit)
{
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof string_msgs / sizeof string_msgs[0]; i++) {
		const struct string_msg *sm = &string_msgs[i];
		struct sample *s = sample(sm->name);
		size_t len = encode_with_string(s, sm, buf, sm->max + 1);

		EXPECT_REJECT(s, buf, len);
	}
}

TEST(string_messages_reject_a_string_length_that_disagrees_with_the_message)
{
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof string_msgs / sizeof string_msgs[0]; i++) {
		const struct string_msg *sm = &string_msgs[i];
		struct sample *s = sample(sm->name);
		size_t len = encode_with_string(s, sm, buf, 12);

		/* 12 bytes sent; claimed 13..16 pads to 16, 1..8 pads below. */
		put16(buf, sm->len_off, 13);
		EXPECT_REJECT(s, buf, len);
		put16(buf, sm->len_off, 8);
		EXPECT_REJECT(s, buf, len);
		put16(buf, sm->len_off, 0xffff);
		EXPECT_REJECT(s, buf, len);
		/* 9, 10 and 11 also pad to 12: accepted only if the claimed
		 * bytes are followed by zero padding, which 'x' is not. */
		put16(buf, sm->len_off, 11);
		EXPECT_REJECT(s, buf, len);
	}
}

TEST(string_messages_reject_a_nul_inside_the_string)
{
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof string_msgs / sizeof string_msgs[0]; i++) {
		const struct string_msg *sm = &string_msgs[i];
		struct sample *s = sample(sm->name);
		size_t len = encode_with_string(s, sm, buf, 12);

		buf[s->fixed_size + 5] = '\0';
		EXPECT_REJECT(s, buf, len);
		len = encode_with_string(s, sm, buf, 12);
		buf[s->fixed_size + 11] = '\0';
		EXPECT_REJECT(s, buf, len);
	}
}

TEST(string_messages_reject_nonzero_string_padding)
{
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof string_msgs / sizeof string_msgs[0]; i++) {
		const struct string_msg *sm = &string_msgs[i];
		struct sample *s = sample(sm->name);
		size_t len = encode_with_string(s, sm, buf, 9);

		EXPECT_ACCEPT(s, buf, len);
		buf[s->fixed_size + 10] = 'y';
		EXPECT_REJECT(s, buf, len);
	}
}

/* ---- message-specific field checks ----------------------------------- */

TEST(hello_rejects_another_magic_with_the_magic_error)
{
	struct sample *s = sample("HELLO");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put32(buf, offsetof(struct sf_hello, magic), 0x11223344);
	EXPECT_CODE(s, buf, len, SF_ERR_BAD_MAGIC);
}

TEST(hello_rejects_another_major_version_with_the_version_error)
{
	struct sample *s = sample("HELLO");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put16(buf, offsetof(struct sf_hello, major), SF_VERSION_MAJOR + 1);
	EXPECT_CODE(s, buf, len, SF_ERR_BAD_VERSION);
	put16(buf, offsetof(struct sf_hello, major), 0);
	EXPECT_CODE(s, buf, len, SF_ERR_BAD_VERSION);
}

TEST(hello_accepts_a_newer_minor_version)
{
	struct sample *s = sample("HELLO");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put16(buf, offsetof(struct sf_hello, minor), SF_VERSION_MINOR + 5);
	EXPECT_ACCEPT(s, buf, len);
}

TEST(hello_rejects_unknown_capability_bits)
{
	struct sample *s = sample("HELLO");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put32(buf, offsetof(struct sf_hello, caps), SF_CAP_ALL + 1);
	EXPECT_CODE(s, buf, len, SF_ERR_BAD_MESSAGE);
	put32(buf, offsetof(struct sf_hello, caps), 0x80000000u);
	EXPECT_CODE(s, buf, len, SF_ERR_BAD_MESSAGE);
}

TEST(welcome_rejects_limits_out_of_range)
{
	static const struct { size_t off; uint32_t v; } bad[] = {
		{ offsetof(struct sf_welcome, max_width), 0 },
		{ offsetof(struct sf_welcome, max_width), SF_MAX_DIMENSION + 1 },
		{ offsetof(struct sf_welcome, max_height), 0 },
		{ offsetof(struct sf_welcome, max_height), SF_MAX_DIMENSION + 1 },
		{ offsetof(struct sf_welcome, max_message), 0 },
		{ offsetof(struct sf_welcome, max_message), 255 },
		{ offsetof(struct sf_welcome, max_message), SF_MAX_MESSAGE + 4 },
		{ offsetof(struct sf_welcome, magic), 0x4d524654 },
	};
	struct sample *s = sample("WELCOME");
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len = encode(s, buf);
		put32(buf, bad[i].off, bad[i].v);
		EXPECT_REJECT(s, buf, len);
	}
}

TEST(segment_rejects_unknown_kinds)
{
	struct sample *s = sample("PROBE");
	uint8_t buf[BUF_SIZE];
	static const uint8_t kinds[] = { SF_SHM_NONE, SF_SHM_SYSV + 1, 0xff };

	for (size_t i = 0; i < sizeof kinds; i++) {
		size_t len = encode(s, buf);
		buf[offsetof(struct sf_segment_msg, kind)] = kinds[i];
		EXPECT_REJECT(s, buf, len);
	}
}

TEST(segment_rejects_a_zero_or_tiny_size)
{
	struct sample *s = sample("PROBE");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put64(buf, offsetof(struct sf_segment_msg, size), 0);
	EXPECT_REJECT(s, buf, len);
	put64(buf, offsetof(struct sf_segment_msg, size), SF_NONCE_SIZE);
	EXPECT_REJECT(s, buf, len);
	/* It must hold the whole proof: nonce and challenge. */
	put64(buf, offsetof(struct sf_segment_msg, size), SF_PROOF_SIZE - 1);
	EXPECT_REJECT(s, buf, len);
	put64(buf, offsetof(struct sf_segment_msg, size), SF_PROOF_SIZE);
	EXPECT_ACCEPT(s, buf, len);
}

TEST(segment_rejects_a_size_that_cannot_be_mapped)
{
	struct sample *s = sample("PROBE");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put64(buf, offsetof(struct sf_segment_msg, size), UINT64_MAX);
	EXPECT_REJECT(s, buf, len);
	put64(buf, offsetof(struct sf_segment_msg, size), (uint64_t)SIZE_MAX / 2 + 1);
	EXPECT_REJECT(s, buf, len);
}

TEST(segment_rejects_unknown_flags)
{
	struct sample *s = sample("ATTACH_SEGMENT");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	buf[offsetof(struct sf_segment_msg, flags)] = 0x2;
	EXPECT_REJECT(s, buf, len);
}

TEST(attach_segment_rejects_id_zero)
{
	struct sample *s = sample("ATTACH_SEGMENT");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put32(buf, offsetof(struct sf_segment_msg, id), 0);
	EXPECT_REJECT(s, buf, len);
}

TEST(segment_rejects_a_shmid_that_does_not_match_the_kind)
{
	struct sample *s = sample("PROBE");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	/* memfd with a System V id */
	put32(buf, offsetof(struct sf_segment_msg, shmid), 5);
	EXPECT_REJECT(s, buf, len);
	/* System V without one */
	len = encode(s, buf);
	buf[offsetof(struct sf_segment_msg, kind)] = SF_SHM_SYSV;
	put32(buf, offsetof(struct sf_segment_msg, shmid), (uint32_t)-1);
	EXPECT_REJECT(s, buf, len);
	put32(buf, offsetof(struct sf_segment_msg, shmid), 5);
	EXPECT_ACCEPT(s, buf, len);
}

TEST(segment_rejects_bad_posix_names)
{
	static const char *const bad[] = {
		"",                       /* missing */
		"/shmframe-",             /* prefix only */
		"/other-0123",            /* foreign prefix */
		"shmframe-0123",          /* no leading slash */
		"/shmframe-../../etc",    /* path characters */
		"/shmframe-a/b",
		"/shmframe-a.b",
		"/shmframe-a b",
	};
	struct sample *s = sample("ATTACH_SEGMENT");
	uint8_t buf[BUF_SIZE];
	size_t name_off = offsetof(struct sf_segment_msg, name);

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len = encode(s, buf);
		memset(buf + name_off, 0, SF_SHM_NAME_SIZE);
		memcpy(buf + name_off, bad[i], strlen(bad[i]));
		EXPECT_REJECT(s, buf, len);
	}
}

TEST(segment_rejects_a_posix_name_without_nul)
{
	struct sample *s = sample("ATTACH_SEGMENT");
	uint8_t buf[BUF_SIZE];
	size_t name_off = offsetof(struct sf_segment_msg, name);
	size_t len = encode(s, buf);

	memcpy(buf + name_off, SF_SHM_NAME_PREFIX, strlen(SF_SHM_NAME_PREFIX));
	memset(buf + name_off + strlen(SF_SHM_NAME_PREFIX), 'a',
	       SF_SHM_NAME_SIZE - strlen(SF_SHM_NAME_PREFIX));
	EXPECT_REJECT(s, buf, len);
}

TEST(segment_rejects_garbage_after_the_posix_name)
{
	struct sample *s = sample("ATTACH_SEGMENT");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	buf[offsetof(struct sf_segment_msg, name) + SF_SHM_NAME_SIZE - 1] = 'z';
	EXPECT_REJECT(s, buf, len);
}

TEST(segment_rejects_a_name_for_kinds_without_one)
{
	struct sample *s = sample("PROBE");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	memcpy(buf + offsetof(struct sf_segment_msg, name), "/shmframe-x", 11);
	EXPECT_REJECT(s, buf, len);
}

TEST(probe_result_rejects_unknown_kind_and_status)
{
	struct sample *s = sample("PROBE_RESULT");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	buf[offsetof(struct sf_probe_result, status)] = SF_PROBE_STATUS_MAX + 1;
	EXPECT_REJECT(s, buf, len);
	len = encode(s, buf);
	buf[offsetof(struct sf_probe_result, kind)] = SF_SHM_NONE;
	EXPECT_REJECT(s, buf, len);
	buf[offsetof(struct sf_probe_result, kind)] = SF_SHM_SYSV + 1;
	EXPECT_REJECT(s, buf, len);
}

TEST(ids_of_zero_are_rejected)
{
	static const struct { const char *name; size_t off; } ids[] = {
		{ "DETACH_SEGMENT", offsetof(struct sf_detach_segment, id) },
		{ "CREATE_SURFACE", offsetof(struct sf_create_surface, id) },
		{ "DESTROY_SURFACE", offsetof(struct sf_destroy_surface, id) },
		{ "PUT_IMAGE", offsetof(struct sf_put_image, surface) },
		{ "GET_IMAGE", offsetof(struct sf_get_image, surface) },
		{ "RELEASE", offsetof(struct sf_release, surface) },
		{ "PRESENTED", offsetof(struct sf_presented, surface) },
		{ "CLOSED", offsetof(struct sf_closed, surface) },
	};
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		struct sample *s = sample(ids[i].name);
		size_t len = encode(s, buf);

		put32(buf, ids[i].off, 0);
		EXPECT_REJECT(s, buf, len);
	}
}

TEST(create_surface_rejects_zero_and_oversized_dimensions)
{
	static const struct { uint32_t w, h; } bad[] = {
		{ 0, 10 }, { 10, 0 }, { 0, 0 }, { SF_MAX_DIMENSION + 1, 10 },
		{ 10, SF_MAX_DIMENSION + 1 }, { UINT32_MAX, UINT32_MAX },
	};
	struct sample *s = sample("CREATE_SURFACE");
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len = encode(s, buf);
		put32(buf, offsetof(struct sf_create_surface, width), bad[i].w);
		put32(buf, offsetof(struct sf_create_surface, height), bad[i].h);
		EXPECT_REJECT(s, buf, len);
	}
	{
		size_t len = encode(s, buf);
		put32(buf, offsetof(struct sf_create_surface, width), SF_MAX_DIMENSION);
		put32(buf, offsetof(struct sf_create_surface, height), 1);
		EXPECT_ACCEPT(s, buf, len);
	}
}

TEST(create_surface_rejects_unknown_format_and_present_mode)
{
	struct sample *s = sample("CREATE_SURFACE");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put32(buf, offsetof(struct sf_create_surface, format), 0);
	EXPECT_REJECT(s, buf, len);
	put32(buf, offsetof(struct sf_create_surface, format), 3);
	EXPECT_REJECT(s, buf, len);
	len = encode(s, buf);
	put32(buf, offsetof(struct sf_create_surface, present_mode), 2);
	EXPECT_REJECT(s, buf, len);
	put32(buf, offsetof(struct sf_create_surface, present_mode), UINT32_MAX);
	EXPECT_REJECT(s, buf, len);
}

/* PUT_IMAGE with n rectangles taken from rects (or the sample's). */
static size_t encode_put_image(uint8_t *buf, uint32_t segment,
                               const struct sf_rect *rects, uint32_t n)
{
	struct sf_put_image m = { .surface = 1, .serial = 3, .segment = segment,
		.buffer = segment ? 1 : 0, .offset = segment ? 64 : 0,
		.stride = segment ? 4096 : 0, .n_rects = n };
	size_t len = sf__encode(buf, BUF_SIZE, SF_PUT_IMAGE, &m, sizeof m, rects,
	                        n * sizeof *rects);

	ASSERT(len > 0);
	return len;
}

TEST(put_image_accepts_the_maximum_number_of_rectangles)
{
	static struct sf_rect rects[SF_MAX_RECTS];
	uint8_t buf[BUF_SIZE];
	size_t len;

	for (unsigned i = 0; i < SF_MAX_RECTS; i++)
		rects[i] = (struct sf_rect){ i, i, 1, 1 };
	len = encode_put_image(buf, 1, rects, SF_MAX_RECTS);
	EXPECT_ACCEPT(sample("PUT_IMAGE"), buf, len);
	ASSERT(memcmp(out_rects, rects, sizeof rects) == 0);
}

TEST(put_image_rejects_too_many_rectangles)
{
	static struct sf_rect rects[SF_MAX_RECTS + 1];
	uint8_t buf[BUF_SIZE];
	size_t len;

	for (unsigned i = 0; i <= SF_MAX_RECTS; i++)
		rects[i] = (struct sf_rect){ i, i, 1, 1 };
	len = encode_put_image(buf, 1, rects, SF_MAX_RECTS + 1);
	EXPECT_REJECT(sample("PUT_IMAGE"), buf, len);
	/* A huge count with a short message must not be trusted either. */
	len = encode_put_image(buf, 1, rects, 2);
	put32(buf, offsetof(struct sf_put_image, n_rects), UINT32_MAX);
	EXPECT_REJECT(sample("PUT_IMAGE"), buf, len);
	put32(buf, offsetof(struct sf_put_image, n_rects), 0x10000001u);
	EXPECT_REJECT(sample("PUT_IMAGE"), buf, len);
}

TEST(put_image_rejects_a_rectangle_count_that_disagrees_with_the_length)
{
	uint8_t buf[BUF_SIZE];
	size_t len = encode_put_image(buf, 1, two_rects, 2);

	put32(buf, offsetof(struct sf_put_image, n_rects), 1);
	EXPECT_REJECT(sample("PUT_IMAGE"), buf, len);
	put32(buf, offsetof(struct sf_put_image, n_rects), 3);
	EXPECT_REJECT(sample("PUT_IMAGE"), buf, len);
}

TEST(put_image_rejects_empty_rectangles)
{
	static const struct sf_rect bad[] = {
		{ 0, 0, 0, 10 }, { 0, 0, 10, 0 }, { 5, 5, 0, 0 },
	};
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sf_rect r[2] = { two_rects[0], bad[i] };
		size_t len = encode_put_image(buf, 1, r, 2);
		EXPECT_CODE(sample("PUT_IMAGE"), buf, len, SF_ERR_BAD_RECT);
	}
}

TEST(put_image_rejects_rectangles_whose_end_overflows)
{
	static const struct sf_rect bad[] = {
		{ UINT32_MAX - 5, 0, 6, 1 },
		{ 0, UINT32_MAX - 5, 1, 6 },
		{ UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX },
		{ 1, 0, UINT32_MAX, 1 },
		{ 0x80000000u, 0, 0x80000000u, 1 },
	};
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len = encode_put_image(buf, 0, &bad[i], 1);
		EXPECT_CODE(sample("PUT_IMAGE"), buf, len, SF_ERR_BAD_RECT);
	}
	/* Ending exactly at UINT32_MAX does not overflow: the decoder lets
	 * it through and sf__rect_inside refuses it against the surface. */
	{
		struct sf_rect edge = { UINT32_MAX - 5, 0, 5, 1 };
		size_t len = encode_put_image(buf, 0, &edge, 1);
		EXPECT_ACCEPT(sample("PUT_IMAGE"), buf, len);
		ASSERT(!sf__rect_inside(&edge, SF_MAX_DIMENSION, SF_MAX_DIMENSION));
	}
}

TEST(put_image_inline_rejects_buffer_fields)
{
	static const size_t offs[] = {
		offsetof(struct sf_put_image, offset),
		offsetof(struct sf_put_image, stride),
		offsetof(struct sf_put_image, buffer),
	};
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		size_t len = encode_put_image(buf, 0, two_rects, 2);
		EXPECT_ACCEPT(sample("PUT_IMAGE"), buf, len);
		put32(buf, offs[i], 64);
		EXPECT_REJECT(sample("PUT_IMAGE"), buf, len);
	}
}

TEST(put_image_from_a_segment_rejects_a_zero_stride)
{
	uint8_t buf[BUF_SIZE];
	size_t len = encode_put_image(buf, 1, two_rects, 2);

	put32(buf, offsetof(struct sf_put_image, stride), 0);
	EXPECT_REJECT(sample("PUT_IMAGE"), buf, len);
}

TEST(get_image_rejects_empty_and_overflowing_rectangles)
{
	static const struct sf_rect bad[] = {
		{ 0, 0, 0, 1 }, { 0, 0, 1, 0 }, { UINT32_MAX, 0, 1, 1 },
		{ 0, 2, 1, UINT32_MAX - 1 },
	};
	struct sample *s = sample("GET_IMAGE");
	uint8_t buf[BUF_SIZE];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len = encode(s, buf);
		memcpy(buf + offsetof(struct sf_get_image, rect), &bad[i],
		       sizeof bad[i]);
		EXPECT_REJECT(s, buf, len);
	}
}

TEST(get_image_rejects_inconsistent_buffer_fields)
{
	struct sample *s = sample("GET_IMAGE");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put32(buf, offsetof(struct sf_get_image, stride), 0);
	EXPECT_REJECT(s, buf, len);
	/* inline, but with a stride or an offset */
	len = encode(s, buf);
	put32(buf, offsetof(struct sf_get_image, segment), 0);
	EXPECT_REJECT(s, buf, len);
	put32(buf, offsetof(struct sf_get_image, stride), 0);
	EXPECT_REJECT(s, buf, len);
	put64(buf, offsetof(struct sf_get_image, offset), 0);
	EXPECT_ACCEPT(s, buf, len);
}

TEST(image_rejects_bad_rectangles_and_formats)
{
	struct sample *s = sample("IMAGE");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put32(buf, offsetof(struct sf_image, rect.width), SF_MAX_DIMENSION + 1);
	EXPECT_REJECT(s, buf, len);
	len = encode(s, buf);
	put32(buf, offsetof(struct sf_image, rect.height), 0);
	EXPECT_REJECT(s, buf, len);
	len = encode(s, buf);
	put32(buf, offsetof(struct sf_image, format), 0);
	EXPECT_REJECT(s, buf, len);
	put32(buf, offsetof(struct sf_image, format), 7);
	EXPECT_REJECT(s, buf, len);
}

TEST(presented_rejects_unknown_flags)
{
	struct sample *s = sample("PRESENTED");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put32(buf, offsetof(struct sf_presented, flags), 2);
	EXPECT_REJECT(s, buf, len);
}

TEST(error_rejects_codes_out_of_range)
{
	struct sample *s = sample("ERROR");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put32(buf, offsetof(struct sf_error, code), SF_ERR_NONE);
	EXPECT_REJECT(s, buf, len);
	put32(buf, offsetof(struct sf_error, code), SF_ERR_CODE_MAX + 1);
	EXPECT_REJECT(s, buf, len);
	put32(buf, offsetof(struct sf_error, code), SF_ERR_CODE_MAX);
	EXPECT_ACCEPT(s, buf, len);
}

TEST(decoders_leave_the_output_alone_when_they_reject)
{
	struct sf_create_surface o, before;
	struct sample *s = sample("CREATE_SURFACE");
	char title[SF_MAX_NAME + 1];
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);

	put32(buf, offsetof(struct sf_create_surface, width), 0);
	memset(&o, 0x77, sizeof o);
	before = o;
	ASSERT(sf__decode_create_surface(buf, len, &o, title, NULL) != 0);
	ASSERT(memcmp(&o, &before, sizeof o) == 0);
}

TEST(decoders_accept_a_message_at_any_alignment)
{
	struct sample *s = sample("PUT_IMAGE");
	uint8_t raw[BUF_SIZE + 8], buf[BUF_SIZE];
	size_t len = encode(s, buf);

	for (size_t shift = 1; shift < 8; shift++) {
		memcpy(raw + shift, buf, len);
		EXPECT_ACCEPT(s, raw + shift, len);
	}
}

/* ---- semantic checks -------------------------------------------------- */

TEST(rect_inside_accepts_rectangles_touching_the_edges)
{
	struct sf_rect whole = { 0, 0, 64, 48 }, corner = { 63, 47, 1, 1 };

	ASSERT(sf__rect_inside(&whole, 64, 48));
	ASSERT(sf__rect_inside(&corner, 64, 48));
}

TEST(rect_inside_rejects_rectangles_past_the_edges)
{
	static const struct sf_rect bad[] = {
		{ 0, 0, 65, 48 }, { 0, 0, 64, 49 }, { 64, 0, 1, 1 }, { 0, 48, 1, 1 },
		/* Well past an edge, where only the start check can refuse
		 * them (the size check alone would wrap width - x). */
		{ 65, 0, 1, 1 }, { 0, 49, 1, 1 }, { 1000, 0, 1, 1 },
		{ 0, 1000, 1, 1 },
		{ 1, 0, UINT32_MAX, 1 },        /* x + width wraps to 0 */
		{ 0, 1, 1, UINT32_MAX },
		{ UINT32_MAX, UINT32_MAX, 1, 1 },
		{ 0, 0, 0, 1 }, { 0, 0, 1, 0 },
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ASSERT_MSG(!sf__rect_inside(&bad[i], 64, 48), "rect %zu", i);
}

TEST(check_buffer_accepts_an_exact_fit)
{
	/* 7x5, stride 64 (width*4 rounded up): the last row is 28 bytes. */
	uint64_t need = 64 * 4 + 28;

	ASSERT_EQ(sf__check_buffer(7, 5, 0, 64, need, NULL), 0);
	ASSERT_EQ(sf__check_buffer(7, 5, 100, 64, need + 100, NULL), 0);
	ASSERT_EQ(sf__check_buffer(7, 5, 0, 28, 28 * 5, NULL), 0);
}

TEST(check_buffer_rejects_one_byte_short)
{
	const char *why = NULL;

	ASSERT_EQ(sf__check_buffer(7, 5, 0, 64, 64 * 4 + 27, &why),
	          SF_ERR_BAD_BUFFER);
	ASSERT(why && why[0]);
	ASSERT_EQ(sf__check_buffer(7, 5, 1, 64, 64 * 4 + 28, NULL),
	          SF_ERR_BAD_BUFFER);
}

TEST(check_buffer_rejects_a_stride_below_a_row_or_misaligned)
{
	ASSERT_EQ(sf__check_buffer(7, 5, 0, 24, 1 << 20, NULL), SF_ERR_BAD_BUFFER);
	ASSERT_EQ(sf__check_buffer(7, 5, 0, 30, 1 << 20, NULL), SF_ERR_BAD_BUFFER);
	ASSERT_EQ(sf__check_buffer(7, 5, 0, 0, 1 << 20, NULL), SF_ERR_BAD_BUFFER);
}

TEST(check_buffer_rejects_zero_and_oversized_dimensions)
{
	ASSERT_EQ(sf__check_buffer(0, 5, 0, 64, 1 << 20, NULL), SF_ERR_BAD_BUFFER);
	ASSERT_EQ(sf__check_buffer(5, 0, 0, 64, 1 << 20, NULL), SF_ERR_BAD_BUFFER);
	ASSERT_EQ(sf__check_buffer(SF_MAX_DIMENSION + 1, 1, 0,
	                           (SF_MAX_DIMENSION + 1) * 4, UINT64_MAX, NULL),
	          SF_ERR_BAD_BUFFER);
}

TEST(check_buffer_does_not_overflow_on_huge_strides)
{
	/* stride * height = 2^44: wraps to 0 in 32-bit arithmetic. */
	ASSERT_EQ(sf__check_buffer(16, 16384, 0, 0x40000000u, 1ull << 32, NULL),
	          SF_ERR_BAD_BUFFER);
	ASSERT_EQ(sf__check_buffer(16384, 16384, 0, UINT32_MAX - 3,
	                           (uint64_t)UINT32_MAX * 16383, NULL),
	          SF_ERR_BAD_BUFFER);
	ASSERT_EQ(sf__check_buffer(16384, 16384, 0, UINT32_MAX - 3, UINT64_MAX,
	                           NULL), 0);
}

TEST(check_buffer_does_not_overflow_on_huge_offsets)
{
	ASSERT_EQ(sf__check_buffer(4, 4, UINT64_MAX - 8, 16, 4096, NULL),
	          SF_ERR_BAD_BUFFER);
	ASSERT_EQ(sf__check_buffer(4, 4, UINT64_MAX - 8, 16, UINT64_MAX, NULL),
	          SF_ERR_BAD_BUFFER);
	ASSERT_EQ(sf__check_buffer(4, 4, 4097, 16, 4096, NULL), SF_ERR_BAD_BUFFER);
	ASSERT_EQ(sf__check_buffer(4, 4, UINT64_MAX - 64, 16, UINT64_MAX, NULL), 0);
}

TEST(payload_size_sums_the_rectangles)
{
	struct sf_rect r[3] = { { 0, 0, 7, 5 }, { 1, 1, 1, 1 }, { 0, 0, 333, 257 } };
	uint64_t size = 0;

	ASSERT_EQ(sf__payload_size(r, 3, &size), 0);
	ASSERT_EQ(size, (7 * 5 + 1 + 333 * 257) * 4);
}

TEST(payload_size_does_not_overflow)
{
	static struct sf_rect r[SF_MAX_RECTS];
	uint64_t size = 0;

	/* 256 maximal rectangles: 2^38 bytes, past any 32-bit total. */
	for (unsigned i = 0; i < SF_MAX_RECTS; i++)
		r[i] = (struct sf_rect){ 0, 0, SF_MAX_DIMENSION, SF_MAX_DIMENSION };
	ASSERT_EQ(sf__payload_size(r, SF_MAX_RECTS, &size), 0);
	ASSERT_EQ(size, (uint64_t)SF_MAX_RECTS * SF_MAX_DIMENSION *
	          SF_MAX_DIMENSION * 4);
}

TEST(payload_size_rejects_rectangles_larger_than_any_surface)
{
	struct sf_rect r[2] = { { 0, 0, 1, 1 }, { 0, 0, UINT32_MAX, UINT32_MAX } };
	uint64_t size = 0;

	ASSERT_EQ(sf__payload_size(r, 2, &size), SF_ERR_BAD_MESSAGE);
	r[1] = (struct sf_rect){ 0, 0, SF_MAX_DIMENSION + 1, 1 };
	ASSERT_EQ(sf__payload_size(r, 2, &size), SF_ERR_BAD_MESSAGE);
}

/* ---- names ------------------------------------------------------------ */

TEST(every_known_code_has_a_name)
{
	make_samples();
	for (int i = 0; i < n_samples; i++)
		ASSERT_MSG(strcmp(sf__type_name(samples[i].type), "unknown") != 0,
		           "%s", samples[i].name);
	ASSERT_STREQ(sf__type_name(0x7f), "unknown");
	for (uint32_t c = 1; c <= SF_ERR_CODE_MAX; c++)
		ASSERT(strcmp(sf__error_name(c), "unknown error") != 0);
	ASSERT_STREQ(sf__error_name(SF_ERR_CODE_MAX + 1), "unknown error");
	ASSERT_STREQ(sf__error_name(UINT32_MAX), "unknown error");
	for (uint32_t st = 0; st <= SF_PROBE_STATUS_MAX; st++)
		ASSERT(strcmp(sf__probe_status_name(st), "unknown status") != 0);
	ASSERT_STREQ(sf__probe_status_name(SF_PROBE_STATUS_MAX + 1),
	             "unknown status");
	ASSERT_STREQ(sf__shm_kind_name(SF_SHM_MEMFD), "memfd");
	ASSERT_STREQ(sf__shm_kind_name(SF_SHM_POSIX), "posix");
	ASSERT_STREQ(sf__shm_kind_name(SF_SHM_SYSV), "sysv");
	ASSERT_STREQ(sf__shm_kind_name(9), "none");
}

/* A WELCOME of protocol 1 (72 bytes, no challenge) is another version,
 * not a malformed message: the client can say which. */
TEST(welcome_of_version_1_is_bad_version_not_bad_message)
{
	struct sample *s = sample("WELCOME");
	uint8_t buf[BUF_SIZE];
	size_t len = encode(s, buf);
	struct sf_welcome out;
	const char *why = NULL;

	put16(buf, offsetof(struct sf_welcome, major), 1);
	put32(buf, offsetof(struct sf_header, length), 72);
	len = 72;
	ASSERT_EQ(sf__decode_welcome(buf, len, &out, &why), SF_ERR_BAD_VERSION);
	ASSERT_CONTAINS(why, "version");
}
