/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: /dev/nvme_ring_io (nvme_dev.c).
 */
#ifndef _NRIO_NVME_DEV_H
#define _NRIO_NVME_DEV_H

#include "ctx.h"

extern const struct nrio_dev_ops nrio_nvme_ops;

#endif /* _NRIO_NVME_DEV_H */
