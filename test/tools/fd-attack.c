/*
 * sf-fd-attack: attacks on the server's file descriptors and connection
 * slots, and the healthy client that measures what they cost the others.
 *
 *     sf-fd-attack linger unix:PATH before|after|nested|unread N
 *         N times: connect, pass a TCP socket whose close() lingers (15 s
 *         of SO_LINGER, unacknowledged data to a local listener that never
 *         reads) with half a HELLO (before), or with a SYNC after WELCOME
 *         (after), or a Unix socket holding such a socket unread (nested),
 *         and drop every copy of our own.  Whoever closes last waits: the
 *         server, unless it disposed of its copy before we closed ours.
 *         unread makes it the server for certain: a GET_IMAGE we never
 *         read stops the server reading from us, the socket (with a SYNC)
 *         waits unread in the connection, our copy goes, and then the
 *         connection: closing it frees the socket.  Prints "error=CODE" (the ERROR's
 *         code, or "closed", "timeout") for what the server answered each
 *         time, then "passed N" and waits to be
 *         killed (the listener must stay, or the data would be dropped).
 *     sf-fd-attack hold ADDR N SECONDS [SOURCE_IP]
 *         Holds N connections that never say HELLO, opening a new one each
 *         time one is closed, for SECONDS; over TCP from SOURCE_IP when
 *         given (127.0.0.2: another host, as far as the server can tell).
 *         Prints "opened=K" at the end.
 *     sf-fd-attack queue unix:PATH N hello|probe|pixels
 *         N connections, each trying to make the server hold fds: memfds
 *         sent one per byte with the first bytes of a HELLO (hello), after
 *         WELCOME with the first bytes of a memfd PROBE (probe), or with
 *         the inline pixels of a PUT_IMAGE left unfinished (pixels), up to
 *         28 per connection.  Prints "connections=K fds=F refused=R" (R:
 *         connections the server failed or closed) and waits to be killed.
 *     sf-fd-attack ping ADDR SECONDS
 *         A healthy client (the public API, default transport): presents
 *         frames with a round trip after each for SECONDS; prints
 *         "frames=N max_ms=M".  Exit 1 when the connection fails.
 *
 * Exit 2 for usage, 1 when something that must work does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "raw-peer.h"
#include "shmframe.h"
#include "wire.h"

#define PROG "sf-fd-attack"
#define MAX_HOLD 1024
#define QUEUE_FDS 28

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The source address of TCP connections (hold), or NULL: any. */
static const char *source_ip;

static void send_with(int sock, const void *buf, size_t len, const int *fds,
                      unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof control);
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	/* A server that closed on us is an answer, not a failure. */
	sendmsg(sock, &msg, MSG_NOSIGNAL);
}

/* Reads events until want (0: until the end of the stream); returns the
 * ERROR's code name when one came first, or NULL. */
static const char *read_until(int fd, uint16_t want, double timeout)
{
	static char name[32];
	uint8_t msg[SF_MAX_MESSAGE + 8];
	size_t have = 0;
	double end = now_s() + timeout;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sf_header h;
		ssize_t n;

		while (have >= sizeof h &&
		       sf__header_check(msg, have, SF_MAX_MESSAGE, &h, NULL) > 0 &&
		       have >= h.length) {
			if (h.type == SF_ERROR) {
				struct sf_error e;
				char text[SF_MAX_TEXT + 1];
				const char *why;

				if (sf__decode_error(msg, h.length, &e, text, &why) == 0)
					snprintf(name, sizeof name, "%u", e.code);
				else
					snprintf(name, sizeof name, "undecodable");
				return name;
			}
			if (h.type == want && want)
				return NULL;
			memmove(msg, msg + h.length, have - h.length);
			have -= h.length;
		}
		if (poll(&p, 1, (int)((end - now_s()) * 1000)) <= 0)
			return "timeout";
		n = read(fd, msg + have, sizeof msg - have);
		if (n <= 0)
			return "closed";
		have += (size_t)n;
	}
}

/* ---- linger ------------------------------------------------------------ */

static void *close_main(void *arg)
{
	close((int)(intptr_t)arg);
	return NULL;
}

/* When our close() is the last, it is ours that lingers: not on the path
 * of the next attack. */
static void close_in_background(int fd)
{
	pthread_t t;

	if (pthread_create(&t, NULL, close_main, (void *)(intptr_t)fd) == 0)
		pthread_detach(t);
	else
		close(fd);
}

static int listener_fd = -1;
static int accepted[256];
static unsigned n_accepted;

