// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: zero-copy, batch-oriented NVMe I/O through shared rings.
 *
 * The misc device, file operations, ioctl dispatch and the context's
 * lifetime.
 *
 * Every open file of /dev/nvme_ring_io is one context.  The context is
 * refcounted: the open file holds one reference and every descriptor in
 * flight holds one, so close, munmap and exit with I/O in flight are safe.
 * The last reference usually drops in release(), which frees the context
 * at once; when it drops in a bio's end_io, in interrupt context, the
 * context is freed from a work item on the module's own workqueue.
 * Each context also holds a module reference until it is freed, and module
 * exit destroys that workqueue, so the module cannot go away under a
 * completion or a free.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/nospec.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "nrio.h"

struct workqueue_struct *nrio_wq;

static void nrio_resume_free_all(struct nrio_ctx *ctx);

/* Process context, no locks held. */
static void nrio_ctx_free(struct nrio_ctx *ctx)
{
	nrio_resume_free_all(ctx);
	nrio_uio_free(ctx);
	nrio_dio_free(ctx);
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

/* The region, once SETUP has published it; NULL before. */
static struct nrio_region *nrio_ctx_region(struct nrio_ctx *ctx)
{
	/* Pairs with the store-release at the end of SETUP. */
	return smp_load_acquire(&ctx->region);
}

/*
 * Set once init cannot fail any more.  The first device node exists
 * before the second is registered; a file opened on it in between would
 * keep a pointer into a module whose failed init frees it, as nothing
 * waits for module references then.  So no open succeeds before this.
 */
static bool nrio_ready;

static int nrio_open(struct inode *inode, struct file *file)
{
	struct nrio_ctx *ctx;

	/* Pairs with the store-release at the end of nrio_init(). */
	if (!smp_load_acquire(&nrio_ready))
		return -ENODEV;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;

	refcount_set(&ctx->ref, 1);
	mutex_init(&ctx->lock);
	spin_lock_init(&ctx->cq_lock);
	init_waitqueue_head(&ctx->cq_wait);
	INIT_LIST_HEAD(&ctx->uring_waiters);
	INIT_DELAYED_WORK(&ctx->uring_reap, nrio_uring_reap);
	INIT_LIST_HEAD(&ctx->poll_list);
	spin_lock_init(&ctx->resume_lock);
	INIT_LIST_HEAD(&ctx->resumes);
	INIT_WORK(&ctx->free_work, nrio_ctx_free_work);
	/* Dropped by nrio_ctx_free(); we are in an fop, so this holds. */
	__module_get(THIS_MODULE);

	/* misc_open() left the miscdevice here. */
	ctx->unified = nrio_uio_file(file);
	file->private_data = ctx;
	return stream_open(inode, file);
}

static int nrio_release(struct inode *inode, struct file *file)
{
	struct nrio_ctx *ctx = file->private_data;

	/* Chain steps not started yet are cancelled from now on. */
	WRITE_ONCE(ctx->closing, true);
	/*
	 * Steps waiting for a socket would wait for ever: cancel them.
	 * The acquire pairs with the release that publishes the region.
	 */
	if (ctx->unified && smp_load_acquire(&ctx->region))
		nrio_net_cancel_all(ctx);
	if (ctx->polled)
		nrio_poll_drain(ctx);
	/*
	 * A parked URING_WAIT holds the file: none is parked now, and so
	 * the reaper (6.1) is not armed again once it has run.
	 */
	cancel_delayed_work_sync(&ctx->uring_reap);
	/*
	 * With nothing in flight this is the last reference: free here, in
	 * the closing task, so that the region's last file reference drops
	 * (through task work that runs before close() returns) and with it
	 * the RLIMIT_MEMLOCK charge, unless a mapping still holds it.
	 */
	if (refcount_dec_and_test(&ctx->ref))
		nrio_ctx_free(ctx);
	return 0;
}

/* The checks both devices' SETUP make: EINVAL first, then E2BIG. */
int nrio_check_request(const struct nrio_setup_req *req)
{
	u64 max_data = (u64)nrio_max_data_mb << 20;
	int node = req->numa_node;

	if (!req->sq_entries || !is_power_of_2(req->sq_entries))
		return -EINVAL;
	if (req->cq_entries && (!is_power_of_2(req->cq_entries) ||
				req->cq_entries < req->sq_entries))
		return -EINVAL;
	if (!req->data_size || !IS_ALIGNED(req->data_size, SZ_4K) ||
	    !PAGE_ALIGNED(req->data_size))
		return -EINVAL;
	if (node != NUMA_NO_NODE &&
	    (node < 0 || node >= MAX_NUMNODES ||
	     !node_state(array_index_nospec(node, MAX_NUMNODES), N_MEMORY)))
		return -EINVAL;
	if (req->sq_entries > NVME_RING_IO_MAX_ENTRIES ||
	    req->cq_entries > NVME_RING_IO_MAX_ENTRIES ||
	    (!req->cq_entries &&
	     2 * req->sq_entries > NVME_RING_IO_MAX_ENTRIES))
		return -E2BIG;
	if (req->data_size > max_data)
		return -E2BIG;
	return 0;
}

/*
 * The part of SETUP both devices share, after their struct is checked:
 * bind the namespace (unless the unified device was given none), let the
 * device prepare what it needs, create the region, copy its offsets out
 * and publish it.  A failure leaves the context as it was.
 */
long nrio_ctx_setup(struct nrio_ctx *ctx, struct nrio_setup_req *req,
		    struct nvme_ring_io_offsets __user *uoff)
{
	u32 cq_entries = req->cq_entries ?: 2 * req->sq_entries;
	struct nrio_region *region;
	long ret;

	if (mutex_lock_interruptible(&ctx->lock))
		return -ERESTARTSYS;	/* nothing done yet */
	ret = -EBUSY;
	if (ctx->region)
		goto out_unlock;

	if (!ctx->unified || req->nvme_fd != -1) {
		ret = nrio_ns_bind(&ctx->ns, req->nvme_fd);
		if (ret)
			goto out_unlock;
	}
	if (req->prepare) {
		ret = req->prepare(ctx, req);
		if (ret)
			goto out_unbind;
	}
	if (req->direct) {
		ret = nrio_ns_direct(&ctx->ns);
		if (ret)
			goto out_unbind;
	}

	region = nrio_region_create(req->sq_entries, req->sqe_size,
				    cq_entries, req->data_size,
				    req->numa_node);
	if (IS_ERR(region)) {
		ret = PTR_ERR(region);
		goto out_unbind;
	}
	if (copy_to_user(uoff, &region->off, sizeof(*uoff))) {
		ret = -EFAULT;
		goto out_region;
	}
	if (ctx->ns.init_rq) {
		ret = nrio_dio_alloc(ctx, min_t(u32, cq_entries, NRIO_DIO_MAX));
		if (ret)
			goto out_region;
	}

	ctx->numa_node = req->numa_node;
	ctx->polled = req->iopoll && ctx->ns.bdev &&
		      nrio_bdev_can_poll(ctx->ns.bdev);
	if (ctx->ns.bdev)
		ctx->data_align_mask = ctx->unified ? ctx->ns.dma_align :
				       (1U << ctx->ns.lba_shift) - 1;
	ctx->sq_mask = req->sq_entries - 1;
	ctx->cq_mask = cq_entries - 1;
	/* Publish: everything above is visible to whoever sees region. */
	smp_store_release(&ctx->region, region);
	mutex_unlock(&ctx->lock);
	return 0;

out_region:
	nrio_region_put(region);
out_unbind:
	nrio_uio_free(ctx);
	nrio_ns_unbind(&ctx->ns);
out_unlock:
	mutex_unlock(&ctx->lock);
	return ret;
}

/*
 * Copy in a SETUP struct versioned by its leading __u32 size field: at
 * least this ABI's @ksize (EINVAL), at most NVME_RING_IO_MAX_STRUCT_SIZE
 * (E2BIG), bytes this kernel does not know zero (E2BIG).
 */
int nrio_copy_setup(void *k, size_t ksize, const void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize < ksize)
		return -EINVAL;
	if (usize > NVME_RING_IO_MAX_STRUCT_SIZE)
		return -E2BIG;
	return copy_struct_from_user(k, ksize, uarg, usize);
}

