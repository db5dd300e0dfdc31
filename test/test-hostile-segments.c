/*
 * Hostile clients against a real shmframe-server: segments shrunk under
 * the server's mapping, segments that cannot shrink or are mapped
 * read-only, and names that are not segments at all.
 *
 * The server, the well-behaved client and the checks every case ends
 * with are in hostile.h.
 */
#include "hostile.h"

/* ---- segments that shrink ------------------------------------------------ */

/* A POSIX segment for a w x h surface, attached; the server unlinks the
 * name, we keep the fd to shrink it. */
static struct sf_peer *attached_posix(struct hseg *h, uint32_t w, uint32_t hgt,
                                  uint32_t mode)
{
	struct sf_peer *r = raw_ready();

	hseg_make(h, SF_SHM_POSIX, (size_t)w * hgt * 4);
	memset((uint8_t *)h->seg.map + SF_NONCE_SIZE, 0x77,
	       h->seg.size - SF_NONCE_SIZE);
	attach(r, h, 1, 0);
	create_surface(r, 1, w, hgt, mode);
	roundtrip(r);
	/* The nonce matched: the server removed the name already. */
	h->seg.name[0] = '\0';
	return r;
}

TEST(shrunk_posix_segment_copied_is_bad_segment)
{
	struct sf_rect all = { 0, 0, 256, 64 }, tail = { 0, 48, 256, 16 };
	struct hseg h;
	struct sf_peer *r;

	begin(NULL);
	r = attached_posix(&h, 256, 64, SF_PRESENT_COPY);
	ASSERT_EQ(ftruncate(h.seg.fd, 0), 0);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_PUT_IMAGE);
	hseg_free(&h);
	check_unharmed("segment shrunk to 0");

	/* Shrunk by half: the first rows are still there, the last not. */
	r = attached_posix(&h, 256, 64, SF_PRESENT_COPY);
	ASSERT_EQ(ftruncate(h.seg.fd, 256 * 4 * 32), 0);
	put_image(r, 1, 1, 0, 256 * 4, &tail, 1);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_PUT_IMAGE);
	hseg_free(&h);
	end();
}

TEST(shrunk_posix_segment_read_back_is_bad_segment)
{
	struct sf_rect all = { 0, 0, 256, 64 };
	struct hseg h, target;
	struct sf_peer *r;

	begin(NULL);
	/* Latched (nothing read), shrunk, then read back into another
	 * segment. */
	r = attached_posix(&h, 256, 64, SF_PRESENT_LATCH);
	hseg_make(&target, SF_SHM_MEMFD, 256 * 64 * 4);
	attach(r, &target, 2, SF_SEGMENT_WRITABLE);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	roundtrip(r);
	ASSERT_EQ(ftruncate(h.seg.fd, 0), 0);
	get_image(r, 1, all, 2, 0, 256 * 4);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_GET_IMAGE);
	hseg_free(&h);
	hseg_free(&target);
	check_unharmed("segment shrunk before a readback");

	/* ... and read back inline, straight from the shrunk mapping. */
	r = attached_posix(&h, 256, 64, SF_PRESENT_LATCH);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	roundtrip(r);
	ASSERT_EQ(ftruncate(h.seg.fd, 0), 0);
	get_image(r, 1, all, 0, 0, 0);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_GET_IMAGE);
	hseg_free(&h);
	end();
}

TEST(shrunk_posix_segment_in_a_snapshot_is_bad_segment)
{
	char dump[128];
	const char *args[] = { "--dump-dir", dump, NULL };
	const char *every[] = { "--dump-dir", dump, "--dump-every", "1", NULL };
	struct sf_rect all = { 0, 0, 256, 64 };
	char text[SF_MAX_TEXT + 1];
	struct hseg h;
	struct sf_peer *r;

	snprintf(dump, sizeof dump, "/tmp/shmframe-hostile-dump.%d",
	         (int)getpid());
	/* SIGUSR1: the snapshot reads the latched, shrunk buffer.  No
	 * request is at fault; the client is dropped all the same. */
	begin(args);
	r = attached_posix(&h, 256, 64, SF_PRESENT_LATCH);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	roundtrip(r);
	ASSERT_EQ(ftruncate(h.seg.fd, 0), 0);
	ASSERT_EQ(kill(srv.pid, SIGUSR1), 0);
	expect_error_text(r, SF_ERR_BAD_SEGMENT, 0, text);
	ASSERT_CONTAINS(text, "shrunk");
	hseg_free(&h);
	end();

	/* --dump-every 1: the frame's own snapshot finds it. */
	begin(every);
	r = attached_posix(&h, 256, 64, SF_PRESENT_LATCH);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	roundtrip(r);
	ASSERT_EQ(ftruncate(h.seg.fd, 0), 0);
	put_image(r, 1, 1, 0, 256 * 4, &all, 1);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_PUT_IMAGE);
	hseg_free(&h);
	end();
	nftw(dump, server_proc_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TEST(memfd_that_can_shrink_is_refused)
{
	struct hseg h;
	struct sf_peer *r;
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_probe_result pr;
	char text[SF_MAX_TEXT + 1];

	begin(NULL);
	hseg_make_memfd(&h, "hostile-unsealed", 4096, 0);
	r = raw_ready();
	ASSERT_EQ(send_segment(r, SF_PROBE, &h, 0, 0), 0);
	expect_event(r, SF_PROBE_RESULT, msg);
	ASSERT_EQ(sf__decode_probe_result(msg, ((struct sf_header *)msg)->length,
	                                  &pr, text, NULL), 0);
	ASSERT_EQ(pr.status, SF_PROBE_BAD_SEGMENT);
	ASSERT_CONTAINS(text, "sealed");
	attach(r, &h, 1, 0);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_ATTACH_SEGMENT);
	hseg_free(&h);
	end();
}

