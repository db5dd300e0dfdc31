/*
 * The rings of the control segment (ring.h).  Shared words are accessed
 * only with the __atomic builtins, entries only with memcpy to or from our
 * own memory: the peer may change any byte at any time.
 */
#include <string.h>

#include "ring.h"

_Static_assert((SF_RING_REQ_COUNT & (SF_RING_REQ_COUNT - 1)) == 0, "power of 2");
_Static_assert((SF_RING_EV_COUNT & (SF_RING_EV_COUNT - 1)) == 0, "power of 2");
_Static_assert(SF_CONTROL_REQ_RING + SF_RING_REQ_COUNT * SF_RING_REQ_ENTRY <=
               SF_CONTROL_EV_RING, "request ring overlaps the event ring");
_Static_assert(SF_CONTROL_EV_RING + SF_RING_EV_COUNT * SF_RING_EV_ENTRY <=
               SF_CONTROL_SIZE, "event ring past the segment");

static uint32_t load_acquire(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_release(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

void sf__ring_init(struct sf_ring *r, void *base, enum sf_ring_which which)
{
	uint8_t *b = base;

	memset(r, 0, sizeof *r);
	r->base = b;
	if (which == SF_RING_REQUESTS) {
		r->head = (uint32_t *)(b + SF_CONTROL_REQ_HEAD);
		r->tail = (uint32_t *)(b + SF_CONTROL_REQ_TAIL);
		r->sleep = (uint32_t *)(b + SF_CONTROL_REQ_SLEEP);
		r->entries = b + SF_CONTROL_REQ_RING;
		r->count = SF_RING_REQ_COUNT;
		r->entry_size = SF_RING_REQ_ENTRY;
	} else {
		r->head = (uint32_t *)(b + SF_CONTROL_EV_HEAD);
		r->tail = (uint32_t *)(b + SF_CONTROL_EV_TAIL);
		r->sleep = (uint32_t *)(b + SF_CONTROL_EV_SLEEP);
		r->entries = b + SF_CONTROL_EV_RING;
		r->count = SF_RING_EV_COUNT;
		r->entry_size = SF_RING_EV_ENTRY;
	}
}

/* ---- producer ---------------------------------------------------------- */

int sf__ring_room(struct sf_ring *r)
{
	uint32_t tail = load_acquire(r->tail);

	/* The consumer may only move forward, and never past what we
	 * published: both in one unsigned comparison each. */
	if (tail - r->peer > r->pos - r->peer)
		return -1;
	r->peer = tail;
	return (int)(r->count - (r->pos - tail));
}

int sf__ring_push(struct sf_ring *r, uint32_t seq, const void *msg, size_t len)
{
	uint8_t entry[SF_RING_REQ_ENTRY > SF_RING_EV_ENTRY ? SF_RING_REQ_ENTRY
	                                                   : SF_RING_EV_ENTRY];
	uint32_t zero = 0;

	if (len > r->entry_size - SF_RING_ENTRY_HEAD ||
	    r->pos - r->peer >= r->count)
		return -1;
	/* Built here, copied whole: the slot is never half ours. */
	memset(entry, 0, r->entry_size);
	memcpy(entry, &seq, sizeof seq);
	memcpy(entry + sizeof seq, &zero, sizeof zero);
	memcpy(entry + SF_RING_ENTRY_HEAD, msg, len);
	memcpy(r->entries + (size_t)(r->pos & (r->count - 1)) * r->entry_size,
	       entry, r->entry_size);
	r->pos++;
	store_release(r->head, r->pos);
	return 0;
}

bool sf__ring_consumer_asleep(struct sf_ring *r)
{
	/* Orders our head store before the sleeping word's load (the
	 * consumer fences the other way round in sf__ring_sleep). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(r->sleep, __ATOMIC_RELAXED) != 0;
}

bool sf__ring_drained(struct sf_ring *r)
{
	return load_acquire(r->tail) == r->pos;
}

/* ---- consumer ---------------------------------------------------------- */

int sf__ring_pending(struct sf_ring *r)
{
	uint32_t n = load_acquire(r->head) - r->pos;

	return n > r->count ? -1 : (int)n;
}

int sf__ring_peek(struct sf_ring *r, uint32_t *seq, void *msg, size_t cap)
{
	uint8_t entry[SF_RING_REQ_ENTRY > SF_RING_EV_ENTRY ? SF_RING_REQ_ENTRY
	                                                   : SF_RING_EV_ENTRY];
	size_t n = r->entry_size - SF_RING_ENTRY_HEAD;
	int pending = sf__ring_pending(r);

	if (pending <= 0)
		return pending;
	/* The acquire load of head orders these reads after the producer's
	 * writes of the entry. */
	memcpy(entry, r->entries + (size_t)(r->pos & (r->count - 1)) * r->entry_size,
	       r->entry_size);
	memcpy(seq, entry, sizeof *seq);
	memcpy(msg, entry + SF_RING_ENTRY_HEAD, n < cap ? n : cap);
	return 1;
}

void sf__ring_pop(struct sf_ring *r)
{
	r->pos++;
	store_release(r->tail, r->pos);
}

bool sf__ring_sleep(struct sf_ring *r)
{
	__atomic_store_n(r->sleep, 1u, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return sf__ring_pending(r) != 0;
}

void sf__ring_awake(struct sf_ring *r)
{
	__atomic_store_n(r->sleep, 0u, __ATOMIC_RELAXED);
}
