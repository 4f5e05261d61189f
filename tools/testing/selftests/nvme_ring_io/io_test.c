// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel engine: data integrity through the rings and against plain
 * O_DIRECT I/O on the block device, on both namespaces and through both
 * kinds of namespace fd.
 */
#include <endian.h>
#include <sys/wait.h>

#include "nrio_test.h"

#include "kselftest_harness.h"

#define DATA_SIZE	(16 * MiB)

FIXTURE(io) {
	struct nt_ctx c;
	int direct_fd;		/* O_DIRECT on the namespace block device */
	void *buf;		/* aligned buffer for pread/pwrite */
};

FIXTURE_VARIANT(io) {
	const char *dev;	/* what the context binds */
	const char *blk;	/* the same namespace's block device */
	__u32 lba;
	__u64 base;		/* first scratch byte on the namespace */
};

FIXTURE_VARIANT_ADD(io, ns1_blk) {
	.dev = NS1_BLK, .blk = NS1_BLK, .lba = 512, .base = 0,
};
FIXTURE_VARIANT_ADD(io, ns2_blk) {
	.dev = NS2_BLK, .blk = NS2_BLK, .lba = 4096, .base = 0,
};
FIXTURE_VARIANT_ADD(io, ns1_generic) {
	.dev = NS1_CHR, .blk = NS1_BLK, .lba = 512, .base = 64 * MiB,
};
FIXTURE_VARIANT_ADD(io, ns2_generic) {
	.dev = NS2_CHR, .blk = NS2_BLK, .lba = 4096, .base = 64 * MiB,
};

FIXTURE_SETUP(io)
{
	int ret;

	if (!nt_have(variant->dev) || !nt_have(variant->blk))
		SKIP(return, "no %s", variant->dev);
	ret = nt_open(&self->c, variant->dev, O_RDWR, 64, 0, DATA_SIZE);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s: %s", variant->dev, strerror(-ret));
	}
	ASSERT_EQ(variant->lba, self->c.lba);
	self->direct_fd = open(variant->blk, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->direct_fd);
	ASSERT_EQ(0, posix_memalign(&self->buf, 4096, DATA_SIZE));
}

FIXTURE_TEARDOWN(io)
{
	nt_close(&self->c);
	close(self->direct_fd);
	free(self->buf);
}

/* Blocks to transfer, in bytes: one LBA up to past the device's limit. */
static __u64 sizes[] = {
	0 /* one LBA */, 4096, 8192, 28672, 65536, 131072, 1048576,
	0 /* max_transfer */, 4 * MiB,
};

/* Data offsets: the start, mid-folio, and across a 2 MiB folio edge. */
static __u64 offsets[] = { 0, 12288, 2 * MiB - 8192 };

TEST_F(io, ring_write_ring_and_pread_read)
{
	struct nt_ctx *c = &self->c;
	__u64 lba = c->lba, slba = variant->base / lba;
	unsigned int s, o;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		__u64 len = sizes[s];

		if (s == 0)
			len = lba;
		else if (!len)
			len = c->info.max_transfer;
		if (len < lba || len > 4 * MiB)
			continue;
		for (o = 0; o < sizeof(offsets) / sizeof(offsets[0]); o++) {
			__u64 off = offsets[o], roff = 8 * MiB + offsets[o];
			__u32 nlb = len / lba;
			__u64 seed = (s << 8) | o | (lba << 16);
			int res;

			nt_fill(c->data + off, len, seed);
			memset(c->data + roff, 0, len);
			res = nt_rw_sync(c, NVME_RING_IO_OP_WRITE, slba, nlb,
					 off);
			ASSERT_EQ((int)len, res) {
				TH_LOG("write %llu at %llu: %s",
				       (unsigned long long)len,
				       (unsigned long long)off,
				       strerror(-res));
			}
			res = nt_rw_sync(c, NVME_RING_IO_OP_READ, slba, nlb,
					 roff);
			ASSERT_EQ((int)len, res);
			ASSERT_EQ(0, nt_check(c->data + roff, len, seed)) {
				TH_LOG("ring read mismatch len %llu off %llu",
				       (unsigned long long)len,
				       (unsigned long long)off);
			}
			/* The block device sees the same bytes. */
			ASSERT_EQ((ssize_t)len,
				  pread(self->direct_fd, self->buf, len,
					slba * lba));
			ASSERT_EQ(0, nt_check(self->buf, len, seed));
			slba += nlb;
		}
	}
}

