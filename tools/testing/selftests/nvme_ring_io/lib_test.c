// SPDX-License-Identifier: GPL-2.0
/*
 * libnvme_ring_io: both engines and every submission path on both
 * namespaces, cross-checked against each other and against O_DIRECT;
 * fixed-buffer coverage; NVMe status through passthrough; io_uring
 * teardown and SIGKILL with commands outstanding.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "nrio_test.h"
#include "../../../lib/nvme_ring_io/nvme_ring_io.h"

#include "kselftest_harness.h"

#define DATA_SIZE	(16 * MiB)
#define NS_BASE		(128 * MiB)	/* scratch bytes, clear of io_test */
#define TIMEOUT_NS	(10LL * 1000 * 1000 * 1000)

static int lib_open(struct nrio **n, const char *dev, uint32_t engine,
		    uint32_t flags, uint64_t data_size)
{
	struct nrio_opts o;

	nrio_opts_init(&o);
	o.engine = engine;
	o.flags = flags;
	o.sq_entries = 64;
	o.data_size = data_size;
	return nrio_open(dev, O_RDWR, &o, n);
}

/* One descriptor, submitted and reaped: the CQE. */
static int lib_sync(struct nrio *n, const struct nvme_ring_io_sqe *in,
		    struct nvme_ring_io_cqe *cqe)
{
	struct nvme_ring_io_sqe *sqe = nrio_get_sqe(n);
	int ret;

	if (!sqe)
		return -EBUSY;
	*sqe = *in;
	ret = nrio_submit(n);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = nrio_reap(n, cqe, 1, 1, TIMEOUT_NS);
	if (ret != 1)
		return ret < 0 ? ret : -ETIME;
	return cqe->res;
}

static int lib_rw(struct nrio *n, uint8_t op, uint64_t slba, uint32_t nlb,
		  uint64_t off)
{
	struct nvme_ring_io_sqe sqe;
	struct nvme_ring_io_cqe cqe;

	nrio_prep_rw(n, &sqe, op, slba, nlb, off, slba);
	return lib_sync(n, &sqe, &cqe);
}

FIXTURE(engine) {
	struct nrio *n;
	int direct_fd;
	void *buf;
};

FIXTURE_VARIANT(engine) {
	const char *dev;
	uint32_t engine;
	uint32_t flags;
	uint32_t lba;
};

#define ENGINE_VARIANT(name, dev_, engine_, flags_, lba_)		\
	FIXTURE_VARIANT_ADD(engine, name) {				\
		.dev = dev_, .engine = engine_, .flags = flags_,	\
		.lba = lba_,						\
	}

ENGINE_VARIANT(ns1_kernel_ioctl, NS1_BLK, NRIO_ENGINE_KERNEL, 0, 512);
ENGINE_VARIANT(ns1_kernel_uring, NS1_BLK, NRIO_ENGINE_KERNEL,
	       NRIO_OPEN_URING, 512);
ENGINE_VARIANT(ns1_kernel_poll, NS1_BLK, NRIO_ENGINE_KERNEL,
	       NRIO_OPEN_POLL, 512);
ENGINE_VARIANT(ns1_passthru, NS1_BLK, NRIO_ENGINE_PASSTHRU, 0, 512);
ENGINE_VARIANT(ns2_kernel_ioctl, NS2_BLK, NRIO_ENGINE_KERNEL, 0, 4096);
ENGINE_VARIANT(ns2_kernel_uring, NS2_BLK, NRIO_ENGINE_KERNEL,
	       NRIO_OPEN_URING, 4096);
ENGINE_VARIANT(ns2_kernel_poll, NS2_BLK, NRIO_ENGINE_KERNEL,
	       NRIO_OPEN_POLL, 4096);
ENGINE_VARIANT(ns2_passthru, NS2_BLK, NRIO_ENGINE_PASSTHRU, 0, 4096);
ENGINE_VARIANT(ng2_passthru, NS2_CHR, NRIO_ENGINE_PASSTHRU, 0, 4096);
ENGINE_VARIANT(ns1_passthru_single, NS1_BLK, NRIO_ENGINE_PASSTHRU,
	       NRIO_OPEN_SINGLE_ISSUER, 512);
ENGINE_VARIANT(ns2_passthru_single, NS2_BLK, NRIO_ENGINE_PASSTHRU,
	       NRIO_OPEN_SINGLE_ISSUER, 4096);
/* The kernel engine in direct mode, by every submission path. */
ENGINE_VARIANT(ns1_kernel_direct, NS1_BLK, NRIO_ENGINE_KERNEL,
	       NRIO_OPEN_DIRECT, 512);
ENGINE_VARIANT(ns1_kernel_direct_uring, NS1_BLK, NRIO_ENGINE_KERNEL,
	       NRIO_OPEN_DIRECT | NRIO_OPEN_URING, 512);
ENGINE_VARIANT(ns2_kernel_direct_poll, NS2_BLK, NRIO_ENGINE_KERNEL,
	       NRIO_OPEN_DIRECT | NRIO_OPEN_POLL, 4096);

FIXTURE_SETUP(engine)
{
	int ret;

	if (!nt_have(variant->dev))
		SKIP(return, "no %s", variant->dev);
	ret = lib_open(&self->n, variant->dev, variant->engine,
		       variant->flags, DATA_SIZE);
	ASSERT_EQ(0, ret) {
		TH_LOG("nrio_open %s: %s", variant->dev, nrio_strerror(ret));
	}
	ASSERT_EQ(variant->lba, nrio_facts(self->n)->lba_size);
	/* The VM's controller has a poll queue: polling must be real. */
	ASSERT_EQ(!!(variant->flags & NRIO_OPEN_POLL),
		  nrio_facts(self->n)->polled);
	ASSERT_EQ(!!(variant->flags & NRIO_OPEN_DIRECT),
		  nrio_facts(self->n)->direct);
	self->direct_fd = open(variant->lba == 512 ? NS1_BLK : NS2_BLK,
			       O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, self->direct_fd);
	ASSERT_EQ(0, posix_memalign(&self->buf, 4096, 4 * MiB));
}

