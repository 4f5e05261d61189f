// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: what both devices' SETUP and INFO share.
 *
 * Each device checks its own struct, then hands a struct nrio_setup_req
 * to nrio_ctx_setup(): bind the namespace, let the device prepare its
 * part, create the region and publish it.  SETUP and INFO structs are
 * versioned by their leading size field (nrio_copy_setup(),
 * nrio_info_size()).
 */
#include <linux/blkdev.h>
#include <linux/log2.h>
#include <linux/nodemask.h>
#include <linux/nospec.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>

#include "direct.h"
#include "setup.h"

/* The checks both devices' SETUP make: EINVAL first, then E2BIG. */
static int nrio_check_request(const struct nrio_setup_req *req)
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
 * check the request, bind the namespace (unless the device may have none
 * and was given none), let the device prepare what it needs, create the
 * region, copy its offsets out and publish it.  A failure leaves the
 * context as it was.
 */
long nrio_ctx_setup(struct nrio_ctx *ctx, struct nrio_setup_req *req,
		    struct nvme_ring_io_offsets __user *uoff)
{
	u32 cq_entries = req->cq_entries ?: 2 * req->sq_entries;
	struct nrio_region *region;
	long ret;

	ret = nrio_check_request(req);
	if (ret)
		return ret;
	if (mutex_lock_interruptible(&ctx->lock))
		return -ERESTARTSYS;	/* nothing done yet */
	ret = -EBUSY;
	if (ctx->region)
		goto out_unlock;

	if (!req->nvme_optional || req->nvme_fd != -1) {
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
		ctx->data_align_mask = req->align_dma ? ctx->ns.dma_align :
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
	ctx->ops->free(ctx);
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

/*
 * What both devices' INFO report of a context that is set up: the flags
 * they share (bits 0 to 6 mean the same on both), the namespace's limits
 * (none on a unified context without one), the region and the counters.
 */
void nrio_info_common(struct nrio_ctx *ctx, struct nrio_info *c)
{
	const struct nrio_region *region = ctx->region;
	const struct nrio_ns *ns = &ctx->ns;

	memset(c, 0, sizeof(*c));
	c->flags = NVME_RING_IO_INFO_F_SETUP;
	if (ctx->polled)
		c->flags |= NVME_RING_IO_INFO_F_POLLED;
	if (ns->bdev) {
		if (ns->can_read)
			c->flags |= NVME_RING_IO_INFO_F_READ;
		if (ns->can_write)
			c->flags |= NVME_RING_IO_INFO_F_WRITE;
		if (bdev_read_only(ns->bdev))
			c->flags |= NVME_RING_IO_INFO_F_RO_NS;
		if (ns->generic)
			c->flags |= NVME_RING_IO_INFO_F_GENERIC_FD;
		if (READ_ONCE(ctx->dead) || !disk_live(ns->bdev->bd_disk))
			c->flags |= NVME_RING_IO_INFO_F_DEAD;
		c->nsid = ns->nsid;
		c->lba_size = 1U << ns->lba_shift;
		c->nr_lbas = bdev_nr_sectors(ns->bdev) >>
			     (ns->lba_shift - SECTOR_SHIFT);
		c->max_transfer = ns->max_transfer;
		c->max_segments = ns->max_segments;
		c->dma_alignment = ns->dma_align + 1;
	}
	c->region_size = region->off.region_size;
	c->data_size = region->off.data_size;
	c->huge_bytes = region->huge_bytes;
	c->sq_entries = ctx->sq_mask + 1;
	c->cq_entries = ctx->cq_mask + 1;
	c->numa_node = ctx->numa_node;

	spin_lock_irq(&ctx->cq_lock);
	c->inflight = ctx->inflight;
	c->counters.completed = ctx->completed;
	c->counters.sq_invalid = ctx->sq_invalid;
	c->bytes_moved = ctx->bytes_moved;
	c->bytes_copied = ctx->bytes_copied;
	c->canceled = ctx->canceled;
	spin_unlock_irq(&ctx->cq_lock);
	/* Written under ctx->lock; a racing SUBMIT makes them stale. */
	c->counters.submitted = READ_ONCE(ctx->submitted);
	c->counters.cq_full = READ_ONCE(ctx->cq_full);
	c->nr_chains = READ_ONCE(ctx->nr_chains);
}
