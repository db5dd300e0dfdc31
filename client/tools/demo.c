/*
 * shmframe-demo: renders an animated scene straight into the buffers the
 * library hands out and presents them, at a steady rate or as fast as it
 * can.  Frame k is sf__demo_render(k), so a readback of the last frame can
 * be checked against a render of the same frame.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo-render.h"
#include "tool-common.h"

#define PROG "shmframe-demo"

struct args {
	struct sf_tool_args tool;
	uint32_t width, height;
	uint64_t frames;
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
	"  --size WxH           surface size (default 640x480)\n"
	"  --frames N           frames to show, 0 = until the window is closed\n"
	"                       or the program interrupted (default 0)\n"
	"  --fps N              frames per second, 0 = as fast as possible\n"
	"                       (default 60)\n"
	"  --title T            the surface's title\n"
	"  --readback OUT.png   read the last frame back at the end\n"
	"  --help, --version\n"
	"\n"
	"Ends with a line: frames=N transport=shm shm=KIND signal=ring|socket\n"
	"width=W height=H seconds=S fps=F presented=P signal_reason=\"...\"\n"
	"reason=\"...\" (transport=socket without shm=).\n");
}

#define usage_error(...) sf__usage_error(PROG, __VA_ARGS__)

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		SF_TOOL_LONGOPTS,
		{ "size", required_argument, NULL, 'S' },
		{ "frames", required_argument, NULL, 'n' },
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

struct stats {
	uint64_t presented; /* PRESENTED events */
};

static void on_presented(void *data, struct shmframe_surface *s,
                         uint32_t serial, uint64_t time_ns, int discarded)
{
	struct stats *st = data;

	(void)s, (void)serial, (void)time_ns, (void)discarded;
	st->presented++;
}

static const struct shmframe_surface_listener listener = {
	.presented = on_presented,
};

/* PRESENTED for the last frames comes when a window shows them, a tick
 * after the server handled them: wait for it (a second at most) so that
 * presented= accounts for every frame. */
static void wait_presented(struct shmframe_conn *conn, const struct stats *st,
                           uint64_t frames)
{
	double end = sf__now() + 1.0;

	while (st->presented < frames && !shmframe_conn_error(conn)) {
		struct pollfd p = { .fd = shmframe_get_fd(conn), .events = POLLIN };
		double left = end - sf__now();

		if (left <= 0 || shmframe_dispatch(conn) < 0)
			break;
		if (st->presented >= frames)
			break;
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
	}
}

/* Renders and presents frames until done.  0, or -1 after a message. */
static int run(const struct args *a, struct shmframe_conn *conn,
               struct shmframe_surface *s, double start, uint64_t *frames)
{
	bool live = isatty(STDERR_FILENO);
	double last_report = start;
	uint64_t last_frames = 0;
	int status = 0;

	while (!stop && !shmframe_surface_closed(s) &&
	       (a->frames == 0 || *frames < a->frames)) {
		struct shmframe_buffer *b;
		uint32_t stride;
		void *px;
		int err;

		sf__pace(start, *frames, a->tool.fps);
		if (stop)
			break;
		b = shmframe_acquire(s);
		if (!b) {
			fprintf(stderr, PROG ": no buffer: %s\n", sf__tool_why(conn, -errno));
			status = -1;
			break;
		}
		px = shmframe_buffer_pixels(b, &stride);
		sf__demo_render(px, stride, a->width, a->height, *frames);
		err = shmframe_present(s, b, NULL, 0, NULL);
		if (err) {
			fprintf(stderr, PROG ": present failed: %s\n", sf__tool_why(conn, err));
			status = -1;
			break;
		}
		++*frames;
		if (live) {
			double now = sf__now();

			if (now - last_report >= 1.0) {
				fprintf(stderr, "\r" PROG ": %.1f fps, %s, signal %s, %llu "
				        "frames  ",
				        (double)(*frames - last_frames) / (now - last_report),
				        shmframe_transport_name(conn), sf__signal_name(conn),
				        (unsigned long long)*frames);
				last_report = now;
				last_frames = *frames;
			}
		}
	}
	if (live && last_frames)
		fputc('\n', stderr);
	return status;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct shmframe_options opts;
	struct shmframe_conn *conn = NULL;
	struct shmframe_surface *s = NULL;
	struct stats st = { 0 };
	struct sigaction sa;
	uint64_t frames = 0;
	double start, seconds;
	char extra[64];
	int status = parse_args(argc, argv, &a), failed;

	if (status >= 0)
		return status;
	/* Ctrl-C ends the animation cleanly, with the summary line. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	shmframe_options_init(&opts);
	conn = sf__tool_connect(PROG, &a.tool, &opts);
	if (!conn)
		return 1;
	s = sf__tool_surface(PROG, &a.tool, conn, a.width, a.height);
	if (!s) {
		status = 1;
		goto disconnect;
	}
	shmframe_surface_set_listener(s, &listener, &st);

	start = sf__now();
	failed = run(&a, conn, s, start, &frames) < 0;
	if (!shmframe_conn_error(conn) && shmframe_roundtrip(conn)) {
		fprintf(stderr, PROG ": %s\n", shmframe_last_error(conn));
		failed = 1;
	}
	seconds = sf__now() - start;
	wait_presented(conn, &st, frames);
	if (a.tool.readback && !shmframe_conn_error(conn) &&
	    sf__tool_readback(PROG, &a.tool, conn, s, a.width, a.height))
		failed = 1;
	snprintf(extra, sizeof extra, "presented=%llu",
	         (unsigned long long)st.presented);
	sf__print_summary(conn, frames, a.width, a.height, seconds, extra);
	status = failed ? 1 : 0;

disconnect:
	shmframe_surface_destroy(s);
	shmframe_disconnect(conn);
	return status;
}
