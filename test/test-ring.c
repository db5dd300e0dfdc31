/*
 * protocol/ring: the two rings of the control segment, byte for byte where
 * PROTOCOL.md puts them; a full ring; indices that wrap past 2^32; a
 * peer's impossible index (a head too far ahead, a tail that went back or
 * past the head) seen as such by the other side; a message longer than
 * its entry refused whole; and the sleeping protocol between two real
 * processes over a memfd: every entry arrives, in order, and no wakeup is
 * ever lost.
 *
 * Each test has a producer and a consumer struct sf_ring over one zeroed
 * segment, as the two processes would: nothing is shared between them but
 * the segment's bytes.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "harness.h"
#include "ring.h"
#include "wire.h"

/* ---- a segment and its two sides ----------------------------------------- */

/* Zeroed, as the creator of a control segment leaves it. */
static uint8_t *fresh_segment(void)
{
	static uint8_t seg[SF_CONTROL_SIZE] __attribute__((aligned(64)));

	memset(seg, 0, sizeof seg);
	return seg;
}

static uint32_t word_at(const uint8_t *seg, uint32_t off)
{
	uint32_t v;

	memcpy(&v, seg + off, sizeof v);
	return v;
}

static void set_word(uint8_t *seg, uint32_t off, uint32_t v)
{
	memcpy(seg + off, &v, sizeof v);
}

/* Where PROTOCOL.md puts each ring's words and entries. */
struct layout {
	enum sf_ring_which which;
	const char *name;
	uint32_t head, tail, sleep, entries, count, entry;
};

static const struct layout rings[] = {
	{ SF_RING_REQUESTS, "requests", 64, 128, 132, 4096, 64, 128 },
	{ SF_RING_EVENTS, "events", 192, 256, 260, 12288, 64, 64 },
};

/* A message of len bytes (a multiple of 4, at least 8): a header, then
 * bytes that say which message k they belong to. */
static void make_msg(uint8_t *buf, uint16_t type, size_t len, uint32_t k)
{
	struct sf_header h = { .type = type, .length = (uint32_t)len };

	memcpy(buf, &h, sizeof h);
	for (size_t i = sizeof h; i < len; i++)
		buf[i] = (uint8_t)(k * 31u + i * 7u + (k >> 8));
}

/* How long message k is, for a ring whose messages hold up to max bytes:
 * every length from 8 to max comes up. */
static size_t msg_len(uint32_t k, size_t max)
{
	return 8 + (k * 4) % (max - 4);
}

static uint32_t ring_max(const struct layout *l)
{
	return l->entry - SF_RING_ENTRY_HEAD;
}

/* Both sides of one ring, their indices (private and shared) at start. */
static void sides_at(uint8_t *seg, const struct layout *l, uint32_t start,
                     struct sf_ring *prod, struct sf_ring *cons)
{
	sf__ring_init(prod, seg, l->which);
	sf__ring_init(cons, seg, l->which);
	set_word(seg, l->head, start);
	set_word(seg, l->tail, start);
	prod->pos = prod->peer = start;
	cons->pos = start;
}

/* Pushes message k with seq k (it must fit and find room). */
static void push_k(struct sf_ring *prod, const struct layout *l, uint32_t k)
{
	uint8_t msg[SF_RING_REQ_MESSAGE];
	size_t len = msg_len(k, ring_max(l));

	make_msg(msg, SF_PUT_IMAGE, len, k);
	ASSERT_MSG(sf__ring_push(prod, k, msg, len) == 0, "%s: push %u refused",
	           l->name, k);
}

/* Takes the oldest entry, which must be message k with seq k. */
static void pop_k(struct sf_ring *cons, const struct layout *l, uint32_t k)
{
	uint8_t got[SF_RING_REQ_MESSAGE], want[SF_RING_REQ_MESSAGE];
	size_t len = msg_len(k, ring_max(l));
	uint32_t seq = 0;

	memset(got, 0, sizeof got);
	ASSERT_MSG(sf__ring_peek(cons, &seq, got, sizeof got) == 1,
	           "%s: entry %u not there", l->name, k);
	ASSERT_MSG(seq == k, "%s: entry %u came with seq %u", l->name, k, seq);
	make_msg(want, SF_PUT_IMAGE, len, k);
	ASSERT_MSG(memcmp(got, want, len) == 0, "%s: entry %u's bytes differ",
	           l->name, k);
	sf__ring_pop(cons);
}

