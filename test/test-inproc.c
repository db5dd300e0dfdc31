/*
 * The server's request handling on its real core, in this process
 * (fixture-server.h): clients speak the wire over socketpairs, the test
 * turns the server's loop, and then looks inside.  A frame's pixels are
 * checked in the server's own surface, byte for byte; RELEASE and
 * PRESENTED must name the right buffer and serial; and what the server
 * counts (bytes mapped, surface memory, queued output, fds, references to
 * a segment, its mappings in this process) must come back to what it was
 * when a client goes, however it goes.  The integration tests see the
 * server only from outside; these see its accounting.
 */
#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "display.h"
#include "fixture-server.h"
#include "harness.h"
#include "raw-peer.h"

#define W 32
#define H 24
#define STRIDE (W * 4)
#define FRAME_BYTES ((size_t)STRIDE * H)
#define SEG_SIZE (64u << 10)
#define BUF_OFFSET(i) (4096u + (uint64_t)(i) * FRAME_BYTES)
#define MAX_PEERS 4
#define ITERATIONS (1u << 16)

/* ---- the server and its clients ----------------------------------------- */

struct peer {
	struct sf_fixture_peer end;
	struct sf_welcome welcome;
	uint8_t in[1 << 18];   /* what the server sent, not yet looked at */
	size_t in_len;
	bool closed;
	bool deaf;             /* reads nothing the server sends */
};

static struct sf_fixture fx;
static struct peer peers[MAX_PEERS];
static int n_peers;

/* Reads what every open peer was sent.  True when anything came. */
static bool drain_all(void *data)
{
	bool got = false;

	(void)data;
	for (int i = 0; i < n_peers; i++) {
		struct peer *p = &peers[i];

		while (!p->closed && !p->deaf && p->in_len < sizeof p->in) {
			ssize_t n = recv(p->end.fd, p->in + p->in_len,
			                 sizeof p->in - p->in_len, MSG_DONTWAIT);

			if (n <= 0)
				break;
			p->in_len += (size_t)n;
			got = true;
		}
	}
	return got;
}

static void run(void)
{
	ASSERT_EQ(sf_fixture_run(&fx, ITERATIONS, drain_all, NULL), 0);
}

/* The server with these limits (NULL: the fixture's). */
static void start_with(const struct sf_limits *limits,
                       const struct sf_server_limits *glimits)
{
	memset(peers, 0, sizeof peers);
	n_peers = 0;
	ASSERT_EQ(sf_fixture_init(&fx, limits, glimits, getuid()), 0);
}

static void start(void)
{
	start_with(NULL, NULL);
}

/* Every peer closes; the server must then count nothing at all. */
static void finish(void)
{
	char why[160];

	for (int i = 0; i < n_peers; i++)
		if (!peers[i].closed) {
			close(peers[i].end.fd);
			peers[i].closed = true;
		}
	run();
	ASSERT_MSG(sf_fixture_fini(&fx, why, sizeof why) == 0, "%s", why);
}

static struct peer *peer_connect(void)
{
	struct peer *p;

	ASSERT_LT(n_peers, MAX_PEERS);
	p = &peers[n_peers++];
	ASSERT_EQ(sf_fixture_connect(&fx, &p->end, 0), 0);
	return p;
}

static void peer_close(struct peer *p)
{
	close(p->end.fd);
	p->closed = true;
}

/* Sends one message (fd >= 0 rides on it); the server takes it all. */
static void send_msg(struct peer *p, uint16_t type, void *fixed,
                     size_t fixed_size, const void *tail, size_t tail_len,
                     int fd)
{
	static uint8_t buf[SF_MAX_MESSAGE];
	size_t len = sf__peer_encode(buf, sizeof buf, type, fixed, fixed_size,
	                             tail, tail_len);

	ASSERT_EQ(sf_fixture_send(&fx, &p->end, buf, len, fd, 16, drain_all,
	                          NULL), (ssize_t)len);
}

/* Raw bytes (half a message, pixels). */
static void send_bytes(struct peer *p, const void *buf, size_t len)
{
	ASSERT_EQ(sf_fixture_send(&fx, &p->end, buf, len, -1, 16, drain_all,
	                          NULL), (ssize_t)len);
}

/* Takes the next whole event from what p was sent: its header in *hdr
 * and its bytes in msg (SF_MAX_MESSAGE).  False when none is complete. */
static bool next_event(struct peer *p, struct sf_header *hdr, uint8_t *msg)
{
	if (p->in_len < sizeof *hdr)
		return false;
	memcpy(hdr, p->in, sizeof *hdr);
	ASSERT_MSG(hdr->length >= sizeof *hdr && hdr->length <= SF_MAX_MESSAGE,
	           "the server sent a bad header (type 0x%x, length %u)",
	           hdr->type, hdr->length);
	if (p->in_len < hdr->length)
		return false;
	memcpy(msg, p->in, hdr->length);
	memmove(p->in, p->in + hdr->length, p->in_len - hdr->length);
	p->in_len -= hdr->length;
	return true;
}

/* Runs the server; the next event p gets must be of this type (an ERROR
 * instead is shown with its text).  Its length is returned. */
static uint32_t expect_event(struct peer *p, uint16_t type, uint8_t *msg)
{
	struct sf_header hdr;

	run();
	ASSERT_MSG(next_event(p, &hdr, msg), "no %s arrived",
	           sf__type_name(type));
	if (hdr.type == SF_ERROR && type != SF_ERROR) {
		char text[SF_MAX_TEXT + 1] = "";
		struct sf_error e;

		sf__decode_error(msg, hdr.length, &e, text, NULL);
		FAIL("waiting for %s: ERROR %s: %s", sf__type_name(type),
		     sf__error_name(e.code), text);
	}
	ASSERT_MSG(hdr.type == type, "expected %s, got %s",
	           sf__type_name(type), sf__type_name(hdr.type));
	return hdr.length;
}

/* Nothing more was sent to p. */
static void expect_quiet(struct peer *p)
{
	run();
	ASSERT_MSG(p->in_len == 0, "%zu bytes more arrived (type 0x%x)",
	           p->in_len, p->in_len >= 2 ? p->in[0] | p->in[1] << 8 : 0);
}

/* The server failed p with this code (naming a request of this type). */
static void expect_error(struct peer *p, uint32_t code, uint16_t type)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	char text[SF_MAX_TEXT + 1];
	struct sf_error e;
	uint32_t len = expect_event(p, SF_ERROR, msg);

	ASSERT_EQ(sf__decode_error(msg, len, &e, text, NULL), 0);
	ASSERT_MSG(e.code == code, "expected ERROR %s, got %s: %s",
	           sf__error_name(code), sf__error_name(e.code), text);
	ASSERT_EQ(e.request_type, type);
}

