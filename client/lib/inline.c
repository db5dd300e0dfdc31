/*
 * Frames on the socket: their pixels sent with the PUT_IMAGE, as bare rows
 * straight from the buffer or as blocks (compressed copies), and paced to
 * the link.
 *
 * Pacing: at most PACE_WINDOW frames of a surface are on their way (sent,
 * PRESENTED not yet back).  A frame presented while they are is held: its
 * damage copied into the surface's shadow image, merged with the damage
 * of a frame held before it, which it replaces.  When a PRESENTED makes
 * room, the held frame goes, and the serials it replaced are reported
 * presented-and-discarded.  So a link slower than the frames never holds
 * more than the window plus one frame: latency stays bounded, and the
 * bytes sent are those of the latest image's damage, not of every frame.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client-private.h"
#include "clock.h"

/* Two: one frame crossing the link while the next waits in the kernel, so
 * the link never idles for a round trip, and a new frame waits behind one
 * frame at most. */
#define PACE_WINDOW 2u

/* Between blocks: what is queued goes out as far as the socket takes it,
 * so that compressing the next block overlaps the link sending this one. */
static int flush_between(void *data)
{
	int err = sfc__flush(data);

	return err == -EAGAIN ? 0 : err;
}

/* Sends one frame: n rects (0: the whole surface) of the image at
 * base/stride. */
static int send_frame(struct shmframe_surface *s, uint32_t serial,
                      const uint8_t *base, size_t stride,
                      const struct sf_rect *rects, unsigned n)
{
	struct shmframe_conn *conn = s->conn;
	uint8_t msg[sizeof(struct sf_put_image) + SF_MAX_RECTS * sizeof(struct sf_rect)];
	struct sf_rect whole = { 0, 0, s->width, s->height };
	const struct sf_rect *rr = n ? rects : &whole;
	unsigned nr = n ? n : 1;
	struct sf_blocks_stats st = { 0 };
	struct sf_put_image put;
	uint32_t codec = sfc__compress_codec(conn, base, stride, rr, nr);
	uint64_t raw = sf__rows_total(rr, nr), t0 = sf__clock_ns(CLOCK_MONOTONIC);
	size_t len;
	int err;

	memset(&put, 0, sizeof put);
	put.surface = s->id;
	put.serial = serial;
	put.n_rects = n;
	if (codec != SF_CODEC_NONE)
		put.hdr.flags = SF_PUT_IMAGE_BLOCKS;
	len = sf__encode(msg, sizeof msg, SF_PUT_IMAGE, &put, sizeof put, rects,
	                 n * sizeof rects[0]);
	if (len == 0)
		return sfc__fail(conn, -EINVAL, "cannot encode PUT_IMAGE");
	if (codec == SF_CODEC_NONE) {
		/* The rows go straight from the image. */
		err = sfc__send_rows(conn, msg, len, (uint8_t *)base, (uint32_t)stride,
		                    rr, nr);
		if (!err)
			sfc__compress_sent(conn, s->id, serial, raw, t0);
		st.raw_bytes = st.wire_bytes = raw;
	} else {
		struct sf_blocks_out *o = sfc__compress_out(conn);

		/* Stored rows can go straight from the image: this waits
		 * (sfc__flush_all) until every byte is written. */
		o->after = flush_between;
		o->after_data = conn;
		o->by_reference = true;
		err = sfc__queue(conn, msg, len);
		if (!err && (err = sf__blocks_queue(&conn->out, o, codec, base, stride,
		                                    rr, nr, &st)))
			err = conn->error ? conn->error
			      : sfc__fail(conn, err, "cannot queue the frame's blocks");
		if (!err)
			err = sfc__flush_all(conn);
		if (err)
			sf__out_clear(&conn->out);
	}
	if (err)
		return err;
	conn->stats.frames_sent++;
	conn->stats.pixel_bytes += st.raw_bytes;
	conn->stats.payload_bytes += st.wire_bytes;
	conn->stats.compress_ns += st.compress_ns;
	conn->stats.blocks_stored += st.stored;
	conn->stats.blocks_coded += st.coded;
	s->last_sent = serial;
	s->inflight++;
	conn->inflight++;
	return 0;
}

/* Copies n rects (0: all) of the image at base/stride into the shadow. */
static void shadow_copy(struct shmframe_surface *s, const uint8_t *base,
                        size_t stride, const struct sf_rect *rects, unsigned n)
{
	struct sf_rect whole = { 0, 0, s->width, s->height };

	if (n == 0) {
		rects = &whole;
		n = 1;
	}
	for (unsigned i = 0; i < n; i++)
		sf__rect_copy(s->shadow, (size_t)s->width * SF_BYTES_PER_PIXEL, base,
		              stride, &rects[i]);
}

/* Adds n rects (0: the whole surface) to the damage of the frame held
 * (n_held 0: the whole surface).  Returns true when they became one
 * bounding box (past what a message holds), which then has to be taken
 * whole from the latest image. */