/*
 * The bytes an INFO call fills: min(its size field, @ksize); EINVAL when
 * the size field itself does not fit.
 */
int nrio_info_size(const void __user *uarg, size_t ksize, u32 *usize)
{
	if (get_user(*usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (*usize < sizeof(u32))
		return -EINVAL;
	*usize = min_t(u32, *usize, ksize);
	return 0;
}

static long nrio_setup(struct nrio_ctx *ctx,
		       struct nvme_ring_io_setup __user *uarg)
{
	struct nvme_ring_io_setup s;
	struct nrio_setup_req req;
	long ret;
	u32 i;

	ret = nrio_copy_setup(&s, sizeof(s), uarg);
	if (ret)
		return ret;
	if (s.flags & ~(NVME_RING_IO_SETUP_F_IOPOLL |
			NVME_RING_IO_SETUP_F_DIRECT))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(s.resv); i++)
		if (s.resv[i])
			return -EINVAL;

	req = (struct nrio_setup_req) {
		.iopoll		= s.flags & NVME_RING_IO_SETUP_F_IOPOLL,
		.direct		= s.flags & NVME_RING_IO_SETUP_F_DIRECT,
		.sq_entries	= s.sq_entries,
		.cq_entries	= s.cq_entries,
		.sqe_size	= sizeof(struct nvme_ring_io_sqe),
		.data_size	= s.data_size,
		.nvme_fd	= s.nvme_fd,
		.numa_node	= s.numa_node,
	};
	ret = nrio_check_request(&req);
	if (ret)
		return ret;
	return nrio_ctx_setup(ctx, &req, &uarg->off);
}

static long nrio_info(struct nrio_ctx *ctx,
		      struct nvme_ring_io_info __user *uarg)
{
	struct nvme_ring_io_info info = {};
	struct nrio_region *region = nrio_ctx_region(ctx);
	u32 usize;
	int ret;

	ret = nrio_info_size(uarg, sizeof(info), &usize);
	if (ret)
		return ret;
	info.size = usize;
	info.abi_version = NVME_RING_IO_ABI_VERSION;
	if (region) {
		struct nrio_ns *ns = &ctx->ns;

		info.flags = NVME_RING_IO_INFO_F_SETUP;
		if (ns->can_read)
			info.flags |= NVME_RING_IO_INFO_F_READ;
		if (ns->can_write)
			info.flags |= NVME_RING_IO_INFO_F_WRITE;
		if (bdev_read_only(ns->bdev))
			info.flags |= NVME_RING_IO_INFO_F_RO_NS;
		if (ns->generic)
			info.flags |= NVME_RING_IO_INFO_F_GENERIC_FD;
		if (ctx->polled)
			info.flags |= NVME_RING_IO_INFO_F_POLLED;
		if (ns->init_rq)
			info.flags |= NVME_RING_IO_INFO_F_DIRECT;
		if (READ_ONCE(ctx->dead) || !disk_live(ns->bdev->bd_disk))
			info.flags |= NVME_RING_IO_INFO_F_DEAD;
		info.nsid = ns->nsid;
		info.lba_size = 1U << ns->lba_shift;
		info.max_segments = ns->max_segments;
		info.nr_lbas = bdev_nr_sectors(ns->bdev) >>
			       (ns->lba_shift - SECTOR_SHIFT);
		info.max_transfer = ns->max_transfer;
		info.region_size = region->off.region_size;
		info.data_size = region->off.data_size;
		info.huge_bytes = region->huge_bytes;
		info.sq_entries = ctx->sq_mask + 1;
		info.cq_entries = ctx->cq_mask + 1;
		info.numa_node = ctx->numa_node;

		spin_lock_irq(&ctx->cq_lock);
		info.inflight = ctx->inflight;
		info.counters.completed = ctx->completed;
		info.counters.sq_invalid = ctx->sq_invalid;
		spin_unlock_irq(&ctx->cq_lock);
		/* Written under ctx->lock; a racing SUBMIT makes them stale. */
		info.counters.submitted = READ_ONCE(ctx->submitted);
		info.counters.cq_full = READ_ONCE(ctx->cq_full);
	}
	if (copy_to_user(uarg, &info, usize))
		return -EFAULT;
	return 0;
}

/*
 * Waits cut short.
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
struct nrio_resume {
	struct list_head	node;
	struct task_struct	*task;		/* a reference */
	unsigned int		cmd;
	const void __user	*uarg;
	union {
		struct nvme_ring_io_submit	submit;
		struct nvme_ring_io_complete	complete;
	} arg;					/* as the call passed it */
	ktime_t			deadline;
	ktime_t			armed;		/* when, for COMPLETE's TTL */
	int			consumed;	/* by SUBMIT */
};

