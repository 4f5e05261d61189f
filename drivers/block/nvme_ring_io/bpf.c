// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: BPF in place on /dev/unified_io_region.
 *
 * A unified context has UNIFIED_IO_BPF_SLOTS program slots.  A BPF
 * descriptor runs its slot's BPF_PROG_TYPE_SYSCALL program (always
 * sleepable: the verifier says so) with a struct unified_io_bpf_ctx, in
 * process context, as bpf_prog_test_run does: under rcu_read_lock_trace()
 * with migration disabled.  Each run is registered in nrio_bpf_runs for
 * its duration, and its handle (the run's index and a random cookie) is in
 * the program's ctx: the kfuncs accept a handle only from the task that is
 * running that very run, so a program can reach its own descriptor's
 * context and nothing else (not another context, not the rings, nothing
 * past the data area).
 *
 * The kfuncs need the module's BTF.  A module loaded without it (a kernel
 * without CONFIG_DEBUG_INFO_BTF, or a build without the base BTF) would
 * register its kfunc set "successfully" and every program load would fail
 * later; so the module checks at init and, without usable BTF, says so
 * and runs no BPF at all (UNIFIED_IO_FEAT_BPF stays clear, ATTACH fails
 * with EOPNOTSUPP).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/moduleparam.h>
#include <linux/namei.h>
#include <linux/nospec.h>
#include <linux/random.h>
#include <linux/rcupdate_trace.h>
#include <linux/xarray.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "bpf.h"
#include "region.h"

static bool nrio_bpf_ok;

static unsigned int nrio_max_bpf_hops = 32;
module_param_named(max_bpf_hops, nrio_max_bpf_hops, uint, 0644);
MODULE_PARM_DESC(max_bpf_hops,
		 "Most reads one read-next BPF step may ask for (default 32)");

u32 nrio_bpf_max_hops(void)
{
	return READ_ONCE(nrio_max_bpf_hops);
}

/* One program run, registered while it runs. */
struct nrio_bpf_run {
	struct nrio_ctx		*ctx;
	struct task_struct	*task;
	u32			cookie;
	struct rcu_head		rcu;
};

static DEFINE_XARRAY_ALLOC1(nrio_bpf_runs);

/*
 * Contexts with an XDP handle, by its low half.  XDP runs under RCU: a
 * context leaves this array, and an RCU grace period passes, before its
 * region can go (nrio_bpf_ctx_free()).
 *
 * Both halves of a handle are random (the index too, not the next free
 * one): an XDP program can call the kfuncs millions of times a second, so
 * a handle that named its context by a small sequential index and 32
 * random bits would be found by a loop over the cookies.  With 64 random
 * bits, a context's data is reachable only by programs given its handle.
 */
static DEFINE_XARRAY(nrio_xdp_ctxs);
static DEFINE_MUTEX(nrio_xdp_lock);

bool nrio_bpf_available(void)
{
	return nrio_bpf_ok;
}

/*
 * The context a kfunc call may touch: that of the run @handle names, if
 * the caller is that run's program (its task is running it).  The run and
 * its context outlive the call: the run ends only when the program
 * returns.
 */
static struct nrio_ctx *nrio_bpf_ctx(u64 handle)
{
	struct nrio_ctx *ctx = NULL;
	struct nrio_bpf_run *run;

	/*
	 * In interrupt context current is whatever task was interrupted:
	 * possibly the very task running a program of this context, whose
	 * handle an XDP program may have been given.  A run's program runs
	 * in task context only.
	 */
	if (!in_task())
		return NULL;
	rcu_read_lock();
	run = xa_load(&nrio_bpf_runs, (u32)handle);
	if (run && READ_ONCE(run->task) == current &&
	    run->cookie == handle >> 32)
		ctx = run->ctx;
	rcu_read_unlock();
	return ctx;
}

/* Copy between @buf and data offset @off of @ctx's data area. */
static int nrio_bpf_copy(struct nrio_ctx *ctx, u64 off, void *buf, u32 len,
			 bool store)
{
	struct nrio_region *region = ctx->region;
	struct nrio_region_iter it;
	struct page *page;
	u32 pg_off, n;
	int ret;

	ret = nrio_region_check(region, off, len);
	if (ret)
		return ret;
	nrio_region_iter_init(&it, region, off, len);
	while (nrio_region_next(&it, false, &page, &pg_off, &n)) {
		void *va = page_address(page) + pg_off;

		if (store)
			memcpy(va, buf, n);
		else
			memcpy(buf, va, n);
		buf += n;
	}
	return 0;
}

