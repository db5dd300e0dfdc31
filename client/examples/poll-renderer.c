/*
 * poll-renderer: rendering code that embeds libshmframe in its own poll()
 * loop.  The library's fd sits beside the program's own timerfd; frames are
 * drawn when the timer fires and a buffer is free, RELEASE / PRESENTED /
 * CLOSED arrive through the listener, and when the server goes away the
 * program reconnects (or exits with --no-reconnect).
 *
 *   poll-renderer [--server ADDR] [--frames N] [--fps N] [--no-reconnect]
 *
 * Ends with a key=value line like the other shmframe programs.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <shmframe.h>

#define WIDTH 320
#define HEIGHT 240

struct app {
	const char *server;
	unsigned long frames_wanted;
	unsigned fps;
	bool reconnect;
	struct shmframe_conn *conn;
	struct shmframe_surface *surface;
	unsigned long frames;    /* presented */
	unsigned long presented; /* PRESENTED events */
	unsigned long released;
	unsigned reconnects;
	bool closed;
};

static void on_presented(void *data, struct shmframe_surface *s,
                         uint32_t serial, uint64_t time_ns, int discarded)
{
	struct app *app = data;

	(void)s, (void)serial, (void)time_ns, (void)discarded;
	app->presented++;
}

static void on_released(void *data, struct shmframe_surface *s, uint32_t serial)
{
	struct app *app = data;

	(void)s, (void)serial;
	app->released++;
}

static void on_closed(void *data, struct shmframe_surface *s)
{
	struct app *app = data;

	(void)s;
	app->closed = true;
}

static const struct shmframe_surface_listener listener = {
	.presented = on_presented,
	.released = on_released,
	.closed = on_closed,
};

/* A moving diagonal band: every pixel depends on the frame number. */
static void render(uint8_t *px, uint32_t stride, unsigned long frame)
{
	for (uint32_t y = 0; y < HEIGHT; y++) {
		uint32_t *row = (uint32_t *)(px + (size_t)y * stride);
		for (uint32_t x = 0; x < WIDTH; x++) {
			uint32_t v = (x + y + (uint32_t)frame * 4) & 0xff;
			row[x] = 0xff000000u | v << 16 | (255 - v) << 8 | (uint32_t)(frame & 0xff);
		}
	}
}

static void teardown(struct app *app)
{
	shmframe_surface_destroy(app->surface);
	shmframe_disconnect(app->conn);
	app->surface = NULL;
	app->conn = NULL;
}

static int setup(struct app *app)
{
	struct shmframe_options opts;

	shmframe_options_init(&opts);
	opts.name = "poll-renderer";
	app->conn = shmframe_connect(app->server, &opts);
	if (!app->conn)
		return -ENOMEM;
	if (shmframe_conn_error(app->conn))
		goto fail;
	app->surface = shmframe_surface_create(app->conn, WIDTH, HEIGHT,
	                                       SHMFRAME_FORMAT_XRGB8888,
	                                       "poll-renderer");
	if (!app->surface)
		goto fail;
	shmframe_surface_set_listener(app->surface, &listener, app);
	return 0;

fail:
	fprintf(stderr, "poll-renderer: %s\n", shmframe_last_error(app->conn));
	teardown(app);
	return -ECONNREFUSED;
}

/* Draws and presents one frame if a buffer is free; a busy pool is not an
 * error, the frame is simply skipped like a missed vblank. */
static int draw_frame(struct app *app)
{
	struct shmframe_buffer *buf = shmframe_try_acquire(app->surface);
	uint32_t stride;
	void *px;

	if (!buf)
		return errno == EAGAIN ? 0 : -errno;
	px = shmframe_buffer_pixels(buf, &stride);
	render(px, stride, app->frames);
	if (shmframe_present(app->surface, buf, NULL, 0, NULL) < 0)
		return shmframe_conn_error(app->conn);
	app->frames++;
	return 0;
}

static int run(struct app *app, int timer)
{
	while (!app->closed && (app->frames_wanted == 0 ||
	                        app->frames < app->frames_wanted)) {
		struct pollfd pfd[2] = {
			{ .fd = timer, .events = POLLIN },
			{ .fd = shmframe_get_fd(app->conn), .events = POLLIN },
		};
		int r = shmframe_flush(app->conn);

		if (r < 0 && r != -EAGAIN)
			return r;
		if (r == -EAGAIN)
			pfd[1].events |= POLLOUT;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents) {
			r = shmframe_dispatch(app->conn);
			if (r < 0)
				return r;
		}
		if (pfd[0].revents & POLLIN) {
			uint64_t ticks;

			if (read(timer, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
				return -errno;
			r = draw_frame(app);
			if (r < 0)
				return r;
		}
	}
	/* Wait until the server has handled everything we sent. */
	return shmframe_roundtrip(app->conn);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: poll-renderer [--server ADDR] [--frames N] [--fps N] "
	        "[--no-reconnect]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "frames", required_argument, NULL, 'n' },
		{ "fps", required_argument, NULL, 'f' },
		{ "no-reconnect", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct app app = { .fps = 120, .reconnect = true };
	struct itimerspec its = { 0 };
	int timer, opt, r = 0;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': app.server = optarg; break;
		case 'n': app.frames_wanted = strtoul(optarg, NULL, 10); break;
		case 'f': app.fps = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': app.reconnect = false; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("poll-renderer %s\n", shmframe_version()); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || app.fps == 0 || app.fps > 10000) {
		usage(stderr);
		return 2;
	}
	timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (timer < 0) {
		perror("poll-renderer: timerfd_create");
		return 1;
	}
	its.it_interval.tv_nsec = 1000000000L / app.fps;
	its.it_value = its.it_interval;
	timerfd_settime(timer, 0, &its, NULL);

	for (;;) {
		r = setup(&app);
		if (r == 0) {
			r = run(&app, timer);
			if (r < 0)
				fprintf(stderr, "poll-renderer: connection lost: %s\n",
				        shmframe_last_error(app.conn));
		}
		if (r == 0 || !app.reconnect || app.reconnects >= 50)
			break;
		/* The server went away: wait a little and connect again. */
		teardown(&app);
		app.reconnects++;
		nanosleep(&(struct timespec){ .tv_nsec = 100000000L }, NULL);
	}
	if (app.conn) {
		const char *name = shmframe_transport_name(app.conn);
		const char *slash = strchr(name, '/');

		/* "shm/memfd" becomes transport=shm shm=memfd. */
		printf("frames=%lu presented=%lu released=%lu reconnects=%u "
		       "transport=%.*s%s%s signal=%s\n", app.frames, app.presented,
		       app.released, app.reconnects,
		       slash ? (int)(slash - name) : (int)strlen(name), name,
		       slash ? " shm=" : "", slash ? slash + 1 : "",
		       shmframe_signal(app.conn) == SHMFRAME_SIGNAL_RING ? "ring"
		                                                         : "socket");
	}
	teardown(&app);
	close(timer);
	return r < 0 ? 1 : 0;
}
