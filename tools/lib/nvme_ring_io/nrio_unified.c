// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * libnvme_ring_io: /dev/unified_io_region handles (kernel engine).
 *
 * The handle owns the unified context's fd, the namespace fd it was given
 * and the mapped region.  Descriptors are written straight into the SQ
 * ring (nrio_uio_get_sqe()), published by nrio_uio_submit(), and reaped
 * from the CQ ring, waiting with UNIFIED_IO_COMPLETE only when the ring
 * is empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nvme_ring_io.h"
#include "nrio_ring.h"

struct nrio_uio {
	int			fd;
	int			nvme_fd;
	struct unified_io_setup	s;
	void			*region;
	struct nrio_ring	sq;
	struct nrio_ring	cq;
	uint32_t		lba_size;
	uint32_t		pending;	/* got, not yet submitted */
};

void nrio_uio_opts_init(struct nrio_uio_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sq_entries = 256;
	o->region_size = 16 << 20;
	o->numa_node = -1;
}

static int nrio_uio_fail(struct nrio_uio *u, int err)
{
	nrio_uio_close(u);
	return err;
}

int nrio_uio_open(const char *path, int oflags, const struct nrio_uio_opts *o,
		  struct nrio_uio **out)
{
	struct unified_io_info info;
	struct nrio_uio_opts def;
	struct nrio_uio *u;
	int ret;

	if (!o) {
		nrio_uio_opts_init(&def);
		o = &def;
	}
	if (o->resv)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = u->nvme_fd = -1;
	if (path) {
		u->nvme_fd = open(path, oflags | O_CLOEXEC);
		if (u->nvme_fd < 0)
			return nrio_uio_fail(u, -errno);
	}
	u->fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (u->fd < 0)
		return nrio_uio_fail(u, -errno);

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
		return nrio_uio_fail(u, -errno);
	u->region = mmap(NULL, u->s.off.region_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, u->fd, 0);
	if (u->region == MAP_FAILED) {
		u->region = NULL;
		return nrio_uio_fail(u, -errno);
	}
	nrio_ring_init(&u->sq, u->region, &u->s.off.sq);
	nrio_ring_init(&u->cq, u->region, &u->s.off.cq);
	ret = nrio_uio_info(u, &info);
	if (ret)
		return nrio_uio_fail(u, ret);
	u->lba_size = info.lba_size;
	*out = u;
	return 0;
}

void nrio_uio_close(struct nrio_uio *u)
{
	if (!u)
		return;
	if (u->region)
		munmap(u->region, u->s.off.region_size);
	if (u->fd >= 0)
		close(u->fd);
	if (u->nvme_fd >= 0)
		close(u->nvme_fd);
	free(u);
}

void *nrio_uio_data(const struct nrio_uio *u)
{
	return (char *)u->region + u->s.off.data;
}

int nrio_uio_fd(const struct nrio_uio *u)
{
	return u->fd;
}

int nrio_uio_info(const struct nrio_uio *u, struct unified_io_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(u->fd, UNIFIED_IO_INFO, info) ? -errno : 0;
}

struct unified_io_sqe *nrio_uio_get_sqe(struct nrio_uio *u)
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

void nrio_uio_prep_rw(const struct nrio_uio *u, struct unified_io_sqe *sqe,
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

void nrio_uio_prep_bpf(struct unified_io_sqe *sqe, uint32_t slot,
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

int nrio_uio_attach_bpf(struct nrio_uio *u, uint32_t slot, int prog_fd)
{
	struct unified_io_bpf_attach a = { .slot = slot, .prog_fd = prog_fd };

	if (ioctl(u->fd, prog_fd < 0 ? UNIFIED_IO_BPF_DETACH :
		  UNIFIED_IO_BPF_ATTACH, &a))
		return -errno;
	return 0;
}

static int nrio_uio_submit_flags(struct nrio_uio *u, unsigned int min,
				 uint32_t flags)
{
	struct nvme_ring_io_submit sub = {
		.flags = flags, .min_complete = min,
	};
	int ret;

	nrio_ring_submit(&u->sq, u->pending);
	u->pending = 0;
	ret = ioctl(u->fd, UNIFIED_IO_SUBMIT, &sub);
	return ret < 0 ? -errno : ret;
}

int nrio_uio_submit(struct nrio_uio *u)
{
	return nrio_uio_submit_flags(u, 0, 0);
}

int nrio_uio_submit_and_wait(struct nrio_uio *u, unsigned int min)
{
	if (min > u->s.off.cq.entries)
		min = u->s.off.cq.entries;
	return nrio_uio_submit_flags(u, min, min ? NVME_RING_IO_SUBMIT_F_WAIT :
				     0);
}

int nrio_uio_reap(struct nrio_uio *u, struct nvme_ring_io_cqe *cqes,
		  unsigned int max, unsigned int min, int64_t timeout_ns)
{
	unsigned int got = 0;
	__u32 idx, n, i;

	if (min > max)
		min = max;
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
