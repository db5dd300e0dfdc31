/*
 * A hostile server against the real client library: a fake server, a
 * process of its own forked per test, listens on a Unix socket of a fresh
 * directory and speaks protocol 2.0 by hand, lying where a server can lie:
 * WELCOME limits out of range or absent, texts of the longest length and
 * full of terminal escapes, IMAGE events that do not match their
 * GET_IMAGE or stop halfway, events for frames never sent, messages cut
 * short, and file descriptors whose close() would sleep.
 *
 * Each case asserts what the library promises (README, "Threat model"):
 * no crash and no write outside its own buffers (run under ASan too), an
 * error on the connection instead, and a bounded time for the call when
 * the server did something wrong rather than merely nothing.  A server
 * that simply stops answering is waited for, as with X: that is not
 * tested here.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <lz4.h>
#include <zstd.h>

#include "harness.h"
#include "raw-peer.h"
#include "shmframe.h"
#include "wire.h"

#define W 16
#define H 8

/* ---- the fake server ----------------------------------------------------- */

struct fake {
	pid_t pid;
	char dir[64];
	char path[96];
	char addr[110];
};

static struct fake fake;

static void fake_stop(void)
{
	if (fake.pid > 0) {
		kill(fake.pid, SIGKILL);
		waitpid(fake.pid, NULL, 0);
		fake.pid = 0;
	}
	if (fake.path[0])
		unlink(fake.path);
	if (fake.dir[0])
		rmdir(fake.dir);
	memset(&fake, 0, sizeof fake);
}

static void die_child(const char *what)
{
	fprintf(stderr, "fake server: %s: %s\n", what, strerror(errno));
	_exit(1);
}

/* The fake's writes (tools/raw-peer.h) end the fake when the client has
 * gone. */
static void write_all(int fd, const void *p, size_t n)
{
	sf__peer_write_all(fd, p, n, -1);
}

static void send_event(int fd, uint16_t type, void *fixed, size_t size,
                       const void *tail, size_t tail_len)
{
	sf__peer_send(fd, type, fixed, size, tail, tail_len, -1);
}

static struct sf_welcome honest_welcome(void)
{
	struct sf_welcome w = {
		.magic = SF_MAGIC,
		.major = SF_VERSION_MAJOR,
		.minor = SF_VERSION_MINOR,
		.caps = SF_CAP_INLINE,
		.client_id = 1,
		.max_width = 4096,
		.max_height = 4096,
		.max_surfaces = 16,
		.max_segments = 16,
		.max_segment_size = 1u << 26,
		.max_mapped = 1u << 28,
		.max_message = SF_MAX_MESSAGE,
		.max_inflight = 8,
		.max_output = 1u << 26,
	};

	memset(w.challenge, 0x5a, sizeof w.challenge);
	return w;
}

static void send_welcome(int fd, struct sf_welcome w)
{
	send_event(fd, SF_WELCOME, &w, sizeof w, NULL, 0);
}

static void send_error(int fd, uint32_t code, const char *text, size_t len)
{
	struct sf_error e = { .code = code, .text_len = (uint16_t)len };

	send_event(fd, SF_ERROR, &e, sizeof e, text, len);
}

/* The client closing is the end of the fake's work. */
static void read_all(int fd, void *p, size_t n)
{
	if (sf__peer_read_all(fd, p, n) < 0)
		_exit(0);
}

/* Reads and drops the pixels that follow an inline PUT_IMAGE in buf. */
static void skip_inline(int fd, const uint8_t *buf, uint32_t width,
                        uint32_t height)
{
	static uint8_t sink[1 << 16];
	struct sf_put_image p;
	uint64_t bytes = 0;

	memcpy(&p, buf, sizeof p);
	if (p.segment)
		return;
	if (p.n_rects == 0)
		bytes = (uint64_t)width * height * 4;
	for (uint32_t i = 0; i < p.n_rects; i++) {
		struct sf_rect r;

		memcpy(&r, buf + sizeof p + i * sizeof r, sizeof r);
		bytes += (uint64_t)r.width * r.height * 4;
	}
	while (bytes) {
		size_t n = bytes < sizeof sink ? (size_t)bytes : sizeof sink;

		read_all(fd, sink, n);
		bytes -= n;
	}
}

/* Answers SYNC with SYNC_DONE and drops everything else, until the client
 * sends a request of type stop (0: never); returns that request in buf. */
static void serve_until(int fd, uint16_t stop, uint8_t *buf, size_t cap)
{
	static uint32_t width, height; /* of the last CREATE_SURFACE */

	for (;;) {
		uint16_t t = sf__peer_read_request(fd, buf, cap, NULL);

		if (t == 0)
			_exit(0);
		if (t == SF_CREATE_SURFACE) {
			struct sf_create_surface cs;

			memcpy(&cs, buf, sizeof cs);
			width = cs.width;
			height = cs.height;
		}
		if (t == SF_PUT_IMAGE)
			skip_inline(fd, buf, width, height);
		if (t == stop)
			return;
		if (t == SF_SYNC) {
			struct sf_sync s;

			memcpy(&s, buf, sizeof s);
			send_event(fd, SF_SYNC_DONE, &s, sizeof s, NULL, 0);
		}
	}
}

/* What the fake server does once the client's HELLO is in. */
typedef void (*script_fn)(int fd, const void *arg);

/* Starts the fake server: it accepts one client, reads its HELLO, runs
 * script, then waits to be killed (so that nothing it sent is lost to an
 * early close, unless the script closes on purpose). */
