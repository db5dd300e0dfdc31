/*
 * gl-renderer: an offscreen OpenGL renderer streaming into shmframe.  EGL
 * with no window (Mesa's llvmpipe does on any machine) draws a lit,
 * turning torus into a framebuffer object, and each frame is read with
 * glReadPixels, as BGRA, straight into the buffer acquired from the
 * surface: the only copy is the one OpenGL makes anyway to hand pixels to
 * the CPU.  Only what differs from the frame the buffer held before is
 * read (where the object is and where it was then: the background never
 * changes), and the frame is presented with the damage the renderer
 * knows: where the object is now and where it was in the last frame.
 *
 *   gl-renderer [--server ADDR] [--size WxH] [--frames N] [--start K] [--fps N]
 *               [--transport auto|shm|socket] [--shm any|memfd|posix|sysv]
 *               [--api auto|gl|gles] [--check] [--no-present] [--full-read]
 *
 * --start K begins with frame K (frame K is the same picture however it
 * is reached); --fps 0 draws as fast as it can; --no-present draws and reads each frame
 * into the buffer but puts it back unpresented (the cost of the rendering
 * alone); --full-read reads every frame whole into its buffer; --check
 * reads every frame back from the server and compares it with OpenGL's
 * (gl-check.h).  Ends with a line like
 *   frames=200 fps=61.2 cpu_ms=25.10 transport=shm/memfd present=yes
 *   read=stale gl=desktop reason=...
 * (cpu_ms: the process's CPU time per frame, OpenGL's threads included).
 * Exits 77 when no OpenGL context can be made, 1 on other failures.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <shmframe.h>

#include "gl-check.h"
#include "gl-egl.h"
#include "gl-scene.h"
#include "tool-common.h"   /* sf__parse_size, sf__parse_uint, sf__now, sf__pace */

#define EXIT_SKIP 77

struct args {
	const char *server;
	uint32_t width, height;
	unsigned long frames;
	unsigned long start;  /* the number of the first frame */
	unsigned fps;
	enum shmframe_transport transport;
	enum shmframe_shm_kind shm;
	enum gl_egl_api api;
	bool check, present;
	bool full_read;      /* every frame read whole into its buffer */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: gl-renderer [--server ADDR] [--size WxH] [--frames N] "
	        "[--start K] [--fps N]\n"
	        "                   [--transport auto|shm|socket] "
	        "[--shm any|memfd|posix|sysv]\n"
	        "                   [--api auto|gl|gles] [--check] [--no-present] "
	        "[--full-read]\n");
}

