/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nvme_ring_io: zero-copy, batch-oriented NVMe I/O through shared rings.
 *
 * Model
 * -----
 * /dev/nvme_ring_io is a misc character device created with mode 0600.
 * Every open file is an independent context.  NVME_RING_IO_SETUP binds the
 * context to one NVMe namespace, given as a file descriptor the caller
 * opened (/dev/nvmeXnY or /dev/ngXnY), and creates the context's region:
 * memory that the caller maps with mmap(2) at offset 0 and whose layout is
 * described by struct nvme_ring_io_offsets.  The region holds
 *
 *   - the submission (SQ) ring: struct nvme_ring_io_sqe descriptors that
 *     userspace produces and the kernel consumes,
 *   - the completion (CQ) ring: struct nvme_ring_io_cqe descriptors that
 *     the kernel produces and userspace consumes,
 *   - struct nvme_ring_io_counters, written by the kernel,
 *   - the data area: descriptors address data by byte offset into it and
 *     the device transfers data directly to and from it.
 *
 * mmap(2) must be MAP_SHARED (MAP_PRIVATE: EINVAL), at offset 0 (else
 * EINVAL), of off.region_size bytes; the length is rounded up to the page
 * size first, as for any mapping, so any length that rounds to
 * region_size is that length.  PROT_EXEC is refused (EPERM) and cannot be
 * added with mprotect(2) (EACCES): the region is data (a process with the
 * READ_IMPLIES_EXEC personality gets its implied PROT_EXEC dropped).  A PROT_READ-only
 * mapping is allowed (an observer of the rings and counters); the
 * device file's own open mode limits the mapping as for any file
 * (MAP_SHARED needs it readable, PROT_WRITE writable: else EACCES;
 * the ioctls check no open mode of it).  The
 * mapping cannot grow: mremap(2) to a larger size fails with EFAULT.
 * MADV_REMOVE and fallocate(2) on it fail with EOPNOTSUPP.  Before SETUP,
 * mmap fails with EBADFD.
 *
 * Access to the namespace is decided by the open mode of the namespace
 * file descriptor: a descriptor that needs write access fails with EBADF
 * if that file was not opened for writing, and one that reads fails with
 * EBADF if it was not opened for reading.
 *
 * Ring protocol
 * -------------
 * Both rings have a power-of-two number of entries and free-running __u32
 * producer and consumer indices; entry i lives at desc[i & (entries - 1)].
 * The number of filled entries is (producer - consumer), computed in
 * unsigned 32-bit arithmetic.  Each index has exactly one writer and sits
 * on its own cache line:
 *
 *   SQ producer: userspace.  Fill desc[], then store-release the producer.
 *   SQ consumer: the kernel.  It load-acquires the producer, reads each
 *                descriptor once into a private copy, then store-releases
 *                the consumer; entries below the consumer may be reused.
 *   CQ producer: the kernel.  It writes the entry, then store-releases the
 *                producer.
 *   CQ consumer: userspace.  Load-acquire the producer, read the entries,
 *                then store-release the consumer to hand the slots back.
 *
 * In C11 terms: __atomic_store_n(p, v, __ATOMIC_RELEASE) for a release and
 * __atomic_load_n(p, __ATOMIC_ACQUIRE) for an acquire.  After SETUP all
 * four indices are 0, both rings are empty, the counters are 0, and the SQ
 * flags word holds NVME_RING_IO_RING_F_NEED_WAKEUP.
 *
 * The kernel engine consumes the SQ only in a system call (SUBMIT, or the
 * io_uring command URING_SUBMIT) and posts CQ entries from the device's
 * completion, so a caller may spin on the CQ producer without any system
 * call, with one exception: a context set up with
 * NVME_RING_IO_SETUP_F_IOPOLL on a queue with poll queues raises no
 * completion interrupt, and its I/O completes only while COMPLETE (or
 * SUBMIT with F_WAIT) polls the device.
 *
 * The kernel never drops a completion: it consumes an SQ entry only when it
 * has reserved a CQ slot for it, so a full CQ ring stops submission (the
 * SUBMIT count is then smaller than asked; see counters.cq_full).
 *
 * Every descriptor is validated; a bad one completes at once with a
 * negative errno in its CQ entry, bumps counters.sq_invalid, and the ring
 * goes on.  Errors a descriptor can complete with (kernel engine):
 *
 *   EINVAL      a reserved field or unknown flag is set; nsid is neither 0
 *               nor the bound namespace; a command dword bit the opcode
 *               does not accept (see the SQ descriptor below: FUA on a
 *               READ or WRITE ZEROES, limited retry, PRINFO, DTYPE, DEAC
 *               on READ or WRITE, ...); data_len does not match the
 *               command (NLB * LBA size for READ/WRITE, 0 for FLUSH and
 *               WRITE ZEROES, 16 * ranges for DSM); data_off is not a
 *               multiple of the LBA size; metadata is given
 *   EOPNOTSUPP  an opcode the kernel engine does not handle, a DSM without
 *               the deallocate attribute, or a command the namespace does
 *               not support (WRITE ZEROES, deallocate)
 *   EFAULT      data_off/data_len reach outside the data area
 *   ERANGE      the LBA range reaches past the end of the namespace
 *   EBADF       the namespace fd's open mode forbids the access
 *   EROFS       a write to a read-only namespace
 *   EIO etc.    the device failed the command (from the block layer)
 *
 * ioctls
 * ------
 * NVME_RING_IO_SETUP, NVME_RING_IO_SUBMIT, NVME_RING_IO_COMPLETE and
 * NVME_RING_IO_INFO, below.  Any other request fails with ENOTTY.  Before
 * SETUP, SUBMIT and COMPLETE fail with EBADFD, as does mmap(2).
 * read(2) and write(2) are not supported (EINVAL); lseek(2) fails with
 * ESPIPE.  A bad argument pointer gives EFAULT.
 *
 * Waits and signals
 * -----------------
 * COMPLETE, and SUBMIT with NVME_RING_IO_SUBMIT_F_WAIT, sleep (or poll)
 * until their condition holds.  Task work that the kernel must run in
 * the waiting thread, such as io_uring's completion work for a ring of
 * the same thread, is no signal: the call lets it run and goes on, with
 * the time that was left, and consumes no descriptor twice; the caller
 * sees nothing of it.  A real signal ends the wait as its disposition
 * says: with a handler installed, COMPLETE fails with EINTR (a timed one
 * also under SA_RESTART, as poll(2) does; one without a time limit is
 * restarted under SA_RESTART).  Without a handler (a stop and continue,
 * a debugger attaching, the freezer) COMPLETE restarts transparently, a
 * timed one then with its full timeout.  SUBMIT with F_WAIT that has
 * consumed descriptors returns their number on any of these, so the
 * caller always learns it; when it consumed none it behaves as an
 * untimed COMPLETE.
 *
 * Extensibility
 * -------------
 * The argument structs of SETUP and INFO start with a size field: the
 * caller sets it to the sizeof() it was compiled with.  Structs only ever
 * grow at the end: later kernels keep accepting this ABI's sizes.  SETUP
 * given a larger struct than the kernel knows accepts it only if the
 * bytes the kernel does not know are zero and size is at most
 * NVME_RING_IO_MAX_STRUCT_SIZE (else E2BIG); INFO fills what it knows of
 * a larger one, of any size.  The command numbers of SETUP and
 * INFO never change: their size bits stay those of this first ABI (176
 * and 112 bytes) whatever the structs grow to, and the kernel ignores the
 * size bits of these two commands, so that the size field alone versions
 * them.  SUBMIT and COMPLETE have fixed structs and exact numbers.
 * Reserved fields must be zero (else EINVAL); unknown flags are refused
 * (EINVAL).  Fields never change meaning once released.
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
 * An NVMe I/O command.  opcode, nsid, cdw2, cdw3 and cdw10..cdw15 are the
 * command dwords as the NVMe specification defines them; the data and
 * metadata pointers are byte offsets into the data area instead of
 * addresses.  user_data is returned unchanged in the completion.
 *
 * The kernel engine executes these opcodes as block-layer bios; the bits
 * listed are the only ones it accepts in cdw10..cdw12 (any other: EINVAL),
 * and res in the CQ entry is the number of bytes transferred:
 *   NVME_RING_IO_OP_FLUSH         data_off, data_len, cdw10..12 zero;
 *                                 needs no write access; res 0
 *   NVME_RING_IO_OP_WRITE         SLBA cdw10/11, NLB-1 cdw12[15:0],
 *                                 FUA cdw12[30]; data_len = NLB * LBA size;
 *                                 data_off a multiple of the LBA size;
 *                                 res data_len
 *   NVME_RING_IO_OP_READ          SLBA, NLB-1 as WRITE, no FUA (the block
 *                                 layer has no FUA read); res data_len
 *   NVME_RING_IO_OP_WRITE_ZEROES  SLBA, NLB-1 as WRITE, DEAC cdw12[25]
 *                                 (deallocate allowed), no FUA; data_off
 *                                 and data_len 0; res 0
 *   NVME_RING_IO_OP_DSM           NR-1 cdw10[7:0]; cdw11: AD [2] must be
 *                                 set, IDW [1] and IDR [0] are accepted
 *                                 (hints the block layer does not pass
 *                                 on); cdw12 zero; the data area holds NR
 *                                 16-byte range descriptors (struct
 *                                 nvme_ring_io_dsm_range, cattr ignored),
 *                                 data_off a multiple of 16; res 0
 * Not accepted in cdw12 of READ, WRITE or WRITE ZEROES: limited retry
 * [31], PRINFO [29:26], DTYPE [23:20], DEAC on READ/WRITE, STC [24].
 * cdw2, cdw3, cdw13..cdw15, metadata_* and timeout_ms must be zero for the
 * kernel engine.
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
				 * 0 from the kernel engine, which reports
				 * device errors as res = -errno */
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
 * SQ flag: the kernel consumes the SQ only when asked (NVME_RING_IO_SUBMIT
 * or NVME_RING_IO_URING_SUBMIT).  Set from SETUP on; the kernel engine
 * never clears it today.  A caller that finds it clear need not make a
 * call to have its entries consumed.  The CQ flags word is reserved and
 * 0: no CQ ring flag is defined.
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
 * In: size, flags, sq_entries, cq_entries, data_size, nvme_fd, numa_node.
 * Out: off.  The checks run in this order, and the first that fails gives
 * the error: the struct itself (EFAULT, EINVAL, E2BIG), then the context
 * (EINTR, EBUSY), then the namespace fd (EBADF, ENODEV, EPERM), then
 * direct mode (EPERM, EOPNOTSUPP), then the memory (ENOBUFS, ENOMEM).  So
 * a second SETUP with a bad struct fails with EINVAL, not EBUSY.  Errors:
 *   EINVAL     size below sizeof(struct nvme_ring_io_setup) of this ABI
 *              (176), unknown flags, resv not zero, entries zero or not a
 *              power of two, cq_entries < sq_entries, data_size zero or
 *              not a multiple of the page size (4096 on x86-64), numa_node
 *              not -1 and not a node with memory
 *   E2BIG      size above NVME_RING_IO_MAX_STRUCT_SIZE, non-zero bytes
 *              past the end of the struct this kernel knows, entries above
 *              NVME_RING_IO_MAX_ENTRIES (also cq_entries 0 with sq_entries
 *              32768, as the CQ would be 65536), or data_size above the
 *              module's max_data_mb parameter
 *   EINTR      a signal with a handler arrived while waiting for the
 *              context (nothing was done; without a handler, or with
 *              SA_RESTART, the call restarts)
 *   EBUSY      the context is already set up
 *   EBADF      nvme_fd is not an open file descriptor, or one opened with
 *              O_PATH
 *   ENODEV     nvme_fd is not an NVMe namespace (block or generic char
 *              device); partitions are refused
 *   EPERM      nvme_fd is /dev/ngXnY and the kernel's own policy would not
 *              let this caller do I/O through it (before Linux 6.2: without
 *              CAP_SYS_ADMIN); or NVME_RING_IO_SETUP_F_DIRECT without
 *              CAP_SYS_ADMIN (see the flag)
 *   EOPNOTSUPP NVME_RING_IO_SETUP_F_DIRECT on a namespace that cannot
 *              take it (see the flag)
 *   ENOBUFS    the region would exceed RLIMIT_MEMLOCK (callers without
 *              CAP_IPC_LOCK are charged like mlock(2))
 *   ENOMEM     no memory, or the caller's memory cgroup limit
 */
