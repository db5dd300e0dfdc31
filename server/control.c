/*
 * The input control socket (PROTOCOL.md, "The input control socket"):
 * scripts and tests type, point, scroll, focus and resize through it as a
 * person does through a window, headless or not.  Each connection sends
 * command lines (control-parse.c) and gets one answer line for each;
 * the commands become the same sfs__input_* calls a viewer makes.
 *
 * Only the server's uid and root get in (SO_PEERCRED): synthetic input
 * reaches every client's surfaces, so an --allow-uid uid, which may use
 * its own surfaces, is refused here.  Everything a connection costs is
 * bounded: its line, its queued answers, the commands run per wakeup,
 * the connections at once.  A connection that does not read its answers
 * stops being read (its commands wait), and nobody else waits for it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "server-private.h"

/* Sockets: one beside each Unix listener, or the one --input-socket names. */
#define MAX_SOCKETS 16
/* Control connections at once; one more is told so and closed. */
#define MAX_CONNS 16
/* Commands run per wakeup of one connection, before the others' turn. */
#define CMD_BUDGET 64
/* Answers queued for a connection; commands wait while it has less room
 * than the longest answer line. */
#define OUT_MAX (64u * 1024u)
#define ANSWER_MAX (2u * SF_SHOWN_MAX + 256u)

struct conn {
	struct sf_list link;         /* ctl->conns */
	struct sfs_control *ctl;
	struct sf_watch watch;
	int fd;
	bool eof;                    /* the peer sent all it will */
	bool skipping;               /* inside a line too long, up to its end */
	size_t in_len;
	char in[SFS_CONTROL_LINE_MAX];
	size_t out_off, out_len;
	char out[OUT_MAX];
	/* A `list` whose lines go out as room allows: the last surface shown
	 * (client id, surface id, its place in its client's list). */
	struct {
		bool active;
		uint32_t client_id, surface_id;
		unsigned index, count;
	} list;
};

struct sfs_control {
	struct sf_server *server;
	struct sf_listener *sockets[MAX_SOCKETS];
	unsigned n_sockets;
	struct sf_list conns;        /* struct conn.link */
	unsigned n_conns;
	/* The one synthetic pointer: the surface it is over (ids: surfaces
	 * come and go between commands) and where. */
	struct {
		bool over;
		uint32_t client_id, surface_id;
		int32_t x, y;
	} pointer;
};

/* ---- answers -------------------------------------------------------------- */

static size_t out_room(const struct conn *c)
{
	return OUT_MAX - c->out_len;
}

/* Queues one line.  Callers check the room first (ANSWER_MAX); a line
 * that still does not fit is cut, never written past the queue. */
static void answer(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void answer(struct conn *c, const char *fmt, ...)
{
	size_t room = out_room(c);
	va_list ap;
	int n;

	if (room < 2)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->out + c->out_len, room - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > room - 2)
		n = (int)(room - 2);
	c->out_len += (size_t)n;
	c->out[c->out_len++] = '\n';
}

/* Writes what the socket takes.  0, or -1 when the peer is gone. */
static int flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
	} else if (c->out_off > OUT_MAX / 2) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	return 0;
}

/* ---- surfaces ------------------------------------------------------------- */

static struct sf_client *find_client(struct sf_server *server, uint32_t id)
{
	struct sf_client *cl;

	list_for_each(cl, &server->clients, struct sf_client, link)
		if (cl->id == id && cl->state == SF_CLIENT_READY)
			return cl;
	return NULL;
}

static struct sf_surface *find_surface(struct sf_server *server,
                                       uint32_t client_id, uint32_t surface_id)
{
	struct sf_client *cl = find_client(server, client_id);

	return cl ? sfs__surface_find(cl, surface_id) : NULL;
}

/* The newest surface titled title (printable form), or of any title when
 * title is NULL: the last one made by the newest client that has one
 * (clients are in the order they came). */
static struct sf_surface *newest_surface(struct sf_server *server,
                                         const char *title)
{
	struct sf_surface *found = NULL, *s;
	struct sf_client *cl;

	list_for_each(cl, &server->clients, struct sf_client, link) {
		if (cl->state != SF_CLIENT_READY)
			continue;
		list_for_each(s, &cl->res.surfaces, struct sf_surface, link)
			if (!title || strcmp(s->title, title) == 0)
				found = s;
	}
	return found;
}

