/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c: knowing PostgreSQL from a client's first write (client.bpf.h
 * forwards its transfers to the wire parser in userspace, src/proto/pgwire.c). One file per
 * protocol, as in userspace.
 */
#ifndef SLOPROBE_SOCKIO_PGSQL_BPF_H
#define SLOPROBE_SOCKIO_PGSQL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "abi/sockio.h"

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

#endif
