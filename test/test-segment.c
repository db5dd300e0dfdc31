/*
 * protocol/segment: each kind of segment, made on the creating side and
 * opened on the attaching side, is the same memory; every check of the
 * attaching side (nonce, seals, sizes, owner) refuses what it must; names
 * and ids disappear when they should; nothing is left open, mapped or
 * allocated afterwards.
 */
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "segment.h"

#define SEG_SIZE (64u * 1024)

static const int kinds[] = { SF_SHM_MEMFD, SF_SHM_POSIX, SF_SHM_SYSV };

/* The challenge of the server these tests play. */
static const uint8_t challenge[SF_CHALLENGE_SIZE] = {
	0xc1, 0x2a, 0x93, 0x04, 0x5e, 0x66, 0x17, 0xd8,
	0x09, 0xba, 0x3b, 0x7c, 0xed, 0x0e, 0x8f, 0x50,
};

/* What a client would send for seg: its kind, size, id or name, and the
 * nonce it wrote into the first bytes, the challenge after it. */
static struct sf_segment_msg describe(struct sf_segment *seg, int writable)
{
	struct sf_segment_msg m = { .hdr.type = SF_ATTACH_SEGMENT, .id = 1,
		.kind = (uint8_t)seg->kind,
		.flags = writable ? SF_SEGMENT_WRITABLE : 0, .size = seg->size,
		.shmid = seg->kind == SF_SHM_SYSV ? seg->shmid : -1 };

	ASSERT_EQ(sf__random(m.nonce, sizeof m.nonce), 0);
	sf__segment_write_proof(seg, m.nonce, challenge);
	if (seg->kind == SF_SHM_POSIX)
		memcpy(m.name, seg->name, sizeof m.name);
	return m;
}

/* What the server does: open, then check the proof; on failure srv holds
 * nothing. */
static int open_and_prove(struct sf_segment *srv, const struct sf_segment_msg *m,
                          int fd, uint32_t peer_uid, char *why, size_t why_len)
{
	int st = sf__segment_open(srv, m, fd, peer_uid, why, why_len);

	if (st != SF_PROBE_OK)
		return st;
	st = sf__segment_prove(srv, m, challenge, why, why_len);
	if (st != SF_PROBE_OK)
		sf__segment_close(srv);
	return st;
}

/* The fd the attaching side receives: for memfd a copy of the creator's,
 * as SCM_RIGHTS would give it; -1 otherwise. */
static int passed_fd(const struct sf_segment *seg)
{
	int fd;

	if (seg->kind != SF_SHM_MEMFD)
		return -1;
	fd = fcntl(seg->fd, F_DUPFD_CLOEXEC, 0);
	ASSERT_GE(fd, 0);
	return fd;
}

static void create(struct sf_segment *seg, int kind, size_t size)
{
	int err = sf__segment_create(seg, kind, size);

	ASSERT_MSG(err == 0, "create %s: %s", sf__shm_kind_name((uint32_t)kind),
	           strerror(-err));
	ASSERT(seg->map != NULL);
	ASSERT_EQ(seg->kind, kind);
	ASSERT_EQ(seg->size, size);
	ASSERT(seg->writable);
}

static int open_seg(struct sf_segment *srv, struct sf_segment *cli,
                    const struct sf_segment_msg *m, char *why, size_t why_len)
{
	return open_and_prove(srv, m, passed_fd(cli), (uint32_t)-1, why, why_len);
}

static void dev_shm_path(const char *name, char *path, size_t len)
{
	snprintf(path, len, "/dev/shm%s", name);
}

/* 1 when System V segment id is listed (what ipcs -m shows). */
static int sysv_listed(int shmid)
{
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	char line[512];
	int found = 0;

	ASSERT(f != NULL);
	while (fgets(line, sizeof line, f)) {
		int key, id;
		if (sscanf(line, "%d %d", &key, &id) == 2 && id == shmid)
			found = 1;
	}
	fclose(f);
	return found;
}

