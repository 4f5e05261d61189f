/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: socket steps on the region (net.c).
 */
#ifndef _NRIO_NET_H
#define _NRIO_NET_H

#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "ctx.h"

/* The kernel's copy of a NET_SEND or NET_RECV descriptor. */
struct nrio_net_desc {
	u64	data_off;
	u32	data_len;
	u32	sock;
	u32	msg_flags;
	bool	send;
	bool	resv;		/* a reserved field was set */
};

/* A context's sockets (net.c). */
struct nrio_net_socks {
	spinlock_t		lock;		/* sock[], waits */
	struct file		*sock[UNIFIED_IO_SOCK_SLOTS];
	struct list_head	waits;		/* steps waiting on a socket */
};

/*
 * A NET step of a chain, from its start to its CQ entry.  While it waits
 * for its socket, wait is on the socket's wait queue and node on
 * ctx->net->waits; armed says who owns it (net.c), and whoever claims it
 * (the wake-up or the context's close) queues work.
 */
struct nrio_net_step {
	struct nrio_net_desc	d;
	struct file		*file;		/* the socket, held */
	struct bio_vec		*bvec;		/* the data area's pages */
	unsigned int		nr_bvec;
	u32			done;		/* bytes moved so far */
	__poll_t		events;		/* EPOLLIN or EPOLLOUT */
	bool			active;		/* started, no CQ entry yet */
	atomic_t		armed;
	wait_queue_head_t	*head;
	struct wait_queue_entry	wait;
	struct list_head	node;
	struct work_struct	*work;		/* the chain's */
};

void nrio_net_ctx_init(struct nrio_net_socks *socks);
void nrio_net_ctx_free(struct nrio_net_socks *socks);
long nrio_net_attach(struct nrio_ctx *ctx, bool attach,
		     const struct unified_io_sock_attach __user *uarg);
int nrio_net_issue(struct nrio_ctx *ctx, struct nrio_net_step *step,
		   int *res);
int nrio_net_resume(struct nrio_ctx *ctx, struct nrio_net_step *step,
		    int *res);
void nrio_net_cancel_all(struct nrio_ctx *ctx);

#endif /* _NRIO_NET_H */
