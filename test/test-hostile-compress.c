/*
 * Hostile clients against a real shmframe-server: inline pixels in blocks
 * (protocol 2.3) that lie.  Blocks a client was never offered, codecs
 * outside the enum, headers with padding, lengths that are not whole
 * rows, run past their rectangle or pass 1 MiB, compressed data that is
 * not smaller, LZ4 and zstd bombs, streams cut short, garbage, and
 * clients that close or stall in the middle of a block.  Each is
 * BAD_MESSAGE (SLOW for the stalls) naming PUT_IMAGE, for that client
 * alone; and an honest payload of LZ4 and zstd blocks from the same raw
 * client reads back pixel for pixel, so the checks are not blind.
 *
 * The server, the well-behaved client and the checks every case ends
 * with are in hostile.h.
 */
#include "hostile.h"

#include <lz4.h>
#include <zstd.h>

#include "blocks.h"

/* The raw client's surface: small rows, so that a few blocks cover it. */
#define SW 32
#define SH 16
#define ROW (SW * 4)
#define CODECS (SF_CAP_LZ4 | SF_CAP_ZSTD)

/* ---- a raw client of protocol 2.minor ------------------------------------ */

/* Connected, greeted as 2.minor (the WELCOME's codecs checked), with
 * surface 1 of SW x SH. */
static struct sf_peer *client_of(uint16_t minor)
{
	struct sf_peer *r = raw_ready_minor(minor);

	if (minor >= 3)
		ASSERT_MSG((r->welcome.caps & CODECS) == CODECS, "a 2.%u client "
		           "is offered caps 0x%x, without LZ4 and ZSTD", minor,
		           r->welcome.caps);
	else
		ASSERT_MSG(!(r->welcome.caps & CODECS), "a 2.%u client is offered "
		           "codecs: caps 0x%x", minor, r->welcome.caps);
	create_surface(r, 1, SW, SH, SF_PRESENT_LATCH);
	roundtrip(r);
	return r;
}

static struct sf_peer *client(void)
{
	return client_of(SF_VERSION_MINOR);
}

/* PUT_IMAGE of these rectangles of a surface (n 0: all of it), its
 * payload in blocks. */
static void put_blocks_of(struct sf_peer *r, uint32_t surface,
                          const struct sf_rect *rects, uint32_t n)
{
	static uint32_t serial;
	struct sf_put_image m = {
		.hdr.flags = SF_PUT_IMAGE_BLOCKS, .surface = surface,
		.serial = ++serial, .n_rects = n,
	};

	send_msg(r, SF_PUT_IMAGE, &m, sizeof m, rects, n * sizeof *rects);
}

static void put_blocks(struct sf_peer *r, const struct sf_rect *rects,
                       uint32_t n)
{
	put_blocks_of(r, 1, rects, n);
}

/* ---- blocks by hand ------------------------------------------------------- */

/* A payload being written: room for a few MiB of blocks. */
struct wire {
	uint8_t *p;
	size_t len, cap;
};

static void wire_init(struct wire *w)
{
	w->cap = 4u << 20;
	w->len = 0;
	w->p = malloc(w->cap);
	ASSERT(w->p != NULL);
}

static void wire_free(struct wire *w)
{
	free(w->p);
	memset(w, 0, sizeof *w);
}

/* A block as a liar writes it: any header, data_len bytes of data, then
 * padding to 4 (of pad_byte: 0 is what the protocol wants). */
static void wire_block_raw(struct wire *w, uint8_t codec, const uint8_t pad[3],
                           uint32_t raw_len, const void *data, uint32_t data_len,
                           uint8_t pad_byte)
{
	struct sf_block h = { .codec = codec, .raw_len = raw_len,
	                      .data_len = data_len };
	size_t padded = ((size_t)data_len + 3) & ~(size_t)3;

	if (pad)
		memcpy(h.pad, pad, sizeof h.pad);
	ASSERT_LE(w->len + sizeof h + padded, w->cap);
	memcpy(w->p + w->len, &h, sizeof h);
	w->len += sizeof h;
	if (data_len)
		memcpy(w->p + w->len, data, data_len);
	memset(w->p + w->len + data_len, pad_byte, padded - data_len);
	w->len += padded;
}

