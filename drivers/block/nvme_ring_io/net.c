// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io: NET_SEND and NET_RECV steps of /dev/unified_io_region.
 *
 * A socket attached to a slot of the context is driven with the socket's
 * own sendmsg and recvmsg over bio_vecs of the region's pages, always
 * with MSG_DONTWAIT: nothing here sleeps on the network.  A step that
 * meets -EAGAIN puts a wait entry on the socket's wait queue, polls the
 * socket once more (a wake-up between the call and the entry would be
 * lost otherwise), and returns; the socket's wake-up queues the chain's
 * work item, which calls nrio_net_resume() in process context.  step->armed
 * says who owns a waiting step, so that exactly one of the arming task,
 * the wake-up and the close goes on with it.  A step
 * therefore ends in nrio_net_issue() or nrio_net_resume(), which drop its
 * socket reference and pages.
 *
 * Close: nrio_release() sets ctx->closing and, through the unified
 * device's ops->release, calls nrio_net_cancel_all(), which takes every
 * armed step off its wait queue and queues its work, so that the step
 * completes with -ECANCELED and the chain lets go of the context.  A
 * step arms only under socks->lock after checking closing, so none can
 * arm after the cancel walked the list.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bvec.h>
#include <linux/file.h>
#include <linux/net.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "net.h"
#include "region.h"

void nrio_net_ctx_init(struct nrio_net_socks *socks)
{
	spin_lock_init(&socks->lock);
	INIT_LIST_HEAD(&socks->waits);
}

/* The context's end: no step runs any more. */
void nrio_net_ctx_free(struct nrio_net_socks *socks)
{
	unsigned int i;

	WARN_ON_ONCE(!list_empty(&socks->waits));
	for (i = 0; i < ARRAY_SIZE(socks->sock); i++)
		if (socks->sock[i])
			fput(socks->sock[i]);
}

/* TCP or UDP over IPv4 or IPv6: the sockets the engine knows. */
static bool nrio_net_sock_ok(const struct socket *sock)
{
	const struct sock *sk = sock->sk;

	if (!sk || (sk->sk_family != AF_INET && sk->sk_family != AF_INET6))
		return false;
	return (sk->sk_type == SOCK_STREAM && sk->sk_protocol == IPPROTO_TCP) ||
	       (sk->sk_type == SOCK_DGRAM && sk->sk_protocol == IPPROTO_UDP);
}

long nrio_net_attach(struct nrio_ctx *ctx, bool attach,
		     const struct unified_io_sock_attach __user *uarg)
{
	struct unified_io_sock_attach a;
	struct file *file = NULL, *old;
	struct nrio_net_socks *socks;
	struct socket *sock;
	u32 slot;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	/* Pairs with the store-release at the end of SETUP. */
	if (!smp_load_acquire(&ctx->region))
		return -EBADFD;
	if (a.slot >= UNIFIED_IO_SOCK_SLOTS || a.flags || a.resv)
		return -EINVAL;
	slot = array_index_nospec(a.slot, UNIFIED_IO_SOCK_SLOTS);
	socks = ctx->net;

	if (attach) {
		file = fget(a.sock_fd);
		if (!file)
			return -EBADF;
		sock = sock_from_file(file);
		if (!sock) {
			fput(file);
			return -ENOTSOCK;
		}
		if (!nrio_net_sock_ok(sock)) {
			fput(file);
			return -EPROTONOSUPPORT;
		}
	} else if (a.sock_fd != -1) {
		return -EINVAL;
	}

	spin_lock(&socks->lock);
	old = socks->sock[slot];
	socks->sock[slot] = file;
	spin_unlock(&socks->lock);
	if (old)
		fput(old);
	else if (!attach)
		return -ENOENT;
	return 0;
}

/*
 * A TCP socket that is listening or not connected: never connected (bound
 * or not), or disconnected again, with no error or end of stream left to
 * report.  That is what tcp_recvmsg() answers ENOTCONN to; tcp_sendmsg()
 * says EPIPE there, as for a closed connection, but a NET step says
 * ENOTCONN both ways.  A connection that ended (reset, closed, refused)
 * has its shutdown bits set, and its error or EPIPE stays the result.
 */
static bool nrio_net_tcp_unconnected(const struct sock *sk)
{
	switch (READ_ONCE(sk->sk_state)) {
	case TCP_LISTEN:
		return true;
	case TCP_CLOSE:
		return !READ_ONCE(sk->sk_err) && !READ_ONCE(sk->sk_shutdown) &&
		       !sock_flag(sk, SOCK_DONE);
	default:
		return false;
	}
}

