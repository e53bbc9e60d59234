/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c: TLS plaintext from OpenSSL's SSL_read, SSL_write and their _ex
 * forms (uprobes on entry and return, attached by src/probes/tlsprobe.c to every libssl and
 * every executable that exports them). A call's plaintext goes the way a syscall's bytes go,
 * on the connection of the socket the call used, which is learnt from
 *   - a syscall made inside the call (OpenSSL's own socket BIO: nginx, Python, curl), kept
 *     per SSL object because a read served from OpenSSL's buffer makes none;
 *   - else the thread's read of a TLS connection just before it: a library that feeds OpenSSL
 *     from memory (Node) reads the socket, then decrypts; for a write, only while the SSL
 *     object has no socket yet (a client's first request follows the handshake's last read).
 * The connection's own bytes are ciphertext from then on: they only name sockets.
 */
#ifndef SLOPROBE_SOCKIO_TLS_BPF_H
#define SLOPROBE_SOCKIO_TLS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi/sockio.h"
#include "sockio/capture.bpf.h"
#include "sockio/conn.bpf.h"

struct ssl_key {
	__u32 tgid;
	__u32 pad;
	__u64 ssl;
};

struct ssl_sock {
	__u32 fd;
	__u8 strong; /* named by a syscall inside a call, not guessed from a read before one */
	__u8 pad[3];
};

/* The socket of each SSL object; sized to 1 entry when TLS tracing is off. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCKIO_TLS_SSL_DEFAULT);
	__type(key, struct ssl_key);
	__type(value, struct ssl_sock);
} ssl_socks SEC(".maps");

static __always_inline bool tls__fn_ex(__u8 fn)
{
	return fn == SOCKIO_TLS_READ_EX || fn == SOCKIO_TLS_WRITE_EX;
}

/* Entry of an OpenSSL call (fn: the uprobe's cookie): its arguments, until it returns. */
static __always_inline int tls__enter(struct pt_regs *ctx, __u8 fn)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct inflight *in;

	if (tgid == targ_self_tgid || !proc__wanted(tgid, true))
		return 0;
	in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!in) {
		stat_inc(SOCKIO_STAT_INFLIGHT_FAIL);
		return 0;
	}
	in->tls.ssl = PT_REGS_PARM1(ctx);
	in->tls.buf = PT_REGS_PARM2(ctx);
	in->tls.done = tls__fn_ex(fn) ? PT_REGS_PARM4(ctx) : 0;
	in->tls.ts = bpf_ktime_get_ns();
	in->tls.arrival = 0;
	in->tls.bound = 0;
	in->tls.fn = fn;
	return 0;
}

/*
 * A syscall ends on a tracked socket of a thread inside an OpenSSL call (whose socket
 * data__enter noted): a read's arrival goes with the call. True: the bytes are the call's
 * ciphertext.
 */
static __always_inline bool tls__inside(struct inflight *in, long ret)
{
	struct tls_thread *t = &in->tls;

	if (!t->fn)
		return false;
	if (ret > 0 && sys_is_read(in->sys) && !t->arrival)
		t->arrival = in->arrival;
	return true;
}

/*
 * A syscall moved bytes on connection c outside any OpenSSL call. A read of a TLS connection is
 * remembered for the call that may decrypt it next (a cleartext one never names a call's
 * socket). True: the bytes are ciphertext.
 */
static __always_inline bool tls__outside(struct inflight *in, const struct sockio_conn *c)
{
	struct tls_thread *t = &in->tls;
	bool tls = c->tls || c->proto == SOCKIO_PROTO_TLS;

	if (sys_is_read(in->sys)) {
		t->last_fd = in->fd;
		t->last_arrival = in->arrival;
		t->fresh = tls;
	}
	return tls;
}

/*
 * Return of an OpenSSL call (ret: its int return value). When it moved plaintext on a
 * connection we forward, returns the connection and fills out (the call as a syscall of the
 * thread would be) and len; else NULL. Every call keeps its SSL object's socket up to date.
 */
static __always_inline struct sockio_conn *tls__return(long ret, struct inflight *out, __s64 *len)
{
	struct inflight *in = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
	struct ssl_key key = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct sockio_conn_key ck = { .tgid = key.tgid };
	struct ssl_sock *b, nb = {};
	struct sockio_conn *c;
	struct tls_thread *t;
	__u64 arrival = 0, done = 0;
	bool read, fresh;

	if (!in || !in->tls.fn)
		return NULL;
	t = &in->tls;
	read = t->fn == SOCKIO_TLS_READ || t->fn == SOCKIO_TLS_READ_EX;
	if (tls__fn_ex(t->fn)) {
		/* 1 and the count at *done, or 0 and nothing moved. */
		if ((int)ret != 1 || bpf_probe_read_user(&done, sizeof(done), (void *)t->done))
			done = 0;
		*len = done;
	} else {
		/* An int in a 64-bit register whose upper half is not its sign: -1 is 2^32 - 1. */
		*len = (int)ret;
	}
	t->fn = 0;
	fresh = t->fresh;
	t->fresh = 0;
	key.ssl = t->ssl;
	b = bpf_map_lookup_elem(&ssl_socks, &key);
	if (t->bound) {
		ck.fd = t->fd;
		arrival = t->arrival;
		if (!b || b->fd != ck.fd || !b->strong) {
			nb.fd = ck.fd;
			nb.strong = 1;
			bpf_map_update_elem(&ssl_socks, &key, &nb, BPF_ANY);
		}
	} else if (fresh && (read ? !b || !b->strong : !b)) {
		ck.fd = t->last_fd;
		arrival = read ? t->last_arrival : 0;
		if (!b || b->fd != ck.fd) {
			nb.fd = ck.fd;
			bpf_map_update_elem(&ssl_socks, &key, &nb, BPF_ANY);
		}
	} else if (b) {
		ck.fd = b->fd;
	} else {
		if (*len > 0)
			stat_inc(SOCKIO_STAT_TLS_UNBOUND);
		return NULL;
	}
	if (*len <= 0)
		return NULL;
	c = bpf_map_lookup_elem(&conns, &ck);
	if (!c)
		c = conn__discover(&ck);
	if (!c) {
		stat_inc(SOCKIO_STAT_TLS_UNBOUND);
		return NULL;
	}
	if (c->kind != SOCKIO_KIND_TRACKED)
		return NULL; /* filtered out, or not TCP */
	if (!c->tls) {
		/* What the handshake looked like no longer matters: the plaintext is sniffed. */
		c->tls = 1;
		if (c->proto == SOCKIO_PROTO_TLS)
			c->proto = SOCKIO_PROTO_UNKNOWN;
	}
	if (c->proto != SOCKIO_PROTO_UNKNOWN && c->proto != SOCKIO_PROTO_HTTP &&
	    c->proto != SOCKIO_PROTO_PGSQL && c->proto != SOCKIO_PROTO_REDIS)
		return NULL;
	if (c->role == SOCKIO_ROLE_CLIENT && !targ_clients)
		return NULL;
	out->ts = t->ts;
	out->arrival = arrival;
	out->buf = t->buf;
	out->conn_id = c->id;
	out->fd = ck.fd;
	out->iovcnt = 0;
	out->sys = read ? SOCKIO_SYS_READ : SOCKIO_SYS_WRITE;
	out->active = 0;
	return c;
}

#endif
