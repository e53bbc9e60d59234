/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the kernel knows about saturation, per listening port and per peer: the listeners'
 * drops (accept-queue overflows and SYNs dropped, from sock_diag each interval) and TCP
 * retransmits and resets (counted in BPF, bpf/sockio/tcpsat.bpf.h), with their totals per
 * interval for the timeline. Fed totals since the start; keeps what happened during the run.
 */
#ifndef SLOPROBE_TCPSAT_H
#define SLOPROBE_TCPSAT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "abi/sockio.h"
#include "host/sockdiag.h"
#include "lib/u64map.h"

#define TCPSAT_LISTENERS_MAX 4096

struct tcpsat_peer {
	uint8_t addr[16];
	uint16_t port;
	uint8_t family, server;
	uint64_t n[SOCKIO_TCP_KIND_ALL];
};

struct tcpsat_listener {
	uint64_t inode;
	uint16_t port;
	uint8_t family;
	uint8_t addr[16];
	uint64_t base,
		drops; /* drops at the first sight (0 when it began listening during the run) */
	uint32_t queued_max, backlog;
};

/* One interval: what happened in it. */
struct tcpsat_point {
	double t;
	uint64_t drops, n[SOCKIO_TCP_KIND_NR];
};

struct tcpsat {
	struct tcpsat_peer *peers;
	unsigned npeers, cap_peers;
	struct u64map
		peer_ix; /* a hash of the row's key -> its index: each interval reads them all */
	struct tcpsat_listener *ls;
	unsigned nls, cap_ls;
	struct u64map ls_ix; /* inode -> index */
	uint64_t
		listeners_lost; /* listeners beyond TCPSAT_LISTENERS_MAX, or an allocation failed */
	bool started;		/* listeners seen from now on began during the run */
	struct tcpsat_point *points;
	unsigned npoints, cap_points;
	uint64_t points_lost;
	uint64_t last_drops, last_n[SOCKIO_TCP_KIND_NR]; /* totals at the last roll */
	uint64_t read_failed; /* intervals whose counts could not be read */
	bool has_netstat;
	uint64_t ns_overflows[2], ns_drops[2]; /* host-wide, at the start and the end */
};

/* A row of the BPF counts: k's total n since the start. */
void tcpsat__peer(struct tcpsat *t, const struct sockio_tcp_key *k, uint64_t n);
/* A listener now; before tcpsat__start, its drops so far are not the run's. */
void tcpsat__listener(struct tcpsat *t, const struct sockdiag_listener *l);
void tcpsat__start(struct tcpsat *t);
/* The interval ending at t_s (s since the start). */
void tcpsat__roll(struct tcpsat *t, double t_s);
/* Counts read since the last roll. */
bool tcpsat__pending(const struct tcpsat *t);
/* Totals of the run: the listeners' drops each counted once, as TcpExt ListenDrops does. */
uint64_t tcpsat__drops(const struct tcpsat *t);
/* What the listeners on port counted twice. */
uint64_t tcpsat__port_double(const struct tcpsat *t, uint16_t port);
uint64_t tcpsat__total(const struct tcpsat *t, enum sockio_tcp_kind k);
void tcpsat__free(struct tcpsat *t);

#endif
