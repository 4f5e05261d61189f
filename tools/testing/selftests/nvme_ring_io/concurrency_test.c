// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: many contexts in many processes and threads on the same
 * namespaces, and one context shared by several threads (SUBMIT, COMPLETE
 * and INFO may be called concurrently; producing into the SQ ring and
 * consuming from the CQ ring are each serialised by the application, as
 * the UAPI header says).  Every thread checks its own data.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "nrio_test.h"

#include "kselftest_harness.h"

#define BASE		(200 * MiB)	/* scratch bytes on each namespace */
#define SLICE		(2 * MiB)	/* per worker */
#define PROCS		3
#define THREADS		3

struct worker {
	int id;
	int result;
};

/* One worker: its own context, its own slice, write then read back. */
static void *own_context(void *arg)
{
	struct worker *w = arg;
	const char *dev = w->id % 2 ? NS2_BLK : NS1_BLK;
	struct nt_ctx c;
	__u64 lba, slba, i, nblk;
	int round;

	w->result = 1;
	if (nt_open(&c, dev, O_RDWR, 16, 0, SLICE))
		return NULL;
	lba = c.lba;
	slba = (BASE + (__u64)w->id * SLICE) / lba;
	nblk = 65536 / lba;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < SLICE / 65536; i++) {
			nt_fill(c.data + i * 65536, 65536,
				w->id * 1000 + round * 100 + i);
			if (nt_rw_sync(&c, NVME_RING_IO_OP_WRITE,
				       slba + i * nblk, nblk, i * 65536) !=
			    65536)
				goto out;
		}
		memset(c.data, 0, SLICE);
		for (i = 0; i < SLICE / 65536; i++)
			if (nt_rw_sync(&c, NVME_RING_IO_OP_READ,
				       slba + i * nblk, nblk, i * 65536) !=
			    65536 ||
			    nt_check(c.data + i * 65536, 65536,
				     w->id * 1000 + round * 100 + i))
				goto out;
	}
	w->result = 0;
out:
	nt_close(&c);
	return NULL;
}

TEST(contexts_in_processes_and_threads)
{
	pid_t pids[PROCS];
	int p, status;

	if (!nt_have(NS1_BLK) || !nt_have(NS2_BLK))
		SKIP(return, "needs both namespaces");
	for (p = 0; p < PROCS; p++) {
		pids[p] = fork();
		ASSERT_LE(0, pids[p]);
		if (pids[p] == 0) {
			struct worker w[THREADS];
			pthread_t th[THREADS];
			int t, bad = 0;

			for (t = 0; t < THREADS; t++) {
				w[t].id = p * THREADS + t;
				pthread_create(&th[t], NULL, own_context, &w[t]);
			}
			for (t = 0; t < THREADS; t++) {
				pthread_join(th[t], NULL);
				bad |= w[t].result;
			}
			_exit(bad);
		}
	}
	for (p = 0; p < PROCS; p++) {
		ASSERT_EQ(pids[p], waitpid(pids[p], &status, 0));
		EXPECT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
}

/* --- one context, many threads ---------------------------------------- */

#define SHARERS		4
#define PER_THREAD	256		/* I/Os of one LBA each, per pass */

struct shared {
	struct nt_ctx c;
	pthread_mutex_t sq_lock;	/* the SQ producer side */
	pthread_mutex_t cq_lock;	/* the CQ consumer side */
	int done[SHARERS];
	int errors;
	__u8 op;
};

struct sharer {
	struct shared *sh;
	int id;
};

/* Reap whatever is ready, crediting each completion to its thread. */
static void reap(struct shared *sh)
{
	__u32 idx, n, i;

	pthread_mutex_lock(&sh->cq_lock);
	n = nrio_ring_peek(&sh->c.cq, 64, &idx);
	for (i = 0; i < n; i++) {
		struct nvme_ring_io_cqe *cqe = nrio_cqe(&sh->c.cq, idx + i);

		if (cqe->res != (int)sh->c.lba)
			__atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sh->done[cqe->user_data >> 32], 1,
				   __ATOMIC_RELEASE);
	}
	nrio_ring_release(&sh->c.cq, n);
	pthread_mutex_unlock(&sh->cq_lock);
}

static void *sharer(void *arg)
{
	struct sharer *s = arg;
	struct shared *sh = s->sh;
	__u32 lba = sh->c.lba, queued = 0, idx, n, i;
	__u64 slba = BASE / lba + 4096 + s->id * PER_THREAD;

	while (__atomic_load_n(&sh->done[s->id], __ATOMIC_ACQUIRE) <
	       PER_THREAD) {
		if (queued < PER_THREAD) {
			pthread_mutex_lock(&sh->sq_lock);
			n = nrio_ring_reserve(&sh->c.sq, PER_THREAD - queued,
					      &idx);
			for (i = 0; i < n; i++, queued++)
				nt_prep(nrio_sqe(&sh->c.sq, idx + i), sh->op,
					slba + queued, 1,
					((__u64)s->id * PER_THREAD + queued) *
					lba, lba,
					((__u64)s->id << 32) | queued);
			nrio_ring_submit(&sh->c.sq, n);
			pthread_mutex_unlock(&sh->sq_lock);
		}
		/* SUBMIT and COMPLETE from every thread at once. */
		nt_submit(&sh->c, 0);
		nt_wait(&sh->c, 1, 1000000);
		reap(sh);
	}
	return NULL;
}

TEST(one_context_many_threads)
{
	struct sharer s[SHARERS];
	pthread_t th[SHARERS];
	struct shared sh;
	int pass, t;
	__u32 i;

	if (!nt_have(NS1_BLK))
		SKIP(return, "no %s", NS1_BLK);
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.sq_lock, NULL);
	pthread_mutex_init(&sh.cq_lock, NULL);
	ASSERT_EQ(0, nt_open(&sh.c, NS1_BLK, O_RDWR, 32, 64, 1 * MiB));

	for (pass = 0; pass < 2; pass++) {
		sh.op = pass ? NVME_RING_IO_OP_READ : NVME_RING_IO_OP_WRITE;
		memset(sh.done, 0, sizeof(sh.done));
		for (i = 0; i < SHARERS * PER_THREAD; i++)
			if (pass)
				memset(sh.c.data + i * sh.c.lba, 0, sh.c.lba);
			else
				nt_fill(sh.c.data + i * sh.c.lba, sh.c.lba, i);
		for (t = 0; t < SHARERS; t++) {
			s[t].sh = &sh;
			s[t].id = t;
			ASSERT_EQ(0, pthread_create(&th[t], NULL, sharer, &s[t]));
		}
		for (t = 0; t < SHARERS; t++)
			pthread_join(th[t], NULL);
		EXPECT_EQ(0, sh.errors);
	}
	for (i = 0; i < SHARERS * PER_THREAD; i++)
		ASSERT_EQ(0, nt_check(sh.c.data + i * sh.c.lba, sh.c.lba, i)) {
			TH_LOG("block %u", i);
		}
	ASSERT_EQ(0, nt_info(sh.c.fd, &sh.c.info));
	EXPECT_EQ(2 * SHARERS * PER_THREAD, sh.c.info.counters.completed);
	EXPECT_EQ(0, sh.c.info.counters.sq_invalid);
	nt_close(&sh.c);
}

TEST_HARNESS_MAIN
