/*
 * Requests: one handler per message type, each decoding its message with
 * protocol/wire.c (which checks every field) and then checking it against
 * this client's state and the server's limits before touching anything.
 * A handler that finds a problem returns sfs__client_fail(...), which sends
 * ERROR naming the request and the problem, and ends the connection.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server-private.h"

static int fail_decode(struct sf_client *c, int code, const char *why)
{
	return sfs__client_fail(c, (uint32_t)code, "%s", why ? why : "malformed");
}

/* The client's surface id, or NULL after failing the client. */
static struct sf_surface *surface_or_fail(struct sf_client *c, uint32_t id)
{
	struct sf_surface *s = sfs__surface_find(c, id);

	if (!s)
		sfs__client_fail(c, SF_ERR_BAD_SURFACE, "no surface %u", id);
	return s;
}

/* The client's attached segment id, or NULL after failing the client. */
static struct sf_shmseg *segment_or_fail(struct sf_client *c, uint32_t id)
{
	struct sf_shmseg *seg = sfs__shmseg_find(c, id);

	if (!seg)
		sfs__client_fail(c, SF_ERR_BAD_SEGMENT, "segment %u is not attached",
		                 id);
	return seg;
}

/* ---- peer text -------------------------------------------------------- */

static void make_printable(char dst[SF_SHOWN_MAX], const char *src)
{
	sf__text_printable(dst, SF_SHOWN_MAX, src);
}

/* ---- handshake -------------------------------------------------------- */

static bool uid_allowed(const struct sf_server *server, uint32_t uid)
{
	if (uid == (uint32_t)server->uid || uid == 0)
		return true;
	for (unsigned i = 0; i < server->n_allow_uids; i++)
		if (uid == (uint32_t)server->allow_uids[i])
			return true;
	return false;
}

static unsigned count_ready(const struct sf_server *server)
{
	unsigned n = 0;

	for (const struct sf_list *l = server->clients.next;
	     l != &server->clients; l = l->next)
		n += sf_container_of(l, const struct sf_client, link)->state ==
		     SF_CLIENT_READY;
	return n;
}

