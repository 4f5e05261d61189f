// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_ring_io_test: write a pattern to a scratch range of an NVMe
 * namespace through libnvme_ring_io, read it back, verify it, and report
 * what was done and what the module counted.
 *
 * usage: nvme_ring_io_test [options] /dev/nvmeXnY    (see --help)
 *
 * What it writes: its scratch range and nothing else.  Without --lba and
 * --lba-count that is the last 64 MiB of the namespace (all of it when the
 * namespace is smaller), stated before the first write.  The I/Os walk the
 * range block by block and wrap around inside it when -n x -b is larger.
 * A namespace that has partitions, or that is in use (mounted, or claimed
 * by another driver, so that an O_EXCL open fails), is written only with
 * --force and a range the user named.  --read-only reads and writes nothing.
 *
 * Every block written carries a header (magic, LBA, per-run seed) and a
 * pseudo-random body derived from them, so a misdirected, lost or stale
 * write shows up as a mismatch.
 *
 * Exit status: 0 all I/O done and verified, 1 an error or a mismatch,
 * 2 bad arguments (also a block size or a range that does not fit the
 * namespace).  Every failure is one line on stderr.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#include "nvme_ring_io.h"

#define PROG		"nvme_ring_io_test"

#define EXIT_FAIL	1
#define EXIT_USAGE	2

#define KiB		1024ULL
#define MiB		(1024 * KiB)
#define GiB		(1024 * MiB)

#define DEF_BS		(4 * KiB)
#define DEF_QD		32U
#define DEF_COUNT	1024ULL
#define DEF_SCRATCH	(64 * MiB)	/* the default scratch range, bytes */
#define MAX_QD		4096U
#define MAX_BS		(256 * MiB)
#define MAX_DATA	(1 * GiB)	/* the module's default max_data_mb */
#define MAX_NLB		65536U		/* NLB is a 16-bit 0's based field */
#define DATA_ALIGN	(2 * MiB)	/* data area: whole huge pages */

#define PAT_MAGIC	0x747365746f69726eULL	/* "nriotest" */
#define POISON		0x5a			/* fills read buffers first */

struct cfg {
	const char	*dev;
	uint32_t	engine;		/* enum nrio_engine */
	uint32_t	flags;		/* NRIO_OPEN_* */
	uint64_t	bs;		/* bytes per I/O */
	uint32_t	qd;		/* I/Os in flight */
	uint64_t	count;		/* I/Os per pass */
	uint64_t	lba;		/* --lba */
	uint64_t	lba_count;	/* --lba-count */
	bool		lba_set;
	bool		lba_count_set;
	bool		force;
	bool		read_only;
	bool		progress;
};

/* What sysfs says about the device node. */
struct devinfo {
	bool		is_blk;
	bool		known;		/* sysfs named it */
	char		name[NAME_MAX + 1];	/* nvme0n1, ng0n1, null, ... */
	char		blk[NAME_MAX + 1];	/* its namespace's block dev */
};

struct progress {
	bool		on;
	bool		tty;
	bool		shown;
	double		last;
};

struct pass {
	const char	*name;
	uint8_t		op;
	bool		verify;
	uint64_t	ios;		/* completed successfully */
	uint64_t	bytes;
	uint64_t	mismatches;	/* blocks that failed verification */
	double		secs;
	char		err[160];	/* why the pass failed */
	char		first_bad[160];	/* the first mismatch */
};

struct run {
	const struct cfg	*cfg;
	struct nrio		*n;
	const struct nrio_facts	*f;
	unsigned char		*data;
	uint64_t		seed;
	uint64_t		start;		/* first LBA of the range */
	uint64_t		nr;		/* LBAs in the scratch range */
	uint32_t		blk_lbas;	/* LBAs per I/O */
	uint64_t		positions;	/* I/O positions in the range */
	uint64_t		*slot_lba;	/* LBA of each slot's I/O */
	uint32_t		*free_slot;	/* stack of free data slots */
	uint32_t		nr_free;
	struct nvme_ring_io_cqe	*cqes;
	struct progress		prog;
};

/* --- messages ------------------------------------------------------------- */

