/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the full-stack example's XDP program (full_stack.bpf.c) and its
 * userspace (full_stack.c) share, and the on-disk record format.
 */
#ifndef FULL_STACK_H
#define FULL_STACK_H

#define FS_PORT			9999	/* the UDP port the XDP program takes */
#define FS_MAX_QUEUES		64	/* XSKMAP entries */
#define FS_RINGBUF_BYTES	(256 * 1024)

/* The XDP program's per-CPU counters: where each packet went. */
enum {
	FS_XDP_REDIRECT,	/* to the AF_XDP socket */
	FS_XDP_NO_SOCKET,	/* UDP 9999 but no socket on the queue: PASS */
	FS_XDP_PASS,		/* not IPv4/UDP/9999: to the stack */
	FS_XDP_FRAG,		/* an IPv4 fragment: to the stack */
	FS_XDP_EVENT_LOST,	/* ring buffer full: no metadata event */
	FS_XDP_NR,
};

/* One ring buffer event per redirected packet. */
struct fs_event {
	__u32	saddr;		/* network order */
	__u32	daddr;
	__u16	sport;		/* network order */
	__u16	dport;
	__u16	payload_len;	/* from the UDP header */
	__u16	rx_queue;
	__u64	ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
};

/*
 * The record the program stores for each datagram: this header, written
 * into the frame right before the UDP payload (over the Ethernet/IP/UDP
 * header bytes already parsed), then the payload, then zeroes up to the
 * next LBA boundary.  Little-endian, except the addresses and ports,
 * which stay in network order as on the wire.
 */
#define FS_REC_MAGIC	0x5346524eU	/* "NRFS" */
struct fs_rec {
	__u32	magic;		/* FS_REC_MAGIC */
	__u32	run_id;		/* random, one per pipeline run */
	__u32	seq;		/* record number in the log: 0, 1, ... */
	__u16	len;		/* payload bytes (the rest is padding) */
	__u16	nlb;		/* LBAs of this record */
	__u32	saddr;
	__u32	daddr;
	__u16	sport;
	__u16	dport;
	__u32	csum;		/* FNV-1a of the payload */
	__u64	rx_ns;		/* CLOCK_MONOTONIC when taken from RX */
};
#define FS_REC_HDR	40	/* sizeof(struct fs_rec) */
#ifndef __bpf__
_Static_assert(sizeof(struct fs_rec) == FS_REC_HDR, "record header");
#endif

#endif
