/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: chains of steps and read-next hops (chain.c).
 */
#ifndef _NRIO_CHAIN_H
#define _NRIO_CHAIN_H

#include <linux/llist.h>
#include <linux/workqueue.h>

#include "bpf.h"
#include "io.h"
#include "net.h"

/* The kernel's private copy of one unified SQ descriptor: a step. */
struct nrio_udesc {
	u8			type;
	u8			flags;
	bool			resv;		/* a reserved field was set */
	u64			user_data;
	union {
		struct nrio_desc	nvme;	/* UNIFIED_IO_TYPE_NVME */
		struct nrio_bpf_desc	bpf;	/* UNIFIED_IO_TYPE_BPF */
		struct nrio_net_desc	net;	/* UNIFIED_IO_TYPE_NET_* */
	};
};

/* A context's chain state: the chains whose read-next read completed. */
struct nrio_chains {
	struct nrio_ctx		*ctx;
	struct llist_head	hops;
	struct work_struct	hop_work;	/* runs them, holding a ctx ref */
};

struct nrio_chain;

void nrio_chains_init(struct nrio_chains *chains, struct nrio_ctx *ctx);
bool nrio_step_needs_chain(const struct nrio_udesc *u);
int nrio_step_issue(struct nrio_ctx *ctx, struct nrio_udesc *u,
		    struct nrio_chain *chain, int *res);
void nrio_chain_start(struct nrio_ctx *ctx, const struct nrio_udesc *u, u32 n);

#endif /* _NRIO_CHAIN_H */
