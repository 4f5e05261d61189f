// SPDX-License-Identifier: GPL-2.0
/*
 * NVME_RING_IO_SETUP, INFO and mmap(2): every bad input and its errno, the
 * layout SETUP returns, and the huge-page region.
 */
#include "nrio_test.h"

#include "kselftest_harness.h"

#define DEF_SQ		64
#define DEF_DATA	(4 * MiB)

/* --- bad SETUP arguments, one TAP line each ------------------------------ */

FIXTURE(bad_setup) {
	int fd;
	int nvme_fd;
	struct nvme_ring_io_setup s;
};

FIXTURE_VARIANT(bad_setup) {
	void (*mutate)(struct nvme_ring_io_setup *s);
	int err;
};

#define BAD_SETUP(name, errno_, body)					\
	static void mutate_##name(struct nvme_ring_io_setup *s)	\
	{ body; }							\
	FIXTURE_VARIANT_ADD(bad_setup, name) {				\
		.mutate = mutate_##name, .err = errno_,			\
	}

BAD_SETUP(flags_unknown, EINVAL, s->flags = 4);	/* 1, 2: IOPOLL, DIRECT */
BAD_SETUP(flags_high, EINVAL, s->flags = 0x80000000U);
BAD_SETUP(resv0_set, EINVAL, s->resv[0] = 1);
BAD_SETUP(resv3_set, EINVAL, s->resv[3] = ~0ULL);
BAD_SETUP(sq_zero, EINVAL, s->sq_entries = 0);
BAD_SETUP(sq_not_pow2, EINVAL, s->sq_entries = 48);
BAD_SETUP(sq_pow2_plus1, EINVAL, s->sq_entries = 65);
BAD_SETUP(sq_too_big, E2BIG, s->sq_entries = 65536);
BAD_SETUP(sq_huge, EINVAL, s->sq_entries = 0xffffffffU);
BAD_SETUP(cq_not_pow2, EINVAL, s->cq_entries = 96);
BAD_SETUP(cq_below_sq, EINVAL, s->cq_entries = 32);
BAD_SETUP(cq_too_big, E2BIG, s->cq_entries = 65536);
BAD_SETUP(sq_max_cq_default, E2BIG, s->sq_entries = 32768);
BAD_SETUP(data_zero, EINVAL, s->data_size = 0);
BAD_SETUP(data_unaligned, EINVAL, s->data_size = 4 * MiB + 1);
BAD_SETUP(data_half_page, EINVAL, s->data_size = 2048);
BAD_SETUP(data_over_cap, E2BIG, s->data_size = 1024 * MiB + 4096);
BAD_SETUP(data_huge, E2BIG, s->data_size = ~4095ULL);
BAD_SETUP(numa_negative, EINVAL, s->numa_node = -2);
BAD_SETUP(numa_offline, EINVAL, s->numa_node = 1);
BAD_SETUP(numa_huge, EINVAL, s->numa_node = 0x7fffffff);
BAD_SETUP(fd_negative, EBADF, s->nvme_fd = -1);
BAD_SETUP(fd_not_open, EBADF, s->nvme_fd = 999);
BAD_SETUP(size_short, EINVAL, s->size = sizeof(*s) - 8);
BAD_SETUP(size_zero, EINVAL, s->size = 0);
BAD_SETUP(size_over_page, E2BIG, s->size = 8192);
BAD_SETUP(size_over_max, E2BIG, s->size = NVME_RING_IO_MAX_STRUCT_SIZE + 1);

FIXTURE_SETUP(bad_setup)
{
	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	self->nvme_fd = open(NS1_BLK, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nvme_fd);
	self->fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	nt_setup_args(&self->s, self->nvme_fd, DEF_SQ, 0, DEF_DATA);
}

FIXTURE_TEARDOWN(bad_setup)
{
	close(self->fd);
	close(self->nvme_fd);
}

