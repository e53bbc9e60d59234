// SPDX-License-Identifier: GPL-2.0-only
/*
 * Socket data path from syscall tracepoints only (no kprobes, no fentry: neither exists on
 * the hosts we target). See include/abi/sockio.h for what reaches userspace.
 *
 * Cost model: every read/write syscall on the host pays one hash lookup (conns) and, on a
 * miss, one more (procs). Only connections of interesting processes pay more, and only
 * protocol boundaries copy payload.
 *
 * One object in parts, each in bpf/sockio/ and included below: which processes to trace
 * (proc), which fds are TCP connections (conn), the bytes of a transfer (capture), what the
 * server side forwards (http), the client side (client, with each protocol's sniffer:
 * pgsql, resp, http), the TCP life of outbound connections (outbound), TLS plaintext from
 * OpenSSL's calls (tls), and TCP retransmits, resets and accept-queue overflows per port and
 * peer (tcpsat). This file holds the settings, the ring and counters every part reports
 * through, and every program: what runs where it attaches.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"
#include "abi/sockio.h"
#include "sockio.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_self_tgid = 0;
const volatile __u32 targ_head_bytes = SOCKIO_HEAD_DEFAULT;
const volatile __u32 targ_pg_write_bytes = SOCKIO_PG_WRITE_DEFAULT;
const volatile __u32 targ_pg_read_bytes = SOCKIO_PG_READ_DEFAULT;
const volatile __u64 targ_wakeup_bytes = 1 << 20;
const volatile bool targ_clients = false;
const volatile bool targ_arrival = true;   /* when request bytes arrive (--latency-from arrival) */
const volatile bool targ_outbound = false; /* outbound HTTP and the TCP life of connections */
const volatile bool targ_outbound_all = false; /* ... load generators' too (--outbound=all) */
const volatile bool targ_tls = false; /* OpenSSL's uprobes are loaded: see sockio/tls.bpf.h */
const volatile bool filter_pid_on = false;
const volatile bool filter_comm_on = false;
const volatile bool filter_cgroup_on = false;
const volatile bool filter_port_on = false;
const volatile char filter_comm[16] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SOCKIO_RINGBUF_DEFAULT);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOCKIO_STAT_NR);
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

#include "sockio/proc.bpf.h"
#include "sockio/conn.bpf.h"
#include "sockio/capture.bpf.h"
#include "sockio/http.bpf.h"
#include "sockio/client.bpf.h"
#include "sockio/outbound.bpf.h"
#include "sockio/tcpsat.bpf.h"

#include "sockio/tls.bpf.h"

/*
 * The ret bytes a transfer in (a syscall sys, or an OpenSSL call seen as one) moved on c: what
 * each side forwards of them, with flags on the event. sys is the caller's constant, so that
 * each program keeps only its own direction's code (and the verifier walks only that).
 */
static __always_inline int data__forward(struct sockio_conn *c, struct inflight *in, long ret,
					 __u64 ts_exit, __u8 flags, __u8 sys)
{
	bool read = sys_is_read(sys);
	struct scratch *s;
	struct xfer x;
	__u32 cap;

	if (c->role == SOCKIO_ROLE_CLIENT &&
	    (sys == SOCKIO_SYS_SENDFILE || (c->proto == SOCKIO_PROTO_UNKNOWN && read)))
		return 0; /* wait for the client's first words */
	if (xfer__init(in, ret, &x))
		return 0;
	s = scratch__get();
	if (!s)
		return 0;
	data__fill(&s->ev, c, in, ret, ts_exit);
	s->ev.flags = flags;
	/* One gather per transfer, sized by role and direction: the verifier walks it once. */
	if (c->role == SOCKIO_ROLE_CLIENT)
		cap = client__cap(c, read);
	else
		cap = targ_head_bytes;
	data__gather(s, &x, cap, c->role == SOCKIO_ROLE_CLIENT || !read);
	if (c->role == SOCKIO_ROLE_CLIENT)
		return client__io(c, s, &x, cap);
	if (read)
		return http__server_read(c, s);
	return http__server_write(c, s, sys);
}

/*
 * The heavy part of a syscall's exit (capture and each side's forwarding) runs as one of three
 * programs reached by a tail call, by direction: the verifier walks each once, where inlined
 * into the nine exit programs it walked it nine times (5.5 of the 8.5 s a record took to start,
 * docs/performance.md). What they need goes through forward_args, this CPU's own.
 */
