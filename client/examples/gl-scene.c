/*
 * gl-scene: the lit, turning torus (see gl-scene.h).
 */
#include "gl-scene.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* The torus: tube of radius MINOR around a circle of radius MAJOR in the
 * xy plane, RINGS x SIDES quads. */
#define MAJOR 1.0f
#define MINOR 0.4f
#define RINGS 96
#define SIDES 48
/* Frames per turn; the camera distance and field of view. */
#define PERIOD 240
#define DISTANCE 6.0f
#define FOVY_DEG 45.0

/* Attribute locations. */
enum { A_POSITION = 0, A_NORMAL = 1 };

/* Lighting in eye space: diffuse and Blinn-Phong specular from one
 * directional light, a little ambient. */
static const char vertex_src[] =
	"attribute vec3 a_position;\n"
	"attribute vec3 a_normal;\n"
	"uniform mat4 u_mvp;\n"
	"uniform mat4 u_mv;\n"
	"uniform mat3 u_normal;\n"
	"varying vec3 v_normal;\n"
	"varying vec3 v_eye;\n"
	"void main() {\n"
	"  v_normal = u_normal * a_normal;\n"
	"  v_eye = (u_mv * vec4(a_position, 1.0)).xyz;\n"
	"  gl_Position = u_mvp * vec4(a_position, 1.0);\n"
	"}\n";

static const char fragment_src[] =
	"varying vec3 v_normal;\n"
	"varying vec3 v_eye;\n"
	"void main() {\n"
	"  vec3 n = normalize(v_normal);\n"
	"  vec3 l = normalize(vec3(0.5, 0.7, 0.6));\n"
	"  vec3 v = normalize(-v_eye);\n"
	"  vec3 h = normalize(l + v);\n"
	"  float diffuse = max(dot(n, l), 0.0);\n"
	"  float specular = diffuse > 0.0 ? pow(max(dot(n, h), 0.0), 48.0) : 0.0;\n"
	"  vec3 base = vec3(0.95, 0.55, 0.15);\n"
	"  vec3 c = base * (0.12 + 0.88 * diffuse) + vec3(0.9) * specular;\n"
	"  gl_FragColor = vec4(min(c, vec3(1.0)), 1.0);\n"
	"}\n";

/* 4x4 matrices, column-major as OpenGL takes them. */
typedef float mat4[16];

static void mat4_mul(mat4 out, const mat4 a, const mat4 b)
{
	mat4 r;

	for (int c = 0; c < 4; c++)
		for (int row = 0; row < 4; row++) {
			float sum = 0;
			for (int k = 0; k < 4; k++)
				sum += a[k * 4 + row] * b[c * 4 + k];
			r[c * 4 + row] = sum;
		}
	memcpy(out, r, sizeof r);
}

static void mat4_identity(mat4 m)
{
	memset(m, 0, sizeof(mat4));
	m[0] = m[5] = m[10] = m[15] = 1;
}

/* Rotation by angle (radians) about the unit axis (x, y, z). */
static void mat4_rotate(mat4 m, float angle, float x, float y, float z)
{
	float c = cosf(angle), s = sinf(angle), t = 1 - c;

	mat4_identity(m);
	m[0] = t * x * x + c;     m[4] = t * x * y - s * z; m[8] = t * x * z + s * y;
	m[1] = t * x * y + s * z; m[5] = t * y * y + c;     m[9] = t * y * z - s * x;
	m[2] = t * x * z - s * y; m[6] = t * y * z + s * x; m[10] = t * z * z + c;
}

/* The perspective projection with y negated (the vertical flip). */
static void mat4_flipped_perspective(mat4 m, double fovy, double aspect,
                                     double near, double far)
{
	double f = 1 / tan(fovy / 2);

	memset(m, 0, sizeof(mat4));
	m[0] = (float)(f / aspect);
	m[5] = (float)-f;
	m[10] = (float)((far + near) / (near - far));
	m[11] = -1;
	m[14] = (float)(2 * far * near / (near - far));
}

static GLuint compile(GLenum type, const char *prefix, const char *src,
                      char *err, size_t errlen)
{
	const char *parts[2] = { prefix, src };
	GLuint sh = glCreateShader(type);
	GLint ok = 0;

	glShaderSource(sh, 2, parts, NULL);
	glCompileShader(sh);
	glGetShaderiv(sh, GL_COMPILE_STATUS, &ok);
	if (!ok) {
		char log[512] = "";

		glGetShaderInfoLog(sh, sizeof log, NULL, log);
		snprintf(err, errlen, "the %s shader does not compile: %s",
		         type == GL_VERTEX_SHADER ? "vertex" : "fragment", log);
		glDeleteShader(sh);
		return 0;
	}
	return sh;
}

