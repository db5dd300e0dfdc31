/*
 * Hostile clients against a real shmframe-server: malformed and lying
 * messages, fds where none belong and none where one must be, and
 * clients that never read or send one byte a second.
 *
 * The server, the well-behaved client and the checks every case ends
 * with are in hostile.h.
 */
#include "hostile.h"

/* ---- bad input ------------------------------------------------------------ */

TEST(wrong_magic_is_bad_magic)
{
	struct sf_hello h;
	struct sf_peer *r;

	begin(NULL);
	r = raw_connect();
	hello_msg(&h);
	h.magic = 0x58585858;
	send_msg(r, SF_HELLO, &h, sizeof h, "hostile", 7);
	expect_error(r, SF_ERR_BAD_MAGIC, SF_HELLO);

	/* Not the protocol at all: an HTTP request. */
	r = raw_connect();
	ASSERT_EQ(raw_send(r, "GET / HTTP/1.0\r\n\r\n", 18), 0);
	expect_error(r, SF_ERR_BAD_MAGIC, 0x4547);
	end();
}

TEST(wrong_version_is_bad_version)
{
	struct sf_hello h;
	struct sf_peer *r;
	char text[SF_MAX_TEXT + 1];

	begin(NULL);
	r = raw_connect();
	hello_msg(&h);
	h.major = 9;
	h.minor = 7;
	send_msg(r, SF_HELLO, &h, sizeof h, "hostile", 7);
	expect_error_text(r, SF_ERR_BAD_VERSION, SF_HELLO, text);
	ASSERT_CONTAINS(text, "9.7");
	end();
}

TEST(length_past_the_maximum_is_bad_message)
{
	/* Too long, absurdly long, not a multiple of 4, shorter than a
	 * header: each on a connection of its own. */
	static const struct sf_header bad[] = {
		{ .type = SF_SYNC, .length = SF_MAX_MESSAGE + 4 },
		{ .type = SF_SYNC, .length = 0x7ffffffc },
		{ .type = SF_SYNC, .length = 18 },
		{ .type = SF_SYNC, .length = 4 },
	};
	struct sf_header first = { .type = SF_HELLO, .length = 0xfffffff0 };
	struct sf_peer *r;

	begin(NULL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = raw_ready();
		ASSERT_EQ(raw_send(r, &bad[i], sizeof bad[i]), 0);
		expect_error(r, SF_ERR_BAD_MESSAGE, SF_SYNC);
	}

	/* Before HELLO nothing says the peer speaks the protocol. */
	r = raw_connect();
	ASSERT_EQ(raw_send(r, &first, sizeof first), 0);
	expect_error(r, SF_ERR_BAD_MAGIC, SF_HELLO);
	end();
}

TEST(truncated_message_then_close_is_bad_message)
{
	struct sf_create_surface m = {
		.id = 1, .width = 8, .height = 8, .format = SF_FORMAT_ARGB8888,
	};
	struct sf_hello h;
	uint8_t buf[256];
	size_t n;
	struct sf_peer *r;
	struct sf_rect all = { 0, 0, 8, 8 };

	begin(NULL);
	/* 20 of the 32 bytes of a CREATE_SURFACE, then our side closed. */
	r = raw_ready();
	n = sf__peer_encode(buf, sizeof buf, SF_CREATE_SURFACE, &m, sizeof m, NULL, 0);
	ASSERT_EQ(raw_send(r, buf, 20), 0);
	ASSERT_EQ(shutdown(r->fd, SHUT_WR), 0);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_CREATE_SURFACE);
	(void)n;

	/* Half a HELLO. */
	r = raw_connect();
	hello_msg(&h);
	n = sf__peer_encode(buf, sizeof buf, SF_HELLO, &h, sizeof h, "hostile", 7);
	ASSERT_EQ(raw_send(r, buf, n / 2), 0);
	ASSERT_EQ(shutdown(r->fd, SHUT_WR), 0);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_HELLO);

	/* An inline frame whose pixels stop half-way. */
	r = raw_ready();
	create_surface(r, 1, 8, 8, SF_PRESENT_LATCH);
	put_image(r, 1, 0, 0, 0, &all, 1);
	memset(buf, 0x5a, sizeof buf);
	ASSERT_EQ(raw_send(r, buf, 100), 0);
	ASSERT_EQ(shutdown(r->fd, SHUT_WR), 0);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_PUT_IMAGE);

	/* And one that closes outright: nobody to tell, nothing to leak. */
	r = raw_ready();
	ASSERT_EQ(raw_send(r, buf, 13), 0);
	raw_close(r);
	end();
}

