/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * nrio_internal.h: what the library's two handle types share (not
 * installed).  Both passthrough engines, that of struct nrio and that of
 * struct nrio_uio, find the namespace's generic node, register the data
 * area as fixed buffers, fill NVMe passthrough SQEs and post CQ entries
 * with these.
 */
#ifndef NRIO_INTERNAL_H
#define NRIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <liburing.h>

#include "nrio_ring.h"

#define NRIO_HIDDEN	__attribute__((visibility("hidden")))

/* [@off, @off + @len) lies inside an area of @size bytes. */
static inline bool nrio_range_ok(uint64_t size, uint64_t off, uint64_t len)
{
	return len <= size && off <= size - len;
}

/*
 * The /dev/ngXnY path of the namespace behind @path (a block or generic
 * node, or a link to one) into @out; "" when there is none.
 */
NRIO_HIDDEN void nrio_generic_of(const char *path, char *out, size_t len);

/* Bytes per fixed buffer for a device of @max_segments (see the .c). */
NRIO_HIDDEN uint64_t nrio_fixed_buf_size(uint32_t max_segments);

/*
 * Register @size bytes at @data as fixed buffers of @chunk bytes each (the
 * last holds the rest); returns how many, or -errno.
 */
NRIO_HIDDEN int nrio_register_data(struct io_uring *ring, unsigned char *data,
				   uint64_t size, uint64_t chunk);

/*
 * Fill @sqe (SQE128) with NVME_URING_CMD_IO on @fd for descriptor @d whose
 * offsets the caller checked against the data area at @data, registered
 * in @chunk-byte fixed buffers; nsid 0 becomes @nsid.
 */
NRIO_HIDDEN void nrio_prep_nvme_cmd(struct io_uring_sqe *sqe, int fd,
				    const struct nvme_ring_io_sqe *d,
				    uint32_t nsid, unsigned char *data,
				    uint64_t chunk, uint64_t user_data);

/* Post one CQ entry as the engine side of @ecq (a slot must be free). */
NRIO_HIDDEN void nrio_post_cqe(struct nrio_ring *ecq, uint64_t user_data,
			       int32_t res, uint16_t status, uint64_t result);

#endif /* NRIO_INTERNAL_H */
