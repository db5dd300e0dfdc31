/*
 * shmframe.h: the client library of shmframe.
 *
 * A program connects to a shmframe server, creates surfaces (the analogue
 * of windows), and for each frame acquires a buffer, draws into it and
 * presents it.  Pixels travel through shared memory when the client and
 * the server are proven to share it (a nonce probe at connect time), and
 * through the socket otherwise; the calls are the same either way.
 *
 * Errors: one convention for every call
 * - Functions returning int return 0 (or a documented non-negative value)
 *   on success and a negative errno value on failure.  Functions returning
 *   a pointer return NULL on failure with errno set (the positive value).
 *   Functions returning void cannot fail; functions returning a string
 *   never return NULL.  A NULL object is a bad argument (-EINVAL).
 * - A failure either leaves the connection as it was (a refusal) or breaks
 *   it for good; shmframe_conn_error() tells which (0 after a refusal).
 *   Refusals:
 *     -EINVAL   a bad argument
 *     -EAGAIN   nothing ready yet (shmframe_flush, shmframe_try_acquire)
 *     -EBUSY    a readback from within a callback of another
 *     -EDEADLK  a wait that could never end (shmframe_acquire)
 *     -EDQUOT / -EFBIG  a server limit that the library checks before it
 *               asks (shmframe_surface_create, shmframe_readback)
 *     the errno of a local failure to make a segment or buffer memory,
 *               before anything was sent (the same two calls)
 *   Everything else is sticky: the connection stays failed, every later
 *   call on it returns the same error (a bad argument may still be
 *   reported first, as -EINVAL), shmframe_conn_error() returns it, and
 *   shmframe_last_error() tells in words what happened first (names,
 *   paths, the server's own ERROR text).  shmframe_connect() always
 *   reports on the connection it returns, so for it even a refusal (bad
 *   options) is that connection's sticky error.
 * - shmframe_strerror() gives a short sentence for any code, from any
 *   thread.  A refusal's fuller explanation goes to the log callback
 *   only; shmframe_last_error() stays "" while the connection is usable.
 * - Error codes with a meaning of their own here (any other code is the
 *   errno of a system call that failed, e.g. -ENOMEM or -EMFILE):
 *     -ECONNREFUSED / -ENOENT  no server at the address
 *     -ECONNRESET / -EPIPE     the server closed the connection
 *     -EPROTO           the server sent a malformed or unexpected message,
 *                       or rejected a request (its ERROR text is in
 *                       shmframe_last_error)
 *     -EPROTONOSUPPORT  the server speaks another protocol major version
 *     -EACCES           the server refused this client (uid or cookie),
 *                       or there is no cookie file for a TCP server
 *     -EPERM            the library refused the server before sending it
 *                       anything: the runtime directory of a :N address is
 *                       not the user's alone (0700, not a link), the
 *                       server runs as another uid than the user or root,
 *                       or the cookie file is not the user's alone
 *                       (shmframe_last_error says which)
 *     -ENOTSUP          SHMFRAME_TRANSPORT_SHM was forced and no kind of
 *                       shared memory passed the probe (reasons in
 *                       shmframe_last_error and shmframe_transport_reason),
 *                       or SHMFRAME_SIGNAL_RING was forced and rings
 *                       cannot be had (the reason in shmframe_last_error)
 *     -EDQUOT / -EFBIG  a limit the server announced was reached
 *     -ETIMEDOUT        the server dropped this client as too slow, or
 *                       a Unix listener did not accept within 5 s
 *     -EDEADLK          acquire would wait for a buffer that can never
 *                       come back (the caller holds them all)
 *     -ENOBUFS          the server sent more than the library can queue
 *     -E2BIG            the options set a member this library does not
 *                       know (see "Structs that grow" below)
 *     -EINVAL           a bad argument; the connection stays usable
 *
 * Other conventions
 * - The library never prints, never exits, installs no signal handlers and
 *   starts no threads.  Writes use MSG_NOSIGNAL, so a dead server is an
 *   error (-EPIPE / -ECONNRESET), never SIGPIPE.
 * - Threads: a connection and everything made from it belong to one thread
 *   at a time.  Different connections may be used from different threads
 *   at once.  shmframe_strerror() and shmframe_version() may be called from
 *   any thread.
 */
