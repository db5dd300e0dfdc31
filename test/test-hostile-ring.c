/*
 * The control segment and its rings (protocol 2.1) against a real
 * shmframe-server: a client speaking them by hand, first as the protocol
 * says (WELCOME's RING bit, frames over the rings pixel-exact for every
 * kind of control segment, requests on the ring and on the socket kept in
 * one order, the control segment counted against the client's limits),
 * then as an attacker: a head far ahead, entries numbered behind, entries
 * that are not a shm PUT_IMAGE or are too long, damage outside the
 * surface, an impossible event tail, random bytes over the whole segment
 * while frames flow, a POSIX control segment shrunk under the server, a
 * second ATTACH_CONTROL or one never offered, and a ring kept full by a
 * client that never reads its events.
 *
 * Every attack ends with the attacker's ERROR (its code, and for a request
 * the ring's number for it) and its connection closed, the server alive,
 * and the well-behaved client of hostile.h, connected all along, served a
 * pixel-exact frame; at the end nothing is left in /dev/shm or ipcs -m.
 */
#include "hostile.h"

/* ---- a client of the rings ------------------------------------------------ */

/* Numbers, as PROTOCOL.md's "Numbering and order": every request has one,
 * on the socket or on the ring (HELLO is 1), and so does every event
 * (WELCOME is 1). */
struct rc {
	struct sf_peer *r;
	struct sf_peer_control ctl;
	bool ringed;           /* ATTACH_CONTROL was answered OK */
	uint32_t req_next;     /* the number of our next request */
	uint32_t ev_next;      /* the number of the next event */
	/* What came where. */
	unsigned ring_events, socket_frame_events, notifies, kicks;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Connected, HELLO of this minor version sent, WELCOME read. */
static void rc_hello(struct rc *c, uint16_t minor)
{
	struct sf_hello h;
	uint8_t msg[SF_MAX_MESSAGE];

	memset(c, 0, sizeof *c);
	sf__segment_init(&c->ctl.seg);
	c->r = raw_connect();
	hello_msg(&h);
	h.minor = minor;
	send_msg(c->r, SF_HELLO, &h, sizeof h, "hostile", 7);
	expect_event(c->r, SF_WELCOME, msg);
	ASSERT_EQ(sf__decode_welcome(msg, sizeof c->r->welcome, &c->r->welcome,
	                             NULL), 0);
	c->req_next = 2;
	c->ev_next = 2;
}

/* Frees what c holds (the connection may be closed already). */
static void rc_close(struct rc *c)
{
	if (c->r)
		raw_close(c->r);
	c->r = NULL;
	sf__peer_control_free(&c->ctl);
}

/* A request on the socket; returns its number. */
static uint32_t rc_send(struct rc *c, uint16_t type, void *fixed, size_t size,
                        const void *tail, size_t tail_len)
{
	send_msg(c->r, type, fixed, size, tail, tail_len);
	return c->req_next++;
}

/* KICK: numbered like any request.  Its send may fail once the server
 * closed on us (an attack did its work): that is for the caller to see. */
static void rc_kick(struct rc *c)
{
	struct sf_header h = { 0 };
	uint8_t buf[16];
	size_t n = sf__peer_encode(buf, sizeof buf, SF_KICK, &h, sizeof h,
	                           NULL, 0);

	raw_send(c->r, buf, n);
	c->req_next++;
	c->kicks++;
}

/* A word of the control segment. */
static uint32_t *ctl_word(struct rc *c, uint32_t off)
{
	return (uint32_t *)((uint8_t *)c->ctl.seg.map + off);
}

/* A request on the ring, numbered seq, then KICK when the server said it
 * sleeps and kick allows.  The ring must have room. */
static void rc_push_as(struct rc *c, uint32_t seq, const void *msg, size_t len,
                       bool kick)
{
	if (sf__peer_control_push(&c->ctl, seq, msg, len) && kick)
		rc_kick(c);
}

/* The next request's number on the ring; returns it. */
static uint32_t rc_push(struct rc *c, const void *msg, size_t len, bool kick)
{
	uint32_t seq = c->req_next++;

	rc_push_as(c, seq, msg, len, kick);
	return seq;
}

/* A PUT_IMAGE's bytes (its length returned). */
static size_t put_image_msg(uint8_t *buf, size_t cap, uint16_t flags,
                            uint32_t surface, uint32_t serial, uint32_t segment,
                            uint32_t buffer, uint64_t offset, uint32_t stride,
                            const struct sf_rect *rects, uint32_t n)
{
	struct sf_put_image m = {
		.hdr.flags = flags, .surface = surface, .serial = serial,
		.segment = segment, .buffer = buffer, .offset = offset,
		.stride = stride, .n_rects = n,
	};

	return sf__peer_encode(buf, cap, SF_PUT_IMAGE, &m, sizeof m, rects,
	                       n * sizeof *rects);
}

/* The ring's oldest event when it is the one we expect next: taken. */
static bool rc_take_ring_event(struct rc *c, struct sf_header *hdr, uint8_t *msg)
{
	uint8_t m[SF_RING_EV_MESSAGE];
	const char *why = NULL;
	uint32_t seq;
	int st;

	if (!c->ringed)
		return false;
	st = sf__ring_peek(&c->ctl.ev, &seq, m, sizeof m);
	ASSERT_MSG(st >= 0, "the server's event ring head is impossible");
	if (st == 0)
		return false;
	ASSERT_MSG((int32_t)(seq - c->ev_next) >= 0, "an event ring entry "
	           "numbered %u, event %u expected: a number used already",
	           seq, c->ev_next);
	if (seq != c->ev_next)
		return false; /* socket events come first */
	ASSERT_MSG(sf__header_check(m, sizeof m, SF_RING_EV_MESSAGE, hdr, &why) == 1,
	           "event ring entry %u: bad header: %s", seq, why ? why : "short");
	ASSERT_MSG(hdr->type == SF_RELEASE || hdr->type == SF_PRESENTED,
	           "a %s on the event ring", sf__type_name(hdr->type));
	memcpy(msg, m, hdr->length);
	sf__ring_pop(&c->ctl.ev);
	c->ev_next++;
	c->ring_events++;
	return true;
}

/*
 * The next event, from the ring or the socket by its number: 1, 0 at the
 * end of the stream (-2 on a reset), -1 when none came within timeout_ms.
 * NOTIFY is counted and passed over.  A socket message is looked at only
 * once it is whole, and the ring after it: an entry the server pushed
 * before it wrote that message is seen then.
 */
static int rc_next_event(struct rc *c, struct sf_header *hdr, uint8_t *msg,
                         int timeout_ms)
{
	uint64_t until = now_ns() + (uint64_t)timeout_ms * 1000000u;

	for (;;) {
		int slice = c->ringed ? 1 : timeout_ms, st;

		if (rc_take_ring_event(c, hdr, msg))
			return 1;
		st = sf__peer_fill(c->r, sizeof *hdr, slice);
		if (st == 1) {
			memcpy(hdr, c->r->buf + c->r->start, sizeof *hdr);
			if (hdr->length >= sizeof *hdr && hdr->length <= SF_MAX_MESSAGE)
				st = sf__peer_fill(c->r, hdr->length, slice);
		}
		if (st == 1) {
			if (rc_take_ring_event(c, hdr, msg))
				return 1;
			st = sf__peer_next_event(c->r, hdr, msg, timeout_ms);
			if (st != 1)
				return st;
			c->ev_next++;
			if (hdr->type == SF_NOTIFY) {
				c->notifies++;
				continue;
			}
			if (hdr->type == SF_RELEASE || hdr->type == SF_PRESENTED)
				c->socket_frame_events++;
			return 1;
		}
		if (st != -1)
			return st;
		if (now_ns() >= until)
			return -1;
	}
}

/* Reads events until one of type (an ERROR fails the test). */
static void rc_wait_for(struct rc *c, uint16_t type, uint8_t *msg)
{
	struct sf_header hdr;

	for (;;) {
		int st = rc_next_event(c, &hdr, msg, 5000);

		ASSERT_MSG(st == 1, "waiting for %s: %s", sf__type_name(type),
		           st == 0 ? "end of stream" : st == -1 ? "timed out"
		                                              : "reset");
		if (hdr.type == SF_ERROR) {
			struct sf_error e;
			char text[SF_MAX_TEXT + 1] = "";

			sf__decode_error(msg, hdr.length, &e, text, NULL);
			FAIL("waiting for %s: ERROR %s (request %u): %s",
			     sf__type_name(type), sf__error_name(e.code),
			     e.sequence, text);
		}
		if (hdr.type == type)
			return;
	}
}

static void rc_roundtrip(struct rc *c)
{
	struct sf_sync m = { .serial = 31 };
	uint8_t msg[SF_MAX_MESSAGE];

	rc_send(c, SF_SYNC, &m, sizeof m, NULL, 0);
	rc_wait_for(c, SF_SYNC_DONE, msg);
}

/*
 * Reads events (from both paths while they can be read: a broken ring is
 * the attack) until the ERROR, which must have this code, name this
 * request type (-1: any) and number (0: any); then the connection must
 * close.  Frees c.  The ERROR goes to *out when given.
 */
static void rc_expect_error(struct rc *c, uint32_t code, int type,
                            uint32_t seq, struct sf_error *out)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	char text[SF_MAX_TEXT + 1] = "";
	struct sf_header hdr;
	struct sf_error e;

