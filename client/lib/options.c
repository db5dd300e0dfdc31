/*
 * The connection's options: their defaults, the environment variables
 * that set some of them, and the sized struct of "Structs that grow"
 * (shmframe.h) read exactly as far as the caller's size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client-private.h"

#define SPIN_US_MAX 10000u
/* The default spin on machines with enough CPUs that a spinning client
 * does not take the CPU its server needs. */
#define SPIN_US_DEFAULT 50u
#define SPIN_MIN_CPUS 4

/* The words of the two environment variables that choose an option, in
 * the order of the enum's values (the default first). */
struct env_choice {
	const char *var;
	const char *words[5]; /* NULL after the last */
};

static const struct env_choice transport_env = {
	"SHMFRAME_TRANSPORT", { "auto", "shm", "socket" },
};
_Static_assert(SHMFRAME_TRANSPORT_SHM == 1 && SHMFRAME_TRANSPORT_SOCKET == 2,
               "transport_env's order");
static const struct env_choice signal_env = {
	"SHMFRAME_SIGNAL", { "auto", "ring", "socket" },
};
_Static_assert(SHMFRAME_SIGNAL_RING == 1 && SHMFRAME_SIGNAL_SOCKET == 2,
               "signal_env's order");
static const struct env_choice compress_env = {
	"SHMFRAME_COMPRESS", { "auto", "none", "lz4", "zstd" },
};
_Static_assert(SHMFRAME_COMPRESS_NONE == 1 && SHMFRAME_COMPRESS_ZSTD == 3,
               "compress_env's order");

/* The value the variable names (case does not matter): 0, the default,
 * when it is unset, and -1 when it names none of the words. */
static int env_value(const struct env_choice *c)
{
	const char *env = getenv(c->var);

	if (!env)
		return 0;
	for (int i = 0; c->words[i]; i++)
		if (strcasecmp(env, c->words[i]) == 0)
			return i;
	return -1;
}

/* $SHMFRAME_SPIN_US as a number: 1 and *us when it is one, 0 when unset,
 * -1 when it is not a number of microseconds. */
static int env_spin_us(unsigned *us)
{
	const char *env = getenv("SHMFRAME_SPIN_US");
	unsigned long v;
	char *end;

	if (!env)
		return 0;
	errno = 0;
	v = strtoul(env, &end, 10);
	if (!*env || *end || errno || env[0] == '-' || env[0] == '+')
		return -1;
	*us = v > SPIN_US_MAX ? SPIN_US_MAX : (unsigned)v;
	return 1;
}

/* The spin a connection gets unless the program says otherwise. */
static unsigned default_spin_us(void)
{
	unsigned us;

	if (env_spin_us(&us) > 0)
		return us;
	return sysconf(_SC_NPROCESSORS_ONLN) < SPIN_MIN_CPUS ? 0 : SPIN_US_DEFAULT;
}

static void log_bad_env(struct shmframe_conn *conn, const struct env_choice *c)
{
	char list[64] = "";

	if (env_value(c) >= 0)
		return;
	for (int i = 0; c->words[i]; i++) {
		size_t len = strlen(list);

		snprintf(list + len, sizeof list - len, "%s%s",
		         i == 0 ? "" : c->words[i + 1] ? ", " : " or ", c->words[i]);
	}
	sfc__log(conn, SHMFRAME_LOG_INFO, "ignoring %s=%s: not %s", c->var,
	        getenv(c->var), list);
}

_Static_assert(sizeof(struct shmframe_options) >= SFC_OPTIONS_1_0_SIZE,
               "struct shmframe_options shrank below 1.0");
#if defined(__LP64__)
_Static_assert(SFC_OPTIONS_1_0_SIZE == 48 &&
               offsetof(struct shmframe_options, buffers) == 16 &&
               offsetof(struct shmframe_options, log) == 32,
               "a member of the 1.0 struct shmframe_options moved");
#endif

/* Copies the members that a caller's struct of size bytes holds whole
 * (a member cut by the size is absent). */
static void copy_options(struct shmframe_options *dst,
                         const struct shmframe_options *src, size_t size)
{
#define COPY(m) \
	do { \
		if (SFC_HAS(struct shmframe_options, m, size)) \
			dst->m = src->m; \
	} while (0)
	COPY(transport);
	COPY(shm);
	COPY(name);
	COPY(buffers);
	COPY(auth_file);
	COPY(log);
	COPY(log_data);
	COPY(signal);
	COPY(spin_us);
	COPY(compress);
#undef COPY
}

SHMFRAME_EXPORT void shmframe_options_init_sized(struct shmframe_options *opts,
                                                 size_t size)
{
	struct shmframe_options d;

	if (!opts)
		return;
	memset(&d, 0, sizeof d);
	if (env_value(&transport_env) > 0)
		d.transport = (enum shmframe_transport)env_value(&transport_env);
	if (env_value(&signal_env) > 0)
		d.signal = (enum shmframe_signal)env_value(&signal_env);
	if (env_value(&compress_env) > 0)
		d.compress = (enum shmframe_compress)env_value(&compress_env);
	d.shm = SHMFRAME_SHM_ANY;
	d.buffers = 3;
	d.spin_us = default_spin_us();
	/* Bytes past what this library knows are a newer program's members,
	 * whose zero means "as before". */
	memset(opts, 0, size);
	copy_options(opts, &d, size);
}

SHMFRAME_EXPORT void shmframe_options_init(struct shmframe_options *opts)
{
	shmframe_options_init_sized(opts, SFC_OPTIONS_1_0_SIZE);
}

int sfc__options_take(struct shmframe_options *o,
                      const struct shmframe_options *opts, size_t size)
{
	shmframe_options_init_sized(o, sizeof *o);
	if (!opts)
		return 0;
	copy_options(o, opts, size);
	for (size_t i = sizeof *o; i < size; i++)
		if (((const unsigned char *)opts)[i])
			return -E2BIG;
	return 0;
}

void sfc__options_log_env(struct shmframe_conn *conn)
{
	log_bad_env(conn, &transport_env);
	log_bad_env(conn, &signal_env);
	log_bad_env(conn, &compress_env);
	if (env_spin_us(&(unsigned){ 0 }) < 0)
		sfc__log(conn, SHMFRAME_LOG_INFO, "ignoring SHMFRAME_SPIN_US=%s: "
		        "not a number of microseconds", getenv("SHMFRAME_SPIN_US"));
}

unsigned sfc__options_spin_us(struct shmframe_conn *conn)
{
	unsigned v = conn->opts.spin_us;

	return v > SPIN_US_MAX ? SPIN_US_MAX : v;
}
