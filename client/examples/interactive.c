/*
 * interactive: the smallest program a person steers from the viewer's
 * window.  It asks for keys, the pointer, buttons and configure,
 * draws a crosshair where the pointer is and a bar that grows with each
 * click, takes the window's size when the window is resized, collects the
 * text typed, and quits on Escape or when the window closes.  It draws
 * only when something changed.
 *
 *   interactive [--server ADDR]
 *
 * Ends with a line: width=W height=H pointer=X,Y clicks=N keys=N
 * resizes=N text="..." transport=T
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <shmframe.h>

struct app {
	struct shmframe_conn *conn;
	struct shmframe_surface *surface;
	uint32_t width, height;
	int px, py;                /* the pointer, in surface pixels */
	unsigned clicks, keys, resizes;
	char text[64];             /* what was typed, UTF-8 */
	bool dirty, quit;
	bool configured;           /* a CONFIGURE waits for an answer */
	uint32_t want_w, want_h, serial;
};

static void on_key(void *data, struct shmframe_surface *s,
                   const struct shmframe_key_event *ev)
{
	struct app *app = data;
	size_t used = strlen(app->text), add = strlen(ev->text);

	(void)s;
	app->keys++;
	if (ev->pressed && ev->keycode == SHMFRAME_KEY_ESCAPE)
		app->quit = true;
	else if (ev->pressed && used + add < sizeof app->text)
		memcpy(app->text + used, ev->text, add + 1);
}

static void on_motion(void *data, struct shmframe_surface *s,
                      const struct shmframe_pointer_event *ev)
{
	struct app *app = data;

	(void)s;
	/* Coordinates are the surface's pixels, fractional when the viewer
	 * scales; the pixel under the pointer is the whole part. */
	app->px = (int)ev->x;
	app->py = (int)ev->y;
	app->dirty = true;
}

/* The pointer left the window: no crosshair. */
static void on_leave(void *data, struct shmframe_surface *s,
                     const struct shmframe_pointer_event *ev)
{
	struct app *app = data;

	(void)s, (void)ev;
	app->px = app->py = -1;
	app->dirty = true;
}

static void on_button(void *data, struct shmframe_surface *s,
                      const struct shmframe_button_event *ev)
{
	struct app *app = data;

	(void)s;
	if (ev->pressed && ev->button == SHMFRAME_BUTTON_LEFT) {
		app->clicks++;
		app->dirty = true;
	}
}

/* Called from inside dispatch (or acquire): remember the size, answer it
 * from the main loop, where no buffer is held. */
static void on_configure(void *data, struct shmframe_surface *s,
                         uint32_t width, uint32_t height, uint32_t serial)
{
	struct app *app = data;

	(void)s;
	app->configured = true;
	app->want_w = width;
	app->want_h = height;
	app->serial = serial;
}

static void on_closed(void *data, struct shmframe_surface *s)
{
	struct app *app = data;

	(void)s;
	app->quit = true;
}

static const struct shmframe_surface_listener listener = {
	.key = on_key,
	.pointer_motion = on_motion,
	/* Coming over the window is where the pointer first is. */
	.pointer_enter = on_motion,
	.pointer_leave = on_leave,
	.pointer_button = on_button,
	.configure = on_configure,
	.closed = on_closed,
};

/* Dark blue, a white crosshair through the pointer, an orange bar of 8
 * pixels a click along the top. */
static void render(const struct app *app, uint8_t *px, uint32_t stride)
{
	for (uint32_t y = 0; y < app->height; y++) {
		uint32_t *row = (uint32_t *)(px + (size_t)y * stride);

		for (uint32_t x = 0; x < app->width; x++) {
			uint32_t c = 0xff102040u;

			if ((int)x == app->px || (int)y == app->py)
				c = 0xffffffffu;
			else if (y < 8 && x < 8u * app->clicks)
				c = 0xffff8000u;
			row[x] = c;
		}
	}
}

