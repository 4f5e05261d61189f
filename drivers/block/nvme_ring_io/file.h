/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_ring_io: the device nodes and the file operations both share
 * (file.c).
 */
#ifndef _NRIO_FILE_H
#define _NRIO_FILE_H

#include <linux/miscdevice.h>

#include "ctx.h"

struct nrio_dev {
	struct miscdevice		misc;
	const struct nrio_dev_ops	*ops;
};

int nrio_dev_register(struct nrio_dev *dev, const struct nrio_dev_ops *ops);
void nrio_dev_unregister(struct nrio_dev *dev);
void nrio_dev_ready(void);

#endif /* _NRIO_FILE_H */
