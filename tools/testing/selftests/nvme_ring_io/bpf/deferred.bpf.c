// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for deferred_test: BPF steps that say whose credentials they
 * run with (bpf_sys_bpf(BPF_MAP_GET_FD_BY_ID) needs CAP_SYS_ADMIN), and a
 * read-next step whose reads are counted by the submitter's io.stat.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/unified_io_region.h>

char LICENSE[] SEC("license") = "GPL";

/* A result of try_get_fd(): the fd was had (and closed again). */
#define GOT_FD		1000

/*
 * BPF_MAP_GET_FD_BY_ID of map @id, as the step runs: GOT_FD, or the
 * positive errno (a positive result lets the chain go on).  The fd goes
 * into the file table of the task the step runs in; it is closed here,
 * in the same run, wherever that is.
 */
static __always_inline int try_get_fd(__u32 id)
{
	/* The command's part of union bpf_attr: map_id, next_id, open_flags. */
	__u32 attr[3] = { id, 0, 0 };
	long fd;

	fd = bpf_sys_bpf(BPF_MAP_GET_FD_BY_ID, attr, sizeof(attr));
	if (fd < 0)
		return -fd;
	bpf_sys_close(fd);
	return GOT_FD;
}

/* A plain BPF step: arg is the map id. */
SEC("syscall")
int get_fd(struct unified_io_bpf_ctx *ctx)
{
	return try_get_fd((__u32)ctx->arg);
}

/*
 * A read-next step (max_hops >= 1) doing the same on its first run (in
 * SUBMIT when it starts a chain) and on its second (in the hop work item,
 * after one read of LBA 0 into data offset 0): the result is the first
 * run's outcome << 16 | the second's.
 */
SEC("syscall")
int get_fd_hop(struct unified_io_bpf_ctx *ctx)
{
	int r = try_get_fd((__u32)ctx->arg);

	if (ctx->hops == 0) {
		ctx->scratch[0] = r;
		ctx->next_slba = 0;
		ctx->next_nlb = 1;
		ctx->next_data_off = 0;
		return UNIFIED_IO_BPF_READ_NEXT;
	}
	return (int)(ctx->scratch[0] << 16 | r);
}

/*
 * Reads for io.stat: arg's low 32 bits LBAs each, its high 32 bits the
 * number of reads, one after the other from LBA 0 into data offset 0.
 * The result is the number of reads.
 */
SEC("syscall")
int read_n(struct unified_io_bpf_ctx *ctx)
{
	__u32 nlb = (__u32)ctx->arg, n = ctx->arg >> 32;

	if (ctx->hops >= n)
		return ctx->hops;
	ctx->next_slba = (__u64)ctx->hops * nlb;
	ctx->next_nlb = nlb;
	ctx->next_data_off = 0;
	return UNIFIED_IO_BPF_READ_NEXT;
}
