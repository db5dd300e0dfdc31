/*
 * PNG snapshots of surfaces (--dump-dir): on SIGUSR1, and every N frames
 * with --dump-every.  Rows go to libpng straight from the surface's
 * content (latched buffer or own memory); libpng swaps B,G,R,A into PNG's
 * R,G,B,A order itself, and drops the X byte of XRGB surfaces.
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "server-private.h"

static void png_error_cb(png_structp png, png_const_charp msg)
{
	sf__log("png: %s", msg);
	png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* Writes the surface to fp; 0 or -EIO. */
static int write_png(FILE *fp, const struct sf_surface *s)
{
	png_structp png;
	png_infop info;
	uint32_t stride;
	const uint8_t *px = sf__surface_pixels(s, &stride);
	int alpha = s->format == SF_FORMAT_ARGB8888;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_error_cb,
	                              png_warning_cb);
	if (!png)
		return -EIO;
	info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return -EIO;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -EIO;
	}
	png_init_io(png, fp);
	/* Snapshots are taken inside the event loop: favour speed. */
	png_set_compression_level(png, 1);
	png_set_IHDR(png, info, s->width, s->height, 8,
	             alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
	             PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	             PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	png_set_bgr(png);
	if (!alpha)
		png_set_filler(png, 0, PNG_FILLER_AFTER);
	for (uint32_t y = 0; y < s->height; y++)
		png_write_row(png, px + (size_t)y * stride);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	return 0;
}

int sf__snapshot_write(const char *dir, const struct sf_surface *s)
{
	char path[4096], tmp[4096];
	uint32_t stride;
	FILE *fp;
	int err, n;

	if (!sf__surface_pixels(s, &stride))
		return 0;
	n = snprintf(path, sizeof path, "%s/surface-%u-%u.png", dir,
	             s->client->id, s->id);
	if (n < 0 || (size_t)n >= sizeof path)
		return -ENAMETOOLONG;
	n = snprintf(tmp, sizeof tmp, "%s/.surface-%u-%u.png.tmp-%d", dir,
	             s->client->id, s->id, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -ENAMETOOLONG;
	fp = fopen(tmp, "wbe");
	if (!fp) {
		err = -errno;
		sf__log("cannot write %s: %s", tmp, strerror(errno));
		return err;
	}
	err = write_png(fp, s);
	if (fclose(fp) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		sf__log("cannot write snapshot %s: %s", path, strerror(-err));
		unlink(tmp);
		return err;
	}
	return 0;
}

void sf__snapshot_all(struct sf_server *server)
{
	struct sf_client *c;
	struct sf_surface *s;
	unsigned n = 0;

	/* Writing reads pixels and changes nothing: a shrunk segment only
	 * marks it broken, and its client is failed later, outside this walk. */
	list_for_each(c, &server->clients, struct sf_client, link) {
		if (c->state != SF_CLIENT_READY)
			continue;
		list_for_each(s, &c->surfaces, struct sf_surface, link) {
			if (s->has_frame && sf__snapshot_write(server->dump_dir, s) == 0)
				n++;
		}
	}
	sf__verbose(server, "wrote %u snapshot%s to %s", n, n == 1 ? "" : "s",
	            server->dump_dir);
}
