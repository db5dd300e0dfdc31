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

int sf__parse_transport(const char *text, enum shmframe_transport *out)
{
	if (strcmp(text, "auto") == 0)
		*out = SHMFRAME_TRANSPORT_AUTO;
	else if (strcmp(text, "shm") == 0)
		*out = SHMFRAME_TRANSPORT_SHM;
	else if (strcmp(text, "socket") == 0)
		*out = SHMFRAME_TRANSPORT_SOCKET;
	else
		return -1;
	return 0;
}

int sf__parse_shm(const char *text, enum shmframe_shm_kind *out)
{
	if (strcmp(text, "memfd") == 0)
		*out = SHMFRAME_SHM_MEMFD;
	else if (strcmp(text, "posix") == 0)
		*out = SHMFRAME_SHM_POSIX;
	else if (strcmp(text, "sysv") == 0)
		*out = SHMFRAME_SHM_SYSV;
	else if (strcmp(text, "any") == 0)
		*out = SHMFRAME_SHM_ANY;
	else
		return -1;
	return 0;
}

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

int sf__conn_option(struct sf_conn_args *a, int opt, const char *arg,
                    char *why, size_t why_len)
{
	switch (opt) {
	case 's':
		a->server = arg;
		return 0;
	case 't':
		if (sf__parse_transport(arg, &a->transport)) {
			snprintf(why, why_len, "unknown transport '%s' (auto, shm or "
			         "socket)", arg);
			return -1;
		}
		a->transport_set = true;
		return 0;
	case 'm':
		if (sf__parse_shm(arg, &a->shm)) {
			snprintf(why, why_len, "unknown shm kind '%s' (memfd, posix or "
			         "sysv)", arg);
			return -1;
		}
		a->shm_set = true;
		return 0;
	}
	return 1;
}

void sf__conn_apply(const struct sf_conn_args *a, struct shmframe_options *opts)
{
	if (a->transport_set)
		opts->transport = a->transport;
	if (a->shm_set)
		opts->shm = a->shm;
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

void sf__print_summary(struct shmframe_conn *conn, uint64_t frames,
                       uint32_t width, uint32_t height, double seconds,
                       const char *extra)
{
	const char *name = shmframe_transport_name(conn);
	const char *slash = strchr(name, '/');
	const char *reason = shmframe_transport_reason(conn);

	/* "shm/memfd" becomes transport=shm shm=memfd. */
	printf("frames=%llu transport=%.*s", (unsigned long long)frames,
	       slash ? (int)(slash - name) : (int)strlen(name), name);
	if (slash)
		printf(" shm=%s", slash + 1);
	printf(" width=%u height=%u seconds=%.3f fps=%.1f", width, height,
	       seconds, seconds > 0 ? (double)frames / seconds : 0.0);
	if (extra && extra[0])
		printf(" %s", extra);
	/* The reason is free text: keep the line one line with one pair of
	 * quotes. */
	printf(" reason=\"");
	for (const char *p = reason; *p; p++)
		putchar(*p == '"' ? '\'' : (*p == '\n' || *p == '\r') ? ' ' : *p);
	printf("\"\n");
	fflush(stdout);
}