/* ---- layout ------------------------------------------------------------- */

TEST(an_entry_is_where_the_protocol_says_and_comes_out_as_pushed)
{
	for (size_t w = 0; w < 2; w++) {
		const struct layout *l = &rings[w], *other = &rings[1 - w];
		uint8_t *seg = fresh_segment();
		uint8_t msg[SF_RING_REQ_MESSAGE], got[SF_RING_REQ_MESSAGE];
		uint8_t zeros[SF_RING_REQ_ENTRY] = { 0 };
		struct sf_ring prod, cons;
		uint32_t seq = 0;
		size_t len = ring_max(l);
		uint8_t *slot0 = seg + l->entries, *slot1 = slot0 + l->entry;

		sf__ring_init(&prod, seg, l->which);
		sf__ring_init(&cons, seg, l->which);
		ASSERT_EQ(prod.count, l->count);
		ASSERT_EQ(prod.entry_size, l->entry);
		ASSERT_EQ(sf__ring_room(&prod), (int)l->count);
		ASSERT_EQ(sf__ring_pending(&cons), 0);
		ASSERT(sf__ring_drained(&prod));

		make_msg(msg, SF_PUT_IMAGE, len, 5);
		ASSERT_EQ(sf__ring_push(&prod, 0xa1b2c3d4u, msg, len), 0);
		/* The bytes: head 1; slot 0 holds seq, a zero word, the
		 * message; the other ring and the tail untouched. */
		ASSERT_EQ(word_at(seg, l->head), 1);
		ASSERT_EQ(word_at(seg, l->tail), 0);
		ASSERT_EQ(word_at(slot0, 0), 0xa1b2c3d4u);
		ASSERT_EQ(word_at(slot0, 4), 0);
		ASSERT(memcmp(slot0 + SF_RING_ENTRY_HEAD, msg, len) == 0);
		ASSERT(memcmp(slot1, zeros, l->entry) == 0);
		ASSERT_EQ(word_at(seg, other->head), 0);
		ASSERT(memcmp(seg + other->entries, zeros, other->entry) == 0);
		ASSERT_EQ(sf__ring_room(&prod), (int)l->count - 1);
		ASSERT(!sf__ring_drained(&prod));

		/* Peeking leaves the entry; popping publishes the tail. */
		ASSERT_EQ(sf__ring_pending(&cons), 1);
		for (int again = 0; again < 2; again++) {
			memset(got, 0, sizeof got);
			ASSERT_EQ(sf__ring_peek(&cons, &seq, got, sizeof got), 1);
			ASSERT_EQ(seq, 0xa1b2c3d4u);
			ASSERT(memcmp(got, msg, len) == 0);
			ASSERT_EQ(word_at(seg, l->tail), 0);
		}
		sf__ring_pop(&cons);
		ASSERT_EQ(word_at(seg, l->tail), 1);
		ASSERT_EQ(sf__ring_pending(&cons), 0);
		ASSERT_EQ(sf__ring_peek(&cons, &seq, got, sizeof got), 0);
		ASSERT(sf__ring_drained(&prod));
		ASSERT_EQ(sf__ring_room(&prod), (int)l->count);

		/* A short message: the rest of its slot is zero, not what the
		 * caller's buffer held beyond it. */
		memset(msg, 0xee, sizeof msg);
		make_msg(msg, SF_RELEASE, 8, 6);
		ASSERT_EQ(sf__ring_push(&prod, 2, msg, 8), 0);
		ASSERT_EQ(word_at(seg, l->head), 2);
		ASSERT_EQ(word_at(slot1, 0), 2);
		ASSERT(memcmp(slot1 + SF_RING_ENTRY_HEAD, msg, 8) == 0);
		ASSERT(memcmp(slot1 + SF_RING_ENTRY_HEAD + 8, zeros,
		              l->entry - SF_RING_ENTRY_HEAD - 8) == 0);
	}
}

/* The consumer copies the whole message part of the entry, and no more
 * than that into a larger buffer. */
