// SPDX-License-Identifier: GPL-2.0
/*
 * full_stack: the seed-004 example, for real.  Network packets -> XDP
 * (full_stack.bpf.c: UDP port 9999 only, metadata to a BPF ring buffer)
 * -> AF_XDP socket whose UMEM is the unified region's frame area -> an
 * NVMe WRITE of the received bytes where they landed, appended to a log
 * on the device.  Documentation/block/full-stack.rst has the whole story.
 *
 * Threads:
 *   packet thread      takes RX descriptors in batches, writes a record
 *                      header over the parsed Ethernet/IP/UDP headers in
 *                      front of the payload, zeroes the padding to the next
 *                      LBA and queues an NVMe WRITE of header + payload
 *                      from the frame (the SQ's only producer);
 *   completion thread  reaps CQ entries (the CQ's only consumer), counts
 *                      stored records and errors, gives frames back to the
 *                      fill ring;
 *   main thread        BPF ring buffer events, the stats line once a
 *                      second, signals, the final summary.
 * With the kernel engine the split is safe: nrio_unified_get_sqe() and
 * nrio_unified_submit() touch only the SQ ring, nrio_unified_reap() only the CQ
 * ring and the COMPLETE ioctl.  The fill ring gets frames from both
 * threads (drops are recycled by the packet thread): fill_lock.
 *
 * Two more modes for the test: --send (a traffic generator, optionally
 * from inside a network namespace) and --verify (reads the log back with
 * O_DIRECT and checks every record against what --send sends).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <linux/nvme_ring_io.h>
#include <linux/unified_io_region.h>
#include "nrio_xsk.h"

#include "full_stack.h"
#include "full_stack.skel.h"

#define FRAME_SIZE	2048U
#define HDRS_MIN	42U	/* Ethernet + IPv4 (no options) + UDP */
#define MAX_BATCH	256U
#define DEF_FRAMES	2048U
#define DRAIN_NS	(5LL * 1000 * 1000 * 1000)
#define MAX_SIZES	32

enum {
	DROP_NOT_UDP,	/* not IPv4/UDP to 9999 (the XDP filter's job) */
	DROP_MALFORMED,	/* lengths that do not add up */
	DROP_TOO_LONG,	/* record does not fit the frame's room */
	DROP_ALIGN,	/* record start not at dma_alignment */
	DROP_LOG_FULL,	/* no LBAs left in --lba/--lba-count */
	DROP_SQ_FULL,	/* no SQ entry within a second */
	DROP_NR,
};

static const char *const drop_name[DROP_NR] = {
	"not-udp9999", "malformed", "too-long", "misaligned", "log-full",
	"sq-full",
};

struct fs {
	/* set up by main, read-only in the threads */
	struct nrio_unified		*u;
	struct nrio_xsk		*x;
	uint8_t			*data;
	uint32_t		lba_size;
	uint32_t		stride;		/* frames per used frame */
	uint32_t		dma_align;
	uint64_t		max_transfer;
	uint64_t		lba0, lba_end;
	uint32_t		run_id;
	uint32_t		batch;
	uint64_t		max_packets;	/* 0: no limit */
	pthread_mutex_t		fill_lock;

	/* packet thread */
	uint64_t		next_lba;
	uint32_t		seq;

	/* counters: written by one thread, read by main (relaxed atomics) */
	uint64_t		rx, rx_bytes;
	uint64_t		queued;		/* WRITEs put on the SQ */
	uint64_t		completed;	/* their CQ entries */
	uint64_t		stored, stored_bytes, dev_bytes;
	uint64_t		errors;
	uint64_t		drop[DROP_NR];
	uint64_t		fill_short;	/* times the fill ring was short */
	uint64_t		*held;		/* frames it refused, to retry */
	unsigned int		nr_held;
	uint64_t		ip_options;	/* records of packets with them */
	int			first_error;

	/* events (main thread only) */
	uint64_t		events, event_bad;
	uint64_t		first_ev_ns, last_ev_ns;

	volatile int		pkt_done;
	volatile int		fatal;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void add(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, *p + v, __ATOMIC_RELAXED);	/* one writer */
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* FNV-1a, 32 bits. */
static uint32_t csum(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261U;

	while (len--) {
		h ^= *p++;
		h *= 16777619U;
	}
	return h;
}

/* Byte @i (>= 4) of generator datagram @seq; bytes 0..3: @seq, LE. */
static uint8_t pat(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + (i >> 8));
}

/*
 * Frames back to the fill ring.  The kernel publishes how far it consumed
 * the fill ring only when it has used up what it read of it, so the ring
 * can look full with its frames long received: it has twice as many
 * entries as there are frames, and what it still refuses is held here and
 * given again with the next frames.
 */
static void fill_frames(struct fs *f, const uint64_t *addrs, unsigned int n)
{
	unsigned int got;

	pthread_mutex_lock(&f->fill_lock);
	if (f->nr_held) {
		got = nrio_xsk_fill(f->x, f->held, f->nr_held);
		memmove(f->held, f->held + got,
			(f->nr_held - got) * sizeof(*f->held));
		f->nr_held -= got;
	}
	got = f->nr_held ? 0 : nrio_xsk_fill(f->x, addrs, n);
	if (got < n) {
		memcpy(f->held + f->nr_held, addrs + got,
		       (n - got) * sizeof(*addrs));
		f->nr_held += n - got;
		add(&f->fill_short, 1);
	}
	pthread_mutex_unlock(&f->fill_lock);
}

/*
 * Turn the packet in frame @d into a record and queue its WRITE; returns
 * 0, or DROP_* + 1 when it is dropped (the caller recycles the frame).
 */
