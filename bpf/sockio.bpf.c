// SPDX-License-Identifier: GPL-2.0-only
/*
 * Socket data path from syscall tracepoints only (no kprobes, no fentry: neither exists on
 * the hosts we target). See include/sockio.h for what reaches userspace.
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
#include "sockio.h"
#include "sockio.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_self_tgid = 0;
const volatile __u32 targ_head_bytes = SOCKIO_HEAD_DEFAULT;
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

/*
 * Start tracking fd of the current process. Non-TCP fds and filtered connections get a SKIP
 * entry so that their next syscall costs one lookup. Returns the entry, or NULL if the fd is
 * not open.
 */
static __always_inline struct sockio_conn *conn__track(struct sockio_conn_key *key, __u8 how)
{
	struct sockio_conn c = { .kind = SOCKIO_KIND_SKIP };
	struct sockio_open_ev *e;
	struct task_struct *task;
	__u16 family, lport, rport;
	bool is_sock;
	struct sock *sk = fd__sock(key->fd, &is_sock);

	if (!sk)
		return NULL;
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
 * Locate the user buffer holding the first bytes of the transfer. For vectored calls only the
 * first iovec is used for the head; vec and vlen describe the iovec array for the tail.
 */
static __always_inline int data__buffers(struct inflight *in, __u64 *base, __u64 *blen, __u64 *vec,
					 __u64 *vlen)
{
	struct iovec iov = {};

	*vec = 0;
	*vlen = 0;
	switch (in->sys) {
	case SOCKIO_SYS_READ:
	case SOCKIO_SYS_RECVFROM:
	case SOCKIO_SYS_WRITE:
	case SOCKIO_SYS_SENDTO:
		*base = in->buf;
		*blen = ~0ull;
		return 0;
	case SOCKIO_SYS_READV:
	case SOCKIO_SYS_WRITEV:
		*vec = in->buf;
		*vlen = in->iovcnt;
		break;
	case SOCKIO_SYS_RECVMSG:
	case SOCKIO_SYS_SENDMSG: {
		struct user_msghdr msg;

		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)in->buf))
			return -1;
		*vec = (__u64)msg.msg_iov;
		*vlen = msg.msg_iovlen;
		break;
	}
	default:
		return -1;
	}
	if (!*vlen || bpf_probe_read_user(&iov, sizeof(iov), (void *)*vec))
		return -1;
	*base = (__u64)iov.iov_base;
	*blen = iov.iov_len;
	return 0;
}

/* The last SOCKIO_TAIL bytes of a transfer of len bytes (only those in its last buffer). */
static __always_inline void data__tail(__u8 *tail, __u8 *tail_len, __u64 base, __u64 vec,
				       __u64 vlen, __s64 len)
{
	__u64 src = 0, n = 0, off = 0;

	if (!vec) {
		n = len < SOCKIO_TAIL ? len : SOCKIO_TAIL;
		src = base + len - n;
	} else {
		for (int i = 0; i < SOCKIO_IOV_MAX; i++) {
			struct iovec iov;

			if (i >= vlen)
				break;
			if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(vec + i * sizeof(iov))))
				break;
			if (off + iov.iov_len >= (__u64)len) {
				__u64 used = len - off;

				n = used < SOCKIO_TAIL ? used : SOCKIO_TAIL;
				src = (__u64)iov.iov_base + used - n;
				break;
			}
			off += iov.iov_len;
		}
	}
	if (n > SOCKIO_TAIL)
		n = SOCKIO_TAIL;
	if (n && bpf_probe_read_user(tail, n, (void *)src))
		n = 0;
	*tail_len = n;
}

static __always_inline void data__fill(struct sockio_data_ev *e, struct sockio_conn *c,
				       struct inflight *in, __s64 len, __u64 ts_exit, __u8 flags)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->type = SOCKIO_EV_DATA;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->conn_id = c->id;
	e->ts_enter = in->ts;
	e->ts_exit = ts_exit;
	e->len = len;
	e->dir = sys_is_read(in->sys) ? SOCKIO_IN : SOCKIO_OUT;
	e->proto = c->proto;
	e->flags = flags;
	e->sys = in->sys;
	e->head_len = 0;
	e->tail_len = 0;
	e->pad = 0;
}

/* A data event with room for payload; NULL (counted) when the ring is full. */
static __always_inline struct sockio_data_ev *data__reserve(__u32 size)
{
	struct sockio_data_ev *e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e)
		stat_inc(SOCKIO_STAT_RB_DROPS);
	return e;
}

