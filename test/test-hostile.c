/*
 * Hostile clients against a real shmframe-server, speaking the wire
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
 * SF_TEST_SERVER names the server binary (CTest sets it).
 */
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

static struct server_proc srv;
static char fifo_path[96]; /* removed on failure too */

static void server_kill(void)
{
	server_proc_kill();
	if (fifo_path[0])
		unlink(fifo_path);
}

/* Starts the server, headless, on a Unix socket of a fresh temporary
 * directory, with the extra arguments (NULL-terminated list). */
static void server_start(const char *const *extra)
{
	server_proc_start(&srv, "hostile", false, extra);
	sf_test_atfail = server_kill;
	/* The wire helpers' fatal errors clean up as a failed ASSERT does. */
	sf__peer_on_fatal = sf_test_run_atfail;
}

static void server_alive(void)
{
	server_proc_alive(&srv);
}

static int server_fds(void)
{
	return server_proc_fds(&srv);
}

/* The server frees a client's fds when it sees the disconnect. */
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

/* SIGTERM must be a clean exit 0. */
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

static struct shm_state shm_before;

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

static struct good good;
static int fds_base, fds_with_good;

static uint32_t pattern(uint32_t x, uint32_t y, uint32_t frame)
{
	uint32_t v = x * 0x9e3779b1u ^ y * 0x85ebca77u ^ frame * 0xc2b2ae3du;

	v ^= v >> 15;
	v *= 0x2c1b3c6du;
	return v ^ (v >> 12);
}

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

static void good_close(void)
{
	shmframe_surface_destroy(good.surface);
	shmframe_disconnect(good.conn);
	memset(&good, 0, sizeof good);
}

/* ---- a case from start to end ------------------------------------------- */

/* Server with these extra arguments, and the good client connected. */
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

static void begin(const char *const *extra)
{
	begin_with(extra, SHMFRAME_TRANSPORT_AUTO);
}

/* While a hostile connection is open: the server is alive and serves
 * the good client. */
static void check_serving(const char *when)
{
	server_alive();
	good_roundtrip(when);
}

/* After a hostile connection: ... and holds what it held before. */
static void check_unharmed(const char *when)
{
	check_serving(when);
	wait_server_fds(fds_with_good, when);
}

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
static struct sf_peer *raw_connect(void)
{
	struct sf_peer *r = calloc(1, sizeof *r);

	ASSERT(r != NULL);
	r->fd = sf__peer_connect(srv.addr, 0, NULL);
	ASSERT_MSG(r->fd >= 0, "connect %s: %s", srv.addr, strerror(errno));
	return r;
}

static void raw_close(struct sf_peer *r)
{
	close(r->fd);
	free(r);
}

/* Sends bytes.  Returns 0 or -errno (the server may have closed already:
 * that is for the caller to judge). */
static int raw_send(struct sf_peer *r, const void *data, size_t len)
{
	return sf__peer_send_fds(r->fd, data, len, NULL, 0);
}

static void send_msg(struct sf_peer *r, uint16_t type, void *fixed,
                     size_t fixed_size, const void *tail, size_t tail_len)
{
	uint8_t buf[8192];
	size_t n = sf__peer_encode(buf, sizeof buf, type, fixed, fixed_size,
	                           tail, tail_len);

	ASSERT_EQ(raw_send(r, buf, n), 0);
}

/* Our HELLO, named "hostile" (the name follows it). */
static void hello_msg(struct sf_hello *h)
{
	sf__peer_hello_init(h);
	h->name_len = 7;
}

/* The next event must be of this type. */
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

static struct sf_peer *raw_ready(void)
{
	struct sf_peer *r = raw_connect();

	raw_hello(r);
	return r;
}

/* The connection is closed: end of stream (or a reset) within 5 s. */
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

static void expect_error(struct sf_peer *r, uint32_t code, uint16_t type)
{
	expect_error_text(r, code, type, NULL);
}

/* ---- messages ------------------------------------------------------------ */

static void send_sync(struct sf_peer *r, uint32_t serial)
{
	struct sf_sync m = { .serial = serial };

	send_msg(r, SF_SYNC, &m, sizeof m, NULL, 0);
}

/* SYNC answered: the server is still talking to us. */
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

