/*
 * protocol/rows and protocol/connection: the damage-row walk over
 * rectangles and strides, the input queue (partial reads, pixels straight
 * into rows, fds and their deadlines, its limit) and the output queue
 * (partial writes, rows streamed from an image, an fd on the first byte
 * of its message, the write budget, dropping what was not begun).
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "connection.h"
#include "harness.h"
#include "rows.h"

#define PX SF_BYTES_PER_PIXEL

static void pair(int ends[2])
{
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                     0, ends), 0);
}

/* A memfd told apart from others by its size. */
static int sized_memfd(off_t size)
{
	int fd = memfd_create("conn-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, size), 0);
	return fd;
}

static off_t size_of(int fd)
{
	struct stat st;

	ASSERT_EQ(fstat(fd, &st), 0);
	return st.st_size;
}

/* An image of w x h pixels whose every byte says where it is. */
static uint8_t *pattern(uint32_t w, uint32_t h, size_t stride)
{
	uint8_t *p = malloc(stride * h);

	ASSERT(p);
	for (size_t i = 0; i < stride * h; i++)
		p[i] = (uint8_t)(i * 7 + i / 251);
	(void)w;
	return p;
}

/* The bytes of rects of img, in wire order, the slow way. */
static size_t expected_bytes(const uint8_t *img, size_t stride,
                             const struct sf_rect *rects, unsigned n,
                             uint8_t *out)
{
	size_t k = 0;

	for (unsigned i = 0; i < n; i++)
		for (uint32_t y = 0; y < rects[i].height; y++) {
			memcpy(out + k, img + (rects[i].y + y) * stride +
			       rects[i].x * PX, rects[i].width * PX);
			k += rects[i].width * PX;
		}
	return k;
}

/* Reads everything the socket holds, without blocking. */
static size_t drain_into(int sock, uint8_t *buf, size_t cap)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = recv(sock, buf + got, cap - got, MSG_DONTWAIT);

		if (n <= 0)
			return got;
		got += (size_t)n;
	}
}

/* ---- rows --------------------------------------------------------------- */

TEST(rows_total_counts_every_rectangle)
{
	struct sf_rect r[2] = { { 0, 0, 3, 2 }, { 1, 1, 5, 4 } };

	ASSERT_EQ(sf__rows_total(r, 2), (3 * 2 + 5 * 4) * PX);
	ASSERT_EQ(sf__rows_total(r, 0), 0);
}

/* Starts a walk over rects of img and fills iov (room for max) from it;
 * returns the entries, with the bytes they hold in *bytes. */
static int walk_entries(struct sf_rows *w, uint8_t *img, size_t stride,
                        const struct sf_rect *rects, uint32_t n,
                        struct iovec *iov, int max, uint64_t *bytes)
{
	int cnt = 0;

	sf__rows_init(w, img, stride, rects, n);
	*bytes = sf__rows_iov(w, iov, &cnt, max, UINT64_MAX);
	return cnt;
}

TEST(rows_give_one_entry_per_row_of_a_narrow_rectangle)
{
	uint8_t img[10 * 8 * PX];
	struct sf_rect r = { 2, 1, 3, 4 };
	struct sf_rows w;
	struct iovec iov[8];
	uint64_t bytes;

	ASSERT_EQ(walk_entries(&w, img, 10 * PX, &r, 1, iov, 8, &bytes), 4);
	ASSERT_EQ(bytes, 3 * 4 * PX);
	for (int i = 0; i < 4; i++) {
		ASSERT(iov[i].iov_base == img + (1 + i) * 10 * PX + 2 * PX);
		ASSERT_EQ(iov[i].iov_len, 3 * PX);
	}
	/* Building entries does not move the walk. */
	ASSERT_EQ(w.left, 3 * 4 * PX);
}

TEST(full_width_rows_merge_into_one_entry)
{
	uint8_t img[6 * 5 * PX];
	struct sf_rect r[2] = { { 0, 0, 6, 2 }, { 0, 2, 6, 3 } };
	struct sf_rows w;
	struct iovec iov[4];
	uint64_t bytes;

	ASSERT_EQ(walk_entries(&w, img, 6 * PX, r, 2, iov, 4, &bytes), 1);
	ASSERT_EQ(bytes, sizeof img);
	ASSERT(iov[0].iov_base == img);
	ASSERT_EQ(iov[0].iov_len, sizeof img);
}

