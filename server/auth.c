/*
 * The TCP auth cookie, like X's MIT-MAGIC-COOKIE-1: 16 random bytes kept
 * as 32 hex digits and a newline in a file only its owner can read.  A TCP
 * client proves it may connect by sending them in HELLO.  The file is read
 * by protocol/cookie.c, the same code the client library reads it with.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cookie.h"
#include "server-private.h"

/* Writes a new cookie through a temporary file of an unpredictable name,
 * so that a reader never sees half of one, then links it in place:
 * link() never replaces a file that appeared at path meanwhile. */
static int create(const char *path, uint8_t *cookie)
{
	char tmp[300], text[SF_COOKIE_HEX + 2];
	int fd, err, n;

	err = sf__random(cookie, SF_COOKIE_SIZE);
	if (err)
		return err;
	n = snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -ENAMETOOLONG;
	/* mkostemp: O_CREAT|O_EXCL (no symbolic link followed), mode 0600. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	sf__cookie_format(cookie, text);
	if (write(fd, text, SF_COOKIE_HEX + 1) != SF_COOKIE_HEX + 1) {
		err = errno ? -errno : -EIO;
		goto err_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		err = -errno;
		goto err_unlink;
	}
	fd = -1;
	if (link(tmp, path) < 0) {
		err = -errno;
		goto err_unlink;
	}
	unlink(tmp);
	explicit_bzero(text, sizeof text);
	return 0;

err_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	explicit_bzero(text, sizeof text);
	return err;
}

int sfs__auth_load_or_create(struct sf_server *server, const char *path)
{
	char why[200];
	int err;

	snprintf(server->auth_path, sizeof server->auth_path, "%s", path);
	err = sf__cookie_load(path, server->cookie, why, sizeof why);
	if (err && err != -ENOENT) {
		/* Never overwritten: a file we cannot use may be someone's
		 * (or a secret that leaked); its owner decides. */
		sfs__log("the auth file %s %s: refusing to start (remove it and "
		        "a new cookie is made)", path, why);
		return err;
	}
	if (err) {
		err = create(path, server->cookie);
		if (err) {
			sfs__log("cannot create the auth file %s: %s", path,
			        strerror(-err));
			return err;
		}
	}
	server->have_cookie = true;
	return 0;
}

int sfs__auth_check(const struct sf_server *server, const uint8_t *cookie)
{
	uint8_t diff = 0;

	if (!server->have_cookie)
		return 0;
	/* Every byte compared whatever the first difference, so that timing
	 * says nothing about how much of a guess was right. */
	for (size_t i = 0; i < SF_COOKIE_SIZE; i++)
		diff |= (uint8_t)(server->cookie[i] ^ cookie[i]);
	return diff == 0;
}
