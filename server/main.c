/*
 * shmframe-server: options, start-up, signals, and the loop that runs the
 * server (server.c) until a signal stops it.
 *
 * Signals come through a signalfd into the event loop: SIGINT and SIGTERM
 * stop the server cleanly (everything freed, socket files unlinked, exit
 * 0), SIGUSR1 writes PNG snapshots when --dump-dir is given.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "display.h"
#include "server-private.h"

#ifndef SHMFRAME_VERSION_STRING
#define SHMFRAME_VERSION_STRING "unknown"
#endif

#define EXIT_USAGE 2
#define MAX_LISTEN 16
#define MAX_ALLOW_UIDS 64

struct options {
	const char *listen[MAX_LISTEN];
	unsigned n_listen;
	enum sf_display_kind display;
	const char *dump_dir;
	unsigned dump_every;
	uid_t allow_uids[MAX_ALLOW_UIDS];
	unsigned n_allow_uids;
	const char *auth_file;
	bool verbose;
	struct sf_limits limits;
	struct sf_server_limits glimits;
};

/* The signal fd's watch, and what it sets. */
struct signals {
	struct sf_watch watch;
	int fd;
	struct sf_server *server;
	bool stop;
};

/* ---- options ---------------------------------------------------------- */

static void usage(FILE *to)
{
	fputs("Usage: " SF_PROG " [OPTION]...\n"
	      "Show the surfaces of shmframe clients in windows, or keep them "
	      "headless.\n"
	      "\n"
	      "  -l, --listen ADDR     listen on ADDR: unix:PATH, tcp:HOST:PORT "
	      "(port 0:\n"
	      "                        any free one) or :N (display N); may "
	      "repeat;\n"
	      "                        default :0\n"
	      "  -d, --display KIND    auto (default: windows when a display is "
	      "there),\n"
	      "                        sdl, or none (headless)\n"
	      "      --dump-dir DIR    write surface-CLIENT-SURFACE.png snapshots "
	      "to DIR\n"
	      "                        on SIGUSR1\n"
	      "      --dump-every N    ... and every N frames of each surface\n"
	      "      --allow-uid UID   also accept Unix clients of this uid; may "
	      "repeat\n"
	      "      --auth FILE       TCP cookie file (default $SHMFRAME_AUTH, "
	      "else\n"
	      "                        RUNTIME_DIR/cookie; created when missing)\n"
	      "\n"
	      "Limits (a client over one gets ERROR LIMIT, or SLOW, and is "
	      "disconnected;\n"
	      "BYTES take a K, M or G suffix):\n"
	      "      --max-clients N   clients at once (default 256)\n"
	      "      --max-size WxH    largest surface (default 16384x16384)\n"
	      "      --max-surfaces N  surfaces per client (default 64)\n"
	      "      --max-segments N  segments per client (default 64)\n"
	      "      --max-segment-size BYTES  largest segment (default 1G)\n"
	      "      --max-mapped BYTES        segment bytes per client "
	      "(default 2G)\n"
	      "      --max-mapped-total BYTES  ... for all clients together "
	      "(default 32G)\n"
	      "      --max-surface-memory BYTES  pixels (width*height*4) of "
	      "a client's\n"
	      "                        surfaces (default 4G)\n"
	      "      --max-surface-memory-total BYTES  ... of all clients "
	      "together\n"
	      "                        (default half the RAM)\n"
	      "      --max-message BYTES   largest request, 512 to 65536 "
	      "(default 65536)\n"
	      "      --max-inflight N  PUT_IMAGE/GET_IMAGE unanswered per "
	      "client (default 64)\n"
	      "      --max-output BYTES    events queued for a client that "
	      "does not read\n"
	      "                        them, then ERROR SLOW (default 64M, at "
	      "least 4K)\n"
	      "      --max-output-total BYTES  ... for all clients together; "
	      "over it, the\n"
	      "                        client holding the most gets ERROR SLOW "
	      "(default\n"
	      "                        256M, at least 4K)\n"
	      "      --timeout SECONDS time to send HELLO, and to complete a "
	      "started message\n"
	      "                        or bring 64K of it (default 10; then "
	      "ERROR SLOW)\n"
	      "\n"
	      "  -v, --verbose         log connections, disconnections and "
	      "errors\n"
	      "  -h, --help            show this help and exit\n"
	      "  -V, --version         show the version and exit\n"
	      "\n"
	      "Once every listener is up, one line goes to standard output:\n"
	      "  ready listen=ADDR [listen=ADDR]...\n", to);
}

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(SF_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" SF_PROG " --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* A byte count with an optional K, M or G (binary) suffix, min..max. */
static int parse_bytes(const char *s, uint64_t min, uint64_t max,
                       uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end || v > (UINT64_MAX >> shift))
		return -EINVAL;
	v <<= shift;
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

enum {
	OPT_DUMP_DIR = 256, OPT_DUMP_EVERY, OPT_ALLOW_UID, OPT_AUTH,
	OPT_MAX_CLIENTS, OPT_MAX_SIZE, OPT_MAX_SURFACES, OPT_MAX_SEGMENTS,
	OPT_MAX_SEGMENT_SIZE, OPT_MAX_MAPPED, OPT_MAX_MAPPED_TOTAL,
	OPT_MAX_SURFACE_MEMORY, OPT_MAX_SURFACE_MEMORY_TOTAL,
	OPT_MAX_MESSAGE, OPT_MAX_INFLIGHT, OPT_MAX_OUTPUT,
	OPT_MAX_OUTPUT_TOTAL, OPT_TIMEOUT,
};

#define MAX_COUNT 65536u
#define MAX_INFLIGHT 4096u
/* The largest HELLO (296 bytes) and CREATE_SURFACE must always fit. */
#define MIN_MESSAGE 512u

static void default_limits(struct options *o)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t ram = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page
	                                     : 8ull << 30;

	o->limits = (struct sf_limits){
		.max_width = SF_MAX_DIMENSION,
		.max_height = SF_MAX_DIMENSION,
		.max_surfaces = 64,
		.max_segments = 64,
		.max_segment_size = 1ull << 30,
		.max_mapped = 2ull << 30,
		.max_message = SF_MAX_MESSAGE,
		.max_inflight = 64,
		.max_output = 64ull << 20,
	};
	o->glimits = (struct sf_server_limits){
		.max_clients = 256,
		.max_surface_memory = 4ull << 30,
		/* Pixels we copy cost our own memory: keep them to half the
		 * machine whatever the clients do. */
		.max_surface_memory_total = ram / 2 > (1ull << 30) ? ram / 2
		                                                    : 1ull << 30,
		.max_mapped_total = 32ull << 30,
		/* A client that reads its events holds a few hundred bytes;
		 * this is room for four that stopped, at max_output each. */
		.max_output_total = 256ull << 20,
		.timeout_ns = 10ull * 1000000000ull,
	};
}

