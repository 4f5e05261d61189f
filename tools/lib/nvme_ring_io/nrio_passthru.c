// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * libnvme_ring_io: the passthrough engine, for both devices.
 *
 * The engine is the SQ ring's consumer and the CQ ring's producer itself,
 * with the kernel engine's rules: whole chains only, each descriptor
 * copied once out of the shared ring and checked from the copy, CQ slots
 * reserved for the whole chain before it is consumed, one CQ entry per
 * descriptor in chain order.  A /dev/nvme_ring_io descriptor is a chain
 * of one NVMe step; a /dev/unified_io_region chain may also hold BPF and
 * NET steps.  A chain of one step (every plain descriptor, read and
 * checked in its own format) needs no chain record: its CQ entry is
 * written when its io_uring CQE comes, the NVMe status mapped as for any
 * other NVMe step.
 *
 * A chain becomes io_uring SQEs linked with IOSQE_IO_LINK, up to its
 * first descriptor that fails a check; that one is a "refused" step,
 * posted with its errno once the steps before it succeeded.  NVMe steps
 * are NVME_URING_CMD_IO on the namespace's /dev/ngXnY (a registered file)
 * with the data area as fixed buffers, BPF steps UNIFIED_IO_URING_BPF
 * commands on the context, NET steps io_uring's socket operations.  Steps
 * and chains live in tables sized to the CQ ring (a step per promised CQ
 * slot), the io_uring user_data is the step's index, and nothing is
 * allocated per I/O.  CQ entries are written as steps end and published
 * with one store per batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libnvme.h>
#include <liburing.h>

#include <linux/unified_io_region.h>

#include "nrio_internal.h"
#include "nrio_passthru.h"
#include "nrio_ring.h"

#define NRIO_NONE	UINT32_MAX

enum nrio_step_state {
	NRIO_STEP_QUEUED,	/* in io_uring */
	NRIO_STEP_DONE,		/* res/status/result final */
	NRIO_STEP_REFUSED,	/* res is its errno, unless the chain failed */
	NRIO_STEP_HELD,		/* after a NET step: queued when it is whole */
};

/* What the engine knows of an attached socket. */
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
	uint32_t	chain;		/* NRIO_NONE: alone, no record */
};

struct nrio_pchain {
	uint32_t	cur;		/* the next step to post */
	uint32_t	next_free;
	bool		failed;		/* a step posted res < 0 */
};

struct nrio_pt {
	struct nrio_ring	esq;		/* consumer */
	struct nrio_ring	ecq;		/* producer */
	uint32_t		nr_steps;
	bool			own_sqes;	/* SQE <step> per step: nrio_pt_sqe() */
	uint32_t		free_step;
	uint32_t		free_chain;
	struct nrio_step	*steps;
	struct nrio_pchain	*chains;
	struct unified_io_sqe	*scratch;	/* a chain's copies */
	uint32_t		consumed;	/* descriptors taken from the SQ,
						 * counted as ecq.cached_prod
						 * counts CQ entries written */
	uint64_t		issued;		/* CQEs io_uring owes */
	uint64_t		completed;	/* its CQEs seen */
	bool			unified;
	bool			can_write;
	int			ng_fd;		/* fixed file 0; -1 without */
	int			ctx_fd;		/* for BPF steps */
	struct nrio_pt_ns	ns;
	struct unified_io_sqe	*held;		/* per step: a held one's copy */
	int			sock_fd[UNIFIED_IO_SOCK_SLOTS];	/* dups */
	uint8_t			sock_kind[UNIFIED_IO_SOCK_SLOTS];
};

/* --- reading and checking descriptors ------------------------------------ */

/*
 * Copy the unified chain at the SQ ring's consumer index, each descriptor
 * once, into pt->scratch, up to its end or @avail; returns its length, and in
 * *@endless whether the last one copied still links on.
 */
static inline uint32_t nrio_pt_read(struct nrio_pt *pt, uint32_t avail,
				    bool *endless)
{
	struct unified_io_sqe *d = pt->scratch;
	uint32_t cons = pt->esq.cached_cons, j;

	for (j = 0;; j++) {
		memcpy(&d[j], nrio_ring_desc(&pt->esq, cons + j), sizeof(d[j]));
		if (!(d[j].flags & UNIFIED_IO_SQE_F_LINK) || j + 1 == avail)
			break;
	}
	*endless = d[j].flags & UNIFIED_IO_SQE_F_LINK;
	return j + 1;
}

/* NVMe opcodes that change the medium (the direction bit, or WZ). */
static bool nrio_nvme_writes(uint8_t opcode)
{
	return (opcode & 1) || opcode == NVME_RING_IO_OP_WRITE_ZEROES;
}

