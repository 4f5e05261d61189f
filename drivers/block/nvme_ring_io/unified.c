// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: /dev/unified_io_region, the region shared by storage,
 * network and BPF.
 *
 * The device is the same context, region, rings and kernel engine as
 * /dev/nvme_ring_io, with its own SETUP and INFO, 128-byte typed SQ
 * descriptors and links.  SUBMIT copies every ready descriptor once into
 * the context's scratch array, then consumes whole chains only: a chain
 * whose end the producer has not published waits in the SQ, and a chain
 * is consumed only when the CQ has a slot for each of its descriptors, so
 * every descriptor has its CQ slot before anything of its chain runs and
 * the ring can never deadlock on a chain.  A single descriptor is issued
 * as on /dev/nvme_ring_io.  A chain of two or more becomes a struct
 * nrio_chain holding the kernel copies of its descriptors: SUBMIT starts
 * the first step, and each step's completion (bio end_io, any context)
 * posts its CQ entry and either cancels the rest (-ECANCELED) or queues
 * the chain's work item, which starts the next step in process context.
 * The chain holds a context reference until its last CQ entry is posted.
 *
 * Whose work a deferred step is: the chain's submitter's.  SUBMIT takes
 * the submitting task's credentials, blk cgroup and memory cgroup into the
 * chain (struct nrio_ident), and every work item that runs a step of it
 * (the chain's, after a completion or a socket's wake-up, and the hop
 * work) wears them while it does: override_creds() for capability and LSM
 * checks (a BPF step's bpf_sys_bpf(), a socket's sendmsg and recvmsg),
 * kthread_associate_blkcg() so that its bios are the submitter's for
 * io.max, io.weight and io.stat, and set_active_memcg() so that its
 * GFP_KERNEL_ACCOUNT memory is charged to the submitter's memory cgroup,
 * as the steps SUBMIT runs inline are.  No step allocates for it: the
 * references are taken once per chain, and wearing them costs a few
 * reference counts per work item.
 *
 * A read-next BPF step (cmd.bpf.max_hops) is a chain too, alone or not:
 * its program runs where any step would, and each read it asks for is
 * issued as an NVMe READ of the chain whose end_io posts nothing but
 * puts the chain on the context's list of completed hops and queues the
 * context's hop work (once for all of them), which runs each program
 * again on what was read.  The step's one CQ entry comes with the
 * program's final result.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/build_bug.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/miscdevice.h>
#include <linux/netdevice.h>
#include <linux/nodemask.h>
#include <linux/nsproxy.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "nrio.h"

/* The kernel's private copy of one unified SQ descriptor. */
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

/*
 * Who submitted a chain: what its deferred steps run as.  References,
 * taken in SUBMIT by the submitting task and dropped with the chain.
 */
struct nrio_ident {
	const struct cred		*cred;
	struct cgroup_subsys_state	*blkcg;	/* NULL: no blk cgroups */
	struct mem_cgroup		*memcg;	/* NULL: memcg disabled */
};

/* What a work item wore before it took a chain's identity. */
struct nrio_ident_saved {
	const struct cred	*cred;
	struct mem_cgroup	*memcg;		/* the active memcg before */
	struct mem_cgroup	*held;		/* our own reference */
};

/* The submitter's: process context, in the submitting task. */
static void nrio_ident_get(struct nrio_ident *id)
{
	id->cred = get_current_cred();
	id->blkcg = NULL;
#ifdef CONFIG_BLK_CGROUP
	/* What bio_associate_blkg() gives a bio this task allocates. */
	id->blkcg = task_get_css(current, io_cgrp_id);
#endif
	/* What its GFP_KERNEL_ACCOUNT allocations are charged to. */
	id->memcg = get_mem_cgroup_from_mm(current->mm);
}

static void nrio_ident_put(struct nrio_ident *id)
{
	put_cred(id->cred);
	if (id->blkcg)
		css_put(id->blkcg);
	mem_cgroup_put(id->memcg);
}

/*
 * Run as @id until nrio_ident_leave(): in a work item of nrio_wq (a
 * kworker, a kthread), around one chain's steps.  The saved state holds
 * its own references, so the chain may be freed before the leave.
 */
