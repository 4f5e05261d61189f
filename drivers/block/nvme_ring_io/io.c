// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: the NVMe engine.
 *
 * nrio_issue() takes a descriptor the device has read once, field by
 * field, into a private copy (struct nrio_desc), validates it, and turns
 * it into bios built directly on the region's pages: no pinning per I/O
 * (the region is pinned for its whole life), one bvec per physically
 * contiguous run (a whole 2 MiB folio can be one bvec), under the
 * consumer's plug.  Reads and writes take their bio from the bio set's
 * per-CPU cache where the kernel allows (nrio_bio_cache_opf()), so that
 * in the steady state nothing is allocated at all; a bio with more than
 * BIO_INLINE_VECS runs also takes its bvec array from the bioset's pool,
 * and DSM copies its range list.  A READ or WRITE of a direct-mode
 * context goes as one NVMe command where it can (direct.c); the I/O's
 * life and end are inflight.c's.
 *
 * A CQ slot is reserved for every descriptor before it is consumed, so the
 * completion path (bio end_io, any context) always has room and never drops
 * an entry.  A descriptor that fails validation completes at once with a
 * negative errno and counts in sq_invalid.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/slab.h>

#include "compat.h"
#include "direct.h"
#include "io.h"
#include "region.h"

static void nrio_end_io(struct bio *bio)
{
	struct nrio_io *io = container_of(bio, struct nrio_io, bio);

	if (unlikely(bio->bi_status == BLK_STS_AGAIN) &&
	    atomic_cmpxchg(&io->nowait, NRIO_NOWAIT_SUBMITTING,
			   NRIO_NOWAIT_BOUNCED) == NRIO_NOWAIT_SUBMITTING)
		return;
	nrio_io_done(io, bio->bi_status);
}

/* Make @bio the one whose completion completes descriptor @d. */
static void nrio_own(struct nrio_ctx *ctx, const struct nrio_desc *d,
		     struct bio *bio, u32 bytes)
{
	nrio_io_start(ctx, d, bio, bytes);
	bio->bi_end_io = nrio_end_io;
}

/*
 * Send @bio, owned by descriptor @d (nrio_own()), polled or not.  With
 * d->nowait it goes with REQ_NOWAIT: 0 when the block layer took it,
 * -EAGAIN when it refused it rather than wait; the bio is then freed and
 * nothing of the descriptor remains (it was not consumed).
 */
static int nrio_send(struct nrio_ctx *ctx, const struct nrio_desc *d,
		     struct bio *bio, bool polled)
{
	struct nrio_io *io = container_of(bio, struct nrio_io, bio);
	bool bounced;

	if (polled)
		nrio_add_polled(ctx, io);
	if (!d->nowait) {
		submit_bio(bio);
		return 0;
	}
	bio->bi_opf |= REQ_NOWAIT;
	atomic_set(&io->nowait, NRIO_NOWAIT_SUBMITTING);
	/* Its completion may come before submit_bio() returns: hold it. */
	bio_get(bio);
	submit_bio(bio);
	bounced = atomic_xchg(&io->nowait, NRIO_NOWAIT_NONE) ==
		  NRIO_NOWAIT_BOUNCED;
	if (bounced) {
		/* nrio_end_io() left all of it to us. */
		if (polled) {
			spin_lock_irq(&ctx->cq_lock);
			list_del(&io->poll_node);
			spin_unlock_irq(&ctx->cq_lock);
		}
		/* Not the last: the submitter's file holds one. */
		refcount_dec(&ctx->ref);
		bio_put(bio);
	}
	bio_put(bio);
	return bounced ? -EAGAIN : 0;
}

static struct bio *nrio_alloc_parent(struct nrio_ctx *ctx,
				     const struct nrio_desc *d,
				     struct block_device *bdev, blk_opf_t opf)
{
	struct bio *bio = nrio_alloc(bdev, 0, opf, d->nowait);

	if (bio)
		nrio_own(ctx, d, bio, 0);
	return bio;
}

