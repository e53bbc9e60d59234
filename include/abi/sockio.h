/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Socket data path shared by bpf/sockio.bpf.c and src/probes/sockio.c.
 *
 * The kernel side follows TCP connections of interesting processes through the read/write
 * family of syscalls. On inbound HTTP connections it forwards the reads of a request and the
 * first write of a response with their first bytes, and the rest of a response as small
 * records (time, length, last bytes). On outbound connections the client's first write names
 * the protocol: PostgreSQL and Redis transfers are then forwarded whole, HTTP requests and
 * responses with their first bytes and tails, anything else not at all. Heads
 * and tails are gathered across every iovec. Inbound sockets also carry, from their handshake
 * on, when unread bytes arrived, which a read hands to its event (ts_arrival). Userspace runs
 * the real protocol parsers on those records. Outbound TCP connections also report their
 * connect() result (with the time it took), and a reset or the server's FIN received
 * (SOCKIO_EV_CLIENT).
 *
 * With TLS tracing, uprobes on OpenSSL's SSL_read/SSL_write (and their _ex forms) hand the
 * plaintext of a call to the same path, on the connection of the socket the call used, as if
 * a syscall had moved it (SOCKIO_F_TLS); the ciphertext of that connection is not forwarded.
 */
#ifndef SLOPROBE_SOCKIO_H
#define SLOPROBE_SOCKIO_H

#define SOCKIO_HEAD_MAX	    4096 /* --head-bytes: HTTP bytes captured from the start of a transfer */
#define SOCKIO_HEAD_DEFAULT 512
/*
 * PostgreSQL and Redis transfers are captured whole up to these sizes, gathered across
 * iovecs: a batch of Bind/Execute messages or a pipeline must be framed exactly, and a client
 * write is rarely larger. Reads beyond the read size keep head and tail (framing may be lost
 * and is then counted).
 */
#define SOCKIO_PG_WRITE_DEFAULT 65536
#define SOCKIO_PG_READ_DEFAULT	16384
#define SOCKIO_CAP_MAX		65536 /* power of two: payload bytes one event can carry */
#define SOCKIO_SEGS_MAX		16    /* events a PostgreSQL write is carried in: 1 MiB */
#define SOCKIO_TAIL		32    /* last bytes of a transfer: chunked end, PostgreSQL C+Z */
#define SOCKIO_IOV_MAX		1024  /* UIO_MAXIOV: every iovec of a vectored call is walked */
#define SOCKIO_SPLIT_MAX	16    /* writes of a status line split over writes */
#define SOCKIO_CONNS_DEFAULT	65536 /* tracked {tgid, fd} entries, LRU */
#define SOCKIO_PROCS_DEFAULT	16384 /* processes that may own sockets, LRU */
#define SOCKIO_RINGBUF_DEFAULT	(16u << 20)
#define SOCKIO_FILTER_PIDS_MAX	4096
#define SOCKIO_FILTER_PORTS_MAX 64
#define SOCKIO_TLS_SSL_DEFAULT	65536 /* SSL objects whose socket is remembered, LRU */

enum sockio_ev_type {
	SOCKIO_EV_OPEN = 1,   /* a connection became tracked */
	SOCKIO_EV_DATA = 2,   /* a read or write on a tracked connection */
	SOCKIO_EV_CLOSE = 3,  /* close() of a tracked connection */
	SOCKIO_EV_EXIT = 4,   /* a process owning tracked connections exited */
	SOCKIO_EV_CLIENT = 5, /* outbound TCP: connect() result, RST or FIN received */
};

/* What a SOCKIO_EV_CLIENT says. */
enum sockio_client_what {
	SOCKIO_CL_CONNECT = 1, /* err: 0, -EINPROGRESS (the result follows), or the failure */
	SOCKIO_CL_RESET = 2,   /* RST received on an established connection */
	SOCKIO_CL_FIN = 3,     /* the peer closed its side */
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
	SOCKIO_PROTO_REDIS = 6, /* RESP (Redis, Valkey, KeyDB), client side */
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
	SOCKIO_F_NOPAYLOAD = 1 << 4,  /* no user buffer (sendfile) */
	SOCKIO_F_IOV_CUT = 1 << 5,    /* more iovecs than SOCKIO_IOV_MAX: tail unknown */
	SOCKIO_F_SEGMENT = 1 << 6,    /* one of consecutive events that carry a whole transfer */
	SOCKIO_F_TLS = 1 << 7,	      /* plaintext of an SSL_read/SSL_write call, not a syscall */
};

/*
 * The OpenSSL calls probed for TLS plaintext, the uprobes' cookie: SSL_read(ssl, buf, int num),
 * SSL_read_ex(ssl, buf, size_t num, size_t *readbytes) and the same for SSL_write.
 */