/*
 * Copy the first bytes of the transfer into e->head. The ring buffer slot is the only copy:
 * protocol sniffing reads it there, and the event is discarded if it turns out not to matter.
 */
static __always_inline void data__copy_head(struct sockio_data_ev *e, __s64 len, __u64 base,
					    __u64 blen)
{
	__u64 n = len;

	if (n > blen) {
		n = blen;
		e->flags |= SOCKIO_F_HEAD_IOV;
	}
	if (n > targ_head_bytes)
		n = targ_head_bytes;
	if (n > SOCKIO_HEAD_MAX)
		n = SOCKIO_HEAD_MAX;
	if (bpf_probe_read_user(e->head, n, (void *)base)) {
		stat_inc(SOCKIO_STAT_READ_FAULT);
		n = 0;
	}
	e->head_len = n;
}

static __always_inline void data__submit(struct sockio_data_ev *e)
{
	bpf_ringbuf_submit(e, rb_flags(sizeof(*e)));
}

/*
 * A server read: the start of a request, a continuation of one (split head, body), or
 * nothing we forward. Also decides the protocol of a connection on its first read (the
 * client speaks first in every protocol we decode on the server side).
 */
static __always_inline int http__server_read(struct sockio_conn *c, struct inflight *in, __s64 len,
					     __u64 ts, __u64 base, __u64 blen)
{
	struct sockio_data_ev *e;
	__u8 flags = 0;

	if (c->state == SOCKIO_ST_REQ) {
		/* Request split over reads, or a body: bounded so uploads stay cheap. */
		if (c->cont >= SOCKIO_REQ_CONT_MAX) {
			stat_inc(SOCKIO_STAT_SKIPPED_READS);
			return 0;
		}
		c->cont++;
	}
	e = data__reserve(sizeof(*e));
	if (!e)
		return 0;
	data__fill(e, c, in, len, ts, 0);
	data__copy_head(e, len, base, blen);
	if (c->state != SOCKIO_ST_REQ) {
		if (c->proto == SOCKIO_PROTO_UNKNOWN) {
			if (sniff_h2_preface(e->head, e->head_len))
				c->proto = SOCKIO_PROTO_HTTP2;
			else if (sniff_http_request(e->head, e->head_len))
				c->proto = SOCKIO_PROTO_HTTP;
			else if (sniff_tls(e->head, e->head_len))
				c->proto = SOCKIO_PROTO_TLS;
			else
				c->proto = SOCKIO_PROTO_OTHER;
			e->proto = c->proto;
			if (c->proto != SOCKIO_PROTO_HTTP) {
				/* Userspace learns the protocol from this event, without payload.
				 */
				e->head_len = 0;
				data__submit(e);
				return 0;
			}
		} else if (!sniff_http_request(e->head, e->head_len)) {
			/* e.g. the body of a request answered early */
			bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
			return 0;
		}
		c->state = SOCKIO_ST_REQ;
		c->cont = 0;
		flags = SOCKIO_F_REQ_START;
	}
	e->flags |= flags;
	data__submit(e);
	return 0;
}

/*
 * A server write: the start of a response (status line), the rest of one (time, length and
 * tail only), or a status line split over writes while the request is still current.
 */
