// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/unified_io_region: AF_XDP on the region, through the library.
 *
 * A veth pair, nrx0 here and nrx1 in the network namespace "nrioxp", made
 * with ip(8).  An AF_XDP socket on nrx0 queue 0 has the region's frame
 * area as its UMEM, and an XDP program (bpf/xsk.bpf.c) sends UDP port 9999
 * to it.  The peer sends from the namespace; received frames go to NVMe by
 * their address; frames NVMe read go back out by theirs.  Zero-copy is
 * refused by veth, and the fallback must say so.  Every packet is
 * accounted for, lost ones included; the interface going down or away,
 * the namespace destroyed, the context closed first and the process killed
 * leave nothing behind.
 */
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nrio_test.h"
#include "../../../lib/nvme_ring_io/nrio_xsk.h"

#include "kselftest_harness.h"

/* Debian's ip(8), by path: the VM's busybox sh prefers its own applet. */
#define IP		"/sbin/ip"
#define NETNS		"nrioxp"
#define IF0		"nrx0"
#define IF1		"nrx1"
#define MAC0		"02:00:00:00:77:01"
#define MAC1		"02:00:00:00:77:02"
#define IP0		"10.77.0.1"
#define IP1		"10.77.0.2"
#define XSK_PORT	9999
#define PEER_PORT	7777
#define HDRS		42	/* Ethernet + IPv4 + UDP */
#define FRAME		2048
#define REGION		(4 * MiB)
#define NS_BASE		((384 * MiB) / 512)	/* scratch LBAs on ns1 */
#define TIMEOUT_NS	(10LL * 1000 * 1000 * 1000)
#define MAX_PKTS	64

static const unsigned char mac0[ETH_ALEN] = { 2, 0, 0, 0, 0x77, 1 };
static const unsigned char mac1[ETH_ALEN] = { 2, 0, 0, 0, 0x77, 2 };

static int sh(const char *cmd)
{
	int ret = system(cmd);

	return WIFEXITED(ret) ? WEXITSTATUS(ret) : -1;
}

static void net_down(void)
{
	sh(IP " netns del " NETNS " 2>/dev/null; " IP " link del " IF0
	   " 2>/dev/null");
	/* The namespace's devices go away asynchronously. */
	for (int i = 0; i < 100 && if_nametoindex(IF0); i++)
		usleep(50000);
}

static int net_up(void)
{
	net_down();
	return sh(IP " netns add " NETNS " && "
		  IP " link add " IF0 " address " MAC0 " type veth peer name "
		  IF1 " address " MAC1 " netns " NETNS " && "
		  IP " addr add " IP0 "/24 dev " IF0 " && "
		  IP " link set " IF0 " up && "
		  IP " neigh replace " IP1 " lladdr " MAC1 " dev " IF0 " && "
		  IP " -n " NETNS " addr add " IP1 "/24 dev " IF1 " && "
		  IP " -n " NETNS " link set lo up && "
		  IP " -n " NETNS " link set " IF1 " up && "
		  IP " -n " NETNS " neigh replace " IP0 " lladdr " MAC0
		  " dev " IF1);
}

/* Move the calling (child) process into the peer's namespace. */
static int enter_peer(void)
{
	int fd = open("/run/netns/" NETNS, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return ret;
}

/* Payload byte @i of packet @seq. */
static unsigned char pay(unsigned int seq, unsigned int i)
{
	return (unsigned char)(seq * 131 + i * 7 + (i >> 8));
}

static void fill_pay(unsigned char *p, unsigned int seq, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		p[i] = pay(seq, i);
}

static int check_pay(const unsigned char *p, unsigned int seq,
		     unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		if (p[i] != pay(seq, i))
			return (int)i + 1;
	return 0;
}

/*
 * Fork a peer that sends @n datagrams from the namespace to IP0:9999, the
 * payload of packet i being lens[i % nlens] bytes of pattern i.  Returns
 * the child's pid.
 */
static pid_t peer_send(unsigned int n, const unsigned int *lens,
		       unsigned int nlens)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	{
		struct sockaddr_in to = {
			.sin_family = AF_INET, .sin_port = htons(XSK_PORT),
		};
		unsigned char buf[2048];
		int s;

		inet_pton(AF_INET, IP0, &to.sin_addr);
		if (enter_peer())
			_exit(10);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0)
			_exit(11);
		for (unsigned int i = 0; i < n; i++) {
			unsigned int len = lens[i % nlens];

			fill_pay(buf, i, len);
			if (sendto(s, buf, len, 0, (struct sockaddr *)&to,
				   sizeof(to)) != (ssize_t)len)
				_exit(12);
			/* Paced: veth's backlog is not what is tested. */
			usleep(2000);
		}
		_exit(0);
	}
}