static void create_surface(struct sf_peer *r, uint32_t id, uint32_t w, uint32_t h,
                           uint32_t mode)
{
	struct sf_create_surface m = {
		.id = id, .width = w, .height = h,
		.format = SF_FORMAT_ARGB8888, .present_mode = mode,
	};

	send_msg(r, SF_CREATE_SURFACE, &m, sizeof m, NULL, 0);
}

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
static void hseg_free(struct hseg *h)
{
	sf__segment_close(&h->seg);
}

static void segment_msg(struct sf_segment_msg *m, const struct hseg *h,
                        uint32_t id, uint8_t flags, uint64_t size)
{
	sf__peer_segment_msg(m, &h->seg, h->nonce, id, flags, size);
}

/* ATTACH_SEGMENT (or PROBE) of h, with its fd when it is a memfd. */
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

static void attach(struct sf_peer *r, struct hseg *h, uint32_t id,
                   uint8_t flags)
{
	ASSERT_EQ(send_segment(r, SF_ATTACH_SEGMENT, h, id, flags), 0);
}

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
	send_msg(r, SF_HELLO, &h, sizeof h, "hostile", 7);
	expect_error_text(r, SF_ERR_BAD_VERSION, SF_HELLO, text);
	ASSERT_CONTAINS(text, "9.0");
	end();
}

TEST(length_past_the_maximum_is_bad_message)
{
	struct sf_header big = { .type = SF_SYNC, .length = SF_MAX_MESSAGE + 4 };
	struct sf_header huge = { .type = SF_SYNC, .length = 0x7ffffffc };
	struct sf_header odd = { .type = SF_SYNC, .length = 18 };
	struct sf_header tiny = { .type = SF_SYNC, .length = 4 };
	struct sf_header first = { .type = SF_HELLO, .length = 0xfffffff0 };
	struct sf_peer *r;

	begin(NULL);
	r = raw_ready();
	ASSERT_EQ(raw_send(r, &big, sizeof big), 0);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_SYNC);

	r = raw_ready();
	ASSERT_EQ(raw_send(r, &huge, sizeof huge), 0);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_SYNC);

	r = raw_ready();
	ASSERT_EQ(raw_send(r, &odd, sizeof odd), 0);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_SYNC);

	r = raw_ready();
	ASSERT_EQ(raw_send(r, &tiny, sizeof tiny), 0);
	expect_error(r, SF_ERR_BAD_MESSAGE, SF_SYNC);

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

/*
 * Sends msg again and again without reading anything, until what waits
 * for us to read stops growing (the server's socket buffer is full and it
 * stopped writing to us), plus a few rounds more.  A send error means the
 * server closed on us: stop too.
 */
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

/* ---- segments that shrink ------------------------------------------------ */

/* A POSIX segment for a w x h surface, attached; the server unlinks the
 * name, we keep the fd to shrink it. */
static struct sf_peer *attached_posix(struct hseg *h, uint32_t w, uint32_t hgt,
                                  uint32_t mode)
{
	struct sf_peer *r = raw_ready();

	hseg_make(h, SF_SHM_POSIX, (size_t)w * hgt * 4);
	memset((uint8_t *)h->seg.map + SF_NONCE_SIZE, 0x77,
	       h->seg.size - SF_NONCE_SIZE);
	attach(r, h, 1, 0);
	create_surface(r, 1, w, hgt, mode);
	roundtrip(r);
	/* The nonce matched: the server removed the name already. */
	h->seg.name[0] = '\0';
	return r;
}

TEST(shrunk_posix_segment_copied_is_bad_segment)
{
	struct sf_rect all = { 0, 0, 256, 64 }, tail = { 0, 48, 256, 16 };
	struct hseg h;
	struct sf_peer *r;

	begin(NULL);
	r = attached_posix(&h, 256, 64, SF_PRESENT_COPY);
	ASSERT_EQ(ftruncate(h.seg.fd, 0), 0);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_PUT_IMAGE);
	hseg_free(&h);
	check_unharmed("segment shrunk to 0");

	/* Shrunk by half: the first rows are still there, the last not. */
	r = attached_posix(&h, 256, 64, SF_PRESENT_COPY);
	ASSERT_EQ(ftruncate(h.seg.fd, 256 * 4 * 32), 0);
	put_image(r, 1, 1, 0, 256 * 4, &tail, 1);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_PUT_IMAGE);
	hseg_free(&h);
	end();
}

