/*
 * Listening sockets: Unix (a path, or display :N in the runtime directory)
 * and TCP.  A stale Unix socket file left by a server that died is
 * replaced; one with a live server behind it is an error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "server-private.h"

/* Deep enough that a peer keeping a few hundred connections pending (the
 * pre-HELLO budget evicts them as fast as they come, client.c) does not
 * overflow the kernel's accept queue: then others' connects would be
 * dropped and retried a second and more later instead of waiting their
 * turn.  The kernel caps it at net.core.somaxconn. */
#define BACKLOG 4096
/* Connections taken per wakeup, so that a burst does not stall the rest. */
#define ACCEPT_BUDGET 16
/* Out of fds, accepting is tried again after this, or when a client goes:
 * fds also come back from the closer threads (fds.c), and ENFILE from
 * other processes closing theirs, with no client of ours to go. */
#define ACCEPT_RETRY_NS (100ull * 1000000ull)
#define ACCEPT_LOG_NS (10ull * 1000000000ull)

static void accept_event(struct sf_watch *w, uint32_t events)
{
	struct sf_listener *l = w->data;
	struct sf_server *server = l->server;

	(void)events;
	for (int i = 0; i < ACCEPT_BUDGET; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Level triggered, the pending connection would wake us
				 * at once again: wait for a client to go, or a while. */
				uint64_t now = sfs__now_ns();

				if (now - server->accept_logged_ns >= ACCEPT_LOG_NS ||
				    server->accept_logged_ns == 0) {
					sfs__log("cannot accept on %s: %s; trying again when a "
					        "client disconnects or in %llu ms", l->text,
					        strerror(errno), ACCEPT_RETRY_NS / 1000000ull);
					server->accept_logged_ns = now;
				}
				sfs__listeners_pause(server, true);
				server->accept_retry_ns = now + ACCEPT_RETRY_NS;
				return;
			}
			sfs__log("accept on %s: %s", l->text, strerror(errno));
			return;
		}
		if (l->accepted)
			l->accepted(l, fd);
		else if (sfs__client_create(server, fd, l->is_unix) < 0)
			sfs__log("cannot set up a connection on %s", l->text);
	}
}

void sfs__listeners_pause(struct sf_server *server, bool pause)
{
	struct sf_listener *l;

	server->accept_paused = pause;
	list_for_each(l, &server->listeners, struct sf_listener, link)
		sfs__loop_modify(server->loop, &l->watch, pause ? 0 : SF_LOOP_READ);
}

int sfs__listeners_retry(struct sf_server *server)
{
	uint64_t now;

	if (!server->accept_paused)
		return -1;
	now = sfs__now_ns();
	if (now >= server->accept_retry_ns) {
		sfs__listeners_pause(server, false);
		return -1;
	}
	return (int)((server->accept_retry_ns - now + 999999) / 1000000);
}

/* 1 when a server answers on path, 0 when nobody does (stale file). */
static int someone_listens(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	r = r == 0 ? 1 : (errno == ECONNREFUSED || errno == ENOENT) ? 0 : -errno;
	close(fd);
	return r;
}