/*
 * SETUP flag: polled completions.  Where the namespace's queue has poll
 * queues (nvme.poll_queues=N), the kernel engine issues READ and WRITE
 * bios as polled I/O: they raise no interrupt and complete only while
 * someone polls, which COMPLETE then always does (it never sleeps), and
 * closing the context polls until they are done.  INFO reports with
 * NVME_RING_IO_INFO_F_POLLED whether polling is in use; without poll
 * queues the flag is accepted and I/O completes by interrupt as usual.
 * With polling in use, spinning on the CQ ring alone never completes
 * anything: the caller must call COMPLETE (with min_complete 0 and
 * timeout_ns 0 for a single non-blocking poll) or SUBMIT with F_WAIT.
 * NVME_RING_IO_URING_WAIT is refused (EOPNOTSUPP) on a polled context.
 */
#define NVME_RING_IO_SETUP_F_IOPOLL	(1U << 0)
/*
 * SETUP flag: direct mode (opt-in; the bio engine stays the default).
 * READ and WRITE descriptors become NVMe commands sent as passthrough
 * requests on the namespace's own queue (nvme_core's blk-mq queue), with
 * the data on the region's pages: no bio submission, no splitting, no
 * merging, no I/O scheduler.  Validation, a descriptor's permissions (the
 * namespace fd's open mode) and errnos are exactly those of the bio
 * engine; FLUSH, WRITE ZEROES and DSM still go as bios, and so does any
 * READ or WRITE that would not fit one command (above the device's
 * maximum transfer or segment count, or data the device's virt boundary
 * or DMA alignment cannot take): such I/O is never sent as one request.
 * What direct mode gives up: I/O statistics (iostat, /proc/diskstats),
 * cgroup I/O control (io.max, io.weight, io.latency, io.cost:
 * blk-throttle and iocost never see the requests), merging and the I/O
 * scheduler, and error logging unless the namespace's
 * passthru_err_log_enabled is set.  A command the device
 * fails completes with the errno the bio engine gives for the same NVMe
 * status (e.g. ENODATA for a media error, EOPNOTSUPP for Invalid Field,
 * EIO for most others).  NVMe retries of transient errors are kept where
 * nvme_core decides them (on 6.12 a failed command that completes in a
 * batch of completions is not retried; it fails with its errno).  With
 * NVME_RING_IO_SETUP_F_IOPOLL and poll queues the requests are polled.
 * INFO reports NVME_RING_IO_INFO_F_DIRECT.
 *
 * Who may use it: since its I/O escapes the cgroup I/O controllers and
 * the disk's statistics, direct mode needs CAP_SYS_ADMIN in the initial
 * user namespace (capable(), as raw NVMe passthrough on Linux 6.1),
 * whatever the namespace fd's open mode; opening the block device is not
 * enough.  It is checked once, at SETUP: a context set up in direct mode
 * stays so for whoever holds its fd afterwards, as a file's permission
 * is checked at open.  Errors (after the namespace fd's):
 *   EPERM       the caller lacks CAP_SYS_ADMIN; the context stays as it
 *               was, and a SETUP without the flag works
 *   EOPNOTSUPP  the namespace is reached through an NVMe multipath head
 *               (its queue is not blk-mq: there is no path to send a
 *               request on, and direct mode would lose failover), the
 *               disk is not nvme_core's, or it has integrity metadata or
 *               is zoned (or nvme_core's request data is not laid out as
 *               the module expects; the kernel log says so once)
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

/*
 * SUBMIT flags.  NVME_RING_IO_SUBMIT_F_WAIT: after consuming, wait as
 * NVME_RING_IO_COMPLETE does (no time limit) until the CQ ring holds at
 * least min_complete entries or nothing is in flight: submission and wait
 * in one system call.  NVME_RING_IO_SUBMIT_F_POLL (only with F_WAIT):
 * busy-poll instead of sleeping, like NVME_RING_IO_COMPLETE_F_POLL.
 */
