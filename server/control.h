/*
 * The input control socket: synthetic input for the server's surfaces
 * (PROTOCOL.md, "The input control socket").  control-parse.c turns one
 * command line into a struct sfs_control_cmd and knows nothing of the
 * server (the fuzz target runs it alone); control.c listens, reads lines,
 * runs the commands through the sfs__input_* calls of events.c and queues
 * the answers.
 */
#ifndef SHMFRAME_SERVER_CONTROL_H
#define SHMFRAME_SERVER_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Longest command line, its newline included. */
#define SFS_CONTROL_LINE_MAX 4096u
/* Longest title a command may name (CREATE_SURFACE's limit). */
#define SFS_CONTROL_TITLE_MAX 255u
/* Pointer coordinates: surface pixels, within +-SFS_CONTROL_COORD_MAX. */
#define SFS_CONTROL_COORD_MAX 1000000
/* Wheel steps: notches, within +-SFS_CONTROL_NOTCH_MAX. */
#define SFS_CONTROL_NOTCH_MAX 100000

enum sfs_control_verb {
	SFS_CTL_LIST = 1,
	SFS_CTL_KEY,
	SFS_CTL_MOTION,
	SFS_CTL_ENTER,
	SFS_CTL_LEAVE,
	SFS_CTL_BUTTON,
	SFS_CTL_WHEEL,
	SFS_CTL_FOCUS,
	SFS_CTL_CONFIGURE,
};

/* Which surface a command is for. */
enum sfs_control_target {
	SFS_TARGET_DEFAULT,  /* the newest surface (or, for button and
	                      * wheel, the one the pointer is over) */
	SFS_TARGET_ID,       /* surface=CLIENT:SURFACE */
	SFS_TARGET_TITLE,    /* title=TEXT */
};

struct sfs_control_cmd {
	enum sfs_control_verb verb;
	enum sfs_control_target target;
	uint32_t client_id, surface_id;          /* SFS_TARGET_ID */
	char title[SFS_CONTROL_TITLE_MAX + 1];   /* SFS_TARGET_TITLE, NUL-ended
	                                          * bytes as given */
	bool pressed;            /* key, button: press; focus: in */
	bool repeat;             /* key */
	uint32_t keycode, keysym, modifiers;
	char text[SF_KEY_TEXT_SIZE + 1];         /* key: UTF-8, NUL-ended */
	uint32_t button;         /* 1 .. SF_BUTTON_MAX */
	int32_t x, y;            /* motion, enter: 24.8 fixed surface pixels */
	int32_t dx120, dy120;    /* wheel: 120 a notch */
	uint32_t width, height;  /* configure: 1 .. SF_MAX_DIMENSION */
};

/*
 * Parses one command line (len bytes at line, without its newline; any
 * bytes) into *cmd.  0, or -1 with why (why_len bytes, NUL-ended) saying
 * what is wrong in text that is printable whatever the line held.
 */
int sfs__control_parse(const char *line, size_t len,
                       struct sfs_control_cmd *cmd, char *why,
                       size_t why_len);

/*
 * Writes src (NUL-ended, already printable: sf__text_printable's output)
 * into dst (cap > 0 bytes) as a quoted word of the command language:
 * "..." with each '"' written \x22.  Returns the length, or 0 when it
 * did not fit (dst is then "").  Parsing the result gives back bytes
 * that sf__text_printable turns into src again, so a title shown by
 * `list` names the same surface when it is given back.
 */
size_t sfs__control_quote(char *dst, size_t cap, const char *src);

/* ---- control.c ----------------------------------------------------------- */

struct sf_server;
struct sfs_control;

/*
 * Listens for control connections on every Unix socket path of paths (n
 * of them), each created as the main listeners are (a stale socket file
 * replaced, a live one or another file refused) with mode 0600.  0 with
 * *out set (n may be 0: no socket, nothing to free but *out), or -errno
 * after a message.
 */
int sfs__control_open(struct sf_server *server, const char *const *paths,
                      unsigned n, struct sfs_control **out);
/* Closes every control connection and socket (unlinking our socket
 * files) and frees ctl; NULL is a no-op.  Before sfs__server_fini. */
void sfs__control_close(struct sfs_control *ctl);
/* The path of socket i (i < n), for the ready line. */
const char *sfs__control_path(const struct sfs_control *ctl, unsigned i);
unsigned sfs__control_count(const struct sfs_control *ctl);

#endif
