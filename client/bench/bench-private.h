/*
 * Private declarations shared by the files of shmframe-bench.
 *
 * The benchmark is split by job: bench.c (options, the list of rows, the
 * table, CSV and the closing line), bench-run.c (one row: forks its client
 * processes and steps them through their phases), bench-modes.c (the
 * shmframe modes through the public client API), bench-limits.c (memcpy and
 * raw socket floors, the wake-up round trip), bench-x11.c (a real X server
 * through libxcb; the only file that knows X), bench-frame.c (the pattern a
 * client draws, its per-frame tag and the final comparison), bench-spawn.c
 * (starting and stopping the helper processes, and the chart's script),
 * bench-stats.c (percentiles, CPU time, clocks), bench-sys.c (syscalls
 * and sleeps counted per process).
 */
#ifndef SHMFRAME_BENCH_PRIVATE_H
#define SHMFRAME_BENCH_PRIVATE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmframe.h"

#define BENCH_NAME "shmframe-bench"

/* The frame number that stands for "background": what every buffer holds
 * outside the damage rectangle. */
#define BENCH_BG_FRAME 0xffffffffu

enum bench_mode {
	BENCH_SHM_LATCH = 0,
	BENCH_SHM_COPY,
	BENCH_SOCKET,
	BENCH_MEMCPY_LIMIT,
	BENCH_SOCKET_LIMIT,
	BENCH_RENDER_LIMIT,
	BENCH_X11_PUTIMAGE,
	BENCH_X11_SHM,
	BENCH_MODE_COUNT,
};

/* How the two sides of a shared-memory connection tell each other that
 * there is work: through the rings of the control segment, or with a
 * message on the socket for every frame and every event. */
enum bench_signal {
	BENCH_SIG_NONE = 0,  /* not a shared-memory row: nothing to choose */
	BENCH_SIG_SOCKET,
	BENCH_SIG_RING,
};

/* What one row measures. */
struct bench_job {
	enum bench_mode mode;
	enum shmframe_shm_kind shm;  /* requested kind (shm modes only) */
	enum bench_signal signal;    /* requested path (shm modes only) */
	unsigned spin_us;            /* ring rows: both sides spin this long
	                              * before they sleep; 0: no spinning */
	uint32_t width, height;
	struct shmframe_rect damage; /* always filled; the whole frame when full */
	int damage_full;
	unsigned clients;
};

/* Settings shared by every row of a run. */
struct bench_config {
	const char *server_addr;  /* shmframe server the clients connect to */
	const char *spin_server_addr; /* the one for rows with spin_us */
	pid_t server_pid, spin_server_pid; /* their processes, 0: unknown */
	const char *x11_display;  /* X display for the x11 modes, or NULL */
	unsigned buffers;         /* buffers in flight per client */
	uint64_t frames;          /* frames per pass, 0: no limit */
	double seconds;           /* seconds per pass, 0: no limit */
	unsigned rounds;          /* rounds; a row's figures are their medians */
	double warmup_seconds;    /* untimed frames before a row's passes */
	int e2e_only;             /* no transport-alone pass */
	int syscall_event;        /* tracepoint id of raw_syscalls:sys_enter,
	                           * -1: syscalls cannot be counted */
};

/* A growable list of latency samples in microseconds. */
struct bench_samples {
	float *v;
	size_t n, cap;
};

/* One timed pass over frames. */
struct bench_pass {
	int render;          /* 1: draw every pixel of the damage; 0: only the tag */
	int record;          /* 1: keep latency samples */
	uint64_t max_frames; /* 0: no limit */
	uint64_t max_ns;     /* 0: no limit */
	/* Filled by the mode. */
	uint64_t frames;
	uint64_t elapsed_ns;
	uint64_t render_ns;
};

