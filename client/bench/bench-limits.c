/*
 * bench-limits.c: the floors every design is measured against.
 *
 *   memcpy-limit  one copy of the damage, from the client's buffers into
 *                 one destination, in one process: what any design that
 *                 copies each frame once cannot beat;
 *   render-limit  the drawing alone, into the client's own buffers: what
 *                 no design can beat, and with N clients at once the rate
 *                 N renderers reach together on this machine;
 *   socket-limit  the damage's bytes written raw into an AF_UNIX stream
 *                 (4 MiB socket buffers) to a receiving process that reads
 *                 them into one buffer, checks the tag and answers with one
 *                 byte: what any design that sends pixels through a socket
 *                 cannot beat.
 *
 * And the raw wake-up round trip: one byte back and forth between two
 * processes, the least a request answered by another process can cost.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-private.h"

#define MAX_BUFS 16u
#define SOCKET_BUFFER (4 << 20)
#define ACK_RING 64u

static uint8_t *alloc_pixels(size_t bytes)
{
	/* Page-aligned, as shared memory would be. */
	void *p = NULL;

	if (posix_memalign(&p, 4096, bytes ? bytes : 4) != 0)
		return NULL;
	return p;
}

/* ------------------------------------------------------------------ */
/* memcpy-limit and render-limit                                       */

struct mcl {
	uint8_t *src[MAX_BUFS];
	uint8_t *dst;             /* NULL: render-limit, nothing is copied */
	unsigned n;
	size_t stride;
};

static uint8_t *at(uint8_t *base, size_t stride, const struct shmframe_rect *r)
{
	return base + (size_t)r->y * stride + (size_t)r->x * 4;
}

/* Copies the damage the way a server copies it into its surface: one
 * memcpy when the rows are contiguous, else one per row. */
static void copy_damage(struct mcl *m, const uint8_t *src,
                        const struct shmframe_rect *r)
{
	size_t off = (size_t)r->y * m->stride + (size_t)r->x * 4;
	size_t row = (size_t)r->width * 4;

	if (row == m->stride) {
		memcpy(m->dst + off, src + off, row * r->height);
		return;
	}
	for (uint32_t y = 0; y < r->height; y++)
		memcpy(m->dst + off + y * m->stride, src + off + y * m->stride, row);
}

static int mcl_pass(struct bench_client *c, struct bench_pass *p)
{
	const struct shmframe_rect *d = &c->job->damage;
	struct mcl *m = c->data;
	uint64_t t0 = bench_now_ns(), now = t0;

	p->frames = p->render_ns = 0;
	while (bench_pass_more(p, p->frames, now - t0)) {
		uint8_t *src = m->src[c->frame % m->n];
		uint64_t a, b;

		a = bench_now_ns();
		if (p->render)
			bench_render(at(src, m->stride, d), m->stride, c->frame, d);
		else
			bench_tag_write(at(src, m->stride, d), c->frame);
		b = bench_now_ns();
		p->render_ns += b - a;
		now = b;
		if (m->dst) {
			copy_damage(m, src, d);
			if (!bench_tag_check(at(m->dst, m->stride, d), c->frame))
				c->bad++;
			now = bench_now_ns();
		}
		if (p->record && m->dst) {
			/* The copy is both the release and the arrival. */
			bench_samples_add(&c->release, (double)(now - b) / 1e3);
			bench_samples_add(&c->presented, (double)(now - b) / 1e3);
		}
		c->frame++;
		p->frames++;
	}
	p->elapsed_ns = now - t0;
	return 0;
}

static int mcl_setup(struct bench_client *c)
{
	const struct bench_job *job = c->job;
	struct shmframe_rect whole = { 0, 0, job->width, job->height };
	struct bench_pass warm = bench_warmup_pass(c->cfg);
	struct mcl *m;
	size_t bytes;

	m = calloc(1, sizeof(*m));
	if (!m)
		return bench_client_fail(c, "out of memory");
	c->data = m;
	m->stride = (size_t)job->width * 4;
	bytes = m->stride * job->height;
	m->n = c->cfg->buffers < MAX_BUFS ? c->cfg->buffers : MAX_BUFS;
	if (job->mode == BENCH_MEMCPY_LIMIT) {
		m->dst = alloc_pixels(bytes);
		if (!m->dst)
			return bench_client_fail(c, "out of memory");
		bench_render_background(m->dst, m->stride, &whole);
	}
	for (unsigned i = 0; i < m->n; i++) {
		m->src[i] = alloc_pixels(bytes);
		if (!m->src[i])
			return bench_client_fail(c, "out of memory");
		bench_render_background(m->src[i], m->stride, &whole);
	}
	return mcl_pass(c, &warm);
}

