/*
 * shmframe-server: start-up, signals, and the loop that runs the server
 * (server.c) until a signal stops it; the command line is options.c's.
 *
 * Signals come through a signalfd into the event loop: SIGINT and SIGTERM
 * stop the server cleanly (everything freed, socket files unlinked, exit
 * 0), SIGUSR1 writes PNG snapshots when --dump-dir is given.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "control.h"
#include "display.h"
#include "options.h"
#include "server-private.h"

/* The signal fd's watch, and what it sets. */
struct signals {
	struct sf_watch watch;
	int fd;
	struct sf_server *server;
	bool stop;
};

/* ---- start-up --------------------------------------------------------- */

static bool any_tcp(const struct sfs_options *o)
{
	for (unsigned i = 0; i < o->n_listen; i++)
		if (strncmp(o->listen[i], "tcp:", 4) == 0)
			return true;
	return false;
}

static int setup_auth(struct sf_server *server, const struct sfs_options *o)
{
	char path[256];
	int err;

	if (o->auth_file) {
		snprintf(path, sizeof path, "%s", o->auth_file);
	} else {
		const char *env = getenv("SHMFRAME_AUTH");

		/* The default lives in the runtime directory: make it first. */
		if (!env || !env[0]) {
			char why[300];

			err = sf__runtime_dir_make(why, sizeof why);
			if (err) {
				sfs__log("cannot use the auth file: %s", why);
				return err;
			}
		}
		err = sf__auth_path(path, sizeof path);
		if (err) {
			sfs__log("auth file path too long");
			return err;
		}
	}
	return sfs__auth_load_or_create(server, path);
}

#ifdef SHMFRAME_HAVE_SDL
/* auto: windows when a window system is announced and answers. */
static bool try_auto_sdl(struct sf_server *server)
{
	const char *x11 = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
	char why[256] = "";

	if ((!x11 || !x11[0]) && (!wl || !wl[0]))
		return false;
	if (sfs__display_sdl_create(&server->display, why, sizeof why) == 0)
		return true;
	sfs__verbose(server, "no windows (%s): running headless", why);
	return false;
}

static int open_sdl(struct sf_server *server)
{
	char why[256] = "";
	int err = sfs__display_sdl_create(&server->display, why, sizeof why);

	if (err)
		sfs__log("cannot open the SDL display: %s", why);
	return err;
}
#else
static bool try_auto_sdl(struct sf_server *server)
{
	(void)server;
	return false;
}

static int open_sdl(struct sf_server *server)
{
	(void)server;
	sfs__log("--display sdl: this server was built without SDL");
	return -ENOTSUP;
}
#endif

static int setup_display(struct sf_server *server, enum sf_display_kind kind)
{
	int err;

	if (kind == SF_DISPLAY_AUTO && try_auto_sdl(server))
		return 0;
	if (kind == SF_DISPLAY_SDL)
		return open_sdl(server);
	err = sfs__display_none_create(&server->display);
	if (err)
		sfs__log("cannot set up the headless display: %s", strerror(-err));
	return err;
}

static void signal_event(struct sf_watch *w, uint32_t events)
{
	struct signals *sig = w->data;
	struct signalfd_siginfo si;

	(void)events;
	while (read(sig->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGUSR1) {
			if (sig->server->dump_dir)
				sfs__snapshot_all(sig->server);
			else
				sfs__verbose(sig->server, "SIGUSR1 without --dump-dir: "
				            "no snapshot written");
		} else {
			sig->stop = true;
		}
	}
}

static int setup_signals(struct signals *sig, struct sf_server *server)
{
	sigset_t set;
	int err;

	/* A dead peer must be an error from write, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	/* Blocked before SDL may start threads, so that they inherit it and
	 * every one of these reaches the signalfd. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sig->server = server;
	sig->stop = false;
	sig->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig->fd < 0)
		return -errno;
	err = sfs__loop_add(server->loop, &sig->watch, sig->fd, SF_LOOP_READ,
	                   signal_event, sig);
	if (err) {
		close(sig->fd);
		sig->fd = -1;
	}
	return err;
}

/* Snapshots hold screen contents: a directory made here is private, and
 * an existing one must be ours alone (see sfs__dump_dir_open). */
static int ensure_dump_dir(const char *dir)
{
	char why[300];
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int err = -errno;

		sfs__log("cannot create the dump directory %s: %s", dir,
		        strerror(-err));
		return err;
	}
	fd = sfs__dump_dir_open(dir, why, sizeof why);
	if (fd < 0) {
		sfs__log("%s: refusing to start", why);
		return fd;
	}
	close(fd);
	return 0;
}

