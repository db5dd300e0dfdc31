/*
 * protocol/blocks: payloads in blocks come back byte for byte with each
 * codec, whatever the rectangles, the reads or the content (flat,
 * natural, noise); incompressible blocks are stored and cost only their
 * headers; and the receiver refuses every lying header and every bad
 * stream before it writes a byte out of place.
 */
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lz4.h>
#include <zstd.h>

#include "blocks.h"
#include "harness.h"

#define W 700
#define H 450

static uint32_t rng = 12345;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* content: 0 flat, 1 smooth gradient with edges, 2 noise. */
static uint8_t *make_image(int content)
{
	uint8_t *p = malloc((size_t)W * H * 4);

	for (size_t y = 0; y < H; y++)
		for (size_t x = 0; x < W; x++) {
			uint8_t *px = p + (y * W + x) * 4;
			uint32_t v = content == 2 ? next_rand()
			             : content == 1 ? (uint32_t)(x * 3 + y * 7 + (x / 50) * 40)
			                            : 0x80402010u;

			memcpy(px, &v, 4);
		}
	return p;
}

/* Everything queued, as one buffer. */
static uint8_t *drain(struct sf_out *q, size_t *len)
{
	int sv[2];
	uint8_t *buf = malloc(64u << 20);
	size_t n = 0;

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	while (sf__out_pending(q)) {
		int err = sf__out_write(q, sv[0], SIZE_MAX);

		ASSERT(err == 0 || err == -EAGAIN);
		for (;;) {
			ssize_t got = recv(sv[1], buf + n, (64u << 20) - n, MSG_DONTWAIT);

			if (got <= 0)
				break;
			n += (size_t)got;
		}
	}
	close(sv[0]);
	close(sv[1]);
	*len = n;
	return buf;
}

/* Feeds the stream to a receiver step by step, chunk bytes at a time
 * (through sf__rows_copy_in, as bytes from a queue are).  Returns 0, or
 * the error code (*why set). */
static uint32_t feed(struct sf_blocks_in *b, const uint8_t *s, size_t len,
                     size_t chunk, size_t *used, const char **why)
{
	struct sf_rows *r;
	uint32_t code;
	size_t at = 0;

	*why = NULL;
	while ((r = sf__blocks_in_next(b, &code, why))) {
		size_t k = len - at < chunk ? len - at : chunk;

		if (k == 0)
			break;
		at += sf__rows_copy_in(r, s + at, k);
	}
	if (!r && code)
		return code;
	*used = at;
	return 0;
}

static bool by_reference;

static void round_trip(int content, uint32_t codec, const struct sf_rect *rects,
                       uint32_t n, size_t chunk, struct sf_blocks_stats *st)
{
	uint8_t *img = make_image(content);
	uint8_t *out = calloc((size_t)W * H, 4);
	struct sf_out q;
	struct sf_blocks_out o;
	struct sf_blocks_in b;
	size_t len, used = 0;
	const char *why;
	uint8_t *wire;

	sf__out_init(&q, 64);
	sf__blocks_out_init(&o);
	o.by_reference = by_reference;
	sf__blocks_in_init(&b);
	memset(st, 0, sizeof *st);
	ASSERT_EQ(sf__blocks_queue(&q, &o, codec, img, W * 4, rects, n, st), 0);
	wire = drain(&q, &len);
	ASSERT_EQ(len, st->wire_bytes);
	ASSERT_EQ(st->raw_bytes, sf__rows_total(rects, n));
	sf__blocks_in_start(&b, out, W * 4, rects, n, 1u << codec);
	ASSERT_EQ(feed(&b, wire, len, chunk, &used, &why), 0);
	ASSERT(sf__blocks_in_done(&b));
	ASSERT_EQ(used, len);
	ASSERT_EQ(b.raw_done, st->raw_bytes);
	/* Exactly the rectangles' pixels arrived; nothing else was touched. */
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			bool in = false;

			for (uint32_t i = 0; i < n; i++)
				in |= x >= rects[i].x && x < rects[i].x + rects[i].width &&
				      y >= rects[i].y && y < rects[i].y + rects[i].height;
			size_t off = ((size_t)y * W + x) * 4;
			static const uint8_t zero[4];

			ASSERT_MSG(memcmp(out + off, in ? img + off : zero, 4) == 0,
			           "pixel %u,%u codec %u content %d", x, y, codec,
			           content);
		}
	sf__blocks_in_free(&b);
	sf__blocks_out_free(&o);
	sf__out_clear(&q);
	free(wire);
	free(out);
	free(img);
}

static const struct sf_rect whole = { 0, 0, W, H };
/* Part-width (gathered, scratch-decoded), one row, one column, nested. */
static const struct sf_rect parts[] = {
	{ 13, 7, 301, 222 }, { 0, 449, 700, 1 }, { 699, 0, 1, 450 },
	{ 20, 20, 10, 10 },
};

