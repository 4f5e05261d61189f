// SPDX-License-Identifier: GPL-2.0
/*
 * Read-next BPF steps on /dev/unified_io_region (cmd.bpf.max_hops): the
 * programs of bpf/chain.bpf.c ask for reads that the kernel engine issues
 * and runs them again on, without a return to userspace.  Reads of every
 * size the namespaces take on both namespaces, the hop limit, every bad
 * read a program can ask for with its errno (and nothing read or written
 * outside), close and exit while a chain hops, the attach rules, and a
 * step that keeps its program while its slot is re-attached or detached.
 * Then an on-disk B+-tree (btree.h) written onto the namespace: random
 * keys looked up from userspace (one READ per level through the ring) and
 * as one READ -> read-next BPF chain per lookup, both against the
 * in-memory model, at depths 3 to 6.
 *
 * Disk space: bytes [448 MiB, 480 MiB) of each namespace, which no other
 * test uses (io_test 64 MiB.., unified_test 96/104 MiB, lib_test 128 MiB,
 * bpf_test, net_test and concurrency_test 200 MiB.., xsk_test 384 MiB,
 * fuzz_test 400-416 MiB).
 */
#include <libgen.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nrio_unified_test.h"
#include "nrio_bpf_test.h"
#include "nrio_target.h"
#include "btree.h"

#include "kselftest_harness.h"

#define NS_BASE		(448 * MiB)	/* bytes into each namespace */
#define PAT_LEN		(4 * MiB)	/* the pattern written there */
#define TREE_BASE	(456 * MiB)	/* B-trees from here to 480 MiB */
#define REGION		(8 * MiB)
#define HOPS_PARAM	"/sys/module/nvme_ring_io/parameters/max_bpf_hops"

enum { SLOT_LIST, SLOT_LOOP, SLOT_BTREE, SLOT_BTREE_ROOT };

static int prog_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	return p ? bpf_program__fd(p) : -1;
}

static int attach(int fd, __u32 slot, int prog)
{
	struct unified_io_bpf_attach a = { .slot = slot, .prog_fd = prog };

	return ioctl(fd, UNIFIED_IO_BPF_ATTACH, &a) ? -errno : 0;
}

static unsigned int hops_param(void)
{
	FILE *f = fopen(HOPS_PARAM, "r");
	unsigned int v = 0;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static int set_hops_param(unsigned int v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%u", v);
	return nt_write_file(HOPS_PARAM, buf);
}

/* A read-next step: @slot's program over [@off, +@len), at most @hops. */
static void prep_hop(struct unified_io_sqe *sqe, __u32 slot, __u64 off,
		     __u32 len, __u64 arg, __u32 hops, __u64 ud, bool link)
{
	uni_prep_bpf(sqe, slot, off, len, arg, ud, link);
	sqe->cmd.bpf.max_hops = hops;
}

/* Skip unless the module runs read-next steps (needs BTF). */
static int need_read_next(struct __test_metadata *_metadata)
{
	struct unified_io_info info;
	int fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);

	if (fd < 0 || uni_info(fd, &info))
		return -1;
	close(fd);
	if (!(info.features & UNIFIED_IO_FEAT_BPF)) {
		/* Only a kernel without BTF may lack it. */
		if (!access("/sys/kernel/btf/vmlinux", F_OK))
			return -1;
		return 0;
	}
	if (!(info.features & UNIFIED_IO_FEAT_BPF_READ_NEXT) ||
	    info.abi_version < 2)
		return -1;
	return 1;
}

/* --- the mechanism ------------------------------------------------------ */

FIXTURE(chain) {
	struct uni u;
	struct bpf_object *obj;
	unsigned char *pat;	/* what [NS_BASE, +PAT_LEN) holds */
	__u64 base;		/* NS_BASE in LBAs */
};

FIXTURE_VARIANT(chain) {
	const char *dev;
	__u32 lba;
};

FIXTURE_VARIANT_ADD(chain, ns1) { .dev = NS1_BLK, .lba = 512 };
FIXTURE_VARIANT_ADD(chain, ns2) { .dev = NS2_BLK, .lba = 4096 };

