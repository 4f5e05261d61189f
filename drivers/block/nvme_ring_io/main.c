// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: zero-copy, batch-oriented NVMe I/O through shared rings.
 *
 * The module: what it sets up at load and takes down at unload.  The two
 * device nodes are nvme_dev.c (/dev/nvme_ring_io) and unified.c
 * (/dev/unified_io_region); Documentation/block/nvme-ring-io.rst, "Code
 * layout", says which file owns what.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/module.h>

#include "ctx.h"
#include "file.h"
#include "inflight.h"
#include "nvme_dev.h"
#include "region.h"
#include "unified.h"

static void nrio_build_bugs(void)
{
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_sqe) != 80);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_cqe) != 32);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_dsm_range) != 16);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_ring_offsets) != 40);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_counters) != 32);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_offsets) != 112);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_setup) != 176);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_submit) != 16);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_complete) != 24);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_info) != 112);
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_uring_cmd) != 16);
	BUILD_BUG_ON(sizeof(struct nrio_shared) > PAGE_SIZE);
	/* Released command numbers never change (0xc0b0ba01... on x86). */
	BUILD_BUG_ON(NVME_RING_IO_SETUP !=
		     _IOC(_IOC_READ | _IOC_WRITE, 0xBA, 0x01, 176));
	BUILD_BUG_ON(NVME_RING_IO_SUBMIT != _IOC(_IOC_WRITE, 0xBA, 0x02, 16));
	BUILD_BUG_ON(NVME_RING_IO_COMPLETE != _IOC(_IOC_WRITE, 0xBA, 0x03, 24));
	BUILD_BUG_ON(NVME_RING_IO_INFO !=
		     _IOC(_IOC_READ | _IOC_WRITE, 0xBA, 0x04, 112));
	BUILD_BUG_ON(NVME_RING_IO_URING_SUBMIT !=
		     _IOC(_IOC_WRITE, 0xBA, 0x10, 16));
	BUILD_BUG_ON(NVME_RING_IO_URING_WAIT !=
		     _IOC(_IOC_WRITE, 0xBA, 0x11, 16));
	BUILD_BUG_ON(sizeof(struct nvme_ring_io_setup) >
		     NVME_RING_IO_MAX_STRUCT_SIZE);
}

/* The device nodes, served by nvme_dev.c and unified.c. */
static struct nrio_dev nrio_nvme_dev, nrio_unified_dev;

static int __init nrio_init(void)
{
	int ret;

	nrio_build_bugs();

	ret = nrio_ctx_init();
	if (ret)
		return ret;
	ret = nrio_io_init();
	if (ret)
		goto out_ctx;
	ret = nrio_region_init();
	if (ret)
		goto out_io;
	nrio_unified_init();
	ret = nrio_dev_register(&nrio_nvme_dev, &nrio_nvme_ops);
	if (ret)
		goto out_region;
	ret = nrio_dev_register(&nrio_unified_dev, &nrio_unified_ops);
	if (ret)
		goto out_nvme;
	nrio_dev_ready();
	return 0;

out_nvme:
	nrio_dev_unregister(&nrio_nvme_dev);
out_region:
	nrio_region_exit();
out_io:
	nrio_io_exit();
out_ctx:
	nrio_ctx_exit();
	return ret;
}

static void __exit nrio_exit(void)
{
	nrio_dev_unregister(&nrio_unified_dev);
	nrio_dev_unregister(&nrio_nvme_dev);
	nrio_ctx_exit();
	nrio_region_exit();
	nrio_io_exit();
}

module_init(nrio_init);
module_exit(nrio_exit);

MODULE_DESCRIPTION("Zero-copy NVMe I/O through shared SQ/CQ descriptor rings");
MODULE_LICENSE("GPL");
