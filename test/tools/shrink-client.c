/*
 * sf-shrink-client: a client that shrinks a latched POSIX buffer while
 * the server is busy with its backlog, so that the SIGBUS is found outside
 * any request of its own and the server fails it from another client's
 * turn.  That is the state that made the backlog walk of 1.0 spin forever
 * (the walk kept a pointer to the entry that failing removed).
 *
 *     sf-shrink-client unix:PATH snapshot SERVER_PID ROUNDS
 *     sf-shrink-client unix:PATH display ROUNDS
 *
 * One busy connection (SYNCs only) stays for every round.  Each round a
 * shrinker connection attaches a POSIX segment, latches a frame from it
 * and truncates the segment to 0; then the busy connection and after it
 * the shrinker queue thousands of SYNCs each, so that both wait on the
 * server's backlog, the busy one first.  The shrunk pages are then read
 * outside any request:
 *   snapshot  the tool sends SIGUSR1 to SERVER_PID (the server runs with
 *             --dump-dir) once both connections are on the backlog, with
 *             their bytes all read by the server (no socket event comes
 *             first);
 *   display   the shrinker presents a second frame from the shrunk
 *             segment and both keep streaming SYNCs until the SDL
 *             display's next tick uploads it.
 * The shrinker must get ERROR BAD_SEGMENT and the busy connection every
 * SYNC_DONE it asked for, with never 5 s between two answers (setting a
 * shrinker up, which makes a window, may take 30 s).  Prints "round N
 * survived" after each round and "ok rounds=N" at the end, exit status 0,
 * or exits 1 saying what the server stopped doing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "raw-peer.h"
#include "segment.h"
#include "wire.h"

#define PROG "sf-shrink-client"
#define SURF_W 64u
#define SURF_H 48u
#define FRAME_BYTES ((size_t)SURF_W * SURF_H * 4)
/* SYNCs per write, and how many may be unanswered: enough that the
 * server's buffer for the connection never runs dry while streaming. */
#define CHUNK 1024u
#define MAX_OUTSTANDING 6144u
/* The snapshot bursts: the busy one outlasts the shrinker's, and each
 * fits the server's input buffer (one read takes it whole). */
#define BUSY_BURST 4000u
#define SHRINK_BURST 2000u
#define STALL_NS (5ull * 1000000000ull)
/* Setting up a shrinker makes a window, which under a sanitizer takes
 * seconds. */
#define SETUP_NS (30ull * 1000000000ull)