TEST(rows_stop_at_the_entry_limit_and_the_byte_limit)
{
	struct iovec iov[16];
	int cnt = 0;
	uint64_t bytes;
	struct sf_rows w;
	struct sf_rect r = { 1, 0, 2, 10 };
	uint8_t img[10 * 10 * PX];

	ASSERT_EQ(walk_entries(&w, img, 10 * PX, &r, 1, iov, 3, &bytes), 3);
	ASSERT_EQ(bytes, 3 * 2 * PX);
	/* Past the byte limit no row is begun; the one that crosses it is
	 * whole. */
	ASSERT_EQ(sf__rows_iov(&w, iov, &cnt, 16, 2 * PX + 1), 2 * 2 * PX);
	ASSERT_EQ(cnt, 2);
}

TEST(rows_continue_an_entry_already_in_the_vector)
{
	uint8_t img[4 * 4 * PX];
	struct sf_rect r = { 0, 1, 4, 1 };
	struct sf_rows w;
	struct iovec iov[2] = { { img, 4 * PX } };
	int cnt = 1;

	sf__rows_init(&w, img, 4 * PX, &r, 1);
	sf__rows_iov(&w, iov, &cnt, 2, UINT64_MAX);
	ASSERT_EQ(cnt, 1);
	ASSERT_EQ(iov[0].iov_len, 8 * PX);
}

TEST(advancing_inside_a_row_starts_the_next_entry_there)
{
	uint8_t img[8 * 6 * PX];
	struct sf_rect r[2] = { { 1, 1, 2, 2 }, { 4, 3, 3, 2 } };
	struct sf_rows w;
	struct iovec iov[8];
	int cnt = 0;

	sf__rows_init(&w, img, 8 * PX, r, 2);
	/* Past the first rectangle and 5 bytes into the second's first row. */
	sf__rows_advance(&w, 2 * 2 * PX + 5);
	ASSERT_EQ(w.rect, 1);
	ASSERT_EQ(w.row, 0);
	ASSERT_EQ(w.col, 5);
	ASSERT_EQ(w.left, 3 * 2 * PX - 5);
	ASSERT_EQ(sf__rows_iov(&w, iov, &cnt, 8, UINT64_MAX), w.left);
	ASSERT_EQ(cnt, 2);
	ASSERT(iov[0].iov_base == img + 3 * 8 * PX + 4 * PX + 5);
	ASSERT_EQ(iov[0].iov_len, 3 * PX - 5);
	ASSERT(iov[1].iov_base == img + 4 * 8 * PX + 4 * PX);
	sf__rows_advance(&w, w.left);
	ASSERT_EQ(w.left, 0);
	ASSERT_EQ(w.rect, 2);
	cnt = 0;
	ASSERT_EQ(sf__rows_iov(&w, iov, &cnt, 8, UINT64_MAX), 0);
	ASSERT_EQ(cnt, 0);
}

TEST(copying_in_fills_rows_across_rectangles_and_strides)
{
	const size_t stride = 9 * PX + 12; /* padded rows */
	struct sf_rect r[3] = { { 1, 0, 3, 2 }, { 0, 0, 0, 5 }, { 5, 3, 4, 3 } };
	uint8_t img[stride * 6], src[64 * PX], want[64 * PX];
	uint8_t *ref = pattern(9, 6, stride);
	size_t total, done = 0;
	struct sf_rows w;

	total = expected_bytes(ref, stride, r, 3, src);
	memset(img, 0xee, sizeof img);
	sf__rows_init(&w, img, stride, r, 3);
	ASSERT_EQ(w.left, total);
	/* In odd pieces, as a stream delivers them. */
	while (done < total) {
		size_t k = total - done < 7 ? total - done : 7;

		ASSERT_EQ(sf__rows_copy_in(&w, src + done, k), k);
		done += k;
	}
	ASSERT_EQ(w.left, 0);
	/* More than is left is not taken. */
	ASSERT_EQ(sf__rows_copy_in(&w, src, 4), 0);
	ASSERT_EQ(expected_bytes(img, stride, r, 3, want), total);
	ASSERT(memcmp(want, src, total) == 0);
	/* Bytes outside the rectangles are untouched. */
	ASSERT_EQ(img[0], 0xee);
	ASSERT_EQ(img[stride * 6 - 1], 0xee);
	free(ref);
}

