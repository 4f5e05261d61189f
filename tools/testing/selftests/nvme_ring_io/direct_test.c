// SPDX-License-Identifier: GPL-2.0
/*
 * Direct mode (NVME_RING_IO_SETUP_F_DIRECT): READ and WRITE as NVMe
 * requests on the namespace's own queue.  Data round trips on both of the
 * VM's namespaces at every size from one LBA to beyond the device's
 * maximum transfer (which must go as bios, split, never as one command),
 * across folios and against the bio engine; every bad descriptor fails
 * with the bio engine's errno; a read-only fd never writes; polled direct
 * I/O; close with I/O in flight; a controller reset with I/O in flight;
 * NVMe errors (injected on the debug kernel) fail every descriptor with
 * the bio engine's errno, also when completions come in batches; and a
 * namespace behind an NVMe multipath head is refused with EOPNOTSUPP.
 */
#include <endian.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "nrio_target.h"

#include "kselftest_harness.h"

#define DATA_SIZE	(16 * MiB)
#define DIRECT		NVME_RING_IO_SETUP_F_DIRECT

static int open_direct(struct nt_ctx *c, const char *dev, int oflags,
		       __u32 flags)
{
	return nt_open_flags(c, dev, oflags, 64, 0, DATA_SIZE, flags);
}

/* --- data round trips ------------------------------------------------- */

FIXTURE(rt) {
	struct nt_ctx d;	/* direct mode */
	struct nt_ctx b;	/* the bio engine, the reference */
};

FIXTURE_VARIANT(rt) {
	const char *dev;
	const char *blk;	/* its block device, for /sys/block/X/stat */
	__u32 flags;		/* extra SETUP flags of the direct context */
};

FIXTURE_VARIANT_ADD(rt, ns1) { .dev = NS1_BLK, .blk = NS1_BLK };
FIXTURE_VARIANT_ADD(rt, ns2) { .dev = NS2_BLK, .blk = NS2_BLK };
FIXTURE_VARIANT_ADD(rt, ns1_generic) { .dev = NS1_CHR, .blk = NS1_BLK };
FIXTURE_VARIANT_ADD(rt, ns1_poll) {
	.dev = NS1_BLK, .blk = NS1_BLK, .flags = NVME_RING_IO_SETUP_F_IOPOLL,
};
FIXTURE_VARIANT_ADD(rt, ns2_poll) {
	.dev = NS2_BLK, .blk = NS2_BLK, .flags = NVME_RING_IO_SETUP_F_IOPOLL,
};

FIXTURE_SETUP(rt)
{
	if (!nt_have(variant->dev))
		SKIP(return, "no %s", variant->dev);
	ASSERT_EQ(0, open_direct(&self->d, variant->dev, O_RDWR,
				 DIRECT | variant->flags));
	ASSERT_EQ(0, open_direct(&self->b, variant->dev, O_RDWR, 0));
}

FIXTURE_TEARDOWN(rt)
{
	nt_close(&self->d);
	nt_close(&self->b);
}

TEST_F(rt, info_flags)
{
	__u32 f = self->d.info.flags;

	EXPECT_TRUE(f & NVME_RING_IO_INFO_F_DIRECT);
	EXPECT_FALSE(self->b.info.flags & NVME_RING_IO_INFO_F_DIRECT);
	/* The VM's controller has a poll queue: polled requests. */
	if (variant->flags & NVME_RING_IO_SETUP_F_IOPOLL) {
		EXPECT_TRUE(f & NVME_RING_IO_INFO_F_POLLED);
	} else {
		EXPECT_FALSE(f & NVME_RING_IO_INFO_F_POLLED);
	}
	EXPECT_TRUE(f & NVME_RING_IO_INFO_F_READ);
	EXPECT_TRUE(f & NVME_RING_IO_INFO_F_WRITE);
}

/*
 * Write @nlb blocks at @slba from data offset @off with @w and read them
 * back with @r into another offset, byte-exact; then the other way round.
 */
static int round_trip(struct __test_metadata *_metadata, struct nt_ctx *w,
		      struct nt_ctx *r, __u64 slba, __u32 nlb, __u64 off,
		      __u64 roff, __u64 seed)
{
	size_t len = (size_t)nlb * w->lba;

	nt_fill(w->data + off, len, seed);
	memset(r->data + roff, 0xa5, len);
	EXPECT_EQ((int)len, nt_rw_sync(w, NVME_RING_IO_OP_WRITE, slba, nlb,
				       off));
	EXPECT_EQ((int)len, nt_rw_sync(r, NVME_RING_IO_OP_READ, slba, nlb,
				       roff));
	EXPECT_EQ(0, nt_check(r->data + roff, len, seed)) {
		TH_LOG("%u blocks at %llu, data offsets %llu/%llu: mismatch",
		       nlb, (unsigned long long)slba,
		       (unsigned long long)off, (unsigned long long)roff);
		return -1;
	}
	return 0;
}

TEST_F(rt, sizes)
{
	struct nt_ctx *d = &self->d, *b = &self->b;
	__u32 lba = d->lba, max_nlb = d->info.max_transfer / lba;
	__u32 sizes[] = { 1, 2, 7, 8, 9, 64, 255, 256, 257,
			  max_nlb - 1, max_nlb, max_nlb + 1, 2 * max_nlb,
			  2 * max_nlb + 3, (4 * MiB) / lba };
	__u64 slba = 4096, seed = 1;
	unsigned int i;

	ASSERT_GT(max_nlb, 8) {
		TH_LOG("max_transfer %llu", (unsigned long long)
		       d->info.max_transfer);
	}
	TH_LOG("lba %u, max_transfer %llu, max_segments %u, huge %llu", lba,
	       (unsigned long long)d->info.max_transfer,
	       d->info.max_segments, (unsigned long long)d->info.huge_bytes);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		__u32 nlb = sizes[i];
		size_t len = (size_t)nlb * lba;

		if (!nlb || len > 4 * MiB || nlb > 65536)
			continue;
		/* direct -> bio, bio -> direct, direct -> direct */
		ASSERT_EQ(0, round_trip(_metadata, d, b, slba, nlb, 0, 4 * MiB,
					seed++));
		ASSERT_EQ(0, round_trip(_metadata, b, d, slba, nlb, 0, 4 * MiB,
					seed++));
		ASSERT_EQ(0, round_trip(_metadata, d, d, slba, nlb, 8 * MiB,
					4 * MiB, seed++));
		slba += nlb + 8;
	}
	ASSERT_EQ(0, nt_info(d->fd, &d->info));
	EXPECT_EQ(0, d->info.counters.sq_invalid);
	EXPECT_EQ(0, d->info.inflight);
}

