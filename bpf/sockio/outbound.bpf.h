/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c: the TCP life of outbound connections, whatever their protocol -
 * how connect() ended and when, and a reset or the server's FIN received - as SOCKIO_EV_CLIENT
 * events, for the failures of outbound calls (refused, timed out, reset, closed).
 *
 * connect() of a traced thread puts its socket in SYN_SENT inside the call: that state change
 * links the struct sock to the call (socket storage, freed with the socket). A blocking
 * connect() reports its result at its exit; a non-blocking one at its exit when the handshake
 * already ended (loopback ends it inside the call), else when the state leaves SYN_SENT. The
 * two sides race for the conns entry's `connecting` flag: who clears it sends the result.
 * Only sockets with storage pay more than a NULL check in the state and reset programs.
 */
#ifndef SLOPROBE_SOCKIO_OUTBOUND_BPF_H
#define SLOPROBE_SOCKIO_OUTBOUND_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "abi/sockio.h"
#include "sockio.bpf.h"
#include "sockio/capture.bpf.h"
#include "sockio/conn.bpf.h"

/* The connect() that sent a socket's SYN: whose fd it is, for the conns entry. */
struct outbound {
	__u64 ts_start;
	__u32 tgid, tid, fd;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct outbound);
} outbound SEC(".maps");

static __always_inline struct sockio_client_ev *outbound__ev(__u8 what, __u32 tgid, __u32 tid,
							     __u64 conn_id, __u64 ts_start,
							     __s32 err)
{
	struct sockio_client_ev *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		stat_inc(SOCKIO_STAT_RB_DROPS);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = SOCKIO_EV_CLIENT;
	e->what = what;
	e->tgid = tgid;
	e->tid = tid;
	e->conn_id = conn_id;
	e->ts_start = ts_start;
	e->ts = bpf_ktime_get_ns();
	e->err = err;
	return e;
}

static __always_inline void outbound__send(struct sockio_client_ev *e)
{
	bpf_ringbuf_submit(e, rb_flags(sizeof(*e)));
}

/* Why a socket left SYN_SENT for newstate: 0 when it is established. */
static __always_inline __s32 outbound__err(const struct sock *sk, int newstate)
{
	int err;

	if (newstate == TCP_ESTABLISHED)
		return 0;
	err = BPF_CORE_READ(sk, sk_err);
	return err ? -err : -ECONNABORTED;
}