TEST(peek_copies_the_message_part_of_the_entry_and_no_more)
{
	for (size_t w = 0; w < 2; w++) {
		const struct layout *l = &rings[w];
		uint8_t *seg = fresh_segment();
		uint8_t msg[SF_RING_REQ_MESSAGE], got[256];
		struct sf_ring prod, cons;
		uint32_t seq;

		sides_at(seg, l, 0, &prod, &cons);
		make_msg(msg, SF_PUT_IMAGE, ring_max(l), 9);
		ASSERT_EQ(sf__ring_push(&prod, 1, msg, ring_max(l)), 0);
		memset(got, 0x5a, sizeof got);
		ASSERT_EQ(sf__ring_peek(&cons, &seq, got, sizeof got), 1);
		ASSERT(memcmp(got, msg, ring_max(l)) == 0);
		for (size_t i = ring_max(l); i < sizeof got; i++)
			ASSERT_MSG(got[i] == 0x5a, "%s: byte %zu past the message "
			           "written", l->name, i);
		/* What was copied is ours: the peer scribbling over the slot
		 * afterwards changes nothing in it. */
		memset(seg + l->entries, 0xff, l->entry);
		ASSERT(memcmp(got, msg, ring_max(l)) == 0);
	}
}

/* ---- full and wrapping -------------------------------------------------- */

TEST(a_full_ring_has_no_room_and_refuses_a_push)
{
	for (size_t w = 0; w < 2; w++) {
		const struct layout *l = &rings[w];
		uint8_t *seg = fresh_segment(), msg[SF_RING_REQ_MESSAGE];
		uint8_t slot0[SF_RING_REQ_ENTRY];
		struct sf_ring prod, cons;

		sides_at(seg, l, 0, &prod, &cons);
		for (uint32_t k = 0; k < l->count; k++) {
			ASSERT_EQ(sf__ring_room(&prod), (int)(l->count - k));
			push_k(&prod, l, k);
		}
		ASSERT_EQ(sf__ring_room(&prod), 0);
		/* The consumer may have exactly count waiting: not impossible. */
		ASSERT_EQ(sf__ring_pending(&cons), (int)l->count);
		memcpy(slot0, seg + l->entries, l->entry);
		make_msg(msg, SF_PUT_IMAGE, 8, 999);
		ASSERT_EQ(sf__ring_push(&prod, 999, msg, 8), -1);
		/* Refused whole: the oldest entry (same slot) and head kept. */
		ASSERT_EQ(word_at(seg, l->head), l->count);
		ASSERT(memcmp(slot0, seg + l->entries, l->entry) == 0);

		pop_k(&cons, l, 0);
		ASSERT_EQ(sf__ring_room(&prod), 1);
		push_k(&prod, l, l->count);
		ASSERT_EQ(sf__ring_room(&prod), 0);
		ASSERT_EQ(sf__ring_push(&prod, 999, msg, 8), -1);
		for (uint32_t k = 1; k <= l->count; k++)
			pop_k(&cons, l, k);
		ASSERT_EQ(sf__ring_pending(&cons), 0);
		ASSERT(sf__ring_drained(&prod));
	}
}

/*
 * Both sides' indices start 41 below 2^32 (slot 23): entries keep their
 * order and their slots (index mod 64) across the wrap, room and pending
 * stay right while head has wrapped and tail has not, and a ring full
 * across the wrap is full.
 */
