/*
 * The rings of protocol 2.1 under attack, against a real shmframe-server:
 * a client that speaks them by hand and does with its control segment
 * what the threat model says it may (any byte, any time; lying numbers;
 * a sleeping word it never clears; events it never reads), and the costs
 * that one client may make the server pay for the others: CPU while
 * nothing happens, with and without --spin-us, and a loop that never
 * blocks.
 *
 * CPU is the server's own utime + stime from /proc/PID/stat over a
 * window in which no client asks for anything: a server that blocks in
 * epoll_wait spends next to none of it.
 */
#include <sys/un.h>

#include "hostile.h"
#include "ring.h"

/* ---- a client of the rings ------------------------------------------------ */

/* Numbers as PROTOCOL.md's "Numbering and order": HELLO is request 1,
 * WELCOME event 1, and each later message in either direction the next,
 * on the socket or on a ring. */
struct rp {
	struct sf_peer *r;
	struct hseg ctl;
	struct sf_ring req, ev;
	uint32_t req_next, ev_next;
};

/* Connected, HELLO'd and its control segment of this kind attached. */
static void rp_open(struct rp *c, int kind)
{
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_probe_result pr;
	char text[SF_MAX_TEXT + 1];

	memset(c, 0, sizeof *c);
	c->r = raw_ready();
	hseg_make(&c->ctl, kind, SF_CONTROL_SIZE);
	ASSERT_EQ(send_segment(c->r, SF_ATTACH_CONTROL, &c->ctl, 0,
	                       SF_SEGMENT_WRITABLE), 0);
	expect_event(c->r, SF_PROBE_RESULT, msg);
	ASSERT_EQ(sf__decode_probe_result(msg, ((struct sf_header *)msg)->length,
	                                  &pr, text, NULL), 0);
	ASSERT_MSG(pr.status == SF_PROBE_OK, "control segment refused: %s", text);
	/* The server removes a proved POSIX name itself. */
	if (kind == SF_SHM_POSIX)
		c->ctl.seg.name[0] = '\0';
	sf__ring_init(&c->req, c->ctl.seg.map, SF_RING_REQUESTS);
	sf__ring_init(&c->ev, c->ctl.seg.map, SF_RING_EVENTS);
	c->req_next = 3;
	c->ev_next = 3;
}

static void rp_close(struct rp *c)
{
	if (c->r)
		raw_close(c->r);
	c->r = NULL;
	hseg_free(&c->ctl);
}

/* A word of the control segment. */
SF_TEST_UNUSED
static uint32_t *rp_word(struct rp *c, uint32_t off)
{
	return (uint32_t *)((uint8_t *)c->ctl.seg.map + off);
}

/* A request on the socket; its number. */
SF_TEST_UNUSED
static uint32_t rp_send(struct rp *c, uint16_t type, void *fixed, size_t size)
{
	send_msg(c->r, type, fixed, size, NULL, 0);
	return c->req_next++;
}

/* ---- the server's CPU ----------------------------------------------------- */

/* utime + stime of the server, in clock ticks. */
static unsigned long server_ticks(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)srv.pid);
	f = fopen(path, "re");
	ASSERT(f != NULL);
	ASSERT(fgets(buf, sizeof buf, f) != NULL);
	fclose(f);
	/* The command may hold spaces: fields count from its ')'. */
	p = strrchr(buf, ')');
	ASSERT(p != NULL);
	ASSERT_EQ(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	                 "%lu %lu", &ut, &st), 2);
	return ut + st;
}

/* What the server spends in ms of CPU over a window of ms of quiet. */
static long server_cpu_ms(unsigned ms)
{
	long hz = sysconf(_SC_CLK_TCK);
	unsigned long t0 = server_ticks();

	usleep(ms * 1000u);
	return (long)(server_ticks() - t0) * 1000 / hz;
}

/* Idle means a few ms over two seconds: a loop that never blocks is
 * close to two thousand. */
#define QUIET_MS 2000u
#define IDLE_CPU_MS 100

static void expect_idle(const char *when)
{
	long ms = server_cpu_ms(QUIET_MS);

	printf("#   %s: the server used %ld ms of CPU in %u ms\n", when, ms,
	       QUIET_MS);
	fflush(stdout);
	ASSERT_MSG(ms <= IDLE_CPU_MS, "%s: the server used %ld ms of CPU in "
	           "%u ms with nothing to do (a loop that does not block)",
	           when, ms, QUIET_MS);
}

/* ---- the server at rest --------------------------------------------------- */

static const char *const no_spin[] = { "--spin-us", "0", NULL };
static const char *const spin[] = { "--spin-us", "200", NULL };

static void idle_with_rings(const char *const *args)
{
	struct rp c;

	begin(args);
	rp_open(&c, SF_SHM_MEMFD);
	roundtrip(c.r);
	expect_idle("a ring client connected, nothing sent");
	rp_close(&c);
	end();
}

TEST(a_server_with_live_rings_and_no_frames_sleeps)
{
	idle_with_rings(no_spin);
}

TEST(a_spinning_server_with_live_rings_and_no_frames_sleeps)
{
	idle_with_rings(spin);
}

