/*
 * The fds a client sent: which message each belongs to (the stream
 * position it arrived at), which are refused and when, taking them for the
 * request that uses one, and not reading a Unix connection while the
 * server has no room for the fds a read may install.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "server-private.h"

/* How often connections waiting for fds look again. */
#define FD_RETRY_MS 5

/*
 * Before a recvmsg on a Unix connection: it may install up to
 * SF_FDS_PER_MSG_MAX fds, which only the reserve is sure to hold while
 * the fds in use are within the budget.  When they are not (fds that are
 * not memfds wait for the closer threads, fds.c), the connection is not
 * read, nor polled for reading, until they are.  False then.
 */
bool sfs__client_fds_may_receive(struct sf_client *c)
{
	if (!c->is_unix || sfs__fds_room(c->server))
		return true;
	if (list_empty(&c->fd_wait_link)) {
		list_append(&c->server->fd_wait, &c->fd_wait_link);
		sfs__client_update_interest(c);
	}
	return false;
}

int sfs__clients_fd_retry(struct sf_server *server)
{
	struct sf_list pending;

	if (list_empty(&server->fd_wait))
		return -1;
	if (!sfs__fds_room(server))
		return FD_RETRY_MS;
	/* Polled for reading again: the level-triggered loop reports what
	 * waits in their sockets. */
	list_take_all(&pending, &server->fd_wait);
	while (!list_empty(&pending)) {
		struct sf_client *c = sf_container_of(list_pop(&pending),
		                                      struct sf_client,
		                                      fd_wait_link);

		sfs__client_update_interest(c);
	}
	return -1;
}

int sfs__client_take_fd(struct sf_client *c)
{
	return sf__in_take_fd(&c->in.q);
}

/*
 * After a read, fds that cannot be kept fail the client at once, whatever
 * message they came with, rather than being held for as long as that
 * message takes to complete: one that is not a memfd; any before WELCOME
 * (HELLO takes none); any that came with inline pixels (with_pixels: the
 * read ended inside them, so the fd came with pixel bytes); more than the
 * queue holds; and fds the kernel could not pass.  The ERROR names the
 * message being received, which they arrived with or just before.
 */
static int check_received(struct sf_client *c, unsigned before,
                          bool with_pixels)
{
	struct sf_fdq *q = &c->in.q.fdq;
	bool arrived = q->count > before || q->dropped;

	if (!q->truncated && !q->dropped &&
	    !(arrived && (c->state == SF_CLIENT_HELLO || with_pixels)))
		return 0;
	if (!c->payload.active)
		sfs__input_blame_partial(c);
	if (q->truncated)
		return sfs__client_fail(c, SF_ERR_LIMIT, "file descriptors sent with "
		                       "it were lost: the kernel could not pass them "
		                       "(MSG_CTRUNC; the server is out of file "
		                       "descriptors, or more than %u were sent)",
		                       SF_FDS_PER_MSG_MAX);
	if (q->foreign)
		return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD, "a file descriptor "
		                       "that is not a memfd arrived with it (only "
		                       "memfd segments travel as file descriptors)");
	if (c->state == SF_CLIENT_HELLO)
		return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD, "a file descriptor "
		                       "arrived before the HELLO was answered "
		                       "(HELLO takes none)");
	if (with_pixels)
		return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD, "a file descriptor "
		                       "arrived with its inline pixels (they take "
		                       "none)");
	return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD,
	                       "more than %u file descriptors arrived with it "
	                       "(a request takes at most one)", SF_FDQ_MAX);
}

int sfs__client_read(struct sf_client *c, const struct sf_in_read *how,
                     size_t *budget_used)
{
	unsigned before = c->in.q.fdq.count;
	ssize_t got;

	if (!sfs__client_fds_may_receive(c))
		return 0;
	got = sf__in_read(&c->in.q, c->fd, how);
	if (got == -EAGAIN || got == -EWOULDBLOCK)
		return 0;
	if (got == 0)
		return SFS_READ_END;
	if (got < 0) {
		sfs__client_close(c, strerror((int)-got));
		return -1;
	}
	*budget_used += (size_t)got;
	if (check_received(c, before, how->rows && how->rows->left > 0) < 0)
		return -1;
	return 1;
}

/* Only a memfd PROBE, ATTACH_SEGMENT or ATTACH_CONTROL takes an fd
 * (one).  Decided from the raw bytes, have of them (one whose kind has
 * not come yet may still take one): a message too malformed to say fails
 * its decoding. */
static unsigned fds_taken(const uint8_t *msg, size_t have,
                          const struct sf_header *hdr)
{
	const size_t kind_at = offsetof(struct sf_segment_msg, kind);

	if ((hdr->type != SF_PROBE && hdr->type != SF_ATTACH_SEGMENT &&
	     hdr->type != SF_ATTACH_CONTROL) ||
	    hdr->length != sizeof(struct sf_segment_msg))
		return 0;
	if (have <= kind_at)
		return 1;
	return msg[kind_at] == SF_SHM_MEMFD;
}

/*
 * The head of the buffer is an incomplete message, and every fd still
 * queued arrived with it or after it (those of the messages before it
 * were taken or refused): more than it can take fail the client now,
 * instead of waiting for a message that may take a timeout period per
 * 64 KiB to complete.  It takes one when it can still turn out to be a
 * memfd PROBE, ATTACH_SEGMENT or ATTACH_CONTROL.
 */
int sfs__client_fds_check_partial(struct sf_client *c)
{
	size_t avail = c->in.q.len;
	const uint8_t *msg = c->in.q.data + c->in.q.start;
	struct sf_header hdr;
	unsigned takes = 1;

	if (c->in.q.fdq.count == 0)
		return 0;
	if (sf__header_check(msg, avail, SF_MAX_MESSAGE, &hdr, NULL) > 0)
		takes = fds_taken(msg, avail, &hdr);
	if (c->in.q.fdq.count <= takes)
		return 0;
	sfs__input_blame_partial(c);
	return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD,
	                       "%u file descriptor%s arrived with it, and it "
	                       "takes %s", c->in.q.fdq.count,
	                       c->in.q.fdq.count == 1 ? "" : "s",
	                       takes ? "at most one" : "none");
}

/* Fds left over: every message that could have carried them is handled. */
int sfs__client_fds_check(struct sf_client *c)
{
	if (sf__in_fds_due(&c->in.q, c->in.q.used))
		return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD,
		                       "a file descriptor arrived with a request "
		                       "that takes none");
	return 0;
}

/*
 * Before a message is handled: the fds that arrived no later than its last
 * byte came with it or with an earlier message (whose turn is over).  More
 * of them than it takes is an error before the request does anything, so
 * that a SYNC carrying an fd is not answered and an ATTACH carrying two
 * maps nothing.
 */
int sfs__client_fds_check_before(struct sf_client *c, const uint8_t *msg,
                                 const struct sf_header *hdr)
{
	uint64_t end = c->in.q.used + hdr->length;
	unsigned here = sf__in_fds_due(&c->in.q, end);
	unsigned takes = fds_taken(msg, hdr->length, hdr);

	if (here <= takes)
		return 0;
	if (takes)
		return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD,
		                       "%u file descriptors arrived with it; a "
		                       "memfd segment takes exactly one", here);
	return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD,
	                       "%u file descriptor%s arrived with it, and it "
	                       "takes none", here, here == 1 ? "" : "s");
}
