// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: the NVMe engine.
 *
 * nrio_issue() takes a descriptor the device has read once, field by
 * field, into a private copy (struct nrio_desc), validates it, and turns
 * it into bios built directly on the region's pages: no pinning per I/O
 * (the region is pinned for its whole life), one bvec per physically
 * contiguous run (a whole 2 MiB folio can be one bvec), under the
 * consumer's plug.  The one allocation per I/O is
 * the bio from nrio_bio_set, front-padded with struct nrio_io.  Reads and
 * writes take it from the bio set's per-CPU cache where the kernel allows
 * (nrio_bio_cache_opf()), so that in the steady state nothing is
 * allocated at all; a bio with more than BIO_INLINE_VECS runs also takes
 * its bvec array from the bioset's pool, and DSM copies its range list.
 *
 * Direct mode (NVME_RING_IO_SETUP_F_DIRECT) sends a validated READ or
 * WRITE that fits one NVMe command as a passthrough request on the
 * namespace's own queue instead (nrio_rw_direct()); the rest stays bios.
 *
 * A CQ slot is reserved for every descriptor before it is consumed, so the
 * completion path (bio end_io, any context) always has room and never drops
 * an entry.  A descriptor that fails validation completes at once with a
 * negative errno and counts in sq_invalid.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/nvme.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "io.h"
#include "nvme_req.h"
#include "region.h"
#include "ring.h"
#include "wait.h"

static struct bio_set nrio_bio_set;

int nrio_io_init(void)
{
	return bioset_init(&nrio_bio_set, BIO_POOL_SIZE,
			   offsetof(struct nrio_io, bio),
			   BIOSET_NEED_BVECS | BIOSET_PERCPU_CACHE);
}

void nrio_io_exit(void)
{
	bioset_exit(&nrio_bio_set);
}

/*
 * Direct mode's preallocated I/O (struct nrio_dio): @nr of them, all free.
 * SETUP of a direct context, before the region is published.
 */
int nrio_dio_alloc(struct nrio_ctx *ctx, u32 nr)
{
	u32 i;

	ctx->dios = kvcalloc(nr, sizeof(*ctx->dios), GFP_KERNEL_ACCOUNT);
	if (!ctx->dios)
		return -ENOMEM;
	init_llist_head(&ctx->dio_free);
	ctx->dio_cache = NULL;
	for (i = 0; i < nr; i++)
		llist_add(&ctx->dios[i].node, &ctx->dio_free);
	return 0;
}

/* The context is going: no I/O holds it, so none is in flight. */
void nrio_dio_free(struct nrio_ctx *ctx)
{
	kvfree(ctx->dios);
	ctx->dios = NULL;
}

/*
 * A free preallocated I/O, or NULL.  Only SUBMIT takes them, under
 * ctx->lock, so dio_cache needs no more; completions give them back to
 * dio_free, which is taken whole when dio_cache runs dry.
 */
static struct nrio_dio *nrio_dio_get(struct nrio_ctx *ctx)
{
	struct llist_node *node = ctx->dio_cache;

	lockdep_assert_held(&ctx->lock);
	if (!node)
		node = llist_del_all(&ctx->dio_free);
	if (!node)
		return NULL;
	ctx->dio_cache = node->next;
	return container_of(node, struct nrio_dio, node);
}

/* Give @io's struct nrio_dio back, from any context. */
static void nrio_dio_put(struct nrio_ctx *ctx, struct nrio_io *io)
{
	struct nrio_dio *dio = container_of(io, struct nrio_dio, io);

	bio_uninit(&io->bio);
	llist_add(&dio->node, &ctx->dio_free);
}

/*
 * A descriptor's I/O is done with @status, whichever way it went (a bio,
 * or a direct-mode request): post it, or hand it to its owner's end_io
 * (a chain's step), then drop the bio and the context reference the I/O
 * held.
 */