TEST(unknown_type_is_unknown_type)
{
	struct sf_sync m = { .serial = 1 };
	uint8_t buf[64];
	struct sf_peer *r;

	begin(NULL);
	r = raw_ready();
	sf__peer_encode(buf, sizeof buf, SF_SYNC, &m, sizeof m, NULL, 0);
	buf[0] = 0x40; /* a request type nobody defined */
	ASSERT_EQ(raw_send(r, buf, sizeof m), 0);
	expect_error(r, SF_ERR_UNKNOWN_TYPE, 0x40);

	/* An event sent as a request. */
	r = raw_ready();
	sf__peer_encode(buf, sizeof buf, SF_SYNC_DONE, &m, sizeof m, NULL, 0);
	ASSERT_EQ(raw_send(r, buf, sizeof m), 0);
	expect_error(r, SF_ERR_UNKNOWN_TYPE, SF_SYNC_DONE);

	/* A known request before HELLO. */
	r = raw_connect();
	send_sync(r, 1);
	expect_error(r, SF_ERR_SEQUENCE, SF_SYNC);
	end();
}

TEST(rectangle_outside_the_surface_is_bad_rect)
{
	struct sf_rect right = { 60, 0, 10, 10 };
	struct sf_rect below = { 0, 47, 1, 2 };
	struct sf_peer *r;

	begin(NULL);
	r = raw_ready();
	create_surface(r, 1, 64, 48, SF_PRESENT_LATCH);
	put_image(r, 1, 0, 0, 0, &right, 1);
	expect_error(r, SF_ERR_BAD_RECT, SF_PUT_IMAGE);

	r = raw_ready();
	create_surface(r, 1, 64, 48, SF_PRESENT_LATCH);
	get_image(r, 1, below, 0, 0, 0);
	expect_error(r, SF_ERR_BAD_RECT, SF_GET_IMAGE);

	/* Wholly past an edge: x or y beyond the size, where width - x and
	 * height - y would wrap if the start were not checked first. */
	for (int i = 0; i < 4; i++) {
		static const struct sf_rect far[] = {
			{ 0, 49, 1, 1 }, { 65, 0, 1, 1 },
			{ 0, 4096, 1, 1 }, { 4096, 0, 1, 1 },
		};

		r = raw_ready();
		create_surface(r, 1, 64, 48, SF_PRESENT_LATCH);
		if (i % 2)
			get_image(r, 1, far[i], 0, 0, 0);
		else
			put_image(r, 1, 0, 0, 0, &far[i], 1);
		expect_error(r, SF_ERR_BAD_RECT, i % 2 ? SF_GET_IMAGE
		                                       : SF_PUT_IMAGE);
	}
	end();
}

TEST(offset_or_stride_outside_the_segment_is_bad_buffer)
{
	struct sf_rect all = { 0, 0, 16, 16 };
	struct hseg h;
	struct sf_peer *r;

	begin(NULL);
	hseg_make(&h, SF_SHM_MEMFD, 4096);

	/* 16x16 needs 1024 bytes: at 3500 it runs past 4096. */
	r = raw_ready();
	attach(r, &h, 1, SF_SEGMENT_WRITABLE);
	create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
	put_image(r, 1, 1, 3500, 64, &all, 1);
	expect_error(r, SF_ERR_BAD_BUFFER, SF_PUT_IMAGE);

	/* A stride shorter than a row. */
	r = raw_ready();
	attach(r, &h, 1, SF_SEGMENT_WRITABLE);
	create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
	put_image(r, 1, 1, 0, 60, &all, 1);
	expect_error(r, SF_ERR_BAD_BUFFER, SF_PUT_IMAGE);

	/* A stride that puts the last row past the end. */
	r = raw_ready();
	attach(r, &h, 1, SF_SEGMENT_WRITABLE);
	create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
	put_image(r, 1, 1, 0, 512, &all, 1);
	expect_error(r, SF_ERR_BAD_BUFFER, SF_PUT_IMAGE);

	/* A readback target past the end. */
	r = raw_ready();
	attach(r, &h, 1, SF_SEGMENT_WRITABLE);
	create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
	get_image(r, 1, all, 1, 4000, 64);
	expect_error(r, SF_ERR_BAD_BUFFER, SF_GET_IMAGE);

	hseg_free(&h);
	end();
}

