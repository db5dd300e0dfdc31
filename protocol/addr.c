/*
 * Server addresses and the per-user runtime directory.
 */
#include <errno.h>
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

int sf__runtime_dir_make(void)
{
	char dir[108];
	struct stat st;
	int err = sf__runtime_dir(dir, sizeof dir);

	if (err)
		return err;
	/* The parent ($XDG_RUNTIME_DIR or /tmp) must exist already; only our
	 * own directory is made, private from the start. */
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return -EPERM;
	if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
		return -errno;
	return 0;
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
