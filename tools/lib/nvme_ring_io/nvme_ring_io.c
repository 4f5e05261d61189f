// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * libnvme_ring_io: contexts, fixed buffers and the two engines.
 *
 * The passthrough engine runs in this library.  It is the SQ ring's
 * consumer and the CQ ring's producer, with the same rules as the kernel
 * engine: a descriptor is consumed only when a CQ slot is free for it,
 * every descriptor is read once into a copy and checked against the data
 * area, and every descriptor gets exactly one CQ entry.  In-flight
 * descriptors live in a slot table sized to the CQ ring; the io_uring
 * user_data is the slot index, so nothing is allocated per I/O.
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
#include "nrio_ring.h"
#include "nvme_ring_io.h"

#define NRIO_DEF_SQ		256
#define NRIO_DEF_DATA		(64ULL << 20)
#define NRIO_MAX_FIXED_BUF	(1ULL << 30)	/* io_uring's limit */
#define NRIO_MAX_BUFS		16384		/* io_uring's limit */

/* io_uring user_data of the kernel engine's own commands. */
#define NRIO_UD_SUBMIT		(~0ULL)
#define NRIO_UD_WAIT		(~0ULL - 1)

struct nrio_slot {
	uint64_t	user_data;
	uint32_t	len;
	uint32_t	next_free;
};

struct nrio {
	int			fd;		/* /dev/nvme_ring_io */
	int			nvme_fd;	/* the namespace fd given to SETUP */
	int			ng_fd;		/* passthrough: /dev/ngXnY */
	uint32_t		engine;
	uint32_t		flags;
	struct nvme_ring_io_setup s;
	void			*region;
	unsigned char		*data;
	struct nrio_ring	sq;		/* application: producer */
	struct nrio_ring	cq;		/* application: consumer */
	struct nrio_ring	esq;		/* passthrough engine: consumer */
	struct nrio_ring	ecq;		/* passthrough engine: producer */
	struct io_uring		ring;
	bool			ring_ready;
	bool			wait_parked;	/* a URING_WAIT is queued */
	bool			old_submit;	/* module lacks SUBMIT_F_WAIT */
	bool			defer;		/* passthrough: DEFER_TASKRUN */
	uint32_t		pending;	/* descriptors got, not submitted */
	uint64_t		submitted;	/* consumed by the engine */
	uint64_t		reaped;		/* completions copied out */
	struct nrio_slot	*slots;
	uint32_t		free_slot;
	uint32_t		nr_slots;
	struct nrio_bufmap	bufs;		/* passthrough's fixed buffers */
	struct nrio_facts	f;
};

void nrio_opts_init(struct nrio_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sq_entries = NRIO_DEF_SQ;
	o->data_size = NRIO_DEF_DATA;
	o->numa_node = -1;
}

const char *nrio_strerror(int err)
{
	return strerror(err < 0 ? -err : err);
}

const struct nrio_facts *nrio_facts(const struct nrio *n)
{
	return &n->f;
}

void *nrio_data(const struct nrio *n)
{
	return n->data;
}

int nrio_fd(const struct nrio *n)
{
	return n->fd;
}

