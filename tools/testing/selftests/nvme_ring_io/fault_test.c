// SPDX-License-Identifier: GPL-2.0
/*
 * Device faults, on a controller from the kernel's own NVMe target
 * (nvmet-tcp on 127.0.0.1): I/O errors from bad blocks in the backing
 * null_blk device, the namespace removed with I/O in flight, and the
 * controller deleted with I/O in flight.  Outstanding descriptors must
 * complete (with errors), a context whose namespace is gone must say
 * ENODEV on SUBMIT and INFO_F_DEAD, and close must never hang.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

#include "nrio_test.h"

#include "kselftest_harness.h"

#define NVMET		"/sys/kernel/config/nvmet"
#define NULLB		"/sys/kernel/config/nullb"
#define NQN		"nrio-fault"
#define PORT		NVMET "/ports/7"
#define SUBSYS		NVMET "/subsystems/" NQN
#define NS		SUBSYS "/namespaces/1"
#define BAD_FIRST	2048		/* 512-byte sectors of the backing */
#define BAD_LAST	4095

static int rd(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* The host block device whose subsystem NQN is ours, or "". */
static void find_dev(char *dev, size_t len)
{
	char path[128], nqn[256];
	int i;

	dev[0] = '\0';
	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path),
			 "/sys/block/nvme%dn1/device/subsysnqn", i);
		if (!rd(path, nqn, sizeof(nqn)) && !strcmp(nqn, NQN)) {
			snprintf(dev, len, "/dev/nvme%dn1", i);
			return;
		}
	}
}

/* The controller's sysfs directory, for delete_controller. */
static void find_ctrl(char *ctrl, size_t len)
{
	char path[128], nqn[256];
	int i;

	ctrl[0] = '\0';
	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/sys/class/nvme/nvme%d/subsysnqn",
			 i);
		if (!rd(path, nqn, sizeof(nqn)) && !strcmp(nqn, NQN)) {
			snprintf(ctrl, len, "/sys/class/nvme/nvme%d", i);
			return;
		}
	}
}

/*
 * Take down what FIXTURE_SETUP made (or whatever of it a failed test or
 * an earlier run left behind): the controller, the nvmet port, subsystem
 * and namespace, and the null_blk device.
 */
static void target_cleanup(void)
{
	char ctrl[128], path[160];
	double t0;

	find_ctrl(ctrl, sizeof(ctrl));
	if (ctrl[0]) {
		snprintf(path, sizeof(path), "%s/delete_controller", ctrl);
		nt_write_file(path, "1");
	}
	/* The next test must not find this controller's leftovers. */
	for (t0 = now(); now() - t0 < 20; usleep(50000)) {
		find_ctrl(ctrl, sizeof(ctrl));
		find_dev(path, sizeof(path));
		if (!ctrl[0] && !path[0])
			break;
	}
	unlink(PORT "/subsystems/" NQN);
	rmdir(PORT);
	nt_write_file(NS "/enable", "0");
	rmdir(NS);
	rmdir(SUBSYS);
	nt_write_file(NULLB "/nriofault/power", "0");
	rmdir(NULLB "/nriofault");
}

FIXTURE(target) {
	char dev[64];
	char nullb[64];
};