static int count_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;

	ASSERT(f != NULL);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void check_same_memory(int kind)
{
	struct sf_segment cli, srv;
	struct sf_segment_msg m;
	char why[256] = "x";
	int st;

	create(&cli, kind, SEG_SIZE);
	m = describe(&cli, 0);
	for (size_t i = SF_PROOF_SIZE; i < SEG_SIZE; i++)
		((uint8_t *)cli.map)[i] = (uint8_t)(i * 31 + 7);
	st = open_seg(&srv, &cli, &m, why, sizeof why);
	ASSERT_MSG(st == SF_PROBE_OK, "%s: status %d: %s",
	           sf__shm_kind_name((uint32_t)kind), st, why);
	ASSERT_EQ(why[0], '\0');
	ASSERT(srv.map != NULL);
	ASSERT(srv.map != cli.map);
	ASSERT_GE(srv.size, SEG_SIZE);
	ASSERT(!srv.writable);
	ASSERT(memcmp(srv.map, cli.map, SEG_SIZE) == 0);
	/* Later writes of the client show through: it is shared, not copied. */
	((uint8_t *)cli.map)[SEG_SIZE - 1] ^= 0xff;
	((uint8_t *)cli.map)[1000] = 0x5a;
	ASSERT(memcmp(srv.map, cli.map, SEG_SIZE) == 0);
	sf__segment_close(&srv);
	sf__segment_close(&cli);
}

TEST(memfd_segment_opens_as_the_same_memory) { check_same_memory(SF_SHM_MEMFD); }
TEST(posix_segment_opens_as_the_same_memory) { check_same_memory(SF_SHM_POSIX); }
TEST(sysv_segment_opens_as_the_same_memory) { check_same_memory(SF_SHM_SYSV); }

TEST(writable_segments_carry_server_writes_back)
{
	for (size_t k = 0; k < 3; k++) {
		struct sf_segment cli, srv;
		struct sf_segment_msg m;
		char why[256];

		create(&cli, kinds[k], SEG_SIZE);
		m = describe(&cli, 1);
		ASSERT_EQ(open_seg(&srv, &cli, &m, why, sizeof why), SF_PROBE_OK);
		ASSERT(srv.writable);
		memset((uint8_t *)srv.map + 4096, 0xc3, 4096);
		for (size_t i = 4096; i < 8192; i++)
			ASSERT_EQ(((uint8_t *)cli.map)[i], 0xc3);
		sf__segment_close(&srv);
		sf__segment_close(&cli);
	}
}

TEST(read_only_segments_cannot_be_written_by_the_server)
{
	for (size_t k = 0; k < 3; k++) {
		struct sf_segment cli, srv;
		struct sf_segment_msg m;
		char why[256];
		int status;
		pid_t pid;

		create(&cli, kinds[k], SEG_SIZE);
		m = describe(&cli, 0);
		ASSERT_EQ(open_seg(&srv, &cli, &m, why, sizeof why), SF_PROBE_OK);
		pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0) {
			/* A sanitizer's handler would turn the fault into an
			 * exit status: let the signal itself end the child. */
			signal(SIGSEGV, SIG_DFL);
			((volatile uint8_t *)srv.map)[100] = 1;
			_exit(0);
		}
		ASSERT_EQ(waitpid(pid, &status, 0), pid);
		ASSERT_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
		           "%s: a write to a read-only mapping did not fault",
		           sf__shm_kind_name((uint32_t)kinds[k]));
		sf__segment_close(&srv);
		sf__segment_close(&cli);
	}
}

