/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * nrio_internal.h: the library's core, as its other files see it (not
 * installed).
 *
 * Both handle types (struct nrio on /dev/nvme_ring_io, struct
 * nrio_unified on /dev/unified_io_region) start with a struct nrio_ctx:
 * the context's fd, its mapped region and rings, the io_uring and the
 * fixed buffers.  nrio_core.c owns it and the helpers below; the engines
 * are reached through the struct nrio_engine_ops a handle picked at
 * open, so calls go one way: handle files -> engines -> these helpers.
 *
 *   nrio_core.c       struct nrio_ctx helpers, the namespace's generic
 *                     node, fixed buffers; struct nrio and its kernel
 *                     engine
 *   nrio_unified.c    struct nrio_unified and its kernel engine
 *   nrio_passthru.c   the passthrough engine of both (nrio_passthru.h)
 *   nrio_xsk.c        AF_XDP, in libnvme_ring_io_xsk
 */
#ifndef NRIO_INTERNAL_H
#define NRIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <liburing.h>

#include "nrio_ring.h"

#define NRIO_HIDDEN	__attribute__((visibility("hidden")))

#define nrio_container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

/* [@off, @off + @len) lies inside an area of @size bytes. */
static inline bool nrio_range_ok(uint64_t size, uint64_t off, uint64_t len)
{
	return len <= size && off <= size - len;
}

/*
 * How the data area is registered as fixed buffers: @nr_chunks buffers of
 * @chunk bytes from index 0 (the last holds the rest), then, where @small
 * is not 0 (a power of two), @nr_small buffers of @small bytes, one per
 * @small-aligned piece of the data area (the last holds the rest).  An I/O
 * uses the small buffer that holds its data, else the chunk, else none.
 */
struct nrio_bufmap {
	uint64_t	chunk;
	uint64_t	small;
	uint32_t	small_shift;
	uint32_t	nr_chunks;
	uint32_t	nr_small;
};

/*
 * The fixed buffer for @len bytes at @off in the data area, or -1 when no
 * registered buffer holds them all (or @len is 0).  Buffers must be
 * registered (->chunk not 0).
 */
static inline int nrio_buf_index(const struct nrio_bufmap *m, uint64_t off,
				 uint64_t len)
{
	uint64_t last = off + len - 1;

	if (!len)
		return -1;
	if (m->small && off >> m->small_shift == last >> m->small_shift)
		return (int)(m->nr_chunks + (off >> m->small_shift));
	if (off / m->chunk == last / m->chunk)
		return (int)(off / m->chunk);
	return -1;
}

struct nrio_ctx;
struct nvme_ring_io_cqe;

/*
 * An engine: what a handle's submit, reap and inflight calls do.  The
 * kernel engines live in their handle's file; nrio_passthru_engine serves
 * both handles.  @min 0: submit without waiting.
 */
struct nrio_engine_ops {
	int		(*submit)(struct nrio_ctx *c, unsigned int min);
	int		(*reap)(struct nrio_ctx *c, struct nvme_ring_io_cqe *cqes,
				unsigned int max, unsigned int min,
				int64_t timeout_ns);
	unsigned int	(*inflight)(const struct nrio_ctx *c);
	void		(*destroy)(struct nrio_ctx *c);
};

/* What both handles share; the first member of each. */
struct nrio_ctx {
	int			fd;		/* the module context */
	int			nvme_fd;	/* the namespace given to SETUP */
	void			*region;
	uint64_t		region_size;
	unsigned char		*data;
	uint64_t		data_size;
	struct nrio_ring	sq;		/* application: producer */
	struct nrio_ring	cq;		/* application: consumer */
	uint32_t		pending;	/* descriptors got, not submitted */
	bool			ring_ready;
	bool			defer;		/* io_uring DEFER_TASKRUN */
	uint64_t		submitted;	/* descriptors the engine took */
	uint64_t		reaped;		/* CQ entries copied out */
	struct io_uring		ring;
	struct nrio_bufmap	bufs;		/* the data area's fixed buffers */
	const struct nrio_engine_ops *eng;
	struct nrio_pt		*pt;		/* the passthrough engine's state */
};

/* fds -1, everything else 0. */
NRIO_HIDDEN void nrio_ctx_init(struct nrio_ctx *c);
/*
 * Map the region SETUP described in @off and bind the rings; 0 or -errno.
 */
NRIO_HIDDEN int nrio_ctx_map(struct nrio_ctx *c,
			     const struct nvme_ring_io_offsets *off);
/*
 * The io_uring (SQE128 | CQE32) of @entries; with @single_issuer,
 * SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them (->defer).
 */
NRIO_HIDDEN int nrio_ctx_ring_init(struct nrio_ctx *c, unsigned int entries,
				   bool single_issuer);
/*
 * Register the data area as fixed buffers of nrio_fixed_buf_size()
 * bytes, and with @small also one per page (see the .c); returns how many
 * in all or -errno.
 */
NRIO_HIDDEN int nrio_ctx_register_data(struct nrio_ctx *c,
				       uint32_t max_segments, bool small);
/* The engine's destroy, the io_uring, the mapping and the fds. */
NRIO_HIDDEN void nrio_ctx_exit(struct nrio_ctx *c);

/*
 * A free SQ descriptor of @size bytes (the ring's desc_size, a constant at
 * each caller), zeroed, or NULL when the SQ ring is full.
 */
static inline void *nrio_ctx_get_sqe(struct nrio_ctx *c, size_t size)
{
	void *sqe;
	uint32_t idx;

	if (nrio_ring_reserve(&c->sq, 1, &idx) != 1)
		return NULL;
	sqe = nrio_ring_desc(&c->sq, idx);
	memset(sqe, 0, size);
	c->pending++;
	return sqe;
}
/* Publish the descriptors got so far to the SQ ring's consumer. */
static inline void nrio_ctx_publish(struct nrio_ctx *c)
{
	nrio_ring_submit(&c->sq, c->pending);
	c->pending = 0;
}

/*
 * Publish the descriptors got so far and hand them to the engine, which
 * waits for @min completions (at most the CQ ring; 0: no wait).
 */
NRIO_HIDDEN int nrio_ctx_submit(struct nrio_ctx *c, unsigned int min);

/* CQ entries posted and not yet copied out. */
static inline uint32_t nrio_ctx_cq_ready(struct nrio_ctx *c)
{
	struct nrio_ring *r = &c->cq;
	uint32_t ready;

	/* Like nrio_ring_peek(), without taking the entries. */
	r->cached_prod = nrio_load_acquire(r->producer);
	ready = r->cached_prod - r->cached_cons;
	return ready > r->entries ? 0 : ready;
}

/* Copy up to @max CQ entries out of the CQ ring; returns how many. */
NRIO_HIDDEN unsigned int nrio_ctx_copy_out(struct nrio_ctx *c,
					   struct nvme_ring_io_cqe *cqes,
					   unsigned int max);

/*
 * The /dev/ngXnY path of the namespace behind @path (a block or generic
 * node, or a link to one) into @out; "" when there is none.
 */
NRIO_HIDDEN void nrio_generic_of(const char *path, char *out, size_t len);

/* Bytes per fixed buffer for a device of @max_segments (see the .c). */
NRIO_HIDDEN uint64_t nrio_fixed_buf_size(uint32_t max_segments);

#endif /* NRIO_INTERNAL_H */
