/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: the NVMe engine (io.c): descriptors in, bios and requests out.
 */
#ifndef _NRIO_IO_H
#define _NRIO_IO_H

#include <linux/bio.h>
#include <linux/bvec.h>
#include <linux/llist.h>

#include "ctx.h"

/* A descriptor's I/O completed with @res: its owner's callback. */
typedef void (nrio_end_io_fn)(void *data, u64 user_data, int res);

/* The kernel's private copy of one SQ descriptor. */
struct nrio_desc {
	u8	opcode;
	u8	flags;
	u16	resv1;
	u32	nsid;
	u32	cdw2, cdw3;
	u64	metadata_off;
	u64	data_off;
	u32	metadata_len;
	u32	data_len;
	u32	cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
	u32	timeout_ms;
	u32	resv2;
	u64	user_data;
	/*
	 * Who completes it: NULL, the engine posts its CQ entry; else this,
	 * from its end_io (any context; a chain's step).  Never polled.
	 */
	nrio_end_io_fn *end_io;
	void	*end_data;
	bool	nowait;		/* IO_URING_F_NONBLOCK: -EAGAIN, not a wait */
};

/*
 * Read the NVMe command fields both devices' descriptors have, by name,
 * each once, from shared memory @c into struct nrio_desc @d.
 */
#define nrio_read_nvme_cmd(d, c) do {					\
	(d)->opcode = READ_ONCE((c)->opcode);				\
	(d)->nsid = READ_ONCE((c)->nsid);				\
	(d)->cdw2 = READ_ONCE((c)->cdw2);				\
	(d)->cdw3 = READ_ONCE((c)->cdw3);				\
	(d)->metadata_off = READ_ONCE((c)->metadata_off);		\
	(d)->metadata_len = READ_ONCE((c)->metadata_len);		\
	(d)->cdw10 = READ_ONCE((c)->cdw10);				\
	(d)->cdw11 = READ_ONCE((c)->cdw11);				\
	(d)->cdw12 = READ_ONCE((c)->cdw12);				\
	(d)->cdw13 = READ_ONCE((c)->cdw13);				\
	(d)->cdw14 = READ_ONCE((c)->cdw14);				\
	(d)->cdw15 = READ_ONCE((c)->cdw15);				\
	(d)->timeout_ms = READ_ONCE((c)->timeout_ms);			\
} while (0)

/* One descriptor in flight: the bioset front-pads every bio with this. */
struct nrio_io {
	struct nrio_ctx		*ctx;
	nrio_end_io_fn		*end_io;	/* as struct nrio_desc's */
	void			*end_data;
	u64			user_data;
	u32			bytes;
	bool			polled;
	bool			dio;		/* in a struct nrio_dio */
	atomic_t		nowait;		/* NRIO_NOWAIT_*, io.c */
	struct list_head	poll_node;	/* on ctx->poll_list, if polled */
	struct bio		bio;		/* must be last */
};

/*
 * A direct-mode READ or WRITE of at most NRIO_DIO_VECS folio runs, not
 * polled, takes its bio from these, preallocated per context (up to
 * NRIO_DIO_MAX of them): the request is then its only allocation.  The
 * rest, and all when they run out, take bios from the bio set.
 */
#define NRIO_DIO_VECS	4
#define NRIO_DIO_MAX	1024

struct nrio_dio {
	struct llist_node	node;
	struct bio_vec		vecs[NRIO_DIO_VECS];
	struct nrio_io		io;		/* must be last: ends in a bio */
};

int nrio_io_init(void);
void nrio_io_exit(void);
int nrio_dio_alloc(struct nrio_ctx *ctx, u32 nr);
void nrio_dio_free(struct nrio_ctx *ctx);
int nrio_issue(struct nrio_ctx *ctx, const struct nrio_desc *d);
bool nrio_nowait_opcode(u8 opcode);
int nrio_poll_cq(struct nrio_ctx *ctx, u32 min_complete, ktime_t deadline);
void nrio_poll_drain(struct nrio_ctx *ctx);

#endif /* _NRIO_IO_H */
