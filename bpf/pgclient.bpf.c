// SPDX-License-Identifier: GPL-2.0-only
/*
 * PostgreSQL queries from libpq's API, with uprobes on entry and return of the calls that
 * send a query and of PQgetResult. See include/abi/pgclient.h for what reaches userspace.
 *
 * libpq calls its own API: PQexec is PQsendQuery plus a PQgetResult loop, and so on. Only
 * the outermost call of a thread counts: a call made while the thread is inside another one
 * (lower stack pointer, same PGconn) is nested and only moves a depth counter.
 *
 * Cost model: every call of a probed function traps into the kernel (~0.5 us here when the
 * probed instruction is one the kernel emulates, ~10 us when it is single-stepped: userspace
 * places probes past a harmless first instruction where it can), and the programs add a few
 * hundred ns. So no probe is placed that a query does not need: the status of a result is
 * read from the PGresult itself rather than from a probe on PQresultStatus, which drivers
 * call several times per query.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.bpf.h"
#include "abi/pgclient.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_self_tgid = 0;
const volatile __u32 targ_text_max = PGCLIENT_TEXT_DEFAULT;
const volatile __u64 targ_wakeup_bytes = 1 << 18;
const volatile bool filter_procs = false;

/* The outermost libpq call a thread is in. */
struct call {
	__u64 sp; /* user stack pointer at entry: calls nested in this one run below it */
	__u64 conn;
	__u64 ts;
	__u64 text; /* user pointers: the caller owns them until the call returns */
	__u64 name;
	__u32 depth;
	__u8 fn;
};

struct conn_key {
	__u32 tgid;
	__u32 pad;
	__u64 conn;
};

/*
 * Async queries of a PGconn in send order (pipeline mode sends several): seq head..tail-1,
 * each in slot seq % PGCLIENT_PIPELINE_SLOTS. Slots live as long as the connection and are
 * written in place: a query costs no copy of a whole event into the map.
 */
struct conn_queue {
	__u32 head;
	__u32 tail;
};

struct pending_key {
	__u32 tgid;
	__u32 slot;
	__u64 conn;
};

static const struct pgclient_ev zero_ev;

/* The libpq call each thread is in (depth 0: none), kept with the task: no hash operation. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PGCLIENT_CONNS_DEFAULT);
	__type(key, struct conn_key);
	__type(value, struct conn_queue);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PGCLIENT_PENDING_DEFAULT);
	__type(key, struct pending_key);
	__type(value, struct pgclient_ev);
} pending SEC(".maps");

/* Userspace's verdict on a process (src/probes/procfilter.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PGCLIENT_PROCS_DEFAULT);
	__type(key, __u32);
	__type(value, __u8);
} procs SEC(".maps");

/* An event is too big for the BPF stack: it is built here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pgclient_ev);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PGCLIENT_RINGBUF_DEFAULT);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PGCLIENT_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	counter__add(&stats, idx, n);
}

static __always_inline __u64 rb_flags(__u64 size)
{
	return ringbuf__flags(&events, targ_wakeup_bytes, size);
}

static __always_inline bool proc__wanted(__u32 tgid)
{
	return tgid != targ_self_tgid && (!filter_procs || procs__wanted(&procs, tgid));
}

static __always_inline bool fn_is_sync(__u8 fn)
{
	return fn <= PGCLIENT_FN_EXEC_PREPARED;
}

static __always_inline bool fn_is_send(__u8 fn)
{
	return fn >= PGCLIENT_FN_SEND_QUERY && fn <= PGCLIENT_FN_SEND_QUERY_PREPARED;
}

static __always_inline void ev__output(struct pgclient_ev *e)
{
	__u64 size = PGCLIENT_EV_HDR + e->text_len;

	if (size > sizeof(*e))
		size = sizeof(*e);
	if (bpf_ringbuf_output(&events, e, size, rb_flags(size)))
		stat_add(PGCLIENT_STAT_RB_DROPS, 1);
}

/* The command text, at most targ_text_max bytes; TRUNCATED only if there was more. */
static __always_inline void ev__read_text(struct pgclient_ev *e, __u64 src)
{
	__u32 cap = targ_text_max < PGCLIENT_TEXT_MAX - 1 ? targ_text_max : PGCLIENT_TEXT_MAX - 1;
	bool truncated;
	long n;

	e->text_len = 0;
	if (!src)
		return;
	n = user_str__read(e->text, cap, (const char *)src, &truncated);
	if (n < 0) {
		e->flags |= PGCLIENT_F_READ_FAULT;
		stat_add(PGCLIENT_STAT_READ_FAULT, 1);
		return;
	}
	e->text_len = n;
	if (truncated)
		e->flags |= PGCLIENT_F_TRUNCATED;
}