TEST_F(bad_setup, rejected)
{
	struct nvme_ring_io_info info;

	variant->mutate(&self->s);
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->fd, NVME_RING_IO_SETUP, &self->s));
	EXPECT_EQ(variant->err, errno) {
		TH_LOG("expected %s, got %s", strerror(variant->err),
		       strerror(errno));
	}
	/* A failed SETUP leaves the context as it was: still usable. */
	ASSERT_EQ(0, nt_info(self->fd, &info));
	EXPECT_EQ(0, info.flags);
	nt_setup_args(&self->s, self->nvme_fd, DEF_SQ, 0, DEF_DATA);
	EXPECT_EQ(0, ioctl(self->fd, NVME_RING_IO_SETUP, &self->s));
}

/* --- file descriptors that are not NVMe namespaces ------------------------ */

static int setup_with_path(const char *path, int oflags)
{
	struct nvme_ring_io_setup s;
	int fd, nfd, ret;

	nfd = open(path, oflags | O_CLOEXEC);
	if (nfd < 0)
		return -1000 - errno;
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		close(nfd);
		return -2000 - errno;
	}
	nt_setup_args(&s, nfd, DEF_SQ, 0, DEF_DATA);
	ret = ioctl(fd, NVME_RING_IO_SETUP, &s) ? -errno : 0;
	close(fd);
	close(nfd);
	return ret;
}

TEST(not_nvme_fds)
{
	char tmpl[] = "/tmp/nrio-XXXXXX";
	int tfd = mkstemp(tmpl);

	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, ftruncate(tfd, 1 << 20));
	close(tfd);

	EXPECT_EQ(-ENODEV, setup_with_path("/dev/null", O_RDWR));
	EXPECT_EQ(-ENODEV, setup_with_path(tmpl, O_RDWR));
	EXPECT_EQ(-ENODEV, setup_with_path("/tmp", O_RDONLY));
	EXPECT_EQ(-ENODEV, setup_with_path(NVME_RING_IO_DEVPATH, O_RDWR));
	/* An O_PATH fd is no open file for I/O. */
	if (nt_have(NS1_BLK))
		EXPECT_EQ(-EBADF, setup_with_path(NS1_BLK, O_PATH));
	if (nt_have("/dev/nvme0"))
		EXPECT_EQ(-ENODEV, setup_with_path("/dev/nvme0", O_RDWR));
	if (nt_have("/dev/ram0"))
		EXPECT_EQ(-ENODEV, setup_with_path("/dev/ram0", O_RDWR));
	/*
	 * Other drivers' char devices whose cdev hangs off a struct device
	 * (cdev_device_add()): refused by their owner (or, for a built-in
	 * nvme_core, their class), never taken for an ng device.
	 */
	if (nt_have("/dev/rtc0"))
		EXPECT_EQ(-ENODEV, setup_with_path("/dev/rtc0", O_RDONLY));
	EXPECT_EQ(-ENODEV, setup_with_path(UNIFIED_IO_DEVPATH, O_RDWR));
	unlink(tmpl);
}

TEST(trailing_struct_bytes)
{
	struct {
		struct nvme_ring_io_setup s;
		__u64 extra;
	} big;
	int fd, nfd;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	nfd = open(NS1_BLK, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nfd);
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);

	/* A newer, larger struct: unknown bytes must be zero. */
	nt_setup_args(&big.s, nfd, DEF_SQ, 0, DEF_DATA);
	big.s.size = sizeof(big);
	big.extra = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_SETUP, &big));
	EXPECT_EQ(E2BIG, errno);
	big.extra = 0;
	EXPECT_EQ(0, ioctl(fd, NVME_RING_IO_SETUP, &big));
	EXPECT_EQ(DEF_DATA, big.s.off.data_size);
	close(fd);
	close(nfd);
}

/*
 * The extensibility rule: SETUP and INFO are versioned by their size
 * field alone.  A future header with larger structs keeps today's command
 * numbers, and a caller that encodes another size in them is served too;
 * the size field may go up to NVME_RING_IO_MAX_STRUCT_SIZE.
 */
