/*
 * shmframe-input: sends synthetic input to a shmframe server's surfaces
 * through its input control socket (PROTOCOL.md, "The input control
 * socket"), as a person would through a window: keys by name, text
 * typed, pointer motion, buttons, the wheel, focus and a new window size.
 * It translates names into the socket's command lines (USB HID key codes
 * and keysyms as KEY defines them) and waits for every answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "text.h"
#include "wire.h"

#define PROG "shmframe-input"
#define EXIT_USAGE 2

#ifndef SHMFRAME_VERSION_STRING
#define SHMFRAME_VERSION_STRING "unknown"
#endif

/* How long the server has to take the commands and answer them all. */
#define ANSWER_TIMEOUT_MS 10000
/* Keysym of a key with no Unicode character (PROTOCOL.md, KEY). */
#define SYM_KEY(code) (0x40000000u | (code))

static void usage(FILE *f)
{
	fputs("usage: " PROG " [--server ADDR | --socket PATH] "
	      "[--surface TITLE|CLIENT:SURFACE]\n"
	      "                      COMMAND [ARG]...\n"
	      "\n"
	      "Sends synthetic input to a shmframe server's surfaces through its "
	      "input\n"
	      "control socket, as a person would through a window.\n"
	      "\n"
	      "  --server ADDR   :N (RUNTIME_DIR/N.input) or unix:PATH "
	      "(PATH.input);\n"
	      "                  default $SHMFRAME_SERVER, else :0\n"
	      "  --socket PATH   the control socket itself\n"
	      "  --surface S     the surface: CLIENT:SURFACE as list shows, or a "
	      "title\n"
	      "                  (default: the newest surface; button, wheel and "
	      "leave\n"
	      "                  act where the pointer is)\n"
	      "  --help, --version\n"
	      "\n"
	      "Commands (coordinates in surface pixels, may be fractional):\n"
	      "  list                        the surfaces, one line each\n"
	      "  key KEY [press|release|tap] [--text T] [--mods LIST]\n"
	      "                              KEY: a character (a, 5, /), a name "
	      "(Return,\n"
	      "                              Escape, Tab, BackSpace, Delete, "
	      "space, Left,\n"
	      "                              Right, Up, Down, Home, End, PageUp, "
	      "PageDown,\n"
	      "                              Insert, F1..F12, shift, ctrl, alt, "
	      "super,\n"
	      "                              altgr), or a USB HID usage as 0xNN "
	      "or 2+ digits;\n"
	      "                              default tap (press, then release)\n"
	      "  type TEXT                   taps the keys that type TEXT (US "
	      "layout, Shift\n"
	      "                              pressed around capitals; other "
	      "characters\n"
	      "                              with key code 0)\n"
	      "  move X Y                    pointer motion; enters the surface "
	      "first when\n"
	      "                              the pointer is not over it\n"
	      "  button N [press|release|click]   1 left, 2 middle, 3 right, 4 "
	      "back,\n"
	      "                              5 forward; default click\n"
	      "  wheel DX DY                 notches (fractions allowed), DY > 0 "
	      "up\n"
	      "  enter X Y | leave\n"
	      "  focus in|out\n"
	      "  configure W H               as if the window now showed W x H "
	      "pixels\n"
	      "\n"
	      "LIST: shift, ctrl, alt, super, caps, num, altgr joined by commas.\n"
	      "Exit status: 0 when the server answered ok to everything, 1 "
	      "with its\n"
	      "error on stderr, 2 for a usage error.\n", f);
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" PROG " --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

static int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* ---- the lines to send ---------------------------------------------------- */

struct out {
	char *buf;
	size_t len, cap;
	unsigned lines;
	const char *target;   /* " surface=C:S" or " title=\"...\"", or "" */
	bool failed;          /* out of memory */
};

static void add(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends one command line and the target option. */
static void add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, room, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n + strlen(o->target) + 2 <= room)
			break;
		if (n < 0 || o->failed) {
			o->failed = true;
			return;
		}
		char *b = realloc(o->buf, o->cap * 2 + (size_t)n + 1024);

		if (!b) {
			o->failed = true;
			return;
		}
		o->buf = b;
		o->cap = o->cap * 2 + (size_t)n + 1024;
	}
	o->len += (size_t)n;
	o->len += (size_t)sprintf(o->buf + o->len, "%s\n", o->target);
	o->lines++;
}