/* A peer past its HELLO, which said this minor version. */
static struct peer *peer_ready_minor(uint16_t minor)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	struct peer *p = peer_connect();
	uint8_t hello[256];
	size_t n = sf__peer_hello(hello, sizeof hello, NULL);
	uint32_t len;

	memcpy(hello + offsetof(struct sf_hello, minor), &minor, sizeof minor);
	send_bytes(p, hello, n);
	len = expect_event(p, SF_WELCOME, msg);
	ASSERT_EQ(sf__decode_welcome(msg, len, &p->welcome, NULL), 0);
	return p;
}

static struct peer *peer_ready(void)
{
	return peer_ready_minor(SF_VERSION_MINOR);
}

/* ---- what the clients do ------------------------------------------------ */

/* A pixel no neighbour shares, different per frame. */
static uint32_t pattern(uint32_t x, uint32_t y, uint32_t frame)
{
	uint32_t v = x * 0x9e3779b1u ^ y * 0x85ebca77u ^ frame * 0xc2b2ae3du;

	v ^= v >> 15;
	v *= 0x2c1b3c6du;
	return v ^ (v >> 12);
}

static void fill(uint8_t *px, uint32_t frame)
{
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			uint32_t v = pattern(x, y, frame);

			memcpy(px + (size_t)y * STRIDE + x * 4, &v, 4);
		}
}

/* Buffer i (0-based) of a segment. */
static uint8_t *buf_at(struct sf_segment *seg, unsigned i)
{
	return (uint8_t *)seg->map + BUF_OFFSET(i);
}

/* A memfd segment made as the library makes it, attached with its proof
 * for p's challenge. */
static void attach_memfd(struct peer *p, struct sf_segment *seg, uint32_t id)
{
	struct sf_segment_msg m = { .id = id, .kind = SF_SHM_MEMFD,
	                            .size = SEG_SIZE, .shmid = -1 };

	ASSERT_EQ(sf__segment_create(seg, SF_SHM_MEMFD, SEG_SIZE), 0);
	ASSERT_EQ(sf__random(m.nonce, sizeof m.nonce), 0);
	sf__segment_write_proof(seg, m.nonce, p->welcome.challenge);
	send_msg(p, SF_ATTACH_SEGMENT, &m, sizeof m, NULL, 0, seg->fd);
}

static void create_surface(struct peer *p, uint32_t id, uint32_t mode)
{
	struct sf_create_surface m = {
		.id = id, .width = W, .height = H,
		.format = SF_FORMAT_ARGB8888, .present_mode = mode,
	};

	send_msg(p, SF_CREATE_SURFACE, &m, sizeof m, NULL, 0, -1);
}

/* PUT_IMAGE of buffer (1-based) of segment at BUF_OFFSET(buffer - 1). */
static void put_shm(struct peer *p, uint32_t surface, uint32_t segment,
                    uint32_t buffer, uint32_t serial,
                    const struct sf_rect *damage, uint32_t n)
{
	struct sf_put_image m = {
		.surface = surface, .serial = serial, .segment = segment,
		.buffer = buffer, .offset = BUF_OFFSET(buffer - 1),
		.stride = STRIDE, .n_rects = n,
	};

	send_msg(p, SF_PUT_IMAGE, &m, sizeof m, damage, n * sizeof *damage, -1);
}

/* The next event answers a PUT_IMAGE of surface: a RELEASE of buffer
 * (serial: the PUT_IMAGE that sent it) or a PRESENTED of serial, shown
 * (buffer 0). */
/* Buffer (1-based) of segment seg_id (seg) filled with frame's pattern
 * and presented whole on surface with serial. */
static void present(struct peer *p, struct sf_segment *seg, uint32_t seg_id,
                    uint32_t surface, uint32_t buffer, uint32_t frame,
                    uint32_t serial)
{
	struct sf_rect all = { 0, 0, W, H };

	fill(buf_at(seg, buffer - 1), frame);
	put_shm(p, surface, seg_id, buffer, serial, &all, 1);
}

static void expect_answer(struct peer *p, uint16_t type, uint32_t surface,
                          uint32_t buffer, uint32_t serial)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	uint32_t len = expect_event(p, type, msg);
	uint32_t got_surface, got_buffer = 0, got_serial;

	if (type == SF_RELEASE) {
		struct sf_release ev;

		ASSERT_EQ(sf__decode_release(msg, len, &ev, NULL), 0);
		got_surface = ev.surface;
		got_buffer = ev.buffer;
		got_serial = ev.serial;
	} else {
		struct sf_presented ev;

		ASSERT_EQ(sf__decode_presented(msg, len, &ev, NULL), 0);
		ASSERT_EQ(ev.flags, 0);
		got_surface = ev.surface;
		got_serial = ev.serial;
	}
	ASSERT_EQ(got_surface, surface);
	ASSERT_EQ(got_buffer, buffer);
	ASSERT_EQ(got_serial, serial);
}

static void expect_presented(struct peer *p, uint32_t surface,
                             uint32_t serial)
{
	expect_answer(p, SF_PRESENTED, surface, 0, serial);
}

static void expect_release(struct peer *p, uint32_t surface, uint32_t buffer,
                           uint32_t serial)
{
	expect_answer(p, SF_RELEASE, surface, buffer, serial);
}

/* ---- what the server holds ---------------------------------------------- */

static struct sf_client *client_of(struct peer *p)
{
	struct sf_client *c = sf_fixture_client(&fx, &p->end);

	ASSERT_MSG(c != NULL, "the server no longer has this client");
	return c;
}

static struct sf_surface *surface_of(struct peer *p, uint32_t id)
{
	struct sf_surface *s = sfs__surface_find(client_of(p), id);

	ASSERT_MSG(s != NULL, "the server has no surface %u", id);
	return s;
}

/* The server's surface shows exactly these pixels (rows of STRIDE). */
static void expect_pixels(struct peer *p, uint32_t id, const uint8_t *want)
{
	uint32_t stride;
	const uint8_t *px = sfs__surface_pixels(surface_of(p, id), &stride);

	ASSERT(px != NULL);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			ASSERT_MSG(memcmp(px + (size_t)y * stride + x * 4,
			                  want + (size_t)y * STRIDE + x * 4, 4) == 0,
			           "surface %u differs first at (%u, %u)", id, x, y);
}

/* Mappings of seg's file in this process (ours and the server's). */
static int mappings_of(const struct sf_segment *seg)
{
	char line[512], ino[32];
	struct stat st;
	FILE *f;
	int n = 0;

	ASSERT_EQ(fstat(seg->fd, &st), 0);
	snprintf(ino, sizeof ino, " %lu ", (unsigned long)st.st_ino);
	f = fopen("/proc/self/maps", "re");
	ASSERT(f != NULL);
	while (fgets(line, sizeof line, f))
		if (strstr(line, ino) && strstr(line, "memfd:"))
			n++;
	fclose(f);
	return n;
}

