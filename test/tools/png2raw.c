/*
 * sf-png2raw: writes a PNG's pixels to standard output as raw frames, the
 * way a renderer or ffmpeg would feed `shmframe-send --raw`.
 *
 *     sf-png2raw IN.png bgra|rgba|rgb24 > frame.raw
 */
#include <stdio.h>
#include <string.h>

#include "png-io.h"

int main(int argc, char **argv)
{
	struct sf_png_image img;
	char err[512];
	int bgra, rgb24;
	size_t n;

	if (argc != 3 || (strcmp(argv[2], "bgra") && strcmp(argv[2], "rgba") &&
	                  strcmp(argv[2], "rgb24"))) {
		fprintf(stderr, "usage: sf-png2raw IN.png bgra|rgba|rgb24\n");
		return 2;
	}
	bgra = strcmp(argv[2], "bgra") == 0;
	rgb24 = strcmp(argv[2], "rgb24") == 0;
	if (sf__png_load(argv[1], SF_PNG_RGBA, SF_PNG_MAX_SIDE,
	                 &img, err, sizeof err) < 0) {
		fprintf(stderr, "sf-png2raw: %s\n", err);
		return 2;
	}
	n = (size_t)img.width * img.height;
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = img.pixels + i * 4;
		uint8_t out[4] = { p[0], p[1], p[2], p[3] };

		if (bgra) {
			out[0] = p[2];
			out[2] = p[0];
		}
		if (fwrite(out, rgb24 ? 3 : 4, 1, stdout) != 1) {
			perror("sf-png2raw");
			sf__png_image_free(&img);
			return 1;
		}
	}
	sf__png_image_free(&img);
	return fflush(stdout) == 0 ? 0 : 1;
}
