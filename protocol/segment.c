/*
 * Shared-memory segments: memfd, POSIX shm_open and System V shmget.
 *
 * The creating side makes and maps a segment and writes its proof (nonce
 * and the server's challenge) at its start; the attaching side checks
 * whose it is and that it cannot shrink under its mapping (seals, or
 * fstat/IPC_STAT size), maps it without touching it, and then checks the
 * proof: that the client could write this very memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "segment.h"

void sf__segment_init(struct sf_segment *seg)
{
	memset(seg, 0, sizeof *seg);
	seg->kind = SF_SHM_NONE;
	seg->fd = -1;
	seg->shmid = -1;
}

int sf__random(void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int map_fd(struct sf_segment *seg, size_t size, bool writable)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	void *map = mmap(NULL, size, prot, MAP_SHARED, seg->fd, 0);

	if (map == MAP_FAILED)
		return -errno;
	seg->map = map;
	seg->size = size;
	seg->writable = writable;
	return 0;
}

static int create_memfd(struct sf_segment *seg, size_t size)
{
	int err;

	seg->fd = memfd_create("shmframe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (seg->fd < 0)
		return -errno;
	if (ftruncate(seg->fd, (off_t)size) < 0)
		return -errno;
	/* Sealed against shrinking so the server never needs a SIGBUS guard
	 * for this kind; F_SEAL_SEAL keeps anyone from undoing that. */
	if (fcntl(seg->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		return -errno;
	err = map_fd(seg, size, true);
	return err;
}

int sf__segment_sweep(unsigned max_age_s)
{
	size_t plen = strlen(SF_SHM_NAME_PREFIX) - 1; /* without the '/' */
	DIR *d = opendir("/dev/shm");
	time_t now = time(NULL);
	struct dirent *e;
	int removed = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char name[SF_SHM_NAME_SIZE];
		struct stat st;

		if (strncmp(e->d_name, &SF_SHM_NAME_PREFIX[1], plen) != 0 ||
		    strlen(e->d_name) + 2 > sizeof name)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    now - st.st_mtime <= (time_t)max_age_s)
			continue;
		name[0] = '/';
		memcpy(name + 1, e->d_name, strlen(e->d_name) + 1);
		if (shm_unlink(name) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

static int create_posix(struct sf_segment *seg, size_t size)
{
	/* A name exists only from here until the server opens it; one a
	 * killed client left in that window is old, and goes now. */
	sf__segment_sweep(SF_SHM_SWEEP_AGE);

	for (int tries = 0; tries < 16; tries++) {
		uint8_t r[12];
		int n, err = sf__random(r, sizeof r);

		if (err)
			return err;
		n = snprintf(seg->name, sizeof seg->name, "%s", SF_SHM_NAME_PREFIX);
		for (size_t i = 0; i < sizeof r; i++)
			n += snprintf(seg->name + n, sizeof seg->name - (size_t)n,
			              "%02x", r[i]);
		seg->fd = shm_open(seg->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		                   0600);
		if (seg->fd >= 0)
			break;
		seg->name[0] = '\0';
		if (errno != EEXIST)
			return -errno;
	}
	if (seg->fd < 0)
		return -EEXIST;
	if (ftruncate(seg->fd, (off_t)size) < 0)
		return -errno;
	return map_fd(seg, size, true);
}

static int create_sysv(struct sf_segment *seg, size_t size)
{
	void *map;

	seg->shmid = shmget(IPC_PRIVATE, size, IPC_CREAT | IPC_EXCL | 0600);
	if (seg->shmid < 0)
		return -errno;
	map = shmat(seg->shmid, NULL, 0);
	/* Marked for removal at once: it lives while attached, and Linux lets
	 * the server attach it by id until the last detach.  Only a client
	 * killed in the microseconds between shmget and here leaves it. */
	shmctl(seg->shmid, IPC_RMID, NULL);
	if (map == (void *)-1)
		return -errno;
	seg->map = map;
	seg->size = size;
	seg->writable = true;
	return 0;
}

int sf__segment_create(struct sf_segment *seg, int kind, size_t size)
{
	int err;

	sf__segment_init(seg);
	if (size == 0)
		return -EINVAL;
	seg->kind = kind;
	switch (kind) {
	case SF_SHM_MEMFD: err = create_memfd(seg, size); break;
	case SF_SHM_POSIX: err = create_posix(seg, size); break;
	case SF_SHM_SYSV: err = create_sysv(seg, size); break;
	default: err = -EINVAL; break;
	}
	if (err)
		sf__segment_close(seg);
	return err;
}

void sf__segment_unlink(struct sf_segment *seg)
{
	if (seg->kind == SF_SHM_POSIX && seg->name[0]) {
		shm_unlink(seg->name);
		seg->name[0] = '\0';
	}
}

void sf__segment_close(struct sf_segment *seg)
{
	if (seg->map) {
		if (seg->kind == SF_SHM_SYSV)
			shmdt(seg->map);
		else
			munmap(seg->map, seg->size);
	}
	if (seg->fd >= 0)
		close(seg->fd);
	sf__segment_unlink(seg);
	sf__segment_init(seg);
}

static int reason(char *why, size_t why_len, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int reason(char *why, size_t why_len, int status, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return status;
}

/* What a segment must not be: open to group or others.  With it, a
 * client that wrote the challenge into the segment is its owner (or holds
 * a privilege that overrides permissions): a TCP peer has no uid to
 * compare, and this is what makes the proof one of ownership. */
#define OPEN_TO_OTHERS 0077

static int check_fd_size(int fd, uint64_t size, char *why, size_t why_len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return reason(why, why_len, SF_PROBE_BAD_SEGMENT, "fstat: %s",
		              strerror(errno));
	if (!S_ISREG(st.st_mode))
		return reason(why, why_len, SF_PROBE_BAD_SEGMENT,
		              "not a regular memory file");
	if ((uint64_t)st.st_size < size)
		return reason(why, why_len, SF_PROBE_BAD_SEGMENT,
		              "segment is %lld bytes, %llu claimed",
		              (long long)st.st_size, (unsigned long long)size);
	return SF_PROBE_OK;
}

static int open_memfd(struct sf_segment *seg, int fd, uint64_t size,
                      char *why, size_t why_len)
{
	int seals;

	if (fd < 0)
		return reason(why, why_len, SF_PROBE_NO_FD,
		              "no fd arrived with the memfd segment");
	seg->fd = fd;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return reason(why, why_len, SF_PROBE_BAD_SEGMENT,
		              "memfd is not sealed against shrinking");
	return check_fd_size(fd, size, why, why_len);
}

static int open_posix(struct sf_segment *seg, const char *name, uint64_t size,
                      bool writable, uint32_t peer_uid, char *why,
                      size_t why_len)
{
	struct stat st;

	/* O_NONBLOCK: a FIFO planted under the name must not block the
	 * server in open(); anything not regular is refused below. */
	seg->fd = shm_open(name, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW |
	                   O_NONBLOCK | O_CLOEXEC, 0);
	if (seg->fd < 0) {
		if (errno == ENOENT)
			return reason(why, why_len, SF_PROBE_NOT_FOUND,
			              "no POSIX segment %s here", name);
		return reason(why, why_len, errno == EACCES ? SF_PROBE_REFUSED
		              : SF_PROBE_BAD_SEGMENT, "shm_open %s: %s", name,
		              strerror(errno));
	}
	if (fstat(seg->fd, &st) < 0)
		return reason(why, why_len, SF_PROBE_BAD_SEGMENT, "fstat %s: %s",
		              name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return reason(why, why_len, SF_PROBE_BAD_SEGMENT,
		              "%s is not a regular memory file", name);
	/* Whose it is before anything about it, its size included. */
	if (peer_uid != (uint32_t)-1 && st.st_uid != peer_uid)
		return reason(why, why_len, SF_PROBE_REFUSED, "POSIX segment %s "
		              "is owned by uid %u, not by the client's uid %u",
		              name, (unsigned)st.st_uid, (unsigned)peer_uid);
	if (st.st_mode & OPEN_TO_OTHERS)
		return reason(why, why_len, SF_PROBE_REFUSED, "POSIX segment %s "
		              "is open to group or others (mode %03o)", name,
		              (unsigned)(st.st_mode & 0777));
	return check_fd_size(seg->fd, size, why, why_len);
}

/* The checks on what IPC_STAT says, before and after shmat. */
static int check_sysv(const struct shmid_ds *ds, int shmid, uint64_t size,
                      uint32_t peer_uid, char *why, size_t why_len)
{
	if (peer_uid != (uint32_t)-1 && ds->shm_perm.uid != peer_uid &&
	    ds->shm_perm.cuid != peer_uid)
		return reason(why, why_len, SF_PROBE_REFUSED, "System V segment "
		              "%d is owned by uid %u, not by the client's uid %u",
		              shmid, (unsigned)ds->shm_perm.uid, (unsigned)peer_uid);
	if (ds->shm_perm.mode & OPEN_TO_OTHERS)
		return reason(why, why_len, SF_PROBE_REFUSED, "System V segment "
		              "%d is open to group or others (mode %03o)", shmid,
		              (unsigned)(ds->shm_perm.mode & 0777));
	if ((uint64_t)ds->shm_segsz < size)
		return reason(why, why_len, SF_PROBE_BAD_SEGMENT,
		              "segment %d is %zu bytes, %llu claimed", shmid,
		              ds->shm_segsz, (unsigned long long)size);
	return SF_PROBE_OK;
}

/* The same segment: an id freed and used again names another one, with
 * another sequence number (and key, creator or size). */
static bool same_sysv(const struct shmid_ds *a, const struct shmid_ds *b)
{
	return a->shm_perm.__key == b->shm_perm.__key &&
	       a->shm_perm.__seq == b->shm_perm.__seq &&
	       a->shm_perm.cuid == b->shm_perm.cuid &&
	       a->shm_cpid == b->shm_cpid && a->shm_segsz == b->shm_segsz;
}

static int open_sysv(struct sf_segment *seg, int shmid, uint64_t size,
                     bool writable, uint32_t peer_uid, char *why,
                     size_t why_len)
{
	struct shmid_ds ds, now;
	void *map;
	int st;

	if (shmctl(shmid, IPC_STAT, &ds) < 0) {
		if (errno == EINVAL || errno == EIDRM)
			return reason(why, why_len, SF_PROBE_NOT_FOUND,
			              "no System V segment %d here", shmid);
		return reason(why, why_len, SF_PROBE_REFUSED, "shmctl %d: %s",
		              shmid, strerror(errno));
	}
	st = check_sysv(&ds, shmid, size, peer_uid, why, why_len);
	if (st != SF_PROBE_OK)
		return st;
	map = shmat(shmid, NULL, writable ? 0 : SHM_RDONLY);
	if (map == (void *)-1)
		return reason(why, why_len, errno == EACCES ? SF_PROBE_REFUSED
		              : SF_PROBE_BAD_SEGMENT, "shmat %d: %s", shmid,
		              strerror(errno));
	seg->shmid = shmid;
	seg->map = map;
	seg->size = (size_t)size;
	seg->writable = writable;
	/* Looked up by id and attached by id: between the two the segment
	 * may have gone and the id named another.  What we hold now keeps
	 * the id from being reused, so a second look settles it. */
	if (shmctl(shmid, IPC_STAT, &now) < 0 || !same_sysv(&ds, &now))
		return reason(why, why_len, SF_PROBE_BAD_SEGMENT, "System V "
		              "segment %d changed between its lookup and shmat",
		              shmid);
	return check_sysv(&now, shmid, size, peer_uid, why, why_len);
}

int sf__segment_open(struct sf_segment *seg, const struct sf_segment_msg *msg,
                     int fd, uint32_t peer_uid, char *why, size_t why_len)
{
	bool writable = msg->flags & SF_SEGMENT_WRITABLE;
	int st, err;

	sf__segment_init(seg);
	seg->kind = msg->kind;
	switch (msg->kind) {
	case SF_SHM_MEMFD:
		st = open_memfd(seg, fd, msg->size, why, why_len);
		fd = -1;
		break;
	case SF_SHM_POSIX:
		st = open_posix(seg, msg->name, msg->size, writable, peer_uid, why,
		                why_len);
		break;
	case SF_SHM_SYSV:
		st = open_sysv(seg, msg->shmid, msg->size, writable, peer_uid, why,
		               why_len);
		break;
	default:
		st = reason(why, why_len, SF_PROBE_REFUSED, "unknown segment kind");
		break;
	}
	if (fd >= 0)
		close(fd);
	if (st != SF_PROBE_OK)
		goto fail;
	if (msg->kind != SF_SHM_SYSV) {
		err = map_fd(seg, (size_t)msg->size, writable);
		if (err) {
			st = reason(why, why_len, SF_PROBE_BAD_SEGMENT, "mmap: %s",
			            strerror(-err));
			goto fail;
		}
	}
	if (why && why_len)
		why[0] = '\0';
	return SF_PROBE_OK;

fail:
	/* seg->name is never set on this side: closing unlinks nothing. */
	sf__segment_close(seg);
	return st;
}

void sf__segment_write_proof(struct sf_segment *seg, const uint8_t *nonce,
                             const uint8_t *challenge)
{
	uint8_t *p = seg->map;

	memcpy(p, nonce, SF_NONCE_SIZE);
	memcpy(p + SF_NONCE_SIZE, challenge, SF_CHALLENGE_SIZE);
}

/* Reads the first n bytes of an fd segment.  0, or -1 when short. */
static int read_start(int fd, uint8_t *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, buf + done, n - done, (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

int sf__segment_prove(struct sf_segment *seg, const struct sf_segment_msg *msg,
                      const uint8_t *challenge, char *why, size_t why_len)
{
	uint8_t want[SF_PROOF_SIZE], got[SF_PROOF_SIZE];
	uint8_t diff = 0;

	memcpy(want, msg->nonce, SF_NONCE_SIZE);
	memcpy(want + SF_NONCE_SIZE, challenge, SF_CHALLENGE_SIZE);
	if (seg->kind == SF_SHM_SYSV) {
		memcpy(got, seg->map, sizeof got);
	} else if (read_start(seg->fd, got, sizeof got) < 0) {
		return reason(why, why_len, SF_PROBE_NONCE_MISMATCH,
		              "segment is shorter than its proof now");
	}
	/* In constant time: how long a comparison takes must not tell a
	 * client how many first bytes of someone else's memory it guessed. */
	for (size_t i = 0; i < sizeof want; i++)
		diff |= (uint8_t)(want[i] ^ got[i]);
	if (diff)
		return reason(why, why_len, SF_PROBE_NONCE_MISMATCH,
		              "segment does not start with the client's nonce and "
		              "the server's challenge");
	/* Proven to be the client's memory, and held now: remove the POSIX
	 * name so nothing can be left in /dev/shm whatever happens to either
	 * side, and make sure a System V segment goes away with its last
	 * attach.  Only now: a name or id that failed may be someone else's. */
	if (msg->kind == SF_SHM_POSIX)
		shm_unlink(msg->name);
	else if (msg->kind == SF_SHM_SYSV)
		shmctl(seg->shmid, IPC_RMID, NULL);
	if (why && why_len)
		why[0] = '\0';
	return SF_PROBE_OK;
}