/* Reads and writes completed on @blk's disk, from /sys/block/X/stat. */
static int disk_stat(const char *blk, unsigned long long *rd,
		     unsigned long long *wr)
{
	char path[PATH_MAX], stat[128], buf[256];
	const char *name;

	if (!realpath(blk, path))
		return -errno;
	name = strrchr(path, '/') + 1;
	snprintf(stat, sizeof(stat), "/sys/block/%s/stat", name);
	if (nrio_target_read(stat, buf, sizeof(buf)))
		return -EIO;
	return sscanf(buf, "%llu %*u %*u %*u %llu", rd, wr) == 2 ? 0 : -EIO;
}

/*
 * Direct-mode I/O is passthrough, which the block layer does not account:
 * the disk's statistics do not move for it.  That is how this test knows
 * the I/O went direct, and that what exceeds one command went as bios
 * (which are accounted) rather than as one oversize command.
 */
TEST_F(rt, direct_unless_oversize)
{
	struct nt_ctx *d = &self->d;
	__u32 max_nlb = d->info.max_transfer / d->lba, i;
	unsigned long long r0, w0, r1, w1;
	__u64 slba = 20000;

	ASSERT_EQ(0, disk_stat(variant->blk, &r0, &w0));
	nt_fill(d->data, 8 * d->lba, 4);
	for (i = 0; i < 16; i++) {
		ASSERT_EQ((int)d->lba, nt_rw_sync(d, NVME_RING_IO_OP_READ,
						   slba + i, 1, 0));
		ASSERT_EQ((int)(8 * d->lba),
			  nt_rw_sync(d, NVME_RING_IO_OP_WRITE, slba + 100, 8,
				     0));
	}
	/* Exactly max_transfer: still one command. */
	ASSERT_EQ((int)(max_nlb * d->lba),
		  nt_rw_sync(d, NVME_RING_IO_OP_READ, slba, max_nlb, 0));
	ASSERT_EQ(0, disk_stat(variant->blk, &r1, &w1));
	EXPECT_EQ(r0, r1);
	EXPECT_EQ(w0, w1);

	/* One LBA more: bios, split by the block layer. */
	ASSERT_EQ((int)((max_nlb + 1) * d->lba),
		  nt_rw_sync(d, NVME_RING_IO_OP_READ, slba, max_nlb + 1, 0));
	ASSERT_EQ((int)((max_nlb + 1) * d->lba),
		  nt_rw_sync(d, NVME_RING_IO_OP_WRITE, slba, max_nlb + 1, 0));
	ASSERT_EQ(0, disk_stat(variant->blk, &r0, &w0));
	EXPECT_LE(r1 + 2, r0);
	EXPECT_LE(w1 + 2, w0);
	/* And the bio engine's own I/O is accounted, as ever. */
	ASSERT_EQ((int)d->lba, nt_rw_sync(&self->b, NVME_RING_IO_OP_READ,
					  slba, 1, 0));
	ASSERT_EQ(0, disk_stat(variant->blk, &r1, &w1));
	EXPECT_EQ(r0 + 1, r1);
}

/*
 * A region under 2 MiB has small pages: one run per page, so data over
 * more pages than max_segments exceeds the device's segment count
 * although not its size.  It goes as bios (which the block layer counts,
 * merging physically contiguous pages, and splits if it must);
 * max_segments pages still go as one command.
 */
TEST_F(rt, segments_small_pages)
{
	struct nt_ctx s, *b = &self->b;
	unsigned long long r0, w0, r1, w1;
	__u32 lba, segs, per_page, nlb;
	__u64 slba = 60000, off;

	ASSERT_EQ(0, nt_open_flags(&s, variant->dev, O_RDWR, 8, 0, 1 * MiB,
				   DIRECT | variant->flags));
	lba = s.lba;
	segs = s.info.max_segments;
	per_page = 4096 / lba;
	if (s.info.huge_bytes || (__u64)segs * 4096 > s.info.max_transfer) {
		nt_close(&s);
		SKIP(return, "huge pages, or max_segments %u pages above "
		     "max_transfer", segs);
	}
	/* max_segments pages: one command, not accounted. */
	nlb = segs * per_page;
	ASSERT_EQ(0, disk_stat(variant->blk, &r0, &w0));
	ASSERT_EQ(0, round_trip(_metadata, &s, &s, slba, nlb, 0,
				(__u64)nlb * lba, 11));
	ASSERT_EQ(0, disk_stat(variant->blk, &r1, &w1));
	EXPECT_EQ(r0, r1);
	EXPECT_EQ(w0, w1);

	/*
	 * max_segments + 1 pages: shifted by one LBA, or one page more
	 * where that still fits max_transfer.
	 */
	if (lba < 4096) {
		off = lba;
	} else if ((__u64)(segs + 1) * 4096 <= s.info.max_transfer) {
		off = 0;
		nlb += per_page;
	} else {
		nt_close(&s);
		SKIP(return, "no transfer within max_transfer has more pages "
		     "than max_segments %u", segs);
	}
	ASSERT_EQ(0, round_trip(_metadata, &s, b, slba, nlb, off, 0, 12));
	ASSERT_EQ(0, round_trip(_metadata, b, &s, slba, nlb, 0, off, 13));
	ASSERT_EQ(0, disk_stat(variant->blk, &r0, &w0));
	/* b's read and write, and at least one bio each for s's. */
	EXPECT_LE(r1 + 2, r0);
	EXPECT_LE(w1 + 2, w0);
	nt_close(&s);
}

