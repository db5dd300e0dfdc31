/*
 * shmframe-demo: renders an animated scene straight into the buffers the
 * library hands out and presents them, at a steady rate or as fast as it
 * can, and lets a person play with it when the server sends input: the
 * arrows move the square, the mouse drags it, the wheel zooms it, Space
 * pauses the animation, a new window size re-renders at that size.  Every
 * frame is sf__demo_render_state() of the state the summary line ends
 * with, so a readback of the last frame can be checked against a render
 * of that state (without input, frame k is sf__demo_render(k)).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "demo-render.h"
#include "tool-common.h"

#define PROG "shmframe-demo"

struct args {
	struct sf_tool_args tool;
	uint32_t width, height;
	uint64_t frames;
	bool paused;
	bool no_input;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	"usage: " PROG " [OPTIONS]\n"
	"\n"
	"Renders an animated scene into a shmframe surface.\n"
	"\n"
	"  --server ADDR        unix:PATH, tcp:HOST:PORT or :N (default\n"
	"                       $SHMFRAME_SERVER, else :0)\n"
	"  --transport MODE     auto, shm or socket (default $SHMFRAME_TRANSPORT,\n"
	"                       else auto)\n"
	"  --shm KIND           memfd, posix or sysv (default: the first that works)\n"
	"  --signal MODE        auto, ring or socket: frames and their events\n"
	"                       through rings in shared memory, or on the socket\n"
	"                       (default $SHMFRAME_SIGNAL, else auto: rings when\n"
	"                       the server offers them over shm)\n"
	"  --compress MODE      auto, none, lz4 or zstd: socket pixels (default\n"
	"                       $SHMFRAME_COMPRESS, else auto: lz4 over TCP to\n"
	"                       another host or a link slower than lz4)\n"
	"  --size WxH           surface size (default 640x480)\n"
	"  --frames N           frames to show, 0 = until the window is closed\n"
	"                       or the program interrupted (default 0)\n"
	"  --fps N              frames per second, 0 = as fast as possible\n"
	"                       (default 60)\n"
	"  --buffers N          buffers in the surface's pool, 1..16 (default 3)\n"
	"  --title T            the surface's title\n"
	"  --paused             start with the animation paused\n"
	"  --no-input           ask for no input: the viewer's Esc and q then\n"
	"                       close the window, as for any client\n"
	"  --readback OUT.png   read the last frame back at the end\n"
	"  --help, --version\n"
	"\n"
	"In its window (when the server sends input, protocol 2.2):\n"
	"  arrows               move the square by %d pixels\n"
	"  left button          drag the square\n"
	"  wheel                zoom the square (%u..%u, side min(W,H)*zoom/32)\n"
	"  Space                pause or resume the animation\n"
	"  Escape, q            quit, as closing the window does\n"
	"  resizing the window  renders at the window's size\n"
	"While paused a frame is presented only when something changed, with\n"
	"the changed rectangles as its damage.\n"
	"\n"
	"Ends with a line: frames=N transport=shm shm=KIND signal=ring|socket compress=none|lz4|zstd\n"
	"width=W height=H seconds=S fps=F presented=P input=on|off paused=0|1\n"
	"anim_frame=K shape_x=X shape_y=Y zoom=Z keys=N motions=N buttons=N\n"
	"axes=N configures=N resizes=N signal_reason=\"...\" reason=\"...\"\n"
	"(transport=socket without shm=); width, height and the state are the\n"
	"last frame's.\n", SF_DEMO_STEP, SF_DEMO_ZOOM_MIN, SF_DEMO_ZOOM_MAX);
}

#define usage_error(...) sf__usage_error(PROG, __VA_ARGS__)

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		SF_TOOL_LONGOPTS,
		{ "size", required_argument, NULL, 'S' },
		{ "frames", required_argument, NULL, 'n' },
		{ "paused", no_argument, NULL, 'P' },
		{ "no-input", no_argument, NULL, 'I' },
		{ 0 }
	};
	uint64_t v;
	int opt, status;

	a->width = 640;
	a->height = 480;
	a->tool.fps = 60;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			if (sf__parse_size(optarg, &a->width, &a->height, NULL))
				return usage_error("--size needs WxH (1..16384 each), not "
				                   "'%s'", optarg);
			break;
		case 'n':
			if (sf__parse_uint(optarg, UINT64_MAX, &v))
				return usage_error("--frames needs a count, not '%s'", optarg);
			a->frames = v;
			break;
		case 'P':
			a->paused = true;
			break;
		case 'I':
			a->no_input = true;
			break;
		default:
			status = sf__tool_option(PROG, &a->tool, opt, optarg, argv,
			                         usage);
			if (status >= 0)
				return status;
		}
	}
	if (optind != argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return -1;
}

/* Events handled, by kind, for the summary line. */
struct counts {
	uint64_t presented; /* PRESENTED events */
	uint64_t keys, motions, buttons, axes, configures, resizes;
};

