// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * libnvme_ring_io: the core.  What both handles share (struct nrio_ctx:
 * the mapped region and its rings, the io_uring, the data area as fixed
 * buffers, the namespace's generic node), and the /dev/nvme_ring_io
 * handle (struct nrio) with the module's kernel engine.
 *
 * A handle calls its engine through the struct nrio_engine_ops it picked
 * at open: the kernel engine below, or the passthrough engine
 * (nrio_passthru.c), which calls the helpers here and nothing above them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libnvme.h>
#include <liburing.h>

#include "nrio_internal.h"
#include "nrio_passthru.h"
#include "nrio_ring.h"
#include "nvme_ring_io.h"

#define NRIO_DEF_SQ		256
#define NRIO_DEF_DATA		(64ULL << 20)
#define NRIO_MAX_FIXED_BUF	(1ULL << 30)	/* io_uring's limit */
#define NRIO_MAX_BUFS		16384		/* io_uring's limit */

/* io_uring user_data of the kernel engine's own commands. */
#define NRIO_UD_SUBMIT		(~0ULL)
#define NRIO_UD_WAIT		(~0ULL - 1)

struct nrio {
	struct nrio_ctx		c;		/* first */
	uint32_t		engine;
	uint32_t		flags;
	struct nvme_ring_io_setup s;
	bool			wait_parked;	/* a URING_WAIT is queued */
	bool			old_submit;	/* module lacks SUBMIT_F_WAIT */
	struct nrio_facts	f;
};

static inline struct nrio *nrio_of(struct nrio_ctx *c)
{
	return nrio_container_of(c, struct nrio, c);
}

const char *nrio_strerror(int err)
{
	return strerror(err < 0 ? -err : err);
}

/* --- the context both handles share --------------------------------------- */

void nrio_ctx_init(struct nrio_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = c->nvme_fd = -1;
}

int nrio_ctx_map(struct nrio_ctx *c, const struct nvme_ring_io_offsets *off)
{
	c->region = mmap(NULL, off->region_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, c->fd, 0);
	if (c->region == MAP_FAILED) {
		c->region = NULL;
		return -errno;
	}
	c->region_size = off->region_size;
	c->data = (unsigned char *)c->region + off->data;
	c->data_size = off->data_size;
	nrio_ring_init(&c->sq, c->region, &off->sq);
	nrio_ring_init(&c->cq, c->region, &off->cq);
	return 0;
}

/*
 * Single issuer: the thread that opens the handle is the only one to use
 * it, so io_uring may defer the completions' task work to that thread's
 * waits (SINGLE_ISSUER | DEFER_TASKRUN, 6.1 on), as a careful io_uring
 * program does; TASKRUN_FLAG tells the reaper when a completion waits for
 * it to enter the kernel.
 */
#define NRIO_DEFER_FLAGS	(IORING_SETUP_SINGLE_ISSUER |		\
				 IORING_SETUP_DEFER_TASKRUN |		\
				 IORING_SETUP_TASKRUN_FLAG)

int nrio_ctx_ring_init(struct nrio_ctx *c, unsigned int entries,
		       bool single_issuer)
{
	unsigned int flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
	int ret = -EINVAL;

	if (single_issuer) {
		ret = io_uring_queue_init(entries, &c->ring,
					  flags | NRIO_DEFER_FLAGS);
		c->defer = !ret;
	}
	if (ret == -EINVAL)	/* not asked for, or a kernel before 6.1 */
		ret = io_uring_queue_init(entries, &c->ring, flags);
	if (ret)
		return ret;
	c->ring_ready = true;
	return 0;
}

void nrio_ctx_exit(struct nrio_ctx *c)
{
	if (c->eng && c->eng->destroy)
		c->eng->destroy(c);
	if (c->ring_ready)
		io_uring_queue_exit(&c->ring);
	if (c->region)
		munmap(c->region, c->region_size);
	if (c->fd >= 0)
		close(c->fd);
	if (c->nvme_fd >= 0)
		close(c->nvme_fd);
}