#define NVME_RING_IO_SUBMIT_F_WAIT	(1U << 0)
#define NVME_RING_IO_SUBMIT_F_POLL	(1U << 1)

/*
 * Consume up to to_submit SQ descriptors (0: all that are ready), limited
 * by the free CQ slots.  Returns the number consumed (>= 0), including
 * descriptors that failed validation (they already have their CQ entry).
 * With F_WAIT, a wait cut short by a signal still returns the number
 * consumed; only when none was consumed does it fail with EINTR (see
 * "Waits and signals" above: task work never cuts it short).
 * min_complete must be 0 without F_WAIT and at most the CQ entries.
 * Errors:
 *   ENODEV     the namespace has gone away (removed, or its controller
 *              deleted): the context is dead for good.  Descriptors in
 *              flight complete with the device's error; COMPLETE and INFO
 *              keep working so the CQ can be drained, and INFO sets
 *              NVME_RING_IO_INFO_F_DEAD.
 *   EINTR      a signal with a handler arrived before anything was
 *              consumed (waiting for the context's lock, or with F_WAIT)
 *   EINVAL     unknown flags, F_POLL without F_WAIT, min_complete set
 *              without F_WAIT or above the CQ entries, resv not zero
 *              (a module older than F_WAIT refuses the flag so)
 */