struct demo {
	struct shmframe_conn *conn;
	struct shmframe_surface *s;
	uint32_t width, height;
	struct sf_demo_state st;
	bool input;         /* the server sends input */
	bool paused;
	bool dirty;         /* st changed since the last frame */
	bool whole;         /* the next frame replaces the whole surface */
	bool quit;          /* Escape */
	/* A left-button drag: the square's centre minus the pointer. */
	bool dragging;
	int32_t drag_dx, drag_dy;
	int32_t wheel;      /* 1/120 notches not yet turned into zoom */
	/* The latest CONFIGURE, answered between frames (never while a
	 * buffer is acquired, which shmframe_surface_resize refuses). */
	bool configure_pending;
	uint32_t configure_w, configure_h, configure_serial;
	struct counts n;
};

/* Moves the square's centre to (cx, cy), kept inside the surface. */
static void move_square(struct demo *d, int64_t cx, int64_t cy)
{
	struct sf_demo_state st = d->st;

	st.cx = (int32_t)(cx < INT32_MIN ? INT32_MIN : cx > INT32_MAX ? INT32_MAX : cx);
	st.cy = (int32_t)(cy < INT32_MIN ? INT32_MIN : cy > INT32_MAX ? INT32_MAX : cy);
	sf__demo_state_clamp(&st, d->width, d->height);
	if (st.cx != d->st.cx || st.cy != d->st.cy) {
		d->st = st;
		d->dirty = true;
	}
}

static void on_presented(void *data, struct shmframe_surface *s,
                         uint32_t serial, uint64_t time_ns, int discarded)
{
	struct demo *d = data;

	(void)s, (void)serial, (void)time_ns, (void)discarded;
	d->n.presented++;
}

static void on_key(void *data, struct shmframe_surface *s,
                   const struct shmframe_key_event *ev)
{
	struct demo *d = data;
	int64_t cx = d->st.cx, cy = d->st.cy;

	(void)s;
	d->n.keys++;
	if (!ev->pressed)
		return;
	switch (ev->keycode) {
	case SHMFRAME_KEY_RIGHT: move_square(d, cx + SF_DEMO_STEP, cy); break;
	case SHMFRAME_KEY_LEFT: move_square(d, cx - SF_DEMO_STEP, cy); break;
	case SHMFRAME_KEY_DOWN: move_square(d, cx, cy + SF_DEMO_STEP); break;
	case SHMFRAME_KEY_UP: move_square(d, cx, cy - SF_DEMO_STEP); break;
	case SHMFRAME_KEY_SPACE:
		/* Holding Space does not make it flicker between the two. */
		if (!ev->repeat)
			d->paused = !d->paused;
		break;
	case SHMFRAME_KEY_ESCAPE:
	case SHMFRAME_KEY_A + ('q' - 'a'):
		d->quit = true;
		break;
	}
}

/* Pointer coordinates are surface pixels in steps of 1/256: the pixel
 * under the pointer is their floor (also left of and above the surface,
 * where a drag may go). */
static int64_t pixel_of(double v)
{
	int64_t i;

	v = v < -1e9 ? -1e9 : v > 1e9 ? 1e9 : v;
	i = (int64_t)v;
	return (double)i > v ? i - 1 : i;
}

static void on_motion(void *data, struct shmframe_surface *s,
                      const struct shmframe_pointer_event *ev)
{
	struct demo *d = data;

	(void)s;
	d->n.motions++;
	if (d->dragging)
		move_square(d, pixel_of(ev->x) + d->drag_dx,
		            pixel_of(ev->y) + d->drag_dy);
}

