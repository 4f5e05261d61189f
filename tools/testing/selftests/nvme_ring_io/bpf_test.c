// SPDX-License-Identifier: GPL-2.0
/*
 * BPF in place on /dev/unified_io_region: programs from bpf/unified.bpf.c
 * (loaded with libbpf, which resolves the module's kfuncs through its
 * BTF) attached to a context's slots and run by BPF descriptors, alone
 * and in chains with NVMe READ and WRITE; every bad attach and every
 * program error with its errno.
 */
#include <libgen.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/unified_io_region.h>

#include "nrio_test.h"

#include "kselftest_harness.h"

#define DATA		(4 * MiB)
#define SCRATCH_LBA	(200 * MiB / 512)	/* NS1, 512-byte LBAs */

struct bt {
	int fd, nvme_fd;
	struct unified_io_setup s;
	struct unified_io_info info;
	unsigned char *region, *data;
	struct nrio_ring sq, cq;
	struct bpf_object *obj;
};

static int bt_prog(struct bt *b, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(b->obj, name);

	return p ? bpf_program__fd(p) : -1;
}

static int bt_attach(struct bt *b, unsigned long cmd, __u32 slot, int prog)
{
	struct unified_io_bpf_attach a = { .slot = slot, .prog_fd = prog };

	return ioctl(b->fd, cmd, &a) ? -errno : 0;
}

static struct unified_io_sqe *bt_sqe(struct bt *b, __u32 idx)
{
	return (struct unified_io_sqe *)nrio_ring_desc(&b->sq, idx);
}

/* Publish @n prepared descriptors, submit, reap @n CQ entries. */
static int bt_run(struct bt *b, __u32 n, struct nvme_ring_io_cqe *cqe)
{
	struct nvme_ring_io_submit sub = { 0 };
	struct nvme_ring_io_complete c = {
		.min_complete = n, .timeout_ns = 10LL * 1000 * 1000 * 1000,
	};
	__u32 got = 0, idx;

	nrio_ring_submit(&b->sq, n);
	if (ioctl(b->fd, UNIFIED_IO_SUBMIT, &sub) != (int)n)
		return -EIO;
	while (got < n) {
		if (nrio_ring_peek(&b->cq, 1, &idx) == 1) {
			cqe[got++] = *nrio_cqe(&b->cq, idx);
			nrio_ring_release(&b->cq, 1);
			continue;
		}
		if (ioctl(b->fd, UNIFIED_IO_COMPLETE, &c) <= 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Reserve @n SQ slots; the first index. */
static __u32 bt_reserve(struct bt *b, __u32 n)
{
	__u32 idx = 0;

	if (nrio_ring_reserve(&b->sq, n, &idx) != n)
		abort();
	return idx;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

FIXTURE(bpf) {
	struct bt b;
};

FIXTURE_SETUP(bpf)
{
	struct bt *b = &self->b;
	char exe[4096], path[4200];
	ssize_t n;

	memset(b, 0, sizeof(*b));
	b->fd = b->nvme_fd = -1;
	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	b->nvme_fd = open(NS1_BLK, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, b->nvme_fd);
	b->fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, b->fd);
	memset(&b->info, 0, sizeof(b->info));
	b->info.size = sizeof(b->info);
	ASSERT_EQ(0, ioctl(b->fd, UNIFIED_IO_INFO, &b->info));
	if (!(b->info.features & UNIFIED_IO_FEAT_BPF)) {
		/* Only a kernel without BTF may lack it. */
		ASSERT_NE(0, access("/sys/kernel/btf/vmlinux", F_OK));
		SKIP(return, "no BTF in this kernel: the module runs no BPF");
	}

	memset(&b->s, 0, sizeof(b->s));
	b->s.size = sizeof(b->s);
	b->s.sq_entries = 16;
	b->s.region_size = DATA;
	b->s.nvme_fd = b->nvme_fd;
	b->s.numa_node = -1;
	/* Before SETUP there are no slots. */
	ASSERT_EQ(-EBADFD, bt_attach(b, UNIFIED_IO_BPF_DETACH, 0, -1));
	ASSERT_EQ(0, ioctl(b->fd, UNIFIED_IO_SETUP, &b->s));
	b->region = mmap(NULL, b->s.off.region_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, b->fd, 0);
	ASSERT_NE(MAP_FAILED, b->region);
	b->data = b->region + b->s.off.data;
	nrio_ring_init(&b->sq, b->region, &b->s.off.sq);
	nrio_ring_init(&b->cq, b->region, &b->s.off.cq);

	libbpf_set_print(libbpf_quiet);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_LT(0, n);
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/unified.bpf.o", dirname(exe));
	b->obj = bpf_object__open_file(path, NULL);
	ASSERT_NE(NULL, b->obj);
	ASSERT_EQ(0, bpf_object__load(b->obj)) {
		TH_LOG("loading %s (the kfuncs need the module's BTF)", path);
	}
}

FIXTURE_TEARDOWN(bpf)
{
	struct bt *b = &self->b;

	if (b->region)
		munmap(b->region, b->s.off.region_size);
	if (b->fd >= 0)
		close(b->fd);
	if (b->nvme_fd >= 0)
		close(b->nvme_fd);
	if (b->obj)
		bpf_object__close(b->obj);
}

TEST_F(bpf, attach_errors)
{
	struct bt *b = &self->b;
	struct unified_io_bpf_attach a = { .slot = 0 };
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	EXPECT_EQ(-EINVAL, bt_attach(b, UNIFIED_IO_BPF_ATTACH,
				     UNIFIED_IO_BPF_SLOTS, bt_prog(b, "ret_arg")));
	EXPECT_EQ(-EINVAL, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 0, nullfd));
	EXPECT_EQ(-EBADF, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 0, 999));
	EXPECT_EQ(-EINVAL, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 0,
				     bt_prog(b, "not_syscall")));
	EXPECT_EQ(-ENOENT, bt_attach(b, UNIFIED_IO_BPF_DETACH, 3, -1));
	EXPECT_EQ(-EINVAL, bt_attach(b, UNIFIED_IO_BPF_DETACH, 3,
				     bt_prog(b, "ret_arg")));
	a.prog_fd = bt_prog(b, "ret_arg");
	a.flags = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(b->fd, UNIFIED_IO_BPF_ATTACH, &a));
	EXPECT_EQ(EINVAL, errno);
	a.flags = 0;
	a.resv = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(b->fd, UNIFIED_IO_BPF_ATTACH, &a));
	EXPECT_EQ(EINVAL, errno);
	/* Attach, replace, detach. */
	EXPECT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 15,
			       bt_prog(b, "ret_arg")));
	EXPECT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 15,
			       bt_prog(b, "xor_range")));
	EXPECT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_DETACH, 15, -1));
	EXPECT_EQ(-ENOENT, bt_attach(b, UNIFIED_IO_BPF_DETACH, 15, -1));
	close(nullfd);
}

