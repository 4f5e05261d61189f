// SPDX-License-Identifier: GPL-2.0
/*
 * Read-next BPF programs for bpf_chain_test: BPF_PROG_TYPE_SYSCALL
 * programs run by BPF descriptors with cmd.bpf.max_hops set, which ask the
 * module for the next read of the namespace and run again on its bytes.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/unified_io_region.h>

#include "../btree.h"

extern int unified_io_load(__u64 handle, __u64 off, void *buf,
			   __u32 buf__sz) __ksym;

char LICENSE[] SEC("license") = "GPL";

#define ENOENT		2
#define EILSEQ		84
#define EBADMSG		74

/*
 * A list of reads in the data area at the descriptor's data_off (struct
 * bt_req each), arg of them: run k asks for read k.  Each run after a read
 * XORs the read's first 8 bytes (at ctx->data_off) into scratch[1]; the
 * result is that XOR (31 bits).  The scratch must be zero on the first
 * run (else -EILSEQ), and holds the list's offset for the later runs.
 */
SEC("syscall")
int read_list(struct unified_io_bpf_ctx *ctx)
{
	struct bt_req r;
	__u64 v = 0;
	int ret, i;

	if (ctx->hops == 0) {
#pragma clang loop unroll(full)
		for (i = 0; i < UNIFIED_IO_BPF_SCRATCH / 8; i++)
			if (ctx->scratch[i])
				return -EILSEQ;
		ctx->scratch[0] = ctx->data_off;
	} else {
		ret = unified_io_load(ctx->handle, ctx->data_off, &v, sizeof(v));
		if (ret)
			return ret;
		ctx->scratch[1] ^= v;
	}
	if (ctx->hops >= ctx->arg)
		return (int)(ctx->scratch[1] & 0x7fffffff);
	ret = unified_io_load(ctx->handle,
			      ctx->scratch[0] + (__u64)ctx->hops * sizeof(r),
			      &r, sizeof(r));
	if (ret)
		return ret;
	ctx->next_slba = r.slba;
	ctx->next_nlb = r.nlb;
	ctx->next_resv = r.resv;
	ctx->next_data_off = r.off;
	return UNIFIED_IO_BPF_READ_NEXT;
}

/* Read LBA arg (one LBA) into the descriptor's range, for ever. */
SEC("syscall")
int loop_same(struct unified_io_bpf_ctx *ctx)
{
	ctx->next_slba = ctx->arg;
	ctx->next_nlb = 1;
	ctx->next_data_off = ctx->data_off;
	return UNIFIED_IO_BPF_READ_NEXT;
}

/* Reaches past struct unified_io_bpf_ctx: ATTACH refuses it. */
SEC("syscall")
int ctx_too_far(struct unified_io_bpf_ctx *ctx)
{
	return (int)((__u64 *)ctx)[sizeof(*ctx) / 8];
}

/*
 * Look key arg up in the B-tree node the data area holds at data_off:
 * binary search in the node, then either the value (a leaf; -ENOENT when
 * the key is not there) or a read of the child into the same bytes.
 * scratch[0] counts the nodes seen.
 */
static __always_inline int bt_search(struct unified_io_bpf_ctx *ctx)
{
	__u64 key = ctx->arg, base = ctx->data_off, k = 0, v = 0;
	struct bt_hdr h;
	__u32 lo, hi, mid, i;
	int ret;

	ret = unified_io_load(ctx->handle, base, &h, sizeof(h));
	if (ret)
		return ret;
	if (h.magic != BT_MAGIC || !h.nkeys || h.nkeys > h.cap ||
	    BT_NODE_BYTES(h.cap) > ctx->data_len)
		return -EBADMSG;
	ctx->scratch[0]++;
	/* The last key <= the one looked for. */
	lo = 0;
	hi = h.nkeys;
	for (i = 0; i < 16 && hi - lo > 1; i++) {
		mid = (lo + hi) / 2;
		ret = unified_io_load(ctx->handle, base + BT_KEY_OFF(mid), &k,
				      sizeof(k));
		if (ret)
			return ret;
		if (k <= key)
			lo = mid;
		else
			hi = mid;
	}
	ret = unified_io_load(ctx->handle, base + BT_KEY_OFF(lo), &k,
			      sizeof(k));
	if (!ret)
		ret = unified_io_load(ctx->handle,
				      base + BT_VAL_OFF(h.cap, lo), &v,
				      sizeof(v));
	if (ret)
		return ret;
	if (k > key || (h.level == 0 && k != key))
		return -ENOENT;
	if (h.level == 0)
		return (int)(v & 0x7fffffff);
	ctx->next_slba = v;
	ctx->next_nlb = h.node_lbas;
	ctx->next_data_off = base;
	return UNIFIED_IO_BPF_READ_NEXT;
}

/* After a READ of the root into the descriptor's range: look arg up. */
SEC("syscall")
int btree_lookup(struct unified_io_bpf_ctx *ctx)
{
	return bt_search(ctx);
}

/*
 * A lookup as one descriptor: its range holds a struct bt_root, and the
 * first run reads the root there; every later run is btree_lookup's.
 */
SEC("syscall")
int btree_lookup_root(struct unified_io_bpf_ctx *ctx)
{
	struct bt_root r;
	int ret;

	if (ctx->hops)
		return bt_search(ctx);
	ret = unified_io_load(ctx->handle, ctx->data_off, &r, sizeof(r));
	if (ret)
		return ret;
	if (r.magic != BT_ROOT_MAGIC)
		return -EBADMSG;
	ctx->next_slba = r.root_lba;
	ctx->next_nlb = r.node_lbas;
	ctx->next_data_off = ctx->data_off;
	return UNIFIED_IO_BPF_READ_NEXT;
}
