/*
 * One client connection: reading (messages into a buffer, inline pixels
 * straight into a surface with one recvmsg per batch of rows), the queue
 * of received fds, the life cycle (HELLO, READY, CLOSING), and freeing
 * everything the client held however the connection ends.
 *
 * Fairness: one wakeup handles at most MSG_BUDGET messages, READ_BUDGET
 * bytes of messages, PAYLOAD_BUDGET bytes of inline pixels and requests
 * until COPY_BUDGET bytes of pixels were copied; a client with
 * complete messages left in its buffer goes on the server's backlog and
 * gets its next turn after the others had theirs.
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
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "server-private.h"

#define MSG_BUDGET 16
#define READ_BUDGET (64u << 10)
#define PAYLOAD_BUDGET (8u << 20)
/* Pixels copied by requests (c->copied): as many as inline pixels read.
 * A request copies at most its surface once (surface.c merges damage), so
 * one wakeup costs at most this plus one surface. */
#define COPY_BUDGET PAYLOAD_BUDGET
#define IOV_BATCH 64
#define SOCKET_BUFFER (4 << 20)
/* How long a closing client may take to read its last events. */
#define CLOSE_GRACE_NS (2ull * 1000000000ull)
/* Input thrown away while closing, before we stop being polite. */
#define DISCARD_MAX (4u << 20)
/* A message that has started must complete, or bring this many bytes,
 * within each window of server->glimits.timeout_ns (the same time a new
 * connection has to say HELLO).  A slow sender would otherwise hold a
 * connection and a partly filled surface for as long as it likes; a
 * client idle between messages is fine. */
#define SLOW_MIN_BYTES (64u << 10)

static void client_event(struct sf_watch *w, uint32_t events);
static void handle_input(struct sf_client *c);

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

static void unauth_leave(struct sf_client *c)
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
		c->cur_type = 0;
		c->sequence = 0;
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
			handle_input(victim);
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
	c->in = malloc(SF_IN_CAP);
	c->answers = calloc(server->limits.max_inflight, sizeof *c->answers);
	if (!c->in || !c->answers) {
		err = -ENOMEM;
		goto err_in;
	}
	c->server = server;
	c->fd = fd;
	c->is_unix = is_unix;
	c->state = SF_CLIENT_HELLO;
	list_init(&c->link);
	list_init(&c->unauth_link);
	list_init(&c->backlog_link);
	list_init(&c->flush_link);
	list_init(&c->fd_wait_link);
	list_init(&c->out);
	list_init(&c->segments);
	list_init(&c->surfaces);
	sf__fdq_init(&c->fdq);
	/* Not memfds: never closed here (fdpass.h, fds.c). */
	c->fdq.dispose = sfs__close_later_cb;
	c->fdq.dispose_data = server;
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
	free(c->answers);
	free(c->in);
	close_connection(server, fd, is_unix);
	free(c);
	return err;
}