/* One client process's state, handed to the mode's functions. */
struct bench_client {
	const struct bench_config *cfg;
	const struct bench_job *job;
	unsigned index;
	uint32_t frame;           /* number of the next frame; it is its tag */
	struct bench_samples release, presented;
	uint64_t discarded;       /* frames the server replaced before showing */
	uint64_t bad;             /* frames whose check failed */
	pid_t server_pid;         /* the process that receives the frames, 0: unknown */
	char transport[16];       /* "shm", "socket" or "" */
	char shm[16];             /* "memfd", "posix", "sysv" or "" */
	char signal[16];          /* "ring", "socket" or "" (not shmframe shm) */
	char error[512];
	void *data;               /* the mode's own state */
};

/*
 * A mode: how one client sends frames.  setup connects and warms up;
 * pass runs frames as described by *pass and fills its results; verify
 * presents one more fully drawn frame and reads it back (or has it
 * compared where it arrived); teardown frees everything, also after a
 * failed setup.  setup, pass and verify return 0, or -1 with c->error set.
 */
struct bench_mode_ops {
	const char *name;
	int (*setup)(struct bench_client *c);
	int (*pass)(struct bench_client *c, struct bench_pass *pass);
	int (*verify)(struct bench_client *c);
	void (*teardown)(struct bench_client *c);
	int no_transport_pass;    /* a floor with nothing to transport */
};

/* Figures of one row (all clients together). */
struct bench_row {
	struct bench_job job;
	int done;                 /* measured without error */
	char error[512];
	char transport[16], shm[16];
	char signal[16];          /* the path the clients used, "" for none */
	uint64_t frames;          /* end-to-end frames, all clients */
	double fps;               /* end to end, render included, aggregate */
	double render_fps;        /* render alone */
	double transport_fps;     /* transport alone (second pass) */
	double gbps;              /* damage bytes per second at transport_fps */
	double release_p50, release_p99;     /* µs, NAN when none */
	double presented_p50, presented_p99; /* µs, NAN when none */
	double client_cpu_us, server_cpu_us; /* per frame, NAN when unknown */
	/* Per frame of the end-to-end passes, NAN when unknown: syscalls
	 * made, and sleeps (voluntary context switches: each one ends in a
	 * wake-up). */
	double client_sys, server_sys, client_sleeps, server_sleeps;
	double client_fps_min, client_fps_med, client_fps_max;
	uint64_t discarded;
};

/* bench.c */
extern const char *const bench_mode_names[BENCH_MODE_COUNT];
/* "memfd", "posix", "sysv", or "" for ANY. */
const char *bench_shm_kind_name(enum shmframe_shm_kind kind);
/* "socket", "ring", "ring+spin", or "" for none. */
const char *bench_signal_label(const struct bench_job *job);

/* bench-run.c: a row's client processes, started once and measured in
 * rounds.  Each returns 0, or -1 with row->error set; after a failure the
 * row's clients are gone and *run must not be used again. */
struct bench_running;
int bench_row_start(const struct bench_config *cfg, struct bench_row *row,
                    struct bench_running **run);
/* One end-to-end and one transport-alone pass on all the row's clients. */
int bench_row_round(struct bench_running *run);
/* Verifies the last frames, fills the row's figures and ends the clients;
 * run is freed either way. */
int bench_row_finish(struct bench_running *run);
/* Ends the clients without figures; NULL is allowed. */
void bench_row_abort(struct bench_running *run);
/* Kills and reaps every client process (for the signal handler:
 * async-signal-safe). */
void bench_run_kill_on_signal(void);
/* Fds of the parent that a newly started process must close first. */
void bench_track_fd(int fd);
void bench_untrack_fd(int fd);
void bench_close_inherited(void);
/* A set of n pids that a signal handler reads: fixed storage, 0 for a
 * free slot.  Adding to a full set does nothing. */
