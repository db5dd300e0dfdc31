/*
 * The public client API (shmframe.h) against a real shmframe-server, one
 * server per test, on every transport: frames presented are read back
 * pixel for pixel, damage rectangles do what they say, buffers come back
 * after release, and failures (a missing server, a dead one, rectangles
 * outside the surface) are clear errors rather than crashes.
 *
 * SF_TEST_SERVER names the server binary (CTest sets it).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <poll.h>

#include "harness.h"
#include "install/guard-page.h"
#include "server-proc.h"
#include "shmframe.h"

/* Every test's server listens on a Unix socket and a TCP port. */
static void server_start(struct server_proc *s)
{
	server_proc_start(s, "api", true, NULL);
}

/* The same, with extra server options (NULL-terminated list). */
static void server_start_with(struct server_proc *s, const char *const *extra)
{
	server_proc_start(s, "api", true, extra);
}

/* The four ways to move pixels. */
struct mode {
	const char *name;
	enum shmframe_transport transport;
	enum shmframe_shm_kind shm;
	const char *transport_name;
};

static const struct mode modes[] = {
	{ "socket", SHMFRAME_TRANSPORT_SOCKET, SHMFRAME_SHM_ANY, "socket" },
	{ "memfd", SHMFRAME_TRANSPORT_SHM, SHMFRAME_SHM_MEMFD, "shm/memfd" },
	{ "posix", SHMFRAME_TRANSPORT_SHM, SHMFRAME_SHM_POSIX, "shm/posix" },
	{ "sysv", SHMFRAME_TRANSPORT_SHM, SHMFRAME_SHM_SYSV, "shm/sysv" },
};
#define N_MODES (sizeof modes / sizeof modes[0])

static struct shmframe_conn *connect_mode(const char *addr, const struct mode *m,
                                          unsigned buffers)
{
	struct shmframe_options o;
	struct shmframe_conn *c;

	shmframe_options_init(&o);
	o.transport = m->transport;
	o.shm = m->shm;
	o.name = "test-api";
	if (buffers)
		o.buffers = buffers;
	c = shmframe_connect(addr, &o);
	ASSERT(c != NULL);
	ASSERT_MSG(shmframe_conn_error(c) == 0, "%s: connect: %s (%s)", m->name,
	           shmframe_strerror(shmframe_conn_error(c)),
	           shmframe_last_error(c));
	ASSERT_STREQ(shmframe_transport_name(c), m->transport_name);
	return c;
}

/* A pixel no neighbour shares, different per frame and seed. */
static uint32_t pattern(uint32_t x, uint32_t y, uint32_t frame, uint32_t seed)
{
	uint32_t v = x * 0x9e3779b1u ^ y * 0x85ebca77u ^ frame * 0xc2b2ae3du ^ seed;

	v ^= v >> 15;
	v *= 0x2c1b3c6du;
	v ^= v >> 12;
	return v;
}

/* Fills a whole width x height image with the pattern. */
static void fill(void *pixels, uint32_t stride, uint32_t w, uint32_t h,
                 uint32_t frame, uint32_t seed)
{
	for (uint32_t y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)((uint8_t *)pixels + (size_t)y * stride);
		for (uint32_t x = 0; x < w; x++)
			row[x] = pattern(x, y, frame, seed);
	}
}

/* Reads the whole surface back and compares it with expect (rows of
 * w*4 bytes); names the first differing pixel. */
static void check_readback(struct shmframe_surface *s, const uint32_t *expect,
                           const char *what)
{
	uint32_t w = shmframe_surface_width(s), h = shmframe_surface_height(s);
	uint32_t *got = calloc((size_t)w * h, 4);
	int err;

	ASSERT(got != NULL);
	err = shmframe_readback(s, 0, 0, w, h, got, w * 4);
	if (err) {
		free(got);
		FAIL("%s: readback: %s", what, shmframe_strerror(err));
	}
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			if (got[(size_t)y * w + x] != expect[(size_t)y * w + x]) {
				uint32_t g = got[(size_t)y * w + x];
				free(got);
				FAIL("%s: %ux%u pixel (%u,%u) is 0x%08x, expected 0x%08x",
				     what, w, h, x, y, g, expect[(size_t)y * w + x]);
			}
	free(got);
}

/* Presents one full frame of the pattern and returns a copy of it. */
static uint32_t *present_pattern(struct shmframe_surface *s, uint32_t frame,
                                 uint32_t seed)
{
	uint32_t w = shmframe_surface_width(s), h = shmframe_surface_height(s);
	uint32_t *copy = malloc((size_t)w * h * 4);
	struct shmframe_buffer *b = shmframe_acquire(s);
	uint32_t stride = 0;
	void *px;
	int err;

	ASSERT(copy != NULL);
	ASSERT_MSG(b != NULL, "acquire: %s", strerror(errno));
	px = shmframe_buffer_pixels(b, &stride);
	ASSERT(px != NULL);
	ASSERT_GE(stride, w * 4);
	fill(px, stride, w, h, frame, seed);
	fill(copy, w * 4, w, h, frame, seed);
	err = shmframe_present(s, b, NULL, 0, NULL);
	ASSERT_MSG(err == 0, "present: %s", shmframe_strerror(err));
	return copy;
}

/* ---- connection ------------------------------------------------------ */

/* The library reports the project's version, and the header it was built
 * with names the same major and minor. */
TEST(version_is_the_projects)
{
	char want[32];

	ASSERT_STREQ(shmframe_version(), SF_PROJECT_VERSION);
	snprintf(want, sizeof want, "%d.%d.", SHMFRAME_VERSION_MAJOR,
	         SHMFRAME_VERSION_MINOR);
	ASSERT(strncmp(shmframe_version(), want, strlen(want)) == 0);
}

TEST(options_start_from_documented_defaults)
{
	struct shmframe_options o;

	unsetenv("SHMFRAME_TRANSPORT");
	shmframe_options_init(&o);
	ASSERT_EQ(o.transport, SHMFRAME_TRANSPORT_AUTO);
	ASSERT_EQ(o.shm, SHMFRAME_SHM_ANY);
	ASSERT_EQ(o.buffers, 3);
	ASSERT(o.log == NULL);
	setenv("SHMFRAME_TRANSPORT", "socket", 1);
	shmframe_options_init(&o);
	ASSERT_EQ(o.transport, SHMFRAME_TRANSPORT_SOCKET);
	setenv("SHMFRAME_TRANSPORT", "shm", 1);
	shmframe_options_init(&o);
	ASSERT_EQ(o.transport, SHMFRAME_TRANSPORT_SHM);
	unsetenv("SHMFRAME_TRANSPORT");
}

