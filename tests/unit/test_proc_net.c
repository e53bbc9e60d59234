// SPDX-License-Identifier: GPL-2.0-only
/* src/host/proc_net.c: /proc/net/tcp lines, listeners and clients with their processes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "host/proc_net.h"
#include "host_test.h"

static int parse_tcp(const char *s, bool v6, struct procinfo_sock *so)
{
	size_t len = strlen(s);
	char *p = exact(s, len);
	int r;

	memset(so, 0x5a, sizeof(*so));
	r = procinfo__parse_tcp_line(p, len, v6, so);
	free(p);
	return r;
}

static void test_tcp_header(void **state)
{
	struct procinfo_sock so;

	assert_int_equal(parse_tcp(TCP_HDR, false, &so), 0);
	assert_int_equal(parse_tcp(TCP6_HDR, true, &so), 0);
	assert_int_equal(parse_tcp(TCP6_HDR, false, &so), 0);
}

static void test_tcp_v4(void **state)
{
	static const uint8_t lo[16] = { 127, 0, 0, 1 }, any[16] = { 0 };
	struct procinfo_sock so;

	assert_int_equal(parse_tcp("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 "
				   "00:00000000 00000000     0        0 23456" TCP_TAIL,
				   false, &so),
			 1);
	assert_int_equal(so.family, 2);
	assert_int_equal(so.state, 0x0A);
	assert_memory_equal(so.laddr, lo, 16);
	assert_memory_equal(so.raddr, any, 16);
	assert_int_equal(so.lport, 8080);
	assert_int_equal(so.rport, 0);
	assert_int_equal(so.inode, 23456);

	assert_int_equal(parse_tcp("  12: 0A01A8C0:0050 6401A8C0:D431 01 00000010:00000000 "
				   "01:00000014 00000000  1000        0 4294967297 1 "
				   "0000000000000000 20 4 30 10 -1",
				   false, &so),
			 1);
	assert_int_equal(so.state, 1);
	assert_memory_equal(so.laddr, ((uint8_t[16]){ 192, 168, 1, 10 }), 16);
	assert_memory_equal(so.raddr, ((uint8_t[16]){ 192, 168, 1, 100 }), 16);
	assert_int_equal(so.lport, 80);
	assert_int_equal(so.rport, 54321);
	assert_int_equal(so.inode, 4294967297ull);

	/* TIME_WAIT sockets have no inode and fewer fields */
	assert_int_equal(parse_tcp("   3: 0100007F:1F90 0100007F:D42F 06 00000000:00000000 "
				   "03:00001770 00000000     0        0 0 3 0000000000000000\n",
				   false, &so),
			 1);
	assert_int_equal(so.state, 6);
	assert_int_equal(so.rport, 0xD42F);
	assert_int_equal(so.inode, 0);
}

static void test_tcp_v6(void **state)
{
	static const uint8_t loop6[16] = { [15] = 1 };
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
	struct procinfo_sock so;

	assert_int_equal(parse_tcp("   0: 00000000000000000000000001000000:1F90 "
				   "00000000000000000000000000000000:0000 0A 00000000:00000000 "
				   "00:00000000 00000000     0        0 45678" TCP_TAIL,
				   true, &so),
			 1);
	assert_int_equal(so.family, 10);
	assert_int_equal(so.state, 0x0A);
	assert_memory_equal(so.laddr, loop6, 16);
	assert_int_equal(so.lport, 8080);
	assert_int_equal(so.inode, 45678);

	assert_int_equal(parse_tcp("   2: 0000000000000000FFFF00000100007F:1F90 "
				   "0000000000000000ffff00000100007f:C350 01 00000000:00000000 "
				   "02:000AFC7A 00000000    33        0 56789" TCP_TAIL,
				   true, &so),
			 1);
	assert_int_equal(so.state, 1);
	assert_memory_equal(so.laddr, mapped, 16);
	assert_memory_equal(so.raddr, mapped, 16);
	assert_int_equal(so.rport, 50000);
	assert_int_equal(so.inode, 56789);
}

