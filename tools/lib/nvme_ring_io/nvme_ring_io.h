/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * libnvme_ring_io: the API applications program against.
 *
 * A handle owns a /dev/nvme_ring_io context bound to one NVMe namespace,
 * its mapped region (SQ ring, CQ ring, data area) and an io_uring
 * (SQE128 | CQE32) with the data area registered as fixed buffers.  The
 * application writes struct nvme_ring_io_sqe descriptors whose data lives
 * in the data area, submits them and reaps struct nvme_ring_io_cqe
 * completions; the engine chosen at open executes them:
 *
 *   NRIO_ENGINE_KERNEL    the module's kernel engine (bios on the region);
 *                         submitted by ioctl or, with NRIO_OPEN_URING,
 *                         by IORING_OP_URING_CMD on the io_uring; with
 *                         NRIO_OPEN_POLL, polled completions; with
 *                         NRIO_OPEN_DIRECT, reads and writes as NVMe
 *                         requests on the namespace's queue (direct mode)
 *   NRIO_ENGINE_PASSTHRU  the library turns descriptors into NVMe
 *                         passthrough commands (NVME_URING_CMD_IO,
 *                         fixed buffers) on the namespace's /dev/ngXnY;
 *                         any NVMe I/O command works, and completions
 *                         carry the device's status and result dwords
 *
 * The same library also opens /dev/unified_io_region contexts (struct
 * nrio_unified, below): typed, linked descriptors and BPF steps, run by the
 * module's kernel engine or by the library's passthrough engine.
 *
 * Every function returns 0 or a count on success and a negative errno on
 * failure (nrio_strerror() names it); nothing prints or aborts.  A handle
 * is not thread-safe: one thread at a time may use it.
 *
 * Linking: pkg-config libnvme_ring_io (liburing and libnvme only).  The
 * AF_XDP part, nrio_xsk_* on a unified handle, is a library of its own:
 * <nrio_xsk.h>, pkg-config libnvme_ring_io_xsk (adds libxdp and libbpf).
 *
 * Versions: 0.2.0 (libnvme_ring_io.so.1) moved nrio_xsk_* out into
 * libnvme_ring_io_xsk.so.0 and renamed nrio_uio_* / struct nrio_uio to
 * nrio_unified_* / struct nrio_unified (the old names remain as
 * deprecated source aliases, below); programs built against 0.1.x keep
 * libnvme_ring_io.so.0.
 */
#ifndef NVME_RING_IO_LIB_H
#define NVME_RING_IO_LIB_H

#include <linux/nvme_ring_io.h>
#include <linux/unified_io_region.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nrio;

enum nrio_engine {
	NRIO_ENGINE_KERNEL	= 0,
	NRIO_ENGINE_PASSTHRU	= 1,
};

/* nrio_opts.flags */
#define NRIO_OPEN_URING		(1U << 0)  /* kernel engine: submit and
					    * wait through io_uring */
#define NRIO_OPEN_POLL		(1U << 1)  /* kernel engine: polled I/O
					    * where the namespace has poll
					    * queues, and reap busy-polls
					    * instead of sleeping */
#define NRIO_OPEN_SINGLE_ISSUER	(1U << 2)  /* passthrough engine: only the
					    * thread that opens the handle
					    * ever uses it (io_uring
					    * SINGLE_ISSUER | DEFER_TASKRUN:
					    * completions run in its waits,
					    * cheaper per I/O); any other
					    * thread's calls fail, EEXIST */
#define NRIO_OPEN_DIRECT	(1U << 3)  /* kernel engine: direct mode
					    * (NVME_RING_IO_SETUP_F_DIRECT):
					    * READ/WRITE as NVMe requests;
					    * -EPERM without CAP_SYS_ADMIN,
					    * -EOPNOTSUPP behind a multipath
					    * head.  With URING or POLL. */

struct nrio_opts {
	uint32_t	engine;		/* enum nrio_engine */
	uint32_t	flags;		/* NRIO_OPEN_* */
	uint32_t	sq_entries;	/* 0: 256 */
	uint32_t	cq_entries;	/* 0: 2 * sq_entries */
	uint64_t	data_size;	/* 0: 64 MiB */
	int32_t		numa_node;	/* -1: no preference (0 means node 0) */
	uint32_t	resv;		/* 0 */
};

