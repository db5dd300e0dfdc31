/*
 * A tiny test harness: one executable per module, one function per
 * behaviour.  Every test runs in its own forked process with an alarm()
 * timeout, so a crash, a hang or an abort fails that test only, and a test
 * that leaves a file descriptor open fails too (the count of open fds is
 * taken before and after the test, in the child).
 *
 * Usage, in exactly one .c file per executable:
 *
 *     #include "harness.h"
 *     TEST(decoding_a_short_message_fails) { ASSERT_EQ(f(), 0); }
 *
 * The header supplies main().  Run the executable with no argument for all
 * tests, or with test names to run only those; SF_TEST_NOFORK=1 runs them in
 * the parent (for a debugger); SF_TEST_TIMEOUT=N changes the per-test
 * timeout (seconds, default 20).
 */
#ifndef SHMFRAME_TEST_HARNESS_H
#define SHMFRAME_TEST_HARNESS_H

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SF_TEST_MAX 256
#define SF_TEST_UNUSED __attribute__((unused))

struct sf_test {
	const char *name;
	void (*run)(void);
	int skip_fd_check;
};

static struct sf_test sf_tests[SF_TEST_MAX];
static int sf_test_count;

/* Set by a test that starts something outside its own process (a server,
 * a temporary directory): called when the test fails or times out, so a
 * failing test still cleans up after itself. */
SF_TEST_UNUSED static void (*sf_test_atfail)(void);

static void sf_test_run_atfail(void)
{
	void (*fn)(void) = sf_test_atfail;

	sf_test_atfail = NULL; /* once, even if it fails itself */
	if (fn)
		fn();
}

static void sf_test_register(const char *name, void (*run)(void), int skip_fd_check)
{
	if (sf_test_count == SF_TEST_MAX) {
		fprintf(stderr, "harness: too many tests (raise SF_TEST_MAX)\n");
		abort();
	}
	sf_tests[sf_test_count].name = name;
	sf_tests[sf_test_count].run = run;
	sf_tests[sf_test_count].skip_fd_check = skip_fd_check;
	sf_test_count++;
}

/* Registration runs before main() through a constructor, so a test is
 * listed by writing it, with no table to keep in step. */
#define SF_TEST_DEFINE(name, skip)                                           \
	static void name(void);                                              \
	__attribute__((constructor)) static void sf_test_reg_##name(void)   \
	{                                                                    \
		sf_test_register(#name, name, skip);                         \
	}                                                                    \
	static void name(void)

#define TEST(name) SF_TEST_DEFINE(name, 0)
/* For a test that deliberately ends with fds it cannot close itself
 * (none should need it; it exists so that the exception is visible). */
#define TEST_NO_FD_CHECK(name) SF_TEST_DEFINE(name, 1)

/* Open fds of this process, not counting the one used to list them. */
SF_TEST_UNUSED static int sf_test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d) {
		perror("harness: opendir /proc/self/fd");
		abort();
	}
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static void sf_test_fail_here(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

SF_TEST_UNUSED static void sf_test_fail_here(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	sf_test_run_atfail();
	_exit(1);
}

#define FAIL(...) sf_test_fail_here(__FILE__, __LINE__, __VA_ARGS__)

#define ASSERT(cond)                                                         \
	do {                                                                 \
		if (!(cond))                                                 \
			FAIL("assertion failed: %s", #cond);                 \
	} while (0)

#define ASSERT_MSG(cond, ...)                                                \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: assertion failed: %s: ",     \
			        __FILE__, __LINE__, #cond);                  \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			fflush(stderr);                                      \
			sf_test_run_atfail();                                \
			_exit(1);                                            \
		}                                                            \
	} while (0)

