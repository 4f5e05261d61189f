// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * libnvme_ring_io: /dev/unified_io_region handles and their engines.
 *
 * The handle owns the unified context's fd, the namespace fd it was given
 * and the mapped region.  Descriptors are written straight into the SQ
 * ring (nrio_unified_get_sqe()) and published by nrio_unified_submit().  With the
 * kernel engine, SUBMIT hands them to the module and the CQ ring is
 * reaped, waiting with UNIFIED_IO_COMPLETE only when it is empty.
 *
 * The passthrough engine is the SQ ring's consumer and the CQ ring's
 * producer itself, with the kernel engine's rules: whole chains only,
 * each descriptor copied once out of the shared ring and checked from
 * the copy, CQ slots reserved for the whole chain before it is consumed,
 * one CQ entry per descriptor in chain order.  A chain becomes io_uring
 * SQEs linked with IOSQE_IO_LINK, up to its first descriptor that fails
 * a check; that one is a "refused" step, posted with its errno once the
 * steps before it succeeded.  Steps and chains live in tables sized to the
 * CQ ring (a step per promised CQ slot), the io_uring user_data is the
 * step's index, and nothing is allocated per I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libnvme.h>

#include "nrio_internal.h"
#include "nvme_ring_io.h"
#include "nrio_ring.h"

#define NRIO_NONE	UINT32_MAX

enum nrio_step_state {
	NRIO_STEP_QUEUED,	/* in io_uring */
	NRIO_STEP_DONE,		/* res/status/result final */
	NRIO_STEP_REFUSED,	/* res is its errno, unless the chain failed */
	NRIO_STEP_HELD,		/* after a NET step: queued when it is whole */
};

/* What the passthrough engine knows of an attached socket. */
enum nrio_sock_kind {
	NRIO_SOCK_NONE,
	NRIO_SOCK_TCP,
	NRIO_SOCK_UDP,
};

struct nrio_step {
	uint64_t	user_data;
	uint64_t	result;
	int32_t		res;
	uint16_t	status;
	uint8_t		state;		/* enum nrio_step_state */
	uint8_t		type;		/* UNIFIED_IO_TYPE_* */
	bool		notif;		/* SEND_ZC: its notification to come */
	bool		udp;		/* NET_RECV on UDP: MSG_TRUNC given */
	uint32_t	len;
	uint32_t	next;		/* the chain's next step; free list */
	uint32_t	chain;
};

struct nrio_pchain {
	uint32_t	cur;		/* the next step to post */
	uint32_t	next_free;
	bool		failed;		/* a step posted res < 0 */
};

struct nrio_unified {
	int			fd;
	int			nvme_fd;
	struct unified_io_setup	s;
	void			*region;
	struct nrio_ring	sq;
	struct nrio_ring	cq;
	uint32_t		lba_size;
	uint32_t		pending;	/* got, not yet submitted */
	uint32_t		engine;

	/* The passthrough engine. */
	int			ng_fd;		/* /dev/ngXnY, -1 without */
	bool			can_write;
	bool			ring_ready;
	unsigned char		*data;
	uint64_t		data_size;
	uint64_t		nr_lbas;
	uint64_t		max_transfer;
	uint64_t		buf_size;	/* bytes per fixed buffer */
	struct nrio_bufmap	bufs;
	uint32_t		nsid;
	uint32_t		dma_align;
	struct io_uring		ring;
	struct nrio_ring	esq;		/* engine: consumer */
	struct nrio_ring	ecq;		/* engine: producer */
	struct unified_io_sqe	*scratch;	/* a chain's copies */
	struct unified_io_sqe	*held;		/* per step: a held one's copy */
	int			sock_fd[UNIFIED_IO_SOCK_SLOTS];	/* dups */
	uint8_t			sock_kind[UNIFIED_IO_SOCK_SLOTS];
	struct nrio_step	*steps;
	struct nrio_pchain	*chains;
	uint32_t		nr_steps;
	uint32_t		free_step;
	uint32_t		free_chain;
	uint64_t		consumed;	/* descriptors taken from the SQ */
	uint64_t		posted;		/* CQ entries posted */
	uint64_t		issued;		/* SQEs given to io_uring */
	uint64_t		completed;	/* their CQEs seen */
};

/* --- the passthrough engine ---------------------------------------------- */