unsigned int nrio_ctx_copy_out(struct nrio_ctx *c,
			       struct nvme_ring_io_cqe *cqes, unsigned int max)
{
	uint32_t idx, i, got = nrio_ring_peek(&c->cq, max, &idx);

	for (i = 0; i < got; i++)
		cqes[i] = *nrio_cqe(&c->cq, idx + i);
	nrio_ring_release(&c->cq, got);
	c->reaped += got;
	return got;
}

/* --- namespace facts from libnvme ----------------------------------------- */

/* The generic char device of the namespace behind @path, from libnvme. */
void nrio_generic_of(const char *link, char *out, size_t len)
{
	char path[PATH_MAX];
	const char *name;
	nvme_ns_t ns;

	out[0] = '\0';
	if (!realpath(link, path))
		return;
	name = strrchr(path, '/');
	name = name ? name + 1 : path;
	if (!strncmp(name, "ng", 2)) {
		if (strlen(path) < len)
			memcpy(out, path, strlen(path) + 1);
		return;
	}
	ns = nvme_scan_namespace(name);
	if (!ns)
		return;
	if (nvme_ns_get_generic_name(ns))
		snprintf(out, len, "/dev/%s", nvme_ns_get_generic_name(ns));
	nvme_free_ns(ns);
}

/* --- fixed buffers -------------------------------------------------------- */

/*
 * Linux before 6.12 (seen on 6.1) refuses NVMe passthrough on a fixed
 * buffer that runs more than max_segments pages past the I/O's start, so
 * the data area is registered in chunks of max_segments pages there; later
 * kernels take the io_uring maximum of 1 GiB per buffer.
 */
uint64_t nrio_fixed_buf_size(uint32_t max_segments)
{
	struct utsname u;
	unsigned int maj = 0, min = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (!uname(&u))
		sscanf(u.release, "%u.%u", &maj, &min);
	if (maj > 6 || (maj == 6 && min >= 12))
		return NRIO_MAX_FIXED_BUF;
	return (uint64_t)(max_segments ? max_segments : 1) * page;
}

/*
 * Small buffers.  A fixed buffer inside one huge folio is one bvec (6.1)
 * or one per folio (6.12), so an I/O's only segment starts as deep into
 * it as the I/O lies into the folio.  6.1's nvme-pci then misses its
 * single-segment PRP shortcut (offset + length within two controller
 * pages) and allocates a scatterlist from a mempool for every I/O, and on
 * every kernel the block layer walks such a segment page by page where it
 * takes one inside a page at once (bio_split_rw_at(), blk_rq_map_sg()).
 * One more buffer per page (or per the smallest power of two that keeps
 * the count within io_uring's limit) puts a small I/O's data at the start
 * of its own bvec, as registering a buffer per I/O slot would.
 */
static int nrio_register_data(struct io_uring *ring, unsigned char *data,
			      uint64_t size, struct nrio_bufmap *m)
{
	uint64_t nr = (size + m->chunk - 1) / m->chunk, small = 0, i;
	struct iovec *iov;
	int ret;

	if (m->small) {
		while (m->small < m->chunk &&
		       nr + (size + m->small - 1) / m->small > NRIO_MAX_BUFS)
			m->small <<= 1;
		if (m->small < m->chunk)
			small = (size + m->small - 1) / m->small;
	}
	if (nr + small > NRIO_MAX_BUFS)
		return -E2BIG;
	iov = calloc(nr + small, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		uint64_t off = i * m->chunk;

		iov[i].iov_base = data + off;
		iov[i].iov_len = size - off < m->chunk ? size - off : m->chunk;
	}
	for (i = 0; i < small; i++) {
		uint64_t off = i * m->small;

		iov[nr + i].iov_base = data + off;
		iov[nr + i].iov_len = size - off < m->small ? size - off :
							       m->small;
	}
	ret = io_uring_register_buffers(ring, iov, nr + small);
	if (ret && small) {
		/* RLIMIT_MEMLOCK counts small pages twice: do without. */
		small = 0;
		ret = io_uring_register_buffers(ring, iov, nr);
	}
	free(iov);
	if (ret)
		return ret;
	m->nr_chunks = nr;
	m->nr_small = small;
	if (!small)
		m->small = 0;
	m->small_shift = small ? __builtin_ctzll(m->small) : 0;
	return (int)(nr + small);
}


