// SPDX-License-Identifier: GPL-2.0
/*
 * nrio_bench: nvme_ring_io's engines beside what an application would use
 * instead, on one device, in one run.
 *
 *   nrio_bench run --device NAME --path /dev/nvmeXnY [--generic /dev/ngXnY]
 *                  [--kernel KVER] [--seconds S] [--repeats R] [--count N]
 *                  [--workloads a,b] [--engines a,b] [--fio PATH]
 *                  [--tracing DIR] [--csv FILE] [--precondition MIB]
 *   nrio_bench report [--markdown] FILE.csv ...
 *   nrio_bench list
 *
 * "run" goes through every workload; for each it runs every engine in
 * turn, R times over (A B C A B C ...), so that drift hits all engines
 * alike.  Each run keeps the workload's queue depth in flight, submitting
 * in batches of its batch size and waiting for as many completions as it
 * takes to submit the next batch (fio's iodepth_batch_submit and
 * iodepth_batch_complete_min).  It measures:
 *   IOPS          completions / wall time
 *   CPU           busy time of all CPUs: CPUs x wall time - idle, idle
 *                 from /proc/stat (so the process, the interrupts,
 *                 softirqs and kernel threads working for it: the machine
 *                 runs nothing else; 10 ms resolution), and the process's
 *                 own user+sys from getrusage
 *   IOPS/CPU-s    completions / busy CPU seconds
 *   latency       submission call to completion seen, per I/O: mean, p50
 *                 and p99 from a log-linear histogram (1.6 % buckets)
 * and appends one CSV row per run.  "report" turns CSV rows into tables:
 * medians over the repeats and ratios to the best baseline.
 *
 * With --count N each run does N I/Os instead of running for a time, and
 * with --tracing DIR, tracing_on in that tracefs directory is 1 only while
 * the I/Os run (the VM's allocation trace uses it).
 *
 * Before the first run the random I/O range (the first GiB, or the
 * device if smaller) is written once; --precondition MIB writes at most
 * that much (0: nothing, for a quick check that every engine works).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libaio.h>
#include <liburing.h>
#include <linux/fs.h>
#include <linux/nvme_ioctl.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nvme_ring_io.h"

#define MAX_QD		128
#define MAX_BS		(128U << 10)
#define RANGE_MAX	(1ULL << 30)	/* random I/O within the first GiB */

/* --- workloads ------------------------------------------------------------ */

struct workload {
	const char	*name;
	bool		write;
	bool		seq;
	unsigned int	bs, qd, batch;
};

static const struct workload workloads[] = {
	{ "randread-4k-qd1-b1",		false, false, 4096, 1, 1 },
	{ "randread-4k-qd16-b1",	false, false, 4096, 16, 1 },
	{ "randread-4k-qd16-b8",	false, false, 4096, 16, 8 },
	{ "randread-4k-qd128-b1",	false, false, 4096, 128, 1 },
	{ "randread-4k-qd128-b8",	false, false, 4096, 128, 8 },
	{ "randread-4k-qd128-b32",	false, false, 4096, 128, 32 },
	{ "randwrite-4k-qd1-b1",	true, false, 4096, 1, 1 },
	{ "randwrite-4k-qd16-b1",	true, false, 4096, 16, 1 },
	{ "randwrite-4k-qd16-b8",	true, false, 4096, 16, 8 },
	{ "randwrite-4k-qd128-b1",	true, false, 4096, 128, 1 },
	{ "randwrite-4k-qd128-b8",	true, false, 4096, 128, 8 },
	{ "randwrite-4k-qd128-b32",	true, false, 4096, 128, 32 },
	{ "seqread-128k-qd16-b1",	false, true, 131072, 16, 1 },
	{ "seqwrite-128k-qd16-b1",	true, true, 131072, 16, 1 },
};
#define NR_WORKLOADS	(sizeof(workloads) / sizeof(workloads[0]))

/* --- latency histogram ---------------------------------------------------- */

/*
 * Values below 128 ns have a bucket each; above, 64 buckets per power of
 * two (relative width 1/64).
 */
#define HIST_SUB	64
#define HIST_LINEAR	128
#define HIST_BUCKETS	(HIST_LINEAR + 40 * HIST_SUB)

struct hist {
	uint64_t	count[HIST_BUCKETS];
	uint64_t	n;
	double		sum;
};

static unsigned int hist_idx(uint64_t v)
{
	unsigned int msb, idx;

	if (v < HIST_LINEAR)
		return v;
	msb = 63 - __builtin_clzll(v);
	idx = HIST_LINEAR + (msb - 7) * HIST_SUB +
	      ((v >> (msb - 6)) & (HIST_SUB - 1));
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static double hist_value(unsigned int idx)
{
	unsigned int msb, sub;

	if (idx < HIST_LINEAR)
		return idx;
	msb = (idx - HIST_LINEAR) / HIST_SUB + 7;
	sub = (idx - HIST_LINEAR) % HIST_SUB;
	/* The middle of the bucket. */
	return ldexp(HIST_SUB + sub + 0.5, msb - 6);
}

static void hist_add(struct hist *h, uint64_t ns)
{
	h->count[hist_idx(ns)]++;
	h->n++;
	h->sum += ns;
}

static double hist_pct(const struct hist *h, double p)
{
	uint64_t want = (uint64_t)ceil(p / 100.0 * h->n), seen = 0;
	unsigned int i;

	if (!h->n)
		return 0;
	if (!want)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want)
			return hist_value(i);
	}
	return hist_value(HIST_BUCKETS - 1);
}

/* --- clocks and CPU ------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Who spent the CPU time of a run.  Every thread's run time comes from
 * /proc/<pid>/task/<tid>/schedstat (the scheduler's sum_exec_runtime, in
 * ns, exact); this process's own from CLOCK_PROCESS_CPUTIME_ID (the same
 * sum over its threads, io_uring's io-wq and SQPOLL workers included).
 * The others are grouped by name: kworkers (work items: nvmet's target
 * side, nvme-tcp's I/O work, kblockd), ksoftirqd (softirqs deferred to a
 * thread) and all other threads.  Debian's kernels have no
 * CONFIG_IRQ_TIME_ACCOUNTING: an interrupt or softirq that arrives while
 * a thread runs is charged to that thread, one that arrives on an idle CPU
 * to nobody; busy time minus every thread's time is that remainder.
 */
enum { CLS_KWORKER, CLS_KSOFTIRQD, CLS_OTHER, NR_CLS };

struct thr {
	int		tid;
	uint8_t		cls;
	uint64_t	ns;
};

struct cpu_snap {
	uint64_t	idle_ticks;	/* /proc/stat, USER_HZ */
	uint64_t	idle_ns;	/* /proc/timer_list, exact */
	bool		idle_exact;
	uint64_t	proc_ns;
	uint64_t	t;
	struct thr	*thr;
	unsigned int	nthr;
};

/*
 * Idle and iowait time of all CPUs, in USER_HZ ticks.  With NO_HZ the
 * kernel measures these exactly (get_cpu_idle_time_us()) and only rounds
 * them to ticks, whereas /proc/stat's user and system are tick samples:
 * busy time is taken as the complement of idle.
 */
static uint64_t proc_stat_idle(void)
{
	unsigned long long v[5] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4]);
	fclose(f);
	return n == 5 ? v[3] + v[4] : 0;
}

/*
 * The same in ns, unrounded, on a machine with one CPU (the instruction
 * counting VM): its NO_HZ idle and iowait sleep time from /proc/timer_list
 * (root only).  Those sums grow when the CPU leaves idle, and the CPU that
 * reads them is not idle, so they are complete; with more CPUs one may be
 * idle now, and /proc/timer_list does not say which.  false if there is
 * more than one CPU or the file cannot be read: then /proc/stat's ticks.
 */
static bool timer_list_idle(uint64_t *idle_ns)
{
	unsigned long long v, sum = 0;
	unsigned int cpus = 0, seen = 0;
	char line[256];
	FILE *f;

	if (sysconf(_SC_NPROCESSORS_ONLN) != 1)
		return false;
	f = fopen("/proc/timer_list", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "cpu: ", 5)) {
			cpus++;
		} else if (sscanf(line, " .idle_sleeptime : %llu", &v) == 1 ||
			   sscanf(line, " .iowait_sleeptime : %llu", &v) == 1) {
			sum += v;
			seen++;
		}
	}
	fclose(f);
	if (cpus != 1 || seen != 2)
		return false;
	*idle_ns = sum;
	return true;
}

/* The first line of a small file into @buf ("" if unreadable). */
static void read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	buf[0] = 0;
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static uint64_t read_u64(const char *path)
{
	char buf[96];

	read_line(path, buf, sizeof(buf));
	return strtoull(buf, NULL, 10);
}

