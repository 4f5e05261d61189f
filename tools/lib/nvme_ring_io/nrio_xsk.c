// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * libnvme_ring_io_xsk: an AF_XDP socket whose UMEM is a unified region's
 * frame area.
 *
 * The UMEM is the data area itself (libxdp's xsk_umem__create() on the
 * mapping, chunk size and headroom from SETUP), so a UMEM address is a
 * data offset: a received frame goes to NVMe by naming its address in a
 * descriptor, and a frame NVMe read into goes out by naming the same
 * address in a TX descriptor.  Nothing is copied in this library; in copy
 * mode the kernel copies each packet once between its skb and the frame,
 * which nrio_xsk_stats() counts.
 *
 * The bind tries XDP_ZEROCOPY first, unless told not to, and falls back
 * to XDP_COPY; which one it got is read back from the socket
 * (XDP_OPTIONS), never assumed, and the zero-copy bind's errno is kept.
 * A failed bind leaves libxdp's UMEM state half-used, so the fallback
 * starts again from a fresh UMEM registration.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "nrio_xsk.h"

/* EBUSY retries, 10 ms apart, for a queue a closed socket still holds. */
#define NRIO_XSK_BUSY_TRIES	50

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

struct nrio_xsk {
	struct xsk_umem		*umem;
	struct xsk_socket	*xsk;
	struct xsk_ring_prod	fill;
	struct xsk_ring_cons	comp;
	struct xsk_ring_cons	rx;
	struct xsk_ring_prod	tx;
	uint32_t		ifindex;
	uint32_t		queue;
	uint32_t		frame_size;
	uint32_t		frame_headroom;
	uint64_t		nr_frames;
	uint64_t		data_size;
	int			zc_error;	/* the zero-copy bind's errno */
	int			err;		/* the socket's error, kept */
	bool			zero_copy;
	uint32_t		xdp_mode;	/* what nrio_xsk_attach_prog() got */
	int			prog_fd;	/* attached by us, -1: none */
	uint64_t		rx_packets;
	uint64_t		rx_bytes;
	uint64_t		tx_packets;
	uint64_t		tx_bytes;
};

void nrio_xsk_opts_init(struct nrio_xsk_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->queue = -1;
}

static int nrio_xsk_bind(struct nrio_xsk *x, void *area, uint32_t ring,
			 const struct nrio_xsk_opts *o, bool zc)
{
	struct xsk_umem_config uc = {
		.fill_size	= o->fill_size ? o->fill_size : ring,
		.comp_size	= o->comp_size ? o->comp_size : ring,
		.frame_size	= x->frame_size,
		.frame_headroom	= x->frame_headroom,
	};
	struct xsk_socket_config sc = {
		.rx_size	= o->rx_size ? o->rx_size : ring,
		.tx_size	= o->tx_size ? o->tx_size : ring,
		.bind_flags	= XDP_USE_NEED_WAKEUP |
				  (zc ? XDP_ZEROCOPY : XDP_COPY),
		.xdp_flags	= o->xdp_flags,
	};
	char ifname[IF_NAMESIZE];
	int ret;

	if (!if_indextoname(x->ifindex, ifname))
		return -errno;
	if (o->flags & NRIO_XSK_F_OWN_PROG)
		sc.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
	for (int tries = 0;; tries++) {
		ret = xsk_umem__create(&x->umem, area, x->data_size, &x->fill,
				       &x->comp, &uc);
		if (ret)
			return ret < 0 ? ret : -ret;
		ret = xsk_socket__create(&x->xsk, ifname, x->queue, x->umem,
					 &x->rx, &x->tx, &sc);
		if (!ret)
			return 0;
		xsk_umem__delete(x->umem);
		x->umem = NULL;
		x->xsk = NULL;
		ret = ret < 0 ? ret : -ret;
		/*
		 * The kernel frees a closed socket's queue from a work item:
		 * right after a close, the queue may still look taken.
		 */
		if (ret != -EBUSY || tries == NRIO_XSK_BUSY_TRIES)
			return ret;
		usleep(10000);
	}
}

int nrio_xsk_create(struct nrio_unified *u, const struct nrio_xsk_opts *o,
		    struct nrio_xsk **out)
{
	struct nrio_xsk_opts def;
	struct unified_io_info info;
	struct xdp_options xo;
	socklen_t len = sizeof(xo);
	struct nrio_xsk *x;
	uint32_t ring = 2048;
	int ret;

