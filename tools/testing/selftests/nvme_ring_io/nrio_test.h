/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the nvme_ring_io kselftests: open and set up a
 * context, map it, and issue descriptors through the rings.
 */
#ifndef NRIO_TEST_H
#define NRIO_TEST_H

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include <linux/nvme_ring_io.h>
#include <linux/unified_io_region.h>

#include "../../../lib/nvme_ring_io/nrio_ring.h"

/*
 * The test VM's namespaces by NSID (its init makes these links, since the
 * kernel probes namespaces in parallel and nvme0n1 need not be NSID 1):
 * NSID 1 has 512-byte and NSID 2 4096-byte logical blocks.
 */
#define NS1_BLK		"/dev/nrio/ns1"
#define NS2_BLK		"/dev/nrio/ns2"
#define NS1_CHR		"/dev/nrio/ng1"
#define NS2_CHR		"/dev/nrio/ng2"

#define MiB		(1024ULL * 1024)

struct nt_ctx {
	int fd;
	int nvme_fd;
	struct nvme_ring_io_setup s;
	struct nvme_ring_io_info info;
	void *region;
	unsigned char *data;
	struct nrio_ring sq;
	struct nrio_ring cq;
	__u32 lba;
};

static inline int nt_have(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Write @val to a sysfs/configfs/debugfs file: 0 or -errno. */
static inline int nt_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static inline void nt_setup_args(struct nvme_ring_io_setup *s, int nvme_fd,
				 __u32 sq, __u32 cq, __u64 data_size)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->sq_entries = sq;
	s->cq_entries = cq;
	s->data_size = data_size;
	s->nvme_fd = nvme_fd;
	s->numa_node = -1;
}

static inline int nt_info(int fd, struct nvme_ring_io_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(fd, NVME_RING_IO_INFO, info) ? -errno : 0;
}

/*
 * Open a context on @dev (opened with @oflags), set it up with SETUP
 * flags @flags and map it.
 */
static inline int nt_open_flags(struct nt_ctx *c, const char *dev, int oflags,
				__u32 sq, __u32 cq, __u64 data_size,
				__u32 flags)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->nvme_fd = open(dev, oflags | O_CLOEXEC);
	if (c->nvme_fd < 0)
		return -errno;
	c->fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		ret = -errno;
		close(c->nvme_fd);
		return ret;
	}
	nt_setup_args(&c->s, c->nvme_fd, sq, cq, data_size);
	c->s.flags = flags;
	if (ioctl(c->fd, NVME_RING_IO_SETUP, &c->s))
		goto fail;
	c->region = mmap(NULL, c->s.off.region_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, c->fd, 0);
	if (c->region == MAP_FAILED)
		goto fail;
	c->data = (unsigned char *)c->region + c->s.off.data;
	nrio_ring_init(&c->sq, c->region, &c->s.off.sq);
	nrio_ring_init(&c->cq, c->region, &c->s.off.cq);
	ret = nt_info(c->fd, &c->info);
	if (ret)
		return ret;
	c->lba = c->info.lba_size;
	return 0;
fail:
	ret = -errno;
	close(c->fd);
	close(c->nvme_fd);
	c->region = NULL;
	return ret;
}

/* Open a context on @dev (opened with @oflags), set it up and map it. */
static inline int nt_open(struct nt_ctx *c, const char *dev, int oflags,
			  __u32 sq, __u32 cq, __u64 data_size)
{
	return nt_open_flags(c, dev, oflags, sq, cq, data_size, 0);
}

static inline void nt_close(struct nt_ctx *c)
{
	if (c->region)
		munmap(c->region, c->s.off.region_size);
	if (c->fd >= 0)
		close(c->fd);
	if (c->nvme_fd >= 0)
		close(c->nvme_fd);
	c->region = NULL;
	c->fd = c->nvme_fd = -1;
}

static inline int nt_submit(struct nt_ctx *c, __u32 n)
{
	struct nvme_ring_io_submit s = { .to_submit = n };
	int ret = ioctl(c->fd, NVME_RING_IO_SUBMIT, &s);

	return ret < 0 ? -errno : ret;
}

static inline int nt_wait(struct nt_ctx *c, __u32 min, __s64 timeout_ns)
{
	struct nvme_ring_io_complete w = {
		.min_complete = min,
		.timeout_ns = timeout_ns,
	};
	int ret = ioctl(c->fd, NVME_RING_IO_COMPLETE, &w);

	return ret < 0 ? -errno : ret;
}