TEST(connecting_to_a_missing_server_is_a_clear_sticky_error)
{
	char dir[] = "/tmp/shmframe-api.XXXXXX", addr[128];
	struct shmframe_conn *c;
	const char *msg;
	int err;

	ASSERT(mkdtemp(dir) != NULL);
	snprintf(addr, sizeof addr, "unix:%s/no-such-socket", dir);
	c = shmframe_connect(addr, NULL);
	rmdir(dir);
	ASSERT(c != NULL);
	err = shmframe_conn_error(c);
	ASSERT_LT(err, 0);
	msg = shmframe_last_error(c);
	ASSERT_MSG(msg && msg[0], "no error text for a failed connect");
	ASSERT_MSG(strstr(msg, "no-such-socket") != NULL,
	           "error does not name the address: \"%s\"", msg);
	ASSERT(shmframe_strerror(err) && shmframe_strerror(err)[0]);
	/* Sticky: later calls fail the same way. */
	errno = 0;
	ASSERT(shmframe_surface_create(c, 8, 8, SHMFRAME_FORMAT_ARGB8888, NULL) == NULL);
	ASSERT_EQ(shmframe_roundtrip(c), err);
	ASSERT_EQ(shmframe_conn_error(c), err);
	shmframe_disconnect(c);
}

