/*
 * A real shmframe-server for a C test: started headless in a fresh
 * temporary directory (which also holds its socket, the runtime directory
 * and the cookie file, named by XDG_RUNTIME_DIR and SHMFRAME_AUTH for the
 * clients the test makes), killed and removed when the test fails, and
 * stopped with SIGTERM, which must be a clean exit, when it passes.
 *
 * Include after harness.h.  Starting the process and reading its ready
 * line is client/bench/spawn-server.c, shared with shmframe-bench.
 * SF_TEST_SERVER names the server binary (CTest sets it).
 */
#ifndef SHMFRAME_TEST_SERVER_PROC_H
#define SHMFRAME_TEST_SERVER_PROC_H

#include <dirent.h>
#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "spawn-server.h"

#define SERVER_PROC_ARGS 32
#define SERVER_PROC_READY_MS 10000

struct server_proc {
	pid_t pid;
	char dir[64];
	char sock[100];      /* its Unix socket's path */
	char addr[110];      /* "unix:" + sock */
	char tcp_addr[64];   /* "tcp:127.0.0.1:PORT" when asked for */
};

/* The server the failure cleanup kills. */
static struct server_proc *server_proc_running;

static int server_proc_remove_entry(const char *path, const struct stat *st,
                                    int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* For sf_test_atfail: kills the running server, removes its directory. */
SF_TEST_UNUSED static void server_proc_kill(void)
{
	struct server_proc *s = server_proc_running;

	if (!s)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->dir[0])
		nftw(s->dir, server_proc_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	server_proc_running = NULL;
}

/*
 * Starts the server listening on unix:DIR/sock (and on an ephemeral TCP
 * port of 127.0.0.1 when tcp is set), with the extra arguments (a
 * NULL-terminated list, or NULL).  tag names the temporary directory.
 * Sets sf_test_atfail to server_proc_kill.
 */
SF_TEST_UNUSED static void server_proc_start(struct server_proc *s,
                                             const char *tag, bool tcp,
                                             const char *const *extra)
{
	const char *bin = getenv("SF_TEST_SERVER");
	const char *argv[SERVER_PROC_ARGS];
	char line[512], env[128];
	struct sf_spawned child;
	int n = 0, rc;

	ASSERT_MSG(bin && bin[0], "SF_TEST_SERVER is not set");
	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "/tmp/shmframe-%s.XXXXXX", tag);
	ASSERT(mkdtemp(s->dir) != NULL);
	server_proc_running = s;
	sf_test_atfail = server_proc_kill;
	snprintf(env, sizeof env, "%s/run", s->dir);
	ASSERT_EQ(mkdir(env, 0700), 0);
	setenv("XDG_RUNTIME_DIR", env, 1);
	snprintf(env, sizeof env, "%s/cookie", s->dir);
	setenv("SHMFRAME_AUTH", env, 1);
	unsetenv("SHMFRAME_SERVER");
	unsetenv("SHMFRAME_TRANSPORT");
	snprintf(s->sock, sizeof s->sock, "%s/sock", s->dir);
	snprintf(s->addr, sizeof s->addr, "unix:%s", s->sock);

	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = s->addr;
	if (tcp) {
		argv[n++] = "--listen";
		argv[n++] = "tcp:127.0.0.1:0";
	}
	argv[n++] = "--display";
	argv[n++] = "none";
	for (int i = 0; extra && extra[i]; i++) {
		ASSERT_LT(n, SERVER_PROC_ARGS - 1);
		argv[n++] = extra[i];
	}
	argv[n] = NULL;

	rc = sf_spawn_server(&child, argv, SIGKILL);
	ASSERT_MSG(rc == 0, "cannot start %s: %s", bin, strerror(-rc));
	s->pid = child.pid;
	rc = sf_spawn_wait_ready(&child, SERVER_PROC_READY_MS, line, sizeof line);
	close(child.out_fd);
	ASSERT_MSG(rc != -EPIPE, "server exited before printing its ready "
	           "line");
	ASSERT_MSG(rc == 0, "server said: %s (%s)", line, strerror(-rc));
	if (tcp) {
		rc = sf_spawn_ready_addr(line, "tcp:", s->tcp_addr,
		                         sizeof s->tcp_addr);
		ASSERT_MSG(rc == 0, "no TCP address in: %s", line);
	}
}

/* The server is running (not gone, not a zombie). */
SF_TEST_UNUSED static void server_proc_alive(const struct server_proc *s)
{
	char path[64], buf[512];
	FILE *f;

	ASSERT_MSG(kill(s->pid, 0) == 0, "the server died");
	snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
	f = fopen(path, "re");
	ASSERT(f != NULL);
	while (fgets(buf, sizeof buf, f))
		if (strncmp(buf, "State:", 6) == 0)
			ASSERT_MSG(!strchr(buf, 'Z'), "the server died: %s", buf);
	fclose(f);
}

/* How many fds the server holds open. */
SF_TEST_UNUSED static int server_proc_fds(const struct server_proc *s)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)s->pid);
	d = opendir(path);
	ASSERT(d != NULL);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* SIGTERM must be a clean exit 0 (a sanitizer build reports leaks and
 * errors through the exit status); then the directory goes. */
SF_TEST_UNUSED static void server_proc_stop(struct server_proc *s)
{
	int status;

	server_proc_alive(s);
	ASSERT_EQ(kill(s->pid, SIGTERM), 0);
	ASSERT_EQ(waitpid(s->pid, &status, 0), s->pid);
	s->pid = 0;
	ASSERT_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	           "server exit status 0x%x on SIGTERM", status);
	nftw(s->dir, server_proc_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	server_proc_running = NULL;
	sf_test_atfail = NULL;
}

#endif