	for (;;) {
		int st = sf__peer_next_event(c->r, &hdr, msg, 8000);

		ASSERT_MSG(st == 1, "waiting for ERROR %s: %s",
		           sf__error_name(code), st == 0 ? "end of stream" :
		           st == -1 ? "timed out" : "connection reset");
		if (hdr.type == SF_ERROR)
			break;
	}
	ASSERT_EQ(sf__decode_error(msg, hdr.length, &e, text, NULL), 0);
	printf("#   %-12s request %u (%s): %s\n", sf__error_name(e.code),
	       e.sequence, e.request_type ? sf__type_name(e.request_type) : "none",
	       text);
	fflush(stdout);
	ASSERT_MSG(e.code == code, "expected ERROR %s, got %s: %s",
	           sf__error_name(code), sf__error_name(e.code), text);
	if (type >= 0)
		ASSERT_MSG(e.request_type == type, "ERROR names request type "
		           "0x%x, 0x%x expected: %s", e.request_type, type, text);
	if (seq)
		ASSERT_MSG(e.sequence == seq, "ERROR names request %u, %u "
		           "expected: %s", e.sequence, seq, text);
	if (out)
		*out = e;
	expect_closed(c->r);
	rc_close(c);
}

/* ATTACH_CONTROL of a new control segment of kind; the PROBE_RESULT's
 * status (text in text when given). */
static int rc_attach_control(struct rc *c, int kind, char *text)
{
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_probe_result pr;
	char t[SF_MAX_TEXT + 1];

	sf__peer_control_make(&c->ctl, kind);
	ASSERT_EQ(sf__peer_control_attach(c->r->fd, &c->ctl,
	                                  c->r->welcome.challenge), 0);
	c->req_next++;
	rc_wait_for(c, SF_PROBE_RESULT, msg);
	ASSERT_EQ(sf__decode_probe_result(msg, ((struct sf_header *)msg)->length,
	                                  &pr, t, NULL), 0);
	ASSERT_EQ(pr.kind, kind);
	if (text)
		strcpy(text, t);
	c->ringed = pr.status == SF_PROBE_OK;
	/* The name is the server's to remove once the proof matched. */
	if (c->ringed && kind == SF_SHM_POSIX)
		c->ctl.seg.name[0] = '\0';
	return pr.status;
}

/* ---- frames ------------------------------------------------------------ */

#define FW 64
#define FH 40
#define FSTRIDE (FW * 4 + 16)
#define FBUF ((size_t)FSTRIDE * FH)
#define NBUF 3
#define FRAMES_SIZE (64 + (NBUF + 1) * FBUF)

/* A segment of NBUF buffers and a readback area, the surface they
 * show, and which buffers the server holds. */
struct frames {
	struct hseg h;
	uint32_t surface;
	uint32_t mode;
	bool busy[NBUF];
	uint32_t serial, presented;
};

static uint64_t buf_offset(uint32_t b)
{
	return 64 + b * FBUF;
}

/* One event, and what it says about the frames. */
static uint16_t frames_pump(struct rc *c, struct frames *f, uint8_t *msg)
{
	struct sf_header hdr;
	int st = rc_next_event(c, &hdr, msg, 5000);

	ASSERT_MSG(st == 1, "waiting for the frames' events: %s",
	           st == 0 ? "end of stream" : st == -1 ? "timed out" : "reset");
	if (hdr.type == SF_ERROR) {
		struct sf_error e;
		char text[SF_MAX_TEXT + 1] = "";

		sf__decode_error(msg, hdr.length, &e, text, NULL);
		FAIL("ERROR %s (request %u): %s", sf__error_name(e.code),
		     e.sequence, text);
	}
	if (hdr.type == SF_RELEASE) {
		struct sf_release m;

		ASSERT_EQ(sf__decode_release(msg, hdr.length, &m, NULL), 0);
		ASSERT(m.buffer >= 1 && m.buffer <= NBUF);
		f->busy[m.buffer - 1] = false;
	} else if (hdr.type == SF_PRESENTED) {
		struct sf_presented m;

		ASSERT_EQ(sf__decode_presented(msg, hdr.length, &m, NULL), 0);
		ASSERT_GT(m.serial, f->presented);
		f->presented = m.serial;
	}
	return hdr.type;
}

