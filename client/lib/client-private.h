/*
 * Private declarations shared by the files of libshmframe.
 *
 * The library is split by job: conn.c (connect, handshake, sticky error,
 * log), options.c (the options and the environment), io.c (the byte queues and the socket), transport.c (the segment
 * probe), ring.c (the control segment and its rings), surface.c (surfaces,
 * buffer pool, acquire/present, resize), input.c (input and configure
 * events, and choosing them), readback.c,
 * dispatch.c (decoding events and routing them, and the blocking waits
 * built on them) and errors.c (error codes and their texts).  Each event's
 * handler (sfc__<object>_on_<event>) lives with the object it changes.
 */
#ifndef SHMFRAME_CLIENT_PRIVATE_H
#define SHMFRAME_CLIENT_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "shmframe.h"
#include "blocks.h"
#include "connection.h"
#include "fdpass.h"
#include "ring.h"
#include "rows.h"
#include "segment.h"
#include "wire.h"

/* The library defines the 1.0 functions under these names; the macros
 * are for programs (shmframe.h, "Structs that grow"). */
#undef shmframe_options_init
#undef shmframe_connect
#undef shmframe_surface_set_listener

/* The sizes of the two growing structs as 1.0 published them: what a
 * program built against 1.0 allocates, and so all that the 1.0 functions
 * may touch, whatever the structs grow to.  Members are only ever added
 * after the last 1.0 one (log_data, closed), and the 1.0 structs had a
 * pointer's alignment.  The install test diffs the layout against the
 * verbatim 1.0 header; the assertions in conn.c and surface.c catch a
 * 1.0 member moved on the usual 64-bit ABIs at compile time. */
#define SFC_ROUND_UP(n, a) (((n) + (a) - 1) / (a) * (a))
#define SFC_OPTIONS_1_0_SIZE \
	SFC_ROUND_UP(offsetof(struct shmframe_options, log_data) + sizeof(void *), \
	             _Alignof(void *))
#define SFC_LISTENER_1_0_SIZE \
	SFC_ROUND_UP(offsetof(struct shmframe_surface_listener, closed) + \
	             sizeof(void (*)(void)), _Alignof(void *))

/* Whether a caller's struct of size bytes holds member m whole. */
#define SFC_HAS(type, m, size) \
	((size) >= offsetof(type, m) + sizeof(((type *)0)->m))

/* Whether surface s's listener has callback m: set, and inside the struct
 * the caller registered (a 1.0 or 1.2 program's listener ends before the
 * callbacks added later). */
#define SFC_HAS_CALLBACK(s, m) \
	((s)->listener && \
	 SFC_HAS(struct shmframe_surface_listener, m, (s)->listener_size) && \
	 (s)->listener->m)

#define SF_MAX_BUFFERS 16u
/* Room for the longest text the library keeps for one error. */
#define SF_ERROR_TEXT (SF_MAX_TEXT + 256u)
#define SF_REASON_TEXT 1024u

/* Where the connection stands; events are accepted according to it. */
enum sf_phase {
	SF_PHASE_HELLO = 0,   /* HELLO sent, waiting for WELCOME */
	SF_PHASE_PROBE = 1,   /* one PROBE sent, waiting for PROBE_RESULT */
	SF_PHASE_READY = 2,   /* connected: surfaces and frames */
	SF_PHASE_CONTROL = 3, /* ATTACH_CONTROL sent, waiting for PROBE_RESULT */
};

enum sf_buffer_state {
	SF_BUFFER_FREE = 0,     /* the library holds it */
	SF_BUFFER_ACQUIRED = 1, /* the caller draws into it */
	SF_BUFFER_BUSY = 2,     /* presented; the server may read it */
};

/* An inline pixel payload being received straight into rows of memory:
 * rect (at 0, 0) of the caller's rows. */
struct sfc_payload {
	bool active;
	bool blocks;          /* in blocks (2.3): bin says where bytes go */
	struct sf_rect rect;
	struct sf_rows rows;  /* where the next byte goes, and how many remain */
	struct sf_blocks_in bin; /* kept from one payload to the next */
};

