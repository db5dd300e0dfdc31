/*
 * sf-gst-run: runs a GStreamer pipeline holding a shmframesink named
 * "sink" to its end, and says on one line what the sink did and what the
 * run left behind.
 *
 *     sf-gst-run [--cycles N] [--server-pid PID --server-fds FDS]
 *                [--resize-after K CAPS [--keep]] [--hold] PIPELINE
 *
 * --cycles N: N times PLAYING to EOS, then NULL; the counts of this
 * process's fds, the server's fds, our /dev/shm names and System V
 * segments are taken after the first cycle and after the last (the
 * server's once they are back to FDS, or after 3 s).
 * --resize-after K CAPS: after the sink got K buffers, the capsfilter
 * named "cf" is given CAPS (a new size mid-stream); with --keep, buffer K
 * is kept (as a tee's other branch would) over the change and the rest
 * of the run, then written and let go once the pipeline is in NULL.
 * --hold: instead of PLAYING to EOS, each cycle prerolls (PAUSED), takes a
 * buffer of the sink's pool (the prerolled buffer's) and holds it, as an
 * element upstream would, sets the pipeline to NULL, then fills the buffer
 * and lets it go: the sink stops while its pool's buffer is still in use.
 * Last line: transport= reason="..." zero_copy= copied= shown=
 * discarded= qos_late= [fds= srv_fds= shm= sysv= as FIRST/LAST]; qos_late
 * counts the QoS events the sink sent upstream for late buffers.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gst/gst.h>

struct resize {
	GstElement *filter;
	GstCaps *caps;
	guint after, seen;
	gboolean keep;
	GstBuffer *kept;
};

static int count_dir(const char *path, const char *prefix)
{
	struct dirent *e;
	DIR *d = opendir(path);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (prefix == NULL || strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int count_sysv(void)
{
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	char line[512];
	int n = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		n++;
	fclose(f);
	return n;
}

struct counts {
	int fds, srv_fds, shm, sysv;
};

/* The server frees a client's fds once it sees the disconnect: wait for
 * them to come back to want (up to 3 s) when a want is given. */
static void take_counts(struct counts *c, long server_pid, int want)
{
	char path[64];
	int i;

	c->fds = count_dir("/proc/self/fd", NULL) - 1; /* opendir's own */
	c->srv_fds = -1;
	if (server_pid > 0) {
		snprintf(path, sizeof path, "/proc/%ld/fd", server_pid);
		for (i = 0; i < 30; i++) {
			c->srv_fds = count_dir(path, NULL);
			if (want < 0 || c->srv_fds == want)
				break;
			g_usleep(100000);
		}
	}
	c->shm = count_dir("/dev/shm", "shmframe-");
	c->sysv = count_sysv();
}

static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info,
                                   gpointer data)
{
	struct resize *r = data;

	(void)pad;
	if (++r->seen == r->after) {
		if (r->keep)
			r->kept = gst_buffer_ref(GST_PAD_PROBE_INFO_BUFFER(info));
		g_object_set(r->filter, "caps", r->caps, NULL);
	}
	return GST_PAD_PROBE_OK;
}

static GMutex hold_lock;
static GstBufferPool *hold_pool;

/* Keeps the pool of the first pool buffer the sink gets. */
static GstPadProbeReturn on_hold_buffer(GstPad *pad, GstPadProbeInfo *info,
                                        gpointer data)
{
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);

	(void)pad;
	(void)data;
	g_mutex_lock(&hold_lock);
	if (hold_pool == NULL && buf->pool != NULL)
		hold_pool = gst_object_ref(buf->pool);
	g_mutex_unlock(&hold_lock);
	return GST_PAD_PROBE_OK;
}

/* PAUSED, a buffer of the sink's pool held over the sink's stop to NULL,
 * then written and released; 0, or 1 with the failure printed. */
