// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/openapi.h"

static int load(const char *doc, struct route_set **rs, char *err, size_t errsz)
{
	*rs = route_set__new();
	assert_non_null(*rs);
	err[0] = '\0';
	return openapi__routes_buf(doc, strlen(doc), "api.json", *rs, err, errsz);
}

static const char *match(const struct route_set *rs, const char *path)
{
	return route_set__match(rs, path, strlen(path));
}

static void test_fastapi_document(void **state)
{
	const char *doc = "{\"openapi\":\"3.1.0\",\"info\":{\"title\":\"shop\",\"version\":\"1\"},"
			  "\"paths\":{\"/items/{item_id}\":{\"get\":{}},"
			  "\"/users/{user_id}/quota\":{\"get\":{}},\"/health\":{\"get\":{}}}}\n";
	struct route_set *rs;
	char err[256];

	assert_int_equal(load(doc, &rs, err, sizeof(err)), 3);
	assert_string_equal(match(rs, "/items/42"), "/items/{item_id}");
	assert_string_equal(match(rs, "/items/42?verbose=1"), "/items/{item_id}");
	assert_string_equal(match(rs, "/users/7/quota"), "/users/{user_id}/quota");
	assert_string_equal(match(rs, "/health"), "/health");
	assert_null(match(rs, "/items/42/extra"));
	route_set__free(rs);
}

static void test_swagger2_accepted(void **state)
{
	struct route_set *rs;
	char err[256];

	assert_int_equal(
		load("{\"swagger\":\"2.0\",\"paths\":{\"/a/{b}\":{}}}", &rs, err, sizeof(err)), 1);
	assert_string_equal(match(rs, "/a/x"), "/a/{b}");
	route_set__free(rs);
}

static void test_errors(void **state)
{
	static const struct {
		const char *doc, *msg;
	} cases[] = {
		{ "", "api.json: not valid JSON (at byte 0: unexpected end of data)" },
		{ "{\"openapi\":\"3.0.0\",\"paths\":[", "api.json: not valid JSON (at byte 28: "
							"unexpected end of data)" },
		{ "{} x", "api.json: not valid JSON (at byte 3: trailing data)" },
		{ "[1,2]",
		  "api.json: not an OpenAPI document (no \"openapi\" or \"swagger\" key)" },
		{ "{\"paths\":{}}", "api.json: not an OpenAPI document (no \"openapi\" or "
				    "\"swagger\" key)" },
		{ "{\"openapi\":\"3.0.0\"}", "api.json: the document has no \"paths\" object" },
		{ "{\"openapi\":\"3.0.0\",\"paths\":[]}",
		  "api.json: the document has no \"paths\" object" },
		{ "{\"openapi\":\"3.0.0\",\"paths\":{}}", "api.json: no usable path in \"paths\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct route_set *rs;
		char err[256];

		assert_int_equal(load(cases[i].doc, &rs, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, cases[i].msg);
		route_set__free(rs);
	}
}

static void test_missing_file(void **state)
{
	struct route_set *rs = route_set__new();
	char err[256];

	assert_int_equal(openapi__routes("/nonexistent/openapi.json", rs, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/openapi.json: No such file or directory");
	route_set__free(rs);
}

static void test_skipped_paths_bounded(void **state)
{
	/* Escapes in a path, then 11 more bad paths, then a good one. */
	const char *doc = "{\"openapi\":\"3.0.0\",\"paths\":{"
			  "\"/a\\u001b]0;PWN\\u0007\":{},"
			  "\"b1\":{},\"b2\":{},\"b3\":{},\"b4\":{},\"b5\":{},\"b6\":{},"
			  "\"b7\":{},\"b8\":{},\"b9\":{},\"b10\":{},\"b11\":{},"
			  "\"/ok\":{}}}";
	FILE *saved = stderr;
	struct route_set *rs;
	char err[256], *s = NULL;
	size_t len = 0;
	int added;

	stderr = open_memstream(&s, &len);
	assert_non_null(stderr);
	added = load(doc, &rs, err, sizeof(err));
	fclose(stderr);
	stderr = saved;
	assert_int_equal(added, 1);
	assert_string_equal(
		s, "sloprobe: warning: api.json: path '/a\\x1b]0;PWN\\x07' skipped: space or "
		   "control byte at offset 2\n"
		   "sloprobe: warning: api.json: path 'b1' skipped: must start with '/'\n"
		   "sloprobe: warning: api.json: path 'b2' skipped: must start with '/'\n"
		   "sloprobe: warning: api.json: path 'b3' skipped: must start with '/'\n"
		   "sloprobe: warning: api.json: path 'b4' skipped: must start with '/'\n"
		   "sloprobe: warning: api.json: 7 more paths skipped\n");
	free(s);
	route_set__free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fastapi_document),
		cmocka_unit_test(test_swagger2_accepted),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_skipped_paths_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