/* An NVMe step's data and metadata lie in the data area. */
static inline bool nrio_pt_in_data(const struct nrio_ctx *c, uint64_t off,
				   uint32_t len, uint64_t md_off,
				   uint32_t md_len)
{
	return nrio_range_ok(c->data_size, off, len) &&
	       (!md_len || nrio_range_ok(c->data_size, md_off, md_len));
}

/*
 * A /dev/nvme_ring_io descriptor's checks; 0 or -errno.  The plain
 * device's passthrough engine has always passed any NVMe command whose
 * reserved fields, nsid and data ranges are right.
 */
static inline int nrio_pt_check_plain(const struct nrio_ctx *c,
				      const struct nvme_ring_io_sqe *d)
{
	if (d->flags || d->resv1 || d->resv2)
		return -EINVAL;
	if (d->nsid && d->nsid != c->pt->ns.nsid)
		return -EINVAL;
	if (!nrio_pt_in_data(c, d->data_off, d->data_len, d->metadata_off,
			     d->metadata_len))
		return -EFAULT;
	return 0;
}

/* A unified NVMe step's checks, as the kernel engine makes them. */
static int nrio_pt_check_nvme(const struct nrio_ctx *c,
			      const struct unified_io_sqe *d)
{
	const struct nrio_pt *pt = c->pt;
	const struct unified_io_nvme *n = &d->cmd.nvme;
	bool rw = n->opcode == NVME_RING_IO_OP_READ ||
		  n->opcode == NVME_RING_IO_OP_WRITE;
	uint64_t slba = n->cdw10 | (uint64_t)n->cdw11 << 32;
	uint64_t nlb = (n->cdw12 & NVME_RING_IO_RW_NLB_MASK) + 1;

	if (pt->ng_fd < 0)
		return -ENXIO;
	if (n->resv1[0] || n->resv1[1] || n->resv1[2] || n->resv2)
		return -EINVAL;
	if (n->nsid && n->nsid != pt->ns.nsid)
		return -EINVAL;
	if (nrio_nvme_writes(n->opcode) && !pt->can_write)
		return -EBADF;
	if (rw && d->data_len != nlb * pt->ns.lba_size)
		return -EINVAL;
	if (d->data_len && d->data_off % pt->ns.dma_align)
		return -EINVAL;
	if (!nrio_pt_in_data(c, d->data_off, d->data_len, n->metadata_off,
			     n->metadata_len))
		return -EFAULT;
	if (rw && (slba >= pt->ns.nr_lbas || nlb > pt->ns.nr_lbas - slba))
		return -ERANGE;
	if (d->data_len > pt->ns.max_transfer)
		return -EINVAL;
	return 0;
}

static bool nrio_is_net(uint8_t type)
{
	return type == UNIFIED_IO_TYPE_NET_SEND ||
	       type == UNIFIED_IO_TYPE_NET_RECV;
}

/* A NET step's checks, as the kernel engine makes them; 0 or -errno. */
static int nrio_pt_check_net(const struct nrio_ctx *c,
			     const struct unified_io_sqe *d)
{
	const struct nrio_pt *pt = c->pt;
	const struct unified_io_net *n = &d->cmd.net;
	uint32_t allowed = d->type == UNIFIED_IO_TYPE_NET_SEND ? MSG_MORE :
								 MSG_WAITALL;
	int listening = 0;
	socklen_t len = sizeof(listening);
	unsigned int i;

	for (i = 0; i < sizeof(n->resv) / sizeof(n->resv[0]); i++)
		if (n->resv[i])
			return -EINVAL;
	if (!d->data_len || d->data_len > UNIFIED_IO_NET_MAX ||
	    n->sock >= UNIFIED_IO_SOCK_SLOTS || (n->msg_flags & ~allowed))
		return -EINVAL;
	if (!nrio_range_ok(c->data_size, d->data_off, d->data_len))
		return -EFAULT;
	if (pt->sock_fd[n->sock] < 0)
		return -ENOENT;
	if (pt->sock_kind[n->sock] == NRIO_SOCK_TCP &&
	    !getsockopt(pt->sock_fd[n->sock], SOL_SOCKET, SO_ACCEPTCONN,
			&listening, &len) && listening)
		return -ENOTCONN;
	return 0;
}

/*
 * A unified step's checks from its copy @d; 0 or the errno it completes
 * with.
 */
static int nrio_pt_check(const struct nrio_ctx *c,
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
		return nrio_pt_check_nvme(c, d);
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
		return nrio_pt_check_net(c, d);
	default:
		return -EINVAL;
	}
}

/* --- io_uring SQEs -------------------------------------------------------- */

/*
 * NVME_URING_CMD_IO on the generic node (fixed file 0) for a checked NVMe
 * step of either device: both descriptor formats name the command's
 * fields alike, cdw2-3 and cdw10-15 in the order struct nvme_uring_cmd
 * has them.  Inlined into the queue loops.
 */