static int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static uint16_t ip_csum(const void *p, unsigned int len)
{
	const uint16_t *w = p;
	uint32_t sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + IPv4 + UDP headers for @len payload bytes, IP0 -> IP1. */
static void build_hdrs(unsigned char *p, unsigned int len)
{
	struct ethhdr *eth = (void *)p;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	memcpy(eth->h_dest, mac1, ETH_ALEN);
	memcpy(eth->h_source, mac0, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	memset(ip, 0, sizeof(*ip));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof(*ip) + sizeof(*udp) + len);
	inet_pton(AF_INET, IP0, &ip->saddr);
	inet_pton(AF_INET, IP1, &ip->daddr);
	ip->check = ip_csum(ip, sizeof(*ip));
	udp->source = htons(XSK_PORT);
	udp->dest = htons(PEER_PORT);
	udp->len = htons(sizeof(*udp) + len);
	udp->check = 0;
}

/* The XDP program, loaded; its xskmap and counters. */
struct xprog {
	struct bpf_object	*obj;
	int			prog_fd;
	int			xskmap_fd;
	int			counts_fd;
};

static int xprog_load(struct xprog *p)
{
	struct bpf_program *prog;
	__u32 zero = 0, port = XSK_PORT;
	int ret;

	memset(p, 0, sizeof(*p));
	p->obj = bpf_object__open_file("xsk.bpf.o", NULL);
	if (!p->obj)
		return -errno;
	ret = bpf_object__load(p->obj);
	if (ret)
		return ret;
	prog = bpf_object__find_program_by_name(p->obj, "xsk_udp_port");
	if (!prog)
		return -ENOENT;
	p->prog_fd = bpf_program__fd(prog);
	p->xskmap_fd = bpf_object__find_map_fd_by_name(p->obj, "xsks");
	p->counts_fd = bpf_object__find_map_fd_by_name(p->obj, "counts");
	if (p->prog_fd < 0 || p->xskmap_fd < 0 || p->counts_fd < 0)
		return -ENOENT;
	return bpf_map_update_elem(bpf_object__find_map_fd_by_name(p->obj,
								   "port"),
				   &zero, &port, BPF_ANY);
}

static uint64_t xprog_count(const struct xprog *p, __u32 i)
{
	uint64_t v = 0;

	bpf_map_lookup_elem(p->counts_fd, &i, &v);
	return v;
}

/* Receive up to @n packets within @ms; returns how many. */
static unsigned int rx_n(struct nrio_xsk *x, struct xdp_desc *d,
			 unsigned int n, int ms)
{
	unsigned int got = 0;

	while (got < n) {
		unsigned int k = nrio_xsk_rx(x, d + got, n - got);

		got += k;
		if (!k && nrio_xsk_wait_rx(x, ms) <= 0)
			break;
	}
	return got;
}

/* Read @len bytes at LBA @slba of ns1 with O_DIRECT into @buf. */
static int ns1_read(uint64_t slba, void *buf, size_t len)
{
	int fd = open(NS1_BLK, O_RDONLY | O_DIRECT);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, slba * 512);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static int ns1_write(uint64_t slba, const void *buf, size_t len)
{
	int fd = open(NS1_BLK, O_WRONLY | O_DIRECT);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pwrite(fd, buf, len, slba * 512);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static int uni_open_net(struct nrio_unified **u, uint32_t engine)
{
	struct nrio_unified_opts o;

	nrio_unified_opts_init(&o);
	o.region_size = REGION;
	o.net_ifindex = if_nametoindex(IF0);
	o.net_rxq = 0;
	o.frame_size = FRAME;
	o.frame_headroom = NRIO_XSK_UDP4_HEADROOM;
	o.engine = engine;
	return nrio_unified_open(NS1_BLK, O_RDWR, &o, u);
}

/* Give every frame but the first @keep to the fill ring. */
static unsigned int fill_all(struct nrio_xsk *x, unsigned int keep)
{
	uint64_t addrs[256];
	unsigned int i, n = 0, total = nrio_xsk_nr_frames(x);

	if (total > 256)
		total = 256;
	for (i = keep; i < total; i++)
		addrs[n++] = nrio_xsk_frame(x, i);
	return nrio_xsk_fill(x, addrs, n);
}

/* Write each packet's UDP payload to NVMe from where it landed. */
static int store_pkts(struct nrio_unified *u, const struct xdp_desc *d,
		      unsigned int n, uint64_t slba, struct nvme_ring_io_cqe *cqe)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		struct unified_io_sqe *sqe = nrio_unified_get_sqe(u);
		uint32_t pl = d[i].len - HDRS;

		if (!sqe)
			return -EBUSY;
		nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_WRITE,
				     slba + i * 4, (pl + 511) / 512,
				     d[i].addr + HDRS, i);
	}
	ret = nrio_unified_submit(u);
	if (ret != (int)n)
		return ret < 0 ? ret : -EIO;
	return nrio_unified_reap(u, cqe, n, n, TIMEOUT_NS);
}

FIXTURE(xsk) {
	struct nrio_unified		*u;
	struct nrio_xsk		*x;
	struct xprog		p;
	int			base_refcnt;
};

FIXTURE_VARIANT(xsk) {
	uint32_t engine;
};

FIXTURE_VARIANT_ADD(xsk, kernel) { .engine = NRIO_ENGINE_KERNEL };
FIXTURE_VARIANT_ADD(xsk, passthru) { .engine = NRIO_ENGINE_PASSTHRU };

FIXTURE_SETUP(xsk)
{
	struct nrio_xsk_opts o;
	int ret;

	self->base_refcnt = nt_mod_refcnt();
	ASSERT_EQ(0, net_up()) TH_LOG("ip(8) could not make the veth pair");
	ASSERT_EQ(0, uni_open_net(&self->u, variant->engine));
	ASSERT_EQ(0, xprog_load(&self->p));
	nrio_xsk_opts_init(&o);
	o.flags = NRIO_XSK_F_OWN_PROG;
	ASSERT_EQ(0, nrio_xsk_create(self->u, &o, &self->x));
	ret = nrio_xsk_attach_prog(self->x, self->p.prog_fd,
				   self->p.xskmap_fd, 0);
	ASSERT_TRUE(ret == XDP_FLAGS_DRV_MODE || ret == XDP_FLAGS_SKB_MODE)
		TH_LOG("attach: %d", ret);
	TH_LOG("XDP attached in %s mode",
	       ret == XDP_FLAGS_DRV_MODE ? "native" : "generic");
}

