/*
 * shmframe-bench: measures every way shmframe can move frames, the floors
 * they are bound by, and (with --x11) a real X server, in one run, and
 * prints them side by side with their ratios.
 *
 * This file: options, the list of rows, the table, the ratios and
 * targets, the CSV file and the closing key=value line.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-private.h"

#define MAX_LIST 16

const char *const bench_mode_names[BENCH_MODE_COUNT] = {
	[BENCH_SHM_LATCH] = "shm-latch",
	[BENCH_SHM_COPY] = "shm-copy",
	[BENCH_SOCKET] = "socket",
	[BENCH_MEMCPY_LIMIT] = "memcpy-limit",
	[BENCH_SOCKET_LIMIT] = "socket-limit",
	[BENCH_RENDER_LIMIT] = "render-limit",
	[BENCH_X11_PUTIMAGE] = "x11-putimage",
	[BENCH_X11_SHM] = "x11-shm",
};

static const char csv_header[] =
	"mode,shm,size,clients,damage,frames,fps,transport_fps,gbps,"
	"release_p50_us,release_p99_us,presented_p50_us,presented_p99_us,"
	"client_cpu_us,server_cpu_us,signal,client_syscalls,server_syscalls,"
	"client_sleeps,server_sleeps";

struct size {
	uint32_t w, h;
};

/* One signalling path a shared-memory row is run with. */
struct variant {
	enum bench_signal signal;
	unsigned spin_us;
};

struct options {
	const char *server;
	int modes[BENCH_MODE_COUNT];   /* selected */
	int modes_given;
	int transport_shm, transport_socket, transport_given;
	enum shmframe_shm_kind shm[4];
	unsigned n_shm;
	int sig_socket, sig_ring, sig_spin, sig_given;
	unsigned spin_us;
	struct variant variants[3];    /* socket, ring, ring+spin: those chosen */
	unsigned n_variants;
	struct size sizes[MAX_LIST];
	unsigned n_sizes;
	struct size damages[MAX_LIST]; /* 0x0: full */
	unsigned n_damages;
	int damage_given;
	unsigned clients[MAX_LIST];
	unsigned n_clients;
	int clients_given;
	uint64_t frames;
	double seconds;
	int seconds_given;
	double warmup;
	unsigned repeat;
	int repeat_given;
	int quick;
	int e2e_only;
	unsigned buffers;
	int x11;
	const char *csv;
	const char *plot;
};

const char *bench_signal_label(const struct bench_job *job)
{
	switch (job->signal) {
	case BENCH_SIG_SOCKET: return "socket";
	case BENCH_SIG_RING: return job->spin_us ? "ring+spin" : "ring";
	default: return "";
	}
}

const char *bench_shm_kind_name(enum shmframe_shm_kind kind)
{
	switch (kind) {
	case SHMFRAME_SHM_MEMFD: return "memfd";
	case SHMFRAME_SHM_POSIX: return "posix";
	case SHMFRAME_SHM_SYSV: return "sysv";
	default: return "";
	}
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " BENCH_NAME " [OPTION]...\n"
"Measures how fast frames move from a client to a display server: shmframe's\n"
"shared-memory and socket transports, the floors they are bound by, and with\n"
"--x11 a real X server, in one run; prints a table with their ratios.\n"
"\n"
"  --server ADDR      use a running shmframe server (default: start one with\n"
"                     --display none; found as $SHMFRAME_SERVER_BIN, else\n"
"                     beside this program)\n"
"  --mode LIST        modes to run (default: all but render-limit):\n"
"                       shm-latch     shared memory, the server latches the\n"
"                                     buffer without copying\n"
"                       shm-copy      shared memory, the server copies every\n"
"                                     frame (X semantics)\n"
"                       socket        pixels through the socket\n"
"                       memcpy-limit  one copy of the frame in one process\n"
"                       socket-limit  the same bytes through a raw AF_UNIX\n"
"                                     stream, a 1-byte ack per frame\n"
"                       render-limit  the drawing alone, in the client's\n"
"                                     own memory\n"
"                       x11-putimage  core PutImage to an X server (--x11)\n"
"                       x11-shm       MIT-SHM ShmPutImage (--x11)\n"
"  --transport LIST   shm,socket: run only the shmframe modes of these\n"
"  --shm LIST         memfd,posix,sysv,any: a row per kind for the shm modes\n"
"                     (default any: the first kind that passes the probe)\n"
"  --signal LIST      socket,ring,ring+spin,both: a row per signalling path\n"
"                     for the shm modes: ring, the rings of the control\n"
"                     segment; socket, a message per frame and per event;\n"
"                     ring+spin, ring with both sides spinning (--spin-us).\n"
"                     Default both (socket,ring), and ring+spin with\n"
"                     --spin-us.  The path a connection uses is checked: a\n"
"                     row that did not get the one it asked for fails\n"
"  --spin-us N        microseconds the ring+spin rows spin before they\n"
"                     sleep, at both ends (the server's --spin-us, the\n"
"                     client's $SHMFRAME_SPIN_US); the other rows spin not\n"
"                     at all.  Default 0: no ring+spin rows\n"
"  --size LIST        frame sizes WxH (default 640x480,1920x1080,3840x2160)\n"
"  --damage LIST      full, or WxH centred in the frame (default full)\n"
"  --clients LIST     clients at once, each its own process (default 1)\n"
"  --frames N         frames per measurement pass\n"
"  --seconds S        seconds per measurement pass (default 0.2; with\n"
"                     --frames alone there is no time limit)\n"
"  --repeat N         rounds over all rows; each figure is the median of\n"
"                     the rounds (default 5)\n"
"  --buffers N        buffers in flight per client, 2..16 (default 3)\n"
"  --warmup S         untimed seconds when a row starts (default 0.1)\n"
"  --quick            3 rounds of 0.1 s passes (unless --repeat or --seconds\n"
"                     say otherwise): 40 %% of the time\n"
"  --e2e-only         no transport-alone pass (transport fps and GB/s: -)\n"
"  --x11              add the x11 modes; uses $DISPLAY, else starts Xvfb\n"
"  --csv FILE         write the rows as CSV\n"
"  --plot FILE.png    draw frames/s per mode and size (log scale) with\n"
"                     gnuplot, through shmframe-bench-chart beside this\n"
"                     program\n"
"  -h, --help         show this help and exit\n"
"  -V, --version      show the version and exit\n"
"\n"
"Each row's clients (processes of their own) are started once; then every\n"
"row is measured in turn, round after round, so that load from elsewhere\n"
"spreads over all rows, and each figure is the median of the rounds.\n"
"A round runs two passes per row.  The first is a real client: it writes\n"
"every pixel of the damage of every frame, with several buffers in flight\n"
"and no round trip the API does not need; it gives frames/s end to end,\n"
"the render rate (frames per second of drawing time alone), latencies and\n"
"CPU time.  The second presents the same frames without drawing them (only\n"
"the frame's tag is written): its rate is the transport alone, and GB/s is\n"
"the damage moved per second at that rate.  The X modes make one round trip\n"
"per frame, as an X client must before it reuses its image.\n"
"\n"
"Signalling: the shm rows run once per path (column sig), asked for as a\n"
"user would, through $SHMFRAME_SIGNAL and $SHMFRAME_SPIN_US in each client\n"
"and --spin-us on a second server of ours for ring+spin.  Per frame of the\n"
"end-to-end passes, the syscalls of each client and of the server are\n"
"counted as `perf stat -e raw_syscalls:sys_enter` counts them (a perf\n"
"counter on the tracepoint, started and stopped around each pass; needs\n"
"root, CAP_PERFMON or kernel.perf_event_paranoid <= 1), and their sleeps\n"
"(voluntary context switches, each one a wake-up), in a second table.\n"
"shmframe-bench-syscalls (beside this program) lists them by name.\n"
"\n"
"With several clients a rate is all their frames over the time from the\n"
"first one's start to the last one's end (each one's own rate is in the\n"
"line below the table), and render only is -: render-limit with as many\n"
"clients is what they draw together.\n"
"\n"
"Latencies, from just before the frame is handed over: present->release\n"
"until the buffer may be drawn into again (for the socket modes and\n"
"PutImage: once its bytes are in the socket), present->presented until the\n"
"server reports it shown (socket-limit: the ack; X: the round trip).  CPU\n"
"per frame: the clients' (getrusage) and the receiving process's\n"
"(/proc/PID/task/*/schedstat; the server's pid: ours, or with --server\n"
"unix:PATH the listener's, from SO_PEERCRED).\n"
"\n"
"Checks: every frame carries a tag in its first pixel, checked where it\n"
"lands (the buffer's on its return, the receiver's for socket-limit, the\n"
"copy's for memcpy-limit); the last frame is read back whole and compared.\n"
"\n"
"Without --clients and --damage, rows are added for the targets, per\n"
"signalling path: shm-latch with 16 clients at 640x480 and with 64x64\n"
"damage at 1920x1080; and render-limit with 16 clients at 640x480 (what\n"
"16 renderers reach together without a server).\n"
"The raw wake-up round trip (a 1-byte ping-pong between two processes) is\n"
"measured in every round and printed too.  The targets are printed with\n"
"their ratios; nothing is asserted against time.\n"
"\n"
"The last line of output is key=value pairs: rows= failed= transport= shm=\n"
"signal= (of the first shm-latch row) wakeup_p50_us= seconds=.\n"
"Exit status: 0 success, 1 a row failed or could not be set up, 2 usage.\n");
}

