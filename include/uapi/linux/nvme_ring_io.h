/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nvme_ring_io: zero-copy, batch-oriented NVMe I/O through shared rings.
 *
 * /dev/nvme_ring_io is a misc device (mode 0600); every open file is a
 * context.  NVME_RING_IO_SETUP binds it to one NVMe namespace, an fd of
 * /dev/nvmeXnY or /dev/ngXnY whose open mode decides what descriptors may
 * do (a read or write it forbids: EBADF), and creates its region, mapped
 * with mmap(2): an SQ ring of struct nvme_ring_io_sqe, a CQ ring of struct
 * nvme_ring_io_cqe, struct nvme_ring_io_counters and the data area that
 * descriptors address by byte offset.  Each ring index has one writer:
 * fill entries, then store-release the producer; load-acquire the
 * producer before reading entries, then store-release the consumer.
 *
 * ABI: structs only grow at the end and fields never change meaning;
 * SETUP and INFO are versioned by their size field, reserved fields must
 * be zero and unknown flags are refused (EINVAL).  NVME_RING_IO_ABI_VERSION
 * grows with features.  Design, ordering, waits and signals, per-kernel
 * differences: Documentation/block/nvme-ring-io.rst
 */
#ifndef _UAPI_LINUX_NVME_RING_IO_H
#define _UAPI_LINUX_NVME_RING_IO_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define NVME_RING_IO_DEVNAME	"nvme_ring_io"
#define NVME_RING_IO_DEVPATH	"/dev/" NVME_RING_IO_DEVNAME

/* ioctl type byte; see Documentation/userspace-api/ioctl/ioctl-number.rst */
#define NVME_RING_IO_IOC_MAGIC	0xBA

/* The largest size field SETUP accepts (INFO takes any size from 4). */
#define NVME_RING_IO_MAX_STRUCT_SIZE	4096U

/* Reported by NVME_RING_IO_INFO; bumped when the ABI gains features. */
#define NVME_RING_IO_ABI_VERSION	1

/* Ring sizes: powers of two from 1 to NVME_RING_IO_MAX_ENTRIES. */
#define NVME_RING_IO_MAX_ENTRIES	32768U

/* --- SQ descriptor ---------------------------------------------------- */

/*
 * An NVMe I/O command: opcode, nsid and cdw* are the NVMe command dwords;
 * data and metadata are byte offsets into the data area.  What the kernel
 * engine accepts in cdw10..cdw12 (any other bit: EINVAL) and its res:
 *   FLUSH         nothing; data_off, data_len 0; res 0
 *   WRITE         SLBA cdw10/11, NLB-1 cdw12[15:0], FUA cdw12[30];
 *                 data_len = NLB * LBA size, data_off LBA aligned;
 *                 res data_len
 *   READ          as WRITE without FUA; res data_len
 *   WRITE_ZEROES  SLBA, NLB-1, DEAC cdw12[25]; data_off, data_len 0; res 0
 *   DSM           NR-1 cdw10[7:0]; cdw11 AD [2] required, IDW [1] and
 *                 IDR [0] accepted; cdw12 0; data_len 16 * NR (struct
 *                 nvme_ring_io_dsm_range), data_off a multiple of 16; res 0
 * cdw2, cdw3, cdw13..cdw15, metadata_* and timeout_ms must be 0.
 * Completion errors (res) of the kernel engine:
 *   EINVAL      reserved field or unknown flag set; nsid neither 0 nor
 *               the bound NSID; a cdw bit not listed above (limited
 *               retry, PRINFO, DTYPE, STC, FUA on READ or WRITE ZEROES,
 *               DEAC on READ or WRITE, ...); data_len not as above;
 *               data_off misaligned; metadata given
 *   EOPNOTSUPP  opcode not handled; DSM without AD; WRITE ZEROES or
 *               deallocate on a namespace that does not support it
 *   EFAULT      data_off/data_len reach outside the data area
 *   ERANGE      the LBA range reaches past the end of the namespace
 *   EBADF       the namespace fd's open mode forbids the access
 *   EROFS       a write to a read-only namespace
 *   EIO etc.    the device failed the command (from the block layer)
 */
