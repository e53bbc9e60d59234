// SPDX-License-Identifier: GPL-2.0-only
/* /proc/PID/maps lines and the reader, on real lines and a fixture procroot. */
#include "host_test.h"

#include <errno.h>

#include "host/proc_maps.h"

#define SSL_LINE                                                                                   \
	"7f169d19f000-7f169d272000 r-xp 0001c000 08:01 1316221                    "                \
	"/usr/lib/x86_64-linux-gnu/libssl.so.3"

static void test_parse_line(void **state)
{
	static const char sp[] = "5558f6515000-5558f6525000 r-xp 00002000 fd:10 42 "
				 "/opt/my app/bin (deleted)\n";
	struct proc_map m = { 0 };
	char *p;

	p = exact(SSL_LINE, strlen(SSL_LINE));
	assert_int_equal(proc_maps__parse_line(p, strlen(SSL_LINE), &m), 0);
	assert_int_equal(m.start, 0x7f169d19f000ull);
	assert_int_equal(m.end, 0x7f169d272000ull);
	assert_int_equal(m.dev, (uint64_t)8 << 32 | 1);
	assert_int_equal(m.ino, 1316221);
	assert_true(m.exec);
	assert_int_equal(m.path_len, strlen("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
	assert_memory_equal(m.path, "/usr/lib/x86_64-linux-gnu/libssl.so.3", m.path_len);
	free(p);
	/* Spaces in a path, the newline left out; hex device numbers. */
	p = exact(sp, sizeof(sp) - 1);
	assert_int_equal(proc_maps__parse_line(p, sizeof(sp) - 1, &m), 0);
	assert_int_equal(m.dev, (uint64_t)0xfd << 32 | 0x10);
	assert_int_equal(m.path_len, strlen("/opt/my app/bin (deleted)"));
	free(p);
}

static void test_parse_line_no_file(void **state)
{
	static const char *const none[] = {
		"7ffd1c3e6000-7ffd1c407000 rw-p 00000000 00:00 0                          [stack]",
		"7f169d000000-7f169d021000 rw-p 00000000 00:00 0 ",
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]",
	};
	static const char *const bad[] = {
		"",
		"7f169d19f000 r-xp 0001c000 08:01 1316221 /lib/x.so",
		"7f169d19f000-7f169d272000 r-x 0001c000 08:01 1316221 /lib/x.so",
		"7f169d19f000-7f169d272000 r-xp 0001c000 0801 1316221 /lib/x.so",
		"7f169d19f000-7f169d272000 r-xp 0001c000 08:01 13x6221 /lib/x.so",
		"7f169d19f000-7f169d272000 r-xp zz 08:01 1 /lib/x.so",
		"g0-10 r-xp 0 08:01 1 /lib/x.so",
	};
	struct proc_map m = { 0 };

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		char *p = exact(none[i], strlen(none[i]));

		assert_int_equal(proc_maps__parse_line(p, strlen(none[i]), &m), -ENOENT);
		free(p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *p = exact(bad[i], strlen(bad[i]));

		assert_int_equal(proc_maps__parse_line(p, strlen(bad[i]), &m), -EINVAL);
		free(p);
	}
	/* Not executable: parsed, exec false. */
	assert_int_equal(proc_maps__parse_line("1-2 r--p 0 08:01 7 /lib/x.so", 28, &m), 0);
	assert_false(m.exec);
}

struct seen {
	int n;
	char paths[4][128];
	bool exec[4];
};

static int collect(void *ctx, const struct proc_map *m)
{
	struct seen *s = ctx;

	assert_int_equal(strlen(m->path), m->path_len); /* NUL-terminated by the reader */
	if (s->n >= 4)
		return 7;
	snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", m->path);
	s->exec[s->n++] = m->exec;
	return 0;
}

static void test_reader(void **state)
{
	char root[] = "/tmp/sloprobe-maps-XXXXXX";
	struct seen s = { 0 };
	uint64_t a, b;

	assert_non_null(mkdtemp(root));
	put_proc(root, 42, "nginx", 1, 1000);
	/* The last line has no newline: its path still ends where the file does. */
	put_file(root, "42/maps",
		 "55d1c867f000-55d1c8685000 r--p 00000000 08:01 100 /usr/sbin/nginx\n"
		 "55d1c8685000-55d1c8700000 r-xp 00006000 08:01 100 /usr/sbin/nginx\n"
		 "7ffd1c3e6000-7ffd1c407000 rw-p 00000000 00:00 0 [stack]\n"
		 "not a line\n" SSL_LINE);
	assert_int_equal(proc_maps__each(root, 42, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.paths[0], "/usr/sbin/nginx");
	assert_false(s.exec[0]);
	assert_true(s.exec[1]);
	assert_string_equal(s.paths[2], "/usr/lib/x86_64-linux-gnu/libssl.so.3");
	assert_int_equal(proc_maps__each(root, 43, collect, &s), -ENOENT);

	/* The stamp moves with the start time or the size of the mappings; 0: gone. */
	a = proc_maps__stamp(root, 42);
	assert_int_not_equal(a, 0);
	assert_int_equal(proc_maps__stamp(root, 42), a);
	put_file(root, "42/stat", "42 (a) b) S 1 42 42 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 1000 "
				  "99999 300 0\n");
	b = proc_maps__stamp(root, 42);
	assert_int_not_equal(b, 0);
	assert_int_not_equal(b, a);
	assert_int_equal(proc_maps__stamp(root, 43), 0);
	put_file(root, "42/stat", "42 (x) S 1\n");
	assert_int_equal(proc_maps__stamp(root, 42), 0);
	fixture_teardown((void **)&(char *){ strdup(root) });
}

/* A callback's non-zero answer stops the walk and is returned. */
static void test_reader_stops(void **state)
{
	char root[] = "/tmp/sloprobe-maps-XXXXXX";
	struct seen s = { .n = 4 };

	assert_non_null(mkdtemp(root));
	put_proc(root, 7, "x", 1, 1);
	put_file(root, "7/maps", SSL_LINE "\n" SSL_LINE "\n");
	assert_int_equal(proc_maps__each(root, 7, collect, &s), 7);
	fixture_teardown((void **)&(char *){ strdup(root) });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_parse_line_no_file),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_reader_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
