/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: internal definitions shared by the module's files.
 */
#ifndef _NRIO_H
#define _NRIO_H

#include <linux/cache.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/nvme_ring_io.h>
#include <linux/unified_io_region.h>

#include "compat.h"
#include "region.h"

/* /dev/nvme_ring_io is root-only unless an administrator says otherwise. */
#define NRIO_DEV_MODE		0600

/*
 * The first page of the region: ring indices, ring flags and counters,
 * each written by one side only and each on its own cache line.
 */
struct nrio_shared {
	u32 sq_producer ____cacheline_aligned_in_smp;	/* user */
	u32 sq_consumer ____cacheline_aligned_in_smp;	/* kernel */
	u32 sq_flags ____cacheline_aligned_in_smp;	/* kernel */
	u32 cq_producer ____cacheline_aligned_in_smp;	/* kernel */
	u32 cq_consumer ____cacheline_aligned_in_smp;	/* user */
	u32 cq_flags ____cacheline_aligned_in_smp;	/* kernel */
	struct nvme_ring_io_counters counters ____cacheline_aligned_in_smp;
};

struct nvme_command;
/* nvme_init_request(), the same on 6.1 and 6.12. */
typedef void (nrio_init_rq_fn)(struct request *req, struct nvme_command *cmd);

/* The namespace a context is bound to. */
struct nrio_ns {
	struct file		*file;		/* the caller's fd, held */
	struct block_device	*bdev;
	struct nrio_bdev_handle	handle;		/* for a /dev/ngXnY fd */
	bool			own_bdev;
	bool			can_read;
	bool			can_write;
	bool			generic;
	u32			nsid;
	unsigned int		lba_shift;
	u32			dma_align;	/* queue_dma_alignment() mask */
	u32			max_segments;
	u64			max_transfer;
	/* Direct mode: nvme_core's nvme_init_request(), held (ns.c). */
	nrio_init_rq_fn		*init_rq;
};

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
	 * Direct mode's preallocated I/O (io.c): free ones on dio_free (any
	 * context adds), taken all at once into dio_cache under ctx->lock.
	 */
	struct nrio_dio		*dios;
	struct llist_head	dio_free;
	struct llist_node	*dio_cache;

	struct work_struct	free_work;
};

/* A descriptor's I/O completed with @res: its owner's callback. */
typedef void (nrio_end_io_fn)(void *data, u64 user_data, int res);

/* The kernel's private copy of one SQ descriptor. */
struct nrio_desc {
	u8	opcode;
	u8	flags;
	u16	resv1;
	u32	nsid;
	u32	cdw2, cdw3;
	u64	metadata_off;
	u64	data_off;
	u32	metadata_len;
	u32	data_len;
	u32	cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
	u32	timeout_ms;
	u32	resv2;
	u64	user_data;
	/*
	 * Who completes it: NULL, the engine posts its CQ entry; else this,
	 * from its end_io (any context; a chain's step).  Never polled.
	 */
	nrio_end_io_fn *end_io;
	void	*end_data;
	bool	nowait;		/* IO_URING_F_NONBLOCK: -EAGAIN, not a wait */
};


/* The kernel's copy of a BPF descriptor. */
struct nrio_bpf_desc {
	u64	data_off;
	u32	data_len;
	u32	slot;
	u64	arg;
	u64	user_data;
	u32	max_hops;	/* 0: not a read-next step */
	bool	resv;		/* a reserved field was set */
};

/*
 * A read-next BPF step's state across its program's runs (in its chain).
 * In: what the next run sees; out: the read the last run asked for.
 */
struct nrio_bpf_hop {
	u32	hops;		/* reads issued */
	u32	len;		/* the range the next run sees */
	u64	off;
	int	res;		/* the read in flight's result, from end_io */
	u32	next_nlb;
	u32	next_resv;
	u64	next_slba;
	u64	next_off;
	u64	scratch[UNIFIED_IO_BPF_SCRATCH / 8];
	struct nrio_bpf_run *run;	/* registered for the whole step */
	struct bpf_prog *prog;		/* held for the whole step, as run */
	u32	run_id;
};

/* The kernel's copy of a NET_SEND or NET_RECV descriptor. */
struct nrio_net_desc {
	u64	data_off;
	u32	data_len;
	u32	sock;
	u32	msg_flags;
	bool	send;
	bool	resv;		/* a reserved field was set */
};