/* The server's fds in use come back to want: a Unix connection's socket
 * is closed on a closer thread, so that takes a moment. */
static void wait_fds_used(unsigned want)
{
	unsigned n = 0;

	for (int i = 0; i < 200; i++) {
		run();
		n = sfs__fds_used(&fx.server);
		if (n == want)
			return;
		usleep(10000);
	}
	FAIL("the server counts %u fds in use, %u expected", n, want);
}

/* ---- frames --------------------------------------------------------------- */

TEST(handshake_announces_the_servers_limits_and_challenge)
{
	struct peer *p;
	struct sf_client *c;

	start();
	p = peer_ready();
	c = client_of(p);
	ASSERT_EQ(c->state, SF_CLIENT_READY);
	ASSERT_EQ(p->welcome.client_id, c->id);
	ASSERT_EQ(p->welcome.max_surfaces, sf_fixture_limits.max_surfaces);
	ASSERT_EQ(p->welcome.max_segments, sf_fixture_limits.max_segments);
	ASSERT_EQ(p->welcome.max_mapped, sf_fixture_limits.max_mapped);
	ASSERT_EQ(p->welcome.max_inflight, sf_fixture_limits.max_inflight);
	ASSERT(memcmp(p->welcome.challenge, c->challenge,
	              sizeof c->challenge) == 0);
	ASSERT_EQ(fx.server.n_clients, 1);
	expect_quiet(p);
	finish();
}

TEST(a_latched_frame_is_shown_exactly_and_released_when_replaced)
{
	static uint8_t want[FRAME_BYTES];
	struct sf_segment seg;
	struct sf_shmseg *ss;
	struct peer *p;

	start();
	p = peer_ready();
	attach_memfd(p, &seg, 7);
	create_surface(p, 1, SF_PRESENT_LATCH);
	present(p, &seg, 7, 1, 1, 1, 100);
	expect_presented(p, 1, 100);
	expect_quiet(p); /* nothing released: the buffer is latched */
	fill(want, 1);
	expect_pixels(p, 1, want);
	/* Latched, not copied: the table's reference and the surface's. */
	ss = sfs__shmseg_find(client_of(p), 7);
	ASSERT(ss != NULL);
	ASSERT_EQ(ss->refs, 2);
	ASSERT(surface_of(p, 1)->latched == ss);
	ASSERT_EQ(client_of(p)->res.mapped, SEG_SIZE);
	ASSERT_EQ(fx.server.mapped_total, SEG_SIZE);
	ASSERT_EQ(fx.server.surface_memory_total, (uint64_t)W * H * 4);
	ASSERT_EQ(mappings_of(&seg), 2);

	/* The next frame in buffer 2 frees buffer 1, and shows. */
	present(p, &seg, 7, 1, 2, 2, 101);
	expect_release(p, 1, 1, 100);
	expect_presented(p, 1, 101);
	fill(want, 2);
	expect_pixels(p, 1, want);
	ASSERT_EQ(ss->refs, 2);
	expect_quiet(p);
	finish();
	ASSERT_EQ(mappings_of(&seg), 1);
	sf__segment_close(&seg);
}

TEST(copy_mode_copies_only_the_damage_and_releases_at_once)
{
	static uint8_t want[FRAME_BYTES], next[FRAME_BYTES];
	struct sf_rect damage[2] = { { 3, 2, 5, 4 }, { 20, 10, 12, 14 } };
	struct sf_segment seg;
	struct peer *p;

	start();
	p = peer_ready();
	attach_memfd(p, &seg, 1);
	create_surface(p, 9, SF_PRESENT_COPY);
	present(p, &seg, 1, 9, 1, 1, 1);
	expect_release(p, 9, 1, 1);
	expect_presented(p, 9, 1);
	fill(want, 1);
	expect_pixels(p, 9, want);

	/* A whole new image in the buffer, two rectangles of it damaged:
	 * the surface takes those and keeps the rest. */
	fill(buf_at(&seg, 0), 2);
	put_shm(p, 9, 1, 1, 2, damage, 2);
	expect_release(p, 9, 1, 2);
	expect_presented(p, 9, 2);
	fill(next, 2);
	for (int i = 0; i < 2; i++)
		for (uint32_t y = damage[i].y; y < damage[i].y + damage[i].height; y++)
			memcpy(want + (size_t)y * STRIDE + damage[i].x * 4,
			       next + (size_t)y * STRIDE + damage[i].x * 4,
			       damage[i].width * 4);
	/* Released: the client may draw into the buffer again at once. */
	fill(buf_at(&seg, 0), 3);
	expect_pixels(p, 9, want);
	/* Copied, never latched: only the client's table holds the segment. */
	ASSERT(surface_of(p, 9)->latched == NULL);
	ASSERT_EQ(sfs__shmseg_find(client_of(p), 1)->refs, 1);
	expect_quiet(p);
	finish();
	sf__segment_close(&seg);
}

/* ---- accounting ------------------------------------------------------------ */

TEST(a_detached_segment_stays_mapped_while_a_buffer_in_it_is_latched)
{
	struct sf_detach_segment d = { .id = 1 };
	struct sf_segment one, two;
	struct sf_shmseg *ss;
	struct peer *p;

	start();
	p = peer_ready();
	attach_memfd(p, &one, 1);
	attach_memfd(p, &two, 2);
	create_surface(p, 1, SF_PRESENT_LATCH);
	present(p, &one, 1, 1, 1, 1, 1);
	expect_presented(p, 1, 1);
	ss = sfs__shmseg_find(client_of(p), 1);
	ASSERT(ss != NULL);

	send_msg(p, SF_DETACH_SEGMENT, &d, sizeof d, NULL, 0, -1);
	expect_quiet(p);
	/* Out of the table, still mapped for the surface. */
	ASSERT(sfs__shmseg_find(client_of(p), 1) == NULL);
	ASSERT(surface_of(p, 1)->latched == ss);
	ASSERT_EQ(ss->refs, 1);
	ASSERT_EQ(client_of(p)->res.n_segments, 1);
	ASSERT_EQ(client_of(p)->res.mapped, 2 * SEG_SIZE);
	ASSERT_EQ(fx.server.mapped_total, 2 * SEG_SIZE);
	ASSERT_EQ(mappings_of(&one), 2);

	/* A frame from the other segment lets the last reference go. */
	present(p, &two, 2, 1, 1, 2, 2);
	expect_release(p, 1, 1, 1);
	expect_presented(p, 1, 2);
	ASSERT_EQ(client_of(p)->res.mapped, SEG_SIZE);
	ASSERT_EQ(fx.server.mapped_total, SEG_SIZE);
	ASSERT_EQ(mappings_of(&one), 1);
	finish();
	sf__segment_close(&one);
	sf__segment_close(&two);
}

