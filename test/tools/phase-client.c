/*
 * sf-phase-client: a client that speaks the protocol by hand, stops at a
 * chosen point of a connection's life and waits there to be killed.  It is
 * how the kill matrix puts a SIGKILL exactly mid-HELLO, between the two
 * halves of a PROBE whose fd the server already holds, half-way through
 * the inline pixels of a frame, or while the server holds a latched
 * buffer, none of which a well-behaved client stays in long enough to be
 * killed there on purpose.
 *
 *     sf-phase-client unix:PATH KIND PHASE
 *     sf-phase-client --segment KIND
 *
 * KIND: memfd, posix, sysv (segments of that kind) or socket (none).
 * PHASE, in connection order:
 *   connect      connected, nothing sent
 *   hello-half   the first half of HELLO sent
 *   welcome      HELLO sent, WELCOME read
 *   probe-half   the first half of a PROBE sent (a memfd rides on its first
 *                byte, so the server already holds the fd)
 *   probed       a whole PROBE sent and answered OK
 *   attached     two segments attached (one WRITABLE) and a surface
 *                created, confirmed by SYNC
 *   frame-half   as attached (socket: the surface only), then an inline
 *                PUT_IMAGE with half of its pixels written
 *   latched      as attached, then two frames from the segment: the server
 *                released the first and holds the second latched
 * and, with the control segment of protocol 2.1 (a shm KIND; the server
 * must offer RING):
 *   ring-attached  as attached, and a control segment of KIND answered OK
 *   ring-pending   as ring-attached, then frames put on the request ring
 *                  with no KICK: entries the server has not taken while
 *                  it sleeps
 *   ring-blocked   as ring-attached, then a frame on the ring numbered
 *                  after a request never sent: an entry the server must
 *                  keep waiting
 *   ring-latched   as ring-attached, then two frames over the ring: the
 *                  server latched the second, its RELEASE and PRESENTED
 *                  lie on the event ring, never taken
 * --segment creates one segment of KIND as the library does (same
 * function, same mode) and waits, so a test can look at its permissions.
 *
 * Once there it prints one line, "reached PHASE" followed by key=value
 * details (the POSIX name, the System V ids), and sleeps until killed.
 * Any failure on the way is printed on stderr with exit status 1.
 *
 * A POSIX name the server never got (probe-half) is unlinked before the
 * line is printed: removing such a name is the creator's job, and this
 * test looks for what the server leaves behind.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "fdpass.h"
#include "raw-peer.h"
#include "segment.h"
#include "wire.h"

#define PROG "sf-phase-client"
#define SURF_W 64u
#define SURF_H 48u
#define FRAME_BYTES ((size_t)SURF_W * SURF_H * 4)
#define SURFACE_ID 1u
#define SEG_MAIN 1u
#define SEG_READBACK 2u

enum phase {
	PH_CONNECT, PH_HELLO_HALF, PH_WELCOME, PH_PROBE_HALF, PH_PROBED,
	PH_ATTACHED, PH_FRAME_HALF, PH_LATCHED,
	PH_RING_ATTACHED, PH_RING_PENDING, PH_RING_BLOCKED, PH_RING_LATCHED,
};

static const char *const phase_names[] = {
	"connect", "hello-half", "welcome", "probe-half", "probed",
	"attached", "frame-half", "latched",
	"ring-attached", "ring-pending", "ring-blocked", "ring-latched",
};

/* Reads events until one of type want arrives (RELEASE, PRESENTED and the
 * like are skipped); an ERROR ends the program.  Returns its length. */
static size_t wait_event(int fd, uint16_t want, uint8_t *msg, size_t cap)
{
	char text[SF_MAX_TEXT + 1];
	struct sf_error e;
	size_t len = sf__peer_wait_event(fd, want, msg, cap, &e, text);

	if (len == 0)
		die("the server sent ERROR %s: %s", sf__error_name(e.code), text);
	return len;
}

/* The server's challenge, from WELCOME (zeros before it). */
static uint8_t challenge[SF_CHALLENGE_SIZE];

/* A new segment of kind with its proof (a fresh nonce and the challenge)
 * at offset 0, and the message that offers it. */