TEST(shrunk_posix_segment_read_back_is_bad_segment)
{
	struct sf_rect all = { 0, 0, 256, 64 };
	struct hseg h, target;
	struct sf_peer *r;

	begin(NULL);
	/* Latched (nothing read), shrunk, then read back into another
	 * segment. */
	r = attached_posix(&h, 256, 64, SF_PRESENT_LATCH);
	hseg_make(&target, SF_SHM_MEMFD, 256 * 64 * 4);
	attach(r, &target, 2, SF_SEGMENT_WRITABLE);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	roundtrip(r);
	ASSERT_EQ(ftruncate(h.seg.fd, 0), 0);
	get_image(r, 1, all, 2, 0, 256 * 4);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_GET_IMAGE);
	hseg_free(&h);
	hseg_free(&target);
	check_unharmed("segment shrunk before a readback");

	/* ... and read back inline, straight from the shrunk mapping. */
	r = attached_posix(&h, 256, 64, SF_PRESENT_LATCH);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	roundtrip(r);
	ASSERT_EQ(ftruncate(h.seg.fd, 0), 0);
	get_image(r, 1, all, 0, 0, 0);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_GET_IMAGE);
	hseg_free(&h);
	end();
}

TEST(shrunk_posix_segment_in_a_snapshot_is_bad_segment)
{
	char dump[128];
	const char *args[] = { "--dump-dir", dump, NULL };
	const char *every[] = { "--dump-dir", dump, "--dump-every", "1", NULL };
	struct sf_rect all = { 0, 0, 256, 64 };
	char text[SF_MAX_TEXT + 1];
	struct hseg h;
	struct sf_peer *r;

	snprintf(dump, sizeof dump, "/tmp/shmframe-hostile-dump.%d",
	         (int)getpid());
	/* SIGUSR1: the snapshot reads the latched, shrunk buffer.  No
	 * request is at fault; the client is dropped all the same. */
	begin(args);
	r = attached_posix(&h, 256, 64, SF_PRESENT_LATCH);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	roundtrip(r);
	ASSERT_EQ(ftruncate(h.seg.fd, 0), 0);
	ASSERT_EQ(kill(srv.pid, SIGUSR1), 0);
	expect_error_text(r, SF_ERR_BAD_SEGMENT, 0, text);
	ASSERT_CONTAINS(text, "shrunk");
	hseg_free(&h);
	end();

	/* --dump-every 1: the frame's own snapshot finds it. */
	begin(every);
	r = attached_posix(&h, 256, 64, SF_PRESENT_LATCH);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	roundtrip(r);
	ASSERT_EQ(ftruncate(h.seg.fd, 0), 0);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_PUT_IMAGE);
	hseg_free(&h);
	end();
	nftw(dump, server_proc_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TEST(memfd_that_can_shrink_is_refused)
{
	struct hseg h;
	struct sf_peer *r;
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_probe_result pr;
	char text[SF_MAX_TEXT + 1];

	begin(NULL);
	hseg_make_memfd(&h, "hostile-unsealed", 4096, 0);
	r = raw_ready();
	ASSERT_EQ(send_segment(r, SF_PROBE, &h, 0, 0), 0);
	expect_event(r, SF_PROBE_RESULT, msg);
	ASSERT_EQ(sf__decode_probe_result(msg, ((struct sf_header *)msg)->length,
	                                  &pr, text, NULL), 0);
	ASSERT_EQ(pr.status, SF_PROBE_BAD_SEGMENT);
	ASSERT_CONTAINS(text, "sealed");
	attach(r, &h, 1, 0);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_ATTACH_SEGMENT);
	hseg_free(&h);
	end();
}

/* What the server maps for a segment it only reads is read-only. */
static char maps_perms(const char *needle, char perms[5])
{
	char path[64], line[512];
	FILE *f;

	perms[0] = '\0';
	snprintf(path, sizeof path, "/proc/%d/maps", (int)srv.pid);
	f = fopen(path, "re");
	ASSERT(f != NULL);
	while (fgets(line, sizeof line, f)) {
		if (!strstr(line, needle))
			continue;
		sscanf(line, "%*s %4s", perms);
		break;
	}
	fclose(f);
	return perms[0];
}

