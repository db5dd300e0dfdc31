/*
 * bench-stats.c: clocks, CPU time of this and other processes, latency
 * samples and their percentiles.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bench-private.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_cpu_self_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
	       1000000000u +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) *
	       1000u;
}

/* Nanoseconds a task has run, from its schedstat (exact, unlike the clock
 * ticks of /proc/PID/stat). */
static int read_schedstat(const char *path, uint64_t *ns)
{
	FILE *f = fopen(path, "re");
	uint64_t v;
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%" SCNu64, &v) == 1;
	fclose(f);
	if (!ok)
		return -1;
	*ns = v;
	return 0;
}

/* Fallback: utime + stime of the whole process, in clock ticks. */
static uint64_t read_stat_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long ut, st;
	const char *p;
	FILE *f;
	size_t n;
	long hz = sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the
	 * last ')' before counting fields. */
	p = strrchr(buf, ')');
	if (!p || hz <= 0)
		return 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	           &ut, &st) != 2)
		return 0;
	return (uint64_t)(ut + st) * (1000000000u / (uint64_t)hz);
}

uint64_t bench_cpu_pid_ns(pid_t pid)
{
	char path[80];
	struct dirent *de;
	uint64_t total = 0, ns;
	int found = 0;
	DIR *d;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat",
		         (int)pid, de->d_name);
		if (read_schedstat(path, &ns) == 0) {
			total += ns;
			found = 1;
		}
	}
	closedir(d);
	return found ? total : read_stat_ticks(pid);
}

int bench_samples_add(struct bench_samples *s, double us)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		float *v;

		/* A pass at tens of thousands of frames a second for minutes
		 * would still fit; beyond this the samples stop growing. */
		if (cap > (size_t)1 << 24)
			return -ENOMEM;
		v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (float)us;
	return 0;
}

void bench_samples_free(struct bench_samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_percentile(float *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_float);
	rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

double bench_median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

pid_t bench_addr_pid(const char *addr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path;
	pid_t pid = 0;
	int fd;

	if (!addr || strncmp(addr, "unix:", 5) != 0)
		return 0;
	path = addr + 5;
	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
		pid = bench_peer_pid(fd);
	close(fd);
	return pid;
}

pid_t bench_peer_pid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    len != sizeof(cred))
		return 0;
	return cred.pid;
}
