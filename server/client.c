/*
 * The life cycle of a client connection: admitting it (HELLO, READY,
 * CLOSING), failing it with an ERROR, closing it, and freeing everything
 * the client held however the connection ends.  Reading its input is
 * input.c's job, writing its output output.c's.
 *
 * Admission: a connection that has not said a good HELLO is not yet
 * anybody's, and anybody can open one -- a uid that will be refused, a TCP
 * peer without the cookie.  Such connections have a budget of their own
 * (server->unauth): at most max_clients of them, and an eighth of that (4
 * at least) from one source (uid, IPv4 address or IPv6 /64).  Past it the
 * oldest of them is evicted rather than the newest refused, so that
 * someone who holds them open only delays others by the time their own
 * HELLO takes, instead of locking them out.  Every connection is admitted
 * with the fds it may ever hold reserved (fds.c); when they run out the
 * oldest unauthenticated connection goes too, else the new one.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "server-private.h"

#define SOCKET_BUFFER (4 << 20)
/* How long a closing client may take to read its last events. */
#define CLOSE_GRACE_NS (2ull * 1000000000ull)

static void client_event(struct sf_watch *w, uint32_t events);

/* ---- life cycle ------------------------------------------------------- */

static void describe_peer(struct sf_client *c)
{
	if (c->is_unix) {
		struct ucred cred;
		socklen_t len = sizeof cred;

		c->source[0] = 1;
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
			c->peer_uid = cred.uid;
			memcpy(c->source + 1, &cred.uid, sizeof cred.uid);
			c->peer_pid = cred.pid;
			snprintf(c->peer, sizeof c->peer, "unix, uid %u, pid %d",
			         (unsigned)cred.uid, (int)cred.pid);
		} else {
			/* Unknown credentials are never let in (see HELLO). */
			c->peer_uid = (uint32_t)-2;
			snprintf(c->peer, sizeof c->peer, "unix, uid unknown");
		}
		return;
	}
	{
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		char host[INET6_ADDRSTRLEN] = "?";
		unsigned port = 0;

		c->peer_uid = (uint32_t)-1;
		if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0) {
			if (ss.ss_family == AF_INET) {
				struct sockaddr_in *in = (struct sockaddr_in *)&ss;
				inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
				port = ntohs(in->sin_port);
				c->source[0] = 4;
				memcpy(c->source + 1, &in->sin_addr, 4);
			} else if (ss.ss_family == AF_INET6) {
				struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
				inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
				port = ntohs(in6->sin6_port);
				if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
					c->source[0] = 4;
					memcpy(c->source + 1, in6->sin6_addr.s6_addr + 12, 4);
				} else {
					/* One host usually has a whole /64. */
					c->source[0] = 6;
					memcpy(c->source + 1, in6->sin6_addr.s6_addr, 8);
				}
			}
		}
		snprintf(c->peer, sizeof c->peer, "tcp, %s port %u", host, port);
	}
}

/* ---- admission -------------------------------------------------------- */

static unsigned unauth_total(const struct sf_server *server)
{
	return server->glimits.max_clients;
}

static unsigned unauth_per_source(const struct sf_server *server)
{
	unsigned n = server->glimits.max_clients / 8;

	if (n < 4)
		n = 4;
	return n < server->glimits.max_clients ? n : server->glimits.max_clients;
}

void sfs__client_unauth_leave(struct sf_client *c)
{
	if (list_empty(&c->unauth_link))
		return;
	list_remove(&c->unauth_link);
	c->server->n_unauth--;
}

/* A connection accepted but not admitted (or not set up): a Unix one may
 * already hold fds its peer sent before we accepted it. */
static void close_connection(struct sf_server *server, int fd, bool is_unix)
{
	if (is_unix)
		sfs__close_later(server, fd);
	else
		close(fd);
}

static void evict(struct sf_client *c, const char *why)
{
	if (c->state == SF_CLIENT_HELLO) {
		c->req.type = 0;
		c->req.sequence = 0;
		sfs__client_fail(c, SF_ERR_LIMIT, "closed without a HELLO: %s, and "
		                "it was the oldest", why);
		/* The ERROR is small: it goes now or never. */
		sfs__client_flush(c);
	}
	if (c->fd >= 0)
		sfs__client_close(c, why);
}

