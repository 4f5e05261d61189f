// SPDX-License-Identifier: GPL-2.0
/*
 * The XDP program of the full-stack example (full_stack.c).
 *
 * IPv4 UDP datagrams to port 9999 that are not fragments go to the AF_XDP
 * socket of their receive queue (XSKMAP, key = rx_queue_index; XDP_PASS
 * when no socket is bound there), after their metadata (addresses, ports,
 * payload length, bpf_ktime_get_ns()) went to userspace through a BPF ring
 * buffer.  Everything else goes to the stack: other protocols and ports,
 * IPv4 fragments (MF set or a fragment offset: a later fragment has no UDP
 * header, a first one not the whole datagram), IPv6 and VLAN-tagged frames
 * (not parsed: this example handles untagged IPv4 only).  IP options are
 * skipped by the header length (ihl * 4).
 *
 * Only UAPI headers, no CO-RE: the program needs no kernel BTF.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "full_stack.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, FS_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FS_RINGBUF_BYTES);
} events SEC(".maps");

/* What happened to each packet: FS_XDP_* (full_stack.h), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FS_XDP_NR);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *c = bpf_map_lookup_elem(&counts, &i);

	if (c)
		*c += 1;
}

SEC("xdp")
int fs_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct fs_event *ev;
	struct iphdr *ip;
	struct udphdr *udp;
	__u32 ihl;
	long ret;

	if ((void *)(eth + 1) > end)
		goto pass;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		goto pass;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->version != 4 ||
	    ip->protocol != IPPROTO_UDP)
		goto pass;
	ihl = ip->ihl;
	if (ihl < 5)
		goto pass;
	if (ip->frag_off & bpf_htons(0x3fff)) {	/* MF or an offset */
		count(FS_XDP_FRAG);
		goto pass_counted;
	}
	udp = (void *)ip + ihl * 4;
	if ((void *)(udp + 1) > end || udp->dest != bpf_htons(FS_PORT))
		goto pass;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (ev) {
		ev->saddr = ip->saddr;
		ev->daddr = ip->daddr;
		ev->sport = udp->source;
		ev->dport = udp->dest;
		ev->payload_len = bpf_ntohs(udp->len) - sizeof(*udp);
		ev->rx_queue = ctx->rx_queue_index;
		ev->ts_ns = bpf_ktime_get_ns();
		bpf_ringbuf_submit(ev, 0);
	} else {
		count(FS_XDP_EVENT_LOST);
	}
	ret = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	count(ret == XDP_REDIRECT ? FS_XDP_REDIRECT : FS_XDP_NO_SOCKET);
	return ret;
pass:
	count(FS_XDP_PASS);
pass_counted:
	return XDP_PASS;
}
