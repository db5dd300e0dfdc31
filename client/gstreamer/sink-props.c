/*
 * sink-props.c: the properties of shmframesink, what gst-inspect-1.0
 * shows of them, and their getters and setters.  The ones that choose the
 * connection take effect at the next READY→PAUSED; the read-only ones
 * tell what the current (or last) connection did.
 */
#include "sink-private.h"

enum {
	PROP_0,
	PROP_SERVER,
	PROP_TRANSPORT,
	PROP_SHM,
	PROP_BUFFERS,
	PROP_MAX_LAG,
	PROP_TRANSPORT_NAME,
	PROP_TRANSPORT_REASON,
	PROP_FRAMES_ZERO_COPY,
	PROP_FRAMES_COPIED,
	PROP_FRAMES_SHOWN,
	PROP_FRAMES_DISCARDED,
	PROP_LATENCY,
};

GType sf__transport_get_type(void)
{
	static gsize type;
	static const GEnumValue values[] = {
		{ SHMFRAME_TRANSPORT_AUTO, "Shared memory when the server shares "
		  "it, else the socket", "auto" },
		{ SHMFRAME_TRANSPORT_SHM, "Shared memory, or fail", "shm" },
		{ SHMFRAME_TRANSPORT_SOCKET, "Pixels on the socket", "socket" },
		{ 0, NULL, NULL },
	};

	if (g_once_init_enter(&type)) {
		GType t = g_enum_register_static("SfSinkTransport", values);

		g_once_init_leave(&type, t);
	}
	return (GType)type;
}

GType sf__shm_kind_get_type(void)
{
	static gsize type;
	static const GEnumValue values[] = {
		{ SHMFRAME_SHM_ANY, "The first that passes the probe: memfd, "
		  "posix, sysv", "any" },
		{ SHMFRAME_SHM_MEMFD, "memfd_create, passed on the socket", "memfd" },
		{ SHMFRAME_SHM_POSIX, "shm_open", "posix" },
		{ SHMFRAME_SHM_SYSV, "System V shmget", "sysv" },
		{ 0, NULL, NULL },
	};

	if (g_once_init_enter(&type)) {
		GType t = g_enum_register_static("SfSinkShmKind", values);

		g_once_init_leave(&type, t);
	}
	return (GType)type;
}

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
            GST_PARAM_MUTABLE_READY)
#define RO (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)

void sf__sink_install_properties(GObjectClass *klass)
{
	g_object_class_install_property(klass, PROP_SERVER,
		g_param_spec_string("server", "Server",
			"Address of the shmframe server: unix:PATH, tcp:HOST:PORT "
			"or :N (NULL: $SHMFRAME_SERVER, else :0)", NULL, RW));
	g_object_class_install_property(klass, PROP_TRANSPORT,
		g_param_spec_enum("transport", "Transport",
			"How the pixels travel (the default follows "
			"$SHMFRAME_TRANSPORT, else auto)", SF_TYPE_TRANSPORT,
			SHMFRAME_TRANSPORT_AUTO, RW));
	g_object_class_install_property(klass, PROP_SHM,
		g_param_spec_enum("shm", "Shared memory kind",
			"Kind of shared memory to use", SF_TYPE_SHM_KIND,
			SHMFRAME_SHM_ANY, RW));
	g_object_class_install_property(klass, PROP_BUFFERS,
		g_param_spec_uint("buffers", "Buffers",
			"Buffers of the surface (the pool upstream draws into)",
			2, 16, 3, RW));
	g_object_class_install_property(klass, PROP_MAX_LAG,
		g_param_spec_uint("max-lag", "Maximum lag",
			"Frames presented and not yet shown (PRESENTED) before "
			"render waits for the server; 0: never wait", 0, 64, 2, RW));
	g_object_class_install_property(klass, PROP_TRANSPORT_NAME,
		g_param_spec_string("transport-name", "Transport in use",
			"shm/memfd, shm/posix, shm/sysv or socket (NULL before "
			"the first connection)", NULL, RO));
	g_object_class_install_property(klass, PROP_TRANSPORT_REASON,
		g_param_spec_string("transport-reason", "Why that transport",
			"The shared-memory probe's outcome for each kind tried",
			NULL, RO));
	g_object_class_install_property(klass, PROP_FRAMES_ZERO_COPY,
		g_param_spec_uint64("frames-zero-copy", "Frames zero-copy",
			"Frames presented from the pool's own buffers (no copy)",
			0, G_MAXUINT64, 0, RO));
	g_object_class_install_property(klass, PROP_FRAMES_COPIED,
		g_param_spec_uint64("frames-copied", "Frames copied",
			"Frames copied into a buffer of the surface (upstream did "
			"not use the pool)", 0, G_MAXUINT64, 0, RO));
	g_object_class_install_property(klass, PROP_FRAMES_SHOWN,
		g_param_spec_uint64("frames-shown", "Frames shown",
			"Frames the server reported shown (PRESENTED)",
			0, G_MAXUINT64, 0, RO));
	g_object_class_install_property(klass, PROP_FRAMES_DISCARDED,
		g_param_spec_uint64("frames-discarded", "Frames discarded",
			"Frames the server replaced by a later one before showing "
			"them", 0, G_MAXUINT64, 0, RO));
	g_object_class_install_property(klass, PROP_LATENCY,
		g_param_spec_uint64("display-latency", "Display latency",
			"Smoothed time from present to PRESENTED, in ns",
			0, G_MAXUINT64, 0, RO));
}

