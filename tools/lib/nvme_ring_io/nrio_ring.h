/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * nrio_ring.h: userspace accessors for the nvme_ring_io SQ and CQ rings.
 *
 * Header-only, C11/GNU C and C++.  The memory ordering follows the rules in
 * <linux/nvme_ring_io.h>: a producer writes descriptors and then
 * store-releases its index; a consumer load-acquires the other side's index
 * before it reads descriptors, and store-releases its own index after.
 *
 * One thread at a time may produce into a ring and one thread at a time may
 * consume from it (they may be different threads).  Callers that share a
 * side between threads must serialise that side themselves.
 *
 * Producing (the SQ):
 *	__u32 idx;
 *	if (nrio_ring_reserve(&sq, 1, &idx) == 1) {
 *		struct nvme_ring_io_sqe *sqe = nrio_sqe(&sq, idx);
 *		... fill *sqe ...
 *		nrio_ring_submit(&sq, 1);
 *	}
 * Consuming (the CQ):
 *	__u32 idx, n = nrio_ring_peek(&cq, 32, &idx);
 *	for (i = 0; i < n; i++)
 *		use(nrio_cqe(&cq, idx + i));
 *	nrio_ring_release(&cq, n);
 */
#ifndef NRIO_RING_H
#define NRIO_RING_H

#include <linux/nvme_ring_io.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nrio_ring {
	__u32		*producer;
	__u32		*consumer;
	__u32		*flags;
	void		*desc;
	__u32		mask;
	__u32		entries;
	__u32		desc_size;
	__u32		cached_prod;	/* producer side: next to reserve */
	__u32		cached_cons;	/* consumer side: next to peek */
};

#define nrio_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define nrio_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* Bind a ring to a mapped region at @region using SETUP's offsets. */
static inline void nrio_ring_init(struct nrio_ring *r, void *region,
				  const struct nvme_ring_io_ring_offsets *o)
{
	char *base = (char *)region;

	r->producer = (__u32 *)(base + o->producer);
	r->consumer = (__u32 *)(base + o->consumer);
	r->flags = (__u32 *)(base + o->flags);
	r->desc = base + o->desc;
	r->entries = o->entries;
	r->mask = o->entries - 1;
	r->desc_size = o->desc_size;
	r->cached_prod = nrio_load_acquire(r->producer);
	r->cached_cons = nrio_load_acquire(r->consumer);
}

/* --- producer side ----------------------------------------------------- */

/* Free slots, refreshing the consumer index only when needed. */
static inline __u32 nrio_ring_free(struct nrio_ring *r, __u32 want)
{
	__u32 free = r->entries - (r->cached_prod - r->cached_cons);

	if (free >= want)
		return free;
	r->cached_cons = nrio_load_acquire(r->consumer);
	return r->entries - (r->cached_prod - r->cached_cons);
}

/*
 * Reserve up to @n slots; returns how many (0 if the ring is full) and the
 * first index in *@idx.  Fill them, then nrio_ring_submit() that many.
 */
static inline __u32 nrio_ring_reserve(struct nrio_ring *r, __u32 n,
				      __u32 *idx)
{
	__u32 free = nrio_ring_free(r, n);

	if (n > free)
		n = free;
	*idx = r->cached_prod;
	r->cached_prod += n;
	return n;
}

/* Publish @n reserved and filled slots to the consumer. */
static inline void nrio_ring_submit(struct nrio_ring *r, __u32 n)
{
	nrio_store_release(r->producer, *r->producer + n);
}

/* --- consumer side ----------------------------------------------------- */

/* Up to @n filled entries from *@idx on; advance with nrio_ring_release. */
static inline __u32 nrio_ring_peek(struct nrio_ring *r, __u32 n, __u32 *idx)
{
	__u32 ready = r->cached_prod - r->cached_cons;

	if (ready < n) {
		r->cached_prod = nrio_load_acquire(r->producer);
		ready = r->cached_prod - r->cached_cons;
	}
	if (ready > r->entries)		/* the other side misbehaves */
		ready = 0;
	if (n > ready)
		n = ready;
	*idx = r->cached_cons;
	r->cached_cons += n;
	return n;
}

/* Hand @n peeked entries back to the producer. */
static inline void nrio_ring_release(struct nrio_ring *r, __u32 n)
{
	nrio_store_release(r->consumer, *r->consumer + n);
}

/* Entries ready to consume right now (reads the producer index). */
static inline __u32 nrio_ring_ready(struct nrio_ring *r)
{
	return nrio_load_acquire(r->producer) - *r->consumer;
}

static inline __u32 nrio_ring_need_wakeup(const struct nrio_ring *r)
{
	return __atomic_load_n(r->flags, __ATOMIC_RELAXED) &
	       NVME_RING_IO_RING_F_NEED_WAKEUP;
}

/* Descriptor @idx of any ring, desc_size bytes each. */
static inline void *nrio_ring_desc(struct nrio_ring *r, __u32 idx)
{
	return (char *)r->desc + (unsigned long)(idx & r->mask) * r->desc_size;
}

static inline struct nvme_ring_io_sqe *nrio_sqe(struct nrio_ring *sq,
						__u32 idx)
{
	return (struct nvme_ring_io_sqe *)sq->desc + (idx & sq->mask);
}

static inline struct nvme_ring_io_cqe *nrio_cqe(struct nrio_ring *cq,
						__u32 idx)
{
	return (struct nvme_ring_io_cqe *)cq->desc + (idx & cq->mask);
}

#ifdef __cplusplus
}
#endif

#endif /* NRIO_RING_H */
