/*
 * bench-modes.c: the shmframe modes, through the public client API only,
 * used the way a real client uses it.
 *
 *   shm-latch  shared memory; the server latches each buffer without
 *              copying and releases it when the next frame replaces it;
 *   shm-copy   shared memory; the server copies every frame and releases
 *              the buffer at once (X MIT-SHM semantics);
 *   socket     the pixels travel inline on the socket.
 *
 * The loop is acquire, draw, present, and nothing else: the library keeps
 * several buffers in flight and acquire waits only when all of them are
 * held.  Release and presented latencies are taken in the callbacks, from
 * just before shmframe_present() to the moment the event is handled.
 *
 * The signalling path (rings in the control segment, or the socket) is
 * asked for the way a user forces it, through $SHMFRAME_SIGNAL and
 * $SHMFRAME_SPIN_US, and the one the connection then uses is checked: a
 * row never reports figures for a path it did not take.
 *
 * Checks: each buffer's tag must still be there when the buffer comes back
 * (nobody wrote into it while the server held it); every RELEASE and
 * PRESENTED must name a frame that was presented and not yet answered; and
 * after the passes one more frame is drawn, presented and read back whole,
 * and compared pixel by pixel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-private.h"

/* Frames whose events may still be outstanding; far more than any server
 * lets a client keep in flight. */
#define RING 1024u
#define SETTLE_NS (10ull * 1000000000ull)

struct slot {
	uint32_t serial;
	uint64_t t_present;
	uint8_t used, released, presented;
};

struct known_buffer {
	struct shmframe_buffer *buf;
	uint32_t frame;   /* the frame last drawn into it */
	int tagged;       /* it was presented at least once */
};

struct sfm {
	struct bench_client *c;
	struct shmframe_conn *conn;
	struct shmframe_surface *surface;
	int record;
	int inline_pixels;      /* socket transport: no RELEASE events */
	struct slot ring[RING];
	struct known_buffer bufs[16];
	unsigned n_bufs;
	int have_last;
	uint32_t last_serial;   /* of the latest present */
	int last_presented;     /* its PRESENTED has arrived */
};

static int fail_conn(struct sfm *s, const char *what, int err)
{
	const char *text = s->conn ? shmframe_last_error(s->conn) : "";

	if (!err && s->conn)
		err = shmframe_conn_error(s->conn);
	if (text && *text)
		return bench_client_fail(s->c, "%s: %s", what, text);
	return bench_client_fail(s->c, "%s: %s", what,
	                         shmframe_strerror(err ? err : -EIO));
}

static struct slot *slot_of(struct sfm *s, uint32_t serial)
{
	struct slot *sl = &s->ring[serial % RING];

	return sl->used && sl->serial == serial ? sl : NULL;
}

static void on_released(void *data, struct shmframe_surface *surface,
                        uint32_t serial)
{
	struct sfm *s = data;
	struct slot *sl = slot_of(s, serial);

	(void)surface;
	if (sl && sl->released && s->inline_pixels)
		return; /* already counted free when present returned */
	if (!sl || sl->released) {
		s->c->bad++; /* a release for a frame we did not present */
		return;
	}
	sl->released = 1;
	if (s->record)
		bench_samples_add(&s->c->release,
		                  (double)(bench_now_ns() - sl->t_present) / 1e3);
}

static void on_presented(void *data, struct shmframe_surface *surface,
                         uint32_t serial, uint64_t time_ns, int discarded)
{
	struct sfm *s = data;
	struct slot *sl = slot_of(s, serial);

	(void)surface;
	(void)time_ns;
	if (!sl || sl->presented) {
		s->c->bad++;
		return;
	}
	sl->presented = 1;
	if (discarded)
		s->c->discarded++;
	else if (s->record)
		bench_samples_add(&s->c->presented,
		                  (double)(bench_now_ns() - sl->t_present) / 1e3);
	if (s->have_last && serial == s->last_serial)
		s->last_presented = 1;
}