static int nrio_unified_pt_setup(struct nrio_unified *u, const char *path, int oflags,
			     const struct unified_io_info *info)
{
	uint32_t entries = u->s.off.cq.entries, i, nsid = 0;
	char generic[64];
	int ret;

	u->data = (unsigned char *)u->region + u->s.off.data;
	u->data_size = info->data_size;
	u->nsid = info->nsid;
	u->nr_lbas = info->nr_lbas;
	u->max_transfer = info->max_transfer;
	u->dma_align = info->dma_alignment ? info->dma_alignment : 1;
	u->can_write = (oflags & O_ACCMODE) != O_RDONLY;

	u->scratch = calloc(u->s.off.sq.entries, sizeof(*u->scratch));
	u->steps = calloc(entries, sizeof(*u->steps));
	u->chains = calloc(entries, sizeof(*u->chains));
	u->held = calloc(entries, sizeof(*u->held));
	if (!u->scratch || !u->steps || !u->chains || !u->held)
		return -ENOMEM;
	u->nr_steps = entries;
	for (i = 0; i < entries; i++) {
		u->steps[i].next = i + 1 < entries ? i + 1 : NRIO_NONE;
		u->chains[i].next_free = i + 1 < entries ? i + 1 : NRIO_NONE;
	}
	u->free_step = u->free_chain = 0;
	nrio_ring_init(&u->esq, u->region, &u->s.off.sq);
	nrio_ring_init(&u->ecq, u->region, &u->s.off.cq);

	/* An SQ entry per step that can be in flight: a chain always fits. */
	ret = io_uring_queue_init(entries, &u->ring,
				  IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	if (ret)
		return ret;
	u->ring_ready = true;
	if (!path)
		return 0;	/* BPF steps only */

	nrio_generic_of(path, generic, sizeof(generic));
	if (!generic[0])
		return -ENODEV;
	u->ng_fd = open(generic, (oflags & O_ACCMODE) | O_CLOEXEC);
	if (u->ng_fd < 0)
		return -errno;
	/* The generic node must be the namespace the context bound. */
	if (nvme_get_nsid(u->ng_fd, &nsid) || nsid != u->nsid)
		return -ENODEV;
	u->buf_size = nrio_fixed_buf_size(info->max_segments);
	u->bufs.chunk = u->buf_size;
	ret = nrio_register_data(&u->ring, u->data, u->data_size, &u->bufs);
	return ret < 0 ? ret : 0;
}

/* NVMe opcodes that change the medium (the direction bit, or WZ). */
static bool nrio_nvme_writes(uint8_t opcode)
{
	return (opcode & 1) || opcode == NVME_RING_IO_OP_WRITE_ZEROES;
}

/* An NVMe step's checks, as the kernel engine makes them; 0 or -errno. */
static int nrio_unified_pt_check_nvme(const struct nrio_unified *u,
				  const struct unified_io_sqe *d)
{
	const struct unified_io_nvme *c = &d->cmd.nvme;
	bool rw = c->opcode == NVME_RING_IO_OP_READ ||
		  c->opcode == NVME_RING_IO_OP_WRITE;
	uint64_t slba = c->cdw10 | (uint64_t)c->cdw11 << 32;
	uint64_t nlb = (c->cdw12 & NVME_RING_IO_RW_NLB_MASK) + 1;

	if (u->ng_fd < 0)
		return -ENXIO;
	if (c->resv1[0] || c->resv1[1] || c->resv1[2] || c->resv2)
		return -EINVAL;
	if (c->nsid && c->nsid != u->nsid)
		return -EINVAL;
	if (nrio_nvme_writes(c->opcode) && !u->can_write)
		return -EBADF;
	if (rw && d->data_len != nlb * u->lba_size)
		return -EINVAL;
	if (d->data_len && d->data_off % u->dma_align)
		return -EINVAL;
	if (!nrio_range_ok(u->data_size, d->data_off, d->data_len) ||
	    (c->metadata_len &&
	     !nrio_range_ok(u->data_size, c->metadata_off, c->metadata_len)))
		return -EFAULT;
	if (rw && (slba >= u->nr_lbas || nlb > u->nr_lbas - slba))
		return -ERANGE;
	if (d->data_len > u->max_transfer)
		return -EINVAL;
	return 0;
}

static bool nrio_is_net(uint8_t type)
{
	return type == UNIFIED_IO_TYPE_NET_SEND ||
	       type == UNIFIED_IO_TYPE_NET_RECV;
}

/* A NET step's checks, as the kernel engine makes them; 0 or -errno. */
static int nrio_unified_pt_check_net(const struct nrio_unified *u,
				 const struct unified_io_sqe *d)
{
	const struct unified_io_net *c = &d->cmd.net;
	uint32_t allowed = d->type == UNIFIED_IO_TYPE_NET_SEND ? MSG_MORE :
								 MSG_WAITALL;
	int listening = 0;
	socklen_t len = sizeof(listening);
	unsigned int i;

	for (i = 0; i < sizeof(c->resv) / sizeof(c->resv[0]); i++)
		if (c->resv[i])
			return -EINVAL;
	if (!d->data_len || d->data_len > UNIFIED_IO_NET_MAX ||
	    c->sock >= UNIFIED_IO_SOCK_SLOTS || (c->msg_flags & ~allowed))
		return -EINVAL;
	if (!nrio_range_ok(u->data_size, d->data_off, d->data_len))
		return -EFAULT;
	if (u->sock_fd[c->sock] < 0)
		return -ENOENT;
	if (u->sock_kind[c->sock] == NRIO_SOCK_TCP &&
	    !getsockopt(u->sock_fd[c->sock], SOL_SOCKET, SO_ACCEPTCONN,
			&listening, &len) && listening)
		return -ENOTCONN;
	return 0;
}

/*
 * A NET step as io_uring SQE: SEND_ZC (on the fixed buffer holding the
 * range, when one does) with MSG_WAITALL on TCP, so that io_uring sends
 * the whole range as the kernel engine does; RECV into the region, with
 * MSG_TRUNC on UDP so that a longer datagram shows as one.
 */
static void nrio_unified_pt_prep_net(struct nrio_unified *u, struct io_uring_sqe *sqe,
				 const struct unified_io_sqe *d, uint32_t step)
{
	const struct unified_io_net *c = &d->cmd.net;
	int fd = u->sock_fd[c->sock];
	bool tcp = u->sock_kind[c->sock] == NRIO_SOCK_TCP;
	unsigned char *buf = u->data + d->data_off;

	if (d->type == UNIFIED_IO_TYPE_NET_SEND) {
		int flags = (int)c->msg_flags | (tcp ? MSG_WAITALL : 0);
		uint64_t in = u->buf_size ? d->data_off % u->buf_size : 0;

		if (u->buf_size && in + d->data_len <= u->buf_size)
			io_uring_prep_send_zc_fixed(sqe, fd, buf, d->data_len,
						    flags, 0,
						    d->data_off / u->buf_size);
		else
			io_uring_prep_send_zc(sqe, fd, buf, d->data_len, flags,
					      0);
	} else {
		io_uring_prep_recv(sqe, fd, buf, d->data_len,
				   (int)c->msg_flags | (tcp ? 0 : MSG_TRUNC));
		u->steps[step].udp = !tcp;
	}
	sqe->user_data = step;
}

/* A step's checks from its copy @d; 0 or the errno it completes with. */
static int nrio_unified_pt_check(const struct nrio_unified *u,
			     const struct unified_io_sqe *d)
{
	unsigned int i;

	if ((d->flags & ~UNIFIED_IO_SQE_F_LINK) || d->resv1 || d->resv2)
		return -EINVAL;
	/* cmd's bytes past every type's struct: reserved for all. */
	for (i = 8; i < sizeof(d->cmd.raw) / sizeof(d->cmd.raw[0]); i++)
		if (d->cmd.raw[i])
			return -EINVAL;
	switch (d->type) {
	case UNIFIED_IO_TYPE_NVME:
		return nrio_unified_pt_check_nvme(u, d);
	case UNIFIED_IO_TYPE_BPF:
		for (i = 0; i < 6; i++)
			if (d->cmd.bpf.resv2[i])
				return -EINVAL;
		/* Read-next steps resubmit in the kernel engine only. */
		if (d->cmd.bpf.max_hops)
			return -EOPNOTSUPP;
		return 0;
	case UNIFIED_IO_TYPE_NET_SEND:
	case UNIFIED_IO_TYPE_NET_RECV:
		return nrio_unified_pt_check_net(u, d);
	default:
		return -EINVAL;
	}
}

/* Fill io_uring SQE @sqe for checked step @d, whose step index is @step. */
static void nrio_unified_pt_prep(struct nrio_unified *u, struct io_uring_sqe *sqe,
			     const struct unified_io_sqe *d, uint32_t step)
{
	const struct unified_io_nvme *c = &d->cmd.nvme;
	struct unified_io_uring_bpf *b;

	if (nrio_is_net(d->type)) {
		nrio_unified_pt_prep_net(u, sqe, d, step);
		return;
	}
	if (d->type == UNIFIED_IO_TYPE_NVME) {
		struct nvme_ring_io_sqe n = {
			.opcode = c->opcode, .nsid = c->nsid,
			.cdw2 = c->cdw2, .cdw3 = c->cdw3,
			.metadata_off = c->metadata_off,
			.metadata_len = c->metadata_len,
			.data_off = d->data_off, .data_len = d->data_len,
			.cdw10 = c->cdw10, .cdw11 = c->cdw11,
			.cdw12 = c->cdw12, .cdw13 = c->cdw13,
			.cdw14 = c->cdw14, .cdw15 = c->cdw15,
			.timeout_ms = c->timeout_ms,
		};

		nrio_prep_nvme_cmd(sqe, u->ng_fd, false, &n, u->nsid, u->data,
				   &u->bufs, step);
		return;
	}
	memset(sqe, 0, 2 * sizeof(*sqe));	/* SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = u->fd;
	sqe->cmd_op = UNIFIED_IO_URING_BPF;
	sqe->user_data = step;
	b = (struct unified_io_uring_bpf *)sqe->cmd;
	b->slot = d->cmd.bpf.slot;
	b->data_len = d->data_len;
	b->data_off = d->data_off;
	b->arg = d->cmd.bpf.arg;
	b->user_data = d->user_data;
}

/* Post the steps of chain @ci that are final, in order; free what ends. */
static void nrio_unified_pt_advance(struct nrio_unified *u, uint32_t ci)
{
	struct nrio_pchain *c = &u->chains[ci];

	while (c->cur != NRIO_NONE) {
		struct nrio_step *s = &u->steps[c->cur];
		uint32_t next = s->next;
		int32_t res = s->res;

		if (s->state == NRIO_STEP_QUEUED || s->state == NRIO_STEP_HELD)
			return;
		if (s->state == NRIO_STEP_REFUSED && c->failed)
			res = -ECANCELED;
		if (res < 0)
			c->failed = true;
		nrio_post_cqe(&u->ecq, s->user_data, res, s->status,
			      s->result);
		u->posted++;
		s->next = u->free_step;
		u->free_step = c->cur;
		c->cur = next;
	}
	c->next_free = u->free_chain;
	u->free_chain = ci;
}

/*
 * Consume whole chains from the SQ ring while the CQ ring has room for
 * them and queue them in io_uring; returns how many descriptors.
 */
static uint32_t nrio_unified_pt_queue(struct nrio_unified *u)
{
	uint32_t entries = u->esq.entries, done = 0;

	for (;;) {
		struct unified_io_sqe *d = u->scratch;
		uint32_t avail, room, n, j, k, ci, prev = NRIO_NONE;
		bool endless, net;
		int err = 0;

		avail = nrio_load_acquire(u->esq.producer) - u->esq.cached_cons;
		if (!avail || avail > entries)	/* empty, or nonsense */
			break;
		/* Find the chain's end, copying each descriptor once. */
		for (j = 0;; j++) {
			memcpy(&d[j], nrio_ring_desc(&u->esq,
						     u->esq.cached_cons + j),
			       sizeof(d[j]));
			if (!(d[j].flags & UNIFIED_IO_SQE_F_LINK) ||
			    j + 1 == avail)
				break;
		}
		endless = d[j].flags & UNIFIED_IO_SQE_F_LINK;
		if (endless && (done || avail < entries))
			break;	/* the producer has not published its end */
		n = endless ? avail : j + 1;
		room = nrio_ring_free(&u->ecq, u->nr_steps) -
		       (uint32_t)(u->consumed - u->posted);
		if (n > room)
			break;	/* waits for the application to reap */

		/* Steps [0, k) go to io_uring; k fails its check. */
		for (k = 0; k < n && !endless; k++) {
			err = nrio_unified_pt_check(u, &d[k]);
			if (err)
				break;
		}
		if (endless)
			k = 0;
		if (io_uring_sq_space_left(&u->ring) < k)
			io_uring_submit(&u->ring);	/* links stay whole */

		ci = u->free_chain;
		u->free_chain = u->chains[ci].next_free;
		u->chains[ci].failed = false;
		u->chains[ci].cur = u->free_step;
		for (j = 0, net = false; j < n; j++) {
			uint32_t si = u->free_step;
			struct nrio_step *s = &u->steps[si];

			u->free_step = s->next;
			s->user_data = d[j].user_data;
			s->type = d[j].type;
			s->len = d[j].data_len;
			s->chain = ci;
			s->status = 0;
			s->result = 0;
			s->notif = false;
			s->udp = false;
			s->next = NRIO_NONE;
			if (prev != NRIO_NONE)
				u->steps[prev].next = si;
			prev = si;
			if (endless) {
				s->state = NRIO_STEP_DONE;
				s->res = -EINVAL;
			} else if (j < k && net) {
				/* After a NET step: it waits for that one. */
				u->held[si] = d[j];
				s->state = NRIO_STEP_HELD;
				s->res = 0;
			} else if (j < k) {
				struct io_uring_sqe *sqe;

				sqe = io_uring_get_sqe(&u->ring);
				nrio_unified_pt_prep(u, sqe, &d[j], si);
				/*
				 * Not its link's head: 6.12 would read it
				 * from its SQ slot when it is issued, after
				 * the slot was reused; IOSQE_ASYNC has the
				 * kernel copy it at submission.
				 */
				if (j)
					sqe->flags |= IOSQE_ASYNC;
				net = nrio_is_net(d[j].type);
				if (j + 1 < k && !net)
					sqe->flags |= IOSQE_IO_LINK;
				s->state = NRIO_STEP_QUEUED;
				s->res = 0;
				u->issued++;
			} else {
				s->state = j == k ? NRIO_STEP_REFUSED :
						    NRIO_STEP_DONE;
				s->res = j == k ? err : -ECANCELED;
			}
		}
		u->esq.cached_cons += n;
		nrio_store_release(u->esq.consumer, u->esq.cached_cons);
		u->consumed += n;
		done += n;
		if (!k)
			nrio_unified_pt_advance(u, ci);
	}
	return done;
}

/*
 * NET step @si is final.  Whole: queue the steps it held, linked, up to
 * and including the next NET step.  Short or failed: they are canceled,
 * as the kernel engine ends a chain at a short NET step.
 */
static void nrio_unified_pt_net_done(struct nrio_unified *u, uint32_t si)
{
	struct nrio_step *s = &u->steps[si];
	bool whole = s->res == (int32_t)s->len;
	uint32_t i = s->next, queued = 0;
	struct io_uring_sqe *prev = NULL;

	for (; i != NRIO_NONE; i = u->steps[i].next) {
		struct nrio_step *h = &u->steps[i];
		struct io_uring_sqe *sqe;

		if (h->state != NRIO_STEP_HELD && h->state != NRIO_STEP_REFUSED)
			break;
		if (!whole) {
			h->state = NRIO_STEP_DONE;
			h->res = -ECANCELED;
			continue;
		}
		if (h->state == NRIO_STEP_REFUSED)
			break;
		if (!io_uring_sq_space_left(&u->ring))
			io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
		nrio_unified_pt_prep(u, sqe, &u->held[i], i);
		if (prev) {	/* not the head: as in nrio_unified_pt_queue() */
			prev->flags |= IOSQE_IO_LINK;
			sqe->flags |= IOSQE_ASYNC;
		}
		prev = sqe;
		h->state = NRIO_STEP_QUEUED;
		u->issued++;
		queued++;
		if (nrio_is_net(h->type))
			break;
	}
	if (queued)
		io_uring_submit(&u->ring);
	nrio_unified_pt_advance(u, s->chain);
}

/* Turn io_uring completions into CQ entries; returns how many CQEs. */
static unsigned int nrio_unified_pt_drain(struct nrio_unified *u)
{
	struct io_uring_cqe *cqe;
	unsigned int head, count = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint32_t si = (uint32_t)cqe->user_data;
		struct nrio_step *s;
		int32_t res = cqe->res;

		count++;
		if (si >= u->nr_steps)
			continue;	/* not ours: cannot happen */
		s = &u->steps[si];
		if (cqe->flags & IORING_CQE_F_NOTIF) {
			/* SEND_ZC's pages are the application's again. */
			s->notif = false;
			s->state = NRIO_STEP_DONE;
			nrio_unified_pt_net_done(u, si);
			continue;
		}
		if (nrio_is_net(s->type)) {
			if (s->udp && res > (int32_t)s->len)
				res = -EMSGSIZE;	/* truncated */
			s->res = res;
			if (cqe->flags & IORING_CQE_F_MORE) {
				s->notif = true;	/* one more CQE */
				u->issued++;
				continue;
			}
			s->state = NRIO_STEP_DONE;
			nrio_unified_pt_net_done(u, si);
			continue;
		}
		if (s->type == UNIFIED_IO_TYPE_NVME) {
			if (res > 0) {		/* the device's NVMe status */
				s->status = (uint16_t)res;
				res = -EIO;
			} else if (res == 0) {
				res = (int32_t)s->len;
			}
			if (res >= 0 || s->status)
				s->result = cqe->big_cqe[0];
		} else if (res == 0) {
			/* UNIFIED_IO_URING_BPF: the program's value. */
			res = (int32_t)cqe->big_cqe[0];
		}
		s->res = res;
		s->state = NRIO_STEP_DONE;
		nrio_unified_pt_advance(u, s->chain);
	}
	io_uring_cq_advance(&u->ring, count);
	u->completed += count;
	return count;
}

/* CQ entries posted and not yet copied out. */
static uint32_t nrio_unified_cq_ready(struct nrio_unified *u)
{
	uint32_t ready = nrio_load_acquire(u->cq.producer) - u->cq.cached_cons;

	return ready > u->cq.entries ? 0 : ready;
}

static int nrio_unified_pt_submit(struct nrio_unified *u, unsigned int min)
{
	uint32_t done = nrio_unified_pt_queue(u);
	unsigned int have, busy, want = 0;
	int ret = 0;

	have = nrio_unified_cq_ready(u) + io_uring_cq_ready(&u->ring);
	busy = (unsigned int)(u->issued - u->completed);
	busy = busy > io_uring_cq_ready(&u->ring) ?
	       busy - io_uring_cq_ready(&u->ring) : 0;
	if (min > have)
		want = min - have < busy ? min - have : busy;
	if (want)
		ret = io_uring_submit_and_wait(&u->ring, want);
	else if (io_uring_sq_ready(&u->ring))
		ret = io_uring_submit(&u->ring);
	return ret < 0 ? ret : (int)done;
}

static int64_t nrio_unified_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * The steps after a NET step reach io_uring only once it completed, so a
 * chain may take several waits: they share @timeout_ns.
 */
static int nrio_unified_pt_reap(struct nrio_unified *u, struct nvme_ring_io_cqe *cqes,
			    unsigned int max, unsigned int min,
			    int64_t timeout_ns)
{
	int64_t deadline = timeout_ns > 0 ? nrio_unified_now_ns() + timeout_ns : 0;
	unsigned int got = 0;

	for (;;) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		uint32_t idx, n, i;
		unsigned int busy;
		int64_t left = 0;
		int ret;

		nrio_unified_pt_drain(u);
		n = nrio_ring_peek(&u->cq, max - got, &idx);
		for (i = 0; i < n; i++)
			cqes[got + i] = *nrio_cqe(&u->cq, idx + i);
		nrio_ring_release(&u->cq, n);
		got += n;
		busy = (unsigned int)(u->issued - u->completed);
		if (got >= min || !busy || !timeout_ns)
			return got;
		if (timeout_ns > 0) {
			left = deadline - nrio_unified_now_ns();
			if (left <= 0)
				return got;
			ts.tv_sec = left / 1000000000;
			ts.tv_nsec = left % 1000000000;
		}
		/* Each CQ entry still wanted needs at most one io_uring CQE. */
		ret = io_uring_wait_cqes(&u->ring, &cqe,
					 min - got < busy ? min - got : busy,
					 timeout_ns < 0 ? NULL : &ts, NULL);
		if (ret == -EINTR)		/* a signal ends the wait */
			return got ? (int)got : ret;
		if (ret && ret != -ETIME)
			return ret;
	}
}

