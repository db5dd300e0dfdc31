/*
 * bench-spawn.c: starting and stopping the processes the benchmark needs
 * (its own shmframe-server, Xvfb), and tidying up after them when the run
 * is interrupted.
 *
 * Every helper gets PR_SET_PDEATHSIG, so that it goes away with us even
 * when we are killed without a chance to clean up.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-private.h"
#include "spawn-server.h"

#define SERVER_READY_MS 10000

/* What the signal handler removes: a slot is set while a server of ours
 * runs (one plain, one that spins). */
static struct {
	char path[128];
	char dir[64];
} cleanup_files[2];
#define N_CLEANUP_FILES (sizeof(cleanup_files) / sizeof(cleanup_files[0]))
static volatile pid_t cleanup_pids[4];
#define N_CLEANUP (sizeof(cleanup_pids) / sizeof(cleanup_pids[0]))

/* Waits up to about timeout_ms for pid to exit, then kills it for good.
 * Only async-signal-safe calls: it also runs in the signal handler. */
static void reap(pid_t pid, int timeout_ms)
{
	const struct timespec tick = { 0, 5000000 };

	for (int waited = 0;; waited += 5) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return;
		if (waited >= timeout_ms)
			break;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Only async-signal-safe calls: this runs in a signal handler.  The
 * helpers get SIGTERM so that they remove their own sockets (Xvfb), and
 * are reaped so that none is left a zombie. */
void bench_spawn_cleanup_on_signal(void)
{
	size_t n = N_CLEANUP;

	for (size_t i = 0; i < n; i++)
		if (cleanup_pids[i] > 0)
			kill(cleanup_pids[i], SIGTERM);
	for (size_t i = 0; i < n; i++)
		if (cleanup_pids[i] > 0)
			reap(cleanup_pids[i], 2000);
	for (size_t i = 0; i < N_CLEANUP_FILES; i++) {
		if (cleanup_files[i].path[0])
			unlink(cleanup_files[i].path);
		if (cleanup_files[i].dir[0])
			rmdir(cleanup_files[i].dir);
	}
}

/* The signal handler no longer removes s's socket and directory. */
static void forget_files(const struct bench_server *s)
{
	for (size_t i = 0; i < N_CLEANUP_FILES; i++)
		if (s->dir[0] && strcmp(cleanup_files[i].dir, s->dir) == 0)
			cleanup_files[i].dir[0] = cleanup_files[i].path[0] = '\0';
}

/* In the child after fork: die with the parent (parent is its pid before
 * the fork; if it is already gone, go too). */
static void die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
}

static int executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* The directory this program is in: 0, or -1. */
static int self_dir(char *out, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", out, len - 1);
	char *slash;

	if (n <= 0)
		return -1;
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}

/* $SHMFRAME_SERVER_BIN, else beside us in the build tree
 * (build/client/bench -> build/server), else beside us when installed. */
static int find_server(char *out, size_t len)
{
	const char *env = getenv("SHMFRAME_SERVER_BIN");
	char self[PATH_MAX];

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return executable(out) ? 0 : -1;
	}
	if (self_dir(self, sizeof(self)) < 0)
		return -1;
	if (snprintf(out, len, "%s/../../server/shmframe-server", self) < (int)len &&
	    executable(out))
		return 0;
	if (snprintf(out, len, "%s/shmframe-server", self) < (int)len &&
	    executable(out))
		return 0;
	return -1;
}

/* 1 when the server's --help lists option (a server older than the
 * option rejects it: we ask first rather than fail to start it). */