static int build_program(struct gl_scene *s, bool gles, char *err, size_t errlen)
{
	const char *prefix = gles ? "#version 100\nprecision highp float;\n"
	                          : "#version 120\n";
	GLuint vs, fs;
	GLint ok = 0;

	vs = compile(GL_VERTEX_SHADER, prefix, vertex_src, err, errlen);
	if (!vs)
		return -1;
	fs = compile(GL_FRAGMENT_SHADER, prefix, fragment_src, err, errlen);
	if (!fs) {
		glDeleteShader(vs);
		return -1;
	}
	s->program = glCreateProgram();
	glAttachShader(s->program, vs);
	glAttachShader(s->program, fs);
	glBindAttribLocation(s->program, A_POSITION, "a_position");
	glBindAttribLocation(s->program, A_NORMAL, "a_normal");
	glLinkProgram(s->program);
	glDeleteShader(vs);
	glDeleteShader(fs);
	glGetProgramiv(s->program, GL_LINK_STATUS, &ok);
	if (!ok) {
		char log[512] = "";

		glGetProgramInfoLog(s->program, sizeof log, NULL, log);
		snprintf(err, errlen, "the shaders do not link: %s", log);
		return -1;
	}
	s->u_mvp = glGetUniformLocation(s->program, "u_mvp");
	s->u_mv = glGetUniformLocation(s->program, "u_mv");
	s->u_normal = glGetUniformLocation(s->program, "u_normal");
	return 0;
}

/* The torus as (RINGS + 1) x (SIDES + 1) vertices (the seams doubled) of
 * position and normal, and two triangles per quad. */
static int build_mesh(struct gl_scene *s, char *err, size_t errlen)
{
	enum { NV = (RINGS + 1) * (SIDES + 1), NI = RINGS * SIDES * 6 };
	float *v = malloc(sizeof(float) * 6 * NV);
	uint16_t *idx = malloc(sizeof(uint16_t) * NI);
	size_t k = 0;

	s->positions = malloc(sizeof(float) * 3 * NV);
	if (!v || !idx || !s->positions) {
		free(v);
		free(idx);
		snprintf(err, errlen, "out of memory for the mesh");
		return -1;
	}
	for (int i = 0; i <= RINGS; i++) {
		double u = 2 * PI * i / RINGS;
		for (int j = 0; j <= SIDES; j++) {
			double w = 2 * PI * j / SIDES;
			double nx = cos(w) * cos(u), ny = cos(w) * sin(u), nz = sin(w);
			float *p = v + 6 * (i * (SIDES + 1) + j);

			p[0] = (float)(MAJOR * cos(u) + MINOR * nx);
			p[1] = (float)(MAJOR * sin(u) + MINOR * ny);
			p[2] = (float)(MINOR * nz);
			p[3] = (float)nx;
			p[4] = (float)ny;
			p[5] = (float)nz;
			memcpy(s->positions + 3 * (i * (SIDES + 1) + j), p, 3 * sizeof(float));
		}
	}
	for (int i = 0; i < RINGS; i++)
		for (int j = 0; j < SIDES; j++) {
			uint16_t a = (uint16_t)(i * (SIDES + 1) + j);
			uint16_t b = (uint16_t)(a + SIDES + 1);

			idx[k++] = a;
			idx[k++] = b;
			idx[k++] = (uint16_t)(a + 1);
			idx[k++] = (uint16_t)(a + 1);
			idx[k++] = b;
			idx[k++] = (uint16_t)(b + 1);
		}
	glGenBuffers(1, &s->vbo);
	glBindBuffer(GL_ARRAY_BUFFER, s->vbo);
	glBufferData(GL_ARRAY_BUFFER, sizeof(float) * 6 * NV, v, GL_STATIC_DRAW);
	glGenBuffers(1, &s->ibo);
	glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, s->ibo);
	glBufferData(GL_ELEMENT_ARRAY_BUFFER, sizeof(uint16_t) * NI, idx, GL_STATIC_DRAW);
	s->n_indices = NI;
	s->n_vertices = NV;
	free(v);
	free(idx);
	return 0;
}

int gl_scene_init(struct gl_scene *s, bool gles, int width, int height,
                  char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	s->width = width;
	s->height = height;
	if (build_program(s, gles, err, errlen) < 0 || build_mesh(s, err, errlen) < 0)
		return -1;
	glViewport(0, 0, width, height);
	glEnable(GL_DEPTH_TEST);
	glEnable(GL_SCISSOR_TEST);
	glClearColor(0.10f, 0.12f, 0.16f, 1.0f);
	if (glGetError() != GL_NO_ERROR) {
		snprintf(err, errlen, "setting up the scene raised a GL error");
		return -1;
	}
	return 0;
}