FIXTURE_TEARDOWN(xsk)
{
	nrio_xsk_destroy(self->x);
	if (self->p.obj)
		bpf_object__close(self->p.obj);
	if (self->u)
		nrio_unified_close(self->u);
	net_down();
	/* Nothing of this context may keep the module. */
	for (int i = 0; i < 100 && nt_mod_refcnt() != self->base_refcnt; i++)
		usleep(50000);
	EXPECT_EQ(self->base_refcnt, nt_mod_refcnt());
}

/* veth has no AF_XDP zero-copy: the library falls back and says so. */
TEST_F(xsk, copy_mode_reported)
{
	struct nrio_xsk_stats st;
	struct nrio_unified_opts uo;
	struct nrio_xsk_opts o;
	struct nrio_unified *u2;
	struct nrio_xsk *x2;
	int zc_err = -1;

	EXPECT_FALSE(nrio_xsk_zero_copy(self->x, &zc_err));
	EXPECT_EQ(EOPNOTSUPP, zc_err);
	ASSERT_EQ(0, nrio_xsk_stats(self->x, &st));
	EXPECT_EQ(0, st.zero_copy);
	EXPECT_NE(0, st.xdp_mode);

	/* Asked for copy mode: no zero-copy attempt, no errno kept. */
	nrio_xsk_destroy(self->x);
	self->x = NULL;
	nrio_xsk_opts_init(&o);
	o.flags = NRIO_XSK_F_OWN_PROG | NRIO_XSK_F_COPY;
	ASSERT_EQ(0, nrio_xsk_create(self->u, &o, &x2));
	EXPECT_FALSE(nrio_xsk_zero_copy(x2, &zc_err));
	EXPECT_EQ(0, zc_err);
	/* One socket per queue: a second one on it is refused. */
	EXPECT_EQ(-EBUSY, nrio_xsk_create(self->u, &o, &self->x));
	EXPECT_EQ(NULL, self->x);
	nrio_xsk_destroy(x2);

	/* Bad flags, and a region without frames. */
	o.flags = 1U << 7;
	EXPECT_EQ(-EINVAL, nrio_xsk_create(self->u, &o, &x2));
	nrio_unified_opts_init(&uo);
	uo.region_size = REGION;
	ASSERT_EQ(0, nrio_unified_open(NULL, 0, &uo, &u2));
	EXPECT_EQ(-EINVAL, nrio_xsk_create(u2, NULL, &x2));
	nrio_unified_close(u2);
}

/* Received payloads go to NVMe from where they landed, byte for byte. */
TEST_F(xsk, rx_to_nvme)
{
	static const unsigned int lens[] = { 512, 1024, 1472, 100, 1000 };
	const unsigned int n = 20;
	struct nvme_ring_io_cqe cqe[MAX_PKTS];
	struct unified_io_info before, after;
	struct xdp_desc d[MAX_PKTS];
	struct nrio_xsk_stats st;
	uint64_t stored = 0;
	unsigned char *buf;
	unsigned int i;
	pid_t pid;

	ASSERT_LT(0, fill_all(self->x, 0));
	ASSERT_EQ(0, nrio_unified_info(self->u, &before));
	pid = peer_send(n, lens, 5);
	ASSERT_EQ(n, rx_n(self->x, d, n, 5000));
	ASSERT_EQ(0, wait_child(pid));

	for (i = 0; i < n; i++) {
		uint64_t off = d[i].addr % FRAME;

		/* The rule: the payload starts at frame offset 512. */
		ASSERT_EQ(nrio_xsk_pkt_off(self->x), off);
		ASSERT_EQ(512, off + HDRS);
		ASSERT_EQ(HDRS + lens[i % 5], d[i].len);
	}
	ASSERT_EQ(n, store_pkts(self->u, d, n, NS_BASE, cqe));
	for (i = 0; i < n; i++) {
		uint32_t pl = d[cqe[i].user_data].len - HDRS;

		ASSERT_EQ((pl + 511) / 512 * 512, cqe[i].res);
		stored += cqe[i].res;
	}

	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, 4 * 512 * n));
	ASSERT_EQ(0, ns1_read(NS_BASE, buf, 4 * 512 * n));
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, check_pay(buf + i * 4 * 512, i, lens[i % 5]))
			TH_LOG("packet %u differs on NVMe", i);
	free(buf);

	ASSERT_EQ(0, nrio_xsk_stats(self->x, &st));
	EXPECT_EQ(n, st.rx_packets);
	EXPECT_EQ(0, st.rx_dropped);
	EXPECT_EQ(st.rx_bytes, st.copied_bytes);	/* copy mode */
	EXPECT_EQ(n, xprog_count(&self->p, 0));
	if (variant->engine == NRIO_ENGINE_KERNEL) {
		/* NVMe moved the payloads in place: no bounce buffer. */
		ASSERT_EQ(0, nrio_unified_info(self->u, &after));
		EXPECT_EQ(stored, after.bytes_zero_copy -
				  before.bytes_zero_copy);
		EXPECT_EQ(before.bytes_copied, after.bytes_copied);
	}
	TH_LOG("rx %llu packets %llu bytes (kernel copied %llu), stored %llu bytes",
	       (unsigned long long)st.rx_packets,
	       (unsigned long long)st.rx_bytes,
	       (unsigned long long)st.copied_bytes,
	       (unsigned long long)stored);
}

/*
 * Fork a peer that receives @n datagrams on IP1:7777 and checks payload i
 * is @len bytes of pattern 1000 + i.  It writes a byte to @ready once it
 * is bound.
 */
