/*
 * pool.c: the buffer pool shmframesink offers upstream.  Its buffers are
 * made on acquire around a buffer acquired from libshmframe (its pixels,
 * its stride in a GstVideoMeta), so upstream renders straight into the
 * shared memory the server reads; the sink then presents that buffer
 * without a copy.  There is no free list: a buffer is free again when the
 * server releases it (the library's RELEASE), which is exactly when
 * shmframe_try_acquire hands it out again.  A buffer that comes back
 * unpresented (dropped, flushed) is discarded to the library.  Each
 * buffer's memory holds a reference to the sink's link (connection and
 * surface): it stays mapped when the sink stops first, and the last of
 * them to be freed disconnects.
 */
#include "sink-private.h"

G_DEFINE_TYPE(SfPool, sf__pool, GST_TYPE_BUFFER_POOL)

/* What a pool buffer carries: the library's buffer until it is presented
 * or discarded, and the surface generation it belongs to. */
struct mark {
	struct shmframe_buffer *buffer;
	guint generation;
};

static GQuark mark_quark(void)
{
	static GQuark q;

	if (q == 0)
		q = g_quark_from_static_string("shmframe-buffer");
	return q;
}

static const gchar **get_options(GstBufferPool *pool)
{
	static const gchar *options[] = { GST_BUFFER_POOL_OPTION_VIDEO_META,
	                                  NULL };

	(void)pool;
	return options;
}

/* Nothing to make ahead: the library already holds the buffers. */
static gboolean pool_start(GstBufferPool *pool)
{
	(void)pool;
	return TRUE;
}

static GstFlowReturn pool_acquire(GstBufferPool *bpool, GstBuffer **out,
                                  GstBufferPoolAcquireParams *params)
{
	SfPool *pool = SF_POOL(bpool);
	SfSink *sink = pool->sink;
	struct shmframe_buffer *sb;
	struct mark *mark;
	GstBuffer *buf;
	GstMemory *mem;
	struct sf_link *link = NULL;
	GstFlowReturn ret;
	guint8 *pixels;
	guint stride, w, h;
	gsize size;

	(void)params;
	g_mutex_lock(&sink->lock);
	if (pool->generation != sink->generation || !sink->have_info) {
		g_mutex_unlock(&sink->lock);
		return GST_FLOW_NOT_NEGOTIATED;
	}
	ret = sf__link_acquire(sink, &pool->flushing, &sb, &pixels, &stride);
	if (ret == GST_FLOW_OK && pool->generation != sink->generation) {
		/* The surface changed while we waited. */
		sf__link_discard(sink, sb);
		ret = GST_FLOW_NOT_NEGOTIATED;
	}
	if (ret == GST_FLOW_OK)
		link = sf__link_ref(sink->link);
	w = (guint)GST_VIDEO_INFO_WIDTH(&sink->info);
	h = (guint)GST_VIDEO_INFO_HEIGHT(&sink->info);
	g_mutex_unlock(&sink->lock);
	if (ret != GST_FLOW_OK)
		return ret;

	size = (gsize)stride * h;
	buf = gst_buffer_new();
	mem = gst_memory_new_wrapped(0, pixels, size, 0, size, link,
	                             sf__link_unref);
	gst_buffer_append_memory(buf, mem);
	{
		gsize offsets[GST_VIDEO_MAX_PLANES] = { 0 };
		gint strides[GST_VIDEO_MAX_PLANES] = { (gint)stride };

		gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE,
		                               GST_VIDEO_INFO_FORMAT(&sink->info),
		                               w, h, 1, offsets, strides);
	}
	mark = g_new(struct mark, 1);
	mark->buffer = sb;
	mark->generation = pool->generation;
	gst_mini_object_set_qdata(GST_MINI_OBJECT(buf), mark_quark(), mark,
	                          g_free);
	*out = buf;
	return GST_FLOW_OK;
}

/* Back from upstream or the sink: discard what was never presented, then
 * free the wrapper (the library's buffer lives on). */
static void pool_release(GstBufferPool *bpool, GstBuffer *buf)
{
	SfPool *pool = SF_POOL(bpool);
	SfSink *sink = pool->sink;
	struct mark *mark;

	mark = gst_mini_object_get_qdata(GST_MINI_OBJECT(buf), mark_quark());
	g_mutex_lock(&sink->lock);
	if (mark != NULL && mark->buffer != NULL &&
	    mark->generation == sink->generation && sink->link != NULL)
		sf__link_discard(sink, mark->buffer);
	if (mark != NULL)
		mark->buffer = NULL;
	g_mutex_unlock(&sink->lock);
	gst_buffer_unref(buf);
}

/* Flushing a pool (or deactivating it) ends the waits in it alone: the
 * next pool may already serve upstream. */
static void pool_flush_start(GstBufferPool *bpool)
{
	SfPool *pool = SF_POOL(bpool);

	g_mutex_lock(&pool->sink->lock);
	pool->flushing = TRUE;
	sf__link_kick(pool->sink);
	g_mutex_unlock(&pool->sink->lock);
}

static void pool_flush_stop(GstBufferPool *bpool)
{
	SfPool *pool = SF_POOL(bpool);

	g_mutex_lock(&pool->sink->lock);
	pool->flushing = FALSE;
	g_mutex_unlock(&pool->sink->lock);
}

static void pool_finalize(GObject *object)
{
	SfPool *pool = SF_POOL(object);

	gst_object_unref(pool->sink);
	G_OBJECT_CLASS(sf__pool_parent_class)->finalize(object);
}

static void sf__pool_class_init(SfPoolClass *klass)
{
	GObjectClass *oclass = G_OBJECT_CLASS(klass);
	GstBufferPoolClass *pclass = GST_BUFFER_POOL_CLASS(klass);

	oclass->finalize = pool_finalize;
	pclass->get_options = get_options;
	pclass->start = pool_start;
	pclass->acquire_buffer = pool_acquire;
	pclass->release_buffer = pool_release;
	pclass->flush_start = pool_flush_start;
	pclass->flush_stop = pool_flush_stop;
}

static void sf__pool_init(SfPool *pool)
{
	(void)pool;
}

/* With sink->lock held. */
GstBufferPool *sf__pool_new(SfSink *sink)
{
	SfPool *pool = g_object_new(SF_TYPE_POOL, NULL);

	gst_object_ref_sink(pool);
	pool->sink = gst_object_ref(sink);
	pool->generation = sink->generation;
	return GST_BUFFER_POOL(pool);
}

struct shmframe_buffer *sf__pool_buffer_take(SfSink *sink, GstBuffer *buf)
{
	struct shmframe_buffer *sb;
	struct mark *mark;

	if (buf->pool == NULL || !SF_IS_POOL(buf->pool) ||
	    SF_POOL(buf->pool)->sink != sink)
		return NULL;
	mark = gst_mini_object_get_qdata(GST_MINI_OBJECT(buf), mark_quark());
	if (mark == NULL || mark->buffer == NULL ||
	    mark->generation != sink->generation)
		return NULL;
	sb = mark->buffer;
	mark->buffer = NULL;
	return sb;
}