static int parse_size(const char *s, struct size *out)
{
	char *end;
	unsigned long w, h;

	errno = 0;
	w = strtoul(s, &end, 10);
	if (errno || end == s || (*end != 'x' && *end != 'X'))
		return -1;
	s = end + 1;
	h = strtoul(s, &end, 10);
	if (errno || end == s || *end || w == 0 || h == 0 || w > 16384 ||
	    h > 16384)
		return -1;
	out->w = (uint32_t)w;
	out->h = (uint32_t)h;
	return 0;
}

/* Calls item() for each comma-separated word of list. */
static int each_item(const char *list, const char *what,
                     int (*item)(struct options *, const char *),
                     struct options *o)
{
	char *copy = strdup(list), *save = NULL, *w;
	int rc = 0;

	if (!copy)
		return -1;
	for (w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
		if (item(o, w) < 0) {
			fprintf(stderr, BENCH_NAME ": bad %s '%s'\n", what, w);
			rc = -1;
			break;
		}
	free(copy);
	return rc;
}

static int mode_item(struct options *o, const char *w)
{
	for (int m = 0; m < BENCH_MODE_COUNT; m++)
		if (strcmp(w, bench_mode_names[m]) == 0) {
			o->modes[m] = 1;
			return 0;
		}
	if (strcmp(w, "all") == 0) {
		for (int m = 0; m < BENCH_MODE_COUNT; m++)
			o->modes[m] = 1;
		return 0;
	}
	return -1;
}

static int transport_item(struct options *o, const char *w)
{
	if (strcmp(w, "shm") == 0)
		o->transport_shm = 1;
	else if (strcmp(w, "socket") == 0)
		o->transport_socket = 1;
	else if (strcmp(w, "auto") == 0)
		o->transport_shm = o->transport_socket = 1;
	else
		return -1;
	return 0;
}

static int shm_item(struct options *o, const char *w)
{
	static const struct { const char *name; enum shmframe_shm_kind k; } kinds[] = {
		{ "any", SHMFRAME_SHM_ANY }, { "memfd", SHMFRAME_SHM_MEMFD },
		{ "posix", SHMFRAME_SHM_POSIX }, { "sysv", SHMFRAME_SHM_SYSV },
	};

	for (size_t i = 0; i < 4; i++)
		if (strcmp(w, kinds[i].name) == 0) {
			for (unsigned j = 0; j < o->n_shm; j++)
				if (o->shm[j] == kinds[i].k)
					return 0;
			o->shm[o->n_shm++] = kinds[i].k;
			return 0;
		}
	return -1;
}

static int signal_item(struct options *o, const char *w)
{
	if (strcmp(w, "socket") == 0)
		o->sig_socket = 1;
	else if (strcmp(w, "ring") == 0)
		o->sig_ring = 1;
	else if (strcmp(w, "ring+spin") == 0)
		o->sig_spin = 1;
	else if (strcmp(w, "both") == 0)
		o->sig_socket = o->sig_ring = 1;
	else
		return -1;
	return 0;
}

static int size_item(struct options *o, const char *w)
{
	if (o->n_sizes == MAX_LIST || parse_size(w, &o->sizes[o->n_sizes]) < 0)
		return -1;
	o->n_sizes++;
	return 0;
}

static int damage_item(struct options *o, const char *w)
{
	struct size d = { 0, 0 };

	if (o->n_damages == MAX_LIST ||
	    (strcmp(w, "full") != 0 && parse_size(w, &d) < 0))
		return -1;
	o->damages[o->n_damages++] = d;
	return 0;
}

static int clients_item(struct options *o, const char *w)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(w, &end, 10);
	if (errno || end == w || *end || n < 1 || n > 256 ||
	    o->n_clients == MAX_LIST)
		return -1;
	o->clients[o->n_clients++] = (unsigned)n;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_SERVER = 256, OPT_MODE, OPT_TRANSPORT, OPT_SHM, OPT_SIZE, OPT_DAMAGE,
	OPT_CLIENTS, OPT_FRAMES, OPT_SECONDS, OPT_BUFFERS, OPT_WARMUP, OPT_X11,
	OPT_CSV, OPT_PLOT, OPT_REPEAT, OPT_SIGNAL, OPT_SPIN_US, OPT_QUICK,
	OPT_E2E_ONLY,
};