/* Frees the surfaces, segments, fds and pending pixels the client held. */
static void release_resources(struct sf_client *c)
{
	c->payload_active = false;
	/* Rows of surfaces about to go cannot be sent anymore. */
	if (sfs__out_has_rows(c))
		sfs__out_clear(c);
	/* Each call unlinks the head (a segment is listed while attached). */
	while (!list_empty(&c->surfaces))
		sfs__surface_destroy(list_first(&c->surfaces, struct sf_surface,
		                               link));
	while (!list_empty(&c->segments))
		sfs__shmseg_detach(list_first(&c->segments, struct sf_shmseg, link));
	sf__fdq_clear(&c->fdq);
	c->input_paused = false;
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
	unauth_leave(c);
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

		free(c->answers);
		free(c->in);
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

static void update_interest(struct sf_client *c)
{
	uint32_t ev = 0;

	if (c->fd < 0)
		return;
	if (!c->input_paused && !c->eof && list_empty(&c->fd_wait_link))
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
	c->fdq.limit = 0;
	c->close_deadline = sfs__now_ns() + CLOSE_GRACE_NS;
	c->deferred_error = 0;
	list_remove(&c->backlog_link);
	sfs__client_want_flush(c);
}

int sfs__client_fail(struct sf_client *c, uint32_t code, const char *fmt, ...)
{
	struct sf_error ev = { .code = code };
	char text[SF_MAX_TEXT + 1];
	const char *type_name = sf__type_name(c->cur_type);
	va_list ap;
	int n = 0;

	if (c->fd < 0 || c->state == SF_CLIENT_CLOSING)
		return -1;
	if (c->cur_type && strcmp(type_name, "unknown") != 0)
		n = snprintf(text, sizeof text, "%s: ", type_name);
	else if (c->cur_type)
		n = snprintf(text, sizeof text, "request type 0x%04x: ",
		             (unsigned)c->cur_type);
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof text - (size_t)n, fmt, ap);
	va_end(ap);
	if (c->cur_type) {
		ev.sequence = c->sequence;
		ev.request_type = c->cur_type;
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
static void finish(struct sf_client *c)
{
	c->eof = true;
	if (!sfs__out_pending(c)) {
		sfs__client_close(c, "end of stream");
		return;
	}
	if (c->state == SF_CLIENT_READY)
		sfs__verbose(c->server, "client %u \"%s\" disconnected", c->id,
		            c->name);
	begin_closing(c);
	update_interest(c);
}

/* The type of the message at the head of the input buffer, when at least
 * its first two bytes are there (for ERRORs about a partial message). */
static uint16_t partial_type(const struct sf_client *c)
{
	uint16_t type = 0;

	if (c->in_end - c->in_start >= sizeof type)
		memcpy(&type, c->in + c->in_start, sizeof type);
	return type;
}

/* Names the partial message at the head of the buffer as the request at
 * fault: it is the next one in sequence. */
static void blame_partial(struct sf_client *c)
{
	c->cur_type = partial_type(c);
	if (c->cur_type)
		c->sequence++;
}

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* A connection that did not say HELLO in time, or a message that did not
 * arrive in time: ERROR SLOW. */
static void expire_slow(struct sf_client *c)
{
	double limit = seconds(c->server->glimits.timeout_ns);

	if (c->state == SF_CLIENT_HELLO) {
		c->cur_type = partial_type(c) == SF_HELLO ? SF_HELLO : 0;
		c->sequence = c->cur_type ? 1 : 0;
		sfs__client_fail(c, SF_ERR_SLOW, "no complete HELLO within %g s of "
		                "connecting (%zu bytes arrived)", limit,
		                c->in_end - c->in_start);
		return;
	}
	if (c->input_paused && sfs__out_has_rows(c)) {
		/* Input stopped right after the GET_IMAGE being answered. */
		c->cur_type = SF_GET_IMAGE;
		sfs__client_fail(c, SF_ERR_SLOW, "its pixels are read too slowly: "
		                "%llu bytes taken in the last %g s (at least %u "
		                "bytes, or the rest, must be read every %g s)",
		                (unsigned long long)(c->out_written -
		                                     c->slow_mark_written),
		                limit, SLOW_MIN_BYTES, limit);
		return;
	}
	if (c->payload_active) {
		/* cur_type and sequence still name the PUT_IMAGE. */
		sfs__client_fail(c, SF_ERR_SLOW, "its pixels arrive too slowly: "
		                "%llu bytes in the last %g s, with %llu still "
		                "missing (at least %u bytes, or the rest, must "
		                "arrive every %g s)",
		                (unsigned long long)(c->stream_read - c->slow_mark_read),
		                limit, (unsigned long long)c->payload.left,
		                SLOW_MIN_BYTES, limit);
		return;
	}
	blame_partial(c);
	sfs__client_fail(c, SF_ERR_SLOW, "the message arrives too slowly: %zu "
	                "bytes of it in %g s (a message must complete, or bring "
	                "%u bytes, every %g s)", c->in_end - c->in_start, limit,
	                SLOW_MIN_BYTES, limit);
}

int sfs__clients_expire(struct sf_server *server)
{
	uint64_t now = sfs__now_ns(), next = UINT64_MAX;
	struct sf_list pending;

	/* Failing one client must never derail the walk over the others (see
	 * list_for_each in server-private.h): each goes back to the list
	 * before it is handled, and one dropped meanwhile is not met. */
	list_take_all(&pending, &server->clients);
	while (!list_empty(&pending)) {
		struct sf_client *c = sf_container_of(list_pop(&pending),
		                                      struct sf_client, link);
		uint64_t deadline = c->state == SF_CLIENT_READY ? c->slow_deadline
		                                                : c->close_deadline;

		list_append(&server->clients, &c->link);

		if (deadline == 0)
			continue;
		if (now < deadline) {
			if (deadline < next)
				next = deadline;
			continue;
		}
		if (c->state == SF_CLIENT_CLOSING) {
			sfs__client_close(c, "closing timed out");
			continue;
		}
		expire_slow(c);
		/* Now closing, with a deadline of its own. */
		if (c->fd >= 0 && c->close_deadline < next)
			next = c->close_deadline;
	}
	if (next == UINT64_MAX)
		return -1;
	return (int)((next - now + 999999) / 1000000);
}

/* ---- output ----------------------------------------------------------- */

void sfs__client_want_flush(struct sf_client *c)
{
	if (c->fd >= 0 && list_empty(&c->flush_link))
		list_append(&c->server->flush, &c->flush_link);
}

static void update_slow(struct sf_client *c);

void sfs__client_flush(struct sf_client *c)
{
	int err;

	list_remove(&c->flush_link);
	if (c->fd < 0)
		return;
	if (c->deferred_error && c->state != SF_CLIENT_CLOSING) {
		c->cur_type = c->deferred_type;
		sfs__client_fail(c, c->deferred_error, "%s", c->deferred_text);
		if (c->fd < 0)
			return;
	}
	err = sfs__out_write(c);
	if (err) {
		sfs__client_close(c, strerror(-err));
		return;
	}
	update_slow(c);
	if (c->state == SF_CLIENT_CLOSING && !sfs__out_pending(c)) {
		if (c->eof) {
			sfs__client_close(c, "closed");
			return;
		}
		/* Everything is out: say so with a FIN, and keep reading until
		 * the peer closes too, so that closing with its unread requests
		 * in our buffer does not reset the connection (over TCP a reset
		 * can destroy the ERROR before the peer reads it). */
		if (!c->shut_wr) {
			shutdown(c->fd, SHUT_WR);
			c->shut_wr = true;
		}
	}
	update_interest(c);
}

void sfs__client_pause_input(struct sf_client *c, bool pause)
{
	c->input_paused = pause;
	update_interest(c);
	/* While we do not read, the peer cannot be late. */
	update_slow(c);
	if (!pause && c->in_end > c->in_start && c->state != SF_CLIENT_CLOSING &&
	    list_empty(&c->backlog_link))
		list_append(&c->server->backlog, &c->backlog_link);
}

unsigned sfs__client_inflight(const struct sf_client *c)
{
	const struct sf_surface *s;
	unsigned n = c->answers_live;

	for (const struct sf_list *l = c->surfaces.next; l != &c->surfaces;
	     l = l->next) {
		s = sf_container_of(l, const struct sf_surface, link);
		n += s->present_pending;
	}
	return n;
}

/* ---- fds -------------------------------------------------------------- */

/* How often connections waiting for fds look again. */
#define FD_RETRY_MS 5

/*
 * Before a recvmsg on a Unix connection: it may install up to
 * SF_FDS_PER_MSG_MAX fds, which only the reserve is sure to hold while
 * the fds in use are within the budget.  When they are not (fds that are
 * not memfds wait for the closer threads, fds.c), the connection is not
 * read, nor polled for reading, until they are.  False then.
 */
static bool may_receive(struct sf_client *c)
{
	if (!c->is_unix || sfs__fds_room(c->server))
		return true;
	if (list_empty(&c->fd_wait_link)) {
		list_append(&c->server->fd_wait, &c->fd_wait_link);
		update_interest(c);
	}
	return false;
}

int sfs__clients_fd_retry(struct sf_server *server)
{
	struct sf_list pending;

	if (list_empty(&server->fd_wait))
		return -1;
	if (!sfs__fds_room(server))
		return FD_RETRY_MS;
	/* Polled for reading again: the level-triggered loop reports what
	 * waits in their sockets. */
	list_take_all(&pending, &server->fd_wait);
	while (!list_empty(&pending)) {
		struct sf_client *c = sf_container_of(list_pop(&pending),
		                                      struct sf_client,
		                                      fd_wait_link);

		update_interest(c);
	}
	return -1;
}

int sfs__client_take_fd(struct sf_client *c)
{
	int fd = sf__fdq_take(&c->fdq);

	if (fd >= 0)
		memmove(c->fd_deadline, c->fd_deadline + 1,
		        c->fdq.count * sizeof c->fd_deadline[0]);
	return fd;
}

/* Records where fds that came with the last read belong (see the struct). */
static void note_fds(struct sf_client *c, unsigned before)
{
	for (unsigned i = before; i < c->fdq.count; i++)
		c->fd_deadline[i] = c->stream_read;
}

/*
 * After a read, fds that cannot be kept fail the client at once, whatever
 * message they came with, rather than being held for as long as that
 * message takes to complete: one that is not a memfd; any before WELCOME
 * (HELLO takes none); any that came with inline pixels (with_pixels: the
 * read ended inside them, so the fd came with pixel bytes); more than the
 * queue holds; and fds the kernel could not pass.  The ERROR names the
 * message being received, which they arrived with or just before.
 */
static int check_received(struct sf_client *c, unsigned before,
                          bool with_pixels)
{
	struct sf_fdq *q = &c->fdq;
	bool arrived = q->count > before || q->dropped;

	if (!q->truncated && !q->dropped &&
	    !(arrived && (c->state == SF_CLIENT_HELLO || with_pixels)))
		return 0;
	if (!c->payload_active)
		blame_partial(c);
	if (q->truncated)
		return sfs__client_fail(c, SF_ERR_LIMIT, "file descriptors sent with "
		                       "it were lost: the kernel could not pass them "
		                       "(MSG_CTRUNC; the server is out of file "
		                       "descriptors, or more than %u were sent)",
		                       SF_FDS_PER_MSG_MAX);
	if (q->foreign)
		return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD, "a file descriptor "
		                       "that is not a memfd arrived with it (only "
		                       "memfd segments travel as file descriptors)");
	if (c->state == SF_CLIENT_HELLO)
		return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD, "a file descriptor "
		                       "arrived before the HELLO was answered "
		                       "(HELLO takes none)");
	if (with_pixels)
		return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD, "a file descriptor "
		                       "arrived with its inline pixels (they take "
		                       "none)");
	return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD,
	                       "more than %u file descriptors arrived with it "
	                       "(a request takes at most one)", SF_FDQ_MAX);
}