/* What the server maps for a segment it only reads is read-only. */
static char maps_perms(const char *needle, char perms[5])
{
	char path[64], line[512];
	FILE *f;

	perms[0] = '\0';
	snprintf(path, sizeof path, "/proc/%d/maps", (int)srv.pid);
	f = fopen(path, "re");
	ASSERT(f != NULL);
	while (fgets(line, sizeof line, f)) {
		if (!strstr(line, needle))
			continue;
		sscanf(line, "%*s %4s", perms);
		break;
	}
	fclose(f);
	return perms[0];
}

TEST(segments_are_mapped_read_only_unless_writable)
{
	struct hseg ro, rw;
	struct sf_peer *r;
	char perms[5];

	begin(NULL);
	hseg_make_memfd(&ro, "hostile-ro", 4096, F_SEAL_SHRINK);
	hseg_make_memfd(&rw, "hostile-rw", 4096, F_SEAL_SHRINK);

	r = raw_ready();
	attach(r, &ro, 1, 0);
	attach(r, &rw, 2, SF_SEGMENT_WRITABLE);
	roundtrip(r);
	ASSERT_MSG(maps_perms("/memfd:hostile-ro", perms), "not mapped");
	ASSERT_STREQ(perms, "r--s");
	ASSERT_MSG(maps_perms("/memfd:hostile-rw", perms), "not mapped");
	ASSERT_STREQ(perms, "rw-s");
	raw_close(r);
	hseg_free(&ro);
	hseg_free(&rw);
	end();
}

/* A POSIX name is the client's to choose: one that names a FIFO must not
 * block the server in open(). */
TEST(posix_name_of_a_fifo_is_refused_without_blocking)
{
	struct hseg h;
	uint8_t msg[SF_MAX_MESSAGE];
	struct sf_probe_result pr;
	char text[SF_MAX_TEXT + 1];
	struct sf_peer *r;

	begin(NULL);
	memset(&h, 0, sizeof h);
	sf__segment_init(&h.seg);
	h.seg.kind = SF_SHM_POSIX;
	h.seg.size = 4096;
	snprintf(h.seg.name, sizeof h.seg.name, "/shmframe-fifo%d",
	         (int)getpid());
	snprintf(fifo_path, sizeof fifo_path, "/dev/shm%s", h.seg.name);
	ASSERT_EQ(mkfifo(fifo_path, 0600), 0);

	r = raw_ready();
	ASSERT_EQ(send_segment(r, SF_PROBE, &h, 0, 0), 0);
	expect_event(r, SF_PROBE_RESULT, msg);
	ASSERT_EQ(sf__decode_probe_result(msg, ((struct sf_header *)msg)->length,
	                                  &pr, text, NULL), 0);
	/* The one answer for every POSIX name that is not the client's. */
	ASSERT_EQ(pr.status, SF_PROBE_NOT_FOUND);
	attach(r, &h, 1, 0);
	expect_error(r, SF_ERR_BAD_SEGMENT, SF_ATTACH_SEGMENT);
	ASSERT_EQ(unlink(fifo_path), 0);
	fifo_path[0] = '\0';
	end();
}

/*
 * A POSIX object cannot be sealed: its client may ftruncate it between
 * the server's size check and its first look at the mapping.  A child
 * flips the size between 0 and 4096 while the client sends PROBEs (which
 * never end a connection) naming it: every PROBE is answered, none passes
 * (the object holds zeros, the PROBE a random nonce), and the server
 * survives and serves the good client.
 */
TEST(posix_segment_shrinking_during_probes_does_not_crash_the_server)
{
	enum { BATCH = 16, ROUNDS = 1000 };
	uint8_t buf[BATCH * 128], msg[SF_MAX_MESSAGE];
	struct sf_segment_msg m;
	struct hseg h;
	struct sf_peer *r;
	size_t n = 0;
	pid_t flipper;

	begin(NULL);
	hseg_make(&h, SF_SHM_POSIX, 4096);
	ASSERT_EQ(sf__random(h.nonce, sizeof h.nonce), 0);
	memset(h.seg.map, 0, 4096);
	flipper = fork();
	ASSERT_GE(flipper, 0);
	if (flipper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			if (ftruncate(h.seg.fd, 0) < 0 || ftruncate(h.seg.fd, 4096) < 0)
				_exit(1);
		}
	}
	r = raw_ready();
	segment_msg(&m, &h, 0, 0, 4096);
	for (int i = 0; i < BATCH; i++)
		n += sf__peer_encode(buf + n, sizeof buf - n, SF_PROBE, &m, sizeof m, NULL, 0);
	for (int round = 0; round < ROUNDS; round++) {
		if (raw_send(r, buf, n) < 0 || kill(srv.pid, 0) < 0)
			break;
		for (int i = 0; i < BATCH; i++) {
			struct sf_probe_result pr;
			char text[SF_MAX_TEXT + 1];

			expect_event(r, SF_PROBE_RESULT, msg);
			ASSERT_EQ(sf__decode_probe_result(msg,
			          ((struct sf_header *)msg)->length, &pr, text,
			          NULL), 0);
			ASSERT_MSG(pr.status != SF_PROBE_OK, "a PROBE of zeros "
			           "passed: %s", text);
		}
	}
	kill(flipper, SIGKILL);
	waitpid(flipper, NULL, 0);
	server_alive();
	roundtrip(r);
	raw_close(r);
	hseg_free(&h);
	end();
}