/* s as a quoted value of the command language: "..." with '"', '\',
 * controls and DEL as \xNN (dst: 4 * strlen(s) + 3 bytes). */
static void quote(char *dst, const char *s)
{
	*dst++ = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			dst += sprintf(dst, "\\x%02x", c);
		else
			*dst++ = (char)c;
	}
	*dst++ = '"';
	*dst = '\0';
}

/* ---- keys ----------------------------------------------------------------- */

struct key {
	uint32_t code, sym;
	uint32_t mods;      /* needed for the character (Shift) */
	uint32_t mod_bit;   /* the key is this modifier */
	char text[8];       /* what a press types, "" for none */
};

static const struct named {
	const char *name;
	uint32_t code;
	uint32_t mod_bit;
} named_keys[] = {
	{ "Return", 40, 0 }, { "Enter", 40, 0 }, { "Escape", 41, 0 },
	{ "BackSpace", 42, 0 }, { "Tab", 43, 0 }, { "space", 44, 0 },
	{ "CapsLock", 57, 0 },
	{ "F1", 58, 0 }, { "F2", 59, 0 }, { "F3", 60, 0 }, { "F4", 61, 0 },
	{ "F5", 62, 0 }, { "F6", 63, 0 }, { "F7", 64, 0 }, { "F8", 65, 0 },
	{ "F9", 66, 0 }, { "F10", 67, 0 }, { "F11", 68, 0 }, { "F12", 69, 0 },
	{ "Insert", 73, 0 }, { "Home", 74, 0 }, { "PageUp", 75, 0 },
	{ "Delete", 76, 0 }, { "End", 77, 0 }, { "PageDown", 78, 0 },
	{ "Right", 79, 0 }, { "Left", 80, 0 }, { "Down", 81, 0 },
	{ "Up", 82, 0 },
	{ "ctrl", 224, SF_MOD_CTRL }, { "shift", 225, SF_MOD_SHIFT },
	{ "alt", 226, SF_MOD_ALT }, { "super", 227, SF_MOD_SUPER },
	{ "rctrl", 228, SF_MOD_CTRL }, { "rshift", 229, SF_MOD_SHIFT },
	{ "altgr", 230, SF_MOD_ALTGR }, { "rsuper", 231, SF_MOD_SUPER },
};

/* The US layout's keys for ASCII punctuation: unshifted, then shifted,
 * with their usages. */
static const struct punct {
	char plain, shifted;
	uint32_t code;
} punct_keys[] = {
	{ '1', '!', 30 }, { '2', '@', 31 }, { '3', '#', 32 }, { '4', '$', 33 },
	{ '5', '%', 34 }, { '6', '^', 35 }, { '7', '&', 36 }, { '8', '*', 37 },
	{ '9', '(', 38 }, { '0', ')', 39 }, { '-', '_', 45 }, { '=', '+', 46 },
	{ '[', '{', 47 }, { ']', '}', 48 }, { '\\', '|', 49 }, { ';', ':', 51 },
	{ '\'', '"', 52 }, { '`', '~', 53 }, { ',', '<', 54 }, { '.', '>', 55 },
	{ '/', '?', 56 },
};

/* The key that types code point cp (UTF-8 in utf8), US layout: letters,
 * digits, punctuation, space, newline (Return) and tab; any other
 * character gets key code 0 and its code point as keysym. */