struct nvme_ring_io_sqe {
	__u8	opcode;		/* NVMe opcode, NVME_RING_IO_OP_* */
	__u8	flags;		/* NVME_RING_IO_SQE_F_*; none defined: 0 */
	__u16	resv1;		/* must be zero */
	__u32	nsid;		/* 0: the bound namespace, or its NSID */
	__u32	cdw2;
	__u32	cdw3;
	__u64	metadata_off;	/* byte offset of metadata in the data area */
	__u64	data_off;	/* byte offset of the data in the data area */
	__u32	metadata_len;	/* bytes of metadata */
	__u32	data_len;	/* bytes of data */
	__u32	cdw10;
	__u32	cdw11;
	__u32	cdw12;
	__u32	cdw13;
	__u32	cdw14;
	__u32	cdw15;
	__u32	timeout_ms;	/* passthrough engine only; kernel engine: 0 */
	__u32	resv2;		/* must be zero */
	__u64	user_data;	/* echoed in the CQ entry */
};

#define NVME_RING_IO_OP_FLUSH		0x00
#define NVME_RING_IO_OP_WRITE		0x01
#define NVME_RING_IO_OP_READ		0x02
#define NVME_RING_IO_OP_WRITE_ZEROES	0x08
#define NVME_RING_IO_OP_DSM		0x09

/* cdw12 bits of READ, WRITE and WRITE ZEROES */
#define NVME_RING_IO_RW_NLB_MASK	0xffffU
#define NVME_RING_IO_RW_DEAC		(1U << 25)
#define NVME_RING_IO_RW_FUA		(1U << 30)
/* cdw11 bit of DSM: deallocate */
#define NVME_RING_IO_DSM_AD		(1U << 2)

/* A DSM range as the NVMe specification lays it out. */
struct nvme_ring_io_dsm_range {
	__le32	cattr;
	__le32	nlb;		/* number of logical blocks */
	__le64	slba;		/* starting LBA */
};

/* --- CQ descriptor ---------------------------------------------------- */

struct nvme_ring_io_cqe {
	__u64	user_data;	/* from the SQ descriptor */
	__s32	res;		/* >= 0: bytes transferred; < 0: -errno */
	__u16	status;		/* NVMe status field, phase bit stripped;
				 * 0 from the kernel engine */
	__u16	flags;		/* reserved: always 0 (no CQ flag is
				 * defined) */
	__u32	result0;	/* NVMe completion dword 0; kernel
				 * engine: 0 (unified: see its header) */
	__u32	result1;	/* NVMe completion dword 1; likewise 0 */
	__u64	resv;		/* zero */
};

/* --- the region -------------------------------------------------------- */

/* Where one ring lives in the region; all offsets in bytes from 0. */
struct nvme_ring_io_ring_offsets {
	__u64	producer;	/* __u32 producer index */
	__u64	consumer;	/* __u32 consumer index */
	__u64	flags;		/* __u32 NVME_RING_IO_RING_F_* */
	__u64	desc;		/* the descriptor array */
	__u32	entries;	/* number of descriptors, a power of two */
	__u32	desc_size;	/* sizeof() one descriptor */
};

/*
 * SQ flag: the kernel consumes the SQ only when asked (SUBMIT or
 * URING_SUBMIT); set from SETUP on.  The CQ flags word is reserved, 0.
 */
#define NVME_RING_IO_RING_F_NEED_WAKEUP	(1U << 0)

/* Statistics the kernel keeps current in the region (read-only to users;
 * NVME_RING_IO_INFO returns the kernel's own copy). */
struct nvme_ring_io_counters {
	__u64	submitted;	/* SQ descriptors consumed */
	__u64	completed;	/* CQ descriptors posted */
	__u64	sq_invalid;	/* descriptors failed by validation */
	__u64	cq_full;	/* SUBMITs cut short because the CQ ring
				 * had no room (back-pressure, nothing is
				 * ever dropped) */
};

