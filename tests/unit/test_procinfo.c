// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "host/container.h"
#include "host/proc_net.h"
#include "host/proc_tree.h"
#include "host/procinfo.h"

#define ID_A   "4f1c6e2a9b8d7c3e5a0f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f67"
#define ID_B   "0f99ad5f45163ed14ab8eaf92ed34bb4a631d007f8755a7d79be614bcb0df0ef"
#define ID_63  "4f1c6e2a9b8d7c3e5a0f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6"
#define ID_65  ID_A "0"
#define ID_UP  "4F1C6E2A9B8D7C3E5A0F1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F67"
#define POD_U  "pod5d0a0ad4-4b1b-4e5c-9d4f-0c6c5c3b2a1e"
#define POD_S  "kubepods-burstable-pod5d0a0ad4_4b1b_4e5c_9d4f_0c6c5c3b2a1e.slice"
#define NAME64 "lxc-name-0123456789-0123456789-0123456789-0123456789-0123456789Z"

#define TCP_HDR                                                                                    \
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "      \
	"timeout "                                                                                 \
	"inode                                                     \n"
#define TCP6_HDR                                                                                   \
	"  sl  local_address                         remote_address                        st "    \
	"tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
#define TCP_TAIL " 1 0000000077397b91 100 0 0 10 0                      \n"

_Static_assert(sizeof(ID_A) == 65 && sizeof(ID_B) == 65 && sizeof(ID_UP) == 65, "64 hex");
_Static_assert(sizeof(ID_63) == 64 && sizeof(NAME64) == 65, "lengths the cases rely on");

/* Input copied without a terminating NUL, so valgrind catches any read past len. */
static char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

struct cont_case {
	const char *path;
	int ret;
	const char *id;
	const char *runtime;
};

static const struct cont_case cont_cases[] = {
	{ "/docker/" ID_A, 1, ID_A, "docker" },
	{ "/system.slice/docker-" ID_A ".scope", 1, ID_A, "docker" },
	{ "/system.slice/docker-" ID_A ".scope/init.scope", 1, ID_A, "docker" },
	/* docker in docker: the innermost container wins */
	{ "/docker/" ID_A "/docker/" ID_B, 1, ID_B, "docker" },
	{ "/system.slice/docker-" ID_A ".scope/system.slice/docker-" ID_B ".scope", 1, ID_B,
	  "docker" },
	{ "/system.slice/docker.service", 0, "", "" },
	{ "/system.slice/docker-" ID_A ".scopex", 0, "", "" },
	{ "/system.slice/docker-" ID_A, 0, "", "" },
	{ "/system.slice/containerd.service", 0, "", "" },
	{ "/kubepods.slice/kubepods-besteffort.slice/" POD_S "/cri-containerd-" ID_A ".scope", 1,
	  ID_A, "containerd" },
	{ "/system.slice/containerd.service/" POD_S ":cri-containerd:" ID_B, 1, ID_B,
	  "containerd" },
	{ "/kubepods.slice/kubepods-burstable.slice/" POD_S "/crio-" ID_A ".scope", 1, ID_A,
	  "cri-o" },
	{ "/kubepods.slice/kubepods-burstable.slice/" POD_S "/crio-conmon-" ID_A ".scope", 0, "",
	  "" },
	{ "/machine.slice/libpod-" ID_A ".scope", 1, ID_A, "podman" },
	{ "/machine.slice/libpod-" ID_A ".scope/container", 1, ID_A, "podman" },
	{ "/libpod_parent/libpod-" ID_B, 1, ID_B, "podman" },
	{ "/machine.slice/libpod-conmon-" ID_A ".scope", 0, "", "" },
	{ "/kubepods/burstable/" POD_U "/" ID_A, 1, ID_A, "kubepods" },
	{ "/kubepods/" POD_U "/" ID_B, 1, ID_B, "kubepods" },
	{ "/kubepods/burstable/" POD_U, 0, "", "" },
	{ "/kubepods.slice/kubepods-burstable.slice/" POD_S "/docker-" ID_A ".scope", 1, ID_A,
	  "docker" },
	{ "/kubepods/burstable/" POD_U "/" ID_A "/docker/" ID_B, 1, ID_B, "docker" },
	{ "/lxc/web01", 1, "web01", "lxc" },
	{ "/lxc/web01/system.slice/nginx.service", 1, "web01", "lxc" },
	{ "/lxc.payload.web-01.example", 1, "web-01.example", "lxc" },
	{ "/lxc.payload.web01/system.slice/nginx.service", 1, "web01", "lxc" },
	{ "/lxc.payload/web01", 1, "web01", "lxc" },
	{ "/lxc/" NAME64, 1, NAME64, "lxc" },
	{ "/lxc/" NAME64 "x", 0, "", "" },
	{ "/lxc/web 01", 0, "", "" },
	{ "/lxc.monitor.web01", 0, "", "" },
	{ "/lxc.payload.", 0, "", "" },
	{ "/lxc", 0, "", "" },
	{ "/lxc.payload.web01/system.slice/docker-" ID_A ".scope", 1, ID_A, "docker" },
	{ "/mycontainers/" ID_A, 1, ID_A, "cgroup" },
	{ "/" ID_B, 1, ID_B, "cgroup" },
	{ "/user.slice/user-1000.slice/session-2.scope", 0, "", "" },
	{ "/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo.scope", 0, "", "" },
	{ "/", 0, "", "" },
	{ "", 0, "", "" },
	{ "/docker/" ID_63, 0, "", "" },
	{ "/system.slice/docker-" ID_63 ".scope", 0, "", "" },
	{ "/mycontainers/" ID_65, 0, "", "" },
	{ "/docker/" ID_UP, 0, "", "" },
	{ "/system.slice/docker-" ID_UP ".scope", 0, "", "" },
	{ "/docker/buildkit/t4967jvf8rbufklrhkicskyes", 0, "", "" },
};