FIXTURE_SETUP(chain)
{
	int have, wfd;

	memset(&self->u, 0, sizeof(self->u));
	self->u.fd = self->u.nvme_fd = -1;
	self->obj = NULL;
	self->pat = NULL;
	if (!nt_have(variant->dev))
		SKIP(return, "no %s", variant->dev);
	have = need_read_next(_metadata);
	ASSERT_LE(0, have) {
		TH_LOG("a kernel with BTF must run read-next BPF steps");
	}
	if (!have)
		SKIP(return, "no BTF in this kernel: the module runs no BPF");
	ASSERT_EQ(0, uni_open(&self->u, variant->dev, O_RDWR, 64, 128,
			      REGION));
	ASSERT_EQ(variant->lba, self->u.lba);
	self->base = NS_BASE / variant->lba;

	/* A known pattern on the disk, written around the module. */
	self->pat = malloc(PAT_LEN);
	ASSERT_NE(NULL, self->pat);
	nt_fill(self->pat, PAT_LEN, 4815);
	wfd = open(variant->dev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(PAT_LEN, pwrite(wfd, self->pat, PAT_LEN, NS_BASE));
	ASSERT_EQ(0, fsync(wfd));
	close(wfd);

	ASSERT_EQ(0, nt_bpf_load("chain.bpf.o", &self->obj)) {
		TH_LOG("loading chain.bpf.o (the kfuncs need the module's BTF)");
	}
	ASSERT_EQ(0, attach(self->u.fd, SLOT_LIST,
			    prog_fd(self->obj, "read_list")));
	ASSERT_EQ(0, attach(self->u.fd, SLOT_LOOP,
			    prog_fd(self->obj, "loop_same")));
}

FIXTURE_TEARDOWN(chain)
{
	uni_close(&self->u);
	if (self->obj)
		bpf_object__close(self->obj);
	free(self->pat);
}

/* Expected bytes of LBA @slba on, from the pattern. */
static const unsigned char *pat_at(FIXTURE_DATA(chain) *self, __u32 lba,
				   __u64 slba)
{
	return self->pat + (slba - self->base) * lba;
}

/* Put read @i of a read_list at data offset @list. */
static void put_req(struct uni *u, __u64 list, __u32 i, __u64 slba,
		    __u32 nlb, __u64 off)
{
	struct bt_req r = { .slba = slba, .nlb = nlb, .off = off };

	memcpy(u->data + list + i * sizeof(r), &r, sizeof(r));
}

/* Publish @n descriptors prepared from @idx, submit, reap @n into @cqe. */
static int run(struct uni *u, __u32 n, struct nvme_ring_io_cqe *cqe)
{
	nrio_ring_submit(&u->sq, n);
	if (uni_submit(u) != (int)n)
		return -EIO;
	return uni_reap(u, cqe, n);
}

/*
 * Reads of every size, at LBA-aligned and merely 4-byte-aligned data
 * offsets, one across a 2 MiB folio edge: the program sees each read's
 * bytes (its result is their first words XORed), the data area holds
 * them, and the CQ entry counts the reads.  Once as a descriptor alone,
 * once as the middle of READ -> read-next -> read-next -> READ, whose two
 * read-next steps each start with a zero scratch area.
 */
TEST_F(chain, reads_of_every_size)
{
	struct uni *u = &self->u;
	__u32 lba = variant->lba, i;
	struct nvme_ring_io_cqe cqe[4];
	struct { __u64 slba; __u32 nlb; __u64 off; } r[] = {
		{ self->base + 1, 1, 64 * 1024 },
		{ self->base + 7, 3, 128 * 1024 + 4 },
		{ self->base + 64, 65536 / lba, 256 * 1024 },
		{ self->base + 100, (MiB + lba) / lba, 2 * MiB - 8192 },
		{ self->base + 5, 8192 / lba, 4 * MiB + 44 },
	};
	__u32 n = sizeof(r) / sizeof(r[0]);
	__u64 x = 0, ud;
	int pass;

	for (i = 0; i < n; i++) {
		__u64 v;

		memcpy(&v, pat_at(self, lba, r[i].slba), 8);
		x ^= v;
	}
	for (pass = 0; pass < 2; pass++) {
		__u32 idx, k = 0;

		memset(u->data + 64 * 1024, 0xee, 6 * MiB);
		for (i = 0; i < n; i++)
			put_req(u, 0, i, r[i].slba, r[i].nlb, r[i].off);
		/* The second step's list: the first two reads again. */
		for (i = 0; i < 2; i++)
			put_req(u, 4096, i, r[i].slba, r[i].nlb, r[i].off);
		idx = uni_reserve(u, pass ? 4 : 1);
		if (pass)
			uni_prep_rw(uni_sqe(u, idx + k++), NVME_RING_IO_OP_READ,
				    self->base, 1, 7 * MiB, lba, 1, true);
		prep_hop(uni_sqe(u, idx + k++), SLOT_LIST, 0, 4096, n, n, 2,
			 pass);
		if (pass) {
			prep_hop(uni_sqe(u, idx + k++), SLOT_LIST, 4096, 4096,
				 2, 2, 3, true);
			uni_prep_rw(uni_sqe(u, idx + k++), NVME_RING_IO_OP_READ,
				    self->base + 2, 1, 7 * MiB + lba, lba, 4,
				    false);
		}
		ASSERT_EQ(0, run(u, k, cqe));
		for (i = 0; i < k; i++) {
			ud = cqe[i].user_data;
			if (ud == 2) {
				EXPECT_EQ((int)(x & 0x7fffffff), cqe[i].res);
				EXPECT_EQ(n, cqe[i].result0);
			} else if (ud == 3) {
				__u64 a, b;

				memcpy(&a, pat_at(self, lba, r[0].slba), 8);
				memcpy(&b, pat_at(self, lba, r[1].slba), 8);
				EXPECT_EQ((int)((a ^ b) & 0x7fffffff),
					  cqe[i].res);
				EXPECT_EQ(2, cqe[i].result0);
			} else {
				EXPECT_EQ((int)lba, cqe[i].res);
				EXPECT_EQ(0, cqe[i].result0);
			}
		}
		for (i = 0; i < n; i++)
			EXPECT_EQ(0, memcmp(u->data + r[i].off,
					    pat_at(self, lba, r[i].slba),
					    r[i].nlb * lba)) {
				TH_LOG("pass %d read %u", pass, i);
			}
		if (pass) {
			EXPECT_EQ(0, memcmp(u->data + 7 * MiB,
					    pat_at(self, lba, self->base), lba));
			EXPECT_EQ(0, memcmp(u->data + 7 * MiB + lba,
					    pat_at(self, lba, self->base + 2),
					    lba));
		}
	}
}

/* A program that asks for the same LBA for ever stops at max_hops. */
TEST_F(chain, hop_limit)
{
	struct uni *u = &self->u;
	struct nvme_ring_io_cqe cqe[2];
	unsigned int max = hops_param();
	__u32 idx;

	ASSERT_LT(0, max);
	idx = uni_reserve(u, 2);
	prep_hop(uni_sqe(u, idx), SLOT_LOOP, 0, variant->lba, self->base, 5,
		 1, true);
	uni_prep_rw(uni_sqe(u, idx + 1), NVME_RING_IO_OP_READ, self->base, 1,
		    0, variant->lba, 2, false);
	ASSERT_EQ(0, run(u, 2, cqe));
	EXPECT_EQ(-ELOOP, cqe[0].res);
	EXPECT_EQ(5, cqe[0].result0);
	EXPECT_EQ(-ECANCELED, cqe[1].res);

	/* The module parameter's value itself is allowed. */
	prep_hop(uni_sqe(u, uni_reserve(u, 1)), SLOT_LOOP, 0, variant->lba,
		 self->base, max, 3, false);
	ASSERT_EQ(0, run(u, 1, cqe));
	EXPECT_EQ(-ELOOP, cqe[0].res);
	EXPECT_EQ(max, cqe[0].result0);

	/* A list of 3 reads takes exactly 3 hops: 3 is enough, 2 is not. */
	put_req(u, 0, 0, self->base, 1, 8192);
	put_req(u, 0, 1, self->base + 1, 1, 8192);
	put_req(u, 0, 2, self->base + 2, 1, 8192);
	prep_hop(uni_sqe(u, uni_reserve(u, 1)), SLOT_LIST, 0, 4096, 3, 3, 4,
		 false);
	ASSERT_EQ(0, run(u, 1, cqe));
	EXPECT_LE(0, cqe[0].res);
	EXPECT_EQ(3, cqe[0].result0);
	prep_hop(uni_sqe(u, uni_reserve(u, 1)), SLOT_LIST, 0, 4096, 3, 2, 5,
		 false);
	ASSERT_EQ(0, run(u, 1, cqe));
	EXPECT_EQ(-ELOOP, cqe[0].res);
	EXPECT_EQ(2, cqe[0].result0);
}

/* max_hops above the module parameter: EINVAL when the step starts. */
TEST_F(chain, max_hops_above_the_parameter)
{
	struct uni *u = &self->u;
	struct nvme_ring_io_cqe cqe[2];
	unsigned int max = hops_param();
	struct unified_io_info info;
	__u64 invalid;
	__u32 idx;

	ASSERT_LT(0, max);
	ASSERT_EQ(0, uni_info(u->fd, &info));
	invalid = info.counters.sq_invalid;
	idx = uni_reserve(u, 2);
	prep_hop(uni_sqe(u, idx), SLOT_LOOP, 0, variant->lba, self->base,
		 max + 1, 1, true);
	uni_prep_rw(uni_sqe(u, idx + 1), NVME_RING_IO_OP_READ, self->base, 1,
		    0, variant->lba, 2, false);
	ASSERT_EQ(0, run(u, 2, cqe));
	EXPECT_EQ(-EINVAL, cqe[0].res);
	EXPECT_EQ(0, cqe[0].result0);
	EXPECT_EQ(-ECANCELED, cqe[1].res);
	prep_hop(uni_sqe(u, uni_reserve(u, 1)), SLOT_LOOP, 0, variant->lba,
		 self->base, ~0U, 3, false);
	ASSERT_EQ(0, run(u, 1, cqe));
	EXPECT_EQ(-EINVAL, cqe[0].res);
	ASSERT_EQ(0, uni_info(u->fd, &info));
	EXPECT_EQ(invalid + 2, info.counters.sq_invalid);
}

/*
 * Every bad read a program can ask for fails its step with the errno an
 * NVMe READ descriptor gets for it, reads nothing (the bytes where it
 * would have gone, and the end of the data area, stay as they were) and
 * cancels the rest of the chain.
 */
TEST_F(chain, bad_reads)
{
	struct uni *u = &self->u;
	__u64 nr = u->info.nr_lbas, size = u->info.data_size;
	__u32 lba = variant->lba, i;
	struct {
		__u64 slba;
		__u32 nlb, resv;
		__u64 off;
		int err;
	} bad[] = {
		{ nr, 1, 0, 8192, -ERANGE },
		{ nr - 1, 2, 0, 8192, -ERANGE },
		{ 1ULL << 62, 1, 0, 8192, -ERANGE },
		{ ~0ULL, 1, 0, 8192, -ERANGE },
		{ self->base, 1, 0, size - lba / 2, -EFAULT },
		{ self->base, 2, 0, size - lba, -EFAULT },
		{ self->base, 1, 0, ~3ULL - 8, -EFAULT },
		{ self->base, 1, 0, 8194, -EINVAL },
		{ self->base, 0, 0, 8192, -EINVAL },
		{ self->base, UNIFIED_IO_BPF_MAX_NLB + 1, 0, 8192, -EINVAL },
		{ self->base, 1, 1, 8192, -EINVAL },
	};
	struct nvme_ring_io_cqe cqe[3];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bt_req r = {
			.slba = bad[i].slba, .nlb = bad[i].nlb,
			.resv = bad[i].resv, .off = bad[i].off,
		};
		__u32 idx;

		memset(u->data + 8192, 0xee, 2 * lba);
		memset(u->data + size - 2 * lba, 0xee, 2 * lba);
		/* One good read first: the bad one is the second hop. */
		put_req(u, 0, 0, self->base + 3, 1, 16384);
		memcpy(u->data + sizeof(r), &r, sizeof(r));
		idx = uni_reserve(u, 3);
		uni_prep_rw(uni_sqe(u, idx), NVME_RING_IO_OP_READ, self->base,
			    1, 32768, lba, 1, true);
		prep_hop(uni_sqe(u, idx + 1), SLOT_LIST, 0, 4096, 2, 4, 2,
			 true);
		uni_prep_rw(uni_sqe(u, idx + 2), NVME_RING_IO_OP_READ,
			    self->base, 1, 32768, lba, 3, false);
		ASSERT_EQ(0, run(u, 3, cqe));
		EXPECT_EQ(lba, cqe[0].res);
		EXPECT_EQ(bad[i].err, cqe[1].res) {
			TH_LOG("bad read %u", i);
		}
		EXPECT_EQ(1, cqe[1].result0);
		EXPECT_EQ(-ECANCELED, cqe[2].res);
		EXPECT_EQ(0, memcmp(u->data + 16384,
				    pat_at(self, lba, self->base + 3), lba));
		EXPECT_EQ(0xee, u->data[8192]);
		EXPECT_EQ(0xee, u->data[8192 + 2 * lba - 1]);
		EXPECT_EQ(0xee, u->data[size - 2 * lba]);
		EXPECT_EQ(0xee, u->data[size - 1]);
	}
}