/*
 * The head of the buffer is an incomplete message, and every fd still
 * queued arrived with it or after it (those of the messages before it
 * were taken or refused): more than it can take fail the client now,
 * instead of waiting for a message that may take a timeout period per
 * 64 KiB to complete.  It takes one when it can still turn out to be a
 * memfd PROBE or ATTACH_SEGMENT.
 */
static int check_fds_partial(struct sf_client *c)
{
	size_t avail = c->in_end - c->in_start;
	const uint8_t *msg = c->in + c->in_start;
	const size_t kind_at = offsetof(struct sf_segment_msg, kind);
	struct sf_header hdr;
	unsigned takes = 1;

	if (c->fdq.count == 0)
		return 0;
	if (sf__header_check(msg, avail, SF_MAX_MESSAGE, &hdr, NULL) > 0) {
		if ((hdr.type != SF_PROBE && hdr.type != SF_ATTACH_SEGMENT) ||
		    hdr.length != sizeof(struct sf_segment_msg))
			takes = 0;
		else if (avail > kind_at)
			takes = msg[kind_at] == SF_SHM_MEMFD;
	}
	if (c->fdq.count <= takes)
		return 0;
	blame_partial(c);
	return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD,
	                       "%u file descriptor%s arrived with it, and it "
	                       "takes %s", c->fdq.count,
	                       c->fdq.count == 1 ? "" : "s",
	                       takes ? "at most one" : "none");
}

