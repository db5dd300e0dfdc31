/* Memory that ends where an inaccessible page begins: a struct placed
 * there crashes its program at the first byte read or written past it.
 * For the tests of what the library may touch of a caller's struct. */
#ifndef SHMFRAME_TEST_GUARD_PAGE_H
#define SHMFRAME_TEST_GUARD_PAGE_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* size bytes (a multiple of the struct's alignment) filled with 0xa5,
 * right before a PROT_NONE page; NULL on failure.  Free with
 * guard_page_free(p, size). */
static inline void *guard_page_alloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (size > page || mprotect(p + page, page, PROT_NONE) < 0) {
		munmap(p, 2 * page);
		return NULL;
	}
	memset(p, 0xa5, page);
	return p + page - size;
}

static inline void guard_page_free(void *p, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (p)
		munmap((uint8_t *)p + size - page, 2 * page);
}

#endif