static void on_button(void *data, struct shmframe_surface *s,
                      const struct shmframe_button_event *ev)
{
	struct demo *d = data;
	int64_t px = pixel_of(ev->x), py = pixel_of(ev->y), x, y;
	uint32_t side = sf__demo_square_side(&d->st, d->width, d->height);

	(void)s;
	d->n.buttons++;
	if (ev->button != SHMFRAME_BUTTON_LEFT)
		return;
	if (!ev->pressed) {
		d->dragging = false;
		return;
	}
	/* Only a press on the square picks it up. */
	sf__demo_square_origin(&d->st, d->width, d->height, &x, &y);
	if (px >= x && px < x + side && py >= y && py < y + side) {
		d->dragging = true;
		d->drag_dx = (int32_t)(d->st.cx - px);
		d->drag_dy = (int32_t)(d->st.cy - py);
	}
}

static void on_axis(void *data, struct shmframe_surface *s,
                    const struct shmframe_axis_event *ev)
{
	struct demo *d = data;
	int64_t zoom = d->st.zoom;
	int32_t notches;

	(void)s;
	d->n.axes++;
	/* Whole notches zoom, a high-resolution wheel's fractions add up;
	 * the wheel away from the user (dy > 0) makes the square bigger. */
	d->wheel += ev->dy120;
	notches = d->wheel / 120;
	d->wheel -= notches * 120;
	zoom += notches;
	if (zoom < SF_DEMO_ZOOM_MIN)
		zoom = SF_DEMO_ZOOM_MIN;
	if (zoom > SF_DEMO_ZOOM_MAX)
		zoom = SF_DEMO_ZOOM_MAX;
	if ((uint32_t)zoom != d->st.zoom) {
		d->st.zoom = (uint32_t)zoom;
		d->dirty = true;
	}
}

static void on_configure(void *data, struct shmframe_surface *s,
                         uint32_t width, uint32_t height, uint32_t serial)
{
	struct demo *d = data;

	(void)s;
	d->n.configures++;
	d->configure_pending = true;
	d->configure_w = width;
	d->configure_h = height;
	d->configure_serial = serial;
}

static const struct shmframe_surface_listener listener = {
	.presented = on_presented,
	.key = on_key,
	.pointer_motion = on_motion,
	.pointer_button = on_button,
	.pointer_axis = on_axis,
	.configure = on_configure,
};

/* The events the demo plays with. */
#define DEMO_EVENTS (SHMFRAME_EVENT_KEY | SHMFRAME_EVENT_POINTER_MOTION | \
                     SHMFRAME_EVENT_POINTER_BUTTON | \
                     SHMFRAME_EVENT_POINTER_AXIS | SHMFRAME_EVENT_CONFIGURE)

/* Asks for input; a server without it (protocol 2.1 and older) leaves the
 * demo as it always was.  0, or -1 after a message. */
static int select_input(struct demo *d)
{
	int err = shmframe_surface_select_input(d->s, DEMO_EVENTS);

	if (err == -ENOTSUP)
		return 0;
	/* The round trip makes sure the server has the mask before the first
	 * frame, so that input sent once the frame is there is never lost. */
	if (!err)
		err = shmframe_roundtrip(d->conn);
	if (err) {
		fprintf(stderr, PROG ": cannot select input: %s\n",
		        sf__tool_why(d->conn, err));
		return -1;
	}
	d->input = true;
	return 0;
}

/* Answers the latest CONFIGURE by taking the window's size.  0 (also when
 * the server refused the size: the viewer then scales the old one), or
 * -1 after a message when the connection failed. */
static int answer_configure(struct demo *d)
{
	uint32_t w = d->configure_w, h = d->configure_h;
	int err;

	d->configure_pending = false;
	err = shmframe_surface_resize(d->s, w, h, d->configure_serial);
	if (err) {
		fprintf(stderr, PROG ": cannot resize to %ux%u: %s\n", w, h,
		        sf__tool_why(d->conn, err));
		return shmframe_conn_error(d->conn) ? -1 : 0;
	}
	if (w == d->width && h == d->height)
		return 0;
	d->n.resizes++;
	d->width = w;
	d->height = h;
	d->dragging = false;
	sf__demo_state_clamp(&d->st, w, h);
	d->whole = d->dirty = true;
	return 0;
}

/* The square's rectangle, clipped to the surface (never empty: its
 * centre is inside). */
