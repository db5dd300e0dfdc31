/*
 * Decoding and encoding of shmframe messages.  This is the only place where
 * bytes from a peer become structs: every length, string, enum and
 * rectangle is checked here before any handler sees it.
 */
#include <string.h>

#include "ring.h"
#include "text.h"
#include "wire.h"

#define PAD4(n) (((n) + 3u) & ~(size_t)3u)

static int fail(const char **why, const char *text, int code)
{
	if (why)
		*why = text;
	return code;
}

int sf__header_check(const void *buf, size_t avail, uint32_t max,
                     struct sf_header *hdr, const char **why)
{
	struct sf_header h;

	if (avail < sizeof h)
		return 0;
	memcpy(&h, buf, sizeof h);
	if (max > SF_MAX_MESSAGE)
		max = SF_MAX_MESSAGE;
	if (h.length < sizeof h)
		return -fail(why, "message length is shorter than its header",
		             SF_ERR_BAD_MESSAGE);
	if (h.length > max)
		return -fail(why, "message length is larger than the limit",
		             SF_ERR_BAD_MESSAGE);
	if (h.length % 4)
		return -fail(why, "message length is not a multiple of 4",
		             SF_ERR_BAD_MESSAGE);
	*hdr = h;
	return 1;
}

/*
 * Copies the fixed part of a message of the expected type and checks the
 * length: exactly fixed_size when no tail follows, at least fixed_size
 * otherwise (the caller checks the tail).
 */
static int take_fixed_flags(const void *msg, size_t len, uint16_t type,
                            void *out, size_t fixed_size, int has_tail,
                            uint16_t allowed_flags, const char **why)
{
	struct sf_header h;

	if (len < sizeof h)
		return fail(why, "message shorter than its header", SF_ERR_BAD_MESSAGE);
	memcpy(&h, msg, sizeof h);
	if (h.type != type)
		return fail(why, "message type does not match", SF_ERR_BAD_MESSAGE);
	if (h.length != len || len % 4)
		return fail(why, "message length does not match the bytes given",
		            SF_ERR_BAD_MESSAGE);
	if (len < fixed_size)
		return fail(why, "message shorter than its fixed part",
		            SF_ERR_BAD_MESSAGE);
	if (!has_tail && len != fixed_size)
		return fail(why, "message longer than its fixed part",
		            SF_ERR_BAD_MESSAGE);
	if (h.flags & ~allowed_flags)
		return fail(why, "unknown header flags", SF_ERR_BAD_MESSAGE);
	memcpy(out, msg, fixed_size);
	return 0;
}

static int take_fixed(const void *msg, size_t len, uint16_t type, void *out,
                      size_t fixed_size, int has_tail, const char **why)
{
	return take_fixed_flags(msg, len, type, out, fixed_size, has_tail, 0, why);
}

/*
 * Checks a string tail of n bytes after the fixed part: the message must be
 * exactly the fixed part plus the string padded to 4, the padding zero, and
 * the string itself free of NUL bytes.  Copies it NUL-terminated to dst.
 */
