/*
 * sf-gst-run: runs a GStreamer pipeline holding a shmframesink named
 * "sink" to its end, and says on one line what the sink did and what the
 * run left behind.
 *
 *     sf-gst-run [--cycles N] [--server-pid PID --server-fds FDS]
 *                [--resize-after K CAPS] PIPELINE
 *
 * --cycles N: N times PLAYING to EOS, then NULL; the counts of this
 * process's fds, the server's fds, our /dev/shm names and System V
 * segments are taken after the first cycle and after the last (the
 * server's once they are back to FDS, or after 3 s).
 * --resize-after K CAPS: after the sink got K buffers, the capsfilter
 * named "cf" is given CAPS (a new size mid-stream).
 * Last line: transport= reason="..." zero_copy= copied= shown=
 * discarded= [fds= srv_fds= shm= sysv= as FIRST/LAST].
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
	(void)info;
	if (++r->seen == r->after)
		g_object_set(r->filter, "caps", r->caps, NULL);
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
	        "--server-fds FDS] [--resize-after K CAPS] PIPELINE\n");
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
	int i, rc = 0, server_fds = -1;

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
		} else
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
		rc = run_once(pipeline);
		if (i == 0)
			take_counts(&first, server_pid, server_fds);
	}
	if (rc == 0)
		take_counts(&last, server_pid, server_fds);
	g_object_get(sink, "transport-name", &name, "transport-reason", &reason,
	             "frames-zero-copy", &zc, "frames-copied", &cp,
	             "frames-shown", &shown, "frames-discarded", &disc, NULL);
	printf("transport=%s reason=\"%s\" zero_copy=%" G_GUINT64_FORMAT
	       " copied=%" G_GUINT64_FORMAT " shown=%" G_GUINT64_FORMAT
	       " discarded=%" G_GUINT64_FORMAT, name ? name : "none",
	       reason ? reason : "", zc, cp, shown, disc);
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