static int store_one(struct fs *f, const struct xdp_desc *d)
{
	uint64_t base = d->addr - d->addr % FRAME_SIZE;
	uint8_t *pkt = f->data + d->addr;
	const struct ethhdr *eth = (const void *)pkt;
	const struct iphdr *ip = (const void *)(eth + 1);
	const struct udphdr *udp;
	struct unified_io_sqe *sqe;
	struct fs_rec rec;
	uint32_t ihl, pl, rec_len, nlb;
	uint64_t pay_off, rec_off;
	int64_t t0 = 0;

	if (d->len < HDRS_MIN || eth->h_proto != htons(ETH_P_IP) ||
	    ip->version != 4 || ip->protocol != IPPROTO_UDP ||
	    (ip->frag_off & htons(0x3fff)))
		return DROP_NOT_UDP + 1;
	ihl = ip->ihl * 4U;
	if (ihl < 20 || d->len < ETH_HLEN + ihl + sizeof(*udp))
		return DROP_MALFORMED + 1;
	udp = (const void *)((const uint8_t *)ip + ihl);
	if (udp->dest != htons(FS_PORT))
		return DROP_NOT_UDP + 1;
	pl = ntohs(udp->len);
	if (pl < sizeof(*udp) ||
	    pl - sizeof(*udp) > d->len - (ETH_HLEN + ihl + sizeof(*udp)))
		return DROP_MALFORMED + 1;
	pl -= sizeof(*udp);
	pay_off = d->addr + ETH_HLEN + ihl + sizeof(*udp);
	rec_off = pay_off - FS_REC_HDR;
	if (rec_off % f->dma_align)
		return DROP_ALIGN + 1;
	rec_len = (FS_REC_HDR + pl + f->lba_size - 1) / f->lba_size *
		  f->lba_size;
	if (rec_off + rec_len > base + (uint64_t)f->stride * FRAME_SIZE ||
	    rec_len > f->max_transfer)
		return DROP_TOO_LONG + 1;
	nlb = rec_len / f->lba_size;
	if (f->next_lba + nlb > f->lba_end)
		return DROP_LOG_FULL + 1;

	/* The header goes over the parsed headers: read them first. */
	memset(&rec, 0, sizeof(rec));
	rec.magic = FS_REC_MAGIC;
	rec.run_id = f->run_id;
	rec.seq = f->seq;
	rec.len = (uint16_t)pl;
	rec.nlb = (uint16_t)nlb;
	rec.saddr = ip->saddr;
	rec.daddr = ip->daddr;
	rec.sport = udp->source;
	rec.dport = udp->dest;
	rec.csum = csum(f->data + pay_off, pl);
	rec.rx_ns = (uint64_t)now_ns();
	memcpy(f->data + rec_off, &rec, sizeof(rec));
	/* Padding to the LBA boundary: zeroes, not a copy of the data. */
	memset(f->data + pay_off + pl, 0, rec_len - FS_REC_HDR - pl);

	while (!(sqe = nrio_unified_get_sqe(f->u))) {
		/* The CQ is full: the completion thread frees it. */
		if (!t0)
			t0 = now_ns();
		else if (now_ns() - t0 > 1000000000LL)
			return DROP_SQ_FULL + 1;
		nrio_unified_submit(f->u);
		usleep(100);
	}
	/* user_data: the frame, and the payload bytes for the counters. */
	nrio_unified_prep_rw(f->u, sqe, NVME_RING_IO_OP_WRITE, f->next_lba, nlb,
			 rec_off, (base / FRAME_SIZE) << 16 | pl);
	f->next_lba += nlb;
	f->seq++;
	if (ihl > 20)
		add(&f->ip_options, 1);
	return 0;
}

static void take_batch(struct fs *f, struct xdp_desc *descs, unsigned int n)
{
	uint64_t recycle[MAX_BATCH];
	unsigned int i, nr = 0, q = 0;
	int ret;

	add(&f->rx, n);
	for (i = 0; i < n; i++) {
		add(&f->rx_bytes, descs[i].len);
		ret = store_one(f, &descs[i]);
		if (ret) {
			add(&f->drop[ret - 1], 1);
			recycle[nr++] = descs[i].addr;
		} else {
			q++;
		}
	}
	if (q) {
		ret = nrio_unified_submit(f->u);
		/* Left on the SQ ring on failure; the next submit takes them. */
		if (ret < 0 && !f->first_error)
			f->first_error = ret;
		add(&f->queued, q);
	}
	fill_frames(f, recycle, nr);
}