static void wire_block(struct wire *w, uint8_t codec, uint32_t raw_len,
                       const void *data, uint32_t data_len)
{
	wire_block_raw(w, codec, NULL, raw_len, data, data_len, 0);
}

/* LZ4 (one raw block) or zstd (one frame, with its content size unless
 * told otherwise) of n bytes at src into dst (room for cap). */
static uint32_t lz4_of(const void *src, size_t n, void *dst, size_t cap)
{
	int k = LZ4_compress_default(src, dst, (int)n, (int)cap);

	ASSERT_GT(k, 0);
	return (uint32_t)k;
}

static uint32_t zstd_of(const void *src, size_t n, void *dst, size_t cap,
                        bool content_size)
{
	ZSTD_CCtx *z = ZSTD_createCCtx();
	size_t k;

	ASSERT(z != NULL);
	ASSERT(!ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 1)));
	ASSERT(!ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_contentSizeFlag,
	                                            content_size)));
	k = ZSTD_compress2(z, dst, cap, src, n);
	ZSTD_freeCCtx(z);
	ASSERT_MSG(!ZSTD_isError(k), "zstd: %s", ZSTD_getErrorName(k));
	return (uint32_t)k;
}

static uint32_t code(uint8_t codec, const void *src, size_t n, void *dst,
                     size_t cap)
{
	return codec == SF_CODEC_LZ4 ? lz4_of(src, n, dst, cap)
	                             : zstd_of(src, n, dst, cap, true);
}

/* Pixels that compress, but not to nothing: runs of 8 pixels. */
static void fill_pixels(uint8_t *px, uint32_t w, uint32_t h, uint32_t seed)
{
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint32_t v = pattern(x / 8, y, seed) | 0xff000000u;

			memcpy(px + ((size_t)y * w + x) * 4, &v, 4);
		}
}

/* Sends the payload; a send the server refused after its ERROR is fine
 * (it has closed on us), which expect_error then sees. */
static void wire_send(struct sf_peer *r, const struct wire *w)
{
	(void)raw_send(r, w->p, w->len);
}

/* One lying payload on a connection of its own: the ERROR, then the good
 * client unharmed. */
static void expect_refused(struct sf_peer *r, const struct wire *w,
                           const char *what, const char *text_has)
{
	char text[SF_MAX_TEXT + 1];

	printf("# %s\n", what);
	wire_send(r, w);
	expect_error_text(r, SF_ERR_BAD_MESSAGE, SF_PUT_IMAGE, text);
	if (text_has)
		ASSERT_CONTAINS(text, text_has);
	check_unharmed(what);
}

/* ---- what a surface holds ------------------------------------------------- */

/* GET_IMAGE of rect, bare rows (no codec asked) into out.  Events before
 * the IMAGE (RELEASE, PRESENTED) are passed over. */
static void read_rect(struct sf_peer *r, uint32_t surface, struct sf_rect rect,
                      uint8_t *out)
{
	static uint8_t msg[SF_MAX_MESSAGE];
	size_t left = (size_t)rect.width * rect.height * 4;
	struct sf_header hdr;
	struct sf_image img;

	get_image(r, surface, rect, 0, 0, 0);
	for (;;) {
		ASSERT_EQ(sf__peer_fill(r, sizeof hdr, 5000), 1);
		memcpy(&hdr, r->buf + r->start, sizeof hdr);
		if (hdr.type == SF_IMAGE)
			break;
		expect_event(r, hdr.type == SF_ERROR ? SF_IMAGE : hdr.type, msg);
	}
	ASSERT_EQ(sf__peer_fill(r, hdr.length, 5000), 1);
	ASSERT_EQ(sf__decode_image(r->buf + r->start, hdr.length, &img, NULL), 0);
	ASSERT_EQ(img.hdr.flags, 0);
	ASSERT_EQ(memcmp(&img.rect, &rect, sizeof rect), 0);
	r->start += hdr.length;
	while (left) {
		size_t k;

		ASSERT_EQ(sf__peer_fill(r, 1, 5000), 1);
		k = r->end - r->start < left ? r->end - r->start : left;
		memcpy(out, r->buf + r->start, k);
		out += k;
		r->start += k;
		left -= k;
	}
}

/* ---- the honest path ------------------------------------------------------ */

