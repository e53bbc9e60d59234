/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers for bpf/sockio.bpf.c: constants vmlinux.h lacks and first-bytes protocol sniffing. */
#ifndef SLOPROBE_SOCKIO_BPF_H
#define SLOPROBE_SOCKIO_BPF_H

#define AF_INET	    2
#define AF_INET6    10
#define S_IFMT	    00170000
#define S_IFSOCK    0140000
#define MSG_PEEK    2
#define EINPROGRESS 115

#define WORD4(a, b, c, d) ((__u32)(a) | (__u32)(b) << 8 | (__u32)(c) << 16 | (__u32)(d) << 24)

static __always_inline __u32 peek_word(const __u8 *p)
{
	__u32 w;

	__builtin_memcpy(&w, p, sizeof(w));
	return w;
}

/*
 * Does a read start an HTTP/1 request? The first four bytes of every method name decide it.
 * Fewer than four bytes (a client that writes byte by byte) count if they are capitals: the
 * userspace parser checks the method once the rest arrives.
 */
static __always_inline bool sniff_http_request(const __u8 *p, __u32 n)
{
	if (n < 4) {
		for (int i = 0; i < 3; i++) {
			if (i >= n)
				break;
			if (p[i] < 'A' || p[i] > 'Z')
				return false;
		}
		return n > 0;
	}
	switch (peek_word(p)) {
	case WORD4('G', 'E', 'T', ' '):
	case WORD4('P', 'O', 'S', 'T'):
	case WORD4('P', 'U', 'T', ' '):
	case WORD4('H', 'E', 'A', 'D'):
	case WORD4('D', 'E', 'L', 'E'):
	case WORD4('P', 'A', 'T', 'C'):
	case WORD4('O', 'P', 'T', 'I'):
	case WORD4('C', 'O', 'N', 'N'):
	case WORD4('T', 'R', 'A', 'C'):
		return true;
	}
	return false;
}

static __always_inline bool sniff_http_response(const __u8 *p, __u32 n)
{
	return n >= 5 && peek_word(p) == WORD4('H', 'T', 'T', 'P') && p[4] == '/';
}

static __always_inline bool sniff_tls(const __u8 *p, __u32 n)
{
	/* Handshake record, TLS major version 3. */
	return n >= 2 && p[0] == 0x16 && p[1] == 0x03;
}

static __always_inline bool sniff_h2_preface(const __u8 *p, __u32 n)
{
	return n >= 4 && peek_word(p) == WORD4('P', 'R', 'I', ' ');
}

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
