/*
 * RESIZE_SURFACE and SELECT_INPUT (protocol 2.2) from hostile clients
 * against a real shmframe-server, and what a resize does to the frames
 * around it: each bad request is refused with its ERROR code naming it,
 * the connection closes and the good client is served on (hostile.h);
 * a good resize releases the latched buffer, and a frame at the new size
 * comes back pixel-exact however it is sent.
 */
#include "hostile.h"

#define RW 40          /* the size resized to */
#define RH 24
#define SEG (256u << 10)

static void select_input(struct sf_peer *r, uint32_t surface, uint32_t mask)
{
	struct sf_select_input m = { .surface = surface, .mask = mask };

	send_msg(r, SF_SELECT_INPUT, &m, sizeof m, NULL, 0);
}

static void resize(struct sf_peer *r, uint32_t surface, uint32_t w,
                   uint32_t h, uint32_t serial)
{
	struct sf_resize_surface m = { .surface = surface, .width = w,
	                               .height = h, .serial = serial };

	send_msg(r, SF_RESIZE_SURFACE, &m, sizeof m, NULL, 0);
}

/* A client of minor 2 with surface 1 of w x h (latched). */
static struct sf_peer *with_surface(uint32_t w, uint32_t h)
{
	struct sf_peer *r = raw_ready();

	ASSERT(r->welcome.caps & SF_CAP_INPUT);
	create_surface(r, 1, w, h, SF_PRESENT_LATCH);
	return r;
}

/* Selects CONFIGURE on surface 1 and reads the CONFIGURE it brings. */
static struct sf_configure configure_now(struct sf_peer *r)
{
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_configure c;

	select_input(r, 1, SF_EVENT_CONFIGURE);
	expect_event(r, SF_CONFIGURE, msg);
	ASSERT_EQ(sf__decode_configure(msg, sizeof c, &c, NULL), 0);
	return c;
}

TEST(bad_sizes_are_bad_message_or_limit)
{
	const char *const args[] = { "--max-size", "128x96",
	                             "--max-surface-memory", "32768", NULL };
	static const uint32_t bad_message[][2] = {
		{ 0, 8 }, { 8, 0 }, { SF_MAX_DIMENSION + 1, 8 },
		{ 8, 0xffffffffu },
	};
	struct sf_peer *r;

	begin(args);
	for (size_t i = 0; i < sizeof bad_message / sizeof bad_message[0]; i++) {
		r = with_surface(8, 8);
		resize(r, 1, bad_message[i][0], bad_message[i][1], 0);
		expect_error(r, SF_ERR_BAD_MESSAGE, SF_RESIZE_SURFACE);
		check_serving("after a size the protocol refuses");
	}
	/* Past --max-size, in either direction. */
	r = with_surface(8, 8);
	resize(r, 1, 129, 8, 0);
	expect_error(r, SF_ERR_LIMIT, SF_RESIZE_SURFACE);
	r = with_surface(8, 8);
	resize(r, 1, 8, 97, 0);
	expect_error(r, SF_ERR_LIMIT, SF_RESIZE_SURFACE);
	/* The memory limit counts the new size in place of the old: one
	 * surface may grow to all of it, not past; with a second surface
	 * the room is what the other leaves. */
	r = with_surface(8, 8);
	resize(r, 1, 128, 64, 0);     /* 8192 pixels: 32768 bytes */
	roundtrip(r);
	resize(r, 1, 128, 65, 0);
	expect_error(r, SF_ERR_LIMIT, SF_RESIZE_SURFACE);
	r = with_surface(8, 8);
	create_surface(r, 2, 64, 64, SF_PRESENT_LATCH);  /* 16384 bytes */
	resize(r, 1, 128, 32, 0);     /* 16384 bytes, exactly what is left */
	roundtrip(r);
	resize(r, 1, 128, 33, 0);
	expect_error(r, SF_ERR_LIMIT, SF_RESIZE_SURFACE);
	end();
}

TEST(a_surface_not_ones_own_is_bad_surface)
{
	struct sf_peer *r;

	begin(NULL);
	r = with_surface(8, 8);
	resize(r, 2, 8, 8, 0);
	expect_error(r, SF_ERR_BAD_SURFACE, SF_RESIZE_SURFACE);
	r = with_surface(8, 8);
	select_input(r, 9, SF_EVENT_KEY);
	expect_error(r, SF_ERR_BAD_SURFACE, SF_SELECT_INPUT);
	/* Surface 0 is never anybody's: the decoder says so. */
	r = with_surface(8, 8);
	resize(r, 0, 8, 8, 0);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_RESIZE_SURFACE);
	end();
}

