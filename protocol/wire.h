/*
 * shmframe wire format: the fixed-width structs both sides put on the socket,
 * and the one decode-and-validate function per message.
 *
 * protocol/PROTOCOL.md is the specification; this header must match it byte
 * for byte.  Every multi-byte field is little-endian.  Structs are copied in
 * and out of byte buffers with memcpy, never cast in place, so a message may
 * start at any offset of a receive buffer.
 */
#ifndef SHMFRAME_WIRE_H
#define SHMFRAME_WIRE_H

#include <stddef.h>
#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "shmframe's wire structs are little-endian; add byte swapping for this host"
#endif

#define SF_MAGIC          0x4d524653u /* "SFRM" as little-endian bytes */
/* 2: WELCOME carries the server's challenge, which every segment must
 * hold after the client's nonce (a v1 client could name memory it does
 * not own). */
#define SF_VERSION_MAJOR  2
/* 1: the control segment and its rings (SF_CAP_RING, ATTACH_CONTROL, KICK,
 * NOTIFY; protocol/ring.h).  A 2.0 peer never sees any of it.
 * 2: input and configure events, resizable surfaces (SF_CAP_INPUT,
 * SELECT_INPUT, RESIZE_SURFACE, KEY ... CONFIGURE).  A peer of minor < 2
 * never sees any of it.
 * 3: compressed inline pixels (SF_CAP_LZ4, SF_CAP_ZSTD, PUT_IMAGE's BLOCKS
 * flag, GET_IMAGE's codec flags, IMAGE's BLOCKS flag; struct sf_block).
 * A peer of minor < 3 never sees any of it. */
#define SF_VERSION_MINOR  3

/* Hard protocol limits.  Servers may announce smaller ones in WELCOME. */
#define SF_MAX_MESSAGE    65536u  /* header length field, payload excluded */
#define SF_MAX_NAME       255u    /* client name and surface title, bytes */
#define SF_MAX_TEXT       1024u   /* ERROR and PROBE_RESULT text, bytes */
#define SF_MAX_RECTS      256u    /* damage rectangles per PUT_IMAGE */
#define SF_MAX_DIMENSION  16384u  /* width or height of a surface */
#define SF_NONCE_SIZE     16u
#define SF_CHALLENGE_SIZE 16u
/* A segment starts with its proof: the client's nonce, then the server's
 * challenge (see protocol/PROTOCOL.md, "Shared-memory segments"). */
#define SF_PROOF_SIZE     (SF_NONCE_SIZE + SF_CHALLENGE_SIZE)
#define SF_COOKIE_SIZE    16u
#define SF_SHM_NAME_SIZE  32u     /* POSIX shm name with its NUL */
#define SF_SHM_NAME_PREFIX "/shmframe-"
#define SF_BYTES_PER_PIXEL 4u

/* Message types.  Requests (client to server) are below 0x80, events
 * (server to client) at 0x80 and above. */
enum sf_type {
	SF_HELLO          = 0x01,
	SF_PROBE          = 0x02,
	SF_ATTACH_SEGMENT = 0x03,
	SF_DETACH_SEGMENT = 0x04,
	SF_CREATE_SURFACE = 0x05,
	SF_DESTROY_SURFACE = 0x06,
	SF_PUT_IMAGE      = 0x07,
	SF_GET_IMAGE      = 0x08,
	SF_SYNC           = 0x09,
	SF_KICK           = 0x0a, /* 2.1: look at the request ring */
	SF_ATTACH_CONTROL = 0x0b, /* 2.1: the control segment */
	SF_SELECT_INPUT   = 0x0c, /* 2.2: which events a surface wants */
	SF_RESIZE_SURFACE = 0x0d, /* 2.2: a new size, maybe answering CONFIGURE */

	SF_WELCOME        = 0x81,
	SF_PROBE_RESULT   = 0x82,
	SF_RELEASE        = 0x83,
	SF_PRESENTED      = 0x84,
	SF_IMAGE          = 0x85,
	SF_CLOSED         = 0x86,
	SF_SYNC_DONE      = 0x87,
	SF_ERROR          = 0x88,
	SF_NOTIFY         = 0x89, /* 2.1: look at the event ring */
	SF_KEY            = 0x8a, /* 2.2, and the rest: input and configure */
	SF_POINTER_MOTION = 0x8b,
	SF_POINTER_BUTTON = 0x8c,
	SF_POINTER_AXIS   = 0x8d,
	SF_POINTER_ENTER  = 0x8e,
	SF_POINTER_LEAVE  = 0x8f,
	SF_FOCUS          = 0x90,
	SF_CONFIGURE      = 0x91,
};