static void test_container_table(void **state)
{
	for (size_t i = 0; i < sizeof(cont_cases) / sizeof(cont_cases[0]); i++) {
		const struct cont_case *c = &cont_cases[i];
		size_t len = strlen(c->path);
		char *p = exact(c->path, len);
		char id[PROCINFO_ID_MAX], rt[16];
		int r;

		memset(id, 'X', sizeof(id));
		memset(rt, 'X', sizeof(rt));
		r = procinfo__container_of(p, len, id, rt);
		free(p);
		if (r != c->ret || strcmp(id, c->id) || strcmp(rt, c->runtime))
			fail_msg("%s: got %d '%s' '%s', want %d '%s' '%s'", c->path, r, id, rt,
				 c->ret, c->id, c->runtime);
	}
}

static void test_container_len(void **state)
{
	const char *s = "/docker/" ID_A "/extra";
	char id[PROCINFO_ID_MAX], rt[16];

	assert_int_equal(procinfo__container_of(s, strlen("/docker/" ID_A), id, rt), 1);
	assert_string_equal(id, ID_A);
	assert_int_equal(procinfo__container_of(s, strlen("/docker/" ID_A) - 1, id, rt), 0);
	assert_string_equal(id, "");
	assert_string_equal(rt, "");
	assert_int_equal(procinfo__container_of(s, 0, id, rt), 0);
}

static void test_container_bad_args(void **state)
{
	char id[PROCINFO_ID_MAX], rt[16];

	assert_int_equal(procinfo__container_of(NULL, 3, id, rt), -EINVAL);
	assert_int_equal(procinfo__container_of("/a", 2, NULL, rt), -EINVAL);
	assert_int_equal(procinfo__container_of("/a", 2, id, NULL), -EINVAL);
}

static int parse_cg(const char *s, struct procinfo *pi)
{
	size_t len = strlen(s);
	char *p = exact(s, len);
	int r;

	memset(pi, 0, sizeof(*pi));
	r = procinfo__parse_cgroup(p, len, pi);
	free(p);
	return r;
}

