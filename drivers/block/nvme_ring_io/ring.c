// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: the kernel side of the SQ and CQ rings (see ring.h for
 * the protocol and its barriers (A)-(D)).
 *
 * ctx->cq_lock orders the producers of CQ entries (bio end_io in any
 * context, task work, SUBMIT) among themselves and against reservations;
 * the SQ has one consumer at a time, under ctx->lock.
 */
#include "ring.h"
#include "wait.h"

/* The slots up to the consumer index + @n are read: hand them back. */
void nrio_sq_release(struct nrio_ctx *ctx, u32 n)
{
	struct nrio_shared *sh = ctx->region->shared;

	lockdep_assert_held(&ctx->lock);
	ctx->sq_head += n;
	/* (B) */
	smp_store_release(&sh->sq_consumer, ctx->sq_head);
	WRITE_ONCE(ctx->submitted, ctx->submitted + n);
	WRITE_ONCE(sh->counters.submitted, ctx->submitted);
}

/*
 * Reserve up to @want CQ slots (with @all, @want or none); the caller
 * holds ctx->lock.
 */
u32 nrio_cq_reserve(struct nrio_ctx *ctx, u32 want, bool all)
{
	struct nrio_shared *sh = ctx->region->shared;
	u32 entries = ctx->cq_mask + 1;
	u32 used, n;

	spin_lock_irq(&ctx->cq_lock);
	/* (D) */
	used = ctx->cq_tail - smp_load_acquire(&sh->cq_consumer);
	/* A consumer index that lies about the ring means: full. */
	if (used > entries)
		used = entries;
	used += ctx->inflight;
	n = used >= entries ? 0 : min(want, entries - used);
	if (all && n < want)
		n = 0;
	WRITE_ONCE(ctx->inflight, ctx->inflight + n);
	spin_unlock_irq(&ctx->cq_lock);
	return n;
}

/* Give back CQ slots reserved for descriptors that were not consumed. */
void nrio_cq_cancel(struct nrio_ctx *ctx, u32 n)
{
	spin_lock_irq(&ctx->cq_lock);
	WRITE_ONCE(ctx->inflight, ctx->inflight - n);
	nrio_cq_wake_locked(ctx);
	spin_unlock_irq(&ctx->cq_lock);
	/* COMPLETE waiters may be waiting for "nothing in flight". */
	nrio_cq_wake(ctx);
}

/* SUBMIT stopped short for want of CQ slots; the caller holds ctx->lock. */
void nrio_cq_note_full(struct nrio_ctx *ctx)
{
	WRITE_ONCE(ctx->cq_full, ctx->cq_full + 1);
	WRITE_ONCE(ctx->region->shared->counters.cq_full, ctx->cq_full);
}

/*
 * Post one CQ entry into a slot reserved for it at submission.  @data says
 * what a positive @res counts; @poll_node, if given, is taken off the
 * context's poll list under the same lock (the completing I/O's).
 */
void nrio_cq_post_full(struct nrio_ctx *ctx, u64 user_data, int res,
		       bool invalid, struct list_head *poll_node,
		       enum nrio_data data, u32 result0)
{
	struct nrio_region *region = ctx->region;
	struct nrio_shared *sh = region->shared;
	struct nvme_ring_io_cqe *cqe;
	unsigned long flags;

	spin_lock_irqsave(&ctx->cq_lock, flags);
	if (poll_node)
		list_del(poll_node);
	cqe = &region->cqes[ctx->cq_tail & ctx->cq_mask];
	WRITE_ONCE(cqe->user_data, user_data);
	WRITE_ONCE(cqe->res, res);
	WRITE_ONCE(cqe->status, 0);
	WRITE_ONCE(cqe->flags, 0);
	WRITE_ONCE(cqe->result0, result0);
	WRITE_ONCE(cqe->result1, 0);
	WRITE_ONCE(cqe->resv, 0);
	WRITE_ONCE(ctx->cq_tail, ctx->cq_tail + 1);
	/* (C) */
	smp_store_release(&sh->cq_producer, ctx->cq_tail);
	WRITE_ONCE(ctx->inflight, ctx->inflight - 1);
	ctx->completed++;
	WRITE_ONCE(sh->counters.completed, ctx->completed);
	if (res > 0 && data == NRIO_DATA_IN_PLACE)
		ctx->bytes_moved += res;
	else if (res > 0 && data == NRIO_DATA_COPIED)
		ctx->bytes_copied += res;
	else if (res == -ECANCELED)
		ctx->canceled++;
	if (invalid) {
		ctx->sq_invalid++;
		WRITE_ONCE(sh->counters.sq_invalid, ctx->sq_invalid);
	}
	nrio_cq_wake_locked(ctx);
	spin_unlock_irqrestore(&ctx->cq_lock, flags);

	nrio_cq_wake(ctx);
}

/* Count @bytes moved in place that no CQ entry reports (a hop's read). */
void nrio_cq_note_in_place(struct nrio_ctx *ctx, u32 bytes)
{
	spin_lock_irq(&ctx->cq_lock);
	ctx->bytes_moved += bytes;
	spin_unlock_irq(&ctx->cq_lock);
}
