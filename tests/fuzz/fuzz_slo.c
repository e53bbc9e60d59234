// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the SLO scalars and k6 strings (src/run/slo.c, src/lib/units.c):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	tests/fuzz/fuzz_slo.c src/run/slo.c src/lib/units.c -o build/fuzz/fuzz_slo
 *
 * Each input line is tried as a duration, a ratio, a percentile, a status entry and a k6
 * threshold. Whatever parses must format and parse back to the same value.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/units.h"
#include "run/slo.h"

static void one(const char *s)
{
	struct slo_objective o = { 0 };
	struct slo_status_set set = { 0 };
	char buf[128];
	const char *why;
	uint64_t v, back;
	int n;

	why = NULL;
	if (!slo__parse_duration(s, &v, &why)) {
		n = units__ns_exact(v, buf, sizeof(buf));
		CHECK(n > 0 && (size_t)n < sizeof(buf));
		CHECK(!slo__parse_duration(buf, &back, NULL) && back == v);
	} else {
		CHECK(why && why[0]);
	}
	why = NULL;
	if (!slo__parse_ratio(s, &v, &why)) {
		CHECK(v <= SLO_PPB);
		slo__format_ratio(v, buf, sizeof(buf));
		CHECK(!slo__parse_ratio(buf, &back, NULL) && back == v);
	} else {
		CHECK(why && why[0]);
	}
	if (!slo__parse_percentile(s, &v, NULL))
		CHECK(v > 0 && v <= SLO_PPB);
	if (!slo__status_set_add(&set, s, NULL)) {
		int in = 0;

		for (int st = 0; st < SLO_STATUS_MAX + 10; st++)
			in += slo__status_in(&set, st);
		CHECK(in == 1 || in == 100);
	}
	why = NULL;
	if (!slo__parse_k6(s, &o, &why)) {
		CHECK(o.kind <= SLO_OBJ_HIT_RATIO);
		if (o.kind == SLO_OBJ_LATENCY)
			CHECK(o.ratio_ppb > 0 && o.ratio_ppb <= SLO_PPB);
		if (o.kind == SLO_OBJ_ERRORS || o.kind == SLO_OBJ_HIT_RATIO)
			CHECK(o.ratio_ppb <= SLO_PPB);
		strcpy(o.errors_label, "5xx");
		n = slo__format_objective(&o, buf, sizeof(buf));
		CHECK(n > 0 && (size_t)n < sizeof(buf));
	} else {
		CHECK(why && why[0]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *line, *save = NULL;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		one(line);
	free(copy);
	return 0;
}
