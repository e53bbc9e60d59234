// SPDX-License-Identifier: GPL-2.0-only
/*
 * Thread-pool hand-offs (include/abi/handoff_ev.h). No syscall hooks: sched_waking runs in the
 * waker's context, and both tasks' syscalls (number and arguments) are in their saved user
 * registers, so a wake-up alone says "L in futex WAKE woke W in an untimed futex wait".
 * sched_waking, not sched_wakeup: across LLCs the latter runs on the wakee's CPU.
 *
 * Cost model: every wake-up and every socket send on the host pays a few field reads; only
 * threads of processes in `procs` pay a map lookup, the register reads and, rarely, a submit.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"
#include "abi/handoff_ev.h"

char LICENSE[] SEC("license") = "GPL";

#define NR_FUTEX	  202 /* x86-64 */
#define FUTEX_WAIT	  0
#define FUTEX_WAKE	  1
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_CMD_MASK	  127 /* without FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME */
#define AF_UNIX		  1

const volatile __u64 targ_wakeup_bytes = HANDOFF_RINGBUF_DEFAULT / 4;

/* Processes to watch (tgid -> 1), filled by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HANDOFF_PROCS_MAX);
	__type(key, __u32);
	__type(value, __u8);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, HANDOFF_RINGBUF_DEFAULT);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HANDOFF_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void emit(__u32 kind, __u32 tgid, __u32 tid, __u32 wakee, __u64 uaddr)
{
	struct handoff_ev *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		counter__add(&stats, HANDOFF_STAT_DROPPED, 1);
		return;
	}
	e->ts = bpf_ktime_get_ns();
	e->kind = kind;
	e->tgid = tgid;
	e->tid = tid;
	e->wakee = wakee;
	e->uaddr = uaddr;
	bpf_ringbuf_submit(e, ringbuf__flags(&events, targ_wakeup_bytes, sizeof(*e)));
	counter__add(&stats,
		     kind == HANDOFF_EV_WAKE  ? HANDOFF_STAT_WAKE
		     : kind == HANDOFF_EV_NEW ? HANDOFF_STAT_NEW
					      : HANDOFF_STAT_BACK,
		     1);
}

SEC("tp_btf/sched_waking")
int BPF_PROG(sched_waking, struct task_struct *p)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct pt_regs *wr, *er;
	__u32 tgid = p->tgid;
	__u64 op;

	/*
	 * Timer expiries wake in IRQ context with the interrupted task as current: they only
	 * end timed waits, which the test below rejects, and a foreign current fails here.
	 */
	if (cur->tgid != tgid || cur == p || !bpf_map_lookup_elem(&procs, &tgid))
		return 0;
	wr = (struct pt_regs *)bpf_task_pt_regs(cur);
	er = (struct pt_regs *)bpf_task_pt_regs(p);
	if (!wr || !er)
		return 0;
	/* Direct loads (the verifier makes them fault-safe): no helper call per field. */
	if (wr->orig_ax != NR_FUTEX || er->orig_ax != NR_FUTEX)
		goto other;
	op = wr->si & FUTEX_CMD_MASK;
	if (op != FUTEX_WAKE && op != FUTEX_WAKE_BITSET)
		goto other;
	/* A job queue waits without a timeout; the GIL and timers always have one. */
	if ((er->si & FUTEX_CMD_MASK) != FUTEX_WAIT_BITSET || er->r10)
		goto other;
	emit(HANDOFF_EV_WAKE, tgid, cur->pid, p->pid, er->di);
	return 0;
other:
	counter__add(&stats, HANDOFF_STAT_WAKE_OTHER, 1);
	return 0;
}

/* A pool that grows hands its job to the new thread: its first wake-up is the hand-off. */
SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	__u32 tgid = p->tgid;

	if (cur->tgid != tgid || !bpf_map_lookup_elem(&procs, &tgid))
		return 0; /* a new process, not a thread */
	emit(HANDOFF_EV_NEW, tgid, cur->pid, p->pid, 0);
	return 0;
}

/* The worker reports back through the loop's self-pipe: a byte or a counter, never more. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length, struct sock *sk, int ret, int flags)
{
	__u32 tgid;

	if (ret <= 0 || ret > HANDOFF_BACK_MAX || sk->__sk_common.skc_family != AF_UNIX)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!bpf_map_lookup_elem(&procs, &tgid))
		return 0;
	emit(HANDOFF_EV_BACK, tgid, (__u32)bpf_get_current_pid_tgid(), 0, ret);
	return 0;
}

/*
 * The same hand-back on kernels without sock_send_length (6.1, docs/kernels.md), at the
 * syscall that makes it: write() and send() of a few bytes to an AF_UNIX socket, asyncio's
 * self-pipe. Loaded only there (src/probes/handoff_probe.c): every write of the host pays a
 * run, cheaper checks first. Dated at the call's entry, microseconds before the send.
 */
static __always_inline int back_syscall(__u32 fd, __u64 len)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct sock *sk;
	bool is_sock;

	if (!len || len > HANDOFF_BACK_MAX || !bpf_map_lookup_elem(&procs, &tgid))
		return 0;
	sk = fd__sock(fd, &is_sock);
	if (!is_sock || !sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_UNIX)
		return 0;
	emit(HANDOFF_EV_BACK, tgid, (__u32)id, 0, len);
	return 0;
}

SEC("tp/syscalls/sys_enter_write")
int back_write(struct trace_event_raw_sys_enter *ctx)
{
	return back_syscall(ctx->args[0], ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_sendto")
int back_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return back_syscall(ctx->args[0], ctx->args[2]);
}