FIXTURE_SETUP(target)
{
	char name[16];
	double t0;

	if (access(NVMET, F_OK) || access(NULLB, F_OK) ||
	    access("/dev/nvme-fabrics", W_OK))
		SKIP(return, "needs nvmet, null_blk configfs and nvme-fabrics");
	system("ip link set lo up 2>/dev/null");
	/* A test that failed half-way must not fail the ones after it. */
	if (!access(NULLB "/nriofault", F_OK) || !access(SUBSYS, F_OK))
		target_cleanup();

	/* A memory-backed null_blk with a range of bad blocks. */
	ASSERT_EQ(0, mkdir(NULLB "/nriofault", 0755));
	ASSERT_EQ(0, nt_write_file(NULLB "/nriofault/size", "64"));
	ASSERT_EQ(0, nt_write_file(NULLB "/nriofault/memory_backed", "1"));
	ASSERT_EQ(0, nt_write_file(NULLB "/nriofault/badblocks", "+2048-4095"));
	ASSERT_EQ(0, nt_write_file(NULLB "/nriofault/power", "1"));
	/* 6.12 names the disk after the configfs item, 6.1 by index. */
	if (!access("/dev/nriofault", F_OK)) {
		snprintf(self->nullb, sizeof(self->nullb), "/dev/nriofault");
	} else {
		ASSERT_EQ(0, rd(NULLB "/nriofault/index", name, sizeof(name)));
		snprintf(self->nullb, sizeof(self->nullb), "/dev/nullb%s", name);
	}

	/* Export it over nvmet-tcp and connect. */
	ASSERT_EQ(0, mkdir(SUBSYS, 0755));
	ASSERT_EQ(0, nt_write_file(SUBSYS "/attr_allow_any_host", "1"));
	ASSERT_EQ(0, mkdir(NS, 0755));
	ASSERT_EQ(0, nt_write_file(NS "/device_path", self->nullb));
	ASSERT_EQ(0, nt_write_file(NS "/enable", "1"));
	ASSERT_EQ(0, mkdir(PORT, 0755));
	ASSERT_EQ(0, nt_write_file(PORT "/addr_trtype", "tcp"));
	ASSERT_EQ(0, nt_write_file(PORT "/addr_adrfam", "ipv4"));
	ASSERT_EQ(0, nt_write_file(PORT "/addr_traddr", "127.0.0.1"));
	ASSERT_EQ(0, nt_write_file(PORT "/addr_trsvcid", "4427"));
	ASSERT_EQ(0, symlink(SUBSYS, PORT "/subsystems/" NQN));
	ASSERT_EQ(0, nt_write_file("/dev/nvme-fabrics", "transport=tcp,traddr=127.0.0.1,"
			"trsvcid=4427,nqn=" NQN));
	/*
	 * The namespace's node can show up before its disk opens (ENXIO on
	 * a slow kernel): wait until it opens.
	 */
	for (t0 = now(); now() - t0 < 10; usleep(50000)) {
		int fd;

		find_dev(self->dev, sizeof(self->dev));
		if (!self->dev[0])
			continue;
		fd = open(self->dev, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			break;
		}
	}
	ASSERT_NE(0, self->dev[0]);
}

FIXTURE_TEARDOWN(target)
{
	target_cleanup();
}

/* Queue @n reads of 8 blocks from @slba on. */
static int queue_reads(struct nt_ctx *c, __u32 n, __u64 slba)
{
	__u32 idx, i, got = nrio_ring_reserve(&c->sq, n, &idx);

	for (i = 0; i < got; i++)
		nt_prep(nrio_sqe(&c->sq, idx + i), NVME_RING_IO_OP_READ,
			slba + i * 8, 8, (__u64)i * 8 * c->lba, 8 * c->lba, i);
	nrio_ring_submit(&c->sq, got);
	return nt_submit(c, 0);
}

/* Reap @n completions within @secs; returns how many had errors. */
static int reap_all(struct nt_ctx *c, __u32 n, double secs)
{
	struct nvme_ring_io_cqe cqe;
	double t0 = now();
	int errors = 0;

	while (n && now() - t0 < secs) {
		if (nt_reap(c, &cqe))
			continue;
		n--;
		if (cqe.res < 0)
			errors++;
	}
	return n ? -1 : errors;
}

