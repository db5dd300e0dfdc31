/*
 * LD_PRELOAD module: memfd_create() fails with ENOSYS, as on a kernel
 * without it.  Loaded into an unmodified client, it forces the memfd probe
 * to fail for real, so the fallback to the next shm kind is exercised.
 * With SF_FAIL_MEMFD_CALL=N only the Nth call fails (the others are the
 * kernel's), so one chosen segment of a connection cannot be made: 2 is
 * the control segment, made right after the probe's.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int memfd_create(const char *name, unsigned int flags)
{
	static unsigned long calls;
	const char *only = getenv("SF_FAIL_MEMFD_CALL");

	calls++;
	if (only && *only && strtoul(only, NULL, 10) != calls)
		return (int)syscall(SYS_memfd_create, name, flags);
	errno = ENOSYS;
	return -1;
}
