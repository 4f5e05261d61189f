// SPDX-License-Identifier: GPL-2.0
/*
 * BPF in place on /dev/unified_io_region: programs from bpf/unified.bpf.c
 * (loaded with libbpf, which resolves the module's kfuncs through its
 * BTF) attached to a context's slots and run by BPF descriptors, alone
 * and in chains with NVMe READ and WRITE; every bad attach and every
 * program error with its errno.  The same programs as io_uring commands
 * (UNIFIED_IO_URING_BPF) and through the library's two engines, which
 * must give the same results step for step.
 */
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <liburing.h>
#include <linux/unified_io_region.h>

#include "nrio_test.h"
#include "nrio_bpf_test.h"
#include "nvme_ring_io.h"

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

FIXTURE(bpf) {
	struct bt b;
};

FIXTURE_SETUP(bpf)
{
	struct bt *b = &self->b;

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

	ASSERT_EQ(0, nt_bpf_load("unified.bpf.o", &b->obj)) {
		TH_LOG("loading unified.bpf.o (the kfuncs need the module's BTF)");
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
		if (nt_drop_bpf_caps())
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
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 2, 8192, 4096, 0x5a, 77, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(77, cqe[0].user_data);
	EXPECT_EQ((int)(sum & 0x7fffffff), cqe[0].res);
	/* XOR once more through the program: the data is back. */
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 2, 8192, 4096, 0x5a, 78, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_LE(0, cqe[0].res);
	EXPECT_EQ(0, nt_check(b->data + 8192, 4096, 5));
}

/*
 * unified_io_node(): a read-only pointer into the data area, or NULL for a
 * range past its end or across a folio (this 4 MiB data area starts on a
 * 2 MiB boundary, so its middle is always one).
 */
TEST_F(bpf, node_pointer)
{
	struct bt *b = &self->b;
	struct unified_io_info info;
	struct nvme_ring_io_cqe cqe[1];
	__u32 sum = 0, i;

	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 3,
			       bt_prog(b, "node_sum")));
	nt_fill(b->data + 8192, 64, 7);
	for (i = 0; i < 64; i++)
		sum += b->data[8192 + i];
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 3, 8192, 64, 0, 1, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ((int)sum, cqe[0].res);
	/* Past the end of the data area. */
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 3, 0, 0, DATA - 32, 2,
		     false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-ENOENT, cqe[0].res);
	/* Across the 2 MiB boundary: two folios. */
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 3, 0, 0, 2 * MiB - 32, 3,
		     false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-ENOENT, cqe[0].res);
	/*
	 * Across a 4 KiB page inside a 2 MiB folio: read in place where the
	 * whole region is in huge folios, refused in the 4 KiB fallback.
	 */
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	ASSERT_EQ(0, ioctl(b->fd, UNIFIED_IO_INFO, &info));
	nt_fill(b->data + MiB - 32, 64, 9);
	for (i = 0, sum = 0; i < 64; i++)
		sum += b->data[MiB - 32 + i];
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 3, 0, 0, MiB - 32, 5,
		     false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	if (info.huge_bytes == info.region_size) {
		EXPECT_EQ((int)sum, cqe[0].res);
	} else {
		EXPECT_EQ(-ENOENT, cqe[0].res);
	}
	TH_LOG("region: %llu of %llu bytes in 2 MiB folios",
	       (unsigned long long)info.huge_bytes,
	       (unsigned long long)info.region_size);
	/* Inside the last folio, up to its last byte. */
	nt_fill(b->data + DATA - 64, 64, 8);
	for (i = 0, sum = 0; i < 64; i++)
		sum += b->data[DATA - 64 + i];
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 3, 0, 0, DATA - 64, 4,
		     false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ((int)sum, cqe[0].res);
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
	uni_prep_rw(bt_sqe(b, idx), NVME_RING_IO_OP_WRITE, SCRATCH_LBA, 8, 0,
		    4096, 1, true);
	uni_prep_rw(bt_sqe(b, idx + 1), NVME_RING_IO_OP_READ, SCRATCH_LBA, 8,
		    MiB + 44, 4096, 2, true);
	uni_prep_bpf(bt_sqe(b, idx + 2), 0, MiB + 44, 4096, 0xa5, 3, true);
	uni_prep_rw(bt_sqe(b, idx + 3), NVME_RING_IO_OP_WRITE, SCRATCH_LBA + 8,
		    8, MiB + 44, 4096, 4, false);
	ASSERT_EQ(0, bt_run(b, 4, cqe));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(i + 1, cqe[i].user_data);
		EXPECT_LE(0, cqe[i].res);
	}
	memset(b->data + 2 * MiB, 0, 4096);
	idx = bt_reserve(b, 1);
	uni_prep_rw(bt_sqe(b, idx), NVME_RING_IO_OP_READ, SCRATCH_LBA + 8, 8,
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
	uni_prep_bpf(bt_sqe(b, idx), 1, 0, 0, 1234, 10, true);
	uni_prep_bpf(bt_sqe(b, idx + 1), 1, 0, 0, (__u64)-EPROTO, 11, true);
	uni_prep_rw(bt_sqe(b, idx + 2), NVME_RING_IO_OP_READ, SCRATCH_LBA, 1, 0,
		    512, 12, false);
	ASSERT_EQ(0, bt_run(b, 3, cqe));
	EXPECT_EQ(1234, cqe[0].res);
	EXPECT_EQ(-EPROTO, cqe[1].res);
	EXPECT_EQ(-ECANCELED, cqe[2].res);

	/* The kfuncs refuse what lies past the data area... */
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 4, 0, 0, 0, 20, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-EFAULT, cqe[0].res);
	/* ... and another context's handle. */
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 5, 0, 0, 0, 21, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-EACCES, cqe[0].res);

	/* Descriptor errors: empty slot, bad slot, bad range, reserved. */
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 9, 0, 0, 0, 30, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-ENOENT, cqe[0].res);
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), UNIFIED_IO_BPF_SLOTS, 0, 0, 0, 31,
	       false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-EINVAL, cqe[0].res);
	uni_prep_bpf(bt_sqe(b, bt_reserve(b, 1)), 1, DATA - 64, 128, 0, 32, false);
	ASSERT_EQ(0, bt_run(b, 1, cqe));
	EXPECT_EQ(-EFAULT, cqe[0].res);
	idx = bt_reserve(b, 1);
	uni_prep_bpf(bt_sqe(b, idx), 1, 0, 0, 0, 33, false);
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
			uni_prep_bpf(bt_sqe(b, idx + i), 6, 0, 0, 7, i, false);
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

