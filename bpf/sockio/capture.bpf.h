/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c, which includes it after its settings, ring and counters: the
 * bytes of a transfer, whatever the protocol. The syscall in flight, its buffers (one, or an
 * iovec array), the head and tail gathered into a per-CPU scratch event, and the event's way
 * into the ring. Its own file: it knows no protocol; http.bpf.h and pgsql.bpf.h decide what
 * is sent.
 */
#ifndef SLOPROBE_SOCKIO_CAPTURE_BPF_H
#define SLOPROBE_SOCKIO_CAPTURE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "abi/sockio.h"
#include "sockio/conn.bpf.h"

/*
 * The OpenSSL call a thread is in (sockio/tls.bpf.h: its arguments, and the socket a syscall
 * inside it used), and its last socket read outside one: a library that feeds OpenSSL from
 * memory (Node) reads the socket itself and decrypts right after.
 */
struct tls_thread {
	__u64 ssl;
	__u64 buf;
	__u64 done; /* _ex forms: where the call stores the bytes it moved */
	__u64 ts;
	__u64 arrival; /* of the first bytes a read inside the call returned */
	__u64 last_arrival;
	__u32 fd; /* the socket of a syscall inside the call, when bound */
	__u32 last_fd;
	__u8 fn; /* enum sockio_tls_fn; 0: in no call */
	__u8 bound;
	__u8 fresh; /* last_fd, a TLS connection, was read since the previous call returned */
};

/* The syscall a thread is in: arguments are gone by sys_exit, the data is not there before. */
struct inflight {
	__u64 ts;
	__u64 arrival; /* set inside a read by sock_recv_length */
	__u64 buf;
	__u64 conn_id;
	__u64 sk; /* connect: the socket whose SYN the call sent (bpf/sockio/outbound.bpf.h) */
	__u32 fd;
	__u16 iovcnt;
	__u8 sys;
	__u8 active;
	struct tls_thread tls;
};

/* Task storage rather than a hash keyed by tid: no hashing, and it dies with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

static __always_inline int data__enter(__u32 fd, __u64 buf, __u64 iovcnt, __u8 sys)
{
	struct sockio_conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	struct inflight *in = NULL;
	struct sockio_conn *c;

	if (key.tgid == targ_self_tgid)
		return 0;
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		c = conn__discover(&key);
	if (!c)
		return 0;
	if (targ_tls && c->sk) {
		/*
		 * Inside an OpenSSL call a TCP connection is the call's (sockio/tls.bpf.h), even
		 * one we do not forward: its plaintext is then known to be someone else's, not
		 * lost. Not a file: OpenSSL may read one inside a call (its first handshake).
		 */
		in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
		if (in && in->tls.fn) {
			in->tls.fd = fd;
			in->tls.bound = 1;
		}
	}
	if (c->kind != SOCKIO_KIND_TRACKED)
		return 0;
	/* With TLS tracing, the ciphertext still names the socket of an OpenSSL call. */
	if (c->proto != SOCKIO_PROTO_UNKNOWN && c->proto != SOCKIO_PROTO_HTTP &&
	    c->proto != SOCKIO_PROTO_PGSQL && c->proto != SOCKIO_PROTO_REDIS &&
	    (c->proto != SOCKIO_PROTO_TLS || !targ_tls))
		return 0;
	if (c->role == SOCKIO_ROLE_CLIENT && !targ_clients)
		return 0;
	if (!in)
		in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
					  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!in) {
		stat_inc(SOCKIO_STAT_INFLIGHT_FAIL);
		return 0;
	}
	in->ts = bpf_ktime_get_ns();
	in->arrival = 0;
	in->buf = buf;
	in->conn_id = c->id;
	in->fd = fd;
	in->iovcnt = iovcnt > 0xffff ? 0xffff : iovcnt;
	in->sys = sys;
	in->active = 1;
	return 0;
}

static __always_inline bool sys_is_read(__u8 sys)
{
	return sys <= SOCKIO_SYS_RECVMSG;
}

/*
 * Where the bytes of a transfer are: one buffer (base), or an iovec array (vec, vlen). Heads
 * and tails are gathered across every iovec: servers and drivers put a chunked body's end, or
 * each PostgreSQL message, in an iovec of its own.
 */
struct xfer {
	__u64 base;
	__u64 vec;
	__u64 vlen;
	__u64 len; /* bytes transferred: the syscall's return value */
};

static __always_inline int xfer__init(struct inflight *in, __u64 len, struct xfer *x)
{
	struct user_msghdr msg;

	x->base = 0;
	x->vec = 0;
	x->vlen = 0;
	x->len = len;
	switch (in->sys) {
	case SOCKIO_SYS_READ:
	case SOCKIO_SYS_RECVFROM:
	case SOCKIO_SYS_WRITE:
	case SOCKIO_SYS_SENDTO:
		x->base = in->buf;
		return 0;
	case SOCKIO_SYS_READV:
	case SOCKIO_SYS_WRITEV:
		x->vec = in->buf;
		x->vlen = in->iovcnt;
		return 0;
	case SOCKIO_SYS_RECVMSG:
	case SOCKIO_SYS_SENDMSG:
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)in->buf))
			return -1;
		x->vec = (__u64)msg.msg_iov;
		x->vlen = msg.msg_iovlen;
		return 0;
	case SOCKIO_SYS_SENDFILE:
		return 0;
	}
	return -1;
}

/*
 * An event is built here, then copied to the ring at its real length: a transfer's capture
 * runs from a few bytes to SOCKIO_CAP_MAX, and reserving the largest size for every event
 * would fill the ring with padding. One slot per CPU (an array indexed by CPU, as per-CPU
 * values are limited to 32 KiB): programs on a CPU do not nest.
 */
