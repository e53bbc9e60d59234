// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "host/procinfo.h"
#include "probes/procfilter.h"

/* No process has this pid: pid_max is at most 2^22. */
#define GONE 0x7ffffff0u

static void test_no_filter(void **state)
{
	struct procfilter_spec s = { 0 };

	(void)state;
	assert_false(procfilter_spec__on(&s));
	assert_true(procfilter_spec__match(GONE, &s));
}

/* The pid list is judged without /proc: a pid not listed is out even if it is gone. */
static void test_pids(void **state)
{
	uint32_t pids[] = { 7, getpid() };
	struct procfilter_spec s = { .pids = pids, .npids = 2 };

	(void)state;
	assert_true(procfilter_spec__on(&s));
	assert_true(procfilter_spec__match(getpid(), &s));
	assert_true(procfilter_spec__match(7, &s));
	assert_false(procfilter_spec__match(8, &s));
	s.npids = 1;
	assert_false(procfilter_spec__match(getpid(), &s));
}

static void test_comm(void **state)
{
	struct procfilter_spec s = { 0 };
	struct procinfo pi;

	(void)state;
	assert_int_equal(procinfo__read(NULL, getpid(), &pi), 0);
	s.comm = pi.comm;
	assert_true(procfilter_spec__on(&s));
	assert_true(procfilter_spec__match(getpid(), &s));
	/* A process gone cannot be shown to match. */
	assert_false(procfilter_spec__match(GONE, &s));
	s.comm = "no-such-comm";
	assert_false(procfilter_spec__match(getpid(), &s));
}

static void test_cgroup(void **state)
{
	char own[PROCINFO_CGROUP_MAX + 32], slash[sizeof(own) + 1];
	struct procfilter_spec s = { 0 };
	struct procinfo pi;

	(void)state;
	assert_int_equal(procinfo__read(NULL, getpid(), &pi), 0);
	snprintf(own, sizeof(own), "/sys/fs/cgroup%s", pi.cgroup);
	snprintf(slash, sizeof(slash), "%s/", own);
	s.cgroup = own;
	assert_true(procfilter_spec__on(&s));
	assert_true(procfilter_spec__match(getpid(), &s));
	s.cgroup = slash;
	assert_true(procfilter_spec__match(getpid(), &s));
	/* The root holds every process. */
	s.cgroup = "/sys/fs/cgroup/";
	assert_true(procfilter_spec__match(getpid(), &s));
	s.cgroup = "/sys/fs/cgroup/sloprobe-no-such-group";
	assert_false(procfilter_spec__match(getpid(), &s));
	assert_false(procfilter_spec__match(GONE, &s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_filter),
		cmocka_unit_test(test_pids),
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_cgroup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
