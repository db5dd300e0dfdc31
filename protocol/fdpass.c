/*
 * SCM_RIGHTS: file descriptors travelling with the bytes of a Unix socket.
 *
 * Received fds wait in a small queue until the message that takes them is
 * decoded; an fd that does not fit is closed at once, so a peer can never
 * make us hold more than SF_FDQ_MAX of them.  What an fd is gets checked
 * before it is kept or closed (see fdpass.h): only memfds are kept, and
 * only they are closed here.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdpass.h"

#define CMSG_FDS_MAX SF_FDS_PER_MSG_MAX

void sf__fdq_init(struct sf_fdq *q)
{
	q->count = 0;
	q->limit = SF_FDQ_MAX;
	q->dropped = 0;
	q->foreign = 0;
	q->truncated = false;
	q->dispose = NULL;
	q->dispose_data = NULL;
}

bool sf__fd_is_shmem(int fd)
{
	/* Only shmem (tmpfs, hugetlbfs) implements seals: F_GET_SEALS fails
	 * with EINVAL on anything else, and with EBADF on an O_PATH fd. */
	return fcntl(fd, F_GET_SEALS) >= 0;
}

void sf__fd_defuse(int fd)
{
	struct linger off = { .l_onoff = 0, .l_linger = 0 };

	/* No fstat first: on a file of a FUSE daemon that never answers,
	 * fstat itself can block, and the caller may be the event loop.
	 * setsockopt on anything but a socket is ENOTSOCK without asking the
	 * file's filesystem. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof off);
}

void sf__fd_dispose_now(int fd, void *data)
{
	(void)data;
	sf__fd_defuse(fd);
	close(fd);
}

int sf__fdq_take(struct sf_fdq *q)
{
	int fd;

	if (q->count == 0)
		return -1;
	fd = q->fds[0];
	q->count--;
	memmove(q->fds, q->fds + 1, q->count * sizeof q->fds[0]);
	memmove(q->at, q->at + 1, q->count * sizeof q->at[0]);
	return fd;
}

void sf__fdq_clear(struct sf_fdq *q)
{
	for (unsigned i = 0; i < q->count; i++)
		close(q->fds[i]);
	q->count = 0;
}

static void take_cmsgs(struct msghdr *msg, struct sf_fdq *q)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t n;
		int fds[CMSG_FDS_MAX];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > CMSG_FDS_MAX)
			n = CMSG_FDS_MAX;
		memcpy(fds, CMSG_DATA(c), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			unsigned limit = q->limit < SF_FDQ_MAX ? q->limit : SF_FDQ_MAX;

			if (!sf__fd_is_shmem(fds[i])) {
				if (q->dispose)
					q->dispose(fds[i], q->dispose_data);
				else
					sf__fd_dispose_now(fds[i], NULL);
				q->foreign++;
				q->dropped++;
			} else if (q->count < limit) {
				q->at[q->count] = 0;
				q->fds[q->count++] = fds[i];
			} else {
				close(fds[i]);
				q->dropped++;
			}
		}
	}
}

ssize_t sf__recv_fds(int sock, const struct iovec *iov, int iovcnt,
                     struct sf_fdq *q)
{
	union {
		char buf[CMSG_SPACE(CMSG_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = (size_t)iovcnt,
		.msg_control = control.buf,
		.msg_controllen = sizeof control.buf,
	};
	ssize_t n;

	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* Even a truncated control message delivered fds that are now ours:
	 * take what arrived, and say that some did not (the buffer holds
	 * SCM_MAX_FD, so the kernel was out of fds for us, or the peer sent
	 * more than one control message). */
	take_cmsgs(&msg, q);
	if (msg.msg_flags & MSG_CTRUNC)
		q->truncated = true;
	return n;
}

ssize_t sf__send_fd(int sock, const struct iovec *iov, int iovcnt, int fd)
{
	return sf__send_fd_flags(sock, iov, iovcnt, fd, 0);
}

ssize_t sf__send_fd_flags(int sock, const struct iovec *iov, int iovcnt,
                          int fd, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = (size_t)iovcnt,
	};
	ssize_t n;

	if (fd >= 0) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct cmsghdr *c;

		if (getsockname(sock, (struct sockaddr *)&ss, &sl) < 0)
			return -errno;
		if (ss.ss_family != AF_UNIX)
			return -EOPNOTSUPP;
		memset(&control, 0, sizeof control);
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof control.buf;
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | flags);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}