static __always_inline void ev__read_name(struct pgclient_ev *e, __u64 src)
{
	long n;

	e->name_len = 0;
	if (!src)
		return;
	n = bpf_probe_read_user_str(e->name, sizeof(e->name), (void *)src);
	if (n <= 0) {
		e->flags |= PGCLIENT_F_READ_FAULT;
		stat_add(PGCLIENT_STAT_READ_FAULT, 1);
		return;
	}
	e->name_len = n - 1;
}

/* The SQLSTATE of an error result: the 'C' field of its list of error fields. */
static __always_inline void ev__sqlstate(struct pgclient_ev *e, __u64 res, __u32 off)
{
	__u64 f = 0;
	char code;

	if (!off || bpf_probe_read_user(&f, sizeof(f), (void *)(res + off)))
		return;
	for (int i = 0; i < PGCLIENT_FIELDS_WALK && f; i++) {
		if (bpf_probe_read_user(&code, 1, (void *)(f + PGCLIENT_FIELD_CODE_OFF)))
			return;
		if (code == 'C') {
			bpf_probe_read_user_str(e->sqlstate, 6,
						(void *)(f + PGCLIENT_FIELD_CONTENTS_OFF));
			return;
		}
		if (bpf_probe_read_user(&f, sizeof(f), (void *)f))
			return;
	}
}

/* One PGresult handed to the application: its status, tag or SQLSTATE. */
static __always_inline void ev__result(struct pgclient_ev *e, __u64 res, __u64 cookie)
{
	__u32 st_off = PGCLIENT_COOKIE_STATUS(cookie), cmd_off = PGCLIENT_COOKIE_CMD(cookie);
	__s32 status;

	if (!res)
		return;
	if (!st_off) {
		e->results++;
		e->flags |= PGCLIENT_F_NO_LAYOUT;
		return;
	}
	if (bpf_probe_read_user(&status, sizeof(status), (void *)(res + st_off))) {
		stat_add(PGCLIENT_STAT_READ_FAULT, 1);
		return;
	}
	/* The end of a pipeline's sync point belongs to no query. */
	if (status == PGCLIENT_PGRES_PIPELINE_SYNC)
		return;
	e->results++;
	e->status = status;
	if (status == PGCLIENT_PGRES_FATAL_ERROR || status == PGCLIENT_PGRES_BAD_RESPONSE ||
	    status == PGCLIENT_PGRES_PIPELINE_ABORTED) {
		if (!(e->flags & PGCLIENT_F_ERROR))
			ev__sqlstate(e, res, PGCLIENT_COOKIE_ERRFIELDS(cookie));
		e->flags |= PGCLIENT_F_ERROR;
		return;
	}
	if (cmd_off)
		bpf_probe_read_user_str(e->cmd, sizeof(e->cmd), (void *)(res + cmd_off));
}

static __always_inline void ev__init(struct pgclient_ev *e, struct call *c, __u32 tgid, __u32 tid)
{
	e->type = PGCLIENT_EV_QUERY;
	e->tgid = tgid;
	e->tid = tid;
	e->fn = c->fn;
	e->status = PGCLIENT_STATUS_NONE;
	e->flags = 0;
	e->conn = c->conn;
	e->ts_start = c->ts;
	e->ts_end = 0;
	e->results = 0;
	e->sqlstate[0] = 0;
	e->cmd[0] = 0;
	e->name[0] = 0;
	ev__read_name(e, c->name);
	ev__read_text(e, c->text);
}

/* A fresh event in the per-CPU scratch slot. */
static __always_inline struct pgclient_ev *ev__new(struct call *c, __u32 tgid, __u32 tid)
{
	__u32 zero = 0;
	struct pgclient_ev *e = bpf_map_lookup_elem(&scratch, &zero);

	if (e)
		ev__init(e, c, tgid, tid);
	return e;
}

static __always_inline struct pgclient_ev *pending__slot(__u32 tgid, __u64 conn, __u32 seq,
							 bool create)
{
	struct pending_key pk = { .tgid = tgid,
				  .slot = seq % PGCLIENT_PIPELINE_SLOTS,
				  .conn = conn };
	if (!create)
		return bpf_map_lookup_elem(&pending, &pk);
	return map__lookup_or_init(&pending, &pk, &zero_ev);
}

/*
 * Async queries still pending on a PGconn whose results the application will never read:
 * PQexec* throws them away (PQexecStart), PQfinish closes the connection. They end now.
 */
