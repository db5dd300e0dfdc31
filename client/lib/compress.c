/*
 * Which codec socket frames go with, and why (shmframe_compression):
 * the caller's choice, what the server offers, and under AUTO the link
 * as measured while frames are sent.  Also the connection's statistics.
 *
 * AUTO's rule: compressing pays when compressing the frame and sending
 * the smaller result takes less time than sending it raw, that is when
 * the link carries fewer than lz4_rate * (1 - 1/ratio) bytes a second.
 * TCP to another host is taken to be such a link from the start.  A
 * local one (a Unix socket, loopback TCP) is the same host when the
 * socket was asked for, and then never compressed unless a codec is
 * asked for too; when the probe found no shared memory there, a proxy,
 * an SSH forward or a container is on the other end, and the link is
 * measured: a raw frame's bytes over the time from its send to its
 * PRESENTED (the kernel's buffers, which can hold megabytes, cannot hide
 * the link from that), against lz4's rate and ratio on a sample of the
 * frames.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <lz4.h>

#include "client-private.h"
#include "clock.h"

/* Frames between two lz4 samples under AUTO on a forwarded link. */
#define SAMPLE_EVERY 16u
/* A sample's bytes at most: one block. */
#define SAMPLE_MAX SF_BLOCK_MAX
/* Weight of a new measurement in the running rates. */
#define EWMA 0.25

/* LINK_LOCAL: a Unix socket or loopback TCP; LINK_FORWARDED: one of
 * those on which the probe found no shared memory. */
enum link_kind { LINK_LOCAL, LINK_FORWARDED, LINK_REMOTE };

struct sfc_compress {
	uint32_t codec;               /* enum sf_codec of the next frame */
	uint32_t offered;             /* 1 << codec the server decodes */
	enum link_kind link;
	char reason[SF_REASON_TEXT];
	/* AUTO on a forwarded socket: what was measured (bytes per second; 0:
	 * not yet). */
	double link_rate, lz4_rate, lz4_ratio;
	uint8_t *sample;
	/* The raw frame being timed: surface id and serial (0: none), when
	 * its send began, its bytes. */
	uint32_t timed_surface, timed_serial;
	uint64_t timed_t0, timed_bytes;
	struct sf_blocks_out out;     /* PUT_IMAGE blocks */
};

static void set_reason(struct sfc_compress *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_reason(struct sfc_compress *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof c->reason, fmt, ap);
	va_end(ap);
}

static enum link_kind link_kind(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return LINK_LOCAL;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127 ? LINK_LOCAL
		                                                 : LINK_REMOTE;
	}
	if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;

		if (IN6_IS_ADDR_LOOPBACK(a) ||
		    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127))
			return LINK_LOCAL;
		return LINK_REMOTE;
	}
	return LINK_LOCAL;
}

static uint32_t codec_of(enum shmframe_compress c)
{
	return c == SHMFRAME_COMPRESS_LZ4 ? SF_CODEC_LZ4
	       : c == SHMFRAME_COMPRESS_ZSTD ? SF_CODEC_ZSTD : SF_CODEC_NONE;
}

/* What the server offers: the codecs of its WELCOME (protocol 2.3). */
static uint32_t offered(const struct shmframe_conn *conn)
{
	uint32_t bits = 0;

	if (conn->welcome.minor < 3)
		return 0;
	if (conn->welcome.caps & SF_CAP_LZ4)
		bits |= 1u << SF_CODEC_LZ4;
	if (conn->welcome.caps & SF_CAP_ZSTD)
		bits |= 1u << SF_CODEC_ZSTD;
	return bits & sf__codecs_built();
}