void sf__sink_set_property(GObject *object, guint id, const GValue *value,
                           GParamSpec *pspec)
{
	SfSink *sink = SF_SINK(object);

	g_mutex_lock(&sink->lock);
	switch (id) {
	case PROP_SERVER:
		g_free(sink->server);
		sink->server = g_value_dup_string(value);
		break;
	case PROP_TRANSPORT:
		sink->transport = (enum shmframe_transport)g_value_get_enum(value);
		break;
	case PROP_SHM:
		sink->shm = (enum shmframe_shm_kind)g_value_get_enum(value);
		break;
	case PROP_BUFFERS:
		sink->buffers = g_value_get_uint(value);
		break;
	case PROP_MAX_LAG:
		sink->max_lag = g_value_get_uint(value);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
		break;
	}
	g_mutex_unlock(&sink->lock);
}

void sf__sink_get_property(GObject *object, guint id, GValue *value,
                           GParamSpec *pspec)
{
	SfSink *sink = SF_SINK(object);

	g_mutex_lock(&sink->lock);
	switch (id) {
	case PROP_SERVER:
		g_value_set_string(value, sink->server);
		break;
	case PROP_TRANSPORT:
		g_value_set_enum(value, (gint)sink->transport);
		break;
	case PROP_SHM:
		g_value_set_enum(value, (gint)sink->shm);
		break;
	case PROP_BUFFERS:
		g_value_set_uint(value, sink->buffers);
		break;
	case PROP_MAX_LAG:
		g_value_set_uint(value, sink->max_lag);
		break;
	case PROP_TRANSPORT_NAME:
		g_value_set_string(value, sink->transport_name);
		break;
	case PROP_TRANSPORT_REASON:
		g_value_set_string(value, sink->transport_reason);
		break;
	case PROP_FRAMES_ZERO_COPY:
		g_value_set_uint64(value, sink->zero_copy);
		break;
	case PROP_FRAMES_COPIED:
		g_value_set_uint64(value, sink->copied);
		break;
	case PROP_FRAMES_SHOWN:
		g_value_set_uint64(value, sink->shown);
		break;
	case PROP_FRAMES_DISCARDED:
		g_value_set_uint64(value, sink->discarded);
		break;
	case PROP_LATENCY:
		g_value_set_uint64(value, sink->latency_ns);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
		break;
	}
	g_mutex_unlock(&sink->lock);
}