/* One client dies in the middle of everything a frame can leave (a
 * latched buffer, answers queued and never read, an inline frame half
 * sent); the server's totals return to what the client that stays holds,
 * and its fds to what they were. */
TEST(a_client_dying_mid_frame_gives_back_everything_it_held)
{
	static uint8_t syncs[2000 * sizeof(struct sf_sync)];
	static uint8_t half[FRAME_BYTES / 2], frame[FRAME_BYTES];
	struct sf_rect all = { 0, 0, W, H };
	struct sf_put_image inl = { .surface = 2, .serial = 5, .n_rects = 1 };
	struct sf_sync sync = { .serial = 1 };
	struct sf_segment good_seg, bad_seg;
	uint64_t mapped, surface_mem;
	struct peer *good, *bad;
	unsigned fds_used;
	size_t len = 0;

	start();
	good = peer_ready();
	attach_memfd(good, &good_seg, 1);
	create_surface(good, 1, SF_PRESENT_LATCH);
	present(good, &good_seg, 1, 1, 1, 1, 1);
	expect_presented(good, 1, 1);
	mapped = fx.server.mapped_total;
	surface_mem = fx.server.surface_memory_total;
	fds_used = sfs__fds_used(&fx.server);

	bad = peer_ready();
	attach_memfd(bad, &bad_seg, 1);
	create_surface(bad, 1, SF_PRESENT_LATCH);
	create_surface(bad, 2, SF_PRESENT_LATCH);
	present(bad, &bad_seg, 1, 1, 1, 3, 1);
	expect_presented(bad, 1, 1);
	ASSERT_EQ(sfs__shmseg_find(client_of(bad), 1)->refs, 2);
	ASSERT_EQ(fx.server.mapped_total, mapped + SEG_SIZE);
	ASSERT_EQ(mappings_of(&bad_seg), 2);
	ASSERT_EQ(fx.server.surface_memory_total, surface_mem + 2 * FRAME_BYTES);

	/* Answers it never reads, more than its socket holds ... */
	bad->deaf = true;
	setsockopt(bad->end.srv_fd, SOL_SOCKET, SO_SNDBUF, &(int){ 4096 },
	           sizeof(int));
	while (len < sizeof syncs)
		len += sf__peer_encode(syncs + len, sizeof syncs - len, SF_SYNC,
		                       &sync, sizeof sync, NULL, 0);
	send_bytes(bad, syncs, len);
	run();
	ASSERT_GT(fx.server.out_total, 0);
	/* ... and half an inline frame. */
	len = sf__peer_encode(syncs, sizeof syncs, SF_PUT_IMAGE, &inl,
	                      sizeof inl, &all, sizeof all);
	send_bytes(bad, syncs, len);
	send_bytes(bad, half, sizeof half);
	run();
	ASSERT(client_of(bad)->payload.active);
	peer_close(bad);
	run();

	ASSERT(sf_fixture_client(&fx, &bad->end) == NULL);
	ASSERT_EQ(fx.server.n_clients, 1);
	ASSERT_EQ(fx.server.mapped_total, mapped);
	ASSERT_EQ(fx.server.surface_memory_total, surface_mem);
	ASSERT_EQ(fx.server.out_total, 0);
	ASSERT_EQ(mappings_of(&bad_seg), 1);
	wait_fds_used(fds_used);
	/* The client that stayed is served as before. */
	present(good, &good_seg, 1, 1, 2, 4, 2);
	expect_release(good, 1, 1, 1);
	expect_presented(good, 1, 2);
	fill(frame, 4);
	expect_pixels(good, 1, frame);
	finish();
	sf__segment_close(&good_seg);
	sf__segment_close(&bad_seg);
}

/* An fd with a request that takes none fails the client; one whose
 * message never comes goes with its client.  Either way the fd budget
 * the connection used is back, and the fd is closed: the server lives in
 * this process, so the harness's count of open fds sees any it kept. */
TEST(fds_no_request_takes_are_closed_and_their_budget_returned)
{
	struct sf_sync sync = { .serial = 3 };
	struct sf_segment_msg m = { .id = 1, .kind = SF_SHM_MEMFD,
	                            .size = 4096, .shmid = -1 };
	struct sf_segment seg;
	uint8_t msg[128];
	unsigned fds_used;
	struct peer *p;
	size_t len;

	start();
	fds_used = sfs__fds_used(&fx.server);
	ASSERT_EQ(sf__segment_create(&seg, SF_SHM_MEMFD, 4096), 0);
	p = peer_ready();
	send_msg(p, SF_SYNC, &sync, sizeof sync, NULL, 0, seg.fd);
	expect_error(p, SF_ERR_UNEXPECTED_FD, SF_SYNC);
	peer_close(p);
	run();
	ASSERT_EQ(fx.server.n_clients, 0);
	wait_fds_used(fds_used);

	/* Half an ATTACH_SEGMENT, the memfd riding on it, then gone. */
	p = peer_ready();
	len = sf__peer_encode(msg, sizeof msg, SF_ATTACH_SEGMENT, &m, sizeof m,
	                      NULL, 0);
	ASSERT_EQ(sf_fixture_send(&fx, &p->end, msg, len / 2, seg.fd, 16,
	                          drain_all, NULL), (ssize_t)(len / 2));
	run();
	ASSERT_EQ(client_of(p)->in.q.fdq.count, 1);
	peer_close(p);
	run();
	ASSERT_EQ(fx.server.n_clients, 0);
	wait_fds_used(fds_used);
	finish();
	sf__segment_close(&seg);
}

/* ---- input and resize (2.2) ----------------------------------------------- */

#define T0 1000000007ull  /* an input's time, as a backend would pass it */

static void select_input(struct peer *p, uint32_t surface, uint32_t mask)
{
	struct sf_select_input m = { .surface = surface, .mask = mask };

	send_msg(p, SF_SELECT_INPUT, &m, sizeof m, NULL, 0, -1);
	/* In effect before the test's next input. */
	run();
}

static void resize(struct peer *p, uint32_t surface, uint32_t width,
                   uint32_t height, uint32_t serial)
{
	struct sf_resize_surface m = { .surface = surface, .width = width,
	                               .height = height, .serial = serial };

	send_msg(p, SF_RESIZE_SURFACE, &m, sizeof m, NULL, 0, -1);
}

