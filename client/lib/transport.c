/*
 * Choosing how pixels travel.  The probe, not the socket family, decides:
 * a segment the server can map and in which it reads back our nonce and
 * its own challenge (from WELCOME) proves that the two processes share
 * memory, and that this memory is ours.  The reason string records what each
 * kind answered, so a user can see why the socket was used.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client-private.h"
#include "text.h"

/* Probe segments only need to hold the proof; one page is the minimum any
 * kind maps anyway. */
#define PROBE_SIZE 4096u

static uint32_t kind_cap(int kind)
{
	switch (kind) {
	case SF_SHM_MEMFD: return SF_CAP_SHM_MEMFD;
	case SF_SHM_POSIX: return SF_CAP_SHM_POSIX;
	case SF_SHM_SYSV: return SF_CAP_SHM_SYSV;
	}
	return 0;
}

static void reason_add(struct shmframe_conn *conn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reason_add(struct shmframe_conn *conn, const char *fmt, ...)
{
	size_t len = strlen(conn->reason);
	va_list ap;

	if (len && len + 2 < sizeof conn->reason) {
		memcpy(conn->reason + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(conn->reason + len, sizeof conn->reason - len, fmt, ap);
	va_end(ap);
}

void sfc__segment_msg(struct sf_segment_msg *m, const struct sf_segment *seg,
                     uint32_t id, uint8_t flags, const uint8_t *nonce)
{
	memset(m, 0, sizeof *m);
	m->id = id;
	m->kind = (uint8_t)seg->kind;
	m->flags = flags;
	m->size = seg->size;
	m->shmid = seg->kind == SF_SHM_SYSV ? seg->shmid : -1;
	memcpy(m->nonce, nonce, SF_NONCE_SIZE);
	if (seg->kind == SF_SHM_POSIX)
		memcpy(m->name, seg->name, sizeof m->name);
}

/* Sends a PROBE, ATTACH_SEGMENT or ATTACH_CONTROL; a memfd travels with it
 * when the socket can carry fds, else the message goes alone and the
 * server says NO_FD. */
static int send_segment(struct shmframe_conn *conn, uint16_t type,
                        struct sf_segment_msg *m, const struct sf_segment *seg)
{
	uint8_t buf[sizeof *m];
	size_t len = sf__encode(buf, sizeof buf, type, m, sizeof *m, NULL, 0);

	if (seg->kind == SF_SHM_MEMFD)
		return sfc__send_with_fd(conn, buf, len, conn->is_unix ? seg->fd : -1);
	return sfc__queue(conn, buf, len);
}

int sfc__segment_ask(struct shmframe_conn *conn, enum sf_phase phase,
                     uint16_t type, struct sf_segment_msg *m,
                     const struct sf_segment *seg)
{
	int err;

	conn->phase = phase;
	conn->probe_answered = false;
	err = send_segment(conn, type, m, seg);
	if (!err)
		err = sfc__flush_all(conn);
	while (!err && !conn->probe_answered) {
		int r = sfc__pump(conn);

		if (r < 0)
			err = r;
	}
	conn->phase = SF_PHASE_READY;
	return err;
}

int sfc__transport_on_probe_result(struct shmframe_conn *conn,
                                   const struct sf_probe_result *r,
                                   const char *text)
{
	if ((conn->phase != SF_PHASE_PROBE && conn->phase != SF_PHASE_CONTROL) ||
	    conn->probe_answered)
		return sfc__protocol_error(conn, "PROBE_RESULT without a PROBE or "
		                           "ATTACH_CONTROL");
	conn->probe_answered = true;
	conn->probe_status = r->status;
	/* It ends up in the transport reason or an error message, which
	 * programs print on a terminal. */
	sf__text_printable(conn->probe_text, sizeof conn->probe_text, text);
	return 0;
}

/*
 * Probes one kind.  Returns 1 when the server mapped our segment and read
 * its proof, 0 when it could not (the reason is added to conn->reason), or
 * a negative error when the connection broke.
 */
static int probe(struct shmframe_conn *conn, int kind)
{
	const char *name = sf__shm_kind_name((uint32_t)kind);
	uint8_t nonce[SF_NONCE_SIZE];
	struct sf_segment_msg m;
	struct sf_segment seg;
	int err;

	if (!(conn->welcome.caps & kind_cap(kind))) {
		reason_add(conn, "%s: not offered by the server", name);
		return 0;
	}
	err = sf__segment_create(&seg, kind, PROBE_SIZE);
	if (err) {
		reason_add(conn, "%s: cannot create a segment here (%s)", name,
		           strerror(-err));
		return 0;
	}
	err = sf__random(nonce, sizeof nonce);
	if (err) {
		reason_add(conn, "%s: no random nonce (%s)", name, strerror(-err));
		goto close_segment;
	}
	sf__segment_write_proof(&seg, nonce, conn->welcome.challenge);
	sfc__segment_msg(&m, &seg, 0, 0, nonce);

	err = sfc__segment_ask(conn, SF_PHASE_PROBE, SF_PROBE, &m, &seg);
	if (err)
		goto close_segment;
	if (conn->probe_status == SF_PROBE_OK) {
		reason_add(conn, "%s: ok", name);
		err = 1;
	} else if (conn->probe_text[0]) {
		reason_add(conn, "%s: %s (%s)%s", name,
		           sf__probe_status_name(conn->probe_status),
		           conn->probe_text,
		           kind == SF_SHM_MEMFD && !conn->is_unix
		           ? ", the socket cannot carry fds" : "");
	} else {
		reason_add(conn, "%s: %s", name,
		           sf__probe_status_name(conn->probe_status));
	}

close_segment:
	/* The server opened (and for POSIX unlinked) its copy and closed it
	 * again; ours goes too, name included. */
	sf__segment_close(&seg);
	return err;
}

/* The kind asked for in the options (and told by shmframe_shm_kind) is
 * the kind on the wire; ANY is the wire's NONE, which no segment has. */
_Static_assert(SHMFRAME_SHM_ANY == (int)SF_SHM_NONE &&
               SHMFRAME_SHM_MEMFD == (int)SF_SHM_MEMFD &&
               SHMFRAME_SHM_POSIX == (int)SF_SHM_POSIX &&
               SHMFRAME_SHM_SYSV == (int)SF_SHM_SYSV,
               "enum shmframe_shm_kind is not enum sf_shm_kind");

int sfc__choose_transport(struct shmframe_conn *conn)
{
	static const int order[] = { SF_SHM_MEMFD, SF_SHM_POSIX, SF_SHM_SYSV };
	enum shmframe_transport want = conn->opts.transport;

	conn->reason[0] = '\0';
	conn->phase = SF_PHASE_READY;
	if (want == SHMFRAME_TRANSPORT_SOCKET) {
		reason_add(conn, "socket requested");
	} else {
		for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
			int r;

			if (conn->opts.shm != SHMFRAME_SHM_ANY &&
			    (int)conn->opts.shm != order[i])
				continue;
			r = probe(conn, order[i]);
			if (r < 0)
				return r;
			if (r) {
				conn->transport = SHMFRAME_TRANSPORT_SHM;
				conn->shm_kind = order[i];
				return 0;
			}
		}
		if (want == SHMFRAME_TRANSPORT_SHM)
			return sfc__fail(conn, -ENOTSUP,
			                "no shared memory with the server: %s",
			                conn->reason);
	}
	if (!(conn->welcome.caps & SF_CAP_INLINE))
		return sfc__fail(conn, -ENOTSUP,
		                "the server does not accept pixels on the socket "
		                "(%s)", conn->reason);
	conn->transport = SHMFRAME_TRANSPORT_SOCKET;
	conn->shm_kind = SF_SHM_NONE;
	return 0;
}

int sfc__segment_make(struct shmframe_conn *conn, struct sf_segment *seg,
                      size_t size, uint64_t replaces,
                      uint8_t nonce[SF_NONCE_SIZE])
{
	const struct sf_welcome *w = &conn->welcome;
	uint32_t segments = conn->segments - (replaces ? 1 : 0);
	uint64_t mapped = conn->mapped - replaces;
	int err;

	/* The server would answer these with a fatal LIMIT error; refusing
	 * here keeps the connection. */
	if (w->max_segment_size && size > w->max_segment_size) {
		sfc__log(conn, SHMFRAME_LOG_ERROR,
		        "a segment of %zu bytes is larger than the server's limit "
		        "of %llu", size, (unsigned long long)w->max_segment_size);
		return -EFBIG;
	}
	if ((w->max_segments && segments >= w->max_segments) ||
	    (w->max_mapped && size > w->max_mapped - mapped)) {
		sfc__log(conn, SHMFRAME_LOG_ERROR,
		        "the server's limit of %u segments or %llu bytes per client "
		        "is reached", w->max_segments,
		        (unsigned long long)w->max_mapped);
		return -EDQUOT;
	}
	err = sf__segment_create(seg, conn->shm_kind, size);
	if (err) {
		sfc__log(conn, SHMFRAME_LOG_ERROR, "cannot create a %s segment of "
		        "%zu bytes: %s", sf__shm_kind_name((uint32_t)conn->shm_kind),
		        size, strerror(-err));
		return err;
	}
	err = sf__random(nonce, SF_NONCE_SIZE);
	if (err) {
		sf__segment_close(seg);
		return err;
	}
	sf__segment_write_proof(seg, nonce, conn->welcome.challenge);
	return 0;
}

int sfc__segment_offer(struct shmframe_conn *conn, struct sf_segment *seg,
                       uint8_t flags, const uint8_t nonce[SF_NONCE_SIZE],
                       uint32_t *id)
{
	struct sf_segment_msg m;
	int err;

	*id = ++conn->next_segment_id;
	sfc__segment_msg(&m, seg, *id, flags, nonce);
	err = send_segment(conn, SF_ATTACH_SEGMENT, &m, seg);
	if (err)
		return err;
	conn->segments++;
	conn->mapped += seg->size;
	return 0;
}

int sfc__segment_attach(struct shmframe_conn *conn, struct sf_segment *seg,
                       size_t size, uint8_t flags, uint32_t *id)
{
	uint8_t nonce[SF_NONCE_SIZE];
	int err = sfc__segment_make(conn, seg, size, 0, nonce);

	if (err)
		return err;
	err = sfc__segment_offer(conn, seg, flags, nonce, id);
	if (err)
		sf__segment_close(seg);
	return err;
}

int sfc__segment_detach(struct shmframe_conn *conn, uint32_t id, size_t size)
{
	struct sf_detach_segment d = { .id = id };

	conn->segments--;
	conn->mapped -= size;
	return sfc__request(conn, SF_DETACH_SEGMENT, &d, sizeof d, NULL, 0);
}
