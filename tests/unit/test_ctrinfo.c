// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container names: the parsers of src/host/ctrinfo.c on the shapes Docker and podman write,
 * and the resolver of src/host/ctrnames.c on a fixture data root (its API path is tested
 * against a real dockerd in tests/integration/test_docker.py).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <cmocka.h>

#include "host/ctrinfo.h"
#include "host/ctrnames.h"

#define ID "2f9cdc62323e5a1b5066298ff5dce63268a21ec0e32bdfef78459bf03838a478"

/* Trimmed from a real GET /containers/<id>/json of Docker 20.10. */
static const char inspect[] =
	"{\"Id\":\"" ID "\",\"Created\":\"2026-12-06T23:40:17Z\",\"Path\":\"/bin/sleep\","
	"\"State\":{\"Status\":\"running\",\"Pid\":10691},\"Image\":\"sha256:65d4\","
	"\"Name\":\"/api\",\"Config\":{\"Hostname\":\"x\",\"Image\":\"empty:1\","
	"\"Labels\":{\"com.docker.compose.project\":\"shop\","
	"\"com.docker.compose.service\":\"web\",\"other\":\"1\"}}}";

/* What the parser returns, with its input copied without a NUL. */
static int parse_docker(const char *s, struct ctrinfo *ci)
{
	size_t n = strlen(s);
	char *copy = malloc(n ? n : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, s, n);
	r = ctrinfo__parse_docker(copy, n, ci);
	free(copy);
	return r;
}

static void test_docker_inspect(void **state)
{
	struct ctrinfo ci;

	assert_int_equal(parse_docker(inspect, &ci), 0);
	assert_string_equal(ci.name, "api");
	assert_string_equal(ci.image, "empty:1");
	assert_string_equal(ci.compose_project, "shop");
	assert_string_equal(ci.compose_service, "web");
}

static void test_docker_partial(void **state)
{
	struct ctrinfo ci;

	/* config.v2.json of a container without labels (null, as Docker writes it) */
	assert_int_equal(parse_docker("{\"ID\":\"" ID "\",\"Name\":\"/db-1\",\"Config\":"
				      "{\"Image\":\"postgres:16\",\"Labels\":null}}",
				      &ci),
			 0);
	assert_string_equal(ci.name, "db-1");
	assert_string_equal(ci.image, "postgres:16");
	assert_string_equal(ci.compose_project, "");
	assert_string_equal(ci.compose_service, "");
	/* a name without Docker's '/' is kept whole; values of the wrong type are ignored */
	assert_int_equal(parse_docker("{\"Name\":\"x\",\"Config\":{\"Image\":7,\"Labels\":"
				      "{\"com.docker.compose.service\":[1]}}}",
				      &ci),
			 0);
	assert_string_equal(ci.name, "x");
	assert_string_equal(ci.image, "");
	assert_string_equal(ci.compose_service, "");
	/* control characters never reach a table */
	assert_int_equal(parse_docker("{\"Name\":\"/a\\nb\\u0000c\"}", &ci), 0);
	assert_string_equal(ci.name, "a?b?c");
}

static void test_docker_bad(void **state)
{
	static const char *const bad[] = { "", "[]", "\"api\"", "{\"Name\":", "{} x", "null" };
	struct ctrinfo ci;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_docker(bad[i], &ci), -EINVAL);
	assert_int_equal(ctrinfo__parse_docker(inspect, strlen(inspect), NULL), -EINVAL);
}