/*
 * Without NRIO_XSK_F_OWN_PROG, libxdp attaches its own program (every
 * packet of the queue to the socket; from its BPF objects, which the VM
 * carries at Debian's path) and takes it away with the last socket.
 */
TEST_F(xsk, libxdp_default_program)
{
	static const unsigned int lens[] = { 600 };
	const unsigned char *data = nrio_unified_data(self->u);
	int ifindex = if_nametoindex(IF0);
	struct xdp_desc d[MAX_PKTS];
	unsigned int udp = 0, other = 0;
	struct nrio_xsk_opts o;
	__u32 id = 1;
	pid_t pid;

	/* Ours goes with our socket. */
	nrio_xsk_destroy(self->x);
	self->x = NULL;
	ASSERT_EQ(0, bpf_xdp_query_id(ifindex, 0, &id));
	ASSERT_EQ(0, id);

	nrio_xsk_opts_init(&o);
	ASSERT_EQ(0, nrio_xsk_create(self->u, &o, &self->x));
	ASSERT_EQ(0, bpf_xdp_query_id(ifindex, 0, &id));
	ASSERT_NE(0, id) TH_LOG("libxdp attached no program");
	ASSERT_LT(0, fill_all(self->x, 0));
	pid = peer_send(8, lens, 1);
	/* Everything on the queue comes here: count the peer's datagrams. */
	while (udp < 8 && rx_n(self->x, d, 1, 5000) == 1) {
		const unsigned char *pkt = data + d[0].addr;
		uint64_t addr = d[0].addr;

		if (d[0].len == HDRS + lens[0] && pkt[12] == 0x08 &&
		    pkt[13] == 0 && pkt[23] == IPPROTO_UDP &&
		    pkt[36] == XSK_PORT >> 8 && pkt[37] == (XSK_PORT & 0xff)) {
			EXPECT_EQ(0, check_pay(pkt + HDRS, udp, lens[0]))
				TH_LOG("datagram %u differs", udp);
			udp++;
		} else {
			other++;
		}
		nrio_xsk_fill(self->x, &addr, 1);
	}
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(8, udp) TH_LOG("%u other packets", other);

	nrio_xsk_destroy(self->x);
	self->x = NULL;
	ASSERT_EQ(0, bpf_xdp_query_id(ifindex, 0, &id));
	EXPECT_EQ(0, id) TH_LOG("libxdp left program %u attached", id);
}

static pid_t peer_recv(unsigned int n, unsigned int len, int ready)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	{
		struct sockaddr_in a = {
			.sin_family = AF_INET, .sin_port = htons(PEER_PORT),
		};
		struct timeval tv = { .tv_sec = 10 };
		unsigned char buf[2048];
		int s;

		inet_pton(AF_INET, IP1, &a.sin_addr);
		if (enter_peer())
			_exit(10);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) ||
		    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
			_exit(11);
		if (write(ready, "r", 1) != 1)
			_exit(12);
		for (unsigned int i = 0; i < n; i++) {
			ssize_t got = recv(s, buf, sizeof(buf), 0);

			if (got != (ssize_t)len)
				_exit(20 + (got < 0));
			if (check_pay(buf, 1000 + i, len))
				_exit(30);
		}
		_exit(0);
	}
}

/* NVMe reads into frames; the same frames go out with their headers. */
TEST_F(xsk, nvme_to_tx)
{
	const unsigned int n = 16, len = 1024;
	unsigned char *data = nrio_unified_data(self->u), *buf;
	struct nvme_ring_io_cqe cqe[MAX_PKTS];
	struct xdp_desc d[MAX_PKTS];
	uint64_t addrs[MAX_PKTS];
	struct nrio_xsk_stats st;
	unsigned int i, done = 0;
	int pipefd[2];
	char c;
	pid_t pid;

	/* The records on NVMe, 1 KiB each at 2 LBA strides. */
	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, n * len));
	for (i = 0; i < n; i++)
		fill_pay(buf + i * len, 1000 + i, len);
	ASSERT_EQ(0, ns1_write(NS_BASE + 4096, buf, n * len));
	free(buf);

	/* Headers in front, then NVMe READ of the payload right behind. */
	for (i = 0; i < n; i++) {
		struct unified_io_sqe *sqe = nrio_unified_get_sqe(self->u);
		uint64_t pkt = nrio_xsk_frame(self->x, i) +
			       nrio_xsk_pkt_off(self->x);

		ASSERT_NE(NULL, sqe);
		memset(data + pkt + HDRS, 0, len);
		build_hdrs(data + pkt, len);
		nrio_unified_prep_rw(self->u, sqe, NVME_RING_IO_OP_READ,
				 NS_BASE + 4096 + i * 2, 2, pkt + HDRS, i);
		d[i].addr = pkt;
		d[i].len = HDRS + len;
		d[i].options = 0;
	}
	ASSERT_EQ(n, nrio_unified_submit(self->u));
	ASSERT_EQ(n, nrio_unified_reap(self->u, cqe, n, n, TIMEOUT_NS));
	for (i = 0; i < n; i++)
		ASSERT_EQ(len, cqe[i].res);

	ASSERT_EQ(0, pipe(pipefd));
	pid = peer_recv(n, len, pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	close(pipefd[1]);
	ASSERT_EQ(n, nrio_xsk_tx(self->x, d, n));
	for (i = 0; i < 200 && done < n; i++) {
		done += nrio_xsk_complete(self->x, addrs + done, n - done);
		if (done < n) {
			nrio_xsk_tx(self->x, NULL, 0);
			usleep(10000);
		}
	}
	EXPECT_EQ(n, done);
	for (i = 0; i < done; i++)
		EXPECT_EQ(d[i].addr, addrs[i]);
	EXPECT_EQ(0, wait_child(pid)) TH_LOG("the peer did not get every byte");
	ASSERT_EQ(0, nrio_xsk_stats(self->x, &st));
	EXPECT_EQ(n, st.tx_packets);
	EXPECT_EQ(n * (HDRS + len), st.tx_bytes);
	EXPECT_EQ(0, st.tx_invalid_descs);
}

