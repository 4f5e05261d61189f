/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: direct mode (direct.c).
 */
#ifndef _NRIO_DIRECT_H
#define _NRIO_DIRECT_H

#include "inflight.h"

/* Preallocated I/O a direct context keeps at most. */
#define NRIO_DIO_MAX	1024

int nrio_dio_alloc(struct nrio_ctx *ctx, u32 nr);
void nrio_dio_free(struct nrio_ctx *ctx);
bool nrio_rw_direct(struct nrio_ctx *ctx, const struct nrio_desc *d, u64 slba,
		    u32 nlb);

#endif /* _NRIO_DIRECT_H */
