/*
 * The shared part of the test tools that speak the protocol by hand
 * (raw-peer.h): written once so that each tool is only its attack.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "fdpass.h"
#include "raw-peer.h"
#include "wire.h"

void sf__peer_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

size_t sf__peer_encode(uint8_t *buf, size_t cap, uint16_t type,
                       void *fixed, size_t fixed_size, const void *tail,
                       size_t tail_len)
{
	size_t len = sf__encode(buf, cap, type, fixed, fixed_size, tail,
	                        tail_len);

	if (len == 0)
		die("cannot encode a %s", sf__type_name(type));
	return len;
}

void sf__peer_write_all(int fd, const void *buf, size_t len, int pass_fd)
{
	const uint8_t *p = buf;

	while (len > 0) {
		struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
		ssize_t n = sf__send_fd(fd, &iov, 1, pass_fd);

		if (n == -EINTR)
			continue;
		if (n < 0)
			die("write: %s", strerror((int)-n));
		/* The fd rides on the first byte only. */
		pass_fd = -1;
		p += n;
		len -= (size_t)n;
	}
}

void sf__peer_send(int fd, uint16_t type, void *fixed, size_t fixed_size,
                   const void *tail, size_t tail_len, int pass_fd)
{
	static uint8_t buf[SF_MAX_MESSAGE];

	sf__peer_write_all(fd, buf, sf__peer_encode(buf, sizeof buf, type, fixed,
	                                            fixed_size, tail, tail_len),
	                   pass_fd);
}

int sf__peer_read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET)
			return -1;
		if (n < 0)
			die("read: %s", strerror(errno));
		if (n == 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

size_t sf__peer_hello(uint8_t *buf, size_t cap, const uint8_t *cookie)
{
	const char *name = program_invocation_short_name;
	struct sf_hello h;

	memset(&h, 0, sizeof h);
	h.magic = SF_MAGIC;
	h.major = SF_VERSION_MAJOR;
	h.minor = SF_VERSION_MINOR;
	h.caps = SF_CAP_ALL;
	if (cookie)
		memcpy(h.cookie, cookie, sizeof h.cookie);
	h.name_len = (uint16_t)strlen(name);
	return sf__peer_encode(buf, cap, SF_HELLO, &h, sizeof h, name,
	                       h.name_len);
}

int sf__peer_connect(const char *addr, int sock_flags, const char *source_ip)
{
	struct sf_addr a;
	int fd, r, err;

	if (sf__addr_parse(addr, &a))
		die("bad address '%s'", addr);
	sock_flags |= SOCK_STREAM | SOCK_CLOEXEC;
	if (a.kind == SF_ADDR_UNIX) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", a.path);
		fd = socket(AF_UNIX, sock_flags, 0);
		if (fd < 0)
			return -1;
		r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;

		if (getaddrinfo(a.host, a.port, &hints, &res) != 0)
			die("cannot resolve %s", addr);
		fd = socket(res->ai_family, sock_flags, 0);
		if (fd < 0) {
			err = errno;
			freeaddrinfo(res);
			errno = err;
			return -1;
		}
		if (source_ip && res->ai_family == AF_INET) {
			struct sockaddr_in src = { .sin_family = AF_INET };

			if (inet_pton(AF_INET, source_ip, &src.sin_addr) != 1 ||
			    bind(fd, (struct sockaddr *)&src, sizeof src) < 0)
				die("cannot bind to %s: %s", source_ip,
				    strerror(errno));
		}
		r = connect(fd, res->ai_addr, res->ai_addrlen);
		freeaddrinfo(res);
	}
	if (r == 0 || ((sock_flags & SOCK_NONBLOCK) &&
	               (errno == EINPROGRESS || errno == EAGAIN)))
		return fd;
	err = errno;
	close(fd);
	errno = err;
	return -1;
}
