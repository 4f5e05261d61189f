// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/nvme_ring_io device itself: the node, open/close, the ioctl
 * dispatch and module load/unload.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/nvme_ring_io.h>

#include "nrio_test.h"

#include "kselftest_harness.h"

#define MOD_NAME	"nvme_ring_io"
#define SYSFS_MODULE	"/sys/module/" MOD_NAME
#define SYSFS_MISC_DEV	"/sys/class/misc/" NVME_RING_IO_DEVNAME "/dev"

/* The mode the module documents for its node (root only). */
#define DOCUMENTED_MODE	0600U

static int sysfs_devt(const char *path, dev_t *devt)
{
	unsigned int maj, min;
	FILE *f = fopen(path, "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	if (n != 2)
		return -1;
	*devt = makedev(maj, min);
	return 0;
}

TEST(device_node_mode)
{
	struct stat st;
	dev_t devt;

	ASSERT_EQ(0, stat(NVME_RING_IO_DEVPATH, &st)) {
		TH_LOG("%s: %s (is the module loaded?)",
		       NVME_RING_IO_DEVPATH, strerror(errno));
	}
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(DOCUMENTED_MODE, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);

	/* The node is the misc device the module registered. */
	ASSERT_EQ(0, sysfs_devt(SYSFS_MISC_DEV, &devt));
	EXPECT_EQ(devt, st.st_rdev);
	EXPECT_EQ(10, major(st.st_rdev));	/* MISC_MAJOR */
}

/*
 * A kernel with BTF must give the module BTF too, or BPF programs cannot
 * call its kfuncs: on 6.1 the build supplies the base BTF itself
 * (scripts/kheaders.sh).  The kernel publishes a module's BTF only once it
 * has validated it against its own.
 */
TEST(module_btf)
{
	if (access("/sys/kernel/btf/vmlinux", F_OK))
		SKIP(return, "this kernel has no BTF (CONFIG_DEBUG_INFO_BTF)");
	EXPECT_EQ(0, access("/sys/kernel/btf/nvme_ring_io", R_OK)) {
		TH_LOG("no module BTF: built without a base BTF, or against "
		       "another kernel's");
	}
}

FIXTURE(ctx) {
	int fd;
};

FIXTURE_SETUP(ctx)
{
	self->fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s", NVME_RING_IO_DEVPATH, strerror(errno));
	}
}

FIXTURE_TEARDOWN(ctx)
{
	EXPECT_EQ(0, close(self->fd));
}

TEST_F(ctx, unknown_ioctl_enotty)
{
	static const unsigned long cmds[] = {
		0,
		_IO('x', 1),
		_IO(NVME_RING_IO_IOC_MAGIC, 0xff),
		_IOR(NVME_RING_IO_IOC_MAGIC, 0x7f, __u64),
		_IOWR(NVME_RING_IO_IOC_MAGIC, 0x00, __u32),
		FIONREAD,
		~0UL,
	};
	__u64 arg = 0;
	unsigned int i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i], &arg)) {
			TH_LOG("ioctl 0x%lx succeeded", cmds[i]);
		}
		EXPECT_EQ(ENOTTY, errno) {
			TH_LOG("ioctl 0x%lx: %s", cmds[i], strerror(errno));
		}
	}
	EXPECT_EQ(0, arg);
}

TEST_F(ctx, not_seekable)
{
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
}

TEST_F(ctx, no_read_write)
{
	char buf[8] = { 0 };

	errno = 0;
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
}

/* Many contexts at once, and many open/close cycles. */
TEST(open_close_many)
{
	enum { N = 64, CYCLES = 2000 };
	int fds[N];
	int i;

	for (i = 0; i < N; i++) {
		fds[i] = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]) {
			TH_LOG("open #%d: %s", i, strerror(errno));
		}
	}
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, close(fds[i]));

	for (i = 0; i < CYCLES; i++) {
		int fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, close(fd));
	}
}

/* A context survives fork: both processes hold the same file. */
TEST(open_fork_close)
{
	int fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	int status;
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		errno = 0;
		if (ioctl(fd, _IO(NVME_RING_IO_IOC_MAGIC, 0xff)) != -1 ||
		    errno != ENOTTY)
			_exit(1);
		_exit(close(fd) ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, close(fd));
}

/*
 * Module unload and reload.  Needs root and the module file, whose path the
 * test VM passes in NVME_RING_IO_KO.  The module must refuse to unload while
 * a context is open.
 */
