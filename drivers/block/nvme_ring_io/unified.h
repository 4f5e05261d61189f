/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: /dev/unified_io_region (unified.c).
 */
#ifndef _NRIO_UNIFIED_H
#define _NRIO_UNIFIED_H

#include "ctx.h"

extern const struct nrio_dev_ops nrio_unified_ops;
void nrio_unified_init(void);

#endif /* _NRIO_UNIFIED_H */
