/*
 * sf-race-dir: both sides of a race on the runtime directory, and a
 * listener that holds whoever connects before it is known who listens.
 *
 *     sf-race-dir swap A B SECONDS HOLD_US
 *         The attacker: exchanges the directory entries A and B
 *         (renameat2 RENAME_EXCHANGE, atomic: both names exist at every
 *         moment) every HOLD_US microseconds for SECONDS, or until
 *         killed.  Prints
 *         "swaps=N".  Works where the caller may rename entries of the
 *         parent: another user's $XDG_RUNTIME_DIR, say.
 *     sf-race-dir connect ADDR N SECONDS
 *         The victim: N times, or for SECONDS, shmframe_connect(ADDR)
 *         (socket transport) and disconnect.  Prints "connected=K refused=R other=O", where
 *         refused counts -EPERM (the library refused what it found) and
 *         other anything else (reaching a listener that is no shmframe
 *         server); stops at the first other.
 *
 *     sf-race-dir stuck PATH
 *         A listener at PATH (mode 0777) that never accepts, its backlog
 *         filled by connections of its own: a connect there waits for
 *         room.  Prints "ready" and waits to be killed.
 *
 * Exit 2 for usage, 1 when something that must work does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "shmframe.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int usage(void)
{
	fprintf(stderr, "usage: sf-race-dir swap A B SECONDS HOLD_US\n"
	                "       sf-race-dir connect ADDR N SECONDS\n"
	                "       sf-race-dir stuck PATH\n");
	return 2;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int swap(const char *a, const char *b, double seconds, double hold_s)
{
	double end = now_s() + seconds;
	unsigned long n = 0;

	while (now_s() < end) {
		for (int i = 0; i < 1000; i++) {
			double hold;

			if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b,
			            RENAME_EXCHANGE) < 0) {
				fprintf(stderr, "sf-race-dir: renameat2: %s\n",
				        strerror(errno));
				return 1;
			}
			n++;
			/* Each arrangement holds about as long as the victim
			 * takes from its check to its connect, so that a swap
			 * falls between the two as often as it can. */
			hold = now_s() + hold_s;
			while (now_s() < hold)
				;
		}
	}
	printf("swaps=%lu\n", n);
	return 0;
}

static int connect_loop(const char *addr, long n, double seconds)
{
	struct shmframe_options o;
	long ok = 0, refused = 0, other = 0;
	double end = now_s() + seconds;

	shmframe_options_init(&o);
	o.transport = SHMFRAME_TRANSPORT_SOCKET;
	for (long i = 0; i < n && !other && now_s() < end; i++) {
		struct shmframe_conn *c = shmframe_connect(addr, &o);
		int err = shmframe_conn_error(c);

		if (err == 0) {
			ok++;
		} else if (err == -EPERM) {
			refused++;
		} else {
			other++;
			fprintf(stderr, "sf-race-dir: %s\n", shmframe_last_error(c));
		}
		shmframe_disconnect(c);
	}
	printf("connected=%ld refused=%ld other=%ld\n", ok, refused, other);
	return 0;
}

static int stuck(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), n = 0;

	if (strlen(path) >= sizeof sun.sun_path)
		return usage();
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    chmod(path, 0777) < 0 || listen(lfd, 0) < 0) {
		fprintf(stderr, "sf-race-dir: listen: %s\n", strerror(errno));
		return 1;
	}
	/* Non-blocking connects until one finds no room. */
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd < 0)
			return 1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
			close(fd);
			break;
		}
		if (++n > 64)
			return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "swap") == 0)
		return swap(argv[2], argv[3], atof(argv[4]), atof(argv[5]) / 1e6);
	if (argc == 5 && strcmp(argv[1], "connect") == 0)
		return connect_loop(argv[2], atol(argv[3]), atof(argv[4]));
	if (argc == 3 && strcmp(argv[1], "stuck") == 0)
		return stuck(argv[2]);
	return usage();
}
