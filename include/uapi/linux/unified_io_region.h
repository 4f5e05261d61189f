/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * unified_io_region: one huge-page region for storage, network and BPF.
 *
 * /dev/unified_io_region is a misc device (mode 0600) of the module that
 * makes /dev/nvme_ring_io, with the same region, rings and engine; every
 * open file is a context.  UNIFIED_IO_SETUP creates its region, binds an
 * NVMe namespace fd if given (its open mode decides read and write, as
 * for nvme_ring_io) and records a network interface and receive queue.
 * The region, mapped with mmap(2) at offset 0, holds an SQ ring of struct
 * unified_io_sqe (typed descriptors with links), a CQ ring of struct
 * nvme_ring_io_cqe, struct nvme_ring_io_counters and the data area,
 * optionally laid out as AF_XDP-compatible frames.  The ioctls check no
 * open mode of this file; mmap(2) does (MAP_SHARED needs it readable,
 * PROT_WRITE writable: else EACCES).  A context lives until its last file
 * reference is closed and its last descriptor in flight has completed.
 *
 * Ring protocol, mmap rules, counters, waits and signals, and whatever
 * this header does not say otherwise are <linux/nvme_ring_io.h>'s, whose
 * structs it reuses, as is the ABI rule; UNIFIED_IO_ABI_VERSION and
 * UNIFIED_IO_INFO's features say what the module runs.  Design, chains,
 * where steps run and as whom, examples and measurements:
 * Documentation/block/unified-io-region.rst
 */
#ifndef _UAPI_LINUX_UNIFIED_IO_REGION_H
#define _UAPI_LINUX_UNIFIED_IO_REGION_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/nvme_ring_io.h>

#define UNIFIED_IO_DEVNAME	"unified_io_region"
#define UNIFIED_IO_DEVPATH	"/dev/" UNIFIED_IO_DEVNAME

/*
 * Reported by UNIFIED_IO_INFO; bumped when the ABI gains features.
 * 2: read-next BPF steps (UNIFIED_IO_FEAT_BPF_READ_NEXT).
 */
#define UNIFIED_IO_ABI_VERSION	2

/* --- SQ descriptor ---------------------------------------------------- */

#define UNIFIED_IO_TYPE_NVME		1	/* an NVMe I/O command */
#define UNIFIED_IO_TYPE_BPF		2	/* run an attached program */
#define UNIFIED_IO_TYPE_NET_SEND	3	/* send from the region */
#define UNIFIED_IO_TYPE_NET_RECV	4	/* receive into the region */

/* The next descriptor starts only when this one succeeded. */
#define UNIFIED_IO_SQE_F_LINK		(1U << 0)

/* An NVMe command; the fields mean what they mean in nvme_ring_io_sqe. */
struct unified_io_nvme {
	__u8	opcode;
	__u8	resv1[3];	/* must be zero */
	__u32	nsid;		/* 0: the bound namespace, or its NSID */
	__u32	cdw2;
	__u32	cdw3;
	__u64	metadata_off;	/* kernel engine: 0 */
	__u32	metadata_len;	/* kernel engine: 0 */
	__u32	cdw10;
	__u32	cdw11;
	__u32	cdw12;
	__u32	cdw13;
	__u32	cdw14;
	__u32	cdw15;
	__u32	timeout_ms;	/* kernel engine: 0 */
	__u64	resv2;		/* must be zero */
};

/* A BPF step (type UNIFIED_IO_TYPE_BPF). */
struct unified_io_bpf {
	__u32	slot;		/* the program's slot on this context */
	__u32	max_hops;	/* 0: an ordinary step; else a read-next
				 * step issuing at most this many reads */
	__u64	arg;		/* passed to the program */
	__u64	resv2[6];	/* must be zero */
};

/*
 * A socket step (types UNIFIED_IO_TYPE_NET_SEND and _NET_RECV) on the
 * socket attached to slot sock; see "Sockets" below.
 */
struct unified_io_net {
	__u32	sock;		/* the socket's slot on this context */
	__u32	msg_flags;	/* SEND: 0 or MSG_MORE; RECV: 0 or MSG_WAITALL */
	__u64	resv[7];	/* must be zero */
};

