/*
 * SCM_RIGHTS: file descriptors travelling with the bytes of a Unix socket.
 *
 * Received fds wait in a small queue until the message that takes them is
 * decoded; an fd that does not fit is closed at once, so a peer can never
 * make us hold more than SF_FDQ_MAX of them.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

/* Room for as many fds as the kernel passes in one message (SCM_MAX_FD). */
#define CMSG_FDS_MAX 253

void sf__fdq_init(struct sf_fdq *q)
{
	q->count = 0;
	q->dropped = 0;
}

int sf__fdq_take(struct sf_fdq *q)
{
	int fd;

	if (q->count == 0)
		return -1;
	fd = q->fds[0];
	q->count--;
	memmove(q->fds, q->fds + 1, q->count * sizeof q->fds[0]);
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
			if (q->count < SF_FDQ_MAX) {
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
	 * take what arrived, and count the loss as dropped. */
	take_cmsgs(&msg, q);
	if (msg.msg_flags & MSG_CTRUNC)
		q->dropped++;
	return n;
}

ssize_t sf__send_fd(int sock, const struct iovec *iov, int iovcnt, int fd)
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
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}