static int handle_hello(struct sf_client *c, const uint8_t *msg, size_t len)
{
	struct sf_server *server = c->server;
	const struct sf_limits *lim = &server->limits;
	struct sf_hello m;
	struct sf_welcome w;
	char name[SF_MAX_NAME + 1];
	const char *why = NULL;
	int code;

	if (c->state != SF_CLIENT_HELLO)
		return sfs__client_fail(c, SF_ERR_SEQUENCE,
		                       "HELLO sent twice on one connection");
	code = sf__decode_hello(msg, len, &m, name, &why);
	if (code == SF_ERR_BAD_MAGIC) {
		uint32_t magic = 0;

		if (len >= 12)
			memcpy(&magic, msg + 8, sizeof magic);
		return sfs__client_fail(c, SF_ERR_BAD_MAGIC,
		                       "bad magic 0x%08x (shmframe is 0x%08x, "
		                       "\"SFRM\"): the peer does not speak the "
		                       "shmframe protocol", magic, SF_MAGIC);
	}
	if (code == SF_ERR_BAD_VERSION) {
		uint16_t major = 0, minor = 0;

		if (len >= 16) {
			memcpy(&major, msg + 12, sizeof major);
			memcpy(&minor, msg + 14, sizeof minor);
		}
		return sfs__client_fail(c, SF_ERR_BAD_VERSION,
		                       "the client speaks protocol %u.%u, this "
		                       "server speaks %u.%u: major versions differ",
		                       major, minor, SF_VERSION_MAJOR,
		                       SF_VERSION_MINOR);
	}
	if (code)
		return fail_decode(c, code, why);
	make_printable(c->name, name[0] ? name : "unnamed");

	if (c->is_unix && !uid_allowed(server, c->peer_uid)) {
		if (c->peer_uid == (uint32_t)-2)
			return sfs__client_fail(c, SF_ERR_AUTH, "the peer's credentials "
			                       "could not be read (SO_PEERCRED)");
		return sfs__client_fail(c, SF_ERR_AUTH,
		                       "uid %u may not use this server, which runs "
		                       "as uid %u (start it with --allow-uid %u to "
		                       "let it in)", c->peer_uid,
		                       (unsigned)server->uid, c->peer_uid);
	}
	if (!c->is_unix && !sfs__auth_check(server, m.cookie))
		return sfs__client_fail(c, SF_ERR_AUTH,
		                       "wrong or missing cookie: a TCP client must "
		                       "send the cookie of the server's auth file %s",
		                       server->auth_path);
	if (count_ready(server) >= server->glimits.max_clients)
		return sfs__client_fail(c, SF_ERR_LIMIT, "the server already has "
		                       "%u clients, its limit (--max-clients)",
		                       server->glimits.max_clients);

	/* Fresh for every connection, and not the client's to choose: what a
	 * segment must hold to prove the client could write it. */
	if (sf__random(c->challenge, sizeof c->challenge) < 0)
		return sfs__client_fail(c, SF_ERR_NO_MEMORY, "the server could not "
		                       "draw a random challenge (getrandom)");

	memset(&w, 0, sizeof w);
	w.magic = SF_MAGIC;
	w.major = SF_VERSION_MAJOR;
	w.minor = SF_VERSION_MINOR;
	/* An fd cannot cross TCP; the other kinds may, when the host is the
	 * same (the probe decides). */
	w.caps = c->is_unix ? SF_CAP_ALL : SF_CAP_ALL & ~(uint32_t)SF_CAP_SHM_MEMFD;
	/* Rings only to a client that knows the bit (2.1 and later). */
	c->rings.offered = m.minor >= 1 && !server->signal_socket;
	if (c->rings.offered)
		w.caps |= SF_CAP_RING;
	/* Input and resize only to a client that knows them (2.2). */
	c->minor = m.minor;
	if (c->minor >= 2)
		w.caps |= SF_CAP_INPUT;
	/* Compressed inline pixels only to a client that knows them (2.3). */
	if (c->minor >= 3)
		w.caps |= SF_CAP_LZ4 | SF_CAP_ZSTD;
	w.client_id = c->id;
	w.max_width = lim->max_width;
	w.max_height = lim->max_height;
	w.max_surfaces = lim->max_surfaces;
	w.max_segments = lim->max_segments;
	w.max_segment_size = lim->max_segment_size;
	w.max_mapped = lim->max_mapped;
	w.max_message = lim->max_message;
	w.max_inflight = lim->max_inflight;
	w.max_output = lim->max_output;
	memcpy(w.challenge, c->challenge, sizeof w.challenge);
	c->state = SF_CLIENT_READY;
	sfs__verbose(server, "client %u \"%s\" connected (%s)", c->id, c->name,
	            c->peer);
	sfs__out_message(c, SF_WELCOME, &w, sizeof w, NULL, 0);
	return 0;
}

/* ---- segments --------------------------------------------------------- */

static int reply_probe(struct sf_client *c, uint8_t kind, int status,
                       const char *text)
{
	struct sf_probe_result r = {
		.kind = kind,
		.status = (uint8_t)status,
		.text_len = (uint16_t)strnlen(text, SF_MAX_TEXT),
	};

	sfs__out_message(c, SF_PROBE_RESULT, &r, sizeof r, text, r.text_len);
	return 0;
}

