// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/outfile.h"

static char dir[64];
static char err[PATH_MAX + 128];

static int setup(void **state)
{
	(void)state;
	umask(022);
	snprintf(dir, sizeof(dir), "/tmp/test_outfile.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static const char *in_dir(const char *name)
{
	static char p[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void put(const char *path, const char *s, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static const char *get(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Names in dir other than the ones given, "." and "..": the temporary files left. */
static int others(const char *a, const char *b, char *found, size_t sz)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (a && !strcmp(e->d_name, a)) || (b && !strcmp(e->d_name, b)))
			continue;
		if (found)
			snprintf(found, sz, "%s", e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_stdout(void **state)
{
	struct outfile o;

	(void)state;
	assert_int_equal(outfile__open(&o, "-", NULL, err, sizeof(err)), 0);
	assert_ptr_equal(o.f, stdout);
	assert_true(o.is_stdout);
	assert_int_equal(outfile__commit(&o, 0, err, sizeof(err)), 0);
	assert_null(o.f);
	assert_int_equal(outfile__open(&o, NULL, NULL, err, sizeof(err)), 0);
	assert_ptr_equal(o.f, stdout);
	outfile__abort(&o);
	assert_false(ferror(stdout));
}

static void test_new_file_appears_whole_at_commit(void **state)
{
	const char *path = in_dir("out.json");
	char tmp[NAME_MAX + 1];
	struct outfile o;

	(void)state;
	assert_int_equal(outfile__open(&o, path, NULL, err, sizeof(err)), 0);
	assert_false(o.is_stdout);
	/* Only the temporary file, named after the target, mode 0600 whatever the umask. */
	assert_int_equal(others(NULL, NULL, tmp, sizeof(tmp)), 1);
	assert_int_equal(strncmp(tmp, ".out.json.sloprobe-", 19), 0);
	assert_int_equal(strlen(tmp), 19 + 6);
	assert_int_equal(mode_of(in_dir(tmp)), 0600);
	assert_int_equal(access(path, F_OK), -1);
	fputs("{\"new\": 1}\n", o.f);
	assert_int_equal(outfile__commit(&o, 0, err, sizeof(err)), 0);
	assert_string_equal(get(path), "{\"new\": 1}\n");
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(others("out.json", NULL, NULL, 0), 0);
	/* A relative name: the current directory. */
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(outfile__open(&o, "rel.txt", NULL, err, sizeof(err)), 0);
	fputs("rel", o.f);
	assert_int_equal(outfile__commit(&o, 0, err, sizeof(err)), 0);
	assert_string_equal(get(in_dir("rel.txt")), "rel");
	assert_int_equal(chdir("/"), 0);
}

static void test_replace_keeps_old_until_commit_and_own_mode(void **state)
{
	const char *path = in_dir("r.txt");
	struct outfile o;
	FILE *held;

	(void)state;
	put(path, "old\n", 0640);
	held = fopen(path, "r");
	assert_non_null(held);
	assert_int_equal(outfile__open(&o, path, NULL, err, sizeof(err)), 0);
	fputs("new\n", o.f);
	fflush(o.f);
	assert_string_equal(get(path), "old\n");
	assert_int_equal(outfile__commit(&o, 0, err, sizeof(err)), 0);
	assert_string_equal(get(path), "new\n");
	/* Our own file, one name: its mode stays. */
	assert_int_equal(mode_of(path), 0640);
	/* A new inode: whoever held the old one still reads the old contents. */
	{
		char buf[16] = "";

		assert_non_null(fgets(buf, sizeof(buf), held));
		assert_string_equal(buf, "old\n");
	}
	fclose(held);
	assert_int_equal(others("r.txt", NULL, NULL, 0), 0);
}

static void test_hard_link_gets_0600(void **state)
{
	const char *path = in_dir("h.txt"), *other = in_dir("h2.txt");
	struct outfile o;

	(void)state;
	put(path, "old\n", 0644);
	assert_int_equal(link(path, other), 0);
	assert_int_equal(outfile__open(&o, path, NULL, err, sizeof(err)), 0);
	fputs("new\n", o.f);
	assert_int_equal(outfile__commit(&o, 0, err, sizeof(err)), 0);
	assert_int_equal(mode_of(path), 0600);
	assert_string_equal(get(path), "new\n");
	assert_string_equal(get(other), "old\n");
}

static void test_abort_and_writer_error_leave_target(void **state)
{
	const char *path = in_dir("a.txt");
	struct outfile o;

	(void)state;
	put(path, "old\n", 0600);
	assert_int_equal(outfile__open(&o, path, NULL, err, sizeof(err)), 0);
	fputs("half", o.f);
	outfile__abort(&o);
	assert_null(o.f);
	outfile__abort(&o); /* twice: nothing */
	assert_string_equal(get(path), "old\n");
	assert_int_equal(others("a.txt", NULL, NULL, 0), 0);

	assert_int_equal(outfile__open(&o, path, NULL, err, sizeof(err)), 0);
	fputs("half", o.f);
	assert_int_equal(outfile__commit(&o, -ENOMEM, err, sizeof(err)), -ENOMEM);
	snprintf(err + sizeof(err) / 2, sizeof(err) / 2, "%s: %s", path, strerror(ENOMEM));
	assert_string_equal(err, err + sizeof(err) / 2);
	assert_string_equal(get(path), "old\n");
	assert_int_equal(others("a.txt", NULL, NULL, 0), 0);
}

/* A write the kernel refuses (here the file size limit: EFBIG) is reported as such. */
static void test_write_error_keeps_its_errno(void **state)
{
	const char *path = in_dir("big.txt");
	struct rlimit old, lim = { .rlim_cur = 1000, .rlim_max = RLIM_INFINITY };
	struct outfile o;
	char line[100];

	(void)state;
	put(path, "old\n", 0600);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(outfile__open(&o, path, NULL, err, sizeof(err)), 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (int i = 0; i < 2000; i++)
		fputs(line, o.f);
	/* A writer that only saw stdio's error flag says -EIO: the cause wins. */
	assert_int_equal(outfile__commit(&o, -EIO, err, sizeof(err)), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_non_null(strstr(err, strerror(EFBIG)));
	assert_string_equal(get(path), "old\n");
	assert_int_equal(others("big.txt", NULL, NULL, 0), 0);
}

static void test_refusals(void **state)
{
	const char *link_to = in_dir("target"), *lnk = in_dir("lnk"), *fifo = in_dir("fifo");
	char sub[PATH_MAX];
	struct outfile o;

	(void)state;
	put(link_to, "keep\n", 0644);
	assert_int_equal(symlink(link_to, lnk), 0);
	assert_int_equal(outfile__open(&o, lnk, NULL, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, ": a symbolic link: refused"));
	assert_null(o.f);
	outfile__abort(&o);
	/* Dangling: refused too, nothing created where it points. */
	assert_int_equal(unlink(link_to), 0);
	assert_int_equal(outfile__open(&o, lnk, NULL, err, sizeof(err)), -ELOOP);
	assert_int_equal(access(link_to, F_OK), -1);

	assert_int_equal(mkfifo(fifo, 0666), 0);
	assert_int_equal(outfile__open(&o, fifo, NULL, err, sizeof(err)), -EINVAL);
	snprintf(sub, sizeof(sub), "%s: a FIFO, not a regular file: refused", fifo);
	assert_string_equal(err, sub);

	assert_int_equal(outfile__open(&o, "/dev/null", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "/dev/null: a character device, not a regular file: refused");

	assert_int_equal(outfile__open(&o, dir, NULL, err, sizeof(err)), -EISDIR);
	snprintf(sub, sizeof(sub), "%s/", dir);
	assert_int_equal(outfile__open(&o, sub, NULL, err, sizeof(err)), -EISDIR);
	snprintf(sub, sizeof(sub), "%s/..", dir);
	assert_int_equal(outfile__open(&o, sub, NULL, err, sizeof(err)), -EISDIR);

	assert_int_equal(outfile__open(&o, in_dir("no/such/dir"), NULL, err, sizeof(err)), -ENOENT);
	assert_int_equal(outfile__open(&o, "", NULL, err, sizeof(err)), -ENOENT);
	/* Nothing was created by any of these. */
	assert_int_equal(others("lnk", "fifo", NULL, 0), 0);
}

static void test_long_name(void **state)
{
	char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
	struct outfile o;

	(void)state;
	memset(name, 'n', NAME_MAX);
	name[NAME_MAX] = '\0';
	assert_int_equal(outfile__open(&o, in_dir(name), NULL, err, sizeof(err)), 0);
	assert_int_equal(others(NULL, NULL, tmp, sizeof(tmp)), 1);
	assert_int_equal(strlen(tmp), NAME_MAX);
	assert_non_null(strstr(tmp, OUTFILE_TMP_TAG));
	fputs("long", o.f);
	assert_int_equal(outfile__commit(&o, 0, err, sizeof(err)), 0);
	assert_string_equal(get(in_dir(name)), "long");
	assert_int_equal(others(name, NULL, NULL, 0), 0);
}

/* Given to the other user only where that user could have created it. */
static void test_owner(void **state)
{
	const struct outfile_owner ow = { .uid = 65534, .gid = 65534 };
	const char *closed = in_dir("closed.txt");
	struct outfile o;
	struct stat st;
	char open_dir[128], path[PATH_MAX];

	(void)state;
	if (geteuid())
		skip();
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(outfile__open(&o, closed, &ow, err, sizeof(err)), 0);
	assert_false(o.given);
	assert_int_equal(outfile__commit(&o, 0, err, sizeof(err)), 0);
	assert_int_equal(stat(closed, &st), 0);
	assert_int_equal(st.st_uid, 0);

	snprintf(open_dir, sizeof(open_dir), "%s/shared", dir);
	assert_int_equal(mkdir(open_dir, 0700), 0);
	assert_int_equal(chmod(open_dir, 01777), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/given.txt", open_dir);
	assert_int_equal(outfile__open(&o, path, &ow, err, sizeof(err)), 0);
	assert_true(o.given);
	assert_int_equal(outfile__commit(&o, 0, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 07777, 0600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdout),
		cmocka_unit_test_setup_teardown(test_new_file_appears_whole_at_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replace_keeps_old_until_commit_and_own_mode,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_link_gets_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_and_writer_error_leave_target, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_error_keeps_its_errno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