static int nrio_check_lba(const struct nrio_ns *ns, u64 slba, u64 nlb)
{
	u64 cap = bdev_nr_sectors(ns->bdev) >> (ns->lba_shift - SECTOR_SHIFT);

	if (slba >= cap || nlb > cap - slba)
		return -ERANGE;
	return 0;
}

static int nrio_check_write(const struct nrio_ns *ns)
{
	if (!ns->can_write)
		return -EBADF;
	if (bdev_read_only(ns->bdev))
		return -EROFS;
	return 0;
}

static int nrio_rw(struct nrio_ctx *ctx, const struct nrio_desc *d)
{
	struct nrio_region *region = ctx->region;
	struct nrio_ns *ns = &ctx->ns;
	bool write = d->opcode == NVME_RING_IO_OP_WRITE;
	u64 slba = d->cdw10 | (u64)d->cdw11 << 32;
	u32 nlb = (d->cdw12 & NVME_RING_IO_RW_NLB_MASK) + 1;
	struct nrio_region_iter it;
	struct bio *bio, *first;
	struct page *page;
	unsigned short nr;
	u32 pg_off, run;
	blk_opf_t opf;
	sector_t sector;
	bool polled;
	int ret;

	if (d->cdw12 & ~(NVME_RING_IO_RW_NLB_MASK | NVME_RING_IO_RW_FUA))
		return -EINVAL;
	if (write) {
		ret = nrio_check_write(ns);
		if (ret)
			return ret;
		opf = REQ_OP_WRITE | REQ_SYNC | REQ_IDLE;
	} else {
		if (!ns->can_read)
			return -EBADF;
		opf = REQ_OP_READ;
	}
	if (d->cdw12 & NVME_RING_IO_RW_FUA) {
		/* The block layer has no FUA read. */
		if (!write)
			return -EINVAL;
		opf |= REQ_FUA;
	}
	if (d->data_len != (u64)nlb << ns->lba_shift)
		return -EINVAL;
	if (d->data_off & ctx->data_align_mask)
		return -EINVAL;
	ret = nrio_region_check(region, d->data_off, d->data_len);
	if (ret)
		return ret;
	nrio_region_iter_init(&it, region, d->data_off, d->data_len);
	/*
	 * Data that does not start on an LBA boundary (the unified device)
	 * must fit one bio: a chained bio ends on a page boundary, which is
	 * then no LBA boundary, and 6.1 would shift the rest of the transfer.
	 */
	if ((d->data_off & ((1U << ns->lba_shift) - 1)) &&
	    nrio_region_count(&it, true, BIO_MAX_VECS + 1) > BIO_MAX_VECS)
		return -EINVAL;
	ret = nrio_check_lba(ns, slba, nlb);
	if (ret)
		return ret;

	/* Validated: direct mode sends it as one command if it can. */
	if (ns->init_rq && !d->end_io && nrio_rw_direct(ctx, d, slba, nlb))
		return 0;

	sector = slba << (ns->lba_shift - SECTOR_SHIFT);
	nr = nrio_region_count(&it, true, BIO_MAX_VECS + 1);
	/*
	 * Only an unchained bio is polled (a bio chain may span queues), and
	 * no step of a descriptor chain: its completion starts the next.
	 * Only a bio issued polled may come from the bio cache on 6.1.
	 */
	polled = ctx->polled && !d->end_io && nr <= BIO_MAX_VECS;
	/* One bio at most goes with REQ_NOWAIT: the rest would wait. */
	if (d->nowait && nr > BIO_MAX_VECS)
		return -EAGAIN;
	opf |= nrio_bio_cache_opf(polled);
	first = bio = nrio_alloc(ns->bdev, min_t(unsigned int, nr, BIO_MAX_VECS),
				 opf, d->nowait);
	if (!bio)
		return -EAGAIN;
	bio->bi_iter.bi_sector = sector;
	while (nrio_region_next(&it, true, &page, &pg_off, &run)) {
		struct bio *next;

		if (bio_add_page(bio, page, run, pg_off) == run)
			continue;
		/*
		 * Full (more runs than BIO_MAX_VECS): chain on a new bio,
		 * which takes this run and what follows, and send the full
		 * one, as blk_next_bio() does.  The last bio completes the
		 * descriptor.
		 */
		next = nrio_alloc(ns->bdev,
				  1 + nrio_region_count(&it, true,
							BIO_MAX_VECS - 1),
				  opf, false);
		next->bi_iter.bi_sector = bio_end_sector(bio);
		bio_chain(bio, next);
		submit_bio(bio);
		bio = next;
		__bio_add_page(bio, page, run, pg_off);
	}
	nrio_own(ctx, d, bio, d->data_len);
	return nrio_send(ctx, d, bio, polled && bio == first);
}

