/*
 * A client's output queue.  Events are encoded into byte chunks; an inline
 * readback is a chunk of rows that are written straight from the surface
 * with sendmsg() as the socket drains, so that no copy of the image is
 * ever queued and memory stays bounded whatever the rectangle.
 *
 * Queueing never fails the client on the spot: a client over max_output
 * (or a chunk we cannot allocate) is marked, and failed at the next safe
 * point (after the request being handled, or when flushing), so callers
 * deep in a request need no error path for it.  Its events not yet begun
 * are dropped at once and nothing more is queued for it but its ERROR:
 * what a client that does not read can make us hold is max_output, and
 * for all clients together max_output_total (the one holding the most is
 * failed when the total is exceeded, whoever queued the last byte).
 * Answers queued and written are reported to inflight.c, which counts
 * them against max_inflight.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server-private.h"

#define IOV_BATCH 64
/* Bytes written per wakeup before giving the others their turn. */
#define WRITE_BUDGET (8u << 20)

void sfs__out_defer_error(struct sf_client *c, uint32_t code, const char *text,
                          bool blame_request)
{
	if (c->out.deferred_error)
		return;
	c->out.deferred_error = code;
	c->out.deferred_type = blame_request && c->req.active ? c->req.type : 0;
	snprintf(c->out.deferred_text, sizeof c->out.deferred_text, "%s", text);
	sfs__client_want_flush(c);
}

/* Its ERROR names the request whose answer did not fit, if any. */
static void defer_error(struct sf_client *c, uint32_t code, const char *text)
{
	sfs__out_defer_error(c, code, text, true);
}

/*
 * A client about to be failed for its output: its events no byte of which
 * was written go now, so that the memory is back at once, not after the
 * grace period of a closing client that does not read.  A chunk begun
 * stays (the stream must stay whole messages for the ERROR to be read).
 * Queued rows, and an IMAGE's blocks begun, are left alone: such a client
 * is closed without an ERROR.
 */
static void drop_unsent(struct sf_client *c)
{
	if (sfs__out_has_rows(c) || c->out.q.written < c->out.blocks_end)
		return;
	c->server->out_total -= sf__out_drop_unsent(&c->out.q);
}

/* The READY client with the most output queued, and what all READY
 * clients hold.  Clients already failed, or about to be, are left out:
 * they hold what is left of their last events and their ERROR, for a
 * grace period, and there is nobody else to blame for that. */
static struct sf_client *largest_output(struct sf_server *server,
                                        uint64_t *ready_total)
{
	struct sf_client *c, *max = NULL;

	*ready_total = 0;
	list_for_each(c, &server->clients, struct sf_client, link) {
		if (c->fd < 0 || c->state != SF_CLIENT_READY ||
		    c->out.deferred_error)
			continue;
		*ready_total += c->out.q.bytes;
		if (!max || c->out.q.bytes > max->out.q.bytes)
			max = c;
	}
	return max;
}

/* After queueing for c: over its own limit, it is failed; over the total
 * of all clients, the client holding the most is. */
static void check_output_limits(struct sf_client *c)
{
	struct sf_server *server = c->server;
	struct sf_client *hog;
	uint64_t ready_total;
	char text[160];

	if (c->out.q.bytes > server->limits.max_output) {
		snprintf(text, sizeof text, "the client does not read its events: "
		         "%llu bytes are queued for it, more than max_output "
		         "(%llu)", (unsigned long long)c->out.q.bytes,
		         (unsigned long long)server->limits.max_output);
		defer_error(c, SF_ERR_SLOW, text);
		drop_unsent(c);
		return;
	}
	if (server->out_total <= server->glimits.max_output_total)
		return;
	hog = largest_output(server, &ready_total);
	if (!hog || ready_total <= server->glimits.max_output_total)
		return;
	snprintf(text, sizeof text, "events not read: %llu bytes are queued "
	         "for it, the most of any client, and all clients' events "
	         "exceed --max-output-total (%llu)",
	         (unsigned long long)hog->out.q.bytes,
	         (unsigned long long)server->glimits.max_output_total);
	defer_error(hog, SF_ERR_SLOW, text);
	drop_unsent(hog);
}