__attribute__((format(printf, 1, 2)))
static void errmsg(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *fmt_bytes(char *buf, size_t len, uint64_t b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	double v = (double)b;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%" PRIu64 " %s", (uint64_t)v, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

static void usage(FILE *out)
{
	fprintf(out,
"usage: " PROG " [options] DEVICE\n"
"\n"
"Write a pattern to a scratch range of the NVMe namespace DEVICE\n"
"(/dev/nvmeXnY or /dev/ngXnY) through libnvme_ring_io, read it back and\n"
"verify it; print what was done and the module's counters.\n"
"\n"
"  --engine kernel|passthru  the module's kernel engine (default) or NVMe\n"
"                            passthrough on /dev/ngXnY by io_uring\n"
"  --uring                   kernel engine: submit and wait by io_uring\n"
"  --poll                    kernel engine: polled completions\n"
"  -b, --block-size BYTES    bytes per I/O, a multiple of the LBA size\n"
"                            (default 4096; k, M, G suffixes allowed)\n"
"  -q, --queue-depth N       I/Os in flight (default %u, at most %u)\n"
"  -n, --count N             I/Os per pass (default %llu)\n"
"      --lba START           first LBA of the scratch range\n"
"      --lba-count N         LBAs in the scratch range\n"
"      --force               write a namespace that has partitions or is\n"
"                            in use (needs a range named by --lba or\n"
"                            --lba-count)\n"
"      --read-only           only read the range, verify nothing; opens\n"
"                            DEVICE read-only\n"
"      --progress            progress line on stderr (default: if a tty)\n"
"  -h, --help                this text\n"
"\n"
"The scratch range is overwritten; nothing outside it is written.\n"
"Default: the last 64 MiB of the namespace.  --lba alone: up to 64 MiB from\n"
"START; --lba-count alone: the last N LBAs.  The I/Os walk the range and\n"
"wrap around inside it.  A namespace with partitions or in use is written\n"
"only with --force and a named range.  Exit: 0 verified, 1 error or\n"
"mismatch, 2 bad arguments.\n", DEF_QD, MAX_QD, DEF_COUNT);
}

/* --- arguments ------------------------------------------------------------ */

/* Parse an unsigned number; with @suffix, k/M/G (binary) may follow. */
static int parse_u64(const char *s, bool suffix, uint64_t *out)
{
	unsigned long long v;
	uint64_t mult = 1;
	int base = 10;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || end == s)
		return -EINVAL;
	if (*end && suffix) {
		switch (*end) {
		case 'k':
		case 'K':
			mult = KiB;
			break;
		case 'm':
		case 'M':
			mult = MiB;
			break;
		case 'g':
		case 'G':
			mult = GiB;
			break;
		default:
			return -EINVAL;
		}
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

enum {
	OPT_ENGINE = 256,
	OPT_URING,
	OPT_POLL,
	OPT_LBA,
	OPT_LBA_COUNT,
	OPT_FORCE,
	OPT_READ_ONLY,
	OPT_PROGRESS,
};

static const struct option long_opts[] = {
	{ "engine",	 required_argument, NULL, OPT_ENGINE },
	{ "uring",	 no_argument,	    NULL, OPT_URING },
	{ "poll",	 no_argument,	    NULL, OPT_POLL },
	{ "block-size",	 required_argument, NULL, 'b' },
	{ "queue-depth", required_argument, NULL, 'q' },
	{ "count",	 required_argument, NULL, 'n' },
	{ "lba",	 required_argument, NULL, OPT_LBA },
	{ "lba-count",	 required_argument, NULL, OPT_LBA_COUNT },
	{ "force",	 no_argument,	    NULL, OPT_FORCE },
	{ "read-only",	 no_argument,	    NULL, OPT_READ_ONLY },
	{ "progress",	 no_argument,	    NULL, OPT_PROGRESS },
	{ "help",	 no_argument,	    NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int bad_number(const char *opt, const char *arg)
{
	errmsg("%s: invalid number '%s' (see --help)", opt, arg);
	return -EINVAL;
}

/* 0: run; 1: --help was printed; -EINVAL: an error was printed. */
static int parse_args(int argc, char **argv, struct cfg *c)
{
	uint64_t v;
	int opt;

	memset(c, 0, sizeof(*c));
	c->engine = NRIO_ENGINE_KERNEL;
	c->bs = DEF_BS;
	c->qd = DEF_QD;
	c->count = DEF_COUNT;
	c->progress = isatty(STDERR_FILENO);

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":b:q:n:h", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case OPT_ENGINE:
			if (!strcmp(optarg, "kernel")) {
				c->engine = NRIO_ENGINE_KERNEL;
			} else if (!strcmp(optarg, "passthru") ||
				   !strcmp(optarg, "passthrough")) {
				c->engine = NRIO_ENGINE_PASSTHRU;
			} else {
				errmsg("--engine: '%s' is neither kernel nor passthru",
				       optarg);
				return -EINVAL;
			}
			break;
		case OPT_URING:
			c->flags |= NRIO_OPEN_URING;
			break;
		case OPT_POLL:
			c->flags |= NRIO_OPEN_POLL;
			break;
		case 'b':
			if (parse_u64(optarg, true, &c->bs))
				return bad_number("--block-size", optarg);
			break;
		case 'q':
			if (parse_u64(optarg, false, &v))
				return bad_number("--queue-depth", optarg);
			if (v < 1 || v > MAX_QD) {
				errmsg("--queue-depth must be 1 to %u", MAX_QD);
				return -EINVAL;
			}
			c->qd = (uint32_t)v;
			break;
		case 'n':
			if (parse_u64(optarg, false, &c->count))
				return bad_number("--count", optarg);
			if (!c->count) {
				errmsg("--count must be at least 1");
				return -EINVAL;
			}
			break;
		case OPT_LBA:
			if (parse_u64(optarg, false, &c->lba))
				return bad_number("--lba", optarg);
			c->lba_set = true;
			break;
		case OPT_LBA_COUNT:
			if (parse_u64(optarg, false, &c->lba_count))
				return bad_number("--lba-count", optarg);
			if (!c->lba_count) {
				errmsg("--lba-count must be at least 1");
				return -EINVAL;
			}
			c->lba_count_set = true;
			break;
		case OPT_FORCE:
			c->force = true;
			break;
		case OPT_READ_ONLY:
			c->read_only = true;
			break;
		case OPT_PROGRESS:
			c->progress = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			errmsg("%s needs an argument (see --help)",
			       argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt)
				errmsg("unknown option '-%c' (see --help)",
				       optopt);
			else
				errmsg("unknown option '%s' (see --help)",
				       argv[optind - 1]);
			return -EINVAL;
		}
	}

	if (optind >= argc) {
		errmsg("missing device: usage: " PROG
		       " [options] /dev/nvmeXnY (see --help)");
		return -EINVAL;
	}
	if (optind + 1 < argc) {
		errmsg("one device only, got '%s' and '%s'", argv[optind],
		       argv[optind + 1]);
		return -EINVAL;
	}
	c->dev = argv[optind];

	if (c->engine == NRIO_ENGINE_PASSTHRU && c->flags) {
		errmsg("--uring and --poll apply to the kernel engine only");
		return -EINVAL;
	}
	if ((c->flags & NRIO_OPEN_URING) && (c->flags & NRIO_OPEN_POLL)) {
		errmsg("--uring and --poll cannot be combined");
		return -EINVAL;
	}
	if (!c->bs || c->bs % 512) {
		errmsg("--block-size %" PRIu64
		       " is not a multiple of 512, the smallest LBA size",
		       c->bs);
		return -EINVAL;
	}
	if (c->bs > MAX_BS) {
		errmsg("--block-size is at most 256 MiB");
		return -EINVAL;
	}
	if (c->bs * c->qd > MAX_DATA) {
		errmsg("--queue-depth x --block-size is above the 1 GiB data area limit");
		return -EINVAL;
	}
	return 0;
}

/* --- the device ----------------------------------------------------------- */

/* Does @name match @pat, where '#' in @pat stands for one or more digits? */
static bool name_is(const char *name, const char *pat)
{
	for (; *pat; pat++) {
		if (*pat != '#') {
			if (*name++ != *pat)
				return false;
			continue;
		}
		if (!isdigit((unsigned char)*name))
			return false;
		while (isdigit((unsigned char)*name))
			name++;
	}
	return !*name;
}

/* Name the device node from sysfs: nvme0n1, ng0n1, null, ... */
static void identify(const struct stat *st, struct devinfo *d)
{
	char link[64], path[PATH_MAX];
	const char *base;

	memset(d, 0, sizeof(*d));
	d->is_blk = S_ISBLK(st->st_mode);
	snprintf(link, sizeof(link), "/sys/dev/%s/%u:%u",
		 d->is_blk ? "block" : "char", major(st->st_rdev),
		 minor(st->st_rdev));
	if (!realpath(link, path))
		return;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strlen(base) >= sizeof(d->name))
		return;
	strcpy(d->name, base);
	d->known = true;
	if (d->is_blk)
		strcpy(d->blk, d->name);
	else if (!strncmp(d->name, "ng", 2))
		snprintf(d->blk, sizeof(d->blk), "nvme%s", d->name + 2);
}

static bool is_namespace(const struct devinfo *d)
{
	if (d->is_blk)
		return name_is(d->name, "nvme#n#") ||
		       name_is(d->name, "nvme#c#n#");
	return name_is(d->name, "ng#n#");
}

/*
 * The first partition of the namespace's block device, if it has any:
 * a sysfs subdirectory with a "partition" file.
 */
static bool find_partition(const struct devinfo *d, char *part, size_t len)
{
	char dir[PATH_MAX], file[NAME_MAX + 16];
	struct dirent *e;
	bool found = false;
	DIR *dp;

	if (!d->blk[0])
		return false;
	snprintf(dir, sizeof(dir), "/sys/class/block/%s", d->blk);
	dp = opendir(dir);
	if (!dp)
		return false;
	while (!found && (e = readdir(dp))) {
		if (strncmp(e->d_name, d->blk, strlen(d->blk)))
			continue;
		snprintf(file, sizeof(file), "%s/partition", e->d_name);
		if (!faccessat(dirfd(dp), file, F_OK, 0)) {
			snprintf(part, len, "%s", e->d_name);
			found = true;
		}
	}
	closedir(dp);
	return found;
}

/*
 * Open the namespace with the access the workload needs and check that
 * it may be written.  Returns the fd, or -1 after printing the reason.
 */
static int open_namespace(const struct cfg *c, struct devinfo *d)
{
	bool named = c->lba_set || c->lba_count_set;
	char part[NAME_MAX + 1];
	struct stat st;
	int fd, ro = 0, flags;
	bool excl;

	if (stat(c->dev, &st)) {
		errmsg("%s: %s", c->dev, strerror(errno));
		return -1;
	}
	if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode)) {
		errmsg("%s: not a device node, so not an NVMe namespace",
		       c->dev);
		return -1;
	}
	identify(&st, d);
	if (d->known && !is_namespace(d)) {
		if (d->is_blk && name_is(d->name, "nvme#n#p#"))
			errmsg("%s: %s is a partition; give the whole namespace",
			       c->dev, d->name);
		else
			errmsg("%s: not an NVMe namespace (sysfs: %s)", c->dev,
			       d->name);
		return -1;
	}

	if (!c->read_only && find_partition(d, part, sizeof(part)) &&
	    !(c->force && named)) {
		errmsg("%s has partitions (%s): refusing to write; name a scratch range with --lba/--lba-count and add --force",
		       c->dev, part);
		return -1;
	}

	/*
	 * To write, open a block device with O_EXCL: it fails if the device
	 * is mounted or claimed (swap, md, dm, ...), and while the test runs
	 * nobody else can claim it.
	 */
	flags = (c->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	excl = !c->read_only && d->is_blk;
	fd = open(c->dev, flags | (excl ? O_EXCL : 0));
	if (fd < 0 && errno == EBUSY && excl) {
		if (!(c->force && named)) {
			errmsg("%s is in use (mounted or claimed by another driver): refusing to write; name a scratch range with --lba/--lba-count and add --force",
			       c->dev);
			return -1;
		}
		fd = open(c->dev, flags);
	}
	if (fd < 0 && (errno == EROFS || errno == EACCES) && !c->read_only) {
		errmsg("%s: %s opening it for writing: the write test needs a writable namespace (--read-only reads only)",
		       c->dev, strerror(errno));
		return -1;
	}
	if (fd < 0) {
		errmsg("%s: %s", c->dev, strerror(errno));
		return -1;
	}
	if (!c->read_only && d->is_blk && !ioctl(fd, BLKROGET, &ro) && ro) {
		errmsg("%s is read-only: the write test needs a writable namespace (--read-only reads only)",
		       c->dev);
		close(fd);
		return -1;
	}
	return fd;
}

/* Bind a library handle to the namespace; -1 after printing why not. */
static int open_handle(const struct cfg *c, const struct devinfo *d,
		       int fd, struct nrio **out)
{
	struct nrio_opts o;
	uint32_t sq = 1;
	char b[32];
	int ret;

	if (access(NVME_RING_IO_DEVPATH, F_OK)) {
		errmsg(NVME_RING_IO_DEVPATH
		       " is missing: load the nvme_ring_io module (scripts/nvme_ring_io_setup.sh)");
		return -1;
	}
	if (access(NVME_RING_IO_DEVPATH, R_OK | W_OK)) {
		errmsg(NVME_RING_IO_DEVPATH
		       ": %s (mode 0600: run as root, or change its mode with a udev rule)",
		       strerror(errno));
		return -1;
	}

	while (sq < c->qd)
		sq <<= 1;
	nrio_opts_init(&o);
	o.engine = c->engine;
	o.flags = c->flags;
	o.sq_entries = sq;
	o.data_size = (c->bs * c->qd + DATA_ALIGN - 1) / DATA_ALIGN *
		      DATA_ALIGN;

	ret = nrio_open_fd(fd, &o, out);
	switch (ret) {
	case 0:
		return 0;
	case -ENODEV:
		if (c->engine == NRIO_ENGINE_PASSTHRU && d->known &&
		    is_namespace(d))
			errmsg("%s: no NVMe generic device (/dev/ngXnY) for passthrough",
			       c->dev);
		else
			errmsg("%s: not an NVMe namespace", c->dev);
		break;
	case -ENOBUFS:
		errmsg("%s: the %s data area is above RLIMIT_MEMLOCK (ulimit -l)",
		       c->dev, fmt_bytes(b, sizeof(b), o.data_size));
		break;
	case -E2BIG:
		errmsg("%s: the %s data area is above the module's max_data_mb",
		       c->dev, fmt_bytes(b, sizeof(b), o.data_size));
		break;
	case -EPERM:
		errmsg("%s: %s (passthrough before Linux 6.2 needs CAP_SYS_ADMIN)",
		       c->dev, nrio_strerror(ret));
		break;
	default:
		errmsg("%s: cannot set up a context: %s", c->dev,
		       nrio_strerror(ret));
		break;
	}
	return -1;
}

/*
 * The module's view of the access: a write test needs a writable fd on a
 * writable namespace (this also covers /dev/ngXnY, which BLKROGET does
 * not).  -1 after printing why not.
 */
static int check_access(const struct cfg *c, const struct nrio *n)
{
	struct nvme_ring_io_info info;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(nrio_fd(n), NVME_RING_IO_INFO, &info)) {
		errmsg("NVME_RING_IO_INFO: %s", strerror(errno));
		return -1;
	}
	if (c->read_only)
		return 0;
	if (info.flags & NVME_RING_IO_INFO_F_RO_NS) {
		errmsg("%s is read-only: the write test needs a writable namespace (--read-only reads only)",
		       c->dev);
		return -1;
	}
	if (!(info.flags & NVME_RING_IO_INFO_F_WRITE)) {
		errmsg("%s is not open for writing", c->dev);
		return -1;
	}
	return 0;
}