static void make_segment(struct sf_segment *seg, int kind, size_t size,
                         uint16_t type, uint32_t id, uint8_t flags,
                         uint8_t *msg, size_t *len)
{
	uint8_t nonce[SF_NONCE_SIZE];
	struct sf_segment_msg m;
	int err = sf__segment_create(seg, kind, size);

	if (err)
		die("cannot create a %s segment: %s", sf__shm_kind_name((uint32_t)kind),
		    strerror(-err));
	err = sf__random(nonce, sizeof nonce);
	if (err)
		die("no random nonce: %s", strerror(-err));
	sf__segment_write_proof(seg, nonce, challenge);
	sf__peer_segment_msg(&m, seg, nonce, id, flags, size);
	*len = sf__peer_encode(msg, sizeof m, type, &m, sizeof m, NULL, 0);
}

static void sync_with(int fd, uint32_t serial)
{
	uint8_t buf[64];
	struct sf_sync s = { .serial = serial };

	sf__peer_send(fd, SF_SYNC, &s, sizeof s, NULL, 0, -1);
	wait_event(fd, SF_SYNC_DONE, buf, sizeof buf);
}

static void create_surface(int fd)
{
	static const char title[] = "phase";
	struct sf_create_surface m;

	memset(&m, 0, sizeof m);
	m.id = SURFACE_ID;
	m.width = SURF_W;
	m.height = SURF_H;
	m.format = SF_FORMAT_ARGB8888;
	m.present_mode = SF_PRESENT_LATCH;
	m.title_len = sizeof title - 1;
	sf__peer_send(fd, SF_CREATE_SURFACE, &m, sizeof m, title,
	              sizeof title - 1, -1);
}

/* PUT_IMAGE of the whole surface from segment SEG_MAIN at offset. */
static void put_image_msg(struct sf_put_image *m, uint32_t serial,
                          uint64_t offset)
{
	memset(m, 0, sizeof *m);
	m->surface = SURFACE_ID;
	m->serial = serial;
	m->segment = SEG_MAIN;
	m->buffer = serial;
	m->offset = offset;
	m->stride = SURF_W * 4;
}

static void put_from_segment(int fd, uint32_t serial, uint64_t offset)
{
	struct sf_put_image m;

	put_image_msg(&m, serial, offset);
	sf__peer_send(fd, SF_PUT_IMAGE, &m, sizeof m, NULL, 0, -1);
}

static void reached(const char *what, const struct sf_segment *segs, int n)
	__attribute__((noreturn));

static void reached(const char *what, const struct sf_segment *segs, int n)
{
	printf("reached %s", what);
	for (int i = 0; i < n; i++) {
		if (segs[i].kind == SF_SHM_POSIX && segs[i].name[0])
			printf(" name=%s", segs[i].name + 1);
		if (segs[i].kind == SF_SHM_SYSV)
			printf(" shmid=%d", segs[i].shmid);
	}
	printf("\n");
	fflush(stdout);
	for (;;)
		pause();
}

/*
 * The ring phases.  Requests so far: HELLO, two ATTACH_SEGMENT,
 * CREATE_SURFACE, SYNC; ATTACH_CONTROL is number 6.  Ends the program at
 * the phase.
 */
static void ring_phase(int fd, int ph, struct sf_segment *segs)
	__attribute__((noreturn));