	*out = NULL;
	if (!o) {
		nrio_xsk_opts_init(&def);
		o = &def;
	}
	if (o->flags & ~(NRIO_XSK_F_COPY | NRIO_XSK_F_OWN_PROG))
		return -EINVAL;
	ret = nrio_unified_info(u, &info);
	if (ret)
		return ret;
	/* The region must be laid out as frames, and the socket have a home. */
	if (!info.frame_size)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->prog_fd = -1;
	x->ifindex = o->ifindex ? o->ifindex : info.net_ifindex;
	x->queue = o->queue >= 0 ? (uint32_t)o->queue : info.net_rxq;
	x->frame_size = info.frame_size;
	x->frame_headroom = info.frame_headroom;
	x->nr_frames = info.nr_frames;
	x->data_size = info.data_size;
	if (!x->ifindex) {
		free(x);
		return -ENODEV;
	}
	if (x->nr_frames < ring)
		ring = 1U << (31 - __builtin_clz((uint32_t)x->nr_frames));

	if (!(o->flags & NRIO_XSK_F_COPY)) {
		ret = nrio_xsk_bind(x, nrio_unified_data(u), ring, o, true);
		if (ret)
			x->zc_error = -ret;
	}
	if (!x->xsk) {
		ret = nrio_xsk_bind(x, nrio_unified_data(u), ring, o, false);
		if (ret) {
			free(x);
			return ret;
		}
	}
	/* What the kernel gave, not what was asked for. */
	if (getsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_OPTIONS, &xo,
		       &len) == 0)
		x->zero_copy = xo.flags & XDP_OPTIONS_ZEROCOPY;
	*out = x;
	return 0;
}

void nrio_xsk_destroy(struct nrio_xsk *x)
{
	if (!x)
		return;
	if (x->prog_fd >= 0) {
		/* Ours only: not a program someone attached since. */
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts,
			    .old_prog_fd = x->prog_fd);

		bpf_xdp_detach(x->ifindex, x->xdp_mode | XDP_FLAGS_REPLACE,
			       &opts);
		close(x->prog_fd);
	}
	xsk_socket__delete(x->xsk);
	xsk_umem__delete(x->umem);
	free(x);
}

int nrio_xsk_fd(const struct nrio_xsk *x)
{
	return xsk_socket__fd(x->xsk);
}

bool nrio_xsk_zero_copy(const struct nrio_xsk *x, int *zc_error)
{
	if (zc_error)
		*zc_error = x->zc_error;
	return x->zero_copy;
}

int nrio_xsk_attach_prog(struct nrio_xsk *x, int prog_fd, int xskmap_fd,
			 uint32_t xdp_flags)
{
	uint32_t key = x->queue;
	int fd = xsk_socket__fd(x->xsk);
	int ret;

	if (x->prog_fd >= 0)
		return -EBUSY;
	if (xdp_flags & ~(XDP_FLAGS_DRV_MODE | XDP_FLAGS_SKB_MODE))
		return -EINVAL;
	if (bpf_map_update_elem(xskmap_fd, &key, &fd, BPF_ANY))
		return -errno;
	if (!xdp_flags) {
		/* The driver's own XDP where it has it, else generic. */
		ret = bpf_xdp_attach(x->ifindex, prog_fd, XDP_FLAGS_DRV_MODE,
				     NULL);
		xdp_flags = XDP_FLAGS_DRV_MODE;
		if (ret) {
			xdp_flags = XDP_FLAGS_SKB_MODE;
			ret = bpf_xdp_attach(x->ifindex, prog_fd, xdp_flags,
					     NULL);
		}
	} else {
		ret = bpf_xdp_attach(x->ifindex, prog_fd, xdp_flags, NULL);
	}
	if (ret) {
		bpf_map_delete_elem(xskmap_fd, &key);
		return ret;
	}
	/* Our own reference, for the detach in nrio_xsk_destroy(). */
	x->prog_fd = fcntl(prog_fd, F_DUPFD_CLOEXEC, 0);
	if (x->prog_fd < 0) {
		ret = -errno;
		bpf_xdp_detach(x->ifindex, xdp_flags, NULL);
		bpf_map_delete_elem(xskmap_fd, &key);
		return ret;
	}
	x->xdp_mode = xdp_flags;
	return (int)xdp_flags;
}

uint64_t nrio_xsk_frame(const struct nrio_xsk *x, uint64_t i)
{
	return i * x->frame_size;
}

uint32_t nrio_xsk_nr_frames(const struct nrio_xsk *x)
{
	return x->nr_frames > UINT32_MAX ? UINT32_MAX : (uint32_t)x->nr_frames;
}

uint32_t nrio_xsk_pkt_off(const struct nrio_xsk *x)
{
	return x->frame_headroom + XDP_PACKET_HEADROOM;
}

static void nrio_xsk_wake_fill(struct nrio_xsk *x)
{
	struct pollfd p = { .fd = xsk_socket__fd(x->xsk), .events = POLLIN };

	if (xsk_ring_prod__needs_wakeup(&x->fill))
		poll(&p, 1, 0);
}

