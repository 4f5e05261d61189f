// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: SUBMIT and COMPLETE as io_uring commands.
 *
 * NVME_RING_IO_URING_SUBMIT runs the same SQ consumer as the SUBMIT ioctl
 * and completes at once; NVME_RING_IO_URING_WAIT waits as wait.c says.
 *
 * A device's own commands go to its operations (UNIFIED_IO_URING_BPF).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "compat.h"
#include "ctx.h"
#include "submit.h"
#include "uring.h"
#include "wait.h"

/*
 * What ->uring_cmd() returns for a command that ends now with @res: 6.1
 * must not see a positive value (compat.h), so it gets the result through
 * io_uring_cmd_done() and -EIOCBQUEUED.
 */
static int nrio_uring_ret(struct io_uring_cmd *cmd, int res,
			  unsigned int issue_flags)
{
	if (res <= 0 || NRIO_URING_RET_POSITIVE)
		return res;
	io_uring_cmd_done(cmd, res, 0, issue_flags);
	return -EIOCBQUEUED;
}

static int __nrio_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct nrio_ctx *ctx = cmd->file->private_data;
	const struct nvme_ring_io_uring_cmd *u;
	u32 count, flags;
	u64 resv;
	int ret;

	if (nrio_uring_is_cancel(issue_flags)) {
		nrio_cq_cancel_uring(ctx, cmd, issue_flags);
		return 0;
	}

	/* An unknown command is that, whatever its payload holds. */
	if (cmd->cmd_op != NVME_RING_IO_URING_SUBMIT &&
	    cmd->cmd_op != NVME_RING_IO_URING_WAIT) {
		if (!ctx->ops->uring_cmd)
			return -EOPNOTSUPP;
		return ctx->ops->uring_cmd(ctx, cmd, issue_flags);
	}

	/* The command may sit in the shared SQ ring: read it once. */
	u = nrio_uring_payload(cmd);
	count = READ_ONCE(u->count);
	flags = READ_ONCE(u->flags);
	resv = READ_ONCE(u->resv);
	if (flags || resv)
		return -EINVAL;
	if (!smp_load_acquire(&ctx->region))
		return -EBADFD;

	switch (cmd->cmd_op) {
	case NVME_RING_IO_URING_SUBMIT:
		/*
		 * Inline (and SQPOLL) issue must not wait: nrio_submit()
		 * says -EAGAIN, having consumed nothing, where it would, and
		 * io_uring issues the command again from io-wq.
		 */
		ret = nrio_submit(ctx, count, issue_flags & IO_URING_F_NONBLOCK);
		/* A CQE cannot restart: report the interrupted lock so. */
		if (ret == -ERESTARTSYS)
			ret = -EINTR;
		return nrio_uring_ret(cmd, ret, issue_flags);
	case NVME_RING_IO_URING_WAIT:
		/* Nothing would poll the device for it. */
		if (ctx->polled)
			return -EOPNOTSUPP;
		ret = nrio_cq_wait_uring(ctx, cmd, count, issue_flags);
		return ret >= 0 ? nrio_uring_ret(cmd, ret, issue_flags) : ret;
	default:
		return -EOPNOTSUPP;	/* not reached */
	}
}

int nrio_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	int ret = __nrio_uring_cmd(cmd, issue_flags);

	/* io-wq issues it again, maybe after its SQ slot was reused. */
	if (ret == -EAGAIN)
		nrio_uring_keep_sqe(cmd);
	return ret;
}