/* The size checks PROBE and ATTACH share; fills why when refused. */
static bool size_allowed(struct sf_client *c, uint64_t size, char *why,
                         size_t why_len)
{
	const struct sf_limits *lim = &c->server->limits;
	const struct sf_server_limits *glim = &c->server->glimits;

	if (size > lim->max_segment_size) {
		snprintf(why, why_len, "a segment of %llu bytes is larger than the "
		         "server's limit of %llu bytes",
		         (unsigned long long)size,
		         (unsigned long long)lim->max_segment_size);
		return false;
	}
	if (size > lim->max_mapped - c->res.mapped) {
		snprintf(why, why_len, "%llu more bytes would exceed the %llu bytes "
		         "a client may have mapped (%llu already are)",
		         (unsigned long long)size,
		         (unsigned long long)lim->max_mapped,
		         (unsigned long long)c->res.mapped);
		return false;
	}
	if (size > glim->max_mapped_total - c->server->mapped_total) {
		snprintf(why, why_len, "%llu more bytes would exceed the %llu bytes "
		         "the server maps for all its clients together (%llu "
		         "already are; --max-mapped-total)",
		         (unsigned long long)size,
		         (unsigned long long)glim->max_mapped_total,
		         (unsigned long long)c->server->mapped_total);
		return false;
	}
	return true;
}

static int handle_probe(struct sf_client *c, const struct sf_segment_msg *m)
{
	char why[SF_MAX_TEXT];
	struct sf_shmseg *seg;
	int fd = m->kind == SF_SHM_MEMFD ? sfs__client_take_fd(c) : -1;
	int st;

	if (m->kind == SF_SHM_MEMFD && fd < 0)
		return reply_probe(c, m->kind, SF_PROBE_NO_FD,
		                   "no file descriptor arrived with the memfd "
		                   "(TCP, or a proxy that drops them)");
	if (!size_allowed(c, m->size, why, sizeof why)) {
		if (fd >= 0)
			close(fd);
		return reply_probe(c, m->kind, SF_PROBE_REFUSED, why);
	}
	st = sfs__shmseg_open(c, m, fd, &seg, why, sizeof why);
	if (st == SF_PROBE_OK) {
		snprintf(why, sizeof why, "%s segment of %llu bytes mapped; it "
		         "holds the nonce and the challenge", sf__shm_kind_name(m->kind),
		         (unsigned long long)m->size);
		sfs__shmseg_unref(seg);
	}
	return reply_probe(c, m->kind, st, why);
}

static int handle_attach(struct sf_client *c, const struct sf_segment_msg *m)
{
	const struct sf_limits *lim = &c->server->limits;
	char why[SF_MAX_TEXT];
	struct sf_shmseg *seg;
	int fd = m->kind == SF_SHM_MEMFD ? sfs__client_take_fd(c) : -1;
	int st;

	if (sfs__shmseg_find(c, m->id)) {
		if (fd >= 0)
			close(fd);
		return sfs__client_fail(c, SF_ERR_BAD_SEGMENT,
		                       "segment id %u is already attached", m->id);
	}
	if (c->res.n_segments >= lim->max_segments) {
		if (fd >= 0)
			close(fd);
		return sfs__client_fail(c, SF_ERR_LIMIT, "segment %u would be one more "
		                       "than the %u segments a client may attach",
		                       m->id, lim->max_segments);
	}
	if (!size_allowed(c, m->size, why, sizeof why)) {
		if (fd >= 0)
			close(fd);
		return sfs__client_fail(c, SF_ERR_LIMIT, "segment %u: %s", m->id, why);
	}
	if (m->kind == SF_SHM_MEMFD && fd < 0)
		return sfs__client_fail(c, SF_ERR_NO_FD, "segment %u is a memfd but no "
		                       "file descriptor arrived with it", m->id);
	st = sfs__shmseg_open(c, m, fd, &seg, why, sizeof why);
	if (st != SF_PROBE_OK)
		return sfs__client_fail(c, SF_ERR_BAD_SEGMENT,
		                       "segment %u (%s, %llu bytes): %s", m->id,
		                       sf__shm_kind_name(m->kind),
		                       (unsigned long long)m->size, why);
	seg->attached = true;
	list_append(&c->res.segments, &seg->link);
	c->res.n_segments++;
	return 0;
}

/* A control segment refused: the connection goes on without rings. */
static int refuse_control(struct sf_client *c, const struct sf_segment_msg *m,
                          int status, const char *why)
{
	sfs__verbose(c->server, "client %u: control segment (%s) refused: %s",
	            c->id, sf__shm_kind_name(m->kind), why);
	return reply_probe(c, m->kind, status, why);
}

