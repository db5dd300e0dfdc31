/*
 * Inline pixels of a PUT_IMAGE, read straight into the surface's rows
 * with one recvmsg per batch of rows, never through the message buffer
 * (but for the bytes that came in it with the request).
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "server-private.h"

#define IOV_BATCH 64

/* Where the pixel bytes at pos go, and how many are left in that row. */
static uint8_t *row_at(const struct sfs_payload *p,
                       const struct sf_pixel_pos *pos, size_t *len)
{
	const struct sf_rect *r = &p->rects[pos->rect];
	size_t stride = (size_t)p->surface->width * SF_BYTES_PER_PIXEL;

	*len = (size_t)r->width * SF_BYTES_PER_PIXEL - pos->row_done;
	return p->surface->mem + (size_t)(r->y + pos->row) * stride +
	       (size_t)r->x * SF_BYTES_PER_PIXEL + pos->row_done;
}

static void pos_advance(const struct sfs_payload *p, struct sf_pixel_pos *pos,
                        size_t n)
{
	while (n > 0) {
		const struct sf_rect *r = &p->rects[pos->rect];
		size_t row = (size_t)r->width * SF_BYTES_PER_PIXEL;
		size_t k = row - pos->row_done < n ? row - pos->row_done : n;

		pos->row_done += k;
		n -= k;
		if (pos->row_done == row) {
			pos->row_done = 0;
			if (++pos->row == r->height) {
				pos->row = 0;
				pos->rect++;
			}
		}
	}
}

/* n bytes of pixels have landed where they belong. */
static void payload_advance(struct sf_client *c, size_t n)
{
	struct sfs_payload *p = &c->payload;

	p->left -= n;
	c->in.stream_used += n;
	pos_advance(p, &p->pos, n);
}

static void payload_complete(struct sf_client *c)
{
	struct sfs_payload *p = &c->payload;

	c->payload.active = false;
	c->in.progress++;
	sfs__surface_frame_done(p->surface, p->serial, p->rects, p->n_rects);
}

/* Pixels that arrived in the message buffer with the PUT_IMAGE. */
static void payload_from_buffer(struct sf_client *c)
{
	struct sfs_payload *p = &c->payload;

	while (p->left > 0 && c->in.end > c->in.start) {
		size_t len, avail = c->in.end - c->in.start;
		uint8_t *dst = row_at(p, &p->pos, &len);

		if (len > avail)
			len = avail;
		memcpy(dst, c->in.buf + c->in.start, len);
		c->in.start += len;
		payload_advance(c, len);
	}
	if (c->in.start == c->in.end)
		c->in.start = c->in.end = 0;
}

void sfs__client_start_payload(struct sf_client *c, struct sf_surface *s,
                              uint32_t serial, const struct sf_rect *rects,
                              uint32_t n, uint64_t size)
{
	struct sfs_payload *p = &c->payload;

	p->surface = s;
	p->serial = serial;
	p->n_rects = n;
	memcpy(p->rects, rects, n * sizeof *rects);
	memset(&p->pos, 0, sizeof p->pos);
	p->left = size;
	c->payload.active = true;
	payload_from_buffer(c);
	if (p->left == 0)
		payload_complete(c);
}

/*
 * One recvmsg straight into the surface rows.  When the rows given cover
 * the rest of the payload, the message buffer is the last entry so that the
 * next requests come in the same call.  Returns 1 after progress, 0 when
 * the socket is empty, -1 when the client is gone.
 */
int sfs__payload_read(struct sf_client *c, size_t *budget_used)
{
	struct sfs_payload *p = &c->payload;
	struct iovec iov[IOV_BATCH + 1];
	struct sf_pixel_pos walk = p->pos;
	uint64_t covered = 0;
	unsigned before = c->fds.q.count;
	ssize_t got;
	int n = 0;

	while (n < IOV_BATCH && covered < p->left && covered < SF_PAYLOAD_BUDGET) {
		size_t len;
		uint8_t *dst = row_at(p, &walk, &len);

		/* Rows that follow each other in the surface (full-width
		 * rectangles) become one entry. */
		if (n > 0 && (uint8_t *)iov[n - 1].iov_base +
		             iov[n - 1].iov_len == dst) {
			iov[n - 1].iov_len += len;
		} else {
			iov[n].iov_base = dst;
			iov[n].iov_len = len;
			n++;
		}
		covered += len;
		pos_advance(p, &walk, len);
	}
	/* An fd may come with the next message only when the read can go
	 * past the pixels. */
	c->fds.q.limit = 0;
	if (covered == p->left && c->in.start == c->in.end) {
		c->in.start = c->in.end = 0;
		iov[n].iov_base = c->in.buf;
		iov[n].iov_len = SF_IN_CAP;
		n++;
		c->fds.q.limit = SF_FDQ_MAX;
	}
	if (!sfs__client_fds_may_receive(c))
		return 0;
	got = sf__recv_fds(c->fd, iov, n, &c->fds.q);
	if (got == -EAGAIN || got == -EWOULDBLOCK)
		return 0;
	if (got == 0) {
		/* Half-closed peers can still read why. */
		c->in.eof = true;
		sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "the stream ended with %llu "
		                "bytes of its pixels still to come",
		                (unsigned long long)p->left);
		return -1;
	}
	if (got < 0) {
		sfs__client_close(c, strerror((int)-got));
		return -1;
	}
	c->in.stream_read += (uint64_t)got;
	sfs__client_fds_note(c, before);
	*budget_used += (size_t)got;
	if ((uint64_t)got > p->left) {
		c->in.end = (size_t)((uint64_t)got - p->left);
		got = (ssize_t)p->left;
	}
	payload_advance(c, (size_t)got);
	if (sfs__client_fds_check_received(c, before, p->left > 0) < 0)
		return -1;
	if (p->left == 0) {
		c->req.active = true;
		payload_complete(c);
		if (sfs__input_after_request(c) < 0)
			return -1;
	}
	return 1;
}