/* The pixels the mesh may cover: the bounding box of its vertices on the
 * screen (each triangle lies inside its vertices' box), a pixel wider on
 * each side for rounding.  A few thousand vertices: microseconds. */
static void screen_box(const struct gl_scene *s, const mat4 mvp, struct gl_box *box)
{
	double x0 = s->width, y0 = s->height, x1 = 0, y1 = 0;

	for (size_t i = 0; i < s->n_vertices; i++) {
		const float *p = s->positions + 3 * i;
		double clip[4];

		for (int row = 0; row < 4; row++)
			clip[row] = (double)mvp[row] * p[0] + (double)mvp[4 + row] * p[1] +
			            (double)mvp[8 + row] * p[2] + mvp[12 + row];
		/* The object is always in front of the camera (w > 0). */
		double sx = (clip[0] / clip[3] + 1) / 2 * s->width;
		double sy = (clip[1] / clip[3] + 1) / 2 * s->height;
		x0 = fmin(x0, sx), x1 = fmax(x1, sx);
		y0 = fmin(y0, sy), y1 = fmax(y1, sy);
	}
	box->x0 = (int)fmax(0, floor(x0) - 1);
	box->y0 = (int)fmax(0, floor(y0) - 1);
	box->x1 = (int)fmin(s->width, ceil(x1) + 1);
	box->y1 = (int)fmin(s->height, ceil(y1) + 1);
	if (box->x1 < box->x0)
		box->x1 = box->x0;
	if (box->y1 < box->y0)
		box->y1 = box->y0;
}

void gl_scene_draw(struct gl_scene *s, unsigned long frame, struct gl_box *box)
{
	float a = (float)(2 * PI * (double)(frame % PERIOD) / PERIOD);
	mat4 proj, spin, tilt, model, view, mv, mvp;
	float normal[9];

	/* Turning about two axes while it circles slowly left and right. */
	mat4_rotate(spin, a, 0, 0, 1);
	mat4_rotate(tilt, 2 * a, 0.8f, 0.6f, 0);
	mat4_mul(model, tilt, spin);
	mat4_identity(view);
	view[12] = 1.1f * sinf(a);
	view[13] = 0.4f * cosf(a);
	view[14] = -DISTANCE;
	mat4_mul(mv, view, model);
	mat4_flipped_perspective(proj, FOVY_DEG * PI / 180,
	                         (double)s->width / s->height, 1.0, 20.0);
	mat4_mul(mvp, proj, mv);
	/* No scaling in mv: its rotation part turns the normals. */
	for (int c = 0; c < 3; c++)
		for (int row = 0; row < 3; row++)
			normal[c * 3 + row] = mv[c * 4 + row];

	/* The framebuffer still holds the last frame, on the same constant
	 * background: only where the object was or is now is drawn again. */
	screen_box(s, mvp, box);
	if (s->drawn) {
		struct gl_box b = s->last;

		b.x0 = b.x0 < box->x0 ? b.x0 : box->x0;
		b.y0 = b.y0 < box->y0 ? b.y0 : box->y0;
		b.x1 = b.x1 > box->x1 ? b.x1 : box->x1;
		b.y1 = b.y1 > box->y1 ? b.y1 : box->y1;
		glScissor(b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0);
	} else {
		glScissor(0, 0, s->width, s->height);
	}
	s->last = *box;
	s->drawn = true;
	glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
	glUseProgram(s->program);
	glUniformMatrix4fv(s->u_mvp, 1, GL_FALSE, mvp);
	glUniformMatrix4fv(s->u_mv, 1, GL_FALSE, mv);
	glUniformMatrix3fv(s->u_normal, 1, GL_FALSE, normal);
	glBindBuffer(GL_ARRAY_BUFFER, s->vbo);
	glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, s->ibo);
	glEnableVertexAttribArray(A_POSITION);
	glEnableVertexAttribArray(A_NORMAL);
	glVertexAttribPointer(A_POSITION, 3, GL_FLOAT, GL_FALSE, 6 * sizeof(float),
	                      (const void *)0);
	glVertexAttribPointer(A_NORMAL, 3, GL_FLOAT, GL_FALSE, 6 * sizeof(float),
	                      (const void *)(3 * sizeof(float)));
	glDrawElements(GL_TRIANGLES, s->n_indices, GL_UNSIGNED_SHORT, (const void *)0);
}

void gl_scene_fini(struct gl_scene *s)
{
	if (s->program)
		glDeleteProgram(s->program);
	if (s->vbo)
		glDeleteBuffers(1, &s->vbo);
	if (s->ibo)
		glDeleteBuffers(1, &s->ibo);
	free(s->positions);
	memset(s, 0, sizeof *s);
}
