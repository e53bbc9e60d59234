/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SQL fingerprints, in the manner of pg_stat_statements: a tokenizer over PostgreSQL's lexical
 * rules (not regexes) rewrites a query so that executions that differ only in their literals
 * share one text:
 *   - literals become '?': strings ('' escapes, E'' with backslashes, U&'', B'', X'', N''),
 *     dollar-quoted strings, numbers (decimals, exponents, 0x/0o/0b, '_' separators), a unary
 *     minus in front of a number, TRUE and FALSE; NULL stays a keyword;
 *   - typed literals keep their type: DATE '2024-01-01' -> "date ?", '1'::int -> "?::int";
 *   - $n parameters stay;
 *   - IN (...) and ARRAY[...] of literals and parameters become "in (...)", "array[...]";
 *     VALUES rows after the first become "...", so one row and fifty rows match;
 *   - comments (nested block comments too) go; keywords and unquoted identifiers are folded
 *     to lower case; quoted identifiers stay as written;
 *   - names that ORMs number: SAVEPOINT / RELEASE [SAVEPOINT] / ROLLBACK TO [SAVEPOINT] x ->
 *     "?", __asyncpg_stmt_N__ -> "__asyncpg_stmt_?__";
 *   - a trailing ';' goes.
 * Output spacing is canonical: one space between tokens, none around "::" and ".", none
 * after "(" / "[" or before ")" / "]" / "," / ";", none between a name and the "(" of a call.
 * The output never contains a byte of a literal.
 */
#ifndef SLOPROBE_SQLNORM_H
#define SLOPROBE_SQLNORM_H

#include <stddef.h>
#include <stdint.h>

#define SQLNORM_MAX_LEN 1024 /* fingerprint buffer the aggregator uses, NUL included */

#define SQLNORM_TRUNCATED   (1 << 0) /* output cut at a token boundary to fit */
#define SQLNORM_INPUT_CUT   (1 << 1) /* input ended inside a string, comment or quote */
#define SQLNORM_SELECT_STAR (1 << 2) /* "select *" or "t.*" at the top of a select list */
#define SQLNORM_HAS_OFFSET  (1 << 3) /* an OFFSET clause (value in info->offset if literal) */
#define SQLNORM_MULTI_STMT  (1 << 4) /* several statements separated by ';' */

enum sql_verb {
	SQL_VERB_OTHER = 0,
	SQL_VERB_SELECT,
	SQL_VERB_INSERT,
	SQL_VERB_UPDATE,
	SQL_VERB_DELETE,
	SQL_VERB_BEGIN,	   /* BEGIN, START TRANSACTION */
	SQL_VERB_COMMIT,   /* COMMIT, END */
	SQL_VERB_ROLLBACK, /* ROLLBACK, ABORT (not ROLLBACK TO SAVEPOINT) */
	SQL_VERB_SAVEPOINT,
	SQL_VERB_SET,
	SQL_VERB_WITH,
	SQL_VERB_EXECUTE,
};

struct sql_info {
	unsigned flags;
	int verb;	   /* enum sql_verb of the first statement */
	int64_t offset;	   /* literal OFFSET value, -1 if none or not a literal */
	uint64_t raw_hash; /* of the tokens with their literals: same query, same values */
	uint64_t query_id; /* of the fingerprint */
};

/*
 * Fingerprint sql[0..len) into out (NUL-terminated when outsz > 0). Returns the length of the
 * fingerprint, or -EINVAL when there is no token at all or outsz is 0.
 */
int sql__normalize(const char *sql, size_t len, char *out, size_t outsz, struct sql_info *info);
/* 64-bit FNV-1a. */
uint64_t sql__hash(const void *p, size_t n);

/*
 * Each distinct text is normalised once. Entries are keyed by two independent hashes of the
 * raw text and its length; the raw text (with its literals) is not kept.
 */
struct sqlnorm_cache;
struct sqlnorm_cache *sqlnorm_cache__new(size_t max_entries);
void sqlnorm_cache__free(struct sqlnorm_cache *c);
/* The fingerprint (valid until the next call) and its info; NULL for unusable text. */
const char *sqlnorm_cache__get(struct sqlnorm_cache *c, const char *sql, size_t len,
			       struct sql_info *info);

#endif
