/*
 * Blocks of inline pixels (blocks.h): the sender's cutting and
 * compressing, the receiver's checking and decoding.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lz4.h>
#include <zstd.h>

#include "blocks.h"
#include "clock.h"

/* zstd's level: its fastest regular one (negative levels compress less
 * than lz4 does on our content). */
#define ZSTD_LEVEL 1
/* Blocks passed over after one that did not shrink, at most. */
#define BACKOFF_MAX 32u

uint32_t sf__codecs_built(void)
{
	return 1u << SF_CODEC_NONE | 1u << SF_CODEC_LZ4 | 1u << SF_CODEC_ZSTD;
}

const char *sf__codec_name(uint32_t codec)
{
	switch (codec) {
	case SF_CODEC_NONE: return "none";
	case SF_CODEC_LZ4:  return "lz4";
	case SF_CODEC_ZSTD: return "zstd";
	}
	return "?";
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static size_t row_bytes(const struct sf_rect *r)
{
	return (size_t)r->width * SF_BYTES_PER_PIXEL;
}

/* ---- sending ------------------------------------------------------------ */

void sf__blocks_out_init(struct sf_blocks_out *o)
{
	memset(o, 0, sizeof *o);
}

void sf__blocks_out_free(struct sf_blocks_out *o)
{
	ZSTD_freeCCtx(o->zstd);
	free(o->gather);
	free(o->packed);
	sf__blocks_out_init(o);
}

/* Compresses raw bytes of src into dst (room for raw - 1 bytes): the
 * data's length, or 0 when it would not be smaller (or the codec cannot
 * be had). */
static size_t compress(struct sf_blocks_out *o, uint32_t codec,
                       const uint8_t *src, size_t raw, uint8_t *dst)
{
	if (codec == SF_CODEC_LZ4) {
		int n = LZ4_compress_default((const char *)src, (char *)dst,
		                             (int)raw, (int)raw - 1);

		return n > 0 ? (size_t)n : 0;
	}
	if (codec == SF_CODEC_ZSTD) {
		size_t n;

		if (!o->zstd && !(o->zstd = ZSTD_createCCtx()))
			return 0;
		n = ZSTD_compressCCtx(o->zstd, dst, raw - 1, src, raw, ZSTD_LEVEL);
		return ZSTD_isError(n) || n >= raw ? 0 : n;
	}
	return 0;
}

/* Whether to try compressing the next block: not for a while after
 * blocks that did not shrink. */
static bool worth_trying(struct sf_blocks_out *o, uint32_t codec, size_t raw)
{
	if (codec == SF_CODEC_NONE || raw < 2)
		return false;
	if (o->skip > 0) {
		o->skip--;
		return false;
	}
	return true;
}

static void note_outcome(struct sf_blocks_out *o, bool shrank)
{
	if (shrank) {
		o->backoff = 0;
		return;
	}
	o->backoff = o->backoff ? o->backoff * 2 : 1;
	if (o->backoff > BACKOFF_MAX)
		o->backoff = BACKOFF_MAX;
	o->skip = o->backoff;
}

/* One block: the rows of piece, a rectangle of whole rows, of the image. */
static int queue_block(struct sf_out *q, struct sf_blocks_out *o,
                       uint32_t codec, const uint8_t *base, size_t stride,
                       const struct sf_rect *piece, struct sf_blocks_stats *st)
{
	size_t rb = row_bytes(piece), raw = rb * piece->height, room, data = 0;
	const uint8_t *first = base + (size_t)piece->y * stride +
	                       (size_t)piece->x * SF_BYTES_PER_PIXEL;
	bool flat = stride == rb || piece->height == 1;
	struct sf_block h = { .codec = SF_CODEC_NONE, .raw_len = (uint32_t)raw,
	                      .data_len = (uint32_t)raw };
	uint8_t *p = NULL;

	if (worth_trying(o, codec, raw)) {
		const uint8_t *src = first;
		uint64_t t0 = sf__clock_ns(CLOCK_THREAD_CPUTIME_ID);

		if (!flat) {
			if (!o->gather && !(o->gather = malloc(SF_BLOCK_MAX)))
				return -ENOMEM;
			sf__rect_pack(o->gather, base, stride, piece);
			src = o->gather;
		}
		/* Into a buffer of our own, so that the queue holds (and
		 * counts) only what the block takes on the wire. */
		if (!o->packed && !(o->packed = malloc(sizeof h + SF_BLOCK_MAX + 3)))
			return -ENOMEM;
		p = o->packed;
		data = compress(o, codec, src, raw, p + sizeof h);
		st->compress_ns += sf__clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
		note_outcome(o, data != 0);
	}
	if (data) {
		h.codec = (uint8_t)codec;
		h.data_len = (uint32_t)data;
		memset(p + sizeof h + data, 0, pad4(data) - data);
		memcpy(p, &h, sizeof h);
		if (sf__out_append(q, p, sizeof h + pad4(data), -1))
			return -ENOMEM;
		st->coded++;
	} else if (o->by_reference) {
		/* Stored rows go out straight from the image, as bare rows
		 * do. */
		if (sf__out_append(q, &h, sizeof h, -1) ||
		    sf__out_rows(q, (void *)base, stride, piece, 1, NULL))
			return -ENOMEM;
		st->stored++;
	} else {
		p = sf__out_space(q, sizeof h + raw, &room);
		if (!p)
			return -ENOMEM;
		memcpy(p, &h, sizeof h);
		sf__rect_pack(p + sizeof h, base, stride, piece);
		sf__out_commit(q, sizeof h + raw);
		st->stored++;
	}
	st->raw_bytes += raw;
	st->wire_bytes += sizeof h + pad4(h.data_len);
	return 0;
}

int sf__blocks_queue(struct sf_out *q, struct sf_blocks_out *o,
                     uint32_t codec, const uint8_t *base, size_t stride,
                     const struct sf_rect *rects, uint32_t n,
                     struct sf_blocks_stats *st)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct sf_rect *r = &rects[i];
		size_t rb = row_bytes(r);
		uint32_t per = rb ? (uint32_t)(SF_BLOCK_MAX / rb) : 0;

		for (uint32_t y = 0; rb && y < r->height; y += per) {
			struct sf_rect piece = { r->x, r->y + y, r->width,
			                         r->height - y < per ? r->height - y
			                                             : per };
			int err = queue_block(q, o, codec, base, stride, &piece, st);

			if (err)
				return err;
			if (o->after && (err = o->after(o->after_data)))
				return err;
		}
	}
	return 0;
}