TEST(integer_overflow_in_sizes_is_refused)
{
	struct sf_rect wrap_x = { 0xfffffff0u, 0, 0x20, 1 };
	struct sf_rect wrap_y = { 0, 0xffffffffu, 1, 2 };
	struct sf_rect all = { 0, 0, 16, 16 };
	struct sf_put_image put = { .surface = 1, .n_rects = 0x10000001u };
	struct sf_segment_msg sm;
	struct hseg h;
	uint8_t buf[256];
	struct sf_peer *r;

	begin(NULL);
	hseg_make(&h, SF_SHM_MEMFD, 4096);

	/* x + width wraps around 2^32. */
	r = raw_ready();
	create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
	put_image(r, 1, 0, 0, 0, &wrap_x, 1);
	expect_error(r, SF_ERR_BAD_RECT, SF_PUT_IMAGE);

	r = raw_ready();
	create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
	get_image(r, 1, wrap_y, 0, 0, 0);
	expect_error(r, SF_ERR_BAD_RECT, SF_GET_IMAGE);

	/* offset + size wraps around 2^64. */
	r = raw_ready();
	attach(r, &h, 1, 0);
	create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
	put_image(r, 1, 1, UINT64_MAX - 8, 64, &all, 1);
	expect_error(r, SF_ERR_BAD_BUFFER, SF_PUT_IMAGE);

	/* stride * height far past 2^32. */
	r = raw_ready();
	attach(r, &h, 1, 0);
	create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
	put_image(r, 1, 1, 0, 0xfffffffcu, &all, 1);
	expect_error(r, SF_ERR_BAD_BUFFER, SF_PUT_IMAGE);

	/* A segment of 2^63 bytes. */
	r = raw_ready();
	segment_msg(&sm, &h, 1, 0, 1ull << 63);
	ASSERT_EQ(sf__peer_send_fds(r->fd, buf, sf__peer_encode(buf, sizeof buf, SF_ATTACH_SEGMENT,
	                                      &sm, sizeof sm, NULL, 0),
	                       &h.seg.fd, 1), 0);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_ATTACH_SEGMENT);

	/* A surface of 2^31 x 2 pixels. */
	r = raw_ready();
	create_surface(r, 1, 0x80000000u, 2, SF_PRESENT_LATCH);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_CREATE_SURFACE);

	/* n_rects * 16 wraps around 2^32 (the message has no rectangles). */
	r = raw_ready();
	create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
	send_msg(r, SF_PUT_IMAGE, &put, sizeof put, NULL, 0);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_PUT_IMAGE);

	hseg_free(&h);
	end();
}

TEST(memfd_without_its_fd_is_no_fd)
{
	struct sf_segment_msg m;
	uint8_t buf[256], msg[SF_MAX_MESSAGE];
	struct sf_probe_result pr;
	char text[SF_MAX_TEXT + 1];
	struct hseg h;
	struct sf_peer *r;
	size_t n;

	begin(NULL);
	hseg_make(&h, SF_SHM_MEMFD, 4096);
	segment_msg(&m, &h, 1, 0, 4096);

	r = raw_ready();
	n = sf__peer_encode(buf, sizeof buf, SF_ATTACH_SEGMENT, &m, sizeof m, NULL, 0);
	ASSERT_EQ(raw_send(r, buf, n), 0);
	expect_error(r, SF_ERR_NO_FD, SF_ATTACH_SEGMENT);

	/* A PROBE is only told, and the connection goes on. */
	r = raw_ready();
	n = sf__peer_encode(buf, sizeof buf, SF_PROBE, &m, sizeof m, NULL, 0);
	ASSERT_EQ(raw_send(r, buf, n), 0);
	expect_event(r, SF_PROBE_RESULT, msg);
	ASSERT_EQ(sf__decode_probe_result(msg, ((struct sf_header *)msg)->length,
	                                  &pr, text, NULL), 0);
	ASSERT_EQ(pr.status, SF_PROBE_NO_FD);
	roundtrip(r);
	raw_close(r);

	hseg_free(&h);
	end();
}

