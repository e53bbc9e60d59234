/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the tests of src/host/ share: container ids and /proc/net/tcp lines, input copied
 * without a NUL, our own comm, and a fixture procroot that procinfo__read, procinfo__listeners
 * and procinfo__descendants are all run against. A header because those tests are now one
 * binary per source file; the functions are static inline because each test uses a part.
 */
#ifndef SLOPROBE_TESTS_HOST_TEST_H
#define SLOPROBE_TESTS_HOST_TEST_H

#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <cmocka.h>

#define ID_A   "4f1c6e2a9b8d7c3e5a0f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f67"
#define ID_B   "0f99ad5f45163ed14ab8eaf92ed34bb4a631d007f8755a7d79be614bcb0df0ef"
#define ID_63  "4f1c6e2a9b8d7c3e5a0f1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6"
#define ID_65  ID_A "0"
#define ID_UP  "4F1C6E2A9B8D7C3E5A0F1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F67"
#define POD_U  "pod5d0a0ad4-4b1b-4e5c-9d4f-0c6c5c3b2a1e"
#define POD_S  "kubepods-burstable-pod5d0a0ad4_4b1b_4e5c_9d4f_0c6c5c3b2a1e.slice"
#define NAME64 "lxc-name-0123456789-0123456789-0123456789-0123456789-0123456789Z"

#define TCP_HDR                                                                                    \
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "      \
	"timeout "                                                                                 \
	"inode                                                     \n"
#define TCP6_HDR                                                                                   \
	"  sl  local_address                         remote_address                        st "    \
	"tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
#define TCP_TAIL " 1 0000000077397b91 100 0 0 10 0                      \n"

_Static_assert(sizeof(ID_A) == 65 && sizeof(ID_B) == 65 && sizeof(ID_UP) == 65, "64 hex");
_Static_assert(sizeof(ID_63) == 64 && sizeof(NAME64) == 65, "lengths the cases rely on");

/* Input copied without a terminating NUL, so valgrind catches any read past len. */
static inline char *exact(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static inline void our_comm(char comm[16])
{
	memset(comm, 0, 16);
	assert_int_equal(prctl(PR_GET_NAME, comm), 0);
}

/*
 * Fixture procroot:
 *   100 "master" (ppid 1)    fds: 22222 twice, 12345, 33333 (established), /dev/null, a pipe
 *   200 "worker 1" (ppid 100) fds: 22222
 *   300 "w) (x" (ppid 200)    fds: 55555 (tcp6)
 *   400 (ppid 1) no fd dir, 500 (ppid 200) empty fd dir, 600 no stat
 *   012 and self are not processes; 44444 is a listener nobody holds.
 */
static const char fixture_tcp[] =
	TCP_HDR "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0"
		"        0 12345" TCP_TAIL
		"   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0"
		"        0 22222" TCP_TAIL
		"   2: 0100000A:2382 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000"
		"        0 44444" TCP_TAIL
		"   3: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000"
		"        0 33333 1 0000000000000000 20 4 30 10 -1\n"
		"   4: 0100007F:1F90 0100007F:D42F 06 00000000:00000000 03:00001770 00000000     0"
		"        0 0 3 0000000000000000\n";
static const char fixture_tcp6[] = TCP6_HDR
	"   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 "
	"0A 00000000:00000000 00:00000000 00000000     0        0 55555" TCP_TAIL;

static inline void put_dir(const char *root, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static inline void put_file(const char *root, const char *rel, const char *content)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static inline void put_link(const char *root, const char *rel, const char *target)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static inline void put_proc(const char *root, unsigned pid, const char *comm, unsigned ppid,
			    uint64_t start)
{
	char rel[64], stat[512];

	snprintf(rel, sizeof(rel), "%u", pid);
	put_dir(root, rel);
	snprintf(rel, sizeof(rel), "%u/stat", pid);
	snprintf(
		stat, sizeof(stat),
		"%u (%s) S %u %u %u 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 %" PRIu64
		" 12345678 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 "
		"0 0 0 0\n",
		pid, comm, ppid, pid, pid, start);
	put_file(root, rel, stat);
}

static inline int fixture_setup(void **state)
{
	char *root = strdup("/tmp/sloprobe-procinfo-XXXXXX");

	if (!root || !mkdtemp(root)) {
		free(root);
		return -1;
	}
	put_dir(root, "net");
	put_file(root, "net/tcp", fixture_tcp);
	put_file(root, "net/tcp6", fixture_tcp6);

	put_proc(root, 100, "master", 1, 1000);
	put_file(root, "100/cgroup", "0::/system.slice/docker-" ID_A ".scope\n");
	put_dir(root, "100/fd");
	put_link(root, "100/fd/3", "socket:[22222]");
	put_link(root, "100/fd/4", "socket:[12345]");
	put_link(root, "100/fd/5", "socket:[22222]");
	put_link(root, "100/fd/6", "/dev/null");
	put_link(root, "100/fd/7", "pipe:[999]");
	put_link(root, "100/fd/8", "socket:[33333]");
	put_link(root, "100/fd/9", "socket:[12345");
	put_proc(root, 200, "worker 1", 100, 2000);
	put_dir(root, "200/fd");
	put_link(root, "200/fd/3", "socket:[22222]");
	put_proc(root, 300, "w) (x", 200, 3000);
	put_dir(root, "300/fd");
	put_link(root, "300/fd/0", "socket:[55555]");
	put_proc(root, 400, "idle", 1, 4000);
	put_proc(root, 500, "empty", 200, 5000);
	put_dir(root, "500/fd");
	put_dir(root, "600");
	put_dir(root, "012");
	put_file(root, "012/stat", "12 (fake) S 100 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n");
	put_dir(root, "self");
	*state = root;
	return 0;
}

static inline int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static inline int fixture_teardown(void **state)
{
	char *root = *state;
	int r = nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(root);
	return r;
}

#endif