static struct sf_surface *pointer_surface(struct sfs_control *ctl)
{
	struct sf_surface *s;

	if (!ctl->pointer.over)
		return NULL;
	s = find_surface(ctl->server, ctl->pointer.client_id,
	                 ctl->pointer.surface_id);
	if (!s)
		ctl->pointer.over = false;
	return s;
}

/* The surface cmd names, or NULL after an answer saying why. */
static struct sf_surface *target(struct conn *c,
                                 const struct sfs_control_cmd *cmd)
{
	struct sf_server *server = c->ctl->server;
	struct sf_surface *s = NULL;
	char title[SF_SHOWN_MAX], quoted[SF_SHOWN_MAX + 4];

	switch (cmd->target) {
	case SFS_TARGET_ID:
		s = find_surface(server, cmd->client_id, cmd->surface_id);
		if (!s)
			answer(c, "error: no surface %u:%u", cmd->client_id,
			       cmd->surface_id);
		return s;
	case SFS_TARGET_TITLE:
		/* Titles are kept printable: compare in that form, so that a
		 * title shown by list, pasted back, names its surface. */
		sf__text_printable(title, sizeof title, cmd->title);
		s = newest_surface(server, title);
		if (!s) {
			sfs__control_quote(quoted, sizeof quoted, title);
			answer(c, "error: no surface titled %s", quoted);
		}
		return s;
	case SFS_TARGET_DEFAULT:
		s = newest_surface(server, NULL);
		if (!s)
			answer(c, "error: no surface to send input to");
		return s;
	}
	return NULL;
}

/* The surface the pointer is over, which cmd's target must be when it
 * names one; NULL after an answer saying why. */
static struct sf_surface *under_pointer(struct conn *c,
                                        const struct sfs_control_cmd *cmd)
{
	struct sf_surface *s = pointer_surface(c->ctl), *t;

	if (!s) {
		answer(c, "error: the pointer is over no surface (motion or enter "
		       "first)");
		return NULL;
	}
	if (cmd->target == SFS_TARGET_DEFAULT)
		return s;
	t = target(c, cmd);
	if (t && t != s) {
		answer(c, "error: the pointer is over %u:%u, not %u:%u",
		       s->client->id, s->id, t->client->id, t->id);
		return NULL;
	}
	return t;
}

/* ---- commands ------------------------------------------------------------- */

/* The answer to an sfs__input_* call on s (client and surface ids taken
 * before the call: a client failed by it is gone after). */
static void answer_input(struct conn *c, int r, uint32_t cid, uint32_t sid)
{
	if (r < 0)
		answer(c, "error: the client of %u:%u was dropped: its events "
		       "were not read (SLOW)", cid, sid);
	else
		answer(c, "ok %u:%u", cid, sid);
}

/* The pointer leaves the surface it is over, if any.  0, or -1 when that
 * failed its client. */
static int pointer_leave(struct sfs_control *ctl, uint32_t mods, uint64_t now)
{
	struct sf_surface *s = pointer_surface(ctl);

	ctl->pointer.over = false;
	if (!s)
		return 0;
	return sfs__input_pointer(s, SF_POINTER_LEAVE, ctl->pointer.x,
	                          ctl->pointer.y, mods, now);
}

static void run_pointer(struct conn *c, const struct sfs_control_cmd *cmd,
                        struct sf_surface *s, uint64_t now)
{
	struct sfs_control *ctl = c->ctl;
	uint32_t cid = s->client->id, sid = s->id;
	bool over = pointer_surface(ctl) == s;
	int r;