static void rc_create_surface(struct rc *c, uint32_t id, uint32_t mode)
{
	struct sf_create_surface m = {
		.id = id, .width = FW, .height = FH,
		.format = SF_FORMAT_ARGB8888, .present_mode = mode,
	};

	rc_send(c, SF_CREATE_SURFACE, &m, sizeof m, NULL, 0);
}

/* A 2.1 client with a control segment of ctl_kind answered OK, a pixel
 * segment attached WRITABLE as segment 1, surface 1 in mode. */
static void rc_ready(struct rc *c, struct frames *f, int ctl_kind, uint32_t mode)
{
	char text[SF_MAX_TEXT + 1];
	int st;

	rc_hello(c, SF_VERSION_MINOR);
	ASSERT_MSG(c->r->welcome.caps & SF_CAP_RING, "WELCOME lacks RING "
	           "(caps 0x%x)", c->r->welcome.caps);
	st = rc_attach_control(c, ctl_kind, text);
	ASSERT_MSG(st == SF_PROBE_OK, "ATTACH_CONTROL (%s): %s: %s",
	           sf__shm_kind_name((uint32_t)ctl_kind),
	           sf__probe_status_name((uint32_t)st), text);
	memset(f, 0, sizeof *f);
	hseg_make(&f->h, SF_SHM_MEMFD, FRAMES_SIZE);
	attach(c->r, &f->h, 1, SF_SEGMENT_WRITABLE);
	c->req_next++;
	f->surface = 1;
	f->mode = mode;
	rc_create_surface(c, 1, mode);
	rc_roundtrip(c);
}

/* Renders frame serial into a free buffer and puts it on the ring with
 * these rectangles; returns the ring number. */
static uint32_t frames_put(struct rc *c, struct frames *f,
                           const struct sf_rect *rects, uint32_t n, bool kick)
{
	uint8_t msg[SF_RING_REQ_MESSAGE], pump[SF_MAX_MESSAGE];
	uint32_t b, serial = ++f->serial;
	uint8_t *px;
	size_t len;

	for (;;) {
		for (b = 0; b < NBUF && f->busy[b]; b++) {
			/* look for a free one */
		}
		if (b < NBUF)
			break;
		frames_pump(c, f, pump);
	}
	px = (uint8_t *)f->h.seg.map + buf_offset(b);
	for (uint32_t y = 0; y < FH; y++)
		for (uint32_t x = 0; x < FW; x++) {
			uint32_t v = pattern(x, y, serial);

			memcpy(px + (size_t)y * FSTRIDE + x * 4, &v, 4);
		}
	len = put_image_msg(msg, sizeof msg, 0, f->surface, serial, 1, b + 1,
	                    buf_offset(b), FSTRIDE, rects, n);
	f->busy[b] = f->mode == SF_PRESENT_LATCH;
	return rc_push(c, msg, len, kick);
}

/* SYNC answered, the frames' events on the way taken. */
static void frames_roundtrip(struct rc *c, struct frames *f)
{
	struct sf_sync m = { .serial = 32 };
	uint8_t msg[SF_MAX_MESSAGE];

	rc_send(c, SF_SYNC, &m, sizeof m, NULL, 0);
	while (frames_pump(c, f, msg) != SF_SYNC_DONE) {
		/* RELEASE and PRESENTED before it */
	}
}

/* Every frame put so far presented. */
static void frames_settle(struct rc *c, struct frames *f)
{
	uint8_t msg[SF_MAX_MESSAGE];

	while (f->presented < f->serial)
		frames_pump(c, f, msg);
}

/* The surface read back into the segment equals frame serial. */
static void frames_check(struct rc *c, struct frames *f, uint32_t serial)
{
	struct sf_get_image m = {
		.surface = f->surface, .serial = 77, .rect = { 0, 0, FW, FH },
		.segment = 1, .stride = FSTRIDE, .offset = buf_offset(NBUF),
	};
	uint8_t msg[SF_MAX_MESSAGE];
	uint8_t *back = (uint8_t *)f->h.seg.map + buf_offset(NBUF);

	memset(back, 0, FBUF);
	rc_send(c, SF_GET_IMAGE, &m, sizeof m, NULL, 0);
	while (frames_pump(c, f, msg) != SF_IMAGE) {
		/* RELEASE and PRESENTED before it */
	}
	for (uint32_t y = 0; y < FH; y++)
		for (uint32_t x = 0; x < FW; x++) {
			uint32_t v;

			memcpy(&v, back + (size_t)y * FSTRIDE + x * 4, 4);
			ASSERT_MSG(v == pattern(x, y, serial), "pixel %u,%u is %08x, "
			           "%08x expected (frame %u)", x, y, v,
			           pattern(x, y, serial), serial);
		}
}

static void frames_free(struct frames *f)
{
	hseg_free(&f->h);
}

/* The server's shared-memory mappings, once the good client's requests
 * so far were handled (its readbacks detach a segment of theirs). */
static int server_shm_maps(void)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	ASSERT_EQ(shmframe_roundtrip(good.conn), 0);
	snprintf(path, sizeof path, "/proc/%d/maps", (int)srv.pid);
	f = fopen(path, "re");
	ASSERT(f != NULL);
	while (fgets(line, sizeof line, f))
		if (strstr(line, "/memfd:") || strstr(line, "/dev/shm/") ||
		    strstr(line, "SYSV"))
			n++;
	fclose(f);
	return n;
}

static void wait_server_shm_maps(int want, const char *when)
{
	int n = 0;

	for (int i = 0; i < 100; i++) {
		n = server_shm_maps();
		if (n == want)
			return;
		usleep(50000);
	}
	FAIL("%s: the server maps %d shm segments, %d expected", when, n, want);
}

static const int kinds[] = { SF_SHM_MEMFD, SF_SHM_POSIX, SF_SHM_SYSV };

/* ---- as the protocol says ------------------------------------------------ */

/* WELCOME's RING: to a client of minor 1, never to one of minor 0, and
 * not at all from a server told --signal socket (or SHMFRAME_SIGNAL=socket
 * when the option is absent; the option wins). */
TEST(welcome_offers_the_ring_to_a_2_1_client_only)
{
	static const char *const socket_args[] = { "--signal", "socket", NULL };
	static const char *const ring_args[] = { "--signal", "ring", NULL };
	static const struct {
		const char *const *args;
		const char *env;    /* SHMFRAME_SIGNAL, NULL: unset */
		bool ring;          /* offered to minor 1 */
	} servers[] = {
		{ NULL, NULL, true },
		{ socket_args, NULL, false },
		{ NULL, "socket", false },
		{ ring_args, "socket", true },
		{ NULL, "ring", true },
	};

	for (size_t i = 0; i < sizeof servers / sizeof servers[0]; i++) {
		struct rc c;

		if (servers[i].env)
			setenv("SHMFRAME_SIGNAL", servers[i].env, 1);
		else
			unsetenv("SHMFRAME_SIGNAL");
		begin(servers[i].args);
		unsetenv("SHMFRAME_SIGNAL");
		for (uint16_t minor = 0; minor <= 1; minor++) {
			bool want = servers[i].ring && minor == 1;

			rc_hello(&c, minor);
			ASSERT_MSG(!(c.r->welcome.caps & SF_CAP_RING) == !want,
			           "server %zu, minor %u: caps 0x%x", i, minor,
			           c.r->welcome.caps);
			ASSERT_EQ(c.r->welcome.caps & SF_CAP_ALL, SF_CAP_ALL);
			ASSERT_EQ(c.r->welcome.minor, SF_VERSION_MINOR);
			rc_roundtrip(&c);
			rc_close(&c);
		}
		end();
	}
}

