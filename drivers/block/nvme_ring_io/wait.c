// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: waiting for CQ entries (see wait.h).
 *
 * COMPLETE sleeps on ctx->cq_wait.  NVME_RING_IO_URING_WAIT completes at
 * once when its condition holds; otherwise it is parked on the context's
 * waiter list (under cq_lock) and the CQ posting path completes it,
 * through io_uring task work, when enough entries are ready or nothing is
 * in flight any more.  A parked command holds a reference on the device
 * file through its io_uring request, so the context outlives it.
 *
 * Whoever takes a WAIT off the list (under cq_lock) completes it, exactly
 * once: the CQ posting path, the cancel path, or on 6.1 the reaper.
 *
 * Where io_uring can cancel commands (6.7+) a WAIT is marked cancelable
 * before it is parked, and tearing down the ring completes it with
 * -ECANCELED.  The order matters: issued from io-wq (IOSQE_ASYNC, or
 * linked behind a request that went async), a parked WAIT can be
 * completed on another CPU at once, and io_uring_cmd_done() unhashes only
 * a command it finds marked; marking it afterwards would hash a request
 * that is complete and may be reused.  So: mark, then look at the
 * condition again under cq_lock, and either park it or, if it holds
 * already, complete it with io_uring_cmd_done() here (returning
 * -EIOCBQUEUED), which unhashes it.
 *
 * 6.1 cannot cancel commands: a ring with a parked WAIT would never
 * finish its teardown, and it would keep the context (and its region,
 * sockets and module reference) for ever if nothing completes in flight,
 * such as a NET_RECV on an idle socket.  There a reaper runs every
 * NRIO_URING_REAP_MS while WAITs are parked and completes with -ECANCELED
 * those that 6.7+ would cancel: their ring is being torn down, or their
 * task exits or execs (compat.h, nrio_uring_orphaned()).
 */
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/sched/signal.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "wait.h"

/* What a parked WAIT keeps in the command's private area. */
struct nrio_uring_pdu {
	struct list_head	node;	/* on uring_waiters; empty: not */
	u32			min;
	int			res;	/* 0: report the entries ready */
};

/* 6.1: how often parked WAITs are checked for a ring or task gone. */
#define NRIO_URING_REAP_MS	100

static struct nrio_uring_pdu *nrio_pdu(struct io_uring_cmd *cmd)
{
	BUILD_BUG_ON(sizeof(struct nrio_uring_pdu) > sizeof(cmd->pdu));
	return (struct nrio_uring_pdu *)cmd->pdu;
}

static struct io_uring_cmd *nrio_pdu_cmd(struct nrio_uring_pdu *pdu)
{
	return container_of((void *)pdu, struct io_uring_cmd, pdu);
}

static void nrio_uring_wait_tw(struct io_uring_cmd *cmd, unsigned int flags)
{
	struct nrio_ctx *ctx = cmd->file->private_data;
	int res = nrio_pdu(cmd)->res;

	io_uring_cmd_done(cmd, res ? res : nrio_cq_ready(ctx), 0, flags);
}

/* Take @pdu off the list and complete it with @res.  Under cq_lock. */
static void nrio_uring_finish(struct nrio_uring_pdu *pdu, int res)
{
	list_del_init(&pdu->node);
	pdu->res = res;
	io_uring_cmd_complete_in_task(nrio_pdu_cmd(pdu), nrio_uring_wait_tw);
}

/*
 * Complete the parked WAITs whose condition now holds.  Called with
 * cq_lock held, from the CQ posting path (any context).
 */
void nrio_cq_wake_uring(struct nrio_ctx *ctx)
{
	struct nrio_uring_pdu *pdu, *tmp;

	lockdep_assert_held(&ctx->cq_lock);
	list_for_each_entry_safe(pdu, tmp, &ctx->uring_waiters, node) {
		if (nrio_cq_done_waiting(ctx, pdu->min))
			nrio_uring_finish(pdu, 0);
	}
}

/*
 * 6.1 only (see the top of the file): cancel the parked WAITs that 6.7+
 * would cancel, and look again later while any is parked.
 */
static void nrio_cq_reap_uring(struct work_struct *work)
{
	struct nrio_ctx *ctx = container_of(to_delayed_work(work),
					    struct nrio_ctx, uring_reap);
	struct nrio_uring_pdu *pdu, *tmp;

	spin_lock_irq(&ctx->cq_lock);
	list_for_each_entry_safe(pdu, tmp, &ctx->uring_waiters, node) {
		if (nrio_uring_orphaned(nrio_pdu_cmd(pdu)))
			nrio_uring_finish(pdu, -ECANCELED);
	}
	if (!list_empty(&ctx->uring_waiters))
		schedule_delayed_work(&ctx->uring_reap,
				      msecs_to_jiffies(NRIO_URING_REAP_MS));
	spin_unlock_irq(&ctx->cq_lock);
}

