// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/unified_io_region: sockets on the region, in the kernel engine.
 * SOCK_ATTACH/DETACH and their errors; NET_SEND and NET_RECV on TCP and
 * UDP over loopback, byte for byte; steps that wait for their socket
 * without blocking SUBMIT; NET_RECV -> NVME WRITE -> NVME READ ->
 * NET_SEND in one SUBMIT; short steps that end a chain; every descriptor
 * error; a closed peer; close and process death with steps waiting.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "nrio_unified_test.h"

#include "kselftest_harness.h"

#define SEC	(1000LL * 1000 * 1000)

static int sock_attach(int fd, __u32 slot, int sock_fd)
{
	struct unified_io_sock_attach a = { .slot = slot, .sock_fd = sock_fd };

	return ioctl(fd, UNIFIED_IO_SOCK_ATTACH, &a) ? -errno : 0;
}

static int sock_detach(int fd, __u32 slot)
{
	struct unified_io_sock_attach a = { .slot = slot, .sock_fd = -1 };

	return ioctl(fd, UNIFIED_IO_SOCK_DETACH, &a) ? -errno : 0;
}

/* Receive exactly @len bytes from @fd (a stream, or one datagram). */
static ssize_t recv_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10000) != 1)
			return -ETIMEDOUT;
		n = recv(fd, (char *)buf + got, len - got, 0);
		if (n <= 0)
			return n < 0 ? -errno : (ssize_t)got;
		got += n;
	}
	return got;
}

/* --- attach ------------------------------------------------------------ */

TEST(sock_attach_errors)
{
	struct unified_io_sock_attach a = { 0 };
	struct unified_io_info info;
	int fd, mine, peer, pfd[2], un, raw;
	struct uni u;

	fd = open(UNIFIED_IO_DEVPATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, nt_sock_pair(SOCK_STREAM, &mine, &peer));
	EXPECT_EQ(-EBADFD, sock_attach(fd, 0, mine));
	close(fd);

	ASSERT_EQ(0, uni_open(&u, NULL, 0, 8, 0, DATA));
	ASSERT_EQ(0, uni_info(u.fd, &info));
	EXPECT_TRUE(info.features & UNIFIED_IO_FEAT_NET);
	EXPECT_EQ(-EINVAL, sock_attach(u.fd, UNIFIED_IO_SOCK_SLOTS, mine));
	a.sock_fd = mine;
	a.flags = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(u.fd, UNIFIED_IO_SOCK_ATTACH, &a));
	EXPECT_EQ(EINVAL, errno);
	a.flags = 0;
	a.resv = 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(u.fd, UNIFIED_IO_SOCK_ATTACH, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EBADF, sock_attach(u.fd, 0, -1));
	EXPECT_EQ(-EBADF, sock_attach(u.fd, 0, 1000));
	ASSERT_EQ(0, pipe(pfd));
	EXPECT_EQ(-ENOTSOCK, sock_attach(u.fd, 0, pfd[0]));
	un = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, un);
	EXPECT_EQ(-EPROTONOSUPPORT, sock_attach(u.fd, 0, un));
	raw = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
	if (raw >= 0) {
		EXPECT_EQ(-EPROTONOSUPPORT, sock_attach(u.fd, 0, raw));
		close(raw);
	}
	EXPECT_EQ(-ENOENT, sock_detach(u.fd, 0));
	EXPECT_EQ(-EINVAL, sock_detach(u.fd, UNIFIED_IO_SOCK_SLOTS));
	a = (struct unified_io_sock_attach){ .slot = 0, .sock_fd = mine };
	errno = 0;
	EXPECT_EQ(-1, ioctl(u.fd, UNIFIED_IO_SOCK_DETACH, &a));
	EXPECT_EQ(EINVAL, errno);

	/* Attach, replace, detach; the slot holds its own reference. */
	EXPECT_EQ(0, sock_attach(u.fd, 3, mine));
	EXPECT_EQ(0, sock_attach(u.fd, 3, peer));
	EXPECT_EQ(0, sock_detach(u.fd, 3));
	EXPECT_EQ(-ENOENT, sock_detach(u.fd, 3));
	EXPECT_EQ(0, sock_attach(u.fd, UNIFIED_IO_SOCK_SLOTS - 1, mine));
	close(un);
	close(pfd[0]);
	close(pfd[1]);
	close(mine);
	close(peer);
	uni_close(&u);
}