	if (cmd->verb == SFS_CTL_MOTION && over) {
		ctl->pointer.x = cmd->x;
		ctl->pointer.y = cmd->y;
		r = sfs__input_pointer(s, SF_POINTER_MOTION, cmd->x, cmd->y,
		                       cmd->modifiers, now);
		answer_input(c, r, cid, sid);
		return;
	}
	/* Motion onto another surface, or enter: leave first.  The leave may
	 * fail the other surface's client, never s's. */
	(void)pointer_leave(ctl, cmd->modifiers, now);
	s = find_surface(ctl->server, cid, sid);
	if (!s) {
		answer(c, "error: no surface %u:%u", cid, sid);
		return;
	}
	ctl->pointer.over = true;
	ctl->pointer.client_id = cid;
	ctl->pointer.surface_id = sid;
	ctl->pointer.x = cmd->x;
	ctl->pointer.y = cmd->y;
	r = sfs__input_pointer(s, SF_POINTER_ENTER, cmd->x, cmd->y,
	                       cmd->modifiers, now);
	answer_input(c, r, cid, sid);
}

static void run_key(struct conn *c, const struct sfs_control_cmd *cmd,
                    struct sf_surface *s, uint64_t now)
{
	struct sf_key_input k = {
		.keycode = cmd->keycode,
		.keysym = cmd->keysym,
		.modifiers = cmd->modifiers,
		.pressed = cmd->pressed,
		.repeat = cmd->repeat,
	};
	uint32_t cid = s->client->id, sid = s->id;

	memcpy(k.text, cmd->text, sizeof k.text);
	answer_input(c, sfs__input_key(s, &k, now), cid, sid);
}

/* Where run_list goes on in cl's surfaces: after the last one shown, at
 * its place when it is still there, else where it was (a surface that
 * went since moved the rest up by one). */
static unsigned list_resume(const struct conn *c, struct sf_client *cl)
{
	struct sf_surface *s;
	unsigned i = 0;

	if (cl->id != c->list.client_id)
		return 0;
	list_for_each(s, &cl->res.surfaces, struct sf_surface, link) {
		i++;
		if (s->id == c->list.surface_id)
			return i;
	}
	return c->list.index ? c->list.index - 1 : 0;
}

/* One `list` line per surface while the queue has room; then `ok N`. */
static void run_list(struct conn *c)
{
	struct sf_server *server = c->ctl->server;
	struct sf_client *cl;

	list_for_each(cl, &server->clients, struct sf_client, link) {
		struct sf_surface *s;
		unsigned start, pos = 0;
		char name[SF_SHOWN_MAX + 4], title[SF_SHOWN_MAX + 4];

		if (cl->state != SF_CLIENT_READY || cl->id < c->list.client_id)
			continue;
		start = list_resume(c, cl);
		sfs__control_quote(name, sizeof name, cl->name);
		list_for_each(s, &cl->res.surfaces, struct sf_surface, link) {
			if (pos++ < start)
				continue;
			if (out_room(c) < ANSWER_MAX)
				return;
			sfs__control_quote(title, sizeof title, s->title);
			answer(c, "surface %u:%u width=%u height=%u mask=0x%x "
			       "view=%ux%u name=%s title=%s", cl->id, s->id, s->width,
			       s->height, s->input.mask, s->input.view_width,
			       s->input.view_height, name, title);
			c->list.client_id = cl->id;
			c->list.surface_id = s->id;
			c->list.index = pos;
			c->list.count++;
		}
		if (cl->id == UINT32_MAX)
			break;
		/* Every surface of this client is out: the next client's first. */
		c->list.client_id = cl->id + 1;
		c->list.surface_id = 0;
		c->list.index = 0;
	}
	answer(c, "ok %u", c->list.count);
	c->list.active = false;
}