/* Fill @o with the defaults. */
void nrio_opts_init(struct nrio_opts *o);

/*
 * Open a handle on the namespace at @path (/dev/nvmeXnY or /dev/ngXnY),
 * opened with @oflags (O_RDONLY, O_WRONLY or O_RDWR: the access the handle
 * gets).  @o may be NULL for the defaults.
 */
int nrio_open(const char *path, int oflags, const struct nrio_opts *o,
	      struct nrio **out);
/* The same for a namespace fd the caller opened; the handle dup()s it. */
int nrio_open_fd(int nvme_fd, const struct nrio_opts *o, struct nrio **out);
void nrio_close(struct nrio *n);

/* Facts about an open handle. */
struct nrio_facts {
	uint32_t	nsid;
	uint32_t	lba_size;
	uint64_t	nr_lbas;
	uint64_t	max_transfer;	/* bytes per command, device limit */
	uint64_t	data_size;
	uint64_t	huge_bytes;	/* region bytes in 2 MiB folios */
	uint32_t	engine;
	uint32_t	nr_bufs;	/* io_uring fixed buffers registered */
	uint32_t	polled;		/* polled I/O in use */
	uint64_t	buf_size;	/* bytes per fixed buffer (last: rest) */
	char		generic[64];	/* the /dev/ngXnY path, if known */
	/*
	 * Passthrough: after those nr_bufs, one more fixed buffer per
	 * small_buf_size bytes of the data area (the last: the rest), for
	 * I/O that fits in one; 0 without (the kernel engine, or io_uring
	 * refused them, e.g. over RLIMIT_MEMLOCK).
	 */
	uint32_t	nr_small_bufs;
	uint64_t	small_buf_size;
	uint32_t	direct;		/* direct mode in use */
};
const struct nrio_facts *nrio_facts(const struct nrio *n);

/* The data area: descriptors address it by byte offset. */
void *nrio_data(const struct nrio *n);
/* The module context's fd (for NVME_RING_IO_INFO and friends). */
int nrio_fd(const struct nrio *n);

/*
 * Get a free SQ descriptor, zeroed, or NULL if the SQ ring is full.  It is
 * handed to the engine by the next nrio_submit().
 */
struct nvme_ring_io_sqe *nrio_get_sqe(struct nrio *n);
/* Helpers that fill a descriptor for the common commands. */
void nrio_prep_rw(const struct nrio *n, struct nvme_ring_io_sqe *sqe,
		  uint8_t opcode, uint64_t slba, uint32_t nlb,
		  uint64_t data_off, uint64_t user_data);

/* Hand every descriptor got so far to the engine; returns how many. */
int nrio_submit(struct nrio *n);

/*
 * nrio_submit(), then wait until at least @min completions can be reaped
 * (or nothing is in flight any more), in one system call where the engine
 * allows: SUBMIT with NVME_RING_IO_SUBMIT_F_WAIT, a linked URING_SUBMIT +
 * URING_WAIT pair, or io_uring_submit_and_wait() for passthrough.  Collect
 * the completions with nrio_reap(..., 0, 0) afterwards.  Returns how many
 * were submitted, or -errno.  A signal may end the wait early.
 */
int nrio_submit_and_wait(struct nrio *n, unsigned int min);

/*
 * Copy up to @max completions into @cqes, waiting until at least @min are
 * there or @timeout_ns passes (< 0: no limit; 0: do not wait).  Returns
 * the number copied (possibly fewer than @min after a timeout, or when
 * nothing is in flight), or -errno.
 */
int nrio_reap(struct nrio *n, struct nvme_ring_io_cqe *cqes, unsigned int max,
	      unsigned int min, int64_t timeout_ns);

/* Descriptors submitted and not yet completed. */
unsigned int nrio_inflight(const struct nrio *n);

/* The message for a negative errno this library returned. */
const char *nrio_strerror(int err);

/* --- /dev/unified_io_region ---------------------------------------------- */

