// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: the file operations both devices share.
 *
 * Each device node is a struct nrio_dev: its miscdevice and its
 * operations (struct nrio_dev_ops), which open() gives the new context.
 * What differs between the devices (SETUP, INFO, their own ioctls, their
 * descriptors and SUBMIT's consumer) is in those operations; SUBMIT,
 * COMPLETE, mmap and io_uring commands are the same code for both.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "file.h"
#include "inflight.h"
#include "region.h"
#include "resume.h"
#include "submit.h"
#include "uring.h"
#include "wait.h"

/*
 * Set once init cannot fail any more.  The first device node exists
 * before the second is registered; a file opened on it in between would
 * keep a pointer into a module whose failed init frees it, as nothing
 * waits for module references then.  So no open succeeds before this.
 */
static bool nrio_ready;

static int nrio_open(struct inode *inode, struct file *file)
{
	/* misc_open() left the miscdevice here. */
	struct nrio_dev *dev = container_of(file->private_data,
					    struct nrio_dev, misc);
	struct nrio_ctx *ctx;

	/* Pairs with the store-release in nrio_dev_ready(). */
	if (!smp_load_acquire(&nrio_ready))
		return -ENODEV;
	ctx = nrio_ctx_alloc(dev->ops);
	if (!ctx)
		return -ENOMEM;
	nrio_cq_wait_init(ctx);
	file->private_data = ctx;
	return stream_open(inode, file);
}

static int nrio_release(struct inode *inode, struct file *file)
{
	struct nrio_ctx *ctx = file->private_data;

	/* Chain steps not started yet are cancelled from now on. */
	WRITE_ONCE(ctx->closing, true);
	/* The acquire pairs with the release that publishes the region. */
	if (ctx->ops->release && smp_load_acquire(&ctx->region))
		ctx->ops->release(ctx);
	if (ctx->polled)
		nrio_poll_drain(ctx);
	/*
	 * A parked URING_WAIT holds the file: none is parked now, and so
	 * the reaper (6.1) is not armed again once it has run.
	 */
	cancel_delayed_work_sync(&ctx->uring_reap);
	/* No ioctl runs any more: their restart records go. */
	nrio_resume_free_all(ctx);
	nrio_ctx_put_last(ctx);
	return 0;
}

static int nrio_wait(struct nrio_ctx *ctx, u32 min_complete, ktime_t deadline,
		     bool poll)
{
	if (ctx->polled || poll)
		return nrio_poll_cq(ctx, min_complete, deadline);
	return nrio_cq_wait(ctx, min_complete, deadline);
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

static long nrio_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct nrio_ctx *ctx = file->private_data;
	const struct nrio_dev_ops *ops = ctx->ops;
	void __user *uarg = (void __user *)arg;

	if (NRIO_IOC_NOSIZE(cmd) == NRIO_IOC_NOSIZE(ops->setup_cmd))
		return ops->setup(ctx, uarg);
	if (NRIO_IOC_NOSIZE(cmd) == NRIO_IOC_NOSIZE(ops->info_cmd))
		return ops->info(ctx, uarg);
	if (cmd == ops->submit_cmd)
		return nrio_submit_ioctl(ctx, cmd, uarg);
	if (cmd == ops->complete_cmd)
		return nrio_complete_ioctl(ctx, cmd, uarg);
	return ops->ioctl ? ops->ioctl(ctx, cmd, uarg) : -ENOTTY;
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

/* Create the device node @ops says, in @dev. */
int nrio_dev_register(struct nrio_dev *dev, const struct nrio_dev_ops *ops)
{
	int ret;

	dev->ops = ops;
	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = ops->name;
	dev->misc.mode = NRIO_DEV_MODE;
	dev->misc.fops = &nrio_fops;
	ret = misc_register(&dev->misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", ops->name, ret);
		return ret;
	}
	nrio_ns_device_ktype(dev->misc.this_device->kobj.ktype);
	return 0;
}

void nrio_dev_unregister(struct nrio_dev *dev)
{
	misc_deregister(&dev->misc);
}

/* Every node exists and init cannot fail any more: opens may succeed. */
void nrio_dev_ready(void)
{
	smp_store_release(&nrio_ready, true);
}
