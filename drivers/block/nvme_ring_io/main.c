// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: zero-copy, batch-oriented NVMe I/O through shared rings.
 *
 * main.c: the misc device, file operations and ioctl dispatch.
 *
 * Every open file of /dev/nvme_ring_io is one context.  The context is
 * allocated at open and released when the last reference to the file goes
 * away; the misc device's file_operations carry THIS_MODULE, so the module
 * cannot be unloaded while any context exists.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "nrio.h"

static int nrio_open(struct inode *inode, struct file *file)
{
	struct nrio_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;

	file->private_data = ctx;
	return stream_open(inode, file);
}

static int nrio_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static long nrio_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	default:
		return -ENOTTY;
	}
}

static const struct file_operations nrio_fops = {
	.owner		= THIS_MODULE,
	.open		= nrio_open,
	.release	= nrio_release,
	.unlocked_ioctl	= nrio_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice nrio_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= NVME_RING_IO_DEVNAME,
	.fops	= &nrio_fops,
	.mode	= NRIO_DEV_MODE,
};

static int __init nrio_init(void)
{
	int ret;

	ret = misc_register(&nrio_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", NVME_RING_IO_DEVNAME,
		       ret);
		return ret;
	}
	return 0;
}

static void __exit nrio_exit(void)
{
	misc_deregister(&nrio_misc);
}

module_init(nrio_init);
module_exit(nrio_exit);

MODULE_DESCRIPTION("Zero-copy NVMe I/O through shared SQ/CQ descriptor rings");
MODULE_LICENSE("GPL");