/* --- UNIFIED_IO_URING_BPF: a BPF step as an io_uring command ------------- */

/* Queue UNIFIED_IO_URING_BPF on @fd; the payload for the caller to spoil. */
static struct unified_io_uring_bpf *bt_uring_bpf(struct io_uring *ring, int fd,
						 __u32 slot, __u64 off, __u32 len,
						 __u64 arg, __u64 ud, bool link)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct unified_io_uring_bpf *b;

	if (!sqe)
		abort();
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = UNIFIED_IO_URING_BPF;
	sqe->user_data = ud;
	if (link)
		sqe->flags = IOSQE_IO_LINK;
	b = (struct unified_io_uring_bpf *)sqe->cmd;
	b->slot = slot;
	b->data_off = off;
	b->data_len = len;
	b->arg = arg;
	b->user_data = ud;
	return b;
}

struct bt_cqe {
	__u64 ud;
	int res;
	__u64 big;
};

/* Submit what is queued and collect @n CQEs (CQE32) in arrival order. */
static int bt_uring_run(struct io_uring *ring, unsigned int n,
			struct bt_cqe *out)
{
	struct io_uring_cqe *cqe;
	unsigned int i;
	int ret;

	ret = io_uring_submit_and_wait(ring, n);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		ret = io_uring_wait_cqe(ring, &cqe);
		if (ret)
			return ret;
		out[i].ud = cqe->user_data;
		out[i].res = cqe->res;
		out[i].big = (ring->flags & IORING_SETUP_CQE32) ?
			     cqe->big_cqe[0] : 0;
		io_uring_cqe_seen(ring, cqe);
	}
	return 0;
}

