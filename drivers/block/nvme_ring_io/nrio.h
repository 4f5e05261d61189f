/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: internal definitions shared by the module's files.
 */
#ifndef _NRIO_H
#define _NRIO_H

#include <linux/types.h>
#include <linux/nvme_ring_io.h>

/* /dev/nvme_ring_io is root-only unless an administrator says otherwise. */
#define NRIO_DEV_MODE	0600

/* One open file of /dev/nvme_ring_io. */
struct nrio_ctx {
	unsigned long	flags;
};

#endif /* _NRIO_H */
