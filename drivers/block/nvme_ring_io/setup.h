/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: what both devices' SETUP and INFO share (setup.c).
 */
#ifndef _NRIO_SETUP_H
#define _NRIO_SETUP_H

#include "ctx.h"

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

#endif /* _NRIO_SETUP_H */