/*
 * The command's results: success is res 0 with the program's value in
 * big_cqe[0] (so links go on, also on 6.1), failure a negative res with
 * UNIFIED_IO_URING_F_REFUSED when the program did not run.
 */
TEST_F(bpf, uring_cmd_results_and_links)
{
	struct bt *b = &self->b;
	struct io_uring ring;
	struct bt_cqe c[3];
	__u32 sum = 0, i;

	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 1,
			       bt_prog(b, "ret_arg")));
	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 2,
			       bt_prog(b, "xor_range")));
	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 4,
			       bt_prog(b, "past_the_end")));
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, IORING_SETUP_SQE128 |
					 IORING_SETUP_CQE32));

	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 1234, 1, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(0, c[0].res);
	EXPECT_EQ(1234, c[0].big);
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, (__u64)-EPROTO, 2, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EPROTO, c[0].res);
	EXPECT_EQ(0, c[0].big);
	/* A kfunc's error is the program's result: it ran. */
	bt_uring_bpf(&ring, b->fd, 4, 0, 0, 0, 3, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EFAULT, c[0].res);
	EXPECT_EQ(0, c[0].big);

	/* Linked steps run one after the other, in place. */
	nt_fill(b->data + 8192, 4096, 12);
	for (i = 0; i < 4096; i++)
		sum += b->data[8192 + i] ^ 0x3c;
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 5, 10, true);
	bt_uring_bpf(&ring, b->fd, 2, 8192, 4096, 0x3c, 11, true);
	bt_uring_bpf(&ring, b->fd, 2, 8192, 4096, 0x3c, 12, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 3, c));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(10 + i, c[i].ud);
		EXPECT_EQ(0, c[i].res);
	}
	EXPECT_EQ(5, c[0].big);
	EXPECT_EQ(sum & 0x7fffffff, c[1].big);
	EXPECT_EQ(0, nt_check(b->data + 8192, 4096, 12));

	/* A negative result cancels what is linked to it. */
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, (__u64)-ENOSPC, 20, true);
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 7, 21, true);
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 7, 22, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 3, c));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(i ? -ECANCELED : -ENOSPC, c[i].res);
	io_uring_queue_exit(&ring);
}

/*
 * The program may sleep: issued inline (IO_URING_F_NONBLOCK), the command
 * goes to io-wq and the program runs in an io_uring worker of this
 * process, never in io_uring_enter()'s caller.
 */
TEST_F(bpf, uring_cmd_runs_in_io_wq)
{
	struct bt *b = &self->b;
	struct io_uring ring;
	struct bt_cqe c[2];
	char task[64];

	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 1,
			       bt_prog(b, "thread_id")));
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, IORING_SETUP_SQE128 |
					 IORING_SETUP_CQE32));
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 0, 1, true);
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 0, 2, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 2, c));
	EXPECT_EQ(0, c[0].res);
	EXPECT_EQ(0, c[1].res);
	EXPECT_NE(0, c[0].big);
	EXPECT_NE(gettid(), (pid_t)c[0].big);
	EXPECT_NE(gettid(), (pid_t)c[1].big);
	/* An io_uring worker is a thread of this process (idle for 5 s). */
	snprintf(task, sizeof(task), "/proc/self/task/%u", (__u32)c[0].big);
	EXPECT_EQ(0, access(task, F_OK));
	io_uring_queue_exit(&ring);
}

