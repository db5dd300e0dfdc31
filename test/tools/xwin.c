/*
 * sf-xwin: finds a top-level X window by its title and acts on it the way a
 * user or a window manager would, for the viewer tests (plain xcb: no
 * xdotool, no XTEST).
 *
 *     sf-xwin id TITLE            print the window's id (0x...)
 *     sf-xwin close TITLE         WM_DELETE_WINDOW, as a close button does
 *     sf-xwin key TITLE KEY       focus it and press KEY (Escape, q, ...)
 *     sf-xwin resize TITLE WxH    resize it, as a window manager does
 *     sf-xwin move TITLE X,Y      move it (windows that overlap hide
 *                                 one another's content from xwd)
 *     sf-xwin gone TITLE          wait until no window has that title
 *
 * The title must match _NET_WM_NAME (or WM_NAME) exactly.  Every command
 * waits up to --timeout seconds (default 10) for the window to appear (or,
 * for gone, to disappear).  Exit 0 on success, 1 when the window never
 * appeared (or never went), 2 on a usage error or without an X server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xcb/xcb.h>

#define PROG "sf-xwin"

static xcb_atom_t intern(xcb_connection_t *c, const char *name)
{
	xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(
		c, xcb_intern_atom(c, 0, (uint16_t)strlen(name), name), NULL);
	xcb_atom_t a = r ? r->atom : XCB_ATOM_NONE;

	free(r);
	return a;
}

/* True when window's property prop (of any type) is exactly title. */
static int title_is(xcb_connection_t *c, xcb_window_t win, xcb_atom_t prop,
                    const char *title)
{
	xcb_get_property_reply_t *r = xcb_get_property_reply(
		c, xcb_get_property(c, 0, win, prop, XCB_GET_PROPERTY_TYPE_ANY, 0,
		                    1024), NULL);
	int same = 0;

	if (r && r->format == 8) {
		int len = xcb_get_property_value_length(r);

		same = (size_t)len == strlen(title) &&
		       memcmp(xcb_get_property_value(r), title, (size_t)len) == 0;
	}
	free(r);
	return same;
}

/* Depth-first search under parent (a window manager may have reparented
 * the window into a frame). */
static xcb_window_t find_under(xcb_connection_t *c, xcb_window_t parent,
                               xcb_atom_t net_wm_name, const char *title,
                               int depth)
{
	xcb_query_tree_reply_t *tree;
	xcb_window_t *kids, found = XCB_WINDOW_NONE;
	int n;

	tree = xcb_query_tree_reply(c, xcb_query_tree(c, parent), NULL);
	if (!tree)
		return XCB_WINDOW_NONE;
	kids = xcb_query_tree_children(tree);
	n = xcb_query_tree_children_length(tree);
	for (int i = 0; i < n && found == XCB_WINDOW_NONE; i++) {
		if ((net_wm_name != XCB_ATOM_NONE &&
		     title_is(c, kids[i], net_wm_name, title)) ||
		    title_is(c, kids[i], XCB_ATOM_WM_NAME, title))
			found = kids[i];
		else if (depth < 2)
			found = find_under(c, kids[i], net_wm_name, title, depth + 1);
	}
	free(tree);
	return found;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap(void)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Waits for the window to exist (want_gone: to stop existing). */
static xcb_window_t wait_window(xcb_connection_t *c, xcb_window_t root,
                                const char *title, double timeout,
                                int want_gone, int *ok)
{
	xcb_atom_t net_wm_name = intern(c, "_NET_WM_NAME");
	double end = now() + timeout;
	xcb_window_t w;

	for (;;) {
		w = find_under(c, root, net_wm_name, title, 0);
		if (want_gone ? w == XCB_WINDOW_NONE : w != XCB_WINDOW_NONE) {
			*ok = 1;
			return w;
		}
		if (now() > end) {
			*ok = 0;
			return w;
		}
		nap();
	}
}

/* A round trip: everything sent before has reached the server. */
static void sync_x(xcb_connection_t *c)
{
	free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL));
}

static int send_close(xcb_connection_t *c, xcb_window_t w)
{
	xcb_client_message_event_t ev;

	memset(&ev, 0, sizeof ev);
	ev.response_type = XCB_CLIENT_MESSAGE;
	ev.format = 32;
	ev.window = w;
	ev.type = intern(c, "WM_PROTOCOLS");
	ev.data.data32[0] = intern(c, "WM_DELETE_WINDOW");
	ev.data.data32[1] = XCB_CURRENT_TIME;
	xcb_send_event(c, 0, w, XCB_EVENT_MASK_NO_EVENT, (const char *)&ev);
	return 0;
}

static int keysym_of(const char *name, uint32_t *sym)
{
	if (strcmp(name, "Escape") == 0)
		*sym = 0xff1b;
	else if (strlen(name) == 1 && name[0] >= 0x20 && name[0] < 0x7f)
		*sym = (unsigned char)name[0]; /* Latin-1 keysyms are the code */
	else
		return -1;
	return 0;
}

/* The keycode that produces sym unshifted, or 0. */
static xcb_keycode_t keycode_of(xcb_connection_t *c, uint32_t sym)
{
	const xcb_setup_t *setup = xcb_get_setup(c);
	uint8_t first = setup->min_keycode;
	uint8_t count = (uint8_t)(setup->max_keycode - first + 1);
	xcb_get_keyboard_mapping_reply_t *r = xcb_get_keyboard_mapping_reply(
		c, xcb_get_keyboard_mapping(c, first, count), NULL);
	xcb_keycode_t code = 0;

	if (!r)
		return 0;
	for (int k = 0; k < count && !code; k++) {
		const xcb_keysym_t *syms = xcb_get_keyboard_mapping_keysyms(r) +
		                           k * r->keysyms_per_keycode;

		if (r->keysyms_per_keycode > 0 && syms[0] == sym)
			code = (xcb_keycode_t)(first + k);
	}
	free(r);
	return code;
}

