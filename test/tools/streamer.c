/*
 * sf-streamer: presents frames through the public API (shmframe.h) until
 * the connection fails, then says why and exits 1.  It is the library's
 * side of "the server was killed": SIGPIPE keeps its default action here,
 * so a write without MSG_NOSIGNAL would kill this process (status 141)
 * instead of returning an error.
 *
 *     sf-streamer ADDR auto|shm|socket memfd|posix|sysv|any present|roundtrip|readback [FPS]
 *
 * present: acquire and present as fast as the buffers come back;
 * roundtrip: a SYNC round trip after every frame; readback: every frame is
 * read back and must equal what was drawn.  "streaming" is printed once
 * the first frame was handled, so the test knows when to strike.  With
 * FPS the frames are paced (a sleep between them): a server that dies
 * during the sleep is then usually first met by a write.
 *
 * Exit: 1 with "sf-streamer: TEXT" on stderr once the connection failed
 * (TEXT is shmframe_last_error()); 3 when the failure is not sticky (a
 * later call on the failed connection succeeds or reports another error);
 * 4 when a readback differs; 2 for usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmframe.h"

#define PROG "sf-streamer"
#define W 96u
#define H 64u

static void draw(uint8_t *px, uint32_t stride, uint32_t frame)
{
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			uint8_t *p = px + (size_t)y * stride + 4 * x;

			p[0] = (uint8_t)(x + frame);
			p[1] = (uint8_t)(y * 3 + frame);
			p[2] = (uint8_t)(frame * 7);
			p[3] = (uint8_t)(x ^ y);
		}
}

/* The failure must stay: every later call reports the first error. */
static int gone(struct shmframe_conn *conn)
{
	int err = shmframe_conn_error(conn);
	const char *text = shmframe_last_error(conn);

	if (err >= 0 || !text[0]) {
		fprintf(stderr, PROG ": a call failed but the connection says "
		        "error %d \"%s\"\n", err, text);
		return 3;
	}
	if (shmframe_roundtrip(conn) != err || shmframe_dispatch(conn) != err ||
	    shmframe_conn_error(conn) != err) {
		fprintf(stderr, PROG ": the error is not sticky: %s\n", text);
		return 3;
	}
	fprintf(stderr, PROG ": %s\n", text);
	return 1;
}

int main(int argc, char **argv)
{
	struct shmframe_options opts;
	struct shmframe_conn *conn;
	struct shmframe_surface *s;
	uint8_t *expect = NULL, *back = NULL;
	const char *mode;
	int status, fps;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: " PROG " ADDR auto|shm|socket "
		        "memfd|posix|sysv|any present|roundtrip|readback [FPS]\n");
		return 2;
	}
	shmframe_options_init(&opts);
	opts.transport = strcmp(argv[2], "socket") == 0 ? SHMFRAME_TRANSPORT_SOCKET
	               : strcmp(argv[2], "shm") == 0 ? SHMFRAME_TRANSPORT_SHM
	               : SHMFRAME_TRANSPORT_AUTO;
	opts.shm = strcmp(argv[3], "memfd") == 0 ? SHMFRAME_SHM_MEMFD
	         : strcmp(argv[3], "posix") == 0 ? SHMFRAME_SHM_POSIX
	         : strcmp(argv[3], "sysv") == 0 ? SHMFRAME_SHM_SYSV
	         : SHMFRAME_SHM_ANY;
	opts.name = PROG;
	mode = argv[4];
	fps = argc == 6 ? atoi(argv[5]) : 0;
	conn = shmframe_connect(argv[1], &opts);
	if (!conn) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	if (shmframe_conn_error(conn)) {
		fprintf(stderr, PROG ": cannot connect: %s\n", shmframe_last_error(conn));
		shmframe_disconnect(conn);
		return 1;
	}
	s = shmframe_surface_create(conn, W, H, SHMFRAME_FORMAT_ARGB8888, PROG);
	expect = malloc((size_t)W * H * 4);
	back = malloc((size_t)W * H * 4);
	if (!s) {
		status = gone(conn);
		goto done;
	}
	if (!expect || !back) {
		fprintf(stderr, PROG ": out of memory\n");
		status = 1;
		goto done;
	}
	for (uint32_t frame = 0;; frame++) {
		struct shmframe_buffer *b = shmframe_acquire(s);
		uint32_t stride;
		uint8_t *px;
		int err;

		if (!b) {
			status = gone(conn);
			break;
		}
		px = shmframe_buffer_pixels(b, &stride);
		draw(px, stride, frame);
		err = shmframe_present(s, b, NULL, 0, NULL);
		if (!err && strcmp(mode, "roundtrip") == 0)
			err = shmframe_roundtrip(conn);
		if (!err && strcmp(mode, "readback") == 0) {
			err = shmframe_readback(s, 0, 0, W, H, back, W * 4);
			draw(expect, W * 4, frame);
			if (!err && memcmp(expect, back, (size_t)W * H * 4) != 0) {
				size_t k = 0;

				while (expect[k] == back[k])
					k++;
				fprintf(stderr, PROG ": frame %u read back differs at byte "
				        "%zu: %u, expected %u\n", frame, k, back[k], expect[k]);
				status = 4;
				break;
			}
		}
		if (err) {
			status = gone(conn);
			break;
		}
		if (frame == 0) {
			printf("streaming transport=%s\n", shmframe_transport_name(conn));
			fflush(stdout);
		}
		if (fps > 0)
			usleep(1000000u / (unsigned)fps);
	}

done:
	free(expect);
	free(back);
	shmframe_surface_destroy(s);
	shmframe_disconnect(conn);
	return status;
}
