/*
 * Shared by the client programs: option parsing, pacing, the summary line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool-common.h"

const struct sf_png_format sf__tool_png = {
	.order = SF_PNG_BGRA,
	.with_alpha = 1,
	.level = -1,
};

int sf__usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return 2;
}

/* The words of --transport, --shm and --signal, each at its enum's value. */
static const char *const transport_words[] = { "auto", "shm", "socket", NULL };
static const char *const shm_words[] = { "any", "memfd", "posix", "sysv", NULL };
static const char *const signal_words[] = { "auto", "ring", "socket", NULL };
static const char *const compress_words[] = { "auto", "none", "lz4", "zstd",
                                              NULL };
_Static_assert(SHMFRAME_TRANSPORT_SHM == 1 && SHMFRAME_TRANSPORT_SOCKET == 2 &&
               SHMFRAME_SHM_ANY == 0 && SHMFRAME_SHM_SYSV == 3 &&
               SHMFRAME_SIGNAL_RING == 1 && SHMFRAME_SIGNAL_SOCKET == 2 &&
               SHMFRAME_COMPRESS_NONE == 1 && SHMFRAME_COMPRESS_ZSTD == 3,
               "the words are not at their enum's values");

/* The index of text among words (NULL-terminated), or -1. */
static int word_index(const char *text, const char *const *words)
{
	for (int i = 0; words[i]; i++)
		if (strcmp(text, words[i]) == 0)
			return i;
	return -1;
}

static int conn_option(struct sf_conn_args *a, int opt, const char *arg,
                       char *why, size_t why_len)
{
	const char *const *words;
	const char *what, *list;
	int v;

	switch (opt) {
	case 's':
		a->server = arg;
		return 0;
	case 't':
		words = transport_words, what = "transport";
		list = "auto, shm or socket";
		break;
	case 'm':
		words = shm_words, what = "shm kind", list = "memfd, posix or sysv";
		break;
	case 'g':
		words = signal_words, what = "signalling";
		list = "auto, ring or socket";
		break;
	case 'z':
		words = compress_words, what = "compression";
		list = "auto, none, lz4 or zstd";
		break;
	default:
		return 1;
	}
	v = word_index(arg, words);
	if (v < 0) {
		snprintf(why, why_len, "unknown %s '%s' (%s)", what, arg, list);
		return -1;
	}
	if (opt == 't') {
		a->transport = (enum shmframe_transport)v;
		a->transport_set = true;
	} else if (opt == 'm') {
		a->shm = (enum shmframe_shm_kind)v;
		a->shm_set = true;
	} else if (opt == 'g') {
		a->signal = (enum shmframe_signal)v;
		a->signal_set = true;
	} else {
		a->compress = (enum shmframe_compress)v;
		a->compress_set = true;
	}
	return 0;
}

int sf__tool_option(const char *prog, struct sf_tool_args *a, int opt,
                    const char *arg, char **argv, void (*usage)(FILE *))
{
	char why[128];
	uint64_t v;

	switch (opt) {
	case 's':
	case 't':
	case 'm':
	case 'g':
	case 'z':
		if (conn_option(&a->conn, opt, arg, why, sizeof why))
			return sf__usage_error(prog, "%s", why);
		return -1;
	case 'f':
		if (sf__parse_uint(arg, 100000, &v))
			return sf__usage_error(prog, "--fps needs a number 0..100000, "
			                       "not '%s'", arg);
		a->fps = (unsigned)v;
		return -1;
	case 'b':
		if (sf__parse_uint(arg, 16, &v) || v == 0)
			return sf__usage_error(prog, "--buffers needs 1..16, not '%s'",
			                       arg);
		a->buffers = (unsigned)v;
		return -1;
	case 'T':
		a->title = arg;
		return -1;
	case 'o':
		a->readback = arg;
		return -1;
	case 'h':
		usage(stdout);
		return 0;
	case 'V':
		printf("%s %s\n", prog, shmframe_version());
		return 0;
	}
	return sf__usage_error(prog, "unknown or incomplete option '%s'",
	                       argv[optind - 1]);
}

struct shmframe_conn *sf__tool_connect(const char *prog,
                                       const struct sf_tool_args *a,
                                       struct shmframe_options *opts)
{
	struct shmframe_conn *conn;

	if (a->conn.transport_set)
		opts->transport = a->conn.transport;
	if (a->conn.shm_set)
		opts->shm = a->conn.shm;
	if (a->conn.signal_set)
		opts->signal = a->conn.signal;
	if (a->conn.compress_set)
		opts->compress = a->conn.compress;
	if (a->buffers)
		opts->buffers = a->buffers;
	opts->name = prog;
	conn = shmframe_connect(a->conn.server, opts);
	if (!conn || shmframe_conn_error(conn)) {
		fprintf(stderr, "%s: cannot connect: %s\n", prog,
		        conn ? shmframe_last_error(conn) : "out of memory");
		shmframe_disconnect(conn);
		return NULL;
	}
	return conn;
}