static void nrio_ident_enter(const struct nrio_ident *id,
			     struct nrio_ident_saved *s)
{
	s->cred = override_creds(id->cred);
	kthread_associate_blkcg(id->blkcg);
	s->held = id->memcg;
	if (s->held)
		css_get(&s->held->css);
	s->memcg = set_active_memcg(s->held);
}

static void nrio_ident_leave(struct nrio_ident_saved *s)
{
	set_active_memcg(s->memcg);
	mem_cgroup_put(s->held);
	kthread_associate_blkcg(NULL);
	revert_creds(s->cred);
}

/* A chain of two or more descriptors, from SUBMIT to its last CQ entry. */
struct nrio_chain {
	struct nrio_ctx		*ctx;		/* a reference */
	struct nrio_ident	ident;		/* what its steps run as */
	struct work_struct	work;
	u32			n;
	u32			cur;		/* the step to start */
	int			res;		/* of the step that ended */
	struct nrio_net_step	net;		/* a NET step's, while it runs */
	struct nrio_bpf_hop	hop;		/* a read-next step's */
	struct llist_node	hop_node;	/* on uio->hops */
	struct nrio_udesc	d[];
};

static struct miscdevice nrio_uio_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= UNIFIED_IO_DEVNAME,
	.mode	= NRIO_DEV_MODE,
};

bool nrio_uio_file(struct file *file)
{
	return file->private_data == &nrio_uio_misc;
}

/* Read one descriptor once, field by field, into @u. */
static void nrio_uio_read(struct nrio_udesc *u,
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
	d->opcode = READ_ONCE(c->opcode);
	/* nrio_issue() refuses a non-zero resv1 or resv2. */
	d->resv1 = READ_ONCE(c->resv1[0]) || READ_ONCE(c->resv1[1]) ||
		   READ_ONCE(c->resv1[2]);
	d->resv2 = READ_ONCE(c->resv2) != 0;
	d->nsid = READ_ONCE(c->nsid);
	d->cdw2 = READ_ONCE(c->cdw2);
	d->cdw3 = READ_ONCE(c->cdw3);
	d->metadata_off = READ_ONCE(c->metadata_off);
	d->metadata_len = READ_ONCE(c->metadata_len);
	d->cdw10 = READ_ONCE(c->cdw10);
	d->cdw11 = READ_ONCE(c->cdw11);
	d->cdw12 = READ_ONCE(c->cdw12);
	d->cdw13 = READ_ONCE(c->cdw13);
	d->cdw14 = READ_ONCE(c->cdw14);
	d->cdw15 = READ_ONCE(c->cdw15);
	d->timeout_ms = READ_ONCE(c->timeout_ms);
}

/*
 * Run the program of @chain's read-next step (the current one), and
 * issue the read it asks for.  Returns as nrio_uio_issue() does: 0 when
 * the read is in flight (its end_io queues the chain's work, which comes
 * back here), 1 when the step ended with *@res, or the errno its checks
 * failed it with on the first run.
 */
static int nrio_hop_run(struct nrio_ctx *ctx, struct nrio_chain *chain,
			int *res)
{
	struct nrio_udesc *u = &chain->d[chain->cur];
	struct nrio_bpf_hop *hop = &chain->hop;
	struct nrio_desc d;
	bool invalid;
	int ret;

	ret = nrio_bpf_run(ctx, &u->bpf, &invalid, hop);
	if (invalid && !hop->hops)
		return ret;
	if (invalid || ret != UNIFIED_IO_BPF_READ_NEXT) {
		*res = ret;
		return 1;
	}
	if (hop->hops >= u->bpf.max_hops) {
		*res = -ELOOP;
		return 1;
	}
	/* Beyond 4 GiB, the NVMe READ descriptor could not say it either. */
	if (hop->next_resv || !hop->next_nlb ||
	    hop->next_nlb > UNIFIED_IO_BPF_MAX_NLB ||
	    (u64)hop->next_nlb << ctx->ns.lba_shift > U32_MAX) {
		*res = -EINVAL;
		return 1;
	}

	/* Exactly the READ descriptor, checked as any other. */
	memset(&d, 0, sizeof(d));
	d.opcode = NVME_RING_IO_OP_READ;
	d.cdw10 = lower_32_bits(hop->next_slba);
	d.cdw11 = upper_32_bits(hop->next_slba);
	d.cdw12 = hop->next_nlb - 1;
	d.data_off = hop->next_off;
	d.data_len = hop->next_nlb << ctx->ns.lba_shift;
	d.user_data = u->user_data;
	d.chain = chain;
	d.hop = true;
	/* Set before the read can complete: its end_io may run at once. */
	hop->hops++;
	hop->off = d.data_off;
	hop->len = d.data_len;
	ret = nrio_issue(ctx, &d);
	if (ret) {
		/* nrio_issue() fails only before anything is submitted. */
		hop->hops--;
		*res = ret;
		return 1;
	}
	return 0;
}