#define nrio_pt_fill_nvme(c, sqe, n, off, len, ud)			\
	nrio_pt_fill_cmd(c, sqe, ud, (n)->opcode, (n)->nsid, &(n)->cdw2,	\
			 (n)->metadata_off, (n)->metadata_len, off, len,	\
			 &(n)->cdw10, (n)->timeout_ms)

static inline __attribute__((always_inline)) void
nrio_pt_fill_cmd(struct nrio_ctx *c, struct io_uring_sqe *sqe,
		 uint64_t user_data, uint8_t opcode, uint32_t nsid,
		 const uint32_t *cdw2, uint64_t md_off, uint32_t md_len,
		 uint64_t off, uint32_t len, const uint32_t *cdw10,
		 uint32_t timeout_ms)
{
	int buf = nrio_buf_index(&c->bufs, off, len);
	struct nvme_uring_cmd *cmd;

	/*
	 * SQE128, cleared in two halves: the compiler stores those, where
	 * one 128-byte memset() becomes a string instruction that costs as
	 * much as the rest of this function.
	 */
	memset(sqe, 0, sizeof(*sqe));
	memset(sqe + 1, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = 0;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->cmd_op = NVME_URING_CMD_IO;
	sqe->user_data = user_data;
	/* Fixed when the data lies inside one registered buffer. */
	if (buf >= 0) {
		sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
		sqe->buf_index = (uint16_t)buf;
	}
	cmd = (struct nvme_uring_cmd *)sqe->cmd;
	cmd->opcode = opcode;
	cmd->nsid = nsid ? nsid : c->pt->ns.nsid;
	memcpy(&cmd->cdw2, cdw2, 2 * sizeof(cmd->cdw2));
	if (md_len) {
		cmd->metadata = (uintptr_t)(c->data + md_off);
		cmd->metadata_len = md_len;
	}
	if (len) {
		cmd->addr = (uintptr_t)(c->data + off);
		cmd->data_len = len;
	}
	memcpy(&cmd->cdw10, cdw10, 6 * sizeof(cmd->cdw10));
	cmd->timeout_ms = timeout_ms;
}

/*
 * A NET step as io_uring SQE: SEND_ZC (on the fixed buffer holding the
 * range, when one does) with MSG_WAITALL on TCP, so that io_uring sends
 * the whole range as the kernel engine does; RECV into the region, with
 * MSG_TRUNC on UDP so that a longer datagram shows as one.
 */
static void nrio_pt_prep_net(struct nrio_ctx *c, struct io_uring_sqe *sqe,
			     const struct unified_io_sqe *d, uint32_t step)
{
	struct nrio_pt *pt = c->pt;
	const struct unified_io_net *n = &d->cmd.net;
	int fd = pt->sock_fd[n->sock];
	bool tcp = pt->sock_kind[n->sock] == NRIO_SOCK_TCP;
	unsigned char *buf = c->data + d->data_off;

	if (d->type == UNIFIED_IO_TYPE_NET_SEND) {
		int flags = (int)n->msg_flags | (tcp ? MSG_WAITALL : 0);
		int idx = c->bufs.nr_chunks ?
			  nrio_buf_index(&c->bufs, d->data_off, d->data_len) :
			  -1;

		if (idx >= 0)
			io_uring_prep_send_zc_fixed(sqe, fd, buf, d->data_len,
						    flags, 0, (unsigned int)idx);
		else
			io_uring_prep_send_zc(sqe, fd, buf, d->data_len, flags,
					      0);
	} else {
		io_uring_prep_recv(sqe, fd, buf, d->data_len,
				   (int)n->msg_flags | (tcp ? 0 : MSG_TRUNC));
		pt->steps[step].udp = !tcp;
	}
	sqe->user_data = step;
}

/* Fill io_uring SQE @sqe for checked step @d, whose step index is @step. */
static inline void nrio_pt_prep(struct nrio_ctx *c, struct io_uring_sqe *sqe,
				const struct unified_io_sqe *d, uint32_t step)
{
	struct unified_io_uring_bpf *b;

	if (d->type == UNIFIED_IO_TYPE_NVME) {
		nrio_pt_fill_nvme(c, sqe, &d->cmd.nvme, d->data_off,
				  d->data_len, step);
		return;
	}
	if (nrio_is_net(d->type)) {
		nrio_pt_prep_net(c, sqe, d, step);
		return;
	}
	memset(sqe, 0, 2 * sizeof(*sqe));	/* SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = c->pt->ctx_fd;
	sqe->cmd_op = UNIFIED_IO_URING_BPF;
	sqe->user_data = step;
	b = (struct unified_io_uring_bpf *)sqe->cmd;
	b->slot = d->cmd.bpf.slot;
	b->data_len = d->data_len;
	b->data_off = d->data_off;
	b->arg = d->cmd.bpf.arg;
	b->user_data = d->user_data;
}

/* --- posting CQ entries --------------------------------------------------- */

/* Write a CQ entry; nrio_pt_publish() makes it visible. */
static inline void nrio_pt_post_cqe(struct nrio_pt *pt, uint64_t user_data,
				    int32_t res, uint16_t status,
				    uint64_t result)
{
	struct nvme_ring_io_cqe *cqe = nrio_cqe(&pt->ecq, pt->ecq.cached_prod);

	cqe->user_data = user_data;
	cqe->res = res;
	cqe->status = status;
	cqe->flags = 0;
	cqe->result0 = (uint32_t)result;
	cqe->result1 = (uint32_t)(result >> 32);
	cqe->resv = 0;
	pt->ecq.cached_prod++;
}

static inline void nrio_pt_post(struct nrio_pt *pt, const struct nrio_step *s,
				int32_t res)
{
	nrio_pt_post_cqe(pt, s->user_data, res, s->status, s->result);
}

/* Publish the CQ entries written (every slot was promised: no check). */
static inline void nrio_pt_publish(struct nrio_pt *pt)
{
	if (pt->ecq.cached_prod != *pt->ecq.producer)
		nrio_store_release(pt->ecq.producer, pt->ecq.cached_prod);
}

/* Post the steps of chain @ci that are final, in order; free what ends. */
static void nrio_pt_advance(struct nrio_pt *pt, uint32_t ci)
{
	struct nrio_pchain *ch = &pt->chains[ci];

	while (ch->cur != NRIO_NONE) {
		struct nrio_step *s = &pt->steps[ch->cur];
		uint32_t next = s->next;
		int32_t res = s->res;

		if (s->state == NRIO_STEP_QUEUED || s->state == NRIO_STEP_HELD)
			return;
		if (s->state == NRIO_STEP_REFUSED && ch->failed)
			res = -ECANCELED;
		if (res < 0)
			ch->failed = true;
		nrio_pt_post(pt, s, res);
		s->next = pt->free_step;
		pt->free_step = ch->cur;
		ch->cur = next;
	}
	ch->next_free = pt->free_chain;
	pt->free_chain = ci;
}

/* --- consuming the SQ ring ------------------------------------------------ */

/*
 * The io_uring SQE of step @si: SQE number si, queued at the SQ ring's
 * tail through the SQ array.  A step keeps its SQE until its CQE comes,
 * so a command io_uring issues late finds it as it was written: a linked
 * command that is not its link's head, or one that said -EAGAIN and is
 * issued again from io-wq, which 6.12 reads from the SQE itself, not a
 * copy (the kernel copies it at prep only for IOSQE_ASYNC).  This needs
 * what nrio_pt_setup() checks (pt->own_sqes): a ring with an SQ array
 * (not IORING_SETUP_NO_SQARRAY, which liburing 2.6 and later ask for)
 * that the library alone writes after setup (liburing 2.2 and later fill
 * it 1:1 once; liburing itself queues no SQE where the kernel has
 * IORING_FEAT_EXT_ARG), SQE128, and an SQE per step.  Without it, SQEs
 * are liburing's, reused in ring order, and a step that is not its
 * link's head gets IOSQE_ASYNC so that the kernel copies it at
 * submission (*@late).
 *
 * The ring cannot be full: the SQEs the kernel has not consumed yet are
 * steps in flight, and there is an SQE for every step.
 */
static inline struct io_uring_sqe *nrio_pt_sqe(struct nrio_ctx *c,
					       uint32_t si, bool *late)
{
	struct io_uring_sq *sq = &c->ring.sq;
	unsigned int tail = sq->sqe_tail;

	*late = !c->pt->own_sqes;
	if (*late) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&c->ring);

		if (!sqe) {	/* cannot happen, as above */
			io_uring_submit(&c->ring);
			sqe = io_uring_get_sqe(&c->ring);
		}
		return sqe;
	}
	while (tail - io_uring_smp_load_acquire(sq->khead) >=
	       sq->ring_entries) {
		if (io_uring_submit(&c->ring) < 0)	/* cannot happen */
			abort();
	}
	sq->array[tail & sq->ring_mask] = si;
	sq->sqe_tail = tail + 1;
	return &sq->sqes[(size_t)si << 1];	/* IORING_SETUP_SQE128 */
}