/*
 * A surface of 1024 x 320 in two rectangles: a full-width one of 300 rows
 * (decoded straight into the surface; 1.17 MiB, so more than one block),
 * and a part-width one (decoded into scratch, then copied row by row; a
 * one-row block goes straight in).  Coded and stored blocks mixed, zstd
 * with a block of two frames.  Read back, it is what was sent.
 */
static void honest_payload(uint8_t codec)
{
	enum { BW = 1024, BH = 320 };
	const struct sf_rect rects[2] = {
		{ 0, 0, BW, 300 }, { 100, 300, 50, 20 },
	};
	uint8_t *px = malloc((size_t)BW * 300 * 4), *got = malloc((size_t)BW * 300 * 4);
	uint8_t *px2 = malloc(50 * 20 * 4), *data = malloc(SF_BLOCK_MAX);
	size_t rb0 = (size_t)BW * 4, rb1 = 50 * 4;
	struct wire w;
	struct sf_peer *r = client();
	const uint8_t *at;
	uint32_t n;

	ASSERT(px && got && px2 && data);
	wire_init(&w);
	create_surface(r, 2, BW, BH, SF_PRESENT_LATCH);
	fill_pixels(px, BW, 300, codec);
	fill_pixels(px2, 50, 20, codec + 7);
	put_blocks_of(r, 2, rects, 2);
	/* Rectangle 1: 200 rows coded, 60 stored, 40 coded (zstd: 2 frames). */
	n = code(codec, px, 200 * rb0, data, SF_BLOCK_MAX);
	wire_block(&w, codec, (uint32_t)(200 * rb0), data, n);
	wire_block(&w, SF_CODEC_NONE, (uint32_t)(60 * rb0), px + 200 * rb0,
	           (uint32_t)(60 * rb0));
	at = px + 260 * rb0;
	if (codec == SF_CODEC_ZSTD) {
		n = zstd_of(at, 15 * rb0, data, SF_BLOCK_MAX, true);
		n += zstd_of(at + 15 * rb0, 25 * rb0, data + n, SF_BLOCK_MAX - n,
		             false);
	} else {
		n = code(codec, at, 40 * rb0, data, SF_BLOCK_MAX);
	}
	wire_block(&w, codec, (uint32_t)(40 * rb0), data, n);
	/* Rectangle 2 (its rows packed in px2): 10 coded, 1 coded, 9 stored. */
	n = code(codec, px2, 10 * rb1, data, SF_BLOCK_MAX);
	wire_block(&w, codec, (uint32_t)(10 * rb1), data, n);
	n = code(codec, px2 + 10 * rb1, rb1, data, SF_BLOCK_MAX);
	ASSERT_LT(n, rb1);
	wire_block(&w, codec, (uint32_t)rb1, data, n);
	wire_block(&w, SF_CODEC_NONE, (uint32_t)(9 * rb1), px2 + 11 * rb1,
	           (uint32_t)(9 * rb1));
	ASSERT_LT(w.len, (size_t)(300 * rb0 + 20 * rb1) / 2);
	wire_send(r, &w);

	read_rect(r, 2, rects[0], got);
	ASSERT_MSG(memcmp(got, px, 300 * rb0) == 0, "%s: the full-width "
	           "rectangle came back different", sf__codec_name(codec));
	read_rect(r, 2, rects[1], got);
	ASSERT_MSG(memcmp(got, px2, 20 * rb1) == 0, "%s: the part-width "
	           "rectangle came back different", sf__codec_name(codec));
	roundtrip(r);
	raw_close(r);
	wire_free(&w);
	free(px);
	free(px2);
	free(got);
	free(data);
}

TEST(honest_lz4_and_zstd_blocks_read_back_pixel_exact)
{
	begin(NULL);
	honest_payload(SF_CODEC_LZ4);
	check_unharmed("after the lz4 payload");
	honest_payload(SF_CODEC_ZSTD);
	check_unharmed("after the zstd payload");
	end();
}

/* ---- headers that lie ----------------------------------------------------- */

TEST(blocks_from_a_client_offered_no_codec_are_bad_message)
{
	const struct sf_rect all = { 0, 0, SW, SH };
	static uint8_t px[SW * SH * 4];
	struct wire w;
	struct sf_peer *r;

	begin(NULL);
	wire_init(&w);
	wire_block(&w, SF_CODEC_NONE, sizeof px, px, sizeof px);
	r = client_of(2);
	put_blocks(r, &all, 1);
	expect_refused(r, &w, "BLOCKS from a 2.2 client", "no codec");
	wire_free(&w);
	end();
}