TEST(indices_wrap_past_2_to_the_32)
{
	const uint32_t start = UINT32_MAX - 40;

	for (size_t w = 0; w < 2; w++) {
		const struct layout *l = &rings[w];
		uint8_t *seg = fresh_segment(), msg[8];
		struct sf_ring prod, cons;
		uint32_t pushed = 0, popped = 0, seed = 7;

		sides_at(seg, l, start, &prod, &cons);
		/* Full across the wrap first: head wrapped, tail not. */
		for (uint32_t k = 0; k < l->count; k++)
			push_k(&prod, l, start + k);
		pushed = l->count;
		ASSERT_EQ(word_at(seg, l->head), start + l->count);
		ASSERT_LT(word_at(seg, l->head), 64); /* wrapped */
		ASSERT_EQ(sf__ring_room(&prod), 0);
		make_msg(msg, SF_PUT_IMAGE, 8, 0);
		ASSERT_EQ(sf__ring_push(&prod, 0, msg, 8), -1);
		ASSERT_EQ(sf__ring_pending(&cons), (int)l->count);
		/* Entry start lives in slot start mod 64 = 23. */
		ASSERT_EQ(word_at(seg, l->entries + 23 * l->entry), start);
		ASSERT_EQ(word_at(seg, l->entries + 22 * l->entry),
		          start + l->count - 1);

		/* Then pushes and pops in uneven steps, 1000 entries in all. */
		while (popped < 1000) {
			uint32_t room, n;

			seed = seed * 1103515245u + 12345u;
			n = (seed >> 16) % (l->count + 1);
			for (uint32_t i = 0; i < n && popped < pushed; i++, popped++)
				pop_k(&cons, l, start + popped);
			room = (uint32_t)sf__ring_room(&prod);
			ASSERT_EQ(room, l->count - (pushed - popped));
			ASSERT_EQ(sf__ring_pending(&cons), (int)(pushed - popped));
			n = (seed >> 8) % (room + 1);
			for (uint32_t i = 0; i < n && pushed < 1000; i++, pushed++)
				push_k(&prod, l, start + pushed);
			ASSERT_EQ(word_at(seg, l->head), start + pushed);
			ASSERT_EQ(word_at(seg, l->tail), start + popped);
		}
		ASSERT(sf__ring_drained(&prod));
	}
}

/* ---- what the peer publishes is checked ---------------------------------- */

TEST(a_head_more_than_a_ring_ahead_is_impossible)
{
	static const uint32_t starts[] = { 0, 1000, UINT32_MAX - 30 };

	for (size_t w = 0; w < 2; w++) {
		const struct layout *l = &rings[w];

		for (size_t s = 0; s < 3; s++) {
			uint8_t *seg = fresh_segment(), got[SF_RING_REQ_MESSAGE];
			struct sf_ring prod, cons;
			uint32_t seq = 12345, t = starts[s];

			sides_at(seg, l, t, &prod, &cons);
			/* count ahead: a full ring, fine. */
			set_word(seg, l->head, t + l->count);
			ASSERT_EQ(sf__ring_pending(&cons), (int)l->count);
			/* One more, or far ahead, or behind our tail. */
			for (uint32_t bad = 0; bad < 4; bad++) {
				uint32_t head = bad == 0 ? t + l->count + 1 :
				                bad == 1 ? t + 0x7fffffffu :
				                bad == 2 ? t - 1 : t - l->count;

				set_word(seg, l->head, head);
				ASSERT_MSG(sf__ring_pending(&cons) == -1,
				           "%s: head %u with our tail at %u",
				           l->name, head, t);
				memset(got, 0x5a, sizeof got);
				ASSERT_EQ(sf__ring_peek(&cons, &seq, got, sizeof got), -1);
				/* Nothing was copied out of the bad slot. */
				ASSERT_EQ(seq, 12345);
				ASSERT_EQ(got[0], 0x5a);
				/* About to sleep, the consumer sees it too. */
				ASSERT(sf__ring_sleep(&cons));
				sf__ring_awake(&cons);
			}
			/* Our own tail never moved. */
			ASSERT_EQ(cons.pos, t);
			ASSERT_EQ(word_at(seg, l->tail), t);
		}
	}
}