static __always_inline int http__server_write(struct sockio_conn *c, struct inflight *in, __s64 len,
					      __u64 ts, __u64 base, __u64 blen, __u64 vec,
					      __u64 vlen)
{
	struct sockio_data_ev *e;
	__u8 peek[8] = {};
	__u32 npeek = 0;

	if (in->sys == SOCKIO_SYS_SENDFILE) {
		if (c->state != SOCKIO_ST_RESP)
			return 0;
		e = data__reserve(SOCKIO_DATA_EV_SHORT);
		if (e) {
			data__fill(e, c, in, len, ts, SOCKIO_F_NOPAYLOAD);
			data__submit(e);
		}
		return 0;
	}
	if (c->state == SOCKIO_ST_RESP) {
		/* Most writes here are body: peek for a pipelined next status line only. */
		npeek = len < 8 ? len : 8;
		if (npeek > blen)
			npeek = blen;
		if (npeek > 8)
			npeek = 8;
		if (bpf_probe_read_user(peek, npeek, (void *)base))
			npeek = 0;
		if (!sniff_http_response(peek, npeek)) {
			e = data__reserve(SOCKIO_DATA_EV_SHORT);
			if (e) {
				data__fill(e, c, in, len, ts, npeek ? 0 : SOCKIO_F_NOPAYLOAD);
				if (npeek)
					data__tail(e->tail, &e->tail_len, base, vec, vlen, len);
				data__submit(e);
			}
			return 0;
		}
	}
	e = data__reserve(sizeof(*e));
	if (!e)
		return 0;
	data__fill(e, c, in, len, ts, 0);
	data__copy_head(e, len, base, blen);
	if (sniff_http_response(e->head, e->head_len)) {
		c->state = SOCKIO_ST_RESP;
		e->flags |= SOCKIO_F_RESP_START;
	} else if (c->state == SOCKIO_ST_REQ && e->head_len && c->cont < SOCKIO_REQ_CONT_MAX) {
		/* A status line split over writes: userspace joins the pieces. */
		c->cont++;
	} else {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	/* A transfer that fits in the head carries its own tail: userspace takes it there. */
	if (e->head_len < len)
		data__tail(e->tail, &e->tail_len, base, vec, vlen, len);
	data__submit(e);
	return 0;
}

/*
 * An outbound connection. PostgreSQL is recognised by the client's first write; after that
 * every transfer is forwarded with its head and tail: the userspace protocol parser needs
 * both directions to pair queries with their ReadyForQuery.
 */
static __always_inline int client__io(struct sockio_conn *c, struct inflight *in, __s64 len,
				      __u64 ts, __u64 base, __u64 blen, __u64 vec, __u64 vlen)
{
	struct sockio_data_ev *e = data__reserve(sizeof(*e));

	if (!e)
		return 0;
	data__fill(e, c, in, len, ts, 0);
	data__copy_head(e, len, base, blen);
	if (c->proto == SOCKIO_PROTO_UNKNOWN) {
		c->proto = sniff_pgsql(e->head, e->head_len, len) ? SOCKIO_PROTO_PGSQL
								  : SOCKIO_PROTO_OTHER;
		e->proto = c->proto;
		if (c->proto != SOCKIO_PROTO_PGSQL) {
			e->head_len = 0; /* userspace only learns the verdict */
			data__submit(e);
			return 0;
		}
	}
	if (e->head_len < len)
		data__tail(e->tail, &e->tail_len, base, vec, vlen, len);
	data__submit(e);
	return 0;
}

static __always_inline int data__exit(long ret, __u8 sys)
{
	struct inflight *in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	struct sockio_conn_key key;
	struct sockio_conn *c;
	__u64 base = 0, blen = 0, vec = 0, vlen = 0, ts;

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
	if (c->role == SOCKIO_ROLE_SERVER && c->proto == SOCKIO_PROTO_UNKNOWN &&
	    !sys_is_read(sys)) {
		c->proto = SOCKIO_PROTO_OTHER; /* the server spoke first: not ours */
		return 0;
	}
	if (c->role == SOCKIO_ROLE_CLIENT &&
	    (sys == SOCKIO_SYS_SENDFILE || (c->proto == SOCKIO_PROTO_UNKNOWN && sys_is_read(sys))))
		return 0; /* wait for the client's first words */
	ts = bpf_ktime_get_ns();
	if (sys != SOCKIO_SYS_SENDFILE && data__buffers(in, &base, &blen, &vec, &vlen))
		return 0;
	if (c->role == SOCKIO_ROLE_CLIENT)
		return client__io(c, in, ret, ts, base, blen, vec, vlen);
	if (sys_is_read(sys))
		return http__server_read(c, in, ret, ts, base, blen);
	return http__server_write(c, in, ret, ts, base, blen, vec, vlen);
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
	struct sockio_close_ev *e;

	if (!c)
		return 0;
	if (c->kind == SOCKIO_KIND_TRACKED) {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (e) {
			e->type = SOCKIO_EV_CLOSE;
			e->tgid = key.tgid;
			e->conn_id = c->id;
			e->ts = bpf_ktime_get_ns();
			bpf_ringbuf_submit(e, rb_flags(sizeof(*e)));
		} else {
			stat_inc(SOCKIO_STAT_RB_DROPS);
		}
	}
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
	} else if (ctx->oldstate == TCP_LISTEN) {
		n = bpf_map_lookup_elem(&listen_ports, &port);
		if (n && __sync_fetch_and_add(n, -1) <= 1)
			bpf_map_delete_elem(&listen_ports, &port);
	}
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
