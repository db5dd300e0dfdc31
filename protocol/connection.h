/*
 * One side's end of a connection: the input queue (bytes received and not
 * yet consumed, the fds that came with them and where in the stream they
 * came), and the output queue (messages, and rows streamed straight from
 * an image).  The client library and the server both keep one of each;
 * what each does with the bytes is its own business.
 *
 * Nothing here blocks or runs anything but the callbacks named below: the
 * socket is non-blocking, and each call reads or writes what the kernel
 * takes.
 */
#ifndef SHMFRAME_CONNECTION_H
#define SHMFRAME_CONNECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "fdpass.h"
#include "rows.h"

/* ---- input -------------------------------------------------------------- */

/*
 * Bytes received live in data[start, start + len).  The queue grows as
 * reads need room, up to max bytes (0: no limit).  read counts every byte
 * received, used every byte consumed (from the queue or straight into
 * rows); an fd's deadline (fdq.at) is the read count at the end of the
 * read that brought it, so it came with a message starting below it.
 */
struct sf_in {
	uint8_t *data;
	size_t start, len, cap;
	size_t max;
	struct sf_fdq fdq;
	uint64_t read, used;
	/* The last read returned less than the room it was given: the socket
	 * had nothing more, and asking again would only return EAGAIN. */
	bool short_read;
};

/* An empty queue that grows to max bytes (0: without limit). */
void sf__in_init(struct sf_in *in, size_t max);
/* Frees the bytes and closes the fds held. */
void sf__in_free(struct sf_in *in);
/* Makes room for more bytes at the end: moves the bytes to the front when
 * that is enough, else grows (to max at most).  0 when there is room for
 * more (or for what max allows, when that is less), -ENOMEM. */
int sf__in_reserve(struct sf_in *in, size_t more);
/* The n bytes at the head were handled. */
void sf__in_consume(struct sf_in *in, size_t n);
/* Takes the oldest fd (the caller owns it), or -1. */
int sf__in_take_fd(struct sf_in *in);
/* How many fds queued arrived no later than stream position end (their
 * deadline has come by then). */
unsigned sf__in_fds_due(const struct sf_in *in, uint64_t end);
/* Copies what the queue holds of rows into them (the queue's head is the
 * next byte of rows) and consumes it; returns the bytes copied. */
size_t sf__in_to_rows(struct sf_in *in, struct sf_rows *rows);

/* How sf__in_read reads. */
struct sf_in_read {
	/* Pixels still to come, read straight into their rows when the queue
	 * is empty (NULL: none).  Moved past what the read brought. */
	struct sf_rows *rows;
	int rows_iov;        /* row entries per read, at most */
	uint64_t rows_limit; /* stop adding rows once this many bytes are in */
	/* When the rows given end the pixels: read on into the queue in the
	 * same call, so that the next messages come with them. */
	bool then_queue;
	/* Bytes of room asked of the queue (sf__in_reserve) for a read into
	 * it. */
	size_t chunk;
	/* fds kept per read into the queue (fdq.limit); fds that come with
	 * pixels alone are never kept. */
	unsigned fd_limit;
};

/*
 * One recvmsg (sf__recv_fds) into the rows and/or the queue, as r says.
 * The bytes that went into rows are consumed; the rest are queued.  fds
 * that came are stamped with the read count.  Returns bytes read, 0 at
 * end of stream, or -errno (-EAGAIN when nothing is there, -ENOMEM when
 * the queue cannot grow).
 */
ssize_t sf__in_read(struct sf_in *in, int sock, const struct sf_in_read *r);

/* ---- output ------------------------------------------------------------- */

struct sf_out_chunk;

/* A rows chunk is finished with (written, or dropped): tag is what it
 * was queued with. */
typedef void (*sf_out_rows_fn)(void *tag, void *data);
/* Where the rows of a chunk are now: the image may move between writes
 * (a new buffer latched).  Sets base and stride. */
typedef void (*sf_out_locate_fn)(void *tag, void *data, struct sf_rows *rows);

struct sf_out {
	struct sf_out_chunk *head, *tail;
	uint64_t bytes;     /* message bytes queued and not yet written */
	uint64_t queued;    /* every byte ever queued, rows included */
	uint64_t written;   /* every byte ever written */
	unsigned rows;      /* rows chunks queued */
	int iov_max;        /* entries per sendmsg */
	sf_out_rows_fn rows_done;    /* NULL: nothing to tell */
	sf_out_locate_fn locate;     /* NULL: rows stay where they were */
	void *data;
};

/* An empty queue writing iov_max entries per sendmsg at most. */
void sf__out_init(struct sf_out *q, int iov_max);
/* Frees everything queued (rows chunks are finished with). */
void sf__out_clear(struct sf_out *q);
static inline bool sf__out_pending(const struct sf_out *q)
{
	return q->head != NULL;
}
/* Room for need bytes at the end of the queue: a pointer to *room >= need
 * bytes, to be committed with sf__out_commit, or NULL without memory. */
uint8_t *sf__out_space(struct sf_out *q, size_t need, size_t *room);
void sf__out_commit(struct sf_out *q, size_t n);
/* Copies len bytes to the end of the queue.  With fd >= 0, the bytes start
 * a write of their own that carries fd on its first byte; the queue
 * borrows fd (the caller keeps it open until the bytes are written, or
 * the queue is cleared).  0 or -ENOMEM. */
int sf__out_append(struct sf_out *q, const void *bytes, size_t len, int fd);
/* Queues the rows of n rects of an image (copied) to be written straight
 * from it.  0 or -ENOMEM. */
int sf__out_rows(struct sf_out *q, void *base, size_t stride,
                 const struct sf_rect *rects, uint32_t n, void *tag);
/* Frees the message chunks of which no byte was written and returns
 * their bytes (also taken off queued). */
uint64_t sf__out_drop_unsent(struct sf_out *q);
/*
 * Writes (sendmsg, MSG_NOSIGNAL) until the queue is empty, the socket is
 * full, or budget bytes are out.  0 when everything is written, -EAGAIN
 * when bytes remain, else -errno (nothing more can be written).
 */
int sf__out_write(struct sf_out *q, int sock, size_t budget);

#endif
