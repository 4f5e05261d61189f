// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * libnvme_ring_io: /dev/unified_io_region handles (struct nrio_unified)
 * and the module's kernel engine for them.
 *
 * The handle owns the unified context's fd, the namespace fd it was given
 * and the mapped region (struct nrio_ctx, as struct nrio does).
 * Descriptors are written straight into the SQ ring
 * (nrio_unified_get_sqe()) and published by nrio_unified_submit().  With
 * the kernel engine, SUBMIT hands them to the module and the CQ ring is
 * reaped, waiting with UNIFIED_IO_COMPLETE only when it is empty.  The
 * passthrough engine (nrio_passthru.c) is the one struct nrio uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "nrio_internal.h"
#include "nrio_passthru.h"
#include "nrio_ring.h"
#include "nvme_ring_io.h"

#define NRIO_UNIFIED_DEF_SQ	256
#define NRIO_UNIFIED_DEF_REGION	(16ULL << 20)

struct nrio_unified {
	struct nrio_ctx		c;		/* first */
	struct unified_io_setup	s;
	uint32_t		lba_size;
	uint32_t		engine;
};

static inline struct nrio_unified *nrio_unified_of(const struct nrio_ctx *c)
{
	return nrio_container_of(c, struct nrio_unified, c);
}

/* --- the kernel engine --------------------------------------------------- */

static int nrio_unified_kernel_submit(struct nrio_ctx *c, unsigned int min)
{
	struct nvme_ring_io_submit sub = {
		.flags = min ? NVME_RING_IO_SUBMIT_F_WAIT : 0,
		.min_complete = min,
	};
	int ret = ioctl(c->fd, UNIFIED_IO_SUBMIT, &sub);

	return ret < 0 ? -errno : ret;
}

static int nrio_unified_kernel_reap(struct nrio_ctx *c,
				    struct nvme_ring_io_cqe *cqes,
				    unsigned int max, unsigned int min,
				    int64_t timeout_ns)
{
	unsigned int got = 0;

	for (;;) {
		struct nvme_ring_io_complete w = { .timeout_ns = timeout_ns };
		int ret;

		got += nrio_ctx_copy_out(c, cqes + got, max - got);
		if (got >= min || !timeout_ns)
			return got;
		w.min_complete = min - got;
		ret = ioctl(c->fd, UNIFIED_IO_COMPLETE, &w);
		if (ret < 0)
			return errno == ETIME ? (int)got : -errno;
		if (!ret)
			return got;	/* nothing in flight */
	}
}

static unsigned int nrio_unified_kernel_inflight(const struct nrio_ctx *c)
{
	struct unified_io_info info;

	return nrio_unified_info(nrio_unified_of(c), &info) ? 0 :
							      info.inflight;
}

static const struct nrio_engine_ops nrio_unified_kernel_engine = {
	.submit		= nrio_unified_kernel_submit,
	.reap		= nrio_unified_kernel_reap,
	.inflight	= nrio_unified_kernel_inflight,
};

/* --- open and close ------------------------------------------------------- */

static const struct nrio_unified_opts nrio_unified_defaults = {
	.sq_entries	= NRIO_UNIFIED_DEF_SQ,
	.region_size	= NRIO_UNIFIED_DEF_REGION,
	.numa_node	= -1,
};

void nrio_unified_opts_init(struct nrio_unified_opts *o)
{
	*o = nrio_unified_defaults;
}

static int nrio_unified_setup_passthru(struct nrio_unified *u,
				       const char *path, int oflags,
				       const struct unified_io_info *info)
{
	char generic[64] = "";
	const struct nrio_pt_cfg cfg = {
		.off		= &u->s.off,
		.generic	= path ? generic : NULL,
		.oflags		= oflags,
		.unified	= true,
		.ns		= {
			.nsid		= info->nsid,
			.lba_size	= info->lba_size,
			.dma_align	= info->dma_alignment,
			.nr_lbas	= info->nr_lbas,
			.max_transfer	= info->max_transfer,
		},
	};
	int ret;

	/* An SQ entry per step that can be in flight: a chain always fits. */
	ret = nrio_ctx_ring_init(&u->c, u->s.off.cq.entries, false);
	if (ret)
		return ret;
	if (path)
		nrio_generic_of(path, generic, sizeof(generic));
	u->c.eng = &nrio_passthru.ops;
	ret = nrio_passthru.setup(&u->c, &cfg);
	if (ret || !path)
		return ret;
	ret = nrio_ctx_register_data(&u->c, info->max_segments, false);
	return ret < 0 ? ret : 0;
}

static int nrio_unified_fail(struct nrio_unified *u, int err)
{
	nrio_unified_close(u);
	return err;
}

int nrio_unified_open(const char *path, int oflags,
		      const struct nrio_unified_opts *o,
		      struct nrio_unified **out)
{
	struct unified_io_info info;
	struct nrio_unified *u;
	int ret;

	if (!o)
		o = &nrio_unified_defaults;
	if (o->engine > NRIO_ENGINE_PASSTHRU)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	nrio_ctx_init(&u->c);
	u->c.eng = &nrio_unified_kernel_engine;
	u->engine = o->engine;
	if (path) {
		u->c.nvme_fd = open(path, oflags | O_CLOEXEC);
		if (u->c.nvme_fd < 0)
			return nrio_unified_fail(u, -errno);
	}
	u->c.fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (u->c.fd < 0)
		return nrio_unified_fail(u, -errno);

