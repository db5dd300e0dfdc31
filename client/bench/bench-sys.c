/*
 * bench-sys.c: how many syscalls a process makes and how often it sleeps.
 *
 * Syscalls are counted the way `perf stat -e raw_syscalls:sys_enter`
 * counts them: a counting perf event on that tracepoint, one per thread.
 * A running counter costs the counted thread about a tenth of a
 * microsecond per syscall, unlike strace or perf trace (25-35 µs each
 * here), which would change what they measure: whether a ring's consumer
 * is still awake depends on how long its producer's syscalls take.  A
 * counter runs only during the pass it measures.
 *
 * Sleeps are the voluntary context switches (/proc/PID/task/TID/status,
 * getrusage for ourselves): a thread that blocks in epoll_wait, poll or a
 * futex switches out once and needs one wake-up to run again.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench-private.h"

/* Open for the whole run: see bench_sys_event. */
static struct bench_sys keeper;

int bench_sys_event(char *err, size_t errlen)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
		"/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
	};
	int id = -1;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && id < 0; i++) {
		FILE *f = fopen(paths[i], "re");

		if (!f)
			continue;
		if (fscanf(f, "%d", &id) != 1)
			id = -1;
		fclose(f);
	}
	if (id < 0) {
		snprintf(err, errlen, "no raw_syscalls:sys_enter tracepoint (is "
		         "tracefs mounted on /sys/kernel/tracing?)");
		return -1;
	}
	/* A counter on ourselves needs the same permission as one on a
	 * child of ours.  Kept: while one counter is open the kernel keeps
	 * the tracepoint's probe, and opening or closing another costs some
	 * 20 µs instead of the 20 ms of registering it again. */
	bench_sys_close(&keeper);
	if (bench_sys_open(&keeper, id, 0) < 0) {
		snprintf(err, errlen, "perf_event_open(raw_syscalls:sys_enter): %s "
		         "(needs root, CAP_PERFMON or kernel.perf_event_paranoid "
		         "<= 1)", strerror(errno));
		return -1;
	}
	return id;
}

void bench_sys_end(void)
{
	bench_sys_close(&keeper);
}

/* A stopped counter on thread tid (0: the caller). */
static int open_counter(int event, pid_t tid)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_TRACEPOINT;
	a.size = sizeof(a);
	a.config = (uint64_t)event;
	a.disabled = 1;
	return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1,
	                    PERF_FLAG_FD_CLOEXEC);
}

static int add_fd(struct bench_sys *s, int fd)
{
	if (fd < 0)
		return -1;
	bench_track_fd(fd);
	s->fds[s->n++] = fd;
	return 0;
}

int bench_sys_open(struct bench_sys *s, int event, pid_t pid)
{
	char path[64];
	struct dirent *de;
	int err = ENOENT;
	DIR *d;

	s->n = 0;
	s->pid = pid;
	if (event < 0) {
		errno = ENOTSUP;
		return -1;
	}
	if (pid == 0)
		return add_fd(s, open_counter(event, 0));
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL && s->n < BENCH_SYS_TASKS) {
		if (de->d_name[0] == '.')
			continue;
		/* A thread that has just exited is no loss. */
		if (add_fd(s, open_counter(event, (pid_t)atoi(de->d_name))) < 0)
			err = errno;
	}
	closedir(d);
	if (s->n == 0) {
		errno = err;
		return -1;
	}
	return 0;
}

void bench_sys_start(struct bench_sys *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		ioctl(s->fds[i], PERF_EVENT_IOC_RESET, 0);
		ioctl(s->fds[i], PERF_EVENT_IOC_ENABLE, 0);
	}
}

int bench_sys_stop(struct bench_sys *s, uint64_t *n)
{
	uint64_t total = 0;
	int rc = s->n ? 0 : -1;

	for (unsigned i = 0; i < s->n; i++) {
		uint64_t v;

		ioctl(s->fds[i], PERF_EVENT_IOC_DISABLE, 0);
		if (read(s->fds[i], &v, sizeof(v)) != (ssize_t)sizeof(v))
			rc = -1;
		else
			total += v;
	}
	/* The DISABLE ioctl entered the kernel while the counter ran. */
	if (s->pid == 0 && total > 0)
		total--;
	*n = total;
	return rc;
}

void bench_sys_close(struct bench_sys *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		bench_untrack_fd(s->fds[i]);
		close(s->fds[i]);
	}
	s->n = 0;
}

int bench_sleeps_self(uint64_t *n)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return -1;
	*n = (uint64_t)ru.ru_nvcsw;
	return 0;
}

int bench_sleeps_pid(pid_t pid, uint64_t *n)
{
	char path[96], line[128];
	struct dirent *de;
	uint64_t total = 0;
	int found = 0;
	DIR *d;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/status", (int)pid,
		         de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			uint64_t v;

			if (sscanf(line, "voluntary_ctxt_switches: %" SCNu64, &v) == 1) {
				total += v;
				found = 1;
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
	if (!found)
		return -1;
	*n = total;
	return 0;
}