/*
 * A restart comes at once, after the task work; a record older than this
 * lost its restart (a handler that longjmp()ed, a tracer, seccomp), and a
 * COMPLETE that finds it starts afresh instead of inheriting its deadline.
 */
#define NRIO_RESUME_TTL_NS	NSEC_PER_SEC
/* Records one context keeps at most; the oldest goes first. */
#define NRIO_RESUME_MAX		64

static void nrio_resume_free(struct nrio_resume *r)
{
	put_task_struct(r->task);
	kfree(r);
}

/* Records whose restart never came (the task was killed first). */
static void nrio_resume_free_all(struct nrio_ctx *ctx)
{
	struct nrio_resume *r, *tmp;

	list_for_each_entry_safe(r, tmp, &ctx->resumes, node)
		nrio_resume_free(r);
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
static struct nrio_resume *nrio_resume_take(struct nrio_ctx *ctx,
					    unsigned int cmd,
					    const void __user *uarg,
					    const void *arg, size_t size)
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
static long nrio_wait_interrupted(struct nrio_ctx *ctx, unsigned int cmd,
				  const void __user *uarg, const void *arg,
				  size_t size, ktime_t deadline, int consumed)
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

static int nrio_wait(struct nrio_ctx *ctx, u32 min_complete, ktime_t deadline,
		     bool poll)
{
	if (ctx->polled || poll)
		return nrio_poll_cq(ctx, min_complete, deadline);
	return nrio_wait_cq(ctx, min_complete, deadline);
}

#define NRIO_SUBMIT_FLAGS	(NVME_RING_IO_SUBMIT_F_WAIT | \
				 NVME_RING_IO_SUBMIT_F_POLL)

