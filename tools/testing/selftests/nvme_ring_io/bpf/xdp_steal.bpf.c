// SPDX-License-Identifier: GPL-2.0
/*
 * For xsk_test's xdp_no_run_handle: a SYSCALL program that publishes its
 * run's handle and spins, and an XDP program that tries that handle with
 * the descriptor kfunc unified_io_load() on every UDP packet to the port
 * in "port".  The module must refuse the XDP program every time, even
 * when its softirq runs on top of the task that is running the SYSCALL
 * program (current is then that task).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <linux/unified_io_region.h>

extern int unified_io_load(__u64 handle, __u64 off, void *buf,
			   __u32 buf__sz) __ksym;

char LICENSE[] SEC("license") = "GPL";

#define EACCES	13

/* The state both programs and the test share, by index (xsk_test's ST_*). */
enum {
	ST_PORT,		/* set by the test */
	ST_SPIN_NS,		/* set by the test: spin gives up after this */
	ST_SPIN_CPU,
	ST_LIVE,		/* 1 while spin runs */
	ST_HANDLE,		/* spin's run handle */
	ST_SPIN_START,
	ST_CALLS,		/* XDP calls while spin ran */
	ST_CALLS_ON_CPU,	/* ... on spin's CPU */
	ST_LOADED,		/* ... that the kfunc served */
	ST_REFUSED,		/* ... refused with EACCES */
	ST_OTHER,		/* ... failed otherwise */
	ST_NR,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ST_NR);
	__type(key, __u32);
	__type(value, __u64);
} st SEC(".maps");

static __u64 *v(__u32 k)
{
	return bpf_map_lookup_elem(&st, &k);
}

static long spin_cb(__u32 i, void *unused)
{
	__u64 *on = v(ST_CALLS_ON_CPU), *start = v(ST_SPIN_START);
	__u64 *ns = v(ST_SPIN_NS);

	/* Enough calls landed on our CPU, or it took too long: stop. */
	if (!on || !start || !ns || *on >= 64 ||
	    bpf_ktime_get_ns() - *start > *ns)
		return 1;
	return 0;
}

SEC("syscall")
int spin(struct unified_io_bpf_ctx *ctx)
{
	__u64 *handle = v(ST_HANDLE), *cpu = v(ST_SPIN_CPU);
	__u64 *start = v(ST_SPIN_START), *live = v(ST_LIVE);
	__u8 buf[8];
	int i;

	if (!handle || !cpu || !start || !live)
		return -1;
	/* The handle works for this task, now. */
	if (unified_io_load(ctx->handle, 0, buf, sizeof(buf)))
		return -2;
	*handle = ctx->handle;
	*cpu = bpf_get_smp_processor_id();
	*start = bpf_ktime_get_ns();
	__sync_fetch_and_add(live, 1);
	for (i = 0; i < 64; i++)
		if (bpf_loop(1 << 20, spin_cb, NULL, 0) < (1 << 20))
			break;
	__sync_fetch_and_sub(live, 1);
	return 0;
}

static void count(__u32 k)
{
	__u64 *p = v(k);

	if (p)
		__sync_fetch_and_add(p, 1);
}

SEC("xdp")
int xdp_steal(struct xdp_md *xctx)
{
	void *data = (void *)(long)xctx->data;
	void *end = (void *)(long)xctx->data_end;
	__u64 *port = v(ST_PORT), *live = v(ST_LIVE);
	__u64 *handle = v(ST_HANDLE), *cpu = v(ST_SPIN_CPU);
	struct ethhdr *eth = data;
	struct udphdr *udp;
	struct iphdr *ip;
	__u8 buf[8];
	int ret;

	if (!port || !live || !handle || !cpu)
		return XDP_PASS;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP ||
	    ip->ihl != 5)
		return XDP_PASS;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end || udp->dest != bpf_htons((__u16)*port))
		return XDP_PASS;
	if (!*live)
		return XDP_DROP;
	ret = unified_io_load(*handle, 0, buf, sizeof(buf));
	count(ST_CALLS);
	if (bpf_get_smp_processor_id() == *cpu)
		count(ST_CALLS_ON_CPU);
	if (!ret)
		count(ST_LOADED);
	else if (ret == -EACCES)
		count(ST_REFUSED);
	else
		count(ST_OTHER);
	return XDP_DROP;
}