static int draw(struct app *app)
{
	struct shmframe_buffer *buf = shmframe_acquire(app->surface);
	uint32_t stride;
	uint8_t *px;

	if (!buf)
		return -errno;
	px = shmframe_buffer_pixels(buf, &stride);
	render(app, px, stride);
	app->dirty = false;
	return shmframe_present(app->surface, buf, NULL, 0, NULL);
}

/* Takes the size the window shows; a size the server refuses (beyond
 * its limits) keeps the old one, and the viewer scales it. */
static int answer_configure(struct app *app)
{
	int err;

	app->configured = false;
	err = shmframe_surface_resize(app->surface, app->want_w, app->want_h,
	                              app->serial);
	if (err == -EFBIG) {
		fprintf(stderr, "interactive: %ux%u is too big, staying %ux%u\n",
		        app->want_w, app->want_h, app->width, app->height);
		return 0;
	}
	if (err)
		return err;
	if (app->want_w != app->width || app->want_h != app->height) {
		app->width = app->want_w;
		app->height = app->want_h;
		app->resizes++;
		app->dirty = true;
	}
	return 0;
}

static int run(struct app *app)
{
	int err = draw(app);

	while (!err && !app->quit) {
		struct pollfd p = { .fd = shmframe_get_fd(app->conn), .events = POLLIN };

		err = shmframe_flush(app->conn);
		if (err == -EAGAIN)
			p.events |= POLLOUT;
		else if (err)
			break;
		if (poll(&p, 1, -1) < 0) {
			err = errno == EINTR ? 0 : -errno;
			continue;
		}
		err = shmframe_dispatch(app->conn);
		if (err < 0)
			break;
		err = 0;
		if (app->configured)
			err = answer_configure(app);
		if (!err && app->dirty && !app->quit)
			err = draw(app);
	}
	/* Everything sent has been handled before the program says so. */
	if (!err)
		err = shmframe_roundtrip(app->conn);
	return err;
}

int main(int argc, char **argv)
{
	struct app app = { .width = 320, .height = 240, .px = -1, .py = -1 };
	const char *server = NULL;
	struct shmframe_options opts;
	int err;

	if (argc == 3 && strcmp(argv[1], "--server") == 0) {
		server = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: interactive [--server ADDR]\n");
		return 2;
	}
	shmframe_options_init(&opts);
	opts.name = "interactive";
	app.conn = shmframe_connect(server, &opts);
	if (!app.conn)
		return 1;
	err = shmframe_conn_error(app.conn);
	if (!err) {
		app.surface = shmframe_surface_create(app.conn, app.width, app.height,
		                                      SHMFRAME_FORMAT_XRGB8888,
		                                      "interactive");
		err = app.surface ? 0 : -errno;
	}
	if (!err) {
		shmframe_surface_set_listener(app.surface, &listener, &app);
		err = shmframe_surface_select_input(app.surface,
		                                    SHMFRAME_EVENT_KEY |
		                                    SHMFRAME_EVENT_POINTER_MOTION |
		                                    SHMFRAME_EVENT_POINTER_BUTTON |
		                                    SHMFRAME_EVENT_POINTER_CROSSING |
		                                    SHMFRAME_EVENT_CONFIGURE);
		if (err == -ENOTSUP)
			fprintf(stderr, "interactive: this server sends no input\n");
	}
	if (!err)
		err = run(&app);
	if (err)
		fprintf(stderr, "interactive: %s\n", shmframe_last_error(app.conn));
	else
		printf("width=%u height=%u pointer=%d,%d clicks=%u keys=%u "
		       "resizes=%u text=\"%s\" transport=%s\n", app.width,
		       app.height, app.px, app.py, app.clicks, app.keys,
		       app.resizes, app.text, shmframe_transport_name(app.conn));
	shmframe_surface_destroy(app.surface);
	shmframe_disconnect(app.conn);
	return err ? 1 : 0;
}
