/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Socket data path shared by bpf/sockio.bpf.c and src/sockio.c.
 *
 * The kernel side follows TCP connections of interesting processes through the read/write
 * family of syscalls and forwards, per connection, only the calls that mark a protocol
 * boundary (the first read of a request, the first write of a response) with the first bytes
 * of payload, plus small records for the rest of a response (time and length, no payload).
 * Userspace runs the real protocol parsers on those records.
 */
#ifndef SLOPROBE_SOCKIO_H
#define SLOPROBE_SOCKIO_H

#define SOCKIO_HEAD_MAX		512 /* payload bytes an event can carry */
#define SOCKIO_HEAD_DEFAULT	512
#define SOCKIO_TAIL		32    /* last bytes of a transfer: chunked end, PostgreSQL C+Z */
#define SOCKIO_CONNS_DEFAULT	65536 /* tracked {tgid, fd} entries, LRU */
#define SOCKIO_PROCS_DEFAULT	16384 /* processes that may own sockets, LRU */
#define SOCKIO_RINGBUF_DEFAULT	(16u << 20)
#define SOCKIO_REQ_CONT_MAX	16 /* reads forwarded per request after its first */
#define SOCKIO_IOV_MAX		8  /* iovecs walked to find the tail of a transfer */
#define SOCKIO_FILTER_PIDS_MAX	4096
#define SOCKIO_FILTER_PORTS_MAX 64

enum sockio_ev_type {
	SOCKIO_EV_OPEN = 1,  /* a connection became tracked */
	SOCKIO_EV_DATA = 2,  /* a read or write on a tracked connection */
	SOCKIO_EV_CLOSE = 3, /* close() of a tracked connection */
	SOCKIO_EV_EXIT = 4,  /* a process owning tracked connections exited */
};

enum sockio_dir {
	SOCKIO_IN = 0,	/* read by the traced process */
	SOCKIO_OUT = 1, /* written by the traced process */
};

enum sockio_role {
	SOCKIO_ROLE_SERVER = 1, /* accepted, or local port is a listening port */
	SOCKIO_ROLE_CLIENT = 2, /* connected */
};

enum sockio_proto {
	SOCKIO_PROTO_UNKNOWN = 0,
	SOCKIO_PROTO_HTTP = 1,
	SOCKIO_PROTO_TLS = 2,	/* encrypted: payload useless here */
	SOCKIO_PROTO_HTTP2 = 3, /* cleartext h2 preface; not decoded yet */
	SOCKIO_PROTO_OTHER = 4, /* not a protocol we decode */
	SOCKIO_PROTO_PGSQL = 5, /* PostgreSQL frontend/backend protocol, client side */
};

enum sockio_kind {
	SOCKIO_KIND_SKIP = 1, /* not a TCP socket, or filtered out: cached so it costs one lookup */
	SOCKIO_KIND_TRACKED = 2,
};

enum sockio_how {
	SOCKIO_HOW_ACCEPT = 1,
	SOCKIO_HOW_CONNECT = 2,
	SOCKIO_HOW_FOUND = 3, /* existed before tracing started, found on first use */
};

/* Kernel-side request state, only to decide what to forward. */
enum sockio_state {
	SOCKIO_ST_IDLE = 0,
	SOCKIO_ST_REQ = 1,  /* request bytes read, no response written yet */
	SOCKIO_ST_RESP = 2, /* response being written */
};

enum sockio_flag {
	SOCKIO_F_REQ_START = 1 << 0,  /* read that starts a request */
	SOCKIO_F_RESP_START = 1 << 1, /* write that starts a response */
	SOCKIO_F_HEAD_IOV = 1 << 2,   /* head stops at the end of the first iovec */
	SOCKIO_F_SKIPPED = 1 << 3,    /* reads of this request were not forwarded before this */
	SOCKIO_F_NOPAYLOAD = 1 << 4,  /* no user buffer (sendfile) */
};

enum sockio_sys {
	SOCKIO_SYS_READ = 1,
	SOCKIO_SYS_READV,
	SOCKIO_SYS_RECVFROM,
	SOCKIO_SYS_RECVMSG,
	SOCKIO_SYS_WRITE,
	SOCKIO_SYS_WRITEV,
	SOCKIO_SYS_SENDTO,
	SOCKIO_SYS_SENDMSG,
	SOCKIO_SYS_SENDFILE,
	SOCKIO_SYS_ACCEPT,
	SOCKIO_SYS_CONNECT,
};

/* Per-CPU counters, summed by userspace. */
enum sockio_stat {
	SOCKIO_STAT_RB_DROPS = 0,  /* ring buffer full: event lost */
	SOCKIO_STAT_SKIPPED_READS, /* request reads beyond SOCKIO_REQ_CONT_MAX */
	SOCKIO_STAT_CONN_LOST,	   /* syscall ended but its connection state was gone */
	SOCKIO_STAT_READ_FAULT,	   /* user memory could not be read */
	SOCKIO_STAT_INFLIGHT_FAIL, /* no per-thread storage */
	SOCKIO_STAT_TRACKED,	   /* connections that became tracked */
	SOCKIO_STAT_NR,
};

struct sockio_conn_key {
	__u32 tgid;
	__u32 fd;
};

struct sockio_conn {
	__u64 id; /* unique for the run: fd reuse gets a new id */
	__u8 kind;
	__u8 role;
	__u8 proto;
	__u8 state;
	__u16 lport;
	__u16 cont; /* reads forwarded in the current request */
};

enum sockio_proc_state {
	SOCKIO_PROC_PENDING = 0, /* filters not evaluated yet (seeded by userspace) */
	SOCKIO_PROC_MATCH = 1,
	SOCKIO_PROC_NOMATCH = 2,
};

struct sockio_proc {
	__u8 state;
	__u8 pad[7];
};

struct sockio_open_ev {
	__u32 type;
	__u32 tgid;
	__u64 conn_id;
	__u64 ts;
	__u64 cgroup_id;
	__u32 tid;
	__u32 fd;
	__u16 family;
	__u16 lport;
	__u16 rport;
	__u8 role;
	__u8 how;
	__u8 laddr[16];
	__u8 raddr[16];
	char comm[16]; /* the thread group leader's */
};

struct sockio_data_ev {
	__u32 type;
	__u32 tgid;
	__u64 conn_id;
	__u64 ts_enter;
	__u64 ts_exit;
	__s64 len; /* bytes transferred (the syscall's return value) */
	__u32 tid;
	__u8 dir;
	__u8 proto;
	__u8 flags;
	__u8 sys;
	__u16 head_len;
	__u8 tail_len;
	__u8 pad;
	__u8 tail[SOCKIO_TAIL];
	__u8 head[SOCKIO_HEAD_MAX];
};

/* A data event without payload is sent truncated to this size. */
#define SOCKIO_DATA_EV_SHORT ((unsigned long)&((struct sockio_data_ev *)0)->head)

struct sockio_close_ev {
	__u32 type;
	__u32 tgid;
	__u64 conn_id;
	__u64 ts;
};

struct sockio_exit_ev {
	__u32 type;
	__u32 tgid;
	__u64 ts;
};

#endif