void nrio_unified_opts_init(struct nrio_unified_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sq_entries = 256;
	o->region_size = 16 << 20;
	o->numa_node = -1;
}

static int nrio_unified_fail(struct nrio_unified *u, int err)
{
	nrio_unified_close(u);
	return err;
}

int nrio_unified_open(const char *path, int oflags, const struct nrio_unified_opts *o,
		  struct nrio_unified **out)
{
	struct unified_io_info info;
	struct nrio_unified_opts def;
	struct nrio_unified *u;
	int ret;

	if (!o) {
		nrio_unified_opts_init(&def);
		o = &def;
	}
	if (o->engine > NRIO_ENGINE_PASSTHRU)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = u->nvme_fd = u->ng_fd = -1;
	for (ret = 0; ret < UNIFIED_IO_SOCK_SLOTS; ret++)
		u->sock_fd[ret] = -1;
	u->engine = o->engine;
	if (path) {
		u->nvme_fd = open(path, oflags | O_CLOEXEC);
		if (u->nvme_fd < 0)
			return nrio_unified_fail(u, -errno);
	}
	u->fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (u->fd < 0)
		return nrio_unified_fail(u, -errno);

	u->s.size = sizeof(u->s);
	u->s.sq_entries = o->sq_entries ? o->sq_entries : 256;
	u->s.cq_entries = o->cq_entries;
	u->s.region_size = o->region_size ? o->region_size : 16 << 20;
	u->s.nvme_fd = u->nvme_fd;
	u->s.numa_node = o->numa_node;
	u->s.net_ifindex = o->net_ifindex;
	u->s.net_rxq = o->net_rxq;
	u->s.frame_size = o->frame_size;
	u->s.frame_headroom = o->frame_headroom;
	if (ioctl(u->fd, UNIFIED_IO_SETUP, &u->s))
		return nrio_unified_fail(u, -errno);
	u->region = mmap(NULL, u->s.off.region_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, u->fd, 0);
	if (u->region == MAP_FAILED) {
		u->region = NULL;
		return nrio_unified_fail(u, -errno);
	}
	nrio_ring_init(&u->sq, u->region, &u->s.off.sq);
	nrio_ring_init(&u->cq, u->region, &u->s.off.cq);
	ret = nrio_unified_info(u, &info);
	if (ret)
		return nrio_unified_fail(u, ret);
	u->lba_size = info.lba_size;
	if (u->engine == NRIO_ENGINE_PASSTHRU) {
		ret = nrio_unified_pt_setup(u, path, oflags, &info);
		if (ret)
			return nrio_unified_fail(u, ret);
	}
	*out = u;
	return 0;
}