/* Data that crosses a 2 MiB folio (two runs), at odd LBA offsets. */
TEST_F(rt, across_folios)
{
	struct nt_ctx *d = &self->d, *b = &self->b;
	__u32 lba = d->lba;
	__u64 offs[] = { 2 * MiB - lba, 2 * MiB - 4096, 2 * MiB - 8 * lba,
			 4 * MiB - 3 * lba, 2 * MiB + lba, 6 * MiB - 64 * 1024 };
	__u32 nlbs[] = { 2, 8, 16, 128 };
	__u64 slba = 100000, seed = 77;
	unsigned int i, j;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (j = 0; j < sizeof(nlbs) / sizeof(nlbs[0]); j++) {
			if (offs[i] % lba)
				continue;
			ASSERT_EQ(0, round_trip(_metadata, d, b, slba, nlbs[j],
						offs[i], 10 * MiB, seed++));
			ASSERT_EQ(0, round_trip(_metadata, b, d, slba, nlbs[j],
						10 * MiB, offs[i], seed++));
			slba += nlbs[j];
		}
	}
}

/* A deep batch of mixed direct I/O, with FUA writes, all byte-exact. */
TEST_F(rt, batch)
{
	struct nt_ctx *d = &self->d, *b = &self->b;
	__u32 n = 48, i, nlb = 4096 / d->lba, idx;
	struct nvme_ring_io_cqe cqe;
	__u64 slba = d->info.nr_lbas / 2;

	nt_fill(d->data, n * 4096, 9);
	ASSERT_EQ(n, nrio_ring_reserve(&d->sq, n, &idx));
	for (i = 0; i < n; i++) {
		struct nvme_ring_io_sqe *sqe = nrio_sqe(&d->sq, idx + i);

		nt_prep(sqe, NVME_RING_IO_OP_WRITE, slba + i * nlb, nlb,
			(__u64)i * 4096, 4096, i);
		if (i & 1)
			sqe->cdw12 |= NVME_RING_IO_RW_FUA;
	}
	nrio_ring_submit(&d->sq, n);
	ASSERT_EQ((int)n, nt_submit(d, 0));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, nt_reap(d, &cqe));
		EXPECT_EQ(4096, cqe.res);
	}
	memset(b->data, 0, n * 4096);
	ASSERT_EQ((int)(n * 4096),
		  nt_rw_sync(b, NVME_RING_IO_OP_READ, slba, n * nlb, 0));
	EXPECT_EQ(0, nt_check(b->data, n * 4096, 9));
	ASSERT_EQ(0, nt_info(d->fd, &d->info));
	EXPECT_EQ(n + 0ULL, d->info.counters.completed);
}

/* FLUSH, WRITE ZEROES and DSM stay bios: they work as before. */
TEST_F(rt, other_commands)
{
	struct nt_ctx *d = &self->d;
	struct nvme_ring_io_sqe sqe;

	nt_prep(&sqe, NVME_RING_IO_OP_FLUSH, 0, 0, 0, 0, 1);
	sqe.cdw12 = 0;
	EXPECT_EQ(0, nt_sqe_sync(d, &sqe, NULL));
	nt_fill(d->data, 8 * d->lba, 5);
	ASSERT_EQ((int)(8 * d->lba),
		  nt_rw_sync(d, NVME_RING_IO_OP_WRITE, 5000, 8, 0));
	nt_prep(&sqe, NVME_RING_IO_OP_WRITE_ZEROES, 5000, 8, 0, 0, 2);
	EXPECT_EQ(0, nt_sqe_sync(d, &sqe, NULL));
	memset(d->data, 0xff, 8 * d->lba);
	ASSERT_EQ((int)(8 * d->lba),
		  nt_rw_sync(d, NVME_RING_IO_OP_READ, 5000, 8, 0));
	for (__u32 i = 0; i < 8 * d->lba; i++)
		ASSERT_EQ(0, d->data[i]);
}

/* --- every bad descriptor: the bio engine's errno ---------------------- */

struct bad {
	const char *name;
	void (*mutate)(struct nvme_ring_io_sqe *sqe, const struct nt_ctx *c);
	int err;
};

#define B(n, e, body)							\
	static void bad_##n(struct nvme_ring_io_sqe *sqe,		\
			    const struct nt_ctx *c)			\
	{ (void)c; body; }
#define NR_LBAS		(c->info.nr_lbas)
#define DSIZE		(c->s.off.data_size)

/* The base descriptor: a valid 8-LBA READ at LBA 0, data offset 0. */
B(opcode_unknown, EOPNOTSUPP, sqe->opcode = 0x7f)
B(opcode_compare, EOPNOTSUPP, sqe->opcode = 0x05)
B(opcode_vendor, EOPNOTSUPP, sqe->opcode = 0x81)
B(flags_set, EINVAL, sqe->flags = 1)
B(resv1_set, EINVAL, sqe->resv1 = 1)
B(resv2_set, EINVAL, sqe->resv2 = 1)
B(timeout_set, EINVAL, sqe->timeout_ms = 1000)
B(metadata_len, EINVAL, sqe->metadata_len = 8)
B(metadata_off, EINVAL, sqe->metadata_off = 4096)
B(cdw2_set, EINVAL, sqe->cdw2 = 1)
B(cdw3_set, EINVAL, sqe->cdw3 = 1)
B(cdw13_set, EINVAL, sqe->cdw13 = 1)
B(cdw14_set, EINVAL, sqe->cdw14 = 1)
B(cdw15_set, EINVAL, sqe->cdw15 = 1)
B(cdw12_reserved, EINVAL, sqe->cdw12 |= 1U << 20)
B(read_fua, EINVAL, sqe->cdw12 |= NVME_RING_IO_RW_FUA)
B(read_limited_retry, EINVAL, sqe->cdw12 |= 1U << 31)
B(read_prinfo, EINVAL, sqe->cdw12 |= 1U << 26)
B(read_deac, EINVAL, sqe->cdw12 |= NVME_RING_IO_RW_DEAC)
B(read_stc, EINVAL, sqe->cdw12 |= 1U << 24)
B(write_deac, EINVAL,
  sqe->opcode = NVME_RING_IO_OP_WRITE; sqe->cdw12 |= NVME_RING_IO_RW_DEAC)
