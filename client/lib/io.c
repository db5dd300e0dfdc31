/*
 * The connection's bytes: the output queue, the input queue, and the
 * non-blocking socket under them.  Nothing in this file runs a callback, so
 * it may be used in the middle of a present or a readback.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "client-private.h"

/* Bytes read per read() into the input queue. */
#define READ_CHUNK 65536u
/* Reads per sfc__read_available(): a fast server cannot keep us in here. */
#define READS_PER_CALL 16
/* The input queue only grows this big when a caller writes a huge frame
 * while the server keeps sending; past it the server is misbehaving. */
#define INPUT_LIMIT (64u << 20)
/* Row iovecs per readv() of an inline payload. */
#define PAYLOAD_IOV 64

int sfc__queue(struct shmframe_conn *conn, const void *msg, size_t len)
{
	int err;

	if (conn->error)
		return conn->error;
	err = sf__out_append(&conn->out, msg, len, -1);
	if (err)
		return sfc__fail(conn, err, "out of memory for the output queue");
	conn->requests++;
	return 0;
}

int sfc__request(struct shmframe_conn *conn, uint16_t type, void *fixed,
                size_t fixed_size, const void *tail, size_t tail_len)
{
	/* Large enough for every request the library makes: PUT_IMAGE with
	 * SF_MAX_RECTS rectangles is the largest. */
	uint8_t buf[sizeof(struct sf_put_image) + SF_MAX_RECTS * sizeof(struct sf_rect)];
	size_t len = sf__encode(buf, sizeof buf, type, fixed, fixed_size, tail,
	                        tail_len);

	/* Every caller bounds its tail, so this is a bug in the library. */
	if (len == 0)
		return sfc__fail(conn, -EINVAL, "cannot encode a %s request",
		                sf__type_name(type));
	return sfc__queue(conn, buf, len);
}

int sfc__flush(struct shmframe_conn *conn)
{
	int err;

	if (conn->error)
		return conn->error;
	err = sf__out_write(&conn->out, conn->fd, SIZE_MAX);
	if (err && err != -EAGAIN && err != -EWOULDBLOCK) {
		sfc__salvage_error(conn, err, "cannot write to the server: %s",
		                  strerror(-err));
		return conn->error;
	}
	return err ? -EAGAIN : 0;
}

int sfc__flush_all(struct shmframe_conn *conn)
{
	int err;

	while ((err = sfc__flush(conn)) == -EAGAIN) {
		err = sfc__wait(conn, true);
		if (err)
			return err;
	}
	return err;
}

/* Writes the queue, which ends with what the caller just queued; on
 * failure the connection is broken, and nothing queued may be written
 * any more (it borrows the caller's fd and rows). */
static int send_queued(struct shmframe_conn *conn)
{
	int err;

	conn->requests++;
	err = sfc__flush_all(conn);
	if (err)
		sf__out_clear(&conn->out);
	return err;
}

int sfc__send_rows(struct shmframe_conn *conn, const void *msg, size_t len,
                  uint8_t *pixels, uint32_t stride, const struct sf_rect *rects,
                  unsigned n)
{
	if (conn->error)
		return conn->error;
	if (sf__out_append(&conn->out, msg, len, -1) ||
	    sf__out_rows(&conn->out, pixels, stride, rects, n, NULL))
		return sfc__fail(conn, -ENOMEM, "out of memory for the output queue");
	return send_queued(conn);
}

int sfc__send_with_fd(struct shmframe_conn *conn, const void *msg, size_t len,
                     int fd)
{
	if (conn->error)
		return conn->error;
	if (sf__out_append(&conn->out, msg, len, fd))
		return sfc__fail(conn, -ENOMEM, "out of memory for the output queue");
	return send_queued(conn);
}

/* The rows the payload's next bytes go into, after handling what came
 * whole so far; NULL once it is complete (no longer active) or the
 * connection failed on a bad block. */
static struct sf_rows *payload_rows(struct shmframe_conn *conn)
{
	struct sfc_payload *p = &conn->payload;
	struct sf_rows *r;
	uint32_t code;
	const char *why;

	if (!p->active)
		return NULL;
	if (!p->blocks) {
		if (p->rows.left)
			return &p->rows;
		p->active = false;
		return NULL;
	}
	r = sf__blocks_in_next(&p->bin, &code, &why);
	if (r)
		return r;
	if (code)
		sfc__fail(conn, -EPROTO, "protocol error: the blocks of an IMAGE: %s",
		         why);
	p->active = false;
	return NULL;
}

