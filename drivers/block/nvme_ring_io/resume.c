// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: waits cut short.
 *
 * signal_pending() is true for a signal, and also for TIF_NOTIFY_SIGNAL:
 * task work, such as io_uring's completions, that runs only on the way
 * back to user mode (task_work_run() is not exported).  Task work is no
 * signal, and a wait it interrupts must not fail: the ioctl returns
 * -ERESTARTNOINTR, the kernel runs the work and issues the same ioctl
 * again at once.  What the first attempt did, its deadline and the
 * descriptors SUBMIT consumed, waits in a resume record for the restart,
 * so that it waits only for the time left and consumes nothing twice.
 * ERESTARTNOINTR, not ERESTARTSYS: the restart must always come, also when
 * a real signal arrives in between; its handler then runs first, as if
 * the signal had come just before the call.
 *
 * A real signal ends a wait as its disposition says: with a handler, a
 * timed COMPLETE fails with EINTR (like poll(2)), an untimed one too
 * unless SA_RESTART; without one (a stop, a debugger) the call restarts,
 * a timed COMPLETE then with its full timeout.  SUBMIT with F_WAIT that
 * consumed descriptors returns their number instead of failing.
 */
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "resume.h"

/* Records one context keeps at most; the oldest goes first. */
#define NRIO_RESUME_MAX		64

void nrio_resume_free(struct nrio_resume *r)
{
	put_task_struct(r->task);
	kfree(r);
}

/* Records whose restart never came (the task was killed first). */
void nrio_resume_free_all(struct nrio_ctx *ctx)
{
	struct nrio_resume *r, *tmp;

	list_for_each_entry_safe(r, tmp, &ctx->resumes, node)
		nrio_resume_free(r);
	INIT_LIST_HEAD(&ctx->resumes);
	ctx->nr_resumes = 0;
}

static bool nrio_resume_dead(const struct nrio_resume *r)
{
	return READ_ONCE(r->task->flags) & PF_EXITING;
}

/*
 * The record the first attempt of this very call left, if any: same task,
 * command, argument pointer and argument.  A record of the same task,
 * command and pointer with another argument lost its restart and goes;
 * records for other calls stay (a signal handler may make its own call
 * before the restart of the one it interrupted).
 */
struct nrio_resume *nrio_resume_take(struct nrio_ctx *ctx, unsigned int cmd,
				     const void __user *uarg, const void *arg,
				     size_t size)
{
	struct nrio_resume *r, *tmp, *found = NULL;
	LIST_HEAD(stale);

	/* Our own records were added by this task: no lock to see them. */
	if (list_empty(&ctx->resumes))
		return NULL;
	spin_lock(&ctx->resume_lock);
	list_for_each_entry_safe(r, tmp, &ctx->resumes, node) {
		if (nrio_resume_dead(r)) {
			list_move(&r->node, &stale);
			continue;
		}
		if (r->task != current || r->cmd != cmd || r->uarg != uarg)
			continue;
		if (!found && !memcmp(&r->arg, arg, size)) {
			list_del(&r->node);
			ctx->nr_resumes--;
			found = r;
		} else {
			list_move(&r->node, &stale);
		}
	}
	list_for_each_entry(r, &stale, node)
		ctx->nr_resumes--;
	spin_unlock(&ctx->resume_lock);
	list_for_each_entry_safe(r, tmp, &stale, node)
		nrio_resume_free(r);
	return found;
}

/* Keep what this call did for its restart; false without memory. */
static bool nrio_resume_arm(struct nrio_ctx *ctx, unsigned int cmd,
			    const void __user *uarg, const void *arg,
			    size_t size, ktime_t deadline, int consumed)
{
	struct nrio_resume *r, *old, *tmp;
	LIST_HEAD(dead);

	r = kmalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return false;
	r->task = get_task_struct(current);
	r->cmd = cmd;
	r->uarg = uarg;
	memcpy(&r->arg, arg, size);
	r->deadline = deadline;
	r->armed = ktime_get();
	r->consumed = consumed;

	spin_lock(&ctx->resume_lock);
	/* A task killed before its restart never takes its record. */
	list_for_each_entry_safe(old, tmp, &ctx->resumes, node) {
		if (nrio_resume_dead(old)) {
			list_move(&old->node, &dead);
			ctx->nr_resumes--;
		}
	}
	if (ctx->nr_resumes >= NRIO_RESUME_MAX) {
		old = list_first_entry(&ctx->resumes, struct nrio_resume, node);
		list_move(&old->node, &dead);
		ctx->nr_resumes--;
	}
	list_add_tail(&r->node, &ctx->resumes);
	ctx->nr_resumes++;
	spin_unlock(&ctx->resume_lock);
	list_for_each_entry_safe(old, tmp, &dead, node)
		nrio_resume_free(old);
	return true;
}

/* What a wait that returned -ERESTARTSYS makes the ioctl return. */
long nrio_wait_interrupted(struct nrio_ctx *ctx, unsigned int cmd,
			   const void __user *uarg, const void *arg, size_t size,
			   ktime_t deadline, int consumed)
{
	if (task_sigpending(current)) {
		/* A real signal. */
		if (consumed)
			return consumed;
		return deadline == KTIME_MAX ? -ERESTARTSYS : -ERESTARTNOHAND;
	}
	/* Task work only: nothing to keep for an untimed wait. */
	if (deadline == KTIME_MAX && !consumed)
		return -ERESTARTSYS;
	if (nrio_resume_arm(ctx, cmd, uarg, arg, size, deadline, consumed))
		return -ERESTARTNOINTR;
	/* No record: what a restart without one gets right. */
	return consumed ? consumed : -ERESTARTSYS;
}
