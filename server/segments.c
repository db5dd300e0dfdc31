/*
 * The segments a client attached: a small table per client over
 * protocol/segment.h, with references so that a buffer latched as a
 * surface's content keeps its segment mapped after DETACH_SEGMENT.
 *
 * Also the SIGBUS guard.  A memfd is sealed against shrinking and a System
 * V segment cannot shrink, but a POSIX shm object cannot be sealed: its
 * client may ftruncate() it while we read it, and the next access to the
 * lost pages raises SIGBUS.  The handler finds the mapping that faulted,
 * puts private zero pages in its place so the access completes, and marks
 * the segment broken; the main loop then drops the client that did it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server-private.h"

/* Every live mapping, walked by the signal handler.  It is only changed
 * outside of segment accesses, and the signal is synchronous (raised by an
 * access of this thread), so the handler never sees it half-changed. */
static struct sf_shmseg *guard_head;
static volatile sig_atomic_t sigbus_hit;
static struct sigaction sigbus_previous;

static void sigbus_handler(int sig, siginfo_t *info, void *ucontext)
{
	const uint8_t *addr = info->si_addr;

	(void)ucontext;
	for (struct sf_shmseg *s = guard_head; s; s = s->guard_next) {
		uint8_t *start = s->seg.map;

		if (!start || addr < start || addr >= start + s->seg.size)
			continue;
		if (mmap(start, s->seg.size, PROT_READ | PROT_WRITE,
		         MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
			break;
		s->broken = 1;
		sigbus_hit = 1;
		return;
	}
	/* Not one of ours: a real bug.  Returning with the previous action in
	 * place faults again and ends the process the usual way. */
	sigaction(sig, &sigbus_previous, NULL);
}

int sfs__sigbus_guard_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = sigbus_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &sigbus_previous) < 0)
		return -errno;
	return 0;
}

bool sfs__sigbus_pending(void)
{
	return sigbus_hit != 0;
}

void sfs__segments_check_broken(struct sf_server *server)
{
	(void)server;
	sigbus_hit = 0;
again:
	for (struct sf_shmseg *s = guard_head; s; s = s->guard_next) {
		struct sf_client *c = s->client;

		if (!s->broken || c->state == SF_CLIENT_CLOSING)
			continue;
		/* A snapshot or the display found it: no request to blame. */
		if (!c->req.active)
			c->req.type = 0;
		/* Failing the client frees its segments and so changes the
		 * list: start over. */
		if (s == c->rings.control)
			sfs__client_fail(c, SF_ERR_BAD_SEGMENT, "the control segment "
			                "(%s) was shrunk by the client while the "
			                "server had it mapped",
			                sf__shm_kind_name((uint32_t)s->seg.kind));
		else
			sfs__client_fail(c, SF_ERR_BAD_SEGMENT, "segment %u (%s) was "
			                "shrunk by the client while the server had "
			                "it mapped", s->id,
			                sf__shm_kind_name((uint32_t)s->seg.kind));
		goto again;
	}
}

static void guard_add(struct sf_shmseg *s)
{
	s->guard_next = guard_head;
	guard_head = s;
}

static void guard_remove(struct sf_shmseg *s)
{
	for (struct sf_shmseg **p = &guard_head; *p; p = &(*p)->guard_next) {
		if (*p == s) {
			*p = s->guard_next;
			break;
		}
	}
	s->guard_next = NULL;
}

/* Undoes a mapping the guard knew: once the handler put zero pages in its
 * place it is plain memory, whatever the kind.  A System V attach may
 * reach past the size the client gave (the kernel maps the whole
 * segment): sf__segment_close detaches what is left of it. */
static void shmseg_release(struct sf_shmseg *s)
{
	guard_remove(s);
	if (s->broken && s->seg.map) {
		munmap(s->seg.map, s->seg.size);
		if (s->seg.kind == SF_SHM_SYSV)
			shmdt(s->seg.map);
		s->seg.map = NULL;
	}
	sf__segment_close(&s->seg);
}

/*
 * A client naming a POSIX or System V segment that is not its own learns
 * nothing from the answer: a name or id that does not exist, one owned by
 * someone else, open to others, of another size, or without the proof all
 * get this one answer.  (A memfd is the client's own fd: its reasons are
 * its to know.)  The real reason goes to the server's log.
 */
static int unproven(struct sf_client *c, const struct sf_segment_msg *msg,
                    int st, char *why, size_t why_len)
{
	if (msg->kind != SF_SHM_POSIX && msg->kind != SF_SHM_SYSV)
		return st;
	sfs__verbose(c->server, "client %u: %s segment refused: %s", c->id,
	            sf__shm_kind_name(msg->kind), why);
	snprintf(why, why_len, "no %s segment here that the client proved is "
	         "its own (it must exist, belong to the client, be open to "
	         "nobody else, hold the size claimed, and start with the nonce "
	         "and the server's challenge)", msg->kind == SF_SHM_POSIX
	         ? "POSIX" : "System V");
	return SF_PROBE_NOT_FOUND;
}

int sfs__shmseg_open(struct sf_client *c, const struct sf_segment_msg *msg,
                    int fd, struct sf_shmseg **out, char *why, size_t why_len)
{
	struct sf_shmseg *s;
	int st;

	s = calloc(1, sizeof *s);
	if (!s) {
		if (fd >= 0)
			close(fd);
		snprintf(why, why_len, "server out of memory");
		return SF_PROBE_REFUSED;
	}
	st = sf__segment_open(&s->seg, msg, fd, c->peer_uid, why, why_len);
	if (st != SF_PROBE_OK) {
		free(s);
		return unproven(c, msg, st, why, why_len);
	}
	list_init(&s->link);
	s->client = c;
	s->id = msg->id;
	/* Guarded before its first byte is read: the proof is that read
	 * for System V (memfd and POSIX are read with pread). */
	guard_add(s);
	st = sf__segment_prove(&s->seg, msg, c->challenge, why, why_len);
	if (st == SF_PROBE_OK && s->broken) {
		st = SF_PROBE_BAD_SEGMENT;
		snprintf(why, why_len, "the segment faulted when its proof was read");
	}
	if (st != SF_PROBE_OK) {
		shmseg_release(s);
		free(s);
		return unproven(c, msg, st, why, why_len);
	}
	/* The mapping is all we use: an fd kept per segment would let a
	 * client run the server out of fds with small segments. */
	if (s->seg.fd >= 0) {
		close(s->seg.fd);
		s->seg.fd = -1;
	}
	s->refs = 1;
	c->res.mapped += s->seg.size;
	c->server->mapped_total += s->seg.size;
	*out = s;
	return SF_PROBE_OK;
}

struct sf_shmseg *sfs__shmseg_find(struct sf_client *c, uint32_t id)
{
	struct sf_shmseg *s;

	list_for_each(s, &c->res.segments, struct sf_shmseg, link)
		if (s->id == id)
			return s;
	return NULL;
}

void sfs__shmseg_ref(struct sf_shmseg *s)
{
	s->refs++;
}

void sfs__shmseg_unref(struct sf_shmseg *s)
{
	if (--s->refs > 0)
		return;
	s->client->res.mapped -= s->seg.size;
	s->client->server->mapped_total -= s->seg.size;
	shmseg_release(s);
	free(s);
}

void sfs__shmseg_detach(struct sf_shmseg *s)
{
	if (!s->attached)
		return;
	list_remove(&s->link);
	s->attached = false;
	s->client->res.n_segments--;
	sfs__shmseg_unref(s);
}
