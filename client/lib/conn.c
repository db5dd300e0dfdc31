/*
 * Connecting: the socket, the HELLO/WELCOME handshake, and the
 * connection's sticky error and log.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "client-private.h"
#include "cookie.h"
#include "text.h"

#ifndef SHMFRAME_VERSION_STRING
#define SHMFRAME_VERSION_STRING "unknown"
#endif

/* Frames are large: socket buffers sized for them save wake-ups.  The
 * kernel caps the value (net.core.wmem_max), which is fine. */
#define SOCKET_BUFFER (4 << 20)

void sfc__log(struct shmframe_conn *conn, enum shmframe_log_level level,
             const char *fmt, ...)
{
	char msg[SF_ERROR_TEXT + 64];
	va_list ap;

	if (!conn->opts.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	conn->opts.log(conn->opts.log_data, level, msg);
}

int sfc__fail(struct shmframe_conn *conn, int err, const char *fmt, ...)
{
	char text[SF_ERROR_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (conn->error) {
		/* Only the first error explains what happened; the rest are
		 * its consequences. */
		sfc__log(conn, SHMFRAME_LOG_DEBUG, "after the first error: %s", text);
		return conn->error;
	}
	conn->error = err < 0 ? err : -EIO;
	memcpy(conn->error_text, text, sizeof text);
	sfc__log(conn, SHMFRAME_LOG_ERROR, "%s", text);
	return conn->error;
}

int sfc__protocol_error(struct shmframe_conn *conn, const char *what)
{
	return sfc__fail(conn, -EPROTO, "protocol error: %s", what);
}

int sfc__fail_server(struct shmframe_conn *conn, const struct sf_error *e,
                    const char *text)
{
	char shown[SF_ERROR_TEXT - 16];

	/* The server's words, shown and never obeyed: a program prints
	 * shmframe_last_error() on its terminal. */
	sf__text_printable(shown, sizeof shown,
	                   text[0] ? text : sf__error_name(e->code));
	return sfc__fail(conn, sfc__error_errno(e->code), "server: %s", shown);
}

int sfc__conn_on_error(struct shmframe_conn *conn, const struct sf_error *e,
                      const char *text)
{
	sfc__log(conn, SHMFRAME_LOG_DEBUG, "ERROR %s for request %u (%s)",
	        sf__error_name(e->code), e->sequence,
	        sf__type_name(e->request_type));
	return sfc__fail_server(conn, e, text);
}

int sfc__conn_on_welcome(struct shmframe_conn *conn, const struct sf_welcome *w)
{
	if (conn->phase != SF_PHASE_HELLO)
		return sfc__protocol_error(conn, "WELCOME after the handshake");
	conn->welcome = *w;
	conn->phase = SF_PHASE_READY;
	return 0;
}

/*
 * Reads the TCP auth cookie (only a TCP connection needs one: over a Unix
 * socket the server knows our uid, and the cookie never leaves the
 * process).  A file that is missing, not ours alone, a symbolic link, a
 * FIFO or not a cookie fails the connection before any byte is sent.
 */
static int read_cookie(struct shmframe_conn *conn, uint8_t cookie[SF_COOKIE_SIZE])
{
	char path[4096], why[200];
	int err;

	if (conn->auth_file) {
		if (snprintf(path, sizeof path, "%s", conn->auth_file) >= (int)sizeof path)
			return sfc__fail(conn, -ENAMETOOLONG, "cookie file path too "
			                "long: %s", conn->auth_file);
	} else if (sf__auth_path(path, sizeof path)) {
		return sfc__fail(conn, -ENAMETOOLONG, "cookie file path too long");
	}
	err = sf__cookie_load(path, cookie, why, sizeof why);
	if (err == -ENOENT)
		return sfc__fail(conn, -EACCES, "no cookie file %s: a TCP server "
		                "lets in only clients that send the cookie of its "
		                "auth file (copy it there, mode 0600, or set "
		                "SHMFRAME_AUTH)", path);
	if (err)
		return sfc__fail(conn, -EPERM, "refusing the cookie file %s: it %s",
		                path, why);
	return 0;
}

/*
 * The uid besides ours and root's that a unix:PATH server may run as,
 * from $SHMFRAME_SERVER_UID: a server of another user that let us in with
 * --allow-uid.  -1 when unset or not a number.
 */
static long trusted_server_uid(void)
{
	const char *env = getenv("SHMFRAME_SERVER_UID");
	char *end;
	unsigned long uid;

	if (!env || !*env)
		return -1;
	errno = 0;
	uid = strtoul(env, &end, 10);
	if (*end || errno || uid >= (uid_t)-1 || env[0] == '-')
		return -1;
	return (long)uid;
}

/*
 * Who listens at the other end, before a byte is sent to it: frames,
 * memfds and names are for our own server (or root's).  Over :N the
 * runtime directory has already been checked and nothing else is
 * accepted; over unix:PATH, $SHMFRAME_SERVER_UID may name one more uid.
 */
static int check_server_uid(struct shmframe_conn *conn, int fd,
                            const struct sf_addr *a, const char *name)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	unsigned me = (unsigned)getuid();
	long trusted = a->in_runtime_dir ? -1 : trusted_server_uid();

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return sfc__fail(conn, -EPERM, "refusing to talk to %s: the "
		                "server's uid cannot be read (SO_PEERCRED: %s)", name,
		                strerror(errno));
	if (len != sizeof cred)
		return sfc__fail(conn, -EPERM, "refusing to talk to %s: the "
		                "server's uid cannot be read (SO_PEERCRED)", name);
	if (cred.uid == me || cred.uid == 0 || (long)cred.uid == trusted)
		return 0;
	if (a->in_runtime_dir)
		return sfc__fail(conn, -EPERM, "refusing to talk to %s: the server "
		                "there runs as uid %u, not as you (uid %u) or root",
		                name, (unsigned)cred.uid, me);
	return sfc__fail(conn, -EPERM, "refusing to talk to %s: the server runs "
	                "as uid %u, not as you (uid %u) or root (set "
	                "SHMFRAME_SERVER_UID=%u to trust it)", name,
	                (unsigned)cred.uid, me, (unsigned)cred.uid);
}

/* Linux 6.16 and later: SO_PASSRIGHTS 0 makes a peer's SCM_RIGHTS fail
 * with EPERM in its sendmsg.  The value of the generic socket options,
 * for headers that predate it. */
#if !defined(SO_PASSRIGHTS) && (defined(__x86_64__) || defined(__i386__) || \
	defined(__aarch64__) || defined(__arm__) || defined(__riscv))
