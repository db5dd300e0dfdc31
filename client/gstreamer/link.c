/*
 * link.c: what shmframesink asks of libshmframe.  Every function here runs
 * with sink->lock held; the waits release it while they sleep in poll(),
 * so the application thread (properties, state changes) and a second
 * streaming thread (a pool buffer acquired upstream of a queue) are never
 * shut out for long.
 */
#include "sink-private.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static guint64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (guint64)ts.tv_sec * 1000000000u + (guint64)ts.tv_nsec;
}

static void on_log(void *data, enum shmframe_log_level level, const char *msg)
{
	SfSink *sink = data;

	if (level == SHMFRAME_LOG_ERROR)
		GST_WARNING_OBJECT(sink, "libshmframe: %s", msg);
	else
		GST_DEBUG_OBJECT(sink, "libshmframe: %s", msg);
}

/* The server showed (or skipped) a frame: count it, and time it when it
 * is one we remember. */
static void on_presented(void *data, struct shmframe_surface *surface,
                         uint32_t serial, uint64_t time_ns, int discarded)
{
	SfSink *sink = data;
	guint slot = serial % SF_SINK_SERIALS;

	(void)surface;
	if (sink->in_flight > 0)
		sink->in_flight--;
	if (discarded) {
		sink->discarded++;
		return;
	}
	sink->shown++;
	if (sink->submit_serial[slot] == serial && sink->submit_ns[slot] != 0 &&
	    time_ns >= sink->submit_ns[slot]) {
		guint64 lat = time_ns - sink->submit_ns[slot];

		sink->latency_ns = sink->latency_ns == 0 ? lat
		                 : (sink->latency_ns * 7 + lat) / 8;
		sink->submit_ns[slot] = 0;
	}
}

static const struct shmframe_surface_listener listener = {
	.presented = on_presented,
};

static void fail(SfSink *sink, const char *what, int err)
{
	const char *detail = sink->link != NULL
	                   ? shmframe_last_error(sink->link->conn) : "";

	GST_ELEMENT_ERROR(sink, RESOURCE, FAILED, ("%s: %s", what,
	                  shmframe_strerror(err)),
	                  ("%s", detail[0] ? detail : shmframe_strerror(err)));
}

int sf__link_connect(SfSink *sink)
{
	struct shmframe_options opts;
	struct shmframe_conn *conn;
	int err;

	if (sink->wake_fd < 0) {
		sink->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (sink->wake_fd < 0) {
			err = -errno;
			fail(sink, "eventfd", err);
			return err;
		}
	}
	shmframe_options_init(&opts);
	opts.transport = sink->transport;
	opts.shm = sink->shm;
	opts.buffers = sink->buffers;
	opts.name = "shmframesink";
	opts.log = on_log;
	opts.log_data = sink;
	conn = shmframe_connect(sink->server, &opts);
	if (conn == NULL) {
		fail(sink, "cannot connect", -ENOMEM);
		return -ENOMEM;
	}
	sink->link = g_new0(struct sf_link, 1);
	sink->link->refs = 1;
	sink->link->conn = conn;
	err = shmframe_conn_error(conn);
	if (err != 0) {
		GST_ELEMENT_ERROR(sink, RESOURCE, OPEN_WRITE,
		                  ("cannot connect to the shmframe server %s",
		                   sink->server ? sink->server : "(default)"),
		                  ("%s", shmframe_last_error(conn)));
		sf__link_disconnect(sink);
		return err;
	}
	g_free(sink->transport_name);
	g_free(sink->transport_reason);
	sink->transport_name = g_strdup(shmframe_transport_name(conn));
	sink->transport_reason = g_strdup(shmframe_transport_reason(conn));
	GST_INFO_OBJECT(sink, "connected: %s (%s)", sink->transport_name,
	                sink->transport_reason);
	return 0;
}

struct sf_link *sf__link_ref(struct sf_link *link)
{
	g_atomic_int_inc(&link->refs);
	return link;
}

