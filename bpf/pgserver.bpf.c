// SPDX-License-Identifier: GPL-2.0-only
/*
 * PostgreSQL server side: every simple-protocol query of every backend of the traced
 * postgres binaries, from its USDT probes. See include/abi/pgserver.h.
 *
 * A backend runs one query at a time. A query that fails longjmps past query__done: the
 * transaction__abort that error recovery fires marks it, and the backend's next query__start
 * (or its exit) ends it as an error at the time of the abort. An explicit ROLLBACK aborts
 * too, but then reaches query__done and is no error.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>

#include "common.bpf.h"
#include "abi/pgserver.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_text_max = PGSERVER_TEXT_DEFAULT;
const volatile __u64 targ_wakeup_bytes = 1 << 18;
const volatile bool filter_procs = false;

/*
 * Per backend, the query it runs (ts_start != 0) as it will be sent. An entry lives as long as
 * its backend and is written in place: a query costs no copy of a whole event into the map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PGSERVER_BACKENDS_DEFAULT);
	__type(key, __u32);
	__type(value, struct pgserver_ev);
} backends SEC(".maps");

static const struct pgserver_ev zero_ev;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PGSERVER_PROCS_DEFAULT);
	__type(key, __u32);
	__type(value, __u8);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PGSERVER_RINGBUF_DEFAULT);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PGSERVER_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	counter__add(&stats, idx, 1);
}

static __always_inline __u64 rb_flags(__u64 size)
{
	return ringbuf__flags(&events, targ_wakeup_bytes, size);
}

static __always_inline bool proc__wanted(__u32 pid)
{
	return !filter_procs || procs__wanted(&procs, pid);
}

static __always_inline void ev__output(struct pgserver_ev *e)
{
	__u64 size = PGSERVER_EV_HDR + e->text_len;

	if (size > sizeof(*e))
		size = sizeof(*e);
	if (bpf_ringbuf_output(&events, e, size, rb_flags(size)))
		stat_inc(PGSERVER_STAT_RB_DROPS);
}

/* A query that never reached query__done: failed (aborted) or its backend went away. */
static __always_inline void query__unfinished(struct pgserver_ev *e, __u16 flags)
{
	e->flags |= flags;
	if (e->ts_abort) {
		e->flags |= PGSERVER_F_ERROR;
		e->ts_end = e->ts_abort;
	} else {
		e->flags |= PGSERVER_F_END_UNKNOWN;
		if (!(flags & PGSERVER_F_EXITED))
			e->flags |= PGSERVER_F_ERROR;
		e->ts_end = e->ts_start;
	}
	stat_inc(PGSERVER_STAT_UNFINISHED);
	ev__output(e);
}

SEC("usdt")
int BPF_USDT(query_start, const char *query)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 cap = targ_text_max < PGSERVER_TEXT_MAX - 1 ? targ_text_max : PGSERVER_TEXT_MAX - 1;
	struct pgserver_ev *e;
	bool truncated;
	long n;

	if (!proc__wanted(pid))
		return 0;
	e = map__lookup_or_init(&backends, &pid, &zero_ev);
	if (!e) {
		stat_inc(PGSERVER_STAT_NO_STATE);
		return 0;
	}
	if (e->ts_start)
		query__unfinished(e, 0);
	e->type = PGSERVER_EV_QUERY;
	e->pid = pid;
	e->ts_end = 0;
	e->ts_abort = 0;
	e->flags = 0;
	e->text_len = 0;
	n = user_str__read(e->text, cap, query, &truncated);
	if (n >= 0) {
		e->text_len = n;
		if (truncated)
			e->flags |= PGSERVER_F_TRUNCATED;
	} else {
		e->flags |= PGSERVER_F_READ_FAULT;
		stat_inc(PGSERVER_STAT_READ_FAULT);
	}
	e->ts_start = bpf_ktime_get_ns();
	return 0;
}

SEC("usdt")
int BPF_USDT(query_done, const char *query)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct pgserver_ev *e = bpf_map_lookup_elem(&backends, &pid);

	if (!e || !e->ts_start)
		return 0;
	e->ts_end = bpf_ktime_get_ns();
	ev__output(e);
	e->ts_start = 0;
	return 0;
}

SEC("usdt")
int BPF_USDT(transaction_abort)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct pgserver_ev *e = bpf_map_lookup_elem(&backends, &pid);

	if (e && e->ts_start && !e->ts_abort)
		e->ts_abort = bpf_ktime_get_ns();
	return 0;
}

SEC("tp/sched/sched_process_exit")
int sched_process_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	struct pgserver_ev *e;

	if ((__u32)id != pid)
		return 0;
	e = bpf_map_lookup_elem(&backends, &pid);
	if (!e)
		return 0;
	if (e->ts_start)
		query__unfinished(e, PGSERVER_F_EXITED);
	bpf_map_delete_elem(&backends, &pid);
	return 0;
}
