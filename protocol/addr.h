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
	/* Parsed from ":N": path is in the runtime directory, which must be
	 * the user's alone before the library connects there. */
	int in_runtime_dir;
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

/* Checks that dir is the user's alone: a directory (not a symbolic
 * link), owned by getuid(), with no permission bits for group or
 * others (0700).  Nothing is changed: one that is not is refused, never
 * fixed, since whoever could enter it may have left something there.
 * 0, or -errno (-ENOENT, -ELOOP, -ENOTDIR, -EPERM) with why (len bytes)
 * set to a sentence naming the directory and what is wrong. */
int sf__runtime_dir_check(const char *dir, char *why, size_t len);
/* The same checks, made on the directory itself (fstat of an O_PATH fd,
 * not following a link), which stays open for what is done in it next:
 * a name looked up under /proc/self/fd/FD is in the directory that was
 * checked, even when its path now leads elsewhere (renamed, replaced,
 * through parents another user may change).  Returns the fd (the caller
 * closes it) or -errno with why set, as above. */
int sf__runtime_dir_open(const char *dir, char *why, size_t len);

/* Creates the runtime directory with mode 0700 when it is missing (its
 * parent must exist), then checks it as sf__runtime_dir_check does.
 * 0 or -errno, with why set on failure. */
int sf__runtime_dir_make(char *why, size_t len);

/* The cookie file: $SHMFRAME_AUTH, else RUNTIME_DIR/cookie. */
int sf__auth_path(char *buf, size_t len);

/* Formats the address back into text ("unix:/…", "tcp:h:p"). */
void sf__addr_format(const struct sf_addr *a, char *buf, size_t len);

#endif
