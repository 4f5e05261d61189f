/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An on-disk B+-tree for the read-next BPF steps: its node format (shared
 * by the BPF program in bpf/chain.bpf.c and by userspace) and, outside
 * BPF, a bulk loader that builds one from random keys with its in-memory
 * model, and the userspace lookup of one node.
 *
 * A node is node_lbas LBAs: struct bt_hdr, then cap keys, then cap values.
 * Keys are sorted; in an internal node (level > 0) key i is the smallest
 * key under child i and value i is the child's LBA; in a leaf (level 0)
 * value i is key i's value, below 2^31 so that it can be a CQ entry's res.
 * Nodes are laid out level by level from base_lba on, the root last.
 */
#ifndef NRIO_BTREE_H
#define NRIO_BTREE_H

#define BT_MAGIC		0x45455242	/* "BREE" */

struct bt_hdr {
	__u32	magic;
	__u16	level;		/* 0: a leaf */
	__u16	nkeys;		/* 1..cap */
	__u16	cap;		/* keys a node has room for */
	__u16	resv;
	__u32	node_lbas;	/* LBAs per node */
};

#define BT_KEY_OFF(i)		(16ULL + 8ULL * (i))
#define BT_VAL_OFF(cap, i)	(16ULL + 8ULL * (cap) + 8ULL * (i))
#define BT_NODE_BYTES(cap)	(16ULL + 16ULL * (cap))

/* Where btree_lookup_root (bpf/chain.bpf.c) finds the root. */
#define BT_ROOT_MAGIC		0x544f4f52	/* "ROOT" */
struct bt_root {
	__u64	root_lba;
	__u32	node_lbas;
	__u32	magic;
};

/* One read a read_list program asks for (bpf/chain.bpf.c). */
struct bt_req {
	__u64	slba;
	__u32	nlb;
	__u32	resv;
	__u64	off;
};

#ifndef __bpf__
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct bt_tree {
	__u64		*keys;		/* the model: sorted keys */
	__u32		*vals;		/* and their values */
	__u32		n;
	__u32		node_size, lba, node_lbas, fanout, cap;
	__u32		depth;		/* levels, leaves included */
	__u32		nodes;
	__u64		base_lba, root_lba;
	unsigned char	*img;		/* nodes * node_size bytes */
};

static inline __u64 bt_mix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline __u32 bt_value_of(__u64 key)
{
	return (__u32)(bt_mix(key ^ 0x5555) & 0x7fffffff);
}

static inline int bt_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static inline void bt_free(struct bt_tree *t)
{
	free(t->keys);
	free(t->vals);
	free(t->img);
	memset(t, 0, sizeof(*t));
}

/*
 * Build a tree of up to @n random keys (from @seed; duplicates dropped),
 * @fanout keys per node, nodes of @node_size bytes on a namespace of
 * @lba-byte blocks, placed from @base_lba on.  0 or -errno.
 */