static void test_tcp_garbage(void **state)
{
	static const struct {
		const char *line;
		bool v6;
	} bad[] = {
		{ "", false },
		{ "   \n", false },
		{ "hello world", false },
		/* v4 line read as v6 and the other way round */
		{ "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
		  "1",
		  true },
		{ "   0: 00000000000000000000000001000000:1F90 "
		  "00000000000000000000000000000000:0000 "
		  "0A 00000000:00000000 00:00000000 00000000 0 0 1",
		  false },
		{ "   0: 0100007G:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
		  "1",
		  false },
		{ "   0: 0100007F:1F900 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 "
		  "0 1",
		  false },
		{ "   0: 0100007F-1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
		  "1",
		  false },
		{ "   0 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
		  "1",
		  false },
		{ "   x: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
		  "1",
		  false },
		{ "   0: 0100007F:1F90 00000000:0000 A 00000000:00000000 00:00000000 00000000 0 0 "
		  "1",
		  false },
		{ "   0: 0100007F:1F90 00000000:0000 0A 00000000 00:00000000 00000000 0 0 1",
		  false },
		{ "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 "
		  "x1",
		  false },
		{ "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0",
		  false },
		{ "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 -1 "
		  "0 1",
		  false },
	};
	struct procinfo_sock so;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_tcp(bad[i].line, bad[i].v6, &so) != -EINVAL)
			fail_msg("accepted '%s'", bad[i].line);
		assert_int_equal(so.inode, 0x5a5a5a5a5a5a5a5aull);
	}
	assert_int_equal(procinfo__parse_tcp_line(NULL, 4, false, &so), -EINVAL);
	assert_int_equal(procinfo__parse_tcp_line("  sl", 4, false, NULL), -EINVAL);
}

/* Entries for one listening port and family, in output order. */
static size_t find_port(const struct procinfo_listener *ls, size_t n, uint16_t port, uint8_t family,
			const struct procinfo_listener **hits, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (ls[i].port == port && ls[i].family == family && k < max)
			hits[k++] = &ls[i];
	return k;
}