static int nrio_flush(struct nrio_ctx *ctx, const struct nrio_desc *d)
{
	struct bio *bio;

	if (d->data_len || d->data_off || d->cdw10 || d->cdw11 || d->cdw12)
		return -EINVAL;
	bio = nrio_alloc_parent(ctx, d, ctx->ns.bdev,
				REQ_OP_WRITE | REQ_PREFLUSH);
	if (!bio)
		return -EAGAIN;
	return nrio_send(ctx, d, bio, false);
}

static int nrio_write_zeroes(struct nrio_ctx *ctx, const struct nrio_desc *d)
{
	struct nrio_ns *ns = &ctx->ns;
	u64 slba = d->cdw10 | (u64)d->cdw11 << 32;
	u32 nlb = (d->cdw12 & NVME_RING_IO_RW_NLB_MASK) + 1;
	blk_opf_t opf = REQ_OP_WRITE_ZEROES;
	struct bio *bio;
	int ret;

	if (d->cdw12 & ~(NVME_RING_IO_RW_NLB_MASK | NVME_RING_IO_RW_DEAC))
		return -EINVAL;
	if (d->data_len || d->data_off)
		return -EINVAL;
	ret = nrio_check_write(ns);
	if (ret)
		return ret;
	if (!bdev_write_zeroes_sectors(ns->bdev))
		return -EOPNOTSUPP;
	ret = nrio_check_lba(ns, slba, nlb);
	if (ret)
		return ret;
	if (!(d->cdw12 & NVME_RING_IO_RW_DEAC))
		opf |= REQ_NOUNMAP;

	/* bi_size is 32 bits: 65536 LBAs of 64 KiB would not fit. */
	if ((u64)nlb << ns->lba_shift > UINT_MAX)
		return -EINVAL;

	bio = nrio_alloc_parent(ctx, d, ns->bdev, opf);
	if (!bio)
		return -EAGAIN;
	bio->bi_iter.bi_sector = slba << (ns->lba_shift - SECTOR_SHIFT);
	bio->bi_iter.bi_size = nlb << ns->lba_shift;
	return nrio_send(ctx, d, bio, false);
}

#define NRIO_DSM_MAX_RANGES	256
#define NRIO_DSM_ATTR_MASK	(NVME_RING_IO_DSM_AD | 0x3)	/* AD, IDW, IDR */