static int run_hold(GstElement *pipeline, GstElement *sink)
{
	GstPad *pad = gst_element_get_static_pad(sink, "sink");
	GstBufferPool *pool = NULL;
	GstBuffer *buf = NULL;
	GstMapInfo map;
	int rc = 1;
	gulong probe;

	probe = gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_hold_buffer,
	                          NULL, NULL);
	if (gst_element_set_state(pipeline, GST_STATE_PAUSED) ==
	        GST_STATE_CHANGE_FAILURE ||
	    gst_element_get_state(pipeline, NULL, NULL, 30 * GST_SECOND) !=
	        GST_STATE_CHANGE_SUCCESS) {
		fprintf(stderr, "sf-gst-run: no preroll\n");
		goto out;
	}
	/* The pool of the buffer that prerolled (an allocation query would
	 * wait: it is serialized, and the sink holds its preroll). */
	g_mutex_lock(&hold_lock);
	pool = hold_pool;
	hold_pool = NULL;
	g_mutex_unlock(&hold_lock);
	if (pool == NULL) {
		fprintf(stderr, "sf-gst-run: the sink got no buffer of a pool\n");
		goto out;
	}
	if (!gst_buffer_pool_is_active(pool))
		(void)gst_buffer_pool_set_active(pool, TRUE);
	if (gst_buffer_pool_acquire_buffer(pool, &buf, NULL) != GST_FLOW_OK) {
		fprintf(stderr, "sf-gst-run: no buffer from the sink's pool\n");
		goto out;
	}
	if (gst_element_set_state(pipeline, GST_STATE_NULL) ==
	    GST_STATE_CHANGE_FAILURE) {
		fprintf(stderr, "sf-gst-run: cannot stop\n");
		goto out;
	}
	/* The sink is stopped: its buffer must still be there to write. */
	if (!gst_buffer_map(buf, &map, GST_MAP_READWRITE)) {
		fprintf(stderr, "sf-gst-run: cannot map the held buffer\n");
		goto out;
	}
	memset(map.data, 0x5a, map.size);
	gst_buffer_unmap(buf, &map);
	rc = 0;
out:
	if (buf != NULL)
		gst_buffer_unref(buf);
	if (pool != NULL) {
		(void)gst_buffer_pool_set_active(pool, FALSE);
		gst_object_unref(pool);
	}
	gst_pad_remove_probe(pad, probe);
	gst_object_unref(pad);
	if (gst_element_set_state(pipeline, GST_STATE_NULL) ==
	    GST_STATE_CHANGE_FAILURE)
		rc = 1;
	return rc;
}

/* Counts the QoS events that go upstream through the sink's pad saying
 * that a buffer came late (basesink sends one for every buffer; diff > 0
 * is the lateness). */
static GstPadProbeReturn on_upstream(GstPad *pad, GstPadProbeInfo *info,
                                     gpointer data)
{
	GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
	guint *late = data;
	GstClockTimeDiff diff = 0;

	(void)pad;
	if (GST_EVENT_TYPE(event) == GST_EVENT_QOS) {
		gst_event_parse_qos(event, NULL, NULL, &diff, NULL);
		if (diff > 0)
			g_atomic_int_inc(late);
	}
	return GST_PAD_PROBE_OK;
}

