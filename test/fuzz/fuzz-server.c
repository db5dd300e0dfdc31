/*
 * libFuzzer target: the server's request state machine, in-process.  A
 * real struct sf_server with the headless display gets up to four clients,
 * each a socketpair whose far end the server owns (test/fixture-server.h);
 * the input is cut into chunks sent on those sockets, some with a memfd
 * riding on their first byte, and the server's loop runs until it is quiet
 * between chunks.  At the end every client end is closed and the server
 * must free everything: no client, no mapped segment byte, no surface
 * byte, not one fd more than before (and nothing for LeakSanitizer).  A
 * loop that never goes quiet is a crash too.
 *
 * Input:
 *   byte 0            clients - 1 (low two bits)
 *   then chunks       ctl, len (2 bytes, little endian), len bytes (cut to
 *                     what is left)
 *   ctl bits 0-1      the client
 *       bit 2         a memfd rides on the chunk's first byte: FUZZ_NONCE at
 *                     offset 0, sealed against shrinking ...
 *       bits 3-4      ... of 4 KiB, 64 KiB, 1 MiB or 16 bytes ...
 *       bit 5         ... or left unsealed (the server must refuse it)
 *       bit 6         the server runs one iteration only, not until it is
 *                     quiet (clients can be left on its backlog)
 *       bit 7         then shut the client's side for writing (EOF)
 *   len bit 15        the client stops (or starts again) reading its events
 *   An empty chunk with bit 2 acts instead of sending: with bit 5 the
 *   server writes snapshots of every surface (SIGUSR1 in shmframe-server),
 *   else the POSIX object below is truncated to 16 KiB times bits 3-4, so
 *   that a mapping of it faults (the SIGBUS guard is installed).
 *
 * Segments by name: the target runs in private mount and IPC namespaces
 * when it can (root, or user namespaces), with its own /dev/shm, so that
 * the POSIX object FUZZ_POSIX_NAME (64 KiB) and one System V segment
 * (64 KiB, its id printed at start, 0 in a fresh namespace) are there to
 * be attached, both holding FUZZ_NONCE, and nothing else on the machine
 * can be reached.  Without the namespaces the clients are given the
 * credentials of an unused uid instead, so that no segment of this user
 * passes the owner checks.
 *
 * The seeds in corpus-server/ are made by fuzz-server-seeds.py.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture-server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CLIENTS 4
#define FUZZ_NONCE "shmframe-fuzzer!"
#define FUZZ_POSIX_NAME "/shmframe-fuzz"
#define NAMED_SIZE (64u << 10)
/* Iterations before a server that keeps finding work counts as hung; an
 * honest input is done in far fewer. */
#define MAX_ITERATIONS 65536
#define UNUSED_UID 65534u

_Static_assert(sizeof FUZZ_NONCE - 1 == SF_NONCE_SIZE, "nonce size");

struct fuzz_client {
	struct sf_fixture_peer peer;
	bool shut;       /* write side shut */
	bool deaf;       /* not reading what the server sends */
};

static bool isolated;
static uid_t allowed_uid;
static int sysv_id = -1;
static bool verbose;
static bool guard_installed;
static int named_fd = -1;   /* the POSIX object, for truncating it */
static uint8_t *sysv_map;   /* the System V segment, attached for good */
#define DUMP_DIR "/dev/shm/fuzz-dump"

/* The proof a segment must start with: our fixed nonce (the seeds name
 * it), then the challenge the server sent the client about to speak. */
static void write_proof(int fd, const uint8_t *challenge)
{
	struct stat st;

	/* A truncated object stays as small as the input made it. */
	if (fstat(fd, &st) < 0)
		abort();
	if ((size_t)st.st_size < SF_PROOF_SIZE)
		return;
	if (pwrite(fd, FUZZ_NONCE, SF_NONCE_SIZE, 0) != SF_NONCE_SIZE ||
	    pwrite(fd, challenge, SF_CHALLENGE_SIZE, SF_NONCE_SIZE) !=
	    SF_CHALLENGE_SIZE)
		abort();
}

/* The challenge of the server's client behind cl, zeros before its
 * WELCOME (or once it is gone). */
static const uint8_t *challenge_of(struct sf_fixture *f,
                                   const struct fuzz_client *cl)
{
	static const uint8_t none[SF_CHALLENGE_SIZE];
	struct sf_client *c = sf_fixture_client(f, &cl->peer);

	return c ? c->challenge : none;
}

