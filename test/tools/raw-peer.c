/*
 * The shared part of the test tools that speak the protocol by hand
 * (raw-peer.h): written once so that each tool is only its attack.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
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
#include "ring.h"
#include "segment.h"
#include "wire.h"

void (*sf__peer_on_fatal)(void);

void sf__peer_die(const char *fmt, ...)
{
	void (*on_fatal)(void) = sf__peer_on_fatal;
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	sf__peer_on_fatal = NULL; /* once, even if it fails itself */
	if (on_fatal)
		on_fatal();
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

int sf__peer_send_fds(int fd, const void *buf, size_t len, const int *fds,
                      int nfds)
{
	union {
		char buf[CMSG_SPACE(SF_PEER_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	const uint8_t *p = buf;

	if (nfds < 0 || nfds > SF_PEER_MAX_FDS)
		return -EINVAL;
	while (len > 0) {
		struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (nfds > 0) {
			struct cmsghdr *c;

			memset(&control, 0, sizeof control);
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
			c = CMSG_FIRSTHDR(&msg);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
			memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
		}
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		nfds = 0; /* they rode on the first byte */
		p += n;
		len -= (size_t)n;
	}
	return 0;
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

size_t sf__peer_wait_event(int fd, uint16_t want, uint8_t *msg, size_t cap,
                           struct sf_error *err, char *text)
{
	for (;;) {
		struct sf_header h;
		const char *why = NULL;
		int r;

		if (sf__peer_read_all(fd, msg, sizeof h) < 0)
			die("the server closed the connection");
		r = sf__header_check(msg, sizeof h, SF_MAX_MESSAGE, &h, &why);
		if (r != 1 || h.length > cap)
			die("bad event header: %s", why ? why : "too long");
		if (sf__peer_read_all(fd, msg + sizeof h, h.length - sizeof h) < 0)
			die("the server closed the connection");
		if (h.type == SF_ERROR) {
			text[0] = '\0';
			memset(err, 0, sizeof *err);
			sf__decode_error(msg, h.length, err, text, &why);
			return 0;
		}
		if (h.type == want)
			return h.length;
	}
}

int sf__peer_fill(struct sf_peer *p, size_t want, int timeout_ms)
{
	while (p->end - p->start < want) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		ssize_t n;

		if (p->start > 0) {
			memmove(p->buf, p->buf + p->start, p->end - p->start);
			p->end -= p->start;
			p->start = 0;
		}
		if (poll(&pfd, 1, timeout_ms) == 0)
			return -1;
		n = recv(p->fd, p->buf + p->end, sizeof p->buf - p->end, 0);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -2;
		}
		p->end += (size_t)n;
	}
	return 1;
}

int sf__peer_next_event(struct sf_peer *p, struct sf_header *hdr,
                        uint8_t *msg, int timeout_ms)
{
	int st = sf__peer_fill(p, sizeof *hdr, timeout_ms);

	if (st <= 0)
		return st;
	memcpy(hdr, p->buf + p->start, sizeof *hdr);
	if (hdr->length < 8 || hdr->length > SF_MAX_MESSAGE ||
	    hdr->length % 4 != 0)
		die("server sent a bad header (type 0x%x, length %u)", hdr->type,
		    hdr->length);
	st = sf__peer_fill(p, hdr->length, timeout_ms);
	if (st <= 0)
		return st;
	memcpy(msg, p->buf + p->start, hdr->length);
	p->start += hdr->length;
	if (hdr->type == SF_IMAGE) {
		struct sf_image img;
		uint64_t skip;

		if (sf__decode_image(msg, hdr->length, &img, NULL) != 0)
			die("server sent a bad IMAGE");
		skip = img.segment ? 0 : (uint64_t)img.rect.width * 4 *
		                         img.rect.height;
		while (skip > 0) {
			size_t k;

			st = sf__peer_fill(p, 1, timeout_ms);
			if (st <= 0)
				return st;
			k = p->end - p->start < skip ? p->end - p->start : skip;
			p->start += k;
			skip -= k;
		}
	}
	return 1;
}

void sf__peer_hello_init(struct sf_hello *h)
{
	memset(h, 0, sizeof *h);
	h->magic = SF_MAGIC;
	h->major = SF_VERSION_MAJOR;
	h->minor = SF_VERSION_MINOR;
	h->caps = SF_CAP_ALL;
}

size_t sf__peer_hello(uint8_t *buf, size_t cap, const uint8_t *cookie)
{
	const char *name = program_invocation_short_name;
	struct sf_hello h;

	sf__peer_hello_init(&h);
	if (cookie)
		memcpy(h.cookie, cookie, sizeof h.cookie);
	h.name_len = (uint16_t)strlen(name);
	return sf__peer_encode(buf, cap, SF_HELLO, &h, sizeof h, name,
	                       h.name_len);
}

void sf__peer_segment_msg(struct sf_segment_msg *m, const struct sf_segment *seg,
                          const uint8_t *nonce, uint32_t id, uint8_t flags,
                          uint64_t size)
{
	memset(m, 0, sizeof *m);
	m->id = id;
	m->kind = (uint8_t)seg->kind;
	m->flags = flags;
	m->size = size;
	m->shmid = seg->kind == SF_SHM_SYSV ? seg->shmid : -1;
	memcpy(m->nonce, nonce, sizeof m->nonce);
	if (seg->kind == SF_SHM_POSIX)
		memcpy(m->name, seg->name, sizeof m->name);
}

void sf__peer_control_make(struct sf_peer_control *c, int kind)
{
	int err;

	memset(c, 0, sizeof *c);
	err = sf__segment_create(&c->seg, kind, SF_CONTROL_SIZE);
	if (err)
		die("cannot make a %s control segment: %s",
		    sf__shm_kind_name((uint32_t)kind), strerror(-err));
	memset(c->seg.map, 0, SF_CONTROL_SIZE);
	err = sf__random(c->nonce, sizeof c->nonce);
	if (err)
		die("no random nonce: %s", strerror(-err));
	memcpy(c->seg.map, c->nonce, sizeof c->nonce);
	sf__ring_init(&c->req, c->seg.map, SF_RING_REQUESTS);
	sf__ring_init(&c->ev, c->seg.map, SF_RING_EVENTS);
}

int sf__peer_control_attach(int fd, struct sf_peer_control *c,
                            const uint8_t *challenge)
{
	struct sf_segment_msg m;
	uint8_t buf[128];
	size_t n;

	sf__segment_write_proof(&c->seg, c->nonce, challenge);
	sf__peer_segment_msg(&m, &c->seg, c->nonce, 0, SF_SEGMENT_WRITABLE,
	                     SF_CONTROL_SIZE);
	n = sf__peer_encode(buf, sizeof buf, SF_ATTACH_CONTROL, &m, sizeof m,
	                    NULL, 0);
	if (c->seg.kind == SF_SHM_MEMFD)
		return sf__peer_send_fds(fd, buf, n, &c->seg.fd, 1);
	return sf__peer_send_fds(fd, buf, n, NULL, 0);
}

bool sf__peer_control_push(struct sf_peer_control *c, uint32_t seq,
                           const void *msg, size_t len)
{
	int room = sf__ring_room(&c->req);

	if (room <= 0)
		die("no room on the request ring (%d)", room);
	if (sf__ring_push(&c->req, seq, msg, len) != 0)
		die("a %zu-byte message does not fit a ring entry", len);
	return sf__ring_consumer_asleep(&c->req);
}

void sf__peer_control_free(struct sf_peer_control *c)
{
	sf__segment_close(&c->seg);
	memset(c, 0, sizeof *c);
	sf__segment_init(&c->seg);
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

uint16_t sf__peer_read_request(int s, uint8_t *buf, size_t cap, int *fd)
{
	struct sf_header h;
	size_t got = 0, want = sizeof h;

	if (fd)
		*fd = -1;
	while (got < want) {
		union {
			char b[CMSG_SPACE(4 * sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { buf + got, want - got };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
		                    .msg_control = ctl.b,
		                    .msg_controllen = sizeof ctl.b };
		ssize_t r = recvmsg(s, &m, MSG_CMSG_CLOEXEC);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c;
		     c = CMSG_NXTHDR(&m, c)) {
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; c->cmsg_type == SCM_RIGHTS && i < n; i++) {
				int f;

				memcpy(&f, CMSG_DATA(c) + i * sizeof f, sizeof f);
				if (fd && *fd < 0)
					*fd = f;
				else
					close(f);
			}
		}
		got += (size_t)r;
		if (got == sizeof h) {
			memcpy(&h, buf, sizeof h);
			if (h.length < sizeof h || h.length > cap)
				_exit(1);
			want = h.length;
		}
	}
	return h.type;
}
