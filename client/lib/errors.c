/*
 * shmframe_strerror: messages for the negative errno values the library
 * returns.  Codes that carry a meaning of their own in this library get a
 * sentence that says it; the rest get the C library's description.
 *
 * Library meanings (documented here, since the header only promises
 * "negative errno"):
 *   -EPROTO          the server sent a malformed or unexpected event, or
 *                    rejected a request (its ERROR text is in
 *                    shmframe_last_error)
 *   -EPROTONOSUPPORT the server speaks another protocol version
 *   -ENOTSUP         no transport: forced shm but no kind passed the probe
 *   -EDQUOT          a limit the server announced (or enforced) was reached
 *   -EDEADLK         acquire would wait for a buffer that cannot come back
 *   -ECONNRESET      the server closed the connection
 *   -ETIMEDOUT       the server dropped the client as too slow
 *   -EACCES          the server refused the client (uid or cookie), or
 *                    a TCP connection has no cookie file to send
 *   -EPERM           the library refused the server: its runtime
 *                    directory or its uid is not the user's (or root's),
 *                    or the cookie file is not the user's alone
 */
#include <errno.h>
#include <string.h>

#include "client-private.h"

struct message {
	int code;
	const char *text;
};

static const struct message messages[] = {
	{ EPROTO, "protocol error: the server sent or reported a malformed "
	          "or unexpected message" },
	{ EPROTONOSUPPORT, "the server speaks another version of the protocol" },
	{ ENOTSUP, "no shared memory with the server (the probe failed for "
	           "every kind)" },
	{ EDQUOT, "a limit of the server was reached" },
	{ EDEADLK, "every buffer is held: waiting for one would never end" },
	{ ECONNRESET, "the server closed the connection" },
	{ ETIMEDOUT, "timed out: the server dropped this client as too slow" },
	{ EACCES, "the server refused access (user or cookie)" },
	{ EPERM, "not a server to trust: its directory, its user or the "
	         "cookie file is not yours alone" },
	{ EFBIG, "larger than the server allows" },
};

SHMFRAME_EXPORT const char *shmframe_strerror(int error)
{
	const char *text;

	if (error == 0)
		return "no error";
	if (error > 0)
		error = -error;
	for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
		if (messages[i].code == -error)
			return messages[i].text;
	/* Static strings, unlike strerror(): safe from any thread. */
	text = strerrordesc_np(-error);
	return text ? text : "unknown error";
}

int sfc__error_errno(uint32_t code)
{
	switch (code) {
	case SF_ERR_BAD_MAGIC:
	case SF_ERR_BAD_VERSION: return -EPROTONOSUPPORT;
	case SF_ERR_AUTH: return -EACCES;
	case SF_ERR_LIMIT: return -EDQUOT;
	case SF_ERR_NO_MEMORY: return -ENOMEM;
	case SF_ERR_SLOW: return -ETIMEDOUT;
	}
	return -EPROTO;
}