enum sockio_tls_fn {
	SOCKIO_TLS_READ = 1,
	SOCKIO_TLS_READ_EX = 2,
	SOCKIO_TLS_WRITE = 3,
	SOCKIO_TLS_WRITE_EX = 4,
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
	SOCKIO_STAT_RB_DROPS = 0,   /* ring buffer full: event lost */
	SOCKIO_STAT_IOV_CUT,	    /* vectored transfers with more iovecs than walked */
	SOCKIO_STAT_CONN_LOST,	    /* syscall ended but its connection state was gone */
	SOCKIO_STAT_READ_FAULT,	    /* user memory could not be read */
	SOCKIO_STAT_INFLIGHT_FAIL,  /* no per-thread storage */
	SOCKIO_STAT_TRACKED,	    /* connections that became tracked */
	SOCKIO_STAT_TLS_UNBOUND,    /* TLS plaintext dropped: its socket is not known */
	SOCKIO_STAT_OUTBOUND_LOST,  /* connects not followed: no socket storage */
	SOCKIO_STAT_LOAD_GENERATOR, /* HTTP client connections left to --outbound=all */
	SOCKIO_STAT_TCP_FULL,	    /* TCP retransmits/resets not counted: tcp_peers full */
	SOCKIO_STAT_TAIL_FAILED,    /* transfers not forwarded: a tail call failed */
	SOCKIO_STAT_NR,
};

/*
 * TCP trouble per service port and peer, counted in the tcp_peers hash map by
 * bpf/sockio/tcpsat.bpf.h and read by userspace each interval (totals since the start: never
 * deleted, so a read can not race a count).
 */
#define SOCKIO_TCP_PEERS_MAX 4096

enum sockio_tcp_kind {
	SOCKIO_TCP_RETRANS = 0, /* a data or FIN segment sent again */
	SOCKIO_TCP_SYN_RETRANS, /* a SYN sent again: the listener dropped the first */
	SOCKIO_TCP_RST_SENT,
	SOCKIO_TCP_RST_RECV,
	SOCKIO_TCP_KIND_NR,
	/*
	 * A handshake's last ACK dropped for a full accept queue (server, peer 0): the kernel
	 * counts it twice in the listener's drops, once in TcpExt ListenOverflows.
	 */
	SOCKIO_TCP_ACK_OVERFLOW = SOCKIO_TCP_KIND_NR,
	SOCKIO_TCP_KIND_ALL,
};

struct sockio_tcp_key {
	__u8 addr[16]; /* the peer: IPv6, or IPv4 in the first 4 bytes */
	__u16 port;    /* the service port: this host's when server, else the peer's */
	__u8 family;   /* AF_INET or AF_INET6 */
	__u8 server;   /* the port listens on this host (a reset refusing a connect too) */
	__u8 kind;     /* enum sockio_tcp_kind */
	__u8 pad[3];
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
	__u8 cont; /* writes forwarded while a status line may be split over them */
	__u8 tls;  /* its plaintext comes from OpenSSL's calls: its own bytes are ciphertext */
	__u64 sk; /* struct sock of a TCP connection (a skipped one too): same on a 2nd connect() */
	__u32 connecting; /* 1: connect() returned EINPROGRESS; who clears it sends the result */
	__u16 rport;
	__u8 local_server; /* client: the peer is this host, on a port that listens */
	__u8 pad;
};

enum sockio_proc_state {
	SOCKIO_PROC_PENDING = 0, /* filters not evaluated yet (seeded by userspace) */
	SOCKIO_PROC_MATCH = 1,
	SOCKIO_PROC_NOMATCH = 2,
};

struct sockio_proc {
	__u8 state;
	__u8 serves; /* it listens, or has a traced inbound connection */
	__u8 pad[6];
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
	__u64 ts_arrival; /* server reads: when the first byte read had reached the socket; 0 */
	__u32 head_len;	  /* bytes in head[] */
	__u32 seg_off;	  /* SOCKIO_F_SEGMENT: offset of head[] in the transfer */
	__u8 tail_len;
	__u8 pad[7];
	__u8 tail[SOCKIO_TAIL]; /* the last tail_len bytes, when head[] does not reach them */
	__u8 head[];		/* the first bytes of the transfer, gathered across iovecs */
};

/* Events are as long as their payload: the header, then head_len bytes. */
#define SOCKIO_DATA_EV_SHORT sizeof(struct sockio_data_ev)

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

struct sockio_client_ev {
	__u32 type;
	__u32 tgid;
	__u64 conn_id;	/* 0: a connect() that failed before the connection was tracked */
	__u64 ts_start; /* CONNECT: connect() entered */
	__u64 ts;	/* when it happened (the handshake ended, the RST or FIN arrived) */
	__u32 tid;	/* CONNECT: the thread that called connect() */
	__s32 err;
	__u8 what; /* enum sockio_client_what */
	__u8 pad;
	__u16 family; /* conn_id 0: the peer connect() was given */
	__u16 rport;
	__u8 pad2[6];
	__u8 raddr[16];
	char comm[16]; /* conn_id 0: the thread group leader's */
};

#endif