/* A PUT_IMAGE naming a segment the server never saw: it would fail, if
 * the server ever took it. */
static size_t bogus_put(uint8_t *buf, size_t cap)
{
	struct sf_put_image m = { .surface = 1, .serial = 1, .segment = 9,
	                          .buffer = 1, .stride = 256 };

	return sf__peer_encode(buf, cap, SF_PUT_IMAGE, &m, sizeof m, NULL, 0);
}

static void idle_with_blocked_ring(const char *const *args)
{
	uint8_t msg[SF_RING_REQ_MESSAGE];
	size_t n = bogus_put(msg, sizeof msg);
	struct rp c;

	begin(args);
	rp_open(&c, SF_SHM_MEMFD);
	roundtrip(c.r);
	c.req_next++;
	/* Numbered one past the next request: it waits for a socket
	 * message that never comes. */
	ASSERT_EQ(sf__ring_room(&c.req), (int)SF_RING_REQ_COUNT);
	ASSERT_EQ(sf__ring_push(&c.req, c.req_next + 1, msg, n), 0);
	/* Asleep or not, the server looks at every ring before it blocks:
	 * no KICK, which would be the missing number. */
	usleep(100000);
	expect_idle("a ring entry numbered ahead");
	check_serving("a ring entry numbered ahead");
	rp_close(&c);
	end();
}

TEST(a_ring_entry_numbered_ahead_does_not_make_the_server_loop)
{
	idle_with_blocked_ring(no_spin);
}

TEST(a_ring_entry_numbered_ahead_does_not_make_a_spinning_server_loop)
{
	idle_with_blocked_ring(spin);
}

/* ---- a hostile server facing the library's rings -------------------------- */

/*
 * A fake server, a process of its own: it speaks 2.1 honestly up to the
 * rings (WELCOME with RING, every PROBE and ATTACH_CONTROL answered OK,
 * SYNC answered), then, once the client destroyed its surface, keeps the
 * event ring full of RELEASEs for that surface, each numbered as the next
 * event: events the library must accept (a destroyed surface's events are
 * late, not wrong) and that never end.
 */
