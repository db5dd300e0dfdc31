/*
 * The TCP auth cookie file, read the same way by the server and by the
 * client library: 16 bytes written as 32 hex digits (then, optionally,
 * white space such as the newline the server writes), in a regular file of
 * the user that nobody else may read or write.
 */
#ifndef SHMFRAME_COOKIE_H
#define SHMFRAME_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define SF_COOKIE_HEX (2 * SF_COOKIE_SIZE)

/* Parses the n bytes of text into cookie.  0, or -EINVAL with *why set
 * to a static phrase ("is not 32 hex digits", ...).  The all-zero cookie
 * is refused: HELLO uses it to mean "no cookie". */
int sf__cookie_parse(const char *text, size_t n, uint8_t cookie[SF_COOKIE_SIZE],
                     const char **why);

/* The file's text for cookie: 32 lower-case hex digits and a newline,
 * NUL-terminated. */
void sf__cookie_format(const uint8_t cookie[SF_COOKIE_SIZE],
                       char text[SF_COOKIE_HEX + 2]);

/*
 * Loads the cookie file at path.  It is opened without following a
 * symbolic link and without blocking (a FIFO there neither hangs the
 * caller nor counts as a cookie), and must be a regular file owned by the
 * user (getuid) with no permission bits for group or others.
 * Returns 0; -ENOENT when there is no file; else -errno (-ELOOP symbolic
 * link, -EINVAL not a regular file or not a cookie, -EPERM another owner
 * or open to others, or what open/read said), with why (len bytes) set
 * to a phrase saying what is wrong ("is a symbolic link").  cookie is
 * left zero on failure.
 */
int sf__cookie_load(const char *path, uint8_t cookie[SF_COOKIE_SIZE],
                    char *why, size_t len);

#endif
