// SPDX-License-Identifier: GPL-2.0-only
/* Functions' code read from an ELF file: this test's own binary, against its loaded code. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/elfcode.h"

/* A function of this binary with a symbol; its first bytes hold no relocation. */
__attribute__((noinline, used)) int elfcode_target(int x)
{
	return x * 7 + 3;
}

static void test_function_code_matches_memory(void **state)
{
	struct elfcode *e = elfcode__open("/proc/self/exe");
	uint8_t code[8];

	assert_non_null(e);
	assert_int_equal(elfcode__func(e, "elfcode_target", code, sizeof(code)), 0);
	assert_memory_equal(code, (const void *)elfcode_target, sizeof(code));
	assert_int_equal(elfcode__func(e, "no_such_function_here", code, sizeof(code)), -ENOENT);
	/* More bytes than its section holds from there. */
	assert_int_not_equal(elfcode__func(e, "elfcode_target", code, (size_t)1 << 40), 0);
	elfcode__close(e);
}

static void test_not_elf(void **state)
{
	assert_null(elfcode__open("/nonexistent/libpq.so.5"));
	assert_null(elfcode__open("/proc/self/status"));
	elfcode__close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_function_code_matches_memory),
		cmocka_unit_test(test_not_elf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
