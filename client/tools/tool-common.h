/*
 * What shmframe-send and shmframe-demo share: parsing of the common
 * options, connecting, the readback, frame pacing, and the final
 * key=value line.
 */
#ifndef SHMFRAME_TOOL_COMMON_H
#define SHMFRAME_TOOL_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include <shmframe.h>

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "png-io.h"

/* PNG files as the tools read them (sf__png_load): shmframe's B,G,R,A
 * pixels, at most this many on a side. */
#define SF_TOOL_PNG_MAX_SIDE 16384u

/* How the tools write readbacks (sf__png_save): B,G,R,A in, RGBA out. */
extern const struct sf_png_format sf__tool_png;

/* The connection options every tool takes: --server, --transport, --shm,
 * --signal, --compress. */
struct sf_conn_args {
	const char *server;
	bool transport_set, shm_set, signal_set, compress_set;
	enum shmframe_transport transport;
	enum shmframe_shm_kind shm;
	enum shmframe_signal signal;
	enum shmframe_compress compress;
};

/* Their entries in a getopt_long table (values 's', 't', 'm', 'g', 'z'). */
#define SF_CONN_LONGOPTS \
	{ "server", required_argument, NULL, 's' }, \
	{ "transport", required_argument, NULL, 't' }, \
	{ "shm", required_argument, NULL, 'm' }, \
	{ "signal", required_argument, NULL, 'g' }, \
	{ "compress", required_argument, NULL, 'z' }

/* The options every tool that shows a surface takes: the connection's,
 * --fps, --buffers, --title, --readback, --help and --version. */
struct sf_tool_args {
	struct sf_conn_args conn;
	unsigned fps;
	unsigned buffers;        /* --buffers, 0: the library's default */
	const char *title;
	const char *readback;
};

/* Their entries in a getopt_long table. */
#define SF_TOOL_LONGOPTS \
	SF_CONN_LONGOPTS, \
	{ "fps", required_argument, NULL, 'f' }, \
	{ "buffers", required_argument, NULL, 'b' }, \
	{ "title", required_argument, NULL, 'T' }, \
	{ "readback", required_argument, NULL, 'o' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }

/* getopt_long's opt and optarg for an option the tool itself does not
 * take: stores one of SF_TOOL_LONGOPTS and returns -1 to go on, or returns
 * the exit status: 0 after --help (usage on stdout) or --version, 2 after
 * a usage error (a bad value, an unknown option). */
int sf__tool_option(const char *prog, struct sf_tool_args *a, int opt,
                    const char *arg, char **argv, void (*usage)(FILE *));

/* Connects as the options given ask (opts from shmframe_options_init, and
 * anything else the tool sets), named prog.  NULL after a message. */
struct shmframe_conn *sf__tool_connect(const char *prog,
                                       const struct sf_tool_args *a,
                                       struct shmframe_options *opts);

/* A w x h ARGB8888 surface titled --title, else prog.  NULL after a
 * message. */
struct shmframe_surface *sf__tool_surface(const char *prog,
                                          const struct sf_tool_args *a,
                                          struct shmframe_conn *conn,
                                          uint32_t w, uint32_t h);

/* Why a call failed with err (-errno): the connection's error when it
 * has one. */
const char *sf__tool_why(struct shmframe_conn *conn, int err);

/* Reads the w x h surface back and writes it to --readback as a PNG.  0,
 * or -1 after a message. */
int sf__tool_readback(const char *prog, const struct sf_tool_args *a,
                      struct shmframe_conn *conn, struct shmframe_surface *s,
                      uint32_t w, uint32_t h);

/* Prints "PROG: message" and a pointer to --help on stderr; returns 2,
 * the exit status of a usage error. */
int sf__usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Each returns 0, or -1 when text is not valid. */
int sf__parse_uint(const char *text, uint64_t max, uint64_t *out);
/* "WxH", each 1..16384; rest (may be NULL) receives what follows. */
int sf__parse_size(const char *text, uint32_t *w, uint32_t *h,
                   const char **rest);

/* CLOCK_MONOTONIC in seconds. */
double sf__now(void);

/* Sleeps until frame k's start time of a slideshow at fps frames per
 * second that began at start (no sleep when fps is 0); a signal cuts the
 * sleep short. */
void sf__pace(double start, uint64_t k, unsigned fps);

/* "ring" or "socket": the connection's signalling, as the summary says it. */
const char *sf__signal_name(const struct shmframe_conn *conn);

/* "none", "lz4" or "zstd": the connection's codec, as the summary says it. */
const char *sf__compress_name(const struct shmframe_conn *conn);

/* Prints " key=\"text\"": free text kept on one line, with one pair of
 * quotes (a quote inside becomes ', a line break a space). */
void sf__print_quoted(const char *key, const char *text);

/* "frames=N transport=shm shm=memfd signal=ring width=W height=H
 * seconds=S fps=F signal_reason=\"...\" reason=\"...\"" (transport=socket
 * and no shm= key on the socket; signal=socket without rings), with extra
 * (may be NULL) inserted before signal_reason=. */
void sf__print_summary(struct shmframe_conn *conn, uint64_t frames,
                       uint32_t width, uint32_t height, double seconds,
                       const char *extra);

#endif
