// SPDX-License-Identifier: GPL-2.0
/*
 * Deferred steps of /dev/unified_io_region run as the chain's submitter.
 * A step after an NVMe step, a NET step woken by its socket and a
 * read-next program's later runs run in a kworker of the module; they must
 * wear the credentials, block cgroup and memory cgroup of the task that
 * called SUBMIT, as the steps SUBMIT runs inline do:
 *
 * - io.stat of the submitter's cgroup counts a chain's second READ, and
 *   the reads a read-next step asks for after its first;
 * - io.max of the submitter's cgroup throttles a chain's second READ;
 * - bpf_sys_bpf(BPF_MAP_GET_FD_BY_ID), which needs CAP_SYS_ADMIN, is
 *   refused to a submitter with only CAP_BPF and CAP_PERFMON in the
 *   deferred step as it is in the inline one (and allowed in both to
 *   root), in a plain chain and in a read-next step's hop;
 * - a NET step that runs (and waits) after an NVMe step charges its
 *   memory to the submitter's memory cgroup.
 *
 * The test moves itself into a cgroup of its own under a cgroup2 mount
 * (made at /sys/fs/cgroup if none is there), with the io and memory
 * controllers enabled.  Disk: reads only.
 */
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nrio_unified_test.h"
#include "nrio_bpf_test.h"

#include "kselftest_harness.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define REGION		(8 * MiB)

/* --- cgroups ------------------------------------------------------------ */

/* A cgroup2 hierarchy at CG_ROOT, with @ctrl enabled for its children. */
static int cg_prepare(const char *ctrl)
{
	char buf[512] = "", plus[32];
	FILE *f;

	if (!nt_have(CG_ROOT "/cgroup.controllers")) {
		mkdir(CG_ROOT, 0755);
		if (mount("none", CG_ROOT, "cgroup2", 0, NULL))
			return -errno;
	}
	f = fopen(CG_ROOT "/cgroup.controllers", "r");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (!strstr(buf, ctrl))
		return -EOPNOTSUPP;
	snprintf(plus, sizeof(plus), "+%s", ctrl);
	return nt_write_file(CG_ROOT "/cgroup.subtree_control", plus);
}

FIXTURE(cg) {
	char path[128];
	bool entered;
};

FIXTURE_SETUP(cg)
{
	char procs[192];
	int ret;

	self->entered = false;
	snprintf(self->path, sizeof(self->path), CG_ROOT "/nrio_deferred_%d",
		 getpid());
	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ret = cg_prepare("io");
	if (ret == -EOPNOTSUPP)
		SKIP(return, "no io cgroup controller in this kernel");
	ASSERT_EQ(0, ret);
	ret = cg_prepare("memory");
	if (ret == -EOPNOTSUPP)
		SKIP(return, "no memory cgroup controller in this kernel");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, mkdir(self->path, 0755));
	/* "0": the writing process.  From here on every task of ours. */
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", self->path);
	ASSERT_EQ(0, nt_write_file(procs, "0"));
	self->entered = true;
}

FIXTURE_TEARDOWN(cg)
{
	if (self->entered)
		nt_write_file(CG_ROOT "/cgroup.procs", "0");
	rmdir(self->path);
}

/* A number after "@key=" in the line of @path that starts with @prefix. */
static long long cg_read_key(const char *path, const char *prefix,
			     const char *key)
{
	char line[1024], pat[64];
	long long v = 0;
	FILE *f = fopen(path, "r");
	char *p;

	if (!f)
		return -1;
	snprintf(pat, sizeof(pat), " %s=", key);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		p = strstr(line, pat);
		if (p)
			v = atoll(p + strlen(pat));
		break;
	}
	fclose(f);
	return v;
}

/* "MAJ:MIN " of @dev's block device. */
static void dev_prefix(const char *dev, char *buf, size_t len)
{
	struct stat st;

	if (stat(dev, &st))
		snprintf(buf, len, "none ");
	else
		snprintf(buf, len, "%u:%u ", major(st.st_rdev),
			 minor(st.st_rdev));
}