/*
 * A chain of one step that is not a NET step (every /dev/nvme_ring_io
 * descriptor) needs no chain record: it is posted when it ends, and at
 * once when its check failed (@err).
 */
static inline void nrio_pt_take_solo(struct nrio_ctx *c,
				     const struct unified_io_sqe *d, int err)
{
	struct nrio_pt *pt = c->pt;
	uint32_t si = pt->free_step;
	struct nrio_step *s = &pt->steps[si];
	bool late;

	if (err) {
		nrio_pt_post_cqe(pt, d->user_data, err, 0, 0);
		return;
	}
	pt->free_step = s->next;
	s->user_data = d->user_data;
	s->type = d->type;
	s->len = d->data_len;
	s->chain = NRIO_NONE;
	s->status = 0;
	s->result = 0;
	s->state = NRIO_STEP_QUEUED;
	nrio_pt_prep(c, nrio_pt_sqe(c, si, &late), d, si);
	pt->issued++;
}

/*
 * The /dev/nvme_ring_io descriptor at SQ index @idx, a chain of one NVMe
 * step, read once and checked; as nrio_pt_take_solo()
 * without the unified form.
 */
static inline void nrio_pt_take_plain(struct nrio_ctx *c, uint32_t idx)
{
	struct nrio_pt *pt = c->pt;
	const struct nvme_ring_io_sqe d = *nrio_sqe(&pt->esq, idx);
	uint32_t si = pt->free_step;
	struct nrio_step *s = &pt->steps[si];
	struct io_uring_sqe *sqe;
	int err = nrio_pt_check_plain(c, &d);
	bool late;

	if (err) {
		nrio_pt_post_cqe(pt, d.user_data, err, 0, 0);
		return;
	}
	sqe = nrio_pt_sqe(c, si, &late);
	pt->free_step = s->next;
	s->user_data = d.user_data;
	s->type = UNIFIED_IO_TYPE_NVME;
	s->len = d.data_len;
	s->chain = NRIO_NONE;
	nrio_pt_fill_nvme(c, sqe, &d, d.data_off, d.data_len, si);
	pt->issued++;
}

