/*
 * A client's deadlines: the HELLO it must say in time, the slow-sender
 * window of a message it has started (or of a readback it must take),
 * and the grace period of a closing connection.  Expired ones fail the
 * client with ERROR SLOW, or close it.
 */
#include <stdint.h>

#include "server-private.h"

/* A message that has started must complete, or bring this many bytes,
 * within each window of server->glimits.timeout_ns (the same time a new
 * connection has to say HELLO).  A slow sender would otherwise hold a
 * connection and a partly filled surface for as long as it likes; a
 * client idle between messages is fine. */
#define SLOW_MIN_BYTES (64u << 10)

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
		c->req.type = sfs__input_partial_type(c) == SF_HELLO ? SF_HELLO : 0;
		c->req.sequence = c->req.type ? 1 : 0;
		sfs__client_fail(c, SF_ERR_SLOW, "no complete HELLO within %g s of "
		                "connecting (%zu bytes arrived)", limit,
		                c->in.q.len);
		return;
	}
	if (c->in.paused && sfs__out_has_rows(c)) {
		/* Input stopped right after the GET_IMAGE being answered. */
		c->req.type = SF_GET_IMAGE;
		sfs__client_fail(c, SF_ERR_SLOW, "its pixels are read too slowly: "
		                "%llu bytes taken in the last %g s (at least %u "
		                "bytes, or the rest, must be read every %g s)",
		                (unsigned long long)(c->out.q.written -
		                                     c->slow.mark_written),
		                limit, SLOW_MIN_BYTES, limit);
		return;
	}
	if (c->payload.active) {
		/* cur_type and sequence still name the PUT_IMAGE. */
		sfs__client_fail(c, SF_ERR_SLOW, "its pixels arrive too slowly: "
		                "%llu bytes in the last %g s, with %llu still "
		                "missing (at least %u bytes, or the rest, must "
		                "arrive every %g s)",
		                (unsigned long long)(c->in.q.read -
		                                     c->slow.mark_read),
		                limit, (unsigned long long)sfs__payload_left(c),
		                SLOW_MIN_BYTES, limit);
		return;
	}
	sfs__input_blame_partial(c);
	sfs__client_fail(c, SF_ERR_SLOW, "the message arrives too slowly: %zu "
	                "bytes of it in %g s (a message must complete, or bring "
	                "%u bytes, every %g s)", c->in.q.len, limit,
	                SLOW_MIN_BYTES, limit);
}

int sfs__clients_expire(struct sf_server *server)
{
	uint64_t now = sfs__now_ns(), next = UINT64_MAX;
	struct sf_list pending;

	/* Failing one client must never derail the walk over the others (see
	 * list_for_each in list.h): each goes back to the list
	 * before it is handled, and one dropped meanwhile is not met. */
	list_take_all(&pending, &server->clients);
	while (!list_empty(&pending)) {
		struct sf_client *c = sf_container_of(list_pop(&pending),
		                                      struct sf_client, link);
		uint64_t deadline = c->state == SF_CLIENT_READY ? c->slow.deadline
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

/* Starts, restarts or ends the slow-sender window (see SLOW_MIN_BYTES). */
void sfs__slow_update(struct sf_client *c)
{
	bool partial;

	if (c->fd < 0 || c->state != SF_CLIENT_READY) {
		c->slow.deadline = 0;
		return;
	}
	if (c->in.paused) {
		/* A readback streams out of the surface and we do not read
		 * meanwhile: now the peer is late if it does not take at least
		 * SLOW_MIN_BYTES (or the rest) every window. */
		if (!sfs__out_has_rows(c)) {
			c->slow.deadline = 0;
		} else if (c->slow.deadline == 0 ||
		           c->out.q.written - c->slow.mark_written >= SLOW_MIN_BYTES) {
			c->slow.deadline = sfs__now_ns() + c->server->glimits.timeout_ns;
			c->slow.mark_written = c->out.q.written;
		}
		return;
	}
	partial = c->payload.active ||
	          (c->in.q.len && !sfs__input_has_message(c));
	if (!partial) {
		c->slow.deadline = 0;
		return;
	}
	if (c->slow.deadline == 0 || c->in.progress != c->slow.mark_progress ||
	    c->in.q.read - c->slow.mark_read >= SLOW_MIN_BYTES) {
		c->slow.deadline = sfs__now_ns() + c->server->glimits.timeout_ns;
		c->slow.mark_read = c->in.q.read;
		c->slow.mark_progress = c->in.progress;
	}
}