/* A context's BPF programs (bpf.c), and its handle for XDP programs. */
struct nrio_bpf_slots {
	spinlock_t		lock;		/* prog[] */
	struct bpf_prog		*prog[UNIFIED_IO_BPF_SLOTS];
	u32			xdp_id;		/* UNIFIED_IO_XDP_HANDLE, 0: none */
	u32			xdp_cookie;
};

/* A context's sockets (net.c). */
struct nrio_net_socks {
	spinlock_t		lock;		/* sock[], waits */
	struct file		*sock[UNIFIED_IO_SOCK_SLOTS];
	struct list_head	waits;		/* steps waiting on a socket */
};

/* One descriptor in flight: the bioset front-pads every bio with this. */
struct nrio_io {
	struct nrio_ctx		*ctx;
	nrio_end_io_fn		*end_io;	/* as struct nrio_desc's */
	void			*end_data;
	u64			user_data;
	u32			bytes;
	bool			polled;
	bool			dio;		/* in a struct nrio_dio */
	atomic_t		nowait;		/* NRIO_NOWAIT_*, io.c */
	struct list_head	poll_node;	/* on ctx->poll_list, if polled */
	struct bio		bio;		/* must be last */
};

/*
 * A direct-mode READ or WRITE of at most NRIO_DIO_VECS folio runs, not
 * polled, takes its bio from these, preallocated per context (up to
 * NRIO_DIO_MAX of them): the request is then its only allocation.  The
 * rest, and all when they run out, take bios from the bio set.
 */
#define NRIO_DIO_VECS	4
#define NRIO_DIO_MAX	1024

struct nrio_dio {
	struct llist_node	node;
	struct bio_vec		vecs[NRIO_DIO_VECS];
	struct nrio_io		io;		/* must be last: ends in a bio */
};

/* What both devices' SETUP ask for. */
struct nrio_setup_req {
	bool		iopoll;
	bool		direct;		/* READ/WRITE as NVMe requests */
	u32		sq_entries;
	u32		cq_entries;	/* 0: 2 * sq_entries */
	u32		sqe_size;
	u64		data_size;
	int		nvme_fd;
	bool		nvme_optional;	/* nvme_fd -1: no namespace */
	/* data_off alignment: the queue's DMA alignment, else an LBA. */
	bool		align_dma;
	int		numa_node;	/* may be set by prepare() */
	/* With the namespace bound, before the region is made. */
	int		(*prepare)(struct nrio_ctx *ctx,
				   struct nrio_setup_req *req);
	const void	*priv;
};

/* ctx.c */
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

/* file.c: the file operations both devices share */
struct nrio_dev {
	struct miscdevice		misc;
	const struct nrio_dev_ops	*ops;
};
int nrio_dev_register(struct nrio_dev *dev, const struct nrio_dev_ops *ops);
void nrio_dev_unregister(struct nrio_dev *dev);
void nrio_dev_ready(void);

/* setup.c: what both devices' SETUP and INFO share */
int nrio_copy_setup(void *k, size_t ksize, const void __user *uarg);
int nrio_info_size(const void __user *uarg, size_t ksize, u32 *usize);
long nrio_ctx_setup(struct nrio_ctx *ctx, struct nrio_setup_req *req,
		    struct nvme_ring_io_offsets __user *uoff);

/* What both INFO structs report, under the same names. */
struct nrio_info {
	u32	flags;		/* the INFO_F_ bits both devices share */
	u32	nsid;
	u32	lba_size;
	u32	max_segments;
	u64	nr_lbas;
	u64	max_transfer;
	u32	dma_alignment;
	u32	sq_entries;
	u32	cq_entries;
	s32	numa_node;
	u32	inflight;
	u64	region_size;
	u64	data_size;
	u64	huge_bytes;
	u64	bytes_moved;
	u64	bytes_copied;
	u64	canceled;
	u64	nr_chains;
	struct nvme_ring_io_counters counters;
};

void nrio_info_common(struct nrio_ctx *ctx, struct nrio_info *c);

/* Copy what both INFO structs have, by name, into @info. */
#define nrio_info_fill(info, c) do {					\
	(info)->flags = (c)->flags;					\
	(info)->nsid = (c)->nsid;					\
	(info)->lba_size = (c)->lba_size;				\
	(info)->max_segments = (c)->max_segments;			\
	(info)->nr_lbas = (c)->nr_lbas;					\
	(info)->max_transfer = (c)->max_transfer;			\
	(info)->region_size = (c)->region_size;				\
	(info)->data_size = (c)->data_size;				\
	(info)->huge_bytes = (c)->huge_bytes;				\
	(info)->sq_entries = (c)->sq_entries;				\
	(info)->cq_entries = (c)->cq_entries;				\
	(info)->numa_node = (c)->numa_node;				\
	(info)->inflight = (c)->inflight;				\
	(info)->counters = (c)->counters;				\
} while (0)

