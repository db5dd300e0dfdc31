/*
 * bench-run.c: runs the clients of a row and turns what they measure into
 * the row's figures.
 *
 * Each client of a row is a process of its own (fork), as a real client
 * would be, so that N clients run at once on every core and each one's CPU
 * time is its own.  A row's clients are started once and stay up for the
 * whole run; the run measures every row in rounds, one after the other,
 * and a row's figures are the medians over the rounds.  So a burst of load
 * from elsewhere on the machine spoils one round of several rows instead
 * of every round of one row, and the ratios between rows stay fair.
 *
 * The parent drives the clients with one byte on a pipe and reads what
 * they measured on another:
 *
 *   client: setup, warm-up ... READY
 *           'e': re-warm, end-to-end pass ......... PASS
 *           't': transport pass (no drawing) ...... PASS
 *           ... (once per round) ...
 *           'v': verify the last frame ............ RESULT + latency samples
 *
 * The parent reads the receiving process's CPU time, syscalls and sleeps
 * around each round's end-to-end passes (each client counts its own), and
 * starts every pass on all of a row's clients together.  A client that
 * fails sends ERROR with its reason; one that hangs is killed when its
 * deadline passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-private.h"

enum msg_type {
	MSG_READY = 1,
	MSG_PASS = 2,
	MSG_RESULT = 3,
	MSG_ERROR = 4,
};

enum cmd {
	CMD_E2E = 'e',
	CMD_TRANSPORT = 't',
	CMD_VERIFY = 'v',
};

struct msg_head {
	uint32_t type;
	uint32_t len;  /* payload bytes after this header */
};

struct msg_ready {
	int32_t server_pid;
	char transport[16];
	char shm[16];
	char signal[16];
};

struct msg_pass {
	uint64_t frames, elapsed_ns, render_ns, cpu_ns;
	uint64_t t_start_ns, t_end_ns; /* CLOCK_MONOTONIC, the same in every process */
	uint64_t syscalls, sleeps;
	uint32_t syscalls_known, sleeps_known;
};

/* Followed by n_release, then n_presented floats (µs). */
struct msg_result {
	uint64_t discarded, bad;
	uint64_t n_release, n_presented;
};

struct kid {
	pid_t pid;
	int ctl;    /* we write commands */
	int res;    /* we read messages */
	struct msg_ready ready;
	struct msg_pass pass;
	struct msg_result result;
	float *samples;  /* n_release + n_presented */
	double *fps;     /* end to end, per round */
};

/* A process the clients send their frames to. */
struct receiver {
	pid_t pid;
	struct bench_sys sys;
};

/* Counts summed over the end-to-end passes; a count is known only when
 * every pass of every process had it. */
struct tally {
	uint64_t syscalls, sleeps;
	int syscalls_known, sleeps_known;
};

struct bench_running {
	const struct bench_config *cfg;
	struct bench_row *row;
	unsigned n, started;
	struct kid *kids;
	struct receiver *servers; /* distinct, n_servers of them */
	unsigned n_servers;
	unsigned rounds;
	double *fps, *tp, *render; /* aggregate per round */
	uint64_t frames, cpu_ns, server_ns;
	int server_known;
	struct tally client, server;
};

#define SETUP_TIMEOUT_S  90.0
#define VERIFY_TIMEOUT_S 120.0
#define MAX_ROUNDS       1000u
/* Frames drawn untimed before each end-to-end pass: the row's caches and
 * the server went cold while the other rows ran. */
#define REWARM_FRAMES    2

static const struct bench_mode_ops *const mode_ops[BENCH_MODE_COUNT] = {
	[BENCH_SHM_LATCH] = &bench_shm_latch_ops,
	[BENCH_SHM_COPY] = &bench_shm_copy_ops,
	[BENCH_SOCKET] = &bench_socket_ops,
	[BENCH_MEMCPY_LIMIT] = &bench_memcpy_limit_ops,
	[BENCH_SOCKET_LIMIT] = &bench_socket_limit_ops,
	[BENCH_RENDER_LIMIT] = &bench_render_limit_ops,
	[BENCH_X11_PUTIMAGE] = &bench_x11_putimage_ops,
	[BENCH_X11_SHM] = &bench_x11_shm_ops,
};