/* ATTACH_CONTROL: made, proved and counted like every segment, but what
 * would fail an ATTACH_SEGMENT is answered with PROBE_RESULT. */
static int handle_attach_control(struct sf_client *c,
                                 const struct sf_segment_msg *m)
{
	const struct sf_limits *lim = &c->server->limits;
	char why[SF_MAX_TEXT];
	struct sf_shmseg *seg;
	int fd = m->kind == SF_SHM_MEMFD ? sfs__client_take_fd(c) : -1;
	int st;

	if (!c->rings.offered || c->rings.control) {
		if (fd >= 0)
			close(fd);
		return sfs__client_fail(c, SF_ERR_SEQUENCE, "%s",
		                       c->rings.control
		                       ? "the connection has its control segment "
		                         "already"
		                       : "the server did not offer RING in WELCOME");
	}
	if (m->kind == SF_SHM_MEMFD && fd < 0)
		return refuse_control(c, m, SF_PROBE_NO_FD, "no file descriptor "
		                      "arrived with the memfd");
	if (c->res.n_segments >= lim->max_segments) {
		if (fd >= 0)
			close(fd);
		snprintf(why, sizeof why, "it would be one more than the %u segments "
		         "a client may attach", lim->max_segments);
		return refuse_control(c, m, SF_PROBE_REFUSED, why);
	}
	if (!size_allowed(c, m->size, why, sizeof why)) {
		if (fd >= 0)
			close(fd);
		return refuse_control(c, m, SF_PROBE_REFUSED, why);
	}
	st = sfs__shmseg_open(c, m, fd, &seg, why, sizeof why);
	if (st != SF_PROBE_OK)
		return refuse_control(c, m, st, why);
	sfs__rings_start(c, seg);
	return reply_probe(c, m->kind, SF_PROBE_OK, "control segment mapped: "
	                   "the rings are in use");
}

static int handle_segment(struct sf_client *c, const uint8_t *msg, size_t len)
{
	struct sf_segment_msg m;
	const char *why = NULL;
	int code = sf__decode_segment(msg, len, &m, &why);

	if (code) {
		/* Its fd, if any, is left in the queue and closed with it. */
		return fail_decode(c, code, why);
	}
	if (m.hdr.type == SF_PROBE)
		return handle_probe(c, &m);
	if (m.hdr.type == SF_ATTACH_CONTROL)
		return handle_attach_control(c, &m);
	return handle_attach(c, &m);
}

static int handle_detach(struct sf_client *c, const uint8_t *msg, size_t len)
{
	struct sf_detach_segment m;
	struct sf_shmseg *seg;
	const char *why = NULL;
	int code = sf__decode_detach_segment(msg, len, &m, &why);

	if (code)
		return fail_decode(c, code, why);
	seg = segment_or_fail(c, m.id);
	if (!seg)
		return -1;
	sfs__shmseg_detach(seg);
	return 0;
}

/* ---- surfaces --------------------------------------------------------- */

/* A surface of width x height in place of one of old_bytes (0: a new
 * one) is within the server's limits on size and surface memory.  what
 * names it in the ERROR ("surface 3 of 10x10").  0, or -1 after failing
 * the client with LIMIT. */
static int check_surface_size(struct sf_client *c, const char *what,
                              uint32_t width, uint32_t height,
                              uint64_t old_bytes)
{
	struct sf_server *server = c->server;
	const struct sf_limits *lim = &server->limits;
	const struct sf_server_limits *glim = &server->glimits;
	uint64_t bytes = sfs__surface_bytes(width, height);

	if (width > lim->max_width || height > lim->max_height)
		return sfs__client_fail(c, SF_ERR_LIMIT, "%s is larger than the "
		                       "server's limit of %ux%u", what,
		                       lim->max_width, lim->max_height);
	/* Both sums hold old_bytes, so neither subtraction wraps. */
	if (bytes > glim->max_surface_memory -
	            (c->res.surface_memory - old_bytes))
		return sfs__client_fail(c, SF_ERR_LIMIT, "%s would bring the "
		                       "client's surfaces to more than %llu bytes "
		                       "of pixels (--max-surface-memory)", what,
		                       (unsigned long long)glim->max_surface_memory);
	if (bytes > glim->max_surface_memory_total -
	            (server->surface_memory_total - old_bytes))
		return sfs__client_fail(c, SF_ERR_LIMIT, "%s would bring the "
		                       "surfaces of all clients to more than %llu "
		                       "bytes of pixels (--max-surface-memory-total)",
		                       what, (unsigned long long)
		                       glim->max_surface_memory_total);
	return 0;
}