static void *packet_thread(void *arg)
{
	struct fs *f = arg;
	struct xdp_desc descs[MAX_BATCH];
	unsigned int n, max;
	int ret;

	while (!stop && !f->fatal) {
		max = f->batch;
		if (f->max_packets && f->max_packets - f->rx < max)
			max = (unsigned int)(f->max_packets - f->rx);
		if (!max)
			break;
		n = nrio_xsk_rx(f->x, descs, max);
		if (n) {
			take_batch(f, descs, n);
			continue;
		}
		ret = nrio_xsk_wait_rx(f->x, 100);
		if (!ret)
			fill_frames(f, NULL, 0);	/* any held frames */
		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "full_stack: the AF_XDP socket: %s\n",
				strerror(-ret));
			f->fatal = 1;
		}
	}
	/* What is on the RX ring at the stop is taken and stored too. */
	while (!f->fatal && (!f->max_packets || f->rx < f->max_packets)) {
		max = f->batch;
		if (f->max_packets && f->max_packets - f->rx < max)
			max = (unsigned int)(f->max_packets - f->rx);
		n = nrio_xsk_rx(f->x, descs, max);
		if (!n)
			break;
		take_batch(f, descs, n);
	}
	/* Anything a failed submit left on the SQ. */
	ret = nrio_unified_submit(f->u);
	if (ret < 0 && !f->first_error)
		f->first_error = ret;
	__atomic_store_n(&f->pkt_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *completion_thread(void *arg)
{
	struct fs *f = arg;
	struct nvme_ring_io_cqe cqes[MAX_BATCH];
	uint64_t recycle[MAX_BATCH];
	int64_t done_at = 0;
	int i, n;

	for (;;) {
		n = nrio_unified_reap(f->u, cqes, MAX_BATCH, 1, 100000000LL);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "full_stack: reaping completions: %s\n",
				strerror(-n));
			f->fatal = 1;
			break;
		}
		for (i = 0; i < n; i++) {
			uint64_t ud = cqes[i].user_data;

			if (cqes[i].res >= 0) {
				add(&f->stored, 1);
				add(&f->stored_bytes, ud & 0xffff);
				add(&f->dev_bytes, (uint64_t)cqes[i].res);
			} else {
				if (!f->errors)
					fprintf(stderr,
						"full_stack: WRITE failed: %s\n",
						strerror(-cqes[i].res));
				add(&f->errors, 1);
			}
			recycle[i] = (ud >> 16) * FRAME_SIZE;
		}
		add(&f->completed, (uint64_t)n);
		fill_frames(f, recycle, (unsigned int)n);
		if (__atomic_load_n(&f->pkt_done, __ATOMIC_ACQUIRE)) {
			if (rd(&f->completed) == rd(&f->queued))
				break;
			if (!done_at)
				done_at = now_ns();
			else if (now_ns() - done_at > DRAIN_NS)
				break;	/* the rest counts as queued at exit */
		}
	}
	return NULL;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct fs *f = ctx;
	const struct fs_event *ev = data;

	if (len < sizeof(*ev) || ev->dport != htons(FS_PORT)) {
		f->event_bad++;
		return 0;
	}
	if (!f->events)
		f->first_ev_ns = ev->ts_ns;
	f->last_ev_ns = ev->ts_ns;
	f->events++;
	return 0;
}

static uint64_t xdp_count(struct full_stack_bpf *skel, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v, sum = 0;
	int i;

	if (ncpu <= 0)
		return 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return 0;
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.counts), &key, v))
		for (i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

/* --- options --------------------------------------------------------- */

static void usage(FILE *o)
{
	fprintf(o,
"usage: full_stack -i IFACE -d DEV --lba LBA --lba-count N [options]\n"
"       full_stack --send --dst IPV4 [--netns NAME] [-n N] [--sizes LIST]\n"
"                  [--rate PPS] [--ip-options] [--noise N]\n"
"       full_stack --verify -d DEV --lba LBA --lba-count N --records N\n"
"                  [--run-id ID] [--sent N] [--sizes LIST]\n"
"\n"
"Pipeline (default mode; root): UDP datagrams to port %u on IFACE go,\n"
"through an XDP program and an AF_XDP socket whose UMEM is the unified\n"
"region, to NVMe: each one a record (a %u-byte header, the payload, zero\n"
"padding to the LBA size) appended to a log in [LBA, LBA + N) of DEV.\n"
"Nothing outside that range is written.\n"
"  -i, --iface IFACE     the interface (required)\n"
"  -q, --queue Q         its receive queue (default 0)\n"
"  -d, --device DEV      the NVMe namespace, /dev/nvmeXnY (required)\n"
"      --lba LBA         first LBA of the log (required)\n"
"      --lba-count N     LBAs of the log (required)\n"
"  -b, --batch N         RX descriptors taken at once, 1..%u (default 64)\n"
"  -t, --duration SEC    stop after SEC seconds (default: at a signal)\n"
"  -n, --packets N       stop after N received packets\n"
"      --frames N        frames given to the fill ring, 64..2048 (2048)\n"
"      --xdp-mode M      native or generic (default: native, else\n"
"                        generic)\n"
"      --copy            AF_XDP copy mode (default: try zero-copy)\n"
"  Stops cleanly at SIGINT/SIGTERM.  Exit 0 when every packet taken is\n"
"  accounted for and no WRITE failed, 1 otherwise, 2 for bad usage.\n"
"\n"
"--send: send N (default 1000) datagrams to IPV4:%u, sizes cycling\n"
"  through LIST (default 64,100,512,1000,1024,1472; 4..1472), datagram\n"
"  i carrying i in its first 4 bytes and a pattern of i after them;\n"
"  --netns: from the network namespace /run/netns/NAME; --rate: at most\n"
"  PPS datagrams a second (default 0: as fast as the socket takes them);\n"
"  --ip-options: every 7th datagram (that stays unfragmented) with 8 bytes\n"
"  of IP options; --noise: then N datagrams to port %u and N fragmented\n"
"  ones to %u, which the XDP program must pass to the stack.\n"
"\n"
"--verify: read the log back (O_DIRECT) and check N records: header,\n"
"  checksum, zero padding, the payload against the generator's pattern,\n"
"  each datagram stored at most once (--sent: how many were sent), all\n"
"  of run ID (default: the first record's).\n",
		FS_PORT, FS_REC_HDR, MAX_BATCH, FS_PORT, FS_PORT - 1, FS_PORT);
}

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "full_stack: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	return 2;
}

static int num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || !*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_sizes(const char *s, uint32_t *sizes, unsigned int *n)
{
	char buf[256], *tok, *save;
	uint64_t v;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_SIZES || num(tok, 4, 1472, &v))
			return -1;
		sizes[(*n)++] = (uint32_t)v;
	}
	return *n ? 0 : -1;
}