/* Capability bits exchanged in HELLO and WELCOME. */
enum sf_cap {
	SF_CAP_SHM_MEMFD = 1u << 0,
	SF_CAP_SHM_POSIX = 1u << 1,
	SF_CAP_SHM_SYSV  = 1u << 2,
	SF_CAP_INLINE    = 1u << 3,
	SF_CAP_ALL       = 0xfu,     /* what HELLO may carry */
	/* 2.1, WELCOME only, and only to a client of minor >= 1: the server
	 * takes ATTACH_CONTROL.  A client never sends it (a 2.0 server would
	 * refuse the HELLO): its minor version says it knows the bit. */
	SF_CAP_RING      = 1u << 4,
	/* 2.2, WELCOME only, and only to a client of minor >= 2: the server
	 * takes SELECT_INPUT and RESIZE_SURFACE and sends input events. */
	SF_CAP_INPUT     = 1u << 5,
	/* 2.3, WELCOME only, and only to a client of minor >= 3: the server
	 * decodes (PUT_IMAGE) and encodes (IMAGE) blocks of this codec. */
	SF_CAP_LZ4       = 1u << 6,
	SF_CAP_ZSTD      = 1u << 7,
};

/* 2.3: how a block of inline pixels is coded (struct sf_block). */
enum sf_codec {
	SF_CODEC_NONE = 0, /* the bytes as they are: data_len == raw_len */
	SF_CODEC_LZ4  = 1, /* one LZ4 block (the raw block format, no frame) */
	SF_CODEC_ZSTD = 2, /* one or more zstd frames */
	SF_CODEC_MAX  = 2,
};

/* SELECT_INPUT mask: the events a surface's client wants (none until it
 * asks). */
enum sf_event_mask {
	SF_EVENT_KEY             = 1u << 0, /* KEY */
	SF_EVENT_POINTER_MOTION  = 1u << 1, /* POINTER_MOTION */
	SF_EVENT_POINTER_BUTTON  = 1u << 2, /* POINTER_BUTTON */
	SF_EVENT_POINTER_AXIS    = 1u << 3, /* POINTER_AXIS */
	SF_EVENT_POINTER_CROSSING = 1u << 4, /* POINTER_ENTER, POINTER_LEAVE */
	SF_EVENT_FOCUS           = 1u << 5, /* FOCUS */
	SF_EVENT_CONFIGURE       = 1u << 6, /* CONFIGURE */
	SF_EVENT_ALL             = 0x7fu,
};

/* Modifier bits of KEY, POINTER_* events. */
enum sf_modifier {
	SF_MOD_SHIFT = 1u << 0,
	SF_MOD_CTRL  = 1u << 1,
	SF_MOD_ALT   = 1u << 2,
	SF_MOD_SUPER = 1u << 3,
	SF_MOD_CAPS  = 1u << 4, /* Caps Lock on */
	SF_MOD_NUM   = 1u << 5, /* Num Lock on */
	SF_MOD_ALTGR = 1u << 6, /* AltGr (Mode_switch) */
	SF_MOD_ALL   = 0x7fu,
};

/* Pointer buttons: 1 left, 2 middle, 3 right, 4 back, 5 forward; held
 * buttons are bit (n - 1) of a buttons field. */
#define SF_BUTTON_MAX 5u
#define SF_BUTTONS_ALL 0x1fu

/* Text a key press typed, UTF-8, at most this many bytes. */
#define SF_KEY_TEXT_SIZE 12u

/* Pointer coordinates are signed 24.8 fixed point surface pixels. */
#define SF_FIXED_ONE 256

enum sf_shm_kind {
	SF_SHM_NONE  = 0,
	SF_SHM_MEMFD = 1,
	SF_SHM_POSIX = 2,
	SF_SHM_SYSV  = 3,
};

enum sf_format {
	SF_FORMAT_ARGB8888 = 1, /* bytes B, G, R, A; alpha meaningful */
	SF_FORMAT_XRGB8888 = 2, /* bytes B, G, R, X; the X byte kept as is */
};

