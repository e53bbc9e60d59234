// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sqlnorm.h"

#define TOK_MAX 4096 /* tokens considered; the rest of a huge statement is cut */

enum tok_kind {
	T_WORD,	  /* keyword or unquoted identifier, folded */
	T_QIDENT, /* "quoted identifier" */
	T_LIT,	  /* any literal: becomes ? */
	T_PARAM,  /* $n */
	T_OP,	  /* operator characters */
	T_PUNCT,  /* ( ) [ ] , ; . :: */
};

struct tok {
	enum tok_kind kind;
	const char *p; /* in the input */
	unsigned len;
	const char *text; /* replacement text, or NULL: the input (folded for T_WORD) */
};

struct lexer {
	const char *s;
	size_t n, i;
	bool cut;
};

uint64_t sql__hash(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static bool ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static bool op_char(char c)
{
	return c && strchr("+-*/<>=~!@#%^&|`?", c);
}

/* Skips whitespace and comments; block comments nest. */
static void skip_space(struct lexer *l)
{
	while (l->i < l->n) {
		char c = l->s[l->i];

		if (isspace((unsigned char)c) || !c) {
			l->i++;
		} else if (c == '-' && l->i + 1 < l->n && l->s[l->i + 1] == '-') {
			while (l->i < l->n && l->s[l->i] != '\n')
				l->i++;
		} else if (c == '/' && l->i + 1 < l->n && l->s[l->i + 1] == '*') {
			int depth = 0;

			do {
				if (l->i + 1 < l->n && l->s[l->i] == '/' && l->s[l->i + 1] == '*') {
					depth++;
					l->i += 2;
				} else if (l->i + 1 < l->n && l->s[l->i] == '*' &&
					   l->s[l->i + 1] == '/') {
					depth--;
					l->i += 2;
				} else {
					l->i++;
				}
			} while (depth > 0 && l->i < l->n);
			if (depth > 0)
				l->cut = true;
		} else {
			return;
		}
	}
}

/* A quoted run from l->i (at the opening quote); backslash escapes when bs. */
static void skip_quoted(struct lexer *l, char q, bool bs)
{
	l->i++;
	while (l->i < l->n) {
		char c = l->s[l->i++];

		if (bs && c == '\\') {
			l->i++;
		} else if (c == q) {
			if (l->i < l->n && l->s[l->i] == q)
				l->i++; /* doubled quote */
			else
				return;
		}
	}
	l->cut = true;
}

/* $tag$ ... $tag$ from l->i; false when it is not a dollar quote. */
static bool skip_dollar(struct lexer *l)
{
	size_t j = l->i + 1, tag;

	while (j < l->n && l->s[j] != '$' && (ident_char(l->s[j]) && l->s[j] != '$'))
		j++;
	if (j >= l->n || l->s[j] != '$' || (j > l->i + 1 && isdigit((unsigned char)l->s[l->i + 1])))
		return false;
	tag = j + 1 - l->i;
	for (size_t k = j + 1; k + tag <= l->n; k++) {
		if (!memcmp(l->s + k, l->s + l->i, tag)) {
			l->i = k + tag;
			return true;
		}
	}
	l->i = l->n;
	l->cut = true;
	return true;
}

static void skip_number(struct lexer *l)
{
	const char *s = l->s;
	size_t i = l->i;

	if (s[i] == '0' && i + 1 < l->n && strchr("xXoObB", s[i + 1])) {
		i += 2;
		while (i < l->n && (isxdigit((unsigned char)s[i]) || s[i] == '_'))
			i++;
	} else {
		while (i < l->n && (isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '.')) {
			if (s[i] == '.' && i + 1 < l->n && s[i + 1] == '.')
				break; /* a .. range */
			i++;
		}
		if (i < l->n && (s[i] == 'e' || s[i] == 'E')) {
			size_t k = i + 1;

			if (k < l->n && (s[k] == '+' || s[k] == '-'))
				k++;
			if (k < l->n && isdigit((unsigned char)s[k])) {
				i = k;
				while (i < l->n && isdigit((unsigned char)s[i]))
					i++;
			}
		}
	}
	l->i = i;
}

/* Next token; false at the end. */
static bool lex(struct lexer *l, struct tok *t)
{
	const char *s = l->s;
	size_t st;
	char c;

	skip_space(l);
	if (l->i >= l->n)
		return false;
	st = l->i;
	c = s[st];
	memset(t, 0, sizeof(*t));
	t->p = s + st;
	if (c == '\'') {
		skip_quoted(l, '\'', false);
		t->kind = T_LIT;
	} else if ((c == 'e' || c == 'E') && st + 1 < l->n && s[st + 1] == '\'') {
		l->i++;
		skip_quoted(l, '\'', true);
		t->kind = T_LIT;
	} else if (strchr("bBxXnN", c) && st + 1 < l->n && s[st + 1] == '\'') {
		l->i++;
		skip_quoted(l, '\'', false);
		t->kind = T_LIT;
	} else if ((c == 'u' || c == 'U') && st + 2 < l->n && s[st + 1] == '&' &&
		   (s[st + 2] == '\'' || s[st + 2] == '"')) {
		l->i += 2;
		skip_quoted(l, s[st + 2], false);
		t->kind = s[st + 2] == '\'' ? T_LIT : T_QIDENT;
	} else if (c == '"') {
		skip_quoted(l, '"', false);
		t->kind = T_QIDENT;
	} else if (c == '$' && st + 1 < l->n && isdigit((unsigned char)s[st + 1])) {
		l->i++;
		while (l->i < l->n && isdigit((unsigned char)s[l->i]))
			l->i++;
		t->kind = T_PARAM;
	} else if (c == '$' && skip_dollar(l)) {
		t->kind = T_LIT;
	} else if (isdigit((unsigned char)c) ||
		   (c == '.' && st + 1 < l->n && isdigit((unsigned char)s[st + 1]))) {
		skip_number(l);
		t->kind = T_LIT;
	} else if (ident_start(c)) {
		while (l->i < l->n && ident_char(s[l->i]))
			l->i++;
		t->kind = T_WORD;
	} else if (c == ':' && st + 1 < l->n && s[st + 1] == ':') {
		l->i += 2;
		t->kind = T_PUNCT;
	} else if (strchr("()[],;.:", c)) {
		l->i++;
		t->kind = T_PUNCT;
	} else if (op_char(c)) {
		while (l->i < l->n && op_char(s[l->i]))
			l->i++;
		t->kind = T_OP;
	} else {
		l->i++; /* a stray byte: kept as an operator */
		t->kind = T_OP;
	}
	if (l->i > l->n) { /* a backslash escape at the very end */
		l->i = l->n;
		l->cut = true;
	}
	t->len = l->i - st;
	return true;
}

static bool word_is(const struct tok *t, const char *w)
{
	size_t n = strlen(w);

	return t->kind == T_WORD && t->len == n && !strncasecmp(t->p, w, n);
}

static bool punct_is(const struct tok *t, char c)
{
	return t->kind == T_PUNCT && t->len == 1 && t->p[0] == c;
}

static bool is_keyword(const struct tok *t)
{
	static const char *const kw[] = {
		"select",  "from",     "where",	   "and",    "or",	"not",	     "in",
		"values",  "insert",   "into",	   "update", "set",	"delete",    "join",
		"on",	   "as",       "by",	   "group",  "order",	"limit",     "offset",
		"having",  "union",    "all",	   "exists", "case",	"when",	     "then",
		"else",	   "end",      "with",	   "is",     "null",	"like",	     "ilike",
		"between", "distinct", "array",	   "any",    "some",	"returning", "using",
		"left",	   "right",    "inner",	   "outer",  "cross",	"lateral",   "over",
		"filter",  "within",   "conflict", "do",     "nothing", "table",     "if",
	};

	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (word_is(t, kw[i]))
			return true;
	return false;
}

/* A literal, a parameter, or a comma: what a collapsible list is made of. */
static bool list_atom(const struct tok *t)
{
	return t->kind == T_LIT || t->kind == T_PARAM || punct_is(t, ',') ||
	       (t->kind == T_OP && t->len == 1 && t->p[0] == '-') || word_is(t, "null");
}

/* Index of the bracket closing the one at i, or n. */
static size_t closing(const struct tok *t, size_t n, size_t i, char open, char close)
{
	int depth = 0;

	for (size_t k = i; k < n; k++) {
		if (punct_is(&t[k], open))
			depth++;
		else if (punct_is(&t[k], close) && --depth == 0)
			return k;
	}
	return n;
}

static bool all_atoms(const struct tok *t, size_t a, size_t b)
{
	if (a >= b)
		return false;
	for (size_t k = a; k < b; k++)
		if (!list_atom(&t[k]))
			return false;
	return true;
}

/* A decimal literal's value (the input is not NUL-terminated); digits and '_' only. */
static int64_t number(const struct tok *t)
{
	int64_t v = 0;

	for (unsigned k = 0; k < t->len && v < INT64_MAX / 10 - 10; k++) {
		if (t->p[k] == '_')
			continue;
		if (!isdigit((unsigned char)t->p[k]))
			break;
		v = v * 10 + (t->p[k] - '0');
	}
	return v;
}

/* Rewrites literals and the collapsible lists in place; returns the new token count. */
static size_t rewrite(struct tok *t, size_t n, struct sql_info *info)
{
	size_t o = 0;
	bool in_values = false;

	for (size_t i = 0; i < n; i++) {
		struct tok *c = &t[i];
		const struct tok *prev = o ? &t[o - 1] : NULL;

		if (c->kind == T_LIT || word_is(c, "true") || word_is(c, "false")) {
			if (word_is(c, "true") || word_is(c, "false"))
				c->kind = T_LIT;
			c->text = "?";
			/* A unary minus joins its number: after an operator, '(' ',' or a keyword.
			 */
			if (prev && prev->kind == T_OP && prev->len == 1 && prev->p[0] == '-' &&
			    (o < 2 || t[o - 2].kind == T_OP ||
			     (t[o - 2].kind == T_PUNCT && !punct_is(&t[o - 2], ')') &&
			      !punct_is(&t[o - 2], ']')) ||
			     is_keyword(&t[o - 2])))
				o--;
		}
		if ((word_is(c, "in") || word_is(c, "array")) && i + 1 < n) {
			char op = word_is(c, "in") ? '(' : '[', cl = op == '(' ? ')' : ']';
			size_t e = punct_is(&t[i + 1], op) ? closing(t, n, i + 1, op, cl) : n;

			if (e < n && all_atoms(t, i + 2, e)) {
				t[o++] = *c;
				t[o++] = t[i + 1];
				t[o] = t[i + 2];
				t[o].kind = T_OP;
				t[o++].text = "...";
				t[o++] = t[e];
				i = e;
				continue;
			}
		}
		if (word_is(c, "values"))
			in_values = true;
		else if (c->kind == T_WORD && in_values && !is_keyword(c))
			in_values = false;
		/* VALUES (..), (..): later rows of literals collapse to "...". */
		if (in_values && punct_is(c, ',') && i + 1 < n && punct_is(&t[i + 1], '(') && o &&
		    (punct_is(&t[o - 1], ')') ||
		     (t[o - 1].text && !strcmp(t[o - 1].text, "...")))) {
			size_t e = closing(t, n, i + 1, '(', ')');

			if (e < n && all_atoms(t, i + 2, e)) {
				if (!(t[o - 1].text && !strcmp(t[o - 1].text, "..."))) {
					t[o] = *c;
					t[o++].text = NULL;
					t[o] = *c;
					t[o].kind = T_OP;
					t[o++].text = "...";
				}
				i = e;
				continue;
			}
		}
		if (c->kind == T_WORD && c->len > 15 && !strncmp(c->p, "__asyncpg_stmt_", 15))
			c->text = "__asyncpg_stmt_?__";
		if (c->kind == T_WORD && prev &&
		    (word_is(prev, "savepoint") ||
		     (word_is(prev, "release") && !word_is(c, "savepoint"))))
			c->text = "?";
		if (word_is(c, "offset") && i + 1 < n && t[i + 1].kind == T_LIT &&
		    isdigit((unsigned char)t[i + 1].p[0]))
			info->offset = number(&t[i + 1]);
		if (word_is(c, "offset"))
			info->flags |= SQLNORM_HAS_OFFSET;
		t[o++] = *c;
	}
	return o;
}

static bool no_space_before(const struct tok *prev, const struct tok *c)
{
	if (c->kind == T_PUNCT && (c->p[0] == ',' || c->p[0] == ')' || c->p[0] == ']' ||
				   c->p[0] == ';' || c->p[0] == '.' || c->len == 2))
		return true;
	if (prev->kind == T_PUNCT &&
	    (prev->p[0] == '(' || prev->p[0] == '[' || prev->p[0] == '.' || prev->len == 2))
		return true;
	if (punct_is(c, '[') && prev->kind == T_WORD)
		return true;
	/* A call or a column list: name( */
	if (punct_is(c, '(') &&
	    (prev->kind == T_QIDENT || (prev->kind == T_WORD && !prev->text && !is_keyword(prev))))
		return true;
	return false;
}

static void info_flags(const struct tok *t, size_t n, struct sql_info *info)
{
	static const struct {
		const char *w;
		int verb;
	} verbs[] = {
		{ "select", SQL_VERB_SELECT },
		{ "insert", SQL_VERB_INSERT },
		{ "update", SQL_VERB_UPDATE },
		{ "delete", SQL_VERB_DELETE },
		{ "begin", SQL_VERB_BEGIN },
		{ "start", SQL_VERB_BEGIN },
		{ "commit", SQL_VERB_COMMIT },
		{ "end", SQL_VERB_COMMIT },
		{ "rollback", SQL_VERB_ROLLBACK },
		{ "abort", SQL_VERB_ROLLBACK },
		{ "savepoint", SQL_VERB_SAVEPOINT },
		{ "release", SQL_VERB_SAVEPOINT },
		{ "set", SQL_VERB_SET },
		{ "with", SQL_VERB_WITH },
		{ "execute", SQL_VERB_EXECUTE },
		{ "values", SQL_VERB_SELECT },
		{ "table", SQL_VERB_SELECT },
	};
	int depth = 0;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (word_is(&t[0], verbs[i].w))
			info->verb = verbs[i].verb;
	if (info->verb == SQL_VERB_ROLLBACK && n > 1 && word_is(&t[1], "to"))
		info->verb = SQL_VERB_SAVEPOINT;
	for (size_t i = 0; i < n; i++) {
		if (punct_is(&t[i], '('))
			depth++;
		else if (punct_is(&t[i], ')'))
			depth--;
		else if (punct_is(&t[i], ';') && i + 1 < n)
			info->flags |= SQLNORM_MULTI_STMT;
		if (depth || t[i].kind != T_OP || t[i].len != 1 || t[i].p[0] != '*' || !i)
			continue;
		if (word_is(&t[i - 1], "select") || word_is(&t[i - 1], "distinct") ||
		    punct_is(&t[i - 1], '.') || punct_is(&t[i - 1], ','))
			info->flags |= SQLNORM_SELECT_STAR;
	}
}

int sql__normalize(const char *sql, size_t len, char *out, size_t outsz, struct sql_info *info)
{
	struct lexer l = { .s = sql, .n = len };
	struct tok *t = malloc(TOK_MAX * sizeof(*t));
	uint64_t raw = 0xcbf29ce484222325ull;
	size_t n = 0, o = 0;

	memset(info, 0, sizeof(*info));
	info->offset = -1;
	if (outsz)
		out[0] = '\0';
	if (!t)
		return -ENOMEM;
	while (n < TOK_MAX && lex(&l, &t[n])) {
		/* Raw hash: tokens with their literal bytes, case-folded words. */
		for (unsigned k = 0; k < t[n].len; k++) {
			unsigned char b = t[n].p[k];

			raw = (raw ^ (t[n].kind == T_WORD ? tolower(b) : b)) * 0x100000001b3ull;
		}
		raw = (raw ^ ' ') * 0x100000001b3ull;
		n++;
	}
	if (n == TOK_MAX && l.i < l.n)
		info->flags |= SQLNORM_TRUNCATED;
	if (l.cut)
		info->flags |= SQLNORM_INPUT_CUT;
	while (n && punct_is(&t[n - 1], ';'))
		n--;
	if (!n || !outsz) {
		free(t);
		return -EINVAL;
	}
	info->raw_hash = raw;
	info_flags(t, n, info);
	n = rewrite(t, n, info);
	for (size_t i = 0; i < n; i++) {
		const char *s = t[i].text ? t[i].text : t[i].p;
		size_t sl = t[i].text ? strlen(t[i].text) : t[i].len;
		bool sp = i && !no_space_before(&t[i - 1], &t[i]);

		if (o + sp + sl + 1 > outsz) {
			info->flags |= SQLNORM_TRUNCATED;
			break;
		}
		if (sp)
			out[o++] = ' ';
		for (size_t k = 0; k < sl; k++) {
			char ch = t[i].kind == T_WORD && !t[i].text ? tolower((unsigned char)s[k])
								    : s[k];

			out[o++] = ch ? ch : '?'; /* a NUL in a quoted name would end the text */
		}
	}
	out[o] = '\0';
	free(t);
	info->query_id = sql__hash(out, o);
	return (int)o;
}

struct cache_ent {
	uint64_t h1, h2;
	uint32_t len;
	uint32_t used; /* clock bit */
	struct sql_info info;
	char *fp;
};

struct sqlnorm_cache {
	struct cache_ent *e;
	size_t n; /* power of two */
	char buf[SQLNORM_MAX_LEN];
};

struct sqlnorm_cache *sqlnorm_cache__new(size_t max_entries)
{
	struct sqlnorm_cache *c = calloc(1, sizeof(*c));
	size_t n = 16;

	while (n < max_entries)
		n *= 2;
	if (!c || !(c->e = calloc(n, sizeof(*c->e)))) {
		free(c);
		return NULL;
	}
	c->n = n;
	return c;
}

void sqlnorm_cache__free(struct sqlnorm_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].fp);
	free(c->e);
	free(c);
}