static void key_for_char(uint32_t cp, const char *utf8, size_t len,
                         struct key *k)
{
	memset(k, 0, sizeof *k);
	if (len < sizeof k->text)
		memcpy(k->text, utf8, len);
	if (cp >= 'a' && cp <= 'z') {
		k->code = 4 + (cp - 'a');
		k->sym = cp;
	} else if (cp >= 'A' && cp <= 'Z') {
		k->code = 4 + (cp - 'A');
		k->sym = cp - 'A' + 'a';
		k->mods = SF_MOD_SHIFT;
	} else if (cp == ' ') {
		k->code = 44;
		k->sym = ' ';
	} else if (cp == '\n' || cp == '\t') {
		/* No text, as a viewer reports them. */
		k->code = cp == '\n' ? 40 : 43;
		k->sym = SYM_KEY(k->code);
		k->text[0] = '\0';
	} else {
		k->code = 0;
		k->sym = cp;
		for (size_t i = 0; i < sizeof punct_keys / sizeof punct_keys[0]; i++)
			if ((uint32_t)punct_keys[i].plain == cp ||
			    (uint32_t)punct_keys[i].shifted == cp) {
				k->code = punct_keys[i].code;
				k->sym = (uint32_t)(unsigned char)punct_keys[i].plain;
				if ((uint32_t)punct_keys[i].shifted == cp)
					k->mods = SF_MOD_SHIFT;
			}
	}
}

/* The printable character whose key has usage code, for a key named by
 * its usage (0 when none). */
static char char_of_code(uint32_t code)
{
	if (code >= 4 && code <= 29)
		return (char)('a' + code - 4);
	if (code == 44)
		return ' ';
	for (size_t i = 0; i < sizeof punct_keys / sizeof punct_keys[0]; i++)
		if (punct_keys[i].code == code)
			return punct_keys[i].plain;
	return 0;
}

/* KEY as the command line names it.  0, or -1 when unknown. */
static int parse_key(const char *name, struct key *k)
{
	uint32_t cp;
	size_t len = strlen(name);

	memset(k, 0, sizeof *k);
	if (len && sf__utf8_decode(name, len, &cp) == len) {
		key_for_char(cp, name, len, k);
		return 0;
	}
	for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++)
		if (strcasecmp(name, named_keys[i].name) == 0) {
			char c = char_of_code(named_keys[i].code);

			if (c) {
				key_for_char((uint32_t)c, &c, 1, k);
				return 0;
			}
			k->code = named_keys[i].code;
			k->sym = SYM_KEY(k->code);
			k->mod_bit = named_keys[i].mod_bit;
			return 0;
		}
	{
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(name, &end, 0);
		if (errno || *end || name[0] == '-' || name[0] == '+' || v > 0xffff)
			return -1;
		if (char_of_code((uint32_t)v)) {
			char c = char_of_code((uint32_t)v);

			key_for_char((uint32_t)c, &c, 1, k);
			return 0;
		}
		k->code = (uint32_t)v;
		k->sym = SYM_KEY(k->code);
		for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++)
			if (named_keys[i].code == k->code)
				k->mod_bit = named_keys[i].mod_bit;
	}
	return 0;
}

static const char *const mod_names[] = {
	"shift", "ctrl", "alt", "super", "caps", "num", "altgr",
};

static int parse_mods(const char *list, uint32_t *out)
{
	char buf[128], *save, *w;

	*out = 0;
	if (strlen(list) >= sizeof buf)
		return -1;
	strcpy(buf, list);
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof mod_names / sizeof mod_names[0]; i++)
			if (strcasecmp(w, mod_names[i]) == 0)
				break;
		if (i == sizeof mod_names / sizeof mod_names[0])
			return -1;
		*out |= 1u << i;
	}
	return 0;
}

/* One key event: the modifiers held with it (after it, for a modifier
 * key), text on a press only, and none while Ctrl, Alt or Super is held
 * (a viewer then reports none either). */
static void add_key(struct out *o, const struct key *k, bool press,
                    uint32_t mods, const char *text)
{
	char q[4 * 16 + 3] = "";

	mods |= k->mods;
	if (k->mod_bit)
		mods = press ? mods | k->mod_bit : mods & ~k->mod_bit;
	if (!text)
		text = (mods & (SF_MOD_CTRL | SF_MOD_ALT | SF_MOD_SUPER)) ? ""
		                                                          : k->text;
	if (press && text[0])
		quote(q, text);
	add(o, "key %s %u %u mods=0x%x%s%s", press ? "press" : "release",
	    k->code, k->sym, mods, press && text[0] ? " text=" : "", q);
}

/* ---- commands ------------------------------------------------------------- */

