/*
 * The server's log lines on stderr, and its clock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"
#include "server-private.h"

void sfs__log(const char *fmt, ...)
{
	va_list ap;

	fputs(SF_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void sfs__verbose(const struct sf_server *server, const char *fmt, ...)
{
	va_list ap;

	if (!server->verbose)
		return;
	fputs(SF_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t sfs__now_ns(void)
{
	return sf__clock_ns(CLOCK_MONOTONIC);
}
