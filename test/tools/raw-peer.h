/*
 * What the test tools that speak the protocol by hand share: a fatal
 * error, whole-buffer I/O, encoding, HELLO and connecting to an address.
 * Every failure of these helpers ends the tool with status 1 and a line
 * "PROGRAM: why" on stderr, except where a return value says otherwise.
 */
#ifndef SHMFRAME_TEST_RAW_PEER_H
#define SHMFRAME_TEST_RAW_PEER_H

#include <stddef.h>
#include <stdint.h>

/* Prints "PROGRAM: " and the message on stderr, then exit(1). */
void sf__peer_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
#define die(...) sf__peer_die(__VA_ARGS__)

/* Encodes a message (sf__encode); a message that does not fit is fatal. */
size_t sf__peer_encode(uint8_t *buf, size_t cap, uint16_t type,
                       void *fixed, size_t fixed_size, const void *tail,
                       size_t tail_len);
/* Writes all of buf (pass_fd >= 0 rides on its first byte). */
void sf__peer_write_all(int fd, const void *buf, size_t len, int pass_fd);
/* Encodes a message and writes it (pass_fd >= 0 rides on its first byte). */
void sf__peer_send(int fd, uint16_t type, void *fixed, size_t fixed_size,
                   const void *tail, size_t tail_len, int pass_fd);
/* Reads exactly len bytes: 0, or -1 when the stream ended first. */
int sf__peer_read_all(int fd, void *buf, size_t len);
/* A HELLO of this protocol version, named after the program, with the
 * cookie (NULL: zeros, as over a Unix socket).  Returns its length. */
size_t sf__peer_hello(uint8_t *buf, size_t cap, const uint8_t *cookie);
/* Connects to unix:PATH or tcp:HOST:PORT with socket(2) flags
 * (SOCK_NONBLOCK: a connect in progress counts as made); TCP binds to
 * source_ip first when it is not NULL.  The fd, or -1 with errno when
 * no socket could be made or the connection was refused (a flood of
 * connections may meet either); a bad address is fatal. */
int sf__peer_connect(const char *addr, int sock_flags, const char *source_ip);

#endif