/* What the library's decoder of an input event says of msg. */
static int decode_input(const uint8_t *msg, uint32_t len, uint16_t type)
{
	union {
		struct sf_key key;
		struct sf_pointer pointer;
		struct sf_pointer_button button;
		struct sf_pointer_axis axis;
		struct sf_focus focus;
		struct sf_configure configure;
	} u;

	switch (type) {
	case SF_KEY: return sf__decode_key(msg, len, &u.key, NULL);
	case SF_POINTER_MOTION:
	case SF_POINTER_ENTER:
	case SF_POINTER_LEAVE:
		return sf__decode_pointer(msg, len, &u.pointer, NULL);
	case SF_POINTER_BUTTON:
		return sf__decode_pointer_button(msg, len, &u.button, NULL);
	case SF_POINTER_AXIS:
		return sf__decode_pointer_axis(msg, len, &u.axis, NULL);
	case SF_FOCUS: return sf__decode_focus(msg, len, &u.focus, NULL);
	case SF_CONFIGURE:
		return sf__decode_configure(msg, len, &u.configure, NULL);
	}
	return -1;
}

/* The next event p gets is exactly want (size bytes, its header
 * excepted: the encoding fills it), byte for byte, and the library's
 * decoder takes it. */
static void expect_exact(struct peer *p, uint16_t type, void *want,
                         size_t size)
{
	static uint8_t msg[SF_MAX_MESSAGE], enc[256];
	uint32_t len = expect_event(p, type, msg);
	size_t n = sf__peer_encode(enc, sizeof enc, type, want, size, NULL, 0);

	ASSERT_EQ(len, n);
	for (size_t i = 0; i < n; i++)
		ASSERT_MSG(msg[i] == enc[i], "%s differs at byte %zu: 0x%02x, "
		           "0x%02x expected", sf__type_name(type), i, msg[i],
		           enc[i]);
	ASSERT_EQ(decode_input(msg, len, type), 0);
}

static void expect_key(struct peer *p, uint32_t surface, uint32_t keycode,
                       uint32_t keysym, uint32_t mods, uint8_t state,
                       uint8_t repeat, const char *text, uint64_t time_ns)
{
	struct sf_key k = { .surface = surface, .keycode = keycode,
	                    .keysym = keysym, .modifiers = mods,
	                    .time_ns = time_ns, .state = state,
	                    .repeat = repeat,
	                    .text_len = (uint8_t)strlen(text) };

	memcpy(k.text, text, k.text_len);
	expect_exact(p, SF_KEY, &k, sizeof k);
}

static void expect_pointer(struct peer *p, uint16_t type, uint32_t surface,
                           int32_t x, int32_t y, uint32_t buttons,
                           uint32_t mods, uint64_t time_ns)
{
	struct sf_pointer m = { .surface = surface, .x = x, .y = y,
	                        .buttons = buttons, .modifiers = mods,
	                        .time_ns = time_ns };

	expect_exact(p, type, &m, sizeof m);
}

static void expect_button(struct peer *p, uint32_t surface, int32_t x,
                          int32_t y, uint8_t button, uint8_t state,
                          uint32_t buttons, uint32_t mods, uint64_t time_ns)
{
	struct sf_pointer_button m = { .surface = surface, .x = x, .y = y,
	                               .button = button, .state = state,
	                               .buttons = buttons, .modifiers = mods,
	                               .time_ns = time_ns };

	expect_exact(p, SF_POINTER_BUTTON, &m, sizeof m);
}

static void expect_axis(struct peer *p, uint32_t surface, int32_t dx120,
                        int32_t dy120, uint64_t time_ns)
{
	struct sf_pointer_axis m = { .surface = surface, .dx120 = dx120,
	                             .dy120 = dy120, .time_ns = time_ns };

	expect_exact(p, SF_POINTER_AXIS, &m, sizeof m);
}

static void expect_focus(struct peer *p, uint32_t surface, uint32_t focused,
                         uint64_t time_ns)
{
	struct sf_focus m = { .surface = surface, .focused = focused,
	                      .time_ns = time_ns };

	expect_exact(p, SF_FOCUS, &m, sizeof m);
}

/* A CONFIGURE; time_ns 0: any time between after and now. */
static void expect_configure(struct peer *p, uint32_t surface, uint32_t width,
                             uint32_t height, uint32_t serial,
                             uint64_t time_ns, uint64_t after)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	uint32_t len = expect_event(p, SF_CONFIGURE, msg);
	struct sf_configure m;

	ASSERT_EQ(sf__decode_configure(msg, len, &m, NULL), 0);
	ASSERT_EQ(m.surface, surface);
	ASSERT_EQ(m.width, width);
	ASSERT_EQ(m.height, height);
	ASSERT_EQ(m.serial, serial);
	if (time_ns) {
		ASSERT_EQ(m.time_ns, time_ns);
	} else {
		ASSERT_GE(m.time_ns, after);
		ASSERT_LE(m.time_ns, sfs__now_ns());
	}
}

static struct sf_key_input key_input(uint32_t keycode, uint32_t keysym,
                                     uint32_t mods, bool pressed, bool repeat,
                                     const char *text)
{
	struct sf_key_input k = { .keycode = keycode, .keysym = keysym,
	                          .modifiers = mods, .pressed = pressed,
	                          .repeat = repeat };

	snprintf(k.text, sizeof k.text, "%s", text);
	return k;
}

/* Every kind of input once, as a backend reports it. */
static void every_input(struct sf_surface *s, uint64_t t)
{
	struct sf_key_input k = key_input(4, 'a', 0, true, false, "a");

	ASSERT_EQ(sfs__input_key(s, &k, t), 0);
	ASSERT_EQ(sfs__input_pointer(s, SF_POINTER_ENTER, 256, 256, 0, t), 0);
	ASSERT_EQ(sfs__input_pointer(s, SF_POINTER_MOTION, 512, 512, 0, t), 0);
	ASSERT_EQ(sfs__input_button(s, 512, 512, 1, true, 0, t), 0);
	ASSERT_EQ(sfs__input_button(s, 512, 512, 1, false, 0, t), 0);
	ASSERT_EQ(sfs__input_axis(s, 0, 120, t), 0);
	ASSERT_EQ(sfs__input_focus(s, true, t), 0);
	ASSERT_EQ(sfs__input_pointer(s, SF_POINTER_LEAVE, 512, 512, 0, t), 0);
}

/* A fresh server, one client of minor 2 and its surface id (W x H,
 * latched), as the server holds it. */
static struct sf_surface *start_one_surface(struct peer **p, uint32_t id)
{
	start();
	*p = peer_ready();
	create_surface(*p, id, SF_PRESENT_LATCH);
	run();
	return surface_of(*p, id);
}

