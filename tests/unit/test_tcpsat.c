// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include "record/tcpsat.h"

static struct sockio_tcp_key key(uint16_t port, uint8_t server, uint8_t kind, uint8_t last)
{
	struct sockio_tcp_key k = { .port = port, .family = 2, .server = server, .kind = kind };

	k.addr[0] = 127, k.addr[3] = last;
	return k;
}

static struct sockdiag_listener lis(uint64_t ino, uint16_t port, uint64_t drops, uint32_t q)
{
	return (struct sockdiag_listener){
		.inode = ino, .port = port, .family = 2, .drops = drops, .queued = q, .backlog = 1
	};
}

/* Drops before the start are not the run's; a listener born during the run counts from 0. */
static void test_listener_drops(void **state)
{
	struct tcpsat t = {};
	struct sockdiag_listener l;

	(void)state;
	l = lis(10, 8000, 40, 0);
	tcpsat__listener(&t, &l);
	tcpsat__start(&t);
	l = lis(10, 8000, 45, 2);
	tcpsat__listener(&t, &l);
	l = lis(11, 9000, 3, 1);
	tcpsat__listener(&t, &l);
	assert_int_equal(t.nls, 2);
	assert_int_equal(t.ls[0].drops, 5);
	assert_int_equal(t.ls[0].queued_max, 2);
	assert_int_equal(t.ls[1].drops, 3);
	assert_int_equal(tcpsat__drops(&t), 8);
	tcpsat__free(&t);
}

/* A handshake ACK dropped for a full queue is two of the listener's drops, one overflow. */
static void test_double_counted_acks(void **state)
{
	struct tcpsat t = {};
	struct sockio_tcp_key k = key(8000, 1, SOCKIO_TCP_ACK_OVERFLOW, 0);
	struct sockdiag_listener l = lis(10, 8000, 0, 0);

	(void)state;
	tcpsat__listener(&t, &l);
	tcpsat__start(&t);
	l.drops = 12;
	tcpsat__listener(&t, &l);
	tcpsat__peer(&t, &k, 3);
	assert_int_equal(tcpsat__port_double(&t, 8000), 3);
	assert_int_equal(tcpsat__port_double(&t, 8001), 0);
	assert_int_equal(tcpsat__drops(&t), 9);
	tcpsat__free(&t);
}

/* Peers keep totals; each interval gets what happened in it. */
static void test_roll(void **state)
{
	struct tcpsat t = {};
	struct sockio_tcp_key a = key(8000, 1, SOCKIO_TCP_RST_SENT, 1);
	struct sockio_tcp_key b = key(8000, 0, SOCKIO_TCP_SYN_RETRANS, 1);
	struct sockio_tcp_key c = key(8000, 1, SOCKIO_TCP_RETRANS, 1);
	struct sockdiag_listener l = lis(10, 8000, 0, 0);

	(void)state;
	tcpsat__start(&t);
	tcpsat__peer(&t, &a, 2);
	assert_true(tcpsat__pending(&t));
	tcpsat__roll(&t, 1);
	assert_false(tcpsat__pending(&t));
	tcpsat__peer(&t, &a, 5);
	tcpsat__peer(&t, &b, 4);
	tcpsat__peer(&t, &c, 1);
	l.drops = 7;
	tcpsat__listener(&t, &l);
	tcpsat__roll(&t, 2);
	tcpsat__roll(&t, 2.5);
	assert_int_equal(t.npeers, 2); /* a and c: one server row for the same peer and port */
	assert_int_equal(t.peers[0].n[SOCKIO_TCP_RST_SENT], 5);
	assert_int_equal(t.peers[0].n[SOCKIO_TCP_RETRANS], 1);
	assert_int_equal(t.peers[1].n[SOCKIO_TCP_SYN_RETRANS], 4);
	assert_int_equal(t.npoints, 3);
	assert_int_equal(t.points[0].n[SOCKIO_TCP_RST_SENT], 2);
	assert_int_equal(t.points[1].n[SOCKIO_TCP_RST_SENT], 3);
	assert_int_equal(t.points[1].n[SOCKIO_TCP_SYN_RETRANS], 4);
	assert_int_equal(t.points[1].drops, 7);
	assert_int_equal(t.points[2].drops, 0);
	assert_int_equal(t.points[2].n[SOCKIO_TCP_RST_SENT], 0);
	assert_true(t.points[2].t == 2.5);
	tcpsat__free(&t);
}