void sf__link_unref(gpointer data)
{
	struct sf_link *link = data;

	if (!g_atomic_int_dec_and_test(&link->refs))
		return;
	shmframe_surface_destroy(link->surface);
	shmframe_disconnect(link->conn);
	g_free(link);
}

void sf__link_disconnect(SfSink *sink)
{
	struct sf_link *link = sink->link;

	sink->link = NULL;
	if (link != NULL) {
		/* Nothing it does from now on is the sink's business. */
		if (link->surface != NULL)
			shmframe_surface_set_listener(link->surface, NULL, NULL);
		sf__link_unref(link);
	}
	sink->generation++;
	sink->acquired = 0;
	sink->in_flight = 0;
	sink->have_info = FALSE;
}

int sf__link_configure(SfSink *sink, const GstVideoInfo *info)
{
	struct shmframe_surface *surface;
	enum shmframe_format format;
	guint w = (guint)GST_VIDEO_INFO_WIDTH(info);
	guint h = (guint)GST_VIDEO_INFO_HEIGHT(info);
	int err;

	if (sink->link == NULL)
		return -ENOTCONN;
	surface = sink->link->surface;
	format = GST_VIDEO_INFO_FORMAT(info) == GST_VIDEO_FORMAT_BGRA
	       ? SHMFRAME_FORMAT_ARGB8888 : SHMFRAME_FORMAT_XRGB8888;
	if (surface != NULL && format == sink->format &&
	    shmframe_surface_width(surface) == w &&
	    shmframe_surface_height(surface) == h)
		goto done;
	if (surface != NULL && g_atomic_int_get(&sink->link->refs) > 1) {
		/* Buffers of this surface are still held elsewhere (a tee's
		 * other branch, an element keeping a frame, upstream filling
		 * one): resizing would free the memory under them.  The new
		 * caps get a connection and surface of their own; the old ones
		 * go with their last buffer (and show on the server until
		 * then). */
		GST_INFO_OBJECT(sink, "%d buffers of the surface still held: "
		                "the new caps get a new connection",
		                g_atomic_int_get(&sink->link->refs) - 1);
		sf__link_disconnect(sink);
		err = sf__link_connect(sink);
		if (err < 0)
			return err;
		surface = NULL;
	}
	if (surface != NULL && format == sink->format) {
		err = shmframe_surface_resize(surface, w, h, 0);
		if (err < 0) {
			fail(sink, "cannot resize the surface", err);
			return err;
		}
		GST_INFO_OBJECT(sink, "surface resized to %ux%u", w, h);
	} else {
		shmframe_surface_destroy(surface);
		sink->link->surface = NULL;
		surface = shmframe_surface_create(sink->link->conn, w, h, format,
		                                  "shmframesink");
		if (surface == NULL) {
			err = -errno;
			fail(sink, "cannot create the surface", err);
			return err;
		}
		sink->link->surface = surface;
		shmframe_surface_set_listener(surface, &listener, sink);
		sink->format = format;
		GST_INFO_OBJECT(sink, "surface %ux%u created", w, h);
	}
	sink->generation++;
	/* The stride of the buffers just made (all free now): what the pool
	 * proposes upstream. */
	sink->stride = 0;
	{
		struct shmframe_buffer *b = shmframe_try_acquire(surface);
		uint32_t s;

		if (b != NULL) {
			(void)shmframe_buffer_pixels(b, &s);
			sink->stride = s;
			shmframe_buffer_discard(surface, b);
		}
	}
done:
	sink->info = *info;
	sink->have_info = TRUE;
	return 0;
}

/* Sleeps until the connection has something to read or the sink is
 * kicked, the lock released meanwhile.  FALSE when told to stop (the sink
 * flushing, or *stop: the pool's own flushing). */
