// SPDX-License-Identifier: GPL-2.0
/*
 * What ends a wait in COMPLETE and in SUBMIT with F_WAIT besides I/O.
 *
 * io_uring task work: a plain io_uring (no COOP_TASKRUN, no DEFER_TASKRUN)
 * queues its completions as task work with TWA_SIGNAL, which sets
 * TIF_NOTIFY_SIGNAL on the thread that owns the request, and an
 * interruptible sleep sees that as a signal.  No signal arrived, so the
 * call must neither fail nor return early: it restarts, runs the task
 * work and waits on, for the rest of its timeout only.  A restarted
 * SUBMIT F_WAIT still returns what its first attempt consumed and consumes
 * nothing more.
 *
 * Real signals (SIGALRM with a handler): without SA_RESTART COMPLETE
 * fails with EINTR.  With SA_RESTART COMPLETE without a time limit is
 * restarted, a timed one still fails with EINTR, as poll(2) does.  A
 * SUBMIT F_WAIT that consumed descriptors returns their number.
 *
 * NVME_RING_IO_URING_WAIT (on the unified device, behind a NET_RECV on an
 * idle socket, so that something is always in flight): issued from io-wq
 * (IOSQE_ASYNC, or linked behind a SUBMIT that went async) while
 * completions arrive on the other CPU, thousands of times; and a parked
 * WAIT must not keep its ring, context and sockets when its process
 * exits or closes them (6.1 has no io_uring command cancelation).
 *
 * The wait has to outlast these events, so the I/O is slow: the namespace
 * comes from nvmet-tcp on 127.0.0.1 over a null_blk device that completes
 * every request DELAY_MS late.  The bounds below leave room for TCG.
 */
#include <signal.h>
#include <sys/time.h>

#include <liburing.h>

#include "nrio_target.h"
#include "nrio_unified_test.h"

#include "kselftest_harness.h"

#define DELAY_MS	800		/* every I/O of the backing device */
/* Elapsed milliseconds of: */
#define WAITED_MS	500		/* a call that waited for the I/O */
#define EARLY_MS	500		/* a call that did not */
#define ETIME_MIN_MS	290		/* a 300 ms timeout ... */
#define ETIME_MAX_MS	600		/* ... on a slow VM */
#define LONG_NS		(5LL * 1000 * 1000 * 1000)
#define MS_NS		(1000LL * 1000)
#define READ_BYTES	4096

static const struct nrio_target_cfg slow_target = {
	.nqn		= "nrio-wait",
	.nullb_name	= "nriowait",
	.port		= 8,
	.trsvcid	= 4428,
	.size_mb	= 64,
	.memory_backed	= true,
	.completion_nsec = DELAY_MS * 1000000ULL,
	/* The host's partition scan reads at DELAY_MS per request. */
	.open_timeout_s	= 60,
};

FIXTURE(slow) {
	struct nrio_target t;
	struct nt_ctx c;
	bool have_ctx;
	struct io_uring ring;
	int ring_err;			/* io_uring_queue_init()'s */
};

FIXTURE_SETUP(slow)
{
	int ret;

	self->ring_err = -ENODEV;
	if (!nrio_target_available())
		SKIP(return, "needs nvmet, null_blk configfs and nvme-fabrics");
	ASSERT_EQ(0, nrio_target_setup(&self->t, &slow_target)) {
		TH_LOG("%s", self->t.failed);
	}
	ASSERT_NE(0, self->t.dev[0]);
	ret = nt_open(&self->c, self->t.dev, O_RDWR, 8, 0, 1 * MiB);
	ASSERT_EQ(0, ret) {
		TH_LOG("context on %s: %s", self->t.dev, strerror(-ret));
	}
	self->have_ctx = true;
	/* A plain ring: its task work comes with TWA_SIGNAL. */
	self->ring_err = io_uring_queue_init(8, &self->ring, 0);
}

static void disarm_alarm(void);
static void drain(struct nt_ctx *c);

FIXTURE_TEARDOWN(slow)
{
	/* First the ring: its pending timeouts must not interrupt drain(). */
	if (!self->ring_err)
		io_uring_queue_exit(&self->ring);
	disarm_alarm();
	if (self->have_ctx) {
		drain(&self->c);
		nt_close(&self->c);
	}
	nrio_target_cleanup(&slow_target);
}

#define NEED_URING() do {						\
	if (self->ring_err)						\
		SKIP(return, "no io_uring: %s", strerror(-self->ring_err)); \
} while (0)