static void fake_start(script_fn script, const void *arg)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int lfd;

	memset(&fake, 0, sizeof fake);
	snprintf(fake.dir, sizeof fake.dir, "/tmp/sf-hostile-server.XXXXXX");
	ASSERT(mkdtemp(fake.dir));
	sf_test_atfail = fake_stop;
	snprintf(fake.path, sizeof fake.path, "%s/s", fake.dir);
	snprintf(fake.addr, sizeof fake.addr, "unix:%s", fake.path);
	memcpy(sun.sun_path, fake.path, strlen(fake.path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT(lfd >= 0);
	ASSERT_EQ(bind(lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ASSERT_EQ(listen(lfd, 4), 0);
	fflush(stdout);
	fflush(stderr);
	fake.pid = fork();
	ASSERT(fake.pid >= 0);
	if (fake.pid == 0) {
		static uint8_t buf[SF_MAX_MESSAGE];
		int fd;

		alarm(60);
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			die_child("accept");
		close(lfd);
		if (sf__peer_read_request(fd, buf, sizeof buf, NULL) != SF_HELLO)
			_exit(1);
		script(fd, arg);
		for (;;)
			pause();
	}
	close(lfd);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct shmframe_conn *connect_fake_compress(
	enum shmframe_transport transport, enum shmframe_compress compress)
{
	struct shmframe_options o;

	shmframe_options_init(&o);
	o.transport = transport;
	o.compress = compress;
	o.name = "victim";
	return shmframe_connect(fake.addr, &o);
}

static struct shmframe_conn *connect_fake(enum shmframe_transport transport)
{
	return connect_fake_compress(transport, SHMFRAME_COMPRESS_AUTO);
}

/* Nothing a terminal would act on: no C0 control, no DEL, no C1 control
 * (as UTF-8, U+0080..U+009F start with 0xc2 0x80..0x9f). */
static void assert_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; p[i]; i++) {
		/* Not printed: it would act on the terminal of the run. */
		ASSERT_MSG(p[i] >= 0x20 && p[i] != 0x7f,
		           "byte 0x%02x at %zu of %zu", p[i], i, strlen(s));
		ASSERT_MSG(!(p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f),
		           "a C1 control at %zu of %zu", i, strlen(s));
	}
}

/* ---- WELCOME ------------------------------------------------------------- */

static void welcome_script(int fd, const void *arg)
{
	send_welcome(fd, *(const struct sf_welcome *)arg);
	serve_until(fd, 0, (uint8_t[SF_MAX_MESSAGE]){ 0 }, SF_MAX_MESSAGE);
}

TEST(welcome_limits_out_of_range_are_a_protocol_error)
{
	for (int i = 0; i < 6; i++) {
		struct sf_welcome w = honest_welcome();
		struct shmframe_conn *c;

		switch (i) {
		case 0: w.max_width = 0; break;
		case 1: w.max_height = 0; break;
		case 2: w.max_width = SF_MAX_DIMENSION + 1; break;
		case 3: w.max_height = UINT32_MAX; break;
		case 4: w.max_message = 0; break;
		case 5: w.max_message = UINT32_MAX; break;
		}
		fake_start(welcome_script, &w);
		c = connect_fake(SHMFRAME_TRANSPORT_SOCKET);
		ASSERT_EQ(shmframe_conn_error(c), -EPROTO);
		ASSERT_CONTAINS(shmframe_last_error(c), "WELCOME");
		shmframe_disconnect(c);
		fake_stop();
	}
}

TEST(welcome_without_per_client_limits_leaves_the_library_sound)
{
	struct sf_welcome w = honest_welcome();
	struct shmframe_conn *c;
	struct shmframe_surface *s;
	struct shmframe_buffer *b;

	/* Zero means "no limit" for these, and the sizes claim everything. */
	w.max_surfaces = w.max_segments = w.max_inflight = 0;
	w.max_segment_size = w.max_mapped = w.max_output = UINT64_MAX;
	w.max_width = w.max_height = SF_MAX_DIMENSION;
	fake_start(welcome_script, &w);
	c = connect_fake(SHMFRAME_TRANSPORT_SOCKET);
	ASSERT_EQ(shmframe_conn_error(c), 0);
	s = shmframe_surface_create(c, W, H, SHMFRAME_FORMAT_XRGB8888, "t");
	ASSERT(s);
	for (int i = 0; i < 20; i++) {
		uint32_t stride;
		uint8_t *px;

		b = shmframe_acquire(s);
		ASSERT(b);
		px = shmframe_buffer_pixels(b, &stride);
		ASSERT_GE(stride, W * 4);
		memset(px, i, (size_t)stride * H);
		ASSERT_EQ(shmframe_present(s, b, NULL, 0, NULL), 0);
	}
	ASSERT_EQ(shmframe_roundtrip(c), 0);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	fake_stop();
}

/* ---- texts --------------------------------------------------------------- */

/* The longest text the protocol allows, with terminal escapes: set the
 * window title, clear the screen, a C1 CSI, a bidi override. */
static size_t hostile_text(char *t, size_t cap)
{
	static const char bad[] = "\x1b]0;owned\x07\x1b[2J\xc2\x9b" "31m"
	                          "\xe2\x80\xae" "evil\r\n\x7f\\";
	size_t n = 0;

	while (n + sizeof bad - 1 <= cap) {
		memcpy(t + n, bad, sizeof bad - 1);
		n += sizeof bad - 1;
	}
	while (n < cap)
		t[n++] = 'x';
	return n;
}

static void error_script(int fd, const void *arg)
{
	const char *text = arg;

	send_error(fd, SF_ERR_AUTH, text, strlen(text));
	close(fd);
	_exit(0);
}

TEST(an_error_text_of_the_longest_length_reaches_the_caller_whole)
{
	static char text[SF_MAX_TEXT + 1];
	struct shmframe_conn *c;
	const char *e;

	memset(text, 'y', SF_MAX_TEXT);
	fake_start(error_script, text);
	c = connect_fake(SHMFRAME_TRANSPORT_SOCKET);
	ASSERT_EQ(shmframe_conn_error(c), -EACCES);
	e = shmframe_last_error(c);
	ASSERT_EQ(strncmp(e, "server: ", 8), 0);
	ASSERT_EQ(strlen(e), 8 + SF_MAX_TEXT);
	ASSERT_EQ(strspn(e + 8, "y"), SF_MAX_TEXT);
	shmframe_disconnect(c);
	fake_stop();
}

TEST(error_texts_reach_the_caller_without_terminal_escapes)
{
	static char text[SF_MAX_TEXT + 1];
	struct shmframe_conn *c;

	hostile_text(text, SF_MAX_TEXT);
	fake_start(error_script, text);
	c = connect_fake(SHMFRAME_TRANSPORT_SOCKET);
	ASSERT_EQ(shmframe_conn_error(c), -EACCES);
	/* What a tool prints on stderr: shown, not obeyed. */
	assert_printable(shmframe_last_error(c));
	ASSERT_CONTAINS(shmframe_last_error(c), "server: \\x1b]0;owned\\x07");
	ASSERT_LT(strlen(shmframe_last_error(c)), SF_MAX_TEXT + 300);
	shmframe_disconnect(c);
	fake_stop();
}

static void probe_script(int fd, const void *arg)
{
	static uint8_t buf[SF_MAX_MESSAGE];
	static char text[SF_MAX_TEXT + 1];
	struct sf_welcome w = honest_welcome();

	(void)arg;
	hostile_text(text, SF_MAX_TEXT);
	w.caps = SF_CAP_ALL;
	send_welcome(fd, w);
	for (;;) {
		struct sf_segment_msg m;
		struct sf_probe_result r = { .status = SF_PROBE_REFUSED,
		                             .text_len = SF_MAX_TEXT };

		serve_until(fd, SF_PROBE, buf, sizeof buf);
		memcpy(&m, buf, sizeof m);
		r.kind = m.kind;
		send_event(fd, SF_PROBE_RESULT, &r, sizeof r, text, SF_MAX_TEXT);
	}
}

TEST(probe_texts_are_bounded_and_without_terminal_escapes)
{
	struct shmframe_conn *c;
	const char *reason;

	fake_start(probe_script, NULL);
	c = connect_fake(SHMFRAME_TRANSPORT_AUTO);
	ASSERT_EQ(shmframe_conn_error(c), 0);
	ASSERT_STREQ(shmframe_transport_name(c), "socket");
	reason = shmframe_transport_reason(c);
	ASSERT_CONTAINS(reason, "memfd: ");
	ASSERT_LT(strlen(reason), 1024);
	assert_printable(reason);
	shmframe_disconnect(c);

	/* Forced shm: the same texts end up in the error. */
	fake_stop();
	fake_start(probe_script, NULL);
	c = connect_fake(SHMFRAME_TRANSPORT_SHM);
	ASSERT_EQ(shmframe_conn_error(c), -ENOTSUP);
	assert_printable(shmframe_last_error(c));
	shmframe_disconnect(c);
	fake_stop();
}

/* ---- IMAGE --------------------------------------------------------------- */

enum image_lie {
	LIE_X, LIE_Y, LIE_WIDTH, LIE_HEIGHT, LIE_SERIAL, LIE_SURFACE,
	LIE_SEGMENT, LIE_TRUTH_THEN_CUT, LIE_COUNT
};

static void image_script(int fd, const void *arg)
{
	static uint8_t buf[SF_MAX_MESSAGE], pixels[4 * SF_MAX_DIMENSION * 4];
	enum image_lie lie = *(const enum image_lie *)arg;
	struct sf_get_image g;
	struct sf_image img = { 0 };
	size_t bytes;

	send_welcome(fd, honest_welcome());
	serve_until(fd, SF_GET_IMAGE, buf, sizeof buf);
	memcpy(&g, buf, sizeof g);
	img.surface = g.surface;
	img.serial = g.serial;
	img.rect = g.rect;
	img.format = SF_FORMAT_XRGB8888;
	switch (lie) {
	case LIE_X: img.rect.x++; break;
	case LIE_Y: img.rect.y += H; break;
	/* Wider and taller than asked: more rows than the caller's memory. */
	case LIE_WIDTH: img.rect.width = SF_MAX_DIMENSION; break;
	case LIE_HEIGHT: img.rect.height = 4; break;
	case LIE_SERIAL: img.serial++; break;
	case LIE_SURFACE: img.surface++; break;
	case LIE_SEGMENT: img.segment = 1; break;
	case LIE_TRUTH_THEN_CUT: case LIE_COUNT: break;
	}
	send_event(fd, SF_IMAGE, &img, sizeof img, NULL, 0);
	bytes = (size_t)img.rect.width * img.rect.height * 4;
	if (bytes > sizeof pixels)
		bytes = sizeof pixels;
	memset(pixels, 0xee, bytes);
	if (lie == LIE_TRUTH_THEN_CUT) {
		write_all(fd, pixels, bytes / 2);
		close(fd);
		_exit(0);
	}
	write_all(fd, pixels, bytes);
}

TEST(an_image_unlike_its_get_image_is_refused_and_writes_nothing)
{
	for (int lie = 0; lie < LIE_COUNT; lie++) {
		/* The caller's memory, with guard bytes on both sides. */
		static uint8_t mem[64 + 2 * 4 * 3 + 64];
		uint8_t *dst = mem + 64;
		struct shmframe_conn *c;
		struct shmframe_surface *s;
		double t0;
		int r;

		memset(mem, 0x11, sizeof mem);
		fake_start(image_script, &lie);
		c = connect_fake(SHMFRAME_TRANSPORT_SOCKET);
		ASSERT_EQ(shmframe_conn_error(c), 0);
		s = shmframe_surface_create(c, W, H, SHMFRAME_FORMAT_XRGB8888, "t");
		ASSERT(s);
		/* 3x2 pixels from (1, 1), rows packed. */
		t0 = now_s();
		r = shmframe_readback(s, 1, 1, 3, 2, dst, 3 * 4);
		ASSERT_MSG(now_s() - t0 < 5, "lie %d: %.1f s", lie, now_s() - t0);
		if (lie == LIE_TRUTH_THEN_CUT) {
			ASSERT_EQ(r, -ECONNRESET);
			/* What arrived went where it was asked for, nowhere else. */
			for (size_t i = 0; i < 12; i++)
				ASSERT_EQ(dst[i], 0xee);
			for (size_t i = 12; i < 24; i++)
				ASSERT_EQ(dst[i], 0x11);
		} else {
			ASSERT_MSG(r == -EPROTO, "lie %d: %d (%s)", lie, r,
			           shmframe_last_error(c));
			ASSERT_CONTAINS(shmframe_last_error(c), "IMAGE");
			for (size_t i = 0; i < 24; i++)
				ASSERT_EQ(dst[i], 0x11);
		}
		for (size_t i = 0; i < 64; i++) {
			ASSERT_EQ(mem[i], 0x11);
			ASSERT_EQ(mem[sizeof mem - 1 - i], 0x11);
		}
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
		fake_stop();
	}
}

/* ---- IMAGE in blocks (protocol 2.3) -------------------------------------- */

/* The readback of these tests: 8 x 4 pixels from (2, 2), 128 bytes. */
#define BX 2
#define BY 2
#define BW 8
#define BH 4
#define BROW (BW * 4)

enum block_lie {
	BLK_TRUTH,           /* LZ4 rows, then stored rows: read back exact */
	BLK_TRUTH_THEN_CUT,  /* an honest LZ4 block, its data cut short */
	BLK_NOT_ASKED,       /* blocks, when no codec was asked for */
	BLK_WRONG_CODEC,     /* zstd, when LZ4 was asked for */
	BLK_CODEC_PAST_ENUM,
	BLK_HEADER_PAD,
	BLK_NOT_ROWS,
	BLK_PAST_RECT,
	BLK_NONE_LEN,
	BLK_CODED_LEN,       /* LZ4 data_len == raw_len */
	BLK_BOMB,            /* LZ4 of 16 KiB, claiming 128 bytes */
	BLK_SHORT,           /* LZ4 of 64 bytes, claiming 128 */
	BLK_GARBAGE,
	BLK_DATA_PAD,        /* honest LZ4 data, nonzero padding after it */
	BLK_COUNT
};

/* Pixels the fake sends, and that BLK_TRUTH must read back. */
static uint8_t block_pixel(size_t i)
{
	return (uint8_t)(0x40 + (i / 8) % 3 * 0x21);
}

/* One block: header, data, padding of pad_byte. */
static size_t put_block(uint8_t *out, uint8_t codec, uint8_t pad1,
                        uint32_t raw_len, const void *data, uint32_t data_len,
                        uint8_t pad_byte)
{
	struct sf_block h = { .codec = codec, .pad = { 0, pad1, 0 },
	                      .raw_len = raw_len, .data_len = data_len };
	size_t padded = ((size_t)data_len + 3) & ~(size_t)3;

	memcpy(out, &h, sizeof h);
	memcpy(out + sizeof h, data, data_len);
	memset(out + sizeof h + data_len, pad_byte, padded - data_len);
	return sizeof h + padded;
}

static void block_script(int fd, const void *arg)
{
	static uint8_t buf[SF_MAX_MESSAGE], raw[1 << 16], data[1 << 17],
	               out[1 << 17];
	enum block_lie lie = *(const enum block_lie *)arg;
	struct sf_welcome w = honest_welcome();
	struct sf_get_image g;
	struct sf_image img = { .hdr.flags = SF_IMAGE_BLOCKS };
	uint32_t raw_len = BROW * BH;
	size_t n = 0;
	int k;

	if (lie != BLK_NOT_ASKED)
		w.caps |= SF_CAP_LZ4;
	send_welcome(fd, w);
	serve_until(fd, SF_GET_IMAGE, buf, sizeof buf);
	memcpy(&g, buf, sizeof g);
	/* The library asks for what it was told to, or the test fails. */
	if (g.hdr.flags != (lie == BLK_NOT_ASKED ? 0 : SF_GET_IMAGE_LZ4))
		_exit(3);
	img.surface = g.surface;
	img.serial = g.serial;
	img.rect = g.rect;
	img.format = SF_FORMAT_XRGB8888;
	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = lie == BLK_BOMB ? 0xee : block_pixel(i);
	switch (lie) {
	case BLK_TRUTH:
		k = LZ4_compress_default((char *)raw, (char *)data, 2 * BROW,
		                         sizeof data);
		n = put_block(out, SF_CODEC_LZ4, 0, 2 * BROW, data, (uint32_t)k, 0);
		n += put_block(out + n, SF_CODEC_NONE, 0, 2 * BROW, raw + 2 * BROW,
		               2 * BROW, 0);
		break;
	case BLK_TRUTH_THEN_CUT:
		k = LZ4_compress_default((char *)raw, (char *)data, (int)raw_len,
		                         sizeof data);
		n = put_block(out, SF_CODEC_LZ4, 0, raw_len, data, (uint32_t)k, 0);
		send_event(fd, SF_IMAGE, &img, sizeof img, NULL, 0);
		write_all(fd, out, n - 4);
		close(fd);
		_exit(0);
	case BLK_NOT_ASKED:
		n = put_block(out, SF_CODEC_NONE, 0, raw_len, raw, raw_len, 0);
		break;
	case BLK_WRONG_CODEC: {
		size_t z = ZSTD_compress(data, sizeof data, raw, raw_len, 1);

		if (ZSTD_isError(z) || z >= raw_len)
			_exit(4);
		n = put_block(out, SF_CODEC_ZSTD, 0, raw_len, data, (uint32_t)z, 0);
		break;
	}
	case BLK_CODEC_PAST_ENUM:
		n = put_block(out, 7, 0, raw_len, raw, raw_len, 0);
		break;
	case BLK_HEADER_PAD:
		n = put_block(out, SF_CODEC_NONE, 1, raw_len, raw, raw_len, 0);
		break;
	case BLK_NOT_ROWS:
		n = put_block(out, SF_CODEC_NONE, 0, BROW + 4, raw, BROW + 4, 0);
		break;
	case BLK_PAST_RECT:
		n = put_block(out, SF_CODEC_NONE, 0, raw_len + BROW, raw,
		              raw_len + BROW, 0);
		break;
	case BLK_NONE_LEN:
		n = put_block(out, SF_CODEC_NONE, 0, raw_len, raw, raw_len + 4, 0);
		break;
	case BLK_CODED_LEN:
		n = put_block(out, SF_CODEC_LZ4, 0, raw_len, raw, raw_len, 0);
		break;
	case BLK_BOMB:
	case BLK_SHORT:
		k = LZ4_compress_default((char *)raw, (char *)data,
		                         lie == BLK_BOMB ? 16384 : 64,
		                         sizeof data);
		if (k <= 0 || (uint32_t)k >= raw_len)
			_exit(4);
		n = put_block(out, SF_CODEC_LZ4, 0, raw_len, data, (uint32_t)k, 0);
		break;
	case BLK_GARBAGE:
		for (size_t i = 0; i < 64; i++)
			data[i] = (uint8_t)(0xf0 | (i * 7));
		n = put_block(out, SF_CODEC_LZ4, 0, raw_len, data, 64, 0);
		break;
	case BLK_DATA_PAD:
		/* Whole rows of honest data whose length needs padding. */
		for (uint32_t rows = BH; rows > 0; rows--) {
			k = LZ4_compress_default((char *)raw, (char *)data,
			                         (int)(rows * BROW), sizeof data);
			if (k % 4)
				break;
		}
		if (k % 4 == 0)
			_exit(4);
		n = put_block(out, SF_CODEC_LZ4, 0, raw_len, data, (uint32_t)k,
		              0x80);
		/* Its raw_len as long as the data stands for. */
		for (uint32_t rows = BH; rows > 0; rows--)
			if (LZ4_compress_default((char *)raw, (char *)data,
			                         (int)(rows * BROW), sizeof data) == k) {
				uint32_t len = rows * BROW;

				memcpy(out + 4, &len, 4);
				break;
			}
		break;
	case BLK_COUNT:
		break;
	}
	send_event(fd, SF_IMAGE, &img, sizeof img, NULL, 0);
	write_all(fd, out, n);
}

/* The library decodes a readback in blocks into the caller's rectangle
 * and nowhere else: packed rows (decoded in place) and rows apart in
 * memory (decoded aside, then copied), with guard bytes around and
 * between the rows. */
TEST(image_blocks_that_lie_are_a_protocol_error_and_write_nothing_outside)
{
	for (int lie = 0; lie < BLK_COUNT; lie++) {
		for (int strided = 0; strided < 2; strided++) {
			static uint8_t mem[64 + 4 * 48 + 64];
			const size_t stride = strided ? 48 : BROW;
			uint8_t *dst = mem + 64;
			struct shmframe_conn *c;
			struct shmframe_surface *s;
			double t0;
			int r;

			memset(mem, 0x11, sizeof mem);
			fake_start(block_script, &lie);
			c = connect_fake_compress(SHMFRAME_TRANSPORT_SOCKET,
			                          lie == BLK_NOT_ASKED
			                          ? SHMFRAME_COMPRESS_AUTO
			                          : SHMFRAME_COMPRESS_LZ4);
			ASSERT_EQ(shmframe_conn_error(c), 0);
			ASSERT_EQ(shmframe_compression(c), lie == BLK_NOT_ASKED
			          ? SHMFRAME_COMPRESS_NONE : SHMFRAME_COMPRESS_LZ4);
			s = shmframe_surface_create(c, W, H, SHMFRAME_FORMAT_XRGB8888,
			                            "t");
			ASSERT(s);
			t0 = now_s();
			r = shmframe_readback(s, BX, BY, BW, BH, dst, (uint32_t)stride);
			ASSERT_MSG(now_s() - t0 < 5, "lie %d: %.1f s", lie,
			           now_s() - t0);
			if (lie == BLK_TRUTH) {
				ASSERT_MSG(r == 0, "the truth: %d (%s)", r,
				           shmframe_last_error(c));
				for (size_t y = 0; y < BH; y++)
					for (size_t i = 0; i < BROW; i++)
						ASSERT_EQ(dst[y * stride + i],
						          block_pixel(y * BROW + i));
			} else if (lie == BLK_TRUTH_THEN_CUT) {
				ASSERT_EQ(r, -ECONNRESET);
			} else {
				ASSERT_MSG(r == -EPROTO, "lie %d (%s): %d (%s)", lie,
				           strided ? "rows apart" : "rows packed", r,
				           shmframe_last_error(c));
				ASSERT_CONTAINS(shmframe_last_error(c), "IMAGE");
				if (!strided)
					printf("#   lie %d: %s\n", lie,
					       shmframe_last_error(c));
			}
			/* Outside the rectangle: the guards, and between rows. */
			for (size_t i = 0; i < 64; i++) {
				ASSERT_EQ(mem[i], 0x11);
				ASSERT_EQ(mem[sizeof mem - 1 - i], 0x11);
			}
			for (size_t y = 0; y < BH; y++)
				for (size_t i = BROW; i < stride; i++)
					ASSERT_MSG(dst[y * stride + i] == 0x11, "lie %d: "
					           "byte %zu of row %zu, past the rectangle, "
					           "written", lie, i, y);
			for (size_t i = BH * stride; i < 4 * 48; i++)
				ASSERT_EQ(dst[i], 0x11);
			/* The connection stays failed, and says so. */
			if (r)
				ASSERT_EQ(shmframe_readback(s, BX, BY, BW, BH, dst,
				                            (uint32_t)stride), r);
			shmframe_surface_destroy(s);
			shmframe_disconnect(c);
			fake_stop();
		}
	}
}

/* ---- events for what was never asked -------------------------------------- */

enum stray {
	STRAY_RELEASE_INLINE, STRAY_RELEASE_UNKNOWN_SURFACE, STRAY_PRESENTED,
	STRAY_SYNC_DONE, STRAY_CLOSED, STRAY_WELCOME, STRAY_PROBE_RESULT,
	STRAY_IMAGE, STRAY_COUNT
};

static void stray_script(int fd, const void *arg)
{
	static uint8_t buf[SF_MAX_MESSAGE];
	enum stray what = *(const enum stray *)arg;
	struct sf_release rel = { .surface = 1, .buffer = 1, .serial = 1 };
	struct sf_presented pre = { .surface = 1, .serial = 77 };
	struct sf_sync sd = { .serial = 1000 };
	struct sf_closed cl = { .surface = 99 };
	struct sf_probe_result pr = { .kind = SF_SHM_MEMFD };
	struct sf_image img = { .surface = 1, .serial = 1,
	                        .rect = { 0, 0, 1, 1 },
	                        .format = SF_FORMAT_XRGB8888 };

	send_welcome(fd, honest_welcome());
	/* Once the surface exists, before the SYNC_DONE of the next SYNC. */
	serve_until(fd, SF_CREATE_SURFACE, buf, sizeof buf);
	serve_until(fd, SF_SYNC, buf, sizeof buf);
	send_event(fd, SF_SYNC_DONE, buf, sizeof(struct sf_sync), NULL, 0);
	serve_until(fd, SF_SYNC, buf, sizeof buf);
	switch (what) {
	case STRAY_RELEASE_INLINE:
		send_event(fd, SF_RELEASE, &rel, sizeof rel, NULL, 0);
		break;
	case STRAY_RELEASE_UNKNOWN_SURFACE:
		rel.surface = 99;
		send_event(fd, SF_RELEASE, &rel, sizeof rel, NULL, 0);
		break;
	case STRAY_PRESENTED:
		send_event(fd, SF_PRESENTED, &pre, sizeof pre, NULL, 0);
		break;
	case STRAY_SYNC_DONE:
		send_event(fd, SF_SYNC_DONE, &sd, sizeof sd, NULL, 0);
		break;
	case STRAY_CLOSED:
		send_event(fd, SF_CLOSED, &cl, sizeof cl, NULL, 0);
		break;
	case STRAY_WELCOME:
		send_welcome(fd, honest_welcome());
		break;
	case STRAY_PROBE_RESULT:
		send_event(fd, SF_PROBE_RESULT, &pr, sizeof pr, NULL, 0);
		break;
	case STRAY_IMAGE:
		send_event(fd, SF_IMAGE, &img, sizeof img, NULL, 0);
		write_all(fd, "\xee\xee\xee\xee", 4);
		break;
	case STRAY_COUNT:
		break;
	}
	send_event(fd, SF_SYNC_DONE, buf, sizeof(struct sf_sync), NULL, 0);
	serve_until(fd, 0, buf, sizeof buf);
}

TEST(events_for_what_was_never_asked_are_protocol_errors)
{
	for (int what = 0; what < STRAY_COUNT; what++) {
		struct shmframe_conn *c;
		struct shmframe_surface *s;
		int r;

		fake_start(stray_script, &what);
		c = connect_fake(SHMFRAME_TRANSPORT_SOCKET);
		ASSERT_EQ(shmframe_conn_error(c), 0);
		s = shmframe_surface_create(c, W, H, SHMFRAME_FORMAT_XRGB8888, "t");
		ASSERT_MSG(s, "stray %d: %s", what, shmframe_last_error(c));
		r = shmframe_roundtrip(c);
		ASSERT_MSG(r == -EPROTO, "stray %d: %d (%s)", what, r,
		           shmframe_last_error(c));
		ASSERT_CONTAINS(shmframe_last_error(c), "protocol error");
		/* Sticky: every later call says the same. */
		ASSERT_EQ(shmframe_dispatch(c), -EPROTO);
		ASSERT(!shmframe_acquire(s));
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
		fake_stop();
	}
}

/* ---- messages cut short --------------------------------------------------- */

enum cut { CUT_HEADER, CUT_WELCOME, CUT_ERROR_TEXT, CUT_HUGE_LENGTH,
	   CUT_ODD_LENGTH, CUT_COUNT };

static void cut_script(int fd, const void *arg)
{
	uint8_t buf[SF_MAX_MESSAGE];
	struct sf_welcome w = honest_welcome();
	struct sf_error e = { .code = SF_ERR_AUTH, .text_len = 100 };
	struct sf_header h = { .type = SF_WELCOME };
	size_t len;

	switch (*(const enum cut *)arg) {
	case CUT_HEADER:
		write_all(fd, "\x81\x00\x00", 3);
		break;
	case CUT_WELCOME:
		len = sf__encode(buf, sizeof buf, SF_WELCOME, &w, sizeof w, NULL, 0);
		write_all(fd, buf, len - 5);
		break;
	case CUT_ERROR_TEXT:
		len = sf__encode(buf, sizeof buf, SF_ERROR, &e, sizeof e,
		                 (char[100]){ 'z' }, 100);
		write_all(fd, buf, len - 40);
		break;
	case CUT_HUGE_LENGTH:
		h.length = SF_MAX_MESSAGE + 4;
		write_all(fd, &h, sizeof h);
		write_all(fd, buf, 1000);
		break;
	case CUT_ODD_LENGTH:
		h.length = 90;
		write_all(fd, &h, sizeof h);
		break;
	case CUT_COUNT:
		break;
	}
	close(fd);
	_exit(0);
}

TEST(a_message_cut_short_is_an_error_at_once)
{
	for (int cut = 0; cut < CUT_COUNT; cut++) {
		struct shmframe_conn *c;
		double t0 = now_s();
		int err;

		fake_start(cut_script, &cut);
		c = connect_fake(SHMFRAME_TRANSPORT_SOCKET);
		err = shmframe_conn_error(c);
		ASSERT_MSG(err == -ECONNRESET || err == -EPROTO, "cut %d: %d (%s)",
		           cut, err, shmframe_last_error(c));
		if (cut >= CUT_HUGE_LENGTH)
			ASSERT_EQ(err, -EPROTO);
		ASSERT_LT(now_s() - t0, 5);
		shmframe_disconnect(c);
		fake_stop();
	}
}

/* ---- file descriptors ----------------------------------------------------- */

/* A TCP socket whose last close() sleeps for l_linger seconds: SO_LINGER,
 * and data stuck behind the zero window of a local peer that never reads
 * (the peer stays open in this process). */
static int lingering_socket(int seconds)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sin;
	struct linger lg = { .l_onoff = 1, .l_linger = seconds };
	static char junk[1 << 16];
	int small = 4096, lfd, fd, unsent = 0;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) < 0)
		die_child("tcp listener");
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0)
		die_child("tcp connect");
	if (accept4(lfd, NULL, NULL, SOCK_CLOEXEC) < 0) /* kept open, unread */
		die_child("tcp accept");
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	while (send(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		;
	if (ioctl(fd, TIOCOUTQ, &unsent) < 0 || unsent == 0)
		die_child("no unacknowledged data");
	return fd;
}

#define LINGER_S 4

/* arg: 0 passes the lingering socket itself, 1 a Unix socket that holds
 * one in its queue (closing it closes the lingering socket too). */
static void fd_script(int fd, const void *arg)
{
	uint8_t buf[SF_MAX_MESSAGE];
	struct sf_closed cl = { .surface = 99 };
	int tcp = lingering_socket(LINGER_S), pass = tcp;
	size_t len;

	send_welcome(fd, honest_welcome());
	/* After the handshake, while the client sleeps. */
	usleep(100 * 1000);
	if (*(const int *)arg) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
		    sf__peer_send_fds(sv[1], "n", 1, &tcp, 1) < 0)
			die_child("nesting");
		close(tcp);
		close(sv[1]);
		pass = sv[0];
	}
	/* The fd rides on the first byte of an event the client reads only
	 * later, so that its copy is the last one: whoever closes the last
	 * copy of a lingering socket waits.  A library that takes no fds
	 * makes this fail, and then the event goes alone. */
	len = sf__encode(buf, sizeof buf, SF_CLOSED, &cl, sizeof cl, NULL, 0);
	if (sf__peer_send_fds(fd, buf, 1, &pass, 1) == 0)
		write_all(fd, buf + 1, len - 1);
	else
		write_all(fd, buf, len);
	close(pass);
	serve_until(fd, 0, buf, sizeof buf);
}