/* The counts: 1 to MAX_COUNT (MAX_INFLIGHT for --max-inflight, whose
 * accounting takes memory per client). */
static int parse_count(int opt, const char *arg, struct options *o)
{
	unsigned long n;

	if (parse_uint(arg, MAX_COUNT, &n) < 0 || n == 0)
		return -EINVAL;
	switch (opt) {
	case OPT_MAX_CLIENTS: o->glimits.max_clients = (unsigned)n; break;
	case OPT_MAX_SURFACES: o->limits.max_surfaces = (uint32_t)n; break;
	case OPT_MAX_SEGMENTS: o->limits.max_segments = (uint32_t)n; break;
	case OPT_MAX_INFLIGHT:
		if (n > MAX_INFLIGHT)
			return -EINVAL;
		o->limits.max_inflight = (uint32_t)n;
		break;
	}
	return 0;
}

static void set_bytes(int opt, uint64_t b, struct options *o)
{
	switch (opt) {
	case OPT_MAX_SEGMENT_SIZE: o->limits.max_segment_size = b; break;
	case OPT_MAX_MAPPED: o->limits.max_mapped = b; break;
	case OPT_MAX_MAPPED_TOTAL: o->glimits.max_mapped_total = b; break;
	case OPT_MAX_SURFACE_MEMORY: o->glimits.max_surface_memory = b; break;
	case OPT_MAX_SURFACE_MEMORY_TOTAL:
		o->glimits.max_surface_memory_total = b;
		break;
	case OPT_MAX_OUTPUT: o->limits.max_output = b; break;
	case OPT_MAX_OUTPUT_TOTAL: o->glimits.max_output_total = b; break;
	}
}

