/*
 * The input and output queues of a connection (connection.h).
 *
 * Reads stop where the kernel ends them: after the bytes that carried
 * fds, so each fd is stamped with the stream position of the message it
 * came with.  Writes carry an fd only on the first byte of the bytes it
 * was queued with, so a write never gathers past a chunk that has one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "connection.h"

/* Message bytes per chunk, at least: many small events share one. */
#define CHUNK_MIN 4096u
/* The first allocation of an input queue; it doubles from there. */
#define IN_FIRST 4096u

/* ---- input -------------------------------------------------------------- */

void sf__in_init(struct sf_in *in, size_t max)
{
	memset(in, 0, sizeof *in);
	in->max = max;
	sf__fdq_init(&in->fdq);
}

void sf__in_free(struct sf_in *in)
{
	sf__fdq_clear(&in->fdq);
	free(in->data);
	in->data = NULL;
	in->start = in->len = in->cap = 0;
}

int sf__in_reserve(struct sf_in *in, size_t more)
{
	size_t need, cap;
	uint8_t *p;

	if (in->cap - in->start - in->len >= more)
		return 0;
	/* Moving the live bytes to the front is often enough. */
	if (in->start) {
		memmove(in->data, in->data + in->start, in->len);
		in->start = 0;
		if (in->cap - in->len >= more)
			return 0;
	}
	if (in->max && in->cap >= in->max)
		return 0;
	if (more > SIZE_MAX / 2 - in->len)
		return -ENOMEM;
	need = in->len + more;
	cap = in->cap ? in->cap : IN_FIRST;
	while (cap < need)
		cap *= 2;
	if (in->max && cap > in->max)
		cap = in->max;
	p = realloc(in->data, cap);
	if (!p)
		return -ENOMEM;
	in->data = p;
	in->cap = cap;
	return 0;
}

void sf__in_consume(struct sf_in *in, size_t n)
{
	in->start += n;
	in->len -= n;
	in->used += n;
	if (in->len == 0)
		in->start = 0;
}

int sf__in_take_fd(struct sf_in *in)
{
	return sf__fdq_take(&in->fdq);
}

unsigned sf__in_fds_due(const struct sf_in *in, uint64_t end)
{
	unsigned n = 0;

	while (n < in->fdq.count && in->fdq.at[n] <= end)
		n++;
	return n;
}

size_t sf__in_to_rows(struct sf_in *in, struct sf_rows *rows)
{
	size_t n = sf__rows_copy_in(rows, in->data + in->start, in->len);

	sf__in_consume(in, n);
	return n;
}

/* Room at the end of the queue. */
static size_t in_room(const struct sf_in *in)
{
	return in->cap - in->start - in->len;
}

ssize_t sf__in_read(struct sf_in *in, int sock, const struct sf_in_read *r)
{
	struct iovec iov[r->rows_iov > 0 ? r->rows_iov + 1 : 1];
	struct sf_rows *rows = r->rows && r->rows->left && in->len == 0 ? r->rows
	                                                                : NULL;
	uint64_t covered = 0, room;
	unsigned before = in->fdq.count;
	int cnt = 0;
	ssize_t got;

	in->fdq.limit = 0;
	if (rows)
		covered = sf__rows_iov(rows, iov, &cnt, r->rows_iov, r->rows_limit);
	if (!rows || (r->then_queue && covered == rows->left)) {
		int err = sf__in_reserve(in, r->chunk);

		if (err)
			return err;
		iov[cnt].iov_base = in->data + in->start + in->len;
		iov[cnt].iov_len = in_room(in);
		cnt++;
		/* fds come with messages only, never with pixels. */
		in->fdq.limit = r->fd_limit;
	}
	room = 0;
	for (int i = 0; i < cnt; i++)
		room += iov[i].iov_len;
	got = sf__recv_fds(sock, iov, cnt, &in->fdq);
	if (got <= 0) {
		in->short_read = false;
		return got;
	}
	in->short_read = (uint64_t)got < room;
	in->read += (uint64_t)got;
	for (unsigned i = before; i < in->fdq.count; i++)
		in->fdq.at[i] = in->read;
	if (rows) {
		size_t into_rows = (uint64_t)got < covered ? (size_t)got
		                                            : (size_t)covered;

		sf__rows_advance(rows, into_rows);
		in->used += into_rows;
		in->len += (size_t)got - into_rows;
	} else {
		in->len += (size_t)got;
	}
	return got;
}