TEST(fds_from_the_server_never_block_the_client)
{
	for (int nested = 0; nested < 2; nested++) {
		struct shmframe_conn *c;
		double t0, t;
		int r;

		fake_start(fd_script, &nested);
		c = connect_fake(SHMFRAME_TRANSPORT_SOCKET);
		ASSERT_EQ(shmframe_conn_error(c), 0);
		/* Let the fake server send its fd and drop its own copies. */
		usleep(500 * 1000);
		t0 = now_s();
		r = shmframe_roundtrip(c);
		t = now_s() - t0;
		/* Either the fd reached us and failed the connection, or it
		 * never did and the event failed it: never a close() that
		 * sleeps. */
		ASSERT_MSG(t < 2, "%s: shmframe_roundtrip took %.1f s (%s)",
		           nested ? "nested" : "direct", t, shmframe_last_error(c));
		ASSERT_EQ(r, -EPROTO);
		t0 = now_s();
		shmframe_disconnect(c);
		ASSERT_LT(now_s() - t0, 2);
		fake_stop();
	}
}

/* ---- input events and resize (protocol 2.2) ------------------------------ */

/*
 * A fake of protocol 2.2 that writes every request it reads (type and its
 * first bytes) down a pipe for the test to check, answers PROBE (memfd,
 * the fd closed unread) and SYNC, and at a chosen request sends input
 * events with the values of send_input(); on RESIZE_SURFACE it answers
 * every shm frame not yet answered with PRESENTED and RELEASE, as the
 * real server does for a latched buffer.
 */