/*
 * For every kind of control segment: 40 frames put on the request ring,
 * their RELEASE and PRESENTED all on the event ring (it never fills: we
 * take them as they come), the surface read back pixel for pixel; the
 * server maps the control segment as one more segment, read-write, and
 * lets it go with the connection.  Then the same with our event ring's
 * sleeping word set, as a client that sleeps in poll(): every event must
 * still arrive, each push answered with NOTIFY on the socket.
 */
TEST(frames_cross_the_rings_pixel_exact_for_every_kind)
{
	begin(NULL);
	for (size_t k = 0; k < 3; k++) {
		for (int asleep = 0; asleep < 2; asleep++) {
			int maps0 = server_shm_maps();
			struct sf_rect damage = { 3, 5, 17, 11 };
			struct frames f;
			struct rc c;

			rc_ready(&c, &f, kinds[k], SF_PRESENT_LATCH);
			/* The pixel segment and the control segment. */
			ASSERT_EQ(server_shm_maps(), maps0 + 2);
			if (asleep)
				__atomic_store_n(ctl_word(&c, SF_CONTROL_EV_SLEEP),
				                 1u, __ATOMIC_SEQ_CST);
			for (int i = 0; i < 40; i++)
				frames_put(&c, &f, i % 3 ? &damage : NULL,
				           i % 3 ? 1 : 0, true);
			frames_settle(&c, &f);
			frames_check(&c, &f, f.serial);
			printf("#   %s control segment%s: %u events on the ring, %u "
			       "frame events on the socket, %u NOTIFY, %u KICK\n",
			       sf__shm_kind_name((uint32_t)kinds[k]),
			       asleep ? " (client asleep)" : "", c.ring_events,
			       c.socket_frame_events, c.notifies, c.kicks);
			fflush(stdout);
			ASSERT_GT(c.ring_events, 0);
			ASSERT_EQ(c.socket_frame_events, 0);
			if (asleep)
				ASSERT_GT(c.notifies, 0);
			else
				ASSERT_EQ(c.notifies, 0);
			rc_close(&c);
			frames_free(&f);
			wait_server_shm_maps(maps0, "after the ring client left");
		}
	}
	check_unharmed("after the ring clients");
	end();
}

/* The control segment is a segment like the others: mapped read-write. */
TEST(the_control_segment_is_mapped_read_write)
{
	char path[64], line[512], perms[5] = "";
	struct frames f;
	struct rc c;
	FILE *fp;

	begin(NULL);
	rc_ready(&c, &f, SF_SHM_SYSV, SF_PRESENT_COPY);
	snprintf(path, sizeof path, "/proc/%d/maps", (int)srv.pid);
	fp = fopen(path, "re");
	ASSERT(fp != NULL);
	while (fgets(line, sizeof line, fp)) {
		unsigned long lo, hi;
		char p[5];

		if (!strstr(line, "SYSV") ||
		    sscanf(line, "%lx-%lx %4s", &lo, &hi, p) != 3)
			continue;
		if (hi - lo == SF_CONTROL_SIZE)
			memcpy(perms, p, sizeof perms);
	}
	fclose(fp);
	ASSERT_STREQ(perms, "rw-s");
	rc_close(&c);
	frames_free(&f);
	end();
}

/*
 * One order for both paths: CREATE_SURFACE on the socket, PUT_IMAGE on
 * the ring, DESTROY_SURFACE on the socket.  The server must handle the
 * PUT_IMAGE before the DESTROY_SURFACE (its RELEASE and PRESENTED come,
 * no ERROR), with a KICK between them when the server sleeps, and
 * without one: then only the numbers say that the ring goes first.
 */
TEST(a_socket_request_never_overtakes_the_ring)
{
	uint8_t msg[SF_RING_REQ_MESSAGE], ev[SF_MAX_MESSAGE];
	struct frames f;
	struct rc c;

	begin(NULL);
	rc_ready(&c, &f, SF_SHM_MEMFD, SF_PRESENT_COPY);
	for (uint32_t i = 0; i < 40; i++) {
		struct sf_destroy_surface d = { .id = 100 + i };
		bool kick = i % 2;
		size_t len;

		rc_create_surface(&c, 100 + i, SF_PRESENT_COPY);
		len = put_image_msg(msg, sizeof msg, 0, 100 + i, 1000 + i, 1, 1,
		                    buf_offset(0), FSTRIDE, NULL, 0);
		rc_push(&c, msg, len, kick);
		rc_send(&c, SF_DESTROY_SURFACE, &d, sizeof d, NULL, 0);
		if (i % 4 == 3)
			usleep(2000); /* the server falls asleep */
	}
	/* Copy mode: each frame's RELEASE and PRESENTED, each kind in the
	 * frames' order. */
	for (uint32_t released = 0, presented = 0; released < 40 || presented < 40;) {
		struct sf_header hdr;
		int st = rc_next_event(&c, &hdr, ev, 5000);

		ASSERT_MSG(st == 1, "%u RELEASE and %u PRESENTED of 40 came",
		           released, presented);
		ASSERT_MSG(hdr.type != SF_ERROR, "ERROR: the DESTROY_SURFACE on the "
		           "socket overtook a PUT_IMAGE on the ring");
		if (hdr.type == SF_RELEASE) {
			struct sf_release r;

			ASSERT_EQ(sf__decode_release(ev, hdr.length, &r, NULL), 0);
			ASSERT_EQ(r.surface, 100 + released);
			ASSERT_EQ(r.serial, 1000 + released);
			released++;
		} else if (hdr.type == SF_PRESENTED) {
			struct sf_presented p;

			ASSERT_EQ(sf__decode_presented(ev, hdr.length, &p, NULL), 0);
			ASSERT_EQ(p.surface, 100 + presented);
			ASSERT_EQ(p.serial, 1000 + presented);
			presented++;
		}
	}
	rc_roundtrip(&c);
	rc_close(&c);
	frames_free(&f);
	end();
}

/*
 * A PUT_IMAGE put on the ring numbered after a CREATE_SURFACE that the
 * client writes to the socket only later: the entry waits for it (the
 * server, awake for the good client meanwhile, looks at the ring and
 * must not take it yet), then the frame is shown: no BAD_SURFACE.
 */
