/*
 * The server's file descriptors: how many it may hold, and closing the
 * ones whose close() may block.
 *
 * Budget.  At start the soft RLIMIT_NOFILE is raised to the hard one (the
 * server polls with epoll, never select(), so a high fd number is fine).
 * Of that limit, FD_RESERVE stay free for what is not a connection: the
 * listeners, epoll, the signalfd, the display, a segment or a snapshot
 * being opened, and one whole SCM_RIGHTS message (SCM_MAX_FD fds) that the
 * kernel installs before we can look at it.  The rest is the budget; each
 * connection is admitted with its socket and a full fd queue reserved
 * (SF_FD_PER_CONN), so that a client that was let in never finds the
 * memfd of its next request refused, or truncated by the kernel, because
 * other clients took the fds.
 *
 * Closing.  An fd received from a peer that is not a memfd (fdpass.h) may
 * block in close(): a TCP socket with SO_LINGER and unacknowledged data
 * sleeps for its linger time, a tty waits for its output to drain, a FUSE
 * file waits for its daemon's answer to FLUSH, and a Unix socket frees
 * the fds still queued in it -- any of the above -- in the thread that
 * drops the last reference.  So does closing a Unix connection with such
 * fds unread in it.  libwayland and Xorg simply close() what they
 * receive; systemd closes fds it does not trust with asynchronous_close(),
 * on a thread, for these reasons, and so do we: the event loop only hands
 * such fds to a closer thread.  Sockets are defused first (SO_LINGER off,
 * sf__fd_defuse) so that the usual case does not even keep a closer busy.
 * A Unix socket is emptied before its close (empty_unix), each fd queued
 * in it released the same way: undefused, a socket lingering for an hour
 * in there would keep the closer for the hour -- four of them all the
 * closers, after which every fd handed over stays open and the table
 * fills up, whatever the budget said.
 * A close that never returns (a FUSE daemon that never answers) keeps one
 * closer thread forever; up to CLOSERS_MAX of them run, and what waits for
 * them counts against the budget, so the loop itself never waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server-private.h"

/* Fds kept out of the budget: see above. */
#define FD_RESERVE (SF_FDS_PER_MSG_MAX + 64)
#define CLOSERS_MAX 4
/* Small stacks: a closer only empties sockets and calls close(). */
#define CLOSER_STACK (64u << 10)
/* Unix sockets nest in each other's queues: the kernel refuses to pass
 * one more than a few levels deep (MAX_RECURSION_LEVEL, 4), so emptying
 * goes this deep at most. */
#define NEST_MAX 8
/* Messages and connections taken out of one fd handed to a closer (and
 * the sockets nested in it) before it is closed as it is. */
#define EMPTY_MAX 8192
#define SINK_SIZE (16u << 10)

struct sf_closer {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int *fds;                 /* ring of fds waiting to be closed */
	unsigned cap, head, count;
	unsigned threads, busy;   /* closer threads, and those inside close() */
	unsigned pending;         /* count + busy: fds still open */
	/* Emptying Unix sockets installs fds on the closers too: they are
	 * counted (held) and, before each recvmsg, claimed, so that the loop
	 * and the closers together stay within the budget and the reserve.
	 * budget and conn_fds are the loop's view (sfs__fds_used). */
	unsigned held, claimed, budget, conn_fds;
	bool stop;
	bool failed;              /* no thread could be started: close inline */
};

/* ---- budget ------------------------------------------------------------ */

static unsigned budget_from_rlimit(void)
{
	struct rlimit rl;
	rlim_t n;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024 - FD_RESERVE;
	n = rl.rlim_cur;
	if (n == RLIM_INFINITY || n > (rlim_t)UINT32_MAX / 2)
		n = (rlim_t)UINT32_MAX / 2;
	/* A limit too low for the reserve still admits a few connections. */
	if (n < 2 * FD_RESERVE)
		return (unsigned)(n / 2);
	return (unsigned)(n - FD_RESERVE);
}

void sfs__fds_setup(struct sf_server *server)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			sfs__verbose(server, "cannot raise the open file limit from "
			            "%llu to %llu: %s", (unsigned long long)was,
			            (unsigned long long)rl.rlim_max, strerror(errno));
	}
	server->fd_budget = budget_from_rlimit();
	sfs__verbose(server, "file descriptors: %u for connections (%u each: "
	            "up to %u connections)", server->fd_budget, SF_FD_PER_CONN,
	            server->fd_budget / SF_FD_PER_CONN);
}