#define REC_BYTES 64u
struct rec {
	uint16_t type;
	uint8_t msg[REC_BYTES];
};

struct plan {
	uint16_t minor;
	uint32_t caps;          /* with SF_CAP_INLINE */
	uint16_t trigger;       /* the events follow the trigger_n-th of these */
	unsigned trigger_n;
	uint32_t send;          /* bits: 1 << (type - SF_KEY) */
	uint32_t surface;       /* the events name (0: the last created) */
	uint32_t width, height; /* of the CONFIGURE */
	/* After the events: answer the next SYNC, then send them again. */
	bool again_after_sync;
	/* A second RELEASE of the first frame's buffer after the first shm
	 * PUT_IMAGE that follows a RESIZE_SURFACE. */
	bool release_twice;
	int rec_fd;             /* the pipe's write end */
};

#define EV_BIT(type) (1u << ((type) - SF_KEY))
#define EV_ALL 0xffu

static void send_input(int fd, uint16_t type, uint32_t surface,
                       const struct plan *p, uint32_t *configure_serial)
{
	struct sf_key k = { .surface = surface, .keycode = 4, .keysym = 'a',
	                    .modifiers = SF_MOD_SHIFT, .time_ns = 1000,
	                    .state = 1, .repeat = 1, .text_len = 3,
	                    .text = { 'A', 0xc3, 0xa9 } };
	struct sf_pointer m = { .surface = surface, .x = 10 * 256 + 128,
	                        .y = -(3 * 256 + 64), .buttons = 0x1,
	                        .modifiers = SF_MOD_CTRL, .time_ns = 1001 };
	struct sf_pointer_button b = { .surface = surface, .x = 256 + 1,
	                               .y = 2 * 256, .button = 3, .state = 1,
	                               .buttons = 0x4, .time_ns = 1002 };
	struct sf_pointer_axis a = { .surface = surface, .dx120 = -60,
	                             .dy120 = 240, .time_ns = 1003 };
	struct sf_focus f = { .surface = surface, .focused = 1, .time_ns = 1006 };
	struct sf_configure c = { .surface = surface, .width = p->width,
	                          .height = p->height, .time_ns = 1007 };

	switch (type) {
	case SF_KEY:
		send_event(fd, type, &k, sizeof k, NULL, 0);
		break;
	case SF_POINTER_MOTION:
		send_event(fd, type, &m, sizeof m, NULL, 0);
		break;
	case SF_POINTER_ENTER:
		m.x = m.y = 0;
		m.time_ns = 1004;
		send_event(fd, type, &m, sizeof m, NULL, 0);
		break;
	case SF_POINTER_LEAVE:
		m.x = 5 * 256;
		m.y = 6 * 256;
		m.buttons = 0;
		m.time_ns = 1005;
		send_event(fd, type, &m, sizeof m, NULL, 0);
		break;
	case SF_POINTER_BUTTON:
		send_event(fd, type, &b, sizeof b, NULL, 0);
		break;
	case SF_POINTER_AXIS:
		send_event(fd, type, &a, sizeof a, NULL, 0);
		break;
	case SF_FOCUS:
		send_event(fd, type, &f, sizeof f, NULL, 0);
		break;
	case SF_CONFIGURE:
		c.serial = ++*configure_serial;
		send_event(fd, type, &c, sizeof c, NULL, 0);
		break;
	}
}

