/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the running kernel has of the hooks that only newer kernels have (docs/kernels.md),
 * read off its BTF before loading: a program whose hook is missing is not loaded, and the
 * feature it serves says so, instead of the whole object failing to load.
 */
#ifndef SLOPROBE_KFEAT_H
#define SLOPROBE_KFEAT_H

#include <stdbool.h>

enum kfeat_id {
	KFEAT_SK_DATA_READY,	/* tp_btf sock:sk_data_ready: request bytes' arrival */
	KFEAT_SOCK_RECV_LENGTH, /* tp_btf sock:sock_recv_length: the read they arrived for */
	KFEAT_SOCK_SEND_LENGTH, /* tp_btf sock:sock_send_length: a pool worker hands back */
	KFEAT_RESET_NOSOCK,	/* tcp:tcp_send_reset also without a socket (refused connects) */
	KFEAT_TCP_PROBE,	/* tp_btf tcp:tcp_probe: arrival's fallback, a segment came */
	KFEAT_TCP_RCV_SPACE,	/* tp_btf tcp:tcp_rcv_space_adjust: ... and a read took it */
	KFEAT_NR
};

struct kfeat {
	bool has[KFEAT_NR];
	/* tcp_retransmit_skb has an event class of its own (6.10+), else tcp_event_sk_skb's
	 * layout: nothing is lost either way, so not a hook the report lists. */
	bool retransmit_own;
};

struct btf;

/* Fills k from a kernel's BTF (vmlinux): pure, for tests to feed a BTF of their own. */
void kfeat__probe(struct kfeat *k, const struct btf *vmlinux);
/*
 * From the running kernel's BTF. Without one (no /sys/kernel/btf/vmlinux), everything is
 * taken as present: loading then fails with libbpf's reason, as before. 0 or a negative errno.
 */
int kfeat__detect(struct kfeat *k);
/* "sk_data_ready": the hook's name, as the report's host.kernel_lacks lists it. */
const char *kfeat__name(enum kfeat_id id);
/* How request arrival is followed: the sock events, the older TCP ones, or not at all. */
enum kfeat_arrival {
	KFEAT_ARRIVAL_NONE,
	KFEAT_ARRIVAL_SOCK, /* sk_data_ready and sock_recv_length */
	KFEAT_ARRIVAL_TCP,  /* tcp_probe and tcp_rcv_space_adjust (6.1) */
};
enum kfeat_arrival kfeat__arrival(const struct kfeat *k);

#endif
