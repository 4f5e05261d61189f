// SPDX-License-Identifier: GPL-2.0
/*
 * An XDP program that answers from a unified region (xsk_test): UDP
 * packets to the port in query[0] carry a __u32 key; the program logs the
 * query's next 64 bytes at the region's data offset LOG_OFF + (key % 16)
 * * 64, replaces them with the region's 64 bytes at key * 64 (the module's
 * unified_io_xdp_store and _load, on the context's XDP handle in
 * query[1]), or with the kfunc's errno, and sends the packet back
 * (XDP_TX).  Everything else goes to the stack.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

extern int unified_io_xdp_load(__u64 handle, __u64 off, void *buf,
			       __u32 buf__sz) __ksym;
extern int unified_io_xdp_store(__u64 handle, __u64 off, void *buf,
				__u32 buf__sz) __ksym;

char LICENSE[] SEC("license") = "GPL";

#define ANSWER	64
#define LOG_OFF	(1024 * 1024)

/* [0]: the query port (host order), [1]: the context's XDP handle. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} query SEC(".maps");

/* Answer the query in @udp's payload from the region; XDP_TX. */
static int answer(struct ethhdr *eth, struct iphdr *ip, struct udphdr *udp,
		  void *end, __u64 handle)
{
	__u8 buf[ANSWER], mac[ETH_ALEN];
	__u32 *key = (void *)(udp + 1), addr;
	__u8 *out = (void *)(key + 1);
	__u16 p;
	int ret, i;

	if ((void *)(out + ANSWER) > end)
		return XDP_PASS;
	for (i = 0; i < ANSWER; i++)
		buf[i] = out[i];
	ret = unified_io_xdp_store(handle, LOG_OFF + (*key % 16) * ANSWER, buf,
				   ANSWER);
	if (!ret)
		ret = unified_io_xdp_load(handle, (__u64)*key * ANSWER, buf,
					  ANSWER);
	if (ret) {
		__builtin_memset(buf, 0, ANSWER);
		*(int *)buf = ret;
	}
	for (i = 0; i < ANSWER; i++)
		out[i] = buf[i];
	/* Back where it came from; no UDP checksum (IPv4 allows it). */
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	p = udp->source;
	udp->source = udp->dest;
	udp->dest = p;
	udp->check = 0;
	return XDP_TX;
}

SEC("xdp")
int xdp_query(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0, one = 1;
	__u64 *qport, *handle;
	struct udphdr *udp;
	struct iphdr *ip;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP ||
	    ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return XDP_PASS;
	udp = (void *)(ip + 1);
	qport = bpf_map_lookup_elem(&query, &zero);
	handle = bpf_map_lookup_elem(&query, &one);
	if ((void *)(udp + 1) > end || !qport || !handle ||
	    udp->dest != bpf_htons((__u16)*qport))
		return XDP_PASS;
	return answer(eth, ip, udp, end, *handle);
}