struct fake {
	pid_t pid;
	char dir[64];
	char path[100];
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

/* Keeps the event ring full of RELEASEs of surface 1, numbered from
 * seq on, until the client goes.  Every slot holds the same message, so
 * that refilling one is writing its number: a producer as fast as it can
 * be. */
static void fake_flood(int s, uint8_t *ctl, uint32_t seq)
{
	uint32_t *head = (uint32_t *)(ctl + SF_CONTROL_EV_HEAD);
	uint32_t *tail = (uint32_t *)(ctl + SF_CONTROL_EV_TAIL);
	uint32_t pos = __atomic_load_n(head, __ATOMIC_RELAXED);
	struct sf_release r = { .surface = 1, .buffer = 1, .serial = 1 };

	for (uint32_t i = 0; i < SF_RING_EV_COUNT; i++)
		sf__encode(ctl + SF_CONTROL_EV_RING + i * SF_RING_EV_ENTRY +
		           SF_RING_ENTRY_HEAD, SF_RING_EV_MESSAGE, SF_RELEASE,
		           &r, sizeof r, NULL, 0);
	for (unsigned i = 0;; i++) {
		uint32_t t = __atomic_load_n(tail, __ATOMIC_ACQUIRE);

		while (pos - t < SF_RING_EV_COUNT) {
			memcpy(ctl + SF_CONTROL_EV_RING +
			       (size_t)(pos % SF_RING_EV_COUNT) * SF_RING_EV_ENTRY,
			       &seq, sizeof seq);
			seq++;
			pos++;
			__atomic_store_n(head, pos, __ATOMIC_RELEASE);
		}
		if (i % 4096 == 0) {
			struct pollfd p = { .fd = s, .events = POLLIN };

			if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
				_exit(0);
		}
	}
}

static void fake_serve(int s)
{
	static uint8_t buf[SF_MAX_MESSAGE];
	uint8_t *ctl = NULL;
	uint32_t events = 0;
	uint16_t type;
	int fd;

	while ((type = sf__peer_read_request(s, buf, sizeof buf, &fd)) != 0) {
		if (type == SF_HELLO) {
			struct sf_welcome w = {
				.magic = SF_MAGIC, .major = SF_VERSION_MAJOR,
				.minor = SF_VERSION_MINOR,
				.caps = SF_CAP_SHM_MEMFD | SF_CAP_RING, .client_id = 1,
				.max_width = 4096, .max_height = 4096,
				.max_surfaces = 16, .max_segments = 16,
				.max_segment_size = 1u << 26, .max_mapped = 1u << 28,
				.max_message = SF_MAX_MESSAGE, .max_inflight = 8,
				.max_output = 1u << 26,
			};

			sf__peer_send(s, SF_WELCOME, &w, sizeof w, NULL, 0, -1);
			events++;
		} else if (type == SF_PROBE || type == SF_ATTACH_CONTROL) {
			struct sf_probe_result pr = { .kind = SF_SHM_MEMFD,
			                              .status = SF_PROBE_OK };

			if (type == SF_ATTACH_CONTROL) {
				ctl = mmap(NULL, SF_CONTROL_SIZE,
				           PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
				if (ctl == MAP_FAILED)
					_exit(1);
			}
			sf__peer_send(s, SF_PROBE_RESULT, &pr, sizeof pr, NULL, 0, -1);
			events++;
		} else if (type == SF_SYNC) {
			struct sf_sync y;

			memcpy(&y, buf, sizeof y);
			sf__peer_send(s, SF_SYNC_DONE, &y, sizeof y, NULL, 0, -1);
			events++;
		} else if (type == SF_DESTROY_SURFACE && ctl) {
			fake_flood(s, ctl, events + 1);
		}
		if (fd >= 0)
			close(fd);
	}
	_exit(0);
}

static void fake_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l;

	snprintf(fake.dir, sizeof fake.dir, "/tmp/shmframe-fake.XXXXXX");
	ASSERT(mkdtemp(fake.dir) != NULL);
	sf_test_atfail = fake_stop;
	snprintf(fake.path, sizeof fake.path, "%s/sock", fake.dir);
	snprintf(fake.addr, sizeof fake.addr, "unix:%s", fake.path);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", fake.path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT(l >= 0);
	ASSERT_EQ(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	ASSERT_EQ(listen(l, 1), 0);
	fake.pid = fork();
	ASSERT(fake.pid >= 0);
	if (fake.pid == 0) {
		int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);

		if (s < 0)
			_exit(1);
		close(l);
		fake_serve(s);
	}
	close(l);
}

/* Calls to shmframe_dispatch() measured; a bug lets one of them take
 * more than a ring's worth whenever the fake keeps up with the library,
 * which it does on most of them. */
#define DISPATCHES 40

/* In a process of its own, so that a call that never returns can be
 * stopped: connects with rings, makes a surface and destroys it, and
 * calls shmframe_dispatch() again and again while the fake keeps the
 * ring full.  Exits with the most events one call handled, capped at
 * 255 (0 when a call failed). */
static void dispatch_calls(void)
{
	struct shmframe_options o;
	struct shmframe_conn *conn;
	struct shmframe_surface *s;
	int most = 0;

	shmframe_options_init(&o);
	o.transport = SHMFRAME_TRANSPORT_SHM;
	o.shm = SHMFRAME_SHM_MEMFD;
	o.signal = SHMFRAME_SIGNAL_RING;
	conn = shmframe_connect(fake.addr, &o);
	if (!conn || shmframe_conn_error(conn)) {
		fprintf(stderr, "connect: %s\n", shmframe_last_error(conn));
		_exit(0);
	}
	s = shmframe_surface_create(conn, 16, 8, SHMFRAME_FORMAT_ARGB8888, "x");
	if (!s) {
		fprintf(stderr, "surface: %s\n", shmframe_last_error(conn));
		_exit(0);
	}
	shmframe_surface_destroy(s);
	for (int i = 0; i < DISPATCHES; i++) {
		int n;

		usleep(2000);
		n = shmframe_dispatch(conn);
		if (n < 0) {
			fprintf(stderr, "dispatch: %s\n", shmframe_last_error(conn));
			_exit(0);
		}
		if (n > most)
			most = n;
	}
	_exit(most > 255 ? 255 : most);
}

TEST(a_server_that_never_stops_filling_the_event_ring_cannot_hold_dispatch)
{
	pid_t child;
	int status = 0;

	fake_start();
	child = fork();
	ASSERT(child >= 0);
	if (child == 0)
		dispatch_calls();
	for (int i = 0; i < 200 && waitpid(child, &status, WNOHANG) == 0; i++)
		usleep(50000);
	if (waitpid(child, &status, WNOHANG) == 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		FAIL("%d calls of shmframe_dispatch() did not return in 10 s "
		     "while the server kept the event ring full", DISPATCHES);
	}
	ASSERT(WIFEXITED(status));
	printf("#   one shmframe_dispatch() handled at most %d events%s\n",
	       WEXITSTATUS(status), WEXITSTATUS(status) == 255 ? " or more" : "");
	fflush(stdout);
	/* One ring's worth, and the SYNC_DONE and the like: not all that a
	 * server can write while the call runs. */
	ASSERT_GT(WEXITSTATUS(status), 0);
	ASSERT_LE(WEXITSTATUS(status), (int)SF_RING_EV_COUNT + 8);
	fake_stop();
}

/* SIGTERM with a control segment mapped: a clean exit (a sanitizer build
 * fails it on a leak), and nothing left in /dev/shm or ipcs -m. */
TEST(a_server_stopped_with_live_rings_exits_clean)
{
	static const int kinds[] = { SF_SHM_MEMFD, SF_SHM_POSIX, SF_SHM_SYSV };
	struct rp c[3];

	shm_read(&shm_before);
	server_start(NULL);
	for (int i = 0; i < 3; i++) {
		rp_open(&c[i], kinds[i]);
		roundtrip(c[i].r);
	}
	server_stop();
	for (int i = 0; i < 3; i++) {
		expect_closed(c[i].r);
		rp_close(&c[i]);
	}
	shm_check();
}
