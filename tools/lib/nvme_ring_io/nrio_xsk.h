/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * libnvme_ring_io_xsk: AF_XDP sockets on a unified region (nrio_xsk.c).
 *
 * A library of its own (libnvme_ring_io_xsk.so.0, pkg-config
 * libnvme_ring_io_xsk), the only part of the project that links libxdp
 * and libbpf; it uses libnvme_ring_io's struct nrio_unified handles.
 * Until libnvme_ring_io 0.2.0 these functions were in libnvme_ring_io
 * itself, declared in <nvme_ring_io.h>.
 */
#ifndef NRIO_XSK_LIB_H
#define NRIO_XSK_LIB_H

#include <stdbool.h>
#include <stdint.h>

#include "nvme_ring_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- AF_XDP on the region --------------------------------------------- */

/*
 * An AF_XDP socket whose UMEM is the unified region's frame area (SETUP's
 * frame_size and frame_headroom; the region must have frames), bound to
 * the interface and receive queue given at SETUP (or those in the
 * options).  A UMEM address is a data offset: the address of a received
 * packet is directly the data_off of an NVMe WRITE of its bytes, and a
 * frame an NVMe READ filled is sent by naming its address in a TX
 * descriptor.
 *
 * The bind tries zero-copy first (unless NRIO_XSK_F_COPY) and falls back
 * to copy mode; nrio_xsk_zero_copy() says which one the kernel gave and
 * the zero-copy bind's errno (EOPNOTSUPP: the driver has no AF_XDP
 * zero-copy, as veth and virtio-net).  In copy mode the kernel copies
 * each packet once between its skb and the frame; nrio_xsk_stats()
 * counts those bytes.
 *
 * Packet placement: a received packet starts nrio_xsk_pkt_off() =
 * frame_headroom + XDP_PACKET_HEADROOM (256) bytes into its frame, in
 * copy and zero-copy mode alike.  Ethernet + IPv4 (no options) + UDP
 * headers are 42 bytes, so the UDP payload is 4-byte aligned (what NVMe
 * data needs, INFO's dma_alignment) when frame_headroom is 2 mod 4, and
 * starts at frame offset 512 with NRIO_XSK_UDP4_HEADROOM.
 *
 * Without NRIO_XSK_F_OWN_PROG, libxdp loads its default XDP program
 * (every packet on the queue to the socket; it needs libxdp's BPF objects
 * and a BPF file system).  With it, no program is loaded: the caller's
 * program redirects into an XSKMAP, and nrio_xsk_attach_prog() puts the
 * socket in the map at the queue's index and attaches the program (the
 * driver's native XDP where it has one, else generic; it returns the
 * XDP_FLAGS_*_MODE it got; nrio_xsk_destroy() detaches it, and only it,
 * if it is still the one attached).
 *
 * Ring sizes default to 2048 entries each (fewer if the region has fewer
 * frames).  The functions return a negative errno on failure.
 */
#define NRIO_XSK_UDP4_HEADROOM	214U	/* 214 + 256 + 42 = 512 */

#define NRIO_XSK_F_COPY		(1U << 0)	/* do not try zero-copy */
#define NRIO_XSK_F_OWN_PROG	(1U << 1)	/* the caller's XDP program */

struct nrio_xsk_opts {
	uint32_t	ifindex;	/* 0: SETUP's net_ifindex */
	int32_t		queue;		/* -1: SETUP's net_rxq */
	uint32_t	rx_size;	/* ring entries, 0: default */
	uint32_t	tx_size;
	uint32_t	fill_size;
	uint32_t	comp_size;
	uint32_t	flags;		/* NRIO_XSK_F_* */
	uint32_t	xdp_flags;	/* libxdp's program: XDP_FLAGS_* */
};

struct nrio_xsk_stats {
	uint32_t	zero_copy;	/* 1: zero-copy bind, 0: copy mode */
	uint32_t	xdp_mode;	/* nrio_xsk_attach_prog()'s, or 0 */
	uint64_t	rx_packets;	/* taken from the RX ring */
	uint64_t	rx_bytes;
	uint64_t	tx_packets;	/* put on the TX ring */
	uint64_t	tx_bytes;
	uint64_t	copied_bytes;	/* copy mode: bytes the kernel copied */
	/* The kernel's XDP_STATISTICS: packets lost and why. */
	uint64_t	rx_dropped;
	uint64_t	rx_invalid_descs;
	uint64_t	tx_invalid_descs;
	uint64_t	rx_ring_full;
	uint64_t	rx_fill_ring_empty;
	uint64_t	tx_ring_empty;
};

struct nrio_xsk;
struct xdp_desc;

void nrio_xsk_opts_init(struct nrio_xsk_opts *o);
/*
 * EINVAL: no frames in the region or bad flags; ENODEV: no interface;
 * EBUSY: another socket has the queue (after retrying for half a second:
 * the kernel frees a closed socket's queue from a work item).
 */
int nrio_xsk_create(struct nrio_unified *u, const struct nrio_xsk_opts *o,
		    struct nrio_xsk **out);
/* Unbinds the socket, releases the UMEM; the region stays mapped. */
void nrio_xsk_destroy(struct nrio_xsk *x);
int nrio_xsk_fd(const struct nrio_xsk *x);
/* The bind the kernel gave; @zc_error (may be NULL): the zero-copy errno. */
bool nrio_xsk_zero_copy(const struct nrio_xsk *x, int *zc_error);
int nrio_xsk_attach_prog(struct nrio_xsk *x, int prog_fd, int xskmap_fd,
			 uint32_t xdp_flags);

/* Frame @i's UMEM address (= data offset), frames, the packet offset. */
uint64_t nrio_xsk_frame(const struct nrio_xsk *x, uint64_t i);
uint32_t nrio_xsk_nr_frames(const struct nrio_xsk *x);
uint32_t nrio_xsk_pkt_off(const struct nrio_xsk *x);

/* Give frames to the fill ring; returns how many fitted. */
unsigned int nrio_xsk_fill(struct nrio_xsk *x, const uint64_t *addrs,
			   unsigned int n);
/* Take up to @max received descriptors (addr = data offset, len). */
unsigned int nrio_xsk_rx(struct nrio_xsk *x, struct xdp_desc *descs,
			 unsigned int max);
/*
 * Wait up to @timeout_ms (-1: no limit) for RX: >0 when there is some, 0
 * on timeout, or the socket's error: ENETDOWN once the interface is gone
 * (deleted, or its namespace destroyed; the kernel unbinds the socket and
 * its poll() stays silent, so this notices it within 100 ms).
 */
int nrio_xsk_wait_rx(struct nrio_xsk *x, int timeout_ms);
/*
 * Queue descriptors for sending and kick the kernel; returns how many were
 * queued, or the kick's errno (ENETDOWN, ENXIO: the interface is down or
 * gone; the descriptors stay queued).
 */
int nrio_xsk_tx(struct nrio_xsk *x, const struct xdp_desc *descs,
		unsigned int n);
/* Take up to @max sent frames' addresses from the completion ring. */
unsigned int nrio_xsk_complete(struct nrio_xsk *x, uint64_t *addrs,
			       unsigned int max);
int nrio_xsk_stats(const struct nrio_xsk *x, struct nrio_xsk_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* NRIO_XSK_LIB_H */
