// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/units.h"

/* Each range's first value and the last one below the next range, which rounds up in print. */
static void test_ns_short(void **state)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} c[] = {
		{ 0, "0ns" },
		{ 1, "1ns" },
		{ 999, "999ns" },
		{ 1000, "1.00us" },
		{ 1234, "1.23us" },
		{ 1235, "1.24us" }, /* 1.235 is above it as a double */
		{ 9994, "9.99us" },
		{ 9999, "10.00us" },
		{ 10000, "10.0us" },
		{ 12345, "12.3us" },
		{ 999949, "999.9us" },
		{ 999999, "1000.0us" }, /* 8 characters: the only width the 7 is exceeded by */
		{ 1000000, "1.00ms" },
		{ 4560000, "4.56ms" },
		{ 9999999, "10.00ms" },
		{ 10000000, "10.0ms" },
		{ 999999999, "1000.0ms" },
		{ 1000000000, "1.00s" },
		{ 99994999999ull, "99.99s" },
		{ 99999999999ull, "100.00s" },
		{ 100000000000ull, "100s" },
		{ 123456789012ull, "123s" },
		{ UINT64_MAX, "18446744074s" },
	};
	char b[32];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_ptr_equal(units__ns_short(c[i].ns, b, sizeof(b)), b);
		assert_string_equal(b, c[i].want);
	}
	/* Cut as snprintf cuts, never overrun. */
	units__ns_short(4560000, b, 4);
	assert_string_equal(b, "4.5");
	units__ns_short(999, b, 1);
	assert_string_equal(b, "");
}

static void test_ms(void **state)
{
	static const struct {
		double ms;
		const char *want;
	} c[] = {
		{ 0, "0.000" },
		{ -0.0, "-0.000" },
		{ 0.0004, "0.000" },
		{ 0.123, "0.123" },
		{ 0.9994, "0.999" },
		{ 0.9996, "1.000" }, /* below 1: 3 decimals even when it prints as 1 */
		{ 1, "1.00" },
		{ 12.345678, "12.35" },
		{ 99.994, "99.99" },
		{ 99.996, "100.00" },
		{ 100, "100.0" },
		{ 123.45678, "123.5" },
		{ 1e6, "1000000.0" },
		{ 1e20, "100000000000000000000.0" },
		{ -0.5, "-0.500" },
		{ -1, "-1.00" },
		{ -99.5, "-99.50" },
		{ -100, "-100.0" },
		{ NAN, "-" },
		{ INFINITY, "inf" },
		{ -INFINITY, "-inf" },
	};
	char b[64];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_ptr_equal(units__ms(c[i].ms, b, sizeof(b)), b);
		assert_string_equal(b, c[i].want);
	}
	units__ms(123.45, b, 4);
	assert_string_equal(b, "123");
}

static void test_ms_label(void **state)
{
	static const struct {
		double ms;
		const char *want;
	} c[] = {
		{ 0, "0" },
		{ -0.0, "0" },
		{ 0.0000001, "0.0001 \xc2\xb5s" },
		{ 0.001, "1 \xc2\xb5s" },
		{ 0.5, "500 \xc2\xb5s" },
		{ 0.9999999, "1000 \xc2\xb5s" }, /* %g keeps 6 digits: rounds, stays in µs */
		{ 1, "1 ms" },
		{ 20, "20 ms" },
		{ 999.9, "999.9 ms" },
		{ 1000, "1 s" },
		{ 1234.5678, "1.23457 s" },
		{ 1500, "1.5 s" },
		{ 1e6, "1000 s" },
		{ 1e9, "1e+06 s" },
		{ -0.5, "-500 \xc2\xb5s" },
		{ -20, "-20 ms" },
		{ -1500, "-1.5 s" },
		{ NAN, "n/a" },
		{ INFINITY, "n/a" },
		{ -INFINITY, "n/a" },
	};
	char b[32];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_ptr_equal(units__ms_label(c[i].ms, b, sizeof(b)), b);
		assert_string_equal(b, c[i].want);
	}
	units__ms_label(0.5, b, 5);
	assert_string_equal(b, "500 ");
}

/* Exact: the largest unit the value reaches, every digit it needs, and the return of snprintf. */
static void test_ns_exact(void **state)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} c[] = {
		{ 0, "0 ms" },
		{ 1, "1 ns" },
		{ 20, "20 ns" },
		{ 999, "999 ns" },
		{ 1000, "1 us" },
		{ 1001, "1.001 us" },
		{ 250000, "250 us" },
		{ 999999, "999.999 us" },
		{ 1000000, "1 ms" },
		{ 1234567, "1.234567 ms" },
		{ 1200000, "1.2 ms" },
		{ 300000000, "300 ms" },
		{ 999999999, "999.999999 ms" },
		{ 1000000000, "1 s" },
		{ 1000000001, "1.000000001 s" },
		{ 1500000000, "1.5 s" },
		{ 60000000000ull, "60 s" },
		{ UINT64_MAX, "18446744073.709551615 s" },
	};
	char b[64];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(units__ns_exact(c[i].ns, b, sizeof(b)), (int)strlen(c[i].want));
		assert_string_equal(b, c[i].want);
	}
	assert_int_equal(units__ns_exact(300000000, b, 4), 6);
	assert_string_equal(b, "300");
}

static void test_decimal(void **state)
{
	char b[64];

	assert_int_equal(units__decimal(1500000, 1000000, b, sizeof(b)), 3);
	assert_string_equal(b, "1.5");
	units__decimal(7, 1, b, sizeof(b));
	assert_string_equal(b, "7");
	units__decimal(0, 1000, b, sizeof(b));
	assert_string_equal(b, "0");
	units__decimal(5, 1000, b, sizeof(b));
	assert_string_equal(b, "0.005");
	units__decimal(999500000, 10000000, b, sizeof(b));
	assert_string_equal(b, "99.95");
	units__decimal(UINT64_MAX, 10, b, sizeof(b));
	assert_string_equal(b, "1844674407370955161.5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ns_short), cmocka_unit_test(test_ms),
		cmocka_unit_test(test_ms_label), cmocka_unit_test(test_ns_exact),
		cmocka_unit_test(test_decimal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
