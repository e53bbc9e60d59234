// SPDX-License-Identifier: GPL-2.0-only
/* src/host/proc_tree.c: a process and its descendants. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "host/proc_tree.h"
#include "host_test.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_descendants),
		cmocka_unit_test_setup_teardown(test_fixture_descendants, fixture_setup,
						fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