/*
 * A handle on a unified context: the region shared by storage, network
 * and BPF, with typed descriptors (struct unified_io_sqe) and links; see
 * <linux/unified_io_region.h>.  The engine chosen at open runs them:
 *
 *   NRIO_ENGINE_KERNEL    the module's kernel engine (UNIFIED_IO_SUBMIT)
 *   NRIO_ENGINE_PASSTHRU  the library consumes the SQ ring and runs each
 *                         chain as linked io_uring SQEs (IOSQE_IO_LINK;
 *                         each step keeps its own SQE until it completes,
 *                         as 6.12 may read a command from it late),
 *                         submitted in one io_uring_enter(): NVMe
 *                         steps as NVME_URING_CMD_IO on the namespace's
 *                         /dev/ngXnY with the data area as fixed buffers,
 *                         BPF steps as UNIFIED_IO_URING_BPF commands on
 *                         the context
 *
 * Both engines consume whole chains only when the CQ ring has room for
 * every step, post one CQ entry per descriptor in chain order, and give
 * the same errnos for the same bad descriptor: the passthrough engine
 * checks each step as the kernel engine does before it queues the chain
 * (EINVAL, EFAULT, ENXIO, EOPNOTSUPP; for READ and WRITE also the length,
 * the LBA range (ERANGE), max_transfer and dma_alignment (EINVAL), and
 * EBADF for a write on a handle opened O_RDONLY); the program's checks
 * (ENOENT, EINVAL, EFAULT) are the kernel's.  A step that fails its
 * check completes with its errno once the steps before it succeeded, and
 * cancels the rest.  Its CQ entries: NVMe as for struct nrio (res the
 * data length, or -EIO with the device's status), BPF res the program's
 * return value.  A read-next BPF step (cmd.bpf.max_hops not zero: the
 * program asks for reads that the kernel issues, and runs again on what
 * they read) runs in the kernel engine only; the passthrough engine
 * completes it with EOPNOTSUPP.
 *
 * The passthrough engine's one difference: an NVMe command the device
 * completes with an error status does not stop the chain.  io_uring fails
 * a link only on a negative result, and NVMe passthrough reports the
 * device's status as a positive one, so the next steps run; their CQ
 * entries say what they did.  Checks before queueing leave only real
 * device errors (media, internal) to this; applications that must not
 * run a step after a failed read use the kernel engine.
 *
 * Socket steps in the passthrough engine: NET_SEND is IORING_OP_SEND_ZC
 * (on the fixed buffer that holds the range, when one does; MSG_WAITALL
 * on TCP, so the whole range goes as in the kernel engine), NET_RECV is
 * IORING_OP_RECV into the region (MSG_TRUNC on UDP: a longer datagram
 * fails with EMSGSIZE), on the library's duplicate of the socket given to
 * nrio_unified_attach_sock().  A NET step's CQ entry is posted once io_uring
 * has released the pages (SEND_ZC's notification), so the range may be
 * reused when it is seen.  io_uring would run a linked step after a short
 * receive, so the steps after a NET step are queued, linked, when it
 * completes with all its bytes, and canceled otherwise: the kernel
 * engine's rule, at the price of one io_uring submission per NET step.
 */
struct nrio_unified;

struct nrio_unified_opts {
	uint32_t	sq_entries;	/* 0: 256 */
	uint32_t	cq_entries;	/* 0: 2 * sq_entries */
	uint64_t	region_size;	/* data area bytes; 0: 16 MiB */
	int32_t		numa_node;	/* -1: follow the devices */
	uint32_t	net_ifindex;	/* 0: none */
	uint32_t	net_rxq;
	uint32_t	frame_size;	/* 0: no frames */
	uint32_t	frame_headroom;
	uint32_t	engine;		/* enum nrio_engine; 0: the kernel's */
};

void nrio_unified_opts_init(struct nrio_unified_opts *o);

/*
 * Open a unified context on the namespace at @path opened with @oflags,
 * or with no namespace when @path is NULL.  @o may be NULL.
 */
int nrio_unified_open(const char *path, int oflags,
		      const struct nrio_unified_opts *o,
		      struct nrio_unified **out);
void nrio_unified_close(struct nrio_unified *u);

void *nrio_unified_data(const struct nrio_unified *u);
int nrio_unified_fd(const struct nrio_unified *u);
/* INFO, the kernel's facts and counters (features, dma_alignment, ...). */
int nrio_unified_info(const struct nrio_unified *u,
		      struct unified_io_info *info);

