/*
 * libFuzzer target: the input control socket's command parser
 * (server/control-parse.c) on any line.  Whatever it is given, it must
 * return 0 or -1 without reading or writing outside the line and its
 * outputs, leave a NUL-ended printable error text, and a command whose
 * fields keep the parser's promises (the ranges control.c relies on).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sfs_control_cmd cmd;
	char why[300], quoted[4 * 256 + 3];
	int r;

	if (size > SFS_CONTROL_LINE_MAX)
		size = SFS_CONTROL_LINE_MAX;
	r = sfs__control_parse((const char *)data, size, &cmd, why, sizeof why);
	if (r != 0 && r != -1)
		abort();
	if (memchr(why, '\0', sizeof why) == NULL)
		abort();
	if (r < 0) {
		if (!why[0] || !sf__utf8_valid(why, strlen(why)))
			abort();
		return 0;
	}
	if (cmd.verb < SFS_CTL_LIST || cmd.verb > SFS_CTL_CONFIGURE)
		abort();
	if (cmd.modifiers & ~SF_MOD_ALL || strlen(cmd.text) > SF_KEY_TEXT_SIZE ||
	    !sf__utf8_valid(cmd.text, strlen(cmd.text)))
		abort();
	if (cmd.verb == SFS_CTL_KEY && !cmd.pressed && (cmd.text[0] || cmd.repeat))
		abort();
	if (cmd.verb == SFS_CTL_BUTTON &&
	    (cmd.button < 1 || cmd.button > SF_BUTTON_MAX))
		abort();
	if (cmd.verb == SFS_CTL_CONFIGURE &&
	    (cmd.width < 1 || cmd.width > SF_MAX_DIMENSION ||
	     cmd.height < 1 || cmd.height > SF_MAX_DIMENSION))
		abort();
	if (cmd.target == SFS_TARGET_ID && (!cmd.client_id || !cmd.surface_id))
		abort();
	if (cmd.target == SFS_TARGET_TITLE)
		(void)sfs__control_quote(quoted, sizeof quoted, cmd.title);
	return 0;
}