TEST(block_headers_that_lie_are_bad_message)
{
	const struct sf_rect all = { 0, 0, SW, SH };
	const struct sf_rect two[2] = { { 0, 0, SW, 2 }, { 0, 2, SW, 2 } };
	const struct sf_rect part = { 3, 1, 5, 4 };
	/* Room for the longest data_len a lie below names. */
	static uint8_t px[2 * SW * SH * 4];
	static const struct {
		const char *what;
		uint8_t codec;
		uint8_t pad[3];
		uint32_t raw_len, data_len;
		int rects; /* 0 all, 1 two, 2 part */
		const char *text;
	} lies[] = {
		{ "codec 3, past the enum", 3, { 0 }, ROW, ROW, 0, "codec" },
		{ "codec 255", 255, { 0 }, ROW, ROW, 0, "codec" },
		{ "nonzero header padding", SF_CODEC_NONE, { 0, 1, 0 }, ROW, ROW, 0,
		  "padding" },
		{ "raw_len 0", SF_CODEC_NONE, { 0 }, 0, 0, 0, "raw_len" },
		{ "raw_len not whole rows", SF_CODEC_NONE, { 0 }, ROW + 4, ROW + 4, 0,
		  "raw_len" },
		{ "raw_len of a part-width row and a bit", SF_CODEC_NONE, { 0 },
		  5 * 4 + 4, 5 * 4 + 4, 2, "raw_len" },
		{ "raw_len past the surface", SF_CODEC_NONE, { 0 }, (SH + 1) * ROW,
		  (SH + 1) * ROW, 0, "raw_len" },
		{ "raw_len into the next rectangle", SF_CODEC_NONE, { 0 }, 3 * ROW,
		  3 * ROW, 1, "raw_len" },
		{ "NONE with data_len < raw_len", SF_CODEC_NONE, { 0 }, 2 * ROW,
		  ROW, 0, "data_len" },
		{ "NONE with data_len > raw_len", SF_CODEC_NONE, { 0 }, ROW, 2 * ROW,
		  0, "data_len" },
		{ "LZ4 with data_len == raw_len", SF_CODEC_LZ4, { 0 }, ROW, ROW, 0,
		  "data_len" },
		{ "LZ4 with data_len > raw_len", SF_CODEC_LZ4, { 0 }, ROW, 2 * ROW, 0,
		  "data_len" },
		{ "LZ4 with data_len 0", SF_CODEC_LZ4, { 0 }, ROW, 0, 0, "data_len" },
		{ "zstd with data_len == raw_len", SF_CODEC_ZSTD, { 0 }, ROW, ROW, 0,
		  "data_len" },
		{ "zstd with data_len 0", SF_CODEC_ZSTD, { 0 }, 2 * ROW, 0, 0,
		  "data_len" },
	};

	begin(NULL);
	for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
		struct sf_peer *r = client();
		struct wire w;

		wire_init(&w);
		wire_block_raw(&w, lies[i].codec, lies[i].pad, lies[i].raw_len, px,
		               lies[i].data_len, 0);
		if (lies[i].rects == 1)
			put_blocks(r, two, 2);
		else
			put_blocks(r, lies[i].rects ? &part : &all, 1);
		expect_refused(r, &w, lies[i].what, lies[i].text);
		wire_free(&w);
	}
	end();
}

/* A block may not name more than 1 MiB, even of a rectangle larger. */
TEST(a_block_of_more_than_1_mib_is_bad_message)
{
	const struct sf_rect big = { 0, 0, 1024, 300 };
	const uint32_t raw = SF_BLOCK_MAX + 1024 * 4;

	begin(NULL);
	for (int stored = 0; stored < 2; stored++) {
		/* The header alone: its data is never read. */
		struct sf_block h = {
			.codec = stored ? SF_CODEC_NONE : SF_CODEC_LZ4,
			.raw_len = raw, .data_len = stored ? raw : 4000,
		};
		struct wire w = { .p = (uint8_t *)&h, .len = sizeof h };
		struct sf_peer *r = client();

		create_surface(r, 2, 1024, 300, SF_PRESENT_LATCH);
		put_blocks_of(r, 2, &big, 1);
		expect_refused(r, &w, stored ? "a stored block of 1 MiB + a row"
		                             : "an LZ4 block of 1 MiB + a row",
		               "1 MiB");
	}
	end();
}