/*
 * A descriptor: type, flags, data range in the data area, user_data, and
 * the type's command in cmd.  SUBMIT consumes whole chains only, when the
 * CQ has a slot for each of their descriptors; to_submit counts where
 * chains may start.  A descriptor is checked when it starts and gets one
 * CQ entry, run or cancelled, in chain order: res is the bytes moved
 * (NVMe READ/WRITE, NET), 0 (FLUSH, WRITE ZEROES, DSM), the program's
 * value (BPF) or -errno; status, flags, result1 and resv are 0, result0
 * too except in a read-next step's entry.  Errors, besides those of the
 * NVMe command (nvme_ring_io.h):
 *   EINVAL      unknown type, a flag other than F_LINK, resv fields not
 *               zero, an unterminated chain filling the SQ ring
 *   EOPNOTSUPP  a type this module does not run (see features)
 *   ENOENT      a BPF descriptor naming an empty slot
 *   ENXIO       an NVME descriptor on a region with no namespace
 *   ECANCELED   an earlier descriptor of its chain failed, or the context
 *               was closed before it started
 * NVMe READ and WRITE: data_off a multiple of info.dma_alignment (not of
 * the LBA size), data_len NLB * LBA size; data not starting on an LBA
 * boundary must fit one bio (at most 256 folios of the region), else
 * EINVAL.  DSM: a range with nlb not 0 past the namespace's end fails
 * the descriptor with ERANGE before anything is discarded.
 */
struct unified_io_sqe {
	__u8	type;		/* UNIFIED_IO_TYPE_* */
	__u8	flags;		/* UNIFIED_IO_SQE_F_* */
	__u16	resv1;		/* must be zero */
	__u32	data_len;	/* bytes of data */
	__u64	data_off;	/* byte offset of the data in the data area */
	__u64	user_data;	/* echoed in the CQ entry */
	__u64	resv2;		/* must be zero */
	union {				/* by type; named for C99 */
		struct unified_io_nvme	nvme;
		struct unified_io_bpf	bpf;
		struct unified_io_net	net;
		__u64			raw[12];
	} cmd;
};

/* --- UNIFIED_IO_SETUP -------------------------------------------------- */

/*
 * SETUP flag: polled completions for NVMe READ and WRITE descriptors that
 * are not part of a chain, as NVME_RING_IO_SETUP_F_IOPOLL.
 */
#define UNIFIED_IO_SETUP_F_IOPOLL	(1U << 0)

/* The largest frame: one 2 MiB huge folio. */
#define UNIFIED_IO_FRAME_MIN		2048U
#define UNIFIED_IO_FRAME_MAX		(2U << 20)
/* The AF_XDP packet headroom a frame keeps free after frame_headroom. */
#define UNIFIED_IO_XDP_HEADROOM	256U

