/*
 * Byte streams with file descriptors attached (SCM_RIGHTS), and the queue
 * that holds received fds until the message that takes them is decoded.
 */
#ifndef SHMFRAME_FDPASS_H
#define SHMFRAME_FDPASS_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SF_FDQ_MAX 28 /* fds held per connection before it is an error */

struct sf_fdq {
	int fds[SF_FDQ_MAX];
	unsigned count;
	unsigned dropped; /* fds closed because the queue was full */
};

void sf__fdq_init(struct sf_fdq *q);
/* Takes the oldest fd; -1 when empty.  The caller owns it. */
int sf__fdq_take(struct sf_fdq *q);
/* Closes every fd held. */
void sf__fdq_clear(struct sf_fdq *q);

/*
 * recvmsg() into iov with MSG_CMSG_CLOEXEC | MSG_DONTWAIT; received fds go to
 * q (those that do not fit are closed at once and counted in q->dropped).
 * Returns bytes read, 0 on EOF, or -errno (-EAGAIN when nothing is there).
 */
ssize_t sf__recv_fds(int sock, const struct iovec *iov, int iovcnt,
                    struct sf_fdq *q);

/*
 * sendmsg() of iov with MSG_NOSIGNAL, and fd (when >= 0) attached to the
 * first byte.  The caller keeps ownership of fd.  Returns bytes written or
 * -errno.  Writing to a socket that is not AF_UNIX with fd >= 0 fails with
 * -EOPNOTSUPP before anything is written.
 */
ssize_t sf__send_fd(int sock, const struct iovec *iov, int iovcnt, int fd);

#endif
