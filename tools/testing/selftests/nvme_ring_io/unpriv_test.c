// SPDX-License-Identifier: GPL-2.0
/*
 * Unprivileged use: the device node's mode is honoured, RLIMIT_MEMLOCK and
 * the memory cgroup cap the region, a read-only namespace fd never writes,
 * the generic node follows the kernel's passthrough policy, direct mode
 * needs CAP_SYS_ADMIN, and a new context never shows another context's
 * data.  The test runs as root and does each check in a child that
 * dropped to uid/gid 1000 (or, for direct mode, also in one that stays
 * root and drops CAP_SYS_ADMIN alone).
 */
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "nrio_test.h"

#include "kselftest_harness.h"

#define USER	1000

static void drop_privileges(void)
{
	if (setgroups(0, NULL) || setgid(USER) || setuid(USER))
		_exit(100);
}

/* Run @fn as the unprivileged user; its return value is the exit code. */
static int as_user(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		drop_privileges();
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* errno of a failed open, or 0 */
static int open_err(void *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

TEST(default_mode_keeps_users_out)
{
	struct stat st;

	ASSERT_EQ(0, stat(NVME_RING_IO_DEVPATH, &st));
	ASSERT_EQ(0600, st.st_mode & 0777);
	EXPECT_EQ(EACCES, as_user(open_err, NVME_RING_IO_DEVPATH));
}

FIXTURE(unpriv) {
	char ns1[64], ng1[64];
	mode_t dev_mode, ns1_mode, ng1_mode;
};

static mode_t set_mode(const char *path, mode_t mode)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	chmod(path, mode);
	return st.st_mode & 07777;
}

FIXTURE_SETUP(unpriv)
{
	if (!nt_have(NS1_BLK) || !nt_have(NS1_CHR))
		SKIP(return, "needs %s and %s", NS1_BLK, NS1_CHR);
	ASSERT_TRUE(realpath(NS1_BLK, self->ns1) != NULL);
	ASSERT_TRUE(realpath(NS1_CHR, self->ng1) != NULL);
	/* The administrator opens the module and the namespace for reading. */
	self->dev_mode = set_mode(NVME_RING_IO_DEVPATH, 0666);
	self->ns1_mode = set_mode(self->ns1, 0644);
	self->ng1_mode = set_mode(self->ng1, 0644);
}

FIXTURE_TEARDOWN(unpriv)
{
	if (!self->dev_mode)
		return;
	chmod(NVME_RING_IO_DEVPATH, self->dev_mode);
	chmod(self->ns1, self->ns1_mode);
	chmod(self->ng1, self->ng1_mode);
}

/* As the user: what a read-only namespace fd allows.  0 means all good. */
static int readonly_fd(void *path)
{
	struct nvme_ring_io_cqe cqe;
	struct nvme_ring_io_sqe sqe;
	struct nt_ctx c;

	if (open(path, O_RDWR) >= 0 || errno != EACCES)
		return 10;
	if (nt_open(&c, path, O_RDONLY, 8, 0, 256 * 1024))
		return 11;
	nt_fill(c.data, 4096, 3);
	nt_prep(&sqe, NVME_RING_IO_OP_WRITE, 300, 8, 0, 4096, 1);
	if (nt_sqe_sync(&c, &sqe, &cqe) != -EBADF)
		return 12;
	nt_prep(&sqe, NVME_RING_IO_OP_WRITE_ZEROES, 300, 8, 0, 0, 2);
	if (nt_sqe_sync(&c, &sqe, &cqe) != -EBADF)
		return 13;
	if (nt_rw_sync(&c, NVME_RING_IO_OP_READ, 300, 8, 0) != 4096)
		return 14;
	nt_close(&c);
	return 0;
}

TEST_F(unpriv, readonly_namespace_fd)
{
	EXPECT_EQ(0, as_user(readonly_fd, self->ns1));
}

static int memlock(void *unused)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };
	struct nvme_ring_io_setup s;
	int fd[8], nfd, i, n = 0, err = 0;

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return 20;
	nfd = open(NS1_BLK, O_RDONLY | O_CLOEXEC);
	if (nfd < 0)
		return 21;
	/* Over the limit at once. */
	fd[0] = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	nt_setup_args(&s, nfd, 8, 0, 4 * MiB);
	if (!ioctl(fd[0], NVME_RING_IO_SETUP, &s) || errno != ENOBUFS)
		return 22;
	close(fd[0]);
	/* Small regions until the limit: they add up. */
	for (i = 0; i < 8; i++) {
		fd[i] = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
		nt_setup_args(&s, nfd, 8, 0, 256 * 1024);
		if (ioctl(fd[i], NVME_RING_IO_SETUP, &s)) {
			err = errno;
			break;
		}
		n++;
	}
	if (err != ENOBUFS || n < 1 || n > 3)
		return 23;
	/* Closing gives the charge back before close() returns. */
	for (i = 0; i <= n && i < 8; i++)
		close(fd[i]);
	fd[0] = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	nt_setup_args(&s, nfd, 8, 0, 768 * 1024);
	if (ioctl(fd[0], NVME_RING_IO_SETUP, &s))
		return 24;
	return 0;
}