static void test_cgroup_v2(void **state)
{
	struct procinfo pi;

	assert_int_equal(parse_cg("0::/system.slice/docker-" ID_A ".scope\n", &pi), 0);
	assert_string_equal(pi.cgroup, "/system.slice/docker-" ID_A ".scope");
	assert_string_equal(pi.container, ID_A);
	assert_string_equal(pi.runtime, "docker");

	assert_int_equal(parse_cg("0::/user.slice/user-1000.slice/session-3.scope", &pi), 0);
	assert_string_equal(pi.cgroup, "/user.slice/user-1000.slice/session-3.scope");
	assert_string_equal(pi.container, "");
	assert_string_equal(pi.runtime, "");

	/* a zombie whose cgroup was removed */
	assert_int_equal(parse_cg("0::/machine.slice/libpod-" ID_B ".scope (deleted)\n", &pi), 0);
	assert_string_equal(pi.cgroup, "/machine.slice/libpod-" ID_B ".scope");
	assert_string_equal(pi.container, ID_B);
	assert_string_equal(pi.runtime, "podman");
}

static void test_cgroup_hybrid(void **state)
{
	struct procinfo pi;

	/* The v2 path is the cgroup even when v1 lines name the container. */
	assert_int_equal(parse_cg("12:pids:/docker/" ID_A "\n"
				  "11:memory:/docker/" ID_A "\n"
				  "1:name=systemd:/docker/" ID_A "\n"
				  "0::/\n",
				  &pi),
			 0);
	assert_string_equal(pi.cgroup, "/");
	assert_string_equal(pi.container, ID_A);
	assert_string_equal(pi.runtime, "docker");

	/* this host's shape: nothing is a container */
	assert_int_equal(parse_cg("9:name=systemd:/\n8:pids:/\n4:memory:/process_api/"
				  "b91f37f6cae7c4839b89bf5bb6412e62\n1:cpu:/\n0::/\n",
				  &pi),
			 0);
	assert_string_equal(pi.cgroup, "/");
	assert_string_equal(pi.container, "");
	assert_string_equal(pi.runtime, "");
}

static void test_cgroup_v1(void **state)
{
	struct procinfo pi;

	assert_int_equal(
		parse_cg("12:cpuset:/a\n11:cpu,cpuacct:/b\n10:memory:/c\n9:pids:/d\n", &pi), 0);
	assert_string_equal(pi.cgroup, "/c");
	assert_int_equal(parse_cg("3:cpuset:/a\n2:pids,devices:/b\n1:name=systemd:/c\n", &pi), 0);
	assert_string_equal(pi.cgroup, "/b");
	assert_int_equal(parse_cg("3:cpuset:/a\n2:name=systemd:/c\n1:memory:/m\n", &pi), 0);
	assert_string_equal(pi.cgroup, "/c");
	/* "pidsx" is not "pids" */
	assert_int_equal(parse_cg("3:cpuset:/a\n2:pidsx:/b\n", &pi), 0);
	assert_string_equal(pi.cgroup, "/a");
	assert_string_equal(pi.container, "");

	/* containerd's slice:prefix:id path, with ':' inside the path */
	assert_int_equal(parse_cg("11:perf_event:/" POD_S ":cri-containerd:" ID_B "\n"
				  "5:pids:/system.slice/containerd.service/" POD_S
				  ":cri-containerd:" ID_B
				  "\n1:name=systemd:/kubepods.slice/kubepods-burstable.slice/" POD_S
				  "/cri-containerd-" ID_B ".scope\n",
				  &pi),
			 0);
	assert_string_equal(pi.cgroup,
			    "/system.slice/containerd.service/" POD_S ":cri-containerd:" ID_B);
	assert_string_equal(pi.container, ID_B);
	assert_string_equal(pi.runtime, "containerd");
}