unsigned int nrio_xsk_fill(struct nrio_xsk *x, const uint64_t *addrs,
			   unsigned int n)
{
	uint32_t idx;
	unsigned int i;

	n = xsk_ring_prod__reserve(&x->fill, n, &idx);
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) =
			addrs[i] - addrs[i] % x->frame_size;
	if (n)
		xsk_ring_prod__submit(&x->fill, n);
	nrio_xsk_wake_fill(x);
	return n;
}

unsigned int nrio_xsk_rx(struct nrio_xsk *x, struct xdp_desc *descs,
			 unsigned int max)
{
	uint32_t idx;
	unsigned int i, n;

	n = xsk_ring_cons__peek(&x->rx, max, &idx);
	for (i = 0; i < n; i++) {
		descs[i] = *xsk_ring_cons__rx_desc(&x->rx, idx + i);
		x->rx_bytes += descs[i].len;
	}
	if (n)
		xsk_ring_cons__release(&x->rx, n);
	else
		nrio_xsk_wake_fill(x);
	x->rx_packets += n;
	return n;
}

/*
 * The socket's pending error: the kernel sets ENETDOWN when the interface
 * is unregistered (it unbinds the socket), and poll() says nothing about
 * it, so it is read here and kept (reading SO_ERROR clears it).
 */
static int nrio_xsk_error(struct nrio_xsk *x)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (!x->err &&
	    !getsockopt(xsk_socket__fd(x->xsk), SOL_SOCKET, SO_ERROR, &err,
			&len) && err)
		x->err = -err;
	return x->err;
}

int nrio_xsk_wait_rx(struct nrio_xsk *x, int timeout_ms)
{
	struct pollfd p = { .fd = xsk_socket__fd(x->xsk), .events = POLLIN };
	int ret;

	/* In slices, so that a lost interface is noticed within one. */
	do {
		int slice = timeout_ms < 0 || timeout_ms > 100 ? 100 :
			    timeout_ms;

		ret = nrio_xsk_error(x);
		if (ret)
			return ret;
		ret = poll(&p, 1, slice);
		if (ret < 0)
			return -errno;
		if (ret)
			return ret;
		if (timeout_ms > 0)
			timeout_ms -= slice;
	} while (timeout_ms);
	return nrio_xsk_error(x);
}

int nrio_xsk_tx(struct nrio_xsk *x, const struct xdp_desc *descs,
		unsigned int n)
{
	uint32_t idx;
	unsigned int i;

	n = xsk_ring_prod__reserve(&x->tx, n, &idx);
	for (i = 0; i < n; i++) {
		*xsk_ring_prod__tx_desc(&x->tx, idx + i) = descs[i];
		x->tx_bytes += descs[i].len;
	}
	if (!n)
		return 0;
	xsk_ring_prod__submit(&x->tx, n);
	x->tx_packets += n;
	/* Copy mode always needs the kick; zero-copy only when asked. */
	if (!x->zero_copy || xsk_ring_prod__needs_wakeup(&x->tx)) {
		if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT,
			   NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			return -errno;
	}
	return (int)n;
}

unsigned int nrio_xsk_complete(struct nrio_xsk *x, uint64_t *addrs,
			       unsigned int max)
{
	uint32_t idx;
	unsigned int i, n;

	n = xsk_ring_cons__peek(&x->comp, max, &idx);
	for (i = 0; i < n; i++)
		addrs[i] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&x->comp, n);
	return n;
}

int nrio_xsk_stats(const struct nrio_xsk *x, struct nrio_xsk_stats *st)
{
	struct xdp_statistics ks;
	socklen_t len = sizeof(ks);

	memset(st, 0, sizeof(*st));
	st->zero_copy = x->zero_copy;
	st->xdp_mode = x->xdp_mode;
	st->rx_packets = x->rx_packets;
	st->rx_bytes = x->rx_bytes;
	st->tx_packets = x->tx_packets;
	st->tx_bytes = x->tx_bytes;
	if (!x->zero_copy)
		st->copied_bytes = x->rx_bytes + x->tx_bytes;
	memset(&ks, 0, sizeof(ks));
	if (getsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_STATISTICS, &ks,
		       &len))
		return -errno;
	st->rx_dropped = ks.rx_dropped;
	st->rx_invalid_descs = ks.rx_invalid_descs;
	st->tx_invalid_descs = ks.tx_invalid_descs;
	st->rx_ring_full = ks.rx_ring_full;
	st->rx_fill_ring_empty = ks.rx_fill_ring_empty_descs;
	st->tx_ring_empty = ks.tx_ring_empty_descs;
	return 0;
}