/* The one readback a connection may have outstanding. */
struct sf_readback {
	bool waiting;         /* GET_IMAGE sent, IMAGE not yet decoded */
	uint32_t surface, serial, segment;
	struct sf_rect rect;
	uint8_t *dst;
	uint32_t dst_stride;
	uint32_t codec;       /* asked for (enum sf_codec), NONE: bare rows */
};

struct shmframe_buffer {
	struct shmframe_surface *surface;
	uint32_t id;            /* nonzero, echoed by the server in RELEASE;
	                         * never reused by the surface (see resize) */
	enum sf_buffer_state state;
	uint8_t *pixels;
	uint64_t offset;        /* in the surface's segment (shm) */
	uint32_t serial;        /* of its last PUT_IMAGE */
};

struct shmframe_surface {
	struct shmframe_conn *conn;
	struct shmframe_surface *next;
	uint32_t id;
	uint32_t width, height;
	uint32_t format;
	uint32_t stride;
	enum shmframe_present_mode mode;
	char title[SF_MAX_NAME + 1];
	bool closed;
	/* The next present must send the whole surface (the server's copy was
	 * recreated and holds nothing). */
	bool full_damage;
	uint32_t next_serial;
	uint32_t inflight;      /* PUT_IMAGE of this surface not yet PRESENTED */

	/* shm: one segment holding every buffer; socket: our own memory. */
	struct sf_segment seg;
	uint32_t segment_id;    /* 0 when the socket is used */
	void *memory;

	unsigned n_buffers;
	struct shmframe_buffer buffers[SF_MAX_BUFFERS];
	uint32_t buffer_id_base; /* buffers[i].id is buffer_id_base + i + 1 */
	/* Buffers of an earlier size that the server held at the resize:
	 * their RELEASE is still to come (their memory is gone). */
	struct sfc_retired { uint32_t id, serial; } *retired;
	unsigned n_retired, cap_retired;

	/* Input (protocol 2.2).  input_mask is what the program selected
	 * last; input_allowed adds what an earlier mask selected while the
	 * server may still be sending under it, until the SYNC queued after
	 * the narrowing (serial input_sync, 0: none) is answered. */
	uint32_t input_mask;
	uint32_t input_allowed;
	uint32_t input_sync;
	uint32_t configure_serial; /* of the last CONFIGURE, 0: none yet */
	uint32_t acked_serial;     /* the last one a resize answered */

	/* Socket pacing (inline.c): a frame presented while PACE_WINDOW are
	 * in flight is held, its damage in shadow. */
	bool held;
	uint32_t held_serial;
	uint32_t last_sent;       /* serial of the last frame sent */
	unsigned n_held;          /* 0: the whole surface */
	struct sf_rect held_rects[SF_MAX_RECTS];
	uint8_t *shadow;          /* width*height*4, made on the first hold */
	/* Frames sent that replaced held ones: the serials first .. serial-1
	 * are reported discarded before serial's PRESENTED. */
	struct sfc_merge { uint32_t serial, first; } *merges;
	unsigned n_merges, cap_merges;

	const struct shmframe_surface_listener *listener;
	size_t listener_size;   /* bytes of *listener the caller has */
	void *listener_data;
};

/* The control segment and its two rings, once the server took it. */
struct sfc_rings {
	struct sf_segment seg;
	struct sf_ring req;     /* requests: we produce */
	struct sf_ring ev;      /* events: we consume */
	unsigned spin_us;       /* looking at ev before sleeping in poll() */
	/* The last KICK was for the entries up to kick_pos (req's index);
	 * until the server's tail passes it, that KICK is still to wake it,
	 * and whatever comes meanwhile is seen when it does. */
	bool kicked;
	uint32_t kick_pos;
	/* The program waits on the fd: ev's sleeping word stays set, so
	 * that every event the server puts there comes with a NOTIFY. */
	bool fd_taken;
};

struct shmframe_conn {
	int fd;
	bool is_unix;           /* AF_UNIX: fds can travel */
	enum sf_phase phase;

	int error;              /* sticky: 0 or the negative errno */
	char error_text[SF_ERROR_TEXT];

	/* Options, with name and auth_file copied. */
	struct shmframe_options opts;
	char *name;
	char *auth_file;