void bench_pids_add(volatile pid_t *set, size_t n, pid_t pid);
void bench_pids_remove(volatile pid_t *set, size_t n, pid_t pid);
/* Records an error on the client (printf-like); returns -1. */
int bench_client_fail(struct bench_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Writes all of buf (the caller ignores SIGPIPE); 0 or -1 with errno. */
int bench_write_full(int fd, const void *buf, size_t len);
/* The untimed pass a mode runs at the end of its setup. */
struct bench_pass bench_warmup_pass(const struct bench_config *cfg);
/* Whether a pass should draw another frame. */
int bench_pass_more(const struct bench_pass *pass, uint64_t frames,
                    uint64_t elapsed_ns);

/* bench-modes.c, bench-limits.c, bench-x11.c */
extern const struct bench_mode_ops bench_shm_latch_ops;
extern const struct bench_mode_ops bench_shm_copy_ops;
extern const struct bench_mode_ops bench_socket_ops;
extern const struct bench_mode_ops bench_memcpy_limit_ops;
extern const struct bench_mode_ops bench_socket_limit_ops;
extern const struct bench_mode_ops bench_render_limit_ops;
extern const struct bench_mode_ops bench_x11_putimage_ops;
extern const struct bench_mode_ops bench_x11_shm_ops;

/* bench-limits.c: the raw wake-up round trip between two processes (a
 * 1-byte ping-pong over a socketpair); p50 and p99 in µs.  0 or -1 with
 * err filled. */
int bench_wakeup_rtt(unsigned rounds, double *p50, double *p99, char *err,
                     size_t errlen);

/* bench-frame.c */
/* Draws every pixel of rect (surface coordinates) for frame, writing the
 * frame's tag into its first pixel.  origin points at the rectangle's first
 * pixel in memory; rows are stride bytes apart. */
void bench_render(uint8_t *origin, size_t stride, uint32_t frame,
                  const struct shmframe_rect *rect);
/* Draws the background (BENCH_BG_FRAME, no tag) over rect. */
void bench_render_background(uint8_t *origin, size_t stride,
                             const struct shmframe_rect *rect);
/* Writes only the tag of frame (into the rectangle's first pixel). */
void bench_tag_write(uint8_t *origin, uint32_t frame);
/* 1 when the pixel at origin carries frame's tag. */
int bench_tag_check(const uint8_t *origin, uint32_t frame);
/* Compares an image of the surface's area (its first pixel at img, rows
 * stride bytes apart) with what it must hold after frame was drawn into
 * damage over the background.  Only the bits in mask are compared (X drops
 * the fourth byte).  Returns the number of wrong pixels; the first one is
 * described in why. */
uint64_t bench_image_check(const uint8_t *img, size_t stride,
                           const struct shmframe_rect *area,
                           const struct shmframe_rect *damage,
                           uint32_t frame, uint32_t mask, char *why,
                           size_t whylen);
/* bench_image_check over the client's whole surface (the job's size):
 * 0, or -1 after failing the client with "WHAT has N wrong pixels". */
int bench_client_check_image(struct bench_client *c, const uint8_t *img,
                             size_t stride, uint32_t frame, uint32_t mask,
                             const char *what);

/* bench-stats.c */
uint64_t bench_now_ns(void);
/* CPU time (user + system) of this process, ns. */
uint64_t bench_cpu_self_ns(void);
/* CPU time of process pid (every thread), ns; 0 when it cannot be read. */
uint64_t bench_cpu_pid_ns(pid_t pid);
int bench_samples_add(struct bench_samples *s, double us);
void bench_samples_free(struct bench_samples *s);
/* Nearest-rank percentile (0 < p <= 100) of n values; sorts v in place.
 * NAN when n == 0. */
double bench_percentile(float *v, size_t n, double p);
double bench_median(double *v, size_t n);
/* Pid of the peer of a connected Unix socket, 0 when unknown. */
pid_t bench_peer_pid(int fd);
/* Pid of the process listening on a "unix:PATH" address (found by
 * connecting and hanging up at once), 0 when unknown or another kind of
 * address. */
pid_t bench_addr_pid(const char *addr);

/* bench-sys.c: syscalls and sleeps of a process, counted as
 * `perf stat -e raw_syscalls:sys_enter` counts them (the tracepoint
 * through perf_event_open), and from /proc. */
#define BENCH_SYS_TASKS 16
struct bench_sys {
	int fds[BENCH_SYS_TASKS]; /* one per thread counted */
	unsigned n;
	pid_t pid;                /* 0: the calling thread */
};
/* The tracepoint's id, or -1 with err filled (no tracefs, or not
 * permitted: perf_event_open needs CAP_PERFMON, or root, or
 * kernel.perf_event_paranoid <= 1 for a kernel tracepoint).  Keeps a
 * counter of its own open until bench_sys_end(). */
int bench_sys_event(char *err, size_t errlen);
void bench_sys_end(void);
/* Opens a stopped counter on every thread of pid (0: the calling thread
 * alone; threads started later are not counted).  Its fds are tracked
 * (bench_track_fd).  0, or -1 with errno set and nothing open. */
int bench_sys_open(struct bench_sys *s, int event, pid_t pid);
/* Zeroes and starts the counter. */
void bench_sys_start(struct bench_sys *s);
/* Stops it and reads the syscalls since bench_sys_start: 0, or -1.  On
 * the calling thread the stop is one of them and is left out. */
int bench_sys_stop(struct bench_sys *s, uint64_t *n);
/* Closes it; a counter never opened (n == 0) is fine. */
void bench_sys_close(struct bench_sys *s);
/* Voluntary context switches of this process / of every thread of pid:
 * 0, or -1. */
int bench_sleeps_self(uint64_t *n);
int bench_sleeps_pid(pid_t pid, uint64_t *n);

/* bench-spawn.c */
struct bench_server {
	pid_t pid;
	int out_fd;          /* its stdout, drained between rows */
	char dir[64];        /* private directory holding the socket */
	char path[128];      /* socket path */
	char addr[160];      /* "unix:" + path */
};
/* Finds and starts shmframe-server listening on a fresh socket, and waits
 * for its "ready" line.  spin_us < 0: the server's default spinning;
 * otherwise --spin-us spin_us when the server has that option, and when
 * it has not, spin_us 0 is the server as it is and any other value an
 * error.  0 or -1 with err filled. */
int bench_server_start(struct bench_server *s, long spin_us, char *err,
                       size_t errlen);
/* Reads and drops what the server printed since the last call. */
void bench_server_drain(struct bench_server *s);
/* 1 while the process is running. */
int bench_process_alive(pid_t pid);
void bench_server_stop(struct bench_server *s);
/* Starts argv[0] (searched in PATH) with stdout and stderr on /dev/null,
 * keep_fd (if >= 0) moved to fd 3, and SIGTERM sent to it should we die.
 * Returns its pid or -1 with errno set. */
pid_t bench_spawn(char *const argv[], int keep_fd);
/* SIGTERM, then SIGKILL after timeout_ms; reaps the process. */
void bench_stop_process(pid_t pid, int timeout_ms);
/* For the signal handler (async-signal-safe): stops and reaps the helpers
 * and removes the server's socket and directory. */
void bench_spawn_cleanup_on_signal(void);

/* bench-x11.c */
struct bench_x11 {
	char display[32];    /* what the clients connect to */
	pid_t xvfb_pid;      /* 0 when DISPLAY was used */
};
/* Uses $DISPLAY, or starts Xvfb when it is unset; checks that the server
 * takes 32-bit BGRX images, and warms it up with frames of warm_w x warm_h
 * (0: none).  0 or -1 with err filled. */
int bench_x11_open(struct bench_x11 *x, uint32_t warm_w, uint32_t warm_h,
                   char *err, size_t errlen);
void bench_x11_close(struct bench_x11 *x);

/* Draws the chart of the rows in csv into png with shmframe-bench-chart
 * (bench-chart.sh, beside this program), which needs gnuplot and says so
 * on stderr when it is missing.  0 or -1 with err filled. */
int bench_chart_draw(const char *csv, const char *png, char *err,
                     size_t errlen);

#endif