/* Fds left over: every message that could have carried them is handled. */
static int check_fds(struct sf_client *c)
{
	if (c->fdq.count && c->fd_deadline[0] <= c->stream_used)
		return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD,
		                       "a file descriptor arrived with a request "
		                       "that takes none");
	return 0;
}

/* Only a memfd PROBE or ATTACH_SEGMENT takes an fd (one).  Decided from
 * the raw bytes: a message too malformed to say fails its decoding. */
static unsigned fds_taken(const uint8_t *msg, const struct sf_header *hdr)
{
	if ((hdr->type != SF_PROBE && hdr->type != SF_ATTACH_SEGMENT) ||
	    hdr->length != sizeof(struct sf_segment_msg))
		return 0;
	return msg[offsetof(struct sf_segment_msg, kind)] == SF_SHM_MEMFD;
}

/*
 * Before a message is handled: the fds that arrived no later than its last
 * byte came with it or with an earlier message (whose turn is over).  More
 * of them than it takes is an error before the request does anything, so
 * that a SYNC carrying an fd is not answered and an ATTACH carrying two
 * maps nothing.
 */
static int check_fds_before(struct sf_client *c, const uint8_t *msg,
                            const struct sf_header *hdr)
{
	uint64_t end = c->stream_used + hdr->length;
	unsigned here = 0, takes = fds_taken(msg, hdr);

	while (here < c->fdq.count && c->fd_deadline[here] <= end)
		here++;
	if (here <= takes)
		return 0;
	if (takes)
		return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD,
		                       "%u file descriptors arrived with it; a "
		                       "memfd segment takes exactly one", here);
	return sfs__client_fail(c, SF_ERR_UNEXPECTED_FD,
	                       "%u file descriptor%s arrived with it, and it "
	                       "takes none", here, here == 1 ? "" : "s");
}