/* 0: run, 1: done (help/version), 2: usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "transport", required_argument, NULL, OPT_TRANSPORT },
		{ "shm", required_argument, NULL, OPT_SHM },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "damage", required_argument, NULL, OPT_DAMAGE },
		{ "clients", required_argument, NULL, OPT_CLIENTS },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "seconds", required_argument, NULL, OPT_SECONDS },
		{ "buffers", required_argument, NULL, OPT_BUFFERS },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "x11", no_argument, NULL, OPT_X11 },
		{ "csv", required_argument, NULL, OPT_CSV },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ "signal", required_argument, NULL, OPT_SIGNAL },
		{ "spin-us", required_argument, NULL, OPT_SPIN_US },
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "e2e-only", no_argument, NULL, OPT_E2E_ONLY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	memset(o, 0, sizeof(*o));
	o->seconds = 0.2;
	o->repeat = 5;
	o->warmup = 0.1;
	o->buffers = 3;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SERVER:
			o->server = optarg;
			break;
		case OPT_MODE:
			o->modes_given = 1;
			if (each_item(optarg, "mode", mode_item, o) < 0)
				return 2;
			break;
		case OPT_TRANSPORT:
			o->transport_given = 1;
			if (each_item(optarg, "transport", transport_item, o) < 0)
				return 2;
			break;
		case OPT_SHM:
			if (each_item(optarg, "shm kind", shm_item, o) < 0)
				return 2;
			break;
		case OPT_SIZE:
			if (each_item(optarg, "size", size_item, o) < 0)
				return 2;
			break;
		case OPT_DAMAGE:
			o->damage_given = 1;
			if (each_item(optarg, "damage", damage_item, o) < 0)
				return 2;
			break;
		case OPT_CLIENTS:
			o->clients_given = 1;
			if (each_item(optarg, "client count", clients_item, o) < 0)
				return 2;
			break;
		case OPT_FRAMES:
			if (parse_double(optarg, 1, 1e12, &v) < 0 || v != floor(v)) {
				fprintf(stderr, BENCH_NAME ": bad frame count '%s'\n", optarg);
				return 2;
			}
			o->frames = (uint64_t)v;
			break;
		case OPT_SECONDS:
			if (parse_double(optarg, 0.01, 3600, &o->seconds) < 0) {
				fprintf(stderr, BENCH_NAME ": bad seconds '%s'\n", optarg);
				return 2;
			}
			o->seconds_given = 1;
			break;
		case OPT_BUFFERS:
			if (parse_double(optarg, 2, 16, &v) < 0 || v != floor(v)) {
				fprintf(stderr, BENCH_NAME ": --buffers takes 2..16\n");
				return 2;
			}
			o->buffers = (unsigned)v;
			break;
		case OPT_WARMUP:
			if (parse_double(optarg, 0, 60, &o->warmup) < 0) {
				fprintf(stderr, BENCH_NAME ": bad warm-up '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_X11:
			o->x11 = 1;
			break;
		case OPT_CSV:
			o->csv = optarg;
			break;
		case OPT_PLOT:
			o->plot = optarg;
			break;
		case OPT_REPEAT:
			if (parse_double(optarg, 1, 1000, &v) < 0 || v != floor(v)) {
				fprintf(stderr, BENCH_NAME ": --repeat takes 1..1000\n");
				return 2;
			}
			o->repeat = (unsigned)v;
			o->repeat_given = 1;
			break;
		case OPT_SIGNAL:
			o->sig_given = 1;
			if (each_item(optarg, "signalling path", signal_item, o) < 0)
				return 2;
			break;
		case OPT_SPIN_US:
			if (parse_double(optarg, 0, 1e6, &v) < 0 || v != floor(v)) {
				fprintf(stderr, BENCH_NAME ": --spin-us takes 0..1000000\n");
				return 2;
			}
			o->spin_us = (unsigned)v;
			break;
		case OPT_QUICK:
			o->quick = 1;
			break;
		case OPT_E2E_ONLY:
			o->e2e_only = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf(BENCH_NAME " %s\n", shmframe_version());
			return 1;
		default:
			if (optopt && optopt < 256)
				fprintf(stderr, BENCH_NAME ": unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, BENCH_NAME ": unknown or incomplete option "
				        "'%s'\n", argv[optind - 1]);
			fprintf(stderr, "Try '" BENCH_NAME " --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, BENCH_NAME ": unexpected argument '%s'\n", argv[optind]);
		return 2;
	}

	if (!o->modes_given)
		for (int m = 0; m < BENCH_MODE_COUNT; m++)
			o->modes[m] = m != BENCH_RENDER_LIMIT;
	/* The X modes need --x11; asking for them by name implies it. */
	if (o->modes_given && (o->modes[BENCH_X11_PUTIMAGE] || o->modes[BENCH_X11_SHM]))
		o->x11 = 1;
	if (!o->x11)
		o->modes[BENCH_X11_PUTIMAGE] = o->modes[BENCH_X11_SHM] = 0;
	if (o->transport_given) {
		o->modes[BENCH_SHM_LATCH] &= o->transport_shm;
		o->modes[BENCH_SHM_COPY] &= o->transport_shm;
		o->modes[BENCH_SOCKET] &= o->transport_socket;
	}
	if (o->n_shm == 0)
		o->shm[o->n_shm++] = SHMFRAME_SHM_ANY;
	if (o->n_sizes == 0) {
		static const struct size def[] = { { 640, 480 }, { 1920, 1080 },
		                                   { 3840, 2160 } };

		memcpy(o->sizes, def, sizeof(def));
		o->n_sizes = 3;
	}
	if (o->n_damages == 0)
		o->n_damages = 1; /* full */
	if (o->n_clients == 0)
		o->clients[o->n_clients++] = 1;
	if (o->frames && !o->seconds_given)
		o->seconds = 0;
	if (o->quick) {
		if (!o->repeat_given)
			o->repeat = 3;
		if (!o->seconds_given && !o->frames)
			o->seconds = 0.1;
	}
	if (!o->sig_given) {
		o->sig_socket = o->sig_ring = 1;
		o->sig_spin = o->spin_us > 0;
	}
	if (o->sig_spin && o->spin_us == 0) {
		fprintf(stderr, BENCH_NAME ": ring+spin needs --spin-us N\n");
		return 2;
	}
	if (!o->sig_spin && o->spin_us > 0) {
		fprintf(stderr, BENCH_NAME ": --spin-us is for the ring+spin rows, "
		        "which --signal leaves out\n");
		return 2;
	}
	if (o->sig_socket)
		o->variants[o->n_variants++] = (struct variant){ BENCH_SIG_SOCKET, 0 };
	if (o->sig_ring)
		o->variants[o->n_variants++] = (struct variant){ BENCH_SIG_RING, 0 };
	if (o->sig_spin)
		o->variants[o->n_variants++] = (struct variant){ BENCH_SIG_RING,
		                                                 o->spin_us };
	return 0;
}