static const char *res_str(int ret)
{
	return ret < 0 ? strerror(-ret) : "ok";
}

/* Queue @n reads of 8 blocks each into the SQ ring, not submitted. */
static int queue_reads(struct nt_ctx *c, __u32 n)
{
	__u32 idx, i;

	if (nrio_ring_reserve(&c->sq, n, &idx) != n)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		nt_prep(nrio_sqe(&c->sq, idx + i), NVME_RING_IO_OP_READ,
			i * 8, 8, (__u64)i * READ_BYTES, READ_BYTES, 100 + i);
	nrio_ring_submit(&c->sq, n);
	return 0;
}

/* Put @n slow reads in flight. */
static int start_reads(struct nt_ctx *c, __u32 n)
{
	int ret = queue_reads(c, n);

	return ret ? ret : nt_submit(c, 0);
}

/* SQ descriptors the kernel has not consumed. */
static __u32 sq_left(struct nt_ctx *c)
{
	return *c->sq.producer - __atomic_load_n(c->sq.consumer,
						  __ATOMIC_ACQUIRE);
}

static long ms_since(double t0)
{
	return (long)((nrio_target_now() - t0) * 1000);
}

/* NVME_RING_IO_COMPLETE, timed: its result or -errno, *ms it took. */
static int complete(struct nt_ctx *c, __u32 min, __u32 flags,
		    __s64 timeout_ns, long *ms)
{
	struct nvme_ring_io_complete w = {
		.min_complete = min,
		.flags = flags,
		.timeout_ns = timeout_ns,
	};
	double t0 = nrio_target_now();
	int ret = ioctl(c->fd, NVME_RING_IO_COMPLETE, &w);

	if (ret < 0)
		ret = -errno;
	*ms = ms_since(t0);
	return ret;
}

/* NVME_RING_IO_SUBMIT with F_WAIT (and @flags), timed. */
static int submit_wait(struct nt_ctx *c, __u32 to_submit, __u32 min,
		       __u32 flags, long *ms)
{
	struct nvme_ring_io_submit s = {
		.to_submit = to_submit,
		.flags = NVME_RING_IO_SUBMIT_F_WAIT | flags,
		.min_complete = min,
	};
	double t0 = nrio_target_now();
	int ret = ioctl(c->fd, NVME_RING_IO_SUBMIT, &s);

	if (ret < 0)
		ret = -errno;
	*ms = ms_since(t0);
	return ret;
}

/*
 * Reap @n completions; returns how many were whole successful reads.
 * EINTR is retried: io_uring timeouts left over from a wait that ended
 * too early (the bug under test) must not fail this too.
 */
static int reap_reads(struct nt_ctx *c, __u32 n)
{
	struct nvme_ring_io_cqe cqe;
	double t0 = nrio_target_now();
	int good = 0, ret;

	while (n && nrio_target_now() - t0 < 20) {
		ret = nt_reap(c, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret)
			break;
		n--;
		if (cqe.res == READ_BYTES)
			good++;
	}
	return good;
}

/* Wait (uninterrupted by now) until nothing is in flight; empty the CQ. */
static void drain(struct nt_ctx *c)
{
	struct nvme_ring_io_info info;
	double t0 = nrio_target_now();
	__u32 idx, n;

	while (nrio_target_now() - t0 < 10) {
		if (nt_info(c->fd, &info) || !info.inflight)
			break;
		nt_wait(c, c->cq.entries, 1000 * MS_NS);
	}
	n = nrio_ring_peek(&c->cq, c->cq.entries, &idx);
	nrio_ring_release(&c->cq, n);
}

/*
 * Arm one io_uring timeout per entry of @at (milliseconds from now),
 * in the calling thread.  Returns how many were submitted or -errno.
 */
static int uring_timeouts(struct io_uring *ring, const unsigned int *at,
			  unsigned int n)
{
	struct __kernel_timespec ts[8];
	struct io_uring_sqe *sqe;
	unsigned int i;

	if (n > 8)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		sqe = io_uring_get_sqe(ring);
		if (!sqe)
			return -EBUSY;
		ts[i].tv_sec = at[i] / 1000;
		ts[i].tv_nsec = (at[i] % 1000) * MS_NS;
		io_uring_prep_timeout(sqe, &ts[i], 0, 0);
		sqe->user_data = at[i];
	}
	/* The kernel reads ts[] here. */
	return io_uring_submit(ring);
}

/*
 * How many of the timeouts have completed (-ETIME) by now, without
 * entering the kernel: their task work must already have run.
 */
