/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: io_uring commands on either device (uring.c).
 */
#ifndef _NRIO_URING_H
#define _NRIO_URING_H

struct io_uring_cmd;

int nrio_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);

#endif /* _NRIO_URING_H */
