/*
 * The TCP auth cookie, like X's MIT-MAGIC-COOKIE-1: 16 random bytes kept
 * as 32 hex digits and a newline in a file only its owner can read.  A TCP
 * client proves it may connect by sending them in HELLO.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server-private.h"

#define HEX_LEN (2 * SF_COOKIE_SIZE)

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* 0 when buf (n bytes) is exactly 32 hex digits, optionally one newline. */
static int parse_cookie(const char *buf, size_t n, uint8_t *cookie)
{
	if (n == HEX_LEN + 1 && buf[HEX_LEN] == '\n')
		n--;
	if (n != HEX_LEN)
		return -EINVAL;
	for (size_t i = 0; i < SF_COOKIE_SIZE; i++) {
		int hi = hex_value(buf[2 * i]), lo = hex_value(buf[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		cookie[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Reads an existing cookie file.  0, -ENOENT, or -EINVAL when unusable. */
static int load(const char *path, uint8_t *cookie)
{
	char buf[HEX_LEN + 2];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), err;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	n = read(fd, buf, sizeof buf);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	err = parse_cookie(buf, (size_t)n, cookie);
	/* A secret others can read is no secret; ours to fix when we own it. */
	if (!err && (st.st_mode & 077) && st.st_uid == getuid())
		fchmod(fd, 0600);
out:
	close(fd);
	return err;
}

/* Writes a new cookie through a temporary file, so that a reader never
 * sees half of one. */
static int create(const char *path, uint8_t *cookie)
{
	char tmp[300], text[HEX_LEN + 1];
	int fd, err, n;

	err = sf__random(cookie, SF_COOKIE_SIZE);
	if (err)
		return err;
	for (size_t i = 0; i < SF_COOKIE_SIZE; i++)
		snprintf(text + 2 * i, 3, "%02x", cookie[i]);
	text[HEX_LEN] = '\n';
	n = snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, sizeof text) != (ssize_t)sizeof text) {
		err = errno ? -errno : -EIO;
		goto err_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		err = -errno;
		goto err_unlink;
	}
	if (rename(tmp, path) < 0) {
		fd = -1;
		err = -errno;
		goto err_unlink;
	}
	return 0;

err_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return err;
}

int sf__auth_load_or_create(struct sf_server *server, const char *path)
{
	int err;

	snprintf(server->auth_path, sizeof server->auth_path, "%s", path);
	err = load(path, server->cookie);
	if (err && err != -ENOENT && err != -EINVAL) {
		sf__log("cannot read the auth file %s: %s", path, strerror(-err));
		return err;
	}
	if (err) {
		err = create(path, server->cookie);
		if (err) {
			sf__log("cannot create the auth file %s: %s", path,
			        strerror(-err));
			return err;
		}
	}
	server->have_cookie = true;
	return 0;
}

int sf__auth_check(const struct sf_server *server, const uint8_t *cookie)
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