unsigned int nrio_inflight(const struct nrio *n)
{
	return (unsigned int)(n->submitted - n->reaped);
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

/* --- fixed buffers --------------------------------------------------------- */

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
int nrio_register_data(struct io_uring *ring, unsigned char *data,
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

static int nrio_register_buffers(struct nrio *n,
				 const struct nvme_ring_io_info *info)
{
	struct nrio_bufmap *m = &n->bufs;
	int ret;

	memset(m, 0, sizeof(*m));
	m->chunk = nrio_fixed_buf_size(info->max_segments);
	/* The kernel engine does its I/O without fixed buffers. */
	if (n->engine == NRIO_ENGINE_PASSTHRU)
		m->small = sysconf(_SC_PAGESIZE);
	ret = nrio_register_data(&n->ring, n->data, n->s.off.data_size, m);
	if (ret < 0)
		return ret;
	n->f.nr_bufs = m->nr_chunks;
	n->f.buf_size = m->chunk;
	n->f.nr_small_bufs = m->nr_small;
	n->f.small_buf_size = m->small;
	return 0;
}

/* --- open and close -------------------------------------------------------- */

/*
 * NRIO_OPEN_SINGLE_ISSUER: the thread that opens the handle is the only
 * one to use it, so io_uring may defer the completions' task work to that
 * thread's waits (SINGLE_ISSUER | DEFER_TASKRUN, 6.1 on), as a careful
 * io_uring program does; TASKRUN_FLAG tells nrio_reap() when a completion
 * waits for it to enter the kernel.
 */
#define NRIO_DEFER_FLAGS	(IORING_SETUP_SINGLE_ISSUER |		\
				 IORING_SETUP_DEFER_TASKRUN |		\
				 IORING_SETUP_TASKRUN_FLAG)

static int nrio_setup_ring(struct nrio *n, const struct nvme_ring_io_info *info)
{
	unsigned int entries = n->s.off.cq.entries;
	unsigned int flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
	int ret = -EINVAL;

	if (n->flags & NRIO_OPEN_SINGLE_ISSUER) {
		ret = io_uring_queue_init(entries, &n->ring,
					  flags | NRIO_DEFER_FLAGS);
		n->defer = !ret;
	}
	if (ret == -EINVAL)	/* not asked for, or a kernel before 6.1 */
		ret = io_uring_queue_init(entries, &n->ring, flags);
	if (ret)
		return ret;
	n->ring_ready = true;
	return nrio_register_buffers(n, info);
}

static int nrio_setup_passthru(struct nrio *n, int oflags)
{
	uint32_t i, nsid = 0;
	int ret;

	if (!n->f.generic[0])
		return -ENODEV;
	n->ng_fd = open(n->f.generic, (oflags & O_ACCMODE) | O_CLOEXEC);
	if (n->ng_fd < 0)
		return -errno;
	/* The generic node must be the namespace the context bound. */
	if (nvme_get_nsid(n->ng_fd, &nsid) || nsid != n->f.nsid)
		return -ENODEV;
	/* A registered file: no file reference taken and put per I/O. */
	ret = io_uring_register_files(&n->ring, &n->ng_fd, 1);
	if (ret)
		return ret;

	n->nr_slots = n->s.off.cq.entries;
	n->slots = calloc(n->nr_slots, sizeof(*n->slots));
	if (!n->slots)
		return -ENOMEM;
	for (i = 0; i < n->nr_slots; i++)
		n->slots[i].next_free = i + 1;
	n->free_slot = 0;
	nrio_ring_init(&n->esq, n->region, &n->s.off.sq);
	nrio_ring_init(&n->ecq, n->region, &n->s.off.cq);
	return 0;
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
	n->fd = n->ng_fd = -1;
	n->nvme_fd = nvme_fd;
	n->engine = o->engine;
	n->flags = o->flags;
	n->f.engine = o->engine;

	n->fd = open(NVME_RING_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	if (n->fd < 0) {
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
	if (ioctl(n->fd, NVME_RING_IO_SETUP, &n->s)) {
		ret = -errno;
		goto fail;
	}
	n->region = mmap(NULL, n->s.off.region_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, n->fd, 0);
	if (n->region == MAP_FAILED) {
		n->region = NULL;
		ret = -errno;
		goto fail;
	}
	n->data = (unsigned char *)n->region + n->s.off.data;
	nrio_ring_init(&n->sq, n->region, &n->s.off.sq);
	nrio_ring_init(&n->cq, n->region, &n->s.off.cq);

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(n->fd, NVME_RING_IO_INFO, &info)) {
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

	ret = nrio_setup_ring(n, &info);
	if (ret)
		goto fail;
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
	if (n->ring_ready)
		io_uring_queue_exit(&n->ring);
	if (n->region)
		munmap(n->region, n->s.off.region_size);
	if (n->ng_fd >= 0)
		close(n->ng_fd);
	if (n->fd >= 0)
		close(n->fd);
	if (n->nvme_fd >= 0)
		close(n->nvme_fd);
	free(n->slots);
	free(n);
}

/* --- descriptors ------------------------------------------------------------ */

struct nvme_ring_io_sqe *nrio_get_sqe(struct nrio *n)
{
	struct nvme_ring_io_sqe *sqe;
	uint32_t idx;

	if (nrio_ring_reserve(&n->sq, 1, &idx) != 1)
		return NULL;
	sqe = nrio_sqe(&n->sq, idx);
	memset(sqe, 0, sizeof(*sqe));
	n->pending++;
	return sqe;
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

/* --- the kernel engine through io_uring ----------------------------------- */

static int nrio_uring_cmd(struct nrio *n, uint32_t op, uint32_t count,
			  uint64_t user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&n->ring);
	struct nvme_ring_io_uring_cmd *c;

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 2 * sizeof(*sqe));	/* SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = n->fd;
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
	struct io_uring_cqe *cqe;
	int ret, res;

	for (;;) {
		ret = ts ? io_uring_wait_cqe_timeout(&n->ring, &cqe, ts)
			 : io_uring_wait_cqe(&n->ring, &cqe);
		if (ret)
			return ret;
		res = cqe->res;
		ret = cqe->user_data == user_data;
		if (cqe->user_data == NRIO_UD_WAIT)
			n->wait_parked = false;
		io_uring_cqe_seen(&n->ring, cqe);
		if (ret)
			return res;
	}
}

static int nrio_kernel_submit(struct nrio *n)
{
	struct nvme_ring_io_submit sub = { 0 };
	int ret;

	if (!(n->flags & NRIO_OPEN_URING)) {
		ret = ioctl(n->fd, NVME_RING_IO_SUBMIT, &sub);
		return ret < 0 ? -errno : ret;
	}
	ret = nrio_uring_cmd(n, NVME_RING_IO_URING_SUBMIT, 0, NRIO_UD_SUBMIT);
	if (ret)
		return ret;
	ret = io_uring_submit(&n->ring);
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
		ret = ioctl(n->fd, NVME_RING_IO_COMPLETE, &w);
		return ret < 0 && errno != ETIME ? -errno : 0;
	}
	if (!n->wait_parked) {
		ret = nrio_uring_cmd(n, NVME_RING_IO_URING_WAIT, min,
				     NRIO_UD_WAIT);
		if (ret)
			return ret;
		ret = io_uring_submit(&n->ring);
		if (ret < 0)
			return ret;
		n->wait_parked = true;
	}
	ts.tv_sec = timeout_ns / 1000000000;
	ts.tv_nsec = timeout_ns % 1000000000;
	ret = nrio_uring_result(n, NRIO_UD_WAIT, timeout_ns < 0 ? NULL : &ts);
	return ret == -ETIME ? 0 : (ret < 0 ? ret : 0);
}

/* --- the passthrough engine ------------------------------------------------- */

void nrio_post_cqe(struct nrio_ring *ecq, uint64_t user_data, int32_t res,
		   uint16_t status, uint64_t result)
{
	struct nvme_ring_io_cqe *cqe;
	uint32_t idx;

	nrio_ring_reserve(ecq, 1, &idx);
	cqe = nrio_cqe(ecq, idx);
	cqe->user_data = user_data;
	cqe->res = res;
	cqe->status = status;
	cqe->flags = 0;
	cqe->result0 = (uint32_t)result;
	cqe->result1 = (uint32_t)(result >> 32);
	cqe->resv = 0;
	nrio_ring_submit(ecq, 1);
}

static bool nrio_in_data(const struct nrio *n, uint64_t off, uint32_t len)
{
	return nrio_range_ok(n->s.off.data_size, off, len);
}

/* nrio_prep_nvme_cmd(), inlined into this engine's loop. */
static inline __attribute__((always_inline)) void
nrio_fill_nvme_cmd(struct io_uring_sqe *sqe, int fd, bool fixed_file,
		   const struct nvme_ring_io_sqe *d, uint32_t nsid,
		   unsigned char *data, const struct nrio_bufmap *m,
		   uint64_t user_data)
{
	struct nvme_uring_cmd *c;
	int buf = nrio_buf_index(m, d->data_off, d->data_len);

	/*
	 * SQE128, cleared in two halves: the compiler stores those, where
	 * one 128-byte memset() becomes a string instruction that costs as
	 * much as the rest of this function.
	 */
	memset(sqe, 0, sizeof(*sqe));
	memset(sqe + 1, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	if (fixed_file)
		sqe->flags = IOSQE_FIXED_FILE;
	sqe->cmd_op = NVME_URING_CMD_IO;
	sqe->user_data = user_data;
	/* Fixed when the data lies inside one registered buffer. */
	if (buf >= 0) {
		sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
		sqe->buf_index = (uint16_t)buf;
	}
	c = (struct nvme_uring_cmd *)sqe->cmd;
	c->opcode = d->opcode;
	c->nsid = d->nsid ? d->nsid : nsid;
	c->cdw2 = d->cdw2;
	c->cdw3 = d->cdw3;
	if (d->metadata_len) {
		c->metadata = (uintptr_t)(data + d->metadata_off);
		c->metadata_len = d->metadata_len;
	}
	if (d->data_len) {
		c->addr = (uintptr_t)(data + d->data_off);
		c->data_len = d->data_len;
	}
	c->cdw10 = d->cdw10;
	c->cdw11 = d->cdw11;
	c->cdw12 = d->cdw12;
	c->cdw13 = d->cdw13;
	c->cdw14 = d->cdw14;
	c->cdw15 = d->cdw15;
	c->timeout_ms = d->timeout_ms;
}

void nrio_prep_nvme_cmd(struct io_uring_sqe *sqe, int fd, bool fixed_file,
			const struct nvme_ring_io_sqe *d, uint32_t nsid,
			unsigned char *data, const struct nrio_bufmap *m,
			uint64_t user_data)
{
	nrio_fill_nvme_cmd(sqe, fd, fixed_file, d, nsid, data, m, user_data);
}

/* Turn one descriptor into an NVMe passthrough SQE; 0 or -errno. */
static int nrio_pt_prep(struct nrio *n, const struct nvme_ring_io_sqe *d,
			uint32_t slot)
{
	struct io_uring_sqe *sqe;

	if (d->flags || d->resv1 || d->resv2)
		return -EINVAL;
	if (d->nsid && d->nsid != n->f.nsid)
		return -EINVAL;
	if (!nrio_in_data(n, d->data_off, d->data_len) ||
	    (d->metadata_len &&
	     !nrio_in_data(n, d->metadata_off, d->metadata_len)))
		return -EFAULT;

	sqe = io_uring_get_sqe(&n->ring);
	if (!sqe)
		return -EBUSY;
	nrio_fill_nvme_cmd(sqe, 0, true, d, n->f.nsid, n->data, &n->bufs,
			   slot);
	return 0;
}

/* Turn ready descriptors into io_uring SQEs; returns how many. */
static uint32_t nrio_pt_queue(struct nrio *n)
{
	uint32_t room, ready, idx, i;
	int ret;

	/*
	 * CQ room: free slots not already promised to descriptors in flight
	 * (consumed, but not yet posted: ecq's producer counts the posted).
	 */
	room = nrio_ring_free(&n->ecq, n->nr_slots);
	room -= (uint32_t)n->submitted - n->ecq.cached_prod;
	ready = nrio_ring_peek(&n->esq, room, &idx);
	for (i = 0; i < ready; i++) {
		struct nvme_ring_io_sqe d = *nrio_sqe(&n->esq, idx + i);
		uint32_t slot = n->free_slot;

		ret = nrio_pt_prep(n, &d, slot);
		if (ret) {
			nrio_post_cqe(&n->ecq, d.user_data, ret, 0, 0);
			continue;
		}
		n->free_slot = n->slots[slot].next_free;
		n->slots[slot].user_data = d.user_data;
		n->slots[slot].len = d.data_len;
	}
	nrio_ring_release(&n->esq, ready);
	n->submitted += ready;
	return ready;
}

static int nrio_pt_submit(struct nrio *n)
{
	uint32_t ready = nrio_pt_queue(n);
	int ret;

	if (ready) {
		ret = io_uring_submit(&n->ring);
		if (ret < 0)
			return ret;
	}
	return (int)ready;
}

/* Move io_uring completions into the CQ ring; returns how many. */
static unsigned int nrio_pt_drain(struct nrio *n)
{
	struct io_uring_cqe *cqes = n->ring.cq.cqes;
	unsigned int head, tail, mask = n->ring.cq.ring_mask, count = 0;

	/*
	 * io_uring_for_each_cqe(), knowing that the CQEs are 32 bytes.
	 * Every completion has its CQ slot (nrio_pt_queue() promised it):
	 * fill them all, then publish them with one store.
	 */
	head = *n->ring.cq.khead;
	tail = io_uring_smp_load_acquire(n->ring.cq.ktail);
	for (; head != tail; head++) {
		struct io_uring_cqe *cqe = &cqes[(head & mask) << 1];
		uint32_t slot = (uint32_t)cqe->user_data;
		struct nrio_slot *s = &n->slots[slot];
		struct nvme_ring_io_cqe *out;
		int32_t res = cqe->res;
		uint16_t status = 0;

		if (res > 0) {		/* the device's NVMe status */
			status = (uint16_t)res;
			res = -EIO;
		} else if (res == 0) {
			res = (int32_t)s->len;
		}
		out = nrio_cqe(&n->ecq, n->ecq.cached_prod + count);
		out->user_data = s->user_data;
		out->res = res;
		out->status = status;
		out->flags = 0;
		out->result0 = (uint32_t)cqe->big_cqe[0];
		out->result1 = (uint32_t)(cqe->big_cqe[0] >> 32);
		out->resv = 0;
		s->next_free = n->free_slot;
		n->free_slot = slot;
		count++;
	}
	if (count) {
		io_uring_cq_advance(&n->ring, count);
		n->ecq.cached_prod += count;
		nrio_ring_submit(&n->ecq, count);
	}
	return count;
}

/*
 * nrio_pt_drain(), and with deferred task work, when that found nothing
 * and nothing waits in the CQ ring either, enter the kernel to run the completions that wait for this thread
 * (IORING_SQ_TASKRUN says there are some) and drain again.  Only then:
 * after nrio_submit_and_wait() the completions it waited for are there,
 * and reaping them costs no system call.
 */
static unsigned int nrio_cq_ready(struct nrio *n);

static unsigned int nrio_pt_collect(struct nrio *n)
{
	unsigned int count = nrio_pt_drain(n);

	if (count || !n->defer || nrio_cq_ready(n) ||
	    !(IO_URING_READ_ONCE(*n->ring.sq.kflags) & IORING_SQ_TASKRUN))
		return count;
	io_uring_get_events(&n->ring);
	return nrio_pt_drain(n);
}

static int nrio_pt_wait(struct nrio *n, unsigned int min, int64_t timeout_ns)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int ret;

	ts.tv_sec = timeout_ns / 1000000000;
	ts.tv_nsec = timeout_ns % 1000000000;
	ret = io_uring_wait_cqes(&n->ring, &cqe, min, timeout_ns < 0 ? NULL :
				 &ts, NULL);
	return ret == -ETIME ? 0 : ret;
}

/* --- submit and reap ------------------------------------------------------- */

int nrio_submit(struct nrio *n)
{
	int ret;

	nrio_ring_submit(&n->sq, n->pending);
	n->pending = 0;
	if (n->engine == NRIO_ENGINE_PASSTHRU)
		return nrio_pt_submit(n);
	ret = nrio_kernel_submit(n);
	if (ret > 0)
		n->submitted += ret;
	return ret;
}

/* Completions in the CQ ring, not yet copied out. */
static unsigned int nrio_cq_ready(struct nrio *n)
{
	struct nrio_ring *r = &n->cq;
	uint32_t ready;

	/* Like nrio_ring_peek(), without taking the entries. */
	r->cached_prod = nrio_load_acquire(r->producer);
	ready = r->cached_prod - r->cached_cons;
	return ready > r->entries ? 0 : ready;
}

static int nrio_pt_submit_wait(struct nrio *n, unsigned int min)
{
	unsigned int have, want = 0, busy;
	uint32_t ready = nrio_pt_queue(n);
	int ret = 0;

	/* Completions still in io_uring are reapable too. */
	have = nrio_cq_ready(n) + io_uring_cq_ready(&n->ring);
	busy = nrio_inflight(n) > have ? nrio_inflight(n) - have : 0;
	if (min > have)
		want = min - have < busy ? min - have : busy;
	if (want)
		ret = io_uring_submit_and_wait(&n->ring, want);
	else if (ready)
		ret = io_uring_submit(&n->ring);
	return ret < 0 ? ret : (int)ready;
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
	int ret = ioctl(n->fd, NVME_RING_IO_SUBMIT, &sub);

	if (ret < 0)
		return -errno;
	n->submitted += ret;
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
	ret = io_uring_submit_and_wait(&n->ring, 2);
	if (ret < 0)
		return ret;
	sub = nrio_uring_result(n, NRIO_UD_SUBMIT, NULL);
	if (sub > 0)
		n->submitted += sub;
	while (n->wait_parked) {
		ret = nrio_uring_result(n, NRIO_UD_WAIT, NULL);
		if (ret < 0 && ret != -EINTR)
			return ret;
	}
	return sub;
}

int nrio_submit_and_wait(struct nrio *n, unsigned int min)
{
	unsigned int ready;
	int ret;

	if (min > n->s.off.cq.entries)
		min = n->s.off.cq.entries;
	nrio_ring_submit(&n->sq, n->pending);
	n->pending = 0;
	if (n->engine == NRIO_ENGINE_PASSTHRU)
		return nrio_pt_submit_wait(n, min);
	if (!min)
		return nrio_submit(n);
	if (!(n->flags & NRIO_OPEN_URING) && !n->old_submit) {
		ret = nrio_kernel_submit_wait(n, min);
		if (ret != -EINVAL)
			return ret;
		n->old_submit = true;	/* fall back to two calls */
	}
	if ((n->flags & NRIO_OPEN_URING) && !n->wait_parked)
		ret = nrio_kernel_uring_submit_wait(n, min);
	else
		ret = nrio_submit(n);
	if (ret < 0)
		return ret;
	ready = nrio_cq_ready(n);
	if (ready < min && nrio_inflight(n) > ready) {
		int err = nrio_kernel_wait(n, min, -1);

		if (err < 0)
			return err;
	}
	return ret;
}

static unsigned int nrio_copy_out(struct nrio *n, struct nvme_ring_io_cqe *cqes,
				  unsigned int max)
{
	uint32_t idx, i, got = nrio_ring_peek(&n->cq, max, &idx);

	for (i = 0; i < got; i++)
		cqes[i] = *nrio_cqe(&n->cq, idx + i);
	nrio_ring_release(&n->cq, got);
	n->reaped += got;
	return got;
}

int nrio_reap(struct nrio *n, struct nvme_ring_io_cqe *cqes, unsigned int max,
	      unsigned int min, int64_t timeout_ns)
{
	unsigned int got = 0;
	int ret;

	if (min > max)
		return -EINVAL;
	for (;;) {
		unsigned int ready, outstanding;

		if (n->engine == NRIO_ENGINE_PASSTHRU)
			nrio_pt_collect(n);
		got += nrio_copy_out(n, cqes + got, max - got);
		outstanding = nrio_inflight(n);
		if (got >= min || !outstanding || !timeout_ns)
			return got;
		ready = min - got;
		if (ready > outstanding)
			ready = outstanding;
		if (n->engine == NRIO_ENGINE_PASSTHRU)
			ret = nrio_pt_wait(n, ready, timeout_ns);
		else
			ret = nrio_kernel_wait(n, ready, timeout_ns);
		if (ret < 0)
			return ret;
		if (timeout_ns > 0) {
			/* One timed wait: report what arrived. */
			if (n->engine == NRIO_ENGINE_PASSTHRU)
				nrio_pt_collect(n);
			got += nrio_copy_out(n, cqes + got, max - got);
			return got;
		}
	}
}