static int mcl_verify(struct bench_client *c)
{
	struct bench_pass one = { .render = 1, .max_frames = 1 };
	struct mcl *m = c->data;
	uint32_t frame = c->frame;

	mcl_pass(c, &one);
	if (!m->dst)
		return bench_client_check_image(c, m->src[frame % m->n], m->stride,
		                                frame, 0xffffffffu, "the last frame");
	return bench_client_check_image(c, m->dst, m->stride, frame, 0xffffffffu,
	                                "the copy");
}

static void mcl_teardown(struct bench_client *c)
{
	struct mcl *m = c->data;

	if (!m)
		return;
	for (unsigned i = 0; i < m->n; i++)
		free(m->src[i]);
	free(m->dst);
	free(m);
	c->data = NULL;
}

const struct bench_mode_ops bench_memcpy_limit_ops = {
	"memcpy-limit", mcl_setup, mcl_pass, mcl_verify, mcl_teardown, 0,
};
/* Its "transport alone" would be writing the tag: nothing to measure. */
const struct bench_mode_ops bench_render_limit_ops = {
	"render-limit", mcl_setup, mcl_pass, mcl_verify, mcl_teardown, 1,
};

/* ------------------------------------------------------------------ */
/* socket-limit                                                        */

#define ACK_OK     'A'
#define ACK_BAD    'E'
#define VERDICT_OK 'V'
#define VERDICT_BAD 'X'

struct scl {
	int fd;
	pid_t rx;
	uint8_t *buf[MAX_BUFS];
	unsigned n;
	size_t bytes;        /* one frame: the damage, rows packed */
	uint64_t sent, acked;
	uint64_t t_present[ACK_RING];
};