#ifndef SHMFRAME_H
#define SHMFRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SHMFRAME_EXPORT __attribute__((visibility("default")))
#else
#define SHMFRAME_EXPORT
#endif

#define SHMFRAME_VERSION_MAJOR 1
#define SHMFRAME_VERSION_MINOR 4

struct shmframe_conn;
struct shmframe_surface;
struct shmframe_buffer;

/* How pixels travel. */
enum shmframe_transport {
	SHMFRAME_TRANSPORT_AUTO = 0,   /* shm when the probe passes, else socket */
	SHMFRAME_TRANSPORT_SHM = 1,    /* shm or fail with the probe's reason */
	SHMFRAME_TRANSPORT_SOCKET = 2, /* pixels inline on the socket */
};

/*
 * How the two sides tell each other that a frame or an event is there
 * (since 1.2).  With rings, shm frames and the server's RELEASE and
 * PRESENTED go through two rings in a shared control segment, and a side
 * is woken (one small message on the socket) only when it said it
 * sleeps: while both are busy, frames cost no syscall.  Rings need the
 * shm transport and a server that offers them (protocol 2.1).
 */
enum shmframe_signal {
	SHMFRAME_SIGNAL_AUTO = 0,   /* rings when the server offers them over shm */
	SHMFRAME_SIGNAL_RING = 1,   /* rings, or the connection fails (-ENOTSUP) */
	SHMFRAME_SIGNAL_SOCKET = 2, /* every request and event on the socket */
};

/*
 * Compression of the pixels that travel on the socket (since 1.4,
 * protocol 2.3); shared memory is never compressed.  Each block of rows
 * that does not get smaller is sent as it is, so incompressible content
 * costs little more than none.
 */
enum shmframe_compress {
	/* lz4 over TCP to another host.  On a Unix socket or loopback TCP:
	 * none when the socket transport was asked for (the same host);
	 * when shared memory was tried and not found (a proxy, an SSH
	 * forward, a container), lz4 once the link, as measured while
	 * frames are sent, is slower than lz4 makes worth it, else none. */
	SHMFRAME_COMPRESS_AUTO = 0,
	SHMFRAME_COMPRESS_NONE = 1,
	SHMFRAME_COMPRESS_LZ4 = 2,  /* fast: for links of about 1 Gbit/s */
	SHMFRAME_COMPRESS_ZSTD = 3, /* zstd at level 1: smaller, slower */
};

/* Kind of shared memory; ANY tries memfd, then posix, then sysv. */
enum shmframe_shm_kind {
	SHMFRAME_SHM_ANY = 0,
	SHMFRAME_SHM_MEMFD = 1,
	SHMFRAME_SHM_POSIX = 2,
	SHMFRAME_SHM_SYSV = 3,
};

/* Pixel formats: 4 bytes per pixel, in memory order B, G, R, A (or X). */
enum shmframe_format {
	SHMFRAME_FORMAT_ARGB8888 = 1,
	SHMFRAME_FORMAT_XRGB8888 = 2,
};

/* What the server does with a presented shm buffer. */
enum shmframe_present_mode {
	/* Keep the buffer as the surface's content without copying; it comes
	 * back (RELEASE) when a later frame replaces it.  Needs >= 2 buffers. */
	SHMFRAME_PRESENT_LATCH = 0,
	/* Copy the damage at once and release the buffer (X MIT-SHM
	 * semantics); works with a single buffer. */
	SHMFRAME_PRESENT_COPY = 1,
};

/* Severity passed to the log callback. */
enum shmframe_log_level {
	SHMFRAME_LOG_ERROR = 0,
	SHMFRAME_LOG_INFO = 1,
	SHMFRAME_LOG_DEBUG = 2,
};

struct shmframe_rect {
	uint32_t x, y, width, height;
};

/*
 * Input and configure events (since 1.3, protocol 2.2).  A surface gets
 * none until shmframe_surface_select_input() asks for them, the way an X
 * client selects events on its window; the server then sends what the
 * person does in the viewer's window of that surface (or what a script
 * sends with shmframe-input when it runs headless).
 */