/* Without CAP_BPF and CAP_SYS_ADMIN: EPERM. */
TEST_F(bpf, attach_needs_cap_bpf)
{
	struct bt *b = &self->b;
	int status, prog = bt_prog(b, "ret_arg");
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct __user_cap_header_struct h = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct d[2];

		memset(d, 0, sizeof(d));
		/* Keep everything but CAP_BPF and CAP_SYS_ADMIN. */
		d[0].effective = d[0].permitted = ~(1U << CAP_SYS_ADMIN);
		d[1].effective = d[1].permitted =
			~(1U << (CAP_BPF - 32));
		if (syscall(SYS_capset, &h, d))
			_exit(10);
		_exit(bt_attach(b, UNIFIED_IO_BPF_ATTACH, 0, prog) == -EPERM ?
		      0 : 11);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* A BPF descriptor alone: the program works on the data in place. */
TEST_F(bpf, in_place)
{
	struct bt *b = &self->b;
	struct nvme_ring_io_cqe cqe[1];
	__u32 sum = 0, i;

	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 2,
			       bt_prog(b, "xor_range")));
	nt_fill(b->data + 8192, 4096, 5);
	for (i = 0; i < 4096; i++)
		sum += b->data[8192 + i] ^ 0x5a;
	uio_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 2, 8192, 4096, 0x5a, 77, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(77, cqe[0].user_data);
	EXPECT_EQ((int)(sum & 0x7fffffff), cqe[0].res);
	/* XOR once more through the program: the data is back. */
	uio_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 2, 8192, 4096, 0x5a, 78, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_LE(0, cqe[0].res);
	EXPECT_EQ(0, nt_check(b->data + 8192, 4096, 5));
}

/*
 * The seed's pipeline in one SUBMIT: WRITE a block, READ it back into
 * another place, transform it there (BPF), WRITE the result elsewhere;
 * then a plain READ shows the device holds the transformed bytes.
 */