static void test_cgroup_long_path(void **state)
{
	char buf[600], want[PROCINFO_CGROUP_MAX];
	struct procinfo pi;
	int n;

	n = snprintf(buf, sizeof(buf), "0::/%0300d/docker-%s.scope\n", 0, ID_A);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_int_equal(parse_cg(buf, &pi), 0);
	memcpy(want, buf + 3, sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	assert_int_equal(strlen(pi.cgroup), PROCINFO_CGROUP_MAX - 1);
	assert_string_equal(pi.cgroup, want);
	/* the id past the cut is still found */
	assert_string_equal(pi.container, ID_A);
	assert_string_equal(pi.runtime, "docker");
}

static void test_cgroup_garbage(void **state)
{
	static const char *const bad[] = {
		"", "\n", "hello\n", "x::/\n", "0:/\n", "0::\n", "0::relative\n", ":memory:/a\n",
	};
	struct procinfo pi;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&pi, 0x5a, sizeof(pi));
		if (procinfo__parse_cgroup(bad[i], strlen(bad[i]), &pi) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		/* left untouched */
		assert_int_equal((unsigned char)pi.cgroup[0], 0x5a);
	}
	assert_int_equal(parse_cg("garbage\n0::/ok\nmore garbage", &pi), 0);
	assert_string_equal(pi.cgroup, "/ok");
	assert_int_equal(procinfo__parse_cgroup(NULL, 4, &pi), -EINVAL);
	assert_int_equal(procinfo__parse_cgroup("0::/", 4, NULL), -EINVAL);
}

static int parse_st(const char *s, size_t len, struct procinfo *pi)
{
	char *p = exact(s, len);
	int r;

	memset(pi, 0, sizeof(*pi));
	r = procinfo__parse_stat(p, len, pi);
	free(p);
	return r;
}

static void test_stat_real(void **state)
{
	static const char line[] =
		"1 (process_api) S 0 0 0 0 -1 4194560 88171 3988483 0 2740 516 2689 16825 2145 10 "
		"-10 13 0 24 41230336 2801 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 1 "
		"0 0 0 0 0 0 0 0 0 0 0 0 0\n";
	struct procinfo pi;

	assert_int_equal(parse_st(line, strlen(line), &pi), 0);
	assert_int_equal(pi.pid, 1);
	assert_int_equal(pi.ppid, 0);
	assert_string_equal(pi.comm, "process_api");
	assert_int_equal(pi.start_ticks, 24);
}

static void test_stat_paren_comm(void **state)
{
	static const char line[] = "4242 (a) b (c) S 77 4242 4242 34816 4242 4194304 95 0 0 0 0 0 "
				   "0 0 20 0 1 0 987654321012 2453504 201 18446744073709551615\n";
	struct procinfo pi;

	assert_int_equal(parse_st(line, strlen(line), &pi), 0);
	assert_int_equal(pi.pid, 4242);
	assert_int_equal(pi.ppid, 77);
	assert_string_equal(pi.comm, "a) b (c");
	assert_int_equal(pi.start_ticks, 987654321012ull);

	/* ends right after field 22 */
	assert_int_equal(
		parse_st(line, strlen(line) - strlen(" 2453504 201 18446744073709551615\n"), &pi),
		0);
	assert_int_equal(pi.start_ticks, 987654321012ull);
	/* ends after field 21 */
	assert_int_equal(
		parse_st(line,
			 strlen(line) - strlen(" 987654321012 2453504 201 18446744073709551615\n"),
			 &pi),
		-EINVAL);
}

static void test_stat_long_comm(void **state)
{
	static const char line[] =
		"7 (0123456789abcdefghij) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n";
	static const char empty[] = "8 () S 1 8 8 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 6";
	struct procinfo pi;

	assert_int_equal(parse_st(line, strlen(line), &pi), 0);
	assert_string_equal(pi.comm, "0123456789abcde");
	assert_int_equal(pi.ppid, 1);
	assert_int_equal(pi.start_ticks, 5);

	assert_int_equal(parse_st(empty, strlen(empty), &pi), 0);
	assert_string_equal(pi.comm, "");
	assert_int_equal(pi.start_ticks, 6);
}

