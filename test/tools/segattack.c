/*
 * sf-segattack: both ends of an attempt to use someone else's shared
 * memory through a shmframe server.
 *
 *     sf-segattack victim posix|sysv [--proof-file F]
 *     sf-segattack dump posix NAME | sysv ID
 *     sf-segattack probe ADDR posix NAME | sysv ID [--size N]
 *     sf-segattack steal ADDR posix NAME | sysv ID [--proof-out F --go G]
 *     sf-segattack scribble ADDR posix NAME | sysv ID
 *
 * victim   makes a 4096-byte segment of the running uid, mode 0600 (a POSIX
 *          name under the shmframe prefix, or a System V IPC_PRIVATE
 *          segment), whose first 32 bytes are zero and the rest the
 *          SECRET pattern; prints "ready name=N" or "ready id=N" and waits
 *          for SIGTERM, then removes the segment.  With --proof-file it
 *          first waits for F to appear and copies the 32 bytes F holds
 *          (hex) to the start of the segment, then prints "planted".
 * dump     prints "bytes=HEX" (the first 128 bytes) and, for System V,
 *          "dest=0|1" (marked for removal) — how a test sees that a
 *          segment was neither read-modified nor removed.
 * probe    one PROBE naming the segment (nonce all zero, size 4096 unless
 *          --size); prints "status=N text=TEXT".
 * steal    ATTACH_SEGMENT of it (read-only), a 16x16 surface, PUT_IMAGE
 *          COPY from offset 0, GET_IMAGE inline: prints "read=HEX" (what
 *          came back) or "error=CODE text=TEXT".  With --proof-out the
 *          nonce is random and nonce + challenge (what the segment must
 *          start with) are written as hex to F, and the attach waits until
 *          G exists: a victim can then plant exactly what a proof needs.
 * scribble ATTACH_SEGMENT WRITABLE, a 16x16 surface filled with 0x5a
 *          inline, GET_IMAGE into the segment at offset 0: prints "wrote"
 *          or "error=CODE text=TEXT".
 *
 * ADDR is unix:PATH or tcp:HOST:PORT; over TCP the cookie is read from
 * $SHMFRAME_AUTH.  Exit 0 when the program ran (whatever the server
 * answered), 1 on a local failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "raw-peer.h"
#include "segment.h"
#include "wire.h"

#define PROG "sf-segattack"
#define SEG_SIZE 4096u
#define PROOF_BYTES 32u
#define SURF 16u

static void print_hex(const char *key, const uint8_t *p, size_t n)
{
	printf("%s=", key);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* n bytes from the first 2n hex digits of file path. */
static void read_hex_file(const char *path, uint8_t *out, size_t n)
{
	char buf[256];
	FILE *f = fopen(path, "re");

	if (!f || !fgets(buf, sizeof buf, f))
		die("cannot read %s", path);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(buf[2 * i]), lo;

		lo = hi < 0 ? -1 : hex_value(buf[2 * i + 1]);
		if (hi < 0 || lo < 0)
			die("%s: not %zu hex bytes", path, n);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
}

/* ---- the victim ---------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void fill_secret(uint8_t *p)
{
	static const char secret[] = "SECRET-OF-THE-VICTIM-";

	memset(p, 0, PROOF_BYTES);
	for (size_t i = PROOF_BYTES; i < SEG_SIZE; i++)
		p[i] = (uint8_t)secret[(i - PROOF_BYTES) % (sizeof secret - 1)];
}

static void wait_for_file(const char *path)
{
	for (int i = 0; i < 200; i++) {
		if (access(path, F_OK) == 0)
			return;
		usleep(50000);
	}
	die("%s did not appear", path);
}

static int victim(int argc, char **argv)
{
	const char *proof = NULL;
	char name[SF_SHM_NAME_SIZE] = "";
	int shmid = -1;
	uint8_t *p;

	if (argc >= 4 && strcmp(argv[2], "--proof-file") == 0)
		proof = argv[3];
	signal(SIGTERM, on_term);
	if (strcmp(argv[1], "posix") == 0) {
		int fd;

		snprintf(name, sizeof name, "%svictim%d", SF_SHM_NAME_PREFIX,
		         (int)getpid());
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, SEG_SIZE) < 0)
			die("shm_open %s: %s", name, strerror(errno));
		p = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			die("mmap: %s", strerror(errno));
		fill_secret(p);
		printf("ready name=%s\n", name + 1);
	} else if (strcmp(argv[1], "sysv") == 0) {
		shmid = shmget(IPC_PRIVATE, SEG_SIZE, IPC_CREAT | IPC_EXCL | 0600);
		if (shmid < 0)
			die("shmget: %s", strerror(errno));
		p = shmat(shmid, NULL, 0);
		if (p == (void *)-1)
			die("shmat: %s", strerror(errno));
		fill_secret(p);
		printf("ready id=%d\n", shmid);
	} else {
		die("victim: posix or sysv");
	}
	fflush(stdout);
	if (proof) {
		/* What a thief needs at the start of the segment, planted by
		 * its owner: the worst case for the server's owner check. */
		wait_for_file(proof);
		read_hex_file(proof, p, PROOF_BYTES);
		printf("planted\n");
		fflush(stdout);
	}
	while (!stop)
		pause();
	if (name[0])
		shm_unlink(name);
	if (shmid >= 0)
		shmctl(shmid, IPC_RMID, NULL);
	return 0;
}

