/*
 * sink-private.h: what the files of the shmframesink element share.
 *
 * sink.c is the element (states, caps, render), sink-props.c its
 * properties, link.c everything it asks of libshmframe (always under
 * sink->lock), pool.c the buffer pool whose memory is the library's
 * acquired buffers.
 */
#ifndef SF_GST_SINK_PRIVATE_H
#define SF_GST_SINK_PRIVATE_H

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideosink.h>

#include "shmframe.h"

G_BEGIN_DECLS

#define SF_TYPE_SINK (sf__sink_get_type())
G_DECLARE_FINAL_TYPE(SfSink, sf__sink, SF, SINK, GstVideoSink)

#define SF_TYPE_POOL (sf__pool_get_type())
G_DECLARE_FINAL_TYPE(SfPool, sf__pool, SF, POOL, GstBufferPool)

#define SF_TYPE_TRANSPORT (sf__transport_get_type())
GType sf__transport_get_type(void);
#define SF_TYPE_SHM_KIND (sf__shm_kind_get_type())
GType sf__shm_kind_get_type(void);

/* A connection and its surface, shared by the sink (from start to stop)
 * and by every memory of its pool's buffers (their pixels are the
 * surface's): a stop while upstream still holds or fills a pool buffer
 * leaves that memory mapped, and the last reference to go, wherever it
 * goes, destroys the surface and disconnects.  Once the sink let go, no
 * one else calls into it: no lock is needed for the last one. */
struct sf_link {
	gint refs;
	struct shmframe_conn *conn;
	struct shmframe_surface *surface;
};

/* Frames remembered for the latency of their PRESENTED (by serial). */
#define SF_SINK_SERIALS 64

struct _SfSink {
	GstVideoSink parent;

	/* Guards everything below, and every call into libshmframe. */
	GMutex lock;

	/* Properties (set in NULL or READY; read under the lock). */
	gchar *server;
	enum shmframe_transport transport;
	enum shmframe_shm_kind shm;
	guint buffers;
	guint max_lag;

	/* The connection (READY→PAUSED .. PAUSED→READY) and the surface
	 * (from the first caps): one reference, NULL when stopped. */
	struct sf_link *link;
	enum shmframe_format format;
	GstVideoInfo info;
	/* The surface's row stride (the library's, >= width*4: rows are
	 * aligned in shared memory), 0 until known. */
	guint stride;
	gboolean have_info;
	/* Bumped whenever the surface's buffers are remade (resize or a new
	 * surface): pool buffers of an older generation are stale. */
	guint generation;
	/* Buffers acquired from the library and not yet presented or
	 * discarded (the surface cannot be resized while there are any). */
	guint acquired;
	gchar *transport_name;
	gchar *transport_reason;

	/* Kicked (an eventfd) to end a wait for a buffer or for the server,
	 * once flushing (the sink's) or a pool's flushing is set. */
	int wake_fd;
	gboolean flushing;

	/* The buffer shown last (a reference): the preroll frame comes to
	 * render again and is not shown twice. */
	GstBuffer *last_shown;

	/* The pool proposed upstream for the current caps. */
	GstBufferPool *pool;

	/* What was done, for the read-only properties. */
	guint64 zero_copy;
	guint64 copied;
	guint64 shown;
	guint64 discarded;
	guint64 latency_ns;       /* mean present → PRESENTED, smoothed */
	guint64 in_flight;        /* presented, PRESENTED not yet come */
	guint64 submit_ns[SF_SINK_SERIALS];
	guint32 submit_serial[SF_SINK_SERIALS];
};

struct _SfPool {
	GstBufferPool parent;
	SfSink *sink;            /* a reference */
	guint generation;
	gboolean flushing;        /* under sink->lock */
};

/* sink-props.c */
void sf__sink_install_properties(GObjectClass *klass);
void sf__sink_set_property(GObject *object, guint id, const GValue *value,
                           GParamSpec *pspec);
void sf__sink_get_property(GObject *object, guint id, GValue *value,
                           GParamSpec *pspec);

/* link.c: all with sink->lock held. */
int sf__link_connect(SfSink *sink);
/* The sink lets go of its link (the last pool buffer's memory may
 * disconnect later). */
void sf__link_disconnect(SfSink *sink);
struct sf_link *sf__link_ref(struct sf_link *link);
/* Any thread, no lock: a GDestroyNotify. */
void sf__link_unref(gpointer link);
int sf__link_configure(SfSink *sink, const GstVideoInfo *info);
/* Takes a free buffer of the surface, waiting (the lock released while
 * it polls) until the server releases one: GST_FLOW_OK,
 * GST_FLOW_FLUSHING when woken, GST_FLOW_ERROR. */
GstFlowReturn sf__link_acquire(SfSink *sink, const gboolean *stop,
                               struct shmframe_buffer **out,
                               guint8 **pixels, guint *stride);
GstFlowReturn sf__link_present(SfSink *sink, struct shmframe_buffer *buffer);
void sf__link_discard(SfSink *sink, struct shmframe_buffer *buffer);
/* Waits (the lock released) while more than max_lag frames await their
 * PRESENTED. */
GstFlowReturn sf__link_pace(SfSink *sink);
/* Ends a wait of another thread: set the flag it checks first. */
void sf__link_kick(SfSink *sink);

/* pool.c */
GstBufferPool *sf__pool_new(SfSink *sink);
/* The library's buffer behind a buffer of a pool of sink's current
 * generation, else NULL. */
struct shmframe_buffer *sf__pool_buffer_take(SfSink *sink, GstBuffer *buffer);

GST_DEBUG_CATEGORY_EXTERN(sf__sink_debug);
#define GST_CAT_DEFAULT sf__sink_debug

G_END_DECLS

#endif
