/*
 * sink.c: the shmframesink element.  Connects to the server on
 * READY→PAUSED and disconnects on the way back; makes (or resizes) its
 * surface from the caps; offers upstream a pool whose buffers are the
 * surface's own (pool.c) and presents those without a copy, copying any
 * other buffer into one; and, from the server's PRESENTED events, holds
 * render back while the server lags.
 */
#include "sink-private.h"

#include <unistd.h>

GST_DEBUG_CATEGORY(sf__sink_debug);

G_DEFINE_TYPE(SfSink, sf__sink, GST_TYPE_VIDEO_SINK)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE("sink",
	GST_PAD_SINK, GST_PAD_ALWAYS,
	GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("{ BGRx, BGRA }")));

/* Swaps the frame shown last for buf (a reference taken, NULL for none)
 * with sink->lock held, and returns the old one: the caller unrefs it
 * after unlocking, since a pool buffer's release takes the lock. */
static GstBuffer *swap_last_shown(SfSink *sink, GstBuffer *buf)
{
	GstBuffer *old = sink->last_shown;

	sink->last_shown = buf != NULL ? gst_buffer_ref(buf) : NULL;
	return old;
}

/* Lets go of what swap_last_shown() and a replaced pool left, after
 * sink->lock is released. */
static void unref_unlocked(GstBuffer *old, GstBufferPool *pool)
{
	if (old != NULL)
		gst_buffer_unref(old);
	if (pool != NULL)
		gst_object_unref(pool);
}

static gboolean sink_start(GstBaseSink *bsink)
{
	SfSink *sink = SF_SINK(bsink);
	int err;

	g_mutex_lock(&sink->lock);
	sink->zero_copy = sink->copied = sink->shown = sink->discarded = 0;
	sink->latency_ns = 0;
	sink->flushing = FALSE;
	err = sf__link_connect(sink);
	g_mutex_unlock(&sink->lock);
	return err == 0;
}

static gboolean sink_stop(GstBaseSink *bsink)
{
	SfSink *sink = SF_SINK(bsink);
	GstBufferPool *pool;
	GstBuffer *old;

	g_mutex_lock(&sink->lock);
	/* A thread upstream may wait in the pool for a buffer: it ends.  One
	 * that holds one (or fills it) keeps the link, and its memory, until
	 * it lets the buffer go. */
	sink->flushing = TRUE;
	sf__link_kick(sink);
	sf__link_disconnect(sink);
	old = swap_last_shown(sink, NULL);
	pool = sink->pool;
	sink->pool = NULL;
	g_mutex_unlock(&sink->lock);
	unref_unlocked(old, pool);
	return TRUE;
}

static gboolean sink_set_info(GstVideoSink *vsink, GstCaps *caps,
                              const GstVideoInfo *info)
{
	SfSink *sink = SF_SINK(vsink);
	GstBufferPool *pool = NULL;
	GstBuffer *old;
	int err;

	GST_DEBUG_OBJECT(sink, "caps %" GST_PTR_FORMAT, caps);
	/* The frame shown last goes first (its release takes the lock), so
	 * that what still holds the surface's buffers is someone else. */
	g_mutex_lock(&sink->lock);
	old = swap_last_shown(sink, NULL);
	g_mutex_unlock(&sink->lock);
	unref_unlocked(old, NULL);
	g_mutex_lock(&sink->lock);
	err = sf__link_configure(sink, info);
	if (err == 0 && sink->pool != NULL &&
	    SF_POOL(sink->pool)->generation != sink->generation) {
		pool = sink->pool;
		sink->pool = NULL;
	}
	g_mutex_unlock(&sink->lock);
	unref_unlocked(NULL, pool);
	return err == 0;
}