enum shmframe_event_mask {
	SHMFRAME_EVENT_KEY = 1u << 0,              /* key */
	SHMFRAME_EVENT_POINTER_MOTION = 1u << 1,   /* pointer_motion */
	SHMFRAME_EVENT_POINTER_BUTTON = 1u << 2,   /* pointer_button */
	SHMFRAME_EVENT_POINTER_AXIS = 1u << 3,     /* pointer_axis */
	SHMFRAME_EVENT_POINTER_CROSSING = 1u << 4, /* pointer_enter, pointer_leave */
	SHMFRAME_EVENT_FOCUS = 1u << 5,            /* focus */
	SHMFRAME_EVENT_CONFIGURE = 1u << 6,        /* configure */
	SHMFRAME_EVENT_ALL = 0x7fu,
};

/* Modifiers held (or locks on) with a key or pointer event. */
enum shmframe_modifier {
	SHMFRAME_MOD_SHIFT = 1u << 0,
	SHMFRAME_MOD_CTRL = 1u << 1,
	SHMFRAME_MOD_ALT = 1u << 2,
	SHMFRAME_MOD_SUPER = 1u << 3,
	SHMFRAME_MOD_CAPS_LOCK = 1u << 4,
	SHMFRAME_MOD_NUM_LOCK = 1u << 5,
	SHMFRAME_MOD_ALTGR = 1u << 6,
};

/* Pointer buttons; a buttons field holds bit (n - 1) for button n. */
enum shmframe_button {
	SHMFRAME_BUTTON_LEFT = 1,
	SHMFRAME_BUTTON_MIDDLE = 2,
	SHMFRAME_BUTTON_RIGHT = 3,
	SHMFRAME_BUTTON_BACK = 4,
	SHMFRAME_BUTTON_FORWARD = 5,
};

/* Key codes of the keys programs most often look for.  keycode is the
 * USB HID usage of the key on the keyboard page: the key's place on the
 * keyboard, the same in every layout (SHMFRAME_KEY_A is where US
 * keyboards have A, also on a French one). */
enum shmframe_key {
	SHMFRAME_KEY_A = 4,          /* ... SHMFRAME_KEY_A + 25 is Z */
	SHMFRAME_KEY_1 = 30,         /* ... 38 is 9, 39 is 0 */
	SHMFRAME_KEY_RETURN = 40,
	SHMFRAME_KEY_ESCAPE = 41,
	SHMFRAME_KEY_BACKSPACE = 42,
	SHMFRAME_KEY_TAB = 43,
	SHMFRAME_KEY_SPACE = 44,
	SHMFRAME_KEY_F1 = 58,        /* ... 69 is F12 */
	SHMFRAME_KEY_RIGHT = 79,
	SHMFRAME_KEY_LEFT = 80,
	SHMFRAME_KEY_DOWN = 81,
	SHMFRAME_KEY_UP = 82,
};

/*
 * The event structs are the library's, passed by pointer and valid only
 * during the callback.  Later versions may add members at their end, so
 * read the members you know and do not keep the pointer.  time_ns is
 * CLOCK_MONOTONIC of the server's host when the server saw the input.
 * Pointer coordinates are surface pixels (the viewer's scaling and
 * letterboxing undone), in steps of 1/256 pixel: x in [0, width) while
 * the pointer is over the surface; outside while a button pressed on it
 * is held (the surface keeps the pointer until every button is up).
 */
struct shmframe_key_event {
	uint64_t time_ns;
	uint32_t keycode;    /* USB HID usage (enum shmframe_key); 0: unknown */
	/* The key's symbol in the current layout, modifiers not applied: its
	 * Unicode code point for a key that has one ('a' for A, whatever
	 * Shift says), else 0x40000000 | keycode. */
	uint32_t keysym;
	uint32_t modifiers;  /* enum shmframe_modifier bits */
	int pressed;         /* 1 pressed, 0 released */
	int repeat;          /* 1: an auto-repeated press */
	char text[16];       /* UTF-8 the press typed ("A" with Shift),
	                      * NUL-terminated; "" for releases and keys
	                      * that type nothing */
};

/* pointer_motion, pointer_enter and pointer_leave. */
struct shmframe_pointer_event {
	uint64_t time_ns;
	double x, y;
	uint32_t buttons;    /* held */
	uint32_t modifiers;
};

struct shmframe_button_event {
	uint64_t time_ns;
	double x, y;
	uint32_t button;     /* enum shmframe_button */
	int pressed;         /* 1 pressed, 0 released */
	uint32_t buttons;    /* held after this event */
	uint32_t modifiers;
};