TEST_F(io, pwrite_then_ring_read)
{
	struct nt_ctx *c = &self->c;
	__u64 lba = c->lba, slba = variant->base / lba + 8 * MiB / lba;
	__u64 lens[] = { lba, 3 * lba, 256 * 1024, 2 * MiB + 2 * lba };
	unsigned int i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		__u64 len = lens[i];
		__u64 off = (i * 3 * MiB + lba) % (DATA_SIZE - len);

		off -= off % lba;
		nt_fill(self->buf, len, 1000 + i);
		ASSERT_EQ((ssize_t)len,
			  pwrite(self->direct_fd, self->buf, len, slba * lba));
		memset(c->data + off, 0xee, len);
		ASSERT_EQ((int)len, nt_rw_sync(c, NVME_RING_IO_OP_READ, slba,
					       len / lba, off));
		EXPECT_EQ(0, nt_check(c->data + off, len, 1000 + i));
		slba += len / lba;
	}
}

/*
 * Many small writes in batches through a small ring that wraps hundreds of
 * times, then read back in batches and check every block.
 */
TEST_F(io, batches_wrap_the_ring)
{
	struct nt_ctx c;
	__u32 lba = variant->lba, total = 2048, done, queued, i, idx, n;
	__u64 slba0 = variant->base / lba + 32 * MiB / lba;
	int pass, ret;

	nt_close(&self->c);
	ret = nt_open(&c, variant->dev, O_RDWR, 8, 16, total * (__u64)lba);
	ASSERT_EQ(0, ret);

	for (pass = 0; pass < 2; pass++) {
		__u8 op = pass ? NVME_RING_IO_OP_READ : NVME_RING_IO_OP_WRITE;

		if (pass)
			memset(c.data, 0, total * (__u64)lba);
		else
			for (i = 0; i < total; i++)
				nt_fill(c.data + (__u64)i * lba, lba, i + 7);
		queued = done = 0;
		while (done < total) {
			n = nrio_ring_reserve(&c.sq, total - queued, &idx);
			for (i = 0; i < n; i++, queued++)
				nt_prep(nrio_sqe(&c.sq, idx + i), op,
					slba0 + queued, 1,
					(__u64)queued * lba, lba, queued);
			nrio_ring_submit(&c.sq, n);
			ret = nt_submit(&c, 0);
			ASSERT_LE(0, ret);
			ret = nt_wait(&c, 1, 10000000000LL);
			ASSERT_LE(0, ret);
			n = nrio_ring_peek(&c.cq, 64, &idx);
			for (i = 0; i < n; i++) {
				struct nvme_ring_io_cqe *cqe =
					nrio_cqe(&c.cq, idx + i);

				ASSERT_EQ((int)lba, cqe->res);
				ASSERT_EQ(0, cqe->status);
				ASSERT_GT(total, cqe->user_data);
			}
			nrio_ring_release(&c.cq, n);
			done += n;
		}
	}
	for (i = 0; i < total; i++)
		ASSERT_EQ(0, nt_check(c.data + (__u64)i * lba, lba, i + 7)) {
			TH_LOG("block %u", i);
		}
	ASSERT_EQ(0, nt_info(c.fd, &c.info));
	EXPECT_EQ(2 * total, c.info.counters.submitted);
	EXPECT_EQ(2 * total, c.info.counters.completed);
	EXPECT_EQ(0, c.info.counters.sq_invalid);
	EXPECT_EQ(0, c.info.inflight);
	nt_close(&c);
}

/* SUBMIT with F_WAIT: consumed and completed in one call; its bad uses. */
TEST_F(io, submit_and_wait)
{
	struct nvme_ring_io_submit s = { 0 };
	__u32 lba = variant->lba, nlb = 4096 / lba, i, idx, round;
	__u64 slba0 = variant->base / lba;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < 32; i++)
			ASSERT_EQ(0, nt_queue_rw(&self->c, NVME_RING_IO_OP_READ,
						 slba0 + i * nlb, nlb,
						 (__u64)i * 4096, i));
		s.flags = NVME_RING_IO_SUBMIT_F_WAIT |
			  (round ? NVME_RING_IO_SUBMIT_F_POLL : 0);
		s.min_complete = 32;
		ASSERT_EQ(32, ioctl(self->c.fd, NVME_RING_IO_SUBMIT, &s));
		/* No COMPLETE: all 32 are in the CQ ring already. */
		ASSERT_EQ(32, nrio_ring_peek(&self->c.cq, 64, &idx));
		for (i = 0; i < 32; i++)
			EXPECT_EQ(4096, nrio_cqe(&self->c.cq, idx + i)->res);
		nrio_ring_release(&self->c.cq, 32);
	}

	/* Nothing to submit and nothing in flight: returns at once. */
	s.flags = NVME_RING_IO_SUBMIT_F_WAIT;
	s.min_complete = 1;
	EXPECT_EQ(0, ioctl(self->c.fd, NVME_RING_IO_SUBMIT, &s));

	struct { __u32 flags, min, resv; } bad[] = {
		{ 1U << 2, 0, 0 },				/* unknown */
		{ NVME_RING_IO_SUBMIT_F_POLL, 0, 0 },		/* no WAIT */
		{ 0, 1, 0 },					/* no WAIT */
		{ NVME_RING_IO_SUBMIT_F_WAIT, 129, 0 },		/* > CQ */
		{ NVME_RING_IO_SUBMIT_F_WAIT, 1, 1 },		/* resv */
	};
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.flags = bad[i].flags;
		s.min_complete = bad[i].min;
		s.resv = bad[i].resv;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->c.fd, NVME_RING_IO_SUBMIT, &s));
		EXPECT_EQ(EINVAL, errno) {
			TH_LOG("case %u", i);
		}
	}
}