static gboolean sink_propose_allocation(GstBaseSink *bsink, GstQuery *query)
{
	SfSink *sink = SF_SINK(bsink);
	GstBufferPool *pool = NULL;
	GstStructure *config;
	GstVideoInfo info;
	GstCaps *caps;
	gboolean need_pool;
	guint size;

	gst_query_parse_allocation(query, &caps, &need_pool);
	if (caps == NULL || !gst_video_info_from_caps(&info, caps))
		return FALSE;
	gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, NULL);
	size = (guint)GST_VIDEO_INFO_SIZE(&info);

	g_mutex_lock(&sink->lock);
	/* Only for the caps the surface has now. */
	if (sink->have_info && need_pool &&
	    GST_VIDEO_INFO_FORMAT(&info) == GST_VIDEO_INFO_FORMAT(&sink->info) &&
	    info.width == sink->info.width && info.height == sink->info.height) {
		if (sink->pool == NULL)
			sink->pool = sf__pool_new(sink);
		pool = gst_object_ref(sink->pool);
		/* Its buffers are rows of the surface's stride (the video meta
		 * says so), which may be more than width*4. */
		if (sink->stride != 0)
			size = sink->stride * (guint)GST_VIDEO_INFO_HEIGHT(&info);
	}
	g_mutex_unlock(&sink->lock);
	if (pool == NULL) {
		gst_query_add_allocation_pool(query, NULL, size, 0, 0);
		return TRUE;
	}
	if (!gst_buffer_pool_is_active(pool)) {
		config = gst_buffer_pool_get_config(pool);
		gst_buffer_pool_config_set_params(config, caps, size, 0, 0);
		gst_buffer_pool_config_add_option(config,
		                                  GST_BUFFER_POOL_OPTION_VIDEO_META);
		if (!gst_buffer_pool_set_config(pool, config))
			GST_WARNING_OBJECT(sink, "pool refused its config");
	}
	gst_query_add_allocation_pool(query, pool, size, 0, 0);
	gst_object_unref(pool);
	return TRUE;
}

/* A buffer from elsewhere: copied into one of the surface's. */
static GstFlowReturn copy_frame(SfSink *sink, GstBuffer *buf)
{
	struct shmframe_buffer *sb;
	GstVideoFrame frame;
	GstFlowReturn ret;
	guint8 *dst, *src;
	guint stride, row, h, len;
	gint sstride;

	if (!gst_video_frame_map(&frame, &sink->info, buf, GST_MAP_READ)) {
		GST_ELEMENT_ERROR(sink, STREAM, FAILED,
		                  ("cannot map the buffer"), (NULL));
		return GST_FLOW_ERROR;
	}
	ret = sf__link_acquire(sink, NULL, &sb, &dst, &stride);
	if (ret != GST_FLOW_OK)
		goto unmap;
	src = GST_VIDEO_FRAME_PLANE_DATA(&frame, 0);
	sstride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
	h = (guint)GST_VIDEO_FRAME_HEIGHT(&frame);
	len = (guint)GST_VIDEO_FRAME_WIDTH(&frame) * 4;
	for (row = 0; row < h; row++)
		memcpy(dst + (gsize)row * stride, src + (gssize)row * sstride, len);
	ret = sf__link_present(sink, sb);
	if (ret == GST_FLOW_OK)
		sink->copied++;
unmap:
	gst_video_frame_unmap(&frame);
	return ret;
}

static GstFlowReturn sink_show_frame(GstVideoSink *vsink, GstBuffer *buf)
{
	SfSink *sink = SF_SINK(vsink);
	struct shmframe_buffer *sb;
	GstBuffer *old = NULL;
	GstFlowReturn ret;

	g_mutex_lock(&sink->lock);
	if (sink->link == NULL || sink->link->surface == NULL ||
	    !sink->have_info) {
		g_mutex_unlock(&sink->lock);
		return GST_FLOW_NOT_NEGOTIATED;
	}
	/* The preroll frame comes again to render: it is on the server. */
	if (buf == sink->last_shown) {
		g_mutex_unlock(&sink->lock);
		return GST_FLOW_OK;
	}
	sb = sf__pool_buffer_take(sink, buf);
	if (sb != NULL) {
		ret = sf__link_present(sink, sb);
		if (ret == GST_FLOW_OK)
			sink->zero_copy++;
	} else {
		ret = copy_frame(sink, buf);
	}
	if (ret == GST_FLOW_OK) {
		old = swap_last_shown(sink, buf);
		ret = sf__link_pace(sink);
	}
	g_mutex_unlock(&sink->lock);
	unref_unlocked(old, NULL);
	return ret;
}

/* At the end of the stream every frame reaches the server before the
 * EOS goes on (disconnecting would drop a frame held for the link). */