/* Every bad command with its errno; a refused one cancels its links. */
TEST_F(bpf, uring_cmd_errors)
{
	struct bt *b = &self->b;
	struct unified_io_uring_bpf *bc;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	struct bt_cqe c[2];
	int fd;

	ASSERT_EQ(0, bt_attach(b, UNIFIED_IO_BPF_ATTACH, 1,
			       bt_prog(b, "ret_arg")));
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, IORING_SETUP_SQE128 |
					 IORING_SETUP_CQE32));
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 0, 1, false)->flags = 1;
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EINVAL, c[0].res);
	EXPECT_EQ(UNIFIED_IO_URING_F_REFUSED, c[0].big);
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 0, 2, false)->resv1 = 1;
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EINVAL, c[0].res);
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 0, 3, false)->resv2[2] = 1;
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EINVAL, c[0].res);
	EXPECT_EQ(UNIFIED_IO_URING_F_REFUSED, c[0].big);
	bt_uring_bpf(&ring, b->fd, UNIFIED_IO_BPF_SLOTS, 0, 0, 0, 4, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EINVAL, c[0].res);
	EXPECT_EQ(UNIFIED_IO_URING_F_REFUSED, c[0].big);
	bt_uring_bpf(&ring, b->fd, 1, DATA - 64, 128, 0, 5, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EFAULT, c[0].res);
	EXPECT_EQ(UNIFIED_IO_URING_F_REFUSED, c[0].big);
	/* An empty slot, linked: the next command is cancelled. */
	bt_uring_bpf(&ring, b->fd, 9, 0, 0, 0, 6, true);
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 0, 7, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 2, c));
	EXPECT_EQ(-ENOENT, c[0].res);
	EXPECT_EQ(UNIFIED_IO_URING_F_REFUSED, c[0].big);
	EXPECT_EQ(-ECANCELED, c[1].res);
	/* An unknown command. */
	bc = bt_uring_bpf(&ring, b->fd, 1, 0, 0, 0, 8, false);
	((struct io_uring_sqe *)((char *)bc - offsetof(struct io_uring_sqe,
						       cmd)))->cmd_op =
		UNIFIED_IO_URING_BPF + 1;
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EOPNOTSUPP, c[0].res);

	/* A context before SETUP; /dev/nvme_ring_io has no BPF steps. */
	fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	bt_uring_bpf(&ring, fd, 1, 0, 0, 0, 9, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EBADFD, c[0].res);
	close(fd);
	fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	bt_uring_bpf(&ring, fd, 1, 0, 0, 0, 10, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EOPNOTSUPP, c[0].res);
	close(fd);
	io_uring_queue_exit(&ring);

	/* A ring without big SQEs or without big CQEs: EINVAL. */
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, IORING_SETUP_SQE128));
	bt_uring_bpf(&ring, b->fd, 1, 0, 0, 0, 11, false);
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EINVAL, c[0].res);
	io_uring_queue_exit(&ring);
	ASSERT_EQ(0, io_uring_queue_init(8, &ring, IORING_SETUP_CQE32));
	sqe = io_uring_get_sqe(&ring);
	memset(sqe, 0, sizeof(*sqe));	/* 64 bytes: 16 of payload */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = b->fd;
	sqe->cmd_op = UNIFIED_IO_URING_BPF;
	sqe->user_data = 12;
	ASSERT_EQ(0, bt_uring_run(&ring, 1, c));
	EXPECT_EQ(-EINVAL, c[0].res);
	io_uring_queue_exit(&ring);
}

/* --- the library's two engines, step for step the same -------------------- */

FIXTURE(uni) {
	struct nrio_unified *u;
	unsigned char *data;
	struct bpf_object *obj;
};

FIXTURE_VARIANT(uni) {
	__u32 engine;
};

FIXTURE_VARIANT_ADD(uni, kernel) {
	.engine = NRIO_ENGINE_KERNEL,
};

FIXTURE_VARIANT_ADD(uni, passthru) {
	.engine = NRIO_ENGINE_PASSTHRU,
};

FIXTURE_SETUP(uni)
{
	struct unified_io_info info;
	struct nrio_unified_opts o;

	self->u = NULL;
	self->obj = NULL;
	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	nrio_unified_opts_init(&o);
	o.sq_entries = 16;
	o.region_size = DATA;
	o.engine = variant->engine;
	ASSERT_EQ(0, nrio_unified_open(NS1_BLK, O_RDWR, &o, &self->u));
	ASSERT_EQ(0, nrio_unified_info(self->u, &info));
	self->data = nrio_unified_data(self->u);
	if (!(info.features & UNIFIED_IO_FEAT_BPF)) {
		ASSERT_NE(0, access("/sys/kernel/btf/vmlinux", F_OK));
		SKIP(return, "no BTF in this kernel: the module runs no BPF");
	}
	ASSERT_EQ(0, nt_bpf_load("unified.bpf.o", &self->obj));
}

