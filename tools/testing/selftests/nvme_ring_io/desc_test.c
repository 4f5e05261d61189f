// SPDX-License-Identifier: GPL-2.0
/*
 * Bad SQ descriptors: each fails alone with its documented errno in its CQ
 * entry, counts in sq_invalid, and the ring goes on.  And the namespace
 * fd's open mode decides what a context may do.
 */
#include <endian.h>

#include "nrio_test.h"

#include "kselftest_harness.h"

#define DATA_SIZE	(4 * MiB)

struct bad_ctx {
	__u64 data_size;
	__u64 nr_lbas;
	__u32 lba;
};

FIXTURE(bad_desc) {
	struct nt_ctx c;
};

FIXTURE_VARIANT(bad_desc) {
	void (*mutate)(struct nvme_ring_io_sqe *sqe, const struct bad_ctx *b);
	int err;
};

#define BAD_DESC(name, errno_, body)					\
	static void mutate_##name(struct nvme_ring_io_sqe *sqe,	\
				  const struct bad_ctx *b)		\
	{ (void)b; body; }						\
	FIXTURE_VARIANT_ADD(bad_desc, name) {				\
		.mutate = mutate_##name, .err = errno_,			\
	}

/* The base descriptor is a valid 8-LBA READ at LBA 0, data offset 0. */
BAD_DESC(opcode_unknown, EOPNOTSUPP, sqe->opcode = 0x7f);
BAD_DESC(opcode_compare, EOPNOTSUPP, sqe->opcode = 0x05);
BAD_DESC(opcode_write_unc, EOPNOTSUPP, sqe->opcode = 0x04);
BAD_DESC(opcode_vendor, EOPNOTSUPP, sqe->opcode = 0x81);
BAD_DESC(flags_set, EINVAL, sqe->flags = 1);
BAD_DESC(resv1_set, EINVAL, sqe->resv1 = 1);
BAD_DESC(resv2_set, EINVAL, sqe->resv2 = 1);
BAD_DESC(timeout_set, EINVAL, sqe->timeout_ms = 1000);
BAD_DESC(metadata_len, EINVAL, sqe->metadata_len = 8);
BAD_DESC(metadata_off, EINVAL, sqe->metadata_off = 4096);
BAD_DESC(cdw2_set, EINVAL, sqe->cdw2 = 1);
BAD_DESC(cdw3_set, EINVAL, sqe->cdw3 = 1);
BAD_DESC(cdw13_set, EINVAL, sqe->cdw13 = 1);
BAD_DESC(cdw14_set, EINVAL, sqe->cdw14 = 1);
BAD_DESC(cdw15_set, EINVAL, sqe->cdw15 = 1);
BAD_DESC(cdw12_reserved, EINVAL, sqe->cdw12 |= 1U << 20);
BAD_DESC(read_fua, EINVAL, sqe->cdw12 |= NVME_RING_IO_RW_FUA);
BAD_DESC(read_limited_retry, EINVAL, sqe->cdw12 |= 1U << 31);
BAD_DESC(read_prinfo, EINVAL, sqe->cdw12 |= 1U << 26);
BAD_DESC(read_deac, EINVAL, sqe->cdw12 |= NVME_RING_IO_RW_DEAC);
BAD_DESC(read_stc, EINVAL, sqe->cdw12 |= 1U << 24);
BAD_DESC(write_deac, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_WRITE;
	 sqe->cdw12 |= NVME_RING_IO_RW_DEAC);
BAD_DESC(write_dtype, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_WRITE; sqe->cdw12 |= 1U << 20);
BAD_DESC(nsid_other, EINVAL, sqe->nsid = 2);
BAD_DESC(nsid_broadcast, EINVAL, sqe->nsid = 0xffffffffU);
BAD_DESC(len_short, EINVAL, sqe->data_len -= b->lba);
BAD_DESC(len_long, EINVAL, sqe->data_len += b->lba);
BAD_DESC(len_zero, EINVAL, sqe->data_len = 0);
BAD_DESC(off_misaligned, EINVAL, sqe->data_off = 100);
BAD_DESC(off_odd, EINVAL, sqe->data_off = 1);
BAD_DESC(off_past_end, EFAULT, sqe->data_off = b->data_size);
BAD_DESC(off_straddles_end, EFAULT,
	 sqe->data_off = b->data_size - b->lba);
