/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: SUBMIT and COMPLETE waits cut short, and their restarts
 * (resume.c says why).
 */
#ifndef _NRIO_RESUME_H
#define _NRIO_RESUME_H

#include "ctx.h"

struct nrio_resume {
	struct list_head	node;
	struct task_struct	*task;		/* a reference */
	unsigned int		cmd;
	const void __user	*uarg;
	union {
		struct nvme_ring_io_submit	submit;
		struct nvme_ring_io_complete	complete;
	} arg;					/* as the call passed it */
	ktime_t			deadline;
	ktime_t			armed;		/* when, for COMPLETE's TTL */
	int			consumed;	/* by SUBMIT */
};

/*
 * A restart comes at once, after the task work; a record older than this
 * lost its restart (a handler that longjmp()ed, a tracer, seccomp), and a
 * COMPLETE that finds it starts afresh instead of inheriting its deadline.
 */
#define NRIO_RESUME_TTL_NS	NSEC_PER_SEC

struct nrio_resume *nrio_resume_take(struct nrio_ctx *ctx, unsigned int cmd,
				     const void __user *uarg, const void *arg,
				     size_t size);
void nrio_resume_free(struct nrio_resume *r);
void nrio_resume_free_all(struct nrio_ctx *ctx);
long nrio_wait_interrupted(struct nrio_ctx *ctx, unsigned int cmd,
			   const void __user *uarg, const void *arg, size_t size,
			   ktime_t deadline, int consumed);

#endif /* _NRIO_RESUME_H */