static void ring_phase(int fd, int ph, struct sf_segment *segs)
{
	static struct sf_peer_control ctl;
	uint32_t next = 6, *ev_head;
	struct sf_put_image m;
	uint8_t buf[256];
	size_t len;
	int err;

	sf__peer_control_make(&ctl, segs[0].kind);
	err = sf__peer_control_attach(fd, &ctl, challenge);
	if (err)
		die("ATTACH_CONTROL: %s", strerror(-err));
	next++;
	len = wait_event(fd, SF_PROBE_RESULT, buf, sizeof buf);
	if (len < 12 || buf[9] != SF_PROBE_OK)
		die("the %s control segment was refused",
		    sf__shm_kind_name((uint32_t)segs[0].kind));
	/* The server unlinked the name once the proof matched. */
	sf__segment_unlink(&ctl.seg);
	segs[2] = ctl.seg;
	if (ph == PH_RING_ATTACHED)
		reached(phase_names[ph], segs, 3);

	memset(segs[0].map, 0x11, FRAME_BYTES);
	memset((uint8_t *)segs[0].map + FRAME_BYTES, 0x22, FRAME_BYTES);
	if (ph == PH_RING_BLOCKED) {
		/* Number next is never sent: the entry waits for it. */
		put_image_msg(&m, 1, 0);
		len = sf__peer_encode(buf, sizeof buf, SF_PUT_IMAGE, &m, sizeof m,
		                      NULL, 0);
		sf__peer_control_push(&ctl, next + 1, buf, len);
		reached(phase_names[ph], segs, 3);
	}
	for (uint32_t serial = 1; serial <= 2; serial++) {
		bool asleep;

		put_image_msg(&m, serial, (serial - 1) * FRAME_BYTES);
		len = sf__peer_encode(buf, sizeof buf, SF_PUT_IMAGE, &m, sizeof m,
		                      NULL, 0);
		asleep = sf__peer_control_push(&ctl, next++, buf, len);
		if (asleep && ph == PH_RING_LATCHED) {
			struct sf_header kick = { 0 };

			sf__peer_send(fd, SF_KICK, &kick, sizeof kick, NULL, 0, -1);
			next++;
		}
	}
	if (ph == PH_RING_PENDING)
		reached(phase_names[ph], segs, 3);
	/* RELEASE of frame 1, PRESENTED of both: on the event ring, which
	 * nobody will read. */
	ev_head = (uint32_t *)((uint8_t *)ctl.seg.map + SF_CONTROL_EV_HEAD);
	for (int i = 0; __atomic_load_n(ev_head, __ATOMIC_ACQUIRE) < 3; i++) {
		if (i == 500)
			die("the server put %u events of 3 on the event ring",
			    *ev_head);
		usleep(10000);
	}
	reached(phase_names[ph], segs, 3);
}

