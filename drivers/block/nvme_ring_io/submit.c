// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: SUBMIT, for both devices and both ways in (the ioctl and
 * NVME_RING_IO_URING_SUBMIT): take the SQ consumer, peek at what is
 * ready, let the device's consumer issue it, release what it consumed.
 */
#include <linux/blkdev.h>

#include "ring.h"
#include "submit.h"

/*
 * Consume up to @to_submit (0: all) ready descriptors.  @nowait is
 * io_uring's IO_URING_F_NONBLOCK issue (inline, or the SQPOLL thread),
 * which must not wait: then -EAGAIN, with nothing consumed, has io_uring
 * issue the command again from io-wq, where it may.  So with @nowait:
 * the context lock is only tried; if any descriptor to be consumed is
 * one that sleeps whatever happens (a BPF or NET step, a read-next
 * step, a chain, a DSM, FLUSH or WRITE ZEROES), -EAGAIN before anything
 * is consumed; plain READ and WRITE go with REQ_NOWAIT (and
 * BLK_MQ_REQ_NOWAIT, GFP_NOWAIT), and the first that the block layer or
 * the allocator refuses rather than wait stays in the SQ with all after
 * it: -EAGAIN if it was the first, else the number consumed before it
 * (as SUBMIT stops short for want of CQ room).  A descriptor rewritten
 * between the scan and its consumption is checked again there.
 */
int nrio_submit(struct nrio_ctx *ctx, u32 to_submit, bool nowait)
{
	u32 head, avail, budget, i;
	bool again = false;

	if (nowait) {
		if (!mutex_trylock(&ctx->lock))
			return -EAGAIN;
	} else if (mutex_lock_interruptible(&ctx->lock)) {
		/* Nothing consumed yet: the call can be restarted. */
		return -ERESTARTSYS;
	}

	/* A removed namespace does not come back: the context is dead. */
	if (unlikely(ctx->dead ||
		     (ctx->ns.bdev && !disk_live(ctx->ns.bdev->bd_disk)))) {
		WRITE_ONCE(ctx->dead, true);
		mutex_unlock(&ctx->lock);
		return -ENODEV;
	}

	avail = nrio_sq_peek(ctx, &head);
	budget = to_submit ? min(avail, to_submit) : avail;

	if (nowait && ((ctx->ns.bdev && !bdev_nowait(ctx->ns.bdev)) ||
		       !ctx->ops->nowait_ok(ctx, head, avail, budget))) {
		mutex_unlock(&ctx->lock);
		return -EAGAIN;
	}

	i = ctx->ops->consume(ctx, head, avail, budget, nowait, &again);
	if (again && !i) {
		mutex_unlock(&ctx->lock);
		return -EAGAIN;
	}
	/* The slots are read: userspace may refill them. */
	nrio_sq_release(ctx, i);
	mutex_unlock(&ctx->lock);
	return i;
}
