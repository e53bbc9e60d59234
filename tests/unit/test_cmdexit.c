// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "record/cmdexit.h"

static void test_parse_and_lookup(void **state)
{
	struct cmdexit_map m = { 0 };
	char err[128];

	(void)state;
	assert_int_equal(cmdexit__parse(&m, "99=load-failed", err, sizeof(err)), 0);
	assert_int_equal(cmdexit__lookup(&m, 99), 5);
	assert_int_equal(cmdexit__lookup(&m, 98), -1);
	assert_int_equal(cmdexit__lookup(&m, 1), -1);
	/* a list, codes by number, and a status mapped again takes the last value */
	assert_int_equal(cmdexit__parse(&m, "1=ok,108=3,99=breach", err, sizeof(err)), 0);
	assert_int_equal(m.n, 3);
	assert_int_equal(cmdexit__lookup(&m, 1), 0);
	assert_int_equal(cmdexit__lookup(&m, 108), 3);
	assert_int_equal(cmdexit__lookup(&m, 99), 3);
	assert_int_equal(cmdexit__parse(&m, "255=5", err, sizeof(err)), 0);
	assert_int_equal(cmdexit__lookup(&m, 255), 5);
	assert_string_equal(cmdexit__name(5), "load-failed");
	assert_string_equal(cmdexit__name(3), "breach");
	assert_string_equal(cmdexit__name(0), "ok");
}

static void bad(const char *s, const char *why)
{
	struct cmdexit_map m = { 0 };
	char err[128];

	assert_int_equal(cmdexit__parse(&m, s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, why);
}

static void test_refused(void **state)
{
	struct cmdexit_map m = { 0 };
	char err[128], s[16];

	(void)state;
	bad("99", "'99' is not STATUS=WHAT");
	bad("", "'' is not STATUS=WHAT");
	bad("99=load-failed,", "'' is not STATUS=WHAT");
	bad("0=ok", "status '0' is not 1 to 255");
	bad("256=ok", "status '256' is not 1 to 255");
	bad("-1=ok", "status '-1' is not 1 to 255");
	bad("+9=ok", "status '+9' is not 1 to 255");
	bad("=ok", "status '' is not 1 to 255");
	bad("9x=ok", "status '9x' is not 1 to 255");
	/* only the codes a load test's verdict can mean: not 1, 2 or 4 */
	bad("99=1", "'1' is not ok, breach or load-failed");
	bad("99=4", "'4' is not ok, breach or load-failed");
	bad("99=fail", "'fail' is not ok, breach or load-failed");
	bad("99=", "'' is not ok, breach or load-failed");
	bad("99=load-failedx", "'load-failedx' is not ok, breach or load-failed");
	for (int i = 1; i <= CMDEXIT_MAX; i++) {
		snprintf(s, sizeof(s), "%d=ok", i);
		assert_int_equal(cmdexit__parse(&m, s, err, sizeof(err)), 0);
	}
	assert_int_equal(cmdexit__parse(&m, "1=breach", err, sizeof(err)), 0);
	assert_int_equal(cmdexit__parse(&m, "200=ok", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "more than 32 statuses");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_lookup),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