/* ---- data that lies ------------------------------------------------------- */

/*
 * Bombs: a few hundred KiB that decode to 128 MiB (LZ4) and 256 MiB
 * (zstd), claiming a 1 MiB block.  The decoder writes at most raw_len, so
 * the server's memory does not grow by the bomb.
 */
TEST(decompression_bombs_are_bad_message_and_cost_no_memory)
{
	const size_t lz4_out = 128u << 20, zstd_out = 256u << 20;
	const struct sf_rect big = { 0, 0, 1024, 256 }; /* 1 MiB */
	uint8_t *zeros = calloc(1, zstd_out);
	size_t cap = LZ4_compressBound((int)lz4_out);
	uint8_t *data = malloc(cap);
	long hwm0;

	ASSERT(zeros && data);
	begin(NULL);
	hwm0 = server_hwm_kb();
	for (int kind = 0; kind < 3; kind++) {
		static const char *const what[] = {
			"an LZ4 bomb: 128 MiB in a 1 MiB block",
			"a zstd bomb: a frame of 256 MiB in a 1 MiB block",
			"a zstd bomb without its content size",
		};
		struct sf_peer *r = client();
		struct wire w;
		uint32_t n;

		if (kind == 0)
			n = lz4_of(zeros, lz4_out, data, cap);
		else
			n = zstd_of(zeros, zstd_out, data, cap, kind == 1);
		ASSERT_LT(n, SF_BLOCK_MAX);
		wire_init(&w);
		wire_block(&w, kind ? SF_CODEC_ZSTD : SF_CODEC_LZ4, SF_BLOCK_MAX,
		           data, n);
		create_surface(r, 2, 1024, 256, SF_PRESENT_LATCH);
		put_blocks_of(r, 2, &big, 1);
		expect_refused(r, &w, what[kind], "decode");
		wire_free(&w);
	}
	/* Surfaces of 1 MiB came and went; the bombs' output never did. */
	ASSERT_MSG(server_hwm_kb() - hwm0 < 32 * 1024, "the server's peak memory "
	           "grew from %ld kB to %ld kB", hwm0, server_hwm_kb());
	free(zeros);
	free(data);
	end();
}

