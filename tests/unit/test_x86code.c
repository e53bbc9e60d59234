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

/*
 * Debian 12's libssl 3.0: SSL_read_ex is sub $8,%rsp; call ssl_read_internal (0x230 bytes
 * before it); its callee starts with push %r13. Node's SSL_read_ex (push %rbp; mov %rsp,%rbp)
 * is no thin wrapper.
 */
static void test_wrapper_call(void **state)
{
	static const uint8_t read_ex[] = { 0x48, 0x83, 0xec, 0x08, 0xe8, 0xc7, 0xfd, 0xff,
					   0xff, 0x31, 0xd2, 0x85, 0xc0, 0x0f, 0x48, 0xc2 };
	static const uint8_t endbr_big[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x81, 0xec, 0x00, 0x01,
					     0x00, 0x00, 0xe8, 0x10, 0x00, 0x00, 0x00 };
	static const uint8_t node[] = { 0x55, 0x48, 0x89, 0xe5, 0x41, 0x57, 0x41, 0x56 };
	long t = 0;

	assert_true(x86code__wrapper_call(read_ex, sizeof(read_ex), &t));
	assert_int_equal(t, 0x35290 - 0x354c0);
	/* endbr64; sub $0x100,%rsp; call +0x10: past the call's 16 bytes. */
	assert_true(x86code__wrapper_call(endbr_big, sizeof(endbr_big), &t));
	assert_int_equal(t, 16 + 0x10);
	t = 7;
	assert_false(x86code__wrapper_call(node, sizeof(node), &t));
	assert_int_equal(t, 7);
	/* The call cut short: not read past n. */
	assert_false(x86code__wrapper_call(read_ex, 8, &t));
	assert_false(x86code__wrapper_call(endbr_big, 15, &t));
}

static void test_emulated(void **state)
{
	static const uint8_t push_r13[] = { 0x41, 0x55 }, push_rbp[] = { 0x55 }, nop[] = { 0x90 };
	static const uint8_t sub_rsp[] = { 0x48, 0x83, 0xec, 0x18 };
	static const uint8_t call[] = { 0xe8, 0, 0, 0, 0 }, rex_other[] = { 0x41, 0x8b };

	assert_true(x86code__emulated(push_r13, sizeof(push_r13)));
	assert_true(x86code__emulated(push_rbp, sizeof(push_rbp)));
	assert_true(x86code__emulated(nop, sizeof(nop)));
	assert_true(x86code__emulated(call, sizeof(call)));
	assert_false(x86code__emulated(sub_rsp, sizeof(sub_rsp)));
	assert_false(x86code__emulated(rex_other, sizeof(rex_other)));
	assert_false(x86code__emulated(push_r13, 1));
	assert_false(x86code__emulated(call, 4));
	assert_false(x86code__emulated(call, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_status_offset),
		cmocka_unit_test(test_rex_and_disp32),
		cmocka_unit_test(test_probe_offset),
		cmocka_unit_test(test_wrapper_call),
		cmocka_unit_test(test_emulated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
