// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the SLO file parser (src/run/slo_parse.c and slo_build.c, with
 * src/run/slo.c, src/lib/file.c and libyaml):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	tests/fuzz/fuzz_slo_parse.c src/run/slo_parse.c src/run/slo_build.c src/run/slo.c \
 *	src/lib/file.c -lyaml -o build/fuzz/fuzz_slo_parse
 *
 * A file either parses into a consistent set or fails with one "t.yaml:L:C: message" line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "run/slo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], buf[256];
	struct slo_set *s;
	unsigned line, col;

	memset(err, 'Z', sizeof(err));
	s = slo__parse_string((const char *)data, size, "t.yaml", err, sizeof(err));
	if (!s) {
		CHECK(memchr(err, '\0', sizeof(err)));
		CHECK(sscanf(err, "t.yaml:%u:%u: ", &line, &col) == 2 && line >= 1 && col >= 1);
		for (const char *p = err; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		return 0;
	}
	CHECK(s->nslos > 0);
	for (unsigned i = 0; i < s->nslos; i++) {
		const struct slo *l = &s->slos[i];

		CHECK(l->name && l->name[0] && l->nobj > 0);
		slo__format_selector(l, buf, sizeof(buf));
		for (unsigned j = 0; j < l->nobj; j++) {
			const struct slo_objective *o = &l->obj[j];

			CHECK(o->slo == l && o->name && o->line >= 1);
			CHECK(o->ratio_ppb <= SLO_PPB);
			slo__format_objective(o, buf, sizeof(buf));
			if (o->kind == SLO_OBJ_ERRORS)
				CHECK(o->errors_label[0]);
		}
	}
	slo__free(s);
	return 0;
}
