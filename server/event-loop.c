/*
 * The epoll backend of the server's event loop.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "event-loop.h"

/* Events taken from the kernel per epoll_wait; more simply wait for the
 * next iteration, which comes at once because the loop is level triggered. */
#define MAX_EVENTS 64

struct sf_loop {
	int epfd;
	/* The batch being dispatched, so that removing a watch can cancel its
	 * event if it comes later in the same batch. */
	struct epoll_event *batch;
	int batch_len;
};

static uint32_t to_epoll(uint32_t events)
{
	uint32_t e = 0;

	if (events & SF_LOOP_READ)
		e |= EPOLLIN;
	if (events & SF_LOOP_WRITE)
		e |= EPOLLOUT;
	return e;
}

static uint32_t from_epoll(uint32_t e, uint32_t interest)
{
	uint32_t events = 0;

	if (e & EPOLLIN)
		events |= SF_LOOP_READ;
	if (e & EPOLLOUT)
		events |= SF_LOOP_WRITE;
	/* A hang-up is reported through the calls the owner would make anyway,
	 * so that it reads what is left before it sees the end. */
	if (e & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		events |= SF_LOOP_HUP | (interest & (SF_LOOP_READ | SF_LOOP_WRITE));
	return events;
}

int sfs__loop_create(struct sf_loop **out)
{
	struct sf_loop *loop = calloc(1, sizeof *loop);

	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int err = -errno;
		free(loop);
		return err;
	}
	*out = loop;
	return 0;
}

void sfs__loop_destroy(struct sf_loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	free(loop);
}

int sfs__loop_add(struct sf_loop *loop, struct sf_watch *watch, int fd,
                 uint32_t events, sf_watch_cb *cb, void *data)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = watch };

	watch->fd = fd;
	watch->events = events;
	watch->cb = cb;
	watch->data = data;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		watch->added = false;
		return -errno;
	}
	watch->added = true;
	return 0;
}

int sfs__loop_modify(struct sf_loop *loop, struct sf_watch *watch,
                    uint32_t events)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = watch };

	if (!watch->added)
		return -EINVAL;
	if (watch->events == events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, watch->fd, &ev) < 0)
		return -errno;
	watch->events = events;
	return 0;
}

void sfs__loop_remove(struct sf_loop *loop, struct sf_watch *watch)
{
	if (!watch->added)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
	watch->added = false;
	/* Forget a pending event of this batch: its fd may be closed and even
	 * reused by the time it would be dispatched. */
	for (int i = 0; i < loop->batch_len; i++)
		if (loop->batch[i].data.ptr == watch)
			loop->batch[i].data.ptr = NULL;
}

int sfs__loop_wait(struct sf_loop *loop, int timeout_ms)
{
	struct epoll_event events[MAX_EVENTS];
	int n, ran = 0;

	n = epoll_wait(loop->epfd, events, MAX_EVENTS, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->batch = events;
	loop->batch_len = n;
	for (int i = 0; i < n; i++) {
		struct sf_watch *w = events[i].data.ptr;

		if (!w || !w->added)
			continue;
		w->cb(w, from_epoll(events[i].events, w->events));
		ran++;
	}
	loop->batch = NULL;
	loop->batch_len = 0;
	return ran;
}
