/*
 * A clock in nanoseconds, for both sides: CLOCK_MONOTONIC for times,
 * CLOCK_THREAD_CPUTIME_ID for what work costs (both the vDSO's: no
 * syscall).
 */
#ifndef SHMFRAME_CLOCK_H
#define SHMFRAME_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t sf__clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
