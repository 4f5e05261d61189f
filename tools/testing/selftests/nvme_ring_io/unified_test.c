// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/unified_io_region: SETUP and its errors, INFO, NVMe descriptors at
 * DMA-aligned offsets, links (chains that run in order, fail part-way and
 * cancel the rest, wait for their end, for CQ room, or fill the ring),
 * descriptor errors, and teardown with chains in flight.
 */
#include <net/if.h>

#include <liburing.h>
#include <linux/unified_io_region.h>

#include "nrio_unified_test.h"

#include "kselftest_harness.h"

/* --- the device and SETUP ------------------------------------------------ */

TEST(device_node)
{
	struct unified_io_info info;
	struct nvme_ring_io_submit sub = { 0 };
	struct stat st;
	int fd, nfd;

	ASSERT_EQ(0, stat(UNIFIED_IO_DEVPATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 0777);

	fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, uni_info(fd, &info));
	EXPECT_EQ(UNIFIED_IO_ABI_VERSION, info.abi_version);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(UNIFIED_IO_FEAT_NVME | UNIFIED_IO_FEAT_LINK |
		  UNIFIED_IO_FEAT_NET, info.features &
		  ~(UNIFIED_IO_FEAT_BPF | UNIFIED_IO_FEAT_BPF_READ_NEXT));
	/* BPF wherever the kernel has BTF (bpf_test covers it). */
	EXPECT_EQ(!access("/sys/kernel/btf/vmlinux", F_OK),
		  !!(info.features & UNIFIED_IO_FEAT_BPF));
	/* Read-next steps exactly where BPF runs (bpf_chain_test). */
	EXPECT_EQ(!!(info.features & UNIFIED_IO_FEAT_BPF),
		  !!(info.features & UNIFIED_IO_FEAT_BPF_READ_NEXT));
	EXPECT_EQ(sizeof(info), info.size);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, UNIFIED_IO_SUBMIT, &sub));
	EXPECT_EQ(EBADFD, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, fd,
				   0));
	/* The commands of one device are ENOTTY on the other. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_SUBMIT, &sub));
	EXPECT_EQ(ENOTTY, errno);
	nfd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nfd);
	errno = 0;
	EXPECT_EQ(-1, ioctl(nfd, UNIFIED_IO_INFO, &info));
	EXPECT_EQ(ENOTTY, errno);
	close(nfd);
	close(fd);
}

FIXTURE(bad_setup) {
	int fd;
	int nvme_fd;
	struct unified_io_setup s;
};

FIXTURE_VARIANT(bad_setup) {
	void (*mutate)(struct unified_io_setup *s);
	int err;
};

#define BAD_SETUP(name, errno_, body)					\
	static void mutate_##name(struct unified_io_setup *s) { body; }	\
	FIXTURE_VARIANT_ADD(bad_setup, name) {				\
		.mutate = mutate_##name, .err = errno_,			\
	}

BAD_SETUP(size_short, EINVAL, s->size = sizeof(*s) - 8);
BAD_SETUP(size_over_max, E2BIG, s->size = NVME_RING_IO_MAX_STRUCT_SIZE + 1);
BAD_SETUP(flags_unknown, EINVAL, s->flags = 2);
BAD_SETUP(resv_set, EINVAL, s->resv[2] = 1);
BAD_SETUP(sq_zero, EINVAL, s->sq_entries = 0);
BAD_SETUP(sq_not_pow2, EINVAL, s->sq_entries = 24);
BAD_SETUP(cq_below_sq, EINVAL, s->cq_entries = 8);
BAD_SETUP(sq_max_cq_default, E2BIG, s->sq_entries = 32768);
BAD_SETUP(region_zero, EINVAL, s->region_size = 0);
BAD_SETUP(region_unaligned, EINVAL, s->region_size = DATA + 512);
BAD_SETUP(region_over_cap, E2BIG, s->region_size = 1024 * MiB + 4096);
BAD_SETUP(numa_bad, EINVAL, s->numa_node = -2);
BAD_SETUP(fd_not_open, EBADF, s->nvme_fd = 999);
BAD_SETUP(fd_minus_two, EBADF, s->nvme_fd = -2);
BAD_SETUP(no_such_interface, ENODEV, s->net_ifindex = 99999);
BAD_SETUP(rxq_without_interface, EINVAL, s->net_rxq = 1);
BAD_SETUP(rxq_lo_has_one, EINVAL,
	  s->net_ifindex = if_nametoindex("lo"); s->net_rxq = 1);
BAD_SETUP(frame_small, EINVAL, s->frame_size = 1024);
BAD_SETUP(frame_not_pow2, EINVAL, s->frame_size = 3072);
BAD_SETUP(frame_over_huge, EINVAL, s->frame_size = 4 * MiB);
BAD_SETUP(frames_do_not_tile, EINVAL,
	  s->frame_size = 2 * MiB; s->region_size = 3 * MiB);
BAD_SETUP(headroom_without_frames, EINVAL, s->frame_headroom = 64);
BAD_SETUP(headroom_too_big, EINVAL,
	  s->frame_size = 4096; s->frame_headroom = 4096 - 256);
BAD_SETUP(headroom_frame_size, EINVAL,
	  s->frame_size = 4096; s->frame_headroom = 4096);
/* Every EINVAL of the struct comes before any E2BIG. */
BAD_SETUP(frame_bad_and_region_huge, EINVAL,
	  s->frame_size = 3000; s->region_size = 1ULL << 40);

FIXTURE_SETUP(bad_setup)
{
	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	self->nvme_fd = open(NS1_BLK, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nvme_fd);
	self->fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	uni_args(&self->s, self->nvme_fd, 16, 0, DATA);
}

FIXTURE_TEARDOWN(bad_setup)
{
	close(self->fd);
	close(self->nvme_fd);
}

TEST_F(bad_setup, rejected)
{
	struct unified_io_info info;

	variant->mutate(&self->s);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, UNIFIED_IO_SETUP, &self->s));
	EXPECT_EQ(variant->err, errno);
	/* A failed SETUP leaves the context as it was. */
	ASSERT_EQ(0, uni_info(self->fd, &info));
	EXPECT_EQ(0, info.flags);
	uni_args(&self->s, self->nvme_fd, 16, 0, DATA);
	EXPECT_EQ(0, ioctl(self->fd, UNIFIED_IO_SETUP, &self->s));
}

TEST(not_a_namespace)
{
	struct unified_io_setup s;
	int fd, nfd;

	nfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nfd);
	ASSERT_LE(0, fd);
	uni_args(&s, nfd, 16, 0, DATA);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, UNIFIED_IO_SETUP, &s));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
	close(nfd);
}