static void test_stat_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"1234",
		"12 (abc S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
		"x12 (a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n",
		"4294967296 (a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n",
		"12 (a) S 4294967296 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n",
		"12 (a) S",
		"12 (a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n",
		"12 (a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 abc\n",
		"12 (a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5\n",
		"12 (a) SS 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n",
		"12  (a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n",
		"12 (a)  S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n",
		"12 (a) S x 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n",
		"(a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n",
	};
	struct procinfo pi;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]);
		char *p = exact(bad[i], len);
		int r;

		memset(&pi, 0x5a, sizeof(pi));
		r = procinfo__parse_stat(p, len, &pi);
		free(p);
		if (r != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(pi.pid, 0x5a5a5a5a);
	}
	assert_int_equal(procinfo__parse_stat(NULL, 3, &pi), -EINVAL);
	assert_int_equal(procinfo__parse_stat("1 (a) S 0", 9, NULL), -EINVAL);
}

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

static void our_comm(char comm[16])
{
	memset(comm, 0, 16);
	assert_int_equal(prctl(PR_GET_NAME, comm), 0);
}

/* The "0::" line of /proc/self/cgroup, or "" on a v1-only host. */
static void own_v2_cgroup(char *out, size_t size)
{
	char buf[8192], *line;
	FILE *f = fopen("/proc/self/cgroup", "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	out[0] = '\0';
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, "0::", 3))
			snprintf(out, size, "%s", line + 3);
}

static void test_live_read_self(void **state)
{
	char old[16], v2[PROCINFO_CGROUP_MAX];
	struct procinfo pi;
	long hz = sysconf(_SC_CLK_TCK);
	double uptime;
	FILE *f;
	int r;

	our_comm(old);
	assert_int_equal(prctl(PR_SET_NAME, "a) b (c"), 0);
	memset(&pi, 0x5a, sizeof(pi));
	r = procinfo__read(NULL, (uint32_t)getpid(), &pi);
	assert_int_equal(prctl(PR_SET_NAME, old), 0);

	assert_int_equal(r, 0);
	assert_int_equal(pi.pid, getpid());
	assert_int_equal(pi.ppid, getppid());
	assert_string_equal(pi.comm, "a) b (c");
	f = fopen("/proc/uptime", "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lf", &uptime), 1);
	fclose(f);
	assert_true(pi.start_ticks <= (uint64_t)(uptime * hz) + 1);
	own_v2_cgroup(v2, sizeof(v2));
	if (v2[0])
		assert_string_equal(pi.cgroup, v2);
	else
		assert_int_equal(pi.cgroup[0], '/');

	/* no pid can be this large (PID_MAX_LIMIT is 2^22) */
	assert_int_equal(procinfo__read(NULL, 0x7fffffff, &pi), -ENOENT);
	assert_true(procinfo__exists(NULL, (uint32_t)getpid()));
	assert_false(procinfo__exists(NULL, 0x7fffffff));
	assert_false(procinfo__exists(NULL, 0));
	assert_int_equal(procinfo__read("/nonexistent-procroot", 1, &pi), -ENOENT);
}