unsigned sfs__fds_budget(struct sf_server *server)
{
	/* A server set up without sfs__fds_setup (a test driving it in
	 * process) lives with the limit it was given. */
	if (server->fd_budget == 0)
		server->fd_budget = budget_from_rlimit();
	return server->fd_budget;
}

unsigned sfs__fds_used(const struct sf_server *server)
{
	unsigned pending = 0;

	if (server->closer) {
		struct sf_closer *cl = server->closer;

		pthread_mutex_lock(&cl->lock);
		cl->conn_fds = server->n_clients * SF_FD_PER_CONN;
		cl->budget = server->fd_budget;
		pending = cl->pending + cl->held + cl->claimed;
		pthread_mutex_unlock(&cl->lock);
	}
	return server->n_clients * SF_FD_PER_CONN + pending;
}

bool sfs__fds_room(struct sf_server *server)
{
	return sfs__fds_used(server) <= sfs__fds_budget(server);
}

/* ---- closer ------------------------------------------------------------ */

static void release(struct sf_closer *cl, int fd, unsigned depth,
                    unsigned *left, char *sink);

/* Claims room for n fds about to be installed by a closer: false when
 * they would take the fds in use past the budget (the loop's one read
 * may come on top, in the reserve). */
static bool claim(struct sf_closer *cl, unsigned n)
{
	bool ok;

	pthread_mutex_lock(&cl->lock);
	ok = cl->conn_fds + cl->pending + cl->held + cl->claimed + n <=
	     cl->budget;
	if (ok)
		cl->claimed += n;
	pthread_mutex_unlock(&cl->lock);
	return ok;
}

/* The claim of n became got fds held (got <= n). */
static void settle(struct sf_closer *cl, unsigned n, unsigned got)
{
	pthread_mutex_lock(&cl->lock);
	cl->claimed -= n;
	cl->held += got;
	pthread_mutex_unlock(&cl->lock);
}

static bool is_unix_socket(int fd)
{
	struct stat st;
	int domain = 0;
	socklen_t len = sizeof domain;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	       getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	       domain == AF_UNIX;
}

/*
 * Takes out of a Unix socket what its close would free: nothing more may
 * come (SHUT_RD: a peer's send fails with EPIPE, a connect to a listener
 * is refused), then every queued message is received and its fds
 * released in turn, and every pending connection of a listener accepted
 * and released.  Bounded by *left; what is left past it goes with the
 * close as before.  One message's fds are held at a time per level of
 * nesting.
 */
static void empty_unix(struct sf_closer *cl, int fd, unsigned depth,
                       unsigned *left, char *sink)
{
	int listening = 0;
	socklen_t len = sizeof listening;

	shutdown(fd, SHUT_RD);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
	    listening) {
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return;
		while (*left > 0 && claim(cl, 1)) {
			int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

			settle(cl, 1, conn >= 0);
			if (conn < 0 && errno == EINTR)
				continue;
			if (conn < 0)
				return;
			(*left)--;
			release(cl, conn, depth + 1, left, sink);
			pthread_mutex_lock(&cl->lock);
			cl->held--;
			pthread_mutex_unlock(&cl->lock);
		}
		return;
	}
	while (*left > 0) {
		union {
			char buf[CMSG_SPACE(SF_FDS_PER_MSG_MAX * sizeof(int))];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = sink, .iov_len = SINK_SIZE };
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = control.buf,
			.msg_controllen = sizeof control.buf,
		};
		unsigned got = 0, installed = 0;
		ssize_t n;

		if (!claim(cl, SF_FDS_PER_MSG_MAX))
			return;
		n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n >= 0)
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
			     c = CMSG_NXTHDR(&msg, c))
				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SCM_RIGHTS)
					installed += (c->cmsg_len - CMSG_LEN(0)) /
					             sizeof(int);
		settle(cl, SF_FDS_PER_MSG_MAX, installed);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		(*left)--;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
		     c = CMSG_NXTHDR(&msg, c)) {
			size_t k;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int nested;

				memcpy(&nested, CMSG_DATA(c) + i * sizeof(int),
				       sizeof nested);
				release(cl, nested, depth + 1, left, sink);
				pthread_mutex_lock(&cl->lock);
				cl->held--;
				pthread_mutex_unlock(&cl->lock);
				got++;
			}
		}
		/* The end of the stream, or of the queue once shut (an empty
		 * datagram with fds is not an end). */
		if (n == 0 && got == 0)
			return;
	}
}

/* Closes fd so that nothing it holds is freed undefused (as far as the
 * fds the closers may hold allow). */