struct conn {
	const char *label;
	int fd;
	uint8_t in[1 << 16];
	size_t in_len;
	uint64_t sent, done;      /* SYNCs sent and answered */
	uint8_t *out;             /* bytes being written (nonblocking) */
	size_t out_len, out_off;
	bool error, eof;
	uint32_t error_code;
	char error_text[SF_MAX_TEXT + 1];
	bool presented;
	uint8_t challenge[SF_CHALLENGE_SIZE]; /* from WELCOME */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Counts the complete events in c->in and keeps the rest. */
static void parse_events(struct conn *c)
{
	size_t off = 0;

	for (;;) {
		struct sf_header h;
		const char *why = NULL;
		int r = sf__header_check(c->in + off, c->in_len - off, SF_MAX_MESSAGE,
		                         &h, &why);

		if (r < 0)
			die("%s: bad event: %s", c->label, why);
		if (r == 0 || c->in_len - off < h.length)
			break;
		if (h.length > sizeof c->in)
			die("%s: event of %u bytes", c->label, h.length);
		if (h.type == SF_WELCOME) {
			struct sf_welcome w;

			if (sf__decode_welcome(c->in + off, h.length, &w, &why) < 0)
				die("%s: bad WELCOME: %s", c->label, why);
			memcpy(c->challenge, w.challenge, sizeof c->challenge);
		} else if (h.type == SF_SYNC_DONE) {
			c->done++;
		} else if (h.type == SF_PRESENTED) {
			c->presented = true;
		} else if (h.type == SF_ERROR) {
			struct sf_error e;

			if (sf__decode_error(c->in + off, h.length, &e, c->error_text,
			                     &why) < 0)
				die("%s: bad ERROR: %s", c->label, why);
			c->error = true;
			c->error_code = e.code;
		}
		off += h.length;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

/* Reads what is there, without waiting. */
static void read_some(struct conn *c)
{
	ssize_t n;

	if (c->eof)
		return;
	n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0 && errno == ECONNRESET) {
		c->eof = true;
		return;
	}
	if (n < 0)
		die("%s: read: %s", c->label, strerror(errno));
	if (n == 0) {
		c->eof = true;
		return;
	}
	c->in_len += (size_t)n;
	parse_events(c);
}

/* Blocking: waits until cond holds for c, at most STALL_NS. */
static void wait_for(struct conn *c, bool (*cond)(const struct conn *),
                     const char *what, uint64_t limit_ns)
{
	uint64_t deadline = now_ns() + limit_ns;

	while (!cond(c)) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		uint64_t now = now_ns();

		if (c->error)
			die("%s: ERROR %s while waiting for %s: %s", c->label,
			    sf__error_name(c->error_code), what, c->error_text);
		if (c->eof)
			die("%s: the server closed the connection while waiting "
			    "for %s", c->label, what);
		if (now >= deadline)
			die("%s: no %s within %g s: the server stopped answering",
			    c->label, what, (double)limit_ns / 1e9);
		poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
		read_some(c);
	}
}

static bool first_done(const struct conn *c) { return c->done >= 1; }
static bool all_done(const struct conn *c) { return c->done == c->sent; }
static bool was_presented(const struct conn *c) { return c->presented; }

static void conn_open(struct conn *c, const char *label, const char *addr_text)
{
	uint8_t buf[256];

	memset(c, 0, sizeof *c);
	c->label = label;
	/* Blocking until streaming starts. */
	c->fd = sf__peer_connect(addr_text, 0, NULL);
	if (c->fd < 0)
		die("connect %s: %s", addr_text, strerror(errno));
	sf__peer_write_all(c->fd, buf, sf__peer_hello(buf, sizeof buf, NULL), -1);
	/* WELCOME is not counted; SYNC_DONE after it says we are in. */
	c->sent++;
	{
		struct sf_sync s = { .serial = 0 };

		sf__peer_send(c->fd, SF_SYNC, &s, sizeof s, NULL, 0, -1);
	}
	wait_for(c, all_done, "SYNC_DONE after HELLO", SETUP_NS);
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

static uint8_t *sync_burst(unsigned n, size_t *len)
{
	uint8_t *buf = malloc((size_t)n * sizeof(struct sf_sync));

	if (!buf)
		die("out of memory");
	for (unsigned i = 0; i < n; i++) {
		struct sf_sync s = { .serial = i + 1 };

		sf__peer_encode(buf + (size_t)i * sizeof s, sizeof s, SF_SYNC, &s,
		                sizeof s, NULL, 0);
	}
	*len = (size_t)n * sizeof(struct sf_sync);
	return buf;
}

/* Queues n SYNCs (after prefix, when given) to be written nonblocking. */
static void queue_syncs(struct conn *c, unsigned n, const uint8_t *prefix,
                        size_t prefix_len)
{
	size_t len, left = c->out_len - c->out_off;
	uint8_t *syncs = sync_burst(n, &len);
	uint8_t *buf = malloc(left + prefix_len + len);

	if (!buf)
		die("out of memory");
	if (left)
		memcpy(buf, c->out + c->out_off, left);
	if (prefix_len)
		memcpy(buf + left, prefix, prefix_len);
	memcpy(buf + left + prefix_len, syncs, len);
	len += left + prefix_len;
	free(syncs);
	free(c->out);
	c->out = buf;
	c->out_len = len;
	c->out_off = 0;
	c->sent += n;
}

static void write_some(struct conn *c)
{
	ssize_t n;

	if (c->out_off == c->out_len || c->error || c->eof)
		return;
	n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
	         MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
		c->eof = true;
		return;
	}
	if (n < 0)
		die("%s: write: %s", c->label, strerror(errno));
	c->out_off += (size_t)n;
}

/* One poll over both connections: reads answers, writes queued bytes and,
 * while streaming, tops up the unanswered SYNCs.  Dies when neither
 * connection made progress for STALL_NS. */
struct progress {
	uint64_t at, mark;
};

static void pump(struct conn **cs, int n, bool *streaming,
                 struct progress *pr)
{
	struct pollfd p[2];
	uint64_t sum = 0, now;