/* SUBMIT, then with F_WAIT the wait of COMPLETE: one system call. */
static long nrio_submit_ioctl(struct nrio_ctx *ctx, unsigned int cmd,
			      const void __user *uarg)
{
	struct nvme_ring_io_submit s;
	struct nrio_resume *r;
	int consumed, ret;

	if (copy_from_user(&s, uarg, sizeof(s)))
		return -EFAULT;
	if ((s.flags & ~NRIO_SUBMIT_FLAGS) || s.resv)
		return -EINVAL;
	if (!(s.flags & NVME_RING_IO_SUBMIT_F_WAIT) &&
	    (s.min_complete || (s.flags & NVME_RING_IO_SUBMIT_F_POLL)))
		return -EINVAL;
	if (!nrio_ctx_region(ctx))
		return -EBADFD;
	if (s.min_complete > ctx->cq_mask + 1)
		return -EINVAL;

	r = nrio_resume_take(ctx, cmd, uarg, &s, sizeof(s));
	if (r) {
		/*
		 * The restart of a SUBMIT whose wait was cut short: it goes on
		 * with what is left of its budget, so that even a record whose
		 * restart was lost can only misreport the count, never leave
		 * ready descriptors unconsumed.
		 */
		consumed = r->consumed;
		nrio_resume_free(r);
		if (!s.to_submit || s.to_submit > consumed) {
			ret = nrio_submit(ctx, s.to_submit ?
					  s.to_submit - consumed : 0, false);
			if (ret > 0)
				consumed += ret;
		}
	} else {
		consumed = nrio_submit(ctx, s.to_submit, false);
		if (consumed < 0 || !(s.flags & NVME_RING_IO_SUBMIT_F_WAIT))
			return consumed;
	}
	ret = nrio_wait(ctx, s.min_complete, KTIME_MAX,
			s.flags & NVME_RING_IO_SUBMIT_F_POLL);
	if (ret == -ERESTARTSYS)
		return nrio_wait_interrupted(ctx, cmd, uarg, &s, sizeof(s),
					     KTIME_MAX, consumed);
	return consumed;
}