/*
 * The region's layout.  mmap(2) it MAP_SHARED at offset 0, off.region_size
 * bytes (after rounding up to the page size); PROT_READ alone is allowed.
 * Errors: EBADFD before SETUP; EINVAL MAP_PRIVATE, another offset or
 * length; EPERM PROT_EXEC; EACCES mprotect(2) adding PROT_EXEC, or the
 * device file's open mode (MAP_SHARED needs read, PROT_WRITE write);
 * EFAULT mremap(2) to a larger size; EOPNOTSUPP MADV_REMOVE, fallocate(2).
 */
struct nvme_ring_io_offsets {
	struct nvme_ring_io_ring_offsets sq;
	struct nvme_ring_io_ring_offsets cq;
	__u64	counters;	/* struct nvme_ring_io_counters */
	__u64	data;		/* the data area; 2 MiB aligned when
				 * data_size >= 2 MiB, else page aligned */
	__u64	data_size;	/* bytes in the data area */
	__u64	region_size;	/* mmap(2) exactly this length at offset 0 */
};

/* --- NVME_RING_IO_SETUP ------------------------------------------------ */

/*
 * Bind the context to the namespace nvme_fd and create its region.
 * In: everything but off; out: off.  Returns 0.  Checked in this order,
 * the first failure giving the error: the struct (EFAULT, EINVAL, E2BIG),
 * the context (EINTR, EBUSY), nvme_fd (EBADF, ENODEV, EPERM), direct mode
 * (EPERM, EOPNOTSUPP), the memory (ENOBUFS, ENOMEM).  Errors:
 *   EFAULT     the argument cannot be read, or off written back
 *   EINVAL     size below 176, unknown flags, resv not zero, entries 0 or
 *              not a power of two, cq_entries < sq_entries, data_size 0
 *              or not a page multiple, numa_node not -1 and not a node
 *              with memory
 *   E2BIG      size above NVME_RING_IO_MAX_STRUCT_SIZE or unknown bytes
 *              not zero; entries above NVME_RING_IO_MAX_ENTRIES (also a
 *              default CQ of 65536); data_size above max_data_mb
 *   EINTR      a signal with a handler while waiting for the context
 *   EBUSY      the context is already set up
 *   EBADF      nvme_fd is not an open file descriptor (O_PATH included)
 *   ENODEV     nvme_fd is not an NVMe namespace (partitions refused)
 *   EPERM      /dev/ngXnY the kernel would not let the caller use
 *              (before Linux 6.2: without CAP_SYS_ADMIN); F_DIRECT
 *              without CAP_SYS_ADMIN
 *   EOPNOTSUPP F_DIRECT on a namespace that cannot take it
 *   ENOBUFS    the region would exceed RLIMIT_MEMLOCK (no CAP_IPC_LOCK)
 *   ENOMEM     no memory, or the caller's memory cgroup limit
 */
/*
 * SETUP flag: polled completions for READ and WRITE where the queue has
 * poll queues (INFO_F_POLLED); COMPLETE (or SUBMIT with F_WAIT) must then
 * poll, as nothing raises an interrupt.  URING_WAIT: EOPNOTSUPP.
 */
#define NVME_RING_IO_SETUP_F_IOPOLL	(1U << 0)
/*
 * SETUP flag: direct mode (INFO_F_DIRECT): READ and WRITE go as NVMe
 * passthrough requests on the namespace's blk-mq queue, skipping the I/O
 * statistics, cgroup I/O control, merging and the scheduler; descriptor
 * checks and errnos stay those of the bio engine.  Needs CAP_SYS_ADMIN
 * in the initial user namespace, checked once at SETUP (else EPERM; the
 * context stays as it was).  EOPNOTSUPP: an NVMe multipath head, a disk
 * not nvme_core's, integrity metadata, zoned, or nvme_core's request
 * layout not as the module expects.
 */
#define NVME_RING_IO_SETUP_F_DIRECT	(1U << 1)