/* 1: a whole frame, 0: end of stream before its first byte, -1: error. */
static int read_frame(int fd, uint8_t *buf, size_t len)
{
	size_t have = 0;

	while (have < len) {
		ssize_t r = read(fd, buf + have, len - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return have == 0 ? 0 : -1;
		have += (size_t)r;
	}
	return 1;
}

/* The receiving process: reads frames, checks each one's tag is the next
 * in sequence, answers one byte per frame; at the end of the stream
 * compares the last frame whole and answers with the verdict. */
static int receiver_main(int fd, const struct bench_job *job, size_t bytes)
{
	uint8_t *buf = alloc_pixels(bytes);
	uint32_t frame = 0;
	int have = 0;

	if (!buf)
		return 1;
	for (;;) {
		int r = read_frame(fd, buf, bytes);
		uint32_t tag;
		char ack;

		if (r < 0)
			return 1;
		if (r == 0) {
			char v = have && bench_image_check(buf, (size_t)job->damage.width * 4,
			                                   &job->damage, &job->damage,
			                                   frame, 0xffffffffu, NULL,
			                                   0) == 0 ?
			         VERDICT_OK : VERDICT_BAD;
			return bench_write_full(fd, &v, 1) < 0;
		}
		memcpy(&tag, buf, sizeof(tag));
		/* The tag holds the low 24 bits of the frame number. */
		frame = have ? frame + 1 : (tag & 0x00ffffffu);
		have = 1;
		ack = bench_tag_check(buf, frame) ? ACK_OK : ACK_BAD;
		if (bench_write_full(fd, &ack, 1) < 0)
			return 1;
	}
}

static int take_ack(struct bench_client *c, struct scl *s, int record,
                    int wait)
{
	char ack;
	ssize_t r;

	do
		r = recv(s->fd, &ack, 1, wait ? 0 : MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 && !wait && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (r != 1)
		return bench_client_fail(c, "the receiver went away");
	if (ack != ACK_OK)
		c->bad++;
	if (record)
		bench_samples_add(&c->presented,
		                  (double)(bench_now_ns() -
		                           s->t_present[s->acked % ACK_RING]) / 1e3);
	s->acked++;
	return 1;
}

static int scl_pass(struct bench_client *c, struct bench_pass *p)
{
	const struct shmframe_rect *d = &c->job->damage;
	struct scl *s = c->data;
	size_t stride = (size_t)d->width * 4;
	uint64_t t0 = bench_now_ns(), now = t0;

	p->frames = p->render_ns = 0;
	while (bench_pass_more(p, p->frames, now - t0)) {
		uint8_t *b = s->buf[c->frame % s->n];
		uint64_t a, t;
		int r;

		/* As many frames in flight as a shmframe client has buffers. */
		while (s->sent - s->acked >= s->n)
			if (take_ack(c, s, p->record, 1) < 0)
				return -1;
		while ((r = take_ack(c, s, p->record, 0)) > 0)
			;
		if (r < 0)
			return -1;
		a = bench_now_ns();
		if (p->render)
			bench_render(b, stride, c->frame, d);
		else
			bench_tag_write(b, c->frame);
		t = bench_now_ns();
		p->render_ns += t - a;
		s->t_present[s->sent % ACK_RING] = t;
		if (bench_write_full(s->fd, b, s->bytes) < 0)
			return bench_client_fail(c, "write: %s", strerror(errno));
		s->sent++;
		now = bench_now_ns();
		if (p->record) /* the buffer is free once the kernel has it */
			bench_samples_add(&c->release, (double)(now - t) / 1e3);
		c->frame++;
		p->frames++;
	}
	while (s->acked < s->sent)
		if (take_ack(c, s, p->record, 1) < 0)
			return -1;
	p->elapsed_ns = bench_now_ns() - t0;
	return 0;
}

static void set_buffers(int fd)
{
	int size = SOCKET_BUFFER;

	/* Capped by net.core.[wr]mem_max; the best we may have. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

static int scl_setup(struct bench_client *c)
{
	const struct bench_job *job = c->job;
	struct bench_pass warm = bench_warmup_pass(c->cfg);
	pid_t parent = getpid();
	struct scl *s;
	int sv[2];

	s = calloc(1, sizeof(*s));
	if (!s)
		return bench_client_fail(c, "out of memory");
	c->data = s;
	s->fd = -1;
	s->bytes = (size_t)job->damage.width * job->damage.height * 4;
	s->n = c->cfg->buffers < MAX_BUFS ? c->cfg->buffers : MAX_BUFS;
	for (unsigned i = 0; i < s->n; i++) {
		s->buf[i] = alloc_pixels(s->bytes);
		if (!s->buf[i])
			return bench_client_fail(c, "out of memory");
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return bench_client_fail(c, "socketpair: %s", strerror(errno));
	set_buffers(sv[0]);
	set_buffers(sv[1]);
	s->rx = fork();
	if (s->rx < 0) {
		close(sv[0]);
		close(sv[1]);
		return bench_client_fail(c, "fork: %s", strerror(errno));
	}
	if (s->rx == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		bench_close_inherited();
		close(sv[0]);
		_exit(receiver_main(sv[1], job, s->bytes));
	}
	close(sv[1]);
	s->fd = sv[0];
	c->server_pid = s->rx;
	return scl_pass(c, &warm);
}

static int scl_verify(struct bench_client *c)
{
	struct bench_pass one = { .render = 1, .max_frames = 1 };
	struct scl *s = c->data;
	char v = 0;

	if (scl_pass(c, &one) < 0)
		return -1;
	/* End of stream asks the receiver for its verdict on the last frame. */
	shutdown(s->fd, SHUT_WR);
	if (recv(s->fd, &v, 1, 0) != 1)
		return bench_client_fail(c, "the receiver gave no verdict");
	if (v != VERDICT_OK)
		return bench_client_fail(c, "the receiver's last frame has "
		                         "wrong pixels");
	return 0;
}

static void scl_teardown(struct bench_client *c)
{
	struct scl *s = c->data;

	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->rx > 0) {
		/* Closing the socket ends it; do not wait on a stuck one. */
		bench_stop_process(s->rx, 1000);
	}
	for (unsigned i = 0; i < s->n; i++)
		free(s->buf[i]);
	free(s);
	c->data = NULL;
}

const struct bench_mode_ops bench_socket_limit_ops = {
	"socket-limit", scl_setup, scl_pass, scl_verify, scl_teardown, 0,
};

/* ------------------------------------------------------------------ */
/* The wake-up round trip                                              */

int bench_wakeup_rtt(unsigned rounds, double *p50, double *p99, char *err,
                     size_t errlen)
{
	struct bench_samples s = { 0 };
	pid_t parent = getpid(), pid;
	unsigned warm = rounds / 10 + 10;
	int sv[2], rc = -1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto out_close;
	}
	if (pid == 0) {
		char b;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		bench_close_inherited();
		close(sv[0]);
		while (read(sv[1], &b, 1) == 1)
			if (write(sv[1], &b, 1) != 1)
				break;
		_exit(0);
	}
	close(sv[1]);
	sv[1] = -1;
	for (unsigned i = 0; i < warm + rounds; i++) {
		uint64_t t0 = bench_now_ns();
		char b = 'p';

		if (write(sv[0], &b, 1) != 1 || read(sv[0], &b, 1) != 1) {
			snprintf(err, errlen, "the echo process went away");
			goto out_child;
		}
		if (i >= warm &&
		    bench_samples_add(&s, (double)(bench_now_ns() - t0) / 1e3) < 0) {
			snprintf(err, errlen, "out of memory");
			goto out_child;
		}
	}
	*p50 = bench_percentile(s.v, s.n, 50);
	*p99 = bench_percentile(s.v, s.n, 99);
	rc = 0;
out_child:
	close(sv[0]);
	sv[0] = -1;
	waitpid(pid, NULL, 0);
out_close:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	bench_samples_free(&s);
	return rc;
}