/*
 * A read-next descriptor that fails its own checks (reserved field, flag)
 * before it runs: EINVAL, no read, result0 0, also right after another
 * read-next step of the same chain that issued reads.
 */
TEST_F(chain, bad_descriptor)
{
	struct uni *u = &self->u;
	struct nvme_ring_io_cqe cqe[3];
	__u32 idx;

	idx = uni_reserve(u, 1);
	prep_hop(uni_sqe(u, idx), SLOT_LOOP, 0, variant->lba, self->base, 4,
		 1, false);
	uni_sqe(u, idx)->cmd.bpf.resv2[5] = 1;
	ASSERT_EQ(0, run(u, 1, cqe));
	EXPECT_EQ(-EINVAL, cqe[0].res);
	EXPECT_EQ(0, cqe[0].result0);

	put_req(u, 0, 0, self->base, 1, 8192);
	put_req(u, 0, 1, self->base + 1, 1, 8192);
	idx = uni_reserve(u, 3);
	prep_hop(uni_sqe(u, idx), SLOT_LIST, 0, 4096, 2, 2, 1, true);
	prep_hop(uni_sqe(u, idx + 1), SLOT_LOOP, 0, variant->lba, self->base,
		 4, 2, true);
	uni_sqe(u, idx + 1)->flags |= 0x80;
	uni_prep_rw(uni_sqe(u, idx + 2), NVME_RING_IO_OP_READ, self->base, 1,
		    0, variant->lba, 3, false);
	ASSERT_EQ(0, run(u, 3, cqe));
	EXPECT_LE(0, cqe[0].res);
	EXPECT_EQ(2, cqe[0].result0);
	EXPECT_EQ(-EINVAL, cqe[1].res);
	EXPECT_EQ(0, cqe[1].result0);
	EXPECT_EQ(-ECANCELED, cqe[2].res);
}