struct opts {
	int		mode;		/* 0 pipeline, 1 send, 2 verify */
	const char	*iface, *dev, *dst, *netns;
	uint64_t	queue, lba, lba_count, batch, duration, packets;
	uint64_t	frames, count, rate, records, sent, run_id;
	bool		lba_set, count_set, records_set, run_id_set;
	bool		copy, options;
	uint64_t	noise;
	uint32_t	xdp_flags;
	uint32_t	sizes[MAX_SIZES];
	unsigned int	nsizes;
};

/* --- --send ---------------------------------------------------------- */

/* A connected UDP socket to @to, with @opt (IP options) if given. */
static int udp_socket(const struct sockaddr_in *to, const void *opt,
		      socklen_t optlen)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0 ||
	    (opt && setsockopt(s, IPPROTO_IP, IP_OPTIONS, opt, optlen)) ||
	    connect(s, (const struct sockaddr *)to, sizeof(*to))) {
		perror("full_stack: socket");
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

static int send_one(int s, const void *buf, uint32_t len)
{
	while (send(s, buf, len, 0) != (ssize_t)len) {
		if (errno != ENOBUFS && errno != EAGAIN &&
		    errno != ECONNREFUSED) {
			perror("full_stack: send");
			return -1;
		}
		usleep(1000);
	}
	return 0;
}

/*
 * Traffic the XDP program must leave to the stack: @n datagrams to the
 * port below 9999, @n of 3000 bytes to 9999 (IPv4 fragments).  Unconnected
 * sockets: the stack's ICMP answers must not fail the generator's sends.
 */
static int send_noise(const struct sockaddr_in *dst, uint64_t n)
{
	static uint8_t buf[3000];
	struct sockaddr_in to = *dst;
	int s = socket(AF_INET, SOCK_DGRAM, 0), dont = IP_PMTUDISC_DONT;
	uint64_t i;

	if (s < 0 || setsockopt(s, IPPROTO_IP, IP_MTU_DISCOVER, &dont,
				sizeof(dont))) {
		perror("full_stack: socket");
		return -1;
	}
	for (i = 0; i < 2 * n; i++) {
		to.sin_port = htons(i < n ? FS_PORT - 1 : FS_PORT);
		if (sendto(s, buf, i < n ? 64 : sizeof(buf), 0,
			   (struct sockaddr *)&to, sizeof(to)) < 0 &&
		    errno != ECONNREFUSED && errno != ENOBUFS) {
			perror("full_stack: sendto");
			close(s);
			return -1;
		}
		usleep(1000);
	}
	close(s);
	printf("Noise: %" PRIu64 " datagrams to port %u, %" PRIu64
	       " of %zu bytes (fragmented) to %u: for the stack\n", n,
	       FS_PORT - 1, n, sizeof(buf), FS_PORT);
	return 0;
}

static int do_send(const struct opts *o)
{
	/* Record Route with room for one address, then End of List. */
	static const uint8_t rr[8] = { 7, 7, 4, 0, 0, 0, 0, 0 };
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(FS_PORT) };
	uint8_t buf[1472];
	uint64_t i, bytes = 0, with_opts = 0;
	int64_t t0;
	int s, so = -1, fd;

	if (inet_pton(AF_INET, o->dst, &to.sin_addr) != 1)
		return bad("--dst '%s' is not an IPv4 address", o->dst);
	if (o->netns) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "/run/netns/%s", o->netns);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			fprintf(stderr, "full_stack: cannot enter %s: %s\n",
				path, strerror(errno));
			return 1;
		}
		close(fd);
	}
	s = udp_socket(&to, NULL, 0);
	if (s < 0)
		return 1;
	if (o->options) {
		so = udp_socket(&to, rr, sizeof(rr));
		if (so < 0)
			return 1;
	}
	t0 = now_ns();
	for (i = 0; i < o->count; i++) {
		uint32_t len = o->sizes[i % o->nsizes], j, seq = (uint32_t)i;

		memcpy(buf, &seq, 4);
		for (j = 4; j < len; j++)
			buf[j] = pat(seq, j);
		/* Every 7th with IP options, where they keep it unfragmented. */
		if (so >= 0 && i % 7 == 3 && len + sizeof(rr) <= 1472) {
			if (send_one(so, buf, len))
				return 1;
			with_opts++;
		} else if (send_one(s, buf, len)) {
			return 1;
		}
		bytes += len;
		if (o->rate && (i + 1) % 16 == 0) {
			int64_t due = t0 + (int64_t)((i + 1) * 1000000000ULL /
						    o->rate);
			int64_t now = now_ns();

			if (due > now)
				usleep((useconds_t)((due - now) / 1000));
		}
	}
	printf("Sent: %" PRIu64 " datagrams, %" PRIu64 " payload bytes in "
	       "%.2f s (%" PRIu64 " with %zu bytes of IP options)\n",
	       o->count, bytes, (now_ns() - t0) / 1e9, with_opts, sizeof(rr));
	close(s);
	if (so >= 0)
		close(so);
	return o->noise && send_noise(&to, o->noise) ? 1 : 0;
}

/* --- --verify -------------------------------------------------------- */

static int lba_size_of(int fd, const char *dev, uint32_t *lba)
{
	int v;

	if (ioctl(fd, BLKSSZGET, &v) || v <= 0) {
		fprintf(stderr, "full_stack: %s: not a block device (%s)\n",
			dev, strerror(errno));
		return -1;
	}
	*lba = (uint32_t)v;
	return 0;
}

