/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: the NVMe engine (io.c): descriptors in, bios out.
 */
#ifndef _NRIO_IO_H
#define _NRIO_IO_H

#include "inflight.h"

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

int nrio_issue(struct nrio_ctx *ctx, const struct nrio_desc *d);
bool nrio_nowait_opcode(u8 opcode);

#endif /* _NRIO_IO_H */
