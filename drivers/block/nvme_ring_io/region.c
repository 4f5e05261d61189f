// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: the region.
 *
 * A region is a shmem file on a tmpfs the module mounts privately with
 * huge=always, so that its folios are 2 MiB where the kernel can give them
 * (the i915 "gemfs" pattern).  Every page is populated in SETUP, in the
 * caller's context (so the memory cgroup charge goes to the caller), and
 * held by the module for as long as the file lives: the mapping's gfp mask
 * has no __GFP_MOVABLE, the mapping is unevictable, and the extra folio
 * references make migration, compaction and splitting leave the pages
 * alone.  bios are built directly on these pages.
 *
 * mmap of /dev/nvme_ring_io redirects the VMA to the shmem file, so that
 * io_uring and AF_XDP can pin the region like any shmem mapping.  The file
 * gets a copy of shmem's file_operations with .fallocate removed (so that
 * MADV_REMOVE cannot punch pages out from under the module), with .owner
 * set (so the module stays loaded while any mapping exists) and with a
 * .release that frees the region once the last mapping and the context are
 * gone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/nodemask.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/personality.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/shmem_fs.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "region.h"

unsigned int nrio_max_data_mb = 1024;
module_param_named(max_data_mb, nrio_max_data_mb, uint, 0644);
MODULE_PARM_DESC(max_data_mb,
		 "Largest data area one context may ask for, in MiB (default 1024)");

/*
 * Private tmpfs mounts, made on first use: with and without huge=always
 * (a region smaller than 2 MiB would pin a whole huge folio for a few
 * pages), for "no node preference" and for each NUMA node asked for
 * (mpol=bind:N).
 */
static DEFINE_MUTEX(nrio_mnt_lock);
static struct vfsmount *nrio_mnts[2][MAX_NUMNODES + 1];

/* shmem's file_operations with our changes, filled in at module init. */
static struct file_operations nrio_shmem_fops __ro_after_init;

static struct vfsmount *nrio_mount(int node, bool huge)
{
	struct file_system_type *type;
	struct vfsmount *mnt;
	char opts[48];	/* tmpfs parses the options in place */

	type = get_fs_type("tmpfs");
	if (!type)
		return ERR_PTR(-ENODEV);
	/* tmpfs is built in: get_fs_type() took no module reference. */

	snprintf(opts, sizeof(opts), "huge=%s", huge ? "always" : "never");
	if (node != NUMA_NO_NODE)
		snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts),
			 ",mpol=bind:%d", node);
	mnt = vfs_kern_mount(type, SB_KERNMOUNT, type->name, opts);
	if (!IS_ERR(mnt) || !huge)
		return mnt;

	/* No THP in this kernel: ordinary pages, reported as such in INFO. */
	pr_info_once("tmpfs refused huge=always (%ld); regions use small pages\n",
		     PTR_ERR(mnt));
	return nrio_mount(node, false);
}

static struct vfsmount *nrio_get_mount(int node, bool huge)
{
	struct vfsmount **slot, *mnt;

	slot = &nrio_mnts[huge][array_index_nospec(node + 1, MAX_NUMNODES + 1)];
	mutex_lock(&nrio_mnt_lock);
	mnt = *slot;
	if (!mnt) {
		mnt = nrio_mount(node, huge);
		if (!IS_ERR(mnt))
			*slot = mnt;
	}
	mutex_unlock(&nrio_mnt_lock);
	return mnt;
}

static int nrio_shmem_release(struct inode *inode, struct file *file);

int nrio_region_init(void)
{
	struct vfsmount *mnt = nrio_get_mount(NUMA_NO_NODE, true);
	struct file *file;

	if (IS_ERR(mnt))
		return PTR_ERR(mnt);

	/* shmem's file_operations are not exported: copy a file's. */
	file = shmem_file_setup_with_mnt(mnt, "nvme_ring_io", 0, VM_NORESERVE);
	if (IS_ERR(file))
		return PTR_ERR(file);
	nrio_shmem_fops = *file->f_op;
	fput(file);

	nrio_shmem_fops.owner = THIS_MODULE;
	/* MADV_REMOVE and fallocate(PUNCH_HOLE) would unhook pinned pages. */
	nrio_shmem_fops.fallocate = NULL;
	nrio_shmem_fops.release = nrio_shmem_release;
	/*
	 * shmem_get_unmapped_area() insists on shmem's own f_op; the THP
	 * helper gives the same 2 MiB alignment for any file.
	 */
	nrio_shmem_fops.get_unmapped_area = thp_get_unmapped_area;
	return 0;
}

void nrio_region_exit(void)
{
	int h, i;

	for (h = 0; h < 2; h++)
		for (i = 0; i <= MAX_NUMNODES; i++)
			if (nrio_mnts[h][i])
				kern_unmount(nrio_mnts[h][i]);
}

