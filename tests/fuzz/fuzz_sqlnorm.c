// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for sqlnorm.c. Byte 0 picks the output size; the rest is SQL. Checks:
 * the output is NUL-terminated within its size, its length is what was returned, the
 * fingerprint of a fingerprint is itself (normalization is idempotent), and the cache agrees.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/sqlnorm.h"

static struct sqlnorm_cache *cache;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[SQLNORM_MAX_LEN + 1], again[SQLNORM_MAX_LEN + 1];
	struct sql_info info, info2;
	const char *fp;
	size_t outsz;
	int n;

	if (!size)
		return 0;
	if (!cache)
		cache = sqlnorm_cache__new(64);
	outsz = 1 + data[0] * 4;
	if (outsz > SQLNORM_MAX_LEN)
		outsz = SQLNORM_MAX_LEN;
	out[outsz] = 'Z';
	n = sql__normalize((const char *)data + 1, size - 1, out, outsz, &info);
	CHECK(out[outsz] == 'Z');
	if (n < 0)
		return 0;
	CHECK((size_t)n < outsz && strlen(out) == (size_t)n);
	if (!(info.flags & (SQLNORM_TRUNCATED | SQLNORM_INPUT_CUT)) && outsz == SQLNORM_MAX_LEN) {
		CHECK(sql__normalize(out, n, again, sizeof(again), &info2) == n);
		CHECK(!strcmp(out, again));
	}
	if (outsz == SQLNORM_MAX_LEN) {
		fp = sqlnorm_cache__get(cache, (const char *)data + 1, size - 1, &info2);
		CHECK(fp && !strcmp(fp, out) && info2.query_id == info.query_id);
	}
	return 0;
}
