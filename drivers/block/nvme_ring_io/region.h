/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: the region (region.c), and the one way into its data area.
 *
 * Every path that touches the data area (the NVMe bio engine, direct
 * mode, DSM, the BPF kfuncs, the socket steps) checks the range it was
 * given with nrio_region_check() and walks it with a struct
 * nrio_region_iter.  Both are inline: the bio engine's loop is the hot
 * path, and the compiler makes of them the loops it made before.
 */
#ifndef _NRIO_REGION_H
#define _NRIO_REGION_H

#include <linux/cache.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/types.h>
#include <linux/nvme_ring_io.h>

struct file;
struct page;
struct user_struct;
struct vm_area_struct;

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

/*
 * A walk over a checked range of the data area, in runs of one page
 * (for kmap, page_address and bvec users) or of one folio (for bios: one
 * bvec per folio-contiguous run).
 */
struct nrio_region_iter {
	const struct nrio_region *region;
	u64			off;	/* region offset of the next byte */
	u32			left;	/* bytes from there to the end */
};

/* Start a walk over @len bytes at data offset @data_off (checked). */
static inline void nrio_region_iter_init(struct nrio_region_iter *it,
					 const struct nrio_region *region,
					 u64 data_off, u32 len)
{
	it->region = region;
	it->off = region->off.data + data_off;
	it->left = len;
}

/*
 * The next run of the walk: its page, the offset in that page and its
 * length, at most to the end of the page, or with @in_folio of the folio
 * (physically contiguous: one bvec).  False at the end.
 */
static __always_inline bool nrio_region_next(struct nrio_region_iter *it,
					     bool in_folio,
					     struct page **pagep,
					     u32 *pg_off, u32 *len)
{
	const struct nrio_region *region = it->region;
	struct page *page;
	u32 in_page, run;

	if (!it->left)
		return false;
	/* The offset comes from userspace or BPF: no speculation past it. */
	page = region->pages[array_index_nospec(it->off >> PAGE_SHIFT,
						region->nr_pages)];
	in_page = offset_in_page(it->off);
	if (in_folio) {
		struct folio *folio = page_folio(page);
		u64 in = ((u64)(page_to_pfn(page) - folio_pfn(folio))
			  << PAGE_SHIFT) + in_page;

		run = min_t(u64, it->left, folio_size(folio) - in);
	} else {
		run = min_t(u32, it->left, PAGE_SIZE - in_page);
	}
	it->off += run;
	it->left -= run;
	*pagep = page;
	*pg_off = in_page;
	*len = run;
	return true;
}

/* The runs nrio_region_next() would still give, counted up to @max. */
static inline unsigned int
nrio_region_count(const struct nrio_region_iter *it, bool in_folio,
		  unsigned int max)
{
	struct nrio_region_iter i = *it;
	unsigned int n = 0;
	struct page *page;
	u32 pg_off, len;

	if (!it->left)
		return 0;
	if (!in_folio)
		return min_t(u64, max, (offset_in_page(it->off) + (u64)it->left +
				       PAGE_SIZE - 1) >> PAGE_SHIFT);
	while (n < max && nrio_region_next(&i, true, &page, &pg_off, &len))
		n++;
	return n;
}

#endif /* _NRIO_REGION_H */
