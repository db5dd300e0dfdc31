/*
 * Declarations shared by the files of shmframe-server.  The lists are in
 * list.h, one client connection in client.h; both come with this header,
 * the one every file of the server includes.
 *
 * Ownership in one picture:
 *   server ─┬─ listeners
 *           ├─ display (one backend)
 *           └─ clients ─┬─ segments (refcounted: a latched buffer keeps its
 *                       │   segment mapped after DETACH_SEGMENT)
 *                       ├─ control segment (2.1: its rings, until the end)
 *                       ├─ surfaces (content: own memory or a latched buffer)
 *                       └─ output queue (bytes, or rows streamed from a surface)
 */
#ifndef SHMFRAME_SERVER_PRIVATE_H
#define SHMFRAME_SERVER_PRIVATE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client.h"
#include "event-loop.h"
#include "fdpass.h"
#include "list.h"
#include "segment.h"
#include "text.h"
#include "wire.h"

#define SF_PROG "shmframe-server"

/* ---- server ----------------------------------------------------------- */

/* The limits announced in WELCOME and enforced per client. */
struct sf_limits {
	uint32_t max_width, max_height;
	uint32_t max_surfaces, max_segments;
	uint64_t max_segment_size;
	uint64_t max_mapped;
	uint32_t max_message;
	uint32_t max_inflight;
	uint64_t max_output;
};

/* Limits WELCOME has no field for: the server's own memory per client,
 * and totals over every client.  Hitting one is an ERROR LIMIT too. */
struct sf_server_limits {
	unsigned max_clients;           /* clients past HELLO */
	uint64_t max_surface_memory;    /* width*height*4 of a client's surfaces */
	uint64_t max_surface_memory_total;
	uint64_t max_mapped_total;      /* segment bytes mapped, all clients */
	uint64_t max_output_total;      /* bytes of events queued, all clients */
	uint64_t timeout_ns;            /* HELLO, and each slow message window */
};

struct sf_display;

struct sf_server {
	struct sf_loop *loop;
	struct sf_display *display;
	struct sf_limits limits;
	struct sf_server_limits glimits;
	uint64_t mapped_total;         /* segment bytes mapped, every client */
	uint64_t surface_memory_total; /* surface pixels, every client */
	uint64_t out_total;            /* queued event bytes, every client */
	uid_t uid;
	uid_t *allow_uids;
	unsigned n_allow_uids;
	bool have_cookie;
	uint8_t cookie[SF_COOKIE_SIZE];
	char auth_path[256];
	const char *dump_dir;
	unsigned dump_every;
	bool verbose;
	/* --signal socket: WELCOME never offers RING. */
	bool signal_socket;
	/* --spin-us: how long the loop looks at the request rings before it
	 * blocks (0: not at all). */
	unsigned spin_us;

	struct sf_list listeners;  /* struct sf_listener.link */
	struct sf_list clients;    /* struct sf_client.link: live and closing */
	struct sf_list dead;       /* struct sf_client.link: freed between iterations */
	struct sf_list backlog;    /* struct sf_client.backlog_link: input left to process */
	struct sf_list flush;      /* struct sf_client.flush_link: output to write */
	struct sf_list fd_wait;    /* struct sf_client.fd_wait_link: Unix
	                            * connections not read until the closers
	                            * catch up (sfs__fds_room) */
	struct sf_list unauth;     /* struct sf_client.unauth_link: never said a
	                            * good HELLO (still waiting, or closing),
	                            * oldest first */
	struct sf_list ring_clients; /* struct sf_client.rings.link: live rings */
	uint64_t iteration;        /* sfs__server_iterate calls so far */
	uint64_t polled_ns;        /* when the loop last asked epoll */
	uint32_t next_client_id;
	unsigned n_clients;
	unsigned n_unauth;
	bool accept_paused;        /* out of fds: listeners wait for a close */
	uint64_t accept_retry_ns;  /* ... or until then */
	uint64_t accept_logged_ns; /* when that was last logged */
	unsigned fd_budget;        /* fds for connections (fds.c); 0: not yet known */
	struct sf_closer *closer;  /* fds.c */
};