/* The rows come from what the surface shows now. */
static void rows_locate(void *tag, void *data, struct sf_rows *rows)
{
	uint32_t stride;

	(void)data;
	rows->base = (uint8_t *)sfs__surface_pixels(tag, &stride);
	rows->stride = stride;
}

void sfs__out_init(struct sf_client *c)
{
	sf__out_init(&c->out.q, IOV_BATCH);
	c->out.q.locate = rows_locate;
}

int sfs__out_message(struct sf_client *c, uint16_t type, void *fixed,
                    size_t fixed_size, const void *tail, size_t tail_len)
{
	size_t need = fixed_size + tail_len + 3, n, room;
	uint8_t *p;

	if (c->fd < 0)
		return -1;
	/* Failed at its next safe point: nothing but its ERROR is worth
	 * holding for it. */
	if (c->out.deferred_error && c->state != SF_CLIENT_CLOSING)
		return -1;
	p = sf__out_space(&c->out.q, need, &room);
	if (!p) {
		defer_error(c, SF_ERR_NO_MEMORY,
		            "server out of memory for the output queue");
		return -1;
	}
	n = sf__encode(p, room, type, fixed, fixed_size, tail, tail_len);
	if (n == 0) {
		/* Our own message too large: a bug, never a peer's doing. */
		sfs__log("cannot encode %s for client %u", sf__type_name(type), c->id);
		return -1;
	}
	sf__out_commit(&c->out.q, n);
	c->out.sequence++;
	c->server->out_total += n;
	if (type == SF_PRESENTED || type == SF_IMAGE)
		sfs__inflight_answer_queued(c, fixed);
	sfs__client_want_flush(c);
	if (c->state != SF_CLIENT_CLOSING)
		check_output_limits(c);
	return 0;
}

int sfs__out_rows(struct sf_client *c, struct sf_surface *s,
                 const struct sf_rect *rect)
{
	uint32_t stride;
	const uint8_t *px = sfs__surface_pixels(s, &stride);

	if (sf__out_rows(&c->out.q, (uint8_t *)px, stride, rect, 1, s) < 0)
		return -ENOMEM;
	sfs__client_pause_input(c, true);
	sfs__client_want_flush(c);
	return 0;
}

bool sfs__out_blocks_fit(const struct sf_client *c, const struct sf_rect *rect)
{
	uint64_t raw = (uint64_t)rect->width * rect->height * SF_BYTES_PER_PIXEL;

	return c->out.q.bytes + raw + raw / 64 <= c->server->limits.max_output / 2;
}

int sfs__out_blocks(struct sf_client *c, struct sf_surface *s,
                    const struct sf_rect *rect, uint32_t codec)
{
	struct sf_blocks_stats st = { 0 };
	uint32_t stride;
	const uint8_t *px = sfs__surface_pixels(s, &stride);

	if (c->fd < 0 || (c->out.deferred_error && c->state != SF_CLIENT_CLOSING))
		return -1;
	if (sf__blocks_queue(&c->out.q, &c->codec_out, codec, px, stride, rect, 1,
	                     &st)) {
		defer_error(c, SF_ERR_NO_MEMORY,
		            "server out of memory for the output queue");
		return -1;
	}
	c->server->out_total += st.wire_bytes;
	c->out.blocks_end = c->out.q.queued;
	sfs__client_want_flush(c);
	if (c->state != SF_CLIENT_CLOSING)
		check_output_limits(c);
	return 0;
}

bool sfs__out_pending(const struct sf_client *c)
{
	return sf__out_pending(&c->out.q);
}

bool sfs__out_has_rows(const struct sf_client *c)
{
	return c->out.q.rows > 0;
}

void sfs__out_clear(struct sf_client *c)
{
	c->server->out_total -= c->out.q.bytes;
	sf__out_clear(&c->out.q);
	sfs__inflight_clear(c);
}

int sfs__out_write(struct sf_client *c)
{
	uint64_t bytes = c->out.q.bytes;
	bool had_rows = sfs__out_has_rows(c);
	int err = sf__out_write(&c->out.q, c->fd, WRITE_BUDGET);

	c->server->out_total -= bytes - c->out.q.bytes;
	sfs__inflight_written(c);
	if (had_rows && !sfs__out_has_rows(c))
		sfs__client_pause_input(c, false);
	return err == -EAGAIN || err == -EWOULDBLOCK ? 0 : err;
}
