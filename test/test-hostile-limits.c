/*
 * Hostile clients against a real shmframe-server: every limit hit for
 * real, with small limits set on the server's command line.
 *
 * The server, the well-behaved client and the checks every case ends
 * with are in hostile.h.
 */
#include "hostile.h"

/* ---- limits ---------------------------------------------------------------- */

TEST(limit_surfaces_per_client)
{
	const char *const args[] = { "--max-surfaces", "2", NULL };
	struct sf_peer *r;

	begin(args);
	r = raw_ready();
	ASSERT_EQ(r->welcome.max_surfaces, 2);
	create_surface(r, 1, 8, 8, SF_PRESENT_LATCH);
	create_surface(r, 2, 8, 8, SF_PRESENT_LATCH);
	roundtrip(r);
	create_surface(r, 3, 8, 8, SF_PRESENT_LATCH);
	expect_error(r, SF_ERR_LIMIT, SF_CREATE_SURFACE);
	end();
}

TEST(limit_segments_per_client)
{
	const char *const args[] = { "--max-segments", "2", NULL };
	struct hseg h[3];
	struct sf_peer *r;

	begin(args);
	r = raw_ready();
	ASSERT_EQ(r->welcome.max_segments, 2);
	for (int i = 0; i < 3; i++)
		hseg_make(&h[i], SF_SHM_MEMFD, 4096);
	attach(r, &h[0], 1, 0);
	attach(r, &h[1], 2, 0);
	roundtrip(r);
	attach(r, &h[2], 3, 0);
	expect_error(r, SF_ERR_LIMIT, SF_ATTACH_SEGMENT);
	for (int i = 0; i < 3; i++)
		hseg_free(&h[i]);
	end();
}

TEST(limit_segment_size)
{
	const char *const args[] = { "--max-segment-size", "128K", NULL };
	struct hseg h;
	struct sf_peer *r;

	begin(args);
	r = raw_ready();
	ASSERT_EQ(r->welcome.max_segment_size, 128 << 10);
	hseg_make(&h, SF_SHM_SYSV, 256 << 10);
	attach(r, &h, 1, 0);
	expect_error(r, SF_ERR_LIMIT, SF_ATTACH_SEGMENT);
	hseg_free(&h);
	end();
}

TEST(limit_bytes_mapped_per_client)
{
	const char *const args[] = { "--max-mapped", "256K", NULL };
	struct hseg a, b;
	struct sf_peer *r;

	begin(args);
	r = raw_ready();
	ASSERT_EQ(r->welcome.max_mapped, 256 << 10);
	hseg_make(&a, SF_SHM_POSIX, 200 << 10);
	hseg_make(&b, SF_SHM_MEMFD, 100 << 10);
	attach(r, &a, 1, 0);
	roundtrip(r);
	attach(r, &b, 2, 0);
	expect_error(r, SF_ERR_LIMIT, SF_ATTACH_SEGMENT);
	hseg_free(&a);
	hseg_free(&b);
	end();
}

TEST(limit_bytes_mapped_by_all_clients)
{
	const char *const args[] = { "--max-mapped-total", "512K", NULL };
	struct hseg a, b;
	struct sf_peer *r1, *r2;

	begin(args);
	hseg_make(&a, SF_SHM_MEMFD, 300 << 10);
	hseg_make(&b, SF_SHM_MEMFD, 300 << 10);
	r1 = raw_ready();
	attach(r1, &a, 1, 0);
	roundtrip(r1);
	r2 = raw_ready();
	attach(r2, &b, 1, 0);
	expect_error(r2, SF_ERR_LIMIT, SF_ATTACH_SEGMENT);
	/* Once the first lets go, there is room again. */
	raw_close(r1);
	usleep(200000);
	r2 = raw_ready();
	attach(r2, &b, 1, 0);
	roundtrip(r2);
	raw_close(r2);
	hseg_free(&a);
	hseg_free(&b);
	end();
}

TEST(limit_largest_surface)
{
	const char *const args[] = { "--max-size", "64x64", NULL };
	struct sf_peer *r;

	begin(args);
	r = raw_ready();
	ASSERT_EQ(r->welcome.max_width, 64);
	ASSERT_EQ(r->welcome.max_height, 64);
	create_surface(r, 1, 64, 64, SF_PRESENT_LATCH);
	roundtrip(r);
	create_surface(r, 2, 65, 10, SF_PRESENT_LATCH);
	expect_error(r, SF_ERR_LIMIT, SF_CREATE_SURFACE);
	end();
}

