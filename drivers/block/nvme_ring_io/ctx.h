/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: the context, one per open file of either device (ctx.c),
 * and the operations that make it one device's.
 */
#ifndef _NRIO_CTX_H
#define _NRIO_CTX_H

#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/nvme_ring_io.h>
#include <linux/unified_io_region.h>

#include "compat.h"
#include "ns.h"
#include "region.h"

/* Both device nodes are root-only unless an administrator says otherwise. */
#define NRIO_DEV_MODE		0600

struct io_uring_cmd;

struct nrio_ctx;

/*
 * What makes a context one device's or the other's: chosen at open from
 * the device node, never changed.
 */
struct nrio_dev_ops {
	const char	*name;		/* of the node under /dev */
	/*
	 * The device's ioctl numbers.  SETUP and INFO are versioned by
	 * their size field: a caller built with other size bits in the
	 * number is served the same (file.c).
	 */
	unsigned int	setup_cmd;
	unsigned int	info_cmd;
	unsigned int	submit_cmd;
	unsigned int	complete_cmd;
	long	(*setup)(struct nrio_ctx *ctx, void __user *uarg);
	long	(*info)(struct nrio_ctx *ctx, void __user *uarg);
	/* The device's other ioctls (-ENOTTY for unknown ones), or NULL. */
	long	(*ioctl)(struct nrio_ctx *ctx, unsigned int cmd,
			 void __user *uarg);
	/*
	 * SUBMIT's consumer, ctx->lock held: consume up to @budget of the
	 * @avail descriptors ready from @head; returns how many.  With
	 * @nowait stop, setting *@again, at one that would have to wait.
	 */
	u32	(*consume)(struct nrio_ctx *ctx, u32 head, u32 avail,
			   u32 budget, bool nowait, bool *again);
	/* Could all of what consume() would consume go with @nowait? */
	bool	(*nowait_ok)(struct nrio_ctx *ctx, u32 head, u32 avail,
			     u32 budget);
	/* The device's io_uring commands besides SUBMIT and WAIT, or NULL. */
	int	(*uring_cmd)(struct nrio_ctx *ctx, struct io_uring_cmd *cmd,
			     unsigned int issue_flags);
	/* The file is closing (the region published): stop what waits. */
	void	(*release)(struct nrio_ctx *ctx);
	/*
	 * Mandatory: the context is freed, or its SETUP failed; free what
	 * the device's SETUP allocated (direct mode's I/O included: only
	 * /dev/nvme_ring_io asks for it).
	 */
	void	(*free)(struct nrio_ctx *ctx);
};

/* One open file of /dev/nvme_ring_io or /dev/unified_io_region. */
struct nrio_ctx {
	const struct nrio_dev_ops *ops;
	refcount_t		ref;		/* file + in-flight I/O */
	struct mutex		lock;		/* SETUP; serialises SUBMIT */
	struct nrio_region	*region;	/* set once, by SETUP */
	struct nrio_ns		ns;
	int			numa_node;
	bool			polled;		/* READ/WRITE use REQ_POLLED */
	bool			dead;		/* namespace gone, under lock */
	bool			closing;	/* release() ran */
	u32			data_align_mask; /* of READ/WRITE data_off */
	u32			sq_mask;
	u32			cq_mask;
	u32			sq_head;	/* consumer index, under lock */
	u64			submitted;	/* under lock */
	u64			cq_full;	/* under lock */

	spinlock_t		cq_lock;
	u32			cq_tail;	/* producer index */
	u32			inflight;	/* CQ slots reserved */
	u64			completed;
	u64			sq_invalid;
	u64			bytes_moved;	/* by READ/WRITE, in place */
	u64			bytes_copied;	/* by NET steps, one copy */
	u64			nr_chains;	/* under ctx->lock */
	u64			canceled;
	wait_queue_head_t	cq_wait;
	struct list_head	uring_waiters;	/* parked URING_WAITs */
	struct delayed_work	uring_reap;	/* 6.1: wait.c */
	struct list_head	poll_list;	/* polled I/O, oldest first */

	spinlock_t		resume_lock;
	struct list_head	resumes;	/* waits to resume, resume.c */
	unsigned int		nr_resumes;

	/* /dev/unified_io_region's, set by its SETUP; NULL otherwise. */
	struct nrio_unified	*unified;
	struct nrio_bpf_slots	*bpf;
	struct nrio_net_socks	*net;
	struct nrio_chains	*chains;

	/*
	 * Direct mode's preallocated I/O (direct.c; given back by
	 * inflight.c): free ones on dio_free (any context adds), taken
	 * all at once into dio_cache under ctx->lock.
	 */
	struct nrio_dio		*dios;
	struct llist_head	dio_free;
	struct llist_node	*dio_cache;

	struct work_struct	free_work;
};

int nrio_ctx_init(void);
void nrio_ctx_exit(void);
struct nrio_ctx *nrio_ctx_alloc(const struct nrio_dev_ops *ops);
void nrio_ctx_put(struct nrio_ctx *ctx);
void nrio_ctx_put_last(struct nrio_ctx *ctx);
extern struct workqueue_struct *nrio_wq;

/* The region, once SETUP has published it; NULL before. */
static inline struct nrio_region *nrio_ctx_region(struct nrio_ctx *ctx)
{
	/* Pairs with the store-release at the end of SETUP. */
	return smp_load_acquire(&ctx->region);
}

#endif /* _NRIO_CTX_H */