TEST_F(unpriv, memlock_limit)
{
	EXPECT_EQ(0, as_user(memlock, NULL));
}

/*
 * A tight budget and contexts back to back: each close must hand the
 * charge back before it returns (mapped or not), never a few ms later.
 */
static int memlock_back_to_back(void *unused)
{
	struct rlimit rl = { 64 << 10, 64 << 10 };
	struct nvme_ring_io_setup s;
	int fd, nfd, i;
	void *p;

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return 40;
	nfd = open(NS1_BLK, O_RDONLY | O_CLOEXEC);
	if (nfd < 0)
		return 41;
	for (i = 0; i < 64; i++) {
		fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return 42;
		/* 36 KiB with the rings: two would not fit. */
		nt_setup_args(&s, nfd, 8, 0, 24 << 10);
		if (ioctl(fd, NVME_RING_IO_SETUP, &s))
			return errno == ENOBUFS ? 43 : 44;
		if (i & 1) {
			/* The mapping holds the charge until munmap(). */
			p = mmap(NULL, s.off.region_size,
				 PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED)
				return 45;
			close(fd);
			munmap(p, s.off.region_size);
		} else {
			close(fd);
		}
	}
	return 0;
}

TEST_F(unpriv, memlock_back_to_back)
{
	EXPECT_EQ(0, as_user(memlock_back_to_back, NULL));
}

static int generic_node(void *expect)
{
	struct nvme_ring_io_setup s;
	int fd, nfd;

	nfd = open(NS1_CHR, O_RDONLY | O_CLOEXEC);
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (nfd < 0 || fd < 0)
		return 30;
	nt_setup_args(&s, nfd, 8, 0, 256 * 1024);
	if (ioctl(fd, NVME_RING_IO_SETUP, &s))
		return errno;
	return 0;
}

TEST_F(unpriv, generic_node_policy)
{
	struct utsname u;
	unsigned int maj, min;

	ASSERT_EQ(0, uname(&u));
	ASSERT_EQ(2, sscanf(u.release, "%u.%u", &maj, &min));
	/* Before 6.2 the kernel lets only CAP_SYS_ADMIN do passthrough. */
	if (maj < 6 || (maj == 6 && min < 2)) {
		EXPECT_EQ(EPERM, as_user(generic_node, NULL));
	} else {
		EXPECT_EQ(0, as_user(generic_node, NULL));
	}
}

/*
 * Direct mode (NVME_RING_IO_SETUP_F_DIRECT) skips blk-throttle, iocost and
 * the disk's statistics: SETUP asks for CAP_SYS_ADMIN (in the initial user
 * namespace) and fails with EPERM without it, leaving the context as it
 * was, so that a SETUP without the flag then works.  0 means all good.
 */