/* No namespace, an interface and frames: what INFO reports. */
TEST(region_without_namespace)
{
	struct unified_io_sqe sqe;
	struct uni u;

	memset(&u, 0, sizeof(u));
	u.nvme_fd = -1;
	u.fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, u.fd);
	uni_args(&u.s, -1, 8, 0, 8 * MiB);
	u.s.net_ifindex = if_nametoindex("lo");
	ASSERT_NE(0, u.s.net_ifindex);
	u.s.frame_size = 4096;
	u.s.frame_headroom = 256;
	ASSERT_EQ(0, uni_start(&u));
	EXPECT_EQ(UNIFIED_IO_INFO_F_SETUP | UNIFIED_IO_INFO_F_NET,
		  u.info.flags);
	EXPECT_EQ(u.s.net_ifindex, u.info.net_ifindex);
	EXPECT_EQ(0, u.info.net_rxq);
	EXPECT_EQ(4096, u.info.frame_size);
	EXPECT_EQ(256, u.info.frame_headroom);
	EXPECT_EQ(8 * MiB / 4096, u.info.nr_frames);
	EXPECT_EQ(8 * MiB, u.info.data_size);
	EXPECT_EQ(u.s.off.region_size, u.info.region_size);
	EXPECT_EQ(128, u.s.off.sq.desc_size);
	EXPECT_EQ(32, u.s.off.cq.desc_size);
	EXPECT_EQ(16, u.s.off.cq.entries);
	EXPECT_EQ(0, u.info.nsid);
	EXPECT_LE(u.info.huge_bytes, u.info.region_size);
	TH_LOG("%llu of %llu region bytes in 2 MiB folios",
	       (unsigned long long)u.info.huge_bytes,
	       (unsigned long long)u.info.region_size);
	/* An NVMe descriptor has no namespace to go to. */
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, 0, 1, 0, 512, 1, false);
	EXPECT_EQ(-ENXIO, uni_sync(&u, &sqe));
	/* A second SETUP: EBUSY. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(u.fd, UNIFIED_IO_SETUP, &u.s));
	EXPECT_EQ(EBUSY, errno);
	uni_close(&u);
}

/* --- io_uring commands -------------------------------------------------- */

/*
 * IORING_OP_URING_CMD @op on @fd with the 16-byte payload @pl: its res.
 * (A plain ring: 64-byte SQEs, 16 bytes of payload.)
 */
static int uring_cmd_res(__u32 op, int fd, const void *pl)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		return -1000 + ret;
	sqe = io_uring_get_sqe(&ring);
	if (!sqe)
		abort();
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	memcpy(sqe->cmd, pl, 16);
	ret = io_uring_submit_and_wait(&ring, 1);
	if (ret == 1)
		ret = io_uring_wait_cqe(&ring, &cqe);
	else
		ret = -2000;
	if (!ret) {
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return ret;
}

/*
 * An unknown cmd_op is EOPNOTSUPP on both devices, set up or not, whatever
 * its payload holds: the payload is a known command's to check.  A known
 * one with a bad payload is EINVAL, before SETUP EBADFD.
 */
TEST(uring_unknown_cmd_op)
{
	static const __u32 ops[] = {
		0, 1, 0xdead, NVME_RING_IO_URING_WAIT + 1,
		_IOR(0xBA, 0x10, struct nvme_ring_io_uring_cmd),
		UNIFIED_IO_URING_BPF + 1, UNIFIED_IO_URING_BPF - 1,
	};
	struct nvme_ring_io_uring_cmd zero = { 0 }, junk = {
		.count = 1, .flags = ~0U, .resv = ~0ULL,
	};
	const char *devs[] = { UNIFIED_IO_DEVPATH, NVME_RING_IO_DEVPATH };
	struct uni u;
	unsigned int d, i;
	int fd;

	/* Before SETUP. */
	for (d = 0; d < 2; d++) {
		fd = open(devs[d], O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		for (i = 0; i < ARRAY_SIZE(ops); i++) {
			EXPECT_EQ(-EOPNOTSUPP, uring_cmd_res(ops[i], fd, &junk)) {
				TH_LOG("%s, cmd_op %#x", devs[d], ops[i]);
			}
		}
		EXPECT_EQ(-EBADFD, uring_cmd_res(NVME_RING_IO_URING_SUBMIT, fd,
						 &zero));
		close(fd);
	}

	/* A set-up unified context (no namespace needed). */
	ASSERT_EQ(0, uni_open(&u, NULL, 0, 8, 0, 2 * MiB));
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		EXPECT_EQ(-EOPNOTSUPP, uring_cmd_res(ops[i], u.fd, &junk)) {
			TH_LOG("set up, cmd_op %#x, payload not zero", ops[i]);
		}
		EXPECT_EQ(-EOPNOTSUPP, uring_cmd_res(ops[i], u.fd, &zero)) {
			TH_LOG("set up, cmd_op %#x, payload zero", ops[i]);
		}
	}
	/* The known ones check their payload. */
	EXPECT_EQ(-EINVAL, uring_cmd_res(NVME_RING_IO_URING_SUBMIT, u.fd,
					 &junk));
	EXPECT_EQ(-EINVAL, uring_cmd_res(NVME_RING_IO_URING_WAIT, u.fd,
					 &junk));
	EXPECT_EQ(0, uring_cmd_res(NVME_RING_IO_URING_SUBMIT, u.fd, &zero));
	uni_close(&u);
}

/* --- NVMe descriptors ---------------------------------------------------- */

FIXTURE(nvme) {
	struct uni u;
	const char *dev;
};

FIXTURE_VARIANT(nvme) {
	const char *dev;
	__u64 base;		/* a scratch LBA range of its own, bytes */
};

FIXTURE_VARIANT_ADD(nvme, ns1) { .dev = NS1_BLK, .base = 96 * MiB };
FIXTURE_VARIANT_ADD(nvme, ns2) { .dev = NS2_BLK, .base = 104 * MiB };

FIXTURE_SETUP(nvme)
{
	if (!nt_have(variant->dev))
		SKIP(return, "no %s", variant->dev);
	ASSERT_EQ(0, uni_open(&self->u, variant->dev, O_RDWR, 64, 0, DATA));
	ASSERT_EQ(UNIFIED_IO_INFO_F_SETUP | UNIFIED_IO_INFO_F_NVME |
		  UNIFIED_IO_INFO_F_READ | UNIFIED_IO_INFO_F_WRITE,
		  self->u.info.flags);
}

FIXTURE_TEARDOWN(nvme)
{
	uni_close(&self->u);
}

static __u64 slba_of(const struct uni *u, __u64 base, __u64 byte)
{
	return (base + byte) / u->lba;
}

/*
 * Data at a 4-byte aligned offset goes to the device and back with no
 * copy, and the device holds exactly those bytes (checked with O_DIRECT).
 */
