/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Constants of bpf/sockio.bpf.c and its parts that vmlinux.h lacks: they are macros, and BTF
 * holds no macros. The protocol sniffing is in bpf/sockio/http.bpf.h and pgsql.bpf.h.
 */
#ifndef SLOPROBE_SOCKIO_BPF_H
#define SLOPROBE_SOCKIO_BPF_H

#define AF_INET	     2
#define AF_INET6     10
#define MSG_PEEK     2
#define EINPROGRESS  115
#define ENETUNREACH  101
#define ECONNABORTED 103
#define EHOSTUNREACH 113

#endif
