/*
 * Signalling through the control segment's rings (protocol 2.1), from the
 * library's side, against a real shmframe-server: frames over the rings
 * pixel-exact for every kind of shared memory; socket signalling when told
 * so (SHMFRAME_SIGNAL, the option), when the server does without
 * (--signal socket), when pixels travel on the socket, and when the
 * server's limits leave no room for the control segment, frames still
 * over shm; a forced ring that cannot be had fails with ENOTSUP and says
 * why; and a program that polls the library's fd itself still gets every
 * RELEASE and PRESENTED.
 *
 * SF_TEST_SERVER names the server binary (CTest sets it).
 */
#include <poll.h>

#include "harness.h"
#include "server-proc.h"
#include "shmframe.h"

#define W 97
#define H 61

static struct server_proc srv;

static void start(const char *const *extra)
{
	unsetenv("SHMFRAME_SIGNAL");
	unsetenv("SHMFRAME_SPIN_US");
	server_proc_start(&srv, "signal", false, extra);
}

static void stop(void)
{
	server_proc_stop(&srv);
}

struct mode {
	const char *name;
	enum shmframe_transport transport;
	enum shmframe_shm_kind shm;
	const char *transport_name;
};

static const struct mode shm_modes[] = {
	{ "memfd", SHMFRAME_TRANSPORT_SHM, SHMFRAME_SHM_MEMFD, "shm/memfd" },
	{ "posix", SHMFRAME_TRANSPORT_SHM, SHMFRAME_SHM_POSIX, "shm/posix" },
	{ "sysv", SHMFRAME_TRANSPORT_SHM, SHMFRAME_SHM_SYSV, "shm/sysv" },
};
static const struct mode socket_mode = {
	"socket", SHMFRAME_TRANSPORT_SOCKET, SHMFRAME_SHM_ANY, "socket",
};

/* A connection on this transport with this signalling asked for (AUTO:
 * the options' default, which $SHMFRAME_SIGNAL sets), failed or not. */
static struct shmframe_conn *connect_mode(const struct mode *m,
                                          enum shmframe_signal signal)
{
	struct shmframe_options o;
	struct shmframe_conn *c;

	shmframe_options_init(&o);
	o.name = "test-signal";
	o.transport = m->transport;
	o.shm = m->shm;
	if (signal != SHMFRAME_SIGNAL_AUTO)
		o.signal = signal;
	c = shmframe_connect(srv.addr, &o);
	ASSERT(c != NULL);
	return c;
}

/* ... that must work. */
static struct shmframe_conn *connect_with(const struct mode *m,
                                          enum shmframe_signal signal)
{
	struct shmframe_conn *c = connect_mode(m, signal);

	ASSERT_MSG(shmframe_conn_error(c) == 0, "%s: connect: %s (%s)", m->name,
	           shmframe_strerror(shmframe_conn_error(c)),
	           shmframe_last_error(c));
	ASSERT_STREQ(shmframe_transport_name(c), m->transport_name);
	return c;
}

/* The signalling in use must be want; its reason is printed. */
static void expect_signal(struct shmframe_conn *c, enum shmframe_signal want,
                          const char *what)
{
	enum shmframe_signal got = shmframe_signal(c);
	const char *reason = shmframe_signal_reason(c);

	printf("#   %-28s %s: %s\n", what,
	       got == SHMFRAME_SIGNAL_RING ? "ring" :
	       got == SHMFRAME_SIGNAL_SOCKET ? "socket" : "?", reason);
	fflush(stdout);
	ASSERT_MSG(got == want, "%s: signalling %d, %d expected (%s)", what,
	           (int)got, (int)want, reason);
	ASSERT(reason != NULL && reason[0] != '\0');
}

static uint32_t pattern(uint32_t x, uint32_t y, uint32_t frame)
{
	uint32_t v = x * 0x9e3779b1u ^ y * 0x85ebca77u ^ frame * 0xc2b2ae3du;

	v ^= v >> 15;
	v *= 0x2c1b3c6du;
	return v ^ (v >> 12);
}

/* Whether x, y lies in one of the n rectangles. */
static bool in_damage(const struct shmframe_rect *d, unsigned n, uint32_t x,
                      uint32_t y)
{
	for (unsigned i = 0; i < n; i++)
		if (x >= d[i].x && x < d[i].x + d[i].width &&
		    y >= d[i].y && y < d[i].y + d[i].height)
			return true;
	return false;
}

/*
 * frames frames on a w x h surface (at most W x H), each drawn whole into
 * its buffer with damage that varies (the whole surface, one rectangle,
 * three), latch and copy in turn; after every fifth, and after the last,
 * the surface is read back and compared pixel for pixel with what the
 * damage rules give: over shm a latched buffer is the whole image, a
 * copied one its damage over what was there; over the socket only the
 * damage travels.
 */