/* A connect() of a traced thread sends its SYN: remember the call with the socket. */
static __always_inline int outbound__syn(struct sock *sk)
{
	struct inflight *in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	__u64 id = bpf_get_current_pid_tgid();
	struct outbound *o;

	if (!in || !in->active || in->sys != SOCKIO_SYS_CONNECT || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* A load generator's connection (proc__load_generator) costs nothing more from here. */
	if (!targ_outbound_all && proc__serves_nothing(id >> 32) &&
	    conn__local(sk, sk->__sk_common.skc_family)) {
		__u16 dport = bpf_ntohs(sk->__sk_common.skc_dport);

		if (bpf_map_lookup_elem(&listen_ports, &dport))
			return 0;
	}
	o = bpf_sk_storage_get(&outbound, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o) {
		stat_inc(SOCKIO_STAT_OUTBOUND_LOST);
		return 0;
	}
	o->ts_start = in->ts;
	o->tgid = id >> 32;
	o->tid = (__u32)id;
	o->fd = in->fd;
	in->sk = (__u64)sk;
	return 0;
}

/* The tracked connection of a socket with storage, NULL when its fd is not ours any more. */
static __always_inline struct sockio_conn *outbound__conn(const struct sock *sk,
							  const struct outbound *o)
{
	struct sockio_conn_key key = { .tgid = o->tgid, .fd = o->fd };
	struct sockio_conn *c = bpf_map_lookup_elem(&conns, &key);

	if (!c || c->kind != SOCKIO_KIND_TRACKED || c->sk != (__u64)sk)
		return NULL;
	return c;
}

/* The handshake of a non-blocking connect() ended after the call returned. */
static __always_inline int outbound__state(struct sock *sk, int oldstate, int newstate)
{
	struct outbound *o = bpf_sk_storage_get(&outbound, sk, 0, 0);
	struct sockio_client_ev *e;
	struct sockio_conn *c;
	__u8 what = SOCKIO_CL_CONNECT;

	if (!o)
		return 0;
	if (oldstate == TCP_ESTABLISHED && newstate == TCP_CLOSE_WAIT)
		what = SOCKIO_CL_FIN;
	else if (oldstate != TCP_SYN_SENT)
		return 0;
	c = outbound__conn(sk, o);
	if (c && proc__load_generator(o->tgid, c))
		c = NULL;
	if (c && (what == SOCKIO_CL_FIN || __sync_bool_compare_and_swap(&c->connecting, 1, 0))) {
		e = outbound__ev(what, o->tgid, o->tid, c->id, o->ts_start,
				 what == SOCKIO_CL_FIN ? 0 : outbound__err(sk, newstate));
		if (e)
			outbound__send(e);
	}
	if (newstate != TCP_ESTABLISHED && newstate != TCP_CLOSE_WAIT)
		bpf_sk_storage_delete(&outbound, sk);
	return 0;
}

static __always_inline int outbound__reset(struct sock *sk)
{
	struct outbound *o = bpf_sk_storage_get(&outbound, sk, 0, 0);
	struct sockio_client_ev *e;
	struct sockio_conn *c;

	/* A RST to the SYN is a refused connect: connect()'s result says so. */
	if (!o || sk->__sk_common.skc_state == TCP_SYN_SENT)
		return 0;
	c = outbound__conn(sk, o);
	if (c && !proc__load_generator(o->tgid, c) &&
	    (e = outbound__ev(SOCKIO_CL_RESET, o->tgid, o->tid, c->id, 0, 0)))
		outbound__send(e);
	return 0;
}

/* connect() returned 0 or -EINPROGRESS on the tracked connection c, which sent its SYN. */
static __always_inline void outbound__connected(struct sockio_conn *c, struct inflight *in,
						long ret, __u32 tgid)
{
	const struct sock *sk = (const void *)c->sk;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sockio_client_ev *e;
	int st;

	if (proc__load_generator(tgid, c))
		return;
	if (ret == 0) {
		c->connecting = 0;
		e = outbound__ev(SOCKIO_CL_CONNECT, tgid, tid, c->id, in->ts, 0);
		if (e)
			outbound__send(e);
		return;
	}
	c->connecting = 1;
	st = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (st == TCP_SYN_SENT) {
		/* Pending: the state change sends the result (userspace keeps the first one). */
		e = outbound__ev(SOCKIO_CL_CONNECT, tgid, tid, c->id, in->ts, -EINPROGRESS);
	} else if (__sync_bool_compare_and_swap(&c->connecting, 1, 0)) {
		e = outbound__ev(SOCKIO_CL_CONNECT, tgid, tid, c->id, in->ts,
				 outbound__err(sk, st));
	} else {
		return;
	}
	if (e)
		outbound__send(e);
}

/*
 * connect() failed: after its SYN (refused, timed out, unreachable by ICMP), or before it for
 * want of a route. The peer is read from the call's own argument: a failed socket forgets it.
 */
static __always_inline void outbound__failed(struct inflight *in, long ret, __u32 tgid)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct sockio_client_ev *e;
	struct sock *sk;
	bool is_sock;
	__u16 family, port;

	if (!in->sk) {
		if (ret != -ENETUNREACH && ret != -EHOSTUNREACH)
			return; /* EALREADY, EISCONN, EINTR...: no failure of a connection */
		sk = fd__sock(in->fd, &is_sock);
		if (!is_sock || !sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
		    BPF_CORE_READ(sk, sk_type) != SOCK_STREAM)
			return;
	}
	if (bpf_probe_read_user(&family, sizeof(family), (void *)in->buf) ||
	    (family != AF_INET && family != AF_INET6) ||
	    bpf_probe_read_user(&port, sizeof(port), (void *)(in->buf + 2)))
		return;
	port = bpf_ntohs(port);
	if (filter_port_on && !bpf_map_lookup_elem(&filter_ports, &port))
		return;
	e = outbound__ev(SOCKIO_CL_CONNECT, tgid, (__u32)bpf_get_current_pid_tgid(), 0, in->ts,
			 ret);
	if (!e)
		return;
	e->family = family;
	e->rport = port;
	/* sockaddr_in: the address at 4; sockaddr_in6: after the flow info, at 8. */
	if (bpf_probe_read_user(e->raddr, family == AF_INET ? 4 : 16,
				(void *)(in->buf + (family == AF_INET ? 4 : 8))))
		stat_inc(SOCKIO_STAT_READ_FAULT);
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
	outbound__send(e);
}

#endif
