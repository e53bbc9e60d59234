// SPDX-License-Identifier: GPL-2.0-only
/* src/host/container.c: the container-id grammar of cgroup paths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host/container.h"
#include "host_test.h"

struct cont_case {
	const char *path;
	int ret;
	const char *id;
	const char *runtime;
};

static const struct cont_case cont_cases[] = {
	{ "/docker/" ID_A, 1, ID_A, "docker" },
	{ "/system.slice/docker-" ID_A ".scope", 1, ID_A, "docker" },
	{ "/system.slice/docker-" ID_A ".scope/init.scope", 1, ID_A, "docker" },
	/* docker in docker: the innermost container wins */
	{ "/docker/" ID_A "/docker/" ID_B, 1, ID_B, "docker" },
	{ "/system.slice/docker-" ID_A ".scope/system.slice/docker-" ID_B ".scope", 1, ID_B,
	  "docker" },
	{ "/system.slice/docker.service", 0, "", "" },
	{ "/system.slice/docker-" ID_A ".scopex", 0, "", "" },
	{ "/system.slice/docker-" ID_A, 0, "", "" },
	{ "/system.slice/containerd.service", 0, "", "" },
	{ "/kubepods.slice/kubepods-besteffort.slice/" POD_S "/cri-containerd-" ID_A ".scope", 1,
	  ID_A, "containerd" },
	{ "/system.slice/containerd.service/" POD_S ":cri-containerd:" ID_B, 1, ID_B,
	  "containerd" },
	{ "/kubepods.slice/kubepods-burstable.slice/" POD_S "/crio-" ID_A ".scope", 1, ID_A,
	  "cri-o" },
	{ "/kubepods.slice/kubepods-burstable.slice/" POD_S "/crio-conmon-" ID_A ".scope", 0, "",
	  "" },
	{ "/machine.slice/libpod-" ID_A ".scope", 1, ID_A, "podman" },
	{ "/machine.slice/libpod-" ID_A ".scope/container", 1, ID_A, "podman" },
	{ "/libpod_parent/libpod-" ID_B, 1, ID_B, "podman" },
	{ "/machine.slice/libpod-conmon-" ID_A ".scope", 0, "", "" },
	{ "/kubepods/burstable/" POD_U "/" ID_A, 1, ID_A, "kubepods" },
	{ "/kubepods/" POD_U "/" ID_B, 1, ID_B, "kubepods" },
	{ "/kubepods/burstable/" POD_U, 0, "", "" },
	{ "/kubepods.slice/kubepods-burstable.slice/" POD_S "/docker-" ID_A ".scope", 1, ID_A,
	  "docker" },
	{ "/kubepods/burstable/" POD_U "/" ID_A "/docker/" ID_B, 1, ID_B, "docker" },
	{ "/lxc/web01", 1, "web01", "lxc" },
	{ "/lxc/web01/system.slice/nginx.service", 1, "web01", "lxc" },
	{ "/lxc.payload.web-01.example", 1, "web-01.example", "lxc" },
	{ "/lxc.payload.web01/system.slice/nginx.service", 1, "web01", "lxc" },
	{ "/lxc.payload/web01", 1, "web01", "lxc" },
	{ "/lxc/" NAME64, 1, NAME64, "lxc" },
	{ "/lxc/" NAME64 "x", 0, "", "" },
	{ "/lxc/web 01", 0, "", "" },
	{ "/lxc.monitor.web01", 0, "", "" },
	{ "/lxc.payload.", 0, "", "" },
	{ "/lxc", 0, "", "" },
	{ "/lxc.payload.web01/system.slice/docker-" ID_A ".scope", 1, ID_A, "docker" },
	{ "/mycontainers/" ID_A, 1, ID_A, "cgroup" },
	{ "/" ID_B, 1, ID_B, "cgroup" },
	{ "/user.slice/user-1000.slice/session-2.scope", 0, "", "" },
	{ "/user.slice/user-1000.slice/user@1000.service/app.slice/app-foo.scope", 0, "", "" },
	{ "/", 0, "", "" },
	{ "", 0, "", "" },
	{ "/docker/" ID_63, 0, "", "" },
	{ "/system.slice/docker-" ID_63 ".scope", 0, "", "" },
	{ "/mycontainers/" ID_65, 0, "", "" },
	{ "/docker/" ID_UP, 0, "", "" },
	{ "/system.slice/docker-" ID_UP ".scope", 0, "", "" },
	{ "/docker/buildkit/t4967jvf8rbufklrhkicskyes", 0, "", "" },
};

static void test_container_table(void **state)
{
	for (size_t i = 0; i < sizeof(cont_cases) / sizeof(cont_cases[0]); i++) {
		const struct cont_case *c = &cont_cases[i];
		size_t len = strlen(c->path);
		char *p = exact(c->path, len);
		char id[PROCINFO_ID_MAX], rt[16];
		int r;

		memset(id, 'X', sizeof(id));
		memset(rt, 'X', sizeof(rt));
		r = procinfo__container_of(p, len, id, rt);
		free(p);
		if (r != c->ret || strcmp(id, c->id) || strcmp(rt, c->runtime))
			fail_msg("%s: got %d '%s' '%s', want %d '%s' '%s'", c->path, r, id, rt,
				 c->ret, c->id, c->runtime);
	}
}

static void test_container_len(void **state)
{
	const char *s = "/docker/" ID_A "/extra";
	char id[PROCINFO_ID_MAX], rt[16];

	assert_int_equal(procinfo__container_of(s, strlen("/docker/" ID_A), id, rt), 1);
	assert_string_equal(id, ID_A);
	assert_int_equal(procinfo__container_of(s, strlen("/docker/" ID_A) - 1, id, rt), 0);
	assert_string_equal(id, "");
	assert_string_equal(rt, "");
	assert_int_equal(procinfo__container_of(s, 0, id, rt), 0);
}

static void test_container_bad_args(void **state)
{
	char id[PROCINFO_ID_MAX], rt[16];

	assert_int_equal(procinfo__container_of(NULL, 3, id, rt), -EINVAL);
	assert_int_equal(procinfo__container_of("/a", 2, NULL, rt), -EINVAL);
	assert_int_equal(procinfo__container_of("/a", 2, id, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_table),
		cmocka_unit_test(test_container_len),
		cmocka_unit_test(test_container_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