void nrio_unified_close(struct nrio_unified *u)
{
	if (!u)
		return;
	if (u->ring_ready)
		io_uring_queue_exit(&u->ring);
	if (u->ng_fd >= 0)
		close(u->ng_fd);
	for (int i = 0; i < UNIFIED_IO_SOCK_SLOTS; i++)
		if (u->sock_fd[i] >= 0)
			close(u->sock_fd[i]);
	free(u->held);
	free(u->scratch);
	free(u->steps);
	free(u->chains);
	if (u->region)
		munmap(u->region, u->s.off.region_size);
	if (u->fd >= 0)
		close(u->fd);
	if (u->nvme_fd >= 0)
		close(u->nvme_fd);
	free(u);
}

void *nrio_unified_data(const struct nrio_unified *u)
{
	return (char *)u->region + u->s.off.data;
}

int nrio_unified_fd(const struct nrio_unified *u)
{
	return u->fd;
}

int nrio_unified_info(const struct nrio_unified *u, struct unified_io_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(u->fd, UNIFIED_IO_INFO, info) ? -errno : 0;
}

struct unified_io_sqe *nrio_unified_get_sqe(struct nrio_unified *u)
{
	struct unified_io_sqe *sqe;
	__u32 idx;

	if (nrio_ring_reserve(&u->sq, 1, &idx) != 1)
		return NULL;
	sqe = (struct unified_io_sqe *)nrio_ring_desc(&u->sq, idx);
	memset(sqe, 0, sizeof(*sqe));
	u->pending++;
	return sqe;
}