TEST_F(io, flush_zeroes_deallocate)
{
	struct nt_ctx *c = &self->c;
	__u64 slba = variant->base / c->lba + 48 * MiB / c->lba;
	struct nvme_ring_io_dsm_range *r;
	struct nvme_ring_io_sqe sqe;
	__u32 nlb = 64 * 1024 / c->lba, i;

	nt_fill(c->data, 64 * 1024, 77);
	ASSERT_EQ(64 * 1024, nt_rw_sync(c, NVME_RING_IO_OP_WRITE, slba, nlb,
					 0));
	nt_prep(&sqe, NVME_RING_IO_OP_FLUSH, 0, 0, 0, 0, 1);
	EXPECT_EQ(0, nt_sqe_sync(c, &sqe, NULL));

	nt_prep(&sqe, NVME_RING_IO_OP_WRITE_ZEROES, slba, nlb, 0, 0, 2);
	EXPECT_EQ(0, nt_sqe_sync(c, &sqe, NULL));
	memset(c->data, 0xff, 64 * 1024);
	ASSERT_EQ(64 * 1024, nt_rw_sync(c, NVME_RING_IO_OP_READ, slba, nlb,
					 0));
	for (i = 0; i < 64 * 1024; i++)
		ASSERT_EQ(0, c->data[i]);

	/* Deallocate two ranges (the second one LBA long). */
	r = (struct nvme_ring_io_dsm_range *)(c->data + 4096);
	memset(r, 0, 2 * sizeof(*r));
	r[0].slba = htole64(slba);
	r[0].nlb = htole32(nlb);
	r[1].slba = htole64(slba + nlb + 10);
	r[1].nlb = htole32(1);
	nt_prep(&sqe, NVME_RING_IO_OP_DSM, 0, 0, 4096, 2 * sizeof(*r), 3);
	sqe.cdw10 = 1;		/* two ranges */
	sqe.cdw11 = NVME_RING_IO_DSM_AD;
	sqe.cdw12 = 0;
	EXPECT_EQ(0, nt_sqe_sync(c, &sqe, NULL));

	/* The integral-dataset hints are accepted beside AD (res 0). */
	nt_prep(&sqe, NVME_RING_IO_OP_DSM, 0, 0, 4096, sizeof(*r), 4);
	sqe.cdw11 = NVME_RING_IO_DSM_AD | 0x3;	/* AD, IDW, IDR */
	sqe.cdw12 = 0;
	EXPECT_EQ(0, nt_sqe_sync(c, &sqe, NULL));
}

TEST_F(io, cq_full_stops_submission)
{
	struct nt_ctx c;
	struct nvme_ring_io_cqe cqe;
	__u32 lba = variant->lba, i, idx;
	int ret;

	nt_close(&self->c);
	ret = nt_open(&c, variant->dev, O_RDWR, 16, 16, 1 * MiB);
	ASSERT_EQ(0, ret);

	ASSERT_EQ(16u, nrio_ring_reserve(&c.sq, 16, &idx));
	for (i = 0; i < 16; i++)
		nt_prep(nrio_sqe(&c.sq, idx + i), NVME_RING_IO_OP_READ, i, 1,
			i * lba, lba, i);
	nrio_ring_submit(&c.sq, 16);
	ASSERT_EQ(16, nt_submit(&c, 0));
	/* 16 more wait in the SQ: the CQ has no room for them. */
	ASSERT_EQ(16u, nrio_ring_reserve(&c.sq, 16, &idx));
	for (i = 0; i < 16; i++)
		nt_prep(nrio_sqe(&c.sq, idx + i), NVME_RING_IO_OP_READ, i, 1,
			i * lba, lba, 16 + i);
	nrio_ring_submit(&c.sq, 16);
	ASSERT_EQ(16, nt_wait(&c, 16, 10000000000LL));
	EXPECT_EQ(0, nt_submit(&c, 0));
	ASSERT_EQ(0, nt_info(c.fd, &c.info));
	EXPECT_LE(1, c.info.counters.cq_full);
	EXPECT_EQ(16, c.info.counters.submitted);

	/* Reaping makes room; every completion arrives, in any order. */
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, nt_reap(&c, &cqe));
		EXPECT_EQ((int)lba, cqe.res);
	}
	EXPECT_EQ(16, nt_submit(&c, 0));
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, nt_reap(&c, &cqe));
		EXPECT_LE(16, cqe.user_data);
	}
	ASSERT_EQ(0, nt_info(c.fd, &c.info));
	EXPECT_EQ(32, c.info.counters.completed);
	nt_close(&c);
}