/* PLAYING until EOS; 0, or 1 with the error printed. */
static int run_once(GstElement *pipeline)
{
	GstBus *bus = gst_element_get_bus(pipeline);
	GstMessage *msg;
	int rc = 0;

	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) ==
	    GST_STATE_CHANGE_FAILURE)
		rc = 1;
	msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
	                                 GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
	if (msg == NULL) {
		fprintf(stderr, "sf-gst-run: no EOS within 60 s\n");
		rc = 1;
	} else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
		GError *err = NULL;
		gchar *dbg = NULL;

		gst_message_parse_error(msg, &err, &dbg);
		fprintf(stderr, "sf-gst-run: error from %s: %s (%s)\n",
		        GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), err->message,
		        dbg ? dbg : "");
		g_error_free(err);
		g_free(dbg);
		rc = 1;
	}
	if (msg != NULL)
		gst_message_unref(msg);
	gst_object_unref(bus);
	if (gst_element_set_state(pipeline, GST_STATE_NULL) ==
	    GST_STATE_CHANGE_FAILURE)
		rc = 1;
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: sf-gst-run [--cycles N] [--server-pid PID "
	        "--server-fds FDS] [--resize-after K CAPS] [--hold] "
	        "PIPELINE\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct resize r = { 0 };
	struct counts first = { 0 }, last = { 0 };
	GstElement *pipeline, *sink;
	GError *err = NULL;
	long cycles = 1, server_pid = 0;
	gchar *name = NULL, *reason = NULL;
	guint64 zc = 0, cp = 0, shown = 0, disc = 0;
	int i, rc = 0, server_fds = -1, hold = 0;
	guint qos = 0;
	GstPad *sinkpad;

	gst_init(&argc, &argv);
	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "--cycles") == 0 && i + 2 < argc)
			cycles = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--server-pid") == 0 && i + 2 < argc)
			server_pid = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--server-fds") == 0 && i + 2 < argc)
			server_fds = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--resize-after") == 0 && i + 3 < argc) {
			r.after = (guint)strtoul(argv[++i], NULL, 10);
			r.caps = gst_caps_from_string(argv[++i]);
			if (r.caps == NULL)
				return usage();
		} else if (strcmp(argv[i], "--keep") == 0)
			r.keep = TRUE;
		else if (strcmp(argv[i], "--hold") == 0)
			hold = 1;
		else
			break;
	}
	if (i != argc - 1 || cycles < 1)
		return usage();
	pipeline = gst_parse_launch(argv[i], &err);
	if (pipeline == NULL || err != NULL) {
		fprintf(stderr, "sf-gst-run: %s\n", err ? err->message : "parse");
		return 1;
	}
	sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	if (sink == NULL) {
		fprintf(stderr, "sf-gst-run: no element named sink\n");
		return 1;
	}
	sinkpad = gst_element_get_static_pad(sink, "sink");
	gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream,
	                  &qos, NULL);
	gst_object_unref(sinkpad);
	if (r.caps != NULL) {
		GstPad *pad = gst_element_get_static_pad(sink, "sink");

		r.filter = gst_bin_get_by_name(GST_BIN(pipeline), "cf");
		if (r.filter == NULL || pad == NULL) {
			fprintf(stderr, "sf-gst-run: no capsfilter named cf\n");
			return 1;
		}
		gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &r,
		                  NULL);
		gst_object_unref(pad);
	}
	for (i = 0; i < cycles && rc == 0; i++) {
		rc = hold ? run_hold(pipeline, sink) : run_once(pipeline);
		if (i == 0)
			take_counts(&first, server_pid, server_fds);
	}
	if (r.kept != NULL) {
		GstMapInfo map;

		/* Memory that went with the old surface faults here. */
		if (gst_buffer_map(r.kept, &map, GST_MAP_READWRITE)) {
			memset(map.data, 0x5a, map.size);
			gst_buffer_unmap(r.kept, &map);
		} else {
			fprintf(stderr, "sf-gst-run: cannot map the kept buffer\n");
			rc = 1;
		}
		gst_buffer_unref(r.kept);
	}
	if (rc == 0)
		take_counts(&last, server_pid, server_fds);
	g_object_get(sink, "transport-name", &name, "transport-reason", &reason,
	             "frames-zero-copy", &zc, "frames-copied", &cp,
	             "frames-shown", &shown, "frames-discarded", &disc, NULL);
	printf("transport=%s reason=\"%s\" zero_copy=%" G_GUINT64_FORMAT
	       " copied=%" G_GUINT64_FORMAT " shown=%" G_GUINT64_FORMAT
	       " discarded=%" G_GUINT64_FORMAT " qos_late=%u", name ? name : "none",
	       reason ? reason : "", zc, cp, shown, disc,
	       (unsigned)g_atomic_int_get(&qos));
	if (cycles > 1)
		printf(" fds=%d/%d srv_fds=%d/%d shm=%d/%d sysv=%d/%d",
		       first.fds, last.fds, first.srv_fds, last.srv_fds,
		       first.shm, last.shm, first.sysv, last.sysv);
	printf("\n");
	g_free(name);
	g_free(reason);
	if (r.caps != NULL) {
		gst_caps_unref(r.caps);
		gst_object_unref(r.filter);
	}
	gst_object_unref(sink);
	gst_object_unref(pipeline);
	gst_deinit();
	return rc;
}
