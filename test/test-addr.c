/*
 * protocol/addr: server addresses parse the way DISPLAY does, bad ones are
 * refused, and the per-user runtime directory is made private.
 */
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "addr.h"
#include "harness.h"

static void parse_ok(const char *text, struct sf_addr *a)
{
	int err = sf__addr_parse(text, a);

	ASSERT_MSG(err == 0, "\"%s\": %s", text ? text : "(null)", strerror(-err));
}

TEST(unix_addresses_keep_their_path)
{
	struct sf_addr a;

	parse_ok("unix:/tmp/x/sock", &a);
	ASSERT_EQ(a.kind, SF_ADDR_UNIX);
	ASSERT_STREQ(a.path, "/tmp/x/sock");
	parse_ok("unix:relative/sock", &a);
	ASSERT_STREQ(a.path, "relative/sock");
	ASSERT(!a.in_runtime_dir);
}

TEST(tcp_addresses_split_host_and_port)
{
	struct sf_addr a;

	parse_ok("tcp:127.0.0.1:7000", &a);
	ASSERT_EQ(a.kind, SF_ADDR_TCP);
	ASSERT_STREQ(a.host, "127.0.0.1");
	ASSERT_STREQ(a.port, "7000");
	parse_ok("tcp:example.org:0", &a);
	ASSERT_STREQ(a.host, "example.org");
	ASSERT_STREQ(a.port, "0");
	parse_ok("tcp:[::1]:65535", &a);
	ASSERT_STREQ(a.host, "::1");
	ASSERT_STREQ(a.port, "65535");
}

TEST(display_numbers_name_a_socket_in_the_runtime_dir)
{
	struct sf_addr a;
	char want[128];

	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	parse_ok(":3", &a);
	ASSERT_EQ(a.kind, SF_ADDR_UNIX);
	ASSERT_STREQ(a.path, "/run/user/4242/shmframe/3");
	ASSERT(a.in_runtime_dir);
	unsetenv("XDG_RUNTIME_DIR");
	parse_ok(":12", &a);
	snprintf(want, sizeof want, "/tmp/shmframe-%u/12", (unsigned)getuid());
	ASSERT_STREQ(a.path, want);
	/* A relative XDG_RUNTIME_DIR is not trusted. */
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	parse_ok(":1", &a);
	snprintf(want, sizeof want, "/tmp/shmframe-%u/1", (unsigned)getuid());
	ASSERT_STREQ(a.path, want);
}

TEST(no_address_means_the_environment_then_display_0)
{
	struct sf_addr a;

	setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
	setenv("SHMFRAME_SERVER", "tcp:h:1", 1);
	parse_ok(NULL, &a);
	ASSERT_EQ(a.kind, SF_ADDR_TCP);
	parse_ok("", &a);
	ASSERT_EQ(a.kind, SF_ADDR_TCP);
	unsetenv("SHMFRAME_SERVER");
	parse_ok(NULL, &a);
	ASSERT_EQ(a.kind, SF_ADDR_UNIX);
	ASSERT_STREQ(a.path, "/run/user/7/shmframe/0");
}

TEST(malformed_addresses_are_refused)
{
	static const char *const bad[] = {
		"foo", "unix:", "tcp:", "tcp:host", "tcp::80", "tcp:host:",
		"tcp:host:99999", "tcp:host:80x", "tcp:host:-1", ":", ":x",
		":70000", ":-1", ":1a", "udp:host:1", "UNIX:/x",
	};
	struct sf_addr a;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ASSERT_MSG(sf__addr_parse(bad[i], &a) == -EINVAL, "\"%s\"", bad[i]);
}

TEST(too_long_paths_are_refused_not_truncated)
{
	char text[300];
	struct sf_addr a;

	memset(text, 'a', sizeof text);
	memcpy(text, "unix:/", 6);
	text[5 + sizeof a.path] = '\0'; /* a path of 108 bytes: no room for NUL */
	ASSERT_EQ(sf__addr_parse(text, &a), -ENAMETOOLONG);
	text[5 + sizeof a.path - 1] = '\0';
	parse_ok(text, &a);
	ASSERT_EQ(strlen(a.path), sizeof a.path - 1);
	memcpy(text, "tcp:", 4);
	memset(text + 4, 'h', 280);
	strcpy(text + 284, ":80");
	ASSERT_EQ(sf__addr_parse(text, &a), -ENAMETOOLONG);
}

TEST(addresses_format_back_to_their_text)
{
	static const char *const texts[] = {
		"unix:/tmp/s", "tcp:127.0.0.1:9", "tcp:[::1]:80",
	};
	struct sf_addr a;
	char buf[400];

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		parse_ok(texts[i], &a);
		sf__addr_format(&a, buf, sizeof buf);
		ASSERT_STREQ(buf, texts[i]);
	}
}