/* With too few frames on the fill ring, the rest is counted as dropped. */
TEST_F(xsk, loss_counted)
{
	static const unsigned int lens[] = { 256 };
	const unsigned int n = 12, frames = 4;
	struct xdp_desc d[MAX_PKTS];
	uint64_t addrs[4];
	struct nrio_xsk_stats st;
	unsigned int i, got;
	pid_t pid;

	for (i = 0; i < frames; i++)
		addrs[i] = nrio_xsk_frame(self->x, i);
	ASSERT_EQ(frames, nrio_xsk_fill(self->x, addrs, frames));
	pid = peer_send(n, lens, 1);
	ASSERT_EQ(0, wait_child(pid));
	usleep(200000);
	got = rx_n(self->x, d, n, 500);
	EXPECT_EQ(frames, got);
	ASSERT_EQ(0, nrio_xsk_stats(self->x, &st));
	EXPECT_EQ(n - frames, st.rx_dropped);
	EXPECT_EQ(n, xprog_count(&self->p, 0));
	EXPECT_EQ(n, st.rx_packets + st.rx_dropped);
	TH_LOG("sent %u, received %llu, dropped %llu (fill ring empty %llu)",
	       n, (unsigned long long)st.rx_packets,
	       (unsigned long long)st.rx_dropped,
	       (unsigned long long)st.rx_fill_ring_empty);
}

/*
 * Receive a few packets and put their NVMe writes in flight, then run
 * @cmd (the interface goes down or away).  The writes complete, the socket
 * reports the loss of its interface, and the context lives on.
 */
static void in_flight_then(struct __test_metadata *_metadata,
			   FIXTURE_DATA(xsk) *self, const char *cmd,
			   bool gone)
{
	static const unsigned int lens[] = { 512 };
	const unsigned int n = 8;
	struct nvme_ring_io_cqe cqe[MAX_PKTS];
	struct xdp_desc d[MAX_PKTS];
	unsigned int i;
	int ret;
	pid_t pid;

	ASSERT_LT(0, fill_all(self->x, 8));
	pid = peer_send(n, lens, 1);
	ASSERT_EQ(n, rx_n(self->x, d, n, 5000));
	ASSERT_EQ(0, wait_child(pid));
	for (i = 0; i < n; i++) {
		struct unified_io_sqe *sqe = nrio_unified_get_sqe(self->u);

		ASSERT_NE(NULL, sqe);
		nrio_unified_prep_rw(self->u, sqe, NVME_RING_IO_OP_WRITE,
				 NS_BASE + 8192 + i, 1, d[i].addr + HDRS, i);
	}
	ASSERT_EQ(n, nrio_unified_submit(self->u));
	ASSERT_EQ(0, sh(cmd));
	/*
	 * The kernel unbinds the socket when it unregisters the interface
	 * (for a destroyed namespace, later, from a work item); RX reports
	 * it.
	 */
	if (gone)
		EXPECT_EQ(-ENETDOWN, nrio_xsk_wait_rx(self->x, 10000));

	/* The NVMe writes of frames the socket still owns complete. */
	ASSERT_EQ(n, nrio_unified_reap(self->u, cqe, n, n, TIMEOUT_NS));
	for (i = 0; i < n; i++)
		EXPECT_EQ(512, cqe[i].res);

	/* Sending fails with the interface's state. */
	d[0].addr = nrio_xsk_frame(self->x, 0) + nrio_xsk_pkt_off(self->x);
	d[0].len = HDRS + 64;
	build_hdrs(nrio_unified_data(self->u) + d[0].addr, 64);
	ret = nrio_xsk_tx(self->x, d, 1);
	EXPECT_EQ(gone ? -ENXIO : -ENETDOWN, ret);
	if (gone)	/* and keeps saying so */
		EXPECT_EQ(-ENETDOWN, nrio_xsk_wait_rx(self->x, 0));

	/* The context is unharmed. */
	ASSERT_EQ(1, store_pkts(self->u, d, 1, NS_BASE + 9000, cqe));
	EXPECT_EQ(512, cqe[0].res);
}

/*
 * The harness's 30 s are not enough for these under KASAN on a busy
 * two-core TCG host: each runs ip(8) several times and waits for packets.
 */
TEST_F_TIMEOUT(xsk, link_down_in_flight, 120)
{
	static const unsigned int lens[] = { 512 };
	struct xdp_desc d[4];
	pid_t pid;

	in_flight_then(_metadata, self, IP " link set " IF0 " down", false);
	/* Up again, the same socket receives again. */
	ASSERT_EQ(0, sh(IP " link set " IF0 " up && " IP " neigh replace " IP1
			" lladdr " MAC1 " dev " IF0));
	pid = peer_send(2, lens, 1);
	EXPECT_EQ(2, rx_n(self->x, d, 2, 5000));
	EXPECT_EQ(0, wait_child(pid));
}

TEST_F_TIMEOUT(xsk, link_deleted_in_flight, 120)
{
	in_flight_then(_metadata, self, IP " link del " IF0, true);
}

