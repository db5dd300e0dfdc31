/*
 * sf-event-pattern: writes the image sf-event-log presents at a size
 * (event-pattern.h) as PNG, for tests that compare it with a grab of the
 * window or a readback of the surface.
 *
 *     sf-event-pattern WxH OUT.png
 */
#include <stdio.h>

#include "event-pattern.h"
#include "png-io.h"

int main(int argc, char **argv)
{
	struct sf_png_image img;
	unsigned w, h;
	char end, err[512];
	int rc = 0;

	if (argc != 3 || sscanf(argv[1], "%ux%u%c", &w, &h, &end) != 2 ||
	    w == 0 || h == 0 || w > 16384 || h > 16384) {
		fprintf(stderr, "usage: sf-event-pattern WxH OUT.png\n");
		return 2;
	}
	if (sf__png_image_alloc(&img, w, h, 1) < 0) {
		fprintf(stderr, "sf-event-pattern: out of memory\n");
		return 1;
	}
	for (uint32_t y = 0; y < h; y++) {
		uint8_t *dst = img.pixels + (size_t)y * img.stride;

		for (uint32_t x = 0; x < w; x++) {
			uint32_t p = sf_event_log_pixel(x, y, w, h);

			dst[4 * x + 0] = (uint8_t)(p >> 16);
			dst[4 * x + 1] = (uint8_t)(p >> 8);
			dst[4 * x + 2] = (uint8_t)p;
			dst[4 * x + 3] = (uint8_t)(p >> 24);
		}
	}
	if (sf__png_save(argv[2], &(struct sf_png_format){ SF_PNG_RGBA, 1, 9 },
	                 img.pixels, img.width, img.height, img.stride, err,
	                 sizeof err) < 0) {
		fprintf(stderr, "sf-event-pattern: %s\n", err);
		rc = 1;
	}
	sf__png_image_free(&img);
	return rc;
}