static int uring_fired(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int fired = 0;

	while (!io_uring_peek_cqe(ring, &cqe)) {
		if (cqe->res == -ETIME)
			fired++;
		io_uring_cqe_seen(ring, cqe);
	}
	return fired;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

/* SIGALRM in @ms, to a handler installed with or without SA_RESTART. */
static int arm_alarm(unsigned int ms, bool restart)
{
	struct sigaction sa = {
		.sa_handler = on_alarm,
		.sa_flags = restart ? SA_RESTART : 0,
	};
	struct itimerval it = {
		.it_value = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 },
	};

	alarms = 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL))
		return -errno;
	return setitimer(ITIMER_REAL, &it, NULL) ? -errno : 0;
}

/* Stop the timer, then put back the default action. */
static void disarm_alarm(void)
{
	struct itimerval off = { 0 };
	struct sigaction sa = { .sa_handler = SIG_DFL };

	setitimer(ITIMER_REAL, &off, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

/* The premise of every other test: a read takes about DELAY_MS. */
TEST_F_TIMEOUT(slow, read_takes_the_device_delay, 120)
{
	long ms;
	int ret;

	ASSERT_EQ(1, start_reads(&self->c, 1));
	ret = complete(&self->c, 1, 0, -1, &ms);
	TH_LOG("COMPLETE of one read: %d (%s) after %ld ms", ret,
	       res_str(ret), ms);
	ASSERT_EQ(1, ret);
	EXPECT_LE(WAITED_MS, ms) {
		TH_LOG("null_blk ignores irqmode=2/completion_nsec here");
	}
	EXPECT_EQ(1, reap_reads(&self->c, 1));
}

/*
 * One read in flight, a 100 ms io_uring timeout, then COMPLETE: it must
 * return the read at DELAY_MS, and the timeout's CQE must be there.
 */
static void complete_through_task_work(struct __test_metadata *_metadata,
				       FIXTURE_DATA(slow) *self, __u32 flags,
				       __s64 timeout_ns)
{
	static const unsigned int at[] = { 100 };
	long ms;
	int ret;

	ASSERT_EQ(1, start_reads(&self->c, 1));
	ASSERT_EQ(1, uring_timeouts(&self->ring, at, 1));
	ret = complete(&self->c, 1, flags, timeout_ns, &ms);
	TH_LOG("COMPLETE%s timeout %lld ns, io_uring timeout at 100 ms: %d (%s) after %ld ms",
	       flags & NVME_RING_IO_COMPLETE_F_POLL ? " F_POLL" : "",
	       (long long)timeout_ns, ret, res_str(ret), ms);
	EXPECT_EQ(1, ret);
	EXPECT_LE(WAITED_MS, ms);
	EXPECT_EQ(1, uring_fired(&self->ring)) {
		TH_LOG("the io_uring task work did not run");
	}
	EXPECT_EQ(1, reap_reads(&self->c, 1));
}

TEST_F_TIMEOUT(slow, complete_survives_uring_task_work, 120)
{
	NEED_URING();
	complete_through_task_work(_metadata, self, 0, -1);
}

TEST_F_TIMEOUT(slow, complete_timed_survives_uring_task_work, 120)
{
	NEED_URING();
	complete_through_task_work(_metadata, self, 0, LONG_NS);
}

TEST_F_TIMEOUT(slow, complete_poll_survives_uring_task_work, 120)
{
	NEED_URING();
	complete_through_task_work(_metadata, self,
				   NVME_RING_IO_COMPLETE_F_POLL, LONG_NS);
}

/*
 * A 300 ms COMPLETE interrupted by task work every 100 ms for 700 ms:
 * restarted with what is left of its timeout it fails with ETIME at
 * 300 ms; restarted with the whole timeout each time it would still be
 * waiting when the read completes at DELAY_MS.
 */
static void remaining_time(struct __test_metadata *_metadata,
			   FIXTURE_DATA(slow) *self, __u32 flags)
{
	static const unsigned int at[] = { 100, 200, 300, 400, 500, 600, 700 };
	long ms;
	int ret, fired;

	ASSERT_EQ(1, start_reads(&self->c, 1));
	ASSERT_EQ(7, uring_timeouts(&self->ring, at, 7));
	ret = complete(&self->c, 1, flags, 300 * MS_NS, &ms);
	fired = uring_fired(&self->ring);
	TH_LOG("COMPLETE%s timeout 300 ms, io_uring timeouts every 100 ms: %d (%s) after %ld ms, %d timeouts done",
	       flags & NVME_RING_IO_COMPLETE_F_POLL ? " F_POLL" : "",
	       ret, res_str(ret), ms, fired);
	EXPECT_EQ(-ETIME, ret);
	EXPECT_LE(ETIME_MIN_MS, ms);
	EXPECT_GT(ETIME_MAX_MS, ms);
	/* Those at 100 and 200 ms came before the deadline. */
	EXPECT_LE(2, fired);
}

TEST_F_TIMEOUT(slow, complete_restart_waits_only_the_remaining_time, 120)
{
	NEED_URING();
	remaining_time(_metadata, self, 0);
}

TEST_F_TIMEOUT(slow, complete_poll_restart_waits_only_the_remaining_time, 120)
{
	NEED_URING();
	remaining_time(_metadata, self, NVME_RING_IO_COMPLETE_F_POLL);
}

/*
 * Two slow reads, COMPLETE min_complete=2 with a 300 ms timeout, and
 * io_uring timeouts at 50..250 ms: ETIME at 300 ms, not the reads at
 * DELAY_MS, and not EINTR at 50 ms.
 */
static void etime_after_task_work(struct __test_metadata *_metadata,
				  FIXTURE_DATA(slow) *self, __u32 flags)
{
	static const unsigned int at[] = { 50, 100, 150, 200, 250 };
	long ms;
	int ret, fired;

	ASSERT_EQ(5, uring_timeouts(&self->ring, at, 5));
	ASSERT_EQ(2, start_reads(&self->c, 2));
	ret = complete(&self->c, 2, flags, 300 * MS_NS, &ms);
	fired = uring_fired(&self->ring);
	TH_LOG("COMPLETE%s min 2 timeout 300 ms, io_uring timeouts at 50..250 ms: %d (%s) after %ld ms, %d timeouts done",
	       flags & NVME_RING_IO_COMPLETE_F_POLL ? " F_POLL" : "",
	       ret, res_str(ret), ms, fired);
	EXPECT_EQ(-ETIME, ret);
	EXPECT_LE(ETIME_MIN_MS, ms);
	EXPECT_GT(ETIME_MAX_MS, ms);
	EXPECT_EQ(5, fired);
}

TEST_F_TIMEOUT(slow, complete_etime_after_repeated_uring_task_work, 120)
{
	NEED_URING();
	etime_after_task_work(_metadata, self, 0);
}

TEST_F_TIMEOUT(slow, complete_poll_etime_after_repeated_uring_task_work, 120)
{
	NEED_URING();
	etime_after_task_work(_metadata, self, NVME_RING_IO_COMPLETE_F_POLL);
}

/*
 * SUBMIT F_WAIT min_complete=1 of one queued read, a 100 ms io_uring
 * timeout: it returns 1 once the read is in the CQ ring, and the read
 * was consumed once.
 */
static void submit_through_task_work(struct __test_metadata *_metadata,
				     FIXTURE_DATA(slow) *self, __u32 flags)
{
	static const unsigned int at[] = { 100 };
	struct nvme_ring_io_info info;
	long ms;
	__u32 cq;
	int ret;

	ASSERT_EQ(0, queue_reads(&self->c, 1));
	ASSERT_EQ(1, uring_timeouts(&self->ring, at, 1));
	ret = submit_wait(&self->c, 0, 1, flags, &ms);
	cq = nrio_ring_ready(&self->c.cq);
	TH_LOG("SUBMIT F_WAIT%s min 1, io_uring timeout at 100 ms: %d (%s) after %ld ms, %u in the CQ",
	       flags & NVME_RING_IO_SUBMIT_F_POLL ? "|F_POLL" : "",
	       ret, res_str(ret), ms, cq);
	EXPECT_EQ(1, ret);
	EXPECT_LE(WAITED_MS, ms);
	EXPECT_EQ(1, cq);
	EXPECT_EQ(1, uring_fired(&self->ring)) {
		TH_LOG("the io_uring task work did not run");
	}
	ASSERT_EQ(0, nt_info(self->c.fd, &info));
	EXPECT_EQ(1, info.counters.submitted);
	EXPECT_EQ(0, sq_left(&self->c));
	EXPECT_EQ(1, reap_reads(&self->c, 1));
}

TEST_F_TIMEOUT(slow, submit_wait_survives_uring_task_work, 120)
{
	NEED_URING();
	submit_through_task_work(_metadata, self, 0);
}

TEST_F_TIMEOUT(slow, submit_wait_poll_survives_uring_task_work, 120)
{
	NEED_URING();
	submit_through_task_work(_metadata, self, NVME_RING_IO_SUBMIT_F_POLL);
}

/*
 * Two reads queued, SUBMIT F_WAIT to_submit=1 interrupted by task work
 * three times: 1 (what the first attempt consumed), and the second read
 * still in the SQ ring, however often the call restarted.
 */
TEST_F_TIMEOUT(slow, submit_wait_restart_consumes_nothing_twice, 120)
{
	static const unsigned int at[] = { 100, 200, 300 };
	struct nvme_ring_io_info info;
	long ms;
	__u32 cq;
	int ret;

	NEED_URING();
	ASSERT_EQ(0, queue_reads(&self->c, 2));
	ASSERT_EQ(3, uring_timeouts(&self->ring, at, 3));
	ret = submit_wait(&self->c, 1, 1, 0, &ms);
	cq = nrio_ring_ready(&self->c.cq);
	ASSERT_EQ(0, nt_info(self->c.fd, &info));
	TH_LOG("SUBMIT F_WAIT to_submit 1 of 2, io_uring timeouts at 100/200/300 ms: %d (%s) after %ld ms, %u in the CQ, submitted %llu",
	       ret, res_str(ret), ms, cq,
	       (unsigned long long)info.counters.submitted);
	EXPECT_EQ(1, ret);
	EXPECT_LE(WAITED_MS, ms);
	EXPECT_EQ(1, cq);
	EXPECT_EQ(1, info.counters.submitted);
	EXPECT_EQ(1, sq_left(&self->c));
	EXPECT_EQ(3, uring_fired(&self->ring));
	/* The second one is still good to go. */
	EXPECT_EQ(1, nt_submit(&self->c, 0));
	EXPECT_EQ(2, reap_reads(&self->c, 2));
}

/* One read in flight; COMPLETE; SIGALRM at 100 ms: its result. */
static int complete_with_alarm(struct __test_metadata *_metadata,
			       FIXTURE_DATA(slow) *self, bool restart,
			       __u32 flags, __s64 timeout_ns, long *ms)
{
	int ret;

	ASSERT_EQ(1, start_reads(&self->c, 1));
	ASSERT_EQ(0, arm_alarm(100, restart));
	ret = complete(&self->c, 1, flags, timeout_ns, ms);
	disarm_alarm();
	TH_LOG("COMPLETE%s timeout %lld ns, SIGALRM at 100 ms %s SA_RESTART: %d (%s) after %ld ms, %d handled",
	       flags & NVME_RING_IO_COMPLETE_F_POLL ? " F_POLL" : "",
	       (long long)timeout_ns, restart ? "with" : "without",
	       ret, res_str(ret), *ms, (int)alarms);
	EXPECT_EQ(1, alarms);
	return ret;
}

TEST_F_TIMEOUT(slow, complete_timed_signal_eintr, 120)
{
	long ms;

	EXPECT_EQ(-EINTR, complete_with_alarm(_metadata, self, false, 0,
					       LONG_NS, &ms));
	EXPECT_GT(EARLY_MS, ms);
}

TEST_F_TIMEOUT(slow, complete_infinite_signal_eintr, 120)
{
	long ms;

	EXPECT_EQ(-EINTR, complete_with_alarm(_metadata, self, false, 0, -1,
					       &ms));
	EXPECT_GT(EARLY_MS, ms);
}

TEST_F_TIMEOUT(slow, complete_poll_signal_eintr, 120)
{
	long ms;

	EXPECT_EQ(-EINTR, complete_with_alarm(_metadata, self, false,
					       NVME_RING_IO_COMPLETE_F_POLL,
					       LONG_NS, &ms));
	EXPECT_GT(EARLY_MS, ms);
}

/* SA_RESTART restarts a wait without a time limit ... */
TEST_F_TIMEOUT(slow, complete_infinite_signal_sa_restart_restarts, 120)
{
	long ms;

	EXPECT_EQ(1, complete_with_alarm(_metadata, self, true, 0, -1,
					 &ms));
	EXPECT_LE(WAITED_MS, ms);
}

/* ... but not a timed one (like poll(2)). */
TEST_F_TIMEOUT(slow, complete_timed_signal_sa_restart_eintr, 120)
{
	long ms;

	EXPECT_EQ(-EINTR, complete_with_alarm(_metadata, self, true, 0,
					       LONG_NS, &ms));
	EXPECT_GT(EARLY_MS, ms);
}

/*
 * SUBMIT F_WAIT of two reads, cut short by SIGALRM at 100 ms: it returns
 * the 2 it consumed, not EINTR, and the handler ran.
 */
TEST_F_TIMEOUT(slow, submit_wait_signal_returns_consumed, 120)
{
	struct nvme_ring_io_info info;
	long ms;
	int ret;

	ASSERT_EQ(0, queue_reads(&self->c, 2));
	ASSERT_EQ(0, arm_alarm(100, false));
	ret = submit_wait(&self->c, 0, 2, 0, &ms);
	disarm_alarm();
	TH_LOG("SUBMIT F_WAIT min 2 of 2, SIGALRM at 100 ms without SA_RESTART: %d (%s) after %ld ms, %d handled",
	       ret, res_str(ret), ms, (int)alarms);
	EXPECT_EQ(2, ret);
	EXPECT_EQ(1, alarms);
	EXPECT_GT(EARLY_MS, ms);
	ASSERT_EQ(0, nt_info(self->c.fd, &info));
	EXPECT_EQ(2, info.counters.submitted);
	EXPECT_EQ(2, reap_reads(&self->c, 2));
}

/*
 * The same with SA_RESTART and to_submit=1 of two: 1 whether or not the
 * wait went on, and the second read still unconsumed.
 */
TEST_F_TIMEOUT(slow, submit_wait_signal_sa_restart_returns_consumed, 120)
{
	struct nvme_ring_io_info info;
	long ms;
	int ret;

	ASSERT_EQ(0, queue_reads(&self->c, 2));
	ASSERT_EQ(0, arm_alarm(100, true));
	ret = submit_wait(&self->c, 1, 1, 0, &ms);
	disarm_alarm();
	TH_LOG("SUBMIT F_WAIT to_submit 1 of 2, SIGALRM at 100 ms with SA_RESTART: %d (%s) after %ld ms, %d handled",
	       ret, res_str(ret), ms, (int)alarms);
	EXPECT_EQ(1, ret);
	EXPECT_EQ(1, alarms);
	ASSERT_EQ(0, nt_info(self->c.fd, &info));
	EXPECT_EQ(1, info.counters.submitted);
	EXPECT_EQ(1, sq_left(&self->c));
	EXPECT_EQ(1, nt_submit(&self->c, 0));
	EXPECT_EQ(2, reap_reads(&self->c, 2));
}

/* --- NVME_RING_IO_URING_WAIT ---------------------------------------------- */

#define UD_WAIT		1
#define UD_SUBMIT	2
#define UD_NOP		3
#define NOPS		64		/* keep the submitter busy */
#define RECV_SLOT	1

/* Only for the time limits: the tests below set up what they use. */
FIXTURE(uring_wait) {
	int unused;
};

FIXTURE_SETUP(uring_wait)
{
}

FIXTURE_TEARDOWN(uring_wait)
{
}

static int sock_attach(int fd, __u32 slot, int sock_fd)
{
	struct unified_io_sock_attach a = { .slot = slot, .sock_fd = sock_fd };

	return ioctl(fd, UNIFIED_IO_SOCK_ATTACH, &a) ? -errno : 0;
}

/* The rings are sized for every batch below. */
static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		abort();
	return sqe;
}

static void prep_uring_cmd(struct io_uring_sqe *sqe, int fd, __u32 op,
			   __u32 count, __u64 ud, __u8 flags)
{
	struct nvme_ring_io_uring_cmd *c;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = op;
	sqe->user_data = ud;
	sqe->flags = flags;
	c = (struct nvme_ring_io_uring_cmd *)sqe->cmd;
	c->count = count;
}

/*
 * A unified context (on @dev, or none) with a NET_RECV in flight on
 * @sock, a TCP socket whose peer sends nothing: it completes only when the
 * peer closes or the context goes.
 */
static int open_with_idle_recv(struct uni *u, const char *dev, int sock)
{
	__u32 idx;
	int ret;

	ret = uni_open(u, dev, O_RDWR, 16, 0, DATA);
	if (ret)
		return ret;
	ret = sock_attach(u->fd, RECV_SLOT, sock);
	if (ret)
		return ret;
	idx = uni_reserve(u, 1);
	uni_prep_net(uni_sqe(u, idx), false, RECV_SLOT, DATA - 4096, 4096, 0,
		     99, false);
	nrio_ring_submit(&u->sq, 1);
	ret = uni_submit(u);
	return ret == 1 ? 0 : ret < 0 ? ret : -EIO;
}

/* One unified descriptor on the SQ: a 4 KiB READ, or one that fails. */
static void queue_one(struct uni *u, bool read, __u64 ud)
{
	struct unified_io_sqe *sqe = uni_sqe(u, uni_reserve(u, 1));

	if (read) {
		uni_prep_rw(sqe, NVME_RING_IO_OP_READ, (ud % 64) * 8192 / u->lba,
			    4096 / u->lba, 0, 4096, ud, false);
	} else {
		memset(sqe, 0, sizeof(*sqe));
		sqe->type = 0xee;		/* no such type: EINVAL */
		sqe->user_data = ud;
	}
	nrio_ring_submit(&u->sq, 1);
}

/*
 * WAITs from io-wq while the CQ posting path runs.  The submitting task
 * holds the ring's lock for the whole batch (a WAIT, NOPS NOPs, and the
 * SUBMIT that posts the entry the WAIT waits for), so an io-wq worker
 * that parked the WAIT and then tries to mark it cancelable (6.7+) waits
 * for the lock while the entry is posted; the READs complete from the
 * device's interrupt, on either CPU.  Four kinds of round:
 *   0  WAIT (IOSQE_ASYNC), NOPs, SUBMIT of a descriptor failing at once
 *   1  the same with a READ
 *   2  SUBMIT (IOSQE_ASYNC) linked to WAIT, NOPs: a READ
 *   3  READ submitted first; WAIT (IOSQE_ASYNC), NOPs
 * Every WAIT must complete with the one entry ready, every round; and the
 * ring's teardown at the end must find its list of cancelable commands
 * sound.
 */
TEST_F_TIMEOUT(uring_wait, from_iowq_races_completion, 300)
{
	int mine = -1, peer = -1, ret, base, rounds = 0, kinds[4] = { 0 };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct nvme_ring_io_cqe c;
	double t0 = 0;
	struct timespec ts;
	struct uni u;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	base = nt_refcnt_settled();
	ASSERT_EQ(0, nt_sock_pair(SOCK_STREAM, &mine, &peer));
	ASSERT_EQ(0, open_with_idle_recv(&u, NS1_BLK, mine));
	ret = io_uring_queue_init(2 * (NOPS + 2), &ring, 0);
	if (ret)
		SKIP(return, "no io_uring: %s", strerror(-ret));

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec + ts.tv_nsec / 1e9;
	for (rounds = 0; rounds < 4000; rounds++) {
		int kind = rounds % 4, want = NOPS + 2, seen = 0, i;
		int wait_res = -1000, submit_res = -1000;

		if (kind == 3) {
			queue_one(&u, true, rounds);
			ASSERT_EQ(1, uni_submit(&u));
			want = NOPS + 1;
		} else {
			queue_one(&u, kind != 0, rounds);
		}
		if (kind == 2) {
			sqe = get_sqe(&ring);
			prep_uring_cmd(sqe, u.fd, NVME_RING_IO_URING_SUBMIT, 1,
				       UD_SUBMIT, IOSQE_ASYNC | IOSQE_IO_LINK);
		}
		sqe = get_sqe(&ring);
		prep_uring_cmd(sqe, u.fd, NVME_RING_IO_URING_WAIT, 1, UD_WAIT,
			       kind == 2 ? 0 : IOSQE_ASYNC);
		for (i = 0; i < NOPS; i++) {
			sqe = get_sqe(&ring);
			io_uring_prep_nop(sqe);
			sqe->user_data = UD_NOP;
		}
		if (kind < 2) {
			sqe = get_sqe(&ring);
			prep_uring_cmd(sqe, u.fd, NVME_RING_IO_URING_SUBMIT, 1,
				       UD_SUBMIT, 0);
		}
		ASSERT_EQ(want, io_uring_submit(&ring));
		while (seen < want) {
			struct __kernel_timespec to = { .tv_sec = 10 };

			ret = io_uring_wait_cqe_timeout(&ring, &cqe, &to);
			ASSERT_EQ(0, ret) {
				TH_LOG("round %d (kind %d): %d of %d CQEs (WAIT %s, SUBMIT %s), then %s",
				       rounds, kind, seen, want,
				       wait_res == -1000 ? "missing" : "seen",
				       submit_res == -1000 ? "missing" : "seen",
				       strerror(-ret));
			}
			if (cqe->user_data == UD_WAIT)
				wait_res = cqe->res;
			else if (cqe->user_data == UD_SUBMIT)
				submit_res = cqe->res;
			io_uring_cqe_seen(&ring, cqe);
			seen++;
		}
		ASSERT_EQ(1, wait_res) {
			TH_LOG("round %d (kind %d): URING_WAIT res %d (%s)",
			       rounds, kind, wait_res, res_str(wait_res));
		}
		if (kind != 3)
			ASSERT_EQ(1, submit_res) {
				TH_LOG("round %d (kind %d): URING_SUBMIT res %d",
				       rounds, kind, submit_res);
			}
		ASSERT_EQ(0, uni_reap(&u, &c, 1));
		ASSERT_EQ(kind == 0 ? -EINVAL : 4096, c.res) {
			TH_LOG("round %d (kind %d): descriptor res %d",
			       rounds, kind, c.res);
		}
		kinds[kind]++;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (rounds >= 400 && ts.tv_sec + ts.tv_nsec / 1e9 - t0 > 5)
			break;
	}
	TH_LOG("%d rounds (%d/%d/%d/%d by kind) in %.1f s", rounds,
	       kinds[0], kinds[1], kinds[2], kinds[3],
	       ts.tv_sec + ts.tv_nsec / 1e9 - t0);

	/* A last WAIT, parked: the teardown cancels it (6.1: reaps it). */
	sqe = get_sqe(&ring);
	prep_uring_cmd(sqe, u.fd, NVME_RING_IO_URING_WAIT, 1, UD_WAIT,
		       IOSQE_ASYNC);
	ASSERT_EQ(1, io_uring_submit(&ring));
	usleep(50000);
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&ring, &cqe));
	io_uring_queue_exit(&ring);
	uni_close(&u);
	close(mine);
	close(peer);
	EXPECT_TRUE(nt_refcnt_settles(base, 5000)) {
		TH_LOG("module refcnt %d, want %d", nt_mod_refcnt(), base);
	}
}