TEST(limit_surface_memory)
{
	const char *const args[] = { "--max-surface-memory", "64K",
	                             "--max-surface-memory-total", "100K",
	                             NULL };
	struct sf_peer *r1, *r2;

	begin(args); /* the good client's surface: 12K */
	r1 = raw_ready();
	create_surface(r1, 1, 100, 100, SF_PRESENT_LATCH); /* 40000 bytes */
	roundtrip(r1);
	create_surface(r1, 2, 100, 100, SF_PRESENT_LATCH);
	expect_error(r1, SF_ERR_LIMIT, SF_CREATE_SURFACE);

	r1 = raw_ready();
	create_surface(r1, 1, 100, 100, SF_PRESENT_LATCH);
	roundtrip(r1);
	r2 = raw_ready();
	create_surface(r2, 1, 100, 100, SF_PRESENT_LATCH); /* 12K+40K+40K ok */
	roundtrip(r2);
	create_surface(r2, 2, 60, 60, SF_PRESENT_LATCH); /* +14400: over 100K */
	expect_error(r2, SF_ERR_LIMIT, SF_CREATE_SURFACE);
	raw_close(r1);
	end();
}

TEST(limit_largest_message)
{
	const char *const args[] = { "--max-message", "1024", NULL };
	struct sf_rect rects[100];
	struct sf_put_image put = { .surface = 1, .n_rects = 100 };
	uint8_t buf[4096];
	struct sf_peer *r;
	size_t n;

	begin(args);
	for (int i = 0; i < 100; i++)
		rects[i] = (struct sf_rect){ 0, 0, 1, 1 };
	r = raw_ready();
	ASSERT_EQ(r->welcome.max_message, 1024);
	create_surface(r, 1, 8, 8, SF_PRESENT_LATCH);
	put_image(r, 1, 0, 0, 0, rects, 1);
	ASSERT_EQ(raw_send(r, (uint8_t[4]){ 0 }, 4), 0);
	roundtrip(r);
	put_image(r, 1, 0, 0, 0, rects, 100); /* 1640 bytes */
	expect_error(r, SF_ERR_LIMIT, SF_PUT_IMAGE);

	/* Its header alone is enough. */
	r = raw_ready();
	n = sf__peer_encode(buf, sizeof buf, SF_PUT_IMAGE, &put, sizeof put, rects,
	           sizeof rects);
	ASSERT_EQ(raw_send(r, buf, 8), 0);
	expect_error(r, SF_ERR_LIMIT, SF_PUT_IMAGE);
	(void)n;
	end();
}

TEST(limit_inflight_requests)
{
	const char *const args[] = { "--max-inflight", "4", NULL };
	struct sf_put_image put = { .surface = 1, .n_rects = 0 };
	uint8_t buf[64];
	struct sf_peer *r;
	size_t n;

	begin(args);
	r = raw_ready();
	ASSERT_EQ(r->welcome.max_inflight, 4);
	create_surface(r, 1, 1, 1, SF_PRESENT_LATCH);
	/* Inline 1x1 frames: the message and one pixel, PRESENTED each. */
	n = sf__peer_encode(buf, sizeof buf, SF_PUT_IMAGE, &put, sizeof put, NULL, 0);
	memset(buf + n, 0x11, 4);
	flood_until_stuck(r, buf, n + 4);
	check_serving("while a client floods frames");
	expect_error(r, SF_ERR_LIMIT, SF_PUT_IMAGE);
	end();
}

TEST(limit_clients)
{
	const char *const args[] = { "--max-clients", "2", NULL };
	struct sf_peer *r1, *r2;
	struct sf_hello h;

	begin(args); /* the good client is the first */
	r1 = raw_ready();
	r2 = raw_connect();
	hello_msg(&h);
	send_msg(r2, SF_HELLO, &h, sizeof h, "hostile", 7);
	expect_error(r2, SF_ERR_LIMIT, SF_HELLO);
	raw_close(r1);
	usleep(200000);
	r2 = raw_ready();
	raw_close(r2);
	end();
}

/* The library keeps to max_inflight by itself: a tiny one only slows it. */
TEST(well_behaved_client_within_small_limits)
{
	const char *const args[] = { "--max-inflight", "1", "--max-output", "4K",
	                             "--max-message", "512", "--timeout", "1",
	                             NULL };

	begin_with(args, SHMFRAME_TRANSPORT_SOCKET);
	for (int i = 0; i < 20; i++)
		good_roundtrip("socket, max_inflight 1");
	end();
	begin_with(args, SHMFRAME_TRANSPORT_SHM);
	for (int i = 0; i < 20; i++)
		good_roundtrip("shm, max_inflight 1");
	end();
}