static int dump(int argc, char **argv)
{
	uint8_t *p;

	if (argc < 3)
		die("dump posix NAME | sysv ID");
	if (strcmp(argv[1], "posix") == 0) {
		char name[300];
		int fd;

		snprintf(name, sizeof name, "/%s", argv[2]);
		fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
		if (fd < 0)
			die("shm_open %s: %s", name, strerror(errno));
		p = mmap(NULL, SEG_SIZE, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED)
			die("mmap: %s", strerror(errno));
		print_hex("bytes", p, 128);
		printf("\n");
	} else {
		struct shmid_ds ds;
		int id = atoi(argv[2]);

		if (shmctl(id, IPC_STAT, &ds) < 0)
			die("shmctl %d: %s", id, strerror(errno));
		p = shmat(id, NULL, SHM_RDONLY);
		if (p == (void *)-1)
			die("shmat: %s", strerror(errno));
		print_hex("bytes", p, 128);
		printf(" dest=%d\n", (ds.shm_perm.mode & SHM_DEST) ? 1 : 0);
	}
	return 0;
}

/* ---- the thief ------------------------------------------------------------- */

struct conn {
	int fd;
	struct sf_welcome welcome;
};

/* Reads events until one of type want (returns its length) or an ERROR,
 * which is printed as "error=CODE text=TEXT" and ends the program.  The
 * rows of an inline IMAGE are left for the caller. */
static size_t wait_event(struct conn *c, uint16_t want, uint8_t *msg)
{
	char text[SF_MAX_TEXT + 1];
	struct sf_error e;
	size_t len = sf__peer_wait_event(c->fd, want, msg, SF_MAX_MESSAGE, &e,
	                                 text);

	if (len == 0) {
		printf("error=%s text=%s\n", sf__error_name(e.code), text);
		exit(0);
	}
	return len;
}

static void connect_to(struct conn *c, const char *text)
{
	uint8_t msg[SF_MAX_MESSAGE], cookie[SF_COOKIE_SIZE];
	size_t len;

	memset(c, 0, sizeof *c);
	c->fd = sf__peer_connect(text, 0, NULL);
	if (c->fd < 0)
		die("connect %s: %s", text, strerror(errno));
	if (strncmp(text, "tcp:", 4) == 0) {
		const char *auth = getenv("SHMFRAME_AUTH");

		if (!auth)
			die("SHMFRAME_AUTH names no cookie file");
		read_hex_file(auth, cookie, sizeof cookie);
	}
	len = sf__peer_hello(msg, sizeof msg,
	                     strncmp(text, "tcp:", 4) == 0 ? cookie : NULL);
	sf__peer_write_all(c->fd, msg, len, -1);
	len = wait_event(c, SF_WELCOME, msg);
	if (sf__decode_welcome(msg, len, &c->welcome, NULL) != 0)
		die("bad WELCOME");
}

/* The message naming the target: argv is "posix NAME" or "sysv ID". */
static void target_msg(struct sf_segment_msg *m, char **argv, uint64_t size,
                       uint32_t id, uint8_t flags)
{
	memset(m, 0, sizeof *m);
	m->id = id;
	m->flags = flags;
	m->size = size;
	m->shmid = -1;
	if (strcmp(argv[0], "posix") == 0) {
		m->kind = SF_SHM_POSIX;
		snprintf(m->name, sizeof m->name, "/%s", argv[1]);
	} else if (strcmp(argv[0], "sysv") == 0) {
		m->kind = SF_SHM_SYSV;
		m->shmid = atoi(argv[1]);
	} else {
		die("the target is posix NAME or sysv ID");
	}
}