int sfc__compress_setup(struct shmframe_conn *conn)
{
	struct sfc_compress *c = calloc(1, sizeof *c);
	enum shmframe_compress want = conn->opts.compress;

	if (!c)
		return sfc__fail(conn, -ENOMEM, "out of memory");
	conn->compress = c;
	sf__blocks_out_init(&c->out);
	c->offered = offered(conn);
	c->link = link_kind(conn->fd);
	if (c->link == LINK_LOCAL && conn->transport == SHMFRAME_TRANSPORT_SOCKET &&
	    conn->opts.transport != SHMFRAME_TRANSPORT_SOCKET)
		c->link = LINK_FORWARDED;
	c->codec = SF_CODEC_NONE;
	if (conn->transport == SHMFRAME_TRANSPORT_SHM) {
		set_reason(c, "none: shared memory");
	} else if (want == SHMFRAME_COMPRESS_NONE) {
		set_reason(c, "none: asked for");
	} else if (!c->offered) {
		set_reason(c, "none: the server offers no codec (protocol %u.%u)",
		           conn->welcome.major, conn->welcome.minor);
	} else if (want != SHMFRAME_COMPRESS_AUTO) {
		uint32_t codec = codec_of(want);

		if (c->offered & 1u << codec) {
			c->codec = codec;
			set_reason(c, "%s: asked for", sf__codec_name(codec));
		} else {
			set_reason(c, "none: %s asked for, the server does not offer it",
			           sf__codec_name(codec));
		}
	} else if (!(c->offered & 1u << SF_CODEC_LZ4)) {
		set_reason(c, "none: auto uses lz4, which the server does not offer");
	} else if (c->link == LINK_REMOTE) {
		c->codec = SF_CODEC_LZ4;
		set_reason(c, "lz4: TCP to another host");
	} else if (c->link == LINK_LOCAL) {
		set_reason(c, "none: the socket was asked for on a local link "
		           "(the same host)");
	} else {
		set_reason(c, "none: no shared memory on a local socket (a proxy "
		           "or a forward?): the link is not measured yet");
	}
	return 0;
}

void sfc__compress_free(struct shmframe_conn *conn)
{
	struct sfc_compress *c = conn->compress;

	if (!c)
		return;
	sf__blocks_out_free(&c->out);
	free(c->sample);
	free(c);
	conn->compress = NULL;
}

static void decide(struct sfc_compress *c)
{
	double pays = c->lz4_rate * (1.0 - 1.0 / c->lz4_ratio);

	c->codec = c->link_rate < pays ? SF_CODEC_LZ4 : SF_CODEC_NONE;
	set_reason(c, "%s: the link (%.0f MB/s) is %s than lz4 makes worth it "
	           "(%.0f MB/s in, %.1fx smaller)", sf__codec_name(c->codec),
	           c->link_rate / 1e6, c->codec ? "slower" : "faster",
	           c->lz4_rate / 1e6, c->lz4_ratio);
}

/* Times lz4 on the first block of the frame. */
static void sample_lz4(struct sfc_compress *c, const uint8_t *base,
                       size_t stride, const struct sf_rect *r)
{
	size_t rb = (size_t)r->width * SF_BYTES_PER_PIXEL;
	struct sf_rect first = *r;
	size_t raw;
	uint64_t t0;
	int n;

	if (first.height > SAMPLE_MAX / rb)
		first.height = (uint32_t)(SAMPLE_MAX / rb);
	raw = first.height * rb;
	if (raw < 4096)
		return;
	if (!c->sample && !(c->sample = malloc(LZ4_compressBound(SAMPLE_MAX) +
	                                       SAMPLE_MAX)))
		return;
	uint8_t *src = c->sample + LZ4_compressBound(SAMPLE_MAX);

	sf__rect_pack(src, base, stride, &first);
	t0 = sf__clock_ns(CLOCK_THREAD_CPUTIME_ID);
	n = LZ4_compress_default((const char *)src, (char *)c->sample, (int)raw,
	                         LZ4_compressBound(SAMPLE_MAX));
	uint64_t ns = sf__clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	if (n <= 0)
		return;
	double rate = ns ? raw * 1e9 / (double)ns : 1e12;
	double ratio = (double)raw / n;

	c->lz4_rate = c->lz4_rate > 0 ? (1 - EWMA) * c->lz4_rate + EWMA * rate : rate;
	c->lz4_ratio = c->lz4_ratio > 0 ? (1 - EWMA) * c->lz4_ratio + EWMA * ratio
	                                : ratio;
}