/* ---- output ------------------------------------------------------------- */

struct sf_out_chunk {
	struct sf_out_chunk *next;
	bool is_rows;
	/* message bytes: data[sent, len) still to go; fd rides on byte 0 */
	size_t len, cap, sent;
	int fd;
	/* rows: the walk, over rects, for whoever queued them (tag) */
	struct sf_rows rows;
	void *tag;
	struct sf_rect *rects;
	uint8_t data[];
};

void sf__out_init(struct sf_out *q, int iov_max)
{
	memset(q, 0, sizeof *q);
	q->iov_max = iov_max > 0 ? iov_max : 1;
}

static void link_chunk(struct sf_out *q, struct sf_out_chunk *ch)
{
	ch->next = NULL;
	if (q->tail)
		q->tail->next = ch;
	else
		q->head = ch;
	q->tail = ch;
}

/* Frees the head chunk. */
static void pop_chunk(struct sf_out *q)
{
	struct sf_out_chunk *ch = q->head;

	q->head = ch->next;
	if (!q->head)
		q->tail = NULL;
	if (ch->is_rows) {
		q->rows--;
		if (q->rows_done)
			q->rows_done(ch->tag, q->data);
	}
	free(ch);
}

void sf__out_clear(struct sf_out *q)
{
	while (q->head)
		pop_chunk(q);
	q->bytes = 0;
	q->written = q->queued;
}

static struct sf_out_chunk *new_chunk(struct sf_out *q, size_t cap)
{
	struct sf_out_chunk *ch = malloc(sizeof *ch + cap);

	if (!ch)
		return NULL;
	memset(ch, 0, sizeof *ch);
	ch->cap = cap;
	ch->fd = -1;
	link_chunk(q, ch);
	return ch;
}

uint8_t *sf__out_space(struct sf_out *q, size_t need, size_t *room)
{
	struct sf_out_chunk *ch = q->tail;

	if (!ch || ch->is_rows || ch->cap - ch->len < need) {
		ch = new_chunk(q, need > CHUNK_MIN ? need : CHUNK_MIN);
		if (!ch)
			return NULL;
	}
	*room = ch->cap - ch->len;
	return ch->data + ch->len;
}

void sf__out_commit(struct sf_out *q, size_t n)
{
	q->tail->len += n;
	q->bytes += n;
	q->queued += n;
}

int sf__out_append(struct sf_out *q, const void *bytes, size_t len, int fd)
{
	size_t room;
	uint8_t *p;

	/* An fd needs a byte to ride on. */
	if (len == 0)
		return fd >= 0 ? -EINVAL : 0;
	if (fd >= 0) {
		struct sf_out_chunk *ch = new_chunk(q, len > CHUNK_MIN ? len
		                                                       : CHUNK_MIN);

		if (!ch)
			return -ENOMEM;
		ch->fd = fd;
		p = ch->data;
	} else {
		p = sf__out_space(q, len, &room);
		if (!p)
			return -ENOMEM;
	}
	memcpy(p, bytes, len);
	sf__out_commit(q, len);
	return 0;
}

int sf__out_rows(struct sf_out *q, void *base, size_t stride,
                 const struct sf_rect *rects, uint32_t n, void *tag)
{
	struct sf_out_chunk *ch = calloc(1, sizeof *ch + n * sizeof *rects);

	if (!ch)
		return -ENOMEM;
	ch->is_rows = true;
	ch->fd = -1;
	ch->tag = tag;
	ch->rects = (struct sf_rect *)ch->data;
	memcpy(ch->rects, rects, n * sizeof *rects);
	sf__rows_init(&ch->rows, base, stride, ch->rects, n);
	q->queued += ch->rows.left;
	q->rows++;
	link_chunk(q, ch);
	return 0;
}

