// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded, time-bounded fuzzer for /dev/nvme_ring_io and
 * /dev/unified_io_region: random sequences of open, SETUP, mmap, munmap,
 * SUBMIT, COMPLETE, INFO, close, fork and exit with random and boundary
 * values, random and garbage descriptors (on the unified device: of every
 * type, linked at random; BPF programs and loopback TCP and UDP sockets
 * attached at random), and a thread scribbling on a context's rings while
 * the kernel consumes them.
 *
 *   NRIO_FUZZ_SEED=n      reproduce a run (the seed is always printed)
 *   NRIO_FUZZ_SECONDS=n   budget (default 20)
 *
 * Writable contexts only ever address LBAs inside the scratch range (and
 * keep DSM range lists in a part of the data area nothing reads into);
 * contexts whose rings are scribbled on are bound read-only.  The test
 * checksums the namespace outside the scratch range before and after: it
 * must be untouched.  Nothing may crash, hang or splat (make check reads
 * the console).
 */
#include <endian.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include <libgen.h>

#include <bpf/libbpf.h>
#include <linux/unified_io_region.h>

#include "nrio_test.h"

#include "kselftest_harness.h"

#define SCRATCH_OFF	(400 * MiB)	/* bytes into NS1 */
#define SCRATCH_LEN	(16 * MiB)
#define DSM_AREA	4096		/* data bytes reserved for DSM lists */
#define MAX_CTX		8

struct fz_ctx {
	int fd, nfd;
	bool setup, rw, scribbled, unified;
	struct nvme_ring_io_setup s;
	struct unified_io_setup us;
	struct nvme_ring_io_offsets *off;	/* s.off or us.off */
	void *map;
	size_t map_len;
	struct nrio_ring sq, cq;
	__u32 lba;
};

/* bpf_test's programs, attached at random to unified contexts' slots. */
static struct bpf_object *bpf_obj;
static int bpf_progs[8];
static unsigned int n_bpf_progs;

/*
 * Sockets attached at random: a TCP and a UDP socket connected over
 * loopback (their peers send and drain at random) and a pipe, which
 * ATTACH refuses.
 */
static int fz_socks[3] = { -1, -1, -1 };
static int fz_peers[2] = { -1, -1 };

static __u64 rng_state;
static unsigned long bad_cqes;	/* CQ entries no kernel should write */
/* user_data of BPF descriptors: their res is the program's, any int. */
#define FZ_BPF_TAG	(0xb9f0ULL << 48)
static unsigned long n_ops, n_descs, n_setups;

static __u64 rnd(void)
{
	/* xorshift64*: small, seeded, reproducible */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static __u64 pick(const __u64 *v, unsigned int n)
{
	return v[rnd() % n];
}

#define PICK(arr) pick(arr, sizeof(arr) / sizeof(arr[0]))

static const __u64 entries_vals[] = {
	0, 1, 2, 3, 4, 7, 8, 16, 64, 255, 256, 4096, 32767, 32768, 32769,
	65536, 0x7fffffff, 0x80000000, 0xffffffff,
};
static const __u64 size_vals[] = {
	0, 1, 4095, 4096, 4097, 8192, 65536, 2 * MiB - 4096, 2 * MiB,
	2 * MiB + 4096, 8 * MiB, 1024 * MiB + 4096, 1ULL << 40, ~0ULL,
	~0ULL - 4095,
};
static const __u64 num_vals[] = {
	0, 1, 2, 7, 8, 9, 15, 16, 255, 256, 511, 512, 4095, 4096, 65535,
	65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
};

/* A value for a descriptor field: boundary, random or small. */
static __u64 fz_field(void)
{
	switch (rnd() % 4) {
	case 0:
		return PICK(num_vals);
	case 1:
		return rnd();
	default:
		return rnd() % 64;
	}
}

static void fz_close(struct fz_ctx *c)
{
	if (c->map)
		munmap(c->map, c->map_len);
	if (c->fd >= 0)
		close(c->fd);
	if (c->nfd >= 0)
		close(c->nfd);
	memset(c, 0, sizeof(*c));
	c->fd = c->nfd = -1;
}

/* Map the region and bind the rings, most of the time. */
static void fz_map(struct fz_ctx *c)
{
	if (!(rnd() % 8))
		return;
	c->map_len = c->off->region_size;
	c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->fd, 0);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		return;
	}
	nrio_ring_init(&c->sq, c->map, &c->off->sq);
	nrio_ring_init(&c->cq, c->map, &c->off->cq);
}