FIXTURE_TEARDOWN(engine)
{
	nrio_close(self->n);
	close(self->direct_fd);
	free(self->buf);
}

TEST_F(engine, write_read_verify)
{
	const struct nrio_facts *f = nrio_facts(self->n);
	unsigned char *data = nrio_data(self->n);
	uint64_t lba = f->lba_size, slba = NS_BASE / lba;
	uint64_t lens[] = { lba, 16384, 131072, f->max_transfer };
	/* In a buffer, and across the first fixed-buffer boundary. */
	uint64_t offs[] = { 0, f->buf_size < DATA_SIZE ?
			       f->buf_size - 8192 : 4 * MiB + 8192 };
	unsigned int i, j;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (j = 0; j < 2; j++) {
			uint64_t len = lens[i], off = offs[j];
			uint64_t roff = 8 * MiB + off, seed = i * 7 + j + lba;
			uint32_t nlb = len / lba;
			int res;

			if (len > 4 * MiB || roff + len > DATA_SIZE)
				continue;
			nt_fill(data + off, len, seed);
			memset(data + roff, 0, len);
			res = lib_rw(self->n, NVME_RING_IO_OP_WRITE, slba, nlb,
				     off);
			ASSERT_EQ((int)len, res) {
				TH_LOG("write %llu at +%llu: %s",
				       (unsigned long long)len,
				       (unsigned long long)off,
				       nrio_strerror(res));
			}
			res = lib_rw(self->n, NVME_RING_IO_OP_READ, slba, nlb,
				     roff);
			ASSERT_EQ((int)len, res);
			ASSERT_EQ(0, nt_check(data + roff, len, seed));
			ASSERT_EQ((ssize_t)len, pread(self->direct_fd,
						      self->buf, len,
						      slba * lba));
			ASSERT_EQ(0, nt_check(self->buf, len, seed));
			slba += nlb;
		}
	}
}

TEST_F(engine, batch)
{
	const struct nrio_facts *f = nrio_facts(self->n);
	unsigned char *data = nrio_data(self->n);
	struct nvme_ring_io_cqe cqes[64];
	uint64_t lba = f->lba_size, slba = NS_BASE / lba + 8 * MiB / lba;
	unsigned int total = 512, queued = 0, done = 0, i;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		uint8_t op = pass ? NVME_RING_IO_OP_READ : NVME_RING_IO_OP_WRITE;

		if (!pass)
			for (i = 0; i < total; i++)
				nt_fill(data + i * lba, lba, i + 99);
		else
			memset(data, 0, total * lba);
		queued = done = 0;
		while (done < total) {
			struct nvme_ring_io_sqe *sqe;
			int ret;

			while (queued < total && (sqe = nrio_get_sqe(self->n))) {
				nrio_prep_rw(self->n, sqe, op, slba + queued, 1,
					     queued * lba, queued);
				queued++;
			}
			ASSERT_LE(0, nrio_submit(self->n));
			ret = nrio_reap(self->n, cqes, 64, 1, TIMEOUT_NS);
			ASSERT_LT(0, ret);
			for (i = 0; i < (unsigned int)ret; i++) {
				ASSERT_EQ((int)lba, cqes[i].res);
				ASSERT_EQ(0, cqes[i].status);
			}
			done += ret;
		}
		EXPECT_EQ(0, nrio_inflight(self->n));
	}
	for (i = 0; i < total; i++)
		ASSERT_EQ(0, nt_check(data + i * lba, lba, i + 99));
}

/* Submit and wait in one call: what it waited for is there to reap. */
TEST_F(engine, submit_and_wait)
{
	const struct nrio_facts *f = nrio_facts(self->n);
	unsigned char *data = nrio_data(self->n);
	struct nvme_ring_io_cqe cqes[64];
	uint64_t lba = f->lba_size, slba = NS_BASE / lba + 12 * MiB / lba;
	unsigned int i, pass, nlb = 4096 / lba;

	for (pass = 0; pass < 2; pass++) {
		uint8_t op = pass ? NVME_RING_IO_OP_READ : NVME_RING_IO_OP_WRITE;

		if (!pass)
			for (i = 0; i < 32; i++)
				nt_fill(data + i * 4096, 4096, i + 7);
		else
			memset(data, 0, 32 * 4096);
		for (i = 0; i < 32; i++)
			nrio_prep_rw(self->n, nrio_get_sqe(self->n), op,
				     slba + i * nlb, nlb, i * 4096, i);
		ASSERT_EQ(32, nrio_submit_and_wait(self->n, 32));
		/* No waiting left to do: all 32 are ready. */
		ASSERT_EQ(32, nrio_reap(self->n, cqes, 64, 0, 0));
		for (i = 0; i < 32; i++)
			ASSERT_EQ(4096, cqes[i].res);
		EXPECT_EQ(0, nrio_inflight(self->n));
	}
	for (i = 0; i < 32; i++)
		ASSERT_EQ(0, nt_check(data + i * 4096, 4096, i + 7));
	/* Nothing to submit or wait for: returns at once. */
	EXPECT_EQ(0, nrio_submit_and_wait(self->n, 1));
}