static const char *option(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int probe(int argc, char **argv)
{
	const char *size = option(argc, argv, "--size");
	uint8_t msg[SF_MAX_MESSAGE];
	char text[SF_MAX_TEXT + 1] = "";
	struct sf_probe_result r;
	struct sf_segment_msg m;
	struct conn c;
	size_t len;

	connect_to(&c, argv[1]);
	target_msg(&m, argv + 2, size ? strtoull(size, NULL, 0) : SEG_SIZE, 0, 0);
	sf__peer_send(c.fd, SF_PROBE, &m, sizeof m, NULL, 0, -1);
	len = wait_event(&c, SF_PROBE_RESULT, msg);
	if (sf__decode_probe_result(msg, len, &r, text, NULL) != 0)
		die("bad PROBE_RESULT");
	printf("status=%u text=%s\n", r.status, text);
	close(c.fd);
	return 0;
}

static void surface(struct conn *c)
{
	struct sf_create_surface cs = {
		.id = 1, .width = SURF, .height = SURF,
		.format = SF_FORMAT_ARGB8888, .present_mode = SF_PRESENT_COPY,
	};

	sf__peer_send(c->fd, SF_CREATE_SURFACE, &cs, sizeof cs, NULL, 0, -1);
}

static void sync_wait(struct conn *c)
{
	struct sf_sync s = { .serial = 1 };
	uint8_t msg[SF_MAX_MESSAGE];

	sf__peer_send(c->fd, SF_SYNC, &s, sizeof s, NULL, 0, -1);
	wait_event(c, SF_SYNC_DONE, msg);
}

static int steal(int argc, char **argv)
{
	const char *proof_out = option(argc, argv, "--proof-out");
	const char *go = option(argc, argv, "--go");
	struct sf_rect all = { 0, 0, SURF, SURF };
	struct sf_put_image put = {
		.hdr.flags = SF_PUT_IMAGE_COPY, .surface = 1, .serial = 1,
		.segment = 1, .buffer = 1, .stride = SURF * 4,
	};
	struct sf_get_image get = { .surface = 1, .serial = 2, .rect = all };
	static uint8_t msg[SF_MAX_MESSAGE], px[SURF * SURF * 4];
	struct sf_segment_msg m;
	struct conn c;

	connect_to(&c, argv[1]);
	target_msg(&m, argv + 2, SEG_SIZE, 1, 0);
	if (proof_out) {
		char tmp[300];
		FILE *f;

		if (sf__random(m.nonce, sizeof m.nonce) != 0)
			die("no random bytes");
		/* Written aside and renamed: the victim reads it whole. */
		snprintf(tmp, sizeof tmp, "%s.tmp", proof_out);
		f = fopen(tmp, "we");
		if (!f)
			die("cannot write %s", tmp);
		for (size_t i = 0; i < sizeof m.nonce; i++)
			fprintf(f, "%02x", m.nonce[i]);
		for (size_t i = 0; i < SF_CHALLENGE_SIZE; i++)
			fprintf(f, "%02x", c.welcome.challenge[i]);
		fprintf(f, "\n");
		if (fclose(f) != 0 || rename(tmp, proof_out) != 0)
			die("cannot write %s", proof_out);
		if (go)
			wait_for_file(go);
	}
	sf__peer_send(c.fd, SF_ATTACH_SEGMENT, &m, sizeof m, NULL, 0, -1);
	surface(&c);
	sync_wait(&c);
	sf__peer_send(c.fd, SF_PUT_IMAGE, &put, sizeof put, NULL, 0, -1);
	sf__peer_send(c.fd, SF_GET_IMAGE, &get, sizeof get, NULL, 0, -1);
	wait_event(&c, SF_IMAGE, msg);
	if (sf__peer_read_all(c.fd, px, sizeof px) < 0)
		die("the IMAGE rows did not come");
	print_hex("read", px, sizeof px);
	printf("\n");
	close(c.fd);
	return 0;
}

static int scribble(int argc, char **argv)
{
	struct sf_rect all = { 0, 0, SURF, SURF };
	struct sf_put_image put = { .surface = 1, .serial = 1 };
	struct sf_get_image get = {
		.surface = 1, .serial = 2, .rect = all, .segment = 1,
		.stride = SURF * 4,
	};
	static uint8_t msg[SF_MAX_MESSAGE], px[SURF * SURF * 4];
	struct sf_segment_msg m;
	struct conn c;

	(void)argc;
	connect_to(&c, argv[1]);
	target_msg(&m, argv + 2, SEG_SIZE, 1, SF_SEGMENT_WRITABLE);
	sf__peer_send(c.fd, SF_ATTACH_SEGMENT, &m, sizeof m, NULL, 0, -1);
	surface(&c);
	sf__peer_send(c.fd, SF_PUT_IMAGE, &put, sizeof put, NULL, 0, -1);
	memset(px, 0x5a, sizeof px);
	sf__peer_write_all(c.fd, px, sizeof px, -1);
	sf__peer_send(c.fd, SF_GET_IMAGE, &get, sizeof get, NULL, 0, -1);
	wait_event(&c, SF_IMAGE, msg);
	printf("wrote\n");
	close(c.fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "victim") == 0)
		return victim(argc - 1, argv + 1);
	if (argc >= 4 && strcmp(argv[1], "dump") == 0)
		return dump(argc - 1, argv + 1);
	if (argc >= 5 && strcmp(argv[1], "probe") == 0)
		return probe(argc - 1, argv + 1);
	if (argc >= 5 && strcmp(argv[1], "steal") == 0)
		return steal(argc - 1, argv + 1);
	if (argc >= 5 && strcmp(argv[1], "scribble") == 0)
		return scribble(argc - 1, argv + 1);
	fprintf(stderr, "usage: " PROG " victim|dump|probe|steal|scribble ...\n");
	return 2;
}