static struct shmframe_rect square_rect(const struct demo *d,
                                        const struct sf_demo_state *st)
{
	uint32_t side = sf__demo_square_side(st, d->width, d->height);
	int64_t x0, y0, x1, y1;

	sf__demo_square_origin(st, d->width, d->height, &x0, &y0);
	x1 = x0 + side > d->width ? d->width : x0 + side;
	y1 = y0 + side > d->height ? d->height : y0 + side;
	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	return (struct shmframe_rect){ (uint32_t)x0, (uint32_t)y0,
	                               (uint32_t)(x1 - x0), (uint32_t)(y1 - y0) };
}

/* PRESENTED for the last frames comes when a window shows them, a tick
 * after the server handled them: wait for it (a second at most) so that
 * presented= accounts for every frame. */
static void wait_presented(struct demo *d, uint64_t frames)
{
	double end = sf__now() + 1.0;

	while (d->n.presented < frames && !shmframe_conn_error(d->conn)) {
		struct pollfd p = { .fd = shmframe_get_fd(d->conn), .events = POLLIN };
		double left = end - sf__now();

		if (left <= 0 || shmframe_dispatch(d->conn) < 0)
			break;
		if (d->n.presented >= frames)
			break;
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
	}
}

/* Sleeps in ppoll until the server sends something, a signal comes (only
 * there are SIGINT and SIGTERM unblocked, so none is missed between the
 * check of stop and the sleep) or timeout seconds passed (< 0: none). */