/* Every fixed buffer works, and together they cover the data area. */
TEST_F(engine, fixed_buffers_cover_data)
{
	const struct nrio_facts *f = nrio_facts(self->n);
	uint64_t lba = f->lba_size, b;

	ASSERT_LT(0, f->nr_bufs);
	EXPECT_LE(DATA_SIZE, f->nr_bufs * f->buf_size);
	EXPECT_GT(DATA_SIZE, (f->nr_bufs - 1) * f->buf_size);
	TH_LOG("%u fixed buffers of %llu bytes", f->nr_bufs,
	       (unsigned long long)f->buf_size);
	for (b = 0; b < f->nr_bufs; b++) {
		uint64_t first = b * f->buf_size;
		uint64_t last = first + f->buf_size - lba;

		if (last > DATA_SIZE - lba)
			last = DATA_SIZE - lba;
		ASSERT_EQ((int)lba, lib_rw(self->n, NVME_RING_IO_OP_READ, 0, 1,
					   first));
		ASSERT_EQ((int)lba, lib_rw(self->n, NVME_RING_IO_OP_READ, 0, 1,
					   last));
	}
}

/*
 * @count I/Os of @len bytes, the i-th at LBA @slba + i * @step / lba and
 * data offset @off + i * @step, in batches; 0 when every one completed
 * with @len, else the first bad result.
 */
static int lib_sweep(struct nrio *n, uint8_t op, uint64_t slba, uint64_t off,
		     uint64_t step, uint32_t len, uint64_t count)
{
	uint32_t lba = nrio_facts(n)->lba_size;
	struct nvme_ring_io_cqe cqes[64];
	uint64_t queued = 0, done = 0;
	struct nvme_ring_io_sqe *sqe;
	int ret, i;

	while (done < count) {
		while (queued < count && (sqe = nrio_get_sqe(n))) {
			nrio_prep_rw(n, sqe, op, slba + queued * step / lba,
				     len / lba, off + queued * step, queued);
			queued++;
		}
		ret = nrio_submit(n);
		if (ret < 0)
			return ret;
		ret = nrio_reap(n, cqes, 64, 1, TIMEOUT_NS);
		if (ret <= 0)
			return ret ? ret : -ETIME;
		for (i = 0; i < ret; i++)
			if (cqes[i].res != (int)len)
				return cqes[i].res < 0 ? cqes[i].res : -EIO;
		done += ret;
	}
	return 0;
}

/*
 * Passthrough's fixed buffers, byte-exact through each of them: one small
 * buffer per page besides the chunks (see nrio_register_data()).  Every
 * small buffer writes its page; reads straddling every small buffer's
 * boundary (a chunk, or no fixed buffer, carries those) bring the data
 * back; the largest I/O goes inside one chunk and across a chunk boundary
 * (the chunks are 1 GiB from 6.12 on: then across the middle instead).
 * O_DIRECT reads cross-check.
 */
TEST_F(engine, every_fixed_buffer_byte_exact)
{
	const struct nrio_facts *f = nrio_facts(self->n);
	unsigned char *data = nrio_data(self->n), *exp;
	uint64_t lba = f->lba_size, base = NS_BASE + 64 * MiB;
	uint64_t g = 4096, nr = DATA_SIZE / 4096, big, offs[2], i;
	uint64_t h, rl, count;

	if (variant->engine != NRIO_ENGINE_PASSTHRU)
		SKIP(return, "the kernel engine has no fixed buffers in use");
	/* 16 MiB: a page each fits io_uring's 16384 buffers. */
	ASSERT_EQ(4096, f->small_buf_size);
	ASSERT_EQ(nr, f->nr_small_bufs);
	ASSERT_GE(16384, f->nr_bufs + f->nr_small_bufs);
	exp = malloc(DATA_SIZE);
	ASSERT_NE(NULL, exp);
	nt_fill(exp, DATA_SIZE, lba + 77);

	/* Every page: one write from its own small buffer. */
	memcpy(data, exp, DATA_SIZE);
	ASSERT_EQ(0, lib_sweep(self->n, NVME_RING_IO_OP_WRITE, base / lba, 0,
			       g, g, nr));
	/*
	 * Back, each read straddling two pages' buffers: half a page off
	 * with 512-byte blocks, two pages from one page on with 4 KiB ones.
	 */
	h = (g / 2 + lba - 1) / lba * lba;
	rl = h < g ? g : 2 * g;
	count = (DATA_SIZE - h) / rl;
	memset(data, 0, DATA_SIZE);
	ASSERT_EQ(0, lib_sweep(self->n, NVME_RING_IO_OP_READ,
			       (base + h) / lba, h, rl, rl, count));
	EXPECT_EQ(0, data[h - 1]);
	ASSERT_EQ(0, memcmp(data + h, exp + h, count * rl));
	EXPECT_EQ(0, data[h + count * rl]);
	ASSERT_EQ((ssize_t)(4 * MiB), pread(self->direct_fd, self->buf,
					    4 * MiB, base + 8 * MiB));
	ASSERT_EQ(0, memcmp(self->buf, exp + 8 * MiB, 4 * MiB));

	/* The largest I/O: inside the first chunk, and across its end. */
	big = f->max_transfer < 4 * MiB ? f->max_transfer : 4 * MiB;
	offs[0] = g / 2;
	offs[1] = f->buf_size < DATA_SIZE - big ? f->buf_size - lba :
						   DATA_SIZE / 2 - lba;
	for (i = 0; i < 2; i++) {
		uint64_t off = offs[i], roff = DATA_SIZE - big - off % g;
		int res;

		memcpy(data + off, exp, big);
		res = lib_rw(self->n, NVME_RING_IO_OP_WRITE, base / lba,
			     big / lba, off);
		ASSERT_EQ((int)big, res) {
			TH_LOG("write %llu at +%llu: %s",
			       (unsigned long long)big,
			       (unsigned long long)off, nrio_strerror(res));
		}
		memset(data + roff, 0, big);
		ASSERT_EQ((int)big, lib_rw(self->n, NVME_RING_IO_OP_READ,
					   base / lba, big / lba, roff));
		ASSERT_EQ(0, memcmp(data + roff, exp, big));
		ASSERT_EQ((ssize_t)big, pread(self->direct_fd, self->buf, big,
					      base));
		ASSERT_EQ(0, memcmp(self->buf, exp, big));
	}
	free(exp);
}

