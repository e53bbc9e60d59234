// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probes/bpfobj.h"

/* The ring sizes the loaders had before the library: the CLI's powers of two, the defaults. */
static void test_ring_bytes_kept(void **state)
{
	(void)state;
	assert_int_equal(bpfobj__ring_bytes(0, 16u << 20), 16u << 20);
	assert_int_equal(bpfobj__ring_bytes(0, 4u << 20), 4u << 20);
	assert_int_equal(bpfobj__ring_bytes(1u << 20, 16u << 20), 1u << 20);
	assert_int_equal(bpfobj__ring_bytes(1024u << 20, 16u << 20), 1024u << 20);
	assert_int_equal(bpfobj__ring_bytes(256 * 1024, 0), 256 * 1024);
}

/* A budget is not exceeded, and the kernel gets a power of two of whole pages. */
static void test_ring_bytes_rounded(void **state)
{
	unsigned page = sysconf(_SC_PAGESIZE);

	(void)state;
	assert_int_equal(bpfobj__ring_bytes(3u << 20, 0), 2u << 20);
	assert_int_equal(bpfobj__ring_bytes((4u << 20) - 1, 0), 2u << 20);
	assert_int_equal(bpfobj__ring_bytes((4u << 20) + 1, 0), 4u << 20);
	assert_int_equal(bpfobj__ring_bytes(1, 0), page);
	assert_int_equal(bpfobj__ring_bytes(page - 1, 0), page);
	assert_int_equal(bpfobj__ring_bytes(2 * page + 1, 0), 2 * page);
	assert_int_equal(bpfobj__ring_bytes(0xffffffffu, 0), 0x80000000u);
}

static void test_why(void **state)
{
	char err[64];

	(void)state;
	/* No libbpf warning seen: no dangling ": ". */
	bpfobj__why(err, sizeof(err), "loading BPF programs", -EPERM);
	assert_string_equal(err, "loading BPF programs: Operation not permitted");
}

/* What a loader's error path frees before its skeleton was opened. */
static void test_free_unopened(void **state)
{
	struct bpfobj b;

	(void)state;
	memset(&b, 0, sizeof(b));
	bpfobj__free(&b);
	bpfobj__free(&b);
	assert_null(b.skel);
	assert_null(b.rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_bytes_kept),
		cmocka_unit_test(test_ring_bytes_rounded),
		cmocka_unit_test(test_why),
		cmocka_unit_test(test_free_unopened),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