TEST(created_segments_describe_themselves_in_a_valid_message)
{
	for (size_t k = 0; k < 3; k++) {
		struct sf_segment cli;
		struct sf_segment_msg m, out;
		uint8_t buf[256];
		const char *why = NULL;
		size_t len;

		create(&cli, kinds[k], SEG_SIZE);
		m = describe(&cli, 0);
		len = sf__encode(buf, sizeof buf, SF_ATTACH_SEGMENT, &m, sizeof m,
		                 NULL, 0);
		ASSERT_EQ(len, sizeof m);
		ASSERT_MSG(sf__decode_segment(buf, len, &out, &why) == 0,
		           "%s: %s", sf__shm_kind_name((uint32_t)kinds[k]), why);
		sf__segment_close(&cli);
	}
}

TEST(nonce_mismatch_is_detected_for_every_kind)
{
	for (size_t k = 0; k < 3; k++) {
		struct sf_segment cli, srv;
		struct sf_segment_msg m;
		char why[256] = "";
		int maps_before = count_mappings();

		create(&cli, kinds[k], SEG_SIZE);
		m = describe(&cli, 0);
		m.nonce[SF_NONCE_SIZE - 1] ^= 1;
		ASSERT_EQ(open_seg(&srv, &cli, &m, why, sizeof why),
		          SF_PROBE_NONCE_MISMATCH);
		ASSERT(why[0] != '\0');
		/* Nothing held on the failed side. */
		ASSERT(srv.map == NULL);
		ASSERT_EQ(srv.fd, -1);
		sf__segment_close(&cli);
		ASSERT_EQ(count_mappings(), maps_before);
	}
}

TEST(memfd_without_shrink_seal_is_refused)
{
	struct sf_segment srv;
	struct sf_segment_msg m = { .hdr.type = SF_ATTACH_SEGMENT, .id = 1,
		.kind = SF_SHM_MEMFD, .size = SEG_SIZE, .shmid = -1 };
	char why[256] = "";
	int fd, before;
	void *map;

	/* Sealable but unsealed: could be shrunk under the server's mapping. */
	fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, SEG_SIZE), 0);
	map = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT(map != MAP_FAILED);
	memcpy(map, m.nonce, SF_NONCE_SIZE);
	before = sf_test_count_fds();
	ASSERT_EQ(sf__segment_open(&srv, &m, fcntl(fd, F_DUPFD_CLOEXEC, 0),
	                           (uint32_t)-1, why, sizeof why),
	          SF_PROBE_BAD_SEGMENT);
	ASSERT(why[0] != '\0');
	ASSERT(srv.map == NULL);
	/* The passed fd was taken and closed by the failed open. */
	ASSERT_EQ(sf_test_count_fds(), before);
	/* Not sealable at all (F_SEAL_SEAL set from birth, no SHRINK). */
	close(fd);
	fd = memfd_create("test", MFD_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, SEG_SIZE), 0);
	ASSERT_EQ(sf__segment_open(&srv, &m, fd, (uint32_t)-1, why, sizeof why),
	          SF_PROBE_BAD_SEGMENT);
	munmap(map, SEG_SIZE);
}

TEST(memfd_without_an_fd_reports_no_fd)
{
	struct sf_segment srv;
	struct sf_segment_msg m = { .hdr.type = SF_ATTACH_SEGMENT, .id = 1,
		.kind = SF_SHM_MEMFD, .size = SEG_SIZE, .shmid = -1 };
	char why[256] = "";

	ASSERT_EQ(sf__segment_open(&srv, &m, -1, (uint32_t)-1, why, sizeof why),
	          SF_PROBE_NO_FD);
	ASSERT_CONTAINS(why, "fd");
}

TEST(memfd_that_is_not_a_memory_file_is_refused)
{
	struct sf_segment srv;
	struct sf_segment_msg m = { .hdr.type = SF_ATTACH_SEGMENT, .id = 1,
		.kind = SF_SHM_MEMFD, .size = SEG_SIZE, .shmid = -1 };
	char why[256] = "";
	int p[2];

	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	ASSERT_EQ(sf__segment_open(&srv, &m, p[0], (uint32_t)-1, why, sizeof why),
	          SF_PROBE_BAD_SEGMENT);
	close(p[1]); /* p[0] was taken by the open */
}