TEST(a_ring_entry_waits_for_the_socket_requests_numbered_before_it)
{
	uint8_t msg[SF_RING_REQ_MESSAGE], ev[SF_MAX_MESSAGE];
	struct sf_create_surface m = {
		.id = 9, .width = FW, .height = FH,
		.format = SF_FORMAT_ARGB8888, .present_mode = SF_PRESENT_COPY,
	};
	struct frames f;
	struct rc c;

	begin(NULL);
	rc_ready(&c, &f, SF_SHM_MEMFD, SF_PRESENT_COPY);
	for (int round = 0; round < 3; round++) {
		uint32_t create = c.req_next++, put;
		struct sf_presented p;
		size_t len;

		m.id = 9 + (uint32_t)round;
		len = put_image_msg(msg, sizeof msg, 0, m.id, 500 + (uint32_t)round,
		                    1, 1, buf_offset(0), FSTRIDE, NULL, 0);
		put = c.req_next++;
		rc_push_as(&c, put, msg, len, false);
		/* The server is awake for the good client, and asleep. */
		good_roundtrip("while a ring entry waits");
		usleep(100000);
		good_roundtrip("while a ring entry waits");
		ASSERT_EQ(put, create + 1);
		send_msg(c.r, SF_CREATE_SURFACE, &m, sizeof m, NULL, 0);
		rc_wait_for(&c, SF_PRESENTED, ev);
		ASSERT_EQ(sf__decode_presented(ev, ((struct sf_header *)ev)->length,
		                               &p, NULL), 0);
		ASSERT_EQ(p.surface, m.id);
		ASSERT_EQ(p.serial, 500 + (uint32_t)round);
		rc_roundtrip(&c);
	}
	rc_close(&c);
	frames_free(&f);
	end();
}

/*
 * The control segment counts against max_segments and max_mapped: over
 * either, ATTACH_CONTROL is refused (REFUSED) and the connection goes on
 * without rings: frames go over the socket, and shared memory still
 * works.
 */
TEST(a_control_segment_over_the_limits_is_refused_and_the_socket_serves)
{
	const char *const segs[] = { "--max-segments", "2", NULL };
	const char *const mapped[] = { "--max-mapped", "64K", NULL };
	const char *const *limits[] = { segs, mapped };

	for (int l = 0; l < 2; l++) {
		struct sf_put_image m = {
			.surface = 1, .serial = 1, .segment = 1, .buffer = 1,
			.offset = 64, .stride = FSTRIDE,
		};
		char text[SF_MAX_TEXT + 1];
		uint8_t ev[SF_MAX_MESSAGE];
		struct hseg h;
		struct rc c;
		int st;

		struct hseg h2;

		/* The good client over the socket: the limits are ours. */
		begin_with(limits[l], SHMFRAME_TRANSPORT_SOCKET);
		rc_hello(&c, SF_VERSION_MINOR);
		ASSERT(c.r->welcome.caps & SF_CAP_RING);
		/* Two segments of 52 KiB and 4 KiB: within both limits, with
		 * no room for the control segment's 16. */
		hseg_make(&h, SF_SHM_MEMFD, 53248);
		hseg_make(&h2, SF_SHM_MEMFD, 4096);
		attach(c.r, &h, 1, 0);
		attach(c.r, &h2, 2, 0);
		c.req_next += 2;
		rc_roundtrip(&c);
		st = rc_attach_control(&c, SF_SHM_MEMFD, text);
		printf("#   %s: %s: %s\n", limits[l][0],
		       sf__probe_status_name((uint32_t)st), text);
		fflush(stdout);
		ASSERT_EQ(st, SF_PROBE_REFUSED);
		ASSERT(!c.ringed);
		rc_create_surface(&c, 1, SF_PRESENT_COPY);
		rc_send(&c, SF_PUT_IMAGE, &m, sizeof m, NULL, 0);
		rc_wait_for(&c, SF_PRESENTED, ev);
		rc_roundtrip(&c);
		rc_close(&c);
		hseg_free(&h);
		hseg_free(&h2);
		end();
	}
}

/* ---- attacks ------------------------------------------------------------- */

/* A head more than a ring ahead of what the server took. */
TEST(a_request_head_far_ahead_is_bad_message)
{
	static const uint32_t heads[] = { 65, 1000, 0x80000000u, UINT32_MAX };
	struct frames f;
	struct rc c;

	begin(NULL);
	for (size_t i = 0; i < 4; i++) {
		rc_ready(&c, &f, kinds[i % 3], SF_PRESENT_LATCH);
		__atomic_store_n(ctl_word(&c, SF_CONTROL_REQ_HEAD), heads[i],
		                 __ATOMIC_RELEASE);
		if (sf__ring_consumer_asleep(&c.ctl.req))
			rc_kick(&c);
		rc_expect_error(&c, SF_ERR_BAD_MESSAGE, -1, 0, NULL);
		frames_free(&f);
		check_unharmed("after a head far ahead");
	}
	end();
}

/* An entry numbered with a number used already: HELLO's, the last
 * request's, and one far behind. */
TEST(a_ring_entry_numbered_behind_is_bad_message)
{
	uint8_t msg[SF_RING_REQ_MESSAGE];
	struct frames f;
	struct rc c;

	begin(NULL);
	for (int i = 0; i < 3; i++) {
		uint32_t seq;
		size_t len;

		rc_ready(&c, &f, SF_SHM_MEMFD, SF_PRESENT_LATCH);
		frames_put(&c, &f, NULL, 0, true);
		frames_settle(&c, &f);
		seq = i == 0 ? 1 : i == 1 ? c.req_next - 1 : c.req_next - 0x10000;
		len = put_image_msg(msg, sizeof msg, 0, 1, 99, 1, 2, buf_offset(1),
		                    FSTRIDE, NULL, 0);
		rc_push_as(&c, seq, msg, len, true);
		rc_expect_error(&c, SF_ERR_BAD_MESSAGE, -1, 0, NULL);
		frames_free(&f);
		check_unharmed("after an entry numbered behind");
	}
	end();
}

/* The request ring carries PUT_IMAGE naming a segment, and nothing else:
 * other requests, a KICK, an event, a PUT_IMAGE with inline pixels
 * (segment 0), and a type nobody knows, each well-formed and numbered
 * right. */
