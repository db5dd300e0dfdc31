/*
 * The TCP auth cookie file: one parser and one loader for both sides, so
 * that a file the server accepts is exactly a file the client accepts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cookie.h"

/* Longer than any cookie file the server writes or an editor leaves
 * (32 digits, a CR LF or two): more is not a cookie file. */
#define MAX_FILE 128

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

int sf__cookie_parse(const char *text, size_t n, uint8_t cookie[SF_COOKIE_SIZE],
                     const char **why)
{
	uint8_t any = 0;

	memset(cookie, 0, SF_COOKIE_SIZE);
	if (n < SF_COOKIE_HEX)
		goto not_hex;
	for (size_t i = SF_COOKIE_HEX; i < n; i++)
		if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ' &&
		    text[i] != '\t')
			goto not_hex;
	for (size_t i = 0; i < SF_COOKIE_SIZE; i++) {
		int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto not_hex;
		cookie[i] = (uint8_t)(hi << 4 | lo);
		any |= cookie[i];
	}
	if (!any) {
		*why = "holds the all-zero cookie, which means \"no cookie\"";
		return -EINVAL;
	}
	return 0;

not_hex:
	memset(cookie, 0, SF_COOKIE_SIZE);
	*why = "is not a cookie (32 hex digits)";
	return -EINVAL;
}

void sf__cookie_format(const uint8_t cookie[SF_COOKIE_SIZE],
                       char text[SF_COOKIE_HEX + 2])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < SF_COOKIE_SIZE; i++) {
		text[2 * i] = digits[cookie[i] >> 4];
		text[2 * i + 1] = digits[cookie[i] & 15];
	}
	text[SF_COOKIE_HEX] = '\n';
	text[SF_COOKIE_HEX + 1] = '\0';
}

int sf__cookie_load(const char *path, uint8_t cookie[SF_COOKIE_SIZE],
                    char *why, size_t len)
{
	char text[MAX_FILE + 1];
	const char *bad = NULL;
	struct stat st;
	size_t n = 0;
	int fd, err;

	memset(cookie, 0, SF_COOKIE_SIZE);
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = -errno;
		if (err == -ELOOP)
			snprintf(why, len, "is a symbolic link");
		else
			snprintf(why, len, "cannot be opened (%s)", strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		snprintf(why, len, "cannot be read (%s)", strerror(-err));
		goto out;
	}
	err = -EINVAL;
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "is not a regular file");
		goto out;
	}
	err = -EPERM;
	if (st.st_uid != getuid()) {
		snprintf(why, len, "belongs to uid %u, not to uid %u",
		         (unsigned)st.st_uid, (unsigned)getuid());
		goto out;
	}
	/* A secret others could read is no secret any more, and one others
	 * could write is theirs: neither is tightened, both are refused. */
	if (st.st_mode & 077) {
		snprintf(why, len, "is mode 0%03o: others may read or change it "
		         "(it must be 0600)", (unsigned)(st.st_mode & 0777));
		goto out;
	}
	while (n < sizeof text) {
		ssize_t r = read(fd, text + n, sizeof text - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			snprintf(why, len, "cannot be read (%s)", strerror(-err));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > MAX_FILE) {
		err = -EINVAL;
		snprintf(why, len, "is not a cookie (longer than %u bytes)", MAX_FILE);
		goto out;
	}
	err = sf__cookie_parse(text, n, cookie, &bad);
	if (err)
		snprintf(why, len, "%s", bad);
out:
	explicit_bzero(text, sizeof text);
	close(fd);
	return err;
}
