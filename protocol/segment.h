/*
 * Shared-memory segments of the three kinds (memfd, POSIX, System V), from
 * the creating side (the client) and the attaching side (the server).
 */
#ifndef SHMFRAME_SEGMENT_H
#define SHMFRAME_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct sf_segment {
	int kind;           /* enum sf_shm_kind */
	int fd;             /* memfd / POSIX fd, else -1 */
	int shmid;          /* System V id, else -1 */
	char name[SF_SHM_NAME_SIZE]; /* POSIX name while it still exists, else "" */
	void *map;          /* MAP_FAILED-free: NULL when not mapped */
	size_t size;
	bool writable;
};

/* An empty segment: every handle invalid, safe to pass to sf__segment_close. */
void sf__segment_init(struct sf_segment *seg);

/*
 * Creator side.  Makes a segment of size bytes, maps it read-write and
 * fills seg.  memfd: sealed with F_SEAL_SHRINK | F_SEAL_SEAL.  POSIX: an
 * unguessable name under SF_SHM_NAME_PREFIX, O_EXCL, mode 0600; the name
 * stays until sf__segment_unlink.  System V: IPC_PRIVATE, mode 0600, attached
 * and at once marked IPC_RMID (Linux still lets the server attach it by id),
 * so a killed client leaks it only if killed between shmget and IPC_RMID.  Returns 0 or -errno.
 */
int sf__segment_create(struct sf_segment *seg, int kind, size_t size);

/* Seconds after which a POSIX name still in /dev/shm counts as left
 * behind: names live only for the round trip until the server opens them. */
#define SF_SHM_SWEEP_AGE 60

/*
 * Removes POSIX names under our prefix, owned by this user and not
 * modified for more than max_age_s seconds: what a client killed between
 * shm_open and the server's open leaves behind.  sf__segment_create calls
 * it before making a POSIX segment.  Returns how many were removed.
 */
int sf__segment_sweep(unsigned max_age_s);

/* Removes a POSIX segment's name (no-op for other kinds or when done). */
void sf__segment_unlink(struct sf_segment *seg);

/*
 * Attaching side.  Opens the segment a client described in msg (fd: the
 * memfd received with it, or -1; ownership passes to this call in every
 * case), verifies it and maps it (read-only unless SF_SEGMENT_WRITABLE).
 * Checks: memfd has F_SEAL_SHRINK and fstat size >= msg size; POSIX name
 * has our prefix, is opened O_NOFOLLOW and unlinked at once, fstat size;
 * System V IPC_STAT size and, when peer_uid != (uint32_t)-1, owner uid.
 * Finally the first SF_NONCE_SIZE bytes must equal msg->nonce.
 * Returns an enum sf_probe_status; on failure seg holds nothing and why
 * says what failed.
 */
int sf__segment_open(struct sf_segment *seg, const struct sf_segment_msg *msg,
                    int fd, uint32_t peer_uid, char *why, size_t why_len);

/* Unmaps, closes the fd, and unlinks a POSIX name still held. */
void sf__segment_close(struct sf_segment *seg);

/* Fills buf with n bytes from the kernel's random source. 0 or -errno. */
int sf__random(void *buf, size_t n);

#endif