	enum shmframe_transport transport; /* SHM or SOCKET once connected */
	int shm_kind;                      /* enum sf_shm_kind */
	char reason[SF_REASON_TEXT];
	enum shmframe_signal signal;       /* RING or SOCKET once connected */
	char signal_reason[SF_REASON_TEXT];
	struct sfc_rings *rings;           /* NULL: everything on the socket */
	struct sfc_compress *compress;     /* socket pixels' codec (compress.c) */
	struct shmframe_stats stats;

	struct sf_welcome welcome;
	uint32_t max_message;   /* largest event length we accept */

	/* Probe outcome, filled by the PROBE_RESULT handler. */
	bool probe_answered;
	uint8_t probe_status;
	char probe_text[SF_MAX_TEXT + 1]; /* made printable */

	uint32_t requests;      /* requests sent so far, on either path (ERROR's
	                         * sequence, a ring entry's seq) */
	uint32_t events;        /* events handled so far, on either path
	                         * (WELCOME is 1) */
	uint32_t next_surface_id;
	uint32_t next_segment_id;
	uint32_t next_sync;     /* serial of the last SYNC sent */
	uint32_t sync_done;     /* serial of the last SYNC_DONE received */
	uint32_t next_get;      /* serial of the last GET_IMAGE sent */
	uint32_t inflight;      /* PUT_IMAGE/GET_IMAGE not yet answered */
	uint32_t acquired;      /* buffers the caller holds, every surface */
	uint64_t mapped;        /* bytes of segments attached to the server */
	uint32_t segments;      /* segments attached to the server */
	uint32_t surfaces_live;

	struct sf_in in;        /* no fd is ever accepted from the server */
	struct sf_out out;
	struct sfc_payload payload;
	struct sf_readback readback;

	struct shmframe_surface *surfaces;
};

