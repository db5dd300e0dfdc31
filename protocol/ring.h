/*
 * The control segment (protocol 2.1): two single-producer/single-consumer
 * rings in memory both processes map, requests client -> server and events
 * server -> client, each entry one wire message (wire.h) with its number in
 * that direction's stream.  protocol/PROTOCOL.md, "The control segment",
 * specifies the bytes; this header must match it.
 *
 * Indices are free-running u32 counters (an entry's slot is its index
 * modulo the ring's count).  Each side keeps its own index privately and
 * only publishes it: nothing it reads back from shared memory is trusted.
 * What a side reads of the peer's (its head as consumer, its tail as
 * producer) is checked against its own before use, and an entry is copied
 * out of shared memory before anything looks at it, so a peer that
 * scribbles over the segment at any moment can make the connection fail
 * but cannot make the other side read out of bounds.
 *
 * Sleeping: a consumer about to block stores 1 in its sleeping word, then
 * (full fence) looks at the head once more; a producer stores its head,
 * then (full fence) reads the sleeping word and wakes the consumer only
 * when it is set.  One of the two always sees the other's store, so no
 * wakeup is lost and none is sent to a consumer that is awake.
 */
#ifndef SHMFRAME_RING_H
#define SHMFRAME_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Layout of the control segment, in bytes from its start.  The first
 * SF_PROOF_SIZE bytes are the proof every segment starts with. */
#define SF_CONTROL_SIZE       16384u
#define SF_CONTROL_REQ_HEAD   64u    /* u32: client writes */
#define SF_CONTROL_REQ_TAIL   128u   /* u32: server writes */
#define SF_CONTROL_REQ_SLEEP  132u   /* u32: server writes, nonzero: asleep */
#define SF_CONTROL_EV_HEAD    192u   /* u32: server writes */
#define SF_CONTROL_EV_TAIL    256u   /* u32: client writes */
#define SF_CONTROL_EV_SLEEP   260u   /* u32: client writes, nonzero: asleep */
#define SF_CONTROL_REQ_RING   4096u  /* SF_RING_REQ_COUNT entries */
#define SF_CONTROL_EV_RING    12288u /* SF_RING_EV_COUNT entries */

#define SF_RING_REQ_COUNT     64u
#define SF_RING_REQ_ENTRY     128u
#define SF_RING_EV_COUNT      64u
#define SF_RING_EV_ENTRY      64u
/* An entry: u32 seq, u32 zero, then one message (its header's length at
 * most the entry size less these 8 bytes; the rest of the entry is not
 * read). */
#define SF_RING_ENTRY_HEAD    8u
#define SF_RING_REQ_MESSAGE   (SF_RING_REQ_ENTRY - SF_RING_ENTRY_HEAD)
#define SF_RING_EV_MESSAGE    (SF_RING_EV_ENTRY - SF_RING_ENTRY_HEAD)

enum sf_ring_which {
	SF_RING_REQUESTS = 0, /* client produces, server consumes */
	SF_RING_EVENTS = 1,   /* server produces, client consumes */
};

struct sf_ring {
	uint8_t *base;        /* the mapped control segment */
	uint32_t *head;       /* in base: the producer's published index */
	uint32_t *tail;       /* in base: the consumer's published index */
	uint32_t *sleep;      /* in base: the consumer's sleeping word */
	uint8_t *entries;
	uint32_t count;       /* a power of two */
	uint32_t entry_size;
	/* Ours: the producer's next index, or the consumer's. */
	uint32_t pos;
	/* Producer: the consumer's tail as last read (checked); consumer:
	 * unused. */
	uint32_t peer;
};

/* Points r at one of the two rings of the control segment mapped at base
 * (SF_CONTROL_SIZE bytes).  The creator zeroes the segment first; the
 * other side takes indices 0 too (a ring starts empty). */
void sf__ring_init(struct sf_ring *r, void *base, enum sf_ring_which which);

/* ---- producer ---------------------------------------------------------- */

/* Free entries, or -1 when the consumer's tail is impossible (behind the
 * tail it published last, or ahead of our head): a broken peer. */
int sf__ring_room(struct sf_ring *r);
/* Writes entry seq holding the len-byte message msg and publishes it.  The
 * caller saw room; len is at most the entry's message size.  0, or -1
 * when it does not fit. */
int sf__ring_push(struct sf_ring *r, uint32_t seq, const void *msg, size_t len);
/* After pushing: whether the consumer said it sleeps (full fence first). */
bool sf__ring_consumer_asleep(struct sf_ring *r);
/* Whether the consumer has taken every entry pushed (its tail read as it
 * is now; an impossible one counts as not). */
bool sf__ring_drained(struct sf_ring *r);

/* ---- consumer ---------------------------------------------------------- */

/* Entries waiting: 0 when empty, -1 when the producer's head is
 * impossible (more than count ahead of our tail). */
int sf__ring_pending(struct sf_ring *r);
/* Copies the oldest entry out of shared memory: its seq, and its message
 * bytes into msg (cap bytes: at least the entry's message size).  Returns
 * 1, 0 when the ring is empty, -1 on an impossible head.  The entry stays
 * until sf__ring_pop; the caller checks the copy like any wire message. */
int sf__ring_peek(struct sf_ring *r, uint32_t *seq, void *msg, size_t cap);
/* Frees the oldest entry for the producer (publishes our tail). */
void sf__ring_pop(struct sf_ring *r);
/* About to block: says so, then (full fence) looks again.  Returns true
 * when entries (or an impossible head) came meanwhile: do not block, call
 * sf__ring_awake. */
bool sf__ring_sleep(struct sf_ring *r);
/* Awake again: the producer stops waking us. */
void sf__ring_awake(struct sf_ring *r);

#endif
