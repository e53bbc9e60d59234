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

#endif
