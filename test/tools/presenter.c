/*
 * sf-presenter: presents frames as fast as it can and accounts for every
 * PRESENTED event, to check that a display slower than its client still
 * answers each frame exactly once: shown, or discarded under its own
 * serial when a newer frame replaced it before the display's next tick.
 *
 *     sf-presenter --server ADDR [--transport shm|socket] [--copy]
 *                  [--frames N]
 *
 * Ends with one line: frames=N shown=S discarded=D duplicates=X
 * unknown=U missing=M out_of_order=O; exit 0, or 1 when the connection
 * failed.  The caller judges the counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <shmframe.h>

#define PROG "sf-presenter"
#define W 64
#define H 48

struct state {
	uint32_t *serials;     /* as present() returned them, in order */
	unsigned *seen;        /* PRESENTED events per entry of serials */
	unsigned n;            /* frames presented so far */
	unsigned shown, discarded, duplicates, unknown, out_of_order;
	unsigned events;
	long last;             /* index of the last PRESENTED, -1: none */
};

static void on_presented(void *data, struct shmframe_surface *s,
                         uint32_t serial, uint64_t time_ns, int discarded)
{
	struct state *st = data;
	long i;

	(void)s, (void)time_ns;
	st->events++;
	for (i = (long)st->n - 1; i >= 0 && st->serials[i] != serial; i--)
		;
	if (i < 0) {
		st->unknown++;
		return;
	}
	if (st->seen[i]++)
		st->duplicates++;
	if (i < st->last)
		st->out_of_order++;
	st->last = i;
	if (discarded)
		st->discarded++;
	else
		st->shown++;
}

static const struct shmframe_surface_listener listener = {
	.presented = on_presented,
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " --server ADDR [--transport shm|socket] "
	        "[--copy] [--frames N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *server = NULL;
	struct shmframe_options opts;
	struct shmframe_conn *conn;
	struct shmframe_surface *s = NULL;
	struct state st = { .last = -1 };
	unsigned frames = 300, missing = 0;
	int copy = 0, status = 1;
	double deadline;

	shmframe_options_init(&opts);
	opts.name = PROG;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
			server = argv[++i];
		else if (strcmp(argv[i], "--transport") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "shm") == 0)
				opts.transport = SHMFRAME_TRANSPORT_SHM;
			else if (strcmp(argv[i], "socket") == 0)
				opts.transport = SHMFRAME_TRANSPORT_SOCKET;
			else
				return usage();
		} else if (strcmp(argv[i], "--copy") == 0)
			copy = 1;
		else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
			frames = (unsigned)strtoul(argv[++i], NULL, 10);
		else
			return usage();
	}
	if (!server || frames == 0 || frames > 100000)
		return usage();
	st.serials = calloc(frames, sizeof *st.serials);
	st.seen = calloc(frames, sizeof *st.seen);
	if (!st.serials || !st.seen)
		return 1;

	conn = shmframe_connect(server, &opts);
	if (!conn || shmframe_conn_error(conn)) {
		fprintf(stderr, PROG ": cannot connect: %s\n",
		        conn ? shmframe_last_error(conn) : "out of memory");
		goto disconnect;
	}
	s = shmframe_surface_create(conn, W, H, SHMFRAME_FORMAT_ARGB8888,
	                            "presenter");
	if (!s || (copy && shmframe_surface_set_present_mode(
	                       s, SHMFRAME_PRESENT_COPY) < 0)) {
		fprintf(stderr, PROG ": no surface: %s\n", shmframe_last_error(conn));
		goto disconnect;
	}
	shmframe_surface_set_listener(s, &listener, &st);
	for (unsigned f = 0; f < frames; f++) {
		struct shmframe_buffer *b = shmframe_acquire(s);
		uint32_t stride;
		uint8_t *px;

		if (!b)
			goto failed;
		px = shmframe_buffer_pixels(b, &stride);
		for (uint32_t y = 0; y < H; y++)
			memset(px + (size_t)y * stride, (int)(f & 0xff), W * 4);
		if (shmframe_present(s, b, NULL, 0, &st.serials[st.n]) < 0)
			goto failed;
		st.n++;
	}
	/* Every frame gets its answer within a few display ticks. */
	deadline = now_s() + 10;
	while (st.shown + st.discarded < frames && now_s() < deadline) {
		if (shmframe_roundtrip(conn) < 0)
			goto failed;
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	/* Anything more would come by now. */
	if (shmframe_roundtrip(conn) < 0)
		goto failed;
	for (unsigned i = 0; i < frames; i++)
		missing += st.seen[i] == 0;
	printf("frames=%u shown=%u discarded=%u duplicates=%u unknown=%u "
	       "missing=%u out_of_order=%u\n", frames, st.shown, st.discarded,
	       st.duplicates, st.unknown, missing, st.out_of_order);
	status = 0;
	goto disconnect;

failed:
	fprintf(stderr, PROG ": %s\n", shmframe_last_error(conn));
disconnect:
	shmframe_surface_destroy(s);
	shmframe_disconnect(conn);
	free(st.serials);
	free(st.seen);
	return status;
}