static void test_docker_long(void **state)
{
	char buf[1024], want[CTRINFO_NAME_MAX];
	struct ctrinfo ci;

	memset(want, 'n', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	snprintf(buf, sizeof(buf), "{\"Name\":\"/%s%s\"}", want, "tail");
	assert_int_equal(parse_docker(buf, &ci), 0);
	assert_string_equal(ci.name, want); /* cut at 127 */
}

static void test_podman(void **state)
{
	static const char js[] =
		"[{\"id\":\"aaaaaaaaaaaa0000\",\"names\":[\"other\"],\"image\":\"i1\"},"
		"{\"id\":\"" ID "\",\"names\":[\"api\",\"alias\"],\"image\":\"localhost/app:2\"}]";
	struct ctrinfo ci;

	assert_int_equal(ctrinfo__parse_podman(js, strlen(js), ID, &ci), 0);
	assert_string_equal(ci.name, "api");
	assert_string_equal(ci.image, "localhost/app:2");
	assert_int_equal(ctrinfo__parse_podman(js, strlen(js), "2f9cdc62323e", &ci), 0);
	assert_string_equal(ci.name, "api");
	assert_int_equal(ctrinfo__parse_podman(js, strlen(js), "bbbbbbbbbbbb", &ci), -ENOENT);
	assert_int_equal(ctrinfo__parse_podman(js, strlen(js), "2f9cdc62323", &ci), -EINVAL);
	assert_int_equal(ctrinfo__parse_podman("{}", 2, ID, &ci), -EINVAL);
}

static void test_http_body(void **state)
{
	static const char ok[] = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{}";
	static const char nf[] = "HTTP/1.1 404 Not Found\r\n\r\n{\"message\":\"No such\"}";
	const char *body;
	size_t n;

	assert_int_equal(ctrinfo__http_body(ok, strlen(ok), &body, &n), 200);
	assert_int_equal(n, 2);
	assert_memory_equal(body, "{}", 2);
	assert_int_equal(ctrinfo__http_body(nf, strlen(nf), &body, &n), 404);
	assert_int_equal(n, 21);
	/* headers not ended, a bad status line, a status out of range */
	assert_int_equal(ctrinfo__http_body(ok, 30, &body, &n), -EINVAL);
	assert_int_equal(ctrinfo__http_body("HTTP/2 200 OK\r\n\r\n", 17, &body, &n), -EINVAL);
	assert_int_equal(ctrinfo__http_body("HTTP/1.1 2000 \r\n\r\n", 18, &body, &n), -EINVAL);
	assert_int_equal(ctrinfo__http_body("HTTP/1.1 099 x\r\n\r\n", 18, &body, &n), -EINVAL);
	assert_int_equal(ctrinfo__http_body("HTTP/1.1 600 x\r\n\r\n", 18, &body, &n), -EINVAL);
	assert_int_equal(ctrinfo__http_body("HTTP/1.1 599 x\r\n\r\n", 18, &body, &n), 599);
	assert_int_equal(n, 0);
}

static void test_matches(void **state)
{
	struct ctrinfo ci = { .name = "shop-api-1", .compose_service = "api" };

	assert_int_equal(ctrinfo__matches(&ci, ID, "shop-api-1"), CTRINFO_BY_NAME);
	assert_int_equal(ctrinfo__matches(&ci, ID, "api"), CTRINFO_BY_SERVICE);
	assert_int_equal(ctrinfo__matches(&ci, ID, "2f9c"), CTRINFO_BY_ID);
	assert_int_equal(ctrinfo__matches(&ci, ID, ID), CTRINFO_BY_ID);
	assert_false(ctrinfo__matches(&ci, ID, "shop-api"));
	assert_false(ctrinfo__matches(&ci, ID, "9cdc"));
	assert_false(ctrinfo__matches(&ci, ID, ""));
	assert_false(ctrinfo__matches(&ci, ID, ID "0"));
	assert_int_equal(ctrinfo__matches(NULL, ID, "2f9cdc"), CTRINFO_BY_ID);
	assert_false(ctrinfo__matches(NULL, ID, "api"));
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The files path: daemon.json's data-root, config.v2.json, then podman's list; cached. */
static void test_resolver_files(void **state)
{
	char root[] = "/tmp/sloprobe-ctr.XXXXXX", p[512];
	struct ctrnames_opts o = { .socket = "" };
	const struct ctrinfo *ci;
	struct ctrnames *c;

	assert_non_null(mkdtemp(root));
	o.root = root;
	snprintf(p, sizeof(p),
		 "mkdir -p %s/etc/docker %s/srv/docker/containers/" ID
		 " %s/var/lib/containers/storage/overlay-containers",
		 root, root, root);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/etc/docker/daemon.json", root);
	put(p, "{\"data-root\": \"/srv/docker\"}");
	snprintf(p, sizeof(p), "%s/srv/docker/containers/" ID "/config.v2.json", root);
	put(p, inspect);
	snprintf(p, sizeof(p), "%s/var/lib/containers/storage/overlay-containers/containers.json",
		 root);
	put(p, "[{\"id\":\"" ID "0\",\"names\":[\"wrong\"]},"
	       "{\"id\":\"0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef\","
	       "\"names\":[\"pod1\"],\"image\":\"img\"}]");

	c = ctrnames__new(&o);
	assert_non_null(c);
	ci = ctrnames__lookup(c, ID);
	assert_non_null(ci);
	assert_string_equal(ci->name, "api");
	assert_string_equal(ci->compose_service, "web");
	ci = ctrnames__lookup(c,
			      "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef");
	assert_non_null(ci);
	assert_string_equal(ci->name, "pod1");
	assert_string_equal(ci->image, "img");
	assert_null(ctrnames__lookup(c, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
					"ffffffff"));
	/* ids go into paths: anything but an id is refused before any file is read */
	assert_null(ctrnames__lookup(c, "../../../etc/x"));
	assert_null(ctrnames__lookup(c, "short"));
	assert_null(ctrnames__lookup(c, ""));
	/* the answer is cached: the file gone, the name stays */
	snprintf(p, sizeof(p), "%s/srv/docker/containers/" ID "/config.v2.json", root);
	assert_int_equal(unlink(p), 0);
	ci = ctrnames__lookup(c, ID);
	assert_non_null(ci);
	assert_string_equal(ci->name, "api");
	ctrnames__free(c);

	/* an explicit data root wins over daemon.json: nothing there */
	o.data_root = "/nowhere";
	c = ctrnames__new(&o);
	assert_non_null(c);
	assert_null(ctrnames__lookup(c, ID));
	ctrnames__free(c);

	/* an API socket nobody listens on: the files answer */
	snprintf(p, sizeof(p), "%s/srv/docker/containers/" ID "/config.v2.json", root);
	put(p, inspect);
	o.data_root = NULL;
	o.socket = "/nonexistent/docker.sock";
	c = ctrnames__new(&o);
	assert_non_null(c);
	ci = ctrnames__lookup(c, ID);
	assert_non_null(ci);
	assert_string_equal(ci->name, "api");
	ctrnames__free(c);
	ctrnames__free(NULL);

	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
}

/* An API socket that takes the connection and never answers: the files answer, in time. */
static void test_resolver_api_timeout(void **state)
{
	char root[] = "/tmp/sloprobe-ctr.XXXXXX", p[512], sock[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctrnames_opts o = { .timeout_ms = 200 };
	const struct ctrinfo *ci;
	struct timespec t0, t1;
	struct ctrnames *c;
	int fd;

	assert_non_null(mkdtemp(root));
	snprintf(sock, sizeof(sock), "%s/docker.sock", root);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0); /* connects complete in the backlog, unanswered */
	snprintf(p, sizeof(p), "mkdir -p %s/var/lib/docker/containers/" ID, root);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/var/lib/docker/containers/" ID "/config.v2.json", root);
	put(p, inspect);
	o.root = root;
	o.socket = sock;
	c = ctrnames__new(&o);
	assert_non_null(c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ci = ctrnames__lookup(c, ID);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(ci);
	assert_string_equal(ci->name, "api");
	/* the timeout, and not much more */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 190);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
	ctrnames__free(c);
	close(fd);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_inspect),
		cmocka_unit_test(test_docker_partial),
		cmocka_unit_test(test_docker_bad),
		cmocka_unit_test(test_docker_long),
		cmocka_unit_test(test_podman),
		cmocka_unit_test(test_http_body),
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_resolver_files),
		cmocka_unit_test(test_resolver_api_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