B(write_dtype, EINVAL,
  sqe->opcode = NVME_RING_IO_OP_WRITE; sqe->cdw12 |= 1U << 20)
B(write_prinfo, EINVAL,
  sqe->opcode = NVME_RING_IO_OP_WRITE; sqe->cdw12 |= 1U << 27)
B(nsid_other, EINVAL, sqe->nsid = c->info.nsid + 1)
B(nsid_broadcast, EINVAL, sqe->nsid = 0xffffffffU)
B(len_short, EINVAL, sqe->data_len -= c->lba)
B(len_long, EINVAL, sqe->data_len += c->lba)
B(len_zero, EINVAL, sqe->data_len = 0)
B(write_len_long, EINVAL,
  sqe->opcode = NVME_RING_IO_OP_WRITE; sqe->data_len += c->lba)
B(off_misaligned, EINVAL, sqe->data_off = 100)
B(off_odd, EINVAL, sqe->data_off = 1)
B(off_half_lba, EINVAL, sqe->data_off = c->lba / 2)
B(off_past_end, EFAULT, sqe->data_off = DSIZE)
B(off_straddles_end, EFAULT, sqe->data_off = DSIZE - c->lba)
B(write_straddles_end, EFAULT,
  sqe->opcode = NVME_RING_IO_OP_WRITE; sqe->data_off = DSIZE - c->lba)
B(off_huge, EFAULT, sqe->data_off = 1ULL << 62)
B(off_wraps, EFAULT, sqe->data_off = ~0ULL - 4095)
B(len_huge, EINVAL, sqe->cdw12 = 0xffff; sqe->data_len = 0xffffffffU)
B(len_past_area, EFAULT,
  sqe->cdw12 = 0xffff; sqe->data_len = 65536 * c->lba)
B(lba_at_end, ERANGE,
  sqe->cdw10 = (__u32)NR_LBAS; sqe->cdw11 = NR_LBAS >> 32)
B(lba_straddles_end, ERANGE,
  sqe->cdw10 = (__u32)(NR_LBAS - 4); sqe->cdw11 = (NR_LBAS - 4) >> 32)
B(write_lba_at_end, ERANGE,
  sqe->opcode = NVME_RING_IO_OP_WRITE;
  sqe->cdw10 = (__u32)NR_LBAS; sqe->cdw11 = NR_LBAS >> 32)
B(lba_huge, ERANGE, sqe->cdw11 = 0x80000000U)
B(lba_max, ERANGE, sqe->cdw10 = ~0U; sqe->cdw11 = ~0U)
B(flush_with_data, EINVAL,
  sqe->opcode = NVME_RING_IO_OP_FLUSH; sqe->cdw12 = 0)
B(zeroes_with_data, EINVAL, sqe->opcode = NVME_RING_IO_OP_WRITE_ZEROES)
B(zeroes_past_end, ERANGE,
  sqe->opcode = NVME_RING_IO_OP_WRITE_ZEROES; sqe->data_len = 0;
  sqe->cdw10 = (__u32)NR_LBAS; sqe->cdw11 = NR_LBAS >> 32)
B(dsm_no_ad, EOPNOTSUPP,
  sqe->opcode = NVME_RING_IO_OP_DSM; sqe->cdw12 = 0; sqe->cdw10 = 0;
  sqe->data_len = 16; sqe->cdw11 = 1)
B(dsm_len_mismatch, EINVAL,
  sqe->opcode = NVME_RING_IO_OP_DSM; sqe->cdw12 = 0; sqe->cdw10 = 1;
  sqe->data_len = 16; sqe->cdw11 = NVME_RING_IO_DSM_AD)

#define E(n, e) { #n, bad_##n, e }
static const struct bad bads[] = {
	E(opcode_unknown, EOPNOTSUPP), E(opcode_compare, EOPNOTSUPP),
	E(opcode_vendor, EOPNOTSUPP), E(flags_set, EINVAL),
	E(resv1_set, EINVAL), E(resv2_set, EINVAL), E(timeout_set, EINVAL),
	E(metadata_len, EINVAL), E(metadata_off, EINVAL), E(cdw2_set, EINVAL),
	E(cdw3_set, EINVAL), E(cdw13_set, EINVAL), E(cdw14_set, EINVAL),
	E(cdw15_set, EINVAL), E(cdw12_reserved, EINVAL), E(read_fua, EINVAL),
	E(read_limited_retry, EINVAL), E(read_prinfo, EINVAL),
	E(read_deac, EINVAL), E(read_stc, EINVAL), E(write_deac, EINVAL),
	E(write_dtype, EINVAL), E(write_prinfo, EINVAL),
	E(nsid_other, EINVAL), E(nsid_broadcast, EINVAL),
	E(len_short, EINVAL), E(len_long, EINVAL), E(len_zero, EINVAL),
	E(write_len_long, EINVAL), E(off_misaligned, EINVAL),
	E(off_odd, EINVAL), E(off_half_lba, EINVAL), E(off_past_end, EFAULT),
	E(off_straddles_end, EFAULT), E(write_straddles_end, EFAULT),
	E(off_huge, EFAULT), E(off_wraps, EFAULT), E(len_huge, EINVAL),
	E(len_past_area, EFAULT), E(lba_at_end, ERANGE),
	E(lba_straddles_end, ERANGE), E(write_lba_at_end, ERANGE),
	E(lba_huge, ERANGE), E(lba_max, ERANGE), E(flush_with_data, EINVAL),
	E(zeroes_with_data, EINVAL), E(zeroes_past_end, ERANGE),
	E(dsm_no_ad, EOPNOTSUPP), E(dsm_len_mismatch, EINVAL),
};