/* Check the copy, take the socket and describe the data area's pages. */
static int nrio_net_prepare(struct nrio_ctx *ctx, struct nrio_net_step *step)
{
	const struct nrio_net_desc *d = &step->d;
	struct nrio_region *region = ctx->region;
	u32 allowed = d->send ? MSG_MORE : MSG_WAITALL;
	struct nrio_net_socks *socks = ctx->net;
	struct nrio_region_iter it;
	unsigned int i, nr;
	struct socket *sock;
	struct page *page;
	u32 pg_off, len;
	int ret;

	if (!d->data_len || d->data_len > UNIFIED_IO_NET_MAX ||
	    d->sock >= UNIFIED_IO_SOCK_SLOTS || (d->msg_flags & ~allowed))
		return -EINVAL;
	ret = nrio_region_check(region, d->data_off, d->data_len);
	if (ret)
		return ret;

	spin_lock(&socks->lock);
	step->file = socks->sock[array_index_nospec(d->sock,
						  UNIFIED_IO_SOCK_SLOTS)];
	if (step->file)
		get_file(step->file);
	spin_unlock(&socks->lock);
	if (!step->file)
		return -ENOENT;
	sock = sock_from_file(step->file);
	if (sock->sk->sk_type == SOCK_STREAM &&
	    nrio_net_tcp_unconnected(sock->sk)) {
		fput(step->file);
		return -ENOTCONN;
	}

	nrio_region_iter_init(&it, region, d->data_off, d->data_len);
	nr = nrio_region_count(&it, false, UINT_MAX);
	step->bvec = kvmalloc_array(nr, sizeof(*step->bvec),
				    GFP_KERNEL_ACCOUNT);
	if (!step->bvec) {
		fput(step->file);
		return -ENOMEM;
	}
	for (i = 0; nrio_region_next(&it, false, &page, &pg_off, &len); i++)
		bvec_set_page(&step->bvec[i], page, len, pg_off);
	step->nr_bvec = nr;
	step->done = 0;
	step->events = d->send ? EPOLLOUT : EPOLLIN;
	step->active = true;
	return 0;
}

static void nrio_net_release(struct nrio_net_step *step)
{
	kvfree(step->bvec);
	step->bvec = NULL;
	fput(step->file);
	step->file = NULL;
	step->active = false;
}

/*
 * One non-blocking call; returns -EAGAIN when the step must wait, else
 * the step's result (bytes or an errno).
 */
static int nrio_net_try(struct nrio_net_step *step)
{
	const struct nrio_net_desc *d = &step->d;
	struct socket *sock = sock_from_file(step->file);
	bool stream = sock->sk->sk_type == SOCK_STREAM;
	struct msghdr msg = {};
	int ret;

	for (;;) {
		msg.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL |
				(d->msg_flags & MSG_MORE);
		iov_iter_bvec(&msg.msg_iter, d->send ? ITER_SOURCE : ITER_DEST,
			      step->bvec, step->nr_bvec, d->data_len);
		iov_iter_advance(&msg.msg_iter, step->done);
		if (d->send)
			ret = sock_sendmsg(sock, &msg);
		else
			ret = sock_recvmsg(sock, &msg, msg.msg_flags);
		if (ret < 0) {
			if (ret == -EAGAIN)
				return ret;
			/* What moved before the error is the result. */
			return step->done ? step->done : ret;
		}
		if (!d->send && !stream && (msg.msg_flags & MSG_TRUNC))
			return -EMSGSIZE;
		step->done += ret;
		/* A datagram, end of stream, or all of it. */
		if (!stream || !ret || step->done == d->data_len)
			return step->done;
		/* A stream receive ends at its first bytes unless WAITALL. */
		if (!d->send && !(d->msg_flags & MSG_WAITALL))
			return step->done;
	}
}

/* step->armed: who owns a waiting step. */
enum {
	NRIO_NET_IDLE,		/* the engine runs it */
	NRIO_NET_ARMING,	/* on the wait queue, the last poll to come */
	NRIO_NET_ARMED,		/* waiting: a wake-up or close takes it */
	NRIO_NET_WOKEN,		/* woken while arming: the armer goes on */
};

/* A wake-up or close: true when the caller now owns the armed step. */
static bool nrio_net_claim(struct nrio_net_step *step)
{
	int old = atomic_read(&step->armed), new;

	do {
		if (old == NRIO_NET_ARMED)
			new = NRIO_NET_IDLE;
		else if (old == NRIO_NET_ARMING)
			new = NRIO_NET_WOKEN;
		else
			return false;
	} while (!atomic_try_cmpxchg(&step->armed, &old, new));
	return old == NRIO_NET_ARMED;
}