TEST(segments_smaller_than_claimed_are_refused)
{
	for (size_t k = 0; k < 3; k++) {
		struct sf_segment cli, srv;
		struct sf_segment_msg m;
		char why[256] = "";

		create(&cli, kinds[k], SEG_SIZE);
		m = describe(&cli, 0);
		/* Sizes are page-rounded by some kinds: claim far more. */
		m.size = SEG_SIZE * 4;
		ASSERT_MSG(open_seg(&srv, &cli, &m, why, sizeof why) ==
		           SF_PROBE_BAD_SEGMENT, "%s accepted a short segment",
		           sf__shm_kind_name((uint32_t)kinds[k]));
		ASSERT(srv.map == NULL);
		sf__segment_close(&cli);
	}
}

TEST(memfd_segments_are_sealed_against_shrinking)
{
	struct sf_segment cli;
	int seals;

	create(&cli, SF_SHM_MEMFD, SEG_SIZE);
	seals = fcntl(cli.fd, F_GET_SEALS);
	ASSERT_GE(seals, 0);
	ASSERT(seals & F_SEAL_SHRINK);
	ASSERT(seals & F_SEAL_SEAL);
	ASSERT_EQ(ftruncate(cli.fd, SEG_SIZE / 2), -1);
	ASSERT_EQ(errno, EPERM);
	sf__segment_close(&cli);
}

