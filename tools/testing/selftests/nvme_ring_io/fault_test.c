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

#include "nrio_target.h"

#include "kselftest_harness.h"

#define BAD_FIRST	2048		/* 512-byte sectors of the backing */
#define BAD_LAST	4095

/* A memory-backed null_blk with a range of bad blocks. */
static const struct nrio_target_cfg fault_target = {
	.nqn		= "nrio-fault",
	.nullb_name	= "nriofault",
	.port		= 7,
	.trsvcid	= 4427,
	.size_mb	= 64,
	.memory_backed	= true,
	.badblocks	= "+2048-4095",
};

FIXTURE(target) {
	struct nrio_target t;
};

FIXTURE_SETUP(target)
{
	if (!nrio_target_available())
		SKIP(return, "needs nvmet, null_blk configfs and nvme-fabrics");
	ASSERT_EQ(0, nrio_target_setup(&self->t, &fault_target)) {
		TH_LOG("%s", self->t.failed);
	}
	ASSERT_NE(0, self->t.dev[0]);
}

FIXTURE_TEARDOWN(target)
{
	nrio_target_cleanup(&fault_target);
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
	double t0 = nrio_target_now();
	int errors = 0;

	while (n && nrio_target_now() - t0 < secs) {
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
	bfd = open(self->t.nullb, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(0, posix_memalign(&buf, 4096, 4096));
	res = pread(bfd, buf, 4096, (BAD_FIRST + 8) * 512ULL);
	free(buf);
	close(bfd);
	if (res == 4096)
		SKIP(return, "null_blk on this kernel does not fail bad blocks");

	ASSERT_EQ(0, nt_open(&c, self->t.dev, O_RDWR, 16, 0, 1 * MiB));
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
	double t0 = nrio_target_now();

	while (nrio_target_now() - t0 < secs) {
		int ret = queue_reads(c, 1, 0);

		if (ret == -ENODEV)
			return nrio_target_now() - t0;
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

	ASSERT_EQ(0, nt_open(&c, self->t.dev, O_RDWR, 256, 0, 8 * MiB));
	ASSERT_EQ(256, queue_reads(&c, 256, 8192));
	ASSERT_EQ(0, nrio_target_ns_enable(&self->t, false));
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

	nrio_target_find_ctrl(&fault_target, ctrl, sizeof(ctrl));
	ASSERT_NE(0, ctrl[0]);
	ASSERT_EQ(0, nt_open(&c, self->t.dev, O_RDWR, 256, 0, 8 * MiB));
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

		if (nt_open(&c, self->t.dev, O_RDWR, 256, 0, 8 * MiB))
			_exit(2);
		queue_reads(&c, 256, 0);
		_exit(0);
	}
	usleep(1000);
	nrio_target_ns_enable(&self->t, false);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