TEST(every_codec_round_trips_whole_and_part_rectangles)
{
	struct sf_blocks_stats st;

	for (uint32_t codec = 0; codec <= SF_CODEC_MAX; codec++)
		for (int content = 0; content < 3; content++) {
			round_trip(content, codec, &whole, 1, 1u << 20, &st);
			round_trip(content, codec, parts, 4, 1u << 20, &st);
		}
}

TEST(stored_blocks_sent_from_the_image_itself_are_the_same_stream)
{
	struct sf_blocks_stats st;

	by_reference = true;
	for (uint32_t codec = 0; codec <= SF_CODEC_MAX; codec++)
		for (int content = 1; content < 3; content++) {
			round_trip(content, codec, &whole, 1, 1u << 20, &st);
			round_trip(content, codec, parts, 4, 3001, &st);
		}
}

TEST(bytes_arriving_one_at_a_time_or_in_odd_chunks_decode_the_same)
{
	struct sf_blocks_stats st;

	round_trip(1, SF_CODEC_LZ4, parts, 4, 1, &st);
	round_trip(1, SF_CODEC_ZSTD, &whole, 1, 4099, &st);
	round_trip(2, SF_CODEC_ZSTD, parts, 4, 7, &st);
}

TEST(compressible_content_shrinks_and_noise_is_stored_at_header_cost)
{
	struct sf_blocks_stats st;

	round_trip(1, SF_CODEC_LZ4, &whole, 1, 1u << 20, &st);
	ASSERT_GT(st.coded, 0);
	ASSERT_LT(st.wire_bytes * 4, st.raw_bytes);
	round_trip(1, SF_CODEC_ZSTD, &whole, 1, 1u << 20, &st);
	ASSERT_LT(st.wire_bytes * 8, st.raw_bytes);
	round_trip(2, SF_CODEC_LZ4, &whole, 1, 1u << 20, &st);
	ASSERT_EQ(st.coded, 0);
	ASSERT_LE(st.wire_bytes, st.raw_bytes + 12 * (st.stored));
	round_trip(2, SF_CODEC_ZSTD, &whole, 1, 1u << 20, &st);
	ASSERT_EQ(st.coded, 0);
}

/* ---- the receiver against lies ------------------------------------------ */

static uint8_t target[W * H * 4];

/* A stream of one rectangle r: a header and data_len data bytes. */
static uint32_t try_block(const struct sf_rect *r, uint32_t offered,
                          struct sf_block h, const void *data, size_t data_len,
                          const char **why)
{
	uint8_t s[sizeof h + 2 * SF_BLOCK_MAX];
	struct sf_blocks_in b;
	size_t used;
	uint32_t code;

	memcpy(s, &h, sizeof h);
	memcpy(s + sizeof h, data, data_len);
	memset(target, 0x5a, sizeof target);
	sf__blocks_in_init(&b);
	sf__blocks_in_start(&b, target, W * 4, r, 1, offered);
	code = feed(&b, s, sizeof h + data_len, 1u << 20, &used, why);
	if (code == 0 && !sf__blocks_in_done(&b))
		code = 9999; /* waiting for more */
	sf__blocks_in_free(&b);
	return code;
}

static bool target_untouched(void)
{
	for (size_t i = 0; i < sizeof target; i++)
		if (target[i] != 0x5a)
			return false;
	return true;
}