static int server_has_option(const char *bin, const char *option)
{
	const size_t olen = strlen(option);
	char buf[8192];
	size_t have = 0;
	struct sf_spawned child;
	int found = 0;

	if (sf_spawn_server(&child, (const char *const[]){ bin, "--help", NULL },
	                    SIGKILL) < 0)
		return 0;
	/* Read it all: a server blocked on a full pipe would never exit.
	 * The window keeps the last olen bytes, so that an option split
	 * between two reads is still found. */
	for (;;) {
		ssize_t r = read(child.out_fd, buf + have, sizeof(buf) - 1 - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = '\0';
		if (strstr(buf, option))
			found = 1;
		if (have > olen) {
			memmove(buf, buf + have - olen, olen);
			have = olen;
		}
	}
	close(child.out_fd);
	reap(child.pid, 2000);
	return found;
}

int bench_server_start(struct bench_server *s, long spin_us, char *err,
                       size_t errlen)
{
	char bin[PATH_MAX], line[512], spin[24];
	const char *argv[10] = { NULL };
	struct sf_spawned child;
	size_t argc = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	s->out_fd = -1;
	if (find_server(bin, sizeof(bin)) < 0) {
		snprintf(err, errlen, "cannot find shmframe-server (tried "
		         "$SHMFRAME_SERVER_BIN, ../../server/ and the directory "
		         "of this program); build it or pass --server ADDR");
		return -1;
	}
	argv[argc++] = bin;
	argv[argc++] = "--display";
	argv[argc++] = "none";
	/* Rings offered whatever $SHMFRAME_SIGNAL says: each client asks
	 * for its row's path itself. */
	if (server_has_option(bin, "--signal")) {
		argv[argc++] = "--signal";
		argv[argc++] = "ring";
	}
	if (spin_us >= 0 && server_has_option(bin, "--spin-us")) {
		snprintf(spin, sizeof(spin), "%ld", spin_us);
		argv[argc++] = "--spin-us";
		argv[argc++] = spin;
	} else if (spin_us > 0) {
		snprintf(err, errlen, "%s has no --spin-us: it cannot spin", bin);
		return -1;
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/shmframe-bench-XXXXXX");
	if (!mkdtemp(s->dir)) {
		snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s/server.sock", s->dir);
	snprintf(s->addr, sizeof(s->addr), "unix:%s", s->path);
	for (size_t i = 0; i < N_CLEANUP_FILES; i++)
		if (!cleanup_files[i].dir[0]) {
			/* The path first: the handler may run between the two. */
			snprintf(cleanup_files[i].path, sizeof(cleanup_files[i].path),
			         "%s", s->path);
			snprintf(cleanup_files[i].dir, sizeof(cleanup_files[i].dir),
			         "%s", s->dir);
			break;
		}
	argv[argc++] = "--listen";
	argv[argc++] = s->addr;
	rc = sf_spawn_server(&child, argv, SIGTERM);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start %s: %s", bin, strerror(-rc));
		goto err_dir;
	}
	s->pid = child.pid;
	s->out_fd = child.out_fd;
	bench_pids_add(cleanup_pids, N_CLEANUP, s->pid);
	bench_track_fd(s->out_fd);

	rc = sf_spawn_wait_ready(&child, SERVER_READY_MS, line, sizeof(line));
	if (rc == -ETIMEDOUT)
		snprintf(err, errlen, "%s did not print its ready line "
		         "within %d s", bin, SERVER_READY_MS / 1000);
	else if (rc == -EPIPE)
		snprintf(err, errlen, "%s exited before it was ready", bin);
	else if (rc == -EPROTO)
		snprintf(err, errlen, "%s said \"%s\" instead of its ready "
		         "line", bin, line);
	else if (rc < 0)
		snprintf(err, errlen, "reading from %s: %s", bin, strerror(-rc));
	if (rc < 0)
		goto err_server;
	/* Drained between rows from now on (bench_server_drain). */
	fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
	return 0;

err_server:
	bench_server_stop(s);
	return -1;
err_dir:
	forget_files(s);
	rmdir(s->dir);
	return -1;
}

void bench_server_drain(struct bench_server *s)
{
	char buf[4096];

	if (s->out_fd < 0)
		return;
	/* The pipe is non-blocking: read until it is empty, so that a
	 * chatty server never blocks on a full pipe. */
	while (read(s->out_fd, buf, sizeof(buf)) > 0)
		;
}

int bench_process_alive(pid_t pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

void bench_stop_process(pid_t pid, int timeout_ms)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	reap(pid, timeout_ms);
	bench_pids_remove(cleanup_pids, N_CLEANUP, pid);
}

void bench_server_stop(struct bench_server *s)
{
	if (s->pid > 0)
		bench_stop_process(s->pid, 2000);
	s->pid = 0;
	if (s->out_fd >= 0) {
		bench_untrack_fd(s->out_fd);
		close(s->out_fd);
	}
	s->out_fd = -1;
	forget_files(s);
	if (s->path[0])
		unlink(s->path);
	if (s->dir[0])
		rmdir(s->dir);
	s->path[0] = s->dir[0] = '\0';
}

pid_t bench_spawn(char *const argv[], int keep_fd)
{
	pid_t parent = getpid(), pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		die_with_parent(parent);
		bench_close_inherited();
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		/* dup2 clears close-on-exec on the copy. */
		if (keep_fd >= 0 && keep_fd != 3 && dup2(keep_fd, 3) < 0)
			_exit(127);
		if (keep_fd == 3)
			fcntl(3, F_SETFD, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	bench_pids_add(cleanup_pids, N_CLEANUP, pid);
	return pid;
}

/* The script is beside us in the build tree and when installed. */
int bench_chart_draw(const char *csv, const char *png, char *err,
                     size_t errlen)
{
	char self[PATH_MAX], script[PATH_MAX + 32];
	pid_t parent = getpid(), pid;
	int status;

	if (self_dir(self, sizeof(self)) < 0 ||
	    snprintf(script, sizeof(script), "%s/shmframe-bench-chart", self) >=
	    (int)sizeof(script) || access(script, R_OK) < 0) {
		snprintf(err, errlen, "no chart: shmframe-bench-chart is not beside "
		         "this program (the figures are in the CSV)");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		die_with_parent(parent);
		execl("/bin/sh", "sh", script, csv, png, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "no chart: shmframe-bench-chart failed "
		         "(the figures are in the CSV)");
		return -1;
	}
	return 0;
}