FIXTURE_TEARDOWN(uni)
{
	nrio_unified_close(self->u);
	if (self->obj)
		bpf_object__close(self->obj);
}

static int uni_attach(struct _test_data_uni *self, __u32 slot,
		      const char *name)
{
	struct bpf_program *p;

	p = bpf_object__find_program_by_name(self->obj, name);
	return p ? nrio_unified_attach_bpf(self->u, slot, bpf_program__fd(p)) :
		   -ENOENT;
}

static struct unified_io_sqe *uni_sqe(struct _test_data_uni *self)
{
	struct unified_io_sqe *sqe = nrio_unified_get_sqe(self->u);

	if (!sqe)
		abort();
	return sqe;
}

/* Submit what was got and reap exactly @n entries within 10 s. */
static int uni_run(struct _test_data_uni *self, unsigned int n,
		   struct nvme_ring_io_cqe *cqe)
{
	int ret = nrio_unified_submit_and_wait(self->u, n);

	if (ret < 0)
		return ret;
	ret = nrio_unified_reap(self->u, cqe, n, n, 10LL * 1000 * 1000 * 1000);
	return ret == (int)n ? 0 : -ETIMEDOUT;
}

/*
 * Where the entry of @ud is among @n: chains post in order, independent
 * descriptors in the order they complete.  -1 if it is missing.
 */
static int uni_pos(const struct nvme_ring_io_cqe *cqe, unsigned int n,
		   __u64 ud)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (cqe[i].user_data == ud)
			return i;
	return -1;
}

#define UIO_RES(cqe, n, ud) \
	(uni_pos(cqe, n, ud) < 0 ? INT_MIN : (cqe)[uni_pos(cqe, n, ud)].res)

/*
 * The seed's pipeline as one chain: WRITE a block, READ it to a 4-byte
 * aligned place, transform it there, WRITE the result; a READ shows the
 * device holds the transformed bytes.  With the passthrough engine the
 * chain is one io_uring submission of linked NVMe and BPF commands.
 */
TEST_F(uni, read_process_write_chain)
{
	struct nvme_ring_io_cqe cqe[4];
	unsigned char *d = self->data;
	__u32 sum = 0, i;

	ASSERT_EQ(0, uni_attach(self, 0, "xor_range"));
	nt_fill(d, 4096, 19);
	for (i = 0; i < 4096; i++)
		sum += d[i] ^ 0x77;
	memset(d + MiB + 44, 0, 4096);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_WRITE, SCRATCH_LBA, 8, 0,
		    4096, 1, true);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, SCRATCH_LBA, 8,
		    MiB + 44, 4096, 2, true);
	uni_prep_bpf(uni_sqe(self), 0, MiB + 44, 4096, 0x77, 3, true);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_WRITE, SCRATCH_LBA + 8, 8,
		    MiB + 44, 4096, 4, false);
	ASSERT_EQ(0, uni_run(self, 4, cqe));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(i + 1, cqe[i].user_data);
	EXPECT_EQ(4096, cqe[0].res);
	EXPECT_EQ(4096, cqe[1].res);
	EXPECT_EQ((int)(sum & 0x7fffffff), cqe[2].res);
	EXPECT_EQ(4096, cqe[3].res);
	EXPECT_EQ(0, nrio_unified_inflight(self->u));

	memset(d + 2 * MiB, 0, 4096);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, SCRATCH_LBA + 8, 8,
		    2 * MiB, 4096, 5, false);
	ASSERT_EQ(0, uni_run(self, 1, cqe));
	ASSERT_EQ(4096, cqe[0].res);
	for (i = 0; i < 4096; i++)
		d[2 * MiB + i] ^= 0x77;
	EXPECT_EQ(0, nt_check(d + 2 * MiB, 4096, 19));
}

/* A byte of @in XORed with @key, as xor_range leaves it. */
static int xored(const unsigned char *got, const unsigned char *in,
		 size_t len, unsigned char key)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (got[i] != (in[i] ^ key))
			return (int)i + 1;
	return 0;
}

