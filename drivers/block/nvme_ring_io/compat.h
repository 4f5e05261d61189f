/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: the differences between the supported kernels (6.1 and
 * 6.12), and nothing else.
 */
#ifndef _NRIO_COMPAT_H
#define _NRIO_COMPAT_H

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/string.h>
#include <linux/version.h>

/* vm_flags became read-only behind accessors in 6.3. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * A block device the module opened itself (for a /dev/ngXnY fd).  6.9
 * turned block device handles into struct file.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
struct nrio_bdev_handle {
	struct file *file;
};

static inline struct block_device *
nrio_bdev_open(dev_t devt, bool write, struct nrio_bdev_handle *h)
{
	struct file *f;

	f = bdev_file_open_by_dev(devt, BLK_OPEN_READ |
				  (write ? BLK_OPEN_WRITE : 0), NULL, NULL);
	if (IS_ERR(f))
		return ERR_CAST(f);
	h->file = f;
	return file_bdev(f);
}

static inline void nrio_bdev_close(struct nrio_bdev_handle *h)
{
	fput(h->file);
}

static inline struct block_device *nrio_file_bdev(struct file *file)
{
	return file_bdev(file);
}
#else
struct nrio_bdev_handle {
	struct block_device *bdev;
	fmode_t mode;
};

static inline struct block_device *
nrio_bdev_open(dev_t devt, bool write, struct nrio_bdev_handle *h)
{
	struct block_device *bdev;
	fmode_t mode = FMODE_READ | (write ? FMODE_WRITE : 0);

	bdev = blkdev_get_by_dev(devt, mode, NULL);
	if (IS_ERR(bdev))
		return bdev;
	h->bdev = bdev;
	h->mode = mode;
	return bdev;
}

static inline void nrio_bdev_close(struct nrio_bdev_handle *h)
{
	blkdev_put(h->bdev, h->mode);
}

static inline struct block_device *nrio_file_bdev(struct file *file)
{
	return I_BDEV(file->f_mapping->host);
}
#endif

/*
 * May a process that opened /dev/ngXnY do block I/O on its namespace?
 * From 6.2 the kernel lets any opener of the generic node issue I/O
 * commands (writes need the node open for writing); 6.1 requires
 * CAP_SYS_ADMIN for every passthrough command.
 */
static inline bool nrio_generic_io_allowed(void)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return true;
#else
	return capable(CAP_SYS_ADMIN);
#endif
}

/* Can bios to @bdev be polled (REQ_POLLED)?  6.11 made it a feature bit. */
static inline bool nrio_bdev_can_poll(struct block_device *bdev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	return bdev_get_queue(bdev)->limits.features & BLK_FEAT_POLL;
#else
	return test_bit(QUEUE_FLAG_POLL, &bdev_get_queue(bdev)->queue_flags);
#endif
}

/*
 * io_uring commands: the header moved in 6.5 (io_uring/cmd.h), the SQE
 * pointer replaced the raw command pointer, and only 6.7+ can cancel a
 * queued command when the ring goes away.
 *
 * 6.7+: a command marked cancelable is hashed on the ring's list of
 * cancelable commands, and ring teardown or the exit (or exec) of the
 * task that issued it calls ->uring_cmd() with IO_URING_F_CANCEL.  Only
 * io_uring_cmd_done() unhashes it, so a marked command must end there,
 * and it must be marked before anything else can complete it.
 *
 * 6.1 has no such call: io_uring waits for ever for a command that the
 * driver does not complete, and with it the ring, its files and the
 * issuing task's io_uring state stay.  The driver has to look itself:
 * nrio_uring_orphaned() says whether 6.7+ would cancel the command now,
 * that is whether its ring is being torn down (its references were
 * killed on the last close) or its task cancels its io_uring requests
 * (exit, exec: in_idle, set for good on exit) or is exiting.  It reads
 * io_uring's own request (include/linux/io_uring_types.h), which holds
 * its ring and a reference on its task for as long as it is not
 * complete.
 *
 * 6.1's io_uring also takes a positive return of ->uring_cmd() (a count)
 * for an error: issued inline it fails the command's links, and issued
 * from io-wq (IOSQE_ASYNC, or after -EAGAIN) it posts no CQE at all, so
 * the request never completes and its ring never goes away.  There a
 * positive result goes through io_uring_cmd_done() instead
 * (NRIO_URING_RET_POSITIVE false).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#include <linux/io_uring/cmd.h>
#include <linux/io_uring_types.h>

#define NRIO_URING_CAN_CANCEL	true
#define NRIO_URING_RET_POSITIVE	true

static inline const void *nrio_uring_payload(struct io_uring_cmd *cmd)
{
	return io_uring_sqe_cmd(cmd->sqe);
}

static inline bool nrio_uring_is_cancel(unsigned int issue_flags)
{
	return issue_flags & IO_URING_F_CANCEL;
}

static inline void nrio_uring_mark_cancelable(struct io_uring_cmd *cmd,
					      unsigned int issue_flags)
{
	io_uring_cmd_mark_cancelable(cmd, issue_flags);
}

static inline bool nrio_uring_orphaned(struct io_uring_cmd *cmd)
{
	return false;
}

/*
 * A command that says -EAGAIN is issued again from io-wq, after
 * io_uring_enter() has returned and the application may have reused its
 * SQ ring slot.  6.12's io_uring_cmd() then copies the SQE into the
 * request's async data (struct uring_cache, two SQEs) but leaves
 * cmd->sqe pointing into the ring, so the second issue would read
 * whatever SQE the slot holds by then.  Point cmd->sqe at a copy before
 * saying -EAGAIN, as later kernels do themselves; io_uring then skips
 * its own copy.  Called only on the way out with -EAGAIN.
 */
