/* SPDX-License-Identifier: GPL-2.0-only */
/* Loader for bpf/sockio.bpf.c: filters, map sizes, attach, ring buffer. */
#ifndef SLOPROBE_SOCKIO_USER_H
#define SLOPROBE_SOCKIO_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "abi/sockio.h"
#include "probes/procfilter.h"

struct sockio_opts {
	/* Processes traced; the kernel also follows the children of those in pids. */
	struct procfilter_spec procs;
	const uint16_t *ports; /* trace only connections with this local or remote port */
	int nports;
	unsigned head_bytes;	 /* HTTP bytes captured from the start of a transfer */
	unsigned pg_write_bytes; /* PostgreSQL writes captured whole up to this; 0: default */
	unsigned pg_read_bytes;	 /* PostgreSQL reads, likewise */
	unsigned max_conns;
	unsigned max_procs;
	unsigned ringbuf_bytes;
	bool clients;  /* also follow outbound connections */
	bool outbound; /* outbound HTTP, and connects, resets and FINs of outbound TCP */
	/* ... of processes that serve nothing to ports listening here too (load generators) */
	bool outbound_all;
	bool no_arrival; /* do not follow when request bytes arrive (latency from the read) */
	bool tls;	 /* load the OpenSSL programs, for probes/tlsprobe.h to attach */
	/* The running kernel's hooks (kfeat__detect); NULL: all taken as present. */
	const struct kfeat *kfeat;
};

typedef int (*sockio_event_fn)(void *ctx, void *data, size_t size);

struct bpf_program;
struct kfeat;
struct sockio;

/* Loads, fills the filters and attaches: events flow to fn from here. 0, or a negative errno
 * and a one-line reason in err. */
int sockio__open(struct sockio **out, const struct sockio_opts *o, sockio_event_fn fn, void *ctx,
		 char *err, size_t errsz);
/* Whether a TCP port listens on this host (any process), as the kernel side knows. */
bool sockio__listening(struct sockio *s, uint16_t port);
/* Seed state for what existed before tracing started. */
int sockio__add_listen_port(struct sockio *s, uint16_t port);
/* Each row of the TCP retransmit/reset counts (totals since the start) to fn. */
typedef void (*sockio_tcp_fn)(void *ctx, const struct sockio_tcp_key *k, uint64_t n);
int sockio__tcp_peers(struct sockio *s, sockio_tcp_fn fn, void *ctx);
int sockio__add_proc(struct sockio *s, uint32_t tgid);
/* Drains the ring buffer, waiting up to timeout_ms for a wake-up first. */
int sockio__poll(struct sockio *s, int timeout_ms);
void sockio__stats(struct sockio *s, uint64_t out[SOCKIO_STAT_NR]);
/*
 * The last bytes of a data event: a transfer held whole in its head is sent without a
 * separate tail, it is the head's end. Leaves *tail alone when the event has one.
 */
void sockio__head_tail(const uint8_t *head, size_t head_len, uint64_t len, const uint8_t **tail,
		       size_t *tail_len);
/* Drop the kernel entry of a connection whose owner exited without close(). */
void sockio__forget(struct sockio *s, uint32_t tgid, uint32_t fd);
/* Stop forwarding a connection's payload: userspace decided it is not (or no longer) ours. */
void sockio__set_proto(struct sockio *s, uint32_t tgid, uint32_t fd, uint64_t conn_id,
		       uint8_t proto);
/*
 * The programs of OpenSSL's calls (bpf/sockio/tls.bpf.h), loaded with sockio_opts.tls and
 * attached by the caller to SSL_read, SSL_read_ex, SSL_write and SSL_write_ex, entry and
 * return, the cookie an enum sockio_tls_fn. -ENOENT when not loaded.
 */
int sockio__tls_progs(struct sockio *s, struct bpf_program **enter, struct bpf_program **ret);
/* The BPF program ids, for in-kernel cost accounting (kernel.bpf_stats_enabled). */
int sockio__prog_ids(struct sockio *s, uint32_t *ids, int max);
/* Sum of run_time_ns and run_cnt over our programs (non-zero only with bpf stats enabled). */
void sockio__run_stats(struct sockio *s, uint64_t *run_ns, uint64_t *run_cnt);
/* Detaches and frees; s may be NULL. */
void sockio__close(struct sockio *s);

#endif
