/*
 * protocol/cookie: one parser and one loader for the auth cookie file,
 * shared by the server and the client library.  The loader never blocks
 * and never accepts a file that is not the user's alone.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "cookie.h"
#include "harness.h"

static const uint8_t want[SF_COOKIE_SIZE] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
};
#define WANT_HEX "0123456789abcdeffedcba9876543210"

static char dir[] = "/tmp/shmframe-cookie.XXXXXX";
static char path[128];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

/* A cookie file with this text and mode, in a fresh directory. */
static void make_file(const char *text, mode_t mode)
{
	int fd;

	ASSERT(mkdtemp(dir) != NULL);
	sf_test_atfail = cleanup;
	snprintf(path, sizeof path, "%s/cookie", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ASSERT_EQ(chmod(path, mode), 0);
}

static int load(char *why, size_t len)
{
	uint8_t cookie[SF_COOKIE_SIZE];

	return sf__cookie_load(path, cookie, why, len);
}

TEST(the_servers_own_format_parses_back)
{
	char text[SF_COOKIE_HEX + 2];
	uint8_t got[SF_COOKIE_SIZE];
	const char *why = NULL;

	sf__cookie_format(want, text);
	ASSERT_STREQ(text, WANT_HEX "\n");
	ASSERT_EQ(sf__cookie_parse(text, strlen(text), got, &why), 0);
	ASSERT_EQ(memcmp(got, want, sizeof want), 0);
}

TEST(trailing_white_space_and_upper_case_are_accepted)
{
	static const char *const texts[] = {
		WANT_HEX, WANT_HEX "\n", WANT_HEX "\r\n", WANT_HEX " \t\n\n",
		"0123456789ABCDEFFEDCBA9876543210\n",
	};
	uint8_t got[SF_COOKIE_SIZE];
	const char *why = NULL;

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		ASSERT_MSG(sf__cookie_parse(texts[i], strlen(texts[i]), got, &why) == 0,
		           "\"%s\": %s", texts[i], why);
		ASSERT_EQ(memcmp(got, want, sizeof want), 0);
	}
}

TEST(anything_else_is_not_a_cookie)
{
	static const char *const texts[] = {
		/* (Parenthesised: the concatenations are meant.) */
		"", "\n", "0123", (WANT_HEX "0"), (WANT_HEX "\nx"),
		"0123456789abcdeffedcba987654321g", (" " WANT_HEX),
		"not a cookie at all, just some text\n",
	};
	uint8_t got[SF_COOKIE_SIZE];

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		const char *why = NULL;

		ASSERT_MSG(sf__cookie_parse(texts[i], strlen(texts[i]), got, &why) ==
		           -EINVAL, "\"%s\" was taken for a cookie", texts[i]);
		ASSERT(why != NULL);
		for (size_t j = 0; j < SF_COOKIE_SIZE; j++)
			ASSERT_EQ(got[j], 0);
	}
}

TEST(the_all_zero_cookie_is_refused)
{
	static const char text[] = "00000000000000000000000000000000\n";
	uint8_t got[SF_COOKIE_SIZE];
	const char *why = NULL;

	ASSERT_EQ(sf__cookie_parse(text, strlen(text), got, &why), -EINVAL);
	ASSERT_MSG(strstr(why, "all-zero"), "%s", why);
}

TEST(a_private_file_of_the_user_loads)
{
	uint8_t got[SF_COOKIE_SIZE];
	char why[200] = "";

	make_file(WANT_HEX "\n", 0600);
	ASSERT_MSG(sf__cookie_load(path, got, why, sizeof why) == 0, "%s", why);
	cleanup();
	ASSERT_EQ(memcmp(got, want, sizeof want), 0);
}

TEST(a_missing_file_is_enoent)
{
	char why[200];

	snprintf(path, sizeof path, "/nonexistent-shmframe/cookie");
	ASSERT_EQ(load(why, sizeof why), -ENOENT);
}

TEST(a_file_others_may_read_or_write_is_refused_and_left_alone)
{
	static const mode_t modes[] = { 0640, 0604, 0620, 0602, 0644, 0666 };
	struct stat st;
	char why[200];

	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		make_file(WANT_HEX "\n", modes[i]);
		ASSERT_EQ(load(why, sizeof why), -EPERM);
		ASSERT_EQ(stat(path, &st), 0);
		cleanup();
		ASSERT_MSG(strstr(why, "must be 0600"), "%s", why);
		ASSERT_EQ(st.st_mode & 0777, modes[i]);
		strcpy(dir, "/tmp/shmframe-cookie.XXXXXX");
	}
}

TEST(a_file_of_another_uid_is_refused)
{
	char why[200];

	if (getuid() != 0)
		return;
	make_file(WANT_HEX "\n", 0600);
	ASSERT_EQ(chown(path, 65534, 65534), 0);
	ASSERT_EQ(load(why, sizeof why), -EPERM);
	cleanup();
	ASSERT_MSG(strstr(why, "belongs to uid 65534"), "%s", why);
}

TEST(a_symlink_to_a_good_file_is_refused)
{
	char target[160], why[200];

	make_file(WANT_HEX "\n", 0600);
	snprintf(target, sizeof target, "%s.real", path);
	ASSERT_EQ(rename(path, target), 0);
	ASSERT_EQ(symlink(target, path), 0);
	ASSERT_EQ(load(why, sizeof why), -ELOOP);
	unlink(target);
	cleanup();
	ASSERT_MSG(strstr(why, "symbolic link"), "%s", why);
}

/* A FIFO without a writer: opening it for reading would wait forever. */
TEST(a_fifo_is_refused_at_once)
{
	char why[200];

	ASSERT(mkdtemp(dir) != NULL);
	sf_test_atfail = cleanup;
	snprintf(path, sizeof path, "%s/cookie", dir);
	ASSERT_EQ(mkfifo(path, 0600), 0);
	alarm(5);
	ASSERT_EQ(load(why, sizeof why), -EINVAL);
	alarm(0);
	cleanup();
	ASSERT_MSG(strstr(why, "not a regular file"), "%s", why);
}

TEST(a_file_too_long_to_be_a_cookie_is_refused)
{
	char text[400], why[200];

	memset(text, ' ', sizeof text - 1);
	memcpy(text, WANT_HEX, SF_COOKIE_HEX);
	text[sizeof text - 1] = '\0';
	make_file(text, 0600);
	ASSERT_EQ(load(why, sizeof why), -EINVAL);
	cleanup();
}