/*
 * The seed's in-memory database as one chain over TCP: receive a request,
 * process it in place in BPF, persist it, send the answer, all from the
 * bytes where the socket put them.
 */
TEST_F(uni, net_recv_bpf_write_send_chain)
{
	struct nvme_ring_io_cqe cqe[4];
	unsigned char *d = self->data, req[4096], resp[4096];
	int mine = -1, peer = -1;
	__u32 sum = 0, i;

	ASSERT_EQ(0, uni_attach(self, 0, "xor_range"));
	ASSERT_EQ(0, nt_sock_pair(SOCK_STREAM, &mine, &peer));
	ASSERT_EQ(0, nrio_unified_attach_sock(self->u, 3, mine));
	nt_fill(req, sizeof(req), 23);
	for (i = 0; i < sizeof(req); i++)
		sum += req[i] ^ 0x5a;

	uni_prep_net(uni_sqe(self), false, 3, MiB + 4, 4096, MSG_WAITALL, 1,
		     true);
	uni_prep_bpf(uni_sqe(self), 0, MiB + 4, 4096, 0x5a, 2, true);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_WRITE, SCRATCH_LBA + 64, 8,
		    MiB + 4, 4096, 3, true);
	uni_prep_net(uni_sqe(self), true, 3, MiB + 4, 4096, 0, 4, false);
	ASSERT_EQ(4, nrio_unified_submit(self->u));
	/* Nothing can run before the request arrives. */
	ASSERT_EQ(0, nrio_unified_reap(self->u, cqe, 4, 0, 0));
	ASSERT_EQ(sizeof(req), send(peer, req, sizeof(req), 0));
	ASSERT_EQ(4, nrio_unified_reap(self->u, cqe, 4, 4,
				   10LL * 1000 * 1000 * 1000));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(i + 1, cqe[i].user_data);
	EXPECT_EQ(4096, cqe[0].res);
	EXPECT_EQ((int)(sum & 0x7fffffff), cqe[1].res);
	EXPECT_EQ(4096, cqe[2].res);
	EXPECT_EQ(4096, cqe[3].res);
	ASSERT_EQ(sizeof(resp), recv(peer, resp, sizeof(resp), MSG_WAITALL));
	EXPECT_EQ(0, xored(resp, req, sizeof(req), 0x5a));

	/* What was persisted is the processed request. */
	memset(d, 0, 4096);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, SCRATCH_LBA + 64, 8,
		    0, 4096, 5, false);
	ASSERT_EQ(0, uni_run(self, 1, cqe));
	ASSERT_EQ(4096, cqe[0].res);
	EXPECT_EQ(0, xored(d, req, sizeof(req), 0x5a));
	close(mine);
	close(peer);
}

/* Storage to network: NVMe READ -> BPF -> NET_SEND of one UDP datagram. */
TEST_F(uni, nvme_read_bpf_send_chain)
{
	struct nvme_ring_io_cqe cqe[3];
	unsigned char *d = self->data, want[2048], got[4096];
	int mine = -1, peer = -1;

	ASSERT_EQ(0, uni_attach(self, 2, "xor_range"));
	ASSERT_EQ(0, nt_sock_pair(SOCK_DGRAM, &mine, &peer));
	ASSERT_EQ(0, nrio_unified_attach_sock(self->u, 0, mine));
	nt_fill(d, sizeof(want), 29);
	memcpy(want, d, sizeof(want));
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_WRITE, SCRATCH_LBA + 80, 4,
		    0, 2048, 1, false);
	ASSERT_EQ(0, uni_run(self, 1, cqe));
	ASSERT_EQ(2048, cqe[0].res);

	memset(d + 2 * MiB + 44, 0, 2048);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, SCRATCH_LBA + 80, 4,
		    2 * MiB + 44, 2048, 2, true);
	uni_prep_bpf(uni_sqe(self), 2, 2 * MiB + 44, 2048, 0xc3, 3, true);
	uni_prep_net(uni_sqe(self), true, 0, 2 * MiB + 44, 2048, 0, 4, false);
	ASSERT_EQ(0, uni_run(self, 3, cqe));
	EXPECT_EQ(2048, cqe[0].res);
	EXPECT_LE(0, cqe[1].res);
	EXPECT_EQ(2048, cqe[2].res);
	ASSERT_EQ(2048, nt_recv_sent(peer, got, sizeof(got)));
	EXPECT_EQ(0, xored(got, want, sizeof(want), 0xc3));
	close(mine);
	close(peer);
}