static inline int bt_build(struct bt_tree *t, __u32 n, __u32 fanout,
			   __u32 node_size, __u32 lba, __u64 base_lba,
			   __u64 seed)
{
	__u64 *ek, *nk;
	__u64 *ev, *nv;
	__u32 m, i, j, level = 0, max_nodes;

	memset(t, 0, sizeof(*t));
	t->node_size = node_size;
	t->lba = lba;
	t->node_lbas = node_size / lba;
	t->cap = (node_size - 16) / 16;
	t->fanout = fanout;
	t->base_lba = base_lba;
	if (fanout < 2 || fanout > t->cap || node_size % lba || !n)
		return -EINVAL;
	t->keys = calloc(n, sizeof(*t->keys));
	t->vals = calloc(n, sizeof(*t->vals));
	ek = calloc(n, sizeof(*ek));
	ev = calloc(n, sizeof(*ev));
	nk = calloc(n, sizeof(*nk));
	nv = calloc(n, sizeof(*nv));
	/* Every level has at most half the entries of the one below. */
	max_nodes = 2 * (n / fanout + 1) + 64;
	t->img = calloc(max_nodes, node_size);
	if (!t->keys || !t->vals || !ek || !ev || !nk || !nv || !t->img) {
		free(ek); free(ev); free(nk); free(nv);
		bt_free(t);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		t->keys[i] = bt_mix(seed * 0x100000001b3ULL + i) >> 1;
	qsort(t->keys, n, sizeof(*t->keys), bt_cmp);
	for (i = j = 0; i < n; i++)
		if (!j || t->keys[i] != t->keys[j - 1])
			t->keys[j++] = t->keys[i];
	t->n = m = j;
	for (i = 0; i < m; i++) {
		t->vals[i] = bt_value_of(t->keys[i]);
		ek[i] = t->keys[i];
		ev[i] = t->vals[i];
	}
	for (;;) {
		__u32 nn = (m + fanout - 1) / fanout;

		for (j = 0; j < nn; j++) {
			__u32 idx = t->nodes++, cnt = m - j * fanout;
			unsigned char *p = t->img + (size_t)idx * node_size;
			struct bt_hdr *h = (struct bt_hdr *)p;

			if (idx >= max_nodes)
				abort();
			if (cnt > fanout)
				cnt = fanout;
			h->magic = BT_MAGIC;
			h->level = level;
			h->nkeys = cnt;
			h->cap = t->cap;
			h->node_lbas = t->node_lbas;
			for (i = 0; i < cnt; i++) {
				memcpy(p + BT_KEY_OFF(i), &ek[j * fanout + i], 8);
				memcpy(p + BT_VAL_OFF(t->cap, i),
				       &ev[j * fanout + i], 8);
			}
			nk[j] = ek[j * fanout];
			nv[j] = base_lba + (__u64)idx * t->node_lbas;
		}
		level++;
		if (nn == 1)
			break;
		memcpy(ek, nk, nn * sizeof(*ek));
		memcpy(ev, nv, nn * sizeof(*ev));
		m = nn;
	}
	t->depth = level;
	t->root_lba = base_lba + (__u64)(t->nodes - 1) * t->node_lbas;
	free(ek); free(ev); free(nk); free(nv);
	return 0;
}

/* The model's answer: the value, or -ENOENT. */
static inline int bt_model(const struct bt_tree *t, __u64 key)
{
	__u32 lo = 0, hi = t->n;

	while (lo < hi) {
		__u32 mid = (lo + hi) / 2;

		if (t->keys[mid] == key)
			return (int)t->vals[mid];
		if (t->keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

/*
 * Search @key in @node as read from disk (what the BPF program does, in
 * C): the value (>= 0), -ENOENT, -EBADMSG for a node that is not one, or
 * 1 with *@child the LBA to read next.
 */
static inline int bt_node_search(const unsigned char *node, __u32 len,
				 __u64 key, __u64 *child)
{
	struct bt_hdr h;
	__u32 lo = 0, hi;
	__u64 k, v;

	memcpy(&h, node, sizeof(h));
	if (h.magic != BT_MAGIC || !h.nkeys || h.nkeys > h.cap ||
	    BT_NODE_BYTES(h.cap) > len)
		return -EBADMSG;
	hi = h.nkeys;
	while (hi - lo > 1) {
		__u32 mid = (lo + hi) / 2;

		memcpy(&k, node + BT_KEY_OFF(mid), 8);
		if (k <= key)
			lo = mid;
		else
			hi = mid;
	}
	memcpy(&k, node + BT_KEY_OFF(lo), 8);
	memcpy(&v, node + BT_VAL_OFF(h.cap, lo), 8);
	if (k > key || (h.level == 0 && k != key))
		return -ENOENT;
	if (h.level == 0)
		return (int)(v & 0x7fffffff);
	*child = v;
	return 1;
}
#endif /* !__bpf__ */

#endif /* NRIO_BTREE_H */