/* --- data, TCP and UDP ---------------------------------------------------- */

FIXTURE(net) {
	struct uni u;
	int mine;
	int peer;
	unsigned char buf[8192];
};

FIXTURE_VARIANT(net) {
	int type;
};

FIXTURE_VARIANT_ADD(net, tcp) { .type = SOCK_STREAM };
FIXTURE_VARIANT_ADD(net, udp) { .type = SOCK_DGRAM };

FIXTURE_SETUP(net)
{
	self->mine = self->peer = -1;
	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	ASSERT_EQ(0, uni_open(&self->u, NS1_BLK, O_RDWR, 16, 0, DATA));
	ASSERT_EQ(0, nt_sock_pair(variant->type, &self->mine, &self->peer));
	ASSERT_EQ(0, sock_attach(self->u.fd, 1, self->mine));
}

FIXTURE_TEARDOWN(net)
{
	uni_close(&self->u);
	if (self->mine >= 0)
		close(self->mine);
	if (self->peer >= 0)
		close(self->peer);
}

/* Bytes at a UDP payload's offset (42) go out as they are. */
TEST_F(net, send)
{
	struct uni *u = &self->u;
	struct unified_io_sqe sqe;
	struct unified_io_info info;

	nt_fill(u->data, 8192, 7);
	uni_prep_net(&sqe, true, 1, 42, 3000, 0, 1, false);
	EXPECT_EQ(3000, uni_sync(u, &sqe));
	ASSERT_EQ(3000, recv_all(self->peer, self->buf, 3000));
	EXPECT_EQ(0, memcmp(self->buf, u->data + 42, 3000));
	ASSERT_EQ(0, uni_info(u->fd, &info));
	EXPECT_EQ(3000, info.bytes_copied);
	EXPECT_EQ(0, info.bytes_zero_copy);
	EXPECT_EQ(0, info.chains);
}

/* A receive waits for its data without holding SUBMIT or the ring. */
TEST_F(net, recv_waits)
{
	struct uni *u = &self->u;
	__u32 flags = variant->type == SOCK_STREAM ? MSG_WAITALL : 0;
	struct nvme_ring_io_cqe cqe;
	struct unified_io_sqe sqe;
	struct unified_io_info info;
	__u32 idx = uni_reserve(u, 1);

	uni_prep_net(uni_sqe(u, idx), false, 1, 4096 + 2, 3000, flags, 2,
		     false);
	nrio_ring_submit(&u->sq, 1);
	ASSERT_EQ(1, uni_submit(u));
	EXPECT_EQ(-ETIME, uni_wait(u, 1, SEC / 20));
	ASSERT_EQ(0, uni_info(u->fd, &info));
	EXPECT_EQ(1, info.inflight);
	/* Other descriptors go on meanwhile. */
	uni_prep_rw(&sqe, NVME_RING_IO_OP_READ, 0, 1, 0, u->lba, 3, false);
	EXPECT_EQ(u->lba, uni_sync(u, &sqe));

	nt_fill(self->buf, 3000, 8);
	if (variant->type == SOCK_STREAM) {
		/* Two halves: WAITALL collects both. */
		ASSERT_EQ(1000, send(self->peer, self->buf, 1000, 0));
		usleep(20000);
		ASSERT_EQ(2000, send(self->peer, self->buf + 1000, 2000, 0));
	} else {
		ASSERT_EQ(3000, send(self->peer, self->buf, 3000, 0));
	}
	ASSERT_EQ(0, uni_reap(u, &cqe, 1));
	EXPECT_EQ(2, cqe.user_data);
	EXPECT_EQ(3000, cqe.res);
	EXPECT_EQ(0, memcmp(self->buf, u->data + 4096 + 2, 3000));
}

/*
 * The seed's round trip in one SUBMIT: a request arrives, is persisted,
 * read back from the device and returned; the peer gets what NVMe holds.
 */