TEST(auth_path_prefers_the_environment)
{
	char buf[256];

	setenv("SHMFRAME_AUTH", "/somewhere/cookie", 1);
	ASSERT_EQ(sf__auth_path(buf, sizeof buf), 0);
	ASSERT_STREQ(buf, "/somewhere/cookie");
	unsetenv("SHMFRAME_AUTH");
	setenv("XDG_RUNTIME_DIR", "/run/user/9", 1);
	ASSERT_EQ(sf__auth_path(buf, sizeof buf), 0);
	ASSERT_STREQ(buf, "/run/user/9/shmframe/cookie");
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

TEST(the_runtime_dir_is_made_private)
{
	char base[] = "/tmp/shmframe-addr.XXXXXX", dir[128], why[300];
	struct stat st;
	int err;

	ASSERT(mkdtemp(base) != NULL);
	setenv("XDG_RUNTIME_DIR", base, 1);
	snprintf(dir, sizeof dir, "%s/shmframe", base);
	err = sf__runtime_dir_make(why, sizeof why);
	ASSERT_EQ(stat(dir, &st), 0);
	ASSERT_MSG(err == 0, "%s", why);
	ASSERT(S_ISDIR(st.st_mode));
	ASSERT_EQ(st.st_mode & 0777, 0700);
	ASSERT_EQ(sf__runtime_dir_check(dir, why, sizeof why), 0);
	nftw(base, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Whoever could enter it may have left a socket or a cookie there: it is
 * refused, not tightened. */
TEST(a_runtime_dir_open_to_others_is_refused_and_left_alone)
{
	char base[] = "/tmp/shmframe-addr.XXXXXX", dir[128], why[300];
	struct stat st;
	int err;

	ASSERT(mkdtemp(base) != NULL);
	setenv("XDG_RUNTIME_DIR", base, 1);
	snprintf(dir, sizeof dir, "%s/shmframe", base);
	ASSERT_EQ(mkdir(dir, 0700), 0);
	ASSERT_EQ(chmod(dir, 0755), 0);
	err = sf__runtime_dir_make(why, sizeof why);
	ASSERT_EQ(stat(dir, &st), 0);
	nftw(base, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	ASSERT_EQ(err, -EPERM);
	ASSERT_EQ(st.st_mode & 0777, 0755);
	ASSERT_MSG(strstr(why, "is mode 0755") && strstr(why, dir), "%s", why);
}

TEST(a_runtime_dir_of_another_uid_is_refused)
{
	char base[] = "/tmp/shmframe-addr.XXXXXX", dir[128], why[300];
	int err;

	/* Needs root to give a directory away. */
	if (getuid() != 0)
		return;
	ASSERT(mkdtemp(base) != NULL);
	setenv("XDG_RUNTIME_DIR", base, 1);
	snprintf(dir, sizeof dir, "%s/shmframe", base);
	ASSERT_EQ(mkdir(dir, 0700), 0);
	ASSERT_EQ(chown(dir, 65534, 65534), 0);
	err = sf__runtime_dir_make(why, sizeof why);
	nftw(base, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	ASSERT_EQ(err, -EPERM);
	ASSERT_MSG(strstr(why, "belongs to uid 65534"), "%s", why);
}

TEST(a_missing_runtime_dir_is_reported_not_made_by_the_check)
{
	char why[300];

	ASSERT_EQ(sf__runtime_dir_check("/nonexistent-shmframe/shmframe", why,
	                                sizeof why), -ENOENT);
	ASSERT_MSG(strstr(why, "/nonexistent-shmframe/shmframe"), "%s", why);
}

TEST(a_file_in_place_of_the_runtime_dir_is_refused)
{
	char base[] = "/tmp/shmframe-addr.XXXXXX", dir[128], why[300];
	int fd, err;

	ASSERT(mkdtemp(base) != NULL);
	setenv("XDG_RUNTIME_DIR", base, 1);
	snprintf(dir, sizeof dir, "%s/shmframe", base);
	fd = open(dir, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	close(fd);
	err = sf__runtime_dir_make(why, sizeof why);
	nftw(base, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	ASSERT_EQ(err, -ENOTDIR);
}

TEST(a_symlink_in_place_of_the_runtime_dir_is_refused)
{
	char base[] = "/tmp/shmframe-addr.XXXXXX", dir[128], target[128];
	char why[300];
	int err;

	ASSERT(mkdtemp(base) != NULL);
	setenv("XDG_RUNTIME_DIR", base, 1);
	snprintf(dir, sizeof dir, "%s/shmframe", base);
	snprintf(target, sizeof target, "%s/elsewhere", base);
	ASSERT_EQ(mkdir(target, 0700), 0);
	ASSERT_EQ(symlink(target, dir), 0);
	err = sf__runtime_dir_make(why, sizeof why);
	nftw(base, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	ASSERT_EQ(err, -ELOOP);
	ASSERT_MSG(strstr(why, "symbolic link"), "%s", why);
}
