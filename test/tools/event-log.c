/*
 * sf-event-log: a real client of the library that prints every input and
 * configure event its surface gets, one line each, for the tests of the
 * viewer, the server and the input tool to compare with what they did.
 *
 *     sf-event-log [--server ADDR] [--size WxH] [--mask all|none|LIST]
 *                  [--title T] [--transport auto|shm|socket]
 *                  [--shm memfd|posix|sysv] [--present latch|copy]
 *                  [--resize]
 *                  [--no-read] [--frames-after-resize]
 *
 * LIST is comma-separated: key,motion,button,axis,crossing,focus,
 * configure; the default is all.  It creates one surface (default
 * 320x240, titled "event-log"), presents one frame of
 * sf_event_log_pixel() (event-pattern.h), selects the mask (with none it
 * selects nothing, so it runs against any server), prints
 *
 *     ready width=W height=H transport=T
 *
 * and then, flushed, one line per event:
 *
 *     key state=press|release code=N sym=N mods=0xN repeat=0|1 text=HEX time=NS now=NS
 *     motion x=F y=F buttons=0xN mods=0xN time=NS now=NS
 *     button button=N state=press|release x=F y=F buttons=0xN mods=0xN time=NS now=NS
 *     axis dx=F dy=F dx120=N dy120=N time=NS now=NS
 *     enter x=F y=F buttons=0xN mods=0xN time=NS now=NS
 *     leave x=F y=F buttons=0xN mods=0xN time=NS now=NS
 *     focus in|out time=NS now=NS
 *     configure width=N height=N serial=N now=NS
 *     resized width=N height=N serial=N          (only with --resize)
 *     closed
 *
 * F is "%.4f"; text is the typed UTF-8 as lowercase hex, "-" when empty;
 * time= is the server's time of the event, now= CLOCK_MONOTONIC when the
 * callback ran.  --resize answers each configure with
 * shmframe_surface_resize() from within the callback and presents a
 * whole frame of the pattern at the new size before printing resized
 * (or, for a size beyond the server's limits, keeps its size and prints
 * "refused width=N height=N error=EFBIG kept=WxH").
 * --frames-after-resize (with --resize): from the first resize on, it
 * also presents the pattern continuously, one frame whenever a buffer is
 * free (shmframe_acquire waits for it, so later configures, and their
 * resizes, run from inside acquire).  --no-read: selects, prints ready,
 * then never reads the socket again.  Exits 0 printing "bye" on SIGTERM
 * or at the end of stdin (when stdin is not a tty: a script that starts
 * it in the background gives it a pipe or fifo, as a shell without job
 * control gives background jobs /dev/null); 1 with "sf-event-log: why"
 * on stderr when the connection fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <shmframe.h>

#include "event-pattern.h"

#define PROG "sf-event-log"

struct log {
	struct shmframe_conn *conn;
	struct shmframe_surface *surface;
	bool resize;
	bool frames_after_resize;
	bool streaming;        /* presenting continuously */
	int failed;            /* a negative error from within a callback */
};

static int term_pipe[2] = { -1, -1 };

static void on_term(int sig)
{
	int saved = errno;

	(void)sig;
	if (write(term_pipe[1], "", 1) < 0) {
		/* The pipe is full: a wakeup is already there. */
	}
	errno = saved;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Lines of events that came before ready was printed (the CONFIGURE that
 * selecting brings, say), printed right after it. */
static char early[1 << 16];
static size_t early_len;
static bool started;

static void line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (started) {
		vprintf(fmt, ap);
		putchar('\n');
		fflush(stdout);
	} else if (early_len < sizeof early) {
		int n = vsnprintf(early + early_len, sizeof early - early_len, fmt,
		                  ap);

		if (n > 0 && early_len + (size_t)n + 1 < sizeof early) {
			early_len += (size_t)n;
			early[early_len++] = '\n';
		} else {
			early_len = sizeof early;
		}
	}
	va_end(ap);
}