	u->s.size = sizeof(u->s);
	u->s.sq_entries = o->sq_entries ? o->sq_entries : NRIO_UNIFIED_DEF_SQ;
	u->s.cq_entries = o->cq_entries;
	u->s.region_size = o->region_size ? o->region_size :
					    NRIO_UNIFIED_DEF_REGION;
	u->s.nvme_fd = u->c.nvme_fd;
	u->s.numa_node = o->numa_node;
	u->s.net_ifindex = o->net_ifindex;
	u->s.net_rxq = o->net_rxq;
	u->s.frame_size = o->frame_size;
	u->s.frame_headroom = o->frame_headroom;
	if (ioctl(u->c.fd, UNIFIED_IO_SETUP, &u->s))
		return nrio_unified_fail(u, -errno);
	ret = nrio_ctx_map(&u->c, &u->s.off);
	if (ret)
		return nrio_unified_fail(u, ret);
	ret = nrio_unified_info(u, &info);
	if (ret)
		return nrio_unified_fail(u, ret);
	u->lba_size = info.lba_size;
	if (u->engine == NRIO_ENGINE_PASSTHRU) {
		ret = nrio_unified_setup_passthru(u, path, oflags, &info);
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
	nrio_ctx_exit(&u->c);
	free(u);
}

void *nrio_unified_data(const struct nrio_unified *u)
{
	return u->c.data;
}

int nrio_unified_fd(const struct nrio_unified *u)
{
	return u->c.fd;
}

int nrio_unified_info(const struct nrio_unified *u,
		      struct unified_io_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(u->c.fd, UNIFIED_IO_INFO, info) ? -errno : 0;
}

/* --- descriptors ---------------------------------------------------------- */

struct unified_io_sqe *nrio_unified_get_sqe(struct nrio_unified *u)
{
	return nrio_ctx_get_sqe(&u->c, sizeof(struct unified_io_sqe));
}

/* What every descriptor has. */
static void nrio_unified_prep(struct unified_io_sqe *sqe, uint8_t type,
			      uint64_t data_off, uint32_t data_len,
			      uint64_t user_data)
{
	sqe->type = type;
	sqe->data_off = data_off;
	sqe->data_len = data_len;
	sqe->user_data = user_data;
}

void nrio_unified_prep_rw(const struct nrio_unified *u,
			  struct unified_io_sqe *sqe, uint8_t opcode,
			  uint64_t slba, uint32_t nlb, uint64_t data_off,
			  uint64_t user_data)
{
	nrio_unified_prep(sqe, UNIFIED_IO_TYPE_NVME, data_off,
			  nlb * u->lba_size, user_data);
	sqe->cmd.nvme.opcode = opcode;
	sqe->cmd.nvme.cdw10 = (uint32_t)slba;
	sqe->cmd.nvme.cdw11 = (uint32_t)(slba >> 32);
	sqe->cmd.nvme.cdw12 = nlb - 1;
}

void nrio_unified_prep_bpf(struct unified_io_sqe *sqe, uint32_t slot,
			   uint64_t data_off, uint32_t data_len, uint64_t arg,
			   uint64_t user_data)
{
	nrio_unified_prep(sqe, UNIFIED_IO_TYPE_BPF, data_off, data_len,
			  user_data);
	sqe->cmd.bpf.slot = slot;
	sqe->cmd.bpf.arg = arg;
}

void nrio_unified_prep_net(struct unified_io_sqe *sqe, bool send,
			   uint32_t sock_slot, uint64_t data_off,
			   uint32_t data_len, uint32_t msg_flags,
			   uint64_t user_data)
{
	nrio_unified_prep(sqe, send ? UNIFIED_IO_TYPE_NET_SEND :
				      UNIFIED_IO_TYPE_NET_RECV,
			  data_off, data_len, user_data);
	sqe->cmd.net.sock = sock_slot;
	sqe->cmd.net.msg_flags = msg_flags;
}

/* --- attachments ---------------------------------------------------------- */

int nrio_unified_attach_sock(struct nrio_unified *u, uint32_t slot,
			     int sock_fd)
{
	struct unified_io_sock_attach a = { .slot = slot, .sock_fd = sock_fd };
	int ret;

	/* The kernel's checks and errnos for both engines. */
	if (ioctl(u->c.fd, sock_fd < 0 ? UNIFIED_IO_SOCK_DETACH :
		  UNIFIED_IO_SOCK_ATTACH, &a))
		return -errno;
	if (u->engine != NRIO_ENGINE_PASSTHRU)
		return 0;
	ret = nrio_passthru.attach_sock(&u->c, slot, sock_fd);
	if (ret && sock_fd >= 0) {
		a.sock_fd = -1;
		ioctl(u->c.fd, UNIFIED_IO_SOCK_DETACH, &a);
	}
	return ret;
}

int nrio_unified_attach_bpf(struct nrio_unified *u, uint32_t slot,
			    int prog_fd)
{
	struct unified_io_bpf_attach a = { .slot = slot, .prog_fd = prog_fd };

	if (ioctl(u->c.fd, prog_fd < 0 ? UNIFIED_IO_BPF_DETACH :
		  UNIFIED_IO_BPF_ATTACH, &a))
		return -errno;
	return 0;
}

/* --- submit and reap ------------------------------------------------------ */

int nrio_unified_submit(struct nrio_unified *u)
{
	return nrio_ctx_submit(&u->c, 0);
}

int nrio_unified_submit_and_wait(struct nrio_unified *u, unsigned int min)
{
	return nrio_ctx_submit(&u->c, min);
}

int nrio_unified_reap(struct nrio_unified *u, struct nvme_ring_io_cqe *cqes,
		      unsigned int max, unsigned int min, int64_t timeout_ns)
{
	if (min > max)
		min = max;
	return u->c.eng->reap(&u->c, cqes, max, min, timeout_ns);
}

unsigned int nrio_unified_inflight(const struct nrio_unified *u)
{
	return u->c.eng->inflight(&u->c);
}
