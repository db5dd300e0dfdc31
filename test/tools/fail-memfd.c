/*
 * LD_PRELOAD module: memfd_create() fails with ENOSYS, as on a kernel
 * without it.  Loaded into an unmodified client, it forces the memfd probe
 * to fail for real, so the fallback to the next shm kind is exercised.
 */
#include <errno.h>
#include <sys/mman.h>

int memfd_create(const char *name, unsigned int flags)
{
	(void)name;
	(void)flags;
	errno = ENOSYS;
	return -1;
}