static void frames_exact(struct shmframe_conn *c, uint32_t w, uint32_t h,
                         unsigned frames, const char *what)
{
	static uint32_t model[W * H], got[W * H];
	bool shm = shmframe_transport(c) == SHMFRAME_TRANSPORT_SHM;
	struct shmframe_surface *s;

	ASSERT(w <= W && h <= H && w >= 2 && h >= 2);
	s = shmframe_surface_create(c, w, h, SHMFRAME_FORMAT_ARGB8888, what);
	ASSERT_MSG(s != NULL, "%s: surface: %s", what, shmframe_last_error(c));
	memset(model, 0, sizeof model);
	for (uint32_t f = 1; f <= frames; f++) {
		struct shmframe_rect d[3] = {
			{ f % (w / 2), f % (h / 2), w / 2, h / 3 },
			{ w / 2, h / 2, w - w / 2, h - h / 2 }, { 0, 0, 1, 1 },
		};
		unsigned n = f % 3 == 0 ? 0 : f % 3 == 1 ? 1 : 3;
		bool copy = f % 4 >= 2;
		struct shmframe_buffer *b;
		uint32_t stride;
		uint8_t *px;
		int err;

		ASSERT_EQ(shmframe_surface_set_present_mode(s, copy ?
		          SHMFRAME_PRESENT_COPY : SHMFRAME_PRESENT_LATCH), 0);
		b = shmframe_acquire(s);
		ASSERT_MSG(b != NULL, "%s: frame %u: acquire: %s", what, f,
		           shmframe_last_error(c));
		px = shmframe_buffer_pixels(b, &stride);
		for (uint32_t y = 0; y < h; y++)
			for (uint32_t x = 0; x < w; x++) {
				uint32_t v = pattern(x, y, f);

				memcpy(px + (size_t)y * stride + x * 4, &v, 4);
				if (n == 0 || (shm && !copy) || in_damage(d, n, x, y))
					model[y * w + x] = v;
			}
		err = shmframe_present(s, b, n ? d : NULL, n, NULL);
		ASSERT_MSG(err == 0, "%s: frame %u: present: %s", what, f,
		           shmframe_last_error(c));
		if (f % 5 == 0 || f == frames) {
			memset(got, 0, sizeof got);
			err = shmframe_readback(s, 0, 0, w, h, got, w * 4);
			ASSERT_MSG(err == 0, "%s: frame %u: readback: %s (%s)", what,
			           f, shmframe_strerror(err), shmframe_last_error(c));
			for (uint32_t i = 0; i < w * h; i++)
				ASSERT_MSG(got[i] == model[i], "%s: frame %u (%s, %u "
				           "rectangles): pixel %u,%u is %08x, %08x "
				           "expected", what, f, copy ? "copy" : "latch",
				           n, i % w, i / w, got[i], model[i]);
		}
	}
	shmframe_surface_destroy(s);
}

TEST(frames_over_the_rings_are_pixel_exact_for_every_kind)
{
	start(NULL);
	for (size_t k = 0; k < 3; k++)
		for (int forced = 0; forced < 2; forced++) {
			struct shmframe_conn *c = connect_with(&shm_modes[k],
			        forced ? SHMFRAME_SIGNAL_RING : SHMFRAME_SIGNAL_AUTO);
			char what[64];

			snprintf(what, sizeof what, "%s, %s", shm_modes[k].name,
			         forced ? "ring forced" : "default");
			expect_signal(c, SHMFRAME_SIGNAL_RING, what);
			frames_exact(c, W, H, 60, what);
			shmframe_disconnect(c);
		}
	stop();
}

/* SHMFRAME_SIGNAL=socket, or the option: every request and event on the
 * socket, frames still over shm. */
TEST(socket_signalling_when_told_so)
{
	start(NULL);
	for (size_t k = 0; k < 3; k++) {
		struct shmframe_conn *c;

		setenv("SHMFRAME_SIGNAL", "socket", 1);
		c = connect_with(&shm_modes[k], SHMFRAME_SIGNAL_AUTO);
		unsetenv("SHMFRAME_SIGNAL");
		expect_signal(c, SHMFRAME_SIGNAL_SOCKET, "SHMFRAME_SIGNAL=socket");
		frames_exact(c, W, H, 20, "SHMFRAME_SIGNAL=socket");
		shmframe_disconnect(c);

		c = connect_with(&shm_modes[k], SHMFRAME_SIGNAL_SOCKET);
		expect_signal(c, SHMFRAME_SIGNAL_SOCKET, "option socket");
		frames_exact(c, W, H, 20, "option socket");
		shmframe_disconnect(c);
	}
	/* And SHMFRAME_SIGNAL=ring is the rings. */
	setenv("SHMFRAME_SIGNAL", "ring", 1);
	{
		struct shmframe_conn *c = connect_with(&shm_modes[0],
		                                       SHMFRAME_SIGNAL_AUTO);

		unsetenv("SHMFRAME_SIGNAL");
		expect_signal(c, SHMFRAME_SIGNAL_RING, "SHMFRAME_SIGNAL=ring");
		frames_exact(c, W, H, 10, "SHMFRAME_SIGNAL=ring");
		shmframe_disconnect(c);
	}
	stop();
}

