// SPDX-License-Identifier: GPL-2.0-only
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/command.h"

static int wait_code(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return command__exit_code(status);
}

static void test_exit_code(void **state)
{
	char *argv[] = { "sh", "-c", "exit 3", NULL };
	char err[256] = "";
	pid_t pid;

	(void)state;
	pid = command__start(argv, false, NULL, false, err, sizeof(err));
	assert_true(pid > 0);
	assert_string_equal(err, "");
	assert_int_equal(wait_code(pid), 3);
}

/* A command that cannot be run fails the start itself, with exec's reason. */
static void test_missing(void **state)
{
	char *argv[] = { "/nonexistent/sloprobe-test", NULL };
	char err[256] = "";

	(void)state;
	assert_int_equal(command__start(argv, false, NULL, false, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/sloprobe-test: No such file or directory");
}

/* stop's TERM ends a command that keeps TERM's default: 128 + 15, as the shell says. */
static void test_stop(void **state)
{
	char *argv[] = { "sleep", "30", NULL };
	char err[256] = "";
	pid_t pid;

	(void)state;
	pid = command__start(argv, false, NULL, false, err, sizeof(err));
	assert_true(pid > 0);
	assert_int_equal(command__exit_code(command__stop(pid)), 128 + SIGTERM);
}

/* The shell has set its trap: SIGTERM in SigIgn of /proc/PID/status (waits up to 5 s). */
static bool ignores_term(pid_t pid)
{
	char path[64], line[256];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		unsigned long long ign = 0;

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "SigIgn: %llx", &ign) == 1)
				break;
		if (f)
			fclose(f);
		if (ign & (1ull << (SIGTERM - 1)))
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * One that ignores TERM gets KILL after 2 s. The shell execs sleep: a forked sleep would outlive
 * the KILL holding our stdout, and whoever reads it through a pipe (tools/mutate) would wait 30 s.
 */
static void test_stop_kill(void **state)
{
	char *argv[] = { "sh", "-c", "trap '' TERM; exec sleep 30", NULL };
	char err[256] = "";
	pid_t pid;

	(void)state;
	pid = command__start(argv, false, NULL, false, err, sizeof(err));
	assert_true(pid > 0);
	assert_true(ignores_term(pid));
	assert_int_equal(command__exit_code(command__stop(pid)), 128 + SIGKILL);
}

/* With -o - the command's standard output goes to our standard error. */
static void test_stdout_to_stderr(void **state)
{
	char *argv[] = { "sh", "-c", "echo out", NULL };
	char err[256] = "", buf[16] = "";
	int fds[2], saved;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	pid = command__start(argv, true, NULL, false, err, sizeof(err));
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	assert_true(pid > 0);
	assert_int_equal(wait_code(pid), 0);
	assert_int_equal(read(fds[0], buf, sizeof(buf) - 1), 4);
	assert_string_equal(buf, "out\n");
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_stop_kill),
		cmocka_unit_test(test_stdout_to_stderr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