/* DSM with the deallocate attribute: one discard per range. */
static int nrio_dsm(struct nrio_ctx *ctx, const struct nrio_desc *d)
{
	struct nrio_region *region = ctx->region;
	struct nrio_ns *ns = &ctx->ns;
	unsigned int nr = (d->cdw10 & 0xff) + 1, i;
	unsigned int shift = ns->lba_shift - SECTOR_SHIFT;
	struct nrio_dsm { u64 slba; u32 nlb; } *r;
	struct bio *parent, *chain = NULL;
	struct nrio_region_iter it;
	struct page *page;
	u32 pg_off, len;
	int ret;

	if ((d->cdw10 & ~0xffU) || (d->cdw11 & ~NRIO_DSM_ATTR_MASK) ||
	    d->cdw12)
		return -EINVAL;
	if (!(d->cdw11 & NVME_RING_IO_DSM_AD))
		return -EOPNOTSUPP;
	/* Its range list and discards allocate and may wait. */
	if (d->nowait)
		return -EAGAIN;
	if (d->data_len != nr * sizeof(struct nvme_ring_io_dsm_range) ||
	    !IS_ALIGNED(d->data_off, sizeof(struct nvme_ring_io_dsm_range)))
		return -EINVAL;
	ret = nrio_region_check(region, d->data_off, d->data_len);
	if (ret)
		return ret;
	ret = nrio_check_write(ns);
	if (ret)
		return ret;
	if (!bdev_max_discard_sectors(ns->bdev))
		return -EOPNOTSUPP;

	/* Copy the list once, then validate the copy. */
	r = kmalloc_array(nr, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	/* Aligned to their size, no range straddles a page. */
	i = 0;
	nrio_region_iter_init(&it, region, d->data_off, d->data_len);
	while (nrio_region_next(&it, false, &page, &pg_off, &len)) {
		const struct nvme_ring_io_dsm_range *src;
		void *va = kmap_local_page(page);

		for (src = va + pg_off; len; len -= sizeof(*src), src++, i++) {
			r[i].nlb = le32_to_cpu(READ_ONCE(src->nlb));
			r[i].slba = le64_to_cpu(READ_ONCE(src->slba));
			ret = nrio_check_lba(ns, r[i].slba, r[i].nlb);
			if (ret && r[i].nlb)
				break;
		}
		kunmap_local(va);
		if (len)
			goto out;
	}

	ret = 0;
	parent = nrio_alloc_parent(ctx, d, NULL, REQ_OP_DISCARD);
	for (i = 0; i < nr; i++) {
		int err;

		if (!r[i].nlb)
			continue;
		err = __blkdev_issue_discard(ns->bdev, r[i].slba << shift,
					     (sector_t)r[i].nlb << shift,
					     GFP_KERNEL, &chain);
		if (err) {
			parent->bi_status = errno_to_blk_status(err);
			break;
		}
	}
	if (chain) {
		bio_chain(chain, parent);
		submit_bio(chain);
	}
	/* The parent is never submitted: drop its own count. */
	bio_endio(parent);
out:
	kfree(r);
	return ret;
}

/*
 * May a descriptor of @opcode be issued with IO_URING_F_NONBLOCK, with
 * REQ_NOWAIT and nothing that sleeps?  Only READ and WRITE: DSM allocates
 * its range list and discard bios and waits for them; the block layer
 * splits a large WRITE ZEROES whatever REQ_NOWAIT says (bio_split() may
 * wait on its mempool, and one half could write while the other is
 * refused); a FLUSH (REQ_PREFLUSH without REQ_SYNC | REQ_IDLE) may wait in
 * write-back throttling.  An opcode the engine does not know fails at
 * once wherever it is issued.
 */
bool nrio_nowait_opcode(u8 opcode)
{
	return opcode == NVME_RING_IO_OP_READ ||
	       opcode == NVME_RING_IO_OP_WRITE;
}

/*
 * Validate and start descriptor @d: 0 when it is in flight, else the
 * errno it completes with; with d->nowait also -EAGAIN when it cannot
 * start without waiting, and then nothing of it remains (not consumed).
 */
int nrio_issue(struct nrio_ctx *ctx, const struct nrio_desc *d)
{
	if (d->flags || d->resv1 || d->resv2 || d->timeout_ms ||
	    d->metadata_off || d->metadata_len)
		return -EINVAL;

	switch (d->opcode) {
	case NVME_RING_IO_OP_READ:
	case NVME_RING_IO_OP_WRITE:
	case NVME_RING_IO_OP_FLUSH:
	case NVME_RING_IO_OP_WRITE_ZEROES:
	case NVME_RING_IO_OP_DSM:
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (d->cdw2 || d->cdw3 || d->cdw13 || d->cdw14 || d->cdw15)
		return -EINVAL;
	if (d->nsid && d->nsid != ctx->ns.nsid)
		return -EINVAL;

	switch (d->opcode) {
	case NVME_RING_IO_OP_READ:
	case NVME_RING_IO_OP_WRITE:
		return nrio_rw(ctx, d);
	case NVME_RING_IO_OP_FLUSH:
		return nrio_flush(ctx, d);
	case NVME_RING_IO_OP_WRITE_ZEROES:
		return nrio_write_zeroes(ctx, d);
	default:
		return nrio_dsm(ctx, d);
	}
}