/* Run bad descriptor @bd between two good reads; its res. */
static int run_bad(struct __test_metadata *_metadata, struct nt_ctx *c,
		   const struct bad *bd)
{
	struct nvme_ring_io_cqe cqe[3];
	__u32 idx, i;
	int res = 1;

	if (nrio_ring_reserve(&c->sq, 3, &idx) != 3)
		return 1;
	for (i = 0; i < 3; i++)
		nt_prep(nrio_sqe(&c->sq, idx + i), NVME_RING_IO_OP_READ, 0, 8,
			0, 8 * c->lba, 100 + i);
	bd->mutate(nrio_sqe(&c->sq, idx + 1), c);
	nrio_sqe(&c->sq, idx + 1)->user_data = 101;
	nrio_ring_submit(&c->sq, 3);
	EXPECT_EQ(3, nt_submit(c, 0));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, nt_reap(c, &cqe[i]));
		if (cqe[i].user_data == 101) {
			res = cqe[i].res;
		} else {
			EXPECT_EQ((int)(8 * c->lba), cqe[i].res);
		}
	}
	return res;
}

FIXTURE(bad) {
	struct nt_ctx d;
	struct nt_ctx b;
};

FIXTURE_VARIANT(bad) {
	const char *dev;
	int oflags;
};

FIXTURE_VARIANT_ADD(bad, ns1) { .dev = NS1_BLK, .oflags = O_RDWR };
FIXTURE_VARIANT_ADD(bad, ns2) { .dev = NS2_BLK, .oflags = O_RDWR };
FIXTURE_VARIANT_ADD(bad, ns1_readonly) { .dev = NS1_BLK, .oflags = O_RDONLY };

FIXTURE_SETUP(bad)
{
	if (!nt_have(variant->dev))
		SKIP(return, "no %s", variant->dev);
	ASSERT_EQ(0, open_direct(&self->d, variant->dev, variant->oflags,
				 DIRECT));
	ASSERT_EQ(0, open_direct(&self->b, variant->dev, variant->oflags, 0));
}

FIXTURE_TEARDOWN(bad)
{
	nt_close(&self->d);
	nt_close(&self->b);
}

TEST_F(bad, same_errno_as_bios)
{
	unsigned int i, n = sizeof(bads) / sizeof(bads[0]);

	for (i = 0; i < n; i++) {
		int rb = run_bad(_metadata, &self->b, &bads[i]);
		int rd = run_bad(_metadata, &self->d, &bads[i]);
		int want = -bads[i].err;

		/* A read-only fd: a write fails for its mode first or not. */
		EXPECT_EQ(rb, rd) {
			TH_LOG("%s: bio engine %d, direct mode %d",
			       bads[i].name, rb, rd);
		}
		if (variant->oflags == O_RDWR) {
			EXPECT_EQ(want, rd) {
				TH_LOG("%s: expected %d, got %d", bads[i].name,
				       want, rd);
			}
		}
	}
	ASSERT_EQ(0, nt_info(self->d.fd, &self->d.info));
	ASSERT_EQ(0, nt_info(self->b.fd, &self->b.info));
	EXPECT_EQ(n + 0ULL, self->d.info.counters.sq_invalid);
	EXPECT_EQ(self->b.info.counters.sq_invalid,
		  self->d.info.counters.sq_invalid);
	EXPECT_EQ(0, self->d.info.inflight);
}

/* --- NVMe errors: the bio engine's errno, never success --------------- */

/*
 * NVMe errors injected by nvme_core's own fault injection (debugfs
 * <disk>/fault_inject: the completion's status is replaced before the
 * driver looks at it), at depth, so that completions come in batches.
 * 6.12 lets a failed passthrough request into the completion batch, whose
 * end calls end_io with status 0: direct mode must read the NVMe status
 * itself.  Every descriptor fails with the errno the bio engine reports
 * for the same injection (nvme_error_status() -> blk_status_to_errno()),
 * nothing completes with a byte count, and both contexts work once the
 * injection stops.  The debug kernel has the knobs; Debian's kernels have
 * no fault injection at all, and there this skips.
 */
FIXTURE(nvme_err) {
	char knobs[128];	/* /sys/kernel/debug/nvme0n1/fault_inject */
	struct nt_ctx d;	/* direct mode */
	struct nt_ctx b;	/* the bio engine, the reference */
};

FIXTURE_VARIANT(nvme_err) {
	const char *status;	/* the injected NVMe status */
	bool dont_retry;	/* with DNR */
	int err;		/* nvme_error_status()'s errno */
	__u32 flags;		/* extra SETUP flags of both contexts */
};

/* Unrecovered Read Error: BLK_STS_MEDIUM. */
FIXTURE_VARIANT_ADD(nvme_err, read_error) {
	.status = "0x281", .dont_retry = true, .err = ENODATA,
};
/* The same without DNR: the bio engine retries it, then fails alike. */
FIXTURE_VARIANT_ADD(nvme_err, read_error_retried) {
	.status = "0x281", .dont_retry = false, .err = ENODATA,
};
/* Invalid Field in Command: BLK_STS_NOTSUPP. */
FIXTURE_VARIANT_ADD(nvme_err, invalid_field) {
	.status = "0x2", .dont_retry = true, .err = EOPNOTSUPP,
};
/* Internal Error: no mapping of its own, BLK_STS_IOERR. */
FIXTURE_VARIANT_ADD(nvme_err, internal_error) {
	.status = "0x6", .dont_retry = true, .err = EIO,
};
/* Polled completions batch too. */
FIXTURE_VARIANT_ADD(nvme_err, read_error_polled) {
	.status = "0x281", .dont_retry = true, .err = ENODATA,
	.flags = NVME_RING_IO_SETUP_F_IOPOLL,
};

static int nvme_err_knob(struct __test_metadata *_metadata,
			 const char *knobs, const char *name, const char *val)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", knobs, name);
	return nt_write_file(path, val);
}