TEST_F_TIMEOUT(xsk, netns_destroyed_in_flight, 120)
{
	/* The peer's end goes with its namespace, and ours with it. */
	in_flight_then(_metadata, self, IP " netns del " NETNS, true);
}

/* Context closed (region unmapped) before the socket: the UMEM stays. */
TEST_F(xsk, context_closed_first)
{
	static const unsigned int lens[] = { 300 };
	struct xdp_desc d[4];
	pid_t pid;

	ASSERT_LT(0, fill_all(self->x, 0));
	nrio_unified_close(self->u);
	self->u = NULL;
	/* The kernel still owns the pinned frames and fills them. */
	pid = peer_send(3, lens, 1);
	EXPECT_EQ(3, rx_n(self->x, d, 3, 5000));
	EXPECT_EQ(0, wait_child(pid));
	nrio_xsk_destroy(self->x);
	self->x = NULL;
}

/* A process killed with AF_XDP bound and NVMe I/O in flight. */
TEST_F(xsk, killed_in_flight)
{
	struct nrio_xsk_opts xo;
	int pipefd[2], refs;
	char c;
	pid_t pid;

	/* The child takes queue 0 for itself. */
	nrio_xsk_destroy(self->x);
	self->x = NULL;
	refs = nt_mod_refcnt();	/* our context and its mapping */
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct nrio_xsk_opts o;
		struct nrio_unified *u;
		struct nrio_xsk *x;
		unsigned int i;

		if (uni_open_net(&u, NRIO_ENGINE_KERNEL))
			_exit(1);
		nrio_xsk_opts_init(&o);
		o.flags = NRIO_XSK_F_OWN_PROG;
		if (nrio_xsk_create(u, &o, &x) ||
		    bpf_map_update_elem(self->p.xskmap_fd, &(__u32){ 0 },
					&(int){ nrio_xsk_fd(x) }, BPF_ANY))
			_exit(2);
		fill_all(x, 64);
		for (i = 0; i < 64; i++) {
			struct unified_io_sqe *sqe = nrio_unified_get_sqe(u);

			if (!sqe)
				break;
			nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_WRITE,
					 NS_BASE + 16384 + i * 64, 64,
					 (uint64_t)i * 32768, i);
		}
		nrio_unified_submit(u);
		if (write(pipefd[1], "k", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	close(pipefd[0]);
	kill(pid, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, wait_child(pid));

	/* Everything was released: the queue binds again at once. */
	for (int i = 0; i < 100 && nt_mod_refcnt() != refs; i++)
		usleep(50000);
	EXPECT_EQ(refs, nt_mod_refcnt());
	nrio_xsk_opts_init(&xo);
	xo.flags = NRIO_XSK_F_OWN_PROG;
	ASSERT_EQ(0, nrio_xsk_create(self->u, &xo, &self->x));
}

/* --- an XDP program reaching the region through the module's kfuncs ---- */

#define QUERY_PORT	9998
#define ANSWER		64
#define LOG_OFF		MiB

static int xdp_handle(int fd, __u64 *handle, __u32 flags, __u32 resv)
{
	struct unified_io_xdp_handle h = { .flags = flags, .resv = resv };

	if (ioctl(fd, UNIFIED_IO_XDP_HANDLE, &h))
		return -errno;
	*handle = h.handle;
	return 0;
}

static unsigned char region_byte(unsigned int key, unsigned int i)
{
	return (unsigned char)(key * 37 + i * 3 + 1);
}

/*
 * Fork a peer that sends a query for each of @keys (the key, then 64
 * bytes of pattern 500 + key) and checks each answer: the region's bytes
 * at key * 64, or with @want_err, that errno.
 */
static pid_t peer_query(const unsigned int *keys, unsigned int n,
			int want_err)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	{
		struct sockaddr_in to = {
			.sin_family = AF_INET, .sin_port = htons(QUERY_PORT),
		};
		struct timeval tv = { .tv_sec = 2 };
		unsigned char q[4 + ANSWER], a[256];
		int s;

		inet_pton(AF_INET, IP0, &to.sin_addr);
		if (enter_peer())
			_exit(10);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof(to)) ||
		    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
			_exit(11);
		for (unsigned int k = 0; k < n; k++) {
			memcpy(q, &keys[k], 4);
			fill_pay(q + 4, 500 + keys[k], ANSWER);
			if (send(s, q, sizeof(q), 0) != sizeof(q))
				_exit(12);
			if (recv(s, a, sizeof(a), 0) != sizeof(q))
				_exit(13);
			if (want_err) {
				int e;

				memcpy(&e, a + 4, sizeof(e));
				if (e != -want_err)
					_exit(14);
				continue;
			}
			for (unsigned int i = 0; i < ANSWER; i++)
				if (a[4 + i] != region_byte(keys[k], i))
					_exit(20 + k);
		}
		_exit(0);
	}
}

