/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * nrio_internal.h: what the library's two handle types share (not
 * installed).  Both passthrough engines, that of struct nrio and that of
 * struct nrio_unified, find the namespace's generic node, register the data
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
 * How the data area is registered as fixed buffers: @nr_chunks buffers of
 * @chunk bytes from index 0 (the last holds the rest), then, where @small
 * is not 0 (a power of two), @nr_small buffers of @small bytes, one per
 * @small-aligned piece of the data area (the last holds the rest).  An I/O
 * uses the small buffer that holds its data, else the chunk, else none.
 */
struct nrio_bufmap {
	uint64_t	chunk;
	uint64_t	small;
	uint32_t	small_shift;
	uint32_t	nr_chunks;
	uint32_t	nr_small;
};

/*
 * Register @size bytes at @data as fixed buffers, as @m says (the caller
 * sets ->chunk, and ->small to ask for small buffers too; the rest is
 * filled in, and ->small is cleared when they could not be registered);
 * returns how many buffers in all, or -errno.
 */
NRIO_HIDDEN int nrio_register_data(struct io_uring *ring, unsigned char *data,
				   uint64_t size, struct nrio_bufmap *m);

/*
 * The fixed buffer for @len bytes at @off in the data area, or -1 when no
 * registered buffer holds them all (or @len is 0).
 */
static inline int nrio_buf_index(const struct nrio_bufmap *m, uint64_t off,
				 uint64_t len)
{
	uint64_t last = off + len - 1;

	if (!len)
		return -1;
	if (m->small && off >> m->small_shift == last >> m->small_shift)
		return (int)(m->nr_chunks + (off >> m->small_shift));
	if (off / m->chunk == last / m->chunk)
		return (int)(off / m->chunk);
	return -1;
}

/*
 * Fill @sqe (SQE128) with NVME_URING_CMD_IO on @fd (an index into the
 * registered files when @fixed_file) for descriptor @d whose offsets the
 * caller checked against the data area at @data, registered as @m says;
 * nsid 0 becomes @nsid.
 */
NRIO_HIDDEN void nrio_prep_nvme_cmd(struct io_uring_sqe *sqe, int fd,
				    bool fixed_file,
				    const struct nvme_ring_io_sqe *d,
				    uint32_t nsid, unsigned char *data,
				    const struct nrio_bufmap *m,
				    uint64_t user_data);

/* Post one CQ entry as the engine side of @ecq (a slot must be free). */
NRIO_HIDDEN void nrio_post_cqe(struct nrio_ring *ecq, uint64_t user_data,
			       int32_t res, uint16_t status, uint64_t result);

#endif /* NRIO_INTERNAL_H */