#define SO_PASSRIGHTS 83
#endif

/*
 * No server ever passes us an fd; one that does is hostile, and closing
 * what it passed can block (a Unix socket that holds a lingering TCP
 * socket, a FUSE file): the fd arrives with recvmsg whether we want it or
 * not, and then its last close() is ours.  Where the kernel can refuse
 * fds for us, it does, before the server can send any.  Elsewhere fds
 * are still refused by the library (see io.c), after the fact.
 */
static void refuse_fds(int fd)
{
#ifdef SO_PASSRIGHTS
	int off = 0;

	/* ENOPROTOOPT before Linux 6.16: nothing more to do. */
	setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof off);
#else
	(void)fd;
#endif
}

/* How long a Unix connect waits for room in the listener's backlog. */
static const struct timeval connect_timeout = { .tv_sec = 5 };

static void set_buffers(int fd)
{
	int size = SOCKET_BUFFER;

	/* Best effort: a smaller buffer only costs wake-ups. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

/*
 * The path to connect to for a :N address, through the runtime directory
 * that was checked (dfd): /proc/self/fd/DFD/N.  Checking the path and
 * then connecting to it would let whoever may rename entries of a parent
 * (another user's $XDG_RUNTIME_DIR) swap in a directory of theirs in
 * between, holding a link to any socket of root's.  Without /proc the
 * path itself is used, and that race is open.
 */
static void path_in_dir(char *buf, size_t len, int dfd, const char *dir,
                        const char *path)
{
	size_t n = strlen(dir);
	char proc[64];

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", dfd);
	if (strncmp(path, dir, n) == 0 && path[n] == '/' &&
	    access(proc, F_OK) == 0 &&
	    snprintf(buf, len, "%s%s", proc, path + n) < (int)len)
		return;
	snprintf(buf, len, "%s", path);
}

static int connect_unix(struct shmframe_conn *conn, const struct sf_addr *a,
                        const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, r, dfd = -1;

	if (strlen(a->path) >= sizeof sun.sun_path)
		return sfc__fail(conn, -ENAMETOOLONG, "socket path too long: %s",
		                a->path);
	memcpy(sun.sun_path, a->path, strlen(a->path) + 1);
	if (a->in_runtime_dir) {
		char dir[108], why[300];

		/* Whoever made the directory decides who listens in it; the
		 * directory checked is the one connected in. */
		r = sf__runtime_dir(dir, sizeof dir);
		if (!r)
			r = dfd = sf__runtime_dir_open(dir, why, sizeof why);
		if (r == -ENOENT)
			return sfc__fail(conn, -ENOENT, "cannot connect to %s: no "
			                "server (%s)", name, why);
		if (r < 0)
			return sfc__fail(conn, r == -ENAMETOOLONG ? r : -EPERM,
			                "refusing to connect to %s: %s", name,
			                r == -ENAMETOOLONG ? "path too long" : why);
		path_in_dir(sun.sun_path, sizeof sun.sun_path, dfd, dir, a->path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = sfc__fail(conn, -errno, "socket: %s", strerror(errno));
		goto close_dir;
	}
	set_buffers(fd);
	refuse_fds(fd);
	/* A local connect is immediate, or waits while the listener's
	 * backlog is full (a non-blocking socket would turn that into a
	 * spurious EAGAIN); the socket becomes non-blocking right after.  The
	 * wait is bounded: the listener's uid is not known yet, and a
	 * listener of anyone's that never accepts would hold us forever. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &connect_timeout,
	           sizeof connect_timeout);
	do
		r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == EAGAIN) {
		r = sfc__fail(conn, -ETIMEDOUT, "cannot connect to %s: its backlog "
		             "stayed full for %d s (a listener that does not "
		             "accept)", name, (int)connect_timeout.tv_sec);
		goto close_socket;
	}
	if (r < 0) {
		int err = -errno;

		r = sfc__fail(conn, err, "cannot connect to %s: %s", name,
		             strerror(-err));
		goto close_socket;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){ 0, 0 },
	           sizeof(struct timeval));
	r = check_server_uid(conn, fd, a, name);
	if (r < 0)
		goto close_socket;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		int err = -errno;

		r = sfc__fail(conn, err, "fcntl: %s", strerror(-err));
		goto close_socket;
	}
	conn->fd = fd;
	conn->is_unix = true;
	r = 0;
	goto close_dir;

close_socket:
	close(fd);
close_dir:
	if (dfd >= 0)
		close(dfd);
	return r;
}

/* Non-blocking connect to one address, waiting with poll(). */
static int connect_one(const struct addrinfo *ai)
{
	int fd, r, one = 1, soerr = 0;
	socklen_t len = sizeof soerr;
	struct pollfd pfd;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	            ai->ai_protocol);
	if (fd < 0)
		return -errno;
	set_buffers(fd);
	/* Requests are small and latency matters more than packet count. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (r < 0 && errno != EINPROGRESS && errno != EINTR) {
		r = -errno;
		goto close_fd;
	}
	if (r < 0) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			r = poll(&pfd, 1, -1);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			r = -errno;
			goto close_fd;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
			r = -errno;
			goto close_fd;
		}
		if (soerr) {
			r = -soerr;
			goto close_fd;
		}
	}
	return fd;

close_fd:
	close(fd);
	return r;
}

static int connect_tcp(struct shmframe_conn *conn, const struct sf_addr *a,
                       const char *name)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
	                          .ai_socktype = SOCK_STREAM };
	struct addrinfo *list, *ai;
	int r, err = -ECONNREFUSED;

	r = getaddrinfo(a->host, a->port, &hints, &list);
	if (r)
		return sfc__fail(conn, r == EAI_SYSTEM ? -errno : -EHOSTUNREACH,
		                "cannot resolve %s: %s", a->host, gai_strerror(r));
	for (ai = list; ai; ai = ai->ai_next) {
		int fd = connect_one(ai);

		if (fd >= 0) {
			conn->fd = fd;
			conn->is_unix = false;
			freeaddrinfo(list);
			return 0;
		}
		err = fd;
	}
	freeaddrinfo(list);
	return sfc__fail(conn, err, "cannot connect to %s: %s", name,
	                strerror(-err));
}

/* cookie: all zero over a Unix socket, where none is needed. */
static int handshake(struct shmframe_conn *conn,
                     const uint8_t cookie[SF_COOKIE_SIZE])
{
	struct sf_hello hello = {
		.magic = SF_MAGIC,
		.major = SF_VERSION_MAJOR,
		.minor = SF_VERSION_MINOR,
		.caps = SF_CAP_ALL,
	};
	const char *name = conn->name ? conn->name : "shmframe";
	size_t name_len = strnlen(name, SF_MAX_NAME);
	int err;

	memcpy(hello.cookie, cookie, SF_COOKIE_SIZE);
	hello.name_len = (uint16_t)name_len;
	conn->phase = SF_PHASE_HELLO;
	err = sfc__request(conn, SF_HELLO, &hello, sizeof hello, name, name_len);
	explicit_bzero(hello.cookie, sizeof hello.cookie);
	if (!err)
		err = sfc__flush_all(conn);
	while (!err && conn->phase == SF_PHASE_HELLO) {
		int r = sfc__pump(conn);

		if (r < 0)
			err = r;
	}
	if (err)
		return err;
	sfc__log(conn, SHMFRAME_LOG_DEBUG,
	        "connected: server %u.%u, client id %u, caps 0x%x, surfaces up to "
	        "%ux%u", conn->welcome.major, conn->welcome.minor,
	        conn->welcome.client_id, conn->welcome.caps,
	        conn->welcome.max_width, conn->welcome.max_height);
	return 0;
}

static char *copy_string(const char *s, int *err)
{
	char *c;

	if (!s)
		return NULL;
	c = strdup(s);
	if (!c)
		*err = -ENOMEM;
	return c;
}

SHMFRAME_EXPORT struct shmframe_conn *
shmframe_connect_sized(const char *addr, const struct shmframe_options *opts,
                       size_t size)
{
	struct shmframe_conn *conn = calloc(1, sizeof *conn);
	struct sf_addr a;
	uint8_t cookie[SF_COOKIE_SIZE];
	char name[512];
	int err = 0;

	if (!conn) {
		errno = ENOMEM;
		return NULL;
	}
	conn->fd = -1;
	conn->max_message = SF_MAX_MESSAGE;
	conn->transport = SHMFRAME_TRANSPORT_SOCKET;
	conn->signal = SHMFRAME_SIGNAL_SOCKET;
	sf__in_init(&conn->in, 0);
	sf__out_init(&conn->out, IOV_MAX);
	if (sfc__options_take(&conn->opts, opts, size)) {
		/* Nothing of the caller's is kept. */
		conn->opts.name = conn->opts.auth_file = NULL;
		sfc__fail(conn, -E2BIG, "the options set a member that this library "
		         "(%s) does not know: the program was built against a newer "
		         "shmframe.h", SHMFRAME_VERSION_STRING);
		return conn;
	}
	conn->name = copy_string(conn->opts.name, &err);
	conn->auth_file = copy_string(conn->opts.auth_file, &err);
	conn->opts.name = conn->name;
	conn->opts.auth_file = conn->auth_file;
	if (err) {
		sfc__fail(conn, err, "out of memory");
		return conn;
	}
	if (conn->opts.transport > SHMFRAME_TRANSPORT_SOCKET ||
	    conn->opts.shm > SHMFRAME_SHM_SYSV ||
	    conn->opts.buffers < 1 || conn->opts.buffers > SF_MAX_BUFFERS ||
	    conn->opts.signal > SHMFRAME_SIGNAL_SOCKET ||
	    conn->opts.compress > SHMFRAME_COMPRESS_ZSTD) {
		sfc__fail(conn, -EINVAL, "invalid options: transport, shm kind, "
		         "signal, compress or buffers (1..%u) out of range", SF_MAX_BUFFERS);
		return conn;
	}
	sfc__options_log_env(conn);
	err = sf__addr_parse(addr, &a);
	if (err) {
		const char *text = addr && *addr ? addr : getenv("SHMFRAME_SERVER");

		sfc__fail(conn, err, "invalid server address \"%s\"",
		         text ? text : "");
		return conn;
	}
	sf__addr_format(&a, name, sizeof name);
	memset(cookie, 0, sizeof cookie);
	if (a.kind == SF_ADDR_UNIX)
		err = connect_unix(conn, &a, name);
	else if (!(err = read_cookie(conn, cookie)))
		err = connect_tcp(conn, &a, name);
	if (!err)
		err = handshake(conn, cookie);
	explicit_bzero(cookie, sizeof cookie);
	if (err)
		return conn;
	if (sfc__choose_transport(conn) || sfc__choose_signal(conn) ||
	    sfc__compress_setup(conn))
		return conn;
	sfc__log(conn, SHMFRAME_LOG_INFO, "connected to %s, transport %s (%s), "
	        "signalling %s (%s)", name, shmframe_transport_name(conn),
	        conn->reason, conn->rings ? "ring" : "socket",
	        conn->signal_reason);
	return conn;
}

SHMFRAME_EXPORT struct shmframe_conn *
shmframe_connect(const char *addr, const struct shmframe_options *opts)
{
	return shmframe_connect_sized(addr, opts, SFC_OPTIONS_1_0_SIZE);
}

SHMFRAME_EXPORT void shmframe_disconnect(struct shmframe_conn *conn)
{
	if (!conn)
		return;
	/* Frames still queued go out if the socket takes them now; the
	 * server frees everything of ours when it sees the close. */
	/* A frame held for the link is dropped (sending it could block for
	 * as long as the link takes: shmframe_roundtrip first to have it). */
	if (!conn->error && conn->fd >= 0)
		sfc__flush(conn);
	while (conn->surfaces) {
		struct shmframe_surface *s = conn->surfaces;

		conn->surfaces = s->next;
		sfc__surface_free(s);
	}
	sfc__rings_free(conn);
	sfc__compress_free(conn);
	if (conn->fd >= 0)
		close(conn->fd);
	sf__in_free(&conn->in);
	sf__blocks_in_free(&conn->payload.bin);
	sf__out_clear(&conn->out);
	free(conn->name);
	free(conn->auth_file);
	free(conn);
}

SHMFRAME_EXPORT int shmframe_conn_error(const struct shmframe_conn *conn)
{
	return conn ? conn->error : -EINVAL;
}

SHMFRAME_EXPORT const char *shmframe_last_error(const struct shmframe_conn *conn)
{
	if (!conn)
		return "no connection";
	return conn->error ? conn->error_text : "";
}

SHMFRAME_EXPORT enum shmframe_transport
shmframe_transport(const struct shmframe_conn *conn)
{
	return conn ? conn->transport : SHMFRAME_TRANSPORT_SOCKET;
}

SHMFRAME_EXPORT enum shmframe_shm_kind
shmframe_shm_kind(const struct shmframe_conn *conn)
{
	if (!conn || conn->transport != SHMFRAME_TRANSPORT_SHM)
		return SHMFRAME_SHM_ANY;
	return (enum shmframe_shm_kind)conn->shm_kind;
}

SHMFRAME_EXPORT const char *shmframe_transport_name(const struct shmframe_conn *conn)
{
	if (!conn || conn->transport != SHMFRAME_TRANSPORT_SHM)
		return "socket";
	switch (conn->shm_kind) {
	case SF_SHM_MEMFD: return "shm/memfd";
	case SF_SHM_POSIX: return "shm/posix";
	case SF_SHM_SYSV: return "shm/sysv";
	}
	return "socket";
}

SHMFRAME_EXPORT const char *shmframe_transport_reason(const struct shmframe_conn *conn)
{
	return conn ? conn->reason : "";
}

SHMFRAME_EXPORT enum shmframe_signal
shmframe_signal(const struct shmframe_conn *conn)
{
	return conn ? conn->signal : SHMFRAME_SIGNAL_SOCKET;
}

SHMFRAME_EXPORT const char *shmframe_signal_reason(const struct shmframe_conn *conn)
{
	return conn ? conn->signal_reason : "";
}

SHMFRAME_EXPORT int shmframe_get_fd(const struct shmframe_conn *conn)
{
	if (!conn)
		return -1;
	/* The program waits on the fd itself from now on, which the rings
	 * must know (ring.c); that changes the connection, which the caller
	 * holds as const only because this call used to be a mere lookup. */
	if (conn->rings && !conn->rings->fd_taken)
		sfc__rings_fd_taken((struct shmframe_conn *)conn);
	return conn->fd;
}

SHMFRAME_EXPORT const char *shmframe_version(void)
{
	return SHMFRAME_VERSION_STRING;
}