TEST_F(net, recv_write_read_send_chain)
{
	struct uni *u = &self->u;
	__u32 flags = variant->type == SOCK_STREAM ? MSG_WAITALL : 0;
	__u64 slba = 200 * MiB / u->lba;
	struct nvme_ring_io_cqe cqe[4];
	struct unified_io_info info;
	__u32 idx = uni_reserve(u, 4), i;

	memset(u->data, 0, 2 * MiB);
	uni_prep_net(uni_sqe(u, idx), false, 1, 0, 4096, flags, 10, true);
	uni_prep_rw(uni_sqe(u, idx + 1), NVME_RING_IO_OP_WRITE, slba,
		    4096 / u->lba, 0, 4096, 11, true);
	uni_prep_rw(uni_sqe(u, idx + 2), NVME_RING_IO_OP_READ, slba,
		    4096 / u->lba, MiB, 4096, 12, true);
	uni_prep_net(uni_sqe(u, idx + 3), true, 1, MiB, 4096, 0, 13, false);
	nrio_ring_submit(&u->sq, 4);
	ASSERT_EQ(4, uni_submit(u));

	nt_fill(self->buf, 4096, 9);
	ASSERT_EQ(4096, send(self->peer, self->buf, 4096, 0));
	ASSERT_EQ(4096, recv_all(self->peer, self->buf + 4096, 4096));
	ASSERT_EQ(0, uni_reap(u, cqe, 4));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(10 + i, cqe[i].user_data);
		EXPECT_EQ(4096, cqe[i].res);
	}
	EXPECT_EQ(0, memcmp(self->buf, self->buf + 4096, 4096));
	EXPECT_EQ(0, nt_check(u->data + MiB, 4096, 9));
	ASSERT_EQ(0, uni_info(u->fd, &info));
	EXPECT_EQ(8192, info.bytes_copied);
	EXPECT_EQ(8192, info.bytes_zero_copy);
	EXPECT_EQ(1, info.chains);
}

/* Fewer bytes than asked end the chain: nothing unreceived is written. */
TEST_F(net, short_step_ends_chain)
{
	struct uni *u = &self->u;
	struct nvme_ring_io_cqe cqe[2];
	__u32 idx = uni_reserve(u, 2);

	uni_prep_net(uni_sqe(u, idx), false, 1, 0, 4096, 0, 20, true);
	uni_prep_rw(uni_sqe(u, idx + 1), NVME_RING_IO_OP_WRITE,
		    201 * MiB / u->lba, 4096 / u->lba, 0, 4096, 21, false);
	nrio_ring_submit(&u->sq, 2);
	ASSERT_EQ(2, uni_submit(u));
	ASSERT_EQ(100, send(self->peer, self->buf, 100, 0));
	ASSERT_EQ(0, uni_reap(u, cqe, 2));
	EXPECT_EQ(20, cqe[0].user_data);
	EXPECT_EQ(100, cqe[0].res);
	EXPECT_EQ(21, cqe[1].user_data);
	EXPECT_EQ(-ECANCELED, cqe[1].res);
}

