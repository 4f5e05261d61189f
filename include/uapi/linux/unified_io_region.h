/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * unified_io_region: one huge-page region for storage, network and BPF.
 *
 * Model
 * -----
 * /dev/unified_io_region is a misc character device with mode 0600,
 * registered by the same module as /dev/nvme_ring_io and built from the
 * same region, rings and engine.  Every open file is an independent
 * context.  UNIFIED_IO_SETUP creates the context's region and binds it,
 * optionally, to one NVMe namespace (a file descriptor the caller opened,
 * /dev/nvmeXnY or /dev/ngXnY, whose open mode decides read and write
 * exactly as for nvme_ring_io) and records a network interface and
 * receive queue.  The region is mapped with mmap(2) at offset 0 and holds
 *
 *   - the SQ ring of struct unified_io_sqe, typed descriptors with links,
 *   - the CQ ring of struct nvme_ring_io_cqe, one entry per descriptor,
 *   - struct nvme_ring_io_counters,
 *   - the data area, optionally laid out as AF_XDP-compatible frames.
 *
 * The ioctls and io_uring commands check no open mode of this file (the
 * namespace fd's open mode decides the I/O), but mmap(2) does, as for any
 * file: a MAP_SHARED mapping needs the file open for reading, and
 * PROT_WRITE (also added later by mprotect(2)) needs it open for writing,
 * else EACCES.  So the SQ ring's producer opens it O_RDWR; an O_RDONLY
 * context sets up and runs, but its mapping can only observe.
 *
 * A context lives until its last file reference is closed (an io_uring
 * command in flight holds one) and its last descriptor in flight (an
 * NVMe command, a NET step waiting for its socket, a read-next step's
 * read) has completed; a mapping keeps the region's pages and memory
 * lock charge, not the context.  The context and the region's file each
 * hold a module reference.  With nothing in flight, close(2) frees the
 * context and releases its sockets, programs and (without a mapping)
 * its region before it returns; otherwise the last completion frees it
 * from the module's work queue, and the region's file follows through
 * the kernel's delayed fput a moment later.  munmap(2) of a closed
 * context's last mapping releases the region before it returns.  A
 * loaded BPF program that calls this module's kfuncs holds a module
 * reference of its own until the kernel frees it (after its last fd,
 * link and slot are gone, and RCU grace periods).  So the module's
 * reference count comes back when close(2) and munmap(2) return for an
 * idle context, and shortly after the last completion otherwise.
 *
 * Layout, ring protocol, mmap rules, counters, back-pressure, the wait
 * rules of SUBMIT and COMPLETE (signals and task work), and everything
 * this header does not say otherwise are those of <linux/nvme_ring_io.h>,
 * whose structs this header reuses.  Descriptor types and the features of
 * the running module are reported by UNIFIED_IO_INFO (features): a type
 * the module does not run yet completes with EOPNOTSUPP.
 *
 * Descriptors and links
 * ---------------------
 * Each SQ descriptor has a type and addresses data by offset and length
 * in the data area.  UNIFIED_IO_SQE_F_LINK links a descriptor to the next
 * one: the next starts only after this one completed successfully (res >=
 * 0); when a descriptor of a chain fails, every later descriptor of the
 * chain completes with -ECANCELED without running.  A chain ends at the
 * first descriptor without F_LINK.  Every descriptor, run or cancelled,
 * gets exactly one CQ entry, in the order the chain runs.
 *
 * SUBMIT consumes whole chains only, and only when the CQ ring has a free
 * slot for every descriptor of the chain; its to_submit counts where
 * chains may start (a chain that starts within it is consumed whole, so
 * SUBMIT may consume more than to_submit).  A chain whose last descriptor
 * the producer has not published yet stays in the SQ ring (SUBMIT
 * returns without it; call again when it is complete), and a chain the CQ
 * has no room for waits as a single descriptor would (counters.cq_full).
 * A chain may be as long as the SQ ring.  If the whole SQ ring is filled
 * with linked descriptors and none ends the chain, it can never end: all
 * of them complete with -EINVAL.
 *
 * A descriptor's errors are found when it starts: the first descriptor
 * of a chain is checked in SUBMIT, a later one when its predecessor has
 * completed.  A check failure completes it with its errno (counted in
 * counters.sq_invalid) and cancels the rest of its chain.  Closing the
 * context cancels the descriptors of chains that have not started yet;
 * those already started complete as usual.
 *
 * Where steps run, and as whom: SUBMIT runs a chain's first step, and the
 * steps after it as long as each completes at once (BPF, a NET step that
 * need not wait), in the submitting task.  A step that follows an NVMe
 * step, a NET step that waited for its socket, and every run of a
 * read-next program after its first read, run in a work item of the
 * module's workqueue (a kernel thread), wearing what SUBMIT took from the
 * submitting task for the whole chain: its credentials (capabilities and
 * LSM checks: bpf_sys_bpf() in a program, a socket's sendmsg/recvmsg),
 * its block cgroup (io.max, io.weight and io.stat see the chain's bios as
 * the submitter's) and its memory cgroup (memory the step allocates is
 * charged there).  So a step is allowed, limited and charged the same
 * wherever it runs, and whoever called SETUP or shares the fd does not
 * matter: the identity is the SUBMIT caller's, chain by chain.  Only the
 * task differs: a deferred step has no file table, mm or namespaces of
 * the submitter: a file descriptor bpf_sys_bpf() creates there goes into
 * the kernel threads' file table, is not the application's, and stays
 * (with the map, program or link it holds) until the kernel reboots
 * unless the program closes it with bpf_sys_close() before it returns.
 * The identity is the one SUBMIT saw: a submitter that moves to another
 * cgroup mid-chain leaves the chain's deferred steps in the old one.
 *
 * Errors a descriptor completes with, besides those of the NVMe command
 * (see nvme_ring_io.h):
 *   EINVAL      unknown type, a flag other than F_LINK, resv fields not
 *               zero, an unterminated chain filling the SQ ring
 *   EOPNOTSUPP  a type this module does not run (see features)
 *   ENOENT      a BPF descriptor naming an empty slot
 *   ENXIO       an NVME descriptor on a region with no namespace
 *   ECANCELED   an earlier descriptor of its chain failed, or the context
 *               was closed before it started
 *
 * The kernel engine's CQ entries on this device carry no NVMe completion
 * dwords: status, flags, result1 and resv are 0, and result0 is 0 except
 * in a read-next step's entry (see "Read-next steps").  res is the bytes
 * moved (NVMe READ and WRITE: data_len; NET: the count), 0 (FLUSH, WRITE
 * ZEROES, DSM), the program's value (BPF), or -errno.
 *
 * NVMe descriptors
 * ----------------
 * The command is that of struct nvme_ring_io_sqe, with the data pointer as
 * data_off/data_len of the descriptor.  The one difference: data_off of
 * READ and WRITE must be a multiple of info.dma_alignment, not of the LBA
 * size, so that a payload can be stored from where the network put it;
 * data_len stays NLB * LBA size.  dma_alignment is the queue's DMA
 * alignment (4 bytes on NVMe), or the LBA size on a namespace formatted
 * with protection information (the kernel's integrity code needs LBA
 * aligned segments there).  Data that does not start on an LBA boundary
 * must fit one bio, else EINVAL: it may touch at most 256 folios of the
 * region, each counted once however physically contiguous it is with
 * the next (a 2 MiB folio, or each 4 KiB page outside them; see
 * info.huge_bytes).  That is any length inside 2 MiB folios, and in
 * 4 KiB pages at most 1 MiB minus data_off's offset in its page.  The
 * kernel engine builds bios on the region's pages and never copies
 * data: what it cannot hand the device directly is refused with EINVAL
 * (info.bytes_copied stays 0; a platform that bounces all DMA,
 * swiotlb=force or a confidential guest, copies below the block layer).
 * On an NVMe-oF loop controller the target's backend decides: an
 * O_DIRECT file backend refuses segments that are not LBA multiples, so
 * such descriptors complete with an I/O error there.
 *
 * Every other check and errno of a command is nvme_ring_io.h's.  DSM's
 * range list is read once and every range checked before anything is
 * discarded: a range with nlb not 0 that reaches past the namespace's
 * end fails the descriptor with ERANGE (nothing is discarded); a range
 * with nlb 0 is skipped unchecked.
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
				 * step issuing at most this many reads
				 * (see "Read-next steps"; was resv1, which
				 * had to be zero) */
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
 * In: everything but off.  Out: off (struct nvme_ring_io_offsets: rings,
 * counters, data area; map off.region_size bytes).  Checked in this
 * order, the first failure giving the error: the size field and the
 * bytes past this ABI's struct (EFAULT; EINVAL below 192; E2BIG above
 * NVME_RING_IO_MAX_STRUCT_SIZE or for unknown bytes not zero); then every
 * field's EINVAL (flags, resv, net_rxq without net_ifindex, the frames,
 * the entries, region_size, numa_node), before any field's E2BIG
 * (entries, region_size); then the context (EINTR, EBUSY), the namespace
 * fd (EBADF, ENODEV, EPERM), the network interface (ENODEV, then EINVAL
 * for net_rxq), the memory (ENOBUFS, ENOMEM); last EFAULT when off cannot
 * be written back (the SETUP is then undone).  So a second SETUP with a
 * bad field fails with EINVAL or E2BIG, not EBUSY.  Only the interface's
 * existence and receive queue count are checked: a down interface, or
 * one without carrier, is accepted.  It is recorded, not held: it may go
 * away or change later without effect on the context.
 *
 * numa_node: a node with memory binds the region there (strictly, as
 * mbind(MPOL_BIND) would).  -1 chooses the interface's node (with
 * net_ifindex) or, where the interface has no node, the namespace's, if
 * that node has memory; otherwise the region is bound to no node and the
 * caller's memory policy places its pages.  INFO reports the node the
 * region was given or chose, or -1 for none (not where the pages are).
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
 * Facts about the context; size as for NVME_RING_IO_INFO: at least 4
 * (EINVAL below) and with no upper limit (NVME_RING_IO_MAX_STRUCT_SIZE
 * bounds SETUP only); the kernel fills min(size, its struct) bytes, sets
 * size to that and leaves the rest of a larger struct alone.  Before
 * SETUP only size, abi_version, flags (0) and features are filled.
 * region_size is the whole mapping (rings, counters, padding and data
 * area), and huge_bytes counts its bytes in 2 MiB folios, the ring pages
 * included: it can exceed data_size.  numa_node: see UNIFIED_IO_SETUP.
 * bytes_zero_copy counts what NVMe READ and WRITE descriptors and steps
 * moved (their res) and what read-next steps' reads moved.
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
 * BPF in place.  A BPF_PROG_TYPE_SYSCALL program attached to a numbered
 * slot of the context runs for each UNIFIED_IO_TYPE_BPF descriptor naming
 * that slot, in the kernel, in process context (the SUBMIT that consumes
 * it, or the work item that runs a chain's next step, as the submitter:
 * see "Where steps run, and as whom" above), as
 * BPF_PROG_TEST_RUN runs it: SYSCALL programs are sleepable, and run
 * under tasks-trace RCU with migration disabled.  With libbpf, put it in
 * SEC("syscall") and declare the kfuncs below.  Its context (the ctx
 * argument of the
 * program) is struct unified_io_bpf_ctx.  It reaches the region's data
 * area, and only that, through the module's kfuncs, declared in the
 * program as
 *
 *   extern int unified_io_load(__u64 handle, __u64 off, void *buf,
 *                              __u32 buf__sz) __ksym;
 *   extern int unified_io_store(__u64 handle, __u64 off, void *buf,
 *                               __u32 buf__sz) __ksym;
 *
 * which copy buf__sz bytes between the program's memory and data offset
 * off of the context whose descriptor is running, and return 0, -EFAULT
 * when the bytes reach outside the data area, or -EACCES when handle is
 * not ctx->handle of the descriptor the calling program runs for.  The program's return value,
 * as a signed 32-bit number, is the descriptor's res: negative fails it
 * (and cancels its chain).  So a READ linked to a BPF descriptor
 * processes what was read where the device put it, and a BPF descriptor
 * linked to a WRITE persists what the program produced.
 *
 * BPF descriptor: data_off/data_len name the range it works on (checked
 * against the data area, EFAULT; passed in the context), cmd.bpf.slot the
 * program (EINVAL past UNIFIED_IO_BPF_SLOTS, ENOENT when empty), cmd.bpf.arg
 * is passed as it is.  data_len may be 0 (data_off then up to the data
 * area's size): the program runs all the same.  The range only informs
 * the program; the kfuncs reach the whole data area, in a BPF descriptor
 * and in UNIFIED_IO_URING_BPF alike.  The kfuncs need module BTF: a
 * module without it (a kernel built without CONFIG_DEBUG_INFO_BTF) says
 * so when it loads and does not report UNIFIED_IO_FEAT_BPF; ATTACH then
 * fails with EOPNOTSUPP.
 */
#define UNIFIED_IO_BPF_SLOTS		16

/*
 * Read-next steps
 * ---------------
 * A BPF descriptor with cmd.bpf.max_hops not zero (kernel engine only,
 * UNIFIED_IO_FEAT_BPF_READ_NEXT) is a read-next step: its program may ask
 * for a read of the bound namespace and be run again on what was read,
 * without a return to userspace, until it gives a final result.  This is
 * how dependent reads (an index or B-tree lookup, a linked list on disk)
 * take one descriptor: typically NVMe READ (the root) -> BPF read-next.
 *
 * Each run gets the ctx below: data_off/data_len are the descriptor's
 * range on the first run and the range just read on every later one,
 * hops the number of reads the step has issued so far (0 on the first
 * run), max_hops the descriptor's, and scratch a per-step area of
 * UNIFIED_IO_BPF_SCRATCH bytes, zero on the first run, that keeps what
 * the program leaves in it from one run to the next.  The program either
 * returns a final result (res, as for any BPF step; negative fails the
 * step) or sets next_slba, next_nlb (the number of LBAs, 1..65536) and
 * next_data_off, leaves next_resv zero, and returns
 * UNIFIED_IO_BPF_READ_NEXT: the module then reads next_nlb LBAs from
 * next_slba into the data area at next_data_off, exactly as an NVMe READ
 * descriptor with those values would, and runs the program again when
 * the read completed.  So a read-next step cannot return
 * UNIFIED_IO_BPF_READ_NEXT as its result.  The next_* fields read 0 at
 * the start of every run, and are looked at only when the run returns
 * UNIFIED_IO_BPF_READ_NEXT: with a final result they are ignored, a
 * non-zero next_resv included.
 *
 * The step's CQ entry comes when the program gives its final result or
 * the step fails; its result0 is the number of reads the step issued (in
 * every other BPF step's entry result0 stays 0).  The reads have no CQ
 * entries of their own.  The program runs in the module's work item, in
 * process context, as every step after the first of a chain does (the
 * first run of a step that starts a chain runs in SUBMIT): the read's
 * completion, in interrupt context, only queues that work.  The rules of
 * SYSCALL programs hold: sleepable, tasks-trace RCU, no migration.  Every
 * run of the step runs the program its first run found in the slot: an
 * ATTACH or DETACH of the slot while the step hops changes nothing for
 * it (it keeps its program until it returns).
 *
 * result0 counts the reads sent to the device, one that failed with an
 * I/O error included; not a read the module refused (EINVAL, EFAULT,
 * ERANGE, EBADF below), nor the one ELOOP refuses.  A step that failed
 * before its program ran, or was cancelled, has result0 0.
 * info.bytes_zero_copy grows by the bytes of each read that succeeded
 * (also the one after which a close ends the step), not by the step's
 * res, which is the program's value.
 *
 * Errors a read-next step completes with, besides those of any BPF step
 * and the program's own negative results:
 *   EINVAL      max_hops above the max_bpf_hops module parameter (default
 *               32; /sys/module/nvme_ring_io/parameters/max_bpf_hops),
 *               found when the step starts; next_nlb 0 or above 65536,
 *               next_resv not zero, next_data_off not a multiple of
 *               info.dma_alignment
 *   ENXIO       the region has no namespace, found when the step starts
 *   ELOOP       the program asked for a read when max_hops reads were
 *               issued already
 *   EFAULT      the read reaches outside the data area
 *   ERANGE      the LBAs reach past the namespace's end
 *   EBADF       the namespace fd is not readable
 *   ECANCELED   the context was closed while a read was in flight
 * and a read's own I/O error (EIO, ...).  None of these reads or writes
 * anything.  Only the errors found when the step starts (max_hops,
 * ENXIO) count in counters.sq_invalid.
 */
#define UNIFIED_IO_BPF_READ_NEXT	0x7fffffff	/* read, run again */
#define UNIFIED_IO_BPF_SCRATCH		64		/* bytes */
#define UNIFIED_IO_BPF_MAX_NLB		65536		/* LBAs per read */

/*
 * The program's context.  Everything from hops on was added by ABI
 * version 2 and is zero (and ignored when written) in a step that is not
 * a read-next step; ATTACH refuses a program that reaches past the end of
 * this struct.
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
 * (prog_fd must be -1).  A descriptor already running keeps its program
 * until it returns.  Callable after SETUP only (EBADFD).  Errors:
 *   EPERM       the caller has neither CAP_BPF nor CAP_SYS_ADMIN
 *   EOPNOTSUPP  the module runs no BPF (no module BTF)
 *   EINVAL      slot past UNIFIED_IO_BPF_SLOTS, flags or resv not zero,
 *               prog_fd not a BPF program, a program of another type than
 *               BPF_PROG_TYPE_SYSCALL, a program that accesses its ctx
 *               past struct unified_io_bpf_ctx; DETACH with a prog_fd
 *               other than -1
 *   EBADF       prog_fd is not an open file descriptor
 *   ENOENT      DETACH of an empty slot
 * checked in this order, the first failure giving the error: EFAULT,
 * EPERM, EOPNOTSUPP, the struct's EINVAL (slot, flags, resv, DETACH's
 * prog_fd), EBADFD, then prog_fd (EBADF, EINVAL), then ENOENT.  So before
 * SETUP a bad slot or flag gives EINVAL, an otherwise good call EBADFD.
 */
struct unified_io_bpf_attach {
	__u32	slot;
	__s32	prog_fd;
	__u32	flags;		/* none defined: 0 */
	__u32	resv;		/* must be zero */
};

/* --- sockets ------------------------------------------------------------ */

/*
 * NET_SEND and NET_RECV descriptors move data between the data area and
 * a TCP or UDP socket (IPv4 or IPv6) attached to a numbered slot of the
 * context.  The kernel engine calls the socket's sendmsg and recvmsg
 * directly on the region's pages, never blocking: a step the socket is
 * not ready for waits on the socket's wait queue and goes on from the
 * module's work queue when the socket wakes it, so SUBMIT returns at once
 * and COMPLETE's timeout holds.  The socket layer copies the bytes
 * between the region and its buffers once (counted in info.bytes_copied):
 * no other copy is made.
 *
 * NET_SEND sends data_len bytes from data_off: a UDP socket one datagram
 * (connected, or EDESTADDRREQ), a TCP socket the whole range, in as many
 * sendmsg calls as the socket needs.  res is the number of bytes sent.
 * NET_RECV receives into data_len bytes at data_off: a UDP socket one
 * datagram (res its length; a longer datagram is dropped and the
 * descriptor fails with EMSGSIZE), a TCP socket what has arrived, at
 * least one byte, or with MSG_WAITALL exactly data_len bytes; res is the
 * number of bytes received, 0 when the peer has shut down its side.
 * Every call adds MSG_DONTWAIT and MSG_NOSIGNAL.
 *
 * In a chain a NET step that moved fewer than data_len bytes (a TCP
 * receive without MSG_WAITALL, end of stream, a short datagram) ends the
 * chain as a failure would: its res is the byte count, the rest complete
 * with -ECANCELED.  So NET_RECV -> NVME WRITE never writes bytes that
 * were not received.
 *
 * A socket error after part of the range moved gives that byte count as
 * res, not the error.  A close does not: a step it ends (one waiting for
 * its socket, or one that would wait next) completes with -ECANCELED even
 * when part of its range was sent or received already; the peer may have
 * those bytes, the region holds what arrived, and bytes_copied does not
 * count them.
 *
 * Errors a NET descriptor completes with, besides the socket's own (as
 * sendmsg(2) and recvmsg(2) return them; EPIPE or ECONNRESET for a closed
 * peer):
 *   EINVAL      data_len 0 or above UNIFIED_IO_NET_MAX, sock past
 *               UNIFIED_IO_SOCK_SLOTS, msg_flags other than the above
 *   EFAULT      the range reaches outside the data area
 *   ENOENT      no socket in the slot
 *   ENOTCONN    a TCP socket that is listening or not connected (never
 *               connected, or disconnected again), NET_SEND too
 *   EMSGSIZE    a received datagram longer than data_len
 *   ECANCELED   the context was closed while the step waited
 */
#define UNIFIED_IO_SOCK_SLOTS		16
#define UNIFIED_IO_NET_MAX		(1U << 20)	/* bytes per NET step */

/*
 * UNIFIED_IO_SOCK_ATTACH puts the socket sock_fd refers to into slot (the
 * context holds a reference to its file until DETACH or the context's
 * end; a step that runs keeps the socket it started with), in place of
 * any socket there; UNIFIED_IO_SOCK_DETACH empties slot (sock_fd must be
 * -1).  Callable after SETUP only (EBADFD).  Errors:
 *   EINVAL           slot past UNIFIED_IO_SOCK_SLOTS, flags or resv not
 *                    zero; DETACH with a sock_fd other than -1
 *   EBADF            sock_fd is not an open file descriptor
 *   ENOTSOCK         sock_fd is not a socket
 *   EPROTONOSUPPORT  a socket other than TCP or UDP over IPv4 or IPv6
 *   ENOENT           DETACH of an empty slot
 * checked in this order: EFAULT, EBADFD, the struct's EINVAL (slot,
 * flags, resv), then sock_fd (EBADF, ENOTSOCK, EPROTONOSUPPORT; DETACH:
 * EINVAL for a sock_fd other than -1), then ENOENT.  So before SETUP
 * every call gives EBADFD (BPF_ATTACH checks its struct first).
 */
struct unified_io_sock_attach {
	__u32	slot;
	__s32	sock_fd;
	__u32	flags;		/* none defined: 0 */
	__u32	resv;		/* must be zero */
};

/* --- XDP programs ------------------------------------------------------ */

/*
 * An XDP program runs in the network stack's softirq, for no descriptor,
 * so the kfuncs above (bound to the run of a descriptor) refuse it with
 * EACCES.  UNIFIED_IO_XDP_HANDLE gives the context's XDP handle instead
 * (the same value on every call, valid until the context is freed after
 * its last close): XDP programs pass it to
 *
 *   extern int unified_io_xdp_load(__u64 handle, __u64 off, void *buf,
 *                                  __u32 buf__sz) __ksym;
 *   extern int unified_io_xdp_store(__u64 handle, __u64 off, void *buf,
 *                                   __u32 buf__sz) __ksym;
 *
 * which copy between the program's memory and data offset off of that
 * context's data area and return 0, -EFAULT outside the data area, or
 * -EACCES for a handle that names no live context.  They never sleep.
 * The handle is 64 random bits, a capability: a context's data is
 * reachable only by programs given its handle (through a map, say), and
 * guessing one takes about 2^63 calls.  The kfuncs of BPF descriptors
 * (unified_io_load/_store) refuse every call from XDP, and from any other
 * interrupt context, with EACCES, whatever the handle and whichever task
 * was interrupted.  Writes race with NVMe and AF_XDP use of the same bytes:
 * the application orders them.  Callable after SETUP only (EBADFD).
 * Errors: EPERM without CAP_BPF (or CAP_SYS_ADMIN), EOPNOTSUPP when the
 * module runs no BPF, EINVAL for flags or resv not zero.
 *
 * The handle is the context's, not the region's: it dies with the
 * context (its last close and its last descriptor in flight, see the top
 * of this header).  A mapping of the region, or an AF_XDP socket whose
 * UMEM the data area is, keeps the pages but not the handle, which then
 * gives EACCES.  UNIFIED_IO_XDP_HANDLE checks in this order: EFAULT,
 * EPERM, EOPNOTSUPP, EINVAL, EBADFD.
 */
struct unified_io_xdp_handle {
	__u64	handle;		/* out */
	__u32	flags;		/* none defined: 0 */
	__u32	resv;		/* must be zero */
};

/* --- io_uring: IORING_OP_URING_CMD on /dev/unified_io_region ---------- */

/*
 * A BPF step as an io_uring command, for engines that run the region's
 * descriptors from io_uring (libnvme_ring_io's passthrough engine runs a
 * chain as linked SQEs: NVMe commands as NVME_URING_CMD_IO on the
 * namespace's /dev/ngXnY, BPF steps as this command).  sqe->opcode
 * IORING_OP_URING_CMD, sqe->fd the unified context's fd (or its
 * registered index), sqe->cmd_op UNIFIED_IO_URING_BPF, and struct
 * unified_io_uring_bpf at sqe->cmd.  The io_uring must be set up with
 * IORING_SETUP_SQE128 (the command does not fit a 64-byte SQE) and
 * IORING_SETUP_CQE32 (the program's result is in the big CQE).
 *
 * The command runs the slot's program exactly as a BPF descriptor would
 * (same context struct, kfuncs, checks and errors), in an io_uring
 * worker (io-wq) of the task that issued it: the program may sleep, so
 * the module sends an issue that must not block there, and it completes
 * there: it is never left queued.  On 6.12, give a linked one that is
 * not its link's head IOSQE_ASYNC (see NVME_RING_IO_URING_WAIT).
 *
 * The CQE: a program that returned r >= 0 gives res 0 and big_cqe[0] r.
 * A negative return value, or the step's own errno (EINVAL, EFAULT,
 * ENOENT, EOPNOTSUPP as for a BPF descriptor; EINVAL also for a ring
 * without SQE128 or CQE32, flags or resv not zero), is res, and
 * big_cqe[0] is UNIFIED_IO_URING_F_REFUSED when the program did not run.
 * res is never positive: io_uring fails a link only at a negative res,
 * and Linux 6.1 fails every link of a command that completes inline with
 * a positive one, so success has to be 0 for linked steps to go on.
 * EBADFD before SETUP; EOPNOTSUPP for an unknown cmd_op, checked first
 * (before SETUP too, and whatever its payload holds).
 *
 * So big_cqe[0] tells the failures apart: a program that ran and returned
 * r < 0 gives res r and big_cqe[0] 0; a command refused before its
 * program ran gives its errno and UNIFIED_IO_URING_F_REFUSED.  EBADFD,
 * and EOPNOTSUPP for this command on /dev/nvme_ring_io, are io_uring's
 * own completions, with big_cqe[0] 0.  big_cqe[1] is always 0.
 *
 * NVME_RING_IO_URING_SUBMIT and NVME_RING_IO_URING_WAIT (nvme_ring_io.h)
 * work on a unified fd too, with their struct (a 64-byte SQE suffices)
 * and errors: URING_SUBMIT consumes whole chains as UNIFIED_IO_SUBMIT
 * does (res counts every descriptor consumed), URING_WAIT waits as
 * UNIFIED_IO_COMPLETE would without a time limit (EOPNOTSUPP on a polled
 * context).
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