/* The scratch range, checked against the namespace; -1 if bad. */
static int pick_range(const struct cfg *c, struct run *r)
{
	uint64_t total = r->f->nr_lbas, def = DEF_SCRATCH / r->f->lba_size;

	if (def > total)
		def = total;
	if (c->lba_set && c->lba >= total) {
		errmsg("--lba %" PRIu64 " is past the end of %s (%" PRIu64
		       " LBAs)", c->lba, c->dev, total);
		return -1;
	}
	if (c->lba_set) {
		r->start = c->lba;
		if (c->lba_count_set)
			r->nr = c->lba_count;
		else	/* 64 MiB from START, or up to the end */
			r->nr = def < total - r->start ? def :
				total - r->start;
	} else if (c->lba_count_set) {
		if (c->lba_count > total) {
			errmsg("--lba-count %" PRIu64 " is larger than %s (%"
			       PRIu64 " LBAs)", c->lba_count, c->dev, total);
			return -1;
		}
		r->start = total - c->lba_count;
		r->nr = c->lba_count;
	} else {
		r->start = total - def;
		r->nr = def;
	}
	if (r->nr > total - r->start) {
		errmsg("LBA %" PRIu64 " + %" PRIu64
		       " LBAs reaches past the end of %s (%" PRIu64 " LBAs)",
		       r->start, r->nr, c->dev, total);
		return -1;
	}
	if (r->nr < r->blk_lbas) {
		errmsg("the scratch range (%" PRIu64
		       " LBAs) is smaller than one block (%u LBAs)", r->nr,
		       r->blk_lbas);
		return -1;
	}
	r->positions = r->nr / r->blk_lbas;
	return 0;
}

