/*
 * sf-x11-latency: how long a real X event takes to become a client's
 * callback through the SDL viewer.  It injects input with XTEST into the
 * viewer's window of an sf-event-log client, notes CLOCK_MONOTONIC when
 * the request is flushed to the X server, and reads the client's log for
 * the line the callback printed (its now= is CLOCK_MONOTONIC on the same
 * host).  One event at a time: the next is injected only once the last
 * one's line came, so each is measured alone, and after a pause spread
 * evenly over 0 .. 20 ms, so that events fall anywhere in the viewer's
 * 60 Hz tick (injected in step with it, each would wait a whole tick).
 *
 *     sf-x11-latency WINDOW LOG N
 *
 * WINDOW is the viewer window's id (decimal or 0x hex), LOG the file
 * sf-event-log writes, N the events of each kind.  It moves the pointer
 * N times between two points inside the window (motion lines), then
 * presses and releases a key N times (key lines, each press and each
 * release), and prints, for each kind,
 *
 *     latency kind=motion n=N missed=M p50_us=F p99_us=F max_us=F
 *
 * missed counts events whose line did not come within a second.  Exit 0
 * when nothing was missed, 1 otherwise or on an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xcb/xcb.h>
#include <xcb/xtest.h>

#define TIMEOUT_NS 1000000000ull
/* 'a' on the keymaps Xvfb starts with (evdev and the older xfree86). */
#define KEYCODE_A 38

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The log, read as it grows. */
struct tail {
	FILE *f;
	char line[1024];
	size_t have;
};

/* The now= of the next line that starts with prefix, or 0 after
 * TIMEOUT_NS.  Other lines are skipped. */
static uint64_t wait_line(struct tail *t, const char *prefix)
{
	uint64_t end = now_ns() + TIMEOUT_NS;

	for (;;) {
		int c = fgetc(t->f);

		if (c == EOF) {
			clearerr(t->f);
			if (now_ns() > end)
				return 0;
			usleep(50);
			continue;
		}
		if (c != '\n') {
			if (t->have + 1 < sizeof t->line)
				t->line[t->have++] = (char)c;
			continue;
		}
		t->line[t->have] = '\0';
		t->have = 0;
		if (strncmp(t->line, prefix, strlen(prefix)) == 0) {
			const char *now = strstr(t->line, " now=");

			if (now)
				return strtoull(now + 5, NULL, 10);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *kind, uint64_t *lat, unsigned n, unsigned missed)
{
	unsigned got = n - missed;

	qsort(lat, got, sizeof *lat, cmp_u64);
	if (!got) {
		printf("latency kind=%s n=%u missed=%u\n", kind, n, missed);
		return;
	}
	printf("latency kind=%s n=%u missed=%u p50_us=%.1f p99_us=%.1f "
	       "max_us=%.1f\n", kind, n, missed, lat[(got - 1) / 2] / 1e3,
	       lat[(got - 1) * 99 / 100] / 1e3, lat[got - 1] / 1e3);
}

/* Injects one event and waits for its line: the latency, or 0. */
static uint64_t one(xcb_connection_t *x, struct tail *t, uint8_t type,
                    uint8_t detail, xcb_window_t root, int16_t rx, int16_t ry,
                    const char *prefix)
{
	static uint32_t lcg = 12345;
	uint64_t sent, seen;

	lcg = lcg * 1103515245u + 12345u;
	usleep((lcg >> 8) % 20000);
	xcb_test_fake_input(x, type, detail, XCB_CURRENT_TIME, root, rx, ry, 0);
	xcb_flush(x);
	sent = now_ns();
	seen = wait_line(t, prefix);
	return seen > sent ? seen - sent : seen ? 1 : 0;
}

int main(int argc, char **argv)
{
	xcb_connection_t *x;
	xcb_screen_t *screen;
	xcb_translate_coordinates_reply_t *at;
	xcb_get_geometry_reply_t *geo;
	struct tail t = { 0 };
	unsigned long n;
	uint64_t *lat;
	unsigned missed = 0, total_missed = 0;
	xcb_window_t win;
	int16_t ox, oy;
	char *end;

	if (argc != 4) {
		fprintf(stderr, "usage: sf-x11-latency WINDOW LOG N\n");
		return 2;
	}
	win = (xcb_window_t)strtoul(argv[1], &end, 0);
	n = strtoul(argv[3], NULL, 10);
	if (*end || !win || n == 0 || n > 100000) {
		fprintf(stderr, "sf-x11-latency: bad window or count\n");
		return 2;
	}
	t.f = fopen(argv[2], "r");
	if (!t.f) {
		fprintf(stderr, "sf-x11-latency: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	fseek(t.f, 0, SEEK_END);
	x = xcb_connect(NULL, NULL);
	if (xcb_connection_has_error(x)) {
		fprintf(stderr, "sf-x11-latency: cannot connect to the X server\n");
		return 1;
	}
	screen = xcb_setup_roots_iterator(xcb_get_setup(x)).data;
	at = xcb_translate_coordinates_reply(x,
		xcb_translate_coordinates(x, win, screen->root, 0, 0), NULL);
	geo = xcb_get_geometry_reply(x, xcb_get_geometry(x, win), NULL);
	lat = calloc(2 * n, sizeof *lat);
	if (!at || !geo || !lat || geo->width < 40 || geo->height < 20) {
		fprintf(stderr, "sf-x11-latency: no window %s of 40x20 or more\n",
		        argv[1]);
		return 1;
	}
	ox = at->dst_x;
	oy = at->dst_y;

	/* Over the window first, and its keyboard focus, unmeasured. */
	xcb_test_fake_input(x, XCB_MOTION_NOTIFY, 0, XCB_CURRENT_TIME,
	                    screen->root, ox + 5, oy + 5, 0);
	xcb_set_input_focus(x, XCB_INPUT_FOCUS_POINTER_ROOT, win,
	                    XCB_CURRENT_TIME);
	xcb_flush(x);
	usleep(200000);
	fseek(t.f, 0, SEEK_END);

	for (unsigned long i = 0; i < n; i++) {
		uint64_t l = one(x, &t, XCB_MOTION_NOTIFY, 0, screen->root,
		                 (int16_t)(ox + 10 + (i % 2) * 20), (int16_t)(oy + 10),
		                 "motion ");

		if (l)
			lat[i - missed] = l;
		else
			missed++;
	}
	report("motion", lat, (unsigned)n, missed);
	total_missed += missed;

	missed = 0;
	for (unsigned long i = 0; i < 2 * n; i++) {
		uint64_t l = one(x, &t, i % 2 ? XCB_KEY_RELEASE : XCB_KEY_PRESS,
		                 KEYCODE_A, XCB_NONE, 0, 0,
		                 i % 2 ? "key state=release" : "key state=press");

		if (l)
			lat[i - missed] = l;
		else
			missed++;
	}
	report("key", lat, 2 * (unsigned)n, missed);
	total_missed += missed;

	free(lat);
	free(at);
	free(geo);
	fclose(t.f);
	xcb_disconnect(x);
	return total_missed ? 1 : 0;
}