/* The wheel (or a touchpad's scrolling): dy > 0 away from the user
 * (scroll up), dx > 0 to the right, in notches (1.0 a click of a wheel;
 * finer for high-resolution wheels), and the same in 1/120 notches. */
struct shmframe_axis_event {
	uint64_t time_ns;
	double dx, dy;
	int32_t dx120, dy120;
};

/*
 * Structs that grow
 *
 * struct shmframe_options and struct shmframe_surface_listener are
 * allocated by the caller, and later versions add members at their end
 * (never in between, never changing one).  So that the library never reads
 * or writes past the struct a program has, it is always told its size:
 * shmframe_options_init(), shmframe_connect() and
 * shmframe_surface_set_listener() are macros that pass sizeof the struct
 * as this header declares it to shmframe_options_init_sized(),
 * shmframe_connect_sized() and shmframe_surface_set_listener_sized().
 * Programs call the macros as they always did.  A program built against
 * the 1.0 header calls the functions of those three names, which stay in
 * the library and read and write exactly the 1.0 structs.  (Taking the
 * address of one, or calling (shmframe_connect)(...) in parentheses, also
 * gets the 1.0 function.)
 *
 * The rules for a size the library did not expect:
 * - A member is there when the size covers it whole.  One past the size
 *   is treated as absent: an option takes its default (as
 *   shmframe_options_init() sets it), a callback counts as NULL.  Every
 *   member added later has zero, or NULL, mean "as before".
 * - A struct larger than this library knows (a program built against a
 *   newer header): shmframe_options_init_sized() sets the members it
 *   knows and zeroes the rest; shmframe_connect_sized() fails with -E2BIG
 *   when a byte it does not know is not zero (an option it cannot honour
 *   is not silently dropped); the listener's unknown callbacks are never
 *   called (this library has no such events).
 */

/*
 * Connection options.  Always start from shmframe_options_init(), which
 * fills in the defaults and zeroes the rest; then set the fields you care
 * about.
 */
struct shmframe_options {
	/* Transport; the default comes from $SHMFRAME_TRANSPORT ("auto",
	 * "shm" or "socket"), else AUTO. */
	enum shmframe_transport transport;
	/* Shared-memory kind to use (ANY: first that passes the probe). */
	enum shmframe_shm_kind shm;
	/* Name the server shows for this client; NULL: "shmframe". Copied. */
	const char *name;
	/* Buffers per surface, 1..16; default 3. */
	unsigned buffers;
	/* Cookie file for TCP; NULL: $SHMFRAME_AUTH, else the default path.
	 * Read only for TCP (never sent over a Unix socket), and only when it
	 * is a regular file of the user, mode 0600 or stricter, not a link. */
	const char *auth_file;
	/* Receives the library's messages (may be NULL).  msg is valid only
	 * during the call.  Called from within library calls, on the thread
	 * that made them. */
	void (*log)(void *data, enum shmframe_log_level level, const char *msg);
	void *log_data;
	/* Since 1.2.  Signalling; the default comes from $SHMFRAME_SIGNAL
	 * ("auto", "ring" or "socket"), else AUTO. */
	enum shmframe_signal signal;
	/* Since 1.2.  With rings, how long (microseconds, at most 10000) a
	 * blocking call looks at the ring before it sleeps in poll(); 0: not
	 * at all, as before 1.2.  The default (shmframe_options_init, or a
	 * program whose struct ends before this member) is $SHMFRAME_SPIN_US
	 * when it is set, else 0 on machines with fewer than 4 online CPUs
	 * and 50 on the others. */
	unsigned spin_us;
	/* Since 1.4.  Compression of socket pixels (presents and inline
	 * readbacks); the default comes from $SHMFRAME_COMPRESS ("auto",
	 * "none", "lz4" or "zstd"), else AUTO.  A codec the server does not
	 * offer (protocol before 2.3, or built without it) is not used: the
	 * reason says so. */
	enum shmframe_compress compress;
};

/*
 * Callbacks for events on a surface; any member may be NULL.  They are
 * called from shmframe_dispatch() and from the blocking calls
 * (shmframe_acquire, shmframe_roundtrip, shmframe_readback), on the calling
 * thread.  A callback may present or acquire on its surface but must not
 * destroy it or disconnect.
 */
