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
 * The wait has to outlast these events, so the I/O is slow: the namespace
 * comes from nvmet-tcp on 127.0.0.1 over a null_blk device that completes
 * every request DELAY_MS late.  The bounds below leave room for TCG.
 */
#include <signal.h>
#include <sys/time.h>

#include <liburing.h>

#include "nrio_target.h"

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

TEST_HARNESS_MAIN