/* Two namespaces, the same LBAs, different data: nothing crosses over. */
TEST(namespaces_are_separate)
{
	struct nt_ctx a, b;

	if (!nt_have(NS1_BLK) || !nt_have(NS2_BLK))
		SKIP(return, "needs both namespaces");
	ASSERT_EQ(0, nt_open(&a, NS1_BLK, O_RDWR, 8, 0, 1 * MiB));
	ASSERT_EQ(0, nt_open(&b, NS2_BLK, O_RDWR, 8, 0, 1 * MiB));
	nt_fill(a.data, 64 * 1024, 0xa);
	nt_fill(b.data, 64 * 1024, 0xb);
	ASSERT_EQ(65536, nt_rw_sync(&a, NVME_RING_IO_OP_WRITE, 200000,
				    65536 / 512, 0));
	ASSERT_EQ(65536, nt_rw_sync(&b, NVME_RING_IO_OP_WRITE,
				    200000 * 512 / 4096, 65536 / 4096, 0));
	memset(a.data, 0, 65536);
	memset(b.data, 0, 65536);
	ASSERT_EQ(65536, nt_rw_sync(&a, NVME_RING_IO_OP_READ, 200000,
				    65536 / 512, 0));
	ASSERT_EQ(65536, nt_rw_sync(&b, NVME_RING_IO_OP_READ,
				    200000 * 512 / 4096, 65536 / 4096, 0));
	EXPECT_EQ(0, nt_check(a.data, 65536, 0xa));
	EXPECT_EQ(0, nt_check(b.data, 65536, 0xb));
	nt_close(&a);
	nt_close(&b);
}

/* --- teardown with I/O in flight ---------------------------------------- */

static int queue_many(struct nt_ctx *c, __u32 n, __u8 op, __u32 nlb)
{
	__u32 idx, i, got = nrio_ring_reserve(&c->sq, n, &idx);

	for (i = 0; i < got; i++)
		nt_prep(nrio_sqe(&c->sq, idx + i), op, (__u64)i * nlb, nlb,
			(__u64)i * nlb * c->lba % (c->s.off.data_size -
						    nlb * c->lba),
			nlb * c->lba, i);
	nrio_ring_submit(&c->sq, got);
	return nt_submit(c, 0);
}

TEST(close_with_io_in_flight)
{
	struct nt_ctx c;
	int round;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	for (round = 0; round < 8; round++) {
		ASSERT_EQ(0, nt_open(&c, NS1_BLK, O_RDWR, 512, 0, 8 * MiB));
		ASSERT_EQ(512, queue_many(&c, 512, round & 1 ?
					  NVME_RING_IO_OP_WRITE :
					  NVME_RING_IO_OP_READ, 16));
		/* Unmap first on odd rounds, close first on even ones. */
		if (round & 1) {
			munmap(c.region, c.s.off.region_size);
			c.region = NULL;
		}
		nt_close(&c);
	}
}

TEST(munmap_then_wait)
{
	struct nt_ctx c;
	int ret;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ASSERT_EQ(0, nt_open(&c, NS1_BLK, O_RDWR, 256, 0, 8 * MiB));
	ASSERT_EQ(256, queue_many(&c, 256, NVME_RING_IO_OP_READ, 8));
	munmap(c.region, c.s.off.region_size);
	c.region = NULL;
	/* The context goes on without a mapping. */
	ret = nt_wait(&c, 256, 10000000000LL);
	EXPECT_EQ(256, ret);
	nt_close(&c);
}

TEST(exit_and_kill_with_io_in_flight)
{
	int round;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	for (round = 0; round < 6; round++) {
		int status;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct nt_ctx c;

			if (nt_open(&c, NS1_BLK, O_RDWR, 256, 0, 8 * MiB))
				_exit(2);
			for (;;) {
				if (queue_many(&c, 256, NVME_RING_IO_OP_READ,
					       8) < 0)
					_exit(3);
				if (round < 3)
					_exit(0);	/* exit mid-flight */
				nt_wait(&c, 64, 1000000000LL);
				nrio_ring_release(&c.cq, nrio_ring_ready(&c.cq));
			}
		}
		if (round >= 3) {
			usleep(100000);
			kill(pid, SIGKILL);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (round < 3) {
			ASSERT_TRUE(WIFEXITED(status));
			EXPECT_EQ(0, WEXITSTATUS(status));
		} else {
			ASSERT_TRUE(WIFSIGNALED(status));
		}
	}
}

TEST_HARNESS_MAIN
