/*
 * spawn-server.c: starting shmframe-server and waiting for its ready line
 * (spawn-server.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "spawn-server.h"

int sf_spawn_server(struct sf_spawned *s, const char *const argv[],
                    int death_signal)
{
	pid_t parent = getpid();
	int out[2];

	s->pid = 0;
	s->out_fd = -1;
	if (pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	s->pid = fork();
	if (s->pid < 0) {
		int err = errno;

		close(out[0]);
		close(out[1]);
		s->pid = 0;
		return -err;
	}
	if (s->pid == 0) {
		/* Dies with us even when we are killed without a chance to
		 * clean up; if we are already gone, go too. */
		prctl(PR_SET_PDEATHSIG, death_signal);
		if (getppid() != parent)
			_exit(127);
		if (dup2(out[1], STDOUT_FILENO) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "%s: cannot run %s: %s\n",
		        program_invocation_short_name, argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	s->out_fd = out[0];
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sf_spawn_wait_ready(struct sf_spawned *s, int timeout_ms, char *line,
                        size_t cap)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t have = 0;

	line[0] = '\0';
	/* A byte at a time: what follows the line is not ours to take. */
	while (have + 1 < cap) {
		struct pollfd pfd = { .fd = s->out_fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t r;
		int rc;

		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		r = read(s->out_fd, line + have, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		if (line[have] == '\n')
			break;
		line[++have] = '\0';
	}
	line[have] = '\0';
	if (strncmp(line, "ready", 5) == 0 && (line[5] == ' ' || !line[5]))
		return 0;
	return -EPROTO;
}

int sf_spawn_ready_addr(const char *line, const char *kind, char *out,
                        size_t cap)
{
	size_t klen = strlen(kind);

	for (const char *p = strstr(line, " listen="); p;
	     p = strstr(p + 1, " listen=")) {
		const char *addr = p + strlen(" listen=");
		size_t n = strcspn(addr, " \n");

		if (strncmp(addr, kind, klen) != 0)
			continue;
		if (n >= cap)
			return -ENAMETOOLONG;
		memcpy(out, addr, n);
		out[n] = '\0';
		return 0;
	}
	return -ENOENT;
}