enum sf_present_mode {
	SF_PRESENT_LATCH = 0, /* server keeps the buffer, releases it when replaced */
	SF_PRESENT_COPY  = 1, /* server copies the damage, releases at once */
};

/* PROBE_RESULT status: why a segment could or could not be used. */
enum sf_probe_status {
	SF_PROBE_OK             = 0,
	SF_PROBE_NO_FD          = 1, /* memfd offered but no fd arrived */
	SF_PROBE_NOT_FOUND      = 2, /* no such name or id here, or one the
	                              * client did not prove is its own */
	SF_PROBE_NONCE_MISMATCH = 3, /* mapped, but it is not the client's memory */
	SF_PROBE_REFUSED        = 4, /* kind disabled, limits, or permission */
	SF_PROBE_BAD_SEGMENT    = 5, /* wrong size, missing seals, map failed */
	SF_PROBE_STATUS_MAX     = 5,
};

/* ERROR codes.  Every error ends the connection that caused it. */
enum sf_error_code {
	SF_ERR_NONE         = 0,
	SF_ERR_BAD_MESSAGE  = 1,  /* malformed: length, padding, field range */
	SF_ERR_BAD_MAGIC    = 2,
	SF_ERR_BAD_VERSION  = 3,
	SF_ERR_AUTH         = 4,  /* peer uid or cookie refused */
	SF_ERR_LIMIT        = 5,  /* a per-client or global limit was hit */
	SF_ERR_BAD_SURFACE  = 6,  /* unknown or duplicate surface id */
	SF_ERR_BAD_SEGMENT  = 7,  /* unknown, duplicate or unusable segment */
	SF_ERR_BAD_RECT     = 8,  /* rectangle outside the surface */
	SF_ERR_BAD_BUFFER   = 9,  /* offset/stride outside the segment */
	SF_ERR_NO_FD        = 10, /* message needs an fd, none arrived */
	SF_ERR_UNEXPECTED_FD = 11, /* fds arrived that no message takes */
	SF_ERR_UNKNOWN_TYPE = 12,
	SF_ERR_SEQUENCE     = 13, /* request not allowed in this state */
	SF_ERR_NO_MEMORY    = 14,
	SF_ERR_SLOW         = 15, /* client did not read or write in time */
	SF_ERR_CODE_MAX     = 15,
};

/* SF_PRESENTED flags */
#define SF_PRESENTED_DISCARDED 0x1u /* replaced before it was shown */

/* SF_PUT_IMAGE header flags (the only message whose header flags are not 0) */
#define SF_PUT_IMAGE_COPY 0x1u /* copy this frame and release it at once,
                                * whatever the surface's present mode */
#define SF_PUT_IMAGE_BLOCKS 0x2u /* 2.3, inline only: the payload is blocks
                                  * (struct sf_block), not bare rows */

/* SF_GET_IMAGE header flags (2.3, inline only): the client decodes blocks
 * of this codec; at most one is set. */
#define SF_GET_IMAGE_LZ4  0x1u
#define SF_GET_IMAGE_ZSTD 0x2u
/* SF_IMAGE header flags (2.3): the payload is blocks, of the codec the
 * GET_IMAGE asked for (or NONE). */
#define SF_IMAGE_BLOCKS   0x1u

/*
 * 2.3: a block of an inline payload in blocks.  The payload's raw bytes
 * (rectangle after rectangle, row after row, as without blocks) are cut
 * into blocks of whole rows of one rectangle; each block is this header,
 * then data_len bytes, then zeros to the next multiple of 4.
 * - raw_len: a multiple of the rectangle's row (width * 4), at most the
 *   rows left in it and at most SF_BLOCK_MAX;
 * - NONE: data_len == raw_len; LZ4, ZSTD: 1 <= data_len < raw_len, and
 *   the data decodes to exactly raw_len bytes.
 */
#define SF_BLOCK_MAX (1u << 20)
struct sf_block {
	uint8_t codec;     /* enum sf_codec */
	uint8_t pad[3];    /* zero */
	uint32_t raw_len;
	uint32_t data_len;
};

/* SF_ATTACH_SEGMENT flags */
#define SF_SEGMENT_WRITABLE 0x1u /* server maps it read-write (readback target) */