BAD_DESC(off_huge, EFAULT, sqe->data_off = 1ULL << 62);
BAD_DESC(off_wraps, EFAULT, sqe->data_off = ~0ULL - 4095);
BAD_DESC(len_huge, EINVAL,
	 sqe->cdw12 = 0xffff; sqe->data_len = 0xffffffffU);
BAD_DESC(len_past_area, EFAULT,
	 sqe->cdw12 = 0xffff; sqe->data_len = 65536 * b->lba);
BAD_DESC(lba_at_end, ERANGE,
	 sqe->cdw10 = (__u32)b->nr_lbas; sqe->cdw11 = b->nr_lbas >> 32);
BAD_DESC(lba_straddles_end, ERANGE,
	 sqe->cdw10 = (__u32)(b->nr_lbas - 4);
	 sqe->cdw11 = (b->nr_lbas - 4) >> 32);
BAD_DESC(lba_huge, ERANGE, sqe->cdw11 = 0x80000000U);
BAD_DESC(lba_max, ERANGE, sqe->cdw10 = ~0U; sqe->cdw11 = ~0U);
BAD_DESC(flush_with_data, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_FLUSH; sqe->cdw12 = 0);
BAD_DESC(flush_with_lba, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_FLUSH; sqe->cdw12 = 0;
	 sqe->data_len = 0; sqe->cdw10 = 1);
BAD_DESC(zeroes_with_data, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_WRITE_ZEROES);
BAD_DESC(zeroes_fua, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_WRITE_ZEROES; sqe->data_len = 0;
	 sqe->cdw12 |= NVME_RING_IO_RW_FUA);
BAD_DESC(zeroes_past_end, ERANGE,
	 sqe->opcode = NVME_RING_IO_OP_WRITE_ZEROES; sqe->data_len = 0;
	 sqe->cdw10 = (__u32)b->nr_lbas; sqe->cdw11 = b->nr_lbas >> 32);
BAD_DESC(dsm_no_ad, EOPNOTSUPP,
	 sqe->opcode = NVME_RING_IO_OP_DSM; sqe->cdw12 = 0; sqe->cdw10 = 0;
	 sqe->data_len = 16; sqe->cdw11 = 1);
BAD_DESC(dsm_len_mismatch, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_DSM; sqe->cdw12 = 0; sqe->cdw10 = 1;
	 sqe->data_len = 16; sqe->cdw11 = NVME_RING_IO_DSM_AD);
BAD_DESC(dsm_misaligned, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_DSM; sqe->cdw12 = 0; sqe->cdw10 = 0;
	 sqe->data_len = 16; sqe->data_off = 8;
	 sqe->cdw11 = NVME_RING_IO_DSM_AD);
BAD_DESC(dsm_cdw12, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_DSM; sqe->cdw12 = 1; sqe->cdw10 = 0;
	 sqe->data_len = 16; sqe->cdw11 = NVME_RING_IO_DSM_AD);
BAD_DESC(dsm_reserved_cdw11, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_DSM; sqe->cdw12 = 0; sqe->cdw10 = 0;
	 sqe->data_len = 16; sqe->cdw11 = NVME_RING_IO_DSM_AD | 1U << 3);
BAD_DESC(dsm_reserved_cdw10, EINVAL,
	 sqe->opcode = NVME_RING_IO_OP_DSM; sqe->cdw12 = 0;
	 sqe->cdw10 = 1U << 8; sqe->data_len = 16;
	 sqe->cdw11 = NVME_RING_IO_DSM_AD);

