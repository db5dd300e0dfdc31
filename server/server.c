/*
 * The server as a whole: setting up and tearing down struct sf_server,
 * and one iteration of its main loop.  shmframe-server's main.c drives it
 * with its options and signals; the fuzz target drives it in-process over
 * socketpairs.
 */
#include <errno.h>
#include <string.h>

#include "display.h"
#include "server-private.h"

int sfs__server_init(struct sf_server *server)
{
	list_init(&server->listeners);
	list_init(&server->clients);
	list_init(&server->dead);
	list_init(&server->backlog);
	list_init(&server->flush);
	list_init(&server->unauth);
	list_init(&server->fd_wait);
	list_init(&server->ring_clients);
	server->display = NULL;
	/* The fd budget, before the first connection is admitted. */
	sfs__fds_setup(server);
	return sfs__loop_create(&server->loop);
}

void sfs__server_fini(struct sf_server *server)
{
	sfs__clients_close_all(server);
	sfs__clients_reap(server);
	while (!list_empty(&server->listeners))
		sfs__listener_close(list_first(&server->listeners, struct sf_listener,
		                              link));
	sfs__display_destroy(server->display);
	server->display = NULL;
	/* After the clients: their sockets may be on the closer threads. */
	sfs__fds_teardown(server);
	sfs__loop_destroy(server->loop);
	server->loop = NULL;
}

bool sfs__server_busy(struct sf_server *server)
{
	return !list_empty(&server->backlog) || !list_empty(&server->flush) ||
	       !list_empty(&server->dead) || sfs__rings_busy(server);
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int sfs__server_iterate(struct sf_server *server, int max_wait_ms)
{
	struct sf_list turn;
	int timeout, n;

	server->iteration++;
	timeout = sfs__clients_expire(server);
	timeout = min_timeout(timeout, sfs__listeners_retry(server));
	timeout = min_timeout(timeout, sfs__clients_fd_retry(server));
	timeout = min_timeout(timeout, sfs__display_timeout_ms(server->display));
	timeout = min_timeout(timeout, max_wait_ms);
	if (!list_empty(&server->backlog))
		timeout = 0;
	sfs__clients_reap(server);
	/* Requests on the rings get their turns; else the rings are marked
	 * sleeping, so that a client pushing one KICKs. */
	timeout = sfs__rings_before_wait(server, timeout);

	/* With spinning on, the sockets may already wait spin_us for the
	 * loop's next look: a turn with nothing to wait for skips the look
	 * as long, so that frames coming through the rings cost no syscall
	 * while the server is busy with them. */
	if (timeout == 0 && server->spin_us &&
	    sfs__now_ns() - server->polled_ns < (uint64_t)server->spin_us * 1000u) {
		n = 0;
	} else {
		n = sfs__loop_wait(server->loop, timeout);
		server->polled_ns = sfs__now_ns();
	}
	sfs__rings_after_wait(server);
	if (n < 0) {
		sfs__log("epoll_wait: %s", strerror(-n));
		return n;
	}
	sfs__display_pump(server->display);

	/* Clients that stopped at their budget take their next turn now;
	 * one that stops again waits for the following iteration.  A turn may
	 * fail other clients (a SIGBUS found outside a request fails the
	 * client that shrank the segment), which leaves this list: each client
	 * is taken off it before its turn, and nothing holds on to the next
	 * one. */
	list_take_all(&turn, &server->backlog);
	while (!list_empty(&turn))
		sfs__client_resume(sf_container_of(list_pop(&turn), struct sf_client,
		                                  backlog_link));

	if (sfs__sigbus_pending())
		sfs__segments_check_broken(server);
	/* Flushing takes the client off the list first; one failed by its
	 * flush comes back once, to write its ERROR now. */
	while (!list_empty(&server->flush))
		sfs__client_flush(list_first(&server->flush, struct sf_client,
		                            flush_link));
	return n;
}