TEST_F(nvme, dma_aligned_offsets)
{
	struct uni *u = &self->u;
	__u64 slba = slba_of(u, variant->base, 0);
	__u32 len = 2 * u->lba;
	struct unified_io_sqe sqe;
	struct unified_io_info info;
	void *buf;
	int bfd;

	EXPECT_EQ(4, u->info.dma_alignment);
	nt_fill(u->data + 44, len, 11);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_WRITE, slba, 2, 44, len, 1, false);
	ASSERT_EQ(len, uni_sync(u, &sqe));
	memset(u->data + MiB + 4, 0, len);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, slba, 2, MiB + 4, len, 2,
		    false);
	ASSERT_EQ(len, uni_sync(u, &sqe));
	EXPECT_EQ(0, nt_check(u->data + MiB + 4, len, 11));

	bfd = open(variant->dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(0, posix_memalign(&buf, 4096, len));
	ASSERT_EQ(len, pread(bfd, buf, len, slba * u->lba));
	EXPECT_EQ(0, memcmp(buf, u->data + 44, len));
	free(buf);
	close(bfd);

	/* Across a huge folio: the last 44 bytes of the first 2 MiB on. */
	nt_fill(u->data + 2 * MiB - 44, len, 12);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_WRITE, slba + 2, 2, 2 * MiB - 44,
		    len, 3, false);
	ASSERT_EQ(len, uni_sync(u, &sqe));
	memset(u->data + 12, 0, len);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, slba + 2, 2, 12, len, 4,
		    false);
	ASSERT_EQ(len, uni_sync(u, &sqe));
	EXPECT_EQ(0, nt_check(u->data + 12, len, 12));

	/* Below the DMA alignment: refused, never bounced. */
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, slba, 1, 2, u->lba, 5, false);
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	uni_prep_rw(&sqe, NVME_RING_IO_OP_WRITE, slba, 1, 4097, u->lba, 6,
		    false);
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	/* The length stays a multiple of the LBA size. */
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, slba, 1, 44, u->lba - 4, 7,
		    false);
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));

	ASSERT_EQ(0, uni_info(u->fd, &info));
	EXPECT_EQ(4 * len, info.bytes_zero_copy);
	EXPECT_EQ(0, info.bytes_copied);
	EXPECT_EQ(3, info.counters.sq_invalid);
	EXPECT_EQ(7, info.counters.submitted);
}

/* Descriptor fields of the unified layout, each with its errno. */
TEST_F(nvme, bad_descriptors)
{
	struct uni *u = &self->u;
	struct unified_io_sqe sqe, good;

	uni_prep_rw(&good, NVME_RING_IO_OP_READ, 0, 1, 0, u->lba, 9, false);
	ASSERT_EQ(u->lba, uni_sync(u, &good));

	sqe = good;
	sqe.type = 0;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	sqe = good;
	sqe.type = 9;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	sqe = good;
	sqe.flags = 2;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	sqe = good;
	sqe.resv1 = 1;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	sqe = good;
	sqe.resv2 = 1;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	sqe = good;
	sqe.cmd.nvme.resv1[2] = 1;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	sqe = good;
	sqe.cmd.nvme.resv2 = 1;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	sqe = good;
	sqe.cmd.raw[8] = 1;		/* past every type's struct */
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	sqe = good;
	sqe.cmd.raw[11] = 1;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	sqe = good;
	sqe.cmd.nvme.timeout_ms = 10;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	sqe = good;
	sqe.cmd.nvme.opcode = 0x05;		/* Compare: passthrough only */
	EXPECT_EQ(-EOPNOTSUPP, uni_sync(u, &sqe));
	sqe = good;
	sqe.data_off = DATA;
	EXPECT_EQ(-EFAULT, uni_sync(u, &sqe));
	sqe = good;
	sqe.cmd.nvme.cdw10 = ~0U;
	sqe.cmd.nvme.cdw11 = ~0U;
	EXPECT_EQ(-ERANGE, uni_sync(u, &sqe));
	/*
	 * An NVMe command under a NET type is read as the socket step it
	 * now is: slot 2 (the READ opcode's byte) holds no socket.
	 */
	sqe = good;
	sqe.type = UNIFIED_IO_TYPE_NET_SEND;
	EXPECT_EQ(-ENOENT, uni_sync(u, &sqe));
	sqe = good;
	sqe.type = UNIFIED_IO_TYPE_NET_RECV;
	EXPECT_EQ(-ENOENT, uni_sync(u, &sqe));
	sqe = good;
	sqe.type = 5;				/* no such type */
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	/* The ring goes on. */
	EXPECT_EQ(u->lba, uni_sync(u, &good));
}

/* WRITE -> READ -> FLUSH in one SUBMIT: in order, the data round-trips. */
TEST_F(nvme, chain_runs_in_order)
{
	struct uni *u = &self->u;
	__u64 slba = slba_of(u, variant->base, 1 * MiB);
	struct nvme_ring_io_cqe cqe[3];
	struct unified_io_info info;
	__u32 idx = uni_reserve(u, 3);

	nt_fill(u->data, 4096, 21);
	memset(u->data + MiB, 0, 4096);
	uni_prep_rw(uni_sqe(u, idx), NVME_RING_IO_OP_WRITE, slba,
		    4096 / u->lba, 0, 4096, 100, true);
	uni_prep_rw(uni_sqe(u, idx + 1), NVME_RING_IO_OP_READ, slba,
		    4096 / u->lba, MiB, 4096, 101, true);
	memset(uni_sqe(u, idx + 2), 0, sizeof(struct unified_io_sqe));
	uni_sqe(u, idx + 2)->type = UNIFIED_IO_TYPE_NVME;
	uni_sqe(u, idx + 2)->cmd.nvme.opcode = NVME_RING_IO_OP_FLUSH;
	uni_sqe(u, idx + 2)->user_data = 102;
	nrio_ring_submit(&u->sq, 3);
	ASSERT_EQ(3, uni_submit(u));
	ASSERT_EQ(0, uni_reap(u, cqe, 3));
	EXPECT_EQ(100, cqe[0].user_data);
	EXPECT_EQ(4096, cqe[0].res);
	EXPECT_EQ(101, cqe[1].user_data);
	EXPECT_EQ(4096, cqe[1].res);
	EXPECT_EQ(102, cqe[2].user_data);
	EXPECT_EQ(0, cqe[2].res);
	EXPECT_EQ(0, nt_check(u->data + MiB, 4096, 21));
	ASSERT_EQ(0, uni_info(u->fd, &info));
	EXPECT_EQ(1, info.chains);
	EXPECT_EQ(0, info.canceled);
	EXPECT_EQ(0, info.inflight);
}