void nrio_unified_prep_rw(const struct nrio_unified *u, struct unified_io_sqe *sqe,
		      uint8_t opcode, uint64_t slba, uint32_t nlb,
		      uint64_t data_off, uint64_t user_data)
{
	sqe->type = UNIFIED_IO_TYPE_NVME;
	sqe->data_off = data_off;
	sqe->data_len = nlb * u->lba_size;
	sqe->user_data = user_data;
	sqe->cmd.nvme.opcode = opcode;
	sqe->cmd.nvme.cdw10 = (uint32_t)slba;
	sqe->cmd.nvme.cdw11 = (uint32_t)(slba >> 32);
	sqe->cmd.nvme.cdw12 = nlb - 1;
}

void nrio_unified_prep_bpf(struct unified_io_sqe *sqe, uint32_t slot,
		       uint64_t data_off, uint32_t data_len, uint64_t arg,
		       uint64_t user_data)
{
	sqe->type = UNIFIED_IO_TYPE_BPF;
	sqe->data_off = data_off;
	sqe->data_len = data_len;
	sqe->user_data = user_data;
	sqe->cmd.bpf.slot = slot;
	sqe->cmd.bpf.arg = arg;
}

void nrio_unified_prep_net(struct unified_io_sqe *sqe, bool send,
		       uint32_t sock_slot, uint64_t data_off,
		       uint32_t data_len, uint32_t msg_flags,
		       uint64_t user_data)
{
	sqe->type = send ? UNIFIED_IO_TYPE_NET_SEND : UNIFIED_IO_TYPE_NET_RECV;
	sqe->data_off = data_off;
	sqe->data_len = data_len;
	sqe->user_data = user_data;
	sqe->cmd.net.sock = sock_slot;
	sqe->cmd.net.msg_flags = msg_flags;
}

