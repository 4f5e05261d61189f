// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: direct mode (NVME_RING_IO_SETUP_F_DIRECT).
 *
 * A validated READ or WRITE that fits one NVMe command as it is goes as a
 * passthrough request on the namespace's own queue (nrio_rw_direct()),
 * the command built by nvme_core's nvme_init_request(); io.c sends the
 * rest as bios.  Its bio comes from the context's preallocated struct
 * nrio_dio where one is free, so the request is the only allocation.
 */
#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/nvme.h>
#include <linux/slab.h>

#include "compat.h"
#include "direct.h"
#include "nvme_req.h"
#include "region.h"

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
bool nrio_rw_direct(struct nrio_ctx *ctx, const struct nrio_desc *d, u64 slba,
		    u32 nlb)
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
