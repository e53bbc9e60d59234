/* SPDX-License-Identifier: GPL-2.0-only */
/* BPF-only helpers shared by every sloprobe BPF object. Include after vmlinux.h. */
#ifndef SLOPROBE_COMMON_BPF_H
#define SLOPROBE_COMMON_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "abi/procfilter.h"

#ifndef S_IFMT
#define S_IFMT	 00170000
#define S_IFSOCK 0140000
#endif

/* Adds n to this CPU's slot idx of a per-CPU array of __u64 counters. */
static __always_inline void counter__add(void *counters, __u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(counters, &idx);

	if (v)
		*v += n;
}

/*
 * Flags for a ring-buffer submit of size bytes: wake the reader only when this submit makes
 * the waiting data cross threshold. A wake-up costs ~50x a silent submit, and a reader that
 * lags must not turn every later submit into one; readers also drain on a short timer, so a
 * missed crossing only delays a batch.
 */
static __always_inline __u64 ringbuf__flags(void *rb, __u64 threshold, __u64 size)
{
	__u64 avail = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);

	if (avail >= threshold && avail < threshold + size + 8)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* The value at key, created from init (BPF_NOEXIST: a racing creator wins); NULL: map full. */
static __always_inline void *map__lookup_or_init(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/*
 * The user string at src into dst (room for cap + 1 bytes), at most cap bytes of it. Its
 * length, or -1 if unreadable; *truncated only if the string went on past cap.
 */
static __always_inline long user_str__read(char *dst, __u32 cap, const char *src, bool *truncated)
{
	long n = bpf_probe_read_user_str(dst, cap + 1, src);
	char next = 0;

	*truncated = false;
	if (n <= 0)
		return -1;
	*truncated = n - 1 == cap && !bpf_probe_read_user(&next, 1, src + cap) && next;
	return n - 1;
}

/*
 * Whether to trace a process, from userspace's verdicts in a `procs` map (include/abi/procfilter.h):
 * only ignored ones are not; a process not decided yet is traced until userspace says.
 */
static __always_inline bool procs__wanted(void *procs, __u32 tgid)
{
	__u8 *v = bpf_map_lookup_elem(procs, &tgid);

	return !v || *v != PROCFILTER_IGNORE;
}

/* The struct sock behind fd in the current task; NULL if the fd is not open. */
static __always_inline struct sock *fd__sock(__u32 fd, bool *is_sock)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	struct socket *so;
	umode_t mode;

	*is_sock = false;
	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return (struct sock *)1; /* open, not a socket */
	so = BPF_CORE_READ(f, private_data);
	*is_sock = true;
	return BPF_CORE_READ(so, sk);
}

#endif