/* Chain @n steps read from @d into the tables, queueing [0, @k). */
static uint32_t nrio_pt_take(struct nrio_ctx *c, const struct unified_io_sqe *d,
			     uint32_t n, uint32_t k, int err, bool endless)
{
	struct nrio_pt *pt = c->pt;
	uint32_t ci = pt->free_chain, prev = NRIO_NONE, j;
	bool net = false, late;

	pt->free_chain = pt->chains[ci].next_free;
	pt->chains[ci].failed = false;
	pt->chains[ci].cur = pt->free_step;
	for (j = 0; j < n; j++) {
		uint32_t si = pt->free_step;
		struct nrio_step *s = &pt->steps[si];

		pt->free_step = s->next;
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
			pt->steps[prev].next = si;
		prev = si;
		if (endless) {
			s->state = NRIO_STEP_DONE;
			s->res = -EINVAL;
		} else if (j < k && net) {
			/* After a NET step: it waits for that one. */
			pt->held[si] = d[j];
			s->state = NRIO_STEP_HELD;
			s->res = 0;
		} else if (j < k) {
			struct io_uring_sqe *sqe = nrio_pt_sqe(c, si, &late);

			nrio_pt_prep(c, sqe, &d[j], si);
			/* Not its link's head: see nrio_pt_sqe(). */
			if (j && late)
				sqe->flags |= IOSQE_ASYNC;
			net = nrio_is_net(d[j].type);
			if (j + 1 < k && !net)
				sqe->flags |= IOSQE_IO_LINK;
			s->state = NRIO_STEP_QUEUED;
			s->res = 0;
			pt->issued++;
		} else {
			s->state = j == k ? NRIO_STEP_REFUSED : NRIO_STEP_DONE;
			s->res = j == k ? err : -ECANCELED;
		}
	}
	return ci;
}

/*
 * Consume whole chains from the SQ ring while the CQ ring has room for
 * them and queue them in io_uring; returns how many descriptors.
 */