/* ---- input -------------------------------------------------------------- */

/* Each test runs in a process of its own: one connection, the reading end
 * with its queue. */
static int sv[2];
static struct sf_in in;

static void in_open(size_t max)
{
	pair(sv);
	sf__in_init(&in, max);
}

static void in_close(void)
{
	sf__in_free(&in);
	close(sv[0]);
	close(sv[1]);
}

static const struct sf_in_read queue_only = { .chunk = 64, .fd_limit = SF_FDQ_MAX };

TEST(a_read_that_does_not_fill_its_room_is_short)
{

	in_open(0);
	ASSERT_EQ(write(sv[0], "hello", 5), 5);
	ASSERT_EQ(sf__in_read(&in, sv[1], &queue_only), 5);
	ASSERT(in.short_read);
	ASSERT_EQ(in.len, 5);
	ASSERT(memcmp(in.data + in.start, "hello", 5) == 0);
	ASSERT_EQ(sf__in_read(&in, sv[1], &queue_only), -EAGAIN);
	in_close();
}

TEST(partial_messages_accumulate_and_consumed_bytes_are_counted)
{
	uint8_t big[10000];

	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)i;
	in_open(0);
	ASSERT_EQ(write(sv[0], big, 3000), 3000);
	ASSERT_EQ(sf__in_read(&in, sv[1], &queue_only), 3000);
	sf__in_consume(&in, 1000);
	ASSERT_EQ(write(sv[0], big + 3000, 7000), 7000);
	while (in.len < 9000)
		ASSERT_GT(sf__in_read(&in, sv[1], &queue_only), 0);
	ASSERT_EQ(in.read, 10000);
	ASSERT_EQ(in.used, 1000);
	ASSERT(memcmp(in.data + in.start, big + 1000, 9000) == 0);
	sf__in_consume(&in, 9000);
	ASSERT_EQ(in.len, 0);
	ASSERT_EQ(in.start, 0);
	in_close();
}

TEST(the_input_queue_never_grows_past_its_limit)
{
	uint8_t buf[5000];
	ssize_t n;

	memset(buf, 'x', sizeof buf);
	in_open(4096);
	ASSERT_EQ(sf__in_reserve(&in, 4096), 0);
	ASSERT_EQ(in.cap, 4096);
	ASSERT_EQ(write(sv[0], buf, sizeof buf), (ssize_t)sizeof buf);
	n = sf__in_read(&in, sv[1], &(struct sf_in_read){ .chunk = 8192 });
	ASSERT_EQ(n, 4096);
	ASSERT(!in.short_read);
	ASSERT_EQ(in.cap, 4096);
	/* Consumed room is reused by moving the rest to the front. */
	sf__in_consume(&in, 1000);
	ASSERT_EQ(sf__in_read(&in, sv[1], &(struct sf_in_read){ .chunk = 8192 }),
	          904);
	ASSERT_EQ(in.start, 0);
	ASSERT_EQ(in.len, 4000);
	ASSERT_EQ(in.cap, 4096);
	in_close();
}

