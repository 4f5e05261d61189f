// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP program of xsk_test: IPv4 UDP packets to port_be go to the
 * AF_XDP socket of their receive queue (XSKMAP), everything else (ARP,
 * other ports, fragments) to the stack.  The counters say which way each
 * packet went, so the test can account for every packet it sent.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* [0]: the UDP destination port to redirect, host order. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} port SEC(".maps");

/* Packets [0] redirected, [1] passed, [2] with no socket to go to. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static void count(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&counts, &i);

	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("xdp")
int xsk_udp_port(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	__u32 zero = 0, *want;
	long ret;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto pass;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP ||
	    ip->ihl < 5 || (ip->frag_off & bpf_htons(0x3fff)))
		goto pass;
	udp = (void *)ip + ip->ihl * 4;
	want = bpf_map_lookup_elem(&port, &zero);
	if ((void *)(udp + 1) > end || !want ||
	    udp->dest != bpf_htons((__u16)*want))
		goto pass;
	ret = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	count(ret == XDP_REDIRECT ? 0 : 2);
	return ret;
pass:
	count(1);
	return XDP_PASS;
}
