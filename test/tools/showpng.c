/*
 * sf-showpng: shows one PNG on a surface and keeps it there until standard
 * input ends or the viewer closes the window, reporting what the server
 * said.  The viewer tests use it for what the real tools do not offer: an
 * XRGB8888 surface, and a client that waits for CLOSED without presenting.
 *
 *     sf-showpng --server ADDR --title T [--xrgb] IMAGE.png
 *
 * With --xrgb the fourth byte of every pixel is 0x5a (garbage: the format
 * says it is ignored), else the image's alpha.  Prints "shown" once the
 * frame's PRESENTED arrived, then at the end one line
 * "presented=N closed=0|1 discarded=N"; exit 0, 1 on a failure.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <shmframe.h>

#include "png-io.h"

#define PROG "sf-showpng"

struct state {
	unsigned presented, discarded;
	int closed;
};

static void on_presented(void *data, struct shmframe_surface *s,
                         uint32_t serial, uint64_t time_ns, int discarded)
{
	struct state *st = data;

	(void)s, (void)serial, (void)time_ns;
	if (discarded) {
		st->discarded++;
		return;
	}
	if (st->presented++ == 0) {
		printf("shown\n");
		fflush(stdout);
	}
}

static void on_closed(void *data, struct shmframe_surface *s)
{
	struct state *st = data;

	(void)s;
	st->closed = 1;
}

static const struct shmframe_surface_listener listener = {
	.presented = on_presented,
	.closed = on_closed,
};

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " --server ADDR --title T [--xrgb] "
	        "IMAGE.png\n");
	return 2;
}

/* Waits for stdin's end or CLOSED.  0, or -1 when the connection broke. */
static int hold(struct shmframe_conn *conn, struct shmframe_surface *s,
                struct state *st)
{
	int stdin_open = 1;

	while (stdin_open) {
		struct pollfd p[2] = {
			{ .fd = shmframe_get_fd(conn), .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		char buf[256];

		/* Events the library already read (while presenting) are
		 * handled first: poll() would not report them again. */
		if (shmframe_dispatch(conn) < 0)
			return -1;
		/* The library's flag, not only our callback: CLOSED may come
		 * before the listener was set (the window can be closed as soon
		 * as it exists). */
		if (shmframe_surface_closed(s)) {
			st->closed = 1;
			break;
		}
		if (shmframe_flush(conn) < 0 && shmframe_conn_error(conn))
			return -1;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents && read(STDIN_FILENO, buf, sizeof buf) <= 0)
			stdin_open = 0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *server = NULL, *title = NULL, *path = NULL;
	enum shmframe_format format = SHMFRAME_FORMAT_ARGB8888;
	struct shmframe_options opts;
	struct shmframe_conn *conn;
	struct shmframe_surface *s = NULL;
	struct shmframe_buffer *b;
	struct sf_png_image img;
	struct state st = { 0 };
	uint32_t stride;
	uint8_t *px;
	char err[512];
	int status = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
			server = argv[++i];
		else if (strcmp(argv[i], "--title") == 0 && i + 1 < argc)
			title = argv[++i];
		else if (strcmp(argv[i], "--xrgb") == 0)
			format = SHMFRAME_FORMAT_XRGB8888;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			return usage();
	}
	if (!server || !title || !path)
		return usage();
	if (sf__png_load(path, SF_PNG_RGBA, SF_PNG_MAX_SIDE,
	                 &img, err, sizeof err) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}

	shmframe_options_init(&opts);
	opts.name = PROG;
	conn = shmframe_connect(server, &opts);
	if (!conn || shmframe_conn_error(conn)) {
		fprintf(stderr, PROG ": cannot connect: %s\n",
		        conn ? shmframe_last_error(conn) : "out of memory");
		goto disconnect;
	}
	s = shmframe_surface_create(conn, img.width, img.height, format, title);
	if (!s) {
		fprintf(stderr, PROG ": no surface: %s\n", shmframe_last_error(conn));
		goto disconnect;
	}
	shmframe_surface_set_listener(s, &listener, &st);
	b = shmframe_acquire(s);
	if (!b) {
		fprintf(stderr, PROG ": no buffer: %s\n", shmframe_last_error(conn));
		goto disconnect;
	}
	px = shmframe_buffer_pixels(b, &stride);
	for (uint32_t y = 0; y < img.height; y++) {
		for (uint32_t x = 0; x < img.width; x++) {
			const uint8_t *p = img.pixels + ((size_t)y * img.width + x) * 4;
			uint8_t *q = px + (size_t)y * stride + (size_t)x * 4;

			q[0] = p[2];
			q[1] = p[1];
			q[2] = p[0];
			q[3] = format == SHMFRAME_FORMAT_XRGB8888 ? 0x5a : p[3];
		}
	}
	if (shmframe_present(s, b, NULL, 0, NULL) < 0 || hold(conn, s, &st) < 0) {
		fprintf(stderr, PROG ": %s\n", shmframe_last_error(conn));
		goto disconnect;
	}
	printf("presented=%u closed=%d discarded=%u\n", st.presented, st.closed,
	       st.discarded);
	status = 0;

disconnect:
	shmframe_surface_destroy(s);
	shmframe_disconnect(conn);
	sf__png_image_free(&img);
	return status;
}