__bpf_kfunc_start_defs();

/* Copy @buf__sz bytes at data offset @off of the running context into @buf. */
__bpf_kfunc int unified_io_load(u64 handle, u64 off, void *buf, u32 buf__sz)
{
	struct nrio_ctx *ctx = nrio_bpf_ctx(handle);

	if (!ctx)
		return -EACCES;
	return nrio_bpf_copy(ctx, off, buf, buf__sz, false);
}

/* Copy @buf__sz bytes of @buf to data offset @off of the running context. */
__bpf_kfunc int unified_io_store(u64 handle, u64 off, void *buf, u32 buf__sz)
{
	struct nrio_ctx *ctx = nrio_bpf_ctx(handle);

	if (!ctx)
		return -EACCES;
	return nrio_bpf_copy(ctx, off, buf, buf__sz, true);
}

/*
 * A read-only pointer to the @rdonly_buf_size bytes at data offset @off of
 * the running context, for the program to load from directly (the
 * verifier bounds its loads by the constant size), or NULL: not the
 * running program's handle, a size of 0, the range not inside the data
 * area, or not inside one folio (so not contiguous in the kernel's
 * mapping; a node that does not cross a 2 MiB boundary is, where the
 * region has huge folios).  One call per node instead of a load per
 * field.  The pages stay pinned for the context's life, which outlasts the
 * run.  The data area is the application's shared memory: the bytes can
 * change while the program reads them, so the program must not trust
 * them beyond its own bounds checks.
 */
__bpf_kfunc u8 *unified_io_node(u64 handle, u64 off, u32 rdonly_buf_size)
{
	struct nrio_ctx *ctx = nrio_bpf_ctx(handle);
	struct nrio_region_iter it;
	struct page *page;
	u32 pg_off, n;

	if (!ctx || !rdonly_buf_size ||
	    nrio_region_check(ctx->region, off, rdonly_buf_size))
		return NULL;
	nrio_region_iter_init(&it, ctx->region, off, rdonly_buf_size);
	if (!nrio_region_next(&it, true, &page, &pg_off, &n) ||
	    n != rdonly_buf_size)
		return NULL;
	/*
	 * The program loads up to rdonly_buf_size bytes from the pointer
	 * with no check of its own: not even speculatively may it point
	 * where the checks above did not pass (another context's region,
	 * past the folio).  array_index_nospec() bounds only the page.
	 */
	barrier_nospec();
	return page_address(page) + pg_off;
}

/* The context XDP handle @handle names; the caller holds rcu_read_lock(). */
static struct nrio_ctx *nrio_xdp_ctx(u64 handle)
{
	struct nrio_ctx *ctx = xa_load(&nrio_xdp_ctxs, (u32)handle);

	if (!ctx || READ_ONCE(ctx->bpf->xdp_cookie) != handle >> 32)
		return NULL;
	return ctx;
}

static int nrio_xdp_copy(u64 handle, u64 off, void *buf, u32 len,
			 bool store)
{
	struct nrio_ctx *ctx;
	int ret = -EACCES;

	rcu_read_lock();
	ctx = nrio_xdp_ctx(handle);
	if (ctx)
		ret = nrio_bpf_copy(ctx, off, buf, len, store);
	rcu_read_unlock();
	return ret;
}

/* XDP: copy @buf__sz bytes at data offset @off of @handle's context. */
__bpf_kfunc int unified_io_xdp_load(u64 handle, u64 off, void *buf,
				    u32 buf__sz)
{
	return nrio_xdp_copy(handle, off, buf, buf__sz, false);
}

/* XDP: copy @buf__sz bytes of @buf to data offset @off of the context. */
__bpf_kfunc int unified_io_xdp_store(u64 handle, u64 off, void *buf,
				     u32 buf__sz)
{
	return nrio_xdp_copy(handle, off, buf, buf__sz, true);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(nrio_kfunc_ids)
BTF_ID_FLAGS(func, unified_io_load)
BTF_ID_FLAGS(func, unified_io_store)
BTF_ID_FLAGS(func, unified_io_node, KF_RET_NULL)
BTF_KFUNCS_END(nrio_kfunc_ids)

static const struct btf_kfunc_id_set nrio_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &nrio_kfunc_ids,
};