/* Program results and every step error, the same errno on both engines. */
TEST_F(uni, step_errors)
{
	struct nvme_ring_io_cqe cqe[4];
	struct unified_io_sqe *sqe;

	ASSERT_EQ(0, uni_attach(self, 1, "ret_arg"));
	/* res is the program's value; a negative one cancels the chain. */
	uni_prep_bpf(uni_sqe(self), 1, 0, 0, 1234, 10, true);
	uni_prep_bpf(uni_sqe(self), 1, 0, 0, (__u64)-EPROTO, 11, true);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, SCRATCH_LBA, 1, 0,
		    512, 12, false);
	ASSERT_EQ(0, uni_run(self, 3, cqe));
	EXPECT_EQ(1234, cqe[0].res);
	EXPECT_EQ(-EPROTO, cqe[1].res);
	EXPECT_EQ(-ECANCELED, cqe[2].res);

	/* The program's checks: empty slot, bad slot, range. */
	uni_prep_bpf(uni_sqe(self), 9, 0, 0, 0, 20, true);
	uni_prep_bpf(uni_sqe(self), 1, 0, 0, 0, 21, false);
	ASSERT_EQ(0, uni_run(self, 2, cqe));
	EXPECT_EQ(-ENOENT, cqe[0].res);
	EXPECT_EQ(-ECANCELED, cqe[1].res);
	uni_prep_bpf(uni_sqe(self), UNIFIED_IO_BPF_SLOTS, 0, 0, 0, 22, false);
	uni_prep_bpf(uni_sqe(self), 1, DATA - 64, 128, 0, 23, false);
	ASSERT_EQ(0, uni_run(self, 2, cqe));
	EXPECT_EQ(-EINVAL, UIO_RES(cqe, 2, 22));
	EXPECT_EQ(-EFAULT, UIO_RES(cqe, 2, 23));

	/* The descriptor's: reserved bits, types, NVMe fields. */
	sqe = uni_sqe(self);
	uni_prep_bpf(sqe, 1, 0, 0, 0, 30, false);
	sqe->cmd.bpf.resv2[3] = 1;
	sqe = uni_sqe(self);
	uni_prep_bpf(sqe, 1, 0, 0, 0, 31, false);
	sqe->flags |= 0x80;
	sqe = uni_sqe(self);
	uni_prep_bpf(sqe, 1, 0, 0, 0, 32, false);
	sqe->type = UNIFIED_IO_TYPE_NET_SEND;
	sqe = uni_sqe(self);
	uni_prep_bpf(sqe, 1, 0, 0, 0, 33, false);
	sqe->type = 77;
	ASSERT_EQ(0, uni_run(self, 4, cqe));
	EXPECT_EQ(-EINVAL, UIO_RES(cqe, 4, 30));
	EXPECT_EQ(-EINVAL, UIO_RES(cqe, 4, 31));
	/* A socket step of length 0, checked by both engines. */
	EXPECT_EQ(-EINVAL, UIO_RES(cqe, 4, 32));
	EXPECT_EQ(-EINVAL, UIO_RES(cqe, 4, 33));

	/*
	 * A bad step in the middle of a chain: the READ before it runs, it
	 * fails with its errno, the step after it is cancelled.
	 */
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, SCRATCH_LBA, 1, 0,
		    512, 40, true);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, SCRATCH_LBA, 1, 2,
		    512, 41, true);		/* not 4-byte aligned */
	uni_prep_bpf(uni_sqe(self), 1, 0, 0, 5, 42, false);
	ASSERT_EQ(0, uni_run(self, 3, cqe));
	EXPECT_EQ(512, cqe[0].res);
	EXPECT_EQ(-EINVAL, cqe[1].res);
	EXPECT_EQ(-ECANCELED, cqe[2].res);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, ~0ULL >> 1, 1, 0,
		    512, 43, true);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, SCRATCH_LBA, 1,
		    DATA - 256, 512, 44, false);
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, SCRATCH_LBA, 2, 0,
		    512, 45, false);
	ASSERT_EQ(0, uni_run(self, 3, cqe));
	EXPECT_EQ(-ERANGE, UIO_RES(cqe, 3, 43));
	EXPECT_EQ(-ECANCELED, UIO_RES(cqe, 3, 44));
	EXPECT_LT(uni_pos(cqe, 3, 43), uni_pos(cqe, 3, 44));
	/* data_len is not NLB * 512 */
	EXPECT_EQ(-EINVAL, UIO_RES(cqe, 3, 45));
	uni_prep_rw(uni_sqe(self), NVME_RING_IO_OP_READ, SCRATCH_LBA, 1,
		    DATA - 256, 512, 46, false);
	sqe = uni_sqe(self);
	uni_prep_rw(sqe, NVME_RING_IO_OP_READ, SCRATCH_LBA, 1, 0, 512, 47,
		    false);
	sqe->cmd.nvme.nsid = 77;
	ASSERT_EQ(0, uni_run(self, 2, cqe));
	EXPECT_EQ(-EFAULT, UIO_RES(cqe, 2, 46));
	EXPECT_EQ(-EINVAL, UIO_RES(cqe, 2, 47));
	EXPECT_EQ(0, nrio_unified_inflight(self->u));
}