static int is_shmframe(enum bench_mode m)
{
	return m == BENCH_SHM_LATCH || m == BENCH_SHM_COPY || m == BENCH_SOCKET;
}

static int uses_shm_kind(enum bench_mode m)
{
	return m == BENCH_SHM_LATCH || m == BENCH_SHM_COPY;
}

static void job_damage(struct bench_job *j, struct size d)
{
	if (d.w == 0 || (d.w >= j->width && d.h >= j->height)) {
		j->damage = (struct shmframe_rect){ 0, 0, j->width, j->height };
		j->damage_full = 1;
		return;
	}
	j->damage.width = d.w < j->width ? d.w : j->width;
	j->damage.height = d.h < j->height ? d.h : j->height;
	j->damage.x = (j->width - j->damage.width) / 2;
	j->damage.y = (j->height - j->damage.height) / 2;
	j->damage_full = 0;
}

static struct bench_row *add_row(struct bench_row **rows, size_t *n,
                                 size_t *cap)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 32;
		struct bench_row *r = realloc(*rows, c * sizeof(*r));

		if (!r)
			return NULL;
		*rows = r;
		*cap = c;
	}
	memset(&(*rows)[*n], 0, sizeof(**rows));
	return &(*rows)[(*n)++];
}

static struct bench_row *add_job(struct bench_row **rows, size_t *n,
                                 size_t *cap, enum bench_mode m,
                                 enum shmframe_shm_kind shm,
                                 const struct variant *v, struct size size,
                                 unsigned clients, struct size damage)
{
	struct bench_row *r = add_row(rows, n, cap);

	if (!r)
		return NULL;
	r->job.mode = m;
	r->job.shm = shm;
	if (v) {
		r->job.signal = v->signal;
		r->job.spin_us = v->spin_us;
	}
	r->job.width = size.w;
	r->job.height = size.h;
	r->job.clients = clients;
	job_damage(&r->job, damage);
	return r;
}

static int build_rows(const struct options *o, struct bench_row **rows,
                      size_t *n)
{
	size_t cap = 0;

	*rows = NULL;
	*n = 0;
	/* The paths of one row next to each other. */
	for (unsigned s = 0; s < o->n_sizes; s++)
		for (int m = 0; m < BENCH_MODE_COUNT; m++) {
			int shm = uses_shm_kind((enum bench_mode)m);

			if (!o->modes[m])
				continue;
			for (unsigned k = 0; k < (shm ? o->n_shm : 1); k++)
				for (unsigned v = 0; v < (shm ? o->n_variants : 1); v++)
					for (unsigned d = 0; d < o->n_damages; d++)
						for (unsigned c = 0; c < o->n_clients; c++)
							if (!add_job(rows, n, &cap, (enum bench_mode)m,
							             shm ? o->shm[k] : SHMFRAME_SHM_ANY,
							             shm ? &o->variants[v] : NULL,
							             o->sizes[s], o->clients[c],
							             o->damages[d]))
								return -1;
		}

	/* The rows the targets need, unless the user chose clients or
	 * damage himself. */
	if (o->modes[BENCH_SHM_LATCH] && !o->clients_given && !o->damage_given) {
		struct size small = o->sizes[0], mid = o->sizes[o->n_sizes / 2];

		for (unsigned s = 0; s < o->n_sizes; s++) {
			if (o->sizes[s].w == 640 && o->sizes[s].h == 480)
				small = o->sizes[s];
			if (o->sizes[s].w == 1920 && o->sizes[s].h == 1080)
				mid = o->sizes[s];
		}
		for (unsigned v = 0; v < o->n_variants; v++)
			if (!add_job(rows, n, &cap, BENCH_SHM_LATCH, o->shm[0],
			             &o->variants[v], small, 16, (struct size){ 0, 0 }))
				return -1;
		if (!add_job(rows, n, &cap, BENCH_RENDER_LIMIT, SHMFRAME_SHM_ANY, NULL,
		             small, 16, (struct size){ 0, 0 }))
			return -1;
		for (unsigned v = 0; v < o->n_variants; v++)
			if (!add_job(rows, n, &cap, BENCH_SHM_LATCH, o->shm[0],
			             &o->variants[v], mid, 1, (struct size){ 64, 64 }))
				return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static const char *num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (fabs(v) >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 10)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
	return buf;
}

static void damage_text(const struct bench_job *j, char *buf, size_t len)
{
	if (j->damage_full)
		snprintf(buf, len, "full");
	else
		snprintf(buf, len, "%ux%u", j->damage.width, j->damage.height);
}

/* Three figures for a ratio or a rate below 1, where num() keeps two
 * decimals. */
static const char *fine(char *buf, size_t len, double v)
{
	if (!isnan(v) && fabs(v) < 1)
		snprintf(buf, len, "%.3f", v);
	else
		num(buf, len, v);
	return buf;
}

/* The columns that say which row it is, in both tables. */
static void print_label(const struct bench_row *r)
{
	char size[24], dmg[24];

	snprintf(size, sizeof(size), "%ux%u", r->job.width, r->job.height);
	damage_text(&r->job, dmg, sizeof(dmg));
	printf("%-12s %-5s %-9s %-9s %3u %-6s ", bench_mode_names[r->job.mode],
	       r->done ? r->shm : bench_shm_kind_name(r->job.shm),
	       bench_signal_label(&r->job), size, r->job.clients, dmg);
}

static void print_table(const struct bench_row *rows, size_t n)
{
	char b[12][32], dmg[24];

	printf("%-12s %-5s %-9s %-9s %3s %-6s %7s %8s %8s %9s %7s %8s %8s %8s %8s %7s %7s\n",
	       "mode", "shm", "sig", "size", "cl", "damage", "frames", "fps",
	       "render", "transport", "GB/s", "rel p50", "rel p99", "pres p50",
	       "pres p99", "cpu cl", "cpu srv");
	/* "µ" is two bytes but one column: one more byte of width each. */
	printf("%-12s %-5s %-9s %-9s %3s %-6s %7s %8s %8s %9s %7s %9s %9s %9s %9s %8s %8s\n",
	       "", "", "", "", "", "", "", "e2e", "only", "fps", "", "µs", "µs",
	       "µs", "µs", "µs/fr", "µs/fr");
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];

		print_label(r);
		if (!r->done) {
			printf("FAILED: %s\n", r->error);
			continue;
		}
		printf("%7llu %8s %8s %9s %7s %8s %8s %8s %8s %7s %7s\n",
		       (unsigned long long)r->frames,
		       num(b[0], 32, r->fps), num(b[1], 32, r->render_fps),
		       num(b[2], 32, r->transport_fps), num(b[3], 32, r->gbps),
		       num(b[4], 32, r->release_p50), num(b[5], 32, r->release_p99),
		       num(b[6], 32, r->presented_p50), num(b[7], 32, r->presented_p99),
		       num(b[8], 32, r->client_cpu_us), num(b[9], 32, r->server_cpu_us));
	}
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];
		const char *sig = bench_signal_label(&r->job);

		damage_text(&r->job, dmg, sizeof(dmg));
		if (r->done && r->job.clients > 1)
			printf("  %s%s%s%s%s %ux%u damage %s, %u clients: per client %s "
			       "min, %s median, %s max fps end to end\n",
			       bench_mode_names[r->job.mode], r->shm[0] ? "/" : "",
			       r->shm, sig[0] ? ", signal " : "", sig, r->job.width,
			       r->job.height, dmg, r->job.clients,
			       num(b[0], 32, r->client_fps_min),
			       num(b[1], 32, r->client_fps_med),
			       num(b[2], 32, r->client_fps_max));
	}
}