TEST(unknown_event_bits_are_bad_message)
{
	struct sf_peer *r;

	begin(NULL);
	r = with_surface(8, 8);
	select_input(r, 1, SF_EVENT_ALL + 1);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_SELECT_INPUT);
	r = with_surface(8, 8);
	select_input(r, 1, SF_EVENT_KEY | 0x80000000u);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_SELECT_INPUT);
	end();
}

TEST(a_serial_never_sent_or_going_backwards_is_sequence)
{
	struct sf_configure c;
	struct sf_peer *r;

	begin(NULL);
	/* No CONFIGURE sent yet: no serial is one. */
	r = with_surface(8, 8);
	resize(r, 1, 16, 16, 1);
	expect_error(r, SF_ERR_SEQUENCE, SF_RESIZE_SURFACE);

	/* One past the last sent. */
	r = with_surface(8, 8);
	c = configure_now(r);
	ASSERT_EQ(c.serial, 1);
	ASSERT_EQ(c.width, 8);
	ASSERT_EQ(c.height, 8);
	resize(r, 1, 8, 8, c.serial + 1);
	expect_error(r, SF_ERR_SEQUENCE, SF_RESIZE_SURFACE);

	/* Acknowledged, acknowledged again (not older), then an older one. */
	r = with_surface(8, 8);
	c = configure_now(r);
	select_input(r, 1, 0);
	c = configure_now(r);         /* serial 2 */
	ASSERT_EQ(c.serial, 2);
	resize(r, 1, 8, 8, 2);
	resize(r, 1, 16, 8, 2);
	roundtrip(r);
	resize(r, 1, 16, 8, 1);
	expect_error(r, SF_ERR_SEQUENCE, SF_RESIZE_SURFACE);
	end();
}

TEST(a_minor_1_client_gets_unknown_type_for_the_2_2_requests)
{
	struct sf_peer *r;

	begin(NULL);
	r = raw_ready_minor(1);
	ASSERT(!(r->welcome.caps & SF_CAP_INPUT));
	create_surface(r, 1, 8, 8, SF_PRESENT_LATCH);
	resize(r, 1, 16, 16, 0);
	expect_error(r, SF_ERR_UNKNOWN_TYPE, SF_RESIZE_SURFACE);
	r = raw_ready_minor(0);
	ASSERT(!(r->welcome.caps & SF_CAP_INPUT));
	create_surface(r, 1, 8, 8, SF_PRESENT_LATCH);
	select_input(r, 1, SF_EVENT_KEY);
	expect_error(r, SF_ERR_UNKNOWN_TYPE, SF_SELECT_INPUT);
	/* Before HELLO they are requests out of order. */
	r = raw_connect();
	resize(r, 1, 16, 16, 0);
	expect_error(r, SF_ERR_SEQUENCE, SF_RESIZE_SURFACE);
	end();
}

/* ---- what a resize does ---------------------------------------------------- */

static uint32_t px(uint32_t x, uint32_t y, uint32_t w)
{
	return (x * 2654435761u) ^ (y * 40503u) ^ (w << 24) ^ 0x01000000u;
}

/* w x h of the pattern at buffer offset off, rows of stride bytes. */
static void draw(struct hseg *h, uint64_t off, uint32_t stride, uint32_t w,
                 uint32_t hh)
{
	for (uint32_t y = 0; y < hh; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = px(x, y, w);

			memcpy((uint8_t *)h->seg.map + off + (size_t)y * stride + x * 4,
			       &v, 4);
		}
}

/* GET_IMAGE of all of w x h into the writable segment at off: the
 * pattern, every pixel. */
static void expect_readback(struct sf_peer *r, struct hseg *out, uint32_t w,
                            uint32_t h)
{
	uint8_t msg[SF_MAX_MESSAGE];
	const uint64_t off = 4096;
	struct sf_rect all = { 0, 0, w, h };

	memset((uint8_t *)out->seg.map + off, 0xee, (size_t)w * h * 4);
	get_image(r, 1, all, 2, off, w * 4);
	expect_event(r, SF_IMAGE, msg);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v;

			memcpy(&v, (uint8_t *)out->seg.map + off +
			       ((size_t)y * w + x) * 4, 4);
			ASSERT_MSG(v == px(x, y, w), "(%u, %u) of %ux%u is 0x%08x, "
			           "0x%08x expected", x, y, w, h, v, px(x, y, w));
		}
}