int nrio_cq_wait_uring(struct nrio_ctx *ctx, struct io_uring_cmd *cmd,
		       u32 min, unsigned int issue_flags)
{
	struct nrio_uring_pdu *pdu = nrio_pdu(cmd);
	bool done;

	if (min > ctx->cq_mask + 1)
		return -EINVAL;

	spin_lock_irq(&ctx->cq_lock);
	done = nrio_cq_done_waiting(ctx, min);
	spin_unlock_irq(&ctx->cq_lock);
	if (done)
		return nrio_cq_ready(ctx);	/* the caller completes it */

	pdu->min = min;
	pdu->res = 0;
	INIT_LIST_HEAD(&pdu->node);
	/*
	 * Mark first: once on the list the WAIT may complete on another CPU
	 * before this returns.  A cancel from now on finds it not parked
	 * and does nothing; io_uring asks again until it is complete.
	 */
	nrio_uring_mark_cancelable(cmd, issue_flags);

	spin_lock_irq(&ctx->cq_lock);
	if (nrio_cq_done_waiting(ctx, min)) {
		spin_unlock_irq(&ctx->cq_lock);
		/* Marked: only io_uring_cmd_done() unhashes it. */
		io_uring_cmd_done(cmd, nrio_cq_ready(ctx), 0, issue_flags);
		return -EIOCBQUEUED;
	}
	list_add_tail(&pdu->node, &ctx->uring_waiters);
	if (!NRIO_URING_CAN_CANCEL)
		schedule_delayed_work(&ctx->uring_reap,
				      msecs_to_jiffies(NRIO_URING_REAP_MS));
	spin_unlock_irq(&ctx->cq_lock);
	return -EIOCBQUEUED;
}

/* io_uring tears down: finish a parked WAIT unless completion won. */
void nrio_cq_cancel_uring(struct nrio_ctx *ctx, struct io_uring_cmd *cmd,
			  unsigned int issue_flags)
{
	struct nrio_uring_pdu *pdu = nrio_pdu(cmd);
	bool parked;

	/*
	 * Not parked: the CQ posting path took it (its task work completes
	 * it), or it is not parked yet (marked, about to be), or it was
	 * completed at once.  io_uring asks again while it stays marked.
	 */
	spin_lock_irq(&ctx->cq_lock);
	parked = !list_empty(&pdu->node);
	if (parked)
		list_del_init(&pdu->node);
	spin_unlock_irq(&ctx->cq_lock);
	if (parked)
		io_uring_cmd_done(cmd, -ECANCELED, 0, issue_flags);
}

/*
 * Sleep until the CQ ring holds @min_complete entries or nothing is in
 * flight, or until the absolute CLOCK_MONOTONIC @deadline (KTIME_MAX:
 * none; 0: do not wait at all, so never -ETIME).  Returns the number of
 * entries ready, -ETIME, or -ERESTARTSYS when the task must first return
 * to user mode: for a signal, or for task work (TIF_NOTIFY_SIGNAL) that
 * only runs there.  The caller decides what the system call makes of it.
 */
int nrio_cq_wait(struct nrio_ctx *ctx, u32 min_complete, ktime_t deadline)
{
	DEFINE_WAIT(wait);
	int ret = 0;

	if (!deadline)
		return nrio_cq_ready(ctx);
	for (;;) {
		prepare_to_wait(&ctx->cq_wait, &wait, TASK_INTERRUPTIBLE);
		if (nrio_cq_done_waiting(ctx, min_complete))
			break;
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		if (deadline == KTIME_MAX) {
			schedule();
		} else if (!schedule_hrtimeout(&deadline, HRTIMER_MODE_ABS)) {
			if (!nrio_cq_done_waiting(ctx, min_complete))
				ret = -ETIME;
			break;
		}
	}
	finish_wait(&ctx->cq_wait, &wait);
	return ret ? ret : nrio_cq_ready(ctx);
}

/* A new context's waiters: none yet. */
void nrio_cq_wait_init(struct nrio_ctx *ctx)
{
	init_waitqueue_head(&ctx->cq_wait);
	INIT_LIST_HEAD(&ctx->uring_waiters);
	INIT_DELAYED_WORK(&ctx->uring_reap, nrio_cq_reap_uring);
}
