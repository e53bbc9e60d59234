/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c, which includes it after its settings: the process filter. The pid,
 * comm and cgroup filters are evaluated once per process, in its own context, and the verdict
 * is kept in procs. Its own file: verdicts are made here and nowhere else, and every way into
 * tracing (a first read or write, accept, connect, a new listener) asks proc__wanted.
 */
#ifndef SLOPROBE_SOCKIO_PROC_BPF_H
#define SLOPROBE_SOCKIO_PROC_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "abi/sockio.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCKIO_PROCS_DEFAULT);
	__type(key, __u32);
	__type(value, struct sockio_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCKIO_FILTER_PIDS_MAX);
	__type(key, __u32);
	__type(value, __u8);
} filter_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} filter_cgroup SEC(".maps");

static __always_inline bool proc__eval(__u32 tgid)
{
	if (filter_pid_on && !bpf_map_lookup_elem(&filter_pids, &tgid))
		return false;
	if (filter_comm_on) {
		struct task_struct *task = (void *)bpf_get_current_task();
		char comm[16] = {};

		BPF_CORE_READ_STR_INTO(&comm, task, group_leader, comm);
		for (int i = 0; i < 16; i++) {
			if (comm[i] != filter_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	if (filter_cgroup_on && bpf_current_task_under_cgroup(&filter_cgroup, 0) != 1)
		return false;
	return true;
}

/*
 * Whether the current process (whose syscall we are in) is one to trace. Filters are
 * evaluated here, in the process's own context, once per process and again after exec.
 */
static __always_inline bool proc__wanted(__u32 tgid, bool create)
{
	struct sockio_proc *p = bpf_map_lookup_elem(&procs, &tgid);
	struct sockio_proc np = {};

	if (p && p->state != SOCKIO_PROC_PENDING)
		return p->state == SOCKIO_PROC_MATCH;
	if (!p && !create)
		return false;
	np.state = proc__eval(tgid) ? SOCKIO_PROC_MATCH : SOCKIO_PROC_NOMATCH;
	bpf_map_update_elem(&procs, &tgid, &np, BPF_ANY);
	return np.state == SOCKIO_PROC_MATCH;
}

/* The process serves: it listens, or a connection of its was accepted or found serving. */
static __always_inline void proc__serves(__u32 tgid)
{
	struct sockio_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (p && !p->serves)
		p->serves = 1;
}

/*
 * A process that serves nothing calling a port that listens on this host (a load generator,
 * a script calling a local service): --outbound=all follows its calls, on does not.
 */
static __always_inline bool proc__serves_nothing(__u32 tgid)
{
	struct sockio_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	return !p || !p->serves;
}

static __always_inline bool proc__load_generator(__u32 tgid, const struct sockio_conn *c)
{
	return !targ_outbound_all && c->local_server && proc__serves_nothing(tgid);
}

#endif
