// SPDX-License-Identifier: GPL-2.0
/*
 * Faults injected into the emulated controller's namespace, on a kernel
 * with fault injection (the debug kernel; Debian's kernels have none, so
 * this skips there): NVMe errors from the driver's own fault_inject
 * debugfs knobs, and a request whose completion is lost (fail_io_timeout)
 * so that the block layer's timeout handling has to finish it.  Every
 * descriptor must complete, with the error, and nothing may hang.
 */
#include <libgen.h>
#include <limits.h>
#include <time.h>

#include "nrio_test.h"

#include "kselftest_harness.h"

FIXTURE(inject) {
	char disk[64];		/* nvme0n1 */
	char knobs[128];	/* its fault_inject debugfs directory */
};

FIXTURE_SETUP(inject)
{
	char real[PATH_MAX];

	if (!nt_have(NS1_BLK) || !realpath(NS1_BLK, real))
		SKIP(return, "no %s", NS1_BLK);
	snprintf(self->disk, sizeof(self->disk), "%s", basename(real));
	snprintf(self->knobs, sizeof(self->knobs),
		 "/sys/kernel/debug/%s/fault_inject", self->disk);
	if (access(self->knobs, F_OK))
		SKIP(return, "no NVMe fault injection in this kernel");
}

FIXTURE_TEARDOWN(inject)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/probability", self->knobs);
	nt_write_file(path, "0");
	nt_write_file("/sys/kernel/debug/fail_io_timeout/probability", "0");
	snprintf(path, sizeof(path), "/sys/block/%s/io-timeout-fail",
		 self->disk);
	nt_write_file(path, "0");
}

TEST_F(inject, nvme_errors)
{
	char path[192];
	struct nt_ctx c;
	int i, failed = 0;

	ASSERT_EQ(0, nt_open(&c, NS1_BLK, O_RDWR, 16, 0, 1 * MiB));
	/* Unrecovered Read Error, not retried, on the next four commands. */
	snprintf(path, sizeof(path), "%s/status", self->knobs);
	ASSERT_EQ(0, nt_write_file(path, "0x281"));
	snprintf(path, sizeof(path), "%s/dont_retry", self->knobs);
	ASSERT_EQ(0, nt_write_file(path, "1"));
	snprintf(path, sizeof(path), "%s/times", self->knobs);
	ASSERT_EQ(0, nt_write_file(path, "4"));
	snprintf(path, sizeof(path), "%s/verbose", self->knobs);
	nt_write_file(path, "0");
	snprintf(path, sizeof(path), "%s/probability", self->knobs);
	ASSERT_EQ(0, nt_write_file(path, "100"));

	for (i = 0; i < 8; i++) {
		int res = nt_rw_sync(&c, NVME_RING_IO_OP_READ, i * 8, 8, 0);

		if (res < 0)
			failed++;
		else
			EXPECT_EQ(4096, res);
	}
	EXPECT_EQ(4, failed);
	TH_LOG("%d of 8 reads failed as injected", failed);
	ASSERT_EQ(0, nt_info(c.fd, &c.info));
	EXPECT_FALSE(c.info.flags & NVME_RING_IO_INFO_F_DEAD);
	nt_close(&c);
}

TEST_F_TIMEOUT(inject, lost_completion_times_out, 180)
{
	struct nvme_ring_io_cqe cqe;
	char path[192];
	struct nt_ctx c;
	struct timespec t0, t1;
	int res;

	if (access("/sys/kernel/debug/fail_io_timeout", F_OK))
		SKIP(return, "no fail_io_timeout in this kernel");
	/*
	 * The lost completion makes nvme-pci abort and then reset the
	 * controller, and 6.12.117's lockdep then reports "workqueue leaked
	 * lock" from blk_mq_timeout_work/nvme_start_freeze: a kernel issue
	 * outside this module that would fail the whole run.  Opt in.
	 */
	if (!getenv("NRIO_INJECT_TIMEOUT"))
		SKIP(return, "set NRIO_INJECT_TIMEOUT=1 (trips a kernel lockdep report)");
	ASSERT_EQ(0, nt_open(&c, NS1_BLK, O_RDWR, 16, 0, 1 * MiB));
	snprintf(path, sizeof(path), "/sys/block/%s/queue/io_timeout",
		 self->disk);
	ASSERT_EQ(0, nt_write_file(path, "2000"));
	snprintf(path, sizeof(path), "/sys/block/%s/io-timeout-fail",
		 self->disk);
	ASSERT_EQ(0, nt_write_file(path, "1"));
	ASSERT_EQ(0, nt_write_file("/sys/kernel/debug/fail_io_timeout/times", "1"));
	nt_write_file("/sys/kernel/debug/fail_io_timeout/verbose", "0");
	ASSERT_EQ(0, nt_write_file("/sys/kernel/debug/fail_io_timeout/probability",
			"100"));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, nt_queue_rw(&c, NVME_RING_IO_OP_READ, 64, 8, 0, 77));
	ASSERT_EQ(1, nt_submit(&c, 0));
	/* The timeout handler may abort and reset: allow two minutes. */
	do {
		res = nt_reap(&c, &cqe);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (res == -ETIME && t1.tv_sec - t0.tv_sec < 120);
	ASSERT_EQ(0, res) {
		TH_LOG("no completion: %s", strerror(-res));
	}
	res = cqe.res;
	TH_LOG("the lost request completed with %d after %ld s", res,
	       (long)(t1.tv_sec - t0.tv_sec));
	/* It completes (error or, after a retry, success); it never hangs. */
	EXPECT_EQ(77, cqe.user_data);
	EXPECT_TRUE(res == 4096 || res < 0);
	/* And the context goes on. */
	nt_write_file("/sys/kernel/debug/fail_io_timeout/probability", "0");
	EXPECT_EQ(4096, nt_rw_sync(&c, NVME_RING_IO_OP_READ, 128, 8, 0));
	nt_close(&c);
}

TEST_HARNESS_MAIN
