/*
 * bench-x11.c: the same frames sent to a real X server through libxcb,
 * the yardstick shmframe is meant to beat.  The only file that knows X.
 *
 *   x11-putimage  core PutImage: the pixels travel in the request, split
 *                 into as few requests as the maximum request length
 *                 (BIG-REQUESTS) allows;
 *   x11-shm       MIT-SHM ShmPutImage from a System V segment; the server
 *                 copies from it.
 *
 * Both draw into a pixmap of the frame size (always drawable: nothing is
 * clipped away, unlike an unmapped or covered window) and make one round
 * trip (GetInputFocus) per frame: that is when the X server has used the
 * pixels, so the segment may be drawn into again (x11-shm) and the frame
 * counts as shown (both).  The X server is warmed up before timing: the
 * pixmap is filled once and frames run untimed for the warm-up time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <xcb/shm.h>
#include <xcb/xcb.h>

#include "bench-private.h"

#define XVFB_READY_MS 15000
/* PutImage's fixed part, plus the BIG-REQUESTS length word. */
#define PUT_IMAGE_OVERHEAD 28u

struct x11c {
	xcb_connection_t *conn;
	xcb_pixmap_t pixmap;
	xcb_gcontext_t gc;
	uint8_t depth;
	size_t max_request;   /* bytes */
	uint8_t *pixels;      /* x11-putimage: the damage, rows packed;
	                       * x11-shm: the whole frame in the segment */
	size_t stride;
	int shmid;
	void *shm_addr;
	xcb_shm_seg_t seg;
	int attached;
};

/* Finds the screen's depth whose pixmaps are 32 bits per pixel, the
 * layout of our BGRX frames, and checks the byte order. */
static int pick_depth(const xcb_setup_t *setup, const xcb_screen_t *screen,
                      uint8_t *depth, char *err, size_t errlen)
{
	xcb_format_iterator_t f;

	if (setup->image_byte_order != XCB_IMAGE_ORDER_LSB_FIRST) {
		snprintf(err, errlen, "the X server wants most significant "
		         "byte first images");
		return -1;
	}
	if (screen->root_depth != 24 && screen->root_depth != 32) {
		snprintf(err, errlen, "the X screen has depth %u; 24 or 32 needed",
		         screen->root_depth);
		return -1;
	}
	for (f = xcb_setup_pixmap_formats_iterator(setup); f.rem; xcb_format_next(&f))
		if (f.data->depth == screen->root_depth &&
		    f.data->bits_per_pixel == 32) {
			*depth = screen->root_depth;
			return 0;
		}
	snprintf(err, errlen, "the X server has no 32-bit pixmap format for "
	         "depth %u", screen->root_depth);
	return -1;
}

static xcb_screen_t *screen_of(xcb_connection_t *conn, int n)
{
	xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(conn));

	for (; it.rem; xcb_screen_next(&it), n--)
		if (n == 0)
			return it.data;
	return NULL;
}

/* A round trip: on return the X server has handled every request sent
 * before it.  Also collects the errors those requests caused. */
static int roundtrip(struct bench_client *c, struct x11c *x)
{
	xcb_get_input_focus_reply_t *r;
	xcb_generic_event_t *ev;

	r = xcb_get_input_focus_reply(x->conn, xcb_get_input_focus(x->conn), NULL);
	if (!r)
		return bench_client_fail(c, "the X connection broke");
	free(r);
	while ((ev = xcb_poll_for_event(x->conn)) != NULL) {
		if (ev->response_type == 0) {
			xcb_generic_error_t *e = (xcb_generic_error_t *)ev;
			int code = e->error_code, major = e->major_code;

			free(ev);
			return bench_client_fail(c, "X error %d on a request of "
			                         "major opcode %d", code, major);
		}
		free(ev);
	}
	return 0;
}

/* Sends rect's pixels (rows of row_bytes, packed) with as few PutImage
 * requests as the maximum request length allows. */
static void put_rows(struct x11c *x, const uint8_t *data,
                     const struct shmframe_rect *r)
{
	size_t row_bytes = (size_t)r->width * 4;
	uint32_t per = (uint32_t)((x->max_request - PUT_IMAGE_OVERHEAD) / row_bytes);

	if (per == 0)
		per = 1;
	for (uint32_t y = 0; y < r->height; y += per) {
		uint32_t rows = r->height - y < per ? r->height - y : per;

		xcb_put_image(x->conn, XCB_IMAGE_FORMAT_Z_PIXMAP, x->pixmap, x->gc,
		              (uint16_t)r->width, (uint16_t)rows,
		              (int16_t)r->x, (int16_t)(r->y + y), 0, x->depth,
		              (uint32_t)(rows * row_bytes), data + y * row_bytes);
	}
}