	for (int i = 0; i < n; i++) {
		struct conn *c = cs[i];

		if (streaming[i] && !c->error && !c->eof &&
		    c->sent - c->done + CHUNK <= MAX_OUTSTANDING &&
		    c->out_off == c->out_len)
			queue_syncs(c, CHUNK, NULL, 0);
		p[i].fd = c->eof ? -1 : c->fd;
		p[i].events = POLLIN | (c->out_off < c->out_len ? POLLOUT : 0);
		p[i].revents = 0;
	}
	poll(p, (nfds_t)n, 100);
	for (int i = 0; i < n; i++) {
		if (p[i].revents & POLLOUT)
			write_some(cs[i]);
		if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
			read_some(cs[i]);
		sum += cs[i]->done + cs[i]->error + cs[i]->eof + cs[i]->out_off;
	}
	now = now_ns();
	if (sum != pr->mark) {
		pr->mark = sum;
		pr->at = now;
	} else if (now - pr->at > STALL_NS) {
		die("the server stopped answering: %s has %llu of %llu SYNC_DONE, "
		    "%s %llu of %llu and %s", cs[0]->label,
		    (unsigned long long)cs[0]->done, (unsigned long long)cs[0]->sent,
		    cs[1]->label, (unsigned long long)cs[1]->done,
		    (unsigned long long)cs[1]->sent,
		    cs[1]->error ? "its ERROR" : "no ERROR");
	}
}

static void put_image(struct conn *c, uint32_t serial, uint64_t offset,
                      uint8_t *buf, size_t *len)
{
	struct sf_put_image m;

	memset(&m, 0, sizeof m);
	m.surface = 1;
	m.serial = serial;
	m.segment = 1;
	m.buffer = serial;
	m.offset = offset;
	m.stride = SURF_W * 4;
	*len = sf__peer_encode(buf, 64, SF_PUT_IMAGE, &m, sizeof m, NULL, 0);
	(void)c;
}

/* The shrinker: a frame latched from a POSIX segment, presented (display)
 * or at least received (snapshot), then the segment truncated to 0. */
static void shrinker_setup(struct conn *c, const char *addr, bool display,
                           struct sf_segment *seg)
{
	static const char title[] = "shrinker";
	struct sf_segment_msg m;
	struct sf_create_surface cs;
	uint8_t buf[256];
	size_t len;
	int err;

