/*
 * Inline pixels in blocks (protocol 2.3, struct sf_block): cutting the
 * rows of some rectangles into blocks, compressing each with LZ4 or zstd
 * when that makes it smaller, straight into an output queue; and the
 * receiving side, which says where the next bytes of the stream go (a
 * block header, a block's data, or for a stored block the image rows
 * themselves) and decodes each block into the rows it names.
 *
 * Both sides use both halves: the client sends PUT_IMAGE blocks and
 * receives IMAGE blocks, the server the other way round.
 */
#ifndef SHMFRAME_BLOCKS_H
#define SHMFRAME_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connection.h"
#include "rows.h"
#include "wire.h"

/* Bit (1 << codec) for each codec this build has: NONE always, and LZ4
 * and ZSTD. */
uint32_t sf__codecs_built(void);
/* "none", "lz4", "zstd"; "?" for another value. */
const char *sf__codec_name(uint32_t codec);

/* ---- sending ------------------------------------------------------------ */

/* What sending blocks cost, added to by sf__blocks_queue. */
struct sf_blocks_stats {
	uint64_t raw_bytes;      /* pixels they stand for */
	uint64_t wire_bytes;     /* headers, data and padding queued */
	uint64_t stored, coded;  /* blocks sent as they were, compressed */
	uint64_t compress_ns;    /* thread CPU time in the compressor */
};

/* A sender's codec state, kept from one payload to the next. */
struct sf_blocks_out {
	void *zstd;              /* ZSTD_CCtx, made on first use */
	uint8_t *gather;         /* rows of a part-width rectangle, joined */
	uint8_t *packed;         /* a block compressed, before it is queued */
	/* Blocks not to try to compress, after some that did not shrink:
	 * content that does not compress costs a try now and then only. */
	unsigned skip, backoff;
	/* Stored blocks queued as rows written straight from the image (which
	 * must then stay as it is until they are written), not copied. */
	bool by_reference;
	/* Called after each block is queued (NULL: nothing); nonzero stops
	 * the payload with that error. */
	int (*after)(void *data);
	void *after_data;
};

void sf__blocks_out_init(struct sf_blocks_out *o);
void sf__blocks_out_free(struct sf_blocks_out *o);

/*
 * Queues the payload of n rectangles of an image (pixel (0, 0) at base,
 * rows stride bytes apart) as blocks compressed with codec (NONE: every
 * block stored), copied into q: the image is free again on return
 * (unless o->by_reference: then once q has written them).
 * 0, or -ENOMEM (q then holds part of the payload: the connection cannot
 * go on), or what after returned.
 */
int sf__blocks_queue(struct sf_out *q, struct sf_blocks_out *o,
                     uint32_t codec, const uint8_t *base, size_t stride,
                     const struct sf_rect *rects, uint32_t n,
                     struct sf_blocks_stats *st);

/* ---- receiving ---------------------------------------------------------- */

struct sf_blocks_in {
	struct sf_rows dst;       /* the payload's rows: where pixels land */
	/* Where the next bytes of the stream go: the header, the data, or
	 * (a stored block) the rows of dst it covers. */
	struct sf_rows step;
	struct sf_rect step_rect[2];
	bool in_data;             /* step is a block's data (or its rows) */
	struct sf_block cur;
	uint8_t head[sizeof(struct sf_block)];
	uint32_t codecs;          /* the codecs this side offered: bits */
	uint8_t *data;            /* a compressed block's data, padded */
	uint8_t *scratch;         /* a block's rows before they are copied */
	void *zstd;               /* ZSTD_DCtx, made on first use */
	uint64_t raw_done;        /* pixel bytes decoded so far */
};

/* An idle receiver (nothing allocated yet). */
void sf__blocks_in_init(struct sf_blocks_in *b);
void sf__blocks_in_free(struct sf_blocks_in *b);

/* Starts receiving a payload of n rectangles (kept by the caller) of an
 * image at base/stride, whose blocks may use the codecs of the mask
 * (1 << codec; NONE is always allowed). */
void sf__blocks_in_start(struct sf_blocks_in *b, void *base, size_t stride,
                         const struct sf_rect *rects, uint32_t n,
                         uint32_t codecs);

/* True once every pixel of the payload is in place. */
static inline bool sf__blocks_in_done(const struct sf_blocks_in *b)
{
	return b->dst.left == 0 && !b->in_data;
}

/*
 * The rows the next bytes of the stream are to be read into (a header,
 * data, or image rows), after handling what the last read completed.
 * Returns the rows (left > 0), NULL when the payload is done, or NULL
 * with *code set (a positive enum sf_error_code) and *why saying what
 * was wrong with the stream.
 */
struct sf_rows *sf__blocks_in_next(struct sf_blocks_in *b, uint32_t *code,
                                   const char **why);

#endif