/* A free SQ descriptor, zeroed, or NULL if the SQ ring is full. */
struct unified_io_sqe *nrio_unified_get_sqe(struct nrio_unified *u);
/* NVMe READ/WRITE of @nlb LBAs at @slba, data at @data_off. */
void nrio_unified_prep_rw(const struct nrio_unified *u,
			  struct unified_io_sqe *sqe, uint8_t opcode,
			  uint64_t slba, uint32_t nlb, uint64_t data_off,
			  uint64_t user_data);
/* A BPF step: the program in @slot over [@data_off, + @data_len). */
void nrio_unified_prep_bpf(struct unified_io_sqe *sqe, uint32_t slot,
			   uint64_t data_off, uint32_t data_len, uint64_t arg,
			   uint64_t user_data);
/*
 * A socket step: NET_SEND (@send) or NET_RECV of [@data_off, + @data_len)
 * on the socket in @sock_slot; @msg_flags 0, MSG_MORE (send) or
 * MSG_WAITALL (receive).  Both engines (see nrio_unified_opts).
 */
void nrio_unified_prep_net(struct unified_io_sqe *sqe, bool send,
			   uint32_t sock_slot, uint64_t data_off,
			   uint32_t data_len, uint32_t msg_flags,
			   uint64_t user_data);
/* Link @sqe to the next descriptor got: it starts only if @sqe succeeds. */
static inline void nrio_unified_link(struct unified_io_sqe *sqe)
{
	sqe->flags |= UNIFIED_IO_SQE_F_LINK;
}

/* Attach a BPF_PROG_TYPE_SYSCALL program to @slot; detach with -1. */
int nrio_unified_attach_bpf(struct nrio_unified *u, uint32_t slot,
			    int prog_fd);
/*
 * Attach a connected TCP or UDP socket to @slot; detach with -1.  The
 * kernel's checks and errnos; the passthrough engine keeps a duplicate of
 * the descriptor until detach or close.
 */
int nrio_unified_attach_sock(struct nrio_unified *u, uint32_t slot,
			     int sock_fd);

/* Hand the descriptors got so far to the kernel; returns how many. */
int nrio_unified_submit(struct nrio_unified *u);
/* nrio_unified_submit() and wait for @min completions, in one call. */
int nrio_unified_submit_and_wait(struct nrio_unified *u, unsigned int min);
/* As nrio_reap(). */
int nrio_unified_reap(struct nrio_unified *u, struct nvme_ring_io_cqe *cqes,
		      unsigned int max, unsigned int min, int64_t timeout_ns);
/*
 * Descriptors the engine consumed that have no CQ entry yet (the kernel
 * engine: UNIFIED_IO_INFO's inflight, 0 if INFO fails).
 */
unsigned int nrio_unified_inflight(const struct nrio_unified *u);

/*
 * Deprecated: the names before 0.2.0 (nrio_uio_*, struct nrio_uio), which
 * read like the kernel's UIO subsystem.  They stay usable from source as
 * aliases of the nrio_unified_* names; the shared library exports only
 * the new names.  Define NRIO_NO_DEPRECATED to hide them.
 */
#ifndef NRIO_NO_DEPRECATED
#define nrio_uio			nrio_unified
#define nrio_uio_opts			nrio_unified_opts
#define nrio_uio_opts_init		nrio_unified_opts_init
#define nrio_uio_open			nrio_unified_open
#define nrio_uio_close			nrio_unified_close
#define nrio_uio_data			nrio_unified_data
#define nrio_uio_fd			nrio_unified_fd
#define nrio_uio_info			nrio_unified_info
#define nrio_uio_get_sqe		nrio_unified_get_sqe
#define nrio_uio_prep_rw		nrio_unified_prep_rw
#define nrio_uio_prep_bpf		nrio_unified_prep_bpf
#define nrio_uio_prep_net		nrio_unified_prep_net
#define nrio_uio_link			nrio_unified_link
#define nrio_uio_attach_bpf		nrio_unified_attach_bpf
#define nrio_uio_attach_sock		nrio_unified_attach_sock
#define nrio_uio_submit			nrio_unified_submit
#define nrio_uio_submit_and_wait	nrio_unified_submit_and_wait
#define nrio_uio_reap			nrio_unified_reap
#define nrio_uio_inflight		nrio_unified_inflight
#endif

#ifdef __cplusplus
}
#endif

#endif /* NVME_RING_IO_LIB_H */