TEST(command_numbers_and_sizes)
{
	union {
		struct nvme_ring_io_setup s;
		unsigned char bytes[NVME_RING_IO_MAX_STRUCT_SIZE];
	} big;
	struct {
		struct nvme_ring_io_info info;
		__u64 tail[8];
	} info;
	unsigned int i;
	int fd, nfd;

	EXPECT_EQ(0xc0b0ba01U, NVME_RING_IO_SETUP);
	EXPECT_EQ(0x4010ba02U, NVME_RING_IO_SUBMIT);
	EXPECT_EQ(0x4018ba03U, NVME_RING_IO_COMPLETE);
	EXPECT_EQ(0xc070ba04U, NVME_RING_IO_INFO);
	EXPECT_EQ(0x4010ba10U, NVME_RING_IO_URING_SUBMIT);
	EXPECT_EQ(0x4010ba11U, NVME_RING_IO_URING_WAIT);
	EXPECT_EQ(sizeof(struct nvme_ring_io_setup),
		  _IOC_SIZE(NVME_RING_IO_SETUP));
	EXPECT_EQ(sizeof(struct nvme_ring_io_info),
		  _IOC_SIZE(NVME_RING_IO_INFO));

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	nfd = open(NS1_BLK, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nfd);
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);

	/* INFO through a command number that encodes a larger size. */
	memset(&info, 0xee, sizeof(info));
	info.info.size = sizeof(info);
	EXPECT_EQ(0, ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE,
				    NVME_RING_IO_IOC_MAGIC, 0x04,
				    sizeof(info)), &info));
	EXPECT_EQ(sizeof(struct nvme_ring_io_info), info.info.size);
	EXPECT_EQ(NVME_RING_IO_ABI_VERSION, info.info.abi_version);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0xeeeeeeeeeeeeeeeeULL, info.tail[i]);

	/* The wrong direction bits are another command. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, _IOC(_IOC_READ, NVME_RING_IO_IOC_MAGIC, 0x01,
				     sizeof(struct nvme_ring_io_setup)), &big));
	EXPECT_EQ(ENOTTY, errno);

	/* The largest struct, zero past what the kernel knows, through a
	 * command number with its size (all size bits are 14 wide). */
	memset(&big, 0, sizeof(big));
	nt_setup_args(&big.s, nfd, DEF_SQ, 0, DEF_DATA);
	big.s.size = sizeof(big);
	big.bytes[sizeof(big) - 1] = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE,
				     NVME_RING_IO_IOC_MAGIC, 0x01,
				     sizeof(big)), &big));
	EXPECT_EQ(E2BIG, errno);
	big.bytes[sizeof(big) - 1] = 0;
	EXPECT_EQ(0, ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE,
				    NVME_RING_IO_IOC_MAGIC, 0x01,
				    sizeof(big)), &big));
	EXPECT_EQ(DEF_DATA, big.s.off.data_size);
	EXPECT_EQ(sizeof(big), big.s.size);
	close(fd);
	close(nfd);
}

/* --- the context before and after SETUP --------------------------------- */