/* Start read-next step @u of @chain: as nrio_hop_run(). */
static int nrio_hop_start(struct nrio_ctx *ctx, struct nrio_chain *chain,
			  const struct nrio_udesc *u, int *res)
{
	struct nrio_bpf_hop *hop = &chain->hop;

	memset(hop, 0, sizeof(*hop));
	if (u->bpf.max_hops > nrio_bpf_max_hops())
		return -EINVAL;
	if (!ctx->ns.bdev)
		return -ENXIO;
	hop->off = u->bpf.data_off;
	hop->len = u->bpf.data_len;
	return nrio_hop_run(ctx, chain, res);
}

/*
 * Start descriptor @u, a step of @chain or alone (NULL; never a NET
 * or read-next step).  Returns 0 when it is in flight (its completion
 * posts its CQ entry, or resumes a NET or read-next step), 1 when it ran
 * to completion here with result *@res (a BPF program, a NET step), or
 * the errno its checks failed it with.
 */
static int nrio_uio_issue(struct nrio_ctx *ctx, struct nrio_udesc *u,
			  struct nrio_chain *chain, int *res)
{
	bool invalid;

	if ((u->flags & ~UNIFIED_IO_SQE_F_LINK) || u->resv)
		return -EINVAL;
	switch (u->type) {
	case UNIFIED_IO_TYPE_NVME:
		if (!ctx->ns.bdev)
			return -ENXIO;
		u->nvme.chain = chain;
		return nrio_issue(ctx, &u->nvme);
	case UNIFIED_IO_TYPE_BPF:
		if (!nrio_bpf_available())
			return -EOPNOTSUPP;
		if (u->bpf.max_hops)
			return nrio_hop_start(ctx, chain, u, res);
		*res = nrio_bpf_run(ctx, &u->bpf, &invalid, NULL);
		return invalid ? *res : 1;
	case UNIFIED_IO_TYPE_NET_SEND:
	case UNIFIED_IO_TYPE_NET_RECV:
		chain->net.d = u->net;
		return nrio_net_issue(ctx, &chain->net, res);
	default:
		return -EINVAL;
	}
}

static void nrio_chain_free(struct nrio_chain *chain)
{
	struct nrio_ctx *ctx = chain->ctx;

	/*
	 * A read-next step's run and program go when the step ends
	 * (nrio_chain_end_step()); none may outlive its chain whatever
	 * path freed it.
	 */
	nrio_bpf_hop_end(&chain->hop);
	nrio_ident_put(&chain->ident);
	kvfree(chain);
	nrio_ctx_put(ctx);
}

/* Complete steps @from.. with -ECANCELED and free the chain. */
static void nrio_chain_cancel(struct nrio_chain *chain, u32 from)
{
	u32 i;

	for (i = from; i < chain->n; i++)
		nrio_post(chain->ctx, chain->d[i].user_data, -ECANCELED, false,
			  NULL);
	nrio_chain_free(chain);
}

/*
 * The current step ended with @res (@invalid: its checks failed it): post
 * its entry, then cancel the rest or step on.  Returns true when the next
 * step is to start, false when the chain is gone.
 */