static int direct_refused(int oflags)
{
	struct nvme_ring_io_setup s;
	struct nvme_ring_io_info info;
	struct nt_ctx c;
	int fd, nfd;

	nfd = open(NS1_BLK, oflags | O_CLOEXEC);
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (nfd < 0 || fd < 0)
		return 80;
	nt_setup_args(&s, nfd, 8, 0, 256 * 1024);
	s.flags = NVME_RING_IO_SETUP_F_DIRECT;
	if (!ioctl(fd, NVME_RING_IO_SETUP, &s))
		return 81;
	if (errno != EPERM)
		return 82;
	/* Also with polling asked for: the same rule. */
	s.flags |= NVME_RING_IO_SETUP_F_IOPOLL;
	if (!ioctl(fd, NVME_RING_IO_SETUP, &s) || errno != EPERM)
		return 83;
	if (nt_info(fd, &info) || info.flags)
		return 84;
	/* The same context takes the bio engine, and it works. */
	s.flags = 0;
	if (ioctl(fd, NVME_RING_IO_SETUP, &s))
		return 85;
	if (nt_info(fd, &info) ||
	    (info.flags & (NVME_RING_IO_INFO_F_SETUP |
			   NVME_RING_IO_INFO_F_DIRECT)) !=
	    NVME_RING_IO_INFO_F_SETUP)
		return 86;
	close(fd);
	close(nfd);
	if (nt_open(&c, NS1_BLK, oflags, 8, 0, 256 * 1024))
		return 87;
	if (nt_rw_sync(&c, NVME_RING_IO_OP_READ, 300, 4096 / c.lba, 0) !=
	    4096)
		return 88;
	nt_close(&c);
	return 0;
}

static int direct_as_user(void *unused)
{
	return direct_refused(O_RDONLY);
}

TEST_F(unpriv, direct_needs_cap_sys_admin)
{
	struct nt_ctx c;

	/* Root may. */
	ASSERT_EQ(0, nt_open_flags(&c, NS1_BLK, O_RDWR, 8, 0, 256 * 1024,
				   NVME_RING_IO_SETUP_F_DIRECT));
	EXPECT_TRUE(c.info.flags & NVME_RING_IO_INFO_F_DIRECT);
	EXPECT_EQ(4096, nt_rw_sync(&c, NVME_RING_IO_OP_READ, 300,
				   4096 / c.lba, 0));
	nt_close(&c);
	/* A user who may read the namespace may not. */
	EXPECT_EQ(0, as_user(direct_as_user, NULL));
}

/* Root without CAP_SYS_ADMIN: EPERM, with a namespace fd open for writing. */
TEST(direct_root_without_cap_sys_admin)
{
	int status;
	pid_t pid;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (nt_drop_cap_sys_admin())
			_exit(90);
		_exit(direct_refused(O_RDWR));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * Every capability in a user namespace of one's own is not CAP_SYS_ADMIN
 * in the initial one: a user who made a user namespace still gets EPERM.
 * 1: no user namespaces here.
 */
static int direct_in_userns(void *unused)
{
	struct nvme_ring_io_setup s;
	int fd, nfd;

	nfd = open(NS1_BLK, O_RDONLY | O_CLOEXEC);
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (nfd < 0 || fd < 0)
		return 95;
	if (unshare(CLONE_NEWUSER))
		return 1;
	nt_setup_args(&s, nfd, 8, 0, 256 * 1024);
	s.flags = NVME_RING_IO_SETUP_F_DIRECT;
	if (!ioctl(fd, NVME_RING_IO_SETUP, &s))
		return 96;
	return errno == EPERM ? 0 : 97;
}

TEST_F(unpriv, direct_not_from_a_user_namespace)
{
	int ret = as_user(direct_in_userns, NULL);

	if (ret == 1)
		SKIP(return, "no unprivileged user namespaces");
	EXPECT_EQ(0, ret);
}

/*
 * Regression: a SETUP that binds /dev/ngXnY and then fails (here on
 * RLIMIT_MEMLOCK) must leave nothing bound behind; a later SETUP with the
 * block device must not inherit "generic" state, nor close the block
 * device opened for the first one a second time at close.
 */
static int failed_generic_setup(void *unused)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };
	struct nvme_ring_io_setup s;
	struct nvme_ring_io_info info;
	int fd, ng, blk;

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return 70;
	ng = open(NS1_CHR, O_RDONLY | O_CLOEXEC);
	blk = open(NS1_BLK, O_RDONLY | O_CLOEXEC);
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (ng < 0 || blk < 0 || fd < 0)
		return 71;
	nt_setup_args(&s, ng, 8, 0, 4 * MiB);
	if (!ioctl(fd, NVME_RING_IO_SETUP, &s))
		return 72;
	nt_setup_args(&s, blk, 8, 0, 256 * 1024);
	if (ioctl(fd, NVME_RING_IO_SETUP, &s))
		return 73;
	if (nt_info(fd, &info))
		return 74;
	if (info.flags & NVME_RING_IO_INFO_F_GENERIC_FD)
		return 75;
	close(fd);
	close(ng);
	close(blk);
	return 0;
}

