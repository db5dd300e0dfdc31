/*
 * PNG snapshots of surfaces (--dump-dir): on SIGUSR1, and every N frames
 * with --dump-every.  Rows go to libpng straight from the surface's
 * content (latched buffer or own memory); libpng swaps B,G,R,A into PNG's
 * R,G,B,A order itself, and drops the X byte of XRGB surfaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server-private.h"

static void png_error_cb(png_structp png, png_const_charp msg)
{
	sfs__log("png: %s", msg);
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
	const uint8_t *px = sfs__surface_pixels(s, &stride);
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

int sfs__dump_dir_open(const char *dir, char *why, size_t len)
{
	struct stat st;
	int fd, err;

	/* O_NOFOLLOW: the directory itself, not whatever a link names. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		/* O_DIRECTORY wins over O_NOFOLLOW: a link is ENOTDIR too. */
		if (err == -ELOOP ||
		    (err == -ENOTDIR && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)))
			snprintf(why, len, "the dump directory %s is a symbolic link",
			         dir);
		else if (err == -ENOTDIR)
			snprintf(why, len, "the dump directory %s is not a directory",
			         dir);
		else
			snprintf(why, len, "cannot open the dump directory %s: %s",
			         dir, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		snprintf(why, len, "cannot read the dump directory %s: %s", dir,
		         strerror(-err));
		goto err_close;
	}
	/* Whoever owns the directory, or may write into it, could replace
	 * what the server writes there or plant names for it to follow: a
	 * shared one, even sticky like /tmp, is refused. */
	err = -EPERM;
	if (st.st_uid != getuid()) {
		snprintf(why, len, "the dump directory %s belongs to uid %u, not to "
		         "uid %u", dir, (unsigned)st.st_uid, (unsigned)getuid());
		goto err_close;
	}
	if (st.st_mode & 022) {
		snprintf(why, len, "the dump directory %s is mode 0%o: others may "
		         "write into it (it must be writable by its owner only)",
		         dir, (unsigned)(st.st_mode & 07777));
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return err;
}

/* Creates a temporary file in dirfd under a name nobody can predict, so
 * that nothing can be planted there first; the name is left in tmp. */
static int create_temp(int dirfd, const struct sf_surface *s, char *tmp,
                       size_t len)
{
	for (int tries = 0; tries < 8; tries++) {
		uint8_t r[8];
		int fd, n, err = sf__random(r, sizeof r);

		if (err)
			return err;
		n = snprintf(tmp, len, ".surface-%u-%u.png.%02x%02x%02x%02x%02x%02x"
		             "%02x%02x", s->client->id, s->id, r[0], r[1], r[2], r[3],
		             r[4], r[5], r[6], r[7]);
		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		            O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

int sfs__snapshot_write(const char *dir, const struct sf_surface *s)
{
	char name[64], tmp[96], why[300];
	uint32_t stride;
	FILE *fp;
	int dirfd, fd, err, n;

	if (!sfs__surface_pixels(s, &stride))
		return 0;
	n = snprintf(name, sizeof name, "surface-%u-%u.png", s->client->id, s->id);
	if (n < 0 || (size_t)n >= sizeof name)
		return -ENAMETOOLONG;
	/* Checked again for every snapshot: the path may name another
	 * directory than it did at startup. */
	dirfd = sfs__dump_dir_open(dir, why, sizeof why);
	if (dirfd < 0) {
		sfs__log("no snapshot: %s", why);
		return dirfd;
	}
	fd = create_temp(dirfd, s, tmp, sizeof tmp);
	if (fd < 0) {
		err = fd;
		sfs__log("cannot write a snapshot in %s: %s", dir, strerror(-err));
		goto out_dir;
	}
	fp = fdopen(fd, "wb");
	if (!fp) {
		err = -errno;
		close(fd);
		goto err_unlink;
	}
	err = write_png(fp, s);
	if (fclose(fp) != 0 && !err)
		err = -errno;
	/* renameat replaces a link at name, never what it points to. */
	if (!err && renameat(dirfd, tmp, dirfd, name) < 0)
		err = -errno;
	if (err)
		goto err_unlink;
	goto out_dir;

err_unlink:
	sfs__log("cannot write snapshot %s/%s: %s", dir, name, strerror(-err));
	unlinkat(dirfd, tmp, 0);
out_dir:
	close(dirfd);
	return err;
}

void sfs__snapshot_all(struct sf_server *server)
{
	struct sf_client *c;
	struct sf_surface *s;
	unsigned n = 0;

	/* Writing reads pixels and changes nothing: a shrunk segment only
	 * marks it broken, and its client is failed later, outside this walk. */
	list_for_each(c, &server->clients, struct sf_client, link) {
		if (c->state != SF_CLIENT_READY)
			continue;
		list_for_each(s, &c->res.surfaces, struct sf_surface, link) {
			if (s->has_frame && sfs__snapshot_write(server->dump_dir, s) == 0)
				n++;
		}
	}
	sfs__verbose(server, "wrote %u snapshot%s to %s", n, n == 1 ? "" : "s",
	            server->dump_dir);
}