/* 0, or a message about record @r at LBA @lba. */
static const char *check_rec(const struct opts *o, const uint8_t *p,
			     uint32_t lba_size, uint64_t r, uint32_t run_id,
			     uint8_t *seen, uint32_t *nlb)
{
	struct fs_rec h;
	const uint8_t *pay = p + FS_REC_HDR;
	uint32_t gen, j, need;

	memcpy(&h, p, sizeof(h));
	if (h.magic != FS_REC_MAGIC)
		return "no record header (magic)";
	if (h.run_id != run_id)
		return "a record of another run";
	if (h.seq != (uint32_t)r)
		return "record number out of order";
	need = (FS_REC_HDR + h.len + lba_size - 1) / lba_size;
	if (h.nlb != need || (o->sent && h.len < 4))
		return "bad length";
	*nlb = need;
	if (h.dport != htons(FS_PORT))
		return "destination port is not 9999";
	if (csum(pay, h.len) != h.csum)
		return "payload checksum mismatch";
	for (j = h.len; j < need * lba_size - FS_REC_HDR; j++)
		if (pay[j])
			return "padding not zero";
	if (!o->sent)	/* not the generator's traffic: no more to check */
		return NULL;
	memcpy(&gen, pay, 4);
	if (gen >= o->sent)
		return "generator sequence number never sent";
	if (h.len != o->sizes[gen % o->nsizes])
		return "payload length is not what the generator sent";
	for (j = 4; j < h.len; j++)
		if (pay[j] != pat(gen, j))
			return "payload differs from the generator's";
	if (seen[gen / 8] & (1U << (gen % 8)))
		return "datagram stored twice";
	seen[gen / 8] |= (uint8_t)(1U << (gen % 8));
	return NULL;
}

static int do_verify(const struct opts *o)
{
	const size_t chunk = 1 << 20;
	uint8_t *buf = NULL, *seen = NULL;
	uint64_t r = 0, lba = o->lba, buf_lba = 0, buf_n = 0, bytes = 0;
	uint32_t lba_size, run_id = (uint32_t)o->run_id, nlb;
	const char *why = NULL;
	int fd, ret = 1;

	fd = open(o->dev, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "full_stack: %s: %s\n", o->dev,
			strerror(errno));
		return 1;
	}
	if (lba_size_of(fd, o->dev, &lba_size))
		goto out;
	if (posix_memalign((void **)&buf, 4096, chunk + 4096) ||
	    !(seen = calloc(1, o->sent / 8 + 1))) {
		fprintf(stderr, "full_stack: out of memory\n");
		goto out;
	}
	while (r < o->records) {
		uint64_t off;

		/* A record is at most 4 KiB + LBA: keep 8 KiB ahead. */
		if (lba < buf_lba || (lba - buf_lba) * lba_size + 8192 >
		    buf_n * lba_size) {
			uint64_t n = chunk / lba_size;
			ssize_t got;

			if (lba >= o->lba + o->lba_count) {
				why = "the log ends before all records";
				break;
			}
			if (n > o->lba + o->lba_count - lba)
				n = o->lba + o->lba_count - lba;
			got = pread(fd, buf, n * lba_size,
				    (off_t)(lba * lba_size));
			if (got != (ssize_t)(n * lba_size)) {
				fprintf(stderr, "full_stack: reading %s: %s\n",
					o->dev, got < 0 ? strerror(errno) :
					"short read");
				goto out;
			}
			buf_lba = lba;
			buf_n = n;
		}
		off = (lba - buf_lba) * lba_size;
		if (!r && !o->run_id_set)
			memcpy(&run_id, buf + off + 4, 4);
		nlb = 1;
		why = check_rec(o, buf + off, lba_size, r, run_id, seen, &nlb);
		if (why)
			break;
		if (lba + nlb > o->lba + o->lba_count) {
			why = "record past the end of the log";
			break;
		}
		bytes += ((const struct fs_rec *)(buf + off))->len;
		lba += nlb;
		r++;
	}
	if (why) {
		printf("Verify: FAILED at record %" PRIu64 " (LBA %" PRIu64
		       "): %s\n", r, lba, why);
		goto out;
	}
	printf("Verify: %" PRIu64 " records OK (%" PRIu64 " payload bytes, "
	       "LBAs %" PRIu64 "..%" PRIu64 ", run id 0x%08x)", r, bytes,
	       o->lba, lba, run_id);
	if (o->sent)
		printf(", %" PRIu64 " of %" PRIu64 " sent datagrams stored "
		       "once each", r, o->sent);
	printf("\n");
	ret = 0;
out:
	free(buf);
	free(seen);
	close(fd);
	return ret;
}

/* --- the pipeline ---------------------------------------------------- */

static int uio_open(const struct opts *o, uint32_t ifindex, uint32_t stride,
		    uint32_t frames, struct nrio_unified **u)
{
	struct nrio_unified_opts uo;

	nrio_unified_opts_init(&uo);
	uo.sq_entries = 1024;
	uo.cq_entries = 2048;	/* >= frames: the CQ never holds back */
	uo.region_size = (uint64_t)stride * frames * FRAME_SIZE;
	uo.net_ifindex = ifindex;
	uo.net_rxq = (uint32_t)o->queue;
	uo.frame_size = FRAME_SIZE;
	uo.frame_headroom = NRIO_XSK_UDP4_HEADROOM;
	uo.engine = NRIO_ENGINE_KERNEL;
	return nrio_unified_open(o->dev, O_RDWR, &uo, u);
}

static void stats_line(struct fs *f, uint64_t *last_rx, uint64_t *last_b,
		       int64_t *last_t)
{
	int64_t t = now_ns();
	double dt = (t - *last_t) / 1e9;
	uint64_t rx = rd(&f->rx), b = rd(&f->stored_bytes);

	printf("Stats: RX=%" PRIu64 " pps=%.0f | Stored=%" PRIu64
	       " Bps=%.0f | Errors=%" PRIu64 "\n", rx,
	       dt > 0 ? (rx - *last_rx) / dt : 0.0, rd(&f->stored),
	       dt > 0 ? (b - *last_b) / dt : 0.0, rd(&f->errors));
	*last_rx = rx;
	*last_b = b;
	*last_t = t;
}

