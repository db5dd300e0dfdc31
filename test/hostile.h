/*
 * What the tests of hostile clients share (test-hostile-*.c, one theme
 * each): hostile clients against a real shmframe-server, speaking the wire
 * directly: malformed and lying messages, fds where none belong and none
 * where one must be, segments shrunk under the server's mapping, clients
 * that never read or send one byte a second, and every limit hit for real
 * with small limits set on the server's command line.
 *
 * Every case checks the ERROR's code, that it names the request at fault
 * (request_type, and the text starting with the request's name), and that
 * the server closes that connection; then that a well-behaved client,
 * connected all along, still gets a pixel-exact frame back, that the
 * server holds as many fds as before, and at the end that nothing is left
 * in /dev/shm or ipcs -m and that SIGTERM is a clean exit (a sanitizer
 * build reports leaks there).
 *
 * Include once per executable, after nothing else: it includes the
 * harness.  SF_TEST_SERVER names the server binary (CTest sets it).
 */
#ifndef SHMFRAME_TEST_HOSTILE_H
#define SHMFRAME_TEST_HOSTILE_H

#include <fcntl.h>
#include <ftw.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fdpass.h"
#include "harness.h"
#include "raw-peer.h"
#include "segment.h"
#include "server-proc.h"
#include "shmframe.h"
#include "wire.h"

#define GOOD_W 64
#define GOOD_H 48

/* ---- the server --------------------------------------------------------- */

SF_TEST_UNUSED static struct server_proc srv;
SF_TEST_UNUSED static char fifo_path[96]; /* removed on failure too */

SF_TEST_UNUSED
static void server_kill(void)
{
	server_proc_kill();
	if (fifo_path[0])
		unlink(fifo_path);
}

/* Starts the server, headless, on a Unix socket of a fresh temporary
 * directory, with the extra arguments (NULL-terminated list). */
SF_TEST_UNUSED
static void server_start(const char *const *extra)
{
	server_proc_start(&srv, "hostile", false, extra);
	sf_test_atfail = server_kill;
	/* The wire helpers' fatal errors clean up as a failed ASSERT does. */
	sf__peer_on_fatal = sf_test_run_atfail;
}

SF_TEST_UNUSED
static void server_alive(void)
{
	server_proc_alive(&srv);
}

SF_TEST_UNUSED
static int server_fds(void)
{
	return server_proc_fds(&srv);
}

/* The server frees a client's fds when it sees the disconnect. */
SF_TEST_UNUSED
static void wait_server_fds(int want, const char *when)
{
	int n = 0;

	for (int i = 0; i < 100; i++) {
		n = server_fds();
		if (n == want)
			return;
		usleep(50000);
	}
	FAIL("%s: the server holds %d fds, %d expected (fd leak)", when, n, want);
}

/* VmHWM (peak resident memory) of the server, in KiB. */
SF_TEST_UNUSED
static long server_hwm_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)srv.pid);
	f = fopen(path, "re");
	ASSERT(f != NULL);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	ASSERT_GE(kb, 0);
	return kb;
}

/* SIGTERM must be a clean exit 0. */
SF_TEST_UNUSED
static void server_stop(void)
{
	server_proc_stop(&srv);
}

/* ---- shared-memory bookkeeping ------------------------------------------ */

#define MAX_NAMES 512

struct shm_state {
	char devshm[MAX_NAMES][256];
	int n_devshm;
	int sysv[MAX_NAMES];
	int n_sysv;
};

SF_TEST_UNUSED static struct shm_state shm_before;