static void send_inputs(int fd, const struct plan *p, uint32_t surface,
                        uint32_t *configure_serial)
{
	for (uint16_t t = SF_KEY; t <= SF_CONFIGURE; t++)
		if (p->send & EV_BIT(t))
			send_input(fd, t, surface, p, configure_serial);
}

static void input_script(int fd, const void *arg)
{
	static uint8_t buf[SF_MAX_MESSAGE];
	const struct plan *p = arg;
	struct sf_welcome w = honest_welcome();
	struct { uint32_t buffer, serial; } held[64] = { { 0, 0 } };
	unsigned n_held = 0, triggers = 0;
	uint32_t surface = 0, width = 0, height = 0, configure_serial = 0;
	bool resized = false, sent_twice = false, again = false;
	struct sf_release first = { 0 };

	w.minor = p->minor;
	w.caps = SF_CAP_INLINE | p->caps;
	send_welcome(fd, w);
	for (;;) {
		int pfd = -1;
		uint16_t t = sf__peer_read_request(fd, buf, sizeof buf, &pfd);
		struct rec r = { .type = t };

		if (t == 0)
			_exit(0);
		if (pfd >= 0)
			close(pfd);
		memcpy(r.msg, buf, REC_BYTES);
		write_all(p->rec_fd, &r, sizeof r);
		if (t == SF_PROBE) {
			struct sf_probe_result pr = { .kind = buf[12],
			                              .status = SF_PROBE_OK };

			send_event(fd, SF_PROBE_RESULT, &pr, sizeof pr, NULL, 0);
		} else if (t == SF_CREATE_SURFACE) {
			struct sf_create_surface cs;

			memcpy(&cs, buf, sizeof cs);
			surface = cs.id;
			width = cs.width;
			height = cs.height;
		} else if (t == SF_RESIZE_SURFACE) {
			struct sf_resize_surface rs;

			memcpy(&rs, buf, sizeof rs);
			if (rs.width != width || rs.height != height) {
				for (unsigned i = 0; i < n_held; i++) {
					struct sf_presented pe = {
						.surface = rs.surface,
						.serial = held[i].serial,
					};
					struct sf_release re = {
						.surface = rs.surface,
						.buffer = held[i].buffer,
						.serial = held[i].serial,
					};

					send_event(fd, SF_PRESENTED, &pe, sizeof pe,
					           NULL, 0);
					send_event(fd, SF_RELEASE, &re, sizeof re,
					           NULL, 0);
				}
				n_held = 0;
				resized = true;
			}
			width = rs.width;
			height = rs.height;
		} else if (t == SF_PUT_IMAGE) {
			struct sf_put_image pi;

			memcpy(&pi, buf, sizeof pi);
			skip_inline(fd, buf, width, height);
			if (pi.segment && n_held < 64) {
				held[n_held].buffer = pi.buffer;
				held[n_held++].serial = pi.serial;
				if (!first.serial)
					first = (struct sf_release){
						.surface = pi.surface,
						.buffer = pi.buffer,
						.serial = pi.serial,
					};
			}
			if (pi.segment && resized && p->release_twice &&
			    !sent_twice) {
				send_event(fd, SF_RELEASE, &first, sizeof first,
				           NULL, 0);
				sent_twice = true;
			}
		} else if (t == SF_SYNC) {
			send_event(fd, SF_SYNC_DONE, buf, sizeof(struct sf_sync),
			           NULL, 0);
			if (again) {
				again = false;
				send_inputs(fd, p, p->surface ? p->surface : surface,
				            &configure_serial);
			}
		}
		if (t == p->trigger && ++triggers == p->trigger_n) {
			send_inputs(fd, p, p->surface ? p->surface : surface,
			            &configure_serial);
			again = p->again_after_sync;
		}
	}
}

