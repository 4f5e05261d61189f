// SPDX-License-Identifier: GPL-2.0
/*
 * nrio_lookup: B-tree lookups on an NVMe namespace, three ways, side by
 * side in one run (a sibling of nrio_bench; not a test).
 *
 *   user-ring  userspace drives each lookup: one NVMe READ per level
 *              through the unified context's ring (kernel engine,
 *              SUBMIT with F_WAIT: one system call per round), the node
 *              searched in userspace
 *   uring-pt   the same from userspace with io_uring NVMe passthrough on
 *              /dev/ngXnY (one fixed buffer per lookup in flight,
 *              io_uring_submit_and_wait: one system call per round)
 *   bpf-chain  one read-next BPF descriptor per lookup
 *              (btree_lookup_root of chain.bpf.o): its program asks for
 *              the root, then for each level's node, and the kernel
 *              issues every read itself; one CQ entry per lookup
 *
 * For each depth a bulk-loaded B+-tree (btree.h) of --keys keys in nodes
 * of --node bytes is written from --base-mb on, the fanout chosen to give
 * exactly that depth; every lookup is of a present key and its value is
 * checked against the in-memory model (any mismatch fails the run).
 * --inflight lookups are in flight in every mode, after a short warm-up
 * of each.  CPU time is the whole machine's: the time all CPUs ran any
 * task (/proc/schedstat: the kernel's work items, the program, softirq
 * threads), so "per CPU-second" compares what each way costs the machine
 * and own-ns what it costs the program itself.  Under QEMU -icount
 * shift=0 a guest nanosecond is a guest instruction, so CPU-ns per lookup
 * is guest instructions per lookup (and lookups/s means little: the
 * emulated device's time is not the guest's).
 *
 * usage: nrio_lookup --ns /dev/nvmeXnY --ng /dev/ngXnY --bpf chain.bpf.o
 *                    [--depths 3,4,5,6] [--keys 10000] [--node 4096]
 *                    [--inflight 16] [--seconds 2 | --count N]
 *                    [--base-mb 256] [--ways user-ring,uring-pt,bpf-chain]
 *
 * --count makes every way do N lookups per depth (at least the number in
 * flight), over the same keys in the same order, instead of running for
 * --seconds: what instruction counting needs, where a guest second is a
 * number of instructions and so a time-bound run does few lookups.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <bpf/libbpf.h>
#include <liburing.h>
#include <linux/nvme_ioctl.h>
#include <linux/nvme_ring_io.h>
#include <linux/unified_io_region.h>

#include "nrio_ring.h"
#include "btree.h"

#define MAXQ		64
#define NKEYS_PICK	8192
#define REGION		(16ULL << 20)

static const char *ns_path, *ng_path, *bpf_path;
static unsigned int nkeys = 10000, node = 4096, qd = 16, base_mb = 256;
static double seconds = 2;
static unsigned long count;	/* --count, 0: --seconds */
static const char *ways = "user-ring,uring-pt,bpf-chain";

struct mode_res {
	double lookups, secs, cpu, self;
	unsigned long errors;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "nrio_lookup: %s: %s\n", what, strerror(err));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This process's CPU seconds so far. */
static double self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/*
 * The machine's busy CPU seconds so far: the time every CPU ran a task
 * (its work items, its interrupts' threads and softirqs included), from
 * /proc/schedstat in nanoseconds; /proc/stat's ticks where it is missing.
 */
static double busy(void)
{
	unsigned long long v[8] = { 0 }, ns, sum = 0;
	char line[512];
	bool any = false;
	FILE *f = fopen("/proc/schedstat", "r");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned int cpu;

		if (sscanf(line, "cpu%u %*u %*u %*u %*u %*u %*u %llu", &cpu,
			   &ns) == 2) {
			sum += ns;
			any = true;
		}
	}
	if (f)
		fclose(f);
	if (any)
		return sum / 1e9;
	f = fopen("/proc/stat", "r");
	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			 &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			 &v[7]) != 8)
		die("/proc/stat", EIO);
	fclose(f);
	/* user nice system [idle iowait] irq softirq steal */
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
	       sysconf(_SC_CLK_TCK);
}

/* --- the unified context --------------------------------------------- */

struct uctx {
	int fd;
	struct unified_io_setup s;
	unsigned char *region, *data;
	struct nrio_ring sq, cq;
};