static gboolean wait_events(SfSink *sink, const gboolean *stop)
{
	uint64_t n;
	struct pollfd p[2];
	int err;

	err = shmframe_flush(sink->link->conn);
	if (err < 0 && err != -EAGAIN)
		return TRUE; /* the next call on conn reports it */
	p[0].fd = shmframe_get_fd(sink->link->conn);
	p[0].events = POLLIN | (err == -EAGAIN ? POLLOUT : 0);
	p[1].fd = sink->wake_fd;
	p[1].events = POLLIN;
	g_mutex_unlock(&sink->lock);
	(void)poll(p, 2, 1000);
	g_mutex_lock(&sink->lock);
	/* The flags say why; the kick itself is spent. */
	if ((p[1].revents & POLLIN) && read(sink->wake_fd, &n, sizeof n) < 0)
		GST_LOG_OBJECT(sink, "kick already drained");
	return !sink->flushing && !(stop != NULL && *stop);
}

static GstFlowReturn broken(SfSink *sink, const char *what, int err)
{
	if (sink->flushing)
		return GST_FLOW_FLUSHING;
	fail(sink, what, err);
	return GST_FLOW_ERROR;
}

GstFlowReturn sf__link_acquire(SfSink *sink, const gboolean *stop,
                               struct shmframe_buffer **out,
                               guint8 **pixels, guint *stride)
{
	struct shmframe_buffer *b;
	uint32_t s;
	int n;

	for (;;) {
		if (sink->flushing || (stop != NULL && *stop))
			return GST_FLOW_FLUSHING;
		if (sink->link == NULL || sink->link->surface == NULL)
			return GST_FLOW_NOT_NEGOTIATED;
		b = shmframe_try_acquire(sink->link->surface);
		if (b != NULL)
			break;
		if (errno != EAGAIN)
			return broken(sink, "cannot acquire a buffer", -errno);
		n = shmframe_dispatch(sink->link->conn);
		if (n < 0)
			return broken(sink, "connection lost", n);
		if (n == 0 && !wait_events(sink, stop))
			return GST_FLOW_FLUSHING;
	}
	*pixels = shmframe_buffer_pixels(b, &s);
	*stride = s;
	sink->stride = s;
	*out = b;
	sink->acquired++;
	return GST_FLOW_OK;
}

GstFlowReturn sf__link_present(SfSink *sink, struct shmframe_buffer *buffer)
{
	uint32_t serial;
	guint slot;
	int err;

	sink->acquired--;
	err = shmframe_present(sink->link->surface, buffer, NULL, 0, &serial);
	if (err < 0)
		return broken(sink, "cannot present", err);
	slot = serial % SF_SINK_SERIALS;
	sink->submit_serial[slot] = serial;
	sink->submit_ns[slot] = now_ns();
	sink->in_flight++;
	/* Events that came with it (RELEASE, PRESENTED) are handled now, so
	 * that the next acquire seldom waits. */
	err = shmframe_dispatch(sink->link->conn);
	if (err < 0)
		return broken(sink, "connection lost", err);
	return GST_FLOW_OK;
}

void sf__link_discard(SfSink *sink, struct shmframe_buffer *buffer)
{
	sink->acquired--;
	shmframe_buffer_discard(sink->link->surface, buffer);
}

GstFlowReturn sf__link_pace(SfSink *sink)
{
	int n;

	while (sink->max_lag > 0 && sink->in_flight > sink->max_lag) {
		n = shmframe_dispatch(sink->link->conn);
		if (n < 0)
			return broken(sink, "connection lost", n);
		if (n == 0 && !wait_events(sink, NULL))
			return GST_FLOW_FLUSHING;
	}
	return GST_FLOW_OK;
}

void sf__link_kick(SfSink *sink)
{
	uint64_t one = 1;

	if (sink->wake_fd >= 0 && write(sink->wake_fd, &one, sizeof one) < 0)
		GST_DEBUG_OBJECT(sink, "kick: %s", g_strerror(errno));
}