static bool is_decimal(const char *s)
{
	size_t i = s[0] == '-', digits = 0;

	for (; s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (s[i] == '.')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	return digits && !s[i] && strlen(s) < 24;
}

static int cmd_key(struct out *o, int argc, char **argv)
{
	const char *text = NULL, *how = "tap";
	uint32_t mods = 0;
	struct key k;
	int n = 0;

	if (argc < 1)
		return usage_error("key needs a KEY");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--text") == 0 && i + 1 < argc) {
			text = argv[++i];
			if (strlen(text) > SF_KEY_TEXT_SIZE ||
			    !sf__utf8_valid(text, strlen(text)))
				return usage_error("--text must be UTF-8 of at most %u "
				                   "bytes", SF_KEY_TEXT_SIZE);
		} else if (strcmp(argv[i], "--mods") == 0 && i + 1 < argc) {
			if (parse_mods(argv[++i], &mods) < 0)
				return usage_error("invalid --mods '%s'", argv[i]);
		} else if (n++ == 0 && (strcmp(argv[i], "press") == 0 ||
		                        strcmp(argv[i], "release") == 0 ||
		                        strcmp(argv[i], "tap") == 0)) {
			how = argv[i];
		} else {
			return usage_error("unexpected '%s' after key", argv[i]);
		}
	}
	if (parse_key(argv[0], &k) < 0)
		return usage_error("unknown key '%s'", argv[0]);
	if (strcmp(how, "release") != 0)
		add_key(o, &k, true, mods, text);
	if (strcmp(how, "press") != 0)
		add_key(o, &k, false, mods, "");
	return 0;
}

static int cmd_type(struct out *o, const char *text)
{
	static const struct key shift = { .code = 225, .sym = SYM_KEY(225),
	                                  .mod_bit = SF_MOD_SHIFT };
	size_t len = strlen(text);

	if (!sf__utf8_valid(text, len))
		return usage_error("type: the text is not UTF-8");
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = sf__utf8_decode(text + i, len - i, &cp);
		struct key k;

		key_for_char(cp, text + i, n, &k);
		if (k.mods & SF_MOD_SHIFT)
			add_key(o, &shift, true, 0, NULL);
		add_key(o, &k, true, 0, NULL);
		add_key(o, &k, false, 0, "");
		if (k.mods & SF_MOD_SHIFT)
			add_key(o, &shift, false, SF_MOD_SHIFT, "");
		i += n;
	}
	return 0;
}

/* Turns the command into lines.  0, or the exit status of a usage error. */
static int build(struct out *o, int argc, char **argv)
{
	const char *c = argv[0];

#define NEED(n) do { \
		if (argc != (n) + 1) \
			return usage_error("%s takes %d argument%s", c, (n), \
			                   (n) == 1 ? "" : "s"); \
	} while (0)

	if (strcmp(c, "list") == 0) {
		NEED(0);
		add(o, "list");
	} else if (strcmp(c, "key") == 0) {
		return cmd_key(o, argc - 1, argv + 1);
	} else if (strcmp(c, "type") == 0) {
		NEED(1);
		return cmd_type(o, argv[1]);
	} else if (strcmp(c, "move") == 0 || strcmp(c, "enter") == 0) {
		NEED(2);
		if (!is_decimal(argv[1]) || !is_decimal(argv[2]))
			return usage_error("%s: invalid coordinates '%s %s'", c,
			                   argv[1], argv[2]);
		add(o, "%s %s %s", c[0] == 'm' ? "motion" : "enter", argv[1],
		    argv[2]);
	} else if (strcmp(c, "leave") == 0) {
		NEED(0);
		add(o, "leave");
	} else if (strcmp(c, "button") == 0) {
		const char *how = argc > 2 ? argv[2] : "click";

		if (argc < 2 || argc > 3)
			return usage_error("button takes N [press|release|click]");
		if (strlen(argv[1]) != 1 || argv[1][0] < '1' ||
		    argv[1][0] > '0' + (int)SF_BUTTON_MAX)
			return usage_error("invalid button '%s' (1 to %u)", argv[1],
			                   SF_BUTTON_MAX);
		if (strcmp(how, "press") != 0 && strcmp(how, "release") != 0 &&
		    strcmp(how, "click") != 0)
			return usage_error("invalid button action '%s'", how);
		if (strcmp(how, "release") != 0)
			add(o, "button %s press", argv[1]);
		if (strcmp(how, "press") != 0)
			add(o, "button %s release", argv[1]);
	} else if (strcmp(c, "wheel") == 0) {
		NEED(2);
		if (!is_decimal(argv[1]) || !is_decimal(argv[2]))
			return usage_error("wheel: invalid steps '%s %s'", argv[1],
			                   argv[2]);
		add(o, "wheel %s %s", argv[1], argv[2]);
	} else if (strcmp(c, "focus") == 0) {
		NEED(1);
		if (strcmp(argv[1], "in") != 0 && strcmp(argv[1], "out") != 0)
			return usage_error("focus takes in or out");
		add(o, "focus %s", argv[1]);
	} else if (strcmp(c, "configure") == 0) {
		char *e1, *e2;
		unsigned long w, h;

		NEED(2);
		w = strtoul(argv[1], &e1, 10);
		h = strtoul(argv[2], &e2, 10);
		if (*e1 || *e2 || !argv[1][0] || !argv[2][0] || w == 0 || h == 0 ||
		    w > SF_MAX_DIMENSION || h > SF_MAX_DIMENSION)
			return usage_error("configure takes W H, each 1 to %u",
			                   SF_MAX_DIMENSION);
		add(o, "configure %lu %lu", w, h);
	} else {
		return usage_error("unknown command '%s'", c);
	}
	return 0;