static void uctx_open(struct uctx *u, int nvme_fd)
{
	memset(u, 0, sizeof(*u));
	u->fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (u->fd < 0)
		die(UNIFIED_IO_DEVPATH, errno);
	u->s.size = sizeof(u->s);
	u->s.sq_entries = 256;
	u->s.region_size = REGION;
	u->s.nvme_fd = nvme_fd;
	u->s.numa_node = -1;
	if (ioctl(u->fd, UNIFIED_IO_SETUP, &u->s))
		die("UNIFIED_IO_SETUP", errno);
	u->region = mmap(NULL, u->s.off.region_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, u->fd, 0);
	if (u->region == MAP_FAILED)
		die("mmap", errno);
	u->data = u->region + u->s.off.data;
	nrio_ring_init(&u->sq, u->region, &u->s.off.sq);
	nrio_ring_init(&u->cq, u->region, &u->s.off.cq);
}

static struct unified_io_sqe *uctx_sqe(struct uctx *u)
{
	__u32 idx;

	if (nrio_ring_reserve(&u->sq, 1, &idx) != 1)
		die("SQ full", ENOSPC);
	return (struct unified_io_sqe *)nrio_ring_desc(&u->sq, idx);
}

static void prep_read(struct unified_io_sqe *sqe, __u64 slba, __u32 nlb,
		      __u64 off, __u32 len, __u64 ud, bool link)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->type = UNIFIED_IO_TYPE_NVME;
	sqe->flags = link ? UNIFIED_IO_SQE_F_LINK : 0;
	sqe->data_off = off;
	sqe->data_len = len;
	sqe->user_data = ud;
	sqe->cmd.nvme.opcode = NVME_RING_IO_OP_READ;
	sqe->cmd.nvme.cdw10 = (__u32)slba;
	sqe->cmd.nvme.cdw11 = slba >> 32;
	sqe->cmd.nvme.cdw12 = nlb - 1;
}

/* Publish what was prepared, submit, wait for at least one entry. */
static void uctx_round(struct uctx *u, __u32 n)
{
	struct nvme_ring_io_submit s = {
		.flags = NVME_RING_IO_SUBMIT_F_WAIT, .min_complete = 1,
	};

	nrio_ring_submit(&u->sq, n);
	if (ioctl(u->fd, UNIFIED_IO_SUBMIT, &s) < 0 && errno != EINTR)
		die("UNIFIED_IO_SUBMIT", errno);
}

/* --- the three ways ----------------------------------------------------- */

struct slot {
	__u64 key, lba;
	int want;
};

static unsigned int pick;
static unsigned long started;	/* lookups a way has started */

static void slot_next(struct slot *s, const struct bt_tree *t,
		      const __u64 *keys)
{
	s->key = keys[pick++ % NKEYS_PICK];
	s->want = bt_model(t, s->key);
	s->lba = t->root_lba;
	started++;
}

/*
 * A way starts: every way looks the same keys up in the same order; the
 * clocks are read into @r, and way_end() turns them into its figures.
 * Returns when it should stop by time.
 */
static double way_start(struct mode_res *r)
{
	pick = 0;
	started = 0;
	r->secs = now();
	r->cpu = busy();
	r->self = self_cpu();
	return r->secs + seconds;
}

static void way_end(struct mode_res *r)
{
	r->secs = now() - r->secs;
	r->cpu = busy() - r->cpu;
	r->self = self_cpu() - r->self;
}

/* Start another lookup?  Until --count were started, or until @end. */
static bool more(double end)
{
	return count ? started < count : now() < end;
}

static void run_user_ring(struct uctx *u, const struct bt_tree *t,
			  const __u64 *keys, struct mode_res *r)
{
	struct slot sl[MAXQ];
	double end = way_start(r);
	__u32 i, n = 0, idx, got, live = qd;

	for (i = 0; i < qd; i++) {
		slot_next(&sl[i], t, keys);
		prep_read(uctx_sqe(u), sl[i].lba, t->node_lbas,
			  (__u64)i * node, node, i, false);
		n++;
	}
	while (live) {
		uctx_round(u, n);
		n = 0;
		got = nrio_ring_peek(&u->cq, qd, &idx);
		for (i = 0; i < got; i++) {
			const struct nvme_ring_io_cqe *c =
				nrio_cqe(&u->cq, idx + i);
			__u32 q = c->user_data;
			__u64 child = 0;
			int ret;

			if (c->res != (int)node) {
				r->errors++;
				ret = -EIO;
			} else {
				ret = bt_node_search(u->data + (__u64)q * node,
						     node, sl[q].key, &child);
			}
			if (ret == 1) {
				sl[q].lba = child;
			} else {
				r->errors += ret != sl[q].want;
				r->lookups++;
				if (!more(end)) {
					live--;
					continue;
				}
				slot_next(&sl[q], t, keys);
			}
			prep_read(uctx_sqe(u), sl[q].lba, t->node_lbas,
				  (__u64)q * node, node, q, false);
			n++;
		}
		nrio_ring_release(&u->cq, got);
	}
	way_end(r);
}