struct nvme_ring_io_setup {
	__u32	size;		/* sizeof(struct nvme_ring_io_setup) */
	__u32	flags;		/* NVME_RING_IO_SETUP_F_* */
	__u32	sq_entries;	/* power of two, 1..NVME_RING_IO_MAX_ENTRIES */
	__u32	cq_entries;	/* 0: 2 * sq_entries; else a power of two
				 * >= sq_entries */
	__u64	data_size;	/* bytes; a multiple of the page size */
	__s32	nvme_fd;	/* the namespace, opened by the caller */
	__s32	numa_node;	/* -1: the caller's policy; else the node */
	__u64	resv[4];	/* must be zero */
	struct nvme_ring_io_offsets off;	/* out */
};

/* --- NVME_RING_IO_SUBMIT ----------------------------------------------- */

/* Wait after consuming, as COMPLETE with no time limit. */
#define NVME_RING_IO_SUBMIT_F_WAIT	(1U << 0)
/* With F_WAIT only: busy-poll instead of sleeping. */
#define NVME_RING_IO_SUBMIT_F_POLL	(1U << 1)

/*
 * Consume up to to_submit SQ descriptors (0: all ready), as far as the
 * CQ has free slots; with F_WAIT then wait for min_complete CQ entries
 * or nothing in flight.  Returns the number consumed (>= 0), failed ones
 * included, also when a signal cuts the wait short.  Errors:
 *   EBADFD     before SETUP
 *   EFAULT     the argument cannot be read
 *   ENODEV     the namespace has gone away for good (INFO_F_DEAD);
 *              COMPLETE and INFO keep working to drain the CQ
 *   EINTR      a signal with a handler before anything was consumed
 *   EINVAL     unknown flags, F_POLL without F_WAIT, min_complete set
 *              without F_WAIT or above the CQ entries, resv not zero
 */
struct nvme_ring_io_submit {
	__u32	to_submit;
	__u32	flags;		/* NVME_RING_IO_SUBMIT_F_* */
	__u32	min_complete;	/* with NVME_RING_IO_SUBMIT_F_WAIT */
	__u32	resv;		/* must be zero */
};

/* --- NVME_RING_IO_COMPLETE --------------------------------------------- */

/* Busy-poll instead of sleeping (a polled context always polls). */
#define NVME_RING_IO_COMPLETE_F_POLL	(1U << 0)

/*
 * Wait until the CQ holds min_complete entries, nothing is in flight, or
 * timeout_ns (> 0: relative ns; < 0: no limit) passes; timeout_ns 0 or
 * min_complete 0 never wait.  Returns the number of CQ entries ready.
 * Errors:
 *   EBADFD     before SETUP
 *   EFAULT     the argument cannot be read
 *   ETIME      timeout_ns > 0 passed with fewer than min_complete ready
 *              and descriptors still in flight
 *   EINTR      a signal with a handler arrived
 *   EINVAL     min_complete > CQ entries, unknown flags, resv not zero
 */
struct nvme_ring_io_complete {
	__u32	min_complete;
	__u32	flags;		/* NVME_RING_IO_COMPLETE_F_* */
	__s64	timeout_ns;
	__u64	resv;		/* must be zero */
};

/* --- NVME_RING_IO_INFO ------------------------------------------------- */

#define NVME_RING_IO_INFO_F_SETUP	(1U << 0)	/* SETUP done */
#define NVME_RING_IO_INFO_F_READ	(1U << 1)	/* ns fd readable */
#define NVME_RING_IO_INFO_F_WRITE	(1U << 2)	/* ns fd writable */
#define NVME_RING_IO_INFO_F_RO_NS	(1U << 3)	/* ns is read-only */
#define NVME_RING_IO_INFO_F_GENERIC_FD	(1U << 4)	/* fd was /dev/ngXnY */
#define NVME_RING_IO_INFO_F_POLLED	(1U << 5)	/* polled I/O in use */
#define NVME_RING_IO_INFO_F_DEAD	(1U << 6)	/* namespace gone */
#define NVME_RING_IO_INFO_F_DIRECT	(1U << 7)	/* direct mode */