/* A program returning READ_NEXT in an ordinary step just returns that. */
TEST_F(chain, ordinary_step_unchanged)
{
	struct uni *u = &self->u;
	struct nvme_ring_io_cqe cqe[1];

	memset(u->data, 0xee, variant->lba);
	prep_hop(uni_sqe(u, uni_reserve(u, 1)), SLOT_LOOP, 0, variant->lba,
		 self->base, 0, 1, false);
	ASSERT_EQ(0, run(u, 1, cqe));
	EXPECT_EQ(UNIFIED_IO_BPF_READ_NEXT, cqe[0].res);
	EXPECT_EQ(0, cqe[0].result0);
	EXPECT_EQ(0xee, u->data[0]);
}

/*
 * Close, and exit, while chains hop (up to a million reads each): the
 * chains end at their next read, and every reference the module took
 * comes back.  (The console check catches any splat.)
 */
TEST_F(chain, close_and_exit_while_hopping)
{
	unsigned int old = hops_param();
	int base, status, round;
	pid_t pid;

	ASSERT_EQ(0, set_hops_param(1000000));
	base = nt_refcnt_settled();
	ASSERT_LE(0, base);
	for (round = 0; round < 2; round++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct uni c;
			__u32 idx, i;

			if (uni_open(&c, variant->dev, O_RDWR, 16, 0, MiB) ||
			    attach(c.fd, 1, prog_fd(self->obj, "loop_same")))
				_exit(10);
			idx = uni_reserve(&c, 4);
			for (i = 0; i < 4; i++)
				prep_hop(uni_sqe(&c, idx + i), 1,
					 i * 65536, variant->lba,
					 self->base + i, 1000000, i, false);
			nrio_ring_submit(&c.sq, 4);
			if (uni_submit(&c) != 4)
				_exit(11);
			usleep(200000);
			if (uni_info(c.fd, &c.info) || c.info.inflight != 4)
				_exit(12);
			/* Round 0 closes everything, round 1 just exits. */
			if (round == 0)
				uni_close(&c);
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, WEXITSTATUS(status));
		EXPECT_TRUE(nt_refcnt_settles(base, 10000)) {
			TH_LOG("round %d: module refcnt %d, want %d", round,
			       nt_mod_refcnt(), base);
		}
	}
	ASSERT_EQ(0, set_hops_param(old));
}

