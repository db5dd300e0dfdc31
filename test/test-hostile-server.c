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

static struct shmframe_conn *connect_fake(enum shmframe_transport transport)
{
	struct shmframe_options o;

	shmframe_options_init(&o);
	o.transport = transport;
	o.name = "victim";
	return shmframe_connect(fake.addr, &o);
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
