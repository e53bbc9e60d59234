// SPDX-License-Identifier: GPL-2.0-only
/*
 * --listen: the address parser, the request router, content negotiation, and real scrapes on
 * loopback in both formats.
 */
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

#define OM   METRICSRV_OPENMETRICS
#define TEXT METRICSRV_TEXT

static enum metricsrv_fmt neg(const char *accept)
{
	return metricsrv__negotiate(accept, strlen(accept));
}

static void test_negotiate(void **state)
{
	/* What Prometheus 2.42 (Debian's) sends, read off the wire, and Prometheus 3's default. */
	assert_int_equal(neg("application/openmetrics-text;version=1.0.0,application/"
			     "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"
			     "*/*;q=0.1"),
			 OM);
	assert_int_equal(
		neg("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
		    "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version="
		    "1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"),
		OM);
	/* Text preferred, text alone, nothing said, anything: the text (today's answer). */
	assert_int_equal(neg("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5"),
			 TEXT);
	assert_int_equal(neg("text/plain"), TEXT);
	assert_int_equal(neg(""), TEXT);
	assert_int_equal(neg("*/*"), TEXT);
	assert_int_equal(neg("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
			 TEXT);
	/* OpenMetrics alone, or with the text absent: OpenMetrics. */
	assert_int_equal(neg("application/openmetrics-text"), OM);
	assert_int_equal(neg("application/openmetrics-text; version=1.0.0"), OM);
	assert_int_equal(neg("application/openmetrics-text;version=0.0.1"), OM);
	assert_int_equal(neg("application/json, application/openmetrics-text;q=0.2"), OM);
	/* Equal weights: the text, as the format we served first. */
	assert_int_equal(neg("text/plain;q=0.5,application/openmetrics-text;q=0.5"), TEXT);
	assert_int_equal(neg("application/openmetrics-text;q=0.501,text/plain;q=0.5"), OM);
	/* Case-insensitive names, blanks around separators, quoted values. */
	assert_int_equal(neg("Application/OpenMetrics-Text ; Version=\"1.0.0\" ; Q=1 , "
			     "TEXT/Plain;q=0.3"),
			 OM);
	assert_int_equal(neg("text/plain;version=\"0.0.4\";q=1,application/openmetrics-text;q=0.9"),
			 TEXT);
	/* A version we do not serve does not count for that format. */
	assert_int_equal(neg("application/openmetrics-text;version=2.0.0"), TEXT);
	assert_int_equal(neg("text/plain;version=1.0.0,application/openmetrics-text;q=0.1"), OM);
	/* q=0 refuses; the most specific range decides over a wildcard. */
	assert_int_equal(neg("application/openmetrics-text;q=0,*/*"), TEXT);
	assert_int_equal(neg("text/plain;q=0,*/*;q=0.5"), OM); /* the text refused */
	assert_int_equal(neg("text/plain;q=0,application/*;q=0.5"), OM);
	assert_int_equal(neg("text/*;q=0.2,application/*;q=0.3"), OM);
	assert_int_equal(neg("*/*;q=0.9,application/openmetrics-text;q=0.1"), TEXT);
	/* A quoted comma does not split ranges. */
	assert_int_equal(neg("text/plain;x=\"a,b\";q=0.1,application/openmetrics-text;q=0.2"), OM);
	/* Garbage: such ranges are ignored, whatever is left decides. */
	assert_int_equal(neg("application/openmetrics-text;q=2"), TEXT);
	assert_int_equal(neg("application/openmetrics-text;q=0.5x"), TEXT);
	assert_int_equal(neg("application/openmetrics-text;q=0.1234"), TEXT);
	assert_int_equal(neg("application/openmetrics-text;q="), TEXT);
	assert_int_equal(neg("application/openmetrics-text;version=\"1.0.0"), TEXT);
	assert_int_equal(neg("application/openmetrics-text junk"), TEXT);
	assert_int_equal(neg("*/openmetrics-text"), TEXT);
	assert_int_equal(neg("/,;;=,\",\"\\"), TEXT);
	assert_int_equal(neg(",,, ,application/openmetrics-text,,"), OM);
	assert_int_equal(neg("application/openmetrics-text;;q=1.000"), OM);
	assert_int_equal(neg("application/openmetrics-text;q=1.001"), TEXT);
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(metricsrv__negotiate("application/openmetrics-textX", 28), OM);
	assert_int_equal(metricsrv__negotiate("text/plainapplication/openmetrics-text", 10), TEXT);
}

static enum metricsrv_fmt fmt(const char *req)
{
	return metricsrv__format(req, strlen(req));
}

static void test_format(void **state)
{
	assert_int_equal(fmt("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"), TEXT);
	assert_int_equal(fmt("GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: "
			     "application/openmetrics-text\r\n\r\n"),
			 OM);
	assert_int_equal(fmt("GET /metrics HTTP/1.1\r\naccept:application/openmetrics-text;"
			     "version=1.0.0\r\n\r\n"),
			 OM);
	/* Several Accept lines are one list. */
	assert_int_equal(fmt("GET /metrics HTTP/1.1\r\nAccept: text/plain;q=0.5\r\nX: y\r\n"
			     "ACCEPT: application/openmetrics-text\r\n\r\n"),
			 OM);
	/* Another header that begins with Accept, or a line past the head, is not one. */
	assert_int_equal(fmt("GET /metrics HTTP/1.1\r\nAccept-Encoding: application/"
			     "openmetrics-text\r\n\r\n"),
			 TEXT);
	assert_int_equal(
		fmt("GET /metrics HTTP/1.1\r\n\r\nAccept: application/openmetrics-text\r\n"), TEXT);
	assert_int_equal(fmt("GET /metrics HTTP/1.1\nAccept: application/openmetrics-text\n\n"),
			 OM);
	assert_int_equal(fmt("GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text"), OM);
	assert_int_equal(fmt("garbage"), TEXT);
	assert_int_equal(fmt(""), TEXT);
}

static int calls;

static int body(void *ctx, enum metricsrv_fmt fmt, FILE *f)
{
	calls++;
	fputs((const char *)ctx, f);
	if (fmt == METRICSRV_OPENMETRICS)
		fputs("# EOF\n", f);
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
			    "charset=utf-8\r\nVary: Accept\r\nContent-Length: 4\r\nConnection: "
			    "close\r\n\r\nx 1\n");
	/* The render callback is told the format the client prefers; the head says it too. */
	assert_string_equal(scrape(m, "GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-"
				      "text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n\r\n"),
			    "HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; "
			    "version=1.0.0; charset=utf-8\r\nVary: Accept\r\nContent-Length: "
			    "10\r\nConnection: close\r\n\r\nx 1\n# EOF\n");
	assert_string_equal(scrape(m, "GET /x HTTP/1.1\r\n\r\n"),
			    "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: "
			    "9\r\nConnection: close\r\n\r\nNot Found");
	assert_int_equal(calls, 2);
	metricsrv__stats(m, &st);
	assert_int_equal(st.scrapes, 2);
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
		cmocka_unit_test(test_parse),	  cmocka_unit_test(test_route),
		cmocka_unit_test(test_negotiate), cmocka_unit_test(test_format),
		cmocka_unit_test(test_serve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