/* Every descriptor error, each exact; the ring goes on after them. */
TEST_F(net, descriptor_errors)
{
	struct uni *u = &self->u;
	struct unified_io_sqe sqe;
	int i;

	uni_prep_net(&sqe, true, 2, 0, 100, 0, 1, false);
	EXPECT_EQ(-ENOENT, uni_sync(u, &sqe));
	uni_prep_net(&sqe, true, UNIFIED_IO_SOCK_SLOTS, 0, 100, 0, 1, false);
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	uni_prep_net(&sqe, false, 1, 0, 0, 0, 1, false);
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	uni_prep_net(&sqe, false, 1, 0, UNIFIED_IO_NET_MAX + 1, 0, 1, false);
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	uni_prep_net(&sqe, false, 1, DATA - 99, 100, 0, 1, false);
	EXPECT_EQ(-EFAULT, uni_sync(u, &sqe));
	uni_prep_net(&sqe, true, 1, ~0ULL, 100, 0, 1, false);
	EXPECT_EQ(-EFAULT, uni_sync(u, &sqe));
	uni_prep_net(&sqe, true, 1, 0, 100, MSG_WAITALL, 1, false);
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	uni_prep_net(&sqe, false, 1, 0, 100, MSG_MORE, 1, false);
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	uni_prep_net(&sqe, false, 1, 0, 100, MSG_PEEK, 1, false);
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	uni_prep_net(&sqe, true, 1, 0, 100, 0, 1, false);
	sqe.cmd.net.resv[6] = 1;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));
	uni_prep_net(&sqe, true, 1, 0, 100, 0, 1, false);
	sqe.resv2 = 1;
	EXPECT_EQ(-EINVAL, uni_sync(u, &sqe));

	if (variant->type == SOCK_DGRAM) {
		int un;

		/* A longer datagram is dropped, and said so. */
		uni_prep_net(&sqe, false, 1, 0, 100, 0, 1, false);
		ASSERT_EQ(101, send(self->peer, self->buf, 101, 0));
		EXPECT_EQ(-EMSGSIZE, uni_sync(u, &sqe));
		/* Unconnected: no address to send to. */
		un = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ASSERT_EQ(0, sock_attach(u->fd, 4, un));
		uni_prep_net(&sqe, true, 4, 0, 100, 0, 1, false);
		EXPECT_EQ(-EDESTADDRREQ, uni_sync(u, &sqe));
		close(un);
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET };
		int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ASSERT_EQ(0, bind(l, (struct sockaddr *)&a, sizeof(a)));
		ASSERT_EQ(0, listen(l, 1));
		ASSERT_EQ(0, sock_attach(u->fd, 4, l));
		uni_prep_net(&sqe, false, 4, 0, 100, 0, 1, false);
		EXPECT_EQ(-ENOTCONN, uni_sync(u, &sqe));
		uni_prep_net(&sqe, true, 4, 0, 100, 0, 1, false);
		EXPECT_EQ(-ENOTCONN, uni_sync(u, &sqe));
		close(l);
		/*
		 * Never connected, bound or not, or disconnected again
		 * (connect to AF_UNSPEC): ENOTCONN both ways.  send(2)
		 * would say EPIPE; the descriptor says what recv(2) says.
		 */
		for (i = 0; i < 3; i++) {
			l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			ASSERT_LE(0, l);
			if (i == 1)
				ASSERT_EQ(0, bind(l, (struct sockaddr *)&a,
						  sizeof(a)));
			if (i == 2) {
				struct sockaddr un = { .sa_family = AF_UNSPEC };
				socklen_t el = sizeof(int);
				int m, p;

				ASSERT_EQ(0, nt_sock_pair(SOCK_STREAM, &m, &p));
				close(l);
				close(p);
				l = m;
				ASSERT_EQ(0, connect(l, &un, sizeof(un)));
				/* Its pending ECONNRESET, read and gone. */
				ASSERT_EQ(0, getsockopt(l, SOL_SOCKET,
							SO_ERROR, &m, &el));
			}
			ASSERT_EQ(0, sock_attach(u->fd, 5, l));
			uni_prep_net(&sqe, true, 5, 0, 100, 0, 1, false);
			EXPECT_EQ(-ENOTCONN, uni_sync(u, &sqe)) {
				TH_LOG("NET_SEND, case %d", i);
			}
			uni_prep_net(&sqe, false, 5, 0, 100, 0, 1, false);
			EXPECT_EQ(-ENOTCONN, uni_sync(u, &sqe)) {
				TH_LOG("NET_RECV, case %d", i);
			}
			close(l);
		}
	}
	/* The ring and the socket go on. */
	nt_fill(u->data, 100, 3);
	uni_prep_net(&sqe, true, 1, 0, 100, 0, 2, false);
	EXPECT_EQ(100, uni_sync(u, &sqe));
	ASSERT_EQ(100, recv_all(self->peer, self->buf, 100));
	EXPECT_EQ(0, nt_check(self->buf, 100, 3));
}

/* TCP: a peer that has gone ends receives and fails sends. */
TEST_F(net, peer_closed)
{
	struct uni *u = &self->u;
	struct nvme_ring_io_cqe cqe[2];
	struct unified_io_sqe sqe;
	__u32 idx;
	int res, i;

	if (variant->type != SOCK_STREAM)
		SKIP(return, "TCP only");
	close(self->peer);
	self->peer = -1;
	/* End of stream: res 0, and the chain goes no further. */
	idx = uni_reserve(u, 2);
	uni_prep_net(uni_sqe(u, idx), false, 1, 0, 100, MSG_WAITALL, 30,
		     true);
	uni_prep_net(uni_sqe(u, idx + 1), true, 1, 0, 100, 0, 31, false);
	nrio_ring_submit(&u->sq, 2);
	ASSERT_EQ(2, uni_submit(u));
	ASSERT_EQ(0, uni_reap(u, cqe, 2));
	EXPECT_EQ(0, cqe[0].res);
	EXPECT_EQ(-ECANCELED, cqe[1].res);
	/* The first send may still be taken; the reset fails the next. */
	uni_prep_net(&sqe, true, 1, 0, 100, 0, 32, false);
	for (i = 0, res = 100; i < 10 && res == 100; i++) {
		res = uni_sync(u, &sqe);
		usleep(10000);
	}
	EXPECT_TRUE(res == -EPIPE || res == -ECONNRESET) {
		TH_LOG("send to a closed peer: %d", res);
	}
}