TEST(data_that_does_not_decode_to_raw_len_is_bad_message)
{
	const struct sf_rect all = { 0, 0, SW, SH }, part = { 2, 1, 20, 12 };
	static uint8_t px[2 * SW * SH * 4], data[4 * SW * SH * 4];
	const uint32_t raw = sizeof px / 2, raw_part = 20 * 4 * 12;
	enum {
		LZ4_TWICE, LZ4_HALF, LZ4_CUT, LZ4_CUT_PART, LZ4_GARBAGE,
		ZSTD_TWICE, ZSTD_HALF, ZSTD_TWICE_NO_SIZE, ZSTD_CUT, ZSTD_GARBAGE,
		LZ4_PADDED, ZSTD_PADDED, LIES
	};
	static const char *const what[LIES] = {
		"LZ4 of twice raw_len", "LZ4 of half raw_len",
		"an LZ4 block cut short", "an LZ4 block cut short (part width)",
		"LZ4 garbage", "a zstd frame of twice raw_len",
		"a zstd frame of half raw_len",
		"a zstd frame of twice raw_len, no content size",
		"a zstd frame cut short", "zstd garbage",
		"LZ4 data with nonzero padding", "zstd data with nonzero padding",
	};

	fill_pixels(px, SW, 2 * SH, 1);
	begin(NULL);
	for (int lie = 0; lie < LIES; lie++) {
		struct sf_peer *r = client();
		uint32_t n = 0, rl = lie == LZ4_CUT_PART ? raw_part : raw;
		uint8_t codec = lie < ZSTD_TWICE || lie == LZ4_PADDED
		                ? SF_CODEC_LZ4 : SF_CODEC_ZSTD;
		uint8_t pad_byte = 0;
		struct wire w;

		switch (lie) {
		case LZ4_TWICE: n = lz4_of(px, 2 * raw, data, sizeof data); break;
		case LZ4_HALF: n = lz4_of(px, raw / 2, data, sizeof data); break;
		case LZ4_CUT: case LZ4_CUT_PART:
			/* Honest for what is sent: the stream itself stops. */
			n = lz4_of(px, rl, data, sizeof data) / 2;
			break;
		case ZSTD_TWICE:
			n = zstd_of(px, 2 * raw, data, sizeof data, true);
			break;
		case ZSTD_HALF:
			n = zstd_of(px, raw / 2, data, sizeof data, true);
			break;
		case ZSTD_TWICE_NO_SIZE:
			n = zstd_of(px, 2 * raw, data, sizeof data, false);
			break;
		case ZSTD_CUT:
			n = zstd_of(px, raw, data, sizeof data, true) / 2;
			break;
		case LZ4_GARBAGE: case ZSTD_GARBAGE:
			for (n = 0; n < raw / 2; n++)
				data[n] = (uint8_t)(pattern(n, 3, 9) | 0xf0);
			break;
		case LZ4_PADDED: case ZSTD_PADDED:
			/* Honest data, of a length that needs padding. */
			for (uint32_t k = raw / 2; k <= raw; k += 4 * SW) {
				n = code(codec, px, k, data, sizeof data);
				if (n % 4) {
					rl = k;
					break;
				}
			}
			ASSERT_MSG(n % 4, "no length of %s data needs padding",
			           sf__codec_name(codec));
			pad_byte = 0x80;
			break;
		}
		ASSERT_GT(n, 0);
		ASSERT_LT(n, rl);
		wire_init(&w);
		wire_block_raw(&w, codec, NULL, rl, data, n, pad_byte);
		if (lie == LZ4_CUT_PART) {
			put_blocks(r, &part, 1);
		} else if (lie == LZ4_PADDED || lie == ZSTD_PADDED) {
			struct sf_rect rows = { 0, 0, SW, rl / ROW };

			put_blocks(r, &rows, 1);
		} else {
			put_blocks(r, &all, 1);
		}
		expect_refused(r, &w, what[lie], lie >= LZ4_PADDED ? "padded"
		                                                   : "decode");
		wire_free(&w);
	}
	end();
}

/* ---- streams that end or stall ------------------------------------------- */

/* A whole-surface PUT_IMAGE whose one block (of px stored, or of its
 * LZ4 data) stops after keep bytes (0: half of it). */
static void send_cut_block(struct sf_peer *r, bool stored, const uint8_t *px,
                           const uint8_t *data, uint32_t n, size_t keep)
{
	const struct sf_rect all = { 0, 0, SW, SH };
	struct wire w;

	wire_init(&w);
	if (stored)
		wire_block(&w, SF_CODEC_NONE, SW * SH * 4, px, SW * SH * 4);
	else
		wire_block(&w, SF_CODEC_LZ4, SW * SH * 4, data, n);
	w.len = keep ? keep : w.len / 2;
	put_blocks(r, &all, 1);
	wire_send(r, &w);
	wire_free(&w);
}

/* Closing (or half-closing) in the middle of a block's data: the server
 * cleans up that client (its fds back to what it held before) and goes
 * on. */
TEST(a_stream_that_ends_inside_a_block_ends_only_that_client)
{
	static uint8_t px[SW * SH * 4], data[2 * SW * SH * 4];
	uint32_t n;

	fill_pixels(px, SW, SH, 5);
	n = lz4_of(px, sizeof px, data, sizeof data);
	begin(NULL);
	for (int kind = 0; kind < 4; kind++) {
		static const char *const what[] = {
			"half-closed inside a stored block",
			"half-closed inside an LZ4 block's data",
			"half-closed inside a block header",
			"closed inside an LZ4 block's data",
		};
		struct sf_peer *r = client();

		printf("# %s\n", what[kind]);
		send_cut_block(r, kind == 0, px, data, n, kind == 2 ? 6 : 0);
		if (kind == 3) {
			/* Nobody to tell: the fd count says it was cleaned up. */
			raw_close(r);
		} else {
			char text[SF_MAX_TEXT + 1];

			ASSERT_EQ(shutdown(r->fd, SHUT_WR), 0);
			expect_error_text(r, SF_ERR_BAD_MESSAGE, SF_PUT_IMAGE, text);
			ASSERT_CONTAINS(text, "stream ended");
		}
		check_unharmed(what[kind]);
	}
	end();
}