static const struct shmframe_surface_listener listener = {
	.presented = on_presented,
	.released = on_released,
};

static struct known_buffer *known(struct sfm *s, struct shmframe_buffer *buf,
                                  int *is_new)
{
	*is_new = 0;
	for (unsigned i = 0; i < s->n_bufs; i++)
		if (s->bufs[i].buf == buf)
			return &s->bufs[i];
	if (s->n_bufs == sizeof(s->bufs) / sizeof(s->bufs[0]))
		return NULL;
	*is_new = 1;
	s->bufs[s->n_bufs].buf = buf;
	return &s->bufs[s->n_bufs++];
}

static void slot_set(struct sfm *s, uint32_t serial, uint64_t t)
{
	struct slot *sl = &s->ring[serial % RING];

	sl->serial = serial;
	sl->t_present = t;
	sl->used = 1;
	sl->released = sl->presented = 0;
}

/*
 * Draws one frame into an acquired buffer and presents it.  A buffer seen
 * for the first time gets the background everywhere and is presented
 * whole, so that outside the damage every buffer and the server's copy
 * hold the same pixels.
 */
static int frame_one(struct sfm *s, struct shmframe_buffer *buf, int render,
                     uint64_t *render_ns)
{
	const struct bench_job *job = s->c->job;
	struct shmframe_rect whole = { 0, 0, job->width, job->height };
	uint32_t stride, serial, predicted;
	struct known_buffer *kb;
	uint8_t *px, *origin;
	uint64_t t0, t1;
	int is_new, rc;

	px = shmframe_buffer_pixels(buf, &stride);
	kb = known(s, buf, &is_new);
	if (!px || !kb)
		return bench_client_fail(s->c, "the library handed out more "
		                         "buffers than it may");
	origin = px + (size_t)job->damage.y * stride + (size_t)job->damage.x * 4;
	if (kb->tagged && !bench_tag_check(origin, kb->frame))
		s->c->bad++; /* written while the server held it */

	t0 = bench_now_ns();
	if (is_new)
		bench_render_background(px, stride, &whole);
	if (render || is_new)
		bench_render(origin, stride, s->c->frame, &job->damage);
	else
		bench_tag_write(origin, s->c->frame);
	t1 = bench_now_ns();
	if (render_ns)
		*render_ns += t1 - t0;

	/* The library numbers frames one after another; recording the slot
	 * before the call lets an event that arrives during it find it.  It
	 * is moved if the guess was wrong. */
	predicted = s->last_serial + 1;
	if (s->have_last)
		slot_set(s, predicted, t1);
	rc = shmframe_present(s->surface, buf,
	                      job->damage_full || is_new ? NULL : &job->damage,
	                      job->damage_full || is_new ? 0 : 1, &serial);
	if (rc < 0)
		return fail_conn(s, "present", rc);
	if (!s->have_last || serial != predicted) {
		if (s->have_last)
			s->ring[predicted % RING].used = 0;
		slot_set(s, serial, t1);
	}
	if (s->inline_pixels) {
		/* The pixels are in the socket: the buffer is free as soon as
		 * present returns, and the server sends no RELEASE. */
		struct slot *sl = slot_of(s, serial);

		if (sl && !sl->released) {
			sl->released = 1;
			if (s->record)
				bench_samples_add(&s->c->release,
				                  (double)(bench_now_ns() - t1) / 1e3);
		}
	}
	kb->frame = s->c->frame++;
	kb->tagged = 1;
	s->have_last = 1;
	s->last_serial = serial;
	s->last_presented = 0;
	/* Send it now rather than at the next acquire: a real client does
	 * not hold its frame back while it draws the next one. */
	rc = shmframe_flush(s->conn);
	if (rc < 0 && rc != -EAGAIN)
		return fail_conn(s, "flush", rc);
	return 0;
}

/*
 * Waits until the latest frame's PRESENTED has arrived, through round
 * trips (each one handles the events that come before its answer), not by
 * polling the connection's fd: once a program has taken the fd
 * (shmframe_get_fd) the server writes to the socket for every event, and
 * a ring row would no longer measure the rings.
 */
