/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the /dev/unified_io_region kselftests that drive the device
 * through its rings directly (unified_test, net_test).
 */
#ifndef NRIO_UNIFIED_TEST_H
#define NRIO_UNIFIED_TEST_H

#include "nrio_test.h"

#define DATA	(4 * MiB)

struct uni {
	int fd;
	int nvme_fd;
	struct unified_io_setup s;
	struct unified_io_info info;
	void *region;
	unsigned char *data;
	struct nrio_ring sq;
	struct nrio_ring cq;
	__u32 lba;
};

static inline void uni_args(struct unified_io_setup *s, int nvme_fd,
			    __u32 sq, __u32 cq, __u64 size)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->sq_entries = sq;
	s->cq_entries = cq;
	s->region_size = size;
	s->nvme_fd = nvme_fd;
	s->numa_node = -1;
}

static inline int uni_info(int fd, struct unified_io_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(fd, UNIFIED_IO_INFO, info) ? -errno : 0;
}

/* SETUP with @s (nvme_fd already in it), map, bind the rings. */
static inline int uni_start(struct uni *u)
{
	if (ioctl(u->fd, UNIFIED_IO_SETUP, &u->s))
		return -errno;
	u->region = mmap(NULL, u->s.off.region_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, u->fd, 0);
	if (u->region == MAP_FAILED) {
		u->region = NULL;
		return -errno;
	}
	u->data = (unsigned char *)u->region + u->s.off.data;
	nrio_ring_init(&u->sq, u->region, &u->s.off.sq);
	nrio_ring_init(&u->cq, u->region, &u->s.off.cq);
	if (uni_info(u->fd, &u->info))
		return -errno;
	u->lba = u->info.lba_size;
	return 0;
}

/* As uni_open(), with SETUP flags @flags (UNIFIED_IO_SETUP_F_*). */
static inline int uni_open_flags(struct uni *u, const char *dev, int oflags,
				 __u32 sq, __u32 cq, __u64 size, __u32 flags)
{
	memset(u, 0, sizeof(*u));
	u->nvme_fd = -1;
	if (dev) {
		u->nvme_fd = open(dev, oflags | O_CLOEXEC);
		if (u->nvme_fd < 0)
			return -errno;
	}
	u->fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (u->fd < 0)
		return -errno;
	uni_args(&u->s, u->nvme_fd, sq, cq, size);
	u->s.flags = flags;
	return uni_start(u);
}

static inline int uni_open(struct uni *u, const char *dev, int oflags,
			   __u32 sq, __u32 cq, __u64 size)
{
	return uni_open_flags(u, dev, oflags, sq, cq, size, 0);
}

static inline void uni_close(struct uni *u)
{
	if (u->region)
		munmap(u->region, u->s.off.region_size);
	if (u->fd >= 0)
		close(u->fd);
	if (u->nvme_fd >= 0)
		close(u->nvme_fd);
	u->region = NULL;
	u->fd = u->nvme_fd = -1;
}

static inline struct unified_io_sqe *uni_sqe(struct uni *u, __u32 idx)
{
	return (struct unified_io_sqe *)nrio_ring_desc(&u->sq, idx);
}

/* Reserve @n SQ slots and return the first index. */
static inline __u32 uni_reserve(struct uni *u, __u32 n)
{
	__u32 idx = 0;

	if (nrio_ring_reserve(&u->sq, n, &idx) != n)
		abort();
	return idx;
}

static inline int uni_submit(struct uni *u)
{
	struct nvme_ring_io_submit s = { 0 };
	int ret = ioctl(u->fd, UNIFIED_IO_SUBMIT, &s);

	return ret < 0 ? -errno : ret;
}

static inline int uni_wait(struct uni *u, __u32 min, __s64 timeout_ns)
{
	struct nvme_ring_io_complete c = {
		.min_complete = min, .timeout_ns = timeout_ns,
	};
	int ret = ioctl(u->fd, UNIFIED_IO_COMPLETE, &c);

	return ret < 0 ? -errno : ret;
}

/* Reap exactly @n CQ entries into @cqe, waiting up to 10 s for them. */
static inline int uni_reap(struct uni *u, struct nvme_ring_io_cqe *cqe,
			   __u32 n)
{
	__u32 got = 0, idx;

	while (got < n) {
		if (nrio_ring_peek(&u->cq, 1, &idx) == 1) {
			cqe[got++] = *nrio_cqe(&u->cq, idx);
			nrio_ring_release(&u->cq, 1);
			continue;
		}
		if (uni_wait(u, 1, 10LL * 1000 * 1000 * 1000) <= 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* One descriptor alone: submit, reap, return res. */
static inline int uni_sync(struct uni *u,
			   const struct unified_io_sqe *in)
{
	struct nvme_ring_io_cqe cqe;
	__u32 idx = uni_reserve(u, 1);

	*uni_sqe(u, idx) = *in;
	nrio_ring_submit(&u->sq, 1);
	if (uni_submit(u) != 1)
		return -1000;
	if (uni_reap(u, &cqe, 1))
		return -1001;
	return cqe.res;
}

#endif /* NRIO_UNIFIED_TEST_H */