static int thr_cmp(const void *a, const void *b)
{
	const struct thr *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* Every thread but ours, with its run time, sorted by tid. */
static void thr_scan(struct cpu_snap *s)
{
	DIR *proc = opendir("/proc"), *task;
	struct dirent *p, *t;
	unsigned int cap = 0;
	pid_t self = getpid();
	char path[96], comm[32];

	s->thr = NULL;
	s->nthr = 0;
	if (!proc)
		return;
	while ((p = readdir(proc))) {
		int pid = atoi(p->d_name);

		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		task = opendir(path);
		if (!task)
			continue;
		while ((t = readdir(task))) {
			int tid = atoi(t->d_name);
			struct thr *th;

			if (tid <= 0)
				continue;
			if (s->nthr == cap) {
				struct thr *n;

				cap = cap ? 2 * cap : 256;
				n = realloc(s->thr, cap * sizeof(*n));
				if (!n)
					break;
				s->thr = n;
			}
			th = &s->thr[s->nthr++];
			th->tid = tid;
			snprintf(path, sizeof(path),
				 "/proc/%d/task/%d/schedstat", pid, tid);
			th->ns = read_u64(path);
			snprintf(path, sizeof(path), "/proc/%d/task/%d/comm",
				 pid, tid);
			read_line(path, comm, sizeof(comm));
			th->cls = !strncmp(comm, "kworker/", 8) ? CLS_KWORKER :
				  !strncmp(comm, "ksoftirqd/", 10) ?
				  CLS_KSOFTIRQD : CLS_OTHER;
		}
		closedir(task);
	}
	closedir(proc);
	qsort(s->thr, s->nthr, sizeof(*s->thr), thr_cmp);
}

static uint64_t process_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The scans bracket the clocks: at the start threads, idle, this process,
 * then the time; at the end the reverse.  So this process's time holds
 * no scan at all, and busy time at most the reading of one clock.
 */
static void cpu_snap_start(struct cpu_snap *s)
{
	thr_scan(s);
	s->idle_ticks = proc_stat_idle();
	s->idle_exact = timer_list_idle(&s->idle_ns);
	s->proc_ns = process_ns();
	s->t = now_ns();
}

static void cpu_snap_end(struct cpu_snap *s)
{
	s->t = now_ns();
	s->proc_ns = process_ns();
	s->idle_exact = timer_list_idle(&s->idle_ns);
	s->idle_ticks = proc_stat_idle();
	thr_scan(s);
}

/* Run time per class of the threads in @b, less what they had in @a. */
static void thr_diff(const struct cpu_snap *a, const struct cpu_snap *b,
		     double cls_s[NR_CLS])
{
	unsigned int i, j = 0;

	for (i = 0; i < NR_CLS; i++)
		cls_s[i] = 0;
	for (i = 0; i < b->nthr; i++) {
		const struct thr *t = &b->thr[i];
		uint64_t before = 0;

		while (j < a->nthr && a->thr[j].tid < t->tid)
			j++;
		if (j < a->nthr && a->thr[j].tid == t->tid)
			before = a->thr[j].ns;
		/* A thread new since the start counts whole. */
		if (t->ns > before)
			cls_s[t->cls] += (t->ns - before) / 1e9;
	}
}

/* --- results -------------------------------------------------------------- */

struct result {
	uint64_t	ios;
	uint64_t	errors;
	double		seconds;
	double		iops;
	double		cpu_s;		/* all CPUs: busy time */
	double		proc_cpu_s;	/* this process (fio: fio's own) */
	double		cls_s[NR_CLS];	/* other threads, by kind */
	bool		by_thread;	/* cls_s measured (not for fio) */
	double		lat_mean_us, lat_p50_us, lat_p99_us;
	char		note[64];
};

/* --- the device ----------------------------------------------------------- */

struct dev {
	const char	*name;
	const char	*path;
	const char	*generic;
	const char	*kernel;
	uint32_t	lba_size;
	uint32_t	nsid;		/* 0: not an NVMe namespace */
	uint64_t	size;
	bool		io_poll;	/* the queue has poll queues */
	/* "disk=scheduler", a multipath head's paths in brackets */
	char		queues[192];
	bool		mq;		/* blk-mq (not a multipath head) */
};

/* Append @src to the string in @dst (@size bytes), cut to fit. */
static void str_add(char *dst, size_t size, const char *src)
{
	size_t have = strlen(dst), n = strlen(src);

	if (have + 1 >= size)
		return;
	if (n > size - have - 1)
		n = size - have - 1;
	memcpy(dst + have, src, n);
	dst[have + n] = 0;
}

/* Append "@disk=<its scheduler>" ("none" for a bio-based disk). */
static void add_disk_sched(char *dst, size_t size, const char *disk)
{
	char path[300], buf[256], *a, *b;

	snprintf(path, sizeof(path), "/sys/block/%s/queue/scheduler", disk);
	read_line(path, buf, sizeof(buf));
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (a && b)
		*b = 0;
	str_add(dst, size, disk);
	str_add(dst, size, "=");
	str_add(dst, size, a && b ? a + 1 : *buf ? buf : "?");
}

/*
 * d->queues: the disk and its scheduler; for an NVMe multipath head
 * (nvme<S>n<N>, bio-based) "=head" and the hidden per-path disks
 * nvme<S>c<C>n<N> its I/O goes through, each with its own.
 */
static void dev_queues(struct dev *d, const char *disk)
{
	unsigned int sub, ns, c, n2, s2;
	size_t size = sizeof(d->queues);
	struct dirent *e;
	bool head = false;
	DIR *dir;
	int len;

	d->queues[0] = 0;
	if (sscanf(disk, "nvme%un%u%n", &sub, &ns, &len) == 2 &&
	    !disk[len] && (dir = opendir("/sys/block"))) {
		while ((e = readdir(dir))) {
			if (sscanf(e->d_name, "nvme%uc%un%u%n", &s2, &c, &n2,
				   &len) != 3 || e->d_name[len] ||
			    s2 != sub || n2 != ns)
				continue;
			if (!head) {
				str_add(d->queues, size, disk);
				str_add(d->queues, size, "=head(");
			} else {
				str_add(d->queues, size, " ");
			}
			head = true;
			add_disk_sched(d->queues, size, e->d_name);
		}
		closedir(dir);
		if (head) {
			str_add(d->queues, size, ")");
			return;
		}
	}
	add_disk_sched(d->queues, size, disk);
}

static int dev_probe(struct dev *d)
{
	char sys[256], buf[32], link[512];
	struct stat st;
	int fd, ret, pf;

	fd = open(d->path, O_RDONLY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISBLK(st.st_mode) ||
	    ioctl(fd, BLKSSZGET, &d->lba_size) ||
	    ioctl(fd, BLKGETSIZE64, &d->size)) {
		close(fd);
		return -ENOTBLK;
	}
	ret = ioctl(fd, NVME_IOCTL_ID);
	d->nsid = ret > 0 ? (uint32_t)ret : 0;
	close(fd);

	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u",
		 major(st.st_rdev), minor(st.st_rdev));
	ret = readlink(sys, link, sizeof(link) - 1);
	if (ret > 0) {
		link[ret] = 0;
		dev_queues(d, strrchr(link, '/') ? strrchr(link, '/') + 1 :
			   link);
	} else {
		snprintf(d->queues, sizeof(d->queues), "?");
	}
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/queue/io_poll",
		 major(st.st_rdev), minor(st.st_rdev));
	pf = open(sys, O_RDONLY);
	if (pf >= 0) {
		ret = read(pf, buf, sizeof(buf) - 1);
		d->io_poll = ret > 0 && buf[0] == '1';
		close(pf);
	}
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/mq",
		 major(st.st_rdev), minor(st.st_rdev));
	d->mq = !access(sys, F_OK);
	return 0;
}

/* --- one run: the loop every engine shares -------------------------------- */

struct run;

struct engine {
	const char	*name;
	bool		baseline;
	bool		nvme;		/* needs an NVMe namespace */
	bool		generic;	/* needs /dev/ngXnY */
	bool		qd1;		/* synchronous: queue depth 1 only */
	bool		poll;		/* needs poll queues */
	bool		lean;		/* fio without latency statistics */
	bool		harness;	/* no I/O: the run loop alone */
	bool		direct;		/* needs a blk-mq namespace */
	int		(*open)(struct run *r);
	/* Queue the I/O of @slot at byte @off (submitted by go()). */
	void		(*prep)(struct run *r, unsigned int slot, uint64_t off);
	/*
	 * Submit what prep() queued, then wait until at least @min I/Os
	 * completed; store the completed slots in r->done[] and their
	 * results (bytes or -errno) in r->res[].  Returns how many, or
	 * -errno.
	 */
	int		(*go)(struct run *r, unsigned int queued, unsigned int min);
	void		(*close)(struct run *r);
	unsigned int	nrio_flags;
	unsigned int	nrio_engine;
};

