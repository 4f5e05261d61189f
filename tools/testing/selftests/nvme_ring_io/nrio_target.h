/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An NVMe controller from the kernel's own target, for tests that need a
 * device the VM's emulated NVMe cannot be: nvmet-tcp on 127.0.0.1 exports
 * one namespace backed by a null_blk configfs device, which can have bad
 * blocks or complete every I/O late.
 *
 * Each test binary describes its target with a struct nrio_target_cfg of
 * its own (NQN, null_blk item, nvmet port and TCP port), so that two
 * binaries never step on each other's configfs items or connections.
 */
#ifndef NRIO_TARGET_H
#define NRIO_TARGET_H

#include <stdbool.h>
#include <time.h>

#include "nrio_test.h"

#define NRIO_NVMET	"/sys/kernel/config/nvmet"
#define NRIO_NULLB	"/sys/kernel/config/nullb"

struct nrio_target_cfg {
	const char *nqn;		/* subsystem NQN, unique per binary */
	const char *nullb_name;		/* null_blk configfs item */
	unsigned int port;		/* nvmet port id (configfs) */
	unsigned int trsvcid;		/* TCP port on 127.0.0.1 */
	/* The backing null_blk device: */
	unsigned int size_mb;
	bool memory_backed;
	const char *badblocks;		/* e.g. "+2048-4095"; NULL: none */
	/*
	 * Non-zero: complete every I/O this many ns after it arrived
	 * (irqmode 2, a timer per request).
	 */
	unsigned long long completion_nsec;
	/* Seconds to wait for the namespace to open; 0: 10. */
	unsigned int open_timeout_s;
};

struct nrio_target {
	const struct nrio_target_cfg *cfg;
	char nullb[64];			/* the backing device, /dev/... */
	char dev[64];			/* the host's namespace, /dev/nvmeXn1 */
	char failed[512];		/* what nrio_target_setup() failed at */
};

/* Does this kernel have what a target needs? */
static inline bool nrio_target_available(void)
{
	return !access(NRIO_NVMET, F_OK) && !access(NRIO_NULLB, F_OK) &&
	       !access("/dev/nvme-fabrics", W_OK);
}

static inline double nrio_target_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Read a sysfs/configfs file, without its trailing newline. */
static inline int nrio_target_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* The configfs paths of @cfg's items. */
static inline void nrio_target_subsys(const struct nrio_target_cfg *cfg,
				      char *buf, size_t len)
{
	snprintf(buf, len, NRIO_NVMET "/subsystems/%s", cfg->nqn);
}

static inline void nrio_target_ns(const struct nrio_target_cfg *cfg,
				  char *buf, size_t len)
{
	snprintf(buf, len, NRIO_NVMET "/subsystems/%s/namespaces/1", cfg->nqn);
}

static inline void nrio_target_port(const struct nrio_target_cfg *cfg,
				    char *buf, size_t len)
{
	snprintf(buf, len, NRIO_NVMET "/ports/%u", cfg->port);
}

static inline void nrio_target_nullb(const struct nrio_target_cfg *cfg,
				     char *buf, size_t len)
{
	snprintf(buf, len, NRIO_NULLB "/%s", cfg->nullb_name);
}

/* The host block device whose subsystem NQN is @cfg's, or "". */
static inline void nrio_target_find_dev(const struct nrio_target_cfg *cfg,
					char *dev, size_t len)
{
	char path[128], nqn[256];
	int i;

	dev[0] = '\0';
	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path),
			 "/sys/block/nvme%dn1/device/subsysnqn", i);
		if (!nrio_target_read(path, nqn, sizeof(nqn)) &&
		    !strcmp(nqn, cfg->nqn)) {
			snprintf(dev, len, "/dev/nvme%dn1", i);
			return;
		}
	}
}