/* One read-next descriptor (btree_lookup_root) for the lookup in slot @q. */
static void prep_lookup(struct uctx *u, const struct bt_tree *t, __u32 q,
			__u64 key)
{
	struct unified_io_sqe *b = uctx_sqe(u);
	struct bt_root root = {
		.root_lba = t->root_lba, .node_lbas = t->node_lbas,
		.magic = BT_ROOT_MAGIC,
	};

	memcpy(u->data + (__u64)q * node, &root, sizeof(root));
	memset(b, 0, sizeof(*b));
	b->type = UNIFIED_IO_TYPE_BPF;
	b->data_off = (__u64)q * node;
	b->data_len = node;
	b->user_data = q;
	b->cmd.bpf.arg = key;
	b->cmd.bpf.max_hops = t->depth;
}

static void run_bpf_chain(struct uctx *u, const struct bt_tree *t,
			  const __u64 *keys, struct mode_res *r)
{
	struct slot sl[MAXQ];
	double end = way_start(r);
	__u32 i, n = 0, idx, got, live = qd;

	for (i = 0; i < qd; i++) {
		slot_next(&sl[i], t, keys);
		prep_lookup(u, t, i, sl[i].key);
		n++;
	}
	while (live) {
		uctx_round(u, n);
		n = 0;
		got = nrio_ring_peek(&u->cq, qd, &idx);
		for (i = 0; i < got; i++) {
			const struct nvme_ring_io_cqe *c =
				nrio_cqe(&u->cq, idx + i);
			__u32 q = (__u32)c->user_data;

			r->errors += c->res != sl[q].want ||
				     c->result0 != t->depth;
			r->lookups++;
			if (!more(end)) {
				live--;
				continue;
			}
			slot_next(&sl[q], t, keys);
			prep_lookup(u, t, q, sl[q].key);
			n++;
		}
		nrio_ring_release(&u->cq, got);
	}
	way_end(r);
}

static void pt_read(struct io_uring *ring, int fd, __u32 nsid, __u32 lba_shift,
		    unsigned char *buf, __u32 q, __u64 slba)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct nvme_uring_cmd *c;

	if (!sqe)
		die("io_uring SQ full", ENOSPC);
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = NVME_URING_CMD_IO;
	sqe->user_data = q;
	sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
	sqe->buf_index = q;
	c = (struct nvme_uring_cmd *)sqe->cmd;
	c->opcode = 0x02;	/* READ */
	c->nsid = nsid;
	c->addr = (uintptr_t)buf;
	c->data_len = node;
	c->cdw10 = (__u32)slba;
	c->cdw11 = slba >> 32;
	c->cdw12 = (node >> lba_shift) - 1;
}

static void run_uring_pt(const struct bt_tree *t, const __u64 *keys,
			 struct mode_res *r)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32,
	};
	struct iovec iov[MAXQ];
	struct slot sl[MAXQ];
	struct io_uring ring;
	unsigned char *bufs;
	double end;
	__u32 i, live = qd, shift = __builtin_ctz(t->lba);
	int fd, nsid, ret;

	fd = open(ng_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(ng_path, errno);
	nsid = ioctl(fd, NVME_IOCTL_ID);
	if (nsid <= 0)
		die("NVME_IOCTL_ID", errno);
	ret = io_uring_queue_init_params(2 * MAXQ, &ring, &p);
	if (ret)
		die("io_uring_queue_init_params", -ret);
	if (posix_memalign((void **)&bufs, 4096, (size_t)qd * node))
		die("posix_memalign", ENOMEM);
	for (i = 0; i < qd; i++) {
		iov[i].iov_base = bufs + (size_t)i * node;
		iov[i].iov_len = node;
	}
	ret = io_uring_register_buffers(&ring, iov, qd);
	if (ret)
		die("io_uring_register_buffers", -ret);

	end = way_start(r);
	for (i = 0; i < qd; i++) {
		slot_next(&sl[i], t, keys);
		pt_read(&ring, fd, nsid, shift, iov[i].iov_base, i, sl[i].lba);
	}
	while (live) {
		struct io_uring_cqe *cqe;
		unsigned int head, n = 0;

		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR)
			die("io_uring_submit_and_wait", -ret);
		io_uring_for_each_cqe(&ring, head, cqe) {
			__u32 q = cqe->user_data;
			__u64 child = 0;
			int res;

			n++;
			if (cqe->res != 0) {
				r->errors++;
				res = -EIO;
			} else {
				res = bt_node_search(iov[q].iov_base, node,
						     sl[q].key, &child);
			}
			if (res == 1) {
				sl[q].lba = child;
			} else {
				r->errors += res != sl[q].want;
				r->lookups++;
				if (!more(end)) {
					live--;
					continue;
				}
				slot_next(&sl[q], t, keys);
			}
			pt_read(&ring, fd, nsid, shift, iov[q].iov_base, q,
				sl[q].lba);
		}
		io_uring_cq_advance(&ring, n);
	}
	way_end(r);
	io_uring_queue_exit(&ring);
	free(bufs);
	close(fd);
}

