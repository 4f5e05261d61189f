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
 * With --net, the network pipelines instead (unified_io_net.c): requests
 * from a peer over TCP received, transformed in BPF, persisted and
 * answered (NET_RECV -> BPF -> NVME WRITE -> NET_SEND), then the stored
 * records read and sent to the peer over UDP (NVME READ -> BPF ->
 * NET_SEND), over a veth pair into a network namespace of its own.
 *
 * usage: unified_io_test [--lba L] [--blocks N] [--key K]
 *                        [--engine kernel|passthru]
 *                        [--net [--records R] [--ip PATH]] NAMESPACE
 * Writes only LBAs L .. L + 2N - 1 of NAMESPACE (--net: L .. L + RN - 1),
 * and says so first.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include <unistd.h>

#include <bpf/libbpf.h>

#include "unified_io_sample.h"
#include "unified_io.skel.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: unified_io_test [--lba L] [--blocks N] [--key K]\n"
		"                       [--engine kernel|passthru]\n"
		"                       [--net [--records R] [--ip PATH]] NAMESPACE\n"
		"  Writes LBAs L .. L+2N-1 of NAMESPACE (default L 100000, N 4, K 0x5a;\n"
		"  N LBAs must be at most 16 KiB).  The engine runs the chain: the\n"
		"  module's (default) or the library's linked io_uring commands.\n"
		"  --net: the network pipelines instead, R records of N LBAs (default\n"
		"  16, at most 64; writes LBAs L .. L+RN-1) over a veth pair into the\n"
		"  network namespace \"uni-sample\", made with ip(8) at PATH (default\n"
		"  /sbin/ip) and removed at exit.\n");
}

int sample_load_bpf(struct nrio_unified *u, struct uio_sample **skel)
{
	int ret;

	*skel = uio_sample__open_and_load();
	if (!*skel)
		return sample_fail("loading the BPF program", -errno);
	ret = nrio_unified_attach_bpf(u, 0,
				  bpf_program__fd((*skel)->progs.transform));
	if (ret) {
		uio_sample__destroy(*skel);
		*skel = NULL;
		return sample_fail("attaching the BPF program", ret);
	}
	return 0;
}