/* The index of s in names (NULL-terminated), or -1. */
static int pick(const char *s, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* Returns 0, or the exit status (2 for a usage error, 0 after --help). */
static int parse_args(struct args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'z' },
		{ "frames", required_argument, NULL, 'n' },
		{ "start", required_argument, NULL, 'S' },
		{ "fps", required_argument, NULL, 'f' },
		{ "transport", required_argument, NULL, 't' },
		{ "shm", required_argument, NULL, 'm' },
		{ "api", required_argument, NULL, 'a' },
		{ "check", no_argument, NULL, 'c' },
		{ "no-present", no_argument, NULL, 'P' },
		{ "full-read", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static const char *const transports[] = { "auto", "shm", "socket", NULL };
	static const char *const kinds[] = { "any", "memfd", "posix", "sysv", NULL };
	static const char *const apis[] = { "auto", "gl", "gles", NULL };
	uint64_t v;
	int opt, i;

	*a = (struct args){ .width = 1920, .height = 1080, .frames = 200,
	                    .present = true };
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': a->server = optarg; break;
		case 'z':
			if (sf__parse_size(optarg, &a->width, &a->height, NULL) < 0)
				goto bad;
			break;
		case 'n':
			if (sf__parse_uint(optarg, ULONG_MAX, &v) < 0 || v == 0)
				goto bad;
			a->frames = (unsigned long)v;
			break;
		case 'S':
			if (sf__parse_uint(optarg, ULONG_MAX, &v) < 0)
				goto bad;
			a->start = (unsigned long)v;
			break;
		case 'f':
			if (sf__parse_uint(optarg, 10000, &v) < 0)
				goto bad;
			a->fps = (unsigned)v;
			break;
		case 't':
			if ((i = pick(optarg, transports)) < 0)
				goto bad;
			a->transport = (enum shmframe_transport)i;
			break;
		case 'm':
			if ((i = pick(optarg, kinds)) < 0)
				goto bad;
			a->shm = (enum shmframe_shm_kind)i;
			break;
		case 'a':
			if ((i = pick(optarg, apis)) < 0)
				goto bad;
			a->api = (enum gl_egl_api)i;
			break;
		case 'c': a->check = true; break;
		case 'P': a->present = false; break;
		case 'F': a->full_read = true; break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (a->check && !a->present) {
		fprintf(stderr, "gl-renderer: --check needs the frames presented\n");
		return 2;
	}
	return 0;

bad:
	fprintf(stderr, "gl-renderer: bad value '%s'\n", optarg);
	usage(stderr);
	return 2;
}

/* CPU seconds of the process so far, llvmpipe's threads included. */
static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The box that bounds both. */
static struct gl_box box_union(struct gl_box a, struct gl_box b)
{
	return (struct gl_box){ a.x0 < b.x0 ? a.x0 : b.x0, a.y0 < b.y0 ? a.y0 : b.y0,
	                        a.x1 > b.x1 ? a.x1 : b.x1, a.y1 > b.y1 ? a.y1 : b.y1 };
}

static struct shmframe_rect rect_of(struct gl_box b)
{
	return (struct shmframe_rect){ (uint32_t)b.x0, (uint32_t)b.y0,
	                               (uint32_t)(b.x1 - b.x0), (uint32_t)(b.y1 - b.y0) };
}

/*
 * What each buffer of the surface holds: a buffer comes back with the
 * frame last read into it, and the background never changes, so it
 * differs from the new frame only where the object is now or was then.
 * Only that box is read into it (the whole frame the first time).
 */
#define MAX_BUFFERS 16

struct buffer_age {
	struct shmframe_buffer *buffer; /* NULL: a slot not used yet */
	struct gl_box box;              /* the object in the frame it holds */
};

/* The box of buffer that must be read for the frame whose object is in
 * box, and remembers that the buffer will hold that frame. */
static struct gl_box stale_box(struct buffer_age *ages, struct shmframe_buffer *buffer,
                               struct gl_box box, int width, int height)
{
	for (int i = 0; i < MAX_BUFFERS; i++) {
		struct gl_box then = ages[i].box;

		if (ages[i].buffer == buffer) {
			ages[i].box = box;
			return box_union(then, box);
		}
		if (!ages[i].buffer) {
			ages[i].buffer = buffer;
			ages[i].box = box;
			break;
		}
	}
	return (struct gl_box){ 0, 0, width, height };
}

struct renderer {
	struct args args;
	struct shmframe_conn *conn;
	struct shmframe_surface *surface;
	struct gl_egl gl;
	struct gl_scene scene;
	struct gl_check check;
	struct buffer_age ages[MAX_BUFFERS];
	double fps;          /* frames per second of the whole run */
	double cpu_ms;       /* CPU time per frame */
	char err[512];
};

/* Renders, reads and presents (or discards) every frame. */
static int run(struct renderer *r)
{
	const struct args *a = &r->args;
	struct gl_box before = { 0, 0, 0, 0 };
	const int w = (int)a->width, h = (int)a->height;
	double start = sf__now(), cpu = cpu_seconds();

	for (unsigned long k = 0; k < a->frames; k++) {
		struct shmframe_buffer *buf;
		struct shmframe_rect damage;
		struct gl_box box, read;
		uint32_t stride;
		uint8_t *px;

		sf__pace(start, k, a->fps);
		buf = shmframe_acquire(r->surface);
		if (!buf) {
			snprintf(r->err, sizeof r->err, "acquire: %s",
			         shmframe_last_error(r->conn)[0] ? shmframe_last_error(r->conn)
			                                         : strerror(errno));
			return -1;
		}
		px = shmframe_buffer_pixels(buf, &stride);
		if (stride % 4) {
			/* GL_PACK_ROW_LENGTH counts whole pixels. */
			shmframe_buffer_discard(r->surface, buf);
			snprintf(r->err, sizeof r->err, "a stride of %u bytes is not whole "
			         "pixels", stride);
			return -1;
		}
		gl_scene_draw(&r->scene, a->start + k, &box);
		read = a->full_read ? (struct gl_box){ 0, 0, w, h }
		                    : stale_box(r->ages, buf, box, w, h);
		/* Rows of stride bytes, top-down as they come (gl-scene.h): the
		 * framebuffer's (x, y) is the buffer's. */
		glPixelStorei(GL_PACK_ALIGNMENT, 4);
		glPixelStorei(GL_PACK_ROW_LENGTH, (GLint)(stride / 4));
		if (read.x1 > read.x0 && read.y1 > read.y0)
			glReadPixels(read.x0, read.y0, read.x1 - read.x0, read.y1 - read.y0,
			             GL_BGRA, GL_UNSIGNED_BYTE,
			             px + (size_t)read.y0 * stride + (size_t)read.x0 * 4);
		if (glGetError() != GL_NO_ERROR) {
			shmframe_buffer_discard(r->surface, buf);
			snprintf(r->err, sizeof r->err, "frame %lu: glReadPixels failed", k);
			return -1;
		}
		if (!a->present) {
			shmframe_buffer_discard(r->surface, buf);
			continue;
		}
		/* The first frame is all new. */
		damage = rect_of(box_union(box, k ? before : box));
		before = box;
		if (shmframe_present(r->surface, buf, &damage, k ? 1 : 0, NULL) < 0) {
			snprintf(r->err, sizeof r->err, "present: %s",
			         shmframe_last_error(r->conn));
			return -1;
		}
		if (a->check && gl_check_frame(&r->check, r->conn, r->surface, &damage,
		                               k ? 1 : 0, r->err, sizeof r->err) < 0)
			return -1;
	}
	/* Everything presented is handled before the clock stops. */
	if (shmframe_roundtrip(r->conn) < 0) {
		snprintf(r->err, sizeof r->err, "roundtrip: %s",
		         shmframe_last_error(r->conn));
		return -1;
	}
	r->fps = (double)a->frames / (sf__now() - start);
	r->cpu_ms = (cpu_seconds() - cpu) * 1000 / (double)a->frames;
	return 0;
}

static int connect_server(struct renderer *r)
{
	struct shmframe_options opts;

	shmframe_options_init(&opts);
	opts.name = "gl-renderer";
	opts.transport = r->args.transport;
	opts.shm = r->args.shm;
	r->conn = shmframe_connect(r->args.server, &opts);
	if (!r->conn) {
		snprintf(r->err, sizeof r->err, "connect: out of memory");
		return -1;
	}
	if (shmframe_conn_error(r->conn)) {
		snprintf(r->err, sizeof r->err, "connect: %s", shmframe_last_error(r->conn));
		return -1;
	}
	r->surface = shmframe_surface_create(r->conn, r->args.width, r->args.height,
	                                     SHMFRAME_FORMAT_ARGB8888, "gl-renderer");
	if (!r->surface) {
		snprintf(r->err, sizeof r->err, "surface: %s",
		         shmframe_last_error(r->conn)[0] ? shmframe_last_error(r->conn)
		                                         : strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct renderer r;
	enum gl_egl_status st;
	int status = 1;

	memset(&r, 0, sizeof r);
	status = parse_args(&r.args, argc, argv);
	if (status)
		return status < 0 ? 0 : status;
	status = 1;
	st = gl_egl_open(&r.gl, r.args.api, (int)r.args.width, (int)r.args.height,
	                 r.err, sizeof r.err);
	if (st != GL_EGL_OK) {
		fprintf(stderr, "gl-renderer: %s\n", r.err);
		gl_egl_close(&r.gl);
		return st == GL_EGL_NO_CONTEXT ? EXIT_SKIP : 1;
	}
	printf("# %s\n", r.gl.what);
	if (gl_scene_init(&r.scene, r.gl.gles, (int)r.args.width, (int)r.args.height,
	                  r.err, sizeof r.err) < 0)
		goto out;
	if (r.args.check && gl_check_init(&r.check, r.args.width, r.args.height) < 0) {
		snprintf(r.err, sizeof r.err, "out of memory for --check");
		goto out;
	}
	if (connect_server(&r) < 0 || run(&r) < 0)
		goto out;
	if (r.args.check)
		printf("check=ok frames=%lu changed=%lu\n", r.check.frames,
		       r.check.changed);
	/* The reason has spaces: last. */
	printf("frames=%lu fps=%.1f cpu_ms=%.2f transport=%s present=%s read=%s "
	       "gl=%s reason=%s\n", r.args.frames, r.fps, r.cpu_ms,
	       shmframe_transport_name(r.conn),
	       r.args.present ? "yes" : "no", r.args.full_read ? "full" : "stale",
	       r.gl.gles ? "gles" : "desktop",
	       shmframe_transport_reason(r.conn));
	status = 0;
out:
	if (status)
		fprintf(stderr, "gl-renderer: %s\n", r.err);
	fflush(stdout);
	shmframe_surface_destroy(r.surface);
	shmframe_disconnect(r.conn);
	gl_check_fini(&r.check);
	gl_scene_fini(&r.scene);
	gl_egl_close(&r.gl);
	return status;
}
