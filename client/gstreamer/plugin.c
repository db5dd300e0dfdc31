/*
 * plugin.c: the shmframe GStreamer plugin; registers shmframesink.
 */
#include "sink-private.h"

static gboolean plugin_init(GstPlugin *plugin)
{
	return gst_element_register(plugin, "shmframesink", GST_RANK_NONE,
	                            SF_TYPE_SINK);
}

/* The macro leaves the descriptor's reserved members to zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, shmframe,
                  "Video sink to a shmframe display server", plugin_init,
                  SF_PLUGIN_VERSION, "unknown", "shmframe", SF_PLUGIN_ORIGIN)