/* conn.c */
void sfc__log(struct shmframe_conn *conn, enum shmframe_log_level level,
             const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records the first error of the connection (later ones are only logged)
 * and returns conn->error, so callers can write `return sfc__fail(...)`. */
int sfc__fail(struct shmframe_conn *conn, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* sfc__fail with -EPROTO: the server sent what it never should. */
int sfc__protocol_error(struct shmframe_conn *conn, const char *what);
/* Records the server's ERROR (text may be empty) as the connection's
 * error, its text made printable. */
int sfc__fail_server(struct shmframe_conn *conn, const struct sf_error *e,
                    const char *text);
/* Event handlers: the handshake's WELCOME, and ERROR. */
/* surface.c: room for one more PUT_IMAGE/GET_IMAGE under the server's
 * max_inflight, counting the buffers the caller may still present; and a
 * wait for it (none when nothing in flight could make it). */
bool sfc__inflight_room(const struct shmframe_conn *conn);
int sfc__wait_inflight_room(struct shmframe_conn *conn);

/* inline.c: frames on the socket, paced.  Presents the image's n rects
 * (0: all; at most max) as frame serial, now or held. */
int sfc__inline_present(struct shmframe_surface *s, uint32_t serial,
                        const uint8_t *pixels, size_t stride,
                        const struct sf_rect *rects, unsigned n, unsigned max);
/* Sends the held frame, if any, when the window has room or force; with
 * report, the serials it replaced are reported discarded. */
int sfc__inline_send_held(struct shmframe_surface *s, bool force, bool report);
int sfc__inline_send_all_held(struct shmframe_conn *conn, bool report);
/* PRESENTED for serial came: the frames it replaced go first. */
void sfc__inline_before_presented(struct shmframe_surface *s, uint32_t serial,
                                  uint64_t time_ns);
/* The surface has a new size (its held frame was sent first). */
void sfc__inline_resized(struct shmframe_surface *s);
void sfc__inline_free(struct shmframe_surface *s);

/* compress.c: the codec of socket frames. */
int sfc__compress_setup(struct shmframe_conn *conn);
void sfc__compress_free(struct shmframe_conn *conn);
/* The codec for a frame of these rects (AUTO may sample it). */
uint32_t sfc__compress_codec(struct shmframe_conn *conn, const uint8_t *base,
                             size_t stride, const struct sf_rect *rects,
                             uint32_t n);
/* A raw frame of bytes began to go at t0 (CLOCK_MONOTONIC ns); its
 * PRESENTED came.  Together they time the link. */
void sfc__compress_sent(struct shmframe_conn *conn, uint32_t surface,
                        uint32_t serial, uint64_t bytes, uint64_t t0);
void sfc__compress_presented(struct shmframe_conn *conn, uint32_t surface,
                             uint32_t serial);
/* The surface is gone: a frame of it being timed never will be. */
void sfc__compress_surface_gone(struct shmframe_conn *conn, uint32_t surface);
struct sf_blocks_out *sfc__compress_out(struct shmframe_conn *conn);
/* The codec frames go with now (enum sf_codec). */
uint32_t sfc__compress_current(const struct shmframe_conn *conn);
/* 1 << codec for each codec the server offered. */
uint32_t sfc__compress_offered(const struct shmframe_conn *conn);

int sfc__conn_on_welcome(struct shmframe_conn *conn, const struct sf_welcome *w);
int sfc__conn_on_error(struct shmframe_conn *conn, const struct sf_error *e,
                      const char *text);

/* options.c */
/* The connection's options: the defaults, then what the caller's size
 * bytes hold.  -E2BIG when those set a member past the ones this library
 * knows: the caller asked for something it cannot do. */
int sfc__options_take(struct shmframe_options *o,
                      const struct shmframe_options *opts, size_t size);
/* Logs the environment variables that name no value (options_init, which
 * read them, has nowhere to log). */
void sfc__options_log_env(struct shmframe_conn *conn);
/* The spin bound of a ring connection: the option (whose default
 * options_init took from $SHMFRAME_SPIN_US or the number of CPUs), at
 * most 10000 us. */
unsigned sfc__options_spin_us(struct shmframe_conn *conn);

/* io.c: the byte queues and the socket.  Nothing here runs callbacks. */
/* Appends one encoded request to the output queue and counts it. */
int sfc__queue(struct shmframe_conn *conn, const void *msg, size_t len);
/* Encodes and queues: fixed part, then tail (may be NULL). */
int sfc__request(struct shmframe_conn *conn, uint16_t type, void *fixed,
                size_t fixed_size, const void *tail, size_t tail_len);
/* Writes what it can without blocking: 0 when the queue is empty, -EAGAIN
 * when bytes remain, else the (sticky) error. */
int sfc__flush(struct shmframe_conn *conn);
/* Writes the whole queue, waiting for POLLOUT (and reading meanwhile). */
int sfc__flush_all(struct shmframe_conn *conn);
/* Flushes the queue, then sends one request with fd attached to its
 * first byte (fd < 0: none), waiting as needed.  The caller keeps fd. */
int sfc__send_with_fd(struct shmframe_conn *conn, const void *msg, size_t len,
                     int fd);
/* Sends a request (msg) and the rows of n rects of pixels after the queue,
 * straight from the pixels, waiting for POLLOUT and reading incoming bytes
 * meanwhile so that neither side can block the other.  Counts one
 * request. */
int sfc__send_rows(struct shmframe_conn *conn, const void *msg, size_t len,
                  uint8_t *pixels, uint32_t stride, const struct sf_rect *rects,
                  unsigned n);
/* Reads once without blocking into the input queue (or straight into the
 * payload's rows).  Returns bytes read, -EAGAIN, or an error (EOF is
 * -ECONNRESET); the caller decides whether it is fatal. */
ssize_t sfc__read(struct shmframe_conn *conn);
/* Reads until the socket has nothing more (at most a bounded number of
 * reads).  0, or the sticky error. */
int sfc__read_available(struct shmframe_conn *conn);
/* Waits until the socket is readable (or writable when output is queued or
 * want_out), then reads and flushes what it can.  With rings, and unless
 * want_out, returns at once when the next event is on the event ring, and
 * else spins on the ring and sleeps (ring.c) around the poll.  0 or
 * error. */
int sfc__wait(struct shmframe_conn *conn, bool want_out);
/* After a read or write failed: takes in whatever the server still sent,
 * so that its ERROR text becomes the connection's error; else the error is
 * err with the formatted text. */
void sfc__salvage_error(struct shmframe_conn *conn, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Copies what the input queue holds of an inline payload into place and
 * consumes it; returns the bytes taken. */
size_t sfc__payload_take(struct shmframe_conn *conn);

/* dispatch.c */
/* One decoded event.  Everything is copied out of the input queue before
 * a callback runs, so a callback may read more events (by acquiring, say)
 * without pulling bytes from under us. */
struct sfc_event {
	uint16_t type;
	union {
		struct sf_welcome welcome;
		struct sf_probe_result probe;
		struct sf_release release;
		struct sf_presented presented;
		struct sf_image image;
		struct sf_closed closed;
		struct sf_sync sync;
		struct sf_error error;
		struct sf_key key;
		struct sf_pointer pointer;          /* MOTION, ENTER, LEAVE */
		struct sf_pointer_button button;
		struct sf_pointer_axis axis;
		struct sf_focus focus;
		struct sf_configure configure;
	} u;
	char text[SF_MAX_TEXT + 1];
};
/* Decodes the event msg (h as sf__header_check read it, h->length bytes
 * there) into ev.  0, or an SF_ERR_* code with *why set
 * (SF_ERR_UNKNOWN_TYPE when no event has h->type). */
int sfc__event_decode(const void *msg, const struct sf_header *h,
                      struct sfc_event *ev, const char **why);
/* Decodes every complete event in the input queue and runs its callbacks.
 * Returns the number handled or the sticky error. */
int sfc__process(struct shmframe_conn *conn);
/* One step of a blocking wait: handles what is there, else waits once. */
int sfc__pump(struct shmframe_conn *conn);
/* Queues a SYNC (serial conn->next_sync), whose SYNC_DONE comes after
 * every event of the requests before it. */
int sfc__sync(struct shmframe_conn *conn);
/* Sends a SYNC and pumps until its SYNC_DONE. */
int sfc__roundtrip(struct shmframe_conn *conn);
/* Finds an ERROR among the events still queued, handling nothing else,
 * and makes it the connection's error; false when there is none. */
bool sfc__find_error(struct shmframe_conn *conn);

/* errors.c */
/* Maps an ERROR code to the errno the library reports. */
int sfc__error_errno(uint32_t code);

/* transport.c */
/* Probes kinds as opts ask and sets conn->transport, shm_kind, reason. */
int sfc__choose_transport(struct shmframe_conn *conn);
/* Fills a PROBE or ATTACH_SEGMENT message for seg. */
void sfc__segment_msg(struct sf_segment_msg *m, const struct sf_segment *seg,
                     uint32_t id, uint8_t flags, const uint8_t *nonce);
/* Creates a segment of the connection's kind with its proof (a fresh nonce
 * and the WELCOME challenge) at offset 0, and attaches it to the server (ATTACH_SEGMENT, no round trip).
 * On success *id is its segment id; on failure nothing is left. */
int sfc__segment_attach(struct shmframe_conn *conn, struct sf_segment *seg,
                       size_t size, uint8_t flags, uint32_t *id);
/* The two halves of sfc__segment_attach, for a segment that replaces one
 * of replaces bytes (0: none) detached just before it is offered: the
 * server's limits are checked as they will stand then.  make creates it
 * with its proof (nonce filled in; on failure nothing is left, nothing
 * was sent: a refusal); offer sends ATTACH_SEGMENT and counts it. */
int sfc__segment_make(struct shmframe_conn *conn, struct sf_segment *seg,
                      size_t size, uint64_t replaces,
                      uint8_t nonce[SF_NONCE_SIZE]);
int sfc__segment_offer(struct shmframe_conn *conn, struct sf_segment *seg,
                       uint8_t flags, const uint8_t nonce[SF_NONCE_SIZE],
                       uint32_t *id);
/* Sends a PROBE or ATTACH_CONTROL (type) for seg, in phase, and waits for
 * its PROBE_RESULT (conn->probe_status and probe_text).  0, or the
 * connection's error. */
int sfc__segment_ask(struct shmframe_conn *conn, enum sf_phase phase,
                     uint16_t type, struct sf_segment_msg *m,
                     const struct sf_segment *seg);
/* Tells the server to drop segment id (queued). */
int sfc__segment_detach(struct shmframe_conn *conn, uint32_t id, size_t size);
/* Event handler: the answer to the PROBE in flight. */
int sfc__transport_on_probe_result(struct shmframe_conn *conn,
                                   const struct sf_probe_result *r,
                                   const char *text);

/* ring.c: the control segment and its rings (protocol/ring.h). */
/* After the transport was chosen: offers the control segment as the
 * options ask and sets conn->signal, signal_reason and rings.  0, or the
 * connection's error (a forced RING that cannot be had is -ENOTSUP). */
int sfc__choose_signal(struct shmframe_conn *conn);
/* Releases the control segment (disconnect). */
void sfc__rings_free(struct shmframe_conn *conn);
/* The program polls the fd itself from now on (the first time it took
 * it; rings live). */
void sfc__rings_fd_taken(struct shmframe_conn *conn);
/* Puts the request msg (len bytes, numbered as the next request) on the
 * request ring and wakes the server when it sleeps.  1 when it went
 * there, 0 when it must go on the socket (no room), or the error. */
int sfc__ring_request(struct shmframe_conn *conn, const void *msg, size_t len);
/* Takes the next event from the event ring when it is the one due (its
 * number is the next), decoded into ev and counted, and one off *left.
 * 1 when taken, 0 when the ring is empty or the next event is on the
 * socket, SFC_RING_STOP when it is due but *left is 0, or the error.
 * One call of sfc__process starts with SF_RING_EV_COUNT: all a ring holds
 * when it begins, but not what a server keeps writing while it runs. */
#define SFC_RING_STOP 2
int sfc__ring_event(struct shmframe_conn *conn, struct sfc_event *ev,
                    unsigned *left);
/* Whether the ring's oldest entry is numbered past the next event: one
 * is due on the socket before it. */
bool sfc__ring_gap(struct shmframe_conn *conn);
/* Before sfc__wait blocks in poll(): spins on the event ring, then says
 * it sleeps.  1 when an entry came (do not poll), 0 to poll, or the
 * error. */
int sfc__ring_before_poll(struct shmframe_conn *conn, bool want_out);
/* After poll() returned. */
void sfc__ring_after_poll(struct shmframe_conn *conn);

/* surface.c */
struct shmframe_surface *sfc__surface_find(struct shmframe_conn *conn,
                                          uint32_t id);
/* The surface an event names, or NULL: then *stale says whether the id
 * is one of a surface the program already destroyed (drop the event),
 * else it was never handed out (the server's mistake). */
struct shmframe_surface *sfc__event_surface(struct shmframe_conn *conn,
                                            uint32_t id, bool *stale);
void sfc__surface_free(struct shmframe_surface *surface);
/* Event handlers: a buffer back, a frame shown, a window closed. */
int sfc__surface_on_release(struct shmframe_conn *conn,
                           const struct sf_release *r);
int sfc__surface_on_presented(struct shmframe_conn *conn,
                             const struct sf_presented *p);
int sfc__surface_on_closed(struct shmframe_conn *conn, const struct sf_closed *c);

/* input.c */
/* Whether the server takes SELECT_INPUT and RESIZE_SURFACE and sends
 * input events (protocol 2.2, SF_CAP_INPUT in WELCOME). */
bool sfc__input_offered(const struct shmframe_conn *conn);
/* The check before a 2.2 request on s: 0, -EINVAL for no surface, the
 * connection's error, or -ENOTSUP (logged: "the server (protocol M.N)
 * WHAT") when the server does not speak it. */
int sfc__input_usable(struct shmframe_surface *s, const char *what);
/* Event handler: KEY, POINTER_*, FOCUS and CONFIGURE. */
int sfc__surface_on_input(struct shmframe_conn *conn,
                          const struct sfc_event *ev);

/* readback.c */
/* Bytes of pixels that follow an IMAGE on the socket (0 over shm). */
uint64_t sfc__image_payload(const struct sf_image *img);
/* Event handler: the answer to the GET_IMAGE in flight. */
int sfc__readback_on_image(struct shmframe_conn *conn, const struct sf_image *img);

#endif