enum { FWD_READ, FWD_WRITE, FWD_SENDFILE, FWD_NR };

struct forward_args {
	struct inflight in; /* a copy: cheaper than finding the task's storage again */
	long ret;
	__u64 ts_exit;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct forward_args);
} forward_args SEC(".maps");

static __always_inline int forward_tail(__u8 sys)
{
	struct forward_args *a = bpf_map_lookup_elem(&forward_args, &(__u32){ 0 });
	struct sockio_conn_key key;
	struct sockio_conn *c;

	if (!a)
		return 0;
	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.fd = a->in.fd;
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c || c->id != a->in.conn_id) {
		stat_inc(SOCKIO_STAT_CONN_LOST);
		return 0;
	}
	/* The thread's TLS state is written: the task's own, not the copy. */
	if (targ_tls) {
		struct inflight *in =
			bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);

		if (!in || tls__outside(in, c))
			return 0;
	}
	return data__forward(c, &a->in, a->ret, a->ts_exit, 0, sys);
}

/* SEC("tp") without a name: reached by tail calls only, never attached. */
SEC("tp")
int forward_read(void *ctx)
{
	return forward_tail(SOCKIO_SYS_READ);
}

SEC("tp")
int forward_write(void *ctx)
{
	return forward_tail(SOCKIO_SYS_WRITE);
}

SEC("tp")
int forward_sendfile(void *ctx)
{
	return forward_tail(SOCKIO_SYS_SENDFILE);
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, FWD_NR);
	__type(key, __u32);
	__array(values, int(void *));
} forward_progs SEC(".maps") = {
	.values = {
		[FWD_READ] = (void *)&forward_read,
		[FWD_WRITE] = (void *)&forward_write,
		[FWD_SENDFILE] = (void *)&forward_sendfile,
	},
};

static __always_inline int data__exit(void *ctx, long ret, __u8 sys)
{
	struct inflight *in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	struct forward_args *a;

	if (!in || !in->active)
		return 0;
	in->active = 0;
	if (in->sys != sys)
		return 0;
	/* Ciphertext of an OpenSSL call: its plaintext goes at the call's return. */
	if (targ_tls && tls__inside(in, ret))
		return 0;
	if (ret <= 0)
		return 0;
	/* The connection is looked up in the forwarding program: once. */
	a = bpf_map_lookup_elem(&forward_args, &(__u32){ 0 });
	if (!a)
		return 0;
	a->in = *in;
	a->ret = ret;
	a->ts_exit = bpf_ktime_get_ns();
	bpf_tail_call(ctx, &forward_progs,
		      sys_is_read(sys)		   ? FWD_READ
		      : sys == SOCKIO_SYS_SENDFILE ? FWD_SENDFILE
						   : FWD_WRITE);
	stat_inc(SOCKIO_STAT_TAIL_FAILED); /* only if the program array lost its entry */
	return 0;
}

/* OpenSSL's calls (not attached with the object: src/probes/tlsprobe.c attaches them per file,
 * the function in the cookie). */
SEC("uprobe")
int ssl_enter(struct pt_regs *ctx)
{
	return tls__enter(ctx, bpf_get_attach_cookie(ctx));
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_return, long ret)
{
	struct inflight call;
	struct sockio_conn *c;
	__s64 len;

	c = tls__return(ret, &call, &len);
	if (!c)
		return 0;
	if (call.sys == SOCKIO_SYS_READ)
		return data__forward(c, &call, len, bpf_ktime_get_ns(), SOCKIO_F_TLS,
				     SOCKIO_SYS_READ);
	return data__forward(c, &call, len, bpf_ktime_get_ns(), SOCKIO_F_TLS, SOCKIO_SYS_WRITE);
}

SEC("tp/syscalls/sys_enter_read")
int sys_enter_read(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], 0, SOCKIO_SYS_READ);
}

SEC("tp/syscalls/sys_exit_read")
int sys_exit_read(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx, ctx->ret, SOCKIO_SYS_READ);
}

SEC("tp/syscalls/sys_enter_readv")
int sys_enter_readv(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], ctx->args[2], SOCKIO_SYS_READV);
}

SEC("tp/syscalls/sys_exit_readv")
int sys_exit_readv(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx, ctx->ret, SOCKIO_SYS_READV);
}

SEC("tp/syscalls/sys_enter_recvfrom")
int sys_enter_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
	/* A peek leaves the bytes queued: the real read that follows reports them. */
	if (ctx->args[3] & MSG_PEEK)
		return 0;
	return data__enter(ctx->args[0], ctx->args[1], 0, SOCKIO_SYS_RECVFROM);
}