struct shmframe_surface_listener {
	/* The frame with this serial reached the display at time_ns
	 * (CLOCK_MONOTONIC of the server's host); discarded != 0 when it was
	 * replaced before it was shown. */
	void (*presented)(void *data, struct shmframe_surface *surface,
	                  uint32_t serial, uint64_t time_ns, int discarded);
	/* The buffer presented with this serial is free to draw into again. */
	void (*released)(void *data, struct shmframe_surface *surface,
	                 uint32_t serial);
	/* The viewer's window was closed: the surface shows nothing anymore.
	 * The surface stays valid until shmframe_surface_destroy(). */
	void (*closed)(void *data, struct shmframe_surface *surface);

	/* Since 1.3: the events of shmframe_surface_select_input(). */
	void (*key)(void *data, struct shmframe_surface *surface,
	            const struct shmframe_key_event *event);
	void (*pointer_motion)(void *data, struct shmframe_surface *surface,
	                       const struct shmframe_pointer_event *event);
	void (*pointer_button)(void *data, struct shmframe_surface *surface,
	                       const struct shmframe_button_event *event);
	void (*pointer_axis)(void *data, struct shmframe_surface *surface,
	                     const struct shmframe_axis_event *event);
	/* The pointer came over the surface, or left it. */
	void (*pointer_enter)(void *data, struct shmframe_surface *surface,
	                      const struct shmframe_pointer_event *event);
	void (*pointer_leave)(void *data, struct shmframe_surface *surface,
	                      const struct shmframe_pointer_event *event);
	/* The window got (focused 1) or lost (0) the keyboard focus. */
	void (*focus)(void *data, struct shmframe_surface *surface, int focused,
	              uint64_t time_ns);
	/* The window now shows width x height surface pixels: the size at
	 * which the surface would be shown 1:1.  The client may answer with
	 * shmframe_surface_resize(surface, width, height, serial); one that
	 * does not keeps its size and the viewer scales it.  Sent once
	 * when CONFIGURE is selected, then at every change of the window. */
	void (*configure)(void *data, struct shmframe_surface *surface,
	                  uint32_t width, uint32_t height, uint32_t serial);
};

/* Fills *opts with the defaults described above (the 1.0 struct; see
 * "Structs that grow" for the macro of this name). */
SHMFRAME_EXPORT void shmframe_options_init(struct shmframe_options *opts);

/* Fills the size bytes at opts: the defaults for the members they hold
 * whole, zero everywhere else.  NULL is allowed (nothing happens). */
SHMFRAME_EXPORT void shmframe_options_init_sized(struct shmframe_options *opts,
                                                 size_t size);

#define shmframe_options_init(opts) \
	shmframe_options_init_sized((opts), sizeof(struct shmframe_options))

/*
 * Connects, shakes hands and chooses the transport (blocking).
 * addr: "unix:/path", "tcp:HOST:PORT" or ":N"; NULL means
 * $SHMFRAME_SERVER, else ":0".  opts may be NULL for the defaults.
 * Nothing is sent before the server is known to be the user's (or
 * root's): for ":N" the runtime directory must be the user's alone and the
 * listener (SO_PEERCRED) the user or root; for "unix:PATH" the listener
 * must be the user, root, or the uid in $SHMFRAME_SERVER_UID (a server of
 * another user that admits this one with --allow-uid).
 * Returns a connection that the caller frees with shmframe_disconnect(),
 * also when it failed: check shmframe_conn_error().  Returns NULL only
 * when memory for the handle itself cannot be allocated.
 */
SHMFRAME_EXPORT struct shmframe_conn *
shmframe_connect(const char *addr, const struct shmframe_options *opts);

/* shmframe_connect() with opts of size bytes (ignored when opts is NULL);
 * the options are read before anything else is done, and not kept. */
SHMFRAME_EXPORT struct shmframe_conn *
shmframe_connect_sized(const char *addr, const struct shmframe_options *opts,
                       size_t size);

#define shmframe_connect(addr, opts) \
	shmframe_connect_sized((addr), (opts), sizeof(struct shmframe_options))

/* Closes the connection and frees every surface, buffer and segment made
 * from it.  NULL is allowed.  A frame still held for the link (see
 * shmframe_present) is dropped: shmframe_roundtrip() first sends it. */
SHMFRAME_EXPORT void shmframe_disconnect(struct shmframe_conn *conn);

