// SPDX-License-Identifier: GPL-2.0-only
/*
 * Socket data path from syscall tracepoints only (no kprobes, no fentry: neither exists on
 * the hosts we target). See include/abi/sockio.h for what reaches userspace.
 *
 * Cost model: every read/write syscall on the host pays one hash lookup (conns) and, on a
 * miss, one more (procs). Only connections of interesting processes pay more, and only
 * protocol boundaries copy payload.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
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
const volatile bool filter_pid_on = false;
const volatile bool filter_comm_on = false;
const volatile bool filter_cgroup_on = false;
const volatile bool filter_port_on = false;
const volatile char filter_comm[16] = {};

__u64 next_conn_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCKIO_CONNS_DEFAULT);
	__type(key, struct sockio_conn_key);
	__type(value, struct sockio_conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCKIO_PROCS_DEFAULT);
	__type(key, __u32);
	__type(value, struct sockio_proc);
} procs SEC(".maps");

/* Local TCP ports in LISTEN state, with the number of listeners (SO_REUSEPORT). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u16);
	__type(value, __u32);
} listen_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCKIO_FILTER_PIDS_MAX);
	__type(key, __u32);
	__type(value, __u8);
} filter_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCKIO_FILTER_PORTS_MAX);
	__type(key, __u16);
	__type(value, __u8);
} filter_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} filter_cgroup SEC(".maps");

/* The syscall a thread is in: arguments are gone by sys_exit, the data is not there before. */
struct inflight {
	__u64 ts;
	__u64 arrival; /* set inside a read by sock_recv_length */
	__u64 buf;
	__u64 conn_id;
	__u32 fd;
	__u16 iovcnt;
	__u8 sys;
	__u8 active;
};

/* Task storage rather than a hash keyed by tid: no hashing, and it dies with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

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

static __always_inline bool port_wanted(__u16 lport, __u16 rport)
{
	if (!filter_port_on)
		return true;
	return bpf_map_lookup_elem(&filter_ports, &lport) ||
	       bpf_map_lookup_elem(&filter_ports, &rport);
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
	lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (!port_wanted(lport, rport))
		goto out;

	c.kind = SOCKIO_KIND_TRACKED;
	c.lport = lport;
	c.sk = (__u64)sk;
	c.id = __sync_fetch_and_add(&next_conn_id, 1) + 1;
	if (how == SOCKIO_HOW_ACCEPT)
		c.role = SOCKIO_ROLE_SERVER;
	else if (how == SOCKIO_HOW_CONNECT)
		c.role = SOCKIO_ROLE_CLIENT;
	else
		c.role = bpf_map_lookup_elem(&listen_ports, &lport) ? SOCKIO_ROLE_SERVER
								    : SOCKIO_ROLE_CLIENT;
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

static __always_inline int data__enter(__u32 fd, __u64 buf, __u64 iovcnt, __u8 sys)
{
	struct sockio_conn_key key = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	struct sockio_conn *c;
	struct inflight *in;

	if (key.tgid == targ_self_tgid)
		return 0;
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		c = conn__discover(&key);
	if (!c || c->kind != SOCKIO_KIND_TRACKED)
		return 0;
	if (c->proto != SOCKIO_PROTO_UNKNOWN && c->proto != SOCKIO_PROTO_HTTP &&
	    c->proto != SOCKIO_PROTO_PGSQL)
		return 0;
	if (c->role == SOCKIO_ROLE_CLIENT && !targ_clients)
		return 0;
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

/*
 * A server read: the start of a request, or the rest of one (a head split over reads, a
 * body: userspace follows its length, so every read is forwarded). Also decides the protocol
 * of a connection on its first read (the client speaks first in every protocol we decode on
 * the server side).
 */
static __always_inline int http__server_read(struct sockio_conn *c, struct scratch *s)
{
	if (c->state != SOCKIO_ST_REQ) {
		if (c->proto == SOCKIO_PROTO_UNKNOWN) {
			if (sniff_h2_preface(s->ev.head, s->ev.head_len))
				c->proto = SOCKIO_PROTO_HTTP2;
			else if (sniff_http_request(s->ev.head, s->ev.head_len))
				c->proto = SOCKIO_PROTO_HTTP;
			else if (sniff_tls(s->ev.head, s->ev.head_len))
				c->proto = SOCKIO_PROTO_TLS;
			else
				c->proto = SOCKIO_PROTO_OTHER;
			s->ev.proto = c->proto;
			if (c->proto != SOCKIO_PROTO_HTTP) {
				/* Userspace learns the protocol from this event, without payload.
				 */
				s->ev.head_len = 0;
				data__send(s);
				return 0;
			}
		} else if (!sniff_http_request(s->ev.head, s->ev.head_len)) {
			return 0; /* e.g. the body of a request answered early */
		}
		c->state = SOCKIO_ST_REQ;
		c->cont = 0;
		s->ev.flags |= SOCKIO_F_REQ_START;
	}
	data__send(s);
	return 0;
}