/*
 * Create the region, bind nvme_fd (-1: none) and record net_ifindex and
 * net_rxq.  In: everything but off; out: off (map off.region_size bytes).
 * Returns 0.  numa_node -1 binds to the interface's or else the
 * namespace's node if it has memory (INFO reports the node, -1 for none).
 * Checked in this order, the first failure giving the error: size and
 * the bytes past this ABI's struct (EFAULT, EINVAL, E2BIG); every field's
 * EINVAL, then every field's E2BIG; the context (EINTR, EBUSY); nvme_fd
 * (EBADF, ENODEV, EPERM); the interface (ENODEV, then EINVAL for
 * net_rxq); the memory (ENOBUFS, ENOMEM); EFAULT writing off back (the
 * SETUP is then undone).  Errors:
 *   EFAULT   the argument cannot be read, or off written back
 *   EINVAL   size below this ABI's sizeof (192), unknown flags, resv not
 *            zero, entries zero or not a power of two, cq_entries <
 *            sq_entries, region_size zero or not a page multiple,
 *            numa_node not -1 and not a node with memory, frame_size not
 *            0 and not a power of two in UNIFIED_IO_FRAME_MIN..MAX,
 *            region_size not a multiple of frame_size, frame_headroom
 *            set without frames or not below frame_size -
 *            UNIFIED_IO_XDP_HEADROOM (the AF_XDP rule), net_rxq set
 *            without net_ifindex, net_rxq not below the interface's
 *            receive queues
 *   E2BIG    size above NVME_RING_IO_MAX_STRUCT_SIZE or unknown trailing
 *            bytes not zero; entries above NVME_RING_IO_MAX_ENTRIES (also
 *            a default CQ of 65536); region_size above max_data_mb
 *   EINTR    a signal with a handler while waiting for the context
 *   EBUSY    the context is already set up
 *   EBADF    nvme_fd is not -1 and not an open file (O_PATH included)
 *   ENODEV   nvme_fd is not an NVMe namespace; net_ifindex names no
 *            interface in the caller's network namespace
 *   EPERM    as for NVME_RING_IO_SETUP (/dev/ngXnY before Linux 6.2)
 *   ENOBUFS  RLIMIT_MEMLOCK (without CAP_IPC_LOCK)
 *   ENOMEM   no memory, or the memory cgroup's limit
 */
struct unified_io_setup {
	__u32	size;		/* sizeof(struct unified_io_setup) */
	__u32	flags;		/* UNIFIED_IO_SETUP_F_* */
	__u32	sq_entries;	/* power of two, 1..NVME_RING_IO_MAX_ENTRIES */
	__u32	cq_entries;	/* 0: 2 * sq_entries; else a power of two
				 * >= sq_entries */
	__u64	region_size;	/* bytes of the data area, a page multiple;
				 * the mapping adds the ring pages in front
				 * (off.region_size) */
	__s32	nvme_fd;	/* the namespace, or -1 for none */
	__s32	numa_node;	/* -1: a device's node, or unbound (see
				 * above); else a node with memory */
	__u32	net_ifindex;	/* 0: none; else an interface of the
				 * caller's network namespace */
	__u32	net_rxq;	/* its receive queue (0 without one) */
	__u32	frame_size;	/* 0: no frames; else the frame size */
	__u32	frame_headroom;	/* bytes kept free at each frame's start */
	__u64	resv[4];	/* must be zero */
	struct nvme_ring_io_offsets off;	/* out */
};

/* --- UNIFIED_IO_INFO --------------------------------------------------- */

#define UNIFIED_IO_INFO_F_SETUP		(1U << 0)	/* SETUP done */
#define UNIFIED_IO_INFO_F_READ		(1U << 1)	/* ns fd readable */
#define UNIFIED_IO_INFO_F_WRITE		(1U << 2)	/* ns fd writable */
#define UNIFIED_IO_INFO_F_RO_NS		(1U << 3)	/* ns read-only */
#define UNIFIED_IO_INFO_F_GENERIC_FD	(1U << 4)	/* /dev/ngXnY */
#define UNIFIED_IO_INFO_F_POLLED	(1U << 5)	/* polled I/O */
#define UNIFIED_IO_INFO_F_DEAD		(1U << 6)	/* namespace gone */
#define UNIFIED_IO_INFO_F_NVME		(1U << 7)	/* a namespace bound */
#define UNIFIED_IO_INFO_F_NET		(1U << 8)	/* an interface set */

/* What this module runs: a descriptor type or ability per bit. */
#define UNIFIED_IO_FEAT_NVME		(1U << 0)	/* TYPE_NVME */
#define UNIFIED_IO_FEAT_LINK		(1U << 1)	/* SQE_F_LINK */
#define UNIFIED_IO_FEAT_BPF		(1U << 2)	/* TYPE_BPF */
#define UNIFIED_IO_FEAT_NET		(1U << 3)	/* TYPE_NET_*, SOCK_* */
#define UNIFIED_IO_FEAT_BPF_READ_NEXT	(1U << 4)	/* cmd.bpf.max_hops */

