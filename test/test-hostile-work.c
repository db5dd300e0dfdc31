/*
 * Hostile clients against a real shmframe-server: the work and memory a
 * client can make the server spend are bounded, and do not delay the
 * others.
 *
 * The server, the well-behaved client and the checks every case ends
 * with are in hostile.h.
 */
#include "hostile.h"

/* ---- bounded work and memory --------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put_image_flags(struct sf_peer *r, uint16_t flags, uint32_t surface,
                            uint32_t segment, uint32_t buffer, uint64_t offset,
                            uint32_t stride, const struct sf_rect *rects,
                            uint32_t n)
{
	static uint32_t serial;
	struct sf_put_image m = {
		.hdr.flags = flags, .surface = surface, .serial = ++serial,
		.segment = segment, .buffer = buffer, .offset = offset,
		.stride = stride, .n_rects = n,
	};

	send_msg(r, SF_PUT_IMAGE, &m, sizeof m, rects, n * sizeof *rects);
}

/* A small deterministic generator, so that a failure can be replayed. */
static uint32_t next_rand(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

/*
 * The server copies the union of overlapping damage once: the result must
 * be exactly what copying every rectangle in turn gives, in copy mode and
 * when a copied frame lands on a latched buffer (the rest of the latched
 * image is kept), with rectangles that overlap, nest, touch and repeat.
 */
TEST(overlapping_damage_is_copied_exactly)
{
	enum { W = 61, H = 37, STRIDE = W * 4 + 12 };
	const size_t buf_size = (size_t)STRIDE * H;
	static uint32_t model[W * H];
	struct sf_rect rects[SF_MAX_RECTS];
	uint32_t seed = 12345;
	uint8_t msg[SF_MAX_MESSAGE];
	struct hseg h;
	struct sf_peer *r;

	begin(NULL);
	/* Two buffers to present from, a third to read back into; the first
	 * 16 bytes (the nonce) are left alone. */
	hseg_make(&h, SF_SHM_MEMFD, 64 + 3 * buf_size);
	r = raw_ready();
	attach(r, &h, 1, SF_SEGMENT_WRITABLE);
	create_surface(r, 1, W, H, SF_PRESENT_LATCH);
	roundtrip(r);
	memset(model, 0, sizeof model);
	for (uint32_t frame = 1; frame <= 60; frame++) {
		uint64_t off = 64 + (frame % 2) * buf_size;
		uint8_t *buf = (uint8_t *)h.seg.map + off;
		uint8_t *back = (uint8_t *)h.seg.map + 64 + 2 * buf_size;
		bool copy = next_rand(&seed) % 3 != 0;
		uint32_t n = 1 + next_rand(&seed) % (frame % 10 == 0 ? 256 : 12);
		struct sf_rect all = { 0, 0, W, H };

		for (uint32_t y = 0; y < H; y++)
			for (uint32_t x = 0; x < W; x++) {
				uint32_t v = pattern(x, y, frame);

				memcpy(buf + (size_t)y * STRIDE + x * 4, &v, 4);
			}
		for (uint32_t i = 0; i < n; i++) {
			struct sf_rect *d = &rects[i];

			d->x = next_rand(&seed) % W;
			d->y = next_rand(&seed) % H;
			d->width = 1 + next_rand(&seed) % (W - d->x);
			d->height = 1 + next_rand(&seed) % (H - d->y);
			if (i > 0 && next_rand(&seed) % 4 == 0)
				*d = rects[next_rand(&seed) % i]; /* repeated */
		}
		if (frame % 7 == 0)
			rects[n - 1] = all;
		put_image_flags(r, copy ? SF_PUT_IMAGE_COPY : 0, 1, 1, frame,
		                off, STRIDE, rects, n);
		/* What the surface must hold now. */
		for (uint32_t y = 0; y < H; y++)
			for (uint32_t x = 0; x < W; x++) {
				bool in = !copy;

				for (uint32_t i = 0; i < n && !in; i++)
					in = x >= rects[i].x && x < rects[i].x + rects[i].width &&
					     y >= rects[i].y && y < rects[i].y + rects[i].height;
				if (in)
					model[y * W + x] = pattern(x, y, frame);
			}
		roundtrip(r);
		memset(back, 0, buf_size);
		get_image(r, 1, all, 1, 64 + 2 * buf_size, STRIDE);
		for (;;) {
			struct sf_header hdr;

			ASSERT_EQ(sf__peer_next_event(r, &hdr, msg, 5000), 1);
			ASSERT_MSG(hdr.type != SF_ERROR, "frame %u: ERROR", frame);
			if (hdr.type == SF_IMAGE)
				break;
		}
		for (uint32_t y = 0; y < H; y++)
			for (uint32_t x = 0; x < W; x++) {
				uint32_t v;

				memcpy(&v, back + (size_t)y * STRIDE + x * 4, 4);
				ASSERT_MSG(v == model[y * W + x], "frame %u (%s, %u "
				           "rectangles): pixel %u,%u is %08x, %08x "
				           "expected", frame, copy ? "copy" : "latch", n,
				           x, y, v, model[y * W + x]);
			}
	}
	raw_close(r);
	hseg_free(&h);
	end();
}

/* The server maps a segment attached without WRITABLE read-only: a
 * readback into it must be refused before anything is written (a write
 * there would kill the server), for every kind, and the server serves the
 * others as before. */
TEST(readback_into_a_segment_not_attached_writable_is_bad_segment)
{
	static const int kinds[] = { SF_SHM_MEMFD, SF_SHM_POSIX, SF_SHM_SYSV };
	struct sf_rect all = { 0, 0, 16, 16 };
	char text[SF_MAX_TEXT + 1];

	begin(NULL);
	for (size_t k = 0; k < 3; k++) {
		struct hseg h;
		struct sf_peer *r = raw_ready();

		hseg_make(&h, kinds[k], 4096);
		attach(r, &h, 1, 0);
		create_surface(r, 1, 16, 16, SF_PRESENT_LATCH);
		roundtrip(r);
		if (h.seg.kind == SF_SHM_POSIX)
			h.seg.name[0] = '\0'; /* the server removed it */
		get_image(r, 1, all, 1, 0, 64);
		expect_error_text(r, SF_ERR_BAD_SEGMENT, SF_GET_IMAGE, text);
		ASSERT_CONTAINS(text, "WRITABLE");
		hseg_free(&h);
		check_unharmed("after a readback into a read-only segment");
	}
	end();
}

/* SYNC round trip of the good client's own raw connection, in ns. */
static uint64_t sync_latency(struct sf_peer *r)
{
	uint64_t t0 = now_ns();

	roundtrip(r);
	return now_ns() - t0;
}

/*
 * The attacker of work_amplification_does_not_delay_other_clients, in its
 * own process: a 4096x4096 surface, and requests that each name the whole
 * surface many times over: PUT_IMAGE with 256 whole-surface rectangles
 * and the COPY flag (over a latched buffer, too), and readbacks of the
 * whole surface into its segment.  Copied rectangle by rectangle, one
 * such PUT_IMAGE is 16 GiB of memcpy.  Exits 0 once all were answered.
 */
static void amplifier(int ready_fd)
{
	enum { W = 4096, H = 4096 };
	const size_t size = (size_t)W * H * 4;
	static struct sf_rect rects[SF_MAX_RECTS];
	struct sf_rect all = { 0, 0, W, H };
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_header hdr;
	uint64_t frame_ns = 0;
	struct hseg h;
	struct sf_peer *r;

	for (uint32_t i = 0; i < SF_MAX_RECTS; i++)
		rects[i] = all;
	hseg_make(&h, SF_SHM_MEMFD, 2 * size);
	/* Rendered into, as a client does: its pages exist. */
	memset((uint8_t *)h.seg.map + SF_NONCE_SIZE, 0x5a,
	       h.seg.size - SF_NONCE_SIZE);
	r = raw_ready();
	attach(r, &h, 1, SF_SEGMENT_WRITABLE);
	create_surface(r, 1, W, H, SF_PRESENT_LATCH);
	/* Honest frames from both buffers and a readback first: the server's
	 * copy of the surface and its mappings of our pages exist (making
	 * them costs page faults whatever the damage). */
	put_image_flags(r, SF_PUT_IMAGE_COPY, 1, 1, 1, 0, W * 4, &all, 1);
	put_image_flags(r, SF_PUT_IMAGE_COPY, 1, 1, 2, size, W * 4, &all, 1);
	get_image(r, 1, all, 1, size, W * 4);
	roundtrip(r);
	/* What an honest whole frame costs here and now: the yardstick. */
	for (int i = 0; i < 3; i++) {
		uint64_t t0 = now_ns(), t;

		put_image_flags(r, SF_PUT_IMAGE_COPY, 1, 1, 1, 0, W * 4, &all, 1);
		roundtrip(r);
		t = now_ns() - t0;
		frame_ns = t > frame_ns ? t : frame_ns;
	}
	ASSERT_EQ(write(ready_fd, &frame_ns, sizeof frame_ns),
	          (ssize_t)sizeof frame_ns);
	for (int i = 0; i < 12; i++) {
		/* Latch one buffer, then copy the other over it. */
		put_image_flags(r, 0, 1, 1, 1, 0, W * 4, &all, 1);
		put_image_flags(r, SF_PUT_IMAGE_COPY, 1, 1, 2, size, W * 4, rects,
		                SF_MAX_RECTS);
		get_image(r, 1, all, 1, size, W * 4);
	}
	send_sync(r, 9);
	for (;;) {
		ASSERT_EQ(sf__peer_next_event(r, &hdr, msg, 60000), 1);
		ASSERT_MSG(hdr.type != SF_ERROR, "the attacker got an ERROR");
		if (hdr.type == SF_SYNC_DONE)
			break;
	}
	raw_close(r);
	hseg_free(&h);
}

/*
 * Attack: one 4 KiB request that makes the server copy a surface hundreds
 * of times.  Each request must cost at most about one copy of its surface,
 * and a client's copies per wakeup are budgeted, so that another client's
 * SYNC is answered within a bound far below what the naive copies take:
 * 1 s, or 32 honest whole frames measured by the attacker just before
 * (on a loaded machine, or under a sanitizer), where copying each
 * rectangle takes 256 frames per request and several requests per wakeup
 * (seconds even on an idle machine).
 */
TEST(work_amplification_does_not_delay_other_clients)
{
	uint64_t bound = 1000000000ull, frame_ns = 0;
	uint64_t base = 0, worst = 0, t_start;
	struct sf_peer *probe;
	int p[2], status, samples = 0;
	pid_t pid;

	begin(NULL);
	probe = raw_ready();
	for (int i = 0; i < 20; i++) {
		uint64_t t = sync_latency(probe);

		base = t > base ? t : base;
	}
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(p[0]);
		sf_test_atfail = NULL;
		amplifier(p[1]);
		_exit(0);
	}
	close(p[1]);
	ASSERT_EQ(read(p[0], &frame_ns, sizeof frame_ns),
	          (ssize_t)sizeof frame_ns);
	close(p[0]);
	if (32 * frame_ns > bound)
		bound = 32 * frame_ns;
	t_start = now_ns();
	/* Bounded: the attack takes well under a second once bounded. */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		uint64_t t = sync_latency(probe);

		worst = t > worst ? t : worst;
		samples++;
		ASSERT_MSG(worst < bound && now_ns() - t_start < 30 * bound,
		           "a SYNC took %.3f s while another client made the "
		           "server copy, the bound is %.3f s (before: %.3f ms at "
		           "most; a whole frame: %.1f ms)", (double)worst / 1e9,
		           (double)bound / 1e9, (double)base / 1e6,
		           (double)frame_ns / 1e6);
		usleep(2000);
	}
	ASSERT_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	           "the attacker failed (status 0x%x)", status);
	printf("#   SYNC: %.2f ms at most before, %.2f ms at most during %d "
	       "samples of the attack (%.0f ms; a whole frame %.1f ms, bound "
	       "%.0f ms)\n", (double)base / 1e6, (double)worst / 1e6, samples,
	       (double)(now_ns() - t_start) / 1e6, (double)frame_ns / 1e6,
	       (double)bound / 1e6);
	fflush(stdout);
	roundtrip(probe);
	raw_close(probe);
	end();
}

