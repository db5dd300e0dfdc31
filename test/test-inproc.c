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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

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

static void start(void)
{
	memset(peers, 0, sizeof peers);
	n_peers = 0;
	ASSERT_EQ(sf_fixture_init(&fx, NULL, NULL, getuid()), 0);
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

static struct peer *peer_ready(void)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	struct peer *p = peer_connect();
	uint8_t hello[256];
	uint32_t len;

	send_bytes(p, hello, sf__peer_hello(hello, sizeof hello, NULL));
	len = expect_event(p, SF_WELCOME, msg);
	ASSERT_EQ(sf__decode_welcome(msg, len, &p->welcome, NULL), 0);
	return p;
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
