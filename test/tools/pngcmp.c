/*
 * sf-pngcmp: pixel-exact comparison of two PNG files, alpha included.
 *
 *     sf-pngcmp [--ignore-alpha] A.png B.png
 *
 * Exit 0 when every pixel is equal, 1 when they differ (the first
 * difference and the count are printed), 2 on a usage or read error.  A
 * file without alpha counts as alpha 255 everywhere, so an RGB file equals
 * an RGBA file whose alpha is all opaque.
 */
#include <stdio.h>
#include <string.h>

#include "png-io.h"

static int usage(void)
{
	fprintf(stderr, "usage: sf-pngcmp [--ignore-alpha] A.png B.png\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sf_png_image a, b;
	int ignore_alpha = 0, argi = 1, status = 0;
	unsigned long long differ = 0;
	long first_x = -1, first_y = -1;
	char err[512];

	if (argi < argc && strcmp(argv[argi], "--ignore-alpha") == 0) {
		ignore_alpha = 1;
		argi++;
	}
	if (argc - argi != 2)
		return usage();
	if (sf__png_load(argv[argi], SF_PNG_RGBA, SF_PNG_MAX_SIDE,
	                 &a, err, sizeof err) < 0) {
		fprintf(stderr, "sf-pngcmp: %s\n", err);
		return 2;
	}
	if (sf__png_load(argv[argi + 1], SF_PNG_RGBA, SF_PNG_MAX_SIDE,
	                 &b, err, sizeof err) < 0) {
		fprintf(stderr, "sf-pngcmp: %s\n", err);
		sf__png_image_free(&a);
		return 2;
	}
	if (a.width != b.width || a.height != b.height) {
		printf("sf-pngcmp: sizes differ: %s is %ux%u, %s is %ux%u\n",
		       argv[argi], a.width, a.height, argv[argi + 1], b.width,
		       b.height);
		status = 1;
		goto free_images;
	}
	for (uint32_t y = 0; y < a.height; y++) {
		for (uint32_t x = 0; x < a.width; x++) {
			size_t i = ((size_t)y * a.width + x) * 4;
			int n = ignore_alpha ? 3 : 4;

			if (memcmp(a.pixels + i, b.pixels + i, (size_t)n) == 0)
				continue;
			if (differ++ == 0) {
				first_x = x;
				first_y = y;
			}
		}
	}
	if (differ) {
		size_t i = ((size_t)first_y * a.width + (size_t)first_x) * 4;
		const uint8_t *p = a.pixels + i, *q = b.pixels + i;

		printf("sf-pngcmp: %s and %s differ at (%ld,%ld): "
		       "rgba(%u,%u,%u,%u) vs rgba(%u,%u,%u,%u); %llu of %llu "
		       "pixels differ\n", argv[argi], argv[argi + 1], first_x,
		       first_y, p[0], p[1], p[2], p[3], q[0], q[1], q[2], q[3],
		       differ, (unsigned long long)a.width * a.height);
		status = 1;
	}

free_images:
	sf__png_image_free(&a);
	sf__png_image_free(&b);
	return status;
}