TEST(welcome_offers_input_and_codecs_only_to_clients_that_know_them)
{
	struct peer *old, *now, *two;

	start();
	now = peer_ready();
	old = peer_ready_minor(1);
	two = peer_ready_minor(2);
	ASSERT_EQ(now->welcome.minor, SF_VERSION_MINOR);
	ASSERT(now->welcome.caps & SF_CAP_INPUT);
	/* Codecs (2.3) to a client that knows them, not to a 2.2 one. */
	ASSERT(now->welcome.caps & SF_CAP_LZ4);
	ASSERT(now->welcome.caps & SF_CAP_ZSTD);
	ASSERT(two->welcome.caps & SF_CAP_INPUT);
	ASSERT(!(two->welcome.caps & (SF_CAP_LZ4 | SF_CAP_ZSTD)));
	ASSERT(!(old->welcome.caps & (SF_CAP_LZ4 | SF_CAP_ZSTD)));
	ASSERT(now->welcome.caps & SF_CAP_RING);
	ASSERT(!(old->welcome.caps & SF_CAP_INPUT));
	ASSERT(old->welcome.caps & SF_CAP_RING);
	create_surface(old, 1, SF_PRESENT_LATCH);
	create_surface(now, 1, SF_PRESENT_LATCH);
	/* To a 2.1 client the 2.2 requests do not exist. */
	select_input(old, 1, SF_EVENT_ALL);
	expect_error(old, SF_ERR_UNKNOWN_TYPE, SF_SELECT_INPUT);
	select_input(now, 1, SF_EVENT_KEY);
	expect_quiet(now);
	ASSERT_EQ(surface_of(now, 1)->input.mask, SF_EVENT_KEY);
	finish();
}

TEST(each_input_event_arrives_with_its_exact_fields_when_selected)
{
	struct sf_key_input k;
	struct sf_surface *s;
	struct peer *p;

	s = start_one_surface(&p, 3);
	select_input(p, 3, SF_EVENT_ALL & ~(uint32_t)SF_EVENT_CONFIGURE);
	expect_quiet(p);

	/* Shift+A pressed, repeated, released: a release types nothing,
	 * whatever text the backend had. */
	k = key_input(4, 'a', SF_MOD_SHIFT, true, false, "A");
	ASSERT_EQ(sfs__input_key(s, &k, T0), 0);
	expect_key(p, 3, 4, 'a', SF_MOD_SHIFT, 1, 0, "A", T0);
	k.repeat = true;
	ASSERT_EQ(sfs__input_key(s, &k, T0 + 1), 0);
	expect_key(p, 3, 4, 'a', SF_MOD_SHIFT, 1, 1, "A", T0 + 1);
	k = key_input(4, 'a', SF_MOD_SHIFT, false, true, "A");
	ASSERT_EQ(sfs__input_key(s, &k, T0 + 2), 0);
	expect_key(p, 3, 4, 'a', SF_MOD_SHIFT, 0, 0, "", T0 + 2);
	/* Twelve bytes of text, the most, and a modifier bit the protocol
	 * does not define, which is not sent. */
	k = key_input(0, 0x20ac, 0x80 | SF_MOD_ALTGR, true, false,
	              "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac");
	ASSERT_EQ(sfs__input_key(s, &k, T0 + 3), 0);
	expect_key(p, 3, 0, 0x20ac, SF_MOD_ALTGR, 1, 0,
	           "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", T0 + 3);
	/* Text that is not UTF-8 is left out rather than break the client. */
	k = key_input(5, 'b', 0, true, false, "\xff");
	ASSERT_EQ(sfs__input_key(s, &k, T0 + 4), 0);
	expect_key(p, 3, 5, 'b', 0, 1, 0, "", T0 + 4);

	/* The pointer comes, presses, drags out of the surface, releases
	 * and goes; coordinates are 24.8 and may be negative. */
	ASSERT_EQ(sfs__input_pointer(s, SF_POINTER_ENTER, 5 * 256 + 128, 7 * 256,
	                             SF_MOD_CTRL, T0 + 10), 0);
	expect_pointer(p, SF_POINTER_ENTER, 3, 5 * 256 + 128, 7 * 256, 0,
	               SF_MOD_CTRL, T0 + 10);
	ASSERT_EQ(sfs__input_button(s, 6 * 256, 7 * 256, 1, true, 0, T0 + 11),
	          0);
	expect_button(p, 3, 6 * 256, 7 * 256, 1, 1, 0x1, 0, T0 + 11);
	ASSERT_EQ(sfs__input_button(s, 6 * 256, 7 * 256, 3, true, 0, T0 + 12),
	          0);
	expect_button(p, 3, 6 * 256, 7 * 256, 3, 1, 0x5, 0, T0 + 12);
	ASSERT_EQ(sfs__input_pointer(s, SF_POINTER_MOTION, -3 * 256 - 64,
	                             (H + 2) * 256, 0, T0 + 13), 0);
	expect_pointer(p, SF_POINTER_MOTION, 3, -3 * 256 - 64, (H + 2) * 256,
	               0x5, 0, T0 + 13);
	ASSERT_EQ(sfs__input_button(s, -3 * 256, 0, 1, false, SF_MOD_ALT,
	                            T0 + 14), 0);
	expect_button(p, 3, -3 * 256, 0, 1, 0, 0x4, SF_MOD_ALT, T0 + 14);
	ASSERT_EQ(sfs__input_button(s, -3 * 256, 0, 3, false, 0, T0 + 15), 0);
	expect_button(p, 3, -3 * 256, 0, 3, 0, 0, 0, T0 + 15);
	ASSERT_EQ(sfs__input_axis(s, -60, 240, T0 + 16), 0);
	expect_axis(p, 3, -60, 240, T0 + 16);
	ASSERT_EQ(sfs__input_focus(s, true, T0 + 17), 0);
	expect_focus(p, 3, 1, T0 + 17);
	ASSERT_EQ(sfs__input_focus(s, false, T0 + 18), 0);
	expect_focus(p, 3, 0, T0 + 18);
	ASSERT_EQ(sfs__input_pointer(s, SF_POINTER_LEAVE, 1, 2, 0, T0 + 19), 0);
	expect_pointer(p, SF_POINTER_LEAVE, 3, 1, 2, 0, 0, T0 + 19);
	expect_quiet(p);
	finish();
}