/* Bytes read from @dev that io.stat of cgroup @cg has counted. */
static long long io_rbytes(const char *cg, const char *dev)
{
	char path[192], pre[32];

	snprintf(path, sizeof(path), "%s/io.stat", cg);
	dev_prefix(dev, pre, sizeof(pre));
	return cg_read_key(path, pre, "rbytes");
}

static long long mem_current(const char *cg)
{
	char path[192];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Publish @n descriptors, submit them, reap @n into @cqe. */
static int run(struct uni *u, __u32 n, struct nvme_ring_io_cqe *cqe)
{
	nrio_ring_submit(&u->sq, n);
	if (uni_submit(u) != (int)n)
		return -EIO;
	return uni_reap(u, cqe, n);
}

/* The entry of @cqe[0..n) with @ud. */
static const struct nvme_ring_io_cqe *by_ud(const struct nvme_ring_io_cqe *cqe,
					     __u32 n, __u64 ud)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (cqe[i].user_data == ud)
			return &cqe[i];
	return NULL;
}

/* --- block cgroup: io.stat and io.max ----------------------------------- */

/*
 * READ 4 KiB -> READ 4 MiB: the second READ is issued by the chain's work
 * item.  Both count in the submitter's io.stat (the old code counted the
 * first only: the second was the root cgroup's).
 */
TEST_F(cg, io_stat_counts_second_step)
{
	struct nvme_ring_io_cqe cqe[2];
	long long before, after;
	struct uni u;
	__u32 idx;

	ASSERT_EQ(0, uni_open(&u, NS1_BLK, O_RDONLY, 8, 16, REGION));
	before = io_rbytes(self->path, NS1_BLK);
	ASSERT_LE(0, before);
	idx = uni_reserve(&u, 2);
	uni_prep_rw(uni_sqe(&u, idx), NVME_RING_IO_OP_READ, 0,
		    4096 / u.lba, 0, 4096, 1, true);
	uni_prep_rw(uni_sqe(&u, idx + 1), NVME_RING_IO_OP_READ, 1024,
		    4 * MiB / u.lba, 0, 4 * MiB, 2, false);
	ASSERT_EQ(0, run(&u, 2, cqe));
	EXPECT_EQ(4096, by_ud(cqe, 2, 1)->res);
	EXPECT_EQ(4 * MiB, by_ud(cqe, 2, 2)->res);
	after = io_rbytes(self->path, NS1_BLK);
	EXPECT_LE(4 * MiB + 4096, after - before) {
		TH_LOG("io.stat of the submitter's cgroup counted %lld bytes of the chain's %llu: its second step ran outside it",
		       after - before, 4 * MiB + 4096);
	}
	uni_close(&u);
}

/*
 * A read-next step alone: its first read is issued in SUBMIT, the next
 * three by the hop work item.  All four count in the submitter's io.stat.
 */
TEST_F(cg, io_stat_counts_hop_reads)
{
	struct unified_io_bpf_attach a = { .slot = 0 };
	struct nvme_ring_io_cqe cqe;
	struct unified_io_info info;
	struct bpf_object *obj = NULL;
	long long before, after;
	__u32 idx, nlb;
	struct uni u;

	ASSERT_EQ(0, uni_open(&u, NS1_BLK, O_RDONLY, 8, 16, REGION));
	ASSERT_EQ(0, uni_info(u.fd, &info));
	if (!(info.features & UNIFIED_IO_FEAT_BPF_READ_NEXT)) {
		/* Only a kernel without BTF may lack it. */
		ASSERT_NE(0, access("/sys/kernel/btf/vmlinux", F_OK));
		uni_close(&u);
		SKIP(return, "no BTF in this kernel: the module runs no BPF");
	}
	ASSERT_EQ(0, nt_bpf_load("deferred.bpf.o", &obj));
	a.prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj,
								     "read_n"));
	ASSERT_EQ(0, ioctl(u.fd, UNIFIED_IO_BPF_ATTACH, &a));

	nlb = MiB / u.lba;
	before = io_rbytes(self->path, NS1_BLK);
	ASSERT_LE(0, before);
	idx = uni_reserve(&u, 1);
	uni_prep_bpf(uni_sqe(&u, idx), 0, 0, 0, 4ULL << 32 | nlb, 7, false);
	uni_sqe(&u, idx)->cmd.bpf.max_hops = 4;
	ASSERT_EQ(0, run(&u, 1, &cqe));
	EXPECT_EQ(4, cqe.res);
	EXPECT_EQ(4, cqe.result0);
	after = io_rbytes(self->path, NS1_BLK);
	EXPECT_LE(4 * MiB, after - before) {
		TH_LOG("io.stat of the submitter's cgroup counted %lld bytes of the step's 4 reads of 1 MiB: the hops ran outside it",
		       after - before);
	}
	uni_close(&u);
	bpf_object__close(obj);
}