FIXTURE(module) {
	const char *ko;
};

static int mod_loaded(void)
{
	return access(SYSFS_MODULE, F_OK) == 0;
}

static int mod_load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

/*
 * A context's last reference is dropped from a workqueue, and that work
 * holds the module: right after a context was closed (or its owner was
 * killed) the module may stay busy for a moment.  Retry the unload for up
 * to two seconds while it reports EWOULDBLOCK; fail on anything else.
 */
static int mod_unload_settled(void)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (!syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK))
			return 0;
		if (errno != EWOULDBLOCK)
			return -1;
		usleep(10000);
	}
	return -1;
}

FIXTURE_SETUP(module)
{
	self->ko = getenv("NVME_RING_IO_KO");
	if (!self->ko || access(self->ko, R_OK))
		SKIP(return, "NVME_RING_IO_KO does not name the module file");
	if (geteuid() != 0)
		SKIP(return, "needs root");
	if (!mod_loaded())
		SKIP(return, "module not loaded");
}

FIXTURE_TEARDOWN(module)
{
	/* Leave the module loaded for the tests that follow. */
	if (self->ko && !mod_loaded())
		EXPECT_EQ(0, mod_load(self->ko));
}

TEST_F(module, unload_refused_while_open)
{
	int fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_TRUE(mod_loaded());
	EXPECT_EQ(0, close(fd));
}

/* A mapped region pins the module even after every fd is closed. */
TEST_F(module, unload_refused_while_mapped)
{
	struct nt_ctx c;
	void *region;
	size_t size;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ASSERT_EQ(0, nt_open(&c, NS1_BLK, O_RDWR, 8, 0, 2 * MiB));
	region = c.region;
	size = c.s.off.region_size;
	c.region = NULL;
	nt_close(&c);
	errno = 0;
	EXPECT_EQ(-1, syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	ASSERT_EQ(0, munmap(region, size));
	/* The region's file is released asynchronously: allow a moment. */
	EXPECT_EQ(0, mod_unload_settled()) {
		TH_LOG("delete_module: %s", strerror(errno));
	}
	EXPECT_FALSE(mod_loaded());
}

/*
 * Unload and reload in a loop while another process keeps opening,
 * setting up and closing contexts: unload succeeds only in the gaps.
 */
TEST_F(module, reload_loop_with_contexts)
{
	int status, i, unloads = 0, busy = 0;
	pid_t pid;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (;;) {
			struct nt_ctx c;

			/* The node comes and goes: failures are expected. */
			if (!nt_open(&c, NS1_BLK, O_RDWR, 8, 0, 256 * 1024)) {
				nt_rw_sync(&c, NVME_RING_IO_OP_READ, 0, 8, 0);
				nt_close(&c);
			}
			usleep(5000);
		}
	}
	for (i = 0; i < 20000 && unloads < 10; i++) {
		if (syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK)) {
			EXPECT_EQ(EWOULDBLOCK, errno);
			busy++;
			usleep(1000);
			continue;
		}
		unloads++;
		ASSERT_EQ(0, mod_load(self->ko));
	}
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("%d unloads, %d refused while a context was open", unloads,
	       busy);
	EXPECT_EQ(10, unloads);
	EXPECT_TRUE(mod_loaded());
}

TEST_F(module, unload_reload)
{
	struct stat st;
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, mod_unload_settled()) {
			TH_LOG("delete_module: %s", strerror(errno));
		}
		EXPECT_FALSE(mod_loaded());
		errno = 0;
		EXPECT_EQ(-1, stat(NVME_RING_IO_DEVPATH, &st));
		EXPECT_EQ(ENOENT, errno);
		errno = 0;
		EXPECT_EQ(-1, open(NVME_RING_IO_DEVPATH, O_RDWR));
		EXPECT_EQ(ENOENT, errno);

		ASSERT_EQ(0, mod_load(self->ko)) {
			TH_LOG("finit_module %s: %s", self->ko, strerror(errno));
		}
		ASSERT_EQ(0, stat(NVME_RING_IO_DEVPATH, &st));
		EXPECT_TRUE(S_ISCHR(st.st_mode));
		EXPECT_EQ(DOCUMENTED_MODE, st.st_mode & 07777);
	}
}

TEST_HARNESS_MAIN