static uint32_t nrio_pt_queue(struct nrio_ctx *c)
{
	struct nrio_pt *pt = c->pt;
	uint32_t entries = pt->esq.entries, done = 0, avail, room, promised;

	avail = nrio_load_acquire(pt->esq.producer) - pt->esq.cached_cons;
	if (avail > entries)		/* nonsense */
		avail = 0;
	/*
	 * CQ room: free slots not already promised to steps in flight.  A
	 * consumer index that lies about the ring means: full (as the
	 * kernel engine takes it), so that no more steps are taken than
	 * there are free ones.
	 */
	room = nrio_ring_free(&pt->ecq, pt->nr_steps);
	promised = pt->consumed - pt->ecq.cached_prod;
	room = room <= pt->ecq.entries && room > promised ? room - promised :
							    0;
	if (!pt->unified) {
		done = avail < room ? avail : room;
		for (uint32_t i = 0; i < done; i++)
			nrio_pt_take_plain(c, pt->esq.cached_cons + i);
		pt->esq.cached_cons += done;
		pt->consumed += done;
		avail = 0;
	}
	while (avail) {
		struct unified_io_sqe *d = pt->scratch;
		uint32_t n, k;
		bool endless;
		int err = 0;

		n = nrio_pt_read(pt, avail, &endless);
		if (endless && (done || avail < entries))
			break;	/* the producer has not published its end */
		if (n > room)
			break;	/* waits for the application to reap */

		/* Steps [0, k) go to io_uring; k fails its check. */
		for (k = 0; k < n && !endless; k++) {
			err = nrio_pt_check(c, &d[k]);
			if (err)
				break;
		}
		if (endless)
			k = 0;
		if (io_uring_sq_space_left(&c->ring) < k)
			io_uring_submit(&c->ring);	/* links stay whole */
		if (n == 1 && (err || !nrio_is_net(d->type))) {
			nrio_pt_take_solo(c, d, err);
		} else {
			uint32_t ci = nrio_pt_take(c, d, n, k, err, endless);

			if (!k)
				nrio_pt_advance(pt, ci);
		}
		pt->esq.cached_cons += n;
		pt->consumed += n;
		done += n;
		avail -= n;
		room -= n;
	}
	if (done) {
		nrio_store_release(pt->esq.consumer, pt->esq.cached_cons);
		c->submitted += done;
	}
	nrio_pt_publish(pt);
	return done;
}

/* --- completions ---------------------------------------------------------- */

/*
 * NET step @si is final.  Whole: queue the steps it held, linked, up to
 * and including the next NET step.  Short or failed: they are canceled,
 * as the kernel engine ends a chain at a short NET step.
 */
static void nrio_pt_net_done(struct nrio_ctx *c, uint32_t si)
{
	struct nrio_pt *pt = c->pt;
	struct nrio_step *s = &pt->steps[si];
	bool whole = s->res == (int32_t)s->len;
	uint32_t i = s->next, queued = 0;
	struct io_uring_sqe *prev = NULL;
	bool late;

	for (; i != NRIO_NONE; i = pt->steps[i].next) {
		struct nrio_step *h = &pt->steps[i];
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
		sqe = nrio_pt_sqe(c, i, &late);
		nrio_pt_prep(c, sqe, &pt->held[i], i);
		if (prev) {	/* not the head: see nrio_pt_sqe() */
			prev->flags |= IOSQE_IO_LINK;
			if (late)
				sqe->flags |= IOSQE_ASYNC;
		}
		prev = sqe;
		h->state = NRIO_STEP_QUEUED;
		pt->issued++;
		queued++;
		if (nrio_is_net(h->type))
			break;
	}
	if (queued)
		io_uring_submit(&c->ring);
	nrio_pt_advance(pt, s->chain);
}

/* One io_uring CQE for step @si: its result, and the chain moves on. */
static inline void nrio_pt_complete(struct nrio_ctx *c, uint32_t si,
				    const struct io_uring_cqe *cqe)
{
	struct nrio_pt *pt = c->pt;
	struct nrio_step *s = &pt->steps[si];
	int32_t res = cqe->res;

	if (s->type == UNIFIED_IO_TYPE_NVME) {
		uint16_t status = 0;
		uint64_t result = 0;

		if (res > 0) {		/* the device's NVMe status */
			status = (uint16_t)res;
			res = -EIO;
		} else if (res == 0) {
			res = (int32_t)s->len;
		}
		if (res >= 0 || status)
			result = cqe->big_cqe[0];
		if (s->chain == NRIO_NONE) {
			nrio_pt_post_cqe(pt, s->user_data, res, status,
					 result);
			s->next = pt->free_step;
			pt->free_step = si;
			return;
		}
		s->status = status;
		s->result = result;
	} else if (cqe->flags & IORING_CQE_F_NOTIF) {
		/* SEND_ZC's pages are the application's again. */
		s->notif = false;
		s->state = NRIO_STEP_DONE;
		nrio_pt_net_done(c, si);
		return;
	} else if (nrio_is_net(s->type)) {
		if (s->udp && res > (int32_t)s->len)
			res = -EMSGSIZE;	/* truncated */
		s->res = res;
		if (cqe->flags & IORING_CQE_F_MORE) {
			s->notif = true;	/* one more CQE */
			pt->issued++;
			return;
		}
		s->state = NRIO_STEP_DONE;
		nrio_pt_net_done(c, si);
		return;
	} else if (res == 0) {
		/* UNIFIED_IO_URING_BPF: the program's value. */
		res = (int32_t)cqe->big_cqe[0];
	}
	if (s->chain == NRIO_NONE) {	/* alone: see nrio_pt_take_solo() */
		nrio_pt_post(pt, s, res);
		s->next = pt->free_step;
		pt->free_step = si;
		return;
	}
	s->res = res;
	s->state = NRIO_STEP_DONE;
	nrio_pt_advance(pt, s->chain);
}

