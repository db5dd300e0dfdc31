/*
 * Server addresses, the way DISPLAY names an X server:
 *   unix:/path/to/socket   tcp:HOST:PORT   :N (display N, a Unix socket in
 *   the per-user runtime directory)
 */
#ifndef SHMFRAME_ADDR_H
#define SHMFRAME_ADDR_H

#include <stddef.h>

enum sf_addr_kind { SF_ADDR_UNIX = 1, SF_ADDR_TCP = 2 };

struct sf_addr {
	int kind;
	char path[108];  /* SF_ADDR_UNIX */
	char host[256];  /* SF_ADDR_TCP */
	char port[8];
};

/* Parses text; NULL or "" means $SHMFRAME_SERVER, else ":0".
 * Returns 0 or -EINVAL / -ENAMETOOLONG. */
int sf__addr_parse(const char *text, struct sf_addr *out);

/* The per-user directory holding display sockets and the auth cookie:
 * $XDG_RUNTIME_DIR/shmframe if XDG_RUNTIME_DIR is set, else
 * /tmp/shmframe-UID.  0 or -ENAMETOOLONG. */
int sf__runtime_dir(char *buf, size_t len);

/* Creates the runtime directory (and parents that are missing) with mode
 * 0700, and refuses one not owned by us or open to others.  0 or -errno. */
int sf__runtime_dir_make(void);

/* The cookie file: $SHMFRAME_AUTH, else RUNTIME_DIR/cookie. */
int sf__auth_path(char *buf, size_t len);

/* Formats the address back into text ("unix:/…", "tcp:h:p"). */
void sf__addr_format(const struct sf_addr *a, char *buf, size_t len);

#endif
