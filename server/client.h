/*
 * One client connection of shmframe-server: struct sf_client, grouped by
 * the job that owns each part, and the functions of the files that do
 * those jobs.  Included by server-private.h; no file includes it alone.
 *
 *   client.c      life cycle: admission, HELLO budget, failing, closing
 *   input.c       message framing and the turn budgets of a wakeup
 *   client-fds.c  the received fds: where each belongs, which are refused
 *   payload.c     inline PUT_IMAGE pixels read straight into a surface
 *   deadlines.c   slow senders, HELLO and closing deadlines
 *   output.c      the output queue
 *   inflight.c    what counts as in flight (max_inflight)
 *   ring.c        the control segment: requests and events on its rings
 */
#ifndef SHMFRAME_SERVER_CLIENT_H
#define SHMFRAME_SERVER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "event-loop.h"
#include "blocks.h"
#include "connection.h"
#include "fdpass.h"
#include "list.h"
#include "ring.h"
#include "wire.h"

struct sf_server;
struct sf_shmseg;
struct sf_surface;

/* Names and titles come from peers as any bytes they like, and go to the
 * -v log and to window titles: they are kept as valid UTF-8 without
 * control or invisible formatting characters, every other byte written
 * \xNN (so 4 bytes of room per byte received). */
#define SF_SHOWN_MAX (4 * SF_MAX_NAME + 1)

enum sf_client_state {
	SF_CLIENT_HELLO,    /* waiting for HELLO */
	SF_CLIENT_READY,
	SF_CLIENT_CLOSING,  /* resources freed; flushing output, then closed */
};

#define SF_IN_CAP (2u * SF_MAX_MESSAGE)

/* Inline pixels read in one wakeup (input.c), and at most in one recvmsg
 * (payload.c). */
#define SF_PAYLOAD_BUDGET (8u << 20)

/* Input (input.c).  q.read counts every byte received, q.used those
 * consumed; the fds of one recvmsg belong to a message starting below the
 * q.read it ended at (the kernel ends a read at an fd), which is their
 * deadline (q.fdq.at, client-fds.c). */
struct sfs_input {
	struct sf_in q;
	uint64_t progress;            /* messages and payloads completed */
	bool paused;                  /* an inline readback is streaming out */
	bool eof;
	uint64_t discarded;           /* CLOSING: input bytes thrown away */
	/* On the backlog: the loop reported the socket readable in this
	 * iteration, so its turn reads it (else the turn would only cost a
	 * recvmsg that finds nothing). */
	bool readable;
};

/* The request being handled, for its ERROR. */
struct sfs_request {
	uint32_t sequence;            /* requests started */
	uint16_t type;                /* request being handled */
	bool active;                  /* it (or its payload) is being handled */
};

/* Inline pixels of a PUT_IMAGE being read straight into a surface
 * (payload.c). */
struct sfs_payload {
	bool active;
	bool blocks;             /* in blocks (2.3): bin says where bytes go */
	struct sf_surface *surface;
	uint32_t serial;
	uint32_t n_rects;
	struct sf_rows rows;     /* where the next byte goes, bytes to come */
	struct sf_blocks_in bin; /* kept from one payload to the next */
	struct sf_rect rects[SF_MAX_RECTS];
};

/* Slow senders (deadlines.c): while a message is incomplete, each window
 * of server->glimits.timeout_ns must complete one or bring SLOW_MIN_BYTES.
 * deadline 0: no message is incomplete. */
struct sfs_slow {
	uint64_t deadline;
	uint64_t mark_read;           /* in.q.read when the window began */
	uint64_t mark_written;        /* out.q.written when a readback window began */
	uint64_t mark_progress;       /* in.progress when the window began */
};

/* Output (output.c). */
struct sfs_output {
	/* q.bytes: message bytes queued (not streamed rows); q.queued: every
	 * byte ever queued, rows included; q.written: every byte written. */
	struct sf_out q;
	/* q.queued at the end of the last IMAGE in blocks: until q.written
	 * passes it, that IMAGE is only partly written, and dropping the rest
	 * of its blocks would leave the stream cut inside a payload. */
	uint64_t blocks_end;
	uint32_t deferred_error;      /* fail with this at the next safe point */
	uint16_t deferred_type;       /* request it happened in, 0: none */
	char deferred_text[160];
	bool shut_wr;
	/* Events numbered so far, on the socket or the event ring: WELCOME
	 * is 1 (PROTOCOL.md, "Numbering and order"). */
	uint32_t sequence;
};

/* An answer in the output queue: where it ends, in out.q.queued terms, and
 * the surface it answers for (0 once that surface is gone). */