/* ---- server.c --------------------------------------------------------- */

/* Makes the lists and the event loop of a server whose other fields the
 * caller set (limits, uids, options); the display is set up afterwards
 * (server->display).  0 or -errno. */
int sfs__server_init(struct sf_server *server);
/* One iteration of the main loop: deadlines, freeing closed clients,
 * waiting for events (at most max_wait_ms, -1: as long as nothing is
 * due; never while a client waits on the backlog), the display, the
 * backlog's turns, broken segments, output.  Returns how many fds were
 * handled, or -errno when the loop itself failed. */
int sfs__server_iterate(struct sf_server *server, int max_wait_ms);
/* True while an iteration has work regardless of events: a client on the
 * backlog or with requests on its ring, output to flush, or a closed
 * client to free. */
bool sfs__server_busy(struct sf_server *server);
/* Closes every client and listener and frees them, then the display and
 * the event loop (every other watch must be gone by then). */
void sfs__server_fini(struct sf_server *server);

/* ---- ring.c: the loop's side of the rings ----------------------------- */

/* Before the loop blocks for timeout ms: clients with requests on their
 * rings get a turn (the backlog), the loop may spin (spin_us), and every
 * request ring is marked sleeping.  Returns the timeout to block for (0
 * when there is work). */
int sfs__rings_before_wait(struct sf_server *server, int timeout);
/* The loop is awake: no client needs to KICK it. */
void sfs__rings_after_wait(struct sf_server *server);
/* True when a client has requests or a NOTIFY waiting on its rings. */
bool sfs__rings_busy(struct sf_server *server);

/* ---- log.c ------------------------------------------------------------ */