static void run(struct conn *c, const struct sfs_control_cmd *cmd)
{
	struct sfs_control *ctl = c->ctl;
	uint64_t now = sfs__now_ns();
	struct sf_surface *s;
	uint32_t cid, sid;
	int r;

	switch (cmd->verb) {
	case SFS_CTL_LIST:
		memset(&c->list, 0, sizeof c->list);
		c->list.active = true;
		run_list(c);
		return;
	case SFS_CTL_LEAVE:
		s = under_pointer(c, cmd);
		if (!s)
			return;
		cid = s->client->id;
		sid = s->id;
		answer_input(c, pointer_leave(ctl, cmd->modifiers, now), cid, sid);
		return;
	case SFS_CTL_BUTTON:
	case SFS_CTL_WHEEL:
		s = under_pointer(c, cmd);
		if (!s)
			return;
		cid = s->client->id;
		sid = s->id;
		if (cmd->verb == SFS_CTL_BUTTON)
			r = sfs__input_button(s, ctl->pointer.x, ctl->pointer.y,
			                      cmd->button, cmd->pressed,
			                      cmd->modifiers, now);
		else
			r = sfs__input_axis(s, cmd->dx120, cmd->dy120, now);
		answer_input(c, r, cid, sid);
		return;
	default:
		break;
	}
	s = target(c, cmd);
	if (!s)
		return;
	cid = s->client->id;
	sid = s->id;
	switch (cmd->verb) {
	case SFS_CTL_KEY:
		run_key(c, cmd, s, now);
		return;
	case SFS_CTL_MOTION:
	case SFS_CTL_ENTER:
		run_pointer(c, cmd, s, now);
		return;
	case SFS_CTL_FOCUS:
		answer_input(c, sfs__input_focus(s, cmd->pressed, now), cid, sid);
		return;
	case SFS_CTL_CONFIGURE:
		answer_input(c, sfs__input_configure(s, cmd->width, cmd->height,
		                                     now), cid, sid);
		return;
	default:
		return;
	}
}

/* ---- connections ---------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	sfs__loop_remove(c->ctl->server->loop, &c->watch);
	close(c->fd);
	list_remove(&c->link);
	c->ctl->n_conns--;
	free(c);
}

/* Runs one line of the buffer (len bytes, its newline not counted). */
static void run_line(struct conn *c, size_t len)
{
	struct sfs_control_cmd cmd;
	char why[300];
	size_t n = len;

	/* A terminal or nc may end lines with CR LF. */
	if (n && c->in[n - 1] == '\r')
		n--;
	if (sfs__control_parse(c->in, n, &cmd, why, sizeof why) < 0)
		answer(c, "error: %s", why);
	else
		run(c, &cmd);
}

/* The length of the first whole line in the buffer, or -1. */
static long line_end(const struct conn *c)
{
	const char *nl = memchr(c->in, '\n', c->in_len);

	return nl ? nl - c->in : -1;
}

static void consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* Runs the commands in the buffer within one turn's budget, while the
 * answers have room.  True when commands are left for another turn. */
static bool work(struct conn *c)
{
	for (unsigned done = 0; done < CMD_BUDGET; done++) {
		long len;

		if (out_room(c) < ANSWER_MAX)
			return false;
		if (c->list.active) {
			run_list(c);
			continue;
		}
		len = line_end(c);
		if (len < 0 && c->eof && c->in_len && !c->skipping) {
			/* The last line lacked its newline. */
			run_line(c, c->in_len);
			c->in_len = 0;
			continue;
		}
		if (len < 0)
			return false;
		if (c->skipping)
			c->skipping = false;
		else
			run_line(c, (size_t)len);
		consume(c, (size_t)len + 1);
	}
	return c->list.active || line_end(c) >= 0 ||
	       (c->eof && c->in_len && !c->skipping);
}

/* One read of what fits.  0, or -1 when the connection is to go. */
static int read_in(struct conn *c)
{
	ssize_t n;

	/* Full of whole lines: they are run before more is read. */
	if (c->in_len == sizeof c->in)
		return 0;
	do
		n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len,
		         MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	if (n == 0) {
		c->eof = true;
		return 0;
	}
	c->in_len += (size_t)n;
	if (c->in_len == sizeof c->in && line_end(c) < 0) {
		/* A line too long: said once, then skipped to its end. */
		if (!c->skipping)
			answer(c, "error: line longer than %u bytes",
			       SFS_CONTROL_LINE_MAX - 1);
		c->skipping = true;
		c->in_len = 0;
	}
	return 0;
}

/* Polls for what the connection can do next, or frees it when it is done
 * (true then). */