/* ---- receiving ---------------------------------------------------------- */

void sf__blocks_in_init(struct sf_blocks_in *b)
{
	memset(b, 0, sizeof *b);
}

void sf__blocks_in_free(struct sf_blocks_in *b)
{
	ZSTD_freeDCtx(b->zstd);
	free(b->data);
	free(b->scratch);
	sf__blocks_in_init(b);
}

/* step: a walk over bytes bytes (a multiple of 4, at most SF_BLOCK_MAX)
 * at p, as rows of STEP_ROW bytes and one shorter last row (a row may
 * not be wider than SF_MAX_DIMENSION pixels). */
#define STEP_ROW 16384u
static void step_bytes(struct sf_blocks_in *b, void *p, size_t bytes)
{
	uint32_t full = (uint32_t)(bytes / STEP_ROW), n = 0;
	uint32_t rest = (uint32_t)(bytes % STEP_ROW);

	if (full)
		b->step_rect[n++] = (struct sf_rect){ 0, 0, STEP_ROW / 4, full };
	if (rest)
		b->step_rect[n++] = (struct sf_rect){ 0, full, rest / 4, 1 };
	sf__rows_init(&b->step, p, STEP_ROW, b->step_rect, n);
}

static void step_header(struct sf_blocks_in *b)
{
	b->in_data = false;
	step_bytes(b, b->head, sizeof b->head);
}

void sf__blocks_in_start(struct sf_blocks_in *b, void *base, size_t stride,
                         const struct sf_rect *rects, uint32_t n,
                         uint32_t codecs)
{
	sf__rows_init(&b->dst, base, stride, rects, n);
	b->codecs = codecs | 1u << SF_CODEC_NONE;
	b->raw_done = 0;
	step_header(b);
}

static struct sf_rows *bad(uint32_t *code, const char **why, const char *text)
{
	*code = SF_ERR_BAD_MESSAGE;
	*why = text;
	return NULL;
}

/* The current rectangle of dst and the bytes left in it. */
static const struct sf_rect *cur_rect(const struct sf_blocks_in *b,
                                      uint64_t *left)
{
	const struct sf_rect *r = &b->dst.rects[b->dst.rect];

	*left = (uint64_t)(r->height - b->dst.row) * row_bytes(r);
	return r;
}