/* What the swapper thread of program_kept_for_the_step does. */
enum { SWAP_IDLE, SWAP_ATTACH, SWAP_DETACH, SWAP_EXIT };

struct swapper {
	int fd;
	__u32 slot;
	int alt;		/* the other program's fd */
	int mode;		/* SWAP_*, set by the test */
	int idle;		/* the thread waits for a mode */
	unsigned int done;	/* ioctls that took effect, this round */
};

/*
 * SWAP_ATTACH: ATTACH the other program to the slot, again and again.
 * SWAP_DETACH: DETACH the slot, then ATTACH the other program, and so on.
 */
static void *swap_thread(void *arg)
{
	struct swapper *sw = arg;
	int mode, n = 0;

	for (;;) {
		mode = __atomic_load_n(&sw->mode, __ATOMIC_ACQUIRE);
		if (mode == SWAP_EXIT)
			return NULL;
		if (mode == SWAP_IDLE) {
			__atomic_store_n(&sw->idle, 1, __ATOMIC_RELEASE);
			n = 0;
			usleep(100);
			continue;
		}
		__atomic_store_n(&sw->idle, 0, __ATOMIC_RELEASE);
		if (mode == SWAP_DETACH && !(n++ & 1)) {
			struct unified_io_bpf_attach a = {
				.slot = sw->slot, .prog_fd = -1,
			};

			if (ioctl(sw->fd, UNIFIED_IO_BPF_DETACH, &a))
				continue;
		} else if (attach(sw->fd, sw->slot, sw->alt)) {
			continue;
		}
		__atomic_add_fetch(&sw->done, 1, __ATOMIC_RELEASE);
	}
}

/*
 * A read-next step keeps the program it started with until it returns:
 * a walk of many hops while another thread ATTACHes another program to
 * its slot, or DETACHes the slot, gives the first program's result, with
 * every read it asked for.  (Before: the new program ran on the next hop,
 * and after a DETACH the step failed with ENOENT.)  The first run is in
 * SUBMIT; the swapping starts when SUBMIT has returned.
 */
TEST_F(chain, program_kept_for_the_step)
{
	struct uni *u = &self->u;
	const __u32 n = 256, slot = 7, lba = variant->lba;
	unsigned int old = hops_param(), mid_walk = 0, round;
	struct nvme_ring_io_cqe cqe[1];
	struct swapper sw = {
		.fd = u->fd, .slot = slot,
		.alt = prog_fd(self->obj, "loop_same"),
	};
	unsigned long swaps = 0;
	pthread_t th;
	__u64 x = 0, v;
	__u32 i, idx;

	ASSERT_EQ(0, set_hops_param(n));
	for (i = 0; i < n; i++) {
		put_req(u, 0, i, self->base + i, 1, 64 * 1024 + i * lba);
		memcpy(&v, pat_at(self, lba, self->base + i), 8);
		x ^= v;
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, swap_thread, &sw));
	for (round = 0; round < 12; round++) {
		int mode = round & 1 ? SWAP_DETACH : SWAP_ATTACH;

		/* The swapper is idle: the step starts with read_list. */
		while (!__atomic_load_n(&sw.idle, __ATOMIC_ACQUIRE))
			usleep(100);
		ASSERT_EQ(0, attach(u->fd, slot,
				    prog_fd(self->obj, "read_list")));
		memset(u->data + 64 * 1024, 0, n * lba);
		idx = uni_reserve(u, 1);
		prep_hop(uni_sqe(u, idx), slot, 0, 4096, n, n, 100 + round,
			 false);
		nrio_ring_submit(&u->sq, 1);
		__atomic_store_n(&sw.done, 0, __ATOMIC_RELEASE);
		ASSERT_EQ(1, uni_submit(u));
		__atomic_store_n(&sw.mode, mode, __ATOMIC_RELEASE);
		/* Did the first swap come while the walk still hopped? */
		while (!__atomic_load_n(&sw.done, __ATOMIC_ACQUIRE))
			;
		if (nrio_ring_peek(&u->cq, 1, &idx) == 0)
			mid_walk++;
		ASSERT_EQ(0, uni_reap(u, cqe, 1));
		__atomic_store_n(&sw.mode, SWAP_IDLE, __ATOMIC_RELEASE);
		EXPECT_EQ(100 + round, cqe[0].user_data);
		EXPECT_EQ((int)(x & 0x7fffffff), cqe[0].res) {
			TH_LOG("round %u (%s): res %d, %u reads", round,
			       mode == SWAP_ATTACH ? "ATTACH" : "DETACH",
			       cqe[0].res, cqe[0].result0);
		}
		EXPECT_EQ(n, cqe[0].result0);
		for (i = 0; i < n; i++)
			if (memcmp(u->data + 64 * 1024 + i * lba,
				   pat_at(self, lba, self->base + i), lba))
				break;
		EXPECT_EQ(n, i);
		swaps += __atomic_load_n(&sw.done, __ATOMIC_ACQUIRE);
	}
	__atomic_store_n(&sw.mode, SWAP_EXIT, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	ASSERT_EQ(0, set_hops_param(old));
	TH_LOG("12 walks of %u reads, %u of them swapped mid-walk, %lu swaps",
	       n, mid_walk, swaps);
	/* Nearly always: a walk of 256 hops outlasts one ioctl. */
	EXPECT_LE(6, mid_walk);
}