TEST(pixels_go_straight_into_rows_then_the_next_message_into_the_queue)
{
	const size_t stride = 16 * PX;
	struct sf_rect r[2] = { { 2, 1, 5, 3 }, { 0, 6, 16, 2 } };
	uint8_t *ref = pattern(16, 8, stride), *img = calloc(8, stride);
	uint8_t wire[256 * PX], got[256 * PX];
	size_t total = expected_bytes(ref, stride, r, 2, wire);
	struct sf_rows w;
	struct sf_in_read how = { .rows_iov = 4, .rows_limit = UINT64_MAX,
	                          .then_queue = true, .chunk = 64,
	                          .fd_limit = SF_FDQ_MAX };

	in_open(0);
	sf__rows_init(&w, img, stride, r, 2);
	how.rows = &w;
	memcpy(wire + total, "NEXT", 4);
	/* The first 9 bytes only: the read stops inside the first row. */
	ASSERT_EQ(write(sv[0], wire, 9), 9);
	ASSERT_EQ(sf__in_read(&in, sv[1], &how), 9);
	ASSERT_EQ(w.left, total - 9);
	ASSERT_EQ(in.len, 0);
	ASSERT_EQ(in.used, 9);
	/* The rest, and a message after the pixels. */
	ASSERT_EQ(write(sv[0], wire + 9, total - 9 + 4), (ssize_t)(total - 9 + 4));
	while (w.left || in.len < 4)
		ASSERT_GT(sf__in_read(&in, sv[1], &how), 0);
	ASSERT_EQ(in.len, 4);
	ASSERT(memcmp(in.data + in.start, "NEXT", 4) == 0);
	ASSERT_EQ(in.used, total);
	expected_bytes(img, stride, r, 2, got);
	ASSERT(memcmp(got, wire, total) == 0);
	free(ref);
	free(img);
	in_close();
}

TEST(a_rows_only_read_leaves_what_follows_in_the_socket)
{
	uint8_t img[4 * PX], wire[4 * PX + 3];
	struct sf_rect r = { 0, 0, 4, 1 };
	struct sf_rows w;
	struct sf_in_read how = { .rows = &w, .rows_iov = 4,
	                          .rows_limit = UINT64_MAX, .chunk = 64 };

	memset(wire, 'p', sizeof wire);
	in_open(0);
	sf__rows_init(&w, img, 4 * PX, &r, 1);
	ASSERT_EQ(write(sv[0], wire, sizeof wire), (ssize_t)sizeof wire);
	ASSERT_EQ(sf__in_read(&in, sv[1], &how), 4 * PX);
	ASSERT_EQ(w.left, 0);
	ASSERT_EQ(in.len, 0);
	/* The walk is done: the next read goes to the queue. */
	ASSERT_EQ(sf__in_read(&in, sv[1], &how), 3);
	ASSERT_EQ(in.len, 3);
	in_close();
}

TEST(an_fd_on_the_first_byte_is_stamped_with_its_read)
{
	struct iovec iov = { "abcd", 4 };
	int fd, got;

	in_open(0);
	ASSERT_EQ(write(sv[0], "xy", 2), 2);
	ASSERT_EQ(sf__in_read(&in, sv[1], &queue_only), 2);
	fd = sized_memfd(4321);
	ASSERT_EQ(sf__send_fd(sv[0], &iov, 1, fd), 4);
	close(fd);
	ASSERT_EQ(sf__in_read(&in, sv[1], &queue_only), 4);
	ASSERT_EQ(in.fdq.count, 1);
	ASSERT_EQ(in.fdq.at[0], 6);
	/* Its deadline: the message that takes it starts below byte 6. */
	ASSERT_EQ(sf__in_fds_due(&in, 5), 0);
	ASSERT_EQ(sf__in_fds_due(&in, 6), 1);
	got = sf__in_take_fd(&in);
	ASSERT_EQ(size_of(got), 4321);
	ASSERT_EQ(in.fdq.count, 0);
	ASSERT_EQ(sf__in_take_fd(&in), -1);
	close(got);
	in_close();
}