static long nrio_complete_ioctl(struct nrio_ctx *ctx, unsigned int cmd,
				const void __user *uarg)
{
	struct nvme_ring_io_complete c;
	struct nrio_resume *r;
	ktime_t deadline;
	int ret;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if ((c.flags & ~NVME_RING_IO_COMPLETE_F_POLL) || c.resv)
		return -EINVAL;
	if (!nrio_ctx_region(ctx))
		return -EBADFD;
	if (c.min_complete > ctx->cq_mask + 1)
		return -EINVAL;

	r = nrio_resume_take(ctx, cmd, uarg, &c, sizeof(c));
	if (r && ktime_before(ktime_get(), ktime_add_ns(r->armed,
						       NRIO_RESUME_TTL_NS))) {
		deadline = r->deadline;
	} else if (c.timeout_ns < 0) {
		deadline = KTIME_MAX;
	} else if (c.timeout_ns == 0) {
		deadline = 0;
	} else {
		deadline = ktime_add_safe(ktime_get(), ns_to_ktime(c.timeout_ns));
	}
	if (r)
		nrio_resume_free(r);
	ret = nrio_wait(ctx, c.min_complete, deadline,
			c.flags & NVME_RING_IO_COMPLETE_F_POLL);
	if (ret == -ERESTARTSYS)
		return nrio_wait_interrupted(ctx, cmd, uarg, &c, sizeof(c),
					     deadline, 0);
	return ret;
}

/*
 * SETUP and INFO are versioned by their size field; the size bits of
 * their command numbers stay those of the first ABI, and a caller built
 * with any other size in them is served the same.
 */
#define NRIO_IOC_NOSIZE(cmd)	((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

static unsigned int nrio_ioctl_cmd(unsigned int cmd)
{
	static const unsigned int versioned[] = {
		NVME_RING_IO_SETUP, NVME_RING_IO_INFO,
		UNIFIED_IO_SETUP, UNIFIED_IO_INFO,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(versioned); i++)
		if (NRIO_IOC_NOSIZE(cmd) == NRIO_IOC_NOSIZE(versioned[i]))
			return versioned[i];
	return cmd;
}

static long nrio_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct nrio_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;

	cmd = nrio_ioctl_cmd(cmd);
	if (ctx->unified) {
		switch (cmd) {
		case UNIFIED_IO_SETUP:
		case UNIFIED_IO_INFO:
		case UNIFIED_IO_BPF_ATTACH:
		case UNIFIED_IO_BPF_DETACH:
		case UNIFIED_IO_SOCK_ATTACH:
		case UNIFIED_IO_SOCK_DETACH:
		case UNIFIED_IO_XDP_HANDLE:
			return nrio_uio_ioctl(ctx, cmd, uarg);
		case UNIFIED_IO_SUBMIT:
			return nrio_submit_ioctl(ctx, cmd, uarg);
		case UNIFIED_IO_COMPLETE:
			return nrio_complete_ioctl(ctx, cmd, uarg);
		default:
			return -ENOTTY;
		}
	}
	switch (cmd) {
	case NVME_RING_IO_SETUP:
		return nrio_setup(ctx, uarg);
	case NVME_RING_IO_INFO:
		return nrio_info(ctx, uarg);
	case NVME_RING_IO_SUBMIT:
		return nrio_submit_ioctl(ctx, cmd, uarg);
	case NVME_RING_IO_COMPLETE:
		return nrio_complete_ioctl(ctx, cmd, uarg);
	default:
		return -ENOTTY;
	}
}

static int nrio_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct nrio_region *region = nrio_ctx_region(file->private_data);

	if (!region)
		return -EBADFD;
	return nrio_region_mmap(region, vma);
}

