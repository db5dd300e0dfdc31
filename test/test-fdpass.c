/*
 * protocol/fdpass: fds travel over a socketpair with the bytes, arrive
 * close-on-exec, queue in order, and those past the queue's capacity are
 * closed at once.  Only memfds are queued; anything else goes to the
 * dispose function, and closing a lingering socket does not wait.  The
 * harness fails any test that leaves an fd open.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "fdpass.h"
#include "harness.h"

static void make_pair(int sv[2])
{
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void close_pair(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

/* An fd that can be recognised later: a memfd (its inode), the only kind
 * the queue keeps. */
static int make_marker(ino_t *ino)
{
	struct stat st;
	int fd = memfd_create("marker", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(fstat(fd, &st), 0);
	*ino = st.st_ino;
	return fd;
}

static ino_t inode_of(int fd)
{
	struct stat st;

	ASSERT_EQ(fstat(fd, &st), 0);
	return st.st_ino;
}

static ssize_t send_byte(int sock, char c, int fd)
{
	struct iovec iov = { &c, 1 };

	return sf__send_fd(sock, &iov, 1, fd);
}

static ssize_t recv_bytes(int sock, char *buf, size_t n, struct sf_fdq *q)
{
	struct iovec iov = { buf, n };

	return sf__recv_fds(sock, &iov, 1, q);
}

/* Sends one byte with n fds in a single SCM_RIGHTS message (beyond what
 * sf__send_fd does), as a hostile peer could. */
static void send_many_fds(int sock, const int *fds, unsigned n)
{
	union {
		char buf[CMSG_SPACE(64 * sizeof(int))];
		struct cmsghdr align;
	} control;
	char c = 'm';
	struct iovec iov = { &c, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = CMSG_SPACE(n * sizeof(int)) };
	struct cmsghdr *cm;

	ASSERT(n <= 64);
	memset(&control, 0, sizeof control);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	ASSERT_EQ(sendmsg(sock, &msg, MSG_NOSIGNAL), 1);
}

TEST(an_fd_passes_with_the_bytes)
{
	int sv[2], fd, got;
	ino_t ino;
	char buf[16];
	struct sf_fdq q;

	make_pair(sv);
	fd = make_marker(&ino);
	sf__fdq_init(&q);
	ASSERT_EQ(send_byte(sv[0], 'a', fd), 1);
	close(fd); /* the sender keeps ownership: closing ours is fine */
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	ASSERT_EQ(buf[0], 'a');
	ASSERT_EQ(q.count, 1);
	got = sf__fdq_take(&q);
	ASSERT_GE(got, 0);
	ASSERT_EQ(inode_of(got), ino);
	ASSERT_EQ(q.count, 0);
	close(got);
	close_pair(sv);
}

TEST(received_fds_are_close_on_exec)
{
	int sv[2], m, got;
	char buf[4];
	struct sf_fdq q;

	make_pair(sv);
	m = memfd_create("no-cloexec", 0); /* deliberately without CLOEXEC */
	ASSERT_GE(m, 0);
	sf__fdq_init(&q);
	ASSERT_EQ(send_byte(sv[0], 'c', m), 1);
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	got = sf__fdq_take(&q);
	ASSERT_GE(got, 0);
	ASSERT(fcntl(got, F_GETFD) & FD_CLOEXEC);
	close(got);
	close(m);
	close_pair(sv);
}

TEST(bytes_without_an_fd_queue_nothing)
{
	int sv[2];
	char buf[4];
	struct sf_fdq q;

	make_pair(sv);
	sf__fdq_init(&q);
	ASSERT_EQ(send_byte(sv[0], 'x', -1), 1);
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	ASSERT_EQ(q.count, 0);
	ASSERT_EQ(q.dropped, 0);
	ASSERT_EQ(sf__fdq_take(&q), -1);
	close_pair(sv);
}

TEST(queued_fds_come_out_oldest_first)
{
	int sv[2];
	ino_t inos[SF_FDQ_MAX];
	char buf[4];
	struct sf_fdq q;

	make_pair(sv);
	sf__fdq_init(&q);
	for (int i = 0; i < SF_FDQ_MAX; i++) {
		int fd = make_marker(&inos[i]);
		ASSERT_EQ(send_byte(sv[0], (char)('0' + i), fd), 1);
		close(fd);
	}
	/* One message at a time: the kernel does not merge fd-carrying
	 * messages, so loop until everything has arrived. */
	for (int got = 0; got < SF_FDQ_MAX;) {
		ssize_t n = recv_bytes(sv[1], buf, sizeof buf, &q);
		ASSERT_GT(n, 0);
		got += (int)n;
	}
	ASSERT_EQ(q.count, SF_FDQ_MAX);
	for (int i = 0; i < SF_FDQ_MAX; i++) {
		int fd = sf__fdq_take(&q);
		ASSERT_EQ(inode_of(fd), inos[i]);
		close(fd);
	}
	close_pair(sv);
}

TEST(fds_past_the_queue_capacity_are_closed_at_once)
{
	int sv[2], before;
	ino_t ino;
	char buf[4];
	struct sf_fdq q;
	int fd;

	make_pair(sv);
	sf__fdq_init(&q);
	fd = make_marker(&ino);
	for (int i = 0; i < SF_FDQ_MAX + 5; i++)
		ASSERT_EQ(send_byte(sv[0], 'f', fd), 1);
	close(fd);
	before = sf_test_count_fds();
	for (;;) {
		ssize_t n = recv_bytes(sv[1], buf, sizeof buf, &q);
		if (n == -EAGAIN)
			break;
		ASSERT_GT(n, 0);
	}
	ASSERT_EQ(q.count, SF_FDQ_MAX);
	ASSERT_EQ(q.dropped, 5);
	/* Exactly the queued ones are open; the five extra were closed. */
	ASSERT_EQ(sf_test_count_fds(), before + SF_FDQ_MAX);
	sf__fdq_clear(&q);
	ASSERT_EQ(q.count, 0);
	ASSERT_EQ(sf_test_count_fds(), before);
	close_pair(sv);
}

TEST(many_fds_in_one_message_fill_the_queue_and_the_rest_are_closed)
{
	int sv[2], fds[40], before;
	ino_t ino;
	char buf[4];
	struct sf_fdq q;

	make_pair(sv);
	sf__fdq_init(&q);
	fds[0] = make_marker(&ino);
	for (int i = 1; i < 40; i++)
		fds[i] = fds[0];
	send_many_fds(sv[0], fds, 40);
	close(fds[0]);
	before = sf_test_count_fds();
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	ASSERT_EQ(q.count, SF_FDQ_MAX);
	ASSERT_EQ(q.dropped, 40 - SF_FDQ_MAX);
	ASSERT_EQ(sf_test_count_fds(), before + SF_FDQ_MAX);
	for (unsigned i = 0; i < q.count; i++)
		ASSERT_EQ(inode_of(q.fds[i]), ino);
	sf__fdq_clear(&q);
	ASSERT_EQ(sf_test_count_fds(), before);
	close_pair(sv);
}

TEST(a_full_queue_drops_later_fds)
{
	int sv[2], fds[SF_FDQ_MAX], marker;
	ino_t ino, last_ino;
	char buf[4];
	struct sf_fdq q;

	make_pair(sv);
	sf__fdq_init(&q);
	marker = make_marker(&ino);
	for (int i = 0; i < SF_FDQ_MAX; i++)
		fds[i] = marker;
	send_many_fds(sv[0], fds, SF_FDQ_MAX);
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	ASSERT_EQ(q.count, SF_FDQ_MAX);
	ASSERT_EQ(q.dropped, 0);
	/* The queue is full: a later fd must not displace the held ones. */
	{
		int other = make_marker(&last_ino);
		ASSERT_EQ(send_byte(sv[0], 'z', other), 1);
		close(other);
	}
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	ASSERT_EQ(q.count, SF_FDQ_MAX);
	ASSERT_EQ(q.dropped, 1);
	for (unsigned i = 0; i < q.count; i++)
		ASSERT_EQ(inode_of(q.fds[i]), ino);
	sf__fdq_clear(&q);
	close(marker);
	close_pair(sv);
}

TEST(recv_reports_eagain_then_eof)
{
	int sv[2];
	char buf[4];
	struct sf_fdq q;

	make_pair(sv);
	sf__fdq_init(&q);
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), -EAGAIN);
	close(sv[0]);
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 0);
	close(sv[1]);
}