TEST(connecting_with_each_transport_reports_it)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		const char *reason = shmframe_transport_reason(c);

		ASSERT_EQ(shmframe_transport(c), modes[i].transport);
		ASSERT_EQ(shmframe_shm_kind(c), modes[i].shm);
		ASSERT(reason != NULL);
		if (modes[i].transport == SHMFRAME_TRANSPORT_SHM)
			ASSERT_MSG(strstr(reason, "ok") != NULL,
			           "%s: reason \"%s\"", modes[i].name, reason);
		ASSERT_GE(shmframe_get_fd(c), 0);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(auto_transport_on_a_unix_socket_picks_memfd)
{
	struct server_proc srv;
	struct shmframe_conn *c;

	server_start(&srv);
	c = shmframe_connect(srv.addr, NULL);
	ASSERT_EQ(shmframe_conn_error(c), 0);
	ASSERT_STREQ(shmframe_transport_name(c), "shm/memfd");
	ASSERT_EQ(shmframe_transport(c), SHMFRAME_TRANSPORT_SHM);
	ASSERT_EQ(shmframe_shm_kind(c), SHMFRAME_SHM_MEMFD);
	ASSERT_CONTAINS(shmframe_transport_reason(c), "memfd");
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

TEST(auto_transport_over_tcp_on_the_same_host_picks_posix)
{
	struct server_proc srv;
	struct shmframe_conn *c;
	struct shmframe_surface *s;
	uint32_t *img;

	server_start(&srv);
	c = shmframe_connect(srv.tcp_addr, NULL);
	ASSERT_MSG(shmframe_conn_error(c) == 0, "connect %s: %s", srv.tcp_addr,
	           shmframe_last_error(c));
	ASSERT_STREQ(shmframe_transport_name(c), "shm/posix");
	s = shmframe_surface_create(c, 33, 17, SHMFRAME_FORMAT_ARGB8888, "tcp");
	ASSERT(s != NULL);
	img = present_pattern(s, 1, 7);
	check_readback(s, img, "tcp posix");
	free(img);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

TEST(tcp_without_the_cookie_is_refused)
{
	struct server_proc srv;
	struct shmframe_conn *c;
	struct shmframe_options o;
	char bad[128];
	int fd;

	server_start(&srv);
	snprintf(bad, sizeof bad, "%s/wrong-cookie", srv.dir);
	fd = open(bad, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, "0123456789abcdef0123456789abcdef\n", 33), 33);
	close(fd);
	shmframe_options_init(&o);
	o.auth_file = bad;
	c = shmframe_connect(srv.tcp_addr, &o);
	ASSERT(c != NULL);
	ASSERT_LT(shmframe_conn_error(c), 0);
	ASSERT(shmframe_last_error(c)[0] != '\0');
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

/* ---- frames ------------------------------------------------------------ */

static void check_round_trips(const struct mode *m)
{
	static const uint32_t sizes[][2] = {
		{ 1, 1 }, { 7, 5 }, { 3, 500 }, { 333, 257 }, { 64, 48 },
	};
	struct server_proc srv;
	struct shmframe_conn *c;

	server_start(&srv);
	c = connect_mode(srv.addr, m, 0);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		uint32_t w = sizes[i][0], h = sizes[i][1];
		struct shmframe_surface *s;
		char what[64];
		uint32_t *img;

		s = shmframe_surface_create(c, w, h, SHMFRAME_FORMAT_ARGB8888, "rt");
		ASSERT_MSG(s != NULL, "%s: surface %ux%u: %s", m->name, w, h,
		           shmframe_last_error(c));
		ASSERT_EQ(shmframe_surface_width(s), w);
		ASSERT_EQ(shmframe_surface_height(s), h);
		snprintf(what, sizeof what, "%s %ux%u", m->name, w, h);
		img = present_pattern(s, 1, (uint32_t)i);
		check_readback(s, img, what);
		free(img);
		/* A second frame replaces the first entirely. */
		img = present_pattern(s, 2, (uint32_t)i);
		check_readback(s, img, what);
		free(img);
		shmframe_surface_destroy(s);
	}
	ASSERT_EQ(shmframe_conn_error(c), 0);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

TEST(frames_round_trip_exactly_over_the_socket) { check_round_trips(&modes[0]); }
TEST(frames_round_trip_exactly_over_memfd) { check_round_trips(&modes[1]); }
TEST(frames_round_trip_exactly_over_posix_shm) { check_round_trips(&modes[2]); }
TEST(frames_round_trip_exactly_over_sysv_shm) { check_round_trips(&modes[3]); }

TEST(shared_buffer_rows_are_padded_past_width_times_4)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		struct shmframe_surface *s =
			shmframe_surface_create(c, 7, 5, SHMFRAME_FORMAT_ARGB8888, NULL);
		struct shmframe_buffer *b;
		uint32_t stride = 0;

		ASSERT(s != NULL);
		b = shmframe_acquire(s);
		ASSERT(b != NULL);
		ASSERT(shmframe_buffer_pixels(b, &stride) != NULL);
		/* Shared buffers pad rows to 64 bytes; the socket transport's
		 * private buffers need not. */
		if (modes[i].transport == SHMFRAME_TRANSPORT_SHM)
			ASSERT_MSG(stride > 7 * 4, "%s: stride %u", modes[i].name,
			           stride);
		else
			ASSERT_GE(stride, 7 * 4);
		ASSERT_EQ(stride % 4, 0);
		ASSERT(shmframe_buffer_pixels(b, NULL) != NULL);
		shmframe_buffer_discard(s, b);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(readback_honours_the_destination_stride_and_rectangle)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		struct shmframe_surface *s =
			shmframe_surface_create(c, 40, 30, SHMFRAME_FORMAT_ARGB8888, NULL);
		uint32_t *img, dst[12 * 9 + 16];
		const uint32_t dst_stride = 12 * 4; /* wider than the 9 read */

		ASSERT(s != NULL);
		img = present_pattern(s, 3, 99);
		memset(dst, 0xee, sizeof dst);
		ASSERT_EQ(shmframe_readback(s, 5, 7, 9, 8, dst, dst_stride), 0);
		for (uint32_t y = 0; y < 8; y++) {
			for (uint32_t x = 0; x < 9; x++)
				ASSERT_MSG(dst[y * 12 + x] == img[(7 + y) * 40 + 5 + x],
				           "%s: (%u,%u)", modes[i].name, x, y);
			for (uint32_t x = 9; x < 12; x++)
				ASSERT_MSG(dst[y * 12 + x] == 0xeeeeeeeeu,
				           "%s: readback wrote past its rectangle",
				           modes[i].name);
		}
		ASSERT_EQ(dst[8 * 12], 0xeeeeeeeeu);
		free(img);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

/* Thousands of rows, 16 MiB: more than the socket buffers and the first
 * reads into the library's input queue hold, so the rest of an inline
 * readback is read straight into the caller's rows, which must honour a
 * destination stride wider than a row too. */
TEST(a_large_readback_honours_a_wide_destination_stride)
{
	const uint32_t w = 1024, h = 4096, pad = 16;
	const uint32_t dst_stride = (w + pad) * 4;
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		struct shmframe_surface *s =
			shmframe_surface_create(c, w, h, SHMFRAME_FORMAT_ARGB8888, NULL);
		uint32_t *img, *dst = malloc((size_t)dst_stride * h);

		ASSERT(s != NULL && dst != NULL);
		img = present_pattern(s, 7, 1234);
		memset(dst, 0xee, (size_t)dst_stride * h);
		ASSERT_EQ(shmframe_readback(s, 0, 0, w, h, dst, dst_stride), 0);
		for (uint32_t y = 0; y < h; y++) {
			const uint32_t *row = dst + (size_t)y * (w + pad);

			for (uint32_t x = 0; x < w; x++)
				if (row[x] != img[(size_t)y * w + x])
					FAIL("%s: pixel (%u,%u) is 0x%08x, expected 0x%08x",
					     modes[i].name, x, y, row[x],
					     img[(size_t)y * w + x]);
			for (uint32_t x = w; x < w + pad; x++)
				if (row[x] != 0xeeeeeeeeu)
					FAIL("%s: row %u: readback wrote into the stride's "
					     "padding", modes[i].name, y);
		}
		free(dst);
		free(img);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(damage_rectangles_update_their_regions)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		const uint32_t w = 61, h = 45;
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		struct shmframe_surface *s =
			shmframe_surface_create(c, w, h, SHMFRAME_FORMAT_ARGB8888, NULL);
		const struct shmframe_rect dmg[2] = { { 3, 4, 10, 11 }, { 50, 40, 11, 5 } };
		struct shmframe_buffer *b;
		uint32_t *expect, stride, serial = 0;
		uint8_t *px;

		ASSERT(s != NULL);
		expect = present_pattern(s, 1, 5);
		/* The next frame: the complete image, changed inside dmg only. */
		for (int r = 0; r < 2; r++)
			for (uint32_t y = dmg[r].y; y < dmg[r].y + dmg[r].height; y++)
				for (uint32_t x = dmg[r].x; x < dmg[r].x + dmg[r].width; x++)
					expect[y * w + x] = pattern(x, y, 2, 5);
		b = shmframe_acquire(s);
		ASSERT(b != NULL);
		px = shmframe_buffer_pixels(b, &stride);
		for (uint32_t y = 0; y < h; y++)
			memcpy(px + (size_t)y * stride, expect + (size_t)y * w, w * 4);
		ASSERT_EQ(shmframe_present(s, b, dmg, 2, &serial), 0);
		check_readback(s, expect, modes[i].name);
		free(expect);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(the_socket_transport_sends_only_the_damage)
{
	const uint32_t w = 32, h = 20;
	const struct shmframe_rect dmg = { 8, 4, 5, 6 };
	struct server_proc srv;
	struct shmframe_conn *c;
	struct shmframe_surface *s;
	struct shmframe_buffer *b;
	uint32_t *expect, stride;
	uint8_t *px;

	server_start(&srv);
	c = connect_mode(srv.addr, &modes[0], 0);
	s = shmframe_surface_create(c, w, h, SHMFRAME_FORMAT_ARGB8888, NULL);
	ASSERT(s != NULL);
	expect = present_pattern(s, 1, 1);
	/* Everything in the buffer changes, but only dmg is declared: the
	 * server must end up with the old image outside it. */
	b = shmframe_acquire(s);
	ASSERT(b != NULL);
	px = shmframe_buffer_pixels(b, &stride);
	fill(px, stride, w, h, 9, 9);
	for (uint32_t y = dmg.y; y < dmg.y + dmg.height; y++)
		for (uint32_t x = dmg.x; x < dmg.x + dmg.width; x++)
			expect[y * w + x] = pattern(x, y, 9, 9);
	ASSERT_EQ(shmframe_present(s, b, &dmg, 1, NULL), 0);
	check_readback(s, expect, "socket damage");
	free(expect);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

/* A server announcing a small largest message still gets every frame
 * right: the library sends at most as many rectangles as fit, and their
 * bounding box when there are more. */
TEST(many_damage_rectangles_fit_a_small_largest_message)
{
	static const char *const opts[] = { "--max-message", "512", NULL };
	const uint32_t w = 120, h = 40;
	struct shmframe_rect dmg[100];
	struct server_proc srv;

	server_start_with(&srv, opts);
	for (unsigned i = 0; i < 100; i++)
		dmg[i] = (struct shmframe_rect){ i, i % 40, 1, 1 };
	for (size_t m = 0; m < N_MODES; m++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[m], 0);
		struct shmframe_surface *s =
			shmframe_surface_create(c, w, h, SHMFRAME_FORMAT_ARGB8888, NULL);
		struct shmframe_buffer *b;
		uint32_t *expect, stride;
		uint8_t *px;

		ASSERT(s != NULL);
		expect = present_pattern(s, 1, 3);
		for (unsigned i = 0; i < 100; i++)
			expect[dmg[i].y * w + dmg[i].x] = pattern(dmg[i].x, dmg[i].y, 2, 3);
		b = shmframe_acquire(s);
		ASSERT(b != NULL);
		px = shmframe_buffer_pixels(b, &stride);
		for (uint32_t y = 0; y < h; y++)
			memcpy(px + (size_t)y * stride, expect + (size_t)y * w, w * 4);
		ASSERT_EQ(shmframe_present(s, b, dmg, 100, NULL), 0);
		check_readback(s, expect, modes[m].name);
		ASSERT_EQ(shmframe_conn_error(c), 0);
		free(expect);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

/* With one request allowed in flight, holding one buffer is the most a
 * client may do: acquiring a second would wait forever, so it fails at
 * once instead of hanging or overrunning the server's limit. */
TEST(acquire_never_exceeds_the_servers_in_flight_limit)
{
	static const char *const opts[] = { "--max-inflight", "1", NULL };
	struct server_proc srv;

	server_start_with(&srv, opts);
	for (size_t m = 0; m < N_MODES; m++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[m], 0);
		struct shmframe_surface *s =
			shmframe_surface_create(c, 16, 16, SHMFRAME_FORMAT_ARGB8888, NULL);
		struct shmframe_buffer *b1, *b2;

		ASSERT(s != NULL);
		b1 = shmframe_acquire(s);
		ASSERT(b1 != NULL);
		b2 = shmframe_acquire(s);
		ASSERT(b2 == NULL);
		ASSERT_EQ(errno, EDEADLK);
		/* Presenting the one held works, and so does the next frame. */
		ASSERT_EQ(shmframe_present(s, b1, NULL, 0, NULL), 0);
		for (int f = 0; f < 5; f++) {
			b1 = shmframe_acquire(s);
			ASSERT(b1 != NULL);
			ASSERT_EQ(shmframe_present(s, b1, NULL, 0, NULL), 0);
		}
		ASSERT_EQ(shmframe_roundtrip(c), 0);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(damage_outside_the_surface_is_refused_and_the_connection_lives)
{
	static const struct shmframe_rect bad[] = {
		{ 5, 0, 3, 1 },            /* one column past the right edge */
		{ 0, 4, 1, 2 },            /* one row past the bottom */
		{ 7, 0, 1, 1 },
		{ UINT32_MAX, 0, 2, 1 },   /* x + width wraps */
		{ 0, 1, 1, UINT32_MAX },
	};
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		struct shmframe_surface *s =
			shmframe_surface_create(c, 7, 5, SHMFRAME_FORMAT_ARGB8888, NULL);
		uint32_t *img;

		ASSERT(s != NULL);
		for (size_t r = 0; r < sizeof bad / sizeof bad[0]; r++) {
			struct shmframe_buffer *b = shmframe_acquire(s);
			int err;

			ASSERT(b != NULL);
			err = shmframe_present(s, b, &bad[r], 1, NULL);
			ASSERT_MSG(err == -EINVAL, "%s: rect %zu: present returned %d",
			           modes[i].name, r, err);
			/* Refused means not taken: the buffer is still ours. */
			shmframe_buffer_discard(s, b);
		}
		ASSERT_EQ(shmframe_roundtrip(c), 0);
		ASSERT_EQ(shmframe_conn_error(c), 0);
		img = present_pattern(s, 4, 4);
		check_readback(s, img, modes[i].name);
		free(img);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(readback_outside_the_surface_is_refused)
{
	struct server_proc srv;
	struct shmframe_conn *c;
	struct shmframe_surface *s;
	uint32_t dst[64];
	uint32_t *img;

	server_start(&srv);
	c = connect_mode(srv.addr, &modes[1], 0);
	s = shmframe_surface_create(c, 7, 5, SHMFRAME_FORMAT_ARGB8888, NULL);
	ASSERT(s != NULL);
	img = present_pattern(s, 1, 1);
	ASSERT_EQ(shmframe_readback(s, 0, 0, 8, 1, dst, 64), -EINVAL);
	ASSERT_EQ(shmframe_readback(s, 6, 4, 2, 1, dst, 64), -EINVAL);
	ASSERT_EQ(shmframe_readback(s, UINT32_MAX, 0, 2, 1, dst, 64), -EINVAL);
	ASSERT_EQ(shmframe_conn_error(c), 0);
	check_readback(s, img, "after refused readbacks");
	free(img);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

struct events {
	unsigned released, presented;
	uint32_t last_released, last_presented;
};

static void on_presented(void *data, struct shmframe_surface *s, uint32_t serial,
                         uint64_t time_ns, int discarded)
{
	struct events *e = data;

	(void)s;
	(void)time_ns;
	(void)discarded;
	e->presented++;
	e->last_presented = serial;
}

static void on_released(void *data, struct shmframe_surface *s, uint32_t serial)
{
	struct events *e = data;

	(void)s;
	e->released++;
	e->last_released = serial;
}

static const struct shmframe_surface_listener listener = {
	.presented = on_presented,
	.released = on_released,
};

TEST(latched_buffers_come_back_when_the_next_frame_replaces_them)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 1; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 2);
		struct shmframe_surface *s =
			shmframe_surface_create(c, 16, 16, SHMFRAME_FORMAT_ARGB8888, NULL);
		struct shmframe_buffer *b1, *b2, *b3;
		struct events ev = { 0 };
		uint32_t serial1 = 0, serial2 = 0;

		ASSERT(s != NULL);
		shmframe_surface_set_listener(s, &listener, &ev);
		b1 = shmframe_acquire(s);
		ASSERT(b1 != NULL);
		ASSERT_EQ(shmframe_present(s, b1, NULL, 0, &serial1), 0);
		b2 = shmframe_acquire(s);
		ASSERT(b2 != NULL);
		ASSERT(b2 != b1);
		/* b1 is latched by the server, b2 is ours: nothing is free. */
		ASSERT_EQ(shmframe_roundtrip(c), 0);
		errno = 0;
		ASSERT(shmframe_try_acquire(s) == NULL);
		ASSERT_EQ(errno, EAGAIN);
		/* Only presenting b2 could free b1: waiting would never end,
		 * and acquire says so instead of hanging (the test's alarm). */
		errno = 0;
		ASSERT(shmframe_acquire(s) == NULL);
		ASSERT_MSG(errno == EDEADLK, "%s: acquire with every buffer held: "
		           "%s, expected EDEADLK", modes[i].name, strerror(errno));
		ASSERT_EQ(shmframe_conn_error(c), 0);
		ASSERT_EQ(ev.released, 0);
		/* Presenting b2 replaces b1, which the server releases. */
		ASSERT_EQ(shmframe_present(s, b2, NULL, 0, &serial2), 0);
		ASSERT_NE(serial2, serial1);
		ASSERT_EQ(shmframe_roundtrip(c), 0);
		ASSERT_EQ(ev.released, 1);
		ASSERT_EQ(ev.last_released, serial1);
		b3 = shmframe_try_acquire(s);
		ASSERT_MSG(b3 == b1, "%s: the released buffer did not come back",
		           modes[i].name);
		shmframe_buffer_discard(s, b3);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(many_frames_cycle_through_the_buffers)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 2);
		struct shmframe_surface *s =
			shmframe_surface_create(c, 100, 60, SHMFRAME_FORMAT_ARGB8888, NULL);
		struct shmframe_buffer *seen[4] = { NULL };
		unsigned n_seen = 0;
		uint32_t *img = NULL;

		ASSERT(s != NULL);
		for (uint32_t f = 0; f < 60; f++) {
			struct shmframe_buffer *b = shmframe_acquire(s);
			uint32_t stride;
			uint8_t *px;
			unsigned k;

			ASSERT_MSG(b != NULL, "%s: frame %u: acquire: %s",
			           modes[i].name, f, strerror(errno));
			for (k = 0; k < n_seen && seen[k] != b; k++)
				;
			if (k == n_seen) {
				ASSERT_MSG(n_seen < 2, "%s: more buffers than asked for",
				           modes[i].name);
				seen[n_seen++] = b;
			}
			/* Two statements: the order in which the arguments of
			 * one call are evaluated is unspecified, so stride must
			 * be set before it is read. */
			px = shmframe_buffer_pixels(b, &stride);
			ASSERT(px != NULL);
			fill(px, stride, 100, 60, f, 3);
			ASSERT_EQ(shmframe_present(s, b, NULL, 0, NULL), 0);
		}
		img = malloc(100 * 60 * 4);
		ASSERT(img != NULL);
		fill(img, 400, 100, 60, 59, 3);
		check_readback(s, img, modes[i].name);
		free(img);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(copy_mode_works_with_a_single_buffer)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 1);
		struct shmframe_surface *s =
			shmframe_surface_create(c, 33, 21, SHMFRAME_FORMAT_ARGB8888, NULL);
		uint32_t *img = NULL;

		ASSERT(s != NULL);
		ASSERT_EQ(shmframe_surface_set_present_mode(s, SHMFRAME_PRESENT_COPY), 0);
		for (uint32_t f = 0; f < 10; f++) {
			free(img);
			img = present_pattern(s, f, 11);
		}
		check_readback(s, img, modes[i].name);
		free(img);
		ASSERT_EQ(shmframe_surface_set_present_mode(s, 7), -EINVAL);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

/* The mode travels with each frame: switching in the middle of a stream
 * keeps the image (a frame copied over a latched one changes only its
 * damage) and the surface, and every buffer still comes back. */
TEST(switching_present_mode_mid_stream_keeps_every_pixel)
{
	const uint32_t w = 40, h = 24;
	const struct shmframe_rect dmg = { 5, 6, 7, 8 };
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 2);
		struct shmframe_surface *s =
			shmframe_surface_create(c, w, h, SHMFRAME_FORMAT_ARGB8888, NULL);
		struct shmframe_buffer *b;
		uint32_t *img = NULL, stride;
		uint8_t *px;

		ASSERT(s != NULL);
		for (uint32_t f = 0; f < 3; f++) {
			free(img);
			img = present_pattern(s, f, 21);
		}
		ASSERT_EQ(shmframe_surface_set_present_mode(s, SHMFRAME_PRESENT_COPY), 0);
		for (uint32_t y = dmg.y; y < dmg.y + dmg.height; y++)
			for (uint32_t x = dmg.x; x < dmg.x + dmg.width; x++)
				img[y * w + x] = pattern(x, y, 50, 21);
		b = shmframe_acquire(s);
		ASSERT(b != NULL);
		px = shmframe_buffer_pixels(b, &stride);
		for (uint32_t y = 0; y < h; y++)
			memcpy(px + (size_t)y * stride, img + (size_t)y * w, w * 4);
		ASSERT_EQ(shmframe_present(s, b, &dmg, 1, NULL), 0);
		check_readback(s, img, modes[i].name);
		for (uint32_t f = 4; f < 8; f++) {
			free(img);
			img = present_pattern(s, f, 22);
			if (f == 5)
				ASSERT_EQ(shmframe_surface_set_present_mode(
					s, SHMFRAME_PRESENT_LATCH), 0);
		}
		check_readback(s, img, modes[i].name);
		ASSERT_EQ(shmframe_conn_error(c), 0);
		free(img);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(presented_events_name_the_frame)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		struct shmframe_surface *s =
			shmframe_surface_create(c, 8, 8, SHMFRAME_FORMAT_ARGB8888, NULL);
		struct shmframe_buffer *b;
		struct events ev = { 0 };
		uint32_t serial = 0;
		int waited = 0;

		ASSERT(s != NULL);
		shmframe_surface_set_listener(s, &listener, &ev);
		b = shmframe_acquire(s);
		ASSERT(b != NULL);
		ASSERT_EQ(shmframe_present(s, b, NULL, 0, &serial), 0);
		/* The caller's own event loop: flush, poll, dispatch. */
		while (ev.presented == 0 && waited < 5000) {
			struct pollfd p = { shmframe_get_fd(c), POLLIN, 0 };
			int r = shmframe_flush(c);

			ASSERT(r == 0 || r == -EAGAIN);
			if (poll(&p, 1, 50) > 0)
				ASSERT_GE(shmframe_dispatch(c), 0);
			waited += 50;
		}
		ASSERT_MSG(ev.presented > 0, "%s: no PRESENTED in 5 s", modes[i].name);
		ASSERT_EQ(ev.last_presented, serial);
		ASSERT_EQ(shmframe_dispatch(c), 0); /* nothing more pending */
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(several_surfaces_on_one_connection_keep_their_own_pixels)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		struct shmframe_surface *s[3];
		uint32_t *img[3];
		static const uint32_t dims[3][2] = { { 10, 10 }, { 7, 5 }, { 129, 3 } };

		for (int k = 0; k < 3; k++) {
			s[k] = shmframe_surface_create(c, dims[k][0], dims[k][1],
			                               SHMFRAME_FORMAT_ARGB8888, "multi");
			ASSERT(s[k] != NULL);
		}
		for (int k = 0; k < 3; k++)
			img[k] = present_pattern(s[k], 1, (uint32_t)k + 100);
		for (int k = 2; k >= 0; k--) {
			check_readback(s[k], img[k], modes[i].name);
			free(img[k]);
			shmframe_surface_destroy(s[k]);
		}
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(xrgb_surfaces_keep_every_byte)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		struct shmframe_surface *s =
			shmframe_surface_create(c, 13, 9, SHMFRAME_FORMAT_XRGB8888, NULL);
		uint32_t *img;

		ASSERT(s != NULL);
		img = present_pattern(s, 1, 42); /* the X bytes vary too */
		check_readback(s, img, modes[i].name);
		free(img);
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

TEST(surfaces_larger_than_the_protocol_allows_are_refused)
{
	struct server_proc srv;
	struct shmframe_conn *c;

	server_start(&srv);
	c = connect_mode(srv.addr, &modes[1], 0);
	ASSERT(shmframe_surface_create(c, 16385, 1, SHMFRAME_FORMAT_ARGB8888, NULL) == NULL);
	ASSERT(shmframe_surface_create(c, 0, 1, SHMFRAME_FORMAT_ARGB8888, NULL) == NULL);
	ASSERT(shmframe_surface_create(c, 1, 0, SHMFRAME_FORMAT_ARGB8888, NULL) == NULL);
	ASSERT(shmframe_surface_create(c, 4, 4, (enum shmframe_format)9, NULL) == NULL);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

TEST(a_discarded_buffer_can_be_acquired_again)
{
	struct server_proc srv;
	struct shmframe_conn *c;
	struct shmframe_surface *s;
	struct shmframe_buffer *b[2];

	server_start(&srv);
	c = connect_mode(srv.addr, &modes[1], 1);
	s = shmframe_surface_create(c, 4, 4, SHMFRAME_FORMAT_ARGB8888, NULL);
	ASSERT(s != NULL);
	b[0] = shmframe_acquire(s);
	ASSERT(b[0] != NULL);
	errno = 0;
	ASSERT(shmframe_try_acquire(s) == NULL);
	ASSERT_EQ(errno, EAGAIN);
	shmframe_buffer_discard(s, b[0]);
	b[1] = shmframe_try_acquire(s);
	ASSERT(b[1] == b[0]);
	shmframe_buffer_discard(s, b[1]);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

TEST(a_dead_server_is_an_error_not_a_signal)
{
	struct server_proc srv;

	server_start(&srv);
	/* Without MSG_NOSIGNAL a write would kill this test. */
	signal(SIGPIPE, SIG_DFL);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		struct shmframe_surface *s =
			shmframe_surface_create(c, 64, 64, SHMFRAME_FORMAT_ARGB8888, NULL);
		int err = 0;

		ASSERT(s != NULL);
		if (i == N_MODES - 1) {
			kill(srv.pid, SIGKILL);
			waitpid(srv.pid, NULL, 0);
			srv.pid = 0;
		} else {
			shmframe_surface_destroy(s);
			shmframe_disconnect(c);
			continue;
		}
		/* Keep presenting until the library notices. */
		for (int f = 0; f < 50 && err == 0; f++) {
			struct shmframe_buffer *b = shmframe_acquire(s);
			if (!b) {
				err = -1;
				break;
			}
			err = shmframe_present(s, b, NULL, 0, NULL);
			if (err == 0)
				err = shmframe_roundtrip(c);
		}
		ASSERT_LT(err, 0);
		ASSERT_LT(shmframe_conn_error(c), 0);
		ASSERT(shmframe_last_error(c)[0] != '\0');
		shmframe_surface_destroy(s);
		shmframe_disconnect(c);
	}
	server_proc_kill(); /* removes its directory */
	sf_test_atfail = NULL;
}

TEST(surfaces_made_and_destroyed_leave_nothing_open)
{
	struct server_proc srv;

	server_start(&srv);
	for (size_t i = 0; i < N_MODES; i++) {
		struct shmframe_conn *c = connect_mode(srv.addr, &modes[i], 0);
		int fds = sf_test_count_fds();

		for (int k = 0; k < 20; k++) {
			struct shmframe_surface *s = shmframe_surface_create(
				c, 50 + (uint32_t)k, 20, SHMFRAME_FORMAT_ARGB8888, NULL);
			uint32_t *img;

			ASSERT(s != NULL);
			img = present_pattern(s, (uint32_t)k, 1);
			free(img);
			shmframe_surface_destroy(s);
		}
		ASSERT_EQ(shmframe_roundtrip(c), 0);
		ASSERT_EQ(sf_test_count_fds(), fds);
		shmframe_disconnect(c);
	}
	server_proc_stop(&srv);
}

/* ---- errors ------------------------------------------------------------ */

TEST(strerror_names_every_code_from_a_table_of_its_own)
{
	/* Codes with a sentence of the library's own. */
	static const int own[] = { EPROTO, EPROTONOSUPPORT, ENOTSUP, EDQUOT,
	                           EDEADLK, ECONNRESET, ETIMEDOUT, EACCES, EPERM,
	                           EFBIG, E2BIG };
	/* Codes the library passes on from the system calls it makes. */
	static const int passed_on[] = { ENOENT, ECONNREFUSED, EPIPE, ENOMEM,
	                                 EINVAL, EMFILE, ENFILE, ENOSPC, EBADF,
	                                 EHOSTUNREACH, ENAMETOOLONG, ENOBUFS,
	                                 EBUSY, EAGAIN, EIO, ENOSYS };

	ASSERT_STREQ(shmframe_strerror(0), "no error");
	ASSERT_STREQ(shmframe_strerror(INT_MIN), "unknown error");
	ASSERT_STREQ(shmframe_strerror(-100000), "unknown error");
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
		ASSERT(strcmp(shmframe_strerror(-own[i]), strerror(own[i])) != 0);
		ASSERT_STREQ(shmframe_strerror(own[i]), shmframe_strerror(-own[i]));
	}
	for (size_t i = 0; i < sizeof passed_on / sizeof passed_on[0]; i++) {
		const char *t = shmframe_strerror(-passed_on[i]);

		ASSERT(strcmp(t, "unknown error") != 0);
		ASSERT_STREQ(shmframe_strerror(passed_on[i]), t);
#ifdef __GLIBC__
		/* The texts are glibc's, written down. */
		ASSERT_STREQ(t, strerror(passed_on[i]));
#endif
	}
#ifdef __GLIBC__
	for (int e = 1; e < 4096; e++) {
		const char *t = shmframe_strerror(-e);
		bool mine = false;

		for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
			mine |= own[i] == e;
		if (!mine && strcmp(t, "unknown error") != 0)
			ASSERT_MSG(strcmp(t, strerror(e)) == 0, "%d: \"%s\", not \"%s\"",
			           e, t, strerror(e));
	}
#endif
}

/* ---- structs that grow ------------------------------------------------ */

/* What a program built against 1.0 allocates: the options up to their
 * last 1.0 member, the three 1.0 callbacks. */
#define OPTIONS_1_0 (offsetof(struct shmframe_options, log_data) + sizeof(void *))
#define LISTENER_1_0 (3 * sizeof(void (*)(void)))
/* A struct of a newer header: the same, then members this library has
 * never heard of. */
union newer_options {
	struct shmframe_options o;
	unsigned char bytes[sizeof(struct shmframe_options) + 64];
	max_align_t align;
};

TEST(options_init_sized_writes_exactly_the_size_it_is_given)
{
	union newer_options u;
	size_t size = sizeof u.o + 32, cut = offsetof(struct shmframe_options, name) + 4;

	unsetenv("SHMFRAME_TRANSPORT");
	/* Larger than this library's struct: defaults, zeros, then nothing. */
	memset(&u, 0xa5, sizeof u);
	shmframe_options_init_sized(&u.o, size);
	ASSERT_EQ(u.o.transport, SHMFRAME_TRANSPORT_AUTO);
	ASSERT_EQ(u.o.buffers, 3);
	ASSERT(u.o.name == NULL && u.o.log == NULL && u.o.log_data == NULL);
	for (size_t i = sizeof u.o; i < sizeof u.bytes; i++)
		ASSERT_EQ(u.bytes[i], (i < size ? 0 : 0xa5));
	/* Smaller, ending inside name: what fits, and zero up to the size. */
	memset(&u, 0xa5, sizeof u);
	shmframe_options_init_sized(&u.o, cut);
	ASSERT_EQ(u.o.transport, SHMFRAME_TRANSPORT_AUTO);
	ASSERT_EQ(u.o.shm, SHMFRAME_SHM_ANY);
	for (size_t i = offsetof(struct shmframe_options, name); i < sizeof u.bytes; i++)
		ASSERT_EQ(u.bytes[i], (i < cut ? 0 : 0xa5));
	/* The 1.0 function writes the 1.0 struct and not a byte more. */
	memset(&u, 0xa5, sizeof u);
	(shmframe_options_init)(&u.o);
	ASSERT_EQ(u.o.buffers, 3);
	ASSERT(u.o.log_data == NULL);
	for (size_t i = OPTIONS_1_0; i < sizeof u.bytes; i++)
		ASSERT_EQ(u.bytes[i], 0xa5);
	shmframe_options_init_sized(NULL, sizeof u.o);
}

TEST(a_newer_programs_options_work_unless_they_ask_for_the_unknown)
{
	struct server_proc srv;
	union newer_options u;
	struct shmframe_conn *c;

	server_start(&srv);
	shmframe_options_init_sized(&u.o, sizeof u.bytes);
	u.o.transport = SHMFRAME_TRANSPORT_SOCKET;
	u.o.name = "newer";
	c = shmframe_connect_sized(srv.addr, &u.o, sizeof u.bytes);
	ASSERT_MSG(shmframe_conn_error(c) == 0, "%s", shmframe_last_error(c));
	ASSERT_STREQ(shmframe_transport_name(c), "socket");
	shmframe_disconnect(c);
	/* A member past this library's struct is set: refused, not ignored. */
	u.bytes[sizeof u.o + 5] = 1;
	c = shmframe_connect_sized(srv.addr, &u.o, sizeof u.bytes);
	ASSERT_EQ(shmframe_conn_error(c), -E2BIG);
	ASSERT_MSG(strstr(shmframe_last_error(c), "newer shmframe.h") != NULL,
	           "%s", shmframe_last_error(c));
	ASSERT_EQ(shmframe_roundtrip(c), -E2BIG);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

/* Connects with opts of size bytes at the end of a guard page and checks
 * the pool has the default three buffers. */
static void connect_guarded(const char *addr, size_t size, bool call_1_0)
{
	struct shmframe_options *o = guard_page_alloc(size);
	struct shmframe_buffer *b[3];
	struct shmframe_surface *s;
	struct shmframe_conn *c;

	ASSERT(o != NULL);
	o->transport = SHMFRAME_TRANSPORT_SOCKET;
	o->shm = SHMFRAME_SHM_ANY;
	o->name = "older";
	if (size > offsetof(struct shmframe_options, buffers)) {
		o->buffers = 3;
		o->auth_file = NULL;
		o->log = NULL;
		o->log_data = NULL;
	}
	c = call_1_0 ? (shmframe_connect)(addr, o) : shmframe_connect_sized(addr, o, size);
	ASSERT_MSG(shmframe_conn_error(c) == 0, "%s", shmframe_last_error(c));
	ASSERT_STREQ(shmframe_transport_name(c), "socket");
	s = shmframe_surface_create(c, 8, 8, SHMFRAME_FORMAT_ARGB8888, NULL);
	ASSERT(s != NULL);
	for (int i = 0; i < 3; i++)
		ASSERT((b[i] = shmframe_try_acquire(s)) != NULL);
	ASSERT(shmframe_try_acquire(s) == NULL);
	for (int i = 0; i < 3; i++)
		shmframe_buffer_discard(s, b[i]);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	guard_page_free(o, size);
}

TEST(an_older_programs_options_end_where_it_says)
{
	struct server_proc srv;

	server_start(&srv);
	/* Up to name: buffers, the cookie file and the log are absent (a read
	 * of them would fault), so they take their defaults. */
	connect_guarded(srv.addr, offsetof(struct shmframe_options, buffers),
	                false);
	connect_guarded(srv.addr, OPTIONS_1_0, false);
	connect_guarded(srv.addr, OPTIONS_1_0, true);
	server_proc_stop(&srv);
}

static int future_calls;

static void on_future(void)
{
	future_calls++;
}

/* Presents four frames and waits until the last is shown. */
static void present_frames(struct shmframe_conn *c, struct shmframe_surface *s,
                           struct events *ev)
{
	uint32_t serial = 0;

	for (int f = 0; f < 4; f++) {
		struct shmframe_buffer *b = shmframe_acquire(s);

		ASSERT(b != NULL);
		ASSERT_EQ(shmframe_present(s, b, NULL, 0, &serial), 0);
	}
	while (ev->last_presented != serial)
		ASSERT_EQ(shmframe_roundtrip(c), 0);
}

TEST(a_listener_is_read_only_as_far_as_its_size)
{
	struct {
		struct shmframe_surface_listener l;
		void (*future)(void);
	} newer = { listener, on_future };
	size_t only_presented = offsetof(struct shmframe_surface_listener, released);
	struct server_proc srv;
	struct shmframe_conn *c;
	struct shmframe_surface *s;
	struct shmframe_surface_listener *l;
	struct events ev = { 0 };

	server_start(&srv);
	c = connect_mode(srv.addr, &modes[1], 2);
	s = shmframe_surface_create(c, 8, 8, SHMFRAME_FORMAT_ARGB8888, NULL);
	ASSERT(s != NULL);
	/* An older, shorter listener: presented only; reading released
	 * would fault. */
	l = guard_page_alloc(only_presented);
	ASSERT(l != NULL);
	l->presented = on_presented;
	shmframe_surface_set_listener_sized(s, l, only_presented, &ev);
	present_frames(c, s, &ev);
	ASSERT_GT(ev.presented, 0);
	ASSERT_EQ(ev.released, 0);
	guard_page_free(l, only_presented);
	/* The 1.0 function: the three 1.0 callbacks, no more. */
	l = guard_page_alloc(LISTENER_1_0);
	ASSERT(l != NULL);
	l->presented = on_presented;
	l->released = on_released;
	l->closed = NULL;
	memset(&ev, 0, sizeof ev);
	(shmframe_surface_set_listener)(s, l, &ev);
	present_frames(c, s, &ev);
	ASSERT_GT(ev.presented, 0);
	ASSERT_GT(ev.released, 0);
	shmframe_surface_set_listener(s, NULL, NULL);
	guard_page_free(l, LISTENER_1_0);
	/* A newer, longer one: what this library knows is called, the rest
	 * never. */
	memset(&ev, 0, sizeof ev);
	shmframe_surface_set_listener_sized(s, &newer.l, sizeof newer, &ev);
	present_frames(c, s, &ev);
	ASSERT_GT(ev.presented, 0);
	ASSERT_GT(ev.released, 0);
	ASSERT_EQ(future_calls, 0);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

/* ---- socket pacing (1.4) ----------------------------------------------- */

/* Every serial's presented callbacks, in order. */
struct serial_log {
	uint32_t serial[64];
	int discarded[64];
	unsigned n;
};

static void log_presented(void *data, struct shmframe_surface *s,
                          uint32_t serial, uint64_t time_ns, int discarded)
{
	struct serial_log *l = data;

	(void)s;
	(void)time_ns;
	if (l->n < 64) {
		l->serial[l->n] = serial;
		l->discarded[l->n] = discarded;
	}
	l->n++;
}

static const struct shmframe_surface_listener serial_listener = {
	.presented = log_presented,
};

/* Presents the full pattern of frame with try_acquire, which reads no
 * events: PRESENTED waits, so the window fills and frames are held. */
static void present_unread(struct shmframe_surface *s, uint32_t frame,
                           const struct shmframe_rect *dmg, unsigned n,
                           uint32_t *serial)
{
	uint32_t w = shmframe_surface_width(s), h = shmframe_surface_height(s);
	struct shmframe_buffer *b = shmframe_try_acquire(s);
	uint32_t stride;
	void *px;

	ASSERT_MSG(b != NULL, "try_acquire: %s", strerror(errno));
	px = shmframe_buffer_pixels(b, &stride);
	fill(px, stride, w, h, frame, 77);
	ASSERT_EQ(shmframe_present(s, b, dmg, n, serial), 0);
}

/* The serials 1..n each reported once, in order, and which discarded. */
static void expect_serials(const struct serial_log *l, unsigned n,
                           uint32_t first, const int *discarded)
{
	ASSERT_EQ(l->n, n);
	for (unsigned i = 0; i < n; i++) {
		ASSERT_MSG(l->serial[i] == first + i, "callback %u is serial %u, "
		           "not %u", i, l->serial[i], first + i);
		ASSERT_MSG(l->discarded[i] == discarded[i], "serial %u discarded=%d",
		           l->serial[i], l->discarded[i]);
	}
}

TEST(a_frame_presented_while_two_are_on_the_link_is_held_and_merged)
{
	const uint32_t w = 48, h = 30;
	struct serial_log log = { 0 };
	struct shmframe_stats st;
	struct server_proc srv;
	struct shmframe_conn *c;
	struct shmframe_surface *s;
	uint32_t serial[5], *expect = malloc((size_t)w * h * 4);
	const int disc[] = { 0, 0, 1, 1, 0 };

	server_start(&srv);
	c = connect_mode(srv.addr, &modes[0], 0);
	s = shmframe_surface_create(c, w, h, SHMFRAME_FORMAT_ARGB8888, NULL);
	ASSERT(s != NULL);
	shmframe_surface_set_listener(s, &serial_listener, &log);
	for (uint32_t f = 0; f < 5; f++)
		present_unread(s, f + 1, NULL, 0, &serial[f]);
	/* 1 and 2 went, 3 was held, 4 and 5 replaced it in turn. */
	ASSERT_EQ(shmframe_get_stats(c, &st), 0);
	ASSERT_EQ(st.presents, 5);
	ASSERT_EQ(st.frames_sent, 2);
	ASSERT_EQ(log.n, 0);
	ASSERT_EQ(shmframe_roundtrip(c), 0);
	ASSERT_EQ(shmframe_get_stats(c, &st), 0);
	ASSERT_EQ(st.frames_sent, 3);
	ASSERT_EQ(st.frames_merged, 2);
	expect_serials(&log, 5, serial[0], disc);
	fill(expect, w * 4, w, h, 5, 77);
	check_readback(s, expect, "the latest frame, held then sent");
	free(expect);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

/* A resize sends the held frame first; the frames it replaced are still
 * reported, before its own PRESENTED. */
TEST(a_resize_with_a_frame_held_loses_no_serial)
{
	struct serial_log log = { 0 };
	struct server_proc srv;
	struct shmframe_conn *c;
	struct shmframe_surface *s;
	uint32_t first;
	const int disc[] = { 0, 0, 1, 0 };

	server_start(&srv);
	c = connect_mode(srv.addr, &modes[0], 0);
	s = shmframe_surface_create(c, 40, 30, SHMFRAME_FORMAT_ARGB8888, NULL);
	ASSERT(s != NULL);
	shmframe_surface_set_listener(s, &serial_listener, &log);
	present_unread(s, 1, NULL, 0, &first);
	for (uint32_t f = 2; f <= 4; f++)
		present_unread(s, f, NULL, 0, NULL);
	ASSERT_EQ(shmframe_surface_resize(s, 64, 20, 0), 0);
	ASSERT_EQ(shmframe_roundtrip(c), 0);
	expect_serials(&log, 4, first, disc);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}

/* Held damage past what one message holds becomes its bounding box, sent
 * whole from the latest image (which, as for every box, must be right
 * there): no pixel of the box comes from anywhere else. */
TEST(held_damage_past_one_message_is_sent_as_the_latest_images_box)
{
	const uint32_t w = 64, h = 64;
	static struct shmframe_rect many[200];
	struct server_proc srv;
	struct shmframe_conn *c;
	struct shmframe_surface *s;
	uint32_t *expect = malloc((size_t)w * h * 4);

	for (unsigned i = 0; i < 200; i++)
		many[i] = (struct shmframe_rect){ (i % 20) * 3, (i / 20) * 6, 1, 1 };
	server_start(&srv);
	c = connect_mode(srv.addr, &modes[0], 0);
	s = shmframe_surface_create(c, w, h, SHMFRAME_FORMAT_ARGB8888, NULL);
	ASSERT(s != NULL);
	present_unread(s, 1, NULL, 0, NULL);
	present_unread(s, 2, NULL, 0, NULL);
	present_unread(s, 3, many, 200, NULL);      /* held */
	present_unread(s, 4, many + 100, 100, NULL); /* 300 rects: a box */
	ASSERT_EQ(shmframe_roundtrip(c), 0);
	/* Frame 2 everywhere, frame 4 in the box of the damage. */
	fill(expect, w * 4, w, h, 2, 77);
	for (uint32_t y = 0; y <= 9 * 6; y++)
		for (uint32_t x = 0; x <= 19 * 3; x++)
			expect[y * w + x] = pattern(x, y, 4, 77);
	check_readback(s, expect, "a held box");
	free(expect);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
	server_proc_stop(&srv);
}
