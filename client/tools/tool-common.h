/*
 * What shmframe-send and shmframe-demo share: parsing of the common
 * options, frame pacing, and the final key=value line.
 */
#ifndef SHMFRAME_TOOL_COMMON_H
#define SHMFRAME_TOOL_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include <shmframe.h>

#include <getopt.h>
#include <stddef.h>

#include "png-io.h"

/* PNG files as the tools read them (sf__png_load): shmframe's B,G,R,A
 * pixels, at most this many on a side. */
#define SF_TOOL_PNG_MAX_SIDE 16384u

/* How the tools write readbacks (sf__png_save): B,G,R,A in, RGBA out. */
extern const struct sf_png_format sf__tool_png;

/* The connection options every tool takes: --server, --transport, --shm. */
struct sf_conn_args {
	const char *server;
	bool transport_set, shm_set;
	enum shmframe_transport transport;
	enum shmframe_shm_kind shm;
};

/* Their entries in a getopt_long table (values 's', 't', 'm'). */
#define SF_CONN_LONGOPTS \
	{ "server", required_argument, NULL, 's' }, \
	{ "transport", required_argument, NULL, 't' }, \
	{ "shm", required_argument, NULL, 'm' }

/* Takes getopt's opt and optarg: 0 when stored, -1 for a bad value (why
 * says which), 1 when opt is not one of the connection options. */
int sf__conn_option(struct sf_conn_args *a, int opt, const char *arg,
                    char *why, size_t why_len);

/* Puts the options given on the command line into opts. */
void sf__conn_apply(const struct sf_conn_args *a, struct shmframe_options *opts);

/* Prints "PROG: message" and a pointer to --help on stderr; returns 2,
 * the exit status of a usage error. */
int sf__usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Each returns 0, or -1 when text is not valid. */
int sf__parse_transport(const char *text, enum shmframe_transport *out);
int sf__parse_shm(const char *text, enum shmframe_shm_kind *out);
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

/* "frames=N transport=shm shm=memfd width=W height=H seconds=S fps=F
 * reason=\"...\"" (transport=socket and no shm= key on the socket), with
 * extra (may be NULL) inserted before reason=. */
void sf__print_summary(struct shmframe_conn *conn, uint64_t frames,
                       uint32_t width, uint32_t height, double seconds,
                       const char *extra);

#endif
