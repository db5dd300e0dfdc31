/*
 * A client's input: reading into the message buffer, cutting it into
 * messages for requests.c, and the budgets of one turn.
 *
 * Fairness: one wakeup handles at most MSG_BUDGET messages, READ_BUDGET
 * bytes of messages, SF_PAYLOAD_BUDGET bytes of inline pixels and requests
 * until COPY_BUDGET bytes of pixels were copied; a client with
 * complete messages left in its buffer goes on the server's backlog and
 * gets its next turn after the others had theirs.
 *
 * Requests on a client's request ring (ring.c) are taken here too, in the
 * one order of its requests, and count against the same budgets.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "server-private.h"

#define MSG_BUDGET 16
#define READ_BUDGET (64u << 10)
/* Pixels copied by requests (c->res.copied): as many as inline pixels read.
 * A request copies at most its surface once (surface.c merges damage), so
 * one wakeup costs at most this plus one surface. */
#define COPY_BUDGET SF_PAYLOAD_BUDGET
/* Input thrown away while closing, before we stop being polite. */
#define DISCARD_MAX (4u << 20)

/* The type of the message at the head of the input buffer, when at least
 * its first two bytes are there (for ERRORs about a partial message). */
uint16_t sfs__input_partial_type(const struct sf_client *c)
{
	uint16_t type = 0;

	if (c->in.q.len >= sizeof type)
		memcpy(&type, c->in.q.data + c->in.q.start, sizeof type);
	return type;
}

/* Names the partial message at the head of the buffer as the request at
 * fault: it is the next one in sequence. */
void sfs__input_blame_partial(struct sf_client *c)
{
	c->req.type = sfs__input_partial_type(c);
	if (c->req.type)
		c->req.sequence++;
}

/*
 * After a request, or the pixels that complete it, was handled: a segment
 * it found shrunk (the SIGBUS guard), or an answer that overflowed the
 * output queue, fails the client now, and the ERROR names that request.
 * Returns 0, or -1 when the client was failed or closed.
 */
int sfs__input_after_request(struct sf_client *c)
{
	if (sfs__sigbus_pending())
		sfs__segments_check_broken(c->server);
	c->req.active = false;
	if (c->fd < 0 || c->state == SF_CLIENT_CLOSING)
		return -1;
	if (c->out.deferred_error) {
		c->req.type = c->out.deferred_type;
		sfs__client_fail(c, c->out.deferred_error, "%s", c->out.deferred_text);
		return -1;
	}
	return 0;
}

/* Handles the complete messages in the buffer, up to the budgets (copied0:
 * c->res.copied when the wakeup began).  Returns 0, or -1 when the client was
 * failed or closed. */
static int process_buffered(struct sf_client *c, unsigned *msgs,
                            uint64_t copied0)
{
	const uint32_t max = c->server->limits.max_message;
	bool partial = false;

	while (*msgs < MSG_BUDGET && c->res.copied - copied0 < COPY_BUDGET &&
	       !c->payload.active && !c->in.paused &&
	       c->state != SF_CLIENT_CLOSING) {
		size_t avail = c->in.q.len;
		const uint8_t *msg = c->in.q.data + c->in.q.start;
		struct sf_header hdr;
		const char *why = "";
		int r;

		/* The ring's oldest request first when it is the next one;
		 * else the socket's next message is. */
		r = sfs__ring_take_request(c, msgs);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		/* Malformed is against the protocol's limit; a well-formed
		 * message over the one we announced is LIMIT. */
		r = sf__header_check(msg, avail, SF_MAX_MESSAGE, &hdr, &why);
		if (r == 0) {
			partial = true;
			break;
		}
		if (r < 0) {
			uint16_t type = 0;

			memcpy(&type, msg, sizeof type);
			c->req.sequence++;
			c->req.type = type;
			if (c->state == SF_CLIENT_HELLO)
				return sfs__client_fail(c, SF_ERR_BAD_MAGIC,
				                       "the first message is not a valid "
				                       "HELLO (%s): the peer does not speak "
				                       "the shmframe protocol", why);
			return sfs__client_fail(c, -r, "%s", why);
		}
		if (hdr.length > max &&
		    (c->state != SF_CLIENT_HELLO || hdr.type == SF_HELLO)) {
			/* No need to wait for the rest of it. */
			c->req.sequence++;
			c->req.type = hdr.type;
			return sfs__client_fail(c, SF_ERR_LIMIT, "a message of %u bytes "
			                       "is larger than the server's "
			                       "max_message (%u)", hdr.length, max);
		}
		if (avail < hdr.length) {
			partial = true;
			break;
		}
		c->req.sequence++;
		c->req.type = hdr.type;
		if (sfs__client_fds_check_before(c, msg, &hdr) < 0)
			return -1;
		sf__in_consume(&c->in.q, hdr.length);
		c->in.progress++;
		(*msgs)++;
		c->req.active = true;
		sfs__request_dispatch(c, msg, &hdr);
		if (c->state == SF_CLIENT_READY)
			sfs__client_unauth_leave(c);
		if (sfs__input_after_request(c) < 0)
			return -1;
		if (!c->payload.active && sfs__client_fds_check(c) < 0)
			return -1;
	}
	if (partial && c->state == SF_CLIENT_READY &&
	    sfs__client_fds_check_partial(c) < 0)
		return -1;
	return 0;
}

/* True when the head of the buffer is a message to handle now: whole, or
 * bad enough to fail without the rest. */