/* WxH, each 1 to SF_MAX_DIMENSION. */
static int parse_size(const char *arg, struct sf_limits *lim)
{
	unsigned long w, h;
	char buf[32], *x;

	if (strlen(arg) >= sizeof buf)
		return -EINVAL;
	strcpy(buf, arg);
	x = strchr(buf, 'x');
	if (!x)
		return -EINVAL;
	*x = '\0';
	if (parse_uint(buf, SF_MAX_DIMENSION, &w) < 0 ||
	    parse_uint(x + 1, SF_MAX_DIMENSION, &h) < 0 || w == 0 || h == 0)
		return -EINVAL;
	lim->max_width = (uint32_t)w;
	lim->max_height = (uint32_t)h;
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "display", required_argument, NULL, 'd' },
		{ "dump-dir", required_argument, NULL, OPT_DUMP_DIR },
		{ "dump-every", required_argument, NULL, OPT_DUMP_EVERY },
		{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
		{ "auth", required_argument, NULL, OPT_AUTH },
		{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "max-surfaces", required_argument, NULL, OPT_MAX_SURFACES },
		{ "max-segments", required_argument, NULL, OPT_MAX_SEGMENTS },
		{ "max-segment-size", required_argument, NULL,
		  OPT_MAX_SEGMENT_SIZE },
		{ "max-mapped", required_argument, NULL, OPT_MAX_MAPPED },
		{ "max-mapped-total", required_argument, NULL,
		  OPT_MAX_MAPPED_TOTAL },
		{ "max-surface-memory", required_argument, NULL,
		  OPT_MAX_SURFACE_MEMORY },
		{ "max-surface-memory-total", required_argument, NULL,
		  OPT_MAX_SURFACE_MEMORY_TOTAL },
		{ "max-message", required_argument, NULL, OPT_MAX_MESSAGE },
		{ "max-inflight", required_argument, NULL, OPT_MAX_INFLIGHT },
		{ "max-output", required_argument, NULL, OPT_MAX_OUTPUT },
		{ "max-output-total", required_argument, NULL,
		  OPT_MAX_OUTPUT_TOTAL },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	uint64_t b;
	struct sf_addr a;
	int opt, li = 0;

	memset(o, 0, sizeof *o);
	o->display = SF_DISPLAY_AUTO;
	default_limits(o);
	/* Our own messages, with our own prefix rather than argv[0]. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":l:d:vhV", longopts, &li)) != -1) {
		switch (opt) {
		case 'l':
			if (o->n_listen == MAX_LISTEN)
				return usage_error("at most %d --listen", MAX_LISTEN);
			if (sf__addr_parse(optarg, &a) < 0 || !optarg[0])
				return usage_error("invalid address '%s' (expected "
				                   "unix:PATH, tcp:HOST:PORT or :N)", optarg);
			o->listen[o->n_listen++] = optarg;
			break;
		case 'd':
			if (strcmp(optarg, "auto") == 0)
				o->display = SF_DISPLAY_AUTO;
			else if (strcmp(optarg, "sdl") == 0)
				o->display = SF_DISPLAY_SDL;
			else if (strcmp(optarg, "none") == 0)
				o->display = SF_DISPLAY_NONE;
			else
				return usage_error("invalid display '%s' (expected auto, "
				                   "sdl or none)", optarg);
			break;
		case OPT_DUMP_DIR:
			if (!optarg[0])
				return usage_error("--dump-dir needs a directory");
			o->dump_dir = optarg;
			break;
		case OPT_DUMP_EVERY:
			if (parse_uint(optarg, UINT_MAX, &n) < 0 || n == 0)
				return usage_error("invalid --dump-every '%s' (expected a "
				                   "positive number)", optarg);
			o->dump_every = (unsigned)n;
			break;
		case OPT_ALLOW_UID:
			if (parse_uint(optarg, UINT32_MAX - 1, &n) < 0)
				return usage_error("invalid --allow-uid '%s'", optarg);
			if (o->n_allow_uids == MAX_ALLOW_UIDS)
				return usage_error("at most %d --allow-uid", MAX_ALLOW_UIDS);
			o->allow_uids[o->n_allow_uids++] = (uid_t)n;
			break;
		case OPT_AUTH:
			if (!optarg[0])
				return usage_error("--auth needs a file name");
			o->auth_file = optarg;
			break;
		case OPT_MAX_CLIENTS:
		case OPT_MAX_SURFACES:
		case OPT_MAX_SEGMENTS:
		case OPT_MAX_INFLIGHT:
			if (parse_count(opt, optarg, o) < 0)
				return usage_error("invalid --%s '%s' (expected 1 to %u)",
				                   longopts[li].name, optarg,
				                   opt == OPT_MAX_INFLIGHT ? MAX_INFLIGHT
				                                          : MAX_COUNT);
			break;
		case OPT_MAX_SIZE:
			if (parse_size(optarg, &o->limits) < 0)
				return usage_error("invalid --max-size '%s' (expected "
				                   "WxH, each 1 to %u)", optarg,
				                   SF_MAX_DIMENSION);
			break;
		case OPT_MAX_SEGMENT_SIZE:
		case OPT_MAX_MAPPED:
		case OPT_MAX_MAPPED_TOTAL:
		case OPT_MAX_SURFACE_MEMORY:
		case OPT_MAX_SURFACE_MEMORY_TOTAL:
		case OPT_MAX_OUTPUT:
		case OPT_MAX_OUTPUT_TOTAL: {
			/* Less output room than a few events would drop every
			 * client at its WELCOME. */
			bool out = opt == OPT_MAX_OUTPUT ||
			           opt == OPT_MAX_OUTPUT_TOTAL;

			if (parse_bytes(optarg, out ? 4096 : 1, UINT64_MAX, &b) < 0)
				return usage_error("invalid --%s '%s' (expected a number "
				                   "of bytes, K, M or G suffix%s)",
				                   longopts[li].name, optarg,
				                   out ? ", at least 4K" : "");
			set_bytes(opt, b, o);
			break;
		}
		case OPT_MAX_MESSAGE:
			if (parse_bytes(optarg, MIN_MESSAGE, SF_MAX_MESSAGE, &b) < 0 ||
			    b % 4)
				return usage_error("invalid --max-message '%s' (expected "
				                   "a multiple of 4 from %u to %u)", optarg,
				                   MIN_MESSAGE, SF_MAX_MESSAGE);
			o->limits.max_message = (uint32_t)b;
			break;
		case OPT_TIMEOUT: {
			char *end;
			double t;

			errno = 0;
			t = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(t >= 0.1 && t <= 3600))
				return usage_error("invalid --timeout '%s' (expected "
				                   "seconds, 0.1 to 3600)", optarg);
			o->glimits.timeout_ns = (uint64_t)(t * 1e9);
			break;
		}
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(SF_PROG " " SHMFRAME_VERSION_STRING "\n");
			return 0;
		case ':':
			return usage_error("option '%s' needs an argument",
			                   argv[optind - 1]);
		default:
			if (optopt)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->dump_every && !o->dump_dir)
		return usage_error("--dump-every needs --dump-dir");
	if (o->n_listen == 0)
		o->listen[o->n_listen++] = ":0";
	return -1;
}