/* Check the block size against the namespace; -1 if it does not fit. */
static int check_block_size(const struct cfg *c, const struct run *r)
{
	const struct nrio_facts *f = r->f;
	char b[32];

	if (c->bs % f->lba_size) {
		errmsg("--block-size %" PRIu64
		       " is not a multiple of the LBA size of %s (%u)", c->bs,
		       c->dev, f->lba_size);
		return -1;
	}
	if (c->bs / f->lba_size > MAX_NLB) {
		errmsg("--block-size %" PRIu64 " is above %u LBAs, the most one NVMe command moves",
		       c->bs, MAX_NLB);
		return -1;
	}
	if (c->engine == NRIO_ENGINE_PASSTHRU && f->max_transfer &&
	    c->bs > f->max_transfer) {
		errmsg("--block-size %" PRIu64
		       " is above the device's largest transfer (%s), which passthrough cannot split",
		       c->bs, fmt_bytes(b, sizeof(b), f->max_transfer));
		return -1;
	}
	return 0;
}

/* --- the pattern ---------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t pattern_word(uint64_t seed, uint64_t lba, unsigned int i)
{
	switch (i) {
	case 0:
		return PAT_MAGIC;
	case 1:
		return lba;
	case 2:
		return seed;
	default:
		return mix64(seed ^ mix64(lba) ^ ((uint64_t)i << 40));
	}
}

static void fill_block(const struct run *r, uint64_t *w, uint64_t lba)
{
	unsigned int words = r->f->lba_size / 8, i, j;

	for (i = 0; i < r->blk_lbas; i++, lba++, w += words)
		for (j = 0; j < words; j++)
			w[j] = pattern_word(r->seed, lba, j);
}

/* Verify one block; on the first mismatch describe it into @p. */
static bool verify_block(const struct run *r, const uint64_t *w, uint64_t lba,
			 struct pass *p)
{
	unsigned int words = r->f->lba_size / 8, i, j;

