/*
 * shmframe-server's command line (options.c): what main.c starts the
 * server with.
 */
#ifndef SHMFRAME_SERVER_OPTIONS_H
#define SHMFRAME_SERVER_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

#include "display.h"
#include "server-private.h"

#define SFS_MAX_LISTEN 16
#define SFS_MAX_ALLOW_UIDS 64

struct sfs_options {
	const char *listen[SFS_MAX_LISTEN]; /* point into argv */
	unsigned n_listen;
	enum sf_display_kind display;
	const char *dump_dir;
	unsigned dump_every;
	uid_t allow_uids[SFS_MAX_ALLOW_UIDS];
	unsigned n_allow_uids;
	const char *auth_file;
	/* --input-socket: NULL for one beside each Unix listener, "" for
	 * none, else the one path (points into argv). */
	const char *input_socket;
	bool verbose;
	bool signal_socket;     /* --signal socket (or SHMFRAME_SIGNAL) */
	unsigned spin_us;       /* --spin-us */
	struct sf_limits limits;
	struct sf_server_limits glimits;
};

/* Fills *o from argv and the environment.  Returns -1 when the server is
 * to start, else the exit status: 0 after --help or --version (printed
 * on standard output), 2 after a usage error (printed on stderr). */
int sfs__options_parse(int argc, char **argv, struct sfs_options *o);

#endif