/* 0 while the connection is usable, else the negative errno that broke it. */
SHMFRAME_EXPORT int shmframe_conn_error(const struct shmframe_conn *conn);

/* Text of the first error on this connection (the server's ERROR text when
 * it sent one), or "" when there is none.  Valid until the next call on
 * conn. */
SHMFRAME_EXPORT const char *shmframe_last_error(const struct shmframe_conn *conn);

/* Message for a negative error code returned by this library. */
SHMFRAME_EXPORT const char *shmframe_strerror(int error);

/* Transport in use: SHMFRAME_TRANSPORT_SHM or SHMFRAME_TRANSPORT_SOCKET. */
SHMFRAME_EXPORT enum shmframe_transport
shmframe_transport(const struct shmframe_conn *conn);

/* Kind of shm in use (SHMFRAME_SHM_ANY when the socket is used). */
SHMFRAME_EXPORT enum shmframe_shm_kind
shmframe_shm_kind(const struct shmframe_conn *conn);

/* "shm/memfd", "shm/posix", "shm/sysv" or "socket"; static storage. */
SHMFRAME_EXPORT const char *shmframe_transport_name(const struct shmframe_conn *conn);

/* Why this transport: the probe outcome of each kind tried, e.g.
 * "memfd: no fd received; posix: ok".  Valid as long as conn. */
SHMFRAME_EXPORT const char *shmframe_transport_reason(const struct shmframe_conn *conn);

/* Signalling in use once connected: SHMFRAME_SIGNAL_RING or
 * SHMFRAME_SIGNAL_SOCKET (since 1.2). */
SHMFRAME_EXPORT enum shmframe_signal
shmframe_signal(const struct shmframe_conn *conn);

/* Why this signalling, e.g. "rings in a memfd control segment", "the
 * server does not offer rings (protocol 2.0)", the server's refusal of
 * the control segment, or "pixels travel on the socket" (since 1.2).
 * Valid as long as conn. */
SHMFRAME_EXPORT const char *shmframe_signal_reason(const struct shmframe_conn *conn);

/* Since 1.4.  The codec socket frames are sent with now: NONE, LZ4 or
 * ZSTD (NONE over shm).  Under AUTO it may change from frame to frame as
 * the link is measured. */
SHMFRAME_EXPORT enum shmframe_compress
shmframe_compression(const struct shmframe_conn *conn);

/* Since 1.4.  Why that codec, e.g. "lz4: TCP to another host",
 * "none: shared memory", "none: the link (9.1 GB/s) is faster than lz4
 * (1.9 GB/s)", "none: the server offers no codec (protocol 2.2)".  Valid
 * as long as conn. */
SHMFRAME_EXPORT const char *shmframe_compression_reason(const struct shmframe_conn *conn);

/*
 * Since 1.4.  What the connection's frames cost so far.  A struct that
 * grows like the others: shmframe_get_stats() is a macro passing its
 * size, and members a library does not know are left zero.
 */
struct shmframe_stats {
	uint64_t presents;        /* shmframe_present calls that succeeded */
	uint64_t frames_sent;     /* frames that went to the server */
	uint64_t frames_merged;   /* socket frames replaced by a later one
	                           * before they were sent (reported as
	                           * discarded in presented) */
	uint64_t pixel_bytes;     /* raw bytes of the socket frames sent */
	uint64_t payload_bytes;   /* what they took on the socket: blocks and
	                           * their headers (pixel_bytes when raw) */
	uint64_t compress_ns;     /* CPU time spent compressing, summed */
	uint64_t blocks_stored;   /* blocks sent as they were (did not shrink) */
	uint64_t blocks_coded;    /* blocks sent compressed */
};

SHMFRAME_EXPORT int shmframe_get_stats_sized(const struct shmframe_conn *conn,
                                             struct shmframe_stats *stats,
                                             size_t size);
/* The struct as 1.4 has it (what the macro passes a 1.4 program). */
SHMFRAME_EXPORT int shmframe_get_stats(const struct shmframe_conn *conn,
                                       struct shmframe_stats *stats);
#define shmframe_get_stats(conn, stats) \
	shmframe_get_stats_sized((conn), (stats), sizeof *(stats))

/* The socket fd to poll for POLLIN.  Owned by the library: do not read,
 * write or close it.  Call shmframe_flush() first when waiting in poll.
 * With rings, once this was called the library asks the server to make
 * the fd readable for every event (a few bytes each) for the rest of
 * the connection, since the program now waits on it (and when events
 * were already waiting on the ring, the first call sends a SYNC, whose
 * answer makes the fd readable). */