struct sf_header {
	uint16_t type;
	uint16_t flags;   /* zero unless a message says otherwise (PUT_IMAGE) */
	uint32_t length;  /* whole message incl. header, excl. pixel payload;
	                   * a multiple of 4, at least 8, at most SF_MAX_MESSAGE */
};

struct sf_rect {
	uint32_t x, y, width, height;
};

/* HELLO, followed by name[name_len] padded with zeros to 4 bytes. */
struct sf_hello {
	struct sf_header hdr;
	uint32_t magic;
	uint16_t major, minor;
	uint32_t caps;
	uint8_t cookie[SF_COOKIE_SIZE]; /* all zero when the client has none */
	uint16_t name_len;
	uint16_t pad;
};

struct sf_welcome {
	struct sf_header hdr;
	uint32_t magic;
	uint16_t major, minor;
	uint32_t caps;
	uint32_t client_id;
	uint32_t max_width, max_height;
	uint32_t max_surfaces;     /* per client */
	uint32_t max_segments;     /* per client */
	uint64_t max_segment_size; /* bytes */
	uint64_t max_mapped;       /* bytes mapped per client */
	uint32_t max_message;      /* largest header length accepted */
	uint32_t max_inflight;     /* PUT_IMAGE/GET_IMAGE not yet answered */
	uint64_t max_output;       /* bytes queued to a client before it is dropped */
	/* Random, per connection: the client writes it into every segment
	 * it offers, after the nonce, to prove it may write that memory. */
	uint8_t challenge[SF_CHALLENGE_SIZE];
};

/* PROBE and ATTACH_SEGMENT share one layout.  For memfd the fd travels in
 * SCM_RIGHTS with the first byte of the message. */
struct sf_segment_msg {
	struct sf_header hdr;
	uint32_t id;        /* client-chosen, nonzero (ignored by PROBE) */
	uint8_t kind;       /* enum sf_shm_kind, not NONE */
	uint8_t flags;      /* SF_SEGMENT_* */
	uint16_t pad;
	uint64_t size;      /* bytes, nonzero */
	int32_t shmid;      /* System V id, else -1 */
	uint32_t pad2;
	uint8_t nonce[SF_NONCE_SIZE]; /* first bytes of the segment, then
	                               * the WELCOME challenge */
	char name[SF_SHM_NAME_SIZE];  /* POSIX name, NUL-terminated, else zeros */
};

struct sf_probe_result {
	struct sf_header hdr;
	uint8_t kind;
	uint8_t status;    /* enum sf_probe_status */
	uint16_t text_len; /* followed by text, padded to 4 */
};

struct sf_detach_segment {
	struct sf_header hdr;
	uint32_t id;
	uint32_t pad;
};

/* CREATE_SURFACE, followed by title[title_len] padded to 4. */
struct sf_create_surface {
	struct sf_header hdr;
	uint32_t id;           /* client-chosen, nonzero */
	uint32_t width, height;
	uint32_t format;       /* enum sf_format */
	uint32_t present_mode; /* enum sf_present_mode */
	uint16_t title_len;
	uint16_t pad;
};

struct sf_destroy_surface {
	struct sf_header hdr;
	uint32_t id;
	uint32_t pad;
};

/* PUT_IMAGE, followed by n_rects struct sf_rect (none: the whole surface).
 * segment == 0: the pixels follow the message, rectangle after rectangle,
 * each row width*4 bytes with no padding (the payload, not counted in
 * hdr.length).  Otherwise the buffer is at offset in the segment with the
 * given stride and holds the whole surface image. */
struct sf_put_image {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t serial;   /* chosen by the client, echoed in RELEASE/PRESENTED */
	uint32_t segment;  /* 0 = inline pixels */
	uint32_t buffer;   /* client's buffer id, echoed in RELEASE */
	uint64_t offset;
	uint32_t stride;
	uint32_t n_rects;
};

/* GET_IMAGE: read rect of the surface back.  segment == 0: the pixels come
 * inline after IMAGE; else the server writes them at offset/stride into that
 * segment (attached with SF_SEGMENT_WRITABLE) before sending IMAGE. */
struct sf_get_image {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t serial;
	struct sf_rect rect;
	uint32_t segment;
	uint32_t stride;
	uint64_t offset;
};