static int open_unix(struct sf_listener *l, const char *path, const char *label,
                     mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, err, r;

	if (strlen(path) >= sizeof sa.sun_path) {
		sfs__log("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		sfs__log("socket: %s", strerror(errno));
		return err;
	}
	r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	if (r < 0 && errno == EADDRINUSE) {
		int live = someone_listens(path);

		if (live != 0) {
			if (label[0] == ':')
				sfs__log("display %s is in use (%s)", label, path);
			else
				sfs__log("%s is in use by another server", path);
			err = -EADDRINUSE;
			goto err_close;
		}
		if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			sfs__log("%s exists and is not a socket", path);
			err = -EEXIST;
			goto err_close;
		}
		/* Left by a server that died: nobody answers on it. */
		unlink(path);
		r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	}
	if (r < 0) {
		err = -errno;
		sfs__log("cannot bind %s: %s", path, strerror(errno));
		goto err_close;
	}
	/* Nobody can connect before listen(): the mode holds from the first
	 * connection on. */
	if (mode && chmod(path, mode) < 0) {
		err = -errno;
		sfs__log("cannot set the mode of %s: %s", path, strerror(errno));
		goto err_unlink;
	}
	if (listen(fd, BACKLOG) < 0) {
		err = -errno;
		sfs__log("cannot listen on %s: %s", path, strerror(errno));
		goto err_unlink;
	}
	if (stat(path, &st) == 0) {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	snprintf(l->path, sizeof l->path, "%s", path);
	snprintf(l->text, sizeof l->text, "unix:%s", path);
	l->fd = fd;
	l->is_unix = true;
	return 0;

err_unlink:
	unlink(path);
err_close:
	close(fd);
	return err;
}

static int open_tcp(struct sf_listener *l, const struct sf_addr *a)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct sf_addr shown = *a;
	int fd = -1, err = 0, one = 1;

	err = getaddrinfo(a->host[0] ? a->host : NULL, a->port, &hints, &res);
	if (err) {
		sfs__log("cannot resolve %s: %s", a->host, gai_strerror(err));
		return -EINVAL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		            SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, BACKLOG) == 0)
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		sfs__log("cannot listen on tcp:%s:%s: %s", a->host, a->port,
		        strerror(-err));
		return err;
	}
	/* Port 0 asks the kernel for one: report the one it gave. */
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		unsigned port = 0;

		if (ss.ss_family == AF_INET)
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(shown.port, sizeof shown.port, "%u", port);
	}
	sf__addr_format(&shown, l->text, sizeof l->text);
	l->fd = fd;
	l->is_unix = false;
	return 0;
}

/* Watches l's socket and makes it the server's; frees l on failure. */
static int listener_start(struct sf_server *server, struct sf_listener *l)
{
	int err = sfs__loop_add(server->loop, &l->watch, l->fd, SF_LOOP_READ,
	                       accept_event, l);

	if (err) {
		sfs__log("cannot watch %s: %s", l->text, strerror(-err));
		close(l->fd);
		if (l->path[0])
			unlink(l->path);
		free(l);
		return err;
	}
	list_append(&server->listeners, &l->link);
	return 0;
}

int sfs__listener_open(struct sf_server *server, const char *addr_text)
{
	struct sf_listener *l;
	struct sf_addr a;
	int err = sf__addr_parse(addr_text, &a);

	if (err) {
		sfs__log("invalid address '%s'", addr_text);
		return err;
	}
	if (addr_text[0] == ':') {
		/* A display number lives in the private runtime directory. */
		char why[300];

		err = sf__runtime_dir_make(why, sizeof why);
		if (err) {
			sfs__log("cannot listen on %s: %s", addr_text, why);
			return err;
		}
	}
	l = calloc(1, sizeof *l);
	if (!l)
		return -ENOMEM;
	l->server = server;
	l->fd = -1;
	err = a.kind == SF_ADDR_UNIX ? open_unix(l, a.path, addr_text, 0)
	                             : open_tcp(l, &a);
	if (err) {
		free(l);
		return err;
	}
	return listener_start(server, l);
}

int sfs__listener_open_unix(struct sf_server *server, const char *path,
                           mode_t mode,
                           void (*accepted)(struct sf_listener *l, int fd),
                           void *data, struct sf_listener **out)
{
	struct sf_listener *l = calloc(1, sizeof *l);
	int err;

	if (!l)
		return -ENOMEM;
	l->server = server;
	l->fd = -1;
	l->accepted = accepted;
	l->data = data;
	err = open_unix(l, path, path, mode);
	if (err) {
		free(l);
		return err;
	}
	err = listener_start(server, l);
	if (err == 0 && out)
		*out = l;
	return err;
}

void sfs__listener_close(struct sf_listener *l)
{
	struct stat st;

	sfs__loop_remove(l->server->loop, &l->watch);
	close(l->fd);
	/* Only our own file: another server may have replaced it since. */
	if (l->path[0] && stat(l->path, &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino)
		unlink(l->path);
	list_remove(&l->link);
	free(l);
}
