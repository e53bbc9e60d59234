/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c: the client side of a connection. The client's first write names
 * the protocol (each protocol's sniffer is in its own file); from then on its transfers are
 * forwarded for the parser in userspace: PostgreSQL and Redis whole, a long write in
 * segments; HTTP with the first bytes and the tail of each transfer, like the server side.
 */
#ifndef SLOPROBE_SOCKIO_CLIENT_BPF_H
#define SLOPROBE_SOCKIO_CLIENT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "abi/sockio.h"
#include "sockio/capture.bpf.h"
#include "sockio/http.bpf.h"
#include "sockio/pgsql.bpf.h"
#include "sockio/resp.bpf.h"

/* Payload bytes captured from a client transfer: whole for framed protocols. */
static __always_inline __u32 client__cap(const struct sockio_conn *c, bool read)
{
	if (c->proto == SOCKIO_PROTO_HTTP)
		return targ_head_bytes;
	/*
	 * A pipeline's replies are small values back to back ("+OK\r\n" x 10 000, read 64 KiB
	 * at a time): a gap in them loses the framing, so Redis reads go whole, like writes.
	 */
	if (c->proto == SOCKIO_PROTO_REDIS)
		return targ_pg_write_bytes;
	return read ? targ_pg_read_bytes : targ_pg_write_bytes;
}

static __always_inline __u8 client__sniff(const struct scratch *s, __s64 len)
{
	if (sniff_pgsql(s->ev.head, s->ev.head_len, len))
		return SOCKIO_PROTO_PGSQL;
	if (sniff_resp(s->ev.head, s->ev.head_len))
		return SOCKIO_PROTO_REDIS;
	if (sniff_http_request(s->ev.head, s->ev.head_len) && s->ev.head_len >= 4)
		return SOCKIO_PROTO_HTTP;
	if (sniff_tls(s->ev.head, s->ev.head_len))
		return SOCKIO_PROTO_TLS;
	return SOCKIO_PROTO_OTHER;
}

/*
 * An outbound connection: the first write decides the protocol; a protocol we do not decode
 * sends userspace its verdict only, once.
 */
static __always_inline int client__io(struct sockio_conn *c, struct scratch *s,
				      const struct xfer *x, __u32 cap)
{
	if (c->proto == SOCKIO_PROTO_UNKNOWN) {
		c->proto = client__sniff(s, x->len);
		if (c->proto == SOCKIO_PROTO_HTTP &&
		    (!targ_outbound || proc__load_generator(s->ev.tgid, c))) {
			/* Outbound HTTP not followed: not even the verdict, which a client without
			 * keep-alive would pay per request. */
			if (targ_outbound)
				stat_inc(SOCKIO_STAT_LOAD_GENERATOR);
			c->proto = SOCKIO_PROTO_OTHER;
			return 0;
		}
		s->ev.proto = c->proto;
		if (c->proto != SOCKIO_PROTO_PGSQL && c->proto != SOCKIO_PROTO_REDIS &&
		    c->proto != SOCKIO_PROTO_HTTP) {
			s->ev.head_len = 0; /* userspace only learns the verdict */
			data__send(s);
			return 0;
		}
	}
	if (c->proto == SOCKIO_PROTO_HTTP || s->ev.dir != SOCKIO_OUT || !x->base || x->len <= cap ||
	    !cap) {
		data__send(s);
		return 0;
	}
	/*
	 * A write longer than an event (asyncpg executemany of 1000 rows: 66 KB in one sendto;
	 * a Redis pipeline of 10 000 commands), or a Redis read, goes whole, in consecutive
	 * segments; userspace counts what is past the last one.
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

#endif