static bool nrio_chain_end_step(struct nrio_chain *chain, int res,
				bool invalid)
{
	struct nrio_udesc *u = &chain->d[chain->cur];
	bool net = !invalid && (u->type == UNIFIED_IO_TYPE_NET_SEND ||
				u->type == UNIFIED_IO_TYPE_NET_RECV);
	bool hops = u->type == UNIFIED_IO_TYPE_BPF && u->bpf.max_hops;

	if (hops)
		nrio_bpf_hop_end(&chain->hop);
	/* A read-next step's entry says how many reads it issued. */
	nrio_post_full(chain->ctx, u->user_data, res, invalid, NULL,
		       net ? NRIO_DATA_COPIED : NRIO_DATA_NONE,
		       hops ? chain->hop.hops : 0);
	/* A later read-next step that fails before it starts issued none. */
	chain->hop.hops = 0;
	/* A NET step that moved less than asked ends its chain too. */
	if (res < 0 || (net && res < u->net.data_len)) {
		nrio_chain_cancel(chain, chain->cur + 1);
		return false;
	}
	if (++chain->cur == chain->n) {
		nrio_chain_free(chain);
		return false;
	}
	return true;
}

/*
 * Start the current step, and the ones after it as long as they complete
 * right here (BPF, NET); process context.
 */
static void nrio_chain_run(struct nrio_chain *chain)
{
	struct nrio_ctx *ctx = chain->ctx;
	int ret, res = 0;

	do {
		struct nrio_udesc *u = &chain->d[chain->cur];

		/* Nobody will reap what a closed context would still do. */
		if (READ_ONCE(ctx->closing)) {
			nrio_chain_cancel(chain, chain->cur);
			return;
		}
		/* nrio_issue() fails only before anything is submitted. */
		ret = nrio_uio_issue(ctx, u, chain, &res);
		if (!ret)
			return;	/* the step's end_io owns the chain now */
		/*
		 * Up to a ring of BPF steps run here one after the other:
		 * process context (SUBMIT or a work item), which may sleep.
		 */
		cond_resched();
	} while (nrio_chain_end_step(chain, ret < 0 ? ret : res, ret < 0));
}

/* The chain's work, as its submitter. */
static void nrio_chain_work_as(struct nrio_chain *chain)
{
	int res;

	if (chain->net.active) {
		/* A NET step's socket woke it, or the context closes. */
		if (!nrio_net_resume(chain->ctx, &chain->net, &res))
			return;
		if (nrio_chain_end_step(chain, res, false))
			nrio_chain_run(chain);
	} else if (chain->res < 0) {
		nrio_chain_cancel(chain, chain->cur);
	} else if (chain->cur == chain->n) {
		nrio_chain_free(chain);
	} else {
		nrio_chain_run(chain);
	}
}

/* The chain's work item: a kworker, wearing the submitter's identity. */
static void nrio_chain_work(struct work_struct *work)
{
	struct nrio_chain *chain = container_of(work, struct nrio_chain, work);
	struct nrio_ident_saved saved;

	nrio_ident_enter(&chain->ident, &saved);
	nrio_chain_work_as(chain);
	/* The chain may be gone: saved holds what the leave puts back. */
	nrio_ident_leave(&saved);
}

/*
 * A step completed with @res (bio end_io, any context, often hard irq):
 * post its entry; cancelling the rest, freeing, or starting the next step
 * is the work item's, in process context.
 */
void nrio_chain_step_done(struct nrio_chain *chain, u64 user_data, int res)
{
	nrio_post_data(chain->ctx, user_data, res, false, NULL,
		       NRIO_DATA_IN_PLACE);
	chain->res = res;
	chain->cur++;
	queue_work(nrio_wq, &chain->work);
}

/* A read-next step's read completed: run its program again. */
static void nrio_chain_hop_resume(struct nrio_chain *chain)
{
	struct nrio_ctx *ctx = chain->ctx;
	int ret = 1, res = chain->hop.res;

	if (res >= 0) {
		nrio_note_in_place(ctx, res);
		/* Nobody will reap it: end the step here. */
		if (READ_ONCE(ctx->closing))
			res = -ECANCELED;
		else
			ret = nrio_hop_run(ctx, chain, &res);
	}
	if (!ret)
		return;	/* the next read is in flight */
	if (nrio_chain_end_step(chain, res, false))
		nrio_chain_run(chain);
}

/*
 * The context's chains whose read completed, in one go: one worker
 * wake-up and one plug for as many hops as completed meanwhile.
 */