/*
 * io.max rbps=2 MiB/s on the namespace: READ 4 KiB -> READ 4 MiB must take
 * about two seconds, as the second READ alone would.  Only a lower bound
 * is checked (a throttle is never faster than its limit); the old code
 * issued the second READ unthrottled, in milliseconds.
 */
TEST_F(cg, io_max_throttles_second_step)
{
	char path[192], pre[32], limit[96];
	struct nvme_ring_io_cqe cqe[2];
	long long t0, ms;
	struct uni u;
	__u32 idx;

	snprintf(path, sizeof(path), "%s/io.max", self->path);
	if (!nt_have(path))
		SKIP(return, "no io.max: kernel without CONFIG_BLK_DEV_THROTTLING");
	dev_prefix(NS1_BLK, pre, sizeof(pre));
	snprintf(limit, sizeof(limit), "%srbps=%llu", pre, 2 * MiB);
	ASSERT_EQ(0, nt_write_file(path, limit));

	ASSERT_EQ(0, uni_open(&u, NS1_BLK, O_RDONLY, 8, 16, REGION));
	idx = uni_reserve(&u, 2);
	uni_prep_rw(uni_sqe(&u, idx), NVME_RING_IO_OP_READ, 0,
		    4096 / u.lba, 0, 4096, 1, true);
	uni_prep_rw(uni_sqe(&u, idx + 1), NVME_RING_IO_OP_READ, 2048,
		    4 * MiB / u.lba, 0, 4 * MiB, 2, false);
	t0 = now_ms();
	ASSERT_EQ(0, run(&u, 2, cqe));
	ms = now_ms() - t0;
	EXPECT_EQ(4096, by_ud(cqe, 2, 1)->res);
	EXPECT_EQ(4 * MiB, by_ud(cqe, 2, 2)->res);
	TH_LOG("READ 4 KiB -> READ 4 MiB under rbps=2 MiB/s: %lld ms", ms);
	EXPECT_LE(1000, ms) {
		TH_LOG("the second step escaped the submitter's io.max");
	}
	snprintf(limit, sizeof(limit), "%srbps=max", pre);
	nt_write_file(path, limit);
	uni_close(&u);
}

/* --- memory cgroup ------------------------------------------------------- */

#define NCHAINS		512
#define NET_OFF		1	/* UNIFIED_IO_NET_MAX from here: 257 pages */

/*
 * NCHAINS chains READ 4 KiB -> NET_RECV 1 MiB on a UDP socket that gets
 * nothing: each NET step starts in the chain's work item, allocates its
 * bio_vec array (257 entries, GFP_KERNEL_ACCOUNT) and waits.  That memory
 * must be the submitter's: memory.current of its cgroup grows by at least
 * the arrays' bytes while the steps wait (the old code charged them to
 * nobody; the chains themselves, allocated in SUBMIT, are a fraction of
 * it).
 */