/* XDP: the handle kfuncs, and the run ones (EACCES there, as documented). */
BTF_KFUNCS_START(nrio_xdp_kfunc_ids)
BTF_ID_FLAGS(func, unified_io_load)
BTF_ID_FLAGS(func, unified_io_store)
BTF_ID_FLAGS(func, unified_io_xdp_load)
BTF_ID_FLAGS(func, unified_io_xdp_store)
BTF_KFUNCS_END(nrio_xdp_kfunc_ids)

static const struct btf_kfunc_id_set nrio_xdp_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &nrio_xdp_kfunc_ids,
};

/*
 * Is the module's BTF there, and did the kernel accept it?  The kernel
 * publishes /sys/kernel/btf/<module> only after validating the module's
 * BTF against its own, before the module's init runs.
 */
static const char *nrio_btf_problem(void)
{
	struct path path;

	if (!nrio_module_btf_size())
		return "the module has no BTF (kernel without module BTF, or built without the kernel's base BTF)";
	if (kern_path("/sys/kernel/btf/vmlinux", LOOKUP_FOLLOW, &path))
		return NULL;	/* no sysfs to ask: trust the loader */
	path_put(&path);
	if (kern_path("/sys/kernel/btf/" KBUILD_MODNAME, LOOKUP_FOLLOW, &path))
		return "the kernel refused the module's BTF (built against another kernel's base BTF?)";
	path_put(&path);
	return NULL;
}

void nrio_bpf_init(void)
{
	const char *problem = nrio_btf_problem();
	int ret;

	if (problem) {
		pr_warn("BPF descriptors disabled: %s\n", problem);
		return;
	}
	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_SYSCALL, &nrio_kfunc_set);
	if (!ret)
		ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP,
						&nrio_xdp_kfunc_set);
	if (ret) {
		pr_warn("BPF descriptors disabled: kfunc registration failed (%d)\n",
			ret);
		return;
	}
	nrio_bpf_ok = true;
}

void nrio_bpf_ctx_init(struct nrio_bpf_slots *bs)
{
	spin_lock_init(&bs->lock);
}

void nrio_bpf_ctx_free(struct nrio_bpf_slots *bs)
{
	unsigned int i;

	if (bs->xdp_id) {
		xa_erase(&nrio_xdp_ctxs, bs->xdp_id);
		/* No XDP program is still copying from the region. */
		synchronize_rcu();
	}

	for (i = 0; i < UNIFIED_IO_BPF_SLOTS; i++)
		if (bs->prog[i])
			bpf_prog_put(bs->prog[i]);
}

long nrio_bpf_xdp_handle(struct nrio_ctx *ctx,
			 struct unified_io_xdp_handle __user *uarg)
{
	struct unified_io_xdp_handle h;
	struct nrio_bpf_slots *bs;
	int ret = 0;
	u32 id;

	if (copy_from_user(&h, uarg, sizeof(h)))
		return -EFAULT;
	if (!bpf_capable())
		return -EPERM;
	if (!nrio_bpf_ok)
		return -EOPNOTSUPP;
	if (h.flags || h.resv)
		return -EINVAL;
	if (!smp_load_acquire(&ctx->region))
		return -EBADFD;
	bs = ctx->bpf;

	mutex_lock(&nrio_xdp_lock);
	while (!bs->xdp_id) {
		id = get_random_u32();
		if (!id)
			continue;
		WRITE_ONCE(bs->xdp_cookie, get_random_u32());
		/* A random index may need a few nodes: the caller's. */
		ret = xa_insert(&nrio_xdp_ctxs, id, ctx, GFP_KERNEL_ACCOUNT);
		if (!ret)
			bs->xdp_id = id;
		else if (ret != -EBUSY)
			break;
	}
	h.handle = (u64)bs->xdp_cookie << 32 | bs->xdp_id;
	mutex_unlock(&nrio_xdp_lock);
	if (ret)
		return ret;
	return copy_to_user(uarg, &h, sizeof(h)) ? -EFAULT : 0;
}