static int handle_create_surface(struct sf_client *c, const uint8_t *msg,
                                 size_t len)
{
	struct sf_server *server = c->server;
	const struct sf_limits *lim = &server->limits;
	struct sf_create_surface m;
	char title[SF_MAX_NAME + 1], shown[SF_SHOWN_MAX], what[64];
	const char *why = NULL;
	int code = sf__decode_create_surface(msg, len, &m, title, &why);

	if (code)
		return fail_decode(c, code, why);
	if (sfs__surface_find(c, m.id))
		return sfs__client_fail(c, SF_ERR_BAD_SURFACE,
		                       "surface id %u is already in use", m.id);
	if (c->res.n_surfaces >= lim->max_surfaces)
		return sfs__client_fail(c, SF_ERR_LIMIT, "surface %u would be one more "
		                       "than the %u surfaces a client may have",
		                       m.id, lim->max_surfaces);
	snprintf(what, sizeof what, "surface %u of %ux%u", m.id, m.width,
	         m.height);
	if (check_surface_size(c, what, m.width, m.height, 0) < 0)
		return -1;
	make_printable(shown, title);
	if (sfs__surface_create(c, &m, shown) < 0)
		return sfs__client_fail(c, SF_ERR_NO_MEMORY,
		                       "server out of memory for surface %u", m.id);
	sfs__verbose(server, "client %u: surface %u, %ux%u, \"%s\"", c->id, m.id,
	            m.width, m.height, shown);
	return 0;
}

static int handle_destroy_surface(struct sf_client *c, const uint8_t *msg,
                                  size_t len)
{
	struct sf_destroy_surface m;
	struct sf_surface *s;
	const char *why = NULL;
	int code = sf__decode_destroy_surface(msg, len, &m, &why);

	if (code)
		return fail_decode(c, code, why);
	s = surface_or_fail(c, m.id);
	if (!s)
		return -1;
	sfs__surface_destroy(s);
	return 0;
}

static int check_rect(struct sf_client *c, const struct sf_surface *s,
                      const struct sf_rect *r, const char *what)
{
	if (sf__rect_inside(r, s->width, s->height))
		return 0;
	return sfs__client_fail(c, SF_ERR_BAD_RECT, "%s (%u,%u %ux%u) lies outside "
	                       "surface %u (%ux%u)", what, r->x, r->y, r->width,
	                       r->height, s->id, s->width, s->height);
}

/* PUT_IMAGE and GET_IMAGE: more than max_inflight unanswered is LIMIT
 * (see sfs__client_inflight for what counts as answered). */
static int check_inflight(struct sf_client *c)
{
	unsigned max = c->server->limits.max_inflight;
	unsigned n = sfs__client_inflight(c);

	if (n < max)
		return 0;
	return sfs__client_fail(c, SF_ERR_LIMIT, "%u PUT_IMAGE/GET_IMAGE are "
	                       "already unanswered, the server's max_inflight "
	                       "(%u): read PRESENTED and IMAGE before sending "
	                       "more", n, max);
}