static int x11_pass(struct bench_client *c, struct bench_pass *p)
{
	const struct shmframe_rect *d = &c->job->damage;
	struct x11c *x = c->data;
	int shm = c->job->mode == BENCH_X11_SHM;
	uint8_t *origin = shm ? x->pixels + (size_t)d->y * x->stride +
	                        (size_t)d->x * 4 : x->pixels;
	uint64_t t0 = bench_now_ns(), now = t0;

	p->frames = p->render_ns = 0;
	while (bench_pass_more(p, p->frames, now - t0)) {
		uint64_t a, t, sent;

		a = bench_now_ns();
		if (p->render)
			bench_render(origin, x->stride, c->frame, d);
		else
			bench_tag_write(origin, c->frame);
		t = bench_now_ns();
		p->render_ns += t - a;
		if (shm)
			xcb_shm_put_image(x->conn, x->pixmap, x->gc,
			                  (uint16_t)c->job->width,
			                  (uint16_t)c->job->height,
			                  (uint16_t)d->x, (uint16_t)d->y,
			                  (uint16_t)d->width, (uint16_t)d->height,
			                  (int16_t)d->x, (int16_t)d->y, x->depth,
			                  XCB_IMAGE_FORMAT_Z_PIXMAP, 0, x->seg, 0);
		else
			put_rows(x, x->pixels, d);
		xcb_flush(x->conn);
		sent = bench_now_ns();
		if (roundtrip(c, x) < 0)
			return -1;
		now = bench_now_ns();
		if (p->record) {
			/* A PutImage buffer is free once written to the socket;
			 * a segment only once the server has copied from it. */
			bench_samples_add(&c->release,
			                  (double)((shm ? now : sent) - t) / 1e3);
			bench_samples_add(&c->presented, (double)(now - t) / 1e3);
		}
		c->frame++;
		p->frames++;
	}
	p->elapsed_ns = now - t0;
	return 0;
}

static int attach_segment(struct bench_client *c, struct x11c *x, size_t bytes)
{
	const xcb_query_extension_reply_t *ext;
	xcb_generic_error_t *e;

	ext = xcb_get_extension_data(x->conn, &xcb_shm_id);
	if (!ext || !ext->present)
		return bench_client_fail(c, "the X server has no MIT-SHM");
	x->shmid = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
	if (x->shmid < 0)
		return bench_client_fail(c, "shmget: %s", strerror(errno));
	x->shm_addr = shmat(x->shmid, NULL, 0);
	if (x->shm_addr == (void *)-1) {
		x->shm_addr = NULL;
		shmctl(x->shmid, IPC_RMID, NULL);
		return bench_client_fail(c, "shmat: %s", strerror(errno));
	}
	x->seg = xcb_generate_id(x->conn);
	e = xcb_request_check(x->conn,
	                      xcb_shm_attach_checked(x->conn, x->seg,
	                                             (uint32_t)x->shmid, 1));
	/* Both sides are attached (or the server failed to): mark it for
	 * removal now, so that it cannot outlive us. */
	shmctl(x->shmid, IPC_RMID, NULL);
	if (e) {
		free(e);
		return bench_client_fail(c, "the X server cannot attach our "
		                         "segment (another host or user?)");
	}
	x->attached = 1;
	x->pixels = x->shm_addr;
	return 0;
}