TEST(a_resize_releases_the_latched_buffer_and_new_frames_round_trip)
{
	uint8_t msg[SF_MAX_MESSAGE];
	static uint8_t inl[RW * RH * 4];
	struct sf_rect all = { 0, 0, RW, RH };
	struct sf_release rel;
	struct hseg in, out;
	struct sf_peer *r;

	begin(NULL);
	hseg_make(&in, SF_SHM_MEMFD, SEG);
	hseg_make(&out, SF_SHM_MEMFD, SEG);
	r = with_surface(16, 16);
	attach(r, &in, 1, 0);
	attach(r, &out, 2, SF_SEGMENT_WRITABLE);
	draw(&in, 4096, 64, 16, 16);
	put_image(r, 1, 1, 4096, 64, NULL, 0);
	expect_event(r, SF_PRESENTED, msg);
	expect_readback(r, &out, 16, 16);

	/* The same size only acknowledges: the buffer stays latched. */
	resize(r, 1, 16, 16, 0);
	roundtrip(r);
	/* Another: the latched buffer comes back, the content is zeros. */
	resize(r, 1, RW, RH, 0);
	expect_event(r, SF_RELEASE, msg);
	ASSERT_EQ(sf__decode_release(msg, sizeof rel, &rel, NULL), 0);
	ASSERT_EQ(rel.surface, 1);
	ASSERT_EQ(rel.buffer, 1);
	{
		struct sf_get_image g = { .surface = 1, .serial = 9,
		                          .rect = all, .segment = 2,
		                          .offset = 4096, .stride = RW * 4 };

		memset((uint8_t *)out.seg.map + 4096, 0xee, RW * RH * 4);
		send_msg(r, SF_GET_IMAGE, &g, sizeof g, NULL, 0);
		expect_event(r, SF_IMAGE, msg);
		for (size_t i = 0; i < RW * RH * 4; i++)
			ASSERT_EQ(((uint8_t *)out.seg.map)[4096 + i], 0);
	}

	/* A frame at the new size from the segment, rows RW apart. */
	draw(&in, 8192, RW * 4, RW, RH);
	put_image(r, 1, 1, 8192, RW * 4, NULL, 0);
	expect_event(r, SF_PRESENTED, msg);
	expect_readback(r, &out, RW, RH);

	/* And inline, after a round trip through another size. */
	resize(r, 1, 8, 8, 0);
	expect_event(r, SF_RELEASE, msg);
	resize(r, 1, RW, RH, 0);
	for (uint32_t y = 0; y < RH; y++)
		for (uint32_t x = 0; x < RW; x++) {
			uint32_t v = px(x, y, RW);

			memcpy(inl + ((size_t)y * RW + x) * 4, &v, 4);
		}
	put_image(r, 1, 0, 0, 0, &all, 1);
	ASSERT_EQ(raw_send(r, inl, sizeof inl), 0);
	expect_event(r, SF_PRESENTED, msg);
	expect_readback(r, &out, RW, RH);
	raw_close(r);
	check_unharmed("after the resizes");
	hseg_free(&in);
	hseg_free(&out);
	end();
}

TEST(the_new_size_bounds_damage_and_buffers)
{
	struct sf_rect past = { 0, 0, RW, RH + 1 };
	struct sf_rect old = { 0, 0, 64, 64 };
	struct hseg in;
	struct sf_peer *r;

	begin(NULL);
	hseg_make(&in, SF_SHM_MEMFD, SEG);
	/* Damage inside the old size but past the new. */
	r = with_surface(64, 64);
	resize(r, 1, RW, RH, 0);
	put_image(r, 1, 0, 0, 0, &old, 1);
	expect_error(r, SF_ERR_BAD_RECT, SF_PUT_IMAGE);
	r = with_surface(64, 64);
	resize(r, 1, RW, RH, 0);
	put_image(r, 1, 0, 0, 0, &past, 1);
	expect_error(r, SF_ERR_BAD_RECT, SF_PUT_IMAGE);
	/* A GET_IMAGE rectangle past it too. */
	r = with_surface(64, 64);
	resize(r, 1, RW, RH, 0);
	get_image(r, 1, past, 0, 0, 0);
	expect_error(r, SF_ERR_BAD_RECT, SF_GET_IMAGE);
	/* A buffer that held the old size but is too small for the new. */
	r = with_surface(8, 8);
	attach(r, &in, 1, 0);
	resize(r, 1, 512, 128, 0);   /* 512*128*4 = 256 KiB, the segment */
	put_image(r, 1, 1, 4096, 512 * 4, NULL, 0);
	expect_error(r, SF_ERR_BAD_BUFFER, SF_PUT_IMAGE);
	hseg_free(&in);
	end();
}
