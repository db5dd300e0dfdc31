/*
 * shmframe-bench-link: one client streaming one surface for a while, as a
 * client on the far side of a link does, and one key=value line of what
 * it cost: frames shown and discarded, bytes per frame on the wire and the
 * compression ratio (the library's shmframe_get_stats), present-to-
 * presented latency and the client's CPU per frame.  bench-link.sh runs
 * it across rate-limited links; the tests run it on slow ones.
 *
 * The content is the demo's animation, full-frame noise (new random bytes
 * every frame, the incompressible worst case) or raw BGRA frames from a
 * file, cycled.  With --damage WxH only a box of that size changes, moving
 * over a frame that stays as it was, and only the box is presented as
 * damage: the bytes sent then follow the damage, not the surface.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench-private.h"
#include "demo-render.h"
#include "tool-common.h"

#define PROG "shmframe-bench-link"

enum content { CONTENT_DEMO, CONTENT_NOISE, CONTENT_FILE };

struct args {
	struct sf_tool_args tool;
	uint32_t w, h;
	double seconds;
	enum content content;
	const char *file;
	int damage;
	uint32_t bw, bh;
};

/* One present: its serial and when it was made. */
struct sent {
	uint32_t serial;
	uint64_t t_ns;
};

/* A buffer of the surface and the frame last drawn into it (-1: none;
 * its memory is then unknown). */
struct slot {
	struct shmframe_buffer *b;
	int64_t frame;
};

struct link_bench {
	const struct args *a;
	uint8_t *file;             /* the mapped frames (CONTENT_FILE) */
	size_t file_len, file_frames;
	uint8_t *bg;               /* the frame under the box (--damage) */
	uint64_t rng;              /* xorshift64 state */
	struct sent *sent;
	size_t n_sent, cap_sent;
	struct bench_samples latency_us; /* shown frames only */
	uint64_t shown, discarded, unknown;
	struct slot slots[16];
};

static void usage(FILE *f)
{
	fprintf(f,
	"usage: " PROG " [OPTIONS]\n"
	"\n"
	"Presents frames on one surface as fast as the library lets it (or at\n"
	"--fps) for --seconds, then prints one line of what they cost.\n"
	"\n"
	"  --server ADDR        unix:PATH, tcp:HOST:PORT or :N (default\n"
	"                       $SHMFRAME_SERVER, else :0)\n"
	"  --transport MODE     auto, shm or socket\n"
	"  --shm KIND           memfd, posix or sysv\n"
	"  --signal MODE        auto, ring or socket\n"
	"  --compress MODE      auto, none, lz4 or zstd (socket pixels)\n"
	"  --size WxH           the surface (default 1920x1080)\n"
	"  --seconds S          how long to present (default 5)\n"
	"  --fps N              frames per second, 0 = as fast as possible (default)\n"
	"  --content C          demo (default), noise, or FILE.bgra: raw B,G,R,A\n"
	"                       frames of W*H*4 bytes each, cycled\n"
	"  --damage WxH         only a box of WxH changes, moving; only it is\n"
	"                       presented as damage (default: the whole frame)\n"
	"  --buffers N          buffers of the surface, 1..16 (default 3)\n"
	"  --readback OUT.png   read the surface back at the end\n"
	"  --title T            the surface's title\n"
	"  --help, --version\n"
	"\n"
	"Ends with: content=C size=WxH compress=none|lz4|zstd transport=T\n"
	"frames=N shown=N discarded=N seconds=S fps=F bytes_per_frame=B ratio=R\n"
	"latency_p50_ms=L latency_p99_ms=L client_cpu_ms_per_frame=C\n"
	"compress_reason=\"...\"\n");
}

#define usage_error(...) sf__usage_error(PROG, __VA_ARGS__)

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		SF_TOOL_LONGOPTS,
		{ "size", required_argument, NULL, 'S' },
		{ "seconds", required_argument, NULL, 'D' },
		{ "content", required_argument, NULL, 'C' },
		{ "damage", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int opt, r;

	a->w = 1920;
	a->h = 1080;
	a->seconds = 5;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			if (sf__parse_size(optarg, &a->w, &a->h, NULL))
				return usage_error("--size needs WxH, not '%s'", optarg);
			break;
		case 'D':
			errno = 0;
			a->seconds = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(a->seconds > 0) ||
			    a->seconds > 3600)
				return usage_error("--seconds needs a number of "
				                   "seconds up to 3600, not '%s'", optarg);
			break;
		case 'C':
			if (strcmp(optarg, "demo") == 0) {
				a->content = CONTENT_DEMO;
			} else if (strcmp(optarg, "noise") == 0) {
				a->content = CONTENT_NOISE;
			} else {
				a->content = CONTENT_FILE;
				a->file = optarg;
			}
			break;
		case 'd':
			if (sf__parse_size(optarg, &a->bw, &a->bh, NULL))
				return usage_error("--damage needs WxH, not '%s'", optarg);
			a->damage = 1;
			break;
		default:
			r = sf__tool_option(PROG, &a->tool, opt, optarg, argv, usage);
			if (r >= 0)
				return r;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (a->damage && (a->bw > a->w || a->bh > a->h))
		return usage_error("--damage %ux%u is larger than the surface "
		                   "%ux%u", a->bw, a->bh, a->w, a->h);
	return -1;
}