/* Turn io_uring completions into CQ entries; returns how many CQEs. */
static unsigned int nrio_pt_drain(struct nrio_ctx *c)
{
	struct nrio_pt *pt = c->pt;
	struct io_uring_cqe *cqes = c->ring.cq.cqes;
	unsigned int head, tail, mask = c->ring.cq.ring_mask, count = 0;

	/* io_uring_for_each_cqe(), knowing that the CQEs are 32 bytes. */
	head = *c->ring.cq.khead;
	tail = io_uring_smp_load_acquire(c->ring.cq.ktail);
	for (; head != tail; head++, count++) {
		struct io_uring_cqe *cqe = &cqes[(head & mask) << 1];
		uint32_t si = (uint32_t)cqe->user_data;

		if (si < pt->nr_steps)	/* else not ours: cannot happen */
			nrio_pt_complete(c, si, cqe);
	}
	if (count) {
		io_uring_cq_advance(&c->ring, count);
		pt->completed += count;
		nrio_pt_publish(pt);
	}
	return count;
}

/*
 * nrio_pt_drain(), and with deferred task work, when that found nothing
 * and nothing waits in the CQ ring either, enter the kernel to run the
 * completions that wait for this thread (IORING_SQ_TASKRUN says there
 * are some) and drain again.  Only then: after a submit-and-wait the
 * completions it waited for are there, and reaping them costs no system
 * call.
 */
static unsigned int nrio_pt_collect(struct nrio_ctx *c)
{
	unsigned int count = nrio_pt_drain(c);

	if (count || !c->defer || nrio_ctx_cq_ready(c) ||
	    !(IO_URING_READ_ONCE(*c->ring.sq.kflags) & IORING_SQ_TASKRUN))
		return count;
	io_uring_get_events(&c->ring);
	return nrio_pt_drain(c);
}

/* --- the engine's ops ----------------------------------------------------- */

static int nrio_pt_submit(struct nrio_ctx *c, unsigned int min)
{
	struct nrio_pt *pt = c->pt;
	uint32_t done = nrio_pt_queue(c);
	unsigned int have, busy, uring, want = 0;
	int ret = 0;

	if (min) {
		/* Completions still in io_uring are reapable too. */
		uring = io_uring_cq_ready(&c->ring);
		have = nrio_ctx_cq_ready(c) + uring;
		busy = (unsigned int)(pt->issued - pt->completed);
		busy = busy > uring ? busy - uring : 0;
		if (min > have)
			want = min - have < busy ? min - have : busy;
	}
	if (want)
		ret = io_uring_submit_and_wait(&c->ring, want);
	else if (io_uring_sq_ready(&c->ring))
		ret = io_uring_submit(&c->ring);
	return ret < 0 ? ret : (int)done;
}

static int64_t nrio_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*
 * The steps after a NET step reach io_uring only once it completed, so a
 * chain may take several waits: they share @timeout_ns.
 */
static int nrio_pt_reap(struct nrio_ctx *c, struct nvme_ring_io_cqe *cqes,
			unsigned int max, unsigned int min, int64_t timeout_ns)
{
	struct nrio_pt *pt = c->pt;
	int64_t deadline = timeout_ns > 0 ? nrio_now_ns() + timeout_ns : 0;
	unsigned int got = 0;

	for (;;) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		unsigned int busy;
		int64_t left = 0;
		int ret;

		nrio_pt_collect(c);
		got += nrio_ctx_copy_out(c, cqes + got, max - got);
		busy = (unsigned int)(pt->issued - pt->completed);
		if (got >= min || !busy || !timeout_ns)
			return (int)got;
		if (timeout_ns > 0) {
			left = deadline - nrio_now_ns();
			if (left <= 0)
				return (int)got;
			ts.tv_sec = left / 1000000000;
			ts.tv_nsec = left % 1000000000;
		}
		/* Each CQ entry still wanted needs at most one io_uring CQE. */
		ret = io_uring_wait_cqes(&c->ring, &cqe,
					 min - got < busy ? min - got : busy,
					 timeout_ns < 0 ? NULL : &ts, NULL);
		if (ret == -EINTR)		/* a signal ends the wait */
			return got ? (int)got : ret;
		if (ret && ret != -ETIME)
			return ret;
	}
}

static unsigned int nrio_pt_inflight(const struct nrio_ctx *c)
{
	return c->pt->consumed - c->pt->ecq.cached_prod;
}