	for (i = 0; i < r->blk_lbas; i++, lba++, w += words) {
		for (j = 0; j < words; j++) {
			uint64_t want = pattern_word(r->seed, lba, j);

			if (w[j] == want)
				continue;
			if (!p->first_bad[0])
				snprintf(p->first_bad, sizeof(p->first_bad),
					 "LBA %" PRIu64 " byte %u: expected 0x%016"
					 PRIx64 ", read 0x%016" PRIx64, lba,
					 j * 8, want, w[j]);
			return false;
		}
	}
	return true;
}

/* --- the I/O loop --------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(struct run *r, const struct pass *p, uint64_t done,
		     double t0, bool last)
{
	struct progress *pg = &r->prog;
	double t = now();

	if (!pg->on)
		return;
	if (last) {
		if (pg->shown && pg->tty)
			fputs("\r\033[K", stderr);
		pg->shown = false;
		return;
	}
	if (t - pg->last < 1.0)
		return;
	pg->last = t;
	pg->shown = true;
	fprintf(stderr, "%s%s: %" PRIu64 "/%" PRIu64 " I/Os (%u%%), %.0f IOPS%s",
		pg->tty ? "\r" : "", p->name, done, r->cfg->count,
		(unsigned int)(done * 100 / r->cfg->count),
		done / (t - t0), pg->tty ? "\033[K" : "\n");
}

static uint64_t io_lba(const struct run *r, uint64_t i)
{
	return r->start + (i % r->positions) * r->blk_lbas;
}

/* Take one completion: check it, verify a read, free its slot. */
static int complete_one(struct run *r, struct pass *p,
			const struct nvme_ring_io_cqe *cqe)
{
	uint32_t slot = (uint32_t)cqe->user_data;
	uint64_t lba, bs = r->cfg->bs;

	if (cqe->user_data >= r->cfg->qd) {
		snprintf(p->err, sizeof(p->err),
			 "completion with unknown user_data %" PRIu64,
			 (uint64_t)cqe->user_data);
		return -EPROTO;
	}
	lba = r->slot_lba[slot];
	r->free_slot[r->nr_free++] = slot;
	if (cqe->res >= 0 && (uint64_t)cqe->res == bs) {
		const uint64_t *w = (const uint64_t *)(r->data + slot * bs);

		p->ios++;
		p->bytes += bs;
		if (p->verify && !verify_block(r, w, lba, p))
			p->mismatches++;
		return 0;
	}
	if (p->err[0])		/* keep the first error */
		return cqe->res < 0 ? cqe->res : -EIO;
	if (cqe->res < 0)
		snprintf(p->err, sizeof(p->err),
			 "%s at LBA %" PRIu64 " failed: %s (NVMe status 0x%x)",
			 p->name, lba, nrio_strerror(cqe->res), cqe->status);
	else
		snprintf(p->err, sizeof(p->err),
			 "%s at LBA %" PRIu64 ": %d bytes of %" PRIu64,
			 p->name, lba, cqe->res, bs);
	return cqe->res < 0 ? cqe->res : -EIO;
}

