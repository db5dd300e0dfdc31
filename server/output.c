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
#include <sys/socket.h>
#include <sys/uio.h>

#include "server-private.h"

#define CHUNK_MIN 4096
#define IOV_BATCH 64
/* Bytes written per wakeup before giving the others their turn. */
#define WRITE_BUDGET (8u << 20)

struct sf_out_chunk {
	struct sf_list link;
	bool rows;
	/* bytes */
	size_t len, cap, sent;
	/* rows: rect of surface, from row `row`, `row_sent` bytes of it out */
	struct sf_surface *surface;
	struct sf_rect rect;
	uint32_t row;
	size_t row_sent;
	uint8_t data[];
};

static void defer_error(struct sf_client *c, uint32_t code, const char *text)
{
	if (c->out.deferred_error)
		return;
	c->out.deferred_error = code;
	/* Its ERROR names the request whose answer did not fit, if any. */
	c->out.deferred_type = c->req.active ? c->req.type : 0;
	snprintf(c->out.deferred_text, sizeof c->out.deferred_text, "%s", text);
	sfs__client_want_flush(c);
}

static void chunk_free(struct sf_out_chunk *ch);

/*
 * A client about to be failed for its output: its events no byte of which
 * was written go now, so that the memory is back at once, not after the
 * grace period of a closing client that does not read.  A chunk begun
 * stays (the stream must stay whole messages for the ERROR to be read).
 * Queued rows are left alone: such a client is closed without an ERROR.
 */
