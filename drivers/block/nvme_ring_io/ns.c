// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: binding a context to an NVMe namespace.
 *
 * The caller passes a file descriptor it opened itself: the namespace block
 * device (/dev/nvmeXnY) or its generic character device (/dev/ngXnY).  The
 * file's open mode is the context's permission: FMODE_READ allows reads,
 * FMODE_WRITE allows writes, nothing else does.  The module holds the file
 * for the life of the context, which keeps the namespace open.
 *
 * For a generic character device the kernel engine still needs the block
 * device: it is the ng device's sibling in the device model (both hang off
 * the controller, or off the subsystem for a multipath head) named
 * nvme<i>n<h> with the same head instance h.  The module opens it itself,
 * with the access mode of the caller's ng file, and checks that both report
 * the same NSID.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-integrity.h>
#include <linux/blkdev.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/nvme_ioctl.h>

#include "ns.h"
#include "nvme_req.h"

/*
 * The driver core's device_ktype, which is not exported: our own device
 * node's kobject has it (file.c tells us when it registers one).  Only
 * read from an open file of ours, so a node is registered by then.
 */
static const struct kobj_type *nrio_device_ktype;

void nrio_ns_device_ktype(const struct kobj_type *ktype)
{
	nrio_device_ktype = ktype;
}

/*
 * NVME_IOCTL_ID returns the NSID (a u32) as an int, or -errno; 0 and
 * 0xffffffff are not namespace IDs.
 */
static u32 nrio_nsid(long ret)
{
	if (IS_ERR_VALUE(ret) || (u32)ret == 0 || (u32)ret == U32_MAX)
		return 0;
	return ret;
}

/* NVME_IOCTL_ID through the disk's own ioctl; the namespace is open. */
static u32 nrio_bdev_nsid(struct block_device *bdev)
{
	const struct block_device_operations *fops = bdev->bd_disk->fops;

	if (!fops->ioctl)
		return 0;
	return nrio_nsid(fops->ioctl(bdev, 0, NVME_IOCTL_ID, 0));
}

static bool nrio_is_nvme_disk_name(const char *name, unsigned int *head)
{
	unsigned int a, b;
	int len = 0;

	if (sscanf(name, "nvme%un%u%n", &a, &b, &len) != 2 ||
	    name[len] != '\0')
		return false;
	*head = b;
	return true;
}

struct nrio_ng_match {
	unsigned int head;
};

static int nrio_match_disk(struct device *dev, void *data)
{
	struct nrio_ng_match *m = data;
	unsigned int head;

	if (!dev->class || strcmp(dev->class->name, "block"))
		return 0;
	return nrio_is_nvme_disk_name(dev_name(dev), &head) &&
	       head == m->head;
}

/* Open the block device behind a /dev/ngXnY file. */
static int nrio_bind_generic(struct nrio_ns *ns, struct file *file)
{
	struct inode *inode = file_inode(file);
	struct nrio_ng_match m;
	struct device *ngdev, *disk;
	struct block_device *bdev;
	unsigned int ctrl;
	int len = 0;

	if (!inode->i_cdev || !inode->i_cdev->kobj.parent ||
	    !file->f_op->unlocked_ioctl)
		return -ENODEV;
	/*
	 * Any driver's char device gets here: only once the file is known
	 * to be nvme_core's, and its cdev's parent a struct device (as
	 * cdev_device_add() makes it), may that parent be taken for one.
	 */
	if (!nrio_owner_is_nvme_core(file->f_op->owner) ||
	    !nrio_device_ktype ||
	    inode->i_cdev->kobj.parent->ktype != nrio_device_ktype)
		return -ENODEV;
	ngdev = kobj_to_dev(inode->i_cdev->kobj.parent);
	if (!ngdev->class || strcmp(ngdev->class->name, "nvme-generic") ||
	    !ngdev->parent)
		return -ENODEV;
	if (sscanf(dev_name(ngdev), "ng%un%u%n", &ctrl, &m.head, &len) != 2 ||
	    dev_name(ngdev)[len] != '\0')
		return -ENODEV;

	/*
	 * The module opens the block device itself, which bypasses the
	 * permissions of its /dev node; allow that only where the kernel's
	 * own passthrough policy would let this ng file do the same I/O.
	 */
	if (!nrio_generic_io_allowed())
		return -EPERM;

	disk = device_find_child(ngdev->parent, &m, nrio_match_disk);
	if (!disk)
		return -ENODEV;
	/* Holding the device keeps its dev_t from being reused meanwhile. */
	bdev = nrio_bdev_open(disk->devt, file->f_mode & FMODE_WRITE,
			      &ns->handle);
	put_device(disk);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	/* Both nodes must belong to the same driver (nvme_core). */
	if (bdev->bd_disk->fops->owner != file->f_op->owner) {
		nrio_bdev_close(&ns->handle);
		return -ENODEV;
	}
	ns->bdev = bdev;
	ns->own_bdev = true;
	ns->generic = true;
	return 0;
}