TEST(fds_with_a_request_that_takes_none_are_unexpected_fd)
{
	struct sf_sync m = { .serial = 5 };
	struct hseg h, p;
	uint8_t buf[256];
	int pipefd[2], two[2];
	struct sf_peer *r;
	size_t n;

	begin(NULL);
	ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);

	/* A SYNC carrying an fd: refused before it is answered (no
	 * SYNC_DONE comes first). */
	r = raw_ready();
	n = sf__peer_encode(buf, sizeof buf, SF_SYNC, &m, sizeof m, NULL, 0);
	ASSERT_EQ(sf__peer_send_fds(r->fd, buf, n, &pipefd[0], 1), 0);
	{
		struct sf_header hdr;
		uint8_t msg[SF_MAX_MESSAGE];

		ASSERT_EQ(sf__peer_next_event(r, &hdr, msg, 5000), 1);
		ASSERT_MSG(hdr.type == SF_ERROR, "%s came before the ERROR",
		           sf__type_name(hdr.type));
		r->start -= hdr.length; /* let expect_error read it again */
	}
	expect_error(r, SF_ERR_UNEXPECTED_FD, SF_SYNC);

	/* A POSIX ATTACH carrying an fd: refused before it maps anything. */
	hseg_make(&p, SF_SHM_POSIX, 4096);
	r = raw_ready();
	{
		struct sf_segment_msg sm;

		segment_msg(&sm, &p, 1, 0, 4096);
		n = sf__peer_encode(buf, sizeof buf, SF_ATTACH_SEGMENT, &sm, sizeof sm,
		           NULL, 0);
		ASSERT_EQ(sf__peer_send_fds(r->fd, buf, n, &pipefd[0], 1), 0);
	}
	expect_error(r, SF_ERR_UNEXPECTED_FD, SF_ATTACH_SEGMENT);
	hseg_free(&p);

	/* A memfd ATTACH carrying two. */
	hseg_make(&h, SF_SHM_MEMFD, 4096);
	r = raw_ready();
	{
		struct sf_segment_msg sm;

		segment_msg(&sm, &h, 1, 0, 4096);
		n = sf__peer_encode(buf, sizeof buf, SF_ATTACH_SEGMENT, &sm, sizeof sm,
		           NULL, 0);
		two[0] = h.seg.fd;
		two[1] = pipefd[1];
		ASSERT_EQ(sf__peer_send_fds(r->fd, buf, n, two, 2), 0);
	}
	expect_error(r, SF_ERR_UNEXPECTED_FD, SF_ATTACH_SEGMENT);
	hseg_free(&h);

	close(pipefd[0]);
	close(pipefd[1]);
	end();
}

