/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * nrio_passthru.h: the passthrough engine as the handles see it (not
 * installed).  One engine for both devices: a /dev/nvme_ring_io
 * descriptor is a chain of one NVMe step, a /dev/unified_io_region chain
 * may also hold BPF and NET steps.
 */
#ifndef NRIO_PASSTHRU_H
#define NRIO_PASSTHRU_H

#include "nrio_internal.h"

struct nvme_ring_io_offsets;

struct nrio_pt_cfg {
	const struct nvme_ring_io_offsets *off;	/* SETUP's */
	/*
	 * The namespace's generic node, opened with @oflags' access mode;
	 * NULL: no namespace (NVMe steps fail with ENXIO).
	 */
	const char	*generic;
	int		oflags;
	/*
	 * The descriptors are struct unified_io_sqe (chains; BPF and NET
	 * steps; every check the unified kernel engine makes); else struct
	 * nvme_ring_io_sqe, each alone, checked as the plain device's
	 * passthrough engine always did (reserved fields, nsid, ranges).
	 */
	bool		unified;
	struct nrio_pt_ns {		/* the namespace, from INFO */
		uint32_t	nsid;
		uint32_t	lba_size;
		uint32_t	dma_align;	/* 0: none */
		uint64_t	nr_lbas;
		uint64_t	max_transfer;
	} ns;
};

/*
 * The ops table a handle picks at open.  ->setup takes over @c's rings as
 * their engine (c->ring is set up, c->bufs registered by then or after)
 * and sets c->pt; ->attach_sock gives the engine its copy of the socket
 * attached to @slot (@fd -1: detach).
 */
struct nrio_passthru_engine {
	struct nrio_engine_ops	ops;
	int	(*setup)(struct nrio_ctx *c, const struct nrio_pt_cfg *cfg);
	int	(*attach_sock)(struct nrio_ctx *c, uint32_t slot, int fd);
};

NRIO_HIDDEN extern const struct nrio_passthru_engine nrio_passthru;

#endif /* NRIO_PASSTHRU_H */