/* The header is in: check it, and point step at what follows. */
static struct sf_rows *take_header(struct sf_blocks_in *b, uint32_t *code,
                                   const char **why)
{
	struct sf_block *h = &b->cur;
	const struct sf_rect *r;
	uint64_t left;
	size_t rb;

	memcpy(h, b->head, sizeof *h);
	r = cur_rect(b, &left);
	rb = row_bytes(r);
	if (h->codec > SF_CODEC_MAX || !(b->codecs & 1u << h->codec))
		return bad(code, why, "a block has a codec that was not offered");
	if (h->pad[0] || h->pad[1] || h->pad[2])
		return bad(code, why, "a block header has nonzero padding");
	if (h->raw_len == 0 || h->raw_len > SF_BLOCK_MAX || h->raw_len % rb ||
	    h->raw_len > left)
		return bad(code, why, "a block's raw_len is not whole rows of its "
		           "rectangle, or runs past it, or passes 1 MiB");
	if (h->codec == SF_CODEC_NONE ? h->data_len != h->raw_len
	                              : h->data_len == 0 || h->data_len >= h->raw_len)
		return bad(code, why, "a block's data_len is out of range for its "
		           "codec");
	b->in_data = true;
	if (h->codec == SF_CODEC_NONE) {
		/* Stored rows go straight into place. */
		b->step_rect[0] = (struct sf_rect){ r->x, r->y + b->dst.row, r->width,
		                                    (uint32_t)(h->raw_len / rb) };
		sf__rows_init(&b->step, b->dst.base, b->dst.stride, b->step_rect, 1);
		return &b->step;
	}
	if (!b->data && !(b->data = malloc(SF_BLOCK_MAX))) {
		*code = SF_ERR_NO_MEMORY;
		*why = "out of memory for a compressed block";
		return NULL;
	}
	step_bytes(b, b->data, pad4(h->data_len));
	return &b->step;
}

/* Decodes the data of the current block into out (raw_len bytes). */
static int decode(struct sf_blocks_in *b, uint8_t *out)
{
	const struct sf_block *h = &b->cur;

	if (h->codec == SF_CODEC_LZ4) {
		int n = LZ4_decompress_safe((const char *)b->data, (char *)out,
		                            (int)h->data_len, (int)h->raw_len);

		return n == (int)h->raw_len ? 0 : -1;
	}
	if (!b->zstd && !(b->zstd = ZSTD_createDCtx()))
		return -1;
	size_t n = ZSTD_decompressDCtx(b->zstd, out, h->raw_len, b->data,
	                               h->data_len);

	return !ZSTD_isError(n) && n == h->raw_len ? 0 : -1;
}

/* The data is in: put its pixels in place. */
static int take_data(struct sf_blocks_in *b, uint32_t *code, const char **why)
{
	const struct sf_block *h = &b->cur;
	const struct sf_rect *r = &b->dst.rects[b->dst.rect];
	size_t rb = row_bytes(r);

	if (h->codec != SF_CODEC_NONE) {
		uint8_t *at = b->dst.base + (size_t)(r->y + b->dst.row) * b->dst.stride +
		              (size_t)r->x * SF_BYTES_PER_PIXEL;
		bool flat = b->dst.stride == rb || h->raw_len == rb;

		for (size_t i = h->data_len; i < pad4(h->data_len); i++)
			if (b->data[i]) {
				bad(code, why, "a block's data is padded with nonzero bytes");
				return -1;
			}
		if (!flat && !b->scratch && !(b->scratch = malloc(SF_BLOCK_MAX))) {
			*code = SF_ERR_NO_MEMORY;
			*why = "out of memory for a compressed block";
			return -1;
		}
		if (decode(b, flat ? at : b->scratch)) {
			bad(code, why, "a block's data does not decode to exactly its "
			    "raw_len bytes");
			return -1;
		}
		if (!flat) {
			sf__rows_copy_in(&b->dst, b->scratch, h->raw_len);
			b->raw_done += h->raw_len;
			return 0;
		}
	}
	sf__rows_advance(&b->dst, h->raw_len);
	b->raw_done += h->raw_len;
	return 0;
}

struct sf_rows *sf__blocks_in_next(struct sf_blocks_in *b, uint32_t *code,
                                   const char **why)
{
	*code = 0;
	*why = NULL;
	if (b->step.left > 0)
		return &b->step;
	if (!b->in_data) {
		if (b->dst.left == 0)
			return NULL;
		return take_header(b, code, why);
	}
	if (take_data(b, code, why))
		return NULL;
	if (b->dst.left == 0) {
		b->in_data = false;
		return NULL;
	}
	step_header(b);
	return &b->step;
}