/* RLIMIT_MEMLOCK, charged per user as AF_XDP charges its UMEM. */
static int nrio_account(struct nrio_region *region, unsigned long pages)
{
	unsigned long limit, old, new;
	struct user_struct *user;

	if (capable(CAP_IPC_LOCK))
		return 0;

	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	user = get_uid(current_user());
	do {
		old = atomic_long_read(&user->locked_vm);
		new = old + pages;
		if (new > limit) {
			free_uid(user);
			return -ENOBUFS;
		}
	} while (atomic_long_cmpxchg(&user->locked_vm, old, new) != old);

	region->user = user;
	region->charged = pages;
	return 0;
}

static void nrio_unaccount(struct nrio_region *region)
{
	if (!region->user)
		return;
	atomic_long_sub(region->charged, &region->user->locked_vm);
	free_uid(region->user);
}

/* Drop the one folio reference population took per folio. */
static void nrio_unpin(struct nrio_region *region, unsigned long nr)
{
	unsigned long i = 0;

	while (i < nr) {
		struct page *page = region->pages[i];
		struct folio *folio = page_folio(page);
		unsigned long first = page_to_pfn(page) - folio_pfn(folio);

		i += folio_nr_pages(folio) - first;
		folio_put(folio);
	}
}

static void nrio_region_free(struct nrio_region *region)
{
	if (region->shared)
		vunmap(region->shared);
	nrio_unpin(region, region->nr_pages);
	kvfree(region->pages);
	nrio_unaccount(region);
	kfree(region);
}

static int nrio_shmem_release(struct inode *inode, struct file *file)
{
	struct nrio_region *region = file->private_data;

	if (region)
		nrio_region_free(region);
	return 0;
}

/* Populate every page and hold it.  Runs in the caller's context. */
static int nrio_populate(struct nrio_region *region)
{
	struct address_space *mapping = region->file->f_mapping;
	gfp_t gfp = GFP_HIGHUSER | __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	unsigned long i = 0, j;
	int ret;

	while (i < region->nr_pages) {
		struct folio *folio;
		struct page *page;
		unsigned long first, n;

		if (fatal_signal_pending(current))
			goto fail_intr;
		page = shmem_read_mapping_page_gfp(mapping, i, gfp);
		if (IS_ERR(page)) {
			ret = PTR_ERR(page);
			goto fail;
		}
		folio = page_folio(page);
		first = page_to_pfn(page) - folio_pfn(folio);
		n = min(folio_nr_pages(folio) - first, region->nr_pages - i);
		for (j = 0; j < n; j++)
			region->pages[i + j] = nth_page(page, j);
		if (folio_size(folio) >= SZ_2M)
			region->huge_bytes += n << PAGE_SHIFT;
		/* A folio that reaches past the end is held once all the same. */
		i += folio_nr_pages(folio) - first;
		cond_resched();
	}
	return 0;

fail_intr:
	ret = -EINTR;
fail:
	nrio_unpin(region, i);
	return ret;
}

/* Lay out rings, counters and data; returns the region size. */
static u64 nrio_layout(struct nvme_ring_io_offsets *off, u32 sq_entries,
		       u32 sqe_size, u32 cq_entries, u64 data_size)
{
	u64 pos = PAGE_ALIGN(sizeof(struct nrio_shared));

	off->sq.producer = offsetof(struct nrio_shared, sq_producer);
	off->sq.consumer = offsetof(struct nrio_shared, sq_consumer);
	off->sq.flags = offsetof(struct nrio_shared, sq_flags);
	off->sq.entries = sq_entries;
	off->sq.desc_size = sqe_size;
	off->cq.producer = offsetof(struct nrio_shared, cq_producer);
	off->cq.consumer = offsetof(struct nrio_shared, cq_consumer);
	off->cq.flags = offsetof(struct nrio_shared, cq_flags);
	off->cq.entries = cq_entries;
	off->cq.desc_size = sizeof(struct nvme_ring_io_cqe);
	off->counters = offsetof(struct nrio_shared, counters);

	off->sq.desc = pos;
	pos += PAGE_ALIGN((u64)sq_entries * sqe_size);
	off->cq.desc = pos;
	pos += PAGE_ALIGN((u64)cq_entries * sizeof(struct nvme_ring_io_cqe));

	off->data = ALIGN(pos, data_size >= SZ_2M ? SZ_2M : PAGE_SIZE);
	off->data_size = data_size;
	off->region_size = off->data + data_size;
	return off->region_size;
}