/* A connection to a listener of our own: we are a client of that port, nobody else is. */
static void test_live_clients_of(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	uint32_t *pids = NULL;
	uint16_t port, other;
	size_t n = 0, mine = 0;
	int l, c, a;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	a = accept(l, NULL, NULL);
	assert_true(a >= 0);

	assert_int_equal(procinfo__clients_of(NULL, &port, 1, &pids, &n), 0);
	for (size_t i = 0; i < n; i++)
		mine += pids[i] == (uint32_t)getpid();
	assert_int_equal(mine, 1); /* once, though it holds both ends */
	free(pids);

	/* A port neither end of our connection uses: nobody here is its client. */
	sl = sizeof(sa);
	assert_int_equal(getsockname(c, (struct sockaddr *)&sa, &sl), 0);
	for (other = 1; other == port || other == ntohs(sa.sin_port); other++)
		;
	pids = NULL;
	assert_int_equal(procinfo__clients_of(NULL, &other, 1, &pids, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(pids[i], (uint32_t)getpid());
	free(pids);
	assert_int_equal(procinfo__clients_of(NULL, NULL, 0, &pids, &n), -EINVAL);
	close(a);
	close(c);
	close(l);
}

static void test_live_listeners(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	static const uint8_t lo[16] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
	const struct procinfo_listener *hits[8];
	struct procinfo_listener *ls = NULL;
	socklen_t sl = sizeof(sa), sl6 = sizeof(sa6);
	int fd, fd6, r;
	size_t n = 0, k;
	char comm[16];
	pid_t child;
	uint32_t lo_pid, hi_pid;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	/* IPv6 may be disabled on the host; then only the IPv4 part runs. */
	fd6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd6 >= 0 && (bind(fd6, (struct sockaddr *)&sa6, sizeof(sa6)) || listen(fd6, 4) ||
			 getsockname(fd6, (struct sockaddr *)&sa6, &sl6))) {
		close(fd6);
		fd6 = -1;
	}
	our_comm(comm);

	r = procinfo__listeners(NULL, &ls, &n);
	assert_int_equal(r, 0);
	k = find_port(ls, n, ntohs(sa.sin_port), 2, hits, 8);
	assert_int_equal(k, 1);
	assert_int_equal(hits[0]->family, 2);
	assert_memory_equal(hits[0]->laddr, lo, 16);
	assert_int_equal(hits[0]->pid, getpid());
	assert_string_equal(hits[0]->comm, comm);
	if (fd6 >= 0) {
		k = find_port(ls, n, ntohs(sa6.sin6_port), 10, hits, 8);
		assert_int_equal(k, 1);
		assert_int_equal(hits[0]->family, 10);
		assert_memory_equal(hits[0]->laddr, lo6, 16);
		assert_int_equal(hits[0]->pid, getpid());
		close(fd6);
	}
	free(ls);

	/* A forked worker shares the socket: one entry per holder. */
	child = fork();
	assert_true(child >= 0);
	if (!child)
		for (;;)
			pause();
	ls = NULL;
	r = procinfo__listeners(NULL, &ls, &n);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(fd);
	assert_int_equal(r, 0);
	k = find_port(ls, n, ntohs(sa.sin_port), 2, hits, 8);
	assert_int_equal(k, 2);
	lo_pid = (uint32_t)(getpid() < child ? getpid() : child);
	hi_pid = (uint32_t)(getpid() < child ? child : getpid());
	assert_int_equal(hits[0]->pid, lo_pid);
	assert_int_equal(hits[1]->pid, hi_pid);
	assert_string_equal(hits[0]->comm, comm);
	assert_string_equal(hits[1]->comm, comm);
	free(ls);
}

static void expect_listener(const struct procinfo_listener *l, uint16_t port, uint8_t family,
			    const uint8_t addr[16], uint32_t pid, const char *comm)
{
	assert_int_equal(l->port, port);
	assert_int_equal(l->family, family);
	assert_memory_equal(l->laddr, addr, 16);
	assert_int_equal(l->pid, pid);
	assert_string_equal(l->comm, comm);
}

static void test_fixture_listeners(void **state)
{
	static const uint8_t any[16] = { 0 }, lo[16] = { 127, 0, 0, 1 }, ten[16] = { 10, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	const char *root = *state;
	struct procinfo_listener *ls = NULL;
	char path[4096];
	size_t n = 0;

	assert_int_equal(procinfo__listeners(root, &ls, &n), 0);
	assert_int_equal(n, 5);
	expect_listener(&ls[0], 80, 2, any, 100, "master");
	expect_listener(&ls[1], 80, 2, any, 200, "worker 1");
	expect_listener(&ls[2], 8080, 2, lo, 100, "master");
	expect_listener(&ls[3], 8081, 10, lo6, 300, "w) (x");
	expect_listener(&ls[4], 9090, 2, ten, 0, "");
	free(ls);

	/* IPv6 disabled: no tcp6 file */
	snprintf(path, sizeof(path), "%s/net/tcp6", root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(procinfo__listeners(root, &ls, &n), 0);
	assert_int_equal(n, 4);
	expect_listener(&ls[3], 9090, 2, ten, 0, "");
	free(ls);

	/* only the header: nothing listens */
	put_file(root, "net/tcp", TCP_HDR);
	ls = (struct procinfo_listener *)path;
	assert_int_equal(procinfo__listeners(root, &ls, &n), 0);
	assert_null(ls);
	assert_int_equal(n, 0);

	snprintf(path, sizeof(path), "%s/net/tcp", root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(procinfo__listeners(root, &ls, &n), -ENOENT);
	assert_int_equal(procinfo__listeners(root, NULL, &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_header),
		cmocka_unit_test(test_tcp_v4),
		cmocka_unit_test(test_tcp_v6),
		cmocka_unit_test(test_tcp_garbage),
		cmocka_unit_test(test_live_listeners),
		cmocka_unit_test(test_live_clients_of),
		cmocka_unit_test_setup_teardown(test_fixture_listeners, fixture_setup,
						fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