TEST(fds_keep_their_deadlines_in_order_as_they_are_taken)
{
	struct iovec one = { "m", 1 }, two = { "nn", 2 };
	int a = sized_memfd(1), b = sized_memfd(2), got;

	in_open(0);
	ASSERT_EQ(sf__send_fd(sv[0], &one, 1, a), 1);
	ASSERT_EQ(sf__in_read(&in, sv[1], &queue_only), 1);
	ASSERT_EQ(sf__send_fd(sv[0], &two, 1, b), 2);
	ASSERT_EQ(sf__in_read(&in, sv[1], &queue_only), 2);
	ASSERT_EQ(in.fdq.count, 2);
	ASSERT_EQ(in.fdq.at[0], 1);
	ASSERT_EQ(in.fdq.at[1], 3);
	ASSERT_EQ(sf__in_fds_due(&in, 0), 0);
	ASSERT_EQ(sf__in_fds_due(&in, 1), 1);
	ASSERT_EQ(sf__in_fds_due(&in, 2), 1);
	ASSERT_EQ(sf__in_fds_due(&in, 100), 2);
	got = sf__in_take_fd(&in);
	ASSERT_EQ(size_of(got), 1);
	close(got);
	/* The second moves up with its own deadline. */
	ASSERT_EQ(in.fdq.at[0], 3);
	ASSERT_EQ(sf__in_fds_due(&in, 2), 0);
	ASSERT_EQ(sf__in_fds_due(&in, 3), 1);
	close(a);
	close(b);
	in_close(); /* closes the fd still queued */
}

/* Reads into two rows of 8 pixels, whose first 4 bytes came with an fd;
 * returns the fds kept. */
static unsigned fds_kept_reading_pixels(bool then_queue, uint64_t limit)
{
	uint8_t img[2 * 8 * PX];
	struct sf_rect r = { 0, 0, 8, 2 };
	struct iovec iov = { img, 4 };
	struct sf_rows w;
	int fd = sized_memfd(7);
	unsigned kept;
	struct sf_in_read how = { .rows = &w, .rows_iov = 4,
	                          .rows_limit = limit, .then_queue = then_queue,
	                          .chunk = 64, .fd_limit = SF_FDQ_MAX };

	in_open(0);
	sf__rows_init(&w, img, 8 * PX, &r, 1);
	ASSERT_EQ(sf__send_fd(sv[0], &iov, 1, fd), 4);
	close(fd);
	ASSERT_EQ(sf__in_read(&in, sv[1], &how), 4);
	kept = in.fdq.count;
	ASSERT_EQ(kept + in.fdq.dropped, 1);
	in_close();
	return kept;
}

TEST(an_fd_is_kept_only_when_the_read_may_reach_a_message)
{
	/* Pixels alone: an fd cannot belong to a message. */
	ASSERT_EQ(fds_kept_reading_pixels(false, UINT64_MAX), 0);
	/* The rows given stop short of the end (the byte limit). */
	ASSERT_EQ(fds_kept_reading_pixels(true, 8 * PX), 0);
	/* Every row and the queue after them: the fd may belong to the next
	 * message, and the reader judges it. */
	ASSERT_EQ(fds_kept_reading_pixels(true, UINT64_MAX), 1);
}

/* ---- output ------------------------------------------------------------- */

static unsigned rows_finished;

static void count_rows(void *tag, void *data)
{
	(void)data;
	ASSERT(tag == &rows_finished);
	rows_finished++;
}

TEST(queued_messages_are_written_in_order)
{
	struct sf_out q;
	uint8_t buf[64], *p;
	size_t room;
	int osv[2];

	pair(osv);
	sf__out_init(&q, 8);
	ASSERT(!sf__out_pending(&q));
	ASSERT_EQ(sf__out_append(&q, "one,", 4, -1), 0);
	p = sf__out_space(&q, 4, &room);
	ASSERT(p);
	ASSERT_GE(room, 4);
	memcpy(p, "two,", 4);
	sf__out_commit(&q, 4);
	ASSERT_EQ(q.bytes, 8);
	ASSERT(sf__out_pending(&q));
	ASSERT_EQ(sf__out_write(&q, osv[0], SIZE_MAX), 0);
	ASSERT(!sf__out_pending(&q));
	ASSERT_EQ(q.written, 8);
	ASSERT_EQ(q.bytes, 0);
	ASSERT_EQ(drain_into(osv[1], buf, sizeof buf), 8);
	ASSERT(memcmp(buf, "one,two,", 8) == 0);
	sf__out_clear(&q);
	close(osv[0]);
	close(osv[1]);
}

