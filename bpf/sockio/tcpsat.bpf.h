/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c: TCP retransmits and resets per service port and peer, the first
 * signs that a server is past its knee (segments lost to full queues, connections refused).
 *
 * Counted in a hash map, not sent as events: these tracepoints fire in softirq on every socket
 * of the host, and a count costs one lookup. A connection is keyed by its service port: the
 * local one when it listens here (this host serves), else the peer's (this host is a client),
 * so that a client's ephemeral ports never make rows. Listen-queue overflows have no
 * tracepoint that sees them all (docs/saturation.md): userspace reads each listener's drops.
 */
#ifndef SLOPROBE_SOCKIO_TCPSAT_BPF_H
#define SLOPROBE_SOCKIO_TCPSAT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

#include "abi/sockio.h"
#include "sockio.bpf.h"
#include "sockio/conn.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCKIO_TCP_PEERS_MAX);
	__type(key, struct sockio_tcp_key);
	__type(value, __u64);
} tcp_peers SEC(".maps");

/* k has its peer address and family; sport/dport are the local and the peer's port. */
static __always_inline void tcpsat__count(struct sockio_tcp_key *k, __u16 sport, __u16 dport,
					  bool server)
{
	__u64 one = 1, *n;

	if (server || bpf_map_lookup_elem(&listen_ports, &sport)) {
		k->port = sport;
		k->server = 1;
	} else {
		k->port = dport;
	}
	if (filter_port_on && !bpf_map_lookup_elem(&filter_ports, &k->port))
		return;
	n = bpf_map_lookup_elem(&tcp_peers, k);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return;
	}
	if (bpf_map_update_elem(&tcp_peers, k, &one, BPF_NOEXIST)) {
		/* Another CPU made it first, or the map is full. */
		n = bpf_map_lookup_elem(&tcp_peers, k);
		if (n)
			__sync_fetch_and_add(n, 1);
		else
			stat_inc(SOCKIO_STAT_TCP_FULL);
	}
}

/*
 * The fields of tcp_retransmit_skb and tcp_receive_reset (struct tcp_event_sk's layout). The
 * verifier refuses loads at a moved context pointer, which a copy of an array makes: read them.
 */
#define TCPSAT_KEY(k, ctx)                                                                         \
	do {                                                                                       \
		(k).family = (ctx)->family;                                                        \
		if ((ctx)->family == AF_INET6)                                                     \
			bpf_probe_read_kernel((k).addr, 16, (ctx)->daddr_v6);                      \
		else                                                                               \
			bpf_probe_read_kernel((k).addr, 4, (ctx)->daddr);                          \
	} while (0)

/*
 * Before 6.10, tcp_retransmit_skb and tcp_send_reset were both events of the class
 * tcp_event_sk_skb, a layout the vendored vmlinux.h (6.18) no longer has: this is it, matched
 * by CO-RE against the running kernel's struct of the name before "___". Its readers are
 * programs of their own, loaded only on such kernels (src/probes/sockio.c): a CO-RE
 * relocation against a struct the kernel lacks makes libbpf search the modules' BTF, which
 * needs CAP_SYS_ADMIN, and sloprobe runs with CAP_BPF + CAP_PERFMON (docs/security.md).
 */
struct trace_event_raw_tcp_event_sk_skb___k61 {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
} __attribute__((preserve_access_index));

static __always_inline int tcpsat__retransmit_old(
	struct trace_event_raw_tcp_event_sk_skb___k61 *old)
{
	struct sockio_tcp_key k = {};

	TCPSAT_KEY(k, old);
	k.kind = old->state == TCP_SYN_SENT ? SOCKIO_TCP_SYN_RETRANS : SOCKIO_TCP_RETRANS;
	tcpsat__count(&k, old->sport, old->dport, false);
	return 0;
}

/* Older kernels trace a reset only when a full socket sends it (docs/kernels.md). */
static __always_inline int tcpsat__reset_sent_old(
	struct trace_event_raw_tcp_event_sk_skb___k61 *old)
{
	struct sockio_tcp_key k = {};

	TCPSAT_KEY(k, old);
	k.kind = SOCKIO_TCP_RST_SENT;
	tcpsat__count(&k, old->sport, old->dport, false);
	return 0;
}

static __always_inline int tcpsat__retransmit(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	struct sockio_tcp_key k = {};

	TCPSAT_KEY(k, ctx);
	k.kind = ctx->state == TCP_SYN_SENT ? SOCKIO_TCP_SYN_RETRANS : SOCKIO_TCP_RETRANS;
	tcpsat__count(&k, ctx->sport, ctx->dport, false);
	return 0;
}

static __always_inline int tcpsat__reset_recv(struct trace_event_raw_tcp_event_sk *ctx)
{
	struct sockio_tcp_key k = {};

	TCPSAT_KEY(k, ctx);
	k.kind = SOCKIO_TCP_RST_RECV;
	tcpsat__count(&k, ctx->sport, ctx->dport, false);
	return 0;
}

/*
 * saddr/daddr are sockaddrs, saddr always this host's (the tracepoint reverses a packet's
 * when no socket sent the reset). No socket: nothing listens on the port, a connect refused.
 */
static __always_inline int tcpsat__reset_sent(struct trace_event_raw_tcp_send_reset *ctx)
{
	struct sockio_tcp_key k = {};
	struct sockaddr_in6 s6, d6;

	bpf_probe_read_kernel(&s6, sizeof(s6), ctx->saddr);
	bpf_probe_read_kernel(&d6, sizeof(d6), ctx->daddr);
	k.family = d6.sin6_family;
	if (k.family == AF_INET6)
		__builtin_memcpy(k.addr, &d6.sin6_addr, 16);
	else if (k.family == AF_INET)
		__builtin_memcpy(k.addr, &((struct sockaddr_in *)&d6)->sin_addr, 4);
	else
		return 0;
	k.kind = SOCKIO_TCP_RST_SENT;
	tcpsat__count(&k, bpf_ntohs(s6.sin6_port), bpf_ntohs(d6.sin6_port), !ctx->skaddr);
	return 0;
}

/*
 * Every dropped packet of the host passes here: only the reason is compared, unless the drop
 * is a handshake's last ACK that found the accept queue full (a kernel without that reason
 * never counts one). Its port is the listener's, the TCP header's destination.
 */
static __always_inline int tcpsat__kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	struct sockio_tcp_key k = { .family = AF_INET, .kind = SOCKIO_TCP_ACK_OVERFLOW };
	struct sk_buff *skb;
	__u16 dport = 0;
	__u8 *th;

	/* Kernels before drop reasons (5.17) have neither: the program stays loadable there. */
	if (!bpf_core_field_exists(ctx->reason) ||
	    !bpf_core_enum_value_exists(enum skb_drop_reason,
					SKB_DROP_REASON_TCP_LISTEN_OVERFLOW) ||
	    ctx->reason !=
		    bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_LISTEN_OVERFLOW))
		return 0;
	skb = ctx->skbaddr;
	th = BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, transport_header);
	bpf_probe_read_kernel(&dport, sizeof(dport), th + 2);
	tcpsat__count(&k, bpf_ntohs(dport), 0, true);
	return 0;
}

#endif
