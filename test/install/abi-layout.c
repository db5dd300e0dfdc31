/* The binary interface of <shmframe.h> as numbers: enum values, struct
 * sizes, alignments and member offsets.  Built against the 1.0 header and
 * against the installed one, the two outputs must be the same. */
#include <stddef.h>
#include <stdio.h>

#include <shmframe.h>

#define E(v) printf("%s=%d\n", #v, (int)(v))
#define S(t) printf("sizeof(%s)=%zu align=%zu\n", #t, sizeof(t), _Alignof(t))
#define O(t, m) printf("offsetof(%s, %s)=%zu size=%zu\n", #t, #m, \
                       offsetof(t, m), sizeof(((t *)0)->m))

int main(void)
{
	E(SHMFRAME_TRANSPORT_AUTO); E(SHMFRAME_TRANSPORT_SHM);
	E(SHMFRAME_TRANSPORT_SOCKET);
	E(SHMFRAME_SHM_ANY); E(SHMFRAME_SHM_MEMFD); E(SHMFRAME_SHM_POSIX);
	E(SHMFRAME_SHM_SYSV);
	E(SHMFRAME_FORMAT_ARGB8888); E(SHMFRAME_FORMAT_XRGB8888);
	E(SHMFRAME_PRESENT_LATCH); E(SHMFRAME_PRESENT_COPY);
	E(SHMFRAME_LOG_ERROR); E(SHMFRAME_LOG_INFO); E(SHMFRAME_LOG_DEBUG);
	E(SHMFRAME_VERSION_MAJOR);
	S(enum shmframe_transport); S(enum shmframe_shm_kind);
	S(enum shmframe_format); S(enum shmframe_present_mode);
	S(enum shmframe_log_level);
	S(struct shmframe_rect);
	O(struct shmframe_rect, x); O(struct shmframe_rect, y);
	O(struct shmframe_rect, width); O(struct shmframe_rect, height);
	S(struct shmframe_options);
	O(struct shmframe_options, transport); O(struct shmframe_options, shm);
	O(struct shmframe_options, name); O(struct shmframe_options, buffers);
	O(struct shmframe_options, auth_file); O(struct shmframe_options, log);
	O(struct shmframe_options, log_data);
	S(struct shmframe_surface_listener);
	O(struct shmframe_surface_listener, presented);
	O(struct shmframe_surface_listener, released);
	O(struct shmframe_surface_listener, closed);
	return 0;
}
