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

static void payload_complete(struct sf_client *c)
{
	struct sfs_payload *p = &c->payload;

	c->payload.active = false;
	c->in.progress++;
	sfs__surface_frame_done(p->surface, p->serial, p->rects, p->n_rects);
}

void sfs__client_start_payload(struct sf_client *c, struct sf_surface *s,
                              uint32_t serial, const struct sf_rect *rects,
                              uint32_t n)
{
	struct sfs_payload *p = &c->payload;

	p->surface = s;
	p->serial = serial;
	p->n_rects = n;
	memcpy(p->rects, rects, n * sizeof *rects);
	sf__rows_init(&p->rows, s->mem, (size_t)s->width * SF_BYTES_PER_PIXEL,
	              p->rects, n);
	c->payload.active = true;
	/* Pixels that arrived in the message buffer with the PUT_IMAGE. */
	sf__in_to_rows(&c->in.q, &p->rows);
	if (p->rows.left == 0)
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
	/* An fd may come with the next message only when the read can go
	 * past the pixels. */
	const struct sf_in_read how = {
		.rows = &p->rows,
		.rows_iov = IOV_BATCH,
		.rows_limit = SF_PAYLOAD_BUDGET,
		.then_queue = true,
		.chunk = SF_IN_CAP,
		.fd_limit = SF_FDQ_MAX,
	};
	int r = sfs__client_read(c, &how, budget_used);

	if (r == SFS_READ_END) {
		/* Half-closed peers can still read why. */
		c->in.eof = true;
		sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "the stream ended with %llu "
		                "bytes of its pixels still to come",
		                (unsigned long long)p->rows.left);
		return -1;
	}
	if (r <= 0)
		return r;
	if (p->rows.left == 0) {
		c->req.active = true;
		payload_complete(c);
		if (sfs__input_after_request(c) < 0)
			return -1;
	}
	return 1;
}
