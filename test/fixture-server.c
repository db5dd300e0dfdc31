/*
 * The real server core in-process, on socketpairs (fixture-server.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "display.h"
#include "fixture-server.h"

const struct sf_limits sf_fixture_limits = {
	.max_width = SF_MAX_DIMENSION, .max_height = SF_MAX_DIMENSION,
	.max_surfaces = 64, .max_segments = 64,
	.max_segment_size = 1ull << 30, .max_mapped = 2ull << 30,
	.max_message = SF_MAX_MESSAGE, .max_inflight = 64,
	.max_output = 64ull << 20,
};

const struct sf_server_limits sf_fixture_glimits = {
	.max_clients = 256,
	.max_surface_memory = 4ull << 30,
	.max_surface_memory_total = 8ull << 30,
	.max_mapped_total = 32ull << 30,
	.max_output_total = 256ull << 20,
	.timeout_ns = 10ull * 1000000000ull,
};

int sf_fixture_init(struct sf_fixture *f, const struct sf_limits *limits,
                    const struct sf_server_limits *glimits, uid_t allow_uid)
{
	struct sf_server *server = &f->server;
	int err;

	memset(f, 0, sizeof *f);
	f->allowed_uid = allow_uid;
	server->uid = getuid();
	server->allow_uids = &f->allowed_uid;
	server->n_allow_uids = 1;
	server->limits = limits ? *limits : sf_fixture_limits;
	server->glimits = glimits ? *glimits : sf_fixture_glimits;
	err = sfs__server_init(server);
	if (err < 0)
		return err;
	err = sfs__display_none_create(&server->display);
	if (err < 0)
		sfs__server_fini(server);
	return err;
}

int sf_fixture_connect(struct sf_fixture *f, struct sf_fixture_peer *p,
                       int sndbuf)
{
	int sv[2], err;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	               sv) < 0)
		return -errno;
	if (sndbuf > 0)
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	/* The server owns sv[1] from here on, failed or not. */
	err = sfs__client_create(&f->server, sv[1], true);
	if (err < 0) {
		close(sv[0]);
		return err;
	}
	p->fd = sv[0];
	p->srv_fd = sv[1];
	p->client = sf_container_of(f->server.clients.prev, struct sf_client,
	                            link);
	return 0;
}

struct sf_client *sf_fixture_client(struct sf_fixture *f,
                                    const struct sf_fixture_peer *p)
{
	struct sf_client *c;

	list_for_each(c, &f->server.clients, struct sf_client, link)
		if (c->fd == p->srv_fd && c == p->client)
			return c;
	return NULL;
}

int sf_fixture_run(struct sf_fixture *f, unsigned max_iterations,
                   sf_fixture_drain_fn drain, void *data)
{
	for (unsigned i = 0; i < max_iterations; i++) {
		int r = sfs__server_iterate(&f->server, 0);
		bool got = drain ? drain(data) : false;

		if (r < 0)
			return r;
		if (r == 0 && !got && !sfs__server_busy(&f->server))
			return 0;
	}
	return -ELOOP;
}

ssize_t sf_fixture_send(struct sf_fixture *f, struct sf_fixture_peer *p,
                        const void *buf, size_t len, int fd,
                        unsigned max_full, sf_fixture_drain_fn drain,
                        void *data)
{
	const uint8_t *b = buf;
	size_t done = 0;
	unsigned full = 0;

	while (done < len) {
		struct iovec iov = { .iov_base = (void *)(b + done),
		                     .iov_len = len - done };
		ssize_t n = sf__send_fd(p->fd, &iov, 1, fd);

		if (n == -EINTR)
			continue;
		if (n == -EAGAIN || n == -EWOULDBLOCK) {
			int r;

			if (full++ == max_full)
				break;
			r = sf_fixture_run(f, 1u << 16, drain, data);
			if (r < 0)
				return r;
			continue;
		}
		if (n == -EPIPE || n == -ECONNRESET || n == 0)
			break; /* the server closed its end */
		if (n < 0)
			return n;
		fd = -1; /* it rode on the first byte */
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int sf_fixture_fini(struct sf_fixture *f, char *why, size_t len)
{
	struct sf_server *server = &f->server;
	unsigned clients = server->n_clients;

	sfs__server_fini(server);
	if (clients != 0) {
		snprintf(why, len, "%u clients left after every peer closed",
		         clients);
		return -1;
	}
	if (server->mapped_total != 0 || server->surface_memory_total != 0 ||
	    server->out_total != 0) {
		snprintf(why, len, "%" PRIu64 " segment bytes, %" PRIu64
		         " surface bytes and %" PRIu64 " output bytes still "
		         "counted", server->mapped_total,
		         server->surface_memory_total, server->out_total);
		return -1;
	}
	return 0;
}