static int handle_put_image(struct sf_client *c, const uint8_t *msg, size_t len)
{
	struct sf_put_image m;
	struct sf_rect rects[SF_MAX_RECTS];
	struct sf_surface *s;
	const char *why = NULL;
	uint32_t n;
	uint64_t size;
	int code = sf__decode_put_image(msg, len, &m, rects, &why);

	if (code)
		return fail_decode(c, code, why);
	if (check_inflight(c) < 0)
		return -1;
	s = surface_or_fail(c, m.surface);
	if (!s)
		return -1;
	n = m.n_rects;
	if (n == 0) {
		rects[0] = (struct sf_rect){ 0, 0, s->width, s->height };
		n = 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		char what[48];

		snprintf(what, sizeof what, "damage rectangle %u", i + 1);
		if (check_rect(c, s, &rects[i], what) < 0)
			return -1;
	}
	if (m.segment != 0) {
		struct sf_shmseg *seg = segment_or_fail(c, m.segment);

		if (!seg)
			return -1;
		code = sf__check_buffer(s->width, s->height, m.offset, m.stride,
		                        seg->seg.size, &why);
		if (code)
			return sfs__client_fail(c, (uint32_t)code, "buffer %u at offset "
			                       "%llu, stride %u, for surface %u (%ux%u) "
			                       "in segment %u (%zu bytes): %s", m.buffer,
			                       (unsigned long long)m.offset, m.stride,
			                       s->id, s->width, s->height, m.segment,
			                       seg->seg.size, why);
		return sfs__surface_put_shm(s, &m, seg, rects, n);
	}
	if (sf__payload_size(rects, n, &size))
		return sfs__client_fail(c, SF_ERR_BAD_MESSAGE,
		                       "inline payload size overflows");
	if ((m.hdr.flags & SF_PUT_IMAGE_BLOCKS) && c->minor < 3)
		return sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "PUT_IMAGE has the "
		                       "BLOCKS flag, but no codec was offered to a "
		                       "client of protocol 2.%u", c->minor);
	if (sfs__surface_own_memory(s) < 0)
		return sfs__client_fail(c, SF_ERR_NO_MEMORY, "cannot allocate %ux%u "
		                       "pixels for surface %u", s->width, s->height,
		                       s->id);
	sfs__client_start_payload(c, s, m.serial, rects, n,
	                          m.hdr.flags & SF_PUT_IMAGE_BLOCKS);
	return 0;
}