/*
 * Facts about the context.  In: size (at least 4, no upper limit); the
 * kernel fills min(size, its struct) bytes and sets size to that; before
 * SETUP only size, abi_version, flags (0) and features.  Returns 0.
 * Errors: EFAULT (the argument), EINVAL (size below 4).
 */
struct unified_io_info {
	__u32	size;		/* in: sizeof(); out: bytes filled */
	__u32	abi_version;	/* UNIFIED_IO_ABI_VERSION */
	__u32	flags;		/* UNIFIED_IO_INFO_F_* */
	__u32	features;	/* UNIFIED_IO_FEAT_* */
	__u32	nsid;		/* the bound namespace, 0 without */
	__u32	lba_size;	/* logical block size in bytes */
	__u64	nr_lbas;	/* namespace capacity in logical blocks */
	__u64	max_transfer;	/* device limit on one command, bytes */
	__u32	max_segments;	/* device limit on data segments */
	__u32	dma_alignment;	/* NVMe data_off must be a multiple */
	__u64	region_size;	/* bytes of the mapping */
	__u64	data_size;	/* bytes of the data area */
	__u64	huge_bytes;	/* of region_size, in 2 MiB folios */
	__u32	sq_entries;
	__u32	cq_entries;
	__s32	numa_node;	/* the node it is bound to; -1: none */
	__u32	inflight;	/* descriptors consumed, not completed */
	__u32	net_ifindex;	/* as given to SETUP */
	__u32	net_rxq;
	__u32	frame_size;
	__u32	frame_headroom;
	__u64	nr_frames;	/* data_size / frame_size, 0 without */
	__u64	bytes_zero_copy; /* data bytes devices moved in place */
	__u64	bytes_copied;	/* data bytes moved through a copy */
	__u64	chains;		/* chains of two or more consumed */
	__u64	canceled;	/* descriptors completed with ECANCELED */
	struct nvme_ring_io_counters counters;
};

/* --- BPF ---------------------------------------------------------------- */

/*
 * A BPF descriptor runs the BPF_PROG_TYPE_SYSCALL program in slot
 * cmd.bpf.slot (EINVAL past UNIFIED_IO_BPF_SLOTS, ENOENT when empty), in
 * process context and as the submitter, with struct unified_io_bpf_ctx;
 * its return value, as __s32, is res (negative fails the descriptor and
 * cancels its chain).  data_off/data_len are checked (EFAULT; data_len
 * may be 0) and passed; the program reaches the whole data area with
 *
 *   extern int unified_io_load(__u64 handle, __u64 off, void *buf,
 *                              __u32 buf__sz) __ksym;
 *   extern int unified_io_store(__u64 handle, __u64 off, void *buf,
 *                               __u32 buf__sz) __ksym;
 *
 * which return 0, -EFAULT when the bytes reach outside the data area, or
 * -EACCES when handle is not ctx->handle of the descriptor the calling
 * program runs for (or the call is not from task context), and
 *
 *   extern __u8 *unified_io_node(__u64 handle, __u64 off,
 *                                __u32 rdonly_buf_size) __ksym;
 *
 * which returns a read-only pointer to the rdonly_buf_size bytes (a
 * non-zero constant; 0 does not load on 6.1 and gives NULL on 6.12) at
 * data offset off, or NULL for the same refusals and for bytes that are
 * not in one folio of the region (see the rst).  Needs module BTF
 * (UNIFIED_IO_FEAT_BPF).
 */
#define UNIFIED_IO_BPF_SLOTS		16

/*
 * Read-next steps: a BPF descriptor with cmd.bpf.max_hops not zero
 * (kernel engine only, UNIFIED_IO_FEAT_BPF_READ_NEXT).  Each run of its
 * program either returns a final result (res) or sets next_slba, next_nlb
 * (1..UNIFIED_IO_BPF_MAX_NLB) and next_data_off, leaves next_resv zero,
 * and returns UNIFIED_IO_BPF_READ_NEXT: the module reads those LBAs into
 * the data area as an NVMe READ would and runs the program again on them;
 * scratch is kept from run to run.  The step's CQ entry has the final res
 * and in result0 the number of reads sent to the device.  Errors, besides
 * those of any BPF step and the program's own negative results:
 *   EINVAL      max_hops above the max_bpf_hops module parameter (default
 *               32), found when the step starts; next_nlb 0 or above
 *               65536, next_resv not zero, next_data_off not a multiple of
 *               info.dma_alignment
 *   ENXIO       the region has no namespace, found when the step starts
 *   ELOOP       the program asked for a read when max_hops reads were
 *               issued already
 *   EFAULT      the read reaches outside the data area
 *   ERANGE      the LBAs reach past the namespace's end
 *   EBADF       the namespace fd is not readable
 *   ECANCELED   the context was closed while a read was in flight
 * and a read's own I/O error (EIO, ...).
 */
