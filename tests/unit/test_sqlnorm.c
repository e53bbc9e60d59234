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

#include "proto/sqlnorm.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct fp_case {
	const char *in;
	const char *want;
	unsigned flags; /* flags that must be set */
};

static const struct fp_case cases[] = {
	{ "select pg_sleep(0.05)", "select pg_sleep(?)", 0 },
	{ "SELECT  a , b FROM t WHERE x = -5", "select a, b from t where x = ?", 0 },
	{ "select a - 5 from t", "select a - ? from t", 0 },
	{ "select 1/0", "select ? / ?", 0 },
	{ "select $1::int + 1", "select $1::int + ?", 0 },
	{ "select 'it''s', E'a\\'b', U&'d\\0061', B'101', X'1F', N'n'", "select ?, ?, ?, ?, ?, ?",
	  0 },
	{ "select $$a 'q' $$, $tag$ $$ $tag$", "select ?, ?", 0 },
	{ "select 1.5e-3, .5, 0x1F, 0o17, 0b101, 1_000, 2E+10", "select ?, ?, ?, ?, ?, ?, ?", 0 },
	{ "select true, FALSE, null", "select ?, ?, null", 0 },
	{ "select DATE '2024-01-01', '1 day'::interval", "select date ?, ?::interval", 0 },
	{ "select * from t where id in (1, 2, 3)", "select * from t where id in (...)",
	  SQLNORM_SELECT_STAR },
	{ "select * from t where id IN ($1,$2,$3,$4)", "select * from t where id in (...)",
	  SQLNORM_SELECT_STAR },
	{ "select a from t where id in (select b from u)",
	  "select a from t where id in (select b from u)", 0 },
	{ "select ARRAY[1,2,3]", "select array[...]", 0 },
	{ "insert into t (a,b) values (1,'x'), (2,'y'), (3,'z')",
	  "insert into t(a, b) values (?, ?), ...", 0 },
	{ "insert into t (a,b) values (1,'x')", "insert into t(a, b) values (?, ?)", 0 },
	{ "select /* a /* nested */ comment */ 1 -- tail\n", "select ?", 0 },
	{ "select \"MyTable\".\"Col\" from \"MyTable\"",
	  "select \"MyTable\".\"Col\" from \"MyTable\"", 0 },
	{ "SAVEPOINT sa_savepoint_12", "savepoint ?", 0 },
	{ "RELEASE SAVEPOINT sa_savepoint_3", "release savepoint ?", 0 },
	{ "execute __asyncpg_stmt_1a__", "execute __asyncpg_stmt_?__", 0 },
	{ "select count(*) from items;", "select count(*) from items", 0 },
	{ "select t.* from t", "select t.* from t", SQLNORM_SELECT_STAR },
	{ "select a from t limit 10 offset 20000", "select a from t limit ? offset ?",
	  SQLNORM_HAS_OFFSET },
	{ "begin; select 1; commit", "begin; select ?; commit", SQLNORM_MULTI_STMT },
	{ "select 'unterminated", "select ?", SQLNORM_INPUT_CUT },
	{ "select 1 /* unterminated", "select ?", SQLNORM_INPUT_CUT },
	{ "select $q$ cut", "select ?", SQLNORM_INPUT_CUT },
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[SQLNORM_MAX_LEN];
		struct sql_info info;
		int n = sql__normalize(cases[i].in, strlen(cases[i].in), out, sizeof(out), &info);

		if (n < 0 || strcmp(out, cases[i].want) ||
		    (info.flags & cases[i].flags) != cases[i].flags)
			fail_msg("case %zu: '%s' -> '%s' flags %#x, want '%s' flags %#x", i,
				 cases[i].in, out, info.flags, cases[i].want, cases[i].flags);
		assert_int_equal(n, strlen(out));
	}
}

/* No byte of a literal in any output: digits only where the input had a name or $n. */
static void test_no_literal_leaks(void **state)
{
	const char *secrets[] = { "0.05", "it''s", "101", "1F", "2024-01-01", "1 day", "20000" };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char out[SQLNORM_MAX_LEN];
		struct sql_info info;

		sql__normalize(cases[i].in, strlen(cases[i].in), out, sizeof(out), &info);
		for (size_t k = 0; k < ARRAY_SIZE(secrets); k++)
			if (strstr(out, secrets[k]))
				fail_msg("'%s' leaks '%s'", out, secrets[k]);
	}
}