struct nvme_ring_io_submit {
	__u32	to_submit;
	__u32	flags;		/* NVME_RING_IO_SUBMIT_F_* */
	__u32	min_complete;	/* with NVME_RING_IO_SUBMIT_F_WAIT */
	__u32	resv;		/* must be zero */
};

/* --- NVME_RING_IO_COMPLETE --------------------------------------------- */

/*
 * COMPLETE flag: busy-poll the CQ ring (and, on a polled context, the
 * device) instead of sleeping.  A polled context always polls.
 */
#define NVME_RING_IO_COMPLETE_F_POLL	(1U << 0)

/*
 * Wait until the CQ ring holds at least min_complete entries, or no
 * descriptor is in flight any more, or timeout_ns passes.  Returns the
 * number of CQ entries ready (>= 0), which can be below min_complete only
 * when nothing is in flight or timeout_ns is 0.  timeout_ns > 0 is
 * relative, in nanoseconds; timeout_ns < 0 waits without a time limit;
 * timeout_ns 0 or min_complete 0 never wait and never fail with ETIME:
 * they return the count ready at once (a polled context polls the device
 * once first).  Errors:
 *   ETIME      timeout_ns > 0 passed with fewer than min_complete ready
 *              and descriptors still in flight
 *   EINTR      a signal with a handler arrived (see "Waits and signals")
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
 * Facts about the context.  The caller sets size, at least
 * sizeof(info.size) (4; else EINVAL); the kernel fills min(size, the
 * struct it knows) bytes and sets size to that, so an older, shorter
 * struct gets just its own fields and a newer, longer one keeps its
 * unknown tail as it was.  Before SETUP only size,
 * abi_version and flags are filled (the rest is zero).
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
 * The command numbers.  SETUP and INFO carry the sizes of this first ABI
 * (176 and 112) for good, however their structs grow (see
 * "Extensibility"): 0xc0b0ba01 and 0xc070ba04 on x86 and arm64.
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
 * The same SUBMIT and COMPLETE, as io_uring commands: sqe->opcode
 * IORING_OP_URING_CMD, sqe->fd the /dev/nvme_ring_io fd (or its registered
 * index; a /dev/unified_io_region fd takes them too, see
 * unified_io_region.h), sqe->cmd_op one of the two below, and struct
 * nvme_ring_io_uring_cmd at sqe->cmd (it fits a 64-byte SQE).  An
 * application can then wait on one io_uring for everything, and with
 * SQPOLL submit without any system call.
 *
 * NVME_RING_IO_URING_SUBMIT  consumes up to count descriptors (0: all),
 *                            as NVME_RING_IO_SUBMIT; the CQE's res is the
 *                            number consumed or -errno.  It completes as
 *                            soon as the descriptors are queued.  Issued
 *                            inline or by the SQPOLL thread it never
 *                            waits: what would (a busy context, a step
 *                            that sleeps, no free device tag) makes
 *                            io_uring issue it again from its worker,
 *                            or, after some descriptors were consumed,
 *                            leaves the rest in the SQ ring (res counts
 *                            what was consumed, as when the CQ is full).
 *                            A READ or WRITE so consumed whose bio the
 *                            block layer refuses only later (a multipath
 *                            requeue, blk-throttle) completes with
 *                            -EAGAIN in its CQ entry: submit it again.
 * NVME_RING_IO_URING_WAIT    completes when the CQ ring holds at least
 *                            count entries, or nothing is in flight; res
 *                            is the number ready.  Tearing down the
 *                            io_uring (closing its last reference, or
 *                            exit) cancels a parked WAIT (-ECANCELED), as
 *                            does exec of the task that issued it; on 6.1,
 *                            which has no io_uring command cancelation,
 *                            the module notices within about 100 ms (it
 *                            looks every 100 ms while a WAIT is parked),
 *                            and there the exit of that task cancels it
 *                            too.  A WAIT already completing (its task
 *                            work queued) ends when its task runs it.
 * Both may be issued with IOSQE_ASYNC and linked, on every kernel; on
 * 6.12, a linked one that is not the head of its link is read from its
 * SQ ring slot when io_uring issues it, later: give it IOSQE_ASYNC (the
 * SQE is then copied at submission) or keep the slot until it completes.
 * Errors in res: EINVAL (flags/resv not zero, count above the CQ size for
 * WAIT), EBADFD (before SETUP), EOPNOTSUPP (unknown cmd_op, checked first,
 * whatever its payload holds; WAIT on a context with polled I/O).
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