/* Every client process alive, for the signal handler.  Fixed storage: the
 * handler must not see it move.  A client that finds no slot still dies
 * with us through PR_SET_PDEATHSIG. */
static volatile pid_t live_pids[4096];
#define N_LIVE (sizeof(live_pids) / sizeof(live_pids[0]))

void bench_pids_add(volatile pid_t *set, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == 0) {
			set[i] = pid;
			return;
		}
}

void bench_pids_remove(volatile pid_t *set, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == pid)
			set[i] = 0;
}

/* The parent's ends of every client's pipes (and the server's output):
 * a new process closes them first, so that it keeps no other process's
 * pipe open and every end of file arrives when it should. */
static int tracked_fds[1024];
static size_t n_tracked;

void bench_track_fd(int fd)
{
	if (fd >= 0 && n_tracked < sizeof(tracked_fds) / sizeof(tracked_fds[0]))
		tracked_fds[n_tracked++] = fd;
}

void bench_untrack_fd(int fd)
{
	for (size_t i = 0; i < n_tracked; i++)
		if (tracked_fds[i] == fd) {
			tracked_fds[i] = tracked_fds[--n_tracked];
			return;
		}
}

void bench_close_inherited(void)
{
	for (size_t i = 0; i < n_tracked; i++)
		close(tracked_fds[i]);
	n_tracked = 0;
}

void bench_run_kill_on_signal(void)
{
	size_t n = N_LIVE;

	/* Async-signal-safe only.  SIGKILL: a client has nothing to tidy
	 * that the kernel does not tidy for it. */
	for (size_t i = 0; i < n; i++)
		if (live_pids[i] > 0)
			kill(live_pids[i], SIGKILL);
	for (size_t i = 0; i < n; i++)
		if (live_pids[i] > 0)
			waitpid(live_pids[i], NULL, 0);
}