size_t sfc__payload_take(struct shmframe_conn *conn)
{
	struct sf_rows *r;
	size_t n = 0;

	while ((r = payload_rows(conn)) && conn->in.len)
		n += sf__in_to_rows(&conn->in, r);
	return n;
}

ssize_t sfc__read(struct shmframe_conn *conn)
{
	struct sfc_payload *p = &conn->payload;
	/* Pixels go straight into the caller's rows when nothing is queued
	 * before them; else into the queue. */
	struct sf_in_read how = {
		.rows = payload_rows(conn),
		.rows_iov = PAYLOAD_IOV,
		.rows_limit = UINT64_MAX,
		.chunk = READ_CHUNK,
		.fd_limit = SF_FDQ_MAX,
	};
	ssize_t n;

	if (conn->error)
		return conn->error;
	if (!(p->active && conn->in.len == 0)) {
		if (conn->in.len >= INPUT_LIMIT)
			return sfc__fail(conn, -ENOBUFS,
			                "the server sent more than %u bytes that were not "
			                "handled", INPUT_LIMIT);
		if (sf__in_reserve(&conn->in, READ_CHUNK))
			return sfc__fail(conn, -ENOMEM, "out of memory for the input queue");
	}
	n = sf__in_read(&conn->in, conn->fd, &how);
	if (conn->in.fdq.count || conn->in.fdq.dropped) {
		sf__fdq_clear(&conn->in.fdq);
		conn->in.fdq.dropped = 0;
		return sfc__fail(conn, -EPROTO,
		                "the server sent a file descriptor; it never should");
	}
	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return -EAGAIN;
	if (n == 0) {
		sfc__salvage_error(conn, -ECONNRESET,
		                  "the server closed the connection");
		return conn->error;
	}
	if (n < 0) {
		sfc__salvage_error(conn, (int)n, "cannot read from the server: %s",
		                  strerror((int)-n));
		return conn->error;
	}
	/* A piece of a payload the read completed is handled now. */
	payload_rows(conn);
	return conn->error ? conn->error : n;
}

int sfc__read_available(struct shmframe_conn *conn)
{
	for (int i = 0; i < READS_PER_CALL; i++) {
		bool queued = !(conn->payload.active && conn->in.len == 0);
		ssize_t n = sfc__read(conn);

		if (n == -EAGAIN)
			break;
		if (n < 0)
			return (int)n;
		/* A read into the queue that did not fill the room it had
		 * drained the socket: asking again would only return EAGAIN,
		 * a wasted syscall per frame on the hot path. */
		if (queued && conn->in.short_read)
			break;
	}
	return conn->error;
}

int sfc__wait(struct shmframe_conn *conn, bool want_out)
{
	struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
	int r;

	if (conn->error)
		return conn->error;
	/* With rings, events may come through memory: looked for there
	 * first, and the server told that we sleep. */
	if (conn->rings) {
		r = sfc__ring_before_poll(conn, want_out);
		if (r)
			return r < 0 ? r : 0;
	}
	if (want_out || sf__out_pending(&conn->out))
		pfd.events |= POLLOUT;
	r = poll(&pfd, 1, -1);
	if (conn->rings)
		sfc__ring_after_poll(conn);
	if (r < 0)
		return errno == EINTR ? 0 : sfc__fail(conn, -errno, "poll failed");
	if (pfd.revents & POLLNVAL)
		return sfc__fail(conn, -EBADF, "the connection's socket was closed");
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
		r = sfc__read_available(conn);
		if (r)
			return r;
	}
	if ((pfd.revents & POLLOUT) && sf__out_pending(&conn->out)) {
		r = sfc__flush(conn);
		if (r && r != -EAGAIN)
			return r;
	}
	return 0;
}

void sfc__salvage_error(struct shmframe_conn *conn, int err, const char *fmt, ...)
{
	char text[SF_ERROR_TEXT];
	va_list ap;

	if (conn->error)
		return;
	/* Whatever the server wrote before it closed is still readable. */
	for (int i = 0; i < 64; i++) {
		struct sf_in_read how = { .chunk = READ_CHUNK,
		                         .fd_limit = SF_FDQ_MAX };
		ssize_t n;

		if (conn->in.len >= INPUT_LIMIT ||
		    sf__in_reserve(&conn->in, READ_CHUNK))
			break;
		n = sf__in_read(&conn->in, conn->fd, &how);
		sf__fdq_clear(&conn->in.fdq);
		if (n <= 0)
			break;
	}
	if (sfc__find_error(conn))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	sfc__fail(conn, err, "%s", text);
}