/* A connection that must fail with want, saying why in words that
 * contain says. */
static void expect_connect_error(const struct mode *m, enum shmframe_signal signal,
                                 int want, const char *says, const char *what)
{
	struct shmframe_conn *c = connect_mode(m, signal);
	int err = shmframe_conn_error(c);

	printf("#   %-28s %s\n", what, shmframe_last_error(c));
	fflush(stdout);
	ASSERT_MSG(err == want, "%s: %s, %s expected", what, shmframe_strerror(err),
	           shmframe_strerror(want));
	ASSERT_CONTAINS(shmframe_last_error(c), says);
	shmframe_disconnect(c);
}

/*
 * A server started with --signal socket offers no rings: the default ends
 * on socket signalling with the reason, frames over shm; a forced ring
 * fails with ENOTSUP.  Pixels on the socket have no rings either.
 */
TEST(no_rings_from_a_socket_server_or_over_the_socket)
{
	const char *const args[] = { "--signal", "socket", NULL };
	struct shmframe_conn *c;

	start(args);
	for (size_t k = 0; k < 3; k++) {
		c = connect_with(&shm_modes[k], SHMFRAME_SIGNAL_AUTO);
		expect_signal(c, SHMFRAME_SIGNAL_SOCKET, "server --signal socket");
		frames_exact(c, W, H, 20, "server --signal socket");
		shmframe_disconnect(c);
		expect_connect_error(&shm_modes[k], SHMFRAME_SIGNAL_RING, -ENOTSUP,
		                     "ring", "ring forced, server socket");
		/* Forced from the environment alike. */
		setenv("SHMFRAME_SIGNAL", "ring", 1);
		expect_connect_error(&shm_modes[k], SHMFRAME_SIGNAL_AUTO, -ENOTSUP,
		                     "ring", "SHMFRAME_SIGNAL=ring, server socket");
		unsetenv("SHMFRAME_SIGNAL");
	}
	stop();

	start(NULL);
	c = connect_with(&socket_mode, SHMFRAME_SIGNAL_AUTO);
	expect_signal(c, SHMFRAME_SIGNAL_SOCKET, "socket transport");
	frames_exact(c, W, H, 20, "socket transport");
	shmframe_disconnect(c);
	expect_connect_error(&socket_mode, SHMFRAME_SIGNAL_RING, -ENOTSUP,
	                     "ring", "ring forced, socket transport");
	stop();
}

/*
 * Limits that leave no room for the control segment, with room for what a
 * 16x16 surface needs (its pool of three page-sized buffers, 12 KiB, and a
 * readback segment of 1 KiB): the control segment is not had, the
 * connection ends on socket signalling saying why, frames still go over
 * shm and come back exact, and a forced ring fails with ENOTSUP.  Limits
 * WELCOME announces (segments, bytes mapped, a segment's size) and one it
 * does not (bytes mapped for all clients: the server's refusal is the
 * reason).  Two segments per client are what a surface and a readback
 * take, which the default keeps for them (rings asked for take one).
 */
TEST(no_room_for_the_control_segment_falls_back_to_socket_signalling)
{
	static const char *const segs[] = { "--max-segments", "2", NULL };
	static const char *const mapped[] = { "--max-mapped", "14K", NULL };
	static const char *const size[] = { "--max-segment-size", "12K", NULL };
	static const char *const total[] = { "--max-mapped-total", "14K", NULL };
	static const char *const *const limits[] = { segs, mapped, size, total };

	for (size_t l = 0; l < 4; l++) {
		start(limits[l]);
		for (size_t k = 0; k < 3; k++) {
			struct shmframe_conn *c = connect_with(&shm_modes[k],
			                                       SHMFRAME_SIGNAL_AUTO);
			char what[64];

			snprintf(what, sizeof what, "%s %s, %s", limits[l][0],
			         limits[l][1], shm_modes[k].name);
			frames_exact(c, 16, 16, 20, what);
			expect_signal(c, SHMFRAME_SIGNAL_SOCKET, what);
			/* The server's own words when it refused. */
			if (limits[l] == total)
				ASSERT_CONTAINS(shmframe_signal_reason(c),
				                "--max-mapped-total");
			shmframe_disconnect(c);
			/* Two segments: a control segment would fit, and
			 * auto keeps them for the surface; asked for, the
			 * rings are had.  The others: no room at all. */
			if (limits[l] == segs) {
				c = connect_with(&shm_modes[k], SHMFRAME_SIGNAL_RING);
				expect_signal(c, SHMFRAME_SIGNAL_RING, what);
				shmframe_disconnect(c);
			} else {
				expect_connect_error(&shm_modes[k],
				                     SHMFRAME_SIGNAL_RING, -ENOTSUP,
				                     "ring", what);
			}
		}
		stop();
	}
}