/* The host controller's sysfs directory (for delete_controller), or "". */
static inline void nrio_target_find_ctrl(const struct nrio_target_cfg *cfg,
					 char *ctrl, size_t len)
{
	char path[128], nqn[256];
	int i;

	ctrl[0] = '\0';
	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/sys/class/nvme/nvme%d/subsysnqn",
			 i);
		if (!nrio_target_read(path, nqn, sizeof(nqn)) &&
		    !strcmp(nqn, cfg->nqn)) {
			snprintf(ctrl, len, "/sys/class/nvme/nvme%d", i);
			return;
		}
	}
}

/* Enable or disable the target's namespace: 0 or -errno. */
static inline int nrio_target_ns_enable(const struct nrio_target *t, bool on)
{
	char path[192];

	nrio_target_ns(t->cfg, path, sizeof(path));
	strcat(path, "/enable");
	return nt_write_file(path, on ? "1" : "0");
}

/*
 * Take down what nrio_target_setup() made, or whatever of it a failed test
 * or an earlier run left behind: the host controller, the nvmet port,
 * subsystem and namespace, and the null_blk device.
 */
static inline void nrio_target_cleanup(const struct nrio_target_cfg *cfg)
{
	char ctrl[128], path[192], dir[160];
	double t0;

	nrio_target_find_ctrl(cfg, ctrl, sizeof(ctrl));
	if (ctrl[0]) {
		snprintf(path, sizeof(path), "%s/delete_controller", ctrl);
		nt_write_file(path, "1");
	}
	/* The next test must not find this controller's leftovers. */
	for (t0 = nrio_target_now(); nrio_target_now() - t0 < 20;
	     usleep(50000)) {
		nrio_target_find_ctrl(cfg, ctrl, sizeof(ctrl));
		nrio_target_find_dev(cfg, path, sizeof(path));
		if (!ctrl[0] && !path[0])
			break;
	}
	nrio_target_port(cfg, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/subsystems/%s", dir, cfg->nqn);
	unlink(path);
	rmdir(dir);
	nrio_target_ns(cfg, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/enable", dir);
	nt_write_file(path, "0");
	rmdir(dir);
	nrio_target_subsys(cfg, dir, sizeof(dir));
	rmdir(dir);
	nrio_target_nullb(cfg, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/power", dir);
	nt_write_file(path, "0");
	rmdir(dir);
}

/* Write @val to @dir/@attr; on failure name the step in t->failed. */
static inline int nrio_target_set(struct nrio_target *t, const char *dir,
				  const char *attr, const char *val)
{
	char path[256];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	ret = nt_write_file(path, val);
	if (ret)
		snprintf(t->failed, sizeof(t->failed), "write %s to %s: %s",
			 val, path, strerror(-ret));
	return ret;
}

/* On failure name the step in t->failed and return -errno. */
static inline int nrio_target_fail(struct nrio_target *t, const char *what,
				   const char *path)
{
	int ret = -errno;

	snprintf(t->failed, sizeof(t->failed), "%s %s: %s", what, path,
		 strerror(errno));
	return ret;
}

/*
 * Create the null_blk device, export it over nvmet-tcp, connect to it and
 * wait until the host's namespace opens.  Returns 0, or -errno with
 * t->failed saying what failed; call nrio_target_cleanup() either way.
 */
static inline int nrio_target_setup(struct nrio_target *t,
				    const struct nrio_target_cfg *cfg)
{
	char nullb[128], subsys[128], ns[160], port[128], path[256];
	char val[160], name[16];
	unsigned int timeout = cfg->open_timeout_s ? cfg->open_timeout_s : 10;
	double t0;
	int ret;

	memset(t, 0, sizeof(*t));
	t->cfg = cfg;
	nrio_target_nullb(cfg, nullb, sizeof(nullb));
	nrio_target_subsys(cfg, subsys, sizeof(subsys));
	nrio_target_ns(cfg, ns, sizeof(ns));
	nrio_target_port(cfg, port, sizeof(port));

	system("ip link set lo up 2>/dev/null");
	/* A test that failed half-way must not fail the ones after it. */
	if (!access(nullb, F_OK) || !access(subsys, F_OK))
		nrio_target_cleanup(cfg);

	/* The backing null_blk device; options only before power. */
	if (mkdir(nullb, 0755))
		return nrio_target_fail(t, "mkdir", nullb);
	snprintf(val, sizeof(val), "%u", cfg->size_mb);
	ret = nrio_target_set(t, nullb, "size", val);
	if (!ret && cfg->memory_backed)
		ret = nrio_target_set(t, nullb, "memory_backed", "1");
	if (!ret && cfg->badblocks)
		ret = nrio_target_set(t, nullb, "badblocks", cfg->badblocks);
	if (!ret && cfg->completion_nsec) {
		ret = nrio_target_set(t, nullb, "irqmode", "2");
		snprintf(val, sizeof(val), "%llu", cfg->completion_nsec);
		if (!ret)
			ret = nrio_target_set(t, nullb, "completion_nsec", val);
	}
	if (!ret)
		ret = nrio_target_set(t, nullb, "power", "1");
	if (ret)
		return ret;
	/* 6.12 names the disk after the configfs item, 6.1 by index. */
	snprintf(t->nullb, sizeof(t->nullb), "/dev/%s", cfg->nullb_name);
	if (access(t->nullb, F_OK)) {
		snprintf(path, sizeof(path), "%s/index", nullb);
		if (nrio_target_read(path, name, sizeof(name)))
			return nrio_target_fail(t, "read", path);
		snprintf(t->nullb, sizeof(t->nullb), "/dev/nullb%s", name);
	}

	/* Export it over nvmet-tcp and connect. */
	if (mkdir(subsys, 0755))
		return nrio_target_fail(t, "mkdir", subsys);
	ret = nrio_target_set(t, subsys, "attr_allow_any_host", "1");
	if (ret)
		return ret;
	if (mkdir(ns, 0755))
		return nrio_target_fail(t, "mkdir", ns);
	ret = nrio_target_set(t, ns, "device_path", t->nullb);
	if (!ret)
		ret = nrio_target_set(t, ns, "enable", "1");
	if (ret)
		return ret;
	if (mkdir(port, 0755))
		return nrio_target_fail(t, "mkdir", port);
	snprintf(val, sizeof(val), "%u", cfg->trsvcid);
	ret = nrio_target_set(t, port, "addr_trtype", "tcp");
	if (!ret)
		ret = nrio_target_set(t, port, "addr_adrfam", "ipv4");
	if (!ret)
		ret = nrio_target_set(t, port, "addr_traddr", "127.0.0.1");
	if (!ret)
		ret = nrio_target_set(t, port, "addr_trsvcid", val);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/subsystems/%s", port, cfg->nqn);
	if (symlink(subsys, path))
		return nrio_target_fail(t, "symlink", path);
	snprintf(val, sizeof(val),
		 "transport=tcp,traddr=127.0.0.1,trsvcid=%u,nqn=%s",
		 cfg->trsvcid, cfg->nqn);
	ret = nt_write_file("/dev/nvme-fabrics", val);
	if (ret) {
		snprintf(t->failed, sizeof(t->failed), "connect %s: %s", val,
			 strerror(-ret));
		return ret;
	}
	/*
	 * The namespace's node can show up before its disk opens (ENXIO on
	 * a slow kernel): wait until it opens.
	 */
	for (t0 = nrio_target_now(); nrio_target_now() - t0 < timeout;
	     usleep(50000)) {
		int fd;

		nrio_target_find_dev(cfg, t->dev, sizeof(t->dev));
		if (!t->dev[0])
			continue;
		fd = open(t->dev, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
	}
	/* Found but never opened: the test's own open will say why. */
	if (t->dev[0])
		return 0;
	snprintf(t->failed, sizeof(t->failed),
		 "no namespace of %s within %u s", cfg->nqn, timeout);
	return -ENODEV;
}

#endif /* NRIO_TARGET_H */