static void release(struct sf_closer *cl, int fd, unsigned depth,
                    unsigned *left, char *sink)
{
	if (sink && depth < NEST_MAX && is_unix_socket(fd))
		empty_unix(cl, fd, depth, left, sink);
	sf__fd_defuse(fd);
	close(fd);
}

static void *closer_main(void *arg)
{
	struct sf_closer *cl = arg;
	/* NULL without memory: then fds are closed as they are. */
	char *sink = malloc(SINK_SIZE);

	pthread_mutex_lock(&cl->lock);
	for (;;) {
		int fd;

		while (cl->count == 0 && !cl->stop)
			pthread_cond_wait(&cl->wake, &cl->lock);
		if (cl->count == 0)
			break;
		fd = cl->fds[cl->head];
		cl->head = (cl->head + 1) % cl->cap;
		cl->count--;
		cl->busy++;
		pthread_mutex_unlock(&cl->lock);
		{
			unsigned left = EMPTY_MAX;

			release(cl, fd, 0, &left, sink);
		}
		pthread_mutex_lock(&cl->lock);
		cl->busy--;
		cl->pending--;
	}
	cl->threads--;
	pthread_cond_broadcast(&cl->wake);
	pthread_mutex_unlock(&cl->lock);
	free(sink);
	return NULL;
}

/* Called with the lock held, when every closer is inside close(). */
static void closer_spawn(struct sf_closer *cl)
{
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int err;

	if (pthread_attr_init(&attr) != 0)
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, CLOSER_STACK);
	/* Signals are the event loop's (signalfd): none for the closers. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t, &attr, closer_main, cl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err == 0)
		cl->threads++;
}

static struct sf_closer *closer_get(struct sf_server *server)
{
	struct sf_closer *cl = server->closer;

	if (cl)
		return cl;
	cl = calloc(1, sizeof *cl);
	if (!cl)
		return NULL;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_cond_init(&cl->wake, NULL);
	cl->budget = sfs__fds_budget(server);
	cl->conn_fds = server->n_clients * SF_FD_PER_CONN;
	server->closer = cl;
	return cl;
}

/* Makes room for one more fd in the ring (lock held).  0 or -ENOMEM. */
static int closer_grow(struct sf_closer *cl)
{
	unsigned cap = cl->cap ? 2 * cl->cap : 64;
	int *fds;

	if (cl->count < cl->cap)
		return 0;
	fds = malloc(cap * sizeof *fds);
	if (!fds)
		return -ENOMEM;
	for (unsigned i = 0; i < cl->count; i++)
		fds[i] = cl->fds[(cl->head + i) % cl->cap];
	free(cl->fds);
	cl->fds = fds;
	cl->cap = cap;
	cl->head = 0;
	return 0;
}

void sfs__close_later(struct sf_server *server, int fd)
{
	struct sf_closer *cl = closer_get(server);

	sf__fd_defuse(fd);
	if (!cl)
		goto inline_close;
	pthread_mutex_lock(&cl->lock);
	if (cl->busy == cl->threads && cl->threads < CLOSERS_MAX)
		closer_spawn(cl);
	if (cl->threads == 0 || closer_grow(cl) < 0) {
		if (!cl->failed)
			sfs__log("cannot start a thread to close file descriptors: "
			        "closing them in the event loop");
		cl->failed = true;
		pthread_mutex_unlock(&cl->lock);
		goto inline_close;
	}
	cl->fds[(cl->head + cl->count) % cl->cap] = fd;
	cl->count++;
	cl->pending++;
	pthread_cond_signal(&cl->wake);
	pthread_mutex_unlock(&cl->lock);
	return;

inline_close:
	close(fd);
}

void sfs__close_later_cb(int fd, void *server)
{
	sfs__close_later(server, fd);
}

void sfs__fds_teardown(struct sf_server *server)
{
	struct sf_closer *cl = server->closer;
	struct timespec until;

	if (!cl)
		return;
	/* The closers finish what is queued; one stuck in close() is left
	 * behind (and the closer with it): exit takes both. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	pthread_mutex_lock(&cl->lock);
	cl->stop = true;
	pthread_cond_broadcast(&cl->wake);
	while (cl->threads > 0 &&
	       pthread_cond_timedwait(&cl->wake, &cl->lock, &until) == 0)
		;
	if (cl->threads > 0) {
		pthread_mutex_unlock(&cl->lock);
		server->closer = NULL;
		return;
	}
	pthread_mutex_unlock(&cl->lock);
	pthread_cond_destroy(&cl->wake);
	pthread_mutex_destroy(&cl->lock);
	free(cl->fds);
	free(cl);
	server->closer = NULL;
}