/* What the callbacks saw. */
struct seen {
	unsigned key, motion, button, axis, enter, leave, focus, configure;
	unsigned released, presented;
	struct shmframe_key_event k;
	struct shmframe_pointer_event m, en, le;
	struct shmframe_button_event b;
	struct shmframe_axis_event a;
	int focused;
	uint64_t focus_time;
	uint32_t cw, ch, cserial;
	uint32_t released_serials[16];
	/* Set: the configure callback resizes to what it is told. */
	bool resize;
	int resize_result;
	uint32_t resized_stride;
};

static void seen_key(void *d, struct shmframe_surface *s,
                     const struct shmframe_key_event *e)
{
	struct seen *v = d;

	(void)s;
	v->key++;
	v->k = *e;
}

static void seen_motion(void *d, struct shmframe_surface *s,
                        const struct shmframe_pointer_event *e)
{
	struct seen *v = d;

	(void)s;
	v->motion++;
	v->m = *e;
}

static void seen_enter(void *d, struct shmframe_surface *s,
                       const struct shmframe_pointer_event *e)
{
	struct seen *v = d;

	(void)s;
	v->enter++;
	v->en = *e;
}

static void seen_leave(void *d, struct shmframe_surface *s,
                       const struct shmframe_pointer_event *e)
{
	struct seen *v = d;

	(void)s;
	v->leave++;
	v->le = *e;
}

static void seen_button(void *d, struct shmframe_surface *s,
                        const struct shmframe_button_event *e)
{
	struct seen *v = d;

	(void)s;
	v->button++;
	v->b = *e;
}

static void seen_axis(void *d, struct shmframe_surface *s,
                      const struct shmframe_axis_event *e)
{
	struct seen *v = d;

	(void)s;
	v->axis++;
	v->a = *e;
}

static void seen_focus(void *d, struct shmframe_surface *s, int focused,
                       uint64_t time_ns)
{
	struct seen *v = d;

	(void)s;
	v->focus++;
	v->focused = focused;
	v->focus_time = time_ns;
}

static void seen_configure(void *d, struct shmframe_surface *s, uint32_t w,
                           uint32_t h, uint32_t serial)
{
	struct seen *v = d;

	v->configure++;
	v->cw = w;
	v->ch = h;
	v->cserial = serial;
	if (v->resize)
		v->resize_result = shmframe_surface_resize(s, w, h, serial);
}

static void seen_released(void *d, struct shmframe_surface *s, uint32_t serial)
{
	struct seen *v = d;

	(void)s;
	if (v->released < 16)
		v->released_serials[v->released] = serial;
	v->released++;
}

static void seen_presented(void *d, struct shmframe_surface *s,
                           uint32_t serial, uint64_t time_ns, int discarded)
{
	struct seen *v = d;

	(void)s, (void)serial, (void)time_ns, (void)discarded;
	v->presented++;
}

static const struct shmframe_surface_listener seen_listener = {
	.presented = seen_presented,
	.released = seen_released,
	.key = seen_key,
	.pointer_motion = seen_motion,
	.pointer_button = seen_button,
	.pointer_axis = seen_axis,
	.pointer_enter = seen_enter,
	.pointer_leave = seen_leave,
	.focus = seen_focus,
	.configure = seen_configure,
};

static struct plan input_plan(void)
{
	return (struct plan){
		.minor = SF_VERSION_MINOR,
		.caps = SF_CAP_INPUT,
		.trigger = SF_SELECT_INPUT,
		.trigger_n = 1,
		.send = EV_ALL,
		.width = 640,
		.height = 480,
	};
}

/* Starts the fake with plan p (its pipe made here), connects over
 * transport and creates a W x H surface with the seen listener. */
static struct shmframe_conn *input_start(struct plan *p, int rec[2],
                                         enum shmframe_transport transport,
                                         struct shmframe_surface **s,
                                         struct seen *v)
{
	struct shmframe_conn *c;

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rec), 0);
	p->rec_fd = rec[1];
	fake_start(input_script, p);
	close(rec[1]);
	c = connect_fake(transport);
	ASSERT_MSG(shmframe_conn_error(c) == 0, "%s", shmframe_last_error(c));
	*s = shmframe_surface_create(c, W, H, SHMFRAME_FORMAT_XRGB8888, "t");
	ASSERT_MSG(*s, "%s", shmframe_last_error(c));
	memset(v, 0, sizeof *v);
	shmframe_surface_set_listener(*s, &seen_listener, v);
	return c;
}

static void input_stop(struct shmframe_conn *c, struct shmframe_surface *s,
                       int rec[2])
{
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	fake_stop();
	close(rec[0]);
}

/* The next request the fake read of type want (others skipped, up to a
 * bound), as its first REC_BYTES bytes. */
static void next_request(int rec, uint16_t want, void *msg, size_t size)
{
	struct rec r;

	for (int i = 0; i < 64; i++) {
		ASSERT_EQ(sf__peer_read_all(rec, &r, sizeof r), 0);
		if (r.type == want) {
			memcpy(msg, r.msg, size < REC_BYTES ? size : REC_BYTES);
			return;
		}
	}
	ASSERT_MSG(0, "no %s among the requests", sf__type_name(want));
}

/* Every request the fake read until one of type until, in order. */
static unsigned requests_until(int rec, uint16_t until, struct rec *out,
                               unsigned cap)
{
	for (unsigned n = 0; n < cap; n++) {
		ASSERT_EQ(sf__peer_read_all(rec, &out[n], sizeof out[n]), 0);
		if (out[n].type == until)
			return n + 1;
	}
	ASSERT_MSG(0, "no %s among %u requests", sf__type_name(until), cap);
	return 0;
}