SF_TEST_UNUSED
static void shm_read(struct shm_state *st)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	char line[512];
	FILE *f;

	memset(st, 0, sizeof *st);
	if (d) {
		while ((e = readdir(d)) != NULL && st->n_devshm < MAX_NAMES)
			/* Only our names: other programs' are not ours to
			 * count (test/isolate.sh gives us /dev/shm alone). */
			if (strncmp(e->d_name, &SF_SHM_NAME_PREFIX[1],
			            strlen(SF_SHM_NAME_PREFIX) - 1) == 0)
				snprintf(st->devshm[st->n_devshm++], 256, "%s", e->d_name);
		closedir(d);
	}
	f = fopen("/proc/sysvipc/shm", "re");
	if (!f)
		return;
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof line, f) && st->n_sysv < MAX_NAMES) {
		int key, id, perms, cpid;
		unsigned long size;

		if (sscanf(line, "%d %d %o %lu %d", &key, &id, &perms, &size,
		           &cpid) == 5) {
			/* Only those we made, or the server did. */
			if (cpid == (int)getpid() || cpid == (int)srv.pid)
				st->sysv[st->n_sysv++] = id;
		}
	}
	fclose(f);
}

SF_TEST_UNUSED
static bool has_name(const struct shm_state *st, const char *name)
{
	for (int i = 0; i < st->n_devshm; i++)
		if (strcmp(st->devshm[i], name) == 0)
			return true;
	return false;
}

/* New /dev/shm entries that stay (other tests running at the same time
 * make short-lived ones), and System V segments made by us or the server
 * that still exist: left behind. */
SF_TEST_UNUSED
static void shm_check(void)
{
	static struct shm_state now, later;

	shm_read(&now);
	ASSERT_MSG(now.n_sysv == 0, "%d System V segment(s) left (ipcs -m), "
	           "id %d first", now.n_sysv, now.sysv[0]);
	for (int i = 0; i < now.n_devshm; i++) {
		if (has_name(&shm_before, now.devshm[i]))
			continue;
		usleep(500000);
		shm_read(&later);
		ASSERT_MSG(!has_name(&later, now.devshm[i]),
		           "left behind in /dev/shm: %s", now.devshm[i]);
	}
}

/* ---- the well-behaved client -------------------------------------------- */

struct good {
	struct shmframe_conn *conn;
	struct shmframe_surface *surface;
	uint32_t frame;
};

SF_TEST_UNUSED static struct good good;
SF_TEST_UNUSED static int fds_base, fds_with_good;

SF_TEST_UNUSED
static uint32_t pattern(uint32_t x, uint32_t y, uint32_t frame)
{
	uint32_t v = x * 0x9e3779b1u ^ y * 0x85ebca77u ^ frame * 0xc2b2ae3du;

	v ^= v >> 15;
	v *= 0x2c1b3c6du;
	return v ^ (v >> 12);
}

SF_TEST_UNUSED
static void good_connect(enum shmframe_transport transport)
{
	struct shmframe_options o;
	int err;

	shmframe_options_init(&o);
	o.name = "well-behaved";
	o.transport = transport;
	good.conn = shmframe_connect(srv.addr, &o);
	ASSERT(good.conn != NULL);
	err = shmframe_conn_error(good.conn);
	ASSERT_MSG(err == 0, "good client: connect: %s (%s)",
	           shmframe_strerror(err), shmframe_last_error(good.conn));
	good.surface = shmframe_surface_create(good.conn, GOOD_W, GOOD_H,
	                                       SHMFRAME_FORMAT_ARGB8888, "good");
	ASSERT_MSG(good.surface != NULL, "good client: surface: %s",
	           shmframe_last_error(good.conn));
}