static void *other_thread_submit(void *arg)
{
	return (void *)(intptr_t)nrio_submit((struct nrio *)arg);
}

/*
 * NRIO_OPEN_SINGLE_ISSUER (deferred task work): a completion shows up for
 * nrio_reap() that does not wait, and another thread cannot submit.
 */
TEST(passthru_single_issuer)
{
	struct nvme_ring_io_cqe cqe;
	unsigned char *d;
	struct nrio *p;
	pthread_t t;
	void *res;
	int got = 0, spins;

	if (!nt_have(NS2_BLK))
		SKIP(return, "no %s", NS2_BLK);
	ASSERT_EQ(0, lib_open(&p, NS2_BLK, NRIO_ENGINE_PASSTHRU,
			      NRIO_OPEN_SINGLE_ISSUER, 1 * MiB));
	d = nrio_data(p);
	nt_fill(d, 8192, 11);
	ASSERT_EQ(8192, lib_rw(p, NVME_RING_IO_OP_WRITE, NS_BASE / 4096, 2,
			       0));
	memset(d + 65536, 0, 8192);
	nrio_prep_rw(p, nrio_get_sqe(p), NVME_RING_IO_OP_READ, NS_BASE / 4096,
		     2, 65536, 7);
	ASSERT_EQ(1, nrio_submit(p));
	/* Only ever a look, never a wait: it must still arrive. */
	for (spins = 0; !got && spins < 10000000; spins++)
		got = nrio_reap(p, &cqe, 1, 0, 0);
	ASSERT_EQ(1, got);
	EXPECT_EQ(8192, cqe.res);
	EXPECT_EQ(7, cqe.user_data);
	EXPECT_EQ(0, nt_check(d + 65536, 8192, 11));

	nrio_prep_rw(p, nrio_get_sqe(p), NVME_RING_IO_OP_READ, NS_BASE / 4096,
		     2, 65536, 8);
	ASSERT_EQ(0, pthread_create(&t, NULL, other_thread_submit, p));
	ASSERT_EQ(0, pthread_join(t, &res));
	EXPECT_EQ(-EEXIST, (int)(intptr_t)res);
	nrio_close(p);
}

/* Data written by one engine is read back by the other. */
TEST(cross_engine)
{
	struct nrio *k, *p;
	unsigned char *kd, *pd;
	uint64_t slba = NS_BASE / 4096 + 1024;

	if (!nt_have(NS2_BLK))
		SKIP(return, "no %s", NS2_BLK);
	ASSERT_EQ(0, lib_open(&k, NS2_BLK, NRIO_ENGINE_KERNEL, 0, 4 * MiB));
	ASSERT_EQ(0, lib_open(&p, NS2_BLK, NRIO_ENGINE_PASSTHRU, 0, 4 * MiB));
	kd = nrio_data(k);
	pd = nrio_data(p);

	nt_fill(kd, 65536, 1);
	ASSERT_EQ(65536, lib_rw(k, NVME_RING_IO_OP_WRITE, slba, 16, 0));
	memset(pd, 0, 65536);
	ASSERT_EQ(65536, lib_rw(p, NVME_RING_IO_OP_READ, slba, 16, 0));
	EXPECT_EQ(0, nt_check(pd, 65536, 1));

	nt_fill(pd + 65536, 65536, 2);
	ASSERT_EQ(65536, lib_rw(p, NVME_RING_IO_OP_WRITE, slba + 16, 16,
				65536));
	memset(kd + 65536, 0, 65536);
	ASSERT_EQ(65536, lib_rw(k, NVME_RING_IO_OP_READ, slba + 16, 16,
				65536));
	EXPECT_EQ(0, nt_check(kd + 65536, 65536, 2));
	nrio_close(k);
	nrio_close(p);
}

/* A command the kernel engine refuses goes through passthrough, and the
 * device's NVMe status comes back intact. */
TEST(passthru_compare)
{
	struct nvme_ring_io_sqe sqe;
	struct nvme_ring_io_cqe cqe;
	uint64_t slba = NS_BASE / 512 + 4096;
	unsigned char *d;
	struct nrio *p, *k;
	int res;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ASSERT_EQ(0, lib_open(&p, NS1_BLK, NRIO_ENGINE_PASSTHRU, 0, 1 * MiB));
	d = nrio_data(p);
	nt_fill(d, 4096, 5);
	ASSERT_EQ(4096, lib_rw(p, NVME_RING_IO_OP_WRITE, slba, 8, 0));

	nrio_prep_rw(p, &sqe, 0x05 /* Compare */, slba, 8, 0, 42);
	res = lib_sync(p, &sqe, &cqe);
	EXPECT_EQ(4096, res);
	EXPECT_EQ(0, cqe.status);
	EXPECT_EQ(42, cqe.user_data);

	d[100] ^= 0xff;
	res = lib_sync(p, &sqe, &cqe);
	EXPECT_EQ(-EIO, res);
	/* Compare Failure: status code type 2, status code 0x85. */
	EXPECT_EQ(0x285, cqe.status & 0x7ff) {
		TH_LOG("status 0x%x", cqe.status);
	}

	/* The kernel engine refuses Compare outright. */
	ASSERT_EQ(0, lib_open(&k, NS1_BLK, NRIO_ENGINE_KERNEL, 0, 1 * MiB));
	nrio_prep_rw(k, &sqe, 0x05, slba, 8, 0, 43);
	EXPECT_EQ(-EOPNOTSUPP, lib_sync(k, &sqe, &cqe));
	nrio_close(k);
	nrio_close(p);
}