/* Room asked for and never filled (a message that failed to encode), and
 * an empty append: neither may leave a chunk that every write sends
 * nothing of (the write would spin; the harness's alarm catches it). */
TEST(an_empty_chunk_never_stalls_the_queue)
{
	struct sf_out q;
	uint8_t buf[16];
	size_t room;
	int osv[2], fds[2];

	pair(osv);
	pair(fds);
	sf__out_init(&q, 8);
	ASSERT(sf__out_space(&q, 4, &room));
	ASSERT_EQ(sf__out_append(&q, "", 0, -1), 0);
	ASSERT_EQ(sf__out_write(&q, osv[0], SIZE_MAX), 0);
	ASSERT(!sf__out_pending(&q));
	/* An fd needs a byte to ride on. */
	ASSERT_EQ(sf__out_append(&q, "", 0, fds[0]), -EINVAL);
	ASSERT_EQ(sf__out_append(&q, "after", 5, -1), 0);
	ASSERT_EQ(sf__out_write(&q, osv[0], SIZE_MAX), 0);
	ASSERT_EQ(drain_into(osv[1], buf, sizeof buf), 5);
	ASSERT(memcmp(buf, "after", 5) == 0);
	sf__out_clear(&q);
	close(fds[0]);
	close(fds[1]);
	close(osv[0]);
	close(osv[1]);
}