SEC("tp/syscalls/sys_exit_recvfrom")
int sys_exit_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx, ctx->ret, SOCKIO_SYS_RECVFROM);
}

SEC("tp/syscalls/sys_enter_recvmsg")
int sys_enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[2] & MSG_PEEK)
		return 0;
	return data__enter(ctx->args[0], ctx->args[1], 0, SOCKIO_SYS_RECVMSG);
}

SEC("tp/syscalls/sys_exit_recvmsg")
int sys_exit_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx, ctx->ret, SOCKIO_SYS_RECVMSG);
}

SEC("tp/syscalls/sys_enter_write")
int sys_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], 0, SOCKIO_SYS_WRITE);
}

SEC("tp/syscalls/sys_exit_write")
int sys_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx, ctx->ret, SOCKIO_SYS_WRITE);
}

SEC("tp/syscalls/sys_enter_writev")
int sys_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], ctx->args[2], SOCKIO_SYS_WRITEV);
}

SEC("tp/syscalls/sys_exit_writev")
int sys_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx, ctx->ret, SOCKIO_SYS_WRITEV);
}

SEC("tp/syscalls/sys_enter_sendto")
int sys_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], 0, SOCKIO_SYS_SENDTO);
}

SEC("tp/syscalls/sys_exit_sendto")
int sys_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx, ctx->ret, SOCKIO_SYS_SENDTO);
}

SEC("tp/syscalls/sys_enter_sendmsg")
int sys_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], 0, SOCKIO_SYS_SENDMSG);
}

SEC("tp/syscalls/sys_exit_sendmsg")
int sys_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx, ctx->ret, SOCKIO_SYS_SENDMSG);
}

SEC("tp/syscalls/sys_enter_sendfile64")
int sys_enter_sendfile64(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], 0, 0, SOCKIO_SYS_SENDFILE);
}

SEC("tp/syscalls/sys_exit_sendfile64")
int sys_exit_sendfile64(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx, ctx->ret, SOCKIO_SYS_SENDFILE);
}

static __always_inline int accept__exit(long ret)
{
	struct sockio_conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = ret };

	if (ret < 0 || key.tgid == targ_self_tgid)
		return 0;
	if (!proc__wanted(key.tgid, true))
		return 0;
	conn__track(&key, SOCKIO_HOW_ACCEPT);
	return 0;
}

SEC("tp/syscalls/sys_exit_accept")
int sys_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return accept__exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_accept4")
int sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return accept__exit(ctx->ret);
}

SEC("tp/syscalls/sys_enter_connect")
int sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	struct inflight *in;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	/* Decided here, so that processes we do not trace never get per-thread storage. */
	if (tgid == targ_self_tgid || !proc__wanted(tgid, true))
		return 0;
	in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!in)
		return 0;
	in->ts = bpf_ktime_get_ns();
	in->buf = ctx->args[1];
	in->sk = 0;
	in->fd = ctx->args[0];
	in->sys = SOCKIO_SYS_CONNECT;
	in->active = 1;
	return 0;
}

SEC("tp/syscalls/sys_exit_connect")
int sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct inflight *in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	struct sockio_conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct sockio_conn *c;

	if (!in || !in->active || in->sys != SOCKIO_SYS_CONNECT)
		return 0;
	in->active = 0;
	if (ctx->ret != 0 && ctx->ret != -EINPROGRESS) {
		if (targ_outbound)
			outbound__failed(in, ctx->ret, key.tgid);
		return 0;
	}
	key.fd = in->fd;
	c = conn__track(&key, SOCKIO_HOW_CONNECT);
	/* Only a call that sent its SYN: a second connect() on a socket has nothing to say. */
	if (targ_outbound && c && c->kind == SOCKIO_KIND_TRACKED && in->sk && in->sk == c->sk)
		outbound__connected(c, in, ctx->ret, key.tgid);
	return 0;
}

SEC("tp/syscalls/sys_enter_close")
int sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	struct sockio_conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32,
				       .fd = ctx->args[0] };
	struct sockio_conn *c = bpf_map_lookup_elem(&conns, &key);

	if (!c)
		return 0;
	if (c->kind == SOCKIO_KIND_TRACKED)
		conn__close_ev(key.tgid, c->id);
	bpf_map_delete_elem(&conns, &key);
	return 0;
}