static __always_inline void conn__discard(__u32 tgid, __u64 conn, bool close)
{
	struct conn_key ck = { .tgid = tgid, .conn = conn };
	struct conn_queue *q = bpf_map_lookup_elem(&conns, &ck);
	struct pgclient_ev *e;
	__u64 now;

	if (!q)
		return;
	if (q->head != q->tail) {
		now = bpf_ktime_get_ns();
		for (int i = 0; i < PGCLIENT_PIPELINE_SLOTS; i++) {
			if (q->head == q->tail)
				break;
			e = pending__slot(tgid, conn, q->head++, false);
			if (!e || e->type != PGCLIENT_EV_QUERY) {
				stat_add(PGCLIENT_STAT_PENDING_LOST, 1);
				continue;
			}
			e->ts_end = now;
			e->flags |= PGCLIENT_F_DISCARDED;
			stat_add(PGCLIENT_STAT_DISCARDED, 1);
			ev__output(e);
			e->type = 0;
		}
		q->head = q->tail = 0;
	}
	if (!close)
		return;
	bpf_map_delete_elem(&conns, &ck);
	for (__u32 i = 0; i < PGCLIENT_PIPELINE_SLOTS; i++) {
		struct pending_key pk = { .tgid = tgid, .slot = i, .conn = conn };

		bpf_map_delete_elem(&pending, &pk);
	}
}

static __always_inline bool conn__busy(__u32 tgid, __u64 conn)
{
	struct conn_key ck = { .tgid = tgid, .conn = conn };
	struct conn_queue *q = bpf_map_lookup_elem(&conns, &ck);

	return q && q->head != q->tail;
}

static __always_inline int call__enter(struct pt_regs *ctx, __u8 fn, __u64 conn, __u64 text,
				       __u64 name)
{
	__u64 id = bpf_get_current_pid_tgid(), sp = PT_REGS_SP(ctx);
	__u32 tgid = id >> 32;
	struct task_struct *task = bpf_get_current_task_btf();
	struct call *c = bpf_task_storage_get(&calls, task, 0, 0);

	if (c && c->depth) {
		/* libpq's sync calls are made of its async ones, on the same PGconn. */
		if (sp < c->sp && c->conn == conn && fn_is_sync(c->fn) && !fn_is_sync(fn)) {
			c->depth++;
			return 0;
		}
		stat_add(PGCLIENT_STAT_STALE_CALL, 1);
	}
	/* After the nesting test: an inner call's process passed it at the outer call. */
	if (!proc__wanted(tgid))
		return 0;
	if (fn == PGCLIENT_FN_GET_RESULT && !conn__busy(tgid, conn)) {
		if (c)
			c->depth = 0;
		return 0;
	}
	if (fn_is_sync(fn))
		conn__discard(tgid, conn, false);
	if (!c)
		c = bpf_task_storage_get(&calls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c) {
		stat_add(PGCLIENT_STAT_NO_STATE, 1);
		return 0;
	}
	c->sp = sp;
	c->conn = conn;
	c->ts = bpf_ktime_get_ns();
	c->text = text;
	c->name = name;
	c->depth = 1;
	c->fn = fn;
	return 0;
}

/* PQsend* returned ret: the query is now pending on its PGconn, or was never sent. */
static __always_inline void send__return(struct call *c, __u32 tgid, __u32 tid, long ret)
{
	struct conn_key ck = { .tgid = tgid, .conn = c->conn };
	struct conn_queue *q, nq = {};
	struct pgclient_ev *e;

	if (!(int)ret) {
		e = ev__new(c, tgid, tid);
		if (e) {
			e->ts_end = bpf_ktime_get_ns();
			e->flags |= PGCLIENT_F_NO_RESULT;
			ev__output(e);
		}
		return;
	}
	q = map__lookup_or_init(&conns, &ck, &nq);
	/* Deeper pipelines: the extra queries are not followed, the first ones still end right. */
	if (q && q->tail - q->head >= PGCLIENT_PIPELINE_SLOTS) {
		stat_add(PGCLIENT_STAT_PENDING_LOST, 1);
		return;
	}
	e = q ? pending__slot(tgid, c->conn, q->tail, true) : NULL;
	if (!e) {
		stat_add(PGCLIENT_STAT_NO_STATE, 1);
		return;
	}
	ev__init(e, c, tgid, tid);
	q->tail++;
}

