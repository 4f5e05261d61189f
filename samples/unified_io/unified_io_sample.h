/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the two modes of unified_io_test share: the storage chain
 * (unified_io_test.c) and the network pipelines (unified_io_net.c).
 */
#ifndef UNIFIED_IO_SAMPLE_H
#define UNIFIED_IO_SAMPLE_H

#include <stdint.h>
#include <stdio.h>

#include "nvme_ring_io.h"

#define SAMPLE_TIMEOUT_NS	(10LL * 1000 * 1000 * 1000)
#define SAMPLE_MAX_LEN		(16 * 1024)	/* the BPF program's limit */

struct sample_args {
	unsigned long long	lba;
	unsigned int		nlb;		/* LBAs per record */
	unsigned int		key;		/* the BPF program's XOR key */
	unsigned int		engine;		/* enum nrio_engine */
	unsigned int		records;	/* --net: requests */
	const char		*ip;		/* --net: ip(8) */
	const char		*ns;		/* the namespace's path */
};

/* Print "unified_io_test: @what: <error>", return 1. */
static inline int sample_fail(const char *what, int err)
{
	fprintf(stderr, "unified_io_test: %s: %s\n", what, nrio_strerror(err));
	return 1;
}

/* The BPF program's checksum: the sum of the bytes, mod 2^31. */
static inline uint32_t sample_checksum(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum += p[i];
	return sum & 0x7fffffff;
}

struct uio_sample;

/*
 * Load the sample's BPF program (the embedded skeleton) and attach it to
 * slot 0 of @u; 0, or an exit code after saying what failed.
 */
int sample_load_bpf(struct nrio_unified *u, struct uio_sample **skel);

/* Run the network pipelines (--net); an exit code. */
int sample_net(const struct sample_args *a);

#endif /* UNIFIED_IO_SAMPLE_H */