/* Listening ports tell inbound from outbound for connections found after the fact. */
SEC("tp/sock/inet_sock_set_state")
int inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u16 port = ctx->sport;
	__u32 one = 1, *n;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->newstate == TCP_LISTEN) {
		n = bpf_map_lookup_elem(&listen_ports, &port);
		if (n)
			__sync_fetch_and_add(n, 1);
		else
			bpf_map_update_elem(&listen_ports, &port, &one, BPF_NOEXIST);
		if (proc__wanted(bpf_get_current_pid_tgid() >> 32, true))
			proc__serves(bpf_get_current_pid_tgid() >> 32);
	} else if (ctx->oldstate == TCP_LISTEN && ctx->newstate == TCP_CLOSE) {
		/* Only a listener closing: a new connection's child also leaves LISTEN (for
		 * SYN_RECV). */
		n = bpf_map_lookup_elem(&listen_ports, &port);
		if (n && __sync_fetch_and_add(n, -1) <= 1)
			bpf_map_delete_elem(&listen_ports, &port);
	}
	return 0;
}

/*
 * When request bytes reached an inbound connection, so that latency runs from the request's
 * arrival, not from the server's read: under saturation a request waits in the receive
 * queue, and a new connection in the accept queue, while the client's clock runs. The time is
 * kept with the socket (freed with it) from the connection's establishment on; connections
 * older than the trace have none, and their requests start at the read.
 */
struct arrival {
	__u64 first; /* the oldest unread byte arrived then; 0: nothing unread */
	__u64 last;  /* the newest */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct arrival);
} arrivals SEC(".maps");

/* A server-side connection completed its handshake: it sits in the accept queue from now. */
static __always_inline int arrival__established(struct sock *sk)
{
	__u16 lport = sk->__sk_common.skc_num;

	if (!bpf_map_lookup_elem(&listen_ports, &lport) ||
	    (filter_port_on && !bpf_map_lookup_elem(&filter_ports, &lport)))
		return 0;
	bpf_sk_storage_get(&arrivals, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	return 0;
}

/* Bytes to read came now: the oldest unread byte's time is kept, and the newest's. */
static __always_inline void arrival__came(struct arrival *a)
{
	__u64 now = bpf_ktime_get_ns();

	if (!a->first)
		a->first = now;
	a->last = now;
}

/*
 * A read took some: the arrival of its first byte goes to sys_exit (the first copy's, when a
 * read reports several: keep_first), and what is left arrived at the latest with the newest.
 */
static __always_inline void arrival__taken(struct arrival *a, struct sock *sk, bool keep_first)
{
	struct inflight *in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	struct tcp_sock *tp;

	if (in && in->active && !(keep_first && in->arrival))
		in->arrival = a->first;
	tp = bpf_skc_to_tcp_sock(sk);
	a->first = tp && tp->rcv_nxt != tp->copied_seq ? a->last : 0;
}

/* Bytes became readable (softirq: current is whoever sent them, on loopback the client). */
SEC("tp_btf/sk_data_ready")
int BPF_PROG(sk_data_ready, struct sock *sk)
{
	struct arrival *a = bpf_sk_storage_get(&arrivals, sk, 0, 0);
	struct tcp_sock *tp;

	if (!a)
		return 0;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || tp->rcv_nxt == tp->copied_seq)
		return 0; /* end of stream, nothing to read */
	arrival__came(a);
	return 0;
}

/* Inside a read of an inbound connection: hand the arrival of its first byte to sys_exit. */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length, struct sock *sk, int ret, int flags)
{
	struct arrival *a;

	if (ret <= 0 || (flags & MSG_PEEK))
		return 0;
	a = bpf_sk_storage_get(&arrivals, sk, 0, 0);
	if (a)
		arrival__taken(a, sk, false);
	return 0;
}

/*
 * The same two times on kernels without those events (6.1, docs/kernels.md); loaded only
 * there. A segment reached an established socket (tcp_probe, at tcp_rcv_established's start:
 * its payload is readable from now, a bare ACK or FIN is not counted)...
 */
SEC("tp_btf/tcp_probe")
int BPF_PROG(arrival_probe, struct sock *sk, struct sk_buff *skb)
{
	struct arrival *a = bpf_sk_storage_get(&arrivals, sk, 0, 0);
	__u8 doff = 0;

	if (!a)
		return 0;
	/* skb->data is the TCP header here: its length in doff's 4 high bits. */
	bpf_probe_read_kernel(&doff, 1, skb->data + 12);
	if (skb->len > (__u32)(doff >> 4) * 4)
		arrival__came(a);
	return 0;
}