uint64_t sf__out_drop_unsent(struct sf_out *q)
{
	struct sf_out_chunk *keep = NULL, *last = NULL, *next;
	uint64_t dropped = 0;

	for (struct sf_out_chunk *ch = q->head; ch; ch = next) {
		next = ch->next;
		if (ch->is_rows || ch->sent > 0) {
			ch->next = NULL;
			if (last)
				last->next = ch;
			else
				keep = ch;
			last = ch;
			continue;
		}
		dropped += ch->len;
		free(ch);
	}
	q->head = keep;
	q->tail = last;
	q->bytes -= dropped;
	q->queued -= dropped;
	return dropped;
}

/* Fills iov from the head of the queue; returns the entry count and sets
 * *fd to the fd the first byte carries (-1: none). */
static int gather(struct sf_out *q, struct iovec *iov, int *fd)
{
	int n = 0;

	*fd = -1;
	for (struct sf_out_chunk *ch = q->head; ch && n < q->iov_max;
	     ch = ch->next) {
		if (!ch->is_rows) {
			const uint8_t *p = ch->data + ch->sent;

			if (ch->fd >= 0) {
				/* Its fd goes with its first byte, and with no
				 * byte before it. */
				if (n > 0)
					break;
				*fd = ch->fd;
			}
			if (n > 0 && (uint8_t *)iov[n - 1].iov_base +
			             iov[n - 1].iov_len == p) {
				iov[n - 1].iov_len += ch->len - ch->sent;
			} else {
				iov[n].iov_base = (void *)p;
				iov[n].iov_len = ch->len - ch->sent;
				n++;
			}
			continue;
		}
		if (q->locate)
			q->locate(ch->tag, q->data, &ch->rows);
		/* The next chunk must not start before this one is whole. */
		if (sf__rows_iov(&ch->rows, iov, &n, q->iov_max, UINT64_MAX) <
		    ch->rows.left)
			break;
	}
	return n;
}

static bool chunk_done(const struct sf_out_chunk *ch)
{
	return ch->is_rows ? ch->rows.left == 0 : ch->sent == ch->len;
}

/* Drops n written bytes from the head of the queue. */
static void advance(struct sf_out *q, size_t n)
{
	q->written += n;
	/* A chunk with no bytes left (rows of no pixels, a message chunk
	 * opened and never filled) is done as soon as it is met: left at the
	 * head, it would make every write send nothing, forever. */
	while (q->head && (n > 0 || chunk_done(q->head))) {
		struct sf_out_chunk *ch = q->head;
		size_t k;

		if (ch->is_rows) {
			k = ch->rows.left < n ? (size_t)ch->rows.left : n;
			sf__rows_advance(&ch->rows, k);
			n -= k;
			if (ch->rows.left == 0)
				pop_chunk(q);
			continue;
		}
		k = ch->len - ch->sent < n ? ch->len - ch->sent : n;
		ch->sent += k;
		ch->fd = -1; /* it went with the first byte */
		q->bytes -= k;
		n -= k;
		if (ch->sent == ch->len)
			pop_chunk(q);
	}
}

int sf__out_write(struct sf_out *q, int sock, size_t budget)
{
	size_t total = 0;

	while (q->head) {
		struct iovec iov[q->iov_max];
		int fd, cnt;
		ssize_t n;

		if (total >= budget)
			return -EAGAIN;
		cnt = gather(q, iov, &fd);
		n = sf__send_fd_flags(sock, iov, cnt, fd, MSG_DONTWAIT);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return -EAGAIN;
		if (n < 0)
			return (int)n;
		advance(q, (size_t)n);
		total += (size_t)n;
	}
	return 0;
}