/*
 * A server write: the start of a response (status line), the rest of one (time, length and
 * tail only), or a status line split over writes while the request is still current. On a
 * connection whose protocol is not known yet (no read seen), a response is that of a request
 * read before tracing started (userspace counts it without a request); anything else the
 * server says first is ignored, and the client's first words decide the protocol.
 */
static __always_inline int http__server_write(struct sockio_conn *c, struct scratch *s, __u8 sys)
{
	if (sys == SOCKIO_SYS_SENDFILE) {
		if (c->state == SOCKIO_ST_RESP) {
			s->ev.flags |= SOCKIO_F_NOPAYLOAD;
			data__send(s);
		}
		return 0;
	}
	if (sniff_http_response(s->ev.head, s->ev.head_len)) {
		c->state = SOCKIO_ST_RESP;
		s->ev.flags |= SOCKIO_F_RESP_START;
	} else if (c->state == SOCKIO_ST_RESP) {
		/* Body: its length and tail tell userspace where the response ends. */
		if (s->ev.head_len > 8) {
			if (!s->ev.tail_len) {
				/* The head held the whole write: its tail is the head's end. */
				__u64 n = s->ev.head_len < SOCKIO_TAIL ? s->ev.head_len : SOCKIO_TAIL;
				__u64 off = s->ev.head_len - n;

				bound(off, SOCKIO_CAP_MAX - 1);
				bound(n, 2 * SOCKIO_TAIL - 1);
				if (!bpf_probe_read_kernel(s->ev.tail, n, s->ev.head + off))
					s->ev.tail_len = n;
			}
			s->ev.head_len = 8;
		}
	} else if (c->state == SOCKIO_ST_REQ && s->ev.head_len && c->cont < SOCKIO_SPLIT_MAX) {
		/* A status line split over writes: userspace joins the pieces. */
		c->cont++;
	} else {
		return 0;
	}
	data__send(s);
	return 0;
}

/*
 * An outbound connection. PostgreSQL is recognised by the client's first write; after that
 * every transfer is forwarded, captured whole up to the configured sizes: the userspace
 * parser frames every message of both directions.
 */
static __always_inline int client__io(struct sockio_conn *c, struct scratch *s,
				      const struct xfer *x, __u32 cap)
{
	if (c->proto == SOCKIO_PROTO_UNKNOWN) {
		c->proto = sniff_pgsql(s->ev.head, s->ev.head_len, x->len) ? SOCKIO_PROTO_PGSQL
									   : SOCKIO_PROTO_OTHER;
		s->ev.proto = c->proto;
		if (c->proto != SOCKIO_PROTO_PGSQL) {
			s->ev.head_len = 0; /* userspace only learns the verdict */
			data__send(s);
			return 0;
		}
	}
	if (s->ev.dir != SOCKIO_OUT || !x->base || x->len <= cap || !cap) {
		data__send(s);
		return 0;
	}
	/*
	 * A write longer than an event (asyncpg executemany of 1000 rows: 66 KB in one sendto)
	 * goes whole, in consecutive segments; userspace counts what is past the last one.
	 */
	s->ev.flags |= SOCKIO_F_SEGMENT;
	s->ev.tail_len = 0;
	data__send(s);
	for (int i = 1; i < SOCKIO_SEGS_MAX; i++) {
		__u64 off = (__u64)i * cap, n;

		if (off >= x->len)
			break;
		n = x->len - off;
		if (n > cap)
			n = cap;
		bound(n, 2 * SOCKIO_CAP_MAX - 1); /* no-op: cap <= SOCKIO_CAP_MAX */
		if (bpf_probe_read_user(s->ev.head, n, (void *)(x->base + off))) {
			stat_inc(SOCKIO_STAT_READ_FAULT);
			break;
		}
		s->ev.head_len = n;
		s->ev.seg_off = off;
		data__send(s);
	}
	return 0;
}

static __always_inline int data__exit(long ret, __u8 sys)
{
	struct inflight *in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	struct sockio_conn_key key;
	struct sockio_conn *c;
	struct scratch *s;
	struct xfer x;

	if (!in || !in->active)
		return 0;
	in->active = 0;
	if (in->sys != sys || ret <= 0)
		return 0;
	key.tgid = bpf_get_current_pid_tgid() >> 32;
	key.fd = in->fd;
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c || c->id != in->conn_id) {
		stat_inc(SOCKIO_STAT_CONN_LOST);
		return 0;
	}
	if (c->role == SOCKIO_ROLE_CLIENT &&
	    (sys == SOCKIO_SYS_SENDFILE || (c->proto == SOCKIO_PROTO_UNKNOWN && sys_is_read(sys))))
		return 0; /* wait for the client's first words */
	if (xfer__init(in, ret, &x))
		return 0;
	s = scratch__get();
	if (!s)
		return 0;
	data__fill(&s->ev, c, in, ret, bpf_ktime_get_ns());
	/* One gather per transfer, sized by role and direction: the verifier walks it once. */
	if (c->role == SOCKIO_ROLE_CLIENT)
		data__gather(s, &x, sys_is_read(sys) ? targ_pg_read_bytes : targ_pg_write_bytes,
			     true);
	else
		data__gather(s, &x, targ_head_bytes, !sys_is_read(sys));
	if (c->role == SOCKIO_ROLE_CLIENT)
		return client__io(c, s, &x,
				  sys_is_read(sys) ? targ_pg_read_bytes : targ_pg_write_bytes);
	if (sys_is_read(sys))
		return http__server_read(c, s);
	return http__server_write(c, s, sys);
}