SHMFRAME_EXPORT int shmframe_get_fd(const struct shmframe_conn *conn);

/* Reads whatever events have arrived without blocking and runs their
 * callbacks.  Returns the number of events handled (0 when none) or a
 * negative error.  Since 1.4, over the socket, a PRESENTED that makes
 * room for a frame held for the link sends that frame here, which waits
 * until its bytes are in the kernel (see shmframe_present). */
SHMFRAME_EXPORT int shmframe_dispatch(struct shmframe_conn *conn);

/* Writes out queued requests without blocking.  Returns 0 when all went
 * out, -EAGAIN when some are still queued (poll for POLLOUT), or an error. */
SHMFRAME_EXPORT int shmframe_flush(struct shmframe_conn *conn);

/* Sends a SYNC and waits for its answer, dispatching events meanwhile: on
 * return every earlier request has been handled by the server. */
SHMFRAME_EXPORT int shmframe_roundtrip(struct shmframe_conn *conn);

/*
 * Creates a surface of width x height pixels (blocking: its buffers are
 * made and attached, one round trip).  title may be NULL; it is copied.
 * Returns NULL with errno set on failure (and conn's error set when the
 * connection broke).  Destroy with shmframe_surface_destroy().
 */
SHMFRAME_EXPORT struct shmframe_surface *
shmframe_surface_create(struct shmframe_conn *conn, uint32_t width,
                        uint32_t height, enum shmframe_format format,
                        const char *title);

/* Frees the surface and its buffers; pointers from its buffers become
 * invalid.  NULL is allowed. */
SHMFRAME_EXPORT void shmframe_surface_destroy(struct shmframe_surface *surface);

/* Sets the callbacks (the library keeps the pointer, not a copy: listener
 * must stay valid while set; NULL clears). */
SHMFRAME_EXPORT void
shmframe_surface_set_listener(struct shmframe_surface *surface,
                              const struct shmframe_surface_listener *listener,
                              void *data);

/* The same for a listener struct of size bytes. */
SHMFRAME_EXPORT void
shmframe_surface_set_listener_sized(struct shmframe_surface *surface,
                                    const struct shmframe_surface_listener *listener,
                                    size_t size, void *data);

#define shmframe_surface_set_listener(surface, listener, data) \
	shmframe_surface_set_listener_sized((surface), (listener), \
	                                    sizeof(struct shmframe_surface_listener), \
	                                    (data))

/* Latch (default) or copy; takes effect with the next present (each
 * frame carries its mode, so switching costs nothing).  A buffer the server
 * still latches comes back when the next frame replaces it.  Returns 0, or
 * -EINVAL for an unknown mode, or the connection's error. */
SHMFRAME_EXPORT int shmframe_surface_set_present_mode(struct shmframe_surface *surface,
                                                      enum shmframe_present_mode mode);

/*
 * Since 1.3.  Chooses the events the surface gets from now on (mask: enum
 * shmframe_event_mask bits; 0: none, the default).  Queued like a
 * present, without waiting.  Returns 0, -EINVAL for an unknown bit,
 * -ENOTSUP when the server does not send events (protocol before 2.2;
 * the connection stays usable), or the connection's error.
 */
SHMFRAME_EXPORT int shmframe_surface_select_input(struct shmframe_surface *surface,
                                                  uint32_t mask);

/*
 * Since 1.3.  Gives the surface a new size: its buffers are remade at
 * width x height (new memory; pointers from the old buffers become
 * invalid), the server shows zeros at that size until the next present,
 * and the next present sends the whole surface whatever its damage says.
 * Buffers the server still held come back by themselves.  serial is the
 * configure this answers (the serial its callback gave), or 0.  The same
 * size only acknowledges serial.  Does not wait, so it may be called from
 * the configure callback.  Returns 0 or, leaving the surface as it was:
 * -EINVAL (width or height 0, or a serial the server has not sent or
 * one older than the last answered), -EBUSY (a buffer is acquired:
 * present or discard it first), -EFBIG (beyond the server's
 * max_width/max_height), -ENOTSUP (protocol before 2.2), the errno of
 * making the new memory; or the connection's error (a server limit on
 * surface memory is an ERROR that breaks the connection).
 */