struct sf_image {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t serial;
	struct sf_rect rect;
	uint32_t format;
	uint32_t segment;  /* 0: rect.height rows of rect.width*4 bytes follow */
};

struct sf_sync {           /* SYNC and SYNC_DONE */
	struct sf_header hdr;
	uint32_t serial;
	uint32_t pad;
};

struct sf_release {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t buffer;
	uint32_t serial;   /* the PUT_IMAGE whose buffer is free again */
	uint32_t pad;
};

struct sf_presented {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t serial;
	uint32_t flags;    /* SF_PRESENTED_* */
	uint32_t pad;
	uint64_t time_ns;  /* CLOCK_MONOTONIC on the server */
};

struct sf_closed {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t pad;
};

/* SELECT_INPUT (2.2): the events this surface's client wants from now on. */
struct sf_select_input {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t mask;     /* enum sf_event_mask bits */
};

/* RESIZE_SURFACE (2.2).  serial: 0, or the CONFIGURE this answers. */
struct sf_resize_surface {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t width, height;
	uint32_t serial;
};

/* KEY (2.2) */
struct sf_key {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t keycode;   /* USB HID usage, keyboard page (0x07); 0: unknown */
	uint32_t keysym;    /* the key's symbol in the current layout */
	uint32_t modifiers; /* enum sf_modifier bits */
	uint64_t time_ns;   /* CLOCK_MONOTONIC on the server */
	uint8_t state;      /* 1 pressed, 0 released */
	uint8_t repeat;     /* 1: an auto-repeated press */
	uint8_t text_len;   /* <= SF_KEY_TEXT_SIZE; 0 for a release */
	uint8_t pad;
	uint8_t text[SF_KEY_TEXT_SIZE]; /* UTF-8, then zeros */
};

/* POINTER_MOTION, POINTER_ENTER and POINTER_LEAVE (2.2) */
struct sf_pointer {
	struct sf_header hdr;
	uint32_t surface;
	int32_t x, y;       /* 24.8 fixed point surface pixels */
	uint32_t buttons;   /* held: bit (n - 1) for button n */
	uint32_t modifiers;
	uint32_t pad;
	uint64_t time_ns;
};

/* POINTER_BUTTON (2.2) */
struct sf_pointer_button {
	struct sf_header hdr;
	uint32_t surface;
	int32_t x, y;
	uint8_t button;     /* 1 .. SF_BUTTON_MAX */
	uint8_t state;      /* 1 pressed, 0 released */
	uint16_t pad;
	uint32_t buttons;   /* held after this event */
	uint32_t modifiers;
	uint64_t time_ns;
};

/* POINTER_AXIS (2.2): the wheel, in 1/120 of a step (a notch is 120). */
struct sf_pointer_axis {
	struct sf_header hdr;
	uint32_t surface;
	int32_t dx120;      /* > 0: right */
	int32_t dy120;      /* > 0: away from the user (scroll up) */
	uint32_t pad;
	uint64_t time_ns;
};

/* FOCUS (2.2) */
struct sf_focus {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t focused;   /* 1 in, 0 out */
	uint64_t time_ns;
};

/* CONFIGURE (2.2): the window now shows width x height surface pixels. */
struct sf_configure {
	struct sf_header hdr;
	uint32_t surface;
	uint32_t width, height;
	uint32_t serial;    /* nonzero, growing per surface */
	uint64_t time_ns;
};

/* ERROR, followed by text[text_len] padded to 4.  The connection closes
 * after it. */
struct sf_error {
	struct sf_header hdr;
	uint32_t code;          /* enum sf_error_code */
	uint32_t sequence;      /* 1-based number of the request at fault, 0: none */
	uint16_t request_type;  /* its type, 0: none */
	uint16_t text_len;
};

