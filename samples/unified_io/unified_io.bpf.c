// SPDX-License-Identifier: GPL-2.0
/*
 * The sample's BPF program: run by /dev/unified_io_region for a BPF
 * descriptor, it transforms the descriptor's range of the data area in
 * place (each byte XORed with the low byte of arg) and returns a checksum
 * of what it wrote (the sum of its bytes, mod 2^31), which becomes the
 * descriptor's result.  The loops are bounded so the verifier has little
 * to walk: at most 16 KiB, in 64-byte chunks.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/unified_io_region.h>

extern int unified_io_load(__u64 handle, __u64 off, void *buf,
			   __u32 buf__sz) __ksym;
extern int unified_io_store(__u64 handle, __u64 off, void *buf,
			    __u32 buf__sz) __ksym;

char LICENSE[] SEC("license") = "GPL";

#define CHUNK	64
#define MAX_LEN	(16 * 1024)

SEC("syscall")
int transform(struct unified_io_bpf_ctx *ctx)
{
	__u32 len = ctx->data_len, sum = 0, i, j;
	__u8 key = (__u8)ctx->arg;
	__u8 buf[CHUNK];
	int ret;

	if (len % CHUNK || len > MAX_LEN)
		return -22;	/* EINVAL */
	for (i = 0; i < MAX_LEN / CHUNK; i++) {
		__u64 off = ctx->data_off + (__u64)i * CHUNK;

		if (i * CHUNK >= len)
			break;
		ret = unified_io_load(ctx->handle, off, buf, CHUNK);
		if (ret)
			return ret;
		for (j = 0; j < CHUNK; j++) {
			buf[j] ^= key;
			sum += buf[j];
		}
		ret = unified_io_store(ctx->handle, off, buf, CHUNK);
		if (ret)
			return ret;
	}
	return sum & 0x7fffffff;
}
