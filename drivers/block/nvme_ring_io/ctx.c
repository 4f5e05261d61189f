// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: a context's lifetime.
 *
 * Every open file of either device is one context.  The context is
 * refcounted: the open file holds one reference and every descriptor in
 * flight (or chain, or queued work) holds one, so close, munmap and exit
 * with I/O in flight are safe.  The last reference usually drops in
 * release(), which frees the context at once; when it drops in a bio's
 * end_io, in interrupt context, the context is freed from a work item on
 * the module's own workqueue.  Each context also holds a module reference
 * until it is freed, and module exit destroys that workqueue, so the
 * module cannot go away under a completion or a free.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "ctx.h"

/* Deferred work of every context: chain steps, hops, frees. */
struct workqueue_struct *nrio_wq;

/* Process context, no locks held. */
static void nrio_ctx_free(struct nrio_ctx *ctx)
{
	ctx->ops->free(ctx);
	if (ctx->region)
		nrio_region_put(ctx->region);
	nrio_ns_unbind(&ctx->ns);
	kfree(ctx);
	module_put(THIS_MODULE);
}

static void nrio_ctx_free_work(struct work_struct *work)
{
	nrio_ctx_free(container_of(work, struct nrio_ctx, free_work));
}

/* The last reference may go in a bio's end_io: free from a work item. */
void nrio_ctx_put(struct nrio_ctx *ctx)
{
	if (refcount_dec_and_test(&ctx->ref))
		queue_work(nrio_wq, &ctx->free_work);
}

/*
 * Drop the opener's reference, in the closing task.  With nothing in
 * flight it is the last: free here, so that the region's last file
 * reference drops (through task work that runs before close() returns)
 * and with it the RLIMIT_MEMLOCK charge, unless a mapping still holds it.
 */
void nrio_ctx_put_last(struct nrio_ctx *ctx)
{
	if (refcount_dec_and_test(&ctx->ref))
		nrio_ctx_free(ctx);
}

/* A new context of the device @ops says; from an fop (so: module held). */
struct nrio_ctx *nrio_ctx_alloc(const struct nrio_dev_ops *ops)
{
	struct nrio_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return NULL;
	ctx->ops = ops;
	refcount_set(&ctx->ref, 1);
	mutex_init(&ctx->lock);
	spin_lock_init(&ctx->cq_lock);
	INIT_LIST_HEAD(&ctx->poll_list);
	spin_lock_init(&ctx->resume_lock);
	INIT_LIST_HEAD(&ctx->resumes);
	INIT_WORK(&ctx->free_work, nrio_ctx_free_work);
	/* Dropped by nrio_ctx_free(); an fop runs, so this holds. */
	__module_get(THIS_MODULE);
	return ctx;
}

int nrio_ctx_init(void)
{
	nrio_wq = alloc_workqueue("nvme_ring_io", WQ_UNBOUND, 0);
	return nrio_wq ? 0 : -ENOMEM;
}

/* Waits for a context free that dropped the last module reference. */
void nrio_ctx_exit(void)
{
	destroy_workqueue(nrio_wq);
}