static void nrio_hop_work(struct work_struct *work)
{
	struct nrio_uio *uio = container_of(work, struct nrio_uio, hop_work);
	struct nrio_ctx *ctx = uio->ctx;
	struct nrio_chain *chain, *next;
	struct nrio_ident_saved saved;
	struct llist_node *list;
	struct blk_plug plug;

	list = llist_reverse_order(llist_del_all(&uio->hops));
	blk_start_plug(&plug);
	llist_for_each_entry_safe(chain, next, list, hop_node) {
		/* Each chain as its own submitter. */
		nrio_ident_enter(&chain->ident, &saved);
		nrio_chain_hop_resume(chain);
		nrio_ident_leave(&saved);
		cond_resched();
	}
	blk_finish_plug(&plug);
	/* Taken when the work was queued: the context outlives it. */
	nrio_ctx_put(ctx);
}

/* A read-next step's read completed with @res (bio end_io, any context). */
void nrio_chain_hop_done(struct nrio_chain *chain, int res)
{
	struct nrio_ctx *ctx = chain->ctx;
	struct nrio_uio *uio = ctx->uio;

	chain->hop.res = res;
	/* The first on the list queues the work; the chain holds ctx. */
	if (llist_add(&chain->hop_node, &uio->hops)) {
		refcount_inc(&ctx->ref);
		if (!queue_work(nrio_wq, &uio->hop_work))
			nrio_ctx_put(ctx);
	}
}

/*
 * Start the chain of @n descriptors at @u; their CQ slots are reserved.
 * A NET descriptor alone is a chain of one: it may have to wait.
 */
static void nrio_chain_start(struct nrio_ctx *ctx, const struct nrio_udesc *u,
			     u32 n)
{
	struct nrio_chain *chain;
	u32 i;

	chain = kvmalloc(struct_size(chain, d, n), GFP_KERNEL_ACCOUNT);
	if (!chain) {
		nrio_post(ctx, u[0].user_data, -ENOMEM, false, NULL);
		for (i = 1; i < n; i++)
			nrio_post(ctx, u[i].user_data, -ECANCELED, false, NULL);
		return;
	}
	refcount_inc(&ctx->ref);
	chain->ctx = ctx;
	/* SUBMIT runs in the submitter's task: its steps run as it. */
	nrio_ident_get(&chain->ident);
	INIT_WORK(&chain->work, nrio_chain_work);
	chain->n = n;
	chain->cur = 0;
	chain->res = 0;
	chain->net.active = false;
	chain->net.work = &chain->work;
	/* Read (hops, run) even by a read-next step that fails to start. */
	memset(&chain->hop, 0, sizeof(chain->hop));
	memcpy(chain->d, u, n * sizeof(*u));
	if (n > 1)
		WRITE_ONCE(ctx->chains, ctx->chains + 1);
	nrio_chain_run(chain);
}

/*
 * May descriptor @u, alone, be issued with IO_URING_F_NONBLOCK?  Only an
 * NVMe one that goes with REQ_NOWAIT: BPF programs are sleepable, NET
 * steps take the socket lock, DSM allocates and waits.  A descriptor of
 * no known type fails its checks without sleeping.
 */
static bool nrio_uio_nowait_type(u8 type, u8 opcode)
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
bool nrio_uio_nowait_ok(struct nrio_ctx *ctx, u32 head, u32 avail, u32 budget)
{
	const struct unified_io_sqe *sqes = ctx->region->sqes;
	u32 i, n = min(avail, budget);

	for (i = 0; i < n; i++) {
		const struct unified_io_sqe *sqe =
			&sqes[(head + i) & ctx->sq_mask];

		if ((READ_ONCE(sqe->flags) & UNIFIED_IO_SQE_F_LINK) ||
		    !nrio_uio_nowait_type(READ_ONCE(sqe->type),
					  READ_ONCE(sqe->cmd.nvme.opcode)))
			return false;
	}
	return true;
}

/* NET and read-next steps may have to wait: alone, they are a chain. */
static bool nrio_uio_needs_chain(const struct nrio_udesc *u)
{
	return u->type == UNIFIED_IO_TYPE_NET_SEND ||
	       u->type == UNIFIED_IO_TYPE_NET_RECV ||
	       (u->type == UNIFIED_IO_TYPE_BPF && u->bpf.max_hops);
}