TEST(before_setup)
{
	struct nvme_ring_io_submit sub = { 0 };
	struct nvme_ring_io_complete comp = { 0 };
	struct nvme_ring_io_info info;
	int fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	void *p;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, nt_info(fd, &info));
	EXPECT_EQ(NVME_RING_IO_ABI_VERSION, info.abi_version);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(0, info.region_size);

	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_SUBMIT, &sub));
	EXPECT_EQ(EBADFD, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_COMPLETE, &comp));
	EXPECT_EQ(EBADFD, errno);
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EBADFD, errno);

	/* Reserved fields of SUBMIT and COMPLETE are checked first. */
	sub.flags = 1U << 31;
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_SUBMIT, &sub));
	EXPECT_EQ(EINVAL, errno);
	comp.resv = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_COMPLETE, &comp));
	EXPECT_EQ(EINVAL, errno);

	/* Bad user pointers. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_SETUP, NULL));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_INFO, (void *)8));
	EXPECT_EQ(EFAULT, errno);

	/* INFO needs room for its size field, nothing more. */
	info.size = 0;
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.size = 3;
	errno = 0;
	EXPECT_EQ(-1, ioctl(fd, NVME_RING_IO_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	memset(&info, 0xff, sizeof(info));
	info.size = 4;
	EXPECT_EQ(0, ioctl(fd, NVME_RING_IO_INFO, &info));
	EXPECT_EQ(4, info.size);
	EXPECT_EQ(0xffffffffU, info.abi_version);
	memset(&info, 0xff, sizeof(info));
	info.size = 8;
	EXPECT_EQ(0, ioctl(fd, NVME_RING_IO_INFO, &info));
	EXPECT_EQ(8, info.size);
	EXPECT_EQ(NVME_RING_IO_ABI_VERSION, info.abi_version);
	EXPECT_EQ(0xffffffffU, info.flags);
	/* An older, shorter INFO struct gets just its own bytes. */
	memset(&info, 0xff, sizeof(info));
	info.size = 12;
	EXPECT_EQ(0, ioctl(fd, NVME_RING_IO_INFO, &info));
	EXPECT_EQ(12, info.size);
	EXPECT_EQ(0xffffffffU, info.nsid);
	close(fd);
}

FIXTURE(ctx) {
	struct nt_ctx c;
};

FIXTURE_SETUP(ctx)
{
	int ret;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ret = nt_open(&self->c, NS1_BLK, O_RDWR, DEF_SQ, 0, DEF_DATA);
	ASSERT_EQ(0, ret) {
		TH_LOG("setup: %s", strerror(-ret));
	}
}

FIXTURE_TEARDOWN(ctx)
{
	nt_close(&self->c);
}

TEST_F(ctx, second_setup_busy)
{
	struct nvme_ring_io_setup s;

	nt_setup_args(&s, self->c.nvme_fd, DEF_SQ, 0, DEF_DATA);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->c.fd, NVME_RING_IO_SETUP, &s));
	EXPECT_EQ(EBUSY, errno);
	/* The struct is checked before the context: EINVAL, not EBUSY. */
	s.sq_entries = 3;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->c.fd, NVME_RING_IO_SETUP, &s));
	EXPECT_EQ(EINVAL, errno);
	/* The context before the namespace fd: EBUSY, not EBADF. */
	nt_setup_args(&s, -1, DEF_SQ, 0, DEF_DATA);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->c.fd, NVME_RING_IO_SETUP, &s));
	EXPECT_EQ(EBUSY, errno);
}

TEST_F(ctx, complete_timeout_zero_never_fails)
{
	struct nt_ctx *c = &self->c;
	struct nvme_ring_io_cqe cqe;
	int ret;

	/* One read in flight, more asked than can ever be ready. */
	ASSERT_EQ(0, nt_queue_rw(c, NVME_RING_IO_OP_READ, 0, 8, 0, 1));
	ASSERT_EQ(1, nt_submit(c, 0));
	ret = nt_wait(c, 2, 0);
	EXPECT_LE(0, ret);
	EXPECT_GE(1, ret);
	ASSERT_EQ(0, nt_reap(c, &cqe));
	EXPECT_EQ(8 * c->lba, cqe.res);
	EXPECT_EQ(0, nt_wait(c, 2, 0));
}