/* Syscalls and sleeps per frame: why a path costs what it costs. */
static void print_signalling(const struct bench_row *rows, size_t n,
                             const char *not_counted)
{
	char b[4][32];

	printf("\nper frame of the end-to-end passes: syscalls, counted as `perf "
	       "stat -e raw_syscalls:sys_enter`\ncounts them, and sleeps "
	       "(voluntary context switches: each one ends in a wake-up);\n"
	       "the receiving process is the server (the X server, the "
	       "socket-limit receiver)\n");
	if (not_counted)
		printf("syscalls not counted: %s\n", not_counted);
	printf("%-12s %-5s %-9s %-9s %3s %-6s %8s %8s %8s %8s\n", "mode", "shm",
	       "sig", "size", "cl", "damage", "sys cl", "sys srv", "sleep cl",
	       "sleep srv");
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];

		if (!r->done)
			continue;
		print_label(r);
		printf("%8s %8s %8s %8s\n", fine(b[0], 32, r->client_sys),
		       fine(b[1], 32, r->server_sys), fine(b[2], 32, r->client_sleeps),
		       fine(b[3], 32, r->server_sleeps));
	}
}

/* The reference row of a mode at a size: first kind, one client, full
 * damage, measured; for the shm modes with signalling v (NULL for the
 * others). */
static const struct bench_row *find(const struct bench_row *rows, size_t n,
                                    enum bench_mode m, uint32_t w, uint32_t h,
                                    const struct variant *v)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].done && rows[i].job.mode == m && rows[i].job.width == w &&
		    rows[i].job.height == h && rows[i].job.clients == 1 &&
		    rows[i].job.damage_full &&
		    (!uses_shm_kind(m) || (rows[i].job.signal == v->signal &&
		                           rows[i].job.spin_us == v->spin_us)))
			return &rows[i];
	return NULL;
}

static const struct {
	enum bench_mode a, b;
} ratio_pairs[] = {
	{ BENCH_SHM_LATCH, BENCH_X11_SHM },
	{ BENCH_SHM_COPY, BENCH_X11_SHM },
	{ BENCH_SOCKET, BENCH_SOCKET_LIMIT },
	{ BENCH_SOCKET, BENCH_X11_PUTIMAGE },
};
#define N_PAIRS (sizeof(ratio_pairs) / sizeof(ratio_pairs[0]))

/* A line per size and signalling path; a pair without shm is the same
 * for every path, and is shown on the size's first line only. */