/*
 * SUBMIT on a unified context: consume whole chains from @head, of the
 * @avail descriptors the producer published, starting chains only while
 * fewer than @budget (SUBMIT's to_submit, or @avail) were consumed: a
 * chain that starts within the budget is consumed whole.  ctx->lock is
 * held.  Returns the number consumed.  With @nowait (nrio_submit()) stop,
 * setting *@again, at a descriptor that cannot start without waiting.
 */
u32 nrio_uio_consume(struct nrio_ctx *ctx, u32 head, u32 avail, u32 budget,
		     bool nowait, bool *again)
{
	const struct unified_io_sqe *sqes = ctx->region->sqes;
	struct nrio_udesc *u = ctx->uio->scratch;
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
				nrio_uio_read(&u[read++],
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
		/* Rewritten since nrio_uio_nowait_ok() passed it. */
		if (nowait && !endless &&
		    (n > 1 || !nrio_uio_nowait_type(u[i].type,
						     u[i].nvme.opcode))) {
			*again = true;
			break;
		}
		if (!nrio_reserve_cq(ctx, n, true)) {
			nrio_note_cq_full(ctx);
			break;
		}
		if (endless) {
			for (k = 0; k < n; k++)
				nrio_post(ctx, u[k].user_data, -EINVAL, true,
					  NULL);
		} else if (n == 1 && !nrio_uio_needs_chain(&u[i])) {
			int res = 0, ret;

			if (u[i].type == UNIFIED_IO_TYPE_NVME)
				u[i].nvme.nowait = nowait;
			ret = nrio_uio_issue(ctx, &u[i], NULL, &res);
			if (unlikely(ret == -EAGAIN && nowait)) {
				/* Not consumed: it stays in the SQ. */
				nrio_unreserve_cq(ctx, 1);
				*again = true;
				break;
			}
			if (ret)
				nrio_post(ctx, u[i].user_data,
					  ret < 0 ? ret : res, ret < 0, NULL);
		} else {
			nrio_chain_start(ctx, &u[i], n);
		}
	}
	blk_finish_plug(&plug);
	return i;
}

void nrio_uio_free(struct nrio_ctx *ctx)
{
	if (!ctx->uio)
		return;
	nrio_bpf_ctx_free(ctx->uio);
	nrio_net_ctx_free(ctx->uio);
	kvfree(ctx->uio->scratch);
	kfree(ctx->uio);
	ctx->uio = NULL;
}

/*
 * With the namespace bound: check the interface, choose the node, and
 * allocate what the unified context keeps.
 */
static int nrio_uio_prepare(struct nrio_ctx *ctx, struct nrio_setup_req *req)
{
	const struct unified_io_setup *s = req->priv;
	int node = NUMA_NO_NODE;
	struct nrio_uio *uio;

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

	uio = kzalloc(sizeof(*uio), GFP_KERNEL_ACCOUNT);
	if (!uio)
		return -ENOMEM;
	uio->scratch = kvcalloc(req->sq_entries, sizeof(*uio->scratch),
				GFP_KERNEL_ACCOUNT);
	if (!uio->scratch) {
		kfree(uio);
		return -ENOMEM;
	}
	uio->net_ifindex = s->net_ifindex;
	uio->net_rxq = s->net_rxq;
	uio->frame_size = s->frame_size;
	uio->frame_headroom = s->frame_headroom;
	nrio_bpf_ctx_init(uio);
	nrio_net_ctx_init(uio);
	uio->ctx = ctx;
	init_llist_head(&uio->hops);
	INIT_WORK(&uio->hop_work, nrio_hop_work);
	ctx->uio = uio;
	return 0;
}

static int nrio_uio_check_frames(const struct unified_io_setup *s)
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

static long nrio_uio_setup(struct nrio_ctx *ctx,
			   struct unified_io_setup __user *uarg)
{
	struct unified_io_setup s;
	struct nrio_setup_req req;
	long ret;
	u32 i;

	ret = nrio_copy_setup(&s, sizeof(s), uarg);
	if (ret)
		return ret;
	if (s.flags & ~UNIFIED_IO_SETUP_F_IOPOLL)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(s.resv); i++)
		if (s.resv[i])
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
		.numa_node	= s.numa_node,
		.prepare	= nrio_uio_prepare,
		.priv		= &s,
	};
	/* Every EINVAL of the struct before any E2BIG. */
	ret = nrio_uio_check_frames(&s);
	if (ret)
		return ret;
	ret = nrio_check_request(&req);
	if (ret)
		return ret;
	return nrio_ctx_setup(ctx, &req, &uarg->off);
}

