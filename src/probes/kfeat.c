// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "probes/kfeat.h"

/*
 * A raw tracepoint that tp_btf can attach to has a btf_trace_<name> typedef in vmlinux; an
 * event class's record layout is its trace_event_raw_<class> struct.
 */
static const struct {
	const char *name;
	const char *type;
	int kind;
} hooks[KFEAT_NR] = {
	[KFEAT_SK_DATA_READY] = { "sk_data_ready", "btf_trace_sk_data_ready", BTF_KIND_TYPEDEF },
	[KFEAT_SOCK_RECV_LENGTH] = { "sock_recv_length", "btf_trace_sock_recv_length",
				     BTF_KIND_TYPEDEF },
	[KFEAT_SOCK_SEND_LENGTH] = { "sock_send_length", "btf_trace_sock_send_length",
				     BTF_KIND_TYPEDEF },
	/* Its own event class since the tracepoint fires without a socket too (6.10). */
	[KFEAT_RESET_NOSOCK] = { "tcp_send_reset_nosock", "trace_event_raw_tcp_send_reset",
				 BTF_KIND_STRUCT },
	[KFEAT_TCP_PROBE] = { "tcp_probe", "btf_trace_tcp_probe", BTF_KIND_TYPEDEF },
	[KFEAT_TCP_RCV_SPACE] = { "tcp_rcv_space_adjust", "btf_trace_tcp_rcv_space_adjust",
				  BTF_KIND_TYPEDEF },
};

void kfeat__probe(struct kfeat *k, const struct btf *vmlinux)
{
	for (int i = 0; i < KFEAT_NR; i++)
		k->has[i] = btf__find_by_name_kind(vmlinux, hooks[i].type, hooks[i].kind) > 0;
	k->retransmit_own = btf__find_by_name_kind(vmlinux, "trace_event_raw_tcp_retransmit_skb",
						   BTF_KIND_STRUCT) > 0;
}

int kfeat__detect(struct kfeat *k)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int err = libbpf_get_error(btf);

	if (err) {
		for (int i = 0; i < KFEAT_NR; i++)
			k->has[i] = true;
		k->retransmit_own = true;
		return err;
	}
	kfeat__probe(k, btf);
	btf__free(btf);
	return 0;
}

const char *kfeat__name(enum kfeat_id id)
{
	return id >= 0 && id < KFEAT_NR ? hooks[id].name : "?";
}

enum kfeat_arrival kfeat__arrival(const struct kfeat *k)
{
	if (k->has[KFEAT_SK_DATA_READY] && k->has[KFEAT_SOCK_RECV_LENGTH])
		return KFEAT_ARRIVAL_SOCK;
	if (k->has[KFEAT_TCP_PROBE] && k->has[KFEAT_TCP_RCV_SPACE])
		return KFEAT_ARRIVAL_TCP;
	return KFEAT_ARRIVAL_NONE;
}