TEST(a_ring_entry_that_is_not_a_shm_put_image_is_bad_message)
{
	struct sf_sync sync = { .serial = 1 };
	struct sf_create_surface create = {
		.id = 5, .width = 8, .height = 8, .format = SF_FORMAT_ARGB8888,
	};
	struct sf_destroy_surface destroy = { .id = 1 };
	struct sf_header bare = { 0 };
	struct sf_release release = { .surface = 1, .buffer = 1, .serial = 1 };
	struct {
		uint16_t type;
		void *fixed;
		size_t size;
	} cases[] = {
		{ SF_SYNC, &sync, sizeof sync },
		{ SF_CREATE_SURFACE, &create, sizeof create },
		{ SF_DESTROY_SURFACE, &destroy, sizeof destroy },
		{ SF_KICK, &bare, sizeof bare },
		{ SF_RELEASE, &release, sizeof release },
		{ 0x7e, &sync, sizeof sync },
	};
	uint8_t msg[SF_RING_REQ_MESSAGE];
	struct frames f;
	struct rc c;
	size_t len;

	begin(NULL);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rc_ready(&c, &f, SF_SHM_MEMFD, SF_PRESENT_LATCH);
		len = sf__peer_encode(msg, sizeof msg, cases[i].type,
		                      cases[i].fixed, cases[i].size, NULL, 0);
		rc_push(&c, msg, len, true);
		rc_expect_error(&c, SF_ERR_BAD_MESSAGE, -1, 0, NULL);
		frames_free(&f);
		check_serving("after an entry that is not PUT_IMAGE");
	}
	/* Inline pixels cannot be on the ring: PUT_IMAGE of segment 0. */
	rc_ready(&c, &f, SF_SHM_MEMFD, SF_PRESENT_COPY);
	len = put_image_msg(msg, sizeof msg, 0, 1, 1, 0, 0, 0, 0, NULL, 0);
	rc_push(&c, msg, len, true);
	rc_expect_error(&c, SF_ERR_BAD_MESSAGE, -1, 0, NULL);
	frames_free(&f);
	end();
}

/* An entry whose header says more than the entry holds (120 bytes), or
 * is no header at all. */
TEST(a_ring_entry_longer_than_its_slot_is_bad_message)
{
	static const uint32_t lengths[] = { 124, 128, 4096, SF_MAX_MESSAGE, 0, 6 };
	uint8_t msg[SF_RING_REQ_MESSAGE];
	struct sf_rect rects[5];
	struct frames f;
	struct rc c;

	for (int i = 0; i < 5; i++)
		rects[i] = (struct sf_rect){ (uint32_t)i, 0, 1, 1 };
	begin(NULL);
	/* 120 bytes exactly, five rectangles, is a frame like another. */
	rc_ready(&c, &f, SF_SHM_MEMFD, SF_PRESENT_COPY);
	ASSERT_EQ(put_image_msg(msg, sizeof msg, 0, 1, 1, 1, 1, buf_offset(0),
	                        FSTRIDE, rects, 5), SF_RING_REQ_MESSAGE);
	frames_put(&c, &f, rects, 5, true);
	frames_settle(&c, &f);
	rc_roundtrip(&c);
	rc_close(&c);
	frames_free(&f);
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		struct sf_header h;

		rc_ready(&c, &f, SF_SHM_MEMFD, SF_PRESENT_COPY);
		put_image_msg(msg, sizeof msg, 0, 1, 1, 1, 1, buf_offset(0),
		              FSTRIDE, rects, 5);
		memcpy(&h, msg, sizeof h);
		h.length = lengths[i];
		memcpy(msg, &h, sizeof h);
		rc_push(&c, msg, sizeof msg, true);
		rc_expect_error(&c, SF_ERR_BAD_MESSAGE, -1, 0, NULL);
		frames_free(&f);
		check_serving("after an entry longer than its slot");
	}
	end();
}

/* Damage outside the surface on the ring: BAD_RECT, naming the PUT_IMAGE
 * by the number the ring gave it. */
TEST(damage_outside_the_surface_on_the_ring_is_bad_rect_with_its_number)
{
	static const struct sf_rect bad[] = {
		{ 0, 0, FW + 1, 1 }, { FW - 1, FH - 1, 2, 1 }, { 0, FH, 1, 1 },
	};
	uint8_t msg[SF_RING_REQ_MESSAGE];
	struct frames f;
	struct rc c;

	begin(NULL);
	for (size_t i = 0; i < 3; i++) {
		struct sf_error e;
		uint32_t seq;
		size_t len;

		rc_ready(&c, &f, kinds[i], SF_PRESENT_LATCH);
		/* Good frames first, a socket request between. */
		frames_put(&c, &f, NULL, 0, true);
		frames_roundtrip(&c, &f);
		frames_put(&c, &f, NULL, 0, true);
		frames_settle(&c, &f);
		len = put_image_msg(msg, sizeof msg, 0, 1, 42, 1, 3, buf_offset(2),
		                    FSTRIDE, &bad[i], 1);
		seq = rc_push(&c, msg, len, true);
		rc_expect_error(&c, SF_ERR_BAD_RECT, SF_PUT_IMAGE, seq, &e);
		frames_free(&f);
		check_unharmed("after damage outside the surface");
	}
	end();
}

/* Waits until the server has pushed this many events in all. */
static void wait_event_head(struct rc *c, uint32_t want)
{
	for (int i = 0; i < 500; i++) {
		if (__atomic_load_n(ctl_word(c, SF_CONTROL_EV_HEAD),
		                    __ATOMIC_ACQUIRE) == want)
			return;
		usleep(10000);
	}
	FAIL("the server pushed no more events (head %u, %u expected)",
	     *ctl_word(c, SF_CONTROL_EV_HEAD), want);
}

/*
 * The event ring's tail is the client's to write: one ahead of the
 * server's head, far ahead, or behind the tail the server saw last, when
 * the server next pushes an event.
 */
TEST(an_impossible_event_tail_is_bad_message)
{
	struct frames f;
	struct rc c;

	begin(NULL);
	for (int i = 0; i < 3; i++) {
		uint32_t taken;

		rc_ready(&c, &f, kinds[i], SF_PRESENT_COPY);
		for (int k = 0; k < 5; k++)
			frames_put(&c, &f, NULL, 0, true);
		frames_settle(&c, &f);
		taken = c.ctl.ev.pos;
		ASSERT_GT(taken, 1);
		/* One more frame, its events left on the ring: pushing them
		 * the server read our tail as taken. */
		c.ringed = false;
		frames_put(&c, &f, NULL, 0, true);
		wait_event_head(&c, taken + 2);
		__atomic_store_n(ctl_word(&c, SF_CONTROL_EV_TAIL),
		                 i == 0 ? taken + 3 : i == 1 ? taken + 1000
		                                             : taken - 1,
		                 __ATOMIC_RELEASE);
		frames_put(&c, &f, NULL, 0, true);
		rc_expect_error(&c, SF_ERR_BAD_MESSAGE, -1, 0, NULL);
		frames_free(&f);
		check_unharmed("after an impossible event tail");
	}
	end();
}

/* What the scribbler writes over: everything, the request entries alone
 * (the indices stay right, the entries change under the server), or the
 * shared words alone, with values near the ones they hold. */
enum scribble { SCRIBBLE_ALL, SCRIBBLE_ENTRIES, SCRIBBLE_WORDS };

static const char *const scribble_names[] = { "everything", "entries",
                                               "indices" };