/* Reads everything the server sends until it closes: the number of
 * SYNC_DONE, and the ERROR if one came (code 0: none). */
static unsigned long drain_events(struct sf_peer *r, uint32_t *code, char *text)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	unsigned long syncs = 0;
	struct sf_header hdr;
	struct sf_error e;

	*code = 0;
	text[0] = '\0';
	while (sf__peer_next_event(r, &hdr, msg, 5000) == 1) {
		if (hdr.type == SF_SYNC_DONE)
			syncs++;
		if (hdr.type == SF_ERROR) {
			ASSERT_EQ(sf__decode_error(msg, hdr.length, &e, text, NULL), 0);
			*code = e.code;
		}
	}
	return syncs;
}

/*
 * Attack: clients that send requests and never read the answers each hold
 * up to max_output of the server's memory (64 MiB by default), and there
 * may be hundreds of them.  With --max-output-total the events queued for
 * all clients together stay bounded: over it, the client holding the most
 * gets ERROR SLOW (its unsent events dropped at once), the others keep
 * going, and a client that reads its events is never the one failed.
 */
TEST(clients_that_never_read_share_one_output_budget)
{
	enum { HOGS = 6, ROUNDS = 128, BATCH = 4096 };
	const char *const args[] = { "--max-output-total", "4M", NULL };
	struct sf_sync m = { .serial = 5 };
	struct sf_peer *hog[HOGS];
	bool open[HOGS];
	uint8_t one[64], *batch;
	char text[SF_MAX_TEXT + 1];
	unsigned long answers;
	long hwm0, grown_kb;
	int failed = 0, told = 0;
	uint32_t code;
	size_t n;

	begin(args);
	n = sf__peer_encode(one, sizeof one, SF_SYNC, &m, sizeof m, NULL, 0);
	batch = malloc(n * BATCH);
	ASSERT(batch != NULL);
	for (int i = 0; i < BATCH; i++)
		memcpy(batch + (size_t)i * n, one, n);
	hwm0 = server_hwm_kb();
	for (int h = 0; h < HOGS; h++) {
		hog[h] = raw_ready();
		open[h] = true;
	}
	/* 8 MiB of SYNC each, side by side, never reading an answer: the
	 * server's share of them (what the socket buffers do not hold) is
	 * over the total, but each alone is far under max_output. */
	for (int round = 0; round < ROUNDS; round++) {
		for (int h = 0; h < HOGS; h++)
			if (open[h] && raw_send(hog[h], batch, n * BATCH) < 0)
				open[h] = false;
		if (round % 32 == 31)
			check_serving("while clients do not read their events");
	}
	grown_kb = server_hwm_kb() - hwm0;
	for (int h = 0; h < HOGS; h++) {
		ASSERT_EQ(shutdown(hog[h]->fd, SHUT_WR), 0);
		answers = drain_events(hog[h], &code, text);
		if (code) {
			ASSERT_MSG(code == SF_ERR_SLOW, "ERROR %s: %s",
			           sf__error_name(code), text);
			ASSERT_CONTAINS(text, "--max-output-total");
			told++;
		}
		/* A failed client that went on sending may be closed before
		 * its ERROR could be written: then answers are missing. */
		if (code || answers < (unsigned long)ROUNDS * BATCH)
			failed++;
		else
			ASSERT_EQ(answers, (unsigned long)ROUNDS * BATCH);
		raw_close(hog[h]);
	}
	printf("#   %d of %d clients failed, %d read their ERROR; server peak "
	       "memory grew by %ld KiB\n", failed, HOGS, told, grown_kb);
	fflush(stdout);
	ASSERT_GT(told, 0);
#ifndef __SANITIZE_ADDRESS__
	/* (AddressSanitizer keeps freed memory in quarantine: not there.) */
	ASSERT_MSG(grown_kb < 12 * 1024, "the server's peak memory grew by %ld "
	           "KiB while clients did not read", grown_kb);
#endif

	/* The accounting came back down: a client that reads its answers
	 * late, but holds less than the total, is not failed. */
	hog[0] = raw_ready();
	for (int i = 0; i < 16; i++)
		ASSERT_EQ(raw_send(hog[0], batch, n * BATCH), 0);
	ASSERT_EQ(shutdown(hog[0]->fd, SHUT_WR), 0);
	answers = drain_events(hog[0], &code, text);
	ASSERT_MSG(code == 0, "ERROR %s: %s", sf__error_name(code), text);
	ASSERT_EQ(answers, 16ul * BATCH);
	raw_close(hog[0]);
	free(batch);
	end();
}
