/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c: the client side of a connection. The client's first write decides
 * whether it speaks PostgreSQL; from then on every transfer is forwarded, a long write in
 * segments, for the wire parser in userspace (src/proto/pgwire.c). One file per protocol, as
 * in userspace.
 */
#ifndef SLOPROBE_SOCKIO_PGSQL_BPF_H
#define SLOPROBE_SOCKIO_PGSQL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "abi/sockio.h"
#include "sockio/capture.bpf.h"

static __always_inline __u32 peek_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/*
 * Does the first write we see from a client start PostgreSQL traffic? Either the untyped
 * first message of a session (startup, SSL/GSS encryption or cancel request: int32 length
 * that is the whole write, then a known code), or, on a connection that was open before
 * tracing, a typed frontend message whose length fits the write. Userspace checks further.
 */
static __always_inline bool sniff_pgsql(const __u8 *p, __u32 n, __s64 len)
{
	__u32 mlen, code;

	if (n < 8)
		return false;
	mlen = peek_be32(p);
	code = peek_be32(p + 4);
	if (mlen == len && mlen >= 8 && mlen <= 10000 &&
	    (code == 196608 || code == 80877103 || code == 80877104 || code == 80877102))
		return true;
	mlen = peek_be32(p + 1);
	if (mlen < 4 || mlen + 1 > len)
		return false;
	switch (p[0]) {
	case 'Q': /* simple query: one message per write */
		return mlen + 1 == len;
	case 'P': /* Parse, usually followed by Bind/Describe/Execute/Sync in the same write */
	case 'B':
		return true;
	}
	return false;
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

#endif
