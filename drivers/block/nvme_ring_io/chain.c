// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: chains of steps, and read-next hops.
 *
 * A unified descriptor is a step: an NVMe command, a BPF program run, a
 * socket send or receive.  nrio_step_issue() starts one on its engine.
 * A chain of two or more (UNIFIED_IO_SQE_F_LINK) becomes a struct
 * nrio_chain holding the kernel copies of its descriptors: SUBMIT starts
 * the first step, and each step's completion (bio end_io, any context)
 * posts its CQ entry and either cancels the rest (-ECANCELED) or queues
 * the chain's work item, which starts the next step in process context.
 * The chain holds a context reference until its last CQ entry is posted.
 * The engines know nothing of chains: an NVMe step completes through the
 * end_io its descriptor carries, a socket step wakes the work item its
 * struct nrio_net_step names.
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
#include <linux/blkdev.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "chain.h"
#include "ring.h"

static void nrio_chain_step_done(void *data, u64 user_data, int res);
static void nrio_chain_hop_done(void *data, u64 user_data, int res);

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
	struct llist_node	hop_node;	/* on chains->hops */
	struct nrio_udesc	d[];
};

/*
 * Run the program of @chain's read-next step (the current one), and
 * issue the read it asks for.  Returns as nrio_step_issue() does: 0 when
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
	d.end_io = nrio_chain_hop_done;	/* no CQ entry of its own */
	d.end_data = chain;
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
int nrio_step_issue(struct nrio_ctx *ctx, struct nrio_udesc *u,
		    struct nrio_chain *chain, int *res)
{
	bool invalid;

	if ((u->flags & ~UNIFIED_IO_SQE_F_LINK) || u->resv)
		return -EINVAL;
	switch (u->type) {
	case UNIFIED_IO_TYPE_NVME:
		if (!ctx->ns.bdev)
			return -ENXIO;
		if (chain) {
			u->nvme.end_io = nrio_chain_step_done;
			u->nvme.end_data = chain;
		}
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
		nrio_cq_post(chain->ctx, chain->d[i].user_data, -ECANCELED, false);
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
	nrio_cq_post_full(chain->ctx, u->user_data, res, invalid, NULL,
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
		ret = nrio_step_issue(ctx, u, chain, &res);
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
static void nrio_chain_step_done(void *data, u64 user_data, int res)
{
	struct nrio_chain *chain = data;

	nrio_cq_post_full(chain->ctx, user_data, res, false, NULL,
			  NRIO_DATA_IN_PLACE, 0);
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
		nrio_cq_note_in_place(ctx, res);
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
	struct nrio_chains *chains = container_of(work, struct nrio_chains,
						  hop_work);
	struct nrio_ctx *ctx = chains->ctx;
	struct nrio_chain *chain, *next;
	struct nrio_ident_saved saved;
	struct llist_node *list;
	struct blk_plug plug;

	list = llist_reverse_order(llist_del_all(&chains->hops));
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
static void nrio_chain_hop_done(void *data, u64 user_data, int res)
{
	struct nrio_chain *chain = data;
	struct nrio_ctx *ctx = chain->ctx;
	struct nrio_chains *chains = ctx->chains;

	chain->hop.res = res;
	/* The first on the list queues the work; the chain holds ctx. */
	if (llist_add(&chain->hop_node, &chains->hops)) {
		refcount_inc(&ctx->ref);
		if (!queue_work(nrio_wq, &chains->hop_work))
			nrio_ctx_put(ctx);
	}
}

/*
 * Start the chain of @n descriptors at @u; their CQ slots are reserved.
 * A NET descriptor alone is a chain of one: it may have to wait.
 */
void nrio_chain_start(struct nrio_ctx *ctx, const struct nrio_udesc *u, u32 n)
{
	struct nrio_chain *chain;
	u32 i;

	chain = kvmalloc(struct_size(chain, d, n), GFP_KERNEL_ACCOUNT);
	if (!chain) {
		nrio_cq_post(ctx, u[0].user_data, -ENOMEM, false);
		for (i = 1; i < n; i++)
			nrio_cq_post(ctx, u[i].user_data, -ECANCELED, false);
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
		WRITE_ONCE(ctx->nr_chains, ctx->nr_chains + 1);
	nrio_chain_run(chain);
}

/* NET and read-next steps may have to wait: alone, they are a chain. */
bool nrio_step_needs_chain(const struct nrio_udesc *u)
{
	return u->type == UNIFIED_IO_TYPE_NET_SEND ||
	       u->type == UNIFIED_IO_TYPE_NET_RECV ||
	       (u->type == UNIFIED_IO_TYPE_BPF && u->bpf.max_hops);
}

/* Chain state of context @ctx (unified.c's SETUP). */
void nrio_chains_init(struct nrio_chains *chains, struct nrio_ctx *ctx)
{
	chains->ctx = ctx;
	init_llist_head(&chains->hops);
	INIT_WORK(&chains->hop_work, nrio_hop_work);
}