static void print_ratios(const struct bench_row *rows, size_t n,
                         const struct options *o)
{
	char head[64], b1[32], b2[32], cell[72];
	int any = 0;

	for (unsigned s = 0; s < o->n_sizes; s++)
		for (unsigned v = 0; v < o->n_variants; v++)
			for (size_t p = 0; p < N_PAIRS; p++)
				any |= find(rows, n, ratio_pairs[p].a, o->sizes[s].w,
				            o->sizes[s].h, &o->variants[v]) &&
				       find(rows, n, ratio_pairs[p].b, o->sizes[s].w,
				            o->sizes[s].h, &o->variants[v]);
	if (!any)
		return;
	printf("\nratios, end to end / transport alone:\n%-10s %-9s", "size", "sig");
	for (size_t p = 0; p < N_PAIRS; p++) {
		snprintf(head, sizeof(head), "%s/%s", bench_mode_names[ratio_pairs[p].a],
		         bench_mode_names[ratio_pairs[p].b]);
		printf(" %22s", head);
	}
	printf("\n");
	for (unsigned s = 0; s < o->n_sizes; s++)
		for (unsigned v = 0; v < o->n_variants; v++) {
			const struct variant *var = &o->variants[v];
			struct bench_job j = { .signal = var->signal, .spin_us = var->spin_us };

			snprintf(head, sizeof(head), "%ux%u", o->sizes[s].w, o->sizes[s].h);
			printf("%-10s %-9s", head, bench_signal_label(&j));
			for (size_t p = 0; p < N_PAIRS; p++) {
				const struct bench_row *a = find(rows, n, ratio_pairs[p].a,
				                                 o->sizes[s].w, o->sizes[s].h, var);
				const struct bench_row *bb = find(rows, n, ratio_pairs[p].b,
				                                  o->sizes[s].w, o->sizes[s].h, var);

				if (v > 0 && !uses_shm_kind(ratio_pairs[p].a))
					snprintf(cell, sizeof(cell), " ");
				else if (a && bb)
					snprintf(cell, sizeof(cell), "%s / %s",
					         num(b1, 32, a->fps / bb->fps),
					         num(b2, 32, a->transport_fps / bb->transport_fps));
				else
					snprintf(cell, sizeof(cell), "-");
				printf(" %22s", cell);
			}
			printf("\n");
		}
}

/* Targets printed since the last group's heading. */
static unsigned targets_shown;

static void target(const char *what, double value, const char *cmp,
                   double want)
{
	char b[32];
	int met = strcmp(cmp, ">=") == 0 ? value >= want : value <= want;

	targets_shown++;
	printf("    %-62s %6s %s %-4g %s\n", what, fine(b, sizeof(b), value), cmp,
	       want, isnan(value) ? "n/a" : met ? "met" : "MISSED");
}

/* A target row of one signalling path: shm-latch with clients clients
 * and full damage, or one client with w x h damage. */
static const struct bench_row *find_special(const struct bench_row *rows,
                                            size_t n, enum bench_mode m,
                                            unsigned clients, uint32_t dw,
                                            uint32_t dh, const struct variant *v)
{
	for (size_t i = 0; i < n; i++) {
		const struct bench_job *j = &rows[i].job;

		if (!rows[i].done || j->mode != m || j->clients != clients ||
		    (uses_shm_kind(m) && (j->signal != v->signal ||
		                          j->spin_us != v->spin_us)))
			continue;
		if (dw ? !j->damage_full && j->damage.width == dw &&
		         j->damage.height == dh : j->damage_full)
			return &rows[i];
	}
	return NULL;
}

/* The targets of one signalling path.  Those of 1.1.0 hold for every
 * path; the rings' own (issue 11) are stricter where they overlap. */
static void print_path_targets(const struct bench_row *rows, size_t n,
                               const struct variant *v, unsigned buffers,
                               double wake_p50)
{
	static const struct size big[] = { { 1920, 1080 }, { 3840, 2160 } };
	const int ring = v->signal == BENCH_SIG_RING, spin = ring && v->spin_us;
	struct bench_job label = { .signal = v->signal, .spin_us = v->spin_us };
	const struct bench_row *r, *one, *rl;
	char what[128];

	printf("  signalling %s", bench_signal_label(&label));
	if (spin)
		printf(" (%u µs at both ends)", v->spin_us);
	printf(":\n");
	targets_shown = 0;
	for (size_t s = 0; s < 2; s++) {
		uint32_t w = big[s].w, h = big[s].h;
		const struct bench_row *latch = find(rows, n, BENCH_SHM_LATCH, w, h, v);
		const struct bench_row *copy = find(rows, n, BENCH_SHM_COPY, w, h, v);
		const struct bench_row *xshm = find(rows, n, BENCH_X11_SHM, w, h, v);

		if (latch) {
			snprintf(what, sizeof(what), "shm-latch %ux%u end to end / render alone", w, h);
			target(what, latch->fps / latch->render_fps, ">=", ring ? 0.97 : 0.9);
		}
		if (latch && xshm) {
			snprintf(what, sizeof(what), "shm-latch / x11-shm %ux%u, end to end", w, h);
			target(what, latch->fps / xshm->fps, ">=", 3);
		}
		if (copy && xshm) {
			snprintf(what, sizeof(what), "shm-copy / x11-shm %ux%u, transport", w, h);
			target(what, copy->transport_fps / xshm->transport_fps, ">=",
			       s == 0 ? 1.2 : 1.0);
		}
		if (s == 0 && latch && ring) {
			snprintf(what, sizeof(what), "shm-latch %ux%u, %u buffers: client "
			         "syscalls per frame", w, h, buffers);
			target(what, latch->client_sys, "<=", spin ? 0.05 : 0.1);
			if (spin) {
				snprintf(what, sizeof(what), "shm-latch %ux%u, %u buffers: "
				         "server syscalls per frame", w, h, buffers);
				target(what, latch->server_sys, "<=", 0.05);
			} else {
				snprintf(what, sizeof(what), "shm-latch %ux%u, %u buffers: "
				         "server wake-ups per frame", w, h, buffers);
				target(what, latch->server_sleeps, "<=", 1);
			}
		}
	}
	r = find_special(rows, n, BENCH_SHM_LATCH, 1, 64, 64, v);
	if (r && !isnan(wake_p50)) {
		snprintf(what, sizeof(what), "shm-latch 64x64 damage presented p50 "
		         "/ wake-up p50 (%.1f µs)", wake_p50);
		target(what, r->presented_p50 / wake_p50, "<=",
		       spin ? 0.3 : ring ? 1.0 : 1.2);
	}
	r = find_special(rows, n, BENCH_SHM_LATCH, 16, 0, 0, v);
	if (r) {
		one = find(rows, n, BENCH_SHM_LATCH, r->job.width, r->job.height, v);
		rl = find_special(rows, n, BENCH_RENDER_LIMIT, 16, 0, 0, v);
		if (rl && (rl->job.width != r->job.width || rl->job.height != r->job.height))
			rl = NULL;
		if (one) {
			snprintf(what, sizeof(what), "shm-latch %ux%u 16 clients aggregate / "
			         "one client", r->job.width, r->job.height);
			target(what, r->fps / one->fps, ">=", 0.8);
		}
		if (rl && ring) {
			snprintf(what, sizeof(what), "shm-latch %ux%u 16 clients aggregate / "
			         "render-limit 16", r->job.width, r->job.height);
			target(what, r->fps / rl->fps, ">=", 0.9);
		}
	}
	if (!targets_shown)
		printf("    none: no row of theirs was measured\n");
}

