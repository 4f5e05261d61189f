// SPDX-License-Identifier: GPL-2.0
/*
 * The smallest libnvme_ring_io program: write 64 KiB at a given LBA from
 * the data area, read it back into another part of it, compare.
 * usage: nrio_example /dev/nvmeXnY LBA [passthru]   (LBA gets overwritten)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_ring_io.h"

static int run(struct nrio *n, uint8_t op, uint64_t lba, uint64_t off)
{
	struct nvme_ring_io_sqe *sqe = nrio_get_sqe(n);
	struct nvme_ring_io_cqe cqe;
	int ret;

	nrio_prep_rw(n, sqe, op, lba, 65536 / nrio_facts(n)->lba_size, off, op);
	ret = nrio_submit(n);
	if (ret >= 0)
		ret = nrio_reap(n, &cqe, 1, 1, -1);
	return ret < 0 ? ret : cqe.res;
}

int main(int argc, char **argv)
{
	struct nrio_opts o;
	unsigned char *data;
	struct nrio *n;
	int ret, i;

	if (argc < 3) {
		fprintf(stderr, "usage: %s /dev/nvmeXnY LBA [passthru]\n", argv[0]);
		return 2;
	}
	nrio_opts_init(&o);
	o.engine = argc > 3 ? NRIO_ENGINE_PASSTHRU : NRIO_ENGINE_KERNEL;
	o.data_size = 2 << 20;
	ret = nrio_open(argv[1], O_RDWR, &o, &n);
	if (ret) {
		fprintf(stderr, "%s: %s\n", argv[1], nrio_strerror(ret));
		return 1;
	}
	data = nrio_data(n);
	for (i = 0; i < 65536; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	ret = run(n, NVME_RING_IO_OP_WRITE, strtoull(argv[2], NULL, 0), 0);
	if (ret == 65536)
		ret = run(n, NVME_RING_IO_OP_READ, strtoull(argv[2], NULL, 0), 1 << 20);
	if (ret == 65536)
		ret = memcmp(data, data + (1 << 20), 65536) ? -EIO : 0;
	printf("%s engine on %s: %s\n", argc > 3 ? "passthrough" : "kernel",
	       argv[1], ret ? nrio_strerror(ret) : "64 KiB written, read back, equal");
	nrio_close(n);
	return ret ? 1 : 0;
}