int nrio_ctx_register_data(struct nrio_ctx *c, uint32_t max_segments,
			   bool small)
{
	memset(&c->bufs, 0, sizeof(c->bufs));
	c->bufs.chunk = nrio_fixed_buf_size(max_segments);
	if (small)
		c->bufs.small = sysconf(_SC_PAGESIZE);
	return nrio_register_data(&c->ring, c->data, c->data_size, &c->bufs);
}

/* --- /dev/nvme_ring_io handles -------------------------------------------- */

void nrio_opts_init(struct nrio_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sq_entries = NRIO_DEF_SQ;
	o->data_size = NRIO_DEF_DATA;
	o->numa_node = -1;
}

const struct nrio_facts *nrio_facts(const struct nrio *n)
{
	return &n->f;
}

void *nrio_data(const struct nrio *n)
{
	return n->c.data;
}

int nrio_fd(const struct nrio *n)
{
	return n->c.fd;
}

unsigned int nrio_inflight(const struct nrio *n)
{
	return (unsigned int)(n->c.submitted - n->c.reaped);
}

static const struct nrio_engine_ops nrio_kernel_engine;

static int nrio_setup_passthru(struct nrio *n, int oflags)
{
	const struct nrio_pt_cfg cfg = {
		.off		= &n->s.off,
		.generic	= n->f.generic,
		.oflags		= oflags,
		.ns		= {
			.nsid		= n->f.nsid,
			.lba_size	= n->f.lba_size,
			.nr_lbas	= n->f.nr_lbas,
			.max_transfer	= n->f.max_transfer,
		},
	};

	n->c.eng = &nrio_passthru.ops;
	return nrio_passthru.setup(&n->c, &cfg);
}

static int nrio_do_open(int nvme_fd, const char *path, int oflags,
			const struct nrio_opts *o, struct nrio **out)
{
	struct nvme_ring_io_info info;
	struct nrio_opts def;
	struct nrio *n;
	int ret;

	*out = NULL;
	if (!o) {
		nrio_opts_init(&def);
		o = &def;
	}
	if (o->resv || o->engine > NRIO_ENGINE_PASSTHRU ||
	    (o->flags & ~(NRIO_OPEN_URING | NRIO_OPEN_POLL |
			  NRIO_OPEN_SINGLE_ISSUER | NRIO_OPEN_DIRECT)) ||
	    (o->flags & NRIO_OPEN_URING && o->flags & NRIO_OPEN_POLL) ||
	    (o->engine == NRIO_ENGINE_PASSTHRU &&
	     o->flags & ~NRIO_OPEN_SINGLE_ISSUER) ||
	    (o->engine == NRIO_ENGINE_KERNEL &&
	     o->flags & NRIO_OPEN_SINGLE_ISSUER)) {
		close(nvme_fd);
		return -EINVAL;
	}

	n = calloc(1, sizeof(*n));
	if (!n) {
		close(nvme_fd);
		return -ENOMEM;
	}
	nrio_ctx_init(&n->c);
	n->c.nvme_fd = nvme_fd;
	n->c.eng = &nrio_kernel_engine;
	n->engine = o->engine;
	n->flags = o->flags;
	n->f.engine = o->engine;

	n->c.fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (n->c.fd < 0) {
		ret = -errno;
		goto fail;
	}
	n->s.size = sizeof(n->s);
	n->s.sq_entries = o->sq_entries ? o->sq_entries : NRIO_DEF_SQ;
	n->s.cq_entries = o->cq_entries;
	n->s.data_size = o->data_size ? o->data_size : NRIO_DEF_DATA;
	n->s.nvme_fd = nvme_fd;
	n->s.numa_node = o->numa_node;
	if (o->flags & NRIO_OPEN_POLL)
		n->s.flags |= NVME_RING_IO_SETUP_F_IOPOLL;
	if (o->flags & NRIO_OPEN_DIRECT)
		n->s.flags |= NVME_RING_IO_SETUP_F_DIRECT;
	if (ioctl(n->c.fd, NVME_RING_IO_SETUP, &n->s)) {
		ret = -errno;
		goto fail;
	}
	ret = nrio_ctx_map(&n->c, &n->s.off);
	if (ret)
		goto fail;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(n->c.fd, NVME_RING_IO_INFO, &info)) {
		ret = -errno;
		goto fail;
	}
	n->f.nsid = info.nsid;
	n->f.lba_size = info.lba_size;
	n->f.nr_lbas = info.nr_lbas;
	n->f.max_transfer = info.max_transfer;
	n->f.data_size = info.data_size;
	n->f.huge_bytes = info.huge_bytes;
	n->f.polled = !!(info.flags & NVME_RING_IO_INFO_F_POLLED);
	n->f.direct = !!(info.flags & NVME_RING_IO_INFO_F_DIRECT);
	if (path)
		nrio_generic_of(path, n->f.generic, sizeof(n->f.generic));

	ret = nrio_ctx_ring_init(&n->c, n->s.off.cq.entries,
				 n->flags & NRIO_OPEN_SINGLE_ISSUER);
	if (ret)
		goto fail;
	/* The kernel engine does its I/O without fixed buffers. */
	ret = nrio_ctx_register_data(&n->c, info.max_segments,
				     n->engine == NRIO_ENGINE_PASSTHRU);
	if (ret < 0)
		goto fail;
	n->f.nr_bufs = n->c.bufs.nr_chunks;
	n->f.buf_size = n->c.bufs.chunk;
	n->f.nr_small_bufs = n->c.bufs.nr_small;
	n->f.small_buf_size = n->c.bufs.small;
	if (n->engine == NRIO_ENGINE_PASSTHRU) {
		ret = nrio_setup_passthru(n, oflags);
		if (ret)
			goto fail;
	}
	*out = n;
	return 0;