static int wait_last_presented(struct sfm *s)
{
	uint64_t deadline = bench_now_ns() + SETTLE_NS;

	while (s->have_last && !s->last_presented) {
		int rc = shmframe_dispatch(s->conn);

		if (rc < 0)
			return fail_conn(s, "dispatch", rc);
		if (s->last_presented)
			break;
		if (bench_now_ns() >= deadline)
			return bench_client_fail(s->c, "frame %u was never "
			                         "reported presented", s->last_serial);
		rc = shmframe_roundtrip(s->conn);
		if (rc < 0)
			return fail_conn(s, "round trip", rc);
	}
	return 0;
}

static int sfm_pass(struct bench_client *c, struct bench_pass *p)
{
	struct sfm *s = c->data;
	uint64_t t0 = bench_now_ns(), now = t0;

	s->record = p->record;
	p->frames = p->render_ns = 0;
	while (bench_pass_more(p, p->frames, now - t0)) {
		struct shmframe_buffer *buf = shmframe_acquire(s->surface);

		if (!buf)
			return fail_conn(s, "acquire", -errno);
		if (frame_one(s, buf, p->render, &p->render_ns) < 0)
			return -1;
		p->frames++;
		now = bench_now_ns();
	}
	/* End to end means until the server has the last frame. */
	if (wait_last_presented(s) < 0)
		return -1;
	p->elapsed_ns = bench_now_ns() - t0;
	s->record = 0;
	return 0;
}

/* Takes every buffer at once and presents each whole, so that each holds
 * the background before the timed passes. */
static int prime(struct sfm *s)
{
	struct shmframe_buffer *held[16];
	unsigned n = 0;

	while (n < s->c->cfg->buffers && n < 16) {
		struct shmframe_buffer *b = shmframe_try_acquire(s->surface);

		if (!b) {
			if (errno == EAGAIN)
				break;
			return fail_conn(s, "acquire", -errno);
		}
		held[n++] = b;
	}
	for (unsigned i = 0; i < n; i++)
		if (frame_one(s, held[i], 1, NULL) < 0)
			return -1;
	return wait_last_presented(s);
}

/* Sets the environment the library reads when it connects (this process
 * is the client's own). */
static void ask_signal(const struct bench_job *job)
{
	char spin[16];

	if (job->signal == BENCH_SIG_NONE)
		return;
	setenv("SHMFRAME_SIGNAL", job->signal == BENCH_SIG_RING ? "ring" :
	       "socket", 1);
	snprintf(spin, sizeof(spin), "%u", job->spin_us);
	setenv("SHMFRAME_SPIN_US", spin, 1);
}

/* Records the path the connection uses and fails unless it is the one
 * the job asked for. */
static int check_signal(struct sfm *s)
{
	const struct bench_job *job = s->c->job;
	const char *want, *reason;
	int ring;

	ring = shmframe_signal(s->conn) == SHMFRAME_SIGNAL_RING;
	reason = shmframe_signal_reason(s->conn);
	if (s->inline_pixels)
		return 0; /* pixels on the socket: there is no ring to use */
	snprintf(s->c->signal, sizeof(s->c->signal), "%s", ring ? "ring" : "socket");
	if (job->signal == BENCH_SIG_NONE)
		return 0;
	want = job->signal == BENCH_SIG_RING ? "ring" : "socket";
	if (strcmp(want, s->c->signal) == 0)
		return 0;
	return bench_client_fail(s->c, "asked for %s signalling, the connection "
	                         "uses %s%s%s", want, s->c->signal,
	                         reason && *reason ? ": " : "",
	                         reason ? reason : "");
}