static void drop_unsent(struct sf_client *c)
{
	struct sf_list all;

	if (sfs__out_has_rows(c))
		return;
	/* Every chunk is taken off and either put back (begun) or freed. */
	list_take_all(&all, &c->out.chunks);
	while (!list_empty(&all)) {
		struct sf_out_chunk *ch = sf_container_of(list_pop(&all),
		                                          struct sf_out_chunk, link);
		size_t left = ch->len - ch->sent;

		if (ch->sent > 0) {
			list_append(&c->out.chunks, &ch->link);
			continue;
		}
		c->out.bytes -= left;
		c->out.queued -= left;
		c->server->out_total -= left;
		chunk_free(ch);
	}
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
		*ready_total += c->out.bytes;
		if (!max || c->out.bytes > max->out.bytes)
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

	if (c->out.bytes > server->limits.max_output) {
		snprintf(text, sizeof text, "the client does not read its events: "
		         "%llu bytes are queued for it, more than max_output "
		         "(%llu)", (unsigned long long)c->out.bytes,
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
	         (unsigned long long)hog->out.bytes,
	         (unsigned long long)server->glimits.max_output_total);
	defer_error(hog, SF_ERR_SLOW, text);
	drop_unsent(hog);
}

int sfs__out_message(struct sf_client *c, uint16_t type, void *fixed,
                    size_t fixed_size, const void *tail, size_t tail_len)
{
	size_t need = fixed_size + tail_len + 3, n;
	struct sf_out_chunk *ch = NULL;

	if (c->fd < 0)
		return -1;
	/* Failed at its next safe point: nothing but its ERROR is worth
	 * holding for it. */
	if (c->out.deferred_error && c->state != SF_CLIENT_CLOSING)
		return -1;
	if (!list_empty(&c->out.chunks)) {
		ch = sf_container_of(c->out.chunks.prev, struct sf_out_chunk, link);
		if (ch->rows || ch->cap - ch->len < need)
			ch = NULL;
	}
	if (!ch) {
		size_t cap = need > CHUNK_MIN ? need : CHUNK_MIN;

		ch = malloc(sizeof *ch + cap);
		if (!ch) {
			defer_error(c, SF_ERR_NO_MEMORY,
			            "server out of memory for the output queue");
			return -1;
		}
		memset(ch, 0, sizeof *ch);
		ch->cap = cap;
		list_append(&c->out.chunks, &ch->link);
	}
	n = sf__encode(ch->data + ch->len, ch->cap - ch->len, type, fixed,
	               fixed_size, tail, tail_len);
	if (n == 0) {
		/* Our own message too large: a bug, never a peer's doing. */
		sfs__log("cannot encode %s for client %u", sf__type_name(type), c->id);
		return -1;
	}
	ch->len += n;
	c->out.bytes += n;
	c->out.queued += n;
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
	struct sf_out_chunk *ch = calloc(1, sizeof *ch);

	if (!ch)
		return -ENOMEM;
	ch->rows = true;
	ch->surface = s;
	ch->rect = *rect;
	c->out.queued += (uint64_t)rect->width * SF_BYTES_PER_PIXEL * rect->height;
	s->streaming++;
	list_append(&c->out.chunks, &ch->link);
	sfs__client_pause_input(c, true);
	sfs__client_want_flush(c);
	return 0;
}

bool sfs__out_pending(const struct sf_client *c)
{
	return !list_empty(&c->out.chunks);
}

bool sfs__out_has_rows(const struct sf_client *c)
{
	for (const struct sf_list *l = c->out.chunks.next; l != &c->out.chunks;
	     l = l->next)
		if (sf_container_of(l, const struct sf_out_chunk, link)->rows)
			return true;
	return false;
}

static void chunk_free(struct sf_out_chunk *ch)
{
	if (ch->rows)
		ch->surface->streaming--;
	list_remove(&ch->link);
	free(ch);
}

void sfs__out_clear(struct sf_client *c)
{
	while (!list_empty(&c->out.chunks))
		chunk_free(list_first(&c->out.chunks, struct sf_out_chunk, link));
	c->server->out_total -= c->out.bytes;
	c->out.bytes = 0;
	c->out.written = c->out.queued;
	sfs__inflight_clear(c);
}

static void iov_add(struct iovec *iov, int *n, const void *base, size_t len)
{
	/* Rows that follow each other in memory (a full-width rectangle of a
	 * packed surface) become one entry. */
	if (*n > 0 && (const uint8_t *)iov[*n - 1].iov_base +
	              iov[*n - 1].iov_len == (const uint8_t *)base) {
		iov[*n - 1].iov_len += len;
		return;
	}
	iov[*n].iov_base = (void *)base;
	iov[*n].iov_len = len;
	(*n)++;
}

/* Fills iov from the head of the queue; returns the entry count. */
static int gather(struct sf_client *c, struct iovec *iov)
{
	int n = 0;

	for (struct sf_list *l = c->out.chunks.next;
	     l != &c->out.chunks && n < IOV_BATCH; l = l->next) {
		struct sf_out_chunk *ch = sf_container_of(l, struct sf_out_chunk, link);
		const uint8_t *px;
		uint32_t stride;
		size_t row = (size_t)ch->rect.width * SF_BYTES_PER_PIXEL;

		if (!ch->rows) {
			iov_add(iov, &n, ch->data + ch->sent, ch->len - ch->sent);
			continue;
		}
		px = sfs__surface_pixels(ch->surface, &stride);
		for (uint32_t y = ch->row; y < ch->rect.height && n < IOV_BATCH; y++) {
			size_t skip = y == ch->row ? ch->row_sent : 0;
			const uint8_t *p = px + (size_t)(ch->rect.y + y) * stride +
			                   (size_t)ch->rect.x * SF_BYTES_PER_PIXEL;

			iov_add(iov, &n, p + skip, row - skip);
		}
		/* Merging may have left room, but the next chunk must not start
		 * before this one is whole. */
		if (n == IOV_BATCH)
			break;
	}
	return n;
}

/* Drops n written bytes from the head of the queue. */
static void advance(struct sf_client *c, size_t n)
{
	c->out.written += n;
	sfs__inflight_written(c);
	while (n > 0 && !list_empty(&c->out.chunks)) {
		struct sf_out_chunk *ch = sf_container_of(c->out.chunks.next,
		                                          struct sf_out_chunk, link);
		if (!ch->rows) {
			size_t k = ch->len - ch->sent < n ? ch->len - ch->sent : n;

			ch->sent += k;
			c->out.bytes -= k;
			c->server->out_total -= k;
			n -= k;
			if (ch->sent == ch->len)
				chunk_free(ch);
			continue;
		}
		while (n > 0 && ch->row < ch->rect.height) {
			size_t row = (size_t)ch->rect.width * SF_BYTES_PER_PIXEL;
			size_t k = row - ch->row_sent < n ? row - ch->row_sent : n;

			ch->row_sent += k;
			n -= k;
			if (ch->row_sent == row) {
				ch->row++;
				ch->row_sent = 0;
			}
		}
		if (ch->row == ch->rect.height) {
			chunk_free(ch);
			if (!sfs__out_has_rows(c))
				sfs__client_pause_input(c, false);
		}
	}
}

int sfs__out_write(struct sf_client *c)
{
	size_t total = 0;

	while (!list_empty(&c->out.chunks) && total < WRITE_BUDGET) {
		struct iovec iov[IOV_BATCH];
		struct msghdr msg = { .msg_iov = iov };
		ssize_t n;

		msg.msg_iovlen = (size_t)gather(c, iov);
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		advance(c, (size_t)n);
		total += (size_t)n;
	}
	return 0;
}