fail:
	nrio_close(n);
	return ret;
}

int nrio_open(const char *path, int oflags, const struct nrio_opts *o,
	      struct nrio **out)
{
	int fd, ret;

	fd = open(path, (oflags & O_ACCMODE) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = nrio_do_open(fd, path, oflags, o, out);
	return ret;	/* on failure nrio_close() closed fd */
}

int nrio_open_fd(int nvme_fd, const struct nrio_opts *o, struct nrio **out)
{
	char link[64], path[PATH_MAX];
	int fd, flags;
	ssize_t len;

	flags = fcntl(nvme_fd, F_GETFL);
	if (flags < 0)
		return -errno;
	fd = fcntl(nvme_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The node's name, for libnvme to find its generic device. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", nvme_fd);
	len = readlink(link, path, sizeof(path) - 1);
	path[len > 0 ? len : 0] = '\0';
	return nrio_do_open(fd, len > 0 ? path : NULL, flags, o, out);
}

void nrio_close(struct nrio *n)
{
	if (!n)
		return;
	nrio_ctx_exit(&n->c);
	free(n);
}

/* --- descriptors ---------------------------------------------------------- */

struct nvme_ring_io_sqe *nrio_get_sqe(struct nrio *n)
{
	return nrio_ctx_get_sqe(&n->c, sizeof(struct nvme_ring_io_sqe));
}

void nrio_prep_rw(const struct nrio *n, struct nvme_ring_io_sqe *sqe,
		  uint8_t opcode, uint64_t slba, uint32_t nlb,
		  uint64_t data_off, uint64_t user_data)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->cdw10 = (uint32_t)slba;
	sqe->cdw11 = (uint32_t)(slba >> 32);
	sqe->cdw12 = nlb ? nlb - 1 : 0;
	sqe->data_off = data_off;
	sqe->data_len = nlb * n->f.lba_size;
	sqe->user_data = user_data;
}

/* --- the kernel engine --------------------------------------------------- */

static int nrio_uring_cmd(struct nrio *n, uint32_t op, uint32_t count,
			  uint64_t user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&n->c.ring);
	struct nvme_ring_io_uring_cmd *c;

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 2 * sizeof(*sqe));	/* SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = n->c.fd;
	sqe->cmd_op = op;
	sqe->user_data = user_data;
	c = (struct nvme_ring_io_uring_cmd *)sqe->cmd;
	c->count = count;
	return 0;
}

/* Run io_uring until the CQE for @user_data arrives; returns its res. */
static int nrio_uring_result(struct nrio *n, uint64_t user_data,
			     struct __kernel_timespec *ts)
{
	struct io_uring *ring = &n->c.ring;
	struct io_uring_cqe *cqe;
	int ret, res;

