// SPDX-License-Identifier: GPL-2.0-only
/* src/host/procinfo.c: /proc/PID/cgroup and stat, parsed and read. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <cmocka.h>

#include "host/procinfo.h"
#include "host_test.h"

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
		cmocka_unit_test(test_cgroup_v2),
		cmocka_unit_test(test_cgroup_hybrid),
		cmocka_unit_test(test_cgroup_v1),
		cmocka_unit_test(test_cgroup_long_path),
		cmocka_unit_test(test_cgroup_garbage),
		cmocka_unit_test(test_stat_real),
		cmocka_unit_test(test_stat_paren_comm),
		cmocka_unit_test(test_stat_long_comm),
		cmocka_unit_test(test_stat_garbage),
		cmocka_unit_test(test_live_read_self),
		cmocka_unit_test_setup_teardown(test_fixture_read, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
