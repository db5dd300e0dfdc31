/*
 * A small epoll loop: file descriptors with a callback each, level
 * triggered.  Timers are not part of it: the caller passes the time it may
 * sleep to sfs__loop_wait(), which is all the server needs (the display's
 * frame period and the deadlines of closing clients).
 */
#ifndef SHMFRAME_EVENT_LOOP_H
#define SHMFRAME_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/* Interest and readiness bits given to and reported by the loop. */
enum sf_loop_events {
	SF_LOOP_READ = 1u << 0,
	SF_LOOP_WRITE = 1u << 1,
	/* Reported only: hang-up or error.  A callback sees it together with
	 * READ (and WRITE when that is wanted), so that the read or write
	 * that follows returns the actual error. */
	SF_LOOP_HUP = 1u << 2,
};

struct sf_loop;
struct sf_watch;

/* Called when watch's fd is ready; events is a mask of enum sf_loop_events.
 * The callback may remove its own watch; the memory of the watch must stay
 * valid until sfs__loop_wait() returns (the server frees clients only
 * between iterations for this reason). */
typedef void sf_watch_cb(struct sf_watch *watch, uint32_t events);

/* Embedded in the object that owns the fd; the loop never frees it. */
struct sf_watch {
	int fd;
	uint32_t events;  /* current interest */
	sf_watch_cb *cb;
	void *data;
	bool added;
};

/* 0 or -errno. */
int sfs__loop_create(struct sf_loop **out);
/* Every watch must have been removed before. */
void sfs__loop_destroy(struct sf_loop *loop);

/* Starts watching fd.  The loop does not own fd: remove the watch before
 * closing it.  0 or -errno. */
int sfs__loop_add(struct sf_loop *loop, struct sf_watch *watch, int fd,
                 uint32_t events, sf_watch_cb *cb, void *data);
/* Changes the interest; a no-op when it is already that.  0 or -errno. */
int sfs__loop_modify(struct sf_loop *loop, struct sf_watch *watch,
                    uint32_t events);
/* Stops watching; safe on a watch that was never added or already removed,
 * and from within any callback of the same iteration. */
void sfs__loop_remove(struct sf_loop *loop, struct sf_watch *watch);

/* Waits up to timeout_ms (-1: forever, 0: poll) and runs the callbacks of
 * the fds that are ready.  Returns how many ran, 0 on timeout or signal
 * interruption, or -errno. */
int sfs__loop_wait(struct sf_loop *loop, int timeout_ms);

#endif
