/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: the region (region.c), and the one way into its data area.
 *
 * Every path that touches the data area (the NVMe bio engine, direct
 * mode, DSM, the BPF kfuncs, the socket steps) checks the range it was
 * given with nrio_region_check().  It is inline: the bio engine's
 * descriptor checks are the hot path.
 */
#ifndef _NRIO_REGION_H
#define _NRIO_REGION_H

#include <linux/types.h>
#include <linux/nvme_ring_io.h>

struct file;
struct nrio_shared;
struct page;
struct user_struct;
struct vm_area_struct;

/*
 * The region: a shmem file on the module's private huge-page tmpfs.  The
 * struct lives as long as the file: it is freed by the file's ->release,
 * after the last mapping and the context's own reference are gone, so the
 * pages stay pinned and charged for as long as anything can reach them.
 */
struct nrio_region {
	struct file		*file;
	struct page		**pages;	/* every page, pinned */
	unsigned long		nr_pages;
	struct nrio_shared	*shared;	/* vmap of the ring pages */
	unsigned long		ring_pages;
	void			*sqes;		/* off.sq.desc_size each */
	struct nvme_ring_io_cqe	*cqes;
	struct nvme_ring_io_offsets off;
	u64			huge_bytes;
	struct user_struct	*user;		/* RLIMIT_MEMLOCK charge */
	unsigned long		charged;	/* pages charged to user */
};

int nrio_region_init(void);
void nrio_region_exit(void);
struct nrio_region *nrio_region_create(u32 sq_entries, u32 sqe_size,
				       u32 cq_entries, u64 data_size, int node);
void nrio_region_put(struct nrio_region *region);
int nrio_region_mmap(struct nrio_region *region, struct vm_area_struct *vma);
unsigned long nrio_region_get_unmapped_area(struct nrio_region *region,
					    unsigned long addr,
					    unsigned long len,
					    unsigned long pgoff,
					    unsigned long flags);
extern unsigned int nrio_max_data_mb;

/*
 * Does [@off, @off + @len) of the data area (offsets from its start, as
 * descriptors and BPF programs give them) lie inside it?  0 or -EFAULT.
 */
static inline int nrio_region_check(const struct nrio_region *region,
				    u64 off, u64 len)
{
	u64 size = region->off.data_size;

	if (len > size || off > size - len)
		return -EFAULT;
	return 0;
}

#endif /* _NRIO_REGION_H */