/* One whole frame of the pattern at the surface's size. */
static int present_pattern(struct shmframe_surface *s)
{
	uint32_t w = shmframe_surface_width(s), h = shmframe_surface_height(s);
	struct shmframe_buffer *b = shmframe_acquire(s);
	uint32_t stride;
	uint8_t *px;

	if (!b)
		return -errno;
	px = shmframe_buffer_pixels(b, &stride);
	for (uint32_t y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)(px + (size_t)y * stride);

		for (uint32_t x = 0; x < w; x++)
			row[x] = sf_event_log_pixel(x, y, w, h);
	}
	return shmframe_present(s, b, NULL, 0, NULL);
}

static void on_closed(void *data, struct shmframe_surface *s)
{
	(void)data, (void)s;
	line("closed");
}

static void on_key(void *data, struct shmframe_surface *s,
                   const struct shmframe_key_event *e)
{
	char hex[2 * sizeof e->text + 1] = "-";
	uint64_t now = now_ns();

	(void)data, (void)s;
	for (size_t i = 0; e->text[i]; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)e->text[i]);
	line("key state=%s code=%u sym=%u mods=0x%x repeat=%d text=%s "
	     "time=%llu now=%llu", e->pressed ? "press" : "release", e->keycode,
	     e->keysym, e->modifiers, e->repeat, hex,
	     (unsigned long long)e->time_ns, (unsigned long long)now);
}

static void pointer_line(const char *what, const struct shmframe_pointer_event *e)
{
	uint64_t now = now_ns();

	line("%s x=%.4f y=%.4f buttons=0x%x mods=0x%x time=%llu now=%llu", what,
	     e->x, e->y, e->buttons, e->modifiers, (unsigned long long)e->time_ns,
	     (unsigned long long)now);
}

static void on_motion(void *data, struct shmframe_surface *s,
                      const struct shmframe_pointer_event *e)
{
	(void)data, (void)s;
	pointer_line("motion", e);
}

static void on_enter(void *data, struct shmframe_surface *s,
                     const struct shmframe_pointer_event *e)
{
	(void)data, (void)s;
	pointer_line("enter", e);
}

static void on_leave(void *data, struct shmframe_surface *s,
                     const struct shmframe_pointer_event *e)
{
	(void)data, (void)s;
	pointer_line("leave", e);
}

static void on_button(void *data, struct shmframe_surface *s,
                      const struct shmframe_button_event *e)
{
	uint64_t now = now_ns();

	(void)data, (void)s;
	line("button button=%u state=%s x=%.4f y=%.4f buttons=0x%x mods=0x%x "
	     "time=%llu now=%llu", e->button, e->pressed ? "press" : "release",
	     e->x, e->y, e->buttons, e->modifiers, (unsigned long long)e->time_ns,
	     (unsigned long long)now);
}

static void on_axis(void *data, struct shmframe_surface *s,
                    const struct shmframe_axis_event *e)
{
	uint64_t now = now_ns();

	(void)data, (void)s;
	line("axis dx=%.4f dy=%.4f dx120=%d dy120=%d time=%llu now=%llu", e->dx,
	     e->dy, e->dx120, e->dy120, (unsigned long long)e->time_ns,
	     (unsigned long long)now);
}

static void on_focus(void *data, struct shmframe_surface *s, int focused,
                     uint64_t time_ns)
{
	uint64_t now = now_ns();

	(void)data, (void)s;
	line("focus %s time=%llu now=%llu", focused ? "in" : "out",
	     (unsigned long long)time_ns, (unsigned long long)now);
}