/* Integer comparisons print both values. */
#define ASSERT_CMP(a, op, b)                                                 \
	do {                                                                 \
		long long sf_a_ = (long long)(a), sf_b_ = (long long)(b);    \
		if (!(sf_a_ op sf_b_))                                       \
			FAIL("assertion failed: %s %s %s (%lld vs %lld)",    \
			     #a, #op, #b, sf_a_, sf_b_);                     \
	} while (0)
#define ASSERT_EQ(a, b) ASSERT_CMP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_CMP(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_CMP(a, <, b)
#define ASSERT_LE(a, b) ASSERT_CMP(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_CMP(a, >, b)
#define ASSERT_GE(a, b) ASSERT_CMP(a, >=, b)

#define ASSERT_STREQ(a, b)                                                   \
	do {                                                                 \
		const char *sf_a_ = (a), *sf_b_ = (b);                       \
		if (!sf_a_ || !sf_b_ || strcmp(sf_a_, sf_b_) != 0)           \
			FAIL("assertion failed: %s == %s (\"%s\" vs \"%s\")", \
			     #a, #b, sf_a_ ? sf_a_ : "(null)",               \
			     sf_b_ ? sf_b_ : "(null)");                      \
	} while (0)

#define ASSERT_CONTAINS(hay, needle)                                         \
	do {                                                                 \
		const char *sf_h_ = (hay), *sf_n_ = (needle);                \
		if (!sf_h_ || !strstr(sf_h_, sf_n_))                         \
			FAIL("assertion failed: \"%s\" contains \"%s\"",     \
			     sf_h_ ? sf_h_ : "(null)", sf_n_);               \
	} while (0)

static int sf_test_run_one(const struct sf_test *t)
{
	int before = sf_test_count_fds();

	t->run();
	if (!t->skip_fd_check) {
		int after = sf_test_count_fds();
		if (after != before) {
			fprintf(stderr, "%s: %d fds open before the test, %d after "
			        "(leak)\n", t->name, before, after);
			return 1;
		}
	}
	return 0;
}

static void sf_test_on_alarm(int sig)
{
	static const char msg[] = "test timed out\n";

	(void)sig;
	if (write(2, msg, sizeof msg - 1) < 0) {
		/* nothing more to say */
	}
	sf_test_run_atfail();
	_exit(3);
}

static int sf_test_run_forked(const struct sf_test *t, unsigned timeout)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		perror("harness: fork");
		return 1;
	}
	if (pid == 0) {
		signal(SIGALRM, sf_test_on_alarm);
		alarm(timeout);
		_exit(sf_test_run_one(t));
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			perror("harness: waitpid");
			return 1;
		}
	if (WIFEXITED(status))
		return WEXITSTATUS(status) != 0;
	if (WTERMSIG(status) == SIGALRM)
		fprintf(stderr, "%s: timed out after %u s\n", t->name, timeout);
	else
		fprintf(stderr, "%s: killed by signal %d (%s)\n", t->name,
		        WTERMSIG(status), strsignal(WTERMSIG(status)));
	return 1;
}

static int sf_test_selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv("SF_TEST_TIMEOUT");
	unsigned timeout = env ? (unsigned)atoi(env) : 20;
	int nofork = getenv("SF_TEST_NOFORK") != NULL;
	int failed = 0, ran = 0;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (int i = 0; i < sf_test_count; i++)
			printf("%s\n", sf_tests[i].name);
		return 0;
	}
	/* A test writing to a peer that died must fail, not kill the run. */
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < sf_test_count; i++) {
		const struct sf_test *t = &sf_tests[i];
		struct timespec t0, t1;
		int bad;

		if (!sf_test_selected(t->name, argc, argv))
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		bad = nofork ? sf_test_run_one(t) : sf_test_run_forked(t, timeout);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%s %s (%.0f ms)\n", bad ? "FAIL" : "ok  ", t->name,
		       (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
		fflush(stdout);
		failed += bad;
		ran++;
	}
	if (ran == 0) {
		fprintf(stderr, "no test matched\n");
		return 2;
	}
	printf("%d of %d tests passed\n", ran - failed, ran);
	return failed ? 1 : 0;
}

#endif
