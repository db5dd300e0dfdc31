/*
 * sf-demoframe: renders frame k of shmframe-demo's scene with the demo's
 * own renderer and writes it as PNG, so a test can compare it with what
 * the server holds after the demo ran.
 *
 *     sf-demoframe WxH FRAME OUT.png [CX,CY ZOOM]
 *
 * With CX,CY and ZOOM the square a person moves is centred on (CX, CY) at
 * that zoom (shmframe-demo's shape_x=, shape_y= and zoom=), else where the
 * demo starts it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo-render.h"
#include "png-io.h"

int main(int argc, char **argv)
{
	struct sf_png_image img;
	unsigned w, h;
	unsigned long long frame;
	struct sf_demo_state st;
	uint32_t stride;
	uint8_t *bgra;
	char err[512];
	int rc = 0;

	if ((argc != 4 && argc != 6) ||
	    sscanf(argv[1], "%ux%u", &w, &h) != 2 || w == 0 ||
	    h == 0 || w > 16384 || h > 16384 ||
	    sscanf(argv[2], "%llu", &frame) != 1) {
		fprintf(stderr, "usage: sf-demoframe WxH FRAME OUT.png [CX,CY ZOOM]\n");
		return 2;
	}
	sf__demo_state_init(&st, w, h);
	st.frame = frame;
	if (argc == 6 &&
	    (sscanf(argv[4], "%d,%d", &st.cx, &st.cy) != 2 ||
	     sscanf(argv[5], "%u", &st.zoom) != 1 || st.zoom < SF_DEMO_ZOOM_MIN ||
	     st.zoom > SF_DEMO_ZOOM_MAX)) {
		fprintf(stderr, "sf-demoframe: CX,CY must be two integers and ZOOM "
		        "%u..%u\n", SF_DEMO_ZOOM_MIN, SF_DEMO_ZOOM_MAX);
		return 2;
	}
	/* Rows padded like the library's, to catch a renderer that writes
	 * past the row's pixels. */
	stride = (w * 4 + 63) & ~63u;
	bgra = malloc((size_t)stride * h);
	if (!bgra || sf__png_image_alloc(&img, w, h, 1) < 0) {
		fprintf(stderr, "sf-demoframe: out of memory\n");
		return 1;
	}
	memset(bgra, 0xab, (size_t)stride * h);
	sf__demo_render_state(bgra, stride, w, h, &st);
	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *src = bgra + (size_t)y * stride;
		uint8_t *dst = img.pixels + (size_t)y * w * 4;

		for (uint32_t x = 0; x < w; x++) {
			dst[4 * x + 0] = src[4 * x + 2];
			dst[4 * x + 1] = src[4 * x + 1];
			dst[4 * x + 2] = src[4 * x + 0];
			dst[4 * x + 3] = src[4 * x + 3];
		}
		for (uint32_t i = w * 4; i < stride; i++)
			if (src[i] != 0xab) {
				fprintf(stderr, "sf-demoframe: the renderer wrote past "
				        "row %u's pixels\n", y);
				rc = 1;
			}
	}
	if (sf__png_save(argv[3], &(struct sf_png_format){ SF_PNG_RGBA, 1, 9 },
	                 img.pixels, img.width, img.height, img.stride, err,
	                 sizeof err) < 0) {
		fprintf(stderr, "sf-demoframe: %s\n", err);
		rc = 1;
	}
	sf__png_image_free(&img);
	free(bgra);
	return rc;
}
