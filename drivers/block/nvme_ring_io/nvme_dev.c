// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: /dev/nvme_ring_io, a context's rings of NVMe descriptors.
 *
 * The device's part of a context: its SETUP and INFO, its 80-byte SQ
 * descriptors (read once, field by field, into struct nrio_desc) and
 * SUBMIT's consumer, which issues each to the NVMe engine (io.c) as it
 * reads it.  Everything else is the code both devices share (file.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "direct.h"
#include "io.h"
#include "nvme_dev.h"
#include "ring.h"
#include "setup.h"

/* Read one descriptor once, field by field, into @d. */
static void nrio_read_sqe(struct nrio_desc *d,
			  const struct nvme_ring_io_sqe *sqe)
{
	nrio_read_nvme_cmd(d, sqe);
	d->flags = READ_ONCE(sqe->flags);
	d->resv1 = READ_ONCE(sqe->resv1);
	d->resv2 = READ_ONCE(sqe->resv2);
	d->data_off = READ_ONCE(sqe->data_off);
	d->data_len = READ_ONCE(sqe->data_len);
	d->user_data = READ_ONCE(sqe->user_data);
	d->end_io = NULL;
	d->end_data = NULL;
}

/*
 * SUBMIT's consumer (struct nrio_dev_ops): up to @budget descriptors from
 * @head, each issued as it is read, as many as the CQ has slots for.
 */
static u32 nrio_nvme_consume(struct nrio_ctx *ctx, u32 head, u32 avail,
			     u32 budget, bool nowait, bool *again)
{
	struct blk_plug plug;
	u32 n, i;

	n = nrio_cq_reserve(ctx, budget, false);
	if (n < budget)
		nrio_cq_note_full(ctx);

	blk_start_plug(&plug);
	for (i = 0; i < n; i++) {
		struct nrio_desc d;
		int ret;

		/* A batch of large discards can take a while: let kill in. */
		if (fatal_signal_pending(current))
			break;
		nrio_read_sqe(&d, nrio_sq_slot(ctx, head + i,
					       sizeof(struct nvme_ring_io_sqe)));
		d.nowait = nowait;
		ret = nrio_issue(ctx, &d);
		if (unlikely(ret == -EAGAIN && nowait)) {
			*again = true;
			break;
		}
		if (ret)
			nrio_cq_post(ctx, d.user_data, ret, true);
	}
	blk_finish_plug(&plug);
	if (i < n)
		nrio_cq_cancel(ctx, n - i);

	return i;
}

/*
 * The nvme_ring_io descriptors SUBMIT would consume: any that cannot start
 * without waiting?  (Read once more when consumed; see nrio_submit().)
 */
static bool nrio_nvme_nowait_ok(struct nrio_ctx *ctx, u32 head, u32 avail,
				u32 budget)
{
	const struct nvme_ring_io_sqe *sqe;
	u32 i;

	for (i = 0; i < budget; i++) {
		sqe = nrio_sq_slot(ctx, head + i, sizeof(*sqe));
		if (!nrio_nowait_opcode(READ_ONCE(sqe->opcode)))
			return false;
	}
	return true;
}

static long nrio_nvme_setup(struct nrio_ctx *ctx, void __user *arg)
{
	struct nvme_ring_io_setup __user *uarg = arg;
	struct nvme_ring_io_setup s;
	struct nrio_setup_req req;
	long ret;

	ret = nrio_copy_setup(&s, sizeof(s), uarg);
	if (ret)
		return ret;
	if (s.flags & ~(NVME_RING_IO_SETUP_F_IOPOLL |
			NVME_RING_IO_SETUP_F_DIRECT))
		return -EINVAL;
	if (memchr_inv(s.resv, 0, sizeof(s.resv)))
		return -EINVAL;

	req = (struct nrio_setup_req) {
		.iopoll		= s.flags & NVME_RING_IO_SETUP_F_IOPOLL,
		.direct		= s.flags & NVME_RING_IO_SETUP_F_DIRECT,
		.sq_entries	= s.sq_entries,
		.cq_entries	= s.cq_entries,
		.sqe_size	= sizeof(struct nvme_ring_io_sqe),
		.data_size	= s.data_size,
		.nvme_fd	= s.nvme_fd,
		.numa_node	= s.numa_node,
	};
	return nrio_ctx_setup(ctx, &req, &uarg->off);
}

static long nrio_nvme_info(struct nrio_ctx *ctx, void __user *uarg)
{
	struct nvme_ring_io_info info = {};
	struct nrio_region *region = nrio_ctx_region(ctx);
	u32 usize;
	int ret;

	ret = nrio_info_size(uarg, sizeof(info), &usize);
	if (ret)
		return ret;
	info.size = usize;
	info.abi_version = NVME_RING_IO_ABI_VERSION;
	if (region) {
		struct nrio_info c;

		nrio_info_common(ctx, &c);
		nrio_info_fill(&info, &c);
		if (ctx->ns.init_rq)
			info.flags |= NVME_RING_IO_INFO_F_DIRECT;
	}
	if (copy_to_user(uarg, &info, usize))
		return -EFAULT;
	return 0;
}

static void nrio_nvme_free(struct nrio_ctx *ctx)
{
	nrio_dio_free(ctx);
}

const struct nrio_dev_ops nrio_nvme_ops = {
	.name		= NVME_RING_IO_DEVNAME,
	.setup_cmd	= NVME_RING_IO_SETUP,
	.info_cmd	= NVME_RING_IO_INFO,
	.submit_cmd	= NVME_RING_IO_SUBMIT,
	.complete_cmd	= NVME_RING_IO_COMPLETE,
	.setup		= nrio_nvme_setup,
	.info		= nrio_nvme_info,
	.consume	= nrio_nvme_consume,
	.nowait_ok	= nrio_nvme_nowait_ok,
	.free		= nrio_nvme_free,
};