/* A failure in the middle cancels the rest; the ring goes on. */
TEST_F(nvme, chain_failure_cancels_the_rest)
{
	struct uni *u = &self->u;
	__u64 slba = slba_of(u, variant->base, 2 * MiB);
	struct nvme_ring_io_cqe cqe[5];
	struct unified_io_info info;
	struct unified_io_sqe sqe;
	__u32 idx = uni_reserve(u, 5), i;

	nt_fill(u->data, u->lba, 31);
	uni_prep_rw(uni_sqe(u, idx), NVME_RING_IO_OP_WRITE, slba, 1, 0,
		    u->lba, 200, true);
	/* Past the end of the namespace: ERANGE. */
	uni_prep_rw(uni_sqe(u, idx + 1), NVME_RING_IO_OP_READ, ~0ULL >> 1, 1,
		    0, u->lba, 201, true);
	uni_prep_rw(uni_sqe(u, idx + 2), NVME_RING_IO_OP_READ, slba, 1, 0,
		    u->lba, 202, true);
	uni_prep_rw(uni_sqe(u, idx + 3), NVME_RING_IO_OP_WRITE, slba, 1, 0,
		    u->lba, 203, false);
	/* A single descriptor after the chain is not part of it. */
	uni_prep_rw(uni_sqe(u, idx + 4), NVME_RING_IO_OP_READ, slba, 1,
		    u->lba, u->lba, 204, false);
	nrio_ring_submit(&u->sq, 5);
	ASSERT_EQ(5, uni_submit(u));
	ASSERT_EQ(0, uni_reap(u, cqe, 5));
	/* The single read may finish before the chain: sort by user_data. */
	for (i = 0; i < 5; i++) {
		switch (cqe[i].user_data) {
		case 200: EXPECT_EQ(u->lba, cqe[i].res); break;
		case 201: EXPECT_EQ(-ERANGE, cqe[i].res); break;
		case 202: EXPECT_EQ(-ECANCELED, cqe[i].res); break;
		case 203: EXPECT_EQ(-ECANCELED, cqe[i].res); break;
		case 204: EXPECT_EQ(u->lba, cqe[i].res); break;
		default: EXPECT_TRUE(0) TH_LOG("user_data %llu",
				(unsigned long long)cqe[i].user_data);
		}
	}
	ASSERT_EQ(0, uni_info(u->fd, &info));
	EXPECT_EQ(2, info.canceled);
	EXPECT_EQ(1, info.counters.sq_invalid);
	EXPECT_EQ(0, info.inflight);

	/* A bad descriptor of another type fails a chain just the same. */
	idx = uni_reserve(u, 3);
	uni_prep_rw(uni_sqe(u, idx), NVME_RING_IO_OP_READ, slba, 1, 0,
		    u->lba, 300, true);
	uni_prep_rw(uni_sqe(u, idx + 1), NVME_RING_IO_OP_READ, slba, 1, 0,
		    u->lba, 301, true);
	uni_sqe(u, idx + 1)->type = UNIFIED_IO_TYPE_NET_SEND;
	uni_prep_rw(uni_sqe(u, idx + 2), NVME_RING_IO_OP_READ, slba, 1, 0,
		    u->lba, 302, false);
	nrio_ring_submit(&u->sq, 3);
	ASSERT_EQ(3, uni_submit(u));
	ASSERT_EQ(0, uni_reap(u, cqe, 3));
	EXPECT_EQ(300, cqe[0].user_data);
	EXPECT_EQ(u->lba, cqe[0].res);
	EXPECT_EQ(301, cqe[1].user_data);
	EXPECT_EQ(-EINVAL, cqe[1].res);
	EXPECT_EQ(302, cqe[2].user_data);
	EXPECT_EQ(-ECANCELED, cqe[2].res);

	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, slba, 1, 0, u->lba, 9, false);
	EXPECT_EQ(u->lba, uni_sync(u, &sqe));
	EXPECT_EQ(0, nt_check(u->data, u->lba, 31));
}

/* A chain whose end is not published yet stays in the SQ. */
TEST_F(nvme, chain_waits_for_its_end)
{
	struct uni *u = &self->u;
	__u64 slba = slba_of(u, variant->base, 3 * MiB);
	struct nvme_ring_io_cqe cqe[4];
	__u32 idx = uni_reserve(u, 4), i;

	for (i = 0; i < 4; i++)
		uni_prep_rw(uni_sqe(u, idx + i), NVME_RING_IO_OP_READ,
			    slba + i, 1, i * u->lba, u->lba, 400 + i, i < 3);
	/* One single read, then two steps of a three-step chain. */
	uni_sqe(u, idx)->flags = 0;
	nrio_ring_submit(&u->sq, 3);
	EXPECT_EQ(1, uni_submit(u));
	ASSERT_EQ(0, uni_reap(u, cqe, 1));
	EXPECT_EQ(400, cqe[0].user_data);
	EXPECT_EQ(0, uni_submit(u));
	EXPECT_EQ(1, *u->sq.consumer);
	nrio_ring_submit(&u->sq, 1);
	EXPECT_EQ(3, uni_submit(u));
	ASSERT_EQ(0, uni_reap(u, cqe, 3));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(401 + i, cqe[i].user_data);
		EXPECT_EQ(u->lba, cqe[i].res);
	}
}

/* A chain is consumed only when the CQ has room for all of it. */
TEST_F(nvme, chain_needs_cq_room)
{
	struct nvme_ring_io_cqe cqe[8];
	struct unified_io_info info;
	__u64 cq_full;
	struct uni u;
	__u32 idx, i;

	uni_close(&self->u);
	ASSERT_EQ(0, uni_open(&u, variant->dev, O_RDWR, 8, 8, DATA));
	/* Six completions left in the CQ: two slots free. */
	idx = uni_reserve(&u, 6);
	for (i = 0; i < 6; i++)
		uni_prep_rw(uni_sqe(&u, idx + i), NVME_RING_IO_OP_READ, i, 1,
			    i * u.lba, u.lba, i, false);
	nrio_ring_submit(&u.sq, 6);
	ASSERT_EQ(6, uni_submit(&u));
	ASSERT_EQ(6, uni_wait(&u, 6, 10LL * 1000 * 1000 * 1000));
	ASSERT_EQ(0, uni_info(u.fd, &info));
	cq_full = info.counters.cq_full;

	/* A chain of three does not fit: none of it is consumed. */
	idx = uni_reserve(&u, 3);
	for (i = 0; i < 3; i++)
		uni_prep_rw(uni_sqe(&u, idx + i), NVME_RING_IO_OP_READ, i, 1,
			    i * u.lba, u.lba, 10 + i, i < 2);
	nrio_ring_submit(&u.sq, 3);
	EXPECT_EQ(0, uni_submit(&u));
	ASSERT_EQ(0, uni_info(u.fd, &info));
	EXPECT_EQ(cq_full + 1, info.counters.cq_full);
	EXPECT_EQ(6, *u.sq.consumer);

	/* Reaping makes room for all of it. */
	ASSERT_EQ(0, uni_reap(&u, cqe, 6));
	EXPECT_EQ(3, uni_submit(&u));
	ASSERT_EQ(0, uni_reap(&u, cqe, 3));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(10 + i, cqe[i].user_data);
		EXPECT_EQ(u.lba, cqe[i].res);
	}
	uni_close(&u);
}