TEST_F(target, io_errors_complete_the_descriptor)
{
	struct nvme_ring_io_cqe cqe;
	struct nvme_ring_io_sqe sqe;
	struct nt_ctx c;
	int res;

	void *buf;
	int bfd;

	/* Does the backing device itself fail the bad range here? */
	bfd = open(self->nullb, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(0, posix_memalign(&buf, 4096, 4096));
	res = pread(bfd, buf, 4096, (BAD_FIRST + 8) * 512ULL);
	free(buf);
	close(bfd);
	if (res == 4096)
		SKIP(return, "null_blk on this kernel does not fail bad blocks");

	ASSERT_EQ(0, nt_open(&c, self->dev, O_RDWR, 16, 0, 1 * MiB));
	ASSERT_EQ(512, c.lba);
	/* Good blocks read fine; bad ones fail with an error. */
	EXPECT_EQ(4096, nt_rw_sync(&c, NVME_RING_IO_OP_READ, 0, 8, 0));
	res = nt_rw_sync(&c, NVME_RING_IO_OP_READ, BAD_FIRST + 8, 8, 0);
	EXPECT_GT(0, res);
	TH_LOG("read of a bad block: %s", strerror(-res));
	nt_fill(c.data, 4096, 9);
	nt_prep(&sqe, NVME_RING_IO_OP_WRITE, BAD_LAST - 3, 8, 0, 4096, 7);
	EXPECT_GT(0, nt_sqe_sync(&c, &sqe, &cqe));
	EXPECT_EQ(7, cqe.user_data);
	/* Errors do not kill the context. */
	EXPECT_EQ(4096, nt_rw_sync(&c, NVME_RING_IO_OP_WRITE, 100, 8, 0));
	ASSERT_EQ(0, nt_info(c.fd, &c.info));
	EXPECT_FALSE(c.info.flags & NVME_RING_IO_INFO_F_DEAD);
	EXPECT_EQ(0, c.info.counters.sq_invalid);
	nt_close(&c);
}

/* SUBMIT once per 50 ms until ENODEV; returns seconds it took, or -1. */
static double until_dead(struct nt_ctx *c, double secs)
{
	double t0 = now();

	while (now() - t0 < secs) {
		int ret = queue_reads(c, 1, 0);

		if (ret == -ENODEV)
			return now() - t0;
		if (ret == 1)
			reap_all(c, 1, 30);
		usleep(50000);
	}
	return -1;
}

TEST_F_TIMEOUT(target, namespace_removed_in_flight, 120)
{
	struct nt_ctx c;
	double t;
	int ret;

	ASSERT_EQ(0, nt_open(&c, self->dev, O_RDWR, 256, 0, 8 * MiB));
	ASSERT_EQ(256, queue_reads(&c, 256, 8192));
	ASSERT_EQ(0, nt_write_file(NS "/enable", "0"));
	ret = reap_all(&c, 256, 30);
	ASSERT_LE(0, ret) {
		TH_LOG("not every descriptor in flight completed");
	}
	TH_LOG("%d of 256 in flight failed", ret);
	t = until_dead(&c, 30);
	ASSERT_LE(0, t) {
		TH_LOG("SUBMIT never said ENODEV");
	}
	TH_LOG("context dead %.2f s after the removal", t);
	ASSERT_EQ(0, nt_info(c.fd, &c.info));
	EXPECT_TRUE(c.info.flags & NVME_RING_IO_INFO_F_DEAD);
	EXPECT_EQ(0, c.info.inflight);
	/* COMPLETE still works on a dead context. */
	EXPECT_EQ(0, nt_wait(&c, 1, 0));
	nt_close(&c);
}

static void *delete_ctrl(void *arg)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/delete_controller", (char *)arg);
	nt_write_file(path, "1");
	return NULL;
}

TEST_F_TIMEOUT(target, controller_deleted_in_flight, 150)
{
	char ctrl[128];
	struct nt_ctx c;
	pthread_t th;
	int ret;

	find_ctrl(ctrl, sizeof(ctrl));
	ASSERT_NE(0, ctrl[0]);
	ASSERT_EQ(0, nt_open(&c, self->dev, O_RDWR, 256, 0, 8 * MiB));
	ASSERT_EQ(256, queue_reads(&c, 256, 16384));
	ASSERT_EQ(0, pthread_create(&th, NULL, delete_ctrl, ctrl));
	ret = reap_all(&c, 256, 60);
	ASSERT_LE(0, ret);
	TH_LOG("%d of 256 in flight failed", ret);
	pthread_join(th, NULL);
	EXPECT_LE(0, until_dead(&c, 30));
	ASSERT_EQ(0, nt_info(c.fd, &c.info));
	EXPECT_TRUE(c.info.flags & NVME_RING_IO_INFO_F_DEAD);
	nt_close(&c);
}

/* Exit with I/O in flight while the namespace goes away. */
TEST_F(target, exit_while_namespace_goes)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct nt_ctx c;

		if (nt_open(&c, self->dev, O_RDWR, 256, 0, 8 * MiB))
			_exit(2);
		queue_reads(&c, 256, 0);
		_exit(0);
	}
	usleep(1000);
	nt_write_file(NS "/enable", "0");
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