/* A context without a namespace moves network data all the same. */
TEST_F(net, no_namespace)
{
	struct unified_io_sqe sqe;
	struct uni n;

	ASSERT_EQ(0, uni_open(&n, NULL, 0, 8, 0, 2 * MiB));
	ASSERT_EQ(0, sock_attach(n.fd, 0, self->mine));
	nt_fill(n.data + 8, 1000, 11);
	uni_prep_net(&sqe, true, 0, 8, 1000, 0, 1, false);
	EXPECT_EQ(1000, uni_sync(&n, &sqe));
	ASSERT_EQ(1000, recv_all(self->peer, self->buf, 1000));
	EXPECT_EQ(0, nt_check(self->buf, 1000, 11));
	uni_close(&n);
}

/* --- teardown ------------------------------------------------------------- */

/* Queue a chain that waits for data on slot 1: RECV -> WRITE. */
static void queue_waiting_chain(struct uni *u)
{
	__u32 idx = uni_reserve(u, 2);

	uni_prep_net(uni_sqe(u, idx), false, 1, 0, 4096, 0, 40, true);
	uni_prep_rw(uni_sqe(u, idx + 1), NVME_RING_IO_OP_WRITE,
		    202 * MiB / u->lba, 4096 / u->lba, 0, 4096, 41, false);
	nrio_ring_submit(&u->sq, 2);
}

/* Closing with a step waiting cancels it and lets the context go. */
TEST_F(net, close_while_waiting)
{
	struct uni *u = &self->u;
	int base;

	uni_close(u);
	base = nt_refcnt_settled();
	ASSERT_LE(0, base);
	ASSERT_EQ(0, uni_open(u, NS1_BLK, O_RDWR, 16, 0, DATA));
	ASSERT_EQ(0, sock_attach(u->fd, 1, self->mine));
	queue_waiting_chain(u);
	ASSERT_EQ(2, uni_submit(u));
	EXPECT_LT(base, nt_mod_refcnt());
	uni_close(u);
	EXPECT_TRUE(nt_refcnt_settles(base, 2000)) {
		TH_LOG("module refcnt %d, want %d", nt_mod_refcnt(), base);
	}
	/* The socket is the application's still, and works. */
	ASSERT_EQ(5, send(self->mine, "hello", 5, 0));
	ASSERT_EQ(5, recv_all(self->peer, self->buf, 5));
}

/* A process killed mid-chain leaves nothing behind. */
TEST_F(net, killed_mid_chain)
{
	struct uni *u = &self->u;
	int base, status, pfd[2];
	char c;
	pid_t pid;

	uni_close(u);
	base = nt_refcnt_settled();
	ASSERT_LE(0, base);
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct uni k;

		if (uni_open(&k, NS1_BLK, O_RDWR, 16, 0, DATA) ||
		    sock_attach(k.fd, 1, self->mine))
			_exit(1);
		queue_waiting_chain(&k);
		if (uni_submit(&k) != 2 || write(pfd[1], "r", 1) != 1)
			_exit(1);
		/* Wait in COMPLETE: the signal ends it. */
		uni_wait(&k, 2, -1);
		_exit(2);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	usleep(50000);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	close(pfd[0]);
	EXPECT_TRUE(nt_refcnt_settles(base, 2000)) {
		TH_LOG("module refcnt %d, want %d", nt_mod_refcnt(), base);
	}
	/* Reopen: a fresh context works. */
	ASSERT_EQ(0, uni_open(u, NS1_BLK, O_RDWR, 16, 0, DATA));
}

TEST_HARNESS_MAIN