#undef NEED
}

/* ---- the socket ----------------------------------------------------------- */

static long trusted_uid(void)
{
	const char *env = getenv("SHMFRAME_SERVER_UID");
	char *end;
	unsigned long v;

	if (!env || !env[0] || env[0] == '-')
		return -1;
	errno = 0;
	v = strtoul(env, &end, 10);
	return errno || *end || v >= (uid_t)-1 ? -1 : (long)v;
}

/* Connects to the control socket; the fd, or -1 after a message. */
static int open_socket(const char *server, const char *socket_path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sf_addr a = { .kind = SF_ADDR_UNIX };
	char path[sizeof sun.sun_path + 8], dir[108], why[300];
	struct ucred cred;
	socklen_t len = sizeof cred;
	int fd = -1, dfd = -1, r;

	if (socket_path) {
		snprintf(path, sizeof path, "%s", socket_path);
	} else {
		if (sf__addr_parse(server, &a) < 0)
			return error("invalid address '%s'", server ? server : ""), -1;
		if (a.kind != SF_ADDR_UNIX)
			return error("%s is not a Unix socket: the input socket is "
			             "local (name it with --socket)", server), -1;
		snprintf(path, sizeof path, "%s.input", a.path);
	}
	if (strlen(path) >= sizeof sun.sun_path)
		return error("socket path too long: %s", path), -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (a.in_runtime_dir) {
		/* The checks the library makes before it connects: the directory
		 * is the user's alone, and the one connected in. */
		size_t n;
		char proc[sizeof path + 32];

		if (sf__runtime_dir(dir, sizeof dir) < 0)
			return error("runtime directory path too long"), -1;
		dfd = sf__runtime_dir_open(dir, why, sizeof why);
		if (dfd < 0)
			return error("refusing to connect to %s: %s", path, why), -1;
		n = strlen(dir);
		if (strncmp(path, dir, n) == 0 && path[n] == '/' &&
		    snprintf(proc, sizeof proc, "/proc/self/fd/%d%s", dfd,
		             path + n) < (int)sizeof sun.sun_path &&
		    access("/proc/self/fd", F_OK) == 0)
			memcpy(sun.sun_path, proc, strlen(proc) + 1);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = error("socket: %s", strerror(errno));
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		r = error("cannot connect to %s: %s", path, strerror(errno));
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    len != sizeof cred) {
		r = error("refusing to talk to %s: the server's uid cannot be "
		          "read", path);
		goto fail;
	}
	if (cred.uid != getuid() && cred.uid != 0 &&
	    (a.in_runtime_dir || (long)cred.uid != trusted_uid())) {
		r = error("refusing to talk to %s: the server runs as uid %u, not "
		          "as you (uid %u) or root", path, (unsigned)cred.uid,
		          (unsigned)getuid());
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		r = error("fcntl: %s", strerror(errno));
		goto fail;
	}
	if (dfd >= 0)
		close(dfd);
	return fd;

fail:
	(void)r;
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return -1;
}

