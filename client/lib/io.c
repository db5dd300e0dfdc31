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

int sfc__bytes_reserve(struct sf_bytes *b, size_t more)
{
	size_t need, cap;
	uint8_t *p;

	if (b->cap - b->start - b->len >= more)
		return 0;
	/* Move the live bytes to the front first; that is often enough. */
	if (b->start) {
		memmove(b->data, b->data + b->start, b->len);
		b->start = 0;
		if (b->cap - b->len >= more)
			return 0;
	}
	if (more > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	need = b->len + more;
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

void sfc__bytes_free(struct sf_bytes *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

int sfc__queue(struct shmframe_conn *conn, const void *msg, size_t len)
{
	int err;

	if (conn->error)
		return conn->error;
	err = sfc__bytes_reserve(&conn->out, len);
	if (err)
		return sfc__fail(conn, err, "out of memory for the output queue");
	memcpy(conn->out.data + conn->out.start + conn->out.len, msg, len);
	conn->out.len += len;
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
	if (conn->error)
		return conn->error;
	while (conn->out.len) {
		struct iovec iov = {
			.iov_base = conn->out.data + conn->out.start,
			.iov_len = conn->out.len,
		};
		ssize_t n = sf__send_fd(conn->fd, &iov, 1, -1);

		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return -EAGAIN;
		if (n < 0) {
			sfc__salvage_error(conn, (int)n, "cannot write to the server: %s",
			                  strerror((int)-n));
			return conn->error;
		}
		conn->out.start += (size_t)n;
		conn->out.len -= (size_t)n;
	}
	conn->out.start = 0;
	return 0;
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

/* Advances iov past n written bytes; returns the index of the first iovec
 * with bytes left. */
static size_t iov_advance(struct iovec *iov, size_t cnt, size_t i, size_t n)
{
	while (i < cnt && n >= iov[i].iov_len) {
		n -= iov[i].iov_len;
		i++;
	}
	if (i < cnt && n) {
		iov[i].iov_base = (uint8_t *)iov[i].iov_base + n;
		iov[i].iov_len -= n;
	}
	return i;
}

/* Writes every byte of iov after the queued output, waiting (and reading
 * events meanwhile) while the socket is full; fd, when >= 0, rides on the
 * first byte only. */
static int send_all(struct shmframe_conn *conn, struct iovec *iov, size_t n,
                    int fd)
{
	size_t i;
	int err = sfc__flush_all(conn);

	if (err)
		return err;
	i = iov_advance(iov, n, 0, 0);
	while (i < n) {
		size_t cnt = n - i < IOV_MAX ? n - i : IOV_MAX;
		ssize_t w = sf__send_fd(conn->fd, iov + i, (int)cnt, fd);

		if (w == -EAGAIN || w == -EWOULDBLOCK) {
			/* Keep reading while we wait: the server may be
			 * blocked writing events to us. */
			err = sfc__wait(conn, true);
			if (err)
				return err;
			continue;
		}
		if (w < 0) {
			sfc__salvage_error(conn, (int)w, "cannot write to the server: %s",
			                  strerror((int)-w));
			return conn->error;
		}
		fd = -1;
		i = iov_advance(iov, n, i, (size_t)w);
	}
	return 0;
}

int sfc__send_iov(struct shmframe_conn *conn, struct iovec *iov, size_t n)
{
	return send_all(conn, iov, n, -1);
}

int sfc__send_with_fd(struct shmframe_conn *conn, const void *msg, size_t len,
                     int fd)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };

	conn->requests++;
	return send_all(conn, &iov, 1, fd);
}

/* Moves n received payload bytes forward; src == NULL when they were read
 * straight into place. */
static void payload_advance(struct shmframe_conn *conn, const uint8_t *src,
                            size_t n)
{
	struct sfc_payload *p = &conn->payload;

	while (n) {
		size_t room = p->row_bytes - p->col;
		size_t take = n < room ? n : room;

		if (src) {
			memcpy(p->dst + (size_t)p->row * p->dst_stride + p->col, src,
			       take);
			src += take;
		}
		p->col += (uint32_t)take;
		p->remaining -= take;
		n -= take;
		if (p->col == p->row_bytes) {
			p->col = 0;
			p->row++;
		}
	}
	if (p->remaining == 0)
		p->active = false;
}

size_t sfc__payload_take(struct shmframe_conn *conn, const uint8_t *src,
                        size_t avail)
{
	size_t n = avail < conn->payload.remaining ? avail
	                                           : (size_t)conn->payload.remaining;

	payload_advance(conn, src, n);
	return n;
}

ssize_t sfc__read(struct shmframe_conn *conn)
{
	struct iovec iov[PAYLOAD_IOV];
	struct sfc_payload *p = &conn->payload;
	bool direct = p->active && conn->in.len == 0;
	int cnt = 0;
	ssize_t n;

	if (conn->error)
		return conn->error;
	if (direct) {
		/* Pixels go straight into the caller's rows: the rest of the
		 * current row, then whole rows. */
		uint64_t left = p->remaining;
		uint32_t row = p->row, col = p->col;

		while (left && cnt < PAYLOAD_IOV) {
			size_t len = p->row_bytes - col;

			if (len > left)
				len = (size_t)left;
			iov[cnt].iov_base = p->dst + (size_t)row * p->dst_stride + col;
			iov[cnt].iov_len = len;
			cnt++;
			left -= len;
			row++;
			col = 0;
		}
	} else {
		int err;

		if (conn->in.len >= INPUT_LIMIT)
			return sfc__fail(conn, -ENOBUFS,
			                "the server sent more than %u bytes that were not "
			                "handled", INPUT_LIMIT);
		err = sfc__bytes_reserve(&conn->in, READ_CHUNK);
		if (err)
			return sfc__fail(conn, err, "out of memory for the input queue");
		iov[0].iov_base = conn->in.data + conn->in.start + conn->in.len;
		iov[0].iov_len = conn->in.cap - conn->in.start - conn->in.len;
		cnt = 1;
	}
	n = sf__recv_fds(conn->fd, iov, cnt, &conn->fdq);
	if (conn->fdq.count || conn->fdq.dropped) {
		sf__fdq_clear(&conn->fdq);
		conn->fdq.dropped = 0;
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
	if (direct)
		payload_advance(conn, NULL, (size_t)n);
	else
		conn->in.len += (size_t)n;
	return n;
}

int sfc__read_available(struct shmframe_conn *conn)
{
	for (int i = 0; i < READS_PER_CALL; i++) {
		size_t room;
		bool queued = !(conn->payload.active && conn->in.len == 0);
		ssize_t n = sfc__read(conn);

		if (n == -EAGAIN)
			break;
		if (n < 0)
			return (int)n;
		/* A read into the queue that did not fill the room it had
		 * drained the socket: asking again would only return EAGAIN,
		 * a wasted syscall per frame on the hot path. */
		room = conn->in.cap - conn->in.start - (conn->in.len - (size_t)n);
		if (queued && (size_t)n < room)
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
	if (want_out || conn->out.len)
		pfd.events |= POLLOUT;
	r = poll(&pfd, 1, -1);
	if (r < 0)
		return errno == EINTR ? 0 : sfc__fail(conn, -errno, "poll failed");
	if (pfd.revents & POLLNVAL)
		return sfc__fail(conn, -EBADF, "the connection's socket was closed");
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
		r = sfc__read_available(conn);
		if (r)
			return r;
	}
	if ((pfd.revents & POLLOUT) && conn->out.len) {
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
		struct iovec iov;
		ssize_t n;

		if (conn->in.len >= INPUT_LIMIT ||
		    sfc__bytes_reserve(&conn->in, READ_CHUNK))
			break;
		iov.iov_base = conn->in.data + conn->in.start + conn->in.len;
		iov.iov_len = conn->in.cap - conn->in.start - conn->in.len;
		n = sf__recv_fds(conn->fd, &iov, 1, &conn->fdq);
		sf__fdq_clear(&conn->fdq);
		if (n <= 0)
			break;
		conn->in.len += (size_t)n;
	}
	if (sfc__find_error(conn))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	sfc__fail(conn, err, "%s", text);
}
