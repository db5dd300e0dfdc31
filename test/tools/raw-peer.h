/*
 * What the tests and test tools that speak the protocol by hand share: a
 * fatal error, whole-buffer I/O, fds riding on a message, a buffered
 * reader of events with a timeout, encoding, HELLO, the message that
 * offers a segment, and connecting to an address.  Every failure of
 * these helpers ends the program with status 1 and a line "PROGRAM: why"
 * on stderr, except where a return value says otherwise.
 */
#ifndef SHMFRAME_TEST_RAW_PEER_H
#define SHMFRAME_TEST_RAW_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"
#include "segment.h"
#include "wire.h"

/* Prints "PROGRAM: " and the message on stderr, runs sf__peer_on_fatal
 * (a test's cleanup) when set, then exit(1). */
void sf__peer_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
#define die(...) sf__peer_die(__VA_ARGS__)
extern void (*sf__peer_on_fatal)(void);

/* Encodes a message (sf__encode); a message that does not fit is fatal. */
size_t sf__peer_encode(uint8_t *buf, size_t cap, uint16_t type,
                       void *fixed, size_t fixed_size, const void *tail,
                       size_t tail_len);
/* Writes all of buf (pass_fd >= 0 rides on its first byte). */
void sf__peer_write_all(int fd, const void *buf, size_t len, int pass_fd);
/* Encodes a message and writes it (pass_fd >= 0 rides on its first byte). */
void sf__peer_send(int fd, uint16_t type, void *fixed, size_t fixed_size,
                   const void *tail, size_t tail_len, int pass_fd);
/* Writes all of buf with nfds fds (at most SF_PEER_MAX_FDS) riding on
 * its first byte.  0, or -errno (the server may have closed already:
 * that is for the caller to judge). */
#define SF_PEER_MAX_FDS 253
int sf__peer_send_fds(int fd, const void *buf, size_t len, const int *fds,
                      int nfds);
/* A fake server's read of one request into buf (cap bytes; one longer
 * ends the program with status 1): its type, 0 at the end of the stream.
 * The first fd riding on it goes to *fd (-1: none), any other is closed;
 * fd NULL closes them all. */
uint16_t sf__peer_read_request(int s, uint8_t *buf, size_t cap, int *fd);
/* Reads exactly len bytes: 0, or -1 when the stream ended first. */
int sf__peer_read_all(int fd, void *buf, size_t len);

/* Reads events (blocking) until one of type want, whose length it returns
 * (the whole message in msg, cap bytes of room), or an ERROR: then 0,
 * with the ERROR in *err and its text in text (SF_MAX_TEXT + 1 bytes).
 * The rows of an inline IMAGE are left for the caller.  The stream
 * ending, or a header no server sends, is fatal. */
size_t sf__peer_wait_event(int fd, uint16_t want, uint8_t *msg, size_t cap,
                           struct sf_error *err, char *text);

/* A connection whose input is read through a buffer. */
struct sf_peer {
	int fd;
	struct sf_welcome welcome;  /* for the caller to keep */
	uint8_t buf[1 << 17];
	size_t start, end;          /* unread input: buf[start, end) */
};
/* Until want bytes are buffered: 1; 0 at the end of the stream, -1 when
 * nothing came within timeout_ms, -2 when the connection was reset. */
int sf__peer_fill(struct sf_peer *p, size_t want, int timeout_ms);
/* The next event: its header in *hdr, the whole message in msg (room for
 * SF_MAX_MESSAGE); the rows after an inline IMAGE are skipped.  Returns
 * as sf__peer_fill; a header no server may send is fatal. */
int sf__peer_next_event(struct sf_peer *p, struct sf_header *hdr,
                        uint8_t *msg, int timeout_ms);

/* A HELLO of this protocol version with every capability, no cookie and
 * no name (name_len 0). */
void sf__peer_hello_init(struct sf_hello *h);
/* A HELLO of this protocol version, named after the program, with the
 * cookie (NULL: zeros, as over a Unix socket).  Returns its length. */
size_t sf__peer_hello(uint8_t *buf, size_t cap, const uint8_t *cookie);
/* The PROBE or ATTACH_SEGMENT message offering seg, with this nonce (the
 * segment's first bytes), id, flags and size. */
void sf__peer_segment_msg(struct sf_segment_msg *m, const struct sf_segment *seg,
                          const uint8_t *nonce, uint32_t id, uint8_t flags,
                          uint64_t size);
/* A control segment (protocol 2.1) of ours: the segment, zeroed with its
 * nonce at the start, and our side of its rings: we produce requests and
 * consume events.  Nothing checks what we push: a test's hostile client
 * writes what it likes there, or into the segment itself. */
struct sf_peer_control {
	struct sf_segment seg;
	uint8_t nonce[SF_NONCE_SIZE];
	struct sf_ring req;
	struct sf_ring ev;
};
/* Makes one of kind (memfd, posix or sysv), SF_CONTROL_SIZE bytes. */
void sf__peer_control_make(struct sf_peer_control *c, int kind);
/* Writes the proof (the nonce, then this connection's challenge) and
 * sends ATTACH_CONTROL on fd, with the memfd riding on it.  0, or -errno
 * (the server may have closed already). */
int sf__peer_control_attach(int fd, struct sf_peer_control *c,
                            const uint8_t *challenge);
/* Pushes len bytes of msg (at most an entry's message; the header in it
 * may say anything) as request seq; a full ring is fatal.  Returns
 * whether the server said it sleeps (then it must be sent KICK). */
bool sf__peer_control_push(struct sf_peer_control *c, uint32_t seq,
                           const void *msg, size_t len);
/* Unmaps and closes it (and unlinks a POSIX name still there). */
void sf__peer_control_free(struct sf_peer_control *c);

/* Connects to unix:PATH or tcp:HOST:PORT with socket(2) flags
 * (SOCK_NONBLOCK: a connect in progress counts as made); TCP binds to
 * source_ip first when it is not NULL.  The fd, or -1 with errno when
 * no socket could be made or the connection was refused (a flood of
 * connections may meet either); a bad address is fatal. */
int sf__peer_connect(const char *addr, int sock_flags, const char *source_ip);

#endif