/* The storage chain, and the result read back and checked. */
static int sample_storage(const struct sample_args *a)
{
	unsigned long long lba = a->lba;
	unsigned int nlb = a->nlb, key = a->key, engine = a->engine, i;
	struct nvme_ring_io_cqe cqe[4];
	struct unified_io_info info;
	struct unified_io_sqe *sqe;
	struct uio_sample *skel;
	struct nrio_unified_opts o;
	struct nrio_unified *u;
	unsigned char *data, *src, *mid, *back;
	uint32_t len, want;
	int ret;

	nrio_unified_opts_init(&o);
	o.sq_entries = 8;
	o.region_size = 4 << 20;
	o.engine = engine;
	ret = nrio_unified_open(a->ns, O_RDWR, &o, &u);
	if (ret)
		return sample_fail("open", ret);
	ret = nrio_unified_info(u, &info);
	if (ret)
		return sample_fail("INFO", ret);
	len = nlb * info.lba_size;
	if (len > 16 * 1024 || len % 64 || lba + 2 * nlb > info.nr_lbas) {
		fprintf(stderr, "unified_io_test: %u blocks of %u bytes at %llu do not fit\n",
			nlb, info.lba_size, lba);
		return 2;
	}
	printf("unified_io_test: %s: nsid %u, %u-byte LBAs, features 0x%x, "
	       "DMA alignment %u, %s engine; will write LBAs %llu..%llu\n",
	       a->ns, info.nsid, info.lba_size, info.features,
	       info.dma_alignment,
	       engine == NRIO_ENGINE_KERNEL ? "kernel" : "passthrough",
	       lba, lba + 2 * nlb - 1);
	if (!(info.features & UNIFIED_IO_FEAT_BPF)) {
		fprintf(stderr, "unified_io_test: this module runs no BPF (no BTF)\n");
		return 4;
	}

	ret = sample_load_bpf(u, &skel);
	if (ret)
		return ret;

	data = nrio_unified_data(u);
	src = data;			/* the pattern */
	mid = data + (1 << 20) + 44;	/* read back here: 4-aligned */
	back = data + (2 << 20);	/* the final read */
	for (i = 0; i < len; i++)
		src[i] = (unsigned char)(i * 7 + 3);
	memset(mid, 0, len);
	memset(back, 0, len);

	sqe = nrio_unified_get_sqe(u);
	nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_WRITE, lba, nlb, 0, 1);
	nrio_unified_link(sqe);
	sqe = nrio_unified_get_sqe(u);
	nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_READ, lba, nlb,
			 mid - data, 2);
	nrio_unified_link(sqe);
	sqe = nrio_unified_get_sqe(u);
	nrio_unified_prep_bpf(sqe, 0, mid - data, len, key, 3);
	nrio_unified_link(sqe);
	sqe = nrio_unified_get_sqe(u);
	nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_WRITE, lba + nlb, nlb,
			 mid - data, 4);
	ret = nrio_unified_submit_and_wait(u, 4);
	if (ret != 4)
		return sample_fail("SUBMIT of the chain", ret < 0 ? ret : -EIO);
	ret = nrio_unified_reap(u, cqe, 4, 4, 10LL * 1000 * 1000 * 1000);
	if (ret != 4)
		return sample_fail("reaping the chain", ret < 0 ? ret : -ETIME);
	printf("chain: WRITE %d, READ %d, BPF %d (checksum 0x%x), WRITE %d\n",
	       cqe[0].res, cqe[1].res, cqe[2].res, cqe[2].res, cqe[3].res);
	for (i = 0; i < 4; i++)
		if (cqe[i].res < 0)
			return sample_fail("a step of the chain", cqe[i].res);

	sqe = nrio_unified_get_sqe(u);
	nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_READ, lba + nlb, nlb,
			 back - data, 5);
	if (nrio_unified_submit_and_wait(u, 1) != 1 ||
	    nrio_unified_reap(u, cqe, 1, 1, 10LL * 1000 * 1000 * 1000) != 1 ||
	    cqe[0].res != (int)len)
		return sample_fail("reading the result back", cqe[0].res);

	for (i = 0; i < len; i++)
		src[i] ^= key;
	want = sample_checksum(src, len);
	if (memcmp(back, src, len) || (uint32_t)cqe[0].res != len) {
		fprintf(stderr, "unified_io_test: the device does not hold the transformed data\n");
		return 1;
	}
	printf("device holds the transformed %u bytes; checksum %s (0x%x)\n",
	       len, want == (uint32_t)cqe[2].res ? "matches" : "differs", want);
	uio_sample__destroy(skel);
	nrio_unified_close(u);
	return want == (uint32_t)cqe[2].res ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lba", required_argument, NULL, 'l' },
		{ "blocks", required_argument, NULL, 'n' },
		{ "key", required_argument, NULL, 'k' },
		{ "engine", required_argument, NULL, 'e' },
		{ "net", no_argument, NULL, 'N' },
		{ "records", required_argument, NULL, 'r' },
		{ "ip", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sample_args a = {
		.lba = 100000, .nlb = 4, .key = 0x5a,
		.engine = NRIO_ENGINE_KERNEL, .records = 16, .ip = "/sbin/ip",
	};
	bool net = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': a.lba = strtoull(optarg, NULL, 0); break;
		case 'n': a.nlb = strtoul(optarg, NULL, 0); break;
		case 'k': a.key = strtoul(optarg, NULL, 0) & 0xff; break;
		case 'e':
			if (!strcmp(optarg, "kernel")) {
				a.engine = NRIO_ENGINE_KERNEL;
			} else if (!strcmp(optarg, "passthru")) {
				a.engine = NRIO_ENGINE_PASSTHRU;
			} else {
				usage(stderr);
				return 2;
			}
			break;
		case 'N': net = true; break;
		case 'r': a.records = strtoul(optarg, NULL, 0); break;
		case 'i': a.ip = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || !a.nlb) {
		usage(stderr);
		return 2;
	}
	a.ns = argv[optind];
	return net ? sample_net(&a) : sample_storage(&a);
}