TEST(bad_opts)
{
	struct nrio_opts o;
	struct nrio *n = (struct nrio *)1;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	nrio_opts_init(&o);
	o.engine = 7;
	EXPECT_EQ(-EINVAL, nrio_open(NS1_BLK, O_RDWR, &o, &n));
	EXPECT_EQ(NULL, n);
	nrio_opts_init(&o);
	o.flags = 0x80;
	EXPECT_EQ(-EINVAL, nrio_open(NS1_BLK, O_RDWR, &o, &n));
	nrio_opts_init(&o);
	o.flags = NRIO_OPEN_URING | NRIO_OPEN_POLL;
	EXPECT_EQ(-EINVAL, nrio_open(NS1_BLK, O_RDWR, &o, &n));
	/* SINGLE_ISSUER is the passthrough engine's; it takes nothing else. */
	nrio_opts_init(&o);
	o.flags = NRIO_OPEN_SINGLE_ISSUER;
	EXPECT_EQ(-EINVAL, nrio_open(NS1_BLK, O_RDWR, &o, &n));
	nrio_opts_init(&o);
	o.engine = NRIO_ENGINE_PASSTHRU;
	o.flags = NRIO_OPEN_SINGLE_ISSUER | NRIO_OPEN_URING;
	EXPECT_EQ(-EINVAL, nrio_open(NS1_BLK, O_RDWR, &o, &n));
	/* DIRECT is the kernel engine's. */
	nrio_opts_init(&o);
	o.engine = NRIO_ENGINE_PASSTHRU;
	o.flags = NRIO_OPEN_DIRECT;
	EXPECT_EQ(-EINVAL, nrio_open(NS1_BLK, O_RDWR, &o, &n));
	nrio_opts_init(&o);
	o.sq_entries = 3;
	EXPECT_EQ(-EINVAL, nrio_open(NS1_BLK, O_RDWR, &o, &n));
	EXPECT_EQ(-ENOENT, nrio_open("/dev/nonexistent", O_RDWR, NULL, &n));
	EXPECT_EQ(-ENODEV, nrio_open("/dev/null", O_RDWR, NULL, &n));
	EXPECT_STREQ("No such device", nrio_strerror(-ENODEV));
}

/*
 * Direct mode needs CAP_SYS_ADMIN: without it nrio_open() with
 * NRIO_OPEN_DIRECT fails with the kernel's -EPERM, and the same open
 * without the flag works.  (Every other test here runs as root.)
 */