int nrio_unified_attach_sock(struct nrio_unified *u, uint32_t slot, int sock_fd)
{
	struct unified_io_sock_attach a = { .slot = slot, .sock_fd = sock_fd };
	int type = 0, dup_fd = -1;
	socklen_t len = sizeof(type);

	/* The kernel's checks and errnos for both engines. */
	if (ioctl(u->fd, sock_fd < 0 ? UNIFIED_IO_SOCK_DETACH :
		  UNIFIED_IO_SOCK_ATTACH, &a))
		return -errno;
	if (u->engine != NRIO_ENGINE_PASSTHRU)
		return 0;
	/* The passthrough engine sends and receives on its own copy. */
	if (sock_fd >= 0) {
		dup_fd = fcntl(sock_fd, F_DUPFD_CLOEXEC, 0);
		if (dup_fd < 0 ||
		    getsockopt(sock_fd, SOL_SOCKET, SO_TYPE, &type, &len)) {
			int err = -errno;

			if (dup_fd >= 0)
				close(dup_fd);
			ioctl(u->fd, UNIFIED_IO_SOCK_DETACH,
			      &(struct unified_io_sock_attach){ .slot = slot,
								.sock_fd = -1 });
			return err;
		}
	}
	if (u->sock_fd[slot] >= 0)
		close(u->sock_fd[slot]);
	u->sock_fd[slot] = dup_fd;
	u->sock_kind[slot] = dup_fd < 0 ? NRIO_SOCK_NONE :
			     type == SOCK_STREAM ? NRIO_SOCK_TCP : NRIO_SOCK_UDP;
	return 0;
}