/* The input control sockets: the one --input-socket names, or one beside
 * each Unix listener (PATH.input; RUNTIME_DIR/N.input for :N, whose
 * directory the listener checked).  A default path too long for a socket
 * is left out, with a message: it is no reason not to start. */
static int setup_control(struct sf_server *server, const struct sfs_options *o,
                         struct sfs_control **ctl)
{
	char paths[SFS_MAX_LISTEN][108];
	const char *p[SFS_MAX_LISTEN];
	unsigned n = 0;

	if (o->input_socket) {
		if (o->input_socket[0])
			p[n++] = o->input_socket;
		return sfs__control_open(server, p, n, ctl);
	}
	for (unsigned i = 0; i < o->n_listen; i++) {
		struct sf_addr a;

		if (sf__addr_parse(o->listen[i], &a) < 0 || a.kind != SF_ADDR_UNIX)
			continue;
		if (snprintf(paths[n], sizeof paths[n], "%s.input", a.path) >=
		    (int)sizeof paths[n]) {
			sfs__log("no input socket beside %s: the path is too long "
			        "(name one with --input-socket)", a.path);
			continue;
		}
		p[n] = paths[n];
		n++;
	}
	return sfs__control_open(server, p, n, ctl);
}

static void print_ready(struct sf_server *server, struct sfs_control *ctl)
{
	struct sf_listener *l;

	fputs("ready", stdout);
	list_for_each(l, &server->listeners, struct sf_listener, link)
		if (!l->accepted)
			printf(" listen=%s", l->text);
	for (unsigned i = 0; i < sfs__control_count(ctl); i++)
		printf(" input=%s", sfs__control_path(ctl, i));
	putchar('\n');
	fflush(stdout);
}

/* ---- main loop -------------------------------------------------------- */

static int run(struct sf_server *server, struct signals *sig)
{
	while (!sig->stop)
		if (sfs__server_iterate(server, -1) < 0)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sfs_options o;
	struct sf_server server;
	struct signals sig = { .fd = -1 };
	struct sfs_control *ctl = NULL;
	int status = EXIT_FAILURE;
	int r = sfs__options_parse(argc, argv, &o);

	if (r >= 0)
		return r;

	memset(&server, 0, sizeof server);
	server.uid = getuid();
	server.allow_uids = o.allow_uids;
	server.n_allow_uids = o.n_allow_uids;
	server.dump_dir = o.dump_dir;
	server.dump_every = o.dump_every;
	server.verbose = o.verbose;
	server.signal_socket = o.signal_socket;
	server.spin_us = o.spin_us;
	server.limits = o.limits;
	server.glimits = o.glimits;

	r = sfs__server_init(&server);
	if (r < 0) {
		sfs__log("cannot create the event loop: %s", strerror(-r));
		return EXIT_FAILURE;
	}
	if (setup_signals(&sig, &server) < 0) {
		sfs__log("cannot set up signal handling: %s", strerror(errno));
		goto out_server;
	}
	if (sfs__sigbus_guard_install() < 0) {
		sfs__log("cannot install the SIGBUS guard: %s", strerror(errno));
		goto out_signals;
	}
	if (o.dump_dir && ensure_dump_dir(o.dump_dir) < 0)
		goto out_signals;
	if (setup_display(&server, o.display) < 0)
		goto out_signals;
	if (any_tcp(&o) && setup_auth(&server, &o) < 0)
		goto out_signals;
	for (unsigned i = 0; i < o.n_listen; i++)
		if (sfs__listener_open(&server, o.listen[i]) < 0)
			goto out_signals;
	if (setup_control(&server, &o, &ctl) < 0)
		goto out_signals;
	print_ready(&server, ctl);

	if (run(&server, &sig) == 0)
		status = EXIT_SUCCESS;

out_signals:
	sfs__control_close(ctl);
	if (sig.fd >= 0) {
		sfs__loop_remove(server.loop, &sig.watch);
		close(sig.fd);
	}
out_server:
	/* Clients, listeners, the display and the loop. */
	sfs__server_fini(&server);
	return status;
}
