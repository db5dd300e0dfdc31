/*
 * The library's side of the control segment (protocol 2.1): making and
 * offering it at connect time, shm frames onto the request ring, events
 * off the event ring in the order of their numbers, and the waits: a
 * bounded spin on the event ring, then its sleeping word around poll().
 * protocol/ring.c holds the rings themselves; PROTOCOL.md ("The control
 * segment and its rings") says what both sides do.
 *
 * The rings keep one order with the socket through numbers: every request
 * has the next number on whichever path it goes (conn->requests counts
 * both), every event too (conn->events), and an event is handled only when
 * its number is the next one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client-private.h"
#include "clock.h"

/* Spinning looks at the clock once per this many looks at the ring. */
#define SPIN_CLOCK_EVERY 32u
/* Segments that auto leaves for the rest under a server's limit of
 * segments per client: a surface's and a readback's, what a client could
 * do without rings. */
#define SEGMENTS_LEFT_FOR_AUTO 2u

static void set_reason(struct shmframe_conn *conn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_reason(struct shmframe_conn *conn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(conn->signal_reason, sizeof conn->signal_reason, fmt, ap);
	va_end(ap);
}

void sfc__rings_free(struct shmframe_conn *conn)
{
	if (!conn->rings)
		return;
	sf__segment_close(&conn->rings->seg);
	free(conn->rings);
	conn->rings = NULL;
}

/*
 * Makes the control segment of the connection's kind, offers it with
 * ATTACH_CONTROL and waits for the answer.  1 when the rings are live, 0
 * when they cannot be had (signal_reason says why; nothing is left), or
 * the connection's error.
 */
static int attach_control(struct shmframe_conn *conn)
{
	const struct sf_welcome *w = &conn->welcome;
	const char *kind = sf__shm_kind_name((uint32_t)conn->shm_kind);
	uint8_t nonce[SF_NONCE_SIZE];
	struct sf_segment_msg m;
	struct sfc_rings *r;
	int err;

	/* It counts against the limits like every segment; asking past them
	 * would be a fatal LIMIT.  Unless rings were asked for, it does not
	 * take a slot that a surface or a readback would need. */
	if ((w->max_segment_size && SF_CONTROL_SIZE > w->max_segment_size) ||
	    (w->max_segments && conn->segments >= w->max_segments) ||
	    (w->max_mapped && SF_CONTROL_SIZE > w->max_mapped - conn->mapped)) {
		set_reason(conn, "the server's segment limits leave no room for "
		           "the control segment");
		return 0;
	}
	if (conn->opts.signal == SHMFRAME_SIGNAL_AUTO && w->max_segments &&
	    w->max_segments - conn->segments < 1 + SEGMENTS_LEFT_FOR_AUTO) {
		set_reason(conn, "the server allows %u segments per client: they "
		           "are kept for a surface and a readback", w->max_segments);
		return 0;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		set_reason(conn, "out of memory for the rings");
		return 0;
	}
	sf__segment_init(&r->seg);
	err = sf__segment_create(&r->seg, conn->shm_kind, SF_CONTROL_SIZE);
	if (err) {
		set_reason(conn, "cannot create a %s control segment here (%s)",
		           kind, strerror(-err));
		goto free_rings;
	}
	/* Both rings start empty: every index and sleeping word 0. */
	memset(r->seg.map, 0, SF_CONTROL_SIZE);
	err = sf__random(nonce, sizeof nonce);
	if (err) {
		set_reason(conn, "no random nonce for the control segment (%s)",
		           strerror(-err));
		goto close_segment;
	}
	sf__segment_write_proof(&r->seg, nonce, w->challenge);
	sfc__segment_msg(&m, &r->seg, 0, SF_SEGMENT_WRITABLE, nonce);

	err = sfc__segment_ask(conn, SF_PHASE_CONTROL, SF_ATTACH_CONTROL, &m,
	                       &r->seg);
	if (err)
		goto close_segment;
	/* Answered: the server holds it or never will; no name may outlive
	 * us either way. */
	sf__segment_unlink(&r->seg);
	if (conn->probe_status != SF_PROBE_OK) {
		if (conn->probe_text[0])
			set_reason(conn, "the server refused the control segment: %s "
			           "(%s)", sf__probe_status_name(conn->probe_status),
			           conn->probe_text);
		else
			set_reason(conn, "the server refused the control segment: %s",
			           sf__probe_status_name(conn->probe_status));
		goto close_segment;
	}
	/* The proof has done its job. */
	memset(r->seg.map, 0, SF_PROOF_SIZE);
	sf__ring_init(&r->req, r->seg.map, SF_RING_REQUESTS);
	sf__ring_init(&r->ev, r->seg.map, SF_RING_EVENTS);
	r->spin_us = sfc__options_spin_us(conn);
	conn->segments++;
	conn->mapped += SF_CONTROL_SIZE;
	conn->rings = r;
	set_reason(conn, "rings in a %s control segment", kind);
	return 1;

close_segment:
	sf__segment_close(&r->seg);
free_rings:
	free(r);
	return err < 0 && conn->error ? conn->error : 0;
}

int sfc__choose_signal(struct shmframe_conn *conn)
{
	enum shmframe_signal want = conn->opts.signal;
	int r;

	conn->signal = SHMFRAME_SIGNAL_SOCKET;
	if (want == SHMFRAME_SIGNAL_SOCKET) {
		set_reason(conn, "socket signalling requested");
		return 0;
	}
	if (conn->transport != SHMFRAME_TRANSPORT_SHM) {
		set_reason(conn, "pixels travel on the socket");
	} else if (!(conn->welcome.caps & SF_CAP_RING)) {
		if (conn->welcome.minor == 0)
			set_reason(conn, "the server does not offer rings (protocol "
			           "%u.0)", conn->welcome.major);
		else
			set_reason(conn, "the server does not offer rings");
	} else {
		r = attach_control(conn);
		if (r < 0)
			return r;
		if (r) {
			conn->signal = SHMFRAME_SIGNAL_RING;
			return 0;
		}
	}
	if (want == SHMFRAME_SIGNAL_RING)
		return sfc__fail(conn, -ENOTSUP, "no rings with the server: %s",
		                conn->signal_reason);
	return 0;
}

void sfc__rings_fd_taken(struct shmframe_conn *conn)
{
	struct sfc_rings *r = conn->rings;

	r->fd_taken = true;
	/* What the server puts on the ring from now on comes with a NOTIFY.
	 * Entries already there may not have, and the program is about to
	 * poll for them: a SYNC's answer, which follows them, makes the fd
	 * readable. */
	if (sf__ring_sleep(&r->ev) && !sfc__sync(conn))
		sfc__flush(conn);
}

/* ---- requests ------------------------------------------------------------ */

int sfc__ring_request(struct shmframe_conn *conn, const void *msg, size_t len)
{
	struct sfc_rings *r = conn->rings;
	int room = sf__ring_room(&r->req);

	if (room < 0)
		return sfc__protocol_error(conn, "the server's tail of the request "
		                           "ring is impossible (behind its last one "
		                           "or past our head)");
	if (room == 0 || len > SF_RING_REQ_MESSAGE ||
	    sf__ring_push(&r->req, conn->requests + 1, msg, len))
		return 0;
	conn->requests++;
	if (sf__ring_consumer_asleep(&r->req)) {
		struct sf_header kick = { 0 };
		int err;

		/* The server says it sleeps, but it may be one we already
		 * woke that has not cleared its word yet: read its tail after
		 * the word (the fence in sf__ring_consumer_asleep orders it).
		 * While that KICK's entries are not all taken, the server has
		 * yet to take them and then look at the head again before it
		 * sleeps (PROTOCOL.md, "Sleeping and waking"): it will find
		 * this entry by itself. */
		if (sf__ring_room(&r->req) < 0)
			return sfc__protocol_error(conn, "the server's tail of the "
			                           "request ring is impossible "
			                           "(behind its last one or past our "
			                           "head)");
		if (r->kicked && (int32_t)(r->req.peer - r->kick_pos) < 0)
			goto flush;
		err = sfc__request(conn, SF_KICK, &kick, sizeof kick, NULL, 0);
		if (err)
			return err;
		r->kicked = true;
		r->kick_pos = r->req.pos;
	}
flush:
	/* A request still queued for the socket is numbered before this
	 * entry, which the server takes only after it: it goes out now. */
	if (sf__out_pending(&conn->out)) {
		int err = sfc__flush(conn);

		if (err && err != -EAGAIN)
			return err;
	}
	return 1;
}

/* ---- events -------------------------------------------------------------- */

enum next {
	NEXT_NONE = 1,  /* the ring is empty */
	NEXT_DUE = 2,   /* its oldest entry is the next event */
	NEXT_LATER = 3, /* its oldest entry comes after events on the socket */
};

/* Copies the oldest entry of the event ring into msg and says where it
 * stands: an enum next, or the connection's error. */
static int peek(struct shmframe_conn *conn, uint32_t *seq,
                uint8_t msg[SF_RING_EV_MESSAGE])
{
	uint32_t due = conn->events + 1;
	int n = sf__ring_peek(&conn->rings->ev, seq, msg, SF_RING_EV_MESSAGE);
	int32_t ahead;

	if (n < 0)
		return sfc__protocol_error(conn, "the server's head of the event "
		                           "ring is impossible (more entries than "
		                           "the ring holds)");
	if (n == 0)
		return NEXT_NONE;
	ahead = (int32_t)(*seq - due);
	if (ahead < 0)
		return sfc__fail(conn, -EPROTO, "protocol error: an entry of the "
		                "event ring numbered %u, but %u is the next event (a "
		                "number already used)", *seq, due);
	return ahead ? NEXT_LATER : NEXT_DUE;
}

int sfc__ring_event(struct shmframe_conn *conn, struct sfc_event *ev,
                    unsigned *left)
{
	uint8_t msg[SF_RING_EV_MESSAGE];
	struct sf_header h;
	const char *why = "";
	uint32_t seq;
	int n = peek(conn, &seq, msg), r;

	if (n < 0)
		return n;
	if (n != NEXT_DUE)
		return 0;
	/* A server that refills the ring as fast as we empty it would keep
	 * a dispatch from returning.  Stopping leaves nothing unannounced:
	 * what was pushed before the call began is taken, and what came
	 * since comes with a NOTIFY not read yet when we sleep (or the
	 * next look at the ring finds it due and does not block). */
	if (*left == 0)
		return SFC_RING_STOP;
	/* A copy in our memory: checked like the same event on the socket,
	 * with the entry as its largest length. */
	r = sf__header_check(msg, sizeof msg, SF_RING_EV_MESSAGE, &h, &why);
	if (r != 1)
		return sfc__fail(conn, -EPROTO, "protocol error: bad event header "
		                "on the event ring: %s", why);
	if (h.type != SF_RELEASE && h.type != SF_PRESENTED)
		return sfc__fail(conn, -EPROTO, "protocol error: a %s event on the "
		                "event ring, which carries only RELEASE and PRESENTED",
		                sf__type_name(h.type));
	r = sfc__event_decode(msg, &h, ev, &why);
	if (r)
		return sfc__fail(conn, -EPROTO, "protocol error: bad %s event on "
		                "the event ring: %s", sf__type_name(h.type), why);
	sf__ring_pop(&conn->rings->ev);
	conn->events++;
	(*left)--;
	return 1;
}

bool sfc__ring_gap(struct shmframe_conn *conn)
{
	uint8_t msg[SF_RING_EV_MESSAGE];
	uint32_t seq;

	return conn->rings && peek(conn, &seq, msg) == NEXT_LATER;
}

/* ---- waiting ------------------------------------------------------------- */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* Looks at the event ring for up to spin_us; true when an entry came. */
static bool spin(struct sfc_rings *r)
{
	uint64_t end;

	if (r->spin_us == 0)
		return false;
	end = sf__clock_ns(CLOCK_MONOTONIC) + (uint64_t)r->spin_us * 1000u;
	for (unsigned i = 1;; i++) {
		if (sf__ring_pending(&r->ev) != 0)
			return true;
		cpu_relax();
		if (i % SPIN_CLOCK_EVERY == 0 && sf__clock_ns(CLOCK_MONOTONIC) >= end)
			return false;
	}
}

int sfc__ring_before_poll(struct shmframe_conn *conn, bool want_out)
{
	struct sfc_rings *r = conn->rings;
	uint8_t msg[SF_RING_EV_MESSAGE];
	uint32_t seq;
	int n;

	/* Waiting for the socket to take our bytes: only the socket can say
	 * it did. */
	if (want_out)
		return 0;
	n = peek(conn, &seq, msg);
	if (n < 0)
		return n;
	if (n == NEXT_DUE)
		return 1;
	/* The next event is on the socket: wait for that. */
	if (n == NEXT_LATER)
		return 0;
	if (spin(r))
		return 1;
	/* From here the server sends NOTIFY with what it puts on the ring,
	 * which makes the socket readable; an entry that came before it saw
	 * the word is found by the look sf__ring_sleep takes. */
	if (sf__ring_sleep(&r->ev)) {
		if (!r->fd_taken)
			sf__ring_awake(&r->ev);
		return 1;
	}
	return 0;
}

void sfc__ring_after_poll(struct shmframe_conn *conn)
{
	if (!conn->rings->fd_taken)
		sf__ring_awake(&conn->rings->ev);
}