TEST(every_input_event_reaches_its_callback_with_exact_values)
{
	struct plan p = input_plan();
	struct shmframe_surface *s;
	struct shmframe_conn *c;
	struct sf_select_input sel;
	struct seen v;
	int rec[2];

	c = input_start(&p, rec, SHMFRAME_TRANSPORT_SOCKET, &s, &v);
	ASSERT_EQ(shmframe_surface_select_input(s, SHMFRAME_EVENT_ALL), 0);
	ASSERT_EQ(shmframe_roundtrip(c), 0);
	next_request(rec[0], SF_SELECT_INPUT, &sel, sizeof sel);
	ASSERT_EQ(sel.surface, 1);
	ASSERT_EQ(sel.mask, SF_EVENT_ALL);

	ASSERT_EQ(v.key, 1);
	ASSERT_EQ(v.k.time_ns, 1000);
	ASSERT_EQ(v.k.keycode, SHMFRAME_KEY_A);
	ASSERT_EQ(v.k.keysym, 'a');
	ASSERT_EQ(v.k.modifiers, SHMFRAME_MOD_SHIFT);
	ASSERT_EQ(v.k.pressed, 1);
	ASSERT_EQ(v.k.repeat, 1);
	ASSERT_STREQ(v.k.text, "A\xc3\xa9");
	ASSERT_EQ(v.motion, 1);
	ASSERT(v.m.x == 10.5 && v.m.y == -3.25);
	ASSERT_EQ(v.m.buttons, 1);
	ASSERT_EQ(v.m.modifiers, SHMFRAME_MOD_CTRL);
	ASSERT_EQ(v.m.time_ns, 1001);
	ASSERT_EQ(v.button, 1);
	ASSERT(v.b.x == 1.00390625 && v.b.y == 2.0);
	ASSERT_EQ(v.b.button, SHMFRAME_BUTTON_RIGHT);
	ASSERT_EQ(v.b.pressed, 1);
	ASSERT_EQ(v.b.buttons, 0x4);
	ASSERT_EQ(v.b.time_ns, 1002);
	ASSERT_EQ(v.axis, 1);
	ASSERT(v.a.dx == -0.5 && v.a.dy == 2.0);
	ASSERT_EQ(v.a.dx120, -60);
	ASSERT_EQ(v.a.dy120, 240);
	ASSERT_EQ(v.a.time_ns, 1003);
	ASSERT_EQ(v.enter, 1);
	ASSERT(v.en.x == 0 && v.en.y == 0);
	ASSERT_EQ(v.en.time_ns, 1004);
	ASSERT_EQ(v.leave, 1);
	ASSERT(v.le.x == 5 && v.le.y == 6);
	ASSERT_EQ(v.le.buttons, 0);
	ASSERT_EQ(v.le.time_ns, 1005);
	ASSERT_EQ(v.focus, 1);
	ASSERT_EQ(v.focused, 1);
	ASSERT_EQ(v.focus_time, 1006);
	ASSERT_EQ(v.configure, 1);
	ASSERT_EQ(v.cw, 640);
	ASSERT_EQ(v.ch, 480);
	ASSERT_EQ(v.cserial, 1);
	/* Not answered: the surface keeps its size. */
	ASSERT_EQ(shmframe_surface_width(s), W);
	input_stop(c, s, rec);
}

TEST(listeners_of_older_sizes_get_none_of_the_new_callbacks)
{
	/* 1.0 and 1.2 published the same listener (presented, released,
	 * closed); a size that ends inside the new members has only those
	 * it covers whole. */
	static const size_t sizes[] = {
		offsetof(struct shmframe_surface_listener, key),
		offsetof(struct shmframe_surface_listener, pointer_motion),
		offsetof(struct shmframe_surface_listener, pointer_motion) + 3,
	};

	for (unsigned i = 0; i < 4; i++) {
		struct plan p = input_plan();
		struct shmframe_surface *s;
		struct shmframe_conn *c;
		struct seen v;
		int rec[2];

		c = input_start(&p, rec, SHMFRAME_TRANSPORT_SOCKET, &s, &v);
		if (i < 3)
			shmframe_surface_set_listener_sized(s, &seen_listener,
			                                    sizes[i], &v);
		else /* the function a 1.0 program calls */
			(shmframe_surface_set_listener)(s, &seen_listener, &v);
		ASSERT_EQ(shmframe_surface_select_input(s, SHMFRAME_EVENT_ALL), 0);
		ASSERT_MSG(shmframe_roundtrip(c) == 0, "%s", shmframe_last_error(c));
		ASSERT_EQ(v.key, i == 1 || i == 2 ? 1 : 0);
		ASSERT_EQ(v.motion + v.button + v.axis + v.enter + v.leave +
		          v.focus + v.configure, 0);
		input_stop(c, s, rec);
	}
}

TEST(an_input_event_not_selected_or_not_offered_is_a_protocol_error)
{
	for (int i = 0; i < 5; i++) {
		struct plan p = input_plan();
		struct shmframe_surface *s;
		struct shmframe_conn *c;
		struct seen v;
		int rec[2], r;

		switch (i) {
		case 0: /* selected KEY, sent MOTION */
			p.send = EV_BIT(SF_POINTER_MOTION);
			break;
		case 1: /* nothing selected */
			p.trigger = SF_PUT_IMAGE;
			p.send = EV_BIT(SF_KEY);
			break;
		case 2: /* a 2.1 server that never offered INPUT */
			p.minor = 1;
			p.caps = 0;
			p.trigger = SF_PUT_IMAGE;
			p.send = EV_BIT(SF_CONFIGURE);
			break;
		case 3: /* a surface id never handed out */
			p.surface = 99;
			p.send = EV_BIT(SF_KEY);
			break;
		case 4: /* INPUT offered by a server of minor 1 */
			p.minor = 1;
			p.trigger = SF_PUT_IMAGE;
			p.send = EV_BIT(SF_FOCUS);
			break;
		}
		c = input_start(&p, rec, SHMFRAME_TRANSPORT_SOCKET, &s, &v);
		if (i == 0 || i == 3) {
			ASSERT_EQ(shmframe_surface_select_input(s, SHMFRAME_EVENT_KEY), 0);
		} else {
			struct shmframe_buffer *b = shmframe_acquire(s);

			ASSERT(b);
			ASSERT_EQ(shmframe_present(s, b, NULL, 0, NULL), 0);
		}
		r = shmframe_roundtrip(c);
		ASSERT_MSG(r == -EPROTO, "case %d: %d (%s)", i, r,
		           shmframe_last_error(c));
		ASSERT_CONTAINS(shmframe_last_error(c), "protocol error");
		ASSERT_EQ(v.key + v.motion + v.focus + v.configure, 0);
		input_stop(c, s, rec);
	}
}

TEST(events_selected_before_a_narrower_mask_are_taken_until_its_sync)
{
	struct plan p = input_plan();
	struct shmframe_surface *s;
	struct shmframe_conn *c;
	struct seen v;
	int rec[2], r;

	/* Sent after the second SELECT_INPUT but, for all the client can
	 * tell, before the server read it; sent again after the SYNC that
	 * follows it, when it can no longer be on its way. */
	p.trigger_n = 2;
	p.send = EV_BIT(SF_POINTER_MOTION);
	p.again_after_sync = true;
	c = input_start(&p, rec, SHMFRAME_TRANSPORT_SOCKET, &s, &v);
	ASSERT_EQ(shmframe_surface_select_input(s, SHMFRAME_EVENT_ALL), 0);
	ASSERT_EQ(shmframe_surface_select_input(s, SHMFRAME_EVENT_KEY), 0);
	r = shmframe_roundtrip(c);
	ASSERT_MSG(r == -EPROTO, "%d (%s)", r, shmframe_last_error(c));
	ASSERT_CONTAINS(shmframe_last_error(c), "did not select");
	ASSERT_EQ(v.motion, 1);
	input_stop(c, s, rec);
}

TEST(input_events_for_a_destroyed_surface_are_ignored)
{
	struct plan p = input_plan();
	struct shmframe_surface *s, *t;
	struct shmframe_conn *c;
	struct seen v;
	int rec[2];

	p.trigger = SF_DESTROY_SURFACE;
	p.surface = 1;
	c = input_start(&p, rec, SHMFRAME_TRANSPORT_SOCKET, &s, &v);
	t = shmframe_surface_create(c, W, H, SHMFRAME_FORMAT_XRGB8888, "u");
	ASSERT(t);
	ASSERT_EQ(shmframe_surface_select_input(s, SHMFRAME_EVENT_ALL), 0);
	shmframe_surface_destroy(s);
	ASSERT_MSG(shmframe_roundtrip(c) == 0, "%s", shmframe_last_error(c));
	ASSERT_EQ(v.key + v.motion + v.button + v.configure, 0);
	input_stop(c, t, rec);
}