int bench_client_fail(struct bench_client *c, const char *fmt, ...)
{
	va_list ap;

	/* Keep the first reason: later ones are usually its consequences. */
	if (c->error[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return -1;
}

int bench_pass_more(const struct bench_pass *pass, uint64_t frames,
                    uint64_t elapsed_ns)
{
	if (pass->max_frames && frames >= pass->max_frames)
		return 0;
	if (pass->max_ns && elapsed_ns >= pass->max_ns)
		return 0;
	return 1;
}

struct bench_pass bench_warmup_pass(const struct bench_config *cfg)
{
	struct bench_pass p = { .render = 1 };

	p.max_ns = (uint64_t)(cfg->warmup_seconds * 1e9);
	if (!p.max_ns)
		p.max_frames = REWARM_FRAMES;
	return p;
}

int bench_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads exactly len bytes before deadline (bench_now_ns() time). */
static int read_full(int fd, void *buf, size_t len, uint64_t deadline)
{
	uint8_t *p = buf;

	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = bench_now_ns();
		ssize_t r;
		int rc;

		if (now >= deadline)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		r = read(fd, p, len);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int send_msg(int fd, uint32_t type, const void *a, size_t alen,
                    const void *b, size_t blen)
{
	struct msg_head h = { .type = type, .len = (uint32_t)(alen + blen) };

	if (bench_write_full(fd, &h, sizeof(h)) < 0)
		return -1;
	if (alen && bench_write_full(fd, a, alen) < 0)
		return -1;
	if (blen && bench_write_full(fd, b, blen) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The client side.                                                    */

static int run_pass(const struct bench_mode_ops *ops, struct bench_client *c,
                    int end_to_end, struct bench_sys *sys, int res)
{
	const struct bench_config *cfg = c->cfg;
	struct bench_pass p = { .render = end_to_end, .record = end_to_end };
	struct msg_pass m = { 0 };
	uint64_t cpu0, sleeps0 = 0, sleeps1;
	int rc;

	if (end_to_end) {
		struct bench_pass warm = { .render = 1, .max_frames = REWARM_FRAMES };

		if (ops->pass(c, &warm) < 0)
			return -1;
	}
	/* "Transport alone" is this same loop without drawing (only the tag
	 * is written), rather than end-to-end time minus drawing time, which
	 * would credit the transport with the work it overlaps with drawing:
	 * it is what the transport sustains with the pipeline full. */
	p.max_frames = cfg->frames;
	p.max_ns = cfg->seconds > 0 ? (uint64_t)(cfg->seconds * 1e9) : 0;
	cpu0 = bench_cpu_self_ns();
	m.sleeps_known = bench_sleeps_self(&sleeps0) == 0;
	/* Innermost, so that it counts the pass's syscalls alone. */
	bench_sys_start(sys);
	m.t_start_ns = bench_now_ns();
	rc = ops->pass(c, &p);
	m.t_end_ns = bench_now_ns();
	m.syscalls_known = bench_sys_stop(sys, &m.syscalls) == 0;
	if (rc < 0)
		return -1;
	m.sleeps_known = m.sleeps_known && bench_sleeps_self(&sleeps1) == 0;
	m.sleeps = m.sleeps_known ? sleeps1 - sleeps0 : 0;
	m.cpu_ns = bench_cpu_self_ns() - cpu0;
	m.frames = p.frames;
	m.elapsed_ns = p.elapsed_ns;
	m.render_ns = p.render_ns;
	return send_msg(res, MSG_PASS, &m, sizeof(m), NULL, 0) < 0 ? 1 : 0;
}

static int send_result(struct bench_client *c, int res)
{
	struct msg_result result = {
		.discarded = c->discarded,
		.bad = c->bad,
		.n_release = c->release.n,
		.n_presented = c->presented.n,
	};
	size_t n = c->release.n + c->presented.n;
	float *all = malloc((n ? n : 1) * sizeof(float));
	int rc;

	if (!all)
		return bench_client_fail(c, "out of memory");
	/* Both sample lists in one payload, release first. */
	if (c->release.n)
		memcpy(all, c->release.v, c->release.n * sizeof(float));
	if (c->presented.n)
		memcpy(all + c->release.n, c->presented.v,
		       c->presented.n * sizeof(float));
	rc = send_msg(res, MSG_RESULT, &result, sizeof(result), all,
	              n * sizeof(float));
	free(all);
	return rc < 0 ? 1 : 0;
}

/* Returns the client process's exit status. */
static int client_main(const struct bench_config *cfg,
                       const struct bench_job *job, unsigned index, int ctl,
                       int res)
{
	const struct bench_mode_ops *ops = mode_ops[job->mode];
	struct bench_client c = {
		.cfg = cfg, .job = job, .index = index, .frame = 1,
	};
	struct msg_ready ready = { 0 };
	struct bench_sys sys = { .n = 0 };
	int rc = 1;

	/* Without a counter the passes report no syscalls; they still run. */
	bench_sys_open(&sys, cfg->syscall_event, 0);
	if (ops->setup(&c) < 0)
		goto fail;
	ready.server_pid = (int32_t)c.server_pid;
	memcpy(ready.transport, c.transport, sizeof(ready.transport));
	memcpy(ready.shm, c.shm, sizeof(ready.shm));
	memcpy(ready.signal, c.signal, sizeof(ready.signal));
	if (send_msg(res, MSG_READY, &ready, sizeof(ready), NULL, 0) < 0)
		goto out;

	for (;;) {
		ssize_t r;
		char cmd;

		r = read(ctl, &cmd, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1)
			goto out; /* the parent gave up on this row */
		switch (cmd) {
		case CMD_E2E:
		case CMD_TRANSPORT:
			rc = run_pass(ops, &c, cmd == CMD_E2E, &sys, res);
			if (rc < 0)
				goto fail;
			if (rc > 0)
				goto out;
			break;
		case CMD_VERIFY:
			if (ops->verify(&c) < 0)
				goto fail;
			rc = send_result(&c, res);
			if (rc < 0)
				goto fail;
			goto out;
		default:
			goto out;
		}
	}

fail:
	send_msg(res, MSG_ERROR, c.error, strlen(c.error) + 1, NULL, 0);
	rc = 1;
out:
	ops->teardown(&c);
	bench_sys_close(&sys);
	bench_samples_free(&c.release);
	bench_samples_free(&c.presented);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The parent side.                                                    */

static int fail_row(struct bench_running *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail_row(struct bench_running *run, const char *fmt, ...)
{
	va_list ap;

	if (!run->row->error[0]) {
		va_start(ap, fmt);
		vsnprintf(run->row->error, sizeof(run->row->error), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Waits for one message of type want from client i. */
static int expect(struct bench_running *run, unsigned i, uint32_t want,
                  double timeout_s)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)(timeout_s * 1e9);
	struct kid *k = &run->kids[i];
	struct msg_head h;
	int rc;

	rc = read_full(k->res, &h, sizeof(h), deadline);
	if (rc == -ETIMEDOUT)
		return fail_row(run, "client %u did not answer within %.0f s", i,
		                timeout_s);
	if (rc < 0)
		return fail_row(run, "client %u died (%s)", i, strerror(-rc));
	if (h.len > (64u << 20))
		goto garbled;
	if (h.type == MSG_ERROR) {
		/* Short enough to fit with the client number in front. */
		char text[sizeof(run->row->error) - 32];
		size_t n = h.len < sizeof(text) ? h.len : sizeof(text) - 1;

		if (read_full(k->res, text, n, deadline) < 0)
			n = 0;
		text[n] = '\0';
		if (run->n > 1)
			return fail_row(run, "client %u: %s", i, text);
		return fail_row(run, "%s", text);
	}
	if (h.type != want)
		goto garbled;
	switch (want) {
	case MSG_READY:
		if (h.len != sizeof(k->ready) ||
		    read_full(k->res, &k->ready, sizeof(k->ready), deadline) < 0)
			goto garbled;
		k->ready.transport[sizeof(k->ready.transport) - 1] = '\0';
		k->ready.shm[sizeof(k->ready.shm) - 1] = '\0';
		k->ready.signal[sizeof(k->ready.signal) - 1] = '\0';
		return 0;
	case MSG_PASS:
		if (h.len != sizeof(k->pass) ||
		    read_full(k->res, &k->pass, sizeof(k->pass), deadline) < 0)
			goto garbled;
		return 0;
	case MSG_RESULT: {
		size_t n;

		if (h.len < sizeof(k->result) ||
		    read_full(k->res, &k->result, sizeof(k->result), deadline) < 0)
			goto garbled;
		n = k->result.n_release + k->result.n_presented;
		if (h.len - sizeof(k->result) != n * sizeof(float))
			goto garbled;
		k->samples = malloc((n ? n : 1) * sizeof(float));
		if (!k->samples ||
		    read_full(k->res, k->samples, n * sizeof(float), deadline) < 0)
			goto garbled;
		return 0;
	}
	}
garbled:
	return fail_row(run, "client %u sent a garbled message", i);
}

static int command_all(struct bench_running *run, char cmd)
{
	for (unsigned i = 0; i < run->n; i++)
		if (bench_write_full(run->kids[i].ctl, &cmd, 1) < 0)
			return fail_row(run, "client %u went away", i);
	return 0;
}

/* The distinct processes the clients send to. */
static int find_servers(struct bench_running *run)
{
	run->servers = calloc(run->n, sizeof(*run->servers));
	if (!run->servers)
		return -1;
	for (unsigned i = 0; i < run->n; i++) {
		pid_t pid = run->kids[i].ready.server_pid;
		unsigned j;

		if (pid <= 0)
			continue;
		for (j = 0; j < run->n_servers; j++)
			if (run->servers[j].pid == pid)
				break;
		if (j < run->n_servers)
			continue;
		run->servers[j].pid = pid;
		run->n_servers++;
	}
	return 0;
}

/* Sum of the CPU time of every distinct process the clients send to;
 * *known is 0 when none could be read. */
static uint64_t servers_cpu(const struct bench_running *run, int *known)
{
	uint64_t total = 0;

	*known = 0;
	for (unsigned i = 0; i < run->n_servers; i++) {
		uint64_t ns = bench_cpu_pid_ns(run->servers[i].pid);

		if (ns) {
			total += ns;
			*known = 1;
		}
	}
	return total;
}

/* Their sleeps so far, summed; -1 when one cannot be read. */
static int servers_sleeps(const struct bench_running *run, uint64_t *n)
{
	*n = 0;
	for (unsigned i = 0; i < run->n_servers; i++) {
		uint64_t v;

		if (bench_sleeps_pid(run->servers[i].pid, &v) < 0)
			return -1;
		*n += v;
	}
	return run->n_servers ? 0 : -1;
}

/* A counter on each for one pass: open only while it counts, so that a
 * server shared by every row never carries a counter per row. */
static void servers_sys_start(struct bench_running *run)
{
	for (unsigned i = 0; i < run->n_servers; i++) {
		struct receiver *r = &run->servers[i];

		if (bench_sys_open(&r->sys, run->cfg->syscall_event, r->pid) == 0)
			bench_sys_start(&r->sys);
	}
}

static int servers_sys_stop(struct bench_running *run, uint64_t *n)
{
	int rc = run->n_servers ? 0 : -1;

	*n = 0;
	for (unsigned i = 0; i < run->n_servers; i++) {
		uint64_t v;

		if (bench_sys_stop(&run->servers[i].sys, &v) < 0)
			rc = -1;
		else
			*n += v;
		bench_sys_close(&run->servers[i].sys);
	}
	return rc;
}

/* Adds one pass's count to a tally (which starts known): known stays
 * known only while every count is. */
static void tally_add(struct tally *t, int sys_known, uint64_t sys,
                      int sleeps_known, uint64_t sleeps)
{
	t->syscalls_known = t->syscalls_known && sys_known;
	t->sleeps_known = t->sleeps_known && sleeps_known;
	t->syscalls += sys;
	t->sleeps += sleeps;
}

/* Frames per second of one pass of all the clients together. */
struct span {
	uint64_t frames, t_start, t_end;
	double one_fps;   /* the only client's own rate */
	unsigned n;
};

static void span_add(struct span *sp, const struct msg_pass *p)
{
	if (sp->n == 0 || p->t_start_ns < sp->t_start)
		sp->t_start = p->t_start_ns;
	if (sp->n == 0 || p->t_end_ns > sp->t_end)
		sp->t_end = p->t_end_ns;
	sp->frames += p->frames;
	sp->one_fps = p->elapsed_ns ? p->frames * 1e9 / p->elapsed_ns : 0;
	sp->n++;
}

/* Several clients: all their frames over the time from the first one's
 * start to the last one's end.  A sum of each one's own rate would count
 * a CPU twice when clients outnumber CPUs: the first to start run on idle
 * CPUs before the others begin, the last after the others have ended. */
static double span_fps(const struct span *sp)
{
	if (sp->n == 1)
		return sp->one_fps;
	return sp->t_end > sp->t_start ?
	       sp->frames * 1e9 / (double)(sp->t_end - sp->t_start) : 0;
}

static double pass_timeout(const struct bench_config *cfg)
{
	/* Generous: a pass limited by frames alone may be slow (4K PutImage),
	 * but a hung client must not hang the run. */
	if (cfg->seconds > 0)
		return cfg->seconds * 3 + 60;
	return 3600;
}

/* Ends the clients (killed, or left to finish their teardown: a client
 * that has sent its RESULT exits by itself), reaps them and frees run. */
static void end_clients(struct bench_running *run, int kill_them)
{
	if (kill_them)
		for (unsigned i = 0; i < run->started; i++)
			kill(run->kids[i].pid, SIGKILL);
	for (unsigned i = 0; i < run->started; i++) {
		bench_untrack_fd(run->kids[i].ctl);
		bench_untrack_fd(run->kids[i].res);
		close(run->kids[i].ctl);
		close(run->kids[i].res);
		waitpid(run->kids[i].pid, NULL, 0);
		bench_pids_remove(live_pids, N_LIVE, run->kids[i].pid);
		free(run->kids[i].samples);
		free(run->kids[i].fps);
	}
	for (unsigned i = 0; i < run->n_servers; i++)
		bench_sys_close(&run->servers[i].sys);
	free(run->servers);
	free(run->kids);
	free(run->fps);
	free(run->tp);
	free(run->render);
	free(run);
}

void bench_row_abort(struct bench_running *run)
{
	if (run)
		end_clients(run, 1);
}

int bench_row_start(const struct bench_config *cfg, struct bench_row *row,
                    struct bench_running **out)
{
	struct bench_running *run;
	pid_t parent = getpid();
	unsigned rounds = cfg->rounds ? cfg->rounds : 1;

	*out = NULL;
	row->error[0] = '\0';
	row->done = 0;
	if (rounds > MAX_ROUNDS)
		rounds = MAX_ROUNDS;
	run = calloc(1, sizeof(*run));
	if (!run) {
		snprintf(row->error, sizeof(row->error), "out of memory");
		return -1;
	}
	run->cfg = cfg;
	run->row = row;
	run->n = row->job.clients;
	run->client.syscalls_known = run->client.sleeps_known = 1;
	run->server = run->client;
	run->kids = calloc(run->n, sizeof(*run->kids));
	run->fps = calloc(rounds, sizeof(double));
	run->tp = calloc(rounds, sizeof(double));
	run->render = calloc(rounds, sizeof(double));
	if (!run->kids || !run->fps || !run->tp || !run->render)
		goto err_nomem;
	for (unsigned i = 0; i < run->n; i++) {
		run->kids[i].fps = calloc(rounds, sizeof(double));
		if (!run->kids[i].fps)
			goto err_nomem;
	}

	fflush(stdout);
	fflush(stderr);
	for (unsigned i = 0; i < run->n; i++) {
		struct kid *k = &run->kids[i];
		int ctl[2], res[2];

		if (pipe2(ctl, O_CLOEXEC) < 0)
			goto err_sys;
		if (pipe2(res, O_CLOEXEC) < 0) {
			close(ctl[0]);
			close(ctl[1]);
			goto err_sys;
		}
		k->pid = fork();
		if (k->pid < 0) {
			close(ctl[0]);
			close(ctl[1]);
			close(res[0]);
			close(res[1]);
			goto err_sys;
		}
		if (k->pid == 0) {
			/* A client must not outlive the run, nor hold other
			 * clients' pipes open: a client's end of file is how it
			 * learns that its row was given up. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(1);
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			signal(SIGPIPE, SIG_IGN);
			bench_close_inherited(); /* other rows' and clients' */
			close(ctl[1]);
			close(res[0]);
			/* Its own ends, for the processes it starts. */
			bench_track_fd(ctl[0]);
			bench_track_fd(res[1]);
			_exit(client_main(cfg, &row->job, i, ctl[0], res[1]));
		}
		bench_pids_add(live_pids, N_LIVE, k->pid);
		close(ctl[0]);
		close(res[1]);
		k->ctl = ctl[1];
		k->res = res[0];
		/* The parent's ends must not leak into later rows' clients. */
		bench_track_fd(k->ctl);
		bench_track_fd(k->res);
		run->started++;
	}
	for (unsigned i = 0; i < run->n; i++)
		if (expect(run, i, MSG_READY, SETUP_TIMEOUT_S) < 0)
			goto err;
	if (find_servers(run) < 0)
		goto err_nomem;
	memcpy(row->transport, run->kids[0].ready.transport, sizeof(row->transport));
	memcpy(row->shm, run->kids[0].ready.shm, sizeof(row->shm));
	memcpy(row->signal, run->kids[0].ready.signal, sizeof(row->signal));
	*out = run;
	return 0;

err_nomem:
	fail_row(run, "out of memory");
	goto err;
err_sys:
	fail_row(run, "cannot start a client: %s", strerror(errno));
err:
	bench_row_abort(run);
	return -1;
}

static int round_once(struct bench_running *run)
{
	const struct bench_mode_ops *ops = mode_ops[run->row->job.mode];
	struct span e2e = { 0 }, alone = { 0 };
	double tp, render = 0;
	uint64_t s0, s1, sleeps0 = 0, sleeps1 = 0, sys = 0;
	int known0, known1, sleeps_known, sys_known;
	unsigned r = run->rounds;

	if (r >= MAX_ROUNDS || r >= (run->cfg->rounds ? run->cfg->rounds : 1))
		return 0;
	s0 = servers_cpu(run, &known0);
	sleeps_known = servers_sleeps(run, &sleeps0) == 0;
	servers_sys_start(run);
	if (command_all(run, CMD_E2E) < 0)
		return -1;
	for (unsigned i = 0; i < run->n; i++) {
		const struct msg_pass *p = &run->kids[i].pass;

		if (expect(run, i, MSG_PASS, pass_timeout(run->cfg)) < 0)
			return -1;
		run->kids[i].fps[r] = p->elapsed_ns ? p->frames * 1e9 / p->elapsed_ns : 0;
		span_add(&e2e, p);
		/* Several clients' drawing rates cannot be added up either:
		 * render-limit with as many clients is their rate together. */
		render = run->n > 1 ? NAN :
		         p->render_ns ? p->frames * 1e9 / p->render_ns : NAN;
		run->frames += p->frames;
		run->cpu_ns += p->cpu_ns;
		tally_add(&run->client, p->syscalls_known != 0,
		          p->syscalls, p->sleeps_known != 0, p->sleeps);
	}
	sys_known = servers_sys_stop(run, &sys) == 0;
	sleeps_known = sleeps_known && servers_sleeps(run, &sleeps1) == 0;
	tally_add(&run->server, sys_known, sys, sleeps_known,
	          sleeps_known ? sleeps1 - sleeps0 : 0);
	s1 = servers_cpu(run, &known1);
	if (known0 && known1 && s1 >= s0) {
		run->server_ns += s1 - s0;
		run->server_known = 1;
	}
	if (run->cfg->e2e_only || ops->no_transport_pass) {
		tp = NAN;
		goto done;
	}
	if (command_all(run, CMD_TRANSPORT) < 0)
		return -1;
	for (unsigned i = 0; i < run->n; i++) {
		const struct msg_pass *p = &run->kids[i].pass;

		if (expect(run, i, MSG_PASS, pass_timeout(run->cfg)) < 0)
			return -1;
		span_add(&alone, p);
	}
	tp = span_fps(&alone);
done:
	run->fps[r] = span_fps(&e2e);
	run->tp[r] = tp;
	run->render[r] = render;
	run->rounds++;
	return 0;
}

int bench_row_round(struct bench_running *run)
{
	if (round_once(run) == 0)
		return 0;
	bench_row_abort(run);
	return -1;
}

static double per_frame(const struct tally *t, int syscalls, uint64_t frames)
{
	if (!frames || !(syscalls ? t->syscalls_known : t->sleeps_known))
		return NAN;
	return (double)(syscalls ? t->syscalls : t->sleeps) / (double)frames;
}

/* The row's figures from its rounds (medians) and its clients' samples. */
static void aggregate(struct bench_running *run)
{
	struct bench_row *row = run->row;
	const struct bench_job *job = &row->job;
	unsigned n = run->n, rounds = run->rounds;
	double *per = calloc(n, sizeof(double));
	size_t n_rel = 0, n_pre = 0, a = 0, b = 0;
	uint64_t server_frames;
	float *rel, *pre;

	row->fps = bench_median(run->fps, rounds);
	row->transport_fps = bench_median(run->tp, rounds);
	row->render_fps = bench_median(run->render, rounds);
	row->frames = run->frames;
	row->gbps = row->transport_fps * (double)job->damage.width *
	            (double)job->damage.height * 4.0 / 1e9;
	row->client_cpu_us = run->frames ? run->cpu_ns / 1e3 / (double)run->frames : NAN;
	row->server_cpu_us = run->server_known && run->frames ?
	                     run->server_ns / 1e3 / (double)run->frames : NAN;
	/* A client counts its pass alone; the server's count also holds the
	 * frames each client re-warms with before it. */
	server_frames = run->frames + (uint64_t)rounds * n * REWARM_FRAMES;
	row->client_sys = per_frame(&run->client, 1, run->frames);
	row->client_sleeps = per_frame(&run->client, 0, run->frames);
	row->server_sys = per_frame(&run->server, 1, server_frames);
	row->server_sleeps = per_frame(&run->server, 0, server_frames);
	row->discarded = 0;
	for (unsigned i = 0; i < n; i++) {
		row->discarded += run->kids[i].result.discarded;
		n_rel += run->kids[i].result.n_release;
		n_pre += run->kids[i].result.n_presented;
	}
	if (per) {
		/* Each client's median, then the spread among clients. */
		for (unsigned i = 0; i < n; i++)
			per[i] = bench_median(run->kids[i].fps, rounds);
		row->client_fps_min = row->client_fps_max = per[0];
		for (unsigned i = 1; i < n; i++) {
			row->client_fps_min = fmin(row->client_fps_min, per[i]);
			row->client_fps_max = fmax(row->client_fps_max, per[i]);
		}
		row->client_fps_med = bench_median(per, n);
		free(per);
	}

	/* Latency percentiles over every client's samples together. */
	row->release_p50 = row->release_p99 = NAN;
	row->presented_p50 = row->presented_p99 = NAN;
	rel = malloc((n_rel ? n_rel : 1) * sizeof(float));
	pre = malloc((n_pre ? n_pre : 1) * sizeof(float));
	if (rel && pre) {
		for (unsigned i = 0; i < n; i++) {
			const struct kid *k = &run->kids[i];

			memcpy(rel + a, k->samples, k->result.n_release * sizeof(float));
			memcpy(pre + b, k->samples + k->result.n_release,
			       k->result.n_presented * sizeof(float));
			a += k->result.n_release;
			b += k->result.n_presented;
		}
		row->release_p50 = bench_percentile(rel, n_rel, 50);
		row->release_p99 = bench_percentile(rel, n_rel, 99);
		row->presented_p50 = bench_percentile(pre, n_pre, 50);
		row->presented_p99 = bench_percentile(pre, n_pre, 99);
	}
	free(rel);
	free(pre);
}

int bench_row_finish(struct bench_running *run)
{
	int rc = -1;

	if (run->rounds == 0) {
		fail_row(run, "no round was measured");
		goto out;
	}
	if (command_all(run, CMD_VERIFY) < 0)
		goto out;
	for (unsigned i = 0; i < run->n; i++)
		if (expect(run, i, MSG_RESULT, VERIFY_TIMEOUT_S) < 0)
			goto out;
	aggregate(run);
	for (unsigned i = 0; i < run->n; i++)
		if (run->kids[i].result.bad) {
			fail_row(run, "client %u: %llu frames failed their check", i,
			         (unsigned long long)run->kids[i].result.bad);
			goto out;
		}
	run->row->done = 1;
	rc = 0;
out:
	end_clients(run, rc < 0);
	return rc;
}
