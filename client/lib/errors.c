/*
 * The library's error codes: shmframe_strerror's texts for the negative
 * errno values it returns, and the errno each ERROR code of the server
 * becomes.  Codes that carry a meaning of their own in this library get a
 * sentence that says it; the others get the usual description of the
 * errno, from a table of this file rather than from the C library, so the
 * texts are the same everywhere and come from static storage on any
 * thread (strerror may use a shared buffer, strerror_r exists in two
 * incompatible forms, and strerrordesc_np is glibc's alone).
 *
 * Library meanings (documented here, since the header only promises
 * "negative errno"):
 *   -EPROTO          the server sent a malformed or unexpected event, or
 *                    rejected a request (its ERROR text is in
 *                    shmframe_last_error)
 *   -EPROTONOSUPPORT the server speaks another protocol version
 *   -ENOTSUP         forced shm but no kind passed the probe, or forced
 *                    rings that cannot be had
 *   -EDQUOT          a limit the server announced (or enforced) was reached
 *   -EDEADLK         acquire would wait for a buffer that cannot come back
 *   -ECONNRESET      the server closed the connection
 *   -ETIMEDOUT       the server dropped the client as too slow
 *   -EACCES          the server refused the client (uid or cookie), or
 *                    a TCP connection has no cookie file to send
 *   -EPERM           the library refused the server: its runtime
 *                    directory or its uid is not the user's (or root's),
 *                    or the cookie file is not the user's alone
 *   -E2BIG           the options set a member this library does not know
 */
#include <errno.h>
#include <limits.h>

#include "client-private.h"

struct message {
	int code;
	const char *text;
};

static const struct message messages[] = {
	{ EPROTO, "protocol error: the server sent or reported a malformed "
	          "or unexpected message" },
	{ EPROTONOSUPPORT, "the server speaks another version of the protocol" },
	{ ENOTSUP, "what the options force cannot be had with this server "
	           "(shared memory, or rings in it)" },
	{ EDQUOT, "a limit of the server was reached" },
	{ EDEADLK, "every buffer is held: waiting for one would never end" },
	{ ECONNRESET, "the server closed the connection" },
	{ ETIMEDOUT, "timed out: the server dropped this client as too slow" },
	{ EACCES, "the server refused access (user or cookie)" },
	{ EPERM, "not a server to trust: its directory, its user or the "
	         "cookie file is not yours alone" },
	{ EFBIG, "larger than the server allows" },
	{ E2BIG, "an option this version of the library does not know was set" },
};

/* The POSIX errno values, with the descriptions glibc gives them. */
static const struct message system_messages[] = {
	{ E2BIG, "Argument list too long" },
	{ EACCES, "Permission denied" },
	{ EADDRINUSE, "Address already in use" },
	{ EADDRNOTAVAIL, "Cannot assign requested address" },
	{ EAFNOSUPPORT, "Address family not supported by protocol" },
	{ EAGAIN, "Resource temporarily unavailable" },
	{ EALREADY, "Operation already in progress" },
	{ EBADF, "Bad file descriptor" },
	{ EBADMSG, "Bad message" },
	{ EBUSY, "Device or resource busy" },
	{ ECANCELED, "Operation canceled" },
	{ ECHILD, "No child processes" },
	{ ECONNABORTED, "Software caused connection abort" },
	{ ECONNREFUSED, "Connection refused" },
	{ ECONNRESET, "Connection reset by peer" },
	{ EDEADLK, "Resource deadlock avoided" },
	{ EDESTADDRREQ, "Destination address required" },
	{ EDOM, "Numerical argument out of domain" },
	{ EDQUOT, "Disk quota exceeded" },
	{ EEXIST, "File exists" },
	{ EFAULT, "Bad address" },
	{ EFBIG, "File too large" },
	{ EHOSTUNREACH, "No route to host" },
	{ EIDRM, "Identifier removed" },
	{ EILSEQ, "Invalid or incomplete multibyte or wide character" },
	{ EINPROGRESS, "Operation now in progress" },
	{ EINTR, "Interrupted system call" },
	{ EINVAL, "Invalid argument" },
	{ EIO, "Input/output error" },
	{ EISCONN, "Transport endpoint is already connected" },
	{ EISDIR, "Is a directory" },
	{ ELOOP, "Too many levels of symbolic links" },
	{ EMFILE, "Too many open files" },
	{ EMLINK, "Too many links" },
	{ EMSGSIZE, "Message too long" },
	{ EMULTIHOP, "Multihop attempted" },
	{ ENAMETOOLONG, "File name too long" },
	{ ENETDOWN, "Network is down" },
	{ ENETRESET, "Network dropped connection on reset" },
	{ ENETUNREACH, "Network is unreachable" },
	{ ENFILE, "Too many open files in system" },
	{ ENOBUFS, "No buffer space available" },
	{ ENODEV, "No such device" },
	{ ENOENT, "No such file or directory" },
	{ ENOEXEC, "Exec format error" },
	{ ENOLCK, "No locks available" },
	{ ENOLINK, "Link has been severed" },
	{ ENOMEM, "Cannot allocate memory" },
	{ ENOMSG, "No message of desired type" },
	{ ENOPROTOOPT, "Protocol not available" },
	{ ENOSPC, "No space left on device" },
	{ ENOSYS, "Function not implemented" },
	{ ENOTCONN, "Transport endpoint is not connected" },
	{ ENOTDIR, "Not a directory" },
	{ ENOTEMPTY, "Directory not empty" },
	{ ENOTRECOVERABLE, "State not recoverable" },
	{ ENOTSOCK, "Socket operation on non-socket" },
	{ ENOTSUP, "Operation not supported" },
	{ ENOTTY, "Inappropriate ioctl for device" },
	{ ENXIO, "No such device or address" },
	{ EOVERFLOW, "Value too large for defined data type" },
	{ EOWNERDEAD, "Owner died" },
	{ EPERM, "Operation not permitted" },
	{ EPIPE, "Broken pipe" },
	{ EPROTO, "Protocol error" },
	{ EPROTONOSUPPORT, "Protocol not supported" },
	{ EPROTOTYPE, "Protocol wrong type for socket" },
	{ ERANGE, "Numerical result out of range" },
	{ EROFS, "Read-only file system" },
	{ ESPIPE, "Illegal seek" },
	{ ESRCH, "No such process" },
	{ ESTALE, "Stale file handle" },
	{ ETIMEDOUT, "Connection timed out" },
	{ ETXTBSY, "Text file busy" },
	{ EXDEV, "Invalid cross-device link" },
};

static const char *find(const struct message *m, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].code == code)
			return m[i].text;
	return NULL;
}

SHMFRAME_EXPORT const char *shmframe_strerror(int error)
{
	const char *text;

	if (error == 0)
		return "no error";
	if (error == INT_MIN)
		return "unknown error";
	if (error < 0)
		error = -error;
	text = find(messages, sizeof messages / sizeof messages[0], error);
	if (!text)
		text = find(system_messages,
		            sizeof system_messages / sizeof system_messages[0], error);
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
