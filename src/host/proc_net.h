/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TCP sockets from /proc/net/tcp{,6} and the processes holding them.
 *
 * procinfo__parse_tcp_line is a pure function over (pointer, length) input that need not be
 * NUL-terminated. The readers take a procfs root ("/proc" when NULL) so tests can point them at
 * a fixture tree.
 */
#ifndef SLOPROBE_PROC_NET_H
#define SLOPROBE_PROC_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct procinfo_sock {
	uint8_t family;	   /* 2 = AF_INET or 10 = AF_INET6 */
	uint8_t state;	   /* TCP state number as in /proc/net/tcp (0x0A = LISTEN) */
	uint8_t laddr[16]; /* network byte order; IPv4 in the first 4 bytes */
	uint8_t raddr[16];
	uint16_t lport, rport; /* host order */
	uint64_t inode;
};

/*
 * One line of /proc/net/tcp or tcp6. The kernel prints addresses as hex of the in-memory u32
 * words (little-endian words on x86: "0100007F:1F90" is 127.0.0.1:8080; tcp6 addresses are four
 * such words). A trailing newline is allowed. Returns 1 for a socket line, 0 for the header
 * line, -EINVAL for garbage (including an empty line) or bad args.
 */
int procinfo__parse_tcp_line(const char *line, size_t len, bool v6, struct procinfo_sock *s);

struct procinfo_listener {
	uint16_t port;
	uint8_t family;
	uint8_t laddr[16];
	/* one entry per (socket, pid): a socket shared by several workers yields several entries */
	uint32_t pid;
	char comm[16];
};

/*
 * Every TCP listening socket of procroot/net/tcp and tcp6 (a missing tcp6 is skipped) with the
 * processes holding it, found through procroot/[0-9]+/fd/ links to "socket:[inode]". Sockets
 * whose owner cannot be found (or whose fds we may not read) come with pid 0 and comm "".
 * Sorted by port, family, address, pid. Caller frees *out (NULL when *n is 0). 0 or -errno.
 */
int procinfo__listeners(const char *procroot, struct procinfo_listener **out, size_t *n);

/*
 * Processes holding an established TCP connection to one of rports (e.g. database clients
 * whose pooled connections predate the trace), each once, in /proc order. Caller frees *out.
 */
int procinfo__clients_of(const char *procroot, const uint16_t *rports, size_t nrports,
			 uint32_t **out, size_t *n);

#endif