static bool update(struct conn *c, bool more)
{
	struct sf_loop *loop = c->ctl->server->loop;
	bool pending = c->out_len > c->out_off;
	uint32_t ev = 0;

	if (c->eof && !more && !pending) {
		conn_free(c);
		return true;
	}
	/* Commands left (more) take their next turn when the socket is
	 * writable, which it is at once unless the answers are stuck: then
	 * they wait for the peer to read. */
	if (pending || more)
		ev |= SF_LOOP_WRITE;
	if (!c->eof && !more && out_room(c) >= ANSWER_MAX && line_end(c) < 0)
		ev |= SF_LOOP_READ;
	if (sfs__loop_modify(loop, &c->watch, ev) < 0) {
		conn_free(c);
		return true;
	}
	return false;
}

static void conn_event(struct sf_watch *w, uint32_t events)
{
	struct conn *c = w->data;
	bool more;

	if ((events & SF_LOOP_READ) && read_in(c) < 0) {
		conn_free(c);
		return;
	}
	more = work(c);
	if (flush_out(c) < 0 || ((events & SF_LOOP_HUP) && !(events & SF_LOOP_READ))) {
		conn_free(c);
		return;
	}
	update(c, more);
}

/* Refuses fd with one line (a fresh socket has room for it) and closes it. */
static void refuse(int fd, const char *text)
{
	ssize_t n = send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);

	(void)n;
	close(fd);
}

static void control_accepted(struct sf_listener *l, int fd)
{
	struct sfs_control *ctl = l->data;
	struct sf_server *server = ctl->server;
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct conn *c;
	char text[200];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    len != sizeof cred) {
		refuse(fd, "error: the peer's uid could not be read (SO_PEERCRED)\n");
		return;
	}
	if (cred.uid != server->uid && cred.uid != 0) {
		snprintf(text, sizeof text, "error: uid %u may not use the input "
		         "socket of this server, which runs as uid %u (only that "
		         "uid and root: input reaches every client)\n",
		         (unsigned)cred.uid, (unsigned)server->uid);
		sfs__verbose(server, "%s: refused uid %u", l->text,
		            (unsigned)cred.uid);
		refuse(fd, text);
		return;
	}
	if (ctl->n_conns >= MAX_CONNS) {
		snprintf(text, sizeof text, "error: too many control connections "
		         "(%u at once)\n", MAX_CONNS);
		refuse(fd, text);
		return;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		refuse(fd, "error: out of memory\n");
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	if (sfs__loop_add(server->loop, &c->watch, fd, SF_LOOP_READ, conn_event,
	                  c) < 0) {
		free(c);
		refuse(fd, "error: the server cannot watch this connection\n");
		return;
	}
	list_append(&ctl->conns, &c->link);
	ctl->n_conns++;
	sfs__verbose(server, "%s: control connection of uid %u pid %d", l->text,
	            (unsigned)cred.uid, (int)cred.pid);
}

/* ---- sockets -------------------------------------------------------------- */

int sfs__control_open(struct sf_server *server, const char *const *paths,
                      unsigned n, struct sfs_control **out)
{
	struct sfs_control *ctl;
	int err;

	*out = NULL;
	if (n > MAX_SOCKETS) {
		sfs__log("at most %d input sockets", MAX_SOCKETS);
		return -EINVAL;
	}
	ctl = calloc(1, sizeof *ctl);
	if (!ctl)
		return -ENOMEM;
	ctl->server = server;
	list_init(&ctl->conns);
	for (unsigned i = 0; i < n; i++) {
		err = sfs__listener_open_unix(server, paths[i], 0600,
		                             control_accepted, ctl,
		                             &ctl->sockets[ctl->n_sockets]);
		if (err) {
			sfs__control_close(ctl);
			return err;
		}
		ctl->n_sockets++;
	}
	*out = ctl;
	return 0;
}

void sfs__control_close(struct sfs_control *ctl)
{
	if (!ctl)
		return;
	while (!list_empty(&ctl->conns))
		conn_free(list_first(&ctl->conns, struct conn, link));
	for (unsigned i = 0; i < ctl->n_sockets; i++)
		sfs__listener_close(ctl->sockets[i]);
	free(ctl);
}

const char *sfs__control_path(const struct sfs_control *ctl, unsigned i)
{
	return ctl->sockets[i]->path;
}

unsigned sfs__control_count(const struct sfs_control *ctl)
{
	return ctl ? ctl->n_sockets : 0;
}