/* Does this kernel have fault injection in debugfs at all? */
static bool fault_injection_debugfs(void)
{
	return nt_have("/sys/kernel/debug/fail_make_request") ||
	       nt_have("/sys/kernel/debug/failslab") ||
	       nt_have("/sys/kernel/debug/fail_page_alloc");
}

FIXTURE_SETUP(nvme_err)
{
	char real[PATH_MAX];

	self->knobs[0] = 0;
	self->d.fd = self->b.fd = -1;
	if (!nt_have(NS1_BLK) || !realpath(NS1_BLK, real))
		SKIP(return, "no %s", NS1_BLK);
	if (!nt_have("/sys/kernel/debug/block"))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	snprintf(self->knobs, sizeof(self->knobs),
		 "/sys/kernel/debug/%s/fault_inject", strrchr(real, '/') + 1);
	if (!nt_have(self->knobs)) {
		/* nvme_core builds its knobs with FAULT_INJECTION_DEBUG_FS. */
		ASSERT_FALSE(fault_injection_debugfs()) {
			TH_LOG("fault injection in debugfs, but no %s",
			       self->knobs);
		}
		self->knobs[0] = 0;
		SKIP(return, "no fault injection in this kernel");
	}
	ASSERT_EQ(0, open_direct(&self->d, NS1_BLK, O_RDWR,
				 DIRECT | variant->flags));
	ASSERT_EQ(0, open_direct(&self->b, NS1_BLK, O_RDWR, variant->flags));
	/* Quiet (no stack per failure), then every command fails. */
	ASSERT_EQ(0, nvme_err_knob(_metadata, self->knobs, "verbose", "0"));
	ASSERT_EQ(0, nvme_err_knob(_metadata, self->knobs, "status",
				   variant->status));
	ASSERT_EQ(0, nvme_err_knob(_metadata, self->knobs, "dont_retry",
				   variant->dont_retry ? "1" : "0"));
	ASSERT_EQ(0, nvme_err_knob(_metadata, self->knobs, "interval", "1"));
	ASSERT_EQ(0, nvme_err_knob(_metadata, self->knobs, "times", "-1"));
}

FIXTURE_TEARDOWN(nvme_err)
{
	if (self->knobs[0]) {
		nvme_err_knob(_metadata, self->knobs, "probability", "0");
		nvme_err_knob(_metadata, self->knobs, "times", "1");
		nvme_err_knob(_metadata, self->knobs, "status", "0x1");
		nvme_err_knob(_metadata, self->knobs, "dont_retry", "1");
	}
	if (self->d.fd >= 0)
		nt_close(&self->d);
	if (self->b.fd >= 0)
		nt_close(&self->b);
}

/*
 * @n 4 KiB descriptors of @op queued at once on @c, from LBA @slba: how
 * many completed with -@err (the rest are logged).
 */
static unsigned int nvme_err_batch(struct __test_metadata *_metadata,
				   struct nt_ctx *c, __u8 op, __u64 slba,
				   __u32 n, int err, const char *what)
{
	__u32 nlb = 4096 / c->lba, idx, i, failed = 0;
	unsigned char seen[256] = { 0 };
	struct nvme_ring_io_cqe cqe;

	if (n > sizeof(seen) || nrio_ring_reserve(&c->sq, n, &idx) != n)
		return 0;
	for (i = 0; i < n; i++)
		nt_prep(nrio_sqe(&c->sq, idx + i), op, slba + i * nlb, nlb,
			(__u64)i * 4096, 4096, i);
	nrio_ring_submit(&c->sq, n);
	EXPECT_EQ((int)n, nt_submit(c, 0));
	for (i = 0; i < n; i++) {
		if (nt_reap(c, &cqe)) {
			TH_LOG("%s: %u of %u completed", what, i, n);
			break;
		}
		if (cqe.user_data >= n || seen[cqe.user_data]++) {
			TH_LOG("%s: stray completion %llu", what,
			       (unsigned long long)cqe.user_data);
			continue;
		}
		if (cqe.res == -err) {
			failed++;
		} else {
			TH_LOG("%s %llu: res %d, expected %d", what,
			       (unsigned long long)cqe.user_data, cqe.res,
			       -err);
		}
	}
	return failed;
}

TEST_F(nvme_err, batched_failures_fail)
{
	const __u32 n = 48;	/* SQ 64: all queued at once */
	struct nt_ctx *ctx[2] = { &self->d, &self->b };
	const char *name[2] = { "direct", "bio" };
	__u64 slba = self->d.info.nr_lbas / 2;
	unsigned int e, k;
	__u64 done[2];

	for (e = 0; e < 2; e++) {
		ASSERT_EQ(0, nt_info(ctx[e]->fd, &ctx[e]->info));
		done[e] = ctx[e]->info.counters.completed;
	}
	ASSERT_EQ(0, nvme_err_knob(_metadata, self->knobs, "probability",
				   "100"));
	for (k = 0; k < 2; k++) {
		__u8 op = k ? NVME_RING_IO_OP_WRITE : NVME_RING_IO_OP_READ;

		for (e = 0; e < 2; e++) {
			char what[32];

			snprintf(what, sizeof(what), "%s %s", name[e],
				 k ? "WRITE" : "READ");
			nt_fill(ctx[e]->data, n * 4096, 31 + k);
			EXPECT_EQ(n, nvme_err_batch(_metadata, ctx[e], op,
						    slba, n, variant->err,
						    what));
			ASSERT_EQ(0, nt_info(ctx[e]->fd, &ctx[e]->info));
			done[e] += n;
			EXPECT_EQ(done[e], ctx[e]->info.counters.completed);
			/* Device errors, not bad descriptors. */
			EXPECT_EQ(0, ctx[e]->info.counters.sq_invalid);
			EXPECT_EQ(0, ctx[e]->info.inflight);
		}
	}

	/* The injection stops: both engines work on. */
	ASSERT_EQ(0, nvme_err_knob(_metadata, self->knobs, "probability",
				   "0"));
	nt_fill(self->d.data, 4096, 35);
	EXPECT_EQ(4096, nt_rw_sync(&self->d, NVME_RING_IO_OP_WRITE, slba,
				   4096 / self->d.lba, 0));
	memset(self->b.data, 0, 4096);
	EXPECT_EQ(4096, nt_rw_sync(&self->b, NVME_RING_IO_OP_READ, slba,
				   4096 / self->b.lba, 0));
	EXPECT_EQ(0, nt_check(self->b.data, 4096, 35));
}

