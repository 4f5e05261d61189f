// SPDX-License-Identifier: GPL-2.0
/*
 * unified_io_test: the seed's usage example, for real, on
 * /dev/unified_io_region.
 *
 *   1. SETUP a unified region on a namespace and map it (the library).
 *   2. Load the BPF program (embedded skeleton) and attach it to slot 0.
 *   3. One submission, one chain: WRITE a pattern to LBA L, READ it back
 *      into another place of the data area at a 4-byte (not LBA)
 *      aligned offset, transform it there with BPF (in place, returning
 *      a checksum), WRITE the result to LBA L + n.
 *   4. A plain READ of L + n shows the device holds the transformed
 *      bytes; the sample checks them and the checksum against its own.
 *
 * The kernel engine runs the chain from one UNIFIED_IO_SUBMIT; with
 * --engine passthru the library runs it as linked io_uring commands in
 * one io_uring_enter() (NVMe passthrough on /dev/ngXnY, the BPF step as
 * UNIFIED_IO_URING_BPF): the same chain, the same result.
 *
 * usage: unified_io_test [--lba L] [--blocks N] [--key K]
 *                        [--engine kernel|passthru] NAMESPACE
 * Writes only LBAs L .. L + 2N - 1 of NAMESPACE, and says so first.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "nvme_ring_io.h"
#include "unified_io.skel.h"

static int fail(const char *what, int err)
{
	fprintf(stderr, "unified_io_test: %s: %s\n", what, nrio_strerror(err));
	return 1;
}

/* The program's checksum: the sum of the bytes, mod 2^31. */
static uint32_t checksum(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum += p[i];
	return sum & 0x7fffffff;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: unified_io_test [--lba L] [--blocks N] [--key K]\n"
		"                       [--engine kernel|passthru] NAMESPACE\n"
		"  Writes LBAs L .. L+2N-1 of NAMESPACE (default L 100000, N 4, K 0x5a;\n"
		"  N LBAs must be at most 16 KiB).  The engine runs the chain: the\n"
		"  module's (default) or the library's linked io_uring commands.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lba", required_argument, NULL, 'l' },
		{ "blocks", required_argument, NULL, 'n' },
		{ "key", required_argument, NULL, 'k' },
		{ "engine", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long lba = 100000;
	unsigned int nlb = 4, key = 0x5a, engine = NRIO_ENGINE_KERNEL, i;
	struct nvme_ring_io_cqe cqe[4];
	struct unified_io_info info;
	struct unified_io_sqe *sqe;
	struct uio_sample *skel;
	struct nrio_uio_opts o;
	struct nrio_uio *u;
	unsigned char *data, *src, *mid, *back;
	uint32_t len, want;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': lba = strtoull(optarg, NULL, 0); break;
		case 'n': nlb = strtoul(optarg, NULL, 0); break;
		case 'k': key = strtoul(optarg, NULL, 0) & 0xff; break;
		case 'e':
			if (!strcmp(optarg, "kernel")) {
				engine = NRIO_ENGINE_KERNEL;
			} else if (!strcmp(optarg, "passthru")) {
				engine = NRIO_ENGINE_PASSTHRU;
			} else {
				usage(stderr);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || !nlb) {
		usage(stderr);
		return 2;
	}

	nrio_uio_opts_init(&o);
	o.sq_entries = 8;
	o.region_size = 4 << 20;
	o.engine = engine;
	ret = nrio_uio_open(argv[optind], O_RDWR, &o, &u);
	if (ret)
		return fail("open", ret);
	ret = nrio_uio_info(u, &info);
	if (ret)
		return fail("INFO", ret);
	len = nlb * info.lba_size;
	if (len > 16 * 1024 || len % 64 || lba + 2 * nlb > info.nr_lbas) {
		fprintf(stderr, "unified_io_test: %u blocks of %u bytes at %llu do not fit\n",
			nlb, info.lba_size, lba);
		return 2;
	}
	printf("unified_io_test: %s: nsid %u, %u-byte LBAs, features 0x%x, "
	       "DMA alignment %u, %s engine; will write LBAs %llu..%llu\n",
	       argv[optind], info.nsid, info.lba_size, info.features,
	       info.dma_alignment,
	       engine == NRIO_ENGINE_KERNEL ? "kernel" : "passthrough",
	       lba, lba + 2 * nlb - 1);
	if (!(info.features & UNIFIED_IO_FEAT_BPF)) {
		fprintf(stderr, "unified_io_test: this module runs no BPF (no BTF)\n");
		return 4;
	}

	skel = uio_sample__open_and_load();
	if (!skel)
		return fail("loading the BPF program", -errno);
	ret = nrio_uio_attach_bpf(u, 0,
				  bpf_program__fd(skel->progs.transform));
	if (ret)
		return fail("attach", ret);

	data = nrio_uio_data(u);
	src = data;			/* the pattern */
	mid = data + (1 << 20) + 44;	/* read back here: 4-aligned */
	back = data + (2 << 20);	/* the final read */
	for (i = 0; i < len; i++)
		src[i] = (unsigned char)(i * 7 + 3);
	memset(mid, 0, len);
	memset(back, 0, len);

	sqe = nrio_uio_get_sqe(u);
	nrio_uio_prep_rw(u, sqe, NVME_RING_IO_OP_WRITE, lba, nlb, 0, 1);
	nrio_uio_link(sqe);
	sqe = nrio_uio_get_sqe(u);
	nrio_uio_prep_rw(u, sqe, NVME_RING_IO_OP_READ, lba, nlb,
			 mid - data, 2);
	nrio_uio_link(sqe);
	sqe = nrio_uio_get_sqe(u);
	nrio_uio_prep_bpf(sqe, 0, mid - data, len, key, 3);
	nrio_uio_link(sqe);
	sqe = nrio_uio_get_sqe(u);
	nrio_uio_prep_rw(u, sqe, NVME_RING_IO_OP_WRITE, lba + nlb, nlb,
			 mid - data, 4);
	ret = nrio_uio_submit_and_wait(u, 4);
	if (ret != 4)
		return fail("SUBMIT of the chain", ret < 0 ? ret : -EIO);
	ret = nrio_uio_reap(u, cqe, 4, 4, 10LL * 1000 * 1000 * 1000);
	if (ret != 4)
		return fail("reaping the chain", ret < 0 ? ret : -ETIME);
	printf("chain: WRITE %d, READ %d, BPF %d (checksum 0x%x), WRITE %d\n",
	       cqe[0].res, cqe[1].res, cqe[2].res, cqe[2].res, cqe[3].res);
	for (i = 0; i < 4; i++)
		if (cqe[i].res < 0)
			return fail("a step of the chain", cqe[i].res);

	sqe = nrio_uio_get_sqe(u);
	nrio_uio_prep_rw(u, sqe, NVME_RING_IO_OP_READ, lba + nlb, nlb,
			 back - data, 5);
	if (nrio_uio_submit_and_wait(u, 1) != 1 ||
	    nrio_uio_reap(u, cqe, 1, 1, 10LL * 1000 * 1000 * 1000) != 1 ||
	    cqe[0].res != (int)len)
		return fail("reading the result back", cqe[0].res);

	for (i = 0; i < len; i++)
		src[i] ^= key;
	want = checksum(src, len);
	if (memcmp(back, src, len) || (uint32_t)cqe[0].res != len) {
		fprintf(stderr, "unified_io_test: the device does not hold the transformed data\n");
		return 1;
	}
	printf("device holds the transformed %u bytes; checksum %s (0x%x)\n",
	       len, want == (uint32_t)cqe[2].res ? "matches" : "differs", want);
	uio_sample__destroy(skel);
	nrio_uio_close(u);
	return want == (uint32_t)cqe[2].res ? 0 : 1;
}