bool sfs__input_has_message(const struct sf_client *c)
{
	struct sf_header hdr;
	size_t avail = c->in.q.len;
	int r = sf__header_check(c->in.q.data + c->in.q.start, avail, SF_MAX_MESSAGE,
	                         &hdr, NULL);

	return r < 0 || (r > 0 && (avail >= hdr.length ||
	                           hdr.length > c->server->limits.max_message));
}

/* Reads into the message buffer.  1 after progress, 2 after progress that
 * drained the socket (a short read), 0 when empty, -1 gone. */
static int read_messages(struct sf_client *c, size_t *budget_used)
{
	/* All the room the buffer has; fds only once READY (HELLO takes
	 * none). */
	const struct sf_in_read how = {
		.chunk = SF_IN_CAP,
		.fd_limit = c->state == SF_CLIENT_READY ? SF_FDQ_MAX : 0,
	};
	int r = sfs__client_read(c, &how, budget_used);

	if (r == SFS_READ_END) {
		if (c->in.q.len > 0) {
			struct sf_header hdr;
			size_t have = c->in.q.len;

			/* Half-closed peers can still read why. */
			c->in.eof = true;
			sfs__input_blame_partial(c);
			if (sf__header_check(c->in.q.data + c->in.q.start, have,
			                     SF_MAX_MESSAGE, &hdr, NULL) > 0)
				sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "the stream "
				                "ended %zu bytes into this %u-byte "
				                "message", have, hdr.length);
			else
				sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "the stream "
				                "ended %zu bytes into a message "
				                "header", have);
		} else {
			sfs__client_finish(c);
		}
		return -1;
	}
	if (r <= 0)
		return r;
	return c->in.q.short_read ? 2 : 1;
}

/* The main input routine: pixels, messages, reads, within the budgets.
 * read_socket: whether the socket may have bytes (else the turn only
 * handles what is buffered and what is on the ring). */
static void handle_input_budgeted(struct sf_client *c, bool read_socket)
{
	unsigned msgs = 0;
	size_t read_bytes = 0, pixel_bytes = 0;
	uint64_t copied0 = c->res.copied;
	bool drained = !read_socket;
	int r;

	while (c->fd >= 0 && c->state != SF_CLIENT_CLOSING) {
		if (c->payload.active) {
			if (sfs__payload_read(c, &pixel_bytes) <= 0)
				return;
			if (c->fd < 0 || c->state == SF_CLIENT_CLOSING)
				return;
			if (!c->payload.active && sfs__client_fds_check(c) < 0)
				return;
			if (c->payload.active && pixel_bytes >= SF_PAYLOAD_BUDGET)
				return;
			continue;
		}
		if (process_buffered(c, &msgs, copied0) < 0)
			return;
		if (c->payload.active)
			continue;
		if (c->in.paused)
			return;
		if (msgs >= MSG_BUDGET || read_bytes >= READ_BUDGET ||
		    pixel_bytes >= SF_PAYLOAD_BUDGET ||
		    c->res.copied - copied0 >= COPY_BUDGET) {
			/* The socket may be quiet while complete messages wait in
			 * the buffer, or on the ring: make sure they get a turn. */
			if ((sfs__input_has_message(c) || sfs__ring_has_work(c)) &&
			    list_empty(&c->backlog_link))
				list_append(&c->server->backlog, &c->backlog_link);
			return;
		}
		/* The last read came up short: the socket is empty, and the
		 * loop is level-triggered, so asking again would only cost a
		 * syscall that returns EAGAIN (one per frame on the shm path). */
		if (drained)
			return;
		r = read_messages(c, &read_bytes);
		if (r <= 0)
			return;
		drained = r == 2;
	}
}

void sfs__input_handle(struct sf_client *c)
{
	handle_input_budgeted(c, true);
	sfs__slow_update(c);
}

/* CLOSING and not yet at end of stream: read and throw away. */
void sfs__input_drain(struct sf_client *c)
{
	uint8_t buf[16384];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };

	c->in.q.fdq.limit = 0;
	for (int i = 0; i < 4; i++) {
		ssize_t got;

		if (!sfs__client_fds_may_receive(c))
			return;
		c->in.q.fdq.foreign = 0;
		got = sf__recv_fds(c->fd, &iov, 1, &c->in.q.fdq);
		sf__fdq_clear(&c->in.q.fdq);
		/* It was told; fds that may keep a closer busy are not
		 * taken from it any longer. */
		if (c->in.q.fdq.foreign) {
			sfs__client_close(c, "kept sending file descriptors after "
			                 "an error");
			return;
		}
		if (got == -EAGAIN || got == -EWOULDBLOCK)
			return;
		if (got <= 0) {
			c->in.eof = true;
			if (!sfs__out_pending(c))
				sfs__client_close(c, "closed after error");
			else
				sfs__client_update_interest(c);
			return;
		}
		c->in.discarded += (uint64_t)got;
		if (c->in.discarded > DISCARD_MAX) {
			sfs__client_close(c, "kept sending after an error");
			return;
		}
	}
}

void sfs__client_resume(struct sf_client *c)
{
	/* The loop ran before the backlog's turns: a socket it did not
	 * report readable has nothing to read (a turn given for requests on
	 * the ring would otherwise cost a recvmsg that finds nothing). */
	bool readable = c->in.readable;

	c->in.readable = false;
	list_remove(&c->backlog_link);
	if (c->fd >= 0 && c->state != SF_CLIENT_CLOSING && !c->in.paused) {
		handle_input_budgeted(c, readable);
		sfs__slow_update(c);
	}
}

