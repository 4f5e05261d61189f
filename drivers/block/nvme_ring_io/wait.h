/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: waiting for CQ entries, and waking the waiters.
 *
 * Two kinds of waiter: a task sleeping in COMPLETE (or SUBMIT with
 * F_WAIT) on ctx->cq_wait, and NVME_RING_IO_URING_WAIT commands parked on
 * ctx->uring_waiters.  The ring wakes both whenever an entry is posted or
 * a reservation is given back (ring.c).
 */
#ifndef _NRIO_WAIT_H
#define _NRIO_WAIT_H

#include "ctx.h"

struct io_uring_cmd;

/* The entries posted and not yet consumed (at most a ring of them). */
static inline u32 nrio_cq_ready(struct nrio_ctx *ctx)
{
	u32 ready = READ_ONCE(ctx->cq_tail) -
		    READ_ONCE(ctx->region->shared->cq_consumer);

	return min(ready, ctx->cq_mask + 1);
}

/* What every CQ wait waits for: @min entries, or nothing in flight. */
static inline bool nrio_cq_done_waiting(struct nrio_ctx *ctx, u32 min)
{
	return nrio_cq_ready(ctx) >= min || !READ_ONCE(ctx->inflight);
}

void nrio_cq_wake_uring(struct nrio_ctx *ctx);

/* Under cq_lock: complete the parked URING_WAITs whose condition holds. */
static inline void nrio_cq_wake_locked(struct nrio_ctx *ctx)
{
	lockdep_assert_held(&ctx->cq_lock);
	if (unlikely(!list_empty(&ctx->uring_waiters)))
		nrio_cq_wake_uring(ctx);
}

/* Outside cq_lock: wake the tasks sleeping for entries. */
static inline void nrio_cq_wake(struct nrio_ctx *ctx)
{
	if (wq_has_sleeper(&ctx->cq_wait))
		wake_up(&ctx->cq_wait);
}

int nrio_cq_wait(struct nrio_ctx *ctx, u32 min_complete, ktime_t deadline);
int nrio_cq_wait_uring(struct nrio_ctx *ctx, struct io_uring_cmd *cmd,
		       u32 min, unsigned int issue_flags);
void nrio_cq_cancel_uring(struct nrio_ctx *ctx, struct io_uring_cmd *cmd,
			  unsigned int issue_flags);
void nrio_cq_wait_init(struct nrio_ctx *ctx);

#endif /* _NRIO_WAIT_H */