FIXTURE_SETUP(bad_desc)
{
	int ret;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ret = nt_open(&self->c, NS1_BLK, O_RDWR, 8, 0, DATA_SIZE);
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(bad_desc)
{
	nt_close(&self->c);
}

TEST_F(bad_desc, fails_alone)
{
	struct nt_ctx *c = &self->c;
	struct bad_ctx b = {
		.data_size = c->s.off.data_size,
		.nr_lbas = c->info.nr_lbas,
		.lba = c->lba,
	};
	struct nvme_ring_io_cqe cqe[3];
	struct nvme_ring_io_sqe *sqe;
	__u32 idx, i;

	/* valid, bad, valid: the bad one fails alone. */
	ASSERT_EQ(3u, nrio_ring_reserve(&c->sq, 3, &idx));
	for (i = 0; i < 3; i++)
		nt_prep(nrio_sqe(&c->sq, idx + i), NVME_RING_IO_OP_READ, 0, 8,
			0, 8 * c->lba, 100 + i);
	sqe = nrio_sqe(&c->sq, idx + 1);
	variant->mutate(sqe, &b);
	sqe->user_data = 101;
	nrio_ring_submit(&c->sq, 3);
	ASSERT_EQ(3, nt_submit(c, 0));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, nt_reap(c, &cqe[i]));
	for (i = 0; i < 3; i++) {
		if (cqe[i].user_data == 101) {
			EXPECT_EQ(-variant->err, cqe[i].res) {
				TH_LOG("expected %s, got %d (%s)",
				       strerror(variant->err), cqe[i].res,
				       strerror(-cqe[i].res));
			}
		} else {
			EXPECT_EQ((int)(8 * c->lba), cqe[i].res);
		}
		EXPECT_EQ(0, cqe[i].status);
	}
	ASSERT_EQ(0, nt_info(c->fd, &c->info));
	EXPECT_EQ(1, c->info.counters.sq_invalid);
	EXPECT_EQ(3, c->info.counters.completed);
	EXPECT_EQ(0, c->info.inflight);
	/* The shared counters agree with INFO. */
	EXPECT_EQ(1, ((struct nvme_ring_io_counters *)
		      ((char *)c->region + c->s.off.counters))->sq_invalid);
}

/* --- permissions from the namespace fd ---------------------------------- */

static int try_op(struct nt_ctx *c, __u8 op)
{
	struct nvme_ring_io_dsm_range *r;
	struct nvme_ring_io_sqe sqe;

	switch (op) {
	case NVME_RING_IO_OP_READ:
	case NVME_RING_IO_OP_WRITE:
		return nt_rw_sync(c, op, 100, 1, 0);
	case NVME_RING_IO_OP_WRITE_ZEROES:
		nt_prep(&sqe, op, 100, 1, 0, 0, 1);
		return nt_sqe_sync(c, &sqe, NULL);
	case NVME_RING_IO_OP_DSM:
		r = (struct nvme_ring_io_dsm_range *)c->data;
		memset(r, 0, sizeof(*r));
		r->slba = htole64(100);
		r->nlb = htole32(1);
		nt_prep(&sqe, op, 0, 0, 0, 16, 1);
		sqe.cdw12 = 0;
		sqe.cdw11 = NVME_RING_IO_DSM_AD;
		return nt_sqe_sync(c, &sqe, NULL);
	default:
		nt_prep(&sqe, op, 0, 0, 0, 0, 1);
		return nt_sqe_sync(c, &sqe, NULL);
	}
}