static void nrio_io_done(struct nrio_io *io, blk_status_t status)
{
	struct nrio_ctx *ctx = io->ctx;
	int res = io->bytes;

	if (status)
		res = blk_status_to_errno(status);
	if (io->end_io)
		io->end_io(io->end_data, io->user_data, res);	/* never polled */
	else
		/* Off the poll list before the bio can go: a poller holds it. */
		nrio_cq_post_full(ctx, io->user_data, res, false,
				  io->polled ? &io->poll_node : NULL,
				  NRIO_DATA_IN_PLACE, 0);
	/* Before the reference: the context owns the preallocated I/O. */
	if (io->dio)
		nrio_dio_put(ctx, io);
	else
		nrio_bio_put(&io->bio);
	nrio_ctx_put(ctx);
}

/*
 * io->nowait: a bio sent with REQ_NOWAIT (IO_URING_F_NONBLOCK) that the
 * block layer refuses rather than wait (no tag, a frozen queue, a split)
 * is ended with BLK_STS_AGAIN inside submit_bio(), before anything moved:
 * then the submitter takes it back and the descriptor stays in the SQ.
 */
enum {
	NRIO_NOWAIT_NONE,
	NRIO_NOWAIT_SUBMITTING,	/* inside submit_bio() */
	NRIO_NOWAIT_BOUNCED,	/* refused there: the submitter's again */
};

static void nrio_end_io(struct bio *bio)
{
	struct nrio_io *io = container_of(bio, struct nrio_io, bio);

	if (unlikely(bio->bi_status == BLK_STS_AGAIN) &&
	    atomic_cmpxchg(&io->nowait, NRIO_NOWAIT_SUBMITTING,
			   NRIO_NOWAIT_BOUNCED) == NRIO_NOWAIT_SUBMITTING)
		return;
	nrio_io_done(io, bio->bi_status);
}

/*
 * A direct-mode request's end: the block layer has ended its bio already
 * (which has no end_io of its own) and frees the request when this
 * returns.  @status alone can say success for a failed command (6.12's
 * completion batches): nrio_rq_status() reads the NVMe status too.
 */
static enum rq_end_io_ret nrio_rq_end_io(struct request *rq,
					 blk_status_t status)
{
	nrio_io_done(rq->end_io_data, nrio_rq_status(rq, status));
	return RQ_END_IO_FREE;
}

/*
 * bio_alloc_bioset() with GFP_KERNEL waits on the bio set's mempool rather
 * than fail, and nr_vecs never exceeds BIO_MAX_VECS.  With @nowait it
 * waits for nothing and may fail: NULL.
 */
static struct bio *nrio_alloc(struct block_device *bdev,
			      unsigned short nr_vecs, blk_opf_t opf,
			      bool nowait)
{
	return bio_alloc_bioset(bdev, nr_vecs, opf,
				nowait ? GFP_NOWAIT | __GFP_NOWARN : GFP_KERNEL,
				&nrio_bio_set);
}

/* The I/O state of @bio: descriptor @d, the context's reference. */
static struct nrio_io *nrio_io_start(struct nrio_ctx *ctx,
				     const struct nrio_desc *d,
				     struct bio *bio, u32 bytes)
{
	struct nrio_io *io = container_of(bio, struct nrio_io, bio);

	io->ctx = ctx;
	io->end_io = d->end_io;
	io->end_data = d->end_data;
	io->user_data = d->user_data;
	io->bytes = bytes;
	io->polled = false;
	io->dio = false;
	atomic_set(&io->nowait, NRIO_NOWAIT_NONE);
	refcount_inc(&ctx->ref);
	return io;
}

/* Make @bio the one whose completion completes descriptor @d. */
static void nrio_own(struct nrio_ctx *ctx, const struct nrio_desc *d,
		     struct bio *bio, u32 bytes)
{
	nrio_io_start(ctx, d, bio, bytes);
	bio->bi_end_io = nrio_end_io;
}

/*
 * Put polled I/O on the poll list (oldest first) before it can complete,
 * so that a poller always finds the oldest I/O in flight.
 */
