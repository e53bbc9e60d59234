// SPDX-License-Identifier: GPL-2.0-only
/* --listen: the address parser, the request router, and one real scrape on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/metricsrv.h"

static int parse(const char *spec, bool any, char *err)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return metricsrv__parse_addr(spec, any, &ss, &len, err, 256);
}

static void test_parse(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (void *)&ss;
	struct sockaddr_in6 *a6 = (void *)&ss;
	char err[256];
	socklen_t len;

	/* A bare port, or ":PORT", is 127.0.0.1. */
	assert_int_equal(metricsrv__parse_addr("9464", false, &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(ntohs(a4->sin_port), 9464);
	assert_int_equal(len, sizeof(*a4));
	assert_int_equal(metricsrv__parse_addr(":80", false, &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ntohs(a4->sin_port), 80);
	assert_int_equal(metricsrv__parse_addr("127.0.0.2:1", false, &ss, &len, err, 256), 0);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), 0x7f000002);
	assert_int_equal(metricsrv__parse_addr("[::1]:9464", false, &ss, &len, err, 256), 0);
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 9464);
	assert_int_equal(len, sizeof(*a6));
	assert_int_equal(parse("0", false, err), 0);
	assert_int_equal(parse("65535", false, err), 0);

	/* Not loopback: refused unless asked for. */
	assert_int_equal(parse("0.0.0.0:9464", false, err), -EINVAL);
	assert_string_equal(err, "--listen 0.0.0.0:9464: not a loopback address (add --listen-any "
				 "to serve the metrics beyond this host)");
	assert_int_equal(parse("0.0.0.0:9464", true, err), 0);
	assert_int_equal(parse("[::]:9464", false, err), -EINVAL);
	assert_int_equal(parse("10.1.2.3:9464", false, err), -EINVAL);
	assert_int_equal(parse("128.0.0.1:9464", false, err), -EINVAL);
	assert_int_equal(parse("126.255.255.255:1", false, err), -EINVAL);

	/* Not an address and a port. */
	assert_int_equal(parse("65536", false, err), -EINVAL);
	assert_string_equal(err,
			    "--listen 65536: not ADDR:PORT (an IP address and a port 0-65535)");
	assert_int_equal(parse("", false, err), -EINVAL);
	assert_int_equal(parse("127.0.0.1:", false, err), -EINVAL);
	assert_int_equal(parse("localhost:9464", false, err), -EINVAL);
	assert_int_equal(parse("127.0.0.1:94x", false, err), -EINVAL);
	assert_int_equal(parse("127.0.0.1:-1", false, err), -EINVAL);
	assert_int_equal(parse("127.0.0.1:+1", false, err), -EINVAL);
	assert_int_equal(parse("[::1:9464", false, err), -EINVAL);
	assert_int_equal(parse("[]:9464", false, err), -EINVAL);
	assert_int_equal(parse("1.2.3.4.5:1", true, err), -EINVAL);
}

static int route(const char *req, bool *head)
{
	return metricsrv__route(req, strlen(req), head);
}

static void test_route(void **state)
{
	bool head;

	assert_int_equal(route("GET /metrics HTTP/1.1\r\n\r\n", &head), 200);
	assert_false(head);
	assert_int_equal(route("GET /metrics?x=1 HTTP/1.0\r\n\r\n", &head), 200);
	assert_int_equal(route("HEAD /metrics HTTP/1.1\r\n\r\n", &head), 200);
	assert_true(head);
	assert_int_equal(route("GET /metricsx HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(route("GET / HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(route("GET /metric HTTP/1.1\r\n\r\n", &head), 404);
	assert_int_equal(route("POST /metrics HTTP/1.1\r\n\r\n", &head), 405);
	assert_int_equal(route("GETS /metrics HTTP/1.1\r\n\r\n", &head), 405);
	assert_int_equal(route("GET /metrics\r\n\r\n", &head), 400);
	assert_int_equal(route("GET /metrics SPDY/1.1\r\n\r\n", &head), 400);
	assert_int_equal(route(" /metrics HTTP/1.1\r\n\r\n", &head), 400);
	assert_int_equal(route("garbage", &head), 400);
}

static int calls;

static int body(void *ctx, FILE *f)
{
	calls++;
	fputs((const char *)ctx, f);
	return 0;
}

/* What a client gets for req, one poll at a time (each a non-blocking pass). */
static char *scrape(struct metricsrv *m, const char *req)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	static char buf[4096];
	size_t n = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(0x7f000001);
	a.sin_port = htons(metricsrv__port(m));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	for (int i = 0; i < 200; i++) {
		metricsrv__poll(m, 1);
		usleep(1000);
		r = recv(fd, buf + n, sizeof(buf) - 1 - n, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r > 0)
			n += r;
	}
	close(fd);
	buf[n] = '\0';
	return buf;
}

static void test_serve(void **state)
{
	struct metricsrv *m, *busy;
	struct metricsrv_stats st;
	char err[256], spec[32];

	assert_int_equal(metricsrv__open(&m, "127.0.0.1:0", false, body, "x 1\n", err, 256), 0);
	assert_string_equal(scrape(m, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"),
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
			    "charset=utf-8\r\nContent-Length: 4\r\nConnection: close\r\n\r\nx 1\n");
	assert_string_equal(scrape(m, "GET /x HTTP/1.1\r\n\r\n"),
			    "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: "
			    "9\r\nConnection: close\r\n\r\nNot Found");
	assert_int_equal(calls, 1);
	metricsrv__stats(m, &st);
	assert_int_equal(st.scrapes, 1);
	assert_int_equal(st.rejected, 1);

	/* The port is taken: a one-line reason. */
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", metricsrv__port(m));
	assert_int_equal(metricsrv__open(&busy, spec, false, body, "", err, 256), -EADDRINUSE);
	assert_null(busy);
	assert_non_null(strstr(err, "Address already in use"));
	metricsrv__close(m);
	metricsrv__close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_serve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