/*
 * One pass over cfg->count I/Os with at most cfg->qd in flight.  An I/O
 * error stops the pass (what is in flight is drained); mismatches are
 * counted and the pass goes on.  0, or -errno with p->err set.
 */
static int run_pass(struct run *r, struct pass *p)
{
	const struct cfg *c = r->cfg;
	uint64_t issued = 0, done = 0, unsent = 0;
	double t0 = now();
	int ret = 0, got, i;

	r->prog.last = t0;
	while (!ret && done < c->count) {
		struct nvme_ring_io_sqe *sqe;

		while (issued < c->count && r->nr_free &&
		       (sqe = nrio_get_sqe(r->n))) {
			uint32_t slot = r->free_slot[--r->nr_free];
			uint64_t lba = io_lba(r, issued);
			void *buf = r->data + slot * c->bs;

			r->slot_lba[slot] = lba;
			if (p->op == NVME_RING_IO_OP_WRITE)
				fill_block(r, buf, lba);
			else	/* a read that moves nothing must not verify */
				memset(buf, POISON, c->bs);
			nrio_prep_rw(r->n, sqe, p->op, lba, r->blk_lbas,
				     slot * c->bs, slot);
			issued++;
			unsent++;
		}
		if (unsent) {
			ret = nrio_submit(r->n);
			if (ret < 0) {
				snprintf(p->err, sizeof(p->err),
					 "%s: submit failed: %s", p->name,
					 nrio_strerror(ret));
				break;
			}
			unsent -= ret;
			ret = 0;
		}
		if (!nrio_inflight(r->n)) {
			snprintf(p->err, sizeof(p->err),
				 "%s: the engine took none of %" PRIu64
				 " descriptors", p->name, unsent);
			ret = -EAGAIN;
			break;
		}
		got = nrio_reap(r->n, r->cqes, c->qd, 1, -1);
		if (got < 0) {
			snprintf(p->err, sizeof(p->err),
				 "%s: reap failed: %s", p->name,
				 nrio_strerror(got));
			ret = got;
			break;
		}
		for (i = 0; i < got; i++) {
			int err = complete_one(r, p, &r->cqes[i]);

			done++;
			if (err && !ret)
				ret = err;
		}
		progress(r, p, done, t0, false);
	}
	/* After an error, let what is in flight finish before going on. */
	while (ret && nrio_inflight(r->n)) {
		got = nrio_reap(r->n, r->cqes, c->qd, 1, -1);
		if (got <= 0)
			break;
		for (i = 0; i < got; i++)
			complete_one(r, p, &r->cqes[i]);
	}
	p->secs = now() - t0;
	progress(r, p, done, t0, true);
	return ret;
}