static void on_configure(void *data, struct shmframe_surface *s,
                         uint32_t width, uint32_t height, uint32_t serial)
{
	struct log *lg = data;
	int err;

	line("configure width=%u height=%u serial=%u now=%llu", width, height,
	     serial, (unsigned long long)now_ns());
	if (!lg->resize || lg->failed)
		return;
	err = shmframe_surface_resize(s, width, height, serial);
	if (err == -EFBIG) {
		/* Beyond the server's limits: the surface keeps its size and
		 * the viewer scales it, as for a client that does not resize. */
		line("refused width=%u height=%u error=EFBIG kept=%ux%u", width,
		     height, shmframe_surface_width(s), shmframe_surface_height(s));
		return;
	}
	if (!err)
		err = present_pattern(s);
	if (err) {
		lg->failed = err;
		return;
	}
	line("resized width=%u height=%u serial=%u", shmframe_surface_width(s),
	     shmframe_surface_height(s), serial);
	if (lg->frames_after_resize)
		lg->streaming = true;
}

static const struct shmframe_surface_listener listener = {
	.closed = on_closed,
	.key = on_key,
	.pointer_motion = on_motion,
	.pointer_button = on_button,
	.pointer_axis = on_axis,
	.pointer_enter = on_enter,
	.pointer_leave = on_leave,
	.focus = on_focus,
	.configure = on_configure,
};

static int parse_mask(const char *arg, uint32_t *mask)
{
	static const struct { const char *name; uint32_t bit; } names[] = {
		{ "key", SHMFRAME_EVENT_KEY },
		{ "motion", SHMFRAME_EVENT_POINTER_MOTION },
		{ "button", SHMFRAME_EVENT_POINTER_BUTTON },
		{ "axis", SHMFRAME_EVENT_POINTER_AXIS },
		{ "crossing", SHMFRAME_EVENT_POINTER_CROSSING },
		{ "focus", SHMFRAME_EVENT_FOCUS },
		{ "configure", SHMFRAME_EVENT_CONFIGURE },
	};
	const char *p = arg;

	*mask = 0;
	if (strcmp(arg, "all") == 0) {
		*mask = SHMFRAME_EVENT_ALL;
		return 0;
	}
	if (strcmp(arg, "none") == 0)
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strlen(names[i].name) == n &&
			    strncmp(p, names[i].name, n) == 0)
				break;
		if (i == sizeof names / sizeof names[0])
			return -1;
		*mask |= names[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " [--server ADDR] [--size WxH] "
	        "[--mask all|none|LIST] [--title T] [--transport "
	        "auto|shm|socket] [--shm memfd|posix|sysv] "
	        "[--present latch|copy] [--resize] "
	        "[--no-read] "
	        "[--frames-after-resize]\n");
	return 2;
}

