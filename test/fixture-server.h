/*
 * The real server core (shmframe_server_core: server/ without main.c) run
 * inside the test's own process, as libwayland's test compositor runs its
 * server: a struct sf_server with the headless display, clients admitted
 * on socketpairs whose far end the server owns, and the main loop turned
 * by the test, one iteration at a time or until it is quiet.  The test
 * then sees what no process-level test can: the server's own accounting
 * (bytes mapped, surface memory, queued output, fds, segment references)
 * and a surface's pixels.
 *
 * Used by test-inproc.c and by the fuzz target fuzz/fuzz-server.c.  Only
 * what server-private.h declares is used, through few calls.
 */
#ifndef SHMFRAME_TEST_FIXTURE_SERVER_H
#define SHMFRAME_TEST_FIXTURE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "server-private.h"

struct sf_fixture {
	struct sf_server server;
	uid_t allowed_uid;      /* --allow-uid: the one allowed */
};

/* A client's two ends: ours, and the server's (by which the server's
 * struct sf_client is found). */
struct sf_fixture_peer {
	int fd;                 /* ours, non-blocking; -1 once closed */
	int srv_fd;
	struct sf_client *client; /* the server's, at connection time */
};

/* The limits shmframe-server starts with (main.c), for tests that do not
 * set their own. */
extern const struct sf_limits sf_fixture_limits;
extern const struct sf_server_limits sf_fixture_glimits;

/* Sets up the server with these limits (NULL: the defaults above), this
 * uid also allowed (--allow-uid), the headless display.  0 or -errno. */
int sf_fixture_init(struct sf_fixture *f, const struct sf_limits *limits,
                    const struct sf_server_limits *glimits, uid_t allow_uid);

/* Admits a new Unix client on a socketpair (non-blocking on both ends);
 * sndbuf > 0 sets the server end's SO_SNDBUF.  0 or -errno. */
int sf_fixture_connect(struct sf_fixture *f, struct sf_fixture_peer *p,
                       int sndbuf);

/* The server's client behind p, or NULL once it has been freed. */
struct sf_client *sf_fixture_client(struct sf_fixture *f,
                                    const struct sf_fixture_peer *p);

/* Called between iterations to read what the server sent; returns true
 * when anything came (the server then is not quiet yet). */
typedef bool (*sf_fixture_drain_fn)(void *data);

/* Runs iterations (never waiting) until one handles no event, drain
 * brings nothing and the server has no work of its own left.  0, -ELOOP
 * when it was still busy after max_iterations, or the loop's -errno. */
int sf_fixture_run(struct sf_fixture *f, unsigned max_iterations,
                   sf_fixture_drain_fn drain, void *data);

/* Writes len bytes to the server from p (fd >= 0 rides on the first
 * byte), running the server until quiet whenever the socket is full, at
 * most max_full times.  Returns the bytes written (fewer when the server
 * closed its end or stayed full), or a negative errno. */
ssize_t sf_fixture_send(struct sf_fixture *f, struct sf_fixture_peer *p,
                        const void *buf, size_t len, int fd,
                        unsigned max_full, sf_fixture_drain_fn drain,
                        void *data);

/* Tears the server down (sfs__server_fini).  0 when every client had
 * already gone and nothing is still counted (segment bytes mapped,
 * surface memory, queued output); else -1 with why (len bytes). */
int sf_fixture_fini(struct sf_fixture *f, char *why, size_t len);

#endif