/* PQgetResult returned res for a PGconn with queries pending: NULL ends the oldest one. */
static __always_inline void fetch__return(struct call *c, __u32 tgid, __u64 res, __u64 cookie)
{
	struct conn_key ck = { .tgid = tgid, .conn = c->conn };
	struct conn_queue *q = bpf_map_lookup_elem(&conns, &ck);
	struct pgclient_ev *e;

	if (!q || q->head == q->tail)
		return;
	e = pending__slot(tgid, c->conn, q->head, false);
	if (!e || e->type != PGCLIENT_EV_QUERY) {
		if (!res) {
			stat_add(PGCLIENT_STAT_PENDING_LOST, 1);
			q->head++;
		}
		return;
	}
	if (res) {
		ev__result(e, res, cookie);
		return;
	}
	e->ts_end = bpf_ktime_get_ns();
	ev__output(e);
	e->type = 0;
	/* An idle connection starts over at slot 0: one slot per connection without pipelining. */
	if (++q->head == q->tail)
		q->head = q->tail = 0;
}

static __always_inline int call__return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), ret = PT_REGS_RC(ctx);
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct call *c = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), 0, 0);
	struct pgclient_ev *e;

	if (!c || !c->depth)
		return 0;
	if (--c->depth)
		return 0;
	if (fn_is_sync(c->fn)) {
		e = ev__new(c, tgid, tid);
		if (e) {
			e->ts_end = bpf_ktime_get_ns();
			if (ret)
				ev__result(e, ret, bpf_get_attach_cookie(ctx));
			else
				e->flags |= PGCLIENT_F_NO_RESULT;
			ev__output(e);
		}
	} else if (fn_is_send(c->fn)) {
		send__return(c, tgid, tid, ret);
	} else {
		fetch__return(c, tgid, ret, bpf_get_attach_cookie(ctx));
	}
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(pq_exec, void *conn, const char *command)
{
	return call__enter(ctx, PGCLIENT_FN_EXEC, (__u64)conn, (__u64)command, 0);
}

SEC("uprobe")
int BPF_KPROBE(pq_exec_params, void *conn, const char *command)
{
	return call__enter(ctx, PGCLIENT_FN_EXEC_PARAMS, (__u64)conn, (__u64)command, 0);
}

SEC("uprobe")
int BPF_KPROBE(pq_prepare, void *conn, const char *stmt_name, const char *query)
{
	return call__enter(ctx, PGCLIENT_FN_PREPARE, (__u64)conn, (__u64)query, (__u64)stmt_name);
}

SEC("uprobe")
int BPF_KPROBE(pq_exec_prepared, void *conn, const char *stmt_name)
{
	return call__enter(ctx, PGCLIENT_FN_EXEC_PREPARED, (__u64)conn, 0, (__u64)stmt_name);
}

SEC("uprobe")
int BPF_KPROBE(pq_send_query, void *conn, const char *command)
{
	return call__enter(ctx, PGCLIENT_FN_SEND_QUERY, (__u64)conn, (__u64)command, 0);
}

SEC("uprobe")
int BPF_KPROBE(pq_send_query_params, void *conn, const char *command)
{
	return call__enter(ctx, PGCLIENT_FN_SEND_QUERY_PARAMS, (__u64)conn, (__u64)command, 0);
}

SEC("uprobe")
int BPF_KPROBE(pq_send_prepare, void *conn, const char *stmt_name, const char *query)
{
	return call__enter(ctx, PGCLIENT_FN_SEND_PREPARE, (__u64)conn, (__u64)query,
			   (__u64)stmt_name);
}

SEC("uprobe")
int BPF_KPROBE(pq_send_query_prepared, void *conn, const char *stmt_name)
{
	return call__enter(ctx, PGCLIENT_FN_SEND_QUERY_PREPARED, (__u64)conn, 0, (__u64)stmt_name);
}

SEC("uprobe")
int BPF_KPROBE(pq_getresult, void *conn)
{
	return call__enter(ctx, PGCLIENT_FN_GET_RESULT, (__u64)conn, 0, 0);
}

/* One return program for every probed call: the thread's call record says which it was. */
SEC("uretprobe")
int BPF_KRETPROBE(pq_call_ret)
{
	return call__return(ctx);
}

SEC("uprobe")
int BPF_KPROBE(pq_finish, void *conn)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct pgclient_close_ev *e;

	if (!proc__wanted(tgid))
		return 0;
	conn__discard(tgid, (__u64)conn, true);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_add(PGCLIENT_STAT_RB_DROPS, 1);
		return 0;
	}
	e->type = PGCLIENT_EV_CLOSE;
	e->tgid = tgid;
	e->conn = (__u64)conn;
	e->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, rb_flags(sizeof(*e)));
	return 0;
}