TEST(direct_needs_cap_sys_admin)
{
	struct nrio_opts o;
	struct nrio *n;
	int status;
	pid_t pid;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (nt_drop_cap_sys_admin())
			_exit(10);
		nrio_opts_init(&o);
		o.flags = NRIO_OPEN_DIRECT;
		if (nrio_open(NS1_BLK, O_RDWR, &o, &n) != -EPERM)
			_exit(11);
		o.flags = 0;
		if (nrio_open(NS1_BLK, O_RDWR, &o, &n))
			_exit(12);
		if (nrio_facts(n)->direct)
			_exit(13);
		nrio_close(n);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* A parked io_uring WAIT and I/O in flight when the ring goes away. */
static void child_ring_exit(int kill_self)
{
	struct nvme_ring_io_cqe cqe[64];
	struct nvme_ring_io_sqe *sqe;
	struct nrio *n;
	unsigned int i;

	if (lib_open(&n, NS1_BLK, NRIO_ENGINE_KERNEL, NRIO_OPEN_URING,
		     8 * MiB))
		_exit(2);
	for (;;) {
		for (i = 0; (sqe = nrio_get_sqe(n)); i++)
			nrio_prep_rw(n, sqe, NVME_RING_IO_OP_READ, i * 16, 16,
				     (i * 8192) % (8 * MiB), i);
		if (nrio_submit(n) < 0)
			_exit(3);
		/* Park a WAIT for all of them, and give up on it at once. */
		nrio_reap(n, cqe, 64, 64, 1);
		if (!kill_self)
			break;
	}
	nrio_close(n);
	_exit(0);
}

TEST(uring_teardown_with_commands_outstanding)
{
	int round;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	for (round = 0; round < 4; round++) {
		int status;
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0)
			child_ring_exit(round & 1);
		if (round & 1) {
			usleep(50000);
			kill(pid, SIGKILL);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (round & 1) {
			EXPECT_TRUE(WIFSIGNALED(status));
		} else {
			EXPECT_EQ(0, WEXITSTATUS(status));
		}
	}
}

/* Closing a polled context with I/O in flight polls it to the end. */
TEST(close_polled_with_io_in_flight)
{
	struct nvme_ring_io_sqe *sqe;
	struct nrio *n;
	int round, i;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	for (round = 0; round < 4; round++) {
		ASSERT_EQ(0, lib_open(&n, NS1_BLK, NRIO_ENGINE_KERNEL,
				      NRIO_OPEN_POLL, 4 * MiB));
		ASSERT_TRUE(nrio_facts(n)->polled);
		for (i = 0; (sqe = nrio_get_sqe(n)); i++)
			nrio_prep_rw(n, sqe, round & 1 ? NVME_RING_IO_OP_WRITE :
				     NVME_RING_IO_OP_READ, i * 8, 8,
				     (i * 4096) % (4 * MiB), i);
		ASSERT_EQ(i, nrio_submit(n));
		nrio_close(n);
	}
}

/*
 * The unified handle on @engine: a linked WRITE -> READ -> FLUSH chain
 * from a 4-byte aligned offset, and errors.
 */
static void unified_chain(struct __test_metadata *_metadata, __u32 engine)
{
	struct nvme_ring_io_cqe cqe[4];
	struct unified_io_sqe *sqe;
	struct unified_io_info info;
	struct nrio_unified_opts o;
	struct nrio_unified *u;
	unsigned char *data;
	__u64 slba = 320 * MiB / 512;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	nrio_unified_opts_init(&o);
	o.engine = NRIO_ENGINE_PASSTHRU + 1;
	EXPECT_EQ(-EINVAL, nrio_unified_open(NS1_BLK, O_RDWR, &o, &u));
	nrio_unified_opts_init(&o);
	o.sq_entries = 3;
	EXPECT_EQ(-EINVAL, nrio_unified_open(NS1_BLK, O_RDWR, &o, &u));
	EXPECT_EQ(-ENOENT,
		  nrio_unified_open("/dev/nrio/none", O_RDWR, NULL, &u));

	nrio_unified_opts_init(&o);
	o.sq_entries = 8;
	o.region_size = 4 * MiB;
	o.engine = engine;
	ASSERT_EQ(0, nrio_unified_open(NS1_BLK, O_RDWR, &o, &u));
	ASSERT_EQ(0, nrio_unified_info(u, &info));
	EXPECT_EQ(512, info.lba_size);
	EXPECT_TRUE(info.features & UNIFIED_IO_FEAT_LINK);
	data = nrio_unified_data(u);
	nt_fill(data + 44, 4096, 81);
	memset(data + MiB, 0, 4096);

	sqe = nrio_unified_get_sqe(u);
	ASSERT_NE(NULL, sqe);
	nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_WRITE, slba, 8, 44, 1);
	nrio_unified_link(sqe);
	sqe = nrio_unified_get_sqe(u);
	ASSERT_NE(NULL, sqe);
	nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_READ, slba, 8, MiB, 2);
	nrio_unified_link(sqe);
	sqe = nrio_unified_get_sqe(u);
	ASSERT_NE(NULL, sqe);
	sqe->type = UNIFIED_IO_TYPE_NVME;
	sqe->cmd.nvme.opcode = NVME_RING_IO_OP_FLUSH;
	sqe->user_data = 3;
	/* One call submits the chain and waits for all of it. */
	ASSERT_EQ(3, nrio_unified_submit_and_wait(u, 3));
	ASSERT_EQ(3, nrio_unified_reap(u, cqe, 4, 0, 0));
	EXPECT_EQ(4096, cqe[0].res);
	EXPECT_EQ(4096, cqe[1].res);
	EXPECT_EQ(0, cqe[2].res);
	EXPECT_EQ(3, cqe[2].user_data);
	EXPECT_EQ(0, nt_check(data + MiB, 4096, 81));

	/* A failing first step cancels the second; reap waits for both. */
	sqe = nrio_unified_get_sqe(u);
	nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_READ, ~0ULL >> 1, 1, 0, 4);
	nrio_unified_link(sqe);
	sqe = nrio_unified_get_sqe(u);
	nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_READ, slba, 1, 0, 5);
	ASSERT_EQ(2, nrio_unified_submit(u));
	ASSERT_EQ(2, nrio_unified_reap(u, cqe, 4, 2,
				       10LL * 1000 * 1000 * 1000));
	EXPECT_EQ(-ERANGE, cqe[0].res);
	EXPECT_EQ(-ECANCELED, cqe[1].res);
	/* Nothing in flight: reap returns what there is. */
	EXPECT_EQ(0, nrio_unified_reap(u, cqe, 4, 1, -1));
	EXPECT_EQ(0, nrio_unified_inflight(u));
	/* Detaching an empty slot. */
	if (info.features & UNIFIED_IO_FEAT_BPF)
		EXPECT_EQ(-ENOENT, nrio_unified_attach_bpf(u, 0, -1));
	nrio_unified_close(u);

	/* A handle opened read-only writes nothing. */
	ASSERT_EQ(0, nrio_unified_open(NS1_BLK, O_RDONLY, &o, &u));
	sqe = nrio_unified_get_sqe(u);
	nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_WRITE, slba, 1, 0, 6);
	ASSERT_EQ(1, nrio_unified_submit_and_wait(u, 1));
	ASSERT_EQ(1, nrio_unified_reap(u, cqe, 4, 1, 0));
	EXPECT_EQ(-EBADF, cqe[0].res);
	nrio_unified_close(u);
}

TEST(unified_chain_kernel_engine)
{
	unified_chain(_metadata, NRIO_ENGINE_KERNEL);
}

/* The same, as linked io_uring passthrough commands. */
TEST(unified_chain_passthru_engine)
{
	unified_chain(_metadata, NRIO_ENGINE_PASSTHRU);
}

/*
 * Sockets through the library: receive a request, persist it, read it
 * back and answer with it, one submission (kernel engine); the
 * passthrough engine refuses socket steps, as its header says.
 */
/* --- socket steps, the same on both engines --------------------------- */

FIXTURE(unet) {
	struct nrio_unified *u;
	unsigned char *data;
	int mine, peer;
};

FIXTURE_VARIANT(unet) {
	uint32_t engine;
	int type;
};

FIXTURE_VARIANT_ADD(unet, kernel_tcp) {
	.engine = NRIO_ENGINE_KERNEL, .type = SOCK_STREAM,
};
FIXTURE_VARIANT_ADD(unet, kernel_udp) {
	.engine = NRIO_ENGINE_KERNEL, .type = SOCK_DGRAM,
};
FIXTURE_VARIANT_ADD(unet, passthru_tcp) {
	.engine = NRIO_ENGINE_PASSTHRU, .type = SOCK_STREAM,
};
FIXTURE_VARIANT_ADD(unet, passthru_udp) {
	.engine = NRIO_ENGINE_PASSTHRU, .type = SOCK_DGRAM,
};

