/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: BPF programs run on the region (bpf.c).
 */
#ifndef _NRIO_BPF_H
#define _NRIO_BPF_H

#include <linux/spinlock.h>

#include "ctx.h"

struct bpf_prog;
struct nrio_bpf_run;

/* The kernel's copy of a BPF descriptor. */
struct nrio_bpf_desc {
	u64	data_off;
	u32	data_len;
	u32	slot;
	u64	arg;
	u64	user_data;
	u32	max_hops;	/* 0: not a read-next step */
	bool	resv;		/* a reserved field was set */
};

/*
 * A read-next BPF step's state across its program's runs (in its chain).
 * In: what the next run sees; out: the read the last run asked for.
 */
struct nrio_bpf_hop {
	u32	hops;		/* reads issued */
	u32	len;		/* the range the next run sees */
	u64	off;
	int	res;		/* the read in flight's result, from end_io */
	u32	next_nlb;
	u32	next_resv;
	u64	next_slba;
	u64	next_off;
	u64	scratch[UNIFIED_IO_BPF_SCRATCH / 8];
	struct nrio_bpf_run *run;	/* registered for the whole step */
	struct bpf_prog *prog;		/* held for the whole step, as run */
	u32	run_id;
};

/* A context's BPF programs (bpf.c), and its handle for XDP programs. */
struct nrio_bpf_slots {
	spinlock_t		lock;		/* prog[] */
	struct bpf_prog		*prog[UNIFIED_IO_BPF_SLOTS];
	u32			xdp_id;		/* UNIFIED_IO_XDP_HANDLE, 0: none */
	u32			xdp_cookie;
};

void nrio_bpf_init(void);
bool nrio_bpf_available(void);
void nrio_bpf_ctx_init(struct nrio_bpf_slots *bs);
void nrio_bpf_ctx_free(struct nrio_bpf_slots *bs);
long nrio_bpf_xdp_handle(struct nrio_ctx *ctx,
			 struct unified_io_xdp_handle __user *uarg);
long nrio_bpf_attach(struct nrio_ctx *ctx, bool attach,
		     const struct unified_io_bpf_attach __user *uarg);
int nrio_bpf_run(struct nrio_ctx *ctx, const struct nrio_bpf_desc *b,
		 bool *invalid, struct nrio_bpf_hop *hop);
u32 nrio_bpf_max_hops(void);
void nrio_bpf_hop_end(struct nrio_bpf_hop *hop);
int nrio_bpf_uring(struct nrio_ctx *ctx, struct io_uring_cmd *cmd,
		   unsigned int issue_flags);
/* The kfuncs, declared for sparse and -Wmissing-prototypes. */
int unified_io_load(u64 handle, u64 off, void *buf, u32 buf__sz);
int unified_io_store(u64 handle, u64 off, void *buf, u32 buf__sz);
u8 *unified_io_node(u64 handle, u64 off, u32 rdonly_buf_size);
int unified_io_xdp_load(u64 handle, u64 off, void *buf, u32 buf__sz);
int unified_io_xdp_store(u64 handle, u64 off, void *buf, u32 buf__sz);

#endif /* _NRIO_BPF_H */