/* Linked descriptors that fill the whole ring and never end: EINVAL. */
TEST_F(nvme, endless_chain_fills_the_ring)
{
	struct nvme_ring_io_cqe cqe[8];
	struct unified_io_sqe sqe;
	struct uni u;
	__u32 idx, i;

	uni_close(&self->u);
	ASSERT_EQ(0, uni_open(&u, variant->dev, O_RDWR, 8, 0, DATA));
	idx = uni_reserve(&u, 8);
	for (i = 0; i < 8; i++)
		uni_prep_rw(uni_sqe(&u, idx + i), NVME_RING_IO_OP_READ, i, 1,
			    0, u.lba, 50 + i, true);
	nrio_ring_submit(&u.sq, 7);
	EXPECT_EQ(0, uni_submit(&u));	/* it may still end */
	nrio_ring_submit(&u.sq, 1);
	EXPECT_EQ(8, uni_submit(&u));
	ASSERT_EQ(0, uni_reap(&u, cqe, 8));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(50 + i, cqe[i].user_data);
		EXPECT_EQ(-EINVAL, cqe[i].res);
	}
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, 0, 1, 0, u.lba, 9, false);
	EXPECT_EQ(u.lba, uni_sync(&u, &sqe));
	uni_close(&u);
}

/* to_submit counts where chains start: a chain is consumed whole. */
TEST_F(nvme, to_submit_takes_whole_chains)
{
	struct uni *u = &self->u;
	struct nvme_ring_io_submit sub = { .to_submit = 1 };
	struct nvme_ring_io_cqe cqe[4];
	__u32 idx = uni_reserve(u, 4), i;

	for (i = 0; i < 4; i++)
		uni_prep_rw(uni_sqe(u, idx + i), NVME_RING_IO_OP_READ, i, 1,
			    0, u->lba, 60 + i, i < 2);
	nrio_ring_submit(&u->sq, 4);
	/* The three-step chain, then (budget spent) not the single read. */
	EXPECT_EQ(3, ioctl(u->fd, UNIFIED_IO_SUBMIT, &sub));
	EXPECT_EQ(1, ioctl(u->fd, UNIFIED_IO_SUBMIT, &sub));
	ASSERT_EQ(0, uni_reap(u, cqe, 4));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(u->lba, cqe[i].res);
}

/*
 * Data that does not start on an LBA boundary must fit one bio (256
 * runs): in 4 KiB pages a misaligned 1 MiB + 1 LBA is refused, the same
 * transfer LBA aligned is chained over two bios and round-trips.
 */
TEST_F(nvme, misaligned_data_fits_one_bio)
{
	__u64 slba = slba_of(&self->u, variant->base, 8 * MiB);
	struct unified_io_sqe sqe;
	struct uni u;
	__u32 len;

	uni_close(&self->u);
	/* Under 2 MiB: small pages. */
	ASSERT_EQ(0, uni_open(&u, variant->dev, O_RDWR, 8, 0, 1536 * 1024));
	len = MiB + u.lba;
	uni_prep_rw(&sqe, NVME_RING_IO_OP_WRITE, slba, len / u.lba, 4, len,
		    1, false);
	EXPECT_EQ(-EINVAL, uni_sync(&u, &sqe));
	nt_fill(u.data, len, 71);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_WRITE, slba, len / u.lba, 0, len,
		    2, false);
	EXPECT_EQ(len, uni_sync(&u, &sqe));
	memset(u.data + 4, 0, len);
	/* Misaligned but within one bio: fine. */
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, slba, 256 * 1024 / u.lba, 4,
		    256 * 1024, 3, false);
	EXPECT_EQ(256 * 1024, uni_sync(&u, &sqe));
	nt_fill(u.data + 512 * 1024, 256 * 1024, 71);
	EXPECT_EQ(0, memcmp(u.data + 4, u.data + 512 * 1024, 256 * 1024));
	uni_close(&u);
}

/* A chain as long as the ring: write and read back 32 blocks, in order. */
TEST_F(nvme, long_chain)
{
	struct uni *u = &self->u;
	__u64 slba = slba_of(u, variant->base, 4 * MiB);
	struct nvme_ring_io_cqe cqe[64];
	__u32 idx = uni_reserve(u, 64), i;

	nt_fill(u->data, 32 * u->lba, 41);
	memset(u->data + MiB, 0, 32 * u->lba);
	for (i = 0; i < 32; i++) {
		uni_prep_rw(uni_sqe(u, idx + 2 * i), NVME_RING_IO_OP_WRITE,
			    slba + i, 1, i * u->lba, u->lba, 2 * i, true);
		uni_prep_rw(uni_sqe(u, idx + 2 * i + 1), NVME_RING_IO_OP_READ,
			    slba + i, 1, MiB + i * u->lba, u->lba, 2 * i + 1,
			    i < 31);
	}
	nrio_ring_submit(&u->sq, 64);
	ASSERT_EQ(64, uni_submit(u));
	ASSERT_EQ(0, uni_reap(u, cqe, 64));
	for (i = 0; i < 64; i++) {
		EXPECT_EQ(i, cqe[i].user_data);
		EXPECT_EQ(u->lba, cqe[i].res);
	}
	EXPECT_EQ(0, nt_check(u->data + MiB, 32 * u->lba, 41));

	/* Failing at its second step: 62 ECANCELED, posted from the work. */
	idx = uni_reserve(u, 64);
	for (i = 0; i < 64; i++)
		uni_prep_rw(uni_sqe(u, idx + i), NVME_RING_IO_OP_READ,
			    i == 1 ? ~0ULL >> 1 : slba, 1, 0, u->lba, i,
			    i < 63);
	nrio_ring_submit(&u->sq, 64);
	ASSERT_EQ(64, uni_submit(u));
	ASSERT_EQ(0, uni_reap(u, cqe, 64));
	EXPECT_EQ(u->lba, cqe[0].res);
	EXPECT_EQ(-ERANGE, cqe[1].res);
	for (i = 2; i < 64; i++)
		EXPECT_EQ(-ECANCELED, cqe[i].res);
}