/* One frame presented and read back, pixel for pixel. */
SF_TEST_UNUSED
static void good_roundtrip(const char *when)
{
	uint32_t expect[GOOD_W * GOOD_H], got[GOOD_W * GOOD_H], stride;
	struct shmframe_buffer *b;
	uint8_t *px;
	int err;

	good.frame++;
	b = shmframe_acquire(good.surface);
	ASSERT_MSG(b != NULL, "%s: good client: acquire: %s", when,
	           shmframe_last_error(good.conn));
	px = shmframe_buffer_pixels(b, &stride);
	for (uint32_t y = 0; y < GOOD_H; y++)
		for (uint32_t x = 0; x < GOOD_W; x++) {
			expect[y * GOOD_W + x] = pattern(x, y, good.frame);
			memcpy(px + (size_t)y * stride + x * 4,
			       &expect[y * GOOD_W + x], 4);
		}
	err = shmframe_present(good.surface, b, NULL, 0, NULL);
	ASSERT_MSG(err == 0, "%s: good client: present: %s", when,
	           shmframe_last_error(good.conn));
	memset(got, 0, sizeof got);
	err = shmframe_readback(good.surface, 0, 0, GOOD_W, GOOD_H, got,
	                        GOOD_W * 4);
	ASSERT_MSG(err == 0, "%s: good client: readback: %s", when,
	           shmframe_last_error(good.conn));
	ASSERT_MSG(memcmp(got, expect, sizeof got) == 0,
	           "%s: the good client's frame came back different", when);
}

SF_TEST_UNUSED
static void good_close(void)
{
	shmframe_surface_destroy(good.surface);
	shmframe_disconnect(good.conn);
	memset(&good, 0, sizeof good);
}

/* ---- a case from start to end ------------------------------------------- */

/* Server with these extra arguments, and the good client connected. */
SF_TEST_UNUSED
static void begin_with(const char *const *extra,
                       enum shmframe_transport good_transport)
{
	shm_read(&shm_before);
	server_start(extra);
	fds_base = server_fds();
	good_connect(good_transport);
	good_roundtrip("before");
	fds_with_good = server_fds();
}

SF_TEST_UNUSED
static void begin(const char *const *extra)
{
	begin_with(extra, SHMFRAME_TRANSPORT_AUTO);
}

/* While a hostile connection is open: the server is alive and serves
 * the good client. */
SF_TEST_UNUSED
static void check_serving(const char *when)
{
	server_alive();
	good_roundtrip(when);
}

/* After a hostile connection: ... and holds what it held before. */
SF_TEST_UNUSED
static void check_unharmed(const char *when)
{
	check_serving(when);
	wait_server_fds(fds_with_good, when);
}

SF_TEST_UNUSED
static void end(void)
{
	check_unharmed("end");
	good_close();
	wait_server_fds(fds_base, "after the good client left");
	shm_check();
	server_stop();
}

/* ---- speaking the wire --------------------------------------------------- */

/* A connection of ours to the server (tools/raw-peer.h). */
SF_TEST_UNUSED
static struct sf_peer *raw_connect(void)
{
	struct sf_peer *r = calloc(1, sizeof *r);

	ASSERT(r != NULL);
	r->fd = sf__peer_connect(srv.addr, 0, NULL);
	ASSERT_MSG(r->fd >= 0, "connect %s: %s", srv.addr, strerror(errno));
	return r;
}

SF_TEST_UNUSED
static void raw_close(struct sf_peer *r)
{
	close(r->fd);
	free(r);
}

/* Sends bytes.  Returns 0 or -errno (the server may have closed already:
 * that is for the caller to judge). */
SF_TEST_UNUSED
static int raw_send(struct sf_peer *r, const void *data, size_t len)
{
	return sf__peer_send_fds(r->fd, data, len, NULL, 0);
}

SF_TEST_UNUSED
static void send_msg(struct sf_peer *r, uint16_t type, void *fixed,
                     size_t fixed_size, const void *tail, size_t tail_len)
{
	uint8_t buf[8192];
	size_t n = sf__peer_encode(buf, sizeof buf, type, fixed, fixed_size,
	                           tail, tail_len);

	ASSERT_EQ(raw_send(r, buf, n), 0);
}

/* Our HELLO, named "hostile" (the name follows it). */
SF_TEST_UNUSED
static void hello_msg(struct sf_hello *h)
{
	sf__peer_hello_init(h);
	h->name_len = 7;
}

