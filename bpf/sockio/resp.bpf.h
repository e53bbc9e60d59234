/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c: knowing Redis (RESP) from a client's first write. client.bpf.h
 * forwards the connection's transfers whole to the parser in userspace (src/proto/resp.c).
 */
#ifndef SLOPROBE_SOCKIO_RESP_BPF_H
#define SLOPROBE_SOCKIO_RESP_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/*
 * Every driver sends commands as RESP arrays of bulk strings: "*<n>\r\n$<len>\r\n". A
 * connection seen first in the middle of a pipeline still starts a write at a command. Inline
 * commands (telnet style) are not recognised: no driver sends them.
 */
static __always_inline bool sniff_resp(const __u8 *p, __u32 n)
{
	int i;

	if (n < 8 || p[0] != '*' || p[1] < '1' || p[1] > '9')
		return false;
	for (i = 2; i < 7; i++)
		if (p[i] < '0' || p[i] > '9')
			break;
	if (i + 2 >= n)
		return false;
	return p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '$';
}

#endif