/* submit.c */
int nrio_submit(struct nrio_ctx *ctx, u32 to_submit, bool nowait);

/* ns.c */
int nrio_ns_bind(struct nrio_ns *ns, int fd);
int nrio_ns_direct(struct nrio_ns *ns);
void nrio_ns_unbind(struct nrio_ns *ns);
void nrio_ns_device_ktype(const struct kobj_type *ktype);

/* io.c */
int nrio_io_init(void);
void nrio_io_exit(void);
int nrio_dio_alloc(struct nrio_ctx *ctx, u32 nr);
void nrio_dio_free(struct nrio_ctx *ctx);
int nrio_issue(struct nrio_ctx *ctx, const struct nrio_desc *d);
bool nrio_nowait_opcode(u8 opcode);
int nrio_poll_cq(struct nrio_ctx *ctx, u32 min_complete, ktime_t deadline);
void nrio_poll_drain(struct nrio_ctx *ctx);

/* unified.c: /dev/unified_io_region */
extern const struct nrio_dev_ops nrio_unified_ops;
void nrio_unified_init(void);

/* nvme_dev.c: /dev/nvme_ring_io */
extern const struct nrio_dev_ops nrio_nvme_ops;

/* net.c */
/*
 * A NET step of a chain, from its start to its CQ entry.  While it waits
 * for its socket, wait is on the socket's wait queue and node on
 * ctx->net->waits; armed says who owns it (net.c), and whoever claims it
 * (the wake-up or the context's close) queues work.
 */
struct nrio_net_step {
	struct nrio_net_desc	d;
	struct file		*file;		/* the socket, held */
	struct bio_vec		*bvec;		/* the data area's pages */
	unsigned int		nr_bvec;
	u32			done;		/* bytes moved so far */
	__poll_t		events;		/* EPOLLIN or EPOLLOUT */
	bool			active;		/* started, no CQ entry yet */
	atomic_t		armed;
	wait_queue_head_t	*head;
	struct wait_queue_entry	wait;
	struct list_head	node;
	struct work_struct	*work;		/* the chain's */
};

void nrio_net_ctx_init(struct nrio_net_socks *socks);
void nrio_net_ctx_free(struct nrio_net_socks *socks);
long nrio_net_attach(struct nrio_ctx *ctx, bool attach,
		     const struct unified_io_sock_attach __user *uarg);
int nrio_net_issue(struct nrio_ctx *ctx, struct nrio_net_step *step,
		   int *res);
int nrio_net_resume(struct nrio_ctx *ctx, struct nrio_net_step *step,
		    int *res);
void nrio_net_cancel_all(struct nrio_ctx *ctx);

/* bpf.c */
void nrio_bpf_init(void);
bool nrio_bpf_available(void);
void nrio_bpf_ctx_init(struct nrio_bpf_slots *bs);
void nrio_bpf_ctx_free(struct nrio_bpf_slots *bs);
long nrio_bpf_xdp_handle(struct nrio_ctx *ctx,
			 struct unified_io_xdp_handle __user *uarg);
long nrio_bpf_attach(struct nrio_ctx *ctx, bool attach,
		     const struct unified_io_bpf_attach __user *uarg);
int nrio_bpf_run(struct nrio_ctx *ctx, const struct nrio_bpf_desc *b,
		 bool *invalid, struct nrio_bpf_hop *hop);
u32 nrio_bpf_max_hops(void);
void nrio_bpf_hop_end(struct nrio_bpf_hop *hop);
int nrio_bpf_uring(struct nrio_ctx *ctx, struct io_uring_cmd *cmd,
		   unsigned int issue_flags);
/* The kfuncs, declared for sparse and -Wmissing-prototypes. */
int unified_io_load(u64 handle, u64 off, void *buf, u32 buf__sz);
int unified_io_store(u64 handle, u64 off, void *buf, u32 buf__sz);
int unified_io_xdp_load(u64 handle, u64 off, void *buf, u32 buf__sz);
int unified_io_xdp_store(u64 handle, u64 off, void *buf, u32 buf__sz);

/* uring.c */
int nrio_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);

#endif /* _NRIO_H */
