// SPDX-License-Identifier: GPL-2.0
/*
 * BPF programs for bpf_test: BPF_PROG_TYPE_SYSCALL programs that a
 * /dev/unified_io_region context runs for its BPF descriptors, reaching
 * the region's data area through the module's kfuncs.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/unified_io_region.h>

extern int unified_io_load(__u64 handle, __u64 off, void *buf,
			   __u32 buf__sz) __ksym;
extern int unified_io_store(__u64 handle, __u64 off, void *buf,
			    __u32 buf__sz) __ksym;
extern __u8 *unified_io_node(__u64 handle, __u64 off,
			     __u32 rdonly_buf_size) __ksym;

char LICENSE[] SEC("license") = "GPL";

#define CHUNK	64
#define MAX_LEN	16384

/*
 * XOR every byte of the descriptor's range (a multiple of 64 bytes, at
 * most 16 KiB) with the low byte of arg, in place; return the sum of the
 * bytes written (mod 2^31), or the kfunc's error.
 */
SEC("syscall")
int xor_range(struct unified_io_bpf_ctx *ctx)
{
	__u8 key = (__u8)ctx->arg;
	__u32 len = ctx->data_len, sum = 0, i, j;
	__u8 buf[CHUNK];
	int ret;

	if (len % CHUNK || len > MAX_LEN)
		return -22;
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

/* Return arg as the result: a negative one fails the descriptor. */
SEC("syscall")
int ret_arg(struct unified_io_bpf_ctx *ctx)
{
	return (int)ctx->arg;
}

/*
 * Sum the 64 bytes at data_off + arg through one node pointer; -ENOENT
 * (-2) when the kfunc gives none.
 */
SEC("syscall")
int node_sum(struct unified_io_bpf_ctx *ctx)
{
	__u8 *p = unified_io_node(ctx->handle, ctx->data_off + ctx->arg, 64);
	__u32 sum = 0;
	int i;

	if (!p)
		return -2;
	for (i = 0; i < 64; i++)
		sum += p[i];
	return sum;
}

/* Return the id of the thread that runs the program. */
SEC("syscall")
int thread_id(struct unified_io_bpf_ctx *ctx)
{
	return (int)(bpf_get_current_pid_tgid() & 0x7fffffff);
}

/* Read 8 bytes at data_size - 4: across the end of the data area. */
SEC("syscall")
int past_the_end(struct unified_io_bpf_ctx *ctx)
{
	__u64 v;

	return unified_io_load(ctx->handle, ctx->data_size - 4, &v, sizeof(v));
}

/* Use a handle that is not ours. */
SEC("syscall")
int other_handle(struct unified_io_bpf_ctx *ctx)
{
	__u64 v = 0;

	return unified_io_store(ctx->handle ^ 1, 0, &v, sizeof(v));
}

/* Not a SYSCALL program: attaching it must fail. */
SEC("xdp")
int not_syscall(struct xdp_md *xdp)
{
	return XDP_PASS;
}