static void nrio_pt_destroy(struct nrio_ctx *c)
{
	struct nrio_pt *pt = c->pt;
	int i;

	if (!pt)
		return;
	if (pt->ng_fd >= 0)
		close(pt->ng_fd);
	for (i = 0; i < UNIFIED_IO_SOCK_SLOTS; i++)
		if (pt->sock_fd[i] >= 0)
			close(pt->sock_fd[i]);
	free(pt->held);
	free(pt->scratch);
	free(pt->steps);
	free(pt->chains);
	free(pt);
	c->pt = NULL;
}

/* May steps queue SQE number <step> themselves?  See nrio_pt_sqe(). */
static bool nrio_pt_own_sqes(const struct io_uring *ring, uint32_t steps)
{
#ifdef IORING_SETUP_NO_SQARRAY
	if (ring->flags & IORING_SETUP_NO_SQARRAY)
		return false;
#endif
	return ring->sq.array && (ring->flags & IORING_SETUP_SQE128) &&
	       (ring->features & IORING_FEAT_EXT_ARG) &&
	       ring->sq.ring_entries >= steps;
}

static int nrio_pt_setup(struct nrio_ctx *c, const struct nrio_pt_cfg *cfg)
{
	uint32_t entries = cfg->off->cq.entries, i, nsid = 0;
	struct nrio_pt *pt;

	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	c->pt = pt;
	pt->ng_fd = -1;
	for (i = 0; i < UNIFIED_IO_SOCK_SLOTS; i++)
		pt->sock_fd[i] = -1;
	pt->unified = cfg->unified;
	pt->ctx_fd = c->fd;
	pt->ns = cfg->ns;
	if (!pt->ns.dma_align)
		pt->ns.dma_align = 1;
	pt->can_write = (cfg->oflags & O_ACCMODE) != O_RDONLY;

	/* A chain is at most the SQ ring; plain descriptors come alone. */
	pt->scratch = calloc(cfg->unified ? cfg->off->sq.entries : 1,
			     sizeof(*pt->scratch));
	pt->steps = calloc(entries, sizeof(*pt->steps));
	pt->chains = calloc(entries, sizeof(*pt->chains));
	if (cfg->unified)
		pt->held = calloc(entries, sizeof(*pt->held));
	if (!pt->scratch || !pt->steps || !pt->chains ||
	    (cfg->unified && !pt->held))
		return -ENOMEM;
	pt->nr_steps = entries;
	pt->own_sqes = nrio_pt_own_sqes(&c->ring, entries);
	for (i = 0; i < entries; i++) {
		pt->steps[i].next = i + 1 < entries ? i + 1 : NRIO_NONE;
		pt->chains[i].next_free = i + 1 < entries ? i + 1 : NRIO_NONE;
	}
	nrio_ring_init(&pt->esq, c->region, &cfg->off->sq);
	nrio_ring_init(&pt->ecq, c->region, &cfg->off->cq);
	pt->consumed = pt->ecq.cached_prod;

	if (!cfg->generic)
		return 0;	/* no namespace: BPF and NET steps only */
	if (!cfg->generic[0])
		return -ENODEV;
	pt->ng_fd = open(cfg->generic, (cfg->oflags & O_ACCMODE) | O_CLOEXEC);
	if (pt->ng_fd < 0)
		return -errno;
	/* The generic node must be the namespace the context bound. */
	if (nvme_get_nsid(pt->ng_fd, &nsid) || nsid != cfg->ns.nsid)
		return -ENODEV;
	/* A registered file: no file reference taken and put per I/O. */
	return io_uring_register_files(&c->ring, &pt->ng_fd, 1);
}

/* The engine sends and receives on its own copy of an attached socket. */
static int nrio_pt_attach_sock(struct nrio_ctx *c, uint32_t slot, int fd)
{
	struct nrio_pt *pt = c->pt;
	int type = 0, dup_fd = -1;
	socklen_t len = sizeof(type);

	if (fd >= 0) {
		dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (dup_fd < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len)) {
			int err = -errno;

			if (dup_fd >= 0)
				close(dup_fd);
			return err;
		}
	}
	if (pt->sock_fd[slot] >= 0)
		close(pt->sock_fd[slot]);
	pt->sock_fd[slot] = dup_fd;
	pt->sock_kind[slot] = dup_fd < 0 ? NRIO_SOCK_NONE :
			      type == SOCK_STREAM ? NRIO_SOCK_TCP :
						    NRIO_SOCK_UDP;
	return 0;
}

const struct nrio_passthru_engine nrio_passthru = {
	.ops = {
		.submit		= nrio_pt_submit,
		.reap		= nrio_pt_reap,
		.inflight	= nrio_pt_inflight,
		.destroy	= nrio_pt_destroy,
	},
	.setup		= nrio_pt_setup,
	.attach_sock	= nrio_pt_attach_sock,
};