static void nrio_add_polled(struct nrio_ctx *ctx, struct nrio_io *io)
{
	io->bio.bi_opf |= REQ_POLLED;
	io->polled = true;
	spin_lock_irq(&ctx->cq_lock);
	list_add_tail(&io->poll_node, &ctx->poll_list);
	spin_unlock_irq(&ctx->cq_lock);
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

/*
 * Direct mode: the folio runs of @data's walk if they fit one NVMe
 * command on @q as they are, else 0.  The block layer does not split a
 * passthrough request: its segments are the bio's bvecs as given (one per
 * run, __bio_add_page() merges nothing), and the driver maps each of them
 * whole.  So the transfer must be within max_hw_sectors, the runs within
 * max_segments (and one bio's BIO_MAX_VECS), each run within the segment
 * size and boundary (blk_rq_map_sg() would split it into more segments
 * than the request counts) and the DMA alignment, and only the first run
 * may start, and only the last end, off the virt boundary (the gaps a
 * PRP list cannot describe).  What does not fit goes as bios, which the
 * block layer splits.
 */
static unsigned int nrio_direct_runs(const struct nrio_region_iter *data,
				     struct request_queue *q)
{
	unsigned int max = min_t(unsigned int, queue_max_segments(q),
				 BIO_MAX_VECS);
	unsigned long vb = queue_virt_boundary(q);
	unsigned long sb = queue_segment_boundary(q);
	unsigned int align = queue_dma_alignment(q);
	unsigned int seg = queue_max_segment_size(q);
	struct nrio_region_iter it = *data;
	unsigned int n = 0;
	struct page *page;
	u32 pg_off, run;

	if (it.left > (u64)queue_max_hw_sectors(q) << SECTOR_SHIFT)
		return 0;
	while (nrio_region_next(&it, true, &page, &pg_off, &run)) {
		phys_addr_t start = page_to_phys(page) + pg_off;

		if (n == max || run > seg || ((start | run) & align) ||
		    ((start ^ (start + run - 1)) & ~(phys_addr_t)sb) ||
		    (n && (start & vb)) || (it.left && ((start + run) & vb)))
			return 0;
		n++;
	}
	return n;
}

/*
 * Send a validated READ or WRITE as one NVMe command: a request on the
 * namespace's own queue, the command built by nvme_init_request(), one
 * bio on the region's pages (a preallocated struct nrio_dio's, else from
 * the bio set, with struct nrio_io in front), inserted under the caller's
 * plug.  Returns false, having done nothing, where the bio engine must
 * take it.
 */
static bool nrio_rw_direct(struct nrio_ctx *ctx, const struct nrio_desc *d,
			   u64 slba, u32 nlb)
{
	struct nrio_ns *ns = &ctx->ns;
	struct request_queue *q = bdev_get_queue(ns->bdev);
	bool write = d->opcode == NVME_RING_IO_OP_WRITE;
	blk_opf_t opf = write ? REQ_OP_DRV_OUT : REQ_OP_DRV_IN;
	struct nvme_command cmd = {};
	struct nrio_region_iter it;
	struct nrio_dio *dio;
	struct request *rq;
	struct nrio_io *io;
	struct page *page;
	u32 pg_off, run;
	struct bio *bio;
	unsigned int nr;

	nrio_region_iter_init(&it, ctx->region, d->data_off, d->data_len);
	nr = nrio_direct_runs(&it, q);
	if (!nr)
		return false;
	/*
	 * A poll queue's request is found by polling its bio (bio_poll(),
	 * through the cookie blk_mq_start_request() sets), as a bio's is.
	 */
	if (ctx->polled)
		opf |= REQ_POLLED;
	/* Without a tag now, the bio engine says -EAGAIN (nowait) too. */
	rq = blk_mq_alloc_request(q, opf, d->nowait ? BLK_MQ_REQ_NOWAIT : 0);
	if (IS_ERR(rq))
		return false;	/* a dying queue: the bio fails the same way */

	/*
	 * A polled request's bio stays with its poller (nrio_poll_once()
	 * holds a reference while it polls): only the bio set's bios can.
	 */
	dio = nr <= NRIO_DIO_VECS && !ctx->polled ? nrio_dio_get(ctx) : NULL;
	if (dio) {
		bio = &dio->io.bio;
		bio_init(bio, NULL, dio->vecs, NRIO_DIO_VECS, opf);
	} else {
		bio = nrio_alloc(NULL, nr, opf | nrio_bio_cache_opf(ctx->polled),
				 d->nowait);
		if (!bio) {
			blk_mq_free_request(rq);
			return false;
		}
	}
	/* For bio_poll(); no blkcg association, nothing would use it. */
	bio->bi_bdev = ns->bdev;
	bio->bi_iter.bi_sector = slba << (ns->lba_shift - SECTOR_SHIFT);
	while (nrio_region_next(&it, true, &page, &pg_off, &run))
		__bio_add_page(bio, page, run, pg_off);
	/* The request's first bio: counted, never refused. */
	if (WARN_ON_ONCE(blk_rq_append_bio(rq, bio))) {
		if (dio)
			nrio_dio_put(ctx, &dio->io);
		else
			bio_put(bio);
		blk_mq_free_request(rq);
		return false;
	}

	cmd.rw.opcode = write ? nvme_cmd_write : nvme_cmd_read;
	cmd.rw.nsid = cpu_to_le32(ns->nsid);
	cmd.rw.slba = cpu_to_le64(slba);
	cmd.rw.length = cpu_to_le16(nlb - 1);
	if (d->cdw12 & NVME_RING_IO_RW_FUA)
		cmd.rw.control = cpu_to_le16(NVME_RW_FUA);
	ns->init_rq(rq, &cmd);
	/*
	 * nvme_init_request() marks passthrough fail-fast; the bio engine's
	 * I/O is retried on transient errors and waits out a controller
	 * reset, and so is this (as nvme_core's own NVME_SUBMIT_RETRY).
	 */
	rq->cmd_flags &= ~REQ_FAILFAST_DRIVER;

	io = nrio_io_start(ctx, d, bio, d->data_len);
	io->dio = !!dio;
	rq->end_io = nrio_rq_end_io;
	rq->end_io_data = io;
	if (ctx->polled)
		nrio_add_polled(ctx, io);
	blk_execute_rq_nowait(rq, false);
	return true;
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

/* Poll the queue of the oldest polled bio in flight, once. */
static void nrio_poll_once(struct nrio_ctx *ctx)
{
	struct nrio_io *io;

	spin_lock_irq(&ctx->cq_lock);
	io = list_first_entry_or_null(&ctx->poll_list, struct nrio_io,
				      poll_node);
	if (io)
		bio_get(&io->bio);
	spin_unlock_irq(&ctx->cq_lock);
	if (io) {
		bio_poll(&io->bio, NULL, 0);
		bio_put(&io->bio);
	}
}

/* As nrio_cq_wait(), spinning on the CQ and polling the device. */
int nrio_poll_cq(struct nrio_ctx *ctx, u32 min_complete, ktime_t deadline)
{
	for (;;) {
		if (ctx->polled)
			nrio_poll_once(ctx);
		if (!deadline || nrio_cq_done_waiting(ctx, min_complete))
			return nrio_cq_ready(ctx);
		if (deadline != KTIME_MAX && ktime_after(ktime_get(), deadline))
			return -ETIME;
		if (signal_pending(current))
			return -ERESTARTSYS;
		cond_resched();
	}
}

/*
 * Polled I/O raises no interrupt: before the context lets go of its file,
 * poll until nothing polled is in flight.  The block layer's timeout
 * handling bounds this.
 */
void nrio_poll_drain(struct nrio_ctx *ctx)
{
	while (!list_empty_careful(&ctx->poll_list)) {
		nrio_poll_once(ctx);
		cond_resched();
	}
}