static void fz_open_unified(struct fz_ctx *c)
{
	static const __u64 frames[] = { 0, 0, 2048, 4096, 65536, 2 * MiB,
					3000, 1024, 4 * MiB };
	struct unified_io_setup *s = &c->us;
	struct unified_io_info info;
	int r = rnd() % 16;

	c->unified = true;
	c->fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		return;
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->sq_entries = 1U << (rnd() % 9);
	s->region_size = 4096 << (rnd() % 11);
	s->nvme_fd = rnd() % 8 ? c->nfd : -1;
	s->numa_node = -1;
	if (r == 0)
		s->sq_entries = PICK(entries_vals);
	if (r == 1)
		s->region_size = PICK(size_vals);
	if (r == 2)
		s->flags = rnd();
	if (r == 3)
		s->resv[rnd() % 4] = rnd();
	if (r == 4)
		s->net_ifindex = rnd() % 2 ? 1 : fz_field();
	if (r == 5)
		s->net_rxq = fz_field();
	if (r == 6)
		s->frame_size = PICK(frames);
	if (r == 7) {
		s->frame_size = 4096;
		s->frame_headroom = fz_field();
	}
	if (r == 8)
		s->nvme_fd = (int)PICK(num_vals);
	if (r == 9)
		s->size = PICK(num_vals);
	if (ioctl(c->fd, UNIFIED_IO_SETUP, s))
		return;
	n_setups++;
	c->setup = true;
	c->lba = 512;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	c->rw = ioctl(c->fd, UNIFIED_IO_INFO, &info) ||
		(info.flags & UNIFIED_IO_INFO_F_WRITE);
	c->off = &s->off;
	fz_map(c);
}