/*
 * Facts about the context.  In: size (at least 4); the kernel fills
 * min(size, its struct) bytes and sets size to that; before SETUP only
 * size, abi_version and flags (the rest is zero).  Returns 0.  Errors: EFAULT (the argument),
 * EINVAL (size below 4).
 */
struct nvme_ring_io_info {
	__u32	size;		/* in: sizeof(); out: bytes filled */
	__u32	abi_version;	/* NVME_RING_IO_ABI_VERSION */
	__u32	flags;		/* NVME_RING_IO_INFO_F_* */
	__u32	nsid;		/* the bound namespace */
	__u32	lba_size;	/* logical block size in bytes */
	__u32	max_segments;	/* device limit on data segments */
	__u64	nr_lbas;	/* namespace capacity in logical blocks */
	__u64	max_transfer;	/* device limit on one command, bytes */
	__u64	region_size;	/* bytes of the region */
	__u64	data_size;	/* bytes of the data area */
	__u64	huge_bytes;	/* region bytes backed by 2 MiB folios */
	__u32	sq_entries;
	__u32	cq_entries;
	__s32	numa_node;	/* as given to SETUP: the node the
				 * region is bound to, -1: none */
	__u32	inflight;	/* descriptors submitted, not completed */
	struct nvme_ring_io_counters counters;
};

/*
 * The command numbers.  SETUP and INFO keep the sizes of this first ABI
 * (176, 112: 0xc0b0ba01, 0xc070ba04 on x86 and arm64) for good.  Any
 * other request: ENOTTY.  read(2), write(2): EINVAL; lseek(2): ESPIPE.
 */
#define NVME_RING_IO_SETUP	_IOC(_IOC_READ | _IOC_WRITE, \
				     NVME_RING_IO_IOC_MAGIC, 0x01, 176)
#define NVME_RING_IO_SUBMIT	_IOW(NVME_RING_IO_IOC_MAGIC, 0x02, \
				     struct nvme_ring_io_submit)
#define NVME_RING_IO_COMPLETE	_IOW(NVME_RING_IO_IOC_MAGIC, 0x03, \
				     struct nvme_ring_io_complete)
#define NVME_RING_IO_INFO	_IOC(_IOC_READ | _IOC_WRITE, \
				     NVME_RING_IO_IOC_MAGIC, 0x04, 112)

/* --- io_uring: IORING_OP_URING_CMD on /dev/nvme_ring_io --------------- */

/*
 * SUBMIT and WAIT as io_uring commands: sqe->fd the context's fd or its
 * registered index (also of /dev/unified_io_region), sqe->cmd_op below,
 * this struct at sqe->cmd (a 64-byte SQE suffices); the result is res.
 *   NVME_RING_IO_URING_SUBMIT  consume up to count descriptors (0: all)
 *                              as SUBMIT; res the number consumed.  A
 *                              READ or WRITE the block layer refuses
 *                              after it was queued completes with -EAGAIN
 *                              in its CQ entry: submit it again.
 *   NVME_RING_IO_URING_WAIT    complete when the CQ holds count entries
 *                              or nothing is in flight; res the number
 *                              ready; -ECANCELED when its io_uring is
 *                              torn down or its task execs.
 * On 6.12 a linked one that is not its link's head needs IOSQE_ASYNC (or
 * its SQ slot kept until it completes).  Errors in res:
 *   EOPNOTSUPP  unknown cmd_op (checked first, whatever the payload);
 *               WAIT on a context with polled I/O
 *   EBADFD      before SETUP
 *   EINVAL      flags or resv not zero; count above the CQ size for WAIT
 */
struct nvme_ring_io_uring_cmd {
	__u32	count;
	__u32	flags;		/* none defined: 0 */
	__u64	resv;		/* must be zero */
};

#define NVME_RING_IO_URING_SUBMIT _IOW(NVME_RING_IO_IOC_MAGIC, 0x10, \
				       struct nvme_ring_io_uring_cmd)
#define NVME_RING_IO_URING_WAIT	_IOW(NVME_RING_IO_IOC_MAGIC, 0x11, \
				     struct nvme_ring_io_uring_cmd)

#endif /* _UAPI_LINUX_NVME_RING_IO_H */