int nrio_unified_attach_bpf(struct nrio_unified *u, uint32_t slot, int prog_fd)
{
	struct unified_io_bpf_attach a = { .slot = slot, .prog_fd = prog_fd };

	if (ioctl(u->fd, prog_fd < 0 ? UNIFIED_IO_BPF_DETACH :
		  UNIFIED_IO_BPF_ATTACH, &a))
		return -errno;
	return 0;
}

static int nrio_unified_submit_flags(struct nrio_unified *u, unsigned int min,
				 uint32_t flags)
{
	struct nvme_ring_io_submit sub = {
		.flags = flags, .min_complete = min,
	};
	int ret;

	nrio_ring_submit(&u->sq, u->pending);
	u->pending = 0;
	if (u->engine == NRIO_ENGINE_PASSTHRU)
		return nrio_unified_pt_submit(u, min);
	ret = ioctl(u->fd, UNIFIED_IO_SUBMIT, &sub);
	return ret < 0 ? -errno : ret;
}

int nrio_unified_submit(struct nrio_unified *u)
{
	return nrio_unified_submit_flags(u, 0, 0);
}

int nrio_unified_submit_and_wait(struct nrio_unified *u, unsigned int min)
{
	if (min > u->s.off.cq.entries)
		min = u->s.off.cq.entries;
	return nrio_unified_submit_flags(u, min, min ? NVME_RING_IO_SUBMIT_F_WAIT :
				     0);
}