TEST(send_to_a_closed_peer_is_an_error_not_sigpipe)
{
	int sv[2];
	ssize_t n;

	make_pair(sv);
	close(sv[1]);
	/* The harness ignores SIGPIPE; restore the default so a missing
	 * MSG_NOSIGNAL would kill this test. */
	signal(SIGPIPE, SIG_DFL);
	n = send_byte(sv[0], 'p', -1);
	ASSERT_EQ(n, -EPIPE);
	n = send_byte(sv[0], 'p', sv[0]);
	ASSERT_EQ(n, -EPIPE);
	close(sv[0]);
}

TEST(sending_an_fd_over_tcp_fails_before_writing)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sin;
	int lsock, csock, asock;
	char buf[4];
	ssize_t n;

	lsock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(lsock, 0);
	ASSERT_EQ(bind(lsock, (struct sockaddr *)&sin, sizeof sin), 0);
	ASSERT_EQ(listen(lsock, 1), 0);
	ASSERT_EQ(getsockname(lsock, (struct sockaddr *)&sin, &sl), 0);
	csock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(connect(csock, (struct sockaddr *)&sin, sizeof sin), 0);
	asock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	ASSERT_GE(asock, 0);
	ASSERT_EQ(send_byte(csock, 't', csock), -EOPNOTSUPP);
	/* Nothing may have been written. */
	usleep(20000);
	n = recv(asock, buf, sizeof buf, MSG_DONTWAIT);
	ASSERT_EQ(n, -1);
	ASSERT_EQ(errno, EAGAIN);
	/* Without an fd the same socket works. */
	ASSERT_EQ(send_byte(csock, 'u', -1), 1);
	close(csock);
	close(asock);
	close(lsock);
}