static int wait_events(struct demo *d, double timeout, const sigset_t *mask)
{
	struct pollfd p = { .fd = shmframe_get_fd(d->conn), .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	int err = shmframe_flush(d->conn);

	if (err == -EAGAIN)
		p.events |= POLLOUT;
	else if (err)
		return err;
	if (timeout >= 0) {
		ts.tv_sec = (time_t)timeout;
		ts.tv_nsec = (long)((timeout - (double)ts.tv_sec) * 1e9);
		tsp = &ts;
	}
	if (ppoll(&p, 1, tsp, mask) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

/* Renders and presents the current state: the whole surface when the
 * animation stepped (every pixel of the scene moves) or the size changed,
 * else only where the square was and is.  0, or -1 after a message. */
static int present(struct demo *d, bool first, struct sf_demo_state *shown)
{
	struct shmframe_rect damage[2];
	struct shmframe_buffer *b;
	unsigned n_damage = 0;
	uint32_t stride;
	void *px;
	int err;

	b = shmframe_acquire(d->s);
	if (!b) {
		fprintf(stderr, PROG ": no buffer: %s\n", sf__tool_why(d->conn, -errno));
		return -1;
	}
	/* Acquire dispatched events: a CONFIGURE is answered after this
	 * frame, at the size the buffer has. */
	if (!first && !d->whole && shown->frame == d->st.frame) {
		damage[n_damage++] = square_rect(d, shown);
		damage[n_damage++] = square_rect(d, &d->st);
	}
	px = shmframe_buffer_pixels(b, &stride);
	sf__demo_render_state(px, stride, d->width, d->height, &d->st);
	err = shmframe_present(d->s, b, damage, n_damage, NULL);
	if (err) {
		fprintf(stderr, PROG ": present failed: %s\n", sf__tool_why(d->conn, err));
		return -1;
	}
	*shown = d->st;
	d->dirty = d->whole = false;
	return 0;
}

/* Presents frames until done: the animation's at --fps (one at a time,
 * as fast as possible with 0), and between them one whenever input
 * changed the state.  0, or -1 after a message. */
static int run(const struct args *a, struct demo *d, double start,
               uint64_t *frames, const sigset_t *wait_mask)
{
	bool live = isatty(STDERR_FILENO);
	double last_report = start, due = start;
	uint64_t last_frames = 0;
	struct sf_demo_state shown = d->st;
	bool was_paused = d->paused;

	while (!stop && !d->quit && !shmframe_surface_closed(d->s) &&
	       (a->frames == 0 || *frames < a->frames)) {
		bool animate;
		double now;
		int err = shmframe_dispatch(d->conn);

		if (err < 0) {
			fprintf(stderr, PROG ": %s\n", sf__tool_why(d->conn, err));
			return -1;
		}
		if (d->configure_pending && answer_configure(d) < 0)
			return -1;
		if (stop || d->quit || shmframe_surface_closed(d->s))
			break;
		now = sf__now();
		/* The animation resumes from where it stopped, on a fresh beat. */
		if (was_paused && !d->paused)
			due = now;
		was_paused = d->paused;
		animate = !d->paused && (a->tool.fps == 0 || now >= due);
		if (*frames && !animate && !d->dirty) {
			err = wait_events(d, d->paused ? -1.0 : due - now, wait_mask);
			if (err) {
				fprintf(stderr, PROG ": %s\n", sf__tool_why(d->conn, err));
				return -1;
			}
			continue;
		}
		if (animate && *frames)
			d->st.frame++;
		if (present(d, *frames == 0, &shown) < 0)
			return -1;
		++*frames;
		if (animate && a->tool.fps) {
			due += 1.0 / a->tool.fps;
			/* After a stall, start a fresh beat rather than rush. */
			if (due < now - 1.0)
				due = now;
		}
		if (live) {
			now = sf__now();
			if (now - last_report >= 1.0) {
				fprintf(stderr, "\r" PROG ": %.1f fps, %s, signal %s, %llu "
				        "frames  ",
				        (double)(*frames - last_frames) / (now - last_report),
				        shmframe_transport_name(d->conn),
				        sf__signal_name(d->conn), (unsigned long long)*frames);
				last_report = now;
				last_frames = *frames;
			}
		}
	}
	if (live && last_frames)
		fputc('\n', stderr);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct shmframe_options opts;
	struct shmframe_conn *conn = NULL;
	struct demo d = { 0 };
	struct sigaction sa;
	sigset_t quit_signals, wait_mask;
	uint64_t frames = 0;
	double start, seconds;
	char extra[320];
	int status = parse_args(argc, argv, &a), failed;

	if (status >= 0)
		return status;
	/* Ctrl-C ends the animation cleanly, with the summary line.  The two
	 * signals are let through only while the demo sleeps (ppoll), so one
	 * that comes just before the sleep ends it. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&quit_signals);
	sigaddset(&quit_signals, SIGINT);
	sigaddset(&quit_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &quit_signals, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);

	shmframe_options_init(&opts);
	conn = sf__tool_connect(PROG, &a.tool, &opts);
	if (!conn)
		return 1;
	d.conn = conn;
	d.width = a.width;
	d.height = a.height;
	d.paused = a.paused;
	sf__demo_state_init(&d.st, a.width, a.height);
	d.s = sf__tool_surface(PROG, &a.tool, conn, a.width, a.height);
	if (!d.s) {
		status = 1;
		goto disconnect;
	}
	shmframe_surface_set_listener(d.s, &listener, &d);
	if (!a.no_input && select_input(&d) < 0) {
		status = 1;
		goto disconnect;
	}

	start = sf__now();
	failed = run(&a, &d, start, &frames, &wait_mask) < 0;
	if (!shmframe_conn_error(conn) && shmframe_roundtrip(conn)) {
		fprintf(stderr, PROG ": %s\n", shmframe_last_error(conn));
		failed = 1;
	}
	seconds = sf__now() - start;
	wait_presented(&d, frames);
	if (a.tool.readback && !shmframe_conn_error(conn) &&
	    sf__tool_readback(PROG, &a.tool, conn, d.s, d.width, d.height))
		failed = 1;
	snprintf(extra, sizeof extra,
	         "presented=%llu input=%s paused=%d anim_frame=%llu shape_x=%d "
	         "shape_y=%d zoom=%u keys=%llu motions=%llu buttons=%llu "
	         "axes=%llu configures=%llu resizes=%llu",
	         (unsigned long long)d.n.presented, d.input ? "on" : "off",
	         d.paused ? 1 : 0, (unsigned long long)d.st.frame, d.st.cx,
	         d.st.cy, d.st.zoom, (unsigned long long)d.n.keys,
	         (unsigned long long)d.n.motions, (unsigned long long)d.n.buttons,
	         (unsigned long long)d.n.axes, (unsigned long long)d.n.configures,
	         (unsigned long long)d.n.resizes);
	sf__print_summary(conn, frames, d.width, d.height, seconds, extra);
	status = failed ? 1 : 0;

disconnect:
	shmframe_surface_destroy(d.s);
	shmframe_disconnect(conn);
	return status;
}
