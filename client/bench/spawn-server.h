/*
 * Starting shmframe-server as a child process and waiting for the line it
 * prints on standard output once every listener is open:
 *
 *     ready listen=unix:/path listen=tcp:127.0.0.1:PORT ...
 *
 * Until that line the sockets may not accept connections yet.  Written
 * once for every program that starts its own server: shmframe-bench, and
 * the C tests (test/ compiles this file into its own helper library, so
 * that neither side's build needs the other's).
 */
#ifndef SHMFRAME_SPAWN_SERVER_H
#define SHMFRAME_SPAWN_SERVER_H

#include <stddef.h>
#include <sys/types.h>

struct sf_spawned {
	pid_t pid;   /* the child, 0 when none was started */
	int out_fd;  /* read end of its standard output (close-on-exec) */
};

/*
 * Forks and executes argv[0] (a path) with argv (NULL-terminated), its
 * standard output on a pipe whose read end becomes s->out_fd; the child
 * gets death_signal should this process die first.  A program that
 * cannot be executed exits 127 after saying why on standard error.
 * Returns 0, or -errno with nothing started.  The caller owns s->out_fd
 * and reaps s->pid.
 */
int sf_spawn_server(struct sf_spawned *s, const char *const argv[],
                    int death_signal);

/*
 * Reads the server's first line, waiting up to timeout_ms in all, into
 * line (at most cap - 1 bytes, NUL-terminated, without its newline).
 * Returns 0 when it is the ready line, -EPROTO when it is something else
 * (line holds it), -EPIPE when standard output closed first (the server
 * exited; line holds what came), -ETIMEDOUT, or another -errno.  Reads
 * nothing past the first newline, so the server's later output stays in
 * the pipe for the caller.
 */
int sf_spawn_wait_ready(struct sf_spawned *s, int timeout_ms, char *line,
                        size_t cap);

/*
 * The address of the first "listen=" word of a ready line that starts
 * with kind ("unix:", "tcp:"), copied into out (cap bytes).  0, or
 * -ENOENT when there is none, -ENAMETOOLONG when it does not fit.
 */
int sf_spawn_ready_addr(const char *line, const char *kind, char *out,
                        size_t cap);

#endif