TEST(lying_headers_are_refused_before_any_pixel_is_written)
{
	static uint8_t zeros[SF_BLOCK_MAX + 16];
	const struct sf_rect r = { 10, 10, 100, 20 };  /* 400-byte rows */
	const char *why;
	const uint32_t lz4 = 1u << SF_CODEC_LZ4;
	struct {
		struct sf_block h;
		size_t data;
		uint32_t offered;
		const char *what;
	} cases[] = {
		{ { SF_CODEC_ZSTD, {0}, 400, 10 }, 12, lz4, "codec not offered" },
		{ { 7, {0}, 400, 10 }, 12, lz4 | 1u << 7, "unknown codec" },
		{ { SF_CODEC_NONE, {1, 0, 0}, 400, 400 }, 400, lz4, "padding" },
		{ { SF_CODEC_LZ4, {0}, 0, 1 }, 4, lz4, "raw_len 0" },
		{ { SF_CODEC_LZ4, {0}, 401, 10 }, 12, lz4, "not whole rows" },
		{ { SF_CODEC_LZ4, {0}, 8400, 10 }, 12, lz4, "past the rectangle" },
		{ { SF_CODEC_NONE, {0}, 400, 399 }, 400, lz4, "stored, short" },
		{ { SF_CODEC_LZ4, {0}, 400, 400 }, 400, lz4, "coded, not smaller" },
		{ { SF_CODEC_LZ4, {0}, 400, 0 }, 0, lz4, "coded, empty" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint32_t code = try_block(&r, cases[i].offered, cases[i].h, zeros,
		                          cases[i].data, &why);

		ASSERT_MSG(code == SF_ERR_BAD_MESSAGE, "%s: code %u", cases[i].what,
		           code);
		ASSERT_MSG(why && *why, "%s: no reason", cases[i].what);
		ASSERT_MSG(target_untouched(), "%s wrote pixels", cases[i].what);
	}
	/* A block past 1 MiB, even in a rectangle that big. */
	const struct sf_rect big = { 0, 0, W, H };
	struct sf_block h = { SF_CODEC_LZ4, {0}, W * 4 * 375, 100 };

	ASSERT_GT(h.raw_len, SF_BLOCK_MAX);
	ASSERT_EQ(try_block(&big, lz4, h, zeros, 100, &why), SF_ERR_BAD_MESSAGE);
}

TEST(bad_data_bombs_and_truncations_are_refused)
{
	const struct sf_rect r = { 0, 0, W, 100 };  /* full width: in place */
	const struct sf_rect part = { 5, 5, 100, 100 };
	uint8_t src[W * 4 * 100], comp[W * 4 * 100 + 1024];
	const char *why;
	int n;
	size_t zn;

	for (size_t i = 0; i < sizeof src; i++)
		src[i] = (uint8_t)(i / 1000);
	n = LZ4_compress_default((const char *)src, (char *)comp, sizeof src,
	                         sizeof comp);
	ASSERT_GT(n, 0);
	/* Honest: decodes. */
	memset(comp + n, 0, 4);
	struct sf_block h = { SF_CODEC_LZ4, {0}, sizeof src, (uint32_t)n };
	ASSERT_EQ(try_block(&r, 1u << SF_CODEC_LZ4, h, comp, (n + 3) & ~3, &why), 0);
	/* A bomb: the data expands to more than raw_len says. */
	h.raw_len = W * 4 * 50;
	ASSERT_EQ(try_block(&r, 1u << SF_CODEC_LZ4, h, comp, (n + 3) & ~3, &why),
	          SF_ERR_BAD_MESSAGE);
	ASSERT_CONTAINS(why, "decode");
	/* A truncated LZ4 block. */
	h.raw_len = sizeof src;
	h.data_len = (uint32_t)n / 2;
	ASSERT_EQ(try_block(&part, 1u << SF_CODEC_LZ4,
	                    (struct sf_block){ SF_CODEC_LZ4, {0}, 100 * 400,
	                                       (uint32_t)n / 2 }, comp,
	                    ((n / 2) + 3) & ~3, &why), SF_ERR_BAD_MESSAGE);
	ASSERT_EQ(try_block(&r, 1u << SF_CODEC_LZ4, h, comp,
	                    ((n / 2) + 3) & ~3, &why), SF_ERR_BAD_MESSAGE);
	/* zstd: a frame of another size, a truncated frame, garbage. */
	zn = ZSTD_compress(comp, sizeof comp, src, sizeof src / 2, 1);
	ASSERT(!ZSTD_isError(zn));
	h = (struct sf_block){ SF_CODEC_ZSTD, {0}, sizeof src, (uint32_t)zn };
	ASSERT_EQ(try_block(&r, 1u << SF_CODEC_ZSTD, h, comp, (zn + 3) & ~3, &why),
	          SF_ERR_BAD_MESSAGE);
	zn = ZSTD_compress(comp, sizeof comp, src, sizeof src, 1);
	h.data_len = (uint32_t)zn - 5;
	ASSERT_EQ(try_block(&r, 1u << SF_CODEC_ZSTD, h, comp, (zn - 5 + 3) & ~3,
	                    &why), SF_ERR_BAD_MESSAGE);
	memset(comp, 0xee, 64);
	h.data_len = 64;
	ASSERT_EQ(try_block(&r, 1u << SF_CODEC_ZSTD, h, comp, 64, &why),
	          SF_ERR_BAD_MESSAGE);
	/* Nonzero bytes in the data's padding. */
	for (uint32_t rows = 100; rows > 0; rows--) {
		zn = ZSTD_compress(comp, sizeof comp, src, rows * W * 4, 1);
		if (zn % 4 == 0)
			continue;
		const struct sf_rect rr = { 0, 0, W, rows };

		memset(comp + zn, 0, 4);

		h = (struct sf_block){ SF_CODEC_ZSTD, {0}, rows * W * 4, (uint32_t)zn };
		ASSERT_EQ(try_block(&rr, 1u << SF_CODEC_ZSTD, h, comp, (zn + 3) & ~3,
		                    &why), 0);
		comp[zn] = 1;
		ASSERT_EQ(try_block(&rr, 1u << SF_CODEC_ZSTD, h, comp, (zn + 3) & ~3,
		                    &why), SF_ERR_BAD_MESSAGE);
		ASSERT_CONTAINS(why, "padded");
		return;
	}
	ASSERT_MSG(0, "no zstd frame of a length that needs padding");
}
