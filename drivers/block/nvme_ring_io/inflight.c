// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: one NVMe descriptor in flight.
 *
 * The one allocation per I/O is the bio from nrio_bio_set, front-padded
 * with struct nrio_io (or a direct-mode context's preallocated struct
 * nrio_dio).  Whichever way the I/O went, nrio_io_done() ends it: it
 * posts the descriptor's CQ entry or hands the result to the end_io the
 * descriptor carries (a chain's step), frees the bio and drops the
 * context reference the I/O held.  Polled I/O waits on the context's poll
 * list, oldest first, for nrio_poll_cq().
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "inflight.h"
#include "ring.h"
#include "wait.h"

struct bio_set nrio_bio_set;

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

/* Give @io's struct nrio_dio back, from any context. */
void nrio_dio_put(struct nrio_ctx *ctx, struct nrio_io *io)
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
void nrio_io_done(struct nrio_io *io, blk_status_t status)
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