static void print_targets(const struct bench_row *rows, size_t n,
                          const struct options *o, double wake_p50)
{
	const struct size mid = { 1920, 1080 };
	const struct bench_row *sock = find(rows, n, BENCH_SOCKET, mid.w, mid.h, NULL);
	const struct bench_row *slim = find(rows, n, BENCH_SOCKET_LIMIT, mid.w, mid.h, NULL);
	const struct bench_row *xput = find(rows, n, BENCH_X11_PUTIMAGE, mid.w, mid.h, NULL);
	char what[128];

	printf("\ntargets (reported, not asserted):\n");
	if ((sock && slim) || (sock && xput))
		printf("  the socket transport:\n");
	if (sock && slim) {
		snprintf(what, sizeof(what), "socket / socket-limit %ux%u, transport",
		         mid.w, mid.h);
		target(what, sock->transport_fps / slim->transport_fps, ">=", 0.9);
	}
	if (sock && xput) {
		snprintf(what, sizeof(what), "socket / x11-putimage %ux%u, transport",
		         mid.w, mid.h);
		target(what, sock->transport_fps / xput->transport_fps, ">=", 2);
	}
	if (o->modes[BENCH_SHM_LATCH] || o->modes[BENCH_SHM_COPY])
		for (unsigned v = 0; v < o->n_variants; v++)
			print_path_targets(rows, n, &o->variants[v], o->buffers, wake_p50);
}

static void csv_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputc(',', f);
	else
		fprintf(f, ",%.3f", v);
}

