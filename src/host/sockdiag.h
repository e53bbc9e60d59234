/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Listening TCP sockets of the host and their drops, from the kernel's sock_diag netlink
 * interface (what `ss -ltm` shows as skmem d<N>): the count tcp_listendrop() raises for each
 * SYN or handshake-ending ACK the listener dropped, accept-queue overflows included. It is the
 * per-socket part of /proc/net/netstat's TcpExt ListenDrops.
 *
 * sockdiag__parse is pure (one netlink answer in a buffer), for the unit tests.
 */
#ifndef SLOPROBE_SOCKDIAG_H
#define SLOPROBE_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

struct sockdiag_listener {
	uint64_t inode;
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
	uint32_t queued;  /* the accept queue now */
	uint32_t backlog; /* its bound */
	uint64_t drops;
};

typedef void (*sockdiag_fn)(void *ctx, const struct sockdiag_listener *l);

/* Each listening TCP socket, IPv4 then IPv6, to fn. 0 or -errno. */
int sockdiag__listeners(sockdiag_fn fn, void *ctx);
/* The listeners in buf (len bytes of netlink messages). 1: more to read, 0: done, -errno. */
int sockdiag__parse(const void *buf, size_t len, sockdiag_fn fn, void *ctx);

/* TcpExt ListenOverflows and ListenDrops of /proc/net/netstat. 0 or -errno. */
int sockdiag__netstat(uint64_t *overflows, uint64_t *drops);

#endif