TEST_F(ctx, layout)
{
	const struct nvme_ring_io_offsets *o = &self->c.s.off;
	const struct nvme_ring_io_info *i = &self->c.info;
	__u64 idx[] = { o->sq.producer, o->sq.consumer, o->sq.flags,
			o->cq.producer, o->cq.consumer, o->cq.flags,
			o->counters };
	unsigned int a, b;

	EXPECT_EQ(DEF_SQ, o->sq.entries);
	EXPECT_EQ(2 * DEF_SQ, o->cq.entries);
	EXPECT_EQ(sizeof(struct nvme_ring_io_sqe), o->sq.desc_size);
	EXPECT_EQ(sizeof(struct nvme_ring_io_cqe), o->cq.desc_size);
	EXPECT_EQ(80, sizeof(struct nvme_ring_io_sqe));
	EXPECT_EQ(32, sizeof(struct nvme_ring_io_cqe));
	/* Every index on its own cache line, all in the first page. */
	for (a = 0; a < sizeof(idx) / sizeof(idx[0]); a++) {
		EXPECT_EQ(0, idx[a] % 64);
		EXPECT_GT(4096, idx[a]);
		for (b = a + 1; b < sizeof(idx) / sizeof(idx[0]); b++)
			EXPECT_LE(64, idx[a] > idx[b] ? idx[a] - idx[b]
						       : idx[b] - idx[a]);
	}
	EXPECT_LE(4096, o->sq.desc);
	EXPECT_LE(o->sq.desc + DEF_SQ * 80, o->cq.desc);
	EXPECT_LE(o->cq.desc + 2 * DEF_SQ * 32, o->data);
	EXPECT_EQ(0, o->data % (2 * MiB));
	EXPECT_EQ(DEF_DATA, o->data_size);
	EXPECT_EQ(o->data + o->data_size, o->region_size);

	EXPECT_EQ(NVME_RING_IO_INFO_F_SETUP | NVME_RING_IO_INFO_F_READ |
		  NVME_RING_IO_INFO_F_WRITE, i->flags);
	EXPECT_EQ(1, i->nsid);
	EXPECT_EQ(512, i->lba_size);
	EXPECT_LT(0, i->nr_lbas);
	EXPECT_LE(4096, i->max_transfer);
	EXPECT_LE(1, i->max_segments);
	EXPECT_EQ(o->region_size, i->region_size);
	EXPECT_EQ(DEF_DATA, i->data_size);
	EXPECT_EQ(-1, i->numa_node);
	EXPECT_EQ(0, i->inflight);
	EXPECT_EQ(0, i->counters.submitted);
	/* The kernel engine consumes the SQ only when asked. */
	EXPECT_TRUE(nrio_ring_need_wakeup(&self->c.sq));
}

TEST_F(ctx, empty_submit_and_complete)
{
	EXPECT_EQ(0, nt_submit(&self->c, 0));
	EXPECT_EQ(0, nt_submit(&self->c, 16));
	/* Nothing in flight: COMPLETE returns at once with 0 ready. */
	EXPECT_EQ(0, nt_wait(&self->c, 1, -1));
	EXPECT_EQ(0, nt_wait(&self->c, 0, -1));
	EXPECT_EQ(-EINVAL, nt_wait(&self->c, 2 * DEF_SQ + 1, 0));
}

TEST_F(ctx, bad_mmaps)
{
	__u64 size = self->c.s.off.region_size;
	int fd = self->c.fd;
	void *p;

	p = mmap(NULL, size - 4096, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, size + 4096, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 4096);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	/* The region is data: never executable. */
	p = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	errno = 0;
	EXPECT_EQ(-1, mprotect(self->c.region, 4096, PROT_READ | PROT_EXEC));
	EXPECT_EQ(EACCES, errno);
	/* The length rounds up to the page, as for any mapping. */
	p = mmap(NULL, size - 1, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, size);
	/* The region cannot grow. */
	p = mremap(self->c.region, size, size + 2 * MiB, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EFAULT, errno);
	/* Pages cannot be punched out from under the module. */
	errno = 0;
	EXPECT_EQ(-1, madvise(self->c.data, 4096, MADV_REMOVE));
	EXPECT_EQ(EOPNOTSUPP, errno);
	/* A second mapping sees the same memory. */
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	self->c.data[123] = 0xa5;
	EXPECT_EQ(0xa5, ((unsigned char *)p)[self->c.s.off.data + 123]);
	munmap(p, size);
}