/* --- reporting ------------------------------------------------------------ */

static const char *engine_name(const struct cfg *c, const struct nrio_facts *f,
			       char *buf, size_t len)
{
	if (c->engine == NRIO_ENGINE_PASSTHRU) {
		snprintf(buf, len, "passthru (NVMe passthrough on %s by io_uring)",
			 f->generic[0] ? f->generic : "/dev/ngXnY");
	} else if (c->flags & NRIO_OPEN_URING) {
		snprintf(buf, len,
			 "kernel (submit and wait by io_uring command)");
	} else if (c->flags & NRIO_OPEN_POLL) {
		snprintf(buf, len, "kernel (ioctl, %s)", f->polled ?
			 "polled completions" :
			 "--poll asked but the queue has no poll queues: interrupts");
	} else {
		snprintf(buf, len, "kernel (ioctl submit, interrupt completions)");
	}
	return buf;
}

/* One line of the report: a label in a 15-column field, then the text. */
__attribute__((format(printf, 2, 3)))
static void report(const char *label, const char *fmt, ...)
{
	char l[32];
	va_list ap;

	snprintf(l, sizeof(l), "%s:", label);
	printf("%-15s", l);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void print_setup(const struct run *r, const struct devinfo *d)
{
	const struct cfg *c = r->cfg;
	const struct nrio_facts *f = r->f;
	uint64_t touched = c->count < r->positions ? c->count : r->positions;
	uint64_t bufsz = f->buf_size < f->data_size ? f->buf_size :
			 f->data_size, rest;
	char b1[32], b2[32], bufs[80], eng[128];
	const char *why;

	report("device", "%s%s%s%s, NSID %u, LBA size %u, %" PRIu64
	       " LBAs (%s)", c->dev, d->known ? " (" : "",
	       d->known ? d->name : "", d->known ? ")" : "", f->nsid,
	       f->lba_size, f->nr_lbas,
	       fmt_bytes(b1, sizeof(b1), f->nr_lbas * f->lba_size));
	report("engine", "%s", engine_name(c, f, eng, sizeof(eng)));
	rest = f->data_size % bufsz;
	if (rest)
		snprintf(bufs, sizeof(bufs), "%" PRIu64 " x %s + %s",
			 f->data_size / bufsz, fmt_bytes(b1, sizeof(b1), bufsz),
			 fmt_bytes(b2, sizeof(b2), rest));
	else
		snprintf(bufs, sizeof(bufs), "%" PRIu64 " x %s",
			 f->data_size / bufsz,
			 fmt_bytes(b1, sizeof(b1), bufsz));
	report("data area", "%s in %u io_uring fixed buffer%s (%s); region: %"
	       PRIu64 " bytes in 2 MiB huge pages",
	       fmt_bytes(b1, sizeof(b1), f->data_size), f->nr_bufs,
	       f->nr_bufs == 1 ? "" : "s", bufs, f->huge_bytes);
	report("workload", "%" PRIu64 " I/Os of %" PRIu64
	       " bytes (%u LBA%s) per pass, queue depth %u, %s", c->count,
	       c->bs, r->blk_lbas, r->blk_lbas == 1 ? "" : "s", c->qd,
	       c->read_only ? "read only" : "write, then read and verify");

	if (c->lba_set || c->lba_count_set)
		why = "named by --lba/--lba-count";
	else if (r->start == 0)
		why = "default: the whole namespace, as it is under 64 MiB";
	else
		why = "default: the last 64 MiB of the namespace";
	report("scratch range", "LBA %" PRIu64 "-%" PRIu64 " (%" PRIu64
	       " LBAs, %s; %s)", r->start, r->start + r->nr - 1, r->nr,
	       fmt_bytes(b1, sizeof(b1), r->nr * f->lba_size), why);
	report(c->read_only ? "reading" : "writing",
	       "LBA %" PRIu64 "-%" PRIu64 " (%s)%s", r->start,
	       r->start + touched * r->blk_lbas - 1,
	       fmt_bytes(b1, sizeof(b1), touched * c->bs),
	       c->read_only ? "" : ": its contents are destroyed");
	if (!c->read_only)
		report("pattern seed", "0x%016" PRIx64, r->seed);
	fflush(stdout);
}

static void print_pass(const struct pass *p)
{
	double secs = p->secs > 0 ? p->secs : 0.000000001;
	char b[32];

	report(p->name, "%" PRIu64 " I/Os, %s in %.3f s: %.0f IOPS, %.1f MiB/s%s",
	       p->ios, fmt_bytes(b, sizeof(b), p->bytes), p->secs,
	       p->ios / secs, p->bytes / secs / MiB,
	       !p->verify ? "" : p->mismatches ? ", MISMATCH" : ", verified");
}

/*
 * The module's counters.  The kernel engine counts every descriptor of
 * this context, so they must match what was done; the passthrough engine
 * runs in the library and leaves them at 0.
 */
static int print_counters(const struct run *r, uint64_t ios)
{
	struct nvme_ring_io_info info;
	const struct nvme_ring_io_counters *k = &info.counters;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (ioctl(nrio_fd(r->n), NVME_RING_IO_INFO, &info)) {
		errmsg("NVME_RING_IO_INFO: %s", strerror(errno));
		return -1;
	}
	report("module",
	       "submitted %llu, completed %llu, sq_invalid %llu, cq_full %llu, inflight %u%s",
	       (unsigned long long)k->submitted,
	       (unsigned long long)k->completed,
	       (unsigned long long)k->sq_invalid,
	       (unsigned long long)k->cq_full, info.inflight,
	       r->cfg->engine == NRIO_ENGINE_PASSTHRU ?
	       " (passthrough I/O bypasses the kernel engine)" : "");
	if (r->cfg->engine == NRIO_ENGINE_KERNEL &&
	    (k->submitted != ios || k->completed != ios || k->sq_invalid ||
	     info.inflight)) {
		errmsg("module counters disagree: %" PRIu64
		       " I/Os done, submitted %llu, completed %llu, sq_invalid %llu",
		       ios, (unsigned long long)k->submitted,
		       (unsigned long long)k->completed,
		       (unsigned long long)k->sq_invalid);
		return -1;
	}
	return 0;
}

/* --- main ----------------------------------------------------------------- */

static int run_all(struct run *r)
{
	const struct cfg *c = r->cfg;
	struct pass wr = {
		.name = "write", .op = NVME_RING_IO_OP_WRITE,
	};
	struct pass rd = {
		.name = c->read_only ? "read" : "read+verify",
		.op = NVME_RING_IO_OP_READ, .verify = !c->read_only,
	};
	uint64_t ios = 0, bytes;
	char b[32];

	if (!c->read_only) {
		if (run_pass(r, &wr)) {
			errmsg("%s", wr.err);
			return EXIT_FAIL;
		}
		print_pass(&wr);
		ios += wr.ios;
	}
	if (run_pass(r, &rd)) {
		errmsg("%s", rd.err);
		return EXIT_FAIL;
	}
	print_pass(&rd);
	ios += rd.ios;
	if (print_counters(r, ios))
		return EXIT_FAIL;

	bytes = wr.bytes + rd.bytes;
	if (rd.mismatches) {
		errmsg("verify failed: %" PRIu64 " of %" PRIu64
		       " blocks differ; first at %s", rd.mismatches, rd.ios,
		       rd.first_bad);
		return EXIT_FAIL;
	}
	report("result", "OK, %" PRIu64 " I/Os, %s %s", ios,
	       fmt_bytes(b, sizeof(b), bytes),
	       c->read_only ? "read" : "written, read back and verified");
	return 0;
}

static int setup_run(struct run *r)
{
	uint32_t i, qd = r->cfg->qd;

	r->data = nrio_data(r->n);
	r->blk_lbas = r->cfg->bs / r->f->lba_size;
	r->seed = mix64(((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
			(uint64_t)(now() * 1e9));
	r->slot_lba = calloc(qd, sizeof(*r->slot_lba));
	r->free_slot = calloc(qd, sizeof(*r->free_slot));
	r->cqes = calloc(qd, sizeof(*r->cqes));
	if (!r->slot_lba || !r->free_slot || !r->cqes) {
		errmsg("out of memory");
		return -1;
	}
	for (i = 0; i < qd; i++)
		r->free_slot[i] = qd - 1 - i;
	r->nr_free = qd;
	r->prog.on = r->cfg->progress;
	r->prog.tty = isatty(STDERR_FILENO);
	return 0;
}

int main(int argc, char **argv)
{
	struct run r = { 0 };
	struct devinfo d;
	struct cfg c;
	int fd, ret;

	ret = parse_args(argc, argv, &c);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	r.cfg = &c;

	fd = open_namespace(&c, &d);
	if (fd < 0)
		return EXIT_FAIL;
	ret = open_handle(&c, &d, fd, &r.n);
	close(fd);		/* the handle holds its own dup */
	if (ret)
		return EXIT_FAIL;
	r.f = nrio_facts(r.n);

	ret = EXIT_FAIL;
	if (check_access(&c, r.n) || setup_run(&r))
		goto out;
	/* Arguments that do not fit this namespace are bad arguments. */
	ret = EXIT_USAGE;
	if (check_block_size(&c, &r) || pick_range(&c, &r))
		goto out;
	print_setup(&r, &d);
	ret = run_all(&r);
out:
	nrio_close(r.n);
	free(r.slot_lba);
	free(r.free_slot);
	free(r.cqes);
	return ret;
}