/* --- permissions ------------------------------------------------------ */

TEST(readonly_fd_never_writes)
{
	const char *devs[] = { NS1_BLK, NS1_CHR, NS2_BLK };
	struct nt_ctx w, c;
	unsigned int d;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	for (d = 0; d < 3; d++) {
		__u32 lba;

		if (!nt_have(devs[d]))
			continue;
		ASSERT_EQ(0, open_direct(&w, devs[d], O_RDWR, DIRECT));
		lba = w.lba;
		nt_fill(w.data, 8 * lba, 0x42 + d);
		ASSERT_EQ((int)(8 * lba),
			  nt_rw_sync(&w, NVME_RING_IO_OP_WRITE, 200, 8, 0));
		ASSERT_EQ(0, open_direct(&c, devs[d], O_RDONLY, DIRECT));
		EXPECT_TRUE(c.info.flags & NVME_RING_IO_INFO_F_DIRECT);
		EXPECT_EQ(NVME_RING_IO_INFO_F_READ,
			  c.info.flags & (NVME_RING_IO_INFO_F_READ |
					  NVME_RING_IO_INFO_F_WRITE));
		/* Writes fail with EBADF, FUA or not, and write nothing. */
		memset(c.data, 0x11, 8 * lba);
		EXPECT_EQ(-EBADF,
			  nt_rw_sync(&c, NVME_RING_IO_OP_WRITE, 200, 8, 0));
		memset(c.data, 0, 8 * lba);
		EXPECT_EQ((int)(8 * lba),
			  nt_rw_sync(&c, NVME_RING_IO_OP_READ, 200, 8, 0));
		EXPECT_EQ(0, nt_check(c.data, 8 * lba, 0x42 + d));
		nt_close(&c);
		nt_close(&w);
	}
}

/* --- lifetime --------------------------------------------------------- */

FIXTURE(inflight) {
	int base;
};

FIXTURE_VARIANT(inflight) {
	__u32 flags;
	bool do_munmap_first;
};

FIXTURE_VARIANT_ADD(inflight, irq) { .flags = DIRECT };
FIXTURE_VARIANT_ADD(inflight, poll) {
	.flags = DIRECT | NVME_RING_IO_SETUP_F_IOPOLL,
};
FIXTURE_VARIANT_ADD(inflight, irq_munmap) {
	.flags = DIRECT, .do_munmap_first = true,
};

FIXTURE_SETUP(inflight)
{
	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	self->base = nt_refcnt_settled();
}

FIXTURE_TEARDOWN(inflight)
{
}

/* Close (and exit) with hundreds of direct requests in flight. */
TEST_F(inflight, close_with_io_in_flight)
{
	unsigned int round;

	for (round = 0; round < 4; round++) {
		struct nt_ctx c;
		__u32 idx, i, n;
		pid_t pid;
		int st;

		ASSERT_EQ(0, nt_open_flags(&c, NS1_BLK, O_RDWR, 256, 512,
					   DATA_SIZE, variant->flags));
		n = nrio_ring_reserve(&c.sq, 256, &idx);
		ASSERT_EQ(256, n);
		for (i = 0; i < n; i++)
			nt_prep(nrio_sqe(&c.sq, idx + i),
				(i & 1) ? NVME_RING_IO_OP_WRITE :
					  NVME_RING_IO_OP_READ,
				1000 + i * 16, 16, (__u64)i * 16 * c.lba,
				16 * c.lba, i);
		nrio_ring_submit(&c.sq, n);
		if (round & 1) {
			/*
			 * A child submits and exits, so the I/O outlives its
			 * submitter as well as the context's files.
			 */
			pid = fork();
			ASSERT_GE(pid, 0);
			if (!pid)
				_exit(nt_submit(&c, 0) == (int)n ? 0 : 1);
			ASSERT_EQ(pid, waitpid(pid, &st, 0));
			EXPECT_EQ(0, st);
		} else {
			ASSERT_EQ((int)n, nt_submit(&c, 0));
		}
		if (variant->do_munmap_first) {
			munmap(c.region, c.s.off.region_size);
			c.region = NULL;
		}
		nt_close(&c);
	}
	EXPECT_TRUE(nt_refcnt_settles(self->base, 10000)) {
		TH_LOG("module references: %d, before %d", nt_mod_refcnt(),
		       self->base);
	}
}

/*
 * A controller reset with direct requests in flight: nvme_core cancels
 * what the controller holds and, since direct mode keeps retries
 * (REQ_FAILFAST_DRIVER cleared), requeues it once the controller is back,
 * as it does bios.  Each read completes with all its bytes, the data are
 * right, and the context works on after the reset.  (Reads that finish
 * before the reset reaches the controller prove nothing, and fail
 * nothing either.)
 */
