/*
 * Readback: what the server holds for a surface, copied back to the
 * caller.  Over shm the server writes into a temporary segment of ours
 * (like XShmGetImage); over the socket the rows follow the IMAGE event and
 * are read straight into the caller's memory.
 */
#include <errno.h>
#include <string.h>

#include "client-private.h"

uint64_t sfc__image_payload(const struct sf_image *img)
{
	if (img->segment)
		return 0;
	return (uint64_t)img->rect.width * img->rect.height * SF_BYTES_PER_PIXEL;
}

int sfc__readback_on_image(struct shmframe_conn *conn, const struct sf_image *img)
{
	struct sf_readback *rb = &conn->readback;

	if (!rb->waiting || img->surface != rb->surface || img->serial != rb->serial)
		return sfc__protocol_error(conn, "IMAGE that was not asked for");
	if (img->segment != rb->segment ||
	    memcmp(&img->rect, &rb->rect, sizeof img->rect) != 0)
		return sfc__protocol_error(conn, "IMAGE does not match its GET_IMAGE");
	rb->waiting = false;
	conn->inflight--;
	if (img->segment)
		return 0;
	/* The rows follow the message; they go straight into the caller's
	 * memory, from the input queue first and then from the socket. */
	conn->payload.active = true;
	conn->payload.rect = (struct sf_rect){ 0, 0, img->rect.width,
	                                       img->rect.height };
	conn->payload.blocks = (img->hdr.flags & SF_IMAGE_BLOCKS) != 0;
	if (!conn->payload.blocks) {
		sf__rows_init(&conn->payload.rows, rb->dst, rb->dst_stride,
		              &conn->payload.rect, 1);
		return 0;
	}
	/* Blocks only when asked for, and only of the codec asked. */
	if (rb->codec == SF_CODEC_NONE) {
		conn->payload.active = false;
		return sfc__protocol_error(conn, "IMAGE in blocks that were not "
		                           "asked for");
	}
	sf__blocks_in_start(&conn->payload.bin, rb->dst, rb->dst_stride,
	                    &conn->payload.rect, 1, 1u << rb->codec);
	return 0;
}

/* Waits until the GET_IMAGE just sent is fully answered: its IMAGE
 * decoded, and over the socket its rows all read. */
static int wait_image(struct shmframe_conn *conn)
{
	while (conn->readback.waiting || conn->payload.active) {
		int r = sfc__pump(conn);

		if (r < 0)
			return r;
	}
	return 0;
}

static int readback_shm(struct shmframe_surface *s, struct sf_get_image *get,
                        uint8_t *dst, uint32_t dst_stride)
{
	struct shmframe_conn *conn = s->conn;
	uint32_t row = get->rect.width * SF_BYTES_PER_PIXEL;
	size_t size = (size_t)row * get->rect.height;
	struct sf_segment seg;
	uint32_t id;
	int err;

	/* The segment starts with its proof, so it holds at least that. */
	if (size < SF_PROOF_SIZE)
		size = SF_PROOF_SIZE;
	err = sfc__segment_attach(conn, &seg, size, SF_SEGMENT_WRITABLE, &id);
	if (err)
		return err;
	get->segment = id;
	get->stride = row;
	get->offset = 0;
	conn->readback.segment = id;
	err = sfc__request(conn, SF_GET_IMAGE, get, sizeof *get, NULL, 0);
	if (!err) {
		conn->inflight++;
		err = wait_image(conn);
	}
	if (!err) {
		for (uint32_t y = 0; y < get->rect.height; y++)
			memcpy(dst + (size_t)y * dst_stride,
			       (uint8_t *)seg.map + (size_t)y * row, row);
		/* Queued; it goes out with the next request or flush. */
		err = sfc__segment_detach(conn, id, seg.size);
		sfc__flush(conn);
	}
	sf__segment_close(&seg);
	return err;
}

static int readback_inline(struct shmframe_surface *s, struct sf_get_image *get,
                           uint8_t *dst, uint32_t dst_stride)
{
	struct shmframe_conn *conn = s->conn;
	int err;

	conn->readback.segment = 0;
	conn->readback.dst = dst;
	conn->readback.dst_stride = dst_stride;
	/* The rows come back compressed as frames go. */
	conn->readback.codec = sfc__compress_current(conn);
	if (conn->readback.codec == SF_CODEC_LZ4)
		get->hdr.flags = SF_GET_IMAGE_LZ4;
	else if (conn->readback.codec == SF_CODEC_ZSTD)
		get->hdr.flags = SF_GET_IMAGE_ZSTD;
	err = sfc__request(conn, SF_GET_IMAGE, get, sizeof *get, NULL, 0);
	if (err)
		return err;
	conn->inflight++;
	return wait_image(conn);
}

SHMFRAME_EXPORT int shmframe_readback(struct shmframe_surface *s, uint32_t x,
                                      uint32_t y, uint32_t width,
                                      uint32_t height, void *dst,
                                      uint32_t dst_stride)
{
	struct sf_rect rect = { x, y, width, height };
	struct shmframe_conn *conn;
	struct sf_get_image get;
	int err;

	if (!s || !dst || !sf__rect_inside(&rect, s->width, s->height) ||
	    dst_stride < width * SF_BYTES_PER_PIXEL)
		return -EINVAL;
	conn = s->conn;
	if (conn->error)
		return conn->error;
	if (conn->readback.waiting || conn->payload.active)
		return -EBUSY; /* a readback from within a callback of one */

	/* The frame held for the link is what the caller presented last. */
	err = sfc__inline_send_held(s, true, true);
	if (err)
		return err;
	/* Stay within the server's limit of unanswered requests, counting the
	 * buffers the caller may still present. */
	err = sfc__wait_inflight_room(conn);
	if (err)
		return err;

	memset(&get, 0, sizeof get);
	get.surface = s->id;
	get.serial = ++conn->next_get;
	get.rect = rect;
	conn->readback = (struct sf_readback){
		.waiting = true,
		.surface = s->id,
		.serial = get.serial,
		.rect = rect,
	};
	if (s->segment_id)
		err = readback_shm(s, &get, dst, dst_stride);
	else
		err = readback_inline(s, &get, dst, dst_stride);
	conn->readback.waiting = false;
	conn->readback.dst = NULL;
	return err;
}