/*
 * Chains take CQ room for all their steps before they start: with 32 CQ
 * slots and nothing reaped, the fifth chain of eight waits; an SQ ring
 * filled by one chain without an end completes all of it with EINVAL.
 */
TEST_F(uni, cq_room_and_endless_chains)
{
	struct nvme_ring_io_cqe cqe[40];
	int last[5] = { -1, -1, -1, -1, -1 };
	unsigned int c, i, got;

	ASSERT_EQ(0, uni_attach(self, 1, "ret_arg"));
	/* Chain c's step i: user_data and result 8 * c + i. */
	for (c = 0; c < 4; c += 2) {
		for (i = 0; i < 16; i++)
			uni_prep_bpf(uni_sqe(self), 1, 0, 0, 8 * c + i,
				     8 * c + i, i % 8 != 7);
		ASSERT_EQ(16, nrio_unified_submit(self->u));
	}
	for (i = 0; i < 8; i++)
		uni_prep_bpf(uni_sqe(self), 1, 0, 0, 32 + i, 32 + i, i != 7);
	EXPECT_EQ(0, nrio_unified_submit(self->u));	/* the CQ is full */
	got = nrio_unified_reap(self->u, cqe, 8, 8, 10LL * 1000 * 1000 * 1000);
	ASSERT_EQ(8, got);
	EXPECT_EQ(8, nrio_unified_submit(self->u));	/* room again */
	ASSERT_EQ(32, nrio_unified_reap(self->u, cqe + 8, 32, 32,
				    10LL * 1000 * 1000 * 1000));
	/* Every step once, with its result, each chain in order. */
	for (i = 0; i < 40; i++) {
		__u64 ud = cqe[i].user_data;

		ASSERT_GT(40, ud);
		EXPECT_EQ((int)ud, cqe[i].res);
		EXPECT_EQ(i, uni_pos(cqe, 40, ud));
		EXPECT_EQ(last[ud / 8] + 1, (int)(ud % 8));
		last[ud / 8] = ud % 8;
	}

	for (i = 0; i < 16; i++)
		uni_prep_bpf(uni_sqe(self), 1, 0, 0, 0, 200 + i, true);
	/* The SQ is full. */
	EXPECT_EQ(NULL, nrio_unified_get_sqe(self->u));
	ASSERT_EQ(16, nrio_unified_submit(self->u));
	ASSERT_EQ(16, nrio_unified_reap(self->u, cqe, 32, 16, 0));
	for (i = 0; i < 16; i++) {
		EXPECT_EQ(200 + i, cqe[i].user_data);
		EXPECT_EQ(-EINVAL, cqe[i].res);
	}
}

TEST_HARNESS_MAIN