_Static_assert(sizeof(struct sf_header) == 8, "header");
_Static_assert(sizeof(struct sf_rect) == 16, "rect");
_Static_assert(sizeof(struct sf_hello) == 40, "hello");
_Static_assert(sizeof(struct sf_welcome) == 88, "welcome");
_Static_assert(sizeof(struct sf_segment_msg) == 80, "segment");
_Static_assert(sizeof(struct sf_probe_result) == 12, "probe result");
_Static_assert(sizeof(struct sf_detach_segment) == 16, "detach");
_Static_assert(sizeof(struct sf_create_surface) == 32, "create surface");
_Static_assert(sizeof(struct sf_destroy_surface) == 16, "destroy surface");
_Static_assert(sizeof(struct sf_put_image) == 40, "put image");
_Static_assert(sizeof(struct sf_get_image) == 48, "get image");
_Static_assert(sizeof(struct sf_image) == 40, "image");
_Static_assert(sizeof(struct sf_sync) == 16, "sync");
_Static_assert(sizeof(struct sf_release) == 24, "release");
_Static_assert(sizeof(struct sf_presented) == 32, "presented");
_Static_assert(sizeof(struct sf_closed) == 16, "closed");
_Static_assert(sizeof(struct sf_error) == 20, "error");
_Static_assert(sizeof(struct sf_select_input) == 16, "select input");
_Static_assert(sizeof(struct sf_resize_surface) == 24, "resize surface");
_Static_assert(sizeof(struct sf_key) == 48, "key");
_Static_assert(sizeof(struct sf_pointer) == 40, "pointer");
_Static_assert(sizeof(struct sf_pointer_button) == 40, "pointer button");
_Static_assert(sizeof(struct sf_pointer_axis) == 32, "pointer axis");
_Static_assert(sizeof(struct sf_focus) == 24, "focus");
_Static_assert(sizeof(struct sf_configure) == 32, "configure");
_Static_assert(sizeof(struct sf_block) == 12, "block");
_Static_assert(SF_BLOCK_MAX >= SF_MAX_DIMENSION * SF_BYTES_PER_PIXEL,
               "a block holds at least one row of the widest surface");

/*
 * Decoding.  Each sf_decode_* takes one whole message (its header length
 * bytes, as returned by sf__header_check) and fills *out only if every field
 * is in range.  They return 0, or a positive enum sf_error_code; when they
 * fail and why != NULL, *why points at a static sentence saying what was
 * wrong.  Trailing strings and rectangles are copied to caller storage so
 * nothing points into the receive buffer afterwards.
 */

/* Looks at the first avail bytes.  Returns 1 and fills *hdr when a valid
 * header is there, 0 when fewer than 8 bytes are, or SF_ERR_BAD_MESSAGE's
 * negation (-SF_ERR_BAD_MESSAGE) when the header itself is invalid.  max is
 * the largest length accepted (<= SF_MAX_MESSAGE). */
int sf__header_check(const void *buf, size_t avail, uint32_t max,
                    struct sf_header *hdr, const char **why);

/* name must hold SF_MAX_NAME + 1 bytes; it is NUL-terminated. */
int sf__decode_hello(const void *msg, size_t len, struct sf_hello *out,
                    char *name, const char **why);
int sf__decode_welcome(const void *msg, size_t len, struct sf_welcome *out,
                      const char **why);
/* For SF_PROBE, SF_ATTACH_SEGMENT and SF_ATTACH_CONTROL (type checked
 * against hdr; ATTACH_CONTROL must be WRITABLE and SF_CONTROL_SIZE
 * bytes). */
int sf__decode_segment(const void *msg, size_t len, struct sf_segment_msg *out,
                      const char **why);
/* text must hold SF_MAX_TEXT + 1 bytes. */
int sf__decode_probe_result(const void *msg, size_t len,
                           struct sf_probe_result *out, char *text,
                           const char **why);
int sf__decode_detach_segment(const void *msg, size_t len,
                             struct sf_detach_segment *out, const char **why);
/* title must hold SF_MAX_NAME + 1 bytes. */
int sf__decode_create_surface(const void *msg, size_t len,
                             struct sf_create_surface *out, char *title,
                             const char **why);
int sf__decode_destroy_surface(const void *msg, size_t len,
                              struct sf_destroy_surface *out, const char **why);
/* rects must hold SF_MAX_RECTS entries.  Checks each rectangle is non-empty
 * and that x+width, y+height do not overflow; the caller checks them against
 * its surface with sf__rect_inside. */
int sf__decode_put_image(const void *msg, size_t len, struct sf_put_image *out,
                        struct sf_rect *rects, const char **why);
int sf__decode_get_image(const void *msg, size_t len, struct sf_get_image *out,
                        const char **why);