/* ---- a program with its own poll() loop ------------------------------- */

struct counts {
	unsigned presented, released;
	uint32_t last_presented;
};

static void on_presented(void *data, struct shmframe_surface *s,
                         uint32_t serial, uint64_t time_ns, int discarded)
{
	struct counts *n = data;

	(void)s, (void)time_ns, (void)discarded;
	ASSERT_GT(serial, n->last_presented);
	n->last_presented = serial;
	n->presented++;
}

static void on_released(void *data, struct shmframe_surface *s, uint32_t serial)
{
	struct counts *n = data;

	(void)s, (void)serial;
	n->released++;
}

/*
 * The program takes the fd, polls it itself and dispatches; it presents
 * only into buffers it got without waiting (try_acquire), so it is its
 * poll() that must see every event, of frames presented at random
 * moments: a NOTIFY the server leaves out hangs poll (3 s fails the test).
 * Every frame must be PRESENTED, every latched buffer but the last
 * RELEASED.
 */
static void own_poll_loop(const struct mode *m, const char *what)
{
	static const struct shmframe_surface_listener listener = {
		.presented = on_presented, .released = on_released,
	};
	enum { FRAMES = 400 };
	struct shmframe_conn *c = connect_with(m, SHMFRAME_SIGNAL_AUTO);
	struct counts n = { 0 };
	struct shmframe_surface *s;
	unsigned presented = 0;
	uint32_t seed = 5;

	expect_signal(c, SHMFRAME_SIGNAL_RING, what);
	s = shmframe_surface_create(c, W, H, SHMFRAME_FORMAT_ARGB8888, "poll");
	ASSERT(s != NULL);
	shmframe_surface_set_listener(s, &listener, &n);
	while (n.presented < FRAMES) {
		struct pollfd pfd = { .fd = shmframe_get_fd(c), .events = POLLIN };
		struct shmframe_buffer *b;
		int st;

		seed = seed * 1103515245u + 12345u;
		while (presented < FRAMES &&
		       presented - n.presented < 1 + (seed >> 16) % 3 &&
		       (b = shmframe_try_acquire(s)) != NULL) {
			uint32_t stride;
			uint32_t *px = shmframe_buffer_pixels(b, &stride);

			px[0] = ++presented;
			ASSERT_EQ(shmframe_present(s, b, NULL, 0, NULL), 0);
		}
		ASSERT(shmframe_flush(c) == 0);
		if ((seed >> 8) % 4 == 0)
			usleep((seed >> 4) % 500);
		st = poll(&pfd, 1, 3000);
		ASSERT_MSG(st == 1, "%s: poll: nothing for 3 s with %u of %u "
		           "frames presented (%u PRESENTED, %u RELEASED)", what,
		           presented, FRAMES, n.presented, n.released);
		ASSERT_GE(shmframe_dispatch(c), 0);
	}
	printf("#   %s: %u PRESENTED, %u RELEASED\n", what, n.presented,
	       n.released);
	fflush(stdout);
	ASSERT_EQ(n.presented, FRAMES);
	ASSERT_GE(n.released, FRAMES - 1);
	shmframe_surface_destroy(s);
	shmframe_disconnect(c);
}

TEST(a_program_polling_the_fd_gets_every_event)
{
	start(NULL);
	for (size_t k = 0; k < 3; k++)
		own_poll_loop(&shm_modes[k], shm_modes[k].name);
	stop();
}

/*
 * Both sides spinning before they sleep (--spin-us, SHMFRAME_SPIN_US):
 * the same frames, pixel-exact, and the same events to a program's own
 * poll loop; only the time changes.
 */
TEST(spinning_sides_lose_nothing)
{
	static const char *const args[] = { "--spin-us", "300", NULL };

	start(args);
	setenv("SHMFRAME_SPIN_US", "300", 1);
	for (size_t k = 0; k < 3; k++) {
		struct shmframe_conn *c = connect_with(&shm_modes[k],
		                                       SHMFRAME_SIGNAL_AUTO);
		char what[64];

		snprintf(what, sizeof what, "%s, spinning", shm_modes[k].name);
		expect_signal(c, SHMFRAME_SIGNAL_RING, what);
		frames_exact(c, W, H, 40, what);
		shmframe_disconnect(c);
		own_poll_loop(&shm_modes[k], what);
	}
	unsetenv("SHMFRAME_SPIN_US");
	stop();
}