static void scribble(uint8_t *seg, enum scribble what)
{
	static const uint32_t words[] = {
		SF_CONTROL_REQ_HEAD, SF_CONTROL_REQ_TAIL, SF_CONTROL_REQ_SLEEP,
		SF_CONTROL_EV_HEAD, SF_CONTROL_EV_TAIL, SF_CONTROL_EV_SLEEP,
	};
	uint32_t s = (uint32_t)getpid() * 2654435761u;

	for (;;) {
		uint32_t v, *w;

		s = s * 1664525u + 1013904223u;
		v = (s ^ (s >> 15)) * 0x5bd1e995u;
		switch (what) {
		case SCRIBBLE_ALL:
			w = (uint32_t *)(seg + (v % (SF_CONTROL_SIZE / 4)) * 4);
			break;
		case SCRIBBLE_ENTRIES:
			w = (uint32_t *)(seg + SF_CONTROL_REQ_RING +
			                 (v % (SF_RING_REQ_COUNT * SF_RING_REQ_ENTRY / 4)) * 4);
			break;
		default:
			w = (uint32_t *)(seg + words[v % 6]);
			s = __atomic_load_n(w, __ATOMIC_RELAXED) + (s >> 24) % 130 - 65;
			break;
		}
		__atomic_store_n(w, s, __ATOMIC_RELAXED);
	}
}

/*
 * Reads the socket, passing over other events: 1 at an ERROR (its text in
 * text) or the end of the connection, 0 at SYNC_DONE, -1 when nothing
 * more came within timeout_ms.
 */
static int socket_outcome(struct rc *c, char *text, int timeout_ms)
{
	uint8_t ev[SF_MAX_MESSAGE];

	for (;;) {
		struct sf_header hdr;
		int st;

		if (sf__peer_fill(c->r, 1, timeout_ms) == -1)
			return -1;
		st = sf__peer_next_event(c->r, &hdr, ev, 5000);
		if (st != 1)
			return 1;
		if (hdr.type == SF_ERROR) {
			struct sf_error e;

			sf__decode_error(ev, hdr.length, &e, text, NULL);
			return 1;
		}
		if (hdr.type == SF_SYNC_DONE)
			return 0;
	}
}

/*
 * A process writes over the control segment (see enum scribble) while
 * the client puts frames on the ring, KICKs whenever the sleeping word
 * says so, and reads its socket: the server may find anything there at
 * any time.  Its connection ends with an ERROR or closed; or, when what
 * the server read was a well-formed entry numbered ahead (which waits for
 * the socket requests between), it is still served: a SYNC on the socket
 * once the scribbling stopped is answered.  Nothing else: the server
 * alive, the good client served, nothing of the client's left.
 */
TEST(scribbling_over_the_control_segment_harms_nobody_else)
{
	begin(NULL);
	for (int what = 0; what < 3; what++)
	for (size_t k = 0; k < 3; k++) {
		char text[SF_MAX_TEXT + 1] = "closed without ERROR";
		uint8_t msg[SF_RING_REQ_MESSAGE];
		struct frames f;
		struct rc c;
		uint64_t t0, last;
		bool ended = false;
		pid_t scribbler;
		size_t len;

		rc_ready(&c, &f, kinds[k], SF_PRESENT_LATCH);
		fflush(stdout);
		scribbler = fork();
		ASSERT_GE(scribbler, 0);
		if (scribbler == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			scribble(c.ctl.seg.map, (enum scribble)what);
		}
		/* Frames as a client pushes them, without trusting the ring:
		 * room that is impossible means only "do not push". */
		len = put_image_msg(msg, sizeof msg, 0, 1, 1, 1, 1, buf_offset(0),
		                    FSTRIDE, NULL, 0);
		t0 = last = now_ns();
		while (!ended && now_ns() - t0 < 1000000000ull) {
			if (sf__ring_room(&c.ctl.req) > 0)
				sf__ring_push(&c.ctl.req, c.req_next++, msg, len);
			/* Whatever the word says: the server asleep, or
			 * scribbled.  The server also looks at every ring
			 * when it wakes for someone else. */
			if (sf__ring_consumer_asleep(&c.ctl.req))
				rc_kick(&c);
			if (now_ns() - last > 100000000ull) {
				check_serving("while a control segment is "
				              "scribbled over");
				last = now_ns();
			}
			ended = socket_outcome(&c, text, 0) == 1;
		}
		kill(scribbler, SIGKILL);
		waitpid(scribbler, NULL, 0);
		if (!ended) {
			struct sf_sync m = { .serial = 3 };
			uint8_t buf[64];
			int st;
			size_t n = sf__peer_encode(buf, sizeof buf, SF_SYNC, &m,
			                           sizeof m, NULL, 0);

			raw_send(c.r, buf, n);
			st = socket_outcome(&c, text, 5000);
			ASSERT_MSG(st != -1, "neither an ERROR, the end of the "
			           "connection nor SYNC_DONE in 5 s");
			ended = st == 1;
			if (!ended)
				snprintf(text, sizeof text, "still served: an "
				         "entry numbered ahead waits");
		}
		printf("#   %s, %s scribbled, after %.0f ms: %s\n",
		       sf__shm_kind_name((uint32_t)kinds[k]), scribble_names[what],
		       (double)(now_ns() - t0) / 1e6, text);
		fflush(stdout);
		if (ended)
			expect_closed(c.r);
		rc_close(&c);
		frames_free(&f);
		check_unharmed("after scribbling over a control segment");
	}
	end();
}

/* A POSIX control segment cannot be sealed: shrunk to nothing under the
 * server's mapping while frames flow, it must cost the client its
 * connection, not the server its life. */
TEST(a_shrunk_posix_control_segment_is_bad_segment)
{
	uint8_t msg[SF_RING_REQ_MESSAGE];
	struct frames f;
	struct rc c;
	size_t len;

	begin(NULL);
	for (int i = 0; i < 2; i++) {
		rc_ready(&c, &f, SF_SHM_POSIX, SF_PRESENT_COPY);
		frames_put(&c, &f, NULL, 0, true);
		frames_settle(&c, &f);
		len = put_image_msg(msg, sizeof msg, 0, 1, 7, 1, 1, buf_offset(0),
		                    FSTRIDE, NULL, 0);
		/* An entry waiting, then the pages under it gone (or all
		 * but the indices'), and our mapping with them. */
		rc_push(&c, msg, len, false);
		ASSERT_EQ(ftruncate(c.ctl.seg.fd, i == 0 ? 0 : 4096), 0);
		c.ringed = false;
		munmap(c.ctl.seg.map, SF_CONTROL_SIZE);
		c.ctl.seg.map = NULL;
		rc_kick(&c);
		rc_expect_error(&c, SF_ERR_BAD_SEGMENT, -1, 0, NULL);
		frames_free(&f);
		check_unharmed("after a shrunk control segment");
	}
	end();
}

/* A second ATTACH_CONTROL after one answered OK: a request this
 * connection's state does not allow. */