TEST(input_not_selected_sends_nothing)
{
	struct sf_surface *s;
	struct sf_key_input k = key_input(4, 'a', 0, true, false, "a");
	uint32_t sequence;
	struct peer *p;

	s = start_one_surface(&p, 1);
	sequence = client_of(p)->out.sequence;
	/* Nothing asked for yet (a new surface's mask is 0). */
	every_input(s, T0);
	ASSERT_EQ(sfs__input_configure(s, 100, 100, T0), 0);
	expect_quiet(p);
	ASSERT_EQ(client_of(p)->out.sequence, sequence);

	/* Keys only: the rest stays quiet. */
	select_input(p, 1, SF_EVENT_KEY);
	expect_quiet(p);
	every_input(s, T0 + 1);
	expect_key(p, 1, 4, 'a', 0, 1, 0, "a", T0 + 1);
	expect_quiet(p);

	/* The wheel alone. */
	select_input(p, 1, SF_EVENT_POINTER_AXIS);
	every_input(s, T0 + 2);
	expect_axis(p, 1, 0, 120, T0 + 2);
	expect_quiet(p);

	/* Crossing: ENTER and LEAVE, no motion. */
	select_input(p, 1, SF_EVENT_POINTER_CROSSING);
	every_input(s, T0 + 3);
	expect_pointer(p, SF_POINTER_ENTER, 1, 256, 256, 0, 0, T0 + 3);
	expect_pointer(p, SF_POINTER_LEAVE, 1, 512, 512, 0, 0, T0 + 3);
	expect_quiet(p);

	/* Back to nothing. */
	select_input(p, 1, 0);
	every_input(s, T0 + 4);
	ASSERT_EQ(sfs__input_key(s, &k, T0 + 4), 0);
	expect_quiet(p);
	finish();
}

TEST(buttons_held_are_counted_whether_or_not_buttons_are_selected)
{
	struct sf_surface *s;
	struct peer *p;

	s = start_one_surface(&p, 1);
	select_input(p, 1, SF_EVENT_POINTER_MOTION);
	ASSERT_EQ(sfs__input_button(s, 0, 0, 2, true, 0, T0), 0);
	ASSERT_EQ(sfs__input_pointer(s, SF_POINTER_MOTION, 9, 9, 0, T0 + 1), 0);
	expect_pointer(p, SF_POINTER_MOTION, 1, 9, 9, 0x2, 0, T0 + 1);

	select_input(p, 1, SF_EVENT_POINTER_MOTION | SF_EVENT_POINTER_BUTTON);
	/* A press of a button held, a release of one not held, a button the
	 * protocol has no number for: nothing. */
	ASSERT_EQ(sfs__input_button(s, 0, 0, 2, true, 0, T0 + 2), 0);
	ASSERT_EQ(sfs__input_button(s, 0, 0, 4, false, 0, T0 + 2), 0);
	ASSERT_EQ(sfs__input_button(s, 0, 0, 0, true, 0, T0 + 2), 0);
	ASSERT_EQ(sfs__input_button(s, 0, 0, SF_BUTTON_MAX + 1, true, 0, T0 + 2),
	          0);
	expect_quiet(p);
	ASSERT_EQ(s->input.buttons, 0x2);
	ASSERT_EQ(sfs__input_button(s, 0, 0, 5, true, 0, T0 + 3), 0);
	expect_button(p, 1, 0, 0, 5, 1, 0x12, 0, T0 + 3);
	ASSERT_EQ(sfs__input_button(s, 0, 0, 2, false, 0, T0 + 4), 0);
	expect_button(p, 1, 0, 0, 2, 0, 0x10, 0, T0 + 4);
	ASSERT_EQ(sfs__input_button(s, 0, 0, 2, false, 0, T0 + 5), 0);
	expect_quiet(p);
	ASSERT_EQ(s->input.buttons, 0x10);
	finish();
}

TEST(selecting_configure_sends_one_at_once_and_serials_grow)
{
	struct sf_surface *s;
	uint64_t before;
	struct peer *p;

	s = start_one_surface(&p, 2);
	before = sfs__now_ns();
	select_input(p, 2, SF_EVENT_CONFIGURE);
	/* The size the window shows: headless, the surface's own. */
	expect_configure(p, 2, W, H, 1, 0, before);
	expect_quiet(p);
	/* A mask that keeps CONFIGURE sends none again. */
	select_input(p, 2, SF_EVENT_CONFIGURE | SF_EVENT_KEY);
	expect_quiet(p);
	/* The window's size, unchanged, then changed. */
	ASSERT_EQ(sfs__input_configure(s, W, H, T0), 0);
	expect_quiet(p);
	ASSERT_EQ(sfs__input_configure(s, 100, 50, T0 + 1), 0);
	expect_configure(p, 2, 100, 50, 2, T0 + 1, 0);
	ASSERT_EQ(sfs__input_configure(s, 100, 50, T0 + 2), 0);
	expect_quiet(p);
	/* Not selected: remembered, not sent, and no serial taken; selected
	 * again: the size now, with the next serial. */
	select_input(p, 2, SF_EVENT_KEY);
	ASSERT_EQ(sfs__input_configure(s, 120, 60, T0 + 3), 0);
	expect_quiet(p);
	before = sfs__now_ns();
	select_input(p, 2, SF_EVENT_CONFIGURE);
	expect_configure(p, 2, 120, 60, 3, 0, before);
	/* A size beyond what the protocol can say is said as its limit. */
	ASSERT_EQ(sfs__input_configure(s, 0, 1u << 20, T0 + 4), 0);
	expect_configure(p, 2, 1, SF_MAX_DIMENSION, 4, T0 + 4, 0);

	/* Acknowledged at that size: the surface has it, counted so. */
	resize(p, 2, 120, 60, 3);
	expect_quiet(p);
	ASSERT_EQ(s->width, 120);
	ASSERT_EQ(s->height, 60);
	ASSERT_EQ(s->input.acked_serial, 3);
	ASSERT_EQ(client_of(p)->res.surface_memory, 120 * 60 * 4);
	ASSERT_EQ(fx.server.surface_memory_total, 120 * 60 * 4);
	/* The window still shows what it said last. */
	ASSERT_EQ(s->input.view_width, 1);
	ASSERT_EQ(s->input.view_height, SF_MAX_DIMENSION);
	finish();
}

/* A display whose frames wait (as a window's wait for its next vsync):
 * the headless one shows each frame at once, and a frame waiting is
 * what a resize must answer DISCARDED. */
static struct sf_display_ops held_ops;
static unsigned held_ready, held_resized;
static uint32_t held_width, held_height;

static void held_frame_ready(struct sf_display *d, struct sf_surface *s,
                             const struct sf_rect *damage, uint32_t n)
{
	(void)d;
	(void)s;
	(void)damage;
	(void)n;
	held_ready++;
}

static void held_surface_resized(struct sf_display *d, struct sf_surface *s)
{
	(void)d;
	held_resized++;
	held_width = s->width;
	held_height = s->height;
}

static void hold_frames(void)
{
	held_ops = *fx.server.display->ops;
	held_ops.frame_ready = held_frame_ready;
	held_ops.surface_resized = held_surface_resized;
	fx.server.display->ops = &held_ops;
	held_ready = held_resized = 0;
}