TEST(clearing_the_queue_closes_every_fd)
{
	int sv[2], before;
	ino_t ino;
	char buf[4];
	struct sf_fdq q;

	make_pair(sv);
	sf__fdq_init(&q);
	before = sf_test_count_fds();
	for (int i = 0; i < SF_FDQ_MAX; i++) {
		int fd = make_marker(&ino);
		ASSERT_EQ(send_byte(sv[0], 'k', fd), 1);
		close(fd);
		ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	}
	ASSERT_EQ(sf_test_count_fds(), before + SF_FDQ_MAX);
	sf__fdq_clear(&q);
	ASSERT_EQ(sf_test_count_fds(), before);
	ASSERT_EQ(sf__fdq_take(&q), -1);
	close_pair(sv);
}

TEST(an_fd_arrives_with_the_first_byte_even_if_read_in_pieces)
{
	int sv[2], fd;
	ino_t ino;
	char msg[64], buf[8];
	struct iovec iov = { msg, sizeof msg };
	struct sf_fdq q;

	make_pair(sv);
	sf__fdq_init(&q);
	memset(msg, 'w', sizeof msg);
	fd = make_marker(&ino);
	ASSERT_EQ(sf__send_fd(sv[0], &iov, 1, fd), (ssize_t)sizeof msg);
	close(fd);
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), (ssize_t)sizeof buf);
	ASSERT_EQ(q.count, 1);
	for (size_t got = sizeof buf; got < sizeof msg;)
		got += (size_t)recv_bytes(sv[1], buf, sizeof buf, &q);
	ASSERT_EQ(q.count, 1);
	fd = sf__fdq_take(&q);
	ASSERT_EQ(inode_of(fd), ino);
	close(fd);
	close_pair(sv);
}

TEST(below_its_limit_the_queue_closes_memfds_at_once)
{
	int sv[2], fd, before;
	ino_t ino;
	char buf[4];
	struct sf_fdq q;

	make_pair(sv);
	sf__fdq_init(&q);
	q.limit = 0; /* as the server has it before HELLO */
	fd = make_marker(&ino);
	ASSERT_EQ(send_byte(sv[0], 'l', fd), 1);
	close(fd);
	before = sf_test_count_fds();
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	ASSERT_EQ(q.count, 0);
	ASSERT_EQ(q.dropped, 1);
	ASSERT_EQ(q.foreign, 0);
	ASSERT_EQ(sf_test_count_fds(), before);
	close_pair(sv);
}