TEST(a_second_attach_control_is_sequence)
{
	struct sf_peer_control second;
	struct frames f;
	struct rc c;

	begin(NULL);
	rc_ready(&c, &f, SF_SHM_MEMFD, SF_PRESENT_LATCH);
	sf__peer_control_make(&second, SF_SHM_MEMFD);
	ASSERT_EQ(sf__peer_control_attach(c.r->fd, &second,
	                                  c.r->welcome.challenge), 0);
	rc_expect_error(&c, SF_ERR_SEQUENCE, SF_ATTACH_CONTROL, c.req_next, NULL);
	sf__peer_control_free(&second);
	frames_free(&f);
	end();
}

/* ATTACH_CONTROL where WELCOME did not offer RING: to a 2.0 client, and
 * from a server told --signal socket. */
TEST(attach_control_not_offered_is_sequence)
{
	const char *const socket_args[] = { "--signal", "socket", NULL };
	struct rc c;

	unsetenv("SHMFRAME_SIGNAL");
	begin(NULL);
	rc_hello(&c, 0);
	sf__peer_control_make(&c.ctl, SF_SHM_MEMFD);
	ASSERT_EQ(sf__peer_control_attach(c.r->fd, &c.ctl,
	                                  c.r->welcome.challenge), 0);
	rc_expect_error(&c, SF_ERR_SEQUENCE, SF_ATTACH_CONTROL, 2, NULL);
	end();

	begin(socket_args);
	for (size_t k = 0; k < 3; k++) {
		rc_hello(&c, SF_VERSION_MINOR);
		sf__peer_control_make(&c.ctl, kinds[k]);
		ASSERT_EQ(sf__peer_control_attach(c.r->fd, &c.ctl,
		                                  c.r->welcome.challenge), 0);
		rc_expect_error(&c, SF_ERR_SEQUENCE, SF_ATTACH_CONTROL, 2, NULL);
		check_unharmed("after ATTACH_CONTROL to --signal socket");
	}
	end();
}

/* ATTACH_CONTROL must be id 0 (else BAD_MESSAGE), WRITABLE and exactly
 * 16384 bytes (else BAD_SEGMENT, as protocol/wire.c decides). */
TEST(a_malformed_attach_control_is_an_error)
{
	struct sf_peer_control ctl;
	struct sf_segment_msg m;
	uint8_t buf[128];
	struct rc c;
	size_t n;

	begin(NULL);
	for (int i = 0; i < 3; i++) {
		rc_hello(&c, SF_VERSION_MINOR);
		sf__peer_control_make(&ctl, SF_SHM_MEMFD);
		sf__segment_write_proof(&ctl.seg, ctl.nonce, c.r->welcome.challenge);
		sf__peer_segment_msg(&m, &ctl.seg, ctl.nonce, i == 0 ? 1 : 0,
		                     i == 1 ? 0 : SF_SEGMENT_WRITABLE,
		                     i == 2 ? 4096 : SF_CONTROL_SIZE);
		n = sf__peer_encode(buf, sizeof buf, SF_ATTACH_CONTROL, &m,
		                    sizeof m, NULL, 0);
		ASSERT_EQ(sf__peer_send_fds(c.r->fd, buf, n, &ctl.seg.fd, 1), 0);
		rc_expect_error(&c, i == 0 ? SF_ERR_BAD_MESSAGE : SF_ERR_BAD_SEGMENT,
		                SF_ATTACH_CONTROL, 2, NULL);
		sf__peer_control_free(&ctl);
		check_unharmed("after a malformed ATTACH_CONTROL");
	}
	end();
}

/*
 * A client keeps its request ring full of valid frames and never reads
 * an event, from the ring or the socket.  Its events fill the event ring,
 * then its socket; then it is over max_inflight (LIMIT) or max_output
 * (SLOW).  Meanwhile the good client's frames must come back promptly:
 * the ring's entries are budgeted per turn like the socket's.
 */
TEST(a_ring_kept_full_by_a_client_that_never_reads_is_stopped)
{
	uint8_t msg[SF_RING_REQ_MESSAGE], ev[SF_MAX_MESSAGE];
	uint64_t t0, idle_since, last_check, worst = 0;
	struct sf_error e = { 0 };
	char text[SF_MAX_TEXT + 1] = "";
	unsigned long pushed = 0;
	struct sf_header hdr;
	struct frames f;
	struct rc c;
	bool closed = false;
	size_t len;
	int st;

	begin(NULL);
	rc_ready(&c, &f, SF_SHM_MEMFD, SF_PRESENT_LATCH);
	c.ringed = false; /* we read nothing */
	len = put_image_msg(msg, sizeof msg, 0, 1, 1, 1, 1, buf_offset(0),
	                    FSTRIDE, NULL, 0);
	t0 = idle_since = last_check = now_ns();
	/* Until the server has taken nothing for half a second. */
	while (now_ns() - idle_since < 500000000ull &&
	       now_ns() - t0 < 20000000000ull) {
		int room = sf__ring_room(&c.ctl.req);

		ASSERT_GE(room, 0);
		if (room > 0) {
			idle_since = now_ns();
			while (room-- > 0) {
				sf__ring_push(&c.ctl.req, c.req_next++, msg, len);
				pushed++;
			}
			if (sf__ring_consumer_asleep(&c.ctl.req))
				rc_kick(&c);
		}
		if (now_ns() - last_check > 100000000ull) {
			uint64_t t = now_ns();

			check_serving("while a client keeps its ring full");
			t = now_ns() - t;
			worst = t > worst ? t : worst;
			last_check = now_ns();
		}
		usleep(200);
	}
	/* Its events, then the ERROR. */
	for (;;) {
		st = sf__peer_next_event(c.r, &hdr, ev, 5000);
		ASSERT_MSG(st != -1, "the server neither took the ring's entries "
		           "for 0.5 s nor ended the connection (%lu frames pushed)",
		           pushed);
		if (st != 1) {
			closed = true;
			break;
		}
		if (hdr.type == SF_ERROR) {
			ASSERT_EQ(sf__decode_error(ev, hdr.length, &e, text, NULL), 0);
			break;
		}
	}
	printf("#   %lu frames pushed, %u KICK; %s %s; the good client's "
	       "round trip took %.1f ms at most\n", pushed, c.kicks,
	       closed ? "closed without ERROR" : sf__error_name(e.code), text,
	       (double)worst / 1e6);
	fflush(stdout);
	ASSERT_MSG(closed || e.code == SF_ERR_LIMIT || e.code == SF_ERR_SLOW,
	           "ERROR %s: %s", sf__error_name(e.code), text);
	ASSERT_MSG(worst < 1000000000ull, "a round trip of the good client "
	           "took %.0f ms", (double)worst / 1e6);
	if (!closed)
		expect_closed(c.r);
	rc_close(&c);
	frames_free(&f);
	end();
}