#define UNIFIED_IO_BPF_READ_NEXT	0x7fffffff	/* read, run again */
#define UNIFIED_IO_BPF_SCRATCH		64		/* bytes */
#define UNIFIED_IO_BPF_MAX_NLB		65536		/* LBAs per read */

/*
 * The program's context.  The fields from hops on (ABI version 2) are 0
 * and ignored when written outside a read-next step; ATTACH refuses a
 * program that reaches past the end of this struct.
 */
struct unified_io_bpf_ctx {
	__u64	handle;		/* for the kfuncs */
	__u64	data_off;	/* the descriptor's range, or the read's */
	__u32	data_len;
	__u32	slot;
	__u64	arg;		/* cmd.bpf.arg */
	__u64	user_data;
	__u64	data_size;	/* bytes of the data area */
	__u32	hops;		/* in: reads the step has issued */
	__u32	max_hops;	/* in: cmd.bpf.max_hops */
	__u64	next_slba;	/* out: the next read's first LBA */
	__u32	next_nlb;	/* out: its number of LBAs */
	__u32	next_resv;	/* out: must stay zero */
	__u64	next_data_off;	/* out: where it goes in the data area */
	__u64	scratch[UNIFIED_IO_BPF_SCRATCH / 8];	/* kept across runs */
};

/*
 * UNIFIED_IO_BPF_ATTACH puts the program prog_fd refers to into slot, in
 * place of any program there; UNIFIED_IO_BPF_DETACH empties slot
 * (prog_fd must be -1).  A running descriptor keeps its program.  Returns
 * 0.  Checked in this order: EFAULT, EPERM, EOPNOTSUPP, the struct's
 * EINVAL, EBADFD, prog_fd (EBADF, EINVAL), ENOENT.  Errors:
 *   EFAULT      the argument cannot be read
 *   EPERM       the caller has neither CAP_BPF nor CAP_SYS_ADMIN
 *   EOPNOTSUPP  the module runs no BPF (no module BTF)
 *   EINVAL      slot past UNIFIED_IO_BPF_SLOTS, flags or resv not zero,
 *               prog_fd not a BPF program, a program of another type than
 *               BPF_PROG_TYPE_SYSCALL, a program that accesses its ctx
 *               past struct unified_io_bpf_ctx; DETACH with a prog_fd
 *               other than -1
 *   EBADFD      before SETUP
 *   EBADF       prog_fd is not an open file descriptor
 *   ENOENT      DETACH of an empty slot
 */
struct unified_io_bpf_attach {
	__u32	slot;
	__s32	prog_fd;
	__u32	flags;		/* none defined: 0 */
	__u32	resv;		/* must be zero */
};

/* --- sockets ------------------------------------------------------------ */

/*
 * NET_SEND and NET_RECV move data_len bytes at data_off to or from the
 * TCP or UDP socket (IPv4 or IPv6) in slot cmd.net.sock, without blocking
 * SUBMIT.  NET_SEND: UDP one datagram, TCP the whole range; NET_RECV: UDP
 * one datagram, TCP at least one byte, or data_len with MSG_WAITALL.  res
 * is the bytes moved, also when a socket error came after some moved
 * (NET_RECV 0: the peer shut down its side); in a chain, fewer than
 * data_len ends the chain as a failure would.  Errors, besides the
 * socket's own as sendmsg(2) and recvmsg(2) return them (EPIPE or
 * ECONNRESET for a closed peer, EDESTADDRREQ for an unconnected UDP
 * socket):
 *   EINVAL      data_len 0 or above UNIFIED_IO_NET_MAX, sock past
 *               UNIFIED_IO_SOCK_SLOTS, msg_flags other than the above
 *   EFAULT      the range reaches outside the data area
 *   ENOENT      no socket in the slot
 *   ENOTCONN    a TCP socket that is listening or not connected (never
 *               connected, or disconnected again), NET_SEND too
 *   EMSGSIZE    a received datagram longer than data_len
 *   ECANCELED   the context was closed while the step waited (even if
 *               part of the range had moved)
 */