TEST(a_tail_that_goes_back_or_past_the_head_is_impossible)
{
	static const uint32_t starts[] = { 0, UINT32_MAX - 6 };

	for (size_t w = 0; w < 2; w++) {
		const struct layout *l = &rings[w];

		for (size_t s = 0; s < 2; s++) {
			uint8_t *seg = fresh_segment(), msg[8];
			struct sf_ring prod, cons;
			uint32_t t = starts[s];

			sides_at(seg, l, t, &prod, &cons);
			for (uint32_t k = 0; k < 10; k++)
				push_k(&prod, l, k);
			for (uint32_t k = 0; k < 5; k++)
				pop_k(&cons, l, k);
			ASSERT_EQ(sf__ring_room(&prod), (int)l->count - 5);
			/* Behind the tail last seen (t + 5), by one or by far. */
			set_word(seg, l->tail, t + 4);
			ASSERT_EQ(sf__ring_room(&prod), -1);
			set_word(seg, l->tail, t + 5 - 0x80000000u);
			ASSERT_EQ(sf__ring_room(&prod), -1);
			/* Ahead of our head (t + 10), by one or by far. */
			set_word(seg, l->tail, t + 11);
			ASSERT_EQ(sf__ring_room(&prod), -1);
			set_word(seg, l->tail, t + 10 + 0x80000000u);
			ASSERT_EQ(sf__ring_room(&prod), -1);
			ASSERT(!sf__ring_drained(&prod));
			/* Our head is ours: a tail the consumer reports never
			 * moves it. */
			ASSERT_EQ(word_at(seg, l->head), t + 10);
			/* All taken: possible, and the last seen moves on. */
			set_word(seg, l->tail, t + 10);
			ASSERT_EQ(sf__ring_room(&prod), (int)l->count);
			ASSERT(sf__ring_drained(&prod));
			/* So t + 5 is now behind. */
			set_word(seg, l->tail, t + 5);
			ASSERT_EQ(sf__ring_room(&prod), -1);

			/* A full ring whose consumer claims to have taken more
			 * than it could: the producer still has no room, and
			 * overwrites nothing the consumer has not freed. */
			set_word(seg, l->tail, t + 10);
			ASSERT_EQ(sf__ring_room(&prod), (int)l->count);
			for (uint32_t k = 10; k < 10 + l->count; k++)
				push_k(&prod, l, k);
			set_word(seg, l->tail, t + 10 + 2 * l->count);
			ASSERT_EQ(sf__ring_room(&prod), -1);
			make_msg(msg, SF_PUT_IMAGE, 8, 0);
			ASSERT_EQ(sf__ring_push(&prod, 0, msg, 8), -1);
			ASSERT_EQ(word_at(seg, l->head), t + 10 + l->count);
		}
	}
}

TEST(a_message_longer_than_its_entry_is_refused_whole)
{
	for (size_t w = 0; w < 2; w++) {
		const struct layout *l = &rings[w];
		static const size_t over[] = { 1, 4, 8, 1000 };
		uint8_t *seg = fresh_segment(), msg[2048];
		uint8_t zeros[SF_RING_REQ_ENTRY] = { 0 };
		struct sf_ring prod, cons;
		uint32_t max = ring_max(l);

		ASSERT_EQ(max, w == 0 ? 120 : 56);
		sides_at(seg, l, 0, &prod, &cons);
		for (size_t i = 0; i < 4; i++) {
			size_t len = max + over[i];

			make_msg(msg, SF_PUT_IMAGE, len, 1);
			ASSERT_MSG(sf__ring_push(&prod, 1, msg, len) == -1,
			           "%s: a %zu-byte message pushed", l->name, len);
			/* Nothing written, nothing published. */
			ASSERT_EQ(word_at(seg, l->head), 0);
			ASSERT(memcmp(seg + l->entries, zeros, l->entry) == 0);
			ASSERT_EQ(sf__ring_pending(&cons), 0);
		}
		/* Exactly the largest fits. */
		make_msg(msg, SF_PUT_IMAGE, max, 1);
		ASSERT_EQ(sf__ring_push(&prod, 1, msg, max), 0);
		ASSERT_EQ(sf__ring_pending(&cons), 1);
	}
}

/* ---- sleeping ----------------------------------------------------------- */

TEST(the_sleeping_word_is_set_and_cleared_where_the_protocol_says)
{
	for (size_t w = 0; w < 2; w++) {
		const struct layout *l = &rings[w], *other = &rings[1 - w];
		uint8_t *seg = fresh_segment();
		struct sf_ring prod, cons;

		sides_at(seg, l, 0, &prod, &cons);
		ASSERT(!sf__ring_consumer_asleep(&prod));
		/* Empty: it may block; the word says so. */
		ASSERT(!sf__ring_sleep(&cons));
		ASSERT_NE(word_at(seg, l->sleep), 0);
		ASSERT_EQ(word_at(seg, other->sleep), 0);
		ASSERT(sf__ring_consumer_asleep(&prod));
		sf__ring_awake(&cons);
		ASSERT_EQ(word_at(seg, l->sleep), 0);
		ASSERT(!sf__ring_consumer_asleep(&prod));

		/* An entry waiting: it must not block. */
		push_k(&prod, l, 0);
		ASSERT(sf__ring_sleep(&cons));
		sf__ring_awake(&cons);
		ASSERT_EQ(word_at(seg, l->sleep), 0);
		pop_k(&cons, l, 0);
		ASSERT(!sf__ring_sleep(&cons));
		sf__ring_awake(&cons);

		/* Any nonzero word means asleep (the peer writes it). */
		set_word(seg, l->sleep, 0x80000000u);
		ASSERT(sf__ring_consumer_asleep(&prod));
		set_word(seg, l->sleep, 0);
	}
}