SEC("tp/syscalls/sys_enter_read")
int sys_enter_read(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], 0, SOCKIO_SYS_READ);
}

SEC("tp/syscalls/sys_exit_read")
int sys_exit_read(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx->ret, SOCKIO_SYS_READ);
}

SEC("tp/syscalls/sys_enter_readv")
int sys_enter_readv(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], ctx->args[2], SOCKIO_SYS_READV);
}

SEC("tp/syscalls/sys_exit_readv")
int sys_exit_readv(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx->ret, SOCKIO_SYS_READV);
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
	return data__exit(ctx->ret, SOCKIO_SYS_RECVFROM);
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
	return data__exit(ctx->ret, SOCKIO_SYS_RECVMSG);
}

SEC("tp/syscalls/sys_enter_write")
int sys_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], 0, SOCKIO_SYS_WRITE);
}

SEC("tp/syscalls/sys_exit_write")
int sys_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx->ret, SOCKIO_SYS_WRITE);
}

SEC("tp/syscalls/sys_enter_writev")
int sys_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], ctx->args[2], SOCKIO_SYS_WRITEV);
}

SEC("tp/syscalls/sys_exit_writev")
int sys_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx->ret, SOCKIO_SYS_WRITEV);
}

SEC("tp/syscalls/sys_enter_sendto")
int sys_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], 0, SOCKIO_SYS_SENDTO);
}

SEC("tp/syscalls/sys_exit_sendto")
int sys_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx->ret, SOCKIO_SYS_SENDTO);
}

SEC("tp/syscalls/sys_enter_sendmsg")
int sys_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], ctx->args[1], 0, SOCKIO_SYS_SENDMSG);
}

SEC("tp/syscalls/sys_exit_sendmsg")
int sys_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx->ret, SOCKIO_SYS_SENDMSG);
}

SEC("tp/syscalls/sys_enter_sendfile64")
int sys_enter_sendfile64(struct trace_event_raw_sys_enter *ctx)
{
	return data__enter(ctx->args[0], 0, 0, SOCKIO_SYS_SENDFILE);
}

SEC("tp/syscalls/sys_exit_sendfile64")
int sys_exit_sendfile64(struct trace_event_raw_sys_exit *ctx)
{
	return data__exit(ctx->ret, SOCKIO_SYS_SENDFILE);
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

	if (!in || !in->active || in->sys != SOCKIO_SYS_CONNECT)
		return 0;
	in->active = 0;
	if (ctx->ret != 0 && ctx->ret != -EINPROGRESS)
		return 0;
	key.fd = in->fd;
	conn__track(&key, SOCKIO_HOW_CONNECT);
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
		proc__wanted(bpf_get_current_pid_tgid() >> 32, true);
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
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_established, struct sock *sk, int oldstate, int newstate)
{
	__u16 lport;

	if (newstate != TCP_ESTABLISHED || oldstate != TCP_SYN_RECV)
		return 0;
	lport = sk->__sk_common.skc_num;
	if (!bpf_map_lookup_elem(&listen_ports, &lport) ||
	    (filter_port_on && !bpf_map_lookup_elem(&filter_ports, &lport)))
		return 0;
	bpf_sk_storage_get(&arrivals, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	return 0;
}

/* Bytes became readable (softirq: current is whoever sent them, on loopback the client). */
SEC("tp_btf/sk_data_ready")
int BPF_PROG(sk_data_ready, struct sock *sk)
{
	struct arrival *a = bpf_sk_storage_get(&arrivals, sk, 0, 0);
	struct tcp_sock *tp;
	__u64 now;

	if (!a)
		return 0;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || tp->rcv_nxt == tp->copied_seq)
		return 0; /* end of stream, nothing to read */
	now = bpf_ktime_get_ns();
	if (!a->first)
		a->first = now;
	a->last = now;
	return 0;
}

/* Inside a read of an inbound connection: hand the arrival of its first byte to sys_exit. */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length, struct sock *sk, int ret, int flags)
{
	struct arrival *a;
	struct inflight *in;
	struct tcp_sock *tp;

	if (ret <= 0 || (flags & MSG_PEEK))
		return 0;
	a = bpf_sk_storage_get(&arrivals, sk, 0, 0);
	if (!a)
		return 0;
	in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	if (in && in->active)
		in->arrival = a->first;
	tp = bpf_skc_to_tcp_sock(sk);
	/* What is left arrived at the latest with the newest segment. */
	a->first = tp && tp->rcv_nxt != tp->copied_seq ? a->last : 0;
	return 0;
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
