/*
 * shmframe-send: shows PNG images (or raw frames from standard input) on a
 * shmframe server, optionally reads the surface back into a PNG, and ends
 * with one key=value line saying what was sent and how.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool-common.h"

#define PROG "shmframe-send"

enum raw_format { RAW_BGRA, RAW_RGBA, RAW_RGB24 };

struct args {
	struct sf_tool_args tool;
	uint64_t repeat;
	bool present_set;
	enum shmframe_present_mode present;
	bool raw;
	uint32_t raw_w, raw_h;
	enum raw_format raw_format;
	char **files;
	int n_files;
};

static void usage(FILE *f)
{
	fprintf(f,
	"usage: " PROG " [OPTIONS] IMAGE.png...\n"
	"       " PROG " [OPTIONS] --raw WxH[:bgra|rgba|rgb24] -\n"
	"\n"
	"Shows images on a shmframe server: one surface the size of the first\n"
	"image, every image presented in turn.\n"
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
	"  --repeat N           send the list of images N times (default 1)\n"
	"  --fps N              frames per second, 0 = as fast as possible (default)\n"
	"  --present MODE       latch (default) or copy\n"
	"  --buffers N          buffers in the surface's pool, 1..16 (default 3)\n"
	"  --readback OUT.png   read the whole surface back at the end\n"
	"  --title T            the surface's title\n"
	"  --raw WxH[:FORMAT] - read raw frames from standard input until its end;\n"
	"                       FORMAT bgra (default), rgba or rgb24\n"
	"  --help, --version\n"
	"\n"
	"Ends with a line: frames=N transport=shm shm=KIND signal=ring|socket compress=none|lz4|zstd\n"
	"width=W height=H seconds=S fps=F signal_reason=\"...\" reason=\"...\"\n"
	"(transport=socket without shm=).\n");
}

#define usage_error(...) sf__usage_error(PROG, __VA_ARGS__)

static int parse_raw(const char *text, struct args *a)
{
	const char *rest;

	if (sf__parse_size(text, &a->raw_w, &a->raw_h, &rest))
		return -1;
	if (!*rest || strcmp(rest, ":bgra") == 0)
		a->raw_format = RAW_BGRA;
	else if (strcmp(rest, ":rgba") == 0)
		a->raw_format = RAW_RGBA;
	else if (strcmp(rest, ":rgb24") == 0)
		a->raw_format = RAW_RGB24;
	else
		return -1;
	a->raw = true;
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		SF_TOOL_LONGOPTS,
		{ "repeat", required_argument, NULL, 'r' },
		{ "present", required_argument, NULL, 'p' },
		{ "raw", required_argument, NULL, 'R' },
		{ 0 }
	};
	uint64_t v;
	int opt, status;

	a->repeat = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (sf__parse_uint(optarg, UINT32_MAX, &v) || v == 0)
				return usage_error("--repeat needs a count >= 1, not '%s'",
				                   optarg);
			a->repeat = v;
			break;
		case 'p':
			if (strcmp(optarg, "latch") == 0)
				a->present = SHMFRAME_PRESENT_LATCH;
			else if (strcmp(optarg, "copy") == 0)
				a->present = SHMFRAME_PRESENT_COPY;
			else
				return usage_error("unknown present mode '%s' (copy or "
				                   "latch)", optarg);
			a->present_set = true;
			break;
		case 'R':
			if (parse_raw(optarg, a))
				return usage_error("--raw needs WxH[:bgra|rgba|rgb24], not "
				                   "'%s'", optarg);
			break;
		default:
			status = sf__tool_option(PROG, &a->tool, opt, optarg, argv,
			                         usage);
			if (status >= 0)
				return status;
		}
	}
	a->files = argv + optind;
	a->n_files = argc - optind;
	if (a->raw) {
		if (a->n_files != 1 || strcmp(a->files[0], "-") != 0)
			return usage_error("%s", "--raw reads standard input: give '-' "
			                   "and no image");
		if (a->repeat != 1)
			return usage_error("%s", "--repeat does not apply to --raw");
	} else if (a->n_files == 0) {
		return usage_error("%s", "no image given");
	}
	return -1;
}

static int load_images(const struct args *a, struct sf_png_image *imgs)
{
	char err[1024];

	for (int i = 0; i < a->n_files; i++) {
		if (sf__png_load(a->files[i], SF_PNG_BGRA, SF_TOOL_PNG_MAX_SIDE,
		                 &imgs[i], err, sizeof err)) {
			fprintf(stderr, PROG ": %s\n", err);
			return -1;
		}
		if (imgs[i].width != imgs[0].width || imgs[i].height != imgs[0].height) {
			fprintf(stderr, PROG ": %s is %ux%u but %s is %ux%u: every image "
			        "must have the first one's size\n", a->files[i],
			        imgs[i].width, imgs[i].height, a->files[0], imgs[0].width,
			        imgs[0].height);
			return -1;
		}
	}
	return 0;
}

/* Reads up to n bytes; returns what it got (short only at end of input),
 * or -1 on a read error. */