/* Close and exit with chains in flight: nothing hangs, the next works. */
TEST_F(nvme, close_with_chains_in_flight)
{
	struct uni *u = &self->u;
	struct unified_io_sqe sqe;
	__u32 n, i, idx;
	int status;
	pid_t pid;

	for (n = 0; n < 4; n++) {
		idx = uni_reserve(u, 16);
		for (i = 0; i < 16; i++)
			uni_prep_rw(uni_sqe(u, idx + i), NVME_RING_IO_OP_READ,
				    i * 8, 8, 0, 8 * u->lba, i, i < 15);
		nrio_ring_submit(&u->sq, 16);
		ASSERT_EQ(16, uni_submit(u));
	}
	uni_close(u);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct uni c;

		if (uni_open(&c, variant->dev, O_RDWR, 64, 0, DATA))
			_exit(2);
		for (n = 0; n < 4; n++) {
			idx = uni_reserve(&c, 16);
			for (i = 0; i < 16; i++)
				uni_prep_rw(uni_sqe(&c, idx + i),
					    NVME_RING_IO_OP_READ, i * 8, 8, 0,
					    8 * c.lba, i, i < 15);
			nrio_ring_submit(&c.sq, 16);
			uni_submit(&c);
		}
		_exit(0);	/* mapped, in flight */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	ASSERT_EQ(0, uni_open(u, variant->dev, O_RDWR, 64, 0, DATA));
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, 0, 1, 0, u->lba, 1, false);
	EXPECT_EQ(u->lba, uni_sync(u, &sqe));
}

/* Reap @n entries and check that each user_data in [@ud, @ud + @n) came. */
static int reap_by_ud(struct __test_metadata *_metadata, struct uni *u,
		      __u32 n, __u64 ud, const int *res)
{
	struct nvme_ring_io_cqe cqe[8];
	__u32 i;

	if (n > 8 || uni_reap(u, cqe, n))
		return -1;
	for (i = 0; i < n; i++) {
		__u64 k = cqe[i].user_data - ud;

		EXPECT_GT(n, k);
		if (k < n)
			EXPECT_EQ(res[k], cqe[i].res) {
				TH_LOG("user_data %llu", (unsigned long long)
				       cqe[i].user_data);
				return -1;
			}
	}
	return 0;
}

/*
 * A polled context (the VM's controller has poll queues): a READ or WRITE
 * alone is issued polled; a chain's steps never are, nor the bios a
 * transfer needs beyond its first, nor a bio the block layer splits (it
 * clears REQ_POLLED): those complete from the interrupt.  Linux 6.1
 * recycles bios of the bio set's per-CPU cache only when they are put in
 * task context (it warns in bio_put() otherwise, and its cache is not
 * irq-safe), so there only bios that complete polled may come from it.
 * The data round-trips either way, and check.sh fails on the warning.
 */
TEST_F(nvme, polled_context_chains)
{
	__u64 slba = slba_of(&self->u, variant->base, 10 * MiB);
	struct unified_io_sqe sqe;
	__u32 idx, round, nlb, len, big;
	struct uni u;
	int res[3];

	uni_close(&self->u);
	ASSERT_EQ(0, uni_open_flags(&u, variant->dev, O_RDWR, 64, 0, DATA,
				    UNIFIED_IO_SETUP_F_IOPOLL));
	ASSERT_TRUE(u.info.flags & UNIFIED_IO_INFO_F_POLLED);
	nlb = 16384 / u.lba;
	len = nlb * u.lba;

	/* Alone, polled. */
	nt_fill(u.data, len, 81);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_WRITE, slba, nlb, 0, len, 1, false);
	ASSERT_EQ(len, uni_sync(&u, &sqe));

	/* READ -> READ, and a polled READ alone after it, many times. */
	for (round = 0; round < 64; round++) {
		memset(u.data + MiB, 0, 3 * len);
		idx = uni_reserve(&u, 3);
		uni_prep_rw(uni_sqe(&u, idx), NVME_RING_IO_OP_READ, slba, nlb,
			    MiB, len, 100, true);
		uni_prep_rw(uni_sqe(&u, idx + 1), NVME_RING_IO_OP_READ, slba,
			    nlb, MiB + len, len, 101, false);
		uni_prep_rw(uni_sqe(&u, idx + 2), NVME_RING_IO_OP_READ, slba,
			    nlb, MiB + 2 * len, len, 102, false);
		nrio_ring_submit(&u.sq, 3);
		ASSERT_EQ(3, uni_submit(&u));
		res[0] = res[1] = res[2] = len;
		ASSERT_EQ(0, reap_by_ud(_metadata, &u, 3, 100, res));
		ASSERT_EQ(0, nt_check(u.data + MiB, len, 81));
		ASSERT_EQ(0, nt_check(u.data + MiB + len, len, 81));
		ASSERT_EQ(0, nt_check(u.data + MiB + 2 * len, len, 81));
	}

	/* WRITE -> READ: the chain's own data comes back. */
	for (round = 0; round < 16; round++) {
		nt_fill(u.data + 2 * MiB, len, 82 + round);
		memset(u.data + 3 * MiB, 0, len);
		idx = uni_reserve(&u, 2);
		uni_prep_rw(uni_sqe(&u, idx), NVME_RING_IO_OP_WRITE, slba + nlb,
			    nlb, 2 * MiB, len, 200, true);
		uni_prep_rw(uni_sqe(&u, idx + 1), NVME_RING_IO_OP_READ,
			    slba + nlb, nlb, 3 * MiB, len, 201, false);
		nrio_ring_submit(&u.sq, 2);
		ASSERT_EQ(2, uni_submit(&u));
		res[0] = res[1] = len;
		ASSERT_EQ(0, reap_by_ud(_metadata, &u, 2, 200, res));
		ASSERT_EQ(0, nt_check(u.data + 3 * MiB, len, 82 + round));
	}

	/* Alone but larger than one request: split, from the interrupt. */
	big = u.info.max_transfer < MiB ? 2 * (__u32)u.info.max_transfer :
					  2 * MiB;
	TH_LOG("max_transfer %llu: a polled READ of %u bytes",
	       (unsigned long long)u.info.max_transfer, big);
	nt_fill(u.data, big, 83);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_WRITE, slba, big / u.lba, 0, big, 3,
		    false);
	ASSERT_EQ(big, uni_sync(&u, &sqe));
	memset(u.data + 2 * MiB, 0, big);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, slba, big / u.lba, 2 * MiB, big,
		    4, false);
	ASSERT_EQ(big, uni_sync(&u, &sqe));
	ASSERT_EQ(0, nt_check(u.data + 2 * MiB, big, 83));
	uni_close(&u);

	/* Small pages: more runs than one bio holds, so two bios. */
	ASSERT_EQ(0, uni_open_flags(&u, variant->dev, O_RDWR, 8, 0,
				    1536 * 1024, UNIFIED_IO_SETUP_F_IOPOLL));
	len = MiB + 4096;
	nt_fill(u.data, len, 84);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_WRITE, slba, len / u.lba, 0, len, 5,
		    false);
	ASSERT_EQ(len, uni_sync(&u, &sqe));
	memset(u.data, 0, len);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, slba, len / u.lba, 0, len, 6,
		    false);
	ASSERT_EQ(len, uni_sync(&u, &sqe));
	ASSERT_EQ(0, nt_check(u.data, len, 84));
	uni_close(&u);
}