/* n fds to send: the same pipe end, many times. */
static int *many_fds(int n, int fd)
{
	int *fds = malloc((size_t)n * sizeof *fds);

	ASSERT(fds != NULL);
	for (int i = 0; i < n; i++) {
		fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		ASSERT_GE(fds[i], 0);
	}
	return fds;
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

TEST(hundreds_of_fds_at_once_are_unexpected_fd)
{
	struct sf_sync m = { .serial = 9 };
	uint8_t buf[64];
	int pipefd[2], *fds;
	struct sf_peer *r;
	size_t n;

	begin(NULL);
	ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
	fds = many_fds(250, pipefd[0]);

	/* 250 fds in one sendmsg, with a SYNC. */
	r = raw_ready();
	n = sf__peer_encode(buf, sizeof buf, SF_SYNC, &m, sizeof m, NULL, 0);
	ASSERT_EQ(sf__peer_send_fds(r->fd, buf, n, fds, 250), 0);
	expect_error(r, SF_ERR_UNEXPECTED_FD, SF_SYNC);
	check_unharmed("250 fds in one message");

	/* 250 fds with 8 bytes, less than a message. */
	r = raw_ready();
	ASSERT_EQ(sf__peer_send_fds(r->fd, buf, 8, fds, 250), 0);
	expect_error(r, SF_ERR_UNEXPECTED_FD, SF_SYNC);
	check_unharmed("250 fds with a partial message");

	/* 250 SYNCs carrying one fd each. */
	r = raw_ready();
	for (int i = 0; i < 250; i++)
		if (sf__peer_send_fds(r->fd, buf, n, &fds[i], 1) < 0)
			break; /* closed on us: fine, we only read now */
	expect_error(r, SF_ERR_UNEXPECTED_FD, SF_SYNC);

	close_fds(fds, 250);
	close(pipefd[0]);
	close(pipefd[1]);
	end();
}

TEST(a_client_that_stops_reading_is_slow)
{
	const char *const args[] = { "--max-output", "64K", NULL };
	struct sf_sync m = { .serial = 3 };
	uint8_t msg[64];
	struct sf_peer *r;
	size_t n;

	begin(args);
	r = raw_ready();
	n = sf__peer_encode(msg, sizeof msg, SF_SYNC, &m, sizeof m, NULL, 0);
	flood_until_stuck(r, msg, n);
	check_serving("while a client does not read");
	expect_error(r, SF_ERR_SLOW, SF_SYNC);
	end();
}

/* An inline readback streams straight out of the surface and the server
 * stops reading that client meanwhile: a client that asks for one and
 * never reads it must not keep its connection, and its surface, forever. */
TEST(a_client_that_never_reads_its_readback_is_slow)
{
	const char *const args[] = { "--timeout", "1", NULL };
	const uint32_t w = 2048, h = 1024;
	struct sf_rect all = { 0, 0, w, h };
	size_t bytes = (size_t)w * h * 4;
	uint8_t *px = calloc(1, bytes);
	struct sf_peer *r;

	ASSERT(px != NULL);
	begin(args);
	r = raw_ready();
	create_surface(r, 1, w, h, SF_PRESENT_LATCH);
	put_image(r, 1, 0, 0, 0, NULL, 0);
	ASSERT_EQ(raw_send(r, px, bytes), 0);
	free(px);
	roundtrip(r);
	/* 8 MiB back, more than both socket buffers hold; never read. */
	get_image(r, 1, all, 0, 0, 0);
	check_serving("while a client does not read its readback");
	/* Dropped within a timeout or two: back to what the server held
	 * with only the good client. */
	wait_server_fds(fds_with_good, "after the readback was not read");
	raw_close(r);
	end();
}

/* Sends data one byte every interval_ms, until the server says something
 * (its ERROR) or a send fails. */
static void trickle(struct sf_peer *r, const uint8_t *data, size_t len,
                    int interval_ms)
{
	for (size_t i = 0; i < len; i++) {
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };

		if (raw_send(r, data + i, 1) < 0)
			return;
		if (poll(&pfd, 1, interval_ms) > 0)
			return;
	}
}

TEST(slowloris_one_byte_a_second_is_slow)
{
	const char *const args[] = { "--timeout", "2", NULL };
	struct sf_create_surface cs = {
		.id = 1, .width = 8, .height = 8, .format = SF_FORMAT_ARGB8888,
	};
	struct sf_rect all = { 0, 0, 8, 8 };
	struct sf_hello h;
	uint8_t buf[256], px[256];
	char text[SF_MAX_TEXT + 1];
	struct sf_peer *r;
	size_t n;

	begin(args);
	/* A request, one byte a second: given up after 2 s. */
	r = raw_ready();
	n = sf__peer_encode(buf, sizeof buf, SF_CREATE_SURFACE, &cs, sizeof cs, NULL, 0);
	trickle(r, buf, 1, 1000);
	check_serving("during a slow request");
	trickle(r, buf + 1, 3, 1000);
	expect_error_text(r, SF_ERR_SLOW, SF_CREATE_SURFACE, text);
	ASSERT_CONTAINS(text, "too slowly");

	/* A HELLO, one byte a second. */
	r = raw_connect();
	hello_msg(&h);
	n = sf__peer_encode(buf, sizeof buf, SF_HELLO, &h, sizeof h, "hostile", 7);
	trickle(r, buf, 4, 1000);
	expect_error(r, SF_ERR_SLOW, SF_HELLO);

	/* Inline pixels, one byte a second. */
	r = raw_ready();
	create_surface(r, 1, 8, 8, SF_PRESENT_LATCH);
	put_image(r, 1, 0, 0, 0, &all, 1);
	memset(px, 0x33, sizeof px);
	trickle(r, px, 4, 1000);
	expect_error(r, SF_ERR_SLOW, SF_PUT_IMAGE);

	/* Idle between messages is fine, for any time. */
	r = raw_ready();
	sleep(3);
	roundtrip(r);
	raw_close(r);
	(void)n;
	end();
}