/* ---- start-up --------------------------------------------------------- */

static bool any_tcp(const struct options *o)
{
	for (unsigned i = 0; i < o->n_listen; i++)
		if (strncmp(o->listen[i], "tcp:", 4) == 0)
			return true;
	return false;
}

static int setup_auth(struct sf_server *server, const struct options *o)
{
	char path[256];
	int err;

	if (o->auth_file) {
		snprintf(path, sizeof path, "%s", o->auth_file);
	} else {
		const char *env = getenv("SHMFRAME_AUTH");

		/* The default lives in the runtime directory: make it first. */
		if (!env || !env[0]) {
			char why[300];

			err = sf__runtime_dir_make(why, sizeof why);
			if (err) {
				sfs__log("cannot use the auth file: %s", why);
				return err;
			}
		}
		err = sf__auth_path(path, sizeof path);
		if (err) {
			sfs__log("auth file path too long");
			return err;
		}
	}
	return sfs__auth_load_or_create(server, path);
}

#ifdef SHMFRAME_HAVE_SDL
/* auto: windows when a window system is announced and answers. */
static bool try_auto_sdl(struct sf_server *server)
{
	const char *x11 = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
	char why[256] = "";

	if ((!x11 || !x11[0]) && (!wl || !wl[0]))
		return false;
	if (sfs__display_sdl_create(&server->display, why, sizeof why) == 0)
		return true;
	sfs__verbose(server, "no windows (%s): running headless", why);
	return false;
}

static int open_sdl(struct sf_server *server)
{
	char why[256] = "";
	int err = sfs__display_sdl_create(&server->display, why, sizeof why);

	if (err)
		sfs__log("cannot open the SDL display: %s", why);
	return err;
}
#else
static bool try_auto_sdl(struct sf_server *server)
{
	(void)server;
	return false;
}