#define UNIFIED_IO_SOCK_SLOTS		16
#define UNIFIED_IO_NET_MAX		(1U << 20)	/* bytes per NET step */

/*
 * UNIFIED_IO_SOCK_ATTACH puts the socket sock_fd refers to into slot, in
 * place of any socket there (the slot holds its file; a running step
 * keeps the socket it started with); UNIFIED_IO_SOCK_DETACH empties slot
 * (sock_fd must be -1).  Returns 0.  Checked in this order: EFAULT,
 * EBADFD, the struct's EINVAL, sock_fd (EBADF, ENOTSOCK,
 * EPROTONOSUPPORT; DETACH: EINVAL), ENOENT.  Errors:
 *   EFAULT           the argument cannot be read
 *   EBADFD           before SETUP
 *   EINVAL           slot past UNIFIED_IO_SOCK_SLOTS, flags or resv not
 *                    zero; DETACH with a sock_fd other than -1
 *   EBADF            sock_fd is not an open file descriptor
 *   ENOTSOCK         sock_fd is not a socket
 *   EPROTONOSUPPORT  a socket other than TCP or UDP over IPv4 or IPv6
 *   ENOENT           DETACH of an empty slot
 */
struct unified_io_sock_attach {
	__u32	slot;
	__s32	sock_fd;
	__u32	flags;		/* none defined: 0 */
	__u32	resv;		/* must be zero */
};

/* --- XDP programs ------------------------------------------------------ */

/*
 * UNIFIED_IO_XDP_HANDLE returns in handle the context's XDP handle (the
 * same on every call, valid until the context is freed after its last
 * close and completion), which XDP programs pass to
 *
 *   extern int unified_io_xdp_load(__u64 handle, __u64 off, void *buf,
 *                                  __u32 buf__sz) __ksym;
 *   extern int unified_io_xdp_store(__u64 handle, __u64 off, void *buf,
 *                                   __u32 buf__sz) __ksym;
 *
 * which copy between the program's memory and data offset off and return
 * 0, -EFAULT outside the data area, or -EACCES for a handle that names no
 * live context; they never sleep.  unified_io_load/_store refuse every
 * call from XDP or any interrupt context with EACCES.  Returns 0.
 * Checked in this order: EFAULT, EPERM, EOPNOTSUPP, EINVAL, EBADFD.
 * Errors:
 *   EFAULT      the argument cannot be read or written back
 *   EPERM       neither CAP_BPF nor CAP_SYS_ADMIN
 *   EOPNOTSUPP  the module runs no BPF
 *   EINVAL      flags or resv not zero
 *   EBADFD      before SETUP
 */
struct unified_io_xdp_handle {
	__u64	handle;		/* out */
	__u32	flags;		/* none defined: 0 */
	__u32	resv;		/* must be zero */
};

/* --- io_uring: IORING_OP_URING_CMD on /dev/unified_io_region ---------- */