struct sf_answer {
	uint64_t end;
	uint32_t surface;
};

/* Answers (PRESENTED, IMAGE) queued but not yet written (inflight.c): a
 * ring of max_inflight entries; live of them still count. */
struct sfs_inflight {
	struct sf_answer *ring;
	unsigned head, count, live;
};

/* What the client holds, and what its requests cost. */
struct sfs_resources {
	struct sf_list segments;      /* struct sf_shmseg.link */
	struct sf_list surfaces;      /* struct sf_surface.link */
	unsigned n_segments, n_surfaces;
	uint64_t mapped;              /* segment bytes mapped, detached included */
	uint64_t surface_memory;      /* width*height*4 of its surfaces */
	/* Pixel bytes its requests copied (shm frames in copy mode, a latched
	 * image taken over, readbacks into a segment): a wakeup stops the
	 * client's requests at COPY_BUDGET of them (input.c). */
	uint64_t copied;
};

/* The control segment and its rings (ring.c), live once ATTACH_CONTROL
 * was answered OK, until the client's resources are released. */
struct sfs_rings {
	struct sf_list link;          /* server->ring_clients while live */
	struct sf_shmseg *control;    /* NULL: no rings */
	struct sf_ring req;           /* we consume */
	struct sf_ring ev;            /* we produce */
	bool offered;                 /* WELCOME had SF_CAP_RING */
	/* The oldest request on the ring, numbered blocked_seq, was found
	 * numbered past the next request, a socket message not handled yet:
	 * the ring waits for the socket (which wakes the loop by itself)
	 * until req.sequence catches up. */
	bool blocked;
	uint32_t blocked_seq;
	/* Events were pushed since the last look at whether the client
	 * sleeps (sfs__ring_notify). */
	bool notify;
	uint64_t notified;            /* server->iteration of the last NOTIFY */
};

struct sf_client {
	/* Life cycle (client.c). */
	struct sf_list link;          /* server->clients, then server->dead */
	struct sf_list unauth_link;   /* server->unauth until a good HELLO */
	struct sf_list backlog_link;
	struct sf_list flush_link;
	struct sf_list fd_wait_link;  /* server->fd_wait while not read for want
	                               * of fds (sfs__fds_room) */
	struct sf_server *server;
	struct sf_watch watch;
	int fd;
	uint32_t id;
	enum sf_client_state state;
	bool is_unix;
	uint32_t peer_uid;            /* (uint32_t)-1 over TCP */
	pid_t peer_pid;
	char peer[80];                /* for logs: "unix uid 1000 pid 42" */
	/* Who the connection comes from, for the budget of connections that
	 * have not said HELLO: the uid (Unix), the IPv4 address, or the /64
	 * of an IPv6 address. */
	uint8_t source[17];
	/* The name HELLO gave, made printable (see SF_SHOWN_MAX). */
	char name[SF_SHOWN_MAX];
	/* HELLO's minor version: the 2.2 requests and events (WELCOME's
	 * SF_CAP_INPUT) only for a client of minor >= 2. */
	uint16_t minor;
	/* Sent in WELCOME; every segment the client offers must hold it
	 * after its nonce (sf__segment_prove). */
	uint8_t challenge[SF_CHALLENGE_SIZE];
	/* HELLO: when to give up waiting; CLOSING: to stop flushing. */
	uint64_t close_deadline;

	struct sfs_input in;
	struct sfs_request req;
	struct sfs_payload payload;
	struct sf_blocks_out codec_out; /* IMAGE blocks */
	struct sfs_slow slow;
	struct sfs_output out;
	struct sfs_inflight inflight;
	struct sfs_resources res;
	struct sfs_rings rings;
};

/* ---- client.c: life cycle --------------------------------------------- */

/* Takes ownership of fd (a connected, non-blocking socket). */
int sfs__client_create(struct sf_server *server, int fd, bool is_unix);
/* Sends ERROR (code, current request), frees what the client held and
 * closes the connection once the ERROR is out.  Always returns -1, so that
 * handlers can `return sfs__client_fail(...)`. */