/* ---- inline pixels ---------------------------------------------------- */

/* Where the pixel bytes at pos go, and how many are left in that row. */
static uint8_t *row_at(const struct sfs_payload *p,
                       const struct sf_pixel_pos *pos, size_t *len)
{
	const struct sf_rect *r = &p->rects[pos->rect];
	size_t stride = (size_t)p->surface->width * SF_BYTES_PER_PIXEL;

	*len = (size_t)r->width * SF_BYTES_PER_PIXEL - pos->row_done;
	return p->surface->mem + (size_t)(r->y + pos->row) * stride +
	       (size_t)r->x * SF_BYTES_PER_PIXEL + pos->row_done;
}

static void pos_advance(const struct sfs_payload *p, struct sf_pixel_pos *pos,
                        size_t n)
{
	while (n > 0) {
		const struct sf_rect *r = &p->rects[pos->rect];
		size_t row = (size_t)r->width * SF_BYTES_PER_PIXEL;
		size_t k = row - pos->row_done < n ? row - pos->row_done : n;

		pos->row_done += k;
		n -= k;
		if (pos->row_done == row) {
			pos->row_done = 0;
			if (++pos->row == r->height) {
				pos->row = 0;
				pos->rect++;
			}
		}
	}
}

/* n bytes of pixels have landed where they belong. */
static void payload_advance(struct sf_client *c, size_t n)
{
	struct sfs_payload *p = &c->payload;

	p->left -= n;
	c->stream_used += n;
	pos_advance(p, &p->pos, n);
}

static void payload_complete(struct sf_client *c)
{
	struct sfs_payload *p = &c->payload;

	c->payload_active = false;
	c->progress++;
	sfs__surface_frame_done(p->surface, p->serial, p->rects, p->n_rects);
}

/*
 * After a request, or the pixels that complete it, was handled: a segment
 * it found shrunk (the SIGBUS guard), or an answer that overflowed the
 * output queue, fails the client now, and the ERROR names that request.
 * Returns 0, or -1 when the client was failed or closed.
 */
static int after_request(struct sf_client *c)
{
	if (sfs__sigbus_pending())
		sfs__segments_check_broken(c->server);
	c->in_request = false;
	if (c->fd < 0 || c->state == SF_CLIENT_CLOSING)
		return -1;
	if (c->deferred_error) {
		c->cur_type = c->deferred_type;
		sfs__client_fail(c, c->deferred_error, "%s", c->deferred_text);
		return -1;
	}
	return 0;
}

/* Pixels that arrived in the message buffer with the PUT_IMAGE. */
static void payload_from_buffer(struct sf_client *c)
{
	struct sfs_payload *p = &c->payload;

	while (p->left > 0 && c->in_end > c->in_start) {
		size_t len, avail = c->in_end - c->in_start;
		uint8_t *dst = row_at(p, &p->pos, &len);

		if (len > avail)
			len = avail;
		memcpy(dst, c->in + c->in_start, len);
		c->in_start += len;
		payload_advance(c, len);
	}
	if (c->in_start == c->in_end)
		c->in_start = c->in_end = 0;
}