static int fail(struct log *lg, const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s%s%s\n", what, shmframe_strerror(err),
	        lg->conn && shmframe_last_error(lg->conn)[0] ? ": " : "",
	        lg->conn ? shmframe_last_error(lg->conn) : "");
	return 1;
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *title = "event-log";
	unsigned width = 320, height = 240;
	uint32_t mask = SHMFRAME_EVENT_ALL;
	struct shmframe_options o;
	enum shmframe_present_mode present_mode = SHMFRAME_PRESENT_LATCH;
	struct log lg = { 0 };
	bool no_read = false, watch_stdin;
	struct sigaction sa;
	int err;

	shmframe_options_init(&o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--resize") == 0) {
			lg.resize = true;
			continue;
		}
		if (strcmp(a, "--no-read") == 0) {
			no_read = true;
			continue;
		}
		if (strcmp(a, "--frames-after-resize") == 0) {
			lg.frames_after_resize = true;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (strcmp(a, "--server") == 0) {
			addr = v;
		} else if (strcmp(a, "--size") == 0) {
			char end;

			if (sscanf(v, "%ux%u%c", &width, &height, &end) != 2)
				return usage();
		} else if (strcmp(a, "--mask") == 0) {
			if (parse_mask(v, &mask))
				return usage();
		} else if (strcmp(a, "--title") == 0) {
			title = v;
		} else if (strcmp(a, "--transport") == 0) {
			if (strcmp(v, "auto") == 0)
				o.transport = SHMFRAME_TRANSPORT_AUTO;
			else if (strcmp(v, "shm") == 0)
				o.transport = SHMFRAME_TRANSPORT_SHM;
			else if (strcmp(v, "socket") == 0)
				o.transport = SHMFRAME_TRANSPORT_SOCKET;
			else
				return usage();
		} else if (strcmp(a, "--present") == 0) {
			if (strcmp(v, "latch") == 0)
				present_mode = SHMFRAME_PRESENT_LATCH;
			else if (strcmp(v, "copy") == 0)
				present_mode = SHMFRAME_PRESENT_COPY;
			else
				return usage();
		} else if (strcmp(a, "--shm") == 0) {
			if (strcmp(v, "memfd") == 0)
				o.shm = SHMFRAME_SHM_MEMFD;
			else if (strcmp(v, "posix") == 0)
				o.shm = SHMFRAME_SHM_POSIX;
			else if (strcmp(v, "sysv") == 0)
				o.shm = SHMFRAME_SHM_SYSV;
			else
				return usage();
		} else {
			return usage();
		}
	}

	if (pipe2(term_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		perror(PROG ": pipe");
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	o.name = PROG;
	lg.conn = shmframe_connect(addr, &o);
	if (!lg.conn) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	err = shmframe_conn_error(lg.conn);
	if (err)
		return fail(&lg, "connect", err);
	lg.surface = shmframe_surface_create(lg.conn, width, height,
	                                     SHMFRAME_FORMAT_XRGB8888, title);
	if (!lg.surface)
		return fail(&lg, "surface", -errno);
	shmframe_surface_set_listener(lg.surface, &listener, &lg);
	err = shmframe_surface_set_present_mode(lg.surface, present_mode);
	if (!err)
		err = present_pattern(lg.surface);
	if (!err && mask)
		err = shmframe_surface_select_input(lg.surface, mask);
	if (!err)
		err = no_read ? shmframe_flush(lg.conn) : shmframe_roundtrip(lg.conn);
	if (err == -EAGAIN)
		err = 0;
	if (!err)
		err = lg.failed;
	if (err)
		return fail(&lg, "start", err);
	started = true;
	line("ready width=%u height=%u transport=%s", width, height,
	     shmframe_transport_name(lg.conn));
	if (early_len == sizeof early) {
		fprintf(stderr, PROG ": too many events before ready\n");
		return 1;
	}
	fwrite(early, 1, early_len, stdout);
	fflush(stdout);

	watch_stdin = !isatty(STDIN_FILENO);
	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = term_pipe[0], .events = POLLIN },
			{ .fd = no_read ? -1 : shmframe_get_fd(lg.conn),
			  .events = POLLIN },
			{ .fd = watch_stdin ? STDIN_FILENO : -1, .events = POLLIN },
		};
		int r;

		if (!no_read) {
			r = shmframe_dispatch(lg.conn);
			if (r < 0)
				return fail(&lg, "dispatch", r);
			if (lg.failed)
				return fail(&lg, "resize", lg.failed);
			if (lg.streaming) {
				/* Waits for a free buffer, running the events
				 * that come meanwhile. */
				err = present_pattern(lg.surface);
				if (err)
					return fail(&lg, "present", err);
				if (lg.failed)
					return fail(&lg, "resize", lg.failed);
			}
			err = shmframe_flush(lg.conn);
			if (err && err != -EAGAIN)
				return fail(&lg, "flush", err);
			if (err == -EAGAIN)
				fds[1].events |= POLLOUT;
		}
		r = poll(fds, 3, lg.streaming ? 0 : -1);
		if (r < 0 && errno != EINTR) {
			perror(PROG ": poll");
			return 1;
		}
		if (r <= 0)
			continue;
		if (fds[0].revents)
			break;
		if (fds[2].revents) {
			char buf[256];
			ssize_t n = read(STDIN_FILENO, buf, sizeof buf);

			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				break;
		}
	}
	line("bye");
	shmframe_surface_destroy(lg.surface);
	shmframe_disconnect(lg.conn);
	return 0;
}
