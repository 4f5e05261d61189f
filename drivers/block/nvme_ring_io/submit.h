/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: SUBMIT for both devices (submit.c).
 */
#ifndef _NRIO_SUBMIT_H
#define _NRIO_SUBMIT_H

#include "ctx.h"

int nrio_submit(struct nrio_ctx *ctx, u32 to_submit, bool nowait);

#endif /* _NRIO_SUBMIT_H */