void sfs__client_start_payload(struct sf_client *c, struct sf_surface *s,
                              uint32_t serial, const struct sf_rect *rects,
                              uint32_t n, uint64_t size)
{
	struct sfs_payload *p = &c->payload;

	p->surface = s;
	p->serial = serial;
	p->n_rects = n;
	memcpy(p->rects, rects, n * sizeof *rects);
	memset(&p->pos, 0, sizeof p->pos);
	p->left = size;
	c->payload_active = true;
	payload_from_buffer(c);
	if (p->left == 0)
		payload_complete(c);
}

/*
 * One recvmsg straight into the surface rows.  When the rows given cover
 * the rest of the payload, the message buffer is the last entry so that the
 * next requests come in the same call.  Returns 1 after progress, 0 when
 * the socket is empty, -1 when the client is gone.
 */
static int payload_read(struct sf_client *c, size_t *budget_used)
{
	struct sfs_payload *p = &c->payload;
	struct iovec iov[IOV_BATCH + 1];
	struct sf_pixel_pos walk = p->pos;
	uint64_t covered = 0;
	unsigned before = c->fdq.count;
	ssize_t got;
	int n = 0;

	while (n < IOV_BATCH && covered < p->left && covered < PAYLOAD_BUDGET) {
		size_t len;
		uint8_t *dst = row_at(p, &walk, &len);

		/* Rows that follow each other in the surface (full-width
		 * rectangles) become one entry. */
		if (n > 0 && (uint8_t *)iov[n - 1].iov_base +
		             iov[n - 1].iov_len == dst) {
			iov[n - 1].iov_len += len;
		} else {
			iov[n].iov_base = dst;
			iov[n].iov_len = len;
			n++;
		}
		covered += len;
		pos_advance(p, &walk, len);
	}
	/* An fd may come with the next message only when the read can go
	 * past the pixels. */
	c->fdq.limit = 0;
	if (covered == p->left && c->in_start == c->in_end) {
		c->in_start = c->in_end = 0;
		iov[n].iov_base = c->in;
		iov[n].iov_len = SF_IN_CAP;
		n++;
		c->fdq.limit = SF_FDQ_MAX;
	}
	if (!may_receive(c))
		return 0;
	got = sf__recv_fds(c->fd, iov, n, &c->fdq);
	if (got == -EAGAIN || got == -EWOULDBLOCK)
		return 0;
	if (got == 0) {
		/* Half-closed peers can still read why. */
		c->eof = true;
		sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "the stream ended with %llu "
		                "bytes of its pixels still to come",
		                (unsigned long long)p->left);
		return -1;
	}
	if (got < 0) {
		sfs__client_close(c, strerror((int)-got));
		return -1;
	}
	c->stream_read += (uint64_t)got;
	note_fds(c, before);
	*budget_used += (size_t)got;
	if ((uint64_t)got > p->left) {
		c->in_end = (size_t)((uint64_t)got - p->left);
		got = (ssize_t)p->left;
	}
	payload_advance(c, (size_t)got);
	if (check_received(c, before, p->left > 0) < 0)
		return -1;
	if (p->left == 0) {
		c->in_request = true;
		payload_complete(c);
		if (after_request(c) < 0)
			return -1;
	}
	return 1;
}

/* ---- messages --------------------------------------------------------- */

/* Handles the complete messages in the buffer, up to the budgets (copied0:
 * c->copied when the wakeup began).  Returns 0, or -1 when the client was
 * failed or closed. */