/*
 * Two processes, one memfd: the parent produces STORM_ENTRIES entries on
 * the request ring, and after each push looks whether the consumer sleeps;
 * only then does it write a byte to a pipe (the wakeup, as KICK is a
 * message on the socket).  The child consumes; with the ring empty it
 * spins a bounded time, as both sides may (--spin-us), then asks
 * sf__ring_sleep and only when that says so blocks in poll() on the pipe.
 *
 * Most entries come in bursts of 1 to 4, and the producer then mostly
 * waits for the consumer to take them, as a client waits for its answer,
 * and pauses: briefly (the consumer stays awake), about the consumer's
 * spin (the next push lands while it goes to sleep: the race the fences
 * close), or long (it sleeps and must be woken).  A lost wakeup leaves the
 * consumer blocked with the burst waiting and the producer waiting for it:
 * poll's timeout fails the test.  Every 64th burst is a stream of 64 to 255
 * entries pushed as fast as room comes (the ring full, the consumer awake).
 * Every entry must arrive once, in order, with its bytes.  The indices
 * start near 2^32 and wrap during the run.  The two are pinned to two CPUs
 * when there are two: the race needs them to run at once.  Storing the
 * sleeping word after the second look, or leaving out either side's
 * fence, makes this test fail on x86-64 (each was tried).
 */
#define STORM_ENTRIES 200000u
#define STORM_POLL_MS 3000
#define STORM_SPIN_NS 8000u

struct storm_result {
	uint32_t got;       /* entries taken, in order */
	uint32_t failure;   /* enum storm_failure */
	uint32_t seq;       /* the seq that was wrong */
	uint32_t pad;
	uint64_t blocks;    /* polls that blocked and were woken */
	uint64_t caught;    /* sf__ring_sleep saw an entry come meanwhile */
	uint64_t spurious;  /* woken with the ring empty */
};

enum storm_failure {
	STORM_OK,
	STORM_LOST_WAKEUP,
	STORM_WRONG_SEQ,
	STORM_WRONG_BYTES,
	STORM_IMPOSSIBLE_HEAD,
	STORM_POLL_FAILED,
};

static pid_t storm_child;