struct run {
	const struct engine	*e;
	const struct workload	*w;
	const struct dev	*d;
	int			fd;
	uint8_t			*buf;		/* qd * bs, for baselines */
	size_t			buf_len;
	struct nrio		*n;
	struct io_uring		ring;
	bool			ring_ready;
	io_context_t		aio;
	struct iocb		iocbs[MAX_QD];
	struct iocb		*iocbp[MAX_QD];
	unsigned int		nq;
	uint64_t		off[MAX_QD];
	unsigned int		done[MAX_QD];
	int			res[MAX_QD];
	struct nvme_ring_io_cqe	cqes[MAX_QD];
	struct io_event		events[MAX_QD];
};

static const char *tracing_dir;

static int tracing_on(bool on)
{
	char path[512];
	int fd, ret = 0;

	if (!tracing_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/tracing_on", tracing_dir);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, on ? "1" : "0", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* The first failed I/O of a run, in its note: an errno or NVMe status. */
static void note_error(struct result *res, int v)
{
	if (v < 0)
		snprintf(res->note, sizeof(res->note), "first error: %s",
			 strerror(-v));
	else
		snprintf(res->note, sizeof(res->note),
			 "first error: NVMe status 0x%x", v);
}

static int run_loop(struct run *r, double seconds, uint64_t count,
		    struct result *res)
{
	const struct workload *w = r->w;
	unsigned int freelist[MAX_QD], nfree = w->qd, inflight = 0, i;
	uint64_t ts[MAX_QD], submitted = 0, seq = 0, rng = 0x9e3779b97f4a7c15ULL;
	uint64_t range = r->d->size < RANGE_MAX ? r->d->size : RANGE_MAX;
	uint64_t blocks = range / w->bs, t0, deadline, t;
	struct hist *h = calloc(1, sizeof(*h));
	struct cpu_snap a, b;
	bool stop = false;
	int ret = 0;

	if (!h)
		return -ENOMEM;
	if (!blocks) {
		free(h);
		return -ENOSPC;
	}
	for (i = 0; i < w->qd; i++)
		freelist[i] = w->qd - 1 - i;
	memset(res, 0, sizeof(*res));

	/* Trace the I/Os only, not the snapshots' /proc scans. */
	cpu_snap_start(&a);
	tracing_on(true);
	t0 = a.t;
	deadline = t0 + (uint64_t)(seconds * 1e9);
	while (!stop || inflight) {
		unsigned int queued = 0, min;
		int got;

		while (!stop && nfree >= w->batch) {
			for (i = 0; i < w->batch; i++) {
				unsigned int slot = freelist[--nfree];
				uint64_t blk;

				blk = w->seq ? seq++ % blocks :
					       xorshift(&rng) % blocks;
				r->e->prep(r, slot, blk * w->bs);
				r->done[queued++] = slot;
			}
			submitted += w->batch;
			if (count && submitted >= count)
				stop = true;
		}
		/* Completions needed before the next batch fits. */
		if (stop)
			min = 1;
		else
			min = w->batch - nfree;
		t = now_ns();
		for (i = 0; i < queued; i++)
			ts[r->done[i]] = t;
		inflight += queued;
		if (min > inflight)
			min = inflight;
		got = r->e->go(r, queued, min);
		if (got < 0) {
			ret = got;
			break;
		}
		t = now_ns();
		for (i = 0; i < (unsigned int)got; i++) {
			unsigned int slot = r->done[i];

			if (r->res[i] != (int)w->bs && !res->errors++)
				note_error(res, r->res[i]);
			hist_add(h, t - ts[slot]);
			freelist[nfree++] = slot;
		}
		inflight -= got;
		res->ios += got;
		if (!count && t >= deadline)
			stop = true;
	}
	tracing_on(false);
	cpu_snap_end(&b);

	res->seconds = (b.t - a.t) / 1e9;
	res->iops = res->ios / res->seconds;
	if (a.idle_exact && b.idle_exact)
		res->cpu_s = sysconf(_SC_NPROCESSORS_ONLN) * res->seconds -
			     (double)(b.idle_ns - a.idle_ns) / 1e9;
	else
		res->cpu_s = sysconf(_SC_NPROCESSORS_ONLN) * res->seconds -
			     (double)(b.idle_ticks - a.idle_ticks) /
			     sysconf(_SC_CLK_TCK);
	if (res->cpu_s < 0.01 * res->seconds)	/* rounding: never 0 */
		res->cpu_s = 0.01 * res->seconds;
	res->proc_cpu_s = (b.proc_ns - a.proc_ns) / 1e9;
	thr_diff(&a, &b, res->cls_s);
	res->by_thread = true;
	free(a.thr);
	free(b.thr);
	res->lat_mean_us = h->n ? h->sum / h->n / 1000.0 : 0;
	res->lat_p50_us = hist_pct(h, 50) / 1000.0;
	res->lat_p99_us = hist_pct(h, 99) / 1000.0;
	free(h);
	return ret;
}

/* --- baseline buffers ----------------------------------------------------- */

static int buf_alloc(struct run *r)
{
	size_t len = (size_t)r->w->qd * r->w->bs;

	/* 2 MiB aligned and THP-backed, as a careful author would. */
	len = (len + (2U << 20) - 1) & ~(size_t)((2U << 20) - 1);
	r->buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r->buf == MAP_FAILED) {
		r->buf = NULL;
		return -errno;
	}
	madvise(r->buf, len, MADV_HUGEPAGE);
	memset(r->buf, 0xa5, len);
	r->buf_len = len;
	return 0;
}

static void base_close(struct run *r)
{
	if (r->ring_ready)
		io_uring_queue_exit(&r->ring);
	r->ring_ready = false;
	if (r->buf)
		munmap(r->buf, r->buf_len);
	r->buf = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/*
 * The baselines' open, with O_NOATIME as fio's: without it every I/O
 * updates the device node's atime (about 115 guest instructions per I/O
 * measured under icount).  A caller who neither owns the node nor has
 * CAP_FOWNER gets EPERM for it, and opens without.
 */
static int open_target(struct run *r, const char *path, int direct)
{
	int flags = (r->w->write ? O_RDWR : O_RDONLY) | direct | O_CLOEXEC;

	r->fd = open(path, flags | O_NOATIME);
	if (r->fd < 0 && errno == EPERM)
		r->fd = open(path, flags);
	return r->fd < 0 ? -errno : 0;
}

/* --- nvme_ring_io engines (the library) ----------------------------------- */

static int nrio_e_open(struct run *r)
{
	struct nrio_opts o;
	size_t len = (size_t)r->w->qd * r->w->bs;

	nrio_opts_init(&o);
	o.engine = r->e->nrio_engine;
	o.flags = r->e->nrio_flags;
	o.sq_entries = MAX_QD;
	o.cq_entries = 2 * MAX_QD;
	o.data_size = (len + (2U << 20) - 1) & ~(size_t)((2U << 20) - 1);
	return nrio_open(r->d->path, r->w->write ? O_RDWR : O_RDONLY, &o,
			 &r->n);
}

static void nrio_e_prep(struct run *r, unsigned int slot, uint64_t off)
{
	struct nvme_ring_io_sqe *sqe = nrio_get_sqe(r->n);
	uint32_t lba = r->d->lba_size;

	/* The SQ ring has MAX_QD entries: never full here. */
	nrio_prep_rw(r->n, sqe, r->w->write ? NVME_RING_IO_OP_WRITE :
					      NVME_RING_IO_OP_READ,
		     off / lba, r->w->bs / lba, (uint64_t)slot * r->w->bs,
		     slot);
}

static int nrio_e_go(struct run *r, unsigned int queued, unsigned int min)
{
	int ret, i;

	(void)queued;
	/* As an application would: one call submits and waits. */
	ret = nrio_submit_and_wait(r->n, min);
	if (ret < 0)
		return ret;
	ret = nrio_reap(r->n, r->cqes, MAX_QD, 0, 0);
	for (i = 0; i < ret; i++) {
		r->done[i] = (unsigned int)r->cqes[i].user_data;
		r->res[i] = r->cqes[i].res;
	}
	return ret;
}

static void nrio_e_close(struct run *r)
{
	if (r->n)
		nrio_close(r->n);
	r->n = NULL;
}

/* --- io_uring on the block device: fixed buffers, registered file --------- */

static int uring_init(struct run *r, unsigned int flags)
{
	struct io_uring_params p;
	int ret;

	/*
	 * One task submits and reaps: SINGLE_ISSUER and DEFER_TASKRUN where
	 * the kernel has them (6.1 does), as liburing's author recommends.
	 */
	memset(&p, 0, sizeof(p));
	p.flags = flags | IORING_SETUP_SINGLE_ISSUER |
		  IORING_SETUP_DEFER_TASKRUN;
	ret = io_uring_queue_init_params(2 * MAX_QD, &r->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = flags | IORING_SETUP_COOP_TASKRUN;
		ret = io_uring_queue_init_params(2 * MAX_QD, &r->ring, &p);
	}
	if (ret)
		return ret;
	r->ring_ready = true;
	return 0;
}

static int uring_register(struct run *r)
{
	struct iovec iov[MAX_QD];
	unsigned int i;
	int ret;

	for (i = 0; i < r->w->qd; i++) {
		iov[i].iov_base = r->buf + (size_t)i * r->w->bs;
		iov[i].iov_len = r->w->bs;
	}
	ret = io_uring_register_buffers(&r->ring, iov, r->w->qd);
	if (ret)
		return ret;
	return io_uring_register_files(&r->ring, &r->fd, 1);
}

static int uring_open_flags(struct run *r, unsigned int flags)
{
	int ret;

	ret = open_target(r, r->d->path, O_DIRECT);
	if (!ret)
		ret = buf_alloc(r);
	if (!ret)
		ret = uring_init(r, flags);
	if (!ret)
		ret = uring_register(r);
	return ret;
}

static int uring_open(struct run *r)
{
	return uring_open_flags(r, 0);
}

static int uring_poll_open(struct run *r)
{
	return uring_open_flags(r, IORING_SETUP_IOPOLL);
}

static void uring_prep(struct run *r, unsigned int slot, uint64_t off)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	void *b = r->buf + (size_t)slot * r->w->bs;

	if (!sqe)	/* the ring has room for twice the queue depth */
		abort();
	if (r->w->write)
		io_uring_prep_write_fixed(sqe, 0, b, r->w->bs, off, slot);
	else
		io_uring_prep_read_fixed(sqe, 0, b, r->w->bs, off, slot);
	sqe->flags |= IOSQE_FIXED_FILE;
	sqe->user_data = slot;
}

/* Collect completions into r->done[] and r->res[] from index @n on. */
static unsigned int uring_reap(struct run *r, unsigned int n, bool pt)
{
	struct io_uring_cqe *cqe;
	unsigned int head, first = n;

	io_uring_for_each_cqe(&r->ring, head, cqe) {
		r->done[n] = (unsigned int)cqe->user_data;
		/* Passthrough: 0 is success, > 0 an NVMe status. */
		if (pt)
			r->res[n] = cqe->res ? cqe->res : (int)r->w->bs;
		else
			r->res[n] = cqe->res;
		n++;
	}
	io_uring_cq_advance(&r->ring, n - first);
	return n;
}

static int uring_go_common(struct run *r, unsigned int min, bool pt)
{
	unsigned int got = 0;
	int ret;

	/* One system call submits the batch and waits. */
	for (;;) {
		ret = io_uring_submit_and_wait(&r->ring, min - got);
		if (ret < 0 && ret != -EINTR)
			return ret;
		got = uring_reap(r, got, pt);
		if (got >= min)
			return got;
		/* IOPOLL or a short wake-up: wait for the rest. */
	}
}

static int uring_go(struct run *r, unsigned int queued, unsigned int min)
{
	(void)queued;
	return uring_go_common(r, min, false);
}

/* --- io_uring NVMe passthrough on /dev/ngXnY, fixed buffers --------------- */

static int uring_pt_open(struct run *r)
{
	int ret;

	/* A char device: no page cache, and O_DIRECT would be EINVAL. */
	ret = open_target(r, r->d->generic, 0);
	if (ret)
		return ret;
	ret = buf_alloc(r);
	if (ret)
		return ret;
	ret = uring_init(r, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	if (!ret)
		ret = uring_register(r);
	return ret;
}

static void uring_pt_prep(struct run *r, unsigned int slot, uint64_t off)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	struct nvme_uring_cmd *c = (struct nvme_uring_cmd *)sqe->cmd;
	uint32_t lba = r->d->lba_size;
	uint64_t slba = off / lba;

	if (!sqe)	/* the ring has room for twice the queue depth */
		abort();
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = 0;
	sqe->flags = IOSQE_FIXED_FILE;
	sqe->cmd_op = NVME_URING_CMD_IO;
	sqe->user_data = slot;
	sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
	sqe->buf_index = slot;
	c->opcode = r->w->write ? 0x01 : 0x02;
	c->nsid = r->d->nsid;
	c->addr = (uintptr_t)(r->buf + (size_t)slot * r->w->bs);
	c->data_len = r->w->bs;
	c->cdw10 = (uint32_t)slba;
	c->cdw11 = (uint32_t)(slba >> 32);
	c->cdw12 = r->w->bs / lba - 1;
}

static int uring_pt_go(struct run *r, unsigned int queued, unsigned int min)
{
	(void)queued;
	return uring_go_common(r, min, true);
}

/* --- libaio ---------------------------------------------------------------- */

static int aio_open(struct run *r)
{
	int ret;

	ret = open_target(r, r->d->path, O_DIRECT);
	if (!ret)
		ret = buf_alloc(r);
	if (!ret) {
		memset(&r->aio, 0, sizeof(r->aio));
		ret = io_setup(MAX_QD, &r->aio);
	}
	r->nq = 0;
	return ret;
}

static void aio_prep(struct run *r, unsigned int slot, uint64_t off)
{
	struct iocb *cb = &r->iocbs[slot];
	void *b = r->buf + (size_t)slot * r->w->bs;

	if (r->w->write)
		io_prep_pwrite(cb, r->fd, b, r->w->bs, off);
	else
		io_prep_pread(cb, r->fd, b, r->w->bs, off);
	cb->data = (void *)(uintptr_t)slot;
	r->iocbp[r->nq++] = cb;
}

static int aio_go(struct run *r, unsigned int queued, unsigned int min)
{
	unsigned int i, done = 0;
	int ret;

	while (done < queued) {
		ret = io_submit(r->aio, queued - done, r->iocbp + done);
		if (ret < 0)
			return ret;
		done += ret;
	}
	r->nq = 0;
	do {
		ret = io_getevents(r->aio, min, MAX_QD, r->events, NULL);
	} while (ret == -EINTR);
	if (ret < 0)
		return ret;
	for (i = 0; i < (unsigned int)ret; i++) {
		r->done[i] = (unsigned int)(uintptr_t)r->events[i].data;
		r->res[i] = (int)(long)r->events[i].res;
	}
	return ret;
}

static void aio_close(struct run *r)
{
	if (r->aio)
		io_destroy(r->aio);
	base_close(r);
}

/* --- pread / pwrite --------------------------------------------------------- */

static int psync_open(struct run *r)
{
	int ret = open_target(r, r->d->path, O_DIRECT);

	return ret ? ret : buf_alloc(r);
}

static void psync_prep(struct run *r, unsigned int slot, uint64_t off)
{
	r->done[0] = slot;
	r->off[slot] = off;
}

static int psync_go(struct run *r, unsigned int queued, unsigned int min)
{
	unsigned int slot = r->done[0];
	void *b = r->buf + (size_t)slot * r->w->bs;
	ssize_t ret;

	(void)queued;
	(void)min;
	if (r->w->write)
		ret = pwrite(r->fd, b, r->w->bs, r->off[slot]);
	else
		ret = pread(r->fd, b, r->w->bs, r->off[slot]);
	r->res[0] = ret < 0 ? -errno : (int)ret;
	return 1;
}

/*
 * --- the harness: no I/O ------------------------------------------------------
 *
 * Every I/O "completes" at once: what the run loop itself costs per I/O
 * (choosing offsets, the latency clock and histogram), which every other
 * engine's figures include too.
 */
static int harness_open(struct run *r)
{
	(void)r;
	return 0;
}

static void harness_prep(struct run *r, unsigned int slot, uint64_t off)
{
	r->off[slot] = off;
}

static int harness_go(struct run *r, unsigned int queued, unsigned int min)
{
	unsigned int i;

	(void)min;
	/* r->done[0..queued) already names the slots just queued. */
	for (i = 0; i < queued; i++)
		r->res[i] = (int)r->w->bs;
	return (int)queued;
}

static void harness_close(struct run *r)
{
	(void)r;
}

/* --- the engine table ------------------------------------------------------ */

static const struct engine engines[] = {
	{ .name = "kern-ioctl", .nvme = true, .open = nrio_e_open,
	  .prep = nrio_e_prep, .go = nrio_e_go, .close = nrio_e_close },
	{ .name = "kern-uring", .nvme = true, .open = nrio_e_open,
	  .prep = nrio_e_prep, .go = nrio_e_go, .close = nrio_e_close,
	  .nrio_flags = NRIO_OPEN_URING },
	{ .name = "kern-poll", .nvme = true, .open = nrio_e_open,
	  .prep = nrio_e_prep, .go = nrio_e_go, .close = nrio_e_close,
	  .nrio_flags = NRIO_OPEN_POLL },
	{ .name = "kern-direct", .nvme = true, .direct = true,
	  .open = nrio_e_open, .prep = nrio_e_prep, .go = nrio_e_go,
	  .close = nrio_e_close, .nrio_flags = NRIO_OPEN_DIRECT },
	/* One thread, as uring-pt's SINGLE_ISSUER | DEFER_TASKRUN. */
	{ .name = "passthru", .nvme = true, .generic = true,
	  .open = nrio_e_open, .prep = nrio_e_prep, .go = nrio_e_go,
	  .close = nrio_e_close, .nrio_engine = NRIO_ENGINE_PASSTHRU,
	  .nrio_flags = NRIO_OPEN_SINGLE_ISSUER },
	{ .name = "uring", .baseline = true, .open = uring_open,
	  .prep = uring_prep, .go = uring_go, .close = base_close },
	{ .name = "uring-iopoll", .baseline = true, .poll = true,
	  .open = uring_poll_open, .prep = uring_prep, .go = uring_go,
	  .close = base_close },
	{ .name = "uring-pt", .baseline = true, .nvme = true, .generic = true,
	  .open = uring_pt_open, .prep = uring_pt_prep, .go = uring_pt_go,
	  .close = base_close },
	{ .name = "libaio", .baseline = true, .open = aio_open,
	  .prep = aio_prep, .go = aio_go, .close = aio_close },
	{ .name = "psync", .baseline = true, .qd1 = true, .open = psync_open,
	  .prep = psync_prep, .go = psync_go, .close = base_close },
	/* fio runs as a child process: see fio_run(). */
	{ .name = "fio-uring" },
	{ .name = "fio-uring-cmd", .nvme = true, .generic = true },
	{ .name = "fio-uring-lean", .lean = true },
	{ .name = "fio-uring-cmd-lean", .nvme = true, .generic = true,
	  .lean = true },
	{ .name = "harness", .harness = true, .open = harness_open,
	  .prep = harness_prep, .go = harness_go, .close = harness_close },
};
#define NR_ENGINES	(sizeof(engines) / sizeof(engines[0]))

static bool is_fio(const struct engine *e)
{
	return !e->open;
}

/* --- fio -------------------------------------------------------------------- */

/* terse v3 fields (0-based): read section at 5, write section at 46. */
#define T_READ		5
#define T_WRITE		46
#define T_IOPS		2
#define T_PCT		12	/* 20 "p%=usec" fields */
#define T_LAT_MEAN	34
#define T_CPU_USR	87
#define T_CPU_SYS	88

static int fio_parse(char *out, const struct workload *w, struct result *res)
{
	char *tok[160], *s = out, *p;
	unsigned int n = 0, i, base = w->write ? T_WRITE : T_READ;

	/* The terse line is the last line starting with "3;". */
	for (p = out; (p = strstr(p, "3;fio-")); s = p, p++)
		;
	while (n < 160 && (p = strsep(&s, ";\n")))
		tok[n++] = p;
	if (n <= T_CPU_SYS)
		return -EPROTO;
	res->iops = strtod(tok[base + T_IOPS], NULL);
	res->lat_mean_us = strtod(tok[base + T_LAT_MEAN], NULL);
	for (i = 0; i < 20; i++) {
		char *v = strstr(tok[base + T_PCT + i], "%=");

		if (!v)
			continue;
		if (!strncmp(tok[base + T_PCT + i], "50.0", 4))
			res->lat_p50_us = strtod(v + 2, NULL);
		else if (!strncmp(tok[base + T_PCT + i], "99.0", 4))
			res->lat_p99_us = strtod(v + 2, NULL);
	}
	res->proc_cpu_s = (strtod(tok[T_CPU_USR], NULL) +
			   strtod(tok[T_CPU_SYS], NULL)) / 100.0 *
			  res->seconds;
	return 0;
}

static int fio_run(const char *fio, const struct engine *e,
		   const struct dev *d, const struct workload *w,
		   double seconds, struct result *res)
{
	char a[24][96], out[16384];
	char *argv[32];
	unsigned int argc = 0, i;
	int pipefd[2], status;
	size_t len = 0;
	ssize_t got;
	pid_t pid;
	bool cmd = e->generic;
	uint64_t range = d->size < RANGE_MAX ? d->size : RANGE_MAX;

#define ARG(...) snprintf(a[argc], sizeof(a[0]), __VA_ARGS__), \
		 argv[argc] = a[argc], argc++
	ARG("%s", fio);
	ARG("--name=nrio");
	ARG("--filename=%s", cmd ? d->generic : d->path);
	ARG("--ioengine=%s", cmd ? "io_uring_cmd" : "io_uring");
	ARG("--rw=%s", w->seq ? (w->write ? "write" : "read") :
			(w->write ? "randwrite" : "randread"));
	ARG("--bs=%u", w->bs);
	ARG("--iodepth=%u", w->qd);
	ARG("--iodepth_batch_submit=%u", w->batch);
	ARG("--iodepth_batch_complete_min=%u", w->batch);
	ARG("--size=%llu", (unsigned long long)range);
	ARG("--runtime=%llums", (unsigned long long)(seconds * 1000));
	ARG("--time_based");
	ARG("--fixedbufs");
	ARG("--registerfiles");
	ARG("--norandommap");
	ARG("--randrepeat=0");
	if (e->lean) {
		/* No clock reads for latency or bandwidth statistics. */
		ARG("--gtod_reduce=1");
	} else {
		ARG("--lat_percentiles=1");
		ARG("--percentile_list=50:99");
	}
	ARG("--output-format=terse");
	ARG("--terse-version=3");
	if (cmd)
		ARG("--cmd_type=nvme");
	else
		ARG("--direct=1");
	argv[argc] = NULL;
#undef ARG

	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execv(fio, argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((got = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += got;
	close(pipefd[0]);
	out[len] = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		for (i = 0; i < len && i < 400; i++)
			if (out[i] == '\n')
				out[i] = ' ';
		fprintf(stderr, "nrio_bench: fio failed: %.400s\n", out);
		return -EIO;
	}
	res->seconds = seconds;
	if (fio_parse(out, w, res))
		return -EPROTO;
	res->ios = (uint64_t)(res->iops * seconds);
	/* fio's own CPU: /proc/stat would also count fio's start-up. */
	res->cpu_s = res->proc_cpu_s;
	snprintf(res->note, sizeof(res->note), "fio usr+sys only");
	return 0;
}

/*
 * Write the range the workloads use once, so that no engine pays for the
 * first write to a block (a sparse backing file, thin provisioning) and
 * reads return data, as on a device in service.
 */
static int precondition(const struct dev *d, uint64_t limit)
{
	uint64_t range = d->size < RANGE_MAX ? d->size : RANGE_MAX, off;
	size_t len = 1U << 20;
	uint64_t t0 = now_ns();
	void *buf;
	int fd, ret = 0;

	if (limit < range)
		range = limit;
	if (!range)
		return 0;
	fd = open(d->path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (posix_memalign(&buf, 4096, len)) {
		close(fd);
		return -ENOMEM;
	}
	memset(buf, 0x5a, len);
	for (off = 0; off < range && !ret; off += len) {
		size_t n = range - off < len ? range - off : len;

		if (pwrite(fd, buf, n, off) != (ssize_t)n)
			ret = -EIO;
	}
	if (!ret && fsync(fd))
		ret = -errno;
	free(buf);
	close(fd);
	printf("nrio_bench: wrote the first %" PRIu64 " MiB once in %.1f s\n",
	       range >> 20, (now_ns() - t0) / 1e9);
	return ret;
}

/* --- run one engine on one workload ---------------------------------------- */

static const char *skip_reason(const struct engine *e, const struct dev *d,
			       const struct workload *w, const char *fio)
{
	if (e->nvme && !d->nsid)
		return "not an NVMe namespace";
	if (e->generic && !d->generic)
		return "no generic device";
	if (e->qd1 && w->qd != 1)
		return "synchronous";
	if (e->poll && !d->io_poll)
		return "no poll queues";
	if (e->direct && !d->mq)
		return "multipath head: direct mode refused";
	if (is_fio(e) && !fio)
		return "no fio";
	return NULL;
}

static int run_one(const struct engine *e, const struct dev *d,
		   const struct workload *w, double seconds, uint64_t count,
		   const char *fio, struct result *res)
{
	struct run *r;
	int ret;

	memset(res, 0, sizeof(*res));
	if (is_fio(e))
		return fio_run(fio, e, d, w, seconds, res);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->e = e;
	r->w = w;
	r->d = d;
	r->fd = -1;
	ret = e->open(r);
	if (!ret)
		ret = run_loop(r, seconds, count, res);
	e->close(r);
	free(r);
	if (!ret && res->errors)
		ret = -EIO;
	return ret;
}

/* --- CSV -------------------------------------------------------------------- */

static const char csv_header[] =
	"kernel,device,workload,engine,repeat,ios,seconds,iops,cpu_s,"
	"proc_cpu_s,iops_per_cpu_s,lat_mean_us,lat_p50_us,lat_p99_us,"
	"errors,note,kworker_cpu_s,ksoftirqd_cpu_s,other_cpu_s,queues\n";

static void csv_row(FILE *f, const struct dev *d, const struct workload *w,
		    const struct engine *e, unsigned int rep,
		    const struct result *r)
{
	fprintf(f, "%s,%s,%s,%s,%u,%" PRIu64 ",%.4f,%.1f,%.6f,%.6f,%.1f,"
		"%.2f,%.2f,%.2f,%" PRIu64 ",%s,%.6f,%.6f,%.6f,%s\n",
		d->kernel, d->name, w->name, e->name, rep, r->ios, r->seconds,
		r->iops, r->cpu_s, r->proc_cpu_s,
		r->cpu_s > 0 ? r->iops * r->seconds / r->cpu_s : 0,
		r->lat_mean_us, r->lat_p50_us, r->lat_p99_us, r->errors,
		r->note, r->by_thread ? r->cls_s[CLS_KWORKER] : -1,
		r->by_thread ? r->cls_s[CLS_KSOFTIRQD] : -1,
		r->by_thread ? r->cls_s[CLS_OTHER] : -1, d->queues);
}

/* --- report ----------------------------------------------------------------- */

/*
 * Cost per I/O in ns of CPU time (under -icount: guest instructions):
 * busy, this process, kworkers, ksoftirqd, other threads, and the rest
 * (interrupts and softirqs that hit an idle CPU).
 */
enum { C_BUSY, C_PROC, C_KWORKER, C_KSOFTIRQD, C_OTHER, C_REST, NR_C };

struct row {
	char	kernel[64], device[32], workload[32], engine[24];
	char	queues[192];
	double	iops, ipc, mean, p50, p99;
	double	c[NR_C];
	bool	attr;		/* c[] beyond C_BUSY measured */
};

struct agg {
	struct row	r;		/* medians */
	unsigned int	n;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const struct workload *workload_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < NR_WORKLOADS; i++)
		if (!strcmp(workloads[i].name, name))
			return &workloads[i];
	return NULL;
}

static int load_rows(char **files, int nfiles, struct row **rows,
		     unsigned int *nrows)
{
	unsigned int cap = 0;
	char line[1024];
	int i;

	*rows = NULL;
	*nrows = 0;
	for (i = 0; i < nfiles; i++) {
		FILE *f = fopen(files[i], "r");

		if (!f) {
			fprintf(stderr, "nrio_bench: %s: %s\n", files[i],
				strerror(errno));
			return -errno;
		}
		while (fgets(line, sizeof(line), f)) {
			char *fld[20], *s = line, *p;
			unsigned int n = 0;
			struct row *r;
			double ios;

			while (n < 20 && (p = strsep(&s, ",\n")))
				fld[n++] = p;
			if (n < 15 || !strcmp(fld[0], "kernel") ||
			    strtoull(fld[14], NULL, 10))
				continue;	/* header, or a failed run */
			if (*nrows == cap) {
				cap = cap ? 2 * cap : 256;
				*rows = realloc(*rows, cap * sizeof(**rows));
				if (!*rows)
					return -ENOMEM;
			}
			r = &(*rows)[(*nrows)++];
			snprintf(r->kernel, sizeof(r->kernel), "%s", fld[0]);
			snprintf(r->device, sizeof(r->device), "%s", fld[1]);
			snprintf(r->workload, sizeof(r->workload), "%s",
				 fld[2]);
			snprintf(r->engine, sizeof(r->engine), "%s", fld[3]);
			r->iops = strtod(fld[7], NULL);
			r->ipc = strtod(fld[10], NULL);
			r->mean = strtod(fld[11], NULL);
			r->p50 = strtod(fld[12], NULL);
			r->p99 = strtod(fld[13], NULL);
			/* Older CSV files end at the note. */
			ios = strtod(fld[5], NULL);
			memset(r->c, 0, sizeof(r->c));
			r->attr = n >= 19 && strtod(fld[16], NULL) >= 0 &&
				  ios > 0;
			if (ios > 0)
				r->c[C_BUSY] = strtod(fld[8], NULL) / ios * 1e9;
			if (r->attr) {
				r->c[C_PROC] = strtod(fld[9], NULL) / ios * 1e9;
				r->c[C_KWORKER] = strtod(fld[16], NULL) / ios *
						  1e9;
				r->c[C_KSOFTIRQD] = strtod(fld[17], NULL) /
						    ios * 1e9;
				r->c[C_OTHER] = strtod(fld[18], NULL) / ios *
						1e9;
				r->c[C_REST] = r->c[C_BUSY] - r->c[C_PROC] -
					       r->c[C_KWORKER] -
					       r->c[C_KSOFTIRQD] -
					       r->c[C_OTHER];
			}
			snprintf(r->queues, sizeof(r->queues), "%s",
				 n >= 20 ? fld[19] : "");
		}
		fclose(f);
	}
	return 0;
}

/* Medians over the repeats of one (kernel, device, workload, engine). */
static bool aggregate(const struct row *rows, unsigned int nrows,
		      const char *kernel, const char *device,
		      const char *workload, const char *engine,
		      struct agg *out)
{
	double v[5 + NR_C][64];
	unsigned int i, k, n = 0, na = 0;

	for (i = 0; i < nrows && n < 64; i++) {
		const struct row *r = &rows[i];

		if (strcmp(r->kernel, kernel) || strcmp(r->device, device) ||
		    strcmp(r->workload, workload) || strcmp(r->engine, engine))
			continue;
		v[0][n] = r->iops;
		v[1][n] = r->ipc;
		v[2][n] = r->mean;
		v[3][n] = r->p50;
		v[4][n] = r->p99;
		v[5][n] = r->c[C_BUSY];
		if (r->attr) {
			for (k = 1; k < NR_C; k++)
				v[5 + k][na] = r->c[k];
			na++;
		}
		out->r = *r;	/* names and queues */
		n++;
	}
	if (!n)
		return false;
	out->n = n;
	out->r.c[C_BUSY] = median(v[5], n);
	out->r.attr = na == n;
	for (k = 1; k < NR_C; k++)
		out->r.c[k] = out->r.attr ? median(v[5 + k], na) : 0;
	out->r.iops = median(v[0], n);
	out->r.ipc = median(v[1], n);
	out->r.mean = median(v[2], n);
	out->r.p50 = median(v[3], n);
	out->r.p99 = median(v[4], n);
	return true;
}

/* Distinct values of a column, in order of first appearance. */
static unsigned int distinct(const struct row *rows, unsigned int nrows,
			     size_t off, const char **out, unsigned int max)
{
	unsigned int i, j, n = 0;

	for (i = 0; i < nrows; i++) {
		const char *s = (const char *)&rows[i] + off;

		for (j = 0; j < n && strcmp(out[j], s); j++)
			;
		if (j == n && n < max)
			out[n++] = s;
	}
	return n;
}

/* The best baseline per figure: highest IOPS and IOPS/CPU-s, lowest latency. */
struct best {
	double		v[5];		/* iops, ipc, mean, p50, p99 */
	const char	*name[5];
};

static void agg_vals(const struct agg *a, double v[5])
{
	v[0] = a->r.iops;
	v[1] = a->r.ipc;
	v[2] = a->r.mean;
	v[3] = a->r.p50;
	v[4] = a->r.p99;
}

static void find_best(const struct row *rows, unsigned int nrows,
		      const char *k, const char *dv, const char *wl,
		      struct best *b)
{
	unsigned int e, i;
	double v[5];
	struct agg a;

	memset(b, 0, sizeof(*b));
	for (e = 0; e < NR_ENGINES; e++) {
		if (!engines[e].baseline ||
		    !aggregate(rows, nrows, k, dv, wl, engines[e].name, &a))
			continue;
		agg_vals(&a, v);
		for (i = 0; i < 5; i++) {
			if (b->name[i] && (i < 2 ? v[i] <= b->v[i] :
						   v[i] >= b->v[i]))
				continue;
			b->v[i] = v[i];
			b->name[i] = engines[e].name;
		}
	}
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

/* The queues a device's runs went through, as the first row says. */
static const char *device_queues(const struct row *rows, unsigned int nrows,
				 const char *k, const char *dv)
{
	unsigned int i;

	for (i = 0; i < nrows; i++)
		if (!strcmp(rows[i].kernel, k) && !strcmp(rows[i].device, dv))
			return *rows[i].queues ? rows[i].queues : "not recorded";
	return "-";	/* no rows at all */
}

static bool icount_units;	/* report --icount: ns are instructions */

/*
 * Where each engine's CPU time went, per I/O: the busy total, this
 * process (user + system), kworkers, ksoftirqd, other threads, and the
 * rest: interrupts and softirqs that arrived on an idle CPU (Debian's
 * kernels charge one that hits a running thread to that thread).
 */
static void report_costs(const struct row *rows, unsigned int nrows,
			 const char *k, const char *dv, bool md)
{
	static const char *const hdr[NR_C] = {
		"busy", "process", "kworkers", "ksoftirqd", "other", "rest" };
	const char *wls[NR_WORKLOADS * 2];
	const char *unit = icount_units ? "guest instructions" :
					  "ns of CPU time";
	unsigned int nw, i, e, m;
	bool first, fio_row;

	if (md) {
		printf("\nCost per I/O in %s: busy = process + kworkers + "
		       "ksoftirqd + other threads + rest (interrupts on an "
		       "idle CPU)\n\n", unit);
		printf("| workload | engine |");
		for (m = 0; m < NR_C; m++)
			printf(" %s |", hdr[m]);
		printf("\n|---|---|--:|--:|--:|--:|--:|--:|\n");
	} else {
		printf("\n   cost per I/O in %s (busy = process + kworkers +"
		       "\n    ksoftirqd + other threads + rest: interrupts "
		       "on an idle CPU)\n", unit);
		printf("%-23s %-19s", "workload", "engine");
		for (m = 0; m < NR_C; m++)
			printf(" %9s", hdr[m]);
		putchar('\n');
	}
	nw = distinct(rows, nrows, offsetof(struct row, workload), wls,
		      NR_WORKLOADS * 2);
	for (i = 0; i < nw; i++) {
		if (!workload_by_name(wls[i]))
			continue;
		first = true;
		for (e = 0; e < NR_ENGINES; e++) {
			struct agg a;

			if (!aggregate(rows, nrows, k, dv, wls[i],
				       engines[e].name, &a))
				continue;
			if (md)
				printf("| %s | %s |", first ? wls[i] : "",
				       engines[e].name);
			else
				printf("%-23s %-19s", first ? wls[i] : "",
				       engines[e].name);
			/* fio's row holds fio's own CPU time alone. */
			fio_row = is_fio(&engines[e]);
			if (fio_row)
				a.r.c[C_PROC] = a.r.c[C_BUSY];
			for (m = 0; m < NR_C; m++) {
				bool have = fio_row ? m == C_PROC :
					    !m || a.r.attr;

				if (have)
					printf(md ? " %.0f |" : " %9.0f",
					       a.r.c[m]);
				else if (md)
					fputs(" - |", stdout);
				else
					printf(" %9s", "-");
			}
			putchar('\n');
			first = false;
		}
	}
}

static void report_device(const struct row *rows, unsigned int nrows,
			  const char *k, const char *dv, bool md)
{
	static const char *const fmt_txt[5] = {
		"%9.0f", "%10.0f", "%8.1f", "%8.1f", "%8.1f" };
	static const char *const fmt_md[5] = {
		"%.0f", "%.0f", "%.1f", "%.1f", "%.1f" };
	const char *wls[NR_WORKLOADS * 2];
	unsigned int nw, i, e, m;

	if (md) {
		printf("\n#### %s, %s\n\n", dv, k);
		printf("Queues: %s\n\n", device_queues(rows, nrows, k, dv));
		printf("| workload | engine | IOPS | x | IOPS/CPU-s | x | "
		       "mean us | x | p50 us | x | p99 us | x |\n");
		printf("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
	} else {
		printf("\n== device %s, kernel %s\n", dv, k);
		printf("   queues (scheduler): %s\n",
		       device_queues(rows, nrows, k, dv));
		printf("   (medians of the repeats; x: ratio to the best "
		       "baseline for that figure,\n    higher is better for "
		       "IOPS, lower for latency; * marks the baselines)\n");
		printf("%-23s %-19s %9s %5s %10s %5s %8s %5s %8s %5s %8s "
		       "%5s\n", "workload", "engine", "IOPS", "x",
		       "IOPS/CPU-s", "x", "mean us", "x", "p50 us", "x",
		       "p99 us", "x");
	}
	nw = distinct(rows, nrows, offsetof(struct row, workload), wls,
		      NR_WORKLOADS * 2);
	for (i = 0; i < nw; i++) {
		struct best b;
		bool first = true;

		if (!workload_by_name(wls[i]))
			continue;
		find_best(rows, nrows, k, dv, wls[i], &b);
		for (e = 0; e < NR_ENGINES; e++) {
			const char *en = engines[e].name;
			double v[5];
			struct agg a;

			if (!aggregate(rows, nrows, k, dv, wls[i], en, &a))
				continue;
			agg_vals(&a, v);
			if (md)
				printf("| %s | %s%s |", first ? wls[i] : "",
				       en, engines[e].baseline ? " *" : "");
			else
				printf("%-23s %-18s%c", first ? wls[i] : "",
				       en, engines[e].baseline ? '*' : ' ');
			for (m = 0; m < 5; m++) {
				if (md) {
					putchar(' ');
					printf(fmt_md[m], v[m]);
					printf(" | %.2f |", ratio(v[m], b.v[m]));
				} else {
					putchar(' ');
					printf(fmt_txt[m], v[m]);
					printf(" %5.2f", ratio(v[m], b.v[m]));
				}
			}
			putchar('\n');
			first = false;
		}
	}
}

/* Busy cost per I/O of @engine over that of @base, or 0. */
static double cost_ratio(const struct row *rows, unsigned int nrows,
			 const char *k, const char *dv, const char *wl,
			 const char *engine, const char *base)
{
	struct agg a, b;

	if (!aggregate(rows, nrows, k, dv, wl, engine, &a) ||
	    !aggregate(rows, nrows, k, dv, wl, base, &b))
		return 0;
	return ratio(a.r.c[C_BUSY], b.r.c[C_BUSY]);
}

/*
 * The performance targets (issue 16), as cost ratios: busy CPU per I/O
 * of the engine over that of the baseline (lower is better), and fio
 * against our baselines.
 */
static void report_targets(const struct row *rows, unsigned int nrows,
			   const char *k, const char **devs, unsigned int nd,
			   bool md)
{
	static const char *const kern[] = {
		"kern-ioctl", "kern-uring", "kern-poll", "kern-direct" };
	static const char *const fio_pair[][2] = {
		{ "uring", "fio-uring" }, { "uring-pt", "fio-uring-cmd" },
		{ "uring", "fio-uring-lean" },
		{ "uring-pt", "fio-uring-cmd-lean" },
	};
	const char *wls[NR_WORKLOADS * 2];
	const char *li = md ? "- " : "";
	unsigned int nw, i, j, e;
	struct agg a, b;

	printf(md ? "\n#### Targets, %s\n\n" : "\n== targets, kernel %s\n"
	       "   (cost: busy CPU per I/O, engine over baseline; lower "
	       "is better)\n", k);
	nw = distinct(rows, nrows, offsetof(struct row, workload), wls,
		      NR_WORKLOADS * 2);
	for (j = 0; j < nd; j++) {
		const char *dv = devs[j];
		double best = 0;
		const char *best_e = NULL;

		/* 1. The kernel engine against both io_uring baselines. */
		for (i = 0; i < 2; i++) {
			const char *wl = i ? "randread-4k-qd1-b1" :
					     "randread-4k-qd128-b32";
			double tpt = i ? 0.90 : 0.80, tur = i ? 0.90 : 0.70;

			for (e = 0; e < sizeof(kern) / sizeof(kern[0]); e++) {
				double xp = cost_ratio(rows, nrows, k, dv, wl,
						       kern[e], "uring-pt");
				double xu = cost_ratio(rows, nrows, k, dv, wl,
						       kern[e], "uring");

				if (!xp && !xu)
					continue;
				printf("%s%-18s %-22s %-11s %.2fx uring-pt "
				       "(target <= %.2fx: %s), %.2fx uring "
				       "(target <= %.2fx: %s)\n", li, dv, wl,
				       kern[e], xp, tpt,
				       xp && xp <= tpt ? "met" : "missed",
				       xu, tur,
				       xu && xu <= tur ? "met" : "missed");
			}
		}
		/* 2. The library's passthrough engine against raw. */
		for (i = 0; i < 2; i++) {
			const char *wl = i ? "randread-4k-qd1-b1" :
					     "randread-4k-qd128-b32";
			double x;

			if (!aggregate(rows, nrows, k, dv, wl, "passthru",
				       &a) ||
			    !aggregate(rows, nrows, k, dv, wl, "uring-pt", &b))
				continue;
			x = ratio(a.r.ipc, b.r.ipc);
			printf("%s%-18s %-22s passthru %.3fx uring-pt in "
			       "I/Os per CPU-second (target >= 0.97x: %s)\n",
			       li, dv, wl, x, x >= 0.97 ? "met" : "missed");
		}
		/* 3. Stretch: the cheapest kernel engine's read. */
		for (e = 0; e < sizeof(kern) / sizeof(kern[0]); e++) {
			if (!aggregate(rows, nrows, k, dv,
				       "randread-4k-qd128-b32", kern[e], &a))
				continue;
			if (!best_e || a.r.c[C_BUSY] < best) {
				best = a.r.c[C_BUSY];
				best_e = kern[e];
			}
		}
		if (best_e && icount_units)
			printf("%s%-18s randread-4k-qd128-b32  %s %.0f "
			       "instructions per I/O end to end (stretch "
			       "< 3000: %s)\n", li, dv, best_e, best,
			       best < 3000 ? "met" : "missed");
		/* 4. fio against our baselines (IOPS). */
		for (e = 0; e < sizeof(fio_pair) / sizeof(fio_pair[0]); e++) {
			double lo = 1e9, hi = 0;

			for (i = 0; i < nw; i++) {
				double x;

				if (!aggregate(rows, nrows, k, dv, wls[i],
					       fio_pair[e][0], &a) ||
				    !aggregate(rows, nrows, k, dv, wls[i],
					       fio_pair[e][1], &b))
					continue;
				x = ratio(a.r.iops, b.r.iops);
				lo = x < lo ? x : lo;
				hi = x > hi ? x : hi;
			}
			if (hi > 0)
				printf("%s%-18s %s / %s IOPS %.2fx..%.2fx "
				       "(check: >= ~0.9x)\n", li, dv,
				       fio_pair[e][0], fio_pair[e][1], lo, hi);
		}
	}
}

static int report(char **files, int nfiles, bool md)
{
	const char *kernels[16], *devs[16];
	unsigned int nrows, nk, nd, i, j;
	struct row *rows;
	int ret;

	ret = load_rows(files, nfiles, &rows, &nrows);
	if (ret)
		return 1;
	nk = distinct(rows, nrows, offsetof(struct row, kernel), kernels, 16);
	nd = distinct(rows, nrows, offsetof(struct row, device), devs, 16);
	for (i = 0; i < nk; i++) {
		for (j = 0; j < nd; j++) {
			if (!strcmp(device_queues(rows, nrows, kernels[i],
						  devs[j]), "-"))
				continue;	/* not on this kernel */
			report_device(rows, nrows, kernels[i], devs[j], md);
			report_costs(rows, nrows, kernels[i], devs[j], md);
		}
		report_targets(rows, nrows, kernels[i], devs, nd, md);
	}
	free(rows);
	return 0;
}

/* --- run -------------------------------------------------------------------- */

static bool listed(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (!list || !*list)
		return true;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') &&
		    (p[len] == ',' || !p[len]))
			return true;
		p += len;
	}
	return false;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: nrio_bench run --device NAME --path BLOCKDEV "
		"[--generic NGDEV]\n"
		"                  [--kernel KVER] [--seconds S] [--repeats R] "
		"[--count N]\n"
		"                  [--workloads a,b] [--engines a,b] "
		"[--fio PATH]\n"
		"                  [--tracing DIR] [--csv FILE] "
		"[--precondition MIB]\n"
		"       nrio_bench report [--markdown] [--icount] FILE.csv ...\n"
		"       nrio_bench list\n");
	exit(2);
}

static int cmd_run(int argc, char **argv)
{
	const char *csv = NULL, *fio = NULL, *wsel = NULL, *esel = NULL;
	struct dev d = { .kernel = "unknown" };
	double seconds = 0.5;
	unsigned int repeats = 3, rep, wi, ei, failed = 0;
	uint64_t count = 0, precond = RANGE_MAX;
	FILE *out;
	int i, ret;

	for (i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(o, "--device"))
			d.name = v;
		else if (!strcmp(o, "--path"))
			d.path = v;
		else if (!strcmp(o, "--generic"))
			d.generic = *v ? v : NULL;
		else if (!strcmp(o, "--kernel"))
			d.kernel = v;
		else if (!strcmp(o, "--seconds"))
			seconds = strtod(v, NULL);
		else if (!strcmp(o, "--repeats"))
			repeats = strtoul(v, NULL, 0);
		else if (!strcmp(o, "--count"))
			count = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--workloads"))
			wsel = v;
		else if (!strcmp(o, "--engines"))
			esel = v;
		else if (!strcmp(o, "--fio"))
			fio = *v ? v : NULL;
		else if (!strcmp(o, "--tracing"))
			tracing_dir = v;
		else if (!strcmp(o, "--csv"))
			csv = v;
		else if (!strcmp(o, "--precondition"))
			precond = strtoull(v, NULL, 0) << 20;
		else
			usage();
		i++;
	}
	if (!d.name || !d.path || seconds <= 0 || !repeats)
		usage();
	if (count)
		repeats = 1;
	ret = dev_probe(&d);
	if (ret) {
		fprintf(stderr, "nrio_bench: %s: %s\n", d.path,
			strerror(-ret));
		return 1;
	}
	if (fio && access(fio, X_OK))
		fio = NULL;
	printf("nrio_bench: device %s: %s%s%s, %u-byte LBAs, %" PRIu64
	       " MiB, nsid %u, poll queues %s, queues %s, %.2f s x %u\n",
	       d.name, d.path, d.generic ? " + " : "",
	       d.generic ? d.generic : "", d.lba_size, d.size >> 20, d.nsid,
	       d.io_poll ? "yes" : "no", d.queues, seconds, repeats);
	fflush(stdout);

	ret = precondition(&d, precond);
	if (ret) {
		fprintf(stderr, "nrio_bench: writing %s: %s\n", d.path,
			strerror(-ret));
		return 1;
	}

	out = csv ? fopen(csv, "a") : stdout;
	if (!out) {
		fprintf(stderr, "nrio_bench: %s: %s\n", csv, strerror(errno));
		return 1;
	}
	if (out != stdout && ftell(out) == 0)
		fputs(csv_header, out);
	else if (out == stdout)
		fputs(csv_header, out);

	for (wi = 0; wi < NR_WORKLOADS; wi++) {
		const struct workload *w = &workloads[wi];

		if (!listed(wsel, w->name))
			continue;
		for (rep = 0; rep < repeats; rep++) {
			for (ei = 0; ei < NR_ENGINES; ei++) {
				const struct engine *e = &engines[ei];
				const char *why;
				struct result res;

				if (!listed(esel, e->name))
					continue;
				why = skip_reason(e, &d, w, fio);
				if (why) {
					if (!rep)
						printf("  %-23s %-14s skipped: "
						       "%s\n", w->name,
						       e->name, why);
					continue;
				}
				ret = run_one(e, &d, w, seconds, count, fio,
					      &res);
				if (ret) {
					printf("  %-23s %-14s FAILED: %s%s%s\n",
					       w->name, e->name,
					       strerror(-ret),
					       *res.note ? ", " : "",
					       res.note);
					if (!*res.note)
						snprintf(res.note,
							 sizeof(res.note),
							 "failed: %s",
							 strerror(-ret));
					if (!res.errors)
						res.errors = 1;
					failed++;
				} else {
					printf("  %-23s %-14s %9.0f IOPS %9.0f"
					       " IOPS/CPU-s p50 %7.1f us\n",
					       w->name, e->name, res.iops,
					       res.cpu_s > 0 ? res.ios /
					       res.cpu_s : 0,
					       res.lat_p50_us);
				}
				csv_row(out, &d, w, e, rep, &res);
				fflush(out);
				fflush(stdout);
			}
		}
	}
	if (out != stdout)
		fclose(out);
	if (csv && !count) {
		char *files[1] = { (char *)csv };
		struct row *rows;
		unsigned int nrows;

		if (!load_rows(files, 1, &rows, &nrows)) {
			report_device(rows, nrows, d.kernel, d.name, false);
			report_costs(rows, nrows, d.kernel, d.name, false);
			free(rows);
		}
	}
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned int i;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "report")) {
		bool md = false;

		for (i = 2; i < (unsigned int)argc; i++) {
			if (!strcmp(argv[i], "--markdown"))
				md = true;
			else if (!strcmp(argv[i], "--icount"))
				icount_units = true;
			else
				break;
		}
		if (i >= (unsigned int)argc)
			usage();
		return report(argv + i, argc - i, md);
	}
	if (!strcmp(argv[1], "list")) {
		for (i = 0; i < NR_WORKLOADS; i++)
			printf("workload %s\n", workloads[i].name);
		for (i = 0; i < NR_ENGINES; i++)
			printf("engine %s%s\n", engines[i].name,
			       engines[i].baseline ? " (baseline)" : "");
		return 0;
	}
	usage();
	return 2;
}