static int process_buffered(struct sf_client *c, unsigned *msgs,
                            uint64_t copied0)
{
	const uint32_t max = c->server->limits.max_message;
	bool partial = false;

	while (*msgs < MSG_BUDGET && c->copied - copied0 < COPY_BUDGET &&
	       !c->payload_active && !c->input_paused &&
	       c->state != SF_CLIENT_CLOSING) {
		size_t avail = c->in_end - c->in_start;
		const uint8_t *msg = c->in + c->in_start;
		struct sf_header hdr;
		const char *why = "";
		/* Malformed is against the protocol's limit; a well-formed
		 * message over the one we announced is LIMIT. */
		int r = sf__header_check(msg, avail, SF_MAX_MESSAGE, &hdr, &why);

		if (r == 0) {
			partial = true;
			break;
		}
		if (r < 0) {
			uint16_t type = 0;

			memcpy(&type, msg, sizeof type);
			c->sequence++;
			c->cur_type = type;
			if (c->state == SF_CLIENT_HELLO)
				return sfs__client_fail(c, SF_ERR_BAD_MAGIC,
				                       "the first message is not a valid "
				                       "HELLO (%s): the peer does not speak "
				                       "the shmframe protocol", why);
			return sfs__client_fail(c, -r, "%s", why);
		}
		if (hdr.length > max &&
		    (c->state != SF_CLIENT_HELLO || hdr.type == SF_HELLO)) {
			/* No need to wait for the rest of it. */
			c->sequence++;
			c->cur_type = hdr.type;
			return sfs__client_fail(c, SF_ERR_LIMIT, "a message of %u bytes "
			                       "is larger than the server's "
			                       "max_message (%u)", hdr.length, max);
		}
		if (avail < hdr.length) {
			partial = true;
			break;
		}
		c->sequence++;
		c->cur_type = hdr.type;
		if (check_fds_before(c, msg, &hdr) < 0)
			return -1;
		c->in_start += hdr.length;
		c->stream_used += hdr.length;
		c->progress++;
		(*msgs)++;
		c->in_request = true;
		sfs__request_dispatch(c, msg, &hdr);
		if (c->state == SF_CLIENT_READY)
			unauth_leave(c);
		if (after_request(c) < 0)
			return -1;
		if (!c->payload_active && check_fds(c) < 0)
			return -1;
	}
	if (partial && c->state == SF_CLIENT_READY && check_fds_partial(c) < 0)
		return -1;
	if (c->in_start == c->in_end)
		c->in_start = c->in_end = 0;
	return 0;
}

/* True when the head of the buffer is a message to handle now: whole, or
 * bad enough to fail without the rest. */
static bool has_complete_message(const struct sf_client *c)
{
	struct sf_header hdr;
	size_t avail = c->in_end - c->in_start;
	int r = sf__header_check(c->in + c->in_start, avail, SF_MAX_MESSAGE,
	                         &hdr, NULL);

	return r < 0 || (r > 0 && (avail >= hdr.length ||
	                           hdr.length > c->server->limits.max_message));
}

/* Starts, restarts or ends the slow-sender window (see SLOW_MIN_BYTES). */
static void update_slow(struct sf_client *c)
{
	bool partial;

	if (c->fd < 0 || c->state != SF_CLIENT_READY) {
		c->slow_deadline = 0;
		return;
	}
	if (c->input_paused) {
		/* A readback streams out of the surface and we do not read
		 * meanwhile: now the peer is late if it does not take at least
		 * SLOW_MIN_BYTES (or the rest) every window. */
		if (!sfs__out_has_rows(c)) {
			c->slow_deadline = 0;
		} else if (c->slow_deadline == 0 ||
		           c->out_written - c->slow_mark_written >= SLOW_MIN_BYTES) {
			c->slow_deadline = sfs__now_ns() + c->server->glimits.timeout_ns;
			c->slow_mark_written = c->out_written;
		}
		return;
	}
	partial = c->payload_active ||
	          (c->in_end > c->in_start && !has_complete_message(c));
	if (!partial) {
		c->slow_deadline = 0;
		return;
	}
	if (c->slow_deadline == 0 || c->progress != c->slow_mark_progress ||
	    c->stream_read - c->slow_mark_read >= SLOW_MIN_BYTES) {
		c->slow_deadline = sfs__now_ns() + c->server->glimits.timeout_ns;
		c->slow_mark_read = c->stream_read;
		c->slow_mark_progress = c->progress;
	}
}

/* Reads into the message buffer.  1 after progress, 2 after progress that
 * drained the socket (a short read), 0 when empty, -1 gone. */
