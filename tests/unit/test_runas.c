// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/runas.h"

static void test_lookup(void **state)
{
	struct runas u;

	(void)state;
	assert_int_equal(runas__lookup(&u, "nobody"), 0);
	assert_int_equal(u.uid, 65534);
	assert_int_equal(u.gid, 65534);
	assert_string_equal(u.name, "nobody");
	assert_string_equal(u.home, "/nonexistent");
	assert_int_equal(u.ngroups, 1);
	assert_int_equal(u.groups[0], 65534);
	runas__free(&u);
	assert_null(u.name);

	assert_int_equal(runas__lookup(&u, "65534"), 0);
	assert_string_equal(u.name, "nobody");
	runas__free(&u);
	assert_int_equal(runas__lookup(&u, "0"), 0);
	assert_int_equal(u.uid, 0);
	assert_string_equal(u.name, "root");
	runas__free(&u);

	assert_int_equal(runas__lookup(&u, "no-such-user-zz"), -ENOENT);
	assert_int_equal(runas__lookup(&u, "4000000000"), -ENOENT);
	/* (uid_t)-1 is no uid: looked up as a name. */
	assert_int_equal(runas__lookup(&u, "4294967295"), -ENOENT);
	assert_int_equal(runas__lookup(&u, ""), -ENOENT);
}

static void test_sudo(void **state)
{
	struct runas u;

	(void)state;
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	assert_int_equal(runas__sudo(&u), 0);
	if (geteuid())
		skip(); /* the variables count only for root */
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "100", 1);
	assert_int_equal(runas__sudo(&u), 1);
	assert_int_equal(u.uid, 65534);
	assert_int_equal(u.gid, 100);
	assert_string_equal(u.name, "nobody");
	runas__free(&u);
	/* Without SUDO_GID: the passwd entry's group. */
	unsetenv("SUDO_GID");
	assert_int_equal(runas__sudo(&u), 1);
	assert_int_equal(u.gid, 65534);
	runas__free(&u);
	/* A uid without a passwd entry needs SUDO_GID, and has no supplementary groups. */
	setenv("SUDO_UID", "4000000000", 1);
	assert_int_equal(runas__sudo(&u), -EINVAL);
	setenv("SUDO_GID", "4000000001", 1);
	assert_int_equal(runas__sudo(&u), 1);
	assert_int_equal(u.uid, 4000000000u);
	assert_int_equal(u.gid, 4000000001u);
	assert_null(u.name);
	assert_int_equal(u.ngroups, 0);
	runas__free(&u);
	/* sudo by root: nothing to change. */
	setenv("SUDO_UID", "0", 1);
	assert_int_equal(runas__sudo(&u), 0);
	setenv("SUDO_UID", "x", 1);
	assert_int_equal(runas__sudo(&u), -EINVAL);
	setenv("SUDO_UID", "65534", 1);
	setenv("SUDO_GID", "-1", 1);
	assert_int_equal(runas__sudo(&u), -EINVAL);
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
}

/* In a child: nobody, its groups, no capability left, no_new_privs, its HOME. */
static void test_become(void **state)
{
	struct runas u;
	int status;
	pid_t pid;

	(void)state;
	if (geteuid())
		skip();
	assert_int_equal(runas__lookup(&u, "nobody"), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		const char *step = NULL;
		gid_t g[4];
		char line[256];
		FILE *f;
		int ok = 0;

		if (runas__become(&u, &step))
			_exit(10);
		if (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534 ||
		    getegid() != 65534 || getgroups(4, g) != 1 || g[0] != 65534)
			_exit(11);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			_exit(12);
		if (strcmp(getenv("HOME"), "/nonexistent") || strcmp(getenv("USER"), "nobody") ||
		    strcmp(getenv("LOGNAME"), "nobody"))
			_exit(13);
		f = fopen("/proc/self/status", "r");
		if (!f)
			_exit(14);
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "Cap", 3) || !strncmp(line, "CapBnd", 6))
				continue;
			if (!strstr(line, ":\t0000000000000000\n"))
				_exit(15);
			ok++;
		}
		_exit(ok == 4 ? 0 : 16); /* CapInh, CapPrm, CapEff, CapAmb */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	runas__free(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_sudo),
		cmocka_unit_test(test_become),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