TEST(readonly_fd_never_writes)
{
	const char *devs[] = { NS1_BLK, NS1_CHR };
	struct nt_ctx w, c;
	unsigned int d;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	/* Known content at LBA 100, written through a writable context. */
	ASSERT_EQ(0, nt_open(&w, NS1_BLK, O_RDWR, 8, 0, 1 * MiB));
	nt_fill(w.data, 512, 0x42);
	ASSERT_EQ(512, nt_rw_sync(&w, NVME_RING_IO_OP_WRITE, 100, 1, 0));

	for (d = 0; d < 2; d++) {
		if (!nt_have(devs[d]))
			continue;
		ASSERT_EQ(0, nt_open(&c, devs[d], O_RDONLY, 8, 0, 1 * MiB));
		EXPECT_EQ(NVME_RING_IO_INFO_F_READ,
			  c.info.flags & (NVME_RING_IO_INFO_F_READ |
					  NVME_RING_IO_INFO_F_WRITE));
		nt_fill(c.data, 512, 0x99);
		EXPECT_EQ(-EBADF, try_op(&c, NVME_RING_IO_OP_WRITE));
		EXPECT_EQ(-EBADF, try_op(&c, NVME_RING_IO_OP_WRITE_ZEROES));
		EXPECT_EQ(-EBADF, try_op(&c, NVME_RING_IO_OP_DSM));
		EXPECT_EQ(0, try_op(&c, NVME_RING_IO_OP_FLUSH));
		EXPECT_EQ(512, try_op(&c, NVME_RING_IO_OP_READ));
		EXPECT_EQ(0, nt_check(c.data, 512, 0x42));
		nt_close(&c);
	}
	/* Nothing was written. */
	memset(w.data, 0, 512);
	ASSERT_EQ(512, nt_rw_sync(&w, NVME_RING_IO_OP_READ, 100, 1, 0));
	EXPECT_EQ(0, nt_check(w.data, 512, 0x42));
	nt_close(&w);
}

TEST(writeonly_fd_never_reads)
{
	struct nt_ctx c;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ASSERT_EQ(0, nt_open(&c, NS1_BLK, O_WRONLY, 8, 0, 1 * MiB));
	EXPECT_EQ(NVME_RING_IO_INFO_F_WRITE,
		  c.info.flags & (NVME_RING_IO_INFO_F_READ |
				  NVME_RING_IO_INFO_F_WRITE));
	memset(c.data, 0, 512);
	EXPECT_EQ(-EBADF, try_op(&c, NVME_RING_IO_OP_READ));
	EXPECT_EQ(512, try_op(&c, NVME_RING_IO_OP_WRITE));
	nt_close(&c);
}

/*
 * DSM (deallocate) ranges are checked against the namespace before any is
 * discarded: a range past its end fails the descriptor with ERANGE (as
 * READ, WRITE and WRITE ZEROES do), a range of 0 LBAs is skipped wherever
 * it points.  Written from the header's contract.
 */
TEST(dsm_range_past_end)
{
	struct nvme_ring_io_dsm_range *r;
	struct nvme_ring_io_sqe sqe;
	struct nt_ctx c;
	__u64 n;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ASSERT_EQ(0, nt_open(&c, NS1_BLK, O_RDWR, 8, 0, 1 * MiB));
	n = c.info.nr_lbas;
	r = (struct nvme_ring_io_dsm_range *)c.data;
	nt_prep(&sqe, NVME_RING_IO_OP_DSM, 0, 0, 0, 2 * sizeof(*r), 1);
	sqe.cdw10 = 1;			/* two ranges */
	sqe.cdw12 = 0;
	sqe.cdw11 = NVME_RING_IO_DSM_AD;

	/* A good range, then one starting at the end. */
	memset(r, 0, 2 * sizeof(*r));
	r[0].slba = htole64(100);
	r[0].nlb = htole32(1);
	r[1].slba = htole64(n);
	r[1].nlb = htole32(1);
	EXPECT_EQ(-ERANGE, nt_sqe_sync(&c, &sqe, NULL));
	/* One straddling the end. */
	r[1].slba = htole64(n - 1);
	r[1].nlb = htole32(2);
	EXPECT_EQ(-ERANGE, nt_sqe_sync(&c, &sqe, NULL));
	/* One far past it, where slba + nlb wraps. */
	r[1].slba = htole64(~0ULL);
	r[1].nlb = htole32(2);
	EXPECT_EQ(-ERANGE, nt_sqe_sync(&c, &sqe, NULL));
	/* 0 LBAs past the end: skipped, the descriptor succeeds. */
	r[1].slba = htole64(n + 1000);
	r[1].nlb = 0;
	EXPECT_EQ(0, nt_sqe_sync(&c, &sqe, NULL));
	/* The last LBA itself is in range. */
	r[1].slba = htole64(n - 1);
	r[1].nlb = htole32(1);
	EXPECT_EQ(0, nt_sqe_sync(&c, &sqe, NULL));
	nt_close(&c);
}

TEST_HARNESS_MAIN