TEST_F(unpriv, failed_generic_setup_leaves_nothing)
{
	EXPECT_EQ(0, as_user(failed_generic_setup, NULL));
}

static int fresh_region(void *unused)
{
	struct nt_ctx c;
	__u64 i;

	if (nt_open(&c, NS1_BLK, O_RDONLY, 8, 0, 2 * MiB))
		return 40;
	for (i = 0; i < 2 * MiB; i++)
		if (c.data[i])
			return 41;
	nt_close(&c);
	/* Module unload is root's business. */
	if (!syscall(SYS_delete_module, "nvme_ring_io", O_NONBLOCK) ||
	    errno != EPERM)
		return 42;
	return 0;
}

TEST_F(unpriv, no_data_from_other_contexts)
{
	struct nt_ctx c;
	int i;

	/* Root leaves secrets in a few regions and closes them. */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, nt_open(&c, NS1_BLK, O_RDONLY, 8, 0, 2 * MiB));
		memset(c.data, 0x5e, 2 * MiB);
		nt_close(&c);
	}
	EXPECT_EQ(0, as_user(fresh_region, NULL));
}

/* The memory cgroup pays for the region, and a small one says ENOMEM. */
static int in_small_memcg(void *unused)
{
	struct nvme_ring_io_setup s;
	int fd, nfd;

	nfd = open(NS1_BLK, O_RDONLY | O_CLOEXEC);
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	nt_setup_args(&s, nfd, 8, 0, 64 * MiB);
	if (!ioctl(fd, NVME_RING_IO_SETUP, &s))
		return 50;
	if (errno != ENOMEM)
		return 51;
	nt_setup_args(&s, nfd, 8, 0, 2 * MiB);
	if (ioctl(fd, NVME_RING_IO_SETUP, &s))
		return 52;
	return 0;
}

TEST(memcg_limit)
{
	const char *cg = "/sys/fs/cgroup/nrio";
	char pid[32];
	int status;
	pid_t child;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	if (!nt_have("/sys/fs/cgroup/cgroup.controllers")) {
		mkdir("/sys/fs/cgroup", 0755);
		if (mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL))
			SKIP(return, "no cgroup2");
	}
	if (nt_write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		SKIP(return, "no memory cgroup controller in this kernel");
	mkdir(cg, 0755);
	ASSERT_EQ(0, nt_write_file("/sys/fs/cgroup/nrio/memory.max", "16M"));
	nt_write_file("/sys/fs/cgroup/nrio/memory.swap.max", "0");
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (nt_write_file("/sys/fs/cgroup/nrio/cgroup.procs", pid))
			_exit(60);
		_exit(in_small_memcg(NULL));
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status)) {
		TH_LOG("the child was killed (OOM?) by signal %d",
		       WTERMSIG(status));
	}
	EXPECT_EQ(0, WEXITSTATUS(status));
	rmdir(cg);
}

TEST_HARNESS_MAIN