static int x11_setup(struct bench_client *c)
{
	const struct bench_job *job = c->job;
	struct shmframe_rect whole = { 0, 0, job->width, job->height };
	struct bench_pass warm = bench_warmup_pass(c->cfg);
	size_t frame_bytes = (size_t)job->width * job->height * 4;
	xcb_screen_t *screen;
	struct x11c *x;
	char err[160];
	uint8_t *bg;
	int n;

	x = calloc(1, sizeof(*x));
	if (!x)
		return bench_client_fail(c, "out of memory");
	c->data = x;
	x->shmid = -1;
	x->conn = xcb_connect(c->cfg->x11_display, &n);
	if (xcb_connection_has_error(x->conn))
		return bench_client_fail(c, "cannot connect to X display %s",
		                         c->cfg->x11_display);
	screen = screen_of(x->conn, n);
	if (!screen)
		return bench_client_fail(c, "X display %s has no screen %d",
		                         c->cfg->x11_display, n);
	if (pick_depth(xcb_get_setup(x->conn), screen, &x->depth, err,
	               sizeof(err)) < 0)
		return bench_client_fail(c, "%s", err);
	if (job->width > 32767 || job->height > 32767)
		return bench_client_fail(c, "X pixmaps stop at 32767 pixels");
	x->max_request = (size_t)xcb_get_maximum_request_length(x->conn) * 4;
	c->server_pid = bench_peer_pid(xcb_get_file_descriptor(x->conn));

	x->pixmap = xcb_generate_id(x->conn);
	xcb_create_pixmap(x->conn, x->depth, x->pixmap, screen->root,
	                  (uint16_t)job->width, (uint16_t)job->height);
	x->gc = xcb_generate_id(x->conn);
	xcb_create_gc(x->conn, x->gc, x->pixmap, 0, NULL);

	if (job->mode == BENCH_X11_SHM) {
		x->stride = (size_t)job->width * 4;
		if (attach_segment(c, x, frame_bytes) < 0)
			return -1;
		bench_render_background(x->pixels, x->stride, &whole);
		snprintf(c->shm, sizeof(c->shm), "sysv");
	} else {
		x->stride = (size_t)job->damage.width * 4;
		x->pixels = malloc(x->stride * job->damage.height);
		if (!x->pixels)
			return bench_client_fail(c, "out of memory");
	}

	/* The background everywhere, once, so that outside the damage the
	 * pixmap holds what the final comparison expects. */
	bg = malloc(frame_bytes);
	if (!bg)
		return bench_client_fail(c, "out of memory");
	bench_render_background(bg, (size_t)job->width * 4, &whole);
	put_rows(x, bg, &whole);
	free(bg);
	if (roundtrip(c, x) < 0)
		return -1;

	return x11_pass(c, &warm);
}

static int x11_verify(struct bench_client *c)
{
	const struct bench_job *job = c->job;
	struct bench_pass one = { .render = 1, .max_frames = 1 };
	struct x11c *x = c->data;
	xcb_get_image_reply_t *r;
	xcb_generic_error_t *e = NULL;
	uint32_t frame = c->frame;
	int rc;

	if (x11_pass(c, &one) < 0)
		return -1;
	r = xcb_get_image_reply(x->conn,
	                        xcb_get_image(x->conn, XCB_IMAGE_FORMAT_Z_PIXMAP,
	                                      x->pixmap, 0, 0,
	                                      (uint16_t)job->width,
	                                      (uint16_t)job->height, ~0u),
	                        &e);
	if (!r) {
		free(e);
		return bench_client_fail(c, "GetImage failed");
	}
	if ((size_t)xcb_get_image_data_length(r) < (size_t)job->width * job->height * 4) {
		free(r);
		return bench_client_fail(c, "GetImage returned too few bytes");
	}
	/* Depth 24 keeps three bytes of each pixel. */
	rc = bench_client_check_image(c, xcb_get_image_data(r),
	                              (size_t)job->width * 4, frame,
	                              x->depth == 32 ? 0xffffffffu : 0x00ffffffu,
	                              "the X pixmap");
	free(r);
	return rc;
}

static void x11_teardown(struct bench_client *c)
{
	struct x11c *x = c->data;

	if (!x)
		return;
	if (x->conn && !xcb_connection_has_error(x->conn)) {
		if (x->attached)
			xcb_shm_detach(x->conn, x->seg);
		if (x->gc)
			xcb_free_gc(x->conn, x->gc);
		if (x->pixmap)
			xcb_free_pixmap(x->conn, x->pixmap);
		xcb_flush(x->conn);
	}
	if (x->conn)
		xcb_disconnect(x->conn);
	if (x->shm_addr)
		shmdt(x->shm_addr);
	else
		free(x->pixels);
	free(x);
	c->data = NULL;
}

const struct bench_mode_ops bench_x11_putimage_ops = {
	"x11-putimage", x11_setup, x11_pass, x11_verify, x11_teardown, 0,
};
const struct bench_mode_ops bench_x11_shm_ops = {
	"x11-shm", x11_setup, x11_pass, x11_verify, x11_teardown, 0,
};

/* ------------------------------------------------------------------ */
/* The X server itself                                                 */

/* Starts Xvfb with -displayfd: it picks a free display number itself and
 * writes it to us once it accepts connections, so no guessed number can
 * race another server and no socket has to be polled for. */