void sfs__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sfs__verbose(const struct sf_server *server, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t sfs__now_ns(void);

/* ---- listener.c ------------------------------------------------------- */

struct sf_listener {
	struct sf_list link;
	struct sf_server *server;
	struct sf_watch watch;
	int fd;
	bool is_unix;
	char path[108];     /* socket file we created, unlinked on close */
	dev_t dev;          /* ... only while it is still the file we bound */
	ino_t ino;
	char text[300];     /* "unix:/path" or "tcp:HOST:PORT" with the real port */
	/* What an accepted connection (fd, owned) becomes: a client when
	 * NULL, else whatever this makes of it (the input control socket). */
	void (*accepted)(struct sf_listener *l, int fd);
	void *data;
};

/* Binds, listens and watches addr_text (unix:PATH, tcp:HOST:PORT, :N).
 * Prints the reason on stderr and returns -errno on failure. */
int sfs__listener_open(struct sf_server *server, const char *addr_text);
/* Binds, listens and watches the Unix socket path as unix:PATH, made
 * mode (0 leaves the umask's) before anyone can connect, its connections
 * handed to accepted with data.  Prints the reason on stderr and returns
 * -errno on failure; the listener is the server's (closed with the
 * others), *out (may be NULL) names it for an earlier close. */
int sfs__listener_open_unix(struct sf_server *server, const char *path,
                           mode_t mode,
                           void (*accepted)(struct sf_listener *l, int fd),
                           void *data, struct sf_listener **out);
/* Stops listening and unlinks its socket file. */
void sfs__listener_close(struct sf_listener *l);
/* Stops or resumes accepting on every listener (out of file descriptors). */
void sfs__listeners_pause(struct sf_server *server, bool pause);
/* Resumes paused listeners when their retry is due (fds may have come
 * back without a client closing: the closer threads, another process's
 * ENFILE).  Returns ms until the retry, or -1 when not paused. */
int sfs__listeners_retry(struct sf_server *server);

/* ---- fds.c ------------------------------------------------------------ */

/* What a connection is admitted with: its socket and a full fd queue. */
#define SF_FD_PER_CONN (1 + SF_FDQ_MAX)

/* Raises the soft RLIMIT_NOFILE to the hard limit and sets the fd budget.
 * Failing to raise it is not an error: the budget follows the limit. */
void sfs__fds_setup(struct sf_server *server);
/* Waits a little for the closer threads to finish, frees what it can. */
void sfs__fds_teardown(struct sf_server *server);
/* The fds connections may use, and those they use now (SF_FD_PER_CONN per
 * connection, fds still waiting to be closed, and those the closers hold
 * or claimed while emptying Unix sockets). */
unsigned sfs__fds_budget(struct sf_server *server);
unsigned sfs__fds_used(const struct sf_server *server);
/* True when the fds in use are within the budget, so that the fds one
 * recvmsg may install (SF_FDS_PER_MSG_MAX) fit in the reserve: a Unix
 * connection is read only then.  Fds received that are not memfds wait
 * for the closer threads and count as used until closed; a peer sending
 * them faster than they close (or all closers stuck in close()) would
 * otherwise fill the fd table, whatever the budget. */
bool sfs__fds_room(struct sf_server *server);
/* Closes fd on a closer thread (never blocks the caller); for fds that
 * came from a peer and are not memfds, and Unix connections, which may
 * hold such fds unread.  Takes ownership of fd. */
void sfs__close_later(struct sf_server *server, int fd);
/* The same, as a struct sf_fdq dispose function (data: the server). */
void sfs__close_later_cb(int fd, void *server);

/* ---- auth.c ----------------------------------------------------------- */

/* Loads the cookie from path, or creates the file with a new random one
 * (mode 0600) when it is missing or invalid.  0 or -errno (reason printed). */
int sfs__auth_load_or_create(struct sf_server *server, const char *path);
/* 1 when cookie equals the server's (constant time). */
int sfs__auth_check(const struct sf_server *server, const uint8_t *cookie);

/* ---- segments.c ------------------------------------------------------- */

/* An attached segment.  The client's table holds one reference until
 * DETACH_SEGMENT; each surface latching a buffer in it holds another. */
struct sf_shmseg {
	struct sf_list link;          /* client->segments while attached */
	struct sf_shmseg *guard_next; /* every live mapping, for the SIGBUS guard */
	struct sf_client *client;
	struct sf_segment seg;
	uint32_t id;
	unsigned refs;
	bool attached;                /* still in the client's table */
	volatile sig_atomic_t broken; /* the client shrank it under our mapping */
};

/* Installs the SIGBUS handler that keeps a segment shrunk by its client
 * from killing the server (POSIX shm cannot be sealed).  0 or -errno. */
int sfs__sigbus_guard_install(void);
/* Nonzero when a guarded access faulted since the last call; the broken
 * segments' clients are then failed by sfs__segments_check_broken(). */
bool sfs__sigbus_pending(void);
/* Fails every client whose segment broke.  The ERROR of a client in the
 * middle of a request (c->req.active) names that request. */
void sfs__segments_check_broken(struct sf_server *server);

/* Opens the segment msg describes (fd: the memfd or -1, always consumed).
 * Returns an enum sf_probe_status; on success *out holds one reference
 * and counts towards the client's mapped bytes. */
int sfs__shmseg_open(struct sf_client *c, const struct sf_segment_msg *msg,
                    int fd, struct sf_shmseg **out, char *why, size_t why_len);
struct sf_shmseg *sfs__shmseg_find(struct sf_client *c, uint32_t id);
void sfs__shmseg_ref(struct sf_shmseg *s);
void sfs__shmseg_unref(struct sf_shmseg *s);
/* Removes s from its client's table and drops the table's reference. */
void sfs__shmseg_detach(struct sf_shmseg *s);

/* ---- surface.c -------------------------------------------------------- */

struct sf_surface {
	struct sf_list link;   /* client->surfaces */
	struct sf_client *client;
	uint32_t id, width, height, format, present_mode;
	char title[SF_SHOWN_MAX]; /* from CREATE_SURFACE, made printable */

	/* Content: a latched client buffer when latched != NULL, else our own
	 * memory (NULL until needed: a surface shows zeros until then). */
	uint8_t *mem;
	size_t mem_size;
	struct sf_shmseg *latched;
	uint64_t latch_offset;
	uint32_t latch_stride, latch_buffer, latch_serial;
	bool has_frame;        /* some frame completed (for snapshots) */

	/* A frame waits for the display: in flight until its PRESENTED is
	 * written (only inflight.c touches these two). */
	bool present_pending;
	uint32_t pending_serial;
	uint64_t frames;       /* completed frames, for --dump-every */

	void *window;          /* display backend's per-surface state */

	/* 2.2: what the client asked to hear and what it was told (events.c;
	 * the pointer's held buttons are the one state kept for it). */
	struct {
		uint32_t mask;         /* SELECT_INPUT: enum sf_event_mask */
		uint32_t buttons;      /* held, bit (n - 1) for button n */
		/* The size the window shows the surface at, in surface pixels
		 * (starts as the surface's own), and the serial of the last
		 * CONFIGURE that said it (0: none sent yet). */
		uint32_t view_width, view_height;
		uint32_t configure_serial;
		uint32_t acked_serial;  /* last RESIZE_SURFACE serial */
	} input;
};

/* Bytes of a width x height surface's pixels (what surface memory limits
 * count). */
static inline uint64_t sfs__surface_bytes(uint32_t width, uint32_t height)
{
	return (uint64_t)width * height * SF_BYTES_PER_PIXEL;
}

int sfs__surface_create(struct sf_client *c, const struct sf_create_surface *m,
                       const char *title);
struct sf_surface *sfs__surface_find(struct sf_client *c, uint32_t id);
/* Frees the surface silently (no RELEASE, no PRESENTED). */
void sfs__surface_destroy(struct sf_surface *s);

/* The current pixels (NULL when the surface has shown nothing yet) and
 * their row stride.  Valid until the next request of the owner. */
const uint8_t *sfs__surface_pixels(const struct sf_surface *s, uint32_t *stride);
/* Makes sure the content lives in our memory (allocating zeros, or copying
 * and releasing a latched buffer).  0, or -ENOMEM. */
int sfs__surface_own_memory(struct sf_surface *s);

/* PUT_IMAGE from a segment (rects already checked).  0, or -1 when the
 * client was failed. */
int sfs__surface_put_shm(struct sf_surface *s, const struct sf_put_image *m,
                        struct sf_shmseg *seg, const struct sf_rect *rects,
                        uint32_t n_rects);
/* A frame is complete in the surface's content: tell the display, count
 * it, snapshot when due.  damage may be NULL for the whole surface. */
void sfs__surface_frame_done(struct sf_surface *s, uint32_t serial,
                            const struct sf_rect *damage, uint32_t n_damage);
/* Called by the display when the latest frame is visible (or skipped). */
void sfs__surface_shown(struct sf_surface *s, uint64_t time_ns);
/* Called by the display when the user closed the surface's window. */
void sfs__surface_window_closed(struct sf_surface *s);
/* Reads a byte of every page rect covers in a latched buffer, so that a
 * segment its client shrank trips the SIGBUS guard now, before the rows
 * are handed to the kernel (which would only fail the write). */
void sfs__surface_touch(const struct sf_surface *s, const struct sf_rect *r);
/* Copies rect of the content into dst rows of dst_stride bytes. */
void sfs__surface_read(const struct sf_surface *s, const struct sf_rect *r,
                      uint8_t *dst, uint32_t dst_stride);

/* RESIZE_SURFACE's effect once checked (limits included): a frame waiting
 * for the display is PRESENTED discarded, a latched buffer is RELEASEd,
 * the content becomes zeros of the new size, the view size follows when
 * it was the old size (a window showing the surface 1:1), and then the
 * display is told (surface_resized; a window of another size may say so
 * there with sfs__input_configure).  0, or -1 when the client was or will
 * be failed (an answer overflowed its output). */
int sfs__surface_resize(struct sf_surface *s, uint32_t width, uint32_t height);

/* ---- events.c: input and configure events (2.2) ------------------------ */

/*
 * What a viewer (display-sdl.c) or the input control socket saw, for one
 * surface, already in surface pixels: x and y are 24.8 fixed point
 * (SF_FIXED_ONE), and may lie outside the surface while a button is held.
 * Each call sends its event when the surface's client selected it, and
 * nothing otherwise; time_ns is CLOCK_MONOTONIC when the input was seen.
 * Returns 0, or -1 when queueing the event failed the client (SLOW): its
 * surfaces and windows are gone then, so a caller walking windows must
 * not touch this one again.
 */
struct sf_key_input {
	uint32_t keycode;       /* USB HID usage; 0: unknown */
	uint32_t keysym;        /* see PROTOCOL.md, KEY */
	uint32_t modifiers;     /* enum sf_modifier */
	bool pressed, repeat;
	char text[SF_KEY_TEXT_SIZE + 1]; /* UTF-8 the press typed, NUL-ended */
};
int sfs__input_key(struct sf_surface *s, const struct sf_key_input *k,
                  uint64_t time_ns);
/* type: SF_POINTER_MOTION, SF_POINTER_ENTER or SF_POINTER_LEAVE; the held
 * buttons are the surface's own count (s->input.buttons). */
int sfs__input_pointer(struct sf_surface *s, uint16_t type, int32_t x,
                      int32_t y, uint32_t modifiers, uint64_t time_ns);
/* button 1 .. SF_BUTTON_MAX; updates s->input.buttons first.  A release
 * of a button not held, or a press of one held, sends nothing. */
int sfs__input_button(struct sf_surface *s, int32_t x, int32_t y,
                     uint32_t button, bool pressed, uint32_t modifiers,
                     uint64_t time_ns);
int sfs__input_axis(struct sf_surface *s, int32_t dx120, int32_t dy120,
                   uint64_t time_ns);
int sfs__input_focus(struct sf_surface *s, bool focused, uint64_t time_ns);
/* The window now shows width x height surface pixels (1 ..
 * SF_MAX_DIMENSION): remembered in s->input.view_*, and sent as a
 * CONFIGURE with the next serial when CONFIGURE is selected and the size
 * differs from the one last sent. */
int sfs__input_configure(struct sf_surface *s, uint32_t width,
                        uint32_t height, uint64_t time_ns);
/* SELECT_INPUT's effect: the new mask; when it newly holds CONFIGURE, a
 * CONFIGURE of the view size goes out at once.  0, or -1 (client failed). */
int sfs__input_select(struct sf_surface *s, uint32_t mask);

/* ---- requests.c ------------------------------------------------------- */

/* Handles one whole message (hdr.length bytes at msg).  0, or -1 when the
 * client was failed. */
int sfs__request_dispatch(struct sf_client *c, const uint8_t *msg,
                         const struct sf_header *hdr);

/* ---- snapshot.c ------------------------------------------------------- */

/* Opens the --dump-dir directory dir (no symbolic link) and checks that
 * it is the server's uid's and writable by nobody else.  The fd (the
 * caller closes it), or -errno with why (len bytes) saying what is wrong. */
int sfs__dump_dir_open(const char *dir, char *why, size_t len);
/* Writes DIR/surface-CLIENT-SURFACE.png, mode 0600, through a temporary
 * name nobody can predict, created O_EXCL|O_NOFOLLOW in the checked
 * directory and renamed into place.  0 or -errno (reason printed). */
int sfs__snapshot_write(const char *dir, const struct sf_surface *s);
/* Snapshots every surface that has shown a frame. */
void sfs__snapshot_all(struct sf_server *server);

#endif
