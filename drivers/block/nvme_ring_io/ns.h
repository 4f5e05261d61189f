/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: the namespace a context is bound to (ns.c).
 */
#ifndef _NRIO_NS_H
#define _NRIO_NS_H

#include <linux/blkdev.h>
#include <linux/types.h>

#include "compat.h"

struct nvme_command;
/* nvme_init_request(), the same on 6.1 and 6.12. */
typedef void (nrio_init_rq_fn)(struct request *req, struct nvme_command *cmd);

/* The namespace a context is bound to. */
struct nrio_ns {
	struct file		*file;		/* the caller's fd, held */
	struct block_device	*bdev;
	struct nrio_bdev_handle	handle;		/* for a /dev/ngXnY fd */
	bool			own_bdev;
	bool			can_read;
	bool			can_write;
	bool			generic;
	u32			nsid;
	unsigned int		lba_shift;
	u32			dma_align;	/* queue_dma_alignment() mask */
	u32			max_segments;
	u64			max_transfer;
	/* Direct mode: nvme_core's nvme_init_request(), held (ns.c). */
	nrio_init_rq_fn		*init_rq;
};

int nrio_ns_bind(struct nrio_ns *ns, int fd);
int nrio_ns_direct(struct nrio_ns *ns);
void nrio_ns_unbind(struct nrio_ns *ns);
void nrio_ns_device_ktype(const struct kobj_type *ktype);

#endif /* _NRIO_NS_H */