/*
 * ...and a read copied some of it (tcp_rcv_space_adjust, after each copy of tcp_recvmsg, so
 * maybe several times a read: the first one's arrival is the read's). It cannot tell a peek.
 */
SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(arrival_read, struct sock *sk)
{
	struct arrival *a = bpf_sk_storage_get(&arrivals, sk, 0, 0);

	if (a)
		arrival__taken(a, sk, true);
	return 0;
}

/*
 * TCP state changes, every socket of the host: one program for the two uses, so that each
 * change pays one run, and most pay only these comparisons. A server connection's handshake
 * starts its arrival times; an outbound one's SYN, handshake end and the peer's FIN are the
 * outbound part's (bpf/sockio/outbound.bpf.h).
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_state, struct sock *sk, int oldstate, int newstate)
{
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV)
		return targ_arrival ? arrival__established(sk) : 0;
	if (!targ_outbound)
		return 0;
	if (newstate == TCP_SYN_SENT)
		return outbound__syn(sk);
	if (oldstate == TCP_SYN_SENT || (oldstate == TCP_ESTABLISHED && newstate == TCP_CLOSE_WAIT))
		return outbound__state(sk, oldstate, newstate);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp_receive_reset, struct sock *sk)
{
	return outbound__reset(sk);
}

SEC("tp/tcp/tcp_receive_reset")
int tcp_receive_reset_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	return tcpsat__reset_recv(ctx);
}

SEC("tp/tcp/tcp_retransmit_skb")
int tcp_retransmit_skb(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	return tcpsat__retransmit(ctx);
}

SEC("tp/tcp/tcp_send_reset")
int tcp_send_reset(struct trace_event_raw_tcp_send_reset *ctx)
{
	return tcpsat__reset_sent(ctx);
}

/* The same two events in their layout before 6.10: loaded only on such kernels. */
SEC("tp/tcp/tcp_retransmit_skb")
int tcp_retransmit_skb_old(struct trace_event_raw_tcp_event_sk_skb___k61 *ctx)
{
	return tcpsat__retransmit_old(ctx);
}

SEC("tp/tcp/tcp_send_reset")
int tcp_send_reset_old(struct trace_event_raw_tcp_event_sk_skb___k61 *ctx)
{
	return tcpsat__reset_sent_old(ctx);
}

SEC("tp/skb/kfree_skb")
int kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	return tcpsat__kfree_skb(ctx);
}

/* Children inherit sockets (prefork servers): they inherit the parent's verdict too. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct sockio_proc *p;
	__u8 one = 1;

	if (ptgid == ctgid)
		return 0;
	if (filter_pid_on && bpf_map_lookup_elem(&filter_pids, &ptgid))
		bpf_map_update_elem(&filter_pids, &ctgid, &one, BPF_ANY);
	p = bpf_map_lookup_elem(&procs, &ptgid);
	if (p)
		bpf_map_update_elem(&procs, &ctgid, p, BPF_ANY);
	return 0;
}

/* A new program image may have a new name: evaluate the filters again. */
SEC("tp/sched/sched_process_exec")
int sched_process_exec(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct sockio_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (p)
		p->state = SOCKIO_PROC_PENDING;
	return 0;
}

SEC("tp/sched/sched_process_exit")
int sched_process_exit(struct trace_event_raw_sched_process_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct sockio_exit_ev *e;
	struct sockio_proc *p;
	bool dead, traced;

	if (bpf_core_field_exists(ctx->group_dead))
		dead = BPF_CORE_READ(ctx, group_dead);
	else
		dead = (__u32)id == tgid;
	p = dead ? bpf_map_lookup_elem(&procs, &tgid) : NULL;
	if (!p)
		return 0;
	/*
	 * Userspace follows only processes that were or may have been traced (pending again
	 * after an exec); the ones the filters refused just leave the map.
	 */
	traced = p->state != SOCKIO_PROC_NOMATCH;
	bpf_map_delete_elem(&procs, &tgid);
	bpf_map_delete_elem(&filter_pids, &tgid);
	if (!traced)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(SOCKIO_STAT_RB_DROPS);
		return 0;
	}
	e->type = SOCKIO_EV_EXIT;
	e->tgid = tgid;
	e->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, rb_flags(sizeof(*e)));
	return 0;
}