TEST(readonly_device_fd_cannot_map_writable)
{
	struct nvme_ring_io_setup s;
	int fd, nfd;
	void *p;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	nfd = open(NS1_BLK, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nfd);
	fd = open(NVME_RING_IO_DEVPATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	nt_setup_args(&s, nfd, 8, 0, 1 * MiB);
	ASSERT_EQ(0, ioctl(fd, NVME_RING_IO_SETUP, &s));
	p = mmap(NULL, s.off.region_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, s.off.region_size, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_NE(MAP_FAILED, p);
	munmap(p, s.off.region_size);
	close(fd);
	close(nfd);
}

/* The region outlives the file descriptors while it is mapped. */
TEST(mapping_outlives_close)
{
	struct nt_ctx c;
	unsigned char *data;
	size_t size;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ASSERT_EQ(0, nt_open(&c, NS1_BLK, O_RDWR, 8, 0, 2 * MiB));
	data = c.data;
	size = c.s.off.region_size;
	close(c.fd);
	close(c.nvme_fd);
	memset(data, 0x5a, 2 * MiB);
	EXPECT_EQ(0x5a, data[2 * MiB - 1]);
	EXPECT_EQ(0, munmap(c.region, size));
}

static int thp_shmem_allowed(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
			"r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !strstr(buf, "[deny]");
}

TEST(huge_pages)
{
	struct nt_ctx c;
	int ret;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	if (!thp_shmem_allowed())
		SKIP(return, "THP for shmem is denied in this kernel");
	ret = nt_open(&c, NS1_BLK, O_RDWR, 64, 0, 16 * MiB);
	ASSERT_EQ(0, ret);
	TH_LOG("region %llu bytes, %llu in 2 MiB folios",
	       (unsigned long long)c.info.region_size,
	       (unsigned long long)c.info.huge_bytes);
	/* A fresh guest has plenty of free 2 MiB blocks. */
	EXPECT_EQ(c.info.region_size, c.info.huge_bytes);
	/* shmem chose a 2 MiB aligned address, so PMDs can map it. */
	EXPECT_EQ(0, (unsigned long)c.region % (2 * MiB));
	nt_close(&c);

	/* A region under 2 MiB uses small pages, not a mostly idle folio. */
	ret = nt_open(&c, NS1_BLK, O_RDWR, 8, 0, 64 * 1024);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(0, c.info.huge_bytes);
	EXPECT_EQ(0, c.s.off.data % 4096);
	EXPECT_GT(2 * MiB, c.s.off.region_size);
	nt_close(&c);
}

TEST(generic_char_device)
{
	struct nt_ctx c;
	int ret;

	if (!nt_have(NS2_CHR))
		SKIP(return, "no %s", NS2_CHR);
	ret = nt_open(&c, NS2_CHR, O_RDWR, 8, 0, 1 * MiB);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s", strerror(-ret));
	}
	EXPECT_EQ(NVME_RING_IO_INFO_F_SETUP | NVME_RING_IO_INFO_F_READ |
		  NVME_RING_IO_INFO_F_WRITE | NVME_RING_IO_INFO_F_GENERIC_FD,
		  c.info.flags);
	EXPECT_EQ(2, c.info.nsid);
	EXPECT_EQ(4096, c.info.lba_size);
	nt_close(&c);

	ret = nt_open(&c, NS1_CHR, O_RDONLY, 8, 0, 1 * MiB);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(NVME_RING_IO_INFO_F_SETUP | NVME_RING_IO_INFO_F_READ |
		  NVME_RING_IO_INFO_F_GENERIC_FD, c.info.flags);
	EXPECT_EQ(1, c.info.nsid);
	nt_close(&c);
}

TEST(numa_node_zero)
{
	struct nvme_ring_io_setup s;
	struct nvme_ring_io_info info;
	int fd, nfd;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	nfd = open(NS1_BLK, O_RDWR | O_CLOEXEC);
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	nt_setup_args(&s, nfd, 8, 0, 2 * MiB);
	s.numa_node = 0;
	ASSERT_EQ(0, ioctl(fd, NVME_RING_IO_SETUP, &s));
	ASSERT_EQ(0, nt_info(fd, &info));
	EXPECT_EQ(0, info.numa_node);
	close(fd);
	close(nfd);
}

TEST_HARNESS_MAIN
