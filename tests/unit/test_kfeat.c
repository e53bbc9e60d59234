// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/btf.h>

#include "probes/kfeat.h"

/* A BTF holding what a kernel's vmlinux would: an int, then the named types given. */
struct ty {
	const char *name;
	int kind;
};

static struct btf *make_btf(const struct ty *t, size_t n)
{
	struct btf *b = btf__new_empty();
	int int_id;

	assert_non_null(b);
	int_id = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	assert_true(int_id > 0);
	for (size_t i = 0; i < n; i++) {
		int id = t[i].kind == BTF_KIND_TYPEDEF ? btf__add_typedef(b, t[i].name, int_id)
						       : btf__add_struct(b, t[i].name, 4);

		assert_true(id > 0);
		if (t[i].kind == BTF_KIND_STRUCT)
			assert_int_equal(btf__add_field(b, "x", int_id, 0, 0), 0);
	}
	return b;
}

static void probe(struct kfeat *k, const struct ty *t, size_t n)
{
	struct btf *b = make_btf(t, n);

	memset(k, 0xa5, sizeof(*k)); /* every entry is written, none left as found */
	kfeat__probe(k, b);
	btf__free(b);
}

/* 6.18: every hook there, nothing turned off. */
static void test_new_kernel(void **state)
{
	const struct ty t[] = {
		{ "btf_trace_sk_data_ready", BTF_KIND_TYPEDEF },
		{ "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF },
		{ "btf_trace_sock_send_length", BTF_KIND_TYPEDEF },
		{ "trace_event_raw_tcp_send_reset", BTF_KIND_STRUCT },
		{ "trace_event_raw_tcp_retransmit_skb", BTF_KIND_STRUCT },
		{ "trace_event_raw_tcp_event_sk", BTF_KIND_STRUCT },
		{ "btf_trace_tcp_probe", BTF_KIND_TYPEDEF },
		{ "btf_trace_tcp_rcv_space_adjust", BTF_KIND_TYPEDEF },
	};
	struct kfeat k;

	(void)state;
	probe(&k, t, sizeof(t) / sizeof(t[0]));
	for (int i = 0; i < KFEAT_NR; i++)
		assert_true(k.has[i]);
	assert_true(k.retransmit_own);
	assert_int_equal(kfeat__arrival(&k), KFEAT_ARRIVAL_SOCK);
}

/*
 * 6.1 as its BTF is (tests/integration/test_kernel61.py boots it): the older hooks, reset's old
 * class, none of the newer ones; arrival from the TCP events. A name of the wrong kind does not
 * count: a struct is not a raw tracepoint's typedef, nor a typedef an event's record.
 */
static void test_kernel61(void **state)
{
	const struct ty t[] = {
		{ "btf_trace_tcp_receive_reset", BTF_KIND_TYPEDEF },
		{ "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF },
		{ "trace_event_raw_tcp_event_sk_skb", BTF_KIND_STRUCT },
		{ "btf_trace_sk_data_ready", BTF_KIND_STRUCT },
		{ "trace_event_raw_tcp_send_reset", BTF_KIND_TYPEDEF },
		{ "trace_event_raw_tcp_retransmit_skb", BTF_KIND_TYPEDEF },
		{ "btf_trace_tcp_probe", BTF_KIND_TYPEDEF },
		{ "btf_trace_tcp_rcv_space_adjust", BTF_KIND_TYPEDEF },
	};
	struct kfeat k;

	(void)state;
	probe(&k, t, sizeof(t) / sizeof(t[0]));
	for (int i = 0; i < KFEAT_TCP_PROBE; i++)
		assert_false(k.has[i]);
	assert_false(k.retransmit_own); /* tcp_event_sk_skb's layout: its *_old reader loads */
	assert_true(k.has[KFEAT_TCP_PROBE] && k.has[KFEAT_TCP_RCV_SPACE]);
	assert_int_equal(kfeat__arrival(&k), KFEAT_ARRIVAL_TCP);
}

/*
 * Arrival needs both hooks of a pair: one of each pair leaves latency from the read; the sock
 * pair is preferred to the TCP one.
 */
static void test_arrival_needs_a_pair(void **state)
{
	const struct ty mixed[] = { { "btf_trace_sk_data_ready", BTF_KIND_TYPEDEF },
				    { "btf_trace_tcp_rcv_space_adjust", BTF_KIND_TYPEDEF } };
	const struct ty other[] = { { "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF },
				    { "btf_trace_tcp_probe", BTF_KIND_TYPEDEF } };
	const struct ty both[] = { { "btf_trace_sk_data_ready", BTF_KIND_TYPEDEF },
				   { "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF },
				   { "btf_trace_tcp_probe", BTF_KIND_TYPEDEF },
				   { "btf_trace_tcp_rcv_space_adjust", BTF_KIND_TYPEDEF } };
	struct kfeat k;

	(void)state;
	probe(&k, mixed, 2);
	assert_true(k.has[KFEAT_SK_DATA_READY] && k.has[KFEAT_TCP_RCV_SPACE]);
	assert_false(k.has[KFEAT_SOCK_RECV_LENGTH] || k.has[KFEAT_TCP_PROBE]);
	assert_int_equal(kfeat__arrival(&k), KFEAT_ARRIVAL_NONE);
	probe(&k, other, 2);
	assert_true(k.has[KFEAT_SOCK_RECV_LENGTH] && k.has[KFEAT_TCP_PROBE]);
	assert_int_equal(kfeat__arrival(&k), KFEAT_ARRIVAL_NONE);
	assert_false(k.has[KFEAT_SOCK_SEND_LENGTH]);
	probe(&k, both, 4);
	assert_int_equal(kfeat__arrival(&k), KFEAT_ARRIVAL_SOCK);
}

/* The names are the report's (host.kernel_lacks, docs/report.schema.json's pattern). */
static void test_names(void **state)
{
	(void)state;
	assert_string_equal(kfeat__name(KFEAT_SK_DATA_READY), "sk_data_ready");
	assert_string_equal(kfeat__name(KFEAT_SOCK_RECV_LENGTH), "sock_recv_length");
	assert_string_equal(kfeat__name(KFEAT_SOCK_SEND_LENGTH), "sock_send_length");
	assert_string_equal(kfeat__name(KFEAT_RESET_NOSOCK), "tcp_send_reset_nosock");
	assert_string_equal(kfeat__name(KFEAT_TCP_PROBE), "tcp_probe");
	assert_string_equal(kfeat__name(KFEAT_TCP_RCV_SPACE), "tcp_rcv_space_adjust");
	assert_string_equal(kfeat__name(KFEAT_NR), "?");
	assert_string_equal(kfeat__name(-1), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_kernel),
		cmocka_unit_test(test_kernel61),
		cmocka_unit_test(test_arrival_needs_a_pair),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