static int open_sdl(struct sf_server *server)
{
	(void)server;
	sfs__log("--display sdl: this server was built without SDL");
	return -ENOTSUP;
}
#endif

static int setup_display(struct sf_server *server, enum sf_display_kind kind)
{
	int err;

	if (kind == SF_DISPLAY_AUTO && try_auto_sdl(server))
		return 0;
	if (kind == SF_DISPLAY_SDL)
		return open_sdl(server);
	err = sfs__display_none_create(&server->display);
	if (err)
		sfs__log("cannot set up the headless display: %s", strerror(-err));
	return err;
}

static void signal_event(struct sf_watch *w, uint32_t events)
{
	struct signals *sig = w->data;
	struct signalfd_siginfo si;

	(void)events;
	while (read(sig->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGUSR1) {
			if (sig->server->dump_dir)
				sfs__snapshot_all(sig->server);
			else
				sfs__verbose(sig->server, "SIGUSR1 without --dump-dir: "
				            "no snapshot written");
		} else {
			sig->stop = true;
		}
	}
}

static int setup_signals(struct signals *sig, struct sf_server *server)
{
	sigset_t set;
	int err;

	/* A dead peer must be an error from write, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	/* Blocked before SDL may start threads, so that they inherit it and
	 * every one of these reaches the signalfd. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sig->server = server;
	sig->stop = false;
	sig->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig->fd < 0)
		return -errno;
	err = sfs__loop_add(server->loop, &sig->watch, sig->fd, SF_LOOP_READ,
	                   signal_event, sig);
	if (err) {
		close(sig->fd);
		sig->fd = -1;
	}
	return err;
}

/* Snapshots hold screen contents: a directory made here is private, and
 * an existing one must be ours alone (see sfs__dump_dir_open). */
static int ensure_dump_dir(const char *dir)
{
	char why[300];
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int err = -errno;

		sfs__log("cannot create the dump directory %s: %s", dir,
		        strerror(-err));
		return err;
	}
	fd = sfs__dump_dir_open(dir, why, sizeof why);
	if (fd < 0) {
		sfs__log("%s: refusing to start", why);
		return fd;
	}
	close(fd);
	return 0;
}

static void print_ready(struct sf_server *server)
{
	struct sf_listener *l;

	fputs("ready", stdout);
	list_for_each(l, &server->listeners, struct sf_listener, link)
		printf(" listen=%s", l->text);
	putchar('\n');
	fflush(stdout);
}

/* ---- main loop -------------------------------------------------------- */

static int run(struct sf_server *server, struct signals *sig)
{
	while (!sig->stop)
		if (sfs__server_iterate(server, -1) < 0)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct sf_server server;
	struct signals sig = { .fd = -1 };
	int status = EXIT_FAILURE;
	int r = parse_options(argc, argv, &o);

	if (r >= 0)
		return r;

	memset(&server, 0, sizeof server);
	server.uid = getuid();
	server.allow_uids = o.allow_uids;
	server.n_allow_uids = o.n_allow_uids;
	server.dump_dir = o.dump_dir;
	server.dump_every = o.dump_every;
	server.verbose = o.verbose;
	server.limits = o.limits;
	server.glimits = o.glimits;

	r = sfs__server_init(&server);
	if (r < 0) {
		sfs__log("cannot create the event loop: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	if (setup_signals(&sig, &server) < 0) {
		sfs__log("cannot set up signal handling: %s", strerror(errno));
		goto out_server;
	}
	if (sfs__sigbus_guard_install() < 0) {
		sfs__log("cannot install the SIGBUS guard: %s", strerror(errno));
		goto out_signals;
	}
	if (o.dump_dir && ensure_dump_dir(o.dump_dir) < 0)
		goto out_signals;
	if (setup_display(&server, o.display) < 0)
		goto out_signals;
	if (any_tcp(&o) && setup_auth(&server, &o) < 0)
		goto out_signals;
	for (unsigned i = 0; i < o.n_listen; i++)
		if (sfs__listener_open(&server, o.listen[i]) < 0)
			goto out_signals;
	print_ready(&server);

	if (run(&server, &sig) == 0)
		status = EXIT_SUCCESS;

out_signals:
	if (sig.fd >= 0) {
		sfs__loop_remove(server.loop, &sig.watch);
		close(sig.fd);
	}
out_server:
	/* Clients, listeners, the display and the loop. */
	sfs__server_fini(&server);
	return status;
}