/*
 * A process parks a URING_WAIT behind a NET_RECV on an idle socket, then
 * exits (@close false) or closes its ring, its context and the sockets
 * and lives on (@close true).  Either way the WAIT is cancelled and the
 * context, its region and the sockets go: the module's references come
 * back.  6.1 has no io_uring command cancelation: there the module must
 * notice by itself.
 */
static void parked_wait_teardown(struct __test_metadata *_metadata,
				 bool close_only)
{
	int base, status, pfd[2], mine, peer;
	char ch;
	pid_t pid;

	base = nt_refcnt_settled();
	ASSERT_LE(0, base);
	/* Ours, the peer stays open (no EOF) until the end. */
	ASSERT_EQ(0, nt_sock_pair(SOCK_STREAM, &mine, &peer));
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct io_uring_cqe *cqe;
		struct io_uring ring;
		struct uni u;

		close(pfd[0]);
		close(peer);
		if (open_with_idle_recv(&u, NULL, mine))
			_exit(10);
		if (io_uring_queue_init(8, &ring, 0))
			_exit(11);
		prep_uring_cmd(get_sqe(&ring), u.fd,
			       NVME_RING_IO_URING_WAIT, 1, UD_WAIT, 0);
		if (io_uring_submit(&ring) != 1)
			_exit(12);
		usleep(100000);
		/* Parked: nothing ready, the NET_RECV still in flight. */
		if (io_uring_peek_cqe(&ring, &cqe) != -EAGAIN)
			_exit(13);
		close(mine);			/* the context holds it */
		if (close_only) {
			io_uring_queue_exit(&ring);
			uni_close(&u);
		}
		if (write(pfd[1], "p", 1) != 1)
			_exit(14);
		if (!close_only)
			_exit(0);
		for (;;)
			pause();
	}
	close(pfd[1]);
	close(mine);
	ASSERT_EQ(1, read(pfd[0], &ch, 1)) {
		waitpid(pid, &status, 0);
		TH_LOG("the child failed: exit %d", WEXITSTATUS(status));
	}
	close(pfd[0]);
	if (!close_only) {
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	EXPECT_TRUE(nt_refcnt_settles(base, 3000)) {
		TH_LOG("module refcnt %d, want %d: the parked WAIT kept its context",
		       nt_mod_refcnt(), base);
	}
	if (close_only) {
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	}
	close(peer);
	/* Whatever a failure left is gone with the peer's EOF. */
	nt_refcnt_settles(base, 3000);
}

TEST_F_TIMEOUT(uring_wait, parked_exit_releases_context, 60)
{
	parked_wait_teardown(_metadata, false);
}

TEST_F_TIMEOUT(uring_wait, parked_close_releases_context, 60)
{
	parked_wait_teardown(_metadata, true);
}

TEST_HARNESS_MAIN
