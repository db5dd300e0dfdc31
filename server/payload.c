/*
 * Inline pixels of a PUT_IMAGE, read straight into the surface's rows
 * with one recvmsg per batch of rows, never through the message buffer
 * (but for the bytes that came in it with the request).  A payload in
 * blocks (protocol 2.3) is read piece by piece as protocol/blocks.c
 * says: a block's header, then its data into a buffer of its own (which
 * is decoded into the surface), or for a stored block its rows straight
 * into place.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "server-private.h"

#define IOV_BATCH 64

/* The codecs a client's blocks may use. */
#define SERVER_CODECS (1u << SF_CODEC_LZ4 | 1u << SF_CODEC_ZSTD)
/* What one read of a payload counts against the turn's budget, besides
 * its bytes: a read may take a 12-byte block header, a 4-byte block, or
 * 64 rows of a rectangle one pixel wide, and a turn of the budget's bytes
 * read so would be up to a million system calls while the others wait.
 * With it a turn is at most 512 reads. */
#define READ_COST (16u << 10)

static void payload_complete(struct sf_client *c)
{
	struct sfs_payload *p = &c->payload;

	c->payload.active = false;
	c->in.progress++;
	sfs__surface_frame_done(p->surface, p->serial, p->rects, p->n_rects);
}

uint64_t sfs__payload_left(const struct sf_client *c)
{
	const struct sfs_payload *p = &c->payload;

	return p->blocks ? p->bin.dst.left : p->rows.left;
}

void sfs__payload_free(struct sf_client *c)
{
	sf__blocks_in_free(&c->payload.bin);
	sf__blocks_out_free(&c->codec_out);
}

/*
 * The rows the next bytes go into: the payload's, or for blocks the
 * piece the stream is at (what came whole so far is handled first).
 * NULL when the payload is complete, or when the client was failed for
 * a bad block (*failed set).
 */
static struct sf_rows *next_rows(struct sf_client *c, size_t *raw_used,
                                 bool *failed)
{
	struct sfs_payload *p = &c->payload;
	uint64_t before = p->bin.raw_done;
	struct sf_rows *r;
	uint32_t code;
	const char *why;

	*failed = false;
	if (!p->blocks)
		return p->rows.left ? &p->rows : NULL;
	r = sf__blocks_in_next(&p->bin, &code, &why);
	/* Decoding costs what reading the raw pixels would, and is a copy
	 * into the surface: counted against the turn's copy budget too, so
	 * that blocks queued with their requests cannot make a turn write
	 * many surfaces. */
	c->res.copied += p->bin.raw_done - before;
	if (raw_used)
		*raw_used += (size_t)(p->bin.raw_done - before);
	if (!r && code) {
		*failed = true;
		sfs__client_fail(c, code, "the blocks of PUT_IMAGE %u: %s (%llu "
		                "bytes of its pixels still to come)", p->serial, why,
		                (unsigned long long)p->bin.dst.left);
	}
	return r;
}

/* Takes what the message buffer holds of the payload.  0 while pixels
 * are still to come, 1 when the payload is complete, -1 when the client
 * was failed. */
static int take_queued(struct sf_client *c, size_t *raw_used)
{
	struct sf_rows *r;
	bool failed;

	while ((r = next_rows(c, raw_used, &failed))) {
		if (c->in.q.len == 0)
			return 0;
		sf__in_to_rows(&c->in.q, r);
		if (r->left)
			return 0;
	}
	return failed ? -1 : 1;
}

void sfs__client_start_payload(struct sf_client *c, struct sf_surface *s,
                              uint32_t serial, const struct sf_rect *rects,
                              uint32_t n, bool blocks)
{
	struct sfs_payload *p = &c->payload;
	size_t stride = (size_t)s->width * SF_BYTES_PER_PIXEL;

	p->surface = s;
	p->serial = serial;
	p->n_rects = n;
	p->blocks = blocks;
	memcpy(p->rects, rects, n * sizeof *rects);
	if (blocks)
		sf__blocks_in_start(&p->bin, s->mem, stride, p->rects, n,
		                    SERVER_CODECS & sf__codecs_built());
	else
		sf__rows_init(&p->rows, s->mem, stride, p->rects, n);
	c->payload.active = true;
	/* Pixels that arrived in the message buffer with the PUT_IMAGE. */
	if (take_queued(c, NULL) == 1)
		payload_complete(c);
}

/*
 * One recvmsg straight into the rows.  When the rows given cover the rest
 * of the payload, the message buffer is the last entry so that the next
 * requests come in the same call.  Returns 1 after progress, 0 when the
 * socket is empty, -1 when the client is gone.
 */
int sfs__payload_read(struct sf_client *c, size_t *budget_used)
{
	struct sfs_payload *p = &c->payload;
	bool failed;
	struct sf_rows *rows = next_rows(c, budget_used, &failed);
	int r, done;

	if (failed)
		return -1;
	/* An fd may come with the next message only when the read can go
	 * past the pixels: with blocks, in the last block's data. */
	const struct sf_in_read how = {
		.rows = rows,
		.rows_iov = IOV_BATCH,
		.rows_limit = SF_PAYLOAD_BUDGET,
		.then_queue = !p->blocks ||
		              (p->bin.in_data && p->bin.dst.left == p->bin.cur.raw_len),
		.chunk = SF_IN_CAP,
		.fd_limit = SF_FDQ_MAX,
	};

	if (!rows) {
		/* Complete already (a block's last bytes came in the buffer). */
		done = 1;
	} else {
		r = sfs__client_read(c, &how, budget_used);
		if (r == SFS_READ_END) {
			/* Half-closed peers can still read why. */
			c->in.eof = true;
			sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "the stream ended with "
			                "%llu bytes of its pixels still to come",
			                (unsigned long long)sfs__payload_left(c));
			return -1;
		}
		if (r <= 0)
			return r;
		*budget_used += READ_COST;
		done = take_queued(c, budget_used);
		if (done < 0)
			return -1;
	}
	if (done) {
		c->req.active = true;
		payload_complete(c);
		if (sfs__input_after_request(c) < 0)
			return -1;
	}
	return 1;
}