/* The next event must be of this type. */
SF_TEST_UNUSED
static void expect_event(struct sf_peer *r, uint16_t type, uint8_t *msg)
{
	struct sf_header hdr;
	int st = sf__peer_next_event(r, &hdr, msg, 5000);

	ASSERT_MSG(st == 1, "waiting for %s: %s", sf__type_name(type),
	           st == 0 ? "end of stream" : st == -1 ? "timed out" : "reset");
	if (hdr.type == SF_ERROR && type != SF_ERROR) {
		struct sf_error e;
		char text[SF_MAX_TEXT + 1] = "";

		sf__decode_error(msg, hdr.length, &e, text, NULL);
		FAIL("waiting for %s: ERROR %s: %s", sf__type_name(type),
		     sf__error_name(e.code), text);
	}
	ASSERT_MSG(hdr.type == type, "expected %s, got %s",
	           sf__type_name(type), sf__type_name(hdr.type));
}

SF_TEST_UNUSED
static void raw_hello(struct sf_peer *r)
{
	struct sf_hello h;
	uint8_t msg[SF_MAX_MESSAGE];

	hello_msg(&h);
	send_msg(r, SF_HELLO, &h, sizeof h, "hostile", 7);
	expect_event(r, SF_WELCOME, msg);
	ASSERT_EQ(sf__decode_welcome(msg, sizeof r->welcome, &r->welcome,
	                             NULL), 0);
}

SF_TEST_UNUSED
static struct sf_peer *raw_ready(void)
{
	struct sf_peer *r = raw_connect();

	raw_hello(r);
	return r;
}

/* A client past HELLO that said this minor version. */
SF_TEST_UNUSED
static struct sf_peer *raw_ready_minor(uint16_t minor)
{
	struct sf_peer *r = raw_connect();
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_hello h;

	hello_msg(&h);
	h.minor = minor;
	send_msg(r, SF_HELLO, &h, sizeof h, "hostile", 7);
	expect_event(r, SF_WELCOME, msg);
	ASSERT_EQ(sf__decode_welcome(msg, sizeof r->welcome, &r->welcome,
	                             NULL), 0);
	return r;
}

/* The connection is closed: end of stream (or a reset) within 5 s. */
SF_TEST_UNUSED
static void expect_closed(struct sf_peer *r)
{
	for (;;) {
		struct sf_header hdr;
		uint8_t msg[SF_MAX_MESSAGE];
		int st = sf__peer_next_event(r, &hdr, msg, 5000);

		ASSERT_MSG(st != -1, "the server did not close the connection");
		if (st <= 0)
			return;
		ASSERT_MSG(hdr.type != SF_ERROR, "a second ERROR arrived");
	}
}

/*
 * Reads events until an ERROR, which must have this code and name the
 * request of that type (request_type, and its text starts with the
 * request's name; type 0: none is at fault).  Then the connection must
 * close.  Frees r.  Returns nothing; the text goes to *text when given.
 */
SF_TEST_UNUSED
static void expect_error_text(struct sf_peer *r, uint32_t code, uint16_t type,
                              char *text_out)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	char text[SF_MAX_TEXT + 1];
	struct sf_error e;
	struct sf_header hdr;
	char name[64];

	for (;;) {
		int st = sf__peer_next_event(r, &hdr, msg, 8000);

		ASSERT_MSG(st == 1, "waiting for ERROR %s: %s", sf__error_name(code),
		           st == 0 ? "end of stream" : st == -1 ? "timed out"
		                                              : "connection reset");
		if (hdr.type == SF_ERROR)
			break;
	}
	ASSERT_EQ(sf__decode_error(msg, hdr.length, &e, text, NULL), 0);
	ASSERT_MSG(e.code == code, "expected ERROR %u (%s), got %u (%s): %s",
	           code, sf__error_name(code), e.code, sf__error_name(e.code),
	           text);
	ASSERT_MSG(e.request_type == type, "ERROR names request type 0x%x, "
	           "0x%x expected: %s", e.request_type, type, text);
	if (type) {
		if (strcmp(sf__type_name(type), "unknown") != 0)
			snprintf(name, sizeof name, "%s: ", sf__type_name(type));
		else
			snprintf(name, sizeof name, "request type 0x%04x: ", type);
		ASSERT_MSG(strncmp(text, name, strlen(name)) == 0,
		           "ERROR text does not start with \"%s\": %s", name, text);
		ASSERT_GT(e.sequence, 0);
	} else {
		ASSERT_EQ(e.sequence, 0);
	}
	printf("#   %-14s %s\n", sf__error_name(e.code)[0] ? sf__error_name(e.code)
	                                                   : "?", text);
	fflush(stdout);
	if (text_out)
		strcpy(text_out, text);
	expect_closed(r);
	raw_close(r);
}