TEST(posix_segments_are_private_and_named_with_the_prefix)
{
	struct sf_segment cli;
	struct stat st;

	create(&cli, SF_SHM_POSIX, SEG_SIZE);
	ASSERT_EQ(strncmp(cli.name, SF_SHM_NAME_PREFIX,
	                  strlen(SF_SHM_NAME_PREFIX)), 0);
	ASSERT_LT(strlen(cli.name), SF_SHM_NAME_SIZE);
	/* Unguessable: well past the prefix. */
	ASSERT_GE(strlen(cli.name), strlen(SF_SHM_NAME_PREFIX) + 16);
	ASSERT_EQ(fstat(cli.fd, &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0600);
	sf__segment_close(&cli);
}

TEST(sysv_segments_are_private)
{
	struct sf_segment cli;
	struct shmid_ds ds;

	create(&cli, SF_SHM_SYSV, SEG_SIZE);
	ASSERT_EQ(shmctl(cli.shmid, IPC_STAT, &ds), 0);
	ASSERT_EQ(ds.shm_perm.mode & 0777, 0600);
	ASSERT_EQ(ds.shm_perm.__key, IPC_PRIVATE);
	sf__segment_close(&cli);
}

TEST(posix_name_is_removed_once_the_server_opens_it)
{
	struct sf_segment cli, srv;
	struct sf_segment_msg m;
	char path[128], why[256];

	create(&cli, SF_SHM_POSIX, SEG_SIZE);
	dev_shm_path(cli.name, path, sizeof path);
	ASSERT_EQ(access(path, F_OK), 0);
	m = describe(&cli, 0);
	ASSERT_EQ(open_seg(&srv, &cli, &m, why, sizeof why), SF_PROBE_OK);
	ASSERT_MSG(access(path, F_OK) != 0, "%s still exists after open", path);
	ASSERT_EQ(srv.name[0], '\0');
	/* The memory itself stays shared through the open fds. */
	((uint8_t *)cli.map)[SEG_SIZE / 2] = 0x42;
	ASSERT_EQ(((uint8_t *)srv.map)[SEG_SIZE / 2], 0x42);
	sf__segment_close(&srv);
	sf__segment_close(&cli);
}

TEST(posix_name_is_removed_when_the_creator_closes_without_an_open)
{
	struct sf_segment cli;
	char path[128];

	create(&cli, SF_SHM_POSIX, SEG_SIZE);
	dev_shm_path(cli.name, path, sizeof path);
	ASSERT_EQ(access(path, F_OK), 0);
	sf__segment_close(&cli);
	ASSERT_MSG(access(path, F_OK) != 0, "%s left behind", path);
}

/* Makes /dev/shm/NAME (a POSIX object) last modified age seconds ago. */
static void plant(const char *name, time_t age)
{
	char path[128];
	struct timespec ts[2];
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, 4096), 0);
	close(fd);
	dev_shm_path(name, path, sizeof path);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	ASSERT_EQ(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* A client killed between shm_open and the server's open leaves its name;
 * the next POSIX segment made on this machine removes names that old, and
 * only those. */
TEST(creating_a_posix_segment_sweeps_names_left_by_killed_clients)
{
	char stale[64], fresh[64], other[64], path[128];
	struct sf_segment cli;

	snprintf(stale, sizeof stale, "%ssweep-stale-%d", SF_SHM_NAME_PREFIX, getpid());
	snprintf(fresh, sizeof fresh, "%ssweep-fresh-%d", SF_SHM_NAME_PREFIX, getpid());
	snprintf(other, sizeof other, "/not-shmframe-sweep-%d", getpid());
	plant(stale, SF_SHM_SWEEP_AGE + 60);
	plant(fresh, 1);
	plant(other, SF_SHM_SWEEP_AGE + 60);
	create(&cli, SF_SHM_POSIX, SEG_SIZE);
	sf__segment_close(&cli);
	dev_shm_path(stale, path, sizeof path);
	ASSERT_MSG(access(path, F_OK) != 0, "stale %s survived", path);
	dev_shm_path(fresh, path, sizeof path);
	ASSERT_MSG(access(path, F_OK) == 0, "fresh %s was removed", path);
	dev_shm_path(other, path, sizeof path);
	ASSERT_MSG(access(path, F_OK) == 0, "foreign %s was removed", path);
	shm_unlink(fresh);
	shm_unlink(other);
}

TEST(posix_unlink_removes_the_name_and_keeps_the_memory)
{
	struct sf_segment cli;
	char path[128];

	create(&cli, SF_SHM_POSIX, SEG_SIZE);
	dev_shm_path(cli.name, path, sizeof path);
	sf__segment_unlink(&cli);
	ASSERT(access(path, F_OK) != 0);
	ASSERT_EQ(cli.name[0], '\0');
	((uint8_t *)cli.map)[10] = 1; /* still mapped */
	sf__segment_close(&cli);
}

TEST(missing_posix_and_sysv_segments_are_not_found)
{
	struct sf_segment cli, srv;
	struct sf_segment_msg m;
	char why[256];
	int shmid;

	create(&cli, SF_SHM_POSIX, SEG_SIZE);
	m = describe(&cli, 0);
	sf__segment_close(&cli); /* name gone */
	ASSERT_EQ(open_and_prove(&srv, &m, -1, (uint32_t)-1, why, sizeof why),
	          SF_PROBE_NOT_FOUND);

	create(&cli, SF_SHM_SYSV, SEG_SIZE);
	m = describe(&cli, 0);
	shmid = cli.shmid;
	sf__segment_close(&cli); /* last detach: the id is gone */
	ASSERT(!sysv_listed(shmid));
	ASSERT_EQ(open_and_prove(&srv, &m, -1, (uint32_t)-1, why, sizeof why),
	          SF_PROBE_NOT_FOUND);
}

TEST(sysv_segment_of_another_user_is_refused)
{
	struct sf_segment cli, srv;
	struct sf_segment_msg m;
	char why[256] = "";

	create(&cli, SF_SHM_SYSV, SEG_SIZE);
	m = describe(&cli, 0);
	ASSERT_EQ(open_and_prove(&srv, &m, -1, (uint32_t)getuid() + 4242, why,
	                           sizeof why), SF_PROBE_REFUSED);
	ASSERT(why[0] != '\0');
	ASSERT(srv.map == NULL);
	ASSERT_EQ(open_and_prove(&srv, &m, -1, (uint32_t)getuid(), why,
	                           sizeof why), SF_PROBE_OK);
	sf__segment_close(&srv);
	sf__segment_close(&cli);
}

TEST(sysv_segment_is_removed_from_ipcs_when_both_sides_close)
{
	struct sf_segment cli, srv;
	struct sf_segment_msg m;
	struct shmid_ds ds;
	char why[256];
	int shmid;

	create(&cli, SF_SHM_SYSV, SEG_SIZE);
	shmid = cli.shmid;
	/* Marked for removal at once: a killed client cannot leak it. */
	ASSERT_EQ(shmctl(shmid, IPC_STAT, &ds), 0);
	ASSERT(ds.shm_perm.mode & SHM_DEST);
	m = describe(&cli, 0);
	ASSERT_EQ(open_seg(&srv, &cli, &m, why, sizeof why), SF_PROBE_OK);
	ASSERT_EQ(shmctl(shmid, IPC_STAT, &ds), 0);
	ASSERT_EQ(ds.shm_nattch, 2);
	sf__segment_close(&cli);
	ASSERT(sysv_listed(shmid)); /* the server still holds it */
	sf__segment_close(&srv);
	ASSERT_MSG(!sysv_listed(shmid), "segment %d still in ipcs -m", shmid);
}

TEST(sysv_segment_goes_away_when_the_creator_dies)
{
	struct sf_segment *shared;
	int status, shmid;
	pid_t pid;

	/* The child creates and is killed; the parent reads the id. */
	shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE,
	              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT(shared != MAP_FAILED);
	shared->shmid = -1;
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct sf_segment cli;
		if (sf__segment_create(&cli, SF_SHM_SYSV, SEG_SIZE) != 0)
			_exit(1);
		shared->shmid = cli.shmid;
		raise(SIGKILL);
		_exit(2);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT(WIFSIGNALED(status));
	shmid = shared->shmid;
	munmap(shared, sizeof *shared);
	ASSERT_GE(shmid, 0);
	ASSERT_MSG(!sysv_listed(shmid), "segment %d outlived its creator", shmid);
}

TEST(create_rejects_size_zero_and_unknown_kinds)
{
	struct sf_segment seg;

	ASSERT_EQ(sf__segment_create(&seg, SF_SHM_MEMFD, 0), -EINVAL);
	ASSERT_EQ(seg.fd, -1);
	ASSERT_EQ(sf__segment_create(&seg, SF_SHM_NONE, 4096), -EINVAL);
	ASSERT_EQ(sf__segment_create(&seg, 17, 4096), -EINVAL);
	ASSERT(seg.map == NULL);
}

TEST(closing_an_empty_segment_twice_is_harmless)
{
	struct sf_segment seg;

	sf__segment_init(&seg);
	ASSERT_EQ(seg.fd, -1);
	ASSERT_EQ(seg.shmid, -1);
	ASSERT(seg.map == NULL);
	sf__segment_close(&seg);
	sf__segment_close(&seg);
}

TEST(random_fills_the_buffer)
{
	uint8_t a[32], b[32], zero[32] = { 0 };

	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	ASSERT_EQ(sf__random(a, sizeof a), 0);
	ASSERT_EQ(sf__random(b, sizeof b), 0);
	ASSERT(memcmp(a, b, sizeof a) != 0);
	ASSERT(memcmp(a, zero, sizeof a) != 0);
}

TEST(repeated_use_leaves_no_fd_mapping_name_or_id_behind)
{
	int maps_before = count_mappings();
	int fds_before = sf_test_count_fds();

	for (int round = 0; round < 50; round++) {
		for (size_t k = 0; k < 3; k++) {
			struct sf_segment cli, srv;
			struct sf_segment_msg m;
			char why[256], path[128] = "";
			int shmid, st;

			create(&cli, kinds[k], 4096 + (size_t)round * 4096);
			shmid = cli.shmid;
			if (cli.kind == SF_SHM_POSIX)
				dev_shm_path(cli.name, path, sizeof path);
			m = describe(&cli, round & 1);
			/* Every third round fails on the nonce instead. */
			if (round % 3 == 2)
				m.nonce[0] ^= 0xff;
			st = open_seg(&srv, &cli, &m, why, sizeof why);
			ASSERT_EQ(st, round % 3 == 2 ? SF_PROBE_NONCE_MISMATCH
			                             : SF_PROBE_OK);
			sf__segment_close(&srv);
			sf__segment_close(&cli);
			if (path[0])
				ASSERT_MSG(access(path, F_OK) != 0, "%s left", path);
			if (shmid >= 0)
				ASSERT_MSG(!sysv_listed(shmid), "shmid %d left", shmid);
		}
	}
	ASSERT_EQ(sf_test_count_fds(), fds_before);
	ASSERT_EQ(count_mappings(), maps_before);
}

/*
 * A client may name a segment that is not its own (a hostile one, or one
 * in another IPC namespace or /dev/shm whose id or name happens to exist
 * here).  The proof refuses it; refusing must not destroy it.
 */
TEST(a_foreign_sysv_segment_survives_a_failed_probe)
{
	struct sf_segment srv;
	struct sf_segment_msg m = { .hdr.type = SF_PROBE, .kind = SF_SHM_SYSV,
		.size = SEG_SIZE };
	struct shmid_ds ds;
	char why[256];
	int shmid, st, destroyed;

	/* Someone else's segment, not marked for removal. */
	shmid = shmget(IPC_PRIVATE, SEG_SIZE, IPC_CREAT | 0600);
	ASSERT_GE(shmid, 0);
	m.shmid = shmid;
	memset(m.nonce, 0x3c, sizeof m.nonce); /* the segment holds zeros */
	st = open_and_prove(&srv, &m, -1, (uint32_t)-1, why, sizeof why);
	destroyed = shmctl(shmid, IPC_STAT, &ds) != 0 ||
	            (ds.shm_perm.mode & SHM_DEST);
	shmctl(shmid, IPC_RMID, NULL);
	ASSERT_EQ(st, SF_PROBE_NONCE_MISMATCH);
	ASSERT_MSG(!destroyed, "a failed probe removed someone else's System V "
	           "segment %d", shmid);
}

TEST(a_foreign_posix_name_survives_a_failed_probe)
{
	struct sf_segment srv;
	struct sf_segment_msg m = { .hdr.type = SF_PROBE, .kind = SF_SHM_POSIX,
		.size = SEG_SIZE, .shmid = -1 };
	char why[256], path[128];
	int fd, st, exists;

	snprintf(m.name, sizeof m.name, "%sforeign%d", SF_SHM_NAME_PREFIX,
	         (int)getpid());
	fd = shm_open(m.name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, SEG_SIZE), 0);
	close(fd);
	memset(m.nonce, 0x3c, sizeof m.nonce);
	st = open_and_prove(&srv, &m, -1, (uint32_t)-1, why, sizeof why);
	dev_shm_path(m.name, path, sizeof path);
	exists = access(path, F_OK) == 0;
	shm_unlink(m.name);
	ASSERT_EQ(st, SF_PROBE_NONCE_MISMATCH);
	ASSERT_MSG(exists, "a failed probe unlinked someone else's %s", m.name);
}