static ssize_t read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/*
 * Reads one raw frame from standard input into the buffer's rows,
 * converting to BGRA on the way.  Returns 1 for a frame, 0 at the end of
 * input, -1 for a truncated frame or a read error (after a message).
 */
static int read_raw_frame(const struct args *a, uint8_t *px, uint32_t stride,
                          uint8_t *tmp, uint64_t frame)
{
	uint32_t bpp = a->raw_format == RAW_RGB24 ? 3 : 4;
	size_t in_row = (size_t)a->raw_w * bpp;
	uint64_t total = 0, want = (uint64_t)in_row * a->raw_h;

	for (uint32_t y = 0; y < a->raw_h; y++) {
		uint8_t *row = px + (size_t)y * stride;
		uint8_t *src = a->raw_format == RAW_BGRA ? row : tmp;
		ssize_t n = read_full(STDIN_FILENO, src, in_row);

		if (n < 0) {
			fprintf(stderr, PROG ": standard input: %s\n", strerror(errno));
			return -1;
		}
		total += (uint64_t)n;
		if ((size_t)n < in_row) {
			if (total == 0)
				return 0;
			fprintf(stderr, PROG ": standard input: frame %llu is truncated "
			        "(%llu of %llu bytes)\n", (unsigned long long)frame,
			        (unsigned long long)total, (unsigned long long)want);
			return -1;
		}
		if (a->raw_format == RAW_RGBA) {
			for (uint32_t x = 0; x < a->raw_w; x++) {
				row[4 * x + 0] = src[4 * x + 2];
				row[4 * x + 1] = src[4 * x + 1];
				row[4 * x + 2] = src[4 * x + 0];
				row[4 * x + 3] = src[4 * x + 3];
			}
		} else if (a->raw_format == RAW_RGB24) {
			for (uint32_t x = 0; x < a->raw_w; x++) {
				row[4 * x + 0] = src[3 * x + 2];
				row[4 * x + 1] = src[3 * x + 1];
				row[4 * x + 2] = src[3 * x + 0];
				row[4 * x + 3] = 0xff;
			}
		}
	}
	return 1;
}

static int present_failed(struct shmframe_conn *conn, int err)
{
	fprintf(stderr, PROG ": present failed: %s\n", sf__tool_why(conn, err));
	return -1;
}

static struct shmframe_buffer *acquire_or_say(struct shmframe_surface *s,
                                              struct shmframe_conn *conn)
{
	struct shmframe_buffer *b = shmframe_acquire(s);

	if (!b)
		fprintf(stderr, PROG ": no buffer: %s\n", sf__tool_why(conn, -errno));
	return b;
}

/* Sends every image, a->repeat times.  Returns 0 or -1 (after a message);
 * *frames counts what was presented. */