	conn_open(c, "shrinker", addr);
	err = sf__segment_create(seg, SF_SHM_POSIX, 2 * FRAME_BYTES);
	if (err)
		die("cannot create a POSIX segment: %s", strerror(-err));
	memset(&m, 0, sizeof m);
	if ((err = sf__random(m.nonce, sizeof m.nonce)) != 0)
		die("no random nonce: %s", strerror(-err));
	memset(seg->map, 0x5a, 2 * FRAME_BYTES);
	/* conn_open waited for a SYNC_DONE, so WELCOME came before it. */
	sf__segment_write_proof(seg, m.nonce, c->challenge);
	m.id = 1;
	m.kind = SF_SHM_POSIX;
	m.size = 2 * FRAME_BYTES;
	m.shmid = -1;
	memcpy(m.name, seg->name, sizeof m.name);
	sf__peer_send(c->fd, SF_ATTACH_SEGMENT, &m, sizeof m, NULL, 0, -1);
	memset(&cs, 0, sizeof cs);
	cs.id = 1;
	cs.width = SURF_W;
	cs.height = SURF_H;
	cs.format = SF_FORMAT_ARGB8888;
	cs.present_mode = SF_PRESENT_LATCH;
	cs.title_len = sizeof title - 1;
	sf__peer_send(c->fd, SF_CREATE_SURFACE, &cs, sizeof cs, title,
	              sizeof title - 1, -1);
	put_image(c, 1, 0, buf, &len);
	sf__peer_write_all(c->fd, buf, len, -1);
	{
		struct sf_sync s = { .serial = 0 };

		sf__peer_send(c->fd, SF_SYNC, &s, sizeof s, NULL, 0, -1);
		c->sent++;
	}
	wait_for(c, all_done, "SYNC_DONE after the first frame", SETUP_NS);
	/* The server removed the name once the nonce matched. */
	sf__segment_unlink(seg);
	/* On screen already: the display has nothing to upload until the
	 * next frame. */
	if (display)
		wait_for(c, was_presented, "PRESENTED of the first frame",
		         SETUP_NS);
	if (ftruncate(seg->fd, 0) < 0)
		die("ftruncate: %s", strerror(errno));
}

static void round_snapshot(struct conn *busy, const char *addr, pid_t server)
{
	struct conn *shr = calloc(1, sizeof *shr);
	struct conn *cs[2] = { busy, shr };
	bool streaming[2] = { false, false };
	struct progress pr = { now_ns(), 0 };
	struct sf_segment seg;
	uint8_t *buf;
	size_t len;

	if (!shr)
		die("out of memory");
	sf__segment_init(&seg);
	shrinker_setup(shr, addr, false, &seg);
	/* The busy connection first: on the backlog ahead of the shrinker. */
	busy->done = busy->sent = 0;
	buf = sync_burst(BUSY_BURST, &len);
	sf__peer_write_all(busy->fd, buf, len, -1);
	free(buf);
	busy->sent = BUSY_BURST;
	wait_for(busy, first_done, "the first SYNC_DONE of its burst",
	         STALL_NS);
	shr->done = shr->sent = 0;
	buf = sync_burst(SHRINK_BURST, &len);
	sf__peer_write_all(shr->fd, buf, len, -1);
	free(buf);
	shr->sent = SHRINK_BURST;
	wait_for(shr, first_done, "the first SYNC_DONE of its burst",
	         STALL_NS);
	/* Both have SYNCs left on the backlog now, all read by the server. */
	if (kill(server, SIGUSR1) < 0)
		die("kill %d: %s", (int)server, strerror(errno));
	while (!(shr->error || shr->eof) || !all_done(busy))
		pump(cs, 2, streaming, &pr);
	if (shr->error && shr->error_code != SF_ERR_BAD_SEGMENT)
		die("shrinker: ERROR %s, expected BAD_SEGMENT: %s",
		    sf__error_name(shr->error_code), shr->error_text);
	conn_close(shr);
	free(shr);
	sf__segment_close(&seg);
}

static void round_display(struct conn *busy, const char *addr)
{
	struct conn *shr = calloc(1, sizeof *shr);
	struct conn *cs[2] = { busy, shr };
	bool streaming[2] = { true, false };
	struct progress pr = { now_ns(), 0 };
	struct sf_segment seg;
	uint8_t frame[64];
	size_t len;

	if (!shr)
		die("out of memory");
	sf__segment_init(&seg);
	shrinker_setup(shr, addr, true, &seg);
	busy->done = busy->sent = 0;
	/* The busy connection streams first, so that it is on the backlog
	 * ahead of the shrinker, and stays there while both stream. */
	while (busy->done == 0)
		pump(cs, 1, streaming, &pr);
	/* A frame from the shrunk segment: latched without being read; the
	 * display's next tick reads it. */
	shr->done = shr->sent = 0;
	put_image(shr, 2, FRAME_BYTES, frame, &len);
	queue_syncs(shr, CHUNK, frame, len);
	streaming[1] = true;
	while (!shr->error && !shr->eof)
		pump(cs, 2, streaming, &pr);
	if (shr->error && shr->error_code != SF_ERR_BAD_SEGMENT)
		die("shrinker: ERROR %s, expected BAD_SEGMENT: %s",
		    sf__error_name(shr->error_code), shr->error_text);
	streaming[0] = false;
	while (busy->out_off < busy->out_len || !all_done(busy))
		pump(cs, 2, streaming, &pr);
	conn_close(shr);
	free(shr);
	sf__segment_close(&seg);
}

__attribute__((noreturn)) static void usage(void)
{
	fprintf(stderr, "usage: " PROG " unix:PATH snapshot SERVER_PID ROUNDS\n"
	        "       " PROG " unix:PATH display ROUNDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct conn busy;
	bool display;
	pid_t server = 0;
	int rounds;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && strcmp(argv[2], "snapshot") == 0) {
		display = false;
		server = (pid_t)atoi(argv[3]);
		rounds = atoi(argv[4]);
	} else if (argc == 4 && strcmp(argv[2], "display") == 0) {
		display = true;
		rounds = atoi(argv[3]);
	} else {
		usage();
	}
	if (rounds <= 0 || (!display && server <= 0))
		usage();
	conn_open(&busy, "busy", argv[1]);
	for (int i = 0; i < rounds; i++) {
		if (display)
			round_display(&busy, argv[1]);
		else
			round_snapshot(&busy, argv[1], server);
		printf("round %d survived\n", i + 1);
		fflush(stdout);
	}
	conn_close(&busy);
	printf("ok rounds=%d\n", rounds);
	return 0;
}
