// SPDX-License-Identifier: GPL-2.0
/*
 * unified_io_test --net: the region between the network and NVMe, both
 * ways, over a veth pair into a network namespace of its own.
 *
 *   network -> storage (the seed's in-memory database): a peer in the
 *   namespace sends requests over TCP; for each, one chain
 *       NET_RECV -> BPF (the "query", in place) -> NVME WRITE -> NET_SEND
 *   receives it into the data area, transforms it there, persists it
 *   from where it landed and answers with the persisted bytes.
 *
 *   storage -> network: for each stored record, one chain
 *       NVME READ -> BPF (a checksum, in place) -> NET_SEND (UDP)
 *   reads it into the data area and sends it to the peer from there.
 *
 * Every byte is checked end to end: each answer by the peer (the request
 * transformed), the device's contents by a plain READ (what was sent,
 * transformed, is what NVMe holds), each datagram by the peer (what NVMe
 * held is what it received), each BPF checksum by this program.
 *
 * The network is made with ip(8) (--ip): namespace "uni-sample", veth
 * unis0 (here, 10.79.0.1) and unis1 (there, 10.79.0.2); both are removed
 * at exit.  Needs root (CAP_NET_ADMIN, CAP_BPF).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "unified_io_sample.h"
#include "unified_io.skel.h"

#define NETNS		"uni-sample"
#define IF0		"unis0"
#define IF1		"unis1"
#define IP0		"10.79.0.1"
#define IP1		"10.79.0.2"
#define TCP_PORT	9000
#define UDP_PORT	9001
#define MAX_RECORDS	64
#define CHAINS_PER_SUBMIT 16

/* Where the records live in the data area (4 MiB region). */
#define AREA_RECV	0			/* pipeline 1: one per record */
#define AREA_CHECK	(1U << 20)		/* the device read back */
#define AREA_SEND	((2U << 20) + 44)	/* pipeline 2: 4-aligned */

static const char *ip_cmd;
static int made_ns, made_link, ip_quiet;
static pid_t peer_pid;

/* Byte @j of record @i: its index, then a pattern of both. */
static unsigned char rec_byte(unsigned int i, unsigned int j)
{
	if (j < 4)
		return (unsigned char)(i >> (8 * j));
	return (unsigned char)(i * 131 + j * 7 + (j >> 8));
}

static void rec_fill(unsigned char *p, unsigned int i, unsigned int len,
		     unsigned int key)
{
	unsigned int j;

	for (j = 0; j < len; j++)
		p[j] = rec_byte(i, j) ^ key;
}

/* 0, or 1 + the first byte of @p that is not record @i XOR @key. */
static unsigned int rec_check(const unsigned char *p, unsigned int i,
			      unsigned int len, unsigned int key)
{
	unsigned int j;

	for (j = 0; j < len; j++)
		if (p[j] != (unsigned char)(rec_byte(i, j) ^ key))
			return j + 1;
	return 0;
}

/*
 * Run ip(8) with @argv (no shell); its exit status, or -1.  Only
 * async-signal-safe calls: net_down() runs from a signal handler too.
 */