static int sfm_setup(struct bench_client *c)
{
	const struct bench_job *job = c->job;
	struct shmframe_options opts;
	struct bench_pass warm = bench_warmup_pass(c->cfg);
	const char *addr;
	struct sfm *s;
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return bench_client_fail(c, "out of memory");
	c->data = s;
	s->c = c;

	ask_signal(job);
	shmframe_options_init(&opts);
	opts.transport = job->mode == BENCH_SOCKET ? SHMFRAME_TRANSPORT_SOCKET :
	                 SHMFRAME_TRANSPORT_SHM;
	opts.shm = job->shm;
	opts.name = BENCH_NAME;
	opts.buffers = c->cfg->buffers;
	addr = job->spin_us ? c->cfg->spin_server_addr : c->cfg->server_addr;
	s->conn = shmframe_connect(addr, &opts);
	if (!s->conn)
		return bench_client_fail(c, "out of memory");
	if (shmframe_conn_error(s->conn)) {
		/* The library's text names the address already. */
		const char *text = shmframe_last_error(s->conn);

		if (text && *text)
			return bench_client_fail(c, "%s", text);
		return fail_conn(s, addr, 0);
	}
	snprintf(c->transport, sizeof(c->transport), "%s",
	         shmframe_transport(s->conn) == SHMFRAME_TRANSPORT_SHM ?
	         "shm" : "socket");
	snprintf(c->shm, sizeof(c->shm), "%s",
	         bench_shm_kind_name(shmframe_shm_kind(s->conn)));
	/* Known to the run, not asked of the socket (see above). */
	c->server_pid = job->spin_us ? c->cfg->spin_server_pid : c->cfg->server_pid;
	s->inline_pixels = shmframe_transport(s->conn) == SHMFRAME_TRANSPORT_SOCKET;
	if (check_signal(s) < 0)
		return -1;

	s->surface = shmframe_surface_create(s->conn, job->width, job->height,
	                                     SHMFRAME_FORMAT_XRGB8888, BENCH_NAME);
	if (!s->surface)
		return fail_conn(s, "create surface", -errno);
	shmframe_surface_set_listener(s->surface, &listener, s);
	if (job->mode == BENCH_SHM_COPY) {
		rc = shmframe_surface_set_present_mode(s->surface,
		                                       SHMFRAME_PRESENT_COPY);
		if (rc < 0)
			return fail_conn(s, "copy mode", rc);
	}
	if (prime(s) < 0)
		return -1;
	return sfm_pass(c, &warm);
}

static int sfm_verify(struct bench_client *c)
{
	const struct bench_job *job = c->job;
	struct sfm *s = c->data;
	struct shmframe_buffer *buf;
	uint32_t frame = c->frame;
	size_t stride = (size_t)job->width * 4;
	uint8_t *img;
	int rc;

	buf = shmframe_acquire(s->surface);
	if (!buf)
		return fail_conn(s, "acquire", -errno);
	if (frame_one(s, buf, 1, NULL) < 0 || wait_last_presented(s) < 0)
		return -1;
	img = malloc(stride * job->height);
	if (!img)
		return bench_client_fail(c, "out of memory");
	rc = shmframe_readback(s->surface, 0, 0, job->width, job->height, img,
	                       (uint32_t)stride);
	if (rc < 0) {
		free(img);
		return fail_conn(s, "readback", rc);
	}
	rc = bench_client_check_image(c, img, stride, frame, 0xffffffffu,
	                              "the last frame read back");
	free(img);
	return rc;
}

static void sfm_teardown(struct bench_client *c)
{
	struct sfm *s = c->data;

	if (!s)
		return;
	shmframe_surface_destroy(s->surface);
	shmframe_disconnect(s->conn);
	free(s);
	c->data = NULL;
}

const struct bench_mode_ops bench_shm_latch_ops = {
	"shm-latch", sfm_setup, sfm_pass, sfm_verify, sfm_teardown, 0,
};
const struct bench_mode_ops bench_shm_copy_ops = {
	"shm-copy", sfm_setup, sfm_pass, sfm_verify, sfm_teardown, 0,
};
const struct bench_mode_ops bench_socket_ops = {
	"socket", sfm_setup, sfm_pass, sfm_verify, sfm_teardown, 0,
};