static inline void nt_prep(struct nvme_ring_io_sqe *sqe, __u8 op, __u64 slba,
			   __u32 nlb, __u64 off, __u32 len, __u64 user_data)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op;
	sqe->cdw10 = (__u32)slba;
	sqe->cdw11 = (__u32)(slba >> 32);
	sqe->cdw12 = nlb ? nlb - 1 : 0;
	sqe->data_off = off;
	sqe->data_len = len;
	sqe->user_data = user_data;
}

/* Queue one read/write of @nlb blocks at @slba from data offset @off. */
static inline int nt_queue_rw(struct nt_ctx *c, __u8 op, __u64 slba,
			      __u32 nlb, __u64 off, __u64 user_data)
{
	__u32 idx;

	if (nrio_ring_reserve(&c->sq, 1, &idx) != 1)
		return -ENOSPC;
	nt_prep(nrio_sqe(&c->sq, idx), op, slba, nlb, off, nlb * c->lba,
		user_data);
	nrio_ring_submit(&c->sq, 1);
	return 0;
}

/* Reap one CQ entry, waiting for it; returns 0 and fills *cqe. */
static inline int nt_reap(struct nt_ctx *c, struct nvme_ring_io_cqe *cqe)
{
	__u32 idx;
	int ret;

	while (nrio_ring_peek(&c->cq, 1, &idx) != 1) {
		ret = nt_wait(c, 1, 10LL * 1000 * 1000 * 1000);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -ENOENT;
	}
	*cqe = *nrio_cqe(&c->cq, idx);
	nrio_ring_release(&c->cq, 1);
	return 0;
}

/* Submit what is queued and reap exactly one completion: its res. */
static inline int nt_sqe_sync(struct nt_ctx *c, const struct nvme_ring_io_sqe *in,
			      struct nvme_ring_io_cqe *out)
{
	struct nvme_ring_io_cqe cqe;
	__u32 idx;
	int ret;

	if (nrio_ring_reserve(&c->sq, 1, &idx) != 1)
		return -ENOSPC;
	*nrio_sqe(&c->sq, idx) = *in;
	nrio_ring_submit(&c->sq, 1);
	ret = nt_submit(c, 0);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = nt_reap(c, &cqe);
	if (ret)
		return ret;
	if (out)
		*out = cqe;
	return cqe.res;
}

static inline int nt_rw_sync(struct nt_ctx *c, __u8 op, __u64 slba, __u32 nlb,
			     __u64 off)
{
	struct nvme_ring_io_sqe sqe;

	nt_prep(&sqe, op, slba, nlb, off, nlb * c->lba, slba ^ 0x5a5a);
	return nt_sqe_sync(c, &sqe, NULL);
}

/* A pattern that names its position, so misplaced data shows. */
static inline void nt_fill(void *buf, size_t len, __u64 seed)
{
	__u64 *p = (__u64 *)buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		p[i] = (seed * 0x9e3779b97f4a7c15ULL) ^ (i * 0x100000001b3ULL);
}

static inline int nt_check(const void *buf, size_t len, __u64 seed)
{
	const __u64 *p = (const __u64 *)buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (p[i] != ((seed * 0x9e3779b97f4a7c15ULL) ^
			     (i * 0x100000001b3ULL)))
			return -1;
	return 0;
}

/* Unified descriptors: an NVMe READ/WRITE of @nlb blocks at @slba. */
static inline void uni_prep_rw(struct unified_io_sqe *sqe, __u8 op, __u64 slba,
			__u32 nlb, __u64 off, __u32 len, __u64 ud, bool link)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->type = UNIFIED_IO_TYPE_NVME;
	sqe->flags = link ? UNIFIED_IO_SQE_F_LINK : 0;
	sqe->data_off = off;
	sqe->data_len = len;
	sqe->user_data = ud;
	sqe->cmd.nvme.opcode = op;
	sqe->cmd.nvme.cdw10 = (__u32)slba;
	sqe->cmd.nvme.cdw11 = (__u32)(slba >> 32);
	sqe->cmd.nvme.cdw12 = nlb - 1;
}

/* A BPF step: the program in @slot over [@off, @off + @len). */
static inline void uni_prep_bpf(struct unified_io_sqe *sqe, __u32 slot,
				__u64 off, __u32 len, __u64 arg, __u64 ud,
				bool link)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->type = UNIFIED_IO_TYPE_BPF;
	sqe->flags = link ? UNIFIED_IO_SQE_F_LINK : 0;
	sqe->data_off = off;
	sqe->data_len = len;
	sqe->user_data = ud;
	sqe->cmd.bpf.slot = slot;
	sqe->cmd.bpf.arg = arg;
}