SF_TEST_UNUSED
static void expect_error(struct sf_peer *r, uint32_t code, uint16_t type)
{
	expect_error_text(r, code, type, NULL);
}

/* ---- messages ------------------------------------------------------------ */

SF_TEST_UNUSED
static void send_sync(struct sf_peer *r, uint32_t serial)
{
	struct sf_sync m = { .serial = serial };

	send_msg(r, SF_SYNC, &m, sizeof m, NULL, 0);
}

/* SYNC answered: the server is still talking to us. */
SF_TEST_UNUSED
static void roundtrip(struct sf_peer *r)
{
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_header hdr;

	send_sync(r, 77);
	for (;;) {
		int st = sf__peer_next_event(r, &hdr, msg, 5000);

		ASSERT_MSG(st == 1, "no SYNC_DONE");
		ASSERT_MSG(hdr.type != SF_ERROR, "ERROR instead of SYNC_DONE");
		if (hdr.type == SF_SYNC_DONE)
			return;
	}
}

SF_TEST_UNUSED
static void create_surface(struct sf_peer *r, uint32_t id, uint32_t w, uint32_t h,
                           uint32_t mode)
{
	struct sf_create_surface m = {
		.id = id, .width = w, .height = h,
		.format = SF_FORMAT_ARGB8888, .present_mode = mode,
	};

	send_msg(r, SF_CREATE_SURFACE, &m, sizeof m, NULL, 0);
}

SF_TEST_UNUSED
static void put_image(struct sf_peer *r, uint32_t surface, uint32_t segment,
                      uint64_t offset, uint32_t stride,
                      const struct sf_rect *rects, uint32_t n)
{
	static uint32_t serial;
	struct sf_put_image m = {
		.surface = surface, .serial = ++serial, .segment = segment,
		.buffer = segment ? 1 : 0, .offset = offset, .stride = stride,
		.n_rects = n,
	};

	send_msg(r, SF_PUT_IMAGE, &m, sizeof m, rects, n * sizeof *rects);
}

SF_TEST_UNUSED
static void get_image(struct sf_peer *r, uint32_t surface, struct sf_rect rect,
                      uint32_t segment, uint64_t offset, uint32_t stride)
{
	struct sf_get_image m = {
		.surface = surface, .serial = 1, .rect = rect,
		.segment = segment, .stride = stride, .offset = offset,
	};

	send_msg(r, SF_GET_IMAGE, &m, sizeof m, NULL, 0);
}

/* A segment of ours: made like the library makes them, nonce written. */
struct hseg {
	struct sf_segment seg;
	uint8_t nonce[SF_NONCE_SIZE];
};

SF_TEST_UNUSED
static void hseg_make(struct hseg *h, int kind, size_t size)
{
	int err = sf__segment_create(&h->seg, kind, size);

	ASSERT_MSG(err == 0, "cannot make a %s segment: %s",
	           sf__shm_kind_name((uint32_t)kind), strerror(-err));
	ASSERT_EQ(sf__random(h->nonce, sizeof h->nonce), 0);
	memcpy(h->seg.map, h->nonce, sizeof h->nonce);
}