int nrio_unified_reap(struct nrio_unified *u, struct nvme_ring_io_cqe *cqes,
		  unsigned int max, unsigned int min, int64_t timeout_ns)
{
	unsigned int got = 0;
	__u32 idx, n, i;

	if (min > max)
		min = max;
	if (u->engine == NRIO_ENGINE_PASSTHRU)
		return nrio_unified_pt_reap(u, cqes, max, min, timeout_ns);
	for (;;) {
		n = nrio_ring_peek(&u->cq, max - got, &idx);
		for (i = 0; i < n; i++)
			cqes[got + i] = *nrio_cqe(&u->cq, idx + i);
		nrio_ring_release(&u->cq, n);
		got += n;
		if (got >= min || !timeout_ns) {
			return got;
		} else {
			struct nvme_ring_io_complete c = {
				.min_complete = min - got,
				.timeout_ns = timeout_ns,
			};
			int ret = ioctl(u->fd, UNIFIED_IO_COMPLETE, &c);

			if (ret < 0)
				return errno == ETIME ? (int)got : -errno;
			if (!ret)
				return got;	/* nothing in flight */
		}
	}
}

unsigned int nrio_unified_inflight(const struct nrio_unified *u)
{
	struct unified_io_info info;

	if (u->engine == NRIO_ENGINE_PASSTHRU)
		return (unsigned int)(u->consumed - u->posted);
	return nrio_unified_info(u, &info) ? 0 : info.inflight;
}
