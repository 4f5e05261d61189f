/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: the SQ and CQ rings, as the kernel side sees them.
 *
 * Both rings live in the region's first pages (struct nrio_shared) and use
 * free-running u32 indices.  Userspace produces SQ descriptors and
 * consumes CQ entries; the kernel does the rest.  The operations are named
 * as net/xdp/xsk_queue.h names them: the SQ is peeked and released, CQ
 * slots are reserved (or the reservation cancelled), then posted.  Every
 * barrier pairs with one on the other side:
 *
 *  (A) userspace writes descriptors, then store-releases sq_producer;
 *      nrio_sq_peek() load-acquires it: the descriptors are visible.
 *  (B) nrio_sq_release() store-releases sq_consumer once the slots are
 *      read; userspace load-acquires it before it writes them again.
 *  (C) nrio_cq_post() writes the entry, then store-releases cq_producer;
 *      userspace load-acquires it before it reads the entry.
 *  (D) userspace reads entries, then store-releases cq_consumer;
 *      nrio_cq_reserve() load-acquires it: those slots may be written.
 *
 * A CQ slot is reserved for every descriptor before it is consumed, so
 * posting (from any context, hard irq included) never finds the ring full.
 * Indices the application lies about cost it only its own entries.
 */
#ifndef _NRIO_RING_H
#define _NRIO_RING_H

#include "ctx.h"

/* What a CQ entry's positive res counts, for INFO. */
enum nrio_data {
	NRIO_DATA_NONE,		/* not data bytes (a BPF program's value) */
	NRIO_DATA_IN_PLACE,	/* bytes a device moved in place */
	NRIO_DATA_COPIED,	/* bytes moved through one copy */
};

/*
 * The SQ descriptors ready from the consumer index on (at most a ring of
 * them); *@head is that index.  ctx->lock held.
 */
static inline u32 nrio_sq_peek(struct nrio_ctx *ctx, u32 *head)
{
	u32 ready;

	*head = ctx->sq_head;
	/* (A) */
	ready = smp_load_acquire(&ctx->region->shared->sq_producer) - *head;
	/*
	 * A producer index that lies yields at most one ring of garbage,
	 * which validation fails descriptor by descriptor.
	 */
	return min(ready, ctx->sq_mask + 1);
}

/* Slot @idx of the SQ, whose descriptors are @size bytes. */
static inline const void *nrio_sq_slot(const struct nrio_ctx *ctx, u32 idx,
				       size_t size)
{
	return ctx->region->sqes + (size_t)(idx & ctx->sq_mask) * size;
}

void nrio_sq_release(struct nrio_ctx *ctx, u32 n);

u32 nrio_cq_reserve(struct nrio_ctx *ctx, u32 want, bool all);
void nrio_cq_cancel(struct nrio_ctx *ctx, u32 n);
void nrio_cq_note_full(struct nrio_ctx *ctx);
void nrio_cq_post_full(struct nrio_ctx *ctx, u64 user_data, int res,
		       bool invalid, struct list_head *poll_node,
		       enum nrio_data data, u32 result0);
void nrio_cq_note_in_place(struct nrio_ctx *ctx, u32 bytes);

/* Post an entry that counts no data. */
static inline void nrio_cq_post(struct nrio_ctx *ctx, u64 user_data, int res,
				bool invalid)
{
	nrio_cq_post_full(ctx, user_data, res, invalid, NULL, NRIO_DATA_NONE,
			  0);
}

#endif /* _NRIO_RING_H */