static int write_csv(const char *path, const struct bench_row *rows, size_t n)
{
	FILE *f = fopen(path, "we");
	char dmg[24];

	if (!f) {
		fprintf(stderr, BENCH_NAME ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%s\n", csv_header);
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];

		if (!r->done)
			continue;
		damage_text(&r->job, dmg, sizeof(dmg));
		fprintf(f, "%s,%s,%ux%u,%u,%s,%llu", bench_mode_names[r->job.mode],
		        r->shm, r->job.width, r->job.height, r->job.clients, dmg,
		        (unsigned long long)r->frames);
		csv_num(f, r->fps);
		csv_num(f, r->transport_fps);
		csv_num(f, r->gbps);
		csv_num(f, r->release_p50);
		csv_num(f, r->release_p99);
		csv_num(f, r->presented_p50);
		csv_num(f, r->presented_p99);
		csv_num(f, r->client_cpu_us);
		csv_num(f, r->server_cpu_us);
		fprintf(f, ",%s", bench_signal_label(&r->job));
		csv_num(f, r->client_sys);
		csv_num(f, r->server_sys);
		csv_num(f, r->client_sleeps);
		csv_num(f, r->server_sleeps);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, BENCH_NAME ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The chart is drawn from the CSV: the one given with --csv, else one
 * written for it in a temporary file. */
static int draw_chart(const char *csv, const char *png,
                      const struct bench_row *rows, size_t n)
{
	char tmp[] = "/tmp/shmframe-bench-XXXXXX.csv", err[512];
	int fd, rc;

	if (!csv) {
		fd = mkstemps(tmp, 4);
		if (fd < 0) {
			fprintf(stderr, BENCH_NAME ": mkstemps: %s\n", strerror(errno));
			return -1;
		}
		close(fd);
		csv = tmp;
		if (write_csv(csv, rows, n) < 0) {
			unlink(tmp);
			return -1;
		}
	}
	rc = bench_chart_draw(csv, png, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, BENCH_NAME ": %s\n", err);
	if (csv == tmp)
		unlink(tmp);
	return rc;
}

/* ------------------------------------------------------------------ */

static int progress_on;

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	va_list ap;

	if (!progress_on)
		return;
	fputs("\r\033[K", stderr);
	if (fmt) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fflush(stderr);
}

static void progress_row(const char *stage, size_t i, size_t n,
                         const struct bench_row *r, uint64_t t_start)
{
	char dmg[24];

	if (!progress_on)
		return;
	damage_text(&r->job, dmg, sizeof(dmg));
	progress("%s: [%zu/%zu] %s%s%s%s%s %ux%u, %u client%s, damage %s  (%.0f s)",
	         stage, i + 1, n, bench_mode_names[r->job.mode],
	         r->job.shm ? "/" : "", bench_shm_kind_name(r->job.shm),
	         r->job.signal ? " " : "", bench_signal_label(&r->job),
	         r->job.width, r->job.height, r->job.clients,
	         r->job.clients == 1 ? "" : "s", dmg,
	         (double)(bench_now_ns() - t_start) / 1e9);
}

static void report_failure(const struct bench_row *r)
{
	if (!r->error[0])
		return;
	progress(NULL);
	fprintf(stderr, BENCH_NAME ": %s %ux%u: %s\n",
	        bench_mode_names[r->job.mode], r->job.width, r->job.height,
	        r->error);
}

static void on_signal(int sig)
{
	bench_run_kill_on_signal();
	bench_spawn_cleanup_on_signal();
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(int argc, char **argv)
{
	struct bench_server server = { .out_fd = -1 }, spinner = { .out_fd = -1 };
	struct bench_config cfg = { 0 };
	struct bench_x11 x11 = { 0 };
	struct options o;
	struct bench_row *rows = NULL;
	struct bench_running **runs = NULL;
	const struct bench_row *first = NULL;
	double wake_p50 = NAN, wake_p99 = NAN, *wake50 = NULL, *wake99 = NULL;
	size_t n_wake = 0;
	uint64_t t_start = bench_now_ns();
	size_t n = 0, failed = 0;
	char err[512], spin_err[512] = "", sys_err[512] = "";
	int rc, want_spinner = 0;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : 2;
	if (build_rows(&o, &rows, &n) < 0) {
		fprintf(stderr, BENCH_NAME ": out of memory\n");
		return 1;
	}
	if (n == 0) {
		fprintf(stderr, BENCH_NAME ": no mode selected\n");
		free(rows);
		return 2;
	}
	progress_on = isatty(STDERR_FILENO);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);

	cfg.buffers = o.buffers;
	cfg.frames = o.frames;
	cfg.seconds = o.seconds;
	cfg.rounds = o.repeat;
	cfg.warmup_seconds = o.warmup;
	cfg.e2e_only = o.e2e_only;
	cfg.syscall_event = bench_sys_event(sys_err, sizeof(sys_err));

	rc = 1;
	for (size_t i = 0; i < n; i++)
		want_spinner |= rows[i].job.spin_us > 0;
	for (size_t i = 0; i < n; i++)
		if (is_shmframe(rows[i].job.mode)) {
			if (o.server) {
				cfg.server_addr = cfg.spin_server_addr = o.server;
				cfg.server_pid = cfg.spin_server_pid = bench_addr_pid(o.server);
				break;
			}
			/* Spinning off, so that the other rows are not measured
			 * with a server that spins by default. */
			progress("starting shmframe-server");
			if (bench_server_start(&server, 0, err, sizeof(err)) < 0) {
				progress(NULL);
				fprintf(stderr, BENCH_NAME ": %s\n", err);
				goto out;
			}
			cfg.server_addr = server.addr;
			cfg.server_pid = server.pid;
			/* Without it only the ring+spin rows fail. */
			if (want_spinner &&
			    bench_server_start(&spinner, (long)o.spin_us, spin_err,
			                       sizeof(spin_err)) == 0) {
				cfg.spin_server_addr = spinner.addr;
				cfg.spin_server_pid = spinner.pid;
			}
			break;
		}
	if (o.x11) {
		uint32_t ww = 0, wh = 0;

		/* The largest frame any x11 row sends. */
		for (size_t i = 0; i < n; i++)
			if ((rows[i].job.mode == BENCH_X11_PUTIMAGE ||
			     rows[i].job.mode == BENCH_X11_SHM) &&
			    (uint64_t)rows[i].job.width * rows[i].job.height >
			    (uint64_t)ww * wh) {
				ww = rows[i].job.width;
				wh = rows[i].job.height;
			}
		progress("starting the X server");
		if (bench_x11_open(&x11, ww, wh, err, sizeof(err)) < 0) {
			progress(NULL);
			fprintf(stderr, BENCH_NAME ": %s\n", err);
			goto out;
		}
		cfg.x11_display = x11.display;
	}

	runs = calloc(n, sizeof(*runs));
	wake50 = calloc(cfg.rounds, sizeof(double));
	wake99 = calloc(cfg.rounds, sizeof(double));
	if (!runs || !wake50 || !wake99) {
		fprintf(stderr, BENCH_NAME ": out of memory\n");
		goto out;
	}

	/* Every row's clients first, then the rounds, then the checks. */
	for (size_t i = 0; i < n; i++) {
		const struct bench_server *srv = rows[i].job.spin_us ? &spinner : &server;

		progress_row("starting", i, n, &rows[i], t_start);
		if (rows[i].job.spin_us && !o.server && !cfg.spin_server_addr)
			snprintf(rows[i].error, sizeof(rows[i].error),
			         "no spinning server: %.400s", spin_err);
		else if (is_shmframe(rows[i].job.mode) && srv->pid &&
		         !bench_process_alive(srv->pid))
			snprintf(rows[i].error, sizeof(rows[i].error),
			         "shmframe-server has exited");
		else
			bench_row_start(&cfg, &rows[i], &runs[i]);
		report_failure(&rows[i]);
		bench_server_drain(&server);
		bench_server_drain(&spinner);
	}
	for (unsigned round = 0; round < cfg.rounds; round++) {
		char what[32];

		/* The floor every latency is compared with, measured among the
		 * rows like any of them. */
		progress("round %u/%u: wake-up round trip", round + 1, cfg.rounds);
		if (bench_wakeup_rtt(1000, &wake50[n_wake], &wake99[n_wake], err,
		                     sizeof(err)) == 0)
			n_wake++;
		else if (round == 0)
			fprintf(stderr, BENCH_NAME ": wake-up round trip: %s\n", err);
		snprintf(what, sizeof(what), "round %u/%u", round + 1, cfg.rounds);
		for (size_t i = 0; i < n; i++) {
			if (!runs[i])
				continue;
			progress_row(what, i, n, &rows[i], t_start);
			if (bench_row_round(runs[i]) < 0) {
				runs[i] = NULL;
				report_failure(&rows[i]);
			}
			bench_server_drain(&server);
			bench_server_drain(&spinner);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!runs[i])
			continue;
		progress_row("checking", i, n, &rows[i], t_start);
		bench_row_finish(runs[i]);
		runs[i] = NULL;
		report_failure(&rows[i]);
	}
	for (size_t i = 0; i < n; i++)
		failed += !rows[i].done;
	wake_p50 = bench_median(wake50, n_wake);
	wake_p99 = bench_median(wake99, n_wake);
	progress(NULL);

	print_table(rows, n);
	print_signalling(rows, n, cfg.syscall_event < 0 ? sys_err : NULL);
	print_ratios(rows, n, &o);
	printf("\nwake-up round trip (1-byte ping-pong between two processes): "
	       "p50 %.1f µs, p99 %.1f µs\n", wake_p50, wake_p99);
	if (want_spinner && o.server)
		printf("with --server, only the clients of the ring+spin rows were "
		       "told to spin; the server spins as it was started\n");
	print_targets(rows, n, &o, wake_p50);

	rc = failed ? 1 : 0;
	if (o.csv && write_csv(o.csv, rows, n) < 0)
		rc = 1;
	if (o.plot && draw_chart(o.csv, o.plot, rows, n) < 0)
		rc = 1;

	for (size_t i = 0; i < n && !first; i++)
		if (rows[i].done && rows[i].job.mode == BENCH_SHM_LATCH)
			first = &rows[i];
	for (size_t i = 0; i < n && !first; i++)
		if (rows[i].done && is_shmframe(rows[i].job.mode))
			first = &rows[i];
	printf("\nrows=%zu failed=%zu transport=%s", n, failed,
	       first ? first->transport : "none");
	if (first && first->shm[0])
		printf(" shm=%s", first->shm);
	if (first && first->signal[0])
		printf(" signal=%s", bench_signal_label(&first->job));
	printf(" wakeup_p50_us=%.1f seconds=%.1f\n", wake_p50,
	       (double)(bench_now_ns() - t_start) / 1e9);

out:
	fflush(stdout);
	for (size_t i = 0; runs && i < n; i++)
		bench_row_abort(runs[i]);
	free(runs);
	free(wake50);
	free(wake99);
	bench_x11_close(&x11);
	bench_server_stop(&spinner);
	bench_server_stop(&server);
	bench_sys_end();
	free(rows);
	return rc;
}