static int start_xvfb(struct bench_x11 *x, char *err, size_t errlen)
{
	char *argv[] = { "Xvfb", "-displayfd", "3", "-screen", "0",
	                 "4096x2304x24", "-nolisten", "tcp", NULL };
	char buf[32];
	size_t have = 0;
	uint64_t deadline;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	x->xvfb_pid = bench_spawn(argv, fds[1]);
	close(fds[1]);
	if (x->xvfb_pid < 0) {
		x->xvfb_pid = 0;
		close(fds[0]);
		snprintf(err, errlen, "cannot start Xvfb: %s", strerror(errno));
		return -1;
	}
	deadline = bench_now_ns() + (uint64_t)XVFB_READY_MS * 1000000u;
	while (!memchr(buf, '\n', have)) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		uint64_t now = bench_now_ns();
		ssize_t r;

		if (now >= deadline || have == sizeof(buf) - 1) {
			snprintf(err, errlen, "Xvfb did not start within %d s",
			         XVFB_READY_MS / 1000);
			goto err;
		}
		if (poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
			continue;
		r = read(fds[0], buf + have, sizeof(buf) - 1 - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "Xvfb exited at start (is it "
			         "installed? set DISPLAY to use another X server)");
			goto err;
		}
		have += (size_t)r;
	}
	buf[have] = '\0';
	close(fds[0]);
	snprintf(x->display, sizeof(x->display), ":%d", atoi(buf));
	return 0;
err:
	close(fds[0]);
	bench_stop_process(x->xvfb_pid, 2000);
	x->xvfb_pid = 0;
	return -1;
}

/*
 * Sends a few frames of the largest size from a connection of its own, and
 * closes it.  A fresh X server handles its first large requests far slower
 * than later ones (it grows its request buffer for each one, and its
 * allocator only learns to keep such sizes once a client has gone away):
 * without this the first x11 row would measure the allocator.
 */
static void warm_server(xcb_connection_t *conn, xcb_screen_t *screen,
                        uint8_t depth, uint32_t w, uint32_t h)
{
	struct x11c x = { .conn = conn, .depth = depth };
	struct shmframe_rect whole = { 0, 0, w, h };
	uint8_t *bg = malloc((size_t)w * h * 4);
	xcb_get_input_focus_reply_t *r;

	if (!bg)
		return;
	bench_render_background(bg, (size_t)w * 4, &whole);
	x.max_request = (size_t)xcb_get_maximum_request_length(conn) * 4;
	x.pixmap = xcb_generate_id(conn);
	xcb_create_pixmap(conn, depth, x.pixmap, screen->root, (uint16_t)w,
	                  (uint16_t)h);
	x.gc = xcb_generate_id(conn);
	xcb_create_gc(conn, x.gc, x.pixmap, 0, NULL);
	for (int i = 0; i < 3; i++)
		put_rows(&x, bg, &whole);
	xcb_free_gc(conn, x.gc);
	xcb_free_pixmap(conn, x.pixmap);
	r = xcb_get_input_focus_reply(conn, xcb_get_input_focus(conn), NULL);
	free(r);
	free(bg);
}

int bench_x11_open(struct bench_x11 *x, uint32_t warm_w, uint32_t warm_h,
                   char *err, size_t errlen)
{
	const char *env = getenv("DISPLAY");
	xcb_connection_t *conn;
	xcb_screen_t *screen;
	uint8_t depth;
	int n, rc = -1;

	memset(x, 0, sizeof(*x));
	if (env && *env)
		snprintf(x->display, sizeof(x->display), "%s", env);
	else if (start_xvfb(x, err, errlen) < 0)
		return -1;

	conn = xcb_connect(x->display, &n);
	if (xcb_connection_has_error(conn)) {
		snprintf(err, errlen, "cannot connect to X display %s", x->display);
		goto out;
	}
	screen = screen_of(conn, n);
	if (!screen) {
		snprintf(err, errlen, "X display %s has no screen %d", x->display, n);
		goto out;
	}
	if (pick_depth(xcb_get_setup(conn), screen, &depth, err, errlen) < 0)
		goto out;
	if (warm_w && warm_h && warm_w <= 32767 && warm_h <= 32767)
		warm_server(conn, screen, depth, warm_w, warm_h);
	rc = 0;
out:
	xcb_disconnect(conn);
	if (rc < 0)
		bench_x11_close(x);
	return rc;
}

void bench_x11_close(struct bench_x11 *x)
{
	if (x->xvfb_pid > 0)
		bench_stop_process(x->xvfb_pid, 3000);
	x->xvfb_pid = 0;
}