int sf__decode_image(const void *msg, size_t len, struct sf_image *out,
                    const char **why);
/* For SF_SYNC and SF_SYNC_DONE. */
int sf__decode_sync(const void *msg, size_t len, struct sf_sync *out,
                   const char **why);
int sf__decode_release(const void *msg, size_t len, struct sf_release *out,
                      const char **why);
int sf__decode_presented(const void *msg, size_t len, struct sf_presented *out,
                        const char **why);
int sf__decode_closed(const void *msg, size_t len, struct sf_closed *out,
                     const char **why);
/* For SF_KICK and SF_NOTIFY: a header alone. */
int sf__decode_wake(const void *msg, size_t len, const char **why);
/* 2.2.  SELECT_INPUT: surface nonzero, no unknown mask bit. */
int sf__decode_select_input(const void *msg, size_t len,
                           struct sf_select_input *out, const char **why);
/* RESIZE_SURFACE: surface nonzero, 1 <= width, height <= SF_MAX_DIMENSION
 * (the caller checks its own limits and the serial). */
int sf__decode_resize_surface(const void *msg, size_t len,
                             struct sf_resize_surface *out, const char **why);
/* KEY: state and repeat 0 or 1 (repeat only when pressed), text_len <=
 * SF_KEY_TEXT_SIZE and 0 when released, text valid UTF-8 without NUL,
 * zeros after it; no unknown modifier. */
int sf__decode_key(const void *msg, size_t len, struct sf_key *out,
                  const char **why);
/* For SF_POINTER_MOTION, SF_POINTER_ENTER and SF_POINTER_LEAVE (type
 * checked against hdr); no unknown button or modifier bit. */
int sf__decode_pointer(const void *msg, size_t len, struct sf_pointer *out,
                      const char **why);
/* button 1 .. SF_BUTTON_MAX, state 0 or 1, and buttons agreeing with it
 * (a pressed button is held after the event, a released one is not). */
int sf__decode_pointer_button(const void *msg, size_t len,
                             struct sf_pointer_button *out, const char **why);
int sf__decode_pointer_axis(const void *msg, size_t len,
                           struct sf_pointer_axis *out, const char **why);
/* focused 0 or 1. */
int sf__decode_focus(const void *msg, size_t len, struct sf_focus *out,
                    const char **why);
/* width and height 1 .. SF_MAX_DIMENSION, serial nonzero. */
int sf__decode_configure(const void *msg, size_t len, struct sf_configure *out,
                        const char **why);
/* text must hold SF_MAX_TEXT + 1 bytes. */
int sf__decode_error(const void *msg, size_t len, struct sf_error *out,
                    char *text, const char **why);

/*
 * Encoding.  sf__encode writes the fixed part (whose first 8 bytes are the
 * header: type and length are filled in here, flags kept as the caller set
 * them in fixed) followed by
 * tail_len bytes of tail and zero padding to 4 bytes.  Returns the message
 * length, or 0 when it does not fit in cap or exceeds SF_MAX_MESSAGE.
 */
size_t sf__encode(void *buf, size_t cap, uint16_t type, void *fixed,
                 size_t fixed_size, const void *tail, size_t tail_len);

/* Semantic checks shared by both sides; all overflow-safe. */

/* 1 when rect lies inside a width x height surface. */
int sf__rect_inside(const struct sf_rect *r, uint32_t width, uint32_t height);

/* 0 when a width x height image at offset with stride fits in a segment of
 * seg_size bytes (stride >= width*4, stride a multiple of 4), else a
 * positive enum sf_error_code. */
int sf__check_buffer(uint32_t width, uint32_t height, uint64_t offset,
                    uint32_t stride, uint64_t seg_size, const char **why);

/* Bytes of inline payload for these rectangles (n == 0 is not allowed here:
 * pass the whole-surface rectangle).  Returns 0 and sets *size, or
 * SF_ERR_BAD_MESSAGE on overflow. */
int sf__payload_size(const struct sf_rect *rects, uint32_t n, uint64_t *size);

/* Names for messages and diagnostics. */
const char *sf__type_name(uint16_t type);
const char *sf__error_name(uint32_t code);
const char *sf__probe_status_name(uint32_t status);
const char *sf__shm_kind_name(uint32_t kind);

#endif