static int handle_get_image(struct sf_client *c, const uint8_t *msg, size_t len)
{
	struct sf_get_image m;
	struct sf_image ev;
	struct sf_surface *s;
	uint32_t stride;
	const char *why = NULL;
	int code = sf__decode_get_image(msg, len, &m, &why);

	if (code)
		return fail_decode(c, code, why);
	if (check_inflight(c) < 0)
		return -1;
	s = surface_or_fail(c, m.surface);
	if (!s)
		return -1;
	if (check_rect(c, s, &m.rect, "rectangle") < 0)
		return -1;
	memset(&ev, 0, sizeof ev);
	ev.surface = s->id;
	ev.serial = m.serial;
	ev.rect = m.rect;
	ev.format = s->format;
	ev.segment = m.segment;
	if (m.segment != 0) {
		struct sf_shmseg *seg = segment_or_fail(c, m.segment);

		if (!seg)
			return -1;
		if (!seg->seg.writable)
			return sfs__client_fail(c, SF_ERR_BAD_SEGMENT, "segment %u is "
			                       "attached read-only; a readback target "
			                       "must be attached WRITABLE", m.segment);
		code = sf__check_buffer(m.rect.width, m.rect.height, m.offset,
		                        m.stride, seg->seg.size, &why);
		if (code)
			return sfs__client_fail(c, (uint32_t)code, "target at offset %llu, "
			                       "stride %u, for %ux%u pixels in segment %u "
			                       "(%zu bytes): %s",
			                       (unsigned long long)m.offset, m.stride,
			                       m.rect.width, m.rect.height, m.segment,
			                       seg->seg.size, why);
		sfs__surface_read(s, &m.rect, (uint8_t *)seg->seg.map + m.offset,
		                 m.stride);
		/* One rectangle, so at most the surface once: the wakeup's copy
		 * budget spaces out many of them. */
		c->res.copied += sfs__surface_bytes(m.rect.width, m.rect.height);
		sfs__out_message(c, SF_IMAGE, &ev, sizeof ev, NULL, 0);
		return 0;
	}
	/* Inline: the rows go out from the surface as the socket drains; the
	 * client's requests wait meanwhile, so the content cannot change.  A
	 * latched buffer shrunk by its client must fail here, with an ERROR:
	 * once rows are queued, only a close is left. */
	if (s->latched) {
		sfs__surface_touch(s, &m.rect);
		if (sfs__sigbus_pending()) {
			sfs__segments_check_broken(c->server);
			if (c->fd < 0 || c->state == SF_CLIENT_CLOSING)
				return -1;
		}
	}
	if (!sfs__surface_pixels(s, &stride) && sfs__surface_own_memory(s) < 0)
		return sfs__client_fail(c, SF_ERR_NO_MEMORY, "cannot allocate %ux%u "
		                       "pixels for surface %u", s->width, s->height,
		                       s->id);
	if (m.hdr.flags && c->minor < 3)
		return sfs__client_fail(c, SF_ERR_BAD_MESSAGE, "GET_IMAGE asks for "
		                       "a codec, but none was offered to a client "
		                       "of protocol 2.%u", c->minor);
	/* Blocks are copies: only as many as max_output holds with ease;
	 * a larger rectangle goes out as bare rows. */
	if (m.hdr.flags && sfs__out_blocks_fit(c, &m.rect)) {
		ev.hdr.flags = SF_IMAGE_BLOCKS;
		sfs__out_message(c, SF_IMAGE, &ev, sizeof ev, NULL, 0);
		c->res.copied += sfs__surface_bytes(m.rect.width, m.rect.height);
		sfs__out_blocks(c, s, &m.rect, m.hdr.flags & SF_GET_IMAGE_LZ4
		                               ? SF_CODEC_LZ4 : SF_CODEC_ZSTD);
		return 0;
	}
	sfs__out_message(c, SF_IMAGE, &ev, sizeof ev, NULL, 0);
	if (sfs__out_rows(c, s, &m.rect) < 0)
		return sfs__client_fail(c, SF_ERR_NO_MEMORY,
		                       "server out of memory for the readback");
	return 0;
}

static int handle_sync(struct sf_client *c, const uint8_t *msg, size_t len)
{
	struct sf_sync m;
	const char *why = NULL;
	int code = sf__decode_sync(msg, len, &m, &why);

	if (code)
		return fail_decode(c, code, why);
	m.pad = 0;
	sfs__out_message(c, SF_SYNC_DONE, &m, sizeof m, NULL, 0);
	return 0;
}

/* KICK: the client pushed while we slept.  Being handled is all it asks:
 * the request ring is looked at before the next socket message. */
static int handle_kick(struct sf_client *c, const uint8_t *msg, size_t len)
{
	const char *why = NULL;
	int code = sf__decode_wake(msg, len, &why);

	if (code)
		return fail_decode(c, code, why);
	if (!c->rings.control)
		return sfs__client_fail(c, SF_ERR_SEQUENCE, "the connection has no "
		                       "request ring to look at (no control "
		                       "segment is attached)");
	return 0;
}

/* ---- input and resize (2.2) ------------------------------------------- */

static int handle_select_input(struct sf_client *c, const uint8_t *msg,
                               size_t len)
{
	struct sf_select_input m;
	struct sf_surface *s;
	const char *why = NULL;
	int code = sf__decode_select_input(msg, len, &m, &why);

	if (code)
		return fail_decode(c, code, why);
	s = surface_or_fail(c, m.surface);
	if (!s)
		return -1;
	/* A CONFIGURE it sends that overflows the output fails the client
	 * after this request (sfs__input_after_request). */
	return sfs__input_select(s, m.mask);
}

/* The serial of a RESIZE_SURFACE: 0, or one of a CONFIGURE sent for s
 * and not older than the last one acknowledged (as xdg-shell's
 * ack_configure).  0, or -1 after failing the client. */