TEST_F(cg, memcg_charges_deferred_net_step)
{
	long long before, now = 0, want;
	struct unified_io_sock_attach a = { .slot = 0 };
	struct nvme_ring_io_cqe *cqe;
	int mine = -1, peer = -1, i;
	struct uni u;
	__u32 idx;

	ASSERT_EQ(0, nt_sock_pair(SOCK_DGRAM, &mine, &peer));
	ASSERT_EQ(0, uni_open(&u, NS1_BLK, O_RDONLY, 2 * NCHAINS,
			      4 * NCHAINS, REGION));
	a.sock_fd = mine;
	ASSERT_EQ(0, ioctl(u.fd, UNIFIED_IO_SOCK_ATTACH, &a));
	cqe = calloc(NCHAINS, sizeof(*cqe));
	ASSERT_NE(NULL, cqe);

	idx = uni_reserve(&u, 2 * NCHAINS);
	for (i = 0; i < NCHAINS; i++) {
		uni_prep_rw(uni_sqe(&u, idx + 2 * i), NVME_RING_IO_OP_READ,
			    0, 4096 / u.lba, 2 * MiB, 4096, 2 * i, true);
		uni_prep_net(uni_sqe(&u, idx + 2 * i + 1), false, 0, NET_OFF,
			     UNIFIED_IO_NET_MAX, 0, 2 * i + 1, false);
	}
	want = (long long)NCHAINS *
	       ((NET_OFF + UNIFIED_IO_NET_MAX + 4095) / 4096) * 16;
	before = mem_current(self->path);
	ASSERT_LT(0, before);
	nrio_ring_submit(&u.sq, 2 * NCHAINS);
	ASSERT_EQ(2 * NCHAINS, uni_submit(&u));
	/* The READs complete; their NET steps start after them and wait. */
	ASSERT_EQ(0, uni_reap(&u, cqe, NCHAINS));
	for (i = 0; i < NCHAINS && cqe[i].res == 4096; i++)
		;
	ASSERT_EQ(NCHAINS, i) {
		TH_LOG("entry %d: user_data %llu res %d", i,
		       (unsigned long long)cqe[i].user_data, cqe[i].res);
	}
	/* The work items run soon after; give them up to 5 s. */
	for (i = 0; i < 100; i++) {
		now = mem_current(self->path);
		if (now - before >= want)
			break;
		usleep(50000);
	}
	TH_LOG("memory.current grew by %lld bytes with %d NET steps waiting (their bio_vec arrays: %lld)",
	       now - before, NCHAINS, want);
	EXPECT_LE(want, now - before) {
		TH_LOG("the deferred NET steps' memory was not charged to the submitter's memory cgroup");
	}
	/* Nothing arrived: every NET step still waits. */
	EXPECT_EQ(0, nrio_ring_peek(&u.cq, 1, &idx));
	uni_close(&u);
	close(mine);
	close(peer);
	free(cqe);
}

/* --- credentials ---------------------------------------------------------- */

/* CAP_SYS_ADMIN out of this process's sets; CAP_BPF, CAP_PERFMON stay. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[0].effective &= ~(1U << CAP_SYS_ADMIN);
	d[0].permitted &= ~(1U << CAP_SYS_ADMIN);
	d[0].inheritable &= ~(1U << CAP_SYS_ADMIN);
	if (!(d[1].effective & (1U << (CAP_BPF - 32))) ||
	    !(d[1].effective & (1U << (CAP_PERFMON - 32))))
		return -EPERM;
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

#define GOT_FD		1000	/* as bpf/deferred.bpf.c */

FIXTURE(creds) {
	struct uni u;
	struct bpf_object *obj;
	int map_fd;
	__u32 map_id;
};

FIXTURE_VARIANT(creds) {
	bool sys_admin;		/* the submitter keeps CAP_SYS_ADMIN */
};

FIXTURE_VARIANT_ADD(creds, root) { .sys_admin = true };
FIXTURE_VARIANT_ADD(creds, bpf_perfmon_only) { .sys_admin = false };

FIXTURE_SETUP(creds)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct unified_io_info uinfo;
	int fd;

	memset(&self->u, 0, sizeof(self->u));
	self->u.fd = self->u.nvme_fd = -1;
	self->obj = NULL;
	self->map_fd = -1;
	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, uni_info(fd, &uinfo));
	close(fd);
	if (!(uinfo.features & UNIFIED_IO_FEAT_BPF_READ_NEXT)) {
		ASSERT_NE(0, access("/sys/kernel/btf/vmlinux", F_OK));
		SKIP(return, "no BTF in this kernel: the module runs no BPF");
	}
	/* Everything from here on as the submitter will be. */
	if (!variant->sys_admin)
		ASSERT_EQ(0, drop_sys_admin());
	ASSERT_EQ(0, nt_bpf_load("deferred.bpf.o", &self->obj)) {
		TH_LOG("loading a SYSCALL program that calls bpf_sys_bpf needs CAP_BPF and CAP_PERFMON");
	}
	self->map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "nrio_deferred", 4,
				      4, 1, NULL);
	ASSERT_LE(0, self->map_fd);
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, bpf_obj_get_info_by_fd(self->map_fd, &info, &len));
	self->map_id = info.id;
	ASSERT_EQ(0, uni_open(&self->u, NS1_BLK, O_RDONLY, 8, 16, REGION));
}