static bool held_merge(struct shmframe_surface *s, const struct sf_rect *rects,
                       unsigned n, unsigned max)
{
	struct sf_rect box = { 0 };

	if (n == 0 || s->n_held == 0) {
		s->n_held = 0;
		return false;
	}
	if (s->n_held + n <= max) {
		memcpy(s->held_rects + s->n_held, rects, n * sizeof *rects);
		s->n_held += n;
		return false;
	}
	for (unsigned i = 0; i < s->n_held; i++)
		sf__rect_extend(&box, &s->held_rects[i]);
	for (unsigned i = 0; i < n; i++)
		sf__rect_extend(&box, &rects[i]);
	s->held_rects[0] = box;
	s->n_held = 1;
	return true;
}

int sfc__inline_present(struct shmframe_surface *s, uint32_t serial,
                        const uint8_t *pixels, size_t stride,
                        const struct sf_rect *rects, unsigned n, unsigned max)
{
	struct shmframe_conn *conn = s->conn;

	conn->stats.presents++;
	if (!s->held && s->inflight < PACE_WINDOW)
		return send_frame(s, serial, pixels, stride, rects, n);
	if (!s->shadow) {
		s->shadow = calloc((size_t)s->width * s->height, SF_BYTES_PER_PIXEL);
		if (!s->shadow)
			return sfc__fail(conn, -ENOMEM, "out of memory for a held frame");
	}
	shadow_copy(s, pixels, stride, rects, n);
	if (!s->held) {
		/* At most max already (shmframe_present saw to it). */
		s->held = true;
		memcpy(s->held_rects, rects, n * sizeof *rects);
		s->n_held = n;
	} else if (held_merge(s, rects, n, max)) {
		/* A box of more damage than a message holds is sent from the
		 * image as a whole, as shmframe_present sends one: so the shadow
		 * gets it whole from the latest image. */
		shadow_copy(s, pixels, stride, s->held_rects, 1);
	}
	s->held_serial = serial;
	return 0;
}

/* Serials first .. serial - 1, replaced by serial before they were sent. */
static void report_merged(struct shmframe_surface *s, uint32_t first,
                          uint32_t serial, uint64_t time_ns)
{
	for (uint32_t k = first; k != serial; k++) {
		s->conn->stats.frames_merged++;
		if (SFC_HAS_CALLBACK(s, presented))
			s->listener->presented(s->listener_data, s, k, time_ns, 1);
	}
}

void sfc__inline_before_presented(struct shmframe_surface *s, uint32_t serial,
                                  uint64_t time_ns)
{
	for (unsigned i = 0; i < s->n_merges; i++) {
		if (s->merges[i].serial != serial)
			continue;
		struct sfc_merge m = s->merges[i];

		s->merges[i] = s->merges[--s->n_merges];
		report_merged(s, m.first, m.serial, time_ns);
		return;
	}
}

int sfc__inline_send_held(struct shmframe_surface *s, bool force, bool report)
{
	struct shmframe_conn *conn = s->conn;
	uint32_t serial, first;
	int err;

	if (!s->held || (!force && s->inflight >= PACE_WINDOW))
		return 0;
	if (!sfc__inflight_room(conn)) {
		if (!force)
			return 0;
		/* Events handled meanwhile may send it themselves. */
		err = sfc__wait_inflight_room(conn);
		if (err || !s->held)
			return err;
	}
	serial = s->held_serial;
	first = s->last_sent + 1;
	s->held = false;
	err = send_frame(s, serial, s->shadow,
	                 (size_t)s->width * SF_BYTES_PER_PIXEL, s->held_rects,
	                 s->n_held);
	if (err || !report)
		return err;
	if (first == serial)
		return 0;
	/* The frames it replaced were never sent.  They are reported
	 * discarded just before its own PRESENTED, so that every serial
	 * still comes back once and in order. */
	if (s->n_merges == s->cap_merges) {
		unsigned cap = s->cap_merges ? 2 * s->cap_merges : 4;
		struct sfc_merge *m = realloc(s->merges, cap * sizeof *m);

		if (!m) {
			/* Out of order, rather than never. */
			report_merged(s, first, serial, sf__clock_ns(CLOCK_MONOTONIC));
			return 0;
		}
		s->merges = m;
		s->cap_merges = cap;
	}
	s->merges[s->n_merges++] = (struct sfc_merge){ serial, first };
	return 0;
}

int sfc__inline_send_all_held(struct shmframe_conn *conn, bool report)
{
	for (struct shmframe_surface *s = conn->surfaces; s; s = s->next) {
		int err = sfc__inline_send_held(s, true, report);

		if (err)
			return err;
	}
	return 0;
}

void sfc__inline_resized(struct shmframe_surface *s)
{
	/* Sent before the resize: what is left are the merged serials of
	 * frames still in flight, reported when their PRESENTED comes. */
	free(s->shadow);
	s->shadow = NULL;
}

void sfc__inline_free(struct shmframe_surface *s)
{
	sfc__inline_resized(s);
	s->held = false;
	free(s->merges);
	s->merges = NULL;
	s->n_merges = s->cap_merges = 0;
}