/* Attach: the same rules as any program, and no ctx past the struct. */
TEST_F(chain, attach_rules)
{
	struct uni *u = &self->u;
	int status, prog = prog_fd(self->obj, "btree_lookup");
	pid_t pid;

	EXPECT_EQ(-EINVAL, attach(u->fd, 5, prog_fd(self->obj,
						     "ctx_too_far")));
	EXPECT_EQ(0, attach(u->fd, 5, prog));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (nt_drop_bpf_caps())
			_exit(10);
		_exit(attach(u->fd, 6, prog) == -EPERM ? 0 : 11);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* A region without a namespace has nothing to read: ENXIO. */
TEST(no_namespace)
{
	struct nvme_ring_io_cqe cqe[1];
	struct bpf_object *obj = NULL;
	struct uni u;
	int have = need_read_next(_metadata);

	ASSERT_LE(0, have);
	if (!have)
		SKIP(return, "no BTF in this kernel: the module runs no BPF");
	ASSERT_EQ(0, uni_open(&u, NULL, 0, 8, 0, MiB));
	ASSERT_EQ(0, nt_bpf_load("chain.bpf.o", &obj));
	ASSERT_EQ(0, attach(u.fd, 0, prog_fd(obj, "loop_same")));
	prep_hop(uni_sqe(&u, uni_reserve(&u, 1)), 0, 0, 512, 0, 4, 1, false);
	nrio_ring_submit(&u.sq, 1);
	ASSERT_EQ(1, uni_submit(&u));
	ASSERT_EQ(0, uni_reap(&u, cqe, 1));
	EXPECT_EQ(-ENXIO, cqe[0].res);
	uni_close(&u);
	bpf_object__close(obj);
}

/*
 * The namespace removed while read-next steps hop on it (a namespace of
 * the kernel's NVMe target over TCP, which can go away): every step ends
 * with the failed read's errno, the context says it is dead, and closing
 * it gives back every reference.
 */
static const struct nrio_target_cfg chain_target = {
	.nqn		= "nrio-bpf-chain",
	.nullb_name	= "nriochain",
	.port		= 9,
	.trsvcid	= 4429,
	.size_mb	= 64,
	.memory_backed	= true,
};

TEST(namespace_removed_while_hopping)
{
	struct nvme_ring_io_cqe cqe[4];
	unsigned int old = hops_param();
	struct bpf_object *obj = NULL;
	struct nrio_target t;
	int have = need_read_next(_metadata), base, i;
	struct uni u;
	__u32 idx;

	ASSERT_LE(0, have);
	if (!have)
		SKIP(return, "no BTF in this kernel: the module runs no BPF");
	if (!nrio_target_available())
		SKIP(return, "needs nvmet, null_blk configfs and nvme-fabrics");
	ASSERT_EQ(0, nrio_target_setup(&t, &chain_target)) {
		TH_LOG("%s", t.failed);
	}
	ASSERT_EQ(0, nt_bpf_load("chain.bpf.o", &obj));
	ASSERT_EQ(0, set_hops_param(1000000));
	base = nt_refcnt_settled();
	ASSERT_EQ(0, uni_open(&u, t.dev, O_RDWR, 16, 0, MiB));
	ASSERT_EQ(0, attach(u.fd, 0, prog_fd(obj, "loop_same")));
	idx = uni_reserve(&u, 4);
	for (i = 0; i < 4; i++)
		prep_hop(uni_sqe(&u, idx + i), 0, i * 65536, u.lba, i * 8,
			 1000000, i, false);
	nrio_ring_submit(&u.sq, 4);
	ASSERT_EQ(4, uni_submit(&u));
	usleep(200000);
	ASSERT_EQ(0, uni_info(u.fd, &u.info));
	EXPECT_EQ(4, u.info.inflight);
	ASSERT_EQ(0, nrio_target_ns_enable(&t, false));
	ASSERT_EQ(0, uni_reap(&u, cqe, 4));
	for (i = 0; i < 4; i++) {
		TH_LOG("step %llu: res %d after %u reads",
		       (unsigned long long)cqe[i].user_data, cqe[i].res,
		       cqe[i].result0);
		EXPECT_EQ(-EIO, cqe[i].res);
		EXPECT_LT(0, cqe[i].result0);
		EXPECT_GT(1000000, cqe[i].result0);
	}
	uni_close(&u);
	EXPECT_TRUE(nt_refcnt_settles(base, 10000)) {
		TH_LOG("module refcnt %d, want %d", nt_mod_refcnt(), base);
	}
	set_hops_param(old);
	bpf_object__close(obj);
	nrio_target_cleanup(&chain_target);
}

/* --- the B-tree --------------------------------------------------------- */

FIXTURE(btree) {
	struct uni u;
	struct bpf_object *obj;
	struct bt_tree t;
};

FIXTURE_VARIANT(btree) {
	const char *dev;
	__u32 lba, node_size, fanout, keys, depth;
};

/* Depths 3 to 6; one-LBA nodes and nodes of several LBAs on each. */
FIXTURE_VARIANT_ADD(btree, ns1_16k_depth3) {
	.dev = NS1_BLK, .lba = 512, .node_size = 16384, .fanout = 31,
	.keys = 3000, .depth = 3,
};
FIXTURE_VARIANT_ADD(btree, ns1_512_depth4) {
	.dev = NS1_BLK, .lba = 512, .node_size = 512, .fanout = 8,
	.keys = 3000, .depth = 4,
};
FIXTURE_VARIANT_ADD(btree, ns2_4k_depth5) {
	.dev = NS2_BLK, .lba = 4096, .node_size = 4096, .fanout = 6,
	.keys = 3000, .depth = 5,
};
FIXTURE_VARIANT_ADD(btree, ns2_8k_depth6) {
	.dev = NS2_BLK, .lba = 4096, .node_size = 8192, .fanout = 4,
	.keys = 2000, .depth = 6,
};

FIXTURE_SETUP(btree)
{
	size_t bytes;
	int have, wfd;

	memset(&self->u, 0, sizeof(self->u));
	memset(&self->t, 0, sizeof(self->t));
	self->u.fd = self->u.nvme_fd = -1;
	self->obj = NULL;
	if (!nt_have(variant->dev))
		SKIP(return, "no %s", variant->dev);
	have = need_read_next(_metadata);
	ASSERT_LE(0, have);
	if (!have)
		SKIP(return, "no BTF in this kernel: the module runs no BPF");
	ASSERT_EQ(0, uni_open(&self->u, variant->dev, O_RDWR, 64, 128,
			      REGION));
	ASSERT_EQ(0, bt_build(&self->t, variant->keys, variant->fanout,
			      variant->node_size, variant->lba,
			      TREE_BASE / variant->lba, 77));
	ASSERT_EQ(variant->depth, self->t.depth);
	bytes = (size_t)self->t.nodes * variant->node_size;
	ASSERT_GE(480 * MiB - TREE_BASE, bytes);
	wfd = open(variant->dev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, wfd);
	ASSERT_EQ(bytes, pwrite(wfd, self->t.img, bytes, TREE_BASE));
	ASSERT_EQ(0, fsync(wfd));
	close(wfd);
	ASSERT_EQ(0, nt_bpf_load("chain.bpf.o", &self->obj));
	ASSERT_EQ(0, attach(self->u.fd, SLOT_BTREE,
			    prog_fd(self->obj, "btree_lookup")));
	ASSERT_EQ(0, attach(self->u.fd, SLOT_BTREE_ROOT,
			    prog_fd(self->obj, "btree_lookup_root")));
}

FIXTURE_TEARDOWN(btree)
{
	uni_close(&self->u);
	if (self->obj)
		bpf_object__close(self->obj);
	bt_free(&self->t);
}

#define BATCH	16	/* lookups in flight */

/* The keys to look up: present ones and absent ones, below and between. */
static void pick_keys(const struct bt_tree *t, __u64 *keys, __u32 n)
{
	__u32 i;

	for (i = 0; i < n; i++) {
		__u64 r = bt_mix(i + 1000);

		if (i % 3)
			keys[i] = t->keys[r % t->n];
		else if (i % 9 == 0)
			keys[i] = t->keys[0] ? t->keys[0] - 1 : 0;
		else
			keys[i] = r >> 1;
	}
}

/*
 * Userspace-driven: BATCH lookups at a time, one READ per level each,
 * searched here; the answers into @res.
 */
static int lookup_user(struct uni *u, const struct bt_tree *t,
		       const __u64 *keys, int *res, __u32 n)
{
	__u64 lba[BATCH];
	bool live[BATCH];
	__u32 i, first;

	for (first = 0; first < n; first += BATCH) {
		__u32 m = n - first < BATCH ? n - first : BATCH, left = m;

		for (i = 0; i < m; i++) {
			lba[i] = t->root_lba;
			live[i] = true;
		}
		while (left) {
			struct nvme_ring_io_cqe cqe[BATCH];
			__u32 k = 0, idx = uni_reserve(u, left);

			for (i = 0; i < m; i++)
				if (live[i])
					uni_prep_rw(uni_sqe(u, idx + k++),
						    NVME_RING_IO_OP_READ,
						    lba[i], t->node_lbas,
						    (__u64)i * t->node_size,
						    t->node_size, i, false);
			if (run(u, k, cqe))
				return -EIO;
			for (i = 0; i < k; i++) {
				__u32 j = cqe[i].user_data;
				__u64 child = 0;
				int r;

				if (cqe[i].res != (int)t->node_size)
					return -EIO;
				r = bt_node_search(u->data +
						   (__u64)j * t->node_size,
						   t->node_size, keys[first + j],
						   &child);
				if (r == 1) {
					lba[j] = child;
					continue;
				}
				res[first + j] = r;
				live[j] = false;
				left--;
			}
		}
	}
	return 0;
}

/*
 * BPF-chained: per lookup one READ of the root linked to a read-next
 * step of max_hops depth - 1, or (@one) a read-next step alone of
 * max_hops depth whose range holds where the root is; BATCH lookups in
 * flight.  The answers into @res, the reads each step issued into @hops.
 */
static int lookup_bpf(struct uni *u, const struct bt_tree *t,
		      const __u64 *keys, int *res, __u32 *hops, __u32 n,
		      bool one)
{
	__u32 i, first;

	for (first = 0; first < n; first += BATCH) {
		__u32 m = n - first < BATCH ? n - first : BATCH;
		__u32 per = one ? 1 : 2, idx = uni_reserve(u, per * m);
		struct nvme_ring_io_cqe cqe[2 * BATCH];

		for (i = 0; i < m; i++) {
			__u64 off = (__u64)i * t->node_size;
			struct bt_root root = {
				.root_lba = t->root_lba,
				.node_lbas = t->node_lbas,
				.magic = BT_ROOT_MAGIC,
			};

			if (one) {
				memcpy(u->data + off, &root, sizeof(root));
				prep_hop(uni_sqe(u, idx + i), SLOT_BTREE_ROOT,
					 off, t->node_size, keys[first + i],
					 t->depth, i, false);
				continue;
			}
			uni_prep_rw(uni_sqe(u, idx + 2 * i),
				    NVME_RING_IO_OP_READ, t->root_lba,
				    t->node_lbas, off, t->node_size,
				    1ULL << 32 | i, true);
			prep_hop(uni_sqe(u, idx + 2 * i + 1), SLOT_BTREE, off,
				 t->node_size, keys[first + i], t->depth - 1,
				 i, false);
		}
		if (run(u, per * m, cqe))
			return -EIO;
		for (i = 0; i < per * m; i++) {
			__u64 ud = cqe[i].user_data;

			if (ud >> 32) {
				if (cqe[i].res != (int)t->node_size)
					return -EIO;
				continue;
			}
			res[first + ud] = cqe[i].res;
			hops[first + ud] = cqe[i].result0;
		}
	}
	return 0;
}

/*
 * The same keys three ways: from userspace, as READ -> read-next, and as
 * one read-next descriptor that reads the root too; each equals the
 * model, and a found key took one read per level the step read.
 */
TEST_F(btree, lookups_match_the_model)
{
	enum { N = 240 };
	__u64 keys[N];
	int ures[N], bres[N], b1res[N];
	__u32 hops[N], hops1[N], i, found = 0;

	pick_keys(&self->t, keys, N);
	memset(ures, 0x7f, sizeof(ures));
	memset(bres, 0x7f, sizeof(bres));
	memset(b1res, 0x7f, sizeof(b1res));
	ASSERT_EQ(0, lookup_user(&self->u, &self->t, keys, ures, N));
	ASSERT_EQ(0, lookup_bpf(&self->u, &self->t, keys, bres, hops, N,
				false));
	ASSERT_EQ(0, lookup_bpf(&self->u, &self->t, keys, b1res, hops1, N,
				true));
	for (i = 0; i < N; i++) {
		int want = bt_model(&self->t, keys[i]);

		EXPECT_EQ(want, ures[i]) {
			TH_LOG("userspace lookup %u key %llx", i,
			       (unsigned long long)keys[i]);
		}
		EXPECT_EQ(want, bres[i]) {
			TH_LOG("BPF lookup %u key %llx", i,
			       (unsigned long long)keys[i]);
		}
		EXPECT_EQ(want, b1res[i]) {
			TH_LOG("one-descriptor BPF lookup %u key %llx", i,
			       (unsigned long long)keys[i]);
		}
		if (want >= 0) {
			found++;
			EXPECT_EQ(self->t.depth - 1, hops[i]);
			EXPECT_EQ(self->t.depth, hops1[i]);
		}
	}
	/* Two thirds are there; absent ones below the smallest key too. */
	EXPECT_EQ(N / 3 * 2, found);
}

/* A tree one level deeper than max_hops allows: ELOOP, not a wrong answer. */
TEST_F(btree, too_deep_for_max_hops)
{
	struct uni *u = &self->u;
	struct nvme_ring_io_cqe cqe[2];
	__u32 idx = uni_reserve(u, 2);

	uni_prep_rw(uni_sqe(u, idx), NVME_RING_IO_OP_READ, self->t.root_lba,
		    self->t.node_lbas, 0, self->t.node_size, 1, true);
	prep_hop(uni_sqe(u, idx + 1), SLOT_BTREE, 0, self->t.node_size,
		 self->t.keys[self->t.n / 2], self->t.depth - 2, 2, false);
	ASSERT_EQ(0, run(u, 2, cqe));
	EXPECT_EQ((int)self->t.node_size, cqe[0].res);
	EXPECT_EQ(-ELOOP, cqe[1].res);
	EXPECT_EQ(self->t.depth - 2, cqe[1].result0);
}

TEST_HARNESS_MAIN