TEST_F(xsk, xdp_kfuncs)
{
	static const unsigned int keys[] = { 3, 17, 40 };
	unsigned char *data = nrio_unified_data(self->u);
	struct unified_io_info info;
	struct bpf_object *obj;
	unsigned int far = (unsigned int)(REGION / ANSWER);
	__u64 handle = 0, again = 0;
	int fd = nrio_unified_fd(self->u), ifindex = if_nametoindex(IF0);
	int prog_fd, map_fd, mode, bare;
	__u32 k0 = 0, k1 = 1;
	__u64 qport = QUERY_PORT;
	unsigned int i, k;
	pid_t pid;

	ASSERT_EQ(0, nrio_unified_info(self->u, &info));
	if (!(info.features & UNIFIED_IO_FEAT_BPF)) {
		EXPECT_EQ(-EOPNOTSUPP, xdp_handle(fd, &handle, 0, 0));
		SKIP(return, "the module runs no BPF here (no module BTF)");
	}
	/* The ioctl's errors. */
	EXPECT_EQ(-EINVAL, xdp_handle(fd, &handle, 1, 0));
	EXPECT_EQ(-EINVAL, xdp_handle(fd, &handle, 0, 1));
	bare = open(UNIFIED_IO_DEVPATH, O_RDWR);
	ASSERT_LE(0, bare);
	EXPECT_EQ(-EBADFD, xdp_handle(bare, &handle, 0, 0));
	close(bare);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(xdp_handle(fd, &handle, 0, 0) == -EPERM ? 0 : 1);
	}
	EXPECT_EQ(0, wait_child(pid)) TH_LOG("unprivileged: not EPERM");
	ASSERT_EQ(0, xdp_handle(fd, &handle, 0, 0));
	ASSERT_EQ(0, xdp_handle(fd, &again, 0, 0));
	EXPECT_EQ(handle, again);

	/* The table the program answers from, and its log cleared. */
	for (k = 0; k < 64; k++)
		for (i = 0; i < ANSWER; i++)
			data[k * ANSWER + i] = region_byte(k, i);
	memset(data + LOG_OFF, 0, 16 * ANSWER);

	/* Our program instead of the socket's. */
	nrio_xsk_destroy(self->x);
	self->x = NULL;
	obj = bpf_object__open_file("xdp_query.bpf.o", NULL);
	ASSERT_NE(NULL, obj);
	ASSERT_EQ(0, bpf_object__load(obj));
	prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj,
								   "xdp_query"));
	map_fd = bpf_object__find_map_fd_by_name(obj, "query");
	ASSERT_LE(0, prog_fd);
	ASSERT_EQ(0, bpf_map_update_elem(map_fd, &k0, &qport, BPF_ANY));
	ASSERT_EQ(0, bpf_map_update_elem(map_fd, &k1, &handle, BPF_ANY));
	/*
	 * Generic mode: veth's native XDP_TX needs NAPI on the peer (an
	 * XDP program or GRO there), which the peer here does not have.
	 */
	mode = XDP_FLAGS_SKB_MODE;
	ASSERT_EQ(0, bpf_xdp_attach(ifindex, prog_fd, mode, NULL));

	pid = peer_query(keys, 3, 0);
	EXPECT_EQ(0, wait_child(pid)) TH_LOG("an answer was not the region's");
	/* What the program stored: each query, at its log slot. */
	for (k = 0; k < 3; k++)
		EXPECT_EQ(0, check_pay(data + LOG_OFF + (keys[k] % 16) * ANSWER,
				       500 + keys[k], ANSWER))
			TH_LOG("query %u not logged", keys[k]);

	/* A key past the data area: the kfunc says EFAULT. */
	pid = peer_query(&far, 1, EFAULT);
	EXPECT_EQ(0, wait_child(pid));

	/* The context gone, its handle reaches nothing. */
	nrio_unified_close(self->u);
	self->u = NULL;
	for (i = 0; i < 5; i++) {
		pid = peer_query(keys, 1, EACCES);
		if (!wait_child(pid))
			break;
		usleep(100000);	/* the last reference may go later */
	}
	EXPECT_GT(5, i);
	bpf_xdp_detach(ifindex, mode, NULL);
	bpf_object__close(obj);
}

/*
 * XDP handles are capabilities: 64 random bits, not a small sequential
 * index beside a 32-bit cookie that an XDP program could loop over.  The
 * handles of 16 contexts must spread over the whole index space, and no
 * two may share either half.
 */
TEST_F(xsk, xdp_handles_unguessable)
{
	struct nrio_unified *c[16] = { };
	struct unified_io_info info;
	__u64 h[16], lo_min = ~0ULL, lo_max = 0;
	unsigned int i, j;

	ASSERT_EQ(0, nrio_unified_info(self->u, &info));
	if (!(info.features & UNIFIED_IO_FEAT_BPF))
		SKIP(return, "the module runs no BPF here (no module BTF)");
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, nrio_unified_open(NULL, O_RDWR, NULL, &c[i]));
		ASSERT_EQ(0, xdp_handle(nrio_unified_fd(c[i]), &h[i], 0, 0));
		if ((h[i] & 0xffffffff) < lo_min)
			lo_min = h[i] & 0xffffffff;
		if ((h[i] & 0xffffffff) > lo_max)
			lo_max = h[i] & 0xffffffff;
	}
	for (i = 0; i < 16; i++)
		for (j = 0; j < i; j++) {
			EXPECT_NE(h[i] & 0xffffffff, h[j] & 0xffffffff);
			EXPECT_NE(h[i] >> 32, h[j] >> 32);
		}
	/* 16 random 32-bit values all within 2^24 of each other: p < 2^-120. */
	EXPECT_LT(1ULL << 24, lo_max - lo_min)
		TH_LOG("the handles' low halves span only %llu (%#llx..%#llx)",
		       (unsigned long long)(lo_max - lo_min),
		       (unsigned long long)lo_min, (unsigned long long)lo_max);
	for (i = 0; i < 16; i++)
		nrio_unified_close(c[i]);
}

/* The shared state of bpf/xdp_steal.bpf.c, by index. */
enum {
	ST_PORT, ST_SPIN_NS, ST_SPIN_CPU, ST_LIVE, ST_HANDLE, ST_SPIN_START,
	ST_CALLS, ST_CALLS_ON_CPU, ST_LOADED, ST_REFUSED, ST_OTHER, ST_NR,
};