TEST(a_resize_discards_the_waiting_frame_and_releases_the_latched_buffer)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	struct sf_rect small = { 0, 0, 16, 8 };
	struct sf_put_image put = { .surface = 1, .serial = 11, .segment = 7,
	                            .buffer = 2, .offset = BUF_OFFSET(1),
	                            .stride = 16 * 4, .n_rects = 0 };
	struct sf_presented pr;
	struct sf_segment seg;
	struct sf_surface *s;
	struct sf_shmseg *ss;
	struct peer *p;
	uint32_t len, stride;

	start();
	hold_frames();
	p = peer_ready();
	attach_memfd(p, &seg, 7);
	create_surface(p, 1, SF_PRESENT_LATCH);
	present(p, &seg, 7, 1, 1, 1, 10);
	expect_quiet(p); /* latched, and waiting for the display */
	s = surface_of(p, 1);
	ss = sfs__shmseg_find(client_of(p), 7);
	ASSERT(s->latched == ss);
	ASSERT_EQ(ss->refs, 2);
	ASSERT_EQ(sfs__client_inflight(client_of(p)), 1);
	ASSERT_EQ(held_ready, 1);

	/* The same size only acknowledges: nothing is answered. */
	resize(p, 1, W, H, 0);
	expect_quiet(p);
	ASSERT_EQ(held_resized, 0);
	ASSERT(s->latched == ss);

	resize(p, 1, 16, 8, 0);
	len = expect_event(p, SF_PRESENTED, msg);
	ASSERT_EQ(sf__decode_presented(msg, len, &pr, NULL), 0);
	ASSERT_EQ(pr.surface, 1);
	ASSERT_EQ(pr.serial, 10);
	ASSERT_EQ(pr.flags, SF_PRESENTED_DISCARDED);
	expect_release(p, 1, 1, 10);
	expect_quiet(p);
	ASSERT(s->latched == NULL);
	ASSERT(sfs__surface_pixels(s, &stride) == NULL); /* zeros */
	ASSERT_EQ(ss->refs, 1);
	ASSERT_EQ(sfs__client_inflight(client_of(p)), 0);
	ASSERT_EQ(held_resized, 1);
	ASSERT_EQ(held_width, 16);
	ASSERT_EQ(held_height, 8);
	ASSERT_EQ(client_of(p)->res.surface_memory, 16 * 8 * 4);
	ASSERT_EQ(fx.server.surface_memory_total, 16 * 8 * 4);
	/* A headless view showed it 1:1 and goes on doing so. */
	ASSERT_EQ(s->input.view_width, 16);
	ASSERT_EQ(s->input.view_height, 8);

	/* A frame of the new size, its rows 16 pixels apart: all of it is
	 * the new size's damage (n_rects 0), latched as it is. */
	fill(buf_at(&seg, 1), 5);
	send_msg(p, SF_PUT_IMAGE, &put, sizeof put, NULL, 0, -1);
	expect_quiet(p);
	ASSERT(s->latched == ss);
	ASSERT_EQ(held_ready, 2);
	{
		const uint8_t *px = sfs__surface_pixels(s, &stride);

		ASSERT(px != NULL);
		ASSERT_EQ(stride, 16 * 4);
		ASSERT(memcmp(px, buf_at(&seg, 1), 16 * 4 * 8) == 0);
	}
	/* Damage outside 16x8 is now BAD_RECT. */
	small.x = 1;
	put.n_rects = 1;
	put.serial = 12;
	send_msg(p, SF_PUT_IMAGE, &put, sizeof put, &small, sizeof small, -1);
	expect_error(p, SF_ERR_BAD_RECT, SF_PUT_IMAGE);
	finish();
	sf__segment_close(&seg);
}

/* A client that does not read is failed SLOW by the input events queued
 * for it, as by any event; another client's events go on. */
TEST(a_client_that_does_not_read_its_events_is_failed_slow_others_go_on)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	struct sf_limits lim = sf_fixture_limits;
	struct sf_surface *deaf_s, *good_s;
	struct peer *deaf, *good;
	struct sf_pointer_axis ax;
	struct sf_header hdr;
	struct sf_error e;
	char text[SF_MAX_TEXT + 1];
	uint32_t sequence;
	int i, r = 0, got = 0, queued_deaf;

	lim.max_output = 16u << 10;
	start_with(&lim, NULL);
	deaf = peer_ready();
	good = peer_ready();
	create_surface(deaf, 1, SF_PRESENT_LATCH);
	create_surface(good, 1, SF_PRESENT_LATCH);
	select_input(deaf, 1, SF_EVENT_POINTER_AXIS);
	select_input(good, 1, SF_EVENT_POINTER_AXIS);
	run();
	deaf->deaf = true;
	setsockopt(deaf->end.srv_fd, SOL_SOCKET, SO_SNDBUF, &(int){ 4096 },
	           sizeof(int));
	deaf_s = surface_of(deaf, 1);
	good_s = surface_of(good, 1);
	sequence = client_of(good)->out.sequence;

	for (i = 1; i < 1000000; i++) {
		r = sfs__input_axis(deaf_s, i, 0, T0);
		if (r < 0)
			break;
		ASSERT_EQ(sfs__input_axis(good_s, i, 0, T0), 0);
		if (i % 32 == 0)
			run();
	}
	ASSERT_EQ(r, -1);
	queued_deaf = i;
	/* Failed now, between requests: its surfaces (and windows) are gone. */
	ASSERT_EQ(client_of(deaf)->state, SF_CLIENT_CLOSING);
	ASSERT(list_empty(&client_of(deaf)->res.surfaces));
	/* More than its socket and max_output hold, not much more. */
	ASSERT_GT((uint64_t)queued_deaf * sizeof ax, lim.max_output);
	ASSERT_LT((uint64_t)queued_deaf * sizeof ax, lim.max_output + (1u << 20));

	/* The other still gets every event, in order, numbered as events. */
	for (int j = 0; j < 10; j++)
		ASSERT_EQ(sfs__input_axis(good_s, queued_deaf + j, 0, T0), 0);
	run();
	for (int want = 1; want < queued_deaf + 10; want++) {
		uint32_t len = expect_event(good, SF_POINTER_AXIS, msg);

		ASSERT_EQ(sf__decode_pointer_axis(msg, len, &ax, NULL), 0);
		ASSERT_EQ(ax.dx120, want);
		got++;
	}
	expect_quiet(good);
	ASSERT_EQ(client_of(good)->out.sequence, sequence + (uint32_t)got);

	/* What the one that did not read finds when it reads at last: the
	 * events its socket held, then ERROR SLOW naming no request. */
	deaf->deaf = false;
	run();
	while (next_event(deaf, &hdr, msg) && hdr.type == SF_POINTER_AXIS)
		;
	ASSERT_EQ(hdr.type, SF_ERROR);
	ASSERT_EQ(sf__decode_error(msg, hdr.length, &e, text, NULL), 0);
	ASSERT_EQ(e.code, SF_ERR_SLOW);
	ASSERT_EQ(e.request_type, 0);
	finish();
}
