/*
 * Surfaces and their buffer pools: making the buffers (one shared segment
 * per surface, or the library's own memory when pixels go on the socket),
 * acquire, present and discard.
 *
 * A buffer is FREE (ours), ACQUIRED (the caller draws) or BUSY (presented
 * over shm: the server may read it until it sends RELEASE).  Inline frames
 * are written out before present returns, so their buffer is FREE again at
 * once.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client-private.h"

/* Rows start on a cache line, which renderers with wide stores like. */
#define ROW_ALIGN 64u

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

struct shmframe_surface *sfc__surface_find(struct shmframe_conn *conn,
                                          uint32_t id)
{
	for (struct shmframe_surface *s = conn->surfaces; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

void sfc__surface_free(struct shmframe_surface *s)
{
	sfc__inline_free(s);
	sf__segment_close(&s->seg);
	free(s->memory);
	free(s->retired);
	free(s);
}

/*
 * Ids are never reused, so an id we handed out but no longer have belongs
 * to a surface destroyed while the event was on its way: *stale is set
 * and the event is dropped.  An id we never handed out is the server's
 * mistake.
 */
struct shmframe_surface *sfc__event_surface(struct shmframe_conn *conn,
                                            uint32_t id, bool *stale)
{
	struct shmframe_surface *s = sfc__surface_find(conn, id);

	*stale = !s && id != 0 && id <= conn->next_surface_id;
	return s;
}

/* A RELEASE of a buffer of an earlier size, which the server held at the
 * resize: its memory is gone already, only the serial is told. */
static int on_retired_release(struct shmframe_surface *s,
                              const struct sf_release *r)
{
	for (unsigned i = 0; i < s->n_retired; i++) {
		if (s->retired[i].id != r->buffer)
			continue;
		if (s->retired[i].serial != r->serial)
			break;
		s->retired[i] = s->retired[--s->n_retired];
		if (SFC_HAS_CALLBACK(s, released))
			s->listener->released(s->listener_data, s, r->serial);
		return 0;
	}
	return sfc__protocol_error(s->conn, "RELEASE for a buffer the server "
	                           "does not hold");
}

int sfc__surface_on_release(struct shmframe_conn *conn,
                           const struct sf_release *r)
{
	bool stale;
	struct shmframe_surface *s = sfc__event_surface(conn, r->surface, &stale);
	struct shmframe_buffer *b;
	uint32_t idx;

	if (!s)
		return stale ? 0 : sfc__protocol_error(conn,
		                                        "RELEASE for an unknown surface");
	if (s->segment_id == 0)
		return sfc__protocol_error(conn, "RELEASE for a frame sent on the socket");
	idx = r->buffer - s->buffer_id_base - 1;
	if (r->buffer == 0 || idx >= s->n_buffers)
		return on_retired_release(s, r);
	b = &s->buffers[idx];
	if (b->state != SF_BUFFER_BUSY || b->serial != r->serial)
		return sfc__protocol_error(conn,
		                           "RELEASE for a buffer the server does not hold");
	b->state = SF_BUFFER_FREE;
	if (SFC_HAS_CALLBACK(s, released))
		s->listener->released(s->listener_data, s, r->serial);
	return 0;
}

int sfc__surface_on_presented(struct shmframe_conn *conn,
                             const struct sf_presented *p)
{
	bool stale;
	struct shmframe_surface *s = sfc__event_surface(conn, p->surface, &stale);

	if (!s)
		return stale ? 0 : sfc__protocol_error(conn,
		                                        "PRESENTED for an unknown surface");
	if (s->inflight == 0)
		return sfc__protocol_error(conn, "PRESENTED without a frame in flight");
	s->inflight--;
	conn->inflight--;
	sfc__compress_presented(conn, s->id, p->serial);
	sfc__inline_before_presented(s, p->serial, p->time_ns);
	if (SFC_HAS_CALLBACK(s, presented))
		s->listener->presented(s->listener_data, s, p->serial, p->time_ns,
		                       (p->flags & SF_PRESENTED_DISCARDED) != 0);
	/* Room on the link for the frame held meanwhile. */
	return sfc__inline_send_held(s, false, true);
}

int sfc__surface_on_closed(struct shmframe_conn *conn, const struct sf_closed *c)
{
	bool stale;
	struct shmframe_surface *s = sfc__event_surface(conn, c->surface, &stale);

	if (!s)
		return stale ? 0 : sfc__protocol_error(conn,
		                                        "CLOSED for an unknown surface");
	s->closed = true;
	if (SFC_HAS_CALLBACK(s, closed))
		s->listener->closed(s->listener_data, s);
	return 0;
}

/* A surface's buffer memory at one size: made first, so that failing to
 * make it leaves the surface as it was, then installed. */
struct pool {
	struct sf_segment seg;       /* shm: one segment holds every buffer */
	uint8_t nonce[SF_NONCE_SIZE];
	void *memory;                /* socket: our own memory */
	uint8_t *base;
	uint32_t stride;
	uint64_t first, bytes;       /* offset of buffer 0; bytes per buffer */
};

/*
 * Makes the memory of n_buffers buffers of width x height: over shm one
 * segment (made, not yet offered), each buffer at a page-aligned offset
 * from first; else zeroed memory of ours.  replaces: bytes of the
 * segment this one takes the place of at the server (0: none).
 */
static int pool_make(struct shmframe_surface *s, uint32_t width,
                     uint32_t height, uint64_t first, uint64_t replaces,
                     struct pool *p)
{
	struct shmframe_conn *conn = s->conn;
	bool shm = conn->transport == SHMFRAME_TRANSPORT_SHM;
	uint64_t row = (uint64_t)width * SF_BYTES_PER_PIXEL;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t total;
	int err;

	memset(p, 0, sizeof *p);
	sf__segment_init(&p->seg);
	/* On the socket, rows without padding let whole-width damage go out
	 * as one iovec. */
	p->stride = (uint32_t)(shm ? align_up(row, ROW_ALIGN) : row);
	p->bytes = align_up((uint64_t)p->stride * height, shm ? page : ROW_ALIGN);
	p->first = first;
	total = first + p->bytes * s->n_buffers;
	if (total > SIZE_MAX / 2)
		return -EFBIG;
	if (shm) {
		err = sfc__segment_make(conn, &p->seg, (size_t)total, replaces,
		                        p->nonce);
		if (err)
			return err;
		p->base = p->seg.map;
	} else {
		void *mem;

		err = posix_memalign(&mem, ROW_ALIGN, (size_t)total);
		if (err)
			return -err;
		memset(mem, 0, (size_t)total);
		p->memory = mem;
		p->base = mem;
	}
	return 0;
}

static void pool_free(struct pool *p)
{
	sf__segment_close(&p->seg);
	free(p->memory);
}

/* The surface's buffers become the pool's, with ids it never used. */
static void pool_install(struct shmframe_surface *s, struct pool *p)
{
	s->seg = p->seg;
	s->memory = p->memory;
	s->stride = p->stride;
	for (unsigned i = 0; i < s->n_buffers; i++) {
		struct shmframe_buffer *b = &s->buffers[i];

		b->surface = s;
		b->id = s->buffer_id_base + i + 1;
		b->state = SF_BUFFER_FREE;
		b->serial = 0;
		b->offset = p->first + p->bytes * i;
		b->pixels = p->base + b->offset;
	}
}

/* Makes the first pool: in shm mode its segment is attached to the
 * server (confirmed by the caller's round trip). */
static int make_buffers(struct shmframe_surface *s)
{
	struct pool p;
	int err = pool_make(s, s->width, s->height, 0, 0, &p);

	if (err)
		return err;
	if (p.seg.map) {
		err = sfc__segment_offer(s->conn, &p.seg, 0, p.nonce,
		                         &s->segment_id);
		if (err) {
			pool_free(&p);
			return err;
		}
	}
	pool_install(s, &p);
	return 0;
}

/* The public formats and present modes go on the wire as they are. */
_Static_assert(SHMFRAME_FORMAT_ARGB8888 == (int)SF_FORMAT_ARGB8888 &&
               SHMFRAME_FORMAT_XRGB8888 == (int)SF_FORMAT_XRGB8888,
               "enum shmframe_format is not enum sf_format");
_Static_assert(SHMFRAME_PRESENT_LATCH == (int)SF_PRESENT_LATCH &&
               SHMFRAME_PRESENT_COPY == (int)SF_PRESENT_COPY,
               "enum shmframe_present_mode is not enum sf_present_mode");

static int send_create(struct shmframe_surface *s)
{
	struct sf_create_surface c = {
		.id = s->id,
		.width = s->width,
		.height = s->height,
		.format = s->format,
		.present_mode = s->mode,
		.title_len = (uint16_t)strlen(s->title),
	};

	return sfc__request(s->conn, SF_CREATE_SURFACE, &c, sizeof c, s->title,
	                   c.title_len);
}

static int send_destroy(struct shmframe_surface *s)
{
	struct sf_destroy_surface d = { .id = s->id };

	return sfc__request(s->conn, SF_DESTROY_SURFACE, &d, sizeof d, NULL, 0);
}

/* Takes s off the connection's list of live surfaces. */
static void forget_surface(struct shmframe_conn *conn, struct shmframe_surface *s)
{
	for (struct shmframe_surface **p = &conn->surfaces; *p; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			break;
		}
	}
	conn->surfaces_live--;
}

SHMFRAME_EXPORT struct shmframe_surface *
shmframe_surface_create(struct shmframe_conn *conn, uint32_t width,
                        uint32_t height, enum shmframe_format format,
                        const char *title)
{
	struct shmframe_surface *s;
	int err;

	if (!conn) {
		errno = EINVAL;
		return NULL;
	}
	if (conn->error) {
		errno = -conn->error;
		return NULL;
	}
	if (width == 0 || height == 0 || width > conn->welcome.max_width ||
	    height > conn->welcome.max_height ||
	    (format != SHMFRAME_FORMAT_ARGB8888 &&
	     format != SHMFRAME_FORMAT_XRGB8888)) {
		sfc__log(conn, SHMFRAME_LOG_ERROR, "cannot create a %ux%u surface "
		        "of format %d: the server allows up to %ux%u", width, height,
		        (int)format, conn->welcome.max_width, conn->welcome.max_height);
		errno = EINVAL;
		return NULL;
	}
	if (conn->welcome.max_surfaces &&
	    conn->surfaces_live >= conn->welcome.max_surfaces) {
		sfc__log(conn, SHMFRAME_LOG_ERROR, "the server allows %u surfaces "
		        "per client", conn->welcome.max_surfaces);
		errno = EDQUOT;
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	sf__segment_init(&s->seg);
	s->conn = conn;
	s->width = width;
	s->height = height;
	s->format = (uint32_t)format;
	s->mode = SHMFRAME_PRESENT_LATCH;
	s->n_buffers = conn->opts.buffers;
	s->next_serial = 1;
	if (title)
		strncpy(s->title, title, SF_MAX_NAME);
	err = make_buffers(s);
	if (err)
		goto free_surface;
	s->id = ++conn->next_surface_id;
	/* Known before the server hears of it: an event for the surface
	 * (a window closed at once, say) can arrive during the round trip. */
	s->next = conn->surfaces;
	conn->surfaces = s;
	conn->surfaces_live++;
	err = send_create(s);
	if (!err)
		err = sfc__roundtrip(conn);
	if (err)
		goto unlink_surface;
	if (s->segment_id) {
		/* The server holds the segment now: no name may outlive us, and
		 * the proof has done its job. */
		sf__segment_unlink(&s->seg);
		memset(s->seg.map, 0, SF_PROOF_SIZE);
	}
	return s;

unlink_surface:
	forget_surface(conn, s);
free_surface:
	/* A failure after the segment was attached broke the connection, so
	 * there is no DETACH to send. */
	sfc__surface_free(s);
	errno = -err;
	return NULL;
}

SHMFRAME_EXPORT void shmframe_surface_destroy(struct shmframe_surface *s)
{
	struct shmframe_conn *conn;

	if (!s)
		return;
	conn = s->conn;
	forget_surface(conn, s);
	sfc__compress_surface_gone(conn, s->id);
	if (!conn->error) {
		/* The server releases a latched buffer without an event and
		 * keeps its own mapping of it while it needs one. */
		send_destroy(s);
		if (s->segment_id)
			sfc__segment_detach(conn, s->segment_id, s->seg.size);
		sfc__flush(conn);
	}
	conn->inflight -= s->inflight;
	for (unsigned i = 0; i < s->n_buffers; i++)
		if (s->buffers[i].state == SF_BUFFER_ACQUIRED)
			conn->acquired--;
	sfc__surface_free(s);
}

_Static_assert(sizeof(struct shmframe_surface_listener) >= SFC_LISTENER_1_0_SIZE,
               "struct shmframe_surface_listener shrank below 1.0");
#if defined(__LP64__)
_Static_assert(SFC_LISTENER_1_0_SIZE == 24 &&
               offsetof(struct shmframe_surface_listener, released) == 8,
               "a member of the 1.0 struct shmframe_surface_listener moved");
#endif

SHMFRAME_EXPORT void
shmframe_surface_set_listener_sized(struct shmframe_surface *s,
                                    const struct shmframe_surface_listener *listener,
                                    size_t size, void *data)
{
	if (!s)
		return;
	s->listener = listener;
	s->listener_size = listener ? size : 0;
	s->listener_data = listener ? data : NULL;
}

SHMFRAME_EXPORT void
shmframe_surface_set_listener(struct shmframe_surface *s,
                              const struct shmframe_surface_listener *listener,
                              void *data)
{
	shmframe_surface_set_listener_sized(s, listener, SFC_LISTENER_1_0_SIZE,
	                                    data);
}

SHMFRAME_EXPORT int shmframe_surface_set_present_mode(struct shmframe_surface *s,
                                                      enum shmframe_present_mode mode)
{
	if (!s || (mode != SHMFRAME_PRESENT_LATCH && mode != SHMFRAME_PRESENT_COPY))
		return -EINVAL;
	if (s->conn->error)
		return s->conn->error;
	if (mode == s->mode)
		return 0;
	/* Each PUT_IMAGE says how it wants to be taken (its COPY flag), so
	 * the switch costs nothing: a buffer the server still latches comes
	 * back when the next frame replaces it, as always. */
	s->mode = mode;
	return 0;
}

static int send_resize(struct shmframe_surface *s, uint32_t width,
                       uint32_t height, uint32_t serial)
{
	struct sf_resize_surface m = {
		.surface = s->id,
		.width = width,
		.height = height,
		.serial = serial,
	};
	int err = sfc__request(s->conn, SF_RESIZE_SURFACE, &m, sizeof m, NULL, 0);

	if (!err && serial)
		s->acked_serial = serial;
	return err;
}

/* Room in s->retired for every buffer the server holds now, so that
 * retiring them after the requests went out cannot fail. */
static int reserve_retired(struct shmframe_surface *s)
{
	unsigned busy = 0, want;
	struct sfc_retired *r;

	for (unsigned i = 0; i < s->n_buffers; i++)
		busy += s->buffers[i].state == SF_BUFFER_BUSY;
	want = s->n_retired + busy;
	if (want <= s->cap_retired)
		return 0;
	r = realloc(s->retired, want * sizeof *r);
	if (!r)
		return -ENOMEM;
	s->retired = r;
	s->cap_retired = want;
	return 0;
}

/* A resize refuses to answer a serial the server did not send, or one
 * older than the last answered: the server's SEQUENCE error would end
 * the connection. */
static bool serial_known(const struct shmframe_surface *s, uint32_t serial)
{
	return s->configure_serial &&
	       (int32_t)(s->configure_serial - serial) >= 0 &&
	       (int32_t)(serial - s->acked_serial) >= 0;
}

/*
 * In this order on the wire: RESIZE_SURFACE, then DETACH_SEGMENT of the
 * old segment, then ATTACH_SEGMENT of the new one, so that the server
 * never holds more segments or bytes of ours than before.  The new
 * segment keeps its proof in a page of its own ahead of the buffers: no
 * round trip confirms it, and the program may draw into buffer 0 before
 * the server has read the proof.
 */
SHMFRAME_EXPORT int shmframe_surface_resize(struct shmframe_surface *s,
                                            uint32_t width, uint32_t height,
                                            uint32_t serial)
{
	struct shmframe_conn *conn;
	uint32_t segment_id = 0;
	struct pool p;
	int err = sfc__input_usable(s, "cannot resize a surface");

	if (err)
		return err;
	conn = s->conn;
	if (width == 0 || height == 0)
		return -EINVAL;
	if (width > conn->welcome.max_width || height > conn->welcome.max_height) {
		sfc__log(conn, SHMFRAME_LOG_ERROR, "cannot resize to %ux%u: the "
		        "server allows up to %ux%u", width, height,
		        conn->welcome.max_width, conn->welcome.max_height);
		return -EFBIG;
	}
	for (unsigned i = 0; i < s->n_buffers; i++) {
		if (s->buffers[i].state == SF_BUFFER_ACQUIRED) {
			sfc__log(conn, SHMFRAME_LOG_ERROR, "cannot resize while a "
			        "buffer is acquired: present or discard it first");
			return -EBUSY;
		}
	}
	if (serial && !serial_known(s, serial)) {
		sfc__log(conn, SHMFRAME_LOG_ERROR, "cannot answer configure %u: "
		        "the last one sent is %u, the last answered %u", serial,
		        s->configure_serial, s->acked_serial);
		return -EINVAL;
	}
	/* A frame held for the link is of the old size: it goes first. */
	err = sfc__inline_send_held(s, true, true);
	if (err)
		return err;
	if (width == s->width && height == s->height)
		return serial ? send_resize(s, width, height, serial) : 0;

	err = pool_make(s, width, height,
	                s->segment_id ? (uint64_t)sysconf(_SC_PAGESIZE) : 0,
	                s->segment_id ? s->seg.size : 0, &p);
	if (err)
		return err;
	err = reserve_retired(s);
	if (err) {
		sfc__log(conn, SHMFRAME_LOG_ERROR, "out of memory to resize");
		goto free_pool;
	}
	err = send_resize(s, width, height, serial);
	if (!err && s->segment_id)
		err = sfc__segment_detach(conn, s->segment_id, s->seg.size);
	if (!err && p.seg.map)
		err = sfc__segment_offer(conn, &p.seg, 0, p.nonce, &segment_id);
	/* Anything that failed once a request was queued broke the
	 * connection: the surface keeps its old memory until destroyed. */
	if (err)
		goto free_pool;

	/* The buffers the server held come back with their old ids, which
	 * the new buffers do not take. */
	for (unsigned i = 0; i < s->n_buffers; i++) {
		const struct shmframe_buffer *b = &s->buffers[i];

		if (b->state == SF_BUFFER_BUSY)
			s->retired[s->n_retired++] = (struct sfc_retired){ b->id,
			                                                   b->serial };
	}
	/* The server keeps its own mapping while it needs one. */
	sf__segment_close(&s->seg);
	free(s->memory);
	s->buffer_id_base += s->n_buffers;
	sfc__inline_resized(s); /* the shadow is of the old size */
	s->width = width;
	s->height = height;
	s->segment_id = segment_id;
	pool_install(s, &p);
	/* The server's copy is zeros of the new size. */
	s->full_damage = true;
	return 0;

free_pool:
	pool_free(&p);
	return err;
}

SHMFRAME_EXPORT int shmframe_surface_closed(const struct shmframe_surface *s)
{
	return s ? s->closed : 0;
}

SHMFRAME_EXPORT uint32_t shmframe_surface_width(const struct shmframe_surface *s)
{
	return s ? s->width : 0;
}

SHMFRAME_EXPORT uint32_t shmframe_surface_height(const struct shmframe_surface *s)
{
	return s ? s->height : 0;
}

static struct shmframe_buffer *take_free(struct shmframe_surface *s)
{
	for (unsigned i = 0; i < s->n_buffers; i++) {
		struct shmframe_buffer *b = &s->buffers[i];

		if (b->state == SF_BUFFER_FREE) {
			b->state = SF_BUFFER_ACQUIRED;
			s->conn->acquired++;
			return b;
		}
	}
	return NULL;
}

static bool has_free(const struct shmframe_surface *s)
{
	for (unsigned i = 0; i < s->n_buffers; i++)
		if (s->buffers[i].state == SF_BUFFER_FREE)
			return true;
	return false;
}

/*
 * Whether waiting can ever produce a free buffer.  In copy mode every busy
 * buffer comes back; in latch mode the server keeps the newest frame's
 * buffer until another frame replaces it, so only a second busy one is
 * sure to return.  Otherwise the caller holds the rest and waiting would
 * never end.
 */
static bool release_coming(const struct shmframe_surface *s)
{
	unsigned busy = 0;

	for (unsigned i = 0; i < s->n_buffers; i++)
		busy += s->buffers[i].state == SF_BUFFER_BUSY;
	return s->mode == SHMFRAME_PRESENT_COPY ? busy > 0 : busy >= 2;
}

/*
 * The server takes at most max_inflight unanswered PUT_IMAGE/GET_IMAGE;
 * counting the buffers already handed out keeps every later present within
 * it, so the caller can never hold more buffers than it may present.
 */
bool sfc__inflight_room(const struct shmframe_conn *conn)
{
	uint32_t max = conn->welcome.max_inflight;

	return max == 0 || conn->inflight + conn->acquired < max;
}

int sfc__wait_inflight_room(struct shmframe_conn *conn)
{
	/* Nothing in flight cannot make room: then the request goes as it
	 * is, and the server says LIMIT. */
	while (conn->inflight && !sfc__inflight_room(conn)) {
		int r = sfc__pump(conn);

		if (r < 0)
			return r;
	}
	return 0;
}

static struct shmframe_buffer *acquire(struct shmframe_surface *s, bool wait)
{
	struct shmframe_conn *conn;
	int r;

	if (!s) {
		errno = EINVAL;
		return NULL;
	}
	conn = s->conn;
	/* Events that already arrived first: they may free a buffer, and a
	 * client that always finds one free must still read its PRESENTED.
	 * With rings they are in memory, and the socket is read only when
	 * one is due there (the ring's next entry is numbered past it) or
	 * when there is nothing to do but wait: no syscall per frame. */
	if (wait && !conn->error) {
		if (conn->rings && sfc__process(conn) >= 0 && !sfc__ring_gap(conn))
			r = -EAGAIN;
		else
			r = sfc__read_available(conn);
		if (!r)
			sfc__process(conn);
	}
	for (;;) {
		if (conn->error) {
			errno = -conn->error;
			return NULL;
		}
		if (has_free(s) && sfc__inflight_room(conn))
			return take_free(s);
		if (!wait) {
			errno = EAGAIN;
			return NULL;
		}
		if (has_free(s) && conn->inflight == 0) {
			/* Nothing in flight can make room: the caller already
			 * holds as many buffers as the server lets it present. */
			sfc__log(conn, SHMFRAME_LOG_ERROR, "acquire would wait forever: "
			        "%u buffers are held, the server allows %u in flight",
			        conn->acquired, conn->welcome.max_inflight);
			errno = EDEADLK;
			return NULL;
		}
		if (!has_free(s) && !release_coming(s)) {
			sfc__log(conn, SHMFRAME_LOG_ERROR, "acquire would wait forever: "
			        "the caller or the server holds all %u buffers",
			        s->n_buffers);
			errno = EDEADLK;
			return NULL;
		}
		r = sfc__pump(conn);
		if (r < 0) {
			errno = -r;
			return NULL;
		}
	}
}

SHMFRAME_EXPORT struct shmframe_buffer *
shmframe_acquire(struct shmframe_surface *s)
{
	return acquire(s, true);
}

SHMFRAME_EXPORT struct shmframe_buffer *
shmframe_try_acquire(struct shmframe_surface *s)
{
	return acquire(s, false);
}

SHMFRAME_EXPORT void *shmframe_buffer_pixels(struct shmframe_buffer *b,
                                             uint32_t *stride)
{
	if (!b) {
		errno = EINVAL;
		return NULL;
	}
	if (stride)
		*stride = b->surface->stride;
	return b->pixels;
}

SHMFRAME_EXPORT void shmframe_buffer_discard(struct shmframe_surface *s,
                                             struct shmframe_buffer *b)
{
	if (!s || !b || b->surface != s || b->state != SF_BUFFER_ACQUIRED)
		return;
	b->state = SF_BUFFER_FREE;
	s->conn->acquired--;
}

/* Rectangles per PUT_IMAGE: the protocol's limit, or fewer when the
 * server announced a smaller largest message. */
static unsigned max_rects(const struct shmframe_conn *conn)
{
	uint32_t max = conn->welcome.max_message;
	unsigned n;

	if (max < sizeof(struct sf_put_image) + sizeof(struct sf_rect))
		return 1;
	n = (max - sizeof(struct sf_put_image)) / sizeof(struct sf_rect);
	return n < SF_MAX_RECTS ? n : SF_MAX_RECTS;
}

SHMFRAME_EXPORT int shmframe_present(struct shmframe_surface *s,
                                     struct shmframe_buffer *b,
                                     const struct shmframe_rect *damage,
                                     unsigned n_damage, uint32_t *serial)
{
	uint8_t msg[sizeof(struct sf_put_image) + SF_MAX_RECTS * sizeof(struct sf_rect)];
	struct sf_rect rects[SF_MAX_RECTS], box = { 0 };
	struct sf_put_image put;
	struct shmframe_conn *conn;
	unsigned n = 0;
	size_t len;
	int err;

	if (!s || !b || b->surface != s || b->state != SF_BUFFER_ACQUIRED ||
	    (n_damage && !damage))
		return -EINVAL;
	conn = s->conn;
	if (conn->error)
		return conn->error;
	for (unsigned i = 0; i < n_damage; i++) {
		struct sf_rect r = { damage[i].x, damage[i].y, damage[i].width,
		                     damage[i].height };

		if (!sf__rect_inside(&r, s->width, s->height))
			return -EINVAL;
		if (i < max_rects(conn))
			rects[n++] = r;
		sf__rect_extend(&box, &r);
	}
	/* More rectangles than a message holds: one that covers them all. */
	if (n_damage > max_rects(conn)) {
		rects[0] = box;
		n = 1;
	}
	if (s->full_damage)
		n = 0;

	memset(&put, 0, sizeof put);
	put.surface = s->id;
	put.serial = s->next_serial++;
	put.n_rects = n;
	if (s->segment_id) {
		if (s->mode == SHMFRAME_PRESENT_COPY)
			put.hdr.flags = SF_PUT_IMAGE_COPY;
		put.segment = s->segment_id;
		put.buffer = b->id;
		put.offset = b->offset;
		put.stride = s->stride;
	}
	len = sf__encode(msg, sizeof msg, SF_PUT_IMAGE, &put, sizeof put, rects,
	                 n * sizeof rects[0]);
	if (len == 0)
		return sfc__fail(conn, -EINVAL, "cannot encode PUT_IMAGE");

	b->serial = put.serial;
	conn->acquired--;
	if (s->segment_id) {
		b->state = SF_BUFFER_BUSY;
		/* On the ring when it has room, the socket otherwise: the
		 * request's number keeps it in order with the socket's. */
		err = conn->rings && len <= SF_RING_REQ_MESSAGE
		      ? sfc__ring_request(conn, msg, len) : 0;
		if (err == 0) {
			err = sfc__queue(conn, msg, len);
			if (!err)
				err = sfc__flush(conn);
			if (err == -EAGAIN)
				err = 0;
		} else if (err > 0) {
			err = 0;
		}
	} else {
		/* The bytes are in the kernel, or copied aside, once this
		 * returns, so the buffer is the caller's to take again at once. */
		b->state = SF_BUFFER_FREE;
		err = sfc__inline_present(s, put.serial, b->pixels, s->stride,
		                          rects, n, max_rects(conn));
		if (err)
			return err;
		s->full_damage = false;
		if (serial)
			*serial = put.serial;
		return 0;
	}
	if (err)
		return err;
	conn->stats.presents++;
	conn->stats.frames_sent++;
	s->full_damage = false;
	s->inflight++;
	conn->inflight++;
	if (serial)
		*serial = put.serial;
	return 0;
}