/*
 * NVME_RING_IO_URING_SUBMIT of everything ready on @fd, with SQE flags
 * @flags: its res, or -ETIME when no CQE came within 10 s.
 */
static int uring_submit_flags(struct io_uring *ring, int fd, __u8 flags)
{
	struct __kernel_timespec ts = { .tv_sec = 10 };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	int ret;

	if (!sqe)
		return -2000;
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->flags = flags;
	sqe->cmd_op = NVME_RING_IO_URING_SUBMIT;
	sqe->user_data = 77;
	/*
	 * With SQPOLL the count is what the thread had not taken yet when
	 * liburing looked: 0 too, if it was quick.
	 */
	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

static int uring_submit_all(struct io_uring *ring, int fd)
{
	return uring_submit_flags(ring, fd, 0);
}

/* Reap @n CQ entries; each user_data in [0, @n) once, res @res[ud]. */
static int reap_all(struct __test_metadata *_metadata, struct uni *u,
		    __u32 n, const int *res)
{
	unsigned char *seen = calloc(n, 1);
	struct nvme_ring_io_cqe cqe;
	__u32 i;
	int bad = 0;

	if (!seen)
		return -1;
	for (i = 0; i < n && !bad; i++) {
		if (uni_reap(u, &cqe, 1)) {
			TH_LOG("%u of %u entries came", i, n);
			bad = 1;
			break;
		}
		if (cqe.user_data >= n || seen[cqe.user_data]++ ||
		    cqe.res != res[cqe.user_data]) {
			TH_LOG("entry %u: user_data %llu res %d", i,
			       (unsigned long long)cqe.user_data, cqe.res);
			bad = 1;
		}
	}
	free(seen);
	return bad ? -1 : 0;
}

/*
 * NVME_RING_IO_URING_SUBMIT is issued by io_uring with IO_URING_F_NONBLOCK
 * first (inline, or in the SQPOLL thread), where it must not wait: plain
 * NVMe descriptors go with REQ_NOWAIT and the first the block layer
 * refuses stays in the SQ (a count short of the batch, or -EAGAIN and a
 * retry from io-wq), and a batch with a step that sleeps (a chain, NET,
 * BPF, DSM) goes to io-wq whole.  The results are the same as the
 * ioctl's, with SQPOLL off and on: 4096 READs at once (more than the
 * device's tags), then chains, a NET step and single READs in one batch.
 */
TEST_F(nvme, uring_submit_nonblock)
{
	const __u32 n = 4096, lbas = 512;
	__u64 slba = slba_of(&self->u, variant->base, 12 * MiB);
	int *res, mine = -1, peer = -1, sqpoll, calls, got;
	struct unified_io_sock_attach a = { .slot = 1 };
	struct io_uring_params p;
	struct io_uring ring;
	unsigned char buf[512];
	__u32 i, idx, lba, done, big;
	void *ref;
	int bfd;
	struct uni u;

	uni_close(&self->u);
	ASSERT_EQ(0, uni_open(&u, variant->dev, O_RDWR, n, 2 * n, 4 * MiB));
	lba = u.lba;
	res = calloc(n, sizeof(*res));
	ASSERT_NE(NULL, res);
	/* The pattern: lbas LBAs, written by the ioctl path. */
	nt_fill(u.data, lbas * lba, 91);
	for (i = 0; i < lbas; i += 64) {
		idx = uni_reserve(&u, 64);
		for (done = 0; done < 64; done++)
			uni_prep_rw(uni_sqe(&u, idx + done),
				    NVME_RING_IO_OP_WRITE, slba + i + done, 1,
				    (i + done) * lba, lba, done, false);
		for (done = 0; done < 64; done++)
			res[done] = lba;
		nrio_ring_submit(&u.sq, 64);
		ASSERT_EQ(64, uni_submit(&u));
		ASSERT_EQ(0, reap_all(_metadata, &u, 64, res));
	}
	ASSERT_EQ(0, nt_sock_pair(SOCK_DGRAM, &mine, &peer));
	a.sock_fd = mine;
	ASSERT_EQ(0, ioctl(u.fd, UNIFIED_IO_SOCK_ATTACH, &a));

	for (sqpoll = 0; sqpoll < 2; sqpoll++) {
		memset(&p, 0, sizeof(p));
		if (sqpoll) {
			p.flags = IORING_SETUP_SQPOLL;
			p.sq_thread_idle = 50;
		}
		ASSERT_EQ(0, io_uring_queue_init_params(8, &ring, &p));

		/* 4096 READs of 1 LBA, in place, in one batch. */
		memset(u.data + 2 * MiB, 0, lbas * lba);
		idx = uni_reserve(&u, n);
		for (i = 0; i < n; i++) {
			uni_prep_rw(uni_sqe(&u, idx + i), NVME_RING_IO_OP_READ,
				    slba + i % lbas, 1,
				    2 * MiB + (i % lbas) * lba, lba, i, false);
			res[i] = lba;
		}
		nrio_ring_submit(&u.sq, n);
		for (done = 0, calls = 0; done < n && calls < 100000; calls++) {
			got = uring_submit_all(&ring, u.fd);
			ASSERT_LE(0, got) {
				TH_LOG("URING_SUBMIT: %s", strerror(-got));
			}
			done += got;
		}
		ASSERT_EQ(n, done);
		TH_LOG("SQPOLL %s: %u READs consumed in %d URING_SUBMITs",
		       sqpoll ? "on" : "off", n, calls);
		ASSERT_EQ(0, reap_all(_metadata, &u, n, res));
		ASSERT_EQ(0, memcmp(u.data + 2 * MiB, u.data, lbas * lba));

		/*
		 * WRITE -> READ, a NET_SEND, READs alone, READ -> READ:
		 * steps that sleep, so io-wq consumes the batch.
		 */
		memset(u.data + 3 * MiB, 0, 8 * lba);
		nt_fill(u.data + 3 * MiB - 4 * lba, 4 * lba, 92 + sqpoll);
		idx = uni_reserve(&u, 8);
		uni_prep_rw(uni_sqe(&u, idx), NVME_RING_IO_OP_WRITE,
			    slba + lbas, 4, 3 * MiB - 4 * lba, 4 * lba, 0,
			    true);
		uni_prep_rw(uni_sqe(&u, idx + 1), NVME_RING_IO_OP_READ,
			    slba + lbas, 4, 3 * MiB, 4 * lba, 1, false);
		uni_prep_net(uni_sqe(&u, idx + 2), true, 1, 0, 512, 0, 2,
			     false);
		uni_prep_rw(uni_sqe(&u, idx + 3), NVME_RING_IO_OP_READ, slba,
			    1, 3 * MiB + 4 * lba, lba, 3, false);
		uni_prep_rw(uni_sqe(&u, idx + 4), NVME_RING_IO_OP_READ,
			    slba + 1, 1, 3 * MiB + 5 * lba, lba, 4, true);
		uni_prep_rw(uni_sqe(&u, idx + 5), NVME_RING_IO_OP_READ,
			    slba + 2, 1, 3 * MiB + 6 * lba, lba, 5, false);
		uni_prep_rw(uni_sqe(&u, idx + 6), NVME_RING_IO_OP_READ,
			    slba + 3, 1, 3 * MiB + 7 * lba, lba, 6, false);
		/* Past the namespace: fails its checks, sleeps for nothing. */
		uni_prep_rw(uni_sqe(&u, idx + 7), NVME_RING_IO_OP_READ,
			    ~0ULL >> 1, 1, 0, lba, 7, false);
		for (i = 0; i < 7; i++)
			res[i] = lba;
		res[0] = res[1] = 4 * lba;
		res[2] = 512;
		res[7] = -ERANGE;
		nrio_ring_submit(&u.sq, 8);
		ASSERT_EQ(8, uring_submit_all(&ring, u.fd));
		ASSERT_EQ(0, reap_all(_metadata, &u, 8, res));
		EXPECT_EQ(0, memcmp(u.data + 3 * MiB - 4 * lba,
				    u.data + 3 * MiB, 4 * lba));
		EXPECT_EQ(0, memcmp(u.data + 3 * MiB + 4 * lba, u.data,
				    4 * lba));
		EXPECT_EQ(512, nt_recv_sent(peer, buf, sizeof(buf)));
		EXPECT_EQ(0, memcmp(buf, u.data, 512));

		/*
		 * READs larger than one request between small ones: the
		 * block layer would split them, which REQ_NOWAIT refuses,
		 * so each stays in the SQ until io-wq takes it.
		 */
		big = u.info.max_transfer < MiB / 2 ?
		      2 * (__u32)u.info.max_transfer : MiB;
		memset(u.data + 2 * MiB, 0, 2 * MiB);
		idx = uni_reserve(&u, 12);
		for (i = 0; i < 12; i++) {
			__u32 len = i % 3 == 1 ? big : lba;

			uni_prep_rw(uni_sqe(&u, idx + i), NVME_RING_IO_OP_READ,
				    slba, len / lba, i % 3 == 1 ? 3 * MiB :
				    2 * MiB + (i % 3) * lba, len, i, false);
			res[i] = len;
		}
		nrio_ring_submit(&u.sq, 12);
		for (done = 0, calls = 0; done < 12 && calls < 1000; calls++) {
			got = uring_submit_all(&ring, u.fd);
			ASSERT_LE(0, got) {
				TH_LOG("URING_SUBMIT: %s", strerror(-got));
			}
			done += got;
		}
		ASSERT_EQ(12, done);
		TH_LOG("SQPOLL %s: READs of %u bytes among small ones, %d URING_SUBMITs",
		       sqpoll ? "on" : "off", big, calls);
		if (big > u.info.max_transfer)
			EXPECT_LE(2, calls);
		ASSERT_EQ(0, reap_all(_metadata, &u, 12, res));
		/* What the device holds there, read around the module. */
		bfd = open(variant->dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
		ASSERT_LE(0, bfd);
		ASSERT_EQ(0, posix_memalign(&ref, 4096, big));
		ASSERT_EQ(big, pread(bfd, ref, big, slba * lba));
		EXPECT_EQ(0, memcmp(u.data + 3 * MiB, ref, big));
		EXPECT_EQ(0, memcmp(u.data + 2 * MiB, ref, lba));
		EXPECT_EQ(0, memcmp(u.data + 2 * MiB + 2 * lba, ref, lba));
		free(ref);
		close(bfd);

		/*
		 * IOSQE_ASYNC: issued from io-wq only.  (6.1 dropped a
		 * command that returned its count there: no CQE ever.)
		 */
		idx = uni_reserve(&u, 4);
		for (i = 0; i < 4; i++) {
			uni_prep_rw(uni_sqe(&u, idx + i), NVME_RING_IO_OP_READ,
				    slba + i, 1, 2 * MiB + i * lba, lba, i,
				    false);
			res[i] = lba;
		}
		nrio_ring_submit(&u.sq, 4);
		EXPECT_EQ(4, uring_submit_flags(&ring, u.fd, IOSQE_ASYNC));
		ASSERT_EQ(0, reap_all(_metadata, &u, 4, res));
		io_uring_queue_exit(&ring);
	}
	free(res);
	close(mine);
	close(peer);
	uni_close(&u);
}

/* A read-only namespace fd never writes, in a chain or alone. */
TEST(readonly_fd)
{
	struct nvme_ring_io_cqe cqe[2];
	struct unified_io_sqe sqe;
	struct uni u;
	__u32 idx;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ASSERT_EQ(0, uni_open(&u, NS1_BLK, O_RDONLY, 8, 0, DATA));
	EXPECT_EQ(UNIFIED_IO_INFO_F_SETUP | UNIFIED_IO_INFO_F_NVME |
		  UNIFIED_IO_INFO_F_READ, u.info.flags);
	uni_prep_rw(&sqe, NVME_RING_IO_OP_WRITE, 0, 1, 0, 512, 1, false);
	EXPECT_EQ(-EBADF, uni_sync(&u, &sqe));
	idx = uni_reserve(&u, 2);
	uni_prep_rw(uni_sqe(&u, idx), NVME_RING_IO_OP_READ, 0, 1, 0, 512, 2,
		    true);
	uni_prep_rw(uni_sqe(&u, idx + 1), NVME_RING_IO_OP_WRITE, 0, 1, 0, 512,
		    3, false);
	nrio_ring_submit(&u.sq, 2);
	ASSERT_EQ(2, uni_submit(&u));
	ASSERT_EQ(0, uni_reap(&u, cqe, 2));
	EXPECT_EQ(512, cqe[0].res);
	EXPECT_EQ(-EBADF, cqe[1].res);
	uni_close(&u);
}

TEST_HARNESS_MAIN
