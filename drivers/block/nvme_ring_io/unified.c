// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: /dev/unified_io_region, the region shared by storage,
 * network and BPF.
 *
 * The device is the same context, region, rings and SUBMIT as
 * /dev/nvme_ring_io, with its own SETUP and INFO, 128-byte typed SQ
 * descriptors and links.  Its SUBMIT consumer reads every descriptor once
 * into the context's scratch array, then consumes whole chains only: a
 * chain whose end the producer has not published waits in the SQ, and a
 * chain is consumed only when the CQ has a slot for each of its
 * descriptors, so every descriptor has its CQ slot before anything of its
 * chain runs and the ring can never deadlock on a chain.  A single
 * descriptor is issued as it is (chain.c's nrio_step_issue()); a chain,
 * and a step that may have to wait, goes to chain.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/build_bug.h>
#include <linux/netdevice.h>
#include <linux/nodemask.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "bpf.h"
#include "chain.h"
#include "net.h"
#include "ring.h"
#include "setup.h"
#include "unified.h"

/* What a unified context adds to the shared one. */
struct nrio_unified {
	u32			net_ifindex;
	u32			net_rxq;
	u32			frame_size;
	u32			frame_headroom;
	struct nrio_udesc	*scratch;	/* sq_entries, under ctx->lock */
	struct nrio_bpf_slots	bpf;
	struct nrio_net_socks	net;
	struct nrio_chains	chains;
};

/* Read one descriptor once, field by field, into @u. */
static void nrio_unified_read(struct nrio_udesc *u,
			  const struct unified_io_sqe *sqe)
{
	const struct unified_io_nvme *c = &sqe->cmd.nvme;
	const struct unified_io_bpf *cb = &sqe->cmd.bpf;
	const struct unified_io_net *cn = &sqe->cmd.net;
	struct nrio_desc *d = &u->nvme;
	unsigned int i;

	u->type = READ_ONCE(sqe->type);
	u->flags = READ_ONCE(sqe->flags);
	u->resv = READ_ONCE(sqe->resv1) || READ_ONCE(sqe->resv2);
	/* cmd's bytes past every type's struct: reserved for all. */
	for (i = 8; i < ARRAY_SIZE(sqe->cmd.raw); i++)
		u->resv |= READ_ONCE(sqe->cmd.raw[i]) != 0;
	u->user_data = READ_ONCE(sqe->user_data);
	if (u->type == UNIFIED_IO_TYPE_BPF) {
		struct nrio_bpf_desc *b = &u->bpf;

		b->data_off = READ_ONCE(sqe->data_off);
		b->data_len = READ_ONCE(sqe->data_len);
		b->user_data = u->user_data;
		b->slot = READ_ONCE(cb->slot);
		b->max_hops = READ_ONCE(cb->max_hops);
		b->arg = READ_ONCE(cb->arg);
		b->resv = false;
		for (i = 0; i < ARRAY_SIZE(cb->resv2); i++)
			b->resv |= READ_ONCE(cb->resv2[i]) != 0;
		return;
	}
	if (u->type == UNIFIED_IO_TYPE_NET_SEND ||
	    u->type == UNIFIED_IO_TYPE_NET_RECV) {
		struct nrio_net_desc *n = &u->net;

		n->send = u->type == UNIFIED_IO_TYPE_NET_SEND;
		n->data_off = READ_ONCE(sqe->data_off);
		n->data_len = READ_ONCE(sqe->data_len);
		n->sock = READ_ONCE(cn->sock);
		n->msg_flags = READ_ONCE(cn->msg_flags);
		n->resv = false;
		for (i = 0; i < ARRAY_SIZE(cn->resv); i++)
			n->resv |= READ_ONCE(cn->resv[i]) != 0;
		return;
	}
	memset(d, 0, sizeof(*d));
	d->data_len = READ_ONCE(sqe->data_len);
	d->data_off = READ_ONCE(sqe->data_off);
	d->user_data = u->user_data;
	if (u->type != UNIFIED_IO_TYPE_NVME)
		return;
	nrio_read_nvme_cmd(d, c);
	/* nrio_issue() refuses a non-zero resv1 or resv2. */
	d->resv1 = READ_ONCE(c->resv1[0]) || READ_ONCE(c->resv1[1]) ||
		   READ_ONCE(c->resv1[2]);
	d->resv2 = READ_ONCE(c->resv2) != 0;
}

/*
 * May descriptor @u, alone, be issued with IO_URING_F_NONBLOCK?  Only an
 * NVMe one that goes with REQ_NOWAIT: BPF programs are sleepable, NET
 * steps take the socket lock, DSM allocates and waits.  A descriptor of
 * no known type fails its checks without sleeping.
 */
static bool nrio_unified_nowait_type(u8 type, u8 opcode)
{
	switch (type) {
	case UNIFIED_IO_TYPE_NVME:
		return nrio_nowait_opcode(opcode);
	case UNIFIED_IO_TYPE_BPF:
	case UNIFIED_IO_TYPE_NET_SEND:
	case UNIFIED_IO_TYPE_NET_RECV:
		return false;
	default:
		return true;
	}
}

/*
 * The descriptors SUBMIT would consume from @head (see nrio_submit()):
 * can all be issued without waiting?  Not a chain (its steps run from a
 * work item, and it allocates), nor a step that sleeps.
 */
static bool nrio_unified_nowait_ok(struct nrio_ctx *ctx, u32 head, u32 avail,
				   u32 budget)
{
	const struct unified_io_sqe *sqes = ctx->region->sqes;
	u32 i, n = min(avail, budget);

	for (i = 0; i < n; i++) {
		const struct unified_io_sqe *sqe =
			&sqes[(head + i) & ctx->sq_mask];

		if ((READ_ONCE(sqe->flags) & UNIFIED_IO_SQE_F_LINK) ||
		    !nrio_unified_nowait_type(READ_ONCE(sqe->type),
					  READ_ONCE(sqe->cmd.nvme.opcode)))
			return false;
	}
	return true;
}

/*
 * SUBMIT on a unified context: consume whole chains from @head, of the
 * @avail descriptors the producer published, starting chains only while
 * fewer than @budget (SUBMIT's to_submit, or @avail) were consumed: a
 * chain that starts within the budget is consumed whole.  ctx->lock is
 * held.  Returns the number consumed.  With @nowait (nrio_submit()) stop,
 * setting *@again, at a descriptor that cannot start without waiting.
 */
static u32 nrio_unified_consume(struct nrio_ctx *ctx, u32 head, u32 avail,
				u32 budget, bool nowait, bool *again)
{
	const struct unified_io_sqe *sqes = ctx->region->sqes;
	struct nrio_udesc *u = ctx->unified->scratch;
	u32 entries = ctx->sq_mask + 1, i, j, n, k, read = 0;
	struct blk_plug plug;
	bool endless;

	blk_start_plug(&plug);
	for (i = 0; i < avail && i < budget; i += n) {
		if (fatal_signal_pending(current))
			break;
		/* Up to a ring of BPF steps, each a program run. */
		cond_resched();
		/*
		 * Find the chain's end, reading each descriptor once as the
		 * scan reaches it; what is not consumed is read anew later.
		 */
		for (j = i;; j++) {
			if (j == read)
				nrio_unified_read(&u[read++],
					      &sqes[(head + j) & ctx->sq_mask]);
			if (!(u[j].flags & UNIFIED_IO_SQE_F_LINK) ||
			    j + 1 == avail)
				break;
		}
		endless = u[j].flags & UNIFIED_IO_SQE_F_LINK;
		if (endless) {
			/* The producer has not published the chain's end. */
			if (i || avail < entries)
				break;
			/* It fills the ring and has no end: it never will. */
			n = avail;
		} else {
			n = j - i + 1;
		}
		/* Rewritten since nrio_unified_nowait_ok() passed it. */
		if (nowait && !endless &&
		    (n > 1 || !nrio_unified_nowait_type(u[i].type,
						     u[i].nvme.opcode))) {
			*again = true;
			break;
		}
		if (!nrio_cq_reserve(ctx, n, true)) {
			nrio_cq_note_full(ctx);
			break;
		}
		if (endless) {
			for (k = 0; k < n; k++)
				nrio_cq_post(ctx, u[k].user_data, -EINVAL, true);
		} else if (n == 1 && !nrio_step_needs_chain(&u[i])) {
			int res = 0, ret;

			if (u[i].type == UNIFIED_IO_TYPE_NVME)
				u[i].nvme.nowait = nowait;
			ret = nrio_step_issue(ctx, &u[i], NULL, &res);
			if (unlikely(ret == -EAGAIN && nowait)) {
				/* Not consumed: it stays in the SQ. */
				nrio_cq_cancel(ctx, 1);
				*again = true;
				break;
			}
			if (ret)
				nrio_cq_post(ctx, u[i].user_data,
					  ret < 0 ? ret : res, ret < 0);
		} else {
			nrio_chain_start(ctx, &u[i], n);
		}
	}
	blk_finish_plug(&plug);
	return i;
}

static void nrio_unified_free(struct nrio_ctx *ctx)
{
	struct nrio_unified *uni = ctx->unified;

	if (!uni)
		return;
	nrio_bpf_ctx_free(&uni->bpf);
	nrio_net_ctx_free(&uni->net);
	kvfree(uni->scratch);
	kfree(uni);
	ctx->unified = NULL;
	ctx->bpf = NULL;
	ctx->net = NULL;
	ctx->chains = NULL;
}

/*
 * With the namespace bound: check the interface, choose the node, and
 * allocate what the unified context keeps.
 */
static int nrio_unified_prepare(struct nrio_ctx *ctx,
				struct nrio_setup_req *req)
{
	const struct unified_io_setup *s = req->priv;
	int node = NUMA_NO_NODE;
	struct nrio_unified *uni;

	if (s->net_ifindex) {
		struct net_device *dev;

		dev = dev_get_by_index(current->nsproxy->net_ns,
				       s->net_ifindex);
		if (!dev)
			return -ENODEV;
		if (s->net_rxq >= dev->real_num_rx_queues) {
			dev_put(dev);
			return -EINVAL;
		}
		node = dev_to_node(&dev->dev);
		dev_put(dev);
	}
	if (node == NUMA_NO_NODE && ctx->ns.bdev)
		node = ctx->ns.bdev->bd_disk->node_id;
	/* "Any": the device's node, where it has one with memory. */
	if (req->numa_node == NUMA_NO_NODE && node != NUMA_NO_NODE &&
	    node >= 0 && node < MAX_NUMNODES && node_state(node, N_MEMORY))
		req->numa_node = node;

	uni = kzalloc(sizeof(*uni), GFP_KERNEL_ACCOUNT);
	if (!uni)
		return -ENOMEM;
	uni->scratch = kvcalloc(req->sq_entries, sizeof(*uni->scratch),
				GFP_KERNEL_ACCOUNT);
	if (!uni->scratch) {
		kfree(uni);
		return -ENOMEM;
	}
	uni->net_ifindex = s->net_ifindex;
	uni->net_rxq = s->net_rxq;
	uni->frame_size = s->frame_size;
	uni->frame_headroom = s->frame_headroom;
	nrio_bpf_ctx_init(&uni->bpf);
	nrio_net_ctx_init(&uni->net);
	nrio_chains_init(&uni->chains, ctx);
	ctx->unified = uni;
	ctx->bpf = &uni->bpf;
	ctx->net = &uni->net;
	ctx->chains = &uni->chains;
	return 0;
}

static int nrio_unified_check_frames(const struct unified_io_setup *s)
{
	if (!s->frame_size)
		return s->frame_headroom ? -EINVAL : 0;
	if (!is_power_of_2(s->frame_size) ||
	    s->frame_size < UNIFIED_IO_FRAME_MIN ||
	    s->frame_size > UNIFIED_IO_FRAME_MAX)
		return -EINVAL;
	if (s->region_size & (s->frame_size - 1))
		return -EINVAL;
	/* AF_XDP: headroom < chunk size - XDP_PACKET_HEADROOM. */
	if (s->frame_headroom >= s->frame_size - UNIFIED_IO_XDP_HEADROOM)
		return -EINVAL;
	return 0;
}

static long nrio_unified_setup(struct nrio_ctx *ctx, void __user *arg)
{
	struct unified_io_setup __user *uarg = arg;
	struct unified_io_setup s;
	struct nrio_setup_req req;
	long ret;

	ret = nrio_copy_setup(&s, sizeof(s), uarg);
	if (ret)
		return ret;
	if (s.flags & ~UNIFIED_IO_SETUP_F_IOPOLL)
		return -EINVAL;
	if (memchr_inv(s.resv, 0, sizeof(s.resv)))
		return -EINVAL;
	if (s.net_rxq && !s.net_ifindex)
		return -EINVAL;

	req = (struct nrio_setup_req) {
		.iopoll		= s.flags & UNIFIED_IO_SETUP_F_IOPOLL,
		.sq_entries	= s.sq_entries,
		.cq_entries	= s.cq_entries,
		.sqe_size	= sizeof(struct unified_io_sqe),
		.data_size	= s.region_size,
		.nvme_fd	= s.nvme_fd,
		.nvme_optional	= true,
		.align_dma	= true,
		.numa_node	= s.numa_node,
		.prepare	= nrio_unified_prepare,
		.priv		= &s,
	};
	/* Every EINVAL of the struct before any E2BIG. */
	ret = nrio_unified_check_frames(&s);
	if (ret)
		return ret;
	return nrio_ctx_setup(ctx, &req, &uarg->off);
}

static long nrio_unified_info(struct nrio_ctx *ctx, void __user *uarg)
{
	struct nrio_region *region = nrio_ctx_region(ctx);
	struct unified_io_info info = {};
	u32 usize;
	int ret;

	ret = nrio_info_size(uarg, sizeof(info), &usize);
	if (ret)
		return ret;
	info.size = usize;
	info.abi_version = UNIFIED_IO_ABI_VERSION;
	info.features = UNIFIED_IO_FEAT_NVME | UNIFIED_IO_FEAT_LINK |
			UNIFIED_IO_FEAT_NET;
	if (nrio_bpf_available())
		info.features |= UNIFIED_IO_FEAT_BPF |
				 UNIFIED_IO_FEAT_BPF_READ_NEXT;
	if (region) {
		struct nrio_unified *uni = ctx->unified;
		struct nrio_info c;

		nrio_info_common(ctx, &c);
		nrio_info_fill(&info, &c);
		if (ctx->ns.bdev)
			info.flags |= UNIFIED_IO_INFO_F_NVME;
		if (uni->net_ifindex)
			info.flags |= UNIFIED_IO_INFO_F_NET;
		info.dma_alignment = c.dma_alignment;
		info.net_ifindex = uni->net_ifindex;
		info.net_rxq = uni->net_rxq;
		info.frame_size = uni->frame_size;
		info.frame_headroom = uni->frame_headroom;
		if (uni->frame_size)
			info.nr_frames = c.data_size / uni->frame_size;
		info.bytes_zero_copy = c.bytes_moved;
		/* NVMe data is refused rather than copied: sockets copy. */
		info.bytes_copied = c.bytes_copied;
		info.chains = c.nr_chains;
		info.canceled = c.canceled;
	}
	if (copy_to_user(uarg, &info, usize))
		return -EFAULT;
	return 0;
}

static long nrio_unified_ioctl(struct nrio_ctx *ctx, unsigned int cmd,
			       void __user *uarg)
{
	switch (cmd) {
	case UNIFIED_IO_BPF_ATTACH:
		return nrio_bpf_attach(ctx, true, uarg);
	case UNIFIED_IO_BPF_DETACH:
		return nrio_bpf_attach(ctx, false, uarg);
	case UNIFIED_IO_SOCK_ATTACH:
		return nrio_net_attach(ctx, true, uarg);
	case UNIFIED_IO_SOCK_DETACH:
		return nrio_net_attach(ctx, false, uarg);
	case UNIFIED_IO_XDP_HANDLE:
		return nrio_bpf_xdp_handle(ctx, uarg);
	default:
		return -ENOTTY;
	}
}

static void nrio_unified_build_bugs(void)
{
	/* nrio_info_common() sets these for both devices. */
	BUILD_BUG_ON(UNIFIED_IO_INFO_F_SETUP != NVME_RING_IO_INFO_F_SETUP ||
		     UNIFIED_IO_INFO_F_READ != NVME_RING_IO_INFO_F_READ ||
		     UNIFIED_IO_INFO_F_WRITE != NVME_RING_IO_INFO_F_WRITE ||
		     UNIFIED_IO_INFO_F_RO_NS != NVME_RING_IO_INFO_F_RO_NS ||
		     UNIFIED_IO_INFO_F_GENERIC_FD !=
		     NVME_RING_IO_INFO_F_GENERIC_FD ||
		     UNIFIED_IO_INFO_F_POLLED != NVME_RING_IO_INFO_F_POLLED ||
		     UNIFIED_IO_INFO_F_DEAD != NVME_RING_IO_INFO_F_DEAD);
	BUILD_BUG_ON(sizeof(struct unified_io_nvme) != 64);
	BUILD_BUG_ON(sizeof(struct unified_io_bpf) != 64);
	BUILD_BUG_ON(sizeof(struct unified_io_net) != 64);
	BUILD_BUG_ON(sizeof(struct unified_io_sqe) != 128);
	BUILD_BUG_ON(sizeof(struct unified_io_setup) != 192);
	BUILD_BUG_ON(sizeof(struct unified_io_info) != 176);
	BUILD_BUG_ON(sizeof(struct unified_io_bpf_ctx) != 144);
	/* What ABI version 1 programs read stays where it was. */
	BUILD_BUG_ON(offsetof(struct unified_io_bpf_ctx, data_size) != 40);
	BUILD_BUG_ON(offsetof(struct unified_io_bpf_ctx, hops) != 48);
	BUILD_BUG_ON(offsetof(struct unified_io_bpf_ctx, next_data_off) != 72);
	BUILD_BUG_ON(offsetof(struct unified_io_bpf_ctx, scratch) != 80);
	BUILD_BUG_ON(offsetof(struct unified_io_bpf, max_hops) != 4);
	BUILD_BUG_ON(sizeof(struct unified_io_bpf_attach) != 16);
	BUILD_BUG_ON(sizeof(struct unified_io_sock_attach) != 16);
	BUILD_BUG_ON(sizeof(struct unified_io_xdp_handle) != 16);
	BUILD_BUG_ON(UNIFIED_IO_XDP_HANDLE !=
		     _IOC(_IOC_READ | _IOC_WRITE, 0xBA, 0x2a, 16));
	BUILD_BUG_ON(UNIFIED_IO_SOCK_ATTACH != _IOC(_IOC_WRITE, 0xBA, 0x28, 16));
	BUILD_BUG_ON(UNIFIED_IO_SOCK_DETACH != _IOC(_IOC_WRITE, 0xBA, 0x29, 16));
	BUILD_BUG_ON(sizeof(struct unified_io_uring_bpf) != 64);
	BUILD_BUG_ON(UNIFIED_IO_URING_BPF != _IOC(_IOC_WRITE, 0xBA, 0x27, 64));
	BUILD_BUG_ON(UNIFIED_IO_BPF_ATTACH != _IOC(_IOC_WRITE, 0xBA, 0x25, 16));
	BUILD_BUG_ON(UNIFIED_IO_BPF_DETACH != _IOC(_IOC_WRITE, 0xBA, 0x26, 16));
	BUILD_BUG_ON(UNIFIED_IO_SETUP !=
		     _IOC(_IOC_READ | _IOC_WRITE, 0xBA, 0x21, 192));
	BUILD_BUG_ON(UNIFIED_IO_SUBMIT != _IOC(_IOC_WRITE, 0xBA, 0x22, 16));
	BUILD_BUG_ON(UNIFIED_IO_COMPLETE != _IOC(_IOC_WRITE, 0xBA, 0x23, 24));
	BUILD_BUG_ON(UNIFIED_IO_INFO !=
		     _IOC(_IOC_READ | _IOC_WRITE, 0xBA, 0x24, 176));
}

/* UNIFIED_IO_URING_BPF, the device's own io_uring command. */
static int nrio_unified_uring_cmd(struct nrio_ctx *ctx,
				  struct io_uring_cmd *cmd,
				  unsigned int issue_flags)
{
	if (cmd->cmd_op != UNIFIED_IO_URING_BPF)
		return -EOPNOTSUPP;
	/* Pairs with SETUP's release: the context is complete. */
	if (!nrio_ctx_region(ctx))
		return -EBADFD;
	return nrio_bpf_uring(ctx, cmd, issue_flags);
}

/* Steps waiting for a socket would wait for ever: cancel them. */
static void nrio_unified_release(struct nrio_ctx *ctx)
{
	nrio_net_cancel_all(ctx);
}

const struct nrio_dev_ops nrio_unified_ops = {
	.name		= UNIFIED_IO_DEVNAME,
	.setup_cmd	= UNIFIED_IO_SETUP,
	.info_cmd	= UNIFIED_IO_INFO,
	.submit_cmd	= UNIFIED_IO_SUBMIT,
	.complete_cmd	= UNIFIED_IO_COMPLETE,
	.setup		= nrio_unified_setup,
	.info		= nrio_unified_info,
	.ioctl		= nrio_unified_ioctl,
	.uring_cmd	= nrio_unified_uring_cmd,
	.consume	= nrio_unified_consume,
	.nowait_ok	= nrio_unified_nowait_ok,
	.release	= nrio_unified_release,
	.free		= nrio_unified_free,
};

/* Before the device node exists. */
void nrio_unified_init(void)
{
	nrio_unified_build_bugs();
	nrio_bpf_init();
}