FIXTURE_SETUP(unet)
{
	struct nrio_unified_opts o;

	self->u = NULL;
	self->mine = self->peer = -1;
	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ASSERT_EQ(0, nt_sock_pair(variant->type, &self->mine, &self->peer));
	nrio_unified_opts_init(&o);
	o.sq_entries = 16;
	o.region_size = 4 * MiB;
	o.engine = variant->engine;
	ASSERT_EQ(0, nrio_unified_open(NS1_BLK, O_RDWR, &o, &self->u));
	ASSERT_EQ(0, nrio_unified_attach_sock(self->u, 0, self->mine));
	self->data = nrio_unified_data(self->u);
}

FIXTURE_TEARDOWN(unet)
{
	nrio_unified_close(self->u);
	if (self->mine >= 0)
		close(self->mine);
	if (self->peer >= 0)
		close(self->peer);
}

static struct unified_io_sqe *unet_sqe(struct _test_data_unet *self)
{
	struct unified_io_sqe *sqe = nrio_unified_get_sqe(self->u);

	if (!sqe)
		abort();
	return sqe;
}

/* Submit what was got; reap @n entries within 10 s (all, in order). */
static int unet_run(struct _test_data_unet *self, unsigned int n,
		    struct nvme_ring_io_cqe *cqe)
{
	int ret = nrio_unified_submit(self->u);

	if (ret < 0)
		return ret;
	ret = nrio_unified_reap(self->u, cqe, n, n, TIMEOUT_NS);
	return ret == (int)n ? 0 : -ETIMEDOUT;
}

/*
 * Get NET_RECV of 4096 bytes to data offset 4 -> WRITE of them to @slba
 * -> READ back to 1 MiB -> NET_SEND from there, user_data 1 to 4.
 */
static void unet_prep_round_trip(struct _test_data_unet *self, __u64 slba)
{
	uni_prep_net(unet_sqe(self), false, 0, 4, 4096, MSG_WAITALL, 1, true);
	uni_prep_rw(unet_sqe(self), NVME_RING_IO_OP_WRITE, slba, 8, 4, 4096, 2,
		    true);
	uni_prep_rw(unet_sqe(self), NVME_RING_IO_OP_READ, slba, 8, MiB, 4096,
		    3, true);
	uni_prep_net(unet_sqe(self), true, 0, MiB, 4096, 0, 4, false);
}

/* NET_RECV -> NVMe WRITE -> NVMe READ -> NET_SEND in one submission. */
TEST_F(unet, recv_write_read_send)
{
	struct nvme_ring_io_cqe cqe[4];
	unsigned char buf[8192];
	__u64 slba = 330 * MiB / 512;
	int i;

	unet_prep_round_trip(self, slba);
	ASSERT_EQ(4, nrio_unified_submit(self->u));
	/* The chain waits for the request; nothing is posted yet. */
	ASSERT_EQ(0, nrio_unified_reap(self->u, cqe, 4, 0, 0));
	nt_fill(buf, 4096, 82);
	ASSERT_EQ(4096, send(self->peer, buf, 4096, 0));
	ASSERT_EQ(4, nrio_unified_reap(self->u, cqe, 4, 4, TIMEOUT_NS));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(i + 1, cqe[i].user_data);
		EXPECT_EQ(4096, cqe[i].res);
	}
	ASSERT_EQ(4096, recv(self->peer, buf + 4096, 4096, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, buf + 4096, 4096));
	EXPECT_EQ(0, nt_check(self->data + MiB, 4096, 82));
	EXPECT_EQ(0, nrio_unified_inflight(self->u));
}

/*
 * One reap with a timeout waits for a whole chain whose first step waits
 * on the network: the passthrough engine queues the steps after a NET
 * step only once it completed, and the timeout covers them all.
 */
TEST_F(unet, reap_waits_for_the_whole_chain)
{
	struct nvme_ring_io_cqe cqe[4];
	unsigned char buf[8192];
	__u64 slba = 331 * MiB / 512;
	pid_t pid;
	int i, st;

	unet_prep_round_trip(self, slba);
	ASSERT_EQ(4, nrio_unified_submit(self->u));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		usleep(200 * 1000);
		nt_fill(buf, 4096, 83);
		_exit(send(self->peer, buf, 4096, 0) == 4096 ? 0 : 1);
	}
	ASSERT_EQ(4, nrio_unified_reap(self->u, cqe, 4, 4, TIMEOUT_NS));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_EQ(0, st);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(i + 1, cqe[i].user_data);
		EXPECT_EQ(4096, cqe[i].res);
	}
	ASSERT_EQ(4096, recv(self->peer, buf + 4096, 4096, MSG_WAITALL));
	EXPECT_EQ(0, nt_check(buf + 4096, 4096, 83));
}

/* Fewer bytes than asked end the chain: the rest is canceled. */
TEST_F(unet, short_step_ends_chain)
{
	struct nvme_ring_io_cqe cqe[3];
	unsigned char buf[100];

	nt_fill(buf, sizeof(buf), 5);
	ASSERT_EQ(100, send(self->peer, buf, sizeof(buf), 0));
	uni_prep_net(unet_sqe(self), false, 0, 0, 4096, 0, 1, true);
	uni_prep_rw(unet_sqe(self), NVME_RING_IO_OP_WRITE, 330 * MiB / 512, 8,
		    0, 4096, 2, true);
	uni_prep_net(unet_sqe(self), true, 0, 0, 100, 0, 3, false);
	ASSERT_EQ(0, unet_run(self, 3, cqe));
	EXPECT_EQ(100, cqe[0].res);
	EXPECT_EQ(-ECANCELED, cqe[1].res);
	EXPECT_EQ(-ECANCELED, cqe[2].res);
	EXPECT_EQ(0, nt_check(self->data, 100, 5));
}