/* The module's reference count, -1 if it cannot be read. */
static inline int nt_mod_refcnt(void)
{
	FILE *f = fopen("/sys/module/nvme_ring_io/refcnt", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * The module's references once contexts closed a moment ago are gone (a
 * context's last reference may drop from a work item): unchanged for
 * 50 ms, within two seconds.
 */
static inline int nt_refcnt_settled(void)
{
	int i, n = nt_mod_refcnt(), m;

	for (i = 0; i < 40; i++) {
		usleep(50000);
		m = nt_mod_refcnt();
		if (m == n)
			break;
		n = m;
	}
	return n;
}

/* The module's references back at @want (or below) within @ms. */
static inline bool nt_refcnt_settles(int want, int ms)
{
	int i;

	for (i = 0; i < ms / 10; i++) {
		if (nt_mod_refcnt() <= want)
			return true;
		usleep(10000);
	}
	return false;
}

/* A socket step on the socket in slot @sock over [@off, @off + @len). */
static inline void uni_prep_net(struct unified_io_sqe *sqe, bool send,
				__u32 sock, __u64 off, __u32 len,
				__u32 msg_flags, __u64 ud, bool link)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->type = send ? UNIFIED_IO_TYPE_NET_SEND : UNIFIED_IO_TYPE_NET_RECV;
	sqe->flags = link ? UNIFIED_IO_SQE_F_LINK : 0;
	sqe->data_off = off;
	sqe->data_len = len;
	sqe->user_data = ud;
	sqe->cmd.net.sock = sock;
	sqe->cmd.net.msg_flags = msg_flags;
}

/* Sockets over loopback, for the NET descriptors of the unified device. */
static inline void nt_lo_up(void)
{
	static bool done;

	if (!done && system("ip link set lo up 2>/dev/null")) {
		/* Already up, or no ip(8): the socket calls will tell. */
	}
	done = true;
}

/*
 * Receive what a NET_SEND step sent to @fd.  Its CQE says the kernel took
 * the bytes, not that the peer has them: on loopback the datagram may sit
 * in a softirq backlog (ksoftirqd) for a while.  Wait up to 10 s.
 */
static inline ssize_t nt_recv_sent(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1)
		return -1;
	return recv(fd, buf, len, MSG_DONTWAIT);
}

/* A connected pair over 127.0.0.1: *mine for the context, *peer ours. */
static inline int nt_sock_pair(int type, int *mine, int *peer)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l, s, p;

	nt_lo_up();
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (type == SOCK_DGRAM) {
		struct sockaddr_in b = a;
		socklen_t blen = sizeof(b);

		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		p = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s < 0 || p < 0 ||
		    bind(s, (struct sockaddr *)&a, sizeof(a)) ||
		    bind(p, (struct sockaddr *)&b, sizeof(b)) ||
		    getsockname(s, (struct sockaddr *)&a, &len) ||
		    getsockname(p, (struct sockaddr *)&b, &blen) ||
		    connect(s, (struct sockaddr *)&b, sizeof(b)) ||
		    connect(p, (struct sockaddr *)&a, sizeof(a)))
			return -errno;
		*mine = s;
		*peer = p;
		return 0;
	}
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len))
		return -errno;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		return -errno;
	p = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (p < 0)
		return -errno;
	close(l);
	*mine = s;
	*peer = p;
	return 0;
}

/* Take CAP_SYS_ADMIN out of every set of this (root) process. */
static inline int nt_drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	int i;

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0))
		return -1;
	if (syscall(SYS_capget, &h, d))
		return -1;
	for (i = 0; i < 2; i++) {
		__u32 bit = CAP_SYS_ADMIN / 32 == i ?
			    1U << (CAP_SYS_ADMIN % 32) : 0;

		d[i].effective &= ~bit;
		d[i].permitted &= ~bit;
		d[i].inheritable &= ~bit;
	}
	if (syscall(SYS_capset, &h, d))
		return -1;
	/* Still root otherwise: CAP_SYS_ADMIN alone is gone. */
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0 ||
	    prctl(PR_CAPBSET_READ, CAP_DAC_OVERRIDE, 0, 0, 0) != 1 ||
	    getuid() != 0)
		return -1;
	return 0;
}

#endif /* NRIO_TEST_H */