static __poll_t nrio_net_events(const struct nrio_net_step *step)
{
	return step->events | EPOLLERR | EPOLLHUP | EPOLLRDHUP;
}

static int nrio_net_wake(struct wait_queue_entry *wait, unsigned int mode,
			 int sync, void *key)
{
	struct nrio_net_step *step = container_of(wait, struct nrio_net_step,
						  wait);
	__poll_t mask = key_to_poll(key);

	/* No key: a state change; errors and hang-ups end the wait too. */
	if (mask && !(mask & nrio_net_events(step)))
		return 0;
	/* The queue's lock is held: the entry comes off right here. */
	list_del_init(&wait->entry);
	if (nrio_net_claim(step))
		queue_work(nrio_wq, step->work);
	return 1;
}

/*
 * Wait for the socket: 0 when armed (a wake-up or close owns the step
 * from then on, and this caller must not touch it), -EAGAIN when it is
 * ready already, -ECANCELED when the context is closing.
 */
static int nrio_net_arm(struct nrio_ctx *ctx, struct nrio_net_step *step)
{
	struct socket *sock = sock_from_file(step->file);
	struct nrio_net_socks *socks = ctx->net;
	__poll_t mask;

	init_waitqueue_func_entry(&step->wait, nrio_net_wake);
	step->head = sk_sleep(sock->sk);
	spin_lock(&socks->lock);
	if (READ_ONCE(ctx->closing)) {
		spin_unlock(&socks->lock);
		return -ECANCELED;
	}
	atomic_set(&step->armed, NRIO_NET_ARMING);
	list_add_tail(&step->node, &socks->waits);
	add_wait_queue(step->head, &step->wait);
	spin_unlock(&socks->lock);

	/*
	 * A wake-up before the entry was queued would be lost: poll.  Until
	 * ARMING becomes ARMED the step is still ours (a wake-up only marks
	 * it WOKEN), so its file and wait entry stay valid here.
	 */
	mask = vfs_poll(step->file, NULL);
	if (!(mask & nrio_net_events(step)) &&
	    atomic_cmpxchg(&step->armed, NRIO_NET_ARMING,
			   NRIO_NET_ARMED) == NRIO_NET_ARMING)
		return 0;
	atomic_set(&step->armed, NRIO_NET_IDLE);
	remove_wait_queue(step->head, &step->wait);
	spin_lock(&socks->lock);
	list_del(&step->node);
	spin_unlock(&socks->lock);
	return -EAGAIN;
}

/* Run the step until it ends or waits; 1 and *@res, or 0 (waiting). */
static int nrio_net_run(struct nrio_ctx *ctx, struct nrio_net_step *step,
			int *res)
{
	int ret;

	for (;;) {
		ret = nrio_net_try(step);
		if (ret != -EAGAIN)
			break;
		ret = nrio_net_arm(ctx, step);
		if (!ret)
			return 0;
		if (ret != -EAGAIN)
			break;
	}
	nrio_net_release(step);
	*res = ret;
	return 1;
}

/*
 * Start @step (its descriptor copied into step->d): as nrio_step_issue(),
 * 1 with *@res when it ended here, 0 when it waits (the chain's work item
 * resumes it), or the errno its checks failed it with.
 */
int nrio_net_issue(struct nrio_ctx *ctx, struct nrio_net_step *step,
		   int *res)
{
	int ret;

	if (step->d.resv)
		return -EINVAL;
	ret = nrio_net_prepare(ctx, step);
	if (ret)
		return ret;
	return nrio_net_run(ctx, step, res);
}

/* The step's wake-up or the context's close queued the chain's work. */
int nrio_net_resume(struct nrio_ctx *ctx, struct nrio_net_step *step,
		    int *res)
{
	struct nrio_net_socks *socks = ctx->net;

	spin_lock(&socks->lock);
	list_del(&step->node);
	spin_unlock(&socks->lock);
	if (READ_ONCE(ctx->closing)) {
		nrio_net_release(step);
		*res = -ECANCELED;
		return 1;
	}
	return nrio_net_run(ctx, step, res);
}

/* Close: every waiting step goes to its work item, which cancels it. */
void nrio_net_cancel_all(struct nrio_ctx *ctx)
{
	struct nrio_net_socks *socks = ctx->net;
	struct nrio_net_step *step;

	if (!socks)
		return;
	spin_lock(&socks->lock);
	list_for_each_entry(step, &socks->waits, node) {
		/* Woken already, or arming: that one goes on and sees it. */
		if (!nrio_net_claim(step))
			continue;
		remove_wait_queue(step->head, &step->wait);
		queue_work(nrio_wq, step->work);
	}
	spin_unlock(&socks->lock);
}