struct seen {
	struct sockdiag_listener l;
	int n;
};

static void fn(void *ctx, const struct sockdiag_listener *l)
{
	struct seen *got = ctx;

	got->l = *l;
	got->n++;
}

/* Many peers and listeners, each seen every interval: one row each, the last totals kept. */
static void test_many_rows(void **state)
{
	struct tcpsat t = {};

	(void)state;
	tcpsat__start(&t);
	for (int round = 1; round <= 3; round++)
		for (int i = 0; i < 600; i++) {
			struct sockio_tcp_key k = key(8000 + i % 3, i & 1, SOCKIO_TCP_RETRANS, 0);
			struct sockdiag_listener l = lis(1000 + i, 9000, round * i, 0);

			k.addr[2] = (uint8_t)(i / 3);
			tcpsat__peer(&t, &k, round * 10 + i);
			tcpsat__listener(&t, &l);
		}
	assert_int_equal(t.npeers, 600);
	assert_int_equal(t.nls, 600);
	assert_int_equal(t.peers[599].n[SOCKIO_TCP_RETRANS], 30 + 599);
	assert_int_equal(t.peers[599].port, 8000 + 599 % 3);
	assert_int_equal(t.ls[599].drops, 3 * 599);
	assert_int_equal(tcpsat__total(&t, SOCKIO_TCP_RETRANS), 600 * 30 + 599 * 600 / 2);
	assert_int_equal(t.listeners_lost, 0);
	tcpsat__free(&t);
}

/* One netlink answer: a listener with its meminfo, then the end of the dump. */
static void test_sockdiag_parse(void **state)
{
	_Alignas(struct nlmsghdr) unsigned char buf[512] = { 0 };
	struct nlmsghdr *h = (void *)buf, *done;
	struct inet_diag_msg *m = NLMSG_DATA(h);
	struct rtattr *a = (void *)((char *)m + NLMSG_ALIGN(sizeof(*m)));
	uint32_t *mem = RTA_DATA(a);
	struct seen got = { .n = 0 };

	(void)state;
	a->rta_type = INET_DIAG_SKMEMINFO;
	a->rta_len = RTA_LENGTH(SK_MEMINFO_VARS * sizeof(uint32_t));
	mem[SK_MEMINFO_DROPS] = 20;
	m->idiag_family = AF_INET;
	m->id.idiag_sport = htons(18903);
	m->idiag_inode = 77;
	m->idiag_rqueue = 2;
	m->idiag_wqueue = 1;
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h->nlmsg_len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m)) + a->rta_len);
	assert_int_equal(sockdiag__parse(buf, NLMSG_ALIGN(h->nlmsg_len), fn, &got), 1);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.l.port, 18903);
	assert_int_equal(got.l.drops, 20);
	assert_int_equal(got.l.queued, 2);
	assert_int_equal(got.l.backlog, 1);
	assert_int_equal(got.l.inode, 77);
	done = (void *)(buf + NLMSG_ALIGN(h->nlmsg_len));
	done->nlmsg_type = NLMSG_DONE;
	done->nlmsg_len = NLMSG_LENGTH(4);
	assert_int_equal(
		sockdiag__parse(buf, NLMSG_ALIGN(h->nlmsg_len) + done->nlmsg_len, fn, &got), 0);
	assert_int_equal(got.n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listener_drops), cmocka_unit_test(test_double_counted_acks),
		cmocka_unit_test(test_roll),	       cmocka_unit_test(test_many_rows),
		cmocka_unit_test(test_sockdiag_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