static gboolean sink_event(GstBaseSink *bsink, GstEvent *event)
{
	SfSink *sink = SF_SINK(bsink);
	int err = 0;

	if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
		g_mutex_lock(&sink->lock);
		if (sink->link != NULL)
			err = shmframe_roundtrip(sink->link->conn);
		g_mutex_unlock(&sink->lock);
		if (err < 0)
			GST_WARNING_OBJECT(sink, "roundtrip at EOS: %s",
			                   shmframe_strerror(err));
	}
	return GST_BASE_SINK_CLASS(sf__sink_parent_class)->event(bsink, event);
}

static gboolean sink_unlock(GstBaseSink *bsink)
{
	SfSink *sink = SF_SINK(bsink);

	g_mutex_lock(&sink->lock);
	sink->flushing = TRUE;
	sf__link_kick(sink);
	g_mutex_unlock(&sink->lock);
	return TRUE;
}

static gboolean sink_unlock_stop(GstBaseSink *bsink)
{
	SfSink *sink = SF_SINK(bsink);

	g_mutex_lock(&sink->lock);
	sink->flushing = FALSE;
	g_mutex_unlock(&sink->lock);
	return TRUE;
}

static void sink_finalize(GObject *object)
{
	SfSink *sink = SF_SINK(object);

	sf__link_disconnect(sink);
	gst_buffer_replace(&sink->last_shown, NULL);
	if (sink->pool != NULL)
		gst_object_unref(sink->pool);
	if (sink->wake_fd >= 0)
		close(sink->wake_fd);
	g_free(sink->server);
	g_free(sink->transport_name);
	g_free(sink->transport_reason);
	g_mutex_clear(&sink->lock);
	G_OBJECT_CLASS(sf__sink_parent_class)->finalize(object);
}

static void sf__sink_class_init(SfSinkClass *klass)
{
	GObjectClass *oclass = G_OBJECT_CLASS(klass);
	GstElementClass *eclass = GST_ELEMENT_CLASS(klass);
	GstBaseSinkClass *bclass = GST_BASE_SINK_CLASS(klass);
	GstVideoSinkClass *vclass = GST_VIDEO_SINK_CLASS(klass);

	oclass->set_property = sf__sink_set_property;
	oclass->get_property = sf__sink_get_property;
	oclass->finalize = sink_finalize;
	sf__sink_install_properties(oclass);

	gst_element_class_set_static_metadata(eclass,
		"shmframe video sink", "Sink/Video",
		"Shows video on a shmframe server's surface.  Upstream renders "
		"straight into the surface's shared buffers (a pool proposed in "
		"the allocation query; buffers from elsewhere are copied), so a "
		"frame crosses no copy on its way to the server.  Pacing: the "
		"server's PRESENTED events say when each frame was shown; render "
		"waits while more than max-lag frames are not shown yet, so a "
		"slow display slows the pipeline (and basesink's QoS tells "
		"upstream) instead of queueing frames, and display-latency "
		"reports present-to-shown time.",
		"shmframe developers");
	gst_element_class_add_static_pad_template(eclass, &sink_template);

	bclass->start = sink_start;
	bclass->stop = sink_stop;
	bclass->propose_allocation = sink_propose_allocation;
	bclass->event = sink_event;
	bclass->unlock = sink_unlock;
	bclass->unlock_stop = sink_unlock_stop;
	vclass->set_info = sink_set_info;
	vclass->show_frame = sink_show_frame;
	GST_DEBUG_CATEGORY_INIT(sf__sink_debug, "shmframesink", 0,
	                        "shmframe video sink");
}

static void sf__sink_init(SfSink *sink)
{
	g_mutex_init(&sink->lock);
	{
		/* The environment's default, as the library reads it. */
		struct shmframe_options opts;

		shmframe_options_init(&opts);
		sink->transport = opts.transport;
	}
	sink->buffers = 3;
	sink->max_lag = 2;
	sink->wake_fd = -1;
	/* A presented buffer is the server's until it releases it: basesink
	 * must not keep it as its last sample. */
	gst_base_sink_set_last_sample_enabled(GST_BASE_SINK(sink), FALSE);
}