/* Sends the lines and reads an answer for each: data lines go to stdout,
 * errors to stderr.  0 when every answer was ok, else 1. */
static int exchange(int fd, const struct out *o)
{
	char in[8192];
	size_t sent = 0, have = 0;
	unsigned answers = 0;
	int status = 0, send_err = 0;

	while (answers < o->lines) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		char *nl;

		if (sent < o->len)
			p.events |= POLLOUT;
		n = poll(&p, 1, ANSWER_TIMEOUT_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error("no answer from the server in %d s",
			             ANSWER_TIMEOUT_MS / 1000);
		if ((p.revents & POLLOUT) && sent < o->len) {
			n = send(fd, o->buf + sent, o->len - sent, MSG_NOSIGNAL);
			/* A server that refuses the peer says why and closes,
			 * maybe before the commands arrive: its answer is
			 * still to be read. */
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				send_err = errno;
				sent = o->len;
			}
			if (n > 0)
				sent += (size_t)n;
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = recv(fd, in + have, sizeof in - have, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0 && send_err)
			return status ? status :
			       error("sending: %s", strerror(send_err));
		if (n <= 0)
			return error("the server closed the input socket after %u of "
			             "%u answers", answers, o->lines);
		have += (size_t)n;
		while ((nl = memchr(in, '\n', have))) {
			*nl = '\0';
			if (strncmp(in, "error: ", 7) == 0) {
				char shown[4 * sizeof in];

				sf__text_printable(shown, sizeof shown, in + 7);
				error("%s", shown);
				status = 1;
				answers++;
			} else if (strncmp(in, "ok", 2) == 0 &&
			           (in[2] == ' ' || !in[2])) {
				answers++;
			} else {
				char shown[4 * sizeof in];

				sf__text_printable(shown, sizeof shown, in);
				puts(shown);
			}
			have -= (size_t)(nl + 1 - in);
			memmove(in, nl + 1, have);
		}
		if (have == sizeof in)
			return error("an answer line longer than %zu bytes",
			             sizeof in);
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "surface", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *server = NULL, *socket_path = NULL, *surface = NULL;
	char target[4 * 256 + 16] = "";
	struct out o = { .target = target };
	int opt, r, fd;

	opterr = 0;
	/* '+': the command's own words (negative coordinates, --text) are not
	 * options of the program. */
	while ((opt = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': server = optarg; break;
		case 'S': socket_path = optarg; break;
		case 'u': surface = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts(PROG " " SHMFRAME_VERSION_STRING); return 0;
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		return usage_error("no command");
	if (surface) {
		unsigned long c, s;
		char *e;

		if (strlen(surface) > 255 || !surface[0])
			return usage_error("--surface: 1 to 255 bytes");
		c = strtoul(surface, &e, 10);
		if (e != surface && *e == ':' && e[1] >= '0' && e[1] <= '9' &&
		    strspn(e + 1, "0123456789") == strlen(e + 1) && c) {
			s = strtoul(e + 1, NULL, 10);
			snprintf(target, sizeof target, " surface=%lu:%lu", c, s);
		} else {
			strcpy(target, " title=");
			quote(target + strlen(target), surface);
		}
	}
	o.cap = 4096;
	o.buf = malloc(o.cap);
	if (!o.buf)
		return error("out of memory");
	r = build(&o, argc - optind, argv + optind);
	if (r || o.failed) {
		free(o.buf);
		return r ? r : error("out of memory");
	}
	fd = open_socket(server, socket_path);
	if (fd < 0) {
		free(o.buf);
		return 1;
	}
	r = exchange(fd, &o);
	close(fd);
	free(o.buf);
	return r;
}