/*
 * The caller has validated the sizes: entries are powers of two no larger
 * than NVME_RING_IO_MAX_ENTRIES and data_size is a page multiple within the
 * module's cap, so none of the arithmetic here can overflow.
 */
struct nrio_region *nrio_region_create(u32 sq_entries, u32 sqe_size,
				       u32 cq_entries, u64 data_size, int node)
{
	struct nrio_region *region;
	struct vfsmount *mnt;
	struct file *file;
	bool huge;
	u64 size;
	int ret;

	region = kzalloc(sizeof(*region), GFP_KERNEL_ACCOUNT);
	if (!region)
		return ERR_PTR(-ENOMEM);
	size = nrio_layout(&region->off, sq_entries, sqe_size, cq_entries,
			   data_size);
	region->nr_pages = size >> PAGE_SHIFT;
	region->ring_pages = region->off.data >> PAGE_SHIFT;

	huge = size >= SZ_2M;
	mnt = nrio_get_mount(node, huge);
	if (IS_ERR(mnt)) {
		ret = PTR_ERR(mnt);
		goto out_free;
	}

	/*
	 * Charge what can be pinned: the last huge folio may reach past the
	 * end of the region.
	 */
	ret = nrio_account(region, (huge ? ALIGN(size, SZ_2M) : size) >>
			   PAGE_SHIFT);
	if (ret)
		goto out_free;

	region->pages = kvcalloc(region->nr_pages, sizeof(*region->pages),
				 GFP_KERNEL_ACCOUNT);
	if (!region->pages) {
		ret = -ENOMEM;
		goto out_unaccount;
	}

	/*
	 * A huge region's file ends on a 2 MiB boundary, so its last folio
	 * does not straddle EOF (which would put it on shmem's split list);
	 * the mapping is still exactly region_size long.
	 */
	file = shmem_file_setup_with_mnt(mnt, "nvme_ring_io",
					 huge ? ALIGN(size, SZ_2M) : size,
					 VM_NORESERVE);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_pages;
	}
	region->file = file;

	/*
	 * The file pins the module; we run in one of its ioctls, so this
	 * reference cannot fail.
	 */
	__module_get(THIS_MODULE);
	fops_put(file->f_op);
	file->f_op = &nrio_shmem_fops;

	mapping_set_gfp_mask(file->f_mapping, GFP_HIGHUSER);
	mapping_set_unevictable(file->f_mapping);

	ret = nrio_populate(region);
	if (ret)
		goto out_file;

	region->shared = vmap(region->pages, region->ring_pages, VM_MAP,
			      PAGE_KERNEL);
	if (!region->shared) {
		ret = -ENOMEM;
		goto out_unpin;
	}
	region->sqes = (void *)region->shared + region->off.sq.desc;
	region->cqes = (void *)region->shared + region->off.cq.desc;
	WRITE_ONCE(region->shared->sq_flags, NVME_RING_IO_RING_F_NEED_WAKEUP);

	/* From here on the file's ->release frees the region. */
	file->private_data = region;
	return region;

out_unpin:
	nrio_unpin(region, region->nr_pages);
out_file:
	fput(file);
out_pages:
	kvfree(region->pages);
out_unaccount:
	nrio_unaccount(region);
out_free:
	kfree(region);
	return ERR_PTR(ret);
}

void nrio_region_put(struct nrio_region *region)
{
	fput(region->file);
}

int nrio_region_mmap(struct nrio_region *region, struct vm_area_struct *vma)
{
	struct file *file = region->file;

	if (vma->vm_pgoff)
		return -EINVAL;
	if (vma->vm_end - vma->vm_start != region->off.region_size)
		return -EINVAL;
	/*
	 * A private mapping would give the caller copies, not the region.
	 * (VM_MAYSHARE: a read-only file's MAP_SHARED lacks VM_SHARED.)
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	/*
	 * The region is data: never executable, now or after mprotect().
	 * A READ_IMPLIES_EXEC process gets PROT_EXEC added to every
	 * PROT_READ: drop it for that one, as a noexec mount would.
	 */
	if (vma->vm_flags & VM_EXEC) {
		if (!(current->personality & READ_IMPLIES_EXEC))
			return -EPERM;
		vm_flags_clear(vma, VM_EXEC);
	}

	vm_flags_clear(vma, VM_MAYEXEC);
	vm_flags_set(vma, VM_DONTEXPAND);
	vma_set_file(vma, file);
	return call_mmap(file, vma);
}

unsigned long nrio_region_get_unmapped_area(struct nrio_region *region,
					    unsigned long addr,
					    unsigned long len,
					    unsigned long pgoff,
					    unsigned long flags)
{
	/* A 2 MiB aligned address lets huge folios map as PMDs. */
	return thp_get_unmapped_area(region->file, addr, len, pgoff, flags);
}