uint32_t sfc__compress_codec(struct shmframe_conn *conn, const uint8_t *base,
                             size_t stride, const struct sf_rect *rects,
                             uint32_t n)
{
	struct sfc_compress *c = conn->compress;

	if (!c)
		return SF_CODEC_NONE;
	if (conn->opts.compress == SHMFRAME_COMPRESS_AUTO && c->link == LINK_FORWARDED &&
	    (c->offered & 1u << SF_CODEC_LZ4) && n > 0) {
		if (conn->stats.frames_sent % SAMPLE_EVERY == 0)
			sample_lz4(c, base, stride, &rects[0]);
		/* Once both sides of the rule are measured. */
		if (c->lz4_rate > 0 && c->link_rate > 0)
			decide(c);
	}
	return c->codec;
}

void sfc__compress_sent(struct shmframe_conn *conn, uint32_t surface,
                        uint32_t serial, uint64_t bytes, uint64_t t0)
{
	struct sfc_compress *c = conn->compress;

	if (!c || c->link != LINK_FORWARDED || c->timed_serial ||
	    c->codec != SF_CODEC_NONE || bytes < SAMPLE_MAX / 4)
		return;
	c->timed_surface = surface;
	c->timed_serial = serial;
	c->timed_t0 = t0;
	c->timed_bytes = bytes;
}

void sfc__compress_presented(struct shmframe_conn *conn, uint32_t surface,
                             uint32_t serial)
{
	struct sfc_compress *c = conn->compress;
	uint64_t ns;
	double rate;

	if (!c || !c->timed_serial || c->timed_surface != surface ||
	    c->timed_serial != serial)
		return;
	c->timed_serial = 0;
	ns = sf__clock_ns(CLOCK_MONOTONIC) - c->timed_t0;
	if (ns == 0)
		return;
	rate = c->timed_bytes * 1e9 / (double)ns;
	c->link_rate = c->link_rate > 0 ? (1 - EWMA) * c->link_rate + EWMA * rate
	                                : rate;
}

void sfc__compress_surface_gone(struct shmframe_conn *conn, uint32_t surface)
{
	struct sfc_compress *c = conn->compress;

	if (c && c->timed_serial && c->timed_surface == surface)
		c->timed_serial = 0;
}

uint32_t sfc__compress_current(const struct shmframe_conn *conn)
{
	return conn->compress ? conn->compress->codec : SF_CODEC_NONE;
}

struct sf_blocks_out *sfc__compress_out(struct shmframe_conn *conn)
{
	return &conn->compress->out;
}

uint32_t sfc__compress_offered(const struct shmframe_conn *conn)
{
	return conn->compress ? conn->compress->offered : 0;
}

SHMFRAME_EXPORT enum shmframe_compress
shmframe_compression(const struct shmframe_conn *conn)
{
	if (!conn || !conn->compress)
		return SHMFRAME_COMPRESS_NONE;
	switch (conn->compress->codec) {
	case SF_CODEC_LZ4: return SHMFRAME_COMPRESS_LZ4;
	case SF_CODEC_ZSTD: return SHMFRAME_COMPRESS_ZSTD;
	}
	return SHMFRAME_COMPRESS_NONE;
}

SHMFRAME_EXPORT const char *
shmframe_compression_reason(const struct shmframe_conn *conn)
{
	if (!conn || !conn->compress)
		return "none: not connected";
	return conn->compress->reason;
}

SHMFRAME_EXPORT int shmframe_get_stats_sized(const struct shmframe_conn *conn,
                                             struct shmframe_stats *stats,
                                             size_t size)
{
	if (!conn || !stats)
		return -EINVAL;
	memset(stats, 0, size);
	memcpy(stats, &conn->stats, size < sizeof conn->stats ? size
	                                                      : sizeof conn->stats);
	return 0;
}

/* Without the macro: the struct as 1.4 published it, 8 counters. */
#undef shmframe_get_stats
SHMFRAME_EXPORT int shmframe_get_stats(const struct shmframe_conn *conn,
                                       struct shmframe_stats *stats)
{
	return shmframe_get_stats_sized(conn, stats, 8 * sizeof(uint64_t));
}