FIXTURE_TEARDOWN(creds)
{
	uni_close(&self->u);
	if (self->map_fd >= 0)
		close(self->map_fd);
	if (self->obj)
		bpf_object__close(self->obj);
}

static int attach_prog(struct uni *u, __u32 slot, struct bpf_object *obj,
		       const char *name)
{
	struct unified_io_bpf_attach a = { .slot = slot };
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	if (!p)
		return -ENOENT;
	a.prog_fd = bpf_program__fd(p);
	return ioctl(u->fd, UNIFIED_IO_BPF_ATTACH, &a) ? -errno : 0;
}

/*
 * BPF -> READ -> BPF: the first BPF step runs in SUBMIT, the second in
 * the chain's work item after the READ.  Both get what the submitter gets:
 * the map's fd as root, EPERM without CAP_SYS_ADMIN (the old code gave
 * the second step the kworker's capabilities: an fd).
 */
TEST_F(creds, map_fd_by_id_in_deferred_step)
{
	int want = variant->sys_admin ? GOT_FD : EPERM;
	struct nvme_ring_io_cqe cqe[3];
	struct uni *u = &self->u;
	__u32 idx;

	ASSERT_EQ(0, attach_prog(u, 0, self->obj, "get_fd"));
	idx = uni_reserve(u, 3);
	uni_prep_bpf(uni_sqe(u, idx), 0, 0, 0, self->map_id, 1, true);
	uni_prep_rw(uni_sqe(u, idx + 1), NVME_RING_IO_OP_READ, 0,
		    4096 / u->lba, 0, 4096, 2, true);
	uni_prep_bpf(uni_sqe(u, idx + 2), 0, 0, 0, self->map_id, 3, false);
	ASSERT_EQ(0, run(u, 3, cqe));
	EXPECT_EQ(want, by_ud(cqe, 3, 1)->res) {
		TH_LOG("inline step (in SUBMIT): %d", by_ud(cqe, 3, 1)->res);
	}
	EXPECT_EQ(4096, by_ud(cqe, 3, 2)->res);
	EXPECT_EQ(want, by_ud(cqe, 3, 3)->res) {
		TH_LOG("deferred step (the chain's work item): %d, inline %d",
		       by_ud(cqe, 3, 3)->res, by_ud(cqe, 3, 1)->res);
	}
}

/*
 * A read-next step: its first run in SUBMIT, its second in the hop work
 * item after one read.  The result packs both runs' outcomes.
 */
TEST_F(creds, map_fd_by_id_in_hop)
{
	int want = variant->sys_admin ? GOT_FD : EPERM;
	struct uni *u = &self->u;
	struct nvme_ring_io_cqe cqe;
	__u32 idx;

	ASSERT_EQ(0, attach_prog(u, 1, self->obj, "get_fd_hop"));
	idx = uni_reserve(u, 1);
	uni_prep_bpf(uni_sqe(u, idx), 1, 0, 0, self->map_id, 9, false);
	uni_sqe(u, idx)->cmd.bpf.max_hops = 1;
	ASSERT_EQ(0, run(u, 1, &cqe));
	EXPECT_EQ(1, cqe.result0);
	EXPECT_EQ(want, cqe.res >> 16) {
		TH_LOG("first run (in SUBMIT): %d", cqe.res >> 16);
	}
	EXPECT_EQ(want, cqe.res & 0xffff) {
		TH_LOG("second run (the hop work item): %d, first %d",
		       cqe.res & 0xffff, cqe.res >> 16);
	}
}

TEST_HARNESS_MAIN
