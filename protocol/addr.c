/*
 * Server addresses and the per-user runtime directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"

static int copy(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int sf__runtime_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/shmframe", xdg);
	else
		n = snprintf(buf, len, "/tmp/shmframe-%u", (unsigned)getuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The checks of sf__runtime_dir_check on what fstat said. */
static int check_stat(const char *dir, const struct stat *st, char *why,
                      size_t len)
{
	unsigned uid = (unsigned)getuid();

	if (S_ISLNK(st->st_mode)) {
		snprintf(why, len, "the runtime directory %s is a symbolic link",
		         dir);
		return -ELOOP;
	}
	if (!S_ISDIR(st->st_mode)) {
		snprintf(why, len, "the runtime directory %s is not a directory",
		         dir);
		return -ENOTDIR;
	}
	if (st->st_uid != uid) {
		snprintf(why, len, "the runtime directory %s belongs to uid %u, "
		         "not to uid %u: someone else made it", dir,
		         (unsigned)st->st_uid, uid);
		return -EPERM;
	}
	if (st->st_mode & 077) {
		snprintf(why, len, "the runtime directory %s is mode 0%03o: others "
		         "may use it (it must be 0700)", dir,
		         (unsigned)(st->st_mode & 0777));
		return -EPERM;
	}
	return 0;
}

int sf__runtime_dir_open(const char *dir, char *why, size_t len)
{
	struct stat st;
	int fd, err;

	/* O_PATH|O_NOFOLLOW opens a symbolic link itself, for fstat to see
	 * it; nothing is read through this fd. */
	fd = open(dir, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, len, "the runtime directory %s: %s", dir,
		         strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		snprintf(why, len, "the runtime directory %s: %s", dir,
		         strerror(-err));
		goto close_fd;
	}
	err = check_stat(dir, &st, why, len);
	if (err)
		goto close_fd;
	return fd;

close_fd:
	close(fd);
	return err;
}

int sf__runtime_dir_check(const char *dir, char *why, size_t len)
{
	int fd = sf__runtime_dir_open(dir, why, len);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int sf__runtime_dir_make(char *why, size_t len)
{
	char dir[108];
	int err = sf__runtime_dir(dir, sizeof dir);

	if (err) {
		snprintf(why, len, "the runtime directory's path is too long");
		return err;
	}
	/* The parent ($XDG_RUNTIME_DIR or /tmp) must exist already; only our
	 * own directory is made, private from the start. */
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		snprintf(why, len, "cannot make the runtime directory %s: %s", dir,
		         strerror(-err));
		return err;
	}
	return sf__runtime_dir_check(dir, why, len);
}

int sf__auth_path(char *buf, size_t len)
{
	const char *env = getenv("SHMFRAME_AUTH");
	char dir[108];
	int n, err;

	if (env && env[0])
		return copy(buf, len, env, strlen(env));
	err = sf__runtime_dir(dir, sizeof dir);
	if (err)
		return err;
	n = snprintf(buf, len, "%s/cookie", dir);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int parse_display(const char *num, struct sf_addr *out)
{
	char dir[108], *end;
	unsigned long n;
	int len;

	errno = 0;
	n = strtoul(num, &end, 10);
	if (!*num || *end || errno || n > 65535)
		return -EINVAL;
	if (sf__runtime_dir(dir, sizeof dir))
		return -ENAMETOOLONG;
	out->kind = SF_ADDR_UNIX;
	out->in_runtime_dir = 1;
	len = snprintf(out->path, sizeof out->path, "%s/%lu", dir, n);
	return len < 0 || (size_t)len >= sizeof out->path ? -ENAMETOOLONG : 0;
}

static int parse_tcp(const char *rest, struct sf_addr *out)
{
	const char *colon = strrchr(rest, ':');
	const char *host = rest, *port;
	size_t hlen;
	char *end;
	unsigned long p;

	if (!colon)
		return -EINVAL;
	port = colon + 1;
	hlen = (size_t)(colon - rest);
	/* [v6::addr]:port */
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (hlen == 0)
		return -EINVAL;
	errno = 0;
	p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p > 65535)
		return -EINVAL;
	out->kind = SF_ADDR_TCP;
	if (copy(out->host, sizeof out->host, host, hlen))
		return -ENAMETOOLONG;
	return copy(out->port, sizeof out->port, port, strlen(port));
}

int sf__addr_parse(const char *text, struct sf_addr *out)
{
	memset(out, 0, sizeof *out);
	if (!text || !*text)
		text = getenv("SHMFRAME_SERVER");
	if (!text || !*text)
		text = ":0";
	if (text[0] == ':')
		return parse_display(text + 1, out);
	if (strncmp(text, "unix:", 5) == 0) {
		if (!text[5])
			return -EINVAL;
		out->kind = SF_ADDR_UNIX;
		return copy(out->path, sizeof out->path, text + 5, strlen(text + 5));
	}
	if (strncmp(text, "tcp:", 4) == 0)
		return parse_tcp(text + 4, out);
	return -EINVAL;
}

void sf__addr_format(const struct sf_addr *a, char *buf, size_t len)
{
	if (a->kind == SF_ADDR_UNIX)
		snprintf(buf, len, "unix:%s", a->path);
	else if (strchr(a->host, ':'))
		snprintf(buf, len, "tcp:[%s]:%s", a->host, a->port);
	else
		snprintf(buf, len, "tcp:%s:%s", a->host, a->port);
}