TEST(segments_are_mapped_read_only_unless_writable)
{
	struct hseg ro, rw;
	struct sf_peer *r;
	char perms[5];

	begin(NULL);
	hseg_make_memfd(&ro, "hostile-ro", 4096, F_SEAL_SHRINK);
	hseg_make_memfd(&rw, "hostile-rw", 4096, F_SEAL_SHRINK);

	r = raw_ready();
	attach(r, &ro, 1, 0);
	attach(r, &rw, 2, SF_SEGMENT_WRITABLE);
	roundtrip(r);
	ASSERT_MSG(maps_perms("/memfd:hostile-ro", perms), "not mapped");
	ASSERT_STREQ(perms, "r--s");
	ASSERT_MSG(maps_perms("/memfd:hostile-rw", perms), "not mapped");
	ASSERT_STREQ(perms, "rw-s");
	raw_close(r);
	hseg_free(&ro);
	hseg_free(&rw);
	end();
}

/* A POSIX name is the client's to choose: one that names a FIFO must not
 * block the server in open(). */
TEST(posix_name_of_a_fifo_is_refused_without_blocking)
{
	struct hseg h;
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_probe_result pr;
	char text[SF_MAX_TEXT + 1];
	struct sf_peer *r;

	begin(NULL);
	memset(&h, 0, sizeof h);
	sf__segment_init(&h.seg);
	h.seg.kind = SF_SHM_POSIX;
	h.seg.size = 4096;
	snprintf(h.seg.name, sizeof h.seg.name, "/shmframe-fifo%d",
	         (int)getpid());
	snprintf(fifo_path, sizeof fifo_path, "/dev/shm%s", h.seg.name);
	ASSERT_EQ(mkfifo(fifo_path, 0600), 0);

	r = raw_ready();
	ASSERT_EQ(send_segment(r, SF_PROBE, &h, 0, 0), 0);
	expect_event(r, SF_PROBE_RESULT, msg);
	ASSERT_EQ(sf__decode_probe_result(msg, ((struct sf_header *)msg)->length,
	                                  &pr, text, NULL), 0);
	/* The one answer for every POSIX name that is not the client's. */
	ASSERT_EQ(pr.status, SF_PROBE_NOT_FOUND);
	attach(r, &h, 1, 0);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_ATTACH_SEGMENT);
	ASSERT_EQ(unlink(fifo_path), 0);
	fifo_path[0] = '\0';
	end();
}

/*
 * A POSIX object cannot be sealed: its client may ftruncate it between
 * the server's size check and its first look at the mapping.  A child
 * flips the size between 0 and 4096 while the client sends PROBEs (which
 * never end a connection) naming it: every PROBE is answered, none passes
 * (the object holds zeros, the PROBE a random nonce), and the server
 * survives and serves the good client.
 */
TEST(posix_segment_shrinking_during_probes_does_not_crash_the_server)
{
	enum { BATCH = 16, ROUNDS = 1000 };
	uint8_t buf[BATCH * 128], msg[SF_MAX_MESSAGE];
	struct sf_segment_msg m;
	struct hseg h;
	struct sf_peer *r;
	size_t n = 0;
	pid_t flipper;

	begin(NULL);
	hseg_make(&h, SF_SHM_POSIX, 4096);
	ASSERT_EQ(sf__random(h.nonce, sizeof h.nonce), 0);
	memset(h.seg.map, 0, 4096);
	flipper = fork();
	ASSERT_GE(flipper, 0);
	if (flipper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			if (ftruncate(h.seg.fd, 0) < 0 || ftruncate(h.seg.fd, 4096) < 0)
				_exit(1);
		}
	}
	r = raw_ready();
	segment_msg(&m, &h, 0, 0, 4096);
	for (int i = 0; i < BATCH; i++)
		n += sf__peer_encode(buf + n, sizeof buf - n, SF_PROBE, &m, sizeof m, NULL, 0);
	for (int round = 0; round < ROUNDS; round++) {
		if (raw_send(r, buf, n) < 0 || kill(srv.pid, 0) < 0)
			break;
		for (int i = 0; i < BATCH; i++) {
			struct sf_probe_result pr;
			char text[SF_MAX_TEXT + 1];

			expect_event(r, SF_PROBE_RESULT, msg);
			ASSERT_EQ(sf__decode_probe_result(msg,
			          ((struct sf_header *)msg)->length, &pr, text,
			          NULL), 0);
			ASSERT_MSG(pr.status != SF_PROBE_OK, "a PROBE of zeros "
			           "passed: %s", text);
		}
	}
	kill(flipper, SIGKILL);
	waitpid(flipper, NULL, 0);
	server_alive();
	roundtrip(r);
	raw_close(r);
	hseg_free(&h);
	end();
}

