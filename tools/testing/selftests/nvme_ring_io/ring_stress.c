// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of the userspace ring helpers (nrio_ring.h): one producer
 * thread and one consumer thread move millions of descriptors through a
 * small ring laid out as the kernel lays it out.  Built with
 * -fsanitize=thread by "make check", so a missing acquire or release shows
 * up as a data race on the descriptors; the payload check catches torn or
 * reordered entries either way.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "nrio_test.h"

#include "kselftest_harness.h"

#define ENTRIES		64
#define COUNT		(1U << 21)

struct shared_ring {
	__u32 producer __attribute__((aligned(64)));
	__u32 consumer __attribute__((aligned(64)));
	__u32 flags __attribute__((aligned(64)));
	struct nvme_ring_io_sqe desc[ENTRIES] __attribute__((aligned(64)));
};

static struct shared_ring ring;
static struct nvme_ring_io_ring_offsets offs = {
	.producer = __builtin_offsetof(struct shared_ring, producer),
	.consumer = __builtin_offsetof(struct shared_ring, consumer),
	.flags = __builtin_offsetof(struct shared_ring, flags),
	.desc = __builtin_offsetof(struct shared_ring, desc),
	.entries = ENTRIES,
	.desc_size = sizeof(struct nvme_ring_io_sqe),
};

static void *producer(void *arg)
{
	struct nrio_ring r;
	__u32 sent = 0, idx, n, i, batch = 1;

	(void)arg;
	nrio_ring_init(&r, &ring, &offs);
	while (sent < COUNT) {
		batch = batch % 37 + 1;
		if (batch > COUNT - sent)
			batch = COUNT - sent;
		n = nrio_ring_reserve(&r, batch, &idx);
		for (i = 0; i < n; i++) {
			struct nvme_ring_io_sqe *sqe = nrio_sqe(&r, idx + i);
			__u64 seq = sent + i;

			sqe->user_data = seq;
			sqe->data_off = seq * 4096;
			sqe->cdw10 = (__u32)~seq;
			sqe->cdw15 = (__u32)(seq * 7);
		}
		nrio_ring_submit(&r, n);
		sent += n;
		if (!n)
			sched_yield();	/* full: let the consumer run */
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct nrio_ring r;
	__u32 got = 0, idx, n, i, batch = 1;
	long bad = 0;

	(void)arg;
	nrio_ring_init(&r, &ring, &offs);
	while (got < COUNT) {
		batch = batch % 29 + 1;
		if (batch > COUNT - got)
			batch = COUNT - got;
		n = nrio_ring_peek(&r, batch, &idx);
		for (i = 0; i < n; i++) {
			struct nvme_ring_io_sqe *sqe =
				(struct nvme_ring_io_sqe *)r.desc +
				((idx + i) & r.mask);
			__u64 seq = got + i;

			if (sqe->user_data != seq ||
			    sqe->data_off != seq * 4096 ||
			    sqe->cdw10 != (__u32)~seq ||
			    sqe->cdw15 != (__u32)(seq * 7))
				bad++;
		}
		nrio_ring_release(&r, n);
		got += n;
		if (!n)
			sched_yield();	/* empty: let the producer run */
	}
	return (void *)bad;
}

TEST(two_thread_stress)
{
	pthread_t p, c;
	void *bad;

	ASSERT_EQ(0, pthread_create(&c, NULL, consumer, NULL));
	ASSERT_EQ(0, pthread_create(&p, NULL, producer, NULL));
	ASSERT_EQ(0, pthread_join(p, NULL));
	ASSERT_EQ(0, pthread_join(c, &bad));
	EXPECT_EQ(0, (long)bad);
	EXPECT_EQ(COUNT, __atomic_load_n(&ring.producer, __ATOMIC_ACQUIRE));
	EXPECT_EQ(COUNT, __atomic_load_n(&ring.consumer, __ATOMIC_ACQUIRE));
}

/* A consumer index that runs ahead of the producer yields nothing. */
TEST(lying_index)
{
	static struct shared_ring r2;
	struct nrio_ring r;
	__u32 idx;

	r2.producer = 5;
	r2.consumer = 100;
	nrio_ring_init(&r, &r2, &offs);
	EXPECT_EQ(0, nrio_ring_peek(&r, 8, &idx));
}

TEST_HARNESS_MAIN
