/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: one NVMe descriptor in flight (inflight.c), whichever way
 * it goes (a bio, or a direct-mode request): the kernel's copy of the
 * descriptor, the struct nrio_io the bio set front-pads every bio with,
 * its end, and polling.
 */
#ifndef _NRIO_INFLIGHT_H
#define _NRIO_INFLIGHT_H

#include <linux/bio.h>
#include <linux/bvec.h>
#include <linux/llist.h>

#include "ctx.h"

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

/* One descriptor in flight: the bioset front-pads every bio with this. */
struct nrio_io {
	struct nrio_ctx		*ctx;
	nrio_end_io_fn		*end_io;	/* as struct nrio_desc's */
	void			*end_data;
	u64			user_data;
	u32			bytes;
	bool			polled;
	bool			dio;		/* in a struct nrio_dio */
	atomic_t		nowait;		/* NRIO_NOWAIT_* below; io.c's */
	struct list_head	poll_node;	/* on ctx->poll_list, if polled */
	struct bio		bio;		/* must be last */
};

/*
 * A direct-mode READ or WRITE of at most NRIO_DIO_VECS folio runs, not
 * polled, takes its bio from these, preallocated per context (up to
 * NRIO_DIO_MAX of them, direct.h): the request is then its only
 * allocation.  The rest, and all when they run out, take bios from the
 * bio set.
 */
#define NRIO_DIO_VECS	4

struct nrio_dio {
	struct llist_node	node;
	struct bio_vec		vecs[NRIO_DIO_VECS];
	struct nrio_io		io;		/* must be last: ends in a bio */
};

/*
 * io->nowait: a bio sent with REQ_NOWAIT (IO_URING_F_NONBLOCK) that the
 * block layer refuses rather than wait (no tag, a frozen queue, a split)
 * is ended with BLK_STS_AGAIN inside submit_bio(), before anything moved:
 * then the submitter takes it back and the descriptor stays in the SQ.
 */
enum {
	NRIO_NOWAIT_NONE,
	NRIO_NOWAIT_SUBMITTING,	/* inside submit_bio() */
	NRIO_NOWAIT_BOUNCED,	/* refused there: the submitter's again */
};

extern struct bio_set nrio_bio_set;

/*
 * bio_alloc_bioset() with GFP_KERNEL waits on the bio set's mempool rather
 * than fail, and nr_vecs never exceeds BIO_MAX_VECS.  With @nowait it
 * waits for nothing and may fail: NULL.
 */
static inline struct bio *nrio_alloc(struct block_device *bdev,
				     unsigned short nr_vecs, blk_opf_t opf,
				     bool nowait)
{
	return bio_alloc_bioset(bdev, nr_vecs, opf,
				nowait ? GFP_NOWAIT | __GFP_NOWARN : GFP_KERNEL,
				&nrio_bio_set);
}

/* The I/O state of @bio: descriptor @d, the context's reference. */
static inline struct nrio_io *nrio_io_start(struct nrio_ctx *ctx,
					    const struct nrio_desc *d,
					    struct bio *bio, u32 bytes)
{
	struct nrio_io *io = container_of(bio, struct nrio_io, bio);

	io->ctx = ctx;
	io->end_io = d->end_io;
	io->end_data = d->end_data;
	io->user_data = d->user_data;
	io->bytes = bytes;
	io->polled = false;
	io->dio = false;
	atomic_set(&io->nowait, NRIO_NOWAIT_NONE);
	refcount_inc(&ctx->ref);
	return io;
}

/*
 * Put polled I/O on the poll list (oldest first) before it can complete,
 * so that a poller always finds the oldest I/O in flight.
 */
static inline void nrio_add_polled(struct nrio_ctx *ctx, struct nrio_io *io)
{
	io->bio.bi_opf |= REQ_POLLED;
	io->polled = true;
	spin_lock_irq(&ctx->cq_lock);
	list_add_tail(&io->poll_node, &ctx->poll_list);
	spin_unlock_irq(&ctx->cq_lock);
}

int nrio_io_init(void);
void nrio_io_exit(void);
void nrio_io_done(struct nrio_io *io, blk_status_t status);
void nrio_dio_put(struct nrio_ctx *ctx, struct nrio_io *io);
int nrio_poll_cq(struct nrio_ctx *ctx, u32 min_complete, ktime_t deadline);
void nrio_poll_drain(struct nrio_ctx *ctx);

#endif /* _NRIO_INFLIGHT_H */