static inline void nrio_uring_keep_sqe(struct io_uring_cmd *cmd)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
	/* Up to 6.13 the async data is struct uring_cache: the SQEs first. */
	struct io_kiocb *req = cmd_to_io_kiocb(cmd);
	void *cache = req->async_data;

	if (!cache || (const void *)cmd->sqe == cache)
		return;
	memcpy(cache, cmd->sqe, sizeof(struct io_uring_sqe) *
	       (req->ctx->flags & IORING_SETUP_SQE128 ? 2 : 1));
	cmd->sqe = cache;
#endif
}
#else
#include <linux/io_uring.h>
#include <linux/io_uring_types.h>
#include <linux/percpu-refcount.h>
#include <linux/sched.h>

#define NRIO_URING_CAN_CANCEL	false
#define NRIO_URING_RET_POSITIVE	false

static inline const void *nrio_uring_payload(struct io_uring_cmd *cmd)
{
	return cmd->cmd;
}

static inline bool nrio_uring_is_cancel(unsigned int issue_flags)
{
	return false;
}

static inline void nrio_uring_mark_cancelable(struct io_uring_cmd *cmd,
					      unsigned int issue_flags)
{
}

/* 6.1 copies the command on -EAGAIN and issues the copy again. */
static inline void nrio_uring_keep_sqe(struct io_uring_cmd *cmd)
{
}

/* An incomplete command's ring is going away, or its task is. */
static inline bool nrio_uring_orphaned(struct io_uring_cmd *cmd)
{
	struct io_kiocb *req = cmd_to_io_kiocb(cmd);
	struct io_uring_task *tctx = req->task->io_uring;

	return percpu_ref_is_dying(&req->ctx->refs) ||
	       (READ_ONCE(req->task->flags) & PF_EXITING) ||
	       (tctx && atomic_read(&tctx->in_idle));
}
#endif

/*
 * The bio set's per-CPU cache (REQ_ALLOC_CACHE).  From 6.2 a cached bio
 * may be put in any context: from task context or hard irq it goes back
 * to the cache, from softirq it is freed.  6.1 recycles only polled bios
 * put in task context (its cache is not irq-safe, and bio_put() warns
 * about a cached bio put from interrupt), so there only a bio issued as
 * polled I/O asks for it (@polled), as io_uring does: never a chain
 * step, a read-next hop or a transfer of more than one bio, which
 * complete from the interrupt.
 */
static inline blk_opf_t nrio_bio_cache_opf(bool polled)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return REQ_ALLOC_CACHE;
#else
	return polled ? REQ_ALLOC_CACHE : 0;
#endif
}

/*
 * Put the bio of a descriptor's I/O.  On 6.1 even a bio issued polled
 * can complete from the interrupt: the block layer clears REQ_POLLED on
 * a bio it has to split (larger than the device takes in one request).
 * Put there, it goes back to the bio set's mempool instead of the cache
 * (bio_free() of a cached bio is what the cache's own pruning does).
 */
static inline void nrio_bio_put(struct bio *bio)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	if (in_interrupt())
		bio->bi_opf &= ~REQ_ALLOC_CACHE;
#endif
	bio_put(bio);
}

/*
 * Is @owner (of a disk's or a file's operations) nvme_core?  Direct mode
 * writes struct nvme_request into its requests' driver data, which only
 * nvme_core's transports lay out so, and a /dev/ngXnY file is bound only
 * if nvme_core made it.  Debian builds nvme_core as a module; the debug
 * kernel builds it in, and built-in code has no owner module.
 */
static inline bool nrio_owner_is_nvme_core(const struct module *owner)
{
#if IS_MODULE(CONFIG_NVME_CORE)
	return owner && !strcmp(owner->name, "nvme_core");
#elif IS_BUILTIN(CONFIG_NVME_CORE)
	return !owner;
#else
	return false;
#endif
}

static inline bool nrio_disk_is_nvme_core(struct gendisk *disk)
{
	return nrio_owner_is_nvme_core(disk->fops->owner);
}

/*
 * kfunc spellings.  6.3 named the attribute __bpf_kfunc, 6.7 added the
 * start/end markers that silence -Wmissing-prototypes, and 6.9 made kfunc
 * sets BTF_KFUNCS_START sets (a plain SET8 set is refused with -EINVAL).
 * Tested on the macros themselves, so that backports are picked up.
 */
#ifndef __bpf_kfunc
#define __bpf_kfunc __used __noclone noinline
#endif
#ifndef __bpf_kfunc_start_defs
#define __bpf_kfunc_start_defs()					\
	__diag_push();							\
	__diag_ignore_all("-Wmissing-declarations",			\
			  "Global kfuncs as their definitions will be in BTF");\
	__diag_ignore_all("-Wmissing-prototypes",			\
			  "Global kfuncs as their definitions will be in BTF")
#define __bpf_kfunc_end_defs() __diag_pop()
#endif
#ifndef BTF_KFUNCS_START
#define BTF_KFUNCS_START(name) BTF_SET8_START(name)
#define BTF_KFUNCS_END(name) BTF_SET8_END(name)
#endif

/* The module's own BTF, as the loader found it (0: none). */
static inline unsigned int nrio_module_btf_size(void)
{
#ifdef CONFIG_DEBUG_INFO_BTF_MODULES
	return THIS_MODULE->btf_data_size;
#else
	return 0;
#endif
}

#endif /* _NRIO_COMPAT_H */