struct shmframe_surface *sf__tool_surface(const char *prog,
                                          const struct sf_tool_args *a,
                                          struct shmframe_conn *conn,
                                          uint32_t w, uint32_t h)
{
	struct shmframe_surface *s;

	s = shmframe_surface_create(conn, w, h, SHMFRAME_FORMAT_ARGB8888,
	                            a->title ? a->title : prog);
	if (!s)
		fprintf(stderr, "%s: cannot create a %ux%u surface: %s\n", prog, w,
		        h, sf__tool_why(conn, -errno));
	return s;
}

const char *sf__tool_why(struct shmframe_conn *conn, int err)
{
	return shmframe_conn_error(conn) ? shmframe_last_error(conn)
	                                 : shmframe_strerror(err);
}

int sf__tool_readback(const char *prog, const struct sf_tool_args *a,
                      struct shmframe_conn *conn, struct shmframe_surface *s,
                      uint32_t w, uint32_t h)
{
	uint8_t *px = malloc((size_t)w * h * 4);
	char err[1024];
	int r;

	if (!px) {
		fprintf(stderr, "%s: out of memory for the readback\n", prog);
		return -1;
	}
	r = shmframe_readback(s, 0, 0, w, h, px, w * 4);
	if (r) {
		fprintf(stderr, "%s: readback failed: %s\n", prog,
		        sf__tool_why(conn, r));
	} else if (sf__png_save(a->readback, &sf__tool_png, px, w, h, w * 4,
	                        err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", prog, err);
		r = -1;
	}
	free(px);
	return r ? -1 : 0;
}

int sf__parse_uint(const char *text, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!text[0] || text[0] == '-' || text[0] == '+')
		return -1;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int sf__parse_size(const char *text, uint32_t *w, uint32_t *h,
                   const char **rest)
{
	unsigned long a, b;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	a = strtoul(text, &end, 10);
	if (errno || (*end != 'x' && *end != 'X') || end[1] < '0' || end[1] > '9')
		return -1;
	b = strtoul(end + 1, &end, 10);
	if (errno || a == 0 || b == 0 || a > 16384 || b > 16384)
		return -1;
	if (rest)
		*rest = end;
	else if (*end)
		return -1;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

double sf__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sf__pace(double start, uint64_t k, unsigned fps)
{
	double when;
	struct timespec ts;

	if (fps == 0)
		return;
	when = start + (double)k / fps;
	if (when <= sf__now())
		return;
	ts.tv_sec = (time_t)when;
	ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
	/* A signal ends the sleep early so the caller can look at its flags. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

const char *sf__signal_name(const struct shmframe_conn *conn)
{
	return shmframe_signal(conn) == SHMFRAME_SIGNAL_RING ? "ring" : "socket";
}

const char *sf__compress_name(const struct shmframe_conn *conn)
{
	return compress_words[shmframe_compression(conn)];
}

void sf__print_quoted(const char *key, const char *text)
{
	printf(" %s=\"", key);
	for (const char *p = text; *p; p++)
		putchar(*p == '"' ? '\'' : (*p == '\n' || *p == '\r') ? ' ' : *p);
	putchar('"');
}

void sf__print_summary(struct shmframe_conn *conn, uint64_t frames,
                       uint32_t width, uint32_t height, double seconds,
                       const char *extra)
{
	const char *name = shmframe_transport_name(conn);
	const char *slash = strchr(name, '/');

	/* "shm/memfd" becomes transport=shm shm=memfd. */
	printf("frames=%llu transport=%.*s", (unsigned long long)frames,
	       slash ? (int)(slash - name) : (int)strlen(name), name);
	if (slash)
		printf(" shm=%s", slash + 1);
	printf(" signal=%s compress=%s", sf__signal_name(conn),
	       sf__compress_name(conn));
	printf(" width=%u height=%u seconds=%.3f fps=%.1f", width, height,
	       seconds, seconds > 0 ? (double)frames / seconds : 0.0);
	if (extra && extra[0])
		printf(" %s", extra);
	if (shmframe_transport(conn) == SHMFRAME_TRANSPORT_SOCKET) {
		struct shmframe_stats st;

		shmframe_get_stats(conn, &st);
		printf(" sent=%llu merged=%llu pixel_bytes=%llu payload_bytes=%llu "
		       "compress_ms=%.1f", (unsigned long long)st.frames_sent,
		       (unsigned long long)st.frames_merged,
		       (unsigned long long)st.pixel_bytes,
		       (unsigned long long)st.payload_bytes, st.compress_ns / 1e6);
	}
	sf__print_quoted("signal_reason", shmframe_signal_reason(conn));
	sf__print_quoted("reason", shmframe_transport_reason(conn));
	sf__print_quoted("compress_reason", shmframe_compression_reason(conn));
	putchar('\n');
	fflush(stdout);
}
