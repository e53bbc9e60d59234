// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the parsers of metricsrv.c (bytes from a client and from the command
 * line):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	tests/fuzz/fuzz_metricsrv.c src/lib/metricsrv.c -o build/fuzz_metricsrv
 *
 * Input: a request head for metricsrv__route and metricsrv__format, an Accept value for
 * metricsrv__negotiate (none NUL-terminated), and the same bytes as a --listen spec. A 200 is
 * only ever GET or HEAD of /metrics; OpenMetrics is only chosen when the bytes name it or a
 * wildcard; a spec accepted without "any" is a loopback address, and one accepted is accepted
 * with "any" too.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/metricsrv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	char *req = malloc(size ? size : 1), spec[128], err[256];
	socklen_t len;
	bool head, om;
	int code;

	if (!req)
		return 0;
	memcpy(req, data, size);
	code = metricsrv__route(req, size, &head);
	CHECK(code == 200 || code == 400 || code == 404 || code == 405);
	if (code == 200) {
		CHECK(size > 13);
		CHECK(!memcmp(req, head ? "HEAD /metrics" : "GET /metrics", head ? 13 : 12));
	}
	CHECK(!head || !memcmp(req, "HEAD ", 5));
	om = metricsrv__format(req, size) == METRICSRV_OPENMETRICS;
	om |= metricsrv__negotiate(req, size) == METRICSRV_OPENMETRICS;
	if (om) {
		bool named = false;

		for (size_t i = 0; i < size; i++)
			req[i] = tolower((unsigned char)req[i]);
		for (size_t i = 0; i < size && !named; i++)
			named = req[i] == '*' ||
				(size - i >= 16 && !memcmp(req + i, "openmetrics-text", 16));
		CHECK(named);
	}
	free(req);

	if (size >= sizeof(spec))
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (!metricsrv__parse_addr(spec, false, &ss, &len, err, sizeof(err))) {
		CHECK(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
		if (ss.ss_family == AF_INET)
			CHECK(ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24 == 127);
		else
			CHECK(IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr));
		CHECK(!metricsrv__parse_addr(spec, true, &ss, &len, err, sizeof(err)));
	} else {
		CHECK(err[0] && strlen(err) < sizeof(err)); /* the caller escapes it: textesc */
	}
	return 0;
}