/* A TCP socket whose last close() sleeps up to 15 s: SO_LINGER, and data
 * stuck behind the zero window of a peer that never reads. */
static int linger_s = 15;

static int lingering_socket(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sin;
	struct linger lg = { .l_onoff = 1, .l_linger = linger_s };
	static char junk[1 << 16];
	int small = 4096, fd, unsent = 0;

	if (listener_fd < 0) {
		listener_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(listener_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
		if (bind(listener_fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
		    listen(listener_fd, 64) < 0)
			die("listen: %s", strerror(errno));
	}
	if (getsockname(listener_fd, (struct sockaddr *)&sin, &sl) < 0)
		die("getsockname: %s", strerror(errno));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0)
		die("connect: %s", strerror(errno));
	if (n_accepted == sizeof accepted / sizeof accepted[0])
		die("too many");
	accepted[n_accepted++] = accept4(listener_fd, NULL, NULL, SOCK_CLOEXEC);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	while (send(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		;
	if (ioctl(fd, TIOCOUTQ, &unsent) < 0 || unsent == 0)
		die("no unacknowledged data");
	return fd;
}

/* A Unix socket with a lingering TCP socket queued in it, unread. */
static int nested_socket(void)
{
	int sv[2], tcp = lingering_socket();
	char c = 'n';

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	send_with(sv[1], &c, 1, &tcp, 1);
	close(tcp);
	close_in_background(sv[1]);
	return sv[0];
}

static int cmd_linger(const char *addr, const char *when, int n)
{
	for (int i = 0; i < n; i++) {
		uint8_t buf[256];
		size_t len = sf__peer_hello(buf, sizeof buf, NULL);
		int fd = sf__peer_connect(addr, 0, source_ip), evil;
		const char *err;

		if (fd < 0)
			die("cannot connect to %s: %s", addr, strerror(errno));
		evil = strcmp(when, "nested") == 0 ? nested_socket() : lingering_socket();
		if (strcmp(when, "unread") == 0) {
			struct sf_create_surface cs;
			struct sf_get_image g;
			struct sf_sync sy = { .serial = 1 };

			send_with(fd, buf, len, NULL, 0);
			if ((err = read_until(fd, SF_WELCOME, 10)))
				die("no WELCOME: %s", err);
			memset(&cs, 0, sizeof cs);
			cs.id = 1;
			cs.width = 1024;
			cs.height = 1024;
			cs.format = SF_FORMAT_ARGB8888;
			cs.present_mode = SF_PRESENT_LATCH;
			len = sf__encode(buf, sizeof buf, SF_CREATE_SURFACE, &cs,
			                 sizeof cs, NULL, 0);
			send_with(fd, buf, len, NULL, 0);
			memset(&g, 0, sizeof g);
			g.surface = 1;
			g.serial = 1;
			g.rect.width = 1024;
			g.rect.height = 1024;
			len = sf__encode(buf, sizeof buf, SF_GET_IMAGE, &g, sizeof g,
			                 NULL, 0);
			send_with(fd, buf, len, NULL, 0);
			/* The server is now writing 4 MiB to us, and reads nothing
			 * more until we took them. */
			usleep(200000);
			len = sf__encode(buf, sizeof buf, SF_SYNC, &sy, sizeof sy, NULL, 0);
			send_with(fd, buf, len, &evil, 1);
			close(evil);
			usleep(100000);
			close(fd);
			printf("error=unread\n");
			fflush(stdout);
			continue;
		}
		if (strcmp(when, "before") == 0) {
			send_with(fd, buf, len / 2, &evil, 1);
		} else {
			struct sf_sync s = { .serial = 1 };

			send_with(fd, buf, len, NULL, 0);
			if ((err = read_until(fd, SF_WELCOME, 10)))
				die("no WELCOME: %s", err);
			len = sf__encode(buf, sizeof buf, SF_SYNC, &s, sizeof s, NULL, 0);
			send_with(fd, buf, len, &evil, 1);
		}
		/* Ours goes: the server's copy may be the last. */
		close_in_background(evil);
		err = read_until(fd, 0, 30);
		printf("error=%s\n", err ? err : "none");
		fflush(stdout);
		close(fd);
	}
	printf("passed %d\n", n);
	fflush(stdout);
	for (;;)
		pause();
}

/* ---- jam --------------------------------------------------------------- */

/* Sends one byte with SF_FDS_PER_MSG_MAX copies of fd; false when the
 * server is gone (closed, or reset). */
static bool send_many(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(SF_FDS_PER_MSG_MAX * sizeof(int))];
		struct cmsghdr align;
	} control;
	int fds[SF_FDS_PER_MSG_MAX];
	char c = 0;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof control.buf };
	struct cmsghdr *cm;

	for (int i = 0; i < SF_FDS_PER_MSG_MAX; i++)
		fds[i] = fd;
	memset(&control, 0, sizeof control);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(cm), fds, sizeof fds);
	return sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ||
	       errno == EAGAIN;
}

