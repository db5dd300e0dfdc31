/* A program built against the 1.0 header (shmframe-1.0.h, as shmframe.h)
 * and run against the installed library: every option and callback of
 * 1.0 is used, and the two structs it hands the library end right before
 * a page that cannot be touched, so a library that reads or writes one
 * byte past the 1.0 layout crashes this program.
 *   abi-1.0-client ADDR socket|shm */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmframe.h>

#include "guard-page.h"

#define W 16
#define H 8
#define FRAMES 6

struct counts {
	int presented, released, closed, logged;
	uint32_t last_presented;
};

static void on_log(void *data, enum shmframe_log_level level, const char *msg)
{
	(void)level;
	(void)msg;
	((struct counts *)data)->logged++;
}

static void on_presented(void *data, struct shmframe_surface *s, uint32_t serial,
                         uint64_t time_ns, int discarded)
{
	(void)s;
	(void)time_ns;
	(void)discarded;
	((struct counts *)data)->presented++;
	((struct counts *)data)->last_presented = serial;
}

static void on_released(void *data, struct shmframe_surface *s, uint32_t serial)
{
	(void)s;
	(void)serial;
	((struct counts *)data)->released++;
}

static void on_closed(void *data, struct shmframe_surface *s)
{
	(void)s;
	((struct counts *)data)->closed++;
}

static int fail(const char *what, struct shmframe_conn *conn)
{
	fprintf(stderr, "abi-1.0-client: %s: %s\n", what,
	        conn ? shmframe_last_error(conn) : strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct shmframe_options *opts = guard_page_alloc(sizeof *opts);
	struct shmframe_surface_listener *l = guard_page_alloc(sizeof *l);
	struct counts n = { 0 };
	struct shmframe_conn *conn;
	struct shmframe_surface *s;
	struct shmframe_buffer *b, *b2;
	uint32_t back[W * H], serial = 0;
	int shm = argc > 2 && strcmp(argv[2], "shm") == 0;

	if (argc < 3 || !opts || !l)
		return fail("usage: ADDR socket|shm, or no memory", NULL);
	shmframe_options_init(opts);
	if (opts->buffers != 3 || opts->shm != SHMFRAME_SHM_ANY || opts->name ||
	    opts->auth_file || opts->log || opts->log_data)
		return fail("shmframe_options_init did not set the 1.0 defaults", NULL);
	opts->transport = shm ? SHMFRAME_TRANSPORT_SHM : SHMFRAME_TRANSPORT_SOCKET;
	opts->shm = shm ? SHMFRAME_SHM_MEMFD : SHMFRAME_SHM_ANY;
	opts->name = "abi-1.0";
	opts->buffers = 2;
	opts->log = on_log;
	opts->log_data = &n;
	conn = shmframe_connect(argv[1], opts);
	if (!conn || shmframe_conn_error(conn))
		return fail("connect", conn);
	if (strcmp(shmframe_transport_name(conn), shm ? "shm/memfd" : "socket") != 0 ||
	    n.logged == 0)
		return fail("the options were not taken as given", NULL);

	s = shmframe_surface_create(conn, W, H, SHMFRAME_FORMAT_ARGB8888, "abi-1.0");
	if (!s)
		return fail("surface", conn);
	l->presented = on_presented;
	l->released = on_released;
	l->closed = on_closed;
	shmframe_surface_set_listener(s, l, &n);

	/* buffers = 2 was read: two buffers, not the default three. */
	b = shmframe_try_acquire(s);
	b2 = shmframe_try_acquire(s);
	if (!b || !b2 || shmframe_try_acquire(s) || errno != EAGAIN)
		return fail("the pool is not the 2 buffers asked for", conn);
	shmframe_buffer_discard(s, b);
	shmframe_buffer_discard(s, b2);

	for (uint32_t f = 0; f < FRAMES; f++) {
		uint32_t stride;
		uint8_t *px;

		b = shmframe_acquire(s);
		if (!b)
			return fail("acquire", conn);
		px = shmframe_buffer_pixels(b, &stride);
		for (uint32_t y = 0; y < H; y++)
			for (uint32_t x = 0; x < W; x++)
				memcpy(px + y * stride + x * 4,
				       &(uint32_t){ f << 24 | y << 8 | x }, 4);
		if (shmframe_present(s, b, NULL, 0, &serial) < 0)
			return fail("present", conn);
	}
	while (n.last_presented != serial)
		if (shmframe_roundtrip(conn) < 0)
			return fail("roundtrip", conn);
	if (shmframe_readback(s, 0, 0, W, H, back, W * 4) < 0)
		return fail("readback", conn);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			if (back[y * W + x] != ((FRAMES - 1u) << 24 | y << 8 | x))
				return fail("the pixels read back differ", NULL);
	/* Latched shm buffers come back as later frames replace them; frames
	 * on the socket have none to give back. */
	if (shm ? n.released < FRAMES - 1 : n.released != 0)
		return fail("RELEASE did not reach the 1.0 listener as it should", NULL);
	printf("abi-1.0-client: %s: presented=%d released=%d log=%d\n",
	       shmframe_transport_name(conn), n.presented, n.released, n.logged);
	shmframe_surface_destroy(s);
	shmframe_disconnect(conn);
	guard_page_free(l, sizeof *l);
	guard_page_free(opts, sizeof *opts);
	return 0;
}