static void test_ids_and_hashes(void **state)
{
	struct sql_info a, b, c, d;
	char o1[256], o2[256], o3[256], o4[256];
	const char *q1 = "SELECT name FROM items WHERE id = 7",
		   *q2 = "select name\n from items where id=7";
	const char *q3 = "select name from items where id = 8", *q4 = "select id from items";

	sql__normalize(q1, strlen(q1), o1, sizeof(o1), &a);
	sql__normalize(q2, strlen(q2), o2, sizeof(o2), &b);
	sql__normalize(q3, strlen(q3), o3, sizeof(o3), &c);
	sql__normalize(q4, strlen(q4), o4, sizeof(o4), &d);
	assert_string_equal(o1, o2);
	assert_true(a.query_id == b.query_id && a.query_id == c.query_id);
	assert_true(a.query_id != d.query_id);
	/* Same literals, other spelling: same raw hash; other literal: different. */
	assert_true(a.raw_hash == b.raw_hash);
	assert_true(a.raw_hash != c.raw_hash);
	assert_int_equal(a.verb, SQL_VERB_SELECT);
}

static void test_verbs_and_offset(void **state)
{
	static const struct {
		const char *q;
		int verb;
	} v[] = {
		{ "BEGIN", SQL_VERB_BEGIN },
		{ "start transaction", SQL_VERB_BEGIN },
		{ "commit", SQL_VERB_COMMIT },
		{ "END", SQL_VERB_COMMIT },
		{ "rollback", SQL_VERB_ROLLBACK },
		{ "rollback to savepoint x", SQL_VERB_SAVEPOINT },
		{ "insert into t values (1)", SQL_VERB_INSERT },
		{ "update t set a=1", SQL_VERB_UPDATE },
		{ "delete from t", SQL_VERB_DELETE },
		{ "with x as (select 1) select * from x", SQL_VERB_WITH },
	};
	struct sql_info info;
	char out[256];

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		sql__normalize(v[i].q, strlen(v[i].q), out, sizeof(out), &info);
		if (info.verb != v[i].verb)
			fail_msg("'%s': verb %d, want %d", v[i].q, info.verb, v[i].verb);
	}
	sql__normalize("select 1 offset 12345", 21, out, sizeof(out), &info);
	assert_int_equal(info.offset, 12345);
	sql__normalize("select 1 offset $1", 18, out, sizeof(out), &info);
	assert_int_equal(info.offset, -1);
	assert_true(info.flags & SQLNORM_HAS_OFFSET);
	sql__normalize("select count(*) from t", 22, out, sizeof(out), &info);
	assert_false(info.flags & SQLNORM_SELECT_STAR);
}

static void test_bounds(void **state)
{
	const char *q = "select aaaa, bbbb, cccc from tttt";
	struct sql_info info;
	char out[64];
	int n;

	memset(out, 'Z', sizeof(out));
	n = sql__normalize(q, strlen(q), out, 16, &info);
	assert_true(n >= 0 && n < 16);
	assert_string_equal(out, "select aaaa,");
	assert_true(info.flags & SQLNORM_TRUNCATED);
	assert_int_equal(out[16], 'Z');
	assert_int_equal(sql__normalize("  -- only a comment", 19, out, sizeof(out), &info),
			 -EINVAL);
	assert_int_equal(sql__normalize("", 0, out, sizeof(out), &info), -EINVAL);
	assert_int_equal(sql__normalize(q, strlen(q), out, 0, &info), -EINVAL);
}

static void test_garbage_and_big(void **state)
{
	size_t n = 20000;
	char *big = malloc(n), out[SQLNORM_MAX_LEN];
	struct sql_info info;
	const char bin[] = { 's', 'e', 'l', 0, '\xff', '\x80', '\'', 0, '1' };

	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = "select 1, 'x', a from t where b in (1,2) "[i % 41];
	assert_true(sql__normalize(big, n, out, sizeof(out), &info) > 0);
	assert_true(strlen(out) < sizeof(out));
	assert_true(sql__normalize(bin, sizeof(bin), out, sizeof(out), &info) > 0);
	free(big);
}

static void test_cache(void **state)
{
	struct sqlnorm_cache *c = sqlnorm_cache__new(16);
	struct sql_info a, b;
	char q[64];
	const char *fp;

	assert_non_null(c);
	fp = sqlnorm_cache__get(c, "select 1", 8, &a);
	assert_string_equal(fp, "select ?");
	fp = sqlnorm_cache__get(c, "select 1", 8, &b);
	assert_string_equal(fp, "select ?");
	assert_true(a.query_id == b.query_id && a.raw_hash == b.raw_hash);
	/* Many distinct texts through a small cache: evictions, always the right answer. */
	for (int i = 0; i < 1000; i++) {
		snprintf(q, sizeof(q), "select c%d from t where a = %d", i % 50, i);
		fp = sqlnorm_cache__get(c, q, strlen(q), &a);
		assert_non_null(fp);
		snprintf(q, sizeof(q), "select c%d from t where a = ?", i % 50);
		assert_string_equal(fp, q);
	}
	assert_null(sqlnorm_cache__get(c, "   ", 3, &a));
	sqlnorm_cache__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),	       cmocka_unit_test(test_no_literal_leaks),
		cmocka_unit_test(test_ids_and_hashes), cmocka_unit_test(test_verbs_and_offset),
		cmocka_unit_test(test_bounds),	       cmocka_unit_test(test_garbage_and_big),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
