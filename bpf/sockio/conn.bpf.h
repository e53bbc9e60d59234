/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c, which includes it after its settings, ring and counters: the
 * connection table. From an fd to its struct sock, the conns entry (tracked, or skipped when
 * not a TCP connection we want) and the open and close events. Its own file: the data path
 * (capture.bpf.h) and the accept, connect and close programs all start and end connections
 * here.
 */
#ifndef SLOPROBE_SOCKIO_CONN_BPF_H
#define SLOPROBE_SOCKIO_CONN_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "abi/sockio.h"
#include "common.bpf.h"
#include "sockio.bpf.h"
#include "sockio/proc.bpf.h"

__u64 next_conn_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCKIO_CONNS_DEFAULT);
	__type(key, struct sockio_conn_key);
	__type(value, struct sockio_conn);
} conns SEC(".maps");

/* Local TCP ports in LISTEN state, with the number of listeners (SO_REUSEPORT). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u16);
	__type(value, __u32);
} listen_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCKIO_FILTER_PORTS_MAX);
	__type(key, __u16);
	__type(value, __u8);
} filter_ports SEC(".maps");

static __always_inline bool port_wanted(__u16 lport, __u16 rport)
{
	if (!filter_port_on)
		return true;
	return bpf_map_lookup_elem(&filter_ports, &lport) ||
	       bpf_map_lookup_elem(&filter_ports, &rport);
}

/* The peer of a connection is this host: loopback, or the connection's own address. */
static __always_inline bool conn__local(struct sock *sk, __u16 family)
{
	__u32 d4, s4;
	__u8 d6[16];

	if (family == AF_INET) {
		d4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		s4 = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		return (d4 & 0xff) == 127 || d4 == s4;
	}
	BPF_CORE_READ_INTO(&d6, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	for (int i = 0; i < 10; i++)
		if (d6[i])
			return false;
	/* ::1, or an IPv4-mapped loopback address */
	if (!d6[10] && !d6[11])
		return !d6[12] && !d6[13] && !d6[14] && d6[15] == 1;
	return d6[10] == 0xff && d6[11] == 0xff && d6[12] == 127;
}

/* Tells userspace that a tracked connection is gone. */
static __always_inline void conn__close_ev(__u32 tgid, __u64 id)
{
	struct sockio_close_ev *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		stat_inc(SOCKIO_STAT_RB_DROPS);
		return;
	}
	e->type = SOCKIO_EV_CLOSE;
	e->tgid = tgid;
	e->conn_id = id;
	e->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, rb_flags(sizeof(*e)));
}

/*
 * Start tracking fd of the current process. Non-TCP fds and filtered connections get a SKIP
 * entry so that their next syscall costs one lookup. Returns the entry, or NULL if the fd is
 * not open.
 */
static __always_inline struct sockio_conn *conn__track(struct sockio_conn_key *key, __u8 how)
{
	struct sockio_conn c = { .kind = SOCKIO_KIND_SKIP };
	struct sockio_conn *old;
	struct sockio_open_ev *e;
	struct task_struct *task;
	__u16 family, lport, rport;
	bool is_sock;
	struct sock *sk = fd__sock(key->fd, &is_sock);

	if (!sk)
		return NULL;
	old = bpf_map_lookup_elem(&conns, key);
	if (old && old->kind == SOCKIO_KIND_TRACKED) {
		/*
		 * A non-blocking connect() is called again on the same socket (EINPROGRESS, then
		 * 0: ab, APR, many event loops): the connection is the one we have. Otherwise the
		 * fd was reused without a close() we saw (dup2): the old connection is gone.
		 */
		if (old->sk == (__u64)sk)
			return old;
		conn__close_ev(key->tgid, old->id);
	}
	if (!is_sock)
		goto out;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if ((family != AF_INET && family != AF_INET6) ||
	    BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
	    BPF_CORE_READ(sk, sk_type) != SOCK_STREAM ||
	    BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN)
		goto out;
	/* A TCP connection, even one the ports filter out: OpenSSL's calls on it are not lost. */
	c.sk = (__u64)sk;
	lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (!port_wanted(lport, rport))
		goto out;

	c.kind = SOCKIO_KIND_TRACKED;
	c.lport = lport;
	c.rport = rport;
	c.id = __sync_fetch_and_add(&next_conn_id, 1) + 1;
	if (how == SOCKIO_HOW_ACCEPT)
		c.role = SOCKIO_ROLE_SERVER;
	else if (how == SOCKIO_HOW_CONNECT)
		c.role = SOCKIO_ROLE_CLIENT;
	else
		c.role = bpf_map_lookup_elem(&listen_ports, &lport) ? SOCKIO_ROLE_SERVER
								    : SOCKIO_ROLE_CLIENT;
	if (c.role == SOCKIO_ROLE_SERVER)
		proc__serves(key->tgid);
	else
		c.local_server = conn__local(sk, family) &&
				 bpf_map_lookup_elem(&listen_ports, &rport) != NULL;
	stat_inc(SOCKIO_STAT_TRACKED);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(SOCKIO_STAT_RB_DROPS);
		goto out;
	}
	task = (void *)bpf_get_current_task();
	e->type = SOCKIO_EV_OPEN;
	e->tgid = key->tgid;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->fd = key->fd;
	e->conn_id = c.id;
	e->ts = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->family = family;
	e->lport = lport;
	e->rport = rport;
	e->role = c.role;
	e->how = how;
	if (family == AF_INET) {
		__builtin_memset(e->laddr, 0, sizeof(e->laddr));
		__builtin_memset(e->raddr, 0, sizeof(e->raddr));
		BPF_CORE_READ_INTO((__u32 *)e->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->raddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	}
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
	bpf_ringbuf_submit(e, rb_flags(sizeof(*e)));
out:
	bpf_map_update_elem(&conns, key, &c, BPF_ANY);
	return bpf_map_lookup_elem(&conns, key);
}

/* First use of an fd we have no entry for: a connection older than the trace, or a file. */
static __always_inline struct sockio_conn *conn__discover(struct sockio_conn_key *key)
{
	if (!proc__wanted(key->tgid, false))
		return NULL;
	return conn__track(key, SOCKIO_HOW_FOUND);
}

#endif