static int take_string(const void *msg, size_t len, size_t fixed_size,
                       size_t n, size_t max, char *dst, const char **why)
{
	const char *s = (const char *)msg + fixed_size;

	if (n > max)
		return fail(why, "string is longer than allowed", SF_ERR_BAD_MESSAGE);
	if (len != fixed_size + PAD4(n))
		return fail(why, "string length does not match the message length",
		            SF_ERR_BAD_MESSAGE);
	if (memchr(s, '\0', n))
		return fail(why, "string contains a NUL byte", SF_ERR_BAD_MESSAGE);
	for (size_t i = n; i < PAD4(n); i++)
		if (s[i] != '\0')
			return fail(why, "string padding is not zero", SF_ERR_BAD_MESSAGE);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int rect_valid(const struct sf_rect *r)
{
	return r->width > 0 && r->height > 0 &&
	       r->width <= UINT32_MAX - r->x && r->height <= UINT32_MAX - r->y;
}

int sf__decode_hello(const void *msg, size_t len, struct sf_hello *out,
                     char *name, const char **why)
{
	struct sf_hello m;
	int err = take_fixed(msg, len, SF_HELLO, &m, sizeof m, 1, why);

	if (err)
		return err;
	/* Magic and version are checked before anything else so that a peer
	 * speaking another protocol gets the right error. */
	if (m.magic != SF_MAGIC)
		return fail(why, "bad magic: not a shmframe client", SF_ERR_BAD_MAGIC);
	if (m.major != SF_VERSION_MAJOR)
		return fail(why, "protocol major version not supported",
		            SF_ERR_BAD_VERSION);
	if (m.pad != 0)
		return fail(why, "HELLO padding is not zero", SF_ERR_BAD_MESSAGE);
	if (m.caps & ~(uint32_t)SF_CAP_ALL)
		return fail(why, "HELLO has unknown capability bits", SF_ERR_BAD_MESSAGE);
	err = take_string(msg, len, sizeof m, m.name_len, SF_MAX_NAME, name, why);
	if (err)
		return err;
	*out = m;
	return 0;
}

int sf__decode_welcome(const void *msg, size_t len, struct sf_welcome *out,
                       const char **why)
{
	struct sf_welcome m;
	int err;

	/* Magic and version first, from the bytes every version shares, so
	 * that a WELCOME of another version (another length) says so. */
	if (len >= 16) {
		uint16_t major;
		uint32_t magic;

		memcpy(&magic, (const uint8_t *)msg + 8, sizeof magic);
		memcpy(&major, (const uint8_t *)msg + 12, sizeof major);
		if (magic != SF_MAGIC)
			return fail(why, "bad magic: not a shmframe server",
			            SF_ERR_BAD_MAGIC);
		if (major != SF_VERSION_MAJOR)
			return fail(why, "server protocol major version not supported",
			            SF_ERR_BAD_VERSION);
	}
	err = take_fixed(msg, len, SF_WELCOME, &m, sizeof m, 0, why);
	if (err)
		return err;
	if (m.magic != SF_MAGIC)
		return fail(why, "bad magic: not a shmframe server", SF_ERR_BAD_MAGIC);
	if (m.major != SF_VERSION_MAJOR)
		return fail(why, "server protocol major version not supported",
		            SF_ERR_BAD_VERSION);
	if (m.max_width == 0 || m.max_width > SF_MAX_DIMENSION ||
	    m.max_height == 0 || m.max_height > SF_MAX_DIMENSION)
		return fail(why, "WELCOME surface limits out of range",
		            SF_ERR_BAD_MESSAGE);
	if (m.max_message < 256 || m.max_message > SF_MAX_MESSAGE)
		return fail(why, "WELCOME message limit out of range",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_segment(const void *msg, size_t len, struct sf_segment_msg *out,
                       const char **why)
{
	struct sf_segment_msg m;
	struct sf_header h;
	int err;

	if (len < sizeof h)
		return fail(why, "message shorter than its header", SF_ERR_BAD_MESSAGE);
	memcpy(&h, msg, sizeof h);
	if (h.type != SF_PROBE && h.type != SF_ATTACH_SEGMENT &&
	    h.type != SF_ATTACH_CONTROL)
		return fail(why, "message type does not match", SF_ERR_BAD_MESSAGE);
	err = take_fixed(msg, len, h.type, &m, sizeof m, 0, why);
	if (err)
		return err;
	if (h.type == SF_ATTACH_CONTROL &&
	    (m.size != SF_CONTROL_SIZE || !(m.flags & SF_SEGMENT_WRITABLE)))
		return fail(why, "a control segment is attached WRITABLE and holds "
		            "exactly SF_CONTROL_SIZE (16384) bytes",
		            SF_ERR_BAD_SEGMENT);
	if (h.type == SF_ATTACH_SEGMENT && m.id == 0)
		return fail(why, "segment id 0 is reserved", SF_ERR_BAD_SEGMENT);
	if (h.type == SF_ATTACH_CONTROL && m.id != 0)
		return fail(why, "a control segment has no id (0)", SF_ERR_BAD_MESSAGE);
	if (m.kind < SF_SHM_MEMFD || m.kind > SF_SHM_SYSV)
		return fail(why, "unknown segment kind", SF_ERR_BAD_MESSAGE);
	if (m.flags & ~SF_SEGMENT_WRITABLE)
		return fail(why, "unknown segment flags", SF_ERR_BAD_MESSAGE);
	if (m.pad || m.pad2)
		return fail(why, "segment padding is not zero", SF_ERR_BAD_MESSAGE);
	if (m.size < SF_PROOF_SIZE)
		return fail(why, "segment smaller than its proof (nonce and "
		            "challenge)", SF_ERR_BAD_MESSAGE);
	if (m.size > (uint64_t)SIZE_MAX / 2)
		return fail(why, "segment size out of range", SF_ERR_BAD_MESSAGE);
	if (m.kind == SF_SHM_SYSV ? m.shmid < 0 : m.shmid != -1)
		return fail(why, "shmid does not match the segment kind",
		            SF_ERR_BAD_MESSAGE);
	if (m.kind == SF_SHM_POSIX) {
		size_t n = strnlen(m.name, sizeof m.name);
		size_t plen = strlen(SF_SHM_NAME_PREFIX);

		if (n == sizeof m.name)
			return fail(why, "POSIX name is not NUL-terminated",
			            SF_ERR_BAD_MESSAGE);
		if (n <= plen || strncmp(m.name, SF_SHM_NAME_PREFIX, plen) != 0)
			return fail(why, "POSIX name lacks the shmframe prefix",
			            SF_ERR_BAD_MESSAGE);
		for (size_t i = plen; i < n; i++) {
			char c = m.name[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
				return fail(why, "POSIX name has a character outside [0-9A-Za-z_-]",
				            SF_ERR_BAD_MESSAGE);
		}
		for (size_t i = n; i < sizeof m.name; i++)
			if (m.name[i])
				return fail(why, "POSIX name padding is not zero",
				            SF_ERR_BAD_MESSAGE);
	} else {
		for (size_t i = 0; i < sizeof m.name; i++)
			if (m.name[i])
				return fail(why, "name given for a segment kind without one",
				            SF_ERR_BAD_MESSAGE);
	}
	*out = m;
	return 0;
}

int sf__decode_probe_result(const void *msg, size_t len,
                            struct sf_probe_result *out, char *text,
                            const char **why)
{
	struct sf_probe_result m;
	int err = take_fixed(msg, len, SF_PROBE_RESULT, &m, sizeof m, 1, why);

	if (err)
		return err;
	if (m.kind < SF_SHM_MEMFD || m.kind > SF_SHM_SYSV)
		return fail(why, "unknown segment kind", SF_ERR_BAD_MESSAGE);
	if (m.status > SF_PROBE_STATUS_MAX)
		return fail(why, "unknown probe status", SF_ERR_BAD_MESSAGE);
	err = take_string(msg, len, sizeof m, m.text_len, SF_MAX_TEXT, text, why);
	if (err)
		return err;
	*out = m;
	return 0;
}

int sf__decode_detach_segment(const void *msg, size_t len,
                              struct sf_detach_segment *out, const char **why)
{
	struct sf_detach_segment m;
	int err = take_fixed(msg, len, SF_DETACH_SEGMENT, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.id == 0 || m.pad)
		return fail(why, "DETACH_SEGMENT id is 0 or padding is not zero",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_create_surface(const void *msg, size_t len,
                              struct sf_create_surface *out, char *title,
                              const char **why)
{
	struct sf_create_surface m;
	int err = take_fixed(msg, len, SF_CREATE_SURFACE, &m, sizeof m, 1, why);

	if (err)
		return err;
	if (m.id == 0)
		return fail(why, "surface id 0 is reserved", SF_ERR_BAD_SURFACE);
	if (m.width == 0 || m.height == 0 || m.width > SF_MAX_DIMENSION ||
	    m.height > SF_MAX_DIMENSION)
		return fail(why, "surface size out of range", SF_ERR_BAD_MESSAGE);
	if (m.format != SF_FORMAT_ARGB8888 && m.format != SF_FORMAT_XRGB8888)
		return fail(why, "unknown pixel format", SF_ERR_BAD_MESSAGE);
	if (m.present_mode != SF_PRESENT_LATCH && m.present_mode != SF_PRESENT_COPY)
		return fail(why, "unknown present mode", SF_ERR_BAD_MESSAGE);
	if (m.pad)
		return fail(why, "CREATE_SURFACE padding is not zero", SF_ERR_BAD_MESSAGE);
	err = take_string(msg, len, sizeof m, m.title_len, SF_MAX_NAME, title, why);
	if (err)
		return err;
	*out = m;
	return 0;
}

int sf__decode_destroy_surface(const void *msg, size_t len,
                               struct sf_destroy_surface *out, const char **why)
{
	struct sf_destroy_surface m;
	int err = take_fixed(msg, len, SF_DESTROY_SURFACE, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.id == 0 || m.pad)
		return fail(why, "DESTROY_SURFACE id is 0 or padding is not zero",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_put_image(const void *msg, size_t len, struct sf_put_image *out,
                         struct sf_rect *rects, const char **why)
{
	struct sf_put_image m;
	int err = take_fixed_flags(msg, len, SF_PUT_IMAGE, &m, sizeof m, 1,
	                           SF_PUT_IMAGE_COPY | SF_PUT_IMAGE_BLOCKS, why);

	if (err)
		return err;
	if (m.surface == 0)
		return fail(why, "PUT_IMAGE names surface 0", SF_ERR_BAD_SURFACE);
	if (m.n_rects > SF_MAX_RECTS)
		return fail(why, "PUT_IMAGE has too many damage rectangles",
		            SF_ERR_BAD_MESSAGE);
	if (len != sizeof m + (size_t)m.n_rects * sizeof(struct sf_rect))
		return fail(why, "PUT_IMAGE length does not match its rectangle count",
		            SF_ERR_BAD_MESSAGE);
	if (m.segment == 0 && (m.offset || m.stride || m.buffer))
		return fail(why, "inline PUT_IMAGE has offset, stride or buffer set",
		            SF_ERR_BAD_MESSAGE);
	if (m.segment != 0 && (m.hdr.flags & SF_PUT_IMAGE_BLOCKS))
		return fail(why, "PUT_IMAGE naming a segment has the BLOCKS flag",
		            SF_ERR_BAD_MESSAGE);
	if (m.segment != 0 && m.stride == 0)
		return fail(why, "PUT_IMAGE stride is zero", SF_ERR_BAD_BUFFER);
	for (uint32_t i = 0; i < m.n_rects; i++) {
		memcpy(&rects[i], (const char *)msg + sizeof m + i * sizeof *rects,
		       sizeof *rects);
		if (!rect_valid(&rects[i]))
			return fail(why, "damage rectangle is empty or overflows",
			            SF_ERR_BAD_RECT);
	}
	*out = m;
	return 0;
}

int sf__decode_get_image(const void *msg, size_t len, struct sf_get_image *out,
                         const char **why)
{
	struct sf_get_image m;
	int err = take_fixed_flags(msg, len, SF_GET_IMAGE, &m, sizeof m, 0,
	                           SF_GET_IMAGE_LZ4 | SF_GET_IMAGE_ZSTD, why);

	if (err)
		return err;
	if (m.surface == 0)
		return fail(why, "GET_IMAGE names surface 0", SF_ERR_BAD_SURFACE);
	if (m.hdr.flags == (SF_GET_IMAGE_LZ4 | SF_GET_IMAGE_ZSTD) ||
	    (m.hdr.flags && m.segment != 0))
		return fail(why, "GET_IMAGE asks for two codecs, or a codec for a "
		            "segment", SF_ERR_BAD_MESSAGE);
	if (!rect_valid(&m.rect))
		return fail(why, "GET_IMAGE rectangle is empty or overflows",
		            SF_ERR_BAD_RECT);
	if (m.segment == 0 && (m.offset || m.stride))
		return fail(why, "inline GET_IMAGE has offset or stride set",
		            SF_ERR_BAD_MESSAGE);
	if (m.segment != 0 && m.stride == 0)
		return fail(why, "GET_IMAGE stride is zero", SF_ERR_BAD_BUFFER);
	*out = m;
	return 0;
}

int sf__decode_image(const void *msg, size_t len, struct sf_image *out,
                     const char **why)
{
	struct sf_image m;
	int err = take_fixed_flags(msg, len, SF_IMAGE, &m, sizeof m, 0,
	                           SF_IMAGE_BLOCKS, why);

	if (err)
		return err;
	if ((m.hdr.flags & SF_IMAGE_BLOCKS) && m.segment != 0)
		return fail(why, "IMAGE into a segment has the BLOCKS flag",
		            SF_ERR_BAD_MESSAGE);
	if (!rect_valid(&m.rect) || m.rect.width > SF_MAX_DIMENSION ||
	    m.rect.height > SF_MAX_DIMENSION)
		return fail(why, "IMAGE rectangle out of range", SF_ERR_BAD_RECT);
	if (m.format != SF_FORMAT_ARGB8888 && m.format != SF_FORMAT_XRGB8888)
		return fail(why, "unknown pixel format", SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_wake(const void *msg, size_t len, const char **why)
{
	struct sf_header h;

	if (len < sizeof h)
		return fail(why, "message shorter than its header", SF_ERR_BAD_MESSAGE);
	memcpy(&h, msg, sizeof h);
	if (h.type != SF_KICK && h.type != SF_NOTIFY)
		return fail(why, "message type does not match", SF_ERR_BAD_MESSAGE);
	return take_fixed(msg, len, h.type, &h, sizeof h, 0, why);
}

int sf__decode_sync(const void *msg, size_t len, struct sf_sync *out,
                    const char **why)
{
	struct sf_sync m;
	struct sf_header h;
	int err;

	if (len < sizeof h)
		return fail(why, "message shorter than its header", SF_ERR_BAD_MESSAGE);
	memcpy(&h, msg, sizeof h);
	if (h.type != SF_SYNC && h.type != SF_SYNC_DONE)
		return fail(why, "message type does not match", SF_ERR_BAD_MESSAGE);
	err = take_fixed(msg, len, h.type, &m, sizeof m, 0, why);
	if (err)
		return err;
	if (m.pad)
		return fail(why, "SYNC padding is not zero", SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_release(const void *msg, size_t len, struct sf_release *out,
                       const char **why)
{
	struct sf_release m;
	int err = take_fixed(msg, len, SF_RELEASE, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.surface == 0 || m.pad)
		return fail(why, "RELEASE names surface 0 or padding is not zero",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_presented(const void *msg, size_t len, struct sf_presented *out,
                         const char **why)
{
	struct sf_presented m;
	int err = take_fixed(msg, len, SF_PRESENTED, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.surface == 0 || m.pad || (m.flags & ~SF_PRESENTED_DISCARDED))
		return fail(why, "PRESENTED has surface 0, unknown flags or padding",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_closed(const void *msg, size_t len, struct sf_closed *out,
                      const char **why)
{
	struct sf_closed m;
	int err = take_fixed(msg, len, SF_CLOSED, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.surface == 0 || m.pad)
		return fail(why, "CLOSED names surface 0 or padding is not zero",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_error(const void *msg, size_t len, struct sf_error *out,
                     char *text, const char **why)
{
	struct sf_error m;
	int err = take_fixed(msg, len, SF_ERROR, &m, sizeof m, 1, why);

	if (err)
		return err;
	if (m.code == 0 || m.code > SF_ERR_CODE_MAX)
		return fail(why, "unknown error code", SF_ERR_BAD_MESSAGE);
	err = take_string(msg, len, sizeof m, m.text_len, SF_MAX_TEXT, text, why);
	if (err)
		return err;
	*out = m;
	return 0;
}

size_t sf__encode(void *buf, size_t cap, uint16_t type, void *fixed,
                  size_t fixed_size, const void *tail, size_t tail_len)
{
	struct sf_header h;
	size_t total;

	if (fixed_size < sizeof h || fixed_size % 4 ||
	    tail_len > SF_MAX_MESSAGE - fixed_size)
		return 0;
	total = fixed_size + PAD4(tail_len);
	if (total > SF_MAX_MESSAGE || total > cap)
		return 0;
	memcpy(&h, fixed, sizeof h); /* keeps the caller's flags */
	h.type = type;
	h.length = (uint32_t)total;
	memcpy(fixed, &h, sizeof h);
	memcpy(buf, fixed, fixed_size);
	if (tail_len)
		memcpy((char *)buf + fixed_size, tail, tail_len);
	memset((char *)buf + fixed_size + tail_len, 0, PAD4(tail_len) - tail_len);
	return total;
}

int sf__rect_inside(const struct sf_rect *r, uint32_t width, uint32_t height)
{
	return rect_valid(r) && r->x < width && r->width <= width - r->x &&
	       r->y < height && r->height <= height - r->y;
}

int sf__check_buffer(uint32_t width, uint32_t height, uint64_t offset,
                     uint32_t stride, uint64_t seg_size, const char **why)
{
	uint64_t row, span;

	if (width == 0 || height == 0 || width > SF_MAX_DIMENSION ||
	    height > SF_MAX_DIMENSION)
		return fail(why, "buffer size out of range", SF_ERR_BAD_BUFFER);
	row = (uint64_t)width * SF_BYTES_PER_PIXEL;
	if (stride < row)
		return fail(why, "stride is smaller than a row", SF_ERR_BAD_BUFFER);
	if (stride % 4)
		return fail(why, "stride is not a multiple of 4", SF_ERR_BAD_BUFFER);
	/* Written so that nothing can overflow: width, height <= 16384 and
	 * stride < 2^32 keep span below 2^47. */
	span = (uint64_t)stride * (height - 1) + row;
	if (offset > seg_size || span > seg_size - offset)
		return fail(why, "buffer lies outside the segment", SF_ERR_BAD_BUFFER);
	return 0;
}

int sf__payload_size(const struct sf_rect *rects, uint32_t n, uint64_t *size)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t bytes;

		if (rects[i].width > SF_MAX_DIMENSION ||
		    rects[i].height > SF_MAX_DIMENSION)
			return SF_ERR_BAD_MESSAGE;
		bytes = (uint64_t)rects[i].width * rects[i].height * SF_BYTES_PER_PIXEL;
		if (bytes > UINT64_MAX - total)
			return SF_ERR_BAD_MESSAGE;
		total += bytes;
	}
	*size = total;
	return 0;
}

/* ---- 2.2: input and resize ------------------------------------------- */

int sf__decode_select_input(const void *msg, size_t len,
                            struct sf_select_input *out, const char **why)
{
	struct sf_select_input m;
	int err = take_fixed(msg, len, SF_SELECT_INPUT, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.surface == 0)
		return fail(why, "SELECT_INPUT names surface 0", SF_ERR_BAD_MESSAGE);
	if (m.mask & ~SF_EVENT_ALL)
		return fail(why, "SELECT_INPUT has unknown event bits",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_resize_surface(const void *msg, size_t len,
                              struct sf_resize_surface *out, const char **why)
{
	struct sf_resize_surface m;
	int err = take_fixed(msg, len, SF_RESIZE_SURFACE, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.surface == 0)
		return fail(why, "RESIZE_SURFACE names surface 0", SF_ERR_BAD_MESSAGE);
	if (m.width == 0 || m.height == 0 || m.width > SF_MAX_DIMENSION ||
	    m.height > SF_MAX_DIMENSION)
		return fail(why, "RESIZE_SURFACE size is 0 or above 16384",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

static int check_modifiers(uint32_t mods, const char **why)
{
	if (mods & ~SF_MOD_ALL)
		return fail(why, "unknown modifier bits", SF_ERR_BAD_MESSAGE);
	return 0;
}

int sf__decode_key(const void *msg, size_t len, struct sf_key *out,
                   const char **why)
{
	struct sf_key m;
	int err = take_fixed(msg, len, SF_KEY, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.surface == 0 || m.pad)
		return fail(why, "KEY names surface 0 or padding is not zero",
		            SF_ERR_BAD_MESSAGE);
	if (m.state > 1 || m.repeat > 1 || (m.repeat && !m.state))
		return fail(why, "KEY state or repeat out of range",
		            SF_ERR_BAD_MESSAGE);
	if (m.text_len > SF_KEY_TEXT_SIZE || (m.text_len && !m.state))
		return fail(why, "KEY text too long, or on a release",
		            SF_ERR_BAD_MESSAGE);
	if (!sf__utf8_valid(m.text, m.text_len))
		return fail(why, "KEY text is not UTF-8", SF_ERR_BAD_MESSAGE);
	for (size_t i = m.text_len; i < SF_KEY_TEXT_SIZE; i++)
		if (m.text[i])
			return fail(why, "KEY text padding is not zero",
			            SF_ERR_BAD_MESSAGE);
	err = check_modifiers(m.modifiers, why);
	if (err)
		return err;
	*out = m;
	return 0;
}

int sf__decode_pointer(const void *msg, size_t len, struct sf_pointer *out,
                       const char **why)
{
	struct sf_pointer m;
	struct sf_header h;
	int err;

	if (len < sizeof h)
		return fail(why, "message shorter than its header", SF_ERR_BAD_MESSAGE);
	memcpy(&h, msg, sizeof h);
	if (h.type != SF_POINTER_MOTION && h.type != SF_POINTER_ENTER &&
	    h.type != SF_POINTER_LEAVE)
		return fail(why, "message type does not match", SF_ERR_BAD_MESSAGE);
	err = take_fixed(msg, len, h.type, &m, sizeof m, 0, why);
	if (err)
		return err;
	if (m.surface == 0 || m.pad)
		return fail(why, "pointer event names surface 0 or padding is not zero",
		            SF_ERR_BAD_MESSAGE);
	if (m.buttons & ~SF_BUTTONS_ALL)
		return fail(why, "pointer event has unknown button bits",
		            SF_ERR_BAD_MESSAGE);
	err = check_modifiers(m.modifiers, why);
	if (err)
		return err;
	*out = m;
	return 0;
}

int sf__decode_pointer_button(const void *msg, size_t len,
                              struct sf_pointer_button *out, const char **why)
{
	struct sf_pointer_button m;
	int err = take_fixed(msg, len, SF_POINTER_BUTTON, &m, sizeof m, 0, why);
	uint32_t bit;

	if (err)
		return err;
	if (m.surface == 0 || m.pad)
		return fail(why, "POINTER_BUTTON names surface 0 or padding is not zero",
		            SF_ERR_BAD_MESSAGE);
	if (m.button < 1 || m.button > SF_BUTTON_MAX || m.state > 1)
		return fail(why, "POINTER_BUTTON button or state out of range",
		            SF_ERR_BAD_MESSAGE);
	bit = 1u << (m.button - 1);
	if ((m.buttons & ~SF_BUTTONS_ALL) || !(m.buttons & bit) != !m.state)
		return fail(why, "POINTER_BUTTON held buttons disagree with it",
		            SF_ERR_BAD_MESSAGE);
	err = check_modifiers(m.modifiers, why);
	if (err)
		return err;
	*out = m;
	return 0;
}

int sf__decode_pointer_axis(const void *msg, size_t len,
                            struct sf_pointer_axis *out, const char **why)
{
	struct sf_pointer_axis m;
	int err = take_fixed(msg, len, SF_POINTER_AXIS, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.surface == 0 || m.pad)
		return fail(why, "POINTER_AXIS names surface 0 or padding is not zero",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_focus(const void *msg, size_t len, struct sf_focus *out,
                     const char **why)
{
	struct sf_focus m;
	int err = take_fixed(msg, len, SF_FOCUS, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.surface == 0 || m.focused > 1)
		return fail(why, "FOCUS names surface 0 or focused is not 0 or 1",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

int sf__decode_configure(const void *msg, size_t len, struct sf_configure *out,
                         const char **why)
{
	struct sf_configure m;
	int err = take_fixed(msg, len, SF_CONFIGURE, &m, sizeof m, 0, why);

	if (err)
		return err;
	if (m.surface == 0 || m.serial == 0)
		return fail(why, "CONFIGURE names surface 0 or serial 0",
		            SF_ERR_BAD_MESSAGE);
	if (m.width == 0 || m.height == 0 || m.width > SF_MAX_DIMENSION ||
	    m.height > SF_MAX_DIMENSION)
		return fail(why, "CONFIGURE size is 0 or above 16384",
		            SF_ERR_BAD_MESSAGE);
	*out = m;
	return 0;
}

const char *sf__type_name(uint16_t type)
{
	switch (type) {
	case SF_HELLO: return "HELLO";
	case SF_PROBE: return "PROBE";
	case SF_ATTACH_SEGMENT: return "ATTACH_SEGMENT";
	case SF_DETACH_SEGMENT: return "DETACH_SEGMENT";
	case SF_CREATE_SURFACE: return "CREATE_SURFACE";
	case SF_DESTROY_SURFACE: return "DESTROY_SURFACE";
	case SF_PUT_IMAGE: return "PUT_IMAGE";
	case SF_GET_IMAGE: return "GET_IMAGE";
	case SF_SYNC: return "SYNC";
	case SF_KICK: return "KICK";
	case SF_ATTACH_CONTROL: return "ATTACH_CONTROL";
	case SF_SELECT_INPUT: return "SELECT_INPUT";
	case SF_RESIZE_SURFACE: return "RESIZE_SURFACE";
	case SF_WELCOME: return "WELCOME";
	case SF_PROBE_RESULT: return "PROBE_RESULT";
	case SF_RELEASE: return "RELEASE";
	case SF_PRESENTED: return "PRESENTED";
	case SF_IMAGE: return "IMAGE";
	case SF_CLOSED: return "CLOSED";
	case SF_SYNC_DONE: return "SYNC_DONE";
	case SF_ERROR: return "ERROR";
	case SF_NOTIFY: return "NOTIFY";
	case SF_KEY: return "KEY";
	case SF_POINTER_MOTION: return "POINTER_MOTION";
	case SF_POINTER_BUTTON: return "POINTER_BUTTON";
	case SF_POINTER_AXIS: return "POINTER_AXIS";
	case SF_POINTER_ENTER: return "POINTER_ENTER";
	case SF_POINTER_LEAVE: return "POINTER_LEAVE";
	case SF_FOCUS: return "FOCUS";
	case SF_CONFIGURE: return "CONFIGURE";
	}
	return "unknown";
}

const char *sf__error_name(uint32_t code)
{
	static const char *const names[] = {
		[SF_ERR_NONE] = "no error",
		[SF_ERR_BAD_MESSAGE] = "malformed message",
		[SF_ERR_BAD_MAGIC] = "bad magic",
		[SF_ERR_BAD_VERSION] = "unsupported version",
		[SF_ERR_AUTH] = "not authorized",
		[SF_ERR_LIMIT] = "limit exceeded",
		[SF_ERR_BAD_SURFACE] = "bad surface",
		[SF_ERR_BAD_SEGMENT] = "bad segment",
		[SF_ERR_BAD_RECT] = "rectangle outside the surface",
		[SF_ERR_BAD_BUFFER] = "buffer outside the segment",
		[SF_ERR_NO_FD] = "file descriptor missing",
		[SF_ERR_UNEXPECTED_FD] = "unexpected file descriptor",
		[SF_ERR_UNKNOWN_TYPE] = "unknown message type",
		[SF_ERR_SEQUENCE] = "request out of sequence",
		[SF_ERR_NO_MEMORY] = "out of memory",
		[SF_ERR_SLOW] = "client too slow",
	};
	return code <= SF_ERR_CODE_MAX ? names[code] : "unknown error";
}

const char *sf__probe_status_name(uint32_t status)
{
	static const char *const names[] = {
		[SF_PROBE_OK] = "ok",
		[SF_PROBE_NO_FD] = "no fd received",
		[SF_PROBE_NOT_FOUND] = "not found on the server",
		[SF_PROBE_NONCE_MISMATCH] = "nonce mismatch (different memory)",
		[SF_PROBE_REFUSED] = "refused",
		[SF_PROBE_BAD_SEGMENT] = "unusable segment",
	};
	return status <= SF_PROBE_STATUS_MAX ? names[status] : "unknown status";
}

const char *sf__shm_kind_name(uint32_t kind)
{
	switch (kind) {
	case SF_SHM_MEMFD: return "memfd";
	case SF_SHM_POSIX: return "posix";
	case SF_SHM_SYSV: return "sysv";
	}
	return "none";
}