static int disposed[8], n_disposed;

static void record_dispose(int fd, void *data)
{
	ASSERT(data == &n_disposed);
	ASSERT(n_disposed < 8);
	disposed[n_disposed++] = fd;
}

TEST(fds_that_are_not_memfds_go_to_the_dispose_function)
{
	int sv[2], other[2], p[2], fds[3];
	char buf[4];
	struct sf_fdq q;

	make_pair(sv);
	make_pair(other);
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	sf__fdq_init(&q);
	q.dispose = record_dispose;
	q.dispose_data = &n_disposed;
	fds[0] = p[0];
	fds[1] = other[0];
	fds[2] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fds[2], 0);
	send_many_fds(sv[0], fds, 3);
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	ASSERT_EQ(q.count, 0);
	ASSERT_EQ(q.foreign, 3);
	ASSERT_EQ(q.dropped, 3);
	ASSERT_EQ(n_disposed, 3);
	for (int i = 0; i < n_disposed; i++)
		close(disposed[i]);
	close(fds[2]);
	close(p[0]);
	close(p[1]);
	close_pair(other);
	close_pair(sv);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A TCP connection whose close() lingers: SO_LINGER 15 s, and more data
 * than the peer (which never reads) can take, so that some of it stays
 * unacknowledged.  Returns the connected socket; *lsock and *asock are the
 * listener and the accepted end, kept open (never read) by the caller.
 */
static int lingering_socket(int *lsock, int *asock)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sin;
	struct linger lg = { .l_onoff = 1, .l_linger = 15 };
	int small = 4096, fd, unsent = 0;
	static char junk[1 << 16];

	*lsock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(*lsock, 0);
	/* A small receive window fills at once. */
	ASSERT_EQ(setsockopt(*lsock, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
	ASSERT_EQ(bind(*lsock, (struct sockaddr *)&sin, sizeof sin), 0);
	ASSERT_EQ(listen(*lsock, 1), 0);
	ASSERT_EQ(getsockname(*lsock, (struct sockaddr *)&sin, &sl), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	*asock = accept4(*lsock, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_GE(*asock, 0);
	ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
	while (send(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		;
	ASSERT_EQ(ioctl(fd, TIOCOUTQ, &unsent), 0);
	ASSERT_GT(unsent, 0);
	return fd;
}

TEST(a_lingering_socket_is_disposed_of_without_waiting)
{
	int sv[2], lsock, asock, fd, before;
	char buf[4];
	struct sf_fdq q;
	double t0, took;

	make_pair(sv);
	fd = lingering_socket(&lsock, &asock);
	ASSERT_EQ(send_byte(sv[0], 's', fd), 1);
	/* The only reference left is in flight: ours will be the last. */
	close(fd);
	before = sf_test_count_fds();
	sf__fdq_init(&q);
	t0 = now_s();
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	took = now_s() - t0;
	ASSERT_EQ(q.foreign, 1);
	ASSERT_EQ(q.count, 0);
	ASSERT_EQ(sf_test_count_fds(), before);
	ASSERT_MSG(took < 1.0, "disposing of the socket took %.1f s", took);
	close(asock);
	close(lsock);
	close_pair(sv);
}

TEST(fds_the_kernel_cannot_pass_are_reported_truncated)
{
	int sv[2], fds[3], base;
	ino_t ino;
	char buf[4];
	struct sf_fdq q;
	struct rlimit rl;

	make_pair(sv);
	for (int i = 0; i < 3; i++)
		fds[i] = make_marker(&ino);
	send_many_fds(sv[0], fds, 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	/* Room for one more fd only (this test runs in its own process). */
	base = sf_test_count_fds();
	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	/* Every number below the lowest free one is taken: a limit just
	 * above it leaves exactly one. */
	{
		int lowest = dup(0);

		ASSERT_GE(lowest, 0);
		close(lowest);
		rl.rlim_cur = (rlim_t)lowest + 1;
	}
	ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	sf__fdq_init(&q);
	ASSERT_EQ(recv_bytes(sv[1], buf, sizeof buf, &q), 1);
	ASSERT(q.truncated);
	ASSERT(q.count < 3);
	sf__fdq_clear(&q);
	ASSERT_EQ(sf_test_count_fds(), base);
	close_pair(sv);
}