static int parse_kind(const char *text)
{
	if (strcmp(text, "memfd") == 0)
		return SF_SHM_MEMFD;
	if (strcmp(text, "posix") == 0)
		return SF_SHM_POSIX;
	if (strcmp(text, "sysv") == 0)
		return SF_SHM_SYSV;
	if (strcmp(text, "socket") == 0)
		return SF_SHM_NONE;
	die("unknown kind '%s' (memfd, posix, sysv or socket)", text);
}

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " unix:PATH memfd|posix|sysv|socket PHASE\n"
	        "       " PROG " --segment memfd|posix|sysv\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sf_segment segs[3];
	uint8_t buf[256];
	size_t len;
	int fd, kind, ph = -1;

	/* Killed by the test, never by a broken pipe: a write error is a
	 * message. */
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 3; i++)
		sf__segment_init(&segs[i]);
	if (argc == 3 && strcmp(argv[1], "--segment") == 0) {
		kind = parse_kind(argv[2]);
		if (kind == SF_SHM_NONE)
			usage();
		make_segment(&segs[0], kind, 4096, SF_PROBE, 0, 0, buf, &len);
		reached("segment", segs, 1);
	}
	if (argc != 4)
		usage();
	kind = parse_kind(argv[2]);
	for (size_t i = 0; i < sizeof phase_names / sizeof phase_names[0]; i++)
		if (strcmp(argv[3], phase_names[i]) == 0)
			ph = (int)i;
	if (ph < 0)
		usage();
	if (kind == SF_SHM_NONE && (ph == PH_PROBE_HALF || ph == PH_PROBED ||
	                            ph == PH_ATTACHED || ph == PH_LATCHED ||
	                            ph >= PH_RING_ATTACHED))
		die("phase %s needs a segment kind", phase_names[ph]);

	fd = sf__peer_connect(argv[1], 0, NULL);
	if (fd < 0)
		die("connect %s: %s", argv[1], strerror(errno));
	if (ph == PH_CONNECT)
		reached(phase_names[ph], segs, 0);

	len = sf__peer_hello(buf, sizeof buf, NULL);
	if (ph == PH_HELLO_HALF) {
		sf__peer_write_all(fd, buf, len / 2, -1);
		reached(phase_names[ph], segs, 0);
	}
	sf__peer_write_all(fd, buf, len, -1);
	{
		struct sf_welcome w;

		len = wait_event(fd, SF_WELCOME, buf, sizeof buf);
		if (sf__decode_welcome(buf, len, &w, NULL) != 0)
			die("bad WELCOME");
		memcpy(challenge, w.challenge, sizeof challenge);
	}
	if (ph == PH_WELCOME)
		reached(phase_names[ph], segs, 0);

	if (ph == PH_PROBE_HALF || ph == PH_PROBED) {
		int pass = -1;

		make_segment(&segs[0], kind, 4096, SF_PROBE, 0, 0, buf, &len);
		if (kind == SF_SHM_MEMFD)
			pass = segs[0].fd;
		if (ph == PH_PROBE_HALF) {
			sf__peer_write_all(fd, buf, len / 2, pass);
			sf__segment_unlink(&segs[0]);
			reached(phase_names[ph], segs, 1);
		}
		sf__peer_write_all(fd, buf, len, pass);
		len = wait_event(fd, SF_PROBE_RESULT, buf, sizeof buf);
		if (buf[9] != SF_PROBE_OK)
			die("the %s probe failed: %s", argv[2],
			    sf__probe_status_name(buf[9]));
		/* The server unlinked the name once the proof matched. */
		sf__segment_unlink(&segs[0]);
		reached(phase_names[ph], segs, 1);
	}

	if (kind != SF_SHM_NONE) {
		/* Room for two frames in the main segment; the second segment
		 * is a readback target, which the server maps writable. */
		make_segment(&segs[0], kind, 2 * FRAME_BYTES, SF_ATTACH_SEGMENT,
		             SEG_MAIN, 0, buf, &len);
		sf__peer_write_all(fd, buf, len,
		                   kind == SF_SHM_MEMFD ? segs[0].fd : -1);
		make_segment(&segs[1], kind, FRAME_BYTES, SF_ATTACH_SEGMENT,
		             SEG_READBACK, SF_SEGMENT_WRITABLE, buf, &len);
		sf__peer_write_all(fd, buf, len,
		                   kind == SF_SHM_MEMFD ? segs[1].fd : -1);
	}
	create_surface(fd);
	sync_with(fd, 1);
	/* As the library does: the names go once the server holds them. */
	sf__segment_unlink(&segs[0]);
	sf__segment_unlink(&segs[1]);
	if (ph == PH_ATTACHED)
		reached(phase_names[ph], segs, 2);
	if (ph >= PH_RING_ATTACHED)
		ring_phase(fd, ph, segs);

	if (ph == PH_FRAME_HALF) {
		struct sf_put_image m;
		uint8_t *px = malloc(FRAME_BYTES);

		if (!px)
			die("out of memory");
		memset(px, 0x5a, FRAME_BYTES);
		memset(&m, 0, sizeof m);
		m.surface = SURFACE_ID;
		m.serial = 1;
		sf__peer_send(fd, SF_PUT_IMAGE, &m, sizeof m, NULL, 0, -1);
		sf__peer_write_all(fd, px, FRAME_BYTES / 2, -1);
		reached(phase_names[ph], segs, 2);
	}

	/* PH_LATCHED: the first frame is released when the second replaces
	 * it; the second stays latched in the server. */
	memset(segs[0].map, 0x11, FRAME_BYTES);
	memset((uint8_t *)segs[0].map + FRAME_BYTES, 0x22, FRAME_BYTES);
	put_from_segment(fd, 1, 0);
	put_from_segment(fd, 2, FRAME_BYTES);
	wait_event(fd, SF_RELEASE, buf, sizeof buf);
	{
		struct sf_release r;
		const char *why;

		if (sf__decode_release(buf, sizeof r, &r, &why) || r.serial != 1)
			die("expected the RELEASE of frame 1");
	}
	sync_with(fd, 2);
	reached(phase_names[ph], segs, 2);
}