int nrio_ns_bind(struct nrio_ns *ns, int fd)
{
	struct request_queue *q;
	struct file *file;
	struct inode *inode;
	unsigned int head;
	u32 nsid;
	int ret;

	memset(ns, 0, sizeof(*ns));
	file = fget(fd);
	if (!file)
		return -EBADF;
	inode = file_inode(file);

	ret = -ENODEV;
	if (S_ISBLK(inode->i_mode)) {
		ns->bdev = nrio_file_bdev(file);
		/* A partition is not a namespace: LBAs would be shifted. */
		if (bdev_is_partition(ns->bdev) ||
		    !nrio_is_nvme_disk_name(ns->bdev->bd_disk->disk_name,
					    &head))
			goto out_fput;
	} else if (S_ISCHR(inode->i_mode)) {
		ret = nrio_bind_generic(ns, file);
		if (ret)
			goto out_fput;
		ret = -ENODEV;
	} else {
		goto out_fput;
	}

	nsid = nrio_bdev_nsid(ns->bdev);
	if (!nsid)
		goto out_bdev;
	if (ns->generic &&
	    nrio_nsid(file->f_op->unlocked_ioctl(file, NVME_IOCTL_ID, 0)) != nsid)
		goto out_bdev;

	q = bdev_get_queue(ns->bdev);
	ns->file = file;
	ns->nsid = nsid;
	ns->lba_shift = ilog2(bdev_logical_block_size(ns->bdev));
	/*
	 * With protection information the integrity code generates one tuple
	 * per interval of each segment: data must be LBA aligned (the rule
	 * Linux itself adopted later, "block: require LBA dma_alignment when
	 * using PI").
	 */
	ns->dma_align = blk_get_integrity(ns->bdev->bd_disk) ?
			(1U << ns->lba_shift) - 1 : queue_dma_alignment(q);
	ns->max_transfer = (u64)queue_max_hw_sectors(q) << SECTOR_SHIFT;
	ns->max_segments = queue_max_segments(q);
	ns->can_read = file->f_mode & FMODE_READ;
	ns->can_write = file->f_mode & FMODE_WRITE;
	return 0;

out_bdev:
	if (ns->own_bdev)
		nrio_bdev_close(&ns->handle);
out_fput:
	fput(file);
	memset(ns, 0, sizeof(*ns));
	return ret;
}

/*
 * Direct mode reads the NVMe status from the request's driver data
 * (struct nrio_nvme_request, nvme_req.h).  Check that layout once against
 * nvme_init_request() itself, on a request of this queue that is never
 * sent: it copies the command to where ->cmd points and clears retries,
 * flags and status, which are set to a marker first.  What it did not
 * clear is put back, so with another layout nothing has changed.
 */
static int nrio_nvme_req_check(struct request_queue *q,
			       nrio_init_rq_fn *init_rq)
{
	struct nvme_command cmd = {};
	struct nrio_nvme_request *nr;
	u8 retries, flags;
	struct request *rq;
	u16 status;
	bool ok;

	rq = blk_mq_alloc_request(q, REQ_OP_DRV_IN, 0);
	if (IS_ERR(rq))
		return PTR_ERR(rq);	/* a dying queue */
	nr = nrio_nvme_req(rq);
	retries = nr->retries;
	flags = nr->flags;
	status = nr->status;
	nr->retries = 0xa5;
	nr->flags = 0xa5;
	nr->status = 0xa5a5;
	cmd.rw.opcode = nvme_cmd_read;
	cmd.rw.nsid = cpu_to_le32(0x6e72696f);
	cmd.rw.slba = cpu_to_le64(0x6e72696f6e72696fULL);
	init_rq(rq, &cmd);
	ok = !nr->retries && !nr->flags && !nr->status && nr->cmd &&
	     virt_addr_valid(nr->cmd) && !memcmp(nr->cmd, &cmd, sizeof(cmd));
	if (!ok) {
		if (nr->retries == 0xa5)
			nr->retries = retries;
		if (nr->flags == 0xa5)
			nr->flags = flags;
		if (nr->status == 0xa5a5)
			nr->status = status;
	}
	blk_mq_free_request(rq);
	if (!ok) {
		pr_warn_once("%s: nvme_core's request data is not laid out as this module expects: no direct mode\n",
			     q->disk->disk_name);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Direct mode: READ and WRITE go as NVMe commands on the namespace's own
 * blk-mq queue, built by nvme_core's nvme_init_request().  Its requests
 * skip blk-throttle, iocost and the other cgroup I/O controllers, and
 * the disk's statistics, so only a caller with CAP_SYS_ADMIN (in the
 * initial user namespace, as raw NVMe passthrough on 6.1) may ask for
 * it; the check is made once, here, as a file's permissions are at open.
 * Only a disk of nvme_core's with a blk-mq queue has one: a multipath head
 * (nvmeXnY in front of hidden nvmeXcYnZ paths) is bio-based and has none.
 * Integrity metadata is generated for bios only, and zoned writes need
 * the block layer's zone write plugging: both are refused.  The function
 * is looked up, not linked, so that the module loads without nvme_core;
 * holding it holds nvme_core until the context goes.
 */
int nrio_ns_direct(struct nrio_ns *ns)
{
	struct gendisk *disk = ns->bdev->bd_disk;
	nrio_init_rq_fn *init_rq;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!queue_is_mq(disk->queue) || !nrio_disk_is_nvme_core(disk) ||
	    blk_get_integrity(disk) || bdev_is_zoned(ns->bdev))
		return -EOPNOTSUPP;
	init_rq = __symbol_get("nvme_init_request");
	if (!init_rq)
		return -EOPNOTSUPP;
	ret = nrio_nvme_req_check(disk->queue, init_rq);
	if (ret) {
		__symbol_put("nvme_init_request");
		return ret;
	}
	ns->init_rq = init_rq;
	return 0;
}

void nrio_ns_unbind(struct nrio_ns *ns)
{
	if (!ns->file)
		return;
	if (ns->init_rq)
		__symbol_put("nvme_init_request");
	if (ns->own_bdev)
		nrio_bdev_close(&ns->handle);
	fput(ns->file);
	memset(ns, 0, sizeof(*ns));
}