	for (;;) {
		ret = ts ? io_uring_wait_cqe_timeout(ring, &cqe, ts)
			 : io_uring_wait_cqe(ring, &cqe);
		if (ret)
			return ret;
		res = cqe->res;
		ret = cqe->user_data == user_data;
		if (cqe->user_data == NRIO_UD_WAIT)
			n->wait_parked = false;
		io_uring_cqe_seen(ring, cqe);
		if (ret)
			return res;
	}
}

static int nrio_kernel_submit_once(struct nrio *n)
{
	struct nvme_ring_io_submit sub = { 0 };
	int ret;

	if (!(n->flags & NRIO_OPEN_URING)) {
		ret = ioctl(n->c.fd, NVME_RING_IO_SUBMIT, &sub);
		return ret < 0 ? -errno : ret;
	}
	ret = nrio_uring_cmd(n, NVME_RING_IO_URING_SUBMIT, 0, NRIO_UD_SUBMIT);
	if (ret)
		return ret;
	ret = io_uring_submit(&n->c.ring);
	if (ret < 0)
		return ret;
	return nrio_uring_result(n, NRIO_UD_SUBMIT, NULL);
}

static int nrio_kernel_wait(struct nrio *n, unsigned int min,
			    int64_t timeout_ns)
{
	struct nvme_ring_io_complete w = {
		.min_complete = min,
		.timeout_ns = timeout_ns,
		.flags = n->flags & NRIO_OPEN_POLL ?
			 NVME_RING_IO_COMPLETE_F_POLL : 0,
	};
	struct __kernel_timespec ts;
	int ret;

	if (!(n->flags & NRIO_OPEN_URING)) {
		ret = ioctl(n->c.fd, NVME_RING_IO_COMPLETE, &w);
		return ret < 0 && errno != ETIME ? -errno : 0;
	}
	if (!n->wait_parked) {
		ret = nrio_uring_cmd(n, NVME_RING_IO_URING_WAIT, min,
				     NRIO_UD_WAIT);
		if (ret)
			return ret;
		ret = io_uring_submit(&n->c.ring);
		if (ret < 0)
			return ret;
		n->wait_parked = true;
	}
	ts.tv_sec = timeout_ns / 1000000000;
	ts.tv_nsec = timeout_ns % 1000000000;
	ret = nrio_uring_result(n, NRIO_UD_WAIT, timeout_ns < 0 ? NULL : &ts);
	return ret == -ETIME ? 0 : (ret < 0 ? ret : 0);
}

/* SUBMIT with F_WAIT; -EINVAL from a module that predates it. */
static int nrio_kernel_submit_wait(struct nrio *n, unsigned int min)
{
	struct nvme_ring_io_submit sub = {
		.flags = NVME_RING_IO_SUBMIT_F_WAIT |
			 (n->flags & NRIO_OPEN_POLL ?
			  NVME_RING_IO_SUBMIT_F_POLL : 0),
		.min_complete = min,
	};
	int ret = ioctl(n->c.fd, NVME_RING_IO_SUBMIT, &sub);

	if (ret < 0)
		return -errno;
	n->c.submitted += ret;
	return ret;
}

/*
 * URING_SUBMIT and URING_WAIT in one io_uring_enter().  They are not
 * linked: 6.1 fails the links of a uring_cmd that returns a positive value
 * (URING_SUBMIT's count).  io_uring issues them in order, so the WAIT sees
 * what SUBMIT consumed, unless SUBMIT had to be retried from io-wq (its
 * context lock was busy); the caller then waits again.
 */
