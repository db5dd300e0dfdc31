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
 * Creator side.  Writes the proof a segment must start with before it is
 * offered: the nonce (also sent in the message), then the challenge of the
 * server's WELCOME.  seg must be mapped writable with at least
 * SF_PROOF_SIZE bytes.
 */
void sf__segment_write_proof(struct sf_segment *seg, const uint8_t *nonce,
                             const uint8_t *challenge);

/*
 * Attaching side, step one.  Opens the segment a client described in msg
 * (fd: the memfd received with it, or -1; ownership passes to this call in
 * every case), checks it and maps it (read-only unless
 * SF_SEGMENT_WRITABLE), without reading a byte of the mapping: a POSIX
 * object can be shrunk by its client at any moment, and the first access
 * to a mapping must be one the caller guards against SIGBUS.
 * Checks: memfd has F_SEAL_SHRINK and fstat size >= msg size.  POSIX: name
 * under our prefix, opened O_NOFOLLOW|O_NONBLOCK, a regular file, owned by
 * peer_uid when that is known (!= (uint32_t)-1), not open to group or
 * others, then its size.  System V: IPC_STAT owner (or creator) is
 * peer_uid when known, mode not open to group or others, size; then shmat,
 * and IPC_STAT again must show the same segment (key, sequence, creator,
 * size) with the same owner, else it is detached.  For memfd and POSIX the
 * fd stays open in seg->fd for sf__segment_prove.
 * Returns an enum sf_probe_status; on failure seg holds nothing and why
 * says what failed (for the server's log: a POSIX or System V refusal must
 * reach the client as one answer, see sf__segment_prove).  Nothing is ever
 * removed here.
 */
int sf__segment_open(struct sf_segment *seg, const struct sf_segment_msg *msg,
                    int fd, uint32_t peer_uid, char *why, size_t why_len);

/*
 * Attaching side, step two: the proof.  The first SF_PROOF_SIZE bytes of
 * the segment must be msg->nonce followed by challenge (the server's, from
 * WELCOME): only a client that can write the memory put the challenge
 * there.  memfd and POSIX are read with pread from seg->fd, so a shrunk
 * object reads short instead of faulting; System V (which cannot shrink)
 * is read through the mapping, which the caller has registered with its
 * SIGBUS guard.  On success the POSIX name is unlinked and the System V
 * segment marked IPC_RMID (the server holds it now; nothing may be left
 * behind); on failure nothing is removed and the caller closes seg.
 * Returns an enum sf_probe_status.
 */
int sf__segment_prove(struct sf_segment *seg, const struct sf_segment_msg *msg,
                     const uint8_t *challenge, char *why, size_t why_len);

/* Unmaps, closes the fd, and unlinks a POSIX name still held. */
void sf__segment_close(struct sf_segment *seg);

/* Fills buf with n bytes from the kernel's random source. 0 or -errno. */
int sf__random(void *buf, size_t n);

#endif