static int ip(const char *const *argv)
{
	const char *av[16];
	int i, st;
	pid_t pid;

	av[0] = ip_cmd;
	for (i = 0; argv[i] && i < 14; i++)
		av[i + 1] = argv[i];
	av[i + 1] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int null = ip_quiet ? open("/dev/null", O_WRONLY) : -1;

		if (null >= 0)
			dup2(null, 2);
		execv(ip_cmd, (char *const *)av);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define IP(...)	ip((const char *const[]){ __VA_ARGS__, NULL })

static void net_down(void)
{
	if (peer_pid > 0) {
		kill(peer_pid, SIGKILL);
		waitpid(peer_pid, NULL, 0);
		peer_pid = 0;
	}
	if (!made_ns && !made_link)
		return;
	/* Quietly: the link goes with the namespace. */
	ip_quiet = 1;
	if (made_ns)
		IP("netns", "del", NETNS);
	if (made_link)
		IP("link", "del", IF0);
	made_ns = made_link = 0;
}

static void on_signal(int sig)
{
	net_down();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int net_up(void)
{
	atexit(net_down);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* Nothing that was there before is taken down at exit. */
	if (IP("netns", "add", NETNS)) {
		fprintf(stderr, "unified_io_test: %s netns add %s failed (not root? "
			"left over from an earlier run? %s netns del %s)\n",
			ip_cmd, NETNS, ip_cmd, NETNS);
		return -1;
	}
	made_ns = 1;
	if (IP("link", "add", IF0, "type", "veth", "peer", "name", IF1,
	       "netns", NETNS)) {
		fprintf(stderr, "unified_io_test: no veth pair %s/%s (a device %s already? "
			"no veth module?)\n", IF0, IF1, IF0);
		return -1;
	}
	made_link = 1;
	if (IP("addr", "add", IP0 "/24", "dev", IF0) ||
	    IP("link", "set", IF0, "up") ||
	    IP("-n", NETNS, "addr", "add", IP1 "/24", "dev", IF1) ||
	    IP("-n", NETNS, "link", "set", "lo", "up") ||
	    IP("-n", NETNS, "link", "set", IF1, "up")) {
		fprintf(stderr, "unified_io_test: configuring %s and %s failed\n",
			IF0, IF1);
		return -1;
	}
	return 0;
}

static struct sockaddr_in addr_of(const char *ip, unsigned short port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static int set_timeout(int s, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	return setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int xfer_all(int s, unsigned char *p, size_t len, bool send)
{
	while (len) {
		ssize_t n = send ? write(s, p, len) : read(s, p, len);

		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * The peer, in the namespace: @records requests of @len bytes over TCP,
 * each answer checked (the request XOR @key); then @records datagrams,
 * each the stored record (also XOR @key), each index once.  An exit code.
 */
static int peer(unsigned int records, unsigned int len, unsigned int key)
{
	struct sockaddr_in tcp = addr_of(IP0, TCP_PORT);
	struct sockaddr_in udp = addr_of(IP1, UDP_PORT);
	static unsigned char req[SAMPLE_MAX_LEN], got[SAMPLE_MAX_LEN + 1];
	unsigned char seen[MAX_RECORDS] = { 0 };
	int fd, t, u, bufsz = 8 << 20, i, bad;
	unsigned long long bytes = 0;

	fd = open("/run/netns/" NETNS, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		return 10;
	close(fd);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	t = socket(AF_INET, SOCK_STREAM, 0);
	if (u < 0 || t < 0)
		return 11;
	/* Every datagram may arrive before the first is read. */
	if (setsockopt(u, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)))
		setsockopt(u, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (bind(u, (struct sockaddr *)&udp, sizeof(udp)) ||
	    set_timeout(u, 10) || set_timeout(t, 10))
		return 12;
	/* The UDP port is bound before the connection is accepted. */
	if (connect(t, (struct sockaddr *)&tcp, sizeof(tcp)))
		return 13;

	for (i = 0; i < (int)records; i++) {
		rec_fill(req, i, len, 0);
		if (xfer_all(t, req, len, true) ||
		    xfer_all(t, got, len, false)) {
			fprintf(stderr, "peer: request %d: %s\n", i,
				strerror(errno));
			return 14;
		}
		bad = rec_check(got, i, len, key);
		if (bad) {
			fprintf(stderr, "peer: the answer to request %d differs at byte %d\n",
				i, bad - 1);
			return 15;
		}
		bytes += len;
	}
	printf("peer: %u requests sent, %u answers checked (%llu bytes each way)\n",
	       records, records, bytes);

	bytes = 0;
	for (i = 0; i < (int)records; i++) {
		ssize_t n = recv(u, got, len + 1, 0);
		unsigned int idx;

		if (n != (ssize_t)len) {
			fprintf(stderr, "peer: datagram %d: %zd bytes (%s), not %u\n",
				i, n, n < 0 ? strerror(errno) : "ok", len);
			return 16;
		}
		idx = (got[0] ^ key) | (got[1] ^ key) << 8 |
		      (got[2] ^ key) << 16 | (unsigned int)(got[3] ^ key) << 24;
		if (idx >= records || seen[idx]) {
			fprintf(stderr, "peer: datagram %d names record %u%s\n",
				i, idx, idx < records ? " twice" : "");
			return 17;
		}
		seen[idx] = 1;
		bad = rec_check(got, idx, len, key);
		if (bad) {
			fprintf(stderr, "peer: datagram of record %u differs at byte %d\n",
				idx, bad - 1);
			return 18;
		}
		bytes += n;
	}
	printf("peer: %u datagrams received, each the stored record (%llu bytes)\n",
	       records, bytes);
	return 0;
}

struct counters {
	unsigned long long zc, copied;
};

static struct counters counters(struct nrio_unified *u)
{
	struct unified_io_info info;
	struct counters c = { 0, 0 };

	if (!nrio_unified_info(u, &info)) {
		c.zc = info.bytes_zero_copy;
		c.copied = info.bytes_copied;
	}
	return c;
}

static int reap_all(struct nrio_unified *u, struct nvme_ring_io_cqe *cqe,
		    unsigned int n)
{
	int ret = nrio_unified_reap(u, cqe, n, n, SAMPLE_TIMEOUT_NS);

	return ret < 0 ? ret : ret == (int)n ? 0 : -ETIME;
}

/* Did a step give @res instead of @want? Say which, and return 1. */
static int step_bad(const char *chain, unsigned int i, const char *step,
		    int res, int want)
{
	if (res == want)
		return 0;
	fprintf(stderr, "unified_io_test: %s %u: %s gave %d (%s), not %d\n",
		chain, i, step, res, res < 0 ? nrio_strerror(res) : "ok",
		want);
	return 1;
}

/* user_data: the record << 4 | the step. */
enum { STEP_RECV = 1, STEP_BPF, STEP_WRITE, STEP_SEND, STEP_READ };

/*
 * Check @n CQ entries of chains for records @first .. @first + @nr - 1:
 * every step moved @len bytes, every BPF step returned the checksum of
 * the record XOR @key.  @buf: @len bytes of room.
 */
static int check_cqes(const char *what, const struct nvme_ring_io_cqe *cqe,
		      unsigned int n, unsigned int first, unsigned int nr,
		      unsigned int len, unsigned int key, unsigned char *buf)
{
	static const char *const names[] = {
		[STEP_RECV] = "NET_RECV", [STEP_BPF] = "BPF",
		[STEP_WRITE] = "NVMe WRITE", [STEP_SEND] = "NET_SEND",
		[STEP_READ] = "NVMe READ",
	};
	unsigned int j;

	for (j = 0; j < n; j++) {
		unsigned int r = cqe[j].user_data >> 4;
		unsigned int step = cqe[j].user_data & 0xf;
		int want = len;

		if (r < first || r >= first + nr || !step || step > STEP_READ) {
			fprintf(stderr, "unified_io_test: a CQ entry of no %s chain (user_data 0x%llx)\n",
				what, (unsigned long long)cqe[j].user_data);
			return 1;
		}
		if (step == STEP_BPF) {
			rec_fill(buf, r, len, key);
			want = sample_checksum(buf, len);
		}
		if (step_bad(what, r, names[step], cqe[j].res, want))
			return 1;
	}
	return 0;
}

static int accept_peer(int lsock)
{
	struct pollfd p = { .fd = lsock, .events = POLLIN };

	if (poll(&p, 1, 10000) != 1)
		return -ETIMEDOUT;
	return accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
}

int sample_net(const struct sample_args *a)
{
	struct sockaddr_in here = addr_of(IP0, TCP_PORT);
	struct sockaddr_in there = addr_of(IP1, UDP_PORT);
	struct nvme_ring_io_cqe cqe[3 * CHAINS_PER_SUBMIT];
	unsigned int i, j, len, k, n, key = a->key;
	struct counters c0, c1, c2;
	unsigned long long netz, nets;
	struct unified_io_info info;
	unsigned char *data, *want;
	struct uio_sample *skel = NULL;
	struct nrio_unified_opts o;
	bool bpf;
	int lsock, tsock, usock, one = 1, ret, st;
	struct nrio_unified *u;

	if (!a->records || a->records > MAX_RECORDS) {
		fprintf(stderr, "unified_io_test: --records must be 1..%d\n",
			MAX_RECORDS);
		return 2;
	}
	ip_cmd = a->ip;
	if (access(ip_cmd, X_OK)) {
		fprintf(stderr, "unified_io_test: no ip(8) at %s (--ip PATH)\n",
			ip_cmd);
		return 2;
	}
	nrio_unified_opts_init(&o);
	o.sq_entries = 64;
	o.region_size = 4 << 20;
	o.engine = a->engine;
	ret = nrio_unified_open(a->ns, O_RDWR, &o, &u);
	if (ret)
		return sample_fail("open", ret);
	ret = nrio_unified_info(u, &info);
	if (ret)
		return sample_fail("INFO", ret);
	len = a->nlb * info.lba_size;
	if (len > SAMPLE_MAX_LEN || len % 64 ||
	    a->lba + (unsigned long long)a->records * a->nlb > info.nr_lbas) {
		fprintf(stderr, "unified_io_test: %u records of %u blocks of %u bytes at %llu do not fit\n",
			a->records, a->nlb, info.lba_size, a->lba);
		return 2;
	}
	printf("unified_io_test: %s: nsid %u, %u-byte LBAs, %s engine; "
	       "network mode: %u records of %u bytes; will write LBAs %llu..%llu\n",
	       a->ns, info.nsid, info.lba_size,
	       a->engine == NRIO_ENGINE_KERNEL ? "kernel" : "passthrough",
	       a->records, len, a->lba,
	       a->lba + (unsigned long long)a->records * a->nlb - 1);
	bpf = info.features & UNIFIED_IO_FEAT_BPF;
	if (bpf) {
		ret = sample_load_bpf(u, &skel);
		if (ret)
			return ret;
	} else {
		/* The network and the device are worth checking anyway. */
		printf("unified_io_test: this module runs no BPF (no BTF): "
		       "the chains run without their BPF steps\n");
		key = 0;
	}

	if (net_up())
		return 1;
	lsock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsock < 0 ||
	    setsockopt(lsock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lsock, (struct sockaddr *)&here, sizeof(here)) ||
	    listen(lsock, 1))
		return sample_fail("listening on " IP0, -errno);
	fflush(stdout);
	peer_pid = fork();
	if (peer_pid < 0)
		return sample_fail("fork", -errno);
	if (!peer_pid) {
		/* Not the parent's clean-up: the namespace is its. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		made_ns = made_link = 0;
		close(lsock);
		ret = peer(a->records, len, key);
		fflush(stdout);
		_exit(ret);
	}
	tsock = accept_peer(lsock);
	if (tsock < 0)
		return sample_fail("accepting the peer", tsock);
	close(lsock);
	usock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (usock < 0 ||
	    connect(usock, (struct sockaddr *)&there, sizeof(there)))
		return sample_fail("UDP socket", -errno);
	ret = nrio_unified_attach_sock(u, 0, tsock);
	if (!ret)
		ret = nrio_unified_attach_sock(u, 1, usock);
	if (ret)
		return sample_fail("attaching the sockets", ret);

	data = nrio_unified_data(u);
	want = malloc(len);
	if (!want)
		return sample_fail("malloc", -ENOMEM);

	/*
	 * Network -> storage, one chain per request: the chains of one
	 * TCP stream run one after the other, or two receives could split
	 * a request between them.
	 */
	c0 = counters(u);
	for (i = 0; i < a->records; i++) {
		uint64_t off = AREA_RECV + (uint64_t)i * len;
		unsigned int n = bpf ? 4 : 3;
		struct unified_io_sqe *sqe;

		sqe = nrio_unified_get_sqe(u);
		nrio_unified_prep_net(sqe, false, 0, off, len, MSG_WAITALL,
				  i << 4 | STEP_RECV);
		nrio_unified_link(sqe);
		if (bpf) {
			sqe = nrio_unified_get_sqe(u);
			nrio_unified_prep_bpf(sqe, 0, off, len, key,
					  i << 4 | STEP_BPF);
			nrio_unified_link(sqe);
		}
		sqe = nrio_unified_get_sqe(u);
		nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_WRITE,
				 a->lba + (uint64_t)i * a->nlb, a->nlb, off,
				 i << 4 | STEP_WRITE);
		nrio_unified_link(sqe);
		sqe = nrio_unified_get_sqe(u);
		nrio_unified_prep_net(sqe, true, 0, off, len, 0,
				  i << 4 | STEP_SEND);
		ret = nrio_unified_submit_and_wait(u, n);
		if (ret != (int)n)
			return sample_fail("SUBMIT of a request's chain",
					   ret < 0 ? ret : -EIO);
		ret = reap_all(u, cqe, n);
		if (ret)
			return sample_fail("reaping a request's chain", ret);
		if (check_cqes("request", cqe, n, i, 1, len, key, want))
			return 1;
	}
	c1 = counters(u);
	nets = c1.copied - c0.copied;
	netz = c1.zc - c0.zc;

	/* What was sent, transformed, is what the device holds. */
	for (i = 0; i < a->records; i++) {
		struct unified_io_sqe *sqe = nrio_unified_get_sqe(u);

		nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_READ,
				 a->lba + (uint64_t)i * a->nlb, a->nlb,
				 AREA_CHECK + (uint64_t)i * len, 5);
		if (nrio_unified_submit_and_wait(u, 1) != 1 ||
		    reap_all(u, cqe, 1) ||
		    step_bad("check read", i, "NVMe READ", cqe[0].res, len))
			return 1;
		j = rec_check(data + AREA_CHECK + (size_t)i * len, i, len, key);
		if (j) {
			fprintf(stderr, "unified_io_test: LBA %llu: the device's record %u differs from what the peer sent at byte %u\n",
				a->lba + (unsigned long long)i * a->nlb, i,
				j - 1);
			return 1;
		}
	}
	printf("network -> storage: %u requests, NET_RECV -> %sNVMe WRITE -> NET_SEND each: "
	       "%u bytes received, %swritten from where they landed and answered; "
	       "the device holds every byte\n", a->records, bpf ? "BPF -> " : "",
	       a->records * len, bpf ? "transformed in place, " : "");

	/* Storage -> network: chains of READ -> BPF -> NET_SEND, batched. */
	c1 = counters(u);	/* not the check reads */
	for (i = 0; i < a->records; i += k) {
		k = a->records - i;
		if (k > CHAINS_PER_SUBMIT)
			k = CHAINS_PER_SUBMIT;
		for (j = i; j < i + k; j++) {
			uint64_t off = AREA_SEND + (uint64_t)j * len;
			struct unified_io_sqe *sqe;

			sqe = nrio_unified_get_sqe(u);
			nrio_unified_prep_rw(u, sqe, NVME_RING_IO_OP_READ,
					 a->lba + (uint64_t)j * a->nlb, a->nlb,
					 off, j << 4 | STEP_READ);
			nrio_unified_link(sqe);
			if (bpf) {
				/* Key 0: a checksum, the bytes unchanged. */
				sqe = nrio_unified_get_sqe(u);
				nrio_unified_prep_bpf(sqe, 0, off, len, 0,
						  j << 4 | STEP_BPF);
				nrio_unified_link(sqe);
			}
			sqe = nrio_unified_get_sqe(u);
			nrio_unified_prep_net(sqe, true, 1, off, len, 0,
					  j << 4 | STEP_SEND);
		}
		n = (bpf ? 3 : 2) * k;
		ret = nrio_unified_submit_and_wait(u, n);
		if (ret != (int)n)
			return sample_fail("SUBMIT of the send chains",
					   ret < 0 ? ret : -EIO);
		ret = reap_all(u, cqe, n);
		if (ret)
			return sample_fail("reaping the send chains", ret);
		if (check_cqes("send", cqe, n, i, k, len, key, want))
			return 1;
	}
	c2 = counters(u);
	/* Each read record, checked in place before it was sent. */
	for (i = 0; i < a->records; i++) {
		const unsigned char *p = data + AREA_SEND + (size_t)i * len;

		j = rec_check(p, i, len, key);
		if (j) {
			fprintf(stderr, "unified_io_test: record %u read for sending differs at byte %u\n",
				i, j - 1);
			return 1;
		}
	}

	if (waitpid(peer_pid, &st, 0) != peer_pid)
		return sample_fail("waiting for the peer", -errno);
	peer_pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "unified_io_test: the peer failed (status 0x%x)\n",
			st);
		return 1;
	}
	printf("storage -> network: %u records, NVMe READ -> %sNET_SEND each: "
	       "%u bytes read by the device into the data area and sent from there; "
	       "the peer received every byte\n", a->records, bpf ? "BPF -> " : "",
	       a->records * len);
	if (a->engine == NRIO_ENGINE_KERNEL)
		printf("module counters: network -> storage %llu bytes moved in place, %llu through a copy; "
		       "storage -> network %llu in place, %llu through a copy "
		       "(the socket layer copies once between skbs and the region)\n",
		       netz, nets, c2.zc - c1.zc, c2.copied - c1.copied);
	else
		printf("passthrough engine: io_uring ran the NVMe and socket steps (the module counts only BPF's)\n");
	free(want);
	close(tsock);
	close(usock);
	nrio_unified_close(u);
	if (skel)
		uio_sample__destroy(skel);
	return 0;
}