static long nrio_uio_info(struct nrio_ctx *ctx,
			  struct unified_io_info __user *uarg)
{
	struct nrio_region *region = smp_load_acquire(&ctx->region);
	struct unified_io_info info = {};
	struct nrio_ns *ns = &ctx->ns;
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
		struct nrio_uio *uio = ctx->uio;

		info.flags = UNIFIED_IO_INFO_F_SETUP;
		if (ns->bdev) {
			info.flags |= UNIFIED_IO_INFO_F_NVME;
			if (ns->can_read)
				info.flags |= UNIFIED_IO_INFO_F_READ;
			if (ns->can_write)
				info.flags |= UNIFIED_IO_INFO_F_WRITE;
			if (bdev_read_only(ns->bdev))
				info.flags |= UNIFIED_IO_INFO_F_RO_NS;
			if (ns->generic)
				info.flags |= UNIFIED_IO_INFO_F_GENERIC_FD;
			if (READ_ONCE(ctx->dead) ||
			    !disk_live(ns->bdev->bd_disk))
				info.flags |= UNIFIED_IO_INFO_F_DEAD;
			info.nsid = ns->nsid;
			info.lba_size = 1U << ns->lba_shift;
			info.nr_lbas = bdev_nr_sectors(ns->bdev) >>
				       (ns->lba_shift - SECTOR_SHIFT);
			info.max_transfer = ns->max_transfer;
			info.max_segments = ns->max_segments;
			info.dma_alignment = ns->dma_align + 1;
		}
		if (ctx->polled)
			info.flags |= UNIFIED_IO_INFO_F_POLLED;
		if (uio->net_ifindex)
			info.flags |= UNIFIED_IO_INFO_F_NET;
		info.region_size = region->off.region_size;
		info.data_size = region->off.data_size;
		info.huge_bytes = region->huge_bytes;
		info.sq_entries = ctx->sq_mask + 1;
		info.cq_entries = ctx->cq_mask + 1;
		info.numa_node = ctx->numa_node;
		info.net_ifindex = uio->net_ifindex;
		info.net_rxq = uio->net_rxq;
		info.frame_size = uio->frame_size;
		info.frame_headroom = uio->frame_headroom;
		if (uio->frame_size)
			info.nr_frames = region->off.data_size /
					 uio->frame_size;

		spin_lock_irq(&ctx->cq_lock);
		info.inflight = ctx->inflight;
		info.counters.completed = ctx->completed;
		info.counters.sq_invalid = ctx->sq_invalid;
		info.bytes_zero_copy = ctx->bytes_moved;
		info.canceled = ctx->canceled;
		/* NVMe data is refused rather than copied: sockets copy. */
		info.bytes_copied = ctx->bytes_copied;
		spin_unlock_irq(&ctx->cq_lock);
		info.chains = READ_ONCE(ctx->chains);
		info.counters.submitted = READ_ONCE(ctx->submitted);
		info.counters.cq_full = READ_ONCE(ctx->cq_full);
	}
	if (copy_to_user(uarg, &info, usize))
		return -EFAULT;
	return 0;
}

long nrio_uio_ioctl(struct nrio_ctx *ctx, unsigned int cmd, void __user *uarg)
{
	switch (cmd) {
	case UNIFIED_IO_SETUP:
		return nrio_uio_setup(ctx, uarg);
	case UNIFIED_IO_INFO:
		return nrio_uio_info(ctx, uarg);
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

static void nrio_uio_build_bugs(void)
{
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

int nrio_uio_init(const struct file_operations *fops)
{
	int ret;

	nrio_uio_build_bugs();
	nrio_bpf_init();
	nrio_uio_misc.fops = fops;
	ret = misc_register(&nrio_uio_misc);
	if (ret)
		pr_err("cannot register /dev/%s: %d\n", UNIFIED_IO_DEVNAME, ret);
	return ret;
}

void nrio_uio_exit(void)
{
	misc_deregister(&nrio_uio_misc);
}