/*
 * First STUCK connections each pass a Unix socket holding a TCP socket
 * that lingers for an hour (nested, as in linger): whoever frees it waits
 * the hour.  Then CONNS connections each send, for up to a second, bytes
 * that carry SF_FDS_PER_MSG_MAX fds apiece (a pipe, which closes at once).
 */
static int cmd_jam(const char *addr, int stuck, int conns)
{
	uint8_t buf[256];
	unsigned long sent = 0;
	int p[2];

	linger_s = 3600;
	for (int i = 0; i < stuck; i++) {
		size_t len = sf__peer_hello(buf, sizeof buf, NULL);
		int fd = sf__peer_connect(addr, 0, source_ip), evil = nested_socket();
		struct sf_sync s = { .serial = 1 };
		const char *err;

		if (fd < 0)
			die("cannot connect to %s: %s", addr, strerror(errno));
		send_with(fd, buf, len, NULL, 0);
		if ((err = read_until(fd, SF_WELCOME, 10)))
			die("no WELCOME: %s", err);
		len = sf__encode(buf, sizeof buf, SF_SYNC, &s, sizeof s, NULL, 0);
		send_with(fd, buf, len, &evil, 1);
		close_in_background(evil);
		err = read_until(fd, 0, 10);
		printf("error=%s\n", err ? err : "none");
		fflush(stdout);
		close(fd);
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	for (int i = 0; i < conns; i++) {
		int fd = sf__peer_connect(addr, 0, source_ip);
		double end = now_s() + 1;

		if (fd < 0)
			continue;
		while (now_s() < end && send_many(fd, p[0]))
			sent++;
		close(fd);
	}
	printf("flooded sent=%lu\n", sent);
	fflush(stdout);
	for (;;)
		pause();
}

/* ---- hold -------------------------------------------------------------- */

static int cmd_hold(const char *addr, int n, double seconds)
{
	static struct pollfd p[MAX_HOLD];
	double end = now_s() + seconds;
	unsigned long opened = 0;

	if (n > MAX_HOLD)
		die("at most %d connections", MAX_HOLD);
	for (int i = 0; i < n; i++)
		p[i].fd = -1;
	while (now_s() < end) {
		for (int i = 0; i < n; i++) {
			if (p[i].fd >= 0)
				continue;
			p[i].fd = sf__peer_connect(addr, SOCK_NONBLOCK, source_ip);
			p[i].events = POLLIN;
			opened += p[i].fd >= 0;
		}
		if (poll(p, (nfds_t)n, 50) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			char buf[4096];

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			/* An ERROR or the end: either way a slot to open again. */
			(void)!read(p[i].fd, buf, sizeof buf);
			close(p[i].fd);
			p[i].fd = -1;
		}
	}
	printf("opened=%lu\n", opened);
	return 0;
}

/* ---- queue ------------------------------------------------------------- */

static int cmd_queue(const char *addr, int n, const char *how)
{
	int memfd = memfd_create("attack", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int *conns = calloc((size_t)n, sizeof *conns);
	unsigned long fds = 0, refused = 0;
	int made = 0;

	if (memfd < 0 || !conns || ftruncate(memfd, 1 << 16) < 0)
		die("memfd: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		uint8_t buf[512];
		size_t len = sf__peer_hello(buf, sizeof buf, NULL);
		int fd = sf__peer_connect(addr, 0, source_ip);
		const char *err;

		conns[i] = fd;
		if (fd < 0)
			continue;
		made++;
		if (strcmp(how, "hello") == 0) {
			for (int k = 0; k < QUEUE_FDS; k++, fds++)
				send_with(fd, buf + k, 1, &memfd, 1);
			continue;
		}
		send_with(fd, buf, len, NULL, 0);
		if ((err = read_until(fd, SF_WELCOME, 2))) {
			refused++;
			continue;
		}
		if (strcmp(how, "probe") == 0) {
			struct sf_segment_msg m;

			memset(&m, 0, sizeof m);
			m.kind = SF_SHM_MEMFD;
			m.size = 1 << 16;
			len = sf__encode(buf, sizeof buf, SF_PROBE, &m, sizeof m, NULL, 0);
			for (int k = 0; k < QUEUE_FDS; k++, fds++)
				send_with(fd, buf + k, 1, &memfd, 1);
		} else {
			struct sf_create_surface cs;
			struct sf_put_image put;
			static uint8_t px[64];

			memset(&cs, 0, sizeof cs);
			cs.id = 1;
			cs.width = 256;
			cs.height = 256;
			cs.format = SF_FORMAT_ARGB8888;
			cs.present_mode = SF_PRESENT_LATCH;
			len = sf__encode(buf, sizeof buf, SF_CREATE_SURFACE, &cs,
			                 sizeof cs, NULL, 0);
			send_with(fd, buf, len, NULL, 0);
			memset(&put, 0, sizeof put);
			put.surface = 1;
			put.serial = 1;
			/* No rectangles: the whole surface, inline. */
			len = sf__encode(buf, sizeof buf, SF_PUT_IMAGE, &put, sizeof put,
			                 NULL, 0);
			send_with(fd, buf, len, NULL, 0);
			for (int k = 0; k < QUEUE_FDS; k++, fds++)
				send_with(fd, px, sizeof px, &memfd, 1);
		}
	}
	/* What the server made of it: an answer within a second is a
	 * refusal (an ERROR, or the connection closed). */
	usleep(300000);
	for (int i = 0; i < n; i++) {
		struct pollfd p = { .fd = conns[i], .events = POLLIN };

		if (conns[i] >= 0 && poll(&p, 1, 0) == 1)
			refused++;
	}
	printf("connections=%d fds=%lu refused=%lu\n", made, fds, refused);
	fflush(stdout);
	for (;;)
		pause();
}

/* ---- ping -------------------------------------------------------------- */

static int cmd_ping(const char *addr, double seconds)
{
	struct shmframe_options opts;
	struct shmframe_conn *conn;
	struct shmframe_surface *s;
	double end, worst = 0;
	unsigned long frames = 0;

	shmframe_options_init(&opts);
	opts.name = PROG;
	conn = shmframe_connect(addr, &opts);
	if (!conn || shmframe_conn_error(conn))
		die("cannot connect: %s", conn ? shmframe_last_error(conn) : "no memory");
	s = shmframe_surface_create(conn, 64, 64, SHMFRAME_FORMAT_ARGB8888, PROG);
	if (!s)
		die("no surface: %s", shmframe_last_error(conn));
	printf("streaming transport=%s\n", shmframe_transport_name(conn));
	fflush(stdout);
	end = now_s() + seconds;
	while (now_s() < end) {
		double t0 = now_s(), took;
		struct shmframe_buffer *b = shmframe_acquire(s);
		uint32_t stride;
		uint8_t *px;

		if (!b)
			die("acquire: %s", shmframe_last_error(conn));
		px = shmframe_buffer_pixels(b, &stride);
		memset(px, (int)frames, (size_t)stride * 64);
		if (shmframe_present(s, b, NULL, 0, NULL) < 0 ||
		    shmframe_roundtrip(conn) < 0)
			die("present: %s", shmframe_last_error(conn));
		took = now_s() - t0;
		if (took > worst)
			worst = took;
		frames++;
		usleep(2000);
	}
	printf("frames=%lu max_ms=%.0f\n", frames, worst * 1000);
	shmframe_surface_destroy(s);
	shmframe_disconnect(conn);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " linger unix:PATH before|after|nested|unread N\n"
	        "       " PROG " jam unix:PATH STUCK CONNS\n"
	        "       " PROG " hold ADDR N SECONDS [SOURCE_IP]\n"
	        "       " PROG " queue unix:PATH N hello|probe|pixels\n"
	        "       " PROG " ping ADDR SECONDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && strcmp(argv[1], "linger") == 0)
		return cmd_linger(argv[2], argv[3], atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "jam") == 0)
		return cmd_jam(argv[2], atoi(argv[3]), atoi(argv[4]));
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "hold") == 0) {
		source_ip = argc == 6 ? argv[5] : NULL;
		return cmd_hold(argv[2], atoi(argv[3]), atof(argv[4]));
	}
	if (argc == 5 && strcmp(argv[1], "queue") == 0)
		return cmd_queue(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 4 && strcmp(argv[1], "ping") == 0)
		return cmd_ping(argv[2], atof(argv[3]));
	usage();
}
