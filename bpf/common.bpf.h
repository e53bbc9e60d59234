/* SPDX-License-Identifier: GPL-2.0-only */
/* BPF-only helpers shared by every sloprobe BPF object. Include after vmlinux.h. */
#ifndef SLOPROBE_COMMON_BPF_H
#define SLOPROBE_COMMON_BPF_H

#include <bpf/bpf_helpers.h>

#include "procfilter.h"

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

/*
 * Whether to trace a process, from userspace's verdicts in a `procs` map (include/procfilter.h):
 * only ignored ones are not; a process not decided yet is traced until userspace says.
 */
static __always_inline bool procs__wanted(void *procs, __u32 tgid)
{
	__u8 *v = bpf_map_lookup_elem(procs, &tgid);

	return !v || *v != PROCFILTER_IGNORE;
}

#endif