static int do_pipeline(const struct opts *o)
{
	struct fs f;
	struct full_stack_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct nrio_xsk_opts xo;
	struct nrio_xsk_stats xs;
	struct unified_io_info info;
	struct sigaction sa;
	sigset_t set, old;
	pthread_t pt, ct;
	uint32_t ifindex, stride = 1, frames = (uint32_t)o->frames, i;
	uint64_t *addrs = NULL, last_rx = 0, last_b = 0, drops = 0;
	uint64_t queued_exit;
	int64_t t_start, t_first = 0, t_rx = 0, t_last, t_end;
	uint64_t seen_rx = 0;
	double secs;
	int ret, mode, zc_err, rc = 1;
	bool threads = false;
	struct stat st;

	ifindex = if_nametoindex(o->iface);
	if (!ifindex)
		return bad("no network interface '%s'", o->iface);
	if (stat(o->dev, &st))
		return bad("no device '%s'", o->dev);

	memset(&f, 0, sizeof(f));
	pthread_mutex_init(&f.fill_lock, NULL);
	f.batch = (uint32_t)o->batch;
	f.max_packets = o->packets;

	/* Open, learn the LBA size, reopen with room for the largest record. */
	for (;;) {
		uint32_t need;

		ret = uio_open(o, ifindex, stride, frames, &f.u);
		if (ret) {
			fprintf(stderr, "full_stack: cannot open a unified "
				"context on %s: %s\n", o->dev,
				nrio_strerror(ret));
			return ret == -EINVAL || ret == -ENODEV ||
			       ret == -ENOTTY ? 2 : 1;
		}
		ret = nrio_unified_info(f.u, &info);
		if (ret) {
			fprintf(stderr, "full_stack: INFO: %s\n",
				strerror(-ret));
			goto out;
		}
		/* Record start <= 512 + 40 - 40 (IP options), 1472 bytes. */
		need = 512 + (FS_REC_HDR + 1472 + info.lba_size - 1) /
			     info.lba_size * info.lba_size;
		need = (need + FRAME_SIZE - 1) / FRAME_SIZE;
		if (need <= stride)
			break;
		nrio_unified_close(f.u);
		f.u = NULL;
		stride = need;
	}
	f.data = nrio_unified_data(f.u);
	f.lba_size = info.lba_size;
	f.stride = stride;
	f.dma_align = info.dma_alignment ? info.dma_alignment : 4;
	f.max_transfer = info.max_transfer ? info.max_transfer : 1 << 20;
	if (o->lba >= info.nr_lbas || o->lba_count > info.nr_lbas - o->lba) {
		fprintf(stderr, "full_stack: --lba %" PRIu64 " --lba-count %"
			PRIu64 " goes past the end of %s (%" PRIu64
			" LBAs)\n", o->lba, o->lba_count, o->dev,
			(uint64_t)info.nr_lbas);
		rc = 2;
		goto out;
	}
	f.lba0 = f.next_lba = o->lba;
	f.lba_end = o->lba + o->lba_count;
	f.run_id = (uint32_t)(now_ns() ^ ((uint64_t)getpid() << 16));
	printf("Log: %s LBAs %" PRIu64 "..%" PRIu64 " (%" PRIu64
	       " LBAs of %u bytes, %.1f MiB); writes only there; run id "
	       "0x%08x\n", o->dev, f.lba0, f.lba_end - 1, o->lba_count,
	       f.lba_size, o->lba_count * f.lba_size / 1048576.0, f.run_id);
	printf("Region: %u frames of %u bytes (%u in the fill ring, every "
	       "%u%s), headroom %u: payload at frame offset %u, record at "
	       "%u\n", stride * frames, FRAME_SIZE, frames, stride,
	       stride == 1 ? "" : ": the next ones are the record's spill room",
	       info.frame_headroom, info.frame_headroom + 256 + 42,
	       info.frame_headroom + 256 + 42 - FS_REC_HDR);

	skel = full_stack_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "full_stack: loading the XDP program: %s\n",
			strerror(errno));
		goto out;
	}
	nrio_xsk_opts_init(&xo);
	xo.ifindex = ifindex;
	xo.queue = (int32_t)o->queue;
	xo.rx_size = 1U << (32 - __builtin_clz(frames - 1));
	xo.fill_size = 2 * xo.rx_size;	/* see fill_frames() */
	xo.flags = NRIO_XSK_F_OWN_PROG | (o->copy ? NRIO_XSK_F_COPY : 0);
	ret = nrio_xsk_create(f.u, &xo, &f.x);
	if (ret) {
		fprintf(stderr, "full_stack: AF_XDP socket on %s queue %"
			PRIu64 ": %s\n", o->iface, o->queue, strerror(-ret));
		goto out;
	}
	mode = nrio_xsk_attach_prog(f.x, bpf_program__fd(skel->progs.fs_xdp),
				    bpf_map__fd(skel->maps.xsks), o->xdp_flags);
	if (mode < 0) {
		fprintf(stderr, "full_stack: attaching XDP to %s: %s\n",
			o->iface, strerror(-mode));
		goto out;
	}
	nrio_xsk_zero_copy(f.x, &zc_err);
	printf("XDP: %s mode on %s queue %" PRIu64 "; AF_XDP: %s",
	       mode == XDP_FLAGS_DRV_MODE ? "native" : "generic", o->iface,
	       o->queue, nrio_xsk_zero_copy(f.x, NULL) ? "zero-copy" :
	       "copy mode");
	if (!nrio_xsk_zero_copy(f.x, NULL))
		printf(" (zero-copy bind: %s)", zc_err ? strerror(zc_err) :
		       "not tried");
	printf("\n");

	addrs = calloc(frames, sizeof(*addrs));
	f.held = calloc(frames, sizeof(*f.held));
	if (!addrs || !f.held)
		goto out;
	for (i = 0; i < frames; i++)
		addrs[i] = nrio_xsk_frame(f.x, (uint64_t)i * stride);
	fill_frames(&f, addrs, frames);

	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, &f,
			      NULL);
	if (!rb) {
		fprintf(stderr, "full_stack: ring buffer: %s\n",
			strerror(errno));
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The threads do not take the signals: main does. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	ret = pthread_create(&pt, NULL, packet_thread, &f);
	if (!ret) {
		ret = pthread_create(&ct, NULL, completion_thread, &f);
		if (ret) {
			stop = 1;
			pthread_join(pt, NULL);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		fprintf(stderr, "full_stack: threads: %s\n", strerror(ret));
		goto out;
	}
	threads = true;
	printf("Ready: storing UDP port %u datagrams from %s\n", FS_PORT,
	       o->iface);

	t_start = t_last = now_ns();
	t_end = o->duration ? t_start + (int64_t)o->duration * 1000000000LL :
		0;
	while (!stop && !f.fatal && !f.pkt_done) {
		ring_buffer__poll(rb, 100);
		if (rd(&f.rx) != seen_rx) {
			seen_rx = rd(&f.rx);
			t_rx = now_ns();
			if (!t_first)
				t_first = t_rx;
		}
		if (now_ns() - t_last >= 1000000000LL)
			stats_line(&f, &last_rx, &last_b, &t_last);
		if (t_end && now_ns() >= t_end)
			break;
	}
	stop = 1;
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	threads = false;
	ring_buffer__consume(rb);
	if (f.rx != seen_rx) {
		t_rx = now_ns();
		if (!t_first)
			t_first = t_rx;
	}

	/* Detach before counting, so the counters are final. */
	nrio_xsk_stats(f.x, &xs);
	nrio_xsk_destroy(f.x);
	f.x = NULL;

	for (i = 0; i < DROP_NR; i++)
		drops += f.drop[i];
	queued_exit = f.queued - f.completed;
	secs = (t_rx - t_first) / 1e9;
	printf("Summary: RX=%" PRIu64 " (%" PRIu64 " bytes) Stored=%" PRIu64
	       " (%" PRIu64 " payload bytes, %" PRIu64 " written) Errors=%"
	       PRIu64 " Dropped=%" PRIu64 " Queued=%" PRIu64 "\n", f.rx,
	       f.rx_bytes, f.stored, f.stored_bytes, f.dev_bytes, f.errors,
	       drops, queued_exit);
	printf("Options: %" PRIu64 " records of datagrams with IP options "
	       "(record further into the frame)\n", f.ip_options);
	printf("Drops:");
	for (i = 0; i < DROP_NR; i++)
		printf(" %s=%" PRIu64, drop_name[i], f.drop[i]);
	printf("\n");
	printf("Kernel: rx_dropped=%" PRIu64 " rx_ring_full=%" PRIu64
	       " rx_fill_ring_empty=%" PRIu64 " rx_invalid=%" PRIu64
	       " (before RX, not in it)\n", xs.rx_dropped, xs.rx_ring_full,
	       xs.rx_fill_ring_empty, xs.rx_invalid_descs);
	printf("XDP: redirected=%" PRIu64 " no-socket=%" PRIu64 " passed=%"
	       PRIu64 " fragments=%" PRIu64 " events=%" PRIu64
	       " events-lost=%" PRIu64 " bad-events=%" PRIu64 "\n",
	       xdp_count(skel, FS_XDP_REDIRECT),
	       xdp_count(skel, FS_XDP_NO_SOCKET), xdp_count(skel, FS_XDP_PASS),
	       xdp_count(skel, FS_XDP_FRAG), f.events,
	       xdp_count(skel, FS_XDP_EVENT_LOST), f.event_bad);
	if (f.events > 1)
		printf("Events: %.0f pps between the first and last XDP "
		       "timestamps\n", (f.events - 1) /
		       ((f.last_ev_ns - f.first_ev_ns) / 1e9 + 1e-9));
	/* The last word: the stats line over the whole run. */
	printf("Stats: RX=%" PRIu64 " pps=%.0f | Stored=%" PRIu64
	       " Bps=%.0f | Errors=%" PRIu64 " (average over %.2f s, first "
	       "to last packet)\n", f.rx, secs > 0 ? f.rx / secs : 0.0,
	       f.stored, secs > 0 ? f.stored_bytes / secs : 0.0, f.errors,
	       secs);
	printf("Log: %" PRIu64 " records in LBAs %" PRIu64 "..%" PRIu64
	       " (run id 0x%08x)\n", (uint64_t)f.seq, f.lba0,
	       f.next_lba, f.run_id);
	if (f.fill_short)
		printf("Fill: the fill ring was short %" PRIu64 " times; "
		       "%u frames still held at exit\n", f.fill_short,
		       f.nr_held);
	if (f.rx == f.stored + f.errors + drops + queued_exit) {
		printf("Balance: RX=%" PRIu64 " = Stored %" PRIu64
		       " + Errors %" PRIu64 " + Dropped %" PRIu64
		       " + Queued %" PRIu64 ": OK\n", f.rx, f.stored,
		       f.errors, drops, queued_exit);
		rc = f.errors || f.fatal ? 1 : 0;
		if (f.fatal)
			printf("Failed: see the error above\n");
	} else {
		printf("Balance: RX=%" PRIu64 " != Stored %" PRIu64
		       " + Errors %" PRIu64 " + Dropped %" PRIu64
		       " + Queued %" PRIu64 ": MISMATCH\n", f.rx, f.stored,
		       f.errors, drops, queued_exit);
	}
	if (f.first_error)
		printf("Submit: a SUBMIT failed (%s); its descriptors went with "
		       "the next one\n", strerror(-f.first_error));
	if (nrio_unified_info(f.u, &info) == 0)
		printf("Module: bytes_zero_copy=%" PRIu64 " bytes_copied=%"
		       PRIu64 " inflight=%u\n",
		       (uint64_t)info.bytes_zero_copy,
		       (uint64_t)info.bytes_copied, info.inflight);
out:
	if (threads) {
		stop = 1;
		pthread_join(pt, NULL);
		pthread_join(ct, NULL);
	}
	ring_buffer__free(rb);
	nrio_xsk_destroy(f.x);
	full_stack_bpf__destroy(skel);
	nrio_unified_close(f.u);
	free(addrs);
	free(f.held);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "queue", required_argument, NULL, 'q' },
		{ "device", required_argument, NULL, 'd' },
		{ "lba", required_argument, NULL, 'L' },
		{ "lba-count", required_argument, NULL, 'C' },
		{ "batch", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 't' },
		{ "packets", required_argument, NULL, 'n' },
		{ "frames", required_argument, NULL, 'F' },
		{ "xdp-mode", required_argument, NULL, 'X' },
		{ "copy", no_argument, NULL, 'c' },
		{ "send", no_argument, NULL, 'S' },
		{ "verify", no_argument, NULL, 'V' },
		{ "dst", required_argument, NULL, 'D' },
		{ "netns", required_argument, NULL, 'N' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "rate", required_argument, NULL, 'r' },
		{ "ip-options", no_argument, NULL, 'O' },
		{ "noise", required_argument, NULL, 'Z' },
		{ "records", required_argument, NULL, 'R' },
		{ "sent", required_argument, NULL, 's' },
		{ "run-id", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct opts o = { .batch = 64, .frames = DEF_FRAMES, .count = 1000 };
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_sizes("64,100,512,1000,1024,1472", o.sizes, &o.nsizes);
	while ((c = getopt_long(argc, argv, "i:q:d:b:t:n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.iface = optarg; break;
		case 'd': o.dev = optarg; break;
		case 'D': o.dst = optarg; break;
		case 'N': o.netns = optarg; break;
		case 'c': o.copy = true; break;
		case 'O': o.options = true; break;
		case 'Z':
			if (num(optarg, 0, 100000, &o.noise))
				return bad("bad --noise '%s' (0..100000)",
					   optarg);
			break;
		case 'S': o.mode = 1; break;
		case 'V': o.mode = 2; break;
		case 'q':
			if (num(optarg, 0, FS_MAX_QUEUES - 1, &o.queue))
				return bad("bad --queue '%s' (0..63)", optarg);
			break;
		case 'L':
			if (num(optarg, 0, UINT64_MAX >> 1, &o.lba))
				return bad("bad --lba '%s'", optarg);
			o.lba_set = true;
			break;
		case 'C':
			if (num(optarg, 1, UINT32_MAX, &o.lba_count))
				return bad("bad --lba-count '%s' (1..2^32-1)",
					   optarg);
			o.count_set = true;
			break;
		case 'b':
			if (num(optarg, 1, MAX_BATCH, &o.batch))
				return bad("bad --batch '%s' (1..256)", optarg);
			break;
		case 't':
			if (num(optarg, 1, 86400, &o.duration))
				return bad("bad --duration '%s' (1..86400 s)",
					   optarg);
			break;
		case 'n':
			if (num(optarg, 1, UINT32_MAX, &o.packets))
				return bad("bad packet count '%s'", optarg);
			o.count = o.packets;
			break;
		case 'F':
			if (num(optarg, 64, 2048, &o.frames))
				return bad("bad --frames '%s' (64..2048)",
					   optarg);
			break;
		case 'X':
			if (!strcmp(optarg, "native"))
				o.xdp_flags = XDP_FLAGS_DRV_MODE;
			else if (!strcmp(optarg, "generic"))
				o.xdp_flags = XDP_FLAGS_SKB_MODE;
			else
				return bad("bad --xdp-mode '%s' (native or "
					   "generic)", optarg);
			break;
		case 'z':
			if (parse_sizes(optarg, o.sizes, &o.nsizes))
				return bad("bad --sizes '%s' (up to 32 of "
					   "4..1472, comma-separated)", optarg);
			break;
		case 'r':
			if (num(optarg, 0, 100000000, &o.rate))
				return bad("bad --rate '%s'", optarg);
			break;
		case 'R':
			if (num(optarg, 0, UINT32_MAX, &o.records))
				return bad("bad --records '%s'", optarg);
			o.records_set = true;
			break;
		case 's':
			if (num(optarg, 1, UINT32_MAX, &o.sent))
				return bad("bad --sent '%s'", optarg);
			break;
		case 'I':
			if (num(optarg, 0, UINT32_MAX, &o.run_id))
				return bad("bad --run-id '%s'", optarg);
			o.run_id_set = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);

	if (o.mode == 1) {
		if (!o.dst)
			return bad("--send needs --dst%s", "");
		return do_send(&o);
	}
	if (!o.dev)
		return bad("-d/--device is required%s", "");
	if (!o.lba_set || !o.count_set)
		return bad("--lba and --lba-count are required: the log's "
			   "LBA range%s", "");
	if (o.mode == 2) {
		if (!o.records_set)
			return bad("--verify needs --records%s", "");
		if (access(o.dev, F_OK))
			return bad("no device '%s'", o.dev);
		return do_verify(&o);
	}
	if (!o.iface)
		return bad("-i/--iface is required%s", "");
	return do_pipeline(&o);
}