TEST(controller_reset_with_io_in_flight)
{
	struct nvme_ring_io_cqe cqe;
	char dev[PATH_MAX], path[96];
	__u32 n = 64, nlb, i, idx;	/* the whole SQ ring */
	unsigned int ctrl, round;
	struct nt_ctx c;
	__u64 slba;

	if (!nt_have(NS1_BLK) || !realpath(NS1_BLK, dev) ||
	    sscanf(dev, "/dev/nvme%un", &ctrl) != 1)
		SKIP(return, "no %s", NS1_BLK);
	snprintf(path, sizeof(path), "/sys/class/nvme/nvme%u/reset_controller",
		 ctrl);
	ASSERT_EQ(0, open_direct(&c, NS1_BLK, O_RDWR, DIRECT));
	nlb = 4096 / c.lba;
	slba = c.info.nr_lbas / 4;
	nt_fill(c.data, n * 4096, 21);
	for (i = 0; i < n; i++)
		ASSERT_EQ(4096, nt_rw_sync(&c, NVME_RING_IO_OP_WRITE,
					   slba + i * nlb, nlb,
					   (__u64)i * 4096));
	for (round = 0; round < 2; round++) {
		memset(c.data, 0, n * 4096);
		ASSERT_EQ(n, nrio_ring_reserve(&c.sq, n, &idx));
		for (i = 0; i < n; i++)
			nt_prep(nrio_sqe(&c.sq, idx + i), NVME_RING_IO_OP_READ,
				slba + i * nlb, nlb, (__u64)i * 4096, 4096, i);
		nrio_ring_submit(&c.sq, n);
		ASSERT_EQ((int)n, nt_submit(&c, 0));
		/* The first round resets; the second runs after it. */
		if (!round)
			ASSERT_EQ(0, nt_write_file(path, "1"));
		for (i = 0; i < n; i++) {
			ASSERT_EQ(0, nt_reap(&c, &cqe));
			EXPECT_EQ(4096, cqe.res) {
				TH_LOG("round %u read %llu: %d", round,
				       (unsigned long long)cqe.user_data,
				       cqe.res);
			}
		}
		EXPECT_EQ(0, nt_check(c.data, n * 4096, 21));
	}
	nt_close(&c);
}

/* --- where direct mode is refused ------------------------------------- */

TEST(unified_device_refuses_direct)
{
	struct unified_io_setup s;
	int fd, nfd;

	if (!nt_have(NS1_BLK) || !nt_have(UNIFIED_IO_DEVPATH))
		SKIP(return, "no %s or %s", NS1_BLK, UNIFIED_IO_DEVPATH);
	fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	nfd = open(NS1_BLK, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_GE(nfd, 0);
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.flags = DIRECT;
	s.sq_entries = 8;
	s.region_size = 4 * MiB;
	s.nvme_fd = nfd;
	s.numa_node = -1;
	EXPECT_EQ(-1, ioctl(fd, UNIFIED_IO_SETUP, &s));
	EXPECT_EQ(EINVAL, errno);
	close(nfd);
	close(fd);
}

/* An nvmet namespace of its own, over nvmet-tcp on 127.0.0.1. */
static const struct nrio_target_cfg direct_target = {
	.nqn		= "nrio-direct",
	.nullb_name	= "nriodirect",
	.port		= 10,
	.trsvcid	= 4430,
	.size_mb	= 64,
	.memory_backed	= true,
};

static bool multipath_on(void)
{
	char buf[8] = "";

	return !nrio_target_read("/sys/module/nvme_core/parameters/multipath",
				 buf, sizeof(buf)) && buf[0] == 'Y';
}

FIXTURE(target) {
	struct nrio_target t;
};

FIXTURE_SETUP(target)
{
	if (!nrio_target_available())
		SKIP(return, "needs nvmet, null_blk configfs and nvme-fabrics");
	ASSERT_EQ(0, nrio_target_setup(&self->t, &direct_target)) {
		TH_LOG("%s", self->t.failed);
	}
	ASSERT_NE(0, self->t.dev[0]);
}

FIXTURE_TEARDOWN(target)
{
	nrio_target_cleanup(&direct_target);
}

/*
 * nvmet's subsystems allow several controllers, so with multipath on the
 * namespace is a head (bio-based) in front of a hidden path: EOPNOTSUPP,
 * and the context stays usable for another SETUP.  Without multipath the
 * namespace is the path itself and direct mode works.
 */
TEST_F(target, multipath_head)
{
	struct nt_ctx c;
	int ret;

	ret = open_direct(&c, self->t.dev, O_RDWR, DIRECT);
	if (!multipath_on()) {
		ASSERT_EQ(0, ret);
		EXPECT_TRUE(c.info.flags & NVME_RING_IO_INFO_F_DIRECT);
		nt_fill(c.data, 4096, 3);
		EXPECT_EQ(4096, nt_rw_sync(&c, NVME_RING_IO_OP_WRITE, 0,
					   4096 / c.lba, 0));
		nt_close(&c);
		SKIP(return, "nvme_core.multipath=N: no head to refuse");
	}
	EXPECT_EQ(-EOPNOTSUPP, ret);
	/* The bio engine takes the same namespace. */
	ASSERT_EQ(0, open_direct(&c, self->t.dev, O_RDWR, 0));
	EXPECT_FALSE(c.info.flags & NVME_RING_IO_INFO_F_DIRECT);
	nt_fill(c.data, 4096, 3);
	EXPECT_EQ(4096, nt_rw_sync(&c, NVME_RING_IO_OP_WRITE, 0,
				   4096 / c.lba, 0));
	nt_close(&c);
}

/* A refused SETUP leaves the context as it was: SETUP again works. */
TEST_F(target, refused_setup_leaves_context)
{
	struct nvme_ring_io_setup s;
	struct nvme_ring_io_info info;
	int fd, nfd, nfd2;

	if (!multipath_on())
		SKIP(return, "nvme_core.multipath=N");
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	nfd = open(self->t.dev, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_GE(nfd, 0);
	nt_setup_args(&s, nfd, 8, 0, 1 * MiB);
	s.flags = DIRECT;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_SETUP, &s));
	EXPECT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(0, nt_info(fd, &info));
	EXPECT_EQ(0, info.flags);
	if (nt_have(NS1_BLK)) {
		nfd2 = open(NS1_BLK, O_RDWR | O_CLOEXEC);
		ASSERT_GE(nfd2, 0);
		nt_setup_args(&s, nfd2, 8, 0, 1 * MiB);
		s.flags = DIRECT;
		EXPECT_EQ(0, ioctl(fd, NVME_RING_IO_SETUP, &s));
		ASSERT_EQ(0, nt_info(fd, &info));
		EXPECT_TRUE(info.flags & NVME_RING_IO_INFO_F_DIRECT);
		close(nfd2);
	}
	close(nfd);
	close(fd);
}

TEST_HARNESS_MAIN