/*
 * Makes room for a new connection from source: evicts the oldest
 * unauthenticated connection from the same source while that source is at
 * its budget, else the oldest of all while they are at theirs or the fds
 * are.  A victim still waiting for its HELLO first has its input read: a
 * client that sent its HELLO at once is let in rather than evicted (it is
 * no longer in the way), one that did not goes.  Each turn takes one
 * connection off the list.  False when there is no room and nothing to
 * evict: the new connection is refused.
 */
static bool make_room(struct sf_server *server, const uint8_t *source)
{
	for (;;) {
		struct sf_client *c, *oldest = NULL, *oldest_here = NULL, *victim;
		unsigned here = 0;
		const char *why;

		list_for_each(c, &server->unauth, struct sf_client, unauth_link) {
			if (!oldest)
				oldest = c;
			if (memcmp(c->source, source, sizeof c->source) == 0) {
				if (!oldest_here)
					oldest_here = c;
				here++;
			}
		}
		if (here >= unauth_per_source(server)) {
			victim = oldest_here;
			why = "its source has too many connections without a HELLO";
		} else if (server->n_unauth >= unauth_total(server)) {
			victim = oldest;
			why = "too many connections are without a HELLO";
		} else if (sfs__fds_used(server) + SF_FD_PER_CONN >
		           sfs__fds_budget(server)) {
			victim = oldest;
			why = "the server is out of file descriptors";
		} else if (server->n_clients >= 2 * server->glimits.max_clients +
		                                unauth_total(server)) {
			victim = oldest;
			why = "too many connections";
		} else {
			return true;
		}
		if (!victim) {
			sfs__verbose(server, "a new connection is refused: %s (%u "
			            "connections, %u file descriptors of %u in use)",
			            why, server->n_clients, sfs__fds_used(server),
			            sfs__fds_budget(server));
			return false;
		}
		if (victim->state == SF_CLIENT_HELLO) {
			sfs__input_handle(victim);
			if (victim->fd < 0 || list_empty(&victim->unauth_link))
				continue;
		}
		evict(victim, why);
	}
}