long nrio_bpf_attach(struct nrio_ctx *ctx, bool attach,
		     const struct unified_io_bpf_attach __user *uarg)
{
	struct unified_io_bpf_attach a;
	struct bpf_prog *prog = NULL, *old;
	struct nrio_bpf_slots *bs;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (!bpf_capable())
		return -EPERM;
	if (!nrio_bpf_ok)
		return -EOPNOTSUPP;
	if (a.flags || a.resv || a.slot >= UNIFIED_IO_BPF_SLOTS)
		return -EINVAL;
	if (!attach && a.prog_fd != -1)
		return -EINVAL;
	if (!smp_load_acquire(&ctx->region))
		return -EBADFD;
	bs = ctx->bpf;
	a.slot = array_index_nospec(a.slot, UNIFIED_IO_BPF_SLOTS);

	if (attach) {
		prog = bpf_prog_get_type_dev(a.prog_fd, BPF_PROG_TYPE_SYSCALL,
					     false);
		if (IS_ERR(prog))
			return PTR_ERR(prog);
		/*
		 * The verifier lets a SYSCALL program access any ctx offset
		 * and leaves the size check to whoever runs it, as
		 * bpf_prog_test_run_syscall() does.
		 */
		if (prog->aux->max_ctx_offset >
		    sizeof(struct unified_io_bpf_ctx)) {
			bpf_prog_put(prog);
			return -EINVAL;
		}
	}
	spin_lock(&bs->lock);
	old = bs->prog[a.slot];
	bs->prog[a.slot] = prog;
	spin_unlock(&bs->lock);
	if (old)
		bpf_prog_put(old);
	return !attach && !old ? -ENOENT : 0;
}

/*
 * Run BPF descriptor @u: 0 or more is its res, as is a negative program
 * result; the descriptor's own errors (bad slot, range) come back through
 * @invalid.  @hop, for a run of a read-next step, gives the range and
 * scratch the program sees and takes back the scratch and the read it
 * asks for; the step's first run registers the run for all of them and
 * takes a reference on the slot's program, which every later run of the
 * step runs whatever ATTACH and DETACH do to the slot meanwhile (a
 * descriptor already running keeps its program until it returns);
 * nrio_bpf_hop_end() ends both.  Each run sets the task it runs in.
 * Process context.
 */
int nrio_bpf_run(struct nrio_ctx *ctx, const struct nrio_bpf_desc *b,
		 bool *invalid, struct nrio_bpf_hop *hop)
{
	struct nrio_region *region = ctx->region;
	struct nrio_bpf_slots *bs = ctx->bpf;
	struct unified_io_bpf_ctx bctx;
	struct nrio_bpf_run *run;
	struct bpf_prog *prog;
	u32 slot, id, ret;
	int err;

	*invalid = true;
	if (b->resv)
		return -EINVAL;
	if (b->slot >= UNIFIED_IO_BPF_SLOTS)
		return -EINVAL;
	err = nrio_region_check(region, b->data_off, b->data_len);
	if (err)
		return err;
	slot = array_index_nospec(b->slot, UNIFIED_IO_BPF_SLOTS);

	if (hop && hop->run) {
		/*
		 * A read-next step's later run: its registration and its
		 * program stay, held since the step's first run.
		 */
		prog = hop->prog;
		run = hop->run;
		id = hop->run_id;
		WRITE_ONCE(run->task, current);
	} else {
		spin_lock(&bs->lock);
		prog = bs->prog[slot];
		if (prog)
			bpf_prog_inc(prog);
		spin_unlock(&bs->lock);
		if (!prog)
			return -ENOENT;

		run = kmalloc(sizeof(*run), GFP_KERNEL);
		if (!run) {
			bpf_prog_put(prog);
			return -ENOMEM;
		}
		run->ctx = ctx;
		run->task = current;
		run->cookie = get_random_u32();
		err = xa_alloc(&nrio_bpf_runs, &id, run, xa_limit_32b,
			       GFP_KERNEL);
		if (err) {
			kfree(run);
			bpf_prog_put(prog);
			return err;
		}
	}

	bctx = (struct unified_io_bpf_ctx) {
		.handle		= (u64)run->cookie << 32 | id,
		.data_off	= b->data_off,
		.data_len	= b->data_len,
		.slot		= slot,
		.arg		= b->arg,
		.user_data	= b->user_data,
		.data_size	= region->off.data_size,
	};
	if (hop) {
		bctx.data_off = hop->off;
		bctx.data_len = hop->len;
		bctx.hops = hop->hops;
		bctx.max_hops = b->max_hops;
		memcpy(bctx.scratch, hop->scratch, sizeof(bctx.scratch));
	}
	*invalid = false;
	/* As bpf_prog_test_run_syscall(): SYSCALL programs are sleepable. */
	rcu_read_lock_trace();
	migrate_disable();
	ret = bpf_prog_run(prog, &bctx);
	migrate_enable();
	rcu_read_unlock_trace();

	if (hop) {
		memcpy(hop->scratch, bctx.scratch, sizeof(hop->scratch));
		hop->next_slba = bctx.next_slba;
		hop->next_nlb = bctx.next_nlb;
		hop->next_resv = bctx.next_resv;
		hop->next_off = bctx.next_data_off;
		/* Between runs the handle works for no task. */
		WRITE_ONCE(run->task, NULL);
		/* Kept until the step ends (nrio_bpf_hop_end()). */
		hop->run = run;
		hop->run_id = id;
		hop->prog = prog;
	} else {
		xa_erase(&nrio_bpf_runs, id);
		kfree_rcu(run, rcu);
		bpf_prog_put(prog);
	}
	return (int)ret;
}

