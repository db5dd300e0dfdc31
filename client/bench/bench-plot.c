/*
 * bench-plot.c: the chart, a PNG a person reads at a glance.
 *
 * Frames per second on a log scale (the modes differ by orders of
 * magnitude), one group of bars per frame size, one bar per mode: solid up
 * to the end-to-end rate (drawing included), light above it up to the rate
 * of the transport alone.  Rows of one client count and damage only (one
 * client and whole frames by default); the table has the rest.  Text uses a small built-in 5x7 font so that the
 * chart needs nothing but libpng.
 */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-private.h"

#define W 1280
#define H 720
#define PLOT_LEFT 90
#define PLOT_RIGHT (W - 24)
#define PLOT_TOP 130
#define PLOT_BOTTOM (H - 70)
#define MAX_SERIES 32
#define MAX_GROUPS 16

struct rgb {
	uint8_t r, g, b;
};

struct canvas {
	uint8_t px[H][W][3];
};

/* ------------------------------------------------------------------ */
/* A 5x7 font, one string of 7 rows of 5 columns per glyph.            */

struct glyph {
	char c;
	const char *rows[7];
};

static const struct glyph font[] = {
	{ ' ', { ".....", ".....", ".....", ".....", ".....", ".....", "....." } },
	{ '0', { ".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###." } },
	{ '1', { "..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###." } },
	{ '2', { ".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####" } },
	{ '3', { "#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###." } },
	{ '4', { "...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#." } },
	{ '5', { "#####", "#....", "####.", "....#", "....#", "#...#", ".###." } },
	{ '6', { "..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###." } },
	{ '7', { "#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..." } },
	{ '8', { ".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###." } },
	{ '9', { ".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.." } },
	{ 'A', { ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#" } },
	{ 'B', { "####.", "#...#", "#...#", "####.", "#...#", "#...#", "####." } },
	{ 'C', { ".###.", "#...#", "#....", "#....", "#....", "#...#", ".###." } },
	{ 'D', { "###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.." } },
	{ 'E', { "#####", "#....", "#....", "####.", "#....", "#....", "#####" } },
	{ 'F', { "#####", "#....", "#....", "####.", "#....", "#....", "#...." } },
	{ 'G', { ".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####" } },
	{ 'H', { "#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#" } },
	{ 'I', { ".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###." } },
	{ 'J', { "..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.." } },
	{ 'K', { "#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#" } },
	{ 'L', { "#....", "#....", "#....", "#....", "#....", "#....", "#####" } },
	{ 'M', { "#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#" } },
	{ 'N', { "#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#" } },
	{ 'O', { ".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###." } },
	{ 'P', { "####.", "#...#", "#...#", "####.", "#....", "#....", "#...." } },
	{ 'Q', { ".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#" } },
	{ 'R', { "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#" } },
	{ 'S', { ".####", "#....", "#....", ".###.", "....#", "....#", "####." } },
	{ 'T', { "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.." } },
	{ 'U', { "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###." } },
	{ 'V', { "#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.." } },
	{ 'W', { "#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#." } },
	{ 'X', { "#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#" } },
	{ 'Y', { "#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.." } },
	{ 'Z', { "#####", "....#", "...#.", "..#..", ".#...", "#....", "#####" } },
	{ 'a', { ".....", ".....", ".###.", "....#", ".####", "#...#", ".####" } },
	{ 'b', { "#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####." } },
	{ 'c', { ".....", ".....", ".###.", "#....", "#....", "#...#", ".###." } },
	{ 'd', { "....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####" } },
	{ 'e', { ".....", ".....", ".###.", "#...#", "#####", "#....", ".###." } },
	{ 'f', { "..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..." } },
	{ 'g', { ".....", ".####", "#...#", "#...#", ".####", "....#", ".###." } },
	{ 'h', { "#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#" } },
	{ 'i', { "..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###." } },
	{ 'j', { "...#.", ".....", "..##.", "...#.", "...#.", "#..#.", ".##.." } },
	{ 'k', { "#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#." } },
	{ 'l', { ".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###." } },
	{ 'm', { ".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#" } },
	{ 'n', { ".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#" } },
	{ 'o', { ".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###." } },
	{ 'p', { ".....", ".....", "####.", "#...#", "####.", "#....", "#...." } },
	{ 'q', { ".....", ".....", ".##.#", "#..##", ".####", "....#", "....#" } },
	{ 'r', { ".....", ".....", "#.##.", "##..#", "#....", "#....", "#...." } },
	{ 's', { ".....", ".....", ".###.", "#....", ".###.", "....#", "####." } },
	{ 't', { ".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##." } },
	{ 'u', { ".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#" } },
	{ 'v', { ".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.." } },
	{ 'w', { ".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#." } },
	{ 'x', { ".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#" } },
	{ 'y', { ".....", ".....", "#...#", "#...#", ".####", "....#", ".###." } },
	{ 'z', { ".....", ".....", "#####", "...#.", "..#..", ".#...", "#####" } },
	{ '.', { ".....", ".....", ".....", ".....", ".....", ".##..", ".##.." } },
	{ ',', { ".....", ".....", ".....", ".....", ".##..", "..#..", ".#..." } },
	{ ':', { ".....", ".##..", ".##..", ".....", ".##..", ".##..", "....." } },
	{ '/', { ".....", "....#", "...#.", "..#..", ".#...", "#....", "....." } },
	{ '-', { ".....", ".....", ".....", "#####", ".....", ".....", "....." } },
	{ '(', { "...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#." } },
	{ ')', { ".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..." } },
	{ '%', { "##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##" } },
	{ '=', { ".....", ".....", "#####", ".....", "#####", ".....", "....." } },
	{ '_', { ".....", ".....", ".....", ".....", ".....", ".....", "#####" } },
	{ '>', { ".#...", "..#..", "...#.", "....#", "...#.", "..#..", ".#..." } },
	{ '<', { "...#.", "..#..", ".#...", "#....", ".#...", "..#..", "...#." } },
	{ '+', { ".....", "..#..", "..#..", "#####", "..#..", "..#..", "....." } },
	{ '|', { "..#..", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.." } },
	{ '*', { ".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....." } },
};

static const struct glyph *glyph_of(char c)
{
	for (size_t i = 0; i < sizeof(font) / sizeof(font[0]); i++)
		if (font[i].c == c)
			return &font[i];
	return &font[0];
}

/* ------------------------------------------------------------------ */
/* Drawing                                                             */

static void fill(struct canvas *cv, int x0, int y0, int x1, int y1,
                 struct rgb c)
{
	if (x0 < 0)
		x0 = 0;
	if (y0 < 0)
		y0 = 0;
	if (x1 > W)
		x1 = W;
	if (y1 > H)
		y1 = H;
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			cv->px[y][x][0] = c.r;
			cv->px[y][x][1] = c.g;
			cv->px[y][x][2] = c.b;
		}
}

static int text_width(const char *s, int scale)
{
	int n = (int)strlen(s);

	return n ? (n * 6 - 1) * scale : 0;
}

/* Draws s with its top-left corner at (x, y). */
static void text(struct canvas *cv, int x, int y, const char *s, int scale,
                 struct rgb c)
{
	for (; *s; s++, x += 6 * scale) {
		const struct glyph *g = glyph_of(*s);

		for (int r = 0; r < 7; r++)
			for (int col = 0; col < 5; col++)
				if (g->rows[r][col] == '#')
					fill(cv, x + col * scale, y + r * scale,
					     x + (col + 1) * scale, y + (r + 1) * scale, c);
	}
}

static struct rgb mix(struct rgb a, struct rgb b, double t)
{
	struct rgb m = {
		(uint8_t)(a.r + (b.r - a.r) * t),
		(uint8_t)(a.g + (b.g - a.g) * t),
		(uint8_t)(a.b + (b.b - a.b) * t),
	};
	return m;
}

/* "950", "2.1k", "12k", "1.5M": three figures at most. */
static void short_number(char *out, size_t len, double v)
{
	const char *unit = "";

	if (v >= 1e6) {
		v /= 1e6;
		unit = "M";
	} else if (v >= 1e3) {
		v /= 1e3;
		unit = "k";
	}
	if (v < 10 && *unit && fabs(v - round(v)) >= 0.05)
		snprintf(out, len, "%.1f%s", v, unit);
	else
		snprintf(out, len, "%.0f%s", v, unit);
}

/* ------------------------------------------------------------------ */
/* The chart                                                           */

static const struct rgb mode_colours[BENCH_MODE_COUNT] = {
	[BENCH_SHM_LATCH] = { 0x1f, 0x77, 0xb4 },
	[BENCH_SHM_COPY] = { 0x2c, 0xa0, 0x2c },
	[BENCH_SOCKET] = { 0xff, 0x7f, 0x0e },
	[BENCH_MEMCPY_LIMIT] = { 0x7f, 0x7f, 0x7f },
	[BENCH_SOCKET_LIMIT] = { 0x8c, 0x56, 0x4b },
	[BENCH_X11_PUTIMAGE] = { 0xd6, 0x27, 0x28 },
	[BENCH_X11_SHM] = { 0x94, 0x67, 0xbd },
};

struct series {
	enum bench_mode mode;
	enum shmframe_shm_kind shm;
	char name[40];
	struct rgb colour;
};

/* The chart shows the rows of one client count and one damage: those of
 * the first row measured (one client and the whole frame by default). */
static const struct bench_job *shown;

static int plotted(const struct bench_row *r)
{
	return r->done && r->fps > 0 && r->job.clients == shown->clients &&
	       r->job.damage_full == shown->damage_full &&
	       (shown->damage_full ||
	        (r->job.damage.width == shown->damage.width &&
	         r->job.damage.height == shown->damage.height));
}

static double y_of(double v, double lo, double hi)
{
	double t = (log10(v) - lo) / (hi - lo);

	return PLOT_BOTTOM - t * (PLOT_BOTTOM - PLOT_TOP);
}

static void draw(struct canvas *cv, const struct bench_row *rows, size_t n,
                 const struct series *ser, size_t n_ser,
                 const struct bench_row **groups, size_t n_grp)
{
	const struct rgb white = { 255, 255, 255 }, ink = { 0x20, 0x20, 0x20 };
	const struct rgb grid = { 0xc8, 0xc8, 0xc8 }, faint = { 0xec, 0xec, 0xec };
	double vmin = INFINITY, vmax = 0, lo, hi;
	int gw, bw, lx, ly;
	char buf[64], sub[160];

	fill(cv, 0, 0, W, H, white);
	text(cv, PLOT_LEFT, 14, "shmframe-bench: frames per second by mode "
	     "and frame size (log scale)", 2, ink);
	if (shown->damage_full)
		snprintf(buf, sizeof(buf), "whole frames");
	else
		snprintf(buf, sizeof(buf), "damage %ux%u", shown->damage.width,
		         shown->damage.height);
	snprintf(sub, sizeof(sub), "solid: end to end, drawing included.  "
	         "light: transport alone.  %u client%s, %s, BGRA.",
	         shown->clients, shown->clients == 1 ? "" : "s", buf);
	text(cv, PLOT_LEFT, 36, sub, 2, ink);

	/* Legend, flowing left to right. */
	lx = PLOT_LEFT;
	ly = 66;
	for (size_t s = 0; s < n_ser; s++) {
		int w = 14 + 6 + text_width(ser[s].name, 2) + 22;

		if (lx + w > PLOT_RIGHT) {
			lx = PLOT_LEFT;
			ly += 24;
		}
		fill(cv, lx, ly, lx + 14, ly + 14, ser[s].colour);
		text(cv, lx + 20, ly, ser[s].name, 2, ink);
		lx += w;
	}

	for (size_t i = 0; i < n; i++) {
		if (!plotted(&rows[i]))
			continue;
		vmin = fmin(vmin, rows[i].fps);
		vmax = fmax(vmax, fmax(rows[i].fps, rows[i].transport_fps));
	}
	lo = floor(log10(vmin));
	hi = ceil(log10(vmax));
	if (hi - lo < 1)
		hi = lo + 1;

	/* Grid: every decade, fainter at 2x and 5x. */
	for (double d = lo; d <= hi; d++) {
		for (int m = 2; m <= 5 && d < hi; m += 3) {
			int y = (int)y_of(m * pow(10, d), lo, hi);

			fill(cv, PLOT_LEFT, y, PLOT_RIGHT, y + 1, faint);
		}
		int y = (int)y_of(pow(10, d), lo, hi);

		fill(cv, PLOT_LEFT, y, PLOT_RIGHT, y + 1, grid);
		short_number(buf, sizeof(buf), pow(10, d));
		text(cv, PLOT_LEFT - 10 - text_width(buf, 2), y - 7, buf, 2, ink);
	}
	text(cv, 8, PLOT_TOP - 28, "frames/s", 2, ink);
	fill(cv, PLOT_LEFT, PLOT_TOP, PLOT_LEFT + 1, PLOT_BOTTOM + 1, ink);
	fill(cv, PLOT_LEFT, PLOT_BOTTOM, PLOT_RIGHT, PLOT_BOTTOM + 1, ink);

	gw = (PLOT_RIGHT - PLOT_LEFT) / (int)n_grp;
	bw = (int)(gw * 0.84 / (double)n_ser);
	if (bw > 70)
		bw = 70;
	for (size_t g = 0; g < n_grp; g++) {
		int gx = PLOT_LEFT + (int)g * gw;
		int x0 = gx + (gw - bw * (int)n_ser) / 2;

		snprintf(buf, sizeof(buf), "%ux%u", groups[g]->job.width,
		         groups[g]->job.height);
		text(cv, gx + (gw - text_width(buf, 2)) / 2, PLOT_BOTTOM + 14, buf,
		     2, ink);
		for (size_t s = 0; s < n_ser; s++) {
			const struct bench_row *r = NULL;
			int x = x0 + (int)s * bw, ytp, yfps, lw;

			for (size_t i = 0; i < n && !r; i++)
				if (plotted(&rows[i]) && rows[i].job.mode == ser[s].mode &&
				    rows[i].job.shm == ser[s].shm &&
				    rows[i].job.width == groups[g]->job.width &&
				    rows[i].job.height == groups[g]->job.height)
					r = &rows[i];
			if (!r)
				continue;
			yfps = (int)y_of(r->fps, lo, hi);
			if (r->transport_fps > r->fps) {
				ytp = (int)y_of(r->transport_fps, lo, hi);
				fill(cv, x + 1, ytp, x + bw - 1, yfps,
				     mix(ser[s].colour, white, 0.6));
			}
			fill(cv, x + 1, yfps, x + bw - 1, PLOT_BOTTOM, ser[s].colour);
			short_number(buf, sizeof(buf), r->fps);
			lw = text_width(buf, 1);
			if (lw <= bw + 4)
				text(cv, x + (bw - lw) / 2, yfps - 10, buf, 1, ink);
		}
	}
}

static int write_png(const char *path, struct canvas *cv, char *err,
                     size_t errlen)
{
	png_structp png;
	png_infop info;
	FILE *f;

	f = fopen(path, "wbe");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		fclose(f);
		snprintf(err, errlen, "%s: cannot write the PNG", path);
		return -1;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < H; y++)
		png_write_row(png, cv->px[y][0]);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int bench_plot_write(const char *path, const struct bench_row *rows, size_t n,
                     char *err, size_t errlen)
{
	static const double shade[] = { 1.0, 1.0, 0.7, 0.45 }; /* by shm kind */
	const struct bench_row *groups[MAX_GROUPS];
	struct series ser[MAX_SERIES];
	size_t n_ser = 0, n_grp = 0;
	struct canvas *cv;
	int rc;

	shown = NULL;
	for (size_t i = 0; i < n && !shown; i++)
		if (rows[i].done && rows[i].fps > 0)
			shown = &rows[i].job;
	if (!shown) {
		snprintf(err, errlen, "no row was measured: nothing to plot");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];
		size_t s, g;

		if (!plotted(r))
			continue;
		for (s = 0; s < n_ser; s++)
			if (ser[s].mode == r->job.mode && ser[s].shm == r->job.shm)
				break;
		if (s == n_ser && n_ser < MAX_SERIES) {
			const struct rgb black = { 0, 0, 0 };

			ser[s].mode = r->job.mode;
			ser[s].shm = r->job.shm;
			if (r->job.shm != SHMFRAME_SHM_ANY)
				snprintf(ser[s].name, sizeof(ser[s].name), "%s/%s",
				         bench_mode_names[r->job.mode],
				         bench_shm_kind_name(r->job.shm));
			else
				snprintf(ser[s].name, sizeof(ser[s].name), "%s",
				         bench_mode_names[r->job.mode]);
			ser[s].colour = mix(black, mode_colours[r->job.mode],
			                    shade[r->job.shm & 3]);
			n_ser++;
		}
		for (g = 0; g < n_grp; g++)
			if (groups[g]->job.width == r->job.width &&
			    groups[g]->job.height == r->job.height)
				break;
		if (g == n_grp && n_grp < MAX_GROUPS)
			groups[n_grp++] = r;
	}
	cv = malloc(sizeof(*cv));
	if (!cv) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	draw(cv, rows, n, ser, n_ser, groups, n_grp);
	rc = write_png(path, cv, err, errlen);
	free(cv);
	return rc;
}