int sfs__client_fail(struct sf_client *c, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The peer closed its side: answer what it sent, then close. */
void sfs__client_finish(struct sf_client *c);
/* Closes at once and queues the client to be freed between iterations. */
void sfs__client_close(struct sf_client *c, const char *why);
/* The client said a good HELLO: it leaves the budget of those that did
 * not (server->unauth). */
void sfs__client_unauth_leave(struct sf_client *c);
/* Polls for what the client's state lets it do: reading unless paused,
 * at end of stream or waiting for fds; writing while output is queued. */
void sfs__client_update_interest(struct sf_client *c);
/* Marks the client to have its output flushed at the end of the iteration. */
void sfs__client_want_flush(struct sf_client *c);
/* Writes queued output; updates write interest; finishes closing. */
void sfs__client_flush(struct sf_client *c);
/* Input is stopped while an inline readback streams out; this restarts it. */
void sfs__client_pause_input(struct sf_client *c, bool pause);
/* Frees the clients closed during the iteration. */
void sfs__clients_reap(struct sf_server *server);
/* Closes every client now (shutdown). */
void sfs__clients_close_all(struct sf_server *server);

/* ---- input.c: framing and turn budgets -------------------------------- */

/* Reads and handles the client's input within the budgets of one turn,
 * then restarts its slow-sender window. */
void sfs__input_handle(struct sf_client *c);
/* Processes input left in the buffer (see server->backlog). */
void sfs__client_resume(struct sf_client *c);
/* CLOSING and not yet at end of stream: reads and throws away. */
void sfs__input_drain(struct sf_client *c);
/* True when the head of the buffer is a message to handle now: whole, or
 * bad enough to fail without the rest. */
bool sfs__input_has_message(const struct sf_client *c);
/* The type of the message at the head of the input buffer, when at least
 * its first two bytes are there (for ERRORs about a partial message). */
uint16_t sfs__input_partial_type(const struct sf_client *c);
/* Names the partial message at the head of the buffer as the request at
 * fault: it is the next one in sequence. */
void sfs__input_blame_partial(struct sf_client *c);
/* After a request, or the pixels that complete it, was handled: fails the
 * client for what it found (a shrunk segment, an output overflow).  0, or
 * -1 when the client was failed or closed. */
int sfs__input_after_request(struct sf_client *c);

/* ---- client-fds.c: received fds --------------------------------------- */

/* Before a recvmsg: false (and the connection not polled for reading)
 * while the server has no room for the fds it may install. */
bool sfs__client_fds_may_receive(struct sf_client *c);
/* sfs__client_read at the end of the stream (the caller says why). */
#define SFS_READ_END 2
/* One read of the client's socket as how says, when the server has room
 * for the fds it may bring; fds that cannot be kept fail the client
 * (pixels still to come in how->rows: the read ended inside them).
 * Returns 1 after progress (the bytes added to *budget_used), 0 when
 * nothing was read, SFS_READ_END, or -1 when the client is gone. */
int sfs__client_read(struct sf_client *c, const struct sf_in_read *how,
                     size_t *budget_used);
/* Before a message is handled: fails the client when more fds came with
 * it than it takes.  0, or -1 when failed. */
int sfs__client_fds_check_before(struct sf_client *c, const uint8_t *msg,
                                 const struct sf_header *hdr);
/* Fds left over once every message that could carry them was handled
 * fail the client.  0, or -1 when failed. */
int sfs__client_fds_check(struct sf_client *c);
/* More fds than the incomplete message at the head of the buffer can take
 * fail the client now.  0, or -1 when failed. */
int sfs__client_fds_check_partial(struct sf_client *c);
/* Takes the oldest received fd (the caller owns it), or -1. */
int sfs__client_take_fd(struct sf_client *c);
/* Lets connections that waited for fds (sfs__fds_room) be read again once
 * there is room.  Returns ms until the next look, or -1 when none waits. */
int sfs__clients_fd_retry(struct sf_server *server);

/* ---- payload.c: inline pixels ----------------------------------------- */

/* Starts reading the inline pixels of a PUT_IMAGE into s (which owns its
 * memory already): rects hold n rectangles, whose size in bytes the
 * caller checked does not overflow. */
void sfs__client_start_payload(struct sf_client *c, struct sf_surface *s,
                              uint32_t serial, const struct sf_rect *rects,
                              uint32_t n, bool blocks);
/* Pixel bytes of the payload still to come. */
uint64_t sfs__payload_left(const struct sf_client *c);
/* The codecs' memory, when the client goes. */
void sfs__payload_free(struct sf_client *c);
/* One recvmsg straight into the surface rows (*budget_used grows by the
 * bytes read).  1 after progress, 0 when the socket is empty, -1 when the
 * client is gone. */
int sfs__payload_read(struct sf_client *c, size_t *budget_used);

/* ---- deadlines.c: slow senders and deadlines -------------------------- */

/* Starts, restarts or ends the slow-sender window. */
void sfs__slow_update(struct sf_client *c);
/* Clients past their deadline (no HELLO in time, a message or readback
 * too slow, or closing too long) are failed or closed; returns the ms
 * until the nearest remaining deadline, or -1. */
int sfs__clients_expire(struct sf_server *server);

/* ---- output.c --------------------------------------------------------- */

/* An empty output queue, rows streamed from their surface. */
void sfs__out_init(struct sf_client *c);
/* Encodes a message at the end of the output queue.  0, or -1 when the
 * client was failed (output over max_output). */
int sfs__out_message(struct sf_client *c, uint16_t type, void *fixed,
                    size_t fixed_size, const void *tail, size_t tail_len);
/* Fails the client at its next safe point (after the request being
 * handled, or when its output is flushed) with code and text; the ERROR
 * names the request being handled when blame_request is set. */
void sfs__out_defer_error(struct sf_client *c, uint32_t code, const char *text,
                          bool blame_request);
/* Whether rect of a surface, in blocks queued now, keeps the client well
 * inside max_output even when nothing compresses. */
bool sfs__out_blocks_fit(const struct sf_client *c, const struct sf_rect *rect);
/* Queues rect of the surface's pixels as blocks of codec (copied: the
 * client's input goes on).  0, or -1 when the client is being failed. */
int sfs__out_blocks(struct sf_client *c, struct sf_surface *s,
                    const struct sf_rect *rect, uint32_t codec);
/* Queues rect of the surface's pixels, streamed from the surface as the
 * socket drains.  Stops the client's input until the rows are out. */
int sfs__out_rows(struct sf_client *c, struct sf_surface *s,
                 const struct sf_rect *rect);
/* Writes as much as the socket takes.  0 (all written or would block) or
 * -errno when the connection is broken. */
int sfs__out_write(struct sf_client *c);
bool sfs__out_pending(const struct sf_client *c);
/* True when rows of a surface are queued (they die with the surface). */
bool sfs__out_has_rows(const struct sf_client *c);
void sfs__out_clear(struct sf_client *c);

/* ---- inflight.c: max_inflight accounting ------------------------------ */

/* Makes and frees the ring of answers (max_inflight entries).  0 or
 * -ENOMEM. */
int sfs__inflight_init(struct sf_client *c);
void sfs__inflight_fini(struct sf_client *c);
/* PUT_IMAGE and GET_IMAGE whose PRESENTED or IMAGE has not been written
 * to the socket yet (frames waiting for the display included). */
unsigned sfs__client_inflight(const struct sf_client *c);
/* A frame of s now waits for the display.  Its serial goes in its
 * PRESENTED. */
void sfs__inflight_frame_wait(struct sf_surface *s, uint32_t serial);
/* The frame of s waiting for the display is answered now: true with its
 * serial in *serial, false when none waits. */
bool sfs__inflight_frame_take(struct sf_surface *s, uint32_t *serial);
/* An answer (PRESENTED or IMAGE, fixed its fixed part) was queued and
 * ends at out.q.queued. */
void sfs__inflight_answer_queued(struct sf_client *c, const void *fixed);
/* The output was written up to out.q.written: answers out stop counting. */
void sfs__inflight_written(struct sf_client *c);
/* The surface is gone: its answers still queued no longer count as in
 * flight (its client stopped counting them when it destroyed it). */
void sfs__inflight_forget(struct sf_client *c, uint32_t surface);
/* The output queue was thrown away: nothing is in flight any longer. */
void sfs__inflight_clear(struct sf_client *c);

/* ---- ring.c: the control segment and its rings ------------------------ */

/* The control segment seg (one reference, counted against the client's
 * segments and mapped bytes) is proved: its rings are live from now on. */
void sfs__rings_start(struct sf_client *c, struct sf_shmseg *seg);
/* Releases the control segment, if any (every way a client ends). */
void sfs__rings_stop(struct sf_client *c);
/* Before each socket message: handles the oldest ring request when it is
 * the next in sequence (*msgs counts it).  1 when one was handled, 0 when
 * the next request is on the socket (or nothing is waiting), -1 when the
 * client was failed. */
int sfs__ring_take_request(struct sf_client *c, unsigned *msgs);
/* True when the request ring holds an entry that can be handled now (or
 * a broken head, which fails the client). */
bool sfs__ring_has_work(struct sf_client *c);
/* Sends an event (RELEASE or PRESENTED, fixed_size bytes at fixed) on
 * the event ring when it is live and has room, else on the socket
 * (sfs__out_message).  0, or -1 when the client was or will be failed. */
int sfs__ring_event(struct sf_client *c, uint16_t type, void *fixed,
                   size_t fixed_size);
/* Before the client's output is written: events were pushed and the
 * client says it sleeps: queues NOTIFY (at most one per iteration). */
void sfs__ring_notify(struct sf_client *c);

#endif