#define STEAL_PORT	9997

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * The descriptor kfuncs trust "the task running the program", and in a
 * softirq current is whatever task was interrupted.  A SYSCALL program
 * spins on CPU 0 with its run handle published in a map; RPS steers the
 * peer's packets to CPU 0, so the XDP program, calling unified_io_load()
 * with that handle, runs in softirq on top of the spinning task.  It must
 * be refused (EACCES) every time.
 */
TEST_F_TIMEOUT(xsk, xdp_no_run_handle, 120)
{
	struct unified_io_info info;
	struct nvme_ring_io_cqe cqe;
	struct unified_io_sqe *sqe;
	struct bpf_object *obj;
	int ifindex = if_nametoindex(IF0), spin_fd, xdp_fd, st_fd, ret;
	__u64 val[ST_NR];
	__u32 k;
	pid_t pid;
	int i;

	ASSERT_EQ(0, nrio_unified_info(self->u, &info));
	if (!(info.features & UNIFIED_IO_FEAT_BPF))
		SKIP(return, "the module runs no BPF here (no module BTF)");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	nrio_xsk_destroy(self->x);
	self->x = NULL;

	obj = bpf_object__open_file("xdp_steal.bpf.o", NULL);
	ASSERT_NE(NULL, obj);
	ASSERT_EQ(0, bpf_object__load(obj));
	spin_fd = bpf_program__fd(bpf_object__find_program_by_name(obj,
								   "spin"));
	xdp_fd = bpf_program__fd(bpf_object__find_program_by_name(obj,
								  "xdp_steal"));
	st_fd = bpf_object__find_map_fd_by_name(obj, "st");
	ASSERT_LE(0, spin_fd);
	ASSERT_LE(0, xdp_fd);
	ASSERT_LE(0, st_fd);
	memset(val, 0, sizeof(val));
	val[ST_PORT] = STEAL_PORT;
	val[ST_SPIN_NS] = 3000000000ULL;
	for (k = 0; k < ST_NR; k++)
		ASSERT_EQ(0, bpf_map_update_elem(st_fd, &k, &val[k], BPF_ANY));
	ASSERT_EQ(0, nrio_unified_attach_bpf(self->u, 0, spin_fd));
	ASSERT_EQ(0, bpf_xdp_attach(ifindex, xdp_fd, XDP_FLAGS_SKB_MODE,
				    NULL));
	/* Every packet nrx0 receives is processed on CPU 0. */
	ASSERT_EQ(0, write_file("/sys/class/net/" IF0 "/queues/rx-0/rps_cpus",
				"1"));

	/* The peer sends from CPU 1 until it is killed. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct sockaddr_in to = {
			.sin_family = AF_INET, .sin_port = htons(STEAL_PORT),
		};
		char b[64] = { 0 };
		int s;

		inet_pton(AF_INET, IP0, &to.sin_addr);
		if (pin_cpu(1) || enter_peer())
			_exit(10);
		s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof(to)))
			_exit(11);
		for (int i = 0; i < 50000; i++) {	/* 10 s at most */
			send(s, b, sizeof(b), 0);
			usleep(200);
		}
		_exit(0);
	}

	/*
	 * The program runs in this task, on CPU 0.  Where the softirq goes
	 * to ksoftirqd instead (it cannot run while the program spins), a
	 * run may see no packet on its CPU: run it again, three times at
	 * most.
	 */
	ASSERT_EQ(0, pin_cpu(0));
	for (i = 0; i < 3; i++) {
		sqe = nrio_unified_get_sqe(self->u);
		ASSERT_NE(NULL, sqe);
		nrio_unified_prep_bpf(sqe, 0, 0, 0, 0, 1);
		ret = nrio_unified_submit_and_wait(self->u, 1);
		if (ret != 1)
			break;
		ASSERT_EQ(1, nrio_unified_reap(self->u, &cqe, 1, 1,
					       TIMEOUT_NS));
		EXPECT_EQ(0, cqe.res) TH_LOG("spin returned %d", cqe.res);
		k = ST_CALLS_ON_CPU;
		ASSERT_EQ(0, bpf_map_lookup_elem(st_fd, &k, &val[k]));
		if (val[k])
			break;
	}
	kill(pid, SIGKILL);
	wait_child(pid);
	ASSERT_EQ(1, ret);

	for (k = 0; k < ST_NR; k++)
		ASSERT_EQ(0, bpf_map_lookup_elem(st_fd, &k, &val[k]));
	TH_LOG("runs: %d; XDP calls while the program ran: %llu, %llu on "
	       "its CPU; loaded %llu, refused %llu, other %llu", i < 3 ? i + 1 : 3,
	       (unsigned long long)val[ST_CALLS],
	       (unsigned long long)val[ST_CALLS_ON_CPU],
	       (unsigned long long)val[ST_LOADED],
	       (unsigned long long)val[ST_REFUSED],
	       (unsigned long long)val[ST_OTHER]);
	EXPECT_EQ(0, val[ST_LOADED])
		TH_LOG("an XDP program read the region with a run's handle");
	EXPECT_EQ(0, val[ST_OTHER]);
	/* Else the test proved nothing. */
	EXPECT_LT(0, val[ST_CALLS_ON_CPU])
		TH_LOG("no packet reached XDP on the program's CPU");
	write_file("/sys/class/net/" IF0 "/queues/rx-0/rps_cpus", "0");
	bpf_xdp_detach(ifindex, XDP_FLAGS_SKB_MODE, NULL);
	nrio_unified_attach_bpf(self->u, 0, -1);
	bpf_object__close(obj);
}

TEST_HARNESS_MAIN