/* Every descriptor error, alone and at the head of a chain. */
TEST_F(unet, descriptor_errors)
{
	static const struct { __u32 off, len, sock, flags; bool send; int err; }
	bad[] = {
		{ 0, 0, 0, 0, false, -EINVAL },			/* empty */
		{ 0, UNIFIED_IO_NET_MAX + 1, 0, 0, true, -EINVAL },
		{ 0, 64, UNIFIED_IO_SOCK_SLOTS, 0, true, -EINVAL },
		{ 0, 64, 0, MSG_WAITALL, true, -EINVAL },	/* send */
		{ 0, 64, 0, MSG_MORE, false, -EINVAL },		/* recv */
		{ 4 * MiB - 32, 64, 0, 0, false, -EFAULT },
		{ 0, 64, 5, 0, true, -ENOENT },			/* empty slot */
	};
	struct nvme_ring_io_cqe cqe[2];
	struct unified_io_sqe *sqe;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uni_prep_net(unet_sqe(self), bad[i].send, bad[i].sock,
			     bad[i].off, bad[i].len, bad[i].flags, 10 + i, true);
		uni_prep_net(unet_sqe(self), true, 0, 0, 64, 0, 20 + i, false);
		ASSERT_EQ(0, unet_run(self, 2, cqe));
		EXPECT_EQ(bad[i].err, cqe[0].res) TH_LOG("case %u", i);
		EXPECT_EQ(-ECANCELED, cqe[1].res) TH_LOG("case %u", i);
	}
	sqe = unet_sqe(self);
	uni_prep_net(sqe, true, 0, 0, 64, 0, 30, false);
	sqe->cmd.net.resv[6] = 1;
	ASSERT_EQ(0, unet_run(self, 1, cqe));
	EXPECT_EQ(-EINVAL, cqe[0].res);

	/* A listening TCP socket attaches (it is TCP)... */
	if (variant->type == SOCK_STREAM) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		int l = socket(AF_INET, SOCK_STREAM, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ASSERT_EQ(0, bind(l, (struct sockaddr *)&a, sizeof(a)));
		ASSERT_EQ(0, listen(l, 1));
		ASSERT_EQ(0, nrio_unified_attach_sock(self->u, 1, l));
		/* ...but a step on it is. */
		uni_prep_net(unet_sqe(self), false, 1, 0, 64, 0, 31, false);
		ASSERT_EQ(0, unet_run(self, 1, cqe));
		EXPECT_EQ(-ENOTCONN, cqe[0].res);
		close(l);
	}
}

/* A datagram longer than the step: EMSGSIZE; a closed TCP peer. */
TEST_F(unet, truncated_and_closed)
{
	struct nvme_ring_io_cqe cqe[2];
	unsigned char buf[300] = { 0 };

	if (variant->type == SOCK_DGRAM) {
		ASSERT_EQ(300, send(self->peer, buf, sizeof(buf), 0));
		uni_prep_net(unet_sqe(self), false, 0, 0, 100, 0, 1, true);
		uni_prep_net(unet_sqe(self), true, 0, 0, 100, 0, 2, false);
		ASSERT_EQ(0, unet_run(self, 2, cqe));
		EXPECT_EQ(-EMSGSIZE, cqe[0].res);
		EXPECT_EQ(-ECANCELED, cqe[1].res);
		return;
	}
	close(self->peer);
	self->peer = -1;
	/* End of stream: 0 bytes, which ends the chain. */
	uni_prep_net(unet_sqe(self), false, 0, 0, 100, 0, 1, true);
	uni_prep_net(unet_sqe(self), true, 0, 0, 100, 0, 2, false);
	ASSERT_EQ(0, unet_run(self, 2, cqe));
	EXPECT_EQ(0, cqe[0].res);
	EXPECT_EQ(-ECANCELED, cqe[1].res);
	/* Sending to a closed peer: EPIPE, or ECONNRESET once it reset. */
	uni_prep_net(unet_sqe(self), true, 0, 0, 100, 0, 3, false);
	ASSERT_EQ(0, unet_run(self, 1, cqe));
	if (cqe[0].res == 100) {	/* the first send may still go */
		uni_prep_net(unet_sqe(self), true, 0, 0, 100, 0, 4, false);
		ASSERT_EQ(0, unet_run(self, 1, cqe));
	}
	EXPECT_TRUE(cqe[0].res == -EPIPE || cqe[0].res == -ECONNRESET)
		TH_LOG("res %d", cqe[0].res);
}

/* Detach drops the slot for both engines; attach errors are the kernel's. */
TEST_F(unet, attach_detach)
{
	struct nvme_ring_io_cqe cqe[1];

	EXPECT_EQ(-ENOTSOCK, nrio_unified_attach_sock(self->u, 2, 0));
	EXPECT_EQ(-EBADF, nrio_unified_attach_sock(self->u, 2, 1000));
	EXPECT_EQ(-EINVAL, nrio_unified_attach_sock(self->u,
						    UNIFIED_IO_SOCK_SLOTS,
						    self->mine));
	EXPECT_EQ(0, nrio_unified_attach_sock(self->u, 0, -1));
	EXPECT_EQ(-ENOENT, nrio_unified_attach_sock(self->u, 0, -1));
	uni_prep_net(unet_sqe(self), true, 0, 0, 64, 0, 1, false);
	ASSERT_EQ(0, unet_run(self, 1, cqe));
	EXPECT_EQ(-ENOENT, cqe[0].res);
}

TEST_HARNESS_MAIN