/* Private /dev/shm and System V namespace, or nothing (returns false). */
static bool isolate(void)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC;
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (uid != 0)
		flags |= CLONE_NEWUSER;
	if (unshare(flags) < 0)
		return false;
	if (uid != 0) {
		char map[64];
		int fd;

		fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "deny", 4) != 4)
				return false;
			close(fd);
		}
		snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
		fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
			return false;
		close(fd);
		snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
		fd = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t)strlen(map))
			return false;
		close(fd);
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return false;
	if (mount("shmframe-fuzz", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
	          "size=64m,mode=1777") < 0)
		return false;
	return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* As shmframe-server does: a dead peer is an error from write. */
	signal(SIGPIPE, SIG_IGN);
	verbose = getenv("SF_FUZZ_VERBOSE") && atoi(getenv("SF_FUZZ_VERBOSE"));
	isolated = isolate();
	allowed_uid = isolated ? getuid() : UNUSED_UID;
	if (isolated) {
		void *map;

		sysv_id = shmget(IPC_PRIVATE, NAMED_SIZE, IPC_CREAT | 0600);
		if (sysv_id < 0)
			abort();
		/* Attached for good: the segment outlives the server's IPC_RMID
		 * after a matching nonce, and keeps its id for every input. */
		map = shmat(sysv_id, NULL, 0);
		if (map == (void *)-1)
			abort();
		sysv_map = map;
		if (mkdir(DUMP_DIR, 0700) < 0)
			abort();
	}
	fprintf(stderr, "fuzz-server: %s; System V segment id %d\n",
	        isolated ? "private /dev/shm and IPC namespace"
	                 : "no namespaces: clients get an unused uid",
	        sysv_id);
	return 0;
}

/* The POSIX object the server unlinks when a nonce matched: back for the
 * next input. */