static int nrio_kernel_uring_submit_wait(struct nrio *n, unsigned int min)
{
	int ret, sub;

	ret = nrio_uring_cmd(n, NVME_RING_IO_URING_SUBMIT, 0, NRIO_UD_SUBMIT);
	if (ret)
		return ret;
	ret = nrio_uring_cmd(n, NVME_RING_IO_URING_WAIT, min, NRIO_UD_WAIT);
	if (ret)
		return ret;	/* cannot happen: the ring has room */
	n->wait_parked = true;
	ret = io_uring_submit_and_wait(&n->c.ring, 2);
	if (ret < 0)
		return ret;
	sub = nrio_uring_result(n, NRIO_UD_SUBMIT, NULL);
	if (sub > 0)
		n->c.submitted += sub;
	while (n->wait_parked) {
		ret = nrio_uring_result(n, NRIO_UD_WAIT, NULL);
		if (ret < 0 && ret != -EINTR)
			return ret;
	}
	return sub;
}

static int nrio_kernel_submit(struct nrio_ctx *c, unsigned int min)
{
	struct nrio *n = nrio_of(c);
	unsigned int ready;
	int ret;

	if (min && !(n->flags & NRIO_OPEN_URING) && !n->old_submit) {
		ret = nrio_kernel_submit_wait(n, min);
		if (ret != -EINVAL)
			return ret;
		n->old_submit = true;	/* fall back to two calls */
	}
	if (min && (n->flags & NRIO_OPEN_URING) && !n->wait_parked) {
		ret = nrio_kernel_uring_submit_wait(n, min);
	} else {
		ret = nrio_kernel_submit_once(n);
		if (ret > 0)
			c->submitted += ret;
	}
	if (ret < 0 || !min)
		return ret;
	ready = nrio_ctx_cq_ready(c);
	if (ready < min && nrio_inflight(n) > ready) {
		int err = nrio_kernel_wait(n, min, -1);

		if (err < 0)
			return err;
	}
	return ret;
}

static int nrio_kernel_reap(struct nrio_ctx *c, struct nvme_ring_io_cqe *cqes,
			    unsigned int max, unsigned int min,
			    int64_t timeout_ns)
{
	struct nrio *n = nrio_of(c);
	unsigned int got = 0;
	int ret;

	for (;;) {
		unsigned int ready, outstanding;

		got += nrio_ctx_copy_out(c, cqes + got, max - got);
		outstanding = nrio_inflight(n);
		if (got >= min || !outstanding || !timeout_ns)
			return got;
		ready = min - got;
		if (ready > outstanding)
			ready = outstanding;
		ret = nrio_kernel_wait(n, ready, timeout_ns);
		if (ret < 0)
			return ret;
		if (timeout_ns > 0) {
			/* One timed wait: report what arrived. */
			got += nrio_ctx_copy_out(c, cqes + got, max - got);
			return got;
		}
	}
}

static const struct nrio_engine_ops nrio_kernel_engine = {
	.submit		= nrio_kernel_submit,
	.reap		= nrio_kernel_reap,
};

/* --- submit and reap ------------------------------------------------------ */

int nrio_ctx_submit(struct nrio_ctx *c, unsigned int min)
{
	if (min > c->cq.entries)
		min = c->cq.entries;
	nrio_ctx_publish(c);
	return c->eng->submit(c, min);
}

int nrio_submit(struct nrio *n)
{
	return nrio_ctx_submit(&n->c, 0);
}

int nrio_submit_and_wait(struct nrio *n, unsigned int min)
{
	return nrio_ctx_submit(&n->c, min);
}

int nrio_reap(struct nrio *n, struct nvme_ring_io_cqe *cqes, unsigned int max,
	      unsigned int min, int64_t timeout_ns)
{
	if (min > max)
		return -EINVAL;
	return n->c.eng->reap(&n->c, cqes, max, min, timeout_ns);
}
