/* A program outside the shmframe tree that uses the installed library:
 * connects, presents one frame, reads it back and checks it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmframe.h>

int main(int argc, char **argv)
{
	struct shmframe_conn *conn = shmframe_connect(argc > 1 ? argv[1] : NULL, NULL);
	struct shmframe_surface *s;
	struct shmframe_buffer *b;
	uint32_t stride, back[16 * 8];
	uint8_t *px;
	int ok;

	if (!conn || shmframe_conn_error(conn)) {
		fprintf(stderr, "consumer: %s\n", conn ? shmframe_last_error(conn) : "no memory");
		return 1;
	}
	s = shmframe_surface_create(conn, 16, 8, SHMFRAME_FORMAT_ARGB8888, "consumer");
	b = s ? shmframe_acquire(s) : NULL;
	if (!b) {
		fprintf(stderr, "consumer: %s\n", shmframe_last_error(conn));
		return 1;
	}
	px = shmframe_buffer_pixels(b, &stride);
	for (uint32_t y = 0; y < 8; y++)
		for (uint32_t x = 0; x < 16; x++)
			memcpy(px + y * stride + x * 4, &(uint32_t){ 0x80000000u | y << 8 | x }, 4);
	if (shmframe_present(s, b, NULL, 0, NULL) < 0 ||
	    shmframe_readback(s, 0, 0, 16, 8, back, 16 * 4) < 0) {
		fprintf(stderr, "consumer: %s\n", shmframe_last_error(conn));
		return 1;
	}
	ok = 1;
	for (uint32_t y = 0; y < 8; y++)
		for (uint32_t x = 0; x < 16; x++)
			ok &= back[y * 16 + x] == (0x80000000u | y << 8 | x);
	printf("consumer: version=%s transport=%s pixels=%s\n", shmframe_version(),
	       shmframe_transport_name(conn), ok ? "exact" : "DIFFER");
	shmframe_surface_destroy(s);
	shmframe_disconnect(conn);
	return ok ? 0 : 1;
}