/* ---- bounded work and memory --------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put_image_flags(struct sf_peer *r, uint16_t flags, uint32_t surface,
                            uint32_t segment, uint32_t buffer, uint64_t offset,
                            uint32_t stride, const struct sf_rect *rects,
                            uint32_t n)
{
	static uint32_t serial;
	struct sf_put_image m = {
		.hdr.flags = flags, .surface = surface, .serial = ++serial,
		.segment = segment, .buffer = buffer, .offset = offset,
		.stride = stride, .n_rects = n,
	};

	send_msg(r, SF_PUT_IMAGE, &m, sizeof m, rects, n * sizeof *rects);
}

/* A small deterministic generator, so that a failure can be replayed. */
static uint32_t next_rand(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

/*
 * The server copies the union of overlapping damage once: the result must
 * be exactly what copying every rectangle in turn gives, in copy mode and
 * when a copied frame lands on a latched buffer (the rest of the latched
 * image is kept), with rectangles that overlap, nest, touch and repeat.
 */
TEST(overlapping_damage_is_copied_exactly)
{
	enum { W = 61, H = 37, STRIDE = W * 4 + 12 };
	const size_t buf_size = (size_t)STRIDE * H;
	static uint32_t model[W * H];
	struct sf_rect rects[SF_MAX_RECTS];
	uint32_t seed = 12345;
	uint8_t msg[SF_MAX_MESSAGE];
	struct hseg h;
	struct sf_peer *r;

	begin(NULL);
	/* Two buffers to present from, a third to read back into; the first
	 * 16 bytes (the nonce) are left alone. */
	hseg_make(&h, SF_SHM_MEMFD, 64 + 3 * buf_size);
	r = raw_ready();
	attach(r, &h, 1, SF_SEGMENT_WRITABLE);
	create_surface(r, 1, W, H, SF_PRESENT_LATCH);
	roundtrip(r);
	memset(model, 0, sizeof model);
	for (uint32_t frame = 1; frame <= 60; frame++) {
		uint64_t off = 64 + (frame % 2) * buf_size;
		uint8_t *buf = (uint8_t *)h.seg.map + off;
		uint8_t *back = (uint8_t *)h.seg.map + 64 + 2 * buf_size;
		bool copy = next_rand(&seed) % 3 != 0;
		uint32_t n = 1 + next_rand(&seed) % (frame % 10 == 0 ? 256 : 12);
		struct sf_rect all = { 0, 0, W, H };

		for (uint32_t y = 0; y < H; y++)
			for (uint32_t x = 0; x < W; x++) {
				uint32_t v = pattern(x, y, frame);

				memcpy(buf + (size_t)y * STRIDE + x * 4, &v, 4);
			}
		for (uint32_t i = 0; i < n; i++) {
			struct sf_rect *d = &rects[i];

			d->x = next_rand(&seed) % W;
			d->y = next_rand(&seed) % H;
			d->width = 1 + next_rand(&seed) % (W - d->x);
			d->height = 1 + next_rand(&seed) % (H - d->y);
			if (i > 0 && next_rand(&seed) % 4 == 0)
				*d = rects[next_rand(&seed) % i]; /* repeated */
		}
		if (frame % 7 == 0)
			rects[n - 1] = all;
		put_image_flags(r, copy ? SF_PUT_IMAGE_COPY : 0, 1, 1, frame,
		                off, STRIDE, rects, n);
		/* What the surface must hold now. */
		for (uint32_t y = 0; y < H; y++)
			for (uint32_t x = 0; x < W; x++) {
				bool in = !copy;

				for (uint32_t i = 0; i < n && !in; i++)
					in = x >= rects[i].x && x < rects[i].x + rects[i].width &&
					     y >= rects[i].y && y < rects[i].y + rects[i].height;
				if (in)
					model[y * W + x] = pattern(x, y, frame);
			}
		roundtrip(r);
		memset(back, 0, buf_size);
		get_image(r, 1, all, 1, 64 + 2 * buf_size, STRIDE);
		for (;;) {
			struct sf_header hdr;

			ASSERT_EQ(sf__peer_next_event(r, &hdr, msg, 5000), 1);
			ASSERT_MSG(hdr.type != SF_ERROR, "frame %u: ERROR", frame);
			if (hdr.type == SF_IMAGE)
				break;
		}
		for (uint32_t y = 0; y < H; y++)
			for (uint32_t x = 0; x < W; x++) {
				uint32_t v;

				memcpy(&v, back + (size_t)y * STRIDE + x * 4, 4);
				ASSERT_MSG(v == model[y * W + x], "frame %u (%s, %u "
				           "rectangles): pixel %u,%u is %08x, %08x "
				           "expected", frame, copy ? "copy" : "latch", n,
				           x, y, v, model[y * W + x]);
			}
	}
	raw_close(r);
	hseg_free(&h);
	end();
}

/* The server maps a segment attached without WRITABLE read-only: a
 * readback into it must be refused before anything is written (a write
 * there would kill the server), for every kind, and the server serves the
 * others as before. */
TEST(readback_into_a_segment_not_attached_writable_is_bad_segment)
{
	static const int kinds[] = { SF_SHM_MEMFD, SF_SHM_POSIX, SF_SHM_SYSV };
	struct sf_rect all = { 0, 0, 16, 16 };
	char text[SF_MAX_TEXT + 1];

	begin(NULL);
	for (size_t k = 0; k < 3; k++) {
		struct hseg h;
		struct sf_peer *r = raw_ready();

		hseg_make(&h, kinds[k], 4096);
		attach(r, &h, 1, 0);
		create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
		roundtrip(r);
		if (h.seg.kind == SF_SHM_POSIX)
			h.seg.name[0] = '\0'; /* the server removed it */
		get_image(r, 1, all, 1, 0, 64);
		expect_error_text(r, SF_ERR_BAD_SEGMENT, SF_GET_IMAGE, text);
		ASSERT_CONTAINS(text, "WRITABLE");
		hseg_free(&h);
		check_unharmed("after a readback into a read-only segment");
	}
	end();
}

/* SYNC round trip of the good client's own raw connection, in ns. */
static uint64_t sync_latency(struct sf_peer *r)
{
	uint64_t t0 = now_ns();

	roundtrip(r);
	return now_ns() - t0;
}

/*
 * The attacker of work_amplification_does_not_delay_other_clients, in its
 * own process: a 4096x4096 surface, and requests that each name the whole
 * surface many times over: PUT_IMAGE with 256 whole-surface rectangles
 * and the COPY flag (over a latched buffer, too), and readbacks of the
 * whole surface into its segment.  Copied rectangle by rectangle, one
 * such PUT_IMAGE is 16 GiB of memcpy.  Exits 0 once all were answered.
 */
static void amplifier(int ready_fd)
{
	enum { W = 4096, H = 4096 };
	const size_t size = (size_t)W * H * 4;
	static struct sf_rect rects[SF_MAX_RECTS];
	struct sf_rect all = { 0, 0, W, H };
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_header hdr;
	uint64_t frame_ns = 0;
	struct hseg h;
	struct sf_peer *r;

	for (uint32_t i = 0; i < SF_MAX_RECTS; i++)
		rects[i] = all;
	hseg_make(&h, SF_SHM_MEMFD, 2 * size);
	/* Rendered into, as a client does: its pages exist. */
	memset((uint8_t *)h.seg.map + SF_NONCE_SIZE, 0x5a,
	       h.seg.size - SF_NONCE_SIZE);
	r = raw_ready();
	attach(r, &h, 1, SF_SEGMENT_WRITABLE);
	create_surface(r, 1, W, H, SF_PRESENT_LATCH);
	/* Honest frames from both buffers and a readback first: the server's
	 * copy of the surface and its mappings of our pages exist (making
	 * them costs page faults whatever the damage). */
	put_image_flags(r, SF_PUT_IMAGE_COPY, 1, 1, 1, 0, W * 4, &all, 1);
	put_image_flags(r, SF_PUT_IMAGE_COPY, 1, 1, 2, size, W * 4, &all, 1);
	get_image(r, 1, all, 1, size, W * 4);
	roundtrip(r);
	/* What an honest whole frame costs here and now: the yardstick. */
	for (int i = 0; i < 3; i++) {
		uint64_t t0 = now_ns(), t;

		put_image_flags(r, SF_PUT_IMAGE_COPY, 1, 1, 1, 0, W * 4, &all, 1);
		roundtrip(r);
		t = now_ns() - t0;
		frame_ns = t > frame_ns ? t : frame_ns;
	}
	ASSERT_EQ(write(ready_fd, &frame_ns, sizeof frame_ns),
	          (ssize_t)sizeof frame_ns);
	for (int i = 0; i < 12; i++) {
		/* Latch one buffer, then copy the other over it. */
		put_image_flags(r, 0, 1, 1, 1, 0, W * 4, &all, 1);
		put_image_flags(r, SF_PUT_IMAGE_COPY, 1, 1, 2, size, W * 4, rects,
		                SF_MAX_RECTS);
		get_image(r, 1, all, 1, size, W * 4);
	}
	send_sync(r, 9);
	for (;;) {
		ASSERT_EQ(sf__peer_next_event(r, &hdr, msg, 60000), 1);
		ASSERT_MSG(hdr.type != SF_ERROR, "the attacker got an ERROR");
		if (hdr.type == SF_SYNC_DONE)
			break;
	}
	raw_close(r);
	hseg_free(&h);
}

/*
 * Attack: one 4 KiB request that makes the server copy a surface hundreds
 * of times.  Each request must cost at most about one copy of its surface,
 * and a client's copies per wakeup are budgeted, so that another client's
 * SYNC is answered within a bound far below what the naive copies take:
 * 1 s, or 32 honest whole frames measured by the attacker just before
 * (on a loaded machine, or under a sanitizer), where copying each
 * rectangle takes 256 frames per request and several requests per wakeup
 * (seconds even on an idle machine).
 */
TEST(work_amplification_does_not_delay_other_clients)
{
	uint64_t bound = 1000000000ull, frame_ns = 0;
	uint64_t base = 0, worst = 0, t_start;
	struct sf_peer *probe;
	int p[2], status, samples = 0;
	pid_t pid;

	begin(NULL);
	probe = raw_ready();
	for (int i = 0; i < 20; i++) {
		uint64_t t = sync_latency(probe);

		base = t > base ? t : base;
	}
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(p[0]);
		sf_test_atfail = NULL;
		amplifier(p[1]);
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(read(p[0], &frame_ns, sizeof frame_ns),
	          (ssize_t)sizeof frame_ns);
	close(p[0]);
	if (32 * frame_ns > bound)
		bound = 32 * frame_ns;
	t_start = now_ns();
	/* Bounded: the attack takes well under a second once bounded. */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		uint64_t t = sync_latency(probe);

		worst = t > worst ? t : worst;
		samples++;
		ASSERT_MSG(worst < bound && now_ns() - t_start < 30 * bound,
		           "a SYNC took %.3f s while another client made the "
		           "server copy, the bound is %.3f s (before: %.3f ms at "
		           "most; a whole frame: %.1f ms)", (double)worst / 1e9,
		           (double)bound / 1e9, (double)base / 1e6,
		           (double)frame_ns / 1e6);
		usleep(2000);
	}
	ASSERT_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	           "the attacker failed (status 0x%x)", status);
	printf("#   SYNC: %.2f ms at most before, %.2f ms at most during %d "
	       "samples of the attack (%.0f ms; a whole frame %.1f ms, bound "
	       "%.0f ms)\n", (double)base / 1e6, (double)worst / 1e6, samples,
	       (double)(now_ns() - t_start) / 1e6, (double)frame_ns / 1e6,
	       (double)bound / 1e6);
	fflush(stdout);
	roundtrip(probe);
	raw_close(probe);
	end();
}