struct scratch {
	union {
		struct sockio_data_ev ev;
		/*
		 * ev.head: room for an offset below SOCKIO_CAP_MAX plus a length masked to
		 * 2 * SOCKIO_CAP_MAX - 1, the bounds the verifier can follow.
		 */
		__u8 raw[sizeof(struct sockio_data_ev) + 3 * SOCKIO_CAP_MAX];
	};
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* the number of possible CPUs, set at load */
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline struct scratch *scratch__get(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scratch, &cpu);
}

/*
 * v &= mask in a way the compiler cannot drop: it proves the mask a no-op where the verifier,
 * which sees 32-bit moves of the same value, cannot.
 */
#define bound(v, mask) asm volatile("%0 &= %1" : "+r"(v) : "i"(mask))

/* Gathering the first cap bytes and the last tail_n bytes of a transfer, one span at a time. */
struct gather {
	__u64 vec, vlen, len;
	__u64 off;     /* offset in the transfer of the next span */
	__u64 tail_at; /* offset of the first tail byte; len when no tail is wanted */
	__u32 cap;     /* head bytes wanted */
	__u32 head;    /* head bytes copied */
	bool fault;
};

/* Copies what the span [g->off, g->off + n) at user address base adds to the head and tail. */
static __always_inline void gather__span(struct gather *g, struct scratch *s, __u64 base, __u64 n)
{
	__u64 k, h, a, t;

	if (g->head < g->cap && g->off == g->head) {
		h = g->head & (SOCKIO_CAP_MAX - 1);
		k = g->cap - g->head;
		if (k > n)
			k = n;
		bound(k, 2 * SOCKIO_CAP_MAX - 1); /* no-op: k <= cap <= SOCKIO_CAP_MAX */
		if (bpf_probe_read_user(s->ev.head + h, k, (void *)base))
			g->fault = true;
		else
			g->head += k;
	}
	if (g->off + n > g->tail_at) {
		a = g->off > g->tail_at ? g->off : g->tail_at;
		t = (a - g->tail_at) & (SOCKIO_TAIL - 1);
		k = g->off + n - a;
		if (k > SOCKIO_TAIL - t)
			k = SOCKIO_TAIL - t;
		bound(k, 2 * SOCKIO_TAIL - 1); /* no-op */
		if (bpf_probe_read_user(s->ev.tail + t, k, (void *)(base + (a - g->off))))
			g->fault = true;
	}
	g->off += n;
}

static long gather__iov(__u32 i, void *ctx)
{
	struct gather *g = ctx;
	struct scratch *s;
	struct iovec iov;
	__u64 n;

	if (i >= g->vlen || g->off >= g->len)
		return 1;
	if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(g->vec + (__u64)i * sizeof(iov)))) {
		g->fault = true;
		return 1;
	}
	s = scratch__get();
	if (!s)
		return 1;
	n = iov.iov_len;
	if (n > g->len - g->off)
		n = g->len - g->off;
	gather__span(g, s, (__u64)iov.iov_base, n);
	return 0;
}

/*
 * The first cap bytes of the transfer into s->ev.head and, when they do not reach its end,
 * its last bytes into s->ev.tail. Sets head_len, tail_len and SOCKIO_F_IOV_CUT.
 */
static __always_inline void data__gather(struct scratch *s, const struct xfer *x, __u32 cap,
					 bool want_tail)
{
	struct gather g = {
		.vec = x->vec,
		.vlen = x->vlen,
		.len = x->len,
		.tail_at = x->len,
		.cap = cap < x->len ? cap : x->len,
	};
	__u64 tail_n = x->len < SOCKIO_TAIL ? x->len : SOCKIO_TAIL;

	if (want_tail && x->len > g.cap)
		g.tail_at = x->len - tail_n;
	if (x->vec) {
		bpf_loop(SOCKIO_IOV_MAX, gather__iov, &g, 0);
	} else if (x->base) {
		gather__span(&g, s, x->base, x->len);
	}
	if (g.fault)
		stat_inc(SOCKIO_STAT_READ_FAULT);
	s->ev.head_len = g.head;
	s->ev.tail_len = g.tail_at < x->len && g.off >= x->len && !g.fault ? tail_n : 0;
	if (g.off < x->len && x->vec)
		s->ev.flags |= SOCKIO_F_IOV_CUT;
}

static __always_inline void data__fill(struct sockio_data_ev *e, struct sockio_conn *c,
				       struct inflight *in, __s64 len, __u64 ts_exit)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->type = SOCKIO_EV_DATA;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->conn_id = c->id;
	e->ts_enter = in->ts;
	e->ts_exit = ts_exit;
	e->ts_arrival = in->arrival;
	e->len = len;
	e->dir = sys_is_read(in->sys) ? SOCKIO_IN : SOCKIO_OUT;
	e->proto = c->proto;
	e->flags = 0;
	e->sys = in->sys;
	e->head_len = 0;
	e->seg_off = 0;
	e->tail_len = 0;
}

/* The event in s, with its first head_len bytes of payload, into the ring. */
static __always_inline void data__send(struct scratch *s)
{
	__u64 n = s->ev.head_len;

	bound(n, 2 * SOCKIO_CAP_MAX - 1); /* no-op: head_len <= SOCKIO_CAP_MAX */
	if (s->ev.flags & SOCKIO_F_IOV_CUT)
		stat_inc(SOCKIO_STAT_IOV_CUT);
	if (bpf_ringbuf_output(&events, &s->ev, sizeof(s->ev) + n, rb_flags(sizeof(s->ev) + n)))
		stat_inc(SOCKIO_STAT_RB_DROPS);
}

#endif