static int read_messages(struct sf_client *c, size_t *budget_used)
{
	struct iovec iov;
	unsigned before = c->fdq.count;
	ssize_t got;

	if (c->in_start > 0) {
		memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
		c->in_end -= c->in_start;
		c->in_start = 0;
	}
	iov.iov_base = c->in + c->in_end;
	iov.iov_len = SF_IN_CAP - c->in_end;
	c->fdq.limit = c->state == SF_CLIENT_READY ? SF_FDQ_MAX : 0;
	if (!may_receive(c))
		return 0;
	got = sf__recv_fds(c->fd, &iov, 1, &c->fdq);
	if (got == -EAGAIN || got == -EWOULDBLOCK)
		return 0;
	if (got == 0) {
		if (c->in_end > 0) {
			struct sf_header hdr;
			size_t have = c->in_end;

			/* Half-closed peers can still read why. */
			c->eof = true;
			blame_partial(c);
			if (sf__header_check(c->in, have, SF_MAX_MESSAGE, &hdr,
			                     NULL) > 0)
				sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "the stream "
				                "ended %zu bytes into this %u-byte "
				                "message", have, hdr.length);
			else
				sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "the stream "
				                "ended %zu bytes into a message "
				                "header", have);
		} else {
			finish(c);
		}
		return -1;
	}
	if (got < 0) {
		sfs__client_close(c, strerror((int)-got));
		return -1;
	}
	c->in_end += (size_t)got;
	c->stream_read += (uint64_t)got;
	*budget_used += (size_t)got;
	note_fds(c, before);
	if (check_received(c, before, false) < 0)
		return -1;
	return (size_t)got < iov.iov_len ? 2 : 1;
}

/* The main input routine: pixels, messages, reads, within the budgets. */
static void handle_input_budgeted(struct sf_client *c)
{
	unsigned msgs = 0;
	size_t read_bytes = 0, pixel_bytes = 0;
	uint64_t copied0 = c->copied;
	bool drained = false;
	int r;

	while (c->fd >= 0 && c->state != SF_CLIENT_CLOSING) {
		if (c->payload_active) {
			if (payload_read(c, &pixel_bytes) <= 0)
				return;
			if (c->fd < 0 || c->state == SF_CLIENT_CLOSING)
				return;
			if (!c->payload_active && check_fds(c) < 0)
				return;
			if (c->payload_active && pixel_bytes >= PAYLOAD_BUDGET)
				return;
			continue;
		}
		if (process_buffered(c, &msgs, copied0) < 0)
			return;
		if (c->payload_active)
			continue;
		if (c->input_paused)
			return;
		if (msgs >= MSG_BUDGET || read_bytes >= READ_BUDGET ||
		    pixel_bytes >= PAYLOAD_BUDGET ||
		    c->copied - copied0 >= COPY_BUDGET) {
			/* The socket may be quiet while complete messages wait in
			 * the buffer: make sure they get a turn. */
			if (has_complete_message(c) && list_empty(&c->backlog_link))
				list_append(&c->server->backlog, &c->backlog_link);
			return;
		}
		/* The last read came up short: the socket is empty, and the
		 * loop is level-triggered, so asking again would only cost a
		 * syscall that returns EAGAIN (one per frame on the shm path). */
		if (drained)
			return;
		r = read_messages(c, &read_bytes);
		if (r <= 0)
			return;
		drained = r == 2;
	}
}

static void handle_input(struct sf_client *c)
{
	handle_input_budgeted(c);
	update_slow(c);
}

/* CLOSING and not yet at end of stream: read and throw away. */
static void drain(struct sf_client *c)
{
	uint8_t buf[16384];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };

	c->fdq.limit = 0;
	for (int i = 0; i < 4; i++) {
		ssize_t got;

		if (!may_receive(c))
			return;
		c->fdq.foreign = 0;
		got = sf__recv_fds(c->fd, &iov, 1, &c->fdq);
		sf__fdq_clear(&c->fdq);
		/* It was told; fds that may keep a closer busy are not
		 * taken from it any longer. */
		if (c->fdq.foreign) {
			sfs__client_close(c, "kept sending file descriptors after "
			                 "an error");
			return;
		}
		if (got == -EAGAIN || got == -EWOULDBLOCK)
			return;
		if (got <= 0) {
			c->eof = true;
			if (!sfs__out_pending(c))
				sfs__client_close(c, "closed after error");
			else
				update_interest(c);
			return;
		}
		c->discarded += (uint64_t)got;
		if (c->discarded > DISCARD_MAX) {
			sfs__client_close(c, "kept sending after an error");
			return;
		}
	}
}

void sfs__client_resume(struct sf_client *c)
{
	list_remove(&c->backlog_link);
	if (c->fd >= 0 && c->state != SF_CLIENT_CLOSING && !c->input_paused)
		handle_input(c);
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
			drain(c);
		else if (list_empty(&c->backlog_link))
			handle_input(c);
		/* Else its turn comes from the backlog in this iteration, and
		 * reads the socket too: one turn per iteration, not two while
		 * the others get one. */
	}
}