/* The smallest fanout that makes a tree of @n keys @depth levels deep. */
static unsigned int fanout_for(unsigned int n, unsigned int depth,
			       unsigned int cap)
{
	unsigned int f, m, levels;

	for (f = 2; f <= cap; f++) {
		for (m = n, levels = 1; m > f; levels++)
			m = (m + f - 1) / f;
		if (levels <= depth)
			return levels == depth ? f : 0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ns", 1, NULL, 'n' }, { "ng", 1, NULL, 'g' },
		{ "bpf", 1, NULL, 'b' }, { "depths", 1, NULL, 'd' },
		{ "keys", 1, NULL, 'k' }, { "node", 1, NULL, 'N' },
		{ "inflight", 1, NULL, 'q' }, { "seconds", 1, NULL, 's' },
		{ "base-mb", 1, NULL, 'B' }, { "ways", 1, NULL, 'w' },
		{ "count", 1, NULL, 'c' }, { 0 },
	};
	const char *depths = "3,4,5,6", *d;
	struct unified_io_bpf_attach a = { 0 };
	struct unified_io_info info = { .size = sizeof(info) };
	struct bpf_object *obj;
	struct bpf_program *prog;
	unsigned long errors = 0;
	struct uctx u;
	int c, nvme_fd, i;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': ns_path = optarg; break;
		case 'g': ng_path = optarg; break;
		case 'b': bpf_path = optarg; break;
		case 'd': depths = optarg; break;
		case 'k': nkeys = atoi(optarg); break;
		case 'N': node = atoi(optarg); break;
		case 'q': qd = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'B': base_mb = atoi(optarg); break;
		case 'w': ways = optarg; break;
		case 'c': count = strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!ns_path || !ng_path || !bpf_path || !qd || qd > MAXQ ||
	    (__u64)qd * node > REGION || (count && count < qd)) {
		fprintf(stderr, "usage: nrio_lookup --ns DEV --ng CHARDEV --bpf OBJ [--depths L] [--keys N] [--node B] [--inflight Q] [--seconds S | --count N (>= Q)] [--base-mb M] [--ways W]\n");
		return 2;
	}
	nvme_fd = open(ns_path, O_RDWR | O_CLOEXEC);
	if (nvme_fd < 0)
		die(ns_path, errno);
	uctx_open(&u, nvme_fd);
	if (ioctl(u.fd, UNIFIED_IO_INFO, &info))
		die("UNIFIED_IO_INFO", errno);
	if (!(info.features & UNIFIED_IO_FEAT_BPF_READ_NEXT)) {
		printf("nrio_lookup: SKIP: the module runs no read-next BPF steps (no BTF?)\n");
		return 4;
	}
	libbpf_set_print(NULL);
	obj = bpf_object__open_file(bpf_path, NULL);
	if (!obj || bpf_object__load(obj))
		die(bpf_path, errno ? errno : EINVAL);
	prog = bpf_object__find_program_by_name(obj, "btree_lookup_root");
	if (!prog)
		die("btree_lookup_root", ENOENT);
	a.slot = 0;
	a.prog_fd = bpf_program__fd(prog);
	if (ioctl(u.fd, UNIFIED_IO_BPF_ATTACH, &a))
		die("UNIFIED_IO_BPF_ATTACH", errno);

	if (count)
		printf("nrio_lookup: %s (LBA %u B), node %u B, %u keys, %u lookups in flight, %lu lookups per way\n",
		       ns_path, info.lba_size, node, nkeys, qd, count);
	else
		printf("nrio_lookup: %s (LBA %u B), node %u B, %u keys, %u lookups in flight, %.1f s per way\n",
		       ns_path, info.lba_size, node, nkeys, qd, seconds);
	printf("%-5s %-9s %10s %12s %14s %14s %14s %7s\n", "depth", "way",
	       "lookups", "lookups/s", "lookups/CPU-s", "CPU-ns/lookup",
	       "own-ns/lookup", "errors");
	for (d = depths, i = 0; *d; i++) {
		unsigned int depth = strtoul(d, (char **)&d, 10), f;
		struct mode_res r[3];
		struct bt_tree t;
		__u64 keys[NKEYS_PICK];
		size_t bytes;
		int w;

		if (*d == ',')
			d++;
		f = fanout_for(nkeys, depth, (node - 16) / 16);
		if (!f || bt_build(&t, nkeys, f, node, info.lba_size,
				   ((__u64)base_mb << 20) / info.lba_size +
				   (__u64)i * (64ULL << 20) / info.lba_size,
				   depth) || t.depth != depth) {
			fprintf(stderr, "nrio_lookup: no tree of depth %u from %u keys in %u-byte nodes\n",
				depth, nkeys, node);
			return 1;
		}
		bytes = (size_t)t.nodes * node;
		if (bytes > (64ULL << 20))
			die("tree larger than 64 MiB", EFBIG);
		if (pwrite(nvme_fd, t.img, bytes, t.base_lba * info.lba_size) !=
		    (ssize_t)bytes || fsync(nvme_fd))
			die("writing the tree", errno ? errno : EIO);
		for (w = 0; w < NKEYS_PICK; w++)
			keys[w] = t.keys[bt_mix(w + 7 * depth) % t.n];
		/* Warm up every way (caches, the device, the workers). */
		{
			unsigned long keep_count = count;
			double keep = seconds;

			seconds = 0.2;
			if (count)
				count = count / 10 > qd ? count / 10 : qd;
			memset(r, 0, sizeof(r));
			if (strstr(ways, "user-ring"))
				run_user_ring(&u, &t, keys, &r[0]);
			if (strstr(ways, "uring-pt"))
				run_uring_pt(&t, keys, &r[1]);
			if (strstr(ways, "bpf-chain"))
				run_bpf_chain(&u, &t, keys, &r[2]);
			seconds = keep;
			count = keep_count;
			for (w = 0; w < 3; w++)
				errors += r[w].errors;
		}
		memset(r, 0, sizeof(r));
		if (strstr(ways, "user-ring"))
			run_user_ring(&u, &t, keys, &r[0]);
		if (strstr(ways, "uring-pt"))
			run_uring_pt(&t, keys, &r[1]);
		if (strstr(ways, "bpf-chain"))
			run_bpf_chain(&u, &t, keys, &r[2]);
		for (w = 0; w < 3; w++) {
			static const char *const names[] = {
				"user-ring", "uring-pt", "bpf-chain",
			};

			printf("%-5u %-9s %10.0f %12.0f %14.0f %14.0f %14.0f %7lu\n",
			       depth, names[w], r[w].lookups,
			       r[w].lookups / r[w].secs,
			       r[w].cpu > 0 ? r[w].lookups / r[w].cpu : 0,
			       r[w].lookups ? r[w].cpu * 1e9 / r[w].lookups : 0,
			       r[w].lookups ? r[w].self * 1e9 / r[w].lookups : 0,
			       r[w].errors);
			errors += r[w].errors;
		}
		{
			double best_s = r[0].lookups / r[0].secs,
			       best_c = r[0].lookups / r[0].cpu;

			if (r[1].lookups / r[1].secs > best_s)
				best_s = r[1].lookups / r[1].secs;
			if (r[1].lookups / r[1].cpu > best_c)
				best_c = r[1].lookups / r[1].cpu;
			printf("%-5u ratio bpf-chain / best userspace way: %.2fx lookups/s, %.2fx lookups/CPU-s\n",
			       depth, r[2].lookups / r[2].secs / best_s,
			       r[2].lookups / r[2].cpu / best_c);
		}
		bt_free(&t);
	}
	bpf_object__close(obj);
	if (errors) {
		printf("nrio_lookup: FAILED: %lu lookups gave a wrong answer\n",
		       errors);
		return 1;
	}
	return 0;
}