static void make_named_posix(void)
{
	if (!isolated)
		return;
	named_fd = shm_open(FUZZ_POSIX_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (named_fd < 0)
		abort();
	if (ftruncate(named_fd, NAMED_SIZE) < 0)
		abort();
}

/* An empty chunk with an fd bit: an act of the world, not of a client. */
static void act(struct sf_server *server, uint8_t ctl)
{
	if (!isolated)
		return;
	if (ctl & 0x20) {
		server->dump_dir = DUMP_DIR;
		sfs__snapshot_all(server);
		server->dump_dir = NULL;
		return;
	}
	if (ftruncate(named_fd, (off_t)((ctl >> 3) & 3) * (16 << 10)) < 0)
		abort();
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

static int make_memfd(uint8_t ctl, const uint8_t *challenge)
{
	static const off_t sizes[] = { 4096, 64 << 10, 1 << 20, SF_PROOF_SIZE };
	int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		abort();
	if (ftruncate(fd, sizes[(ctl >> 3) & 3]) < 0)
		abort();
	write_proof(fd, challenge);
	if (!(ctl & 0x20) &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		abort();
	return fd;
}

static void setup(struct sf_fixture *f)
{
	/* Small, so that every limit is within an input's reach. */
	static const struct sf_limits limits = {
		.max_width = 512, .max_height = 512,
		.max_surfaces = 8, .max_segments = 8,
		.max_segment_size = 1 << 20, .max_mapped = 2 << 20,
		.max_message = SF_MAX_MESSAGE, .max_inflight = 16,
		.max_output = 16 << 10,
	};
	static const struct sf_server_limits glimits = {
		.max_clients = MAX_CLIENTS,
		.max_surface_memory = 2 << 20,
		.max_surface_memory_total = 4 << 20,
		.max_mapped_total = 4 << 20,
		.max_output_total = 48 << 10,
		.timeout_ns = 10ull * 1000000000ull,
	};

	if (sf_fixture_init(f, &limits, &glimits, allowed_uid) < 0)
		abort();
	/* SF_FUZZ_VERBOSE=1: the server logs what it does with an input. */
	f->server.verbose = verbose;
}

struct clients {
	struct fuzz_client *cl;
	int n;
};

/* Reads and drops what the server sent.  True when anything came. */
static bool drain(void *data)
{
	static uint8_t buf[1 << 16];
	const struct clients *all = data;
	bool got = false;

	for (int i = 0; i < all->n; i++) {
		struct fuzz_client *cl = &all->cl[i];

		if (cl->peer.fd < 0 || cl->deaf)
			continue;
		while (recv(cl->peer.fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
			got = true;
	}
	return got;
}

static void run_until_quiet(struct sf_fixture *f, struct clients *all)
{
	int r = sf_fixture_run(f, MAX_ITERATIONS, drain, all);

	if (r == -ELOOP) {
		fprintf(stderr, "fuzz-server: the server never went quiet\n");
		__builtin_trap();
	}
	if (r < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sf_fixture f;
	struct fuzz_client cl[MAX_CLIENTS];
	struct clients all = { .cl = cl };
	char why[160];
	int fds_before;
	size_t pos = 1;

	if (size < 1)
		return 0;
	/* Here, not at initialisation: libFuzzer sets its own SIGBUS handler
	 * after that, and the guard must come last (it hands faults that are
	 * not in a segment on to the handler it replaced). */
	if (isolated && !guard_installed) {
		if (sfs__sigbus_guard_install() < 0)
			abort();
		guard_installed = true;
	}
	make_named_posix();
	fds_before = count_fds();
	setup(&f);
	/* A fault left over from the last input is not this one's. */
	sfs__segments_check_broken(&f.server);
	all.n = 1 + (data[0] & 3);
	for (int i = 0; i < all.n; i++) {
		cl[i] = (struct fuzz_client){ .shut = false };
		/* A small socket buffer on the server's side, so that a client
		 * that does not read soon has output queued in the server (and
		 * meets max_output) and readbacks go out in pieces. */
		if (sf_fixture_connect(&f, &cl[i].peer, 8192) < 0)
			abort();
		if (!isolated)
			cl[i].peer.client->peer_uid = UNUSED_UID;
	}
	while (pos + 3 <= size) {
		uint8_t ctl = data[pos];
		uint16_t len16 = (uint16_t)(data[pos + 1] | data[pos + 2] << 8);
		size_t len = len16 & 0x7fff;
		struct fuzz_client *to = &cl[(ctl & 3) % all.n];
		int fd = -1;

		pos += 3;
		if (len > size - pos)
			len = size - pos;
		if (len16 & 0x8000)
			to->deaf = !to->deaf;
		if (len == 0 && (ctl & 0x04))
			act(&f.server, ctl);
		if (to->peer.fd >= 0 && !to->shut && len > 0) {
			const uint8_t *challenge = challenge_of(&f, to);

			/* Whatever segment this chunk names holds its client's
			 * proof, so that inputs get past ATTACH_SEGMENT. */
			if (isolated) {
				write_proof(named_fd, challenge);
				memcpy(sysv_map, FUZZ_NONCE, SF_NONCE_SIZE);
				memcpy(sysv_map + SF_NONCE_SIZE, challenge,
				       SF_CHALLENGE_SIZE);
			}
			if (ctl & 0x04)
				fd = make_memfd(ctl, challenge);
			/* What the socket does not take after the server had
			 * its turns is dropped. */
			if (sf_fixture_send(&f, &to->peer, data + pos, len, fd,
			                    64, drain, &all) == -ELOOP) {
				fprintf(stderr, "fuzz-server: the server never "
				        "went quiet\n");
				__builtin_trap();
			}
			if (fd >= 0)
				close(fd);
		}
		pos += len;
		if ((ctl & 0x80) && to->peer.fd >= 0 && !to->shut) {
			shutdown(to->peer.fd, SHUT_WR);
			to->shut = true;
		}
		if (!(ctl & 0x40)) {
			run_until_quiet(&f, &all);
		} else {
			if (sfs__server_iterate(&f.server, 0) < 0)
				abort();
			drain(&all);
		}
	}
	run_until_quiet(&f, &all);

	/* Every peer goes away: the server must notice and free them all. */
	for (int i = 0; i < all.n; i++) {
		close(cl[i].peer.fd);
		cl[i].peer.fd = -1;
	}
	run_until_quiet(&f, &all);
	if (sf_fixture_fini(&f, why, sizeof why) < 0) {
		fprintf(stderr, "fuzz-server: %s\n", why);
		__builtin_trap();
	}
	if (count_fds() != fds_before) {
		fprintf(stderr, "fuzz-server: %d fds before, %d after\n", fds_before,
		        count_fds());
		__builtin_trap();
	}
	if (named_fd >= 0)
		close(named_fd);
	named_fd = -1;
	return 0;
}