TEST(a_2_1_server_refuses_select_and_resize_and_stays_usable)
{
	struct plan p = input_plan();
	struct shmframe_surface *s;
	struct shmframe_conn *c;
	struct shmframe_buffer *b;
	struct seen v;
	int rec[2];

	p.minor = 1;
	p.caps = 0;
	p.send = 0;
	c = input_start(&p, rec, SHMFRAME_TRANSPORT_SOCKET, &s, &v);
	ASSERT_EQ(shmframe_surface_select_input(s, SHMFRAME_EVENT_KEY), -ENOTSUP);
	ASSERT_EQ(shmframe_surface_resize(s, 2 * W, H, 0), -ENOTSUP);
	ASSERT_EQ(shmframe_conn_error(c), 0);
	ASSERT_STREQ(shmframe_last_error(c), "");
	b = shmframe_acquire(s);
	ASSERT(b);
	ASSERT_EQ(shmframe_present(s, b, NULL, 0, NULL), 0);
	ASSERT_EQ(shmframe_roundtrip(c), 0);
	ASSERT_EQ(shmframe_surface_width(s), W);
	/* Nothing of 2.2 went out. */
	shmframe_disconnect(c);
	for (;;) {
		struct rec r;

		if (sf__peer_read_all(rec[0], &r, sizeof r))
			break;
		ASSERT(r.type != SF_SELECT_INPUT && r.type != SF_RESIZE_SURFACE);
	}
	fake_stop();
	close(rec[0]);
	(void)s;
}

TEST(a_resize_from_configure_while_acquire_waits_replaces_the_segment)
{
	struct plan p = input_plan();
	struct shmframe_surface *s;
	struct shmframe_conn *c;
	struct shmframe_buffer *b[3], *nb;
	struct shmframe_rect dmg = { 0, 0, 1, 1 };
	struct sf_resize_surface rs;
	struct sf_detach_segment ds;
	struct sf_segment_msg at, first;
	struct sf_put_image pi;
	struct rec recs[64];
	unsigned n = 0, i_rs = 0, i_ds = 0, i_at = 0;
	uint32_t stride;
	struct seen v;
	int rec[2];

	/* The third frame finds every buffer busy: acquire waits, and the
	 * CONFIGURE comes meanwhile. */
	p.trigger = SF_PUT_IMAGE;
	p.trigger_n = 3;
	p.send = EV_BIT(SF_CONFIGURE);
	p.width = 40;
	p.height = 20;
	p.release_twice = true;
	p.caps |= SF_CAP_SHM_MEMFD;
	c = input_start(&p, rec, SHMFRAME_TRANSPORT_SHM, &s, &v);
	v.resize = true;
	next_request(rec[0], SF_ATTACH_SEGMENT, &first, sizeof first);
	ASSERT_EQ(shmframe_surface_select_input(s, SHMFRAME_EVENT_CONFIGURE), 0);
	for (int i = 0; i < 3; i++) {
		b[i] = shmframe_acquire(s);
		ASSERT(b[i]);
		ASSERT_EQ(shmframe_present(s, b[i], NULL, 0, NULL), 0);
	}
	nb = shmframe_acquire(s);
	ASSERT_MSG(nb, "%s", shmframe_last_error(c));
	ASSERT_EQ(v.configure, 1);
	ASSERT_EQ(v.resize_result, 0);
	ASSERT_EQ(shmframe_surface_width(s), 40);
	ASSERT(shmframe_buffer_pixels(nb, &stride));
	ASSERT_EQ(stride, 192);
	ASSERT_EQ(shmframe_present(s, nb, &dmg, 1, NULL), 0);
	ASSERT_MSG(shmframe_roundtrip(c) == -EPROTO, "%s", shmframe_last_error(c));
	/* The three frames of the old size were released and accepted; the
	 * second RELEASE of the first one was not. */
	ASSERT_EQ(v.released, 3);
	ASSERT_EQ(v.presented, 3);
	ASSERT_CONTAINS(shmframe_last_error(c), "RELEASE");

	/* Past the three frames of the old size to the one of the new. */
	for (int i = 0; i < 4; i++)
		n = requests_until(rec[0], SF_PUT_IMAGE, recs, 64);
	for (unsigned k = 0; k < n; k++) {
		if (recs[k].type == SF_RESIZE_SURFACE)
			i_rs = k + 1;
		if (recs[k].type == SF_DETACH_SEGMENT)
			i_ds = k + 1;
		if (recs[k].type == SF_ATTACH_SEGMENT)
			i_at = k + 1;
	}
	ASSERT(i_rs && i_ds == i_rs + 1 && i_at == i_ds + 1);
	memcpy(&rs, recs[i_rs - 1].msg, sizeof rs);
	memcpy(&ds, recs[i_ds - 1].msg, sizeof ds);
	memcpy(&at, recs[i_at - 1].msg, sizeof at);
	memcpy(&pi, recs[n - 1].msg, sizeof pi);
	ASSERT_EQ(rs.width, 40);
	ASSERT_EQ(rs.height, 20);
	ASSERT_EQ(rs.serial, 1);
	ASSERT_EQ(ds.id, first.id);
	ASSERT_NE(at.id, first.id);
	/* A page for the proof, then 3 buffers of 192 x 20 bytes, a page
	 * each. */
	ASSERT_EQ(at.size, 4 * 4096);
	ASSERT_EQ(pi.segment, at.id);
	ASSERT_EQ(pi.buffer, 4);
	ASSERT_EQ(pi.offset, 4096);
	ASSERT_EQ(pi.n_rects, 0);
	input_stop(c, s, rec);
}

/* ---- sf-event-log -------------------------------------------------------- */

/* Starts $SF_EVENT_LOG with args; *out reads its stdout, *in is its
 * stdin (closing it ends the tool). */
static pid_t event_log_start(char *const args[], FILE **out, int *in)
{
	const char *tool = getenv("SF_EVENT_LOG");
	int o[2], i[2];
	pid_t pid;

	ASSERT_MSG(tool, "SF_EVENT_LOG is not set (run through ctest)");
	ASSERT_EQ(pipe2(o, O_CLOEXEC), 0);
	ASSERT_EQ(pipe2(i, O_CLOEXEC), 0);
	fflush(stdout);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		char *argv[16] = { (char *)tool };
		int n = 1;

		while (args[n - 1] && n < 15) {
			argv[n] = args[n - 1];
			n++;
		}
		dup2(o[1], STDOUT_FILENO);
		dup2(i[0], STDIN_FILENO);
		execv(tool, argv);
		_exit(127);
	}
	close(o[1]);
	close(i[0]);
	*out = fdopen(o[0], "r");
	ASSERT(*out);
	*in = i[1];
	return pid;
}

/* The next line of the tool without its " now=..." part. */
static void event_log_line(FILE *out, char *line, size_t cap)
{
	char *now;

	ASSERT_MSG(fgets(line, (int)cap, out), "sf-event-log ended early");
	line[strcspn(line, "\n")] = '\0';
	now = strstr(line, " now=");
	if (now)
		*now = '\0';
}

TEST(sf_event_log_prints_each_event_as_specified)
{
	static const char *const want[] = {
		"ready width=16 height=8 transport=socket",
		"key state=press code=4 sym=97 mods=0x1 repeat=1 text=41c3a9 time=1000",
		"motion x=10.5000 y=-3.2500 buttons=0x1 mods=0x2 time=1001",
		"button button=3 state=press x=1.0039 y=2.0000 buttons=0x4 mods=0x0 time=1002",
		"axis dx=-0.5000 dy=2.0000 dx120=-60 dy120=240 time=1003",
		"enter x=0.0000 y=0.0000 buttons=0x1 mods=0x2 time=1004",
		"leave x=5.0000 y=6.0000 buttons=0x0 mods=0x2 time=1005",
		"focus in time=1006",
		"configure width=640 height=480 serial=1",
		"bye",
	};
	struct plan p = input_plan();
	char *args[] = { "--server", NULL, "--size", "16x8", "--transport",
	                 "socket", NULL };
	char line[512];
	int rec[2], in, status;
	FILE *out;
	pid_t pid;

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rec), 0);
	p.rec_fd = rec[1];
	fake_start(input_script, &p);
	close(rec[1]);
	args[1] = fake.addr;
	pid = event_log_start(args, &out, &in);
	for (size_t i = 0; i + 1 < sizeof want / sizeof want[0]; i++) {
		event_log_line(out, line, sizeof line);
		ASSERT_STREQ(line, want[i]);
	}
	/* The end of stdin ends it. */
	close(in);
	event_log_line(out, line, sizeof line);
	ASSERT_STREQ(line, "bye");
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	fclose(out);
	fake_stop();
	close(rec[0]);
}
