/*
 * sf-overblack: what the viewer window should show for an image: the image
 * composited over black (each colour channel times alpha / 255, rounded to
 * nearest), as an RGB PNG, optionally placed at (X,Y) on a larger black
 * canvas (a window wider or taller than the image shows it centred between
 * black bars).
 *
 *     sf-overblack [--canvas WxH+X+Y] IN.png OUT.png
 *
 * Written independently of the server's code (plain division here, a
 * shift-and-add trick there), so that the two agreeing means something.
 * Exit 0, 1 on a read or write error, 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "png-io.h"

#define PROG "sf-overblack"

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " [--canvas WxH+X+Y] IN.png OUT.png\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sf_png_image in, out;
	unsigned cw = 0, ch = 0, cx = 0, cy = 0;
	int argi = 1, status = 0;
	char err[512], end;

	if (argi + 1 < argc && strcmp(argv[argi], "--canvas") == 0) {
		if (sscanf(argv[argi + 1], "%ux%u+%u+%u%c", &cw, &ch, &cx, &cy,
		           &end) != 4 || !cw || !ch || cw > 32767 || ch > 32767)
			return usage();
		argi += 2;
	}
	if (argc - argi != 2)
		return usage();
	if (sf__png_load(argv[argi], SF_PNG_RGBA, SF_PNG_MAX_SIDE,
	                 &in, err, sizeof err) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	if (!cw) {
		cw = in.width;
		ch = in.height;
	}
	if ((uint64_t)cx + in.width > cw || (uint64_t)cy + in.height > ch) {
		fprintf(stderr, PROG ": the image does not fit the canvas\n");
		sf__png_image_free(&in);
		return 2;
	}
	if (sf__png_image_alloc(&out, cw, ch, 0) < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		sf__png_image_free(&in);
		return 1;
	}
	for (size_t i = 0; i < (size_t)cw * ch; i++)
		out.pixels[4 * i + 3] = 255;
	for (uint32_t y = 0; y < in.height; y++) {
		for (uint32_t x = 0; x < in.width; x++) {
			const uint8_t *p = in.pixels + ((size_t)y * in.width + x) * 4;
			uint8_t *q = out.pixels + ((size_t)(y + cy) * cw + x + cx) * 4;

			/* round(c * a / 255): no ties, since 2*c*a is even and
			 * 255 * (2k + 1) is odd. */
			for (int c = 0; c < 3; c++)
				q[c] = (uint8_t)((2u * p[c] * p[3] + 255) / 510);
		}
	}
	if (sf__png_save(argv[argi + 1], &(struct sf_png_format){ SF_PNG_RGBA, 0, 9 },
	                 out.pixels, out.width, out.height, out.stride, err,
	                 sizeof err) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		status = 1;
	}
	sf__png_image_free(&in);
	sf__png_image_free(&out);
	return status;
}