static int send_images(const struct args *a, const struct sf_png_image *imgs,
                       struct shmframe_conn *conn, struct shmframe_surface *s,
                       double start, uint64_t *frames)
{
	for (uint64_t r = 0; r < a->repeat; r++) {
		for (int i = 0; i < a->n_files; i++) {
			struct shmframe_buffer *b;
			uint32_t stride;
			uint8_t *px;
			int err;

			sf__pace(start, *frames, a->tool.fps);
			b = acquire_or_say(s, conn);
			if (!b)
				return -1;
			px = shmframe_buffer_pixels(b, &stride);
			for (uint32_t y = 0; y < imgs[i].height; y++)
				memcpy(px + (size_t)y * stride,
				       imgs[i].pixels + (size_t)y * imgs[i].stride,
				       (size_t)imgs[i].width * 4);
			err = shmframe_present(s, b, NULL, 0, NULL);
			if (err)
				return present_failed(conn, err);
			++*frames;
		}
	}
	return 0;
}

static int send_raw(const struct args *a, struct shmframe_conn *conn,
                    struct shmframe_surface *s, double start, uint64_t *frames)
{
	uint8_t *tmp = malloc((size_t)a->raw_w * 4);
	int status = 0;

	if (!tmp) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	for (;;) {
		struct shmframe_buffer *b;
		uint32_t stride;
		uint8_t *px;
		int r, err;

		sf__pace(start, *frames, a->tool.fps);
		b = acquire_or_say(s, conn);
		if (!b) {
			status = -1;
			break;
		}
		px = shmframe_buffer_pixels(b, &stride);
		r = read_raw_frame(a, px, stride, tmp, *frames);
		if (r <= 0) {
			shmframe_buffer_discard(s, b);
			status = r;
			break;
		}
		err = shmframe_present(s, b, NULL, 0, NULL);
		if (err) {
			status = present_failed(conn, err);
			break;
		}
		++*frames;
	}
	free(tmp);
	return status;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct sf_png_image *imgs = NULL;
	struct shmframe_options opts;
	struct shmframe_conn *conn = NULL;
	struct shmframe_surface *s = NULL;
	uint64_t frames = 0;
	uint32_t w, h;
	double start, seconds;
	int status = parse_args(argc, argv, &a), failed = 0;

	if (status >= 0)
		return status;
	/* A closed stdout must not kill us before we clean up. */
	signal(SIGPIPE, SIG_IGN);
	if (a.raw) {
		w = a.raw_w;
		h = a.raw_h;
	} else {
		imgs = calloc((size_t)a.n_files, sizeof *imgs);
		if (!imgs || load_images(&a, imgs)) {
			if (!imgs)
				fprintf(stderr, PROG ": out of memory\n");
			status = 1;
			goto free_images;
		}
		w = imgs[0].width;
		h = imgs[0].height;
	}

	shmframe_options_init(&opts);
	conn = sf__tool_connect(PROG, &a.tool, &opts);
	if (!conn) {
		status = 1;
		goto free_images;
	}
	s = sf__tool_surface(PROG, &a.tool, conn, w, h);
	if (!s) {
		status = 1;
		goto disconnect;
	}
	if (a.present_set) {
		int err = shmframe_surface_set_present_mode(s, a.present);

		if (err) {
			fprintf(stderr, PROG ": cannot set the present mode: %s\n",
			        sf__tool_why(conn, err));
			status = 1;
			goto disconnect;
		}
	}

	start = sf__now();
	if (a.raw)
		failed = send_raw(&a, conn, s, start, &frames) < 0;
	else
		failed = send_images(&a, imgs, conn, s, start, &frames) < 0;
	/* Done when the server has handled every frame. */
	if (!shmframe_conn_error(conn) && shmframe_roundtrip(conn)) {
		fprintf(stderr, PROG ": %s\n", shmframe_last_error(conn));
		failed = 1;
	}
	seconds = sf__now() - start;
	if (a.tool.readback && !shmframe_conn_error(conn) &&
	    sf__tool_readback(PROG, &a.tool, conn, s, w, h))
		failed = 1;
	sf__print_summary(conn, frames, w, h, seconds, NULL);
	status = failed ? 1 : 0;

disconnect:
	shmframe_surface_destroy(s);
	shmframe_disconnect(conn);
free_images:
	if (imgs)
		for (int i = 0; i < a.n_files; i++)
			sf__png_image_free(&imgs[i]);
	free(imgs);
	return status;
}
