/*
 * shmframe-server's command line: the usage text, the parsers of counts,
 * byte sizes and addresses, and the defaults of every limit.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "options.h"

#ifndef SHMFRAME_VERSION_STRING
#define SHMFRAME_VERSION_STRING "unknown"
#endif

#define EXIT_USAGE 2

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
	      "      --signal HOW      ring: frames and their events of 2.1 "
	      "clients go\n"
	      "                        through the rings of a control segment; "
	      "socket:\n"
	      "                        everything on the socket (default "
	      "$SHMFRAME_SIGNAL,\n"
	      "                        else ring)\n"
	      "      --spin-us N       look at the rings for up to N "
	      "microseconds (0 to\n"
	      "                        10000) before sleeping (default 50; 0 "
	      "with fewer\n"
	      "                        than 4 CPUs); while spinning, sockets "
	      "get a look\n"
	      "                        at least every 4 ms\n"
	      "      --input-socket PATH|none  take synthetic input (shmframe-input)\n"
	      "                        on the Unix socket PATH, or nowhere "
	      "(default: PATH.input\n"
	      "                        beside each unix:PATH listener, "
	      "RUNTIME_DIR/N.input\n"
	      "                        beside each :N); only the server's uid "
	      "and root may\n"
	      "                        use it, never an --allow-uid uid\n"
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
	      "  ready listen=ADDR [listen=ADDR]... [input=PATH]...\n", to);
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
	OPT_MAX_OUTPUT_TOTAL, OPT_TIMEOUT, OPT_SIGNAL, OPT_SPIN_US,
	OPT_INPUT_SOCKET,
};

#define MAX_SPIN_US 10000u
/* Spinning takes a CPU from everything else: only where there are a few
 * to spare. */
#define SPIN_MIN_CPUS 4
#define DEFAULT_SPIN_US 50u

/* --signal and SHMFRAME_SIGNAL: ring or socket, in any case, and the
 * library's auto (the variable is both sides'), which here is ring.  0,
 * or -EINVAL. */
static int parse_signal(const char *s, bool *socket_only)
{
	if (strcasecmp(s, "ring") == 0 || strcasecmp(s, "auto") == 0)
		*socket_only = false;
	else if (strcasecmp(s, "socket") == 0)
		*socket_only = true;
	else
		return -EINVAL;
	return 0;
}

#define MAX_COUNT 65536u
#define MAX_INFLIGHT 4096u
/* The largest HELLO (296 bytes) and CREATE_SURFACE must always fit. */
#define MIN_MESSAGE 512u

static void default_limits(struct sfs_options *o)
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
static int parse_count(int opt, const char *arg, struct sfs_options *o)
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

static void set_bytes(int opt, uint64_t b, struct sfs_options *o)
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

int sfs__options_parse(int argc, char **argv, struct sfs_options *o)
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
		{ "signal", required_argument, NULL, OPT_SIGNAL },
		{ "spin-us", required_argument, NULL, OPT_SPIN_US },
		{ "input-socket", required_argument, NULL, OPT_INPUT_SOCKET },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	uint64_t b;
	struct sf_addr a;
	const char *env;
	bool signal_given = false;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int opt, li = 0;

	memset(o, 0, sizeof *o);
	o->display = SF_DISPLAY_AUTO;
	o->spin_us = cpus >= SPIN_MIN_CPUS ? DEFAULT_SPIN_US : 0;
	default_limits(o);
	/* Our own messages, with our own prefix rather than argv[0]. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":l:d:vhV", longopts, &li)) != -1) {
		switch (opt) {
		case 'l':
			if (o->n_listen == SFS_MAX_LISTEN)
				return usage_error("at most %d --listen", SFS_MAX_LISTEN);
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
			if (o->n_allow_uids == SFS_MAX_ALLOW_UIDS)
				return usage_error("at most %d --allow-uid", SFS_MAX_ALLOW_UIDS);
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
		case OPT_SIGNAL:
			if (parse_signal(optarg, &o->signal_socket) < 0)
				return usage_error("invalid --signal '%s' (expected ring "
				                   "or socket)", optarg);
			signal_given = true;
			break;
		case OPT_SPIN_US:
			if (parse_uint(optarg, MAX_SPIN_US, &n) < 0)
				return usage_error("invalid --spin-us '%s' (expected 0 to "
				                   "%u)", optarg, MAX_SPIN_US);
			o->spin_us = (unsigned)n;
			break;
		case OPT_INPUT_SOCKET:
			if (!optarg[0])
				return usage_error("--input-socket needs a path or none");
			if (strlen(optarg) >= sizeof(((struct sockaddr_un *)0)->sun_path))
				return usage_error("--input-socket path too long: %s",
				                   optarg);
			o->input_socket = strcmp(optarg, "none") == 0 ? "" : optarg;
			break;
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
	/* The option wins; an empty variable counts as unset. */
	env = getenv("SHMFRAME_SIGNAL");
	if (!signal_given && env && env[0] &&
	    parse_signal(env, &o->signal_socket) < 0)
		return usage_error("invalid SHMFRAME_SIGNAL '%s' (expected ring or "
		                   "socket)", env);
	if (o->n_listen == 0)
		o->listen[o->n_listen++] = ":0";
	return -1;
}