SHMFRAME_EXPORT int shmframe_surface_resize(struct shmframe_surface *surface,
                                            uint32_t width, uint32_t height,
                                            uint32_t serial);

/* 1 once the server reported the surface's window closed. */
SHMFRAME_EXPORT int shmframe_surface_closed(const struct shmframe_surface *surface);

SHMFRAME_EXPORT uint32_t shmframe_surface_width(const struct shmframe_surface *surface);
SHMFRAME_EXPORT uint32_t shmframe_surface_height(const struct shmframe_surface *surface);

/*
 * Takes a free buffer, waiting (dispatching events) until the server
 * releases one.  The buffer holds the image last drawn into it, not
 * necessarily the latest frame.  It belongs to the caller until it is
 * presented or discarded; it stays valid until the surface is destroyed.
 * Returns NULL with errno set on failure: EDEADLK when no buffer can ever
 * come back (the caller holds them all, or as many as the server lets a
 * client have in flight), or the connection's error.
 */
SHMFRAME_EXPORT struct shmframe_buffer *
shmframe_acquire(struct shmframe_surface *surface);

/* Same without waiting: NULL with errno EAGAIN when every buffer is busy. */
SHMFRAME_EXPORT struct shmframe_buffer *
shmframe_try_acquire(struct shmframe_surface *surface);

/* The buffer's pixels (height rows of *stride bytes, stride >= width*4);
 * writable until the buffer is presented.  stride may be NULL. */
SHMFRAME_EXPORT void *shmframe_buffer_pixels(struct shmframe_buffer *buffer,
                                             uint32_t *stride);

/*
 * Presents an acquired buffer as the surface's new content.  damage lists
 * the rectangles that differ from the previous frame (n_damage == 0: the
 * whole surface); they must lie inside the surface.  Over the socket only
 * the damaged pixels are sent, so they must be right.  The buffer goes back
 * to the library: do not touch it until acquired again.  On success returns
 * 0 and stores the frame's serial in *serial (may be NULL).  Errors: -EINVAL
 * (a buffer not acquired from this surface, or damage outside it; nothing
 * is sent and the connection stays usable), or the connection's error.
 * More rectangles than one message holds are sent as their bounding box.
 * Over the socket this call returns once the pixels are written to the
 * kernel, or (since 1.4) copied aside when the link is still busy with
 * the frames before: at most two frames of a surface are on their way at
 * a time, and a frame presented while two are is held until one arrives.
 * A later frame replaces a held one (their damage merged; the replaced
 * serial's presented says discarded), so a slow link shows the latest
 * frame late by a frame or two, never a growing queue of old ones.  The
 * held frame is sent when the PRESENTED that makes room is handled (in
 * shmframe_dispatch() or a blocking call, which then waits until its
 * bytes are in the kernel); shmframe_roundtrip(), shmframe_readback()
 * and shmframe_surface_resize() send it first, shmframe_disconnect()
 * drops it.
 * Over shm, once the request is queued and flushed, or with rings
 * once it is on the request ring (the socket is written only to wake a
 * server that said it sleeps, or when the ring is full).
 */
SHMFRAME_EXPORT int shmframe_present(struct shmframe_surface *surface,
                                     struct shmframe_buffer *buffer,
                                     const struct shmframe_rect *damage,
                                     unsigned n_damage, uint32_t *serial);

/* Puts an acquired buffer back unpresented. */
SHMFRAME_EXPORT void shmframe_buffer_discard(struct shmframe_surface *surface,
                                             struct shmframe_buffer *buffer);

/*
 * Reads the rectangle (x, y, width, height) of what the server holds for
 * the surface into dst (rows of dst_stride bytes) — through shared memory
 * when it is in use, else inline.  Blocking.  Returns 0 or a negative
 * error (-EINVAL for a rectangle outside the surface).
 */
SHMFRAME_EXPORT int shmframe_readback(struct shmframe_surface *surface,
                                      uint32_t x, uint32_t y, uint32_t width,
                                      uint32_t height, void *dst,
                                      uint32_t dst_stride);

/* Library version, "MAJOR.MINOR.PATCH" (for this header "1.4.0"). */
SHMFRAME_EXPORT const char *shmframe_version(void);

#ifdef __cplusplus
}
#endif

#endif