/*
 * UNIFIED_IO_URING_BPF runs a BPF step as an io_uring command:
 * sqe->opcode IORING_OP_URING_CMD, sqe->fd the unified context's fd (or
 * its registered index), this struct at sqe->cmd; the io_uring must be
 * set up with IORING_SETUP_SQE128 and IORING_SETUP_CQE32.  It runs the
 * slot's program exactly as a BPF descriptor would, in an io_uring worker
 * of the issuing task.  CQE: a program that returned r >= 0 gives res 0
 * and big_cqe[0] r; otherwise res is its negative value or the errno,
 * with big_cqe[0] UNIFIED_IO_URING_F_REFUSED when the program did not run
 * (0 for EBADFD and for EOPNOTSUPP on /dev/nvme_ring_io); big_cqe[1] is
 * 0; res is never positive.  Errors in res:
 *   EOPNOTSUPP  unknown cmd_op, checked first (before SETUP too, whatever
 *               the payload); as for a BPF descriptor
 *   EBADFD      before SETUP
 *   EINVAL      a ring without SQE128 or CQE32, flags or resv not zero;
 *               as for a BPF descriptor
 *   EFAULT, ENOENT  as for a BPF descriptor
 * NVME_RING_IO_URING_SUBMIT and _WAIT work on a unified fd too, with
 * their struct and errors; URING_SUBMIT consumes whole chains (res counts
 * every descriptor consumed), URING_WAIT waits as UNIFIED_IO_COMPLETE.
 */
struct unified_io_uring_bpf {
	__u32	slot;		/* as cmd.bpf.slot */
	__u32	data_len;	/* as the descriptor's data_len, data_off */
	__u64	data_off;
	__u64	arg;		/* as cmd.bpf.arg */
	__u64	user_data;	/* passed to the program (ctx->user_data) */
	__u32	flags;		/* none defined: 0 */
	__u32	resv1;		/* must be zero */
	__u64	resv2[3];	/* must be zero */
};

/* big_cqe[0] of a failed UNIFIED_IO_URING_BPF: the program did not run. */
#define UNIFIED_IO_URING_F_REFUSED	1ULL

#define UNIFIED_IO_URING_BPF	_IOW(NVME_RING_IO_IOC_MAGIC, 0x27, \
				     struct unified_io_uring_bpf)

/* --- the commands -------------------------------------------------------- */

/*
 * SETUP and INFO are versioned by their size field and their numbers keep
 * this first ABI's sizes (192, 176), as for nvme_ring_io.  SUBMIT and
 * COMPLETE take struct nvme_ring_io_submit and struct
 * nvme_ring_io_complete and behave as NVME_RING_IO_SUBMIT and
 * NVME_RING_IO_COMPLETE, including their errors (SUBMIT counts every
 * descriptor of the chains it consumed).  The ioctls of one device are
 * ENOTTY on the other (the io_uring commands: see above).
 */
#define UNIFIED_IO_SETUP	_IOC(_IOC_READ | _IOC_WRITE, \
				     NVME_RING_IO_IOC_MAGIC, 0x21, 192)
#define UNIFIED_IO_SUBMIT	_IOW(NVME_RING_IO_IOC_MAGIC, 0x22, \
				     struct nvme_ring_io_submit)
#define UNIFIED_IO_COMPLETE	_IOW(NVME_RING_IO_IOC_MAGIC, 0x23, \
				     struct nvme_ring_io_complete)
#define UNIFIED_IO_INFO		_IOC(_IOC_READ | _IOC_WRITE, \
				     NVME_RING_IO_IOC_MAGIC, 0x24, 176)
#define UNIFIED_IO_BPF_ATTACH	_IOW(NVME_RING_IO_IOC_MAGIC, 0x25, \
				     struct unified_io_bpf_attach)
#define UNIFIED_IO_BPF_DETACH	_IOW(NVME_RING_IO_IOC_MAGIC, 0x26, \
				     struct unified_io_bpf_attach)
#define UNIFIED_IO_SOCK_ATTACH	_IOW(NVME_RING_IO_IOC_MAGIC, 0x28, \
				     struct unified_io_sock_attach)
#define UNIFIED_IO_SOCK_DETACH	_IOW(NVME_RING_IO_IOC_MAGIC, 0x29, \
				     struct unified_io_sock_attach)
#define UNIFIED_IO_XDP_HANDLE	_IOWR(NVME_RING_IO_IOC_MAGIC, 0x2a, \
				      struct unified_io_xdp_handle)

#endif /* _UAPI_LINUX_UNIFIED_IO_REGION_H */