static void storm_kill_child(void)
{
	if (storm_child > 0) {
		kill(storm_child, SIGKILL);
		waitpid(storm_child, NULL, 0);
		storm_child = 0;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Entry k's seq: not its index, as in the protocol (a message number). */
static uint32_t storm_seq(uint32_t k)
{
	return k * 3 + 1;
}

/* Takes the oldest entry when there is one: 1, 0 when the ring is empty,
 * -1 (with res->failure) when it is not what was pushed. */
static int storm_take(struct sf_ring *cons, struct storm_result *res)
{
	uint8_t got[SF_RING_REQ_MESSAGE], want[SF_RING_REQ_MESSAGE];
	size_t len = msg_len(res->got, SF_RING_REQ_MESSAGE);
	uint32_t seq;
	int st = sf__ring_peek(cons, &seq, got, sizeof got);

	if (st <= 0) {
		if (st < 0)
			res->failure = STORM_IMPOSSIBLE_HEAD;
		return st;
	}
	make_msg(want, SF_PUT_IMAGE, len, res->got);
	if (seq != storm_seq(res->got)) {
		res->failure = STORM_WRONG_SEQ;
		res->seq = seq;
		return -1;
	}
	if (memcmp(got, want, len) != 0) {
		res->failure = STORM_WRONG_BYTES;
		return -1;
	}
	sf__ring_pop(cons);
	res->got++;
	return 1;
}

static void storm_consume(uint8_t *seg, uint32_t start, int wake_fd,
                          int result_fd)
{
	struct storm_result res = { 0 };
	struct sf_ring cons;
	char drain[256];
	bool woken = false;

	sf__ring_init(&cons, seg, SF_RING_REQUESTS);
	cons.pos = start;
	while (res.got < STORM_ENTRIES) {
		struct pollfd pfd = { .fd = wake_fd, .events = POLLIN };
		uint64_t spun;
		int st = storm_take(&cons, &res);

		if (st < 0)
			break;
		if (st == 1) {
			woken = false;
			continue;
		}
		if (woken)
			res.spurious++;
		woken = false;
		for (spun = now_ns(); now_ns() - spun < STORM_SPIN_NS;)
			if (sf__ring_pending(&cons) != 0)
				break;
		if (sf__ring_pending(&cons) != 0)
			continue;
		if (sf__ring_sleep(&cons)) {
			sf__ring_awake(&cons);
			res.caught++;
			continue;
		}
		st = poll(&pfd, 1, STORM_POLL_MS);
		if (st == 0) {
			res.failure = STORM_LOST_WAKEUP;
			break;
		}
		if (st < 0 && errno != EINTR) {
			res.failure = STORM_POLL_FAILED;
			break;
		}
		sf__ring_awake(&cons);
		while (read(wake_fd, drain, sizeof drain) > 0) {
			/* every byte: the next poll waits for a new one */
		}
		res.blocks++;
		woken = true;
	}
	if (write(result_fd, &res, sizeof res) != (ssize_t)sizeof res)
		_exit(2);
	_exit(0);
}

/* The pause after a burst, in ns (see above); *wait: first wait until the
 * consumer took the burst, as a client waits for its answer. */
static uint32_t storm_pause(uint32_t r, bool *wait)
{
	*wait = r % 8 >= 2;
	switch (r % 8) {
	case 0: case 1:
		return (r >> 3) % 2000;
	case 7:
		return 2 * STORM_SPIN_NS + (r >> 3) % 20000;
	default:
		return STORM_SPIN_NS - 1000 + (r >> 3) % 2000;
	}
}

/* Whether the consumer has ended (its result, or its end, is readable). */
static bool storm_consumer_ended(int result_fd)
{
	struct pollfd pfd = { .fd = result_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) != 0;
}

/* Waits until the ring has room (drained: until the consumer took every
 * entry).  False when the consumer ended first (it says why) or took
 * nothing for 5 s. */
static bool storm_wait(struct sf_ring *prod, bool drained, int result_fd)
{
	uint64_t since = now_ns();

	for (uint32_t i = 1;; i++) {
		int room = sf__ring_room(prod);

		ASSERT_GE(room, 0);
		if (drained ? sf__ring_drained(prod) : room > 0)
			return true;
		/* Spinning is for the consumer's sake while it runs; a
		 * machine that has more to run than cores gets the CPU. */
		if (now_ns() - since > 20000)
			sched_yield();
		if (i % 256 == 0 && (storm_consumer_ended(result_fd) ||
		                     now_ns() - since > 5000000000ull))
			return false;
	}
}

/* The first two CPUs this process may run on, in cpus[]: 2, or fewer
 * when it has fewer. */
static int two_cpus(int cpus[2])
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set);
}