TEST(posix_segment_of_another_user_is_refused)
{
	struct sf_segment cli, srv;
	struct sf_segment_msg m;
	char why[256] = "", path[128];

	create(&cli, SF_SHM_POSIX, SEG_SIZE);
	m = describe(&cli, 0);
	ASSERT_EQ(open_and_prove(&srv, &m, -1, (uint32_t)getuid() + 4242, why,
	                         sizeof why), SF_PROBE_REFUSED);
	ASSERT_CONTAINS(why, "owned by");
	ASSERT(srv.map == NULL);
	ASSERT_EQ(srv.fd, -1);
	/* Refused: the name is still there. */
	dev_shm_path(cli.name, path, sizeof path);
	ASSERT_EQ(access(path, F_OK), 0);
	ASSERT_EQ(open_and_prove(&srv, &m, -1, (uint32_t)getuid(), why,
	                         sizeof why), SF_PROBE_OK);
	sf__segment_close(&srv);
	sf__segment_close(&cli);
}

/* With group or others let in, writing the challenge would not prove the
 * writer is the owner. */
TEST(segments_open_to_others_are_refused)
{
	struct sf_segment cli, srv;
	struct sf_segment_msg m;
	struct shmid_ds ds;
	char why[256] = "";

	create(&cli, SF_SHM_POSIX, SEG_SIZE);
	m = describe(&cli, 0);
	ASSERT_EQ(fchmod(cli.fd, 0620), 0);
	ASSERT_EQ(open_and_prove(&srv, &m, -1, (uint32_t)-1, why, sizeof why),
	          SF_PROBE_REFUSED);
	ASSERT_CONTAINS(why, "open to group or others");
	sf__segment_close(&cli);

	create(&cli, SF_SHM_SYSV, SEG_SIZE);
	m = describe(&cli, 0);
	ASSERT_EQ(shmctl(cli.shmid, IPC_STAT, &ds), 0);
	ds.shm_perm.mode = 0606;
	ASSERT_EQ(shmctl(cli.shmid, IPC_SET, &ds), 0);
	ASSERT_EQ(open_and_prove(&srv, &m, -1, (uint32_t)-1, why, sizeof why),
	          SF_PROBE_REFUSED);
	ASSERT_CONTAINS(why, "open to group or others");
	sf__segment_close(&cli);
}