/*
 * A read-next step ended, however (its result, a failed read, a closing
 * context, a chain freed): its run's registration and its program go.
 * Process context; the step's reference may be the program's last.
 */
void nrio_bpf_hop_end(struct nrio_bpf_hop *hop)
{
	if (!hop->run)
		return;
	xa_erase(&nrio_bpf_runs, hop->run_id);
	kfree_rcu(hop->run, rcu);
	hop->run = NULL;
	bpf_prog_put(hop->prog);
	hop->prog = NULL;
}

/*
 * UNIFIED_IO_URING_BPF: run a BPF step for an io_uring engine.  Success
 * must complete with res 0 (the program's value goes in the big CQE), as
 * 6.1 fails the links of a command whose inline result is positive; so
 * every outcome is posted with io_uring_cmd_done() here, in the issuing
 * task, and the command reports -EIOCBQUEUED to io_uring.
 */
int nrio_bpf_uring(struct nrio_ctx *ctx, struct io_uring_cmd *cmd,
		   unsigned int issue_flags)
{
	const struct unified_io_uring_bpf *u = nrio_uring_payload(cmd);
	struct nrio_bpf_desc b = { };
	bool invalid = true;
	unsigned int i;
	int ret;

	/*
	 * Issued inline or by the SQPOLL thread: the program is sleepable
	 * and its run is allocated with GFP_KERNEL, so have io_uring issue
	 * the command again from io-wq, where it may sleep (the caller
	 * keeps the SQE for that second issue).
	 */
	if (issue_flags & IO_URING_F_NONBLOCK)
		return -EAGAIN;
	if (!(issue_flags & IO_URING_F_SQE128) ||
	    !(issue_flags & IO_URING_F_CQE32)) {
		ret = -EINVAL;
		goto done;
	}
	/* The command sits in the shared SQ ring: read it once. */
	b.slot = READ_ONCE(u->slot);
	b.data_len = READ_ONCE(u->data_len);
	b.data_off = READ_ONCE(u->data_off);
	b.arg = READ_ONCE(u->arg);
	b.user_data = READ_ONCE(u->user_data);
	b.resv = READ_ONCE(u->flags) || READ_ONCE(u->resv1);
	for (i = 0; i < ARRAY_SIZE(u->resv2); i++)
		b.resv |= READ_ONCE(u->resv2[i]) != 0;
	if (!nrio_bpf_ok)
		ret = -EOPNOTSUPP;
	else
		ret = nrio_bpf_run(ctx, &b, &invalid, NULL);
done:
	if (ret >= 0)
		io_uring_cmd_done(cmd, 0, ret, issue_flags);
	else
		io_uring_cmd_done(cmd, ret,
				  invalid ? UNIFIED_IO_URING_F_REFUSED : 0,
				  issue_flags);
	return -EIOCBQUEUED;
}