static unsigned long nrio_get_unmapped_area(struct file *file,
					    unsigned long addr,
					    unsigned long len,
					    unsigned long pgoff,
					    unsigned long flags)
{
	struct nrio_region *region = nrio_ctx_region(file->private_data);

	if (!region)
		return -EBADFD;
	return nrio_region_get_unmapped_area(region, addr, len, pgoff, flags);
}

static const struct file_operations nrio_fops = {
	.owner			= THIS_MODULE,
	.open			= nrio_open,
	.release		= nrio_release,
	.unlocked_ioctl		= nrio_ioctl,
	.compat_ioctl		= compat_ptr_ioctl,
	.mmap			= nrio_mmap,
	.get_unmapped_area	= nrio_get_unmapped_area,
	.uring_cmd		= nrio_uring_cmd,
};

static struct miscdevice nrio_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= NVME_RING_IO_DEVNAME,
	.fops	= &nrio_fops,
	.mode	= NRIO_DEV_MODE,
};

/*
 * Is @kobj a struct device's?  Every device has the driver core's
 * device_ktype, which is not exported: our own device's says which it is.
 * Only called from an open file of ours, so the device is registered.
 */
bool nrio_kobj_is_device(const struct kobject *kobj)
{
	return kobj->ktype && kobj->ktype == nrio_misc.this_device->kobj.ktype;
}

static void nrio_build_bugs(void)
{
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_sqe) != 80);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_cqe) != 32);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_dsm_range) != 16);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_ring_offsets) != 40);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_counters) != 32);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_offsets) != 112);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_setup) != 176);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_submit) != 16);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_complete) != 24);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_info) != 112);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_uring_cmd) != 16);
	BUILD_BUG_ON(sizeof(struct nrio_shared) > PAGE_SIZE);
	/* Released command numbers never change (0xc0b0ba01... on x86). */
	BUILD_BUG_ON(NVME_RING_IO_SETUP !=
		     _IOC(_IOC_READ | _IOC_WRITE, 0xBA, 0x01, 176));
	BUILD_BUG_ON(NVME_RING_IO_SUBMIT != _IOC(_IOC_WRITE, 0xBA, 0x02, 16));
	BUILD_BUG_ON(NVME_RING_IO_COMPLETE != _IOC(_IOC_WRITE, 0xBA, 0x03, 24));
	BUILD_BUG_ON(NVME_RING_IO_INFO !=
		     _IOC(_IOC_READ | _IOC_WRITE, 0xBA, 0x04, 112));
	BUILD_BUG_ON(NVME_RING_IO_URING_SUBMIT !=
		     _IOC(_IOC_WRITE, 0xBA, 0x10, 16));
	BUILD_BUG_ON(NVME_RING_IO_URING_WAIT !=
		     _IOC(_IOC_WRITE, 0xBA, 0x11, 16));
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_setup) >
		     NVME_RING_IO_MAX_STRUCT_SIZE);
}

static int __init nrio_init(void)
{
	int ret;

	nrio_build_bugs();

	nrio_wq = alloc_workqueue("nvme_ring_io", WQ_UNBOUND, 0);
	if (!nrio_wq)
		return -ENOMEM;
	ret = nrio_io_init();
	if (ret)
		goto out_wq;
	ret = nrio_region_init();
	if (ret)
		goto out_io;
	ret = misc_register(&nrio_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", NVME_RING_IO_DEVNAME,
		       ret);
		goto out_region;
	}
	ret = nrio_uio_init(&nrio_fops);
	if (ret)
		goto out_misc;
	smp_store_release(&nrio_ready, true);
	return 0;

out_misc:
	misc_deregister(&nrio_misc);
out_region:
	nrio_region_exit();
out_io:
	nrio_io_exit();
out_wq:
	destroy_workqueue(nrio_wq);
	return ret;
}

static void __exit nrio_exit(void)
{
	nrio_uio_exit();
	misc_deregister(&nrio_misc);
	/* Waits for a context free that dropped the last module reference. */
	destroy_workqueue(nrio_wq);
	nrio_region_exit();
	nrio_io_exit();
}

module_init(nrio_init);
module_exit(nrio_exit);

MODULE_DESCRIPTION("Zero-copy NVMe I/O through shared SQ/CQ descriptor rings");
MODULE_LICENSE("GPL");