/* The nonce is the client's to choose, and so is no proof alone: without
 * the server's challenge after it, a segment is refused. */
TEST(nonce_without_the_challenge_is_refused_for_every_kind)
{
	for (size_t k = 0; k < 3; k++) {
		struct sf_segment cli, srv;
		struct sf_segment_msg m;
		char why[256] = "", path[128] = "";
		int shmid;

		create(&cli, kinds[k], SEG_SIZE);
		m = describe(&cli, 0);
		shmid = cli.shmid;
		if (cli.kind == SF_SHM_POSIX)
			dev_shm_path(cli.name, path, sizeof path);
		((uint8_t *)cli.map)[SF_PROOF_SIZE - 1] ^= 1;
		ASSERT_EQ(open_and_prove(&srv, &m, passed_fd(&cli), (uint32_t)-1,
		                         why, sizeof why), SF_PROBE_NONCE_MISMATCH);
		ASSERT_CONTAINS(why, "challenge");
		/* Nothing removed on a failed proof. */
		if (path[0])
			ASSERT_EQ(access(path, F_OK), 0);
		/* (The creator marked it IPC_RMID itself; a foreign segment
		 * is another test.) */
		if (shmid >= 0)
			ASSERT(sysv_listed(shmid));
		sf__segment_close(&cli);
	}
}

/* Opening reads nothing of the mapping, and the proof of a POSIX object
 * is read with pread: a client that shrinks it in between gets a refusal,
 * not a SIGBUS of the server (this process would die of it here). */
TEST(posix_object_shrunk_after_open_fails_its_proof_without_a_fault)
{
	struct sf_segment cli, srv;
	struct sf_segment_msg m;
	char why[256] = "";

	create(&cli, SF_SHM_POSIX, SEG_SIZE);
	m = describe(&cli, 0);
	ASSERT_EQ(sf__segment_open(&srv, &m, -1, (uint32_t)-1, why, sizeof why),
	          SF_PROBE_OK);
	ASSERT_EQ(ftruncate(cli.fd, 0), 0);
	ASSERT_EQ(sf__segment_prove(&srv, &m, challenge, why, sizeof why),
	          SF_PROBE_NONCE_MISMATCH);
	/* Unmapping a shrunk mapping touches no page. */
	sf__segment_close(&srv);
	sf__segment_close(&cli);
}