/* Gives the window the focus, as a click would, then delivers a press and
 * a release of the key to it. */
static int send_key(xcb_connection_t *c, xcb_window_t root, xcb_window_t w,
                    const char *name)
{
	xcb_key_press_event_t ev;
	xcb_keycode_t code;
	uint32_t sym;

	if (keysym_of(name, &sym) < 0) {
		fprintf(stderr, PROG ": unknown key '%s' (Escape or one "
		        "character)\n", name);
		return 2;
	}
	code = keycode_of(c, sym);
	if (!code) {
		fprintf(stderr, PROG ": no key of the keyboard makes '%s'\n", name);
		return 2;
	}
	xcb_set_input_focus(c, XCB_INPUT_FOCUS_POINTER_ROOT, w,
	                    XCB_CURRENT_TIME);
	sync_x(c);
	memset(&ev, 0, sizeof ev);
	ev.detail = code;
	ev.root = root;
	ev.event = w;
	ev.child = XCB_WINDOW_NONE;
	ev.same_screen = 1;
	ev.time = XCB_CURRENT_TIME;
	ev.response_type = XCB_KEY_PRESS;
	xcb_send_event(c, 1, w, XCB_EVENT_MASK_KEY_PRESS, (const char *)&ev);
	ev.response_type = XCB_KEY_RELEASE;
	xcb_send_event(c, 1, w, XCB_EVENT_MASK_KEY_RELEASE, (const char *)&ev);
	return 0;
}

static int send_resize(xcb_connection_t *c, xcb_window_t w, const char *size)
{
	unsigned width, height;
	char end;
	uint32_t values[2];

	if (sscanf(size, "%ux%u%c", &width, &height, &end) != 2 || !width ||
	    !height || width > 32767 || height > 32767) {
		fprintf(stderr, PROG ": resize needs WxH, not '%s'\n", size);
		return 2;
	}
	values[0] = width;
	values[1] = height;
	xcb_configure_window(c, w, XCB_CONFIG_WINDOW_WIDTH |
	                     XCB_CONFIG_WINDOW_HEIGHT, values);
	return 0;
}

static int send_move(xcb_connection_t *c, xcb_window_t w, const char *pos)
{
	int x, y;
	char end;
	uint32_t values[2];

	if (sscanf(pos, "%d,%d%c", &x, &y, &end) != 2 || x < -32768 ||
	    x > 32767 || y < -32768 || y > 32767) {
		fprintf(stderr, PROG ": move needs X,Y, not '%s'\n", pos);
		return 2;
	}
	values[0] = (uint32_t)x;
	values[1] = (uint32_t)y;
	xcb_configure_window(c, w, XCB_CONFIG_WINDOW_X | XCB_CONFIG_WINDOW_Y,
	                     values);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " [--timeout S] id|close|gone TITLE\n"
	        "       " PROG " [--timeout S] key TITLE KEY\n"
	        "       " PROG " [--timeout S] resize TITLE WxH\n"
	        "       " PROG " [--timeout S] move TITLE X,Y\n");
	return 2;
}

int main(int argc, char **argv)
{
	double timeout = 10;
	const char *cmd, *title, *arg = NULL;
	xcb_connection_t *c;
	xcb_screen_t *screen;
	xcb_window_t w;
	int argi = 1, ok, status = 0, screen_no;

	if (argi + 1 < argc && strcmp(argv[argi], "--timeout") == 0) {
		timeout = atof(argv[argi + 1]);
		argi += 2;
	}
	if (argc - argi < 2)
		return usage();
	cmd = argv[argi];
	title = argv[argi + 1];
	if (strcmp(cmd, "key") == 0 || strcmp(cmd, "resize") == 0 ||
	    strcmp(cmd, "move") == 0) {
		if (argc - argi != 3)
			return usage();
		arg = argv[argi + 2];
	} else if (argc - argi != 2 || (strcmp(cmd, "id") && strcmp(cmd, "close") &&
	                                strcmp(cmd, "gone"))) {
		return usage();
	}

	c = xcb_connect(NULL, &screen_no);
	if (xcb_connection_has_error(c)) {
		fprintf(stderr, PROG ": cannot connect to the X server\n");
		xcb_disconnect(c);
		return 2;
	}
	screen = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
	w = wait_window(c, screen->root, title, timeout,
	                strcmp(cmd, "gone") == 0, &ok);
	if (!ok) {
		fprintf(stderr, PROG ": %s\n", strcmp(cmd, "gone") == 0
		        ? "the window is still there" : "no window has that title");
		status = 1;
	} else if (strcmp(cmd, "id") == 0) {
		printf("0x%x\n", (unsigned)w);
	} else if (strcmp(cmd, "close") == 0) {
		status = send_close(c, w);
	} else if (strcmp(cmd, "key") == 0) {
		status = send_key(c, screen->root, w, arg);
	} else if (strcmp(cmd, "resize") == 0) {
		status = send_resize(c, w, arg);
	} else if (strcmp(cmd, "move") == 0) {
		status = send_move(c, w, arg);
	}
	sync_x(c);
	xcb_disconnect(c);
	return status;
}
