// SPDX-License-Identifier: GPL-2.0-only
/* The x86-64 code a uprobe loader reads, on the byte sequences of real libpq builds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/x86code.h"

/* PQresultStatus (Debian 12's libpq 15): endbr64; test %rdi,%rdi; je; mov 0x28(%rdi),%eax. */
static void test_result_status_offset(void **state)
{
	static const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0x74,
					0x04, 0x8b, 0x47, 0x28, 0xc3, 0x90, 0x90, 0x90 };

	assert_int_equal(x86code__rdi_disp(code, sizeof(code), 0, 0x8b), 40);
	/* The same load behind a REX prefix is a 64-bit one: not what was asked for. */
	assert_int_equal(x86code__rdi_disp(code, sizeof(code), 0x48, 0x8b), -1);
}

/* A REX.W load: mov 0xa8(%rdi),%rax with a 32-bit displacement; lea 0x2c(%rdi),%rax. */
static void test_rex_and_disp32(void **state)
{
	static const uint8_t ef[] = { 0x48, 0x8b, 0x87, 0xa8, 0x00, 0x00, 0x00, 0xc3 };
	static const uint8_t cmd[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8d,
				       0x47, 0x2c, 0xc3, 0x90, 0x90 };

	assert_int_equal(x86code__rdi_disp(ef, sizeof(ef), 0x48, 0x8b), 168);
	/* Without the REX asked for, the REX-prefixed load is skipped. */
	assert_int_equal(x86code__rdi_disp(ef, sizeof(ef), 0, 0x8b), -1);
	assert_int_equal(x86code__rdi_disp(cmd, sizeof(cmd), 0x48, 0x8d), 44);
	/* A base other than %rdi (ModRM 0x46: %rsi) is not it. */
	assert_int_equal(
		x86code__rdi_disp((const uint8_t[]){ 0x8b, 0x46, 0x28, 0, 0, 0, 0 }, 7, 0, 0x8b),
		-1);
	/* Too short to hold the longest form: nothing is read past n. */
	assert_int_equal(x86code__rdi_disp(ef, 6, 0x48, 0x8b), -1);
}

/*
 * PQsendQuery: endbr64; mov $1,%edx; jmp: the mov is skipped when the program reads 2
 * arguments (rdi, rsi), not when it reads %rdx too.
 */
static void test_probe_offset(void **state)
{
	static const uint8_t send[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xba, 0x01, 0x00, 0x00,
					0x00, 0xe9, 0x10, 0x20, 0x00, 0x00, 0x90, 0x90 };
	static const uint8_t plain[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5,
					 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90 };
	static const uint8_t noendbr[] = { 0xbe, 0x01, 0, 0, 0, 0xeb, 0x10 };

	assert_int_equal(x86code__probe_offset(send, sizeof(send), 2), 9);
	assert_int_equal(x86code__probe_offset(send, sizeof(send), 3), 4);
	assert_int_equal(x86code__probe_offset(plain, sizeof(plain), 1), 4);
	/* mov $1,%esi; jmp short: %rsi is the second argument. */
	assert_int_equal(x86code__probe_offset(noendbr, sizeof(noendbr), 1), 5);
	assert_int_equal(x86code__probe_offset(noendbr, sizeof(noendbr), 2), 0);
	/* The jump would lie past the bytes given: stay at the entry. */
	assert_int_equal(x86code__probe_offset(send, 9, 2), 4);
	assert_int_equal(x86code__probe_offset(send, 3, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_status_offset),
		cmocka_unit_test(test_rex_and_disp32),
		cmocka_unit_test(test_probe_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
