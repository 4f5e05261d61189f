/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nvme_ring_io: zero-copy, batch-oriented NVMe I/O through shared rings.
 *
 * The device node is /dev/nvme_ring_io, a misc character device created
 * with mode 0600 (root only).  Every open file is an independent context.
 *
 * ioctl numbers use the type byte NVME_RING_IO_IOC_MAGIC; any other
 * request on the device fails with ENOTTY.
 */
#ifndef _UAPI_LINUX_NVME_RING_IO_H
#define _UAPI_LINUX_NVME_RING_IO_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define NVME_RING_IO_DEVNAME	"nvme_ring_io"
#define NVME_RING_IO_DEVPATH	"/dev/" NVME_RING_IO_DEVNAME

/* ioctl type byte; see Documentation/userspace-api/ioctl/ioctl-number.rst */
#define NVME_RING_IO_IOC_MAGIC	0xBA

#endif /* _UAPI_LINUX_NVME_RING_IO_H */