/* The slow-sender deadline holds inside blocks: a header, half a header
 * or half a block's data, then nothing. */
TEST(a_client_that_stalls_inside_a_block_is_slow)
{
	const char *const args[] = { "--timeout", "1", NULL };
	static uint8_t px[SW * SH * 4], data[2 * SW * SH * 4];
	uint32_t n;

	fill_pixels(px, SW, SH, 6);
	n = lz4_of(px, sizeof px, data, sizeof data);
	begin(args);
	for (int kind = 0; kind < 3; kind++) {
		static const char *const what[] = {
			"a block header, then nothing",
			"half a block header, then nothing",
			"half an LZ4 block's data, then nothing",
		};
		static const size_t cut[] = { sizeof(struct sf_block), 6, 0 };
		char text[SF_MAX_TEXT + 1];
		struct sf_peer *r = client();

		printf("# %s\n", what[kind]);
		send_cut_block(r, false, px, data, n, cut[kind]);
		check_serving(what[kind]);
		expect_error_text(r, SF_ERR_SLOW, SF_PUT_IMAGE, text);
		ASSERT_CONTAINS(text, "too slowly");
		check_unharmed(what[kind]);
	}
	end();
}

/* ---- the cost of many blocks ---------------------------------------------- */

/* The attacker of tiny_blocks_do_not_delay_other_clients, in its own
 * process until it is killed: frames of a 1 x 16384 surface, 64 KiB of
 * pixels each, two at a time, as 16384 stored blocks of one pixel (16
 * bytes each on the wire) or as one block. */
static void block_streamer(bool tiny)
{
	const struct sf_rect tall = { 0, 0, 1, 16384 };
	static uint8_t px[16384 * 4];
	struct sf_peer *r = client();
	struct wire w;

	create_surface(r, 2, 1, 16384, SF_PRESENT_COPY);
	wire_init(&w);
	if (tiny)
		for (uint32_t i = 0; i < 16384; i++)
			wire_block(&w, SF_CODEC_NONE, 4, px + 4 * i, 4);
	else
		wire_block(&w, SF_CODEC_NONE, sizeof px, px, sizeof px);
	for (;;) {
		for (int i = 0; i < 2; i++) {
			put_blocks_of(r, 2, &tall, 1);
			wire_send(r, &w);
		}
		roundtrip(r);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The mean SYNC round trip of probe, in ms, while a streamer runs. */
static double sync_ms_during(struct sf_peer *probe, bool tiny)
{
	const int samples = 200;
	uint64_t total = 0;
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		sf_test_atfail = NULL;
		block_streamer(tiny);
		_exit(0);
	}
	usleep(300000);
	for (int i = 0; i < samples; i++) {
		uint64_t t0 = now_ns();

		roundtrip(probe);
		total += now_ns() - t0;
	}
	/* Still streaming (an ERROR would have ended it). */
	ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
	kill(pid, SIGKILL);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	return (double)total / samples / 1e6;
}

/*
 * Pixels cut into the smallest blocks there are: a read of the server
 * may take one 12-byte header or one 4-byte block, and a turn that
 * counted only bytes would be hundreds of thousands of system calls
 * (the others' SYNC took 46 to 72 ms on average here, against under
 * 1 ms; READ_COST in server/payload.c bounds it).  The same
 * pixels in tiny blocks may delay another client's SYNC at most 4 times
 * as much as in one block (or 20 ms).
 */
TEST(tiny_blocks_do_not_delay_other_clients)
{
	struct sf_peer *probe;
	double one, tiny;

	begin(NULL);
	probe = raw_ready();
	one = sync_ms_during(probe, false);
	tiny = sync_ms_during(probe, true);
	printf("#   SYNC while another client streams 64 KiB frames: %.2f ms "
	       "in one block, %.2f ms in blocks of 4 bytes\n", one, tiny);
	fflush(stdout);
	ASSERT_MSG(tiny < 20 || tiny < 4 * one, "tiny blocks delay the others "
	           "%.2f ms, the same pixels in one block %.2f ms", tiny, one);
	raw_close(probe);
	end();
}