static bool has_pid(const uint32_t *v, size_t n, uint32_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

static void test_live_descendants(void **state)
{
	uint32_t *all = NULL, *sub = NULL;
	size_t nall = 0, nsub = 0;
	pid_t child, grandchild = -1;
	int pfd[2], rall, rsub;

	assert_int_equal(pipe(pfd), 0);
	child = fork();
	assert_true(child >= 0);
	if (!child) {
		pid_t gc = fork();

		if (!gc)
			for (;;)
				pause();
		if (write(pfd[1], &gc, sizeof(gc)) != sizeof(gc))
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (read(pfd[0], &grandchild, sizeof(grandchild)) != sizeof(grandchild))
		grandchild = -1;
	close(pfd[0]);

	rall = procinfo__descendants(NULL, (uint32_t)getpid(), &all, &nall);
	rsub = procinfo__descendants(NULL, (uint32_t)child, &sub, &nsub);
	if (grandchild > 0)
		kill(grandchild, SIGKILL);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	assert_true(grandchild > 0);
	assert_int_equal(rall, 0);
	assert_true(nall >= 3);
	assert_int_equal(all[0], getpid());
	assert_true(has_pid(all, nall, (uint32_t)child));
	assert_true(has_pid(all, nall, (uint32_t)grandchild));
	for (size_t i = 2; i < nall; i++)
		assert_true(all[i - 1] < all[i]);
	assert_int_equal(rsub, 0);
	assert_int_equal(nsub, 2);
	assert_int_equal(sub[0], child);
	assert_int_equal(sub[1], grandchild);
	free(all);
	free(sub);

	assert_int_equal(procinfo__descendants(NULL, 0x7fffffff, &all, &nall), -ENOENT);
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

/*
 * Fixture procroot:
 *   100 "master" (ppid 1)    fds: 22222 twice, 12345, 33333 (established), /dev/null, a pipe
 *   200 "worker 1" (ppid 100) fds: 22222
 *   300 "w) (x" (ppid 200)    fds: 55555 (tcp6)
 *   400 (ppid 1) no fd dir, 500 (ppid 200) empty fd dir, 600 no stat
 *   012 and self are not processes; 44444 is a listener nobody holds.
 */
static const char fixture_tcp[] =
	TCP_HDR "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0"
		"        0 12345" TCP_TAIL
		"   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0"
		"        0 22222" TCP_TAIL
		"   2: 0100000A:2382 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000"
		"        0 44444" TCP_TAIL
		"   3: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000"
		"        0 33333 1 0000000000000000 20 4 30 10 -1\n"
		"   4: 0100007F:1F90 0100007F:D42F 06 00000000:00000000 03:00001770 00000000     0"
		"        0 0 3 0000000000000000\n";
static const char fixture_tcp6[] = TCP6_HDR
	"   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 "
	"0A 00000000:00000000 00:00000000 00000000     0        0 55555" TCP_TAIL;

static void put_dir(const char *root, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void put_file(const char *root, const char *rel, const char *content)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void put_link(const char *root, const char *rel, const char *target)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static void put_proc(const char *root, unsigned pid, const char *comm, unsigned ppid,
		     uint64_t start)
{
	char rel[64], stat[512];

	snprintf(rel, sizeof(rel), "%u", pid);
	put_dir(root, rel);
	snprintf(rel, sizeof(rel), "%u/stat", pid);
	snprintf(
		stat, sizeof(stat),
		"%u (%s) S %u %u %u 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 %" PRIu64
		" 12345678 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 "
		"0 0 0 0\n",
		pid, comm, ppid, pid, pid, start);
	put_file(root, rel, stat);
}

static int fixture_setup(void **state)
{
	char *root = strdup("/tmp/sloprobe-procinfo-XXXXXX");

	if (!root || !mkdtemp(root)) {
		free(root);
		return -1;
	}
	put_dir(root, "net");
	put_file(root, "net/tcp", fixture_tcp);
	put_file(root, "net/tcp6", fixture_tcp6);

	put_proc(root, 100, "master", 1, 1000);
	put_file(root, "100/cgroup", "0::/system.slice/docker-" ID_A ".scope\n");
	put_dir(root, "100/fd");
	put_link(root, "100/fd/3", "socket:[22222]");
	put_link(root, "100/fd/4", "socket:[12345]");
	put_link(root, "100/fd/5", "socket:[22222]");
	put_link(root, "100/fd/6", "/dev/null");
	put_link(root, "100/fd/7", "pipe:[999]");
	put_link(root, "100/fd/8", "socket:[33333]");
	put_link(root, "100/fd/9", "socket:[12345");
	put_proc(root, 200, "worker 1", 100, 2000);
	put_dir(root, "200/fd");
	put_link(root, "200/fd/3", "socket:[22222]");
	put_proc(root, 300, "w) (x", 200, 3000);
	put_dir(root, "300/fd");
	put_link(root, "300/fd/0", "socket:[55555]");
	put_proc(root, 400, "idle", 1, 4000);
	put_proc(root, 500, "empty", 200, 5000);
	put_dir(root, "500/fd");
	put_dir(root, "600");
	put_dir(root, "012");
	put_file(root, "012/stat", "12 (fake) S 100 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n");
	put_dir(root, "self");
	*state = root;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int fixture_teardown(void **state)
{
	char *root = *state;
	int r = nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(root);
	return r;
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

static void expect_desc(const char *root, uint32_t pid, const uint32_t *want, size_t nwant)
{
	uint32_t *out = NULL;
	size_t n = 0;

	assert_int_equal(procinfo__descendants(root, pid, &out, &n), 0);
	assert_int_equal(n, nwant);
	assert_memory_equal(out, want, nwant * sizeof(*want));
	free(out);
}

static void test_fixture_descendants(void **state)
{
	const char *root = *state;
	uint32_t *out = NULL;
	size_t n = 0;

	expect_desc(root, 100, (uint32_t[]){ 100, 200, 300, 500 }, 4);
	expect_desc(root, 200, (uint32_t[]){ 200, 300, 500 }, 3);
	expect_desc(root, 300, (uint32_t[]){ 300 }, 1);
	expect_desc(root, 400, (uint32_t[]){ 400 }, 1);
	assert_int_equal(procinfo__descendants(root, 1, &out, &n), -ENOENT);
	assert_int_equal(procinfo__descendants(root, 12, &out, &n), -ENOENT);
	assert_int_equal(procinfo__descendants(root, 600, &out, &n), -ENOENT);
	assert_int_equal(procinfo__descendants(root, 999, &out, &n), -ENOENT);
	assert_null(out);

	/* a forged cycle back to the root must not loop */
	put_proc(root, 1, "init", 300, 1);
	expect_desc(root, 1, (uint32_t[]){ 1, 100, 200, 300, 400, 500 }, 6);
	expect_desc(root, 100, (uint32_t[]){ 100, 1, 200, 300, 400, 500 }, 6);
}

static void test_fixture_read(void **state)
{
	const char *root = *state;
	struct procinfo pi;

	memset(&pi, 0x5a, sizeof(pi));
	assert_int_equal(procinfo__read(root, 100, &pi), 0);
	assert_int_equal(pi.pid, 100);
	assert_int_equal(pi.ppid, 1);
	assert_string_equal(pi.comm, "master");
	assert_int_equal(pi.start_ticks, 1000);
	assert_string_equal(pi.cgroup, "/system.slice/docker-" ID_A ".scope");
	assert_string_equal(pi.container, ID_A);
	assert_string_equal(pi.runtime, "docker");

	/* no cgroup file */
	memset(&pi, 0x5a, sizeof(pi));
	assert_int_equal(procinfo__read(root, 300, &pi), 0);
	assert_string_equal(pi.comm, "w) (x");
	assert_int_equal(pi.ppid, 200);
	assert_string_equal(pi.cgroup, "");
	assert_string_equal(pi.container, "");
	assert_string_equal(pi.runtime, "");

	put_file(root, "400/cgroup", "not a cgroup file\n");
	assert_int_equal(procinfo__read(root, 400, &pi), -EINVAL);
	assert_int_equal(procinfo__read(root, 600, &pi), -ENOENT);
	assert_int_equal(procinfo__read(root, 999, &pi), -ENOENT);
	assert_true(procinfo__exists(root, 100));
	assert_true(procinfo__exists(root, 600));
	assert_false(procinfo__exists(root, 999));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_table),
		cmocka_unit_test(test_container_len),
		cmocka_unit_test(test_container_bad_args),
		cmocka_unit_test(test_cgroup_v2),
		cmocka_unit_test(test_cgroup_hybrid),
		cmocka_unit_test(test_cgroup_v1),
		cmocka_unit_test(test_cgroup_long_path),
		cmocka_unit_test(test_cgroup_garbage),
		cmocka_unit_test(test_stat_real),
		cmocka_unit_test(test_stat_paren_comm),
		cmocka_unit_test(test_stat_long_comm),
		cmocka_unit_test(test_stat_garbage),
		cmocka_unit_test(test_tcp_header),
		cmocka_unit_test(test_tcp_v4),
		cmocka_unit_test(test_tcp_v6),
		cmocka_unit_test(test_tcp_garbage),
		cmocka_unit_test(test_live_read_self),
		cmocka_unit_test(test_live_descendants),
		cmocka_unit_test(test_live_listeners),
		cmocka_unit_test(test_live_clients_of),
		cmocka_unit_test_setup_teardown(test_fixture_listeners, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_fixture_descendants, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_fixture_read, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