TEST(rows_stream_from_the_image_across_partial_writes)
{
	const uint32_t W = 300, H = 200;
	const size_t stride = W * PX + 64;
	struct sf_rect r[2] = { { 10, 5, 250, 150 }, { 0, 190, W, 10 } };
	uint8_t *img = pattern(W, H, stride);
	size_t total = (size_t)sf__rows_total(r, 2);
	uint8_t *want = malloc(total + 8), *got = malloc(total + 8);
	size_t have = 0;
	int osv[2], small = 4096, err, rounds = 0;
	struct sf_out q;

	ASSERT(want && got);
	pair(osv);
	ASSERT_EQ(setsockopt(osv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
	expected_bytes(img, stride, r, 2, want + 4);
	memcpy(want, "HEAD", 4);
	memcpy(want + 4 + total, "TAIL", 4);
	sf__out_init(&q, 16);
	q.rows_done = count_rows;
	rows_finished = 0;
	ASSERT_EQ(sf__out_append(&q, "HEAD", 4, -1), 0);
	ASSERT_EQ(sf__out_rows(&q, img, stride, r, 2, &rows_finished), 0);
	ASSERT_EQ(sf__out_append(&q, "TAIL", 4, -1), 0);
	ASSERT_EQ(q.rows, 1);
	ASSERT_EQ(q.queued, total + 8);
	ASSERT_EQ(q.bytes, 8);
	while ((err = sf__out_write(&q, osv[0], SIZE_MAX)) == -EAGAIN) {
		have += drain_into(osv[1], got + have, total + 8 - have);
		rounds++;
	}
	ASSERT_EQ(err, 0);
	ASSERT_GT(rounds, 1); /* the socket really filled up */
	have += drain_into(osv[1], got + have, total + 8 - have);
	ASSERT_EQ(have, total + 8);
	ASSERT(memcmp(got, want, total + 8) == 0);
	ASSERT_EQ(rows_finished, 1);
	ASSERT_EQ(q.rows, 0);
	ASSERT_EQ(q.written, q.queued);
	free(img);
	free(want);
	free(got);
	close(osv[0]);
	close(osv[1]);
}

TEST(an_fd_rides_on_the_first_byte_of_its_own_message)
{
	struct sf_fdq fdq;
	int osv[2], fd = sized_memfd(99), got;
	struct sf_out q;
	char c;
	struct iovec iov = { &c, 1 };

	pair(osv);
	sf__fdq_init(&fdq);
	sf__out_init(&q, 8);
	ASSERT_EQ(sf__out_append(&q, "AB", 2, -1), 0);
	ASSERT_EQ(sf__out_append(&q, "CD", 2, fd), 0);
	ASSERT_EQ(sf__out_write(&q, osv[0], SIZE_MAX), 0);
	close(fd);
	/* Byte by byte: the fd comes with C, not before. */
	ASSERT_EQ(sf__recv_fds(osv[1], &iov, 1, &fdq), 1);
	ASSERT_EQ(c, 'A');
	ASSERT_EQ(fdq.count, 0);
	ASSERT_EQ(sf__recv_fds(osv[1], &iov, 1, &fdq), 1);
	ASSERT_EQ(c, 'B');
	ASSERT_EQ(fdq.count, 0);
	ASSERT_EQ(sf__recv_fds(osv[1], &iov, 1, &fdq), 1);
	ASSERT_EQ(c, 'C');
	ASSERT_EQ(fdq.count, 1);
	got = sf__fdq_take(&fdq);
	ASSERT_EQ(size_of(got), 99);
	close(got);
	ASSERT_EQ(sf__recv_fds(osv[1], &iov, 1, &fdq), 1);
	ASSERT_EQ(c, 'D');
	ASSERT_EQ(fdq.count, 0);
	close(osv[0]);
	close(osv[1]);
}

TEST(a_write_stops_at_its_budget)
{
	uint8_t buf[3000];
	struct sf_out q;
	int osv[2];

	pair(osv);
	memset(buf, 'b', sizeof buf);
	sf__out_init(&q, 1); /* one entry per sendmsg: one chunk at a time */
	ASSERT_EQ(sf__out_append(&q, buf, 3000, -1), 0);
	ASSERT_EQ(sf__out_append(&q, buf, 3000, -1), 0);
	ASSERT_EQ(sf__out_write(&q, osv[0], 1), -EAGAIN);
	ASSERT_EQ(q.written, 3000);
	ASSERT_EQ(sf__out_write(&q, osv[0], SIZE_MAX), 0);
	ASSERT_EQ(q.written, 6000);
	sf__out_clear(&q);
	close(osv[0]);
	close(osv[1]);
}

TEST(dropping_unsent_output_keeps_what_was_begun)
{
	uint8_t big[5000], img[4 * PX];
	struct sf_rect r = { 0, 0, 4, 1 };
	struct sf_out q;

	memset(big, 'z', sizeof big);
	sf__out_init(&q, 8);
	q.rows_done = count_rows;
	rows_finished = 0;
	ASSERT_EQ(sf__out_append(&q, big, 10, -1), 0);
	ASSERT_EQ(sf__out_append(&q, big, 5000, -1), 0);
	ASSERT_EQ(sf__out_rows(&q, img, 4 * PX, &r, 1, &rows_finished), 0);
	/* None begun yet: all message bytes go, the rows stay. */
	ASSERT_EQ(sf__out_drop_unsent(&q), 5010);
	ASSERT_EQ(q.bytes, 0);
	ASSERT_EQ(q.queued, 4 * PX);
	ASSERT_EQ(q.rows, 1);
	sf__out_clear(&q);
	ASSERT_EQ(rows_finished, 1);
	ASSERT(!sf__out_pending(&q));
	ASSERT_EQ(q.written, q.queued);
}

TEST(a_begun_message_survives_a_drop)
{
	uint8_t buf[200000];
	struct sf_out q;
	int osv[2], small = 4096;
	uint64_t dropped;

	pair(osv);
	ASSERT_EQ(setsockopt(osv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
	memset(buf, 'q', sizeof buf);
	sf__out_init(&q, 8);
	ASSERT_EQ(sf__out_append(&q, buf, sizeof buf, -1), 0);
	ASSERT_EQ(sf__out_append(&q, buf, 4096, -1), 0);
	ASSERT_EQ(sf__out_write(&q, osv[0], SIZE_MAX), -EAGAIN);
	ASSERT_GT(q.written, 0);
	ASSERT_LT(q.written, sizeof buf);
	dropped = sf__out_drop_unsent(&q);
	ASSERT_EQ(dropped, 4096);
	ASSERT_EQ(q.bytes, sizeof buf - q.written);
	sf__out_clear(&q);
	close(osv[0]);
	close(osv[1]);
}