int sfs__client_create(struct sf_server *server, int fd, bool is_unix)
{
	struct sf_client *c;
	int size = SOCKET_BUFFER, one = 1, err;

	c = calloc(1, sizeof *c);
	if (!c) {
		close_connection(server, fd, is_unix);
		return -ENOMEM;
	}
	c->server = server;
	sf__in_init(&c->in.q, SF_IN_CAP);
	if (sf__in_reserve(&c->in.q, SF_IN_CAP) < 0 ||
	    sfs__inflight_init(c) < 0) {
		err = -ENOMEM;
		goto err_in;
	}
	c->fd = fd;
	c->is_unix = is_unix;
	c->state = SF_CLIENT_HELLO;
	list_init(&c->link);
	list_init(&c->unauth_link);
	list_init(&c->backlog_link);
	list_init(&c->flush_link);
	list_init(&c->fd_wait_link);
	list_init(&c->rings.link);
	sfs__out_init(c);
	list_init(&c->res.segments);
	list_init(&c->res.surfaces);
	/* Not memfds: never closed here (fdpass.h, fds.c). */
	c->in.q.fdq.dispose = sfs__close_later_cb;
	c->in.q.fdq.dispose_data = server;
	/* Frames are large: let a whole one sit in the socket buffers.  The
	 * kernel caps these at its rmem_max/wmem_max; that is fine. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	if (!is_unix)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	describe_peer(c);
	if (!make_room(server, c->source)) {
		err = 0;
		goto err_in;
	}
	err = sfs__loop_add(server->loop, &c->watch, fd, SF_LOOP_READ,
	                   client_event, c);
	if (err)
		goto err_in;
	c->id = ++server->next_client_id;
	c->close_deadline = sfs__now_ns() + server->glimits.timeout_ns;
	list_append(&server->clients, &c->link);
	server->n_clients++;
	list_append(&server->unauth, &c->unauth_link);
	server->n_unauth++;
	return 0;

err_in:
	sfs__inflight_fini(c);
	sf__in_free(&c->in.q);
	close_connection(server, fd, is_unix);
	free(c);
	return err;
}

/* Frees the surfaces, segments, fds and pending pixels the client held. */
static void release_resources(struct sf_client *c)
{
	c->payload.active = false;
	sfs__payload_free(c);
	/* Rows of surfaces about to go cannot be sent anymore. */
	if (sfs__out_has_rows(c))
		sfs__out_clear(c);
	/* Each call unlinks the head (a segment is listed while attached). */
	while (!list_empty(&c->res.surfaces))
		sfs__surface_destroy(list_first(&c->res.surfaces, struct sf_surface,
		                               link));
	while (!list_empty(&c->res.segments))
		sfs__shmseg_detach(list_first(&c->res.segments, struct sf_shmseg,
		                              link));
	sfs__rings_stop(c);
	sf__fdq_clear(&c->in.q.fdq);
	c->in.paused = false;
}

void sfs__client_close(struct sf_client *c, const char *why)
{
	struct sf_server *server = c->server;

	if (c->fd < 0)
		return;
	if (c->state == SF_CLIENT_READY)
		sfs__verbose(server, "client %u \"%s\" disconnected (%s)", c->id,
		            c->name, why);
	else if (c->state == SF_CLIENT_HELLO)
		sfs__verbose(server, "connection %u (%s) closed before HELLO (%s)",
		            c->id, c->peer, why);
	release_resources(c);
	sfs__out_clear(c);
	sfs__loop_remove(server->loop, &c->watch);
	/* Fds the peer sent and we did not read are freed with the socket. */
	close_connection(server, c->fd, c->is_unix);
	c->fd = -1;
	sfs__client_unauth_leave(c);
	list_remove(&c->backlog_link);
	list_remove(&c->flush_link);
	list_remove(&c->fd_wait_link);
	list_remove(&c->link);
	list_append(&server->dead, &c->link);
	server->n_clients--;
	if (server->accept_paused)
		sfs__listeners_pause(server, false);
}

void sfs__clients_reap(struct sf_server *server)
{
	while (!list_empty(&server->dead)) {
		struct sf_client *c = sf_container_of(list_pop(&server->dead),
		                                      struct sf_client, link);

		sfs__inflight_fini(c);
		sf__in_free(&c->in.q);
		free(c);
	}
}

void sfs__clients_close_all(struct sf_server *server)
{
	/* Closing moves the head to server->dead (every listed client still
	 * has its fd). */
	while (!list_empty(&server->clients))
		sfs__client_close(list_first(&server->clients, struct sf_client,
		                            link), "server shutting down");
}

void sfs__client_update_interest(struct sf_client *c)
{
	uint32_t ev = 0;

	if (c->fd < 0)
		return;
	if (!c->in.paused && !c->in.eof && list_empty(&c->fd_wait_link))
		ev |= SF_LOOP_READ;
	if (sfs__out_pending(c))
		ev |= SF_LOOP_WRITE;
	sfs__loop_modify(c->server->loop, &c->watch, ev);
}

/* Enters CLOSING: the client's resources go now; the connection stays
 * until its output is out (or the grace period ends). */
static void begin_closing(struct sf_client *c)
{
	release_resources(c);
	c->state = SF_CLIENT_CLOSING;
	/* Whatever arrives now is thrown away, fds included. */
	c->in.q.fdq.limit = 0;
	c->close_deadline = sfs__now_ns() + CLOSE_GRACE_NS;
	c->out.deferred_error = 0;
	list_remove(&c->backlog_link);
	sfs__client_want_flush(c);
}

int sfs__client_fail(struct sf_client *c, uint32_t code, const char *fmt, ...)
{
	struct sf_error ev = { .code = code };
	char text[SF_MAX_TEXT + 1];
	const char *type_name = sf__type_name(c->req.type);
	va_list ap;
	int n = 0;

	if (c->fd < 0 || c->state == SF_CLIENT_CLOSING)
		return -1;
	if (c->req.type && strcmp(type_name, "unknown") != 0)
		n = snprintf(text, sizeof text, "%s: ", type_name);
	else if (c->req.type)
		n = snprintf(text, sizeof text, "request type 0x%04x: ",
		             (unsigned)c->req.type);
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
	va_end(ap);
	if (c->req.type) {
		ev.sequence = c->req.sequence;
		ev.request_type = c->req.type;
	}
	sfs__verbose(c->server, "client %u \"%s\": error %s: %s", c->id, c->name,
	            sf__error_name(code), text);
	/* Rows already partly written cannot be taken back, and the client
	 * would read the ERROR as pixels: then it only gets the close. */
	if (sfs__out_has_rows(c)) {
		sfs__client_close(c, "error during a readback");
		return -1;
	}
	begin_closing(c);
	ev.text_len = (uint16_t)strlen(text);
	sfs__out_message(c, SF_ERROR, &ev, sizeof ev, text, ev.text_len);
	return -1;
}

/* The peer closed its side: answer what it sent, then close. */
void sfs__client_finish(struct sf_client *c)
{
	c->in.eof = true;
	if (!sfs__out_pending(c)) {
		sfs__client_close(c, "end of stream");
		return;
	}
	if (c->state == SF_CLIENT_READY)
		sfs__verbose(c->server, "client %u \"%s\" disconnected", c->id,
		            c->name);
	begin_closing(c);
	sfs__client_update_interest(c);
}
/* ---- flushing --------------------------------------------------------- */

void sfs__client_want_flush(struct sf_client *c)
{
	if (c->fd >= 0 && list_empty(&c->flush_link))
		list_append(&c->server->flush, &c->flush_link);
}

void sfs__client_flush(struct sf_client *c)
{
	int err;

	/* Before it leaves the list: a NOTIFY queued now is written now. */
	sfs__ring_notify(c);
	list_remove(&c->flush_link);
	if (c->fd < 0)
		return;
	if (c->out.deferred_error && c->state != SF_CLIENT_CLOSING) {
		c->req.type = c->out.deferred_type;
		sfs__client_fail(c, c->out.deferred_error, "%s", c->out.deferred_text);
		if (c->fd < 0)
			return;
	}
	err = sfs__out_write(c);
	if (err) {
		sfs__client_close(c, strerror(-err));
		return;
	}
	sfs__slow_update(c);
	if (c->state == SF_CLIENT_CLOSING && !sfs__out_pending(c)) {
		if (c->in.eof) {
			sfs__client_close(c, "closed");
			return;
		}
		/* Everything is out: say so with a FIN, and keep reading until
		 * the peer closes too, so that closing with its unread requests
		 * in our buffer does not reset the connection (over TCP a reset
		 * can destroy the ERROR before the peer reads it). */
		if (!c->out.shut_wr) {
			shutdown(c->fd, SHUT_WR);
			c->out.shut_wr = true;
		}
	}
	sfs__client_update_interest(c);
}

void sfs__client_pause_input(struct sf_client *c, bool pause)
{
	c->in.paused = pause;
	sfs__client_update_interest(c);
	/* While we do not read, the peer cannot be late. */
	sfs__slow_update(c);
	if (!pause && c->in.q.len && c->state != SF_CLIENT_CLOSING &&
	    list_empty(&c->backlog_link))
		list_append(&c->server->backlog, &c->backlog_link);
}

static void client_event(struct sf_watch *w, uint32_t events)
{
	struct sf_client *c = w->data;

	if (events & SF_LOOP_WRITE) {
		sfs__client_flush(c);
		if (c->fd < 0)
			return;
	}
	if (events & SF_LOOP_READ) {
		if (c->state == SF_CLIENT_CLOSING)
			sfs__input_drain(c);
		else if (list_empty(&c->backlog_link))
			sfs__input_handle(c);
		else
			c->in.readable = true;
		/* Else its turn comes from the backlog in this iteration, and
		 * reads the socket too: one turn per iteration, not two while
		 * the others get one. */
	}
}