TEST_F(bpf, read_process_write_chain)
{
	struct bt *b = &self->b;
	struct nvme_ring_io_cqe cqe[4];
	__u32 idx, i;

	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 0,
			       bt_prog(b, "xor_range")));
	nt_fill(b->data, 4096, 9);
	memset(b->data + MiB + 44, 0, 4096);
	idx = bt_reserve(b, 4);
	uio_prep_rw(bt_sqe(b, idx), NVME_RING_IO_OP_WRITE, SCRATCH_LBA, 8, 0,
		    4096, 1, true);
	uio_prep_rw(bt_sqe(b, idx + 1), NVME_RING_IO_OP_READ, SCRATCH_LBA, 8,
		    MiB + 44, 4096, 2, true);
	uio_prep_bpf(bt_sqe(b, idx + 2), 0, MiB + 44, 4096, 0xa5, 3, true);
	uio_prep_rw(bt_sqe(b, idx + 3), NVME_RING_IO_OP_WRITE, SCRATCH_LBA + 8,
		    8, MiB + 44, 4096, 4, false);
	ASSERT_EQ(0, bt_run(b, 4, cqe));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(i + 1, cqe[i].user_data);
		EXPECT_LE(0, cqe[i].res);
	}
	memset(b->data + 2 * MiB, 0, 4096);
	idx = bt_reserve(b, 1);
	uio_prep_rw(bt_sqe(b, idx), NVME_RING_IO_OP_READ, SCRATCH_LBA + 8, 8,
		    2 * MiB, 4096, 5, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	ASSERT_EQ(4096, cqe[0].res);
	for (i = 0; i < 4096; i++)
		b->data[2 * MiB + i] ^= 0xa5;
	EXPECT_EQ(0, nt_check(b->data + 2 * MiB, 4096, 9));
}

/* A program's negative result, and its errors, fail the chain. */
TEST_F(bpf, program_errors_cancel_the_chain)
{
	struct bt *b = &self->b;
	struct nvme_ring_io_cqe cqe[3];
	__u32 idx;

	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 1,
			       bt_prog(b, "ret_arg")));
	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 4,
			       bt_prog(b, "past_the_end")));
	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 5,
			       bt_prog(b, "other_handle")));

	/* res is the program's return value. */
	idx = bt_reserve(b, 3);
	uio_prep_bpf(bt_sqe(b, idx), 1, 0, 0, 1234, 10, true);
	uio_prep_bpf(bt_sqe(b, idx + 1), 1, 0, 0, (__u64)-EPROTO, 11, true);
	uio_prep_rw(bt_sqe(b, idx + 2), NVME_RING_IO_OP_READ, SCRATCH_LBA, 1, 0,
		    512, 12, false);
	ASSERT_EQ(0, bt_run(b, 3, cqe));
	EXPECT_EQ(1234, cqe[0].res);
	EXPECT_EQ(-EPROTO, cqe[1].res);
	EXPECT_EQ(-ECANCELED, cqe[2].res);

	/* The kfuncs refuse what lies past the data area... */
	uio_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 4, 0, 0, 0, 20, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-EFAULT, cqe[0].res);
	/* ... and another context's handle. */
	uio_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 5, 0, 0, 0, 21, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-EACCES, cqe[0].res);

	/* Descriptor errors: empty slot, bad slot, bad range, reserved. */
	uio_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 9, 0, 0, 0, 30, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-ENOENT, cqe[0].res);
	uio_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), UNIFIED_IO_BPF_SLOTS, 0, 0, 0, 31,
	       false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-EINVAL, cqe[0].res);
	uio_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 1, DATA - 64, 128, 0, 32, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-EFAULT, cqe[0].res);
	idx = bt_reserve(b, 1);
	uio_prep_bpf(bt_sqe(b, idx), 1, 0, 0, 0, 33, false);
	bt_sqe(b, idx)->cmd.bpf.resv2[5] = 1;
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-EINVAL, cqe[0].res);
}

struct flipper {
	struct bt *b;
	int prog;
	volatile int stop;
};

static void *flip(void *arg)
{
	struct flipper *f = arg;

	while (!f->stop) {
		bt_attach(f->b, UNIFIED_IO_BPF_ATTACH, 6, f->prog);
		bt_attach(f->b, UNIFIED_IO_BPF_DETACH, 6, -1);
	}
	return NULL;
}

/* Detach while descriptors run the slot: each runs the program or ENOENT. */
TEST_F(bpf, detach_while_running)
{
	struct bt *b = &self->b;
	struct flipper f = { .b = b, .prog = bt_prog(b, "ret_arg") };
	struct nvme_ring_io_cqe cqe[8];
	unsigned int ran = 0, missed = 0, round, i;
	pthread_t th;

	ASSERT_EQ(0, pthread_create(&th, NULL, flip, &f));
	for (round = 0; round < 200; round++) {
		__u32 idx = bt_reserve(b, 8);

		for (i = 0; i < 8; i++)
			uio_prep_bpf(bt_sqe(b, idx + i), 6, 0, 0, 7, i, false);
		ASSERT_EQ(0, bt_run(b, 8, cqe));
		for (i = 0; i < 8; i++) {
			if (cqe[i].res == 7)
				ran++;
			else if (cqe[i].res == -ENOENT)
				missed++;
			else
				EXPECT_EQ(7, cqe[i].res);
		}
	}
	f.stop = 1;
	pthread_join(th, NULL);
	TH_LOG("%u ran the program, %u found the slot empty", ran, missed);
	EXPECT_EQ(1600, ran + missed);
}

TEST_HARNESS_MAIN