static int check_configure_serial(struct sf_client *c,
                                  const struct sf_surface *s, uint32_t serial)
{
	if (serial == 0)
		return 0;
	if (serial > s->input.configure_serial)
		return sfs__client_fail(c, SF_ERR_SEQUENCE, "serial %u answers no "
		                       "CONFIGURE of surface %u: the last one sent "
		                       "had serial %u", serial, s->id,
		                       s->input.configure_serial);
	if (serial < s->input.acked_serial)
		return sfs__client_fail(c, SF_ERR_SEQUENCE, "serial %u is older than "
		                       "serial %u, which surface %u acknowledged "
		                       "already", serial, s->input.acked_serial,
		                       s->id);
	return 0;
}

static int handle_resize_surface(struct sf_client *c, const uint8_t *msg,
                                 size_t len)
{
	struct sf_resize_surface m;
	struct sf_surface *s;
	char what[64];
	const char *why = NULL;
	int code = sf__decode_resize_surface(msg, len, &m, &why);

	if (code)
		return fail_decode(c, code, why);
	s = surface_or_fail(c, m.surface);
	if (!s)
		return -1;
	snprintf(what, sizeof what, "surface %u resized to %ux%u", s->id,
	         m.width, m.height);
	if (check_surface_size(c, what, m.width, m.height,
	                       sfs__surface_bytes(s->width, s->height)) < 0)
		return -1;
	if (check_configure_serial(c, s, m.serial) < 0)
		return -1;
	if (m.serial)
		s->input.acked_serial = m.serial;
	if (m.width == s->width && m.height == s->height)
		return 0;
	sfs__verbose(c->server, "client %u: surface %u resized from %ux%u to %ux%u "
	            "(serial %u)", c->id, s->id, s->width, s->height, m.width,
	            m.height, m.serial);
	return sfs__surface_resize(s, m.width, m.height);
}

/* ---- dispatch --------------------------------------------------------- */

int sfs__request_dispatch(struct sf_client *c, const uint8_t *msg,
                         const struct sf_header *hdr)
{
	size_t len = hdr->length;

	if (c->state == SF_CLIENT_HELLO && hdr->type != SF_HELLO) {
		if (hdr->type >= SF_HELLO && hdr->type <= SF_RESIZE_SURFACE)
			return sfs__client_fail(c, SF_ERR_SEQUENCE,
			                       "sent before HELLO: the first message "
			                       "must be HELLO");
		return sfs__client_fail(c, SF_ERR_BAD_MAGIC, "the first message is "
		                       "not HELLO (type 0x%04x): the peer does not "
		                       "speak the shmframe protocol",
		                       (unsigned)hdr->type);
	}
	switch (hdr->type) {
	case SF_HELLO:
		return handle_hello(c, msg, len);
	case SF_PROBE:
	case SF_ATTACH_SEGMENT:
	case SF_ATTACH_CONTROL:
		return handle_segment(c, msg, len);
	case SF_DETACH_SEGMENT:
		return handle_detach(c, msg, len);
	case SF_CREATE_SURFACE:
		return handle_create_surface(c, msg, len);
	case SF_DESTROY_SURFACE:
		return handle_destroy_surface(c, msg, len);
	case SF_PUT_IMAGE:
		return handle_put_image(c, msg, len);
	case SF_GET_IMAGE:
		return handle_get_image(c, msg, len);
	case SF_SYNC:
		return handle_sync(c, msg, len);
	case SF_KICK:
		return handle_kick(c, msg, len);
	case SF_SELECT_INPUT:
		/* Below 2.2 these are no requests at all, as for a 2.1
		 * server. */
		if (c->minor >= 2)
			return handle_select_input(c, msg, len);
		break;
	case SF_RESIZE_SURFACE:
		if (c->minor >= 2)
			return handle_resize_surface(c, msg, len);
		break;
	}
	if (hdr->type >= 0x80)
		return sfs__client_fail(c, SF_ERR_UNKNOWN_TYPE, "type 0x%04x is an "
		                       "event, not a request", (unsigned)hdr->type);
	return sfs__client_fail(c, SF_ERR_UNKNOWN_TYPE, "no such request");
}