TEST(no_wakeup_is_lost_between_two_processes)
{
	const uint32_t start = UINT32_MAX - 5000;
	uint8_t msg[SF_RING_REQ_MESSAGE];
	struct storm_result res;
	struct sf_ring prod;
	uint64_t wakeups = 0, t0 = now_ns();
	uint32_t seed = 99, pushed = 0, bursts = 0;
	int wake[2], result[2], fd, status, cpus[2];
	int n_cpus = two_cpus(cpus);
	bool going = true;
	uint8_t *seg;
	ssize_t n;

	fd = memfd_create("ring-storm", MFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, SF_CONTROL_SIZE), 0);
	seg = mmap(NULL, SF_CONTROL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	           fd, 0);
	ASSERT(seg != MAP_FAILED);
	ASSERT_EQ(pipe2(wake, O_CLOEXEC | O_NONBLOCK), 0);
	ASSERT_EQ(pipe2(result, O_CLOEXEC), 0);
	sf__ring_init(&prod, seg, SF_RING_REQUESTS);
	set_word(seg, SF_CONTROL_REQ_HEAD, start);
	set_word(seg, SF_CONTROL_REQ_TAIL, start);
	prod.pos = prod.peer = start;

	storm_child = fork();
	ASSERT_GE(storm_child, 0);
	if (storm_child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (n_cpus == 2)
			pin_to(cpus[1]);
		close(wake[1]);
		close(result[0]);
		storm_consume(seg, start, wake[0], result[1]);
	}
	sf_test_atfail = storm_kill_child;
	if (n_cpus == 2)
		pin_to(cpus[0]);
	close(wake[0]);
	close(result[1]);

	while (going && pushed < STORM_ENTRIES) {
		uint32_t burst, pause_ns;
		bool wait;

		seed = seed * 1103515245u + 12345u;
		if (++bursts % 64 == 0) {
			/* A stream: pushed as fast as room comes, so the
			 * consumer has no reason to sleep. */
			burst = SF_RING_REQ_COUNT + (seed >> 8) % 192;
			pause_ns = 0;
			wait = false;
		} else {
			burst = 1 + (seed >> 29) % 4;
			pause_ns = storm_pause(seed >> 4, &wait);
		}
		for (uint32_t i = 0; i < burst && pushed < STORM_ENTRIES; i++) {
			size_t len = msg_len(pushed, SF_RING_REQ_MESSAGE);

			going = storm_wait(&prod, false, result[0]);
			if (!going)
				break;
			make_msg(msg, SF_PUT_IMAGE, len, pushed);
			ASSERT_EQ(sf__ring_push(&prod, storm_seq(pushed), msg, len), 0);
			pushed++;
			if (sf__ring_consumer_asleep(&prod)) {
				n = write(wake[1], "", 1);
				ASSERT_MSG(n == 1 || errno == EAGAIN,
				           "write: %s", strerror(errno));
				wakeups++;
			}
		}
		/* A lost wakeup leaves the consumer asleep with the burst
		 * waiting: it is the consumer's poll that times out. */
		if (going && wait)
			going = storm_wait(&prod, true, result[0]);
		for (uint64_t t = now_ns(); going && now_ns() - t < pause_ns;) {
			/* the consumer takes the burst, spins, maybe sleeps */
		}
	}
	memset(&res, 0, sizeof res);
	n = read(result[0], &res, sizeof res);
	ASSERT_EQ(waitpid(storm_child, &status, 0), storm_child);
	storm_child = 0;
	sf_test_atfail = NULL;
	close(wake[1]);
	close(result[0]);
	munmap(seg, SF_CONTROL_SIZE);
	close(fd);
	ASSERT_MSG(n == (ssize_t)sizeof res && WIFEXITED(status) &&
	           WEXITSTATUS(status) == 0, "the consumer ended with status "
	           "0x%x without its result", status);
	printf("#   %u entries in %.0f ms: %" PRIu64 " wakeups sent, %" PRIu64
	       " blocking sleeps, %" PRIu64 " sleeps called off by the second "
	       "look, %" PRIu64 " spurious wakeups\n", res.got,
	       (double)(now_ns() - t0) / 1e6, wakeups, res.blocks, res.caught,
	       res.spurious);
	fflush(stdout);
	ASSERT_MSG(res.failure != STORM_LOST_WAKEUP, "lost wakeup: the consumer "
	           "slept %d ms with entry %u waiting (%u of %u pushed)",
	           STORM_POLL_MS, res.got, pushed, STORM_ENTRIES);
	ASSERT_MSG(res.failure == STORM_OK, "consumer failure %u at entry %u "
	           "(seq %u, %u expected)", res.failure, res.got, res.seq,
	           storm_seq(res.got));
	ASSERT_EQ(res.got, STORM_ENTRIES);
	/* The sleeping path was taken; and with the two sides running at
	 * once, wakeups went only to a consumer that said it sleeps, far
	 * from one per entry.  (On one CPU the two take turns: the consumer
	 * always empties the ring and sleeps before the producer runs
	 * again, and every push must wake it.) */
	ASSERT_GT(res.blocks, 0);
	ASSERT_GT(wakeups, 0);
	if (n_cpus == 2)
		ASSERT_LT(wakeups, STORM_ENTRIES);
}