/* VmHWM (peak resident memory) of the server, in KiB. */
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

/* Reads everything the server sends until it closes: the number of
 * SYNC_DONE, and the ERROR if one came (code 0: none). */
static unsigned long drain_events(struct sf_peer *r, uint32_t *code, char *text)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	unsigned long syncs = 0;
	struct sf_header hdr;
	struct sf_error e;

	*code = 0;
	text[0] = '\0';
	while (sf__peer_next_event(r, &hdr, msg, 5000) == 1) {
		if (hdr.type == SF_SYNC_DONE)
			syncs++;
		if (hdr.type == SF_ERROR) {
			ASSERT_EQ(sf__decode_error(msg, hdr.length, &e, text, NULL), 0);
			*code = e.code;
		}
	}
	return syncs;
}

/*
 * Attack: clients that send requests and never read the answers each hold
 * up to max_output of the server's memory (64 MiB by default), and there
 * may be hundreds of them.  With --max-output-total the events queued for
 * all clients together stay bounded: over it, the client holding the most
 * gets ERROR SLOW (its unsent events dropped at once), the others keep
 * going, and a client that reads its events is never the one failed.
 */
TEST(clients_that_never_read_share_one_output_budget)
{
	enum { HOGS = 6, ROUNDS = 128, BATCH = 4096 };
	const char *const args[] = { "--max-output-total", "4M", NULL };
	struct sf_sync m = { .serial = 5 };
	struct sf_peer *hog[HOGS];
	bool open[HOGS];
	uint8_t one[64], *batch;
	char text[SF_MAX_TEXT + 1];
	unsigned long answers;
	long hwm0, grown_kb;
	int failed = 0, told = 0;
	uint32_t code;
	size_t n;

	begin(args);
	n = sf__peer_encode(one, sizeof one, SF_SYNC, &m, sizeof m, NULL, 0);
	batch = malloc(n * BATCH);
	ASSERT(batch != NULL);
	for (int i = 0; i < BATCH; i++)
		memcpy(batch + (size_t)i * n, one, n);
	hwm0 = server_hwm_kb();
	for (int h = 0; h < HOGS; h++) {
		hog[h] = raw_ready();
		open[h] = true;
	}
	/* 8 MiB of SYNC each, side by side, never reading an answer: the
	 * server's share of them (what the socket buffers do not hold) is
	 * over the total, but each alone is far under max_output. */
	for (int round = 0; round < ROUNDS; round++) {
		for (int h = 0; h < HOGS; h++)
			if (open[h] && raw_send(hog[h], batch, n * BATCH) < 0)
				open[h] = false;
		if (round % 32 == 31)
			check_serving("while clients do not read their events");
	}
	grown_kb = server_hwm_kb() - hwm0;
	for (int h = 0; h < HOGS; h++) {
		ASSERT_EQ(shutdown(hog[h]->fd, SHUT_WR), 0);
		answers = drain_events(hog[h], &code, text);
		if (code) {
			ASSERT_MSG(code == SF_ERR_SLOW, "ERROR %s: %s",
			           sf__error_name(code), text);
			ASSERT_CONTAINS(text, "--max-output-total");
			told++;
		}
		/* A failed client that went on sending may be closed before
		 * its ERROR could be written: then answers are missing. */
		if (code || answers < (unsigned long)ROUNDS * BATCH)
			failed++;
		else
			ASSERT_EQ(answers, (unsigned long)ROUNDS * BATCH);
		raw_close(hog[h]);
	}
	printf("#   %d of %d clients failed, %d read their ERROR; server peak "
	       "memory grew by %ld KiB\n", failed, HOGS, told, grown_kb);
	fflush(stdout);
	ASSERT_GT(told, 0);
#ifndef __SANITIZE_ADDRESS__
	/* (AddressSanitizer keeps freed memory in quarantine: not there.) */
	ASSERT_MSG(grown_kb < 12 * 1024, "the server's peak memory grew by %ld "
	           "KiB while clients did not read", grown_kb);
#endif

	/* The accounting came back down: a client that reads its answers
	 * late, but holds less than the total, is not failed. */
	hog[0] = raw_ready();
	for (int i = 0; i < 16; i++)
		ASSERT_EQ(raw_send(hog[0], batch, n * BATCH), 0);
	ASSERT_EQ(shutdown(hog[0]->fd, SHUT_WR), 0);
	answers = drain_events(hog[0], &code, text);
	ASSERT_MSG(code == 0, "ERROR %s: %s", sf__error_name(code), text);
	ASSERT_EQ(answers, 16ul * BATCH);
	raw_close(hog[0]);
	free(batch);
	end();
}
