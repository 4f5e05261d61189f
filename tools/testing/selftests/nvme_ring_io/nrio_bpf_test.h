/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF objects for the selftests: built beside the test binaries (bpf/),
 * found through /proc/self/exe whatever the working directory.
 */
#ifndef NRIO_BPF_TEST_H
#define NRIO_BPF_TEST_H

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include <bpf/libbpf.h>

/* libbpf's warnings only: its debug output would drown the TAP. */
static inline int nt_libbpf_quiet(enum libbpf_print_level level,
				  const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Open and load @name from this program's directory into *@obj. */
static inline int nt_bpf_load(const char *name, struct bpf_object **obj)
{
	char exe[4096], path[4200];
	ssize_t n;

	libbpf_set_print(nt_libbpf_quiet);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -errno;
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dirname(exe), name);
	*obj = bpf_object__open_file(path, NULL);
	if (!*obj)
		return -errno;
	return bpf_object__load(*obj);
}

/*
 * Drop CAP_BPF and CAP_SYS_ADMIN from this (child) process, keeping every
 * other capability: what an attach without BPF privilege sees.
 */
static inline int nt_drop_bpf_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = ~(1U << CAP_SYS_ADMIN);
	d[1].effective = d[1].permitted = ~(1U << (CAP_BPF - 32));
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

#endif /* NRIO_BPF_TEST_H */