/* A second hash, independent of FNV, so that a collision needs both to collide. */
static uint64_t hash2(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

const char *sqlnorm_cache__get(struct sqlnorm_cache *c, const char *sql, size_t len,
			       struct sql_info *info)
{
	uint64_t h1 = sql__hash(sql, len), h2 = hash2(sql, len);
	/* Two-way set: the slot and its neighbour; evict the one not used recently. */
	size_t i = h1 & (c->n - 1), j = i ^ 1;
	struct cache_ent *e;

	for (size_t k = 0; k < 2; k++) {
		e = &c->e[k ? j : i];
		if (e->fp && e->h1 == h1 && e->h2 == h2 && e->len == len) {
			e->used = 1;
			*info = e->info;
			return e->fp;
		}
	}
	if (sql__normalize(sql, len, c->buf, sizeof(c->buf), info) < 0)
		return NULL;
	e = !c->e[i].fp || !c->e[i].used ? &c->e[i] : &c->e[j];
	c->e[i].used = 0;
	c->e[j].used = 0;
	free(e->fp);
	e->fp = strdup(c->buf);
	if (!e->fp)
		return c->buf;
	e->h1 = h1;
	e->h2 = h2;
	e->len = len;
	e->used = 1;
	e->info = *info;
	return e->fp;
}