/* A memfd made by hand, named (it shows in /proc/PID/maps) and sealed
 * with seals (0: it can shrink). */
SF_TEST_UNUSED
static void hseg_make_memfd(struct hseg *h, const char *name, size_t size,
                            int seals)
{
	sf__segment_init(&h->seg);
	h->seg.kind = SF_SHM_MEMFD;
	h->seg.fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_GE(h->seg.fd, 0);
	ASSERT_EQ(ftruncate(h->seg.fd, (off_t)size), 0);
	if (seals)
		ASSERT_EQ(fcntl(h->seg.fd, F_ADD_SEALS, seals), 0);
	h->seg.map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
	                  h->seg.fd, 0);
	ASSERT(h->seg.map != MAP_FAILED);
	h->seg.size = size;
	ASSERT_EQ(sf__random(h->nonce, sizeof h->nonce), 0);
	memcpy(h->seg.map, h->nonce, sizeof h->nonce);
}

/* Unmapping a shrunk segment is fine: munmap does not touch the pages. */
SF_TEST_UNUSED
static void hseg_free(struct hseg *h)
{
	sf__segment_close(&h->seg);
}

SF_TEST_UNUSED
static void segment_msg(struct sf_segment_msg *m, const struct hseg *h,
                        uint32_t id, uint8_t flags, uint64_t size)
{
	sf__peer_segment_msg(m, &h->seg, h->nonce, id, flags, size);
}

/* ATTACH_SEGMENT (or PROBE) of h, with its fd when it is a memfd. */
SF_TEST_UNUSED
static int send_segment(struct sf_peer *r, uint16_t type, struct hseg *h,
                        uint32_t id, uint8_t flags)
{
	struct sf_segment_msg m;
	uint8_t buf[128];
	size_t n;

	segment_msg(&m, h, id, flags, h->seg.size);
	/* The proof is per connection: this one's challenge after the
	 * nonce (a segment without a mapping, a FIFO's name, has none). */
	if (h->seg.map)
		sf__segment_write_proof(&h->seg, h->nonce,
		                        r->welcome.challenge);
	n = sf__peer_encode(buf, sizeof buf, type, &m, sizeof m, NULL, 0);
	if (h->seg.kind == SF_SHM_MEMFD)
		return sf__peer_send_fds(r->fd, buf, n, &h->seg.fd, 1);
	return raw_send(r, buf, n);
}

SF_TEST_UNUSED
static void attach(struct sf_peer *r, struct hseg *h, uint32_t id,
                   uint8_t flags)
{
	ASSERT_EQ(send_segment(r, SF_ATTACH_SEGMENT, h, id, flags), 0);
}

/*
 * Sends msg again and again without reading anything, until what waits
 * for us to read stops growing (the server's socket buffer is full and it
 * stopped writing to us), plus a few rounds more.  A send error means the
 * server closed on us: stop too.
 */
SF_TEST_UNUSED
static void flood_until_stuck(struct sf_peer *r, const uint8_t *msg, size_t len)
{
	/* Small enough rounds that what follows the error stays below what
	 * the server discards politely (4 MiB) before it hangs up. */
	const size_t batch = (256u << 10) / len;
	uint8_t *buf = malloc(len * batch);
	int last = -1, same = 0;

	ASSERT(buf != NULL);
	for (size_t i = 0; i < batch; i++)
		memcpy(buf + i * len, msg, len);
	for (int round = 0; round < 4000 && same < 5; round++) {
		int queued = 0;

		if (raw_send(r, buf, len * batch) < 0)
			break;
		usleep(50000);
		ASSERT_EQ(ioctl(r->fd, SIOCINQ, &queued), 0);
		same = queued == last ? same + 1 : 0;
		last = queued;
	}
	free(buf);
}

#endif