static void fz_open(struct fz_ctx *c)
{
	struct nvme_ring_io_setup *s = &c->s;
	struct nvme_ring_io_info info;
	int r = rnd() % 16;

	fz_close(c);
	c->rw = !(rnd() % 2);
	c->nfd = open(NS1_BLK, (c->rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (c->nfd < 0)
		return;
	if (!(rnd() % 3)) {
		fz_open_unified(c);
		return;
	}
	c->fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		return;

	/* Mostly sane, sometimes hostile. */
	nt_setup_args(s, c->nfd, 1U << (rnd() % 9), 0, 4096 << (rnd() % 11));
	if (r == 0)
		s->sq_entries = PICK(entries_vals);
	if (r == 1)
		s->cq_entries = PICK(entries_vals);
	if (r == 2)
		s->data_size = PICK(size_vals);
	if (r == 3)
		s->flags = rnd();
	if (r == 4)
		s->resv[rnd() % 4] = rnd();
	if (r == 5)
		s->numa_node = (int)PICK(num_vals);
	if (r == 6)
		s->nvme_fd = (int)PICK(num_vals);
	if (r == 7)
		s->size = PICK(num_vals);
	if (r == 8)
		s->flags = NVME_RING_IO_SETUP_F_IOPOLL;
	if (ioctl(c->fd, NVME_RING_IO_SETUP, s))
		return;
	n_setups++;
	c->setup = true;
	c->lba = 512;
	/* A random nvme_fd may have bound a writable file: ask. */
	if (!nt_info(c->fd, &info))
		c->rw = info.flags & NVME_RING_IO_INFO_F_WRITE;
	else
		c->rw = true;
	c->off = &s->off;
	fz_map(c);
}

/* A random descriptor; on a writable context it stays in the scratch. */
static void fz_desc(struct fz_ctx *c, struct nvme_ring_io_sqe *d)
{
	static const __u64 ops[] = { 0, 1, 2, 8, 9, 5, 4, 0x7f, 0xff };
	__u64 data = c->off->data_size, slba, nlb;

	memset(d, 0, sizeof(*d));
	d->opcode = PICK(ops);
	nlb = 1 + rnd() % (rnd() % 4 ? 64 : 65536);
	slba = SCRATCH_OFF / 512 + rnd() % (SCRATCH_LEN / 512);
	d->data_len = nlb * 512;
	d->data_off = (rnd() % (data / 512 + 2)) * 512;
	if (!(rnd() % 4)) {		/* hostile fields */
		switch (rnd() % 8) {
		case 0: d->data_off = fz_field(); break;
		case 1: d->data_len = fz_field(); break;
		case 2: d->flags = fz_field(); break;
		case 3: d->nsid = fz_field(); break;
		case 4: d->cdw13 = fz_field(); break;
		case 5: d->metadata_len = fz_field(); break;
		case 6: nlb = fz_field(); break;
		default: slba = fz_field(); break;
		}
	}
	if (c->rw) {
		/* Writes may only land in the scratch range. */
		if (slba < SCRATCH_OFF / 512 ||
		    slba >= (SCRATCH_OFF + SCRATCH_LEN) / 512)
			slba = SCRATCH_OFF / 512;
		nlb = nlb % 65536 + 1;
		if (slba + nlb > (SCRATCH_OFF + SCRATCH_LEN) / 512)
			nlb = (SCRATCH_OFF + SCRATCH_LEN) / 512 - slba;
		if (d->opcode == NVME_RING_IO_OP_DSM) {
			struct nvme_ring_io_dsm_range *r = (void *)
				((char *)c->map + c->off->data);
			unsigned int i, nr = 1 + rnd() % 4;

			for (i = 0; i < nr; i++) {
				r[i].slba = htole64(SCRATCH_OFF / 512 +
						    rnd() % 1024);
				r[i].nlb = htole32(rnd() % 1024);
			}
			d->data_off = 0;
			d->data_len = nr * 16;
			d->cdw10 = nr - 1;
			d->cdw11 = NVME_RING_IO_DSM_AD;
			d->user_data = rnd();
			return;
		}
		/* Nothing reads into the DSM lists. */
		if (d->data_off < DSM_AREA)
			d->data_off = DSM_AREA;
	}
	d->cdw10 = (__u32)slba;
	d->cdw11 = slba >> 32;
	d->cdw12 = (nlb - 1) & 0xffff;
	if (!(rnd() % 8))
		d->cdw12 |= rnd() & 0xffff0000;
	d->user_data = rnd();
}

/* A unified descriptor: a random NVMe one, typed and linked at random. */
static void fz_udesc(struct fz_ctx *c, struct unified_io_sqe *u)
{
	struct nvme_ring_io_sqe d;

	fz_desc(c, &d);
	memset(u, 0, sizeof(*u));
	u->type = rnd() % 4 ? UNIFIED_IO_TYPE_NVME : rnd() % 6;
	if (u->type == UNIFIED_IO_TYPE_NET_SEND ||
	    u->type == UNIFIED_IO_TYPE_NET_RECV) {
		static const __u32 flags[] = { 0, MSG_WAITALL, MSG_MORE };

		u->flags = rnd() % 3 ? 0 : UNIFIED_IO_SQE_F_LINK;
		u->data_off = rnd() % 2 ? rnd() % (1 << 20) : fz_field();
		u->data_len = rnd() % 2 ? 1 + rnd() % 9000 : fz_field();
		u->user_data = rnd();
		u->cmd.net.sock = rnd() % 4 ? rnd() % 4 :
				  rnd() % (UNIFIED_IO_SOCK_SLOTS + 2);
		u->cmd.net.msg_flags = rnd() % 8 ? flags[rnd() % 3] : rnd();
		if (!(rnd() % 16))
			u->cmd.net.resv[rnd() % 7] = rnd();
		return;
	}
	if (u->type == UNIFIED_IO_TYPE_BPF) {
		u->flags = rnd() % 3 ? 0 : UNIFIED_IO_SQE_F_LINK;
		u->data_off = rnd() % 2 ? 64 * (rnd() % 1024) : fz_field();
		u->data_len = rnd() % 2 ? 64 * (rnd() % 257) : fz_field();
		/* A program's result is any int: tagged, not checked. */
		u->user_data = FZ_BPF_TAG | (rnd() & 0xffffffffffffULL);
		u->cmd.bpf.slot = rnd() % (UNIFIED_IO_BPF_SLOTS + 2);
		u->cmd.bpf.arg = rnd() % 2 ? rnd() : rnd() % 256;
		/* Read-next steps: within the default limit, or anything. */
		if (!(rnd() % 4))
			u->cmd.bpf.max_hops = rnd() % 2 ? 1 + rnd() % 32 :
					      (__u32)fz_field();
		if (!(rnd() % 16))
			u->cmd.bpf.resv2[rnd() % 6] = rnd();
		return;
	}
	u->flags = rnd() % 3 ? 0 : UNIFIED_IO_SQE_F_LINK;
	u->data_off = d.data_off;
	u->data_len = d.data_len;
	u->user_data = d.user_data;
	u->cmd.nvme.opcode = d.opcode;
	u->cmd.nvme.nsid = d.nsid;
	u->cmd.nvme.metadata_len = d.metadata_len;
	u->cmd.nvme.cdw10 = d.cdw10;
	u->cmd.nvme.cdw11 = d.cdw11;
	u->cmd.nvme.cdw12 = d.cdw12;
	u->cmd.nvme.cdw13 = d.cdw13;
	/* d.flags is where fz_desc() puts a hostile flags byte. */
	if (d.flags)
		u->flags = d.flags;
	if (!(rnd() % 16)) {
		switch (rnd() % 4) {
		case 0: u->resv1 = rnd(); break;
		case 1: u->resv2 = rnd(); break;
		case 2: u->cmd.nvme.resv1[rnd() % 3] = rnd(); break;
		default: u->data_off += 4 * (rnd() % 128); break;
		}
	}
}

static void fz_io(struct fz_ctx *c)
{
	struct nvme_ring_io_submit sub = { .to_submit = rnd() % 40 };
	struct nvme_ring_io_complete comp = {
		.min_complete = rnd() % 8,
		.timeout_ns = rnd() % 2 ? 0 : 1000000,
	};
	__u32 idx, n, i;

	if (!c->setup)
		return;
	if (c->map) {
		n = nrio_ring_reserve(&c->sq, rnd() % 40, &idx);
		for (i = 0; i < n; i++) {
			if (c->unified)
				fz_udesc(c, nrio_ring_desc(&c->sq, idx + i));
			else
				fz_desc(c, nrio_sqe(&c->sq, idx + i));
		}
		nrio_ring_submit(&c->sq, n);
		n_descs += n;
	}
	if (!(rnd() % 16))
		sub.flags = rnd();
	ioctl(c->fd, c->unified ? UNIFIED_IO_SUBMIT : NVME_RING_IO_SUBMIT,
	      &sub);
	if (!(rnd() % 16))
		comp.min_complete = rnd();
	ioctl(c->fd, c->unified ? UNIFIED_IO_COMPLETE : NVME_RING_IO_COMPLETE,
	      &comp);
	if (c->map) {
		n = nrio_ring_peek(&c->cq, rnd() % 64, &idx);
		for (i = 0; i < n; i++) {
			const struct nvme_ring_io_cqe *cqe =
				nrio_cqe(&c->cq, idx + i);

			/*
			 * res is bytes (<= 32 MiB) or -errno, unless the
			 * scribbler has been at this ring or a program
			 * gave it.
			 */
			if (!c->scribbled &&
			    cqe->user_data >> 48 != FZ_BPF_TAG >> 48 &&
			    (cqe->res < -4095 || cqe->res > (32 << 20)))
				bad_cqes++;
		}
		nrio_ring_release(&c->cq, n);
	}
}

/* The peers send a little and drain what came, never blocking. */
static void fz_peers_talk(void)
{
	unsigned char buf[9000];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if (fz_peers[i] < 0)
			continue;
		while (recv(fz_peers[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		memset(buf, (int)rnd(), sizeof(buf));
		if (rnd() % 2)
			send(fz_peers[i], buf, 1 + rnd() % 9000,
			     MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

static void fz_misc(struct fz_ctx *c)
{
	/* Room for any INFO a random request may ask for. */
	union {
		struct nvme_ring_io_info info;
		struct unified_io_info uinfo;
		unsigned char bytes[NVME_RING_IO_MAX_STRUCT_SIZE];
	} buf;
	void *p;

	switch (rnd() % 5) {
	case 4:
		/* Programs into and out of a unified context's slots. */
		if (c->unified) {
			struct unified_io_bpf_attach a = {
				.slot = rnd() % (UNIFIED_IO_BPF_SLOTS + 2),
				.prog_fd = n_bpf_progs && rnd() % 4 ?
					   bpf_progs[rnd() % n_bpf_progs] :
					   (int)fz_field(),
			};
			bool attach = rnd() % 3;

			if (!attach)
				a.prog_fd = -1;
			ioctl(c->fd, attach ? UNIFIED_IO_BPF_ATTACH :
			      UNIFIED_IO_BPF_DETACH, &a);
		}
		/* Sockets into and out of its slots; the peers talk. */
		if (c->unified) {
			struct unified_io_sock_attach a = {
				.slot = rnd() % 4 ? rnd() % 4 :
					rnd() % (UNIFIED_IO_SOCK_SLOTS + 2),
				.sock_fd = rnd() % 8 ? fz_socks[rnd() % 3] :
					   (int)fz_field(),
			};
			bool attach = rnd() % 3;

			if (!attach)
				a.sock_fd = -1;
			ioctl(c->fd, attach ? UNIFIED_IO_SOCK_ATTACH :
			      UNIFIED_IO_SOCK_DETACH, &a);
		}
		/* XDP handles: mostly good requests, some bad or unmapped. */
		if (c->unified) {
			struct unified_io_xdp_handle h = {
				.flags = rnd() % 4 ? 0 : (__u32)fz_field(),
				.resv = rnd() % 4 ? 0 : (__u32)fz_field(),
			};

			ioctl(c->fd, UNIFIED_IO_XDP_HANDLE,
			      rnd() % 8 ? (void *)&h : NULL);
		}
		fz_peers_talk();
		break;
	case 0:
		memset(&buf, 0, sizeof(buf));
		buf.info.size = PICK(num_vals);
		ioctl(c->fd, c->unified ? UNIFIED_IO_INFO : NVME_RING_IO_INFO,
		      &buf);
		break;
	case 1:
		p = mmap(NULL, PICK(size_vals) & ~4095ULL ?: 4096,
			 PROT_READ | (rnd() % 2 ? PROT_WRITE : 0),
			 rnd() % 4 ? MAP_SHARED : MAP_PRIVATE, c->fd,
			 (rnd() % 4 ? 0 : PICK(size_vals)) & ~4095ULL);
		if (p != MAP_FAILED)
			munmap(p, 4096);
		break;
	case 2:
		if (c->map && !(rnd() % 4)) {
			munmap(c->map, c->map_len);
			c->map = NULL;
		}
		break;
	default:
		/* Any request of this driver's type, any size and direction. */
		ioctl(c->fd, _IOC(rnd() % 4, NVME_RING_IO_IOC_MAGIC, rnd() % 256,
				  rnd() % 512), rnd() % 2 ? NULL : &buf);
		break;
	}
}

/* The scribbler: garbage into a read-only context's rings, nonstop. */
struct scribble {
	struct fz_ctx *c;
	volatile int stop;
	__u64 seed;
};

static void *scribbler(void *arg)
{
	struct scribble *sc = arg;
	struct fz_ctx *c = sc->c;
	__u64 x = sc->seed | 1;
	unsigned char *base = c->map;

	while (!sc->stop) {
		__u64 off;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (x % 4) {
		case 0:		/* the SQ producer */
			__atomic_store_n(c->sq.producer, (__u32)(x >> 8),
					 __ATOMIC_RELEASE);
			break;
		case 1:		/* the CQ consumer */
			__atomic_store_n(c->cq.consumer, (__u32)(x >> 8),
					 __ATOMIC_RELEASE);
			break;
		default:	/* any byte of the descriptor rings */
			off = c->off->sq.desc + (x >> 16) %
			      (c->off->data - c->off->sq.desc);
			__atomic_store_n(base + off, (unsigned char)(x >> 40),
					 __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

static void fz_scribble(struct fz_ctx *c, __u64 ms)
{
	struct nvme_ring_io_submit sub = { 0 };
	struct nvme_ring_io_complete comp = { .min_complete = 1,
					      .timeout_ns = 100000 };
	struct scribble sc = { .c = c, .seed = rnd() };
	struct timespec t0, t;
	pthread_t th;

	if (!c->setup || !c->map || c->rw)
		return;
	c->scribbled = true;
	if (pthread_create(&th, NULL, scribbler, &sc))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ioctl(c->fd, c->unified ? UNIFIED_IO_SUBMIT :
		      NVME_RING_IO_SUBMIT, &sub);
		ioctl(c->fd, c->unified ? UNIFIED_IO_COMPLETE :
		      NVME_RING_IO_COMPLETE, &comp);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 +
		 (t.tv_nsec - t0.tv_nsec) / 1000000 < (long)ms);
	sc.stop = 1;
	pthread_join(th, NULL);
}

/* FNV-1a over the namespace outside the scratch range, via O_DIRECT. */
static int ns_checksum(__u64 *sum)
{
	__u64 h = 0xcbf29ce484222325ULL, off, size;
	int fd = open(NS1_BLK, O_RDONLY | O_DIRECT | O_CLOEXEC);
	unsigned char *buf;
	ssize_t i, n;

	if (fd < 0 || posix_memalign((void **)&buf, 4096, MiB))
		return -1;
	size = lseek(fd, 0, SEEK_END);
	for (off = 0; off < size; off += n) {
		if (off >= SCRATCH_OFF && off < SCRATCH_OFF + SCRATCH_LEN) {
			n = SCRATCH_LEN;
			continue;
		}
		n = pread(fd, buf, MiB, off);
		if (n <= 0)
			break;
		for (i = 0; i < n; i += 8)
			h = (h ^ *(__u64 *)(buf + i)) * 0x100000001b3ULL;
	}
	free(buf);
	close(fd);
	*sum = h;
	return 0;
}

static void fz_run(__u64 deadline_s, int depth)
{
	struct fz_ctx ctx[MAX_CTX];
	struct timespec t;
	int i;

	for (i = 0; i < MAX_CTX; i++) {
		memset(&ctx[i], 0, sizeof(ctx[i]));
		ctx[i].fd = ctx[i].nfd = -1;
	}
	for (;;) {
		struct fz_ctx *c = &ctx[rnd() % MAX_CTX];

		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((__u64)t.tv_sec >= deadline_s)
			break;
		n_ops++;
		switch (rnd() % 16) {
		case 0: case 1:
			fz_open(c);
			break;
		case 2:
			fz_close(c);
			break;
		case 3:
			fz_misc(c);
			break;
		case 4:
			fz_scribble(c, 20 + rnd() % 100);
			break;
		case 5:
			if (depth < 2 && !(rnd() % 4)) {
				pid_t pid = fork();

				if (pid == 0) {
					/* Carry on with inherited contexts,
					 * then leave without cleaning up. */
					rng_state ^= getpid();
					clock_gettime(CLOCK_MONOTONIC, &t);
					fz_run(t.tv_sec + 1, depth + 1);
					_exit(0);
				}
				if (pid > 0 && rnd() % 2)
					kill(pid, SIGKILL);
			}
			break;
		default:
			fz_io(c);
			break;
		}
	}
	for (i = 0; i < MAX_CTX; i++)
		fz_close(&ctx[i]);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

static int fz_libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			   va_list ap)
{
	return 0;
}

/* Load bpf_test's object where the module runs BPF; none otherwise. */
static void fz_load_bpf(void)
{
	char exe[4096], path[4200];
	struct bpf_program *prog;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/unified.bpf.o", dirname(exe));
	libbpf_set_print(fz_libbpf_quiet);
	bpf_obj = bpf_object__open_file(path, NULL);
	if (!bpf_obj)
		return;
	if (bpf_object__load(bpf_obj)) {
		/* No module BTF (the debug kernel): no programs. */
		bpf_object__close(bpf_obj);
		bpf_obj = NULL;
		return;
	}
	bpf_object__for_each_program(prog, bpf_obj)
		if (n_bpf_progs < 8)
			bpf_progs[n_bpf_progs++] = bpf_program__fd(prog);
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, run, 900)
{
	const char *env_seed = getenv("NRIO_FUZZ_SEED");
	const char *env_secs = getenv("NRIO_FUZZ_SECONDS");
	__u64 seed, before, after, secs = env_secs ? atoi(env_secs) : 20;
	struct timespec t;
	struct nt_ctx c;
	int pipefd[2];

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	clock_gettime(CLOCK_REALTIME, &t);
	seed = env_seed ? strtoull(env_seed, NULL, 0) :
	       (__u64)t.tv_nsec ^ ((__u64)t.tv_sec << 20);
	TH_LOG("seed %llu, %llu s (NRIO_FUZZ_SEED / NRIO_FUZZ_SECONDS)",
	       (unsigned long long)seed, (unsigned long long)secs);
	rng_state = seed ? seed : 1;

	fz_load_bpf();
	TH_LOG("%u BPF programs to attach", n_bpf_progs);
	ASSERT_EQ(0, nt_sock_pair(SOCK_STREAM, &fz_socks[0], &fz_peers[0]));
	ASSERT_EQ(0, nt_sock_pair(SOCK_DGRAM, &fz_socks[1], &fz_peers[1]));
	ASSERT_EQ(0, pipe(pipefd));
	fz_socks[2] = pipefd[0];
	ASSERT_EQ(0, ns_checksum(&before));
	clock_gettime(CLOCK_MONOTONIC, &t);
	fz_run(t.tv_sec + secs, 0);
	ASSERT_EQ(0, ns_checksum(&after));
	TH_LOG("%lu operations, %lu successful SETUPs, %lu descriptors",
	       n_ops, n_setups, n_descs);
	EXPECT_EQ(0, bad_cqes);
	EXPECT_EQ(before, after) {
		TH_LOG("the namespace changed outside the scratch range");
	}

	/* The module still works. */
	ASSERT_EQ(0, nt_open(&c, NS1_BLK, O_RDWR, 8, 0, 1 * MiB));
	nt_fill(c.data, 4096, 1);
	EXPECT_EQ(4096, nt_rw_sync(&c, NVME_RING_IO_OP_WRITE,
				   SCRATCH_OFF / 512, 8, 0));
	memset(c.data, 0, 4096);
	EXPECT_EQ(4096, nt_rw_sync(&c, NVME_RING_IO_OP_READ,
				   SCRATCH_OFF / 512, 8, 0));
	EXPECT_EQ(0, nt_check(c.data, 4096, 1));
	nt_close(&c);
}

TEST_HARNESS_MAIN