/* ---- content -------------------------------------------------------- */

static size_t frame_bytes(const struct args *a)
{
	return (size_t)a->w * a->h * 4;
}

static int map_file(struct link_bench *lb)
{
	const struct args *a = lb->a;
	struct stat st;
	int fd = open(a->file, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, PROG ": cannot open %s: %s\n", a->file,
		        strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    (uint64_t)st.st_size % frame_bytes(a) != 0) {
		fprintf(stderr, PROG ": %s does not hold whole %ux%u BGRA frames "
		        "(%zu bytes each)\n", a->file, a->w, a->h, frame_bytes(a));
		close(fd);
		return -1;
	}
	lb->file_len = (size_t)st.st_size;
	lb->file_frames = lb->file_len / frame_bytes(a);
	lb->file = mmap(NULL, lb->file_len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (lb->file == MAP_FAILED) {
		lb->file = NULL;
		fprintf(stderr, PROG ": cannot map %s: %s\n", a->file,
		        strerror(errno));
		return -1;
	}
	/* Read it all now: page faults must not be timed as frames. */
	madvise(lb->file, lb->file_len, MADV_WILLNEED);
	for (size_t i = 0; i < lb->file_len; i += 4096)
		lb->rng += lb->file[i];
	return 0;
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Draws frame k of the content into the rectangle r of the surface, at
 * origin (r's first pixel), rows stride bytes apart. */
static void draw(struct link_bench *lb, uint8_t *origin, size_t stride,
                 const struct shmframe_rect *r, uint64_t k)
{
	const struct args *a = lb->a;

	switch (a->content) {
	case CONTENT_DEMO:
		sf__demo_render(origin, (uint32_t)stride, r->width, r->height, k);
		break;
	case CONTENT_NOISE:
		for (uint32_t y = 0; y < r->height; y++) {
			uint8_t *row = origin + y * stride;
			size_t n = (size_t)r->width * 4, i = 0;

			for (; i + 8 <= n; i += 8) {
				uint64_t v = xorshift64(&lb->rng);
				memcpy(row + i, &v, 8);
			}
			for (; i < n; i += 4) {
				uint32_t v = (uint32_t)xorshift64(&lb->rng);
				memcpy(row + i, &v, 4);
			}
		}
		break;
	case CONTENT_FILE: {
		const uint8_t *f = lb->file + (k % lb->file_frames) * frame_bytes(a);

		for (uint32_t y = 0; y < r->height; y++)
			memcpy(origin + y * stride,
			       f + ((size_t)(r->y + y) * a->w + r->x) * 4,
			       (size_t)r->width * 4);
		break;
	}
	}
}

/* Copies r of the unchanging frame (--damage) into the buffer. */
static void draw_background(struct link_bench *lb, uint8_t *px, size_t stride,
                            const struct shmframe_rect *r)
{
	for (uint32_t y = 0; y < r->height; y++)
		memcpy(px + (r->y + y) * stride + (size_t)r->x * 4,
		       lb->bg + ((size_t)(r->y + y) * lb->a->w + r->x) * 4,
		       (size_t)r->width * 4);
}

/* 0, 1, ..., span, span - 1, ..., 0, 1, ...: t steps along a bounce. */
static uint32_t bounce(uint64_t t, uint32_t span)
{
	uint64_t p;

	if (span == 0)
		return 0;
	p = t % (2 * (uint64_t)span);
	return (uint32_t)(p <= span ? p : 2 * (uint64_t)span - p);
}

/* Where the box of frame k is. */
static struct shmframe_rect box_of(const struct args *a, uint64_t k)
{
	return (struct shmframe_rect){ bounce(k * 16, a->w - a->bw),
	                               bounce(k * 9, a->h - a->bh), a->bw,
	                               a->bh };
}

static struct slot *slot_of(struct link_bench *lb, struct shmframe_buffer *b)
{
	struct slot *free_slot = NULL;

	for (size_t i = 0; i < 16; i++) {
		if (lb->slots[i].b == b)
			return &lb->slots[i];
		if (!lb->slots[i].b && !free_slot)
			free_slot = &lb->slots[i];
	}
	if (free_slot) {
		free_slot->b = b;
		free_slot->frame = -1;
	}
	return free_slot;
}

/* Draws frame k into b; fills damage and returns how many rectangles it
 * holds (0: the whole surface). */
static unsigned draw_frame(struct link_bench *lb, struct shmframe_buffer *b,
                           uint64_t k, struct shmframe_rect damage[2])
{
	const struct args *a = lb->a;
	struct shmframe_rect all = { 0, 0, a->w, a->h }, box;
	struct slot *slot = slot_of(lb, b);
	uint32_t stride;
	uint8_t *px = shmframe_buffer_pixels(b, &stride);

	if (!a->damage) {
		draw(lb, px, stride, &all, k);
		return 0;
	}
	/* The buffer holds the frame last drawn into it: the box of that
	 * frame goes back to the background, and this frame's box is drawn.
	 * The server holds frame k - 1, so the damage is both boxes. */
	if (!slot || slot->frame < 0)
		draw_background(lb, px, stride, &all);
	else {
		box = box_of(a, (uint64_t)slot->frame);
		draw_background(lb, px, stride, &box);
	}
	box = box_of(a, k);
	draw(lb, px + (size_t)box.y * stride + (size_t)box.x * 4, stride, &box, k);
	if (slot)
		slot->frame = (int64_t)k;
	if (k == 0)
		return 0;
	damage[0] = box_of(a, k - 1);
	damage[1] = box;
	return 2;
}

/* ---- presented ------------------------------------------------------ */

static int remember(struct link_bench *lb, uint32_t serial, uint64_t t_ns)
{
	if (lb->n_sent == lb->cap_sent) {
		size_t cap = lb->cap_sent ? lb->cap_sent * 2 : 1024;
		struct sent *v = realloc(lb->sent, cap * sizeof *v);

		if (!v)
			return -1;
		lb->sent = v;
		lb->cap_sent = cap;
	}
	lb->sent[lb->n_sent++] = (struct sent){ serial, t_ns };
	return 0;
}

/* The present of serial (serials grow with every present), or NULL. */
static const struct sent *find_sent(const struct link_bench *lb,
                                    uint32_t serial)
{
	size_t lo = 0, hi = lb->n_sent;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lb->sent[mid].serial == serial)
			return &lb->sent[mid];
		if (lb->sent[mid].serial < serial)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void on_presented(void *data, struct shmframe_surface *s,
                         uint32_t serial, uint64_t time_ns, int discarded)
{
	struct link_bench *lb = data;
	const struct sent *p = find_sent(lb, serial);

	(void)s;
	if (!p) {
		lb->unknown++;
		return;
	}
	if (discarded) {
		lb->discarded++;
		return;
	}
	lb->shown++;
	bench_samples_add(&lb->latency_us,
	                  time_ns > p->t_ns ? (double)(time_ns - p->t_ns) / 1e3
	                                    : 0.0);
}

static const struct shmframe_surface_listener listener = {
	.presented = on_presented,
};

/* Dispatches until every present has its PRESENTED, for 3 s at most. */
static void wait_presented(struct link_bench *lb, struct shmframe_conn *conn)
{
	uint64_t end = bench_now_ns() + 3000000000u;

	while (lb->shown + lb->discarded < lb->n_sent &&
	       !shmframe_conn_error(conn)) {
		struct pollfd p = { .fd = shmframe_get_fd(conn), .events = POLLIN };
		uint64_t now = bench_now_ns();

		if (now >= end || shmframe_dispatch(conn) < 0)
			break;
		if (lb->shown + lb->discarded >= lb->n_sent)
			break;
		if (shmframe_flush(conn) == -EAGAIN)
			p.events |= POLLOUT;
		if (poll(&p, 1, (int)((end - now) / 1000000) + 1) < 0 &&
		    errno != EINTR)
			break;
	}
}

/* ---- the run -------------------------------------------------------- */

static int run(struct link_bench *lb, struct shmframe_conn *conn,
               struct shmframe_surface *s, double *seconds)
{
	const struct args *a = lb->a;
	double start = sf__now();
	uint64_t k;
	int err;

	for (k = 0; sf__now() - start < a->seconds; k++) {
		struct shmframe_rect damage[2];
		struct shmframe_buffer *b;
		uint32_t serial = 0;
		unsigned n;
		uint64_t t;

		sf__pace(start, k, a->tool.fps);
		/* PRESENTED as it comes, and any held frame on its way. */
		err = shmframe_dispatch(conn);
		if (err < 0)
			goto failed;
		b = shmframe_acquire(s);
		if (!b) {
			err = -errno;
			goto failed;
		}
		n = draw_frame(lb, b, k, damage);
		t = bench_now_ns();
		err = shmframe_present(s, b, n ? damage : NULL, n, &serial);
		if (err)
			goto failed;
		if (remember(lb, serial, t)) {
			fprintf(stderr, PROG ": out of memory\n");
			return -1;
		}
	}
	err = shmframe_roundtrip(conn);
	if (err)
		goto failed;
	*seconds = sf__now() - start;
	wait_presented(lb, conn);
	return 0;

failed:
	fprintf(stderr, PROG ": frame %llu: %s\n", (unsigned long long)k,
	        sf__tool_why(conn, err));
	return -1;
}

static const char *content_name(const struct args *a)
{
	const char *slash;

	if (a->content == CONTENT_DEMO)
		return "demo";
	if (a->content == CONTENT_NOISE)
		return "noise";
	slash = strrchr(a->file, '/');
	return slash ? slash + 1 : a->file;
}

static void print_result(struct link_bench *lb, struct shmframe_conn *conn,
                         double seconds, uint64_t cpu_ns)
{
	const struct args *a = lb->a;
	struct shmframe_stats st;
	double p50, p99;

	if (shmframe_get_stats(conn, &st))
		memset(&st, 0, sizeof st);
	p50 = bench_percentile(lb->latency_us.v, lb->latency_us.n, 50) / 1e3;
	p99 = bench_percentile(lb->latency_us.v, lb->latency_us.n, 99) / 1e3;
	printf("content=%s size=%ux%u compress=%s transport=%s frames=%zu "
	       "shown=%llu discarded=%llu seconds=%.3f fps=%.2f "
	       "bytes_per_frame=%.0f ratio=%.3f latency_p50_ms=%.2f "
	       "latency_p99_ms=%.2f client_cpu_ms_per_frame=%.3f",
	       content_name(a), a->w, a->h, sf__compress_name(conn),
	       shmframe_transport_name(conn), lb->n_sent,
	       (unsigned long long)lb->shown, (unsigned long long)lb->discarded,
	       seconds, seconds > 0 ? (double)lb->shown / seconds : 0.0,
	       st.frames_sent ? (double)st.payload_bytes / (double)st.frames_sent
	                      : 0.0,
	       st.payload_bytes ? (double)st.pixel_bytes / (double)st.payload_bytes
	                        : 0.0,
	       isnan(p50) ? 0.0 : p50, isnan(p99) ? 0.0 : p99,
	       lb->shown ? (double)cpu_ns / 1e6 / (double)lb->shown : 0.0);
	sf__print_quoted("compress_reason", shmframe_compression_reason(conn));
	putchar('\n');
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct link_bench lb = { .a = &a, .rng = 0x9e3779b97f4a7c15u };
	struct shmframe_options opts;
	struct shmframe_conn *conn = NULL;
	struct shmframe_surface *s = NULL;
	struct shmframe_rect all;
	uint64_t cpu0;
	double seconds = 0;
	int status = parse_args(argc, argv, &a);

	if (status >= 0)
		return status;
	signal(SIGPIPE, SIG_IGN);
	status = 1;
	if (a.content == CONTENT_FILE && map_file(&lb))
		goto out;
	if (a.damage) {
		lb.bg = malloc(frame_bytes(&a));
		if (!lb.bg) {
			fprintf(stderr, PROG ": out of memory\n");
			goto out;
		}
		all = (struct shmframe_rect){ 0, 0, a.w, a.h };
		draw(&lb, lb.bg, (size_t)a.w * 4, &all, 0);
	}

	shmframe_options_init(&opts);
	conn = sf__tool_connect(PROG, &a.tool, &opts);
	if (!conn)
		goto out;
	s = sf__tool_surface(PROG, &a.tool, conn, a.w, a.h);
	if (!s)
		goto out;
	shmframe_surface_set_listener(s, &listener, &lb);

	cpu0 = bench_cpu_self_ns();
	if (run(&lb, conn, s, &seconds))
		goto out;
	if (lb.unknown) {
		fprintf(stderr, PROG ": %llu PRESENTED for serials never "
		        "presented\n", (unsigned long long)lb.unknown);
		goto out;
	}
	/* The CPU of the run alone: connecting and loading are not frames. */
	print_result(&lb, conn, seconds, bench_cpu_self_ns() - cpu0);
	if (a.tool.readback &&
	    sf__tool_readback(PROG, &a.tool, conn, s, a.w, a.h))
		goto out;
	status = 0;

out:
	shmframe_surface_destroy(s);
	shmframe_disconnect(conn);
	if (lb.file)
		munmap(lb.file, lb.file_len);
	free(lb.bg);
	free(lb.sent);
	bench_samples_free(&lb.latency_us);
	return status;
}
