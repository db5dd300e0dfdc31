/*
 * Byte streams with file descriptors attached (SCM_RIGHTS), and the queue
 * that holds received fds until the message that takes them is decoded.
 *
 * Only memfds (shmem files) are ever queued: an fd of any other kind is
 * never something a peer may give us, and closing it may block (a socket
 * lingering on unacknowledged data, a tty draining its output, a FUSE
 * file whose daemon does not answer, a Unix socket with such fds still
 * queued in it).  Those are handed to the queue's dispose function at
 * once, and counted.
 */
#ifndef SHMFRAME_FDPASS_H
#define SHMFRAME_FDPASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/*
 * Fds held per connection.  A request takes at most one, attached to its
 * first byte, and a read stops after the data that carried fds: so by the
 * time the fd of one message arrives the message before it is complete,
 * and a well-behaved peer never has more than two in the queue (the fd of
 * the last, incomplete message, and the one that came with the next).
 */
#define SF_FDQ_MAX 2

/* As many fds as the kernel passes in one message (SCM_MAX_FD). */
#define SF_FDS_PER_MSG_MAX 253

/* Disposes of an fd that must not be closed where we are (see above).
 * Takes ownership of fd. */
typedef void (*sf_fd_dispose_fn)(int fd, void *data);

struct sf_fdq {
	int fds[SF_FDQ_MAX];
	/* Each fd's deadline: the stream position (bytes received) at the end
	 * of the read that brought it, so it belongs to a message starting
	 * below it.  Set by the reader (sf__in_read); 0 otherwise. */
	uint64_t at[SF_FDQ_MAX];
	unsigned count;
	unsigned limit;    /* the queue holds at most this many (≤ SF_FDQ_MAX) */
	unsigned dropped;  /* fds not queued since the owner last reset it:
	                    * the queue was at its limit, or ... */
	unsigned foreign;  /* ... (counted in both) the fd was not a memfd */
	bool truncated;    /* the kernel could not pass every fd (MSG_CTRUNC) */
	sf_fd_dispose_fn dispose; /* NULL: sf__fd_dispose_now */
	void *dispose_data;
};

void sf__fdq_init(struct sf_fdq *q);
/* Takes the oldest fd; -1 when empty.  The caller owns it. */
int sf__fdq_take(struct sf_fdq *q);
/* Closes every fd held (memfds: closing one never blocks). */
void sf__fdq_clear(struct sf_fdq *q);

/*
 * recvmsg() into iov with MSG_CMSG_CLOEXEC | MSG_DONTWAIT.  Received memfds
 * go to q while it is below q->limit; memfds beyond it are closed at once
 * and counted in q->dropped; any other fd is handed to q->dispose and
 * counted in q->foreign and q->dropped.  Returns bytes read, 0 on EOF, or
 * -errno (-EAGAIN when nothing is there).
 */
ssize_t sf__recv_fds(int sock, const struct iovec *iov, int iovcnt,
                    struct sf_fdq *q);

/* True when fd is a shmem file (a memfd): closing it cannot block. */
bool sf__fd_is_shmem(int fd);
/*
 * Makes closing fd return at once where we can without touching anyone's
 * data: a socket's SO_LINGER is turned off (the kernel then finishes its
 * connection in the background, FIN and all, as if it had never been
 * set).  Not SO_LINGER {1, 0}: that resets the connection, which is not
 * ours to break.  Nothing is done to other kinds.
 */
void sf__fd_defuse(int fd);
/* The default dispose function: sf__fd_defuse(), then close(). */
void sf__fd_dispose_now(int fd, void *data);

/*
 * sendmsg() of iov with MSG_NOSIGNAL, and fd (when >= 0) attached to the
 * first byte.  The caller keeps ownership of fd.  Returns bytes written or
 * -errno.  Writing to a socket that is not AF_UNIX with fd >= 0 fails with
 * -EOPNOTSUPP before anything is written.
 */
ssize_t sf__send_fd(int sock, const struct iovec *iov, int iovcnt, int fd);
/* The same with more sendmsg() flags (MSG_DONTWAIT). */
ssize_t sf__send_fd_flags(int sock, const struct iovec *iov, int iovcnt,
                          int fd, int flags);

#endif
